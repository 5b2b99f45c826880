//! The command line: clap types, and the glue from arguments to the
//! library. Only this module and `main.rs` talk to the terminal.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::agent;
use crate::cloud::Workload;
use crate::config::{Config, PolicyKind};
use crate::experiment::{self, TraceSet};
use crate::metrics::to_csv;
use crate::metrics::SummaryRow;
use crate::output::OutputDir;
use crate::policy::{Learner, Policy};

/// Prints a line to stdout, ignoring a closed pipe (`qscale ... | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod reproduce;
mod trace_commands;
pub use reproduce::ReproduceArgs;
pub use trace_commands::{GenArgs, ImportArgs, StatsArgs, TraceCommand};

/// A mistake in how the command was called: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code after an interrupt (128 + SIGINT), as shells report it.
pub const INTERRUPTED_EXIT_CODE: i32 = 130;

/// Makes SIGINT (Ctrl-C), SIGTERM and SIGHUP stop the process cleanly:
/// every temporary file or folder is removed (see [`crate::output`]),
/// finished results stay (a sweep's finished cells, so the same command
/// resumes), one `error:` line says so, and the exit code is 130.
pub fn install_interrupt_handler() {
    let installed = ctrlc::set_handler(|| {
        // Held until exit: no worker can write a temporary path again.
        let _held = crate::output::interrupt();
        eprintln!(
            "error: interrupted: temporary files removed, finished results kept \
             (rerun the same command; a sweep resumes where it stopped)"
        );
        std::process::exit(INTERRUPTED_EXIT_CODE);
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will not clean up temporary files: {e}");
    }
}

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
    /// Sweep parameters: --set key=a,b,c (or from:to:step) axes × seeds, in
    /// parallel, resumable, optionally one shard of a cluster job.
    Sweep(SweepArgs),
    /// Join the folders of a sharded sweep or cross-validation.
    Merge(MergeArgs),
    /// Cross-validate: per fold (leave-one-trace-out by default), tune the
    /// rules and train the agent on the training traces, then evaluate
    /// every policy on the held-out traces (at each of crossval.peaks_rps).
    Crossval(CrossvalArgs),
    /// Find a rule's best parameters on experiment.train_traces (built-in
    /// grid per rule, or --set axes) and write tuned.toml.
    Tune(TuneArgs),
    /// Rerun every experiment of experiments/ into results/ with its
    /// figures (--quick: fewer seeds and episodes).
    Reproduce(ReproduceArgs),
    /// Measure the throughput of the step loop, training, trace import and
    /// sweeps on the bundled traces (embedded in the binary).
    Bench(BenchArgs),
    /// Rebuild the figures of a results folder (run, compare, train or
    /// sweep) into DIR/figures/ from its CSVs.
    Plot(PlotArgs),
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
    /// one wins). Paths given here are relative to the working directory.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub set: Vec<String>,
}

/// `qscale run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Config file and overrides.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Policy to run (sets policy.kind): one of the registered policies.
    #[arg(long, value_name = "KIND", help = format!(
        "Policy to run (sets policy.kind): {}",
        crate::policy::registry::names_in_words(&PolicyKind::ALL)
    ))]
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
        Command::Sweep(args) => sweep(args),
        Command::Merge(args) => merge(args),
        Command::Crossval(args) => crossval(args),
        Command::Tune(args) => tune(args),
        Command::Reproduce(args) => reproduce::reproduce(args),
        Command::Bench(args) => bench(args),
        Command::Plot(args) => plot(args),
        Command::Trace(command) => trace_commands::execute(command),
    }
}

/// Loads the config with the command's own flags applied before `--set`.
fn load_config(cfg: &ConfigArgs, flags: Vec<String>) -> Result<Config> {
    let mut sets = flags;
    sets.extend(cfg.set.iter().cloned());
    Ok(Config::load(cfg.config.as_deref(), &sets)?)
}

