//! `qscale plot` through the binary: every folder kind gives its figures,
//! as real images, and broken folders give errors naming the file.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::qscale;

/// Runs a qscale command that must succeed.
fn ok(args: &[&str], out: &Path) {
    qscale().args(args).arg(out).assert().success();
}

/// `qscale plot DIR` and the files it says it wrote.
fn plot(dir: &Path, extra: &[&str]) -> Vec<PathBuf> {
    let output = qscale().arg("plot").arg(dir).args(extra).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .map(PathBuf::from)
        .collect()
}

/// The figure names (file names) written, sorted.
fn names(written: &[PathBuf]) -> Vec<String> {
    let mut v: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A PNG of the figure size that is not one flat colour.
fn assert_png(path: &Path) {
    let decoder = png::Decoder::new(std::io::Cursor::new(fs::read(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1000, 560), "{}", path.display());
    let px = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let first = &pixels[..px];
    let other = pixels.chunks(px).filter(|p| p != &first).count();
    assert!(other > 5000, "{} is nearly blank", path.display());
}

/// An SVG with its root element, text and shapes.
fn assert_svg(path: &Path) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains("<svg") && text.trim_end().ends_with("</svg>"));
    assert!(text.matches("<text").count() >= 5, "{}", path.display());
    assert!(
        text.matches("<path").count()
            + text.matches("<polyline").count()
            + text.matches("<rect").count()
            >= 5,
        "{}",
        path.display()
    );
}

fn assert_images(written: &[PathBuf]) {
    for path in written {
        assert!(path.is_file(), "{}", path.display());
        match path.extension().and_then(|e| e.to_str()) {
            Some("png") => assert_png(path),
            Some("svg") => assert_svg(path),
            _ => panic!("unexpected {}", path.display()),
        }
    }
}

#[test]
fn plot_rebuilds_the_figures_of_a_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&["run", "--config", "tests/data/tiny.toml", "--out"], &run);
    let written = plot(&run, &[]);
    assert_eq!(
        names(&written),
        [
            "cost.png",
            "cost.svg",
            "latency.png",
            "latency.svg",
            "load.png",
            "load.svg"
        ]
    );
    assert!(written.iter().all(|p| p.starts_with(run.join("figures"))));
    assert_images(&written);
    // Only the CSVs are read: plotting twice gives the same PNG bytes.
    let first = fs::read(run.join("figures/load.png")).unwrap();
    let again = plot(&run, &["--format", "png"]);
    assert_eq!(names(&again), ["cost.png", "latency.png", "load.png"]);
    assert_eq!(fs::read(run.join("figures/load.png")).unwrap(), first);
}

#[test]
fn plot_rebuilds_the_figures_of_a_comparison_and_of_one_of_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    qscale()
        .args(["compare", "--config", "tests/data/tiny.toml"])
        .args([
            "--set",
            "experiment.seeds=[1, 2]",
            "--set",
            "experiment.policies=[\"static\", \"threshold\", \"oracle\"]",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let written = plot(&out, &["--format", "both"]);
    let mut expected = Vec::new();
    for stem in [
        "cost-tiny",
        "latency-tiny-oracle",
        "latency-tiny-static",
        "latency-tiny-threshold",
        "load-tiny-oracle",
        "load-tiny-static",
        "load-tiny-threshold",
        "pareto-tiny",
    ] {
        expected.push(format!("{stem}.png"));
        expected.push(format!("{stem}.svg"));
    }
    assert_eq!(names(&written), expected);
    assert_images(&written);

    // One run inside the comparison finds the comparison's config.
    let one = out.join("runs/threshold/tiny/seed-1");
    let written = plot(&one, &["--format", "svg"]);
    assert_eq!(names(&written), ["cost.svg", "latency.svg", "load.svg"]);
    let load = fs::read_to_string(one.join("figures/load.svg")).unwrap();
    assert!(load.contains("oracle VMs"), "the oracle's VMs are overlaid");
}

#[test]
fn plot_draws_learning_curves_and_the_learned_policy() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    for seed in ["1", "2"] {
        ok(
            &[
                "train",
                "--config",
                "tests/data/tiny.toml",
                "--episodes",
                "8",
                "--seed",
                seed,
                "--out",
            ],
            &set.join(format!("seed-{seed}")),
        );
    }
    let written = plot(&set.join("seed-1"), &[]);
    assert_eq!(
        names(&written),
        [
            "learning-curve.png",
            "learning-curve.svg",
            "policy.png",
            "policy.svg"
        ]
    );
    assert_images(&written);
    let written = plot(&set, &[]);
    assert_eq!(
        names(&written),
        ["learning-curve.png", "learning-curve.svg"]
    );
    assert_images(&written);
    let svg = fs::read_to_string(set.join("figures/learning-curve.svg")).unwrap();
    assert!(svg.contains("min–max"), "a band over the two seeds");
}

