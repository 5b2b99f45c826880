//! `hpa`: the Kubernetes Horizontal Pod Autoscaler on CPU utilization, as
//! its controller computes it (replica calculator, then normalisation with
//! `spec.behavior`).
//!
//! **Mapping.** A VM is a pod. A VM that served the last step is a *ready*
//! pod with a metric; a VM that did not (booting, or it finished booting at
//! this step boundary and has no sample yet) is a *not-ready* pod, whose
//! sample the controller drops. Each ready VM reports a CPU usage of
//! `round(1000 · u)` millicores against a request of 1000 millicores
//! (one CPU), where `u` is the busy fraction of the serving VMs in the last
//! step (`Observation::utilization`, the same for every serving VM). The
//! metric the HPA sees is therefore the busy fraction in percent, **capped
//! at 100 %**: in overload a VM is 100 % busy however long the queue is.
//! `policy.target_utilization` is the target (`averageUtilization`), in
//! whole percent: 0.7 → 70 % (rounded, at least 1 %). `minReplicas` and
//! `maxReplicas` are `cloud.min_vms` and `cloud.max_vms`.
//!
//! **Replica calculator** (one metric, CPU):
//! - `utilization = ⌊Σ usage · 100 / Σ request⌋` over ready pods, in
//!   integer percent; `ratio = utilization / target` (float);
//! - no not-ready pod on a scale-up (`ratio > 1`) and no pod without a
//!   metric: `desired = current` when `1 − tol_down ≤ ratio ≤ 1 + tol_up`
//!   (inclusive), else `⌈ratio · ready⌉`;
//! - otherwise the pods are added back conservatively: not-ready pods at
//!   0 % on a scale-up (on a scale-down they stay out), pods without a
//!   metric at `max(100, target)` % on a scale-down and 0 % on a scale-up;
//!   the ratio is recomputed and `desired = ⌈ratio' · n⌉` over the enlarged
//!   set, unless `ratio'` is within the tolerance, flips the direction, or
//!   the new count moves the wrong way (then `desired = current`).
//!
//! In qscale every ready VM has a sample, so the pods-without-metric branch
//! only runs in the unit tests of [`replica_count`].
//!
//! **Controller** (`reconcileAutoscaler`, one call per sync): with
//! `current = 0` and a non-zero minimum, autoscaling is off; above the
//! maximum the desire is the maximum, below the minimum the minimum;
//! otherwise the proposal above goes through
//! 1. *stabilization*: `up = min(proposal, recommendations of the last
//!    scale-up window)`, `down = max(proposal, recommendations of the last
//!    scale-down window)`, `desired = clamp(current, up, down)`; the raw
//!    proposal is stored with its time;
//! 2. *rate limits*: for each policy, `start = current − (replicas added in
//!    its period) + (replicas removed in its period)`; scale-up proposes
//!    `start + value` (`pods`) or `⌈start · (1 + value/100)⌉` (`percent`),
//!    scale-down `start − value` or `trunc(start · (1 − value/100))`;
//!    `select = "max"` takes the largest change, `"min"` the smallest,
//!    `"disabled"` forbids scaling in that direction; the result is clipped
//!    to `[min_vms, max_vms]`.
//!
//! A rescale records an event `|new − old|` with its time. Windows are
//! strict: a recommendation or event exactly a window (period) old no
//! longer counts. The defaults are the API defaults of `behavior`:
//! scale-up 0 s stabilization, `pods 4 / 15 s` and `percent 100 / 15 s`,
//! `max`; scale-down 300 s stabilization (the controller's
//! `--horizontal-pod-autoscaler-downscale-stabilization`), `percent 100 /
//! 15 s`, `max`. The legacy path without `behavior` (scale-up cap
//! `max(2 · current, 4)`) is not modelled.
//!
//! **Sync period.** The controller runs every `policy.hpa_sync_period_s`
//! seconds (default 15, `--horizontal-pod-autoscaler-sync-period`), on a
//! grid anchored at the first decision. [`Policy::decide`] at time `t` runs
//! every sync in `[t, t + step_s)`: `⌈step_s / 15⌉` syncs when `step_s` is
//! a multiple of 15 (4 for the default 60 s step; with `step_s < 15` some
//! decisions run none). Each sync sees the replicas the previous one set
//! (new pods are not ready; removed pods are taken from the not-ready ones
//! first, as a ReplicaSet does) and the same last-step metric, and the
//! action is the replica count after the last sync.
//!
//! Sources: Kubernetes documentation, "Horizontal Pod Autoscaling"
//! (algorithm details, configurable scaling behavior); kubernetes/kubernetes
//! `pkg/controller/podautoscaler` (`horizontal.go`,
//! `replica_calculator.go`) and `pkg/apis/autoscaling/v2/defaults.go`.

