//! `threshold`: a utilization threshold rule with a cooldown, as AWS EC2
//! Auto Scaling *simple scaling* runs it.
//!
//! Two alarms watch the busy fraction of the serving VMs, one evaluation
//! per step: the high alarm is in ALARM after `policy.periods` consecutive
//! steps with utilization > `policy.upper`, the low alarm after as many
//! steps < `policy.lower`. An alarm in ALARM triggers a change of
//! `± policy.step` VMs (`ChangeInCapacity`), clamped to the bounds. After
//! an activity the policy ignores alarms until the activity has completed
//! (launched VMs finished booting; terminations complete at once) and then
//! `policy.cooldown_s` more seconds have passed (`DefaultCooldown`, 300 s).
//! A change clamped away by the bounds starts no activity and no cooldown.
//! Alarms keep being evaluated during the cooldown, as CloudWatch does.
//!
//! Source: Amazon EC2 Auto Scaling User Guide, "Simple scaling policies"
//! and "Scaling cooldowns for Amazon EC2 Auto Scaling".

use crate::policy::Policy;
use crate::policy::PolicySetup;
use crate::cloud::{Action, Observation};
use serde::{Deserialize, Serialize};

use crate::config_error::{non_negative, out_of_range, ConfigError};
use crate::policy::registry::{hundredths, integers, GridAxis, PolicyParams, Registered};
use crate::policy::PolicyContext;

/// AWS simple scaling on utilization.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdPolicy {
    upper: f64,
    lower: f64,
    step: u32,
    periods: u32,
    cooldown_s: f64,
    boot_s: f64,
    min_vms: u32,
    max_vms: u32,
    above: u32,
    below: u32,
    blocked_until_s: f64,
}

impl ThresholdPolicy {
    /// The rule with `config.policy.threshold` parameters.
    pub fn new<'a>(config: impl Into<PolicySetup<'a>>) -> ThresholdPolicy {
        let config: PolicySetup<'a> = config.into();
        let p = &config.policy.threshold;
        ThresholdPolicy {
            upper: p.upper,
            lower: p.lower,
            step: p.step,
            periods: p.periods,
            cooldown_s: p.cooldown_s,
            boot_s: config.cloud.mean_boot_s(),
            min_vms: config.cloud.min_vms,
            max_vms: config.cloud.max_vms,
            above: 0,
            below: 0,
            blocked_until_s: f64::NEG_INFINITY,
        }
    }
}

impl Policy for ThresholdPolicy {
    fn name(&self) -> &str {
        "threshold"
    }

    fn decide(&mut self, obs: &Observation) -> Action {
        let current = obs.vms_total();
        if obs.step == 0 {
            // No metric yet: the alarms are INSUFFICIENT_DATA.
            return Action::Target(current);
        }
        let u = obs.utilization;
        self.above = if u > self.upper { self.above + 1 } else { 0 };
        self.below = if u < self.lower { self.below + 1 } else { 0 };
        if obs.time_s < self.blocked_until_s {
            return Action::Target(current);
        }
        let (target, completes_after_s) = if self.above >= self.periods {
            (
                current.saturating_add(self.step).min(self.max_vms),
                self.boot_s,
            )
        } else if self.below >= self.periods {
            (current.saturating_sub(self.step).max(self.min_vms), 0.0)
        } else {
            return Action::Target(current);
        };
        if target != current {
            self.blocked_until_s = obs.time_s + completes_after_s + self.cooldown_s;
        }
        Action::Target(target)
    }
}

/// The `threshold` rule's keys of `[policy]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThresholdParams {
    /// `threshold`: scale out when utilization > upper, in (0, 1]. Default 0.8.
    pub upper: f64,
    /// `threshold`: scale in when utilization < lower, in [0, upper). Default 0.3.
    pub lower: f64,
    /// `threshold`: VMs added or removed per action, ≥ 1. Default 1.
    pub step: u32,
    /// `threshold`: consecutive steps the alarm must hold, ≥ 1. Default 1.
    pub periods: u32,
    /// `threshold`: seconds after the last activity completes before the
    /// rule reacts again, ≥ 0. Default 300 (AWS `DefaultCooldown`).
    pub cooldown_s: f64,
}

