//! Interval bins that importers add requests to, in any time order.
//!
//! Bin `k` covers `[anchor + k·Δ, anchor + (k+1)·Δ)` with `Δ = interval_s`;
//! `anchor` is `--start` when given and 0 otherwise, so without `--start`
//! bins are aligned to whole multiples of the interval on the input's time
//! axis (Unix seconds for logs). A request at time `t` goes to bin
//! `⌊(t − anchor)/Δ⌋`; a count that covers a span `[a, b)` (a minute of an
//! Azure table, an hour of pagecounts, a row of a native trace) is shared
//! among the bins it overlaps in proportion to the overlap, i.e. assuming
//! arrivals uniform within the span. Overlaps below 1e-9 of an interval are
//! float rounding of boundaries that coincide, and are ignored.
//!
//! Memory is one `f64` per interval between the earliest and the latest
//! record (at most [`MAX_IMPORT_INTERVALS`]), whatever the input size.
//! Records may arrive out of order: bins are indexed, not appended, and a
//! record earlier than every bin so far grows the vector at the front with
//! slack, so even a log in reverse order costs amortised O(1) per record.

use super::LineError;

/// Most intervals an import may span (10 million, 80 MB of counts). A
/// record that would stretch the span beyond this is reported as malformed
/// (most likely a corrupt timestamp); bound the import with `--start` and
/// `--end` to import a longer stretch at a coarser interval.
pub(crate) const MAX_IMPORT_INTERVALS: usize = 10_000_000;

/// Overlaps below this fraction of an interval are rounding, not time.
const SLIVER: f64 = 1e-9;

/// Largest bin index magnitude handled; beyond it, times are out of range.
const MAX_INDEX: f64 = 1e15;

/// Whether a record fell inside the import window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placed {
    /// Some of its requests were counted.
    Inside,
    /// It lies wholly before `--start` or at/after `--end`.
    Outside,
}

/// The growing vector of per-interval counts.
#[derive(Debug)]
pub(crate) struct Bins {
    /// Interval, seconds (positive, finite).
    interval_s: f64,
    /// Time of the boundary of bin 0, seconds.
    anchor: f64,
    /// Whether `anchor` is `--start` (records before it are outside).
    fixed_start: bool,
    /// `--end`, seconds: records at or after it are outside.
    end: Option<f64>,
    /// Index of the last bin that starts before `end`.
    end_index: Option<i64>,
    /// Bin index of `counts[0]`.
    first: i64,
    /// Counts, bins `first..first + len`.
    counts: Vec<f64>,
    /// Lowest and highest bin index any record touched.
    touched: Option<(i64, i64)>,
    /// Span limit, intervals.
    max_intervals: usize,
}

/// The finished bins: counts of consecutive intervals from `origin`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Binned {
    /// Time of the start of the first interval, seconds.
    pub origin: f64,
    /// Requests per interval.
    pub counts: Vec<f64>,
}

impl Bins {
    /// Empty bins of `interval_s` seconds (positive and finite, checked by
    /// the caller), anchored at `start` if given; records at or after `end`
    /// are outside. `start < end` is checked by the caller.
    pub fn new(interval_s: f64, start: Option<f64>, end: Option<f64>) -> Self {
        Self::with_limit(interval_s, start, end, MAX_IMPORT_INTERVALS)
    }

    /// As [`Bins::new`] with another span limit (for tests).
    pub(crate) fn with_limit(
        interval_s: f64,
        start: Option<f64>,
        end: Option<f64>,
        max_intervals: usize,
    ) -> Self {
        let anchor = start.unwrap_or(0.0);
        let mut bins = Bins {
            interval_s,
            anchor,
            fixed_start: start.is_some(),
            end,
            end_index: None,
            first: 0,
            counts: Vec::new(),
            touched: None,
            max_intervals,
        };
        bins.end_index = end.and_then(|e| bins.last_index_before(e));
        bins
    }

    /// Number of intervals from `start` to `end` when both are given.
    pub(crate) fn window_intervals(&self) -> Option<f64> {
        let end = self.end?;
        if !self.fixed_start {
            return None;
        }
        Some(((end - self.anchor) / self.interval_s).ceil())
    }

    /// Start time of bin `k`.
    fn bin_start(&self, k: i64) -> f64 {
        self.anchor + k as f64 * self.interval_s
    }

