//! Results folders: the name of every file a study writes and where it
//! goes, defined once. The studies (`study`, above this module) write
//! through these names and `plot` reads back through them, so neither
//! restates
//! a folder layout. The row types of the study tables that `plot` reads
//! back live here too ([`AggregateRow`], [`CrossvalRow`]).
//!
//! | folder | written by | holds |
//! |---|---|---|
//! | a run | `run`, `evaluate` | `STEPS`, `SUMMARY`, `CONFIG` |
//! | a training | `train` | `QTABLE`, `LEARNING_CURVE`, `EVALUATION`, `CONFIG` |
//! | a comparison | `compare` | `SUMMARY`, `AGGREGATE`, `SUMMARY_MD`, `CONFIG`, `compare_run_dir``/`(`STEPS`, `SUMMARY`) |
//! | a sweep | `sweep`, `merge` | `SWEEP_MANIFEST`, `sweep_cell``/`(`SUMMARY`, `CONFIG`), `SUMMARY`, `AGGREGATE`, `BEST_MD`, `SHARD` |
//! | a tuning | `tune` | a sweep's files, `TUNED_TOML`, `OBJECTIVE`, `DEFAULTS`, `CONFIG` |
//! | a cross-validation | `crossval`, `merge` | `CROSSVAL_MANIFEST`, `crossval_tune_dir` (sweeps), `crossval_eval`, `crossval_tuned_toml`, `CROSSVAL`, `TUNED_CSV`, `SUMMARY_MD`, `CONFIG` |
//!
//! Every folder's figures go to `FIGURES``/`; `reproduce` adds a
//! `README` to each experiment's folder and to the root.

use std::path::{Path, PathBuf};

mod aggregate;
mod crossval;

pub use aggregate::AggregateRow;
pub use crossval::{cases, peak_label, Case, CrossvalRow, Entry};

/// The resolved configuration of a results folder.
pub(crate) const CONFIG: &str = "config.toml";
/// One row per simulated step ([`crate::cloud::StepInfo`]).
pub(crate) const STEPS: &str = "steps.csv";
/// One row per run ([`crate::metrics::SummaryRow`]; a sweep's with
/// `param_<key>` columns first).
pub(crate) const SUMMARY: &str = "summary.csv";
/// One row per policy × trace over seeds ([`AggregateRow`]).
pub(crate) const AGGREGATE: &str = "aggregate.csv";
/// A comparison's or cross-validation's summary table in Markdown.
pub(crate) const SUMMARY_MD: &str = "summary.md";
/// A trained agent's Q-table.
pub(crate) const QTABLE: &str = "qtable.txt";
/// The learning curve of a training ([`crate::agent::CurveRow`]).
pub(crate) const LEARNING_CURVE: &str = "learning_curve.csv";
/// A trained agent's greedy runs on the test traces.
pub(crate) const EVALUATION: &str = "evaluation.csv";
/// A sweep's best combinations per policy × trace, in Markdown.
pub(crate) const BEST_MD: &str = "best.md";
/// A sweep's manifest: the base configuration and the grid.
pub(crate) const SWEEP_MANIFEST: &str = "sweep.toml";
/// A shard's `I/N`.
pub(crate) const SHARD: &str = "shard.txt";
/// A sweep's finished cells.
pub(crate) const CELLS: &str = "cells";
/// A tuning's objective per candidate.
pub(crate) const OBJECTIVE: &str = "objective.csv";
/// A tuning's runs of the configured parameters.
pub(crate) const DEFAULTS: &str = "defaults.csv";
/// A tuning's best parameters as a config fragment.
pub(crate) const TUNED_TOML: &str = "tuned.toml";
/// A cross-validation's manifest: the resolved configuration.
pub(crate) const CROSSVAL_MANIFEST: &str = "crossval.toml";
/// A cross-validation's evaluation rows ([`CrossvalRow`]).
pub(crate) const CROSSVAL: &str = "crossval.csv";
/// A cross-validation's tuned parameters per fold and rule.
pub(crate) const TUNED_CSV: &str = "tuned.csv";
/// A validation's analytic-versus-simulated rows per regime (the
/// validate study's `ValidateRow`).
pub(crate) const VALIDATE: &str = "validate.csv";
/// A validation's closed-loop score pairs (its `ScoreRow`).
pub(crate) const SCORES: &str = "scores.csv";
/// The figures of a results folder.
pub(crate) const FIGURES: &str = "figures";
/// `reproduce`'s description of a folder.
pub(crate) const README: &str = "README.md";
/// A comparison's per-run folders.
pub(crate) const COMPARE_RUNS: &str = "runs";

