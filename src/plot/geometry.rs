//! Pixel geometry and axis arithmetic shared by the figures: the mapping of
//! data into a chart's plot box, clipping of lines and polygons to that box
//! (Liang–Barsky for segments, Sutherland–Hodgman for polygons), splitting
//! of thick lines at sharp turns, per-pixel-column envelopes of long series,
//! and "nice" tick values (1, 2, 5 × 10ᵏ steps on linear axes, 1-2-5 or
//! powers of ten on log axes).
//!
//! Everything here is plain arithmetic on `f64` pixels, so it is tested
//! without drawing. Why clip ourselves: plotters clamps each point of a
//! series into the plot area (which bends lines that leave it) and turns a
//! line wider than one pixel into a polygon whose inner corners run to
//! infinity where the line doubles back, as a spiky series does every few
//! pixels; those corners drew through titles and tick labels.

use std::ops::Range;

/// The plot box of a chart in backend pixels and the data ranges it shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PlotBox {
    /// Data x at the left and right edges.
    pub x: (f64, f64),
    /// Data y at the bottom and top edges.
    pub y: (f64, f64),
    /// True when y is on a log scale.
    pub log_y: bool,
    /// Left and right pixel columns (inclusive).
    pub left: f64,
    /// See `left`.
    pub right: f64,
    /// Top and bottom pixel rows (inclusive).
    pub top: f64,
    /// See `top`.
    pub bottom: f64,
}

impl PlotBox {
    /// The box of a plot area whose pixel range is `pixels` (as plotters'
    /// `get_pixel_range`: end-exclusive), showing `x` × `y`.
    pub fn new(
        x: (f64, f64),
        y: (f64, f64),
        log_y: bool,
        pixels: (Range<i32>, Range<i32>),
    ) -> PlotBox {
        PlotBox {
            x,
            y,
            log_y,
            left: f64::from(pixels.0.start),
            right: f64::from(pixels.0.end - 1),
            top: f64::from(pixels.1.start),
            bottom: f64::from(pixels.1.end - 1),
        }
    }

    /// Width of the box, pixels.
    pub(crate) fn width(&self) -> f64 {
        self.right - self.left
    }

    /// Pixel x of data `x` (not clamped).
    pub(crate) fn px_x(&self, x: f64) -> f64 {
        let span = self.x.1 - self.x.0;
        if span == 0.0 {
            return (self.left + self.right) / 2.0;
        }
        self.left + (x - self.x.0) / span * (self.right - self.left)
    }

    /// Pixel y of data `y` (not clamped); `None` for a non-finite value or,
    /// on a log axis, one ≤ 0.
    pub(crate) fn px_y(&self, y: f64) -> Option<f64> {
        let (v, lo, hi) = if self.log_y {
            if y.is_nan()
                || y <= 0.0
                || self.y.0.is_nan()
                || self.y.0 <= 0.0
                || self.y.1.is_nan()
                || self.y.1 <= 0.0
            {
                return None;
            }
            (y.ln(), self.y.0.ln(), self.y.1.ln())
        } else {
            (y, self.y.0, self.y.1)
        };
        let span = hi - lo;
        let p = if span == 0.0 {
            (self.top + self.bottom) / 2.0
        } else {
            self.bottom - (v - lo) / span * (self.bottom - self.top)
        };
        p.is_finite().then_some(p)
    }

    /// Pixel of a data point, when both coordinates map.
    pub(crate) fn px(&self, (x, y): (f64, f64)) -> Option<(f64, f64)> {
        let px = self.px_x(x);
        let py = self.px_y(y)?;
        (px.is_finite() && py.is_finite()).then_some((px, py))
    }

    /// The box shrunk by `by` pixels on every side (never inside out).
    pub(crate) fn inset(&self, by: f64) -> Rect {
        let r = Rect {
            left: self.left,
            top: self.top,
            right: self.right,
            bottom: self.bottom,
        };
        let by = by.max(0.0);
        let dx = by.min((r.right - r.left) / 2.0);
        let dy = by.min((r.bottom - r.top) / 2.0);
        Rect {
            left: r.left + dx,
            right: r.right - dx,
            top: r.top + dy,
            bottom: r.bottom - dy,
        }
    }
}

/// A pixel rectangle, edges inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    /// Left column.
    pub left: f64,
    /// Top row.
    pub top: f64,
    /// Right column.
    pub right: f64,
    /// Bottom row.
    pub bottom: f64,
}

