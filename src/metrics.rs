//! Run metrics: per-step rows ([`crate::cloud::StepInfo`]) add up to one
//! [`SummaryRow`] per run, and both are written as CSV.
//!
//! The per-step `cost_usd`, `penalty_usd` and `reward` columns sum to the
//! run's totals (the totals are accumulated from the same values, in the
//! same order).

use serde::{Deserialize, Serialize};

use crate::cloud::StepInfo;
use crate::elasticity::Elasticity;

/// Running totals of a run, fed one step at a time.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Totals {
    /// Steps simulated.
    pub steps: u64,
    /// USD of VM charges.
    pub cost_usd: f64,
    /// USD of SLO and drop penalties.
    pub penalty_usd: f64,
    /// Sum of rewards, USD.
    pub reward: f64,
    /// Requests that arrived.
    pub requests: f64,
    /// Requests served.
    pub served: f64,
    /// Requests that missed the SLO or were dropped.
    pub violations: f64,
    /// Requests dropped.
    pub drops: f64,
    /// Requests still waiting after the last step.
    pub final_backlog: f64,
    /// Σ over steps of VMs alive (running + booting).
    pub vm_steps: f64,
    /// Most VMs alive in a step.
    pub max_vms: u32,
    /// Steps in which VMs were launched or terminated.
    pub scaling_actions: u64,
    /// Step length, seconds (for VM-hours).
    pub step_s: f64,
}

impl Totals {
    /// Totals for steps of `step_s` seconds.
    pub fn new(step_s: f64) -> Totals {
        Totals {
            step_s,
            ..Totals::default()
        }
    }

    /// Adds one step; `vms_before` is the VM count before the step's
    /// action (to count scaling actions).
    pub(crate) fn add(&mut self, info: &StepInfo, vms_before: u32) {
        let vms = info.vms_running + info.vms_booting;
        self.steps += 1;
        self.cost_usd += info.cost_usd;
        self.penalty_usd += info.penalty_usd;
        self.reward += info.reward;
        self.requests += info.arrivals;
        self.served += info.served;
        self.violations += info.slo_violations;
        self.drops += info.dropped;
        self.final_backlog = info.backlog;
        self.vm_steps += f64::from(vms);
        self.max_vms = self.max_vms.max(vms);
        if vms != vms_before {
            self.scaling_actions += 1;
        }
    }

    /// Cost + penalty, USD: the score (lower is better).
    pub(crate) fn score_usd(&self) -> f64 {
        self.cost_usd + self.penalty_usd
    }

    /// The summary row of the run. Its amounts are rounded as the CSV
    /// writes them ([`crate::csv_number::round_usd`]), so what is computed
    /// from a row in memory (regrets, means over seeds) equals what is
    /// computed from the row read back from `summary.csv`.
    pub(crate) fn summary(&self, policy: &str, trace: &str, seed: u64) -> SummaryRow {
        use crate::csv_number::round_usd;
        let steps = self.steps.max(1) as f64;
        SummaryRow {
            policy: policy.to_string(),
            trace: trace.to_string(),
            seed,
            cost_usd: round_usd(self.cost_usd),
            penalty_usd: round_usd(self.penalty_usd),
            score_usd: round_usd(self.score_usd()),
            requests: self.requests,
            served: self.served,
            violations: self.violations,
            violation_rate: if self.requests > 0.0 {
                self.violations / self.requests
            } else {
                0.0
            },
            drops: self.drops,
            final_backlog: self.final_backlog,
            mean_vms: self.vm_steps / steps,
            max_vms: self.max_vms,
            vm_hours: self.vm_steps * self.step_s / 3600.0,
            scaling_actions: self.scaling_actions,
            steps: self.steps,
            underprov_accuracy_pct: None,
            overprov_accuracy_pct: None,
            underprov_timeshare_pct: None,
            overprov_timeshare_pct: None,
            jitter_per_h: None,
            regret_usd: None,
            bound_usd: None,
        }
    }
}

