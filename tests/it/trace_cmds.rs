//! `qscale trace import` and `qscale trace stats` through the binary, on
//! the real samples in tests/data/ (see tests/data/SOURCE.md) and the real
//! traces in traces/.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::support::{column, data, qscale, read_csv, stderr_of_refusal};

/// Runs `trace import` with `args` (inputs and flags, without --out) into
/// `dir/out.csv`, expecting success; returns the CSV text, stdout and stderr.
fn import_ok(dir: &Path, args: &[&str]) -> (String, String, String) {
    let out = dir.join("out.csv");
    let _ = fs::remove_file(&out);
    let assert = qscale()
        .args(["trace", "import"])
        .args(args)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let output = assert.get_output();
    (
        fs::read_to_string(&out).unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `trace import` with `args` into `dir/out.csv`, expecting exit
/// code 2 and no output; returns stderr.
fn import_refused(dir: &Path, args: &[&str]) -> String {
    stderr_of_refusal(
        qscale().args(["trace", "import"]).args(args),
        &dir.join("out.csv"),
    )
}

/// The `requests` column of a CSV text.
fn requests(csv_text: &str) -> Vec<f64> {
    csv_text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn clf_import_of_the_first_nasa_july_records_gives_hand_counted_bins() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, stdout, stderr) = import_ok(
        dir.path(),
        &[
            "--format",
            "clf",
            "--interval-s",
            "5",
            "--start",
            "1995-07-01T00:00:00-04:00",
            "tests/data/nasa-jul95.first15.log",
        ],
    );
    // Seconds 01 | 06, 09 | 11, 11, 12, 12, 12, 13, 13, 14, 14, 14 | 15, 15.
    assert_eq!(csv, "timestamp_s,requests\n0,1\n5,2\n10,10\n15,2\n");
    assert!(
        stdout.contains("timestamp_s 0 is 1995-07-01T04:00:00Z (Unix 804571200)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("read 15 lines from 1 file: 15 records counted"),
        "{stdout}"
    );
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn clf_time_zones_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "--format",
        "clf",
        "--interval-s",
        "60",
        "tests/data/clf-zones.log",
    ];
    // Six zones, two requests in each UTC minute 04:00, 04:01, 04:02.
    let (utc, _, _) = import_ok(
        dir.path(),
        &[&base[..], &["--start", "1995-08-01T04:00:00Z"]].concat(),
    );
    assert_eq!(utc, "timestamp_s,requests\n0,2\n60,2\n120,2\n");
    for start in [
        "1995-08-01T00:00:00-04:00",
        "807249600",
        "1995-08-01 06:00+0200",
    ] {
        let (same, _, _) = import_ok(dir.path(), &[&base[..], &["--start", start]].concat());
        assert_eq!(same, utc, "--start {start}");
    }
    // Without --start the first bin is the earliest record's minute.
    let (default, stdout, _) = import_ok(dir.path(), &base);
    assert_eq!(default, utc);
    assert!(stdout.contains("1995-08-01T04:00:00Z"), "{stdout}");
}

#[test]
fn the_first_nasa_august_records_count_per_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, _, _) = import_ok(
        dir.path(),
        &[
            "--format",
            "clf",
            "--interval-s",
            "5",
            "tests/data/nasa-aug95.first10.log",
        ],
    );
    // 00:00:01 | 07, 08, 08, 08, 09 | 10, 10, 10, 11.
    assert_eq!(requests(&csv), vec![1.0, 5.0, 4.0]);
    let (only_304, stdout, _) = import_ok(
        dir.path(),
        &[
            "--format",
            "clf",
            "--interval-s",
            "5",
            "--status",
            "3xx",
            "--method",
            "GET",
            "--start",
            "1995-08-01T00:00:00-04:00",
            "tests/data/nasa-aug95.first10.log",
        ],
    );
    assert_eq!(requests(&only_304), vec![0.0, 4.0, 1.0]);
    assert!(
        stdout.contains("5 records counted, 5 filtered out"),
        "{stdout}"
    );
}

#[test]
fn malformed_lines_are_skipped_and_reported_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--format",
        "clf",
        "--interval-s",
        "5",
        "tests/data/nasa-aug95.first10-with-3-bad-lines.log",
    ];
    let (csv, stdout, stderr) = import_ok(dir.path(), &args);
    assert_eq!(requests(&csv), vec![1.0, 5.0, 4.0]);
    assert!(stdout.contains("read 13 lines"), "{stdout}");
    assert_eq!(
        stderr.trim_end(),
        "skipped 3 malformed lines; first: \
         tests/data/nasa-aug95.first10-with-3-bad-lines.log:4: no `]` closing the timestamp"
    );
}

