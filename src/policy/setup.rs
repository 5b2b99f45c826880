//! What a policy is built from: [`PolicySetup`], its `[policy]` section
//! (see [`super::registry`] for how that section is composed from every
//! policy's parameters) and the cloud's sections.

use super::PolicyConfig;
use crate::cloud::{CloudConfig, CloudSetup, RewardConfig, WorkloadConfig};

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
