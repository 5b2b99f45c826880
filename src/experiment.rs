//! One run: a policy against an environment, step by step.
//!
//! Every policy, rule or learner, goes through `run`; nothing here
//! depends on which policy it is.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use crate::agent;
use crate::cloud::{CloudEnv, Environment, StepInfo, Workload};
use crate::config::Config;
use crate::elasticity::{self, Demand};
use crate::metrics::{SummaryRow, Totals};
use crate::policy::{self, Learner, Policy, PolicyContext};
use crate::trace::Trace;

/// Runs `policy` on `env` from `reset(seed)` until the episode ends
/// (the loop of [`policy::drive`]), calling `observe` with every step's
/// metrics. Returns the totals.
pub(crate) fn run<E, P>(
    env: &mut E,
    policy: &mut P,
    seed: u64,
    step_s: f64,
    mut observe: impl FnMut(&StepInfo),
) -> Totals
where
    E: Environment + ?Sized,
    P: Policy + ?Sized,
{
    let mut totals = Totals::new(step_s);
    policy::drive(env, policy, seed, |_, obs, _, step| {
        totals.add(&step.info, obs.vms_total());
        observe(&step.info);
    });
    totals
}

/// The records of one run: every step and the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// One row per step.
    pub steps: Vec<StepInfo>,
    /// The run's summary row.
    pub summary: SummaryRow,
}

/// Builds the policy `config.policy.kind` names for a run on `workload`
/// with `seed`. A learned policy is trained first, on
/// `experiment.train_traces` (or, when that is empty, on `workload`
/// itself), and returned greedy.
///
/// # Errors
/// A training trace that cannot be loaded.
pub(crate) fn build_policy(
    config: &Config,
    workload: &Arc<Workload>,
    seed: u64,
) -> Result<Box<dyn Policy + Send>> {
    if let Some(rule) = policy::build(PolicyContext {
        setup: config.into(),
        workload,
        seed,
    }) {
        return Ok(rule);
    }
    let train_on = load_workloads(&config.experiment.train_traces, config)?;
    let train_on = if train_on.is_empty() {
        vec![Arc::clone(workload)]
    } else {
        train_on
    };
    let mut agent = agent::train(config, &train_on, seed, |_, _| {}).agent;
    agent.set_exploring(false);
    Ok(Box::new(agent))
}

/// Loads and prepares trace files.
///
/// # Errors
/// The first trace that cannot be read, resampled or scaled.
pub(crate) fn load_workloads(paths: &[PathBuf], config: &Config) -> Result<Vec<Arc<Workload>>> {
    paths
        .iter()
        .map(|p| {
            Workload::load(p, config)
                .map(Arc::new)
                .map_err(anyhow::Error::from)
        })
        .collect()
}

/// Trace files parsed once, prepared for any configuration (sweeps vary
/// `workload.*` keys per cell without re-reading files).
#[derive(Debug, Clone, Default)]
pub(crate) struct TraceSet {
    traces: BTreeMap<PathBuf, Arc<Trace>>,
}

impl TraceSet {
    /// Parses every file of `paths` (duplicates once).
    ///
    /// # Errors
    /// The first file that cannot be read.
    pub fn load<'a>(paths: impl IntoIterator<Item = &'a PathBuf>) -> Result<TraceSet> {
        let mut traces = BTreeMap::new();
        for p in paths {
            if !traces.contains_key(p) {
                traces.insert(p.clone(), Arc::new(crate::trace::read_csv(p)?));
            }
        }
        Ok(TraceSet { traces })
    }

    /// The traces of `paths` prepared under `config`.
    ///
    /// # Errors
    /// A path not loaded, or a trace too short for `workload.step_s`.
    pub(crate) fn workloads(
        &self,
        paths: &[PathBuf],
        config: &Config,
    ) -> Result<Vec<Arc<Workload>>> {
        paths
            .iter()
            .map(|p| {
                let trace = self
                    .traces
                    .get(p)
                    .ok_or_else(|| anyhow::anyhow!("trace {} was not loaded", p.display()))?;
                Ok(Arc::new(
                    Workload::from_trace(trace, config).map_err(|e| e.at_path(p))?,
                ))
            })
            .collect()
    }
}