/// The results folder a command writes when `--out` is not given:
/// `runs/COMMAND-NAME`, NAME the config file's name without `.toml` (or
/// `default` without one). `run`, `evaluate` and `tune` name theirs after
/// what they run instead.
fn default_out(command: &str, cfg: &ConfigArgs) -> PathBuf {
    let name = cfg
        .config
        .as_deref()
        .and_then(Path::file_stem)
        .map_or_else(|| "default".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from("runs").join(format!("{command}-{name}"))
}

/// The last component of `dir` once resolved (`.` and `..` included), or
/// `fallback` when it has none, for default output names.
fn folder_name(dir: &Path, fallback: &str) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| fallback.into())
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
    let mut policy = experiment::build_policy(&config, &workload, seed)?;
    let summary = write_run(&out, &config, &mut policy, workload, seed)?;
    let dir = out.commit()?;
    print_summary(&summary);
    say!("wrote {}", dir.display());
    Ok(())
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
    let mut steps = out.csv_stream("steps.csv")?;
    let summary = experiment::run_streaming(config, policy, workload, seed, |s| steps.push(s))?;
    steps.finish()?;
    out.write("summary.csv", &to_csv(std::slice::from_ref(&summary))?)?;
    out.write("config.toml", config.to_toml_in(out.target()).as_bytes())?;
    Ok(summary)
}

fn print_summary(s: &SummaryRow) {
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
    if let (Some(au), Some(ao), Some(tu), Some(to), Some(j)) = (
        s.underprov_accuracy_pct,
        s.overprov_accuracy_pct,
        s.underprov_timeshare_pct,
        s.overprov_timeshare_pct,
        s.jitter_per_h,
    ) {
        say!(
            "  under-provisioned {tu:.1}% of the time (θU {au:.1}%), over-provisioned {to:.1}% (θO {ao:.1}%), jitter {j:.1}/h"
        );
    } else {
        say!("  elasticity metrics undefined: no fleet keeps a step's p95 within cloud.slo_s (μ·slo_s ≤ ln 20), or a step needs over 1,000,000 VMs");
    }
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
    /// config.toml (default: runs/train-CONFIG, CONFIG the config file's
    /// name without .toml, or `default`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
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
    /// Results folder (default: runs/evaluate-QTABLE-TRACE-seedN, QTABLE
    /// the training folder's name).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace an existing results folder.
    #[arg(long)]
    pub force: bool,
}

/// Runs `work` with a progress bar of its cells (on a terminal), which
/// `work` advances through its `progress(done, total)` callback.
fn with_cell_bar<T>(
    what: &str,
    work: impl FnOnce(&(dyn Fn(usize, usize) + Sync)) -> Result<T>,
) -> Result<T> {
    let bar = progress_bar(0, what);
    let result = work(&|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    result
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
    config.check_q_table_size()?;
    let seed = args.seed.unwrap_or(config.experiment.seeds[0]);
    let train_on = experiment::load_workloads(&config.experiment.train_traces, &config)?;
    let test_on = experiment::load_workloads(&config.experiment.test_traces, &config)?;
    let out_path = args
        .out
        .clone()
        .unwrap_or_else(|| default_out("train", &args.cfg));
    let out = OutputDir::create(&out_path, args.force)?;

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
    out.write("config.toml", config.to_toml_in(out.target()).as_bytes())?;
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
    if !args.qtable.exists() {
        return Err(UsageError(format!(
            "--qtable {0}: no such folder: name a `qscale train` output folder \
             (`qscale train --out {0}` makes one) or a qtable.txt inside one",
            args.qtable.display()
        ))
        .into());
    }
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
    config.check_q_table_size()?;
    let mut agent = agent::QAgent::load(&table, &config)?;
    let seed = args.seed.unwrap_or(config.experiment.seeds[0]);
    let workload = Arc::new(Workload::load(&args.trace, &config)?);
    let out_path = args.out.clone().unwrap_or_else(|| {
        let trained = folder_name(&dir, "qtable");
        PathBuf::from("runs").join(format!("evaluate-{trained}-{}-seed{seed}", workload.name))
    });
    let out = OutputDir::create(&out_path, args.force)?;
    let summary = write_run(&out, &config, &mut agent, workload, seed)?;
    let dir = out.commit()?;
    print_summary(&summary);
    say!("wrote {}", dir.display());
    Ok(())
}

/// `qscale compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Config file and overrides.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Results folder (default: runs/compare-CONFIG).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = crate::workers::parse_jobs)]
    pub jobs: Option<usize>,
    /// Skip the per-run steps.csv files (summaries only).
    #[arg(long, conflicts_with = "all_steps")]
    pub no_steps: bool,
    /// Keep steps.csv only for the runs of the first seed: the default,
    /// accepted for older scripts.
    #[arg(long, hide = true, conflicts_with = "all_steps")]
    pub first_seed_steps: bool,
    /// Keep steps.csv for every run, not only those of the first seed
    /// (about 7 MB per run of a month at 60 s steps).
    #[arg(long)]
    pub all_steps: bool,
    /// Replace an existing results folder.
    #[arg(long)]
    pub force: bool,
}