#[test]
fn strict_makes_the_first_malformed_line_fatal_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = import_refused(
        dir.path(),
        &[
            "--format",
            "clf",
            "--interval-s",
            "5",
            "--strict",
            "tests/data/nasa-aug95.first10-with-3-bad-lines.log",
        ],
    );
    assert!(
        stderr.contains("tests/data/nasa-aug95.first10-with-3-bad-lines.log:4: no `]`"),
        "{stderr}"
    );
}

#[test]
fn gzip_input_is_recognised_by_its_content_not_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let plain = fs::read(data("nasa-jul95.first15.log")).unwrap();
    let packed_path = dir.path().join("access.log");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&plain).unwrap();
    fs::write(&packed_path, enc.finish().unwrap()).unwrap();
    let misnamed = dir.path().join("plain.log.gz");
    fs::write(&misnamed, &plain).unwrap();
    let run = |input: &Path| {
        import_ok(
            dir.path(),
            &[
                "--format",
                "clf",
                "--interval-s",
                "5",
                input.to_str().unwrap(),
            ],
        )
        .0
    };
    let expected = "timestamp_s,requests\n0,1\n5,2\n10,10\n15,2\n";
    assert_eq!(run(&packed_path), expected);
    assert_eq!(run(&misnamed), expected);
}

#[test]
fn standard_input_is_read_for_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    qscale()
        .args([
            "trace",
            "import",
            "--format",
            "clf",
            "--interval-s",
            "5",
            "-",
            "--out",
        ])
        .arg(&out)
        .write_stdin(fs::read(data("nasa-jul95.first15.log")).unwrap())
        .assert()
        .success();
    assert_eq!(
        requests(&fs::read_to_string(&out).unwrap()),
        vec![1.0, 2.0, 10.0, 2.0]
    );
}

#[test]
fn the_sdsc_sample_reproduces_the_first_minutes_of_the_repository_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, stdout, _) = import_ok(
        dir.path(),
        &[
            "--format",
            "sdsc",
            "--interval-s",
            "60",
            "tests/data/sdsc-http.first500.txt",
        ],
    );
    assert!(
        stdout.contains("timestamp_s 0 is 1995-08-22T00:00:00Z"),
        "{stdout}"
    );
    let imported: Vec<&str> = csv.lines().collect();
    let reference = fs::read_to_string("traces/sdsc-aug95.csv").unwrap();
    let reference: Vec<&str> = reference.lines().collect();
    // The sample ends at 00:47:57: header + minutes 0..=46 are complete.
    assert_eq!(imported.len(), 1 + 48);
    assert_eq!(imported[..48], reference[..48]);
    let last =
        |lines: &[&str], i: usize| -> f64 { lines[i].split(',').nth(1).unwrap().parse().unwrap() };
    assert!(last(&imported, 48) <= last(&reference, 48));
    assert_eq!(requests(&csv).iter().sum::<f64>(), 500.0);
}

#[test]
fn the_azure_llm_sample_reproduces_the_first_minutes_of_the_repository_trace_issue_18() {
    // The first 300 requests of the per-request Azure LLM code trace,
    // counted per second, must match the bundled trace, which was built
    // from the whole file by a separate tool (traces/*.SOURCE.md).
    let dir = tempfile::tempdir().unwrap();
    let (csv, stdout, stderr) = import_ok(
        dir.path(),
        &[
            "--format",
            "azure-llm",
            "--interval-s",
            "1",
            "tests/data/azure-llm-code-2023.first300.csv",
        ],
    );
    assert!(
        stdout.contains("timestamp_s 0 is 2023-11-16T18:17:03Z"),
        "{stdout}"
    );
    assert!(!stderr.contains("malformed"), "{stderr}");
    let imported = requests(&csv);
    let reference = requests(&fs::read_to_string("traces/azure-llm-code-2023.csv").unwrap());
    // The sample ends inside second 217 (18:20:40): seconds 0..217 are
    // complete.
    assert_eq!(imported.len(), 218);
    assert_eq!(imported[..217], reference[..217]);
    assert!(imported[217] <= reference[217]);
    assert_eq!(imported.iter().sum::<f64>(), 300.0);
}

