//! Summary statistics over seeds: mean, sample standard deviation and the
//! 95 % confidence interval of the mean from Student's t distribution.
//!
//! With `n` runs, `sd = sqrt(Σ(x − mean)² / (n − 1))` and the interval is
//! `mean ± t_{0.975, n−1} · sd / √n`. The t quantiles are tabulated for
//! 1–30 degrees of freedom (exact to the 3 decimals of standard tables,
//! e.g. Abramowitz & Stegun, table 26.10) and interpolated in `1/df` beyond,
//! toward the normal 1.960.

/// Mean, spread and 95 % confidence interval of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean (0 for an empty sample).
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator; 0 when n < 2).
    pub sd: f64,
    /// Half-width of the 95 % confidence interval of the mean (0 when
    /// n < 2).
    pub ci95: f64,
}

impl Summary {
    /// Summarises `values`, in order (the result does not depend on
    /// threads: it is a plain left-to-right sum).
    pub fn of(values: &[f64]) -> Summary {
        let n = values.len();
        if n == 0 {
            return Summary {
                n,
                mean: 0.0,
                sd: 0.0,
                ci95: 0.0,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Summary {
                n,
                mean,
                sd: 0.0,
                ci95: 0.0,
            };
        }
        let ss: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
        let sd = (ss / (n - 1) as f64).sqrt();
        Summary {
            n,
            mean,
            sd,
            ci95: t_975(n - 1) * sd / (n as f64).sqrt(),
        }
    }
}

/// t_{0.975, df} for df = 1..=30.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// Points beyond the table: (df, t_{0.975, df}).
const T_975_TAIL: [(f64, f64); 4] = [(30.0, 2.042), (40.0, 2.021), (60.0, 2.000), (120.0, 1.980)];

/// The 0.975 quantile of Student's t with `df` ≥ 1 degrees of freedom
/// (`df = 0` is treated as 1).
pub(crate) fn t_975(df: usize) -> f64 {
    if df <= 30 {
        return T_975[df.max(1) - 1];
    }
    let x = 1.0 / df as f64;
    for w in T_975_TAIL.windows(2) {
        let ((d0, t0), (d1, t1)) = (w[0], w[1]);
        if (df as f64) <= d1 {
            let (x0, x1) = (1.0 / d0, 1.0 / d1);
            return t0 + (t1 - t0) * (x - x0) / (x1 - x0);
        }
    }
    // From 120 to infinity, linear in 1/df toward the normal quantile.
    let (x0, t0) = (1.0 / 120.0, 1.980);
    1.960 + (t0 - 1.960) * x / x0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_three_value_sample_matches_a_hand_computation() {
        // 1, 2, 6: mean 3, squares 4 + 1 + 9 = 14, sd = sqrt(7),
        // ci = 4.303 * sqrt(7) / sqrt(3).
        let s = Summary::of(&[1.0, 2.0, 6.0]);
        assert_eq!(s.n, 3);
        assert_eq!(s.mean, 3.0);
        assert!((s.sd - 7f64.sqrt()).abs() < 1e-15);
        assert!((s.ci95 - 4.303 * 7f64.sqrt() / 3f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn tiny_samples_have_no_spread() {
        assert_eq!(Summary::of(&[]).mean, 0.0);
        let one = Summary::of(&[5.0]);
        assert_eq!((one.mean, one.sd, one.ci95), (5.0, 0.0, 0.0));
    }

    #[test]
    fn t_quantiles_fall_toward_the_normal_one() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(9), 2.262);
        assert!((t_975(40) - 2.021).abs() < 1e-12);
        assert!((t_975(120) - 1.980).abs() < 1e-12);
        // between table points, within 0.002 of published values
        assert!((t_975(50) - 2.009).abs() < 0.002);
        assert!((t_975(1000) - 1.962).abs() < 0.002);
        let ts: Vec<f64> = (1..2000).map(t_975).collect();
        assert!(ts.windows(2).all(|w| w[0] >= w[1]));
    }
}
