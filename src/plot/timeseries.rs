//! Figures over simulated time, from `steps.csv`:
//!
//! - [`load_capacity`]: the arrival rate (arrivals / step_s, req/s) against
//!   the capacity of the running VMs (`capacity_rps`), and the VMs (running,
//!   with the booting ones stacked above as a band), with the VMs the load
//!   demands (the fewest whose p95 meets the SLO, as in
//!   [`crate::elasticity`]) and the oracle's VMs overlaid when its run is
//!   available;
//! - [`latency`]: mean and p95 response time against the SLO, on a log
//!   axis (steps without a latency, when no VM ran, are gaps);
//! - [`cumulative`]: cumulative VM cost (USD) and SLO violations
//!   (requests), one line per policy.
//!
//! Values are drawn per step as stairs: a step's value holds from its start
//! to the next step's. When a panel holds more than two steps per pixel
//! column (a month of minutes), each column shows instead the mean of its
//! steps as the line, and the p95, the arrival rate and the running VMs also
//! their min–max as a pale band, so spikes stay visible without turning the
//! panel into a solid mass. A run longer than four days also gets its
//! busiest day (the calendar day, counted from the first step, with the
//! most arrivals) zoomed on the right at the same y scale, and that day is
//! shaded in the whole. Every series is clipped to its plot box
//! ([`super::canvas::Plot`]).

use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{
    draw_legend, draw_mesh, draw_mesh_with, envelope_means, finite_range, frame, linear_chart,
    padded, render, thin, Figure, LegendEntry, Plot, Swatch,
};
use super::geometry::{envelope, log_ticks, Column};
use super::read::StepRecord;
use super::style::{
    self, policy_colour, text, tint, TimeUnit, GRID, INK, LABEL_SIZE, SIZE, SLO_RED, TICK_SIZE,
    WIDE_SIZE,
};
use super::Format;

/// Pixel columns of a time axis, for [`thin`] (about the plot width).
const COLUMNS: usize = 700;

/// Runs longer than this (seconds) get their busiest day zoomed.
const ZOOM_AFTER_S: f64 = 4.0 * 86_400.0;

/// A panel's time axis holding more steps than this per pixel column is
/// drawn as per-column envelopes.
const DENSE: f64 = 2.0;

/// The steps of one run and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunSteps {
    /// Policy name (sets the colour).
    pub policy: String,
    /// Trace name.
    pub trace: String,
    /// Master seed.
    pub seed: u64,
    /// Step length, seconds (`workload.step_s`).
    pub step_s: f64,
    /// The rows of `steps.csv`.
    pub steps: Vec<StepRecord>,
}

/// The stretch of time a panel shows: x = (time_s − origin_s) / unit.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    unit: TimeUnit,
    origin_s: f64,
    x: (f64, f64),
}

impl Window {
    fn x_of(&self, time_s: f64) -> f64 {
        (time_s - self.origin_s) / self.unit.seconds
    }
}

/// The x range covering every run, and the unit.
fn time_axis(runs: &[&RunSteps]) -> Window {
    let span = finite_range(runs.iter().flat_map(|r| {
        r.steps
            .iter()
            .flat_map(move |s| [s.time_s, s.time_s + r.step_s.max(0.0)])
    }))
    .unwrap_or((0.0, 1.0));
    let unit = TimeUnit::for_span(span.1 - span.0);
    let (lo, hi) = (span.0 / unit.seconds, span.1 / unit.seconds);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    Window {
        unit,
        origin_s: 0.0,
        x: (lo, hi),
    }
}

/// The busiest day of `run` (most arrivals; days counted from the first
/// step), as a window in hours from its start, when the run is long
/// enough to zoom; with the day's number (1 = the first).
fn busiest_day(run: &RunSteps) -> Option<(Window, usize)> {
    let first = run.steps.first()?.time_s;
    let last = run.steps.last()?.time_s + run.step_s.max(0.0);
    if !(first.is_finite() && last.is_finite()) || last - first <= ZOOM_AFTER_S {
        return None;
    }
    let days = ((last - first) / 86_400.0).ceil() as usize;
    let mut totals = vec![0.0f64; days.max(1)];
    for s in &run.steps {
        let d = ((s.time_s - first) / 86_400.0).floor();
        if d >= 0.0 && (d as usize) < totals.len() && s.arrivals.is_finite() {
            totals[d as usize] += s.arrivals;
        }
    }
    let (day, _) =
        totals.iter().enumerate().fold(
            (0, f64::NEG_INFINITY),
            |b, (i, &t)| if t > b.1 { (i, t) } else { b },
        );
    let origin_s = first + 86_400.0 * day as f64;
    let end_h = ((last - origin_s) / 3600.0).min(24.0);
    Some((
        Window {
            unit: TimeUnit {
                seconds: 3600.0,
                name: "h",
            },
            origin_s,
            x: (0.0, end_h.max(1.0)),
        },
        day + 1,
    ))
}

/// A step series in a window: (x of the step start, value) and the step
/// width in x units.
struct Steps {
    points: Vec<(f64, Option<f64>)>,
    width: f64,
}

