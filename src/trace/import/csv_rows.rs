//! Re-binning CSV series: a native trace, or `timestamp,count` rows.
//!
//! The header decides:
//! - `timestamp_s,requests` — a native trace. It is read whole and
//!   validated by [`read_csv_from`] (traces are held in memory anyway);
//!   row `i` is its count spread over `[t_i, t_i + Δ)`, so a coarser
//!   interval sums rows and a finer one splits them evenly, as
//!   [`Trace::resample`](crate::trace::Trace::resample) does. Its times are
//!   the file's own seconds (often from 0), and `--start`/`--end` are read
//!   on that axis.
//! - `timestamp,count` — one row per instant: `count` requests at Unix
//!   time `timestamp` (e.g. one row per request with count 1, or a
//!   per-second series). Rows may come in any order and are streamed; a row
//!   whose fields do not parse is malformed.
//!
//! Fields are trimmed, surrounding double quotes are removed, and a UTF-8
//! byte order mark before the header is ignored.

use std::io::Read;

use super::input::LineReader;
use super::{
    for_each_line, parse_count, preview, split_csv_line, FileContext, FileProblem, ImportError,
    LineError, Sink,
};
use crate::trace::{read_csv_from, TraceError};

/// The accepted headers, for messages.
const EXPECTED_HEADER: &str = "`timestamp_s,requests` (a native trace) or `timestamp,count`";

/// What the header says the rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `timestamp_s,requests`.
    Native,
    /// `timestamp,count`.
    Instants,
}

/// Reads a header line.
fn parse_header(line: &[u8]) -> Option<Kind> {
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
    let fields: Vec<&[u8]> = split_csv_line(line).collect();
    match fields.as_slice() {
        [b"timestamp_s", b"requests"] => Some(Kind::Native),
        [b"timestamp", b"count"] => Some(Kind::Instants),
        _ => None,
    }
}

/// Reads one CSV file into `sink`. Returns whether its times are absolute
/// (Unix seconds: `timestamp,count`) rather than a trace's own axis.
pub(crate) fn read(
    mut lines: LineReader,
    file: &FileContext<'_>,
    sink: &mut Sink,
) -> Result<bool, TraceError> {
    let file_error = |kind| -> TraceError {
        ImportError::File {
            path: file.path.to_path_buf(),
            kind,
        }
        .into()
    };
    // Find the header: the first non-blank line.
    let mut buf = Vec::new();
    let kind = loop {
        match lines.next_line(&mut buf) {
            Ok(Some(_)) if buf.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(Some(_)) => {
                break parse_header(&buf).ok_or_else(|| {
                    file_error(FileProblem::BadHeader {
                        found: preview(&buf),
                        expected: EXPECTED_HEADER,
                    })
                })?
            }
            Ok(None) => {
                return Err(file_error(FileProblem::Empty {
                    expected: EXPECTED_HEADER,
                }))
            }
            Err(source) => {
                return Err(TraceError::Io {
                    path: file.path.to_path_buf(),
                    source,
                })
            }
        }
    };
    match kind {
        Kind::Native => {
            read_native(lines, &buf, file, sink)?;
            Ok(false)
        }
        Kind::Instants => {
            // The reader's line count includes the header and blank lines
            // before it; for_each_line adds it to the tally at the end.
            for_each_line(&mut lines, file, sink, |n, line, sink| {
                let (t, count) = parse_instant(line)?;
                sink.instant(file, n, t, count)?;
                Ok(())
            })?;
            Ok(true)
        }
    }
}

/// Parses a `timestamp,count` row.
fn parse_instant(line: &[u8]) -> Result<(f64, f64), LineError> {
    let fields: Vec<&[u8]> = split_csv_line(line).collect();
    if fields.len() != 2 {
        return Err(LineError::WrongFieldCount {
            expected: 2,
            found: fields.len(),
        });
    }
    let t = std::str::from_utf8(fields[0])
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|t| t.is_finite())
        .ok_or_else(|| LineError::BadTime {
            column: 1,
            field: "timestamp",
            found: preview(fields[0]),
        })?;
    let count = parse_count(fields[1]).ok_or_else(|| LineError::BadCount {
        column: 2,
        field: "count".into(),
        found: preview(fields[1]),
    })?;
    Ok((t, count))
}

