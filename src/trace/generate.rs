//! Seeded synthetic workload traces.
//!
//! [`generate`] turns a [`GenSpec`] into a [`Trace`] that starts at `t = 0`,
//! taken to be midnight at the start of a Monday. Rates are in requests per
//! second, times in seconds, counts in requests per interval.
//!
//! Each shape is a rate function `r(t)` between the two levels
//! `b = base_rps` and `p = peak_rps` (`p` may be below `b`; the shape is then
//! mirrored). Row `i` covers `[i·Δ, (i+1)·Δ)` with `Δ = interval_s`; its
//! expected count is `r(tᵢ)·Δ` at the interval middle `tᵢ = (i + ½)·Δ`
//! (bursty: the exact integral of `r` over the interval, see below). `T` is
//! the generated span, rows × `Δ`.
//!
//! | kind | rate `r(t)` |
//! | --- | --- |
//! | `constant` | `b` |
//! | `step` | `b` for `t < T/2`, `p` from the middle on |
//! | `diurnal` | `b + a(t)·(p − b)·(1 − cos(2π·(h − 4 h)/24 h))/2`, `h` = time of day: trough at 04:00, peak at 16:00; `a(t) = 1`, or [`WEEKEND_AMPLITUDE`] (0.6) on Saturdays and Sundays when `weekly` |
//! | `bursty` | two-state continuous-time Markov chain, `b` in the normal state and `p` in the burst state; exponential sojourns with means [`BURSTY_MEAN_NORMAL_S`] (30 min) and [`BURSTY_MEAN_BURST_S`] (5 min); starts normal |
//! | `flash-crowd` | `b` until `t_f = 0.6·T`; linear rise to `p` over [`FLASH_RISE_S`] (5 min); then `b + (p − b)·exp(−(t − t_f − 5 min)/30 min)` ([`FLASH_DECAY_S`]) |
//! | `ramp` | `b + (p − b)·t/T` |
//!
//! The bursty rate jumps at random instants, so its expected count is the
//! time-weighted mix `b·(Δ − s) + p·s`, with `s` the burst time inside the
//! interval.
//!
//! With `noise`, each expected count is replaced by a Poisson draw (see
//! [`poisson_draw`](super::poisson_draw)). Output is deterministic for a
//! given spec: randomness comes from `rand_pcg::Pcg64Mcg` generators seeded
//! from `seed`, one stream for the bursty state changes and another for the
//! noise, so turning noise on or off leaves the burst pattern unchanged.

use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::{poisson_counts, Trace};

/// Weekend amplitude of the weekly diurnal shape, as a fraction of the
/// weekday amplitude `peak_rps − base_rps`.
pub(crate) const WEEKEND_AMPLITUDE: f64 = 0.6;
/// Mean time the bursty shape stays at `base_rps`, seconds (30 min).
pub(crate) const BURSTY_MEAN_NORMAL_S: f64 = 1800.0;
/// Mean time the bursty shape stays at `peak_rps`, seconds (5 min).
pub(crate) const BURSTY_MEAN_BURST_S: f64 = 300.0;
/// Where the flash crowd starts, as a fraction of the span (0.6).
pub(crate) const FLASH_POSITION: f64 = 0.6;
/// Time for the flash crowd to rise from `base_rps` to `peak_rps`, seconds (5 min).
pub(crate) const FLASH_RISE_S: f64 = 300.0;
/// Time constant of the flash crowd's exponential decay, seconds (30 min).
pub(crate) const FLASH_DECAY_S: f64 = 1800.0;
/// Longest duration [`generate`] accepts, seconds (1e9 s, about 32 years).
pub(crate) const MAX_GENERATED_DURATION_S: f64 = 1e9;
/// Most rows [`generate`] produces (10 million).
pub(crate) const MAX_GENERATED_ROWS: usize = 10_000_000;

/// One day, seconds.
const DAY_S: f64 = 86_400.0;
/// Time of day of the diurnal trough, seconds (04:00).
const DIURNAL_TROUGH_S: f64 = 4.0 * 3600.0;
/// Relative slack when counting whole rows, for float rounding.
const WHOLE_ROW_SLACK: f64 = 1e-12;
/// Mixed into the seed for the noise stream, to keep it apart from the
/// bursty state stream.
const NOISE_STREAM: u64 = 0x9e37_79b9_7f4a_7c15;

