//! `qscale compare` through the binary.

use std::fs;

use crate::support::{qscale, read_csv};

fn compare(out: &std::path::Path, threads: &str) {
    qscale()
        .env("RAYON_NUM_THREADS", threads)
        .args(["compare", "--config", "tests/data/tiny.toml"])
        .args([
            "--set",
            "experiment.seeds=[1, 2, 3]",
            "--set",
            "experiment.policies=[\"static\", \"threshold\"]",
            "--all-steps",
        ])
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

#[test]
fn compare_writes_runs_summaries_and_aggregates_that_agree() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    compare(&out, "2");
    let (header, runs) = read_csv(&out.join("summary.csv"));
    assert_eq!(runs.len(), 6);
    let score = header.iter().position(|h| h == "score_usd").unwrap();
    let (agg_header, agg) = read_csv(&out.join("aggregate.csv"));
    assert_eq!(
        agg_header.join(","),
        "policy,trace,runs,score_mean,score_sd,score_ci95,cost_mean,penalty_mean,violation_rate_mean,drops_mean,mean_vms_mean,underprov_accuracy_mean,overprov_accuracy_mean,underprov_timeshare_mean,overprov_timeshare_mean,jitter_mean,regret_mean,bound_mean"
    );
    assert_eq!(agg.len(), 2);
    for (i, row) in agg.iter().enumerate() {
        let scores: Vec<f64> = runs[3 * i..3 * i + 3]
            .iter()
            .map(|r| r[score].parse().unwrap())
            .collect();
        let mean = scores.iter().sum::<f64>() / 3.0;
        let got: f64 = row[3].parse().unwrap();
        assert!(
            // Written to 12 significant digits (see csv_number).
            (got - mean).abs() <= 1e-11 * mean.abs().max(1.0),
            "{got} vs {mean}"
        );
        assert_eq!(row[2], "3");
    }
    for policy in ["static", "threshold"] {
        for seed in 1..=3 {
            let run = out.join(format!("runs/{policy}/tiny/seed-{seed}"));
            assert!(run.join("steps.csv").exists() && run.join("summary.csv").exists());
        }
    }
    let md = fs::read_to_string(out.join("summary.md")).unwrap();
    assert_eq!(
        md.matches("**").count(),
        4,
        "one best row per trace, two bold cells: {md}"
    );
}

#[test]
fn compare_output_does_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    compare(&dir.path().join("one"), "1");
    compare(&dir.path().join("two"), "2");
    for file in [
        "summary.csv",
        "aggregate.csv",
        "summary.md",
        "runs/threshold/tiny/seed-2/steps.csv",
    ] {
        let a = fs::read(dir.path().join("one").join(file)).unwrap();
        let b = fs::read(dir.path().join("two").join(file)).unwrap();
        assert!(a == b, "{file} differs");
    }
}

#[test]
fn compare_keeps_steps_for_the_first_seed_unless_all_steps_is_given_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        qscale()
            .args(["compare", "--config", "tests/data/tiny.toml"])
            .args(["--set", "experiment.seeds=[4, 2]"])
            .args(["--set", "experiment.policies=[\"threshold\"]"])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let seed = |n: u64| out.join(format!("runs/threshold/tiny/seed-{n}"));
        assert!(seed(4).join("summary.csv").is_file() && seed(2).join("summary.csv").is_file());
        (
            seed(4).join("steps.csv").is_file(),
            seed(2).join("steps.csv").is_file(),
        )
    };
    assert_eq!(run("default", &[]), (true, false));
    assert_eq!(run("all", &["--all-steps"]), (true, true));
    assert_eq!(run("none", &["--no-steps"]), (false, false));
    assert_eq!(run("old", &["--first-seed-steps"]), (true, false));
}

/// Issue #19: in every committed comparison (results/), no policy scores
/// below the certified lower bound of its trace and seed.
#[test]
fn no_committed_score_is_below_its_lower_bound() {
    let mut checked = 0;
    let mut stack = vec![std::path::PathBuf::from("results")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "summary.csv") {
                let (header, rows) = read_csv(&path);
                let (Some(score), Some(bound)) = (
                    header.iter().position(|h| h == "score_usd"),
                    header.iter().position(|h| h == "bound_usd"),
                ) else {
                    continue;
                };
                for row in rows.iter().filter(|r| !r[bound].is_empty()) {
                    let (s, b): (f64, f64) =
                        (row[score].parse().unwrap(), row[bound].parse().unwrap());
                    assert!(s >= b, "{}: score {s} below the bound {b}", path.display());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 100, "only {checked} rows with a bound");
}
