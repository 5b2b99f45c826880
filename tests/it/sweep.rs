//! `qscale sweep` and `qscale merge` through the binary.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{column, qscale, read_csv, same_files, stdout_of_success};

/// The threshold rule on tiny.toml over 3 × 3 parameter combinations and 3
/// seeds, plus `extra`; returns stdout.
fn sweep(out: &Path, extra: &[&str]) -> String {
    stdout_of_success(
        qscale()
            .args(["sweep", "--config", "tests/data/tiny.toml"])
            .args(["--set", "experiment.seeds=[1, 2, 3]"])
            .args(["--set", "experiment.policies=[\"threshold\"]"])
            .args(["--set", "policy.upper=0.7,0.8,0.9"])
            .args(["--set", "policy.cooldown_s=0:600:300"])
            .args(extra)
            .arg("--out")
            .arg(out),
    )
}

const OUTPUTS: [&str; 4] = ["aggregate.csv", "summary.csv", "best.md", "sweep.toml"];

#[test]
fn one_and_two_jobs_give_byte_identical_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(&dir.path().join("j1"), &["--jobs", "1"]);
    assert!(out.contains("27 cells (9 combinations x 3 seeds)"), "{out}");
    sweep(&dir.path().join("j2"), &["--jobs", "2"]);
    same_files(&dir.path().join("j1"), &dir.path().join("j2"), &OUTPUTS);
    let (header, rows) = read_csv(&dir.path().join("j1/aggregate.csv"));
    assert_eq!(
        &header[..3],
        ["param_policy.upper", "param_policy.cooldown_s", "policy"]
    );
    assert_eq!(rows.len(), 9);
    assert_eq!((rows[1][0].as_str(), rows[1][1].as_str()), ("0.7", "300"));
}

#[test]
fn merged_shards_equal_the_unsharded_sweep() {
    let dir = tempfile::tempdir().unwrap();
    sweep(&dir.path().join("all"), &[]);
    let mut shards = Vec::new();
    for i in 1..=3 {
        let d = dir.path().join(format!("shard{i}"));
        let out = sweep(&d, &["--shard", &format!("{i}/3")]);
        assert!(out.contains("9 cells"), "{out}");
        assert!(!d.join("aggregate.csv").exists());
        shards.push(d);
    }
    qscale()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(dir.path().join("merged"))
        .assert()
        .success();
    same_files(
        &dir.path().join("all"),
        &dir.path().join("merged"),
        &OUTPUTS,
    );
    let cell = "cells/policy.upper-0.8_policy.cooldown_s-300/seed-2";
    same_files(
        &dir.path().join("all"),
        &dir.path().join("merged"),
        &[
            &format!("{cell}/summary.csv"),
            &format!("{cell}/config.toml"),
        ],
    );
    // A missing shard is named, not silently aggregated.
    let assert = qscale()
        .arg("merge")
        .args(&shards[..2])
        .arg("--out")
        .arg(dir.path().join("partial"))
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(err.contains("missing cell"), "{err}");
    assert!(
        !dir.path().join("partial").exists(),
        "a failed merge leaves nothing behind"
    );
}

#[test]
fn the_confidence_interval_of_a_tiny_sweep_matches_a_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    sweep(&out, &[]);
    // The first combination's three seeds, from summary.csv.
    let scores: Vec<f64> = column(&out.join("summary.csv"), "score_usd")[..3]
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    let mean = (scores[0] + scores[1] + scores[2]) / 3.0;
    let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / 2.0;
    let ci = 4.303 * var.sqrt() / 3f64.sqrt(); // t(0.975, 2) = 4.303
    let (_, rows) = read_csv(&out.join("aggregate.csv"));
    let got_mean: f64 = rows[0][5].parse().unwrap();
    let got_ci: f64 = rows[0][7].parse().unwrap();
    assert!(
        (got_mean - mean).abs() <= 1e-12 * mean.abs(),
        "{got_mean} vs {mean}"
    );
    assert!(
        (got_ci - ci).abs() <= 1e-9 * ci.abs().max(1e-12),
        "{got_ci} vs {ci}"
    );
    assert!(ci > 0.0, "noise should make seeds differ");
}

