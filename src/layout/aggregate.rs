//! `aggregate.csv`: a comparison's runs summarised over seeds, one row
//! per policy × trace (a sweep's and a tune's carry `param_<key>` columns
//! before these).

use serde::{Deserialize, Serialize};

use crate::metrics::SummaryRow;
use crate::stats::Summary;

/// One row of `aggregate.csv`: a policy on a trace, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateRow {
    /// Policy name.
    pub policy: String,
    /// Trace name.
    pub trace: String,
    /// Runs (seeds) aggregated.
    pub runs: usize,
    /// Mean score (cost + penalty), USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub score_mean: f64,
    /// Sample standard deviation of the score, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub score_sd: f64,
    /// Half-width of the 95 % confidence interval of the mean score (Student t), USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub score_ci95: f64,
    /// Mean cost, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub cost_mean: f64,
    /// Mean penalty, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub penalty_mean: f64,
    /// Mean violation rate.
    pub violation_rate_mean: f64,
    /// Mean dropped requests.
    pub drops_mean: f64,
    /// Mean of the mean VM count.
    pub mean_vms_mean: f64,
    /// Mean SPEC RG θU, % (empty when a run's is undefined; see
    /// [`crate::elasticity`]).
    #[serde(default)]
    pub underprov_accuracy_mean: Option<f64>,
    /// Mean SPEC RG θO, %.
    #[serde(default)]
    pub overprov_accuracy_mean: Option<f64>,
    /// Mean SPEC RG τU, %.
    #[serde(default)]
    pub underprov_timeshare_mean: Option<f64>,
    /// Mean SPEC RG τO, %.
    #[serde(default)]
    pub overprov_timeshare_mean: Option<f64>,
    /// Mean SPEC RG jitter, adaptations per hour.
    #[serde(default)]
    pub jitter_mean: Option<f64>,
    /// Mean regret against the oracle, USD (empty without the oracle).
    #[serde(serialize_with = "crate::csv_number::usd_opt")]
    pub regret_mean: Option<f64>,
    /// Mean lower bound on any policy's score, USD (empty without the
    /// oracle, or on the request-level model).
    #[serde(default, serialize_with = "crate::csv_number::usd_opt")]
    pub bound_mean: Option<f64>,
}

impl AggregateRow {
    /// The aggregate of one policy on one trace over its runs (one per
    /// seed; at least one). A mean of a metric some run lacks is empty.
    pub fn of(runs: &[&SummaryRow]) -> AggregateRow {
        let values =
            |f: fn(&SummaryRow) -> f64| -> Vec<f64> { runs.iter().map(|r| f(r)).collect() };
        let mean = |f: fn(&SummaryRow) -> f64| Summary::of(&values(f)).mean;
        let mean_of_all = |f: fn(&SummaryRow) -> Option<f64>| {
            runs.iter()
                .map(|r| f(r))
                .collect::<Option<Vec<f64>>>()
                .map(|v| Summary::of(&v).mean)
        };
        let score = Summary::of(&values(|r| r.score_usd));
        AggregateRow {
            policy: runs[0].policy.clone(),
            trace: runs[0].trace.clone(),
            runs: runs.len(),
            score_mean: score.mean,
            score_sd: score.sd,
            score_ci95: score.ci95,
            cost_mean: mean(|r| r.cost_usd),
            penalty_mean: mean(|r| r.penalty_usd),
            violation_rate_mean: mean(|r| r.violation_rate),
            drops_mean: mean(|r| r.drops),
            mean_vms_mean: mean(|r| r.mean_vms),
            underprov_accuracy_mean: mean_of_all(|r| r.underprov_accuracy_pct),
            overprov_accuracy_mean: mean_of_all(|r| r.overprov_accuracy_pct),
            underprov_timeshare_mean: mean_of_all(|r| r.underprov_timeshare_pct),
            overprov_timeshare_mean: mean_of_all(|r| r.overprov_timeshare_pct),
            jitter_mean: mean_of_all(|r| r.jitter_per_h),
            regret_mean: mean_of_all(|r| r.regret_usd),
            bound_mean: mean_of_all(|r| r.bound_usd),
        }
    }
}
