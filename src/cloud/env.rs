//! [`CloudEnv`]: a workload replayed against a fleet, one step at a time.
//!
//! Order of events in step `k` (starting at `t_k = k · step_s`):
//! 1. VMs whose boot ended by `t_k` start serving;
//! 2. the policy's action is clamped to `[min_vms, max_vms]` and applied
//!    (launches boot from `t_k`; terminations take effect at once);
//! 3. the step's arrivals (the trace's count, or a Poisson draw around it)
//!    meet the running VMs ([`super::serve`]);
//! 4. every VM alive in the step is billed ([`super::fleet`]);
//! 5. the reward is `−(cost + penalty_per_violation · violations +
//!    penalty_per_drop · drops)`; requests still waiting after the last
//!    step count as violations of that step.
//!
//! An episode's Poisson arrivals are drawn one step ahead of use, in step
//! order from the episode's stream, so they are exactly those of
//! [`episode_arrivals`] while the sampling overlaps the step's division
//! chains. From its second episode on, an environment keeps a memo of the
//! stable queues it met ([`super::serve`]); it changes no result.

use std::path::Path;
use std::sync::Arc;

use rand_distr::{Distribution, Poisson};

use super::config::{CloudSetup, Noise, ServiceModel, WorkloadConfig};
use super::des::RequestLevel;
use super::fleet::{Fleet, FleetParams};
use super::queueing::TailPoint;
use super::serve::{serve_in, QueueKey, ServeInput, ServeOutcome, StableMemo};
use super::{Action, Environment, Observation, Step, StepInfo};
use crate::rng::{rng_for, SimRng, Stream};
use crate::trace::{Trace, TraceError};

/// A trace prepared for the simulator: expected arrivals per decision step,
/// after resampling to `workload.step_s` and scaling.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// The trace's name (its file stem).
    pub name: String,
    /// Trace time of the first step, seconds.
    pub start_s: f64,
    /// Step length, seconds.
    pub step_s: f64,
    /// Expected arrivals in each step.
    pub arrivals: Vec<f64>,
}

impl Workload {
    /// Resamples `trace` to `workload.step_s` and applies
    /// `workload.scale` or `workload.peak_rps` (`config` is the
    /// `[workload]` section, or anything that holds it).
    ///
    /// # Errors
    /// The trace is shorter than one step, or `peak_rps` is asked of a
    /// trace without any request.
    pub fn from_trace<'a>(
        trace: &Trace,
        config: impl Into<&'a WorkloadConfig>,
    ) -> Result<Workload, TraceError> {
        let w: &WorkloadConfig = config.into();
        let step_s = f64::from(w.step_s);
        let mut arrivals = trace.resample(step_s)?;
        let factor = match w.peak_rps {
            Some(peak_rps) => {
                let peak = arrivals.iter().copied().fold(0.0, f64::max);
                if peak <= 0.0 {
                    return Err(TraceError::File {
                        path: trace.name.clone().into(),
                        kind: crate::trace::FileError::NoRequests,
                    });
                }
                peak_rps * step_s / peak
            }
            None => w.scale,
        };
        if factor != 1.0 {
            arrivals.iter_mut().for_each(|a| *a *= factor);
        }
        // Refused rather than rounded: beyond 2^53 counts are not whole.
        if let Some((step, &requests)) = arrivals
            .iter()
            .enumerate()
            .find(|(_, a)| a.is_nan() || **a > crate::trace::MAX_REQUESTS)
        {
            return Err(TraceError::File {
                path: trace.name.clone().into(),
                kind: crate::trace::FileError::StepTooLarge {
                    step,
                    requests,
                    step_s,
                },
            });
        }
        Ok(Workload {
            name: trace.name.clone(),
            start_s: trace.start_s,
            step_s,
            arrivals,
        })
    }

    /// Reads a trace file and prepares it.
    ///
    /// # Errors
    /// As [`crate::trace::read_csv`] and [`Workload::from_trace`].
    pub fn load<'a>(
        path: &Path,
        config: impl Into<&'a WorkloadConfig>,
    ) -> Result<Workload, TraceError> {
        let trace = crate::trace::read_csv(path)?;
        Workload::from_trace(&trace, config).map_err(|e| e.at_path(path))
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.arrivals.len()
    }

    /// True when there is no step.
    pub fn is_empty(&self) -> bool {
        self.arrivals.is_empty()
    }

    /// Mean arrival rate, requests per second.
    pub(crate) fn mean_rps(&self) -> f64 {
        if self.arrivals.is_empty() {
            return 0.0;
        }
        self.arrivals.iter().sum::<f64>() / (self.arrivals.len() as f64 * self.step_s)
    }

    /// Peak arrival rate over the steps, requests per second.
    pub(crate) fn peak_rps(&self) -> f64 {
        self.arrivals.iter().copied().fold(0.0, f64::max) / self.step_s
    }
}

