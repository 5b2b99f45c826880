//! Common Log Format (and Combined Log Format) web access logs.
//!
//! A line is `host ident authuser [DD/Mon/YYYY:HH:MM:SS ±HHMM] "request"
//! status bytes`, optionally followed by `"referer" "user-agent"` (Combined
//! format), e.g. the first record of the NASA-HTTP July 1995 log:
//!
//! ```text
//! 199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] "GET /history/apollo/ HTTP/1.0" 200 6245
//! ```
//!
//! Each line is one request at its timestamp, converted to Unix seconds
//! with its own zone offset. A line needs a host, the bracketed timestamp,
//! a quoted request and a status (three digits, or `-`); the request
//! itself may be anything (real logs hold truncated and odd requests), and
//! it ends at the first `"` that is followed by a space and a valid status,
//! so quotes inside a request do not break the line. The bytes field and
//! anything after it are not checked.
//!
//! Filters: `--status` keeps lines whose status matches a class or code
//! (a `-` status matches none); `--method` keeps lines whose request starts
//! with one of the methods (exact, case-sensitive).

use super::input::LineReader;
use super::time::parse_clf_timestamp;
use super::{for_each_line, preview, FileContext, LineError, RecordFilter, Sink, StatusFilter};
use crate::trace::TraceError;

/// The timestamp form, for messages.
const TIMESTAMP_FORM: &str = "`DD/Mon/YYYY:HH:MM:SS ±HHMM`";

/// One parsed line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClfRecord<'a> {
    /// Unix seconds.
    pub time: f64,
    /// The request's first word (`GET`), if any.
    pub method: &'a [u8],
    /// The status code, `None` for `-`.
    pub status: Option<u16>,
}

/// Parses one log line.
pub(crate) fn parse_line(line: &[u8]) -> Result<ClfRecord<'_>, LineError> {
    let open = line
        .iter()
        .position(|&b| b == b'[')
        .ok_or(LineError::Missing("`[timestamp]`"))?;
    if line[..open].trim_ascii().is_empty() {
        return Err(LineError::Missing("host before the timestamp"));
    }
    let close = line[open..]
        .iter()
        .position(|&b| b == b']')
        .map(|i| open + i)
        .ok_or(LineError::Missing("`]` closing the timestamp"))?;
    let stamp = &line[open + 1..close];
    let time = parse_clf_timestamp(stamp).ok_or_else(|| LineError::BadTimestamp {
        found: preview(stamp),
        expected: TIMESTAMP_FORM,
    })?;
    let rest = line[close + 1..].trim_ascii_start();
    let Some((b'"', after_quote)) = rest.split_first() else {
        return Err(LineError::Missing("quoted request after the timestamp"));
    };
    let (request, status) = split_request(after_quote)?;
    let method = request.split(|&b| b == b' ').next().unwrap_or_default();
    Ok(ClfRecord {
        time,
        method,
        status,
    })
}

/// Splits `request" status ...` at the closing quote of the request.
fn split_request(text: &[u8]) -> Result<(&[u8], Option<u16>), LineError> {
    let mut first_close = None;
    for (i, &b) in text.iter().enumerate() {
        if b != b'"' {
            continue;
        }
        let after = &text[i + 1..];
        let Some(tail) = after.strip_prefix(b" ") else {
            if after.is_empty() {
                first_close.get_or_insert(i);
            }
            continue;
        };
        first_close.get_or_insert(i);
        let token = first_token(tail);
        if let Some(status) = parse_status(token) {
            return Ok((&text[..i], status));
        }
    }
    match first_close {
        None => Err(LineError::Missing("closing quote of the request")),
        Some(i) => {
            let token = first_token(text[i + 1..].trim_ascii_start());
            if token.is_empty() {
                Err(LineError::Missing("status after the request"))
            } else {
                Err(LineError::BadStatus(preview(token)))
            }
        }
    }
}

/// The bytes up to the first space.
fn first_token(text: &[u8]) -> &[u8] {
    let end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
    &text[..end]
}

/// `Some(Some(code))` for three digits, `Some(None)` for `-`, else `None`.
fn parse_status(token: &[u8]) -> Option<Option<u16>> {
    match token {
        b"-" => Some(None),
        [a, b, c] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => Some(Some(
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'),
        )),
        _ => None,
    }
}