impl Default for ThresholdParams {
    fn default() -> Self {
        Self {
            upper: 0.8,
            lower: 0.3,
            step: 1,
            periods: 1,
            cooldown_s: 300.0,
        }
    }
}

impl PolicyParams for ThresholdParams {
    fn validate(&self) -> Result<(), ConfigError> {
        let p = self;
        if !(p.upper > 0.0 && p.upper <= 1.0) {
            return Err(out_of_range("policy.upper", p.upper, "in (0, 1]"));
        }
        if !(p.lower >= 0.0 && p.lower < p.upper) {
            return Err(out_of_range(
                "policy.lower",
                p.lower,
                "in [0, policy.upper)",
            ));
        }
        if p.step == 0 {
            return Err(out_of_range("policy.step", 0.0, ">= 1"));
        }
        if p.periods == 0 {
            return Err(out_of_range("policy.periods", 0.0, ">= 1"));
        }
        non_negative("policy.cooldown_s", p.cooldown_s)?;
        Ok(())
    }
}

/// Scale-out thresholds: 0.6–0.9 in steps of 0.1, and 0.95 (utilization
/// never exceeds 1, so 1 would never fire).
pub(crate) fn upper_thresholds() -> Vec<toml::Value> {
    let mut v = hundredths(60, 90, 10);
    v.push(toml::Value::Float(0.95));
    v
}

impl Registered for ThresholdPolicy {
    const NAME: &'static str = "threshold";
    const COLOUR: (u8, u8, u8) = (230, 159, 0);
    type Params = ThresholdParams;
    fn tuning_grid() -> Vec<GridAxis> {
        vec![
            GridAxis::one("policy.upper", upper_thresholds()),
            GridAxis::one("policy.lower", hundredths(10, 50, 10)),
            GridAxis::one("policy.step", integers(&[1, 2])),
            GridAxis::one("policy.cooldown_s", integers(&[0, 300])),
            GridAxis::one("policy.periods", integers(&[1, 2])),
        ]
    }
    fn build(ctx: PolicyContext<'_>) -> Option<Box<dyn Policy + Send>> {
        Some(Box::new(ThresholdPolicy::new(ctx.setup)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// `vms` running at `utilization`, none booting.
    fn obs(step: u64, time_s: f64, utilization: f64, vms: u32) -> Observation {
        crate::policy::test_support::obs(step, time_s, utilization, vms, 0)
    }

    fn rule(periods: u32) -> ThresholdPolicy {
        let mut config = Config::default();
        config.policy.threshold.periods = periods;
        config.cloud.boot_s = 100.0;
        ThresholdPolicy::new(&config)
    }

    #[test]
    fn cooldown_blocks_a_second_scale_out() {
        let mut p = rule(1);
        assert_eq!(p.decide(&obs(1, 60.0, 0.95, 2)), Action::Target(3));
        // Blocked until 60 + 100 (boot) + 300 (cooldown) = 460 s.
        assert_eq!(p.decide(&obs(2, 120.0, 0.95, 3)), Action::Target(3));
        assert_eq!(p.decide(&obs(7, 420.0, 0.95, 3)), Action::Target(3));
        assert_eq!(p.decide(&obs(8, 480.0, 0.95, 3)), Action::Target(4));
    }

    #[test]
    fn the_alarm_must_hold_for_the_configured_periods() {
        let mut p = rule(3);
        assert_eq!(p.decide(&obs(1, 60.0, 0.1, 4)), Action::Target(4));
        assert_eq!(p.decide(&obs(2, 120.0, 0.1, 4)), Action::Target(4));
        assert_eq!(p.decide(&obs(3, 180.0, 0.1, 4)), Action::Target(3));
    }

    #[test]
    fn a_change_clamped_by_the_bounds_starts_no_cooldown() {
        let mut p = rule(1);
        // min_vms = 1: scaling in from 1 does nothing, and must not block
        // the scale-out that follows.
        assert_eq!(p.decide(&obs(1, 60.0, 0.0, 1)), Action::Target(1));
        assert_eq!(p.decide(&obs(2, 120.0, 0.99, 1)), Action::Target(2));
    }
}
