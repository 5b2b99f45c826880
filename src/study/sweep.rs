//! Parameter sweeps: a grid of configurations × seeds, run in parallel,
//! resumable, and splittable into shards for a cluster.
//!
//! **Axes** come from `[sweep]` in the config (in declaration order: the
//! `axes` table, then each `zip` group) and then from `--set key=a,b,c`
//! arguments (in order). An axis is a list, a range `from:to:step` (or
//! `{ from, to, step }`, `to` included; point `i` is `from + i·step`,
//! rounded to 12 decimals, never a running sum) or a single value. A zip
//! group steps several keys together. The grid is their Cartesian product,
//! the first axis varying slowest.
//!
//! **Cells.** A cell is one parameter combination with one seed; it runs
//! every policy × trace of the config (training a learner once) and writes
//! `cells/<combination>/seed-<N>/` with `summary.csv` and `config.toml`.
//! The folder is written under a temporary name and renamed when complete,
//! so a killed sweep never leaves a half-written cell: rerunning the same
//! command skips finished cells and redoes the rest. Cell `i` of the grid
//! keeps index `i` whatever the thread count or shard, and every random
//! stream is keyed by the config and seed only, so results are
//! byte-identical for any `--jobs` and any `--shard` split.
//!
//! **Shards.** `--shard i/n` runs the cells whose index is `i − 1 mod n`;
//! [`merge`] joins shard folders and writes what a single run would have.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use super::{Progress, UsageError};
use crate::agent::AlphaSchedule;
use crate::config::{Config, PolicyKind, SweepConfig};
use crate::experiment::TraceSet;
use crate::layout;
use crate::metrics::{to_csv, SummaryRow};
use crate::output::{write_file_atomic, CorruptResults};
use crate::study::compare::{self, AggregateRow, Plan};

/// The largest grid a sweep accepts (cells = combinations × seeds).
pub(crate) const MAX_CELLS: usize = 1_000_000;

/// One axis: one or more keys (zipped) and their values at each point.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    /// The `section.key` names this axis sets.
    pub keys: Vec<String>,
    /// For each point, one value per key.
    pub points: Vec<Vec<toml::Value>>,
}

/// A parameter combination: `(key, value)` pairs in axis order.
pub(crate) type Combination = Vec<(String, toml::Value)>;

/// The sweep grid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    /// The axes, slowest first.
    pub axes: Vec<Axis>,
    /// Master seeds.
    pub seeds: Vec<u64>,
}

/// One unit of work.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    /// Index in the full grid (combination-major, then seed).
    pub index: usize,
    /// Index of its combination.
    pub combination: usize,
    /// Its seed.
    pub seed: u64,
}

/// Splits a `--set` argument into a sweep axis when its value has a
/// top-level comma (`k=a,b,c`) or is a range (`k=0.1:0.9:0.1`).
///
/// # Errors
/// A malformed range.
pub(crate) fn cli_axis(arg: &str) -> Result<Option<Axis>> {
    let Some((key, raw)) = arg.split_once('=') else {
        return Ok(None);
    };
    let (key, raw) = (key.trim(), raw.trim());
    let parts = split_top_level(raw);
    let values = if parts.len() > 1 {
        parts
            .iter()
            .map(|p| crate::config::parse_value(p.trim()))
            .collect()
    } else if is_range(raw) {
        range(raw, key)?
    } else {
        return Ok(None);
    };
    Ok(Some(Axis {
        keys: vec![key.to_string()],
        points: values.into_iter().map(|v| vec![v]).collect(),
    }))
}

fn split_top_level(raw: &str) -> Vec<&str> {
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    let mut parts = Vec::new();
    for (i, ch) in raw.char_indices() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(ch),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&raw[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&raw[start..]);
    parts
}

fn is_range(raw: &str) -> bool {
    let parts: Vec<&str> = raw.split(':').collect();
    parts.len() == 3 && parts.iter().all(|p| p.trim().parse::<f64>().is_ok())
}

/// The points of a range `from:to:step`, `to` included.
fn range(raw: &str, key: &str) -> Result<Vec<toml::Value>> {
    let nums: Vec<f64> = raw
        .split(':')
        .map(|p| p.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            UsageError(format!(
                "sweep axis {key}: `{raw}` is not a range from:to:step"
            ))
        })?;
    range_points(nums[0], nums[1], nums[2], raw.contains('.'), key)
}

fn range_points(from: f64, to: f64, step: f64, float: bool, key: &str) -> Result<Vec<toml::Value>> {
    let text = |x: f64| crate::config::compact(x);
    let (from_t, to_t, step_t) = (text(from), text(to), text(step));
    if !(from.is_finite() && to.is_finite() && step.is_finite()) || step <= 0.0 {
        bail!(UsageError(format!(
            "sweep axis {key}: range {from_t}:{to_t}:{step_t} needs finite bounds and a step > 0"
        )));
    }
    if to < from {
        bail!(UsageError(format!(
            "sweep axis {key}: range {from_t}:{to_t}:{step_t} is empty (to < from)"
        )));
    }
    let points = ((to - from) / step + 1e-9).floor() + 1.0;
    // Checked as a float: a huge range must not wrap around as an integer.
    if points.is_nan() || points > MAX_CELLS as f64 {
        bail!(UsageError(format!(
            "sweep axis {key}: range {from_t}:{to_t}:{step_t} has {points:e} points, more than the limit of {MAX_CELLS}"
        )));
    }
    let n = points as usize;
    Ok((0..n)
        .map(|i| {
            let x = from + i as f64 * step;
            let x: f64 = format!("{x:.12}").parse().unwrap_or(x);
            if float || x.fract() != 0.0 {
                toml::Value::Float(x)
            } else {
                toml::Value::Integer(x as i64)
            }
        })
        .collect())
}

