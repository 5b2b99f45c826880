//! `qscale crossval` through the binary, on three small synthetic traces.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{qscale, read_csv, same_files, stderr_of_refusal, stdout_of_success};

/// Three 60-step traces at one-minute steps: `flat-a` and `flat-b` hold
/// 100 req/s, `spiky` holds 20 req/s with ten steps at 300.
fn traces(dir: &Path) -> Vec<PathBuf> {
    let write = |name: &str, rate: &dyn Fn(usize) -> f64| {
        let path = dir.join(format!("{name}.csv"));
        let mut text = String::from("timestamp_s,requests\n");
        for k in 0..60 {
            text.push_str(&format!("{},{}\n", 60 * k, rate(k) * 60.0));
        }
        fs::write(&path, text).unwrap();
        path
    };
    vec![
        write("flat-a", &|_| 100.0),
        write("flat-b", &|k| if k % 2 == 0 { 95.0 } else { 105.0 }),
        write("spiky", &|k| {
            if (20..30).contains(&k) {
                300.0
            } else {
                20.0
            }
        }),
    ]
}

fn quoted(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A leave-one-trace-out config over the three traces, with `extra`
/// appended.
fn config(dir: &Path, extra: &str) -> PathBuf {
    let traces = traces(dir);
    let path = dir.join("cv.toml");
    fs::write(
        &path,
        format!(
            "[workload]\nstep_s = 60\nnoise = \"none\"\n\
             [cloud]\nvm_capacity_rps = 20\nmax_vms = 30\n\
             [agent]\nepisodes = 5\n\
             [experiment]\nseeds = [1, 2]\n\
             policies = [\"static\", \"target\", \"oracle\", \"qlearning\"]\n\
             traces = [{}]\n{extra}",
            quoted(&traces)
        ),
    )
    .unwrap();
    path
}

fn crossval(config: &Path, out: &Path, extra: &[&str]) -> String {
    stdout_of_success(
        qscale()
            .arg("crossval")
            .arg("--config")
            .arg(config)
            .args(extra)
            .arg("--out")
            .arg(out),
    )
}

fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let (header, rows) = read_csv(path);
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

#[test]
fn each_fold_tests_on_one_trace_and_tunes_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "[crossval]\npeaks_rps = [200, 80]\n");
    let out = dir.path().join("cv");
    crossval(&cfg, &out, &[]);
    let all = rows(&out.join("crossval.csv"));
    let names = ["flat-a", "flat-b", "spiky"];
    for (k, name) in names.iter().enumerate() {
        let fold: Vec<_> = all
            .iter()
            .filter(|r| r["fold"] == (k + 1).to_string())
            .collect();
        assert!(!fold.is_empty());
        assert!(fold.iter().all(|r| r["test_trace"] == *name), "fold {k}");
    }
    // (agent + 2 rules x 2 + static at the peak + oracle) x 2 peaks x 2 seeds
    assert_eq!(all.len(), 3 * 7 * 2 * 2);
    let labels: Vec<(&str, &str)> = all
        .iter()
        .filter(|r| r["fold"] == "1" && r["peak_rps"] == "200.0" && r["seed"] == "1")
        .map(|r| (r["policy"].as_str(), r["params"].as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("qlearning", "trained"),
            ("static", "default"),
            ("static", "tuned"),
            ("target", "default"),
            ("target", "tuned"),
            ("static", "peak"),
            ("oracle", "clairvoyant")
        ]
    );
    for r in &all {
        let regret: f64 = r["regret_usd"].parse().unwrap();
        if r["policy"] == "oracle" {
            assert_eq!(regret, 0.0);
        }
    }

    // No leak. On the flat traces `static` sized for the mean and for the
    // peak tie (the grid's first, `mean`, wins); the spike makes `peak`
    // far better. Fold 3 (test: spiky) must not have seen the spike.
    let tuned = rows(&out.join("tuned.csv"));
    let static_params = |fold: &str| {
        tuned
            .iter()
            .find(|r| r["fold"] == fold && r["policy"] == "static")
            .unwrap()["params"]
            .clone()
    };
    assert!(
        static_params("3").contains("policy.sizing=mean"),
        "{tuned:?}"
    );
    assert!(
        static_params("1").contains("policy.sizing=peak"),
        "{tuned:?}"
    );
    // The same as `qscale tune` on the fold's training traces alone, and
    // not what tuning with the test trace would pick.
    let t = traces(dir.path());
    let tune = |train: &[PathBuf], name: &str| {
        let tune_out = dir.path().join(name);
        stdout_of_success(
            qscale()
                .args(["tune", "--policy", "static", "--config"])
                .arg(&cfg)
                .arg("--set")
                .arg(format!("experiment.train_traces=[{}]", quoted(train)))
                .arg("--set")
                .arg("experiment.policies=[]")
                .arg("--out")
                .arg(&tune_out),
        );
        let objective = rows(&tune_out.join("objective.csv"));
        let best = objective.iter().find(|r| r["rank"] == "1").unwrap();
        (
            best["param_policy.target_utilization"].clone(),
            best["param_policy.sizing"].clone(),
        )
    };
    let without = tune(&t[..2], "tune-without");
    let with = tune(&t, "tune-with");
    assert_ne!(without, with, "the case must discriminate");
    assert_eq!(
        static_params("3"),
        format!(
            "--set policy.target_utilization={} --set policy.sizing={}",
            without.0, without.1
        )
    );
}

