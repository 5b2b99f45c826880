//! The Q-learning agent: it finds known optima, beats the rules on held-out
//! days, and its files are exact and checked.

use std::fs;
use std::sync::Arc;

use qscale::agent::{train, AlphaSchedule, Design, QAgent};
use qscale::cloud::Workload;
use qscale::config::{Config, Noise, PolicyKind, StaticSizing};
use qscale::experiment::{run_policy, run_with};
use qscale::policy::Learner;
use qscale::trace::{generate, GenKind, GenSpec};

use crate::support::{qscale, read_csv};

fn constant(rate_rps: f64, steps: usize) -> Arc<Workload> {
    Arc::new(Workload {
        name: "constant".into(),
        start_s: 0.0,
        step_s: 60.0,
        arrivals: vec![rate_rps * 60.0; steps],
    })
}

#[test]
fn on_a_constant_load_the_greedy_agent_settles_on_the_best_fixed_count() {
    let mut config = Config::default();
    config.workload.noise = Noise::None;
    config.cloud.vm_capacity_rps = 10.0;
    config.cloud.min_vms = 1;
    config.cloud.max_vms = 10;
    config.cloud.initial_vms = 2;
    config.agent.episodes = 150;
    let w = constant(52.0, 240);

    // The best fixed count, by enumeration.
    config.policy.kind = PolicyKind::Static;
    config.policy.static_count.sizing = StaticSizing::Count;
    let best = (1..=10)
        .map(|n| {
            config.policy.static_count.vms = n;
            (
                n,
                run_policy(&config, Arc::clone(&w), 1)
                    .unwrap()
                    .summary
                    .score_usd,
            )
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0;
    assert!((6..=9).contains(&best), "enumeration found {best}");

    // Trained on the trace itself (no randomisation), every design.
    config.agent.randomise = false;
    for design in [Design::Legacy, Design::ScaleFree, Design::Demand] {
        config.agent.design = design;
        // The demand design's default headrooms (25 % and up) buy
        // insurance against bursts and cannot express a thin optimum;
        // given the headrooms to express it, it finds it.
        config.agent.headrooms = vec![0.0, 0.1, 0.25, 0.5, 1.0];
        let mut agent = train(&config, &[Arc::clone(&w)], 5, |_, _| {}).agent;
        agent.set_exploring(false);
        let run = run_with(&config, &mut agent, Arc::clone(&w), 1);
        let settled: Vec<u32> = run.steps[120..]
            .iter()
            .map(|s| s.vms_running + s.vms_booting)
            .collect();
        assert!(
            settled.iter().all(|&n| n == best),
            "{design:?}: expected {best} VMs, got {settled:?}"
        );
    }
}

fn diurnal_days(seed: u64) -> (Arc<Workload>, Arc<Workload>, Config) {
    let trace = generate(&GenSpec {
        kind: GenKind::Diurnal,
        interval_s: 60.0,
        duration_s: 7.0 * 86_400.0,
        base_rps: 20.0,
        peak_rps: 200.0,
        weekly: false,
        noise: true,
        seed,
        name: "diurnal".into(),
    })
    .unwrap();
    let config = Config::default();
    let split = 5 * 1440;
    let days = |name: &str, range: std::ops::Range<usize>| {
        Arc::new(Workload {
            name: name.into(),
            start_s: range.start as f64 * 60.0,
            step_s: 60.0,
            arrivals: trace.requests[range].to_vec(),
        })
    };
    (
        days("days1-5", 0..split),
        days("days6-7", split..7 * 1440),
        config,
    )
}

#[test]
fn the_agent_trained_on_five_days_beats_static_peak_and_threshold_on_the_next_two() {
    let (train_days, test_days, mut config) = diurnal_days(11);
    let score_of = |config: &Config| {
        let trained = train(config, &[Arc::clone(&train_days)], 3, |_, _| {});
        let mut agent = trained.agent;
        agent.set_exploring(false);
        run_with(config, &mut agent, Arc::clone(&test_days), 1)
            .summary
            .score_usd
    };
    // The scale-free design with the constant learning rate it was built
    // with; the default demand design keeps 25 % or more of headroom over
    // its window's peak, insurance a smooth diurnal load does not need: it
    // beats static, and comes within 2 % of threshold.
    config.agent.design = Design::ScaleFree;
    config.agent.alpha_schedule = AlphaSchedule::Constant;
    let agent_score = score_of(&config);
    let demand_score = score_of(&Config::default());

    config.policy.kind = PolicyKind::Static;
    config.policy.static_count.sizing = StaticSizing::Peak;
    let static_score = run_policy(&config, Arc::clone(&test_days), 1)
        .unwrap()
        .summary
        .score_usd;
    config.policy.kind = PolicyKind::Threshold;
    let threshold_score = run_policy(&config, test_days, 1).unwrap().summary.score_usd;
    assert!(
        agent_score < static_score && agent_score < threshold_score,
        "agent {agent_score}, static {static_score}, threshold {threshold_score}"
    );
    assert!(
        demand_score < static_score && demand_score < 1.02 * threshold_score,
        "demand agent {demand_score}, static {static_score}, threshold {threshold_score}"
    );
}

fn write_experiment(dir: &std::path::Path) -> std::path::PathBuf {
    let (train_days, test_days, _) = diurnal_days(4);
    for (name, w) in [("train.csv", &train_days), ("test.csv", &test_days)] {
        let trace = qscale::trace::Trace {
            name: name.into(),
            start_s: w.start_s,
            interval_s: 60.0,
            requests: w.arrivals[..1440].to_vec(),
        };
        let mut bytes = Vec::new();
        qscale::trace::write_csv(&trace, &mut bytes).unwrap();
        fs::write(dir.join(name), bytes).unwrap();
    }
    let config = dir.join("agent.toml");
    fs::write(
        &config,
        format!(
            "[agent]\nepisodes = 20\n\n[experiment]\nseeds = [3]\ntrain_traces = [{:?}]\ntest_traces = [{:?}]\n",
            dir.join("train.csv"),
            dir.join("test.csv")
        ),
    )
    .unwrap();
    config
}

#[test]
fn training_twice_with_the_same_seed_gives_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_experiment(dir.path());
    for out in ["a", "b"] {
        qscale()
            .args(["train", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(dir.path().join(out))
            .assert()
            .success();
    }
    for file in [
        "qtable.txt",
        "learning_curve.csv",
        "evaluation.csv",
        "config.toml",
    ] {
        let a = fs::read(dir.path().join("a").join(file)).unwrap();
        let b = fs::read(dir.path().join("b").join(file)).unwrap();
        assert!(a == b, "{file} differs");
    }
    let (header, rows) = read_csv(&dir.path().join("a/learning_curve.csv"));
    assert_eq!(
        header.join(","),
        "episode,trace,epsilon,reward,cost_usd,penalty_usd,violations,violation_rate,mean_vms"
    );
    assert_eq!(rows.len(), 20);
    qscale()
        .args(["train", "--config"])
        .arg(&config)
        .args(["--seed", "4", "--out"])
        .arg(dir.path().join("c"))
        .assert()
        .success();
    assert_ne!(
        fs::read(dir.path().join("a/qtable.txt")).unwrap(),
        fs::read(dir.path().join("c/qtable.txt")).unwrap()
    );
}

#[test]
fn evaluating_a_saved_q_table_matches_training_and_evaluating_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_experiment(dir.path());
    let test = dir.path().join("test.csv");
    qscale()
        .args(["train", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(dir.path().join("t"))
        .assert()
        .success();
    qscale()
        .args(["evaluate", "--qtable"])
        .arg(dir.path().join("t"))
        .arg("--trace")
        .arg(&test)
        .arg("--out")
        .arg(dir.path().join("from-file"))
        .assert()
        .success();
    qscale()
        .args(["run", "--policy", "qlearning", "--config"])
        .arg(&config)
        .arg("--trace")
        .arg(&test)
        .arg("--out")
        .arg(dir.path().join("in-memory"))
        .assert()
        .success();
    for file in ["steps.csv", "summary.csv"] {
        let a = fs::read(dir.path().join("from-file").join(file)).unwrap();
        let b = fs::read(dir.path().join("in-memory").join(file)).unwrap();
        assert!(a == b, "{file} differs");
    }
    let (_, rows) = read_csv(&dir.path().join("from-file/summary.csv"));
    assert_eq!(rows[0][0], "qlearning");
}

#[test]
fn a_saved_table_round_trips_through_the_library() {
    let mut config = Config::default();
    config.agent.episodes = 3;
    config.agent.algorithm = qscale::agent::Algorithm::DoubleQ;
    let w = constant(40.0, 50);
    let agent = train(&config, &[w], 1, |_, _| {}).agent;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qtable.txt");
    fs::write(&path, agent.to_text()).unwrap();
    let loaded = QAgent::load(&path, &config).unwrap();
    assert_eq!(loaded.to_text(), agent.to_text());
}

#[test]
fn a_corrupt_or_mismatched_q_table_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_experiment(dir.path());
    let t = dir.path().join("t");
    qscale()
        .args(["train", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&t)
        .assert()
        .success();
    let test = dir.path().join("test.csv");
    let evaluate = |extra: &[&str], out: &str| {
        let assert = qscale()
            .args(["evaluate", "--qtable"])
            .arg(&t)
            .arg("--trace")
            .arg(&test)
            .args(extra)
            .arg("--out")
            .arg(dir.path().join(out))
            .assert()
            .code(2);
        assert!(!dir.path().join(out).exists());
        String::from_utf8_lossy(&assert.get_output().stderr).to_string()
    };
    // A state space other than the one trained.
    let err = evaluate(&["--set", "agent.fleet_edges=[0.5, 0.9]"], "o1");
    assert!(
        err.contains("features") && err.contains("does not fit"),
        "{err}"
    );
    let err = evaluate(&["--set", "agent.algorithm=sarsa"], "o2");
    assert!(err.contains("algorithm"), "{err}");
    let err = evaluate(&["--set", "agent.design=legacy"], "o5");
    assert!(
        err.contains("design") && err.contains("does not fit"),
        "{err}"
    );
    // A table of the earlier design (format version 1, no design line).
    let table = t.join("qtable.txt");
    let text = fs::read_to_string(&table).unwrap();
    fs::write(
        &table,
        text.replacen("qscale-qtable 2\ndesign = demand\n", "qscale-qtable 1\n", 1),
    )
    .unwrap();
    let err = evaluate(&[], "o6");
    assert!(
        err.contains("written by an earlier agent design") && err.contains("version 1"),
        "{err}"
    );
    // A wrong version, then a damaged row.
    fs::write(
        &table,
        text.replacen("qscale-qtable 2", "qscale-qtable 7", 1),
    )
    .unwrap();
    let err = evaluate(&[], "o3");
    assert!(
        err.contains("qtable.txt:1") && err.contains("version"),
        "{err}"
    );
    let mut lines: Vec<&str> = text.lines().collect();
    lines[10] = "0 0 nonsense";
    fs::write(&table, lines.join("\n")).unwrap();
    let err = evaluate(&[], "o4");
    assert!(err.contains("qtable.txt:11"), "{err}");
}
