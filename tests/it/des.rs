//! The request-level model (`cloud.model = "des"`) through the binary, on
//! the bundled NASA trace: requests conserved exactly, deterministic per
//! seed, the same columns as the analytic model, close to it where the
//! analytic model holds.

use std::path::Path;

use crate::support::{column, qscale, read_csv};

/// Runs `policy` on `trace` with `sets` applied; returns the output
/// folder.
fn run(dir: &Path, name: &str, policy: &str, trace: &str, sets: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let mut cmd = qscale();
    cmd.args(["run", "--policy", policy, "--trace", trace])
        .args(["--seed", "3", "--out"])
        .arg(&out);
    for set in sets {
        cmd.args(["--set", set]);
    }
    cmd.assert().success();
    out
}

fn numbers(path: &Path, name: &str) -> Vec<f64> {
    column(path, name)
        .iter()
        .map(|v| v.parse().unwrap())
        .collect()
}

#[test]
fn des_conserves_every_request_and_repeats_itself() {
    let dir = tempfile::tempdir().unwrap();
    // A month of NASA August at a peak of 60 req/s (about 47 million
    // requests), with bursty service times.
    let nasa = "traces/nasa-aug95.csv";
    let des = [
        "workload.peak_rps=60",
        "cloud.model=\"des\"",
        "cloud.service=\"log-normal\"",
        "cloud.service_cv=2",
    ];
    let a = run(dir.path(), "a", "hpa", nasa, &des);
    let b = run(dir.path(), "b", "hpa", nasa, &des);
    let steps = a.join("steps.csv");
    assert_eq!(
        std::fs::read(&steps).unwrap(),
        std::fs::read(b.join("steps.csv")).unwrap()
    );
    let arrivals = numbers(&steps, "arrivals");
    let served = numbers(&steps, "served");
    let dropped = numbers(&steps, "dropped");
    let backlog = numbers(&steps, "backlog");
    let mut carried = 0.0;
    for k in 0..arrivals.len() {
        assert_eq!(arrivals[k].fract(), 0.0, "step {k}: whole requests");
        assert_eq!(
            carried + arrivals[k],
            served[k] + dropped[k] + backlog[k],
            "step {k}"
        );
        carried = backlog[k];
    }
    // Same files, same columns as the analytic model.
    let analytic = run(dir.path(), "analytic", "hpa", nasa, &des[..1]);
    for file in ["steps.csv", "summary.csv"] {
        assert_eq!(
            read_csv(&a.join(file)).0,
            read_csv(&analytic.join(file)).0,
            "{file}"
        );
    }
}

#[test]
fn on_a_comfortable_fleet_des_and_analytic_agree_on_cost_and_latency() {
    // A static fleet sized for the peak at 70 % on two diurnal days: the
    // analytic model's steady-state M/M/c holds, so the two models must
    // agree closely.
    let dir = tempfile::tempdir().unwrap();
    let trace = "traces/diurnal-test-2d.csv";
    let analytic = run(dir.path(), "analytic", "static", trace, &[]);
    let des = run(dir.path(), "des", "static", trace, &["cloud.model=\"des\""]);
    let summary = |p: &Path, c: &str| numbers(&p.join("summary.csv"), c)[0];
    assert_eq!(summary(&analytic, "cost_usd"), summary(&des, "cost_usd"));
    assert_eq!(summary(&analytic, "requests"), summary(&des, "requests"));
    let mean = |p: &Path| {
        let l = numbers(&p.join("steps.csv"), "latency_mean_s");
        l.iter().sum::<f64>() / l.len() as f64
    };
    let (a, d) = (mean(&analytic), mean(&des));
    assert!(
        (d / a - 1.0).abs() < 0.02,
        "mean latency: analytic {a}, des {d}"
    );
}
