//! The cloud's configuration sections: `[workload]` (how a trace becomes
//! the arrivals of a run), `[cloud]` (the provider and service model) and
//! `[reward]` (what an SLO miss costs), with their defaults, units and
//! validation.
//!
//! `[workload]` and its [`Noise`] live here rather than in
//! [`crate::trace`]: a trace is only a file of counts, while resampling to
//! the decision step, scaling to a peak and the Poisson noise are how the
//! environment replays it ([`super::Workload`], [`super::CloudEnv`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config_error::{non_negative, out_of_range, positive, ConfigError};

/// Arrival noise applied on top of the trace's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Noise {
    /// Arrivals in a step are exactly the (resampled, scaled) trace count.
    None,
    /// Arrivals are Poisson-distributed around the trace count.
    #[default]
    Poisson,
}

/// How VMs are billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Billing {
    /// Per second, with a minimum of `min_billed_s` per VM (AWS, GCP).
    #[default]
    PerSecond,
    /// Each started minute is charged in full.
    PerMinute,
    /// Each started hour is charged in full (the legacy EC2 rule).
    PerHour,
}

impl Billing {
    /// The billing granularity in seconds.
    pub(crate) fn granularity_s(self) -> f64 {
        match self {
            Billing::PerSecond => 1.0,
            Billing::PerMinute => 60.0,
            Billing::PerHour => 3600.0,
        }
    }
}

/// How a step's requests are served (see `super::serve` and
/// [`super::des`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceModel {
    /// Per-step formulas: an M/M/c queue in steady state, a fluid backlog
    /// in overload. Fast; exponential service by construction.
    #[default]
    Analytic,
    /// A discrete-event simulation of every request (FCFS, timeouts,
    /// `cloud.service` times).
    Des,
}

/// The service-time distribution of the request-level model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceDistribution {
    /// Exponential (coefficient of variation 1), as the analytic model
    /// assumes.
    #[default]
    Exponential,
    /// Every request takes exactly `1/vm_capacity_rps`.
    Deterministic,
    /// Log-normal with coefficient of variation `cloud.service_cv`.
    LogNormal,
}

/// How long a launched VM takes to boot (see `cloud::fleet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BootDistribution {
    /// Every VM boots for exactly `cloud.boot_s`.
    #[default]
    Fixed,
    /// Uniform on `[boot_s − boot_spread_s, boot_s + boot_spread_s]`.
    Uniform,
    /// Log-normal with mean `boot_s` and standard deviation
    /// `boot_spread_s`.
    #[serde(alias = "lognormal")]
    LogNormal,
    /// Drawn with replacement from `cloud.boot_samples_s`, each sample
    /// equally likely.
    Empirical,
}

/// How the request-level model routes a request to a VM (see
/// [`super::des`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Balancer {
    /// One FCFS queue served by every running VM (M/M/c).
    #[default]
    Shared,
    /// A queue per VM; arrivals go to the VMs in turn.
    RoundRobin,
    /// A queue per VM; each arrival joins the VM with the fewest requests
    /// (waiting or in service), ties to the lowest-numbered VM.
    Jsq,
}

/// `[workload]`: which trace is replayed and how it is shaped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkloadConfig {
    /// Trace file (CSV `timestamp_s,requests`): in a config file, relative
    /// to the file's folder; from `--trace` or `--set`, relative to the
    /// working directory. Default: none (give `--trace`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<PathBuf>,
    /// Decision step in whole seconds, ≥ 1. Default 60.
    pub step_s: u32,
    /// Factor applied to every count, > 0. Default 1.
    pub scale: f64,
    /// If set, rescale the trace so its peak rate (per step) is this many
    /// requests per second, > 0; replaces `scale`. Default: unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rps: Option<f64>,
    /// `"none"` or `"poisson"`. Default `"poisson"`.
    pub noise: Noise,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        Self {
            trace: None,
            step_s: 60,
            scale: 1.0,
            peak_rps: None,
            noise: Noise::Poisson,
        }
    }
}

