//! Figures from results folders: `qscale plot DIR`.
//!
//! Plotting reads only the CSVs (and `config.toml`, `qtable.txt`) a results
//! folder holds; it never re-runs a simulation. [`detect`] tells what kind
//! of folder `DIR` is from the files present, and [`plot_folder`] rebuilds
//! every figure that kind supports into `DIR/figures/`, as PNG and/or SVG:
//!
//! | folder | detected by | figures |
//! |---|---|---|
//! | run (`qscale run`, `evaluate`) | `steps.csv`, `summary.csv` | load, latency, cost |
//! | comparison (`qscale compare`) | `aggregate.csv` without `param_` columns | per trace: load and latency per policy, cost, pareto |
//! | training (`qscale train`) | `learning_curve.csv` or `qtable.txt` | learning-curve, policy |
//! | several trainings | `*/learning_curve.csv` (e.g. `seed-1/`, `seed-2/`) | learning-curve with a band over seeds |
//! | sweep | `aggregate.csv` with `param_<section.key>` columns | one score heatmap per policy × trace |
//!
//! The figure functions ([`timeseries`], [`learning`], [`pareto`],
//! [`heatmap`], [`policy`]) take parsed rows and an output stem and write
//! `STEM.png` and `STEM.svg`; [`style`] fixes the size, font and colours.

pub(crate) mod canvas;
pub mod crossval;
pub(crate) mod geometry;
pub(crate) mod heatmap;
pub(crate) mod learning;
pub(crate) mod pareto;
pub mod policy;
pub(crate) mod read;
pub(crate) mod style;
pub(crate) mod timeseries;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::Config;
use crate::layout;
use read::{read_header, read_rows, AggregateRecord, CurveRecord, StepRecord, SummaryRecord};
use timeseries::RunSteps;

/// Which image files to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// PNG only.
    Png,
    /// SVG only.
    Svg,
    /// Both (the default).
    #[default]
    Both,
}

impl Format {
    /// True when PNGs are written.
    pub(crate) fn png(self) -> bool {
        matches!(self, Format::Png | Format::Both)
    }

    /// True when SVGs are written.
    pub(crate) fn svg(self) -> bool {
        matches!(self, Format::Svg | Format::Both)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Png => "png",
            Format::Svg => "svg",
            Format::Both => "both",
        })
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            "both" => Ok(Format::Both),
            _ => Err(format!("unknown format `{s}`, expected png, svg or both")),
        }
    }
}

/// A results folder that cannot be plotted as it is: bad input (exit 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlotError {
    /// The path is not a folder.
    #[error("{} is not a folder", .0.display())]
    NotAFolder(PathBuf),
    /// Nothing in the folder is a known results file.
    #[error("nothing to plot in {}: expected steps.csv and summary.csv (a run), aggregate.csv (a comparison or sweep), crossval.csv (a cross-validation), learning_curve.csv (a training run) or */learning_curve.csv (several)", .0.display())]
    NothingToPlot(PathBuf),
    /// A file the folder's kind needs is not there.
    #[error("{} is missing", .0.display())]
    MissingFile(PathBuf),
    /// A file could not be read.
    #[error("cannot read {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV lacks columns the figure needs.
    #[error("{}: missing column(s) {}", .path.display(), .columns.join(", "))]
    MissingColumns {
        /// The file.
        path: PathBuf,
        /// The missing column names.
        columns: Vec<String>,
    },
    /// A CSV row that cannot be read.
    #[error("{}:{line}: {message}", .path.display())]
    BadRow {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A CSV with a header and no rows.
    #[error("{} has no rows", .0.display())]
    NoRows(PathBuf),
}

/// What kind of results folder a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FolderKind {
    /// One run: `steps.csv`, `summary.csv`, `config.toml`.
    Run,
    /// A `qscale compare` folder.
    Compare,
    /// A `qscale train` folder.
    Train,
    /// A folder of `qscale train` folders (one per seed).
    TrainSet,
    /// A sweep: `aggregate.csv` with `param_` columns.
    Sweep,
    /// A cross-validation (`qscale crossval`): `crossval.csv`.
    Crossval,
}

impl fmt::Display for FolderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FolderKind::Run => "run",
            FolderKind::Compare => "comparison",
            FolderKind::Train => "training run",
            FolderKind::TrainSet => "set of training runs",
            FolderKind::Sweep => "sweep",
            FolderKind::Crossval => "cross-validation",
        })
    }
}

