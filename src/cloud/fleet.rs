//! The VM fleet: launches, boot delay, scale-in order and billing.
//!
//! VMs launched at the same step form a *cohort* (they boot, age and are
//! billed alike), so the cost of a step is a sum over cohorts, not VMs.
//! All times are whole steps: a VM requested at the start of step `k`
//! exists from then on; it serves from the first step that starts at or
//! after `launch + boot_s`, i.e. the boot delay is rounded up to the step
//! grid (`ceil(boot_s / step_s)` steps).
//!
//! **Billing.** A VM alive for `τ > 0` seconds has been billed
//! `B(τ) = max(min_billed_s, g · ⌈τ / g⌉)` seconds, with the granularity
//! `g` = 1 s (per-second), 60 s (per-minute) or 3600 s (per-hour), at
//! `price_per_hour / 3600` USD per second. Booting time is billed (AWS and
//! GCP bill from the launch request). Each step books
//! `B(τ_end) − B(τ_start)` for every VM alive in it, so a started hour, or
//! the minimum charge, is booked in the step where it starts, and the
//! per-step costs add up exactly to `B(lifetime)` per VM.
//!
//! **Scale-in order.** Booting VMs go first (newest first); then running
//! VMs with the least paid-but-unused time `B(τ) − τ` (the VM closest to
//! its next billing boundary, AWS's `ClosestToNextInstanceHour`), ties to
//! the oldest.
//!
//! **Bookkeeping.** Running and booting counts are kept incrementally.
//! When every billed amount is a whole number of seconds held exactly in
//! an `f64` (whole-second steps and minimum; see `Exact`), sums of them
//! do not depend on their order: VMs past the minimum charge, billed
//! exactly `step_s` per step when the granularity divides the step, are
//! then billed in bulk, and the scale-in search stops at the first VM with
//! no prepaid time. Otherwise each cohort is billed in launch order as
//! before, so every charge is bit-identical either way.

use super::config::Billing;

/// VMs launched at the same step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cohort {
    launch_step: u64,
    ready_step: u64,
    count: u32,
}

/// How the fleet bills and boots, fixed for a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FleetParams {
    /// Step length, seconds.
    pub step_s: f64,
    /// Boot delay in whole steps (`ceil(boot_s / step_s)`).
    pub boot_steps: u64,
    /// Billing rule.
    pub billing: Billing,
    /// Minimum billed seconds per VM.
    pub min_billed_s: f64,
    /// USD per VM-second.
    pub price_per_s: f64,
}

impl FleetParams {
    /// Seconds billed for a VM alive `alive_s` seconds.
    pub(crate) fn billed_s(&self, alive_s: f64) -> f64 {
        if alive_s <= 0.0 {
            return 0.0;
        }
        let g = self.billing.granularity_s();
        let rounded = if g <= 1.0 {
            alive_s
        } else {
            g * (alive_s / g).ceil()
        };
        rounded.max(self.min_billed_s)
    }
}

/// Bounds under which every billed amount is a whole number of seconds
/// held exactly in an `f64`, so sums of them do not depend on their order.
///
/// With a whole-second step `s`, minimum `m` and granularity `g`, a VM
/// alive `τ = n·s` seconds is billed `max(g·⌈τ/g⌉, m)`, a whole number;
/// while `τ ≤ 2^40` s the quotient `τ/g` cannot round across an integer,
/// so `⌈τ/g⌉` is exact, and a step's charge of a VM is at most `s + g + m`.
/// Then `Σ count · charge` is exact (and order-free) for up to
/// `2^53 / (s + g + m)` VMs, and every `billed − alive` is ≥ 0.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Exact {
    /// Last step index with `k · s ≤ 2^40`.
    max_step: u64,
    /// Most VMs whose step charges still sum exactly.
    max_vms: u64,
    /// When `g` divides `s`: the age in steps from which a VM is billed
    /// exactly `s` per step (`max(1, ⌈m/s⌉)`).
    steady_from: Option<u64>,
}

impl Exact {
    fn of(p: &FleetParams) -> Option<Exact> {
        let (s, m, g) = (p.step_s, p.min_billed_s, p.billing.granularity_s().max(1.0));
        let whole = |x: f64| x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 4_294_967_296.0;
        if !(whole(s) && whole(m) && whole(g) && s >= 1.0) {
            return None;
        }
        let (s, m, g) = (s as u64, m as u64, g as u64);
        Some(Exact {
            max_step: (1u64 << 40) / s,
            max_vms: (1u64 << 53) / (s + g + m),
            steady_from: (s % g == 0).then(|| m.div_ceil(s).max(1)),
        })
    }
}