fn compare(args: CompareArgs) -> Result<()> {
    let config = load_config(&args.cfg, Vec::new())?;
    let traces = TraceSet::load(&crate::compare::all_trace_paths(&config)?)?;
    let plan = crate::compare::Plan::new(&config, &traces)?;
    let out_path = args
        .out
        .clone()
        .unwrap_or_else(|| default_out("compare", &args.cfg));
    let out = OutputDir::create(&out_path, args.force)?;
    let bar = progress_bar(plan.len() as u64, "comparing");
    let sink = CompareFolder {
        out: &out,
        first_seed: config.experiment.seeds.first().copied(),
        no_steps: args.no_steps,
        all_steps: args.all_steps,
    };
    let result = crate::workers::with_workers(args.jobs, || {
        crate::compare::compare(&config, &plan, &traces, &sink, &|| bar.inc(1))
    })??;
    bar.finish_and_clear();
    let table = crate::compare::markdown(&config.experiment.description, &result.aggregate);
    out.write("summary.csv", &to_csv(&result.runs)?)?;
    out.write("aggregate.csv", &to_csv(&result.aggregate)?)?;
    out.write("summary.md", table.as_bytes())?;
    out.write("config.toml", config.to_toml_in(out.target()).as_bytes())?;
    let dir = out.commit()?;
    say!("{table}");
    say!("wrote {}", dir.display());
    Ok(())
}

/// A comparison folder's runs: `runs/POLICY/TRACE/seed-N/` with the run's
/// summary.csv and, for the first seed (or all, or none), its steps.csv.
struct CompareFolder<'a> {
    out: &'a OutputDir,
    first_seed: Option<u64>,
    no_steps: bool,
    all_steps: bool,
}

impl CompareFolder<'_> {
    fn run_dir(policy: &str, trace: &str, seed: u64) -> String {
        format!("runs/{policy}/{trace}/seed-{seed}")
    }
}

impl crate::compare::RunSink for CompareFolder<'_> {
    fn steps(
        &self,
        policy: &str,
        trace: &str,
        seed: u64,
    ) -> Result<Option<crate::output::CsvStream>> {
        let keep = !self.no_steps && (self.all_steps || self.first_seed == Some(seed));
        keep.then(|| {
            let dir = Self::run_dir(policy, trace, seed);
            self.out.csv_stream(&format!("{dir}/steps.csv"))
        })
        .transpose()
    }

    fn finished(&self, s: &SummaryRow) -> Result<()> {
        let dir = Self::run_dir(&s.policy, &s.trace, s.seed);
        self.out.write(
            &format!("{dir}/summary.csv"),
            &to_csv(std::slice::from_ref(s))?,
        )
    }
}

/// `qscale sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Config file and overrides; a --set whose value has commas
    /// (key=a,b,c) or is a range (key=from:to:step) is a sweep axis.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = crate::workers::parse_jobs)]
    pub jobs: Option<usize>,
    /// Run only shard I of N (1-based), e.g. 2/8; join shards with merge.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Sweep folder (default: runs/sweep-CONFIG; a rerun of the same
    /// command resumes it).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Start over if the folder holds another sweep.
    #[arg(long)]
    pub force: bool,
}

