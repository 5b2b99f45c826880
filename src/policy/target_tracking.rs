//! `target`: AWS EC2 Auto Scaling *target tracking* on the group's average
//! utilization (`ASGAverageCPUUtilization`), with instance warm-up.
//!
//! **Samples.** The metric is the busy fraction of the serving VMs that are
//! past their warm-up (the same for every serving VM), kept as one-minute
//! data points, as with detailed monitoring. Minutes are counted from the
//! start of the run. A minute's data point is the time-weighted mean of the
//! steps that overlap it: with `step_s = 60` one data point per step; with
//! `step_s < 60` several steps make one (a minute straddled by a step takes
//! its share by overlap); with `step_s > 60` one step yields `step_s / 60`
//! identical data points (and a partial one carried to the next step). Time
//! without a metric (step 0, or every serving VM still warming) adds
//! nothing; a minute without any metric is a missing data point.
//!
//! **Alarms** (created and owned by AWS). `AlarmHigh`: the last 3 data
//! points all above the target (`>`). `AlarmLow`: the last 15 data points
//! all below `0.9 × target` (`<`), the scale-in threshold qscale uses for
//! AWS's "somewhat below the target" (AWS does not publish the exact value;
//! for CPU targets its AlarmLow sits 10 % below). A missing data point in
//! the window means `INSUFFICIENT_DATA`: no scaling. The alarms are
//! evaluated once per decision in which at least one new data point
//! completed, and act on every such evaluation while in ALARM (Auto
//! Scaling alarm actions repeat).
//!
//! **Capacity change** (proportional, conservative rounding; the formula is
//! a model, AWS does not publish its own), with `m` the latest data point,
//! `t` the target and `C` the capacity not warming up:
//! - out: `new = ⌈C · m / t⌉`, applied only if above the current desired
//!   capacity, which includes the warming instances (so a repeated alarm
//!   does not add the same instances twice);
//! - in: remove `⌊C − C · m / t⌋` instances, only when no instance is
//!   warming and `policy.disable_scale_in` is false.
//!
//! Results are clamped to `[cloud.min_vms, cloud.max_vms]`; there is no
//! cooldown. Warm-up (`policy.warmup_s`, default `cloud.boot_s`) works as
//! for `step` (see [`super::aws_step`]). Because the metric is a busy
//! fraction, at most 1, one scale-out multiplies the settled capacity by
//! at most `1/t` (1.43 at the default 0.7) however deep the overload.
//!
//! Sources: Amazon EC2 Auto Scaling User Guide, "Target tracking scaling
//! policies for Amazon EC2 Auto Scaling" (how target tracking works, the
//! AlarmHigh/AlarmLow alarms, scale out quickly and in gradually, rounding,
//! `DisableScaleIn`) and "Set the default instance warmup for an Auto
//! Scaling group".

use std::collections::VecDeque;

use super::aws_step::WarmUp;
use crate::policy::Policy;
use crate::policy::PolicySetup;
use crate::cloud::{Action, Observation};
use serde::{Deserialize, Serialize};

use crate::config_error::{non_negative, out_of_range, ConfigError};
use crate::policy::registry::{target_utilization_axis, GridAxis, PolicyParams, Registered};
use crate::policy::PolicyContext;

/// Data points above the target that trigger a scale-out.
pub(crate) const HIGH_DATA_POINTS: usize = 3;
/// Data points below the low threshold that trigger a scale-in.
pub(crate) const LOW_DATA_POINTS: usize = 15;
/// The low alarm's threshold as a fraction of the target.
pub(crate) const LOW_THRESHOLD_RATIO: f64 = 0.9;

/// Slack for float noise in the proportional rounding (C·m/t).
const ROUNDING_SLACK: f64 = 1e-9;

/// The capacity a scale-out asks for: `⌈C · m / t⌉`.
pub(crate) fn scale_out_capacity(capacity: u32, metric: f64, target: f64) -> u32 {
    let x = f64::from(capacity) * metric / target;
    // `as` saturates (NaN and negatives to 0).
    (x - ROUNDING_SLACK).ceil() as u32
}

/// The capacity after a scale-in: `C − ⌊C − C · m / t⌋`.
pub(crate) fn scale_in_capacity(capacity: u32, metric: f64, target: f64) -> u32 {
    let c = f64::from(capacity);
    let remove = (c - c * metric / target + ROUNDING_SLACK).floor() as u32;
    capacity.saturating_sub(remove)
}

