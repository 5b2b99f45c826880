//! `qscale bench`: throughput figures of the hot paths, measured on the
//! bundled traces. Each figure repeats its work until at least
//! `min_seconds` of wall time have passed and reports the rate; nothing
//! here asserts a time (timings belong in reports, not in tests).
//!
//! On a shared machine the wall-clock rate of a single-threaded figure
//! undercounts whenever the thread waits for a core, so on Linux each such
//! figure also states its rate per second the thread actually ran
//! (`/proc/thread-self/schedstat`), and the sweep figures state the load
//! average they started under.

pub(crate) mod against;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::agent;
use crate::cloud::{CloudEnv, Workload};
use crate::config::{Config, PolicyKind};
use crate::experiment::{run, run_with};
use crate::policy::StaticPolicy;
use crate::study::sweep::{cli_axis, run_sweep, Grid, SweepOptions};
use crate::trace::{read_csv_from, write_csv, Trace};

/// One measured figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Figure {
    /// Stable name, e.g. `train_steps_per_s`.
    pub name: String,
    /// The rate.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// What was measured.
    pub detail: String,
}

/// Seconds the calling thread has run on a core, where the system tells
/// (Linux); `None` elsewhere.
fn thread_cpu_s() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// The 1-minute load average, where the system tells (Linux).
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// A measured rate: per wall-clock second, and per second the measuring
/// thread ran (when known).
#[derive(Debug, Clone, Copy)]
struct Rate {
    wall: f64,
    cpu: Option<f64>,
}

/// What follows the per-core rate in a figure's detail (`bench --against`
/// reads the rate back by it).
const ON_A_CORE: &str = " per second on a core";

impl Rate {
    /// `; X per second on a core (the thread ran Y% of the wall time)`, or
    /// nothing.
    fn note(&self) -> String {
        match self.cpu {
            Some(cpu) if cpu.is_finite() && cpu > 0.0 => format!(
                "; {cpu:.4e}{ON_A_CORE} (the thread ran {:.0}% of the wall time)",
                100.0 * self.wall / cpu
            ),
            _ => String::new(),
        }
    }
}

/// Repeats `work` (which returns how many units it did) until
/// `min_seconds` pass; returns units per second.
fn rate(min_seconds: f64, mut work: impl FnMut() -> f64) -> Rate {
    let started = Instant::now();
    let cpu_start = thread_cpu_s();
    let mut units = 0.0;
    loop {
        units += work();
        let elapsed = started.elapsed().as_secs_f64();
        if elapsed >= min_seconds {
            let cpu = cpu_start.zip(thread_cpu_s()).map(|(a, b)| units / (b - a));
            return Rate {
                wall: units / elapsed,
                cpu,
            };
        }
    }
}

/// The bundled traces the figures read, embedded in the binary so that
/// `qscale bench` runs from any folder: `(file name, contents)`.
const BUNDLED: [(&str, &str); 3] = [
    (
        "nasa-jul95.csv",
        include_str!("../../traces/nasa-jul95.csv"),
    ),
    (
        "diurnal-train-5d.csv",
        include_str!("../../traces/diurnal-train-5d.csv"),
    ),
    (
        "diurnal-test-2d.csv",
        include_str!("../../traces/diurnal-test-2d.csv"),
    ),
];

/// Measures every figure. `scratch` is a folder for the bundled traces
/// (written there from the copies embedded in the binary) and the sweep
/// figure. `report` is called as each figure is ready.
///
/// # Errors
/// A bundled trace that cannot be written or read, or a sweep that fails.
pub(crate) fn run_bench(
    scratch: &Path,
    min_seconds: f64,
    report: &mut dyn FnMut(&Figure),
) -> Result<Vec<Figure>> {
    let root = scratch;
    let traces = root.join("traces");
    std::fs::create_dir_all(&traces).with_context(|| format!("creating {}", traces.display()))?;
    for (name, text) in BUNDLED {
        let path = traces.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut figures = Figures {
        figures: Vec::new(),
        report,
    };
    let config = Config::default();
    environment(&config, root, min_seconds, &mut figures)?;
    training(&config, root, min_seconds, &mut figures)?;
    import(min_seconds, &mut figures)?;
    sweeps(&config, scratch, min_seconds, &mut figures)?;
    Ok(figures.figures)
}

/// The figures so far, each reported as it is added.
struct Figures<'a> {
    figures: Vec<Figure>,
    report: &'a mut dyn FnMut(&Figure),
}

