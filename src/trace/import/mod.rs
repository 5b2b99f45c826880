//! Importers: real workload records (web server logs, invocation tables,
//! page-view counts) turned into a [`Trace`] of requests per interval.
//!
//! | format | input | one record is | time |
//! | --- | --- | --- | --- |
//! | `clf` | Common or Combined Log Format web access log (NASA-HTTP, ClarkNet, Calgary, Saskatchewan) | one line = one request | `[01/Jul/1995:00:00:01 -0400]`, zone honoured |
//! | `sdsc` | the ITA SDSC-HTTP log, `host: Tue Aug 22 00:00:00 1995 (path): outcome: request` | one line = one request | no zone in the log: read as UTC, so the trace's clock is the server's local time |
//! | `azure-functions` | Azure Functions 2019 per-minute invocation tables, one row per function, minute columns `1`…`1440` (or InVitro's `minute_1`…) | one row = 1 440 minute counts | minute `m` of the `d`-th file (0-based, command-line order) covers `[start + 86 400·d + 60·(m−1), +60 s)`; the files carry no date, so `start` (default 0) is whatever `--start` says |
//! | `wikipedia-pagecounts` | hourly `pagecounts-YYYYMMDD-HHMMSS` (or `projectcounts-`, `pageviews-`, `projectviews-`) files, lines `project page count bytes` | one line = `count` requests in the file's hour | UTC from the file name; for `pagecounts`/`projectcounts` the name gives the **end** of the hour, for `pageviews`/`projectviews` its start (Wikitech, "Analytics/Archive/Data/Pagecounts-raw" and "Pagecounts-all-sites") |
//! | `azure-llm` | Azure LLM inference traces (2023), `TIMESTAMP,ContextTokens,GeneratedTokens` | one row = one request (tokens checked, not weighted) | `2023-11-16 18:17:03.9799600`, fractions kept; no zone in the release: read as UTC (a zone suffix is honoured) |
//! | `csv` | a native trace (`timestamp_s,requests`), or `timestamp,count` rows | a native row = its count over its interval; a `timestamp,count` row = `count` requests at that instant | the file's own axis (Unix seconds for `timestamp,count`) |
//!
//! **Time axis of the result.** Requests are counted into bins of
//! `interval_s` seconds (see the `bins` module docs): bin `k` covers
//! `[anchor + k·Δ, anchor + (k+1)·Δ)`, with `anchor` = `--start` if given,
//! else 0 on the input's axis (so bins fall on whole multiples of the
//! interval in Unix time, e.g. on the minute). The trace runs from the
//! `--start` bin (or the earliest record's bin) to the bin before `--end`
//! (or the latest record's bin); empty intervals are zeros. Its
//! `timestamp_s` are seconds since that first bin's start, which
//! [`ImportReport::origin_unix_s`] gives in Unix seconds. Records before
//! `--start` or at/after `--end` are counted as outside, not as errors.
//!
//! **Streaming.** Every format except a native `csv` trace is read line by
//! line (gzip decompressed on the fly, lines capped at `MAX_LINE_BYTES`),
//! so memory is bounded by the number of output intervals (at most
//! `MAX_IMPORT_INTERVALS`), not by the input size. Lines may be out of
//! time order.
//!
//! **Malformed lines** are skipped and counted; the report keeps the first
//! one (file, line, reason). With `strict`, the first malformed line is an
//! error instead. Blank lines are ignored. Library code never prints: the
//! caller reports.
//!
//! Counts spread over spans (Azure minutes, Wikipedia hours, native rows)
//! are split in proportion to overlap when a span straddles bins, which
//! only happens when `--start` is not on the source's grid. Intervals finer
//! than a source's resolution would invent a shape, so `azure-functions`
//! needs a multiple of 60 s and `wikipedia-pagecounts` a multiple of 3600 s.

mod azure;
mod azure_llm;
mod bins;
mod clf;
mod csv_rows;
mod input;
mod sdsc;
mod time;
mod wikipedia;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub(crate) use bins::MAX_IMPORT_INTERVALS;
pub(crate) use input::MAX_LINE_BYTES;
pub(crate) use time::{format_utc, parse_time_arg};

use bins::{Bins, Placed};
use input::{LineEnd, LineReader};

use super::{Trace, TraceError};

/// Longest preview of offending text in a message, characters.
const PREVIEW_CHARS: usize = 60;

