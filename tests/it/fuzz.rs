//! Fuzzing with proptest: arbitrary bytes, and structured mutations of
//! valid files (lines deleted, duplicated or swapped, bytes flipped,
//! extreme numbers inserted, keys set to absurd values), fed to the trace
//! reader, every importer, the config loader, `--set`, the Q-table loader,
//! and, for configs that load, a short simulation of every policy. Nothing
//! may panic or hang, and whatever is accepted must be sane (finite
//! numbers, conserved requests, costs ≥ 0).
//!
//! The number of cases per property comes from `QSCALE_FUZZ_CASES`
//! (default 256; the simulation property runs a fiftieth of it, at least
//! 16). A long campaign:
//!
//! ```sh
//! QSCALE_FUZZ_CASES=1000000 cargo test --release --test it fuzz::
//! ```
//!
//! A case that runs longer than `QSCALE_FUZZ_HANG_S` seconds (default 600)
//! is reported with its input and the process aborts: a hang is a failure.
//! (The slowest legitimate cases are simulations of a million-VM fleet of
//! very slow VMs, whose M/M/c formulas cost time in proportion to the VMs:
//! tens of seconds for 500 steps.)

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::Config as PtConfig;
use qscale::agent::qtable::{from_text, to_text, QTable, QTableHeader};
use qscale::cloud::Workload;
use qscale::config::{Billing, Config, PolicyKind};
use qscale::experiment::run_policy;
use qscale::trace::import::{import_readers, ImportFormat, ImportOptions};
use qscale::trace::{read_csv_from, write_csv, Trace, MAX_REQUESTS};

// --- configuration and the hang watchdog -----------------------------------

fn fuzz_cases() -> u32 {
    std::env::var("QSCALE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// `QSCALE_FUZZ_CASES / divisor` cases (at least 16), no regression files
/// written into the repository.
fn config(divisor: u32) -> PtConfig {
    PtConfig {
        cases: (fuzz_cases() / divisor).max(16),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..PtConfig::default()
    }
}

/// What each test thread is working on, and since when.
type Active = HashMap<ThreadId, (Instant, &'static str, Vec<u8>)>;

fn active() -> &'static Mutex<Active> {
    static ACTIVE: OnceLock<Mutex<Active>> = OnceLock::new();
    ACTIVE.get_or_init(|| {
        let limit = std::env::var("QSCALE_FUZZ_HANG_S")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(600u64);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            let guard = active().lock().unwrap_or_else(|e| e.into_inner());
            for (started, target, input) in guard.values() {
                if started.elapsed() > Duration::from_secs(limit) {
                    // Written past the test harness's capture, which
                    // would swallow it when the process aborts.
                    let message = format!(
                        "fuzz: a {target} case ran longer than {limit} s (a hang); input:\n{}\n",
                        String::from_utf8_lossy(input)
                    );
                    let _ = std::io::Write::write_all(&mut std::io::stderr(), message.as_bytes());
                    std::process::abort();
                }
            }
        });
        Mutex::new(HashMap::new())
    })
}

/// Marks the current thread as busy with `input` until dropped.
struct Watch;

impl Watch {
    fn new(target: &'static str, input: &[u8]) -> Watch {
        active().lock().unwrap_or_else(|e| e.into_inner()).insert(
            std::thread::current().id(),
            (Instant::now(), target, input.to_vec()),
        );
        Watch
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        active()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&std::thread::current().id());
    }
}

// --- structured mutations ---------------------------------------------------

