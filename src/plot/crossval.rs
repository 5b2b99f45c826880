//! The cross-validation figure: on each fold's held-out trace, every
//! policy's mean score divided by the oracle's, on a log axis, one panel
//! per peak.
//!
//! A marker per policy and parameter set, side by side within each fold:
//! the agent as a large diamond, each rule in its colour (filled: tuned on
//! the fold's training traces; hollow: its configured defaults), `static`
//! at the peak as a grey square. The oracle is the line at 1×; lower is
//! better, so a reader sees at a glance who wins where.

use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{draw_legend, fit, frame, render, Figure, LegendEntry, Swatch};
use super::geometry::log_ticks;
use super::style::{policy_colour, text, GRID, INK, LABEL_SIZE, TICK_SIZE};
use super::Format;
use crate::layout::{peak_label, Case};

/// The figure's data: the cases of one cross-validation, in row order.
struct CrossvalFigure<'a> {
    cases: &'a [Case],
    seeds: usize,
    /// The in-sample control (`crossval.in_sample`): each fold tested on
    /// the trace it trained on, not a held-out one.
    in_sample: bool,
}

/// `3.2×`: a ratio for an axis label.
fn ratio_tick(log10: f64) -> String {
    let r = 10f64.powf(log10);
    if !r.is_finite() {
        return String::new();
    }
    if r >= 10.0 {
        format!("{r:.0}×")
    } else if r >= 1.0 {
        format!("{}×", super::style::tick((r * 10.0).round() / 10.0))
    } else {
        format!("{}×", super::style::tick((r * 100.0).round() / 100.0))
    }
}

/// A name in one line of at most `chars` characters, or two broken at the
/// `-` or `_` nearest the middle (each cut to fit).
fn label_lines(name: &str, chars: usize) -> Vec<String> {
    if name.chars().count() <= chars {
        return vec![name.to_string()];
    }
    let middle = name.len() / 2;
    let split = name
        .char_indices()
        .filter(|&(_, c)| c == '-' || c == '_')
        .map(|(i, _)| i + 1)
        .min_by_key(|&i| i.abs_diff(middle));
    match split {
        Some(i) => vec![fit(&name[..i], chars), fit(&name[i..], chars)],
        None => vec![fit(name, chars)],
    }
}

/// Ratio of an entry to the oracle, as log10, when both are positive.
fn log_ratio(score: f64, oracle: f64) -> Option<f64> {
    let r = score / oracle;
    (r.is_finite() && r > 0.0).then(|| r.log10())
}

impl Figure for CrossvalFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let title = format!(
            "{} score / oracle's (log; lower is better; mean of {} seed{})",
            if self.in_sample {
                "In-sample"
            } else {
                "Held-out"
            },
            self.seeds,
            if self.seeds == 1 { "" } else { "s" }
        );
        let (plot, legend) = frame(root, &title, true)?;
        let mut peaks: Vec<Option<f64>> = Vec::new();
        for c in self.cases {
            if !peaks.contains(&c.peak_rps) {
                peaks.push(c.peak_rps);
            }
        }
        let panels = plot.split_evenly((peaks.len().max(1), 1));
        for (panel, peak) in panels.iter().zip(&peaks) {
            let cases: Vec<&Case> = self.cases.iter().filter(|c| c.peak_rps == *peak).collect();
            draw_panel(root, panel, &cases, *peak)?;
        }
        let mut entries = vec![LegendEntry::new(
            "agent",
            policy_colour("qlearning"),
            Swatch::Point,
        )];
        let mut seen: Vec<&str> = Vec::new();
        for e in self.cases.iter().flat_map(|c| &c.entries) {
            if e.params == "default" && !seen.contains(&e.policy.as_str()) {
                seen.push(&e.policy);
                entries.push(LegendEntry::new(
                    e.policy.clone(),
                    policy_colour(&e.policy),
                    Swatch::Point,
                ));
            }
        }
        entries.push(LegendEntry::new(
            "static (peak)",
            policy_colour("static"),
            Swatch::Fill,
        ));
        entries.push(LegendEntry::new("oracle = 1×", INK, Swatch::Dashed));
        let y = draw_legend(&legend, 24, Some("policy"), &entries)?;
        let note = text(TICK_SIZE - 2.0).pos(Pos::new(HPos::Left, VPos::Center));
        legend.draw(&Text::new("filled: tuned", (10, y + 8), note.clone()))?;
        legend.draw(&Text::new("hollow: defaults", (10, y + 32), note))?;
        Ok(())
    }
}

