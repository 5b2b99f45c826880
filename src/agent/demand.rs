//! The demand design's yardstick: how many VMs a rate needs to meet the
//! response-time objective.
//!
//! `SloCapacity` holds, for each fleet size `c` in `0..=cloud.max_vms`,
//! the highest arrival rate (requests/s) that `c` VMs serve as an M/M/c
//! FCFS queue (service rate `μ = cloud.vm_capacity_rps` each) with a 95th
//! percentile response time within `cloud.slo_s`, i.e. with
//! `P(T > slo_s) ≤ 0.05` (the queue of [`crate::cloud::queueing::Mmc`],
//! the same criterion as the elasticity metrics' demand, both from
//! [`crate::cloud::queueing::DEMAND_QUANTILE`]). The demand of a rate `λ` is then the fewest `c`
//! whose capacity reaches `λ`: a binary search of the table, so the
//! agent pays a few comparisons per step, not a queueing computation.
//!
//! Each capacity is found by bisection on the utilisation `λ/(cμ)` in
//! `[0, 1)` (the tail grows with the load), to a relative precision of
//! `2^{-40}`. When no fleet meets the objective at all
//! (`e^{−μ·slo_s} ≥ 0.05`: the service time alone misses it), the table
//! falls back to the plain capacity `c·μ`. Above `cloud.max_vms` the
//! demand is extrapolated linearly from the largest fleet's capacity
//! (the fleet is clamped to the bounds anyway), and so it is above
//! [`TABLE_MAX_VMS`], where the table stops.

use crate::cloud::queueing::Mmc;
use crate::cloud::queueing::DEMAND_QUANTILE;
use crate::cloud::CloudConfig;

/// Bisection steps per fleet size.
const BISECTION_STEPS: u32 = 40;

/// The largest fleet the table holds (its cost grows with the square of
/// the size); beyond it the demand is extrapolated at this fleet's
/// utilisation, which overstates it slightly (larger fleets run hotter).
pub(crate) const TABLE_MAX_VMS: u32 = 1024;

/// The SLO capacity of every fleet size up to `cloud.max_vms`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SloCapacity {
    /// `caps[c]`: the highest rate `c` VMs serve within the objective,
    /// requests/s; non-decreasing, `caps[0] = 0`.
    caps: Vec<f64>,
    /// `1 / cloud.vm_capacity_rps`.
    inv_mu: f64,
}

