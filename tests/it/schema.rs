//! Every CSV qscale writes has the columns of the row type that writes it
//! (`qscale::schema::columns`), checked on the committed outputs in
//! results/ and tests/golden/: a header and its row type cannot disagree.

use std::path::{Path, PathBuf};

use qscale::schema::columns;

/// The row type's columns for a results file, by its name; `None` for a
/// file that is not a qscale table.
fn expected_columns(path: &Path) -> Option<&'static [&'static str]> {
    let name = path.file_name()?.to_str()?;
    let base = name.rsplit('_').next().unwrap_or(name);
    Some(match (name, base) {
        (_, "steps.csv") => columns::<qscale::cloud::StepInfo>(),
        ("summary.csv" | "evaluation.csv" | "defaults.csv", _) => {
            columns::<qscale::metrics::SummaryRow>()
        }
        (_, "summary.csv" | "evaluation.csv") => columns::<qscale::metrics::SummaryRow>(),
        (_, "aggregate.csv") => columns::<qscale::layout::AggregateRow>(),
        (_, "curve.csv") if name.ends_with("learning_curve.csv") => {
            columns::<qscale::agent::CurveRow>()
        }
        ("crossval.csv", _) => columns::<qscale::layout::CrossvalRow>(),
        ("tuned.csv", _) => columns::<qscale::study::crossval::TunedRow>(),
        ("validate.csv", _) => columns::<qscale::study::validate::ValidateRow>(),
        ("scores.csv", _) => columns::<qscale::study::validate::ScoreRow>(),
        _ => return None,
    })
}

fn csv_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            csv_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "csv") {
            out.push(path);
        }
    }
}

#[test]
fn every_committed_csv_header_is_its_row_types_fields() {
    let mut files = Vec::new();
    csv_files(Path::new("results"), &mut files);
    csv_files(Path::new("tests/golden"), &mut files);
    files.sort();
    let mut checked = 0;
    let mut unknown = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap_or("").split(',').collect();
        // Sweep and tune tables start with one column per swept key.
        let own: Vec<&str> = header
            .iter()
            .copied()
            .skip_while(|c| c.starts_with("param_"))
            .collect();
        match expected_columns(path) {
            Some(expected) => {
                assert_eq!(own, expected, "{}", path.display());
                checked += 1;
            }
            None => unknown.push(path.display().to_string()),
        }
    }
    assert!(checked > 100, "only {checked} files checked");
    // objective.csv (tune) has its own row type, checked in its module.
    unknown.retain(|p| !p.ends_with("objective.csv"));
    assert!(
        unknown.is_empty(),
        "CSVs without a known row type: {unknown:?}"
    );
}
