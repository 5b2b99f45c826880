//! `predictive`: forecast the load from the past, provision ahead of it.
//!
//! Modelled on AWS EC2 Auto Scaling *predictive scaling*: a forecast of the
//! load, a target utilization, and capacity launched early enough to be in
//! service when the load arrives, paired with a reactive rule.
//!
//! # Rule
//!
//! At the start of step `k` the policy has seen the arrival rates
//! `y_0 … y_{k−1}` (req/s, one per finished step; nothing else of the
//! workload). VMs launched now serve from step `k + b`, `b = ⌈boot_s/Δ⌉`,
//! and VMs terminated now stop serving at once, so the fleet must cover
//! every step from `k` to `k + b`. The policy forecasts those rates,
//! `ŷ_{k} … ŷ_{k+b}` (1 to `b + 1` steps after the last observation; the
//! horizon is capped at one season), and asks for
//!
//! `n_k = ⌈headroom · max(ŷ_k, …, ŷ_{k+b}) / (μ · target_utilization)⌉`,
//!
//! clamped to `[min_vms, max_vms]`. With `policy.reactive = true` (the
//! default) it never asks for fewer than `⌈y_{k−1} / (μ · target)⌉`, the
//! count the last step's load needs: AWS recommends pairing predictive
//! scaling with a dynamic (target tracking) policy, and the larger of the
//! two capacities wins. Before the first step ends there is nothing to
//! forecast from, and the policy keeps the current count. Negative
//! forecasts count as zero.
//!
//! # Forecasters
//!
//! The season is `m = round(season_s / Δ)` steps (at least one; default a
//! day). `h` counts steps after the last observation `y_{n−1}`.
//!
//! - **Seasonal naive** (`"seasonal-naive"`): `ŷ_{n−1+h} = y_{n−1+h−m·⌈h/m⌉}`,
//!   the value at the same phase of the last season observed. With less
//!   than one season of history it falls back to the last value.
//! - **Holt-Winters, additive** (`"holt-winters"`, the default): level
//!   `ℓ`, trend `b` (per step), seasonal indices `s` (one per phase); for each new
//!   value `y_t`, with `s_{t−m}` the index of its phase,
//!   `ℓ_t = α(y_t − s_{t−m}) + (1 − α)(ℓ_{t−1} + b_{t−1})`,
//!   `b_t = β(ℓ_t − ℓ_{t−1}) + (1 − β) b_{t−1}`,
//!   `s_t = γ(y_t − ℓ_{t−1} − b_{t−1}) + (1 − γ) s_{t−m}`
//!   and `ŷ_{t+h} = ℓ_t + h·b_t + s` (the latest index of the target's
//!   phase). Initialisation from the first season: `ℓ = ` its mean,
//!   `b = 0`, `s_i = y_i − ℓ`; the updates start with the second season.
//!   Before one full season it falls back to the last value, like seasonal
//!   naive. Defaults `α = 0.5`, `β = 0.05`, `γ = 0.3`
//!   (`policy.smoothing_level`, `smoothing_trend`, `smoothing_seasonal`).
//!   The seasonal update is the error-correction form of Hyndman &
//!   Athanasopoulos (ETS(A,A,A)); Winters' original uses `y_t − ℓ_t`.
//!   One season cannot tell a trend from the seasonal pattern, so the first
//!   season's trend sits in the seasonal indices and leaves them slowly
//!   when seasons are long (a day of minute steps: 1440 indices, each
//!   updated once a day). On a week of 60 s steps of a noisy 50–200 req/s
//!   diurnal load, its mean absolute error 3 steps ahead is about that of
//!   seasonal naive when the load is flat, and a small fraction of it when
//!   the load grows 10 % a day (tested).
//!
//! The model is updated only in [`Policy::decide`], from the observation it
//! is given (`obs.arrival_rps` of the step that just ended), at most once
//! per step: the policy is built from the configuration alone and never
//! sees the workload, so it cannot peek at the future.
//!
//! Sources: C. C. Holt, "Forecasting seasonals and trends by exponentially
//! weighted moving averages", ONR Memorandum 52, 1957 (reprinted in
//! *International Journal of Forecasting* 20, 2004); P. R. Winters,
//! "Forecasting sales by exponentially weighted moving averages",
//! *Management Science* 6(3), 1960; R. J. Hyndman, G. Athanasopoulos,
//! *Forecasting: Principles and Practice*, 3rd ed., §8.3 (seasonal naive,
//! §5.2); Amazon EC2 Auto Scaling User Guide, "Predictive scaling for
//! Amazon EC2 Auto Scaling".