/// What [`plot_folder`] did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Report {
    /// The kind of folder found.
    pub kind: FolderKind,
    /// Every image written, in order.
    pub written: Vec<PathBuf>,
    /// Figures skipped, and why.
    pub notes: Vec<String>,
}

/// Tells what kind of results folder `dir` is, from the files present.
///
/// # Errors
/// [`PlotError::NotAFolder`], [`PlotError::NothingToPlot`], or an
/// unreadable `aggregate.csv` header.
pub(crate) fn detect(dir: &Path) -> Result<FolderKind, PlotError> {
    if !dir.is_dir() {
        return Err(PlotError::NotAFolder(dir.to_path_buf()));
    }
    let has = |name: &str| dir.join(name).is_file();
    if has(layout::CROSSVAL) {
        return Ok(FolderKind::Crossval);
    }
    if has(layout::AGGREGATE) {
        let header = read_header(&dir.join(layout::AGGREGATE))?;
        return Ok(if read::param_columns(&header).is_empty() {
            FolderKind::Compare
        } else {
            FolderKind::Sweep
        });
    }
    if has(layout::LEARNING_CURVE) || has(layout::QTABLE) {
        return Ok(FolderKind::Train);
    }
    let train = train_subfolders(dir);
    if !train.is_empty() {
        // A set of training runs holds nothing else (but its figures): a
        // parent of unrelated results folders (`runs/`) is not one.
        let other = std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                e.path().is_dir()
                    && name != layout::FIGURES
                    && !name.starts_with('.')
                    && !train.contains(&e.path())
            })
        });
        if !other {
            return Ok(FolderKind::TrainSet);
        }
    }
    if has(layout::STEPS) || has(layout::SUMMARY) {
        return Ok(FolderKind::Run);
    }
    Err(PlotError::NothingToPlot(dir.to_path_buf()))
}

/// Rebuilds every figure the folder supports into `dir/figures/`.
///
/// # Errors
/// A [`PlotError`] naming the missing or malformed file, a
/// [`crate::config::ConfigError`] for a bad `config.toml`, a
/// [`crate::agent::QTableError`] for a bad `qtable.txt`, or a drawing or
/// I/O error.
pub(crate) fn plot_folder(dir: &Path, format: Format) -> Result<Report> {
    let kind = detect(dir)?;
    let out = dir.join(layout::FIGURES);
    let fresh = !out.exists();
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut report = Report {
        kind,
        written: Vec::new(),
        notes: Vec::new(),
    };
    let drawn = match kind {
        FolderKind::Run => plot_run(dir, &out, format, &mut report),
        FolderKind::Compare => plot_compare(dir, &out, format, &mut report),
        FolderKind::Train => plot_train(dir, &out, format, &mut report),
        FolderKind::TrainSet => plot_train_set(dir, &out, format, &mut report),
        FolderKind::Sweep => plot_sweep(dir, &out, format, &mut report),
        FolderKind::Crossval => plot_crossval(dir, &out, format, &mut report),
    };
    if drawn.is_err() && fresh {
        // A failed plot leaves no half-filled figures folder behind.
        std::fs::remove_dir_all(&out).ok();
    }
    drawn?;
    Ok(report)
}

