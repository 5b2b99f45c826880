//! The SPEC Research Group's elasticity metrics: how closely, and how
//! steadily, the VMs a policy runs follow the VMs the load demands.
//!
//! The definitions are those of Herbst et al., *Ready for Rain? A View
//! from SPEC Research on the Future of Cloud Metrics*, SPEC RG tech. report
//! SPEC-RG-2016-01 (2016), §3, as used by Ilyushkin et al., *An
//! Experimental Performance Evaluation of Autoscaling Policies for Complex
//! Workflows*, ACM TOMPECS 3(2), 2018. Over a run of `T` seconds in steps
//! of `Δt`, with `d_t` VMs demanded and `s_t` supplied in step `t`:
//!
//! - under-provisioning accuracy `θU = 100/T · Σ (d_t − s_t)⁺ / max(d_t, ε) · Δt` (%),
//! - over-provisioning accuracy `θO = 100/T · Σ (s_t − d_t)⁺ / max(d_t, ε) · Δt` (%),
//! - under-provisioning timeshare `τU = 100/T · Σ [d_t > s_t] · Δt` (%),
//! - over-provisioning timeshare `τO = 100/T · Σ [s_t > d_t] · Δt` (%),
//! - jitter `j = (E_s − E_d) / T`, in adaptations per hour, where `E_s`
//!   counts the steps whose supply differs from the previous step's and
//!   `E_d` those whose demand does: negative when supply follows fewer of
//!   the demand's changes than there are, positive when it oscillates more.
//!
//! with `ε = 1` VM (Ilyushkin et al.), so a step demanding nothing counts
//! each supplied VM as 100 % over-provisioning. Lower is better for the
//! four accuracies and timeshares; jitter is best near 0.
//!
//! **Demand and supply in this model.** The supply `s_t` is the VMs
//! running (serving) in step `t`: booting VMs are paid for but serve
//! nothing. The demand `d_t` is the fewest VMs that would serve the step's
//! arrivals, as the M/M/c queue of the model at the step's expected rate
//! `λ_t = A_t/Δt` (the workload's count, before Poisson noise), with a
//! 95th-percentile response time within `cloud.slo_s`, i.e. with
//! `P(T > slo_s) ≤ 0.05`; no VM when nothing is expected. It depends on
//! the workload alone: not on the seed's noise (which would make the
//! demand, and so the jitter, flicker from step to step), nor on the
//! backlog a policy left behind. As `c` grows the
//! tail falls towards `e^{−μ·slo_s}` (the service time alone), so when
//! `μ·slo_s ≤ ln 20 ≈ 3.0` no fleet meets the objective and the metrics
//! are undefined (empty in `summary.csv`).

use std::collections::HashMap;

use crate::cloud::queueing::{Mmc, TailPoint};
use crate::cloud::StepInfo;

pub(crate) use crate::cloud::queueing::DEMAND_QUANTILE;

/// The largest demand computed, VMs (`cloud.max_vms`'s own limit); a step
/// that needs more leaves the run's metrics undefined.
pub(crate) const MAX_DEMAND_VMS: u32 = 1_000_000;

/// The `ε` of the accuracies' denominators, VMs.
const EPSILON_VMS: f64 = 1.0;

/// The five metrics of one run (see the module notes for the formulas).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Elasticity {
    /// θU: mean relative shortfall of VMs below the demand, %.
    pub underprov_accuracy_pct: f64,
    /// θO: mean relative excess of VMs above the demand, %.
    pub overprov_accuracy_pct: f64,
    /// τU: share of the time with fewer VMs than demanded, %.
    pub underprov_timeshare_pct: f64,
    /// τO: share of the time with more VMs than demanded, %.
    pub overprov_timeshare_pct: f64,
    /// j: supply adaptations less demand changes, per hour.
    pub jitter_per_h: f64,
}

