//! `qscale._qscale`: the Rust half of qscale's Python binding.
//!
//! The model is the `qscale` crate's, unchanged: [`CloudEnv`] steps, the
//! agent's action set ([`QAgent::act`]) and [`experiment::run_policy`].
//! This module only turns configurations, observations and records into
//! Python values:
//!
//! - [`Core`]: N environments on one trace, stepped in one call with the
//!   GIL released, writing into numpy buffers it owns (the observation
//!   features of [`FEATURES`], the reward, the end flags and the
//!   [`INFO`] columns). `qscale.ScalingEnv` drives one, and
//!   `qscale.VectorScalingEnv` many, from Python (`python/qscale/`).
//! - [`run`]: one run of a policy, as `qscale run` makes it.
//!
//! Errors carry the command line's message (`{err:#}` of the same error):
//! a file that cannot be read raises `OSError` (`FileNotFoundError` when it
//! does not exist), any other bad input `ValueError`.

use std::f64::consts::TAU;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use qscale::agent::QAgent;
use qscale::cloud::{Action, CloudEnv, Environment, Observation, StepInfo, Workload};
use qscale::config::{Config, PolicyKind};
use qscale::experiment;

/// The observation's features, in column order. Rates are requests per
/// second, times seconds, counts requests or VMs; every value is finite
/// (capped at the largest `f32`).
pub const FEATURES: [&str; 14] = [
    // Busy fraction of the VMs that served the last step, [0, 1].
    "utilization",
    // VMs running (serving) now.
    "vms_running",
    // VMs booting now (billed, not serving).
    "vms_booting",
    // Arrival rate of the last step, req/s.
    "arrival_rps",
    // Its change from the step before, req/s (0 until two steps ran).
    "trend_rps",
    // Offered load per VM of the fleet: arrival_rps / (μ · max(1, running + booting)).
    "load_per_vm",
    // Requests waiting in the overload backlog now.
    "backlog",
    // Mean response time of the last step, s (0 when no VM ran).
    "latency_mean_s",
    // Requests of the last step that missed the SLO or were dropped.
    "slo_violations",
    // Requests dropped in the last step.
    "dropped",
    // Time of day of the next step's start: sin and cos of 2π·t/86400.
    "time_of_day_sin",
    "time_of_day_cos",
    // The fleet's bounds, cloud.min_vms and cloud.max_vms.
    "min_vms",
    "max_vms",
];

/// The columns of a step's info, named as in `steps.csv`.
pub const INFO: [&str; 15] = [
    "step",
    "time_s",
    "arrivals",
    "served",
    "dropped",
    "backlog",
    "vms_running",
    "vms_booting",
    "utilization",
    "latency_mean_s",
    "latency_p95_s",
    "slo_violations",
    "cost_usd",
    "penalty_usd",
    "target_vms",
];

/// The columns of [`INFO`] that hold whole numbers.
const INFO_INTEGERS: [&str; 4] = ["step", "vms_running", "vms_booting", "target_vms"];

const N_FEATURES: usize = FEATURES.len();
const N_INFO: usize = INFO.len();

/// The exception for an error, with the command line's message.
fn py_err(err: anyhow::Error) -> PyErr {
    let message = format!("{err:#}");
    let io = err.chain().find_map(|e| e.downcast_ref::<std::io::Error>());
    match io {
        Some(e) if e.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(message)
        }
        Some(_) => PyOSError::new_err(message),
        None => PyValueError::new_err(message),
    }
}

/// A `--set` that sets `key` to `path`, quoted as the command line quotes
/// its `--trace`.
fn path_override(key: &str, path: &Path) -> String {
    let quoted = toml::Value::String(path.display().to_string()).to_string();
    format!("{key}={quoted}")
}

/// The configuration as `qscale run --config CONFIG [--policy P] [--trace
/// T] --set ...` loads it, and the trace it names.
fn load(
    config: Option<PathBuf>,
    policy: Option<&str>,
    trace: Option<PathBuf>,
    overrides: Vec<String>,
) -> anyhow::Result<(Config, PathBuf)> {
    let mut sets = Vec::new();
    if let Some(p) = policy {
        let kind = PolicyKind::from_str(p).map_err(anyhow::Error::msg)?;
        sets.push(format!("policy.kind=\"{kind}\""));
    }
    if let Some(t) = &trace {
        sets.push(path_override("workload.trace", t));
    }
    sets.extend(overrides);
    let config = Config::load(config.as_deref(), &sets)?;
    let trace =
        config.workload.trace.clone().ok_or_else(|| {
            anyhow::anyhow!("no trace given: pass trace=PATH or set workload.trace")
        })?;
    Ok((config, trace))
}

