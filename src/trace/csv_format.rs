//! The native CSV trace format: reading with precise error locations, and
//! writing that reads back to the identical trace.
//!
//! The format is a header `timestamp_s,requests` followed by one row per
//! interval:
//!
//! ```text
//! timestamp_s,requests
//! 0,12
//! 60,15.5
//! 120,9
//! ```
//!
//! - `timestamp_s`: start of the interval in seconds (any finite number,
//!   strictly increasing, evenly spaced);
//! - `requests`: requests that arrived in the interval (finite, `>= 0`,
//!   at most 2^53, fractions allowed).
//!
//! Accepted variations: a UTF-8 byte order mark, CRLF line ends, whitespace
//! around fields, quoted fields, blank lines. At least two data rows are
//! required, because the interval is inferred from the timestamps.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use super::{ulp, FileError, RowError, Trace, TraceError, MAX_REQUESTS};

/// Name of the first column.
const TIMESTAMP: &str = "timestamp_s";
/// Name of the second column.
const REQUESTS: &str = "requests";
/// Field name reported for a field beyond the second.
const EXTRA: &str = "extra";
/// Number of columns in the format.
const COLUMNS: usize = 2;
/// Allowed deviation of a row's gap from the first gap, relative to the first gap.
const INTERVAL_TOLERANCE: f64 = 1e-6;
/// Longest preview of an offending field in an error message, in characters.
const FIELD_PREVIEW_CHARS: usize = 40;
/// Longest preview of an unexpected header in an error message, in characters.
const HEADER_PREVIEW_CHARS: usize = 100;

/// Reads a trace from the native CSV file at `path` (see the module docs for
/// the format). The trace name is the file stem.
///
/// Requirements: the header `timestamp_s,requests` (exactly these two
/// columns); at least 2 data rows; finite numbers; timestamps strictly
/// increasing with a constant gap (each gap within 1e-6 of the first gap,
/// relative, plus the float rounding of the timestamps themselves);
/// requests `>= 0` and at most [`MAX_REQUESTS`].
///
/// The interval is the mean gap over the whole file, snapped to the
/// shortest decimal number within its float rounding error, so intervals
/// such as `60` or `0.1` come back exactly.
///
/// # Errors
/// - [`TraceError::Io`] if the file cannot be opened or read;
/// - [`TraceError::Row`] naming the line, column and field of the first
///   invalid value (see [`RowError`]);
/// - [`TraceError::File`] for an empty file, a wrong header, a header without
///   rows or a single data row (see [`FileError`]).
pub fn read_csv(path: &Path) -> Result<Trace, TraceError> {
    let file = File::open(path).map_err(|source| TraceError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_csv_from(file, path)
}

/// Reads a trace in the native CSV format from `reader`, exactly like
/// [`read_csv`]; `path` is used only for the trace name (its file stem) and
/// in error messages. The whole input is read into memory first. Never
/// panics, whatever the bytes.
///
/// # Errors
/// The same as [`read_csv`]; read failures are reported as
/// [`TraceError::Io`] with `path`.
pub fn read_csv_from<R: Read>(mut reader: R, path: &Path) -> Result<Trace, TraceError> {
    // The whole input is read first: the csv parser's own line numbers go
    // wrong after blank lines, so lines are counted here from byte offsets.
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| TraceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let mut lines = LineCounter::new(&bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[..]);
    let mut record = csv::ByteRecord::new();

    if !next_record(&mut rdr, &mut record, path)? {
        return Err(file_error(path, FileError::Empty));
    }
    check_header(&record, path)?;

    let mut requests = Vec::new();
    let mut timeline = Timeline::default();
    while next_record(&mut rdr, &mut record, path)? {
        let offset = record.position().map_or(0, |p| p.byte());
        let line = lines.line_at(usize::try_from(offset).unwrap_or(usize::MAX));
        let row_error = |column: usize, field: &'static str, kind: RowError| TraceError::Row {
            path: path.to_path_buf(),
            line,
            column: column as u64,
            field,
            kind,
        };
        if record.len() != COLUMNS {
            let kind = RowError::WrongFieldCount {
                expected: COLUMNS as u64,
                found: record.len() as u64,
            };
            // Point at the first missing field, or at the first extra one.
            return Err(match record.len() {
                0 => row_error(1, TIMESTAMP, kind),
                1 => row_error(2, REQUESTS, kind),
                _ => row_error(COLUMNS + 1, EXTRA, kind),
            });
        }
        let t = parse_number(record.get(0)).map_err(|k| row_error(1, TIMESTAMP, k))?;
        timeline.push(t).map_err(|k| row_error(1, TIMESTAMP, k))?;
        let r = parse_number(record.get(1)).map_err(|k| row_error(2, REQUESTS, k))?;
        if r < 0.0 {
            return Err(row_error(2, REQUESTS, RowError::NegativeRequests(r)));
        }
        if r > MAX_REQUESTS {
            return Err(row_error(2, REQUESTS, RowError::TooManyRequests(r)));
        }
        requests.push(r);
    }

    let interval_s = match timeline.interval() {
        Some(interval_s) => interval_s,
        None if requests.is_empty() => return Err(file_error(path, FileError::NoDataRows)),
        None => return Err(file_error(path, FileError::OneDataRow)),
    };
    Ok(Trace {
        name: trace_name(path),
        start_s: timeline.first.unwrap_or(0.0),
        interval_s,
        requests,
    })
}