/// The arrivals of every step of an episode with `seed`: the workload's
/// expected counts, or Poisson draws around them from the seed's
/// `Stream::Workload` stream, in step order. The environment uses exactly
/// these, so a clairvoyant planner can see them in advance.
pub fn episode_arrivals(workload: &Workload, noise: Noise, seed: u64) -> Vec<f64> {
    let model = ArrivalModel::new(workload, noise);
    let mut rng = rng_for(seed, 0, Stream::Workload);
    let mut out = Vec::new();
    draw_arrivals(&model, &workload.arrivals, &mut rng, &mut out, usize::MAX);
    out
}

/// How a workload's steps are drawn: the expected counts (read from the
/// workload as an episode starts, not kept as a second copy: training sets
/// a new workload every episode), or
/// one Poisson distribution per step (built once per environment, since
/// building one costs about as much as drawing from it).
#[derive(Debug, Clone)]
enum ArrivalModel {
    Exact,
    Poisson(Vec<StepDraw>),
}

/// The draw of one step under Poisson noise.
#[derive(Debug, Clone, Copy)]
enum StepDraw {
    /// No expected arrival.
    Zero,
    /// A mean beyond what the sampler takes (≈ 1.8e19): used as is.
    Fixed(f64),
    Draw(Poisson<f64>),
}

impl ArrivalModel {
    fn new(workload: &Workload, noise: Noise) -> ArrivalModel {
        match noise {
            Noise::None => ArrivalModel::Exact,
            Noise::Poisson => ArrivalModel::Poisson(
                workload
                    .arrivals
                    .iter()
                    .map(|&expected| {
                        if expected > 0.0 {
                            Poisson::new(expected).map_or(StepDraw::Fixed(expected), StepDraw::Draw)
                        } else {
                            StepDraw::Zero
                        }
                    })
                    .collect(),
            ),
        }
    }
}

/// Appends the arrivals of the steps after those in `out`, up to `upto`
/// steps in all: the workload's expected `counts`, or draws from `rng`
/// (the episode's workload stream, which must have made exactly
/// `out.len()` Poisson draws so far). Drawing in pieces gives the same
/// values as drawing at once: the stream is consumed in step order either
/// way.
fn draw_arrivals(
    model: &ArrivalModel,
    counts: &[f64],
    rng: &mut SimRng,
    out: &mut Vec<f64>,
    upto: usize,
) {
    let from = out.len();
    match model {
        ArrivalModel::Exact => {
            let to = upto.min(counts.len()).max(from);
            out.extend_from_slice(&counts[from..to]);
        }
        ArrivalModel::Poisson(dists) => {
            let to = upto.min(dists.len()).max(from);
            out.extend(dists[from..to].iter().map(|d| d.draw(rng)));
        }
    }
}