/// `[cloud]`: the provider and the service model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudConfig {
    /// Service rate μ of one running VM, requests per second, in (0, 1e9].
    /// Default 20.
    pub vm_capacity_rps: f64,
    /// Time from launch request until a VM serves, seconds, in [0, 1e9]:
    /// the boot time with `boot = "fixed"`, its mean with `"uniform"` and
    /// `"log-normal"` (ignored with `"empirical"`). Default 100 (EC2 Linux
    /// measured about 97 s).
    pub boot_s: f64,
    /// Boot-time distribution: `"fixed"`, `"uniform"`, `"log-normal"` or
    /// `"empirical"`; each VM draws its own. Default `"fixed"`.
    pub boot: BootDistribution,
    /// `boot = "uniform"`: half-width of the interval around `boot_s`,
    /// seconds, in [0, boot_s]; `boot = "log-normal"`: standard deviation,
    /// seconds, in [0, 100·boot_s]. Default 0.
    pub boot_spread_s: f64,
    /// `boot = "empirical"`: measured boot times, seconds, each in [0, 1e9],
    /// at least one. Default empty.
    pub boot_samples_s: Vec<f64>,
    /// Lower bound on VMs (running + booting), ≥ 0. Default 1.
    pub min_vms: u32,
    /// Upper bound on VMs, in [max(1, min_vms), 1 000 000]. Default 50.
    pub max_vms: u32,
    /// VMs running at t = 0, in [min_vms, max_vms]. Default 2.
    pub initial_vms: u32,
    /// On-demand price of one VM, USD per hour, in [0, 1e6]. Default 0.096
    /// (an m5.large in us-east-1).
    pub price_per_hour: f64,
    /// `"per-second"`, `"per-minute"` or `"per-hour"`. Default `"per-second"`.
    pub billing: Billing,
    /// Minimum billed time per VM, seconds, in [0, 1e9]. Default 60 (AWS, GCP).
    pub min_billed_s: f64,
    /// Response-time objective, seconds, in (0, 1e9]. Default 0.5.
    pub slo_s: f64,
    /// Requests that would wait longer than this in an overload backlog are
    /// dropped, seconds, in (0, 1e9]. Default 30.
    pub timeout_s: f64,
    /// `"analytic"` (per-step queueing formulas) or `"des"` (every request
    /// simulated). Default `"analytic"`.
    pub model: ServiceModel,
    /// `model = "des"`: service times, `"exponential"`, `"deterministic"`
    /// or `"log-normal"`, each with mean `1/vm_capacity_rps`; the analytic
    /// model always assumes exponential. Default `"exponential"`.
    pub service: ServiceDistribution,
    /// `service = "log-normal"`: coefficient of variation (standard
    /// deviation over mean) of the service time, in (0, 100]. Default 1.
    pub service_cv: f64,
    /// `model = "des"`: `"shared"` (one FCFS queue for all running VMs),
    /// `"round-robin"` or `"jsq"` (join the shortest queue) over a queue
    /// per VM; an error with `model = "analytic"` unless `"shared"`.
    /// Default `"shared"`.
    pub balancer: Balancer,
}

impl Default for CloudConfig {
    fn default() -> Self {
        Self {
            vm_capacity_rps: 20.0,
            boot_s: 100.0,
            boot: BootDistribution::Fixed,
            boot_spread_s: 0.0,
            boot_samples_s: Vec::new(),
            min_vms: 1,
            max_vms: 50,
            initial_vms: 2,
            price_per_hour: 0.096,
            billing: Billing::PerSecond,
            min_billed_s: 60.0,
            slo_s: 0.5,
            timeout_s: 30.0,
            model: ServiceModel::Analytic,
            service: ServiceDistribution::Exponential,
            service_cv: 1.0,
            balancer: Balancer::Shared,
        }
    }
}

/// `[reward]`: what an SLO miss costs, in dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardConfig {
    /// USD per request answered later than `cloud.slo_s`, in [0, 1e6].
    /// Default 0.0001.
    pub penalty_per_violation: f64,
    /// USD per dropped request, in [0, 1e6]. Default 0.001.
    pub penalty_per_drop: f64,
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            penalty_per_violation: 1e-4,
            penalty_per_drop: 1e-3,
        }
    }
}