fn steps_of(run: &RunSteps, w: &Window, f: impl Fn(&StepRecord) -> Option<f64>) -> Steps {
    let width = run.step_s.max(0.0) / w.unit.seconds;
    let points = run
        .steps
        .iter()
        .map(|s| (w.x_of(s.time_s), f(s).filter(|v| v.is_finite())))
        .filter(|(x, _)| x.is_finite() && *x + width >= w.x.0 && *x <= w.x.1)
        .collect();
    Steps { points, width }
}

/// How a series is drawn in a panel: stairs, or one column per pixel.
enum Shape {
    Stairs(Vec<(f64, Option<f64>)>),
    Columns(Vec<Option<Column>>),
}

impl Shape {
    fn of<DB: DrawingBackend>(plot: &Plot<DB>, steps: &Steps) -> Shape
    where
        DB::ErrorType: 'static,
    {
        let columns = plot.bx.width().max(1.0);
        if steps.points.len() as f64 > DENSE * columns {
            Shape::Columns(envelope(
                steps.points.iter().copied(),
                plot.bx.x,
                columns as usize,
            ))
        } else {
            Shape::Stairs(stairs_with_gaps(&steps.points, steps.width))
        }
    }

    fn dense(&self) -> bool {
        matches!(self, Shape::Columns(_))
    }

    /// The points of the line: stairs, or the column means.
    fn line(&self) -> Vec<(f64, Option<f64>)> {
        match self {
            Shape::Stairs(p) => p.clone(),
            Shape::Columns(c) => envelope_means(c),
        }
    }

    /// The min–max band (columns only).
    fn band<DB: DrawingBackend>(&self, plot: &Plot<DB>, colour: RGBColor) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        if let Shape::Columns(c) = self {
            plot.band(c, colour.filled())?;
        }
        Ok(())
    }
}

/// Stairs through `(x, value)` steps of `width`; a missing value leaves a
/// gap, and a run of equal values is one segment (smaller SVGs).
fn stairs_with_gaps(points: &[(f64, Option<f64>)], width: f64) -> Vec<(f64, Option<f64>)> {
    let mut out: Vec<(f64, Option<f64>)> = Vec::with_capacity(points.len() * 2);
    for (i, &(x, v)) in points.iter().enumerate() {
        let next = points.get(i + 1).map_or(x + width, |p| p.0);
        match v {
            None => out.push((x, None)),
            Some(v) => {
                let n = out.len();
                if n >= 2 && out[n - 1] == (x, Some(v)) && out[n - 2].1 == Some(v) {
                    out[n - 1].0 = next;
                } else {
                    out.push((x, Some(v)));
                    out.push((next, Some(v)));
                }
            }
        }
    }
    out
}

/// Columns of the band between two series of the same steps (`lo` below
/// `hi`), where `hi` is above `lo`: per step, or per pixel column of means
/// when dense.
fn between<DB: DrawingBackend>(plot: &Plot<DB>, lo: &Steps, hi: &Steps) -> Vec<Option<Column>>
where
    DB::ErrorType: 'static,
{
    let columns = plot.bx.width().max(1.0);
    let pairs: Vec<(f64, f64, f64, f64)> = if lo.points.len() as f64 > DENSE * columns {
        let a = envelope(lo.points.iter().copied(), plot.bx.x, columns as usize);
        let b = envelope(hi.points.iter().copied(), plot.bx.x, columns as usize);
        a.iter()
            .zip(&b)
            .filter_map(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => Some((a.x0, a.x1, a.mean, b.mean)),
                _ => None,
            })
            .collect()
    } else {
        lo.points
            .iter()
            .zip(&hi.points)
            .enumerate()
            .filter_map(|(i, (a, b))| {
                let next = lo.points.get(i + 1).map_or(a.0 + lo.width, |p| p.0);
                Some((a.0, next, a.1?, b.1?))
            })
            .collect()
    };
    pairs
        .into_iter()
        .map(|(x0, x1, lo, hi)| {
            (hi > lo).then_some(Column {
                x0,
                x1,
                lo,
                hi,
                mean: hi,
            })
        })
        .collect()
}

fn run_title(run: &RunSteps) -> String {
    format!("{} on {} (seed {})", run.policy, run.trace, run.seed)
}

/// Builds a chart with `y_area` pixels of y labels and an optional caption.
fn chart_in<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: (f64, f64),
    y: (f64, f64),
    x_area: u32,
    y_area: u32,
    caption: Option<&str>,
) -> Result<super::canvas::LinearChart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let mut b = ChartBuilder::on(area);
    b.margin_top(8)
        .margin_right(16)
        .margin_left(8)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area);
    if let Some(c) = caption {
        b.caption(c, text(TICK_SIZE));
    }
    Ok(b.build_cartesian_2d(x.0..x.1, y.0..y.1)?)
}

/// The panels of a time-series figure: the whole run, and the busiest day
/// beside it when zoomed.
struct Layout<DB: DrawingBackend> {
    whole: DrawingArea<DB, Shift>,
    zoom: Option<(DrawingArea<DB, Shift>, Window, usize)>,
}

