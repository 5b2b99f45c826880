//! `[agent]`: the Q-learning agent's keys, defaults and checks.

use serde::{Deserialize, Serialize};

use crate::cloud::CloudConfig;
use crate::config_error::{out_of_range, ConfigError};

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
    /// Dyna-Q (Sutton 1990): Q-learning on every real step, plus
    /// `agent.planning_steps` updates on transitions replayed from a
    /// learned model (the last reward and next state seen for each
    /// visited state-action pair), drawn uniformly from the pairs visited.
    /// Under running means (`"prior-counts"`) a replay re-evaluates the
    /// remembered sample's target rather than counting it again.
    DynaQ,
}

impl Algorithm {
    /// The name used in configs and Q-table files.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::QLearning => "q-learning",
            Algorithm::DoubleQ => "double-q",
            Algorithm::Sarsa => "sarsa",
            Algorithm::DynaQ => "dyna-q",
        }
    }
}

/// The agent's state and action design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Design {
    /// Scale-free: the state holds only ratios (offered load per VM of
    /// the whole fleet, load trend, booting share of the fleet, recent
    /// volatility), the actions are target utilisations (the next fleet
    /// is `ceil(λ / (μ · u))` for the chosen `u`) and "hold", and rewards
    /// are learned per VM of the episode's mean load. One table serves
    /// any load level and fleet size.
    ScaleFree,
    /// The first design: the state holds the absolute VM count (one
    /// bucket per count) and the actions add or remove VMs
    /// (`agent.actions`); rewards are learned in USD.
    Legacy,
    /// Demand: the actions size the fleet as a headroom over the VMs the
    /// M/M/c response-time objective demands at an observed rate (the
    /// last step's, the window's peak or the episode's peak), so the
    /// extra relative headroom a small fleet needs comes from the queueing
    /// model, not from learning; the state holds ratios and flags (fleet
    /// per VM of load, window peak over the last rate, trend, booting
    /// share, volatility, overload). Rewards per VM of the episode's mean
    /// load, as in the scale-free design. The default.
    #[default]
    Demand,
}

impl Design {
    /// The name used in configs and Q-table files.
    pub fn name(self) -> &'static str {
        match self {
            Design::ScaleFree => "scale-free",
            Design::Legacy => "legacy",
            Design::Demand => "demand",
        }
    }
}

