//! `step`: AWS EC2 Auto Scaling *step scaling*, a pair of policies (scale
//! out on a high alarm, scale in on a low alarm) with step adjustments and
//! instance warm-up, and no cooldown.
//!
//! **Alarms.** Both watch the busy fraction of the serving VMs that are past
//! their warm-up, one data point per decision step (the alarm period is
//! `workload.step_s`). The high alarm is in ALARM after
//! `policy.evaluation_periods` consecutive data points with
//! `utilization ≥ policy.scale_out_threshold` (`GreaterThanOrEqualToThreshold`),
//! the low alarm after as many with `utilization ≤ policy.scale_in_threshold`
//! (`LessThanOrEqualToThreshold`). As for every Auto Scaling alarm action,
//! the policy is invoked at every evaluation while its alarm stays in
//! ALARM. A step without a data point (step 0, or every serving VM still
//! warming) is `INSUFFICIENT_DATA`: nothing is evaluated or done.
//!
//! **Steps.** Bounds are relative to the alarm threshold `T`, in
//! utilization units (0.1 = 10 percentage points), and an omitted bound is
//! −∞ (lower) or +∞ (upper). The step whose interval holds `m − T` applies:
//! on the breaching side of the high alarm (`m ≥ T`) intervals are
//! `[lower, upper)`; on the breaching side of the low alarm (`m ≤ T`) they are
//! `(lower, upper]`. At exactly `m = T` the alarm's own direction decides,
//! which reproduces both examples of the AWS API reference (`[0, 10)` means
//! `50 ≤ m < 60`, `(−10, 0]` means `40 < m ≤ 50`, for `T = 50`). Steps may not
//! overlap or leave gaps, at most one lower and one upper bound may be
//! omitted, never both in the same step, and a negative lower (positive
//! upper) bound needs a step with an omitted lower (upper) bound.
//!
//! **Adjustment** (`policy.adjustment_type`, shared by both policies), from
//! the capacity `C`: `change-in-capacity` gives `C + a`, `exact-capacity`
//! gives `a` (≥ 0), `percent-change-in-capacity` gives `C + r(C · a / 100)`,
//! where `r` truncates towards zero but turns a non-zero change of less than
//! one instance into ±1 (12.7 → 12, 0.67 → 1, −0.58 → −1, −6.67 → −6), and
//! the change is raised to `policy.min_adjustment_magnitude` instances when
//! that is set and the change is smaller. The result is clamped to
//! `[cloud.min_vms, cloud.max_vms]`.
//!
//! **Instance warm-up** (`policy.warmup_s`, `EstimatedInstanceWarmup`): an
//! instance launched by the policy warms up for `warmup_s` seconds from its
//! launch request. Warming instances send no metric. `C` is the capacity
//! that is not warming, and a scale-out applies only if its result exceeds
//! the current desired capacity, which includes the warming instances: a
//! repeated breach in the same step is a no-op, a breach in a larger step
//! adds the difference. Every scale-in waits until no instance is warming.
//! When `warmup_s` is unset it is `cloud.boot_s`, so that an instance warms
//! exactly while it boots; AWS's own fallback for a group without any
//! warm-up setting is the `DefaultCooldown`, 300 s (`warmup_s = 300`).
//!
//! Sources: Amazon EC2 Auto Scaling User Guide, "Step and simple scaling
//! policies" (step adjustments, scaling adjustment types, instance warm-up)
//! and "Set the default instance warmup for an Auto Scaling group"; Amazon
//! EC2 Auto Scaling API Reference, `StepAdjustment` and `PutScalingPolicy`;
//! Amazon CloudWatch User Guide, "Using Amazon CloudWatch alarms" (alarm
//! actions for Auto Scaling repeat while in ALARM).

use serde::{Deserialize, Serialize};

use crate::policy::Policy;
use crate::policy::PolicySetup;
use crate::cloud::{Action, Observation};
use crate::config_error::{non_negative, out_of_range, ConfigError};
use crate::policy::registry::{hundredths, integers, GridAxis, PolicyParams, Registered};
use crate::policy::PolicyContext;

/// How a step's `adjustment` changes the capacity (`AdjustmentType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
#[allow(clippy::enum_variant_names)] // AWS's own names; they are the config values
pub enum AdjustmentType {
    /// Add `adjustment` instances (negative: remove).
    #[default]
    ChangeInCapacity,
    /// Change by `adjustment` percent of the capacity.
    PercentChangeInCapacity,
    /// Set the capacity to `adjustment` (≥ 0).
    ExactCapacity,
}