fn plot_crossval(dir: &Path, out: &Path, format: Format, report: &mut Report) -> Result<()> {
    let path = dir.join(layout::CROSSVAL);
    let mut reader = csv::Reader::from_path(&path).map_err(|e| PlotError::Io {
        path: path.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let mut rows: Vec<layout::CrossvalRow> = Vec::new();
    for row in reader.deserialize() {
        rows.push(row.map_err(|e: csv::Error| PlotError::BadRow {
            path: path.clone(),
            line: e.position().map_or(0, csv::Position::line),
            message: e.to_string(),
        })?);
    }
    if rows.is_empty() {
        return Err(PlotError::NoRows(path).into());
    }
    let mut seeds: Vec<u64> = rows.iter().map(|r| r.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let cases = layout::cases(&rows);
    let in_sample = load_config(&dir.join(layout::CONFIG))?.crossval.in_sample;
    report.written.extend(crossval::crossval(
        &cases,
        seeds.len(),
        in_sample,
        &out.join("crossval"),
        format,
    )?);
    Ok(())
}

/// Loads `path` as a resolved config.
fn load_config(path: &Path) -> Result<Config> {
    if !path.is_file() {
        return Err(PlotError::MissingFile(path.to_path_buf()).into());
    }
    Config::load(Some(path), &[]).with_context(|| format!("reading {}", path.display()))
}

fn plot_run(dir: &Path, out: &Path, format: Format, report: &mut Report) -> Result<()> {
    let steps: Vec<StepRecord> = read_rows(&dir.join(layout::STEPS))?;
    let summary: Vec<SummaryRecord> = read_rows(&dir.join(layout::SUMMARY))?;
    let root = layout::compare_root(dir);
    let config_path = if dir.join(layout::CONFIG).is_file() {
        dir.join(layout::CONFIG)
    } else {
        root.map_or_else(|| dir.join(layout::CONFIG), |r| r.join(layout::CONFIG))
    };
    let config = load_config(&config_path)?;
    // invariant: read_rows refuses a file without rows
    let first = &summary[0];
    let run = RunSteps {
        policy: first.policy.clone(),
        trace: first.trace.clone(),
        seed: first.seed,
        step_s: f64::from(config.workload.step_s),
        steps,
    };
    // Inside a comparison, the oracle's run of the same trace and seed.
    let oracle = match root {
        Some(root) if run.policy != "oracle" => {
            let path = root
                .join(layout::compare_run_dir("oracle", &run.trace, run.seed))
                .join(layout::STEPS);
            if path.is_file() {
                Some(RunSteps {
                    policy: "oracle".into(),
                    steps: read_rows(&path)?,
                    ..run.clone()
                })
            } else {
                None
            }
        }
        _ => None,
    };
    let w = &mut report.written;
    w.extend(timeseries::load_capacity(
        &run,
        oracle.as_ref(),
        &out.join("load"),
        format,
    )?);
    w.extend(timeseries::latency(
        std::slice::from_ref(&run),
        config.cloud.slo_s,
        &out.join("latency"),
        format,
    )?);
    w.extend(timeseries::cumulative(
        std::slice::from_ref(&run),
        &out.join("cost"),
        format,
    )?);
    Ok(())
}

/// Unique values in order of first appearance.
fn unique<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    out
}

/// A file-name-safe form of `s`: ASCII letters, digits, `-` and `_`
/// only, so a figure's file name has a single dot (before its extension)
/// and needs no quoting in a shell or LaTeX. A decimal point between
/// digits becomes `p` (`0.95` -> `0p95`); `=`, other dots and every other
/// character become `_`; runs of `_` collapse to one and `_` or `-` at
/// either end are dropped (`_` when nothing is left).
pub(crate) fn file_safe(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let digit = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(char::is_ascii_digit)
        };
        let mapped = if c.is_ascii_alphanumeric() || c == '-' {
            c
        } else if c == '.' && digit(i.checked_sub(1)) && digit(Some(i + 1)) {
            'p'
        } else {
            '_'
        };
        if !(mapped == '_' && out.ends_with('_')) {
            out.push(mapped);
        }
    }
    let trimmed = out.trim_matches(|c| c == '_' || c == '-');
    if trimmed.is_empty() {
        "_".to_string()
    } else {
        trimmed.to_string()
    }
}

fn plot_compare(dir: &Path, out: &Path, format: Format, report: &mut Report) -> Result<()> {
    let summary: Vec<SummaryRecord> = read_rows(&dir.join(layout::SUMMARY))?;
    let _aggregate: Vec<AggregateRecord> = read_rows(&dir.join(layout::AGGREGATE))?;
    let config = load_config(&dir.join(layout::CONFIG))?;
    let step_s = f64::from(config.workload.step_s);
    let traces = unique(summary.iter().map(|r| r.trace.as_str()));
    for trace in &traces {
        let rows: Vec<&SummaryRecord> = summary.iter().filter(|r| &r.trace == trace).collect();
        // invariant: `trace` comes from these rows, so at least one matches
        let seed = rows[0].seed;
        let policies = unique(rows.iter().map(|r| r.policy.as_str()));
        let paths: Vec<(String, PathBuf)> = policies
            .iter()
            .map(|p| {
                let path = dir
                    .join(layout::compare_run_dir(p, trace, seed))
                    .join(layout::STEPS);
                (p.clone(), path)
            })
            .collect();
        let t = file_safe(trace);
        if paths.iter().all(|(_, p)| !p.is_file()) {
            report.notes.push(format!(
                "no runs/*/{trace}/seed-{seed}/steps.csv (compared with --no-steps?): skipped the time series of {trace}"
            ));
        } else {
            let mut runs = Vec::with_capacity(paths.len());
            for (policy, path) in &paths {
                runs.push(RunSteps {
                    policy: policy.clone(),
                    trace: trace.clone(),
                    seed,
                    step_s,
                    steps: read_rows(path)?,
                });
            }
            let oracle = runs.iter().find(|r| r.policy == "oracle");
            for run in &runs {
                let overlay = oracle.filter(|_| run.policy != "oracle");
                let p = file_safe(&run.policy);
                report.written.extend(timeseries::load_capacity(
                    run,
                    overlay,
                    &out.join(format!("load-{t}-{p}")),
                    format,
                )?);
                // Per policy: several noisy latency series on one log axis
                // hide each other.
                report.written.extend(timeseries::latency(
                    std::slice::from_ref(run),
                    config.cloud.slo_s,
                    &out.join(format!("latency-{t}-{p}")),
                    format,
                )?);
            }
            report.written.extend(timeseries::cumulative(
                &runs,
                &out.join(format!("cost-{t}")),
                format,
            )?);
        }
        let owned: Vec<SummaryRecord> = rows.into_iter().cloned().collect();
        report.written.extend(pareto::pareto(
            &owned,
            trace,
            &out.join(format!("pareto-{t}")),
            format,
        )?);
    }
    Ok(())
}