/// Writes `trace` in the native CSV format: the header, then one
/// `timestamp_s,requests` row per interval with timestamps
/// `start_s + i·interval_s`. Numbers use Rust's shortest round-trip
/// formatting, so [`read_csv_from`] gives back the same `f64` values.
///
/// The trace is written as is: a trace with invalid values (negative or
/// non-finite counts) is written but will not read back.
///
/// # Errors
/// Any error from writing to `out`.
pub fn write_csv<W: Write>(trace: &Trace, out: W) -> Result<(), std::io::Error> {
    let mut out = BufWriter::new(out);
    writeln!(out, "{TIMESTAMP},{REQUESTS}")?;
    for (i, r) in trace.requests.iter().enumerate() {
        let t = trace.start_s + i as f64 * trace.interval_s;
        writeln!(out, "{t},{r}")?;
    }
    out.flush()
}

/// Physical line numbers of records, from their byte offsets.
///
/// Line breaks are `\n`, `\r\n` and a lone `\r`, as for the csv parser.
struct LineCounter<'a> {
    /// The whole input.
    bytes: &'a [u8],
    /// Offset up to which line breaks have been counted.
    pos: usize,
    /// 1-based line number at `pos`.
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        // A byte order mark is not a record start.
        let pos = if bytes.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        LineCounter {
            bytes,
            pos,
            line: 1,
        }
    }

    /// The line on which the record reported at byte `offset` starts.
    /// Offsets must not decrease between calls.
    ///
    /// The parser reports a record at the end of the previous one, so line
    /// ends (blank lines) right after `offset` are skipped.
    fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.clamp(self.pos, self.bytes.len());
        while self.pos < offset {
            self.step();
        }
        while matches!(self.bytes.get(self.pos), Some(b'\n' | b'\r')) {
            self.step();
        }
        self.line
    }

    /// Moves past one byte, counting it if it ends a line.
    fn step(&mut self) {
        let ends_line = match self.bytes.get(self.pos) {
            Some(b'\n') => true,
            Some(b'\r') => self.bytes.get(self.pos + 1) != Some(&b'\n'),
            _ => false,
        };
        if ends_line {
            self.line += 1;
        }
        self.pos += 1;
    }
}

/// Timestamps seen so far, checked for order and even spacing.
#[derive(Default)]
struct Timeline {
    /// First timestamp.
    first: Option<f64>,
    /// Second timestamp; with `first` it sets the expected gap.
    second: Option<f64>,
    /// Most recent timestamp.
    last: f64,
    /// Number of timestamps pushed.
    count: u64,
}

impl Timeline {
    /// Accepts the next timestamp `t` (finite), or says why it does not fit.
    fn push(&mut self, t: f64) -> Result<(), RowError> {
        let Some(first) = self.first else {
            self.first = Some(t);
            self.last = t;
            self.count = 1;
            return Ok(());
        };
        let prev = self.last;
        if t == prev {
            return Err(RowError::DuplicateTime(t));
        }
        if t < prev {
            return Err(RowError::TimeNotIncreasing { prev, this: t });
        }
        let gap = t - prev;
        match self.second {
            None => {
                if !gap.is_finite() {
                    return Err(RowError::IntervalNotFinite { prev, this: t });
                }
                self.second = Some(t);
            }
            Some(second) => {
                let expected = second - first;
                // Relative tolerance, plus the rounding of the four timestamps
                // involved (matters for sub-second steps at epoch-sized times).
                let slack = ulp(first) + ulp(second) + ulp(prev) + ulp(t);
                let tolerance = INTERVAL_TOLERANCE * expected + 2.0 * slack;
                if (gap - expected).abs() > tolerance {
                    return Err(RowError::IrregularInterval {
                        expected,
                        found: gap,
                    });
                }
            }
        }
        self.last = t;
        self.count += 1;
        Ok(())
    }