/// The points of a `[sweep]` axis value: a list, a range string,
/// `{ from, to, step }`, or a single value.
fn spec_points(key: &str, spec: &toml::Value) -> Result<Vec<toml::Value>> {
    let number = |t: &toml::Table, k: &str| -> Result<f64> {
        match t.get(k) {
            Some(toml::Value::Integer(i)) => Ok(*i as f64),
            Some(toml::Value::Float(f)) => Ok(*f),
            _ => bail!(UsageError(format!(
                "sweep axis {key}: `{k}` must be a number"
            ))),
        }
    };
    match spec {
        toml::Value::Array(values) if values.is_empty() => {
            bail!(UsageError(format!("sweep axis {key}: the list is empty")))
        }
        toml::Value::Array(values) => Ok(values.clone()),
        toml::Value::String(s) if is_range(s) => range(s, key),
        toml::Value::Table(t) => {
            if let Some(extra) = t
                .keys()
                .find(|k| !["from", "to", "step"].contains(&k.as_str()))
            {
                bail!(UsageError(format!(
                    "sweep axis {key}: unknown range key `{extra}`, expected from, to, step"
                )));
            }
            let float = t.values().any(|v| v.is_float());
            range_points(
                number(t, "from")?,
                number(t, "to")?,
                number(t, "step")?,
                float,
                key,
            )
        }
        other => Ok(vec![other.clone()]),
    }
}

impl Grid {
    /// The grid of `sweep` followed by the `--set` axes, over `seeds`.
    ///
    /// # Errors
    /// An empty axis, zip groups of unequal length, a key set by two axes,
    /// or a grid larger than [`MAX_CELLS`].
    pub fn new(sweep: &SweepConfig, cli_axes: Vec<Axis>, seeds: &[u64]) -> Result<Grid> {
        let mut axes = Vec::new();
        for (key, spec) in &sweep.axes {
            axes.push(Axis {
                keys: vec![key.clone()],
                points: spec_points(key, spec)?
                    .into_iter()
                    .map(|v| vec![v])
                    .collect(),
            });
        }
        for group in &sweep.zip {
            let mut columns = Vec::new();
            for (key, spec) in group {
                columns.push((key.clone(), spec_points(key, spec)?));
            }
            let Some(len) = columns.first().map(|c| c.1.len()) else {
                continue;
            };
            if let Some((key, c)) = columns.iter().find(|c| c.1.len() != len) {
                bail!(UsageError(format!(
                    "sweep.zip: `{key}` has {} values but `{}` has {len}; zipped axes must be equally long",
                    c.len(),
                    columns[0].0
                )));
            }
            axes.push(Axis {
                keys: columns.iter().map(|c| c.0.clone()).collect(),
                points: (0..len)
                    .map(|i| columns.iter().map(|c| c.1[i].clone()).collect())
                    .collect(),
            });
        }
        axes.extend(cli_axes);
        let mut seen = std::collections::HashSet::new();
        for key in axes.iter().flat_map(|a| &a.keys) {
            if !seen.insert(key.clone()) {
                bail!(UsageError(format!("sweep: `{key}` is swept by two axes")));
            }
        }
        let combos = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.points.len()));
        let cells = combos.and_then(|c| c.checked_mul(seeds.len()));
        match cells {
            Some(c) if c <= MAX_CELLS => {}
            _ => bail!(UsageError(format!(
                "sweep grid is too large (more than {MAX_CELLS} cells): narrow an axis or use fewer seeds"
            ))),
        }
        Ok(Grid {
            axes,
            seeds: seeds.to_vec(),
        })
    }

    /// Number of parameter combinations.
    pub(crate) fn n_combinations(&self) -> usize {
        self.axes.iter().map(|a| a.points.len()).product()
    }

    /// Every combination, first axis slowest.
    pub(crate) fn combinations(&self) -> Vec<Combination> {
        let mut out: Vec<Combination> = vec![Vec::new()];
        for axis in &self.axes {
            out = out
                .into_iter()
                .flat_map(|prefix| {
                    axis.points.iter().map(move |point| {
                        let mut c = prefix.clone();
                        c.extend(axis.keys.iter().cloned().zip(point.iter().cloned()));
                        c
                    })
                })
                .collect();
        }
        out
    }

    /// The swept keys, in column order.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.axes
            .iter()
            .flat_map(|a| a.keys.iter().cloned())
            .collect()
    }

    /// Every cell, in grid order.
    pub(crate) fn cells(&self) -> Vec<Cell> {
        (0..self.n_combinations())
            .flat_map(|c| {
                self.seeds.iter().enumerate().map(move |(s, &seed)| Cell {
                    index: c * self.seeds.len() + s,
                    combination: c,
                    seed,
                })
            })
            .collect()
    }

    /// A text that identifies the grid (for the manifest).
    pub(crate) fn describe(&self) -> String {
        let mut out = String::new();
        for axis in &self.axes {
            let points: Vec<String> = axis
                .points
                .iter()
                .map(|p| {
                    p.iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect();
            let _ = writeln!(out, "{} = {}", axis.keys.join("+"), points.join(", "));
        }
        let seeds: Vec<String> = self.seeds.iter().map(|s| s.to_string()).collect();
        let _ = writeln!(out, "seeds = {}", seeds.join(", "));
        out
    }
}

/// The folder name of a combination: `key-value` pairs joined by `_`,
/// made safe for file systems; long names end in a hash of the full text.
pub(crate) fn combination_dir(combo: &Combination) -> String {
    if combo.is_empty() {
        return "base".to_string();
    }
    let text: String = combo
        .iter()
        .map(|(k, v)| format!("{k}-{}", value_text(v)))
        .collect::<Vec<_>>()
        .join("_");
    let safe: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.+".contains(c) {
                c
            } else {
                '~'
            }
        })
        .collect();
    if safe.len() <= 120 {
        safe
    } else {
        // FNV-1a: stable across platforms and versions.
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{}-{hash:016x}", &safe[..100])
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// How to run a sweep.
#[derive(Debug, Clone)]
pub(crate) struct SweepOptions {
    /// Worker threads (`None` = all cores).
    pub jobs: Option<usize>,
    /// `(i, n)`: run only cells with index ≡ i − 1 (mod n).
    pub shard: Option<(usize, usize)>,
    /// Replace an existing, different sweep folder.
    pub force: bool,
    /// The index of this grid's first cell in a larger plan (0 for a
    /// sweep of its own): `--shard` picks cells by `first_index + index`,
    /// so several grids run as one ([`crate::study::crossval`]) share out evenly.
    pub first_index: usize,
}

/// What a sweep did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SweepReport {
    /// Cells of this run (all, or this shard's).
    pub cells: usize,
    /// Cells found finished and skipped.
    pub skipped: usize,
    /// Cells run now.
    pub ran: usize,
    /// Whether aggregate files were written (not for a shard).
    pub aggregated: bool,
}