fn plot_train(dir: &Path, out: &Path, format: Format, report: &mut Report) -> Result<()> {
    let curve: Vec<CurveRecord> = read_rows(&dir.join(layout::LEARNING_CURVE))?;
    let config = load_config(&dir.join(layout::CONFIG))?;
    let table = dir.join(layout::QTABLE);
    if !table.is_file() {
        return Err(PlotError::MissingFile(table).into());
    }
    let agent = crate::agent::QAgent::load(&table, &config)
        .with_context(|| format!("reading {}", table.display()))?;
    let sets = [learning::CurveSet {
        label: dir
            .file_name()
            .map_or_else(|| "train".into(), |n| n.to_string_lossy().into_owned()),
        rows: curve,
    }];
    report.written.extend(learning::learning_curves(
        &sets,
        &out.join("learning-curve"),
        format,
    )?);
    let grid = policy::policy_grid(&agent);
    report
        .written
        .extend(heatmap::render_heatmap(&grid, &out.join("policy"), format)?);
    Ok(())
}

/// Subfolders of `dir` holding a `learning_curve.csv`, in natural order
/// (`seed-2` before `seed-10`).
fn train_subfolders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(layout::LEARNING_CURVE).is_file())
        .collect();
    dirs.sort_by_key(|p| natural_key(&p.file_name().unwrap_or_default().to_string_lossy()));
    dirs
}

/// Sort key: the text with its last number split off, so `seed-2` <
/// `seed-10`.
fn natural_key(name: &str) -> (String, u64, String) {
    let digits: String = name
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let prefix = name[..name.len() - digits.len()].to_string();
    (prefix, digits.parse().unwrap_or(0), name.to_string())
}

fn plot_train_set(dir: &Path, out: &Path, format: Format, report: &mut Report) -> Result<()> {
    let mut sets = Vec::new();
    for sub in train_subfolders(dir) {
        sets.push(learning::CurveSet {
            label: sub
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            rows: read_rows(&sub.join(layout::LEARNING_CURVE))?,
        });
    }
    report.written.extend(learning::learning_curves(
        &sets,
        &out.join("learning-curve"),
        format,
    )?);
    Ok(())
}

