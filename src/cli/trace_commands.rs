//! `qscale trace gen | import | stats`: making, importing and describing
//! workload traces.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::metrics::to_csv;
use crate::output::write_file_atomic;
use crate::study::UsageError;
use crate::trace::import::{self as importer, ImportFormat, ImportOptions, ImportReport};
use crate::trace::{self, GenKind, GenSpec};

/// `qscale trace ...`.
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Generate a synthetic trace (seeded).
    Gen(GenArgs),
    /// Turn web logs, invocation tables or page-view counts into a trace
    /// (streaming; gzip input accepted).
    Import(ImportArgs),
    /// Print a trace's span, rates, burstiness and daily autocorrelation.
    Stats(StatsArgs),
}

/// `qscale trace gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// constant, step, diurnal, bursty, flash-crowd or ramp.
    #[arg(long)]
    pub kind: GenKind,
    /// Length in days (without --days or --hours: 7 days).
    #[arg(long, conflicts_with = "hours")]
    pub days: Option<f64>,
    /// Length in hours (without --days or --hours: 7 days).
    #[arg(long)]
    pub hours: Option<f64>,
    /// Interval between rows, seconds.
    #[arg(long, default_value_t = 60.0)]
    pub interval_s: f64,
    /// Base (low) rate, requests per second.
    #[arg(long, default_value_t = 50.0)]
    pub base_rps: f64,
    /// Peak (high) rate, requests per second.
    #[arg(long, default_value_t = 200.0)]
    pub peak_rps: f64,
    /// Diurnal: weekends at a reduced level.
    #[arg(long)]
    pub weekly: bool,
    /// Write the expected counts instead of Poisson draws.
    #[arg(long)]
    pub no_noise: bool,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Trace name (default: the output file stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Output CSV.
    #[arg(long, value_name = "CSV")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Runs one `qscale trace` subcommand.
pub(super) fn execute(command: TraceCommand) -> Result<()> {
    match command {
        TraceCommand::Gen(args) => trace_gen(args),
        TraceCommand::Import(args) => trace_import(args),
        TraceCommand::Stats(args) => trace_stats(args),
    }
}

fn trace_gen(args: GenArgs) -> Result<()> {
    if !args.force && args.out.exists() {
        return Err(UsageError(format!(
            "{} already exists: choose another --out or pass --force",
            args.out.display()
        ))
        .into());
    }
    let duration_s = match (args.days, args.hours) {
        (Some(d), _) => d * 86_400.0,
        (None, Some(h)) => h * 3600.0,
        (None, None) => {
            say!("no --days or --hours given: generating the default length, 7 days");
            7.0 * 86_400.0
        }
    };
    let name = args.name.clone().unwrap_or_else(|| {
        args.out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "trace".into())
    });
    let spec = GenSpec {
        kind: args.kind,
        interval_s: args.interval_s,
        duration_s,
        base_rps: args.base_rps,
        peak_rps: args.peak_rps,
        weekly: args.weekly,
        noise: !args.no_noise,
        seed: args.seed,
        name,
    };
    let generated = trace::generate(&spec).map_err(|e| UsageError(e.to_string()))?;
    let mut bytes = Vec::new();
    trace::write_csv(&generated, &mut bytes).context("formatting the trace")?;
    write_file_atomic(&args.out, &bytes)?;
    say!(
        "wrote {} ({} rows of {} s, mean {:.2} req/s, peak {:.2} req/s)",
        args.out.display(),
        generated.requests.len(),
        generated.interval_s,
        generated.mean_rps(),
        generated.peak_rps()
    );
    Ok(())
}

/// `qscale trace import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Input format: clf, sdsc, azure-functions, wikipedia-pagecounts,
    /// azure-llm or csv.
    #[arg(long, value_name = "FORMAT")]
    pub format: ImportFormat,
    /// Interval of the output trace, seconds (azure-functions: a multiple
    /// of 60; wikipedia-pagecounts: a multiple of 3600).
    #[arg(long, value_name = "S")]
    pub interval_s: f64,
    /// First instant to count, which becomes timestamp_s 0: Unix seconds or
    /// a date like 1995-07-01T00:00:00-04:00 (no zone means UTC). Default:
    /// the start of the earliest record's interval.
    #[arg(long, value_name = "TIME", value_parser = importer::parse_time_arg)]
    pub start: Option<f64>,
    /// Instant to stop counting at (exclusive); same forms as --start.
    #[arg(long, value_name = "TIME", value_parser = importer::parse_time_arg)]
    pub end: Option<f64>,
    /// Stop at the first malformed line (exit 2) instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// clf: keep only these status classes or codes, e.g. 2xx,3xx,404.
    #[arg(long, value_delimiter = ',', value_name = "STATUS")]
    pub status: Vec<importer::StatusFilter>,
    /// clf: keep only these request methods, e.g. GET,HEAD.
    #[arg(long, value_delimiter = ',', value_name = "METHOD")]
    pub method: Vec<String>,
    /// azure-functions: keep only this application (HashApp; repeatable).
    #[arg(long = "app", value_name = "HASH")]
    pub apps: Vec<String>,
    /// azure-functions: keep only this function (HashFunction; repeatable).
    #[arg(long = "function", value_name = "HASH")]
    pub functions: Vec<String>,
    /// wikipedia-pagecounts: keep only this project code, e.g. en
    /// (repeatable).
    #[arg(long = "project", value_name = "CODE")]
    pub projects: Vec<String>,
    /// wikipedia-pagecounts: keep only this page title as written in the
    /// files, e.g. Main_Page (repeatable).
    #[arg(long = "page", value_name = "TITLE")]
    pub pages: Vec<String>,
    /// Output trace (native CSV).
    #[arg(long, value_name = "CSV")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// Input files, read in order (`-` for standard input); gzip is
    /// recognised by its content.
    #[arg(required = true, value_name = "IN")]
    pub inputs: Vec<PathBuf>,
}

