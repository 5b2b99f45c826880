//! `qscale compare`: every policy of `experiment.policies` on every trace of
//! `experiment.traces`, for every seed of `experiment.seeds`.
//!
//! Runs are independent and execute in parallel (rayon); results are
//! collected in grid order (trace, then policy, then seed), so the outputs
//! are byte-identical whatever the thread count. A learning policy is
//! trained once per seed on `experiment.train_traces` and then evaluated
//! greedily on every trace. When the oracle is among the policies, every
//! run's regret is its score minus the oracle's on the same trace and seed.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{bail, Result};
use rayon::prelude::*;

use super::{Progress, UsageError};
use crate::agent::{self, QAgent};
use crate::cloud::bound::score_lower_bound;
use crate::cloud::Workload;
use crate::config::{Config, PolicyKind};
use crate::experiment::{self, TraceSet};
use crate::layout;
pub(crate) use crate::layout::AggregateRow;
use crate::metrics::{to_csv, SummaryRow};
use crate::output::{CsvStream, OutputDir};
use crate::policy::{Learner, Policy};

/// What a comparison produced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comparison {
    /// One summary per run, in grid order.
    pub runs: Vec<SummaryRow>,
    /// One row per policy × trace, in grid order.
    pub aggregate: Vec<AggregateRow>,
}

/// The policies and traces a comparison covers.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Policies, in the order given.
    pub policies: Vec<PolicyKind>,
    /// Prepared traces, in the order given.
    pub workloads: Vec<Arc<Workload>>,
    /// Master seeds.
    pub seeds: Vec<u64>,
}

impl Plan {
    /// The plan of `config`: `experiment.policies` (all rules when empty),
    /// `experiment.traces` (`workload.trace` when empty), `experiment.seeds`,
    /// with traces prepared from `traces`.
    ///
    /// # Errors
    /// No trace at all, a trace that cannot be prepared, or two traces with
    /// the same name.
    pub fn new(config: &Config, traces: &TraceSet) -> Result<Plan> {
        let workloads = traces.workloads(&trace_paths(config)?, config)?;
        let mut names = HashSet::new();
        for w in &workloads {
            if !names.insert(w.name.clone()) {
                bail!(UsageError(format!(
                    "two traces are named `{}`: rename one so their results do not collide",
                    w.name
                )));
            }
        }
        let mut policies = config.experiment.policies.clone();
        if policies.is_empty() {
            policies = PolicyKind::ALL
                .into_iter()
                .filter(|k| *k != PolicyKind::Qlearning)
                .collect();
        }
        Ok(Plan {
            policies,
            workloads,
            seeds: config.experiment.seeds.clone(),
        })
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        self.policies.len() * self.workloads.len() * self.seeds.len()
    }
}

/// The trace files a comparison under `config` replays:
/// `experiment.traces`, or `workload.trace` when that list is empty.
///
/// # Errors
/// Neither is set.
pub(crate) fn trace_paths(config: &Config) -> Result<Vec<PathBuf>> {
    if !config.experiment.traces.is_empty() {
        return Ok(config.experiment.traces.clone());
    }
    match &config.workload.trace {
        Some(t) => Ok(vec![t.clone()]),
        None => bail!(UsageError(
            "nothing to compare on: set experiment.traces (or workload.trace)".into()
        )),
    }
}

/// Every trace file `config` may need: the compared ones and the agent's
/// training traces.
///
/// # Errors
/// As [`trace_paths`].
pub(crate) fn all_trace_paths(config: &Config) -> Result<Vec<PathBuf>> {
    let mut paths = trace_paths(config)?;
    paths.extend(config.experiment.train_traces.iter().cloned());
    Ok(paths)
}

/// What a caller keeps of each run of a comparison. Both methods are
/// called from worker threads, in any order.
pub(crate) trait RunSink: Sync {
    /// Where the steps of `policy` on `trace` with `seed` are written as
    /// the run goes, if anywhere (called before the run).
    ///
    /// # Errors
    /// The file cannot be created.
    fn steps(&self, policy: &str, trace: &str, seed: u64) -> Result<Option<CsvStream>>;
    /// The summary of a finished run.
    ///
    /// # Errors
    /// It cannot be saved.
    fn finished(&self, summary: &SummaryRow) -> Result<()>;
}

/// A [`RunSink`] that keeps nothing (the comparison's rows are returned).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeepNothing;

impl RunSink for KeepNothing {
    fn steps(&self, _: &str, _: &str, _: u64) -> Result<Option<CsvStream>> {
        Ok(None)
    }
    fn finished(&self, _: &SummaryRow) -> Result<()> {
        Ok(())
    }
}