fn layout<DB: DrawingBackend>(
    plot: DrawingArea<DB, Shift>,
    zoom: Option<(Window, usize)>,
) -> Layout<DB> {
    match zoom {
        None => Layout {
            whole: plot,
            zoom: None,
        },
        Some((w, day)) => {
            let width = plot.dim_in_pixel().0;
            let (whole, right) = plot.split_horizontally((f64::from(width) * 0.6) as u32);
            Layout {
                whole,
                zoom: Some((right, w, day)),
            }
        }
    }
}

/// Captions of the two columns of a zoomed figure.
fn captions(whole: &Window, day: usize) -> (String, String) {
    let days = ((whole.x.1 - whole.x.0) * whole.unit.seconds / 86_400.0).round();
    (
        format!("whole run ({days} days; busiest day shaded)"),
        format!("busiest day: day {day}"),
    )
}

/// Shades the zoomed day in a whole-run panel.
fn shade_day<DB: DrawingBackend>(
    plot: &Plot<DB>,
    whole: &Window,
    zoom: Option<&Window>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    if let Some(z) = zoom {
        let x0 = whole.x_of(z.origin_s);
        let x1 = whole.x_of(z.origin_s + z.x.1 * z.unit.seconds);
        let (y0, y1) = plot.bx.y;
        plot.rect((x0, y0), (x1, y1), RGBColor(236, 236, 236).filled())?;
    }
    Ok(())
}

/// A few lines of small print in the legend column, from `y` down.
fn note<DB: DrawingBackend>(legend: &DrawingArea<DB, Shift>, y: i32, lines: &[&str]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let style = text(TICK_SIZE - 3.0).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, line) in lines.iter().enumerate() {
        legend.draw(&Text::new(
            line.to_string(),
            (10, y + 20 * i as i32),
            style.clone(),
        ))?;
    }
    Ok(())
}

/// Figure 1: load vs capacity and VMs over time.
struct LoadFigure<'a> {
    run: &'a RunSteps,
    oracle: Option<&'a RunSteps>,
    /// True when every step of `run` has its demanded VMs.
    demand: bool,
    zoom: Option<(Window, usize)>,
}

/// Colour of the arrival rate's min–max band.
const RATE_BAND: RGBColor = RGBColor(200, 200, 200);

impl LoadFigure<'_> {
    /// Draws the two panels of one column (whole run or zoomed day);
    /// returns true when it drew envelopes.
    #[allow(clippy::too_many_arguments)]
    fn column<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        w: &Window,
        ys: ((f64, f64), (f64, f64)),
        y_ticks: bool,
        caption: Option<&str>,
        shade: Option<&Window>,
    ) -> Result<bool>
    where
        DB::ErrorType: 'static,
    {
        let run = self.run;
        let colour = policy_colour(&run.policy);
        let split = (area.dim_in_pixel().1 as f64 * 0.52) as u32;
        let (upper, lower) = area.split_vertically(split);
        let y_area = if y_ticks { 92 } else { 12 };
        let step_s = run.step_s.max(f64::MIN_POSITIVE);

        let mut chart = chart_in(&upper, w.x, ys.0, 8, y_area, caption)?;
        draw_mesh_with(&mut chart, "", "requests/s", 5, y_ticks)?;
        let plot = Plot::of(&chart, w.x, ys.0, false);
        shade_day(&plot, w, shade)?;
        let rate = Shape::of(&plot, &steps_of(run, w, |s| Some(s.arrivals / step_s)));
        let capacity = Shape::of(&plot, &steps_of(run, w, |s| Some(s.capacity_rps)));
        if let Shape::Columns(c) = &capacity {
            plot.band(c, tint(colour, 0.75).filled())?;
        }
        if let Shape::Columns(c) = &rate {
            plot.band(c, RATE_BAND.mix(0.7).filled())?;
        }
        plot.line(rate.line(), INK, 1)?;
        plot.line(capacity.line(), colour, 2)?;

        let x_desc = if shade.is_some() || self.zoom.is_none() {
            format!("time ({})", w.unit.name)
        } else {
            "hour of the day".to_string()
        };
        let mut chart = chart_in(&lower, w.x, ys.1, 62, y_area, None)?;
        draw_mesh_with(&mut chart, &x_desc, "VMs", 5, y_ticks)?;
        let plot = Plot::of(&chart, w.x, ys.1, false);
        shade_day(&plot, w, shade)?;
        let running = steps_of(run, w, |s| Some(f64::from(s.vms_running)));
        let total = steps_of(run, w, |s| {
            Some(f64::from(s.vms_running) + f64::from(s.vms_booting))
        });
        let booting = between(&plot, &running, &total);
        let running = Shape::of(&plot, &running);
        running.band(&plot, tint(colour, 0.7))?;
        plot.band(&booting, BOOTING.filled())?;
        if self.demand {
            let demand = Shape::of(&plot, &steps_of(run, w, |s| s.demand_vms.map(f64::from)));
            plot.line(demand.line(), SLO_RED, 1)?;
        }
        plot.line(running.line(), colour, 2)?;
        if let Some(o) = self.oracle {
            let oracle = Shape::of(
                &plot,
                &steps_of(o, w, |s| {
                    Some(f64::from(s.vms_running) + f64::from(s.vms_booting))
                }),
            );
            plot.dashed(oracle.line(), INK, 2, (7.0, 4.0))?;
        }
        Ok(rate.dense() || running.dense())
    }
}