#[test]
fn a_killed_sweep_resumes_without_rerunning_finished_cells() {
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &Path| -> Vec<String> {
        [
            "sweep",
            "--config",
            "experiments/agent-diurnal.toml",
            "--jobs",
            "1",
            "--set",
            "experiment.seeds=[1, 2]",
            "--set",
            "experiment.policies=[\"qlearning\"]",
            "--set",
            "agent.episodes=15",
            "--set",
            "agent.prior_visits=0,10,30,100,300",
            "--set",
            "agent.gamma=0.9,0.95",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
    };
    let reference = dir.path().join("reference");
    qscale().args(args(&reference)).assert().success();

    let out = dir.path().join("killed");
    let bin = assert_cmd::cargo::cargo_bin!("qscale");
    let mut child = std::process::Command::new(bin)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args(&out))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let finished = |out: &Path| -> Vec<std::path::PathBuf> {
        let mut cells = Vec::new();
        if let Ok(combos) = fs::read_dir(out.join("cells")) {
            for c in combos
                .flatten()
                .filter(|c| !c.file_name().to_string_lossy().starts_with('.'))
            {
                for s in fs::read_dir(c.path()).unwrap().flatten() {
                    cells.push(s.path());
                }
            }
        }
        cells
    };
    let start = Instant::now();
    while finished(&out).len() < 3 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done = finished(&out);
    assert!(
        done.len() >= 3 && done.len() < 20,
        "killed after {} of 20 cells",
        done.len()
    );
    let stamp = fs::metadata(done[0].join("summary.csv"))
        .unwrap()
        .modified()
        .unwrap();

    let stdout = stdout_of_success(qscale().args(args(&out)));
    let skipped: usize = stdout
        .split("skipped ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(skipped >= done.len(), "{stdout}");
    assert_eq!(
        fs::metadata(done[0].join("summary.csv"))
            .unwrap()
            .modified()
            .unwrap(),
        stamp
    );
    same_files(&reference, &out, &OUTPUTS);
    let leftovers = fs::read_dir(out.join("cells"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(leftovers, 0, "temporary cell folders are cleaned up");
}

#[test]
fn a_cell_written_before_the_elasticity_columns_still_merges() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    sweep(&out, &[]);
    let (full_header, _) = read_csv(&out.join("summary.csv"));
    // Rewrite one cell as a version without the five elasticity columns
    // wrote it.
    let cell = fs::read_dir(out.join("cells"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("seed-1/summary.csv");
    let (header, rows) = read_csv(&cell);
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !header[i].contains("prov_") && header[i] != "jitter_per_h")
        .collect();
    assert_eq!(keep.len(), header.len() - 5);
    let line = |r: &[String]| {
        keep.iter()
            .map(|&i| r[i].as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    fs::write(&cell, format!("{}\n{}\n", line(&header), line(&rows[0]))).unwrap();
    // Every cell is done: the rerun only merges.
    sweep(&out, &[]);
    let (merged_header, merged) = read_csv(&out.join("summary.csv"));
    assert_eq!(merged_header, full_header);
    assert!(merged.iter().all(|r| r.len() == merged_header.len()));
    let theta = merged_header
        .iter()
        .position(|h| h == "underprov_accuracy_pct")
        .unwrap();
    assert_eq!(merged.iter().filter(|r| r[theta].is_empty()).count(), 1);
}

#[test]
fn an_axis_no_policy_of_the_sweep_reads_is_refused_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |policies: &str, axis: &str| -> String {
        let out = dir.path().join("s");
        let assert = qscale()
            .args(["sweep", "--config", "tests/data/tiny.toml"])
            .args(["--set", &format!("experiment.policies={policies}")])
            .args(["--set", axis])
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        assert!(!out.exists(), "{} was written", out.display());
        String::from_utf8_lossy(&assert.get_output().stderr).to_string()
    };
    let err = refused("[\"threshold\", \"oracle\"]", "agent.alpha=0.1,0.2");
    assert!(
        err.contains("sweep axis agent.alpha is read by no policy")
            && err.contains("qlearning only")
            && err.contains("runs threshold, oracle"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let err = refused("[\"oracle\"]", "policy.upper=0.7,0.8");
    assert!(
        err.contains("policy.upper") && err.contains("runs oracle"),
        "{err}"
    );
    // The default learning-rate schedule reads prior_visits, not alpha.
    let err = refused("[\"qlearning\"]", "agent.alpha=0.1,0.2");
    assert!(
        err.contains("sweep axis agent.alpha is unused") && err.contains("prior-counts"),
        "{err}"
    );
    // Every policy reads [cloud]; the rules read [policy].
    stdout_of_success(
        qscale()
            .args(["sweep", "--config", "tests/data/tiny.toml"])
            .args(["--set", "experiment.policies=[\"oracle\"]"])
            .args(["--set", "cloud.boot_s=0,60"])
            .arg("--out")
            .arg(dir.path().join("ok")),
    );
}

/// Two sweeps on one folder (issue 18): the second is refused while the
/// first runs, naming it, and runs once the first is gone.
#[test]
#[cfg(target_os = "linux")]
fn a_folder_locked_by_a_live_process_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let mut other = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let lock = dir.path().join(".sw.lock");
    std::fs::write(&lock, format!("pid={}\nhost={}\n", other.id(), host.trim())).unwrap();
    let refused = qscale()
        .args(["sweep", "--config", "tests/data/tiny.toml"])
        .args(["--set", "policy.upper=0.7,0.8", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        err.contains(&format!("in use by qscale process {} on", other.id())),
        "{err}"
    );
    assert!(!out.join("cells").exists(), "the refused sweep wrote cells");
    other.kill().unwrap();
    other.wait().unwrap();
    // The owner is gone: its lock is taken over, and removed at the end.
    sweep(&out, &[]);
    assert!(out.join("aggregate.csv").is_file());
    assert!(!lock.exists());
}

/// One definition per table (issue 17): a sweep's aggregate.csv and
/// summary.csv have a comparison's columns after the `param_` ones, and a
/// cell's rows are written exactly as the comparison writes them.
#[test]
fn sweep_tables_have_the_columns_and_numbers_of_a_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let swept = dir.path().join("s");
    sweep(&swept, &[]);
    let compared = dir.path().join("c");
    qscale()
        .args(["compare", "--config", "tests/data/tiny.toml"])
        .args(["--set", "experiment.seeds=[1, 2, 3]"])
        .args(["--set", "experiment.policies=[\"threshold\"]"])
        .args([
            "--set",
            "policy.upper=0.8",
            "--set",
            "policy.cooldown_s=300",
        ])
        .arg("--out")
        .arg(&compared)
        .assert()
        .success();
    for table in ["aggregate.csv", "summary.csv"] {
        let (s_header, s_rows) = read_csv(&swept.join(table));
        let (c_header, c_rows) = read_csv(&compared.join(table));
        assert_eq!(&s_header[2..], &c_header[..], "{table}");
        let row = s_rows
            .iter()
            .find(|r| r[0] == "0.8" && r[1] == "300")
            .unwrap();
        assert_eq!(&row[2..], &c_rows[0][..], "{table}");
    }
}