/// How an action number becomes an [`Action`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum ActionMode {
    /// Column of the agent's action set ([`QAgent::act`]).
    Agent,
    /// A target VM count.
    Target,
}

/// What happens when an episode ends.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Autoreset {
    /// Stepping an ended environment is an error (the single env).
    Off,
    /// Gymnasium's default: the step after the end resets, ignoring its
    /// action, with reward 0.
    NextStep,
    /// Stable-Baselines3's: the ending step resets at once; the final
    /// observation goes to the `final_obs` buffer.
    SameStep,
}

/// The constants the features need.
#[derive(Debug, Clone, Copy)]
struct Scale {
    service_rps: f64,
    min_vms: f64,
    max_vms: f64,
    /// The environment computes no utilization (`latency="off"`): it is
    /// derived from the step's counts here.
    lean: bool,
    step_s: f64,
}

/// One environment and what it needs between steps.
#[derive(Debug, Clone)]
struct Slot {
    env: CloudEnv,
    agent: Option<QAgent>,
    obs: Observation,
    started: bool,
    ended: bool,
    /// The seed of the next episode (set from Python).
    next_seed: u64,
}

impl Slot {
    fn reset(&mut self, seed: u64, scale: &Scale, out: &mut [f32]) {
        self.obs = self.env.reset(seed);
        self.started = true;
        self.ended = false;
        write_features(&self.obs, 0.0, scale, out);
    }

    /// Steps with action number `a` (already checked); returns the step's
    /// reward, info and whether the episode ended.
    #[inline]
    fn step(&mut self, a: u32, mode: ActionMode, scale: &Scale, out: &mut [f32]) -> StepResult {
        let action = match (mode, self.agent.as_mut()) {
            (ActionMode::Agent, Some(agent)) => agent.act(&self.obs, a as usize),
            _ => Action::Target(a),
        };
        let mut step = self.env.step(action);
        if scale.lean {
            let u = busy_fraction(&step.info, scale.step_s);
            step.info.utilization = u;
            step.obs.utilization = u;
        }
        let prev_rps = self.obs.arrival_rps;
        self.obs = step.obs;
        let ended = step.terminated || step.truncated;
        self.ended = ended;
        write_features(&self.obs, prev_rps, scale, out);
        StepResult {
            reward: step.reward,
            info: step.info,
            ended,
        }
    }
}

/// What the single environment's step returns to Python.
type StepOne<'py> = (Bound<'py, PyArray1<f32>>, f64, bool, Bound<'py, PyDict>);

struct StepResult {
    reward: f64,
    info: StepInfo,
    ended: bool,
}

/// The busy fraction of the VMs that served a step, from its counts:
/// served / (capacity · step), which is the model's utilization up to
/// rounding (all arrivals served at λ/(cμ) when stable, the full capacity
/// when overloaded); 1 when requests waited with no VM running.
#[inline]
fn busy_fraction(info: &StepInfo, step_s: f64) -> f64 {
    if info.capacity_rps > 0.0 {
        (info.served / (info.capacity_rps * step_s)).min(1.0)
    } else if info.arrivals > 0.0 || info.backlog > 0.0 || info.dropped > 0.0 {
        1.0
    } else {
        0.0
    }
}

/// A value as `f32`, finite: NaN gives 0, beyond the `f32` range the
/// largest `f32` of its sign.
#[inline]
fn finite_f32(x: f64) -> f32 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-f64::from(f32::MAX), f64::from(f32::MAX)) as f32
    }
}

