//! Heatmaps: a grid of cells coloured by value, shared by the sweep
//! figure (figure 6, here) and the learned-policy map (figure 7,
//! [`super::policy`]).
//!
//! Figure 6 shows the mean score (USD, lower is better) of a sweep's
//! aggregate over its first two swept parameters (`param_` columns): x is
//! the first, y the second. One heatmap is drawn per policy × trace (and
//! per value of any further swept parameter). Values are placed in sorted
//! numeric order when every value of an axis is a number, in order of
//! appearance otherwise; cells the sweep did not cover are left grey. The
//! colour bar (viridis) gives the scale, the lowest-score cell is framed,
//! and small grids carry their values in the cells.

use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{draw_legend, fit, frame, render, Figure, LegendEntry, Swatch};
use super::geometry::nice_ticks;
use super::read::{SweepRecord, SweepTable};
use super::style::{
    self, change_colour, text, text_on, viridis, ANNOTATION_SIZE, INK, LABEL_SIZE, LEGEND_SIZE,
    TICK_SIZE,
};
use super::Format;

/// How an axis of a heatmap is labelled.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AxisLabels {
    /// One label per cell, at its centre.
    Centers(Vec<String>),
    /// One label per boundary between cells (n − 1 labels for n cells).
    Edges(Vec<String>),
}

/// One axis of a heatmap.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    /// Number of cells along the axis.
    pub n: usize,
    /// Tick labels.
    pub labels: AxisLabels,
    /// Axis description (with units).
    pub desc: String,
}

/// How cell values become colours, and the legend that explains them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Colouring {
    /// A continuous value: viridis from the lowest to the highest, with a
    /// colour bar titled `title`; the lowest cell is framed when
    /// `frame_lowest` (a score, where lowest is best).
    Scale {
        /// Colour bar title (with units).
        title: String,
        /// Frame the lowest cell and say so in the legend.
        frame_lowest: bool,
    },
    /// Integer VM changes: blue for scale-in, red for scale-out, one
    /// legend entry per value of `values`.
    Changes {
        /// Every possible change (the action set).
        values: Vec<i32>,
    },
}

/// A heatmap figure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    /// Figure title.
    pub title: String,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis (row 0 at the bottom).
    pub y: Axis,
    /// Values, row-major: `cells[row * x.n + col]`; `None` = not covered.
    pub cells: Vec<Option<f64>>,
    /// Colours and legend.
    pub colouring: Colouring,
}

impl Grid {
    fn cell(&self, col: usize, row: usize) -> Option<f64> {
        self.cells
            .get(row * self.x.n + col)
            .copied()
            .flatten()
            .filter(|v| v.is_finite())
    }

    fn range(&self) -> Option<(f64, f64)> {
        super::canvas::finite_range(self.cells.iter().flatten().copied())
    }

    fn colour(&self, v: f64, range: (f64, f64)) -> RGBColor {
        match &self.colouring {
            Colouring::Scale { .. } => {
                let span = range.1 - range.0;
                viridis(if span > 0.0 {
                    (v - range.0) / span
                } else {
                    0.5
                })
            }
            Colouring::Changes { values } => {
                let max = values.iter().map(|a| a.saturating_abs()).max().unwrap_or(1);
                change_colour(v.round() as i32, max)
            }
        }
    }

    fn annotation(&self, v: f64) -> String {
        match &self.colouring {
            Colouring::Scale { .. } if v.fract() == 0.0 && v.abs() < 1e6 => format!("{v:.0}"),
            Colouring::Scale { .. } => style::value_label(v),
            Colouring::Changes { .. } => signed(v.round() as i32),
        }
    }
}

/// `+2`, `0`, `−1` (with a real minus sign).
pub(crate) fn signed(v: i32) -> String {
    match v.signum() {
        1 => format!("+{v}"),
        -1 => format!("−{}", v.unsigned_abs()),
        _ => "0".to_string(),
    }
}