use crate::policy::{vms_for_rate, Policy};
use serde::{Deserialize, Serialize};
use crate::policy::PolicySetup;
use crate::cloud::CloudConfig;
use crate::cloud::{Action, Observation};
use crate::config_error::{out_of_range, positive, ConfigError};
use crate::policy::registry::{floats, target_utilization_axis, words, GridAxis, PolicyParams, Registered};
use crate::policy::PolicyContext;

/// A one-variable forecaster fed one value per step.
pub(crate) trait Forecast {
    /// Adds the value of the next step.
    fn observe(&mut self, value: f64);
    /// The forecast `h ≥ 1` steps after the last value observed, or
    /// `None` before the first value.
    fn forecast(&self, h: usize) -> Option<f64>;
}

/// Number of steps in a season of `season_s` seconds with steps of
/// `step_s` seconds: rounded, at least one.
pub(crate) fn season_steps(season_s: f64, step_s: f64) -> usize {
    let m = (season_s / step_s).round();
    if m.is_finite() && m >= 1.0 {
        m as usize
    } else {
        1
    }
}

/// The value one season ago (the last value with less history).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeasonalNaive {
    season: usize,
    /// The last `season` values; value `i` (counted from 0) at `i % season`.
    ring: Vec<f64>,
    seen: usize,
}

impl SeasonalNaive {
    /// A forecaster with a season of `season` steps (at least one).
    pub fn new(season: usize) -> SeasonalNaive {
        SeasonalNaive {
            season: season.max(1),
            ring: Vec::new(),
            seen: 0,
        }
    }
}

impl Forecast for SeasonalNaive {
    fn observe(&mut self, value: f64) {
        if self.ring.len() < self.season {
            self.ring.push(value);
        } else {
            self.ring[self.seen % self.season] = value;
        }
        self.seen += 1;
    }

    fn forecast(&self, h: usize) -> Option<f64> {
        let last = self.seen.checked_sub(1)?;
        if self.seen < self.season {
            return self.ring.get(last).copied();
        }
        let h = h.max(1);
        // The same phase in the last season observed: within the ring.
        let back = h.div_ceil(self.season) * self.season - h;
        let index = last.checked_sub(back)?;
        self.ring.get(index % self.season).copied()
    }
}

/// Additive Holt-Winters with one seasonal index per phase.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HoltWinters {
    alpha: f64,
    beta: f64,
    gamma: f64,
    season: usize,
    level: f64,
    trend: f64,
    /// Seasonal index of each phase (empty until the first season ends).
    seasonal: Vec<f64>,
    /// The first season's values, until they initialise the model.
    first: Vec<f64>,
    last: f64,
    seen: usize,
}

impl HoltWinters {
    /// A forecaster with smoothing `alpha` (level), `beta` (trend), `gamma`
    /// (season), each in [0, 1], and a season of `season` steps.
    pub fn new(alpha: f64, beta: f64, gamma: f64, season: usize) -> HoltWinters {
        HoltWinters {
            alpha,
            beta,
            gamma,
            season: season.max(1),
            level: 0.0,
            trend: 0.0,
            seasonal: Vec::new(),
            first: Vec::new(),
            last: 0.0,
            seen: 0,
        }
    }

    #[cfg(test)]
    /// Current level, trend (per step) and seasonal indices; `None` before
    /// a full season.
    pub(crate) fn components(&self) -> Option<(f64, f64, &[f64])> {
        (!self.seasonal.is_empty()).then_some((self.level, self.trend, &self.seasonal[..]))
    }
}

