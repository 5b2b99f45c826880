//! Golden outputs: the exact bytes of a few runs, kept from before the
//! step loop was optimised, so speed-ups can never change a number. Only a
//! new output column may change them, and only by adding the column: when
//! the elasticity columns were added, every earlier column was checked
//! unchanged.
//! To update them on purpose: `UPDATE_GOLDEN=1 cargo test --release --test it golden`
//! and review the diff.

use std::fs;
use std::path::Path;

use crate::support::qscale;

fn golden(name: &str, actual: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        expected == actual,
        "{name} differs from tests/golden/{name}"
    );
}

fn run(args: &[&str], files: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    qscale()
        .args(args)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    for (file, name) in files {
        golden(name, &fs::read(out.join(file)).unwrap());
    }
}

#[test]
fn threshold_on_the_tiny_trace_matches_its_golden_steps() {
    run(
        &["run", "--config", "tests/data/tiny.toml", "--seed", "7"],
        &[
            ("steps.csv", "tiny_threshold_steps.csv"),
            ("summary.csv", "tiny_threshold_summary.csv"),
        ],
    );
}

#[test]
fn hourly_billing_with_boot_delays_matches_its_golden_steps() {
    run(
        &[
            "run",
            "--policy",
            "threshold",
            "--trace",
            "traces/step-6h.csv",
            "--seed",
            "3",
            "--set",
            "cloud.billing=per-hour",
            "--set",
            "cloud.boot_s=150",
            "--set",
            "policy.cooldown_s=60",
            "--set",
            "cloud.vm_capacity_rps=12",
        ],
        &[("steps.csv", "step6h_hourly_steps.csv")],
    );
}

#[test]
fn agent_training_matches_its_golden_curve_and_table() {
    run(
        &[
            "train",
            "--set",
            "agent.design=legacy",
            "--set",
            "agent.randomise=false",
            "--set",
            "agent.alpha_schedule=constant",
            "--set",
            "experiment.train_traces=[\"traces/step-6h.csv\"]",
            "--set",
            "experiment.test_traces=[\"tests/data/tiny.csv\"]",
            "--set",
            "agent.episodes=25",
            "--set",
            "cloud.max_vms=12",
            "--seed",
            "5",
        ],
        &[
            ("learning_curve.csv", "step6h_learning_curve.csv"),
            ("qtable.txt", "step6h_qtable.txt"),
            ("evaluation.csv", "step6h_evaluation.csv"),
        ],
    );
}

#[test]
fn double_q_training_with_visit_counts_and_truncation_matches_its_golden() {
    run(
        &[
            "train",
            "--set",
            "agent.design=legacy",
            "--set",
            "agent.randomise=false",
            "--set",
            "experiment.train_traces=[\"traces/step-6h.csv\", \"tests/data/tiny.csv\"]",
            "--set",
            "experiment.test_traces=[\"traces/step-6h.csv\"]",
            "--set",
            "agent.algorithm=double-q",
            "--set",
            "agent.alpha_schedule=visits",
            "--set",
            "agent.max_episode_steps=100",
            "--set",
            "agent.hour_buckets=4",
            "--set",
            "agent.vm_edges=[2, 4, 8]",
            "--set",
            "agent.init=constant",
            "--set",
            "agent.episodes=20",
            "--set",
            "cloud.billing=per-minute",
            "--set",
            "cloud.max_vms=12",
            "--seed",
            "11",
        ],
        &[
            ("learning_curve.csv", "doubleq_learning_curve.csv"),
            ("qtable.txt", "doubleq_qtable.txt"),
            ("evaluation.csv", "doubleq_evaluation.csv"),
        ],
    );
}

#[test]
fn sarsa_training_without_noise_matches_its_golden() {
    run(
        &[
            "train",
            "--set",
            "agent.design=legacy",
            "--set",
            "agent.randomise=false",
            "--set",
            "agent.alpha_schedule=constant",
            "--set",
            "experiment.train_traces=[\"traces/step-6h.csv\"]",
            "--set",
            "experiment.test_traces=[\"tests/data/tiny.csv\"]",
            "--set",
            "agent.algorithm=sarsa",
            "--set",
            "agent.max_episode_steps=50",
            "--set",
            "agent.episodes=15",
            "--set",
            "workload.noise=none",
            "--set",
            "cloud.billing=per-hour",
            "--set",
            "cloud.boot_s=0",
            "--set",
            "cloud.min_billed_s=0",
            "--set",
            "cloud.max_vms=10",
            "--seed",
            "4",
        ],
        &[
            ("learning_curve.csv", "sarsa_learning_curve.csv"),
            ("qtable.txt", "sarsa_qtable.txt"),
            ("evaluation.csv", "sarsa_evaluation.csv"),
        ],
    );
}

