//! `qscale validate`: how far the analytic per-step model is from the
//! request-level simulation ([`crate::cloud::des`]), by regime.
//!
//! Every trace × policy × seed of the configuration runs twice:
//!
//! - **Paired replay.** The policy runs on the analytic model; then the
//!   run's own per-step arrivals and running VMs are replayed request by
//!   request through the simulated queue (the run's seed, the
//!   configuration's `cloud.service` and `cloud.balancer`; the analytic
//!   run itself always has the shared queue). Both models thus see the same load
//!   on the same fleet, step for step, and their difference is the
//!   analytic model's error alone. Each step is put in one regime, judged
//!   on the analytic run: `overload` (a backlog carried in, arrivals at or
//!   above the fleet's capacity, or no VM), else `boot-storm` (at least
//!   half as many VMs booting as running), else a utilization band
//!   (`util<0.5`, `util0.5-0.8`, `util0.8-0.95`, `util>=0.95`).
//! - **Closed loop.** The policy runs again with `cloud.model = "des"`,
//!   reacting to what the simulation shows it; the score difference is
//!   what a study would get wrong by using the analytic model.
//!
//! The folder holds `validate.csv` (one row per trace, policy and regime,
//! and one per trace and policy over all steps), `scores.csv` (one row per
//! closed-loop pair), `summary.md` and `config.toml`. Errors are
//! `analytic / des − 1`: positive means the analytic model reports more
//! (violations, latency, cost) than the requests did.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::compare::trace_paths;
use super::{Progress, UsageError};
use crate::cloud::des::RequestLevel;
use crate::cloud::{StepInfo, Workload};
use crate::config::Config;
use crate::experiment::{build_policy, run_policy, run_streaming, TraceSet};
use crate::layout;
use crate::metrics::to_csv;
use crate::output::OutputDir;

/// The regimes a step can be in, in report order.
pub(crate) const REGIMES: [&str; 6] = [
    "util<0.5",
    "util0.5-0.8",
    "util0.8-0.95",
    "util>=0.95",
    "boot-storm",
    "overload",
];

/// Fewest steps of a trace, policy and regime for its error to be named
/// the largest in `summary.md`.
const MIN_STEPS_FOR_WORST: u64 = 100;

/// The regime name of the rows over every step.
pub(crate) const ALL_STEPS: &str = "all";

/// One row of `validate.csv`: the paired replay of one policy on one
/// trace, over its seeds, in one regime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidateRow {
    /// Trace name.
    pub trace: String,
    /// Policy name.
    pub policy: String,
    /// Regime (see the module docs), or `all`.
    pub regime: String,
    /// Steps in the regime, over the seeds.
    pub steps: u64,
    /// Requests arriving in those steps.
    pub requests: f64,
    /// SLO violations (late + dropped) in the analytic model.
    pub violations_analytic: f64,
    /// The same, simulated.
    pub violations_des: f64,
    /// `violations_analytic / violations_des − 1` (empty when no request
    /// was late in the simulation).
    pub violations_error: Option<f64>,
    /// Mean response time, seconds, weighted by the step's requests.
    pub latency_mean_analytic_s: Option<f64>,
    /// The same, simulated.
    pub latency_mean_des_s: Option<f64>,
    /// Relative error of the mean response time.
    pub latency_mean_error: Option<f64>,
    /// Mean over the steps of the step's 95th percentile, seconds.
    pub p95_analytic_s: Option<f64>,
    /// The same, simulated.
    pub p95_des_s: Option<f64>,
    /// Relative error of the 95th percentile.
    pub p95_error: Option<f64>,
    /// Dropped requests in the analytic model.
    pub drops_analytic: f64,
    /// The same, simulated.
    pub drops_des: f64,
}

/// One row of `scores.csv`: a policy on a trace with a seed, run in each
/// model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    /// Trace name.
    pub trace: String,
    /// Policy name.
    pub policy: String,
    /// Master seed.
    pub seed: u64,
    /// Score (cost + penalty) with the analytic model, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub score_analytic_usd: f64,
    /// Score with the request-level model, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub score_des_usd: f64,
    /// `score_analytic / score_des − 1`.
    pub score_error: Option<f64>,
    /// SLO violations with the analytic model.
    pub violations_analytic: f64,
    /// SLO violations with the request-level model.
    pub violations_des: f64,
}

/// What `validate` found.
#[derive(Debug, Clone)]
pub(crate) struct ValidateOutcome {
    /// `summary.md`.
    pub table: String,
    /// The folder written.
    pub dir: PathBuf,
}

