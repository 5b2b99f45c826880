//! Poisson noise around expected request counts.
//!
//! Arrivals in an interval are modelled as a Poisson process, so the count
//! observed in an interval whose expected count is `x` requests is a
//! Poisson(`x`) draw. Inputs and outputs are request counts per interval
//! (whole numbers stored as `f64`). Used by the generators and by the
//! simulator for `workload.noise = "poisson"`.

use rand::Rng;
use rand_distr::{Distribution, Poisson};

/// One Poisson draw with mean `mean` requests, as an `f64` whole number.
///
/// Handles any input without panicking:
/// - `mean <= 0` or NaN gives 0;
/// - `0 < mean < 1.844e19` (`Poisson::MAX_LAMBDA`, far beyond realistic
///   counts such as 1e9) gives a true Poisson draw; the cost is constant in
///   `mean` (inversion for small means, rejection sampling for large ones);
/// - larger means, including +infinity, are returned rounded to a whole
///   number, since the relative noise there (below 1e-9) is far under `f64`
///   counting resolution anyway.
pub(crate) fn poisson_draw<R: Rng + ?Sized>(mean: f64, rng: &mut R) -> f64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0.0;
    }
    if mean >= Poisson::<f64>::MAX_LAMBDA {
        return mean.round();
    }
    match Poisson::new(mean) {
        Ok(dist) => dist.sample(rng),
        // Unreachable for the range checked above; fall back to the mean.
        Err(_) => mean.round(),
    }
}

/// Replaces each expected count `x` by a Poisson(`x`) draw from `rng`
/// (see [`poisson_draw`] for the handling of zero, negative, NaN and huge
/// values). The output has the same length as `expected`.
pub(crate) fn poisson_counts<R: Rng + ?Sized>(expected: &[f64], rng: &mut R) -> Vec<f64> {
    expected.iter().map(|&x| poisson_draw(x, rng)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    #[test]
    fn zero_negative_and_nan_means_give_zero() {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        for m in [0.0, -0.0, -3.0, f64::NAN, f64::NEG_INFINITY] {
            assert_eq!(poisson_draw(m, &mut rng), 0.0, "mean {m}");
        }
    }

    #[test]
    fn huge_and_infinite_means_do_not_panic() {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let x = poisson_draw(1e9, &mut rng);
        assert!((x - 1e9).abs() < 1e6, "draw {x}");
        assert_eq!(x, x.round());
        assert_eq!(poisson_draw(1e20, &mut rng), 1e20);
        assert_eq!(poisson_draw(f64::INFINITY, &mut rng), f64::INFINITY);
        assert!(poisson_draw(1e18, &mut rng).is_finite());
    }

    #[test]
    fn draws_are_whole_non_negative_numbers() {
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        let expected: Vec<f64> = (0..200).map(|i| i as f64 * 0.37).collect();
        for x in poisson_counts(&expected, &mut rng) {
            assert!(x >= 0.0 && x.is_finite() && x == x.round(), "draw {x}");
        }
    }

    #[test]
    fn poisson_counts_average_to_the_expected_counts() {
        let mut rng = Pcg64Mcg::seed_from_u64(42);
        for mean in [0.3, 4.0, 25.0, 1_000.0, 250_000.0] {
            let n = 20_000;
            let draws = poisson_counts(&vec![mean; n], &mut rng);
            let avg = draws.iter().sum::<f64>() / n as f64;
            // Standard error of the mean of n Poisson(mean) draws.
            let se = (mean / n as f64).sqrt();
            assert!(
                (avg - mean).abs() < 5.0 * se,
                "mean {mean}: average {avg}, standard error {se}"
            );
            let var = draws.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / (n - 1) as f64;
            assert!(
                (var / mean - 1.0).abs() < 0.1,
                "mean {mean}: variance {var}"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_counts() {
        let expected = [1.0, 10.0, 100.0, 0.0, 5.5];
        let a = poisson_counts(&expected, &mut Pcg64Mcg::seed_from_u64(3));
        let b = poisson_counts(&expected, &mut Pcg64Mcg::seed_from_u64(3));
        assert_eq!(a, b);
        assert_eq!(a.len(), expected.len());
        assert_eq!(a[3], 0.0);
    }
}