/// The input formats [`import`] understands (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Common or Combined Log Format web access log.
    Clf,
    /// The ITA SDSC-HTTP log.
    Sdsc,
    /// Azure Functions 2019 per-minute invocation tables.
    AzureFunctions,
    /// Hourly Wikipedia pagecount (or pageview) files.
    WikipediaPagecounts,
    /// Azure LLM inference traces, one row per request.
    AzureLlm,
    /// A native trace or `timestamp,count` rows.
    Csv,
}

impl ImportFormat {
    /// Every format, in documentation order.
    pub const ALL: [ImportFormat; 6] = [
        ImportFormat::Clf,
        ImportFormat::Sdsc,
        ImportFormat::AzureFunctions,
        ImportFormat::WikipediaPagecounts,
        ImportFormat::AzureLlm,
        ImportFormat::Csv,
    ];

    /// The kebab-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::Clf => "clf",
            ImportFormat::Sdsc => "sdsc",
            ImportFormat::AzureFunctions => "azure-functions",
            ImportFormat::WikipediaPagecounts => "wikipedia-pagecounts",
            ImportFormat::AzureLlm => "azure-llm",
            ImportFormat::Csv => "csv",
        }
    }

    /// The source's time resolution in seconds, for formats whose records
    /// are counts over fixed spans; the output interval must be a multiple.
    pub(crate) fn resolution_s(self) -> Option<f64> {
        match self {
            ImportFormat::AzureFunctions => Some(60.0),
            ImportFormat::WikipediaPagecounts => Some(3600.0),
            _ => None,
        }
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown format name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "unknown format `{found}`: expected clf, sdsc, azure-functions, wikipedia-pagecounts, \
     azure-llm or csv"
)]
pub struct ParseImportFormatError {
    /// The name given.
    pub found: String,
}

impl FromStr for ImportFormat {
    type Err = ParseImportFormatError;

    /// Parses a kebab-case format name (exact, lowercase).
    ///
    /// # Errors
    /// [`ParseImportFormatError`] for any other string.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImportFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| ParseImportFormatError {
                found: s.to_string(),
            })
    }
}

/// A status filter for `clf`: a whole class (`2xx`) or one code (`404`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Every code whose first digit is this (1–5).
    Class(u16),
    /// Exactly this three-digit code.
    Code(u16),
}

impl StatusFilter {
    /// Whether the status code `status` passes.
    pub(crate) fn matches(self, status: u16) -> bool {
        match self {
            StatusFilter::Class(c) => status / 100 == c,
            StatusFilter::Code(c) => status == c,
        }
    }
}

/// A status filter that is neither `Nxx` nor a three-digit code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("status filter `{found}` is neither a class like 2xx nor a three-digit code like 404")]
pub struct ParseStatusFilterError {
    /// The text given.
    pub found: String,
}

impl FromStr for StatusFilter {
    type Err = ParseStatusFilterError;

    /// Parses `2xx` (any case, first digit 1–5) or a three-digit code.
    ///
    /// # Errors
    /// [`ParseStatusFilterError`] for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = || ParseStatusFilterError {
            found: s.to_string(),
        };
        let b = s.trim().as_bytes();
        if b.len() != 3 || !b[0].is_ascii_digit() {
            return Err(fail());
        }
        let first = u16::from(b[0] - b'0');
        if b[1..].eq_ignore_ascii_case(b"xx") {
            return if (1..=5).contains(&first) {
                Ok(StatusFilter::Class(first))
            } else {
                Err(fail())
            };
        }
        time::fixed_digits(b)
            .and_then(|c| u16::try_from(c).ok())
            .map(StatusFilter::Code)
            .ok_or_else(fail)
    }
}

/// Which records count. Empty lists mean no filtering; within a list any
/// entry may match; different lists must all match. Each list applies to
/// one format only (see [`ImportOptions`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordFilter {
    /// `clf`: status codes or classes to keep.
    pub statuses: Vec<StatusFilter>,
    /// `clf`: request methods to keep (exact, e.g. `GET`).
    pub methods: Vec<String>,
    /// `azure-functions`: `HashApp` values to keep.
    pub apps: Vec<String>,
    /// `azure-functions`: `HashFunction` values to keep.
    pub functions: Vec<String>,
    /// `wikipedia-pagecounts`: project codes to keep (exact, e.g. `en`).
    pub projects: Vec<String>,
    /// `wikipedia-pagecounts`: page titles to keep, as written in the file
    /// (URL-encoded, e.g. `Main_Page`).
    pub pages: Vec<String>,
}