#[test]
fn a_native_trace_given_as_azure_llm_names_the_header_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = import_refused(
        dir.path(),
        &[
            "--format",
            "azure-llm",
            "--interval-s",
            "60",
            "traces/azure-llm-code-2023.csv",
        ],
    );
    assert!(
        stderr.contains(
            "traces/azure-llm-code-2023.csv: header is `timestamp_s,requests`, expected \
             `TIMESTAMP,ContextTokens,GeneratedTokens`"
        ),
        "{stderr}"
    );
}

#[test]
fn the_azure_sample_sums_its_functions_per_minute() {
    let dir = tempfile::tempdir().unwrap();
    let table = "tests/data/azure-functions-invitro.first6.csv";
    let (csv, stdout, _) = import_ok(
        dir.path(),
        &["--format", "azure-functions", "--interval-s", "60", table],
    );
    let counts = requests(&csv);
    assert_eq!(counts.len(), 1440);
    // Minute 1: 14 + 0 + 2 + 17 + 94; minute 2: 7 (last function only); ...
    assert_eq!(counts[..6], [127.0, 7.0, 13.0, 10.0, 2.0, 8.0]);
    assert_eq!(counts.iter().sum::<f64>(), 83_777.0);
    assert!(stdout.contains("the input carries no date"), "{stdout}");
    let (five, _, _) = import_ok(
        dir.path(),
        &["--format", "azure-functions", "--interval-s", "300", table],
    );
    assert_eq!(requests(&five)[..3], [159.0, 49.0, 45.0]);
    // One function by its hash.
    let hash = "7aa0f8b221c579f9fab07bea9d93fdcc3c7ea09cfdf281ed97958f148471c6e5";
    let (one, stdout, _) = import_ok(
        dir.path(),
        &[
            "--format",
            "azure-functions",
            "--interval-s",
            "60",
            "--function",
            hash,
            table,
        ],
    );
    assert_eq!(requests(&one)[0], 14.0);
    assert_eq!(requests(&one).iter().sum::<f64>(), 2017.0);
    assert!(
        stdout.contains("1 records counted, 4 filtered out"),
        "{stdout}"
    );
    // Two day files make one two-day series; --start dates it.
    let (two, stdout, _) = import_ok(
        dir.path(),
        &[
            "--format",
            "azure-functions",
            "--interval-s",
            "60",
            "--start",
            "2019-07-15T00:00:00Z",
            table,
            table,
        ],
    );
    let two = requests(&two);
    assert_eq!(two.len(), 2880);
    assert_eq!(two[1440..1446], [127.0, 7.0, 13.0, 10.0, 2.0, 8.0]);
    assert!(
        stdout.contains("timestamp_s 0 is 2019-07-15T00:00:00Z"),
        "{stdout}"
    );
}

#[test]
fn an_interval_finer_than_the_source_resolution_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = import_refused(
        dir.path(),
        &[
            "--format",
            "azure-functions",
            "--interval-s",
            "30",
            "tests/data/azure-functions-invitro.first6.csv",
        ],
    );
    assert!(
        stderr.contains(
            "--interval-s 30 is not a whole multiple of the azure-functions resolution of 60 s"
        ),
        "{stderr}"
    );
}

#[test]
fn wikipedia_pagecounts_sum_per_hour_with_project_and_page_filters() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        "tests/data/pagecounts-20090430-230000",
        "tests/data/pagecounts-20090501-000000",
    ];
    let base = ["--format", "wikipedia-pagecounts", "--interval-s", "3600"];
    let (csv, stdout, stderr) = import_ok(dir.path(), &[&base[..], &files[..]].concat());
    // 997 + 8 + 1 + 37 + 4 + 5; 900 + 120 + 45 + 5000.
    assert_eq!(requests(&csv), vec![1052.0, 6065.0]);
    // pagecounts file names give the end of their hour.
    assert!(
        stdout.contains("timestamp_s 0 is 2009-04-30T22:00:00Z"),
        "{stdout}"
    );
    assert!(
        stderr.contains("skipped 1 malformed line; first: tests/data/pagecounts-20090501-000000:5: expected 4 fields, found 9"),
        "{stderr}"
    );
    let (en, _, _) = import_ok(
        dir.path(),
        &[&base[..], &["--project", "en"], &files[..]].concat(),
    );
    assert_eq!(requests(&en), vec![1052.0, 5900.0]);
    let (page, _, _) = import_ok(
        dir.path(),
        &[&base[..], &["--page", "Barack_Obama"], &files[..]].concat(),
    );
    assert_eq!(requests(&page), vec![997.0, 1065.0]);
    let (both, _, _) = import_ok(
        dir.path(),
        &[
            &base[..],
            &["--project", "en", "--page", "Barack_Obama"],
            &files[..],
        ]
        .concat(),
    );
    assert_eq!(requests(&both), vec![997.0, 900.0]);
}

