//! Golden outputs: the exact bytes of a few runs, kept from before the
//! step loop was optimised, so speed-ups can never change a number.
//! To update them on purpose: `UPDATE_GOLDEN=1 cargo test --release --test it golden`
//! and review the diff.

use std::fs;
use std::path::Path;

use crate::support::qscale;

fn golden(name: &str, actual: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        expected == actual,
        "{name} differs from tests/golden/{name}"
    );
}

fn run(args: &[&str], files: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    qscale()
        .args(args)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    for (file, name) in files {
        golden(name, &fs::read(out.join(file)).unwrap());
    }
}

#[test]
fn threshold_on_the_tiny_trace_matches_its_golden_steps() {
    run(
        &["run", "--config", "tests/data/tiny.toml", "--seed", "7"],
        &[
            ("steps.csv", "tiny_threshold_steps.csv"),
            ("summary.csv", "tiny_threshold_summary.csv"),
        ],
    );
}

#[test]
fn hourly_billing_with_boot_delays_matches_its_golden_steps() {
    run(
        &[
            "run",
            "--policy",
            "threshold",
            "--trace",
            "traces/step-6h.csv",
            "--seed",
            "3",
            "--set",
            "cloud.billing=per-hour",
            "--set",
            "cloud.boot_s=150",
            "--set",
            "policy.cooldown_s=60",
            "--set",
            "cloud.vm_capacity_rps=12",
        ],
        &[("steps.csv", "step6h_hourly_steps.csv")],
    );
}

#[test]
fn agent_training_matches_its_golden_curve_and_table() {
    run(
        &[
            "train",
            "--set",
            "experiment.train_traces=[\"traces/step-6h.csv\"]",
            "--set",
            "experiment.test_traces=[\"tests/data/tiny.csv\"]",
            "--set",
            "agent.episodes=25",
            "--set",
            "cloud.max_vms=12",
            "--seed",
            "5",
        ],
        &[
            ("learning_curve.csv", "step6h_learning_curve.csv"),
            ("qtable.txt", "step6h_qtable.txt"),
            ("evaluation.csv", "step6h_evaluation.csv"),
        ],
    );
}
