//! The `[policy]` section: which policy decides (`policy.kind`) and the
//! parameters of every policy, flat (`policy.upper`,
//! `policy.hpa_sync_period_s`, …), with their defaults and validation.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{AdjustmentType, HpaScalingPolicy, HpaSelectPolicy, StepAdjustment};
use crate::cloud::{CloudConfig, CloudSetup, RewardConfig, WorkloadConfig};
use crate::config_error::{non_negative, out_of_range, positive, ConfigError};

/// The policies `policy.kind` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    /// A fixed VM count.
    Static,
    /// Threshold rule with cooldown (AWS simple scaling).
    #[default]
    Threshold,
    /// AWS step scaling: step adjustments on a high and a low alarm, with
    /// instance warm-up.
    Step,
    /// AWS target tracking on average utilization.
    Target,
    /// The Kubernetes Horizontal Pod Autoscaler.
    Hpa,
    /// Forecasts the load from the past (seasonal naive or Holt-Winters)
    /// and provisions `boot_s` ahead (AWS predictive scaling).
    Predictive,
    /// Clairvoyant: replays a schedule planned by dynamic programming with
    /// the whole episode known.
    Oracle,
    /// Tabular Q-learning, trained on `experiment.train_traces` first.
    Qlearning,
}

impl PolicyKind {
    /// Every kind, in documentation order.
    pub const ALL: [PolicyKind; 8] = [
        PolicyKind::Static,
        PolicyKind::Threshold,
        PolicyKind::Step,
        PolicyKind::Target,
        PolicyKind::Hpa,
        PolicyKind::Predictive,
        PolicyKind::Oracle,
        PolicyKind::Qlearning,
    ];

    /// The stable name used in configs, CSVs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Static => "static",
            PolicyKind::Threshold => "threshold",
            PolicyKind::Step => "step",
            PolicyKind::Target => "target",
            PolicyKind::Hpa => "hpa",
            PolicyKind::Predictive => "predictive",
            PolicyKind::Oracle => "oracle",
            PolicyKind::Qlearning => "qlearning",
        }
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PolicyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = PolicyKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown policy `{s}`, expected one of {}", names.join(", "))
            })
    }
}

/// How the `static` policy picks its VM count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StaticSizing {
    /// Exactly `policy.vms`.
    Count,
    /// Enough VMs for the trace's mean rate at `policy.target_utilization`.
    Mean,
    /// Enough VMs for the trace's peak rate at `policy.target_utilization`.
    #[default]
    Peak,
}

/// How the `predictive` policy forecasts the arrival rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Forecaster {
    /// The rate one season (`policy.season_s`) earlier.
    SeasonalNaive,
    /// Additive Holt-Winters (level, trend, season).
    #[default]
    HoltWinters,
}

/// Longest `policy.season_s` accepted, seconds: a leap year.
pub const MAX_SEASON_S: f64 = 366.0 * 86_400.0;