impl RecordFilter {
    /// The command-line flag of the first filter set that `format` does not
    /// use.
    fn misplaced_flag(&self, format: ImportFormat) -> Option<&'static str> {
        let sets = [
            ("--status", !self.statuses.is_empty(), ImportFormat::Clf),
            ("--method", !self.methods.is_empty(), ImportFormat::Clf),
            ("--app", !self.apps.is_empty(), ImportFormat::AzureFunctions),
            (
                "--function",
                !self.functions.is_empty(),
                ImportFormat::AzureFunctions,
            ),
            (
                "--project",
                !self.projects.is_empty(),
                ImportFormat::WikipediaPagecounts,
            ),
            (
                "--page",
                !self.pages.is_empty(),
                ImportFormat::WikipediaPagecounts,
            ),
        ];
        sets.into_iter()
            .find(|(_, set, owner)| *set && *owner != format)
            .map(|(flag, _, _)| flag)
    }
}

/// What to import and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// Input format.
    pub format: ImportFormat,
    /// Output interval, seconds (positive, finite; a multiple of the
    /// source resolution for `azure-functions` and `wikipedia-pagecounts`).
    pub interval_s: f64,
    /// First instant to count, on the input's time axis (Unix seconds for
    /// logs); the output's `timestamp_s` 0. Default: the earliest record's
    /// interval start.
    pub start_s: Option<f64>,
    /// Instant at which to stop counting (exclusive); the output runs up to
    /// the last interval that starts before it. Default: the latest
    /// record's interval.
    pub end_s: Option<f64>,
    /// Make the first malformed line an error.
    pub strict: bool,
    /// Which records count.
    pub filter: RecordFilter,
    /// Name of the resulting trace.
    pub name: String,
}

impl ImportOptions {
    /// Options with no window, no filter, not strict.
    pub fn new(format: ImportFormat, interval_s: f64, name: &str) -> Self {
        ImportOptions {
            format,
            interval_s,
            start_s: None,
            end_s: None,
            strict: false,
            filter: RecordFilter::default(),
            name: name.to_string(),
        }
    }
}

/// What is wrong with one line of input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineError {
    /// The line exceeds `MAX_LINE_BYTES`.
    #[error("line is longer than {max_bytes} bytes")]
    TooLong {
        /// The limit, bytes.
        max_bytes: usize,
    },
    /// A required part of the line is absent.
    #[error("no {0}")]
    Missing(&'static str),
    /// The timestamp does not parse (or names an impossible date).
    #[error("timestamp `{found}` is not of the form {expected}")]
    BadTimestamp {
        /// Printable preview of the text found.
        found: String,
        /// The expected form.
        expected: &'static str,
    },
    /// The status field is not a three-digit code or `-`.
    #[error("status `{0}` is not a three-digit code or `-`")]
    BadStatus(String),
    /// The line does not have the header's (or the format's) number of
    /// fields.
    #[error("expected {expected} fields, found {found}")]
    WrongFieldCount {
        /// Fields expected.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A count is not a number in `[0, 2^53]`.
    #[error("field {column} (`{field}`): `{found}` is not a non-negative number up to 2^53")]
    BadCount {
        /// 1-based field index.
        column: usize,
        /// Field name.
        field: String,
        /// Printable preview of the text found.
        found: String,
    },
    /// A time field is not a finite number.
    #[error("field {column} (`{field}`): `{found}` is not a finite number of seconds")]
    BadTime {
        /// 1-based field index.
        column: usize,
        /// Field name.
        field: &'static str,
        /// Printable preview of the text found.
        found: String,
    },
    /// The record would stretch the import beyond `MAX_IMPORT_INTERVALS`.
    #[error(
        "time {} lies {intervals} intervals from the other records, more than the limit of {max}: \
         a corrupt timestamp, or bound the import with --start and --end",
        format_utc(*.time)
    )]
    TooFar {
        /// The record's time, Unix seconds.
        time: f64,
        /// Intervals the import would span.
        intervals: u64,
        /// The limit.
        max: usize,
    },
    /// A time too far from the anchor to index.
    #[error("time {0} s is out of range")]
    TimeOutOfRange(f64),
}

/// The first malformed line of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct MalformedLine {
    /// File it is in (`-` for standard input).
    pub path: PathBuf,
    /// 1-based line number.
    pub line: u64,
    /// What is wrong with it.
    pub error: LineError,
}

impl fmt::Display for MalformedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.error)
    }
}