/// The VMs of a run, running and booting.
///
/// Cohorts are kept in launch order, all with `count > 0` between calls.
/// As the boot delay is the same for every VM, the running cohorts are a
/// prefix of that order and the booting ones the rest, so promotions and
/// the running/booting counts are kept incrementally. Step indices passed
/// to the methods never decrease.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    params: FleetParams,
    cohorts: Vec<Cohort>,
    running: u32,
    booting: u32,
    /// `cohorts[..ready]` are counted in `running`, the rest in `booting`.
    ready: usize,
    exact: Option<Exact>,
    /// With [`Exact::steady_from`]: `cohorts[..steady]` were at least that
    /// old at step `steady_k` and hold `steady_vms` VMs.
    steady: usize,
    steady_vms: u64,
    steady_k: u64,
}

impl Fleet {
    /// A fleet of `initial` VMs, running at step 0 and billed from then.
    pub fn new(params: FleetParams, initial: u32) -> Fleet {
        let mut fleet = Fleet {
            params,
            cohorts: Vec::new(),
            running: 0,
            booting: 0,
            ready: 0,
            exact: Exact::of(&params),
            steady: 0,
            steady_vms: 0,
            steady_k: 0,
        };
        fleet.reset(initial);
        fleet
    }

    /// Back to `initial` VMs running at step 0, keeping the allocation.
    pub(crate) fn reset(&mut self, initial: u32) {
        self.cohorts.clear();
        self.running = 0;
        self.booting = 0;
        self.ready = 0;
        self.steady = 0;
        self.steady_vms = 0;
        self.steady_k = 0;
        if initial > 0 {
            self.cohorts.push(Cohort {
                launch_step: 0,
                ready_step: 0,
                count: initial,
            });
            self.running = initial;
            self.ready = 1;
        }
    }

    /// Running VMs.
    #[inline]
    pub(crate) fn running(&self) -> u32 {
        self.running
    }

    /// Booting VMs.
    #[inline]
    pub(crate) fn booting(&self) -> u32 {
        self.booting
    }

    /// Running + booting VMs.
    #[inline]
    pub(crate) fn total(&self) -> u32 {
        self.running + self.booting
    }

    /// Marks the VMs whose boot has finished by the start of step `k` as
    /// running.
    #[inline]
    pub(crate) fn promote(&mut self, k: u64) {
        if self.booting == 0 {
            return;
        }
        // Ready steps grow with launch order: promote a prefix.
        while let Some(c) = self.cohorts.get(self.ready) {
            if c.ready_step > k {
                break;
            }
            self.running += c.count;
            self.booting -= c.count;
            self.ready += 1;
        }
    }

    /// Launches or terminates VMs at the start of step `k` so that
    /// `target` exist (after promoting the VMs ready by then). Returns true
    /// if anything changed.
    #[inline]
    pub(crate) fn scale_to(&mut self, target: u32, k: u64) -> bool {
        self.promote(k);
        let total = self.total();
        if target > total {
            let count = target - total;
            let ready_step = k + self.params.boot_steps;
            self.cohorts.push(Cohort {
                launch_step: k,
                ready_step,
                count,
            });
            if ready_step <= k {
                // No boot delay: every cohort is running, so is this one.
                self.running += count;
                self.ready = self.cohorts.len();
            } else {
                self.booting += count;
            }
            true
        } else if target < total {
            self.terminate(total - target, k);
            true
        } else {
            false
        }
    }

    /// Whether the shortcuts of [`Exact`] hold at step `k`.
    #[inline]
    fn exact_at(&self, k: u64) -> Option<Exact> {
        self.exact
            .filter(|e| k <= e.max_step && u64::from(self.total()) <= e.max_vms)
    }