/// `[policy]`: which policy decides and its parameters. Keys that the
/// chosen kind does not use are accepted and ignored, so one file can be
/// switched between kinds with `--set policy.kind=...`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// The policy. Default `"threshold"`.
    pub kind: PolicyKind,
    /// Utilization the rule aims for, in (0, 1]. Used by `static` sizing,
    /// `predictive`, `target` and `hpa` (in whole percent: 0.7 → 70 %).
    /// Default 0.7.
    pub target_utilization: f64,
    /// `static`: `"count"`, `"mean"` or `"peak"`. Default `"peak"`.
    pub sizing: StaticSizing,
    /// `static` with `sizing = "count"`: the VM count. Default 2.
    pub vms: u32,
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
    /// `target`: never scale in (`DisableScaleIn`). Default false.
    pub disable_scale_in: bool,
    /// `hpa`: tolerance above a ratio of 1 before scaling up, ≥ 0.
    /// Default 0.1.
    pub hpa_scale_up_tolerance: f64,
    /// `hpa`: tolerance below a ratio of 1 before scaling down, ≥ 0.
    /// Default 0.1.
    pub hpa_scale_down_tolerance: f64,
    /// `hpa`: scale-up stabilization window, seconds, in [0, 3600].
    /// Default 0.
    pub hpa_scale_up_stabilization_s: u32,
    /// `hpa`: scale-down stabilization window, seconds, in [0, 3600].
    /// Default 300.
    pub hpa_scale_down_stabilization_s: u32,
    /// `hpa`: scale-up rate limits `{ type = "pods" | "percent", value,
    /// period_s }`, at least one, value ≥ 1, period_s in [1, 1800]. Default
    /// 4 pods and 100 % per 15 s.
    pub hpa_scale_up_policies: Vec<HpaScalingPolicy>,
    /// `hpa`: scale-down rate limits, as above. Default 100 % per 15 s.
    pub hpa_scale_down_policies: Vec<HpaScalingPolicy>,
    /// `hpa`: `"max"`, `"min"` or `"disabled"` among the scale-up
    /// policies. Default `"max"`.
    pub hpa_scale_up_select: HpaSelectPolicy,
    /// `hpa`: the same for scale-down. Default `"max"`.
    pub hpa_scale_down_select: HpaSelectPolicy,
    /// `hpa`: controller sync period, seconds, ≥ 1. Default 15.
    pub hpa_sync_period_s: u32,
    /// `predictive`: `"seasonal-naive"` or `"holt-winters"`. Default
    /// `"holt-winters"`.
    pub forecaster: Forecaster,
    /// `predictive`: season length, seconds, in (0, 31 622 400] (a leap
    /// year); rounded to whole steps, at least one. Default 86 400 (a day).
    pub season_s: f64,
    /// `predictive` with Holt-Winters: level smoothing α, in (0, 1].
    /// Default 0.5.
    pub smoothing_level: f64,
    /// `predictive` with Holt-Winters: trend smoothing β, in [0, 1].
    /// Default 0.05.
    pub smoothing_trend: f64,
    /// `predictive` with Holt-Winters: seasonal smoothing γ, in [0, 1].
    /// Default 0.3.
    pub smoothing_seasonal: f64,
    /// `predictive`: factor applied to the forecast rate before sizing,
    /// finite and > 0. Default 1.
    pub headroom: f64,
    /// `predictive`: never provision fewer VMs than the last step's rate
    /// needs at `target_utilization` (predictive paired with a reactive
    /// rule, as AWS recommends). Default true.
    pub reactive: bool,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            kind: PolicyKind::Threshold,
            target_utilization: 0.7,
            sizing: StaticSizing::Peak,
            vms: 2,
            upper: 0.8,
            lower: 0.3,
            step: 1,
            periods: 1,
            cooldown_s: 300.0,
            scale_out_threshold: 0.7,
            scale_out_steps: super::default_scale_out_steps(),
            scale_in_threshold: 0.3,
            scale_in_steps: super::default_scale_in_steps(),
            adjustment_type: AdjustmentType::ChangeInCapacity,
            min_adjustment_magnitude: None,
            evaluation_periods: 1,
            warmup_s: None,
            disable_scale_in: false,
            hpa_scale_up_tolerance: 0.1,
            hpa_scale_down_tolerance: 0.1,
            hpa_scale_up_stabilization_s: 0,
            hpa_scale_down_stabilization_s: 300,
            hpa_scale_up_policies: super::default_hpa_scale_up_policies(),
            hpa_scale_down_policies: super::default_hpa_scale_down_policies(),
            hpa_scale_up_select: HpaSelectPolicy::Max,
            hpa_scale_down_select: HpaSelectPolicy::Max,
            hpa_sync_period_s: 15,
            forecaster: Forecaster::HoltWinters,
            season_s: 86_400.0,
            smoothing_level: 0.5,
            smoothing_trend: 0.05,
            smoothing_seasonal: 0.3,
            headroom: 1.0,
            reactive: true,
        }
    }
}

impl PolicyConfig {
    /// Checks every bound and every relation between the keys.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let p = self;
        let t = p.target_utilization;
        if !(t > 0.0 && t <= 1.0) {
            return Err(out_of_range("policy.target_utilization", t, "in (0, 1]"));
        }
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
        super::validate_step_config(p)?;
        super::validate_hpa_config(p)?;
        positive("policy.season_s", p.season_s)?;
        if p.season_s > MAX_SEASON_S {
            return Err(out_of_range(
                "policy.season_s",
                p.season_s,
                "in (0, 31622400] (a leap year)",
            ));
        }
        if !(p.smoothing_level > 0.0 && p.smoothing_level <= 1.0) {
            return Err(out_of_range(
                "policy.smoothing_level",
                p.smoothing_level,
                "in (0, 1]",
            ));
        }
        if !(0.0..=1.0).contains(&p.smoothing_trend) {
            return Err(out_of_range(
                "policy.smoothing_trend",
                p.smoothing_trend,
                "in [0, 1]",
            ));
        }
        if !(0.0..=1.0).contains(&p.smoothing_seasonal) {
            return Err(out_of_range(
                "policy.smoothing_seasonal",
                p.smoothing_seasonal,
                "in [0, 1]",
            ));
        }
        positive("policy.headroom", p.headroom)?;
        Ok(())
    }
}

/// What a policy is built from: `[policy]` and the cloud's sections
/// (`[cloud]`, `[reward]`, `[workload]`). Built from a whole configuration
/// at the boundary (`From<&Config>`); policies never see the configuration.
#[derive(Debug, Clone, Copy)]
pub struct PolicySetup<'a> {
    /// `[policy]`.
    pub policy: &'a PolicyConfig,
    /// `[cloud]`.
    pub cloud: &'a CloudConfig,
    /// `[reward]`.
    pub reward: &'a RewardConfig,
    /// `[workload]` (the decision step and the noise).
    pub workload: &'a WorkloadConfig,
}

impl<'a> From<PolicySetup<'a>> for CloudSetup<'a> {
    fn from(s: PolicySetup<'a>) -> CloudSetup<'a> {
        CloudSetup {
            cloud: s.cloud,
            reward: s.reward,
            workload: s.workload,
        }
    }
}
