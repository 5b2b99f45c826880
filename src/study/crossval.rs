//! `qscale crossval`: does a policy beat the rules on a workload it never
//! saw, and by how much?
//!
//! **Folds.** By default leave-one-trace-out over `experiment.traces`:
//! fold k tests on trace k and trains and tunes on all the others.
//! `[[crossval.folds]]` tables give explicit folds instead, and
//! `crossval.in_sample` the control where fold k trains, tunes and tests on
//! trace k (what hindsight of the test trace is worth).
//!
//! **Per fold**, and never looking at its test traces (but in-sample):
//! - every rule of `experiment.policies` (all tunable rules when empty) is
//!   tuned on the fold's training traces with the same search as
//!   `qscale tune` (its built-in grid, the configured parameters always a
//!   candidate; `[sweep]` is not used), with the seeds `crossval.tune_seeds`
//!   (default `experiment.seeds`);
//! - the agent is trained on the same traces, once per seed of
//!   `experiment.seeds`.
//!
//! **Evaluation**, on each test trace, at each peak of `crossval.peaks_rps`
//! (as `workload.peak_rps`; training and tuning use the workload as
//! configured), for every seed: the greedy agent (`params = trained`),
//! every rule with the configured parameters (`default`) and with the
//! fold's tuned ones (`tuned`), `static` sized for the test trace's peak
//! at `policy.target_utilization` (`peak`), and the oracle
//! (`clairvoyant`). Regret is a run's score minus the oracle's on the same
//! fold, trace, peak and seed.
//!
//! **Work and folders.** Tuning cells are sweep cells (`crate::study::sweep`):
//! one sweep per rule under `DIR/tune/RULE/`, each candidate × tuning seed
//! run on every trace that some fold trains on (so a trace's runs are
//! shared by the folds that train on it instead of rerun for each); a
//! fold's objective counts only the runs on its own training traces
//! (`tune::rank_on`), so its test traces never influence its choice. The
//! cells run in parallel, resume, and are byte-identical for any `--jobs`.
//! An evaluation cell is one (fold, seed), written atomically as
//! `DIR/folds/fold-K/eval/seed-N.csv`; it needs all the tuning. With
//! `--shard i/n` a run does every n-th tuning cell of the whole plan and
//! stops; `merge` joins the shards, runs the evaluation cells (a few per
//! cent of the work) and writes what a single machine would have written:
//! `crossval.csv` ([`CrossvalRow`]), `tuned.csv` ([`TunedRow`]),
//! `summary.md`, `config.toml`, `folds/fold-K/tuned/RULE.toml` and
//! `figures/crossval.{png,svg}`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Progress, UsageError};
use crate::agent;
use crate::config::{Config, PolicyKind, StaticSizing, SweepConfig};
use crate::experiment::{self, TraceSet};
use crate::layout::{self, cases, peak_label, Case, CrossvalRow, Entry};
use crate::metrics::{to_csv, SummaryRow};
use crate::output::{write_file_atomic, CorruptResults};
use crate::policy::Learner;
use crate::study::sweep::{self, Combination, Grid, SweepOptions, SweepReport};
use crate::study::tune::{self, Search, TuneReport, TuneSpec};

/// The manifest of a cross-validation folder: the resolved config. A
/// folder is resumed only under the same manifest.
const MANIFEST: &str = layout::CROSSVAL_MANIFEST;
const MANIFEST_HEADING: &str = "# qscale crossval manifest: the resolved configuration\n";

/// One fold: what it learns from and what it is tested on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fold {
    /// 1-based fold number (the `fold` column).
    pub number: usize,
    /// Training (and tuning) traces.
    pub train: Vec<PathBuf>,
    /// Test traces.
    pub test: Vec<PathBuf>,
}