/// One step adjustment: `{ lower = 0.1, upper = 0.2, adjustment = 2 }`.
/// Bounds are relative to the alarm threshold, in utilization units; an
/// omitted bound is −∞ (lower) or +∞ (upper).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAdjustment {
    /// `MetricIntervalLowerBound`; omitted = −∞.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<f64>,
    /// `MetricIntervalUpperBound`; omitted = +∞.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
    /// `ScalingAdjustment`, read as `policy.adjustment_type` says.
    pub adjustment: i32,
}

impl StepAdjustment {
    /// Whether `diff` (already [`snap`]ped) lies in this step's interval.
    fn contains(&self, diff: f64, lower_inclusive: bool) -> bool {
        let lo = self.lower.map_or(f64::NEG_INFINITY, snap);
        let hi = self.upper.map_or(f64::INFINITY, snap);
        if lower_inclusive {
            lo <= diff && diff < hi
        } else {
            lo < diff && diff <= hi
        }
    }
}

/// The default scale-out steps, for a high alarm at 0.7:
/// `[0, 0.1) → +1`, `[0.1, 0.2) → +2`, `[0.2, ∞) → +3`.
pub(crate) fn default_scale_out_steps() -> Vec<StepAdjustment> {
    vec![
        StepAdjustment {
            lower: Some(0.0),
            upper: Some(0.1),
            adjustment: 1,
        },
        StepAdjustment {
            lower: Some(0.1),
            upper: Some(0.2),
            adjustment: 2,
        },
        StepAdjustment {
            lower: Some(0.2),
            upper: None,
            adjustment: 3,
        },
    ]
}

/// The default scale-in step, for a low alarm at 0.3: `(−∞, 0] → −1`.
pub(crate) fn default_scale_in_steps() -> Vec<StepAdjustment> {
    vec![StepAdjustment {
        lower: None,
        upper: Some(0.0),
        adjustment: -1,
    }]
}

/// The resolution at which a difference to the threshold is compared with
/// the step bounds, in utilization units: a billionth.
const BOUND_RESOLUTION: f64 = 1e-9;

/// `x` rounded to a whole number of [`BOUND_RESOLUTION`]s, as that number
/// (exact in an `f64` for |x| up to 9e6). The difference `metric −
/// threshold` is computed in binary floating point, so `0.6 − 0.5` is
/// `0.0999…`: snapped, it equals the bound `0.1`, and a metric exactly on a
/// bound falls in the step the documented `[lower, upper)` / `(lower,
/// upper]` intervals say.
fn snap(x: f64) -> f64 {
    (x / BOUND_RESOLUTION).round()
}

/// The step whose interval holds `diff = metric − threshold`: `[lower,
/// upper)` above the threshold, `(lower, upper]` below it, and at the
/// threshold as the alarm's direction says (`high`: the scale-out alarm).
/// `diff` and the bounds are compared to a billionth of utilization, so
/// rounding in `metric − threshold` never moves a metric that is exactly on
/// a bound into the neighbouring step.
pub(crate) fn select_step(steps: &[StepAdjustment], diff: f64, high: bool) -> Option<&StepAdjustment> {
    let diff = snap(diff);
    let lower_inclusive = diff > 0.0 || (diff == 0.0 && high);
    steps.iter().find(|s| s.contains(diff, lower_inclusive))
}

/// AWS's rounding of a fractional percent change: towards zero, but a
/// non-zero change never rounds to zero (12.7 → 12, 0.67 → 1, −0.58 → −1,
/// −6.67 → −6). Values within 1e-9 of an integer count as that integer.
pub(crate) fn round_aws(x: f64) -> i64 {
    if !x.is_finite() {
        return 0;
    }
    let nearest = x.round();
    if (x - nearest).abs() < 1e-9 {
        return nearest as i64;
    }
    let truncated = x.trunc();
    if truncated == 0.0 {
        x.signum() as i64
    } else {
        truncated as i64
    }
}

/// The new desired capacity from capacity `base` for a step of
/// `adjustment`, before clamping to the group's bounds.
pub(crate) fn new_capacity(
    kind: AdjustmentType,
    base: u32,
    adjustment: i32,
    min_adjustment_magnitude: Option<u32>,
) -> i64 {
    let c = i64::from(base);
    let a = i64::from(adjustment);
    match kind {
        AdjustmentType::ChangeInCapacity => c + a,
        AdjustmentType::ExactCapacity => a.max(0),
        AdjustmentType::PercentChangeInCapacity => {
            let mut change = round_aws(c as f64 * a as f64 / 100.0);
            if let Some(min) = min_adjustment_magnitude {
                let min = i64::from(min);
                if a != 0 && change.abs() < min {
                    change = a.signum() * min;
                }
            }
            c + change
        }
    }
}

fn bound_text(b: Option<f64>, missing: &str) -> String {
    b.map_or_else(|| missing.to_string(), |v| v.to_string())
}