impl Figures<'_> {
    fn push(&mut self, f: Figure) {
        (self.report)(&f);
        self.figures.push(f);
    }
}

/// (a) The environment with a fixed policy, as in training (no p95, no
/// rows kept), and as in a recorded run (p95 and every row kept).
fn environment(
    config: &Config,
    root: &Path,
    min_seconds: f64,
    figures: &mut Figures<'_>,
) -> Result<()> {
    let week = Arc::new(Workload::load(&root.join("traces/nasa-jul95.csv"), &{
        let mut c = config.clone();
        c.workload.peak_rps = Some(200.0);
        c
    })?);

    let mut env = CloudEnv::new(Arc::clone(&week), config).with_p95(false);
    let mut policy = StaticPolicy::new(10);
    let mut seed = 0;
    let steps = rate(min_seconds, || {
        seed += 1;
        run(&mut env, &mut policy, seed, 60.0, |_| {}).steps as f64
    });
    figures.push(Figure {
        name: "env_steps_per_s".into(),
        value: steps.wall,
        unit: "steps/s".into(),
        detail: format!(
            "static 10 VMs on nasa-jul95 ({} steps, Poisson noise), one core{}",
            week.len(),
            steps.note()
        ),
    });
    let recorded = rate(min_seconds, || {
        seed += 1;
        run_with(config, &mut policy, Arc::clone(&week), seed)
            .steps
            .len() as f64
    });
    figures.push(Figure {
        name: "env_recorded_steps_per_s".into(),
        value: recorded.wall,
        unit: "steps/s".into(),
        detail: format!(
            "the same, computing p95 and keeping every steps.csv row{}",
            recorded.note()
        ),
    });
    Ok(())
}

/// (b) Q-learning training: agent + environment, a default training run
/// (agent.episodes = 100, ε decaying from 1), setup included.
fn training(
    config: &Config,
    root: &Path,
    min_seconds: f64,
    figures: &mut Figures<'_>,
) -> Result<()> {
    let mut train_config = config.clone();
    train_config.policy.kind = PolicyKind::Qlearning;
    let train_on = vec![Arc::new(Workload::load(
        &root.join("traces/diurnal-train-5d.csv"),
        &train_config,
    )?)];
    let per_call = f64::from(train_config.agent.episodes) * train_on[0].len() as f64;
    let mut seed = 0;
    let train_steps = rate(min_seconds, || {
        seed += 1;
        let out = agent::train(&train_config, &train_on, seed, |_, _| {});
        std::hint::black_box(out.agent.table().values()[0]);
        per_call
    });
    figures.push(Figure {
        name: "train_steps_per_s".into(),
        value: train_steps.wall,
        unit: "steps/s".into(),
        detail: format!(
            "Q-learning, {} episodes on diurnal-train-5d ({} steps each), one core{}",
            train_config.agent.episodes,
            train_on[0].len(),
            train_steps.note()
        ),
    });
    Ok(())
}

