//! `qscale tune`: the best parameters of a rule on the training traces, so
//! that comparisons can pit tuned rules (not their defaults) against each
//! other and against the agent.
//!
//! **Search space.** Each rule has a built-in grid ([`builtin_axes`], at
//! most 200 combinations, documented with its reasons in
//! docs/policies.md under "Tuning the rules"). A `[sweep]` axis or a `--set key=a,b,c` axis
//! replaces the built-in axis holding the same key and adds any other key;
//! a plain `--set key=value` of a swept key pins it (its axis is dropped).
//! The Cartesian product is filtered before anything runs: a combination
//! that makes an invalid configuration (a `threshold` with `lower ≥ upper`)
//! is skipped and counted, not fatal; an unknown key or a value of the
//! wrong type is an error. The configuration's own parameters (the
//! "defaults") are always a candidate: when the grid does not hold them
//! they are appended, so the tuned rule never scores worse than the
//! defaults on the training traces.
//!
//! **Runs.** The valid combinations become one zipped axis of a
//! [`crate::study::sweep`] grid and go through the same cell machinery as
//! `qscale sweep` (parallel, resumable, byte-identical for any `--jobs`),
//! with `experiment.traces` = `experiment.train_traces` and
//! `experiment.policies` = the tuned rule. The defaults are also run on
//! their own, with the same traces and seeds.
//!
//! **Objective.** For a combination and a seed `s`, `m_s` is the mean score
//! (cost + penalty, USD) over the training traces; the objective is the
//! mean of `m_s` over `experiment.seeds` (equal to the mean over traces ×
//! seeds), and its ± is the 95 % Student t confidence interval over seeds
//! (the traces are a fixed set, the seeds the random part). The lowest
//! mean wins; ties go to the earlier combination in grid order.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::{Progress, UsageError};
use crate::config::{Config, ConfigError, PolicyKind, SweepConfig};
use crate::experiment::TraceSet;
use crate::layout;
use crate::metrics::{to_csv, SummaryRow};
use crate::output::write_file_atomic;
use crate::stats::Summary;
use crate::study::compare::{self, Plan};
use crate::study::sweep::{self, Axis, Combination, Grid, SweepOptions, SweepReport};

/// The rules `qscale tune` has a built-in grid for (from the policy
/// registry).
pub(crate) use crate::policy::TUNABLE;

/// The built-in search grid of `kind`, slowest axis first (empty for the
/// policies that cannot be tuned), as its module declares it
/// ([`crate::policy::PolicyKind::tuning_grid`]); see docs/policies.md
/// ("Tuning the rules") for each range and why.
pub(crate) fn builtin_axes(kind: PolicyKind) -> Vec<Axis> {
    kind.tuning_grid()
        .into_iter()
        .map(|g| Axis {
            keys: g.keys.iter().map(|k| k.to_string()).collect(),
            points: g.points,
        })
        .collect()
}

/// What to tune and over which grid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TuneSpec {
    /// The rule (one of [`TUNABLE`]).
    pub policy: PolicyKind,
    /// Axes from the command line (`--set key=a,b,c` or `from:to:step`),
    /// after the config's `[sweep]` axes.
    pub axes: Vec<Axis>,
    /// Keys fixed by a plain `--set key=value`: their built-in axes are
    /// dropped.
    pub pinned: Vec<String>,
    /// Search the built-in grid (false: only `[sweep]` and `axes`).
    pub builtin_grid: bool,
}

/// The candidates of a search, before anything runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Search {
    /// The configuration every candidate starts from: the given one with
    /// `experiment.traces` = `experiment.train_traces`,
    /// `experiment.policies` = the tuned rule and no `[sweep]`.
    pub base: Config,
    /// The searched keys, in column order.
    pub keys: Vec<String>,
    /// Valid combinations, in grid order (the defaults appended when the
    /// grid does not hold them).
    pub candidates: Vec<Combination>,
    /// The candidate equal to the base configuration's own parameters, if
    /// they can be written as a combination (an unset optional key
    /// cannot).
    pub default_index: Option<usize>,
    /// Combinations in the grid's Cartesian product.
    pub product: usize,
    /// Combinations skipped as invalid, with the reason.
    pub skipped: Vec<(Combination, String)>,
}