/// Problems with one input file as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FileProblem {
    /// No header line where the format needs one.
    #[error("file is empty, expected the header {expected}")]
    Empty {
        /// The expected header.
        expected: &'static str,
    },
    /// The header is not one the format accepts.
    #[error("header is `{found}`, expected {expected}")]
    BadHeader {
        /// Printable preview of the header found.
        found: String,
        /// What the format accepts.
        expected: &'static str,
    },
    /// A pagecount file whose name does not give its hour.
    #[error(
        "cannot tell the hour of the file from its name: expected pagecounts-, projectcounts-, \
         pageviews- or projectviews-YYYYMMDD-HHMMSS"
    )]
    NoHourInName,
}

/// Everything besides I/O that stops an import.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// A malformed line under `strict`.
    #[error("{0} (--strict)")]
    Malformed(MalformedLine),
    /// An input file is unusable.
    #[error("{}: {kind}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        kind: FileProblem,
    },
    /// Not a single record was counted.
    #[error(
        "no records counted from {lines} lines ({malformed} malformed, {filtered} filtered out, \
         {outside} outside --start/--end){}",
        .first_malformed.as_ref().map_or_else(String::new, |m| format!("; first malformed: {m}"))
    )]
    NoRecords {
        /// Lines read.
        lines: u64,
        /// Malformed lines.
        malformed: u64,
        /// Records removed by the filters.
        filtered: u64,
        /// Records outside the window.
        outside: u64,
        /// The first malformed line, if any: most often the reason.
        first_malformed: Option<MalformedLine>,
    },
    /// Fewer than two intervals: the trace's interval could not be read
    /// back from the file.
    #[error(
        "the import gives {intervals} interval(s) of {interval_s} s; a trace needs at least 2: \
         use a shorter --interval-s or a wider --start/--end"
    )]
    TooFewIntervals {
        /// Intervals produced.
        intervals: usize,
        /// The interval, seconds.
        interval_s: f64,
    },
    /// An interval would count more than [`crate::trace::MAX_REQUESTS`].
    #[error(
        "interval {index} (timestamp_s {timestamp_s}) counts {requests:e} requests, more than the \
         limit of 2^53 = 9007199254740992: use a shorter --interval-s"
    )]
    IntervalTooLarge {
        /// 0-based interval index.
        index: usize,
        /// Its start, seconds since the first interval.
        timestamp_s: f64,
        /// Its count.
        requests: f64,
    },
    /// No input was given.
    #[error("no input files")]
    NoInputs,
    /// `interval_s` is not positive and finite.
    #[error("--interval-s {0} is not a positive finite number of seconds")]
    BadInterval(f64),
    /// `interval_s` is not a multiple of the format's resolution.
    #[error("--interval-s {interval_s} is not a whole multiple of the {format} resolution of {resolution_s} s")]
    IntervalNotMultiple {
        /// The interval asked for, seconds.
        interval_s: f64,
        /// The format.
        format: ImportFormat,
        /// Its resolution, seconds.
        resolution_s: f64,
    },
    /// `--start` is not before `--end`, or one is not finite.
    #[error("--start {start} is not before --end {end}")]
    EmptyWindow {
        /// `--start`, seconds.
        start: f64,
        /// `--end`, seconds.
        end: f64,
    },
    /// The window holds more than `MAX_IMPORT_INTERVALS` intervals.
    #[error("the import would span {intervals} intervals of {interval_s} s, more than the limit of {max}")]
    WindowTooLong {
        /// Intervals in the window.
        intervals: u64,
        /// The interval, seconds.
        interval_s: f64,
        /// The limit.
        max: usize,
    },
    /// A filter was given that the format does not use.
    #[error("{flag} does not apply to --format {format}")]
    FilterNotForFormat {
        /// The flag.
        flag: &'static str,
        /// The format.
        format: ImportFormat,
    },
}

/// The result of an import: the trace and what happened to every line.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// The trace: `start_s` 0, `timestamp_s` = seconds since the first
    /// interval's start.
    pub trace: Trace,
    /// The first interval's start on the input's time axis (Unix seconds
    /// for logs and pagecounts); `None` when the input carries no absolute
    /// time (Azure tables and native traces without `--start`).
    pub origin_unix_s: Option<f64>,
    /// Input files read.
    pub files: usize,
    /// Lines read, over all files (headers and blank lines included).
    pub lines: u64,
    /// Records (lines or rows) whose requests fell inside the window.
    pub records: u64,
    /// Total requests in the trace.
    pub requests: f64,
    /// Well-formed records removed by the filters.
    pub filtered: u64,
    /// Well-formed records wholly before `--start` or at/after `--end`.
    pub outside: u64,
    /// Malformed lines skipped.
    pub malformed: u64,
    /// The first malformed line, if any.
    pub first_malformed: Option<MalformedLine>,
}