/// The shape of a synthetic trace (see the module docs for the formulas).
///
/// Parsed from and displayed as the kebab-case names `constant`, `step`,
/// `diurnal`, `bursty`, `flash-crowd`, `ramp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenKind {
    /// Flat at `base_rps`.
    Constant,
    /// `base_rps`, then `peak_rps` from the middle of the trace on.
    Step,
    /// Smooth daily cycle between `base_rps` (04:00) and `peak_rps` (16:00).
    Diurnal,
    /// Random switching between `base_rps` and bursts at `peak_rps`.
    Bursty,
    /// `base_rps` with one flash to `peak_rps` at 60% of the span.
    FlashCrowd,
    /// Linear from `base_rps` to `peak_rps` over the span.
    Ramp,
}

impl GenKind {
    /// Every kind, in documentation order.
    pub const ALL: [GenKind; 6] = [
        GenKind::Constant,
        GenKind::Step,
        GenKind::Diurnal,
        GenKind::Bursty,
        GenKind::FlashCrowd,
        GenKind::Ramp,
    ];

    /// The kebab-case name, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            GenKind::Constant => "constant",
            GenKind::Step => "step",
            GenKind::Diurnal => "diurnal",
            GenKind::Bursty => "bursty",
            GenKind::FlashCrowd => "flash-crowd",
            GenKind::Ramp => "ramp",
        }
    }
}

impl fmt::Display for GenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown generator kind name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown trace kind `{found}`, expected one of constant, step, diurnal, bursty, flash-crowd, ramp"
)]
pub struct ParseGenKindError {
    /// The name that was given.
    pub found: String,
}

impl FromStr for GenKind {
    type Err = ParseGenKindError;

    /// Parses a kebab-case kind name (exact, lowercase).
    ///
    /// # Errors
    /// [`ParseGenKindError`] for any other string.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GenKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| ParseGenKindError {
                found: s.to_string(),
            })
    }
}

/// What to generate. See the module docs for the shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct GenSpec {
    /// Shape of the rate curve. Default: diurnal.
    pub kind: GenKind,
    /// Interval between rows, seconds (> 0, finite). Default: 60.
    pub interval_s: f64,
    /// Length of the trace, seconds (> 0, at most `MAX_GENERATED_DURATION_S`);
    /// a final partial interval is dropped. Default: 7 days (604 800).
    pub duration_s: f64,
    /// Low level in requests per second (>= 0, finite): night, before the
    /// step, ramp start, normal level. Default: 50.
    pub base_rps: f64,
    /// High level in requests per second (>= 0, finite): day peak, after the
    /// step, ramp end, burst and flash peak. Default: 200.
    pub peak_rps: f64,
    /// Diurnal only: Saturdays and Sundays swing at `WEEKEND_AMPLITUDE` of
    /// the weekday amplitude. Default: false.
    pub weekly: bool,
    /// Draw Poisson counts around the expected counts (true) or write the
    /// expected counts exactly (false). Default: true.
    pub noise: bool,
    /// Seed for all randomness. Default: 0.
    pub seed: u64,
    /// Trace name; empty means the kind's name. Default: empty.
    pub name: String,
}

impl Default for GenSpec {
    fn default() -> Self {
        GenSpec {
            kind: GenKind::Diurnal,
            interval_s: 60.0,
            duration_s: 7.0 * DAY_S,
            base_rps: 50.0,
            peak_rps: 200.0,
            weekly: false,
            noise: true,
            seed: 0,
            name: String::new(),
        }
    }
}

