//! The catalogue of bad inputs: every mistake a user is likely to make,
//! run through the binary, with the exit code and the words the one
//! `error:` line must contain. After a failure nothing may be left behind:
//! no `--out` folder and no temporary file next to it.
//!
//! Each case runs in its own temporary folder holding a valid trace
//! (`t.csv`) and config (`c.toml`) plus the case's own files, so the messages
//! name short relative paths. Exit codes: 2 for bad input (including a
//! missing input file), 1 when the system fails (an output folder that
//! cannot be written).

use std::fs;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;

/// A valid 20-row trace of 60 s intervals, about 10 req/s.
fn valid_trace() -> String {
    let mut text = String::from("timestamp_s,requests\n");
    for i in 0..20 {
        text.push_str(&format!("{},{}\n", i * 60, 500 + 20 * i));
    }
    text
}

const VALID_CONFIG: &str = "[workload]\nnoise = \"none\"\n\n[cloud]\nvm_capacity_rps = 10\nmax_vms = 8\n\n[agent]\nepisodes = 2\n\n[experiment]\nseeds = [1]\n";

/// One mistake: the files it needs (written over the valid ones), the
/// command, the exit code, and what stderr must say.
struct Case {
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    args: Vec<String>,
    code: i32,
    stderr: Vec<&'static str>,
}

