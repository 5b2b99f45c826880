//! Summary statistics of a trace, as printed by `qscale trace stats`.
//!
//! With `x_i` the request count of interval `i` (n rows, interval Δ s):
//!
//! | column | meaning |
//! | --- | --- |
//! | `rows` | n |
//! | `interval_s` | Δ |
//! | `span_s` | n·Δ, the time the trace covers |
//! | `mean_rps` | mean(x)/Δ |
//! | `peak_rps` | max(x)/Δ |
//! | `peak_to_mean` | max(x)/mean(x); empty when the mean is 0 |
//! | `cv` | coefficient of variation σ/mean of the counts, σ the population standard deviation `sqrt(Σ(x_i − x̄)²/n)`; empty when the mean is 0 |
//! | `daily_autocorr` | Pearson correlation between `x_i` and `x_{i+L}` over all `i < n − L`, `L = round(86 400/Δ)` rows (one day); empty when the trace is shorter than two days (`n < 2L`), Δ exceeds a day, or either side is constant |
//! | `max_jump_rps` | max |x_{i+1} − x_i|/Δ, the largest one-step change of the rate; 0 for one row |
//!
//! The daily autocorrelation is close to 1 for a strong daily cycle, near 0
//! for no day-to-day pattern; using the correlation of the lagged pairs
//! (rather than the biased sample autocorrelation with the whole-series
//! variance) keeps it comparable between traces of two days and of months.

use serde::Serialize;

use super::Trace;

/// One day, seconds.
const DAY_S: f64 = 86_400.0;

/// The statistics of one trace; field order is the CSV column order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct TraceStats {
    /// Trace name.
    pub name: String,
    /// Number of intervals.
    pub rows: usize,
    /// Interval, seconds.
    pub interval_s: f64,
    /// Rows × interval, seconds.
    pub span_s: f64,
    /// Mean request rate, requests per second.
    pub mean_rps: f64,
    /// Highest per-interval rate, requests per second.
    pub peak_rps: f64,
    /// Peak over mean (≥ 1); `None` when the mean is 0.
    pub peak_to_mean: Option<f64>,
    /// Coefficient of variation of the counts (≥ 0); `None` when the mean
    /// is 0.
    pub cv: Option<f64>,
    /// Lag-one-day autocorrelation of the counts, in [−1, 1]; `None` when it
    /// is undefined (see the module docs).
    pub daily_autocorr: Option<f64>,
    /// Largest one-step rate change, requests per second.
    pub max_jump_rps: f64,
}

/// Computes the statistics of `trace` (see the module docs for the
/// definitions). A trace without rows gives zeros and empty values.
pub(crate) fn stats(trace: &Trace) -> TraceStats {
    let x = &trace.requests;
    let n = x.len();
    let interval_s = trace.interval_s;
    let mean = if n == 0 {
        0.0
    } else {
        x.iter().sum::<f64>() / n as f64
    };
    let peak = x.iter().copied().fold(0.0_f64, f64::max);
    let (peak_to_mean, cv) = if mean > 0.0 {
        let variance = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        (Some(peak / mean), Some(variance.sqrt() / mean))
    } else {
        (None, None)
    };
    let max_jump = x
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0_f64, f64::max);
    TraceStats {
        name: trace.name.clone(),
        rows: n,
        interval_s,
        span_s: trace.duration_s(),
        mean_rps: mean / interval_s,
        peak_rps: peak / interval_s,
        peak_to_mean,
        cv,
        daily_autocorr: daily_autocorrelation(x, interval_s),
        max_jump_rps: max_jump / interval_s,
    }
}

/// Pearson correlation of `x[i]` and `x[i + L]`, `L` = one day in rows.
fn daily_autocorrelation(x: &[f64], interval_s: f64) -> Option<f64> {
    if !(interval_s > 0.0 && interval_s <= DAY_S) {
        return None;
    }
    let lag = (DAY_S / interval_s).round() as usize;
    if lag == 0 || x.len() < 2 * lag {
        return None;
    }
    pearson(&x[..x.len() - lag], &x[lag..])
}

