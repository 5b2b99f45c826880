//! `qscale run` and `qscale trace gen` through the binary.

use std::fs;

use crate::support::{column, data, qscale, read_csv, stderr_of_refusal};

const STEP_COLUMNS: &str = "step,time_s,arrivals,served,dropped,backlog,vms_running,vms_booting,capacity_rps,utilization,latency_mean_s,latency_p95_s,slo_violations,cost_usd,penalty_usd,reward,target_vms,demand_vms";

#[test]
fn run_writes_steps_summary_and_config_with_the_documented_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    qscale()
        .args(["run", "--config", "tests/data/tiny.toml", "--out"])
        .arg(&out)
        .assert()
        .success();
    let (header, rows) = read_csv(&out.join("steps.csv"));
    assert_eq!(header.join(","), STEP_COLUMNS);
    assert_eq!(rows.len(), 30);
    let (header, rows) = read_csv(&out.join("summary.csv"));
    for col in [
        "policy",
        "trace",
        "seed",
        "cost_usd",
        "penalty_usd",
        "score_usd",
        "requests",
        "violations",
        "violation_rate",
        "drops",
        "mean_vms",
        "max_vms",
        "vm_hours",
        "scaling_actions",
    ] {
        assert!(header.iter().any(|h| h == col), "summary.csv lacks {col}");
    }
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "threshold");
    assert_eq!(rows[0][2], "7");
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        config.contains("[agent]") && config.contains("vm_capacity_rps = 10"),
        "{config}"
    );
}

#[test]
fn per_step_costs_add_up_to_the_summary_and_requests_are_conserved() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    qscale()
        .args(["run", "--config", "tests/data/tiny.toml", "--out"])
        .arg(&out)
        .assert()
        .success();
    let sum = |col: &str| -> f64 {
        column(&out.join("steps.csv"), col)
            .iter()
            .map(|v| v.parse::<f64>().unwrap())
            .sum()
    };
    let total = |col: &str| -> f64 { column(&out.join("summary.csv"), col)[0].parse().unwrap() };
    // Amounts are written to 12 significant digits (see csv_number).
    for col in ["cost_usd", "penalty_usd"] {
        let (sum, total) = (sum(col), total(col));
        assert!((sum - total).abs() <= 1e-11 * total.abs().max(1.0), "{col}");
    }
    let arrivals = sum("arrivals");
    let backlog: f64 = column(&out.join("steps.csv"), "backlog")
        .last()
        .unwrap()
        .parse()
        .unwrap();
    let balance = sum("served") + sum("dropped") + backlog;
    assert!((arrivals - balance).abs() <= 1e-9 * arrivals);
}

#[test]
fn the_same_config_and_seed_give_byte_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        qscale()
            .args([
                "run",
                "--config",
                "tests/data/tiny.toml",
                "--seed",
                "11",
                "--out",
            ])
            .arg(dir.path().join(name))
            .assert()
            .success();
    }
    for file in ["steps.csv", "summary.csv", "config.toml"] {
        let a = fs::read(dir.path().join("a").join(file)).unwrap();
        let b = fs::read(dir.path().join("b").join(file)).unwrap();
        assert!(a == b, "{file} differs between identical runs");
    }
}

