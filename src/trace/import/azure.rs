//! Azure Functions Trace 2019 per-minute invocation tables (Shahrad et al.,
//! "Serverless in the Wild", USENIX ATC 2020; Azure Public Dataset,
//! `invocations_per_function_md.anon.dNN.csv`).
//!
//! Each file is one day: a header, then one row per function with its
//! invocation count in each minute of the day. Two column layouts are
//! recognised from the header:
//! - Azure's own: `HashOwner,HashApp,HashFunction,Trigger,1,2,…,1440`;
//! - InVitro's sample (`vhive-serverless/invitro`):
//!   `HashFunction,HashApp,HashOwner,minute_1,…,minute_1440`.
//!
//! Minute columns are those named `N` or `minute_N` with `N` in 1..=1440;
//! other columns are ignored. Minute `m` of the `d`-th file given (0-based)
//! covers `[start + 86 400·d + 60·(m−1), +60 s)`, `start` being `--start` (0
//! if absent): the files carry no date, so pass them in day order. Every
//! row must have the header's number of fields and a non-negative count in
//! every minute column, or it is malformed (and none of it is counted).
//! `--app` and `--function` keep the rows whose `HashApp` / `HashFunction`
//! is listed; without them, all rows are summed.

use super::input::LineReader;
use super::time::DAY_S;
use super::{
    for_each_line, parse_count, preview, split_csv_line, FileContext, FileProblem, ImportError,
    LineError, LineOutcome, Sink,
};
use crate::trace::TraceError;

/// Minutes in a day file.
const MINUTES_PER_DAY: u32 = 1440;

/// The accepted headers, for messages.
const EXPECTED_HEADER: &str = "`HashOwner,HashApp,HashFunction,Trigger,1,…,1440` \
     or `HashFunction,HashApp,HashOwner,minute_1,…,minute_1440`";

/// Where things are in a table's rows.
#[derive(Debug, Clone, PartialEq)]
struct Layout {
    /// Number of fields in every row.
    fields: usize,
    /// Column of `HashApp`.
    app: Option<usize>,
    /// Column of `HashFunction`.
    function: Option<usize>,
    /// (column, minute 1..=1440) of every minute column.
    minutes: Vec<(usize, u32)>,
    /// Header names, for messages.
    names: Vec<String>,
}

/// The minute number of a column name `N` or `minute_N` (1..=1440).
fn minute_of(name: &[u8]) -> Option<u32> {
    let digits = match name.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case(b"minute_") => &name[7..],
        _ => name,
    };
    super::time::fixed_digits(digits).filter(|m| (1..=MINUTES_PER_DAY).contains(m))
}

/// Reads a header line.
fn parse_header(line: &[u8]) -> Option<Layout> {
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
    let mut layout = Layout {
        fields: 0,
        app: None,
        function: None,
        minutes: Vec::new(),
        names: Vec::new(),
    };
    for (i, name) in split_csv_line(line).enumerate() {
        layout.fields += 1;
        layout
            .names
            .push(String::from_utf8_lossy(name).into_owned());
        if name.eq_ignore_ascii_case(b"HashApp") {
            layout.app = Some(i);
        } else if name.eq_ignore_ascii_case(b"HashFunction") {
            layout.function = Some(i);
        } else if let Some(m) = minute_of(name) {
            layout.minutes.push((i, m));
        }
    }
    (!layout.minutes.is_empty()).then_some(layout)
}

/// Reads one day file into `sink`.
pub(crate) fn read(
    lines: &mut LineReader,
    file: &FileContext<'_>,
    sink: &mut Sink,
) -> Result<(), TraceError> {
    let day_start = file.start_s + file.index as f64 * DAY_S as f64;
    let mut layout: Option<Layout> = None;
    let mut counts: Vec<f64> = Vec::new();
    for_each_line(lines, file, sink, |n, line, sink| {
        let Some(table) = &layout else {
            layout = Some(read_layout(line, file)?);
            return Ok(());
        };
        read_row(table, n, line, day_start, &mut counts, file, sink)
    })?;
    if layout.is_none() {
        return Err(file_error(
            file,
            FileProblem::Empty {
                expected: EXPECTED_HEADER,
            },
        ));
    }
    Ok(())
}

/// A problem with the whole of `file`.
fn file_error(file: &FileContext<'_>, kind: FileProblem) -> TraceError {
    ImportError::File {
        path: file.path.to_path_buf(),
        kind,
    }
    .into()
}