use serde::{Deserialize, Serialize};

use crate::policy::Policy;
use crate::policy::PolicySetup;
use crate::cloud::{Action, Observation};
use crate::config_error::{non_negative, out_of_range, ConfigError};
use crate::policy::registry::{floats, integers, target_utilization_axis, GridAxis, PolicyParams, Registered};
use crate::policy::PolicyContext;

/// A pod's CPU request in the model, millicores (one CPU).
const REQUEST_MILLI: i64 = 1000;

/// How an HPA scaling policy limits the change (`HPAScalingPolicy.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HpaPolicyType {
    /// At most `value` pods per period.
    Pods,
    /// At most `value` percent of the replicas at the start of the period.
    Percent,
}

/// One HPA rate limit: `{ type = "pods" | "percent", value, period_s }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpaScalingPolicy {
    /// `"pods"` or `"percent"`.
    #[serde(rename = "type")]
    pub kind: HpaPolicyType,
    /// Pods, or percent, per period; ≥ 1.
    pub value: u32,
    /// The period, seconds, in [1, 1800].
    pub period_s: u32,
}

/// Which of several HPA policies wins (`selectPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HpaSelectPolicy {
    /// The policy allowing the largest change.
    #[default]
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// The default `behavior.scaleUp.policies`: 4 pods or 100 % per 15 s.
pub(crate) fn default_scale_up_policies() -> Vec<HpaScalingPolicy> {
    vec![
        HpaScalingPolicy {
            kind: HpaPolicyType::Pods,
            value: 4,
            period_s: 15,
        },
        HpaScalingPolicy {
            kind: HpaPolicyType::Percent,
            value: 100,
            period_s: 15,
        },
    ]
}

/// The default `behavior.scaleDown.policies`: 100 % per 15 s.
pub(crate) fn default_scale_down_policies() -> Vec<HpaScalingPolicy> {
    vec![HpaScalingPolicy {
        kind: HpaPolicyType::Percent,
        value: 100,
        period_s: 15,
    }]
}

/// Checks the `policy.hpa_*` keys (the ranges the Kubernetes API accepts).
///
/// # Errors
/// The first key out of range.
pub(crate) fn validate_config(p: &HpaParams) -> Result<(), ConfigError> {
    non_negative("policy.hpa_scale_up_tolerance", p.hpa_scale_up_tolerance)?;
    non_negative(
        "policy.hpa_scale_down_tolerance",
        p.hpa_scale_down_tolerance,
    )?;
    for (field, window) in [
        (
            "policy.hpa_scale_up_stabilization_s",
            p.hpa_scale_up_stabilization_s,
        ),
        (
            "policy.hpa_scale_down_stabilization_s",
            p.hpa_scale_down_stabilization_s,
        ),
    ] {
        if window > 3600 {
            return Err(out_of_range(field, f64::from(window), "in [0, 3600]"));
        }
    }
    for (field, rules) in [
        ("policy.hpa_scale_up_policies", &p.hpa_scale_up_policies),
        ("policy.hpa_scale_down_policies", &p.hpa_scale_down_policies),
    ] {
        if rules.is_empty() {
            return Err(ConfigError::Inconsistent(format!(
                "{field} is empty: give at least one policy (or set the select key to \"disabled\")"
            )));
        }
        for (i, r) in rules.iter().enumerate() {
            if r.value == 0 {
                return Err(ConfigError::Inconsistent(format!(
                    "{field}[{i}]: value = 0 is out of range: must be >= 1"
                )));
            }
            if !(1..=1800).contains(&r.period_s) {
                return Err(ConfigError::Inconsistent(format!(
                    "{field}[{i}]: period_s = {} is out of range: must be in [1, 1800]",
                    r.period_s
                )));
            }
        }
    }
    if p.hpa_sync_period_s == 0 {
        return Err(out_of_range("policy.hpa_sync_period_s", 0.0, ">= 1"));
    }
    Ok(())
}

/// The tolerance band around a ratio of 1 within which the HPA does not
/// scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tolerances {
    /// Allowed ratio excess above 1 before scaling up.
    pub up: f64,
    /// Allowed ratio shortfall below 1 before scaling down.
    pub down: f64,
}

impl Tolerances {
    /// `1 − down ≤ ratio ≤ 1 + up`, both ends inclusive.
    pub(crate) fn is_within(self, ratio: f64) -> bool {
        (1.0 - self.down) <= ratio && ratio <= (1.0 + self.up)
    }
}

/// The pods the replica calculator sees, by class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PodCounts {
    /// Ready pods with a metric sample.
    pub ready: u32,
    /// Not-ready pods (their samples are dropped).
    pub unready: u32,
    /// Pods without a metric sample.
    pub missing: u32,
}