/// Numbers and near-numbers that sit at the edges of every parser.
const WEIRD: [&str; 30] = [
    "0",
    "-0",
    "-1",
    "-3.5",
    "1",
    "0.5",
    "0.9999999999999999",
    "1e-320",
    "1e300",
    "-1e300",
    "1e999",
    "-1e999",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "4294967295",
    "4294967296",
    "4000000000",
    "2147483648",
    "9007199254740993",
    "18446744073709551616",
    "99999999999999999999999",
    "3600",
    "0x10",
    "1_000",
    "",
    " ",
    "\"",
    "\u{0661}\u{0662}",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    FlipByte(usize, u8),
    InsertWeird(usize, usize),
    ReplaceField(usize, usize, usize),
    Truncate(usize),
    InsertBytes(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let any_index = any::<usize>();
    prop_oneof![
        any_index.prop_map(Mutation::DeleteLine),
        any_index.prop_map(Mutation::DuplicateLine),
        (any_index, any_index).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any_index, 1u8..=255).prop_map(|(p, m)| Mutation::FlipByte(p, m)),
        (any_index, 0..WEIRD.len()).prop_map(|(p, w)| Mutation::InsertWeird(p, w)),
        (any_index, any_index, 0..WEIRD.len())
            .prop_map(|(l, f, w)| Mutation::ReplaceField(l, f, w)),
        any_index.prop_map(Mutation::Truncate),
        (any_index, prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(p, b)| Mutation::InsertBytes(p, b)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..5)
}

/// Applies `mutations` to `valid`, line by line or byte by byte.
fn mutate(valid: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = valid
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    for m in mutations {
        if lines.is_empty() {
            lines.push(Vec::new());
        }
        let n = lines.len();
        match m {
            Mutation::DeleteLine(i) => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
            Mutation::FlipByte(p, mask) => {
                let mut bytes = lines.concat();
                if !bytes.is_empty() {
                    let i = p % bytes.len();
                    bytes[i] ^= mask;
                }
                lines = vec![bytes];
            }
            Mutation::InsertWeird(p, w) => {
                let line = &mut lines[p % n];
                let at = p % (line.len() + 1);
                line.splice(at..at, WEIRD[*w].bytes());
            }
            Mutation::ReplaceField(l, f, w) => {
                let line = &mut lines[l % n];
                let text = String::from_utf8_lossy(line).into_owned();
                let sep = [',', ' ', ':', '='].into_iter().find(|c| text.contains(*c));
                if let Some(sep) = sep {
                    let mut fields: Vec<&str> = text.split(sep).collect();
                    let k = f % fields.len();
                    let ends_line = fields[k].ends_with('\n');
                    fields[k] = WEIRD[*w];
                    let mut joined = fields.join(&sep.to_string());
                    if ends_line && !joined.ends_with('\n') {
                        joined.push('\n');
                    }
                    *line = joined.into_bytes();
                }
            }
            Mutation::Truncate(p) => {
                let bytes = lines.concat();
                let keep = p % (bytes.len() + 1);
                lines = vec![bytes[..keep].to_vec()];
            }
            Mutation::InsertBytes(p, extra) => {
                let mut bytes = lines.concat();
                let at = p % (bytes.len() + 1);
                bytes.splice(at..at, extra.iter().copied());
                lines = vec![bytes];
            }
        }
    }
    lines.concat()
}

// --- seeds ------------------------------------------------------------------

fn data(name: &str) -> Vec<u8> {
    std::fs::read(crate::support::data(name)).unwrap()
}

/// The first `n` lines of a bundled file.
fn head(name: &str, n: usize) -> Vec<u8> {
    data(name)
        .split_inclusive(|&b| b == b'\n')
        .take(n)
        .flatten()
        .copied()
        .collect()
}

fn valid_traces() -> Vec<Vec<u8>> {
    vec![
        data("tiny.csv"),
        data("const150.csv"),
        b"\xef\xbb\xbftimestamp_s,requests\r\n0,1.5\r\n0.1,2\r\n0.2,0\r\n".to_vec(),
        b"timestamp_s,requests\n1700000000,9007199254740992\n1700003600,0\n".to_vec(),
    ]
}

/// Inputs for each importer: (format, file name, valid seeds, intervals).
/// A format, a file name, valid inputs and their expected counts.
type ImportTarget = (ImportFormat, &'static str, Vec<Vec<u8>>, Vec<f64>);

fn import_targets() -> Vec<ImportTarget> {
    vec![
        (
            ImportFormat::Clf,
            "access.log",
            vec![
                data("nasa-jul95.first15.log"),
                data("clf-zones.log"),
                data("nasa-aug95.first10-with-3-bad-lines.log"),
            ],
            vec![1.0, 60.0, 3600.0],
        ),
        (
            ImportFormat::Sdsc,
            "sdsc.txt",
            vec![head("sdsc-http.first500.txt", 40)],
            vec![1.0, 60.0],
        ),
        (
            ImportFormat::AzureFunctions,
            "d01.csv",
            vec![head("azure-functions-invitro.first6.csv", 4)],
            vec![60.0, 3600.0],
        ),
        (
            ImportFormat::WikipediaPagecounts,
            "pagecounts-20090430-230000",
            vec![data("pagecounts-20090430-230000")],
            vec![3600.0, 7200.0],
        ),
        (
            ImportFormat::Csv,
            "rows.csv",
            vec![
                data("tiny.csv"),
                b"timestamp,count\n1700000000,3\n1700000030.5,1\n1700000200,2\n".to_vec(),
            ],
            vec![1.0, 60.0, 3600.0],
        ),
    ]
}

fn valid_qtable() -> String {
    let header = QTableHeader {
        design: "legacy".into(),
        algorithm: "q-learning".into(),
        actions: "-1,0,1".into(),
        features: "util:0.5,1|vms:1..4".into(),
    };
    let mut t = QTable::new(6, 3, 0.0);
    for s in 0..6 {
        for a in 0..3 {
            *t.get_mut(s, a) = -(s as f64) * 0.25 - a as f64 * 1e-3;
        }
    }
    to_text(&header, &[&t])
}

// --- checks -----------------------------------------------------------------

/// A trace that was accepted must be usable as it is.
fn check_trace(t: &Trace) -> Result<(), TestCaseError> {
    prop_assert!(t.interval_s.is_finite() && t.interval_s > 0.0, "{t:?}");
    prop_assert!(t.start_s.is_finite());
    prop_assert!(t.requests.len() >= 2);
    for r in &t.requests {
        prop_assert!(
            r.is_finite() && *r >= 0.0 && *r <= MAX_REQUESTS,
            "count {r}"
        );
    }
    Ok(())
}

fn check_trace_csv(bytes: &[u8]) -> Result<(), TestCaseError> {
    let _watch = Watch::new("trace csv", bytes);
    if let Ok(t) = read_csv_from(bytes, Path::new("fuzz.csv")) {
        check_trace(&t)?;
    }
    Ok(())
}

fn check_import(
    format: ImportFormat,
    name: &str,
    bytes: &[u8],
    interval_s: f64,
    strict: bool,
) -> Result<(), TestCaseError> {
    let _watch = Watch::new("import", bytes);
    let mut opts = ImportOptions::new(format, interval_s, "fuzz");
    opts.strict = strict;
    let input: Box<dyn std::io::Read> = Box::new(Cursor::new(bytes.to_vec()));
    if let Ok(report) = import_readers(vec![(PathBuf::from(name), input)], &opts) {
        check_trace(&report.trace)?;
        prop_assert!(report.requests.is_finite());
        // What an import writes, every command can read back.
        let mut out = Vec::new();
        write_csv(&report.trace, &mut out).unwrap();
        let back = read_csv_from(&out[..], Path::new("imported.csv"));
        prop_assert!(
            back.is_ok(),
            "the imported trace does not read back: {back:?}"
        );
    }
    Ok(())
}

fn check_config_file(bytes: &[u8], sets: &[String]) -> Result<(), TestCaseError> {
    let _watch = Watch::new("config", bytes);
    let path = scratch_file();
    std::fs::write(&path, bytes).unwrap();
    if let Ok(config) = Config::load(Some(&path), sets) {
        // A loaded config is valid and survives its own round trip.
        prop_assert!(config.validate().is_ok());
        std::fs::write(&path, config.to_toml()).unwrap();
        let back = Config::load(Some(&path), &[]);
        prop_assert!(back.is_ok(), "resolved config does not load: {back:?}");
        // Compared as text: a sweep axis may hold NaN, which is never
        // equal to itself (the sweep refuses it when it runs).
        prop_assert_eq!(back.unwrap().to_toml(), config.to_toml());
    }
    Ok(())
}

/// This thread's config file, rewritten by every case: in memory
/// (`/dev/shm`) where there is one, since a million temporary folders on
/// disk would make the campaign wait on the file system.
fn scratch_file() -> PathBuf {
    thread_local! {
        static DIR: tempfile::TempDir = {
            let shm = Path::new("/dev/shm");
            if shm.is_dir() {
                tempfile::tempdir_in(shm).unwrap()
            } else {
                tempfile::tempdir().unwrap()
            }
        };
    }
    DIR.with(|d| d.path().join("fuzz.toml"))
}

fn check_qtable(text: &str) -> Result<(), TestCaseError> {
    let _watch = Watch::new("qtable", text.as_bytes());
    if let Ok((header, tables)) = from_text(text, Path::new("qtable.txt")) {
        prop_assert!(!tables.is_empty() && tables.len() <= 2);
        for t in &tables {
            prop_assert_eq!(t.n_actions(), header.actions.split(',').count());
            prop_assert_eq!(t.values().len(), t.n_states() * t.n_actions());
            prop_assert!(t.values().iter().all(|v| v.is_finite()));
        }
    }
    Ok(())
}

/// Longest simulated run, steps.
const MAX_FUZZ_STEPS: usize = 500;

/// Every policy on `trace` under `config` (when valid): finite numbers,
/// requests conserved, VMs in bounds, costs ≥ 0, step costs summing to the
/// total.
fn check_simulation(config: &Config, trace: &Trace, seed: u64) -> Result<(), TestCaseError> {
    let description = format!("{}\n{trace:?}", config.to_toml());
    let _watch = Watch::new("simulation", description.as_bytes());
    let Ok(mut workload) = Workload::from_trace(trace, config) else {
        return Ok(());
    };
    // The edges of the numbers, not of the run time: a 40-hour trace at
    // 1 s steps is 144,000 steps, which the oracle plans for minutes.
    workload.arrivals.truncate(MAX_FUZZ_STEPS);
    let workload = Arc::new(workload);
    for kind in PolicyKind::ALL {
        let mut c = config.clone();
        c.policy.kind = kind;
        c.agent.episodes = c.agent.episodes.min(2);
        c.experiment.train_traces.clear();
        if c.validate().is_err() {
            continue; // e.g. a Q-table too large for this bound
        }
        let record = run_policy(&c, Arc::clone(&workload), seed).unwrap();
        let s = &record.summary;
        let (lo, hi) = (c.cloud.min_vms, c.cloud.max_vms);
        let mut cost = 0.0;
        for step in &record.steps {
            for (name, v) in crate::support::counts_and_charges(step) {
                prop_assert!(v.is_finite() && v >= 0.0, "{kind}: {name} = {v}");
            }
            prop_assert!(step.reward.is_finite() && step.reward <= 0.0);
            prop_assert!(step.utilization <= 1.0 + 1e-12);
            for v in [step.latency_mean_s, step.latency_p95_s]
                .into_iter()
                .flatten()
            {
                prop_assert!(v.is_finite() && v >= 0.0, "{kind}: latency {v}");
            }
            let vms = step.vms_running + step.vms_booting;
            prop_assert!(vms <= hi && vms >= lo, "{kind}: {vms} VMs");
            prop_assert!((lo..=hi).contains(&step.target_vms));
            cost += step.cost_usd;
        }
        let balance = s.served + s.drops + s.final_backlog;
        prop_assert!(
            (s.requests - balance).abs() <= 1e-9 * s.requests.max(1.0),
            "{kind}: {} requests but {balance} served + dropped + waiting",
            s.requests
        );
        prop_assert!(s.score_usd.is_finite() && s.cost_usd >= 0.0 && s.penalty_usd >= 0.0);
        prop_assert!((cost - s.cost_usd).abs() <= 1e-9 * s.cost_usd.max(1e-9));
    }
    Ok(())
}

// --- strategies for configs -------------------------------------------------

/// Every key of the resolved default config, as (section, key).
fn config_keys() -> Vec<(String, String)> {
    let table: toml::Table = toml::from_str(&Config::default().to_toml()).unwrap();
    let mut keys = Vec::new();
    for (section, value) in &table {
        if let toml::Value::Table(t) = value {
            for key in t.keys() {
                keys.push((section.clone(), key.clone()));
            }
        }
    }
    keys
}

fn weird_value() -> impl Strategy<Value = toml::Value> {
    use toml::Value as V;
    prop_oneof![
        prop_oneof![
            Just(0i64),
            Just(-1),
            Just(1),
            Just(2),
            Just(24),
            Just(3600),
            Just(4_000_000_000),
            Just(4_294_967_295),
            Just(4_294_967_296),
            Just(i64::MAX),
            Just(i64::MIN),
        ]
        .prop_map(V::Integer),
        prop_oneof![
            Just(0.0f64),
            Just(-0.0),
            Just(1e-300),
            Just(0.999_999_999_999),
            Just(1.0),
            Just(1e6),
            Just(1e9),
            Just(1e300),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-1e300),
        ]
        .prop_map(V::Float),
        prop_oneof![Just(""), Just("none"), Just("per-hour"), Just("x")]
            .prop_map(|s| V::String(s.into())),
        Just(V::Boolean(true)),
        Just(V::Array(vec![])),
        Just(V::Array(vec![V::Float(1e300)])),
        Just(V::Array(vec![V::Integer(0), V::Integer(0)])),
        Just(V::Array(vec![
            V::Integer(-2_000_000_000),
            V::Integer(2_000_000_000)
        ])),
    ]
}

/// The resolved default config with a few keys set to absurd values.
fn mutated_config() -> impl Strategy<Value = Vec<u8>> {
    let keys = config_keys();
    prop::collection::vec((0..keys.len(), weird_value()), 1..5).prop_map(move |edits| {
        let mut table: toml::Table = toml::from_str(&Config::default().to_toml()).unwrap();
        for (k, value) in edits {
            let (section, key) = &keys[k];
            if let Some(toml::Value::Table(t)) = table.get_mut(section) {
                t.insert(key.clone(), value);
            }
        }
        toml::to_string(&table).unwrap_or_default().into_bytes()
    })
}

/// `--set` arguments: real or misspelt keys, weird values, broken syntax.
fn set_args() -> impl Strategy<Value = Vec<String>> {
    let keys = config_keys();
    let arg = (
        0..keys.len(),
        0..WEIRD.len(),
        prop_oneof![Just(0u8), Just(1), Just(2), Just(3)],
    )
        .prop_map(move |(k, w, shape)| {
            let (section, key) = &keys[k];
            match shape {
                0 => format!("{section}.{key}={}", WEIRD[w]),
                1 => format!("{section}.{key}x={}", WEIRD[w]),
                2 => format!("{key}={}", WEIRD[w]),
                _ => format!("{section}.{key}"),
            }
        });
    prop::collection::vec(arg, 0..4)
}

/// A small trace whose counts sit at the edges.
fn edge_trace() -> impl Strategy<Value = Trace> {
    let count = prop_oneof![
        Just(0.0),
        Just(0.5),
        Just(1.0),
        Just(600.0),
        Just(1e6),
        Just(1e12),
        Just(MAX_REQUESTS),
        0.0f64..5000.0,
    ];
    (
        prop_oneof![Just(1.0), Just(60.0), Just(3600.0), Just(0.25)],
        prop::collection::vec(count, 2..40),
    )
        .prop_map(|(interval_s, requests)| Trace {
            name: "edge".into(),
            start_s: 0.0,
            interval_s,
            requests,
        })
}

/// A config valid or nearly so: numeric cloud, workload and reward keys at
/// their edges.
fn edge_config() -> impl Strategy<Value = Config> {
    (
        prop_oneof![Just(1u32), Just(60), Just(3600)],
        (
            0u32..3,
            prop_oneof![Just(1u32), Just(2), Just(50), Just(5000), Just(1_000_000)],
        ),
        prop_oneof![Just(1e-3), Just(1.0), Just(20.0), Just(1e9)],
        prop_oneof![Just(0.0), Just(100.0), Just(1e6), Just(1e9)],
        prop_oneof![Just(0.0), Just(0.096), Just(1e6)],
        prop_oneof![Just(1e-9), Just(0.5), Just(1e9)],
        prop_oneof![Just(0.0), Just(1e-4), Just(1e6)],
        any::<bool>(),
        prop_oneof![
            Just(Billing::PerSecond),
            Just(Billing::PerMinute),
            Just(Billing::PerHour)
        ],
    )
        .prop_map(
            |(step_s, (min, max), mu, boot, price, slo, penalty, poisson, billing)| {
                let mut c = Config::default();
                c.workload.step_s = step_s;
                c.cloud.min_vms = min.min(max);
                c.cloud.max_vms = max;
                c.cloud.initial_vms = c.cloud.min_vms.max(1).min(max);
                c.cloud.vm_capacity_rps = mu;
                c.cloud.boot_s = boot;
                c.cloud.price_per_hour = price;
                c.cloud.slo_s = slo;
                c.cloud.timeout_s = slo.max(1.0);
                c.reward.penalty_per_violation = penalty;
                c.reward.penalty_per_drop = penalty;
                c.workload.noise = if poisson {
                    qscale::config::Noise::Poisson
                } else {
                    qscale::config::Noise::None
                };
                c.cloud.billing = billing;
                c.agent.vm_edges = if max > 1000 { vec![2, 10, 100] } else { vec![] };
                c
            },
        )
}

// --- the properties -----------------------------------------------------------

proptest! {
    #![proptest_config(config(1))]

    #[test]
    fn trace_reader_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_trace_csv(&bytes)?;
    }

    #[test]
    fn trace_reader_survives_mutated_traces(seed in 0usize..4, muts in mutations()) {
        let valid = &valid_traces()[seed];
        check_trace_csv(&mutate(valid, &muts))?;
    }

    #[test]
    fn importers_survive_arbitrary_bytes(
        target in 0usize..5,
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        strict in any::<bool>(),
    ) {
        let (format, name, _, intervals) = &import_targets()[target];
        check_import(*format, name, &bytes, intervals[0], strict)?;
    }

    #[test]
    fn importers_survive_mutated_inputs(
        target in 0usize..5,
        pick in any::<usize>(),
        muts in mutations(),
        strict in any::<bool>(),
    ) {
        let (format, name, seeds, intervals) = &import_targets()[target];
        let bytes = mutate(&seeds[pick % seeds.len()], &muts);
        check_import(*format, name, &bytes, intervals[pick % intervals.len()], strict)?;
    }

    #[test]
    fn config_loader_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_config_file(&bytes, &[])?;
    }

    #[test]
    fn config_loader_survives_mutated_files(seed in 0usize..3, muts in mutations()) {
        let valid = match seed {
            0 => Config::default().to_toml().into_bytes(),
            1 => data("tiny.toml"),
            _ => std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/sweep-agent.toml"),
            )
            .unwrap(),
        };
        check_config_file(&mutate(&valid, &muts), &[])?;
    }

    #[test]
    fn config_loader_survives_absurd_values(bytes in mutated_config(), sets in set_args()) {
        check_config_file(&bytes, &sets)?;
    }

    #[test]
    fn qtable_loader_survives_arbitrary_text(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        check_qtable(&format!("qscale-qtable 1\n{text}"))?;
        check_qtable(&text)?;
    }

    #[test]
    fn qtable_loader_survives_mutated_tables(muts in mutations()) {
        let bytes = mutate(valid_qtable().as_bytes(), &muts);
        check_qtable(&String::from_utf8_lossy(&bytes))?;
    }
}