/// `qscale trace stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Traces in the native CSV format.
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,
    /// Also write the statistics as CSV, one row per trace.
    #[arg(long, alias = "csv", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace an existing CSV file.
    #[arg(long)]
    pub force: bool,
}

/// Refuses to replace `path` unless forced.
fn refuse_existing(path: &Path, force: bool) -> Result<()> {
    if !force && path.exists() {
        return Err(UsageError(format!(
            "{} already exists: choose another file or pass --force",
            path.display()
        ))
        .into());
    }
    Ok(())
}

fn trace_import(args: ImportArgs) -> Result<()> {
    refuse_existing(&args.out, args.force)?;
    let name = args
        .out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trace".into());
    let opts = ImportOptions {
        format: args.format,
        interval_s: args.interval_s,
        start_s: args.start,
        end_s: args.end,
        strict: args.strict,
        filter: importer::RecordFilter {
            statuses: args.status,
            methods: args.method,
            apps: args.apps,
            functions: args.functions,
            projects: args.projects,
            pages: args.pages,
        },
        name,
    };
    let report = importer::import(&args.inputs, &opts)?;
    let mut bytes = Vec::new();
    trace::write_csv(&report.trace, &mut bytes).context("formatting the trace")?;
    write_file_atomic(&args.out, &bytes)?;
    print_import(&args.out, &report);
    Ok(())
}

/// The import summary on stdout; skipped malformed lines on stderr.
fn print_import(out: &Path, r: &ImportReport) {
    let t = &r.trace;
    say!(
        "wrote {} ({} rows of {} s, {} requests, mean {:.3} req/s, peak {:.3} req/s)",
        out.display(),
        t.requests.len(),
        t.interval_s,
        r.requests,
        t.mean_rps(),
        t.peak_rps()
    );
    match r.origin_unix_s {
        Some(origin) => say!(
            "timestamp_s 0 is {} (Unix {origin})",
            importer::format_utc(origin)
        ),
        None => say!("timestamp_s 0 is the first interval's start (the input carries no date; --start sets it)"),
    }
    say!(
        "read {} lines from {} file{}: {} records counted, {} filtered out, {} outside --start/--end",
        r.lines,
        r.files,
        if r.files == 1 { "" } else { "s" },
        r.records,
        r.filtered,
        r.outside
    );
    if let Some(first) = &r.first_malformed {
        eprintln!(
            "skipped {} malformed line{}; first: {first}",
            r.malformed,
            if r.malformed == 1 { "" } else { "s" }
        );
    }
}

fn trace_stats(args: StatsArgs) -> Result<()> {
    if let Some(csv) = &args.out {
        refuse_existing(csv, args.force)?;
    }
    let rows = args
        .traces
        .iter()
        .map(|path| Ok(trace::stats(&trace::read_csv(path)?)))
        .collect::<Result<Vec<_>>>()?;
    for line in stats_table(&rows) {
        say!("{line}");
    }
    if let Some(csv) = &args.out {
        write_file_atomic(csv, &to_csv(&rows)?)?;
        say!("wrote {}", csv.display());
    }
    Ok(())
}

/// The statistics as aligned text: one line per measure, one column per
/// trace; `-` where a value is undefined.
fn stats_table(rows: &[trace::TraceStats]) -> Vec<String> {
    fn fixed(v: f64, digits: usize) -> String {
        format!("{v:.digits$}")
    }
    fn opt(v: Option<f64>, digits: usize) -> String {
        v.map_or_else(|| "-".to_string(), |v| fixed(v, digits))
    }
    fn span(s: f64) -> String {
        if s >= 2.0 * 86_400.0 {
            format!("{:.2} d", s / 86_400.0)
        } else if s >= 2.0 * 3600.0 {
            format!("{:.2} h", s / 3600.0)
        } else {
            format!("{s} s")
        }
    }
    type Cell = fn(&trace::TraceStats) -> String;
    let measures: [(&str, Cell); 10] = [
        ("trace", |s| s.name.clone()),
        ("rows", |s| s.rows.to_string()),
        ("interval_s", |s| s.interval_s.to_string()),
        ("span", |s| span(s.span_s)),
        ("mean_rps", |s| fixed(s.mean_rps, 4)),
        ("peak_rps", |s| fixed(s.peak_rps, 4)),
        ("peak_to_mean", |s| opt(s.peak_to_mean, 2)),
        ("cv", |s| opt(s.cv, 3)),
        ("daily_autocorr", |s| opt(s.daily_autocorr, 3)),
        ("max_jump_rps", |s| fixed(s.max_jump_rps, 4)),
    ];
    let cells: Vec<Vec<String>> = measures
        .iter()
        .map(|(_, cell)| rows.iter().map(cell).collect())
        .collect();
    let label_width = measures.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..rows.len())
        .map(|j| {
            cells
                .iter()
                .map(|c| c[j].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    measures
        .iter()
        .zip(&cells)
        .map(|((label, _), row)| {
            let mut line = format!("{label:<label_width$}");
            for (cell, width) in row.iter().zip(&widths) {
                line.push_str(&format!("  {cell:>width$}"));
            }
            line.trim_end().to_string()
        })
        .collect()
}