/// `qscale merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard folders of one sweep or one cross-validation.
    #[arg(required = true, value_name = "DIR")]
    pub shards: Vec<PathBuf>,
    /// The merged folder (default: runs/merge-SHARD, SHARD the first shard
    /// folder's name).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace an existing folder.
    #[arg(long)]
    pub force: bool,
    /// Worker threads for a cross-validation's evaluation cells, which run
    /// at merge time (default: all cores).
    #[arg(long, value_parser = crate::workers::parse_jobs)]
    pub jobs: Option<usize>,
}

/// `qscale crossval`.
#[derive(Debug, Args)]
pub struct CrossvalArgs {
    /// Config file and overrides.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = crate::workers::parse_jobs)]
    pub jobs: Option<usize>,
    /// Run only shard I of N (1-based) of the tuning cells, e.g. 2/8; join
    /// the shards with merge, which also runs the evaluation.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Results folder (default: runs/crossval-CONFIG; a rerun of the same
    /// command resumes it).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Start over if the folder holds something else.
    #[arg(long)]
    pub force: bool,
}

fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let bad = || {
        UsageError(format!(
            "--shard {text}: expected I/N with 1 <= I <= N, e.g. 2/8"
        ))
    };
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if i == 0 || n == 0 || i > n {
        return Err(bad().into());
    }
    Ok((i, n))
}

fn sweep(args: SweepArgs) -> Result<()> {
    let mut axes = Vec::new();
    let mut plain = Vec::new();
    for set in &args.cfg.set {
        match crate::sweep::cli_axis(set)? {
            Some(axis) => axes.push(axis),
            None => plain.push(set.clone()),
        }
    }
    let cfg = ConfigArgs {
        config: args.cfg.config.clone(),
        set: plain,
    };
    let config = load_config(&cfg, Vec::new())?;
    let grid = crate::sweep::Grid::new(&config.sweep, axes, &config.experiment.seeds)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out("sweep", &args.cfg));
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let options = crate::sweep::SweepOptions {
        jobs: args.jobs,
        shard,
        force: args.force,
        first_index: 0,
    };
    let started = std::time::Instant::now();
    let report = with_cell_bar("sweep cells", |progress| {
        crate::sweep::run_sweep(&config, &grid, &out, &options, progress)
    })?;
    let secs = started.elapsed().as_secs_f64();
    say!(
        "{} cells ({} combinations x {} seeds{}): ran {}, skipped {} finished, in {:.1} s ({:.1} cells/s)",
        report.cells,
        grid.n_combinations(),
        grid.seeds.len(),
        shard.map_or_else(String::new, |(i, n)| format!(", shard {i}/{n}")),
        report.ran,
        report.skipped,
        secs,
        report.ran as f64 / secs.max(1e-9)
    );
    if report.aggregated {
        say!(
            "wrote {0}/aggregate.csv, {0}/best.md, {0}/summary.csv",
            out.display()
        );
    } else {
        say!(
            "wrote the shard's cells into {}; join the shards with `qscale merge`",
            out.display()
        );
    }
    Ok(())
}

fn crossval(args: CrossvalArgs) -> Result<()> {
    let config = load_config(&args.cfg, Vec::new())?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let options = crate::crossval::CrossvalOptions {
        jobs: args.jobs,
        shard,
        force: args.force,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out("crossval", &args.cfg));
    let started = std::time::Instant::now();
    let report = with_cell_bar("crossval cells", |progress| {
        crate::crossval::run_crossval(&config, &out, &options, progress)
    })?;
    print_crossval(&report, &out, started.elapsed().as_secs_f64())
}

