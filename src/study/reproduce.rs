//! `qscale reproduce`: every experiment of `experiments/` rerun into
//! `results/`, each folder with its README, and an index of them all.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use super::{
    compare, crossval, load_config, sweep, train, tune, CompareArgs, ConfigArgs, CrossvalArgs,
    SweepArgs, TrainArgs, TuneArgs,
};
use crate::config::{Config, PolicyKind};
use crate::output::write_file_atomic;
use crate::study::UsageError;

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

/// What `reproduce` did with one experiment, for results/README.md.
struct Reproduced {
    stem: String,
    description: String,
    kind: &'static str,
    figures: Vec<PathBuf>,
    summary: Option<PathBuf>,
}

pub(super) fn reproduce(args: ReproduceArgs) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.experiments)
        .with_context(|| format!("reading {}", args.experiments.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| {
            args.only.as_deref().is_none_or(|o| {
                p.file_stem()
                    .is_some_and(|s| s.to_string_lossy().contains(o))
            })
        })
        .collect();
    files.sort();
    // Every experiment, for the index: `--only` reruns some, the index
    // still lists all whose folders exist.
    let mut all_stems: Vec<String> = std::fs::read_dir(&args.experiments)
        .with_context(|| format!("reading {}", args.experiments.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    all_stems.sort();
    if files.is_empty() {
        return Err(UsageError(format!(
            "no experiment (*.toml) in {}",
            args.experiments.display()
        ))
        .into());
    }
    let root = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(if args.quick {
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
        say!("== {} ({})", stem, file.display());
        let base = Config::load(Some(file), &[])?;
        let mut sets = Vec::new();
        if args.quick {
            let seeds: Vec<String> = base
                .experiment
                .seeds
                .iter()
                .take(2)
                .map(u64::to_string)
                .collect();
            sets.push(format!("experiment.seeds=[{}]", seeds.join(", ")));
            sets.push(format!("agent.episodes={}", base.agent.episodes.min(30)));
            if is_crossval(&stem) {
                // Tuning is most of a cross-validation's work: the quick
                // run tunes the rules with the smallest grids only.
                sets.push(
                    "experiment.policies=[\"static\", \"target\", \"oracle\", \"qlearning\"]"
                        .into(),
                );
            }
        }
        let cfg = ConfigArgs {
            config: Some(file.clone()),
            set: sets.clone(),
        };
        let config = load_config(&cfg, Vec::new())?;
        let out = root.join(&stem);
        // Each experiment's folder is rebuilt from scratch.
        if out.exists() {
            std::fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
        }
        let mut figures = Vec::new();
        let tuned_rule = stem
            .strip_prefix("tune-")
            .and_then(|rule| rule.parse::<PolicyKind>().ok());
        let (kind, summary) = if let Some(rule) = tuned_rule {
            // tune-RULE.toml: tune the rule on the training traces, then
            // compare the defaults and the tuned parameters on the traces.
            tune(TuneArgs {
                cfg: cfg.clone(),
                policy: rule,
                no_builtin_grid: false,
                jobs: args.jobs,
                out: Some(out.join("tune")),
                force: true,
            })?;
            let tuned_path = out.join("tune").join("tuned.toml");
            let tuned: toml::Table = toml::from_str(&std::fs::read_to_string(&tuned_path)?)
                .with_context(|| format!("reading {}", tuned_path.display()))?;
            let mut tuned_sets = cfg.set.clone();
            if let Some(toml::Value::Table(policy)) = tuned.get("policy") {
                tuned_sets.extend(policy.iter().map(|(k, v)| format!("policy.{k}={v}")));
            }
            for (name, sets) in [("default", cfg.set.clone()), ("tuned", tuned_sets)] {
                let dir = out.join(name);
                compare(CompareArgs {
                    cfg: ConfigArgs {
                        config: cfg.config.clone(),
                        set: sets,
                    },
                    out: Some(dir.clone()),
                    jobs: args.jobs,
                    no_steps: false,
                    first_seed_steps: true,
                    all_steps: false,
                    force: true,
                })?;
                figures.extend(crate::plot::plot_folder(&dir, crate::plot::Format::Png)?.written);
            }
            (
                "tuning, then a comparison of default and tuned parameters",
                Some(out.join("tuned").join("summary.md")),
            )
        } else if is_crossval(&stem) {
            crossval(CrossvalArgs {
                cfg: cfg.clone(),
                jobs: args.jobs,
                shard: None,
                out: Some(out.clone()),
                force: true,
            })?;
            prune_cells(&out)?;
            figures.push(out.join("figures").join("crossval.png"));
            ("cross-validation", Some(out.join("summary.md")))
        } else if !config.sweep.is_empty() {
            sweep(SweepArgs {
                cfg: cfg.clone(),
                jobs: args.jobs,
                shard: None,
                out: Some(out.clone()),
                force: true,
            })?;
            figures.extend(crate::plot::plot_folder(&out, crate::plot::Format::Png)?.written);
            ("sweep", Some(out.join("best.md")))
        } else {
            compare(CompareArgs {
                cfg: cfg.clone(),
                out: Some(out.clone()),
                jobs: args.jobs,
                no_steps: false,
                first_seed_steps: true,
                all_steps: false,
                force: true,
            })?;
            figures.extend(crate::plot::plot_folder(&out, crate::plot::Format::Png)?.written);
            if config.experiment.policies.contains(&PolicyKind::Qlearning) {
                // One training folder per seed: learning curves with a band
                // over seeds, and the learned policy of the first seed.
                let train_root = out.join("training");
                for &seed in &config.experiment.seeds {
                    train(TrainArgs {
                        cfg: cfg.clone(),
                        episodes: None,
                        seed: Some(seed),
                        out: Some(train_root.join(format!("seed-{seed}"))),
                        force: true,
                    })?;
                }
                figures.extend(
                    crate::plot::plot_folder(&train_root, crate::plot::Format::Png)?.written,
                );
                if let Some(&first) = config.experiment.seeds.first() {
                    let seed_dir = train_root.join(format!("seed-{first}"));
                    figures.extend(
                        crate::plot::plot_folder(&seed_dir, crate::plot::Format::Png)?.written,
                    );
                }
            }
            ("comparison", Some(out.join("summary.md")))
        };
        let reproduced = Reproduced {
            stem,
            description: config.experiment.description.clone(),
            kind,
            figures,
            summary,
        };
        write_file_atomic(
            &out.join("README.md"),
            experiment_readme(&reproduced, &out).as_bytes(),
        )?;
        done.push(reproduced);
    }
    let index = results_index(&root, &all_stems, args.quick);
    write_file_atomic(&root.join("README.md"), index.as_bytes())?;
    say!(
        "reproduced {} experiment(s) into {} in {:.0} s; see {}",
        done.len(),
        root.display(),
        started.elapsed().as_secs_f64(),
        root.join("README.md").display()
    );
    Ok(())
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
        .map(|r| r.join("cells"))
        .chain(folds.iter().map(|f| f.join("eval")));
    for dir in dirs.filter(|d| d.is_dir()) {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let tables = ["summary.csv", "aggregate.csv"];
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
        let path = root.join(stem).join("README.md");
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
