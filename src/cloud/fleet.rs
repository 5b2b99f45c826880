//! The VM fleet: launches, boot delays, scale-in order and billing.
//!
//! VMs launched at the same step that become ready at the same step form
//! a *cohort* (they boot, age and are billed alike), so the cost of a step
//! is a sum over cohorts, not VMs. All times are whole steps: a VM
//! requested at the start of step `k` exists from then on; it serves from
//! the first step that starts at or after `launch + boot`, i.e. its boot
//! time is rounded up to the step grid (`ceil(boot / step_s)` steps).
//!
//! **Boot times.** With `cloud.boot = "fixed"` every VM boots for
//! `boot_s`. Otherwise each launched VM draws its own boot time from
//! [`BootTime`] (uniform, log-normal or an empirical list) on the run's
//! own [`Stream::BootTimes`] stream, so the draws shift no other random
//! stream, and a fixed-boot run draws nothing. Measured boot times vary
//! widely with the provider, the image and the instance type (Mao &
//! Humphrey, IEEE CLOUD 2012): VMs launched together need not become
//! ready together, nor in launch order.
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
//! **Scale-in order.** Booting VMs go first: those that would become ready
//! last, newest first among equals (with a fixed boot time, simply the
//! newest first); then running VMs with the least paid-but-unused time
//! `B(τ) − τ` (the VM closest to its next billing boundary, AWS's
//! `ClosestToNextInstanceHour`), ties to the oldest.
//!
//! **Bookkeeping.** Cohorts are kept in launch order (billing and the
//! steady prefix below rely on it); running and booting counts are kept
//! incrementally, with the earliest ready step of the booting VMs, so a
//! step with no boot ending costs nothing. When every billed amount is a
//! whole number of seconds held exactly in an `f64` (whole-second steps
//! and minimum; see `Exact`), sums of them do not depend on their order:
//! VMs past the minimum charge, billed exactly `step_s` per step when the
//! granularity divides the step, are then billed in bulk, and the scale-in
//! search stops at the first VM with no prepaid time. Otherwise each
//! cohort is billed in launch order as before, so every charge is
//! bit-identical either way.

use std::sync::Arc;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::config::Billing;
use crate::rng::{rng_for, SimRng, Stream};

/// VMs launched at the same step and ready at the same step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cohort {
    launch_step: u64,
    ready_step: u64,
    count: u32,
}

/// The boot-time distribution of each launched VM, seconds (built from
/// `[cloud]` by `CloudConfig::boot_time`).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum BootTime {
    /// Every VM boots for [`FleetParams::boot_steps`]; nothing is drawn.
    #[default]
    Fixed,
    /// Uniform on `[low_s, high_s)`.
    Uniform {
        /// Shortest boot, seconds, ≥ 0.
        low_s: f64,
        /// Longest boot, seconds.
        high_s: f64,
    },
    /// `ln X ~ N(log_mean, log_sd²)`.
    LogNormal {
        /// Mean of the log, ln seconds.
        log_mean: f64,
        /// Standard deviation of the log, ≥ 0.
        log_sd: f64,
    },
    /// One of the samples, each equally likely (non-empty).
    Empirical(Arc<[f64]>),
}

impl BootTime {
    /// One boot time, seconds, ≥ 0 (0 for `Fixed`, which is never drawn).
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let s = match self {
            BootTime::Fixed => 0.0,
            BootTime::Uniform { low_s, high_s } => {
                let u: f64 = rng.random();
                low_s + (high_s - low_s) * u
            }
            BootTime::LogNormal { log_mean, log_sd } => {
                let z: f64 = StandardNormal.sample(rng);
                (log_mean + log_sd * z).exp()
            }
            BootTime::Empirical(samples) => {
                if samples.is_empty() {
                    0.0
                } else {
                    samples[rng.random_range(0..samples.len())]
                }
            }
        };
        if s.is_nan() {
            0.0
        } else {
            s.max(0.0)
        }
    }
}

/// Appends the ready steps of `count` VMs launched at step `k`, each
/// drawing its boot time from `boot` with `rng`, then sorts `out`.
fn draw_ready_steps(
    boot: &BootTime,
    rng: &mut SimRng,
    step_s: f64,
    count: u32,
    k: u64,
    out: &mut Vec<u64>,
) {
    out.clear();
    for _ in 0..count {
        let steps = (boot.sample(rng) / step_s).ceil();
        // `as` saturates: a boot beyond the horizon never ends.
        out.push(k.saturating_add(steps as u64));
    }
    out.sort_unstable();
}

