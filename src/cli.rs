//! The command line: clap types, and the glue from arguments to the
//! library. Only this module and `main.rs` talk to the terminal.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::agent;
use crate::cloud::Workload;
use crate::config::{Config, PolicyKind};
use crate::experiment::{self, RunRecord};
use crate::metrics::to_csv;
use crate::output::{write_file_atomic, OutputDir};
use crate::policy::Learner;
use crate::trace::{self, GenKind, GenSpec};

/// Prints a line to stdout, ignoring a closed pipe (`qscale ... | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// A mistake in how the command was called: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// qscale: a laboratory for cloud autoscaling research.
#[derive(Debug, Parser)]
#[command(name = "qscale", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one policy on one trace and write steps.csv, summary.csv and
    /// config.toml.
    Run(RunArgs),
    /// Train the Q-learning agent on experiment.train_traces and write its
    /// Q-table, learning curve and evaluation on experiment.test_traces.
    Train(TrainArgs),
    /// Run a trained agent greedily on a trace (same outputs as run).
    Evaluate(EvaluateArgs),
    /// Run experiment.policies × experiment.traces × experiment.seeds and
    /// aggregate over seeds.
    Compare(CompareArgs),
    /// Generate, import or describe traces.
    #[command(subcommand)]
    Trace(TraceCommand),
}

/// The configuration every simulating command takes.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Experiment file (TOML); defaults are used for what it leaves out.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override one key, e.g. --set cloud.max_vms=20 (repeatable; the last
    /// one wins).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub set: Vec<String>,
}

/// `qscale run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Config file and overrides.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Policy to run (sets policy.kind).
    #[arg(long, value_name = "KIND")]
    pub policy: Option<PolicyKind>,
    /// Trace to replay (sets workload.trace).
    #[arg(long, value_name = "CSV")]
    pub trace: Option<PathBuf>,
    /// Master seed (default: the first of experiment.seeds).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Results folder (default: runs/POLICY-TRACE-seedN).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace an existing results folder.
    #[arg(long)]
    pub force: bool,
}

/// `qscale trace ...`.
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Generate a synthetic trace (seeded).
    Gen(GenArgs),
}

/// `qscale trace gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// constant, step, diurnal, bursty, flash-crowd or ramp.
    #[arg(long)]
    pub kind: GenKind,
    /// Length in days.
    #[arg(long, conflicts_with = "hours")]
    pub days: Option<f64>,
    /// Length in hours.
    #[arg(long)]
    pub hours: Option<f64>,
    /// Interval between rows, seconds.
    #[arg(long, default_value_t = 60.0)]
    pub interval_s: f64,
    /// Base (low) rate, requests per second.
    #[arg(long, default_value_t = 50.0)]
    pub base_rps: f64,
    /// Peak (high) rate, requests per second.
    #[arg(long, default_value_t = 200.0)]
    pub peak_rps: f64,
    /// Diurnal: weekends at a reduced level.
    #[arg(long)]
    pub weekly: bool,
    /// Write the expected counts instead of Poisson draws.
    #[arg(long)]
    pub no_noise: bool,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Trace name (default: the output file stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Output CSV.
    #[arg(long, value_name = "CSV")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Runs a parsed command line.
///
/// # Errors
/// Anything that went wrong, with context naming files and keys.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(args),
        Command::Train(args) => train(args),
        Command::Evaluate(args) => evaluate(args),
        Command::Compare(args) => compare(args),
        Command::Trace(TraceCommand::Gen(args)) => trace_gen(args),
    }
}

/// Loads the config with the command's own flags applied before `--set`.
fn load_config(cfg: &ConfigArgs, flags: Vec<String>) -> Result<Config> {
    let mut sets = flags;
    sets.extend(cfg.set.iter().cloned());
    Ok(Config::load(cfg.config.as_deref(), &sets)?)
}

fn path_override(key: &str, path: &Path) -> String {
    let quoted = toml::Value::String(path.display().to_string()).to_string();
    format!("{key}={quoted}")
}

fn run(args: RunArgs) -> Result<()> {
    let mut flags = Vec::new();
    if let Some(p) = args.policy {
        flags.push(format!("policy.kind=\"{p}\""));
    }
    if let Some(t) = &args.trace {
        flags.push(path_override("workload.trace", t));
    }
    let config = load_config(&args.cfg, flags)?;
    let trace_path = config.workload.trace.clone().ok_or_else(|| {
        UsageError("no trace given: pass --trace FILE or set workload.trace".into())
    })?;
    let seed = args.seed.unwrap_or(config.experiment.seeds[0]);
    let workload = Arc::new(Workload::load(&trace_path, &config)?);
    let out_path = args.out.unwrap_or_else(|| {
        PathBuf::from("runs").join(format!(
            "{}-{}-seed{seed}",
            config.policy.kind, workload.name
        ))
    });
    let out = OutputDir::create(&out_path, args.force)?;
    let record = experiment::run_policy(&config, workload, seed)?;
    write_run(&out, &config, &record)?;
    let dir = out.commit()?;
    print_summary(&record);
    say!("wrote {}", dir.display());
    Ok(())
}