/// The VMs a step's load demands: the fewest servers meeting the 95th
/// percentile objective, remembered per arrival count (a run meets the
/// same counts again and again).
#[derive(Debug, Clone)]
pub struct Demand {
    service_rps: f64,
    step_s: f64,
    slo: TailPoint,
    /// Whether some fleet meets the objective at all.
    attainable: bool,
    known: HashMap<u64, u32>,
}

impl Demand {
    /// Demand for servers of `service_rps` requests per second, a response
    /// time objective of `slo_s` seconds, and steps of `step_s` seconds.
    pub fn new(service_rps: f64, slo_s: f64, step_s: f64) -> Demand {
        let tail_limit = (-(service_rps * slo_s)).exp();
        Demand {
            service_rps,
            step_s,
            slo: TailPoint::new(service_rps, slo_s),
            attainable: tail_limit < 1.0 - DEMAND_QUANTILE
                && service_rps.is_finite()
                && step_s > 0.0,
            known: HashMap::new(),
        }
    }

    /// The VMs demanded by `arrivals` requests in one step, or `None` when
    /// no fleet of up to `MAX_DEMAND_VMS` meets the objective (or the
    /// count is not a finite number of requests).
    pub fn of(&mut self, arrivals: f64) -> Option<u32> {
        if !(arrivals.is_finite() && arrivals >= 0.0) {
            return None;
        }
        if arrivals == 0.0 {
            return Some(0);
        }
        if !self.attainable {
            return None;
        }
        if let Some(&d) = self.known.get(&arrivals.to_bits()) {
            return Some(d);
        }
        let d = self.search(arrivals / self.step_s)?;
        self.known.insert(arrivals.to_bits(), d);
        Some(d)
    }

    /// The fewest servers whose queue at `arrival_rps` meets the objective.
    ///
    /// Erlang B is carried up one server at a time by the recurrence of
    /// [`crate::cloud::queueing::erlang_b`]. Below the load `a` each step
    /// of that recurrence shrinks an error in its start by the factor
    /// `k/a`, so for `a > 144` it starts `12·√a` servers below `a` from
    /// `B = 1`: the start's error is then damped by about `e^{−72}`, far
    /// below a rounding error, and the search costs `O(√a)` per count
    /// (the answer itself lies within a few `√a` above `a`, the
    /// square-root staffing rule), not `O(a)`.
    fn search(&self, arrival_rps: f64) -> Option<u32> {
        let a = arrival_rps / self.service_rps;
        if a.is_nan() || a >= f64::from(MAX_DEMAND_VMS) {
            return None;
        }
        self.search_from(arrival_rps, (a - 12.0 * a.sqrt()).floor().max(0.0))
    }

    /// [`Demand::search`] with Erlang B started at `B(first) = 1`
    /// (exact for `first = 0`).
    fn search_from(&self, arrival_rps: f64, first: f64) -> Option<u32> {
        let mu = self.service_rps;
        let a = arrival_rps / mu;
        let target = 1.0 - DEMAND_QUANTILE;
        let mut blocking = 1.0_f64;
        let mut k = first;
        while k < f64::from(MAX_DEMAND_VMS) {
            k += 1.0;
            let scaled = a * blocking;
            blocking = scaled / (k + scaled);
            if k <= a {
                continue; // unstable: λ ≥ cμ
            }
            // Erlang C from B as in `erlang_c`.
            let wait_probability = (k * blocking / ((k - a) + a * blocking)).clamp(0.0, 1.0);
            let queue = Mmc {
                servers: k as u32,
                arrival_rps,
                service_rps: mu,
                wait_probability,
            };
            if queue.response_tail_at(&self.slo) <= target {
                return Some(queue.servers);
            }
        }
        None
    }
}

#[cfg(test)]
/// Sets each step's `demand_vms` from the expected arrivals of its step,
/// `expected[step.step]` (the workload's counts, before any noise).
pub(crate) fn fill_demand(steps: &mut [StepInfo], expected: &[f64], demand: &mut Demand) {
    for step in steps {
        fill_step_demand(step, expected, demand);
    }
}