/// The folds of `config`: `[[crossval.folds]]`, one fold per trace that
/// trains and tests on it (`crossval.in_sample`), or leave-one-trace-out
/// over `experiment.traces`.
///
/// # Errors
/// Fewer than two traces for leave-one-trace-out, none in-sample.
pub(crate) fn folds(config: &Config) -> Result<Vec<Fold>> {
    let explicit = &config.crossval.folds;
    if !explicit.is_empty() {
        return Ok(explicit
            .iter()
            .enumerate()
            .map(|(k, f)| Fold {
                number: k + 1,
                train: f.train.clone(),
                test: f.test.clone(),
            })
            .collect());
    }
    let traces = &config.experiment.traces;
    if config.crossval.in_sample {
        if traces.is_empty() {
            bail!(UsageError(
                "crossval.in_sample = true needs experiment.traces: one fold each".into()
            ));
        }
        // Training and tuning use the workload as configured: evaluating
        // at another peak would not be in-sample.
        let trained_at = config.workload.peak_rps;
        if let Some(&peak) = config
            .crossval
            .peaks_rps
            .iter()
            .find(|&&p| Some(p) != trained_at)
        {
            bail!(UsageError(format!(
                "crossval.in_sample = true evaluates at the load it trains and tunes at, \
                 workload.peak_rps ({}), not at crossval.peaks_rps {peak}: set the two alike \
                 (one run per peak)",
                trained_at.map_or("unset".to_string(), |p| p.to_string())
            )));
        }
        return Ok(traces
            .iter()
            .enumerate()
            .map(|(k, t)| Fold {
                number: k + 1,
                train: vec![t.clone()],
                test: vec![t.clone()],
            })
            .collect());
    }
    if traces.len() < 2 {
        bail!(UsageError(format!(
            "crossval needs folds: give at least two experiment.traces (leave-one-trace-out) \
             or [[crossval.folds]] tables with train and test lists (experiment.traces has {})",
            traces.len()
        )));
    }
    Ok((0..traces.len())
        .map(|k| Fold {
            number: k + 1,
            train: traces
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != k)
                .map(|(_, t)| t.clone())
                .collect(),
            test: vec![traces[k].clone()],
        })
        .collect())
}

/// The rules a cross-validation tunes and evaluates: the tunable kinds of
/// `experiment.policies`, in its order (all of [`tune::TUNABLE`] when it
/// is empty). The agent, `static` at the peak and the oracle are always
/// evaluated.
pub(crate) fn rules(config: &Config) -> Vec<PolicyKind> {
    let listed = &config.experiment.policies;
    if listed.is_empty() {
        return tune::TUNABLE.to_vec();
    }
    let mut out = Vec::new();
    for kind in listed {
        if tune::TUNABLE.contains(kind) && !out.contains(kind) {
            out.push(*kind);
        }
    }
    out
}

/// The seeds rules are tuned with.
fn tune_seeds(config: &Config) -> Vec<u64> {
    if config.crossval.tune_seeds.is_empty() {
        config.experiment.seeds.clone()
    } else {
        config.crossval.tune_seeds.clone()
    }
}

/// The peaks every test trace is evaluated at (`None`: as configured).
fn peaks(config: &Config) -> Vec<Option<f64>> {
    if config.crossval.peaks_rps.is_empty() {
        vec![None]
    } else {
        config
            .crossval
            .peaks_rps
            .iter()
            .copied()
            .map(Some)
            .collect()
    }
}

/// One row of `tuned.csv`: a rule's tuned parameters in one fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunedRow {
    /// Fold number, from 1.
    pub fold: usize,
    /// The rule.
    pub policy: String,
    /// The tuned parameters as `--set` flags.
    pub params: String,
    /// The tuned parameters' objective on the training traces (mean score
    /// over traces × tuning seeds), USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub train_score_usd: f64,
    /// The configured parameters' objective on the same traces, USD
    /// (empty when they are not a candidate of the grid).
    #[serde(serialize_with = "crate::csv_number::usd_opt")]
    pub default_train_score_usd: Option<f64>,
    /// Candidates searched.
    pub candidates: usize,
}

/// How to run a cross-validation.
#[derive(Debug, Clone, Default)]
pub(crate) struct CrossvalOptions {
    /// Worker threads (`None` = all cores).
    pub jobs: Option<usize>,
    /// `(i, n)`: run only the tuning cells whose index in the whole plan is
    /// ≡ i − 1 (mod n), and no evaluation.
    pub shard: Option<(usize, usize)>,
    /// Start over when the folder holds something else.
    pub force: bool,
}

/// What a cross-validation did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CrossvalReport {
    /// Folds.
    pub folds: usize,
    /// Tuning cells of this run (all, or this shard's).
    pub tune_cells: usize,
    /// Tuning cells run now (the others were found finished).
    pub tune_ran: usize,
    /// Evaluation cells (folds × seeds; 0 for a shard).
    pub eval_cells: usize,
    /// Evaluation cells run now.
    pub eval_ran: usize,
    /// Whether the outputs were written (not for a shard).
    pub finished: bool,
}

/// One rule's search, over every trace some fold trains on.
struct Tuning {
    rule: PolicyKind,
    search: Search,
    grid: Grid,
    dir: PathBuf,
    first_index: usize,
}

/// Everything a cross-validation will run, built before anything runs.
struct Plan {
    folds: Vec<Fold>,
    /// The names of each fold's training traces (as in `summary.csv`).
    train_names: Vec<Vec<String>>,
    rules: Vec<PolicyKind>,
    tunings: Vec<Tuning>,
    traces: TraceSet,
}