/// Builds the candidate list of `spec` under `config`.
///
/// # Errors
/// A rule without parameters, no training traces, an empty or oversized
/// grid, an unknown key or a value of the wrong type in an axis, or a grid
/// in which every combination is invalid.
pub(crate) fn search(config: &Config, spec: &TuneSpec) -> Result<Search> {
    check_tunable(config, spec)?;
    let mut base = config.clone();
    base.policy.kind = spec.policy;
    base.experiment.policies = vec![spec.policy];
    base.experiment.traces = config.experiment.train_traces.clone();
    base.sweep = SweepConfig::default();
    let grid = search_grid(config, spec, &base.experiment.seeds)?;
    let product = grid.n_combinations();
    let keys = grid.keys();
    let (mut candidates, skipped, mut default_index) = valid_combinations(&base, &grid)?;
    if candidates.is_empty() {
        let first = skipped
            .first()
            .map(|(c, why)| format!("{}: {why}", sweep::combination_dir(c)))
            .unwrap_or_default();
        bail!(UsageError(format!(
            "every one of the {product} combinations makes an invalid config; the first: {first}"
        )));
    }
    if default_index.is_none() {
        if let Some(point) = base_point(&base, &keys) {
            if base.with_overrides(&point).is_ok() {
                default_index = Some(candidates.len());
                candidates.push(point);
            }
        }
    }
    Ok(Search {
        base,
        keys,
        candidates,
        default_index,
        product,
        skipped,
    })
}

/// Refuses a policy without parameters and a config without training
/// traces.
fn check_tunable(config: &Config, spec: &TuneSpec) -> Result<()> {
    if let Some(why) = spec.policy.not_tunable() {
        let names: Vec<&str> = TUNABLE.iter().map(|k| k.name()).collect();
        bail!(UsageError(format!(
            "cannot tune {}: {why}; tune one of {}",
            spec.policy,
            names.join(", ")
        )));
    }
    if config.experiment.train_traces.is_empty() {
        bail!(UsageError(
            "qscale tune needs experiment.train_traces: a rule is tuned on training traces only, \
             because tuning it on the traces it is then compared on (experiment.traces or \
             experiment.test_traces) would be cheating; set e.g. \
             --set 'experiment.train_traces=[\"traces/diurnal-train-5d.csv\"]'"
                .into()
        ));
    }
    Ok(())
}

/// The search grid: the built-in axes of the rule that no user axis or
/// pinned key replaces, then the `[sweep]` and `--set` axes.
fn search_grid(config: &Config, spec: &TuneSpec, seeds: &[u64]) -> Result<Grid> {
    let user = Grid::new(&config.sweep, spec.axes.clone(), seeds)?.axes;
    let user_keys: Vec<&String> = user.iter().flat_map(|a| &a.keys).collect();
    let mut axes: Vec<Axis> = Vec::new();
    if spec.builtin_grid {
        axes.extend(builtin_axes(spec.policy).into_iter().filter(|a| {
            !a.keys
                .iter()
                .any(|k| user_keys.contains(&k) || spec.pinned.contains(k))
        }));
    }
    axes.extend(user);
    if axes.is_empty() {
        bail!(UsageError(format!(
            "nothing to tune for {}: every axis is pinned by a --set or the built-in grid is off; \
             give an axis with --set section.key=a,b,c or [sweep]",
            spec.policy
        )));
    }
    let product = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.points.len()))
        .filter(|&n| n.saturating_mul(seeds.len()) <= sweep::MAX_CELLS);
    if product.is_none() {
        bail!(UsageError(format!(
            "the tuning grid is too large (more than {} cells): narrow an axis or use fewer seeds",
            sweep::MAX_CELLS
        )));
    }
    Ok(Grid {
        axes,
        seeds: seeds.to_vec(),
    })
}

