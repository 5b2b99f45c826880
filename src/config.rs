//! Experiment configuration: TOML sections `[workload] [cloud] [reward]
//! [policy] [agent] [experiment] [sweep] [crossval]`, their defaults and units, `--set`
//! overrides, and validation.
//!
//! The flow is always the same: parse the file, apply each
//! `--set section.key=value` in order (the last one wins), deserialize with
//! unknown keys rejected, validate every bound, then never mutate. The
//! resolved [`Config`] (defaults filled in) is written to every results
//! folder as `config.toml`, so that folder alone is enough to rebuild it.
//!
//! Paths inside a config file (`workload.trace`, `experiment.traces`,
//! `experiment.train_traces`, `experiment.test_traces`,
//! `crossval.folds[].train`/`test`) are relative to that file's folder, as
//! Cargo reads manifests; paths on the command line, `--set` included, are
//! relative to the working directory. A loaded [`Config`] holds them
//! relative to the working directory (or absolute), and
//! `Config::to_toml_in` writes them relative to the results folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub(crate) use crate::agent::AgentConfig;
pub use crate::cloud::{Billing, Noise};
pub(crate) use crate::cloud::{CloudConfig, CloudSetup, RewardConfig, WorkloadConfig};
pub use crate::config_error::ConfigError;
pub(crate) use crate::config_error::{compact, positive};
pub(crate) use crate::policy::PolicyConfig;
pub use crate::policy::{PolicyKind, StaticSizing};

/// `[experiment]`: seeds and the traces and policies an experiment covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Free text shown in reports. Default empty.
    pub description: String,
    /// Master seeds; each run is a pure function of config and seed.
    /// Default `[1]`.
    pub seeds: Vec<u64>,
    /// Policy kinds compared by `qscale compare`. Default empty.
    pub policies: Vec<PolicyKind>,
    /// Trace files for `qscale compare`, relative to the config file's
    /// folder. Default empty.
    pub traces: Vec<PathBuf>,
    /// Trace files the agent trains on, relative to the config file's
    /// folder. Default empty.
    pub train_traces: Vec<PathBuf>,
    /// Trace files the trained agent is evaluated on, relative to the
    /// config file's folder. Default empty.
    pub test_traces: Vec<PathBuf>,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        Self {
            description: String::new(),
            seeds: vec![1],
            policies: Vec::new(),
            traces: Vec::new(),
            train_traces: Vec::new(),
            test_traces: Vec::new(),
        }
    }
}

/// `[sweep]`: parameter axes for `qscale sweep`. Ignored by other commands.
///
/// ```toml
/// [sweep.axes]                      # the Cartesian product, in this order
/// "agent.alpha" = [0.05, 0.1, 0.2]  # a list
/// "agent.gamma" = "0.9:0.99:0.03"   # a range from:to:step (to included)
/// "cloud.boot_s" = { from = 30, to = 120, step = 30 }
///
/// [[sweep.zip]]                     # axes that move together
/// "policy.upper" = [0.7, 0.8, 0.9]
/// "policy.lower" = [0.2, 0.3, 0.4]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SweepConfig {
    /// Independent axes: `"section.key"` = list, range string or
    /// `{ from, to, step }`. Default none.
    pub axes: toml::Table,
    /// Groups of axes of equal length that are stepped together. Default none.
    pub zip: Vec<toml::Table>,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[workload]`.
    pub workload: WorkloadConfig,
    /// `[cloud]`.
    pub cloud: CloudConfig,
    /// `[reward]`.
    pub reward: RewardConfig,
    /// `[policy]`.
    pub policy: PolicyConfig,
    /// `[agent]`.
    pub agent: AgentConfig,
    /// `[experiment]`.
    pub experiment: ExperimentConfig,
    /// `[sweep]`.
    #[serde(skip_serializing_if = "SweepConfig::is_empty")]
    pub sweep: SweepConfig,
    /// `[crossval]`.
    #[serde(skip_serializing_if = "CrossvalConfig::is_empty")]
    pub crossval: CrossvalConfig,
}

/// `[crossval]`: the folds and load levels of `qscale crossval`. Ignored
/// by other commands.
///
/// ```toml
/// [crossval]
/// peaks_rps = [2000, 800]   # evaluate every test trace at these peaks
/// tune_seeds = [1]          # seeds the rules are tuned with
/// in_sample = false         # true: each trace its own fold (the control)
///
/// [[crossval.folds]]        # explicit folds (default: leave one trace out)
/// train = ["traces/a.csv", "traces/b.csv"]
/// test = ["traces/c.csv"]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct CrossvalConfig {
    /// Explicit folds; empty means leave-one-trace-out over
    /// `experiment.traces`. Default none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub folds: Vec<FoldConfig>,
    /// Peak rates, requests per second, each finite and > 0, at which every
    /// test trace is evaluated (as `workload.peak_rps`); training and
    /// tuning use the workload as configured. Empty means the test traces
    /// as configured. Default empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peaks_rps: Vec<f64>,
    /// Seeds the rules are tuned with; empty means `experiment.seeds`.
    /// Without arrival noise the rules are deterministic, so one seed
    /// tunes them as well as many. Default empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tune_seeds: Vec<u64>,
    /// The in-sample control: one fold per trace of `experiment.traces`
    /// that trains, tunes and tests on that trace, so every policy sees
    /// its test trace in hindsight. Compared with leave-one-trace-out it
    /// tells a generalisation gap from what hindsight cannot close either.
    /// Not with explicit folds. Default false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_sample: bool,
}

