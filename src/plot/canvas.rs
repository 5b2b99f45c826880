//! Drawing one figure into PNG and SVG files, and the pieces every figure
//! shares: the title and legend column, a legend, a standard mesh, stair
//! lines and gaps.
//!
//! A figure implements [`Figure`] once, generically over the plotters
//! backend; [`render`] draws it into an in-memory RGB buffer (encoded as
//! PNG) and an SVG string, and writes each file atomically (a temporary
//! file in the same folder, then a rename).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::geometry::{clip_polygon, clip_polyline, split_sharp_turns, Column, PlotBox};
use super::style::{self, text, GRID, INK, LEGEND_SIZE, LEGEND_WIDTH, SIZE, TICK_SIZE, TITLE_SIZE};
use super::Format;
use crate::output::write_file_atomic;

/// A figure that can draw itself on any plotters backend.
pub(crate) trait Figure {
    /// Draws the whole figure on `root` (already filled white).
    ///
    /// # Errors
    /// A drawing error of the backend.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;

    /// Width and height, pixels ([`SIZE`] unless the figure needs more).
    fn size(&self) -> (u32, u32) {
        SIZE
    }
}

/// `STEM.EXT`, keeping any dots in the stem.
pub(crate) fn with_extension(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Draws `figure` into `STEM.png` and/or `STEM.svg` and returns the paths
/// written.
///
/// # Errors
/// A drawing, encoding or I/O error, naming the file.
pub(crate) fn render(figure: &impl Figure, stem: &Path, format: Format) -> Result<Vec<PathBuf>> {
    style::register_font().map_err(anyhow::Error::msg)?;
    let mut written = Vec::new();
    if format.png() {
        let path = with_extension(stem, "png");
        let (w, h) = figure.size();
        let mut buf = vec![255u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            root.fill(&WHITE)?;
            figure
                .draw(&root)
                .with_context(|| format!("drawing {}", path.display()))?;
            root.present()?;
        }
        let bytes =
            encode_png(&buf, w, h).with_context(|| format!("encoding {}", path.display()))?;
        write_file_atomic(&path, &bytes)?;
        written.push(path);
    }
    if format.svg() {
        let path = with_extension(stem, "svg");
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, figure.size()).into_drawing_area();
            root.fill(&WHITE)?;
            figure
                .draw(&root)
                .with_context(|| format!("drawing {}", path.display()))?;
            root.present()?;
        }
        write_file_atomic(&path, svg.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// RGB8 pixels as a PNG file.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Default);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

/// Splits `root` into a title strip, the plot area and, when `legend` is
/// true, a legend column on the right; returns (plot, legend). A title too
/// wide for the figure is set smaller, then on two lines (broken before a
/// bracket, after a colon or at the space nearest the middle), then cut
/// with an ellipsis, so it never runs off either edge.
pub(crate) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: bool,
) -> Result<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>)>
where
    DB::ErrorType: 'static,
{
    let (w, _) = root.dim_in_pixel();
    let room = i64::from(w) - 24;
    let width = |t: &str, size: f64| -> i64 {
        root.estimate_text_size(t, &text(size))
            .map_or(i64::MAX, |d| i64::from(d.0))
    };
    let small = TITLE_SIZE - 4.0;
    let (size, lines) = if width(title, TITLE_SIZE) <= room {
        (TITLE_SIZE, vec![title.to_string()])
    } else if width(title, small) <= room {
        (small, vec![title.to_string()])
    } else {
        let (a, b) = break_title(title);
        let cut = |t: &str| {
            let mut t = t.to_string();
            while width(&t, small) > room && t.chars().count() > 4 {
                t = fit(&t, t.chars().count() - 1);
            }
            t
        };
        (small, vec![cut(&a), cut(&b)])
    };
    let body = if lines.len() == 1 {
        root.titled(&lines[0], text(size))?
    } else {
        let line_h = (size * 1.1).round() as i32 + 2;
        let strip = (line_h * lines.len() as i32 + 12) as u32;
        let (top, body) = root.split_vertically(strip);
        for (i, line) in lines.iter().enumerate() {
            top.draw(&Text::new(
                line.clone(),
                (w as i32 / 2, 4 + line_h * i as i32),
                text(size).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        body
    };
    let width = body.dim_in_pixel().0;
    let split = if legend {
        width.saturating_sub(LEGEND_WIDTH)
    } else {
        width
    };
    Ok(body.split_horizontally(split))
}

/// A title in two lines: before the last ` (` when there is one, else
/// after the first `: `, else at the space nearest the middle.
pub(crate) fn break_title(title: &str) -> (String, String) {
    let middle = title.len() / 2;
    let at = title
        .rfind(" (")
        .filter(|&i| i > 0)
        .or_else(|| title.find(": ").map(|i| i + 1))
        .or_else(|| {
            title
                .match_indices(' ')
                .map(|(i, _)| i)
                .min_by_key(|&i| i.abs_diff(middle))
        });
    match at {
        Some(i) => (title[..i].trim().to_string(), title[i..].trim().to_string()),
        None => (title.to_string(), String::new()),
    }
}

/// How a legend entry shows its series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Swatch {
    /// A line of this width.
    Line(u32),
    /// A dashed line.
    Dashed,
    /// A filled box (bands, areas, heatmap classes).
    Fill,
    /// A point with whiskers.
    Point,
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LegendEntry {
    /// Text.
    pub label: String,
    /// Colour of the swatch.
    pub colour: RGBColor,
    /// Shape of the swatch.
    pub swatch: Swatch,
}

impl LegendEntry {
    /// An entry.
    pub fn new(label: impl Into<String>, colour: RGBColor, swatch: Swatch) -> LegendEntry {
        LegendEntry {
            label: label.into(),
            colour,
            swatch,
        }
    }
}

/// Draws legend entries top-down in `area`, from `top` pixels down; long
/// labels are cut with an ellipsis to fit the column. Returns the y just
/// below the last entry.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    top: i32,
    heading: Option<&str>,
    entries: &[LegendEntry],
) -> Result<i32>
where
    DB::ErrorType: 'static,
{
    let row = 28;
    let mut y = top;
    let style = text(LEGEND_SIZE);
    if let Some(h) = heading {
        area.draw(&Text::new(
            fit(h, 19),
            (8, y),
            style.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        y += row;
    }
    for e in entries {
        let (x0, x1) = (10, 40);
        match e.swatch {
            Swatch::Line(w) => {
                area.draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    e.colour.stroke_width(w.max(1)),
                ))?;
            }
            Swatch::Dashed => {
                for k in 0..3 {
                    let a = x0 + k * 11;
                    area.draw(&PathElement::new(
                        vec![(a, y), (a + 7, y)],
                        e.colour.stroke_width(2),
                    ))?;
                }
            }
            Swatch::Fill => {
                area.draw(&Rectangle::new(
                    [(x0, y - 9), (x1, y + 9)],
                    e.colour.filled(),
                ))?;
                area.draw(&Rectangle::new(
                    [(x0, y - 9), (x1, y + 9)],
                    GRID.mix(1.0).stroke_width(1),
                ))?;
            }
            Swatch::Point => {
                let c = (x0 + x1) / 2;
                area.draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    e.colour.stroke_width(2),
                ))?;
                area.draw(&PathElement::new(
                    vec![(c, y - 9), (c, y + 9)],
                    e.colour.stroke_width(2),
                ))?;
                area.draw(&Circle::new((c, y), 6, e.colour.filled()))?;
            }
        }
        area.draw(&Text::new(
            fit(&e.label, 16),
            (x1 + 10, y),
            style.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        y += row;
    }
    Ok(y)
}

/// `s` cut to `max` characters, with an ellipsis when cut.
pub(crate) fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// A linear f64 × f64 chart.
pub(crate) type LinearChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Builds a linear chart in `area` with the standard label areas.
///
/// # Errors
/// A drawing error.
pub(crate) fn linear_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: (f64, f64),
    y: (f64, f64),
    x_label_area: u32,
) -> Result<LinearChart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let chart = ChartBuilder::on(area)
        .margin_top(8)
        .margin_right(16)
        .margin_left(8)
        .x_label_area_size(x_label_area)
        .y_label_area_size(92)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    Ok(chart)
}