/// Sums over the steps of one regime.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    steps: u64,
    requests: f64,
    violations: [f64; 2],
    drops: [f64; 2],
    /// Σ latency·requests and Σ requests over steps with a latency.
    latency: [(f64, f64); 2],
    /// Σ p95 and the steps with one.
    p95: [(f64, u64); 2],
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.steps += other.steps;
        self.requests += other.requests;
        for m in 0..2 {
            self.violations[m] += other.violations[m];
            self.drops[m] += other.drops[m];
            self.latency[m].0 += other.latency[m].0;
            self.latency[m].1 += other.latency[m].1;
            self.p95[m].0 += other.p95[m].0;
            self.p95[m].1 += other.p95[m].1;
        }
    }

    /// Adds one step as model `m` (0 analytic, 1 des) saw it; `requests`
    /// counts once, with the analytic model.
    fn record(
        &mut self,
        m: usize,
        requests: f64,
        violations: f64,
        drops: f64,
        latency: Option<f64>,
        p95: Option<f64>,
    ) {
        if m == 0 {
            self.steps += 1;
            self.requests += requests;
        }
        self.violations[m] += violations;
        self.drops[m] += drops;
        if let Some(l) = latency {
            self.latency[m].0 += l * requests;
            self.latency[m].1 += requests;
        }
        if let Some(p) = p95 {
            self.p95[m].0 += p;
            self.p95[m].1 += 1;
        }
    }

    fn row(&self, trace: &str, policy: &str, regime: &str) -> ValidateRow {
        let mean = |(sum, n): (f64, f64)| (n > 0.0).then(|| sum / n);
        let mean_p95 = |(sum, n): (f64, u64)| (n > 0).then(|| sum / n as f64);
        let latency = [mean(self.latency[0]), mean(self.latency[1])];
        let p95 = [mean_p95(self.p95[0]), mean_p95(self.p95[1])];
        ValidateRow {
            trace: trace.to_string(),
            policy: policy.to_string(),
            regime: regime.to_string(),
            steps: self.steps,
            requests: self.requests,
            violations_analytic: self.violations[0],
            violations_des: self.violations[1],
            violations_error: relative_error(self.violations[0], self.violations[1]),
            latency_mean_analytic_s: latency[0],
            latency_mean_des_s: latency[1],
            latency_mean_error: latency[0]
                .zip(latency[1])
                .and_then(|(a, d)| relative_error(a, d)),
            p95_analytic_s: p95[0],
            p95_des_s: p95[1],
            p95_error: p95[0].zip(p95[1]).and_then(|(a, d)| relative_error(a, d)),
            drops_analytic: self.drops[0],
            drops_des: self.drops[1],
        }
    }
}

/// `analytic / des − 1`, or `None` when `des` is 0.
fn relative_error(analytic: f64, des: f64) -> Option<f64> {
    (des > 0.0).then(|| analytic / des - 1.0)
}

/// The regime of step `k` of an analytic run (an index into [`REGIMES`]).
fn regime(steps: &[StepInfo], k: usize, step_s: f64) -> usize {
    let s = &steps[k];
    let backlog_in = if k == 0 { 0.0 } else { steps[k - 1].backlog };
    let overloaded =
        s.vms_running == 0 || backlog_in > 0.0 || s.arrivals / step_s >= s.capacity_rps;
    if overloaded {
        5
    } else if 2 * s.vms_booting >= s.vms_running && s.vms_booting > 0 {
        4
    } else if s.utilization < 0.5 {
        0
    } else if s.utilization < 0.8 {
        1
    } else if s.utilization < 0.95 {
        2
    } else {
        3
    }
}

/// Replays the analytic run's steps through the request-level queue:
/// per-regime tallies of both models.
fn replay(config: &Config, steps: &[StepInfo], step_s: f64, seed: u64) -> [Tally; 6] {
    // The environment's own request-level model, on the analytic run's
    // load and fleet.
    let mut requests = RequestLevel::new(&config.cloud);
    requests.reset(seed);
    let mut tallies = [Tally::default(); 6];
    for (k, s) in steps.iter().enumerate() {
        let (_, out) = requests.serve(s.arrivals, s.vms_running, step_s);
        let t = &mut tallies[regime(steps, k, step_s)];
        t.record(
            0,
            s.arrivals,
            s.slo_violations,
            s.dropped,
            s.latency_mean_s,
            s.latency_p95_s,
        );
        t.record(
            1,
            s.arrivals,
            out.violations,
            out.dropped,
            out.latency_mean_s,
            out.latency_p95_s,
        );
    }
    tallies
}

