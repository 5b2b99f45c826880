//! The cloud model: a pool of VMs serving a replayed workload.
//!
//! Time advances in steps of `workload.step_s` seconds. In each step the
//! environment applies the policy's decision (launch or terminate VMs,
//! clamped to `[cloud.min_vms, cloud.max_vms]`), lets the running VMs serve
//! the step's arrivals, and bills every VM that exists. The pieces:
//!
//! - [`queueing`]: the M/M/c formulas (Erlang C, mean and tail response time);
//! - `serve`: one step of service, stable M/M/c or a fluid backlog;
//! - `fleet`: VMs by launch time, boot delay, scale-in order, billing;
//! - `env`: the [`Environment`] that ties them to a workload and a reward;
//! - `bound`: a lower bound on any policy's score, for regret.
//!
//! The reward of a step is `−(cost + penalty)` in US dollars.

pub(crate) mod bound;
pub mod config;
pub mod des;
pub(crate) mod env;
pub(crate) mod fleet;
pub mod queueing;
pub(crate) mod serve;

pub use config::{Billing, Noise};
pub(crate) use config::{CloudConfig, CloudSetup, RewardConfig, WorkloadConfig};
pub(crate) use env::Checkpoint;
pub use env::{episode_arrivals, CloudEnv, Workload};

use serde::{Deserialize, Serialize};

/// What a policy asks for at the start of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// This many VMs in total (running + booting).
    Target(u32),
    /// Change the total by this many VMs.
    Change(i32),
}

/// What a policy may see when it decides: the state at the start of step
/// `step`, and what happened in the step before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Index of the step about to be simulated (0 before the first).
    pub step: u64,
    /// Trace time at the start of that step, seconds.
    pub time_s: f64,
    /// Requests that arrived in the last step.
    pub arrivals: f64,
    /// Their rate, requests per second.
    pub arrival_rps: f64,
    /// Busy fraction of the VMs that served the last step, in [0, 1]
    /// (1 when requests waited and no VM was running).
    pub utilization: f64,
    /// VMs that were running (serving) during the last step.
    pub vms_serving: u32,
    /// VMs running now.
    pub vms_running: u32,
    /// VMs booting now (billed, not serving).
    pub vms_booting: u32,
    /// Mean response time in the last step, seconds (`None` if no VM ran).
    pub latency_mean_s: Option<f64>,
    /// Requests waiting in the overload backlog now.
    pub backlog: f64,
    /// Requests of the last step that missed the SLO.
    pub slo_violations: f64,
    /// Requests dropped in the last step.
    pub dropped: f64,
}

impl Observation {
    /// VMs that exist now: running + booting.
    pub fn vms_total(&self) -> u32 {
        self.vms_running + self.vms_booting
    }
}

/// The metrics of one simulated step: one row of `steps.csv`, with the
/// columns in this order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StepInfo {
    /// Step index, from 0.
    pub step: u64,
    /// Trace time at the start of the step, seconds.
    pub time_s: f64,
    /// Requests that arrived during the step.
    #[serde(serialize_with = "crate::csv_number::count")]
    pub arrivals: f64,
    /// Requests completed during the step.
    #[serde(serialize_with = "crate::csv_number::count")]
    pub served: f64,
    /// Requests dropped after waiting longer than `cloud.timeout_s`.
    #[serde(serialize_with = "crate::csv_number::count")]
    pub dropped: f64,
    /// Requests still waiting at the end of the step.
    #[serde(serialize_with = "crate::csv_number::count")]
    pub backlog: f64,
    /// VMs serving during the step.
    pub vms_running: u32,
    /// VMs booting during the step.
    pub vms_booting: u32,
    /// Service capacity of the running VMs, requests per second.
    pub capacity_rps: f64,
    /// Busy fraction of the running VMs, in [0, 1].
    pub utilization: f64,
    /// Mean response time, seconds (empty when no VM ran).
    pub latency_mean_s: Option<f64>,
    /// 95th percentile response time, seconds (empty when not computed).
    pub latency_p95_s: Option<f64>,
    /// Requests answered later than `cloud.slo_s`, or dropped.
    #[serde(serialize_with = "crate::csv_number::count")]
    pub slo_violations: f64,
    /// VM charges booked in the step, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub cost_usd: f64,
    /// SLO and drop penalties of the step, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub penalty_usd: f64,
    /// `−(cost_usd + penalty_usd)`.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub reward: f64,
    /// The VM count the policy asked for, after clamping to the bounds.
    pub target_vms: u32,
    /// The VMs the step's arrivals demand (the fewest whose p95 meets the
    /// SLO; see the `elasticity` module): filled in after a recorded run,
    /// empty when no fleet meets it (and while training).
    #[serde(default)]
    pub demand_vms: Option<u32>,
}

/// The result of [`Environment::step`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// What the policy sees next.
    pub obs: Observation,
    /// Reward of the step, USD (≤ 0).
    pub reward: f64,
    /// The trace ran out: there is no next step.
    pub terminated: bool,
    /// A step limit was hit before the trace ran out.
    pub truncated: bool,
    /// The step's metrics.
    pub info: StepInfo,
}

/// A simulated system a policy controls, one step at a time.
pub trait Environment {
    /// Starts a new episode. The same seed gives the same trajectory, bit
    /// for bit, for the same sequence of actions.
    fn reset(&mut self, seed: u64) -> Observation;
    /// Applies `action` at the start of the current step and simulates it.
    fn step(&mut self, action: Action) -> Step;
}
