//! Figure 5: score against SLO violation rate, one point per policy (the
//! Pareto view of a comparison).
//!
//! Each point is the mean over seeds of the runs' score (USD: VM cost plus
//! SLO and drop penalties, `score_usd`, the number `summary.md` ranks by,
//! lower is better) and violation rate (%) on one trace, from
//! `summary.csv`; the whiskers are the 95 % confidence intervals of both
//! means (Student t, from [`crate::stats::Summary`]), the rate's cut at 0.
//! The policy `summary.md` sets in bold (the lowest mean score but for the
//! oracle's, which is a bound) is labelled "(best)". The
//! dashed line joins the non-dominated policies (no other has both a lower
//! score and fewer violations).

use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{
    draw_legend, draw_mesh, finite_range, frame, linear_chart, padded, render, Figure, LegendEntry,
    Plot, Swatch,
};
use super::geometry::PlotBox;
use super::read::SummaryRecord;
use super::style::{policy_colour, text, ANNOTATION_SIZE};
use super::Format;
use crate::stats::Summary;

/// One policy's point: means and CI half-widths.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParetoPoint {
    /// Policy name.
    pub policy: String,
    /// Runs (seeds) averaged.
    pub runs: usize,
    /// Violation rate, percent.
    pub violation_pct: Summary,
    /// Score (VM cost + penalties), USD.
    pub score_usd: Summary,
}

/// The points of `rows` (one trace), one per policy in order of first
/// appearance.
pub(crate) fn points(rows: &[SummaryRecord]) -> Vec<ParetoPoint> {
    let mut policies: Vec<&str> = Vec::new();
    for r in rows {
        if !policies.contains(&r.policy.as_str()) {
            policies.push(&r.policy);
        }
    }
    policies
        .into_iter()
        .map(|p| {
            let group: Vec<&SummaryRecord> = rows.iter().filter(|r| r.policy == p).collect();
            let rate: Vec<f64> = group.iter().map(|r| 100.0 * r.violation_rate).collect();
            let score: Vec<f64> = group.iter().map(|r| r.score_usd).collect();
            ParetoPoint {
                policy: p.to_string(),
                runs: group.len(),
                violation_pct: Summary::of(&rate),
                score_usd: Summary::of(&score),
            }
        })
        .collect()
}

/// The non-dominated points, by increasing violation rate.
pub(crate) fn front(points: &[ParetoPoint]) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.violation_pct.mean, p.score_usd.mean))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for p in pts {
        if out.last().is_none_or(|last| p.1 < last.1) {
            out.push(p);
        }
    }
    out
}

struct ParetoFigure<'a> {
    points: Vec<ParetoPoint>,
    trace: &'a str,
}

impl Figure for ParetoFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let runs = self.points.iter().map(|p| p.runs).max().unwrap_or(0);
        let title = format!(
            "Score vs SLO violations on {} (mean ± 95 % CI, {runs} seed{})",
            self.trace,
            if runs == 1 { "" } else { "s" }
        );
        let (plot, legend) = frame(root, &title, true)?;
        let (x, y) = data_ranges(&self.points);
        let mut chart = linear_chart(&plot, x, y, 62)?;
        draw_mesh(
            &mut chart,
            "SLO violation rate (% of requests)",
            "score (USD) = VM cost + penalties",
            6,
        )?;
        let plot = Plot::of(&chart, x, y, false);
        let front = front(&self.points);
        if front.len() > 1 {
            plot.dashed(
                front.into_iter().map(|(x, y)| (x, Some(y))),
                RGBColor(150, 150, 150),
                2,
                (8.0, 5.0),
            )?;
        }
        let best = best_policy(&self.points);
        // Label boxes must avoid every marker and the labels placed before.
        let mut placed: Vec<(i32, i32, i32, i32)> = self
            .points
            .iter()
            .filter(|p| p.violation_pct.mean.is_finite() && p.score_usd.mean.is_finite())
            .map(|p| {
                let (px, py) = chart.backend_coord(&(p.violation_pct.mean, p.score_usd.mean));
                (px - 9, py - 9, px + 9, py + 9)
            })
            .collect();
        for p in &self.points {
            let (mx, my) = (p.violation_pct.mean, p.score_usd.mean);
            if !(mx.is_finite() && my.is_finite()) {
                continue;
            }
            draw_marker(&plot, p)?;
            // The name beside the point, moved if it would cover another.
            let label = if best.as_deref() == Some(p.policy.as_str()) {
                format!("{} (best)", p.policy)
            } else {
                p.policy.clone()
            };
            let at = chart.backend_coord(&(mx, my));
            draw_label(root, &plot.bx, at, label, &mut placed)?;
        }
        let mut entries: Vec<LegendEntry> = self
            .points
            .iter()
            .map(|p| LegendEntry::new(p.policy.clone(), policy_colour(&p.policy), Swatch::Point))
            .collect();
        entries.push(LegendEntry::new(
            "Pareto front",
            RGBColor(150, 150, 150),
            Swatch::Dashed,
        ));
        draw_legend(&legend, 24, Some("policy"), &entries)?;
        Ok(())
    }
}