/// How the learning rate evolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AlphaSchedule {
    /// α = `agent.alpha` throughout.
    Constant,
    /// α = max(`agent.alpha`, 1 / visits(s, a)): sample averages first,
    /// then a constant floor that keeps tracking.
    Visits,
    /// α = 1 / (`agent.prior_visits` + visits(s, a)): each Q-value is the
    /// running mean of its initial value, counted as `prior_visits`
    /// samples, and every target it has received. The default: the
    /// penalties that decide the agent's choices are rare and large (a
    /// burst served late costs hundreds of VM-steps), and a constant α
    /// remembers only the last few, so the greedy choice flips with the
    /// latest burst; the mean keeps them all, and the model prior holds
    /// until the data outweighs it.
    #[default]
    PriorCounts,
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
    /// `"demand"` (ratios and flags in the state, headrooms over the SLO
    /// demand as actions, rewards per VM of load), `"scale-free"` (ratios
    /// in the state, target utilisations as actions, rewards per VM of
    /// load) or `"legacy"` (VM count in the state, VM changes as actions,
    /// rewards in USD). Default `"demand"`. See [`Design`].
    pub design: Design,
    /// `"q-learning"`, `"double-q"`, `"sarsa"` or `"dyna-q"`. Default
    /// `"q-learning"`.
    pub algorithm: Algorithm,
    /// Dyna-Q: model-replayed updates per real step, in 1..=1000. Default 10.
    pub planning_steps: u32,
    /// Learning rate α, in (0, 1]. Default 0.1.
    pub alpha: f64,
    /// `"prior-counts"` (1 / (`prior_visits` + visits): running means
    /// that start from the initial table), `"constant"` (`alpha`) or
    /// `"visits"` (1/visits, floored at `alpha`). Default
    /// `"prior-counts"`. See [`AlphaSchedule`].
    pub alpha_schedule: AlphaSchedule,
    /// With `"prior-counts"`: how many samples the initial Q-value of each
    /// (state, action) counts as, in [0, 1e9]. Default 100.
    pub prior_visits: f64,
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
    /// Legacy design: the actions, changes in VM count. Default
    /// `[-2, -1, 0, 1, 2]`.
    pub actions: Vec<i32>,
    /// Scale-free design: the actions' target utilisations `u`, each in
    /// (0, 1.5], distinct: the next fleet (running + booting) is
    /// `ceil(λ / (μ · u))` for the last step's arrival rate λ. Default
    /// `[0.3, 0.45, 0.6, 0.7, 0.8, 0.9]`.
    pub targets: Vec<f64>,
    /// Scale-free design: the targets size the fleet for the highest
    /// arrival rate of the last `peak_window_steps` steps (1 = the last
    /// step only), so the fleet scales out at once and in only when the
    /// load has stayed low that long (a scale-in terminates booting VMs
    /// first, so following every dip of a spiky load would keep new VMs
    /// from ever serving). In 1..=1000. Default 60 (an hour of 60 s steps:
    /// an idle VM-hour costs less than a minute of load served late).
    pub peak_window_steps: u32,
    /// Scale-free design: at step 0, before any load has been seen, ask
    /// for `cloud.max_vms` (true) or keep the initial fleet (false). A few
    /// VM-minutes of a full fleet cost little next to serving an unknown
    /// load late, and the fleet shrinks to the load once the launched VMs
    /// have booted. Default true.
    pub start_at_max: bool,
    /// Scale-free design: with a value in (0, 1.5], one more action after
    /// the targets that sizes the fleet for the highest arrival rate seen
    /// so far in the episode at this utilisation (for loads too spiky to
    /// follow, where the best a causal policy can do is to stay sized for
    /// the worst seen); 0 leaves it out. Default 0.7.
    pub episode_peak_target: f64,
    /// Scale-free design: one more action, "hold" (keep the fleet as it
    /// is), after the targets. Default true.
    pub hold: bool,
    /// Scale-free design: bucket edges of the offered load per VM of the
    /// whole fleet, λ / (μ · (running + booting)), increasing. Default
    /// `[0.3, 0.45, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25]`.
    pub load_edges: Vec<f64>,
    /// Scale-free design: bucket edges of the booting share of the fleet,
    /// booting / (running + booting), increasing. Default `[0.001, 0.3]`
    /// (none, some, many).
    pub booting_share_edges: Vec<f64>,
    /// Scale-free design: bucket edges of the load's recent volatility,
    /// an exponentially weighted mean of `|λ_t − λ_{t−1}| / λ_{t−1}`,
    /// increasing. Default `[0.03, 0.08, 0.2]`.
    pub volatility_edges: Vec<f64>,
    /// Scale-free design: span of the volatility's moving average, steps
    /// (weight `2 / (span + 1)` on the newest change), in 1..=10000.
    /// Default 10.
    pub volatility_span: u32,
    /// Legacy design: bucket edges of the offered utilization λ / (c·μ) of the last step
    /// (c = VMs that served it; may exceed 1 in overload), increasing.
    /// Default `[0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2]`.
    pub util_edges: Vec<f64>,
    /// Legacy design: bucket edges of the VM count (running + booting), increasing; empty
    /// means one bucket per count in `[cloud.min_vms, cloud.max_vms]`.
    /// Default empty.
    pub vm_edges: Vec<u32>,
    /// Bucket edges of the load trend `(λ_t − λ_{t−1}) / max(λ_{t−1}, 1/step)`,
    /// increasing (both designs). Default `[-0.05, 0.05]` (falling, flat,
    /// rising).
    pub trend_edges: Vec<f64>,
    /// Legacy design: bucket edges of the booting VM count, increasing. Default `[1, 2]`
    /// (none, one, two or more).
    pub booting_edges: Vec<u32>,
    /// Hour-of-day buckets (trace time, 0 h = the trace's midnight); 0
    /// turns the feature off, else 1..=24. Default 0.
    pub hour_buckets: u32,
    /// `"model"` (a prior from the cloud model) or `"constant"`
    /// (`initial_q` everywhere). Default `"model"`.
    pub init: QInit,
    /// Initial value of every Q entry with `init = "constant"`, USD (per
    /// VM of load in the scale-free design; 0 is optimistic: rewards are
    /// costs, ≤ 0). Default 0.
    pub initial_q: f64,
    /// Randomise each training episode's workload (seeded by the run's
    /// seed and the episode): a random start offset and time stretch, a
    /// random peak, injected bursts and drops, and noise (see
    /// `super::randomise`). Off, an episode replays its training trace
    /// exactly as loaded. Default true.
    pub randomise: bool,
    /// Randomisation: the range of an episode's peak rate, as fractions
    /// of the fleet's capacity `cloud.max_vms · cloud.vm_capacity_rps`,
    /// drawn log-uniformly; `0 < lo ≤ hi ≤ 1`. Default `[0.1, 0.8]`.
    pub random_peak: [f64; 2],
    /// Randomisation: the range of the time-stretch factor (> 1 slows the
    /// trace down), drawn log-uniformly; `0 < lo ≤ hi ≤ 100`. Default
    /// `[0.5, 2]`.
    pub random_stretch: [f64; 2],
    /// Randomisation: bursts and drops injected per day of trace time
    /// (a Poisson count), each multiplying the load for 1 step to 4 hours
    /// (log-uniform) by a factor drawn log-uniformly in
    /// `[1 / random_burst_max, random_burst_max]`; in [0, 1000]. Default 4.
    pub random_bursts_per_day: f64,
    /// Randomisation: the largest burst factor, in [1, 100]. Default 5.
    pub random_burst_max: f64,
    /// Randomisation: coefficient of variation of an extra per-step
    /// multiplicative noise (normal, floored at 0), in [0, 10]. Default 0.1.
    pub random_noise_cv: f64,
    /// Demand design: headrooms `h` over the demand of the window's peak
    /// rate (the highest of the last `peak_window_steps` steps): the
    /// action sets the fleet (running + booting) to
    /// `ceil(demand · (1 + h))`; each in [0, 10], distinct. Default
    /// `[0.25, 0.5, 1]`. When the load rises, the window's peak is
    /// replaced by the last rate extrapolated over the boot delay, if
    /// higher (as in the scale-free design).
    pub headrooms: Vec<f64>,
    /// Demand design: headrooms over the demand of the last step's rate
    /// (follow the load closely); each in [0, 10], distinct, may be empty.
    /// Default `[]`.
    pub last_headrooms: Vec<f64>,
    /// Demand design: headrooms over the demand of the highest rate seen
    /// so far in the episode; each in [0, 10], distinct, may be empty.
    /// Default `[0, 0.5]`.
    pub episode_peak_headrooms: Vec<f64>,
    /// Demand design: the largest share of the fleet one step may remove,
    /// in (0, 1] (1 = no limit). Scale out at once, in gradually: a
    /// request served late costs as much as a VM for about a minute, so
    /// shrinking fast on a lull risks far more than it saves. Default 0.2.
    pub scale_in_max: f64,
    /// Demand design: bucket edges of the fleet (running + booting) per
    /// VM of the last step's load, `(running + booting)·μ / λ`,
    /// increasing. Default `[0.9, 1, 1.1, 1.25, 1.5, 2, 3]`.
    pub fleet_edges: Vec<f64>,
    /// Demand design: bucket edges of the window's peak rate over the
    /// last step's (≥ 1), increasing. Default `[1.1, 1.5, 3]`.
    pub peak_ratio_edges: Vec<f64>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            design: Design::Demand,
            algorithm: Algorithm::QLearning,
            planning_steps: 10,
            alpha: 0.1,
            alpha_schedule: AlphaSchedule::PriorCounts,
            prior_visits: 100.0,
            gamma: 0.95,
            epsilon: 1.0,
            epsilon_min: 0.02,
            epsilon_decay: 0.95,
            episodes: 100,
            max_episode_steps: 0,
            actions: vec![-2, -1, 0, 1, 2],
            targets: vec![0.3, 0.45, 0.6, 0.7, 0.8, 0.9],
            peak_window_steps: 60,
            start_at_max: true,
            episode_peak_target: 0.7,
            hold: true,
            load_edges: vec![0.3, 0.45, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25],
            booting_share_edges: vec![0.001, 0.3],
            volatility_edges: vec![0.03, 0.08, 0.2],
            volatility_span: 10,
            util_edges: vec![0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2],
            vm_edges: Vec::new(),
            trend_edges: vec![-0.05, 0.05],
            booting_edges: vec![1, 2],
            hour_buckets: 0,
            init: QInit::Model,
            initial_q: 0.0,
            randomise: true,
            random_peak: [0.1, 0.8],
            random_stretch: [0.5, 2.0],
            random_bursts_per_day: 4.0,
            random_burst_max: 5.0,
            random_noise_cv: 0.1,
            headrooms: vec![0.25, 0.5, 1.0],
            last_headrooms: Vec::new(),
            episode_peak_headrooms: vec![0.0, 0.5],
            scale_in_max: 0.2,
            fleet_edges: vec![0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0],
            peak_ratio_edges: vec![1.1, 1.5, 3.0],
        }
    }
}

