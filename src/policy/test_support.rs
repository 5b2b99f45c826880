//! Helpers shared by the unit tests of the rule-based policies.

use std::sync::Arc;

use crate::cloud::{Observation, StepInfo, Workload};
use crate::config::{Config, Noise, PolicyKind};

/// An observation of `serving` VMs (all running) at `utilization`, with
/// `booting` more on the way and no traffic figures.
pub(crate) fn obs(
    step: u64,
    time_s: f64,
    utilization: f64,
    serving: u32,
    booting: u32,
) -> Observation {
    Observation {
        step,
        time_s,
        arrivals: 0.0,
        arrival_rps: 0.0,
        utilization,
        vms_serving: serving,
        vms_running: serving,
        vms_booting: booting,
        latency_mean_s: None,
        backlog: 0.0,
        slo_violations: 0.0,
        dropped: 0.0,
    }
}

/// Runs the rule `kind` in the environment, without noise and with at most
/// 8 VMs, on 10 req/s for 5 steps, then 100 req/s (7.1 VMs at 70 %) for 25,
/// then 10 req/s for `fall_steps`; checks that the run is named
/// `policy_name`, stays within 1..=8 VMs, reaches 8 under the load and ends
/// at 2 or fewer.
pub(crate) fn assert_scales_out_and_back_in(
    kind: PolicyKind,
    policy_name: &str,
    fall_steps: usize,
) {
    let mut config = Config::default();
    config.policy.kind = kind;
    config.workload.noise = Noise::None;
    config.cloud.max_vms = 8;
    let rates = [vec![10.0; 5], vec![100.0; 25], vec![10.0; fall_steps]].concat();
    let workload = Workload {
        name: "rise".into(),
        start_s: 0.0,
        step_s: 60.0,
        arrivals: rates.iter().map(|r| r * 60.0).collect(),
    };
    let run = crate::experiment::run_policy(&config, Arc::new(workload), 1)
        .expect("rules need no training");
    assert_eq!(run.summary.policy, policy_name);
    let total = |s: &StepInfo| s.vms_running + s.vms_booting;
    assert!(run.steps.iter().all(|s| (1..=8).contains(&total(s))));
    let peak = run.steps[5..30].iter().map(total).max().unwrap();
    assert_eq!(peak, 8, "scales out to the bound under load");
    let last = total(run.steps.last().unwrap());
    assert!(last <= 2, "scales back in after the load, got {last}");
}
