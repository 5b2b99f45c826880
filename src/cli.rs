//! The command line: clap types, and the glue from arguments to the
//! library. Only this module and `main.rs` talk to the terminal.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::cloud::Workload;
use crate::config::{Config, PolicyKind};
use crate::experiment::{self, RunRecord};
use crate::metrics::to_csv;
use crate::output::{write_file_atomic, OutputDir};
use crate::trace::{self, GenKind, GenSpec};

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
    println!("wrote {}", dir.display());
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
    println!(
        "{} on {} (seed {}): score ${:.4} = cost ${:.4} + penalty ${:.4}",
        s.policy, s.trace, s.seed, s.score_usd, s.cost_usd, s.penalty_usd
    );
    println!(
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
    println!(
        "wrote {} ({} rows of {} s, mean {:.2} req/s, peak {:.2} req/s)",
        args.out.display(),
        generated.requests.len(),
        generated.interval_s,
        generated.mean_rps(),
        generated.peak_rps()
    );
    Ok(())
}
