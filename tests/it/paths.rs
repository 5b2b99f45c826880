//! Paths inside a config file are relative to its folder; paths on the
//! command line (`--trace`, `--set`) to the working directory; commands
//! that need the bundled traces run from any folder (issue #18).

use std::fs;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use assert_cmd::Command;

use crate::support::{data, qscale, same_files, stdout_of_success};

/// The binary, run from `dir`.
fn qscale_in(dir: &Path) -> Command {
    let mut cmd = cargo_bin_cmd!("qscale");
    cmd.current_dir(dir);
    cmd
}

/// `root/exp/c.toml` naming `../data/t.csv` (a copy of tests/data/tiny.csv)
/// as its workload, compared traces and training traces; `root/else/where/`
/// is an unrelated working directory (where `../data/t.csv` does not exist).
fn layout(root: &Path, extra: &str) -> std::path::PathBuf {
    fs::create_dir_all(root.join("exp")).unwrap();
    fs::create_dir_all(root.join("data")).unwrap();
    fs::create_dir_all(root.join("else/where")).unwrap();
    fs::copy(data("tiny.csv"), root.join("data/t.csv")).unwrap();
    let config = root.join("exp/c.toml");
    fs::write(
        &config,
        format!(
            "[workload]\ntrace = \"../data/t.csv\"\n[cloud]\nvm_capacity_rps = 10\nmax_vms = 8\n\
             [agent]\nepisodes = 3\n[experiment]\nseeds = [1, 2]\npolicies = [\"threshold\"]\n\
             traces = [\"../data/t.csv\"]\ntrain_traces = [\"../data/t.csv\"]\n{extra}"
        ),
    )
    .unwrap();
    config
}

#[test]
fn a_config_with_relative_paths_runs_from_another_folder_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    layout(root, "");
    let elsewhere = root.join("else/where");
    stdout_of_success(qscale_in(&elsewhere).args([
        "run",
        "--config",
        "../../exp/c.toml",
        "--out",
        "r",
    ]));
    stdout_of_success(qscale_in(&elsewhere).args([
        "compare",
        "--config",
        "../../exp/c.toml",
        "--out",
        "cmp",
    ]));
    // The results folder's config.toml loads and reruns from any folder,
    // giving the same results.
    let written = fs::read_to_string(elsewhere.join("r/config.toml")).unwrap();
    assert!(
        written.contains("trace = \"../../../data/t.csv\""),
        "{written}"
    );
    stdout_of_success(
        qscale()
            .arg("run")
            .arg("--config")
            .arg(elsewhere.join("r/config.toml"))
            .arg("--out")
            .arg(root.join("again")),
    );
    same_files(
        &elsewhere.join("r"),
        &root.join("again"),
        &["summary.csv", "steps.csv"],
    );
    stdout_of_success(
        qscale()
            .arg("compare")
            .arg("--config")
            .arg(elsewhere.join("cmp/config.toml"))
            .arg("--out")
            .arg(root.join("cmp-again")),
    );
    same_files(
        &elsewhere.join("cmp"),
        &root.join("cmp-again"),
        &["summary.csv", "aggregate.csv"],
    );
    stdout_of_success(qscale_in(root).args(["plot", "else/where/cmp", "--format", "svg"]));
}

#[test]
fn paths_given_by_trace_and_set_stay_relative_to_the_working_directory_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    layout(root, "");
    stdout_of_success(qscale_in(root).args([
        "run",
        "--config",
        "exp/c.toml",
        "--trace",
        "data/t.csv",
        "--out",
        "r1",
    ]));
    stdout_of_success(qscale_in(root).args([
        "run",
        "--config",
        "exp/c.toml",
        "--set",
        "workload.trace=\"data/t.csv\"",
        "--out",
        "r2",
    ]));
    // Relative to exp/, neither exists.
    let assert = qscale_in(root)
        .args([
            "run",
            "--config",
            "exp/c.toml",
            "--set",
            "workload.trace=\"../data/t.csv\"",
            "--out",
            "r3",
        ])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(err.contains("../data/t.csv"), "{err}");
}

#[test]
fn a_missing_trace_in_a_config_is_named_by_its_resolved_path_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("exp")).unwrap();
    fs::write(
        root.join("exp/c.toml"),
        "[workload]\ntrace = \"gone.csv\"\n",
    )
    .unwrap();
    let assert = qscale_in(root)
        .args(["run", "--config", "exp/c.toml", "--out", "r"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(err.contains("exp/gone.csv"), "{err}");
    assert!(
        err.starts_with("error: ") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!root.join("r").exists());
}

#[test]
fn a_sweep_of_a_config_in_another_folder_resumes_and_merges_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    layout(root, "");
    let elsewhere = root.join("else/where");
    let sweep = |out: &str, shard: &str| {
        stdout_of_success(qscale_in(&elsewhere).args([
            "sweep",
            "--config",
            "../../exp/c.toml",
            "--set",
            "policy.upper=0.7,0.9",
            "--shard",
            shard,
            "--out",
            out,
        ]))
    };
    sweep("s1", "1/2");
    sweep("s2", "2/2");
    let again = sweep("s1", "1/2");
    assert!(again.contains("ran 0, skipped 2 finished"), "{again}");
    stdout_of_success(qscale_in(root).args([
        "merge",
        "else/where/s1",
        "else/where/s2",
        "--out",
        "merged",
    ]));
    // A merged cell's config.toml still names the trace.
    let cell = root.join("merged/cells/policy.upper-0.7/seed-1/config.toml");
    stdout_of_success(
        qscale()
            .arg("run")
            .arg("--config")
            .arg(&cell)
            .arg("--out")
            .arg(root.join("cell-run")),
    );
}

#[test]
fn bench_runs_from_any_folder_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        stdout_of_success(qscale_in(dir.path()).args(["bench", "--seconds", "0.01", "--json"]));
    assert!(
        out.contains("\"env_steps_per_s\"") && out.contains("\"sweep_cells_per_s"),
        "{out}"
    );
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "bench wrote into the working directory"
    );
}