/// `⌊Σ usage · 100 / Σ request⌋` and its ratio to `target_pct`, as
/// `GetResourceUtilizationRatio` computes them (integer percent first).
fn utilization_ratio(usage_milli: i64, request_milli: i64, target_pct: i64) -> f64 {
    let utilization = (usage_milli * 100) / request_milli;
    utilization as f64 / target_pct as f64
}

/// The replica calculator for a CPU-utilization target: the proposal for
/// `current` replicas whose ready pods each use `usage_milli` millicores of
/// a 1000-millicore request, with the target `target_pct` percent.
/// `None` when no pod has a usable metric (the controller then keeps the
/// replica count and records nothing).
pub(crate) fn replica_count(
    current: u32,
    pods: PodCounts,
    usage_milli: i64,
    target_pct: i64,
    tol: Tolerances,
) -> Option<u32> {
    if pods.ready == 0 || target_pct <= 0 {
        return None;
    }
    let usage_milli = usage_milli.max(0);
    let ready = i64::from(pods.ready);
    let mut usage = ready * usage_milli;
    let mut request = ready * REQUEST_MILLI;
    let ratio = utilization_ratio(usage, request, target_pct);
    let scale_up_with_unready = pods.unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && pods.missing == 0 {
        if tol.is_within(ratio) {
            return Some(current);
        }
        // `as` saturates (NaN and negatives to 0).
        return Some((ratio * ready as f64).ceil() as u32);
    }
    let mut samples = ready;
    let missing = i64::from(pods.missing);
    if missing > 0 {
        if ratio < 1.0 {
            // Scale-down: a pod without a sample counts as using
            // max(100, target) percent of its request.
            let fallback_pct = target_pct.max(100);
            usage += missing * (REQUEST_MILLI * fallback_pct / 100);
            request += missing * REQUEST_MILLI;
            samples += missing;
        } else if ratio > 1.0 {
            // Scale-up: it counts as idle.
            request += missing * REQUEST_MILLI;
            samples += missing;
        }
    }
    if scale_up_with_unready {
        let unready = i64::from(pods.unready);
        request += unready * REQUEST_MILLI;
        samples += unready;
    }
    let new_ratio = utilization_ratio(usage, request, target_pct);
    if tol.is_within(new_ratio)
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return Some(current);
    }
    let proposed = (new_ratio * samples as f64).ceil() as u32;
    if (new_ratio < 1.0 && proposed > current) || (new_ratio > 1.0 && proposed < current) {
        return Some(current);
    }
    Some(proposed)
}

/// The rules of one direction (`behavior.scaleUp` or `.scaleDown`).
#[derive(Debug, Clone, PartialEq)]
struct Rules {
    stabilization_s: f64,
    policies: Vec<HpaScalingPolicy>,
    select: HpaSelectPolicy,
}

impl Rules {
    fn longest_period_s(&self) -> f64 {
        self.policies
            .iter()
            .map(|p| f64::from(p.period_s))
            .fold(0.0, f64::max)
    }
}

/// An unstabilized recommendation, with the sync time it was made at.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Recommendation {
    replicas: u32,
    time_s: f64,
}

/// A rescale: `|new − old|` replicas at a sync time.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ScaleEvent {
    change: u32,
    time_s: f64,
    outdated: bool,
}

/// Replicas changed by the events strictly inside the last `period_s`.
fn change_in_period(events: &[ScaleEvent], now_s: f64, period_s: f64) -> i64 {
    let cutoff = now_s - period_s;
    events
        .iter()
        .filter(|e| e.time_s > cutoff)
        .map(|e| i64::from(e.change))
        .sum()
}

/// Stores an event, reusing the slot of an outdated one.
fn store_event(events: &mut Vec<ScaleEvent>, change: u32, now_s: f64, longest_period_s: f64) {
    let cutoff = now_s - longest_period_s;
    for e in events.iter_mut() {
        if e.time_s < cutoff {
            e.outdated = true;
        }
    }
    let event = ScaleEvent {
        change,
        time_s: now_s,
        outdated: false,
    };
    match events.iter_mut().find(|e| e.outdated) {
        Some(slot) => *slot = event,
        None => events.push(event),
    }
}

/// The Kubernetes HPA on the busy fraction of the ready VMs.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaPolicy {
    target_pct: i64,
    tolerances: Tolerances,
    up: Rules,
    down: Rules,
    min_replicas: u32,
    max_replicas: u32,
    step_s: f64,
    sync_period_s: f64,
    /// Time of the first sync; syncs run at `anchor + k · sync_period_s`.
    anchor_s: Option<f64>,
    next_sync: u64,
    recommendations: Vec<Recommendation>,
    up_events: Vec<ScaleEvent>,
    down_events: Vec<ScaleEvent>,
}

