//! `qscale train`: the agent trained on `experiment.train_traces`, then
//! run greedily on `experiment.test_traces`; its Q-table, learning curve,
//! evaluation and configuration written to a folder
//! (`layout::QTABLE`, `layout::LEARNING_CURVE`, `layout::EVALUATION`,
//! `layout::CONFIG`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use super::{Progress, UsageError};
use crate::agent::{self, CurveRow};
use crate::config::{Config, PolicyKind};
use crate::experiment;
use crate::layout;
use crate::metrics::{to_csv, SummaryRow};
use crate::output::OutputDir;
use crate::policy::Learner;

/// Where a training goes and with which seed.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Master seed (`None`: the first of `experiment.seeds`).
    pub seed: Option<u64>,
    /// The output folder.
    pub out: PathBuf,
    /// Replace an existing output folder.
    pub force: bool,
}

/// A finished training.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The learning curve, one row per episode.
    pub curve: Vec<CurveRow>,
    /// Training traces.
    pub traces: usize,
    /// Simulated steps per wall-clock second of training.
    pub steps_per_s: f64,
    /// The greedy agent on each test trace.
    pub evaluation: Vec<SummaryRow>,
    /// The folder written.
    pub dir: PathBuf,
}

/// The overrides that make `config` a training configuration:
/// `policy.kind = "qlearning"`, and `workload.trace` as the one training
/// trace when `experiment.train_traces` is empty.
///
/// # Errors
/// [`UsageError`] when there is no trace to train on.
fn training_overrides(config: &Config) -> Result<Vec<(String, toml::Value)>> {
    let mut overrides = Vec::new();
    if config.experiment.train_traces.is_empty() {
        let trace = config.workload.trace.clone().ok_or_else(|| {
            UsageError(
                "nothing to train on: set experiment.train_traces (or workload.trace)".into(),
            )
        })?;
        let path = toml::Value::String(trace.display().to_string());
        overrides.push((
            "experiment.train_traces".to_string(),
            toml::Value::Array(vec![path]),
        ));
    }
    overrides.push((
        "policy.kind".to_string(),
        toml::Value::String(PolicyKind::Qlearning.name().to_string()),
    ));
    Ok(overrides)
}

/// Trains the agent under `config` and writes the training folder.
/// `config` is made a training configuration by overrides:
/// `policy.kind = "qlearning"`, and `workload.trace` as the one training
/// trace when `experiment.train_traces` is empty. `progress` follows the
/// episodes.
///
/// # Errors
/// No training trace, a Q-table too large, a trace that cannot be read,
/// an existing folder (without `force`), or an I/O failure.
pub fn train(
    config: &Config,
    options: &TrainOptions,
    progress: &dyn Progress,
) -> Result<TrainOutcome> {
    let config = config.with_overrides(&training_overrides(config)?)?;
    config.check_q_table_size()?;
    let seed = options.seed.unwrap_or(config.experiment.seeds[0]);
    let train_on = experiment::load_workloads(&config.experiment.train_traces, &config)?;
    let test_on = experiment::load_workloads(&config.experiment.test_traces, &config)?;
    let out = OutputDir::create(&options.out, options.force)?;

    let episodes = config.agent.episodes;
    progress.start("training", episodes as usize);
    let started = std::time::Instant::now();
    let trained = agent::train(&config, &train_on, seed, |done, total| {
        progress.update(done as usize, total as usize);
    });
    progress.finish();
    let elapsed = started.elapsed().as_secs_f64();
    let steps: usize = (0..episodes as usize)
        .map(|e| train_on[e % train_on.len()].len())
        .sum();

    let mut greedy = trained.agent.clone();
    greedy.set_exploring(false);
    let evaluation: Vec<_> = test_on
        .iter()
        .map(|w| experiment::run_with(&config, &mut greedy, Arc::clone(w), seed).summary)
        .collect();

    out.write(layout::QTABLE, trained.agent.to_text().as_bytes())?;
    out.write(layout::LEARNING_CURVE, &to_csv(&trained.curve)?)?;
    out.write(layout::EVALUATION, &to_csv(&evaluation)?)?;
    out.write(layout::CONFIG, config.to_toml_in(out.target()).as_bytes())?;
    let dir = out.commit()?;
    Ok(TrainOutcome {
        curve: trained.curve,
        traces: train_on.len(),
        steps_per_s: steps as f64 / elapsed.max(1e-9),
        evaluation,
        dir,
    })
}
