//! Helpers shared by the integration tests.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use assert_cmd::Command;

/// The binary, run from the repository root (where tests/data/ lives).
pub fn qscale() -> Command {
    let mut cmd = cargo_bin_cmd!("qscale");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// A path in tests/data/.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Reads a CSV into a header and rows of fields.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// The value of `column` in every row.
pub fn column(path: &Path, column: &str) -> Vec<String> {
    let (header, rows) = read_csv(path);
    let i = header.iter().position(|h| h == column).unwrap();
    rows.into_iter().map(|mut r| r.swap_remove(i)).collect()
}

/// Runs `cmd`, expects success and returns its stdout.
pub fn stdout_of_success(cmd: &mut Command) -> String {
    let assert = cmd.assert().success();
    String::from_utf8_lossy(&assert.get_output().stdout).to_string()
}

/// Runs `cmd` with `--out out`, expects exit code 2 and no `out` left
/// behind, and returns its stderr.
pub fn stderr_of_refusal(cmd: &mut Command, out: &Path) -> String {
    let assert = cmd.arg("--out").arg(out).assert().code(2);
    assert!(!out.exists(), "{} was written", out.display());
    String::from_utf8_lossy(&assert.get_output().stderr).to_string()
}

/// Asserts that `files` are byte-identical under the folders `a` and `b`.
pub fn same_files(a: &Path, b: &Path, files: &[&str]) {
    for f in files {
        let x = fs::read(a.join(f)).unwrap_or_else(|e| panic!("{}: {e}", a.join(f).display()));
        let y = fs::read(b.join(f)).unwrap_or_else(|e| panic!("{}: {e}", b.join(f).display()));
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// The fields of a step that are counts, rates or charges: each must be
/// finite and non-negative.
pub fn counts_and_charges(step: &qscale::cloud::StepInfo) -> [(&'static str, f64); 9] {
    [
        ("arrivals", step.arrivals),
        ("served", step.served),
        ("dropped", step.dropped),
        ("backlog", step.backlog),
        ("capacity_rps", step.capacity_rps),
        ("utilization", step.utilization),
        ("slo_violations", step.slo_violations),
        ("cost_usd", step.cost_usd),
        ("penalty_usd", step.penalty_usd),
    ]
}