impl CrossvalConfig {
    /// True when nothing is set.
    pub(crate) fn is_empty(&self) -> bool {
        self.folds.is_empty()
            && self.peaks_rps.is_empty()
            && self.tune_seeds.is_empty()
            && !self.in_sample
    }

    /// Checks the peaks and every fold.
    ///
    /// # Errors
    /// A peak that is not finite and > 0; a fold with an empty `train` or
    /// `test` list, or a trace listed in both; `in_sample` with explicit
    /// folds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for &peak in &self.peaks_rps {
            positive("crossval.peaks_rps", peak)?;
        }
        if self.in_sample && !self.folds.is_empty() {
            return Err(ConfigError::Inconsistent(
                "crossval.in_sample = true makes one fold of each of experiment.traces: \
                 drop the [[crossval.folds]] tables or the key"
                    .into(),
            ));
        }
        for (k, fold) in self.folds.iter().enumerate() {
            let n = k + 1;
            for (list, name) in [(&fold.train, "train"), (&fold.test, "test")] {
                if list.is_empty() {
                    return Err(ConfigError::Inconsistent(format!(
                        "crossval.folds[{n}].{name} is empty: every fold needs at least one \
                         training and one test trace"
                    )));
                }
            }
            if let Some(both) = fold.test.iter().find(|t| fold.train.contains(t)) {
                return Err(ConfigError::Inconsistent(format!(
                    "crossval.folds[{n}]: {} is in both train and test (a fold must not test \
                     on what it trained or tuned on)",
                    both.display()
                )));
            }
        }
        Ok(())
    }
}

/// One `[[crossval.folds]]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoldConfig {
    /// Traces the agent trains on and the rules are tuned on.
    pub train: Vec<PathBuf>,
    /// Traces every policy is evaluated on.
    pub test: Vec<PathBuf>,
}

impl SweepConfig {
    /// True when no axis is given.
    pub(crate) fn is_empty(&self) -> bool {
        self.axes.is_empty() && self.zip.is_empty()
    }
}

impl<'a> From<&'a Config> for CloudSetup<'a> {
    fn from(config: &'a Config) -> CloudSetup<'a> {
        config.cloud_setup()
    }
}

impl<'a> From<&'a Config> for crate::agent::AgentSetup<'a> {
    fn from(config: &'a Config) -> crate::agent::AgentSetup<'a> {
        crate::agent::AgentSetup {
            agent: &config.agent,
            cloud: &config.cloud,
            reward: &config.reward,
            workload: &config.workload,
        }
    }
}

impl<'a> From<&'a Config> for crate::policy::PolicySetup<'a> {
    fn from(config: &'a Config) -> crate::policy::PolicySetup<'a> {
        crate::policy::PolicySetup {
            policy: &config.policy,
            cloud: &config.cloud,
            reward: &config.reward,
            workload: &config.workload,
        }
    }
}

impl<'a> From<&'a Config> for &'a WorkloadConfig {
    fn from(config: &'a Config) -> &'a WorkloadConfig {
        &config.workload
    }
}

