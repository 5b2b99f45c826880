//! The studies: what each command of the CLI does, as library functions
//! that take a loaded [`Config`](crate::config::Config), paths and an
//! options struct, write a results folder laid out as [`crate::layout`]
//! says, and return what they found. They never print: progress goes
//! through [`Progress`], which the CLI draws as a bar on a terminal, and
//! the caller prints the outcome.
//!
//! | study | function | writes |
//! |---|---|---|
//! | one policy on one trace | `evaluate::run` | a run folder |
//! | the trained agent on a trace | `evaluate::evaluate` | a run folder |
//! | training the agent | [`train::train`] | a training folder |
//! | policies × traces × seeds | `compare::compare_folder` | a comparison folder |
//! | a parameter grid × seeds | `sweep::sweep_folder` | a sweep folder (resumable, shardable) |
//! | a rule's best parameters | `tune::tune_folder` | a tuning folder (a sweep plus `tuned.toml`) |
//! | leave-one-trace-out | `crossval::crossval_folder` | a cross-validation folder |
//! | joining shards | `merge::merge` | a sweep or cross-validation folder |
//! | the analytic model against the request-level one | `validate::validate_folder` | a validation folder |
//! | every experiment of `experiments/` | `reproduce::reproduce` | `results/` with READMEs and figures |
//!
//! Below them: [`crate::experiment`] runs one policy on one trace, and
//! `crate::plot` draws a finished folder's figures. A study's mistakes of
//! usage are `UsageError`s (exit code 2).

use std::path::Path;

pub(crate) mod compare;
pub mod crossval;
pub(crate) mod evaluate;
pub(crate) mod merge;
pub(crate) mod reproduce;
pub(crate) mod sweep;
pub mod train;
pub(crate) mod tune;
pub mod validate;

/// A mistake in how a study was asked for (an argument, a missing input
/// folder, an option that does not fit): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub String);

/// How a study reports its progress: a phase of `total` units (episodes,
/// runs or cells) starts, advances and finishes. Called from worker
/// threads.
pub trait Progress: Sync {
    /// A phase named `what` starts (`total` 0 when not yet known).
    fn start(&self, what: &str, total: usize);
    /// `done` of `total` units are finished.
    fn update(&self, done: usize, total: usize);
    /// The phase is over.
    fn finish(&self);
}

/// Runs `work` as a phase of `progress`, handing it the
/// `update(done, total)` callback the lower layers take.
fn phase<T>(
    progress: &dyn Progress,
    what: &str,
    work: impl FnOnce(&(dyn Fn(usize, usize) + Sync)) -> T,
) -> T {
    progress.start(what, 0);
    let result = work(&|done, total| progress.update(done, total));
    progress.finish();
    result
}

/// The last component of `dir` once resolved (`.` and `..` included), or
/// `fallback` when it has none, for default output names.
pub(crate) fn folder_name(dir: &Path, fallback: &str) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| fallback.into())
}
