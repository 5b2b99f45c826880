//! The Azure LLM inference traces (Azure Public Dataset,
//! `AzureLLMInferenceTrace_code.csv` and `_conv.csv`, November 2023;
//! Patel et al., "Splitwise", ISCA 2024).
//!
//! One row per request:
//!
//! ```text
//! TIMESTAMP,ContextTokens,GeneratedTokens
//! 2023-11-16 18:17:03.9799600,4808,10
//! ```
//!
//! Each row counts as one request at its timestamp; the token counts are
//! checked (whole numbers ≥ 0, so a wrong file is caught) but do not
//! weight the count. The release states no zone: a timestamp without one
//! is read as UTC, so the trace's clock is the dataset's; a zone suffix
//! (`Z`, `+00:00`), as later releases write, is honoured. Fractions of a
//! second are kept, so requests fall into the right interval at any
//! `--interval-s`.

use super::input::LineReader;
use super::time::parse_date_time;
use super::{
    for_each_line, parse_count, preview, split_csv_line, FileContext, FileProblem, ImportError,
    LineError, Sink,
};
use crate::trace::TraceError;

/// The header the format needs, for messages.
const EXPECTED_HEADER: &str = "`TIMESTAMP,ContextTokens,GeneratedTokens`";

/// The timestamp form, for messages.
const TIMESTAMP_FORM: &str = "`YYYY-MM-DD HH:MM:SS[.fraction]` with an optional zone";

/// The three column names, compared without regard to case.
const COLUMNS: [&[u8]; 3] = [b"timestamp", b"contexttokens", b"generatedtokens"];

/// Whether `line` is the format's header (a byte order mark is ignored).
fn is_header(line: &[u8]) -> bool {
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
    let fields: Vec<&[u8]> = split_csv_line(line).collect();
    fields.len() == COLUMNS.len()
        && fields
            .iter()
            .zip(COLUMNS)
            .all(|(found, name)| found.eq_ignore_ascii_case(name))
}

/// Parses one row into its time, Unix seconds.
pub(crate) fn parse_row(line: &[u8]) -> Result<f64, LineError> {
    let mut fields = [&b""[..]; 3];
    let mut found = 0;
    for field in split_csv_line(line) {
        if found < fields.len() {
            fields[found] = field;
        }
        found += 1;
    }
    if found != fields.len() {
        return Err(LineError::WrongFieldCount {
            expected: fields.len(),
            found,
        });
    }
    for (column, name) in [(2, "ContextTokens"), (3, "GeneratedTokens")] {
        let field = fields[column - 1];
        let whole = parse_count(field).is_some_and(|n| n.fract() == 0.0);
        if !whole {
            return Err(LineError::BadCount {
                column,
                field: name.to_string(),
                found: preview(field),
            });
        }
    }
    parse_date_time(fields[0]).ok_or_else(|| LineError::BadTimestamp {
        found: preview(fields[0]),
        expected: TIMESTAMP_FORM,
    })
}

/// Reads one trace file into `sink`: the header, then one request per row.
pub(crate) fn read(
    lines: &mut LineReader,
    file: &FileContext<'_>,
    sink: &mut Sink,
) -> Result<(), TraceError> {
    let file_error = |kind| -> TraceError {
        ImportError::File {
            path: file.path.to_path_buf(),
            kind,
        }
        .into()
    };
    let mut header_seen = false;
    for_each_line(lines, file, sink, |n, line, sink| {
        if !header_seen {
            header_seen = true;
            if !is_header(line) {
                return Err(file_error(FileProblem::BadHeader {
                    found: preview(line),
                    expected: EXPECTED_HEADER,
                })
                .into());
            }
            return Ok(());
        }
        let time = parse_row(line)?;
        sink.instant(file, n, time, 1.0)?;
        Ok(())
    })?;
    if !header_seen {
        return Err(file_error(FileProblem::Empty {
            expected: EXPECTED_HEADER,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::import::{
        format_utc, import_readers, test_input, ImportFormat, ImportOptions,
    };
    use proptest::prelude::*;

    const SAMPLE: &str = "TIMESTAMP,ContextTokens,GeneratedTokens\n\
        2023-11-16 18:17:03.9799600,4808,10\n\
        2023-11-16 18:17:04.0319600,3180,8\n\
        2023-11-16 18:17:04.0781490,110,27\n\
        2023-11-16 18:17:06.1206440,7433,14\n";

    fn options(interval_s: f64) -> ImportOptions {
        ImportOptions::new(ImportFormat::AzureLlm, interval_s, "llm")
    }

    #[test]
    fn a_row_is_one_request_at_its_fractional_timestamp() {
        let t = parse_row(b"2023-11-16 18:17:03.9799600,4808,10").unwrap();
        assert_eq!(format_utc(t.floor()), "2023-11-16T18:17:03Z");
        assert!((t.fract() - 0.97996).abs() < 1e-6, "{t}");
        // A zone, as later releases write, is honoured.
        let zoned = parse_row(b"2023-11-16 20:17:03.5+02:00,1,1").unwrap();
        assert_eq!(format_utc(zoned.floor()), "2023-11-16T18:17:03Z");
    }

    #[test]
    fn requests_are_counted_per_second_with_empty_seconds_as_zero() {
        let report = import_readers(vec![test_input("code.csv", SAMPLE)], &options(1.0)).unwrap();
        assert_eq!(report.trace.requests, vec![1.0, 2.0, 0.0, 1.0]);
        assert_eq!(report.records, 4);
        assert_eq!(report.lines, 5);
        let origin = report.origin_unix_s.unwrap();
        assert_eq!(format_utc(origin), "2023-11-16T18:17:03Z");
    }

    #[test]
    fn bad_rows_are_skipped_and_named() {
        let text = "TIMESTAMP,ContextTokens,GeneratedTokens\n\
            2023-11-16 18:17:03.1,4808,10\n\
            2023-11-16 18:17:04.1,-3,8\n\
            16/11/2023 18:17:04,3,8\n\
            2023-11-16 18:17:05.1,3\n\
            2023-11-16 18:17:05.2,3,8\n";
        let report = import_readers(vec![test_input("code.csv", text)], &options(1.0)).unwrap();
        assert_eq!(report.malformed, 3);
        assert_eq!(report.records, 2);
        let first = report.first_malformed.unwrap();
        assert_eq!(first.line, 3);
        assert!(first.to_string().contains("`ContextTokens`"), "{first}");
        let mut strict = options(1.0);
        strict.strict = true;
        let err = import_readers(vec![test_input("code.csv", text)], &strict).unwrap_err();
        assert!(err.to_string().starts_with("code.csv:3: field 2"), "{err}");
    }

    #[test]
    fn a_file_with_another_header_is_an_error_naming_the_expected_one() {
        let text = "timestamp_s,requests\n0,1\n60,2\n";
        let err = import_readers(vec![test_input("t.csv", text)], &options(1.0)).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("t.csv: header is `timestamp_s,requests`"),
            "{message}"
        );
        assert!(
            message.contains("TIMESTAMP,ContextTokens,GeneratedTokens"),
            "{message}"
        );
        let err = import_readers(vec![test_input("e.csv", "\n\n")], &options(1.0)).unwrap_err();
        assert!(err.to_string().contains("file is empty"), "{err}");
    }

    proptest! {
        #[test]
        fn arbitrary_rows_after_the_header_never_panic(body in "[0-9a-zA-Z,.:+\\- \n]{0,300}") {
            let text = format!("TIMESTAMP,ContextTokens,GeneratedTokens\n{body}");
            let _ = import_readers(vec![test_input("p.csv", &text)], &options(1.0));
        }
    }
}