/// Pearson correlation of two equally long series; `None` if either is
/// constant or the result is not finite.
fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    let mean_a = a.iter().sum::<f64>() / n;
    let mean_b = b.iter().sum::<f64>() / n;
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for (p, q) in a.iter().zip(b) {
        let (da, db) = (p - mean_a, q - mean_b);
        cov += da * db;
        var_a += da * da;
        var_b += db * db;
    }
    if var_a <= 0.0 || var_b <= 0.0 {
        return None;
    }
    let r = cov / (var_a.sqrt() * var_b.sqrt());
    r.is_finite().then(|| r.clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::trace::test_trace as trace;

    #[test]
    fn a_small_trace_has_hand_computed_statistics() {
        // Counts 60, 120, 0, 60 per minute: mean 60 (1 req/s), peak 120
        // (2 req/s), deviations 0, 60, −60, 0 → σ² = 7200/4 = 1800.
        let s = stats(&trace(vec![60.0, 120.0, 0.0, 60.0], 60.0));
        assert_eq!(s.rows, 4);
        assert_eq!(s.span_s, 240.0);
        assert_eq!(s.mean_rps, 1.0);
        assert_eq!(s.peak_rps, 2.0);
        assert_eq!(s.peak_to_mean, Some(2.0));
        assert!((s.cv.unwrap() - 1800f64.sqrt() / 60.0).abs() < 1e-12);
        // Jumps: 60, 120, 60 per minute → 2 req/s.
        assert_eq!(s.max_jump_rps, 2.0);
        assert_eq!(s.daily_autocorr, None);
    }

    #[test]
    fn a_repeating_day_has_daily_autocorrelation_one() {
        // Six-hour intervals: 4 rows a day, three identical days.
        let day = [1.0, 5.0, 9.0, 3.0];
        let x: Vec<f64> = day.iter().cycle().take(12).copied().collect();
        let s = stats(&trace(x, 21_600.0));
        assert!((s.daily_autocorr.unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn daily_autocorrelation_needs_two_days_and_variation() {
        let two_days_minus_one: Vec<f64> = (0..7).map(f64::from).collect();
        assert_eq!(
            stats(&trace(two_days_minus_one, 21_600.0)).daily_autocorr,
            None
        );
        assert_eq!(stats(&trace(vec![3.0; 8], 21_600.0)).daily_autocorr, None);
        assert_eq!(
            stats(&trace(vec![1.0, 2.0, 3.0], 2.0 * DAY_S)).daily_autocorr,
            None
        );
    }

    #[test]
    fn a_trace_of_zeros_or_without_rows_has_empty_ratios() {
        let s = stats(&trace(vec![0.0, 0.0], 60.0));
        assert_eq!((s.peak_to_mean, s.cv, s.mean_rps), (None, None, 0.0));
        let s = stats(&trace(vec![], 60.0));
        assert_eq!((s.rows, s.max_jump_rps, s.peak_rps), (0, 0.0, 0.0));
    }

    proptest! {
        #[test]
        fn statistics_are_finite_and_in_range(
            x in proptest::collection::vec(0.0..1e6f64, 1..300),
            interval in prop_oneof![Just(60.0), Just(3600.0), 1.0..50_000.0f64],
        ) {
            let s = stats(&trace(x, interval));
            prop_assert!(s.mean_rps.is_finite() && s.mean_rps >= 0.0);
            prop_assert!(s.peak_rps >= s.mean_rps * (1.0 - 1e-12));
            if let Some(p) = s.peak_to_mean { prop_assert!(p >= 1.0 - 1e-12); }
            if let Some(cv) = s.cv { prop_assert!(cv.is_finite() && cv >= 0.0); }
            if let Some(r) = s.daily_autocorr { prop_assert!((-1.0..=1.0).contains(&r)); }
            prop_assert!(s.max_jump_rps <= s.peak_rps * (1.0 + 1e-12));
        }
    }
}
