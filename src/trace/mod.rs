//! Workload traces: request counts per constant time interval.
//!
//! A [`Trace`] is the unit of workload the simulator replays. Times are in
//! seconds, counts are requests per interval (not per second), and rates
//! derived from them (`Trace::mean_rps`, `Trace::peak_rps`) are requests
//! per second.
//!
//! The submodules provide:
//! - the native CSV format (`timestamp_s,requests`): [`read_csv`],
//!   [`read_csv_from`], [`write_csv`];
//! - resampling to another step with exact conservation of requests:
//!   `Trace::resample`;
//! - seeded synthetic generators: [`generate`] with a [`GenSpec`];
//! - Poisson noise around expected counts: `poisson_draw`,
//!   `poisson_counts`;
//! - streaming importers of real logs and tables: [`import::import`];
//! - summary statistics: `stats()` with `TraceStats`.
//!
//! All fallible operations report a [`TraceError`] (or a [`GenError`] for the
//! generators) that names the file, line, column and field involved, so a
//! bad input is never a panic.

mod csv_format;
mod generate;
pub mod import;
mod noise;
mod resample;
mod stats;

use std::path::PathBuf;

pub use csv_format::{read_csv, read_csv_from, write_csv};
pub use generate::{generate, GenError, GenKind, GenSpec, ParseGenKindError};
pub(crate) use noise::poisson_counts;
#[cfg(test)]
pub(crate) use noise::poisson_draw;
pub(crate) use stats::{stats, TraceStats};

/// The largest request count a trace row or a simulated step may hold:
/// 2^53, beyond which `f64` no longer stores whole counts exactly (so
/// requests could not be conserved to the request). Larger counts are
/// refused, never rounded or turned into infinities.
pub const MAX_REQUESTS: f64 = 9_007_199_254_740_992.0;

/// A workload trace: request counts per constant interval.
///
/// Row `i` covers the time span `[start_s + i·interval_s, start_s + (i+1)·interval_s)`
/// and holds the number of requests that arrived in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Display name (file stem for files).
    pub name: String,
    /// Timestamp of the first row, seconds.
    pub start_s: f64,
    /// Constant interval between rows, seconds (> 0).
    pub interval_s: f64,
    /// Requests that arrived in each interval (finite, >= 0).
    pub requests: Vec<f64>,
}

impl Trace {
    /// Total span covered by the trace in seconds: number of rows × `interval_s`.
    ///
    /// Zero for a trace without rows.
    pub(crate) fn duration_s(&self) -> f64 {
        self.requests.len() as f64 * self.interval_s
    }

    /// Mean arrival rate in requests per second: the mean per-interval count
    /// divided by `interval_s`.
    ///
    /// Zero for a trace without rows.
    pub(crate) fn mean_rps(&self) -> f64 {
        if self.requests.is_empty() {
            return 0.0;
        }
        let total: f64 = self.requests.iter().sum();
        total / self.requests.len() as f64 / self.interval_s
    }

    /// Highest per-interval arrival rate in requests per second: the largest
    /// count divided by `interval_s`.
    ///
    /// Zero for a trace without rows; NaN counts are ignored.
    pub(crate) fn peak_rps(&self) -> f64 {
        if self.requests.is_empty() {
            return 0.0;
        }
        let peak = self.requests.iter().copied().fold(0.0_f64, f64::max);
        peak / self.interval_s
    }
}

