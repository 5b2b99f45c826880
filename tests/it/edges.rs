//! Numbers at the edges: zero load, one VM, thousands of VMs, utilization
//! a hair below 1, one-second and one-hour steps, a boot longer than the
//! trace, free VMs and free SLO misses, and counts at the 2^53 limit. Every
//! policy runs on each; every number must be finite and the invariants must
//! hold: requests conserved, VMs within bounds, cost ≥ 0, step costs adding
//! up to the total.

use std::sync::Arc;

use qscale::cloud::queueing::{erlang_b, erlang_c};
use qscale::cloud::Workload;
use qscale::config::{Config, Noise, PolicyKind};
use qscale::experiment::{run_policy, RunRecord};
use qscale::trace::{Trace, MAX_REQUESTS};

use crate::support::{qscale, read_csv};

/// A config without noise, so expected and drawn counts agree.
fn base() -> Config {
    let mut c = Config::default();
    c.workload.noise = Noise::None;
    c.agent.episodes = 3;
    c
}

/// A workload of `rates` (req/s) per step of `step_s` seconds.
fn workload(rates: &[f64], step_s: f64) -> Arc<Workload> {
    Arc::new(Workload {
        name: "edge".into(),
        start_s: 0.0,
        step_s,
        arrivals: rates.iter().map(|r| r * step_s).collect(),
    })
}

/// Runs every policy and checks each run; returns the records.
fn every_policy(config: &Config, workload: &Arc<Workload>) -> Vec<RunRecord> {
    PolicyKind::ALL
        .into_iter()
        .map(|kind| {
            let mut c = config.clone();
            c.policy.kind = kind;
            c.validate().unwrap();
            let record = run_policy(&c, Arc::clone(workload), 3).unwrap();
            assert_sane(&c, workload, &record);
            record
        })
        .collect()
}

fn assert_sane(c: &Config, workload: &Workload, record: &RunRecord) {
    let s = &record.summary;
    let who = format!("{} on {}", s.policy, s.trace);
    assert_eq!(record.steps.len(), workload.len(), "{who}");
    let mut cost = 0.0;
    for step in &record.steps {
        for (name, v) in crate::support::counts_and_charges(step) {
            assert!(
                v.is_finite() && v >= 0.0,
                "{who}, step {}: {name} = {v}",
                step.step
            );
        }
        assert!(
            step.utilization <= 1.0,
            "{who}: utilization {}",
            step.utilization
        );
        assert!(step.reward.is_finite() && step.reward <= 0.0, "{who}");
        for v in [step.latency_mean_s, step.latency_p95_s]
            .into_iter()
            .flatten()
        {
            assert!(v.is_finite() && v > 0.0, "{who}: latency {v}");
        }
        let vms = step.vms_running + step.vms_booting;
        assert!(
            (c.cloud.min_vms..=c.cloud.max_vms).contains(&vms),
            "{who}: {vms} VMs outside [{}, {}]",
            c.cloud.min_vms,
            c.cloud.max_vms
        );
        cost += step.cost_usd;
    }
    let balance = s.served + s.drops + s.final_backlog;
    assert!(
        (s.requests - balance).abs() <= 1e-9 * s.requests.max(1.0),
        "{who}: {} requests, {balance} served + dropped + waiting",
        s.requests
    );
    assert!(
        s.cost_usd >= 0.0 && s.penalty_usd >= 0.0 && s.score_usd.is_finite(),
        "{who}"
    );
    assert!((0.0..=1.0).contains(&s.violation_rate), "{who}");
    assert_eq!(
        qscale::csv_number::round_usd(cost),
        s.cost_usd,
        "{who}: step costs do not add up"
    );
}

