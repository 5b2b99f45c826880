//! `[agent]`: the Q-learning agent's keys, defaults and checks.

use serde::{Deserialize, Serialize};

use crate::config::{out_of_range, ConfigError};

/// Which temporal-difference rule updates the Q-table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Watkins' Q-learning: target `r + γ · max_a' Q(s', a')`.
    #[default]
    QLearning,
    /// Double Q-learning (van Hasselt 2010): two tables, one picks the
    /// greedy next action and the other values it, which removes the
    /// upward bias of the max under noisy rewards.
    DoubleQ,
    /// SARSA: on-policy target `r + γ · Q(s', a')` with the action
    /// actually taken next.
    Sarsa,
}

impl Algorithm {
    /// The name used in configs and Q-table files.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::QLearning => "q-learning",
            Algorithm::DoubleQ => "double-q",
            Algorithm::Sarsa => "sarsa",
        }
    }

    /// Parses [`Algorithm::name`].
    pub fn from_name(s: &str) -> Option<Algorithm> {
        [Algorithm::QLearning, Algorithm::DoubleQ, Algorithm::Sarsa]
            .into_iter()
            .find(|a| a.name() == s)
    }
}

/// How the learning rate evolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AlphaSchedule {
    /// α = `agent.alpha` throughout.
    #[default]
    Constant,
    /// α = max(`agent.alpha`, 1 / visits(s, a)): sample averages first,
    /// then a constant floor that keeps tracking.
    Visits,
}

/// How the Q-table starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum QInit {
    /// Every entry `agent.initial_q`.
    Constant,
    /// Q(s, a) = −(one-step cost of the VM count a leads to, at the load
    /// typical of s) / (1 − γ), from the cloud model: a prior that makes
    /// states never seen in training behave sensibly.
    #[default]
    Model,
}

/// `[agent]`: the tabular Q-learning agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// `"q-learning"`, `"double-q"` or `"sarsa"`. Default `"q-learning"`.
    pub algorithm: Algorithm,
    /// Learning rate α, in (0, 1]. Default 0.1.
    pub alpha: f64,
    /// `"constant"` or `"visits"` (1/visits, floored at `alpha`).
    /// Default `"constant"`.
    pub alpha_schedule: AlphaSchedule,
    /// Discount γ per step, in [0, 1). Default 0.95.
    pub gamma: f64,
    /// Exploration rate ε of the first episode, in [0, 1]. Default 1.
    pub epsilon: f64,
    /// Floor of ε, in [0, epsilon]. Default 0.02.
    pub epsilon_min: f64,
    /// ε is multiplied by this after each episode, in (0, 1]. Default 0.95.
    pub epsilon_decay: f64,
    /// Training episodes, ≥ 1. Default 100.
    pub episodes: u32,
    /// Stop an episode after this many steps (0 = at the trace's end).
    /// Default 0.
    pub max_episode_steps: u64,
    /// The actions: changes in VM count. Default `[-2, -1, 0, 1, 2]`.
    pub actions: Vec<i32>,
    /// Bucket edges of the offered utilization λ / (c·μ) of the last step
    /// (c = VMs that served it; may exceed 1 in overload), increasing.
    /// Default `[0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2]`.
    pub util_edges: Vec<f64>,
    /// Bucket edges of the VM count (running + booting), increasing; empty
    /// means one bucket per count in `[cloud.min_vms, cloud.max_vms]`.
    /// Default empty.
    pub vm_edges: Vec<u32>,
    /// Bucket edges of the load trend `(λ_t − λ_{t−1}) / max(λ_{t−1}, 1/step)`,
    /// increasing. Default `[-0.05, 0.05]` (falling, flat, rising).
    pub trend_edges: Vec<f64>,
    /// Bucket edges of the booting VM count, increasing. Default `[1, 2]`
    /// (none, one, two or more).
    pub booting_edges: Vec<u32>,
    /// Hour-of-day buckets (trace time, 0 h = the trace's midnight); 0
    /// turns the feature off, else 1..=24. Default 0.
    pub hour_buckets: u32,
    /// `"model"` (a prior from the cloud model) or `"constant"`
    /// (`initial_q` everywhere). Default `"model"`.
    pub init: QInit,
    /// Initial value of every Q entry with `init = "constant"`, USD (0 is
    /// optimistic: rewards are costs, ≤ 0). Default 0.
    pub initial_q: f64,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::QLearning,
            alpha: 0.1,
            alpha_schedule: AlphaSchedule::Constant,
            gamma: 0.95,
            epsilon: 1.0,
            epsilon_min: 0.02,
            epsilon_decay: 0.95,
            episodes: 100,
            max_episode_steps: 0,
            actions: vec![-2, -1, 0, 1, 2],
            util_edges: vec![0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2],
            vm_edges: Vec::new(),
            trend_edges: vec![-0.05, 0.05],
            booting_edges: vec![1, 2],
            hour_buckets: 0,
            init: QInit::Model,
            initial_q: 0.0,
        }
    }
}