pub(crate) const MANIFEST: &str = layout::SWEEP_MANIFEST;

/// The manifest: the base config and the grid. A folder is resumed only
/// under the same manifest.
fn manifest(base: &Config, grid: &Grid) -> String {
    let mut base = base.clone();
    base.sweep = SweepConfig::default();
    format!(
        "# qscale sweep manifest: the base configuration and the grid\n{}\n[grid]\ndescription = {}\n",
        base.to_toml(),
        toml::Value::String(grid.describe())
    )
}

/// The policies a cell under `config` runs: `experiment.policies`, or
/// when empty every policy but `qlearning` (as [`Plan::new`] does).
fn policies_run(config: &Config) -> Vec<PolicyKind> {
    if config.experiment.policies.is_empty() {
        PolicyKind::ALL
            .into_iter()
            .filter(|k| *k != PolicyKind::Qlearning)
            .collect()
    } else {
        config.experiment.policies.clone()
    }
}

/// Refuses an axis that no policy of the sweep reads, since its cells
/// would differ only in a label: `[policy]` keys are read by the rules
/// (not by `oracle` or `qlearning`), `[agent]` keys by `qlearning` only,
/// `[workload]`, `[cloud]`, `[reward]` and `[experiment]` keys by every
/// policy, and `[sweep]` and `[crossval]` keys by none.
fn check_axes_are_read(grid: &Grid, configs: &[Config]) -> Result<()> {
    let mut running: Vec<PolicyKind> = Vec::new();
    for kind in configs.iter().flat_map(policies_run) {
        if !running.contains(&kind) {
            running.push(kind);
        }
    }
    let is_rule = |k: &PolicyKind| !matches!(k, PolicyKind::Oracle | PolicyKind::Qlearning);
    for key in grid.axes.iter().flat_map(|a| &a.keys) {
        let section = key.split_once('.').map_or(key.as_str(), |(s, _)| s);
        let (read, readers) = match section {
            "policy" => (
                running.iter().any(is_rule),
                "the rules (static, threshold, step, target, hpa, predictive)",
            ),
            "agent" => (running.contains(&PolicyKind::Qlearning), "qlearning only"),
            "sweep" | "crossval" => (false, "no policy (they configure the command, not a run)"),
            _ => (true, ""),
        };
        if !read {
            let names: Vec<&str> = running.iter().map(|k| k.name()).collect();
            bail!(UsageError(format!(
                "sweep axis {key} is read by no policy of this sweep: [{section}] is read by \
                 {readers}, and the sweep runs {} (experiment.policies); add a policy that reads \
                 it, or drop the axis",
                names.join(", ")
            )));
        }
        check_learning_rate_axis(key, configs)?;
    }
    Ok(())
}