/// One-minute data points built from steps of any length.
#[derive(Debug, Clone, PartialEq)]
struct MinuteSamples {
    origin_s: Option<f64>,
    /// Index of the minute being filled.
    minute: i64,
    /// Σ value · seconds and the seconds with a metric in that minute.
    sum: f64,
    covered_s: f64,
    /// Completed data points, newest last (`None`: missing).
    recent: VecDeque<Option<f64>>,
}

impl MinuteSamples {
    fn new() -> MinuteSamples {
        MinuteSamples {
            origin_s: None,
            minute: 0,
            sum: 0.0,
            covered_s: 0.0,
            recent: VecDeque::with_capacity(LOW_DATA_POINTS + 1),
        }
    }

    fn set_origin(&mut self, t_s: f64) {
        self.origin_s.get_or_insert(t_s);
    }

    fn push(&mut self, point: Option<f64>) {
        self.recent.push_back(point);
        while self.recent.len() > LOW_DATA_POINTS {
            self.recent.pop_front();
        }
    }

    fn complete_minute(&mut self) {
        let point = (self.covered_s > 0.0).then(|| self.sum / self.covered_s);
        self.push(point);
        self.minute += 1;
        self.sum = 0.0;
        self.covered_s = 0.0;
    }

    /// Adds the interval `[start_s, end_s)` with `value` (`None`: no
    /// metric); returns how many data points completed.
    fn add(&mut self, start_s: f64, end_s: f64, value: Option<f64>) -> usize {
        let origin = *self.origin_s.get_or_insert(start_s);
        let mut done = 0;
        // Minutes entirely inside the interval beyond the window's length
        // would be pushed out again: skip straight to the last ones.
        let last_full = ((end_s - origin) / 60.0 + 1e-9).floor() as i64;
        if last_full - self.minute > LOW_DATA_POINTS as i64 + 1 {
            // The minutes from `skip_to` on are inside the interval and
            // complete here, more of them than the window holds: every
            // earlier data point would be pushed out by them.
            self.recent.clear();
            self.minute = last_full - LOW_DATA_POINTS as i64 - 1;
            self.sum = 0.0;
            self.covered_s = 0.0;
        }
        loop {
            let m_start = origin + 60.0 * self.minute as f64;
            let m_end = m_start + 60.0;
            let overlap = end_s.min(m_end) - start_s.max(m_start);
            if overlap > 0.0 {
                if let Some(v) = value {
                    self.sum += v * overlap;
                    self.covered_s += overlap;
                }
            }
            if end_s >= m_end - 1e-9 {
                self.complete_minute();
                done += 1;
            } else {
                return done;
            }
        }
    }

    /// The last `n` data points all exist and satisfy `test`.
    fn last_all(&self, n: usize, test: impl Fn(f64) -> bool) -> bool {
        self.recent.len() >= n
            && self
                .recent
                .iter()
                .rev()
                .take(n)
                .all(|p| p.is_some_and(&test))
    }

    fn latest(&self) -> Option<f64> {
        self.recent.back().copied().flatten()
    }
}

/// AWS target tracking on average utilization.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTrackingPolicy {
    target: f64,
    disable_scale_in: bool,
    min_vms: u32,
    max_vms: u32,
    step_s: f64,
    warm_up: WarmUp,
    samples: MinuteSamples,
}

impl TargetTrackingPolicy {
    /// Target tracking at `config.policy.target_tracking.target_utilization`.
    pub fn new<'a>(config: impl Into<PolicySetup<'a>>) -> TargetTrackingPolicy {
        let config: PolicySetup<'a> = config.into();
        let p = &config.policy.target_tracking;
        TargetTrackingPolicy {
            target: p.target_utilization,
            disable_scale_in: p.disable_scale_in,
            min_vms: config.cloud.min_vms,
            max_vms: config.cloud.max_vms,
            step_s: f64::from(config.workload.step_s),
            warm_up: WarmUp::new(p.warmup_s, config.cloud.mean_boot_s()),
            samples: MinuteSamples::new(),
        }
    }
}

impl Policy for TargetTrackingPolicy {
    fn name(&self) -> &str {
        "target"
    }

    fn decide(&mut self, obs: &Observation) -> Action {
        let now = obs.time_s;
        let current = obs.vms_total();
        let warming = self.warm_up.warming(now, current);
        if obs.step == 0 {
            self.samples.set_origin(now);
            return Action::Target(current);
        }
        let metric = (WarmUp::settled_serving(obs, warming) > 0).then_some(obs.utilization);
        let completed = self.samples.add(now - self.step_s, now, metric);
        if completed == 0 {
            return Action::Target(current);
        }
        let t = self.target;
        let Some(m) = self.samples.latest() else {
            return Action::Target(current);
        };
        let settled = current - warming;
        if self.samples.last_all(HIGH_DATA_POINTS, |v| v > t) {
            let wanted = scale_out_capacity(settled, m, t).min(self.max_vms);
            if wanted > current {
                self.warm_up.launched(now, wanted - current);
                return Action::Target(wanted);
            }
        } else if !self.disable_scale_in
            && warming == 0
            && self
                .samples
                .last_all(LOW_DATA_POINTS, |v| v < LOW_THRESHOLD_RATIO * t)
        {
            let wanted = scale_in_capacity(settled, m, t).max(self.min_vms);
            if wanted < current {
                return Action::Target(wanted);
            }
        }
        Action::Target(current)
    }
}