impl Forecast for HoltWinters {
    fn observe(&mut self, value: f64) {
        let phase = self.seen % self.season;
        self.seen += 1;
        self.last = value;
        if self.seasonal.is_empty() {
            self.first.push(value);
            if self.first.len() == self.season {
                let level = self.first.iter().sum::<f64>() / self.season as f64;
                self.level = level;
                self.trend = 0.0;
                self.seasonal = self.first.iter().map(|y| y - level).collect();
                self.first = Vec::new();
            }
            return;
        }
        let Some(&old) = self.seasonal.get(phase) else {
            return;
        };
        let (level, trend) = (self.level, self.trend);
        self.level = self.alpha * (value - old) + (1.0 - self.alpha) * (level + trend);
        self.trend = self.beta * (self.level - level) + (1.0 - self.beta) * trend;
        self.seasonal[phase] = self.gamma * (value - level - trend) + (1.0 - self.gamma) * old;
    }

    fn forecast(&self, h: usize) -> Option<f64> {
        if self.seen == 0 {
            return None;
        }
        if self.seasonal.is_empty() {
            return Some(self.last);
        }
        let h = h.max(1);
        let phase = (self.seen - 1 + h) % self.season;
        let s = self.seasonal.get(phase).copied().unwrap_or(0.0);
        Some(self.level + h as f64 * self.trend + s)
    }
}

/// The forecaster a [`PredictivePolicy`] runs.
#[derive(Debug, Clone, PartialEq)]
enum Model {
    Naive(SeasonalNaive),
    Winters(HoltWinters),
}

impl Forecast for Model {
    fn observe(&mut self, value: f64) {
        match self {
            Model::Naive(m) => m.observe(value),
            Model::Winters(m) => m.observe(value),
        }
    }
    fn forecast(&self, h: usize) -> Option<f64> {
        match self {
            Model::Naive(m) => m.forecast(h),
            Model::Winters(m) => m.forecast(h),
        }
    }
}

/// Predictive scaling: provisions for the forecast load `boot_s` ahead.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictivePolicy {
    /// `[policy]` (`headroom`, `target_utilization`, `reactive`).
    policy: PredictiveParams,
    /// `[cloud]` (the bounds and the VM capacity).
    cloud: CloudConfig,
    model: Model,
    /// Steps ahead of the last observation to cover: `b + 1`, at most a
    /// season.
    horizon: usize,
    /// Steps observed so far (the index of the next one to observe).
    observed: u64,
}

impl PredictivePolicy {
    /// The policy `config.policy.predictive` describes, for steps of
    /// `config.workload.step_s` seconds.
    pub fn new<'a>(config: impl Into<PolicySetup<'a>>) -> PredictivePolicy {
        let config: PolicySetup<'a> = config.into();
        let p = &config.policy.predictive;
        let step_s = f64::from(config.workload.step_s.max(1));
        let season = season_steps(p.season_s, step_s);
        let model = match p.forecaster {
            Forecaster::SeasonalNaive => Model::Naive(SeasonalNaive::new(season)),
            Forecaster::HoltWinters => Model::Winters(HoltWinters::new(
                p.smoothing_level,
                p.smoothing_trend,
                p.smoothing_seasonal,
                season,
            )),
        };
        let boot = (config.cloud.mean_boot_s() / step_s).ceil();
        let boot_steps = if boot.is_finite() && boot >= 0.0 {
            boot.min(season as f64) as usize
        } else {
            0
        };
        PredictivePolicy {
            policy: config.policy.predictive.clone(),
            cloud: config.cloud.clone(),
            model,
            horizon: (boot_steps + 1).min(season),
            observed: 0,
        }
    }

    /// The largest forecast rate over the steps the fleet must cover,
    /// req/s (≥ 0); `None` before the first observation.
    pub(crate) fn forecast_rps(&self) -> Option<f64> {
        let mut peak: Option<f64> = None;
        for h in 1..=self.horizon {
            let f = self.model.forecast(h)?;
            let f = if f.is_finite() { f.max(0.0) } else { 0.0 };
            peak = Some(peak.map_or(f, |p| p.max(f)));
        }
        peak
    }
}

