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

/// Conservation step by step: `backlog_in + arrivals = served + dropped +
/// backlog_out`, in whole requests.
fn assert_conserved(steps: &Path) {
    let arrivals = numbers(steps, "arrivals");
    let served = numbers(steps, "served");
    let dropped = numbers(steps, "dropped");
    let backlog = numbers(steps, "backlog");
    let mut carried = 0.0;
    for k in 0..arrivals.len() {
        assert_eq!(
            carried + arrivals[k],
            served[k] + dropped[k] + backlog[k],
            "{}: step {k}",
            steps.display()
        );
        carried = backlog[k];
    }
}

#[test]
fn random_boots_and_per_vm_queues_conserve_requests_and_repeat_per_seed() {
    // The real SDSC trace at a peak of 200 req/s (10 VMs' worth), HPA,
    // log-normal boots around 100 s, behind each balancer.
    let dir = tempfile::tempdir().unwrap();
    let sdsc = "traces/sdsc-aug95.csv";
    let mut latencies = Vec::new();
    for balancer in ["shared", "round-robin", "jsq"] {
        let b = format!("cloud.balancer=\"{balancer}\"");
        let sets = [
            "workload.peak_rps=200",
            "cloud.model=\"des\"",
            "cloud.boot=\"log-normal\"",
            "cloud.boot_spread_s=60",
            &b,
        ];
        let a = run(dir.path(), &format!("{balancer}-a"), "hpa", sdsc, &sets);
        let again = run(dir.path(), &format!("{balancer}-b"), "hpa", sdsc, &sets);
        let steps = a.join("steps.csv");
        assert_eq!(
            std::fs::read(&steps).unwrap(),
            std::fs::read(again.join("steps.csv")).unwrap(),
            "{balancer}"
        );
        assert_conserved(&steps);
        latencies.push(column(&steps, "latency_mean_s"));
    }
    // The balancer matters.
    assert_ne!(latencies[0], latencies[1]);
    assert_ne!(latencies[1], latencies[2]);
    // Another seed draws other boots.
    let sets = [
        "workload.peak_rps=200",
        "cloud.boot=\"uniform\"",
        "cloud.boot_spread_s=90",
    ];
    let a = run(dir.path(), "seed3", "hpa", sdsc, &sets);
    let out = dir.path().join("seed4");
    let mut cmd = qscale();
    cmd.args(["run", "--policy", "hpa", "--trace", sdsc, "--seed", "4"]);
    for set in sets {
        cmd.args(["--set", set]);
    }
    cmd.arg("--out").arg(&out).assert().success();
    assert_conserved(&out.join("steps.csv"));
    assert_ne!(
        column(&a.join("steps.csv"), "vms_booting"),
        column(&out.join("steps.csv"), "vms_booting")
    );
}

#[test]
fn drawn_boots_spread_the_ready_steps_and_a_zero_spread_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sdsc = "traces/sdsc-aug95.csv";
    let fixed = run(dir.path(), "fixed", "hpa", sdsc, &["workload.peak_rps=200"]);
    // Uniform with no spread draws every boot as boot_s: the run is the
    // fixed one, byte for byte (the draws touch no other stream).
    let zero = run(
        dir.path(),
        "zero",
        "hpa",
        sdsc,
        &[
            "workload.peak_rps=200",
            "cloud.boot=\"uniform\"",
            "cloud.boot_spread_s=0",
        ],
    );
    let bytes = |p: &Path| std::fs::read(p.join("steps.csv")).unwrap();
    assert_eq!(bytes(&fixed), bytes(&zero));
    let spread = run(
        dir.path(),
        "spread",
        "hpa",
        sdsc,
        &[
            "workload.peak_rps=200",
            "cloud.boot=\"empirical\"",
            "cloud.boot_samples_s=[30, 100, 400]",
        ],
    );
    assert_ne!(bytes(&fixed), bytes(&spread));
    assert_conserved(&spread.join("steps.csv"));
}

#[test]
fn impossible_boot_and_balancer_settings_exit_2_naming_the_key() {
    for (sets, key) in [
        (vec!["cloud.boot_spread_s=-1"], "cloud.boot_spread_s"),
        (
            vec!["cloud.boot=\"uniform\"", "cloud.boot_spread_s=150"],
            "cloud.boot_spread_s",
        ),
        (vec!["cloud.boot=\"empirical\""], "cloud.boot_samples_s"),
        (
            vec!["cloud.boot=\"empirical\"", "cloud.boot_samples_s=[90, -5]"],
            "cloud.boot_samples_s",
        ),
        (vec!["cloud.boot=\"gamma\""], "cloud.boot"),
        (vec!["cloud.balancer=\"jsq\""], "cloud.balancer"),
        (
            vec!["cloud.model=\"des\"", "cloud.balancer=\"random\""],
            "cloud.balancer",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = qscale();
        cmd.args(["run", "--policy", "hpa", "--trace", "traces/sdsc-aug95.csv"]);
        for set in &sets {
            cmd.args(["--set", set]);
        }
        let out = cmd.arg("--out").arg(dir.path().join("o")).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(stderr.contains(key), "{sets:?}: {stderr}");
    }
}