impl Plan {
    /// Checks the folds, loads every trace and builds every search; fails
    /// before the folder is touched.
    fn new(config: &Config, out: &Path) -> Result<Plan> {
        config.check_q_table_size()?;
        let folds = folds(config)?;
        let rules = rules(config);
        let mut paths: Vec<PathBuf> = Vec::new();
        for f in &folds {
            paths.extend(f.train.iter().chain(&f.test).cloned());
        }
        let traces = TraceSet::load(&paths)?;
        let mut train_names = Vec::with_capacity(folds.len());
        for f in &folds {
            let train = traces.workloads(&f.train, config)?;
            train_names.push(train.iter().map(|w| w.name.clone()).collect());
            for peak in peaks(config) {
                let at_peak = at_peak(config, peak);
                let tests = traces.workloads(&f.test, &at_peak)?;
                for (i, w) in tests.iter().enumerate() {
                    if tests[..i].iter().any(|v| v.name == w.name) {
                        bail!(UsageError(format!(
                            "fold {}: two test traces are named `{}`: rename one so their rows \
                             do not collide",
                            f.number, w.name
                        )));
                    }
                }
            }
        }
        // Each rule is run once on every trace some fold trains on; a fold
        // ranks the candidates on its own training traces only.
        let mut union: Vec<PathBuf> = Vec::new();
        for t in folds.iter().flat_map(|f| &f.train) {
            if !union.contains(t) {
                union.push(t.clone());
            }
        }
        let mut base = config.clone();
        base.sweep = SweepConfig::default();
        base.experiment.seeds = tune_seeds(config);
        base.experiment.train_traces = union;
        base.experiment.test_traces = Vec::new();
        let mut tunings = Vec::new();
        let mut first_index = 0;
        for &rule in &rules {
            let spec = TuneSpec {
                policy: rule,
                axes: Vec::new(),
                pinned: Vec::new(),
                builtin_grid: true,
            };
            let search = tune::search(&base, &spec).with_context(|| format!("tuning {rule}"))?;
            let grid = tune::candidate_grid(&search);
            let cells = grid.cells().len();
            tunings.push(Tuning {
                rule,
                search,
                grid,
                dir: layout::crossval_tune_dir(out, rule.name()),
                first_index,
            });
            first_index += cells;
        }
        Ok(Plan {
            folds,
            train_names,
            rules,
            tunings,
            traces,
        })
    }

    /// Tuning cells that `shard` runs (all without a shard).
    fn tune_cells(&self, shard: Option<(usize, usize)>) -> usize {
        self.tunings
            .iter()
            .map(|t| {
                (0..t.grid.n_combinations() * t.grid.seeds.len())
                    .filter(|c| sweep::in_shard(shard, t.first_index + c))
                    .count()
            })
            .sum()
    }
}

/// `config` with the test traces scaled to `peak`.
fn at_peak(config: &Config, peak: Option<f64>) -> Config {
    let mut c = config.clone();
    if let Some(p) = peak {
        c.workload.peak_rps = Some(p);
    }
    c
}