/// Refuses an axis on a learning-rate key the agent's schedule ignores:
/// `agent.alpha` under `"prior-counts"` (the default), `agent.prior_visits`
/// under any other schedule.
fn check_learning_rate_axis(key: &str, configs: &[Config]) -> Result<()> {
    let prior_counts = |c: &Config| c.agent.alpha_schedule == AlphaSchedule::PriorCounts;
    let unused = match key {
        "agent.alpha" => configs.iter().all(prior_counts),
        "agent.prior_visits" => !configs.iter().any(prior_counts),
        _ => false,
    };
    if unused {
        bail!(UsageError(format!(
            "sweep axis {key} is unused by the agent's learning-rate schedule in every cell: \
             agent.alpha is read by agent.alpha_schedule = \"constant\" or \"visits\", \
             agent.prior_visits by \"prior-counts\" (the default); sweep the key the \
             schedule reads, or set agent.alpha_schedule"
        )));
    }
    Ok(())
}

/// Runs (or resumes) a sweep into `out`. `progress(done, total)` is called
/// as cells finish.
///
/// # Errors
/// A combination that makes an invalid config (before anything runs), a
/// folder holding another sweep (without `force`), or an I/O failure.
pub(crate) fn run_sweep(
    base: &Config,
    grid: &Grid,
    out: &Path,
    options: &SweepOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<SweepReport> {
    let combos = grid.combinations();
    // Every combination must make a valid config before anything runs.
    let configs: Vec<Config> = combos
        .iter()
        .map(|c| {
            let mut cfg = base
                .with_overrides(c)
                .with_context(|| format!("sweep combination {}", combination_dir(c)))?;
            cfg.sweep = SweepConfig::default();
            Ok(cfg)
        })
        .collect::<Result<_>>()?;
    check_axes_are_read(grid, &configs)?;
    // Bad traces are found before the folder is touched.
    let mut paths: Vec<PathBuf> = Vec::new();
    for cfg in &configs {
        paths.extend(compare::all_trace_paths(cfg)?);
    }
    let traces = TraceSet::load(&paths)?;
    if let Some(first) = configs.first() {
        Plan::new(first, &traces)?;
    }

    let manifest_text = manifest(base, grid);
    let _lock = prepare_folder(out, &manifest_text, options)?;
    if let Some((i, n)) = options.shard {
        write_file_atomic(&out.join(layout::SHARD), format!("{i}/{n}\n").as_bytes())?;
    }

    let mine: Vec<Cell> = grid
        .cells()
        .into_iter()
        .filter(|c| in_shard(options.shard, options.first_index + c.index))
        .collect();
    let todo: Vec<&Cell> = mine
        .iter()
        .filter(|c| !cell_path(out, &combos[c.combination], c.seed).exists())
        .collect();
    let skipped = mine.len() - todo.len();
    let done = AtomicUsize::new(skipped);
    progress(skipped, mine.len());
    let work = || -> Result<()> {
        todo.par_iter().try_for_each(|cell| -> Result<()> {
            run_cell(
                &configs[cell.combination],
                &combos[cell.combination],
                cell.seed,
                &traces,
                out,
            )?;
            progress(done.fetch_add(1, Ordering::SeqCst) + 1, mine.len());
            Ok(())
        })
    };
    crate::workers::with_workers(options.jobs, work)??;
    let aggregated = options.shard.is_none();
    if aggregated {
        write_aggregates(out, grid, &combos, base)?;
    }
    Ok(SweepReport {
        cells: mine.len(),
        skipped,
        ran: todo.len(),
        aggregated,
    })
}

/// `--set` arguments sorted into sweep axes and plain overrides.
#[derive(Debug, Clone, Default)]
pub(crate) struct SplitSets {
    /// The arguments that are axes ([`cli_axis`]), in order.
    pub axes: Vec<Axis>,
    /// The other arguments, in order: plain `section.key=value` overrides.
    pub plain: Vec<String>,
    /// The keys the plain overrides set (a tuning leaves them pinned).
    pub pinned: Vec<String>,
}

/// Sorts `sets` into axes and plain overrides.
///
/// # Errors
/// A malformed range.
pub(crate) fn split_sets(sets: &[String]) -> Result<SplitSets> {
    let mut split = SplitSets::default();
    for set in sets {
        match cli_axis(set)? {
            Some(axis) => split.axes.push(axis),
            None => {
                if let Some((key, _)) = set.split_once('=') {
                    split.pinned.push(key.trim().to_string());
                }
                split.plain.push(set.clone());
            }
        }
    }
    Ok(split)
}

/// A finished sweep (or shard of one).
#[derive(Debug, Clone)]
pub(crate) struct SweepOutcome {
    /// What ran.
    pub report: SweepReport,
    /// Parameter combinations of the grid.
    pub combinations: usize,
    /// Seeds of the grid.
    pub seeds: usize,
    /// The shard run, if one.
    pub shard: Option<(usize, usize)>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Runs (or resumes) the sweep of `base`'s `[sweep]` axes and the extra
/// `axes` (from `--set`, see [`split_sets`]) into `out`. `progress` counts
/// cells.
///
/// # Errors
/// As [`Grid::new`] and [`run_sweep`].
pub(crate) fn sweep_folder(
    base: &Config,
    axes: Vec<Axis>,
    out: &Path,
    options: &SweepOptions,
    progress: &dyn Progress,
) -> Result<SweepOutcome> {
    let grid = Grid::new(&base.sweep, axes, &base.experiment.seeds)?;
    let started = std::time::Instant::now();
    let report = super::phase(progress, "sweep cells", |update| {
        run_sweep(base, &grid, out, options, update)
    })?;
    Ok(SweepOutcome {
        report,
        combinations: grid.n_combinations(),
        seeds: grid.seeds.len(),
        shard: options.shard,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Whether the cell at `index` of a whole plan belongs to shard `(i, n)`
/// (`index ≡ i − 1 mod n`); every cell does without a shard.
pub(crate) fn in_shard(shard: Option<(usize, usize)>, index: usize) -> bool {
    shard.is_none_or(|(i, n)| index % n == i - 1)
}

/// The folder of a finished cell: `out/cells/<combination>/seed-<seed>`
/// (it holds `summary.csv` and `config.toml`).
pub(crate) fn cell_path(out: &Path, combo: &Combination, seed: u64) -> PathBuf {
    layout::sweep_cell(out, &combination_dir(combo), seed)
}

/// Creates `out` with its manifest, or checks that it holds the same sweep;
/// the folder stays locked for this process while the lock lives.
fn prepare_folder(
    out: &Path,
    manifest_text: &str,
    options: &SweepOptions,
) -> Result<crate::output::FolderLock> {
    let lock = crate::output::claim_folder(
        out,
        MANIFEST,
        manifest_text,
        options.force,
        "sweep (config or grid changed)",
    )?;
    fs::create_dir_all(out.join(layout::CELLS))
        .with_context(|| format!("creating {}", out.display()))?;
    // Leftovers of cells that were being written when a run was killed.
    if let Ok(entries) = fs::read_dir(out.join(layout::CELLS)) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                fs::remove_dir_all(e.path()).ok();
            }
        }
    }
    Ok(lock)
}

/// Runs one cell and moves its finished folder into place.
fn run_cell(
    config: &Config,
    combo: &Combination,
    seed: u64,
    traces: &TraceSet,
    out: &Path,
) -> Result<()> {
    let mut cell_config = config.clone();
    cell_config.experiment.seeds = vec![seed];
    let plan = Plan::new(&cell_config, traces)?;
    let result = compare::compare(&cell_config, &plan, traces, &compare::KeepNothing, &|| {})?;
    let dir_name = combination_dir(combo);
    let tmp = out.join(layout::CELLS).join(format!(
        ".tmp-{dir_name}-seed-{seed}-{}",
        std::process::id()
    ));
    let target = cell_path(out, combo, seed);
    // Listed while it exists, so an interrupt removes a half-written cell.
    crate::output::create_temp_dir(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let finish = || -> Result<()> {
        let write = |name: &str, bytes: &[u8]| {
            crate::output::write_temp_file(&tmp.join(name), bytes)
                .with_context(|| format!("writing {}", tmp.join(name).display()))
        };
        write(layout::SUMMARY, &to_csv(&result.runs)?)?;
        write(layout::CONFIG, cell_config.to_toml_in(&target).as_bytes())?;
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        crate::output::commit_temp(&tmp, &target)
            .with_context(|| format!("moving a finished cell into {}", target.display()))
    };
    finish().inspect_err(|_| crate::output::discard_temp(&tmp))
}

/// The columns of a `summary.csv` row, as [`SummaryRow`] writes them.
fn summary_columns() -> Result<csv::StringRecord> {
    let example = crate::metrics::Totals::new(60.0).summary("", "", 0);
    Ok(crate::metrics::csv_record(&example)?.0)
}

/// Reads every cell of the grid from `out` and writes `summary.csv`,
/// `aggregate.csv` and `best.md`.
fn write_aggregates(out: &Path, grid: &Grid, combos: &[Combination], base: &Config) -> Result<()> {
    let keys = grid.keys();
    let param_cols: Vec<String> = keys.iter().map(|k| format!("param_{k}")).collect();
    let mut summary = csv::Writer::from_writer(Vec::new());
    let mut aggregate = csv::Writer::from_writer(Vec::new());
    let mut aggregate_header = false;
    let mut agg_rows: Vec<(Vec<String>, AggregateKey, f64, f64)> = Vec::new();
    for (c, combo) in combos.iter().enumerate() {
        let params: Vec<String> = combo.iter().map(|(_, v)| value_text(v)).collect();
        // runs[seed][row]
        let per_seed: Vec<Vec<SummaryRow>> = grid
            .seeds
            .iter()
            .map(|&seed| read_cell(out, combo, seed))
            .collect::<Result<_>>()?;
        if c == 0 {
            let columns = summary_columns()?;
            summary.write_record(param_cols.iter().map(String::as_str).chain(columns.iter()))?;
        }
        for row in per_seed.iter().flatten() {
            // Written anew from the row, so a cell from a version with
            // fewer columns still fits the header (its new ones empty).
            let (_, fields) = crate::metrics::csv_record(row)?;
            summary.write_record(params.iter().map(String::as_str).chain(fields.iter()))?;
        }
        let n_rows = per_seed.first().map_or(0, Vec::len);
        for r in 0..n_rows {
            let group: Vec<&SummaryRow> = per_seed.iter().filter_map(|rows| rows.get(r)).collect();
            let row = AggregateRow::of(&group);
            let (columns, fields) = crate::metrics::csv_record(&row)?;
            if !aggregate_header {
                aggregate
                    .write_record(param_cols.iter().map(String::as_str).chain(columns.iter()))?;
                aggregate_header = true;
            }
            aggregate.write_record(params.iter().map(String::as_str).chain(fields.iter()))?;
            agg_rows.push((
                params.clone(),
                (row.policy.clone(), row.trace.clone()),
                row.score_mean,
                row.score_ci95,
            ));
        }
    }
    let summary = summary
        .into_inner()
        .map_err(|e| anyhow::anyhow!("{}", e.error()))?;
    let aggregate = aggregate
        .into_inner()
        .map_err(|e| anyhow::anyhow!("{}", e.error()))?;
    write_file_atomic(&out.join(layout::SUMMARY), &summary)?;
    write_file_atomic(&out.join(layout::AGGREGATE), &aggregate)?;
    write_file_atomic(
        &out.join(layout::BEST_MD),
        best_markdown(base, &keys, &agg_rows).as_bytes(),
    )?;
    Ok(())
}

/// The rows of a finished cell's `summary.csv` (at least one).
///
/// # Errors
/// [`CorruptResults`] for a cell that is missing, unreadable or empty.
fn read_cell(out: &Path, combo: &Combination, seed: u64) -> Result<Vec<SummaryRow>> {
    let path = cell_path(out, combo, seed).join(layout::SUMMARY);
    let corrupt = |reason: String| CorruptResults {
        path: path.clone(),
        reason: format!(
            "{reason}: delete the cell's folder {} and rerun the sweep to redo it",
            cell_path(out, combo, seed).display()
        ),
    };
    let mut reader = match csv::Reader::from_path(&path) {
        Ok(reader) => reader,
        Err(e) if matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound) =>
        {
            bail!(CorruptResults {
                path: path.clone(),
                reason: "is missing (a cell that never finished): rerun the sweep, or merge all of its shards".into(),
            })
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("reading {}", path.display()))),
    };
    let header = reader
        .headers()
        .map_err(|e| corrupt(format!("header: {e}")))?
        .clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let line = |e: &csv::Error| e.position().map_or(0, csv::Position::line);
        let record = record.map_err(|e| corrupt(format!("line {}: {e}", line(&e))))?;
        let row: SummaryRow = record.deserialize(Some(&header)).map_err(|e| {
            let at = record.position().map_or(0, csv::Position::line);
            corrupt(format!("line {at}: {e}"))
        })?;
        rows.push(row);
    }
    if rows.is_empty() {
        bail!(corrupt("no rows".into()));
    }
    Ok(rows)
}

