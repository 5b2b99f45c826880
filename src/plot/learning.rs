//! Figure 4: learning curves from `learning_curve.csv`.
//!
//! The score of each training episode (−reward, USD; lower is better)
//! against the episode, one line per training trace (episode `e` replays
//! trace `e mod n`, so traces are not mixed in one line). With several
//! training runs (seeds) the line is the mean over seeds and a shaded band
//! spans their minimum to maximum. ε, the exploration rate, is drawn in a
//! panel below. When the scores span a decade or more (the first,
//! exploring episodes cost many times the converged ones), the score axis
//! is logarithmic so that convergence stays visible.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{
    draw_legend, draw_mesh, draw_mesh_with, finite_range, frame, linear_chart, padded, render,
    Figure, LegendEntry, Plot, Swatch,
};
use super::geometry::log_ticks;
use super::read::CurveRecord;
use super::style::{palette, policy_colour, tint, INK};
use super::Format;

/// The learning curve of one training run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CurveSet {
    /// A name for the run (its folder, e.g. `seed-3`).
    pub label: String,
    /// The rows of its `learning_curve.csv`.
    pub rows: Vec<CurveRecord>,
}

/// Per episode: (mean, min, max) of a value over the runs that have it.
type Band = Vec<(f64, f64, f64, f64)>;

fn band(sets: &[CurveSet], trace: Option<&str>, value: impl Fn(&CurveRecord) -> f64) -> Band {
    let mut by_episode: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for set in sets {
        for row in &set.rows {
            if trace.is_none_or(|t| t == row.trace) {
                let v = value(row);
                if v.is_finite() {
                    by_episode.entry(row.episode).or_default().push(v);
                }
            }
        }
    }
    by_episode
        .into_iter()
        .map(|(e, vs)| {
            let mean = vs.iter().sum::<f64>() / vs.len() as f64;
            let lo = vs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = vs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (f64::from(e), mean, lo, hi)
        })
        .collect()
}

struct LearningFigure<'a> {
    sets: &'a [CurveSet],
}

impl Figure for LearningFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let n = self.sets.len();
        let title = if n > 1 {
            format!("Learning curve: score per training episode ({n} seeds)")
        } else {
            "Learning curve: score per training episode".to_string()
        };
        let (plot, legend) = frame(root, &title, true)?;
        let split = (plot.dim_in_pixel().1 as f64 * 0.68) as u32;
        let (upper, lower) = plot.split_vertically(split);

        let bands = trace_bands(self.sets);
        let epsilon = band(self.sets, None, |r| r.epsilon);

        let (x, plot) = score_plot(&upper, &bands)?;
        draw_bands(&plot, &bands, n > 1)?;

        let mut chart = linear_chart(&lower, x, (0.0, 1.05), 62)?;
        draw_mesh(&mut chart, "training episode", "ε", 3)?;
        Plot::of(&chart, x, (0.0, 1.05), false).line(
            epsilon.iter().map(|p| (p.0, Some(p.1))),
            INK,
            2,
        )?;

        let (heading, entries) = legend_entries(&bands, n);
        draw_legend(&legend, 24, Some(&heading), &entries)?;
        draw_legend(
            &legend,
            split as i32 + 24,
            None,
            &[LegendEntry::new("exploration ε", INK, Swatch::Line(2))],
        )?;
        Ok(())
    }
}

/// One score band per trace (in first-seen order), each in its colour.
fn trace_bands(sets: &[CurveSet]) -> Vec<(&str, RGBColor, Band)> {
    let mut traces: Vec<&str> = Vec::new();
    for row in sets.iter().flat_map(|s| &s.rows) {
        if !traces.contains(&row.trace.as_str()) {
            traces.push(&row.trace);
        }
    }
    traces
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let colour = if traces.len() == 1 {
                policy_colour("qlearning")
            } else {
                palette(i)
            };
            (*t, colour, band(sets, Some(t), |r| -r.reward))
        })
        .collect()
}

/// The score chart in `area`: a log axis when the scores span 8× or more
/// (early exploration costs many times the converged score), linear
/// otherwise. Returns the x range and the plot.
fn score_plot<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    bands: &[(&str, RGBColor, Band)],
) -> Result<((f64, f64), Plot<DB>)>
where
    DB::ErrorType: 'static,
{
    let x = padded(
        finite_range(bands.iter().flat_map(|b| b.2.iter().map(|p| p.0))),
        true,
    );
    let y = padded(
        finite_range(
            bands
                .iter()
                .flat_map(|b| b.2.iter().flat_map(|p| [p.2, p.3])),
        ),
        false,
    );
    // Early exploration episodes cost many times the converged score:
    // a log axis keeps both readable when the scores span a decade.
    let raw = finite_range(
        bands
            .iter()
            .flat_map(|b| b.2.iter().flat_map(|p| [p.2, p.3])),
    );
    let log = raw.is_some_and(|(lo, hi)| lo > 0.0 && hi / lo >= 8.0);
    let plot = if log {
        // invariant: `log` holds only when `raw` is Some
        let (lo, hi) = raw.unwrap_or((1.0, 10.0));
        let (lo, hi) = (lo / 1.25, hi * 1.25);
        let mut chart = ChartBuilder::on(area)
            .margin_top(8)
            .margin_right(16)
            .margin_left(8)
            .x_label_area_size(8)
            .y_label_area_size(92)
            .build_cartesian_2d(
                x.0..x.1,
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi, 4)),
            )?;
        draw_mesh_with(&mut chart, "", "score (USD, log scale)", 5, true)?;
        Plot::of(&chart, x, (lo, hi), true)
    } else {
        let mut chart = linear_chart(area, x, y, 8)?;
        draw_mesh(&mut chart, "", "score (USD)", 5)?;
        Plot::of(&chart, x, y, false)
    };
    Ok((x, plot))
}

