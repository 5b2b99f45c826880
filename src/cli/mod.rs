//! The command line: clap types, progress display and printing. Each
//! subcommand loads its configuration (its flags applied as `--set`
//! overrides), calls one study function of [`crate::study`] and prints
//! what it returned. Only this module and `main.rs` talk to the terminal.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, PolicyKind};
use crate::study::{self, UsageError};

/// Prints a line to stdout, ignoring a closed pipe (`qscale ... | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod print;
mod progress;
mod trace_commands;
use progress::Bar;
pub(crate) use trace_commands::TraceCommand;

/// The exit code after an interrupt (128 + SIGINT), as shells report it.
pub(crate) const INTERRUPTED_EXIT_CODE: i32 = 130;

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
    /// With crossval.in_sample = true each trace is its own fold instead.
    Crossval(CrossvalArgs),
    /// Find a rule's best parameters on experiment.train_traces (built-in
    /// grid per rule, or --set axes) and write tuned.toml.
    Tune(TuneArgs),
    /// Measure the analytic model against the request-level simulation:
    /// experiment.policies × experiment.traces × experiment.seeds in both,
    /// errors per regime in validate.csv and summary.md.
    Validate(ValidateArgs),
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
        Command::Validate(args) => validate(args),
        Command::Tune(args) => tune(args),
        Command::Reproduce(args) => reproduce(args),
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

/// `key="PATH"`: a path flag as a `--set` override.
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
    let options = study::evaluate::RunOptions {
        seed: args.seed,
        out: args.out,
        force: args.force,
    };
    print::run(&study::evaluate::run(&config, &options)?);
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

fn train(args: TrainArgs) -> Result<()> {
    let mut flags = Vec::new();
    if let Some(n) = args.episodes {
        flags.push(format!("agent.episodes={n}"));
    }
    let config = load_config(&args.cfg, flags)?;
    let options = study::train::TrainOptions {
        seed: args.seed,
        out: args
            .out
            .clone()
            .unwrap_or_else(|| default_out("train", &args.cfg)),
        force: args.force,
    };
    print::trained(&study::train::train(&config, &options, &Bar::default())?);
    Ok(())
}

fn evaluate(args: EvaluateArgs) -> Result<()> {
    let trained = study::evaluate::TrainedAgent::find(&args.qtable)?;
    let mut sets = args.set.clone();
    sets.push(path_override("workload.trace", &args.trace));
    let config = Config::load(Some(&trained.config()), &sets)?;
    let options = study::evaluate::RunOptions {
        seed: args.seed,
        out: args.out,
        force: args.force,
    };
    let outcome = study::evaluate::evaluate(&config, &trained, &args.trace, &options)?;
    print::run(&outcome);
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
    let steps = if args.no_steps {
        study::compare::StepsKept::None
    } else if args.all_steps {
        study::compare::StepsKept::All
    } else {
        study::compare::StepsKept::FirstSeed
    };
    let options = study::compare::CompareOptions {
        out: args
            .out
            .clone()
            .unwrap_or_else(|| default_out("compare", &args.cfg)),
        jobs: args.jobs,
        steps,
        force: args.force,
    };
    let outcome = study::compare::compare_folder(&config, &options, &Bar::default())?;
    print::compared(&outcome);
    Ok(())
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

/// `qscale validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Config file and overrides (cloud.service and cloud.service_cv set
    /// the simulated service times).
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = crate::workers::parse_jobs)]
    pub jobs: Option<usize>,
    /// Results folder (default: runs/validate-CONFIG).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace an existing results folder.
    #[arg(long)]
    pub force: bool,
}

fn validate(args: ValidateArgs) -> Result<()> {
    let config = load_config(&args.cfg, Vec::new())?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out("validate", &args.cfg));
    let outcome =
        study::validate::validate_folder(&config, &out, args.force, args.jobs, &Bar::default())?;
    print::validated(&outcome);
    Ok(())
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
    let split = study::sweep::split_sets(&args.cfg.set)?;
    let config = Config::load(args.cfg.config.as_deref(), &split.plain)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out("sweep", &args.cfg));
    let options = study::sweep::SweepOptions {
        jobs: args.jobs,
        shard: args.shard.as_deref().map(parse_shard).transpose()?,
        force: args.force,
        first_index: 0,
    };
    let outcome = study::sweep::sweep_folder(&config, split.axes, &out, &options, &Bar::default())?;
    print::swept(&outcome, &out);
    Ok(())
}

fn crossval(args: CrossvalArgs) -> Result<()> {
    let config = load_config(&args.cfg, Vec::new())?;
    let options = study::crossval::CrossvalOptions {
        jobs: args.jobs,
        shard: args.shard.as_deref().map(parse_shard).transpose()?,
        force: args.force,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out("crossval", &args.cfg));
    let outcome = study::crossval::crossval_folder(&config, &out, &options, &Bar::default())?;
    print::crossvalidated(&outcome, &out);
    Ok(())
}