impl StepDraw {
    #[inline]
    fn draw(&self, rng: &mut SimRng) -> f64 {
        match self {
            StepDraw::Zero => 0.0,
            StepDraw::Fixed(x) => *x,
            StepDraw::Draw(p) => p.sample(rng),
        }
    }
}

/// An episode's state between two steps ([`CloudEnv::checkpoint`]).
#[derive(Debug, Clone)]
pub(crate) struct Checkpoint {
    fleet: Fleet,
    backlog: f64,
    k: u64,
    requests: Option<Box<RequestLevel>>,
}

/// The cloud environment.
#[derive(Debug, Clone)]
pub struct CloudEnv {
    workload: Arc<Workload>,
    params: FleetParams,
    min_vms: u32,
    max_vms: u32,
    initial_vms: u32,
    service_rps: f64,
    slo_s: f64,
    /// The SLO as a tail point of the VMs' service time.
    slo: TailPoint,
    timeout_s: f64,
    penalty_per_violation: f64,
    penalty_per_drop: f64,
    model: ArrivalModel,
    want_p95: bool,
    detail: bool,
    max_steps: Option<u64>,
    /// Steps of the workload.
    n_steps: u64,
    fleet: Fleet,
    backlog: f64,
    k: u64,
    /// This episode's arrivals per step, drawn so far (see `reset`).
    arrivals: Vec<f64>,
    /// The episode's workload stream, positioned after `arrivals`.
    rng: SimRng,
    /// Episodes started (see `memo`).
    resets: u64,
    /// The stable queues met so far, from the second episode on (a single
    /// run would only pay for filling it).
    memo: Option<Box<StableMemo>>,
    /// The least arrival count the memo keeps (see `with_memo_reach`).
    memo_reach: f64,
    /// Whether to keep a memo at all (see `with_memo`).
    memo_on: bool,
    /// The request-level model, when `cloud.model = "des"`.
    requests: Option<Box<RequestLevel>>,
}

