//! The ITA SDSC-HTTP log (San Diego Supercomputer Center, 22 August 1995).
//!
//! Not Common Log Format: a line is
//! `host: Day Mon DD HH:MM:SS YYYY (path): outcome: request`, where `host`
//! is an anonymised id (`2+1`) or `UNR hostname`, e.g.
//!
//! ```text
//! 1+1: Tue Aug 22 00:00:00 1995 (/SDSC/Partners/vrml/Images/cube.gif): Sent binary: GET /SDSC/Partners/vrml/Images/cube.gif HTTP/1.0
//! ```
//!
//! Each line is one request, whatever its outcome (sent, cached, error):
//! the server handled it. Only the host and the timestamp are required.
//! The log states no zone; times are read as if UTC, so `--start` should
//! be given in the same clock, e.g. `1995-08-22T00:00:00Z` for local
//! midnight.

use super::input::LineReader;
use super::time::parse_ctime_fields;
use super::{for_each_line, preview, FileContext, LineError, Sink};
use crate::trace::TraceError;

/// The timestamp form, for messages.
const TIMESTAMP_FORM: &str = "`Day Mon DD HH:MM:SS YYYY`";

/// Parses one line into its time (Unix seconds, the log's clock as UTC).
pub(crate) fn parse_line(line: &[u8]) -> Result<f64, LineError> {
    let colon = line
        .windows(2)
        .position(|w| w == b": ")
        .ok_or(LineError::Missing("`host: ` prefix"))?;
    if line[..colon].trim_ascii().is_empty() {
        return Err(LineError::Missing("host before the timestamp"));
    }
    let rest = &line[colon + 2..];
    let mut fields: [&[u8]; 5] = [b""; 5];
    let mut tokens = rest.split(|&b| b == b' ').filter(|t| !t.is_empty());
    for slot in &mut fields {
        *slot = tokens.next().unwrap_or_default();
    }
    parse_ctime_fields(&fields).ok_or_else(|| {
        // Show the timestamp region of the line (24 characters in the log).
        let shown = &rest[..rest.len().min(24)];
        LineError::BadTimestamp {
            found: preview(shown),
            expected: TIMESTAMP_FORM,
        }
    })
}

/// Reads one log file into `sink`.
pub(crate) fn read(
    lines: &mut LineReader,
    file: &FileContext<'_>,
    sink: &mut Sink,
) -> Result<(), TraceError> {
    for_each_line(lines, file, sink, |n, line, sink| {
        let time = parse_line(line)?;
        sink.instant(file, n, time, 1.0)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::import::{format_utc, import_readers, ImportFormat, ImportOptions};
    use proptest::prelude::*;
    use std::io::Read;
    use std::path::PathBuf;

    #[test]
    fn both_host_forms_parse() {
        let line = b"1+1: Tue Aug 22 00:00:00 1995 (/SDSC/Partners/vrml/Images/cube.gif): Sent binary: GET /SDSC/Partners/vrml/Images/cube.gif HTTP/1.0";
        assert_eq!(
            format_utc(parse_line(line).unwrap()),
            "1995-08-22T00:00:00Z"
        );
        let unresolved = b"UNR y.hensa.ac.uk: Tue Aug 22 00:22:32 1995 (): No match for selector: GET /SDSC/Partners/Surfrider/somppl16.mov HTTP/1.0";
        assert_eq!(
            format_utc(parse_line(unresolved).unwrap()),
            "1995-08-22T00:22:32Z"
        );
        // A cut-short line still has its time.
        let short = b"7+1: Tue Aug 22 00:00:46 1995 (/): Sent cache:";
        assert_eq!(
            format_utc(parse_line(short).unwrap()),
            "1995-08-22T00:00:46Z"
        );
        // ctime pads one-digit days with a space.
        let padded = b"3+1: Fri Sep  1 10:00:00 1995 (/): Sent text: GET / HTTP/1.0";
        assert_eq!(
            format_utc(parse_line(padded).unwrap()),
            "1995-09-01T10:00:00Z"
        );
    }

    #[test]
    fn lines_without_a_timestamp_are_malformed() {
        let e = parse_line(b"no colon space here").unwrap_err();
        assert_eq!(e, LineError::Missing("`host: ` prefix"));
        let e = parse_line(b"1+1: Tue Aug 22 25:00:00 1995 (/): Sent").unwrap_err();
        assert!(e.to_string().contains("`Tue Aug 22 25:00:00 1995`"), "{e}");
        let e = parse_line(b": Tue Aug 22 00:00:00 1995 (/)").unwrap_err();
        assert_eq!(e, LineError::Missing("host before the timestamp"));
    }

    #[test]
    fn requests_are_counted_per_minute() {
        let text = "\
1+1: Tue Aug 22 00:00:00 1995 (/a): Sent binary: GET /a HTTP/1.0
2+1: Tue Aug 22 00:00:59 1995 (/b): Sent binary: GET /b HTTP/1.0
3+1: Tue Aug 22 00:02:00 1995 (/c): Sent text: GET /c HTTP/1.0
";
        let input: Box<dyn Read> = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let opts = ImportOptions::new(ImportFormat::Sdsc, 60.0, "sdsc");
        let report = import_readers(vec![(PathBuf::from("sdsc.txt"), input)], &opts).unwrap();
        assert_eq!(report.trace.requests, vec![2.0, 0.0, 1.0]);
        assert_eq!(
            report.origin_unix_s.map(format_utc).as_deref(),
            Some("1995-08-22T00:00:00Z")
        );
    }

    proptest! {
        #[test]
        fn parse_line_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_line(&bytes);
        }

        #[test]
        fn parse_line_never_panics_on_near_valid_lines(
            host in "[0-9+A-Z ]{0,6}", stamp in "[A-Za-z0-9: ]{0,30}"
        ) {
            let line = format!("{host}: {stamp} (/x): Sent");
            let _ = parse_line(line.as_bytes());
        }
    }
}