/// Runs the plan (`traces` holds the training traces of a learning
/// policy). `sink` saves what the caller keeps of each run; `progress` is
/// called once per finished run.
///
/// # Errors
/// A training trace that cannot be loaded, or an error from `sink`.
pub(crate) fn compare(
    config: &Config,
    plan: &Plan,
    traces: &TraceSet,
    sink: &dyn RunSink,
    progress: &(dyn Fn() + Sync),
) -> Result<Comparison> {
    // Learners are trained once per seed, before the runs.
    let agents: Vec<Option<QAgent>> = if plan.policies.contains(&PolicyKind::Qlearning) {
        if config.experiment.train_traces.is_empty() {
            bail!(UsageError(
                "qlearning needs experiment.train_traces to train on before it is compared".into()
            ));
        }
        let mut learn_config = config.clone();
        learn_config.policy.kind = PolicyKind::Qlearning;
        let train_on = traces.workloads(&config.experiment.train_traces, config)?;
        plan.seeds
            .par_iter()
            .map(|&seed| {
                let mut a = agent::train(&learn_config, &train_on, seed, |_, _| {}).agent;
                a.set_exploring(false);
                Some(a)
            })
            .collect()
    } else {
        vec![None; plan.seeds.len()]
    };

    let grid: Vec<(usize, usize, usize)> = (0..plan.workloads.len())
        .flat_map(|t| {
            (0..plan.policies.len())
                .flat_map(move |p| (0..plan.seeds.len()).map(move |s| (t, p, s)))
        })
        .collect();
    let mut runs: Vec<SummaryRow> = grid
        .par_iter()
        .map(|&(t, p, s)| -> Result<SummaryRow> {
            let workload = &plan.workloads[t];
            let seed = plan.seeds[s];
            let mut run_config = config.clone();
            run_config.policy.kind = plan.policies[p];
            let mut steps = sink.steps(plan.policies[p].name(), &workload.name, seed)?;
            let summary = match &agents[s] {
                Some(agent) if plan.policies[p] == PolicyKind::Qlearning => {
                    let mut agent = agent.clone();
                    run_one(&run_config, &mut agent, workload, seed, &mut steps)?
                }
                _ => {
                    let mut rule = experiment::build_policy(&run_config, workload, seed)?;
                    run_one(&run_config, &mut rule, workload, seed, &mut steps)?
                }
            };
            if let Some(steps) = steps {
                steps.finish()?;
            }
            sink.finished(&summary)?;
            progress();
            Ok(summary)
        })
        .collect::<Result<_>>()?;

    add_regret(&mut runs, plan, config);
    let aggregate = aggregate(&runs, plan);
    Ok(Comparison { runs, aggregate })
}

/// One run, its steps streamed into `steps` if given.
fn run_one<P: Policy + ?Sized>(
    config: &Config,
    policy: &mut P,
    workload: &Arc<Workload>,
    seed: u64,
    steps: &mut Option<CsvStream>,
) -> Result<SummaryRow> {
    experiment::run_streaming(config, policy, Arc::clone(workload), seed, |step| {
        steps.as_mut().map_or(Ok(()), |w| w.push(step))
    })
}

/// Fills `regret_usd` from the oracle's run on the same trace and seed,
/// and `bound_usd` with the lower bound on any policy's score there.
fn add_regret(runs: &mut [SummaryRow], plan: &Plan, config: &Config) {
    let Some(oracle) = plan.policies.iter().position(|k| *k == PolicyKind::Oracle) else {
        return;
    };
    let (n_p, n_s) = (plan.policies.len(), plan.seeds.len());
    let cells: Vec<(usize, usize)> = (0..plan.workloads.len())
        .flat_map(|t| (0..n_s).map(move |s| (t, s)))
        .collect();
    let bounds: Vec<Option<f64>> = cells
        .par_iter()
        .map(|&(t, s)| score_lower_bound(config.into(), &plan.workloads[t], plan.seeds[s]))
        .collect();
    for (&(t, s), bound) in cells.iter().zip(bounds) {
        let best = runs[(t * n_p + oracle) * n_s + s].score_usd;
        for p in 0..n_p {
            let row = &mut runs[(t * n_p + p) * n_s + s];
            row.regret_usd = Some(row.score_usd - best);
            row.bound_usd = bound.map(crate::csv_number::round_usd);
        }
    }
}

