//! `crossval.csv`: a cross-validation's evaluation rows, and their
//! grouping into cases (fold × test trace × peak) that `summary.md` and
//! the crossval figure both read.

use serde::{Deserialize, Serialize};

use crate::config::PolicyKind;
use crate::metrics::SummaryRow;
use crate::stats::Summary;

/// One row of `crossval.csv`: one policy with one set of parameters on one
/// test trace at one peak, for one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossvalRow {
    /// Fold number, from 1.
    pub fold: usize,
    /// The test trace's name.
    pub test_trace: String,
    /// The peak the test trace was scaled to, req/s (empty: as configured).
    pub peak_rps: Option<f64>,
    /// Policy name.
    pub policy: String,
    /// `trained` (the agent), `default` or `tuned` (a rule), `peak`
    /// (`static` sized for the test trace's peak) or `clairvoyant` (the
    /// oracle).
    pub params: String,
    /// Master seed.
    pub seed: u64,
    /// cost + penalty, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub score_usd: f64,
    /// VM charges, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub cost_usd: f64,
    /// SLO and drop penalties, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub penalty_usd: f64,
    /// Requests that missed the SLO or were dropped, over requests.
    pub violation_rate: f64,
    /// score − the oracle's score on the same fold, trace, peak and seed.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub regret_usd: f64,
    /// Requests dropped.
    #[serde(serialize_with = "crate::csv_number::count")]
    pub drops: f64,
    /// Mean VMs alive per step.
    pub mean_vms: f64,
}

impl CrossvalRow {
    /// The row of run `s` in fold `fold` at `peak` with parameters
    /// labelled `params`; its regret is 0 until the oracle's is known.
    pub fn of(fold: usize, peak: Option<f64>, params: &str, s: &SummaryRow) -> CrossvalRow {
        CrossvalRow {
            fold,
            test_trace: s.trace.clone(),
            peak_rps: peak,
            policy: s.policy.clone(),
            params: params.to_string(),
            seed: s.seed,
            score_usd: s.score_usd,
            cost_usd: s.cost_usd,
            penalty_usd: s.penalty_usd,
            violation_rate: s.violation_rate,
            regret_usd: 0.0,
            drops: s.drops,
            mean_vms: s.mean_vms,
        }
    }
}

/// One policy with one set of parameters on one (fold, trace, peak),
/// summarised over seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Policy name.
    pub policy: String,
    /// Its parameters' label (see [`CrossvalRow::params`]).
    pub params: String,
    /// The score over seeds, USD.
    pub score: Summary,
    /// Each seed's score, USD, in row order.
    pub seed_scores: Vec<(u64, f64)>,
    /// Mean cost, USD.
    pub cost_mean: f64,
    /// Mean penalty, USD.
    pub penalty_mean: f64,
    /// Mean violation rate.
    pub violation_rate_mean: f64,
    /// Mean regret, USD.
    pub regret_mean: f64,
}

impl Entry {
    /// `policy (params)`.
    pub(crate) fn label(&self) -> String {
        format!("{} ({})", self.policy, self.params)
    }

    fn is_rule(&self) -> bool {
        self.policy != PolicyKind::Qlearning.name() && self.policy != PolicyKind::Oracle.name()
    }

    /// A rule that sizes the fleet only from the load it has observed:
    /// every rule but `static`, whose fixed fleet is sized (unless
    /// `policy.sizing = "count"`) from the test trace's own peak or mean.
    fn is_adaptive_rule(&self) -> bool {
        self.is_rule() && self.policy != PolicyKind::Static.name()
    }
}

/// One (fold, test trace, peak) and every policy's entry there.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Fold number.
    pub fold: usize,
    /// Test trace name.
    pub test_trace: String,
    /// Peak, req/s (`None`: as configured).
    pub peak_rps: Option<f64>,
    /// Entries in row order.
    pub entries: Vec<Entry>,
}

