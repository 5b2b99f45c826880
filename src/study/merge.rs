//! `qscale merge`: the shard folders of one sweep or one cross-validation
//! joined into the folder a single run would have written.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::crossval::{self, CrossvalOptions, CrossvalOutcome};
use super::{sweep, Progress};

/// How to merge.
#[derive(Debug, Clone, Default)]
pub(crate) struct MergeOptions {
    /// Worker threads for a cross-validation's evaluation cells (`None` =
    /// all cores).
    pub jobs: Option<usize>,
    /// Replace an existing folder.
    pub force: bool,
}

/// What a merge joined.
#[derive(Debug, Clone)]
pub(crate) enum Merged {
    /// A cross-validation, its evaluation run at merge time.
    Crossval(CrossvalOutcome),
    /// A sweep: how many cells were copied.
    Sweep {
        /// Cells copied from the shards.
        cells: usize,
    },
}

/// Joins `shards` into `out`: a cross-validation when the first shard is
/// one ([`crossval::merge`]), a sweep otherwise ([`sweep::merge`]).
///
/// # Errors
/// As those functions.
pub(crate) fn merge(
    shards: &[PathBuf],
    out: &Path,
    options: &MergeOptions,
    progress: &dyn Progress,
) -> Result<Merged> {
    if shards
        .first()
        .is_some_and(|d| crossval::is_crossval_folder(d))
    {
        let options = CrossvalOptions {
            jobs: options.jobs,
            shard: None,
            force: options.force,
        };
        let outcome = crossval::merge_folder(shards, out, &options, progress)?;
        return Ok(Merged::Crossval(outcome));
    }
    let cells = sweep::merge(shards, out, options.force)?;
    Ok(Merged::Sweep { cells })
}