/// Aggregates runs (in grid order) per policy × trace.
fn aggregate(runs: &[SummaryRow], plan: &Plan) -> Vec<AggregateRow> {
    runs.chunks(plan.seeds.len().max(1))
        .map(|group| AggregateRow::of(&group.iter().collect::<Vec<_>>()))
        .collect()
}

/// A percentage for the Markdown table, `–` when undefined.
fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_string(), |v| format!("{v:.1}%"))
}

/// The aggregate as a Markdown table, the best mean score per trace among
/// the policies other than the oracle in bold.
pub(crate) fn markdown(description: &str, rows: &[AggregateRow]) -> String {
    let mut out = String::new();
    if !description.is_empty() {
        out.push_str(&format!("{description}\n\n"));
    }
    out.push_str("| trace | policy | runs | score (USD), mean ± 95 % CI | cost (USD) | violation rate | drops | mean VMs | θU | θO | τU | τO | jitter (/h) | regret (USD) |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in rows {
        // The oracle is a bound, not a contender: bold the best of the
        // others (the oracle only when it ran alone).
        let same_trace = || rows.iter().filter(|r| r.trace == row.trace);
        let contenders = || same_trace().filter(|r| r.policy != PolicyKind::Oracle.name());
        let best = if contenders().next().is_some() {
            contenders()
                .map(|r| r.score_mean)
                .fold(f64::INFINITY, f64::min)
        } else {
            same_trace()
                .map(|r| r.score_mean)
                .fold(f64::INFINITY, f64::min)
        };
        let bold = |s: String| {
            if row.score_mean == best
                && (row.policy != PolicyKind::Oracle.name() || contenders().next().is_none())
            {
                format!("**{s}**")
            } else {
                s
            }
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.4} | {:.4}% | {:.0} | {:.2} | {} | {} | {} | {} | {} | {} |\n",
            row.trace,
            bold(row.policy.clone()),
            row.runs,
            bold(format!("{:.4} ± {:.4}", row.score_mean, row.score_ci95)),
            row.cost_mean,
            100.0 * row.violation_rate_mean,
            row.drops_mean,
            row.mean_vms_mean,
            percent(row.underprov_accuracy_mean),
            percent(row.overprov_accuracy_mean),
            percent(row.underprov_timeshare_mean),
            percent(row.overprov_timeshare_mean),
            row.jitter_mean
                .map_or_else(|| "–".to_string(), |j| format!("{j:.1}")),
            row.regret_mean
                .map_or_else(|| "–".to_string(), |r| format!("{r:.4}")),
        ));
    }
    out.push_str(
        "\nθU, θO: mean shortfall and excess of running VMs relative to the VMs the load demands; \
         τU, τO: share of the time under- and over-provisioned; jitter: supply changes less demand \
         changes per hour (SPEC RG elasticity metrics, demand = fewest VMs with p95 within the SLO).\n",
    );
    out
}

/// Which runs of a comparison keep their `steps.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum StepsKept {
    /// None (summaries only).
    None,
    /// The runs of the first seed.
    #[default]
    FirstSeed,
    /// Every run.
    All,
}

/// Where a comparison goes.
#[derive(Debug, Clone)]
pub(crate) struct CompareOptions {
    /// The results folder.
    pub out: PathBuf,
    /// Worker threads (`None` = all cores).
    pub jobs: Option<usize>,
    /// Which runs keep their steps.
    pub steps: StepsKept,
    /// Replace an existing results folder.
    pub force: bool,
}

/// A finished comparison folder.
#[derive(Debug, Clone)]
pub(crate) struct CompareOutcome {
    /// The aggregate as the Markdown table of `summary.md`.
    pub table: String,
    /// The folder written.
    pub dir: PathBuf,
}

/// Runs the comparison of `config` into a results folder: `summary.csv`,
/// `aggregate.csv`, `summary.md`, `config.toml`, and each run's folder
/// ([`layout::compare_run_dir`]). `progress` counts finished runs.
///
/// # Errors
/// As [`Plan::new`] and [`compare`]; an existing folder (without
/// `force`), or an I/O failure.
pub(crate) fn compare_folder(
    config: &Config,
    options: &CompareOptions,
    progress: &dyn Progress,
) -> Result<CompareOutcome> {
    let traces = TraceSet::load(&all_trace_paths(config)?)?;
    let plan = Plan::new(config, &traces)?;
    let out = OutputDir::create(&options.out, options.force)?;
    let sink = CompareFolder {
        out: &out,
        first_seed: config.experiment.seeds.first().copied(),
        steps: options.steps,
    };
    progress.start("comparing", plan.len());
    let done = AtomicUsize::new(0);
    let tick = || progress.update(done.fetch_add(1, Ordering::SeqCst) + 1, plan.len());
    let result = crate::workers::with_workers(options.jobs, || {
        compare(config, &plan, &traces, &sink, &tick)
    })??;
    progress.finish();
    let table = markdown(&config.experiment.description, &result.aggregate);
    out.write(layout::SUMMARY, &to_csv(&result.runs)?)?;
    out.write(layout::AGGREGATE, &to_csv(&result.aggregate)?)?;
    out.write(layout::SUMMARY_MD, table.as_bytes())?;
    out.write(layout::CONFIG, config.to_toml_in(out.target()).as_bytes())?;
    let dir = out.commit()?;
    Ok(CompareOutcome { table, dir })
}