impl HpaPolicy {
    /// The HPA with `config.policy.hpa`'s target and behaviour, the bounds of
    /// `config.cloud` and the decision step of `config.workload`.
    pub fn new<'a>(config: impl Into<PolicySetup<'a>>) -> HpaPolicy {
        let config: PolicySetup<'a> = config.into();
        let p = &config.policy.hpa;
        HpaPolicy {
            target_pct: ((p.target_utilization * 100.0).round() as i64).max(1),
            tolerances: Tolerances {
                up: p.hpa_scale_up_tolerance,
                down: p.hpa_scale_down_tolerance,
            },
            up: Rules {
                stabilization_s: f64::from(p.hpa_scale_up_stabilization_s),
                policies: p.hpa_scale_up_policies.clone(),
                select: p.hpa_scale_up_select,
            },
            down: Rules {
                stabilization_s: f64::from(p.hpa_scale_down_stabilization_s),
                policies: p.hpa_scale_down_policies.clone(),
                select: p.hpa_scale_down_select,
            },
            min_replicas: config.cloud.min_vms,
            max_replicas: config.cloud.max_vms,
            step_s: f64::from(config.workload.step_s),
            sync_period_s: f64::from(p.hpa_sync_period_s.max(1)),
            anchor_s: None,
            next_sync: 0,
            recommendations: Vec::new(),
            up_events: Vec::new(),
            down_events: Vec::new(),
        }
    }

    /// One controller sync at `now_s` with `current` replicas of which
    /// `ready` have a sample of `usage_milli` millicores (`None`: no
    /// metric). Returns the replica count it sets.
    fn sync(&mut self, now_s: f64, current: u32, ready: u32, usage_milli: Option<i64>) -> u32 {
        let desired = if current == 0 && self.min_replicas != 0 {
            // Autoscaling is disabled for a target scaled to zero.
            return current;
        } else if current > self.max_replicas {
            self.max_replicas
        } else if current < self.min_replicas {
            self.min_replicas
        } else {
            let pods = PodCounts {
                ready: ready.min(current),
                unready: current - ready.min(current),
                missing: 0,
            };
            let Some(usage) = usage_milli else {
                return current;
            };
            let Some(proposal) =
                replica_count(current, pods, usage, self.target_pct, self.tolerances)
            else {
                return current;
            };
            let stabilized = self.stabilize(now_s, current, proposal);
            self.limit_rate(now_s, current, stabilized)
        };
        if desired > current {
            let longest = self.up.longest_period_s();
            store_event(&mut self.up_events, desired - current, now_s, longest);
        } else if desired < current {
            let longest = self.down.longest_period_s();
            store_event(&mut self.down_events, current - desired, now_s, longest);
        }
        desired
    }

    /// `stabilizeRecommendationWithBehaviors`: the stabilized count, and
    /// the raw proposal stored.
    fn stabilize(&mut self, now_s: f64, current: u32, proposal: u32) -> u32 {
        let up_cutoff = now_s - self.up.stabilization_s;
        let down_cutoff = now_s - self.down.stabilization_s;
        let mut up_rec = proposal;
        let mut down_rec = proposal;
        let mut old_slot = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if r.time_s > up_cutoff {
                up_rec = up_rec.min(r.replicas);
            }
            if r.time_s > down_cutoff {
                down_rec = down_rec.max(r.replicas);
            }
            if r.time_s < up_cutoff && r.time_s < down_cutoff {
                old_slot = Some(i);
            }
        }
        let mut result = current;
        if result < up_rec {
            result = up_rec;
        }
        if result > down_rec {
            result = down_rec;
        }
        let rec = Recommendation {
            replicas: proposal,
            time_s: now_s,
        };
        match old_slot {
            Some(i) => self.recommendations[i] = rec,
            None => self.recommendations.push(rec),
        }
        result
    }

    /// `convertDesiredReplicasWithBehaviorRate`: the count clipped by the
    /// rate limits and the bounds.
    fn limit_rate(&self, now_s: f64, current: u32, desired: u32) -> u32 {
        let cur = i64::from(current);
        let min = i64::from(self.min_replicas);
        let max = i64::from(self.max_replicas);
        let want = i64::from(desired);
        let allowed = if want > cur {
            let limit = self.scale_up_limit(now_s, cur).max(cur);
            want.min(max.min(limit))
        } else if want < cur {
            let limit = self.scale_down_limit(now_s, cur).min(cur);
            want.max(min.max(limit))
        } else {
            want
        };
        // invariant: `allowed` lies between `desired` and `current`, or
        // within the bounds, all of which are u32.
        u32::try_from(allowed.max(0)).unwrap_or(u32::MAX)
    }

    fn period_start(&self, now_s: f64, current: i64, period_s: f64) -> i64 {
        current - change_in_period(&self.up_events, now_s, period_s)
            + change_in_period(&self.down_events, now_s, period_s)
    }

    /// `calculateScaleUpLimitWithScalingRules`.
    fn scale_up_limit(&self, now_s: f64, current: i64) -> i64 {
        let rules = &self.up;
        let (mut result, pick): (i64, fn(i64, i64) -> i64) = match rules.select {
            HpaSelectPolicy::Disabled => return current,
            HpaSelectPolicy::Min => (i64::from(i32::MAX), i64::min),
            HpaSelectPolicy::Max => (i64::from(i32::MIN), i64::max),
        };
        for p in &rules.policies {
            let start = self.period_start(now_s, current, f64::from(p.period_s));
            let proposed = match p.kind {
                HpaPolicyType::Pods => start + i64::from(p.value),
                HpaPolicyType::Percent => {
                    (start as f64 * (1.0 + f64::from(p.value) / 100.0)).ceil() as i64
                }
            };
            result = pick(result, proposed);
        }
        result
    }

    /// `calculateScaleDownLimitWithBehaviors`.
    fn scale_down_limit(&self, now_s: f64, current: i64) -> i64 {
        let rules = &self.down;
        let (mut result, pick): (i64, fn(i64, i64) -> i64) = match rules.select {
            HpaSelectPolicy::Disabled => return current,
            HpaSelectPolicy::Min => (i64::from(i32::MIN), i64::max),
            HpaSelectPolicy::Max => (i64::from(i32::MAX), i64::min),
        };
        for p in &rules.policies {
            let start = self.period_start(now_s, current, f64::from(p.period_s));
            let proposed = match p.kind {
                HpaPolicyType::Pods => start - i64::from(p.value),
                // Go's int32() conversion truncates towards zero.
                HpaPolicyType::Percent => {
                    (start as f64 * (1.0 - f64::from(p.value) / 100.0)).trunc() as i64
                }
            };
            result = pick(result, proposed);
        }
        result
    }
}