/// Colour of the booting VMs stacked above the running ones.
const BOOTING: RGBColor = RGBColor(150, 150, 150);

impl LoadFigure<'_> {
    /// The legend entries of the load panel and of the VM panel (`dense`:
    /// with the min–max bands).
    fn legends(&self, colour: RGBColor, dense: bool) -> (Vec<LegendEntry>, Vec<LegendEntry>) {
        let mut upper_entries = vec![
            LegendEntry::new("capacity", colour, Swatch::Line(2)),
            LegendEntry::new("arrival rate", INK, Swatch::Line(1)),
        ];
        if dense {
            upper_entries.insert(
                1,
                LegendEntry::new("capacity min–max", tint(colour, 0.75), Swatch::Fill),
            );
            upper_entries.push(LegendEntry::new("rate min–max", RATE_BAND, Swatch::Fill));
        }
        let mut lower_entries = vec![LegendEntry::new("running", colour, Swatch::Line(2))];
        if dense {
            lower_entries.push(LegendEntry::new(
                "running min–max",
                tint(colour, 0.7),
                Swatch::Fill,
            ));
        }
        lower_entries.push(LegendEntry::new("+ booting", BOOTING, Swatch::Fill));
        if self.demand {
            lower_entries.push(LegendEntry::new("SLO demand", SLO_RED, Swatch::Line(1)));
        }
        if self.oracle.is_some() {
            lower_entries.push(LegendEntry::new("oracle VMs", INK, Swatch::Dashed));
        }
        (upper_entries, lower_entries)
    }
}

impl Figure for LoadFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let run = self.run;
        let colour = policy_colour(&run.policy);
        let title = format!("Load, capacity and VMs: {}", run_title(run));
        let (plot, legend) = frame(root, &title, true)?;
        let mut all = vec![run];
        all.extend(self.oracle);
        let whole = time_axis(&all);
        let step_s = run.step_s.max(f64::MIN_POSITIVE);

        let y_rate = padded(
            finite_range(
                run.steps
                    .iter()
                    .flat_map(|s| [s.arrivals / step_s, s.capacity_rps]),
            ),
            true,
        );
        let vms = |r: &RunSteps| -> Vec<f64> {
            r.steps
                .iter()
                .map(|s| f64::from(s.vms_running) + f64::from(s.vms_booting))
                .collect()
        };
        let demand = run.steps.iter().filter_map(|s| s.demand_vms.map(f64::from));
        let y_vms = padded(
            finite_range(
                vms(run)
                    .into_iter()
                    .chain(self.oracle.map(vms).into_iter().flatten())
                    .chain(demand),
            ),
            true,
        );
        let panels = layout(plot, self.zoom);
        let caps = self.zoom.map(|(_, day)| captions(&whole, day));
        let zoom_window = self.zoom.map(|z| z.0);
        let dense = self.column(
            &panels.whole,
            &whole,
            (y_rate, y_vms),
            true,
            caps.as_ref().map(|c| c.0.as_str()),
            zoom_window.as_ref(),
        )?;
        if let (Some((area, w, _)), Some(c)) = (&panels.zoom, &caps) {
            self.column(area, w, (y_rate, y_vms), false, Some(&c.1), None)?;
        }

        let split = (root.dim_in_pixel().1 as f64 * 0.5) as i32;
        let (upper_entries, lower_entries) = self.legends(colour, dense);
        draw_legend(&legend, 24, None, &upper_entries)?;
        let y = draw_legend(&legend, split, None, &lower_entries)?;
        if dense {
            note(&legend, y, &["lines: mean per", "pixel column"])?;
        }
        Ok(())
    }

    fn size(&self) -> (u32, u32) {
        if self.zoom.is_some() {
            WIDE_SIZE
        } else {
            SIZE
        }
    }
}

/// Figure 1: arrival rate and capacity (req/s) above, VMs below, for one
/// run, with the VMs the load demands (`demand_vms`) as a thin line when
/// every step has one, and `oracle` the oracle's VMs (running + booting) as
/// a dashed line; a run longer than four days gets its busiest day zoomed
/// beside the whole (a wider figure). Writes `STEM.png` / `STEM.svg`.
///
/// # Errors
/// A drawing or I/O error.
pub(crate) fn load_capacity(
    run: &RunSteps,
    oracle: Option<&RunSteps>,
    stem: &Path,
    format: Format,
) -> Result<Vec<PathBuf>> {
    let demand = run.steps.iter().all(|s| s.demand_vms.is_some());
    render(
        &LoadFigure {
            run,
            oracle,
            demand,
            zoom: busiest_day(run),
        },
        stem,
        format,
    )
}