/// The candidates and invalid combinations of `grid`
/// (combinations skipped with the reason) over `base`, and the index of the
/// candidate equal to `base`, if one is.
///
/// # Errors
/// A combination with an unknown key or a value of the wrong type.
fn valid_combinations(base: &Config, grid: &Grid) -> Result<ValidCombinations> {
    let mut candidates = Vec::new();
    let mut skipped = Vec::new();
    let mut default_index = None;
    for combo in grid.combinations() {
        match base.with_overrides(&combo) {
            Ok(cfg) => {
                if default_index.is_none() && cfg == *base {
                    default_index = Some(candidates.len());
                }
                candidates.push(combo);
            }
            Err(e @ (ConfigError::OutOfRange { .. } | ConfigError::Inconsistent(_))) => {
                skipped.push((combo, e.to_string()));
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "tuning combination {}",
                    sweep::combination_dir(&combo)
                )))
            }
        }
    }
    Ok((candidates, skipped, default_index))
}

/// Candidates, skipped combinations with the reason, the defaults' index.
type ValidCombinations = (Vec<Combination>, Vec<(Combination, String)>, Option<usize>);

/// The base configuration's values of `keys`, if every one is set.
fn base_point(base: &Config, keys: &[String]) -> Option<Combination> {
    let table = toml::Value::try_from(base).ok()?;
    keys.iter()
        .map(|key| {
            let (section, field) = key.split_once('.')?;
            let value = table.get(section)?.get(field)?.clone();
            Some((key.clone(), value))
        })
        .collect()
}

/// The objective of one combination: the mean score over the training
/// traces, per seed, summarised over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Objective {
    /// Runs (training traces × seeds).
    pub runs: usize,
    /// Mean score (cost + penalty) over traces × seeds, USD.
    pub score_mean: f64,
    /// Sample standard deviation over seeds of the per-seed mean score, USD.
    pub score_sd: f64,
    /// Half-width of the 95 % confidence interval of the mean over seeds
    /// (Student t), USD; 0 with one seed.
    pub score_ci95: f64,
    /// Mean VM cost over traces × seeds, USD.
    pub cost_mean: f64,
    /// Mean penalty over traces × seeds, USD.
    pub penalty_mean: f64,
    /// Mean violation rate over traces × seeds.
    pub violation_rate_mean: f64,
}

impl Objective {
    /// Summarises runs grouped by seed (`per_seed[s]`: one row per trace).
    pub fn of(per_seed: &[Vec<SummaryRow>]) -> Objective {
        let means: Vec<f64> = per_seed
            .iter()
            .map(|rows| Summary::of(&rows.iter().map(|r| r.score_usd).collect::<Vec<_>>()).mean)
            .collect();
        let score = Summary::of(&means);
        let all: Vec<&SummaryRow> = per_seed.iter().flatten().collect();
        let mean = |f: fn(&SummaryRow) -> f64| {
            Summary::of(&all.iter().map(|r| f(r)).collect::<Vec<_>>()).mean
        };
        Objective {
            runs: all.len(),
            score_mean: score.mean,
            score_sd: score.sd,
            score_ci95: score.ci95,
            cost_mean: mean(|r| r.cost_usd),
            penalty_mean: mean(|r| r.penalty_usd),
            violation_rate_mean: mean(|r| r.violation_rate),
        }
    }
}

/// How to run a search.
#[derive(Debug, Clone, Default)]
pub(crate) struct TuneOptions {
    /// Worker threads (`None` = all cores).
    pub jobs: Option<usize>,
    /// Replace an existing folder that holds something else.
    pub force: bool,
}

/// What a search found.
#[derive(Debug, Clone)]
pub(crate) struct TuneReport {
    /// The candidates and the base configuration.
    pub search: Search,
    /// The objective of each candidate, in candidate order.
    pub objectives: Vec<Objective>,
    /// Candidate indices from best to worst (ties in grid order).
    pub ranking: Vec<usize>,
    /// The objective of the base configuration's own parameters.
    pub defaults: Objective,
    /// The defaults' runs, trace-major then seed.
    pub default_runs: Vec<SummaryRow>,
    /// What the sweep machinery did (cells run and resumed).
    pub sweep: SweepReport,
    /// Training traces that are also in `experiment.traces` or
    /// `experiment.test_traces` (tuned on data it is then evaluated on).
    pub overlap: Vec<PathBuf>,
}