#[test]
fn plot_draws_a_heatmap_per_policy_of_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    qscale()
        .args(["sweep", "--config", "tests/data/tiny.toml"])
        .args([
            "--set",
            "policy.upper=0.7,0.8,0.9",
            "--set",
            "cloud.boot_s=0,100",
            "--set",
            "experiment.policies=[\"threshold\", \"step\"]",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let written = plot(&out, &[]);
    assert_eq!(
        names(&written),
        [
            "sweep-step-tiny.png",
            "sweep-step-tiny.svg",
            "sweep-threshold-tiny.png",
            "sweep-threshold-tiny.svg"
        ]
    );
    assert_images(&written);
}

#[test]
fn sweep_figures_of_further_axes_have_safe_names_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    qscale()
        .args(["sweep", "--config", "tests/data/tiny.toml"])
        .args([
            "--set",
            "policy.upper=0.7,0.8",
            "--set",
            "cloud.boot_s=0,100",
            "--set",
            "policy.lower=0.2,0.25",
            "--set",
            "experiment.policies=[\"threshold\"]",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let written = plot(&out, &["--format", "png"]);
    assert_eq!(
        names(&written),
        [
            "sweep-threshold-tiny-lower_0p2.png",
            "sweep-threshold-tiny-lower_0p25.png"
        ]
    );
    for name in names(&written) {
        let stem = name.strip_suffix(".png").unwrap();
        assert!(
            stem.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{name}"
        );
    }
    assert_images(&written);
}

#[test]
fn a_folder_missing_a_csv_or_a_column_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&["run", "--config", "tests/data/tiny.toml", "--out"], &run);

    let summary = fs::read_to_string(run.join("summary.csv")).unwrap();
    let (header, rest) = summary.split_once('\n').unwrap();
    let cut = |line: &str| -> String {
        let fields: Vec<&str> = line.split(',').collect();
        let keep: Vec<&str> = fields
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 2)
            .map(|(_, f)| *f)
            .collect();
        keep.join(",")
    };
    fs::write(
        run.join("summary.csv"),
        format!("{}\n{}\n", cut(header), cut(rest.trim_end())),
    )
    .unwrap();
    let err = qscale().arg("plot").arg(&run).assert().code(2);
    let stderr = String::from_utf8_lossy(&err.get_output().stderr).into_owned();
    assert!(
        stderr.contains("summary.csv") && stderr.contains("seed"),
        "{stderr}"
    );

    fs::write(run.join("summary.csv"), &summary).unwrap();
    fs::remove_file(run.join("steps.csv")).unwrap();
    let err = qscale().arg("plot").arg(&run).assert().code(2);
    let stderr = String::from_utf8_lossy(&err.get_output().stderr).into_owned();
    assert!(
        stderr.contains("steps.csv") && stderr.contains("missing"),
        "{stderr}"
    );

    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let err = qscale().arg("plot").arg(&empty).assert().code(2);
    let stderr = String::from_utf8_lossy(&err.get_output().stderr).into_owned();
    assert!(stderr.contains("nothing to plot"), "{stderr}");
    qscale()
        .arg("plot")
        .arg(&empty)
        .args(["--format", "gif"])
        .assert()
        .code(2);
}