/// The x (violation %) and y (score) ranges the points and their
/// whiskers need, with room on the right for the names.
fn data_ranges(points: &[ParetoPoint]) -> ((f64, f64), (f64, f64)) {
    let ends = |s: &Summary| [s.mean - s.ci95, s.mean + s.ci95];
    // A rate is never negative: its whisker stops at 0.
    let x = padded(
        finite_range(
            points
                .iter()
                .flat_map(|p| ends(&p.violation_pct).map(|v| v.max(0.0))),
        ),
        false,
    );
    let y = padded(
        finite_range(points.iter().flat_map(|p| ends(&p.score_usd))),
        false,
    );
    // Room on the right of the points for their names.
    let x = (x.0, x.1 + 0.12 * (x.1 - x.0));
    (x, y)
}

/// A point's marker with its 95 % CI whiskers (a rate's stops at 0).
fn draw_marker<DB: DrawingBackend>(plot: &Plot<DB>, p: &ParetoPoint) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let c = policy_colour(&p.policy);
    let (mx, my) = (p.violation_pct.mean, p.score_usd.mean);
    let (dx, dy) = (p.violation_pct.ci95, p.score_usd.ci95);
    if dx > 0.0 && dx.is_finite() {
        plot.line([((mx - dx).max(0.0), Some(my)), (mx + dx, Some(my))], c, 2)?;
    }
    if dy > 0.0 && dy.is_finite() {
        plot.line([(mx, Some(my - dy)), (mx, Some(my + dy))], c, 2)?;
    }
    plot.dot((mx, my), 7, c.filled())
}

/// `label` for the marker at pixel `(px, py)`, placed clear of the boxes
/// `placed` (its own box added), with a leader when away from the marker.
fn draw_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    bx: &PlotBox,
    (px, py): (i32, i32),
    label: String,
    placed: &mut Vec<(i32, i32, i32, i32)>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let w = root
        .estimate_text_size(&label, &text(ANNOTATION_SIZE))
        .map_or(
            (0.62 * ANNOTATION_SIZE * label.chars().count() as f64) as i32,
            |d| d.0 as i32,
        );
    let h = ANNOTATION_SIZE as i32;
    let (k, (lx, ly)) = place_label((px, py), (w, h), bx, placed);
    placed.push((lx, ly, lx + w, ly + h));
    if k >= 8 {
        // Away from its marker: a leader to it.
        draw_leader(root, (px, py), (lx, ly), (w, h))?;
    }
    root.draw(&Text::new(
        label,
        (lx, ly),
        text(ANNOTATION_SIZE).pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    Ok(())
}

/// The policy `summary.md` bolds: the lowest mean score among the
/// policies other than the oracle (a bound, not a contender), the oracle
/// only when it is alone.
fn best_policy(points: &[ParetoPoint]) -> Option<String> {
    let contenders: Vec<&ParetoPoint> = points
        .iter()
        .filter(|p| p.score_usd.mean.is_finite())
        .collect();
    let others: Vec<&ParetoPoint> = contenders
        .iter()
        .copied()
        .filter(|p| p.policy != "oracle")
        .collect();
    let pool = if others.is_empty() {
        contenders
    } else {
        others
    };
    pool.into_iter()
        .min_by(|a, b| a.score_usd.mean.total_cmp(&b.score_usd.mean))
        .map(|p| p.policy.clone())
}

/// Where a `w`×`h` label of the marker at pixel `(px, py)` goes: beside it
/// first, then ever further out, inside `bx` and clear of the boxes
/// `placed`. Returns the candidate's index (8 and over: away from the
/// marker, needing a leader) and its top-left corner.
fn place_label(
    (px, py): (i32, i32),
    (w, h): (i32, i32),
    bx: &PlotBox,
    placed: &[(i32, i32, i32, i32)],
) -> (usize, (i32, i32)) {
    let mut candidates: Vec<(i32, i32)> = Vec::new();
    for r in [0, 18, 36, 56, 80] {
        candidates.extend([
            (px + 12 + r, py - h - 2 - r / 2),
            (px + 12 + r, py + 4 + r / 2),
            (px - 12 - w - r, py - h - 2 - r / 2),
            (px - 12 - w - r, py + 4 + r / 2),
            (px - w / 2, py - h - 12 - r),
            (px - w / 2, py + 12 + r),
            (px + 12 + r, py - h / 2),
            (px - 12 - w - r, py - h / 2),
        ]);
    }
    let fits = |(x0, y0): (i32, i32)| {
        f64::from(x0) >= bx.left
            && f64::from(x0 + w) <= bx.right
            && f64::from(y0) >= bx.top
            && f64::from(y0 + h) <= bx.bottom
    };
    let overlaps = |(x0, y0): (i32, i32)| {
        placed
            .iter()
            .any(|&(a, b, c2, d)| x0 < c2 && x0 + w > a && y0 < d && y0 + h > b)
    };
    candidates
        .iter()
        .copied()
        .enumerate()
        .find(|&(_, c)| fits(c) && !overlaps(c))
        .unwrap_or((0, candidates[0]))
}

/// A leader from the edge of the marker at `(px, py)` to the nearest point
/// of the `w`×`h` label at `(lx, ly)`.
fn draw_leader<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (px, py): (i32, i32),
    (lx, ly): (i32, i32),
    (w, h): (i32, i32),
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let tx = px.clamp(lx - 2, lx + w + 2);
    let ty = py.clamp(ly - 2, ly + h + 2);
    let (dx, dy) = (f64::from(tx - px), f64::from(ty - py));
    let len = dx.hypot(dy).max(1.0);
    let start = (
        px + (9.0 * dx / len).round() as i32,
        py + (9.0 * dy / len).round() as i32,
    );
    root.draw(&PathElement::new(
        vec![start, (tx, ty)],
        RGBColor(160, 160, 160).stroke_width(1),
    ))?;
    Ok(())
}