/// An invalid [`GenSpec`]. Messages name the offending spec field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenError {
    /// `interval_s` is zero, negative or not finite.
    #[error("field `interval_s`: {interval_s} s is not a positive finite number")]
    BadInterval {
        /// The value given, seconds.
        interval_s: f64,
    },
    /// `duration_s` is zero, negative, not finite or above
    /// `MAX_GENERATED_DURATION_S`.
    #[error("field `duration_s`: {duration_s} s is not a positive number up to {max} s")]
    BadDuration {
        /// The value given, seconds.
        duration_s: f64,
        /// The limit, `MAX_GENERATED_DURATION_S`.
        max: f64,
    },
    /// A rate is negative or not finite.
    #[error("field `{field}`: {value} requests/s is not a finite number >= 0")]
    BadRate {
        /// `base_rps` or `peak_rps`.
        field: &'static str,
        /// The value given, requests per second.
        value: f64,
    },
    /// A rate times the interval exceeds 2^52 requests (half of
    /// [`super::MAX_REQUESTS`], leaving room for Poisson noise).
    #[error(
        "field `{field}`: {value:e} requests/s over {interval_s} s intervals is too large: \
         at most 2^52 requests per interval"
    )]
    RateTooLarge {
        /// `base_rps` or `peak_rps`.
        field: &'static str,
        /// The value given, requests per second.
        value: f64,
        /// The interval, seconds.
        interval_s: f64,
    },
    /// `duration_s` does not fill one interval.
    #[error("field `duration_s`: {duration_s} s is shorter than one interval of {interval_s} s")]
    ShorterThanInterval {
        /// Duration, seconds.
        duration_s: f64,
        /// Interval, seconds.
        interval_s: f64,
    },
    /// `duration_s / interval_s` exceeds `MAX_GENERATED_ROWS`.
    #[error("field `interval_s`: {interval_s} s over {duration_s} s gives {rows} rows, more than the limit of {max}")]
    TooManyRows {
        /// Interval, seconds.
        interval_s: f64,
        /// Duration, seconds.
        duration_s: f64,
        /// Rows it would give.
        rows: f64,
        /// The limit, `MAX_GENERATED_ROWS`.
        max: usize,
    },
}

/// Generates the trace described by `spec`: `floor(duration_s / interval_s)`
/// rows starting at `start_s = 0`, named `spec.name` (or the kind's name if
/// that is empty). Deterministic for a given spec.
///
/// # Errors
/// A [`GenError`] naming the field, for a non-positive or non-finite
/// interval or duration, a duration above `MAX_GENERATED_DURATION_S` or
/// shorter than one interval, more than `MAX_GENERATED_ROWS` rows, or a
/// negative, non-finite or overflowing rate.
pub fn generate(spec: &GenSpec) -> Result<Trace, GenError> {
    let rows = check(spec)?;
    let interval_s = spec.interval_s;
    let span_s = rows as f64 * interval_s;

    let expected: Vec<f64> = if spec.kind == GenKind::Bursty {
        let mut rng = Pcg64Mcg::seed_from_u64(spec.seed);
        bursty_counts(spec, rows, &mut rng)
    } else {
        (0..rows)
            .map(|i| rate_at(spec, (i as f64 + 0.5) * interval_s, span_s) * interval_s)
            .collect()
    };
    let requests = if spec.noise {
        let mut rng = Pcg64Mcg::seed_from_u64(spec.seed ^ NOISE_STREAM);
        poisson_counts(&expected, &mut rng)
    } else {
        expected
    };
    let name = if spec.name.is_empty() {
        spec.kind.name().to_string()
    } else {
        spec.name.clone()
    };
    Ok(Trace {
        name,
        start_s: 0.0,
        interval_s,
        requests,
    })
}

/// Validates `spec` and returns its number of rows.
fn check(spec: &GenSpec) -> Result<usize, GenError> {
    let interval_s = spec.interval_s;
    let duration_s = spec.duration_s;
    if !interval_s.is_finite() || interval_s <= 0.0 {
        return Err(GenError::BadInterval { interval_s });
    }
    if !duration_s.is_finite() || duration_s <= 0.0 || duration_s > MAX_GENERATED_DURATION_S {
        return Err(GenError::BadDuration {
            duration_s,
            max: MAX_GENERATED_DURATION_S,
        });
    }
    for (field, value) in [("base_rps", spec.base_rps), ("peak_rps", spec.peak_rps)] {
        if !value.is_finite() || value < 0.0 {
            return Err(GenError::BadRate { field, value });
        }
        // Half the trace limit, so Poisson draws above the mean still fit.
        let per_row = value * interval_s;
        if per_row.is_nan() || per_row > super::MAX_REQUESTS / 2.0 {
            return Err(GenError::RateTooLarge {
                field,
                value,
                interval_s,
            });
        }
    }
    let rows = (duration_s / interval_s * (1.0 + WHOLE_ROW_SLACK)).floor();
    if rows < 1.0 {
        return Err(GenError::ShorterThanInterval {
            duration_s,
            interval_s,
        });
    }
    if rows > MAX_GENERATED_ROWS as f64 {
        return Err(GenError::TooManyRows {
            interval_s,
            duration_s,
            rows,
            max: MAX_GENERATED_ROWS,
        });
    }
    // In range 1..=MAX_GENERATED_ROWS, checked just above.
    Ok(rows as usize)
}