/// The largest `cloud.max_vms` accepted: a million VMs, beyond any real
/// fleet (the queueing model costs time in proportion to the VMs).
pub(crate) const MAX_VMS: u32 = 1_000_000;

impl WorkloadConfig {
    /// Checks every bound.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.step_s == 0 {
            return Err(out_of_range("workload.step_s", 0.0, ">= 1"));
        }
        positive("workload.scale", self.scale)?;
        if let Some(p) = self.peak_rps {
            positive("workload.peak_rps", p)?;
        }
        Ok(())
    }
}

impl CloudConfig {
    /// The service-time distribution of the request-level model.
    pub(crate) fn service_time(&self) -> super::des::ServiceTime {
        use super::des::ServiceTime;
        match self.service {
            ServiceDistribution::Exponential => ServiceTime::Exponential,
            ServiceDistribution::Deterministic => ServiceTime::Deterministic,
            ServiceDistribution::LogNormal => ServiceTime::LogNormal {
                cv: self.service_cv,
            },
        }
    }

    /// Checks every bound of `[cloud]` and of `reward` (`[reward]`), in
    /// one pass: the upper limits of both keep every product of the model
    /// finite.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self, reward: &RewardConfig) -> Result<(), ConfigError> {
        let c = self;
        positive("cloud.vm_capacity_rps", c.vm_capacity_rps)?;
        non_negative("cloud.boot_s", c.boot_s)?;
        non_negative("cloud.price_per_hour", c.price_per_hour)?;
        non_negative("cloud.min_billed_s", c.min_billed_s)?;
        positive("cloud.slo_s", c.slo_s)?;
        positive("cloud.timeout_s", c.timeout_s)?;
        positive("cloud.service_cv", c.service_cv)?;
        // Upper limits far beyond any real system keep every product of
        // the model (cost, penalty, capacity, boot steps) finite.
        for (field, value, max, range) in [
            (
                "cloud.vm_capacity_rps",
                c.vm_capacity_rps,
                1e9,
                "in (0, 1e9]",
            ),
            ("cloud.boot_s", c.boot_s, 1e9, "in [0, 1e9]"),
            ("cloud.price_per_hour", c.price_per_hour, 1e6, "in [0, 1e6]"),
            ("cloud.min_billed_s", c.min_billed_s, 1e9, "in [0, 1e9]"),
            ("cloud.slo_s", c.slo_s, 1e9, "in (0, 1e9]"),
            ("cloud.timeout_s", c.timeout_s, 1e9, "in (0, 1e9]"),
            ("cloud.service_cv", c.service_cv, 100.0, "in (0, 100]"),
            (
                "reward.penalty_per_violation",
                reward.penalty_per_violation,
                1e6,
                "in [0, 1e6]",
            ),
            (
                "reward.penalty_per_drop",
                reward.penalty_per_drop,
                1e6,
                "in [0, 1e6]",
            ),
        ] {
            if value > max {
                return Err(out_of_range(field, value, range));
            }
        }
        if c.max_vms == 0 {
            return Err(out_of_range("cloud.max_vms", 0.0, ">= 1"));
        }
        // The queueing model costs O(VMs) per step: a fleet beyond any
        // real one would make every run hang.
        if c.max_vms > MAX_VMS {
            return Err(out_of_range(
                "cloud.max_vms",
                f64::from(c.max_vms),
                "in [1, 1000000]",
            ));
        }
        if c.min_vms > c.max_vms {
            return Err(ConfigError::Inconsistent(format!(
                "cloud.min_vms = {} is greater than cloud.max_vms = {}",
                c.min_vms, c.max_vms
            )));
        }
        if !(c.min_vms..=c.max_vms).contains(&c.initial_vms) {
            return Err(ConfigError::Inconsistent(format!(
                "cloud.initial_vms = {} is outside [cloud.min_vms, cloud.max_vms] = [{}, {}]",
                c.initial_vms, c.min_vms, c.max_vms
            )));
        }
        non_negative("reward.penalty_per_violation", reward.penalty_per_violation)?;
        non_negative("reward.penalty_per_drop", reward.penalty_per_drop)?;
        c.validate_boot()?;
        if c.model == ServiceModel::Analytic && c.balancer != Balancer::Shared {
            return Err(ConfigError::Inconsistent(
                "cloud.balancer needs cloud.model = \"des\" (the analytic model has one shared queue)"
                    .to_string(),
            ));
        }
        Ok(())
    }

    /// Checks the boot-time distribution's keys.
    fn validate_boot(&self) -> Result<(), ConfigError> {
        let c = self;
        non_negative("cloud.boot_spread_s", c.boot_spread_s)?;
        for &sample in &c.boot_samples_s {
            non_negative("cloud.boot_samples_s", sample)?;
            if sample > 1e9 {
                return Err(out_of_range("cloud.boot_samples_s", sample, "in [0, 1e9]"));
            }
        }
        match c.boot {
            BootDistribution::Fixed => {}
            BootDistribution::Uniform => {
                if c.boot_spread_s > c.boot_s {
                    return Err(ConfigError::Inconsistent(format!(
                        "cloud.boot_spread_s = {} is greater than cloud.boot_s = {}: \
                         a uniform boot time would be negative",
                        c.boot_spread_s, c.boot_s
                    )));
                }
            }
            BootDistribution::LogNormal => {
                if c.boot_spread_s > 0.0 && c.boot_s == 0.0 {
                    return Err(ConfigError::Inconsistent(
                        "cloud.boot_spread_s > 0 needs cloud.boot_s > 0: \
                         a log-normal boot time is positive"
                            .to_string(),
                    ));
                }
                if c.boot_spread_s > 100.0 * c.boot_s {
                    return Err(ConfigError::Inconsistent(format!(
                        "cloud.boot_spread_s = {} is more than 100 times cloud.boot_s = {}",
                        c.boot_spread_s, c.boot_s
                    )));
                }
            }
            BootDistribution::Empirical => {
                if c.boot_samples_s.is_empty() {
                    return Err(ConfigError::Inconsistent(
                        "cloud.boot = \"empirical\" needs cloud.boot_samples_s, a non-empty list of boot times in seconds"
                            .to_string(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The mean boot time, seconds: `boot_s`, or the mean of
    /// `boot_samples_s` with `boot = "empirical"`. Policies that plan
    /// ahead (warm-up, launching ahead) use it.
    pub fn mean_boot_s(&self) -> f64 {
        match self.boot {
            BootDistribution::Empirical if !self.boot_samples_s.is_empty() => {
                self.boot_samples_s.iter().sum::<f64>() / self.boot_samples_s.len() as f64
            }
            _ => self.boot_s,
        }
    }

    /// The boot-time sampler of the fleet.
    pub(crate) fn boot_time(&self) -> super::fleet::BootTime {
        use super::fleet::BootTime;
        match self.boot {
            BootDistribution::Fixed => BootTime::Fixed,
            BootDistribution::Uniform => BootTime::Uniform {
                low_s: self.boot_s - self.boot_spread_s,
                high_s: self.boot_s + self.boot_spread_s,
            },
            BootDistribution::LogNormal => {
                // ln X ~ N(m, s²), s² = ln(1 + cv²), m = ln(mean) − s²/2.
                let cv = if self.boot_s > 0.0 {
                    self.boot_spread_s / self.boot_s
                } else {
                    0.0
                };
                let var = (1.0 + cv * cv).ln();
                BootTime::LogNormal {
                    log_mean: self.boot_s.ln() - var / 2.0,
                    log_sd: var.sqrt(),
                }
            }
            BootDistribution::Empirical => BootTime::Empirical(self.boot_samples_s.clone().into()),
        }
    }
}

/// The sections a simulated run happens in: the cloud, the reward and the
/// workload's shaping (for its decision step and noise). Built from a
/// whole configuration at the boundary (`From<&Config>`); the layers
/// below take this, never the configuration.
#[derive(Debug, Clone, Copy)]
pub struct CloudSetup<'a> {
    /// `[cloud]`.
    pub cloud: &'a CloudConfig,
    /// `[reward]`.
    pub reward: &'a RewardConfig,
    /// `[workload]`.
    pub workload: &'a WorkloadConfig,
}