/// Writes the [`FEATURES`] of `obs` (whose previous observation had
/// arrival rate `prev_rps`) into `out`.
#[inline]
fn write_features(obs: &Observation, prev_rps: f64, scale: &Scale, out: &mut [f32]) {
    let fleet = f64::from(obs.vms_total()).max(1.0);
    let trend = if obs.step >= 2 {
        obs.arrival_rps - prev_rps
    } else {
        0.0
    };
    let day = obs.time_s.rem_euclid(86_400.0) / 86_400.0 * TAU;
    let values = [
        obs.utilization,
        f64::from(obs.vms_running),
        f64::from(obs.vms_booting),
        obs.arrival_rps,
        trend,
        obs.arrival_rps / (scale.service_rps * fleet),
        obs.backlog,
        obs.latency_mean_s.unwrap_or(0.0),
        obs.slo_violations,
        obs.dropped,
        day.sin(),
        day.cos(),
        scale.min_vms,
        scale.max_vms,
    ];
    for (o, v) in out.iter_mut().zip(values) {
        *o = finite_f32(v);
    }
}

/// The [`INFO`] columns of a step (`NaN` for a latency not computed).
#[inline]
fn info_row(info: &StepInfo) -> [f64; N_INFO] {
    [
        info.step as f64,
        info.time_s,
        info.arrivals,
        info.served,
        info.dropped,
        info.backlog,
        f64::from(info.vms_running),
        f64::from(info.vms_booting),
        info.utilization,
        info.latency_mean_s.unwrap_or(f64::NAN),
        info.latency_p95_s.unwrap_or(f64::NAN),
        info.slo_violations,
        info.cost_usd,
        info.penalty_usd,
        f64::from(info.target_vms),
    ]
}

/// The buffers of one vector step, borrowed from the numpy arrays.
struct Buffers<'a> {
    obs: &'a mut [f32],
    reward: &'a mut [f64],
    terminated: &'a mut [bool],
    truncated: &'a mut [bool],
    info: &'a mut [f64],
    stepped: &'a mut [bool],
    reset: &'a mut [bool],
    final_obs: &'a mut [f32],
}

/// N environments on one trace and their numpy buffers.
#[pyclass(module = "qscale._qscale")]
pub struct Core {
    slots: Vec<Slot>,
    mode: ActionMode,
    autoreset: Autoreset,
    scale: Scale,
    n_actions: u32,
    trace_name: String,
    trace_steps: usize,
    step_s: f64,
    obs: Py<PyArray2<f32>>,
    reward: Py<PyArray1<f64>>,
    terminated: Py<PyArray1<bool>>,
    truncated: Py<PyArray1<bool>>,
    info: Py<PyArray2<f64>>,
    stepped: Py<PyArray1<bool>>,
    reset: Py<PyArray1<bool>>,
    final_obs: Py<PyArray2<f32>>,
}

fn step_all(
    slots: &mut [Slot],
    actions: &[i64],
    mode: ActionMode,
    autoreset: Autoreset,
    scale: &Scale,
    b: Buffers<'_>,
) -> bool {
    let mut any_reset = false;
    let rows = slots
        .iter_mut()
        .zip(actions)
        .zip(b.obs.chunks_exact_mut(N_FEATURES))
        .zip(b.final_obs.chunks_exact_mut(N_FEATURES))
        .enumerate();
    let n = b.reward.len();
    for (i, (((slot, &a), obs), final_obs)) in rows {
        if slot.ended && autoreset == Autoreset::NextStep {
            slot.reset(slot.next_seed, scale, obs);
            b.reward[i] = 0.0;
            b.terminated[i] = false;
            b.truncated[i] = false;
            b.stepped[i] = false;
            b.reset[i] = true;
            for j in 0..N_INFO {
                b.info[j * n + i] = 0.0;
            }
            any_reset = true;
            continue;
        }
        // invariant: actions were checked to lie in [0, n_actions)
        let r = slot.step(a as u32, mode, scale, obs);
        b.reward[i] = r.reward;
        b.terminated[i] = false;
        b.truncated[i] = r.ended;
        b.stepped[i] = true;
        for (j, v) in info_row(&r.info).into_iter().enumerate() {
            b.info[j * n + i] = v;
        }
        let reset_now = r.ended && autoreset == Autoreset::SameStep;
        b.reset[i] = reset_now;
        if reset_now {
            final_obs.copy_from_slice(obs);
            slot.reset(slot.next_seed, scale, obs);
            any_reset = true;
        }
    }
    any_reset
}