#[test]
fn the_csv_format_re_bins_a_repository_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, _, _) = import_ok(
        dir.path(),
        &[
            "--format",
            "csv",
            "--interval-s",
            "3600",
            "traces/sdsc-aug95.csv",
        ],
    );
    let minutes: Vec<f64> = column(Path::new("traces/sdsc-aug95.csv"), "requests")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    let hours: Vec<f64> = minutes.chunks(60).map(|c| c.iter().sum()).collect();
    assert_eq!(requests(&csv), hours);
    assert_eq!(hours.iter().sum::<f64>(), 28_338.0);
    // A timestamp,count file with Unix times.
    let instants = dir.path().join("events.csv");
    fs::write(
        &instants,
        "timestamp,count\n809049600,3\n809049659,1\n809049720,2\n",
    )
    .unwrap();
    let (csv, stdout, _) = import_ok(
        dir.path(),
        &[
            "--format",
            "csv",
            "--interval-s",
            "60",
            instants.to_str().unwrap(),
        ],
    );
    assert_eq!(csv, "timestamp_s,requests\n0,4\n60,0\n120,2\n");
    assert!(stdout.contains("1995-08-22T00:00:00Z"), "{stdout}");
}

#[test]
fn an_existing_output_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    fs::write(&out, "keep").unwrap();
    let args = [
        "trace",
        "import",
        "--format",
        "clf",
        "--interval-s",
        "5",
        "tests/data/nasa-jul95.first15.log",
    ];
    qscale().args(args).arg("--out").arg(&out).assert().code(2);
    assert_eq!(fs::read_to_string(&out).unwrap(), "keep");
    qscale()
        .args(args)
        .arg("--out")
        .arg(&out)
        .arg("--force")
        .assert()
        .success();
}

#[test]
fn a_bad_start_time_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = import_refused(
        dir.path(),
        &[
            "--format",
            "clf",
            "--interval-s",
            "60",
            "--start",
            "July 1st",
            "tests/data/nasa-jul95.first15.log",
        ],
    );
    assert!(
        stderr.contains("`July 1st` is neither Unix seconds nor a date"),
        "{stderr}"
    );
}

#[test]
fn an_imported_log_runs_under_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("sdsc.csv");
    qscale()
        .args(["trace", "import", "--format", "sdsc", "--interval-s", "60"])
        .arg("tests/data/sdsc-http.first500.txt")
        .arg("--out")
        .arg(&trace)
        .assert()
        .success();
    let out = dir.path().join("run");
    qscale()
        .args(["run", "--policy", "threshold", "--trace"])
        .arg(&trace)
        .args(["--set", "workload.peak_rps=200", "--out"])
        .arg(&out)
        .assert()
        .success();
    let (_, rows) = read_csv(&out.join("steps.csv"));
    assert_eq!(rows.len(), 48);
}