/// Draws the standard mesh: light grid, ticks formatted by
/// [`style::tick`], axis descriptions (empty `x_desc` hides the x labels,
/// for an upper panel sharing its x axis).
///
/// # Errors
/// A drawing error.
pub(crate) fn draw_mesh<DB: DrawingBackend>(
    chart: &mut LinearChart<'_, DB>,
    x_desc: &str,
    y_desc: &str,
    y_labels: usize,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    draw_mesh_with(chart, x_desc, y_desc, y_labels, true)
}

/// [`draw_mesh`] on any 2-d chart; `y_ticks` false hides the y tick
/// labels (a panel sharing its y axis with the one on its left).
///
/// # Errors
/// A drawing error.
pub(crate) fn draw_mesh_with<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
    y_labels: usize,
    y_ticks: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let fmt = |v: &f64| style::tick(*v);
    let hide = |_: &f64| String::new();
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(WHITE.mix(0.0))
        .bold_line_style(GRID.stroke_width(1))
        .axis_style(INK.stroke_width(1))
        .label_style(text(TICK_SIZE))
        .axis_desc_style(text(style::LABEL_SIZE))
        .x_labels(8)
        .y_labels(y_labels);
    if y_ticks {
        mesh.y_desc(y_desc).y_label_formatter(&fmt);
    } else {
        mesh.y_label_formatter(&hide);
    }
    if x_desc.is_empty() {
        mesh.x_label_formatter(&hide);
    } else {
        mesh.x_desc(x_desc).x_label_formatter(&fmt);
    }
    mesh.draw()?;
    Ok(())
}