impl Core {
    fn check_actions(&self, actions: &[i64]) -> PyResult<()> {
        if actions.len() != self.slots.len() {
            return Err(PyValueError::new_err(format!(
                "expected {} actions, got {}",
                self.slots.len(),
                actions.len()
            )));
        }
        if let Some((i, a)) = actions
            .iter()
            .enumerate()
            .find(|(_, &a)| a < 0 || a >= i64::from(self.n_actions))
        {
            return Err(PyValueError::new_err(format!(
                "action {a} of environment {i} is not in the action space: must be 0 to {}",
                self.n_actions - 1
            )));
        }
        Ok(())
    }

    fn check_started(&self) -> PyResult<()> {
        if self.slots.iter().any(|s| !s.started) {
            return Err(PyRuntimeError::new_err(
                "the environment was not reset: call reset() before step()",
            ));
        }
        Ok(())
    }
}

#[pymethods]
impl Core {
    /// `num_envs` environments replaying the trace of the configuration
    /// that `qscale run --config CONFIG --trace TRACE --set OVERRIDE...`
    /// would load. `action` is `"agent"` (the agent's action set) or
    /// `"target"` (a VM count); `autoreset` is `"off"`, `"next-step"` or
    /// `"same-step"`; `latency` is `"p95"` (mean and 95th-percentile
    /// latency, a root search per step), `"mean"` or `"off"` (neither: the
    /// M/M/c waiting probability is not computed, and the utilization is
    /// derived from the step's counts).
    #[new]
    #[pyo3(signature = (config=None, trace=None, overrides=Vec::new(), num_envs=1, action="agent", autoreset="off", latency="p95"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        config: Option<PathBuf>,
        trace: Option<PathBuf>,
        overrides: Vec<String>,
        num_envs: usize,
        action: &str,
        autoreset: &str,
        latency: &str,
    ) -> PyResult<Core> {
        let (detail, p95) = match latency {
            "p95" => (true, true),
            "mean" => (true, false),
            "off" => (false, false),
            other => {
                return Err(PyValueError::new_err(format!(
                    "latency must be \"p95\", \"mean\" or \"off\", not {other:?}"
                )))
            }
        };
        let mode = match action {
            "agent" => ActionMode::Agent,
            "target" => ActionMode::Target,
            other => {
                return Err(PyValueError::new_err(format!(
                    "action must be \"agent\" or \"target\", not {other:?}"
                )))
            }
        };
        let autoreset = match autoreset {
            "off" => Autoreset::Off,
            "next-step" => Autoreset::NextStep,
            "same-step" => Autoreset::SameStep,
            other => {
                return Err(PyValueError::new_err(format!(
                    "autoreset must be \"off\", \"next-step\" or \"same-step\", not {other:?}"
                )))
            }
        };
        if num_envs == 0 {
            return Err(PyValueError::new_err("num_envs must be at least 1"));
        }
        let (config, trace_path) = load(config, None, trace, overrides).map_err(py_err)?;
        if mode == ActionMode::Agent {
            // The agent's tables are made for its action set: refused, as
            // `qscale train` refuses them, when they would not fit.
            config
                .check_q_table_size()
                .map_err(|e| py_err(anyhow::Error::from(e)))?;
        }
        let workload =
            Workload::load(&trace_path, &config).map_err(|e| py_err(anyhow::Error::from(e)))?;
        let workload = Arc::new(workload);
        // One environment keeps the memo of stable queues across episodes
        // (as training does); many would each fill their own.
        let env = CloudEnv::new(Arc::clone(&workload), &config)
            .with_detail(detail)
            .with_p95(p95)
            .with_memo(num_envs == 1);
        let agent = (mode == ActionMode::Agent).then(|| QAgent::new(&config, 0));
        let n_actions = match &agent {
            Some(agent) => u32::try_from(agent.n_actions()).unwrap_or(u32::MAX),
            None => config.cloud.max_vms.saturating_add(1),
        };
        let slot = Slot {
            env,
            agent,
            obs: Observation {
                step: 0,
                time_s: 0.0,
                arrivals: 0.0,
                arrival_rps: 0.0,
                utilization: 0.0,
                vms_serving: 0,
                vms_running: 0,
                vms_booting: 0,
                latency_mean_s: None,
                backlog: 0.0,
                slo_violations: 0.0,
                dropped: 0.0,
            },
            started: false,
            ended: false,
            next_seed: 0,
        };
        let n = num_envs;
        Ok(Core {
            slots: vec![slot; n],
            mode,
            autoreset,
            scale: Scale {
                service_rps: config.cloud.vm_capacity_rps,
                min_vms: f64::from(config.cloud.min_vms),
                max_vms: f64::from(config.cloud.max_vms),
                lean: !detail,
                step_s: workload.step_s,
            },
            n_actions,
            trace_name: workload.name.clone(),
            trace_steps: workload.len(),
            step_s: workload.step_s,
            obs: PyArray2::zeros(py, [n, N_FEATURES], false).unbind(),
            reward: PyArray1::zeros(py, n, false).unbind(),
            terminated: PyArray1::from_vec(py, vec![false; n]).unbind(),
            truncated: PyArray1::from_vec(py, vec![false; n]).unbind(),
            info: PyArray2::zeros(py, [N_INFO, n], false).unbind(),
            stepped: PyArray1::from_vec(py, vec![false; n]).unbind(),
            reset: PyArray1::from_vec(py, vec![false; n]).unbind(),
            final_obs: PyArray2::zeros(py, [n, N_FEATURES], false).unbind(),
        })
    }

    /// Number of actions: the agent's action set, or `cloud.max_vms + 1`
    /// target counts.
    #[getter]
    fn n_actions(&self) -> u32 {
        self.n_actions
    }

    /// Number of environments.
    #[getter]
    fn num_envs(&self) -> usize {
        self.slots.len()
    }

    /// `[cloud.min_vms, cloud.max_vms]`.
    #[getter]
    fn bounds(&self) -> (f64, f64) {
        (self.scale.min_vms, self.scale.max_vms)
    }

    /// The trace's name, its number of steps and the step length (s).
    #[getter]
    fn trace(&self) -> (String, usize, f64) {
        (self.trace_name.clone(), self.trace_steps, self.step_s)
    }

    /// The names of the observation's features, in order.
    #[staticmethod]
    fn features() -> Vec<&'static str> {
        FEATURES.to_vec()
    }

    /// The names of the info columns, in order, and those that hold whole
    /// numbers.
    #[staticmethod]
    fn info_columns() -> (Vec<&'static str>, Vec<&'static str>) {
        (INFO.to_vec(), INFO_INTEGERS.to_vec())
    }

    /// The buffers every call writes into: obs (N × features, float32),
    /// reward, terminated, truncated, info (columns × N, float64: one
    /// row per column of [`INFO`]),
    /// stepped (the env stepped, rather than reset, in the last call),
    /// reset (the env started a new episode in the last call, using its
    /// next seed), final_obs (the observation an env ended on, same-step
    /// autoreset).
    #[allow(clippy::type_complexity)]
    fn buffers<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, PyArray2<f32>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<bool>>,
        Bound<'py, PyArray1<bool>>,
        Bound<'py, PyArray2<f64>>,
        Bound<'py, PyArray1<bool>>,
        Bound<'py, PyArray1<bool>>,
        Bound<'py, PyArray2<f32>>,
    ) {
        (
            self.obs.bind(py).clone(),
            self.reward.bind(py).clone(),
            self.terminated.bind(py).clone(),
            self.truncated.bind(py).clone(),
            self.info.bind(py).clone(),
            self.stepped.bind(py).clone(),
            self.reset.bind(py).clone(),
            self.final_obs.bind(py).clone(),
        )
    }

    /// Starts a new episode in every environment, env `i` with
    /// `seeds[i]`, and sets the seeds their next episodes start with.
    fn reset_all(&mut self, py: Python<'_>, seeds: Vec<u64>, next_seeds: Vec<u64>) -> PyResult<()> {
        let n = self.slots.len();
        if seeds.len() != n || next_seeds.len() != n {
            return Err(PyValueError::new_err(format!("expected {n} seeds")));
        }
        let mut obs = self.obs.bind(py).readwrite();
        let obs = obs.as_slice_mut()?;
        let scale = self.scale;
        let slots = &mut self.slots;
        py.detach(|| {
            for (((slot, seed), next), row) in slots
                .iter_mut()
                .zip(seeds)
                .zip(next_seeds)
                .zip(obs.chunks_exact_mut(N_FEATURES))
            {
                slot.reset(seed, &scale, row);
                slot.next_seed = next;
            }
        });
        self.reward.bind(py).readwrite().as_slice_mut()?.fill(0.0);
        self.terminated
            .bind(py)
            .readwrite()
            .as_slice_mut()?
            .fill(false);
        self.truncated
            .bind(py)
            .readwrite()
            .as_slice_mut()?
            .fill(false);
        self.info.bind(py).readwrite().as_slice_mut()?.fill(0.0);
        self.stepped
            .bind(py)
            .readwrite()
            .as_slice_mut()?
            .fill(false);
        self.reset.bind(py).readwrite().as_slice_mut()?.fill(true);
        Ok(())
    }

    /// Sets the seed of env `index`'s next episode.
    fn set_next_seed(&mut self, index: usize, seed: u64) -> PyResult<()> {
        let slot = self
            .slots
            .get_mut(index)
            .ok_or_else(|| PyValueError::new_err(format!("no environment {index}")))?;
        slot.next_seed = seed;
        Ok(())
    }

    /// Steps every environment with its action, writing the buffers, with
    /// the GIL released. Returns whether any environment started a new
    /// episode (see the `reset` buffer).
    fn step(&mut self, py: Python<'_>, actions: PyReadonlyArray1<'_, i64>) -> PyResult<bool> {
        let actions = actions.as_slice()?;
        self.check_actions(actions)?;
        self.check_started()?;
        if self.autoreset == Autoreset::Off && self.slots.iter().any(|s| s.ended) {
            return Err(PyRuntimeError::new_err(
                "the episode has ended: call reset() before step()",
            ));
        }
        let (obs, reward, terminated, truncated) = (
            self.obs.bind(py),
            self.reward.bind(py),
            self.terminated.bind(py),
            self.truncated.bind(py),
        );
        let (info, stepped, reset, final_obs) = (
            self.info.bind(py),
            self.stepped.bind(py),
            self.reset.bind(py),
            self.final_obs.bind(py),
        );
        // SAFETY: these arrays are made by `Core::new`, contiguous, and
        // written only here and in `reset_all`, which hold `&mut self`; no
        // Rust borrow of them exists (Python only reads them, between
        // calls). Skipping rust-numpy's borrow tracking saves a few µs per
        // call, most of a small vector's step.
        let buffers = unsafe {
            Buffers {
                obs: obs.as_slice_mut()?,
                reward: reward.as_slice_mut()?,
                terminated: terminated.as_slice_mut()?,
                truncated: truncated.as_slice_mut()?,
                info: info.as_slice_mut()?,
                stepped: stepped.as_slice_mut()?,
                reset: reset.as_slice_mut()?,
                final_obs: final_obs.as_slice_mut()?,
            }
        };
        let (mode, autoreset, scale) = (self.mode, self.autoreset, self.scale);
        let slots = &mut self.slots;
        Ok(py.detach(|| step_all(slots, actions, mode, autoreset, &scale, buffers)))
    }

    /// The single environment's reset: its observation (a new array).
    fn reset_one<'py>(
        &mut self,
        py: Python<'py>,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let mut row = [0.0f32; N_FEATURES];
        let slot = self
            .slots
            .first_mut()
            .ok_or_else(|| PyValueError::new_err("no environment"))?;
        slot.reset(seed, &self.scale, &mut row);
        Ok(PyArray1::from_slice(py, &row))
    }

    /// The single environment's step: (observation, reward, truncated,
    /// info), each new.
    fn step_one<'py>(&mut self, py: Python<'py>, action: i64) -> PyResult<StepOne<'py>> {
        self.check_actions(std::slice::from_ref(&action))?;
        self.check_started()?;
        let (mode, scale) = (self.mode, self.scale);
        let slot = &mut self.slots[0];
        if slot.ended {
            return Err(PyRuntimeError::new_err(
                "the episode has ended: call reset() before step()",
            ));
        }
        let mut row = [0.0f32; N_FEATURES];
        // invariant: check_actions bounds the action to [0, n_actions)
        let r = slot.step(action as u32, mode, &scale, &mut row);
        let info = PyDict::new(py);
        for (name, value) in INFO.iter().zip(info_row(&r.info)) {
            if INFO_INTEGERS.contains(name) {
                info.set_item(name, value as u64)?;
            } else {
                info.set_item(name, value)?;
            }
        }
        Ok((PyArray1::from_slice(py, &row), r.reward, r.ended, info))
    }
}

