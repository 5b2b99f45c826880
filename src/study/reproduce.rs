//! `qscale reproduce`: every experiment of `experiments/` rerun into
//! `results/`, each folder with its README, and an index of them all.
//!
//! An experiment file's stem says what it runs: `tune-RULE` a tuning of
//! RULE then a comparison of its default and tuned parameters,
//! `crossval*` a cross-validation, a file with `[sweep]` axes a sweep, any
//! other a comparison (and, when it compares `qlearning`, one training per
//! seed for the learning curves).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::compare::{compare_folder, CompareOptions, CompareOutcome, StepsKept};
use super::crossval::{crossval_folder, CrossvalOptions, CrossvalOutcome};
use super::sweep::{split_sets, sweep_folder, SweepOptions, SweepOutcome};
use super::train::{train, TrainOptions, TrainOutcome};
use super::tune::{tune_folder, TuneOptions, TuneOutcome, TuneSpec};
use super::validate::{validate_folder, ValidateOutcome};
use super::{Progress, UsageError};
use crate::config::{Config, PolicyKind};
use crate::layout;
use crate::output::write_file_atomic;
use crate::plot::{plot_folder, Format};

/// What to reproduce and where.
#[derive(Debug, Clone)]
pub(crate) struct ReproduceOptions {
    /// A reduced run: at most 2 seeds and 30 training episodes per
    /// experiment; a cross-validation tunes only `static` and `target`.
    pub quick: bool,
    /// Folder of experiment files.
    pub experiments: PathBuf,
    /// Where the results go, one folder per experiment (`None`: results/,
    /// or results-quick/ when quick).
    pub out: Option<PathBuf>,
    /// Worker threads (`None` = all cores).
    pub jobs: Option<usize>,
    /// Only the experiments whose file stem contains this text.
    pub only: Option<String>,
}