/// How the fleet bills and boots, fixed for a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FleetParams {
    /// Step length, seconds.
    pub step_s: f64,
    /// Boot delay in whole steps (`ceil(boot_s / step_s)`) of
    /// [`BootTime::Fixed`].
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
/// Cohorts are kept in launch order (those of one launch by ready step),
/// all with `count > 0` between calls. A cohort is running once its ready
/// step is at most the last step promoted to (`promoted_k`). With a fixed
/// boot delay the running cohorts are a prefix of launch order; with
/// drawn boot times a later launch may be ready first, so `ready` marks
/// the longest running prefix and the cohorts after it are checked one by
/// one. Step indices passed to the methods never decrease.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    params: FleetParams,
    cohorts: Vec<Cohort>,
    running: u32,
    booting: u32,
    /// `cohorts[..ready]` are all running; after it, a cohort is running
    /// when its ready step is at most `promoted_k`.
    ready: usize,
    /// The step last promoted to.
    promoted_k: u64,
    /// At most the earliest ready step of a booting cohort (`u64::MAX`
    /// when none boots): no promotion happens before it.
    next_ready: u64,
    /// The boot-time distribution.
    boot: BootTime,
    /// The run's [`Stream::BootTimes`] stream (unused with a fixed boot).
    boot_rng: SimRng,
    /// Ready steps of a launch (reused buffer).
    draws: Vec<u64>,
    exact: Option<Exact>,
    /// With [`Exact::steady_from`]: `cohorts[..steady]` were at least that
    /// old at step `steady_k` and hold `steady_vms` VMs.
    steady: usize,
    steady_vms: u64,
    steady_k: u64,
}

impl Fleet {
    /// A fleet of `initial` VMs, running at step 0 and billed from then,
    /// booting new VMs for [`FleetParams::boot_steps`].
    #[cfg(test)]
    pub fn new(params: FleetParams, initial: u32) -> Fleet {
        Fleet::with_boot(params, initial, BootTime::Fixed)
    }

    /// A fleet of `initial` VMs whose launched VMs draw their boot times
    /// from `boot` (on the stream of seed 0 until [`Fleet::reset`]).
    pub fn with_boot(params: FleetParams, initial: u32, boot: BootTime) -> Fleet {
        let mut fleet = Fleet {
            params,
            cohorts: Vec::new(),
            running: 0,
            booting: 0,
            ready: 0,
            promoted_k: 0,
            next_ready: u64::MAX,
            boot,
            boot_rng: rng_for(0, 0, Stream::BootTimes),
            draws: Vec::new(),
            exact: Exact::of(&params),
            steady: 0,
            steady_vms: 0,
            steady_k: 0,
        };
        fleet.reset(initial, 0);
        fleet
    }

