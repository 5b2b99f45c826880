//! `qscale validate`: the analytic model against the request-level one,
//! through the binary.

use std::path::Path;

use crate::support::{qscale, read_csv, stderr_of_refusal};

/// A config comparing two rules on the bundled flash-crowd day (whose
/// spike overloads a reactive fleet) and the tiny test trace.
fn config(dir: &Path, policies: &str) -> std::path::PathBuf {
    let root = std::env::current_dir().unwrap();
    let text = format!(
        "[workload]\nstep_s = 60\npeak_rps = 200\n\n[cloud]\nmax_vms = 20\n\n\
         [experiment]\nseeds = [1, 2]\npolicies = {policies}\ntraces = [\"{}\", \"{}\"]\n",
        root.join("traces/flash-crowd-day.csv").display(),
        root.join("tests/data/tiny.csv").display(),
    );
    let path = dir.join("validate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn field(header: &[String], row: &[String], name: &str) -> f64 {
    let i = header.iter().position(|h| h == name).unwrap();
    row[i].parse().unwrap()
}

#[test]
fn validate_reports_each_regime_and_the_closed_loop_scores() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "[\"threshold\", \"hpa\"]");
    let out = dir.path().join("v");
    qscale()
        .args(["validate", "--jobs", "2", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let (header, rows) = read_csv(&out.join("validate.csv"));
    assert_eq!(
        header,
        qscale::schema::columns::<qscale::study::validate::ValidateRow>()
    );
    // Per trace and policy, the regimes add up to the row over all steps.
    for trace in ["flash-crowd-day", "tiny"] {
        for policy in ["threshold", "hpa"] {
            let of = |r: &&Vec<String>| r[0] == trace && r[1] == policy;
            let all: Vec<&Vec<String>> = rows.iter().filter(of).filter(|r| r[2] == "all").collect();
            assert_eq!(all.len(), 1, "{trace} {policy}");
            let parts: Vec<&Vec<String>> =
                rows.iter().filter(of).filter(|r| r[2] != "all").collect();
            for column in ["steps", "requests", "violations_des", "drops_analytic"] {
                let sum: f64 = parts.iter().map(|r| field(&header, r, column)).sum();
                let whole = field(&header, all[0], column);
                assert!(
                    (sum - whole).abs() <= 1e-9 * whole.max(1.0),
                    "{trace} {policy} {column}"
                );
            }
        }
    }
    // The flash crowd overloads the reactive rules for a while.
    assert!(rows
        .iter()
        .any(|r| r[0] == "flash-crowd-day" && r[2] == "overload"));
    let (header, scores) = read_csv(&out.join("scores.csv"));
    assert_eq!(
        header,
        qscale::schema::columns::<qscale::study::validate::ScoreRow>()
    );
    assert_eq!(scores.len(), 2 * 2 * 2);
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("| overload |"), "{summary}");
    assert!(out.join("config.toml").is_file());

    // The same bytes with one worker.
    let again = dir.path().join("v1");
    qscale()
        .args(["validate", "--jobs", "1", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    for file in ["validate.csv", "scores.csv", "summary.md"] {
        assert_eq!(
            std::fs::read(out.join(file)).unwrap(),
            std::fs::read(again.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn validate_refuses_a_learned_policy_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "[\"threshold\", \"qlearning\"]");
    let out = dir.path().join("v");
    let stderr = stderr_of_refusal(qscale().args(["validate", "--config"]).arg(&cfg), &out);
    assert!(
        stderr.contains("validate runs rules, not qlearning"),
        "{stderr}"
    );
}

#[test]
fn validate_replays_through_the_configured_balancer() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "[\"hpa\"]");
    let run = |name: &str, sets: &[&str]| {
        let out = dir.path().join(name);
        let mut cmd = qscale();
        cmd.args(["validate", "--config"]).arg(&cfg);
        for set in sets {
            cmd.args(["--set", set]);
        }
        cmd.arg("--out").arg(&out).assert().success();
        std::fs::read_to_string(out.join("scores.csv")).unwrap()
    };
    let shared = run("shared", &[]);
    let round_robin = run(
        "round-robin",
        &["cloud.model=\"des\"", "cloud.balancer=\"round-robin\""],
    );
    // Same analytic scores, other simulated ones.
    assert_ne!(shared, round_robin);
    let analytic = |csv: &str| {
        csv.lines()
            .map(|l| l.split(',').nth(3).unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(analytic(&shared), analytic(&round_robin));
}