/// Imports `inputs` (file paths, `-` for standard input) into a trace; see
/// the module docs for the formats, the time axis and streaming.
///
/// # Errors
/// - [`TraceError::Io`] naming the file that cannot be opened or read
///   (corrupt gzip included);
/// - [`TraceError::Import`] for invalid options, an unusable file, no
///   records, fewer than two intervals, or (with `strict`) the first
///   malformed line;
/// - for a native `csv` trace, the errors of [`crate::trace::read_csv`].
pub fn import(inputs: &[PathBuf], opts: &ImportOptions) -> Result<ImportReport, TraceError> {
    let opened = inputs.iter().map(|path| {
        let reader = input::open(path).map_err(|source| TraceError::Io {
            path: path.clone(),
            source,
        });
        (path.clone(), reader)
    });
    run(opened, opts)
}

/// Imports from readers instead of files, exactly like [`import`]; each
/// path is used in messages and, for `wikipedia-pagecounts`, for the hour.
///
/// # Errors
/// As [`import`].
pub fn import_readers(
    inputs: Vec<(PathBuf, Box<dyn Read>)>,
    opts: &ImportOptions,
) -> Result<ImportReport, TraceError> {
    let wrapped = inputs.into_iter().map(|(path, raw)| {
        let reader = input::wrap(raw).map_err(|source| TraceError::Io {
            path: path.clone(),
            source,
        });
        (path, reader)
    });
    run(wrapped, opts)
}

/// Checks the options that do not depend on the input.
fn validate(opts: &ImportOptions, inputs: usize) -> Result<(), ImportError> {
    if inputs == 0 {
        return Err(ImportError::NoInputs);
    }
    let interval_s = opts.interval_s;
    if !(interval_s.is_finite() && interval_s > 0.0) {
        return Err(ImportError::BadInterval(interval_s));
    }
    if let Some(resolution_s) = opts.format.resolution_s() {
        let ratio = interval_s / resolution_s;
        if (ratio - ratio.round()).abs() > 1e-9 * ratio.max(1.0) || ratio.round() < 1.0 {
            return Err(ImportError::IntervalNotMultiple {
                interval_s,
                format: opts.format,
                resolution_s,
            });
        }
    }
    for t in [opts.start_s, opts.end_s].into_iter().flatten() {
        if !t.is_finite() {
            return Err(ImportError::EmptyWindow {
                start: opts.start_s.unwrap_or(f64::NEG_INFINITY),
                end: opts.end_s.unwrap_or(f64::INFINITY),
            });
        }
    }
    if let (Some(start), Some(end)) = (opts.start_s, opts.end_s) {
        if start >= end {
            return Err(ImportError::EmptyWindow { start, end });
        }
    }
    if let Some(flag) = opts.filter.misplaced_flag(opts.format) {
        return Err(ImportError::FilterNotForFormat {
            flag,
            format: opts.format,
        });
    }
    Ok(())
}

/// The import loop shared by [`import`] and [`import_readers`].
fn run<I>(inputs: I, opts: &ImportOptions) -> Result<ImportReport, TraceError>
where
    I: ExactSizeIterator<Item = (PathBuf, Result<Box<dyn std::io::BufRead>, TraceError>)>,
{
    validate(opts, inputs.len())?;
    let bins = Bins::new(opts.interval_s, opts.start_s, opts.end_s);
    if let Some(n) = bins.window_intervals() {
        if n > MAX_IMPORT_INTERVALS as f64 {
            return Err(ImportError::WindowTooLong {
                intervals: n as u64,
                interval_s: opts.interval_s,
                max: MAX_IMPORT_INTERVALS,
            }
            .into());
        }
    }
    let mut sink = Sink {
        bins,
        tally: Tally::default(),
        strict: opts.strict,
    };
    let mut files = 0;
    let mut absolute_time = true;
    for (index, (path, reader)) in inputs.enumerate() {
        let mut lines = LineReader::new(reader?);
        let file = FileContext {
            path: &path,
            index,
            filter: &opts.filter,
            start_s: opts.start_s.unwrap_or(0.0),
        };
        let result = match opts.format {
            ImportFormat::Clf => clf::read(&mut lines, &file, &mut sink),
            ImportFormat::Sdsc => sdsc::read(&mut lines, &file, &mut sink),
            ImportFormat::AzureFunctions => azure::read(&mut lines, &file, &mut sink),
            ImportFormat::WikipediaPagecounts => wikipedia::read(&mut lines, &file, &mut sink),
            ImportFormat::AzureLlm => azure_llm::read(&mut lines, &file, &mut sink),
            ImportFormat::Csv => csv_rows::read(lines, &file, &mut sink).map(|absolute| {
                absolute_time &= absolute;
            }),
        };
        result?;
        files += 1;
    }
    if opts.format == ImportFormat::AzureFunctions {
        absolute_time = false;
    }
    finish(sink, opts, files, absolute_time || opts.start_s.is_some())
}