/// Key points and a label lookup for one axis: at most `max` labels.
fn key_points(axis: &Axis, max: usize) -> Vec<f64> {
    let (count, offset) = match &axis.labels {
        AxisLabels::Centers(_) => (axis.n, 0.5),
        AxisLabels::Edges(l) => (l.len().min(axis.n.saturating_sub(1)), 1.0),
    };
    let stride = count.div_ceil(max.max(1)).max(1);
    (0..count)
        .step_by(stride)
        .map(|i| i as f64 + offset)
        .collect()
}

fn label_at(axis: &Axis, v: f64) -> String {
    match &axis.labels {
        AxisLabels::Centers(l) => l.get((v - 0.5).round().max(0.0) as usize),
        AxisLabels::Edges(l) => l.get((v - 1.0).round().max(0.0) as usize),
    }
    .cloned()
    .unwrap_or_default()
}

impl Figure for Grid {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (plot, legend) = frame(root, &self.title, true)?;
        let (nx, ny) = (self.x.n.max(1), self.y.n.max(1));
        let longest_y = match &self.y.labels {
            AxisLabels::Centers(l) | AxisLabels::Edges(l) => {
                l.iter().map(|s| s.chars().count()).max().unwrap_or(1)
            }
        };
        let y_area = (30 + (0.62 * TICK_SIZE * longest_y.min(12) as f64) as u32).max(70) + 30;
        let mut chart = ChartBuilder::on(&plot)
            .margin_top(8)
            .margin_right(16)
            .margin_left(8)
            .x_label_area_size(62)
            .y_label_area_size(y_area)
            .build_cartesian_2d(0.0..nx as f64, 0.0..ny as f64)?;
        draw_axes(root, &chart, &self.x, &self.y)?;

        let range = self.range().unwrap_or((0.0, 1.0));
        let (px, py) = plot.dim_in_pixel();
        let cell_px = (px as f64 / nx as f64).min(py as f64 / ny as f64);
        let annotate = cell_px >= 2.6 * ANNOTATION_SIZE && nx <= 16 && ny <= 20;
        let missing = RGBColor(245, 245, 245);
        let mut best: Option<(usize, usize, f64)> = None;
        for row in 0..ny {
            for col in 0..nx {
                let (x0, y0) = (col as f64, row as f64);
                let value = self.cell(col, row);
                let fill = value.map_or(missing, |v| self.colour(v, range));
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                    fill.filled(),
                )))?;
                if nx * ny <= 400 {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                        WHITE.stroke_width(1),
                    )))?;
                }
                if let Some(v) = value {
                    if best.is_none_or(|b| v < b.2) {
                        best = Some((col, row, v));
                    }
                    if annotate {
                        chart.draw_series(std::iter::once(Text::new(
                            self.annotation(v),
                            (x0 + 0.5, y0 + 0.5),
                            text(ANNOTATION_SIZE)
                                .color(&text_on(fill))
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                        )))?;
                    }
                }
            }
        }

        match &self.colouring {
            Colouring::Scale {
                title,
                frame_lowest,
            } => {
                if let Some((col, row, _)) = best.filter(|_| *frame_lowest) {
                    frame_cell(root, &chart, col, row)?;
                }
                colour_bar(&legend, title, range, *frame_lowest)?;
            }
            Colouring::Changes { values } => {
                draw_legend(&legend, 24, Some("change"), &change_entries(values))?;
            }
        }
        Ok(())
    }
}

/// A red frame inside cell (`col`, `row`): the lowest value.
fn frame_cell<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    col: usize,
    row: usize,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (x0, y0) = (col as f64, row as f64);
    let (ax, ay) = chart.backend_coord(&(x0, y0 + 1.0));
    let (bx, by) = chart.backend_coord(&(x0 + 1.0, y0));
    let inset = ((bx - ax).min(by - ay) / 12).clamp(1, 5);
    root.draw(&Rectangle::new(
        [(ax + inset, ay + inset), (bx - inset, by - inset)],
        RGBColor(230, 30, 30).stroke_width(3),
    ))?;
    Ok(())
}

