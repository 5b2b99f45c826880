//! The registry entry of tabular Q-learning (`policy.kind = "qlearning"`).
//!
//! The agent itself lives in the `agent` module, above the policies: it is
//! learned, so a run's caller trains it (on `experiment.train_traces`)
//! and runs the greedy agent through the same loop as every policy. Its
//! parameters are the `[agent]` section, not keys of `[policy]`.

use crate::policy::registry::{NoParams, Registered};
use crate::policy::{Policy, PolicyContext};

/// The registry entry of the Q-learning agent.
#[derive(Debug, Clone, Copy)]
pub struct Qlearning;

impl Registered for Qlearning {
    const NAME: &'static str = "qlearning";
    const COLOUR: (u8, u8, u8) = (0, 114, 178);
    const LEARNED: bool = true;
    const NOT_TUNABLE: Option<&'static str> =
        Some("the agent learns its own policy: sweep its agent.* keys with `qscale sweep`");
    type Params = NoParams;
    fn build(_: PolicyContext<'_>) -> Option<Box<dyn Policy + Send>> {
        None
    }
}