/// Turns the filled bins into the report.
fn finish(
    sink: Sink,
    opts: &ImportOptions,
    files: usize,
    origin_known: bool,
) -> Result<ImportReport, TraceError> {
    let tally = sink.tally;
    if tally.records == 0 {
        return Err(ImportError::NoRecords {
            lines: tally.lines,
            malformed: tally.malformed,
            filtered: tally.filtered,
            outside: tally.outside,
            first_malformed: tally.first_malformed,
        }
        .into());
    }
    let binned = sink
        .bins
        .finish()
        .map_err(|intervals| ImportError::WindowTooLong {
            intervals,
            interval_s: opts.interval_s,
            max: MAX_IMPORT_INTERVALS,
        })?;
    let (origin, counts) = match binned {
        Some(b) => (b.origin, b.counts),
        None => (opts.start_s.unwrap_or(0.0), Vec::new()),
    };
    if counts.len() < 2 {
        return Err(ImportError::TooFewIntervals {
            intervals: counts.len(),
            interval_s: opts.interval_s,
        }
        .into());
    }
    // Shares of spans can leave float dust below zero; clamp it.
    let counts: Vec<f64> = counts.into_iter().map(|c| c.max(0.0)).collect();
    if let Some((index, &requests)) = counts
        .iter()
        .enumerate()
        .find(|(_, c)| c.is_nan() || **c > crate::trace::MAX_REQUESTS)
    {
        return Err(ImportError::IntervalTooLarge {
            index,
            timestamp_s: index as f64 * opts.interval_s,
            requests,
        }
        .into());
    }
    let requests = counts.iter().sum();
    Ok(ImportReport {
        trace: Trace {
            name: opts.name.clone(),
            start_s: 0.0,
            interval_s: opts.interval_s,
            requests: counts,
        },
        origin_unix_s: origin_known.then_some(origin),
        files,
        lines: tally.lines,
        records: tally.records,
        requests,
        filtered: tally.filtered,
        outside: tally.outside,
        malformed: tally.malformed,
        first_malformed: tally.first_malformed,
    })
}

/// Per-file facts a format reader needs.
pub(crate) struct FileContext<'a> {
    /// The file, for messages.
    pub path: &'a Path,
    /// 0-based position among the inputs (Azure day number).
    pub index: usize,
    /// The record filter.
    pub filter: &'a RecordFilter,
    /// `--start`, or 0: the time of minute 1 of the first Azure table.
    pub start_s: f64,
}

/// Counters of an import in progress.
#[derive(Debug, Default)]
struct Tally {
    lines: u64,
    records: u64,
    filtered: u64,
    outside: u64,
    malformed: u64,
    first_malformed: Option<MalformedLine>,
}

/// Where format readers put what they find.
pub(crate) struct Sink {
    bins: Bins,
    tally: Tally,
    strict: bool,
}

impl Sink {
    /// Adds the line count of a file that has been read.
    pub(crate) fn add_lines(&mut self, lines: u64) {
        self.tally.lines += lines;
    }

    /// A record of `count` requests at time `t`.
    ///
    /// # Errors
    /// A malformed-line error in strict mode when the time cannot be binned.
    pub(crate) fn instant(
        &mut self,
        file: &FileContext<'_>,
        line: u64,
        t: f64,
        count: f64,
    ) -> Result<(), TraceError> {
        match self.bins.add_instant(t, count) {
            Ok(placed) => {
                self.placed(placed);
                Ok(())
            }
            Err(e) => self.malformed(file, line, e),
        }
    }

    /// A record of `count` requests spread over `[from, to)`.
    ///
    /// # Errors
    /// As [`Sink::instant`].
    pub(crate) fn span(
        &mut self,
        file: &FileContext<'_>,
        line: u64,
        from: f64,
        to: f64,
        count: f64,
    ) -> Result<(), TraceError> {
        match self.bins.add_span(from, to, count) {
            Ok(placed) => {
                self.placed(placed);
                Ok(())
            }
            Err(e) => self.malformed(file, line, e),
        }
    }