proptest! {
    #![proptest_config(config(50))]

    #[test]
    fn every_policy_stays_sane_on_edge_configs_and_traces(
        config in edge_config(),
        trace in edge_trace(),
        seed in 0u64..1000,
    ) {
        if config.validate().is_ok() {
            check_simulation(&config, &trace, seed)?;
        }
    }

    #[test]
    fn every_policy_stays_sane_under_any_config_that_loads(
        bytes in mutated_config(),
        trace in edge_trace(),
        seed in 0u64..1000,
    ) {
        let path = scratch_file();
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(config) = Config::load(Some(&path), &[]) {
            check_simulation(&config, &trace, seed)?;
        }
    }
}

#[test]
fn mutations_change_the_input_as_described() {
    let valid = b"a,b\n1,2\n3,4\n";
    assert_eq!(mutate(valid, &[Mutation::DeleteLine(1)]), b"a,b\n3,4\n");
    assert_eq!(
        mutate(valid, &[Mutation::DuplicateLine(2)]),
        b"a,b\n1,2\n3,4\n3,4\n"
    );
    assert_eq!(
        mutate(valid, &[Mutation::SwapLines(1, 2)]),
        b"a,b\n3,4\n1,2\n"
    );
    assert_eq!(
        mutate(valid, &[Mutation::ReplaceField(1, 1, 8)]),
        b"a,b\n1,1e300\n3,4\n"
    );
    assert_eq!(mutate(valid, &[Mutation::Truncate(6)]), b"a,b\n1,");
}
