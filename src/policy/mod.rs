//! Policies: everything that decides how many VMs run.
//!
//! A [`Policy`] sees an [`Observation`] at the start of each step and
//! returns an [`Action`]; the environment clamps it to the bounds. The
//! baselines are the rules operators use (see each module for its source);
//! every policy goes through the same loop, `drive`.

pub(crate) mod registry;
mod setup;
#[cfg(test)]
mod test_support;

#[cfg(test)]
pub(crate) use registry::aws_step::{default_scale_in_steps, scaled_steps};
use registry::{static_count, threshold};

pub use registry::PolicyKind;
pub(crate) use registry::{build, PolicyConfig, TUNABLE};
pub(crate) use setup::PolicySetup;
pub(crate) use static_count::StaticPolicy;
pub use static_count::StaticSizing;
pub(crate) use threshold::upper_thresholds;

use crate::cloud::CloudConfig;
use crate::cloud::{Action, Environment, Observation, Step, Workload};

/// A decision rule.
pub trait Policy {
    /// Stable name; becomes the `policy` column of the CSVs.
    fn name(&self) -> &str;
    /// The action for the step that `obs` opens.
    fn decide(&mut self, obs: &Observation) -> Action;
}

impl<P: Policy + ?Sized> Policy for Box<P> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn decide(&mut self, obs: &Observation) -> Action {
        (**self).decide(obs)
    }
}

/// A policy that also learns from the steps it causes.
pub trait Learner: Policy {
    /// Learns from one transition: `prev` was observed, `action` taken,
    /// `step` resulted.
    fn learn(&mut self, prev: &Observation, action: Action, step: &Step);
    /// Exploration and learning on (training) or off (greedy evaluation).
    fn set_exploring(&mut self, on: bool);
}

/// The one episode loop every policy runs: from `env.reset(seed)`, decide,
/// step, hand the transition (`policy`, the observation it decided on,
/// its action, the step) to `after`, until the episode ends.
/// A run records its steps with it; the agent's training learns from each
/// transition with it.
pub(crate) fn drive<E, P, F>(env: &mut E, policy: &mut P, seed: u64, mut after: F)
where
    E: Environment + ?Sized,
    P: Policy + ?Sized,
    F: FnMut(&mut P, &Observation, Action, &Step),
{
    let mut obs = env.reset(seed);
    loop {
        let action = policy.decide(&obs);
        let step = env.step(action);
        after(policy, &obs, action, &step);
        obs = step.obs;
        if step.terminated || step.truncated {
            return;
        }
    }
}

/// What a policy may know before the run starts: its section and the
/// cloud's (`PolicySetup`) and, for rules sized from the trace (`static`
/// by mean or peak) or the clairvoyant oracle, the workload itself.
#[derive(Debug, Clone, Copy)]
pub struct PolicyContext<'a> {
    /// `[policy]` and the cloud's sections.
    pub setup: PolicySetup<'a>,
    /// The workload of the run.
    pub workload: &'a Workload,
    /// The run's master seed (a clairvoyant policy can replay the noise
    /// with [`crate::cloud::episode_arrivals`]).
    pub seed: u64,
}

/// The VM count that serves `rate_rps` at `target_utilization`, clamped
/// to the bounds of `c`.
pub(crate) fn vms_for_rate(c: &CloudConfig, rate_rps: f64, target_utilization: f64) -> u32 {
    let needed = (rate_rps / (c.vm_capacity_rps * target_utilization)).ceil();
    let needed = if needed.is_finite() {
        needed.max(0.0)
    } else {
        0.0
    };
    (needed.min(f64::from(c.max_vms)) as u32).clamp(c.min_vms, c.max_vms)
}