/// One legend entry per VM change of `values`, largest first.
fn change_entries(values: &[i32]) -> Vec<LegendEntry> {
    let mut values = values.to_vec();
    values.sort_unstable();
    values.dedup();
    let max = values.iter().map(|a| a.saturating_abs()).max().unwrap_or(1);
    values
        .iter()
        .rev()
        .map(|&a| {
            let label = match a.unsigned_abs() {
                0 => "no change".to_string(),
                1 => format!("{} VM", signed(a)),
                _ => format!("{} VMs", signed(a)),
            };
            LegendEntry::new(label, change_colour(a, max), Swatch::Fill)
        })
        .collect()
}

/// Tick labels at the key points of both axes, the axis descriptions and
/// a frame, drawn by hand (cells are categories, not a numeric scale).
fn draw_axes<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    x: &Axis,
    y: &Axis,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    root.draw(&Rectangle::new(
        [(xr.start - 1, yr.start - 1), (xr.end, yr.end)],
        INK.stroke_width(1),
    ))?;
    let tick_style = text(TICK_SIZE);
    for v in key_points(x, 12) {
        let (px, _) = chart.backend_coord(&(v, 0.0));
        root.draw(&PathElement::new(
            vec![(px, yr.end), (px, yr.end + 5)],
            INK.stroke_width(1),
        ))?;
        root.draw(&Text::new(
            fit(&label_at(x, v), 12),
            (px, yr.end + 9),
            tick_style.clone().pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    for v in key_points(y, 14) {
        let (_, py) = chart.backend_coord(&(0.0, v));
        root.draw(&PathElement::new(
            vec![(xr.start - 6, py), (xr.start - 1, py)],
            INK.stroke_width(1),
        ))?;
        root.draw(&Text::new(
            fit(&label_at(y, v), 12),
            (xr.start - 10, py),
            tick_style.clone().pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    let desc = text(LABEL_SIZE);
    root.draw(&Text::new(
        x.desc.clone(),
        ((xr.start + xr.end) / 2, yr.end + 36),
        desc.clone().pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let y_label_width = match &y.labels {
        AxisLabels::Centers(l) | AxisLabels::Edges(l) => l
            .iter()
            .map(|s| s.chars().count().min(12))
            .max()
            .unwrap_or(1),
    };
    let gap = 18 + (0.62 * TICK_SIZE * y_label_width as f64) as i32;
    root.draw(&Text::new(
        y.desc.clone(),
        (xr.start - gap - 8, (yr.start + yr.end) / 2),
        desc.transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Bottom)),
    ))?;
    Ok(())
}

/// A vertical viridis bar with five value labels, and (with `framed`) a
/// marker legend for the framed best cell.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    (lo, hi): (f64, f64),
    framed: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (_, h) = area.dim_in_pixel();
    let top = 56;
    let bottom = (h as i32 - 110).max(top + 40);
    let (x0, x1) = (14, 40);
    area.draw(&Text::new(
        fit(title, 17),
        (8, 24),
        text(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    let height = (bottom - top).max(1);
    for y in top..bottom {
        let t = f64::from(bottom - y) / f64::from(height);
        area.draw(&Rectangle::new([(x0, y), (x1, y + 1)], viridis(t).filled()))?;
    }
    area.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        INK.stroke_width(1),
    ))?;
    // Round values at their place on the bar (the ends are the lowest and
    // highest cell); a flat range gets its one value in the middle.
    let ticks = if hi > lo {
        nice_ticks(lo, hi, 6)
    } else {
        vec![lo]
    };
    for v in ticks {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        let y = bottom - (t * f64::from(height)).round() as i32;
        area.draw(&PathElement::new(
            vec![(x1, y), (x1 + 6, y)],
            INK.stroke_width(1),
        ))?;
        area.draw(&Text::new(
            style::tick(v),
            (x1 + 10, y),
            text(TICK_SIZE).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    if framed {
        draw_legend(
            area,
            bottom + 40,
            None,
            &[LegendEntry::new(
                "lowest",
                RGBColor(230, 30, 30),
                Swatch::Line(3),
            )],
        )?;
    }
    Ok(())
}

/// Draws a heatmap into `STEM.png` / `STEM.svg`.
///
/// # Errors
/// A drawing or I/O error.
pub(crate) fn render_heatmap(grid: &Grid, stem: &Path, format: Format) -> Result<Vec<PathBuf>> {
    render(grid, stem, format)
}

/// The values of one axis, sorted numerically when they all are numbers.
fn axis_values<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    let nums: Option<Vec<f64>> = out.iter().map(|v| v.trim().parse::<f64>().ok()).collect();
    if let Some(nums) = nums {
        let mut pairs: Vec<(f64, String)> = nums.into_iter().zip(out).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        out = pairs.into_iter().map(|p| p.1).collect();
    }
    out
}

/// The mean score of `rows` in each cell of the `xs` × `ys` grid (one row
/// of cells without a y axis), row-major; `None` where no row falls.
fn mean_cells(rows: &[&SweepRecord], xs: &[String], ys: Option<&[String]>) -> Vec<Option<f64>> {
    let param = |r: &SweepRecord, i: usize| r.params.get(i).cloned().unwrap_or_default();
    let n_rows = ys.map_or(1, <[String]>::len);
    let mut sums = vec![(0.0, 0u32); xs.len() * n_rows];
    for r in rows {
        let col = xs.iter().position(|v| *v == param(r, 0));
        let row = match ys {
            Some(ys) => ys.iter().position(|v| *v == param(r, 1)),
            None => Some(0),
        };
        if let (Some(c), Some(rw)) = (col, row) {
            if r.score_mean.is_finite() {
                let cell = &mut sums[rw * xs.len() + c];
                cell.0 += r.score_mean;
                cell.1 += 1;
            }
        }
    }
    sums.iter()
        .map(|&(s, n)| (n > 0).then(|| s / f64::from(n)))
        .collect()
}

/// The title and file name of the grid of group `key` (policy, trace,
/// then the values of the further parameters of `params`).
fn title_and_name(params: &[String], key: &[String]) -> (String, String) {
    // invariant: every key starts with the policy and the trace
    let (policy, trace) = (&key[0], &key[1]);
    let further: Vec<(&String, &String)> = params.iter().skip(2).zip(key.iter().skip(2)).collect();
    let extra: Vec<String> = further
        .iter()
        .map(|(k, v)| style::key_value(k, v))
        .collect();
    // File name parts: `cooldown_s_300` (made safe by the caller).
    let extra_names: Vec<String> = further
        .iter()
        .map(|(k, v)| format!("{}_{v}", k.rsplit('.').next().unwrap_or(k)))
        .collect();
    let mut what: Vec<String> = [policy, trace]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string())
        .collect();
    let mut title = String::from("Mean score (USD, lower is better)");
    if !what.is_empty() {
        title.push_str(&format!(": {}", what.join(" on ")));
    }
    if !extra.is_empty() {
        title.push_str(&format!(" ({})", extra.join(", ")));
    }
    what.extend(extra_names);
    let name = if what.is_empty() {
        "sweep".to_string()
    } else {
        format!("sweep-{}", what.join("-"))
    };
    (title, name)
}

/// Figure 6 data: one grid per policy × trace × further parameter values,
/// with a file name (`sweep-POLICY-TRACE[-KEY_VALUE…]`, KEY the last part of a further
/// parameter, made safe by [`super::file_safe`]) for each. Cells
/// that several rows fall in (only possible with duplicate rows) hold
/// their mean.
pub(crate) fn sweep_grids(table: &SweepTable) -> Vec<(String, Grid)> {
    let key_of = |r: &super::read::SweepRecord| {
        let mut k = vec![r.policy.clone(), r.trace.clone()];
        k.extend(r.params.iter().skip(2).cloned());
        k
    };
    let mut groups: Vec<Vec<String>> = Vec::new();
    for r in &table.rows {
        let k = key_of(r);
        if !groups.contains(&k) {
            groups.push(k);
        }
    }
    let x_name = table.params.first().cloned().unwrap_or_default();
    let y_name = table.params.get(1).cloned();
    groups
        .into_iter()
        .map(|key| {
            let rows: Vec<&super::read::SweepRecord> =
                table.rows.iter().filter(|r| key_of(r) == key).collect();
            let xs = axis_values(
                rows.iter()
                    .map(|r| r.params.first().map_or("", String::as_str)),
            );
            let ys = if y_name.is_some() {
                axis_values(
                    rows.iter()
                        .map(|r| r.params.get(1).map_or("", String::as_str)),
                )
            } else {
                vec![String::new()]
            };
            let cells = mean_cells(&rows, &xs, y_name.is_some().then_some(ys.as_slice()));
            let (title, name) = title_and_name(&table.params, &key);
            let grid = Grid {
                title,
                x: Axis {
                    n: xs.len(),
                    labels: AxisLabels::Centers(xs),
                    desc: style::key_label(&x_name),
                },
                y: Axis {
                    n: ys.len(),
                    labels: AxisLabels::Centers(ys),
                    desc: y_name.as_deref().map(style::key_label).unwrap_or_default(),
                },
                cells,
                colouring: Colouring::Scale {
                    title: "score (USD)".into(),
                    frame_lowest: true,
                },
            };
            (name, grid)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> SweepTable {
        let mut rows = Vec::new();
        for policy in ["threshold", "hpa"] {
            for boot in ["100", "30", "300"] {
                for upper in ["0.6", "0.7", "0.8", "0.9"] {
                    let b: f64 = boot.parse().unwrap();
                    let u: f64 = upper.parse().unwrap();
                    rows.push(SweepRecord {
                        policy: policy.into(),
                        trace: "diurnal".into(),
                        params: vec![boot.into(), upper.into()],
                        score_mean: 10.0 + b / 50.0 + 20.0 * (u - 0.75).powi(2),
                    });
                }
            }
        }
        rows.pop(); // one cell not covered
        SweepTable {
            params: vec!["cloud.boot_s".into(), "policy.upper".into()],
            rows,
        }
    }

    #[test]
    fn grids_are_split_per_policy_and_sorted_numerically() {
        let grids = sweep_grids(&table());
        assert_eq!(grids.len(), 2);
        assert_eq!(grids[0].0, "sweep-threshold-diurnal");
        let g = &grids[0].1;
        assert_eq!(
            g.x.labels,
            AxisLabels::Centers(vec!["30".into(), "100".into(), "300".into()])
        );
        assert_eq!((g.x.n, g.y.n), (3, 4));
        assert_eq!(g.x.desc, "boot time (s)");
        // boot 30, upper 0.6 -> 10 + 0.6 + 20*0.0225
        assert!((g.cells[0].unwrap() - 11.05).abs() < 1e-12);
        // the last row of hpa was removed: boot 300, upper 0.9
        assert_eq!(grids[1].1.cells[3 * 3 + 2], None);
    }

    #[test]
    fn heatmaps_render_with_and_without_annotations() {
        let dir = tempfile::tempdir().unwrap();
        for (name, grid) in sweep_grids(&table()) {
            let written = render_heatmap(&grid, &dir.path().join(name), Format::Both).unwrap();
            for path in &written {
                crate::plot::tests_support::assert_image(path);
            }
        }
        // a large grid (no annotations), and a single-parameter sweep
        let rows = (0..40)
            .flat_map(|x| {
                (0..30).map(move |y| SweepRecord {
                    policy: String::new(),
                    trace: String::new(),
                    params: vec![x.to_string(), y.to_string()],
                    score_mean: f64::from(x * y),
                })
            })
            .collect();
        let big = SweepTable {
            params: vec!["a.x".into(), "a.y".into()],
            rows,
        };
        let grids = sweep_grids(&big);
        assert_eq!(grids[0].0, "sweep");
        render_heatmap(&grids[0].1, &dir.path().join("big"), Format::Png).unwrap();
        let one = SweepTable {
            params: vec!["a.x".into()],
            rows: vec![SweepRecord {
                policy: "p".into(),
                trace: "t".into(),
                params: vec!["1".into()],
                score_mean: f64::NAN,
            }],
        };
        let grids = sweep_grids(&one);
        render_heatmap(&grids[0].1, &dir.path().join("one"), Format::Png).unwrap();
    }
}
