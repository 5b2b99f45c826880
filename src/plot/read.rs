//! Reading results CSVs back with the writers' own row types ([`crate::cloud::StepInfo`],
//! [`crate::metrics::SummaryRow`], [`crate::layout::AggregateRow`],
//! [`crate::agent::CurveRow`]), plus a generic reader for sweep aggregates
//! whose `param_<section.key>` columns vary with the sweep.
//!
//! Columns are found by name, so extra columns are ignored; a missing
//! column, a malformed value or a file without rows is a [`PlotError`]
//! naming the file (and the line and column for a bad value).

use std::path::Path;

use serde::de::DeserializeOwned;

use super::PlotError;

/// A CSV row type read back by the figures. Its columns are its fields
/// ([`crate::schema::columns`]); those added after files were first
/// written, which older folders may lack, are listed as optional.
pub(crate) trait Columns: DeserializeOwned {
    /// Columns a file may lack (the fields with `#[serde(default)]`).
    const OPTIONAL: &'static [&'static str] = &[];

    /// Column names that must be present in the header.
    fn required() -> Vec<&'static str> {
        crate::schema::columns::<Self>()
            .iter()
            .copied()
            .filter(|c| !Self::OPTIONAL.contains(c))
            .collect()
    }
}

/// One row of the file, as its writer defines it.
pub(crate) type StepRecord = crate::cloud::StepInfo;

impl Columns for StepRecord {
    const OPTIONAL: &'static [&'static str] = &["demand_vms"];
}

/// One row of the file, as its writer defines it.
pub(crate) type SummaryRecord = crate::metrics::SummaryRow;

impl Columns for SummaryRecord {
    const OPTIONAL: &'static [&'static str] = &[
        "underprov_accuracy_pct",
        "overprov_accuracy_pct",
        "underprov_timeshare_pct",
        "overprov_timeshare_pct",
        "jitter_per_h",
        "regret_usd",
        "bound_usd",
    ];
}

/// One row of the file, as its writer defines it.
pub(crate) type AggregateRecord = crate::layout::AggregateRow;

impl Columns for AggregateRecord {
    const OPTIONAL: &'static [&'static str] = &[
        "underprov_accuracy_mean",
        "overprov_accuracy_mean",
        "underprov_timeshare_mean",
        "overprov_timeshare_mean",
        "jitter_mean",
        "bound_mean",
    ];
}

/// One row of the file, as its writer defines it.
pub(crate) type CurveRecord = crate::agent::CurveRow;

impl Columns for CurveRecord {}

/// Reads every row of `path`, checking the header first.
///
/// # Errors
/// [`PlotError::MissingFile`], [`PlotError::Io`],
/// [`PlotError::MissingColumns`], [`PlotError::BadRow`] (with the line and
/// column) or [`PlotError::NoRows`].
pub(crate) fn read_rows<T: Columns>(path: &Path) -> Result<Vec<T>, PlotError> {
    let mut reader = open(path)?;
    let header = headers(&mut reader, path)?;
    let missing: Vec<String> = T::required()
        .into_iter()
        .filter(|c| !header.iter().any(|h| h == *c))
        .map(|c| c.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(PlotError::MissingColumns {
            path: path.to_path_buf(),
            columns: missing,
        });
    }
    let mut rows = Vec::new();
    for result in reader.deserialize::<T>() {
        rows.push(result.map_err(|e| bad_row(path, &header, &e))?);
    }
    if rows.is_empty() {
        return Err(PlotError::NoRows(path.to_path_buf()));
    }
    Ok(rows)
}

/// The header of a CSV file.
///
/// # Errors
/// As [`read_rows`], for the header only.
pub(crate) fn read_header(path: &Path) -> Result<Vec<String>, PlotError> {
    let mut reader = open(path)?;
    headers(&mut reader, path)
}

fn open(path: &Path) -> Result<csv::Reader<std::fs::File>, PlotError> {
    if !path.is_file() {
        return Err(PlotError::MissingFile(path.to_path_buf()));
    }
    let file = std::fs::File::open(path).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(csv::Reader::from_reader(file))
}

