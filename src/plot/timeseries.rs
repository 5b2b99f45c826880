//! Figures over simulated time, from `steps.csv`:
//!
//! - [`load_capacity`]: the arrival rate (arrivals / step_s, req/s) against
//!   the capacity of the running VMs (`capacity_rps`), and the VM count
//!   (running, and running + booting), with the VMs the load demands (the
//!   fewest whose p95 meets the SLO, as in [`crate::elasticity`]) and the
//!   oracle's VMs overlaid when its run is available;
//! - [`latency`]: mean and p95 response time against the SLO, on a log
//!   axis (steps without a latency, when no VM ran, are gaps);
//! - [`cumulative`]: cumulative VM cost (USD) and SLO violations
//!   (requests), one line per policy.
//!
//! Values are drawn per step as stairs: a step's value holds from its start
//! to the next step's.

use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{
    draw_legend, draw_mesh, finite_range, frame, linear_chart, padded, render, segments, stairs,
    thin, Figure, LegendEntry, Swatch,
};
use super::read::StepRecord;
use super::style::{self, policy_colour, text, tint, TimeUnit, GRID, INK, SLO_RED, TICK_SIZE};
use super::Format;

/// Pixel columns of a time axis, for [`thin`] (about the plot width).
const COLUMNS: usize = 700;

/// The steps of one run and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSteps {
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

impl RunSteps {
    /// Step start times in `unit`.
    fn times(&self, unit: TimeUnit) -> impl Iterator<Item = f64> + '_ {
        self.steps.iter().map(move |s| s.time_s / unit.seconds)
    }
}

/// The x range (in `unit`) covering every run, and the unit.
fn time_axis(runs: &[&RunSteps]) -> (TimeUnit, (f64, f64)) {
    let span = finite_range(runs.iter().flat_map(|r| {
        r.steps
            .iter()
            .flat_map(move |s| [s.time_s, s.time_s + r.step_s])
    }))
    .unwrap_or((0.0, 1.0));
    let unit = TimeUnit::for_span(span.1 - span.0);
    let (lo, hi) = (span.0 / unit.seconds, span.1 / unit.seconds);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    (unit, (lo, hi))
}

/// Rows of `(x, y)` as stairs, the last step held for one step.
fn stair_series(run: &RunSteps, unit: TimeUnit, y: impl Fn(&StepRecord) -> f64) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = run
        .times(unit)
        .zip(run.steps.iter().map(y))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    stairs(&points, run.step_s / unit.seconds)
}

fn run_title(run: &RunSteps) -> String {
    format!("{} on {} (seed {})", run.policy, run.trace, run.seed)
}