impl Config {
    /// The sections a simulated run happens in.
    pub(crate) fn cloud_setup(&self) -> CloudSetup<'_> {
        CloudSetup {
            cloud: &self.cloud,
            reward: &self.reward,
            workload: &self.workload,
        }
    }

    /// Reads `path` (or starts from the defaults when `None`), applies the
    /// `section.key=value` overrides in order, and validates the result.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file with line and column, the `--set`
    /// at fault, or the key out of range.
    pub fn load(path: Option<&Path>, overrides: &[String]) -> Result<Config, ConfigError> {
        let (mut table, origin) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Io {
                    path: p.to_path_buf(),
                    source,
                })?;
                let origin = p.display().to_string();
                // Deserializing the file on its own first gives messages
                // with the line and column of the offending key.
                toml::from_str::<Config>(&text).map_err(|e| parse_error(&origin, &e))?;
                let mut table: toml::Table =
                    toml::from_str(&text).map_err(|e| parse_error(&origin, &e))?;
                // Paths in the file are relative to its folder; those of
                // `--set`, applied below, stay relative to the working
                // directory.
                if let Some(folder) = p.parent() {
                    resolve_table_paths(&mut table, folder);
                }
                (table, origin)
            }
            None => (toml::Table::new(), "defaults".to_string()),
        };
        let mut config = Config::from_table(&table, &origin)?;
        for arg in overrides {
            apply_override(&mut table, arg)?;
            config = Config::from_table(&table, &format!("--set {arg}"))
                .map_err(|e| list_hint(e, arg))?;
        }
        config.validate()?;
        Ok(config)
    }

    /// This configuration with `section.key` values replaced, validated.
    ///
    /// # Errors
    /// An unknown key, a value of the wrong type, or a bound violated.
    pub fn with_overrides(
        &self,
        overrides: &[(String, toml::Value)],
    ) -> Result<Config, ConfigError> {
        let origin = || {
            overrides
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut table = match toml::Value::try_from(self) {
            Ok(toml::Value::Table(t)) => t,
            _ => {
                return Err(ConfigError::Inconsistent(
                    "config does not serialize".into(),
                ))
            }
        };
        for (key, value) in overrides {
            set_key(&mut table, key, value.clone()).map_err(|reason| ConfigError::BadOverride {
                arg: format!("{key}={value}"),
                reason,
            })?;
        }
        let config = Config::from_table(&table, &origin())?;
        config.validate()?;
        Ok(config)
    }

    fn from_table(table: &toml::Table, origin: &str) -> Result<Config, ConfigError> {
        Config::deserialize(toml::Value::Table(table.clone())).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            message: in_words(e.message().trim()),
        })
    }

    /// The resolved configuration as TOML, defaults included, with its
    /// paths as held (relative to the working directory, or absolute).
    pub fn to_toml(&self) -> String {
        // invariant: every field is a TOML-representable type
        toml::to_string(self).expect("config serializes to TOML")
    }

    /// The resolved configuration as TOML for a file in `dir`: relative
    /// paths are rewritten relative to `dir`, so the file loads with
    /// [`Config::load`] from any working directory (absolute paths stay as
    /// they are).
    pub(crate) fn to_toml_in(&self, dir: &Path) -> String {
        let mut config = self.clone();
        for path in config.paths_mut() {
            *path = relative_to(path, dir);
        }
        config.to_toml()
    }

    #[cfg(test)]
    /// This configuration read from a file in `dir` (as by `toml::from_str`,
    /// without [`Config::load`]'s resolution): its relative paths joined to
    /// `dir`, so they are relative to the working directory again.
    pub(crate) fn resolved_against(mut self, dir: &Path) -> Config {
        for path in self.paths_mut() {
            if path.is_relative() {
                *path = normalize(&dir.join(&*path));
            }
        }
        self
    }

    /// This configuration read from a file in folder `from` (its relative
    /// paths relative to `from`), with those paths rewritten for a file in
    /// folder `to`; absolute paths stay as they are. A sweep's merge moves
    /// cells' `config.toml` files with it.
    pub(crate) fn moved(mut self, from: &Path, to: &Path) -> Config {
        let (Ok(from), Ok(to)) = (std::path::absolute(from), std::path::absolute(to)) else {
            return self;
        };
        for path in self.paths_mut() {
            if path.is_relative() {
                *path = climb(&from.join(&*path), &to);
            }
        }
        self
    }

    /// Every path the configuration holds: `workload.trace`,
    /// `experiment.traces`, `experiment.train_traces`,
    /// `experiment.test_traces` and `crossval.folds[].train`/`test`.
    fn paths_mut(&mut self) -> impl Iterator<Item = &mut PathBuf> {
        let e = &mut self.experiment;
        self.workload
            .trace
            .iter_mut()
            .chain(e.traces.iter_mut())
            .chain(e.train_traces.iter_mut())
            .chain(e.test_traces.iter_mut())
            .chain(
                self.crossval
                    .folds
                    .iter_mut()
                    .flat_map(|f| f.train.iter_mut().chain(f.test.iter_mut())),
            )
    }

    /// Checks every bound and every relation between keys.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.workload.validate()?;
        self.cloud.validate(&self.reward)?;
        self.policy.validate()?;
        self.agent.validate()?;
        self.crossval.validate()?;
        if self.policy.kind.is_learned() || self.experiment.policies.iter().any(|k| k.is_learned())
        {
            self.check_q_table_size()?;
        }
        if self.experiment.seeds.is_empty() {
            return Err(ConfigError::Inconsistent(
                "experiment.seeds is empty: give at least one seed".into(),
            ));
        }
        Ok(())
    }
}