/// Figure 2: latency vs the SLO.
struct LatencyFigure<'a> {
    runs: &'a [RunSteps],
    slo_s: f64,
    zoom: Option<(Window, usize)>,
}

/// A dark line that reads against the policy's colour: the mean latency.
fn mean_colour(policy: RGBColor) -> RGBColor {
    let l = 0.299 * f64::from(policy.0) + 0.587 * f64::from(policy.1) + 0.114 * f64::from(policy.2);
    if l < 90.0 {
        RGBColor(110, 110, 110)
    } else {
        RGBColor(70, 70, 70)
    }
}

impl LatencyFigure<'_> {
    /// Draws one panel; returns true when it drew envelopes.
    #[allow(clippy::too_many_arguments)]
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        w: &Window,
        (lo, hi): (f64, f64),
        y_ticks: bool,
        caption: Option<&str>,
        shade: Option<&Window>,
    ) -> Result<bool>
    where
        DB::ErrorType: 'static,
    {
        let single = self.runs.len() == 1;
        let ticks = log_ticks(lo, hi, 4);
        let mut b = ChartBuilder::on(area);
        b.margin_top(8)
            .margin_right(16)
            .margin_left(8)
            .x_label_area_size(62)
            .y_label_area_size(if y_ticks { 92 } else { 12 });
        if let Some(c) = caption {
            b.caption(c, text(TICK_SIZE));
        }
        let mut chart =
            b.build_cartesian_2d(w.x.0..w.x.1, (lo..hi).log_scale().with_key_points(ticks))?;
        let x_desc = if shade.is_some() || self.zoom.is_none() {
            format!("time ({})", w.unit.name)
        } else {
            "hour of the day".to_string()
        };
        let fmt = |v: &f64| style::tick(*v);
        let hide = |_: &f64| String::new();
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(WHITE.mix(0.0))
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(INK.stroke_width(1))
            .label_style(text(TICK_SIZE))
            .axis_desc_style(text(LABEL_SIZE))
            .x_desc(x_desc)
            .x_labels(8)
            .x_label_formatter(&fmt);
        if y_ticks {
            mesh.y_desc("response time (s, log scale)")
                .y_label_formatter(&fmt);
        } else {
            mesh.y_label_formatter(&hide);
        }
        mesh.draw()?;
        let plot = Plot::of(&chart, w.x, (lo, hi), true);
        shade_day(&plot, w, shade)?;

        let mut dense = false;
        let positive = |v: Option<f64>| v.filter(|v| *v > 0.0);
        for run in self.runs {
            let colour = policy_colour(&run.policy);
            let p95 = Shape::of(&plot, &steps_of(run, w, |s| positive(s.latency_p95_s)));
            dense |= p95.dense();
            if single {
                p95.band(&plot, tint(colour, 0.75))?;
                let mean = Shape::of(&plot, &steps_of(run, w, |s| positive(s.latency_mean_s)));
                plot.line(p95.line(), colour, 2)?;
                plot.line(mean.line(), mean_colour(colour), 1)?;
            } else {
                plot.line(p95.line(), colour, 2)?;
            }
        }
        if self.slo_s.is_finite() && self.slo_s > 0.0 {
            plot.dashed(
                [(w.x.0, Some(self.slo_s)), (w.x.1, Some(self.slo_s))],
                SLO_RED,
                2,
                (10.0, 6.0),
            )?;
        }
        Ok(dense)
    }

    /// The latency axis: every positive p95 (and mean, for one run) and
    /// the SLO, widened by 1.6× each way.
    fn y_range(&self, slo: Option<f64>) -> (f64, f64) {
        let single = self.runs.len() == 1;
        let values = self.runs.iter().flat_map(|r| {
            r.steps.iter().flat_map(move |s| {
                let mean = if single { s.latency_mean_s } else { None };
                [mean, s.latency_p95_s].into_iter().flatten()
            })
        });
        let positive = values.filter(|v| v.is_finite() && *v > 0.0);
        let (lo, hi) = finite_range(positive.chain(slo)).unwrap_or((0.01, 1.0));
        let (lo, hi) = ((lo / 1.6).clamp(1e-9, 1e9), (hi * 1.6).clamp(1e-9, 1e10));
        (lo, if hi > lo { hi } else { lo * 10.0 })
    }

    /// The legend: p95 (with its band when `dense`) and mean for one run,
    /// each policy's p95 for several, then the SLO.
    fn legend_entries(&self, dense: bool, slo: Option<f64>) -> Vec<LegendEntry> {
        let single = self.runs.len() == 1;
        let mut entries = Vec::new();
        for run in self.runs {
            let colour = policy_colour(&run.policy);
            if single {
                entries.push(LegendEntry::new("p95", colour, Swatch::Line(2)));
                if dense {
                    entries.push(LegendEntry::new(
                        "p95 min–max",
                        tint(colour, 0.75),
                        Swatch::Fill,
                    ));
                }
                entries.push(LegendEntry::new(
                    "mean",
                    mean_colour(colour),
                    Swatch::Line(1),
                ));
            } else {
                entries.push(LegendEntry::new(
                    run.policy.clone(),
                    colour,
                    Swatch::Line(2),
                ));
            }
        }
        if let Some(slo) = slo {
            entries.push(LegendEntry::new(
                // A narrow no-break space between value and unit (SI).
                format!("SLO {}\u{202f}s", style::tick(slo)),
                SLO_RED,
                Swatch::Dashed,
            ));
        }
        entries
    }
}