/// Figure 1: load vs capacity and VMs over time.
struct LoadFigure<'a> {
    run: &'a RunSteps,
    oracle: Option<&'a RunSteps>,
    /// VMs demanded per step of `run`, when every step's is defined.
    demand: Option<Vec<f64>>,
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
        let split = (plot.dim_in_pixel().1 as f64 * 0.52) as u32;
        let (upper, lower) = plot.split_vertically(split);
        let mut all = vec![run];
        all.extend(self.oracle);
        let (unit, x) = time_axis(&all);
        let step_s = run.step_s.max(f64::MIN_POSITIVE);

        let rate = stair_series(run, unit, |s| s.arrivals / step_s);
        let capacity = stair_series(run, unit, |s| s.capacity_rps);
        let y = padded(
            finite_range(rate.iter().chain(&capacity).map(|p| p.1)),
            true,
        );
        let mut chart = linear_chart(&upper, x, y, 8)?;
        draw_mesh(&mut chart, "", "requests/s", 5)?;
        chart.draw_series(LineSeries::new(capacity, colour.stroke_width(3)))?;
        chart.draw_series(LineSeries::new(thin(rate, x, COLUMNS), INK.stroke_width(1)))?;

        let running = stair_series(run, unit, |s| f64::from(s.vms_running));
        let total = stair_series(run, unit, |s| {
            f64::from(s.vms_running) + f64::from(s.vms_booting)
        });
        let oracle_total = self.oracle.map(|o| {
            stair_series(o, unit, |s| {
                f64::from(s.vms_running) + f64::from(s.vms_booting)
            })
        });
        let demand = self.demand.as_ref().map(|d| {
            let points: Vec<(f64, f64)> = run
                .times(unit)
                .zip(d.iter().copied())
                .filter(|(x, _)| x.is_finite())
                .collect();
            stairs(&points, run.step_s / unit.seconds)
        });
        let y = padded(
            finite_range(
                total
                    .iter()
                    .chain(oracle_total.iter().flatten())
                    .chain(demand.iter().flatten())
                    .map(|p| p.1),
            ),
            true,
        );
        let mut chart = linear_chart(&lower, x, y, 62)?;
        draw_mesh(&mut chart, &format!("time ({})", unit.name), "VMs", 5)?;
        chart.draw_series(LineSeries::new(total, tint(colour, 0.55).stroke_width(3)))?;
        chart.draw_series(LineSeries::new(running, colour.stroke_width(2)))?;
        if let Some(d) = demand {
            chart.draw_series(LineSeries::new(
                thin(d, x, COLUMNS),
                SLO_RED.stroke_width(1),
            ))?;
        }
        if let Some(o) = oracle_total {
            chart.draw_series(DashedLineSeries::new(o, 6, 4, INK.stroke_width(2)))?;
        }

        let upper_entries = [
            LegendEntry::new("capacity", colour, Swatch::Line(3)),
            LegendEntry::new("arrival rate", INK, Swatch::Line(1)),
        ];
        draw_legend(&legend, 24, None, &upper_entries)?;
        let mut lower_entries = vec![
            LegendEntry::new("running", colour, Swatch::Line(2)),
            LegendEntry::new("+ booting", tint(colour, 0.55), Swatch::Line(3)),
        ];
        if self.demand.is_some() {
            lower_entries.push(LegendEntry::new("SLO demand", SLO_RED, Swatch::Line(1)));
        }
        if self.oracle.is_some() {
            lower_entries.push(LegendEntry::new("oracle VMs", INK, Swatch::Dashed));
        }
        draw_legend(&legend, split as i32 + 24, None, &lower_entries)?;
        Ok(())
    }
}

/// Figure 1: arrival rate and capacity (req/s) above, VMs below, for one
/// run, with the VMs the load demands (`demand_vms`) as a thin line when
/// every step has one, and `oracle` the oracle's VMs (running + booting) as
/// a dashed line. Writes `STEM.png` / `STEM.svg`.
///
/// # Errors
/// A drawing or I/O error.
pub fn load_capacity(
    run: &RunSteps,
    oracle: Option<&RunSteps>,
    stem: &Path,
    format: Format,
) -> Result<Vec<PathBuf>> {
    let demand = run
        .steps
        .iter()
        .map(|s| s.demand_vms.map(f64::from))
        .collect();
    render(
        &LoadFigure {
            run,
            oracle,
            demand,
        },
        stem,
        format,
    )
}