impl TuneReport {
    /// The index of the best candidate.
    pub(crate) fn best(&self) -> usize {
        self.ranking[0]
    }

    /// The best combination.
    pub(crate) fn best_combination(&self) -> &Combination {
        &self.search.candidates[self.best()]
    }

    /// The 1-based rank of candidate `i`.
    pub(crate) fn rank_of(&self, i: usize) -> usize {
        self.ranking
            .iter()
            .position(|&j| j == i)
            .map_or(0, |r| r + 1)
    }
}

/// Runs a search into `out` and writes `tuned.toml`, `objective.csv`,
/// `defaults.csv` and `config.toml` next to the sweep's files (`cells/`,
/// `summary.csv`, `aggregate.csv`, `best.md`, `sweep.toml`). Rerunning the
/// same search on the same folder resumes it. `progress(done, total)` is
/// called as cells finish.
///
/// # Errors
/// As [`search`]; a folder holding something else (without `force`); a
/// trace that cannot be read; an I/O failure.
pub(crate) fn run_tune(
    config: &Config,
    spec: &TuneSpec,
    out: &Path,
    options: &TuneOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<TuneReport> {
    let search = search(config, spec)?;
    let seeds = search.base.experiment.seeds.clone();
    let grid = candidate_grid(&search);
    let sweep_options = SweepOptions {
        jobs: options.jobs,
        shard: None,
        force: options.force,
        first_index: 0,
    };
    let sweep_report = sweep::run_sweep(&search.base, &grid, out, &sweep_options, progress)?;
    let (objectives, ranking) = rank(&search, out)?;

    let default_runs = run_defaults(&search.base, options.jobs)?;
    let n_seeds = seeds.len().max(1);
    let per_seed: Vec<Vec<SummaryRow>> = (0..seeds.len())
        .map(|s| {
            default_runs
                .iter()
                .skip(s)
                .step_by(n_seeds)
                .cloned()
                .collect()
        })
        .collect();
    let defaults = Objective::of(&per_seed);

    let c = &config.experiment;
    let overlap = c
        .train_traces
        .iter()
        .filter(|t| c.traces.contains(t) || c.test_traces.contains(t))
        .cloned()
        .collect();
    let report = TuneReport {
        search,
        objectives,
        ranking,
        defaults,
        default_runs,
        sweep: sweep_report,
        overlap,
    };
    write_file_atomic(&out.join(layout::OBJECTIVE), &objective_csv(&report)?)?;
    write_file_atomic(&out.join(layout::DEFAULTS), &to_csv(&report.default_runs)?)?;
    write_file_atomic(
        &out.join(layout::CONFIG),
        report.search.base.to_toml_in(out).as_bytes(),
    )?;
    write_file_atomic(
        &out.join(layout::TUNED_TOML),
        tuned_toml(&report).as_bytes(),
    )?;
    Ok(report)
}

/// A finished tuning.
#[derive(Debug, Clone)]
pub(crate) struct TuneOutcome {
    /// What the search found.
    pub report: TuneReport,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// [`run_tune`] with its cells counted by `progress`, timed.
///
/// # Errors
/// As [`run_tune`].
pub(crate) fn tune_folder(
    config: &Config,
    spec: &TuneSpec,
    out: &Path,
    options: &TuneOptions,
    progress: &dyn Progress,
) -> Result<TuneOutcome> {
    let started = std::time::Instant::now();
    let report = super::phase(progress, "tuning", |update| {
        run_tune(config, spec, out, options, update)
    })?;
    Ok(TuneOutcome {
        report,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The sweep grid of a search: its candidates as one zipped axis, over
/// the base configuration's seeds.
pub(crate) fn candidate_grid(search: &Search) -> Grid {
    Grid {
        axes: vec![Axis {
            keys: search.keys.clone(),
            points: search
                .candidates
                .iter()
                .map(|c| c.iter().map(|(_, v)| v.clone()).collect())
                .collect(),
        }],
        seeds: search.base.experiment.seeds.clone(),
    }
}

/// The objective of every candidate of `search` from the finished cells of
/// its sweep in `out`, and the candidates ranked best first (lowest mean
/// score; ties in grid order).
///
/// # Errors
/// A cell that is missing or cannot be read.
pub(crate) fn rank(search: &Search, out: &Path) -> Result<(Vec<Objective>, Vec<usize>)> {
    rank_on(search, out, None)
}

/// As [`rank`], counting only the runs on the traces named in `traces`
/// (all runs when `None`): a sweep over several traces ranks its candidates
/// for any subset of them ([`crate::study::crossval`] tunes each fold this way).
///
/// # Errors
/// A cell that is missing or cannot be read, or a subset that leaves a
/// cell without runs.
pub(crate) fn rank_on(
    search: &Search,
    out: &Path,
    traces: Option<&[String]>,
) -> Result<(Vec<Objective>, Vec<usize>)> {
    let seeds = &search.base.experiment.seeds;
    let mut objectives = Vec::with_capacity(search.candidates.len());
    for combo in &search.candidates {
        let mut per_seed = Vec::with_capacity(seeds.len());
        for &seed in seeds {
            let path = sweep::cell_path(out, combo, seed).join(layout::SUMMARY);
            let mut rows = read_cell(&path)?;
            if let Some(names) = traces {
                rows.retain(|r| names.contains(&r.trace));
                if rows.len() != names.len() {
                    bail!(crate::output::CorruptResults {
                        path,
                        reason: format!(
                            "holds {} of the runs on {} needed: delete its folder and rerun",
                            rows.len(),
                            names.join(", ")
                        ),
                    });
                }
            }
            per_seed.push(rows);
        }
        objectives.push(Objective::of(&per_seed));
    }
    let mut ranking: Vec<usize> = (0..objectives.len()).collect();
    ranking.sort_by(|&a, &b| {
        objectives[a]
            .score_mean
            .total_cmp(&objectives[b].score_mean)
            .then(a.cmp(&b))
    });
    Ok((objectives, ranking))
}

fn read_cell(path: &Path) -> Result<Vec<SummaryRow>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    reader
        .deserialize()
        .collect::<std::result::Result<Vec<SummaryRow>, _>>()
        .with_context(|| format!("reading {}", path.display()))
}

/// The base configuration on the training traces, every seed.
fn run_defaults(base: &Config, jobs: Option<usize>) -> Result<Vec<SummaryRow>> {
    let traces = TraceSet::load(&compare::all_trace_paths(base)?)?;
    let plan = Plan::new(base, &traces)?;
    let run = || compare::compare(base, &plan, &traces, &compare::KeepNothing, &|| {});
    let result = crate::workers::with_workers(jobs, run)??;
    Ok(result.runs)
}

/// One row of `objective.csv` after its `param_<key>` columns: a
/// candidate's [`Objective`], its rank and whether it is the defaults.
/// Numbers are written as Rust prints them (money rounded as in
/// [`crate::csv_number::round_usd`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
struct ObjectiveRow {
    runs: usize,
    #[serde(serialize_with = "usd_text")]
    score_mean: f64,
    #[serde(serialize_with = "usd_text")]
    score_sd: f64,
    #[serde(serialize_with = "usd_text")]
    score_ci95: f64,
    #[serde(serialize_with = "usd_text")]
    cost_mean: f64,
    #[serde(serialize_with = "usd_text")]
    penalty_mean: f64,
    #[serde(serialize_with = "number_text")]
    violation_rate_mean: f64,
    /// 1 for the best candidate.
    rank: usize,
    is_default: bool,
}

fn usd_text<S: serde::Serializer>(x: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&crate::csv_number::round_usd(*x))
}

fn number_text<S: serde::Serializer>(x: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(x)
}

/// `objective.csv`: one row per candidate, in grid order.
fn objective_csv(report: &TuneReport) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let params: Vec<String> = report
        .search
        .keys
        .iter()
        .map(|k| format!("param_{k}"))
        .collect();
    let (columns, _) = crate::metrics::csv_record(&ObjectiveRow::default())?;
    w.write_record(params.iter().map(String::as_str).chain(columns.iter()))?;
    for (i, (combo, o)) in report
        .search
        .candidates
        .iter()
        .zip(&report.objectives)
        .enumerate()
    {
        let row = ObjectiveRow {
            runs: o.runs,
            score_mean: o.score_mean,
            score_sd: o.score_sd,
            score_ci95: o.score_ci95,
            cost_mean: o.cost_mean,
            penalty_mean: o.penalty_mean,
            violation_rate_mean: o.violation_rate_mean,
            rank: report.rank_of(i),
            is_default: report.search.default_index == Some(i),
        };
        let (_, fields) = crate::metrics::csv_record(&row)?;
        let values: Vec<String> = combo.iter().map(|(_, v)| value_text(v)).collect();
        w.write_record(values.iter().map(String::as_str).chain(fields.iter()))?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `--set` flags that reproduce `combo`, quoted for a POSIX shell
/// where needed: `--set policy.upper=0.9 --set 'policy.scale_in_steps=[…]'`.
pub(crate) fn set_flags(combo: &Combination) -> String {
    combo
        .iter()
        .map(|(key, value)| {
            let text = match value {
                // A bare word is read back as the same string.
                toml::Value::String(s)
                    if crate::config::parse_value(s) == toml::Value::String(s.clone()) =>
                {
                    s.clone()
                }
                other => other.to_string(),
            };
            let arg = format!("{key}={text}");
            let plain = arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-+=:/,".contains(c));
            if plain {
                format!("--set {arg}")
            } else {
                format!("--set '{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `tuned.toml`: the best combination as a config fragment (one table per
/// section, `[policy]` for the built-in grids), with its objective, the
/// defaults' and the `--set` flags in comments. `policy.kind` is left out,
/// so fragments of several rules can be merged into one experiment.
pub(crate) fn tuned_toml(report: &TuneReport) -> String {
    let s = &report.search;
    let best = report.best();
    let o = &report.objectives[best];
    let d = &report.defaults;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# qscale tune: the best `{}` parameters on the training traces",
        s.base.policy.kind
    );
    let _ = writeln!(
        out,
        "# (experiment.train_traces, {} trace(s) x {} seed(s): {:?})",
        s.base.experiment.traces.len(),
        s.base.experiment.seeds.len(),
        s.base.experiment.seeds
    );
    for t in &s.base.experiment.traces {
        let _ = writeln!(out, "#   {}", t.display());
    }
    let _ = writeln!(
        out,
        "# objective: mean score (cost + penalty, USD) over training traces x seeds;\n\
         # ± is the 95 % confidence interval over seeds (Student t)"
    );
    let _ = writeln!(
        out,
        "# tuned:    {:.4} ± {:.4} USD (rank 1 of {} combinations)",
        o.score_mean,
        o.score_ci95,
        s.candidates.len()
    );
    let _ = writeln!(
        out,
        "# defaults: {:.4} ± {:.4} USD (the experiment's own [policy]){}",
        d.score_mean,
        d.score_ci95,
        improvement(o.score_mean, d.score_mean)
            .map_or_else(String::new, |p| format!("; tuned is {p:.1} % lower"))
    );
    let _ = writeln!(
        out,
        "# Merge the tables below into an experiment (policy.kind is left to it), or pass\n#   {}",
        set_flags(&s.candidates[best])
    );
    let mut sections: Vec<&str> = Vec::new();
    for (key, _) in &s.candidates[best] {
        let section = key.split_once('.').map_or(key.as_str(), |(s, _)| s);
        if !sections.contains(&section) {
            sections.push(section);
        }
    }
    for section in sections {
        let _ = writeln!(out, "[{section}]");
        for (key, value) in &s.candidates[best] {
            if let Some((sec, field)) = key.split_once('.') {
                if sec == section {
                    let _ = writeln!(out, "{field} = {value}");
                }
            }
        }
    }
    out
}

/// How much higher `default` is than `tuned`, in percent of `default`.
fn improvement(tuned: f64, default: f64) -> Option<f64> {
    (default > 0.0).then(|| 100.0 * (default - tuned) / default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(policy: PolicyKind) -> TuneSpec {
        TuneSpec {
            policy,
            axes: Vec::new(),
            pinned: Vec::new(),
            builtin_grid: true,
        }
    }

    fn with_train() -> Config {
        let mut c = Config::default();
        c.experiment.train_traces = vec![PathBuf::from("traces/train.csv")];
        c
    }

    #[test]
    fn every_builtin_grid_is_small_valid_and_holds_the_defaults() {
        for kind in TUNABLE {
            let s = search(&with_train(), &spec(kind)).unwrap();
            assert!(s.candidates.len() <= 200, "{kind}: {}", s.candidates.len());
            assert!(s.candidates.len() >= 10, "{kind}: {}", s.candidates.len());
            assert!(s.default_index.is_some(), "{kind}");
            assert_eq!(
                s.candidates.len() + s.skipped.len(),
                s.product,
                "{kind}: the defaults are in the grid itself"
            );
            for c in &s.candidates {
                let cfg = s.base.with_overrides(c).unwrap();
                assert_eq!(cfg.policy.kind, kind);
            }
        }
    }

    #[test]
    fn threshold_combinations_with_lower_at_or_above_upper_are_skipped() {
        let mut sp = spec(PolicyKind::Threshold);
        sp.axes = vec![sweep::cli_axis("policy.upper=0.3,0.5").unwrap().unwrap()];
        let s = search(&with_train(), &sp).unwrap();
        // lower 0.1..0.5 x upper 0.3, 0.5: 2 + 4 valid pairs, x 8 others.
        assert_eq!(s.product, 80);
        assert_eq!(s.candidates.len(), 48 + 1, "the defaults appended");
        assert_eq!(s.skipped.len(), 32);
        assert!(
            s.skipped[0].1.contains("policy.lower"),
            "{}",
            s.skipped[0].1
        );
        for c in &s.candidates {
            let cfg = s.base.with_overrides(c).unwrap();
            assert!(cfg.policy.threshold.lower < cfg.policy.threshold.upper);
        }
        let full = search(&with_train(), &spec(PolicyKind::Threshold)).unwrap();
        assert_eq!((full.product, full.candidates.len()), (200, 200));
    }

    #[test]
    fn a_user_axis_replaces_the_builtin_one_and_a_new_key_extends_the_grid() {
        let mut sp = spec(PolicyKind::Threshold);
        sp.axes = vec![
            sweep::cli_axis("policy.upper=0.6,0.95").unwrap().unwrap(),
            sweep::cli_axis("cloud.boot_s=60,100").unwrap().unwrap(),
        ];
        sp.pinned = vec!["policy.periods".into()];
        let s = search(&with_train(), &sp).unwrap();
        assert_eq!(
            s.keys,
            [
                "policy.lower",
                "policy.step",
                "policy.cooldown_s",
                "policy.upper",
                "cloud.boot_s"
            ]
        );
        // 5 lowers x 2 steps x 2 cooldowns x 2 uppers x 2 boots, all valid;
        // the defaults (upper 0.8) are appended.
        assert_eq!(s.product, 80);
        assert_eq!(s.candidates.len(), 81);
        assert_eq!(s.default_index, Some(80));
        let d = &s.candidates[80];
        assert_eq!(d[3], ("policy.upper".to_string(), toml::Value::Float(0.8)));
    }

    #[test]
    fn only_given_axes_are_searched_without_the_builtin_grid() {
        let mut sp = spec(PolicyKind::Threshold);
        sp.builtin_grid = false;
        sp.axes = vec![
            sweep::cli_axis("policy.upper=0.5,0.7").unwrap().unwrap(),
            sweep::cli_axis("policy.lower=0.3,0.6").unwrap().unwrap(),
        ];
        let s = search(&with_train(), &sp).unwrap();
        assert_eq!(s.product, 4);
        assert_eq!(s.skipped.len(), 1);
        assert_eq!(s.candidates.len(), 4, "3 valid + the defaults");
        assert_eq!(s.default_index, Some(3));
        sp.axes.clear();
        let err = search(&with_train(), &sp).unwrap_err().to_string();
        assert!(err.contains("nothing to tune"), "{err}");
    }

    #[test]
    fn an_unknown_key_aborts_but_an_all_invalid_grid_is_named() {
        let mut sp = spec(PolicyKind::Threshold);
        sp.builtin_grid = false;
        sp.axes = vec![sweep::cli_axis("policy.uper=0.5,0.7").unwrap().unwrap()];
        let err = format!("{:#}", search(&with_train(), &sp).unwrap_err());
        assert!(err.contains("uper"), "{err}");
        sp.axes = vec![sweep::cli_axis("policy.lower=0.8,0.9").unwrap().unwrap()];
        let err = search(&with_train(), &sp).unwrap_err().to_string();
        assert!(err.contains("every one of the 2 combinations"), "{err}");
    }

    #[test]
    fn tuning_needs_training_traces_and_a_rule_with_parameters() {
        let err = search(&Config::default(), &spec(PolicyKind::Threshold))
            .unwrap_err()
            .to_string();
        assert!(err.contains("experiment.train_traces"), "{err}");
        assert!(err.contains("cheating"), "{err}");
        for kind in [PolicyKind::Oracle, PolicyKind::Qlearning] {
            let err = search(&with_train(), &spec(kind)).unwrap_err().to_string();
            assert!(err.contains("cannot tune"), "{err}");
        }
    }

    #[test]
    fn set_flags_quote_only_what_the_shell_needs() {
        let combo: Combination = vec![
            ("policy.upper".into(), toml::Value::Float(0.9)),
            (
                "policy.forecaster".into(),
                toml::Value::String("seasonal-naive".into()),
            ),
            ("policy.vms".into(), toml::Value::String("3".into())),
            (
                "policy.scale_in_steps".into(),
                crate::policy::scaled_steps(crate::policy::default_scale_in_steps(), 2),
            ),
        ];
        assert_eq!(
            set_flags(&combo),
            "--set policy.upper=0.9 --set policy.forecaster=seasonal-naive \
             --set 'policy.vms=\"3\"' \
             --set 'policy.scale_in_steps=[{ upper = 0.0, adjustment = -2 }]'"
        );
    }

    #[test]
    fn tuned_toml_is_a_config_fragment_with_the_best_values() {
        let s = search(&with_train(), &spec(PolicyKind::Step)).unwrap();
        let n = s.candidates.len();
        let objective = |score: f64| Objective {
            runs: 1,
            score_mean: score,
            score_sd: 0.0,
            score_ci95: 0.0,
            cost_mean: score,
            penalty_mean: 0.0,
            violation_rate_mean: 0.0,
        };
        let objectives: Vec<Objective> = (0..n).map(|i| objective(100.0 + i as f64)).collect();
        let report = TuneReport {
            objectives,
            ranking: (0..n).rev().collect(),
            defaults: objective(150.0),
            default_runs: Vec::new(),
            sweep: SweepReport {
                cells: n,
                skipped: 0,
                ran: n,
                aggregated: true,
            },
            overlap: Vec::new(),
            search: s,
        };
        let text = tuned_toml(&report);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tuned.toml");
        std::fs::write(&path, &text).unwrap();
        let cfg = Config::load(Some(&path), &[]).unwrap();
        let best = report
            .search
            .base
            .with_overrides(report.best_combination())
            .unwrap();
        assert_eq!(
            cfg.policy.aws_step.scale_out_threshold,
            best.policy.aws_step.scale_out_threshold
        );
        assert_eq!(
            cfg.policy.aws_step.scale_in_steps,
            best.policy.aws_step.scale_in_steps
        );
        assert_eq!(cfg.policy.kind, PolicyKind::Threshold, "kind is left out");
        assert!(text.contains("[policy]\n"), "{text}");
        assert!(text.contains("# defaults: 150.0000"), "{text}");
        assert_eq!(report.rank_of(n - 1), 1);
    }
}