    /// Back to `initial` VMs running at step 0, keeping the allocation;
    /// boot times are drawn from the [`Stream::BootTimes`] stream of
    /// `seed`.
    pub(crate) fn reset(&mut self, initial: u32, seed: u64) {
        self.cohorts.clear();
        self.running = 0;
        self.booting = 0;
        self.ready = 0;
        self.promoted_k = 0;
        self.next_ready = u64::MAX;
        if self.boot != BootTime::Fixed {
            self.boot_rng = rng_for(seed, 0, Stream::BootTimes);
        }
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

    /// Whether this fleet and `other`, both promoted to step `k`, bill and
    /// serve the same from `k` on under the same targets: the same VMs
    /// running and booting (with the same ready steps and the same boot
    /// stream), where the running VMs old enough to be billed exactly one
    /// step per step ([`Exact::steady_from`]) count as interchangeable
    /// (each is billed the same and none has prepaid time, so which one a
    /// scale-in picks changes nothing). Used to stop replaying a changed
    /// schedule once it has rejoined the old one; `false` when unsure.
    pub(crate) fn same_future(&self, other: &Fleet, k: u64) -> bool {
        if self.running != other.running
            || self.booting != other.booting
            || self.params != other.params
            || self.boot != other.boot
            || self.promoted_k != k
            || other.promoted_k != k
            || (self.boot != BootTime::Fixed && self.boot_rng != other.boot_rng)
        {
            return false;
        }
        let steady_from = self.exact_at(k).and_then(|e| e.steady_from);
        if steady_from != other.exact_at(k).and_then(|e| e.steady_from) {
            return false;
        }
        let split = |f: &Fleet| -> (u64, usize) {
            let Some(from) = steady_from else {
                return (0, 0);
            };
            let n = f
                .cohorts
                .iter()
                .take_while(|c| c.launch_step.saturating_add(from) <= k && c.ready_step <= k)
                .count();
            (f.cohorts[..n].iter().map(|c| u64::from(c.count)).sum(), n)
        };
        let ((a_vms, a), (b_vms, b)) = (split(self), split(other));
        a_vms == b_vms && self.cohorts[a..] == other.cohorts[b..]
    }

    /// Marks the VMs whose boot has finished by the start of step `k` as
    /// running.
    #[inline]
    pub(crate) fn promote(&mut self, k: u64) {
        if self.booting == 0 || k < self.next_ready {
            self.promoted_k = k;
            return;
        }
        self.promote_booting(k);
    }

    /// [`Fleet::promote`] when some boot may end by `k`: counts the
    /// cohorts ready in `(promoted_k, k]` as running, finds the next
    /// ready step, and extends the running prefix.
    fn promote_booting(&mut self, k: u64) {
        let last = self.promoted_k;
        let mut next = u64::MAX;
        for c in &self.cohorts[self.ready..] {
            if c.ready_step <= last {
                continue; // running already
            }
            if c.ready_step <= k {
                self.running += c.count;
                self.booting -= c.count;
            } else {
                next = next.min(c.ready_step);
            }
        }
        self.next_ready = next;
        self.promoted_k = k;
        self.extend_ready(k);
    }

    /// Extends the running prefix `cohorts[..ready]` over the cohorts
    /// ready by `k`.
    #[inline]
    fn extend_ready(&mut self, k: u64) {
        while self
            .cohorts
            .get(self.ready)
            .is_some_and(|c| c.ready_step <= k)
        {
            self.ready += 1;
        }
    }

    /// Adds `count` VMs launched at `k` and ready at `ready_step`.
    #[inline]
    fn launch(&mut self, k: u64, ready_step: u64, count: u32) {
        self.cohorts.push(Cohort {
            launch_step: k,
            ready_step,
            count,
        });
        if ready_step <= k {
            // No boot delay: it serves at once.
            self.running += count;
            self.extend_ready(k);
        } else {
            self.booting += count;
            self.next_ready = self.next_ready.min(ready_step);
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
            if self.boot == BootTime::Fixed {
                self.launch(k, k.saturating_add(self.params.boot_steps), count);
            } else {
                let mut draws = std::mem::take(&mut self.draws);
                draw_ready_steps(
                    &self.boot,
                    &mut self.boot_rng,
                    self.params.step_s,
                    count,
                    k,
                    &mut draws,
                );
                // One cohort per distinct ready step, earliest first.
                for same in draws.chunk_by(|a, b| a == b) {
                    self.launch(k, same[0], same.len() as u32);
                }
                self.draws = draws;
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
        // Booting VMs first: the cohort that would be ready last, newest
        // first among equals (all booting cohorts lie after `ready`, as
        // `scale_to` promoted to `k`). With a fixed boot delay this is the
        // newest cohort, then the one before, and so on.
        let ready = self.ready;
        let mut first_empty = usize::MAX;
        while n > 0 && self.booting > 0 {
            let mut pick: Option<usize> = None;
            for (i, c) in self.cohorts.iter().enumerate().skip(ready) {
                if c.count > 0
                    && c.ready_step > k
                    && pick.is_none_or(|p| c.ready_step >= self.cohorts[p].ready_step)
                {
                    pick = Some(i);
                }
            }
            let Some(i) = pick else { break };
            let c = &mut self.cohorts[i];
            let take = c.count.min(n);
            c.count -= take;
            self.booting -= take;
            n -= take;
            if c.count == 0 {
                first_empty = first_empty.min(i);
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
            for (i, c) in self.cohorts.iter().enumerate() {
                if c.count == 0 || c.ready_step > k {
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
        // At most `Exact::max_vms` < 2^53: i64's conversion (one
        // instruction on x86_64, u64's takes about six) is the same value.
        let steady = self.steady_vms as i64 as f64 * self.params.step_s;
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
    /// With drawn boot times it draws them as the fleet does, from its own
    /// copy of the same stream, and recomputes everything from scratch.
    #[derive(Debug, Clone)]
    struct ReferenceFleet {
        params: FleetParams,
        cohorts: Vec<Cohort>,
        running: u32,
        booting: u32,
        boot: BootTime,
        rng: SimRng,
    }

    impl ReferenceFleet {
        fn new(params: FleetParams, initial: u32) -> ReferenceFleet {
            ReferenceFleet::with_boot(params, initial, BootTime::Fixed, 0)
        }

        fn with_boot(
            params: FleetParams,
            initial: u32,
            boot: BootTime,
            seed: u64,
        ) -> ReferenceFleet {
            let mut fleet = ReferenceFleet {
                params,
                cohorts: Vec::new(),
                running: 0,
                booting: 0,
                boot,
                rng: rng_for(seed, 0, Stream::BootTimes),
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
                let ready_steps: Vec<u64> = if self.boot == BootTime::Fixed {
                    vec![k.saturating_add(self.params.boot_steps); count as usize]
                } else {
                    let mut out = Vec::new();
                    draw_ready_steps(
                        &self.boot,
                        &mut self.rng,
                        self.params.step_s,
                        count,
                        k,
                        &mut out,
                    );
                    out
                };
                let first = self.cohorts.len();
                for ready_step in ready_steps {
                    match self.cohorts[first..].last_mut() {
                        Some(c) if c.ready_step == ready_step => c.count += 1,
                        _ => self.cohorts.push(Cohort {
                            launch_step: k,
                            ready_step,
                            count: 1,
                        }),
                    }
                    if ready_step <= k {
                        self.running += 1;
                    } else {
                        self.booting += 1;
                    }
                }
            } else if target < total {
                self.terminate(total - target, k);
            }
        }

        fn terminate(&mut self, mut n: u32, k: u64) {
            // One VM at a time: the booting one ready last, newest first.
            while n > 0 {
                let pick = (0..self.cohorts.len())
                    .filter(|&i| self.cohorts[i].count > 0 && self.cohorts[i].ready_step > k)
                    .max_by_key(|&i| (self.cohorts[i].ready_step, i));
                let Some(i) = pick else { break };
                self.cohorts[i].count -= 1;
                self.booting -= 1;
                n -= 1;
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

    fn arbitrary_boot() -> impl Strategy<Value = BootTime> {
        prop_oneof![
            (0.0f64..200.0, 0.0f64..300.0).prop_map(|(low_s, width)| BootTime::Uniform {
                low_s,
                high_s: low_s + width
            }),
            (1.0f64..6.0, 0.0f64..1.5)
                .prop_map(|(log_mean, log_sd)| BootTime::LogNormal { log_mean, log_sd }),
            proptest::collection::vec(0.0f64..400.0, 1..6)
                .prop_map(|v| BootTime::Empirical(v.into())),
        ]
    }

    #[test]
    fn boot_draws_are_deterministic_per_seed_and_differ_between_seeds() {
        let boot = BootTime::LogNormal {
            log_mean: 4.5,
            log_sd: 0.4,
        };
        let draw = |seed| {
            let mut rng = rng_for(seed, 0, Stream::BootTimes);
            (0..100)
                .map(|_| boot.sample(&mut rng))
                .collect::<Vec<f64>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }

    #[test]
    fn boot_sample_means_match_the_configured_means() {
        use crate::cloud::config::{BootDistribution, CloudConfig};
        let mut rng = rng_for(9, 0, Stream::BootTimes);
        let n = 200_000;
        let cases = [
            (
                BootDistribution::Uniform,
                100.0,
                40.0,
                vec![],
                100.0,
                40.0 / 3f64.sqrt(),
            ),
            (
                BootDistribution::LogNormal,
                100.0,
                40.0,
                vec![],
                100.0,
                40.0,
            ),
            (
                BootDistribution::LogNormal,
                97.0,
                150.0,
                vec![],
                97.0,
                150.0,
            ),
            (
                BootDistribution::Empirical,
                0.0,
                0.0,
                vec![60.0, 95.0, 97.0, 130.0, 400.0],
                156.4,
                0.0,
            ),
        ];
        for (boot, boot_s, boot_spread_s, boot_samples_s, mean, sd) in cases {
            let cloud = CloudConfig {
                boot,
                boot_s,
                boot_spread_s,
                boot_samples_s,
                ..CloudConfig::default()
            };
            let sampler = cloud.boot_time();
            let draws: Vec<f64> = (0..n).map(|_| sampler.sample(&mut rng)).collect();
            let m = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
            // Five standard errors of the mean.
            let tolerance = 5.0 * (var / n as f64).sqrt();
            eprintln!(
                "{boot:?}: sample mean {m} s (configured {mean} s), sd {}",
                var.sqrt()
            );
            assert!(
                (m - mean).abs() <= tolerance,
                "{boot:?}: mean {m}, want {mean} ± {tolerance}"
            );
            assert!((cloud.mean_boot_s() - mean).abs() < 1e-9, "{boot:?}");
            if sd > 0.0 && boot != BootDistribution::LogNormal {
                assert!(
                    (var.sqrt() / sd - 1.0).abs() < 0.02,
                    "{boot:?}: sd {}",
                    var.sqrt()
                );
            }
            assert!(draws.iter().all(|&x| x >= 0.0));
        }
    }

    #[test]
    fn with_drawn_boots_vms_of_one_launch_become_ready_apart() {
        let boot = BootTime::Uniform {
            low_s: 0.0,
            high_s: 600.0,
        };
        let mut fleet = Fleet::with_boot(params(Billing::PerSecond, 60.0, 0), 0, boot);
        fleet.reset(0, 4);
        fleet.scale_to(20, 0);
        let mut seen = Vec::new();
        for k in 0..12 {
            fleet.promote(k);
            assert_eq!(fleet.total(), 20);
            seen.push(fleet.running());
        }
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(seen[11], 20);
        // Several boots, not one.
        seen.dedup();
        assert!(seen.len() > 4, "{seen:?}");
    }

    #[test]
    fn scale_in_removes_the_booting_vm_that_would_be_ready_last() {
        // Launched at step 0 ready at 5, then at step 1 ready at 3: the one
        // launched first is removed first.
        let p = params(Billing::PerSecond, 60.0, 0);
        let mut fleet = Fleet::new(p, 1);
        fleet.launch(0, 5, 1);
        fleet.promote(1);
        fleet.launch(1, 3, 1);
        assert_eq!((fleet.running(), fleet.booting()), (1, 2));
        fleet.scale_to(2, 2);
        assert_eq!((fleet.running(), fleet.booting()), (1, 1));
        assert_eq!(fleet.cohorts[1].ready_step, 3);
        fleet.promote(3);
        assert_eq!((fleet.running(), fleet.booting()), (2, 0));
    }

    proptest! {
        #[test]
        fn with_drawn_boots_the_fleet_matches_the_reference_and_keeps_its_invariants(
            p in arbitrary_params(),
            boot in arbitrary_boot(),
            seed in 0u64..1000,
            initial in 0u32..6,
            targets in proptest::collection::vec(0u32..12, 1..120),
        ) {
            let mut fast = Fleet::with_boot(p, initial, boot.clone());
            fast.reset(initial, seed);
            let mut slow = ReferenceFleet::with_boot(p, initial, boot, seed);
            for (k, &target) in targets.iter().enumerate() {
                let k = k as u64;
                fast.promote(k);
                slow.promote(k);
                let (running, booting) = (fast.running(), fast.booting());
                fast.scale_to(target, k);
                slow.scale_to(target, k);
                prop_assert_eq!(fast.total(), target);
                if target < running + booting {
                    // Booting VMs go first: running ones only once none boots.
                    let removed = running + booting - target;
                    prop_assert_eq!(fast.booting(), booting.saturating_sub(removed));
                    prop_assert_eq!(fast.running(), running - removed.saturating_sub(booting));
                }
                prop_assert_eq!((fast.running(), fast.booting()), (slow.running, slow.booting));
                prop_assert_eq!(&fast.cohorts, &slow.cohorts);
                let counted: u32 = fast.cohorts.iter().filter(|c| c.ready_step <= k).map(|c| c.count).sum();
                prop_assert_eq!(counted, fast.running());
                let (a, b) = (fast.bill_step(k), slow.bill_step(k));
                prop_assert_eq!(a.to_bits(), b.to_bits(), "step {}: {} vs {}", k, a, b);
                fast.promote(k + 1);
                slow.promote(k + 1);
                prop_assert_eq!((fast.running(), fast.booting()), (slow.running, slow.booting));
            }
        }

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