impl Rect {
    /// True when `p` lies in the rectangle.
    pub(crate) fn contains(&self, p: (f64, f64)) -> bool {
        p.0 >= self.left && p.0 <= self.right && p.1 >= self.top && p.1 <= self.bottom
    }
}

/// The part of segment `a`–`b` inside `r` (Liang–Barsky), if any.
pub(crate) fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    r: &Rect,
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [
        (-dx, a.0 - r.left),
        (dx, r.right - a.0),
        (-dy, a.1 - r.top),
        (dy, r.bottom - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 || !t0.is_finite() || !t1.is_finite() {
        return None;
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// The parts of a polyline (pixels; `None` breaks it) inside `r`, as
/// polylines.
pub(crate) fn clip_polyline(points: &[Option<(f64, f64)>], r: &Rect) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let flush = |current: &mut Vec<(f64, f64)>, out: &mut Vec<Vec<(f64, f64)>>| {
        if !current.is_empty() {
            out.push(std::mem::take(current));
        }
    };
    let single = |p: (f64, f64)| r.contains(p);
    for i in 0..points.len() {
        let (Some(a), next) = (points[i], points.get(i + 1).copied().flatten()) else {
            flush(&mut current, &mut out);
            continue;
        };
        let Some(b) = next else {
            // The last point of a run: alone, it is a dot when inside.
            if current.is_empty() && single(a) {
                current.push(a);
            }
            flush(&mut current, &mut out);
            continue;
        };
        match clip_segment(a, b, r) {
            Some((p, q)) => {
                if current.last() != Some(&p) {
                    flush(&mut current, &mut out);
                    current.push(p);
                }
                current.push(q);
                if q != b {
                    flush(&mut current, &mut out);
                }
            }
            None => flush(&mut current, &mut out),
        }
    }
    flush(&mut current, &mut out);
    out
}

/// Integer pixels of a polyline without repeated points, split where it
/// turns by more than about 100°, so that a thick stroke has no far-flung
/// inner corner (each piece starts where the previous one ended).
pub(crate) fn split_sharp_turns(points: &[(f64, f64)]) -> Vec<Vec<(i32, i32)>> {
    let mut px: Vec<(i32, i32)> = Vec::with_capacity(points.len());
    for p in points {
        let q = (p.0.round() as i32, p.1.round() as i32);
        if px.last() != Some(&q) {
            px.push(q);
        }
    }
    if px.len() < 3 {
        return if px.is_empty() { Vec::new() } else { vec![px] };
    }
    let mut out = Vec::new();
    let mut piece = vec![px[0], px[1]];
    for w in px.windows(3) {
        let d1 = (f64::from(w[1].0 - w[0].0), f64::from(w[1].1 - w[0].1));
        let d2 = (f64::from(w[2].0 - w[1].0), f64::from(w[2].1 - w[1].1));
        let dot = d1.0 * d2.0 + d1.1 * d2.1;
        let norm = (d1.0.hypot(d1.1)) * (d2.0.hypot(d2.1));
        if dot < -0.17 * norm {
            out.push(std::mem::replace(&mut piece, vec![w[1]]));
        }
        piece.push(w[2]);
    }
    out.push(piece);
    out
}

/// The part of a polygon (pixels) inside `r` (Sutherland–Hodgman).
pub(crate) fn clip_polygon(points: &[(f64, f64)], r: &Rect) -> Vec<(f64, f64)> {
    type Edge = (
        fn(&Rect, (f64, f64)) -> bool,
        fn(&Rect, (f64, f64), (f64, f64)) -> (f64, f64),
    );
    fn at_x(a: (f64, f64), b: (f64, f64), x: f64) -> (f64, f64) {
        let t = (x - a.0) / (b.0 - a.0);
        (x, a.1 + t * (b.1 - a.1))
    }
    fn at_y(a: (f64, f64), b: (f64, f64), y: f64) -> (f64, f64) {
        let t = (y - a.1) / (b.1 - a.1);
        (a.0 + t * (b.0 - a.0), y)
    }
    let edges: [Edge; 4] = [
        (|r, p| p.0 >= r.left, |r, a, b| at_x(a, b, r.left)),
        (|r, p| p.0 <= r.right, |r, a, b| at_x(a, b, r.right)),
        (|r, p| p.1 >= r.top, |r, a, b| at_y(a, b, r.top)),
        (|r, p| p.1 <= r.bottom, |r, a, b| at_y(a, b, r.bottom)),
    ];
    let mut poly: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    for (inside, cut) in edges {
        if poly.is_empty() {
            break;
        }
        let input = std::mem::take(&mut poly);
        for i in 0..input.len() {
            let cur = input[i];
            let prev = input[(i + input.len() - 1) % input.len()];
            match (inside(r, prev), inside(r, cur)) {
                (true, true) => poly.push(cur),
                (true, false) => poly.push(cut(r, prev, cur)),
                (false, true) => {
                    poly.push(cut(r, prev, cur));
                    poly.push(cur);
                }
                (false, false) => {}
            }
        }
    }
    poly
}

/// One pixel column of a long series: the x span it covers (data units),
/// and the lowest, highest and mean value of the steps starting in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Column {
    /// Start of the column, data x.
    pub x0: f64,
    /// End of the column, data x.
    pub x1: f64,
    /// Lowest value.
    pub lo: f64,
    /// Highest value.
    pub hi: f64,
    /// Mean value.
    pub mean: f64,
}

/// Per pixel column of `x` split into `columns`: the min, max and mean of
/// the values whose x falls in it. A column without values is `None` (a
/// gap); non-finite values and x outside the range are skipped.
pub(crate) fn envelope(
    points: impl IntoIterator<Item = (f64, Option<f64>)>,
    x: (f64, f64),
    columns: usize,
) -> Vec<Option<Column>> {
    let columns = columns.max(1);
    let span = x.1 - x.0;
    let width = span / columns as f64;
    let mut acc: Vec<(f64, f64, f64, u32)> =
        vec![(f64::INFINITY, f64::NEG_INFINITY, 0.0, 0); columns];
    if span > 0.0 && span.is_finite() {
        for (px, v) in points {
            let Some(v) = v.filter(|v| v.is_finite()) else {
                continue;
            };
            let c = ((px - x.0) / width).floor();
            if !(c >= 0.0 && c < columns as f64) {
                continue;
            }
            let a = &mut acc[c as usize];
            a.0 = a.0.min(v);
            a.1 = a.1.max(v);
            a.2 += v;
            a.3 += 1;
        }
    }
    acc.into_iter()
        .enumerate()
        .map(|(i, (lo, hi, sum, n))| {
            (n > 0).then(|| Column {
                x0: x.0 + i as f64 * width,
                x1: x.0 + (i + 1) as f64 * width,
                lo,
                hi,
                mean: sum / f64::from(n),
            })
        })
        .collect()
}

/// About `target` evenly spaced round tick values in `[lo, hi]` (steps of
/// 1, 2, 2.5 or 5 × 10ᵏ), or none for an empty or non-finite range.
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return Vec::new();
    }
    let step = nice_step((hi - lo) / target.max(1) as f64);
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    if step.is_nan() || step <= 0.0 || last - first > 1000.0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut k = first;
    while k <= last {
        let v = k * step;
        // Snap float dust (0.30000000000000004 -> 0.3, -0 -> 0).
        let v = (v / step).round() * step;
        let v = format!("{v:.12e}").parse::<f64>().unwrap_or(v);
        out.push(if v == 0.0 { 0.0 } else { v });
        k += 1.0;
    }
    out
}