    /// The bin holding time `t`, or `None` if `t` is too far from the
    /// anchor to index.
    fn index_of(&self, t: f64) -> Option<i64> {
        let q = ((t - self.anchor) / self.interval_s).floor();
        if !q.is_finite() || q.abs() > MAX_INDEX {
            return None;
        }
        // In range, checked just above.
        let mut k = q as i64;
        // Correct the division's rounding at bin boundaries.
        if self.bin_start(k + 1) <= t {
            k += 1;
        } else if self.bin_start(k) > t {
            k -= 1;
        }
        Some(k)
    }

    /// The last bin that starts strictly before `t`.
    fn last_index_before(&self, t: f64) -> Option<i64> {
        let k = self.index_of(t)?;
        Some(if self.bin_start(k) < t { k } else { k - 1 })
    }

    /// Whether time `t` is inside the window.
    fn inside(&self, t: f64) -> bool {
        (!self.fixed_start || t >= self.anchor) && self.end.is_none_or(|e| t < e)
    }

    /// Makes room for bin `k` and returns its position in `counts`.
    fn slot(&mut self, k: i64, t: f64) -> Result<usize, LineError> {
        let (lo, hi) = match self.touched {
            None => (k, k),
            Some((lo, hi)) => (lo.min(k), hi.max(k)),
        };
        let lo_out = if self.fixed_start { 0 } else { lo };
        let span = (hi - lo_out).saturating_add(1);
        if span > self.max_intervals as i64 {
            return Err(LineError::TooFar {
                time: t,
                intervals: u64::try_from(span).unwrap_or(u64::MAX),
                max: self.max_intervals,
            });
        }
        if self.counts.is_empty() {
            self.first = if self.fixed_start { 0 } else { k };
        }
        if k < self.first {
            // Grow at the front with slack (up to the current length, within
            // the limit), so repeated earlier records do not copy each time.
            let need = self.first - k;
            let room = self.max_intervals as i64 - span;
            let slack = (self.counts.len() as i64).min(room).max(0);
            let grow = need + slack;
            let mut grown = Vec::with_capacity(self.counts.len() + grow as usize);
            grown.resize(grow as usize, 0.0);
            grown.extend_from_slice(&self.counts);
            self.counts = grown;
            self.first -= grow;
        }
        let pos = (k - self.first) as usize;
        if pos >= self.counts.len() {
            self.counts.resize(pos + 1, 0.0);
        }
        self.touched = Some((lo, hi));
        Ok(pos)
    }

    /// Adds `count` requests at time `t`.
    ///
    /// # Errors
    /// [`LineError::TooFar`] if the record would stretch the import beyond
    /// the span limit; [`LineError::TimeOutOfRange`] for a time that cannot
    /// be indexed.
    pub(crate) fn add_instant(&mut self, t: f64, count: f64) -> Result<Placed, LineError> {
        if !self.inside(t) {
            return Ok(Placed::Outside);
        }
        let k = self.index_of(t).ok_or(LineError::TimeOutOfRange(t))?;
        let pos = self.slot(k, t)?;
        self.counts[pos] += count;
        Ok(Placed::Inside)
    }

    /// Adds `count` requests spread uniformly over `[from, to)`, clipped to
    /// the window (the part outside is not counted).
    ///
    /// # Errors
    /// As [`Bins::add_instant`]; nothing is added on error.
    pub(crate) fn add_span(&mut self, from: f64, to: f64, count: f64) -> Result<Placed, LineError> {
        let width = to - from;
        if !(width > 0.0 && width.is_finite()) {
            return Err(LineError::TimeOutOfRange(from));
        }
        let lo_t = if self.fixed_start {
            from.max(self.anchor)
        } else {
            from
        };
        let hi_t = self.end.map_or(to, |e| to.min(e));
        let sliver = SLIVER * self.interval_s;
        if hi_t - lo_t <= sliver {
            return Ok(Placed::Outside);
        }
        let k0 = self.index_of(lo_t).ok_or(LineError::TimeOutOfRange(from))?;
        let k1 = self
            .last_index_before(hi_t)
            .ok_or(LineError::TimeOutOfRange(to))?
            .max(k0);
        // Reserve both ends first, so an error leaves the bins unchanged.
        self.slot(k0, lo_t)?;
        self.slot(k1, hi_t)?;
        let mut assigned = 0.0;
        let mut last = None;
        for k in k0..=k1 {
            let bin_from = self.bin_start(k);
            let bin_to = self.bin_start(k + 1);
            let overlap = hi_t.min(bin_to) - lo_t.max(bin_from);
            if overlap > sliver {
                let pos = (k - self.first) as usize;
                let share = count * (overlap / width);
                self.counts[pos] += share;
                assigned += share;
                last = Some(pos);
            }
        }
        // An unclipped span hands out exactly its count: the rounding left
        // over goes to its last bin.
        if lo_t == from && hi_t == to {
            if let Some(pos) = last {
                self.counts[pos] += count - assigned;
            }
        }
        Ok(if last.is_some() {
            Placed::Inside
        } else {
            Placed::Outside
        })
    }

