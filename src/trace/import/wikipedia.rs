//! Wikimedia hourly page-view counts: `pagecounts-raw` (2007–2016),
//! `pagecounts-all-sites`, their `projectcounts` aggregates, and the newer
//! `pageviews` / `projectviews` files.
//!
//! A file holds one hour; each line is `project page count bytes`,
//! separated by single spaces, e.g. `en Barack_Obama 997 123091092`. The
//! hour comes from the file name, `pagecounts-YYYYMMDD-HHMMSS` (any
//! extension, any folder), in UTC. For `pagecounts-*` and
//! `projectcounts-*` the time in the name is the **end** of the hour
//! counted; for `pageviews-*` and `projectviews-*` it is the start
//! (Wikitech, "Analytics/Archive/Data/Pagecounts-raw" and
//! "Analytics/Archive/Data/Pagecounts-all-sites": pagecounts files carry a
//! one-hour shift relative to the other datasets).
//!
//! A line's `count` requests are spread over its hour; the file's lines
//! sum to the hour's total. `--project` and `--page` keep lines whose
//! project code / page title (as written, URL-encoded) is listed. The
//! `bytes` field is not used.

use super::input::LineReader;
use super::time::{fixed_digits, CivilTime};
use super::{
    for_each_line, parse_count, preview, FileContext, FileProblem, ImportError, LineError, Sink,
};
use crate::trace::TraceError;

/// Seconds in an hour.
const HOUR_S: f64 = 3600.0;

/// File name prefixes, and whether the name's time ends the hour.
const PREFIXES: [(&str, bool); 4] = [
    ("pagecounts-", true),
    ("projectcounts-", true),
    ("pageviews-", false),
    ("projectviews-", false),
];

/// The hour `[from, from + 3600)` a file counts, from its name.
pub(crate) fn hour_of(name: &str) -> Option<f64> {
    for (prefix, ends_hour) in PREFIXES {
        let Some(at) = name.rfind(prefix) else {
            continue;
        };
        let stamp = name
            .as_bytes()
            .get(at + prefix.len()..at + prefix.len() + 15)?;
        // YYYYMMDD-HHMMSS
        if stamp[8] != b'-' {
            return None;
        }
        let year = fixed_digits(&stamp[0..4])?;
        let month = fixed_digits(&stamp[4..6])?;
        let day = fixed_digits(&stamp[6..8])?;
        let hour = fixed_digits(&stamp[9..11])?;
        let minute = fixed_digits(&stamp[11..13])?;
        let second = fixed_digits(&stamp[13..15])?;
        let time = CivilTime::new(i64::from(year), month, day, hour, minute, second)?;
        let t = time.unix_seconds(0);
        return Some(if ends_hour { t - HOUR_S } else { t });
    }
    None
}

/// One parsed line: project, page and count.
pub(crate) fn parse_line(line: &[u8]) -> Result<(&[u8], &[u8], f64), LineError> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    if fields.len() != 4 {
        return Err(LineError::WrongFieldCount {
            expected: 4,
            found: fields.len(),
        });
    }
    let count = parse_count(fields[2]).ok_or_else(|| LineError::BadCount {
        column: 3,
        field: "count".into(),
        found: preview(fields[2]),
    })?;
    Ok((fields[0], fields[1], count))
}

/// Reads one hourly file into `sink`.
pub(crate) fn read(
    lines: &mut LineReader,
    file: &FileContext<'_>,
    sink: &mut Sink,
) -> Result<(), TraceError> {
    let name = file
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let from = hour_of(&name).ok_or_else(|| ImportError::File {
        path: file.path.to_path_buf(),
        kind: FileProblem::NoHourInName,
    })?;
    let filter = file.filter;
    for_each_line(lines, file, sink, |n, line, sink| {
        let (project, page, count) = parse_line(line)?;
        let listed = |wanted: &[String], value: &[u8]| {
            wanted.is_empty() || wanted.iter().any(|w| w.as_bytes() == value)
        };
        if listed(&filter.projects, project) && listed(&filter.pages, page) {
            sink.span(file, n, from, from + HOUR_S, count)?;
        } else {
            sink.filtered();
        }
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

    use crate::trace::import::test_input as input;

    #[test]
    fn the_hour_comes_from_the_file_name_with_each_datasets_convention() {
        let end = hour_of("pagecounts-20090430-230000.gz").unwrap();
        assert_eq!(format_utc(end), "2009-04-30T22:00:00Z");
        let start = hour_of("dumps/pageviews-20160101-010000.gz").unwrap();
        assert_eq!(format_utc(start), "2016-01-01T01:00:00Z");
        assert_eq!(
            format_utc(hour_of("projectcounts-20090101-000000").unwrap()),
            "2008-12-31T23:00:00Z"
        );
        for bad in [
            "access.log",
            "pagecounts-2009",
            "pagecounts-20091301-000000",
            "pagecounts-20090101x000000",
        ] {
            assert_eq!(hour_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn lines_have_four_fields_and_a_count() {
        assert_eq!(
            parse_line(b"en Barack_Obama 997 123091092").unwrap(),
            (&b"en"[..], &b"Barack_Obama"[..], 997.0)
        );
        assert_eq!(
            parse_line(b"en Main_Page 5").unwrap_err(),
            LineError::WrongFieldCount {
                expected: 4,
                found: 3
            }
        );
        let e = parse_line(b"en Main_Page many 1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "field 3 (`count`): `many` is not a non-negative number up to 2^53"
        );
    }

    #[test]
    fn files_sum_into_their_hours_with_project_and_page_filters() {
        let a = "en Main_Page 10 100\nde Hauptseite 5 50\nen Other 1 10\n";
        let b = "en Main_Page 20 200\nde Hauptseite 7 70\n";
        let opts = ImportOptions::new(ImportFormat::WikipediaPagecounts, 3600.0, "wiki");
        let files = || {
            vec![
                input("pagecounts-20090101-010000", a),
                input("pagecounts-20090101-030000.gz", b),
            ]
        };
        let report = import_readers(files(), &opts).unwrap();
        assert_eq!(report.trace.requests, vec![16.0, 0.0, 27.0]);
        assert_eq!(
            report.origin_unix_s.map(format_utc).as_deref(),
            Some("2009-01-01T00:00:00Z")
        );
        let mut en = opts.clone();
        en.filter.projects = vec!["en".into()];
        assert_eq!(
            import_readers(files(), &en).unwrap().trace.requests,
            vec![11.0, 0.0, 20.0]
        );
        en.filter.pages = vec!["Main_Page".into()];
        assert_eq!(
            import_readers(files(), &en).unwrap().trace.requests,
            vec![10.0, 0.0, 20.0]
        );
    }

    #[test]
    fn a_file_name_without_an_hour_is_an_error() {
        let opts = ImportOptions::new(ImportFormat::WikipediaPagecounts, 3600.0, "wiki");
        let e = import_readers(vec![input("counts.txt", "en a 1 1\n")], &opts).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("counts.txt: cannot tell the hour"),
            "{e}"
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), name in "\\PC{0,40}") {
            let _ = parse_line(&bytes);
            let _ = hour_of(&name);
            let _ = hour_of(&format!("pagecounts-{name}"));
        }

        #[test]
        fn importing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let opts = ImportOptions::new(ImportFormat::WikipediaPagecounts, 3600.0, "w");
            let raw: Box<dyn Read> = Box::new(std::io::Cursor::new(bytes));
            let _ = import_readers(vec![(PathBuf::from("pagecounts-20090101-000000"), raw)], &opts);
        }
    }
}