/// Reads the rest of a native trace whose header line (the reader's
/// current line) is `header`, and adds each row as a span.
fn read_native(
    lines: LineReader,
    header: &[u8],
    file: &FileContext<'_>,
    sink: &mut Sink,
) -> Result<(), TraceError> {
    // Give the parser the same line numbers as the file: blank lines before
    // the header, the header, then the rest.
    let header_line = lines.line_number();
    let mut prefix = vec![b'\n'; usize::try_from(header_line.saturating_sub(1)).unwrap_or(0)];
    prefix.extend_from_slice(header);
    prefix.push(b'\n');
    let rest = lines.into_inner();
    let joined = std::io::Cursor::new(prefix).chain(rest);
    let trace = read_csv_from(joined, file.path)?;
    let rows = trace.requests.len() as u64;
    for (i, &count) in trace.requests.iter().enumerate() {
        let from = trace.start_s + i as f64 * trace.interval_s;
        let to = trace.start_s + (i + 1) as f64 * trace.interval_s;
        // Row numbers are approximate (blank lines), but a native trace has
        // already been validated, so only a span the bins cannot hold fails.
        sink.span(file, header_line + 1 + i as u64, from, to, count)?;
    }
    sink.add_lines(header_line + rows);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::import::{import_readers, ImportFormat, ImportOptions};
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn input(text: &str) -> Vec<(PathBuf, Box<dyn Read>)> {
        vec![(
            PathBuf::from("series.csv"),
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        )]
    }

    #[test]
    fn a_native_trace_is_re_binned_coarser_and_finer() {
        let text = "timestamp_s,requests\n0,1\n60,2\n120,3\n180,4\n";
        let opts = ImportOptions::new(ImportFormat::Csv, 120.0, "r");
        let report = import_readers(input(text), &opts).unwrap();
        assert_eq!(report.trace.requests, vec![3.0, 7.0]);
        assert_eq!(report.origin_unix_s, None);
        assert_eq!(report.records, 4);
        let opts = ImportOptions::new(ImportFormat::Csv, 30.0, "r");
        let report = import_readers(input(text), &opts).unwrap();
        assert_eq!(
            report.trace.requests,
            vec![0.5, 0.5, 1.0, 1.0, 1.5, 1.5, 2.0, 2.0]
        );
    }

    #[test]
    fn a_native_trace_with_errors_reports_them_at_their_line() {
        let text = "\ntimestamp_s,requests\n0,1\n60,-2\n";
        let opts = ImportOptions::new(ImportFormat::Csv, 60.0, "r");
        let e = import_readers(input(text), &opts).unwrap_err();
        assert_eq!(
            e.to_string(),
            "series.csv:4:2: field `requests`: request count -2 is negative"
        );
    }

    #[test]
    fn instant_rows_are_binned_in_any_order() {
        let text = "timestamp,count\n130,1\n10,2\n\n65,1\n70,x\n";
        let opts = ImportOptions::new(ImportFormat::Csv, 60.0, "r");
        let report = import_readers(input(text), &opts).unwrap();
        assert_eq!(report.trace.requests, vec![2.0, 1.0, 1.0]);
        assert_eq!(report.origin_unix_s, Some(0.0));
        assert_eq!(report.malformed, 1);
        assert_eq!(report.lines, 6);
        assert_eq!(
            report.first_malformed.unwrap().to_string(),
            "series.csv:6: field 2 (`count`): `x` is not a non-negative number up to 2^53"
        );
    }

    #[test]
    fn an_unknown_header_is_an_error() {
        let opts = ImportOptions::new(ImportFormat::Csv, 60.0, "r");
        let e = import_readers(input("time,requests\n0,1\n"), &opts).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("series.csv: header is `time,requests`"),
            "{e}"
        );
        let e = import_readers(input("\n\n"), &opts).unwrap_err();
        assert!(e.to_string().contains("file is empty"), "{e}");
    }

    proptest! {
        #[test]
        fn arbitrary_rows_never_panic(body in "[0-9eE.,+\\-\r\n \"a-z]{0,300}", native in any::<bool>()) {
            let header = if native { "timestamp_s,requests" } else { "timestamp,count" };
            let text = format!("{header}\n{body}");
            let opts = ImportOptions::new(ImportFormat::Csv, 60.0, "r");
            let _ = import_readers(input(&text), &opts);
        }
    }
}