impl Case {
    /// The agent's entry.
    pub fn agent(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.policy == PolicyKind::Qlearning.name())
    }

    /// The oracle's entry.
    pub(crate) fn oracle(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.policy == PolicyKind::Oracle.name())
    }

    /// The rule (default or tuned, `static` at the peak included; the
    /// oracle and the agent excluded) with the lowest mean score; ties go
    /// to the first in row order.
    pub(crate) fn best_rule(&self) -> Option<&Entry> {
        self.lowest(Entry::is_rule)
    }

    /// The adaptive rule (every rule but `static`, default or tuned) with
    /// the lowest mean score; ties go to the first in row order.
    pub(crate) fn best_adaptive_rule(&self) -> Option<&Entry> {
        self.lowest(Entry::is_adaptive_rule)
    }

    /// The entry among those `keep` accepts with the lowest mean score,
    /// the first in row order on ties.
    fn lowest(&self, keep: fn(&Entry) -> bool) -> Option<&Entry> {
        self.entries
            .iter()
            .filter(|e| keep(e))
            .fold(None, |best: Option<&Entry>, e| match best {
                Some(b) if b.score.mean <= e.score.mean => Some(b),
                _ => Some(e),
            })
    }

    /// The agent's mean score over the best rule's.
    pub(crate) fn agent_over_best_rule(&self) -> Option<f64> {
        Some(self.agent()?.score.mean / self.best_rule()?.score.mean)
    }

    /// In how many seeds the agent scores at most the best rule (by mean)
    /// does on the same seed, and of how many seeds both ran: how firm
    /// the mean's verdict is.
    pub(crate) fn agent_seeds_at_most_best_rule(&self) -> Option<(usize, usize)> {
        let best = self.best_rule()?;
        let (mut at_most, mut paired) = (0, 0);
        for &(seed, score) in &self.agent()?.seed_scores {
            if let Some(&(_, rule)) = best.seed_scores.iter().find(|(s, _)| *s == seed) {
                paired += 1;
                at_most += usize::from(score <= rule);
            }
        }
        Some((at_most, paired))
    }

    /// The agent's mean score over the best adaptive rule's.
    pub(crate) fn agent_over_best_adaptive_rule(&self) -> Option<f64> {
        Some(self.agent()?.score.mean / self.best_adaptive_rule()?.score.mean)
    }

    /// The agent's mean score over the oracle's.
    pub(crate) fn agent_over_oracle(&self) -> Option<f64> {
        Some(self.agent()?.score.mean / self.oracle()?.score.mean)
    }
}

/// Groups rows (in `crossval.csv` order) into cases.
pub fn cases(rows: &[CrossvalRow]) -> Vec<Case> {
    let same_case = |a: &CrossvalRow, b: &CrossvalRow| {
        a.fold == b.fold && a.test_trace == b.test_trace && a.peak_rps == b.peak_rps
    };
    let mut out: Vec<Case> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let r = &rows[i];
        let n = rows[i..]
            .iter()
            .take_while(|o| same_case(o, r) && o.policy == r.policy && o.params == r.params)
            .count();
        let group = &rows[i..i + n];
        let mean =
            |f: fn(&CrossvalRow) -> f64| Summary::of(&group.iter().map(f).collect::<Vec<_>>()).mean;
        let entry = Entry {
            policy: r.policy.clone(),
            params: r.params.clone(),
            score: Summary::of(&group.iter().map(|g| g.score_usd).collect::<Vec<_>>()),
            seed_scores: group.iter().map(|g| (g.seed, g.score_usd)).collect(),
            cost_mean: mean(|g| g.cost_usd),
            penalty_mean: mean(|g| g.penalty_usd),
            violation_rate_mean: mean(|g| g.violation_rate),
            regret_mean: mean(|g| g.regret_usd),
        };
        let new_case = i == 0 || !same_case(&rows[i - 1], r);
        if new_case {
            out.push(Case {
                fold: r.fold,
                test_trace: r.test_trace.clone(),
                peak_rps: r.peak_rps,
                entries: Vec::new(),
            });
        }
        // invariant: a case was pushed for the first row
        out.last_mut()
            .expect("a case per row group")
            .entries
            .push(entry);
        i += n;
    }
    out
}