impl Figure for LatencyFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let single = self.runs.len() == 1;
        let title = match self.runs {
            [run] => format!("Response time vs SLO: {}", run_title(run)),
            [first, ..] => format!(
                "p95 response time vs SLO on {} (seed {})",
                first.trace, first.seed
            ),
            [] => "Response time vs SLO".to_string(),
        };
        let (plot, legend) = frame(root, &title, true)?;
        let all: Vec<&RunSteps> = self.runs.iter().collect();
        let whole = time_axis(&all);
        let slo = (self.slo_s.is_finite() && self.slo_s > 0.0).then_some(self.slo_s);
        let (lo, hi) = self.y_range(slo);

        let panels = layout(plot, self.zoom);
        let caps = self.zoom.map(|(_, day)| captions(&whole, day));
        let zoom_window = self.zoom.map(|z| z.0);
        let dense = self.panel(
            &panels.whole,
            &whole,
            (lo, hi),
            true,
            caps.as_ref().map(|c| c.0.as_str()),
            zoom_window.as_ref(),
        )?;
        if let (Some((area, w, _)), Some(c)) = (&panels.zoom, &caps) {
            self.panel(area, w, (lo, hi), false, Some(&c.1), None)?;
        }

        let entries = self.legend_entries(dense, slo);
        let heading = (!single).then_some("p95 latency");
        let y = draw_legend(&legend, 24, heading, &entries)?;
        if dense {
            note(&legend, y, &["lines: mean per", "pixel column"])?;
        }
        Ok(())
    }

    fn size(&self) -> (u32, u32) {
        if self.zoom.is_some() {
            WIDE_SIZE
        } else {
            SIZE
        }
    }
}

/// Figure 2: response time against `slo_s` over time, log y axis. One run:
/// its mean and p95; several (same trace and seed): each policy's p95. A
/// run longer than four days gets its busiest day zoomed beside the whole.
///
/// # Errors
/// A drawing or I/O error.
pub(crate) fn latency(
    runs: &[RunSteps],
    slo_s: f64,
    stem: &Path,
    format: Format,
) -> Result<Vec<PathBuf>> {
    let zoom = runs.first().and_then(busiest_day);
    render(&LatencyFigure { runs, slo_s, zoom }, stem, format)
}

/// Figure 3: cumulative cost and violations.
struct CumulativeFigure<'a> {
    runs: &'a [RunSteps],
}

/// Running sums of `f` at the end of each step: `(step end, Σ)`, starting
/// from `(first start, 0)`.
fn cumsum(run: &RunSteps, unit: TimeUnit, f: impl Fn(&StepRecord) -> f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(run.steps.len() + 1);
    let mut total = 0.0;
    if let Some(first) = run.steps.first() {
        out.push((first.time_s / unit.seconds, 0.0));
    }
    for s in &run.steps {
        let v = f(s);
        if v.is_finite() {
            total += v;
        }
        let x = (s.time_s + run.step_s) / unit.seconds;
        if !x.is_finite() {
            continue;
        }
        // A flat stretch needs only its ends (smaller SVGs).
        let n = out.len();
        if n >= 2 && out[n - 1].1 == total && out[n - 2].1 == total {
            out[n - 1].0 = x;
        } else {
            out.push((x, total));
        }
    }
    out
}

impl Figure for CumulativeFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let title = match self.runs {
            [run] => format!("Cumulative cost and SLO violations: {}", run_title(run)),
            [first, ..] => format!(
                "Cumulative cost and SLO violations on {} (seed {})",
                first.trace, first.seed
            ),
            [] => "Cumulative cost and SLO violations".to_string(),
        };
        let (plot, legend) = frame(root, &title, true)?;
        let split = plot.dim_in_pixel().1 / 2;
        let (upper, lower) = plot.split_vertically(split);
        let all: Vec<&RunSteps> = self.runs.iter().collect();
        let window = time_axis(&all);
        let (unit, x) = (window.unit, window.x);

        let cost: Vec<Vec<(f64, f64)>> = self
            .runs
            .iter()
            .map(|r| cumsum(r, unit, |s| s.cost_usd))
            .collect();
        let viol: Vec<Vec<(f64, f64)>> = self
            .runs
            .iter()
            .map(|r| cumsum(r, unit, |s| s.slo_violations))
            .collect();
        let y = padded(finite_range(cost.iter().flatten().map(|p| p.1)), true);
        let mut chart = linear_chart(&upper, x, y, 8)?;
        draw_mesh(&mut chart, "", "cost (USD)", 5)?;
        let plot = Plot::of(&chart, x, y, false);
        for (run, line) in self.runs.iter().zip(cost) {
            plot.line(
                thin(line, x, COLUMNS)
                    .into_iter()
                    .map(|(x, y)| (x, Some(y))),
                policy_colour(&run.policy),
                2,
            )?;
        }
        let y = padded(finite_range(viol.iter().flatten().map(|p| p.1)), true);
        let mut chart = linear_chart(&lower, x, y, 62)?;
        draw_mesh(
            &mut chart,
            &format!("time ({})", unit.name),
            "violations (requests)",
            5,
        )?;
        let plot = Plot::of(&chart, x, y, false);
        for (run, line) in self.runs.iter().zip(viol) {
            plot.line(
                thin(line, x, COLUMNS)
                    .into_iter()
                    .map(|(x, y)| (x, Some(y))),
                policy_colour(&run.policy),
                2,
            )?;
        }
        let entries: Vec<LegendEntry> = self
            .runs
            .iter()
            .map(|r| LegendEntry::new(r.policy.clone(), policy_colour(&r.policy), Swatch::Line(2)))
            .collect();
        draw_legend(&legend, 24, Some("policy"), &entries)?;
        Ok(())
    }
}

