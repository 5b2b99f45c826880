//! A certified lower bound on the score of any policy on an episode of the
//! analytic model: the number no schedule can beat, reported beside the
//! oracle (`bound_usd`), whose own score is only an upper estimate of the
//! optimum where its planning model errs (overload, non-linear billing).
//!
//! With the episode's arrivals `A_t` (the seed's draws, which every policy
//! meets), `K = price_per_hour·Δ/3600` and `pen_t(c)` the penalty of step
//! `t` served by `c` VMs with an empty queue (`serve_from_empty`),
//!
//! `bound = Σ_t min_{0 ≤ c ≤ max_vms} (K·c + pen_t(c))`.
//!
//! Why no policy scores below it:
//! - **cost**: a VM running in step `t` is alive all of it, and a VM is
//!   billed at least its alive time (`B(τ) ≥ τ` for every billing rule),
//!   so a run costs at least `K` per running VM-step (booting VMs cost
//!   more, never less);
//! - **penalty**: a backlog carried into a step never lowers its
//!   violations or drops (property-tested in `serve`), so each step's
//!   penalty is at least `pen_t(c_t)` for the VMs `c_t` running in it; the
//!   environment's charge for requests still waiting after the last step
//!   only adds.
//!
//! Summing per step and taking each step's best `c` can only lower the
//! total. The bound ignores boot delays, billing minimums and the backlog,
//! so it is loose where those matter; it is what no schedule, clairvoyant
//! or not, can beat. It holds for the analytic model only (`None` for
//! `cloud.model = "des"`).

use super::config::{CloudSetup, ServiceModel};
use super::env::{episode_arrivals, Workload};
use super::serve::serve_from_empty;

/// Most `steps × VM counts²` the bound is computed for, the oracle's own
/// budget (2 × its 2^30 units of `steps × counts²/2`: about a year of
/// minutes with 60 counts, or a week with 460); beyond it `None`.
const MAX_BOUND_WORK: f64 = 2_147_483_648.0;

/// The lower bound on the score (USD) of any policy on `workload` with
/// `seed` under `setup`; `None` for the request-level model or a bound too
/// costly to compute.
pub(crate) fn score_lower_bound(
    setup: CloudSetup<'_>,
    workload: &Workload,
    seed: u64,
) -> Option<f64> {
    let (c, r) = (setup.cloud, setup.reward);
    if c.model != ServiceModel::Analytic {
        return None;
    }
    let counts = f64::from(c.max_vms) + 1.0;
    if workload.arrivals.len() as f64 * counts * counts > MAX_BOUND_WORK {
        return None;
    }
    let vm_step_usd = c.price_per_hour * workload.step_s / 3600.0;
    let arrivals = episode_arrivals(workload, setup.workload.noise, seed);
    let bound = arrivals
        .iter()
        .map(|&a| {
            (0..=c.max_vms)
                .map(|servers| {
                    let out = serve_from_empty(c, workload.step_s, a, servers);
                    vm_step_usd * f64::from(servers)
                        + r.penalty_per_violation * out.violations
                        + r.penalty_per_drop * out.dropped
                })
                .fold(f64::INFINITY, f64::min)
        })
        .sum();
    Some(bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn workload(steps: usize, rps: f64) -> Workload {
        Workload {
            name: "w".into(),
            start_s: 0.0,
            step_s: 60.0,
            arrivals: vec![rps * 60.0; steps],
        }
    }

    #[test]
    fn an_idle_trace_is_bounded_by_nothing_but_a_load_by_its_cheapest_fleet() {
        let config = Config::default();
        let idle = score_lower_bound((&config).into(), &workload(10, 0.0), 1).unwrap();
        assert_eq!(idle, 0.0);
        // 100 req/s on VMs of 20 req/s: at least 5 VMs' worth of cost (or
        // the penalty of fewer), for every step.
        let busy = score_lower_bound((&config).into(), &workload(10, 100.0), 1).unwrap();
        let k = config.cloud.price_per_hour * 60.0 / 3600.0;
        assert!(busy > 10.0 * 5.0 * k * 0.99, "{busy}");
    }

    #[test]
    fn no_bound_on_the_request_level_model_or_beyond_the_budget() {
        let mut config = Config::default();
        config.cloud.model = ServiceModel::Des;
        assert_eq!(
            score_lower_bound((&config).into(), &workload(10, 1.0), 1),
            None
        );
        let mut config = Config::default();
        config.cloud.max_vms = 1000;
        assert_eq!(
            score_lower_bound((&config).into(), &workload(3000, 1.0), 1),
            None
        );
    }
}
