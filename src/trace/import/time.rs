//! Calendar arithmetic for importers: civil dates to Unix seconds and back,
//! the timestamp forms found in logs, and the `--start`/`--end` arguments.
//!
//! Times are seconds since the Unix epoch (1970-01-01T00:00:00Z), as `f64`
//! (whole seconds are exact up to ±2^53 s). Dates are proleptic Gregorian.
//! The day-number conversion counts days in 400-year eras of 146 097 days
//! with the year starting on 1 March, so that the leap day is the last day
//! of the counted year (the method of H. Hinnant, "chrono-Compatible
//! Low-Level Date Algorithms").

/// Seconds in a day.
pub(crate) const DAY_S: i64 = 86_400;

/// English month abbreviations as they appear in logs.
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// English weekday abbreviations.
const WEEKDAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];

/// Days from 1970-01-01 to the date `year-month-day` (month 1–12, day
/// 1–31; not validated here).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let month = i64::from(month);
    let day = i64::from(day);
    // Years start on 1 March: January and February belong to the year before.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400; // 0..=399
    let month_from_march = (month + 9) % 12; // March = 0, ..., February = 11
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `(year, month, day)` of day number `days` since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097; // 0..=146_096
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // In range by construction: month 1..=12, day 1..=31.
    (year, month as u32, day as u32)
}