/// Checks one list of step adjustments by the API's rules.
fn validate_steps(field: &str, steps: &[StepAdjustment]) -> Result<(), ConfigError> {
    let bad = |msg: String| Err(ConfigError::Inconsistent(format!("{field}: {msg}")));
    if steps.is_empty() {
        return bad("no steps: give at least one".into());
    }
    for (i, s) in steps.iter().enumerate() {
        for b in [s.lower, s.upper].into_iter().flatten() {
            if !b.is_finite() {
                return bad(format!(
                    "step {} has bound {b}: omit a bound for an infinite one",
                    i + 1
                ));
            }
        }
        match (s.lower, s.upper) {
            (None, None) => {
                return bad(format!(
                    "step {} omits both bounds: at most one may be omitted",
                    i + 1
                ))
            }
            (Some(lo), Some(hi)) if lo >= hi => {
                return bad(format!(
                    "step {} has lower {lo} >= upper {hi}: must be lower < upper",
                    i + 1
                ))
            }
            _ => {}
        }
    }
    if steps.iter().filter(|s| s.lower.is_none()).count() > 1 {
        return bad("more than one step omits its lower bound".into());
    }
    if steps.iter().filter(|s| s.upper.is_none()).count() > 1 {
        return bad("more than one step omits its upper bound".into());
    }
    let mut order: Vec<usize> = (0..steps.len()).collect();
    order.sort_by(|&a, &b| {
        let lo = |i: usize| steps[i].lower.unwrap_or(f64::NEG_INFINITY);
        lo(a).total_cmp(&lo(b))
    });
    for pair in order.windows(2) {
        let (a, b) = (&steps[pair[0]], &steps[pair[1]]);
        if a.upper.is_none() || b.lower.is_none() || a.upper != b.lower {
            return bad(format!(
                "steps {} and {} overlap or leave a gap (upper {} then lower {}): \
                 each step must start where the one below it ends",
                pair[0] + 1,
                pair[1] + 1,
                bound_text(a.upper, "inf"),
                bound_text(b.lower, "-inf"),
            ));
        }
    }
    if steps.iter().any(|s| s.lower.is_some_and(|l| l < 0.0))
        && !steps.iter().any(|s| s.lower.is_none())
    {
        return bad(
            "a step has a negative lower bound, so one step must omit its lower bound".into(),
        );
    }
    if steps.iter().any(|s| s.upper.is_some_and(|u| u > 0.0))
        && !steps.iter().any(|s| s.upper.is_none())
    {
        return bad(
            "a step has a positive upper bound, so one step must omit its upper bound".into(),
        );
    }
    Ok(())
}

/// Checks the keys of `step` (and `policy.warmup_s`, shared with
/// `target`).
///
/// # Errors
/// The first key out of range or inconsistent.
pub(crate) fn validate_config(p: &StepParams) -> Result<(), ConfigError> {
    let hi = p.scale_out_threshold;
    if !(hi > 0.0 && hi <= 1.0) {
        return Err(out_of_range("policy.scale_out_threshold", hi, "in (0, 1]"));
    }
    let lo = p.scale_in_threshold;
    if !(lo >= 0.0 && lo < hi) {
        return Err(out_of_range(
            "policy.scale_in_threshold",
            lo,
            "in [0, policy.scale_out_threshold)",
        ));
    }
    validate_steps("policy.scale_out_steps", &p.scale_out_steps)?;
    validate_steps("policy.scale_in_steps", &p.scale_in_steps)?;
    if p.adjustment_type == AdjustmentType::ExactCapacity {
        for (field, steps) in [
            ("policy.scale_out_steps", &p.scale_out_steps),
            ("policy.scale_in_steps", &p.scale_in_steps),
        ] {
            if let Some((i, s)) = steps.iter().enumerate().find(|(_, s)| s.adjustment < 0) {
                return Err(ConfigError::Inconsistent(format!(
                    "{field}: step {} has adjustment {} but policy.adjustment_type = \
                     \"exact-capacity\" needs a capacity >= 0",
                    i + 1,
                    s.adjustment
                )));
            }
        }
    }
    if let Some(m) = p.min_adjustment_magnitude {
        if p.adjustment_type != AdjustmentType::PercentChangeInCapacity {
            return Err(ConfigError::Inconsistent(
                "policy.min_adjustment_magnitude is only valid with \
                 policy.adjustment_type = \"percent-change-in-capacity\""
                    .into(),
            ));
        }
        if m == 0 {
            return Err(out_of_range("policy.min_adjustment_magnitude", 0.0, ">= 1"));
        }
    }
    if p.evaluation_periods == 0 {
        return Err(out_of_range("policy.evaluation_periods", 0.0, ">= 1"));
    }
    if let Some(w) = p.warmup_s {
        non_negative("policy.warmup_s", w)?;
    }
    Ok(())
}