/// The `target` policy's keys of `[policy]` (AWS target tracking).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetParams {
    /// Utilization the rule aims for, in (0, 1]. Used by `static` sizing,
    /// `predictive`, `target` and `hpa` (in whole percent: 0.7 → 70 %).
    /// Default 0.7.
    pub target_utilization: f64,
    /// `step`, `target`: instance warm-up from the launch request, seconds,
    /// ≥ 0. Default: unset, meaning `cloud.boot_s` (AWS falls back to 300).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_s: Option<f64>,
    /// `target`: never scale in (`DisableScaleIn`). Default false.
    pub disable_scale_in: bool,
}

impl Default for TargetParams {
    fn default() -> Self {
        Self {
            target_utilization: 0.7,
            warmup_s: None,
            disable_scale_in: false,
        }
    }
}

impl PolicyParams for TargetParams {
    fn validate(&self) -> Result<(), ConfigError> {
        let t = self.target_utilization;
        if !(t > 0.0 && t <= 1.0) {
            return Err(out_of_range("policy.target_utilization", t, "in (0, 1]"));
        }
        if let Some(w) = self.warmup_s {
            non_negative("policy.warmup_s", w)?;
        }
        Ok(())
    }
}

impl Registered for TargetTrackingPolicy {
    const NAME: &'static str = "target";
    const COLOUR: (u8, u8, u8) = (0, 158, 115);
    type Params = TargetParams;
    fn tuning_grid() -> Vec<GridAxis> {
        vec![
            target_utilization_axis(),
            GridAxis::one("policy.disable_scale_in", vec![toml::Value::Boolean(false)]),
        ]
    }
    fn build(ctx: PolicyContext<'_>) -> Option<Box<dyn Policy + Send>> {
        Some(Box::new(TargetTrackingPolicy::new(ctx.setup)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::PolicyKind;
    use crate::policy::test_support::{assert_scales_out_and_back_in, obs};

    fn policy(step_s: u32) -> TargetTrackingPolicy {
        let mut config = Config::default();
        config.workload.step_s = step_s;
        config.policy.target_tracking.warmup_s = Some(300.0);
        config.policy.target_tracking.target_utilization = 0.5;
        config.cloud.max_vms = 40;
        TargetTrackingPolicy::new(&config)
    }

    #[test]
    fn scale_out_rounds_up_and_scale_in_removes_rounded_down() {
        // Needing 1.5 more instances adds 2: 3 · 0.9 / 0.6 = 4.5 -> 5.
        assert_eq!(scale_out_capacity(3, 0.9, 0.6), 5);
        // Exact ratios stay exact despite float noise: 10 · 0.77 / 0.7 = 11.
        assert_eq!(scale_out_capacity(10, 0.77, 0.7), 11);
        assert_eq!(scale_out_capacity(4, 0.875, 0.7), 5);
        // Needing 1.5 fewer removes 1: 5 · 0.35 / 0.5 = 3.5, remove 1.
        assert_eq!(scale_in_capacity(5, 0.35, 0.5), 4);
        assert_eq!(scale_in_capacity(10, 0.35, 0.5), 7);
        assert_eq!(scale_in_capacity(4, 0.0, 0.5), 0);
    }

    #[test]
    fn three_high_data_points_scale_out_and_two_do_not() {
        let mut p = policy(60);
        assert_eq!(p.decide(&obs(0, 0.0, 0.0, 4, 0)), Action::Target(4));
        assert_eq!(p.decide(&obs(1, 60.0, 0.75, 4, 0)), Action::Target(4));
        assert_eq!(p.decide(&obs(2, 120.0, 0.75, 4, 0)), Action::Target(4));
        // 4 · 0.75 / 0.5 = 6.
        assert_eq!(p.decide(&obs(3, 180.0, 0.75, 4, 0)), Action::Target(6));
        // Still high while the 2 new VMs warm: from the 4 settled VMs the
        // same 6 again, no new activity; a higher metric adds the rest.
        assert_eq!(p.decide(&obs(4, 240.0, 0.75, 4, 2)), Action::Target(6));
        assert_eq!(p.decide(&obs(5, 300.0, 1.0, 4, 2)), Action::Target(8));
    }

    #[test]
    fn fourteen_low_data_points_do_not_scale_in_and_the_fifteenth_does() {
        let mut p = policy(60);
        p.decide(&obs(0, 0.0, 0.0, 10, 0));
        for k in 1..15 {
            let t = 60.0 * k as f64;
            assert_eq!(
                p.decide(&obs(k, t, 0.2, 10, 0)),
                Action::Target(10),
                "k = {k}"
            );
        }
        // 10 · 0.2 / 0.5 = 4: remove 6.
        assert_eq!(p.decide(&obs(15, 900.0, 0.2, 10, 0)), Action::Target(4));
    }

    #[test]
    fn the_low_alarm_needs_the_metric_below_ninety_percent_of_the_target() {
        let mut p = policy(60);
        p.decide(&obs(0, 0.0, 0.0, 10, 0));
        // 0.46 is below the target 0.5 but not below 0.45.
        for k in 1..=20 {
            let t = 60.0 * k as f64;
            assert_eq!(p.decide(&obs(k, t, 0.46, 10, 0)), Action::Target(10));
        }
    }

    #[test]
    fn disable_scale_in_never_removes_instances() {
        let mut p = policy(60);
        p.disable_scale_in = true;
        for k in 0..=20 {
            let t = 60.0 * k as f64;
            assert_eq!(p.decide(&obs(k, t, 0.1, 10, 0)), Action::Target(10));
        }
    }

    #[test]
    fn thirty_second_steps_make_one_data_point_per_two_steps() {
        let mut p = policy(30);
        p.decide(&obs(0, 0.0, 0.0, 4, 0));
        // Five high steps are 2.5 minutes: two data points.
        for k in 1..=5 {
            let t = 30.0 * k as f64;
            assert_eq!(
                p.decide(&obs(k, t, 1.0, 4, 0)),
                Action::Target(4),
                "k = {k}"
            );
        }
        // The sixth completes the third minute: 4 · 1.0 / 0.5 = 8.
        assert_eq!(p.decide(&obs(6, 180.0, 1.0, 4, 0)), Action::Target(8));
    }

    #[test]
    fn a_two_minute_step_counts_as_two_data_points() {
        let mut p = policy(120);
        p.decide(&obs(0, 0.0, 0.0, 4, 0));
        assert_eq!(p.decide(&obs(1, 120.0, 0.75, 4, 0)), Action::Target(4));
        assert_eq!(p.decide(&obs(2, 240.0, 0.75, 4, 0)), Action::Target(6));
        // Low for 7.5 steps = 15 minutes: the 8th low step scales in.
        let mut p = policy(120);
        p.decide(&obs(0, 0.0, 0.0, 10, 0));
        for k in 1..=7 {
            let t = 120.0 * k as f64;
            assert_eq!(p.decide(&obs(k, t, 0.2, 10, 0)), Action::Target(10));
        }
        assert_eq!(p.decide(&obs(8, 960.0, 0.2, 10, 0)), Action::Target(4));
    }

    #[test]
    fn a_step_without_a_metric_is_a_missing_data_point() {
        let mut p = policy(60);
        p.decide(&obs(0, 0.0, 0.0, 4, 0));
        p.decide(&obs(1, 60.0, 0.75, 4, 0));
        p.decide(&obs(2, 120.0, 0.75, 4, 0));
        // No VM served: INSUFFICIENT_DATA, and the gap stays in the window.
        assert_eq!(p.decide(&obs(3, 180.0, 1.0, 0, 4)), Action::Target(4));
        assert_eq!(p.decide(&obs(4, 240.0, 0.75, 4, 0)), Action::Target(4));
        assert_eq!(p.decide(&obs(5, 300.0, 0.75, 4, 0)), Action::Target(4));
        assert_eq!(p.decide(&obs(6, 360.0, 0.75, 4, 0)), Action::Target(6));
    }

    #[test]
    fn very_long_steps_do_not_loop_per_minute() {
        let mut p = policy(60);
        p.step_s = 1.0e9;
        p.decide(&obs(0, 0.0, 0.0, 10, 0));
        assert_eq!(p.decide(&obs(1, 1.0e9, 0.2, 10, 0)), Action::Target(4));
    }

    #[test]
    fn target_tracking_scales_out_under_a_load_rise_and_in_after_it_in_the_environment() {
        assert_scales_out_and_back_in(PolicyKind::Target, "target", 40);
    }
}