/// A finished cross-validation (or shard of one).
#[derive(Debug, Clone)]
pub(crate) struct CrossvalOutcome {
    /// What ran.
    pub report: CrossvalReport,
    /// When finished: the head of `summary.md` (its headline table and
    /// the wins, up to the first fold's section).
    pub headline: Option<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// [`run_crossval`] with its cells counted by `progress`, timed, with the
/// headline of the summary.
///
/// # Errors
/// As [`run_crossval`], or an unreadable `summary.md`.
pub(crate) fn crossval_folder(
    config: &Config,
    out: &Path,
    options: &CrossvalOptions,
    progress: &dyn Progress,
) -> Result<CrossvalOutcome> {
    let started = std::time::Instant::now();
    let report = super::phase(progress, "crossval cells", |update| {
        run_crossval(config, out, options, update)
    })?;
    outcome(report, out, started)
}

/// [`merge`] with its cells counted by `progress`, timed, with the
/// headline of the summary.
///
/// # Errors
/// As [`merge`], or an unreadable `summary.md`.
pub(crate) fn merge_folder(
    shards: &[PathBuf],
    out: &Path,
    options: &CrossvalOptions,
    progress: &dyn Progress,
) -> Result<CrossvalOutcome> {
    let started = std::time::Instant::now();
    let report = super::phase(progress, "crossval cells", |update| {
        merge(shards, out, options, update)
    })?;
    outcome(report, out, started)
}

fn outcome(
    report: CrossvalReport,
    out: &Path,
    started: std::time::Instant,
) -> Result<CrossvalOutcome> {
    let seconds = started.elapsed().as_secs_f64();
    let headline = if report.finished {
        let summary = out.join(layout::SUMMARY_MD);
        let text = fs::read_to_string(&summary)
            .with_context(|| format!("reading {}", summary.display()))?;
        let head = text.split("\n## ").next().unwrap_or_default();
        Some(head.trim_end().to_string())
    } else {
        None
    };
    Ok(CrossvalOutcome {
        report,
        headline,
        seconds,
    })
}

/// Runs (or resumes) a cross-validation into `out`. `progress(done,
/// total)` is called as cells finish.
///
/// # Errors
/// Bad folds or traces (before anything runs), a folder holding something
/// else (without `force`), or an I/O failure.
pub(crate) fn run_crossval(
    config: &Config,
    out: &Path,
    options: &CrossvalOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CrossvalReport> {
    let plan = Plan::new(config, out)?;
    let manifest = format!("{MANIFEST_HEADING}{}", config.to_toml());
    let _lock = crate::output::claim_folder(
        out,
        MANIFEST,
        &manifest,
        options.force,
        "cross-validation (the config changed)",
    )?;
    if let Some((i, n)) = options.shard {
        write_file_atomic(&out.join(layout::SHARD), format!("{i}/{n}\n").as_bytes())?;
    }
    let work = || execute(config, &plan, out, options, progress);
    crate::workers::with_workers(options.jobs, work)?
}

fn execute(
    config: &Config,
    plan: &Plan,
    out: &Path,
    options: &CrossvalOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CrossvalReport> {
    let seeds = &config.experiment.seeds;
    let tune_cells = plan.tune_cells(options.shard);
    let eval_cells = if options.shard.is_some() {
        0
    } else {
        plan.folds.len() * seeds.len()
    };
    let total = tune_cells + eval_cells;
    let sweeps = run_tunings(plan, options.shard, &|d| progress(d, total))?;
    let tune_ran = sweeps.iter().map(|r| r.ran).sum();
    if options.shard.is_some() {
        return Ok(CrossvalReport {
            folds: plan.folds.len(),
            tune_cells,
            tune_ran,
            eval_cells: 0,
            eval_ran: 0,
            finished: false,
        });
    }
    let (tuned, tuned_rows) = pick_tuned(plan, &sweeps, out)?;
    let done = sweeps.iter().map(|r| r.cells).sum();
    let eval_ran = run_evaluations(config, plan, &tuned, out, done, &|d| progress(d, total))?;
    let rows = collect_rows(out, &plan.folds, seeds)?;
    write_file_atomic(&out.join(layout::CROSSVAL), &to_csv(&rows)?)?;
    write_file_atomic(&out.join(layout::TUNED_CSV), &to_csv(&tuned_rows)?)?;
    write_file_atomic(&out.join(layout::CONFIG), config.to_toml_in(out).as_bytes())?;
    write_file_atomic(
        &out.join(layout::SUMMARY_MD),
        summary_markdown(config, &plan.folds, &rows, &tuned_rows).as_bytes(),
    )?;
    crate::plot::plot_folder(out, crate::plot::Format::Both)?;
    Ok(CrossvalReport {
        folds: plan.folds.len(),
        tune_cells,
        tune_ran,
        eval_cells,
        eval_ran,
        finished: true,
    })
}

/// Runs (or resumes) every rule's tuning sweep (this shard's cells only,
/// with a shard); `progress(done)` counts cells over all sweeps.
fn run_tunings(
    plan: &Plan,
    shard: Option<(usize, usize)>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<SweepReport>> {
    let mut done = 0;
    let mut sweeps = Vec::with_capacity(plan.tunings.len());
    for t in &plan.tunings {
        let sweep_options = SweepOptions {
            jobs: None,
            shard,
            force: false,
            first_index: t.first_index,
        };
        let offset = done;
        let report = sweep::run_sweep(&t.search.base, &t.grid, &t.dir, &sweep_options, &|d, _| {
            progress(offset + d)
        })
        .with_context(|| format!("tuning {}", t.rule))?;
        done += report.cells;
        sweeps.push(report);
    }
    Ok(sweeps)
}

/// Each fold's tuned parameters per rule.
type TunedParams = Vec<Vec<(PolicyKind, Combination)>>;

/// The tuned parameters of every fold (ranked on the fold's own training
/// traces), their `tuned.csv` rows, and each fold's `tuned/RULE.toml`.
fn pick_tuned(
    plan: &Plan,
    sweeps: &[SweepReport],
    out: &Path,
) -> Result<(TunedParams, Vec<TunedRow>)> {
    let mut tuned: TunedParams = vec![Vec::new(); plan.folds.len()];
    let mut tuned_rows = Vec::new();
    for (f, fold) in plan.folds.iter().enumerate() {
        for (t, sweep_report) in plan.tunings.iter().zip(sweeps) {
            let (objectives, ranking) =
                tune::rank_on(&t.search, &t.dir, Some(&plan.train_names[f]))?;
            let best = ranking[0];
            let defaults = t.search.default_index.map(|i| objectives[i]);
            tuned_rows.push(TunedRow {
                fold: fold.number,
                policy: t.rule.name().to_string(),
                params: tune::set_flags(&t.search.candidates[best]),
                train_score_usd: objectives[best].score_mean,
                default_train_score_usd: defaults.map(|d| d.score_mean),
                candidates: t.search.candidates.len(),
            });
            tuned[f].push((t.rule, t.search.candidates[best].clone()));
            if let Some(defaults) = defaults {
                let mut search = t.search.clone();
                search.base.experiment.traces = fold.train.clone();
                search.base.experiment.train_traces = fold.train.clone();
                let report = TuneReport {
                    search,
                    objectives,
                    ranking,
                    defaults,
                    default_runs: Vec::new(),
                    sweep: sweep_report.clone(),
                    overlap: Vec::new(),
                };
                write_file_atomic(
                    &layout::crossval_tuned_toml(out, fold.number, t.rule.name()),
                    tune::tuned_toml(&report).as_bytes(),
                )?;
            }
        }
    }
    Ok((tuned, tuned_rows))
}

/// Runs the evaluation cells (fold × seed) not yet written, in parallel;
/// `progress(done)` counts on from `done` finished cells. Returns how many
/// ran.
fn run_evaluations(
    config: &Config,
    plan: &Plan,
    tuned: &TunedParams,
    out: &Path,
    done: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<usize> {
    let seeds = &config.experiment.seeds;
    let cells: Vec<(usize, u64)> = (0..plan.folds.len())
        .flat_map(|f| seeds.iter().map(move |&s| (f, s)))
        .collect();
    let todo: Vec<&(usize, u64)> = cells
        .iter()
        .filter(|(f, s)| !layout::crossval_eval(out, plan.folds[*f].number, *s).exists())
        .collect();
    let eval_done = AtomicUsize::new(done + cells.len() - todo.len());
    progress(eval_done.load(Ordering::SeqCst));
    todo.par_iter().try_for_each(|&&(f, seed)| -> Result<()> {
        let fold = &plan.folds[f];
        let rows = evaluate(config, fold, &plan.rules, &tuned[f], seed, &plan.traces)?;
        write_file_atomic(
            &layout::crossval_eval(out, fold.number, seed),
            &to_csv(&rows)?,
        )?;
        progress(eval_done.fetch_add(1, Ordering::SeqCst) + 1);
        Ok(())
    })?;
    Ok(todo.len())
}

/// One evaluation cell: the agent trained on the fold's training traces
/// with `seed`, then every policy on every test trace at every peak.
/// Rows are in the order test trace, peak, policy; regret is filled.
fn evaluate(
    config: &Config,
    fold: &Fold,
    rules: &[PolicyKind],
    tuned: &[(PolicyKind, Combination)],
    seed: u64,
    traces: &TraceSet,
) -> Result<Vec<CrossvalRow>> {
    let mut learn = config.clone();
    learn.policy.kind = PolicyKind::Qlearning;
    learn.experiment.train_traces = fold.train.clone();
    let train_on = traces.workloads(&fold.train, &learn)?;
    let mut trained = agent::train(&learn, &train_on, seed, |_, _| {}).agent;
    trained.set_exploring(false);

    let mut rows = Vec::new();
    for test in &fold.test {
        for peak in peaks(config) {
            let base = at_peak(config, peak);
            let workload = traces
                .workloads(std::slice::from_ref(test), &base)?
                .remove(0);
            let start = rows.len();
            let mut push = |params: &str, summary: SummaryRow| {
                rows.push(CrossvalRow::of(fold.number, peak, params, &summary));
            };
            let mut with_agent = base.clone();
            with_agent.policy.kind = PolicyKind::Qlearning;
            let mut greedy = trained.clone();
            push(
                "trained",
                experiment::run_with(&with_agent, &mut greedy, Arc::clone(&workload), seed).summary,
            );
            let run_rule = |cfg: &Config| -> Result<SummaryRow> {
                let mut policy = experiment::build_policy(cfg, &workload, seed)?;
                Ok(experiment::run_with(cfg, &mut policy, Arc::clone(&workload), seed).summary)
            };
            for &rule in rules {
                let mut default = base.clone();
                default.policy.kind = rule;
                push("default", run_rule(&default)?);
                let combo = tuned
                    .iter()
                    .find(|(k, _)| *k == rule)
                    .map(|(_, c)| c)
                    .context("a rule without tuned parameters")?;
                let mut best = default.with_overrides(combo)?;
                best.policy.kind = rule;
                push("tuned", run_rule(&best)?);
            }
            let mut at_peak_static = base.clone();
            at_peak_static.policy.kind = PolicyKind::Static;
            at_peak_static.policy.static_count.sizing = StaticSizing::Peak;
            push("peak", run_rule(&at_peak_static)?);
            let mut oracle = base.clone();
            oracle.policy.kind = PolicyKind::Oracle;
            push("clairvoyant", run_rule(&oracle)?);
            // invariant: the oracle's row was pushed last
            let best = rows.last().map_or(0.0, |r| r.score_usd);
            for row in &mut rows[start..] {
                row.regret_usd = row.score_usd - best;
            }
        }
    }
    Ok(rows)
}

/// Every evaluation cell's rows, ordered fold, test trace, peak, policy,
/// seed.
fn collect_rows(out: &Path, folds: &[Fold], seeds: &[u64]) -> Result<Vec<CrossvalRow>> {
    let mut rows = Vec::new();
    for fold in folds {
        let per_seed = seeds
            .iter()
            .map(|&seed| read_eval(&layout::crossval_eval(out, fold.number, seed)))
            .collect::<Result<Vec<_>>>()?;
        let n = per_seed.first().map_or(0, Vec::len);
        if let Some((bad, _)) = seeds
            .iter()
            .zip(&per_seed)
            .find(|(_, rows)| rows.len() != n)
        {
            bail!(CorruptResults {
                path: layout::crossval_eval(out, fold.number, *bad),
                reason: format!(
                    "holds a different number of rows than seed {}'s: delete it and rerun",
                    seeds[0]
                ),
            });
        }
        for r in 0..n {
            rows.extend(per_seed.iter().map(|rows| rows[r].clone()));
        }
    }
    Ok(rows)
}

fn read_eval(path: &Path) -> Result<Vec<CrossvalRow>> {
    let corrupt = |reason: String| CorruptResults {
        path: path.to_path_buf(),
        reason: format!("{reason}: delete it and rerun the cross-validation to redo it"),
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| corrupt(e.to_string()))?;
    let rows = reader
        .deserialize()
        .collect::<std::result::Result<Vec<CrossvalRow>, _>>()
        .map_err(|e| corrupt(e.to_string()))?;
    if rows.is_empty() {
        bail!(corrupt("no rows".into()));
    }
    Ok(rows)
}

fn ratio_text(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |x| format!("{x:.2}×"))
}

fn trace_names(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| {
            p.file_stem()
                .map_or_else(|| p.display().to_string(), |s| s.to_string_lossy().into())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `summary.md`: the headline ratios per case, the wins, every policy's
/// score per case, and the tuned parameters of each fold.
fn summary_markdown(
    config: &Config,
    folds: &[Fold],
    rows: &[CrossvalRow],
    tuned: &[TunedRow],
) -> String {
    let cases = cases(rows);
    let mut out = String::from("# Cross-validation\n\n");
    if !config.experiment.description.is_empty() {
        let _ = writeln!(out, "{}\n", config.experiment.description);
    }
    let (kind, trained_on, tested_on) = if config.crossval.in_sample {
        (
            "in-sample: each trace its own fold",
            "its test trace itself",
            "that same trace",
        )
    } else if config.crossval.folds.is_empty() {
        (
            "leave-one-trace-out",
            "the other traces only",
            "the held-out trace",
        )
    } else {
        (
            "explicit folds",
            "the fold's training traces only",
            "its test traces",
        )
    };
    let _ = writeln!(
        out,
        "{} folds ({kind}). In each, the rules were tuned and the agent trained on {trained_on} \
         (tuning seeds {:?}, {} training episodes); every policy was then evaluated \
         on {tested_on} at each peak, over seeds {:?}. Scores are cost + penalty in USD, \
         mean ± 95 % CI over seeds. The best rule is the lowest mean score among the rules with \
         default or tuned parameters and `static` at the peak (the oracle excluded); the seeds \
         column counts the seeds on which the agent scores at most that rule does on the same \
         seed. The best adaptive rule is the best rule but `static`: the others size the fleet \
         from the load they have seen, as the agent does, while `static` keeps a fixed fleet \
         sized (with `policy.sizing` `peak` or `mean`, the tuning grid's choices) from the test \
         trace's own peak or mean, which no online policy knows.\n",
        folds.len(),
        tune_seeds(config),
        config.agent.episodes,
        config.experiment.seeds
    );
    headline_table(&mut out, &cases);
    wins(&mut out, config, &cases);
    case_sections(&mut out, &cases);
    tuned_section(&mut out, folds, tuned);
    out
}

/// The headline ratios, one row per case.
fn headline_table(out: &mut String, cases: &[Case]) {
    out.push_str(
        "| fold | test trace | peak | best rule | agent / best rule | seeds agent ≤ best rule | agent / oracle | best rule / oracle | best adaptive rule | agent / best adaptive rule |\n\
         |---:|---|---:|---|---:|---:|---:|---:|---|---:|\n",
    );
    let label = |e: Option<&Entry>| e.map_or_else(|| "–".into(), Entry::label);
    for c in cases {
        let best = c.best_rule();
        let best_over_oracle = best
            .zip(c.oracle())
            .map(|(b, o)| b.score.mean / o.score.mean);
        let seeds = c
            .agent_seeds_at_most_best_rule()
            .map_or_else(|| "–".into(), |(k, n)| format!("{k} of {n}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {seeds} | {} | {} | {} | {} |",
            c.fold,
            c.test_trace,
            peak_label(c.peak_rps),
            label(best),
            ratio_text(c.agent_over_best_rule()),
            ratio_text(c.agent_over_oracle()),
            ratio_text(best_over_oracle),
            label(c.best_adaptive_rule()),
            ratio_text(c.agent_over_best_adaptive_rule())
        );
    }
    out.push('\n');
}

/// How often the agent wins, per peak.
fn wins(out: &mut String, config: &Config, cases: &[Case]) {
    for peak in peaks(config) {
        let at: Vec<&Case> = cases.iter().filter(|c| c.peak_rps == peak).collect();
        // Cases where the agent scores at most the reference `ratio` divides by.
        let at_most = |ratio: fn(&Case) -> Option<f64>| {
            at.iter()
                .filter(|c| ratio(c).is_some_and(|r| r <= 1.0))
                .count()
        };
        let wins = at_most(Case::agent_over_best_rule);
        let static_losses = at
            .iter()
            .filter(|c| {
                let stat = c.entries.iter().find(|e| e.params == "peak");
                c.agent()
                    .zip(stat)
                    .is_some_and(|(a, s)| a.score.mean > s.score.mean)
            })
            .count();
        let adaptive_wins = at_most(Case::agent_over_best_adaptive_rule);
        let (seed_wins, seed_runs) = at
            .iter()
            .filter_map(|c| c.agent_seeds_at_most_best_rule())
            .fold((0, 0), |(k, n), (a, b)| (k + a, n + b));
        let _ = writeln!(
            out,
            "- At {}: the agent scores at most the best rule's in **{wins} of {}** cases (in \
             {seed_wins} of {seed_runs} case × seed runs, each against the best rule on its \
             seed), and more than `static` at the peak in {static_losses}; at most the best \
             adaptive rule's in {adaptive_wins}.",
            peak_label(peak),
            at.len()
        );
    }
    out.push('\n');
}

/// Every policy's scores, one section per case.
fn case_sections(out: &mut String, cases: &[Case]) {
    for c in cases {
        let _ = writeln!(
            out,
            "## Fold {}: {} at {}\n",
            c.fold,
            c.test_trace,
            peak_label(c.peak_rps)
        );
        out.push_str(
            "| policy | params | score (USD) | cost (USD) | penalty (USD) | violation rate | regret (USD) |\n\
             |---|---|---:|---:|---:|---:|---:|\n",
        );
        let best = c.best_rule();
        for e in &c.entries {
            let bold = best.is_some_and(|b| std::ptr::eq(b, e)) || e.policy == "qlearning";
            let score = format!("{:.4} ± {:.4}", e.score.mean, e.score.ci95);
            let (l, r) = if bold { ("**", "**") } else { ("", "") };
            let _ = writeln!(
                out,
                "| {l}{}{r} | {} | {l}{score}{r} | {:.4} | {:.4} | {:.4}% | {:.4} |",
                e.policy,
                e.params,
                e.cost_mean,
                e.penalty_mean,
                100.0 * e.violation_rate_mean,
                e.regret_mean
            );
        }
        out.push('\n');
    }
}

/// The tuned parameters of each fold.
fn tuned_section(out: &mut String, folds: &[Fold], tuned: &[TunedRow]) {
    out.push_str("## Tuned parameters\n\n");
    for fold in folds {
        let _ = writeln!(
            out,
            "### Fold {}: trained and tuned on {}; tested on {}\n",
            fold.number,
            trace_names(&fold.train),
            trace_names(&fold.test)
        );
        for t in tuned.iter().filter(|t| t.fold == fold.number) {
            let default = t
                .default_train_score_usd
                .map_or_else(String::new, |d| format!(", defaults {d:.4}"));
            let _ = writeln!(
                out,
                "- `{}`: `{}` (training objective {:.4} USD{default}; {} candidates)",
                t.policy, t.params, t.train_score_usd, t.candidates
            );
        }
        out.push('\n');
    }
}

/// Joins the folders of a sharded cross-validation into `out`: copies
/// their tuning cells, checks that none is missing, runs the evaluation
/// cells and writes the outputs, exactly as one unsharded run would.
/// Built under a temporary name and renamed when complete.
///
/// # Errors
/// Folders of different cross-validations, missing tuning cells, an
/// existing `out` (without `force`), or an I/O failure.
pub(crate) fn merge(
    shards: &[PathBuf],
    out: &Path,
    options: &CrossvalOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CrossvalReport> {
    let Some(first) = shards.first() else {
        bail!(UsageError("merge needs at least one shard folder".into()));
    };
    let manifest = read_manifest(first)?;
    for dir in &shards[1..] {
        if read_manifest(dir)? != manifest {
            bail!(UsageError(format!(
                "{} and {} hold different cross-validations (their {MANIFEST} differ)",
                first.display(),
                dir.display()
            )));
        }
    }
    let config: Config =
        toml::from_str(manifest.trim_start_matches(MANIFEST_HEADING)).map_err(|e| {
            CorruptResults {
                path: first.join(MANIFEST),
                reason: format!(
                    "not a manifest qscale can read: {}",
                    e.to_string().trim().replace('\n', " ")
                ),
            }
        })?;
    crate::output::build_folder(out, options.force, |staging| {
        fs::create_dir_all(staging).with_context(|| format!("creating {}", staging.display()))?;
        write_file_atomic(&staging.join(MANIFEST), manifest.as_bytes())?;
        let plan = Plan::new(&config, staging)?;
        // Each rule's tuning folder is a sweep: its cells are copied (their
        // config.toml rewritten for the final folder) with its manifest.
        for t in &plan.tunings {
            let rule_dir = layout::crossval_tune_dir(Path::new(""), t.rule.name());
            for dir in shards {
                let from = dir.join(&rule_dir);
                let manifest = from.join(sweep::MANIFEST);
                if !manifest.is_file() {
                    continue;
                }
                fs::create_dir_all(&t.dir)
                    .with_context(|| format!("creating {}", t.dir.display()))?;
                if !t.dir.join(sweep::MANIFEST).exists() {
                    fs::copy(&manifest, t.dir.join(sweep::MANIFEST))
                        .with_context(|| format!("copying {}", manifest.display()))?;
                }
                sweep::copy_cells(&from, &t.dir, &out.join(&rule_dir))?;
            }
        }
        let missing: Vec<PathBuf> = plan
            .tunings
            .iter()
            .flat_map(|t| {
                let combos = t.grid.combinations();
                t.grid
                    .cells()
                    .into_iter()
                    .map(move |c| sweep::cell_path(&t.dir, &combos[c.combination], c.seed))
            })
            .filter(|p| !p.exists())
            .collect();
        if let Some(one) = missing.first() {
            bail!(UsageError(format!(
                "{} tuning cells are missing from the shards given (one: {}); merge every shard \
                 of the cross-validation, after each has finished",
                missing.len(),
                one.strip_prefix(staging).unwrap_or(one).display()
            )));
        }
        let unsharded = CrossvalOptions {
            shard: None,
            force: false,
            ..options.clone()
        };
        run_crossval(&config, staging, &unsharded, progress)
    })
}

/// True when `dir` holds a cross-validation (its manifest).
pub(crate) fn is_crossval_folder(dir: &Path) -> bool {
    dir.join(MANIFEST).is_file()
}

fn read_manifest(dir: &Path) -> Result<String> {
    let p = dir.join(MANIFEST);
    if !p.is_file() {
        bail!(UsageError(format!(
            "{} is not a cross-validation folder: it has no {MANIFEST}",
            dir.display()
        )));
    }
    fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FoldConfig;

    fn three() -> Config {
        let mut c = Config::default();
        c.experiment.traces = ["a.csv", "b.csv", "c.csv"].map(PathBuf::from).to_vec();
        c
    }

    #[test]
    fn leave_one_out_tests_on_each_trace_once_and_trains_on_the_others() {
        let f = folds(&three()).unwrap();
        assert_eq!(f.len(), 3);
        for (k, fold) in f.iter().enumerate() {
            assert_eq!(fold.number, k + 1);
            assert_eq!(fold.test, vec![three().experiment.traces[k].clone()]);
            assert_eq!(fold.train.len(), 2);
            assert!(!fold.train.contains(&fold.test[0]));
        }
        let mut one = three();
        one.experiment.traces.truncate(1);
        let err = folds(&one).unwrap_err().to_string();
        assert!(err.contains("at least two experiment.traces"), "{err}");
    }

    #[test]
    fn explicit_folds_are_honoured() {
        let mut c = three();
        c.crossval.folds = vec![FoldConfig {
            train: vec![PathBuf::from("x.csv")],
            test: vec![PathBuf::from("a.csv"), PathBuf::from("b.csv")],
        }];
        let f = folds(&c).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].train, vec![PathBuf::from("x.csv")]);
        assert_eq!(f[0].test.len(), 2);
    }

    #[test]
    fn rules_are_the_tunable_policies_listed() {
        let mut c = three();
        assert_eq!(rules(&c), tune::TUNABLE.to_vec());
        c.experiment.policies = vec![
            PolicyKind::Qlearning,
            PolicyKind::Hpa,
            PolicyKind::Oracle,
            PolicyKind::Step,
        ];
        assert_eq!(rules(&c), vec![PolicyKind::Hpa, PolicyKind::Step]);
    }
}