#[test]
fn zero_load_costs_only_the_minimum_fleet_and_misses_nothing() {
    let config = base();
    let w = workload(&[0.0; 40], 60.0);
    for r in every_policy(&config, &w) {
        let s = &r.summary;
        assert_eq!(
            (s.requests, s.served, s.drops, s.violations),
            (0.0, 0.0, 0.0, 0.0)
        );
        assert_eq!(s.violation_rate, 0.0, "{}", s.policy);
        assert_eq!(s.penalty_usd, 0.0);
        assert!(s.cost_usd > 0.0, "{}: a running VM is billed", s.policy);
    }
}

#[test]
fn a_single_vm_fleet_never_scales_and_serves_what_it_can() {
    let mut config = base();
    config.cloud.min_vms = 1;
    config.cloud.max_vms = 1;
    config.cloud.initial_vms = 1;
    let w = workload(&[5.0, 15.0, 25.0, 60.0, 10.0, 0.0, 19.9], 60.0);
    for r in every_policy(&config, &w) {
        assert_eq!(r.summary.max_vms, 1, "{}", r.summary.policy);
        assert_eq!(r.summary.scaling_actions, 0, "{}", r.summary.policy);
        for step in &r.steps {
            assert!(
                step.served <= 20.0 * 60.0 + 1e-9,
                "one VM serves at most μΔ"
            );
        }
    }
}

#[test]
fn thousands_of_vms_give_finite_latencies() {
    let mut config = base();
    config.cloud.min_vms = 2000;
    config.cloud.max_vms = 5000;
    config.cloud.initial_vms = 3000;
    config.agent.vm_edges = vec![2500, 3000, 3500, 4000, 4500];
    // 3000 VMs of 20 req/s: from light load to 99 % and to overload.
    let rates = [
        1000.0, 30_000.0, 59_400.0, 59_999.0, 90_000.0, 59_000.0, 0.0,
    ];
    let w = workload(&rates, 60.0);
    for r in every_policy(&config, &w) {
        assert!(r.summary.max_vms >= 2000, "{}", r.summary.policy);
    }
    // Erlang B and C stay in [0, 1] with millions of servers.
    for (c, a) in [(5000u32, 4999.0), (1_000_000, 999_999.0), (1_000_000, 10.0)] {
        let b = erlang_b(c, a);
        let w = erlang_c(c, a);
        assert!(
            (0.0..=1.0).contains(&b) && (0.0..=1.0).contains(&w),
            "{c} {a}"
        );
    }
}

#[test]
fn utilization_a_hair_below_one_keeps_latency_finite() {
    let mut config = base();
    config.cloud.min_vms = 4;
    config.cloud.max_vms = 4;
    config.cloud.initial_vms = 4;
    // λ = cμ·(1 − ε) for shrinking ε, and exactly cμ.
    let capacity = 4.0 * config.cloud.vm_capacity_rps;
    let rates: Vec<f64> = [1e-3, 1e-6, 1e-9, 1e-12, 1e-15, 0.0]
        .iter()
        .map(|eps| capacity * (1.0 - eps))
        .collect();
    let w = workload(&rates, 60.0);
    for r in every_policy(&config, &w) {
        let first = &r.steps[0];
        assert!(first.utilization > 0.99 && first.utilization <= 1.0);
        let mean = first.latency_mean_s.expect("VMs ran");
        assert!(mean.is_finite() && mean > 1.0 / config.cloud.vm_capacity_rps);
    }
    for eps in [1e-6, 1e-12, 1e-15] {
        let c = erlang_c(4, 4.0 * (1.0 - eps));
        assert!(c.is_finite() && c > 0.99 && c <= 1.0, "ε = {eps}: C = {c}");
    }
}