impl AgentConfig {
    /// The scale-free design's actions: the targets, the episode-peak
    /// action (if on) and hold (if on).
    pub(crate) fn scale_free_actions(&self) -> usize {
        self.targets.len() + usize::from(self.episode_peak_target > 0.0) + usize::from(self.hold)
    }

    /// The demand design's actions: the last-rate headrooms, the window
    /// headrooms, the episode-peak headrooms and hold (if on).
    pub(crate) fn demand_actions(&self) -> usize {
        self.last_headrooms.len()
            + self.headrooms.len()
            + self.episode_peak_headrooms.len()
            + usize::from(self.hold)
    }

    /// ε of episode `e` (from 0): `max(epsilon_min, epsilon · decay^e)`.
    pub(crate) fn epsilon_at(&self, episode: u32) -> f64 {
        let decayed = self.epsilon * self.epsilon_decay.powf(f64::from(episode));
        decayed.max(self.epsilon_min)
    }

    /// Checks every key.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_learning()?;
        self.check_legacy_design()?;
        if !(1..=1000).contains(&self.planning_steps) {
            return Err(out_of_range(
                "agent.planning_steps",
                f64::from(self.planning_steps),
                "in 1..=1000",
            ));
        }
        self.check_scale_free_design()?;
        self.check_randomisation()?;
        self.check_demand_design()?;
        if self.hour_buckets > 24 {
            return Err(out_of_range(
                "agent.hour_buckets",
                f64::from(self.hour_buckets),
                "in 0..=24",
            ));
        }
        Ok(())
    }

    /// The learning keys: `alpha`, `prior_visits`, `gamma`, the `epsilon` schedule,
    /// `episodes`, `initial_q`.
    fn check_learning(&self) -> Result<(), ConfigError> {
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(out_of_range("agent.alpha", self.alpha, "in (0, 1]"));
        }
        if !(0.0..=1e9).contains(&self.prior_visits) {
            return Err(out_of_range(
                "agent.prior_visits",
                self.prior_visits,
                "in [0, 1e9]",
            ));
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
        Ok(())
    }

    /// The legacy design's keys: `actions` and the four bucket-edge lists.
    fn check_legacy_design(&self) -> Result<(), ConfigError> {
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
        Ok(())
    }

    /// The scale-free design's keys: `targets`, the episode peak, the peak
    /// window and the load, booting-share and volatility features.
    fn check_scale_free_design(&self) -> Result<(), ConfigError> {
        if self.targets.is_empty() {
            return Err(ConfigError::Inconsistent(
                "agent.targets is empty: give at least one target utilisation".into(),
            ));
        }
        if let Some(&u) = self.targets.iter().find(|&&u| !(u > 0.0 && u <= 1.5)) {
            return Err(out_of_range("agent.targets", u, "each in (0, 1.5]"));
        }
        let mut targets = self.targets.clone();
        targets.sort_by(f64::total_cmp);
        targets.dedup();
        if targets.len() != self.targets.len() {
            return Err(ConfigError::Inconsistent(format!(
                "agent.targets = {:?} lists a target twice",
                self.targets
            )));
        }
        if !(self.episode_peak_target == 0.0
            || (self.episode_peak_target > 0.0 && self.episode_peak_target <= 1.5))
        {
            return Err(out_of_range(
                "agent.episode_peak_target",
                self.episode_peak_target,
                "0 (off) or in (0, 1.5]",
            ));
        }
        if !(1..=1000).contains(&self.peak_window_steps) {
            return Err(out_of_range(
                "agent.peak_window_steps",
                f64::from(self.peak_window_steps),
                "in 1..=1000",
            ));
        }
        increasing_f64("agent.load_edges", &self.load_edges)?;
        increasing_f64("agent.booting_share_edges", &self.booting_share_edges)?;
        increasing_f64("agent.volatility_edges", &self.volatility_edges)?;
        if !(1..=10_000).contains(&self.volatility_span) {
            return Err(out_of_range(
                "agent.volatility_span",
                f64::from(self.volatility_span),
                "in 1..=10000",
            ));
        }
        Ok(())
    }

    /// The `random_*` keys of training-workload randomisation.
    fn check_randomisation(&self) -> Result<(), ConfigError> {
        range_pair("agent.random_peak", self.random_peak, 1.0)?;
        range_pair("agent.random_stretch", self.random_stretch, 100.0)?;
        if !(0.0..=1000.0).contains(&self.random_bursts_per_day) {
            return Err(out_of_range(
                "agent.random_bursts_per_day",
                self.random_bursts_per_day,
                "in [0, 1000]",
            ));
        }
        if !(1.0..=100.0).contains(&self.random_burst_max) {
            return Err(out_of_range(
                "agent.random_burst_max",
                self.random_burst_max,
                "in [1, 100]",
            ));
        }
        if !(0.0..=10.0).contains(&self.random_noise_cv) {
            return Err(out_of_range(
                "agent.random_noise_cv",
                self.random_noise_cv,
                "in [0, 10]",
            ));
        }
        Ok(())
    }

    /// The demand design's keys: the headroom lists, its action count,
    /// `scale_in_max` and its two bucket-edge lists.
    fn check_demand_design(&self) -> Result<(), ConfigError> {
        for (field, list) in [
            ("agent.headrooms", &self.headrooms),
            ("agent.last_headrooms", &self.last_headrooms),
            ("agent.episode_peak_headrooms", &self.episode_peak_headrooms),
        ] {
            if let Some(&h) = list.iter().find(|&&h| !(0.0..=10.0).contains(&h)) {
                return Err(out_of_range(field, h, "each in [0, 10]"));
            }
            let mut sorted = list.clone();
            sorted.sort_by(f64::total_cmp);
            sorted.dedup();
            if sorted.len() != list.len() {
                return Err(ConfigError::Inconsistent(format!(
                    "{field} = {list:?} lists a headroom twice"
                )));
            }
        }
        if self.design == Design::Demand && self.demand_actions() == 0 {
            return Err(ConfigError::Inconsistent(
                "agent.design = \"demand\" has no action: give agent.headrooms or turn agent.hold on"
                    .into(),
            ));
        }
        if !(self.scale_in_max > 0.0 && self.scale_in_max <= 1.0) {
            return Err(out_of_range(
                "agent.scale_in_max",
                self.scale_in_max,
                "in (0, 1]",
            ));
        }
        increasing_f64("agent.fleet_edges", &self.fleet_edges)?;
        increasing_f64("agent.peak_ratio_edges", &self.peak_ratio_edges)?;
        Ok(())
    }
}