#[test]
fn crossval_is_byte_identical_for_any_jobs_and_for_merged_shards() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "[crossval]\npeaks_rps = [150]\n");
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    crossval(&cfg, &one, &["--jobs", "1"]);
    let stdout = crossval(&cfg, &two, &["--jobs", "2"]);
    assert!(
        stdout.contains("84 tuning cells (ran 84), 6 evaluation cells (ran 6)"),
        "{stdout}"
    );
    let files = ["crossval.csv", "tuned.csv", "summary.md", "config.toml"];
    same_files(&one, &two, &files);
    // A rerun resumes: nothing runs again, nothing changes.
    let again = crossval(&cfg, &two, &["--jobs", "2"]);
    assert!(again.contains("(ran 0)"), "{again}");
    same_files(&one, &two, &files);

    let shards: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let d = dir.path().join(format!("shard-{i}"));
            let stdout = crossval(&cfg, &d, &["--shard", &format!("{i}/3")]);
            assert!(stdout.contains("qscale merge"), "{stdout}");
            assert!(!d.join("crossval.csv").exists());
            d
        })
        .collect();
    let merged = dir.path().join("merged");
    let mut cmd = qscale();
    cmd.arg("merge")
        .args(&shards[..2])
        .arg("--out")
        .arg(&merged);
    let err = String::from_utf8_lossy(&cmd.assert().code(2).get_output().stderr).to_string();
    assert!(err.contains("tuning cells are missing"), "{err}");
    assert!(!merged.exists());
    stdout_of_success(
        qscale()
            .arg("merge")
            .args(&shards)
            .arg("--out")
            .arg(&merged),
    );
    same_files(&one, &merged, &files);
    // Cells moved by the merge name their traces for their new folder.
    let cell = "tune/static/cells/policy.target_utilization-0.3_policy.sizing-mean/seed-1";
    same_files(
        &one,
        &merged,
        &[
            &format!("{cell}/summary.csv"),
            &format!("{cell}/config.toml"),
        ],
    );
}

/// A cell of the headline table as a number (`1.23×` → 1.23).
fn times(cell: &str) -> f64 {
    cell.trim().trim_end_matches('×').parse().unwrap()
}