impl CloudEnv {
    /// An environment replaying `workload` under `setup`'s cloud, reward
    /// and noise (a [`CloudSetup`], or anything that holds one). Call
    /// [`Environment::reset`] before the first step.
    pub fn new<'a>(workload: Arc<Workload>, setup: impl Into<CloudSetup<'a>>) -> CloudEnv {
        let setup: CloudSetup<'a> = setup.into();
        let c = setup.cloud;
        let step_s = workload.step_s;
        let params = FleetParams {
            step_s,
            boot_steps: (c.boot_s / step_s).ceil() as u64,
            billing: c.billing,
            min_billed_s: c.min_billed_s,
            price_per_s: c.price_per_hour / 3600.0,
        };
        let model = ArrivalModel::new(&workload, setup.workload.noise);
        let n_steps = workload.arrivals.len() as u64;
        CloudEnv {
            workload,
            params,
            min_vms: c.min_vms,
            max_vms: c.max_vms,
            initial_vms: c.initial_vms,
            service_rps: c.vm_capacity_rps,
            slo_s: c.slo_s,
            slo: TailPoint::new(c.vm_capacity_rps, c.slo_s),
            timeout_s: c.timeout_s,
            penalty_per_violation: setup.reward.penalty_per_violation,
            penalty_per_drop: setup.reward.penalty_per_drop,
            model,
            want_p95: true,
            detail: true,
            max_steps: None,
            n_steps,
            fleet: Fleet::with_boot(params, c.initial_vms, c.boot_time()),
            backlog: 0.0,
            k: 0,
            arrivals: Vec::new(),
            rng: rng_for(0, 0, Stream::Workload),
            resets: 0,
            memo: None,
            memo_reach: 0.0,
            memo_on: true,
            requests: (c.model == ServiceModel::Des).then(|| Box::new(RequestLevel::new(c))),
        }
    }

    /// Whether to compute the 95th-percentile latency (a root search per
    /// step; training can skip it). Default true.
    pub fn with_p95(mut self, on: bool) -> CloudEnv {
        self.want_p95 = on;
        self
    }

    /// Whether to compute the utilization and latency metrics (`true`,
    /// the default). They enter neither the reward nor the request counts,
    /// so training turns them off: `utilization` then reads 0 and both
    /// latencies `None`, in [`StepInfo`] and [`Observation`] alike, while
    /// every other field keeps its exact value. Off implies no p95.
    pub fn with_detail(mut self, on: bool) -> CloudEnv {
        self.detail = on;
        self
    }

    /// Ends episodes after `steps` steps (`truncated`), before the trace
    /// runs out.
    pub(crate) fn with_max_steps(mut self, steps: Option<u64>) -> CloudEnv {
        self.max_steps = steps;
        self
    }

    /// Sizes the memo of stable queues for arrival counts up to `counts`
    /// at least (an environment that will replay other workloads through
    /// [`CloudEnv::set_workload`] keeps one memo for all of them). No
    /// result depends on it.
    pub(crate) fn with_memo_reach(mut self, counts: f64) -> CloudEnv {
        self.memo_reach = counts;
        self
    }

    /// Whether to keep the memo of stable queues from the second episode
    /// on (`true`, the default). Many environments stepped side by side
    /// (the Python binding's vector environment) turn it off: each memo
    /// can take tens of megabytes. No result depends on it.
    pub fn with_memo(mut self, on: bool) -> CloudEnv {
        self.memo_on = on;
        self
    }

    /// Replays `workload` from the next [`Environment::reset`] on, with
    /// `noise` (training hands over randomised variants whose counts are
    /// drawn already, with [`Noise::None`]). The memo of stable queues is
    /// kept while it covers the new workload's counts, and made anew
    /// otherwise; no result depends on it.
    pub(crate) fn set_workload(&mut self, workload: Arc<Workload>, noise: Noise) {
        self.model = ArrivalModel::new(&workload, noise);
        self.n_steps = workload.arrivals.len() as u64;
        self.workload = workload;
        let reach = match self.model {
            ArrivalModel::Exact => self.workload.arrivals.iter().copied().fold(0.0, f64::max),
            ArrivalModel::Poisson(_) => f64::INFINITY,
        };
        if self.memo.as_ref().is_some_and(|m| !m.covers(reach)) {
            self.memo = None;
            // The next reset counts as a second episode and makes a memo.
            self.resets = 1;
        }
    }

    /// The state of the episode at the current step boundary, without the
    /// arrivals (a function of the seed, kept by the environment) or the
    /// memo (which changes no result): enough for [`CloudEnv::restore`].
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            fleet: self.fleet.clone(),
            backlog: self.backlog,
            k: self.k,
            requests: self.requests.clone(),
        }
    }

    /// Puts the episode back at `checkpoint`, which must have been taken
    /// since the last [`Environment::reset`] (so with the same seed): the
    /// steps from there replay exactly as they did after it was taken.
    pub(crate) fn restore(&mut self, checkpoint: &Checkpoint) {
        self.fleet.clone_from(&checkpoint.fleet);
        self.backlog = checkpoint.backlog;
        self.k = checkpoint.k;
        self.requests.clone_from(&checkpoint.requests);
    }

    /// Whether [`CloudEnv::rejoins`] can ever hold: only with the analytic
    /// model. A request-level (DES) replay never rejoins, because its
    /// queue of individual requests is not compared, so a replay from a
    /// checkpoint runs to the episode's end.
    pub(crate) fn can_rejoin(&self) -> bool {
        self.requests.is_none()
    }

    /// Whether the episode, at the same step as `checkpoint`, will go on
    /// exactly as from it under the same actions: the same backlog and an
    /// equivalent fleet ([`Fleet::same_future`]). Always `false` when
    /// [`CloudEnv::can_rejoin`] is.
    pub(crate) fn rejoins(&self, checkpoint: &Checkpoint) -> bool {
        self.can_rejoin()
            && checkpoint.requests.is_none()
            && self.k == checkpoint.k
            && self.backlog.to_bits() == checkpoint.backlog.to_bits()
            && self.fleet.same_future(&checkpoint.fleet, self.k)
    }

    /// The workload being replayed.
    pub(crate) fn workload(&self) -> &Workload {
        &self.workload
    }

    /// Clamps an action to a VM count within the bounds.
    pub(crate) fn target_of(&self, action: Action) -> u32 {
        let wanted = match action {
            Action::Target(n) => i64::from(n),
            Action::Change(d) => i64::from(self.fleet.total()) + i64::from(d),
        };
        wanted.clamp(i64::from(self.min_vms), i64::from(self.max_vms)) as u32
    }

    #[inline]
    fn time_of(&self, k: u64) -> f64 {
        // A step index counts steps one by one and stays far below 2^63,
        // where i64's conversion (one instruction on x86_64, u64's takes
        // about six) gives the same value.
        self.workload.start_s + k as i64 as f64 * self.params.step_s
    }

    /// The arrivals of step `k` (drawn a step ahead; a caller stepping on
    /// past a step limit or the trace's end finds the rest drawn here).
    #[inline]
    fn arrivals_at(&mut self, k: u64) -> f64 {
        match self.arrivals.get(k as usize) {
            Some(&a) => a,
            None => self.draw_rest(k),
        }
    }

    /// Draws the arrivals of step `next` if they are not yet drawn (the
    /// stream is consumed in step order, so the values do not depend on
    /// when they are drawn).
    #[inline]
    fn draw_ahead(&mut self, next: u64) {
        if let ArrivalModel::Poisson(dists) = &self.model {
            if self.arrivals.len() as u64 == next {
                if let Some(d) = dists.get(self.arrivals.len()) {
                    self.arrivals.push(d.draw(&mut self.rng));
                }
            }
        }
    }

    /// A memo sized for the arrival counts this workload can draw: up to
    /// its largest expected count plus 10 standard deviations of a
    /// Poisson draw (counts beyond are computed directly).
    ///
    /// With `only_warm`, only when an earlier memo of the same queues left
    /// this thread columns of the size it needs (whose entries it reuses).
    fn new_memo(&self, only_warm: bool) -> Option<Box<StableMemo>> {
        let peak = self.workload.arrivals.iter().copied().fold(0.0, f64::max);
        let reach = match self.model {
            ArrivalModel::Exact => peak,
            ArrivalModel::Poisson(_) => peak + 10.0 * peak.sqrt() + 10.0,
        };
        // The SLO point `serve_step` passes was made from the same rate
        // and objective.
        let key = QueueKey::new(self.service_rps, self.slo_s, self.params.step_s);
        StableMemo::new(
            reach.max(self.memo_reach).ceil(),
            self.max_vms,
            self.detail,
            key,
        )
        .filter(|memo| !only_warm || memo.is_warm())
        .map(Box::new)
    }

    /// Serves step `k`'s `arrivals` on `servers` VMs: through the
    /// request-level model when it is on, else the analytic one. Returns
    /// the arrivals served (the request-level model's whole requests) and
    /// the outcome.
    #[inline(always)]
    fn serve_step(&mut self, arrivals: f64, servers: u32) -> (f64, ServeOutcome) {
        let step_s = self.params.step_s;
        let input = ServeInput {
            arrivals,
            backlog: self.backlog,
            servers,
            service_rps: self.service_rps,
            step_s,
            slo_s: self.slo_s,
            timeout_s: self.timeout_s,
            want_p95: self.want_p95,
        };
        let memo = self.memo.as_deref_mut();
        match self.requests.as_deref_mut() {
            Some(requests) => requests.serve(arrivals, servers, step_s),
            None if self.detail => (arrivals, serve_in::<true>(&input, &self.slo, memo)),
            None => (arrivals, serve_in::<false>(&input, &self.slo, memo)),
        }
    }

    /// What a policy sees after a step that served `arrivals` on `servers`
    /// VMs with outcome `out` and `violations` SLO violations (the step
    /// counter already advanced).
    #[inline(always)]
    fn observe(
        &self,
        arrivals: f64,
        servers: u32,
        out: &ServeOutcome,
        violations: f64,
    ) -> Observation {
        Observation {
            step: self.k,
            time_s: self.time_of(self.k),
            arrivals,
            arrival_rps: arrivals / self.params.step_s,
            utilization: out.utilization,
            vms_serving: servers,
            vms_running: self.fleet.running(),
            vms_booting: self.fleet.booting(),
            latency_mean_s: out.latency_mean_s,
            backlog: out.backlog,
            slo_violations: violations,
            dropped: out.dropped,
        }
    }

    #[cold]
    fn draw_rest(&mut self, k: u64) -> f64 {
        draw_arrivals(
            &self.model,
            &self.workload.arrivals,
            &mut self.rng,
            &mut self.arrivals,
            usize::MAX,
        );
        self.arrivals.get(k as usize).copied().unwrap_or(0.0)
    }
}

