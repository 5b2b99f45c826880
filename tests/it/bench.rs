//! `qscale bench --against`: this binary against another, in one run.
//! Only the form of the output is checked: rates are timings, which
//! belong in reports, not in tests.

use crate::support::{qscale, stdout_of_success};

#[test]
fn bench_against_a_binary_prints_a_ratio_for_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> =
        stdout_of_success(
            qscale()
                .current_dir(dir.path())
                .args(["bench", "--seconds", "0.01"]),
        )
        .lines()
        .filter_map(|l| l.split_once('=').map(|(name, _)| name.to_string()))
        .collect();
    assert!(names.len() >= 5, "{names:?}");
    let this = assert_cmd::cargo::cargo_bin!("qscale");
    let out = stdout_of_success(qscale().current_dir(dir.path()).args([
        "bench",
        "--against",
        this.to_str().unwrap(),
        "--rounds",
        "2",
        "--seconds",
        "0.01",
    ]));
    let mut compared = Vec::new();
    for line in out.lines().filter(|l| !l.starts_with('#')) {
        let (name, rest) = line.split_once(": this/other ").expect(line);
        let ratio: f64 = rest.split_whitespace().next().unwrap().parse().expect(line);
        assert!(ratio.is_finite() && ratio > 0.0, "{line}");
        compared.push(name.to_string());
    }
    // The same binary on both sides: every figure compared, none left over.
    assert_eq!(compared, names, "{out}");
    assert!(!out.contains("only"), "{out}");
    assert!(out.starts_with("# this binary against "), "{out}");
}

#[test]
fn bench_against_a_missing_binary_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-qscale");
    let out = qscale()
        .args(["bench", "--against", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no-such-qscale") && stderr.contains("no such file"),
        "{stderr}"
    );
}