impl Policy for HpaPolicy {
    fn name(&self) -> &str {
        "hpa"
    }

    fn decide(&mut self, obs: &Observation) -> Action {
        let now = obs.time_s;
        let mut replicas = obs.vms_total();
        // VMs that served the last step have a sample; the rest are not
        // ready. Step 0 has no sample at all.
        let mut ready = obs.vms_serving.min(obs.vms_running);
        let usage_milli = (obs.step > 0 && ready > 0)
            .then(|| (obs.utilization.clamp(0.0, 1.0) * REQUEST_MILLI as f64).round() as i64);
        let anchor = *self.anchor_s.get_or_insert(now);
        let period = self.sync_period_s;
        // Skip syncs whose time has passed (no decision was asked then).
        let first_due = ((now - anchor) / period - 1e-9).ceil().max(0.0) as u64;
        self.next_sync = self.next_sync.max(first_due);
        let end = now + self.step_s;
        // After this many syncs without a change every window holds only
        // identical syncs, and the rest would repeat them; a very long step
        // skips to the last ones (which rebuild the windows as they were).
        let horizon = self.up.stabilization_s.max(self.down.stabilization_s)
            + self.up.longest_period_s().max(self.down.longest_period_s())
            + period;
        let steady_after = (horizon / period).ceil() as u64 + 1;
        let mut quiet = 0;
        loop {
            let at = anchor + self.next_sync as f64 * period;
            if at >= end - 1e-9 {
                break;
            }
            self.next_sync += 1;
            let set = self.sync(at, replicas, ready, usage_milli);
            if set < replicas {
                // A ReplicaSet deletes not-ready pods before ready ones.
                let removed = replicas - set;
                let unready = replicas - ready;
                ready -= removed.saturating_sub(unready).min(ready);
            }
            quiet = if set == replicas { quiet + 1 } else { 0 };
            replicas = set;
            if quiet >= steady_after {
                let past_end = ((end - anchor) / period - 1e-9).ceil().max(0.0) as u64;
                self.next_sync = self.next_sync.max(past_end.saturating_sub(steady_after));
                quiet = 0;
            }
        }
        Action::Target(replicas)
    }
}

/// The `hpa` policy's keys of `[policy]` (the Kubernetes HPA).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HpaParams {
    /// Utilization the rule aims for, in (0, 1]. Used by `static` sizing,
    /// `predictive`, `target` and `hpa` (in whole percent: 0.7 → 70 %).
    /// Default 0.7.
    pub target_utilization: f64,
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
}

impl Default for HpaParams {
    fn default() -> Self {
        Self {
            target_utilization: 0.7,
            hpa_scale_up_tolerance: 0.1,
            hpa_scale_down_tolerance: 0.1,
            hpa_scale_up_stabilization_s: 0,
            hpa_scale_down_stabilization_s: 300,
            hpa_scale_up_policies: default_scale_up_policies(),
            hpa_scale_down_policies: default_scale_down_policies(),
            hpa_scale_up_select: HpaSelectPolicy::Max,
            hpa_scale_down_select: HpaSelectPolicy::Max,
            hpa_sync_period_s: 15,
        }
    }
}

