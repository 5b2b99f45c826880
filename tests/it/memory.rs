//! Memory that depends on the model, not on the trace's length (issue 18):
//! `run` streams steps.csv to disk as the run goes.

/// The peak resident memory of a running child, in bytes, read from
/// `/proc/PID/status` until it exits (`VmHWM` only grows, so the last
/// reading is the peak up to a few milliseconds before exit).
#[cfg(target_os = "linux")]
fn peak_memory_of(mut child: std::process::Child) -> (std::process::ExitStatus, u64) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status, peak_kb * 1024);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

#[test]
#[cfg(target_os = "linux")]
fn a_million_step_run_needs_far_less_memory_than_its_steps_csv() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("long.csv");
    // 280 hours at 1 s: 1,008,000 steps.
    crate::support::qscale()
        .args(["trace", "gen", "--kind", "diurnal", "--hours", "280"])
        .args(["--interval-s", "1", "--no-noise", "--out"])
        .arg(&trace)
        .assert()
        .success();
    let out = dir.path().join("run");
    let bin = assert_cmd::cargo::cargo_bin!("qscale");
    let child = std::process::Command::new(bin)
        .args(["run", "--policy", "threshold", "--set", "workload.step_s=1"])
        .args(["--set", "workload.noise=none", "--trace"])
        .arg(&trace)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (status, peak) = peak_memory_of(child);
    assert!(status.success());
    let steps = std::fs::metadata(out.join("steps.csv")).unwrap().len();
    assert_eq!(
        crate::support::read_csv(&out.join("summary.csv")).1.len(),
        1
    );
    // Kept in memory, the steps took about 2x their CSV's size (350 MB here
    // before streaming); streamed, the run needs the trace and the model.
    assert!(
        peak < steps / 4,
        "peak memory {peak} bytes for a steps.csv of {steps} bytes"
    );
}