/// A chart's plot area in pixels, for drawing series that never leave it:
/// every line, band and marker drawn through a `Plot` is clipped to the
/// plot box in pixel space first (see [`super::geometry`]).
pub(crate) struct Plot<DB: DrawingBackend> {
    area: DrawingArea<DB, Shift>,
    origin: (f64, f64),
    /// The box and the data ranges it shows.
    pub bx: PlotBox,
}

impl<DB: DrawingBackend> Plot<DB>
where
    DB::ErrorType: 'static,
{
    /// The plot area of `chart`, which shows `x` × `y` (`log_y`: y on a
    /// log scale).
    pub fn of<X: Ranged, Y: Ranged>(
        chart: &ChartContext<'_, DB, Cartesian2d<X, Y>>,
        x: (f64, f64),
        y: (f64, f64),
        log_y: bool,
    ) -> Plot<DB> {
        let area = chart.plotting_area().strip_coord_spec();
        let pixels = area.get_pixel_range();
        let origin = (f64::from(pixels.0.start), f64::from(pixels.1.start));
        let bx = PlotBox::new(x, y, log_y, pixels);
        #[cfg(test)]
        tests::BOXES.with(|b| b.borrow_mut().push(bx));
        Plot { area, origin, bx }
    }

    fn local(&self, p: (i32, i32)) -> (i32, i32) {
        (p.0 - self.origin.0 as i32, p.1 - self.origin.1 as i32)
    }

    /// A line through `points` (data; `None` or a non-finite y is a gap),
    /// clipped to the plot box, `width` pixels wide.
    ///
    /// # Errors
    /// A drawing error.
    pub(crate) fn line(
        &self,
        points: impl IntoIterator<Item = (f64, Option<f64>)>,
        colour: RGBColor,
        width: u32,
    ) -> Result<()> {
        let px: Vec<Option<(f64, f64)>> = points
            .into_iter()
            .map(|(x, y)| y.and_then(|y| self.bx.px((x, y))))
            .collect();
        // Clipped at the box itself: a line on an edge (0 on an axis from
        // zero) stays, its stroke reaching at most width / 2 beyond.
        let inner = self.bx.inset(0.0);
        for part in clip_polyline(&px, &inner) {
            if part.len() == 1 {
                let p = self.local((part[0].0.round() as i32, part[0].1.round() as i32));
                let r = (width.max(2) / 2) as i32;
                self.area.draw(&Rectangle::new(
                    [(p.0 - r + 1, p.1 - r + 1), (p.0 + r, p.1 + r)],
                    colour.filled(),
                ))?;
                continue;
            }
            for piece in split_sharp_turns(&part) {
                let piece: Vec<(i32, i32)> = piece.into_iter().map(|p| self.local(p)).collect();
                if piece.len() == 1 {
                    continue;
                }
                self.area
                    .draw(&PathElement::new(piece, colour.stroke_width(width.max(1))))?;
            }
        }
        Ok(())
    }

    /// A dashed line (`on` pixels drawn, `off` pixels skipped, measured
    /// along the line), clipped to the plot box.
    ///
    /// # Errors
    /// A drawing error.
    pub(crate) fn dashed(
        &self,
        points: impl IntoIterator<Item = (f64, Option<f64>)>,
        colour: RGBColor,
        width: u32,
        (on, off): (f64, f64),
    ) -> Result<()> {
        let px: Vec<Option<(f64, f64)>> = points
            .into_iter()
            .map(|(x, y)| y.and_then(|y| self.bx.px((x, y))))
            .collect();
        // Clipped at the box itself: a line on an edge (0 on an axis from
        // zero) stays, its stroke reaching at most width / 2 beyond.
        let inner = self.bx.inset(0.0);
        let period = (on + off).max(1.0);
        for part in clip_polyline(&px, &inner) {
            // Walk the line, emitting the "on" stretches as lines.
            let mut dashes: Vec<Vec<(f64, f64)>> = Vec::new();
            let mut phase = 0.0f64;
            let mut current: Vec<(f64, f64)> = Vec::new();
            for w in part.windows(2) {
                let (a, b) = (w[0], w[1]);
                let len = (b.0 - a.0).hypot(b.1 - a.1);
                let mut t = 0.0;
                while t < len {
                    let in_on = phase < on;
                    let left = if in_on { on - phase } else { period - phase };
                    let step = left.min(len - t);
                    let p0 = (a.0 + (b.0 - a.0) * t / len, a.1 + (b.1 - a.1) * t / len);
                    let t1 = t + step;
                    let p1 = (a.0 + (b.0 - a.0) * t1 / len, a.1 + (b.1 - a.1) * t1 / len);
                    if in_on {
                        if current.is_empty() {
                            current.push(p0);
                        }
                        current.push(p1);
                    } else if !current.is_empty() {
                        dashes.push(std::mem::take(&mut current));
                    }
                    phase = (phase + step) % period;
                    t = t1;
                }
            }
            if !current.is_empty() {
                dashes.push(current);
            }
            for dash in dashes {
                for piece in split_sharp_turns(&dash) {
                    if piece.len() > 1 {
                        let piece: Vec<(i32, i32)> =
                            piece.into_iter().map(|p| self.local(p)).collect();
                        self.area
                            .draw(&PathElement::new(piece, colour.stroke_width(width.max(1))))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A filled polygon (data coordinates), clipped to the plot box.
    ///
    /// # Errors
    /// A drawing error.
    pub(crate) fn polygon(&self, points: &[(f64, f64)], style: ShapeStyle) -> Result<()> {
        let px: Vec<(f64, f64)> = points.iter().filter_map(|&p| self.bx.px(p)).collect();
        let clipped = clip_polygon(&px, &self.bx.inset(0.0));
        if clipped.len() >= 3 {
            let poly: Vec<(i32, i32)> = clipped
                .into_iter()
                .map(|p| self.local((p.0.round() as i32, p.1.round() as i32)))
                .collect();
            self.area.draw(&Polygon::new(poly, style))?;
        }
        Ok(())
    }

    /// The min–max band of `columns` as filled polygons (one per run of
    /// columns without a gap), clipped to the plot box.
    ///
    /// # Errors
    /// A drawing error.
    pub(crate) fn band(&self, columns: &[Option<Column>], style: ShapeStyle) -> Result<()> {
        for run in columns.split(Option::is_none) {
            let run: Vec<Column> = run.iter().flatten().copied().collect();
            if run.is_empty() {
                continue;
            }
            let mut poly: Vec<(f64, f64)> = Vec::with_capacity(4 * run.len());
            for c in &run {
                poly.push((c.x0, c.hi));
                poly.push((c.x1, c.hi));
            }
            for c in run.iter().rev() {
                poly.push((c.x1, c.lo));
                poly.push((c.x0, c.lo));
            }
            self.polygon(&poly, style)?;
        }
        Ok(())
    }

    /// A filled rectangle between data corners, clipped to the plot box.
    ///
    /// # Errors
    /// A drawing error.
    pub(crate) fn rect(
        &self,
        (x0, y0): (f64, f64),
        (x1, y1): (f64, f64),
        style: ShapeStyle,
    ) -> Result<()> {
        self.polygon(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1)], style)
    }

    /// A filled circle of radius `r` pixels at `p`, clipped to the plot box
    /// (a marker on an axis shows as a half disc, as in matplotlib).
    ///
    /// # Errors
    /// A drawing error.
    pub(crate) fn dot(&self, p: (f64, f64), r: u32, style: ShapeStyle) -> Result<()> {
        let Some(c) = self.bx.px(p) else {
            return Ok(());
        };
        let r = f64::from(r);
        let disc: Vec<(f64, f64)> = (0..24)
            .map(|k| {
                let a = f64::from(k) * std::f64::consts::TAU / 24.0;
                (c.0 + r * a.cos(), c.1 + r * a.sin())
            })
            .collect();
        let clipped = clip_polygon(&disc, &self.bx.inset(0.0));
        if clipped.len() >= 3 {
            let poly: Vec<(i32, i32)> = clipped
                .into_iter()
                .map(|p| self.local((p.0.round() as i32, p.1.round() as i32)))
                .collect();
            self.area.draw(&Polygon::new(poly, style))?;
        }
        Ok(())
    }
}

/// The `(x, Some(mean))` points of an envelope's columns (at their
/// centres; gaps stay gaps), for drawing the mean line.
pub(crate) fn envelope_means(columns: &[Option<Column>]) -> Vec<(f64, Option<f64>)> {
    let mut out = Vec::with_capacity(columns.len());
    let mut last_x = f64::NAN;
    for c in columns {
        match c {
            Some(c) => {
                last_x = (c.x0 + c.x1) / 2.0;
                out.push((last_x, Some(c.mean)));
            }
            None => out.push((last_x, None)),
        }
    }
    out
}

/// `(lo, hi)` of the finite values, or `None` when there are none.
pub(crate) fn finite_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// An axis range with some headroom: from 0 (when `from_zero` and every
/// value is ≥ 0) or the padded minimum, to the padded maximum; never empty.
pub(crate) fn padded(range: Option<(f64, f64)>, from_zero: bool) -> (f64, f64) {
    // Beyond ±1e15 the axis is clipped: tick arithmetic stays finite.
    let (lo, hi) = range.unwrap_or((0.0, 1.0));
    let (lo, hi) = (lo.clamp(-1e15, 1e15), hi.clamp(-1e15, 1e15));
    let lo = if from_zero && lo >= 0.0 { 0.0 } else { lo };
    let span = hi - lo;
    let pad = if span > 0.0 {
        0.06 * span
    } else {
        0.5 * hi.abs().max(1.0)
    };
    let lo = if from_zero && lo == 0.0 {
        0.0
    } else {
        lo - pad
    };
    (lo, hi + pad)
}

#[cfg(test)]
/// A staircase through `(x_i, y_i)`: each value holds until the next x,
/// the last one for `last_width`. A run of equal values is one segment
/// (smaller SVGs).
pub(crate) fn stairs(points: &[(f64, f64)], last_width: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(points.len() * 2);
    for (i, &(x, y)) in points.iter().enumerate() {
        let next = points.get(i + 1).map_or(x + last_width, |p| p.0);
        match out.last_mut() {
            Some(end) if end.1 == y && end.0 == x => end.0 = next,
            _ => {
                out.push((x, y));
                out.push((next, y));
            }
        }
    }
    out
}

/// At most four points per pixel column (the first, lowest, highest and
/// last, in order) of a line drawn over `x` at `columns` pixels: the same
/// picture with far fewer SVG points. Short lines are returned as they are.
pub(crate) fn thin(points: Vec<(f64, f64)>, x: (f64, f64), columns: usize) -> Vec<(f64, f64)> {
    let span = x.1 - x.0;
    if points.len() <= 4 * columns || span.is_nan() || span <= 0.0 || columns == 0 {
        return points;
    }
    let column = |px: f64| ((px - x.0) / span * columns as f64).floor();
    let mut out = Vec::with_capacity(4 * columns + 4);
    let mut start = 0;
    while start < points.len() {
        let c = column(points[start].0);
        let mut end = start + 1;
        while end < points.len() && column(points[end].0) == c {
            end += 1;
        }
        let group = &points[start..end];
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in group.iter().enumerate() {
            if p.1 < group[lo].1 {
                lo = i;
            }
            if p.1 > group[hi].1 {
                hi = i;
            }
        }
        let mut keep = [0, lo, hi, group.len() - 1];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push(group[k]);
                last = k;
            }
        }
        start = end;
    }
    out
}

#[cfg(test)]
/// The runs of consecutive finite points (a `None` or non-finite value
/// breaks the line, leaving a gap).
pub(crate) fn segments(
    points: impl IntoIterator<Item = (f64, Option<f64>)>,
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (x, y) in points {
        match y {
            Some(y) if y.is_finite() && x.is_finite() => current.push((x, y)),
            _ => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    thread_local! {
        /// Every plot box made by [`Plot::of`] on this thread, for the
        /// figure tests that check no series leaves its box.
        pub(crate) static BOXES: std::cell::RefCell<Vec<PlotBox>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }

    /// Decoded RGB pixels of a PNG: (width, height, rgb bytes).
    pub(crate) fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(std::fs::read(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    /// Renders `figure` as a PNG and asserts that every pixel of one of
    /// the `series` colours left of the legend column lies in a plot box
    /// (1 px of tolerance for the box edge); returns how many such pixels
    /// were found inside.
    pub(crate) fn assert_series_inside(
        figure: &impl Figure,
        stem: &Path,
        series: &[RGBColor],
    ) -> usize {
        BOXES.with(|b| b.borrow_mut().clear());
        let written = render(figure, stem, Format::Png).unwrap();
        let boxes = BOXES.with(|b| b.borrow_mut().split_off(0));
        assert!(!boxes.is_empty());
        let (w, _, rgb) = decode_png(&written[0]);
        let legend = f64::from(w - LEGEND_WIDTH);
        let mut inside = 0;
        for (i, px) in rgb.chunks(3).enumerate() {
            let c = RGBColor(px[0], px[1], px[2]);
            if !series.contains(&c) {
                continue;
            }
            let (x, y) = (f64::from(i as u32 % w), f64::from(i as u32 / w));
            if x >= legend {
                continue;
            }
            let in_box = boxes.iter().any(|b| {
                x >= b.left - 1.0 && x <= b.right + 1.0 && y >= b.top - 1.0 && y <= b.bottom + 1.0
            });
            assert!(
                in_box,
                "{}: a series pixel {c:?} at ({x}, {y}) is outside every plot box {boxes:?}",
                written[0].display()
            );
            inside += 1;
        }
        inside
    }

    #[test]
    fn gaps_split_lines_and_stairs_hold_values() {
        let s = segments([
            (0.0, Some(1.0)),
            (1.0, None),
            (2.0, Some(2.0)),
            (3.0, Some(f64::NAN)),
            (4.0, Some(3.0)),
            (5.0, Some(4.0)),
        ]);
        assert_eq!(
            s,
            vec![
                vec![(0.0, 1.0)],
                vec![(2.0, 2.0)],
                vec![(4.0, 3.0), (5.0, 4.0)]
            ]
        );
        assert_eq!(
            stairs(&[(0.0, 1.0), (1.0, 2.0)], 1.0),
            vec![(0.0, 1.0), (1.0, 1.0), (1.0, 2.0), (2.0, 2.0)]
        );
        assert_eq!(
            stairs(&[(0.0, 1.0), (1.0, 1.0), (2.0, 1.0), (3.0, 2.0)], 1.0),
            vec![(0.0, 1.0), (3.0, 1.0), (3.0, 2.0), (4.0, 2.0)]
        );
    }

    #[test]
    fn thinning_keeps_the_extremes_of_each_column() {
        let points: Vec<(f64, f64)> = (0..1000)
            .map(|i| (f64::from(i) / 1000.0, f64::from(i % 7)))
            .collect();
        let thinned = thin(points.clone(), (0.0, 1.0), 10);
        assert!(thinned.len() <= 40, "{}", thinned.len());
        assert_eq!(thinned.first(), points.first());
        assert_eq!(thinned.last(), points.last());
        assert!(thinned.iter().any(|p| p.1 == 6.0) && thinned.iter().any(|p| p.1 == 0.0));
        assert!(thinned.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(thin(points[..5].to_vec(), (0.0, 1.0), 10).len(), 5);
    }

    #[test]
    fn ranges_ignore_non_finite_values_and_are_never_empty() {
        assert_eq!(
            finite_range([f64::NAN, 2.0, f64::INFINITY, -1.0]),
            Some((-1.0, 2.0))
        );
        assert_eq!(finite_range([f64::NAN]), None);
        let (lo, hi) = padded(Some((3.0, 3.0)), false);
        assert!(lo < 3.0 && hi > 3.0);
        let (lo, hi) = padded(Some((-1e300, 1e300)), false);
        assert!(lo.is_finite() && hi.is_finite() && lo < hi);
        let (lo, hi) = padded(Some((1.0, 11.0)), true);
        assert_eq!(lo, 0.0);
        assert!(hi > 11.0);
        assert!(padded(None, true).1 > 0.0);
    }

    #[test]
    fn long_titles_break_before_their_bracket() {
        assert_eq!(
            break_title("Mean score: threshold on day (step 2, cooldown 300 s)"),
            (
                "Mean score: threshold on day".to_string(),
                "(step 2, cooldown 300 s)".to_string()
            )
        );
        assert_eq!(
            break_title("Greedy target: blank cells hold"),
            ("Greedy target:".to_string(), "blank cells hold".to_string())
        );
        assert_eq!(break_title("word").1, "");
    }

    #[test]
    fn stems_keep_their_dots() {
        assert_eq!(
            with_extension(Path::new("f/sweep-a=0.5"), "png"),
            PathBuf::from("f/sweep-a=0.5.png")
        );
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}