type AggregateKey = (String, String);

/// For each policy × trace, the combinations ranked by mean score.
fn best_markdown(
    base: &Config,
    keys: &[String],
    rows: &[(Vec<String>, AggregateKey, f64, f64)],
) -> String {
    let mut out = String::from("# Best parameter combinations\n\n");
    if !base.experiment.description.is_empty() {
        let _ = writeln!(out, "{}\n", base.experiment.description);
    }
    let mut groups: Vec<&AggregateKey> = Vec::new();
    for (_, key, _, _) in rows {
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    for group in groups {
        let mut ranked: Vec<&(Vec<String>, AggregateKey, f64, f64)> =
            rows.iter().filter(|r| &r.1 == group).collect();
        ranked.sort_by(|a, b| a.2.total_cmp(&b.2));
        let _ = writeln!(out, "## {} on {}\n", group.0, group.1);
        let _ = writeln!(
            out,
            "| rank | {} | score (USD), mean ± 95 % CI |",
            keys.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(out, "|---:|{}---:|", "---|".repeat(keys.len()));
        for (rank, (params, _, mean, ci)) in ranked.iter().take(20).enumerate() {
            let _ = writeln!(
                out,
                "| {} | {} | {mean:.4} ± {ci:.4} |",
                rank + 1,
                params.join(" | ")
            );
        }
        out.push('\n');
    }
    out
}

/// Joins shard folders into `out`: the cells of all shards, the manifest,
/// and the aggregates, exactly as one unsharded run writes them.
///
/// # Errors
/// Shards of different sweeps, missing cells, or an I/O failure.
pub(crate) fn merge(shards: &[PathBuf], out: &Path, force: bool) -> Result<usize> {
    let Some(first) = shards.first() else {
        bail!(UsageError("merge needs at least one shard folder".into()));
    };
    let read_manifest = |dir: &Path| -> Result<String> {
        let p = dir.join(MANIFEST);
        if !p.is_file() {
            bail!(UsageError(format!(
                "{} is not a sweep folder: it has no {MANIFEST}",
                dir.display()
            )));
        }
        fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
    };
    let manifest_text = read_manifest(first)?;
    for dir in &shards[1..] {
        if read_manifest(dir)? != manifest_text {
            bail!(UsageError(format!(
                "{} and {} hold different sweeps (their sweep.toml differ)",
                first.display(),
                dir.display()
            )));
        }
    }
    let base_text = manifest_text
        .split("\n[grid]\n")
        .next()
        .unwrap_or_default()
        .to_string();
    let base: Config = toml::from_str(&base_text).map_err(|e| CorruptResults {
        path: first.join(MANIFEST),
        reason: format!(
            "not a sweep manifest qscale can read: {}",
            e.to_string().trim().replace('\n', " ")
        ),
    })?;
    // Built under a temporary name and renamed when complete, so a merge
    // that fails (a missing cell, say) leaves nothing behind.
    crate::output::build_folder(out, force, |staging| {
        merge_into(shards, staging, out, &manifest_text, &base)
    })
}

/// Copies every shard's cells into `out` (whose final path is `final_root`)
/// and writes the manifest and the aggregates there. A cell's
/// `config.toml` is rewritten so its paths stay relative to the cell's new
/// folder.
/// Copies the finished cells of the sweep folder `dir` into `out` (those
/// not there yet), rewriting each cell's `config.toml` for its place under
/// `final_root`, where `out` will be renamed to; returns how many.
///
/// # Errors
/// A cell config that cannot be read, or an I/O failure.
pub(crate) fn copy_cells(dir: &Path, out: &Path, final_root: &Path) -> Result<usize> {
    let mut copied = 0;
    for combo in read_dirs(&dir.join(layout::CELLS))? {
        for seed_dir in read_dirs(&combo)? {
            let rel = seed_dir
                .strip_prefix(dir)
                .unwrap_or(&seed_dir)
                .to_path_buf();
            let target = out.join(&rel);
            if target.exists() {
                continue;
            }
            fs::create_dir_all(&target)?;
            for file in read_files(&seed_dir)? {
                let name = file.file_name().unwrap_or_default();
                if name == layout::CONFIG {
                    let text = fs::read_to_string(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let cell: Config = toml::from_str(&text).map_err(|e| CorruptResults {
                        path: file.clone(),
                        reason: format!(
                            "not a cell config qscale can read: {}",
                            e.to_string().trim().replace('\n', " ")
                        ),
                    })?;
                    let text = cell.moved(&seed_dir, &final_root.join(&rel)).to_toml();
                    fs::write(target.join(name), text)
                        .with_context(|| format!("writing {}", target.join(name).display()))?;
                    continue;
                }
                fs::copy(&file, target.join(name))
                    .with_context(|| format!("copying {}", file.display()))?;
            }
            copied += 1;
        }
    }
    Ok(copied)
}

fn merge_into(
    shards: &[PathBuf],
    out: &Path,
    final_root: &Path,
    manifest_text: &str,
    base: &Config,
) -> Result<usize> {
    fs::create_dir_all(out.join(layout::CELLS))
        .with_context(|| format!("creating {}", out.display()))?;
    let mut copied = 0;
    for dir in shards {
        copied += copy_cells(dir, out, final_root)?;
    }
    let grid = grid_from_manifest(manifest_text, base)?;
    let combos = grid.combinations();
    let missing: Vec<String> = grid
        .cells()
        .iter()
        .filter(|c| !cell_path(out, &combos[c.combination], c.seed).exists())
        .map(|c| {
            layout::sweep_cell(
                Path::new(""),
                &combination_dir(&combos[c.combination]),
                c.seed,
            )
            .display()
            .to_string()
        })
        .collect();
    if let Some(first) = missing.first() {
        bail!(UsageError(format!(
            "{} of {} cells are missing from the shards given (a missing cell: {first}); \
             merge every shard of the sweep, after each has finished",
            missing.len(),
            grid.cells().len()
        )));
    }
    write_file_atomic(&out.join(MANIFEST), manifest_text.as_bytes())?;
    write_aggregates(out, &grid, &combos, base)?;
    Ok(copied)
}

/// Rebuilds the grid from a manifest (its base config's `[sweep]` is
/// empty; the axes are in `[grid].description`).
fn grid_from_manifest(manifest_text: &str, base: &Config) -> Result<Grid> {
    let table: toml::Table = toml::from_str(manifest_text).context("reading the sweep manifest")?;
    let description = table
        .get("grid")
        .and_then(|g| g.get("description"))
        .and_then(|d| d.as_str())
        .ok_or_else(|| anyhow::anyhow!("the sweep manifest has no [grid] description"))?;
    let mut axes = Vec::new();
    for line in description.lines() {
        let Some((keys, values)) = line.split_once(" = ") else {
            continue;
        };
        if keys == "seeds" {
            continue;
        }
        let keys: Vec<String> = keys.split('+').map(String::from).collect();
        let points = split_top_level(values)
            .into_iter()
            .map(|p| {
                p.trim()
                    .split('|')
                    .map(crate::config::parse_value)
                    .collect()
            })
            .collect();
        axes.push(Axis { keys, points });
    }
    Ok(Grid {
        axes,
        seeds: base.experiment.seeds.clone(),
    })
}

fn read_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .filter(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

fn read_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_axes_split_on_top_level_commas_and_ranges() {
        let a = cli_axis("agent.alpha=0.1,0.2,0.3").unwrap().unwrap();
        assert_eq!(a.points.len(), 3);
        assert_eq!(a.points[1][0], toml::Value::Float(0.2));
        assert!(cli_axis("experiment.seeds=[1,2]").unwrap().is_none());
        let r = cli_axis("agent.gamma=0.1:0.5:0.1").unwrap().unwrap();
        let vals: Vec<f64> = r.points.iter().map(|p| p[0].as_float().unwrap()).collect();
        assert_eq!(vals, vec![0.1, 0.2, 0.3, 0.4, 0.5]);
        let ints = cli_axis("cloud.max_vms=10:30:10").unwrap().unwrap();
        assert_eq!(ints.points[2][0], toml::Value::Integer(30));
        assert!(cli_axis("cloud.max_vms=5").unwrap().is_none());
        assert!(cli_axis("agent.gamma=0.5:0.1:0.1").is_err());
        assert!(cli_axis("agent.gamma=0.1:0.5:0").is_err());
    }

    #[test]
    fn the_grid_is_the_product_in_declaration_order_with_zips() {
        let sweep: SweepConfig = toml::from_str(
            "[axes]\n\"agent.alpha\" = [0.1, 0.2]\n[[zip]]\n\"policy.upper\" = [0.7, 0.8, 0.9]\n\"policy.lower\" = [0.2, 0.3, 0.4]\n",
        )
        .unwrap();
        let cli = vec![cli_axis("cloud.max_vms=10,20").unwrap().unwrap()];
        let grid = Grid::new(&sweep, cli, &[1, 2]).unwrap();
        assert_eq!(grid.n_combinations(), 12);
        assert_eq!(
            grid.keys(),
            [
                "agent.alpha",
                "policy.upper",
                "policy.lower",
                "cloud.max_vms"
            ]
        );
        let combos = grid.combinations();
        assert_eq!(
            combination_dir(&combos[0]),
            "agent.alpha-0.1_policy.upper-0.7_policy.lower-0.2_cloud.max_vms-10"
        );
        assert_eq!(
            combination_dir(&combos[1]),
            "agent.alpha-0.1_policy.upper-0.7_policy.lower-0.2_cloud.max_vms-20"
        );
        assert_eq!(
            combination_dir(&combos[2]),
            "agent.alpha-0.1_policy.upper-0.8_policy.lower-0.3_cloud.max_vms-10"
        );
        let cells = grid.cells();
        assert_eq!(cells.len(), 24);
        assert_eq!(
            (cells[3].index, cells[3].combination, cells[3].seed),
            (3, 1, 2)
        );
    }

    #[test]
    fn bad_grids_are_refused() {
        let uneven: SweepConfig =
            toml::from_str("[[zip]]\n\"policy.upper\" = [0.7, 0.8]\n\"policy.lower\" = [0.2]\n")
                .unwrap();
        assert!(Grid::new(&uneven, vec![], &[1])
            .unwrap_err()
            .to_string()
            .contains("equally long"));
        let empty: SweepConfig = toml::from_str("[axes]\n\"agent.alpha\" = []\n").unwrap();
        assert!(Grid::new(&empty, vec![], &[1]).is_err());
        let twice = vec![
            cli_axis("agent.alpha=0.1,0.2").unwrap().unwrap(),
            cli_axis("agent.alpha=0.3,0.4").unwrap().unwrap(),
        ];
        assert!(Grid::new(&SweepConfig::default(), twice, &[1])
            .unwrap_err()
            .to_string()
            .contains("two axes"));
        let huge = vec![
            cli_axis("agent.alpha=0:1:0.001").unwrap().unwrap(),
            cli_axis("agent.gamma=0:1:0.001").unwrap().unwrap(),
        ];
        assert!(Grid::new(&SweepConfig::default(), huge, &[1])
            .unwrap_err()
            .to_string()
            .contains("too large"));
    }

    #[test]
    fn a_manifest_describes_its_grid_back() {
        let cli = vec![
            cli_axis("agent.alpha=0.1,0.2").unwrap().unwrap(),
            cli_axis("workload.noise=none,poisson").unwrap().unwrap(),
        ];
        let base = Config::default();
        let grid = Grid::new(&SweepConfig::default(), cli, &base.experiment.seeds).unwrap();
        let back = grid_from_manifest(&manifest(&base, &grid), &base).unwrap();
        assert_eq!(back, grid);
    }

    #[test]
    fn long_combination_names_end_in_a_stable_hash() {
        let combo: Combination = (0..10)
            .map(|i| {
                (
                    format!("agent.some_long_key_{i}"),
                    toml::Value::Float(0.123456789),
                )
            })
            .collect();
        let name = combination_dir(&combo);
        assert!(name.len() <= 120);
        assert_eq!(name, combination_dir(&combo));
    }
}