/// The summary row as a dict, columns in `summary.csv` order (an empty
/// cell is `None`).
fn summary_dict<'py>(
    py: Python<'py>,
    summary: &qscale::metrics::SummaryRow,
) -> anyhow::Result<Bound<'py, PyDict>> {
    let bytes = qscale::metrics::to_csv(std::slice::from_ref(summary))?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let names = reader.headers()?.clone();
    let row = reader
        .records()
        .next()
        .ok_or_else(|| anyhow::anyhow!("summary row missing"))??;
    let dict = PyDict::new(py);
    for (name, cell) in names.iter().zip(row.iter()) {
        if name == "policy" || name == "trace" {
            dict.set_item(name, cell)?;
        } else if cell.is_empty() {
            dict.set_item(name, py.None())?;
        } else if let Ok(v) = cell.parse::<i64>() {
            dict.set_item(name, v)?;
        } else {
            dict.set_item(name, cell.parse::<f64>()?)?;
        }
    }
    Ok(dict)
}

/// Per-step columns as numpy arrays, named as in `steps.csv` (whole
/// numbers as int64; an empty cell is NaN).
fn steps_dict<'py>(py: Python<'py>, steps: &[StepInfo]) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let ints = |f: fn(&StepInfo) -> i64| PyArray1::from_vec(py, steps.iter().map(f).collect());
    let floats = |f: fn(&StepInfo) -> f64| PyArray1::from_vec(py, steps.iter().map(f).collect());
    dict.set_item("step", ints(|s| s.step as i64))?;
    dict.set_item("time_s", floats(|s| s.time_s))?;
    dict.set_item("arrivals", floats(|s| s.arrivals))?;
    dict.set_item("served", floats(|s| s.served))?;
    dict.set_item("dropped", floats(|s| s.dropped))?;
    dict.set_item("backlog", floats(|s| s.backlog))?;
    dict.set_item("vms_running", ints(|s| i64::from(s.vms_running)))?;
    dict.set_item("vms_booting", ints(|s| i64::from(s.vms_booting)))?;
    dict.set_item("capacity_rps", floats(|s| s.capacity_rps))?;
    dict.set_item("utilization", floats(|s| s.utilization))?;
    dict.set_item(
        "latency_mean_s",
        floats(|s| s.latency_mean_s.unwrap_or(f64::NAN)),
    )?;
    dict.set_item(
        "latency_p95_s",
        floats(|s| s.latency_p95_s.unwrap_or(f64::NAN)),
    )?;
    dict.set_item("slo_violations", floats(|s| s.slo_violations))?;
    dict.set_item("cost_usd", floats(|s| s.cost_usd))?;
    dict.set_item("penalty_usd", floats(|s| s.penalty_usd))?;
    dict.set_item("reward", floats(|s| s.reward))?;
    dict.set_item("target_vms", ints(|s| i64::from(s.target_vms)))?;
    dict.set_item(
        "demand_vms",
        floats(|s| s.demand_vms.map_or(f64::NAN, f64::from)),
    )?;
    Ok(dict)
}