fn plot_sweep(dir: &Path, out: &Path, format: Format, report: &mut Report) -> Result<()> {
    let table = read::read_sweep(&dir.join(layout::AGGREGATE))?;
    for (name, grid) in heatmap::sweep_grids(&table) {
        let stem = out.join(file_safe(&name));
        report
            .written
            .extend(heatmap::render_heatmap(&grid, &stem, format)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_told_apart_by_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(matches!(detect(d), Err(PlotError::NothingToPlot(_))));
        assert!(matches!(
            detect(&d.join("nope")),
            Err(PlotError::NotAFolder(_))
        ));
        std::fs::write(d.join("steps.csv"), "step\n").unwrap();
        assert_eq!(detect(d).unwrap(), FolderKind::Run);
        std::fs::create_dir(d.join("seed-1")).unwrap();
        std::fs::write(d.join("seed-1/learning_curve.csv"), "episode\n").unwrap();
        assert_eq!(detect(d).unwrap(), FolderKind::TrainSet);
        std::fs::write(d.join("qtable.txt"), "").unwrap();
        assert_eq!(detect(d).unwrap(), FolderKind::Train);
        std::fs::write(d.join("aggregate.csv"), "policy,trace,score_mean\n").unwrap();
        assert_eq!(detect(d).unwrap(), FolderKind::Compare);
        std::fs::write(
            d.join("aggregate.csv"),
            "policy,param_cloud.boot_s,score_mean\n",
        )
        .unwrap();
        assert_eq!(detect(d).unwrap(), FolderKind::Sweep);
    }

    #[test]
    fn a_parent_of_unrelated_results_folders_is_nothing_to_plot_issue_18() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for sub in ["agent", "seed-2", "figures", ".tmp-x"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        std::fs::write(d.join("agent/learning_curve.csv"), "episode\n").unwrap();
        std::fs::write(d.join("seed-2/learning_curve.csv"), "episode\n").unwrap();
        // Training runs, their figures and a temporary folder: a set.
        assert_eq!(detect(d).unwrap(), FolderKind::TrainSet);
        // Next to a comparison, as in `runs/`: nothing this command reads.
        std::fs::create_dir(d.join("nasa")).unwrap();
        std::fs::write(d.join("nasa/aggregate.csv"), "policy\n").unwrap();
        assert!(matches!(detect(d), Err(PlotError::NothingToPlot(_))));
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("summary.csv"), "policy\n").unwrap();
        let err = plot_folder(dir.path(), Format::Png).unwrap_err();
        assert!(format!("{err:#}").contains("steps.csv"), "{err:#}");
        assert!(err.chain().any(|e| e.is::<PlotError>()));
    }

    #[test]
    fn figure_names_are_safe_for_shells_and_latex_issue_18() {
        let safe = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        for name in [
            "sweep-threshold-diurnal-train-5d-policy.step=2-policy.cooldown_s=300",
            "a b/c=0.5",
            "trace.v2.csv",
            "naïve–name",
            "x=-1.5e-3",
        ] {
            let f = file_safe(name);
            assert!(safe(&f) && !f.is_empty(), "{name} -> {f}");
        }
        assert_eq!(file_safe("a b/c=0.5"), "a_b_c_0p5");
        assert_eq!(file_safe("upper_0.95"), "upper_0p95");
        assert_eq!(file_safe("nasa-aug95"), "nasa-aug95");
        assert_eq!(file_safe("trace.v2"), "trace_v2");
    }

    #[test]
    fn names_sort_naturally_and_become_safe() {
        let mut v = vec!["seed-10", "seed-2", "seed-1", "a"];
        v.sort_by_key(|s| natural_key(s));
        assert_eq!(v, ["a", "seed-1", "seed-2", "seed-10"]);
        assert_eq!(file_safe("../x"), "x");
        assert_eq!(file_safe(""), "_");
        assert_eq!(file_safe("=."), "_");
        assert_eq!("png".parse::<Format>().unwrap(), Format::Png);
        assert!("gif".parse::<Format>().is_err());
    }
}

/// Checks shared by the figure tests: a written image is a real, non-blank
/// picture of the figure size.
#[cfg(test)]
pub(crate) mod tests_support {
    use std::path::Path;

    /// A PNG decodes to the figure size with several colours; an SVG has
    /// its root element, paths and text.
    pub(crate) fn assert_image(path: &Path) {
        let bytes = std::fs::read(path).unwrap();
        match path.extension().and_then(|e| e.to_str()) {
            Some("png") => {
                let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
                let mut reader = decoder.read_info().unwrap();
                let mut buf = vec![0; reader.output_buffer_size()];
                let info = reader.next_frame(&mut buf).unwrap();
                assert!(
                    [super::style::SIZE, super::style::WIDE_SIZE]
                        .contains(&(info.width, info.height)),
                    "{}",
                    path.display()
                );
                let pixels = &buf[..info.buffer_size()];
                let px = info.color_type.samples();
                let first = &pixels[..px];
                let differing = pixels.chunks(px).filter(|p| p != &first).count();
                assert!(differing > 1000, "{} is nearly blank", path.display());
            }
            Some("svg") => {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.contains("<svg"), "{}", path.display());
                assert!(text.trim_end().ends_with("</svg>"), "{}", path.display());
                assert!(text.matches("<text").count() >= 3, "{}", path.display());
                let shapes = text.matches("<path").count()
                    + text.matches("<polyline").count()
                    + text.matches("<rect").count();
                assert!(shapes >= 3, "{}", path.display());
            }
            _ => panic!("unexpected file {}", path.display()),
        }
    }
}