    fn terminate(&mut self, mut n: u32, k: u64) {
        // Booting VMs first, newest first (the booting cohorts are the
        // suffix after `ready`, as `scale_to` promoted to `k`).
        let ready = self.ready;
        let mut first_empty = usize::MAX;
        for i in (ready..self.cohorts.len()).rev() {
            if n == 0 {
                break;
            }
            let c = &mut self.cohorts[i];
            let take = c.count.min(n);
            c.count -= take;
            self.booting -= take;
            n -= take;
            if c.count == 0 {
                first_empty = i;
            }
            if i < self.steady {
                // A long boot: billed as steady while still booting.
                self.steady_vms -= u64::from(take);
            }
        }
        // Then running VMs with the least paid-but-unused time, oldest first.
        // With exact billing that time is never negative, so a cohort with
        // none is the choice and the search can stop there.
        let stop_at_zero = self.exact_at(k).is_some();
        while n > 0 {
            let mut best: Option<(usize, f64)> = None;
            for (i, c) in self.cohorts[..ready].iter().enumerate() {
                if c.count == 0 {
                    continue;
                }
                let alive = (k - c.launch_step) as f64 * self.params.step_s;
                let prepaid = self.params.billed_s(alive) - alive;
                if best.is_none_or(|(_, p)| prepaid < p) {
                    best = Some((i, prepaid));
                    if stop_at_zero && prepaid == 0.0 {
                        break;
                    }
                }
            }
            let Some((i, _)) = best else { break };
            let c = &mut self.cohorts[i];
            let take = c.count.min(n);
            c.count -= take;
            self.running -= take;
            n -= take;
            if c.count == 0 {
                first_empty = first_empty.min(i);
            }
            if i < self.steady {
                self.steady_vms -= u64::from(take);
            }
        }
        if first_empty != usize::MAX {
            self.drop_empty_from(first_empty);
        }
    }

    /// Drops the emptied cohorts at or after `from`, keeping the order and
    /// the prefix marks.
    fn drop_empty_from(&mut self, from: usize) {
        let (old_ready, old_steady) = (self.ready, self.steady);
        let mut kept = from;
        for i in from..self.cohorts.len() {
            let c = self.cohorts[i];
            if c.count == 0 {
                self.ready -= usize::from(i < old_ready);
                self.steady -= usize::from(i < old_steady);
                continue;
            }
            self.cohorts[kept] = c;
            kept += 1;
        }
        self.cohorts.truncate(kept);
    }

    /// The charges booked in step `k` for every VM alive in it, USD.
    #[inline]
    pub(crate) fn bill_step(&mut self, k: u64) -> f64 {
        let billed_s = match self.exact_at(k).and_then(|e| e.steady_from) {
            Some(steady_from) => self.billed_s_steady(k, steady_from),
            None => billed_s_of(&self.params, &self.cohorts, k),
        };
        billed_s * self.params.price_per_s
    }

    /// [`billed_s_of`] when VMs at least `steady_from` steps old are billed
    /// exactly `step_s` per step: those in bulk, the younger ones one by
    /// one. Every term is a whole number below 2^53 ([`Exact`]), so the sum
    /// is the same in any order.
    #[inline]
    fn billed_s_steady(&mut self, k: u64, steady_from: u64) -> f64 {
        if k < self.steady_k {
            self.steady = 0;
            self.steady_vms = 0;
        }
        self.steady_k = k;
        while let Some(c) = self.cohorts.get(self.steady) {
            if c.launch_step + steady_from > k {
                break;
            }
            self.steady_vms += u64::from(c.count);
            self.steady += 1;
        }
        let steady = self.steady_vms as f64 * self.params.step_s;
        steady + billed_s_of(&self.params, &self.cohorts[self.steady..], k)
    }
}