fn print_crossval(report: &crate::crossval::CrossvalReport, out: &Path, secs: f64) -> Result<()> {
    say!(
        "{} folds: {} tuning cells (ran {}), {} evaluation cells (ran {}), in {:.1} s",
        report.folds,
        report.tune_cells,
        report.tune_ran,
        report.eval_cells,
        report.eval_ran,
        secs
    );
    if report.finished {
        let summary = out.join("summary.md");
        let text = std::fs::read_to_string(&summary)
            .with_context(|| format!("reading {}", summary.display()))?;
        // The headline table and the wins, up to the first fold's section.
        let head = text.split("\n## ").next().unwrap_or_default();
        say!("{}", head.trim_end());
        say!(
            "wrote {0}/crossval.csv, {0}/summary.md, {0}/tuned.csv, {0}/figures/crossval.png",
            out.display()
        );
    } else {
        say!(
            "wrote the shard's tuning cells into {}; join the shards with `qscale merge`, which \
             runs the evaluation",
            out.display()
        );
    }
    Ok(())
}

fn merge(args: MergeArgs) -> Result<()> {
    let out = args.out.clone().unwrap_or_else(|| {
        let first = folder_name(&args.shards[0], "shards");
        PathBuf::from("runs").join(format!("merge-{first}"))
    });
    if args
        .shards
        .first()
        .is_some_and(|d| crate::crossval::is_crossval_folder(d))
    {
        let options = crate::crossval::CrossvalOptions {
            jobs: args.jobs,
            shard: None,
            force: args.force,
        };
        let started = std::time::Instant::now();
        let report = with_cell_bar("crossval cells", |progress| {
            crate::crossval::merge(&args.shards, &out, &options, progress)
        })?;
        return print_crossval(&report, &out, started.elapsed().as_secs_f64());
    }
    let copied = crate::sweep::merge(&args.shards, &out, args.force)?;
    say!(
        "merged {} cells from {} shard folders into {}",
        copied,
        args.shards.len(),
        out.display()
    );
    Ok(())
}

/// `qscale tune`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Config file and overrides; a --set whose value has commas
    /// (key=a,b,c) or is a range (key=from:to:step) is a search axis that
    /// replaces the built-in axis of that key (or adds one); a plain --set
    /// of a searched key pins it.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// The rule to tune: one with a built-in grid.
    #[arg(long, value_name = "KIND", help = format!(
        "The rule to tune: {}",
        crate::policy::registry::names_in_words(&crate::policy::TUNABLE)
    ))]
    pub policy: PolicyKind,
    /// Search only the config's sweep axes and the --set axes, not the rule's built-in grid.
    #[arg(long)]
    pub no_builtin_grid: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = crate::workers::parse_jobs)]
    pub jobs: Option<usize>,
    /// Results folder (default: runs/tune-POLICY; a rerun resumes it).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Start over if the folder holds something else.
    #[arg(long)]
    pub force: bool,
}

fn tune(args: TuneArgs) -> Result<()> {
    let (mut axes, mut plain, mut pinned) = (Vec::new(), Vec::new(), Vec::new());
    for set in &args.cfg.set {
        match crate::sweep::cli_axis(set)? {
            Some(axis) => axes.push(axis),
            None => {
                if let Some((key, _)) = set.split_once('=') {
                    pinned.push(key.trim().to_string());
                }
                plain.push(set.clone());
            }
        }
    }
    let cfg = ConfigArgs {
        config: args.cfg.config.clone(),
        set: plain,
    };
    let config = load_config(&cfg, Vec::new())?;
    let spec = crate::tune::TuneSpec {
        policy: args.policy,
        axes,
        pinned,
        builtin_grid: !args.no_builtin_grid,
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("tune-{}", args.policy)));
    let options = crate::tune::TuneOptions {
        jobs: args.jobs,
        force: args.force,
    };
    let started = std::time::Instant::now();
    let report = with_cell_bar("tuning", |progress| {
        crate::tune::run_tune(&config, &spec, &out, &options, progress)
    })?;
    let s = &report.search;
    for t in &report.overlap {
        eprintln!(
            "warning: training trace {} is also in experiment.traces or experiment.test_traces: \
             results on it are in-sample",
            t.display()
        );
    }
    say!(
        "tuned {} on {} training trace(s) x {} seed(s): {} combinations ({} of {} in the grid, {} invalid skipped{}), \
         {} cells (ran {}, {} already finished) in {:.1} s",
        s.base.policy.kind,
        s.base.experiment.traces.len(),
        s.base.experiment.seeds.len(),
        s.candidates.len(),
        s.product - s.skipped.len(),
        s.product,
        s.skipped.len(),
        if s.default_index.is_some_and(|d| d + s.skipped.len() >= s.product) {
            ", the defaults added"
        } else {
            ""
        },
        report.sweep.cells,
        report.sweep.ran,
        report.sweep.skipped,
        started.elapsed().as_secs_f64()
    );
    let best = report.best();
    let o = &report.objectives[best];
    let d = &report.defaults;
    let params: Vec<String> = report
        .best_combination()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    say!("best: {}", params.join(" "));
    say!(
        "  score ${:.4} ± {:.4} vs the defaults' ${:.4} ± {:.4}{} (mean over training traces x seeds, 95 % CI over seeds)",
        o.score_mean,
        o.score_ci95,
        d.score_mean,
        d.score_ci95,
        if d.score_mean > 0.0 {
            format!(
                ": {:.1} % lower",
                100.0 * (d.score_mean - o.score_mean) / d.score_mean
            )
        } else {
            String::new()
        },
    );
    if let Some(i) = s.default_index {
        say!(
            "  the defaults rank {} of {}",
            report.rank_of(i),
            s.candidates.len()
        );
    }
    say!(
        "reproduce: {}",
        crate::tune::set_flags(report.best_combination())
    );
    say!(
        "wrote {0}/tuned.toml, {0}/objective.csv, {0}/aggregate.csv, {0}/best.md, {0}/defaults.csv",
        out.display()
    );
    Ok(())
}