    /// The interval in seconds, if at least two timestamps were pushed: the
    /// mean gap, snapped to the shortest decimal within its rounding error.
    fn interval(&self) -> Option<f64> {
        let first = self.first?;
        let second = self.second?;
        let steps = (self.count - 1) as f64;
        let span = self.last - first;
        let mean = span / steps;
        if !mean.is_finite() || mean <= 0.0 {
            // The span overflowed; the first gap is finite by construction.
            return Some(second - first);
        }
        let error = 2.0 * (ulp(first) + ulp(self.last) + ulp(span)) / steps + 2.0 * ulp(mean);
        Some(shortest_decimal_within(mean, error))
    }
}

/// The positive number with the fewest significant decimal digits within
/// `error` of `x`, or `x` itself if none is shorter.
fn shortest_decimal_within(x: f64, error: f64) -> f64 {
    for digits in 0..17 {
        if let Ok(y) = format!("{x:.digits$e}").parse::<f64>() {
            if y > 0.0 && (y - x).abs() <= error {
                return y;
            }
        }
    }
    x
}

/// Reads the next non-blank record into `record`; `false` at end of input.
///
/// Lines that are empty or hold only whitespace are skipped.
fn next_record<R: Read>(
    rdr: &mut csv::Reader<R>,
    record: &mut csv::ByteRecord,
    path: &Path,
) -> Result<bool, TraceError> {
    loop {
        let more = rdr.read_byte_record(record).map_err(|e| {
            let message = e.to_string();
            let source = match e.into_kind() {
                csv::ErrorKind::Io(source) => source,
                _ => std::io::Error::new(std::io::ErrorKind::InvalidData, message),
            };
            TraceError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
        if !more {
            return Ok(false);
        }
        let blank = record.len() == 1 && record.iter().all(|f| f.trim_ascii().is_empty());
        if !blank {
            return Ok(true);
        }
    }
}

/// Checks that `record` is the header `timestamp_s,requests`.
fn check_header(record: &csv::ByteRecord, path: &Path) -> Result<(), TraceError> {
    let fields: Vec<String> = record
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let text = String::from_utf8_lossy(f);
            let text = text.trim();
            // The csv parser strips a byte order mark; be safe if it did not.
            let text = if i == 0 {
                text.trim_start_matches('\u{feff}')
            } else {
                text
            };
            text.trim().to_string()
        })
        .collect();
    if fields.len() == COLUMNS && fields[0] == TIMESTAMP && fields[1] == REQUESTS {
        return Ok(());
    }
    let found = preview(&fields.join(","), HEADER_PREVIEW_CHARS);
    Err(file_error(path, FileError::BadHeader { found }))
}

/// Parses one field as a finite number.
fn parse_number(field: Option<&[u8]>) -> Result<f64, RowError> {
    let bytes = field.unwrap_or_default();
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.trim(),
        Err(_) => {
            let lossy = String::from_utf8_lossy(bytes);
            return Err(RowError::NotANumber(preview(
                lossy.trim(),
                FIELD_PREVIEW_CHARS,
            )));
        }
    };
    if text.is_empty() {
        return Err(RowError::Missing);
    }
    let value: f64 = text
        .parse()
        .map_err(|_| RowError::NotANumber(preview(text, FIELD_PREVIEW_CHARS)))?;
    if !value.is_finite() {
        return Err(RowError::NotFinite(value));
    }
    Ok(value)
}

/// A printable, length-limited rendering of `text` for error messages:
/// control and other non-printable characters are escaped, and text beyond
/// `max_chars` is cut and marked with `…`.
fn preview(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for c in text.chars() {
        let escaped: String = if c == '\u{fffd}' || !(c.is_control() || c == '\u{feff}') {
            c.to_string()
        } else {
            c.escape_default().collect()
        };
        chars += escaped.chars().count();
        if chars > max_chars {
            out.push('…');
            break;
        }
        out.push_str(&escaped);
    }
    out
}