fn headers(reader: &mut csv::Reader<std::fs::File>, path: &Path) -> Result<Vec<String>, PlotError> {
    let header = reader
        .headers()
        .map_err(|e| bad_row(path, &[], &e))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect::<Vec<_>>();
    Ok(header)
}

fn bad_row(path: &Path, header: &[String], e: &csv::Error) -> PlotError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let column = err
                .field()
                .and_then(|i| header.get(i as usize))
                .map_or_else(String::new, |c| format!("column `{c}`: "));
            format!("{column}{}", err.kind())
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        _ => e.to_string(),
    };
    PlotError::BadRow {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// One row of a sweep's `aggregate.csv`: where it sits in the grid and its
/// mean score.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SweepRecord {
    /// Policy name (empty when the file has no `policy` column).
    pub policy: String,
    /// Trace name (empty when the file has no `trace` column).
    pub trace: String,
    /// The value of each `param_` column, as written.
    pub params: Vec<String>,
    /// Mean score, USD.
    pub score_mean: f64,
}

/// A sweep aggregate: the swept keys (without `param_`) and the rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SweepTable {
    /// The `section.key` of each `param_` column, in column order.
    pub params: Vec<String>,
    /// Rows in file order.
    pub rows: Vec<SweepRecord>,
}

/// The `param_` columns of a header, in order.
pub(crate) fn param_columns(header: &[String]) -> Vec<usize> {
    header
        .iter()
        .enumerate()
        .filter(|(_, h)| h.starts_with("param_") && h.len() > "param_".len())
        .map(|(i, _)| i)
        .collect()
}