#[test]
fn an_overloaded_run_with_drops_and_a_long_minimum_charge_matches_its_golden() {
    run(
        &[
            "run",
            "--policy",
            "threshold",
            "--trace",
            "traces/flash-crowd-day.csv",
            "--seed",
            "2",
            "--set",
            "workload.step_s=30",
            "--set",
            "cloud.max_vms=3",
            "--set",
            "cloud.min_billed_s=120",
            "--set",
            "cloud.timeout_s=10",
            "--set",
            "cloud.boot_s=45",
        ],
        &[
            ("steps.csv", "flash_overload_steps.csv"),
            ("summary.csv", "flash_overload_summary.csv"),
        ],
    );
}

#[test]
fn a_compare_of_every_policy_matches_its_golden_summaries() {
    run(
        &[
            "compare",
            "--config",
            "tests/data/tiny.toml",
            "--set",
            "experiment.traces=[\"traces/step-6h.csv\", \"tests/data/tiny.csv\"]",
            "--set",
            "experiment.seeds=[1, 2]",
            "--set",
            "experiment.policies=[\"static\", \"threshold\", \"step\", \"target\", \"hpa\", \"predictive\", \"oracle\", \"qlearning\"]",
            "--set",
            "experiment.train_traces=[\"traces/step-6h.csv\"]",
            "--set",
            "agent.episodes=8",
            "--set",
            "agent.design=legacy",
            "--set",
            "agent.randomise=false",
            "--set",
            "agent.alpha_schedule=constant",
            "--all-steps",
        ],
        &[
            ("summary.csv", "compare_summary.csv"),
            ("aggregate.csv", "compare_aggregate.csv"),
            ("runs/qlearning/step-6h/seed-2/steps.csv", "compare_qlearning_step6h_steps.csv"),
            ("runs/oracle/step-6h/seed-1/steps.csv", "compare_oracle_step6h_steps.csv"),
        ],
    );
}

// Issue #15: the scale-free design with randomised training (the default
// before the demand design) and the constant learning rate it had then,
// pinned so later speed-ups cannot change it either (Dyna-Q too).
#[test]
fn the_scale_free_agent_matches_its_golden_curve_and_table() {
    for (algorithm, stem) in [("q-learning", "scalefree"), ("dyna-q", "scalefree_dyna")] {
        run(
            &[
                "train",
                "--set",
                "experiment.train_traces=[\"traces/step-6h.csv\", \"traces/flash-crowd-day.csv\"]",
                "--set",
                "experiment.test_traces=[\"traces/step-6h.csv\"]",
                "--set",
                "agent.episodes=12",
                "--set",
                &format!("agent.algorithm={algorithm}"),
                "--set",
                "cloud.max_vms=30",
                "--set",
                "agent.design=scale-free",
                "--set",
                "agent.alpha_schedule=constant",
                "--seed",
                "6",
            ],
            &[
                ("learning_curve.csv", &format!("{stem}_learning_curve.csv")),
                ("qtable.txt", &format!("{stem}_qtable.txt")),
                ("evaluation.csv", &format!("{stem}_evaluation.csv")),
            ],
        );
    }
}

// Issue #15: the demand design with the default learning rate (running
// means from the model prior), pinned the same way.
#[test]
fn the_default_demand_agent_matches_its_golden_curve_and_table() {
    for (algorithm, stem) in [("q-learning", "demand"), ("dyna-q", "demand_dyna")] {
        run(
            &[
                "train",
                "--set",
                "experiment.train_traces=[\"traces/step-6h.csv\", \"traces/flash-crowd-day.csv\"]",
                "--set",
                "experiment.test_traces=[\"traces/step-6h.csv\"]",
                "--set",
                "agent.episodes=12",
                "--set",
                &format!("agent.algorithm={algorithm}"),
                "--set",
                "cloud.max_vms=30",
                "--seed",
                "6",
            ],
            &[
                ("learning_curve.csv", &format!("{stem}_learning_curve.csv")),
                ("qtable.txt", &format!("{stem}_qtable.txt")),
                ("evaluation.csv", &format!("{stem}_evaluation.csv")),
            ],
        );
    }
}
