//! SIGINT (Ctrl-C) during `run`, `train` and `sweep`: the process exits
//! with code 130 and one `error:` line, removes every temporary file and
//! folder, keeps what was finished (a sweep's cells), and the same command
//! then resumes and gives what an uninterrupted run gives.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::qscale;

/// Starts the binary from the repository root with `args`.
fn spawn(args: &[&str], out: &Path) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin!("qscale"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `ready` holds (or the child ends, or a minute passes).
fn wait_until(child: &mut Child, what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the command ended ({status}) before {what}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends SIGINT and returns the exit code and stderr.
fn interrupt(child: Child) -> (Option<i32>, String) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every path under `dir` whose name marks it temporary.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains(".tmp") || name.starts_with(".tmp-") {
                found.push(e.path());
            }
            if e.path().is_dir() {
                stack.push(e.path());
            }
        }
    }
    found
}

fn assert_clean_interrupt(code: Option<i32>, stderr: &str, parent: &Path) {
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("error: interrupted"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let left = temporaries(parent);
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// A temporary results folder next to `target` exists.
fn has_temp_folder(parent: &Path, name: &str) -> bool {
    fs::read_dir(parent).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!(".{name}.tmp-"))
        })
    })
}

#[test]
fn sigint_during_train_removes_the_half_written_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trained");
    let mut child = spawn(
        &[
            "train",
            "--config",
            "experiments/agent-diurnal.toml",
            "--episodes",
            "100000",
        ],
        &out,
    );
    wait_until(&mut child, "training started", || {
        has_temp_folder(dir.path(), "trained")
    });
    let (code, stderr) = interrupt(child);
    assert_clean_interrupt(code, &stderr, dir.path());
    assert!(!out.exists(), "nothing finished, so nothing is kept");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn sigint_during_run_removes_the_half_written_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // A learner trains before it runs: long enough to be interrupted.
    let mut child = spawn(
        &[
            "run",
            "--config",
            "experiments/agent-diurnal.toml",
            "--policy",
            "qlearning",
            "--set",
            "agent.episodes=100000",
        ],
        &out,
    );
    wait_until(&mut child, "the run started", || {
        has_temp_folder(dir.path(), "run")
    });
    let (code, stderr) = interrupt(child);
    assert_clean_interrupt(code, &stderr, dir.path());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

const SWEEP: [&str; 13] = [
    "sweep",
    "--config",
    "experiments/agent-diurnal.toml",
    "--set",
    "experiment.policies=[\"qlearning\"]",
    "--set",
    "experiment.seeds=[1]",
    "--set",
    "agent.episodes=20",
    "--set",
    "agent.prior_visits=10:120:10",
    "--jobs",
    "1",
];

/// The finished cells of a sweep folder.
fn finished_cells(out: &Path) -> Vec<PathBuf> {
    let mut cells = Vec::new();
    for combo in fs::read_dir(out.join("cells"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if combo.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        for seed in fs::read_dir(combo.path()).into_iter().flatten().flatten() {
            cells.push(seed.path());
        }
    }
    cells.sort();
    cells
}

#[test]
fn sigint_during_a_sweep_keeps_finished_cells_and_the_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let mut child = spawn(&SWEEP, &out);
    wait_until(&mut child, "two cells finished", || {
        finished_cells(&out).len() >= 2
    });
    let (code, stderr) = interrupt(child);
    assert_clean_interrupt(code, &stderr, dir.path());

    // What was finished is intact; the aggregate was never written.
    let kept = finished_cells(&out);
    assert!(
        kept.len() >= 2 && kept.len() < 12,
        "{} cells kept",
        kept.len()
    );
    let kept_bytes: Vec<Vec<u8>> = kept
        .iter()
        .map(|c| fs::read(c.join("summary.csv")).unwrap())
        .collect();
    for cell in &kept {
        let text = fs::read_to_string(cell.join("summary.csv")).unwrap();
        assert!(text.starts_with("policy,trace,seed,"), "{text}");
        assert!(cell.join("config.toml").is_file());
    }
    assert!(!out.join("aggregate.csv").exists());

    // The same command resumes: it skips the finished cells and completes.
    let resumed = qscale()
        .args(SWEEP)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let said = String::from_utf8_lossy(&resumed.get_output().stdout).into_owned();
    assert!(
        said.contains(&format!("skipped {} finished", kept.len())),
        "{said}"
    );
    for (cell, before) in kept.iter().zip(&kept_bytes) {
        assert_eq!(&fs::read(cell.join("summary.csv")).unwrap(), before);
    }
    assert_eq!(finished_cells(&out).len(), 12);

    // ... and ends where an uninterrupted sweep ends, byte for byte.
    let whole = dir.path().join("whole");
    qscale()
        .args(SWEEP)
        .arg("--out")
        .arg(&whole)
        .assert()
        .success();
    for file in ["aggregate.csv", "summary.csv", "best.md", "sweep.toml"] {
        assert!(
            fs::read(out.join(file)).unwrap() == fs::read(whole.join(file)).unwrap(),
            "{file} differs after an interrupted and resumed sweep"
        );
    }
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn the_registry_lists_a_results_folder_only_while_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    let listed = |p: &Path| {
        qscale::output::listed_temporaries()
            .iter()
            .any(|t| t.starts_with(p))
    };
    let out = qscale::output::OutputDir::create(&target, false).unwrap();
    assert!(listed(dir.path()));
    out.write("a.csv", b"1").unwrap();
    out.commit().unwrap();
    assert!(!listed(dir.path()));
    let dropped = qscale::output::OutputDir::create(&target, true).unwrap();
    assert!(listed(dir.path()));
    drop(dropped);
    assert!(!listed(dir.path()));
    assert_eq!(fs::read(target.join("a.csv")).unwrap(), b"1");
    assert!(temporaries(dir.path()).is_empty());
}