/// The instances a policy launched that are still warming up.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WarmUp {
    warmup_s: f64,
    /// (launch time, count) of recent launches.
    launches: Vec<(f64, u32)>,
}

impl WarmUp {
    /// Warm-up of `warmup_s` (`policy.warmup_s`), or `boot_s`
    /// (`cloud.boot_s`) when unset.
    pub(super) fn new(warmup_s: Option<f64>, boot_s: f64) -> WarmUp {
        WarmUp {
            warmup_s: warmup_s.unwrap_or(boot_s),
            launches: Vec::new(),
        }
    }

    /// Instances warming at `now_s` (at most `total`); forgets the rest.
    pub(super) fn warming(&mut self, now_s: f64, total: u32) -> u32 {
        let w = self.warmup_s;
        self.launches.retain(|&(t, _)| now_s < t + w);
        let n = self
            .launches
            .iter()
            .fold(0u32, |acc, &(_, c)| acc.saturating_add(c));
        n.min(total)
    }

    /// Records `count` instances launched at `now_s`.
    pub(super) fn launched(&mut self, now_s: f64, count: u32) {
        if count > 0 && self.warmup_s > 0.0 {
            self.launches.push((now_s, count));
        }
    }

    /// Serving VMs of the last step that are past their warm-up: the ones
    /// whose metric the group aggregate holds. The VMs that did not serve
    /// are the newest, and so are the warming ones, so the warming VMs that
    /// served are those beyond the non-serving ones.
    pub(super) fn settled_serving(obs: &Observation, warming: u32) -> u32 {
        let serving = obs.vms_serving.min(obs.vms_total());
        let not_serving = obs.vms_total() - serving;
        serving - warming.saturating_sub(not_serving).min(serving)
    }
}

/// AWS step scaling on utilization: a high and a low alarm with step
/// adjustments, and instance warm-up.
#[derive(Debug, Clone, PartialEq)]
pub struct StepScalingPolicy {
    out_threshold: f64,
    out_steps: Vec<StepAdjustment>,
    in_threshold: f64,
    in_steps: Vec<StepAdjustment>,
    adjustment_type: AdjustmentType,
    min_adjustment_magnitude: Option<u32>,
    periods: u32,
    min_vms: u32,
    max_vms: u32,
    warm_up: WarmUp,
    above: u32,
    below: u32,
}

impl StepScalingPolicy {
    /// The policy pair with `config.policy.aws_step` alarms and steps.
    pub fn new<'a>(config: impl Into<PolicySetup<'a>>) -> StepScalingPolicy {
        let config: PolicySetup<'a> = config.into();
        let p = &config.policy.aws_step;
        StepScalingPolicy {
            out_threshold: p.scale_out_threshold,
            out_steps: p.scale_out_steps.clone(),
            in_threshold: p.scale_in_threshold,
            in_steps: p.scale_in_steps.clone(),
            adjustment_type: p.adjustment_type,
            min_adjustment_magnitude: p.min_adjustment_magnitude,
            periods: p.evaluation_periods.max(1),
            min_vms: config.cloud.min_vms,
            max_vms: config.cloud.max_vms,
            warm_up: WarmUp::new(p.warmup_s, config.cloud.mean_boot_s()),
            above: 0,
            below: 0,
        }
    }
}

impl Policy for StepScalingPolicy {
    fn name(&self) -> &str {
        "step"
    }

    fn decide(&mut self, obs: &Observation) -> Action {
        let now = obs.time_s;
        let current = obs.vms_total();
        let warming = self.warm_up.warming(now, current);
        if obs.step == 0 || WarmUp::settled_serving(obs, warming) == 0 {
            // INSUFFICIENT_DATA: no evaluation.
            return Action::Target(current);
        }
        let m = obs.utilization;
        self.above = if m >= self.out_threshold {
            self.above + 1
        } else {
            0
        };
        self.below = if m <= self.in_threshold {
            self.below + 1
        } else {
            0
        };
        let step = if self.above >= self.periods {
            select_step(&self.out_steps, m - self.out_threshold, true)
        } else if self.below >= self.periods {
            select_step(&self.in_steps, m - self.in_threshold, false)
        } else {
            None
        };
        let Some(step) = step else {
            return Action::Target(current);
        };
        let base = current - warming;
        let wanted = new_capacity(
            self.adjustment_type,
            base,
            step.adjustment,
            self.min_adjustment_magnitude,
        );
        let target = wanted.clamp(i64::from(self.min_vms), i64::from(self.max_vms));
        // invariant: clamped into [min_vms, max_vms], both u32.
        let target = u32::try_from(target).unwrap_or(current);
        if target > current {
            self.warm_up.launched(now, target - current);
            Action::Target(target)
        } else if target < current && warming == 0 {
            Action::Target(target)
        } else {
            Action::Target(current)
        }
    }
}