/// Sets one step's `demand_vms` as [`fill_demand`] does.
pub(crate) fn fill_step_demand(step: &mut StepInfo, expected: &[f64], demand: &mut Demand) {
    step.demand_vms = usize::try_from(step.step)
        .ok()
        .and_then(|k| expected.get(k))
        .and_then(|&a| demand.of(a));
}

#[cfg(test)]
/// The elasticity metrics of a run's steps, each `step_s` seconds long,
/// from their `vms_running` and `demand_vms` (see [`fill_demand`]), or
/// `None` for a run without steps or with a step whose demand is
/// undefined.
pub(crate) fn measure(steps: &[StepInfo], step_s: f64) -> Option<Elasticity> {
    let mut meter = Meter::default();
    for step in steps {
        meter.add(step);
    }
    meter.finish(step_s)
}

/// The elasticity metrics measured step by step, as a run goes, so a run
/// need not keep its steps (see [`measure`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Meter {
    steps: u64,
    undefined: bool,
    under: f64,
    over: f64,
    under_steps: u64,
    over_steps: u64,
    supply_changes: i64,
    demand_changes: i64,
    previous: Option<(u32, u32)>,
}

impl Meter {
    /// Accounts one step (with its `demand_vms` filled in).
    pub(crate) fn add(&mut self, step: &StepInfo) {
        self.steps += 1;
        let Some(d) = step.demand_vms else {
            self.undefined = true;
            return;
        };
        if self.undefined {
            return;
        }
        let s = step.vms_running;
        let scale = f64::from(d).max(EPSILON_VMS);
        if d > s {
            self.under += f64::from(d - s) / scale;
            self.under_steps += 1;
        } else if s > d {
            self.over += f64::from(s - d) / scale;
            self.over_steps += 1;
        }
        if let Some((d0, s0)) = self.previous {
            self.demand_changes += i64::from(d != d0);
            self.supply_changes += i64::from(s != s0);
        }
        self.previous = Some((d, s));
    }