impl Policy for PredictivePolicy {
    fn name(&self) -> &str {
        "predictive"
    }

    fn decide(&mut self, obs: &Observation) -> Action {
        if obs.step > self.observed {
            // obs.arrival_rps is the rate of the step that just ended.
            self.model.observe(obs.arrival_rps);
            self.observed = obs.step;
        }
        let Some(forecast) = self.forecast_rps() else {
            return Action::Target(obs.vms_total());
        };
        let p = &self.policy;
        let mut target = vms_for_rate(&self.cloud, forecast * p.headroom, p.target_utilization);
        if p.reactive {
            target = target.max(vms_for_rate(
                &self.cloud,
                obs.arrival_rps,
                p.target_utilization,
            ));
        }
        Action::Target(target)
    }
}

/// How the `predictive` policy forecasts the arrival rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Forecaster {
    /// The rate one season (`policy.season_s`) earlier.
    SeasonalNaive,
    /// Additive Holt-Winters (level, trend, season).
    #[default]
    HoltWinters,
}

/// Longest `policy.season_s` accepted, seconds: a leap year.
pub(crate) const MAX_SEASON_S: f64 = 366.0 * 86_400.0;

/// The `predictive` policy's keys of `[policy]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PredictiveParams {
    /// Utilization the rule aims for, in (0, 1]. Used by `static` sizing,
    /// `predictive`, `target` and `hpa` (in whole percent: 0.7 → 70 %).
    /// Default 0.7.
    pub target_utilization: f64,
    /// `predictive`: `"seasonal-naive"` or `"holt-winters"`. Default
    /// `"holt-winters"`.
    pub forecaster: Forecaster,
    /// `predictive`: season length, seconds, in (0, 31 622 400] (a leap
    /// year); rounded to whole steps, at least one. Default 86 400 (a day).
    pub season_s: f64,
    /// `predictive` with Holt-Winters: level smoothing α, in (0, 1].
    /// Default 0.5.
    pub smoothing_level: f64,
    /// `predictive` with Holt-Winters: trend smoothing β, in [0, 1].
    /// Default 0.05.
    pub smoothing_trend: f64,
    /// `predictive` with Holt-Winters: seasonal smoothing γ, in [0, 1].
    /// Default 0.3.
    pub smoothing_seasonal: f64,
    /// `predictive`: factor applied to the forecast rate before sizing,
    /// finite and > 0. Default 1.
    pub headroom: f64,
    /// `predictive`: never provision fewer VMs than the last step's rate
    /// needs at `target_utilization` (predictive paired with a reactive
    /// rule, as AWS recommends). Default true.
    pub reactive: bool,
}

impl Default for PredictiveParams {
    fn default() -> Self {
        Self {
            target_utilization: 0.7,
            forecaster: Forecaster::HoltWinters,
            season_s: 86_400.0,
            smoothing_level: 0.5,
            smoothing_trend: 0.05,
            smoothing_seasonal: 0.3,
            headroom: 1.0,
            reactive: true,
        }
    }
}

impl PolicyParams for PredictiveParams {
    fn validate(&self) -> Result<(), ConfigError> {
        let t = self.target_utilization;
        if !(t > 0.0 && t <= 1.0) {
            return Err(out_of_range("policy.target_utilization", t, "in (0, 1]"));
        }
        let p = self;
        positive("policy.season_s", p.season_s)?;
        if p.season_s > MAX_SEASON_S {
            return Err(out_of_range(
                "policy.season_s",
                p.season_s,
                "in (0, 31622400] (a leap year)",
            ));
        }
        if !(p.smoothing_level > 0.0 && p.smoothing_level <= 1.0) {
            return Err(out_of_range(
                "policy.smoothing_level",
                p.smoothing_level,
                "in (0, 1]",
            ));
        }
        if !(0.0..=1.0).contains(&p.smoothing_trend) {
            return Err(out_of_range(
                "policy.smoothing_trend",
                p.smoothing_trend,
                "in [0, 1]",
            ));
        }
        if !(0.0..=1.0).contains(&p.smoothing_seasonal) {
            return Err(out_of_range(
                "policy.smoothing_seasonal",
                p.smoothing_seasonal,
                "in [0, 1]",
            ));
        }
        positive("policy.headroom", p.headroom)?;
        Ok(())
    }
}