impl AgentConfig {
    /// ε of episode `e` (from 0): `max(epsilon_min, epsilon · decay^e)`.
    pub fn epsilon_at(&self, episode: u32) -> f64 {
        let decayed = self.epsilon * self.epsilon_decay.powf(f64::from(episode));
        decayed.max(self.epsilon_min)
    }

    /// Checks every key.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(out_of_range("agent.alpha", self.alpha, "in (0, 1]"));
        }
        if !(0.0..1.0).contains(&self.gamma) {
            return Err(out_of_range("agent.gamma", self.gamma, "in [0, 1)"));
        }
        if !(0.0..=1.0).contains(&self.epsilon) {
            return Err(out_of_range("agent.epsilon", self.epsilon, "in [0, 1]"));
        }
        if !(0.0..=self.epsilon.max(0.0)).contains(&self.epsilon_min) {
            return Err(out_of_range(
                "agent.epsilon_min",
                self.epsilon_min,
                "in [0, agent.epsilon]",
            ));
        }
        if !(self.epsilon_decay > 0.0 && self.epsilon_decay <= 1.0) {
            return Err(out_of_range(
                "agent.epsilon_decay",
                self.epsilon_decay,
                "in (0, 1]",
            ));
        }
        if self.episodes == 0 {
            return Err(out_of_range("agent.episodes", 0.0, ">= 1"));
        }
        if !self.initial_q.is_finite() {
            return Err(out_of_range("agent.initial_q", self.initial_q, "finite"));
        }
        if self.actions.is_empty() {
            return Err(ConfigError::Inconsistent(
                "agent.actions is empty: give at least one change in VM count".into(),
            ));
        }
        let mut sorted = self.actions.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != self.actions.len() {
            return Err(ConfigError::Inconsistent(format!(
                "agent.actions = {:?} lists an action twice",
                self.actions
            )));
        }
        increasing_f64("agent.util_edges", &self.util_edges)?;
        increasing_f64("agent.trend_edges", &self.trend_edges)?;
        increasing_u32("agent.vm_edges", &self.vm_edges)?;
        increasing_u32("agent.booting_edges", &self.booting_edges)?;
        if self.hour_buckets > 24 {
            return Err(out_of_range(
                "agent.hour_buckets",
                f64::from(self.hour_buckets),
                "in 0..=24",
            ));
        }
        Ok(())
    }
}

fn increasing_f64(field: &'static str, edges: &[f64]) -> Result<(), ConfigError> {
    if edges.iter().any(|e| !e.is_finite()) || edges.windows(2).any(|w| w[0] >= w[1]) {
        return Err(ConfigError::Inconsistent(format!(
            "{field} = {edges:?} must be finite and strictly increasing"
        )));
    }
    Ok(())
}

fn increasing_u32(field: &'static str, edges: &[u32]) -> Result<(), ConfigError> {
    if edges.windows(2).any(|w| w[0] >= w[1]) {
        return Err(ConfigError::Inconsistent(format!(
            "{field} = {edges:?} must be strictly increasing"
        )));
    }
    Ok(())
}