/// `qscale plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A results folder: a run, a comparison, a training run, a folder of
    /// training runs (seed-*/) or a sweep.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Image format: png, svg or both.
    #[arg(long, default_value = "both", value_name = "FORMAT")]
    pub format: crate::plot::Format,
}

fn plot(args: PlotArgs) -> Result<()> {
    let report = crate::plot::plot_folder(&args.dir, args.format)?;
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    for path in &report.written {
        say!("wrote {}", path.display());
    }
    say!(
        "{} figure file(s) from a {} in {}",
        report.written.len(),
        report.kind,
        args.dir.display()
    );
    Ok(())
}

/// `qscale bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print one JSON object instead of `name=value unit` lines.
    #[arg(long)]
    pub json: bool,
    /// Seconds to spend on each figure.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
}

fn bench(args: BenchArgs) -> Result<()> {
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        return Err(UsageError("--seconds must be a positive number".into()).into());
    }
    let scratch = std::env::temp_dir().join(format!("qscale-bench-{}", std::process::id()));
    let json = args.json;
    let result = crate::bench::run_bench(&scratch, args.seconds, &mut |f| {
        if !json {
            say!("{}={:.6} {}  # {}", f.name, f.value, f.unit, f.detail);
        }
    });
    std::fs::remove_dir_all(&scratch).ok();
    let figures = result?;
    if json {
        let map: serde_json_like::Map = figures
            .iter()
            .map(|f| (f.name.clone(), f.value, f.unit.clone()))
            .collect();
        say!("{}", map.render());
    }
    Ok(())
}

/// A minimal JSON object writer for `bench --json` (names and numbers only).
mod serde_json_like {
    /// `{"name": {"value": v, "unit": "u"}, ...}` in insertion order.
    pub struct Map(Vec<(String, f64, String)>);

    impl FromIterator<(String, f64, String)> for Map {
        fn from_iter<I: IntoIterator<Item = (String, f64, String)>>(iter: I) -> Self {
            Map(iter.into_iter().collect())
        }
    }

    impl Map {
        pub fn render(&self) -> String {
            let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
            let body: Vec<String> = self
                .0
                .iter()
                .map(|(k, v, u)| {
                    let v = if v.is_finite() {
                        v.to_string()
                    } else {
                        "null".to_string()
                    };
                    format!(
                        "\"{}\": {{\"value\": {v}, \"unit\": \"{}\"}}",
                        escape(k),
                        escape(u)
                    )
                })
                .collect();
            format!("{{{}}}", body.join(", "))
        }
    }
}
