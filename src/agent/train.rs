//! Training: episodes over the training traces, with a learning curve.
//!
//! Episode `e` replays training trace `e mod n` with its own seed
//! (`derive_seed(seed, e)`), so Poisson noise makes episodes differ even
//! on one trace; ε follows [`super::AgentConfig::epsilon_at`]. Latencies
//! and utilization are not computed during training (they are part of
//! neither the reward nor the agent's state; see
//! [`CloudEnv::with_detail`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::QAgent;
use crate::cloud::{CloudEnv, Workload};
use crate::config::Config;
use crate::experiment::run_learning;
use crate::policy::Learner;
use crate::rng::derive_seed;

/// One row of `learning_curve.csv`: one training episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveRow {
    /// Episode, from 0.
    pub episode: u32,
    /// The training trace replayed.
    pub trace: String,
    /// ε during the episode.
    pub epsilon: f64,
    /// Total reward, USD (= −score).
    pub reward: f64,
    /// VM charges, USD.
    pub cost_usd: f64,
    /// Penalties, USD.
    pub penalty_usd: f64,
    /// SLO violations (requests).
    pub violations: f64,
    /// violations / requests.
    pub violation_rate: f64,
    /// Mean VMs alive per step.
    pub mean_vms: f64,
}

/// A trained agent and how it got there.
#[derive(Debug, Clone)]
pub struct TrainOutput {
    /// The agent, still in learning mode.
    pub agent: QAgent,
    /// One row per episode.
    pub curve: Vec<CurveRow>,
}

/// Trains a fresh agent for `config.agent.episodes` episodes over
/// `workloads` (at least one), calling `progress(done, total)` after each.
pub fn train(
    config: &Config,
    workloads: &[Arc<Workload>],
    seed: u64,
    mut progress: impl FnMut(u32, u32),
) -> TrainOutput {
    let a = &config.agent;
    let mut agent = QAgent::new(config, seed);
    let max_steps = (a.max_episode_steps > 0).then_some(a.max_episode_steps);
    let mut envs: Vec<CloudEnv> = workloads
        .iter()
        .map(|w| {
            CloudEnv::new(Arc::clone(w), config)
                .with_detail(false)
                .with_max_steps(max_steps)
        })
        .collect();
    let mut curve = Vec::with_capacity(a.episodes as usize);
    if envs.is_empty() {
        return TrainOutput { agent, curve };
    }
    for e in 0..a.episodes {
        let i = e as usize % envs.len();
        let epsilon = a.epsilon_at(e);
        agent.set_epsilon(epsilon);
        agent.set_exploring(true);
        let env = &mut envs[i];
        let step_s = env.workload().step_s;
        let totals = run_learning(env, &mut agent, derive_seed(seed, u64::from(e)), step_s);
        let s = totals.summary("qlearning", &workloads[i].name, seed);
        curve.push(CurveRow {
            episode: e,
            trace: s.trace,
            epsilon,
            reward: totals.reward,
            cost_usd: s.cost_usd,
            penalty_usd: s.penalty_usd,
            violations: s.violations,
            violation_rate: s.violation_rate,
            mean_vms: s.mean_vms,
        });
        progress(e + 1, a.episodes);
    }
    TrainOutput { agent, curve }
}