/// The `step` policy's keys of `[policy]` (AWS step scaling).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StepParams {
    /// `step`: the high alarm's threshold on utilization, in (0, 1]; it is
    /// in ALARM while utilization ≥ this. Default 0.7.
    pub scale_out_threshold: f64,
    /// `step`: scale-out steps `{ lower, upper, adjustment }`, bounds
    /// relative to `scale_out_threshold` in utilization units (omitted:
    /// ∓∞), no overlaps or gaps. Default `[0, 0.1) → +1`, `[0.1, 0.2) → +2`,
    /// `[0.2, ∞) → +3`.
    pub scale_out_steps: Vec<StepAdjustment>,
    /// `step`: the low alarm's threshold, in [0, scale_out_threshold); it
    /// is in ALARM while utilization ≤ this. Default 0.3.
    pub scale_in_threshold: f64,
    /// `step`: scale-in steps, relative to `scale_in_threshold`. Default
    /// `(−∞, 0] → −1`.
    pub scale_in_steps: Vec<StepAdjustment>,
    /// `step`: `"change-in-capacity"`, `"percent-change-in-capacity"` or
    /// `"exact-capacity"` (adjustments ≥ 0), for both alarms. Default
    /// `"change-in-capacity"`.
    pub adjustment_type: AdjustmentType,
    /// `step` with `"percent-change-in-capacity"`: smallest change, VMs,
    /// ≥ 1. Default: unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_adjustment_magnitude: Option<u32>,
    /// `step`: consecutive steps (one data point each) an alarm must
    /// breach, ≥ 1. Default 1.
    pub evaluation_periods: u32,
    /// `step`, `target`: instance warm-up from the launch request, seconds,
    /// ≥ 0. Default: unset, meaning `cloud.boot_s` (AWS falls back to 300).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_s: Option<f64>,
}

impl Default for StepParams {
    fn default() -> Self {
        Self {
            scale_out_threshold: 0.7,
            scale_out_steps: default_scale_out_steps(),
            scale_in_threshold: 0.3,
            scale_in_steps: default_scale_in_steps(),
            adjustment_type: AdjustmentType::ChangeInCapacity,
            min_adjustment_magnitude: None,
            evaluation_periods: 1,
            warmup_s: None,
        }
    }
}

impl PolicyParams for StepParams {
    fn validate(&self) -> Result<(), ConfigError> {
        validate_config(self)
    }
}

/// Step adjustments as a TOML array, every adjustment multiplied by `k`.
pub(crate) fn scaled_steps(steps: Vec<StepAdjustment>, k: i32) -> toml::Value {
    let steps: Vec<_> = steps
        .into_iter()
        .map(|mut s| {
            s.adjustment *= k;
            s
        })
        .collect();
    // invariant: step adjustments are plain numbers, always representable
    toml::Value::try_from(steps).expect("step adjustments serialize to TOML")
}