#[test]
fn two_vms_at_constant_load_report_the_mm2_mean_latency() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    qscale()
        .args([
            "run",
            "--policy",
            "threshold",
            "--trace",
            "tests/data/const150.csv",
        ])
        .args([
            "--set",
            "cloud.min_vms=2",
            "--set",
            "cloud.max_vms=2",
            "--set",
            "cloud.initial_vms=2",
        ])
        .args([
            "--set",
            "cloud.vm_capacity_rps=100",
            "--set",
            "workload.noise=none",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    // M/M/2, λ = 150, μ = 100: a = 1.5, ρ = 0.75, C = a²/(2(1−ρ)) / (1 + a + a²/(2(1−ρ))) = 4.5 / 7 = 0.642857...
    // W = 1/μ + C/(cμ − λ) = 0.01 + 0.642857/50.
    let c = 4.5 / 7.0;
    let w = 0.01 + c / 50.0;
    for v in column(&out.join("steps.csv"), "latency_mean_s") {
        let got: f64 = v.parse().unwrap();
        assert!((got - w).abs() <= 1e-6 * w, "{got} vs {w}");
    }
}

#[test]
fn a_malformed_trace_line_exits_2_naming_the_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    for (file, line) in [("malformed.csv", ":3:2"), ("negative.csv", ":4:2")] {
        let err = stderr_of_refusal(
            qscale()
                .args(["run", "--policy", "static", "--trace"])
                .arg(data(file)),
            &out,
        );
        assert!(err.contains(&format!("{file}{line}")), "{err}");
        assert!(err.contains("requests"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary folder left behind"
    );
}

#[test]
fn an_unknown_config_key_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    fs::write(&config, "[cloud]\nmax_vms = 4\nboot_seconds = 3\n").unwrap();
    let err = stderr_of_refusal(
        qscale()
            .args(["run", "--trace", "tests/data/tiny.csv", "--config"])
            .arg(&config),
        &dir.path().join("r"),
    );
    assert!(
        err.contains("boot_seconds") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn impossible_bounds_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let err = stderr_of_refusal(
        qscale()
            .args(["run", "--trace", "tests/data/tiny.csv"])
            .args(["--set", "cloud.min_vms=5", "--set", "cloud.max_vms=3"]),
        &dir.path().join("r"),
    );
    assert!(
        err.contains("cloud.min_vms = 5") && err.contains("cloud.max_vms = 3"),
        "{err}"
    );
}

#[test]
fn an_existing_results_folder_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("mine.txt"), "keep").unwrap();
    qscale()
        .args(["run", "--config", "tests/data/tiny.toml", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    assert_eq!(fs::read_to_string(out.join("mine.txt")).unwrap(), "keep");
    qscale()
        .args([
            "run",
            "--config",
            "tests/data/tiny.toml",
            "--force",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    assert!(out.join("steps.csv").exists() && !out.join("mine.txt").exists());
}

#[test]
fn a_missing_trace_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = stderr_of_refusal(
        qscale().args(["run", "--trace", "tests/data/nope.csv"]),
        &dir.path().join("r"),
    );
    assert!(err.contains("nope.csv"), "{err}");
}

#[test]
fn trace_gen_is_seeded_and_readable_by_run() {
    let dir = tempfile::tempdir().unwrap();
    let gen = |name: &str, seed: &str| {
        let path = dir.path().join(name);
        qscale()
            .args([
                "trace", "gen", "--kind", "bursty", "--hours", "3", "--seed", seed, "--out",
            ])
            .arg(&path)
            .assert()
            .success();
        fs::read(path).unwrap()
    };
    assert_eq!(gen("a.csv", "5"), gen("b.csv", "5"));
    assert_ne!(gen("a2.csv", "5"), gen("c.csv", "6"));
    qscale()
        .args(["run", "--policy", "static", "--trace"])
        .arg(dir.path().join("a.csv"))
        .arg("--out")
        .arg(dir.path().join("r"))
        .assert()
        .success();
    assert_eq!(column(&dir.path().join("r/steps.csv"), "step").len(), 180);
}

#[test]
fn run_help_lists_every_policy_kind() {
    let out = qscale().args(["run", "--help"]).assert().success();
    let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for kind in qscale::config::PolicyKind::ALL {
        assert!(
            help.contains(kind.name()),
            "run --help lacks {kind}:\n{help}"
        );
    }
}

#[test]
fn commands_that_write_a_folder_default_to_runs_command_config() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(data("tiny.toml"), dir.path().join("tiny.toml")).unwrap();
    fs::copy(data("tiny.csv"), dir.path().join("tiny.csv")).unwrap();
    qscale()
        .current_dir(dir.path())
        .args(["compare", "--config", "tiny.toml", "--jobs", "1"])
        .assert()
        .success();
    assert!(dir.path().join("runs/compare-tiny/summary.md").is_file());
    qscale()
        .current_dir(dir.path())
        .args(["train", "--config", "tiny.toml", "--episodes", "2"])
        .assert()
        .success();
    assert!(dir.path().join("runs/train-tiny/qtable.txt").is_file());
    qscale()
        .current_dir(dir.path())
        .args([
            "evaluate",
            "--qtable",
            "runs/train-tiny",
            "--trace",
            "tiny.csv",
        ])
        .assert()
        .success();
    assert!(dir
        .path()
        .join("runs/evaluate-train-tiny-tiny-seed7/steps.csv")
        .is_file());
}

#[test]
fn jobs_must_be_at_least_one_on_every_parallel_command() {
    for command in ["compare", "sweep", "crossval", "tune", "reproduce", "merge"] {
        let out = qscale().args([command, "--jobs", "0"]).assert().code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            err.contains("whole number of worker threads"),
            "{command}: {err}"
        );
    }
}