/// Runs `policy` on `workload` with `seed` and keeps every step.
pub fn run_with<P: Policy + ?Sized>(
    config: &Config,
    policy: &mut P,
    workload: Arc<Workload>,
    seed: u64,
) -> RunRecord {
    let mut steps = Vec::with_capacity(workload.len());
    let summary = run_streaming(config, policy, workload, seed, |info| {
        steps.push(*info);
        Ok::<(), std::convert::Infallible>(())
    });
    match summary {
        Ok(summary) => RunRecord { steps, summary },
        Err(never) => match never {},
    }
}

/// Runs `policy` on `workload` with `seed`, handing every step (its SLO
/// demand filled in) to `sink` as it happens, and returns the summary:
/// memory does not grow with the trace's length. After the first error of
/// `sink` the run finishes without calling it again and the error is
/// returned.
///
/// # Errors
/// The first error of `sink`.
pub(crate) fn run_streaming<P, E>(
    config: &Config,
    policy: &mut P,
    workload: Arc<Workload>,
    seed: u64,
    mut sink: impl FnMut(&StepInfo) -> Result<(), E>,
) -> Result<SummaryRow, E>
where
    P: Policy + ?Sized,
{
    let mut env = CloudEnv::new(Arc::clone(&workload), config);
    let mut demand = Demand::new(
        config.cloud.vm_capacity_rps,
        config.cloud.slo_s,
        workload.step_s,
    );
    let mut meter = elasticity::Meter::default();
    let mut failed = None;
    let totals = run(&mut env, policy, seed, workload.step_s, |info| {
        let mut info = *info;
        elasticity::fill_step_demand(&mut info, &workload.arrivals, &mut demand);
        meter.add(&info);
        if failed.is_none() {
            failed = sink(&info).err();
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(totals
        .summary(policy.name(), &workload.name, seed)
        .with_elasticity(meter.finish(workload.step_s)))
}

/// Builds the policy `config.policy.kind` names (training it if it
/// learns), runs it on `workload` with `seed` and keeps every step.
///
/// # Errors
/// As `build_policy`.
pub fn run_policy(config: &Config, workload: Arc<Workload>, seed: u64) -> Result<RunRecord> {
    let mut policy = build_policy(config, &workload, seed)?;
    Ok(run_with(config, &mut policy, workload, seed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Noise, PolicyKind};

    fn workload(rates: &[f64]) -> Arc<Workload> {
        Arc::new(Workload {
            name: "t".into(),
            start_s: 0.0,
            step_s: 60.0,
            arrivals: rates.iter().map(|r| r * 60.0).collect(),
        })
    }

    #[test]
    fn step_costs_sum_exactly_to_the_summary() {
        let mut config = Config::default();
        config.policy.kind = PolicyKind::Threshold;
        let rec = run_policy(
            &config,
            workload(&[10.0, 50.0, 90.0, 120.0, 40.0, 5.0, 0.0, 70.0]),
            3,
        )
        .unwrap();
        let cost: f64 = rec.steps.iter().map(|s| s.cost_usd).sum();
        let penalty: f64 = rec.steps.iter().map(|s| s.penalty_usd).sum();
        let written = crate::csv_number::round_usd;
        assert_eq!(written(cost), rec.summary.cost_usd);
        assert_eq!(written(penalty), rec.summary.penalty_usd);
        assert_eq!(rec.steps.len(), 8);
    }

    #[test]
    fn a_run_is_a_pure_function_of_config_and_seed() {
        let config = Config::default();
        let w = workload(&[10.0, 80.0, 30.0, 150.0, 20.0]);
        assert_eq!(
            run_policy(&config, Arc::clone(&w), 9).unwrap(),
            run_policy(&config, Arc::clone(&w), 9).unwrap()
        );
        let mut quiet = config.clone();
        quiet.workload.noise = Noise::None;
        assert_ne!(
            run_policy(&config, Arc::clone(&w), 9).unwrap(),
            run_policy(&quiet, w, 9).unwrap()
        );
    }
}
