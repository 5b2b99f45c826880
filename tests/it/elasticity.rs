//! The SPEC RG elasticity columns of `summary.csv`, recomputed from the
//! run's own `steps.csv` (its `demand_vms` column checked too).

use qscale::elasticity::Demand;

use crate::support::{qscale, read_csv};

#[test]
fn summary_elasticity_columns_follow_from_the_steps() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    qscale()
        .args(["run", "--config", "tests/data/tiny.toml", "--out"])
        .arg(&out)
        .assert()
        .success();
    let (header, steps) = read_csv(&out.join("steps.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (running, demanded) = (col("vms_running"), col("demand_vms"));
    // The demand follows the trace's counts (one-minute rows, as the
    // steps), not the run's Poisson draws.
    let expected = crate::support::column(std::path::Path::new("tests/data/tiny.csv"), "requests");
    assert_eq!(expected.len(), steps.len());
    let drawn = col("arrivals");
    assert!(steps.iter().zip(&expected).any(|(r, e)| r[drawn] != *e));
    // tests/data/tiny.toml: servers of 10 req/s, the default 0.5 s SLO,
    // one-minute steps.
    let mut demand = Demand::new(10.0, 0.5, 60.0);
    let (mut under, mut over, mut under_n, mut over_n) = (0.0, 0.0, 0, 0);
    let (mut changes, mut last): (i64, Option<(u32, u32)>) = (0, None);
    for (row, expected) in steps.iter().zip(&expected) {
        let d: u32 = row[demanded].parse().unwrap();
        assert_eq!(Some(d), demand.of(expected.parse().unwrap()));
        let s: u32 = row[running].parse().unwrap();
        let (d_f, s_f) = (f64::from(d), f64::from(s));
        if d > s {
            under += (d_f - s_f) / d_f.max(1.0);
            under_n += 1;
        }
        if s > d {
            over += (s_f - d_f) / d_f.max(1.0);
            over_n += 1;
        }
        if let Some((d0, s0)) = last {
            changes += i64::from(s != s0) - i64::from(d != d0);
        }
        last = Some((d, s));
    }
    let n = steps.len() as f64;
    let (sh, summary) = read_csv(&out.join("summary.csv"));
    let get = |name: &str| -> f64 {
        let i = sh.iter().position(|h| h == name).unwrap();
        summary[0][i].parse().unwrap()
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    assert!(close(get("underprov_accuracy_pct"), 100.0 * under / n));
    assert!(close(get("overprov_accuracy_pct"), 100.0 * over / n));
    assert!(close(
        get("underprov_timeshare_pct"),
        100.0 * f64::from(under_n) / n
    ));
    assert!(close(
        get("overprov_timeshare_pct"),
        100.0 * f64::from(over_n) / n
    ));
    assert!(close(get("jitter_per_h"), changes as f64 / (n / 60.0)));
    // The threshold rule both lags the load and overshoots it on this trace.
    assert!(under_n > 0 && over_n > 0, "{under_n} {over_n}");
}

#[test]
fn an_unreachable_slo_leaves_the_columns_empty() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // e^{−10·0.2} = 0.135: the service time alone misses a 0.2 s p95.
    let said = qscale()
        .args([
            "run",
            "--config",
            "tests/data/tiny.toml",
            "--set",
            "cloud.slo_s=0.2",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let said = String::from_utf8_lossy(&said.get_output().stdout).into_owned();
    assert!(said.contains("elasticity metrics undefined"), "{said}");
    let demand = crate::support::column(&out.join("steps.csv"), "demand_vms");
    assert!(
        demand.iter().any(String::is_empty),
        "a step with arrivals has no demand"
    );
    let (header, rows) = read_csv(&out.join("summary.csv"));
    for name in [
        "underprov_accuracy_pct",
        "overprov_accuracy_pct",
        "underprov_timeshare_pct",
        "overprov_timeshare_pct",
        "jitter_per_h",
    ] {
        let i = header.iter().position(|h| h == name).unwrap();
        assert_eq!(rows[0][i], "", "{name}");
    }
}