/// Everything that can go wrong while reading or resampling a trace.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened or read.
    #[error("cannot read trace {}", .path.display())]
    Io {
        /// File that was being read.
        path: PathBuf,
        /// Underlying I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// One field of one data row is invalid.
    #[error("{}:{}:{}: field `{}`: {}", .path.display(), .line, .column, .field, .kind)]
    Row {
        /// File that was being read.
        path: PathBuf,
        /// 1-based physical line where the row starts (blank lines count;
        /// `\n`, `\r\n` and a lone `\r` each end a line).
        line: u64,
        /// 1-based column (field index) of the offending field.
        column: u64,
        /// Name of the offending column (`timestamp_s`, `requests`, or
        /// `extra` for a field beyond the second).
        field: &'static str,
        /// What is wrong with it.
        kind: RowError,
    },
    /// The file (or, for `Trace::resample`, the trace) as a whole is
    /// unusable.
    ///
    /// For errors raised on an in-memory trace, `path` holds the trace name.
    #[error("{}: {}", .path.display(), .kind)]
    File {
        /// File that was being read, or the trace name.
        path: PathBuf,
        /// What is wrong with it.
        kind: FileError,
    },
    /// An import (`qscale trace import`) failed: invalid options, an
    /// unusable input file, nothing to count, or a malformed line under
    /// `--strict` (named `file:line`).
    #[error(transparent)]
    Import(#[from] import::ImportError),
}

impl TraceError {
    /// The same error naming the file `path` instead of the trace's name
    /// (for errors raised on a trace read from `path`).
    pub(crate) fn at_path(self, path: &std::path::Path) -> TraceError {
        match self {
            TraceError::File { kind, .. } => TraceError::File {
                path: path.to_path_buf(),
                kind,
            },
            other => other,
        }
    }
}

/// Problems with a single field of a data row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowError {
    /// The field is empty (after trimming whitespace).
    #[error("value is missing")]
    Missing,
    /// The field does not parse as a decimal number. Holds a printable
    /// preview of the field (at most 40 characters).
    #[error("`{0}` is not a number")]
    NotANumber(String),
    /// The field parses to infinity or NaN.
    #[error("{0} is not a finite number")]
    NotFinite(f64),
    /// A request count below zero.
    #[error("request count {0} is negative")]
    NegativeRequests(f64),
    /// A request count above [`MAX_REQUESTS`].
    #[error("request count {0:e} is more than the limit of 2^53 = 9007199254740992 per row")]
    TooManyRequests(f64),
    /// The timestamp equals the previous row's.
    #[error("timestamp {0} repeats the previous row's")]
    DuplicateTime(f64),
    /// The timestamp is earlier than the previous row's.
    #[error("timestamp {this} is earlier than the previous row's {prev}")]
    TimeNotIncreasing {
        /// Previous row's timestamp, seconds.
        prev: f64,
        /// This row's timestamp, seconds.
        this: f64,
    },
    /// The gap to the previous row differs from the gap between the first
    /// two rows by more than the tolerance (1e-6 relative to the interval,
    /// plus float rounding of the timestamps).
    #[error("interval {found} s differs from the trace's interval of {expected} s")]
    IrregularInterval {
        /// Interval set by the first two rows, seconds.
        expected: f64,
        /// Gap between this row and the previous one, seconds.
        found: f64,
    },
    /// The gap between the first two timestamps is too large to represent.
    #[error("interval from {prev} to {this} is too large to represent")]
    IntervalNotFinite {
        /// First row's timestamp, seconds.
        prev: f64,
        /// Second row's timestamp, seconds.
        this: f64,
    },
    /// The row does not have exactly the header's number of fields.
    #[error("expected {expected} fields, found {found}")]
    WrongFieldCount {
        /// Number of fields in the header (2).
        expected: u64,
        /// Number of fields in this row.
        found: u64,
    },
}