/// `2000 req/s`, or `as configured`.
pub fn peak_label(peak: Option<f64>) -> String {
    peak.map_or_else(|| "as configured".into(), |p| format!("{p} req/s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(policy: &str, params: &str, seed: u64, score: f64) -> CrossvalRow {
        CrossvalRow {
            fold: 1,
            test_trace: "t".into(),
            peak_rps: Some(100.0),
            policy: policy.into(),
            params: params.into(),
            seed,
            score_usd: score,
            cost_usd: score,
            penalty_usd: 0.0,
            violation_rate: 0.0,
            regret_usd: 0.0,
            drops: 0.0,
            mean_vms: 1.0,
        }
    }

    #[test]
    fn the_best_rule_excludes_the_agent_and_the_oracle() {
        let rows = vec![
            row("qlearning", "trained", 1, 3.0),
            row("qlearning", "trained", 2, 5.0),
            row("hpa", "default", 1, 8.0),
            row("hpa", "default", 2, 8.0),
            row("hpa", "tuned", 1, 6.0),
            row("hpa", "tuned", 2, 6.0),
            row("oracle", "clairvoyant", 1, 2.0),
            row("oracle", "clairvoyant", 2, 2.0),
        ];
        let c = cases(&rows);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].entries.len(), 4);
        assert_eq!(c[0].best_rule().unwrap().label(), "hpa (tuned)");
        assert_eq!(c[0].agent_over_best_rule(), Some(4.0 / 6.0));
        assert_eq!(c[0].agent_over_oracle(), Some(2.0));
        // Without a `static` entry, the adaptive rules are all the rules.
        assert_eq!(c[0].best_adaptive_rule(), c[0].best_rule());
    }

    #[test]
    fn the_best_adaptive_rule_excludes_static() {
        let rows = vec![
            row("qlearning", "trained", 1, 5.0),
            row("static", "tuned", 1, 4.0),
            row("static", "peak", 1, 4.5),
            row("step", "default", 1, 9.0),
            row("step", "tuned", 1, 6.0),
            row("oracle", "clairvoyant", 1, 2.0),
        ];
        let c = &cases(&rows)[0];
        assert_eq!(c.best_rule().unwrap().label(), "static (tuned)");
        assert_eq!(c.agent_over_best_rule(), Some(5.0 / 4.0));
        assert_eq!(c.best_adaptive_rule().unwrap().label(), "step (tuned)");
        assert_eq!(c.agent_over_best_adaptive_rule(), Some(5.0 / 6.0));
    }

    #[test]
    fn seeds_are_counted_against_the_best_rule_on_the_same_seed() {
        // The agent wins on average (4 against 5): on seed 1, ties on seed
        // 4 (at most counts ties) and loses on seed 2; the best rule's rows
        // come in another seed order; seed 3 has no rule run to pair with.
        let rows = vec![
            row("qlearning", "trained", 1, 1.0),
            row("qlearning", "trained", 2, 6.0),
            row("qlearning", "trained", 3, 5.0),
            row("qlearning", "trained", 4, 4.0),
            row("hpa", "tuned", 4, 4.0),
            row("hpa", "tuned", 2, 5.0),
            row("hpa", "tuned", 1, 6.0),
            row("hpa", "default", 1, 9.0),
        ];
        let c = &cases(&rows)[0];
        assert_eq!(c.best_rule().unwrap().label(), "hpa (tuned)");
        assert_eq!(c.agent_seeds_at_most_best_rule(), Some((2, 3)));
        let no_rule = &cases(&rows[..4])[0];
        assert_eq!(no_rule.agent_seeds_at_most_best_rule(), None);
    }
}