/// (c) Trace import: a month at 1 s, from memory.
fn import(min_seconds: f64, figures: &mut Figures<'_>) -> Result<()> {
    let month = Trace {
        name: "month".into(),
        start_s: 0.0,
        interval_s: 1.0,
        requests: (0..30 * 86_400)
            .map(|i| f64::from((i * 7919 % 97) as u32))
            .collect(),
    };
    let mut bytes = Vec::new();
    write_csv(&month, &mut bytes)?;
    let mb = bytes.len() as f64 / 1e6;
    let started = Instant::now();
    let cpu_start = thread_cpu_s();
    let mut parsed = 0.0;
    while started.elapsed().as_secs_f64() < min_seconds || parsed == 0.0 {
        let t = read_csv_from(&bytes[..], Path::new("month.csv"))?;
        std::hint::black_box(t.requests.len());
        parsed += 1.0;
    }
    let secs = started.elapsed().as_secs_f64() / parsed;
    let import = Rate {
        wall: mb / secs,
        cpu: cpu_start
            .zip(thread_cpu_s())
            .map(|(a, b)| mb * parsed / (b - a)),
    };
    figures.push(Figure {
        name: "import_mb_per_s".into(),
        value: import.wall,
        unit: "MB/s".into(),
        detail: format!(
            "native CSV, a month at 1 s ({:.1} MB, {} rows) in {:.3} s{}",
            mb,
            month.requests.len(),
            secs,
            import.note()
        ),
    });
    Ok(())
}

/// (d) A small sweep: 4 learning rates x 4 seeds of Q-learning (30
/// training episodes on five days, then a greedy run on two others), so
/// a cell is tens of milliseconds of simulation and its few small files
/// (and the sweep's own start and aggregation) do not dominate; with one
/// thread and with every core.
fn sweeps(
    config: &Config,
    scratch: &Path,
    min_seconds: f64,
    figures: &mut Figures<'_>,
) -> Result<()> {
    let root = scratch;
    let episodes = 30;
    let mut sweep_config = config.clone();
    sweep_config.policy.kind = PolicyKind::Qlearning;
    sweep_config.agent.episodes = episodes;
    sweep_config.workload.trace = Some(root.join("traces/diurnal-test-2d.csv"));
    sweep_config.experiment.train_traces = vec![root.join("traces/diurnal-train-5d.csv")];
    sweep_config.experiment.policies = vec![PolicyKind::Qlearning];
    sweep_config.experiment.seeds = vec![1, 2, 3, 4];
    let axis = |arg: &str| -> Result<crate::study::sweep::Axis> {
        cli_axis(arg)?.ok_or_else(|| anyhow::anyhow!("`{arg}` is not a sweep axis"))
    };
    let axes = vec![axis("agent.prior_visits=10,30,100,300")?];
    let grid = Grid::new(&sweep_config.sweep, axes, &sweep_config.experiment.seeds)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut cells_per_s = Vec::new();
    for jobs in [1, cores] {
        let out: PathBuf = scratch.join(format!("sweep-jobs{jobs}"));
        let options = SweepOptions {
            jobs: Some(jobs),
            shard: None,
            force: true,
            first_index: 0,
        };
        let mut cells = 0.0;
        let load =
            load_average().map_or(String::new(), |l| format!(", load average {l:.2} at start"));
        // Only the sweeps are timed, not the removal of their folders.
        let mut timed = 0.0;
        while timed < min_seconds || cells == 0.0 {
            std::fs::remove_dir_all(&out).ok();
            let started = Instant::now();
            let r = run_sweep(&sweep_config, &grid, &out, &options, &|_, _| {})?;
            timed += started.elapsed().as_secs_f64();
            cells += r.ran as f64;
        }
        let v = cells / timed;
        cells_per_s.push(v);
        figures.push(
            Figure {
                name: format!("sweep_cells_per_s_jobs{jobs}"),
                value: v,
                unit: "cells/s".into(),
                detail: format!(
                    "{} cells (Q-learning, {episodes} episodes on diurnal-train-5d, run on diurnal-test-2d), {jobs} thread(s){load}",
                    grid.cells().len()
                ),
            },
        );
    }
    figures.push(Figure {
        name: "sweep_speedup".into(),
        value: cells_per_s[1] / cells_per_s[0],
        unit: "x".into(),
        detail: format!("{cores} cores vs 1"),
    });
    Ok(())
}