/// Reads a sweep's `aggregate.csv`.
///
/// # Errors
/// As [`read_rows`]; a file without `param_` columns or `score_mean` is a
/// [`PlotError::MissingColumns`].
pub(crate) fn read_sweep(path: &Path) -> Result<SweepTable, PlotError> {
    let mut reader = open(path)?;
    let header = headers(&mut reader, path)?;
    let params = param_columns(&header);
    let score = header.iter().position(|h| h == "score_mean");
    let (score, missing) = match (score, params.is_empty()) {
        (Some(s), false) => (s, Vec::new()),
        (s, no_params) => {
            let mut missing = Vec::new();
            if no_params {
                missing.push("param_<section.key>".to_string());
            }
            if s.is_none() {
                missing.push("score_mean".to_string());
            }
            (0, missing)
        }
    };
    if !missing.is_empty() {
        return Err(PlotError::MissingColumns {
            path: path.to_path_buf(),
            columns: missing,
        });
    }
    let policy = header.iter().position(|h| h == "policy");
    let trace = header.iter().position(|h| h == "trace");
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad_row(path, &header, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .unwrap_or_default()
                .to_string()
        };
        let raw = record.get(score).unwrap_or_default();
        let score_mean = raw.trim().parse::<f64>().map_err(|_| PlotError::BadRow {
            path: path.to_path_buf(),
            line,
            message: format!("column `score_mean`: `{raw}` is not a number"),
        })?;
        rows.push(SweepRecord {
            policy: field(policy),
            trace: field(trace),
            params: params.iter().map(|&i| field(Some(i))).collect(),
            score_mean,
        });
    }
    if rows.is_empty() {
        return Err(PlotError::NoRows(path.to_path_buf()));
    }
    Ok(SweepTable {
        params: params
            .iter()
            .map(|&i| header[i]["param_".len()..].to_string())
            .collect(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::StepInfo;
    use crate::metrics::{to_csv, Totals};

    fn step(step: u64, latency: Option<f64>) -> StepInfo {
        StepInfo {
            step,
            time_s: 60.0 * step as f64,
            arrivals: 600.0,
            served: 600.0,
            dropped: 0.0,
            backlog: 0.0,
            vms_running: 2,
            vms_booting: 1,
            capacity_rps: 20.0,
            utilization: 0.5,
            latency_mean_s: latency,
            latency_p95_s: latency.map(|l| 3.0 * l),
            slo_violations: 1.5,
            cost_usd: 0.01,
            penalty_usd: 0.001,
            reward: -0.011,
            target_vms: 3,
            demand_vms: Some(2),
        }
    }

    #[test]
    fn the_writers_files_read_back_into_the_mirrors() {
        let dir = tempfile::tempdir().unwrap();
        let steps = dir.path().join("steps.csv");
        std::fs::write(
            &steps,
            to_csv(&[step(0, None), step(1, Some(0.2))]).unwrap(),
        )
        .unwrap();
        let rows: Vec<StepRecord> = read_rows(&steps).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].latency_mean_s, None);
        assert_eq!(rows[1].latency_p95_s, Some(0.6000000000000001));
        assert_eq!((rows[1].vms_running, rows[1].target_vms), (2, 3));

        let mut totals = Totals::new(60.0);
        totals.add(&step(0, Some(0.1)), 2);
        let summary = dir.path().join("summary.csv");
        std::fs::write(
            &summary,
            to_csv(&[totals.summary("static", "t", 4)]).unwrap(),
        )
        .unwrap();
        let rows: Vec<SummaryRecord> = read_rows(&summary).unwrap();
        assert_eq!((rows[0].policy.as_str(), rows[0].seed), ("static", 4));
        assert_eq!(rows[0].regret_usd, None);
        // every mirrored column is written by the writer
        let header = read_header(&summary).unwrap();
        assert_eq!(header, crate::schema::columns::<SummaryRecord>());
        for c in SummaryRecord::required() {
            assert!(header.iter().any(|h| h == c), "{c}");
        }
        // Every column but the optional last, added later.
        let header = read_header(&steps).unwrap();
        assert_eq!(header[..header.len() - 1], *StepRecord::required());
        assert_eq!(header.last().unwrap(), "demand_vms");
    }

    #[test]
    fn a_missing_column_is_named_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("learning_curve.csv");
        std::fs::write(&path, "episode,trace,reward\n0,a,-1\n").unwrap();
        let err = read_rows::<CurveRecord>(&path).unwrap_err().to_string();
        assert!(err.contains("learning_curve.csv"), "{err}");
        assert!(err.contains("epsilon") && err.contains("mean_vms"), "{err}");
    }

    #[test]
    fn a_bad_value_is_reported_with_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("learning_curve.csv");
        std::fs::write(
            &path,
            "episode,trace,epsilon,reward,cost_usd,penalty_usd,violations,violation_rate,mean_vms\n\
             0,a,1,-1,1,0,0,0,2\n\
             1,a,0.9,oops,1,0,0,0,2\n",
        )
        .unwrap();
        let err = read_rows::<CurveRecord>(&path).unwrap_err().to_string();
        assert!(err.contains("learning_curve.csv:3"), "{err}");
        assert!(err.contains("`reward`"), "{err}");
    }

    #[test]
    fn empty_and_garbage_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steps.csv");
        for bytes in [
            &b""[..],
            b"\xff\xfe\x00",
            b"step\n",
            b"a,b\n1\n",
            b"\"unterminated",
        ] {
            std::fs::write(&path, bytes).unwrap();
            assert!(read_rows::<StepRecord>(&path).is_err());
            assert!(read_sweep(&path).is_err());
        }
        let err = read_rows::<StepRecord>(&dir.path().join("none.csv")).unwrap_err();
        assert!(err.to_string().contains("none.csv"), "{err}");
    }

    #[test]
    fn a_sweep_aggregate_gives_its_params_and_scores() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aggregate.csv");
        std::fs::write(
            &path,
            "policy,trace,param_cloud.boot_s,param_policy.upper,runs,score_mean\n\
             threshold,t,60,0.7,2,1.5\n\
             threshold,t,60,0.8,2,1.25\n",
        )
        .unwrap();
        let table = read_sweep(&path).unwrap();
        assert_eq!(table.params, ["cloud.boot_s", "policy.upper"]);
        assert_eq!(table.rows[1].params, ["60", "0.8"]);
        assert_eq!(table.rows[1].score_mean, 1.25);
        std::fs::write(&path, "policy,score_mean\na,1\n").unwrap();
        let err = read_sweep(&path).unwrap_err().to_string();
        assert!(err.contains("param_"), "{err}");
    }
}
