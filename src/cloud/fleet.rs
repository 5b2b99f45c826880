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

use crate::config::Billing;

/// VMs launched at the same step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cohort {
    launch_step: u64,
    ready_step: u64,
    count: u32,
}

/// How the fleet bills and boots, fixed for a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetParams {
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
    pub fn billed_s(&self, alive_s: f64) -> f64 {
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

/// The VMs of a run, running and booting.
#[derive(Debug, Clone)]
pub struct Fleet {
    params: FleetParams,
    cohorts: Vec<Cohort>,
    running: u32,
    booting: u32,
}

impl Fleet {
    /// A fleet of `initial` VMs, running at step 0 and billed from then.
    pub fn new(params: FleetParams, initial: u32) -> Fleet {
        let mut fleet = Fleet {
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

    /// Running VMs.
    pub fn running(&self) -> u32 {
        self.running
    }

    /// Booting VMs.
    pub fn booting(&self) -> u32 {
        self.booting
    }

    /// Running + booting VMs.
    pub fn total(&self) -> u32 {
        self.running + self.booting
    }

    /// Marks the VMs whose boot has finished by the start of step `k` as
    /// running.
    pub fn promote(&mut self, k: u64) {
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

    /// Launches or terminates VMs at the start of step `k` so that
    /// `target` exist. Returns true if anything changed.
    pub fn scale_to(&mut self, target: u32, k: u64) -> bool {
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
                self.running += count;
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

    fn terminate(&mut self, mut n: u32, k: u64) {
        // Booting VMs first, newest first.
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
        // Then running VMs with the least paid-but-unused time, oldest first.
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

    /// The charges booked in step `k` for every VM alive in it, USD.
    pub fn bill_step(&self, k: u64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