impl Config {
    /// Checks that the agent's Q-table fits in memory (see
    /// [`AgentConfig::check_q_table_size`]).
    ///
    /// # Errors
    /// [`ConfigError::Inconsistent`] naming the keys to change.
    pub fn check_q_table_size(&self) -> Result<(), ConfigError> {
        self.agent.check_q_table_size(&self.cloud)
    }
}

fn parse_error(origin: &str, e: &toml::de::Error) -> ConfigError {
    ConfigError::Parse {
        origin: origin.to_string(),
        message: in_words(&e.to_string().trim().replace('\n', " ").replace("  ", " ")),
    }
}

/// Serde's names for the types a value should have, as a user reads them.
const TYPE_WORDS: [(&str, &str); 9] = [
    ("expected usize", "expected a whole number ≥ 0"),
    ("expected u64", "expected a whole number ≥ 0"),
    (
        "expected u32",
        "expected a whole number ≥ 0 (at most 4294967295)",
    ),
    (
        "expected u16",
        "expected a whole number ≥ 0 (at most 65535)",
    ),
    ("expected u8", "expected a whole number ≥ 0 (at most 255)"),
    ("expected i64", "expected a whole number"),
    (
        "expected i32",
        "expected a whole number (from -2147483648 to 2147483647)",
    ),
    ("expected f64", "expected a number"),
    ("expected a sequence", "expected a list such as [1, 2]"),
];

/// A serde message with its type names in words: `expected u32` becomes
/// `expected a whole number ≥ 0 (at most 4294967295)`.
fn in_words(message: &str) -> String {
    let mut out = message.to_string();
    for (serde, words) in TYPE_WORDS {
        out = out.replace(serde, words);
    }
    out
}

/// A `--set key=value` whose value is not a list where a list is expected
/// (`experiment.seeds=1`): the message says to write `key=[value]`.
fn list_hint(err: ConfigError, arg: &str) -> ConfigError {
    match err {
        ConfigError::Parse { origin, message } if message.contains("expected a list") => {
            let hint = arg
                .split_once('=')
                .filter(|(_, raw)| !raw.trim_start().starts_with('['))
                .map(|(key, raw)| format!(": write {}=[{}]", key.trim(), raw.trim()));
            ConfigError::Parse {
                origin,
                message: format!("{message}{}", hint.unwrap_or_default()),
            }
        }
        other => other,
    }
}

