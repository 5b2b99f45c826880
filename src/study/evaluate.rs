//! `qscale run` and `qscale evaluate`: one policy on one trace, its steps,
//! summary and configuration written to a results folder
//! ([`layout::STEPS`], [`layout::SUMMARY`], [`layout::CONFIG`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;

use super::UsageError;
use crate::agent::QAgent;
use crate::cloud::Workload;
use crate::config::Config;
use crate::experiment;
use crate::layout;
use crate::metrics::{to_csv, SummaryRow};
use crate::output::OutputDir;
use crate::policy::Policy;

/// Where a run goes and with which seed.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunOptions {
    /// Master seed (`None`: the first of `experiment.seeds`).
    pub seed: Option<u64>,
    /// Results folder (`None`: `runs/POLICY-TRACE-seedN` for a run,
    /// `runs/evaluate-QTABLE-TRACE-seedN` for an evaluation).
    pub out: Option<PathBuf>,
    /// Replace an existing results folder.
    pub force: bool,
}

/// A finished run.
#[derive(Debug, Clone)]
pub(crate) struct RunOutcome {
    /// Its summary.
    pub summary: SummaryRow,
    /// The results folder written.
    pub dir: PathBuf,
}

/// Runs `config`'s policy on `workload.trace` and writes the run's folder.
///
/// # Errors
/// No trace configured, a trace or policy that cannot be built, an
/// existing folder (without `force`), or an I/O failure.
pub(crate) fn run(config: &Config, options: &RunOptions) -> Result<RunOutcome> {
    let trace_path = config.workload.trace.clone().ok_or_else(|| {
        UsageError("no trace given: pass --trace FILE or set workload.trace".into())
    })?;
    let seed = options.seed.unwrap_or(config.experiment.seeds[0]);
    let workload = Arc::new(Workload::load(&trace_path, config)?);
    let out_path = options.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!(
            "{}-{}-seed{seed}",
            config.policy.kind, workload.name
        ))
    });
    let out = OutputDir::create(&out_path, options.force)?;
    let mut policy = experiment::build_policy(config, &workload, seed)?;
    let summary = write_run(&out, config, &mut policy, workload, seed)?;
    let dir = out.commit()?;
    Ok(RunOutcome { summary, dir })
}

/// A trained agent to evaluate: a `qscale train` folder, or a Q-table file
/// inside one (the folder's configuration is the base configuration).
#[derive(Debug, Clone)]
pub(crate) struct TrainedAgent {
    /// The training folder.
    pub dir: PathBuf,
    /// Its Q-table file.
    pub table: PathBuf,
}

impl TrainedAgent {
    /// The training folder named by `path` (a folder or a Q-table file in
    /// one).
    ///
    /// # Errors
    /// [`UsageError`] when `path` or the folder's configuration does not
    /// exist.
    pub(crate) fn find(path: &Path) -> Result<TrainedAgent> {
        if !path.exists() {
            return Err(UsageError(format!(
                "--qtable {0}: no such folder: name a `qscale train` output folder \
                 (`qscale train --out {0}` makes one) or a qtable.txt inside one",
                path.display()
            ))
            .into());
        }
        let found = if path.is_dir() {
            TrainedAgent {
                dir: path.to_path_buf(),
                table: path.join(layout::QTABLE),
            }
        } else {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            TrainedAgent {
                dir,
                table: path.to_path_buf(),
            }
        };
        let config_path = found.config();
        if !config_path.exists() {
            return Err(UsageError(format!(
                "{} not found: --qtable must name a `qscale train` output folder (or a qtable.txt inside one)",
                config_path.display()
            ))
            .into());
        }
        Ok(found)
    }

    /// The training folder's configuration file.
    pub fn config(&self) -> PathBuf {
        self.dir.join(layout::CONFIG)
    }
}

/// Runs the agent of `trained` greedily on `trace` under `config` (the
/// training configuration with the caller's overrides, `workload.trace`
/// among them) and writes the run's folder.
///
/// # Errors
/// A Q-table that does not fit `config`, a trace that cannot be read, an
/// existing folder (without `force`), or an I/O failure.
pub(crate) fn evaluate(
    config: &Config,
    trained: &TrainedAgent,
    trace: &Path,
    options: &RunOptions,
) -> Result<RunOutcome> {
    config.check_q_table_size()?;
    let mut agent = QAgent::load(&trained.table, config)?;
    let seed = options.seed.unwrap_or(config.experiment.seeds[0]);
    let workload = Arc::new(Workload::load(trace, config)?);
    let out_path = options.out.clone().unwrap_or_else(|| {
        let name = super::folder_name(&trained.dir, "qtable");
        PathBuf::from("runs").join(format!("evaluate-{name}-{}-seed{seed}", workload.name))
    });
    let out = OutputDir::create(&out_path, options.force)?;
    let summary = write_run(&out, config, &mut agent, workload, seed)?;
    let dir = out.commit()?;
    Ok(RunOutcome { summary, dir })
}

/// Runs `policy` and writes steps.csv (as the run goes), summary.csv and
/// config.toml of the run.
fn write_run<P: Policy + ?Sized>(
    out: &OutputDir,
    config: &Config,
    policy: &mut P,
    workload: Arc<Workload>,
    seed: u64,
) -> Result<SummaryRow> {
    let mut steps = out.csv_stream(layout::STEPS)?;
    let summary = experiment::run_streaming(config, policy, workload, seed, |s| steps.push(s))?;
    steps.finish()?;
    out.write(layout::SUMMARY, &to_csv(std::slice::from_ref(&summary))?)?;
    out.write(layout::CONFIG, config.to_toml_in(out.target()).as_bytes())?;
    Ok(summary)
}