/// The trace name for `path`: its file stem, or `trace` if it has none.
fn trace_name(path: &Path) -> String {
    match path.file_stem() {
        Some(stem) if !stem.is_empty() => stem.to_string_lossy().into_owned(),
        _ => "trace".to_string(),
    }
}

/// A [`TraceError::File`] for `path`.
fn file_error(path: &Path, kind: FileError) -> TraceError {
    TraceError::File {
        path: path.to_path_buf(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(text: &[u8]) -> Result<Trace, TraceError> {
        read_csv_from(text, Path::new("data/bad.csv"))
    }

    /// Reads `text` and returns the row error's line, column, field and kind.
    fn row_error(text: &[u8]) -> (u64, u64, &'static str, RowError) {
        match read(text) {
            Err(TraceError::Row {
                line,
                column,
                field,
                kind,
                ..
            }) => (line, column, field, kind),
            other => panic!("expected a row error, got {other:?}"),
        }
    }

    fn file_error_kind(text: &[u8]) -> FileError {
        match read(text) {
            Err(TraceError::File { kind, .. }) => kind,
            other => panic!("expected a file error, got {other:?}"),
        }
    }

    #[test]
    fn a_well_formed_file_reads_into_a_trace() {
        let t = read(b"timestamp_s,requests\n0,5\n60,7.5\n120,0\n").unwrap();
        assert_eq!(
            t,
            Trace {
                name: "bad".into(),
                start_s: 0.0,
                interval_s: 60.0,
                requests: vec![5.0, 7.5, 0.0],
            }
        );
    }

    #[test]
    fn a_byte_order_mark_crlf_line_ends_and_spaces_are_accepted() {
        let text = "\u{feff}timestamp_s , requests\r\n 100 ,\t5 \r\n110,6\r\n\r\n120, 7\r\n";
        let t = read(text.as_bytes()).unwrap();
        assert_eq!(t.start_s, 100.0);
        assert_eq!(t.interval_s, 10.0);
        assert_eq!(t.requests, vec![5.0, 6.0, 7.0]);
    }

    #[test]
    fn quoted_fields_blank_lines_and_no_final_newline_are_accepted() {
        let t = read(b"\"timestamp_s\",\"requests\"\n\n\"0\",\"1\"\n   \n60,2").unwrap();
        assert_eq!(t.requests, vec![1.0, 2.0]);
    }

    #[test]
    fn a_non_numeric_request_count_is_reported_at_its_line_and_column() {
        let text = b"timestamp_s,requests\n0,5\n60,abc\n";
        let (line, column, field, kind) = row_error(text);
        assert_eq!((line, column, field), (3, 2, "requests"));
        assert_eq!(kind, RowError::NotANumber("abc".into()));
        let message = read(text).unwrap_err().to_string();
        assert!(message.contains("bad.csv:3:2"), "{message}");
        assert!(message.contains("`requests`"), "{message}");
        assert!(message.contains("`abc` is not a number"), "{message}");
    }

    #[test]
    fn a_non_numeric_timestamp_is_reported_in_column_one() {
        let (line, column, field, kind) = row_error(b"timestamp_s,requests\nnoon,5\n60,1\n");
        assert_eq!((line, column, field), (2, 1, "timestamp_s"));
        assert_eq!(kind, RowError::NotANumber("noon".into()));
    }

    #[test]
    fn a_negative_request_count_is_rejected() {
        let text = b"timestamp_s,requests\n0,5\n60,-1\n";
        let (line, column, field, kind) = row_error(text);
        assert_eq!((line, column, field), (3, 2, "requests"));
        assert_eq!(kind, RowError::NegativeRequests(-1.0));
        let message = read(text).unwrap_err().to_string();
        assert_eq!(
            message,
            "data/bad.csv:3:2: field `requests`: request count -1 is negative"
        );
    }

    #[test]
    fn a_count_beyond_2_pow_53_is_rejected_not_rounded() {
        let (line, column, field, kind) =
            row_error(b"timestamp_s,requests\n0,5\n60,1e300\n120,1\n");
        assert_eq!((line, column, field), (3, 2, "requests"));
        assert_eq!(kind, RowError::TooManyRequests(1e300));
        let at_limit = read(b"timestamp_s,requests\n0,9007199254740992\n60,0\n").unwrap();
        assert_eq!(at_limit.requests[0], MAX_REQUESTS);
        let message = read(b"timestamp_s,requests\n0,1\n60,9007199254740994\n")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("bad.csv:3:2: field `requests`: request count 9.007199254740994e15 is more than the limit of 2^53"),
            "{message}"
        );
    }

    #[test]
    fn nan_requests_are_rejected() {
        let (line, column, field, kind) = row_error(b"timestamp_s,requests\n0,5\n60,NaN\n");
        assert_eq!((line, column, field), (3, 2, "requests"));
        assert!(
            matches!(kind, RowError::NotFinite(x) if x.is_nan()),
            "{kind:?}"
        );
    }

    #[test]
    fn infinite_values_are_rejected_in_either_column() {
        let (line, column, field, kind) = row_error(b"timestamp_s,requests\ninf,5\n60,1\n");
        assert_eq!((line, column, field), (2, 1, "timestamp_s"));
        assert_eq!(kind, RowError::NotFinite(f64::INFINITY));
        let (line, column, field, kind) =
            row_error(b"timestamp_s,requests\n0,5\n60,1\n120,-infinity\n");
        assert_eq!((line, column, field), (4, 2, "requests"));
        assert_eq!(kind, RowError::NotFinite(f64::NEG_INFINITY));
        let message = read(b"timestamp_s,requests\n0,1e999\n60,1\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("bad.csv:2:2: field `requests`: inf is not a finite number"));
    }

    #[test]
    fn a_timestamp_going_backwards_is_rejected() {
        let text = b"timestamp_s,requests\n0,5\n60,1\n30,1\n";
        let (line, column, field, kind) = row_error(text);
        assert_eq!((line, column, field), (4, 1, "timestamp_s"));
        assert_eq!(
            kind,
            RowError::TimeNotIncreasing {
                prev: 60.0,
                this: 30.0
            }
        );
        let message = read(text).unwrap_err().to_string();
        assert!(message.contains("bad.csv:4:1"), "{message}");
        assert!(message.contains("timestamp 30 is earlier"), "{message}");
    }

    #[test]
    fn a_duplicate_timestamp_is_rejected() {
        let (line, column, field, kind) =
            row_error(b"timestamp_s,requests\n0,5\n60,1\n60,1\n120,1\n");
        assert_eq!((line, column, field), (4, 1, "timestamp_s"));
        assert_eq!(kind, RowError::DuplicateTime(60.0));
        let (line, _, _, kind) = row_error(b"timestamp_s,requests\n0,5\n0,1\n");
        assert_eq!(line, 3);
        assert_eq!(kind, RowError::DuplicateTime(0.0));
    }

    #[test]
    fn an_irregular_interval_is_rejected() {
        let text = b"timestamp_s,requests\n0,5\n60,1\n120,1\n200,1\n";
        let (line, column, field, kind) = row_error(text);
        assert_eq!((line, column, field), (5, 1, "timestamp_s"));
        assert_eq!(
            kind,
            RowError::IrregularInterval {
                expected: 60.0,
                found: 80.0
            }
        );
        let message = read(text).unwrap_err().to_string();
        assert!(message.contains("bad.csv:5:1: field `timestamp_s`: interval 80 s"));
    }

    #[test]
    fn a_gap_within_the_relative_tolerance_is_accepted() {
        let t = read(b"timestamp_s,requests\n0,5\n60,1\n120.00001,1\n").unwrap();
        assert!((t.interval_s - 60.0).abs() < 1e-5);
        let e = row_error(b"timestamp_s,requests\n0,5\n60,1\n120.001,1\n");
        assert_eq!((e.0, e.1), (4, 1));
    }

    #[test]
    fn sub_second_steps_at_epoch_sized_timestamps_read_exactly() {
        let original = Trace {
            name: "epoch".into(),
            start_s: 1_700_000_000.0,
            interval_s: 0.1,
            requests: (0..500).map(f64::from).collect(),
        };
        let mut bytes = Vec::new();
        write_csv(&original, &mut bytes).unwrap();
        let back = read_csv_from(&bytes[..], Path::new("epoch.csv")).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn a_row_with_an_extra_field_is_reported_at_the_extra_column() {
        let (line, column, field, kind) = row_error(b"timestamp_s,requests\n0,5\n60,1,9\n");
        assert_eq!((line, column, field), (3, 3, "extra"));
        assert_eq!(
            kind,
            RowError::WrongFieldCount {
                expected: 2,
                found: 3
            }
        );
    }

    #[test]
    fn a_row_with_a_missing_field_is_reported_at_the_missing_column() {
        let (line, column, field, kind) = row_error(b"timestamp_s,requests\n0,5\n60\n120,1\n");
        assert_eq!((line, column, field), (3, 2, "requests"));
        assert_eq!(
            kind,
            RowError::WrongFieldCount {
                expected: 2,
                found: 1
            }
        );
    }

    #[test]
    fn a_truncated_last_line_is_reported() {
        let (line, column, field, kind) = row_error(b"timestamp_s,requests\n0,5\n60,1\n120,");
        assert_eq!(
            (line, column, field, kind),
            (4, 2, "requests", RowError::Missing)
        );
        let (line, column, field, _) = row_error(b"timestamp_s,requests\n0,5\n60,1\n12");
        assert_eq!((line, column, field), (4, 2, "requests"));
        let message = read(b"timestamp_s,requests\n0,5\n60,1\n120,")
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "data/bad.csv:4:2: field `requests`: value is missing"
        );
    }

    #[test]
    fn line_numbers_count_blank_lines() {
        let (line, column, _, _) = row_error(b"timestamp_s,requests\n\n0,1\n\n60,x\n");
        assert_eq!((line, column), (5, 2));
        let (line, _, _, _) = row_error(b"\n\ntimestamp_s,requests\r\n\r\n\r\n0,1\r\n60,x\r\n");
        assert_eq!(line, 7);
        let (line, _, _, _) =
            row_error("\u{feff}\ntimestamp_s,requests\r0,1\r\r60,-2\r".as_bytes());
        assert_eq!(line, 5);
        // A quoted field spanning lines: the next row is numbered by its own line.
        let (line, _, _, _) = row_error(b"timestamp_s,requests\n0,\"1\n\"\n60,x\n");
        assert_eq!(line, 4);
    }

    #[test]
    fn line_counter_treats_crlf_as_one_line_end() {
        let bytes = b"a\r\nb\rc\nd";
        let mut lines = LineCounter::new(bytes);
        assert_eq!(lines.line_at(0), 1);
        assert_eq!(lines.line_at(3), 2);
        assert_eq!(lines.line_at(5), 3);
        assert_eq!(lines.line_at(8), 4);
        assert_eq!(lines.line_at(100), 4);
    }

    #[test]
    fn a_wrong_header_says_what_was_found_and_what_is_expected() {
        let text = b"time,requests\n0,1\n60,2\n";
        assert_eq!(
            file_error_kind(text),
            FileError::BadHeader {
                found: "time,requests".into()
            }
        );
        let message = read(text).unwrap_err().to_string();
        assert_eq!(
            message,
            "data/bad.csv: header is `time,requests`, expected `timestamp_s,requests` \
             (convert another CSV with `qscale trace import --format csv`)"
        );
    }

    #[test]
    fn a_header_with_an_extra_column_or_no_header_is_rejected() {
        assert!(matches!(
            file_error_kind(b"timestamp_s,requests,region\n0,1,a\n60,1,b\n"),
            FileError::BadHeader { found } if found == "timestamp_s,requests,region"
        ));
        assert!(matches!(
            file_error_kind(b"0,1\n60,2\n"),
            FileError::BadHeader { found } if found == "0,1"
        ));
    }

    #[test]
    fn a_header_without_rows_is_rejected() {
        assert_eq!(
            file_error_kind(b"timestamp_s,requests\n"),
            FileError::NoDataRows
        );
        assert_eq!(
            file_error_kind(b"timestamp_s,requests\r\n\r\n"),
            FileError::NoDataRows
        );
    }

    #[test]
    fn a_single_data_row_is_rejected_because_the_interval_is_unknown() {
        let text = b"timestamp_s,requests\n0,5\n";
        assert_eq!(file_error_kind(text), FileError::OneDataRow);
        assert!(read(text)
            .unwrap_err()
            .to_string()
            .contains("only one data row"));
    }

    #[test]
    fn an_empty_or_blank_file_is_rejected() {
        assert_eq!(file_error_kind(b""), FileError::Empty);
        assert_eq!(file_error_kind(b"\n\r\n  \n"), FileError::Empty);
        assert_eq!(file_error_kind("\u{feff}".as_bytes()), FileError::Empty);
        let message = read(b"").unwrap_err().to_string();
        assert!(
            message.starts_with("data/bad.csv: file is empty"),
            "{message}"
        );
    }

    #[test]
    fn binary_garbage_is_reported_without_panicking() {
        let garbage: Vec<u8> = (0..=255u8).rev().chain(0..=255u8).collect();
        let e = read(&garbage).unwrap_err();
        assert!(
            matches!(&e, TraceError::File { kind: FileError::BadHeader { found }, .. }
                if found.chars().count() <= 101),
            "{e:?}"
        );
        let mut after_header = b"timestamp_s,requests\n".to_vec();
        after_header.extend_from_slice(b"\xff\xfe\x00,1\n");
        let (line, column, field, kind) = row_error(&after_header);
        assert_eq!((line, column, field), (2, 1, "timestamp_s"));
        assert!(matches!(kind, RowError::NotANumber(_)), "{kind:?}");
    }

    #[test]
    fn read_csv_names_the_trace_after_the_file_stem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("week-1.csv");
        std::fs::write(&path, "timestamp_s,requests\n0,1\n60,2\n").unwrap();
        let t = read_csv(&path).unwrap();
        assert_eq!(t.name, "week-1");
        assert_eq!(t.requests, vec![1.0, 2.0]);
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.csv");
        let e = read_csv(&path).unwrap_err();
        assert!(matches!(e, TraceError::Io { .. }));
        assert!(e.to_string().starts_with("cannot read trace "));
        assert!(e.to_string().ends_with("missing.csv"));
    }

    #[test]
    fn write_csv_prints_the_header_and_shortest_numbers() {
        let t = Trace {
            name: "x".into(),
            start_s: 30.0,
            interval_s: 0.5,
            requests: vec![1.0, 0.1, 2.5e-7],
        };
        let mut out = Vec::new();
        write_csv(&t, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "timestamp_s,requests\n30,1\n30.5,0.1\n31,0.00000025\n"
        );
    }

    #[test]
    fn shortest_decimal_within_prefers_few_digits() {
        assert_eq!(shortest_decimal_within(0.1 + 0.2, 1e-16), 0.3);
        assert_eq!(shortest_decimal_within(60.0, 0.0), 60.0);
        assert_eq!(shortest_decimal_within(0.123456789, 1e-12), 0.123456789);
    }

    #[test]
    fn previews_escape_control_characters_and_are_cut() {
        assert_eq!(preview("a\tb", 40), "a\\tb");
        assert_eq!(preview(&"x".repeat(50), 40), format!("{}…", "x".repeat(40)));
    }

    /// A trace whose interval is a short decimal, as real traces have.
    fn nice_trace() -> impl Strategy<Value = Trace> {
        let count = prop_oneof![
            (0u32..100_000).prop_map(f64::from),
            0.0..1e6f64,
            proptest::num::f64::POSITIVE
                | proptest::num::f64::NORMAL
                | proptest::num::f64::SUBNORMAL
                | proptest::num::f64::ZERO,
        ]
        .prop_map(|x| {
            if x.is_finite() && (0.0..=MAX_REQUESTS).contains(&x) {
                x
            } else {
                0.0
            }
        });
        (
            -4_000_000i64..4_000_000,
            1u32..100_000,
            0i32..6,
            proptest::collection::vec(count, 2..60),
        )
            .prop_map(|(start, m, k, requests)| Trace {
                name: "roundtrip".into(),
                start_s: start as f64 * 0.25,
                interval_s: f64::from(m) / 10f64.powi(k),
                requests,
            })
    }

    proptest! {
        #[test]
        fn read_csv_from_never_panics_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..400)
        ) {
            let _ = read(&bytes);
        }

        #[test]
        fn read_csv_from_never_panics_on_csv_like_text_after_a_valid_header(
            body in "[0-9eE.,+\\-\r\n \"a-z]{0,300}"
        ) {
            let text = format!("timestamp_s,requests\n{body}");
            if let Ok(t) = read(text.as_bytes()) {
                prop_assert!(t.interval_s > 0.0 && t.interval_s.is_finite());
                prop_assert!(t.requests.len() >= 2);
                prop_assert!(t.requests.iter().all(|r| r.is_finite() && *r >= 0.0));
            }
        }

        #[test]
        fn writing_then_reading_gives_the_identical_trace(original in nice_trace()) {
            let mut bytes = Vec::new();
            write_csv(&original, &mut bytes).unwrap();
            let back = read_csv_from(&bytes[..], Path::new("dir/roundtrip.csv")).unwrap();
            prop_assert_eq!(back, original);
        }
    }
}