/// Figure 2: latency vs the SLO.
struct LatencyFigure<'a> {
    runs: &'a [RunSteps],
    slo_s: f64,
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
        let (unit, x) = time_axis(&all);
        let values = self.runs.iter().flat_map(|r| {
            r.steps.iter().flat_map(move |s| {
                let mean = if single { s.latency_mean_s } else { None };
                [mean, s.latency_p95_s].into_iter().flatten()
            })
        });
        let positive = values.filter(|v| v.is_finite() && *v > 0.0);
        let slo = if self.slo_s.is_finite() && self.slo_s > 0.0 {
            Some(self.slo_s)
        } else {
            None
        };
        let (lo, hi) = finite_range(positive.chain(slo)).unwrap_or((0.01, 1.0));
        let (lo, hi) = ((lo / 1.6).clamp(1e-9, 1e9), (hi * 1.6).clamp(1e-9, 1e10));
        let hi = if hi > lo { hi } else { lo * 10.0 };

        let mut chart = ChartBuilder::on(&plot)
            .margin_top(8)
            .margin_right(16)
            .margin_left(8)
            .x_label_area_size(62)
            .y_label_area_size(92)
            .build_cartesian_2d(x.0..x.1, (lo..hi).log_scale())?;
        let fmt = |v: &f64| style::tick(*v);
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(INK.stroke_width(1))
            .label_style(text(TICK_SIZE))
            .axis_desc_style(text(style::LABEL_SIZE))
            .x_desc(format!("time ({})", unit.name))
            .y_desc("response time (s, log scale)")
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .draw()?;

        let mut entries = Vec::new();
        for run in self.runs {
            let colour = policy_colour(&run.policy);
            let p95 = segments(
                run.times(unit).zip(
                    run.steps
                        .iter()
                        .map(|s| s.latency_p95_s.filter(|v| *v > 0.0)),
                ),
            );
            if single {
                let mean = segments(
                    run.times(unit).zip(
                        run.steps
                            .iter()
                            .map(|s| s.latency_mean_s.filter(|v| *v > 0.0)),
                    ),
                );
                let light = tint(colour, 0.5);
                for seg in mean {
                    chart.draw_series(LineSeries::new(
                        thin(seg, x, COLUMNS),
                        light.stroke_width(2),
                    ))?;
                }
                entries.push(LegendEntry::new("p95", colour, Swatch::Line(2)));
                entries.push(LegendEntry::new("mean", light, Swatch::Line(2)));
            } else {
                entries.push(LegendEntry::new(
                    run.policy.clone(),
                    colour,
                    Swatch::Line(2),
                ));
            }
            for seg in p95 {
                if seg.len() == 1 {
                    chart.draw_series(std::iter::once(Circle::new(seg[0], 2, colour.filled())))?;
                }
                chart.draw_series(LineSeries::new(
                    thin(seg, x, COLUMNS),
                    colour.stroke_width(2),
                ))?;
            }
        }
        if let Some(slo) = slo {
            chart.draw_series(DashedLineSeries::new(
                vec![(x.0, slo), (x.1, slo)],
                10,
                6,
                SLO_RED.stroke_width(2),
            ))?;
            entries.push(LegendEntry::new(
                format!("SLO {} s", style::tick(slo)),
                SLO_RED,
                Swatch::Dashed,
            ));
        }
        let heading = (!single).then_some("p95 latency");
        draw_legend(&legend, 24, heading, &entries)?;
        Ok(())
    }
}

/// Figure 2: response time against `slo_s` over time, log y axis. One run:
/// its mean and p95; several (same trace and seed): each policy's p95.
///
/// # Errors
/// A drawing or I/O error.
pub fn latency(runs: &[RunSteps], slo_s: f64, stem: &Path, format: Format) -> Result<Vec<PathBuf>> {
    render(&LatencyFigure { runs, slo_s }, stem, format)
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
        let (unit, x) = time_axis(&all);

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
        for (run, line) in self.runs.iter().zip(cost) {
            chart.draw_series(LineSeries::new(
                thin(line, x, COLUMNS),
                policy_colour(&run.policy).stroke_width(2),
            ))?;
        }
        let y = padded(finite_range(viol.iter().flatten().map(|p| p.1)), true);
        let mut chart = linear_chart(&lower, x, y, 62)?;
        draw_mesh(
            &mut chart,
            &format!("time ({})", unit.name),
            "violations (requests)",
            5,
        )?;
        for (run, line) in self.runs.iter().zip(viol) {
            chart.draw_series(LineSeries::new(
                thin(line, x, COLUMNS),
                policy_colour(&run.policy).stroke_width(2),
            ))?;
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
pub fn cumulative(runs: &[RunSteps], stem: &Path, format: Format) -> Result<Vec<PathBuf>> {
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