/// Rate in requests per second at time `t_s` (seconds since Monday 00:00)
/// for every kind but bursty; `span_s` is the generated span.
fn rate_at(spec: &GenSpec, t_s: f64, span_s: f64) -> f64 {
    let base = spec.base_rps;
    let swing = spec.peak_rps - spec.base_rps;
    match spec.kind {
        GenKind::Constant => base,
        GenKind::Step => {
            if t_s < span_s / 2.0 {
                base
            } else {
                spec.peak_rps
            }
        }
        GenKind::Diurnal => {
            let time_of_day = t_s.rem_euclid(DAY_S);
            let phase = 2.0 * std::f64::consts::PI * (time_of_day - DIURNAL_TROUGH_S) / DAY_S;
            let shape = (1.0 - phase.cos()) / 2.0;
            // Day 0 is a Monday, so days 5 and 6 of each week are the weekend.
            let weekday = (t_s / DAY_S).floor().rem_euclid(7.0);
            let amplitude = if spec.weekly && weekday >= 5.0 {
                WEEKEND_AMPLITUDE
            } else {
                1.0
            };
            base + amplitude * swing * shape
        }
        GenKind::FlashCrowd => {
            let flash_s = FLASH_POSITION * span_s;
            if t_s < flash_s {
                base
            } else if t_s < flash_s + FLASH_RISE_S {
                base + swing * (t_s - flash_s) / FLASH_RISE_S
            } else {
                base + swing * (-(t_s - flash_s - FLASH_RISE_S) / FLASH_DECAY_S).exp()
            }
        }
        GenKind::Ramp => base + swing * t_s / span_s,
        // Bursty counts come from `bursty_counts`; its long-run mean rate
        // stands in here should this ever be called for it.
        GenKind::Bursty => {
            let burst_share = BURSTY_MEAN_BURST_S / (BURSTY_MEAN_BURST_S + BURSTY_MEAN_NORMAL_S);
            base + swing * burst_share
        }
    }
}

/// Expected counts of the bursty shape: the two-state chain is simulated in
/// continuous time and each row gets `base·(normal time) + peak·(burst time)`.
fn bursty_counts<R: Rng + ?Sized>(spec: &GenSpec, rows: usize, rng: &mut R) -> Vec<f64> {
    let interval_s = spec.interval_s;
    let mut in_burst = false;
    let mut switch_at = sojourn(BURSTY_MEAN_NORMAL_S, rng);
    let mut counts = Vec::with_capacity(rows);
    for i in 0..rows {
        let to = (i + 1) as f64 * interval_s;
        let mut t = i as f64 * interval_s;
        let mut burst_s = 0.0;
        while switch_at < to {
            if in_burst {
                burst_s += switch_at - t;
            }
            t = t.max(switch_at);
            in_burst = !in_burst;
            let mean = if in_burst {
                BURSTY_MEAN_BURST_S
            } else {
                BURSTY_MEAN_NORMAL_S
            };
            switch_at = t + sojourn(mean, rng);
        }
        if in_burst {
            burst_s += to - t;
        }
        let burst_s = burst_s.clamp(0.0, interval_s);
        counts.push(spec.base_rps * (interval_s - burst_s) + spec.peak_rps * burst_s);
    }
    counts
}