/// Figure 5: score (VM cost + penalties, what `summary.md` ranks by)
/// against violation rate for each policy on `trace`,
/// with 95 % CI whiskers over seeds, from the `summary.csv` rows of that
/// trace. Writes `STEM.png` / `STEM.svg`.
///
/// # Errors
/// A drawing or I/O error.
pub(crate) fn pareto(
    rows: &[SummaryRecord],
    trace: &str,
    stem: &Path,
    format: Format,
) -> Result<Vec<PathBuf>> {
    let figure = ParetoFigure {
        points: points(rows),
        trace,
    };
    render(&figure, stem, format)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(policy: &str, seed: u64, cost: f64, rate: f64) -> SummaryRecord {
        SummaryRecord {
            cost_usd: cost,
            penalty_usd: 0.0,
            score_usd: cost,
            requests: 1000.0,
            served: 1000.0,
            violations: rate * 1000.0,
            violation_rate: rate,
            mean_vms: 3.0,
            max_vms: 4,
            vm_hours: 1.0,
            scaling_actions: 2,
            ..crate::metrics::Totals {
                steps: 30,
                ..crate::metrics::Totals::new(60.0)
            }
            .summary(policy, "tiny", seed)
        }
    }

    pub(crate) fn fixture() -> Vec<SummaryRecord> {
        let mut rows = Vec::new();
        for seed in 1..=3 {
            let s = seed as f64;
            rows.push(row("static", seed, 0.30 + 0.01 * s, 0.001 * s));
            rows.push(row("threshold", seed, 0.20 + 0.02 * s, 0.02 + 0.004 * s));
            rows.push(row("oracle", seed, 0.18 + 0.005 * s, 0.002 * s));
            rows.push(row("my-rule", seed, 0.25, 0.05));
        }
        rows
    }

    #[test]
    fn means_and_intervals_match_the_stats_module() {
        let pts = points(&fixture());
        assert_eq!(pts.len(), 4);
        assert_eq!(pts[0].policy, "static");
        assert_eq!(pts[0].runs, 3);
        let expected = Summary::of(&[1.0, 2.0, 3.0].map(|s| 0.30 + 0.01 * s));
        assert_eq!(pts[0].score_usd, expected);
        assert!((pts[0].violation_pct.mean - 0.2).abs() < 1e-12);
        // oracle dominates static on both axes except... the front is
        // sorted by violation rate and strictly falling in cost
        let f = front(&pts);
        assert!(f.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 > w[1].1));
        assert_eq!(f.len(), 2);
    }

    #[test]
    fn the_pareto_figure_renders() {
        let dir = tempfile::tempdir().unwrap();
        let written = pareto(&fixture(), "tiny", &dir.path().join("p"), Format::Both).unwrap();
        for path in &written {
            crate::plot::tests_support::assert_image(path);
        }
        pareto(
            &fixture()[..1],
            "tiny",
            &dir.path().join("one"),
            Format::Png,
        )
        .unwrap();
    }
}