/// Figure 3: cumulative cost (USD, above) and SLO violations (requests,
/// below) over time, one line per run (policy).
///
/// # Errors
/// A drawing or I/O error.
pub(crate) fn cumulative(runs: &[RunSteps], stem: &Path, format: Format) -> Result<Vec<PathBuf>> {
    render(&CumulativeFigure { runs }, stem, format)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small run: a load ramp and back, one step without latency.
    pub(crate) fn fixture(policy: &str, vms: u32) -> RunSteps {
        let steps = (0..30u64)
            .map(|i| {
                let rate = 20.0 + 60.0 * (1.0 - (i as f64 - 15.0).abs() / 15.0);
                let running = if i == 3 { 0 } else { vms + (i as u32 / 6) };
                let latency =
                    (running > 0).then(|| 0.05 + rate / (10.0 * f64::from(running) * 20.0));
                StepRecord {
                    step: i,
                    time_s: 60.0 * i as f64,
                    arrivals: rate * 60.0,
                    served: rate * 60.0,
                    dropped: 0.0,
                    backlog: 0.0,
                    vms_running: running,
                    vms_booting: u32::from(i % 7 == 0),
                    capacity_rps: 20.0 * f64::from(running),
                    utilization: 0.5,
                    latency_mean_s: latency,
                    latency_p95_s: latency.map(|l| 3.0 * l),
                    slo_violations: if rate > 60.0 { rate } else { 0.0 },
                    cost_usd: 0.0016 * f64::from(running),
                    penalty_usd: 0.0,
                    demand_vms: Some(2 + i as u32 / 6),
                    reward: 0.0,
                    target_vms: running,
                }
            })
            .collect();
        RunSteps {
            policy: policy.into(),
            trace: "tiny".into(),
            seed: 7,
            step_s: 60.0,
            steps,
        }
    }

    #[test]
    fn every_time_series_figure_renders_to_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let run = fixture("threshold", 2);
        let oracle = fixture("oracle", 1);
        let mut written =
            load_capacity(&run, Some(&oracle), &dir.path().join("load"), Format::Both).unwrap();
        written.extend(
            latency(
                std::slice::from_ref(&run),
                0.5,
                &dir.path().join("lat"),
                Format::Both,
            )
            .unwrap(),
        );
        written.extend(
            cumulative(
                &[run.clone(), oracle],
                &dir.path().join("cost"),
                Format::Both,
            )
            .unwrap(),
        );
        assert_eq!(written.len(), 6);
        for path in &written {
            crate::plot::tests_support::assert_image(path);
        }
    }

    /// A run of `n` one-minute steps whose every value jumps between
    /// extremes each step: the hardest case for thick lines.
    fn spiky(policy: &str, n: u64) -> RunSteps {
        let mut run = fixture(policy, 2);
        run.steps = (0..n)
            .map(|i| {
                let mut s = run.steps[(i % 30) as usize];
                let high = i % 2 == 0;
                s.step = i;
                s.time_s = 60.0 * i as f64;
                s.arrivals = if high { 60.0 * 900.0 } else { 60.0 };
                s.capacity_rps = if high { 30.0 } else { 600.0 };
                s.vms_running = if high { 1 } else { 40 };
                s.vms_booting = u32::from(i % 3 == 0) * 5;
                s.latency_p95_s = Some(if high { 900.0 } else { 0.011 });
                s.latency_mean_s = Some(if high { 300.0 } else { 0.01 });
                s.demand_vms = Some(if high { 45 } else { 1 });
                s.cost_usd = if high { 10.0 } else { 0.0 };
                s
            })
            .collect();
        run
    }

    #[test]
    fn long_and_spiky_series_stay_inside_their_plot_boxes_issue_18() {
        use crate::plot::canvas::tests::assert_series_inside;
        let dir = tempfile::tempdir().unwrap();
        let c = policy_colour("threshold");
        let colours = [c, tint(c, 0.65), tint(c, 0.7), tint(c, 0.75), SLO_RED];
        // A month of minutes (envelopes and a zoomed day), and under a day
        // (stairs), spiking every step.
        for n in [44_640, 1000, 300] {
            let run = spiky("threshold", n);
            let oracle = spiky("oracle", n);
            let zoom = busiest_day(&run);
            assert_eq!(zoom.is_some(), n > 6000);
            let load = LoadFigure {
                run: &run,
                oracle: Some(&oracle),
                demand: true,
                zoom,
            };
            let runs = [run.clone()];
            let latency = LatencyFigure {
                runs: &runs,
                slo_s: 0.5,
                zoom,
            };
            let cost = CumulativeFigure { runs: &runs };
            let stem = |s: &str| dir.path().join(format!("{s}-{n}"));
            assert!(assert_series_inside(&load, &stem("load"), &colours) > 1000);
            assert!(assert_series_inside(&latency, &stem("latency"), &colours) > 1000);
            assert!(assert_series_inside(&cost, &stem("cost"), &colours) > 100);
        }
    }

    /// What the figures drew before issue 18: plotters' own thick line
    /// through the same spikes. The check must catch it.
    struct Unclipped<'a>(&'a RunSteps);

    impl Figure for Unclipped<'_> {
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
        where
            DB::ErrorType: 'static,
        {
            let (plot, _) = frame(root, "unclipped", true)?;
            let x = (0.0, self.0.steps.len() as f64);
            let mut chart = ChartBuilder::on(&plot)
                .margin(8)
                .x_label_area_size(62)
                .y_label_area_size(92)
                .build_cartesian_2d(x.0..x.1, (0.005..2000.0).log_scale())?;
            chart.configure_mesh().label_style(text(TICK_SIZE)).draw()?;
            Plot::of(&chart, x, (0.005, 2000.0), true);
            let points = self
                .0
                .steps
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.latency_p95_s.map(|v| (i as f64, v)));
            chart.draw_series(LineSeries::new(
                points,
                policy_colour("threshold").stroke_width(2),
            ))?;
            Ok(())
        }
    }

    #[test]
    #[should_panic(expected = "outside every plot box")]
    fn the_plot_box_check_catches_a_thick_line_doubling_back() {
        let dir = tempfile::tempdir().unwrap();
        // About one step per pixel column: valleys one pixel wide, whose
        // inner corners plotters throws far above the plot.
        let run = spiky("threshold", 1000);
        crate::plot::canvas::tests::assert_series_inside(
            &Unclipped(&run),
            &dir.path().join("u"),
            &[policy_colour("threshold")],
        );
    }

    #[test]
    fn the_busiest_day_is_the_one_with_most_arrivals() {
        let mut run = spiky("x", 7 * 1440);
        for s in &mut run.steps {
            s.arrivals = if (4 * 1440..5 * 1440).contains(&s.step) {
                100.0
            } else {
                1.0
            };
        }
        let (w, day) = busiest_day(&run).unwrap();
        assert_eq!(day, 5);
        assert_eq!(w.origin_s, 4.0 * 86_400.0);
        assert_eq!(w.x, (0.0, 24.0));
        run.steps.truncate(3 * 1440);
        assert!(busiest_day(&run).is_none());
    }

    #[test]
    fn stairs_hold_values_and_keep_gaps() {
        let s = stairs_with_gaps(
            &[
                (0.0, Some(1.0)),
                (1.0, Some(1.0)),
                (2.0, None),
                (3.0, Some(2.0)),
            ],
            1.0,
        );
        assert_eq!(
            s,
            vec![
                (0.0, Some(1.0)),
                (2.0, Some(1.0)),
                (2.0, None),
                (3.0, Some(2.0)),
                (4.0, Some(2.0))
            ]
        );
    }

    #[test]
    fn degenerate_runs_draw_without_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let mut run = fixture("x", 1);
        run.steps.truncate(1);
        run.steps[0].latency_mean_s = None;
        run.steps[0].latency_p95_s = Some(f64::NAN);
        run.steps[0].arrivals = f64::INFINITY;
        run.step_s = 0.0;
        let mut wild = fixture("y", 2);
        wild.steps[1].latency_p95_s = Some(1e-320);
        wild.steps[2].latency_mean_s = Some(1e300);
        wild.steps[3].capacity_rps = -1e300;
        wild.steps[4].cost_usd = f64::MAX;
        wild.steps[5].time_s = 1e300;
        wild.steps[6].demand_vms = Some(u32::MAX);
        load_capacity(&wild, None, &dir.path().join("w1"), Format::Png).unwrap();
        latency(&[wild.clone()], 0.5, &dir.path().join("w2"), Format::Png).unwrap();
        cumulative(&[wild], &dir.path().join("w3"), Format::Png).unwrap();
        load_capacity(&run, None, &dir.path().join("a"), Format::Png).unwrap();
        latency(&[run.clone()], f64::NAN, &dir.path().join("b"), Format::Png).unwrap();
        cumulative(&[run], &dir.path().join("c"), Format::Png).unwrap();
        latency(&[], 0.5, &dir.path().join("d"), Format::Svg).unwrap();
    }
}