/// Problems with a file or trace as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FileError {
    /// No header and no rows (the file is empty or blank).
    #[error("file is empty, expected the header `timestamp_s,requests`")]
    Empty,
    /// The first line is not the expected header. Holds the header found
    /// (fields joined by commas, at most 100 characters).
    #[error(
        "header is `{found}`, expected `timestamp_s,requests` (convert another CSV with \
         `qscale trace import --format csv`)"
    )]
    BadHeader {
        /// Header found, printable preview.
        found: String,
    },
    /// A header but no data row.
    #[error("header only, no data rows")]
    NoDataRows,
    /// A single data row: the interval cannot be inferred.
    #[error("only one data row, at least 2 are needed to infer the interval")]
    OneDataRow,
    /// Every count is zero, so the trace cannot be scaled to a target rate.
    #[error("trace has no requests, every count is 0")]
    NoRequests,
    /// A resampling step that is zero, negative or not finite.
    #[error("step {step_s} s is not a positive finite number of seconds")]
    BadStep {
        /// Requested step, seconds.
        step_s: f64,
    },
    /// A trace whose own interval is zero, negative or not finite.
    #[error("trace interval {interval_s} s is not a positive finite number of seconds")]
    BadInterval {
        /// The trace's `interval_s`, seconds.
        interval_s: f64,
    },
    /// The trace does not fill a single step.
    #[error("trace lasts {duration_s} s, shorter than one step of {step_s} s")]
    TooShort {
        /// Trace duration, seconds.
        duration_s: f64,
        /// Requested step, seconds.
        step_s: f64,
    },
    /// After resampling and `workload.scale` (or `peak_rps`), a step would
    /// hold more than [`MAX_REQUESTS`] requests.
    #[error(
        "step {step} would hold {requests:e} requests after resampling to {step_s} s and scaling, \
         more than the limit of 2^53 = 9007199254740992: lower workload.scale, workload.peak_rps \
         or workload.step_s"
    )]
    StepTooLarge {
        /// 0-based step index.
        step: usize,
        /// Its request count.
        requests: f64,
        /// The step, seconds.
        step_s: f64,
    },
    /// Resampling would produce more steps than `MAX_RESAMPLED_STEPS`.
    #[error("resampling to {step_s} s steps gives {steps} steps, more than the limit of {max}")]
    TooManySteps {
        /// Requested step, seconds.
        step_s: f64,
        /// Number of steps it would produce.
        steps: f64,
        /// Limit, `MAX_RESAMPLED_STEPS`.
        max: usize,
    },
}

/// Distance from `x` to the next larger representable magnitude (one unit in
/// the last place); 0 for non-finite `x`.
fn ulp(x: f64) -> f64 {
    let a = x.abs();
    if !a.is_finite() {
        return 0.0;
    }
    let next = f64::from_bits(a.to_bits() + 1);
    if next.is_finite() {
        next - a
    } else {
        a - f64::from_bits(a.to_bits() - 1)
    }
}

/// A trace named `t` from time 0, for tests.
#[cfg(test)]
pub(crate) fn test_trace(requests: Vec<f64>, interval_s: f64) -> Trace {
    Trace {
        name: "t".into(),
        start_s: 0.0,
        interval_s,
        requests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use test_trace as trace;

    #[test]
    fn duration_is_rows_times_interval() {
        assert_eq!(trace(vec![1.0, 2.0, 3.0], 60.0).duration_s(), 180.0);
    }

    #[test]
    fn rates_are_counts_divided_by_the_interval() {
        let t = trace(vec![60.0, 120.0, 0.0], 60.0);
        assert!((t.mean_rps() - 1.0).abs() < 1e-12);
        assert_eq!(t.peak_rps(), 2.0);
    }

    #[test]
    fn an_empty_trace_has_zero_duration_and_rates() {
        let t = trace(vec![], 60.0);
        assert_eq!(t.duration_s(), 0.0);
        assert_eq!(t.mean_rps(), 0.0);
        assert_eq!(t.peak_rps(), 0.0);
    }

    #[test]
    fn ulp_is_the_gap_to_the_next_float() {
        assert_eq!(ulp(1.0), f64::EPSILON);
        assert_eq!(ulp(-1.0), f64::EPSILON);
        assert!(ulp(f64::MAX) > 0.0);
        assert_eq!(ulp(f64::INFINITY), 0.0);
        assert_eq!(ulp(f64::NAN), 0.0);
    }

    #[test]
    fn error_messages_name_the_file_line_column_and_field() {
        let e = TraceError::Row {
            path: PathBuf::from("dir/bad.csv"),
            line: 3,
            column: 2,
            field: "requests",
            kind: RowError::NegativeRequests(-1.5),
        };
        assert_eq!(
            e.to_string(),
            "dir/bad.csv:3:2: field `requests`: request count -1.5 is negative"
        );
    }
}