impl SloCapacity {
    /// The table of the cloud `c`.
    pub fn new(c: &CloudConfig) -> SloCapacity {
        let mu = c.vm_capacity_rps;
        let tail_limit = 1.0 - DEMAND_QUANTILE;
        let attainable = (-(mu * c.slo_s)).exp() < tail_limit;
        let mut caps = Vec::with_capacity(c.max_vms as usize + 1);
        caps.push(0.0);
        for servers in 1..=c.max_vms.min(TABLE_MAX_VMS) {
            let full = f64::from(servers) * mu;
            let cap = if attainable {
                let meets = |rho: f64| {
                    Mmc::new(servers, rho * full, mu)
                        .is_some_and(|q| q.response_tail(c.slo_s) <= tail_limit)
                };
                let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
                for _ in 0..BISECTION_STEPS {
                    let mid = 0.5 * (lo + hi);
                    if meets(mid) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                lo * full
            } else {
                full
            };
            let last = caps.last().copied().unwrap_or(0.0);
            caps.push(cap.max(last));
        }
        SloCapacity {
            caps,
            inv_mu: 1.0 / mu,
        }
    }

    /// An empty table, for the designs that do not use one.
    pub(crate) fn empty() -> SloCapacity {
        SloCapacity {
            caps: vec![0.0],
            inv_mu: 0.0,
        }
    }

    /// The VMs `rate_rps` demands: the fewest whose SLO capacity reaches
    /// it (0 for no load), extrapolated beyond the table. Not rounded
    /// up past the table, so it can be scaled before rounding.
    #[inline]
    pub(crate) fn vms(&self, rate_rps: f64) -> f64 {
        if rate_rps.is_nan() || rate_rps <= 0.0 {
            return 0.0;
        }
        // `caps[c] ≤ c·μ`, so no fleet below `λ/μ` reaches the rate: walk
        // up from one below it (a step or two; rounding-safe), which finds
        // the partition point of the table without a binary search.
        // Through i64 (one instruction; the same count: a positive rate
        // over μ converts alike, saturating far above the table).
        let mut c = ((rate_rps * self.inv_mu) as i64 as usize).saturating_sub(1);
        while c < self.caps.len() && self.caps[c] < rate_rps {
            c += 1;
        }
        if c < self.caps.len() {
            return c as f64;
        }
        let top = self.caps.len() - 1;
        match self.caps[top] {
            cap if cap > 0.0 => top as f64 * rate_rps / cap,
            _ => f64::INFINITY,
        }
    }

    #[cfg(test)]
    /// The SLO capacity of `servers` VMs, requests/s (the largest fleet's
    /// beyond the table).
    pub(crate) fn capacity(&self, servers: u32) -> f64 {
        let i = (servers as usize).min(self.caps.len() - 1);
        self.caps[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config(mu: f64, slo_s: f64, max_vms: u32) -> Config {
        let mut c = Config::default();
        c.cloud.vm_capacity_rps = mu;
        c.cloud.slo_s = slo_s;
        c.cloud.max_vms = max_vms;
        c
    }

    #[test]
    fn the_demand_meets_the_objective_and_one_vm_fewer_does_not() {
        let config = config(10.0, 0.5, 60);
        let table = SloCapacity::new(&config.cloud);
        for rate in [0.5, 3.0, 9.0, 17.0, 55.0, 230.0, 480.0] {
            let c = table.vms(rate) as u32;
            let tail = |n: u32| Mmc::new(n, rate, 10.0).map_or(1.0, |q| q.response_tail(0.5));
            assert!(tail(c) <= 0.05 + 1e-9, "rate {rate}: {c} VMs miss it");
            assert!(
                tail(c - 1) > 0.05 - 1e-9,
                "rate {rate}: {} VMs meet it",
                c - 1
            );
        }
        assert_eq!(table.vms(0.0), 0.0);
    }

    #[test]
    fn a_slow_service_needs_relatively_more_headroom_in_a_small_fleet() {
        // μ·slo = 5: queueing matters; a small fleet must run cooler.
        let table = SloCapacity::new(&config(10.0, 0.5, 400).cloud);
        let util = |c: u32| table.capacity(c) / (f64::from(c) * 10.0);
        assert!(
            util(2) < util(20) && util(20) < util(200),
            "{} {} {}",
            util(2),
            util(20),
            util(200)
        );
    }

    #[test]
    fn the_walk_finds_the_partition_point_of_the_table() {
        for (mu, slo) in [(10.0, 0.5), (100.0, 0.5), (1.0, 0.5), (20.0, 0.2)] {
            let table = SloCapacity::new(&config(mu, slo, 50).cloud);
            for i in 1..6000 {
                let rate = f64::from(i) * mu / 97.0;
                let c = table.caps.partition_point(|&cap| cap < rate);
                if c < table.caps.len() {
                    assert_eq!(table.vms(rate), c as f64, "μ {mu}, rate {rate}");
                }
            }
            for &cap in &table.caps {
                assert_eq!(
                    table.vms(cap),
                    table.caps.partition_point(|&x| x < cap) as f64
                );
            }
        }
    }

    #[test]
    fn a_huge_fleet_bound_builds_a_bounded_table_quickly() {
        let table = SloCapacity::new(&config(100.0, 0.5, 1_000_000).cloud);
        assert_eq!(table.caps.len(), TABLE_MAX_VMS as usize + 1);
        let d = table.vms(1e7);
        assert!((1e5..1.01e5).contains(&d), "{d}");
    }

    #[test]
    fn an_unattainable_objective_falls_back_to_the_plain_capacity() {
        let table = SloCapacity::new(&config(1.0, 0.5, 10).cloud);
        assert_eq!(table.vms(3.5), 4.0);
        // Beyond the table: linear.
        assert_eq!(table.vms(20.0), 20.0);
    }
}