    /// A record made of several spans (an Azure row): counted once, inside
    /// if any part is. All spans are tried even if one fails.
    ///
    /// # Errors
    /// As [`Sink::instant`], for the first span that cannot be binned.
    pub(crate) fn spans(
        &mut self,
        file: &FileContext<'_>,
        line: u64,
        spans: impl Iterator<Item = (f64, f64, f64)>,
    ) -> Result<(), TraceError> {
        let mut any_inside = false;
        let mut first_error = None;
        for (from, to, count) in spans {
            match self.bins.add_span(from, to, count) {
                Ok(Placed::Inside) => any_inside = true,
                Ok(Placed::Outside) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return self.malformed(file, line, e);
        }
        self.placed(if any_inside {
            Placed::Inside
        } else {
            Placed::Outside
        });
        Ok(())
    }

    fn placed(&mut self, placed: Placed) {
        match placed {
            Placed::Inside => self.tally.records += 1,
            Placed::Outside => self.tally.outside += 1,
        }
    }

    /// A well-formed record removed by a filter.
    pub(crate) fn filtered(&mut self) {
        self.tally.filtered += 1;
    }

    /// A malformed line: counted, or an error in strict mode.
    ///
    /// # Errors
    /// [`ImportError::Malformed`] in strict mode.
    pub(crate) fn malformed(
        &mut self,
        file: &FileContext<'_>,
        line: u64,
        error: LineError,
    ) -> Result<(), TraceError> {
        let record = MalformedLine {
            path: file.path.to_path_buf(),
            line,
            error,
        };
        if self.strict {
            return Err(ImportError::Malformed(record).into());
        }
        self.tally.malformed += 1;
        self.tally.first_malformed.get_or_insert(record);
        Ok(())
    }
}

/// Reads every line of a file, handing non-blank complete lines to
/// `each` and reporting cut ones as malformed. `each` gets the line number
/// and the bytes, and returns `Err(LineError)` for a malformed line.
pub(crate) fn for_each_line<F>(
    lines: &mut LineReader,
    file: &FileContext<'_>,
    sink: &mut Sink,
    mut each: F,
) -> Result<(), TraceError>
where
    F: FnMut(u64, &[u8], &mut Sink) -> Result<(), LineOutcome>,
{
    let mut buf = Vec::new();
    let result = loop {
        let end = match lines.next_line(&mut buf) {
            Ok(Some(end)) => end,
            Ok(None) => break Ok(()),
            Err(source) => {
                break Err(TraceError::Io {
                    path: file.path.to_path_buf(),
                    source,
                })
            }
        };
        let line = lines.line_number();
        if end == LineEnd::Cut {
            let error = LineError::TooLong {
                max_bytes: MAX_LINE_BYTES,
            };
            if let Err(e) = sink.malformed(file, line, error) {
                break Err(e);
            }
            continue;
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match each(line, &buf, sink) {
            Ok(()) => {}
            Err(LineOutcome::Malformed(error)) => {
                if let Err(e) = sink.malformed(file, line, error) {
                    break Err(e);
                }
            }
            Err(LineOutcome::Fatal(e)) => break Err(e),
        }
    };
    sink.add_lines(lines.line_number());
    result
}

/// Why a line handler stopped short.
pub(crate) enum LineOutcome {
    /// The line is malformed.
    Malformed(LineError),
    /// The import must stop (strict mode, or a file-level problem).
    Fatal(TraceError),
}

impl From<LineError> for LineOutcome {
    fn from(e: LineError) -> Self {
        LineOutcome::Malformed(e)
    }
}

impl From<TraceError> for LineOutcome {
    fn from(e: TraceError) -> Self {
        LineOutcome::Fatal(e)
    }
}

/// A printable, length-limited rendering of raw bytes for messages.
pub(crate) fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == PREVIEW_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a comma-separated line into trimmed fields without surrounding
/// double quotes (the tables importers read have no quoted commas).
pub(crate) fn split_csv_line(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| b == b',').map(|field| {
        let field = field.trim_ascii();
        match field {
            [b'"', inner @ .., b'"'] => inner,
            other => other,
        }
    })
}

/// Parses a count in `[0, 2^53]` (`12`, `12.0`, `1e3`).
pub(crate) fn parse_count(field: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(field).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    // Plain digits first: the common case, and exact.
    if text.bytes().all(|b| b.is_ascii_digit()) && text.len() <= 15 {
        return text.parse::<u64>().ok().map(|n| n as f64);
    }
    let value: f64 = text.parse().ok()?;
    (value.is_finite() && (0.0..=crate::trace::MAX_REQUESTS).contains(&value)).then_some(value)
}

/// An in-memory input file named `name` holding `text`, for tests.
#[cfg(test)]
pub(crate) fn test_input(name: &str, text: &str) -> (PathBuf, Box<dyn Read>) {
    (
        PathBuf::from(name),
        Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(format: ImportFormat, interval_s: f64) -> ImportOptions {
        ImportOptions::new(format, interval_s, "t")
    }

    fn one(text: &str) -> Vec<(PathBuf, Box<dyn Read>)> {
        vec![(
            PathBuf::from("in.log"),
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())) as Box<dyn Read>,
        )]
    }

