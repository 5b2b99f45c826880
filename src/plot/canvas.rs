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
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, text, GRID, INK, LEGEND_SIZE, LEGEND_WIDTH, SIZE, TICK_SIZE, TITLE_SIZE};
use super::Format;
use crate::output::write_file_atomic;

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    /// Draws the whole figure on `root` (already filled white).
    ///
    /// # Errors
    /// A drawing error of the backend.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// `STEM.EXT`, keeping any dots in the stem.
pub fn with_extension(stem: &Path, ext: &str) -> PathBuf {
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
pub fn render(figure: &impl Figure, stem: &Path, format: Format) -> Result<Vec<PathBuf>> {
    style::register_font().map_err(anyhow::Error::msg)?;
    let mut written = Vec::new();
    if format.png() {
        let path = with_extension(stem, "png");
        let (w, h) = SIZE;
        let mut buf = vec![255u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, SIZE).into_drawing_area();
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
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
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
/// true, a legend column on the right; returns (plot, legend).
pub fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: bool,
) -> Result<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>)>
where
    DB::ErrorType: 'static,
{
    let body = root.titled(title, text(TITLE_SIZE))?;
    let width = body.dim_in_pixel().0;
    let split = if legend {
        width.saturating_sub(LEGEND_WIDTH)
    } else {
        width
    };
    Ok(body.split_horizontally(split))
}

/// How a legend entry shows its series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Swatch {
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
pub struct LegendEntry {
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
pub fn draw_legend<DB: DrawingBackend>(
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
pub fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// A linear f64 × f64 chart.
pub type LinearChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Builds a linear chart in `area` with the standard label areas.
///
/// # Errors
/// A drawing error.
pub fn linear_chart<'a, DB: DrawingBackend>(
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
pub fn draw_mesh<DB: DrawingBackend>(
    chart: &mut LinearChart<'_, DB>,
    x_desc: &str,
    y_desc: &str,
    y_labels: usize,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let fmt = |v: &f64| style::tick(*v);
    let hide = |_: &f64| String::new();
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(WHITE.mix(0.0))
        .bold_line_style(GRID.stroke_width(1))
        .axis_style(INK.stroke_width(1))
        .label_style(text(TICK_SIZE))
        .axis_desc_style(text(style::LABEL_SIZE))
        .y_desc(y_desc)
        .x_labels(8)
        .y_labels(y_labels)
        .y_label_formatter(&fmt);
    if x_desc.is_empty() {
        mesh.x_label_formatter(&hide);
    } else {
        mesh.x_desc(x_desc).x_label_formatter(&fmt);
    }
    mesh.draw()?;
    Ok(())
}

/// `(lo, hi)` of the finite values, or `None` when there are none.
pub fn finite_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
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
pub fn padded(range: Option<(f64, f64)>, from_zero: bool) -> (f64, f64) {
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

/// A staircase through `(x_i, y_i)`: each value holds until the next x,
/// the last one for `last_width`. A run of equal values is one segment
/// (smaller SVGs).
pub fn stairs(points: &[(f64, f64)], last_width: f64) -> Vec<(f64, f64)> {
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
pub fn thin(points: Vec<(f64, f64)>, x: (f64, f64), columns: usize) -> Vec<(f64, f64)> {
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

/// The runs of consecutive finite points (a `None` or non-finite value
/// breaks the line, leaving a gap).
pub fn segments(points: impl IntoIterator<Item = (f64, Option<f64>)>) -> Vec<Vec<(f64, f64)>> {
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
mod tests {
    use super::*;

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
    fn stems_keep_their_dots() {
        assert_eq!(
            with_extension(Path::new("f/sweep-a=0.5"), "png"),
            PathBuf::from("f/sweep-a=0.5.png")
        );
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}