    /// The metrics of the steps added, each `step_s` seconds long.
    pub(crate) fn finish(&self, step_s: f64) -> Option<Elasticity> {
        if self.steps == 0 || self.undefined {
            return None;
        }
        let n = self.steps as f64;
        let hours = n * step_s / 3600.0;
        Some(Elasticity {
            underprov_accuracy_pct: 100.0 * self.under / n,
            overprov_accuracy_pct: 100.0 * self.over / n,
            underprov_timeshare_pct: 100.0 * self.under_steps as f64 / n,
            overprov_timeshare_pct: 100.0 * self.over_steps as f64 / n,
            jitter_per_h: (self.supply_changes - self.demand_changes) as f64 / hours,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn step(arrivals: f64, vms_running: u32) -> StepInfo {
        StepInfo {
            arrivals,
            served: arrivals,
            vms_running,
            target_vms: vms_running,
            ..StepInfo::default()
        }
    }

    /// Numbers the steps and fills their demand with their own arrivals
    /// as the expected counts (a run without noise).
    fn fill(steps: &mut [StepInfo], demand: &mut Demand) {
        for (k, s) in steps.iter_mut().enumerate() {
            s.step = k as u64;
        }
        let expected: Vec<f64> = steps.iter().map(|s| s.arrivals).collect();
        fill_demand(steps, &expected, demand);
    }

    #[test]
    fn demand_follows_the_expected_counts_not_the_noise() {
        let mut d = Demand::new(20.0, 0.5, 60.0);
        // Drawn arrivals around 6000 a minute; the expected count is 6000.
        let mut steps = [step(5890.0, 6), step(6120.0, 6), step(6010.0, 6)];
        for (k, s) in steps.iter_mut().enumerate() {
            s.step = k as u64;
        }
        fill_demand(&mut steps, &[6000.0; 3], &mut d);
        assert_eq!(steps.map(|s| s.demand_vms), [Some(6); 3]);
        // A step past the expected counts has no demand.
        let mut late = [StepInfo {
            step: 3,
            ..step(6000.0, 6)
        }];
        fill_demand(&mut late, &[6000.0; 3], &mut d);
        assert_eq!(late[0].demand_vms, None);
    }

    /// The fewest servers meeting the objective, by `Mmc::new` one fleet
    /// size at a time (an independent path through the queueing code).
    fn demand_by_brute_force(arrival_rps: f64, mu: f64, slo_s: f64) -> u32 {
        // Fleets at or below the load are unstable (`Mmc::new` is `None`).
        let first = (arrival_rps / mu).floor().max(1.0) as u32;
        (first..100_000)
            .find(|&c| Mmc::new(c, arrival_rps, mu).is_some_and(|q| q.response_tail(slo_s) <= 0.05))
            .unwrap()
    }

    #[test]
    fn demand_is_the_fewest_vms_whose_p95_meets_the_slo() {
        // 100 req/s on servers of 20 req/s: 5 servers are saturated, 6 keep
        // the p95 within 0.5 s, but not within 0.16 s (e^{−3.2} alone is 0.04).
        let mut d = Demand::new(20.0, 0.5, 60.0);
        assert_eq!(d.of(6000.0), Some(6));
        assert_eq!(demand_by_brute_force(100.0, 20.0, 0.5), 6);
        let q6 = Mmc::new(6, 100.0, 20.0).unwrap();
        assert!(q6.p95_s() <= 0.5);
        let mut tight = Demand::new(20.0, 0.16, 60.0);
        let c = tight.of(6000.0).unwrap();
        assert!(c > 6, "{c}");
        assert!(Mmc::new(c, 100.0, 20.0).unwrap().p95_s() <= 0.16);
        assert!(Mmc::new(c - 1, 100.0, 20.0).unwrap().p95_s() > 0.16);
    }

    #[test]
    fn the_truncated_start_finds_what_the_full_recurrence_finds() {
        for mu_slo in [3.01, 3.2, 10.0] {
            let mut demand = Demand::new(20.0, mu_slo / 20.0, 1.0);
            // Loads from 150 to about 900,000 Erlangs.
            for i in 0..30 {
                let rps = 20.0 * 150.0 * 1.35f64.powi(i);
                let full = demand.search_from(rps, 0.0);
                assert!(full.is_some());
                assert_eq!(demand.of(rps), full, "load {rps}/s");
            }
        }
    }

    #[test]
    fn nothing_arriving_demands_no_vm_and_an_unreachable_slo_none() {
        let mut d = Demand::new(20.0, 0.5, 60.0);
        assert_eq!(d.of(0.0), Some(0));
        assert_eq!(d.of(-1.0), None);
        assert_eq!(d.of(f64::NAN), None);
        // e^{−μ·slo} = e^{−2} = 0.135 > 0.05: the service time alone misses.
        let mut never = Demand::new(20.0, 0.1, 60.0);
        assert_eq!(never.of(0.0), Some(0));
        assert_eq!(never.of(10.0), None);
        let mut steps = [step(10.0, 3)];
        fill(&mut steps, &mut never);
        assert_eq!(steps[0].demand_vms, None);
        assert_eq!(measure(&steps, 60.0), None);
        assert_eq!(measure(&[], 60.0), None);
    }

    #[test]
    fn a_supply_equal_to_the_demand_scores_zero_everywhere() {
        let mut d = Demand::new(20.0, 0.5, 60.0);
        let mut steps: Vec<StepInfo> = [0.0, 600.0, 6000.0, 30_000.0, 6000.0]
            .iter()
            .map(|&a| step(a, d.of(a).unwrap()))
            .collect();
        fill(&mut steps, &mut d);
        let e = measure(&steps, 60.0).unwrap();
        assert_eq!(e.underprov_accuracy_pct, 0.0);
        assert_eq!(e.overprov_accuracy_pct, 0.0);
        assert_eq!(e.underprov_timeshare_pct, 0.0);
        assert_eq!(e.overprov_timeshare_pct, 0.0);
        assert_eq!(e.jitter_per_h, 0.0);
    }

    #[test]
    fn the_formulas_on_a_worked_example() {
        // Four one-minute steps demanding 6, 6, 0, 6 VMs (6000 requests a
        // minute need 6), supplied 3, 6, 2, 9.
        let mut d = Demand::new(20.0, 0.5, 60.0);
        let mut steps = [
            step(6000.0, 3),
            step(6000.0, 6),
            step(0.0, 2),
            step(6000.0, 9),
        ];
        fill(&mut steps, &mut d);
        assert_eq!(
            steps.map(|s| s.demand_vms),
            [Some(6), Some(6), Some(0), Some(6)]
        );
        let e = measure(&steps, 60.0).unwrap();
        // θU: (3/6) / 4 steps; θO: (2/max(0, 1) + 3/6) / 4 steps.
        assert_eq!(e.underprov_accuracy_pct, 100.0 * 0.5 / 4.0);
        assert_eq!(e.overprov_accuracy_pct, 100.0 * 2.5 / 4.0);
        assert_eq!(e.underprov_timeshare_pct, 25.0);
        assert_eq!(e.overprov_timeshare_pct, 50.0);
        // Supply changed 3 times, demand twice, over 4 minutes.
        assert!((e.jitter_per_h - 15.0).abs() < 1e-12, "{}", e.jitter_per_h);
    }

    proptest! {
        #[test]
        fn the_search_matches_brute_force(
            rps in prop_oneof![0.01f64..400.0, 400.0f64..10_000.0],
            mu in 1.0f64..50.0,
            slo_factor in 3.1f64..20.0,
        ) {
            // μ·slo > ln 20, so the objective is reachable.
            let slo_s = slo_factor / mu;
            let mut d = Demand::new(mu, slo_s, 1.0);
            let found = d.of(rps).unwrap();
            let brute = demand_by_brute_force(rps, mu, slo_s);
            if rps / mu <= 144.0 {
                // The same recurrence from the same start: the same bits.
                prop_assert_eq!(found, brute);
            } else if found != brute {
                // Started below the load: only a tail within rounding of
                // the objective may land on the other side.
                let tail = Mmc::new(found.min(brute), rps, mu).unwrap().response_tail(slo_s);
                prop_assert!((tail - 0.05).abs() < 1e-12, "{found} vs {brute}: {tail}");
            }
        }

        #[test]
        fn more_load_never_demands_fewer_vms(
            a in 0.0f64..200_000.0,
            b in 0.0f64..200_000.0,
            slo_s in 0.16f64..5.0,
        ) {
            // One-second steps: loads up to 10,000, past the truncated start.
            let mut d = Demand::new(20.0, slo_s, 1.0);
            let (lo, hi) = (a.min(b).floor(), a.max(b).floor());
            prop_assert!(d.of(lo).unwrap() <= d.of(hi).unwrap());
        }

        #[test]
        fn metrics_stay_in_range(
            run in prop::collection::vec((0.0f64..20_000.0, 0u32..40), 1..60),
        ) {
            let mut d = Demand::new(20.0, 0.5, 60.0);
            let mut steps: Vec<StepInfo> = run.iter().map(|&(a, s)| step(a.floor(), s)).collect();
            fill(&mut steps, &mut d);
            let e = measure(&steps, 60.0).unwrap();
            prop_assert!(e.underprov_accuracy_pct >= 0.0 && e.underprov_accuracy_pct <= 100.0);
            prop_assert!(e.overprov_accuracy_pct >= 0.0);
            prop_assert!(e.underprov_timeshare_pct + e.overprov_timeshare_pct <= 100.0 + 1e-9);
            prop_assert!(e.underprov_accuracy_pct <= e.underprov_timeshare_pct + 1e-9);
            // At most one change per step boundary, over n minutes.
            let bound = 60.0 * (steps.len() - 1) as f64 / steps.len() as f64;
            prop_assert!(e.jitter_per_h.abs() <= bound + 1e-9);
        }
    }
}