#[test]
fn summary_ratios_are_those_of_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "[crossval]\npeaks_rps = [200, 80]\n");
    let out = dir.path().join("cv");
    crossval(&cfg, &out, &[]);
    let all = rows(&out.join("crossval.csv"));
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    let mut checked = 0;
    for line in summary.lines().filter(|l| l.contains(" req/s | ")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
        let (fold, trace, peak) = (cells[0].trim(), cells[1].trim(), cells[2].trim());
        let peak: f64 = peak.trim_end_matches(" req/s").parse().unwrap();
        // Each entry's scores in row order, which is seed order.
        let mut means: HashMap<(String, String), Vec<f64>> = HashMap::new();
        for r in all.iter().filter(|r| {
            r["fold"] == fold
                && r["test_trace"] == trace
                && r["peak_rps"].parse::<f64>().unwrap() == peak
        }) {
            means
                .entry((r["policy"].clone(), r["params"].clone()))
                .or_default()
                .push(r["score_usd"].parse().unwrap());
        }
        let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
        let agent = mean(&means[&("qlearning".into(), "trained".into())]);
        let oracle = mean(&means[&("oracle".into(), "clairvoyant".into())]);
        let (best_label, best) = means
            .iter()
            .filter(|((p, _), _)| p != "qlearning" && p != "oracle")
            .map(|((p, q), v)| (format!("{p} ({q})"), mean(v)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        let adaptive = means
            .iter()
            .filter(|((p, _), _)| !["qlearning", "oracle", "static"].contains(&p.as_str()))
            .map(|(_, v)| mean(v))
            .fold(f64::INFINITY, f64::min);
        let close = |shown: f64, exact: f64| (shown - exact).abs() <= 0.005 + 1e-9;
        assert!(!cells[8].contains("static"), "{line}");
        assert!(close(times(cells[9]), agent / adaptive), "{line}");
        assert!(close(times(cells[4]), agent / best), "{line}");
        assert!(close(times(cells[6]), agent / oracle), "{line}");
        assert!(close(times(cells[7]), best / oracle), "{line}");
        let best_cell = cells[3].trim();
        let best_seeds = means
            .iter()
            .find(|((p, q), _)| format!("{p} ({q})") == best_cell)
            .map(|(_, v)| v.clone())
            .unwrap();
        let agent_seeds = &means[&("qlearning".into(), "trained".into())];
        let seed_wins = agent_seeds
            .iter()
            .zip(&best_seeds)
            .filter(|(a, b)| a <= b)
            .count();
        assert_eq!(
            cells[5].trim(),
            format!("{seed_wins} of {}", agent_seeds.len()),
            "{line}"
        );
        assert!(
            best_cell == best_label
                || means
                    .iter()
                    .any(|((p, q), v)| format!("{p} ({q})") == best_cell && mean(v) == best),
            "{line}: {best_label}"
        );
        checked += 1;
    }
    assert_eq!(checked, 6, "{summary}");
    let figure = out.join("figures/crossval.png");
    assert!(fs::metadata(&figure).unwrap().len() > 10_000);
}

#[test]
fn explicit_folds_test_on_their_test_traces_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let t = traces(dir.path());
    // Two folds: train on both flat traces and test on the spiky one, and
    // train on the spiky one and test on both flat ones.
    let extra = format!(
        "[[crossval.folds]]\ntrain = [{}]\ntest = [{}]\n\
         [[crossval.folds]]\ntrain = [{}]\ntest = [{}]\n",
        quoted(&t[..2]),
        quoted(&t[2..]),
        quoted(&t[2..]),
        quoted(&t[..2])
    );
    let cfg = config(dir.path(), &extra);
    let out = dir.path().join("cv");
    let summary = crossval(&cfg, &out, &[]);
    let all = rows(&out.join("crossval.csv"));
    let tests_of = |fold: &str| {
        let mut names: Vec<String> = all
            .iter()
            .filter(|r| r["fold"] == fold)
            .map(|r| r["test_trace"].clone())
            .collect();
        names.dedup();
        names
    };
    assert_eq!(tests_of("1"), ["spiky"]);
    assert_eq!(tests_of("2"), ["flat-a", "flat-b"]);
    // (agent + 2 rules x 2 + static at the peak + oracle) x 2 seeds per
    // test trace, at the traces' own scale (no crossval.peaks_rps).
    assert_eq!(all.len(), 3 * 7 * 2);
    assert!(summary.contains("2 folds (explicit folds)"), "{summary}");
    assert!(
        summary.contains("trained on the fold's training traces only"),
        "{summary}"
    );
    assert!(!summary.contains("held-out"), "{summary}");
}