/// The round step (1, 2, 2.5 or 5 × 10ᵏ) nearest above `raw`.
pub(crate) fn nice_step(raw: f64) -> f64 {
    if raw.is_nan() || raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Tick values of a log axis over `[lo, hi]` (both > 0): powers of ten
/// when they give at least `min` ticks (thinned to every 2nd, 3rd… decade
/// over a wide range), otherwise 1-2-5 multiples (1-3 when those would be
/// more than 8), otherwise 1…9 multiples;
/// at least two ticks whenever the range is valid.
pub(crate) fn log_ticks(lo: f64, hi: f64, min: usize) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let within = |mults: &[f64]| -> Vec<f64> {
        let mut out = Vec::new();
        for e in a..=b {
            for m in mults {
                let v = format!("{m}e{e}").parse::<f64>().unwrap_or(f64::NAN);
                if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                    out.push(v);
                }
            }
        }
        out
    };
    let decades = within(&[1.0]);
    if decades.len() >= min.max(2) {
        let every = decades.len().div_ceil(8).max(1);
        return decades.into_iter().step_by(every).collect();
    }
    let fives = within(&[1.0, 2.0, 5.0]);
    if fives.len() > 8 {
        // Crowded: a 1-3 ladder (1, 3, 10, 30…) reads better.
        return within(&[1.0, 3.0]);
    }
    if fives.len() >= min.max(2) {
        return fives;
    }
    let all = within(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    if all.len() >= 2 {
        return all;
    }
    // A range inside one step of the 1…9 ladder: its two ends.
    vec![lo, hi]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect() -> Rect {
        Rect {
            left: 0.0,
            top: 0.0,
            right: 10.0,
            bottom: 10.0,
        }
    }

    #[test]
    fn segments_are_cut_at_the_box_edges() {
        let r = rect();
        assert_eq!(
            clip_segment((-5.0, 5.0), (15.0, 5.0), &r),
            Some(((0.0, 5.0), (10.0, 5.0)))
        );
        assert_eq!(clip_segment((-5.0, -5.0), (-1.0, 20.0), &r), None);
        assert_eq!(
            clip_segment((2.0, 2.0), (3.0, 3.0), &r),
            Some(((2.0, 2.0), (3.0, 3.0)))
        );
        // A spike far above the box leaves two stubs, not one bent line.
        let parts = clip_polyline(
            &[Some((1.0, 5.0)), Some((2.0, -1000.0)), Some((3.0, 5.0))],
            &r,
        );
        assert_eq!(parts.len(), 2);
        for p in parts.iter().flatten() {
            assert!(r.contains(*p), "{p:?}");
        }
        let gap = clip_polyline(&[Some((1.0, 1.0)), None, Some((2.0, 2.0))], &r);
        assert_eq!(gap, vec![vec![(1.0, 1.0)], vec![(2.0, 2.0)]]);
    }

    #[test]
    fn polygons_are_cut_to_the_box() {
        let poly = clip_polygon(
            &[(-5.0, 5.0), (5.0, -5.0), (15.0, 5.0), (5.0, 15.0)],
            &rect(),
        );
        assert!(!poly.is_empty());
        assert!(poly.iter().all(|p| rect().contains(*p)), "{poly:?}");
        assert!(clip_polygon(&[(20.0, 20.0), (30.0, 20.0), (30.0, 30.0)], &rect()).is_empty());
    }

    #[test]
    fn thick_lines_split_where_they_double_back() {
        let pieces =
            split_sharp_turns(&[(0.0, 0.0), (1.0, 100.0), (2.0, 0.0), (3.0, 0.0), (4.0, 1.0)]);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0], vec![(0, 0), (1, 100)]);
        assert_eq!(pieces[1][0], (1, 100));
        // Stairs turn by 90°: one piece.
        let stairs = split_sharp_turns(&[(0.0, 0.0), (5.0, 0.0), (5.0, 5.0), (9.0, 5.0)]);
        assert_eq!(stairs.len(), 1);
    }

    #[test]
    fn envelopes_hold_min_max_and_mean_per_column() {
        let pts = (0..100).map(|i| (f64::from(i), Some(f64::from(i % 10))));
        let cols = envelope(pts, (0.0, 100.0), 10);
        assert_eq!(cols.len(), 10);
        let c = cols[3].unwrap();
        assert_eq!((c.lo, c.hi, c.mean), (0.0, 9.0, 4.5));
        assert_eq!((c.x0, c.x1), (30.0, 40.0));
        let gaps = envelope([(0.5, Some(1.0)), (1.5, None)], (0.0, 2.0), 2);
        assert!(gaps[0].is_some() && gaps[1].is_none());
    }

    #[test]
    fn ticks_land_on_round_values() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(nice_ticks(38.12, 57.78, 5), vec![40.0, 45.0, 50.0, 55.0]);
        assert_eq!(nice_ticks(0.1, 0.5, 4), vec![0.1, 0.2, 0.3, 0.4, 0.5]);
        assert_eq!(nice_ticks(-1.0, 1.0, 4), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        assert!(nice_ticks(1.0, 1.0, 5).is_empty());
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(2.2), 2.5);
    }

    #[test]
    fn log_axes_get_several_labelled_ticks() {
        // The diurnal latency range: one decade boundary only.
        assert_eq!(log_ticks(0.03, 0.8, 4), vec![0.05, 0.1, 0.2, 0.5]);
        assert_eq!(log_ticks(0.03, 300.0, 4), vec![0.1, 1.0, 10.0, 100.0]);
        assert_eq!(log_ticks(0.1, 0.15, 3).len(), 2);
        let wide = log_ticks(1e-6, 1e10, 4);
        assert!(wide.len() >= 4 && wide.len() <= 9, "{wide:?}");
        assert!(log_ticks(0.0, 1.0, 4).is_empty());
        assert_eq!(
            log_ticks(0.7, 700.0, 4),
            vec![1.0, 3.0, 10.0, 30.0, 100.0, 300.0]
        );
    }
}