/// Joins every relative path of a config file's table (`workload.trace`,
/// `experiment.traces`, `experiment.train_traces`, `experiment.test_traces`,
/// `crossval.folds[].train` and `.test`) to `folder`, the file's folder.
/// Values of the wrong type are left for deserialization to report.
fn resolve_table_paths(table: &mut toml::Table, folder: &Path) {
    let resolve = |value: &mut toml::Value| {
        if let toml::Value::String(s) = value {
            let path = Path::new(s.as_str());
            if path.is_relative() {
                *s = normalize(&folder.join(path)).to_string_lossy().into_owned();
            }
        }
    };
    let resolve_list = |value: Option<&mut toml::Value>| {
        if let Some(toml::Value::Array(items)) = value {
            items.iter_mut().for_each(resolve);
        }
    };
    if let Some(toml::Value::Table(w)) = table.get_mut("workload") {
        if let Some(trace) = w.get_mut("trace") {
            resolve(trace);
        }
    }
    if let Some(toml::Value::Table(e)) = table.get_mut("experiment") {
        for key in ["traces", "train_traces", "test_traces"] {
            resolve_list(e.get_mut(key));
        }
    }
    if let Some(toml::Value::Table(c)) = table.get_mut("crossval") {
        if let Some(toml::Value::Array(folds)) = c.get_mut("folds") {
            for fold in folds {
                if let toml::Value::Table(fold) = fold {
                    resolve_list(fold.get_mut("train"));
                    resolve_list(fold.get_mut("test"));
                }
            }
        }
    }
}

/// `path` without `.` components and with each `dir/..` pair removed,
/// lexically (as Cargo does for manifest paths): `experiments/../traces/a.csv`
/// becomes `traces/a.csv`. Leading `..` stay.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// `path` (relative to the working directory) relative to `dir`. Absolute
/// paths, and any path when the working directory is unknown, stay as they
/// are; a path that shares no folder with `dir` becomes absolute.
fn relative_to(path: &Path, dir: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    let (Ok(abs_path), Ok(abs_dir)) = (std::path::absolute(path), std::path::absolute(dir)) else {
        return path.to_path_buf();
    };
    climb(&abs_path, &abs_dir)
}

/// The path from folder `abs_dir` to `abs_path` (both absolute), or
/// `abs_path` itself when they share no folder but the root.
fn climb(abs_path: &Path, abs_dir: &Path) -> PathBuf {
    let (abs_path, abs_dir) = (normalize(abs_path), normalize(abs_dir));
    let p: Vec<_> = abs_path.components().collect();
    let d: Vec<_> = abs_dir.components().collect();
    let common = p.iter().zip(&d).take_while(|(a, b)| a == b).count();
    // Sharing no folder but the root, an absolute path reads better than
    // a climb to it.
    if !p[..common]
        .iter()
        .any(|c| matches!(c, std::path::Component::Normal(_)))
    {
        return abs_path;
    }
    let mut out = PathBuf::new();
    for _ in common..d.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out
}

/// Sets `section.key` in `table` from `section.key=value`. The value is
/// read as a TOML value (`5`, `0.5`, `true`, `[1, 2]`, `"x"`); anything that
/// is not valid TOML is taken as a bare string (`noise=none`).
fn apply_override(table: &mut toml::Table, arg: &str) -> Result<(), ConfigError> {
    let bad = |reason: &str| ConfigError::BadOverride {
        arg: arg.to_string(),
        reason: reason.to_string(),
    };
    let (key, raw) = arg
        .split_once('=')
        .ok_or_else(|| bad("expected section.key=value"))?;
    set_key(table, key.trim(), parse_value(raw.trim())).map_err(|reason| bad(&reason))
}