impl Environment for CloudEnv {
    fn reset(&mut self, seed: u64) -> Observation {
        self.fleet.reset(self.initial_vms, seed);
        self.backlog = 0.0;
        self.k = 0;
        self.rng = rng_for(seed, 0, Stream::Workload);
        self.arrivals.clear();
        // Exact counts are copied now (as far as a step limit lets the
        // episode go); Poisson draws are made one step ahead of use, inside
        // `step`, where they overlap with the step's long division chains.
        let upto = match self.model {
            ArrivalModel::Exact => self
                .max_steps
                .map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX)),
            ArrivalModel::Poisson(_) => 1,
        };
        draw_arrivals(
            &self.model,
            &self.workload.arrivals,
            &mut self.rng,
            &mut self.arrivals,
            upto,
        );
        self.resets += 1;
        if let Some(requests) = self.requests.as_deref_mut() {
            requests.reset(seed);
        }
        // A memo pays from the second episode on; from the first when an
        // earlier environment on this thread left entries for the same
        // queues (a sweep's cells, run after run).
        if self.resets <= 2 && self.memo.is_none() && self.memo_on && self.requests.is_none() {
            self.memo = self.new_memo(self.resets == 1);
        }
        Observation {
            step: 0,
            time_s: self.time_of(0),
            arrivals: 0.0,
            arrival_rps: 0.0,
            utilization: 0.0,
            vms_serving: self.fleet.running(),
            vms_running: self.fleet.running(),
            vms_booting: self.fleet.booting(),
            latency_mean_s: None,
            backlog: 0.0,
            slo_violations: 0.0,
            dropped: 0.0,
        }
    }

    #[inline]
    fn step(&mut self, action: Action) -> Step {
        let k = self.k;
        // `scale_to` promotes the VMs ready by `k` first (the target only
        // needs the total, which promotion keeps).
        let target = self.target_of(action);
        self.fleet.scale_to(target, k);
        let arrivals = self.arrivals_at(k);
        let servers = self.fleet.running();
        let (arrivals, out) = self.serve_step(arrivals, servers);
        self.draw_ahead(k + 1);
        let cost = self.fleet.bill_step(k);
        // Requests still waiting when the trace ends will never be answered
        // within the SLO: they count as violations of the last step, so a
        // policy cannot hide load in a final backlog.
        let last = k + 1 >= self.n_steps;
        let violations = if last {
            out.violations + out.backlog
        } else {
            out.violations
        };
        let penalty = self.penalty_per_violation * violations + self.penalty_per_drop * out.dropped;
        let reward = -(cost + penalty);
        let info = StepInfo {
            step: k,
            time_s: self.time_of(k),
            arrivals,
            served: out.served,
            dropped: out.dropped,
            backlog: out.backlog,
            vms_running: servers,
            vms_booting: self.fleet.booting(),
            capacity_rps: f64::from(servers) * self.service_rps,
            utilization: out.utilization,
            latency_mean_s: out.latency_mean_s,
            latency_p95_s: out.latency_p95_s,
            slo_violations: violations,
            cost_usd: cost,
            penalty_usd: penalty,
            reward,
            target_vms: target,
            demand_vms: None,
        };
        self.backlog = out.backlog;
        self.k = k + 1;
        self.fleet.promote(self.k);
        if let (Some(memo), Some(&next)) = (&self.memo, self.arrivals.get(self.k as usize)) {
            memo.prefetch(next, self.fleet.running());
        }
        let terminated = self.k >= self.n_steps;
        let truncated = !terminated && self.max_steps.is_some_and(|m| self.k >= m);
        let obs = self.observe(arrivals, servers, &out, violations);
        Step {
            obs,
            reward,
            terminated,
            truncated,
            info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::queueing::Mmc;
    use crate::config::Config;

    fn constant_workload(rate_rps: f64, steps: usize, step_s: f64) -> Arc<Workload> {
        Arc::new(Workload {
            name: "const".into(),
            start_s: 0.0,
            step_s,
            arrivals: vec![rate_rps * step_s; steps],
        })
    }

    #[test]
    fn a_constant_load_on_two_vms_has_the_mmc_mean_latency() {
        let mut config = Config::default();
        config.workload.noise = Noise::None;
        config.cloud.vm_capacity_rps = 100.0;
        let mut env = CloudEnv::new(constant_workload(150.0, 5, 60.0), &config);
        env.reset(1);
        let step = env.step(Action::Target(2));
        let w = Mmc::new(2, 150.0, 100.0).unwrap().mean_response_s();
        let got = step.info.latency_mean_s.unwrap();
        assert!((got - w).abs() <= 1e-9 * w, "{got} vs {w}");
    }

    #[test]
    fn same_seed_gives_the_same_steps() {
        let config = Config::default();
        let run = |seed| {
            let mut env = CloudEnv::new(constant_workload(30.0, 50, 60.0), &config);
            env.reset(seed);
            (0..50)
                .map(|i| env.step(Action::Target(1 + (i % 4))).info)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn actions_are_clamped_to_the_bounds() {
        let mut config = Config::default();
        config.cloud.min_vms = 2;
        config.cloud.max_vms = 4;
        let mut env = CloudEnv::new(constant_workload(30.0, 5, 60.0), &config);
        env.reset(1);
        assert_eq!(env.step(Action::Target(100)).info.target_vms, 4);
        assert_eq!(env.step(Action::Change(-10)).info.target_vms, 2);
    }

    #[test]
    fn new_vms_serve_only_after_their_boot() {
        let mut config = Config::default();
        config.cloud.boot_s = 100.0; // two 60 s steps
        config.cloud.initial_vms = 1;
        let mut env = CloudEnv::new(constant_workload(5.0, 5, 60.0), &config);
        env.reset(1);
        let s0 = env.step(Action::Target(3));
        assert_eq!((s0.info.vms_running, s0.info.vms_booting), (1, 2));
        let s1 = env.step(Action::Change(0));
        assert_eq!((s1.info.vms_running, s1.info.vms_booting), (1, 2));
        let s2 = env.step(Action::Change(0));
        assert_eq!((s2.info.vms_running, s2.info.vms_booting), (3, 0));
    }

    #[test]
    fn the_last_step_terminates_the_episode() {
        let config = Config::default();
        let mut env = CloudEnv::new(constant_workload(5.0, 2, 60.0), &config);
        env.reset(1);
        assert!(!env.step(Action::Change(0)).terminated);
        assert!(env.step(Action::Change(0)).terminated);
    }

    /// A workload whose rate swings, so steps meet stable and overloaded
    /// queues alike.
    fn wavy_workload(steps: usize) -> Arc<Workload> {
        Arc::new(Workload {
            name: "wavy".into(),
            start_s: 0.0,
            step_s: 60.0,
            arrivals: (0..steps)
                .map(|i| 60.0 * (60.0 + 55.0 * (i as f64 / 9.0).sin()))
                .collect(),
        })
    }

    fn actions(n: usize) -> impl Iterator<Item = Action> {
        (0..n).map(|i| match i % 7 {
            0 | 3 => Action::Change(2),
            1 | 5 => Action::Change(-1),
            2 => Action::Target(1),
            _ => Action::Change(0),
        })
    }

    // Issue (performance): the memo, the count-only mode and the arrivals
    // drawn a step ahead change no bit of an episode.
    #[test]
    fn a_reused_environment_repeats_a_fresh_one_bit_for_bit() {
        let mut config = Config::default();
        config.cloud.max_vms = 12;
        let w = wavy_workload(300);
        let fresh = |seed| {
            let mut env = CloudEnv::new(Arc::clone(&w), &config);
            env.reset(seed);
            actions(300).map(|a| env.step(a)).collect::<Vec<_>>()
        };
        let mut reused = CloudEnv::new(Arc::clone(&w), &config);
        let mut lean = CloudEnv::new(Arc::clone(&w), &config).with_detail(false);
        for seed in [1, 2, 1, 3, 2] {
            let expected = fresh(seed);
            reused.reset(seed);
            lean.reset(seed);
            for (a, want) in actions(300).zip(&expected) {
                assert_eq!(&reused.step(a), want);
                let got = lean.step(a);
                assert_eq!(got.reward.to_bits(), want.reward.to_bits());
                assert_eq!(
                    (got.terminated, got.truncated),
                    (want.terminated, want.truncated)
                );
                let mut info = got.info;
                let mut obs = got.obs;
                (info.utilization, info.latency_mean_s, info.latency_p95_s) = (
                    want.info.utilization,
                    want.info.latency_mean_s,
                    want.info.latency_p95_s,
                );
                (obs.utilization, obs.latency_mean_s) =
                    (want.obs.utilization, want.obs.latency_mean_s);
                assert_eq!(&info, &want.info);
                assert_eq!(&obs, &want.obs);
            }
        }
        assert!(reused.memo.is_some() && lean.memo.is_some());
    }

    // Issue #16: an environment without the memo repeats one with it.
    #[test]
    fn an_environment_without_the_memo_repeats_one_with_it() {
        let mut config = Config::default();
        config.cloud.max_vms = 12;
        let w = wavy_workload(200);
        let mut with = CloudEnv::new(Arc::clone(&w), &config);
        let mut without = CloudEnv::new(Arc::clone(&w), &config).with_memo(false);
        for seed in [4, 5, 4] {
            with.reset(seed);
            without.reset(seed);
            for a in actions(200) {
                assert_eq!(with.step(a), without.step(a));
            }
        }
        assert!(with.memo.is_some() && without.memo.is_none());
    }

    #[test]
    fn arrivals_drawn_a_step_ahead_are_the_episode_arrivals() {
        let config = Config::default();
        let w = wavy_workload(40);
        let expected = episode_arrivals(&w, Noise::Poisson, 9);
        for limit in [None, Some(0), Some(5)] {
            let mut env = CloudEnv::new(Arc::clone(&w), &config).with_max_steps(limit);
            env.reset(9);
            // Past a step limit too: the rest is drawn on demand.
            let got: Vec<f64> = (0..45)
                .map(|_| env.step(Action::Change(0)).info.arrivals)
                .collect();
            assert_eq!(&got[..40], &expected[..]);
            assert!(got[40..].iter().all(|&a| a == 0.0));
        }
    }
}