/// Whether a record passes the status and method filters.
fn keep(record: &ClfRecord<'_>, filter: &RecordFilter) -> bool {
    let status_ok = filter.statuses.is_empty()
        || record
            .status
            .is_some_and(|s| filter.statuses.iter().any(|f: &StatusFilter| f.matches(s)));
    let method_ok =
        filter.methods.is_empty() || filter.methods.iter().any(|m| m.as_bytes() == record.method);
    status_ok && method_ok
}

/// Reads one log file into `sink`.
pub(crate) fn read(
    lines: &mut LineReader,
    file: &FileContext<'_>,
    sink: &mut Sink,
) -> Result<(), TraceError> {
    for_each_line(lines, file, sink, |n, line, sink| {
        let record = parse_line(line)?;
        if keep(&record, file.filter) {
            sink.instant(file, n, record.time, 1.0)?;
        } else {
            sink.filtered();
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::import::{import_readers, ImportFormat, ImportOptions};
    use proptest::prelude::*;
    use std::io::Read;
    use std::path::PathBuf;

    /// The first records of the NASA-HTTP July 1995 log (see tests/data/SOURCE.md).
    const NASA_HEAD: &str = "\
199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] \"GET /history/apollo/ HTTP/1.0\" 200 6245
unicomp6.unicomp.net - - [01/Jul/1995:00:00:06 -0400] \"GET /shuttle/countdown/ HTTP/1.0\" 200 3985
199.120.110.21 - - [01/Jul/1995:00:00:09 -0400] \"GET /shuttle/missions/sts-73/mission-sts-73.html HTTP/1.0\" 200 4085
burger.letters.com - - [01/Jul/1995:00:00:11 -0400] \"GET /shuttle/countdown/liftoff.html HTTP/1.0\" 304 0
";

    fn import_text(
        text: &str,
        opts: &ImportOptions,
    ) -> Result<crate::trace::import::ImportReport, TraceError> {
        let input: Box<dyn Read> = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        import_readers(vec![(PathBuf::from("access.log"), input)], opts)
    }

    #[test]
    fn a_nasa_line_parses_into_time_method_and_status() {
        let line = b"199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] \"GET /history/apollo/ HTTP/1.0\" 200 6245";
        let r = parse_line(line).unwrap();
        assert_eq!(r.time, 804_571_201.0);
        assert_eq!(r.method, b"GET");
        assert_eq!(r.status, Some(200));
    }

    #[test]
    fn combined_format_and_odd_requests_parse() {
        let combined = b"1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 2326 \"http://x/\" \"Mozilla/4.08\"";
        assert_eq!(parse_line(combined).unwrap().status, Some(200));
        // A request with a trailing space and one with a quote inside.
        let spaced = b"ix-sac6-20.ix.netcom.com - - [08/Aug/1995:14:43:39 -0400] \"GET / HTTP/1.0 \" 200 7131";
        assert_eq!(parse_line(spaced).unwrap().status, Some(200));
        let quoted = b"h - - [08/Aug/1995:14:43:39 -0400] \"GET /a\" b HTTP/1.0\" 404 -";
        assert_eq!(parse_line(quoted).unwrap().status, Some(404));
        let dash = b"h - - [08/Aug/1995:14:43:39 -0400] \"GET /\" - -";
        assert_eq!(parse_line(dash).unwrap().status, None);
        let empty = b"h - - [08/Aug/1995:14:43:39 -0400] \"\" 400 -";
        assert_eq!(parse_line(empty).unwrap().method, b"");
    }

    #[test]
    fn malformed_lines_say_what_is_missing() {
        let cases: [(&[u8], &str); 7] = [
            (b"no timestamp here", "no `[timestamp]`"),
            (b"[01/Jul/1995:00:00:01 -0400] \"GET /\" 200 1", "no host"),
            (b"h - - [01/Jul/1995:00:00:01 -0400", "no `]`"),
            (
                b"h - - [01/Jul/1995:00:00:01] \"GET /\" 200 1",
                "timestamp `01/Jul/1995:00:00:01`",
            ),
            (
                b"h - - [01/Jul/1995:00:00:01 -0400] GET / 200 1",
                "no quoted request",
            ),
            (
                b"h - - [01/Jul/1995:00:00:01 -0400] \"GET / 200 1",
                "no closing quote",
            ),
            (
                b"h - - [01/Jul/1995:00:00:01 -0400] \"GET /\" OK 1",
                "status `OK`",
            ),
        ];
        for (line, expected) in cases {
            let e = parse_line(line).unwrap_err().to_string();
            assert!(e.contains(expected), "{e} lacks {expected}");
        }
        let e = parse_line(b"h - - [01/Jul/1995:00:00:01 -0400] \"GET /\"").unwrap_err();
        assert_eq!(e, LineError::Missing("status after the request"));
    }

    #[test]
    fn requests_are_counted_per_interval_in_utc_aligned_bins() {
        let mut opts = ImportOptions::new(ImportFormat::Clf, 5.0, "nasa");
        opts.start_s = Some(804_571_200.0); // 1995-07-01T00:00:00-04:00
        let report = import_text(NASA_HEAD, &opts).unwrap();
        // 00:00:01 | 00:00:06, 00:00:09 | 00:00:11
        assert_eq!(report.trace.requests, vec![1.0, 2.0, 1.0]);
        assert_eq!(report.records, 4);
        assert_eq!(report.origin_unix_s, Some(804_571_200.0));
        // Without --start the first bin is the earliest record's.
        let report =
            import_text(NASA_HEAD, &ImportOptions::new(ImportFormat::Clf, 5.0, "n")).unwrap();
        assert_eq!(report.origin_unix_s, Some(804_571_200.0));
        assert_eq!(report.trace.requests, vec![1.0, 2.0, 1.0]);
    }

    #[test]
    fn status_and_method_filters_drop_records() {
        let mut opts = ImportOptions::new(ImportFormat::Clf, 5.0, "n");
        opts.start_s = Some(804_571_200.0);
        opts.filter.statuses = vec![StatusFilter::Class(3)];
        let report = import_text(NASA_HEAD, &opts).unwrap();
        assert_eq!(report.records, 1);
        assert_eq!(report.filtered, 3);
        assert_eq!(report.trace.requests, vec![0.0, 0.0, 1.0]);
        let mut opts = ImportOptions::new(ImportFormat::Clf, 5.0, "n");
        opts.filter.methods = vec!["POST".into()];
        let e = import_text(NASA_HEAD, &opts).unwrap_err().to_string();
        assert!(
            e.contains("no records counted from 4 lines (0 malformed, 4 filtered out"),
            "{e}"
        );
    }

    #[test]
    fn malformed_lines_are_counted_or_fatal_when_strict() {
        let text = format!("{NASA_HEAD}garbage\n\n{NASA_HEAD}");
        let opts = ImportOptions::new(ImportFormat::Clf, 5.0, "n");
        let report = import_text(&text, &opts).unwrap();
        assert_eq!(report.malformed, 1);
        assert_eq!(report.lines, 10);
        let first = report.first_malformed.unwrap();
        assert_eq!(first.to_string(), "access.log:5: no `[timestamp]`");
        assert_eq!(report.trace.requests, vec![2.0, 4.0, 2.0]);
        let mut strict = opts.clone();
        strict.strict = true;
        let e = import_text(&text, &strict).unwrap_err();
        assert_eq!(e.to_string(), "access.log:5: no `[timestamp]` (--strict)");
    }

    proptest! {
        #[test]
        fn parse_line_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_line(&bytes);
        }

        #[test]
        fn parse_line_never_panics_on_near_valid_lines(
            prefix in "[a-z. -]{0,10}", stamp in "[0-9A-Za-z/: +-]{0,30}", rest in "[\" A-Z/0-9.-]{0,30}"
        ) {
            let line = format!("{prefix}[{stamp}]{rest}");
            let _ = parse_line(line.as_bytes());
        }

        #[test]
        fn importing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let input: Box<dyn Read> = Box::new(std::io::Cursor::new(bytes));
            let _ = import_readers(vec![(PathBuf::from("x"), input)],
                &ImportOptions::new(ImportFormat::Clf, 60.0, "x"));
        }
    }
}
