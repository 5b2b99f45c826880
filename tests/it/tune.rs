//! `qscale tune` through the binary.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use qscale::config::Config;

use crate::support::{qscale, read_csv, same_files, stderr_of_refusal, stdout_of_success};

/// `qscale tune` of the threshold rule on tiny.toml, without training
/// traces or `--out`.
fn tune_threshold() -> Command {
    let mut cmd = qscale();
    cmd.args(["tune", "--policy", "threshold"])
        .args(["--config", "tests/data/tiny.toml"]);
    cmd
}

fn tune(out: &Path, extra: &[&str]) -> String {
    stdout_of_success(
        tune_threshold()
            .args(["--set", "experiment.train_traces=[\"tests/data/tiny.csv\"]"])
            .args(["--set", "experiment.seeds=[1, 2]"])
            .args(extra)
            .arg("--out")
            .arg(out),
    )
}

/// `objective.csv` as (column name → value) maps, one per candidate.
fn objective(out: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let (header, rows) = read_csv(&out.join("objective.csv"));
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

fn number(row: &std::collections::HashMap<String, String>, key: &str) -> f64 {
    row[key].parse().unwrap()
}

#[test]
fn tuning_threshold_on_a_training_trace_finds_parameters_no_worse_than_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let stdout = tune(&out, &[]);
    assert!(stdout.contains("200 combinations"), "{stdout}");
    let rows = objective(&out);
    assert_eq!(rows.len(), 200);
    let best = rows.iter().find(|r| r["rank"] == "1").unwrap();
    let default = rows.iter().find(|r| r["is_default"] == "true").unwrap();
    assert_eq!(
        (
            default["param_policy.upper"].as_str(),
            default["param_policy.lower"].as_str()
        ),
        ("0.8", "0.3")
    );
    assert!(number(best, "score_mean") <= number(default, "score_mean"));
    for r in &rows {
        assert!(number(best, "score_mean") <= number(r, "score_mean"));
    }
    // The defaults run on their own scores exactly what their cell scored.
    let default_scores: Vec<f64> = crate::support::column(&out.join("defaults.csv"), "score_usd")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(default_scores.len(), 2);
    let mean = (default_scores[0] + default_scores[1]) / 2.0;
    assert!((mean - number(default, "score_mean")).abs() <= 1e-12 * mean.max(1.0));

    // tuned.toml is a config fragment holding the best row's values.
    let tuned = out.join("tuned.toml");
    let text = fs::read_to_string(&tuned).unwrap();
    assert!(text.contains("[policy]\n"), "{text}");
    let cfg = Config::load(Some(&tuned), &[]).unwrap();
    let p = &cfg.policy.threshold;
    assert!([0.6, 0.7, 0.8, 0.9, 0.95].contains(&p.upper), "{text}");
    assert!([0.1, 0.2, 0.3, 0.4, 0.5].contains(&p.lower), "{text}");
    assert!(
        [1, 2].contains(&p.step) && [1, 2].contains(&p.periods),
        "{text}"
    );
    assert!([0.0, 300.0].contains(&p.cooldown_s), "{text}");
    assert_eq!(p.upper, number(best, "param_policy.upper"));
    assert_eq!(p.lower, number(best, "param_policy.lower"));
    for file in [
        "aggregate.csv",
        "best.md",
        "summary.csv",
        "sweep.toml",
        "config.toml",
    ] {
        assert!(out.join(file).exists(), "{file}");
    }

    // The printed --set flags make `compare` reproduce the tuned score on
    // the same trace and seeds.
    let flags = stdout
        .lines()
        .find_map(|l| l.strip_prefix("reproduce: "))
        .unwrap();
    let sets: Vec<&str> = flags.split(' ').filter(|s| *s != "--set").collect();
    let cmp = dir.path().join("cmp");
    let mut cmd = qscale();
    cmd.args(["compare", "--config", "tests/data/tiny.toml", "--no-steps"])
        .args(["--set", "experiment.seeds=[1, 2]"])
        .args(["--set", "experiment.policies=[\"threshold\"]"]);
    for s in &sets {
        cmd.args(["--set", s]);
    }
    cmd.arg("--out").arg(&cmp).assert().success();
    let (_, agg) = read_csv(&cmp.join("aggregate.csv"));
    let got: f64 = agg[0][3].parse().unwrap();
    let want = number(best, "score_mean");
    assert!(
        (got - want).abs() <= 1e-12 * want.max(1.0),
        "{got} vs {want}"
    );
}

#[test]
fn tuning_twice_gives_identical_files_whatever_the_jobs() {
    let dir = tempfile::tempdir().unwrap();
    tune(&dir.path().join("a"), &["--jobs", "1"]);
    tune(&dir.path().join("b"), &["--jobs", "2"]);
    same_files(
        &dir.path().join("a"),
        &dir.path().join("b"),
        &[
            "tuned.toml",
            "objective.csv",
            "aggregate.csv",
            "defaults.csv",
            "best.md",
        ],
    );
}

#[test]
fn invalid_combinations_are_skipped_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let args = [
        "--no-builtin-grid",
        "--set",
        "policy.upper=0.5,0.7",
        "--set",
        "policy.lower=0.3,0.6",
    ];
    let stdout = tune(&out, &args);
    // 0.5/0.6 is invalid; the defaults (0.8/0.3) are added.
    assert!(
        stdout
            .contains("4 combinations (3 of 4 in the grid, 1 invalid skipped, the defaults added)"),
        "{stdout}"
    );
    assert_eq!(objective(&out).len(), 4);
    let again = tune(&out, &args);
    assert!(again.contains("ran 0, 8 already finished"), "{again}");
}

#[test]
fn tuning_without_training_traces_exits_2_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let err = stderr_of_refusal(&mut tune_threshold(), &dir.path().join("t"));
    assert!(err.contains("experiment.train_traces"), "{err}");
    assert!(err.contains("cheating"), "{err}");
}
