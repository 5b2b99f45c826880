//! Helpers shared by the integration tests.

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