impl PolicyParams for HpaParams {
    fn validate(&self) -> Result<(), ConfigError> {
        let t = self.target_utilization;
        if !(t > 0.0 && t <= 1.0) {
            return Err(out_of_range("policy.target_utilization", t, "in (0, 1]"));
        }
        validate_config(self)
    }
}

impl Registered for HpaPolicy {
    const NAME: &'static str = "hpa";
    const COLOUR: (u8, u8, u8) = (204, 121, 167);
    type Params = HpaParams;
    fn tuning_grid() -> Vec<GridAxis> {
        vec![
            target_utilization_axis(),
            GridAxis::one(
                "policy.hpa_scale_down_stabilization_s",
                integers(&[0, 60, 300, 600]),
            ),
            GridAxis::zipped(
                &[
                    "policy.hpa_scale_up_tolerance",
                    "policy.hpa_scale_down_tolerance",
                ],
                floats(&[0.05, 0.1, 0.2]),
            ),
        ]
    }
    fn build(ctx: PolicyContext<'_>) -> Option<Box<dyn Policy + Send>> {
        Some(Box::new(HpaPolicy::new(ctx.setup)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::PolicyKind;
    use crate::policy::test_support::{assert_scales_out_and_back_in, obs};

    const TOL: Tolerances = Tolerances { up: 0.1, down: 0.1 };

    fn pods(ready: u32, unready: u32, missing: u32) -> PodCounts {
        PodCounts {
            ready,
            unready,
            missing,
        }
    }

    fn hpa(target: f64, step_s: u32, max_vms: u32) -> HpaPolicy {
        let mut config = Config::default();
        config.policy.hpa.target_utilization = target;
        config.workload.step_s = step_s;
        config.cloud.min_vms = 1;
        config.cloud.max_vms = max_vms;
        HpaPolicy::new(&config)
    }

    #[test]
    fn one_replica_at_twice_the_target_doubles() {
        // Kubernetes docs: current 200m, desired 100m -> replicas doubled.
        assert_eq!(replica_count(1, pods(1, 0, 0), 2000, 100, TOL), Some(2));
        // ... and 50m of 100m halves them.
        assert_eq!(replica_count(4, pods(4, 0, 0), 500, 100, TOL), Some(2));
    }

    #[test]
    fn a_ratio_within_the_tolerance_keeps_the_replicas_with_both_ends_inclusive() {
        assert_eq!(replica_count(4, pods(4, 0, 0), 1050, 100, TOL), Some(4));
        assert_eq!(replica_count(4, pods(4, 0, 0), 1100, 100, TOL), Some(4));
        assert_eq!(replica_count(4, pods(4, 0, 0), 900, 100, TOL), Some(4));
        assert_eq!(replica_count(4, pods(4, 0, 0), 1110, 100, TOL), Some(5));
        assert_eq!(replica_count(10, pods(10, 0, 0), 890, 100, TOL), Some(9));
    }

    #[test]
    fn utilization_is_truncated_to_whole_percent_before_the_ratio() {
        // 77.9 % truncates to 77 %: 77/70 = 1.1 is inside the tolerance,
        // whereas 77.9/70 would not be.
        assert_eq!(replica_count(10, pods(10, 0, 0), 779, 70, TOL), Some(10));
        assert_eq!(replica_count(10, pods(10, 0, 0), 780, 70, TOL), Some(12));
    }

    #[test]
    fn per_direction_tolerances_apply_to_their_own_side() {
        let tol = Tolerances { up: 0.0, down: 0.5 };
        assert_eq!(replica_count(4, pods(4, 0, 0), 1010, 100, tol), Some(5));
        assert_eq!(replica_count(4, pods(4, 0, 0), 600, 100, tol), Some(4));
    }

    #[test]
    fn not_ready_pods_on_a_scale_up_count_at_zero() {
        // 3 ready at 80 % of a 50 % target, 3 booting: ignoring the
        // booting pods would give ceil(1.6 * 3) = 5 < 6, a scale-down under
        // load. Counted at 0 %, the ratio is 40/50 = 0.8: the direction
        // flips and the HPA keeps 6.
        assert_eq!(replica_count(6, pods(3, 3, 0), 800, 50, TOL), Some(6));
        // 4 ready at 100 %, 1 not ready, target 50: (4000·100/5000)=80 %,
        // 80/50 = 1.6, ceil(1.6 · 5) = 8.
        assert_eq!(replica_count(5, pods(4, 1, 0), 1000, 50, TOL), Some(8));
    }

    #[test]
    fn not_ready_pods_on_a_scale_down_are_not_added_back() {
        // 4 ready at 25 % of 50 %, 2 not ready: ceil(0.5 · 4) = 2.
        assert_eq!(replica_count(6, pods(4, 2, 0), 250, 50, TOL), Some(2));
    }

    #[test]
    fn pods_without_metrics_count_at_full_request_on_a_scale_down_and_zero_on_a_scale_up() {
        // Scale-down: 2 missing at 100 % lift 25 % to 62 %, 62/50 > 1 flips
        // the direction: no change.
        assert_eq!(replica_count(4, pods(2, 0, 2), 250, 50, TOL), Some(4));
        // With a target above 100 % they count at the target: 4 ready at
        // 120 % of 150 % and 1 missing at 150 % make 126 %, ceil(0.84 · 5)
        // = 5 (at 100 % it would be 116 %, ceil(0.773 · 5) = 4).
        assert_eq!(replica_count(5, pods(4, 0, 1), 1200, 150, TOL), Some(5));
        // Scale-up: 2 ready at 100 % of 50 %, 1 missing at 0 %:
        // 2000·100/3000 = 66 %, 66/50 = 1.32, ceil(1.32 · 3) = 4.
        assert_eq!(replica_count(3, pods(2, 0, 1), 1000, 50, TOL), Some(4));
    }

    #[test]
    fn no_metric_means_no_proposal() {
        assert_eq!(replica_count(3, pods(0, 3, 0), 1000, 50, TOL), None);
    }

    #[test]
    fn a_load_drop_reduces_replicas_only_after_the_300_s_window() {
        let mut p = hpa(0.7, 15, 10);
        // 4 VMs at 70 % (on target) at t = 0 and 15.
        assert_eq!(p.decide(&obs(1, 0.0, 0.7, 4, 0)), Action::Target(4));
        assert_eq!(p.decide(&obs(2, 15.0, 0.7, 4, 0)), Action::Target(4));
        // Load drops to 10 %: the raw proposal is 1 from t = 30 on.
        let mut k = 3;
        let mut t = 30.0;
        while t <= 300.0 {
            assert_eq!(
                p.decide(&obs(k, t, 0.1, 4, 0)),
                Action::Target(4),
                "t = {t}"
            );
            k += 1;
            t += 15.0;
        }
        // At t = 315 the recommendation of t = 15 is exactly 300 s old and
        // no longer counts.
        assert_eq!(p.decide(&obs(k, 315.0, 0.1, 4, 0)), Action::Target(1));
    }

    #[test]
    fn scale_up_from_one_pod_is_at_most_five_in_one_period() {
        let mut p = hpa(0.1, 15, 100);
        // 1 VM at 100 % of a 10 % target wants 10.
        assert_eq!(p.decide(&obs(1, 0.0, 1.0, 1, 0)), Action::Target(5));
        // 15 s later the +4 event is exactly one period old: from 5 the
        // limit is max(5 + 4, 2 · 5) = 10.
        assert_eq!(p.decide(&obs(2, 15.0, 1.0, 1, 4)), Action::Target(10));
    }

    #[test]
    fn scale_up_from_ten_pods_is_at_most_twenty_in_one_period() {
        let mut p = hpa(0.1, 15, 100);
        assert_eq!(p.decide(&obs(1, 0.0, 1.0, 10, 0)), Action::Target(20));
    }

    #[test]
    fn the_maximum_bounds_the_scale_up() {
        let mut p = hpa(0.1, 15, 7);
        assert_eq!(p.decide(&obs(1, 0.0, 1.0, 2, 0)), Action::Target(6));
        assert_eq!(p.decide(&obs(2, 15.0, 1.0, 2, 4)), Action::Target(7));
    }

    #[test]
    fn a_sixty_second_step_runs_four_syncs_that_see_their_own_new_pods() {
        let mut p = hpa(0.1, 60, 100);
        // Sync at 0: 1 -> 5 (rate limit). Sync at 15: 1 ready at 100 %,
        // 4 not ready counted at 0 %: 20 % of 10 %, ceil(2 · 5) = 10.
        // Syncs at 30 and 45: 1000·100/10000 = 10 %, on target.
        assert_eq!(p.decide(&obs(1, 0.0, 1.0, 1, 0)), Action::Target(10));
        // The next decision's first sync is at 60.
        assert_eq!(p.next_sync, 4);
    }

    #[test]
    fn a_short_step_syncs_only_every_fifteen_seconds() {
        let mut p = hpa(0.1, 5, 100);
        assert_eq!(p.decide(&obs(1, 0.0, 1.0, 1, 0)), Action::Target(5));
        // No sync at 5 and 10: the 5 pods are kept, whatever the metric.
        assert_eq!(p.decide(&obs(2, 5.0, 0.0, 1, 4)), Action::Target(5));
        assert_eq!(p.decide(&obs(3, 10.0, 0.0, 1, 4)), Action::Target(5));
        assert_eq!(p.decide(&obs(4, 15.0, 1.0, 1, 4)), Action::Target(10));
    }

    #[test]
    fn a_very_long_step_skips_repeated_syncs_but_keeps_the_windows() {
        let mut long = hpa(0.7, 60, 10);
        long.step_s = 1.0e7;
        let mut short = hpa(0.7, 60, 10);
        short.step_s = 3600.0;
        // Both settle at 1 VM within the step; the long one has to end with
        // the same recent recommendations.
        for p in [&mut long, &mut short] {
            assert_eq!(p.decide(&obs(1, 0.0, 0.1, 4, 0)), Action::Target(1));
        }
        assert!(long.next_sync >= (1.0e7 / 15.0) as u64);
        let t = long.anchor_s.unwrap() + 1.0e7;
        // Load back up: both scale up from 1 by the same rule.
        let a = long.decide(&obs(2, t, 1.0, 1, 0));
        let b = short.decide(&obs(2, 3600.0, 1.0, 1, 0));
        assert_eq!(a, b);
    }

    #[test]
    fn step_zero_has_no_metric_and_changes_nothing() {
        let mut p = hpa(0.7, 60, 10);
        assert_eq!(p.decide(&obs(0, 0.0, 0.0, 3, 0)), Action::Target(3));
        assert!(p.recommendations.is_empty());
    }

    #[test]
    fn scale_down_events_raise_the_next_scale_up_limit() {
        // Both event lists enter the period start: after removing 2 in the
        // last 15 s, a pods-4 scale-up from 2 may reach 2 + 2 + 4 = 8.
        let mut p = hpa(0.1, 15, 100);
        p.up.policies = vec![HpaScalingPolicy {
            kind: HpaPolicyType::Pods,
            value: 4,
            period_s: 15,
        }];
        store_event(&mut p.down_events, 2, 10.0, 15.0);
        assert_eq!(p.limit_rate(15.0, 2, 50), 8);
        // At t = 25 the event is exactly 15 s old: 2 + 4.
        assert_eq!(p.limit_rate(25.0, 2, 50), 6);
    }

    #[test]
    fn select_min_and_disabled_choose_the_smallest_change_or_none() {
        let mut p = hpa(0.1, 15, 100);
        p.up.select = HpaSelectPolicy::Min;
        // From 10: pods 4 -> 14, percent 100 -> 20; min picks 14.
        assert_eq!(p.limit_rate(0.0, 10, 50), 14);
        p.up.select = HpaSelectPolicy::Disabled;
        assert_eq!(p.limit_rate(0.0, 10, 50), 10);
        p.down.select = HpaSelectPolicy::Disabled;
        assert_eq!(p.limit_rate(0.0, 10, 1), 10);
    }

    #[test]
    fn behaviour_keys_are_written_as_in_the_kubernetes_api_and_validated() {
        let sets: Vec<String> = [
            "policy.kind=hpa",
            "policy.hpa_scale_up_policies=[{type = \"pods\", value = 2, period_s = 60}]",
            "policy.hpa_scale_down_select=disabled",
            "policy.hpa_scale_up_tolerance=0.05",
        ]
        .map(String::from)
        .to_vec();
        let c = Config::load(None, &sets).unwrap();
        let p = HpaPolicy::new(&c);
        assert_eq!(p.up.policies[0].kind, HpaPolicyType::Pods);
        assert_eq!(p.up.policies[0].period_s, 60);
        assert_eq!(p.down.select, HpaSelectPolicy::Disabled);
        assert_eq!(p.tolerances.up, 0.05);
        assert_eq!(p.target_pct, 70);
        let back: Config = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(back, c);
        for bad in [
            "policy.hpa_scale_down_policies=[]",
            "policy.hpa_scale_up_policies=[{type = \"percent\", value = 0, period_s = 15}]",
            "policy.hpa_scale_up_policies=[{type = \"pods\", value = 1, period_s = 1801}]",
            "policy.hpa_scale_down_stabilization_s=3601",
            "policy.hpa_sync_period_s=0",
            "policy.hpa_scale_down_tolerance=-0.1",
        ] {
            let err = Config::load(None, &[bad.to_string()])
                .unwrap_err()
                .to_string();
            let key = bad.split('=').next().unwrap();
            assert!(err.contains(key), "{bad}: {err}");
        }
    }

    #[test]
    fn the_hpa_scales_out_under_a_load_rise_and_in_after_it_in_the_environment() {
        assert_scales_out_and_back_in(PolicyKind::Hpa, "hpa", 20);
    }
}