/// `seed-N`: one seed's folder (a run of a comparison, a sweep cell, a
/// training of `reproduce`).
pub(crate) fn seed_dir(seed: u64) -> String {
    format!("seed-{seed}")
}

/// A comparison's run folder, relative to the comparison:
/// `runs/POLICY/TRACE/seed-N`.
pub(crate) fn compare_run_dir(policy: &str, trace: &str, seed: u64) -> String {
    format!("{COMPARE_RUNS}/{policy}/{trace}/{}", seed_dir(seed))
}

/// The comparison folder holding run folder `dir`
/// (`ROOT/runs/POLICY/TRACE/seed-N`, ROOT with its [`CONFIG`]), if it is
/// one.
pub(crate) fn compare_root(dir: &Path) -> Option<&Path> {
    let runs = dir.parent()?.parent()?.parent()?;
    (runs.file_name()? == COMPARE_RUNS)
        .then(|| runs.parent())
        .flatten()
        .filter(|root| root.join(CONFIG).is_file())
}

/// The folder of a finished sweep cell: `out/cells/COMBINATION/seed-N`,
/// COMBINATION the cell's folder name
/// (made by the sweep study from the combination's values).
pub(crate) fn sweep_cell(out: &Path, combination: &str, seed: u64) -> PathBuf {
    out.join(CELLS).join(combination).join(seed_dir(seed))
}

/// A cross-validation's tuning sweep of one rule: `out/tune/RULE`.
pub(crate) fn crossval_tune_dir(out: &Path, rule: &str) -> PathBuf {
    out.join("tune").join(rule)
}

/// A cross-validation fold's folder: `out/folds/fold-K`.
pub(crate) fn crossval_fold(out: &Path, fold: usize) -> PathBuf {
    out.join("folds").join(format!("fold-{fold}"))
}

/// A cross-validation's evaluation cell:
/// `out/folds/fold-K/eval/seed-N.csv`.
pub(crate) fn crossval_eval(out: &Path, fold: usize, seed: u64) -> PathBuf {
    crossval_fold(out, fold)
        .join("eval")
        .join(format!("{}.csv", seed_dir(seed)))
}

/// A fold's tuned parameters of one rule:
/// `out/folds/fold-K/tuned/RULE.toml`.
pub(crate) fn crossval_tuned_toml(out: &Path, fold: usize, rule: &str) -> PathBuf {
    crossval_fold(out, fold)
        .join("tuned")
        .join(format!("{rule}.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comparison_run_folder_is_found_back_from_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join(compare_run_dir("hpa", "day1", 7));
        assert!(run.ends_with("runs/hpa/day1/seed-7"));
        std::fs::create_dir_all(&run).unwrap();
        assert_eq!(compare_root(&run), None, "no config.toml at the root");
        std::fs::write(dir.path().join(CONFIG), "").unwrap();
        assert_eq!(compare_root(&run), Some(dir.path()));
    }

    #[test]
    fn cross_validation_paths_nest_under_their_fold() {
        let out = Path::new("cv");
        assert_eq!(
            crossval_eval(out, 2, 5),
            Path::new("cv/folds/fold-2/eval/seed-5.csv")
        );
        assert_eq!(
            crossval_tuned_toml(out, 1, "hpa"),
            Path::new("cv/folds/fold-1/tuned/hpa.toml")
        );
        assert_eq!(
            sweep_cell(out, "policy.upper=0.8", 3),
            Path::new("cv/cells/policy.upper=0.8/seed-3")
        );
    }
}