#[test]
fn in_sample_folds_train_tune_and_test_on_one_trace() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "[crossval]\nin_sample = true\n");
    let out = dir.path().join("cv");
    let summary = crossval(&cfg, &out, &[]);
    let all = rows(&out.join("crossval.csv"));
    for (k, name) in ["flat-a", "flat-b", "spiky"].iter().enumerate() {
        let fold = (k + 1).to_string();
        assert!(all
            .iter()
            .filter(|r| r["fold"] == fold)
            .all(|r| r["test_trace"] == *name));
    }
    // Tuned on the spiky trace itself, `static` sizes for the spike's
    // peak; left out (leave-one-trace-out), it picks the mean.
    let tuned = rows(&out.join("tuned.csv"));
    let spiky_static = tuned
        .iter()
        .find(|r| r["fold"] == "3" && r["policy"] == "static")
        .unwrap();
    assert!(
        spiky_static["params"].contains("policy.sizing=peak"),
        "{tuned:?}"
    );
    assert!(summary.contains("3 folds (in-sample"), "{summary}");
    assert!(!summary.contains("held-out"), "{summary}");
    assert!(out.join("figures/crossval.png").is_file());

    // Evaluating at a load other than the one it trained at would not be
    // in-sample; nor can it be mixed with explicit folds.
    let t = traces(dir.path());
    for extra in [
        "[crossval]\nin_sample = true\npeaks_rps = [200]\n".to_string(),
        format!(
            "[crossval]\nin_sample = true\n[[crossval.folds]]\ntrain = [{}]\ntest = [{}]\n",
            quoted(&t[..1]),
            quoted(&t[1..])
        ),
    ] {
        let cfg = config(dir.path(), &extra);
        let refused = dir.path().join("refused");
        let err = stderr_of_refusal(qscale().arg("crossval").arg("--config").arg(&cfg), &refused);
        assert!(err.contains("crossval.in_sample"), "{extra}: {err}");
    }
}

#[test]
fn bad_folds_and_peaks_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cv");
    let t = traces(dir.path());
    for (extra, key) in [
        (
            format!(
                "[[crossval.folds]]\ntrain = []\ntest = [{}]\n",
                quoted(&t[..1])
            ),
            "crossval.folds[1].train",
        ),
        (
            format!(
                "[[crossval.folds]]\ntrain = [{}]\ntest = []\n",
                quoted(&t[..1])
            ),
            "crossval.folds[1].test",
        ),
        (
            format!(
                "[[crossval.folds]]\ntrain = [{}]\ntest = [{}]\n",
                quoted(&t[..2]),
                quoted(&t[1..])
            ),
            "crossval.folds[1]",
        ),
        (
            "[crossval]\npeaks_rps = [100, 0]\n".into(),
            "crossval.peaks_rps",
        ),
        (
            "[crossval]\npeaks_rps = [-5]\n".into(),
            "crossval.peaks_rps",
        ),
    ] {
        let cfg = config(dir.path(), &extra);
        let err = stderr_of_refusal(qscale().arg("crossval").arg("--config").arg(&cfg), &out);
        assert!(err.contains(key), "{extra}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let cfg = config(dir.path(), "");
    let err = stderr_of_refusal(
        qscale()
            .arg("crossval")
            .arg("--config")
            .arg(&cfg)
            .args(["--set", "experiment.traces=[]"]),
        &out,
    );
    assert!(err.contains("at least two experiment.traces"), "{err}");
}