/// One trace × policy × seed: the paired replay and the closed-loop pair.
struct CaseResult {
    tallies: [Tally; 6],
    score: ScoreRow,
}

fn run_case(
    config: &Config,
    workload: &Arc<Workload>,
    policy: crate::policy::PolicyKind,
    seed: u64,
) -> Result<CaseResult> {
    // The analytic model has one shared queue; the simulation keeps the
    // configured balancer.
    let with = |model: &str, balancer: toml::Value| {
        config.with_overrides(&[
            ("policy.kind".to_string(), policy.name().into()),
            ("cloud.model".to_string(), model.into()),
            ("cloud.balancer".to_string(), balancer),
        ])
    };
    let balancer = toml::Value::try_from(config.cloud.balancer)?;
    let (analytic, des) = (with("analytic", "shared".into())?, with("des", balancer)?);
    let a = run_policy(&analytic, Arc::clone(workload), seed)?;
    // Only the summary of the closed loop is used: its steps are not kept.
    let mut policy = build_policy(&des, workload, seed)?;
    let d = run_streaming(&des, &mut policy, Arc::clone(workload), seed, |_| {
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|never| match never {});
    let tallies = replay(&des, &a.steps, workload.step_s, seed);
    let score = ScoreRow {
        trace: workload.name.clone(),
        policy: policy.name().to_string(),
        seed,
        score_analytic_usd: a.summary.score_usd,
        score_des_usd: d.score_usd,
        score_error: relative_error(a.summary.score_usd, d.score_usd),
        violations_analytic: a.summary.violations,
        violations_des: d.violations,
    };
    Ok(CaseResult { tallies, score })
}

/// Runs the validation of `config` (its `experiment.traces`, or
/// `workload.trace`; its `experiment.policies`; its seeds) into `out`.
///
/// # Errors
/// No trace or no policy, a learned policy (it would need training per
/// trace; validate the model with the rules), a trace that cannot be
/// read, an existing folder without `force`, or an I/O failure.
pub(crate) fn validate_folder(
    config: &Config,
    out: &std::path::Path,
    force: bool,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<ValidateOutcome> {
    let policies = &config.experiment.policies;
    if policies.is_empty() {
        bail!(UsageError(
            "nothing to validate with: set experiment.policies (e.g. [\"threshold\", \"hpa\"])"
                .into()
        ));
    }
    if let Some(learned) = policies.iter().find(|p| p.is_learned()) {
        bail!(UsageError(format!(
            "validate runs rules, not {learned}: a learned policy would need training on each \
             trace; leave it out of experiment.policies"
        )));
    }
    let paths = trace_paths(config)?;
    let traces = TraceSet::load(&paths)?;
    let workloads = traces.workloads(&paths, config)?;
    let dir = OutputDir::create(out, force)?;
    let cases: Vec<(usize, crate::policy::PolicyKind, u64)> = (0..workloads.len())
        .flat_map(|w| {
            policies
                .iter()
                .flat_map(move |&p| config.experiment.seeds.iter().map(move |&s| (w, p, s)))
        })
        .collect();
    progress.start("validating", cases.len());
    let done = AtomicUsize::new(0);
    let results: Vec<CaseResult> = crate::workers::with_workers(jobs, || {
        cases
            .par_iter()
            .map(|&(w, p, s)| {
                let r = run_case(config, &workloads[w], p, s);
                progress.update(done.fetch_add(1, Ordering::SeqCst) + 1, cases.len());
                r
            })
            .collect::<Result<Vec<_>>>()
    })??;
    progress.finish();
    let (rows, scores, overall) = tables(&cases, &results, &workloads, policies);
    let table = summary_markdown(&config.experiment.description, &overall, &rows, &scores);
    dir.write(layout::VALIDATE, &to_csv(&rows)?)?;
    dir.write(layout::SCORES, &to_csv(&scores)?)?;
    dir.write(layout::SUMMARY_MD, table.as_bytes())?;
    dir.write(layout::CONFIG, config.to_toml_in(dir.target()).as_bytes())?;
    let dir = dir.commit()?;
    Ok(ValidateOutcome { table, dir })
}

/// The rows of `validate.csv` (per trace and policy, summed over seeds:
/// each regime, then all steps), those of `scores.csv`, and the tallies of
/// each regime over everything.
fn tables(
    cases: &[(usize, crate::policy::PolicyKind, u64)],
    results: &[CaseResult],
    workloads: &[Arc<Workload>],
    policies: &[crate::policy::PolicyKind],
) -> (Vec<ValidateRow>, Vec<ScoreRow>, [Tally; 6]) {
    let mut rows = Vec::new();
    let mut overall = [Tally::default(); 6];
    for (w, workload) in workloads.iter().enumerate() {
        for &p in policies {
            let mut regimes = [Tally::default(); 6];
            for (case, result) in cases.iter().zip(results) {
                if case.0 == w && case.1 == p {
                    for (sum, t) in regimes.iter_mut().zip(&result.tallies) {
                        sum.add(t);
                    }
                }
            }
            let mut all = Tally::default();
            for ((name, t), o) in REGIMES.iter().zip(&regimes).zip(overall.iter_mut()) {
                all.add(t);
                o.add(t);
                if t.steps > 0 {
                    rows.push(t.row(&workload.name, p.name(), name));
                }
            }
            rows.push(all.row(&workload.name, p.name(), ALL_STEPS));
        }
    }
    let scores = results.iter().map(|r| r.score.clone()).collect();
    (rows, scores, overall)
}

/// `summary.md`: the errors by regime over every trace and policy, the
/// closed-loop score errors by policy, and the largest error found.
fn summary_markdown(
    description: &str,
    overall: &[Tally; 6],
    rows: &[ValidateRow],
    scores: &[ScoreRow],
) -> String {
    let mut md = String::from("# Analytic model against the request-level simulation\n\n");
    if !description.is_empty() {
        md.push_str(&format!("{description}\n\n"));
    }
    md.push_str(
        "Paired replay: each analytic run's arrivals and running VMs, step by step, replayed \
         request by request. Error = analytic / simulated − 1 (positive: the analytic model \
         reports more). Latency errors are of the request-weighted mean and of the mean per-step \
         p95.\n\n",
    );
    md.push_str(
        "| regime | steps | share | violations analytic / simulated | violations error | mean latency \
         error | p95 error | drops analytic / simulated |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut all = Tally::default();
    for t in overall {
        all.add(t);
    }
    let pct = |x: Option<f64>| x.map_or("–".to_string(), |e| format!("{:+.1} %", e * 100.0));
    for (regime, t) in REGIMES.iter().zip(overall).chain([(&ALL_STEPS, &all)]) {
        if t.steps == 0 {
            continue;
        }
        let row = t.row("", "", regime);
        md.push_str(&format!(
            "| {regime} | {} | {:.1} % | {:.0} / {:.0} | {} | {} | {} | {:.0} / {:.0} |\n",
            row.steps,
            100.0 * row.steps as f64 / all.steps.max(1) as f64,
            row.violations_analytic,
            row.violations_des,
            pct(row.violations_error),
            pct(row.latency_mean_error),
            pct(row.p95_error),
            row.drops_analytic,
            row.drops_des,
        ));
    }
    md.push_str("\nClosed loop: each policy run on each model, score error by policy (mean over traces and seeds, and the largest).\n\n| policy | runs | mean score error | largest |\n|---|---:|---:|---:|\n");
    let mut policies: Vec<&str> = Vec::new();
    for s in scores {
        if !policies.contains(&s.policy.as_str()) {
            policies.push(&s.policy);
        }
    }
    for policy in policies {
        let errors: Vec<f64> = scores
            .iter()
            .filter(|s| s.policy == policy)
            .filter_map(|s| s.score_error)
            .collect();
        let mean = (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64);
        let largest = errors
            .iter()
            .copied()
            .max_by(|a, b| a.abs().total_cmp(&b.abs()));
        md.push_str(&format!(
            "| {policy} | {} | {} | {} |\n",
            errors.len(),
            pct(mean),
            pct(largest)
        ));
    }
    // Regimes a run visits a few times only are noise, not model error.
    if let Some(worst) = rows
        .iter()
        .filter(|r| r.regime != ALL_STEPS && r.steps >= MIN_STEPS_FOR_WORST)
        .filter_map(|r| r.violations_error.map(|e| (e, r)))
        .max_by(|a, b| a.0.abs().total_cmp(&b.0.abs()))
    {
        md.push_str(&format!(
            "\nLargest violations error (a trace, policy and regime with at least \
             {MIN_STEPS_FOR_WORST} steps): {} for {} on {} in {} ({} steps).\n",
            pct(Some(worst.0)),
            worst.1.policy,
            worst.1.trace,
            worst.1.regime,
            worst.1.steps
        ));
    }
    md
}