/// A `[lo, hi]` range with `0 < lo ≤ hi ≤ max`.
fn range_pair(field: &'static str, [lo, hi]: [f64; 2], max: f64) -> Result<(), ConfigError> {
    if !(lo > 0.0 && lo <= max) {
        return Err(out_of_range(
            field,
            lo,
            "a range [lo, hi] with 0 < lo <= hi",
        ));
    }
    if !(hi >= lo && hi <= max) {
        return Err(ConfigError::Inconsistent(format!(
            "{field} = [{lo}, {hi}] must have lo <= hi <= {max}"
        )));
    }
    Ok(())
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
/// The most entries (states × actions) a Q-table may have: 2^25, 256 MiB
/// of `f64` per table.
pub const MAX_Q_ENTRIES: f64 = 33_554_432.0;

impl AgentConfig {
    /// Checks that the agent's Q-table fits in memory, for the bounds of
    /// the cloud `c`: states (one per
    /// bucket of every feature, one per VM count without `agent.vm_edges`)
    /// × actions at most [`MAX_Q_ENTRIES`]. Counted in floating point, so
    /// no bound can overflow it.
    ///
    /// # Errors
    /// [`ConfigError::Inconsistent`] naming the keys to change.
    pub fn check_q_table_size(&self, c: &CloudConfig) -> Result<(), ConfigError> {
        let a = self;
        let hours = f64::from(a.hour_buckets.max(1));
        let trends = a.trend_edges.len() as f64 + 1.0;
        let (states, actions, advice) = match a.design {
            Design::ScaleFree => (
                (a.load_edges.len() as f64 + 1.0)
                    * trends
                    * (a.booting_share_edges.len() as f64 + 1.0)
                    * (a.volatility_edges.len() as f64 + 1.0)
                    * hours,
                a.scale_free_actions(),
                "use fewer edges or agent.hour_buckets",
            ),
            Design::Demand => (
                (a.fleet_edges.len() as f64 + 1.0)
                    * (a.peak_ratio_edges.len() as f64 + 1.0)
                    * trends
                    * (a.booting_share_edges.len() as f64 + 1.0)
                    * (a.volatility_edges.len() as f64 + 1.0)
                    * 2.0
                    * hours,
                a.demand_actions(),
                "use fewer edges or agent.hour_buckets",
            ),
            Design::Legacy => {
                let vm_buckets = if a.vm_edges.is_empty() {
                    f64::from(c.max_vms.saturating_sub(c.min_vms)) + 1.0
                } else {
                    a.vm_edges.len() as f64 + 1.0
                };
                (
                    (a.util_edges.len() as f64 + 1.0)
                        * vm_buckets
                        * trends
                        * (a.booting_edges.len() as f64 + 1.0)
                        * hours,
                    a.actions.len(),
                    "bucket the VM count with agent.vm_edges, \
                     narrow [cloud.min_vms, cloud.max_vms], or use fewer edges",
                )
            }
        };
        let entries = states * actions as f64;
        if entries > MAX_Q_ENTRIES {
            return Err(ConfigError::Inconsistent(format!(
                "the agent's Q-table would have {states} states x {actions} actions = {entries} entries, \
                 more than the limit of {MAX_Q_ENTRIES}: {advice}"
            )));
        }
        Ok(())
    }
}