/// A comparison folder's runs ([`layout::compare_run_dir`]) with the run's
/// summary.csv and, as [`StepsKept`] says, its steps.csv.
struct CompareFolder<'a> {
    out: &'a OutputDir,
    first_seed: Option<u64>,
    steps: StepsKept,
}

impl RunSink for CompareFolder<'_> {
    fn steps(&self, policy: &str, trace: &str, seed: u64) -> Result<Option<CsvStream>> {
        let keep = match self.steps {
            StepsKept::None => false,
            StepsKept::FirstSeed => self.first_seed == Some(seed),
            StepsKept::All => true,
        };
        keep.then(|| {
            let dir = layout::compare_run_dir(policy, trace, seed);
            self.out.csv_stream(&format!("{dir}/{}", layout::STEPS))
        })
        .transpose()
    }

    fn finished(&self, s: &SummaryRow) -> Result<()> {
        let dir = layout::compare_run_dir(&s.policy, &s.trace, s.seed);
        self.out.write(
            &format!("{dir}/{}", layout::SUMMARY),
            &to_csv(std::slice::from_ref(s))?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(policy: &str, seed: u64, score: f64) -> SummaryRow {
        SummaryRow {
            cost_usd: score / 2.0,
            penalty_usd: score / 2.0,
            score_usd: score,
            requests: 100.0,
            served: 100.0,
            violations: score,
            violation_rate: score / 100.0,
            mean_vms: 2.0,
            max_vms: 3,
            vm_hours: 1.0,
            scaling_actions: 0,
            ..crate::metrics::Totals {
                steps: 10,
                ..crate::metrics::Totals::new(60.0)
            }
            .summary(policy, "t", seed)
        }
    }

    #[test]
    fn aggregates_match_a_hand_computation() {
        let plan = Plan {
            policies: vec![PolicyKind::Static, PolicyKind::Threshold],
            workloads: vec![Arc::new(Workload {
                name: "t".into(),
                start_s: 0.0,
                step_s: 60.0,
                arrivals: vec![1.0],
            })],
            seeds: vec![1, 2, 3],
        };
        let runs = vec![
            row("static", 1, 1.0),
            row("static", 2, 2.0),
            row("static", 3, 6.0),
            row("threshold", 1, 4.0),
            row("threshold", 2, 4.0),
            row("threshold", 3, 4.0),
        ];
        let agg = aggregate(&runs, &plan);
        assert_eq!(agg.len(), 2);
        // static: mean 3, sd sqrt(7), CI 4.303 sqrt(7/3); cost is half.
        assert_eq!(agg[0].score_mean, 3.0);
        assert!((agg[0].score_sd - 7f64.sqrt()).abs() < 1e-12);
        assert!((agg[0].score_ci95 - 4.303 * (7.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(agg[0].cost_mean, 1.5);
        assert!((agg[0].violation_rate_mean - 0.03).abs() < 1e-15);
        assert_eq!(
            (agg[1].score_mean, agg[1].score_sd, agg[1].score_ci95),
            (4.0, 0.0, 0.0)
        );
        let md = markdown("", &agg);
        assert!(md.contains("| t | **static** | 3 | **3.0000 ± "), "{md}");
        assert!(
            md.contains("| t | threshold | 3 | 4.0000 ± 0.0000 |"),
            "{md}"
        );
        // A cheaper oracle is a bound: the best other policy stays bold.
        let mut oracle = agg[0].clone();
        oracle.policy = "oracle".into();
        oracle.score_mean = 1.0;
        let md = markdown("", &[agg[0].clone(), agg[1].clone(), oracle.clone()]);
        assert!(md.contains("| t | **static** |"), "{md}");
        assert!(md.contains("| t | oracle | 3 | 1.0000 ± "), "{md}");
        // Alone, it is the best there is.
        let md = markdown("", &[oracle]);
        assert!(md.contains("| t | **oracle** |"), "{md}");
    }
}