    #[test]
    fn format_names_round_trip() {
        for f in ImportFormat::ALL {
            assert_eq!(f.name().parse::<ImportFormat>().unwrap(), f);
            assert_eq!(f.to_string(), f.name());
        }
        let e = "apache".parse::<ImportFormat>().unwrap_err();
        assert!(e.to_string().contains("`apache`"));
    }

    #[test]
    fn status_filters_parse_classes_and_codes() {
        assert_eq!(
            "2xx".parse::<StatusFilter>().unwrap(),
            StatusFilter::Class(2)
        );
        assert_eq!(
            "5XX".parse::<StatusFilter>().unwrap(),
            StatusFilter::Class(5)
        );
        assert_eq!(
            "404".parse::<StatusFilter>().unwrap(),
            StatusFilter::Code(404)
        );
        for bad in ["6xx", "2x", "20", "2000", "abc", "", "x04"] {
            assert!(bad.parse::<StatusFilter>().is_err(), "{bad}");
        }
        assert!(StatusFilter::Class(3).matches(304));
        assert!(!StatusFilter::Class(3).matches(200));
        assert!(StatusFilter::Code(404).matches(404));
    }

    #[test]
    fn invalid_options_are_refused_before_reading() {
        let run_with = |o: &ImportOptions| import_readers(one("x\n"), o).unwrap_err().to_string();
        assert!(run_with(&opts(ImportFormat::Clf, 0.0)).contains("--interval-s 0"));
        assert!(run_with(&opts(ImportFormat::Clf, f64::NAN)).contains("--interval-s NaN"));
        let e = run_with(&opts(ImportFormat::AzureFunctions, 90.0));
        assert!(
            e.contains("multiple of the azure-functions resolution of 60 s"),
            "{e}"
        );
        let e = run_with(&opts(ImportFormat::WikipediaPagecounts, 60.0));
        assert!(e.contains("3600 s"), "{e}");
        let mut o = opts(ImportFormat::Clf, 60.0);
        o.start_s = Some(100.0);
        o.end_s = Some(100.0);
        assert!(run_with(&o).contains("--start 100 is not before --end 100"));
        let mut o = opts(ImportFormat::Clf, 60.0);
        o.filter.apps.push("abc".into());
        assert_eq!(run_with(&o), "--app does not apply to --format clf");
        let mut o = opts(ImportFormat::Clf, 1.0);
        o.start_s = Some(0.0);
        o.end_s = Some(1e12);
        assert!(run_with(&o).contains("more than the limit"));
        let e = import_readers(Vec::new(), &opts(ImportFormat::Clf, 60.0)).unwrap_err();
        assert_eq!(e.to_string(), "no input files");
    }

    #[test]
    fn counts_parse_integers_and_plain_decimals_only() {
        assert_eq!(parse_count(b"12"), Some(12.0));
        assert_eq!(parse_count(b" 7 "), Some(7.0));
        assert_eq!(parse_count(b"2.5"), Some(2.5));
        for bad in [&b""[..], b"-1", b"x", b"inf", b"NaN", b"\xff"] {
            assert_eq!(parse_count(bad), None);
        }
    }

    #[test]
    fn previews_are_cut_and_escaped() {
        assert_eq!(preview(b"a\tb"), "a\\tb");
        assert_eq!(preview(&[b'x'; 100]).chars().count(), PREVIEW_CHARS + 1);
        assert_eq!(preview(b"\xff"), "\u{fffd}");
    }

    #[test]
    fn csv_lines_split_into_trimmed_unquoted_fields() {
        let fields: Vec<&[u8]> = split_csv_line(b" a ,\"b\", c\"").collect();
        assert_eq!(fields, vec![&b"a"[..], b"b", b"c\""]);
    }
}