/// The layout of the header `line`, which must have the columns that
/// `--app` and `--function` filter on when they are given.
fn read_layout(line: &[u8], file: &FileContext<'_>) -> Result<Layout, TraceError> {
    let filter = file.filter;
    let found = parse_header(line).ok_or_else(|| {
        file_error(
            file,
            FileProblem::BadHeader {
                found: preview(line),
                expected: EXPECTED_HEADER,
            },
        )
    })?;
    let missing = |flag_set: bool, column: Option<usize>, name: &'static str| {
        (flag_set && column.is_none()).then(|| {
            file_error(
                file,
                FileProblem::BadHeader {
                    found: preview(line),
                    expected: name,
                },
            )
        })
    };
    if let Some(e) = missing(
        !filter.apps.is_empty(),
        found.app,
        "a `HashApp` column for --app",
    )
    .or_else(|| {
        missing(
            !filter.functions.is_empty(),
            found.function,
            "a `HashFunction` column for --function",
        )
    }) {
        return Err(e);
    }
    Ok(found)
}

/// Adds row `line` (line number `n`) of a table laid out as `table` to
/// `sink`, unless `--app` / `--function` filter it out; `counts` is
/// scratch space.
fn read_row(
    table: &Layout,
    n: u64,
    line: &[u8],
    day_start: f64,
    counts: &mut Vec<f64>,
    file: &FileContext<'_>,
    sink: &mut Sink,
) -> Result<(), LineOutcome> {
    let filter = file.filter;
    let row: Vec<&[u8]> = split_csv_line(line).collect();
    if row.len() != table.fields {
        return Err(LineError::WrongFieldCount {
            expected: table.fields,
            found: row.len(),
        }
        .into());
    }
    let listed = |column: Option<usize>, wanted: &[String]| {
        wanted.is_empty() || column.is_some_and(|c| wanted.iter().any(|w| w.as_bytes() == row[c]))
    };
    if !listed(table.app, &filter.apps) || !listed(table.function, &filter.functions) {
        sink.filtered();
        return Ok(());
    }
    counts.clear();
    for &(column, _) in &table.minutes {
        let value = parse_count(row[column]).ok_or_else(|| LineError::BadCount {
            column: column + 1,
            field: table.names[column].clone(),
            found: preview(row[column]),
        })?;
        counts.push(value);
    }
    let spans = table
        .minutes
        .iter()
        .zip(counts.iter())
        .map(|(&(_, m), &c)| {
            let from = day_start + f64::from(m - 1) * 60.0;
            (from, from + 60.0, c)
        });
    sink.spans(file, n, spans).map_err(LineOutcome::Fatal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::import::{import_readers, ImportFormat, ImportOptions};
    use proptest::prelude::*;
    use std::io::Read;
    use std::path::PathBuf;

    use crate::trace::import::test_input as input;

    /// A day table in Azure's layout with `minutes` minute columns.
    fn azure_table(minutes: u32, rows: &[(&str, &str, Vec<u32>)]) -> String {
        let mut text = String::from("HashOwner,HashApp,HashFunction,Trigger");
        for m in 1..=minutes {
            text.push_str(&format!(",{m}"));
        }
        text.push('\n');
        for (app, function, counts) in rows {
            text.push_str(&format!("o,{app},{function},http"));
            for c in counts {
                text.push_str(&format!(",{c}"));
            }
            text.push('\n');
        }
        text
    }

    #[test]
    fn both_header_layouts_are_recognised() {
        let azure = parse_header(b"HashOwner,HashApp,HashFunction,Trigger,1,2,3").unwrap();
        assert_eq!(
            (azure.app, azure.function, azure.fields),
            (Some(1), Some(2), 7)
        );
        assert_eq!(azure.minutes, vec![(4, 1), (5, 2), (6, 3)]);
        let invitro = parse_header(b"HashFunction,HashApp,HashOwner,minute_1,minute_2").unwrap();
        assert_eq!((invitro.app, invitro.function), (Some(1), Some(0)));
        assert_eq!(invitro.minutes, vec![(3, 1), (4, 2)]);
        assert!(parse_header(b"a,b,c").is_none());
        assert!(parse_header(b"HashApp,0,1441").is_none());
    }

    #[test]
    fn rows_are_summed_per_minute_and_files_follow_each_other_by_day() {
        let day = azure_table(
            3,
            &[("a1", "f1", vec![1, 2, 3]), ("a2", "f2", vec![10, 0, 5])],
        );
        let opts = ImportOptions::new(ImportFormat::AzureFunctions, 60.0, "az");
        let report = import_readers(vec![input("d01.csv", &day)], &opts).unwrap();
        assert_eq!(report.trace.requests, vec![11.0, 2.0, 8.0]);
        assert_eq!(report.origin_unix_s, None);
        // Two files: the second starts 1 440 minutes after the first.
        let two = vec![input("d01.csv", &day), input("d02.csv", &day)];
        let report = import_readers(two, &opts).unwrap();
        assert_eq!(report.trace.requests.len(), 1440 + 3);
        assert_eq!(report.trace.requests[1440..], [11.0, 2.0, 8.0]);
        assert_eq!(report.requests, 42.0);
    }

    #[test]
    fn coarser_intervals_sum_whole_minutes() {
        let day = azure_table(4, &[("a1", "f1", vec![1, 2, 3, 4])]);
        let opts = ImportOptions::new(ImportFormat::AzureFunctions, 120.0, "az");
        let report = import_readers(vec![input("d.csv", &day)], &opts).unwrap();
        assert_eq!(report.trace.requests, vec![3.0, 7.0]);
    }

    #[test]
    fn app_and_function_filters_select_rows() {
        let day = azure_table(
            2,
            &[
                ("a1", "f1", vec![1, 2]),
                ("a2", "f2", vec![10, 20]),
                ("a1", "f3", vec![100, 200]),
            ],
        );
        let mut opts = ImportOptions::new(ImportFormat::AzureFunctions, 60.0, "az");
        opts.filter.apps = vec!["a1".into()];
        let report = import_readers(vec![input("d.csv", &day)], &opts).unwrap();
        assert_eq!(report.trace.requests, vec![101.0, 202.0]);
        assert_eq!((report.records, report.filtered), (2, 1));
        opts.filter.functions = vec!["f3".into()];
        let report = import_readers(vec![input("d.csv", &day)], &opts).unwrap();
        assert_eq!(report.trace.requests, vec![100.0, 200.0]);
    }

    #[test]
    fn a_bad_row_is_skipped_whole_and_named() {
        let mut day = azure_table(2, &[("a1", "f1", vec![1, 2])]);
        day.push_str("o,a2,f2,http,5,x\no,a3,f3,http,5\n");
        let opts = ImportOptions::new(ImportFormat::AzureFunctions, 60.0, "az");
        let report = import_readers(vec![input("d.csv", &day)], &opts).unwrap();
        assert_eq!(report.trace.requests, vec![1.0, 2.0]);
        assert_eq!(report.malformed, 2);
        assert_eq!(
            report.first_malformed.unwrap().to_string(),
            "d.csv:3: field 6 (`2`): `x` is not a non-negative number up to 2^53"
        );
        let mut strict = opts.clone();
        strict.strict = true;
        let e = import_readers(vec![input("d.csv", &day)], &strict).unwrap_err();
        assert!(e.to_string().starts_with("d.csv:3: "), "{e}");
    }

    #[test]
    fn a_file_without_a_valid_header_is_an_error() {
        let opts = ImportOptions::new(ImportFormat::AzureFunctions, 60.0, "az");
        let e = import_readers(vec![input("d.csv", "x,y\n1,2\n")], &opts).unwrap_err();
        assert!(e.to_string().starts_with("d.csv: header is `x,y`"), "{e}");
        let e = import_readers(vec![input("d.csv", "")], &opts).unwrap_err();
        assert!(e.to_string().starts_with("d.csv: file is empty"), "{e}");
        let mut o = opts.clone();
        o.filter.apps = vec!["a".into()];
        let e = import_readers(vec![input("d.csv", "HashFunction,1,2\nf,1,2\n")], &o).unwrap_err();
        assert!(
            e.to_string().contains("a `HashApp` column for --app"),
            "{e}"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_rows_after_a_header_never_panic(body in "[0-9a-z,.\\-\"\n ]{0,300}") {
            let text = format!("HashFunction,HashApp,HashOwner,minute_1,minute_2\n{body}");
            let opts = ImportOptions::new(ImportFormat::AzureFunctions, 60.0, "az");
            let _ = import_readers(vec![input("d.csv", &text)], &opts);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let opts = ImportOptions::new(ImportFormat::AzureFunctions, 60.0, "az");
            let raw: Box<dyn Read> = Box::new(std::io::Cursor::new(bytes));
            let _ = import_readers(vec![(PathBuf::from("d.csv"), raw)], &opts);
        }
    }
}