impl SummaryRow {
    /// The row with the run's elasticity metrics filled in (left empty
    /// when `elasticity` is `None`).
    pub(crate) fn with_elasticity(self, elasticity: Option<Elasticity>) -> SummaryRow {
        let e = elasticity;
        SummaryRow {
            underprov_accuracy_pct: e.map(|e| e.underprov_accuracy_pct),
            overprov_accuracy_pct: e.map(|e| e.overprov_accuracy_pct),
            underprov_timeshare_pct: e.map(|e| e.underprov_timeshare_pct),
            overprov_timeshare_pct: e.map(|e| e.overprov_timeshare_pct),
            jitter_per_h: e.map(|e| e.jitter_per_h),
            ..self
        }
    }
}

/// One row of `summary.csv`: a run's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Policy name.
    pub policy: String,
    /// Trace name.
    pub trace: String,
    /// Master seed of the run.
    pub seed: u64,
    /// VM charges, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub cost_usd: f64,
    /// SLO and drop penalties, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub penalty_usd: f64,
    /// cost + penalty, USD (lower is better).
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub score_usd: f64,
    /// Requests that arrived.
    #[serde(serialize_with = "crate::csv_number::count")]
    pub requests: f64,
    /// Requests served.
    #[serde(serialize_with = "crate::csv_number::count")]
    pub served: f64,
    /// Requests that missed the SLO or were dropped.
    #[serde(serialize_with = "crate::csv_number::count")]
    pub violations: f64,
    /// violations / requests.
    pub violation_rate: f64,
    /// Requests dropped.
    #[serde(serialize_with = "crate::csv_number::count")]
    pub drops: f64,
    /// Requests still waiting at the end (arrivals = served + drops + this).
    #[serde(serialize_with = "crate::csv_number::count")]
    pub final_backlog: f64,
    /// Mean VMs alive (running + booting) per step.
    pub mean_vms: f64,
    /// Most VMs alive in a step.
    pub max_vms: u32,
    /// VM-hours billed time before rounding (alive time).
    pub vm_hours: f64,
    /// Steps in which VMs were launched or terminated.
    pub scaling_actions: u64,
    /// Steps simulated.
    pub steps: u64,
    /// SPEC RG θU, % (see [`crate::elasticity`]; empty when undefined).
    #[serde(default)]
    pub underprov_accuracy_pct: Option<f64>,
    /// SPEC RG θO, %.
    #[serde(default)]
    pub overprov_accuracy_pct: Option<f64>,
    /// SPEC RG τU, %.
    #[serde(default)]
    pub underprov_timeshare_pct: Option<f64>,
    /// SPEC RG τO, %.
    #[serde(default)]
    pub overprov_timeshare_pct: Option<f64>,
    /// SPEC RG jitter, adaptations per hour.
    #[serde(default)]
    pub jitter_per_h: Option<f64>,
    /// score − the oracle's score on the same trace and seed, USD (empty
    /// when the oracle was not run).
    #[serde(serialize_with = "crate::csv_number::usd_opt")]
    pub regret_usd: Option<f64>,
    /// A lower bound on any policy's score on the same trace and seed, USD
    /// (see `cloud::bound`; empty when the oracle was not run, or on the
    /// request-level model).
    #[serde(default, serialize_with = "crate::csv_number::usd_opt")]
    pub bound_usd: Option<f64>,
}

/// The header and the fields of `row` as its CSV writer writes them, so a
/// table that adds columns around a row type restates none of them.
///
/// # Errors
/// The row cannot be serialised.
pub(crate) fn csv_record<T: Serialize>(
    row: &T,
) -> Result<(csv::StringRecord, csv::StringRecord), csv::Error> {
    let bytes = to_csv(std::slice::from_ref(row))?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header = reader.headers()?.clone();
    let fields = reader
        .records()
        .next()
        .unwrap_or_else(|| Ok(csv::StringRecord::new()))?;
    Ok((header, fields))
}

/// Serializes rows as CSV with a header.
///
/// # Errors
/// A row that cannot be serialized (never for the row types here).
pub fn to_csv<T: Serialize>(rows: &[T]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
