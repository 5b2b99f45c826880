//! Resampling a trace to another step, conserving requests.
//!
//! Counts are requests per interval; times are seconds from the trace start.
//! Source interval `i` covers `[i·interval_s, (i+1)·interval_s)` and target
//! step `j` covers `[j·step_s, (j+1)·step_s)`. Each source count is spread
//! over the target steps in proportion to the overlap, i.e. arrivals are
//! assumed uniform within a source interval:
//!
//! ```text
//! out[j] = Σ_i requests[i] · |source_i ∩ step_j| / interval_s
//! ```
//!
//! So a coarser step sums whole intervals, a finer step splits each count
//! evenly, and nothing is invented: the total over the covered span is
//! conserved up to float rounding. A final partial step is dropped together
//! with the requests that fall in it.
//!
//! Boundaries closer than 1e-9 of a source interval are treated as
//! coinciding, so float rounding never leaks a sliver of a count into a
//! neighbouring step, and each source interval inside the covered span hands
//! out exactly its count.

use std::path::PathBuf;

use super::{FileError, Trace, TraceError};

/// Largest number of steps [`Trace::resample`] produces (50 million, 400 MB
/// of `f64`); asking for more is an error rather than an allocation failure.
pub(crate) const MAX_RESAMPLED_STEPS: usize = 50_000_000;

/// Overlaps below this fraction of the source interval are ignored as
/// rounding between boundaries that coincide.
const SLIVER: f64 = 1e-9;

/// Relative slack when counting whole steps, so that a duration that is a
/// multiple of the step up to float rounding still gives the last step.
const WHOLE_STEP_SLACK: f64 = 1e-12;