/// What `reproduce` reports as it goes, for the caller to print.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event<'a> {
    /// An experiment starts.
    Started {
        /// Its file stem.
        stem: &'a str,
        /// Its file.
        file: &'a Path,
    },
    /// A tuning finished into `out`.
    Tuned {
        /// What it found.
        outcome: &'a TuneOutcome,
        /// Its folder.
        out: &'a Path,
    },
    /// A comparison finished.
    Compared(&'a CompareOutcome),
    /// A sweep finished into `out`.
    Swept {
        /// What ran.
        outcome: &'a SweepOutcome,
        /// Its folder.
        out: &'a Path,
    },
    /// A cross-validation finished into `out`.
    Crossvalidated {
        /// What ran.
        outcome: &'a CrossvalOutcome,
        /// Its folder.
        out: &'a Path,
    },
    /// A training finished.
    Trained(&'a TrainOutcome),
    /// A validation of the analytic model finished.
    Validated(&'a ValidateOutcome),
}

/// What `reproduce` did.
#[derive(Debug, Clone)]
pub(crate) struct ReproduceOutcome {
    /// Experiments rerun.
    pub experiments: usize,
    /// The results root (holding the index README).
    pub root: PathBuf,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// What `reproduce` did with one experiment, for results/README.md.
struct Reproduced {
    stem: String,
    description: String,
    kind: &'static str,
    figures: Vec<PathBuf>,
    summary: Option<PathBuf>,
}

/// Reruns every experiment of `options.experiments` (those matching
/// `only`) into its own folder of the results root, each rebuilt from
/// scratch with its figures and README, then writes the root's index.
/// `report` hears of each experiment and each study as it finishes.
///
/// # Errors
/// No experiment file, or any error of the studies run.
pub(crate) fn reproduce(
    options: &ReproduceOptions,
    progress: &dyn Progress,
    report: &mut dyn FnMut(Event<'_>),
) -> Result<ReproduceOutcome> {
    let (files, all_stems) = experiment_files(options)?;
    let root = options.out.clone().unwrap_or_else(|| {
        PathBuf::from(if options.quick {
            "results-quick"
        } else {
            "results"
        })
    });
    let started = std::time::Instant::now();
    let mut done = Vec::new();
    for file in &files {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        report(Event::Started { stem: &stem, file });
        let out = root.join(&stem);
        let reproduced = reproduce_one(file, stem, &out, options, progress, report)?;
        write_file_atomic(
            &out.join(layout::README),
            experiment_readme(&reproduced, &out).as_bytes(),
        )?;
        done.push(reproduced);
    }
    let index = results_index(&root, &all_stems, options.quick);
    write_file_atomic(&root.join(layout::README), index.as_bytes())?;
    Ok(ReproduceOutcome {
        experiments: done.len(),
        root,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The experiment files to rerun (sorted), and the stems of every
/// experiment file (sorted), for the index: `--only` reruns some, the
/// index still lists all whose folders exist.
fn experiment_files(options: &ReproduceOptions) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let dir = &options.experiments;
    let tomls: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    let mut files: Vec<PathBuf> = tomls
        .iter()
        .filter(|p| {
            options.only.as_deref().is_none_or(|o| {
                p.file_stem()
                    .is_some_and(|s| s.to_string_lossy().contains(o))
            })
        })
        .cloned()
        .collect();
    files.sort();
    let mut all_stems: Vec<String> = tomls
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    all_stems.sort();
    if files.is_empty() {
        return Err(UsageError(format!("no experiment (*.toml) in {}", dir.display())).into());
    }
    Ok((files, all_stems))
}

/// The overrides of a quick run of `base` (none for a full run).
fn quick_sets(base: &Config, stem: &str, quick: bool) -> Vec<String> {
    let mut sets = Vec::new();
    if quick {
        let seeds: Vec<String> = base
            .experiment
            .seeds
            .iter()
            .take(2)
            .map(u64::to_string)
            .collect();
        sets.push(format!("experiment.seeds=[{}]", seeds.join(", ")));
        sets.push(format!("agent.episodes={}", base.agent.episodes.min(30)));
        if is_validate(stem) {
            // Simulating every request is most of a validation's work: the
            // quick run simulates a fifth of them.
            sets.push("experiment.seeds=[1]".into());
            if let Some(peak) = base.workload.peak_rps {
                sets.push(format!("workload.peak_rps={}", peak / 5.0));
            }
        }
        if is_crossval(stem) {
            // Tuning is most of a cross-validation's work: the quick
            // run tunes the rules with the smallest grids only.
            sets.push(
                "experiment.policies=[\"static\", \"target\", \"oracle\", \"qlearning\"]".into(),
            );
        }
    }
    sets
}

/// One experiment: the file, its overrides and where it goes.
struct Experiment<'a> {
    file: &'a Path,
    sets: Vec<String>,
    config: Config,
    out: &'a Path,
    jobs: Option<usize>,
}

impl Experiment<'_> {
    /// The experiment's config with `sets` applied after its own.
    fn load(&self, sets: &[String]) -> Result<Config> {
        Ok(Config::load(Some(self.file), sets)?)
    }

    fn compare(
        &self,
        config: &Config,
        out: &Path,
        progress: &dyn Progress,
    ) -> Result<CompareOutcome> {
        let options = CompareOptions {
            out: out.to_path_buf(),
            jobs: self.jobs,
            steps: StepsKept::FirstSeed,
            force: true,
        };
        compare_folder(config, &options, progress)
    }
}

/// Reruns one experiment into `out` (emptied first).
fn reproduce_one(
    file: &Path,
    stem: String,
    out: &Path,
    options: &ReproduceOptions,
    progress: &dyn Progress,
    report: &mut dyn FnMut(Event<'_>),
) -> Result<Reproduced> {
    let base = Config::load(Some(file), &[])?;
    let sets = quick_sets(&base, &stem, options.quick);
    let config = Config::load(Some(file), &sets)?;
    // Each experiment's folder is rebuilt from scratch.
    if out.exists() {
        std::fs::remove_dir_all(out).with_context(|| format!("removing {}", out.display()))?;
    }
    let x = Experiment {
        file,
        sets,
        config,
        out,
        jobs: options.jobs,
    };
    let tuned_rule = stem
        .strip_prefix("tune-")
        .and_then(|rule| rule.parse::<PolicyKind>().ok());
    let (kind, summary, figures) = if let Some(rule) = tuned_rule {
        tune_then_compare(&x, rule, progress, report)?
    } else if is_crossval(&stem) {
        crossvalidate(&x, progress, report)?
    } else if is_validate(&stem) {
        validate(&x, progress, report)?
    } else if !x.config.sweep.is_empty() {
        sweep(&x, progress, report)?
    } else {
        compare_and_train(&x, progress, report)?
    };
    Ok(Reproduced {
        stem,
        description: x.config.experiment.description.clone(),
        kind,
        figures,
        summary,
    })
}

/// What one experiment made: its kind, its summary file, its figures.
type Made = (&'static str, Option<PathBuf>, Vec<PathBuf>);

/// tune-RULE.toml: tune the rule on the training traces, then compare the
/// defaults and the tuned parameters on the traces.
fn tune_then_compare(
    x: &Experiment<'_>,
    rule: PolicyKind,
    progress: &dyn Progress,
    report: &mut dyn FnMut(Event<'_>),
) -> Result<Made> {
    let split = split_sets(&x.sets)?;
    let config = x.load(&split.plain)?;
    let spec = TuneSpec {
        policy: rule,
        axes: split.axes,
        pinned: split.pinned,
        builtin_grid: true,
    };
    let tune_out = x.out.join("tune");
    let options = TuneOptions {
        jobs: x.jobs,
        force: true,
    };
    let tuned = tune_folder(&config, &spec, &tune_out, &options, progress)?;
    report(Event::Tuned {
        outcome: &tuned,
        out: &tune_out,
    });
    let tuned_path = tune_out.join(layout::TUNED_TOML);
    let tuned: toml::Table = toml::from_str(&std::fs::read_to_string(&tuned_path)?)
        .with_context(|| format!("reading {}", tuned_path.display()))?;
    let mut tuned_sets = x.sets.clone();
    if let Some(toml::Value::Table(policy)) = tuned.get("policy") {
        tuned_sets.extend(policy.iter().map(|(k, v)| format!("policy.{k}={v}")));
    }
    let mut figures = Vec::new();
    for (name, sets) in [("default", x.sets.clone()), ("tuned", tuned_sets)] {
        let dir = x.out.join(name);
        let config = x.load(&sets)?;
        let compared = x.compare(&config, &dir, progress)?;
        report(Event::Compared(&compared));
        figures.extend(plot_folder(&dir, Format::Png)?.written);
    }
    Ok((
        "tuning, then a comparison of default and tuned parameters",
        Some(x.out.join("tuned").join(layout::SUMMARY_MD)),
        figures,
    ))
}

/// crossval*.toml: a cross-validation, its cells pruned afterwards.
fn crossvalidate(
    x: &Experiment<'_>,
    progress: &dyn Progress,
    report: &mut dyn FnMut(Event<'_>),
) -> Result<Made> {
    let options = CrossvalOptions {
        jobs: x.jobs,
        shard: None,
        force: true,
    };
    let outcome = crossval_folder(&x.config, x.out, &options, progress)?;
    report(Event::Crossvalidated {
        outcome: &outcome,
        out: x.out,
    });
    prune_cells(x.out)?;
    Ok((
        "cross-validation",
        Some(x.out.join(layout::SUMMARY_MD)),
        vec![x.out.join(layout::FIGURES).join("crossval.png")],
    ))
}

/// validate*.toml: the analytic model against the request-level one.
fn validate(
    x: &Experiment<'_>,
    progress: &dyn Progress,
    report: &mut dyn FnMut(Event<'_>),
) -> Result<Made> {
    let outcome = validate_folder(&x.config, x.out, true, x.jobs, progress)?;
    report(Event::Validated(&outcome));
    Ok(("validation", Some(x.out.join(layout::SUMMARY_MD)), vec![]))
}

/// An experiment with `[sweep]` axes: a sweep.
fn sweep(
    x: &Experiment<'_>,
    progress: &dyn Progress,
    report: &mut dyn FnMut(Event<'_>),
) -> Result<Made> {
    let split = split_sets(&x.sets)?;
    let config = x.load(&split.plain)?;
    let options = SweepOptions {
        jobs: x.jobs,
        shard: None,
        force: true,
        first_index: 0,
    };
    let outcome = sweep_folder(&config, split.axes, x.out, &options, progress)?;
    report(Event::Swept {
        outcome: &outcome,
        out: x.out,
    });
    let figures = plot_folder(x.out, Format::Png)?.written;
    Ok(("sweep", Some(x.out.join(layout::BEST_MD)), figures))
}

/// Any other experiment: a comparison and, when it compares the agent,
/// one training folder per seed (learning curves with a band over seeds,
/// and the learned policy of the first seed).
fn compare_and_train(
    x: &Experiment<'_>,
    progress: &dyn Progress,
    report: &mut dyn FnMut(Event<'_>),
) -> Result<Made> {
    let compared = x.compare(&x.config, x.out, progress)?;
    report(Event::Compared(&compared));
    let mut figures = plot_folder(x.out, Format::Png)?.written;
    let seeds = &x.config.experiment.seeds;
    if x.config
        .experiment
        .policies
        .contains(&PolicyKind::Qlearning)
    {
        let train_root = x.out.join("training");
        for &seed in seeds {
            let options = TrainOptions {
                seed: Some(seed),
                out: train_root.join(layout::seed_dir(seed)),
                force: true,
            };
            let trained = train(&x.config, &options, progress)?;
            report(Event::Trained(&trained));
        }
        figures.extend(plot_folder(&train_root, Format::Png)?.written);
        if let Some(&first) = seeds.first() {
            let seed_dir = train_root.join(layout::seed_dir(first));
            figures.extend(plot_folder(&seed_dir, Format::Png)?.written);
        }
    }
    Ok(("comparison", Some(x.out.join(layout::SUMMARY_MD)), figures))
}

/// Removes a finished cross-validation's cells (thousands of small
/// files) and the per-candidate tables of its tuning sweeps (megabytes),
/// keeping each rule's `best.md`; `qscale crossval` itself keeps them all.
fn prune_cells(out: &Path) -> Result<()> {
    let under = |sub: &str| -> Vec<PathBuf> {
        std::fs::read_dir(out.join(sub))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    let rules = under("tune");
    let folds = under("folds");
    let dirs = rules
        .iter()
        .map(|r| r.join(layout::CELLS))
        .chain(folds.iter().map(|f| f.join("eval")));
    for dir in dirs.filter(|d| d.is_dir()) {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let tables = [layout::SUMMARY, layout::AGGREGATE];
    for file in rules.iter().flat_map(|r| tables.map(|t| r.join(t))) {
        if file.is_file() {
            std::fs::remove_file(&file).with_context(|| format!("removing {}", file.display()))?;
        }
    }
    Ok(())
}

/// `crossval-*.toml` experiments run `qscale crossval`.
fn is_crossval(stem: &str) -> bool {
    stem.starts_with("crossval")
}

fn is_validate(stem: &str) -> bool {
    stem.starts_with("validate")
}

/// `DIR/README.md` of one experiment: what it is, its summary table and
/// its figures (linked relative to `dir`).
fn experiment_readme(r: &Reproduced, dir: &Path) -> String {
    let summary = r
        .summary
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok());
    let mut out = format!("# {}\n\n", r.stem);
    // Summary tables carry the description themselves.
    let described = summary
        .as_deref()
        .is_some_and(|s| s.contains(r.description.as_str()));
    if !r.description.is_empty() && !described {
        out.push_str(&format!("{}\n\n", r.description));
    }
    out.push_str(&format!(
        "A {} from `experiments/{}.toml`.\n\n",
        r.kind, r.stem
    ));
    if let Some(summary) = summary {
        // Its headings go under this README's title.
        for line in summary.lines() {
            if line.starts_with('#') {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    for fig in r
        .figures
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
    {
        let rel = fig.strip_prefix(dir).unwrap_or(fig);
        out.push_str(&format!("![{}]({})\n", rel.display(), rel.display()));
    }
    out
}

/// results/README.md: the README of every experiment whose folder holds
/// one, in experiment order, its headings one level down and figure links
/// from `root`.
fn results_index(root: &Path, stems: &[String], quick: bool) -> String {
    let mut sections = Vec::new();
    for stem in stems {
        let path = root.join(stem).join(layout::README);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut section = String::new();
        for line in text.lines() {
            let line = if line.starts_with('#') {
                format!("#{line}")
            } else if line.starts_with("![") {
                line.replacen("![", &format!("![{stem}/"), 1).replacen(
                    "](",
                    &format!("]({stem}/"),
                    1,
                )
            } else {
                line.to_string()
            };
            section.push_str(&line);
            section.push('\n');
        }
        sections.push(section);
    }
    let mut out = String::from("# Results\n\n");
    out.push_str(&format!(
        "Written by `qscale reproduce{}` ({} experiment(s)). Every folder holds the resolved `config.toml`, \
         its CSVs and `figures/`; `qscale plot FOLDER` redraws the figures from the CSVs alone \
         (the per-step `steps.csv` files, kept for the first seed, are left out of the repository for size: \
         rerun `qscale reproduce` to get them).\n\n",
        if quick { " --quick" } else { "" },
        sections.len(),
    ));
    for section in sections {
        out.push_str(&section);
        out.push('\n');
    }
    out
}