/// Writes steps.csv, summary.csv and config.toml of one run.
fn write_run(out: &OutputDir, config: &Config, record: &RunRecord) -> Result<()> {
    out.write("steps.csv", &to_csv(&record.steps)?)?;
    out.write(
        "summary.csv",
        &to_csv(std::slice::from_ref(&record.summary))?,
    )?;
    out.write("config.toml", config.to_toml().as_bytes())?;
    Ok(())
}

fn print_summary(record: &RunRecord) {
    let s = &record.summary;
    say!(
        "{} on {} (seed {}): score ${:.4} = cost ${:.4} + penalty ${:.4}",
        s.policy,
        s.trace,
        s.seed,
        s.score_usd,
        s.cost_usd,
        s.penalty_usd
    );
    say!(
        "  requests {:.0}, SLO violations {:.0} ({:.3}%), drops {:.0}, VMs mean {:.2} max {}, {:.2} VM-hours, {} scaling actions",
        s.requests,
        s.violations,
        100.0 * s.violation_rate,
        s.drops,
        s.mean_vms,
        s.max_vms,
        s.vm_hours,
        s.scaling_actions
    );
}

fn trace_gen(args: GenArgs) -> Result<()> {
    if !args.force && args.out.exists() {
        return Err(UsageError(format!(
            "{} already exists: choose another --out or pass --force",
            args.out.display()
        ))
        .into());
    }
    let duration_s = match (args.days, args.hours) {
        (Some(d), _) => d * 86_400.0,
        (None, Some(h)) => h * 3600.0,
        (None, None) => 7.0 * 86_400.0,
    };
    let name = args.name.clone().unwrap_or_else(|| {
        args.out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "trace".into())
    });
    let spec = GenSpec {
        kind: args.kind,
        interval_s: args.interval_s,
        duration_s,
        base_rps: args.base_rps,
        peak_rps: args.peak_rps,
        weekly: args.weekly,
        noise: !args.no_noise,
        seed: args.seed,
        name,
    };
    let generated = trace::generate(&spec).map_err(|e| UsageError(e.to_string()))?;
    let mut bytes = Vec::new();
    trace::write_csv(&generated, &mut bytes).context("formatting the trace")?;
    write_file_atomic(&args.out, &bytes)?;
    say!(
        "wrote {} ({} rows of {} s, mean {:.2} req/s, peak {:.2} req/s)",
        args.out.display(),
        generated.requests.len(),
        generated.interval_s,
        generated.mean_rps(),
        generated.peak_rps()
    );
    Ok(())
}

/// `qscale train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Config file and overrides.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Training episodes (sets agent.episodes).
    #[arg(long)]
    pub episodes: Option<u32>,
    /// Master seed (default: the first of experiment.seeds).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder for qtable.txt, learning_curve.csv, evaluation.csv and
    /// config.toml.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing output folder.
    #[arg(long)]
    pub force: bool,
}

/// `qscale evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// A `qscale train` output folder, or a qtable.txt inside one (its
    /// config.toml is the base configuration).
    #[arg(long, value_name = "DIR|FILE")]
    pub qtable: PathBuf,
    /// Trace to replay.
    #[arg(long, value_name = "CSV")]
    pub trace: PathBuf,
    /// Override one key of the training config (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub set: Vec<String>,
    /// Master seed (default: the first of experiment.seeds).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Results folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing results folder.
    #[arg(long)]
    pub force: bool,
}

/// A progress bar on a terminal, nothing otherwise.
fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {pos}/{len} ({elapsed}, eta {eta})",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