fn case(
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    args: &[&str],
    code: i32,
    stderr: &[&'static str],
) -> Case {
    Case {
        name,
        files,
        args: args.iter().map(|a| a.to_string()).collect(),
        code,
        stderr: stderr.to_vec(),
    }
}

/// A trace file `t.csv` with `text`.
fn trace(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![("t.csv", text.as_bytes().to_vec())]
}

/// A config file `c.toml` with `text`.
fn config(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![("c.toml", text.as_bytes().to_vec())]
}

const RUN: [&str; 7] = [
    "run", "--config", "c.toml", "--trace", "t.csv", "--out", "out",
];

/// `run` on the valid files with extra arguments.
fn run_with(extra: &[&'static str]) -> Vec<&'static str> {
    RUN.iter().copied().chain(extra.iter().copied()).collect()
}

/// A `qscale train` output folder (`train/`) with a valid Q-table and
/// config, made once.
struct TrainFixture {
    config: String,
    qtable: String,
}

fn train_fixture() -> TrainFixture {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.csv"), valid_trace()).unwrap();
    fs::write(dir.path().join("c.toml"), VALID_CONFIG).unwrap();
    cargo_bin_cmd!("qscale")
        .current_dir(dir.path())
        .args([
            "train",
            "--config",
            "c.toml",
            "--set",
            "workload.trace=\"t.csv\"",
            "--set",
            "agent.design=legacy",
            "--set",
            "agent.randomise=false",
        ])
        .args(["--out", "train"])
        .assert()
        .success();
    let read = |f: &str| fs::read_to_string(dir.path().join("train").join(f)).unwrap();
    TrainFixture {
        config: read("config.toml"),
        qtable: read("qtable.txt"),
    }
}

/// A train folder whose qtable.txt is `qtable`.
fn train_folder(fixture: &TrainFixture, qtable: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("train/config.toml", fixture.config.clone().into_bytes()),
        ("train/qtable.txt", qtable.as_bytes().to_vec()),
    ]
}

const EVALUATE: [&str; 7] = [
    "evaluate", "--qtable", "train", "--trace", "t.csv", "--out", "out",
];

/// A run folder `r/` as `qscale run` writes it, with `steps` as steps.csv.
fn run_folder(steps: &str) -> Vec<(&'static str, Vec<u8>)> {
    let summary = "policy,trace,seed,cost_usd,penalty_usd,score_usd,requests,served,violations,violation_rate,drops,final_backlog,mean_vms,max_vms,vm_hours,scaling_actions,steps,regret_usd\nthreshold,t,1,0.1,0.0,0.1,1200.0,1200.0,0.0,0.0,0.0,0.0,2.0,2,0.1,0,2,\n";
    vec![
        ("r/steps.csv", steps.as_bytes().to_vec()),
        ("r/summary.csv", summary.as_bytes().to_vec()),
        ("r/config.toml", VALID_CONFIG.as_bytes().to_vec()),
    ]
}

const STEPS_HEADER: &str = "step,time_s,arrivals,served,dropped,backlog,vms_running,vms_booting,capacity_rps,utilization,latency_mean_s,latency_p95_s,slo_violations,cost_usd,penalty_usd,reward,target_vms\n";

fn cases(fixture: &TrainFixture) -> Vec<Case> {
    let garbage: Vec<u8> = (0..=255u8)
        .rev()
        .chain(0..=255u8)
        .cycle()
        .take(2000)
        .collect();
    let crlf = valid_trace().replace('\n', "\r\n");
    let bom = format!("\u{feff}{}", valid_trace());
    let huge_states = fixture
        .qtable
        .lines()
        .map(|l| {
            if l.starts_with("states = ") {
                "states = 99999999".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let bad_value = {
        let mut lines: Vec<String> = fixture.qtable.lines().map(String::from).collect();
        lines[8] = lines[8].replacen(' ', " x ", 1);
        lines.join("\n")
    };
    let truncated_table: String = fixture
        .qtable
        .lines()
        .take(20)
        .collect::<Vec<_>>()
        .join("\n");
    let edited_actions = fixture
        .qtable
        .replacen("actions = -2,-1,0,1,2", "actions = -1,0,1", 1);

    vec![
        // --- traces ---------------------------------------------------------
        case(
            "empty trace",
            trace(""),
            &RUN,
            2,
            &["t.csv: file is empty", "timestamp_s,requests"],
        ),
        case(
            "header only",
            trace("timestamp_s,requests\n"),
            &RUN,
            2,
            &["t.csv: header only, no data rows"],
        ),
        case(
            "one data row",
            trace("timestamp_s,requests\n0,5\n"),
            &RUN,
            2,
            &["t.csv: only one data row"],
        ),
        case(
            "wrong header",
            trace("time,count\n0,5\n60,6\n"),
            &RUN,
            2,
            &[
                "t.csv: header is `time,count`, expected `timestamp_s,requests`",
                "`qscale trace import --format csv`",
            ],
        ),
        case(
            "extra column",
            trace("timestamp_s,requests\n0,5\n60,6,7\n"),
            &RUN,
            2,
            &["t.csv:3:3: field `extra`: expected 2 fields, found 3"],
        ),
        case(
            "non-numeric count",
            trace("timestamp_s,requests\n0,5\n60,lots\n120,6\n"),
            &RUN,
            2,
            &["t.csv:3:2: field `requests`: `lots` is not a number"],
        ),
        case(
            "non-numeric timestamp",
            trace("timestamp_s,requests\n0,5\nnoon,6\n120,6\n"),
            &RUN,
            2,
            &["t.csv:3:1: field `timestamp_s`: `noon` is not a number"],
        ),
        case(
            "negative count",
            trace("timestamp_s,requests\n0,5\n60,-3\n120,6\n"),
            &RUN,
            2,
            &["t.csv:3:2: field `requests`: request count -3 is negative"],
        ),
        case(
            "NaN count",
            trace("timestamp_s,requests\n0,5\n60,NaN\n120,6\n"),
            &RUN,
            2,
            &["t.csv:3:2: field `requests`: NaN is not a finite number"],
        ),
        case(
            "infinite count",
            trace("timestamp_s,requests\n0,5\n60,inf\n120,6\n"),
            &RUN,
            2,
            &["t.csv:3:2: field `requests`: inf is not a finite number"],
        ),
        case(
            "infinite timestamp",
            trace("timestamp_s,requests\n0,5\n1e999,6\n"),
            &RUN,
            2,
            &["t.csv:3:1: field `timestamp_s`: inf is not a finite number"],
        ),
        case(
            "timestamps going backwards",
            trace("timestamp_s,requests\n0,5\n60,6\n30,7\n"),
            &RUN,
            2,
            &["t.csv:4:1: field `timestamp_s`: timestamp 30 is earlier than the previous row's 60"],
        ),
        case(
            "duplicate timestamp",
            trace("timestamp_s,requests\n0,5\n60,6\n60,7\n"),
            &RUN,
            2,
            &["t.csv:4:1: field `timestamp_s`: timestamp 60 repeats the previous row's"],
        ),
        case(
            "irregular interval",
            trace("timestamp_s,requests\n0,5\n60,6\n150,7\n"),
            &RUN,
            2,
            &["t.csv:4:1: field `timestamp_s`: interval 90 s differs from the trace's interval of 60 s"],
        ),
        case(
            "enormous count",
            trace("timestamp_s,requests\n0,5\n60,1e300\n120,6\n"),
            &RUN,
            2,
            &["t.csv:3:2: field `requests`: request count 1e300 is more than the limit of 2^53"],
        ),
        case(
            "counts that overflow a step when resampled",
            trace("timestamp_s,requests\n0,9e15\n60,9e15\n120,0\n"),
            &run_with(&["--set", "workload.step_s=120"]),
            2,
            &["t.csv: step 0 would hold 1.8e16 requests", "workload.step_s"],
        ),
        case(
            "a scale that overflows the counts",
            trace(&valid_trace()),
            &run_with(&["--set", "workload.scale=1e300"]),
            2,
            &["would hold", "lower workload.scale"],
        ),
        case(
            "truncated last line, missing field",
            trace("timestamp_s,requests\n0,5\n60,6\n12"),
            &RUN,
            2,
            &["t.csv:4:2: field `requests`: expected 2 fields, found 1"],
        ),
        case(
            "truncated last line, empty field",
            trace("timestamp_s,requests\n0,5\n60,6\n120,"),
            &RUN,
            2,
            &["t.csv:4:2: field `requests`: value is missing"],
        ),
        case(
            "trace shorter than one step",
            trace("timestamp_s,requests\n0,5\n10,6\n"),
            &RUN,
            2,
            &["t.csv: trace lasts 20 s, shorter than one step of 60 s"],
        ),
        case(
            "binary garbage",
            vec![("t.csv", garbage.clone())],
            &RUN,
            2,
            &["t.csv: header is `", "expected `timestamp_s,requests`"],
        ),
        case("CRLF line ends are accepted", trace(&crlf), &RUN, 0, &[]),
        case("a byte order mark is accepted", trace(&bom), &RUN, 0, &[]),
        case(
            "missing trace file",
            vec![],
            &[
                "run", "--config", "c.toml", "--trace", "nope.csv", "--out", "out",
            ],
            2,
            &["cannot read trace nope.csv", "No such file"],
        ),
        case(
            "a folder given as the trace",
            vec![("d/keep", b"x".to_vec())],
            &["run", "--config", "c.toml", "--trace", "d", "--out", "out"],
            2,
            &["cannot read trace d"],
        ),
        case(
            "no trace at all",
            vec![],
            &["run", "--config", "c.toml", "--out", "out"],
            2,
            &["no trace given: pass --trace FILE or set workload.trace"],
        ),
        case(
            "trace stats on a bad trace",
            trace("timestamp_s,requests\n0,5\n60,-1\n"),
            &["trace", "stats", "t.csv", "--out", "out"],
            2,
            &["t.csv:3:2: field `requests`: request count -1 is negative"],
        ),
        // --- configs --------------------------------------------------------
        case(
            "unknown key",
            config("[cloud]\nmax_vms = 8\nmax_vmz = 9\n"),
            &RUN,
            2,
            &["c.toml", "line 3", "unknown field `max_vmz`"],
        ),
        case(
            "unknown section",
            config("[clouds]\nmax_vms = 8\n"),
            &RUN,
            2,
            &["c.toml", "line 1", "unknown field `clouds`"],
        ),
        case(
            "wrong type",
            config("[cloud]\nmax_vms = \"many\"\n"),
            &RUN,
            2,
            &["c.toml", "line 2", "max_vms", "expected a whole number ≥ 0"],
        ),
        case(
            "float for an integer key",
            config("[cloud]\nmax_vms = 8.5\n"),
            &RUN,
            2,
            &["c.toml", "line 2", "max_vms"],
        ),
        case(
            "TOML syntax error",
            config("[cloud\nmax_vms = 8\n"),
            &RUN,
            2,
            &["c.toml", "line 1"],
        ),
        case(
            "not TOML at all",
            vec![("c.toml", garbage.clone())],
            &RUN,
            2,
            &["c.toml"],
        ),
        case(
            "missing config file",
            vec![],
            &[
                "run", "--config", "nope.toml", "--trace", "t.csv", "--out", "out",
            ],
            2,
            &["cannot read config nope.toml", "No such file"],
        ),
        case(
            "min above max",
            config("[cloud]\nmin_vms = 5\nmax_vms = 2\ninitial_vms = 2\n"),
            &RUN,
            2,
            &["cloud.min_vms = 5 is greater than cloud.max_vms = 2"],
        ),
        case(
            "initial outside the bounds",
            config("[cloud]\nmax_vms = 4\ninitial_vms = 9\n"),
            &RUN,
            2,
            &["cloud.initial_vms = 9 is outside [cloud.min_vms, cloud.max_vms] = [1, 4]"],
        ),
        case(
            "no VM allowed",
            config("[cloud]\nmin_vms = 0\nmax_vms = 0\ninitial_vms = 0\n"),
            &RUN,
            2,
            &["cloud.max_vms = 0 is out of range: must be >= 1"],
        ),
        case(
            "zero step",
            config("[workload]\nstep_s = 0\n"),
            &RUN,
            2,
            &["workload.step_s = 0 is out of range: must be >= 1"],
        ),
        case(
            "negative step",
            config("[workload]\nstep_s = -60\n"),
            &RUN,
            2,
            &["c.toml", "line 2", "step_s", "expected a whole number ≥ 0"],
        ),
        case(
            "fractional step",
            config("[workload]\nstep_s = 0.5\n"),
            &RUN,
            2,
            &["c.toml", "line 2", "step_s"],
        ),
        case(
            "zero capacity",
            config("[cloud]\nvm_capacity_rps = 0\n"),
            &RUN,
            2,
            &["cloud.vm_capacity_rps = 0 is out of range: must be finite and > 0"],
        ),
        case(
            "negative capacity",
            config("[cloud]\nvm_capacity_rps = -5\n"),
            &RUN,
            2,
            &["cloud.vm_capacity_rps = -5 is out of range"],
        ),
        case(
            "absurd capacity",
            config("[cloud]\nvm_capacity_rps = 1e300\n"),
            &RUN,
            2,
            &["cloud.vm_capacity_rps = 1e300 is out of range: must be in (0, 1e9]"],
        ),
        case(
            "negative price",
            config("[cloud]\nprice_per_hour = -0.1\n"),
            &RUN,
            2,
            &["cloud.price_per_hour = -0.1 is out of range: must be finite and >= 0"],
        ),
        case(
            "NaN price",
            config("[cloud]\nprice_per_hour = nan\n"),
            &RUN,
            2,
            &["cloud.price_per_hour = NaN is out of range"],
        ),
        case(
            "infinite penalty",
            config("[reward]\npenalty_per_drop = inf\n"),
            &RUN,
            2,
            &["reward.penalty_per_drop = inf is out of range"],
        ),
        case(
            "zero SLO",
            config("[cloud]\nslo_s = 0\n"),
            &RUN,
            2,
            &["cloud.slo_s = 0 is out of range: must be finite and > 0"],
        ),
        case(
            "negative SLO",
            config("[cloud]\nslo_s = -1\n"),
            &RUN,
            2,
            &["cloud.slo_s = -1 is out of range"],
        ),
        case(
            "absurd boot time",
            config("[cloud]\nboot_s = 1e30\n"),
            &RUN,
            2,
            &["cloud.boot_s = 1e30 is out of range: must be in [0, 1e9]"],
        ),
        case(
            "upper threshold above 1",
            config("[policy]\nupper = 1.5\n"),
            &RUN,
            2,
            &["policy.upper = 1.5 is out of range: must be in (0, 1]"],
        ),
        case(
            "gamma of 1",
            config("[agent]\ngamma = 1.0\n"),
            &RUN,
            2,
            &["agent.gamma = 1 is out of range: must be in [0, 1)"],
        ),
        case(
            "no seeds",
            config("[experiment]\nseeds = []\n"),
            &RUN,
            2,
            &["experiment.seeds is empty"],
        ),
        case(
            "unknown policy in the config",
            config("[policy]\nkind = \"magic\"\n"),
            &RUN,
            2,
            &["c.toml", "line 2", "unknown variant `magic`"],
        ),
        case(
            "a fleet beyond any real one",
            config("[cloud]\nmax_vms = 4000000000\n"),
            &RUN,
            2,
            &["cloud.max_vms = 4000000000 is out of range: must be in [1, 1000000]"],
        ),
        case(
            "a Q-table too large for memory",
            config("[cloud]\nmax_vms = 1000000\n[policy]\nkind = \"qlearning\"\n[agent]\ndesign = \"legacy\"\n"),
            &RUN,
            2,
            &["Q-table would have", "agent.vm_edges"],
        ),
        // --- --set ----------------------------------------------------------
        case(
            "--set with an unknown key",
            vec![],
            &run_with(&["--set", "cloud.max_vmz=3"]),
            2,
            &["--set cloud.max_vmz=3", "unknown field `max_vmz`"],
        ),
        case(
            "--set with an unknown section",
            vec![],
            &run_with(&["--set", "clouds.max_vms=3"]),
            2,
            &["--set clouds.max_vms=3", "unknown field `clouds`"],
        ),
        case(
            "--set without a section",
            vec![],
            &run_with(&["--set", "max_vms=3"]),
            2,
            &["--set max_vms=3", "section.key"],
        ),
        case(
            "--set without a value",
            vec![],
            &run_with(&["--set", "cloud.max_vms"]),
            2,
            &["--set cloud.max_vms", "expected section.key=value"],
        ),
        case(
            "--set with a bad value",
            vec![],
            &run_with(&["--set", "cloud.max_vms=many"]),
            2,
            &["--set cloud.max_vms=many", "expected a whole number ≥ 0"],
        ),
        case(
            "--set with a negative count",
            vec![],
            &run_with(&["--set", "cloud.max_vms=-1"]),
            2,
            &["--set cloud.max_vms=-1", "expected a whole number ≥ 0"],
        ),
        case(
            "--set of a list key with one value (issue #18)",
            vec![],
            &run_with(&["--set", "experiment.seeds=1"]),
            2,
            &["--set experiment.seeds=1", "write experiment.seeds=[1]"],
        ),
        case(
            "--set with an impossible bound",
            vec![],
            &run_with(&["--set", "cloud.price_per_hour=-1"]),
            2,
            &["cloud.price_per_hour = -1 is out of range"],
        ),
        case(
            "--set of a section",
            vec![],
            &run_with(&["--set", "cloud=3"]),
            2,
            &["--set cloud=3", "section.key"],
        ),
        case(
            "unknown --policy",
            vec![],
            &run_with(&["--policy", "magic"]),
            2,
            &["invalid value 'magic' for '--policy <KIND>'"],
        ),
        case(
            "unknown flag",
            vec![],
            &run_with(&["--colour"]),
            2,
            &["unexpected argument '--colour'"],
        ),
        // --- sweeps ---------------------------------------------------------
        case(
            "sweep range with a zero step",
            vec![],
            &[
                "sweep", "--config", "c.toml", "--set", "workload.trace=\"t.csv\"", "--set",
                "agent.alpha=0.1:0.5:0", "--out", "out",
            ],
            2,
            &["sweep axis agent.alpha: range 0.1:0.5:0 needs finite bounds and a step > 0"],
        ),
        case(
            "sweep range running backwards",
            vec![],
            &[
                "sweep", "--config", "c.toml", "--set", "workload.trace=\"t.csv\"", "--set",
                "agent.alpha=0.5:0.1:0.1", "--out", "out",
            ],
            2,
            &["sweep axis agent.alpha: range 0.5:0.1:0.1 is empty (to < from)"],
        ),
        case(
            "sweep range with astronomically many points",
            vec![],
            &[
                "sweep", "--config", "c.toml", "--set", "workload.trace=\"t.csv\"", "--set",
                "cloud.max_vms=1:1e300:1", "--out", "out",
            ],
            2,
            &["sweep axis cloud.max_vms", "more than the limit of 1000000"],
        ),
        case(
            "sweep grid too large",
            vec![],
            &[
                "sweep", "--config", "c.toml", "--set", "workload.trace=\"t.csv\"", "--set",
                "agent.alpha=0:1:0.001", "--set", "agent.gamma=0:0.999:0.001", "--out", "out",
            ],
            2,
            &["sweep grid is too large"],
        ),
        case(
            "sweep combination making an invalid config",
            vec![],
            &[
                "sweep", "--config", "c.toml", "--set", "workload.trace=\"t.csv\"", "--set",
                "policy.upper=0.5,2", "--out", "out",
            ],
            2,
            &["sweep combination policy.upper-2", "policy.upper = 2 is out of range"],
        ),
        case(
            "sweep over a bad trace",
            trace("timestamp_s,requests\n0,5\n60,-1\n"),
            &[
                "sweep", "--config", "c.toml", "--set", "workload.trace=\"t.csv\"", "--set",
                "policy.upper=0.7,0.8", "--out", "out",
            ],
            2,
            &["t.csv:3:2: field `requests`: request count -1 is negative"],
        ),
        case(
            "sweep with zero jobs",
            vec![],
            &[
                "sweep", "--config", "c.toml", "--set", "workload.trace=\"t.csv\"", "--set",
                "policy.upper=0.7,0.8", "--jobs", "0", "--out", "out",
            ],
            2,
            &["--jobs <JOBS>': expected a whole number of worker threads ≥ 1"],
        ),
        case(
            "sweep with a bad shard",
            vec![],
            &[
                "sweep", "--config", "c.toml", "--set", "workload.trace=\"t.csv\"", "--set",
                "policy.upper=0.7,0.8", "--shard", "3/2", "--out", "out",
            ],
            2,
            &["--shard 3/2: expected I/N with 1 <= I <= N"],
        ),
        case(
            "merge of a folder that is not a sweep",
            vec![("notasweep/x.txt", b"x".to_vec())],
            &["merge", "notasweep", "--out", "out"],
            2,
            &["notasweep is not a sweep folder: it has no sweep.toml"],
        ),
        case(
            "merge of a corrupt sweep manifest",
            vec![("s/sweep.toml", b"[cloud\nthis is not toml".to_vec())],
            &["merge", "s", "--out", "out"],
            2,
            &["s/sweep.toml: not a sweep manifest qscale can read"],
        ),
        // --- Q-tables -------------------------------------------------------
        case(
            "Q-table with a value that is not a number",
            train_folder(fixture, &bad_value),
            &EVALUATE,
            2,
            &["train/qtable.txt:9: value `x` is not a finite number"],
        ),
        case(
            "truncated Q-table",
            train_folder(fixture, &truncated_table),
            &EVALUATE,
            2,
            &["train/qtable.txt:21: file ends before the last state row"],
        ),
        case(
            "Q-table claiming a huge state count",
            train_folder(fixture, &huge_states),
            &EVALUATE,
            2,
            &["train/qtable.txt:6: states = 99999999 with 5 actions is not plausible"],
        ),
        case(
            "Q-table whose action list was edited",
            train_folder(fixture, &edited_actions),
            &EVALUATE,
            2,
            &["train/qtable.txt:9: state row has 5 values, expected 3"],
        ),
        case(
            "Q-table evaluated under another action set",
            train_folder(fixture, &fixture.qtable),
            &EVALUATE
                .iter()
                .copied()
                .chain(["--set", "agent.actions=[-1, 0, 1]"])
                .collect::<Vec<_>>(),
            2,
            &[
                "train/qtable.txt: the Q-table does not fit the config: actions is `-2,-1,0,1,2` in the file but `-1,0,1` in the config",
            ],
        ),
        case(
            "not a Q-table",
            train_folder(fixture, "hello\n"),
            &EVALUATE,
            2,
            &["train/qtable.txt:1: not a Q-table"],
        ),
        case(
            "binary Q-table",
            vec![
                ("train/config.toml", fixture.config.clone().into_bytes()),
                ("train/qtable.txt", garbage.clone()),
            ],
            &EVALUATE,
            2,
            &["train/qtable.txt"],
        ),
        case(
            "missing Q-table",
            vec![("train/config.toml", fixture.config.clone().into_bytes())],
            &EVALUATE,
            2,
            &["cannot access Q-table train/qtable.txt", "No such file"],
        ),
        case(
            "evaluate of a folder that does not exist (issue #18)",
            vec![("runs/other/x", b"".to_vec())],
            &[
                "evaluate", "--qtable", "runs/nonexistent", "--trace", "t.csv", "--out", "out",
            ],
            2,
            &[
                "--qtable runs/nonexistent: no such folder",
                "`qscale train --out runs/nonexistent` makes one",
            ],
        ),
        case(
            "evaluate of a folder that is not a training run",
            vec![("train/qtable.txt", fixture.qtable.clone().into_bytes())],
            &EVALUATE,
            2,
            &["train/config.toml not found"],
        ),
        // --- results folders (plot) -----------------------------------------
        case(
            "plot of a steps.csv with a bad number",
            run_folder(&format!(
                "{STEPS_HEADER}0,0,600,600,0,0,2,0,20,0.5,0.1,0.2,0,0.01,0,-0.01,2\n1,60,six hundred,600,0,0,2,0,20,0.5,0.1,0.2,0,0.01,0,-0.01,2\n"
            )),
            &["plot", "r"],
            2,
            &["r/steps.csv:3"],
        ),
        case(
            "plot of a truncated steps.csv",
            run_folder(&format!("{STEPS_HEADER}0,0,600,600,0,0,2,0,20,0.5,0.1,0.2,0,0.01,0,-0.01,2\n1,60,600")),
            &["plot", "r"],
            2,
            &["r/steps.csv:3"],
        ),
        case(
            "plot of a steps.csv without rows",
            run_folder(STEPS_HEADER),
            &["plot", "r"],
            2,
            &["r/steps.csv has no rows"],
        ),
        case(
            "plot of a steps.csv lacking columns",
            run_folder("step,time_s\n0,0\n"),
            &["plot", "r"],
            2,
            &["r/steps.csv: missing column(s)", "arrivals"],
        ),
        case(
            "plot of a folder with no results",
            vec![("r/notes.txt", b"x".to_vec())],
            &["plot", "r"],
            2,
            &["nothing to plot in r"],
        ),
        case(
            "plot of a missing folder",
            vec![],
            &["plot", "nowhere"],
            2,
            &["nowhere is not a folder"],
        ),
        // --- imports --------------------------------------------------------
        case(
            "import with a malformed line under --strict",
            vec![(
                "access.log",
                b"h - - [01/Jul/1995:00:00:01 -0400] \"GET / HTTP/1.0\" 200 1\nnot a log line\n"
                    .to_vec(),
            )],
            &[
                "trace", "import", "--format", "clf", "--interval-s", "60", "--strict",
                "access.log", "--out", "out",
            ],
            2,
            &["access.log:2:", "(--strict)"],
        ),
        case(
            "import of binary garbage",
            vec![("access.log", garbage.clone())],
            &[
                "trace", "import", "--format", "clf", "--interval-s", "60", "access.log", "--out",
                "out",
            ],
            2,
            &["no records counted", "first malformed: access.log:1:"],
        ),
        case(
            "import with a zero interval",
            vec![("access.log", b"x\n".to_vec())],
            &[
                "trace", "import", "--format", "clf", "--interval-s", "0", "access.log", "--out",
                "out",
            ],
            2,
            &["--interval-s 0 is not a positive finite number of seconds"],
        ),
        case(
            "import of a missing file",
            vec![],
            &[
                "trace", "import", "--format", "clf", "--interval-s", "60", "nope.log", "--out",
                "out",
            ],
            2,
            &["cannot read trace nope.log", "No such file"],
        ),
        case(
            "import of an Azure table with a wrong header",
            vec![("d01.csv", b"a,b,c\n1,2,3\n".to_vec())],
            &[
                "trace", "import", "--format", "azure-functions", "--interval-s", "60",
                "d01.csv", "--out", "out",
            ],
            2,
            &["d01.csv: header is `a,b,c`"],
        ),
        case(
            "import of an enormous Azure count",
            vec![(
                "d01.csv",
                format!(
                    "HashOwner,HashApp,HashFunction,Trigger,{}\no,a,f,http,{}\n",
                    (1..=1440).map(|m| m.to_string()).collect::<Vec<_>>().join(","),
                    std::iter::once("1e300".to_string())
                        .chain((2..=1440).map(|_| "1".to_string()))
                        .collect::<Vec<_>>()
                        .join(",")
                )
                .into_bytes(),
            )],
            &[
                "trace", "import", "--format", "azure-functions", "--interval-s", "60",
                "--strict", "d01.csv", "--out", "out",
            ],
            2,
            &["d01.csv:2: field 5 (`1`): `1e300` is not a non-negative number up to 2^53"],
        ),
        // --- outputs --------------------------------------------------------
        case(
            "output folder under a file",
            vec![("afile", b"x".to_vec())],
            &[
                "run", "--config", "c.toml", "--trace", "t.csv", "--out", "afile/out",
            ],
            1,
            &["cannot create the output folder afile/out: afile is a file, not a folder"],
        ),
        case(
            "output folder in /proc",
            vec![],
            &[
                "run",
                "--config",
                "c.toml",
                "--trace",
                "t.csv",
                "--out",
                "/proc/qscale-catalogue",
            ],
            1,
            &["cannot create the output folder /proc/qscale-catalogue"],
        ),
        case(
            "existing results folder without --force",
            vec![("out/steps.csv", b"keep me".to_vec())],
            &RUN,
            2,
            &["output folder out already exists and is not empty", "--force"],
        ),
        case(
            "generated trace with an absurd rate",
            vec![],
            &[
                "trace",
                "gen",
                "--kind",
                "constant",
                "--hours",
                "1",
                "--peak-rps",
                "1e300",
                "--out",
                "out",
            ],
            2,
            &["field `peak_rps`: 1e300 requests/s over 60 s intervals is too large"],
        ),
        case(
            "generated trace over an existing file",
            vec![("g.csv", b"keep me".to_vec())],
            &["trace", "gen", "--kind", "constant", "--hours", "1", "--out", "g.csv"],
            2,
            &["g.csv already exists", "--force"],
        ),
    ]
}

/// Runs one case; returns what went wrong, if anything.
fn check(case: &Case) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("t.csv"), valid_trace()).unwrap();
    fs::write(root.join("c.toml"), VALID_CONFIG).unwrap();
    for (name, bytes) in &case.files {
        let path = root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
    let before = listing(root);
    let output = cargo_bin_cmd!("qscale")
        .current_dir(root)
        .args(&case.args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if std::env::var_os("QSCALE_CATALOGUE_SHOW").is_some() {
        eprintln!(
            "[{}] {:?}\n{}",
            case.name,
            output.status.code(),
            stderr.trim_end()
        );
    }
    let mut problems = Vec::new();
    let code = output.status.code();
    if code != Some(case.code) {
        problems.push(format!("exit code {code:?}, expected {}", case.code));
    }
    if stderr.contains("panicked") {
        problems.push("panicked".to_string());
    }
    for want in &case.stderr {
        if !stderr.contains(want) {
            problems.push(format!("stderr lacks `{want}`"));
        }
    }
    if case.code != 0 {
        let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
        if errors != 1 {
            problems.push(format!("{errors} `error:` lines, expected exactly one"));
        }
        // Nothing new may be left: no output, no temporary file.
        let after = listing(root);
        let new: Vec<&String> = after.iter().filter(|p| !before.contains(p)).collect();
        if !new.is_empty() {
            problems.push(format!("left behind {new:?}"));
        }
    } else if !root.join("out").is_dir() {
        problems.push("no output folder after success".to_string());
    }
    let leftovers: Vec<String> = listing(root)
        .into_iter()
        .filter(|p| p.contains(".tmp"))
        .collect();
    if !leftovers.is_empty() {
        problems.push(format!("temporary files left: {leftovers:?}"));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{}: {}\n    args: {:?}\n    stderr: {}",
            case.name,
            problems.join("; "),
            case.args,
            stderr.trim_end().replace('\n', "\n            ")
        )
    })
}

/// Every path under `root`, relative, sorted.
fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_mistake_in_the_catalogue_gets_one_clear_error_and_leaves_nothing_behind() {
    let fixture = train_fixture();
    let cases = cases(&fixture);
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} catalogue cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn a_damaged_sweep_cell_is_named_with_its_line_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("t.csv"), valid_trace()).unwrap();
    fs::write(root.join("c.toml"), VALID_CONFIG).unwrap();
    let sweep = [
        "sweep",
        "--config",
        "c.toml",
        "--set",
        "workload.trace=\"t.csv\"",
        "--set",
        "experiment.policies=[\"threshold\"]",
        "--set",
        "policy.upper=0.7,0.8",
        "--out",
        "s",
    ];
    let run = || {
        cargo_bin_cmd!("qscale")
            .current_dir(root)
            .args(sweep)
            .output()
            .unwrap()
    };
    assert!(run().status.success());
    let cell = root.join("s/cells/policy.upper-0.8/seed-1/summary.csv");
    let text = fs::read_to_string(&cell).unwrap();
    let damaged = text.replacen("threshold,t,1,", "threshold,t,1,lots,", 1);
    fs::write(&cell, damaged).unwrap();
    fs::remove_file(root.join("s/aggregate.csv")).unwrap();
    let output = run();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: s/cells/policy.upper-0.8/seed-1/summary.csv: line 2: "),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "delete the cell's folder s/cells/policy.upper-0.8/seed-1 and rerun the sweep"
        ),
        "{stderr}"
    );
    assert!(!root.join("s/aggregate.csv").exists());
    // Doing what it says repairs the sweep.
    fs::remove_dir_all(root.join("s/cells/policy.upper-0.8/seed-1")).unwrap();
    assert!(run().status.success());
    assert!(root.join("s/aggregate.csv").is_file());
}