impl Registered for StepScalingPolicy {
    const NAME: &'static str = "step";
    const COLOUR: (u8, u8, u8) = (86, 180, 233);
    type Params = StepParams;
    fn tuning_grid() -> Vec<GridAxis> {
        vec![
            GridAxis::one(
                "policy.scale_out_threshold",
                crate::policy::upper_thresholds(),
            ),
            GridAxis::one("policy.scale_in_threshold", hundredths(10, 50, 10)),
            GridAxis::one(
                "policy.scale_out_steps",
                vec![
                    scaled_steps(default_scale_out_steps(), 1),
                    scaled_steps(default_scale_out_steps(), 2),
                ],
            ),
            GridAxis::one(
                "policy.scale_in_steps",
                vec![
                    scaled_steps(default_scale_in_steps(), 1),
                    scaled_steps(default_scale_in_steps(), 2),
                ],
            ),
            GridAxis::one("policy.evaluation_periods", integers(&[1, 2])),
        ]
    }
    fn build(ctx: PolicyContext<'_>) -> Option<Box<dyn Policy + Send>> {
        Some(Box::new(StepScalingPolicy::new(ctx.setup)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::PolicyKind;
    use crate::policy::test_support::{assert_scales_out_and_back_in, obs};

    fn step(lower: Option<f64>, upper: Option<f64>, adjustment: i32) -> StepAdjustment {
        StepAdjustment {
            lower,
            upper,
            adjustment,
        }
    }

    fn policy(warmup_s: f64) -> StepScalingPolicy {
        let mut config = Config::default();
        config.policy.aws_step.warmup_s = Some(warmup_s);
        config.cloud.max_vms = 20;
        StepScalingPolicy::new(&config)
    }

    #[test]
    fn percent_changes_round_as_the_aws_documentation_says() {
        assert_eq!(round_aws(12.7), 12);
        assert_eq!(round_aws(0.67), 1);
        assert_eq!(round_aws(-0.58), -1);
        assert_eq!(round_aws(-6.67), -6);
        assert_eq!(round_aws(3.0), 3);
        assert_eq!(round_aws(0.0), 0);
        let pct = AdjustmentType::PercentChangeInCapacity;
        assert_eq!(new_capacity(pct, 127, 10, None), 139); // +12.7 -> +12
        assert_eq!(new_capacity(pct, 67, 1, None), 68); // +0.67 -> +1
        assert_eq!(new_capacity(pct, 58, -1, None), 57); // -0.58 -> -1
        assert_eq!(new_capacity(pct, 667, -1, None), 661); // -6.67 -> -6
        assert_eq!(new_capacity(pct, 10, 30, None), 13); // exact: 10 * 0.3
    }

    #[test]
    fn min_adjustment_magnitude_raises_a_small_percent_step() {
        let pct = AdjustmentType::PercentChangeInCapacity;
        // A 10 % step on 10 instances adds 1; with magnitude 2 it adds 2.
        assert_eq!(new_capacity(pct, 10, 10, None), 11);
        assert_eq!(new_capacity(pct, 10, 10, Some(2)), 12);
        // The AWS example: 25 % of 4 is 1, magnitude 2 adds 2.
        assert_eq!(new_capacity(pct, 4, 25, Some(2)), 6);
        assert_eq!(new_capacity(pct, 10, -10, Some(2)), 8);
        // A larger change is left alone.
        assert_eq!(new_capacity(pct, 100, 10, Some(2)), 110);
    }

    #[test]
    fn change_and_exact_capacity_adjust_as_named() {
        assert_eq!(
            new_capacity(AdjustmentType::ChangeInCapacity, 4, 3, None),
            7
        );
        assert_eq!(
            new_capacity(AdjustmentType::ChangeInCapacity, 4, -5, None),
            -1
        );
        assert_eq!(new_capacity(AdjustmentType::ExactCapacity, 4, 9, None), 9);
    }

    #[test]
    fn step_bounds_are_lower_inclusive_above_and_upper_inclusive_below_the_threshold() {
        let out = [
            step(Some(0.0), Some(0.125), 1),
            step(Some(0.125), Some(0.25), 2),
            step(Some(0.25), None, 3),
        ];
        let pick = |d: f64, high: bool| select_step(&out, d, high).map(|s| s.adjustment);
        assert_eq!(pick(0.0, true), Some(1));
        assert_eq!(pick(0.124, true), Some(1));
        assert_eq!(pick(0.125, true), Some(2));
        assert_eq!(pick(0.25, true), Some(3));
        assert_eq!(pick(10.0, true), Some(3));
        let inn = [
            step(None, Some(-0.125), -2),
            step(Some(-0.125), Some(0.0), -1),
        ];
        let pick = |d: f64| select_step(&inn, d, false).map(|s| s.adjustment);
        assert_eq!(pick(0.0), Some(-1));
        assert_eq!(pick(-0.1), Some(-1));
        assert_eq!(pick(-0.125), Some(-2));
        assert_eq!(pick(-1.0), Some(-2));
        // The API reference's examples, threshold 50 (in percent units).
        let s = [step(Some(0.0), Some(10.0), 1)];
        assert!(select_step(&s, 0.0, true).is_some()); // 50 >= 50
        assert!(select_step(&s, 10.0, true).is_none()); // 60 is not < 60
        let s = [step(Some(-10.0), Some(0.0), -1)];
        assert!(select_step(&s, 0.0, false).is_some()); // 50 <= 50
        assert!(select_step(&s, -10.0, false).is_none()); // 40 is not > 40
    }

    #[test]
    fn a_metric_exactly_on_a_step_bound_gets_that_bound_s_step_issue_18() {
        // Thresholds and metrics whose difference is not exact in binary:
        // 0.6 − 0.5 = 0.0999…, 0.7 − 0.5 = 0.19999…, 0.3 − 0.4 = −0.10000…1.
        let out = [
            step(Some(0.0), Some(0.1), 0),
            step(Some(0.1), Some(0.2), 10),
            step(Some(0.2), None, 20),
        ];
        let pick = |m: f64, t: f64| select_step(&out, m - t, true).map(|s| s.adjustment);
        assert_eq!(pick(0.5, 0.5), Some(0)); // on the threshold
        assert_eq!(pick(0.6, 0.5), Some(10)); // on 0.1: [0.1, 0.2)
        assert_eq!(pick(0.599, 0.5), Some(0)); // below the bound
        assert_eq!(pick(0.601, 0.5), Some(10)); // above it
        assert_eq!(pick(0.7, 0.5), Some(20)); // on 0.2: [0.2, ∞)
        assert_eq!(pick(0.8, 0.7), Some(10));
        assert_eq!(pick(0.9, 0.7), Some(20));
        let inn = [
            step(None, Some(-0.1), -20),
            step(Some(-0.1), Some(0.0), -10),
        ];
        let pick = |m: f64, t: f64| select_step(&inn, m - t, false).map(|s| s.adjustment);
        assert_eq!(pick(0.4, 0.4), Some(-10)); // on the threshold
        assert_eq!(pick(0.3, 0.4), Some(-20)); // on −0.1: (−∞, −0.1]
        assert_eq!(pick(0.301, 0.4), Some(-10)); // above the bound
        assert_eq!(pick(0.299, 0.4), Some(-20)); // below it
        assert_eq!(pick(0.2, 0.3), Some(-20));
        // In a policy with percent steps: 10 VMs at utilization 0.6 with a
        // high alarm at 0.5 get +10 %, one VM.
        let mut config = Config::default();
        config.cloud.max_vms = 50;
        let p = &mut config.policy.aws_step;
        p.scale_out_threshold = 0.5;
        p.scale_in_threshold = 0.4;
        p.scale_out_steps = out.to_vec();
        p.scale_in_steps = inn.to_vec();
        p.adjustment_type = AdjustmentType::PercentChangeInCapacity;
        p.warmup_s = Some(0.0);
        let mut policy = StepScalingPolicy::new(&config);
        assert_eq!(policy.decide(&obs(1, 60.0, 0.6, 10, 0)), Action::Target(11));
        // And at 0.3 with a low alarm at 0.4, −20 %: two VMs.
        assert_eq!(policy.decide(&obs(2, 120.0, 0.3, 10, 0)), Action::Target(8));
    }

    #[test]
    fn repeated_breaches_in_the_same_step_cause_one_activity() {
        let mut p = policy(300.0);
        // 4 VMs at 0.75: step [0, 0.1) adds 1.
        assert_eq!(p.decide(&obs(1, 60.0, 0.75, 4, 0)), Action::Target(5));
        // Same breach while the new VM warms: 4 + 1 = 5 is not above 5.
        assert_eq!(p.decide(&obs(2, 120.0, 0.75, 4, 1)), Action::Target(5));
        assert_eq!(p.decide(&obs(3, 180.0, 0.76, 5, 0)), Action::Target(5));
        // A larger breach, step [0.2, inf): 4 + 3 = 7 adds 2 more.
        assert_eq!(p.decide(&obs(4, 240.0, 0.95, 5, 0)), Action::Target(7));
        // After the warm-up of the first one (launched at 60, ends 360),
        // its capacity counts: 5 settled + 1 = 6 < 7, no change.
        assert_eq!(p.decide(&obs(5, 360.0, 0.75, 5, 2)), Action::Target(7));
    }

    #[test]
    fn warm_up_blocks_scale_in_until_it_ends() {
        let mut p = policy(300.0);
        assert_eq!(p.decide(&obs(1, 60.0, 0.75, 4, 0)), Action::Target(5));
        // Load collapses; the low alarm is in ALARM but a VM warms until 360.
        assert_eq!(p.decide(&obs(2, 120.0, 0.1, 4, 1)), Action::Target(5));
        assert_eq!(p.decide(&obs(6, 300.0, 0.1, 5, 0)), Action::Target(5));
        assert_eq!(p.decide(&obs(7, 360.0, 0.1, 5, 0)), Action::Target(4));
        // No cooldown: the next breach acts at once.
        assert_eq!(p.decide(&obs(8, 420.0, 0.1, 4, 0)), Action::Target(3));
    }

    #[test]
    fn all_serving_vms_warming_means_no_data_and_no_action() {
        let mut config = Config::default();
        config.policy.aws_step.warmup_s = Some(600.0);
        config.cloud.min_vms = 0;
        config.cloud.initial_vms = 0;
        let mut p = StepScalingPolicy::new(&config);
        assert_eq!(p.decide(&obs(1, 60.0, 0.9, 0, 0)), Action::Target(0));
        // 2 VMs settled at the start would allow it: [0.2, inf) adds 3.
        assert_eq!(p.decide(&obs(2, 120.0, 0.95, 2, 0)), Action::Target(5));
        // Now 3 VMs warm (launched at 120); if 3 of the 5 serve, only 2 of
        // the serving ones are settled, and the metric still counts.
        assert_eq!(WarmUp::settled_serving(&obs(3, 300.0, 0.9, 5, 0), 3), 2);
        assert_eq!(WarmUp::settled_serving(&obs(3, 300.0, 0.9, 3, 2), 3), 2);
        assert_eq!(WarmUp::settled_serving(&obs(3, 300.0, 0.9, 2, 3), 3), 2);
    }

    #[test]
    fn evaluation_periods_must_all_breach() {
        let mut config = Config::default();
        config.policy.aws_step.evaluation_periods = 3;
        let mut p = StepScalingPolicy::new(&config);
        assert_eq!(p.decide(&obs(1, 60.0, 0.1, 4, 0)), Action::Target(4));
        assert_eq!(p.decide(&obs(2, 120.0, 0.1, 4, 0)), Action::Target(4));
        assert_eq!(p.decide(&obs(3, 180.0, 0.1, 4, 0)), Action::Target(3));
    }

    #[test]
    fn results_are_clamped_to_the_bounds() {
        let mut config = Config::default();
        config.cloud.max_vms = 5;
        config.cloud.min_vms = 2;
        config.policy.aws_step.warmup_s = Some(0.0);
        let mut p = StepScalingPolicy::new(&config);
        assert_eq!(p.decide(&obs(1, 60.0, 1.0, 4, 0)), Action::Target(5));
        assert_eq!(p.decide(&obs(2, 120.0, 0.0, 2, 0)), Action::Target(2));
    }

    #[test]
    fn step_lists_that_overlap_leave_gaps_or_omit_too_much_are_rejected() {
        let check = |steps: Vec<StepAdjustment>| validate_steps("policy.scale_out_steps", &steps);
        assert!(check(default_scale_out_steps()).is_ok());
        assert!(check(default_scale_in_steps()).is_ok());
        let gap = check(vec![
            step(Some(0.0), Some(0.1), 1),
            step(Some(0.2), None, 2),
        ]);
        assert!(gap.unwrap_err().to_string().contains("gap"));
        let overlap = check(vec![
            step(Some(0.0), Some(0.3), 1),
            step(Some(0.2), None, 2),
        ]);
        assert!(overlap.is_err());
        assert!(check(vec![step(None, None, 1)]).is_err());
        assert!(check(vec![step(None, Some(0.0), 1), step(None, Some(0.1), 1)]).is_err());
        // A positive upper bound needs an open-ended step above it.
        assert!(check(vec![step(Some(0.0), Some(0.1), 1)]).is_err());
        // A negative lower bound needs an open-ended step below it.
        assert!(check(vec![step(Some(-0.1), None, 1)]).is_err());
        assert!(check(vec![
            step(Some(0.2), Some(0.1), 1),
            step(Some(0.1), None, 1)
        ])
        .is_err());
        assert!(check(vec![step(Some(f64::NAN), None, 1)]).is_err());
    }

    #[test]
    fn inconsistent_adjustment_settings_are_rejected() {
        let mut p = StepParams::default();
        assert!(validate_config(&p).is_ok());
        p.min_adjustment_magnitude = Some(2);
        assert!(validate_config(&p).is_err());
        p.adjustment_type = AdjustmentType::PercentChangeInCapacity;
        assert!(validate_config(&p).is_ok());
        p.adjustment_type = AdjustmentType::ExactCapacity;
        p.min_adjustment_magnitude = None;
        // The default scale-in step is -1, not a capacity.
        assert!(validate_config(&p).is_err());
    }

    #[test]
    fn steps_are_inline_tables_that_a_set_can_write_and_a_round_trip_keeps() {
        let sets: Vec<String> = [
            "policy.kind=step",
            "policy.scale_out_steps=[{lower = 0, upper = 0.15, adjustment = 10}, {lower = 0.15, adjustment = 40}]",
            "policy.adjustment_type=percent-change-in-capacity",
            "policy.min_adjustment_magnitude=2",
            "policy.warmup_s=120",
        ]
        .map(String::from)
        .to_vec();
        let c = Config::load(None, &sets).unwrap();
        let p = &c.policy.aws_step;
        assert_eq!(p.scale_out_steps[1], step(Some(0.15), None, 40));
        assert_eq!(p.min_adjustment_magnitude, Some(2));
        assert_eq!(p.warmup_s, Some(120.0));
        let back: Config = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(back, c);
        let err = Config::load(
            None,
            &["policy.scale_in_steps=[{lower = -0.1, upper = 0, adjustment = -1}]".to_string()],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("policy.scale_in_steps"), "{err}");
    }

    #[test]
    fn step_scaling_scales_out_under_a_load_rise_and_in_after_it_in_the_environment() {
        assert_scales_out_and_back_in(PolicyKind::Step, "step", 20);
    }
}