/// One run, as `qscale run --config CONFIG --policy POLICY --trace TRACE
/// --seed SEED --set OVERRIDE...` makes it (a learned policy is trained
/// first): returns (summary, steps).
#[pyfunction]
#[pyo3(signature = (policy=None, config=None, trace=None, seed=None, overrides=Vec::new()))]
fn run<'py>(
    py: Python<'py>,
    policy: Option<String>,
    config: Option<PathBuf>,
    trace: Option<PathBuf>,
    seed: Option<u64>,
    overrides: Vec<String>,
) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
    let record = py
        .detach(|| -> anyhow::Result<experiment::RunRecord> {
            let (config, trace_path) = load(config, policy.as_deref(), trace, overrides)?;
            let seed = seed.unwrap_or(config.experiment.seeds[0]);
            let workload = Arc::new(Workload::load(&trace_path, &config)?);
            experiment::run_policy(&config, workload, seed)
        })
        .map_err(py_err)?;
    let summary = summary_dict(py, &record.summary).map_err(py_err)?;
    let steps = steps_dict(py, &record.steps)?;
    Ok((summary, steps))
}

/// The module.
#[pymodule]
fn _qscale(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Core>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add("FEATURES", FEATURES.to_vec())?;
    m.add("INFO", INFO.to_vec())?;
    Ok(())
}
