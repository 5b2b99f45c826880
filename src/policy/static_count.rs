//! `static`: a fixed VM count, the provisioning most services start with.
//!
//! The count is `policy.vms` (`sizing = "count"`), or the smallest count
//! that serves the trace's mean or peak rate at `policy.target_utilization`:
//! `⌈rate / (μ · target)⌉`, clamped to the bounds. Sizing from the trace
//! uses knowledge of the whole run, as an operator would from history.

use super::StaticSizing;
use super::{vms_for_rate, Policy, PolicyContext};
use crate::cloud::{Action, Observation};

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
    pub fn from_context(ctx: PolicyContext<'_>) -> StaticPolicy {
        let p = &ctx.setup.policy;
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

    /// The count it holds.
    pub fn vms(&self) -> u32 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Workload;
    use crate::config::Config;

    #[test]
    fn peak_sizing_covers_the_peak_at_the_target_utilization() {
        let mut config = Config::default();
        config.cloud.vm_capacity_rps = 10.0;
        config.policy.target_utilization = 0.5;
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
        config.policy.sizing = StaticSizing::Mean;
        let p = StaticPolicy::from_context(PolicyContext {
            setup: (&config).into(),
            workload: &workload,
            seed: 1,
        });
        assert_eq!(p.vms(), 6); // 27 / 5 = 5.4
    }
}