#[test]
fn one_second_and_one_hour_steps_conserve_the_trace() {
    let trace = Trace {
        name: "hours".into(),
        start_s: 0.0,
        interval_s: 60.0,
        requests: (0..240).map(|i| f64::from(i % 17) * 50.0).collect(),
    };
    let total: f64 = trace.requests.iter().sum();
    for step_s in [1u32, 3600] {
        let mut config = base();
        config.workload.step_s = step_s;
        let w = Arc::new(Workload::from_trace(&trace, &config).unwrap());
        let expected_steps = if step_s == 1 { 240 * 60 } else { 4 };
        assert_eq!(w.len(), expected_steps);
        let resampled: f64 = w.arrivals.iter().sum();
        assert!((resampled - total).abs() <= 1e-9 * total, "step {step_s}");
        let mut quick = config.clone();
        // The oracle plans every step; keep the one-second run to 2 hours.
        if step_s == 1 {
            let mut short = (*w).clone();
            short.arrivals.truncate(7200);
            every_policy(&quick, &Arc::new(short));
        } else {
            quick.agent.episodes = 3;
            every_policy(&quick, &w);
        }
    }
}

#[test]
fn a_boot_longer_than_the_trace_bills_vms_that_never_serve() {
    let mut config = base();
    config.cloud.boot_s = 1e6;
    config.cloud.initial_vms = 1;
    let w = workload(&[100.0; 30], 60.0);
    for r in every_policy(&config, &w) {
        for step in &r.steps {
            assert_eq!(
                step.vms_running, 1,
                "{}: nothing finishes booting",
                r.summary.policy
            );
        }
        let launched = r.steps.iter().any(|s| s.vms_booting > 0);
        if launched {
            let one_vm_cost = 0.096 * 30.0 / 60.0;
            assert!(r.summary.cost_usd > one_vm_cost, "booting VMs are billed");
        }
    }
}

#[test]
fn free_vms_and_free_misses_give_zero_cost_and_score() {
    let mut config = base();
    config.cloud.price_per_hour = 0.0;
    config.reward.penalty_per_violation = 0.0;
    config.reward.penalty_per_drop = 0.0;
    let w = workload(&[10.0, 500.0, 2000.0, 0.0, 50.0], 60.0);
    for r in every_policy(&config, &w) {
        assert_eq!(r.summary.cost_usd, 0.0, "{}", r.summary.policy);
        assert_eq!(r.summary.score_usd, 0.0, "{}", r.summary.policy);
        assert!(r.steps.iter().all(|s| s.reward == 0.0));
    }
}

#[test]
fn counts_at_the_2_pow_53_limit_stay_finite_at_the_costliest_settings() {
    let mut config = base();
    config.cloud.max_vms = 1_000_000;
    config.cloud.vm_capacity_rps = 1e9;
    config.cloud.price_per_hour = 1e6;
    config.reward.penalty_per_violation = 1e6;
    config.reward.penalty_per_drop = 1e6;
    config.agent.vm_edges = vec![10, 1000, 100_000];
    let w = Arc::new(Workload {
        name: "limit".into(),
        start_s: 0.0,
        step_s: 60.0,
        arrivals: vec![MAX_REQUESTS, 0.0, MAX_REQUESTS, 1.0, MAX_REQUESTS],
    });
    every_policy(&config, &w);
}

#[test]
fn the_binary_writes_no_infinity_or_nan_for_a_trace_at_the_count_limit() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("limit.csv");
    std::fs::write(
        &trace,
        "timestamp_s,requests\n0,9007199254740992\n60,0\n120,9007199254740992\n180,1\n",
    )
    .unwrap();
    for noise in ["none", "poisson"] {
        let out = dir.path().join(format!("out-{noise}"));
        qscale()
            .args(["run", "--policy", "target", "--trace"])
            .arg(&trace)
            .args(["--set", &format!("workload.noise={noise}"), "--out"])
            .arg(&out)
            .assert()
            .success();
        for file in ["steps.csv", "summary.csv"] {
            let (_, rows) = read_csv(&out.join(file));
            for field in rows.iter().flatten() {
                let lower = field.to_ascii_lowercase();
                assert!(
                    !lower.contains("inf") && !lower.contains("nan"),
                    "{file}: `{field}`"
                );
            }
        }
    }
}
