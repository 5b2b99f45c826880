//! What each command prints when its study is done (stdout; warnings and
//! notes on stderr).

use std::path::Path;

use crate::metrics::SummaryRow;
use crate::study::compare::CompareOutcome;
use crate::study::crossval::CrossvalOutcome;
use crate::study::evaluate::RunOutcome;
use crate::study::reproduce::Event;
use crate::study::sweep::SweepOutcome;
use crate::study::train::TrainOutcome;
use crate::study::tune::{self, TuneOutcome};

/// `run` and `evaluate`.
pub(super) fn run(outcome: &RunOutcome) {
    summary(&outcome.summary);
    say!("wrote {}", outcome.dir.display());
}

fn summary(s: &SummaryRow) {
    say!(
        "{} on {} (seed {}): score ${:.4} = cost ${:.4} + penalty ${:.4}",
        s.policy,
        s.trace,
        s.seed,
        s.score_usd,
        s.cost_usd,
        s.penalty_usd
    );
    say!(
        "  requests {:.0}, SLO violations {:.0} ({:.3}%), drops {:.0}, VMs mean {:.2} max {}, {:.2} VM-hours, {} scaling actions",
        s.requests,
        s.violations,
        100.0 * s.violation_rate,
        s.drops,
        s.mean_vms,
        s.max_vms,
        s.vm_hours,
        s.scaling_actions
    );
    if let (Some(au), Some(ao), Some(tu), Some(to), Some(j)) = (
        s.underprov_accuracy_pct,
        s.overprov_accuracy_pct,
        s.underprov_timeshare_pct,
        s.overprov_timeshare_pct,
        s.jitter_per_h,
    ) {
        say!(
            "  under-provisioned {tu:.1}% of the time (θU {au:.1}%), over-provisioned {to:.1}% (θO {ao:.1}%), jitter {j:.1}/h"
        );
    } else {
        say!("  elasticity metrics undefined: no fleet keeps a step's p95 within cloud.slo_s (μ·slo_s ≤ ln 20), or a step needs over 1,000,000 VMs");
    }
}

/// `train`.
pub(super) fn trained(t: &TrainOutcome) {
    if let (Some(first), Some(last)) = (t.curve.first(), t.curve.last()) {
        say!(
            "trained {} episodes on {} trace(s): score ${:.4} in episode 0, ${:.4} in episode {} ({:.0} steps/s)",
            t.curve.len(),
            t.traces,
            -first.reward,
            -last.reward,
            last.episode,
            t.steps_per_s
        );
    }
    for row in &t.evaluation {
        say!(
            "  test {}: score ${:.4} (cost ${:.4}, penalty ${:.4}, violation rate {:.3}%)",
            row.trace,
            row.score_usd,
            row.cost_usd,
            row.penalty_usd,
            100.0 * row.violation_rate
        );
    }
    say!("wrote {}", t.dir.display());
}

/// `compare`.
pub(super) fn compared(c: &CompareOutcome) {
    say!("{}", c.table);
    say!("wrote {}", c.dir.display());
}

/// `sweep`.
pub(super) fn swept(s: &SweepOutcome, out: &Path) {
    let report = &s.report;
    say!(
        "{} cells ({} combinations x {} seeds{}): ran {}, skipped {} finished, in {:.1} s ({:.1} cells/s)",
        report.cells,
        s.combinations,
        s.seeds,
        s.shard.map_or_else(String::new, |(i, n)| format!(", shard {i}/{n}")),
        report.ran,
        report.skipped,
        s.seconds,
        report.ran as f64 / s.seconds.max(1e-9)
    );
    if report.aggregated {
        say!(
            "wrote {0}/aggregate.csv, {0}/best.md, {0}/summary.csv",
            out.display()
        );
    } else {
        say!(
            "wrote the shard's cells into {}; join the shards with `qscale merge`",
            out.display()
        );
    }
}