#[test]
fn trace_stats_on_a_tiny_hand_made_trace() {
    // Six-hour intervals over two days; counts 2160·(1, 2, 4, 2 | 1, 3, 4, 2).
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("stats.csv");
    let assert = qscale()
        .args([
            "trace",
            "stats",
            "tests/data/stats-tiny.csv",
            "tests/data/tiny.csv",
            "--out",
        ])
        .arg(&csv)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("daily_autocorr       0.923"), "{stdout}");
    assert!(stdout.contains("span                2.00 d"), "{stdout}");
    let (header, rows) = read_csv(&csv);
    assert_eq!(
        header.join(","),
        "name,rows,interval_s,span_s,mean_rps,peak_rps,peak_to_mean,cv,daily_autocorr,max_jump_rps"
    );
    let value = |row: &[String], col: &str| -> f64 {
        let i = header.iter().position(|h| h == col).unwrap();
        row[i].parse().unwrap()
    };
    let r = &rows[0];
    assert_eq!(r[0], "stats-tiny");
    assert_eq!(value(r, "rows"), 8.0);
    assert_eq!(value(r, "interval_s"), 21_600.0);
    assert_eq!(value(r, "span_s"), 172_800.0);
    // Mean 19·2160/8 per 6 h = 0.2375 req/s; peak 4·2160/21600 = 0.4 req/s.
    assert!((value(r, "mean_rps") - 0.2375).abs() < 1e-12);
    assert!((value(r, "peak_rps") - 0.4).abs() < 1e-12);
    assert!((value(r, "peak_to_mean") - 0.4 / 0.2375).abs() < 1e-12);
    // σ² of (1,2,4,2,1,3,4,2) = 9.875/8 around 2.375.
    assert!((value(r, "cv") - (9.875f64 / 8.0).sqrt() / 2.375).abs() < 1e-12);
    // Pairs (1,1), (2,3), (4,4), (2,2): cov 4.5, variances 4.75 and 5.
    assert!((value(r, "daily_autocorr") - 4.5 / (4.75f64 * 5.0).sqrt()).abs() < 1e-12);
    // Largest step: 1 → 3 (or 2 → 4) units of 2160 per 21 600 s.
    assert!((value(r, "max_jump_rps") - 0.2).abs() < 1e-12);
    // tests/data/tiny.csv lasts 30 minutes: no daily autocorrelation.
    let i = header.iter().position(|h| h == "daily_autocorr").unwrap();
    assert_eq!(rows[1][0], "tiny");
    assert_eq!(rows[1][i], "");
}

#[test]
fn trace_stats_reports_a_bad_trace_with_exit_code_2() {
    qscale()
        .args(["trace", "stats", "tests/data/negative.csv"])
        .assert()
        .code(2);
}

/// Peak resident memory (VmHWM) of a running process, kB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
#[ignore = "writes a 300 MB log; run with `cargo test --release -- --ignored`"]
fn importing_a_300_mb_log_keeps_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("big.log");
    let mut w = std::io::BufWriter::new(fs::File::create(&log).unwrap());
    // One request every 0.7 s over 30 days of July 1995: 3.7 M lines, 425 MB.
    let lines: u64 = 3_700_000;
    let span_s: u64 = 30 * 86_400;
    for i in 0..lines {
        let t = i * span_s / lines;
        let (day, rest) = (1 + t / 86_400, t % 86_400);
        writeln!(
            w,
            "host{}.example.com - - [{day:02}/Jul/1995:{:02}:{:02}:{:02} -0400] \"GET /shuttle/missions/sts-{}/mission.html HTTP/1.0\" 200 {}",
            i % 997,
            rest / 3600,
            rest % 3600 / 60,
            rest % 60,
            i % 83,
            1000 + i % 9000
        )
        .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let size = fs::metadata(&log).unwrap().len();
    assert!(size > 300_000_000, "log is {size} bytes");
    let out = dir.path().join("big.csv");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qscale"))
        .args(["trace", "import", "--format", "clf", "--interval-s", "60"])
        .arg(&log)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut peak_kb = 0;
    let status = loop {
        if let Some(kb) = peak_rss_kb(child.id()) {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert!(status.success());
    eprintln!("peak RSS importing {size} bytes: {peak_kb} kB");
    assert!(peak_kb > 0, "could not read VmHWM");
    assert!(peak_kb < 100 * 1024, "peak RSS {peak_kb} kB");
    let counts = requests(&fs::read_to_string(&out).unwrap());
    assert_eq!(counts.len(), 30 * 1440);
    assert_eq!(counts.iter().sum::<f64>(), lines as f64);
}

#[test]
fn the_traces_readme_describes_exactly_the_bundled_copies_issue_18() {
    let traces = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    let readme = fs::read_to_string(traces.join("README.md")).unwrap();
    // A clone has no shared folder next to it.
    assert!(
        !readme.contains("../"),
        "traces/README.md points outside the repository"
    );
    let mut bundled: Vec<String> = fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    bundled.sort();
    for name in &bundled {
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "{name} is not listed"
        );
    }
    let listed = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|n| n.ends_with(".csv"))
        .count();
    assert_eq!(
        listed,
        bundled.len(),
        "the README lists a trace that is not bundled"
    );
}