fn train(args: TrainArgs) -> Result<()> {
    let mut flags = Vec::new();
    if let Some(n) = args.episodes {
        flags.push(format!("agent.episodes={n}"));
    }
    let mut config = load_config(&args.cfg, flags)?;
    if config.experiment.train_traces.is_empty() {
        let trace = config.workload.trace.clone().ok_or_else(|| {
            UsageError(
                "nothing to train on: set experiment.train_traces (or workload.trace)".into(),
            )
        })?;
        config.experiment.train_traces = vec![trace];
    }
    config.policy.kind = PolicyKind::Qlearning;
    let seed = args.seed.unwrap_or(config.experiment.seeds[0]);
    let train_on = experiment::load_workloads(&config.experiment.train_traces, &config)?;
    let test_on = experiment::load_workloads(&config.experiment.test_traces, &config)?;
    let out = OutputDir::create(&args.out, args.force)?;

    let bar = progress_bar(u64::from(config.agent.episodes), "training");
    let started = std::time::Instant::now();
    let trained = agent::train(&config, &train_on, seed, |done, _| {
        bar.set_position(u64::from(done))
    });
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let steps: usize = (0..config.agent.episodes as usize)
        .map(|e| train_on[e % train_on.len()].len())
        .sum();

    let mut greedy = trained.agent.clone();
    greedy.set_exploring(false);
    let evaluation: Vec<_> = test_on
        .iter()
        .map(|w| experiment::run_with(&config, &mut greedy, Arc::clone(w), seed).summary)
        .collect();

    out.write("qtable.txt", trained.agent.to_text().as_bytes())?;
    out.write("learning_curve.csv", &to_csv(&trained.curve)?)?;
    out.write("evaluation.csv", &to_csv(&evaluation)?)?;
    out.write("config.toml", config.to_toml().as_bytes())?;
    let dir = out.commit()?;

    if let (Some(first), Some(last)) = (trained.curve.first(), trained.curve.last()) {
        say!(
            "trained {} episodes on {} trace(s): score ${:.4} in episode 0, ${:.4} in episode {} ({:.0} steps/s)",
            trained.curve.len(),
            train_on.len(),
            -first.reward,
            -last.reward,
            last.episode,
            steps as f64 / elapsed.max(1e-9)
        );
    }
    for row in &evaluation {
        say!(
            "  test {}: score ${:.4} (cost ${:.4}, penalty ${:.4}, violation rate {:.3}%)",
            row.trace,
            row.score_usd,
            row.cost_usd,
            row.penalty_usd,
            100.0 * row.violation_rate
        );
    }
    say!("wrote {}", dir.display());
    Ok(())
}

fn evaluate(args: EvaluateArgs) -> Result<()> {
    let (dir, table) = if args.qtable.is_dir() {
        (args.qtable.clone(), args.qtable.join("qtable.txt"))
    } else {
        let dir = args
            .qtable
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        (dir, args.qtable.clone())
    };
    let config_path = dir.join("config.toml");
    if !config_path.exists() {
        return Err(UsageError(format!(
            "{} not found: --qtable must name a `qscale train` output folder (or a qtable.txt inside one)",
            config_path.display()
        ))
        .into());
    }
    let mut sets = args.set.clone();
    sets.push(path_override("workload.trace", &args.trace));
    let config = Config::load(Some(&config_path), &sets)?;
    let mut agent = agent::QAgent::load(&table, &config)?;
    let seed = args.seed.unwrap_or(config.experiment.seeds[0]);
    let workload = Arc::new(Workload::load(&args.trace, &config)?);
    let out = OutputDir::create(&args.out, args.force)?;
    let record = experiment::run_with(&config, &mut agent, workload, seed);
    write_run(&out, &config, &record)?;
    let dir = out.commit()?;
    print_summary(&record);
    say!("wrote {}", dir.display());
    Ok(())
}

/// `qscale compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Config file and overrides.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Results folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Skip the per-run steps.csv files (summaries only).
    #[arg(long)]
    pub no_steps: bool,
    /// Replace an existing results folder.
    #[arg(long)]
    pub force: bool,
}

fn compare(args: CompareArgs) -> Result<()> {
    let config = load_config(&args.cfg, Vec::new())?;
    let plan = crate::compare::Plan::from_config(&config)?;
    let out = OutputDir::create(&args.out, args.force)?;
    let bar = progress_bar(plan.len() as u64, "comparing");
    let save = |record: &RunRecord| -> Result<()> {
        let s = &record.summary;
        let dir = format!("runs/{}/{}/seed-{}", s.policy, s.trace, s.seed);
        if !args.no_steps {
            out.write(&format!("{dir}/steps.csv"), &to_csv(&record.steps)?)?;
        }
        out.write(
            &format!("{dir}/summary.csv"),
            &to_csv(std::slice::from_ref(s))?,
        )
    };
    let result = crate::compare::compare(&config, &plan, &save, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let table = crate::compare::markdown(&config.experiment.description, &result.aggregate);
    out.write("summary.csv", &to_csv(&result.runs)?)?;
    out.write("aggregate.csv", &to_csv(&result.aggregate)?)?;
    out.write("summary.md", table.as_bytes())?;
    out.write("config.toml", config.to_toml().as_bytes())?;
    let dir = out.commit()?;
    say!("{table}");
    say!("wrote {}", dir.display());
    Ok(())
}