/// An exponential holding time with mean `mean_s` seconds.
fn sojourn<R: Rng + ?Sized>(mean_s: f64, rng: &mut R) -> f64 {
    // `random` is in [0, 1), so the logarithm's argument is in (0, 1].
    let u: f64 = rng.random();
    -mean_s * (1.0 - u).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: GenKind) -> GenSpec {
        GenSpec {
            kind,
            duration_s: DAY_S,
            seed: 11,
            ..GenSpec::default()
        }
    }

    fn quiet(kind: GenKind) -> GenSpec {
        GenSpec {
            noise: false,
            ..spec(kind)
        }
    }

    fn argmax(xs: &[f64]) -> usize {
        let mut best = 0;
        for (i, x) in xs.iter().enumerate() {
            if *x > xs[best] {
                best = i;
            }
        }
        best
    }

    #[test]
    fn kinds_parse_and_display_as_kebab_case_names() {
        for kind in GenKind::ALL {
            assert_eq!(kind.to_string().parse::<GenKind>(), Ok(kind));
        }
        assert_eq!("flash-crowd".parse(), Ok(GenKind::FlashCrowd));
        assert_eq!(GenKind::FlashCrowd.to_string(), "flash-crowd");
        let e = "flash_crowd".parse::<GenKind>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown trace kind `flash_crowd`, expected one of constant, step, diurnal, bursty, flash-crowd, ramp"
        );
    }

    #[test]
    fn the_default_spec_is_a_noisy_week_of_diurnal_minutes() {
        let d = GenSpec::default();
        assert_eq!(d.kind, GenKind::Diurnal);
        assert_eq!((d.interval_s, d.duration_s), (60.0, 604_800.0));
        assert_eq!((d.base_rps, d.peak_rps), (50.0, 200.0));
        assert!(d.noise && !d.weekly);
        let t = generate(&d).unwrap();
        assert_eq!(t.requests.len(), 10_080);
        assert_eq!(t.name, "diurnal");
        assert_eq!(t.start_s, 0.0);
    }

    #[test]
    fn the_same_seed_gives_the_identical_trace_for_every_kind() {
        for kind in GenKind::ALL {
            assert_eq!(generate(&spec(kind)), generate(&spec(kind)), "{kind}");
        }
    }

    #[test]
    fn a_different_seed_gives_a_different_noisy_trace_for_every_kind() {
        for kind in GenKind::ALL {
            let a = generate(&spec(kind)).unwrap();
            let b = generate(&GenSpec {
                seed: 12,
                ..spec(kind)
            })
            .unwrap();
            assert_ne!(a.requests, b.requests, "{kind}");
        }
    }

    #[test]
    fn counts_are_finite_non_negative_whole_numbers_with_noise() {
        for kind in GenKind::ALL {
            for (base_rps, peak_rps) in [(50.0, 200.0), (0.0, 0.5), (300.0, 10.0), (0.0, 0.0)] {
                let t = generate(&GenSpec {
                    base_rps,
                    peak_rps,
                    weekly: true,
                    ..spec(kind)
                })
                .unwrap();
                assert_eq!(t.requests.len(), 1440);
                for x in &t.requests {
                    assert!(x.is_finite() && *x >= 0.0 && *x == x.round(), "{kind}: {x}");
                }
            }
        }
    }

    #[test]
    fn without_noise_counts_are_rate_times_interval() {
        let t = generate(&GenSpec {
            base_rps: 150.0,
            ..quiet(GenKind::Constant)
        })
        .unwrap();
        assert!(t.requests.iter().all(|x| *x == 150.0 * 60.0));
        assert_eq!(t.mean_rps(), 150.0);
    }

    #[test]
    fn noise_averages_to_the_expected_counts() {
        let noisy = generate(&spec(GenKind::Diurnal)).unwrap();
        let exact = generate(&quiet(GenKind::Diurnal)).unwrap();
        let total: f64 = exact.requests.iter().sum();
        let diff = noisy.requests.iter().sum::<f64>() - total;
        // The sum of Poisson draws has variance equal to its mean.
        assert!(
            diff.abs() < 5.0 * total.sqrt(),
            "diff {diff}, total {total}"
        );
    }

    #[test]
    fn the_step_changes_level_at_the_middle() {
        let t = generate(&GenSpec {
            duration_s: 6.0 * 3600.0,
            base_rps: 50.0,
            peak_rps: 150.0,
            ..quiet(GenKind::Step)
        })
        .unwrap();
        assert_eq!(t.requests.len(), 360);
        assert!(t.requests[..180].iter().all(|x| *x == 3000.0));
        assert!(t.requests[180..].iter().all(|x| *x == 9000.0));
    }

    #[test]
    fn the_diurnal_curve_peaks_in_the_afternoon_and_dips_before_dawn() {
        let t = generate(&quiet(GenKind::Diurnal)).unwrap();
        let peak_minute = argmax(&t.requests);
        let trough_minute =
            t.requests.iter().enumerate().fold(
                0,
                |best, (i, x)| if *x < t.requests[best] { i } else { best },
            );
        assert!(
            (peak_minute as i64 - 16 * 60).abs() <= 1,
            "peak at minute {peak_minute}"
        );
        assert!(
            (trough_minute as i64 - 4 * 60).abs() <= 1,
            "trough at minute {trough_minute}"
        );
        assert!((t.peak_rps() - 200.0).abs() < 0.01);
        assert!((t.requests[trough_minute] / 60.0 - 50.0).abs() < 0.01);
    }

    #[test]
    fn the_weekly_diurnal_curve_swings_less_at_the_weekend() {
        let week = |weekly| {
            generate(&GenSpec {
                weekly,
                duration_s: 7.0 * DAY_S,
                base_rps: 20.0,
                peak_rps: 200.0,
                ..quiet(GenKind::Diurnal)
            })
            .unwrap()
        };
        let (weekly, flat) = (week(true), week(false));
        let day_peak = |t: &Trace, day: usize| {
            t.requests[day * 1440..(day + 1) * 1440]
                .iter()
                .fold(0.0_f64, |a, b| a.max(*b))
                / 60.0
        };
        for day in 0..5 {
            assert!((day_peak(&weekly, day) - 200.0).abs() < 0.01, "day {day}");
        }
        for day in 5..7 {
            let want = 20.0 + WEEKEND_AMPLITUDE * 180.0;
            assert!((day_peak(&weekly, day) - want).abs() < 0.01, "day {day}");
            assert!((day_peak(&flat, day) - 200.0).abs() < 0.01, "day {day}");
        }
    }

    #[test]
    fn the_ramp_rises_monotonically_from_base_to_peak() {
        let t = generate(&quiet(GenKind::Ramp)).unwrap();
        assert!(t.requests.windows(2).all(|w| w[0] < w[1]));
        assert!((t.requests[0] / 60.0 - 50.0).abs() < 0.2);
        assert!((t.requests[1439] / 60.0 - 200.0).abs() < 0.2);
    }

    #[test]
    fn the_flash_crowd_peaks_just_after_sixty_percent_and_decays() {
        let t = generate(&GenSpec {
            base_rps: 30.0,
            peak_rps: 300.0,
            ..quiet(GenKind::FlashCrowd)
        })
        .unwrap();
        let n = t.requests.len();
        let peak = argmax(&t.requests);
        let position = peak as f64 / n as f64;
        assert!((position - 0.6).abs() < 0.01, "peak at {position}");
        assert!(t.requests[..(n * 6 / 10)].iter().all(|x| *x == 30.0 * 60.0));
        assert!((t.peak_rps() - 300.0).abs() < 5.0);
        assert!(t.requests[peak..].windows(2).all(|w| w[0] >= w[1]));
        // One time constant after the top, the excess is down to about 1/e.
        let later = t.requests[peak + 30] / 60.0 - 30.0;
        assert!((later / 270.0 - (-1.0_f64).exp()).abs() < 0.05, "{later}");
    }

    #[test]
    fn the_bursty_trace_switches_between_its_two_levels() {
        let t = generate(&GenSpec {
            duration_s: 30.0 * DAY_S,
            base_rps: 40.0,
            peak_rps: 160.0,
            ..quiet(GenKind::Bursty)
        })
        .unwrap();
        let (low, high) = (40.0 * 60.0, 160.0 * 60.0);
        assert!(t
            .requests
            .iter()
            .all(|x| *x >= low - 1e-6 && *x <= high + 1e-6));
        assert!(t.requests.contains(&low));
        assert!(t.requests.contains(&high));
        // Long-run share of time in bursts: 5 / (30 + 5).
        let share = (t.mean_rps() - 40.0) / 120.0;
        assert!((share - 1.0 / 7.0).abs() < 0.04, "burst share {share}");
    }

    #[test]
    fn noise_does_not_change_the_burst_pattern() {
        let exact = generate(&quiet(GenKind::Bursty)).unwrap();
        let noisy = generate(&spec(GenKind::Bursty)).unwrap();
        let diff: f64 = noisy
            .requests
            .iter()
            .zip(&exact.requests)
            .map(|(n, e)| n - e)
            .sum();
        let total: f64 = exact.requests.iter().sum();
        assert!(diff.abs() < 5.0 * total.sqrt(), "diff {diff}");
    }

    #[test]
    fn a_long_interval_still_mixes_the_burst_time_in() {
        let t = generate(&GenSpec {
            interval_s: DAY_S,
            duration_s: 100.0 * DAY_S,
            base_rps: 0.0,
            peak_rps: 7.0,
            ..quiet(GenKind::Bursty)
        })
        .unwrap();
        for x in &t.requests {
            let rps = x / DAY_S;
            assert!(rps > 0.3 && rps < 2.5, "{rps}");
        }
    }

    #[test]
    fn the_name_defaults_to_the_kind() {
        assert_eq!(
            generate(&spec(GenKind::FlashCrowd)).unwrap().name,
            "flash-crowd"
        );
        let named = GenSpec {
            name: "my-trace".into(),
            ..spec(GenKind::Ramp)
        };
        assert_eq!(generate(&named).unwrap().name, "my-trace");
    }

    #[test]
    fn a_partial_final_interval_is_dropped() {
        let t = generate(&GenSpec {
            duration_s: 150.0,
            ..quiet(GenKind::Constant)
        })
        .unwrap();
        assert_eq!(t.requests.len(), 2);
        let t = generate(&GenSpec {
            interval_s: 0.1,
            duration_s: 0.3,
            ..quiet(GenKind::Constant)
        })
        .unwrap();
        assert_eq!(t.requests.len(), 3);
    }

    #[test]
    fn invalid_specs_are_rejected_with_the_field_named() {
        let base = quiet(GenKind::Diurnal);
        for interval_s in [0.0, -60.0, f64::NAN, f64::INFINITY] {
            let e = generate(&GenSpec {
                interval_s,
                ..base.clone()
            })
            .unwrap_err();
            assert!(matches!(e, GenError::BadInterval { .. }), "{e:?}");
            assert!(e.to_string().starts_with("field `interval_s`"));
        }
        for duration_s in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e9] {
            let e = generate(&GenSpec {
                duration_s,
                ..base.clone()
            })
            .unwrap_err();
            assert!(matches!(e, GenError::BadDuration { .. }), "{e:?}");
        }
        for value in [-1.0, f64::NAN, f64::INFINITY] {
            let e = generate(&GenSpec {
                base_rps: value,
                ..base.clone()
            })
            .unwrap_err();
            assert!(
                matches!(
                    e,
                    GenError::BadRate {
                        field: "base_rps",
                        ..
                    }
                ),
                "{e:?}"
            );
            let e = generate(&GenSpec {
                peak_rps: value,
                ..base.clone()
            })
            .unwrap_err();
            assert!(
                matches!(
                    e,
                    GenError::BadRate {
                        field: "peak_rps",
                        ..
                    }
                ),
                "{e:?}"
            );
        }
        let e = generate(&GenSpec {
            peak_rps: 1e307,
            ..base.clone()
        })
        .unwrap_err();
        assert!(
            matches!(
                e,
                GenError::RateTooLarge {
                    field: "peak_rps",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = generate(&GenSpec {
            duration_s: 30.0,
            ..base.clone()
        })
        .unwrap_err();
        assert_eq!(
            e,
            GenError::ShorterThanInterval {
                duration_s: 30.0,
                interval_s: 60.0
            }
        );
        assert_eq!(
            e.to_string(),
            "field `duration_s`: 30 s is shorter than one interval of 60 s"
        );
        let e = generate(&GenSpec {
            interval_s: 1e-3,
            ..base
        })
        .unwrap_err();
        assert!(matches!(e, GenError::TooManyRows { .. }), "{e:?}");
    }
}