fn merge(args: MergeArgs) -> Result<()> {
    let out = args.out.clone().unwrap_or_else(|| {
        let first = study::folder_name(&args.shards[0], "shards");
        PathBuf::from("runs").join(format!("merge-{first}"))
    });
    let options = study::merge::MergeOptions {
        jobs: args.jobs,
        force: args.force,
    };
    match study::merge::merge(&args.shards, &out, &options, &Bar::default())? {
        study::merge::Merged::Crossval(outcome) => print::crossvalidated(&outcome, &out),
        study::merge::Merged::Sweep { cells } => say!(
            "merged {} cells from {} shard folders into {}",
            cells,
            args.shards.len(),
            out.display()
        ),
    }
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
    let split = study::sweep::split_sets(&args.cfg.set)?;
    let config = Config::load(args.cfg.config.as_deref(), &split.plain)?;
    let spec = study::tune::TuneSpec {
        policy: args.policy,
        axes: split.axes,
        pinned: split.pinned,
        builtin_grid: !args.no_builtin_grid,
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("tune-{}", args.policy)));
    let options = study::tune::TuneOptions {
        jobs: args.jobs,
        force: args.force,
    };
    let outcome = study::tune::tune_folder(&config, &spec, &out, &options, &Bar::default())?;
    print::tuned(&outcome, &out);
    Ok(())
}

/// `qscale reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// A reduced run (at most 2 seeds and 30 training episodes per
    /// experiment; a cross-validation tunes only `static` and `target`)
    /// that finishes in about 15 s once built.
    #[arg(long)]
    pub quick: bool,
    /// Folder of experiment files.
    #[arg(long, default_value = "experiments", value_name = "DIR")]
    pub experiments: PathBuf,
    /// Where the results go, one folder per experiment (default: results/,
    /// or results-quick/ with --quick, so a quick run never overwrites the
    /// committed results).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = crate::workers::parse_jobs)]
    pub jobs: Option<usize>,
    /// Only the experiments whose file stem contains this text.
    #[arg(long, value_name = "TEXT")]
    pub only: Option<String>,
}

fn reproduce(args: ReproduceArgs) -> Result<()> {
    let options = study::reproduce::ReproduceOptions {
        quick: args.quick,
        experiments: args.experiments,
        out: args.out,
        jobs: args.jobs,
        only: args.only,
    };
    let done = study::reproduce::reproduce(&options, &Bar::default(), &mut print::event)?;
    say!(
        "reproduced {} experiment(s) into {} in {:.0} s; see {}",
        done.experiments,
        done.root.display(),
        done.seconds,
        done.root.join(crate::layout::README).display()
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
    /// Compare with another qscale binary (an older build, say): both run
    /// `bench` as child processes, in turn, `--rounds` times, and the
    /// ratio this/other of each figure is printed (median over the
    /// rounds). Run from the repository root if the other binary reads
    /// its traces from there (builds before the traces were embedded).
    #[arg(long, value_name = "BINARY", conflicts_with = "json")]
    pub against: Option<PathBuf>,
    /// Rounds of `--against` (the order of the two runs alternates).
    #[arg(long, default_value_t = 5, requires = "against",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
}

fn bench(args: BenchArgs) -> Result<()> {
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        return Err(UsageError("--seconds must be a positive number".into()).into());
    }
    if let Some(other) = &args.against {
        return bench_against(other, args.rounds, args.seconds);
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

/// `qscale bench --against OTHER`: see [`crate::bench::against`].
fn bench_against(other: &Path, rounds: u32, seconds: f64) -> Result<()> {
    use crate::bench::against;
    use crate::study::Progress as _;
    use anyhow::Context as _;
    if !other.is_file() {
        return Err(UsageError(format!(
            "--against {}: no such file (give the path of a qscale binary)",
            other.display()
        ))
        .into());
    }
    let this = std::env::current_exe().context("finding this binary's path")?;
    let bar = Bar::default();
    bar.start("bench rounds", rounds as usize);
    let runs = against::run_rounds(&this, other, rounds, seconds, |done, total| {
        bar.update(done as usize, total as usize);
    });
    bar.finish();
    let runs = runs?;
    let outcome = against::compare(&runs);
    say!(
        "{}",
        against::render(&outcome, other, rounds, seconds).trim_end()
    );
    Ok(())
}

/// A minimal JSON object writer for `bench --json` (names and numbers only).
mod serde_json_like {
    /// `{"name": {"value": v, "unit": "u"}, ...}` in insertion order.
    pub(crate) struct Map(Vec<(String, f64, String)>);

    impl FromIterator<(String, f64, String)> for Map {
        fn from_iter<I: IntoIterator<Item = (String, f64, String)>>(iter: I) -> Self {
            Map(iter.into_iter().collect())
        }
    }

    impl Map {
        pub(crate) fn render(&self) -> String {
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