/// One panel; markers and fold names are drawn on `root` in pixels.
fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    cases: &[&Case],
    peak: Option<f64>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (r_lo, r_hi) = ratio_range(cases);
    let n = cases.len().max(1) as f64;
    let ticks = log_ticks(r_lo, r_hi, 4);
    let mut chart = ChartBuilder::on(area)
        .margin_top(6)
        .margin_right(16)
        .margin_left(8)
        .x_label_area_size(44)
        .y_label_area_size(78)
        .caption(format!("at {}", peak_label(peak)), text(LABEL_SIZE))
        .build_cartesian_2d(
            -0.5..n - 0.5,
            (r_lo..r_hi).log_scale().with_key_points(ticks),
        )?;
    let fmt = |v: &f64| ratio_tick(v.log10());
    let none = |_: &f64| String::new();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(GRID.stroke_width(1))
        .axis_style(INK.stroke_width(1))
        .label_style(text(TICK_SIZE))
        .y_labels(6)
        .y_label_formatter(&fmt)
        .x_labels(0)
        .x_label_formatter(&none)
        .draw()?;
    chart.draw_series(DashedLineSeries::new(
        vec![(-0.5, 1.0), (n - 0.5, 1.0)],
        6,
        4,
        INK.stroke_width(1),
    ))?;
    for (i, case) in cases.iter().enumerate() {
        let x0 = i as f64;
        let oracle = case.oracle().map_or(f64::NAN, |o| o.score.mean);
        let shown: Vec<_> = case
            .entries
            .iter()
            .filter(|e| e.policy != "oracle")
            .collect();
        let width = 0.72;
        let step = width / shown.len().max(1) as f64;
        for (j, e) in shown.iter().enumerate() {
            let Some(y) = log_ratio(e.score.mean, oracle) else {
                continue;
            };
            let x = x0 - width / 2.0 + step * (j as f64 + 0.5);
            let c = policy_colour(&e.policy);
            let (px, py) = chart.backend_coord(&(x, 10f64.powf(y)));
            draw_marker(root, (px, py), &e.params, c)?;
        }
        // The test trace's name under its group, cut to the group's width.
        let (px, py) = chart.backend_coord(&(x0, r_lo));
        let (right, _) = chart.backend_coord(&(x0 + 1.0, r_lo));
        let chars = ((right - px) as f64 / (0.56 * (TICK_SIZE - 3.0))).max(4.0) as usize;
        for (k, line) in label_lines(&case.test_trace, chars).iter().enumerate() {
            root.draw(&Text::new(
                line.clone(),
                (px, py + 5 + 17 * k as i32),
                text(TICK_SIZE - 3.0).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
    }
    Ok(())
}

/// The ratio axis of a panel, from the lowest to the highest score over
/// the oracle's (1× always included), padded.
fn ratio_range(cases: &[&Case]) -> (f64, f64) {
    let points: Vec<f64> = cases
        .iter()
        .flat_map(|c| {
            let oracle = c.oracle().map_or(f64::NAN, |o| o.score.mean);
            c.entries
                .iter()
                .filter_map(move |e| log_ratio(e.score.mean, oracle))
        })
        .collect();
    let lo = points.iter().copied().fold(0.0f64, f64::min);
    let hi = points.iter().copied().fold(0.0f64, f64::max);
    let pad = 0.06 * (hi - lo).max(0.5);
    // The axis is the ratio on a log scale, ticked at round ratios (1×,
    // 2×, 5×, 10×…); positions below are computed as log10 and drawn as
    // ratios.
    (10f64.powf(lo - pad), 10f64.powf(hi + pad))
}

/// The marker of an entry at pixel `(px, py)`, by its parameters: a
/// diamond for the agent, a square for `static` at the peak, a hollow
/// circle for defaults, a filled one for tuned.
fn draw_marker<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (px, py): (i32, i32),
    params: &str,
    c: RGBColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let at = |dx: i32, dy: i32| (px + dx, py + dy);
    match params {
        "trained" => {
            let d = 9;
            let diamond = vec![at(0, -d), at(d, 0), at(0, d), at(-d, 0)];
            root.draw(&Polygon::new(diamond, c.filled()))?;
        }
        "peak" => {
            root.draw(&Rectangle::new([at(-6, -6), at(6, 6)], c.filled()))?;
        }
        "default" => {
            root.draw(&Circle::new((px, py), 6, c.stroke_width(2)))?;
        }
        _ => {
            root.draw(&Circle::new((px, py), 6, c.filled()))?;
        }
    }
    Ok(())
}

/// Draws the figure of `cases` (of the in-sample control if `in_sample`)
/// into `STEM.png` / `STEM.svg`.
///
/// # Errors
/// A drawing or I/O error.
pub fn crossval(
    cases: &[Case],
    seeds: usize,
    in_sample: bool,
    stem: &Path,
    format: Format,
) -> Result<Vec<PathBuf>> {
    render(
        &CrossvalFigure {
            cases,
            seeds,
            in_sample,
        },
        stem,
        format,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_break_at_a_dash_near_the_middle() {
        assert_eq!(label_lines("nasa-jul95", 12), ["nasa-jul95"]);
        assert_eq!(
            label_lines("azure-llm-code-2023", 12),
            ["azure-llm-", "code-2023"]
        );
        assert_eq!(label_lines("abcdefghijklmnop", 8), ["abcdefg…"]);
    }

    #[test]
    fn ratio_ticks_read_as_multiples() {
        assert_eq!(ratio_tick(0.0), "1×");
        assert_eq!(ratio_tick(1.0), "10×");
        assert_eq!(ratio_tick(0.5), "3.2×");
        assert_eq!(ratio_tick(2f64.log10()), "2×");
        assert_eq!(ratio_tick(-std::f64::consts::LOG10_2), "0.5×");
    }
}