/// Whether `year` is a Gregorian leap year.
fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1–12) of `year`.
fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A validated civil date and time of day, without a zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CivilTime {
    /// Year (any; logs have four digits).
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–28..31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–60 (60 only for a leap second; it counts as the next
    /// minute's first second).
    pub second: u32,
}

impl CivilTime {
    /// Checks the ranges of every field; `None` if one is out of range.
    pub fn new(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Option<Self> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second <= 60;
        valid.then_some(CivilTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// Unix seconds of this time read in a zone `offset_s` seconds east of
    /// UTC (e.g. −14 400 for `-0400`).
    pub(crate) fn unix_seconds(&self, offset_s: i64) -> f64 {
        let days = days_from_civil(self.year, self.month, self.day);
        let local = days * DAY_S
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        (local - offset_s) as f64
    }
}

/// The month number (1–12) of an English three-letter abbreviation, any case.
pub(crate) fn month_number(name: &[u8]) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(name))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Whether `name` is an English three-letter weekday abbreviation, any case.
pub(crate) fn is_weekday(name: &[u8]) -> bool {
    WEEKDAYS.iter().any(|d| d.eq_ignore_ascii_case(name))
}

/// An unsigned decimal number made of exactly the ASCII digits `digits`
/// (1 to 9 of them).
pub(crate) fn fixed_digits(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// A zone offset `±HHMM` or `±HH:MM`, in seconds east of UTC.
pub(crate) fn parse_offset(text: &[u8]) -> Option<i64> {
    let (sign, rest) = match text.split_first()? {
        (b'+', rest) => (1, rest),
        (b'-', rest) => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = match rest.len() {
        4 => (&rest[..2], &rest[2..]),
        5 if rest[2] == b':' => (&rest[..2], &rest[3..]),
        _ => return None,
    };
    let hours = fixed_digits(hours)?;
    let minutes = fixed_digits(minutes)?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i64::from(hours * 3600 + minutes * 60))
}

/// Parses a Common Log Format timestamp, the text between the brackets:
/// `DD/Mon/YYYY:HH:MM:SS ±HHMM` (e.g. `01/Jul/1995:00:00:01 -0400`), into
/// Unix seconds. The zone is required and honoured.
pub(crate) fn parse_clf_timestamp(text: &[u8]) -> Option<f64> {
    // 01/Jul/1995:00:00:01 -0400
    // 0123456789012345678901234
    if text.len() != 26 || text[2] != b'/' || text[6] != b'/' || text[11] != b':' {
        return None;
    }
    if text[14] != b':' || text[17] != b':' || text[20] != b' ' {
        return None;
    }
    let day = fixed_digits(&text[0..2])?;
    let month = month_number(&text[3..6])?;
    let year = fixed_digits(&text[7..11])?;
    let hour = fixed_digits(&text[12..14])?;
    let minute = fixed_digits(&text[15..17])?;
    let second = fixed_digits(&text[18..20])?;
    let offset = parse_offset(&text[21..])?;
    let civil = CivilTime::new(i64::from(year), month, day, hour, minute, second)?;
    Some(civil.unix_seconds(offset))
}

/// Parses a ctime-style timestamp `Day Mon DD HH:MM:SS YYYY` (as in the
/// SDSC log, e.g. `Tue Aug 22 00:00:00 1995`; the day may be space-padded)
/// from whitespace-separated `fields`, as if it were UTC. Returns the Unix
/// seconds; the weekday name is checked for form but not against the date.
pub(crate) fn parse_ctime_fields(fields: &[&[u8]; 5]) -> Option<f64> {
    let [weekday, month, day, clock, year] = fields;
    if !is_weekday(weekday) || clock.len() != 8 || clock[2] != b':' || clock[5] != b':' {
        return None;
    }
    let month = month_number(month)?;
    if day.len() > 2 || year.len() != 4 {
        return None;
    }
    let day = fixed_digits(day)?;
    let year = fixed_digits(year)?;
    let hour = fixed_digits(&clock[0..2])?;
    let minute = fixed_digits(&clock[3..5])?;
    let second = fixed_digits(&clock[6..8])?;
    let civil = CivilTime::new(i64::from(year), month, day, hour, minute, second)?;
    Some(civil.unix_seconds(0))
}

/// Why a `--start`/`--end` value was not understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "`{0}` is neither Unix seconds nor a date like 1995-07-01T00:00:00-04:00 \
     (YYYY-MM-DD, optional THH:MM[:SS[.fff]], optional Z or ±HH:MM; no zone means UTC)"
)]
pub(crate) struct TimeArgError(pub String);

/// Parses a `--start`/`--end` value into Unix seconds.
///
/// Accepted forms:
/// - Unix seconds: a finite decimal number (`804571200`, `-1.5`);
/// - a date `YYYY-MM-DD`, optionally followed by `T` (or a space) and
///   `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`, optionally followed by a zone `Z`, `±HH:MM` or
///   `±HHMM`. Without a zone the time is taken as UTC.
///
/// # Errors
/// [`TimeArgError`] with the text, for anything else or an impossible date.
pub(crate) fn parse_time_arg(text: &str) -> Result<f64, TimeArgError> {
    let fail = || TimeArgError(text.to_string());
    let trimmed = text.trim();
    if let Ok(seconds) = trimmed.parse::<f64>() {
        return if seconds.is_finite() {
            Ok(seconds)
        } else {
            Err(fail())
        };
    }
    parse_date_time(trimmed.as_bytes()).ok_or_else(fail)
}

/// The date form of [`parse_time_arg`], also the timestamps of the Azure
/// LLM inference traces (`2023-11-16 18:17:03.9799600`): `YYYY-MM-DD`,
/// then optionally `T` or a space, `HH:MM`, `:SS` and `.fraction`, then
/// optionally a zone. Returns Unix seconds.
pub(crate) fn parse_date_time(text: &[u8]) -> Option<f64> {
    // YYYY-MM-DD
    if text.len() < 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let year = fixed_digits(&text[0..4])?;
    let month = fixed_digits(&text[5..7])?;
    let day = fixed_digits(&text[8..10])?;
    let mut rest = &text[10..];
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    let mut fraction = 0.0;
    if let Some((b'T' | b't' | b' ', clock)) = rest.split_first() {
        // HH:MM or HH:MM:SS
        if clock.len() < 5 || clock[2] != b':' {
            return None;
        }
        hour = fixed_digits(&clock[0..2])?;
        minute = fixed_digits(&clock[3..5])?;
        rest = &clock[5..];
        if let Some((b':', tail)) = rest.split_first() {
            if tail.len() < 2 {
                return None;
            }
            second = fixed_digits(&tail[0..2])?;
            rest = &tail[2..];
            if let Some((b'.', tail)) = rest.split_first() {
                let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
                fraction = decimal_fraction(&tail[..digits])?;
                rest = &tail[digits..];
            }
        }
    }
    let offset = match rest {
        b"" | b"Z" | b"z" => 0,
        zone => parse_offset(zone)?,
    };
    let civil = CivilTime::new(i64::from(year), month, day, hour, minute, second)?;
    Some(civil.unix_seconds(offset) + fraction)
}

/// The value in [0, 1) of the digits after a decimal point (at least one;
/// digits beyond the ninth, below a nanosecond, are ignored).
fn decimal_fraction(digits: &[u8]) -> Option<f64> {
    let kept = &digits[..digits.len().min(9)];
    let value = fixed_digits(kept)?;
    Some(f64::from(value) / 10f64.powi(kept.len() as i32))
}

/// Formats Unix seconds as an RFC 3339 UTC time, `1995-07-01T04:00:00Z`
/// (fractions of a second, if any, are shown after a decimal point).
pub(crate) fn format_utc(unix_s: f64) -> String {
    if !unix_s.is_finite() || unix_s.abs() > 1e15 {
        return format!("{unix_s} s");
    }
    let whole = unix_s.floor();
    let fraction = unix_s - whole;
    // Finite and below 1e15 in magnitude: fits an i64.
    let whole = whole as i64;
    let days = whole.div_euclid(DAY_S);
    let secs = whole.rem_euclid(DAY_S);
    let (year, month, day) = civil_from_days(days);
    let clock = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    );
    if fraction > 0.0 {
        let digits = format!("{fraction:.6}");
        let digits = digits.trim_start_matches('0').trim_end_matches('0');
        format!("{year:04}-{month:02}-{day:02}T{clock}{digits}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{clock}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_epoch_and_known_dates_have_the_right_day_numbers() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1970, 1, 2), 1);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        // 1995-07-01 is day 9 312 (804 556 800 s / 86 400).
        assert_eq!(days_from_civil(1995, 7, 1), 9312);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
    }

    #[test]
    fn clf_timestamps_honour_their_zone() {
        // 00:00:01 EDT is 04:00:01 UTC.
        let t = parse_clf_timestamp(b"01/Jul/1995:00:00:01 -0400").unwrap();
        assert_eq!(t, 804_571_201.0);
        let utc = parse_clf_timestamp(b"01/Jul/1995:04:00:01 +0000").unwrap();
        assert_eq!(t, utc);
        let india = parse_clf_timestamp(b"01/Jul/1995:09:30:01 +0530").unwrap();
        assert_eq!(t, india);
        // Crossing a month boundary backwards in UTC.
        let t = parse_clf_timestamp(b"01/Aug/1995:01:00:00 +0200").unwrap();
        assert_eq!(format_utc(t), "1995-07-31T23:00:00Z");
    }

    #[test]
    fn impossible_clf_timestamps_are_rejected() {
        for bad in [
            &b"31/Jun/1995:00:00:01 -0400"[..],
            b"29/Feb/1995:00:00:01 -0400",
            b"01/Jul/1995:24:00:01 -0400",
            b"01/Jul/1995:00:60:01 -0400",
            b"01/Jly/1995:00:00:01 -0400",
            b"01/Jul/1995:00:00:01 -04",
            b"01/Jul/1995:00:00:01 0400",
            b"01/Jul/1995:00:00:01 -0460",
            b"01/Jul/1995 00:00:01 -0400",
            b"1/Jul/1995:00:00:01 -0400",
            b"",
        ] {
            assert_eq!(
                parse_clf_timestamp(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse_clf_timestamp(b"29/Feb/1996:00:00:01 -0400").is_some());
    }

    #[test]
    fn ctime_fields_parse_as_utc() {
        let f: [&[u8]; 5] = [b"Tue", b"Aug", b"22", b"00:00:05", b"1995"];
        assert_eq!(
            format_utc(parse_ctime_fields(&f).unwrap()),
            "1995-08-22T00:00:05Z"
        );
        let f: [&[u8]; 5] = [b"Sat", b"Sep", b"2", b"13:14:15", b"1995"];
        assert_eq!(
            format_utc(parse_ctime_fields(&f).unwrap()),
            "1995-09-02T13:14:15Z"
        );
        let f: [&[u8]; 5] = [b"Xyz", b"Aug", b"22", b"00:00:05", b"1995"];
        assert_eq!(parse_ctime_fields(&f), None);
        let f: [&[u8]; 5] = [b"Tue", b"Aug", b"22", b"00:00:5", b"1995"];
        assert_eq!(parse_ctime_fields(&f), None);
    }

    #[test]
    fn time_arguments_accept_unix_seconds_and_dates_with_zones() {
        assert_eq!(parse_time_arg("804571200").unwrap(), 804_571_200.0);
        assert_eq!(parse_time_arg("-1.5").unwrap(), -1.5);
        let edt = parse_time_arg("1995-07-01T00:00:00-04:00").unwrap();
        assert_eq!(edt, 804_571_200.0);
        assert_eq!(parse_time_arg("1995-07-01T04:00:00Z").unwrap(), edt);
        assert_eq!(parse_time_arg("1995-07-01 04:00").unwrap(), edt);
        assert_eq!(parse_time_arg("1995-07-01T00:00-0400").unwrap(), edt);
        assert_eq!(parse_time_arg("1995-07-01").unwrap(), 804_556_800.0);
        assert_eq!(
            parse_time_arg("1995-07-01T04:00:00.25Z").unwrap(),
            edt + 0.25
        );
        assert_eq!(
            parse_time_arg("1995-07-01 04:00:00.1250000").unwrap(),
            edt + 0.125
        );
        for bad in [
            "",
            "yesterday",
            "1995-13-01",
            "1995-07-32",
            "1995-07-01T25:00",
            "1995-07-01T00:00:00+25:00",
            "1995-07-01T00",
            "1995-07-01T00:00:0",
            "1995-07-01T00:00:00.",
            "1995-07-01T00:00:00.5x",
            "1995-07-01X",
            "inf",
            "NaN",
        ] {
            let e = parse_time_arg(bad).unwrap_err();
            assert!(e.to_string().contains(&format!("`{bad}`")), "{e}");
        }
    }

    #[test]
    fn format_utc_prints_rfc3339() {
        assert_eq!(format_utc(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(804_571_200.0), "1995-07-01T04:00:00Z");
        assert_eq!(format_utc(-1.0), "1969-12-31T23:59:59Z");
        assert_eq!(format_utc(1.5), "1970-01-01T00:00:01.5Z");
        assert_eq!(format_utc(f64::NAN), "NaN s");
    }

    proptest! {
        #[test]
        fn day_numbers_round_trip(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!(CivilTime::new(y, m, d, 0, 0, 0).is_some());
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_clf_timestamp(&bytes);
            let _ = parse_offset(&bytes);
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_time_arg(&text);
            let mut fields: [&[u8]; 5] = [b""; 5];
            for (i, chunk) in bytes.chunks(8).take(5).enumerate() {
                fields[i] = chunk;
            }
            let _ = parse_ctime_fields(&fields);
        }

        #[test]
        fn date_arguments_parse_like_clf_timestamps(
            days in 0i64..40_000, secs in 0i64..86_400, zone_min in -720i64..720,
        ) {
            let (y, m, d) = civil_from_days(days);
            let zone = format!("{}{:02}{:02}", if zone_min < 0 { '-' } else { '+' },
                zone_min.abs() / 60, zone_min.abs() % 60);
            let clock = format!("{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60);
            let clf = format!("{d:02}/{}/{y:04}:{clock} {zone}",
                String::from_utf8_lossy(MONTHS[(m - 1) as usize]));
            let arg = format!("{y:04}-{m:02}-{d:02}T{clock}{zone}");
            let a = parse_clf_timestamp(clf.as_bytes()).unwrap();
            let b = parse_time_arg(&arg).unwrap();
            prop_assert_eq!(a, b);
            prop_assert_eq!(a, (days * DAY_S + secs - zone_min * 60) as f64);
        }
    }
}