impl Trace {
    /// Request counts per step of `step_s` seconds, starting at the trace
    /// start (see the module docs for the formula). The result has
    /// `floor(duration_s / step_s)` entries (allowing for float rounding); a
    /// final partial step is dropped.
    ///
    /// `step_s` must be positive and finite; it need not be a multiple or a
    /// divisor of `interval_s` (e.g. 60 s → 90 s works).
    ///
    /// # Errors
    /// [`TraceError::File`] with the trace name as path and
    /// - [`FileError::BadStep`] if `step_s` is not positive and finite;
    /// - [`FileError::BadInterval`] if the trace's own interval is not;
    /// - [`FileError::TooShort`] if the trace does not fill one step;
    /// - [`FileError::TooManySteps`] if the result would exceed
    ///   [`MAX_RESAMPLED_STEPS`] entries.
    pub(crate) fn resample(&self, step_s: f64) -> Result<Vec<f64>, TraceError> {
        let fail = |kind| TraceError::File {
            path: PathBuf::from(&self.name),
            kind,
        };
        if !step_s.is_finite() || step_s <= 0.0 {
            return Err(fail(FileError::BadStep { step_s }));
        }
        let interval_s = self.interval_s;
        if !interval_s.is_finite() || interval_s <= 0.0 {
            return Err(fail(FileError::BadInterval { interval_s }));
        }
        let duration_s = self.duration_s();
        let whole_steps = (duration_s / step_s * (1.0 + WHOLE_STEP_SLACK)).floor();
        if whole_steps.is_nan() || whole_steps < 1.0 {
            return Err(fail(FileError::TooShort { duration_s, step_s }));
        }
        if whole_steps > MAX_RESAMPLED_STEPS as f64 {
            return Err(fail(FileError::TooManySteps {
                step_s,
                steps: whole_steps,
                max: MAX_RESAMPLED_STEPS,
            }));
        }
        // In range 1..=MAX_RESAMPLED_STEPS, checked just above.
        let steps = whole_steps as usize;
        let end_s = steps as f64 * step_s;

        // Overlaps this small are float rounding of boundaries that coincide.
        let sliver_s = SLIVER * interval_s;
        let mut out = vec![0.0; steps];
        for (i, &count) in self.requests.iter().enumerate() {
            if count == 0.0 {
                continue;
            }
            let from = i as f64 * interval_s;
            let to = (i + 1) as f64 * interval_s;
            if from >= end_s {
                break;
            }
            let mut assigned = 0.0;
            let mut last_step = None;
            // A float-to-int cast saturates, so this cannot overflow.
            let mut j = (from / step_s).floor() as usize;
            while j < steps {
                let step_from = j as f64 * step_s;
                let step_to = (j + 1) as f64 * step_s;
                let overlap = to.min(step_to) - from.max(step_from);
                if overlap > sliver_s {
                    let share = count * (overlap / interval_s);
                    out[j] += share;
                    assigned += share;
                    last_step = Some(j);
                }
                if step_to >= to {
                    break;
                }
                j += 1;
            }
            // A source interval inside the covered span hands out exactly its
            // count: the rounding left over goes to its last step.
            if to <= end_s + sliver_s {
                if let Some(j) = last_step {
                    out[j] += count - assigned;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn trace(requests: Vec<f64>, interval_s: f64) -> Trace {
        Trace {
            name: "t".into(),
            start_s: 1000.0,
            interval_s,
            requests,
        }
    }

    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn a_coarser_multiple_step_sums_whole_intervals() {
        let t = trace(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 60.0);
        assert_eq!(t.resample(120.0).unwrap(), vec![3.0, 7.0, 11.0]);
        assert_eq!(t.resample(180.0).unwrap(), vec![6.0, 15.0]);
        assert_eq!(t.resample(360.0).unwrap(), vec![21.0]);
    }

    #[test]
    fn the_same_step_returns_the_counts_unchanged() {
        let t = trace(vec![1.5, 0.0, 7.0], 60.0);
        assert_eq!(t.resample(60.0).unwrap(), t.requests);
    }

    #[test]
    fn a_finer_step_splits_counts_in_proportion() {
        let t = trace(vec![6.0, 12.0], 60.0);
        assert_eq!(t.resample(30.0).unwrap(), vec![3.0, 3.0, 6.0, 6.0]);
        assert_close(&t.resample(20.0).unwrap(), &[2.0, 2.0, 2.0, 4.0, 4.0, 4.0]);
    }

    #[test]
    fn a_step_that_is_not_a_multiple_splits_at_the_boundaries() {
        // 60 s → 90 s: step 0 takes row 0 and half of row 1, step 1 the rest.
        let t = trace(vec![60.0, 120.0, 180.0], 60.0);
        assert_eq!(t.resample(90.0).unwrap(), vec![120.0, 240.0]);
        // 60 s → 45 s: 4 whole steps in 180 s.
        assert_close(
            &t.resample(45.0).unwrap(),
            &[45.0, 15.0 + 60.0, 60.0 + 45.0, 135.0],
        );
    }

    #[test]
    fn a_final_partial_step_is_dropped() {
        let t = trace(vec![60.0, 120.0, 180.0, 240.0], 60.0);
        assert_eq!(t.resample(90.0).unwrap(), vec![120.0, 240.0]);
        assert_eq!(t.resample(150.0).unwrap(), vec![60.0 + 120.0 + 90.0]);
    }

    #[test]
    fn decimal_steps_keep_their_last_whole_step_despite_rounding() {
        let t = trace(vec![1.0; 3], 0.1);
        assert_close(&t.resample(0.3).unwrap(), &[3.0]);
        let t = trace(vec![1.0; 10], 0.1);
        assert_close(&t.resample(0.2).unwrap(), &[2.0; 5]);
    }

    #[test]
    fn a_trace_shorter_than_one_step_is_an_error() {
        let e = trace(vec![1.0, 2.0], 60.0).resample(180.0).unwrap_err();
        assert!(matches!(
            e,
            TraceError::File {
                kind: FileError::TooShort { duration_s, step_s },
                ..
            } if duration_s == 120.0 && step_s == 180.0
        ));
        assert_eq!(
            e.to_string(),
            "t: trace lasts 120 s, shorter than one step of 180 s"
        );
        assert!(trace(vec![], 60.0).resample(60.0).is_err());
    }

    #[test]
    fn invalid_steps_and_intervals_are_errors() {
        let t = trace(vec![1.0, 2.0], 60.0);
        for step in [0.0, -60.0, f64::NAN, f64::INFINITY] {
            assert!(
                matches!(
                    t.resample(step),
                    Err(TraceError::File {
                        kind: FileError::BadStep { .. },
                        ..
                    })
                ),
                "step {step}"
            );
        }
        for interval in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                trace(vec![1.0, 2.0], interval).resample(60.0),
                Err(TraceError::File {
                    kind: FileError::BadInterval { .. },
                    ..
                })
            ));
        }
    }

    #[test]
    fn a_tiny_step_is_refused_instead_of_allocating_without_bound() {
        let e = trace(vec![1.0, 2.0], 60.0).resample(1e-300).unwrap_err();
        assert!(matches!(
            e,
            TraceError::File {
                kind: FileError::TooManySteps { .. },
                ..
            }
        ));
    }

    fn interval() -> impl Strategy<Value = f64> {
        prop_oneof![(1u32..3600).prop_map(f64::from), 0.01..5000.0f64]
    }

    proptest! {
        #[test]
        fn resampling_conserves_the_requests_in_the_covered_span(
            requests in proptest::collection::vec(0.0..1e6f64, 1..200),
            interval_s in interval(),
            step_frac in 0.001..1.0f64,
        ) {
            let t = trace(requests, interval_s);
            let step_s = t.duration_s() * step_frac;
            let out = t.resample(step_s).unwrap();
            let end = out.len() as f64 * step_s;
            // Requests of the source intervals, clipped to [0, end).
            let expected: f64 = t.requests.iter().enumerate().map(|(i, c)| {
                let from = i as f64 * interval_s;
                let to = from + interval_s;
                c * ((to.min(end) - from).max(0.0) / interval_s)
            }).sum();
            let total: f64 = out.iter().sum();
            let scale = t.requests.iter().sum::<f64>().max(1.0);
            prop_assert!((total - expected).abs() <= 1e-9 * scale,
                "total {} expected {}", total, expected);
            prop_assert!(out.iter().all(|x| *x >= 0.0 && x.is_finite()));
        }

        #[test]
        fn a_whole_multiple_step_conserves_the_total_exactly_up_to_rounding(
            requests in proptest::collection::vec(0.0..1e6f64, 1..40),
            repeats in 1usize..6,
            interval_s in interval(),
            factor in 1usize..6,
            finer in any::<bool>(),
        ) {
            let mut all = Vec::new();
            for _ in 0..repeats * factor {
                all.extend_from_slice(&requests);
            }
            let t = trace(all, interval_s);
            let step_s = if finer {
                interval_s / factor as f64
            } else {
                interval_s * (requests.len() * factor) as f64
            };
            let out = t.resample(step_s).unwrap();
            let total: f64 = out.iter().sum();
            let source: f64 = t.requests.iter().sum();
            prop_assert!((total - source).abs() <= 1e-9 * source.max(1.0),
                "total {} source {}", total, source);
        }

        #[test]
        fn splitting_then_summing_gives_back_the_original_counts(
            requests in proptest::collection::vec(0.0..1e6f64, 1..100),
            interval_s in interval(),
            parts in 2usize..7,
        ) {
            let t = trace(requests, interval_s);
            let fine_step = interval_s / parts as f64;
            let fine = trace(t.resample(fine_step).unwrap(), fine_step);
            let back = fine.resample(interval_s).unwrap();
            prop_assert_eq!(back.len(), t.requests.len());
            for (b, r) in back.iter().zip(&t.requests) {
                prop_assert!((b - r).abs() <= 1e-9 * r.max(1.0), "{} vs {}", b, r);
            }
        }
    }
}