/// `crossval`, and `merge` of a cross-validation.
pub(super) fn crossvalidated(c: &CrossvalOutcome, out: &Path) {
    let report = &c.report;
    say!(
        "{} folds: {} tuning cells (ran {}), {} evaluation cells (ran {}), in {:.1} s",
        report.folds,
        report.tune_cells,
        report.tune_ran,
        report.eval_cells,
        report.eval_ran,
        c.seconds
    );
    if let Some(head) = &c.headline {
        say!("{head}");
        say!(
            "wrote {0}/crossval.csv, {0}/summary.md, {0}/tuned.csv, {0}/figures/crossval.png",
            out.display()
        );
    } else {
        say!(
            "wrote the shard's tuning cells into {}; join the shards with `qscale merge`, which \
             runs the evaluation",
            out.display()
        );
    }
}

/// `tune`.
pub(super) fn tuned(t: &TuneOutcome, out: &Path) {
    let report = &t.report;
    let s = &report.search;
    for t in &report.overlap {
        eprintln!(
            "warning: training trace {} is also in experiment.traces or experiment.test_traces: \
             results on it are in-sample",
            t.display()
        );
    }
    say!(
        "tuned {} on {} training trace(s) x {} seed(s): {} combinations ({} of {} in the grid, {} invalid skipped{}), \
         {} cells (ran {}, {} already finished) in {:.1} s",
        s.base.policy.kind,
        s.base.experiment.traces.len(),
        s.base.experiment.seeds.len(),
        s.candidates.len(),
        s.product - s.skipped.len(),
        s.product,
        s.skipped.len(),
        if s.default_index.is_some_and(|d| d + s.skipped.len() >= s.product) {
            ", the defaults added"
        } else {
            ""
        },
        report.sweep.cells,
        report.sweep.ran,
        report.sweep.skipped,
        t.seconds
    );
    best_and_defaults(t);
    say!("reproduce: {}", tune::set_flags(report.best_combination()));
    say!(
        "wrote {0}/tuned.toml, {0}/objective.csv, {0}/aggregate.csv, {0}/best.md, {0}/defaults.csv",
        out.display()
    );
}

/// The best parameters of a tuning against the defaults.
fn best_and_defaults(t: &TuneOutcome) {
    let report = &t.report;
    let o = &report.objectives[report.best()];
    let d = &report.defaults;
    let params: Vec<String> = report
        .best_combination()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    say!("best: {}", params.join(" "));
    say!(
        "  score ${:.4} ± {:.4} vs the defaults' ${:.4} ± {:.4}{} (mean over training traces x seeds, 95 % CI over seeds)",
        o.score_mean,
        o.score_ci95,
        d.score_mean,
        d.score_ci95,
        if d.score_mean > 0.0 {
            format!(
                ": {:.1} % lower",
                100.0 * (d.score_mean - o.score_mean) / d.score_mean
            )
        } else {
            String::new()
        },
    );
    if let Some(i) = report.search.default_index {
        say!(
            "  the defaults rank {} of {}",
            report.rank_of(i),
            report.search.candidates.len()
        );
    }
}

/// What `reproduce` reports as it goes, printed as each command would.
pub(super) fn event(event: Event<'_>) {
    match event {
        Event::Started { stem, file } => say!("== {} ({})", stem, file.display()),
        Event::Tuned { outcome, out } => tuned(outcome, out),
        Event::Compared(outcome) => compared(outcome),
        Event::Swept { outcome, out } => swept(outcome, out),
        Event::Crossvalidated { outcome, out } => crossvalidated(outcome, out),
        Event::Trained(outcome) => trained(outcome),
        Event::Validated(outcome) => validated(outcome),
    }
}

/// `validate`'s outcome: its summary table and folder.
pub(super) fn validated(outcome: &crate::study::validate::ValidateOutcome) {
    say!("{}", outcome.table);
    say!("wrote {}", outcome.dir.display());
}
