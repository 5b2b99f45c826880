//! `static`: a fixed VM count, the provisioning most services start with.
//!
//! The count is `policy.vms` (`sizing = "count"`), or the smallest count
//! that serves the trace's mean or peak rate at `policy.target_utilization`:
//! `⌈rate / (μ · target)⌉`, clamped to the bounds. Sizing from the trace
//! uses knowledge of the whole run, as an operator would from history.

use crate::policy::{vms_for_rate, Policy, PolicyContext};
use crate::cloud::{Action, Observation};
use serde::{Deserialize, Serialize};

use crate::config_error::{out_of_range, ConfigError};
use crate::policy::registry::{target_utilization_axis, words, GridAxis, PolicyParams, Registered};

/// Always asks for the same number of VMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticPolicy {
    vms: u32,
}

impl StaticPolicy {
    /// A policy holding `vms` VMs.
    pub fn new(vms: u32) -> StaticPolicy {
        StaticPolicy { vms }
    }

    /// Sizes the count as `policy.sizing` says.
    pub(crate) fn from_context(ctx: PolicyContext<'_>) -> StaticPolicy {
        let p = &ctx.setup.policy.static_count;
        let vms = match p.sizing {
            StaticSizing::Count => p.vms,
            StaticSizing::Mean => vms_for_rate(
                ctx.setup.cloud,
                ctx.workload.mean_rps(),
                p.target_utilization,
            ),
            StaticSizing::Peak => vms_for_rate(
                ctx.setup.cloud,
                ctx.workload.peak_rps(),
                p.target_utilization,
            ),
        };
        StaticPolicy::new(vms)
    }

    #[cfg(test)]
    /// The count it holds.
    pub(crate) fn vms(&self) -> u32 {
        self.vms
    }
}

impl Policy for StaticPolicy {
    fn name(&self) -> &str {
        "static"
    }
    fn decide(&mut self, _obs: &Observation) -> Action {
        Action::Target(self.vms)
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

/// The `static` policy's keys of `[policy]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticParams {
    /// Utilization the rule aims for, in (0, 1]. Used by `static` sizing,
    /// `predictive`, `target` and `hpa` (in whole percent: 0.7 → 70 %).
    /// Default 0.7.
    pub target_utilization: f64,
    /// `static`: `"count"`, `"mean"` or `"peak"`. Default `"peak"`.
    pub sizing: StaticSizing,
    /// `static` with `sizing = "count"`: the VM count. Default 2.
    pub vms: u32,
}

impl Default for StaticParams {
    fn default() -> Self {
        Self {
            target_utilization: 0.7,
            sizing: StaticSizing::Peak,
            vms: 2,
        }
    }
}

impl PolicyParams for StaticParams {
    fn validate(&self) -> Result<(), ConfigError> {
        let t = self.target_utilization;
        if !(t > 0.0 && t <= 1.0) {
            return Err(out_of_range("policy.target_utilization", t, "in (0, 1]"));
        }
        Ok(())
    }
}

impl Registered for StaticPolicy {
    const NAME: &'static str = "static";
    const COLOUR: (u8, u8, u8) = (120, 120, 120);
    type Params = StaticParams;
    fn tuning_grid() -> Vec<GridAxis> {
        vec![
            target_utilization_axis(),
            GridAxis::one("policy.sizing", words(&["mean", "peak"])),
        ]
    }
    fn build(ctx: PolicyContext<'_>) -> Option<Box<dyn Policy + Send>> {
        Some(Box::new(StaticPolicy::from_context(ctx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Workload;
    use crate::config::Config;

    #[test]
    fn peak_sizing_covers_the_peak_at_the_target_utilization() {
        let mut config = Config::default();
        config.cloud.vm_capacity_rps = 10.0;
        config.policy.static_count.target_utilization = 0.5;
        let workload = Workload {
            name: "w".into(),
            start_s: 0.0,
            step_s: 60.0,
            arrivals: vec![60.0 * 12.0, 60.0 * 42.0],
        };
        let p = StaticPolicy::from_context(PolicyContext {
            setup: (&config).into(),
            workload: &workload,
            seed: 1,
        });
        assert_eq!(p.vms(), 9); // 42 / (10 * 0.5) = 8.4
        config.policy.static_count.sizing = StaticSizing::Mean;
        let p = StaticPolicy::from_context(PolicyContext {
            setup: (&config).into(),
            workload: &workload,
            seed: 1,
        });
        assert_eq!(p.vms(), 6); // 27 / 5 = 5.4
    }
}