/// Sets `section.key` in a config table.
fn set_key(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let usage = || "the key must be section.key, e.g. cloud.max_vms".to_string();
    let (section, field) = key.split_once('.').ok_or_else(usage)?;
    if section.is_empty() || field.is_empty() || field.contains('.') {
        return Err(usage());
    }
    let entry = table
        .entry(section.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(section_table) = entry else {
        return Err(format!("`{section}` is not a section"));
    };
    section_table.insert(field.to_string(), value);
    Ok(())
}

/// Reads one `--set` value as TOML, falling back to a plain string.
pub(crate) fn parse_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str, sets: &[&str]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Config::load(Some(&path), &sets)
    }

    #[test]
    fn defaults_are_valid_and_survive_a_toml_round_trip() {
        let c = Config::default();
        c.validate().unwrap();
        let back: Config = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = load_str("[cloud]\nmax_vms = 3\nmax_vmz = 4\n", &[]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("max_vmz"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn set_overrides_apply_in_order_and_last_wins() {
        let c = load_str(
            "[cloud]\nmax_vms = 3\n",
            &["cloud.max_vms=7", "cloud.max_vms=9", "workload.noise=none"],
        )
        .unwrap();
        assert_eq!(c.cloud.max_vms, 9);
        assert_eq!(c.workload.noise, Noise::None);
    }

    #[test]
    fn set_with_an_unknown_key_names_the_override() {
        let err = load_str("", &["cloud.max_vmz=3"]).unwrap_err().to_string();
        assert!(err.contains("--set cloud.max_vmz=3"), "{err}");
        assert!(err.contains("max_vmz"), "{err}");
    }

    #[test]
    fn set_without_a_section_is_refused() {
        let err = load_str("", &["max_vms=3"]).unwrap_err().to_string();
        assert!(err.contains("section.key"), "{err}");
    }

    #[test]
    fn integer_values_are_accepted_for_float_keys() {
        let c = load_str("", &["cloud.vm_capacity_rps=100"]).unwrap();
        assert_eq!(c.cloud.vm_capacity_rps, 100.0);
    }

    #[test]
    fn impossible_bounds_are_rejected() {
        let err = load_str("[cloud]\nmin_vms = 5\nmax_vms = 2\ninitial_vms = 2\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("cloud.min_vms = 5"), "{err}");
        for (set, field) in [
            ("cloud.vm_capacity_rps=0", "cloud.vm_capacity_rps"),
            ("workload.step_s=0", "workload.step_s"),
            ("cloud.price_per_hour=-1", "cloud.price_per_hour"),
            ("cloud.slo_s=0", "cloud.slo_s"),
            ("cloud.initial_vms=99", "cloud.initial_vms"),
            ("policy.lower=0.9", "policy.lower"),
        ] {
            let err = load_str("", &[set]).unwrap_err().to_string();
            assert!(err.contains(field), "{set}: {err}");
        }
    }

    #[test]
    fn absurd_values_are_refused_with_a_readable_number() {
        let err = load_str("", &["cloud.price_per_hour=1e300"])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cloud.price_per_hour = 1e300 is out of range: must be in [0, 1e6]"
        );
        assert!(load_str("", &["cloud.max_vms=1000001"]).is_err());
        assert!(load_str("", &["cloud.max_vms=1000000"]).is_ok());
    }

    #[test]
    fn the_q_table_size_is_checked_only_when_the_agent_is_used() {
        let big = ["cloud.max_vms=1000000"];
        assert!(load_str("", &big).is_ok());
        // The scale-free state does not grow with the fleet.
        assert!(load_str("[policy]\nkind = \"qlearning\"\n", &big).is_ok());
        let legacy = "[agent]\ndesign = \"legacy\"\n";
        assert!(load_str(legacy, &big).is_ok());
        let err = load_str(&format!("{legacy}[policy]\nkind = \"qlearning\"\n"), &big)
            .unwrap_err()
            .to_string();
        assert!(err.contains("agent.vm_edges"), "{err}");
        assert!(load_str(
            "[experiment]\npolicies = [\"qlearning\"]\n[agent]\ndesign = \"legacy\"\nvm_edges = [10, 100]\n",
            &big
        )
        .is_ok());
        let err = load_str(
            "[policy]\nkind = \"qlearning\"\n[agent]\nhour_buckets = 24\nload_edges = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7, 2.8, 2.9, 3.0, 3.1, 3.2, 3.3, 3.4, 3.5, 3.6, 3.7, 3.8, 3.9, 4.0]\nvolatility_edges = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19, 0.2, 0.21, 0.22, 0.23, 0.24, 0.25, 0.26, 0.27, 0.28, 0.29, 0.3, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.37, 0.38, 0.39, 0.4]\ntrend_edges = [-0.5, -0.4, -0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7, 2.8, 2.9, 3.0, 3.1, 3.2, 3.3, 3.4]\nbooting_share_edges = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("Q-table would have") && err.contains("fewer edges"),
            "{err}"
        );
    }

    #[test]
    fn paths_in_a_config_file_are_relative_to_its_folder_issue_18() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("exp");
        std::fs::create_dir_all(&sub).unwrap();
        let path = sub.join("c.toml");
        std::fs::write(
            &path,
            "[workload]\ntrace = \"../t/a.csv\"\n[experiment]\ntraces = [\"b.csv\", \"/abs/c.csv\"]\n\
             train_traces = [\"./d.csv\"]\ntest_traces = [\"../e.csv\"]\n\
             [[crossval.folds]]\ntrain = [\"f.csv\"]\ntest = [\"g.csv\"]\n",
        )
        .unwrap();
        let c = Config::load(Some(&path), &["experiment.test_traces=[\"h.csv\"]".into()]).unwrap();
        let root = dir.path();
        assert_eq!(c.workload.trace, Some(root.join("t/a.csv")));
        assert_eq!(
            c.experiment.traces,
            [sub.join("b.csv"), PathBuf::from("/abs/c.csv")]
        );
        assert_eq!(c.experiment.train_traces, [sub.join("d.csv")]);
        // --set paths stay relative to the working directory.
        assert_eq!(c.experiment.test_traces, [PathBuf::from("h.csv")]);
        assert_eq!(c.crossval.folds[0].train, [sub.join("f.csv")]);
        assert_eq!(c.crossval.folds[0].test, [sub.join("g.csv")]);
    }

    #[test]
    fn normalize_drops_dots_and_dir_parent_pairs_but_keeps_leading_parents() {
        for (given, want) in [
            ("experiments/../traces/a.csv", "traces/a.csv"),
            ("./a/./b.csv", "a/b.csv"),
            ("../../x/../a.csv", "../../a.csv"),
            ("/r/../a.csv", "/a.csv"),
            ("a/..", "."),
        ] {
            assert_eq!(normalize(Path::new(given)), PathBuf::from(want), "{given}");
        }
    }

    #[test]
    fn to_toml_in_writes_paths_that_load_back_from_the_results_folder_issue_18() {
        let mut c = Config::default();
        c.workload.trace = Some(PathBuf::from("traces/a.csv"));
        c.experiment.traces = vec![PathBuf::from("/abs/b.csv")];
        // A folder under the working directory: relative paths.
        let text = c.to_toml_in(Path::new("runs/x"));
        assert!(text.contains("trace = \"../../traces/a.csv\""), "{text}");
        assert!(text.contains("\"/abs/b.csv\""), "{text}");
        let read: Config = toml::from_str(&text).unwrap();
        assert_eq!(read.resolved_against(Path::new("runs/x")), c);
        // Written in another folder (absolute paths when it shares nothing
        // but the root), it loads back to the same files.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r");
        std::fs::create_dir_all(&out).unwrap();
        let text = c.to_toml_in(&out);
        std::fs::write(out.join("config.toml"), &text).unwrap();
        let back = Config::load(Some(&out.join("config.toml")), &[]).unwrap();
        let cwd_trace = std::path::absolute("traces/a.csv").unwrap();
        assert_eq!(back.workload.trace, Some(cwd_trace));
        assert_eq!(back.experiment.traces, c.experiment.traces);
    }

    #[test]
    fn every_experiment_names_traces_that_exist_relative_to_its_folder_issue_18() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("experiments"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        assert!(!files.is_empty());
        for file in files {
            let mut c = Config::load(Some(&file), &[]).unwrap();
            let paths: Vec<PathBuf> = c.paths_mut().map(|p| p.clone()).collect();
            assert!(!paths.is_empty(), "{}", file.display());
            for p in paths {
                assert!(
                    p.is_file(),
                    "{}: {} is missing",
                    file.display(),
                    p.display()
                );
            }
        }
    }

    #[test]
    fn type_errors_read_in_words_and_a_missing_list_says_how_to_write_one_issue_18() {
        let err = |sets: &[&str]| load_str("", sets).unwrap_err().to_string();
        assert_eq!(
            err(&["experiment.seeds=1"]),
            "--set experiment.seeds=1: invalid type: integer `1`, expected a list such as \
             [1, 2]: write experiment.seeds=[1]"
        );
        assert_eq!(
            err(&["cloud.max_vms=-1"]),
            "--set cloud.max_vms=-1: invalid value: integer `-1`, expected a whole number ≥ 0 \
             (at most 4294967295)"
        );
        assert!(err(&["experiment.seeds=[-1]"]).ends_with("expected a whole number ≥ 0"));
        assert!(err(&["agent.actions=[1.5]"]).contains("expected a whole number (from"));
        let file = load_str("[workload]\nstep_s = 1.5\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            file.contains("line 2") && file.contains("expected a whole number ≥ 0"),
            "{file}"
        );
        assert!(!file.contains("u32"), "{file}");
    }

    #[test]
    fn wrong_type_is_reported() {
        let err = load_str("[cloud]\nmax_vms = \"many\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