/// Seconds booked in step `k` for the VMs of `cohorts`, summed in order.
#[inline]
fn billed_s_of(p: &FleetParams, cohorts: &[Cohort], k: u64) -> f64 {
    let mut billed_s = 0.0;
    for c in cohorts {
        let start = (k - c.launch_step) as f64 * p.step_s;
        let end = start + p.step_s;
        billed_s += f64::from(c.count) * (p.billed_s(end) - p.billed_s(start));
    }
    billed_s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(billing: Billing, step_s: f64, boot_steps: u64) -> FleetParams {
        FleetParams {
            step_s,
            boot_steps,
            billing,
            min_billed_s: 60.0,
            price_per_s: 1.0 / 3600.0, // $1 per VM-hour
        }
    }

    /// Keeps one VM (launched at step 0 from an empty fleet) for `steps`
    /// steps and returns the total charge in USD.
    fn one_vm_for(p: FleetParams, steps: u64) -> f64 {
        let mut fleet = Fleet::new(p, 0);
        let mut cost = 0.0;
        for k in 0..steps {
            if k == 0 {
                fleet.scale_to(1, 0);
            }
            fleet.promote(k);
            cost += fleet.bill_step(k);
        }
        cost
    }

    #[test]
    fn per_hour_billing_charges_two_hours_for_61_minutes() {
        let cost = one_vm_for(params(Billing::PerHour, 60.0, 2), 61);
        assert!((cost - 2.0).abs() < 1e-12, "{cost}");
    }

    #[test]
    fn per_hour_charge_is_booked_in_the_step_the_hour_starts() {
        let p = params(Billing::PerHour, 60.0, 0);
        let mut fleet = Fleet::new(p, 1);
        assert!((fleet.bill_step(0) - 1.0).abs() < 1e-12);
        assert_eq!(fleet.bill_step(59), 0.0);
        assert!((fleet.bill_step(60) - 1.0).abs() < 1e-12);
        fleet.promote(61);
        assert_eq!(fleet.bill_step(61), 0.0);
    }

    #[test]
    fn per_second_billing_charges_the_minimum_for_a_10_second_vm() {
        let cost = one_vm_for(params(Billing::PerSecond, 10.0, 0), 1);
        assert!((cost - 60.0 / 3600.0).abs() < 1e-15, "{cost}");
        // and 90 s kept costs exactly 90 s
        let cost = one_vm_for(params(Billing::PerSecond, 10.0, 0), 9);
        assert!((cost - 90.0 / 3600.0).abs() < 1e-15, "{cost}");
    }

    #[test]
    fn per_minute_billing_rounds_up_to_whole_minutes() {
        let cost = one_vm_for(params(Billing::PerMinute, 30.0, 0), 3);
        assert!((cost - 120.0 / 3600.0).abs() < 1e-15, "{cost}");
    }

    #[test]
    fn booting_time_is_billed() {
        // 5 steps of 60 s with a 2-step boot: billed 300 s, served 180 s.
        let p = params(Billing::PerSecond, 60.0, 2);
        let cost = one_vm_for(p, 5);
        assert!((cost - 300.0 / 3600.0).abs() < 1e-15);
        let mut fleet = Fleet::new(p, 0);
        fleet.scale_to(1, 0);
        fleet.promote(1);
        assert_eq!((fleet.running(), fleet.booting()), (0, 1));
        fleet.promote(2);
        assert_eq!((fleet.running(), fleet.booting()), (1, 0));
    }

    #[test]
    fn scale_in_removes_booting_vms_first() {
        let mut fleet = Fleet::new(params(Billing::PerSecond, 60.0, 2), 3);
        fleet.scale_to(5, 1);
        assert_eq!((fleet.running(), fleet.booting()), (3, 2));
        fleet.scale_to(4, 2);
        assert_eq!((fleet.running(), fleet.booting()), (3, 1));
        fleet.scale_to(2, 2);
        assert_eq!((fleet.running(), fleet.booting()), (2, 0));
    }

    #[test]
    fn hourly_scale_in_removes_the_vm_closest_to_its_next_hour() {
        let p = params(Billing::PerHour, 60.0, 0);
        let mut fleet = Fleet::new(p, 1); // launched at minute 0
        fleet.scale_to(2, 30); // second VM launched at minute 30
                               // At minute 50, VM 1 has 10 prepaid minutes, VM 2 has 40.
        fleet.scale_to(1, 50);
        assert_eq!(fleet.cohorts.len(), 1);
        assert_eq!(fleet.cohorts[0].launch_step, 30);
    }

    /// The fleet before the incremental bookkeeping (issue: performance),
    /// kept as the reference the fast one must match bit for bit.
    #[derive(Debug, Clone)]
    struct ReferenceFleet {
        params: FleetParams,
        cohorts: Vec<Cohort>,
        running: u32,
        booting: u32,
    }

    impl ReferenceFleet {
        fn new(params: FleetParams, initial: u32) -> ReferenceFleet {
            let mut fleet = ReferenceFleet {
                params,
                cohorts: Vec::new(),
                running: 0,
                booting: 0,
            };
            if initial > 0 {
                fleet.cohorts.push(Cohort {
                    launch_step: 0,
                    ready_step: 0,
                    count: initial,
                });
                fleet.running = initial;
            }
            fleet
        }

        fn promote(&mut self, k: u64) {
            if self.booting == 0 {
                return;
            }
            let (mut running, mut booting) = (0, 0);
            for c in &self.cohorts {
                if c.ready_step <= k {
                    running += c.count;
                } else {
                    booting += c.count;
                }
            }
            self.running = running;
            self.booting = booting;
        }

        fn scale_to(&mut self, target: u32, k: u64) {
            let total = self.running + self.booting;
            if target > total {
                let count = target - total;
                let ready_step = k + self.params.boot_steps;
                self.cohorts.push(Cohort {
                    launch_step: k,
                    ready_step,
                    count,
                });
                if ready_step <= k {
                    self.running += count;
                } else {
                    self.booting += count;
                }
            } else if target < total {
                self.terminate(total - target, k);
            }
        }

        fn terminate(&mut self, mut n: u32, k: u64) {
            for c in self.cohorts.iter_mut().rev() {
                if n == 0 {
                    break;
                }
                if c.ready_step > k {
                    let take = c.count.min(n);
                    c.count -= take;
                    self.booting -= take;
                    n -= take;
                }
            }
            while n > 0 {
                let mut best: Option<(usize, f64)> = None;
                for (i, c) in self.cohorts.iter().enumerate() {
                    if c.count == 0 || c.ready_step > k {
                        continue;
                    }
                    let alive = (k - c.launch_step) as f64 * self.params.step_s;
                    let prepaid = self.params.billed_s(alive) - alive;
                    if best.is_none_or(|(_, p)| prepaid < p) {
                        best = Some((i, prepaid));
                    }
                }
                let Some((i, _)) = best else { break };
                let c = &mut self.cohorts[i];
                let take = c.count.min(n);
                c.count -= take;
                self.running -= take;
                n -= take;
            }
            self.cohorts.retain(|c| c.count > 0);
        }

        fn bill_step(&self, k: u64) -> f64 {
            let p = &self.params;
            let mut billed_s = 0.0;
            for c in &self.cohorts {
                let start = (k - c.launch_step) as f64 * p.step_s;
                let end = start + p.step_s;
                billed_s += f64::from(c.count) * (p.billed_s(end) - p.billed_s(start));
            }
            billed_s * p.price_per_s
        }
    }

    fn arbitrary_params() -> impl Strategy<Value = FleetParams> {
        let billing = prop_oneof![
            Just(Billing::PerSecond),
            Just(Billing::PerMinute),
            Just(Billing::PerHour)
        ];
        // Whole and fractional steps and minimums, to cover the exact
        // shortcuts and the general path.
        let step_s = prop_oneof![
            Just(1.0),
            Just(30.0),
            Just(60.0),
            Just(3600.0),
            Just(7.0),
            0.5f64..400.0
        ];
        let min_billed = prop_oneof![Just(0.0), Just(60.0), Just(150.0), 0.0f64..500.0];
        (billing, step_s, min_billed, 0u64..4, 0.001f64..2.0).prop_map(
            |(billing, step_s, min_billed_s, boot_steps, price)| FleetParams {
                step_s,
                boot_steps,
                billing,
                min_billed_s,
                price_per_s: price / 3600.0,
            },
        )
    }

    proptest! {
        #[test]
        fn the_incremental_fleet_matches_the_reference_bit_for_bit(
            p in arbitrary_params(),
            initial in 0u32..6,
            targets in proptest::collection::vec(0u32..12, 1..120),
        ) {
            let mut fast = Fleet::new(p, initial);
            let mut slow = ReferenceFleet::new(p, initial);
            for (k, &target) in targets.iter().enumerate() {
                let k = k as u64;
                fast.promote(k);
                slow.promote(k);
                fast.scale_to(target, k);
                slow.scale_to(target, k);
                prop_assert_eq!((fast.running(), fast.booting()), (slow.running, slow.booting));
                prop_assert_eq!(&fast.cohorts, &slow.cohorts);
                let (a, b) = (fast.bill_step(k), slow.bill_step(k));
                prop_assert_eq!(a.to_bits(), b.to_bits(), "step {}: {} vs {}", k, a, b);
                fast.promote(k + 1);
                slow.promote(k + 1);
                prop_assert_eq!((fast.running(), fast.booting()), (slow.running, slow.booting));
            }
        }
    }
}
