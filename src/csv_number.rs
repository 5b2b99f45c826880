//! How numbers are written in qscale's CSV files.
//!
//! Counts (requests, violations, drops, backlogs) are written as integers
//! when they are whole (`19027544`, not `19027544.0`); fluid counts keep
//! their fraction. Money columns (`*_usd`, rewards and their means) are
//! rounded to 12 significant digits, so sums over many steps print as the
//! amount they are (`1714.176`, not `1714.1759999988562`): a relative
//! error of at most 5e-13, far below a cent on any bill. Every other number
//! is written in the shortest form that reads back to the same `f64`.

use serde::Serializer;

/// The significant digits money is written with.
pub(crate) const USD_SIGNIFICANT_DIGITS: usize = 12;

/// `x` rounded to `USD_SIGNIFICANT_DIGITS` significant digits (correctly
/// rounded in decimal); non-finite values and zero as they are.
pub fn round_usd(x: f64) -> f64 {
    use std::io::Write as _;
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    // `{:.11e}` is at most 1 sign + 13 digits and point + 5 exponent chars.
    let mut buf = [0u8; 32];
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    if write!(cursor, "{:.*e}", USD_SIGNIFICANT_DIGITS - 1, x).is_err() {
        return x;
    }
    let len = cursor.position() as usize;
    std::str::from_utf8(&buf[..len])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(x)
}

/// Serialises an amount of money (see [`round_usd`]).
///
/// # Errors
/// The serializer's.
pub(crate) fn usd<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round_usd(*x))
}

/// Serialises an optional amount of money (empty when `None`).
///
/// # Errors
/// The serializer's.
pub(crate) fn usd_opt<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => s.serialize_some(&round_usd(*x)),
        None => s.serialize_none(),
    }
}

/// Serialises a count: an integer when whole, otherwise the number.
///
/// # Errors
/// The serializer's.
pub(crate) fn count<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    // Whole numbers up to 2^53 are exact in both types.
    if x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0 {
        s.serialize_i64(*x as i64)
    } else {
        s.serialize_f64(*x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Row {
        #[serde(serialize_with = "count")]
        requests: f64,
        #[serde(serialize_with = "usd")]
        cost_usd: f64,
        #[serde(serialize_with = "usd_opt")]
        regret_usd: Option<f64>,
    }

    fn line(requests: f64, cost_usd: f64, regret_usd: Option<f64>) -> String {
        let bytes = crate::metrics::to_csv(&[Row {
            requests,
            cost_usd,
            regret_usd,
        }])
        .unwrap();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
            .to_string()
    }

    #[test]
    fn whole_counts_are_integers_and_money_loses_its_float_dust() {
        assert_eq!(
            line(19_027_544.0, 40.835_200_000_000_256, None),
            "19027544,40.8352,"
        );
        assert_eq!(
            line(2.5, 1_714.175_999_998_856_2, Some(-0.1)),
            "2.5,1714.176,-0.1"
        );
        assert_eq!(line(0.0, 0.0, Some(0.0)), "0,0.0,0.0");
    }

    #[test]
    fn rounding_keeps_twelve_significant_digits_of_small_amounts() {
        assert_eq!(round_usd(1.0 / 86_400.0), 1.157_407_407_41e-5);
        assert_eq!(round_usd(0.1 + 0.2), 0.3);
        assert_eq!(round_usd(round_usd(123.456_789_012_345)), 123.456_789_012);
        assert!(round_usd(f64::NAN).is_nan());
        assert_eq!(round_usd(f64::INFINITY), f64::INFINITY);
    }
}
