//! Property tests of the model's invariants over random traces, bounds and
//! policies.

use std::sync::Arc;

use proptest::prelude::*;
use qscale::cloud::config::{Balancer, BootDistribution, ServiceModel};
use qscale::cloud::{Action, CloudEnv, Environment, Workload};
use qscale::config::{Billing, Config, Noise, PolicyKind};
use qscale::experiment::run_policy;

fn config_strategy() -> impl Strategy<Value = Config> {
    (
        0u32..4,
        1u32..12,
        0.5f64..50.0,
        0.0f64..400.0,
        prop_oneof![
            Just(Billing::PerSecond),
            Just(Billing::PerMinute),
            Just(Billing::PerHour)
        ],
        prop_oneof![Just(Noise::None), Just(Noise::Poisson)],
        prop_oneof![Just(30u32), Just(60), Just(300)],
        // Boot-time distribution (with its spread, or samples).
        prop_oneof![
            Just((BootDistribution::Fixed, 0.0, vec![])),
            (0.0f64..1.0).prop_map(|f| (BootDistribution::Uniform, f, vec![])),
            (0.0f64..2.0).prop_map(|f| (BootDistribution::LogNormal, f, vec![])),
            prop::collection::vec(0.0f64..600.0, 1..5).prop_map(|v| (
                BootDistribution::Empirical,
                0.0,
                v
            )),
        ],
        // The service model and, for the request-level one, the balancer.
        prop_oneof![
            3 => Just((ServiceModel::Analytic, Balancer::Shared)),
            1 => Just((ServiceModel::Des, Balancer::Shared)),
            1 => Just((ServiceModel::Des, Balancer::RoundRobin)),
            1 => Just((ServiceModel::Des, Balancer::Jsq)),
        ],
    )
        .prop_map(
            |(
                min,
                span,
                mu,
                boot,
                billing,
                noise,
                step,
                (kind, spread, samples),
                (model, balancer),
            )| {
                let mut c = Config::default();
                c.cloud.boot = kind;
                // A fraction of boot_s: always a valid spread.
                c.cloud.boot_spread_s = spread * boot;
                c.cloud.boot_samples_s = samples;
                c.cloud.model = model;
                c.cloud.balancer = balancer;
                c.cloud.min_vms = min;
                c.cloud.max_vms = (min + span).max(1);
                c.cloud.initial_vms = min.max(1).min(c.cloud.max_vms);
                c.cloud.vm_capacity_rps = mu;
                c.cloud.boot_s = boot;
                c.cloud.billing = billing;
                c.workload.noise = noise;
                c.workload.step_s = step;
                c
            },
        )
}

fn workload(rates: &[f64], step_s: u32) -> Arc<Workload> {
    Arc::new(Workload {
        name: "random".into(),
        start_s: 0.0,
        step_s: f64::from(step_s),
        arrivals: rates.iter().map(|r| r * f64::from(step_s)).collect(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn requests_are_conserved_vms_stay_in_bounds_and_costs_are_non_negative(
        config in config_strategy(),
        rates in prop::collection::vec(0.0f64..500.0, 1..80),
        actions in prop::collection::vec(-5i32..6, 80),
        seed in 0u64..1000,
    ) {
        prop_assert!(config.validate().is_ok(), "{:?}", config.validate());
        let w = workload(&rates, config.workload.step_s);
        let mut env = CloudEnv::new(Arc::clone(&w), &config);
        env.reset(seed);
        let (mut arrivals, mut served, mut dropped, mut backlog) = (0.0, 0.0, 0.0, 0.0);
        for (k, &d) in actions.iter().enumerate().take(rates.len()) {
            let action = if k % 3 == 0 { Action::Target(d.unsigned_abs() * 3) } else { Action::Change(d) };
            let step = env.step(action);
            let i = step.info;
            arrivals += i.arrivals;
            served += i.served;
            dropped += i.dropped;
            backlog = i.backlog;
            let vms = i.vms_running + i.vms_booting;
            prop_assert!(vms >= config.cloud.min_vms && vms <= config.cloud.max_vms);
            prop_assert_eq!(vms, i.target_vms);
            prop_assert!(i.cost_usd >= 0.0 && i.penalty_usd >= 0.0);
            prop_assert!(i.slo_violations >= 0.0 && i.reward <= 0.0);
            prop_assert!((0.0..=1.0).contains(&i.utilization));
        }
        let balance = served + dropped + backlog;
        prop_assert!((arrivals - balance).abs() <= 1e-9 * arrivals.max(1.0), "{} vs {}", arrivals, balance);
    }

    #[test]
    fn every_rule_run_is_deterministic_and_keeps_the_bounds(
        config in config_strategy(),
        rates in prop::collection::vec(0.0f64..300.0, 2..60),
        kind in prop_oneof![Just(PolicyKind::Static), Just(PolicyKind::Threshold)],
        seed in 0u64..100,
    ) {
        let mut config = config;
        config.policy.kind = kind;
        let w = workload(&rates, config.workload.step_s);
        let a = run_policy(&config, Arc::clone(&w), seed).unwrap();
        let b = run_policy(&config, w, seed).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert!(a.summary.cost_usd >= 0.0);
        prop_assert!(a.summary.max_vms <= config.cloud.max_vms);
    }

    #[test]
    fn cost_grows_with_vm_time(
        rates in prop::collection::vec(1.0f64..100.0, 5..40),
        n in 1u32..10,
        billing in prop_oneof![Just(Billing::PerSecond), Just(Billing::PerMinute), Just(Billing::PerHour)],
    ) {
        // Holding more VMs for the same time never costs less.
        let mut config = Config::default();
        config.cloud.billing = billing;
        config.cloud.max_vms = 20;
        config.policy.kind = PolicyKind::Static;
        config.policy.static_count.sizing = qscale::config::StaticSizing::Count;
        let w = workload(&rates, 60);
        config.policy.static_count.vms = n;
        let small = run_policy(&config, Arc::clone(&w), 1).unwrap().summary;
        config.policy.static_count.vms = n + 1;
        let big = run_policy(&config, w, 1).unwrap().summary;
        prop_assert!(big.vm_hours >= small.vm_hours);
        prop_assert!(big.cost_usd >= small.cost_usd);
    }
}