/// The min–max bands (with several seeds) under the mean lines, with dots
/// when there are few episodes.
fn draw_bands<DB: DrawingBackend>(
    plot: &Plot<DB>,
    bands: &[(&str, RGBColor, Band)],
    several: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let few = bands.iter().all(|b| b.2.len() <= 60);
    for (_, colour, points) in bands {
        if several {
            let mut polygon: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.3)).collect();
            polygon.extend(points.iter().rev().map(|p| (p.0, p.2)));
            plot.polygon(&polygon, tint(*colour, 0.7).filled())?;
        }
    }
    for (_, colour, points) in bands {
        let line: Vec<(f64, Option<f64>)> = points.iter().map(|p| (p.0, Some(p.1))).collect();
        plot.line(line.iter().copied(), *colour, 2)?;
        if few {
            for p in points {
                plot.dot((p.0, p.1), 3, colour.filled())?;
            }
        }
    }
    Ok(())
}

/// The legend's heading and entries for `bands` over `n` seeds.
fn legend_entries(bands: &[(&str, RGBColor, Band)], n: usize) -> (String, Vec<LegendEntry>) {
    let mut entries: Vec<LegendEntry> = bands
        .iter()
        .map(|(t, c, _)| {
            let label = if bands.len() == 1 && n > 1 {
                "mean".to_string()
            } else {
                (*t).to_string()
            };
            LegendEntry::new(label, *c, Swatch::Line(2))
        })
        .collect();
    if n > 1 {
        let c = bands.first().map_or(INK, |b| b.1);
        entries.push(LegendEntry::new("min–max", tint(c, 0.7), Swatch::Fill));
    }
    let heading = match (bands.len() > 1, n > 1) {
        (true, true) => format!("trace ({n} seeds)"),
        (true, false) => "trace".to_string(),
        (false, true) => format!("score ({n} seeds)"),
        (false, false) => "score".to_string(),
    };
    (heading, entries)
}

/// Figure 4: the score (−reward, USD) per training episode, with a min–max
/// band over `sets` when there are several, and ε below. Writes
/// `STEM.png` / `STEM.svg`.
///
/// # Errors
/// A drawing or I/O error.
pub(crate) fn learning_curves(
    sets: &[CurveSet],
    stem: &Path,
    format: Format,
) -> Result<Vec<PathBuf>> {
    render(&LearningFigure { sets }, stem, format)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(seed: u64, traces: &[&str]) -> CurveSet {
        let rows = (0..40u32)
            .map(|e| {
                let epsilon = 0.95f64.powi(e as i32).max(0.02);
                CurveRecord {
                    episode: e,
                    trace: traces[e as usize % traces.len()].to_string(),
                    epsilon,
                    reward: -(40.0 + 30.0 * epsilon + (seed as f64) * (e % 3) as f64),
                    cost_usd: 30.0,
                    penalty_usd: 10.0,
                    violations: 100.0,
                    violation_rate: 0.01,
                    mean_vms: 4.0,
                }
            })
            .collect();
        CurveSet {
            label: format!("seed-{seed}"),
            rows,
        }
    }

    #[test]
    fn bands_span_the_seeds() {
        let sets = [set(1, &["a"]), set(2, &["a"])];
        let b = band(&sets, Some("a"), |r| -r.reward);
        assert_eq!(b.len(), 40);
        let (e, mean, lo, hi) = b[2];
        assert_eq!(e, 2.0);
        assert!(lo < mean && mean < hi);
        assert_eq!(hi - lo, 2.0);
    }

    #[test]
    fn exploring_episodes_do_not_flatten_the_converged_curve_issue_18() {
        // Scores from 2000 down to 20: a log axis, and the band and line
        // stay in their box.
        let mut sets = [set(1, &["a"]), set(2, &["a"])];
        for (k, s) in sets.iter_mut().enumerate() {
            for r in &mut s.rows {
                r.reward = -(20.0 + 2000.0 * r.epsilon.powi(4) + k as f64);
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let c = policy_colour("qlearning");
        let inside = crate::plot::canvas::tests::assert_series_inside(
            &LearningFigure { sets: &sets },
            &dir.path().join("lc"),
            &[c, tint(c, 0.7)],
        );
        assert!(inside > 500);
        let written = learning_curves(&sets, &dir.path().join("lc2"), Format::Svg).unwrap();
        let svg = std::fs::read_to_string(&written[0]).unwrap();
        assert!(svg.contains("log scale"));
    }

    #[test]
    fn one_or_several_runs_render() {
        let dir = tempfile::tempdir().unwrap();
        let one =
            learning_curves(&[set(1, &["a"])], &dir.path().join("one"), Format::Both).unwrap();
        let many = learning_curves(
            &[
                set(1, &["day1", "day2"]),
                set(2, &["day1", "day2"]),
                set(3, &["day1", "day2"]),
            ],
            &dir.path().join("many"),
            Format::Both,
        )
        .unwrap();
        for path in one.iter().chain(&many) {
            crate::plot::tests_support::assert_image(path);
        }
        learning_curves(&[], &dir.path().join("none"), Format::Png).unwrap();
    }
}