    /// The counts from the first bin (the `--start` bin, or the earliest
    /// record's) to the last (the one before `--end`, or the latest
    /// record's), empty intervals as zeros. `None` if nothing was added and
    /// no window fixes the range.
    ///
    /// # Errors
    /// The number of intervals if the range exceeds the span limit (only
    /// possible when `--end` lies far beyond the records).
    pub(crate) fn finish(self) -> Result<Option<Binned>, u64> {
        let lo = match (self.fixed_start, self.touched) {
            (true, _) => 0,
            (false, Some((lo, _))) => lo,
            (false, None) => return Ok(None),
        };
        let hi = match (self.end_index, self.touched) {
            (Some(e), _) => e,
            (None, Some((_, hi))) => hi,
            (None, None) => return Ok(None),
        };
        if hi < lo {
            return Ok(Some(Binned {
                origin: self.bin_start(lo),
                counts: Vec::new(),
            }));
        }
        let len = (hi - lo).saturating_add(1);
        if len > self.max_intervals as i64 {
            return Err(u64::try_from(len).unwrap_or(u64::MAX));
        }
        let mut counts = vec![0.0; len as usize];
        for (i, c) in self.counts.iter().enumerate() {
            let k = self.first + i as i64;
            if (lo..=hi).contains(&k) {
                counts[(k - lo) as usize] = *c;
            }
        }
        Ok(Some(Binned {
            origin: self.bin_start(lo),
            counts,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn instants_land_in_their_interval_without_a_window() {
        let mut b = Bins::new(60.0, None, None);
        for t in [125.0, 60.0, 119.0, 300.0, 61.0] {
            assert_eq!(b.add_instant(t, 1.0).unwrap(), Placed::Inside);
        }
        let out = b.finish().unwrap().unwrap();
        assert_eq!(out.origin, 60.0);
        assert_eq!(out.counts, vec![3.0, 1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn a_window_fixes_both_ends_and_excludes_records_outside() {
        let mut b = Bins::new(10.0, Some(100.0), Some(150.0));
        assert_eq!(b.add_instant(99.0, 1.0).unwrap(), Placed::Outside);
        assert_eq!(b.add_instant(150.0, 1.0).unwrap(), Placed::Outside);
        assert_eq!(b.add_instant(100.0, 1.0).unwrap(), Placed::Inside);
        assert_eq!(b.add_instant(125.0, 2.0).unwrap(), Placed::Inside);
        let out = b.finish().unwrap().unwrap();
        assert_eq!(out.origin, 100.0);
        assert_eq!(out.counts, vec![1.0, 0.0, 2.0, 0.0, 0.0]);
        // A partial last interval is kept (145 → 150 is half of it).
        let mut b = Bins::new(10.0, Some(100.0), Some(145.0));
        b.add_instant(144.0, 1.0).unwrap();
        assert_eq!(b.finish().unwrap().unwrap().counts.len(), 5);
    }

    #[test]
    fn records_before_every_bin_grow_the_front() {
        let mut b = Bins::new(1.0, None, None);
        for t in (0..1000).rev() {
            b.add_instant(f64::from(t) + 0.5, 1.0).unwrap();
        }
        let out = b.finish().unwrap().unwrap();
        assert_eq!(out.origin, 0.0);
        assert_eq!(out.counts, vec![1.0; 1000]);
    }

    #[test]
    fn a_record_beyond_the_span_limit_is_an_error_and_changes_nothing() {
        let mut b = Bins::with_limit(60.0, None, None, 100);
        b.add_instant(0.0, 1.0).unwrap();
        let e = b.add_instant(6000.0, 1.0).unwrap_err();
        assert!(
            matches!(
                e,
                LineError::TooFar {
                    intervals: 101,
                    max: 100,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = b.add_span(-6000.0, -5940.0, 1.0).unwrap_err();
        assert!(matches!(e, LineError::TooFar { .. }));
        b.add_instant(5999.0, 1.0).unwrap();
        let out = b.finish().unwrap().unwrap();
        assert_eq!(out.counts.len(), 100);
        assert_eq!(out.counts.iter().sum::<f64>(), 2.0);
        assert!(Bins::new(1.0, None, None).add_instant(1e300, 1.0).is_err());
    }

    #[test]
    fn spans_are_shared_in_proportion_to_overlap() {
        // Minutes into 5-minute bins: whole.
        let mut b = Bins::new(300.0, Some(0.0), None);
        for m in 0..10 {
            b.add_span(f64::from(m) * 60.0, f64::from(m + 1) * 60.0, 1.0)
                .unwrap();
        }
        assert_eq!(b.finish().unwrap().unwrap().counts, vec![5.0, 5.0]);
        // An hour over a start that is not on the hour: split.
        let mut b = Bins::new(3600.0, Some(1800.0), None);
        b.add_span(0.0, 3600.0, 10.0).unwrap();
        b.add_span(3600.0, 7200.0, 20.0).unwrap();
        assert_eq!(b.finish().unwrap().unwrap().counts, vec![15.0, 10.0]);
    }

    #[test]
    fn spans_wholly_outside_the_window_are_outside() {
        let mut b = Bins::new(60.0, Some(600.0), Some(1200.0));
        assert_eq!(b.add_span(0.0, 600.0, 5.0).unwrap(), Placed::Outside);
        assert_eq!(b.add_span(1200.0, 1260.0, 5.0).unwrap(), Placed::Outside);
        assert_eq!(b.add_span(1190.0, 1250.0, 6.0).unwrap(), Placed::Inside);
        let out = b.finish().unwrap().unwrap();
        assert_eq!(out.counts.len(), 10);
        assert_eq!(out.counts[9], 1.0);
    }

    #[test]
    fn an_end_far_beyond_the_records_is_refused_at_the_finish() {
        let mut b = Bins::with_limit(1.0, None, Some(1e6), 1000);
        b.add_instant(5.0, 1.0).unwrap();
        assert_eq!(b.finish().unwrap_err(), 1_000_000 - 5);
    }

    #[test]
    fn every_instant_lands_in_the_bin_whose_bounds_hold_it() {
        for interval in [0.1, 0.3, 7.0, 60.0] {
            let b = Bins::new(interval, Some(0.25), None);
            for i in 0..2000 {
                let t = 0.25 + f64::from(i) * 0.1;
                let k = b.index_of(t).unwrap();
                assert!(
                    b.bin_start(k) <= t && t < b.bin_start(k + 1),
                    "{t} in {k} of {interval}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn every_request_inside_the_window_is_counted_once(
            times in proptest::collection::vec(0.0..1e5f64, 1..200),
            interval in prop_oneof![Just(1.0), Just(60.0), 0.5..5000.0f64],
            window in proptest::option::of((0.0..5e4f64, 1.0..6e4f64)),
        ) {
            let (start, end) = match window {
                Some((s, len)) => (Some(s), Some(s + len)),
                None => (None, None),
            };
            let mut b = Bins::new(interval, start, end);
            let mut inside = 0.0;
            for &t in &times {
                if b.add_instant(t, 1.0).unwrap() == Placed::Inside {
                    inside += 1.0;
                }
            }
            let expected = times.iter().filter(|&&t| {
                start.is_none_or(|s| t >= s) && end.is_none_or(|e| t < e)
            }).count() as f64;
            prop_assert_eq!(inside, expected);
            if let Some(out) = b.finish().unwrap() {
                prop_assert_eq!(out.counts.iter().sum::<f64>(), expected);
                prop_assert!(out.counts.len() <= MAX_IMPORT_INTERVALS);
            }
        }

        #[test]
        fn spans_conserve_their_counts_when_unclipped(
            spans in proptest::collection::vec((0u32..500, 1u32..50, 0.0..1e4f64), 1..50),
            interval in prop_oneof![Just(60.0), Just(7.0), 1.0..900.0f64],
        ) {
            let mut b = Bins::new(interval, None, None);
            let mut total = 0.0;
            for &(from, len, count) in &spans {
                let from = f64::from(from) * 10.0;
                b.add_span(from, from + f64::from(len) * 10.0, count).unwrap();
                total += count;
            }
            let out = b.finish().unwrap().unwrap();
            let sum: f64 = out.counts.iter().sum();
            prop_assert!((sum - total).abs() <= 1e-9 * total.max(1.0), "{} vs {}", sum, total);
            prop_assert!(out.counts.iter().all(|c| *c >= -1e-9 * total.max(1.0)));
        }
    }
}