impl Registered for PredictivePolicy {
    const NAME: &'static str = "predictive";
    const COLOUR: (u8, u8, u8) = (213, 94, 0);
    type Params = PredictiveParams;
    fn tuning_grid() -> Vec<GridAxis> {
        vec![
            target_utilization_axis(),
            GridAxis::one("policy.headroom", floats(&[0.9, 1.0, 1.1, 1.25, 1.5])),
            GridAxis::one(
                "policy.forecaster",
                words(&["holt-winters", "seasonal-naive"]),
            ),
        ]
    }
    fn build(ctx: PolicyContext<'_>) -> Option<Box<dyn Policy + Send>> {
        Some(Box::new(PredictivePolicy::new(ctx.setup)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::cloud::Workload;
    use crate::config::Config;
    use crate::config::{Noise, PolicyKind, StaticSizing};
    use crate::experiment::{run_policy, run_with};
    use crate::trace::{generate, GenKind, GenSpec};
    use rand::{Rng, SeedableRng};

    #[test]
    fn seasonal_naive_repeats_the_last_season_exactly() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3);
        let m = 7;
        let pattern: Vec<f64> = (0..m).map(|_| rng.random_range(0.0..100.0)).collect();
        let y = |i: usize| pattern[i % m];
        let mut f = SeasonalNaive::new(m);
        assert_eq!(f.forecast(1), None);
        for i in 0..5 * m {
            f.observe(y(i));
            let seen = i + 1;
            for h in 1..=3 * m {
                let got = f.forecast(h).unwrap();
                if seen < m {
                    assert_eq!(got, y(i), "fallback to the last value");
                } else {
                    assert_eq!(got, y(i + h), "seen {seen} h {h}");
                }
            }
        }
    }

    #[test]
    fn seasonal_naive_with_a_one_step_season_is_the_last_value() {
        let mut f = SeasonalNaive::new(1);
        for v in [3.0, 9.0, 4.0] {
            f.observe(v);
            assert_eq!(f.forecast(1), Some(v));
            assert_eq!(f.forecast(5), Some(v));
        }
    }

    #[test]
    fn holt_winters_is_exact_on_a_pure_seasonal_pattern() {
        let m = 24;
        let y = |i: usize| 100.0 + 40.0 * (2.0 * std::f64::consts::PI * i as f64 / m as f64).sin();
        let mut f = HoltWinters::new(0.5, 0.05, 0.3, m);
        for i in 0..3 * m {
            f.observe(y(i));
            if i + 1 >= m {
                for h in 1..=2 * m {
                    let got = f.forecast(h).unwrap();
                    assert!((got - y(i + h)).abs() < 1e-9, "i {i} h {h}: {got}");
                }
            }
        }
    }

    #[test]
    fn holt_winters_converges_on_a_sinusoid_with_a_trend() {
        // The first season mistakes the trend for seasonality; the
        // updates must remove it.
        let m = 12;
        let y = |i: usize| {
            let t = i as f64;
            200.0 + 0.5 * t + 60.0 * (2.0 * std::f64::consts::PI * t / m as f64).sin()
        };
        let mut f = HoltWinters::new(0.5, 0.05, 0.3, m);
        let error = |f: &HoltWinters, last: usize| {
            (1..=m)
                .map(|h| (f.forecast(h).unwrap() - y(last + h)).abs())
                .fold(0.0, f64::max)
        };
        for i in 0..m {
            f.observe(y(i));
        }
        let initial = error(&f, m - 1);
        assert!(initial > 1.0, "the start is wrong: {initial}");
        for i in m..60 * m {
            f.observe(y(i));
        }
        let (_, trend, _) = f.components().unwrap();
        assert!((trend - 0.5).abs() < 1e-3, "trend {trend}");
        // within 0.01 % of the 120 swing
        let last = error(&f, 60 * m - 1);
        assert!(last < 0.012, "error {last} (from {initial})");
    }

    #[test]
    fn holt_winters_falls_back_to_the_last_value_within_the_first_season() {
        let mut f = HoltWinters::new(0.5, 0.05, 0.3, 10);
        assert_eq!(f.forecast(1), None);
        f.observe(4.0);
        f.observe(6.0);
        assert_eq!(f.forecast(3), Some(6.0));
        assert!(f.components().is_none());
    }

    /// Mean absolute error 3 steps ahead over days 2 to 7 of a noisy
    /// diurnal week of 60 s steps growing by `growth` a day.
    fn week_error(f: &mut dyn Forecast, growth: f64) -> f64 {
        let m = 1440;
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let y: Vec<f64> = (0..7 * m)
            .map(|i| {
                let hour = (i % m) as f64 / 60.0;
                let shape = 1.0 - (2.0 * std::f64::consts::PI * (hour - 4.0) / 24.0).cos();
                let rate = (50.0 + 75.0 * shape) * (1.0 + growth * i as f64 / m as f64);
                crate::trace::poisson_draw(rate * 60.0, &mut rng) / 60.0
            })
            .collect();
        let (mut sum, mut n) = (0.0, 0.0);
        for i in 0..y.len() - 3 {
            f.observe(y[i]);
            if i >= 2 * m {
                sum += (f.forecast(3).unwrap() - y[i + 3]).abs();
                n += 1.0;
            }
        }
        sum / n
    }

    #[test]
    fn holt_winters_tracks_a_noisy_growing_day_better_than_seasonal_naive() {
        let c = Config::default().policy.predictive;
        let hw = |growth| {
            let mut f = HoltWinters::new(
                c.smoothing_level,
                c.smoothing_trend,
                c.smoothing_seasonal,
                1440,
            );
            week_error(&mut f, growth)
        };
        let naive = |growth| week_error(&mut SeasonalNaive::new(1440), growth);
        let (flat_hw, flat_naive) = (hw(0.0), naive(0.0));
        assert!(flat_hw < 1.1 * flat_naive, "{flat_hw} vs {flat_naive}");
        let (grow_hw, grow_naive) = (hw(0.1), naive(0.1));
        assert!(grow_hw < 0.25 * grow_naive, "{grow_hw} vs {grow_naive}");
    }

    fn config(forecaster: Forecaster) -> Config {
        let mut c = Config::default();
        c.policy.kind = PolicyKind::Predictive;
        c.policy.predictive.forecaster = forecaster;
        c.policy.predictive.season_s = 600.0; // 10 steps of 60 s
        c
    }

    #[test]
    fn decisions_never_depend_on_arrivals_after_them() {
        for forecaster in [Forecaster::SeasonalNaive, Forecaster::HoltWinters] {
            let c = config(forecaster);
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
            let base: Vec<f64> = (0..60)
                .map(|_| rng.random_range(0.0..300.0) * 60.0)
                .collect();
            let cut = 37;
            let mut other = base.clone();
            for a in &mut other[cut..] {
                *a = rng.random_range(0.0..900.0) * 60.0;
            }
            let w = |arrivals: Vec<f64>| {
                Arc::new(Workload {
                    name: "w".into(),
                    start_s: 0.0,
                    step_s: 60.0,
                    arrivals,
                })
            };
            let a = run_policy(&c, w(base), 4).unwrap();
            let b = run_policy(&c, w(other), 4).unwrap();
            // The decision for step k sees arrivals of steps < k only.
            for k in 0..=cut {
                assert_eq!(a.steps[k].target_vms, b.steps[k].target_vms, "step {k}");
            }
            assert_ne!(
                a.steps.iter().map(|s| s.target_vms).collect::<Vec<_>>(),
                b.steps.iter().map(|s| s.target_vms).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_repeated_observation_updates_the_model_once() {
        let c = config(Forecaster::HoltWinters);
        let mut p = PredictivePolicy::new(&c);
        let mut obs = crate::cloud::CloudEnv::new(
            Arc::new(Workload {
                name: "w".into(),
                start_s: 0.0,
                step_s: 60.0,
                arrivals: vec![0.0; 3],
            }),
            &c,
        );
        let mut o = crate::cloud::Environment::reset(&mut obs, 1);
        assert_eq!(p.decide(&o), Action::Target(c.cloud.initial_vms));
        o.step = 1;
        o.arrival_rps = 70.0;
        let first = p.decide(&o);
        let again = p.decide(&o);
        assert_eq!(first, again);
        assert_eq!(p.observed, 1);
        // 70 req/s at 20 req/s per VM and 0.7 target: 5 VMs.
        assert_eq!(first, Action::Target(5));
    }

    #[test]
    fn provisioning_covers_the_boot_window_and_the_headroom() {
        let mut c = config(Forecaster::SeasonalNaive);
        c.policy.predictive.season_s = 240.0; // 4 steps
        c.cloud.boot_s = 100.0; // 2 steps: cover 3 steps ahead
        c.policy.predictive.reactive = false;
        let mut p = PredictivePolicy::new(&c);
        let mut o = crate::cloud::Observation {
            step: 0,
            time_s: 0.0,
            arrivals: 0.0,
            arrival_rps: 0.0,
            utilization: 0.0,
            vms_serving: 2,
            vms_running: 2,
            vms_booting: 0,
            latency_mean_s: None,
            backlog: 0.0,
            slo_violations: 0.0,
            dropped: 0.0,
        };
        for (k, rate) in [14.0, 14.0, 140.0, 14.0].into_iter().enumerate() {
            o.step = k as u64 + 1;
            o.arrival_rps = rate;
            p.decide(&o);
        }
        // Seen a season [14, 14, 140, 14]; the next three steps forecast
        // 14, 14, 140: ready for the peak two steps from now.
        assert_eq!(p.forecast_rps(), Some(140.0));
        o.step = 5;
        o.arrival_rps = 14.0;
        // Forecast now 14, 140, 14 → 140 / 14 = 10 VMs.
        assert_eq!(p.decide(&o), Action::Target(10));
        c.policy.predictive.headroom = 1.5;
        let mut q = PredictivePolicy::new(&c);
        for (k, rate) in [14.0, 14.0, 140.0, 14.0, 14.0].into_iter().enumerate() {
            o.step = k as u64 + 1;
            o.arrival_rps = rate;
            q.decide(&o);
        }
        assert_eq!(q.forecast_rps(), Some(140.0));
        o.step = 6;
        o.arrival_rps = 14.0;
        // 140 · 1.5 / 14 = 15, and with the peak past, 14 · 1.5 / 14 → 2.
        assert_eq!(q.decide(&o), Action::Target(15));
    }

    #[test]
    fn predictive_beats_static_at_peak_on_a_diurnal_trace() {
        let trace = generate(&GenSpec {
            kind: GenKind::Diurnal,
            duration_s: 3.0 * 86_400.0,
            seed: 5,
            ..GenSpec::default()
        })
        .unwrap();
        let mut c = Config::default();
        c.workload.noise = Noise::Poisson;
        let w = Arc::new(Workload::from_trace(&trace, &c).unwrap());
        c.policy.kind = PolicyKind::Static;
        c.policy.static_count.sizing = StaticSizing::Peak;
        let fixed = run_policy(&c, Arc::clone(&w), 1).unwrap().summary;
        for forecaster in [Forecaster::SeasonalNaive, Forecaster::HoltWinters] {
            c.policy.kind = PolicyKind::Predictive;
            c.policy.predictive.forecaster = forecaster;
            let mut p = PredictivePolicy::new(&c);
            let rec = run_with(&c, &mut p, Arc::clone(&w), 1).summary;
            assert!(
                rec.score_usd < fixed.score_usd,
                "{forecaster:?}: {} vs static {}",
                rec.score_usd,
                fixed.score_usd
            );
            assert!(rec.vm_hours < fixed.vm_hours);
        }
    }
}