#[test]
fn reproduce_quick_writes_results_with_figures_and_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    // Two experiments, of which `--only` reruns one; the other's folder is
    // left from an earlier run and stays in the index.
    let experiments = dir.path().join("experiments");
    std::fs::create_dir(&experiments).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // Paths in an experiment are relative to its folder: the copies name
    // the bundled traces by absolute path.
    let text = std::fs::read_to_string(root.join("experiments/agent-diurnal.toml"))
        .unwrap()
        .replace("\"../traces/", &format!("\"{}/traces/", root.display()));
    for name in ["agent-diurnal.toml", "zz-earlier.toml"] {
        std::fs::write(experiments.join(name), &text).unwrap();
    }
    std::fs::create_dir_all(out.join("zz-earlier")).unwrap();
    std::fs::write(
        out.join("zz-earlier/README.md"),
        "# zz-earlier\n\nAn earlier run.\n\n![figures/a.png](figures/a.png)\n",
    )
    .unwrap();
    qscale()
        .args(["reproduce", "--quick", "--only", "agent-diurnal", "--out"])
        .arg(&out)
        .arg("--experiments")
        .arg(&experiments)
        .assert()
        .success();
    let exp = out.join("agent-diurnal");
    for file in [
        "summary.csv",
        "aggregate.csv",
        "summary.md",
        "config.toml",
        "training/seed-1/qtable.txt",
    ] {
        assert!(exp.join(file).exists(), "{file} missing");
    }
    for fig in [
        "pareto-diurnal-test-2d.png",
        "cost-diurnal-test-2d.png",
        "load-diurnal-test-2d-qlearning.png",
    ] {
        assert!(exp.join("figures").join(fig).exists(), "{fig} missing");
    }
    assert!(exp.join("training/figures/learning-curve.png").exists());
    assert!(exp.join("training/seed-1/figures/policy.png").exists());
    let index = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        index.contains("## agent-diurnal")
            && index.contains("](agent-diurnal/figures/pareto-diurnal-test-2d.png)"),
        "{index}"
    );
    let own = std::fs::read_to_string(exp.join("README.md")).unwrap();
    assert!(own.starts_with("# agent-diurnal\n"), "{own}");
    assert!(
        own.contains("](figures/pareto-diurnal-test-2d.png)"),
        "{own}"
    );
    let earlier = index
        .find("## zz-earlier")
        .expect("the earlier experiment is kept");
    assert!(index.find("## agent-diurnal").unwrap() < earlier);
    assert!(index.contains("![zz-earlier/figures/a.png](zz-earlier/figures/a.png)"));
    assert!(index.contains("(2 experiment(s))"), "{index}");
    // Steps are kept for the first seed only.
    assert!(exp
        .join("runs/qlearning/diurnal-test-2d/seed-1/steps.csv")
        .exists());
    assert!(!exp
        .join("runs/qlearning/diurnal-test-2d/seed-2/steps.csv")
        .exists());
}

/// Every experiment, reduced (about 10 s in release mode); run with
/// `cargo test --release -- --ignored`.
#[test]
#[ignore]
fn reproduce_quick_runs_every_experiment() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    qscale()
        .args(["reproduce", "--quick", "--out"])
        .arg(&out)
        .assert()
        .success();
    for entry in
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments"))
            .unwrap()
    {
        let stem = entry
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // Every experiment's folder has its README, linking its figures
        // (a tuning experiment keeps them in its default/ and tuned/).
        let readme = std::fs::read_to_string(out.join(&stem).join("README.md"))
            .unwrap_or_else(|_| panic!("{stem} not reproduced"));
        assert!(
            readme.lines().any(|l| l.starts_with("![")),
            "{stem} has no figures"
        );
    }
}

#[test]
fn plot_of_a_parent_of_results_folders_is_refused_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir_all(runs.join("agent")).unwrap();
    std::fs::create_dir_all(runs.join("cmp")).unwrap();
    std::fs::write(
        runs.join("agent/learning_curve.csv"),
        "episode,reward,cost_usd,penalty_usd,violations,mean_vms,epsilon\n0,-1,1,0,0,1,1\n",
    )
    .unwrap();
    std::fs::write(runs.join("cmp/aggregate.csv"), "policy,trace\n").unwrap();
    let assert = qscale().arg("plot").arg(&runs).assert().code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        err.contains("nothing to plot") && err.contains("learning_curve.csv"),
        "{err}"
    );
    assert!(!runs.join("figures").exists(), "a figure was written");
}
