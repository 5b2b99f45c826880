//! `oracle`: a clairvoyant schedule, the yardstick the other policies are
//! measured against (regret = score − oracle score).
//!
//! # What it knows
//!
//! At build time the oracle reads the whole workload and the run's seed,
//! and reproduces the episode's exact arrivals (Poisson noise included)
//! with [`crate::cloud::episode_arrivals`]. It plans a schedule of total VM
//! counts `n_0 … n_{T−1}`; [`Policy::decide`] returns `Action::Target(n_k)`
//! at step `k`. The schedule is executed by the real environment like any
//! other policy's decisions, so the oracle's reported score is the model's,
//! never the planner's estimate.
//!
//! # The planning model
//!
//! With `Δ = workload.step_s`, `b = ⌈boot_s/Δ⌉`, `K = price_per_hour·Δ/3600`
//! (USD per VM-step) and `c ∈ [min_vms, max_vms]`:
//!
//! - **Running VMs.** Scale-in removes booting VMs (newest first) before
//!   running ones, and every running VM is older than every booting one, so
//!   the fleet is a stack ordered by launch time. The VMs running in step
//!   `t` are those that existed in all of the steps `t−b … t`:
//!   `r_t = min(n_{t−b}, …, n_t)`, with `n_{<0} = initial_vms`
//!   (checked against the environment by a test).
//! - **Penalty.** `p_t(c)` is the reward's penalty of step `t` served by
//!   `c` running VMs with no backlog carried in, from
//!   [`crate::cloud::serve::serve`]: a table of `T × (max_vms − min_vms + 1)`
//!   calls (p95 off). Requests still waiting at the end of a step are
//!   charged as violations (they will be served late or dropped later, and
//!   the environment charges those left after the last step as
//!   violations). The table is made non-increasing in `c` (each entry becomes the
//!   largest over the counts above it); this changes nothing unless
//!   `penalty_per_drop < penalty_per_violation` or the last step is
//!   overloaded.
//! - **Cost.** `K` per VM per step (booting included).
//!
//! # The dynamic programme
//!
//! The planner chooses the running counts `c_t` rather than the totals:
//! the cheapest schedule with at least `c_t` VMs running at every `t`
//! launches each VM exactly `b` steps before it must serve,
//! `n_s = max(c_s, …, c_{s+b})`, and its VM-steps are at most
//! `Σ c_t + b·Σ max(0, c_t − c_{t−1})` (`c_{−1} = initial_vms`): every VM
//! added at step `t` boots during the `b` steps before. Bellman's
//! recursion over the state `p = c_{t−1}`,
//!
//! `V_t(p) = min_c [ p_t(c) + K·c + b·K·max(0, c − p) + V_{t+1}(c) ]`,
//! `V_T ≡ 0`,
//!
//! with `c ≤ initial_vms` for `t < b` (nothing launched can serve before
//! step `b`), is solved backwards in `O(T·M)` time (`M` counts; prefix and
//! suffix minima replace the inner minimum) and `O(T·M)` memory for the
//! decisions.
//!
//! *The charge is exact at the optimum.* It overestimates a schedule's
//! VM-steps only where, at some VM level, the running count dips for fewer
//! than `b` steps (the relaunch would overlap the dip) or dips at the very
//! start. Filling such a dip costs fewer VM-steps in the programme than the
//! relaunch it saves, realises the same schedule `n`, and leaves at least as
//! many VMs running (so no more penalty, the table being non-increasing).
//! Hence some optimum of the programme has no such dip, its charge equals
//! its true VM-steps, and the programme's optimum is the optimum over all
//! schedules `n` of the planning model (Bellman 1957).
//!
//! # Where the planning model differs from the environment
//!
//! 1. **Backlog carry-over is ignored.** Each step is planned as if it
//!    started with an empty queue. In the environment a backlog makes the
//!    next step a fluid step (requests arriving while it drains are late
//!    too), so the planner *underestimates* the penalty of schedules that
//!    overload. The local search below corrects the kept schedule where
//!    this happens.
//! 2. **Billing is linear.** A VM-step costs `K`. This is exact for
//!    `per-second` billing with `step_s ≥ min_billed_s`, and for
//!    `per-minute` billing with `step_s` a multiple of 60 and
//!    `≥ min_billed_s`. Otherwise (a minimum charge longer than a VM's
//!    shortest life, per-hour billing, a step that is not a multiple of the
//!    granularity) the environment bills more for short-lived VMs, and the
//!    order in which it terminates running VMs (closest to their next
//!    billing boundary) is ignored: the planner *underestimates* the cost of
//!    churn. To compensate, it also plans with a surcharge per launched VM
//!    of `w/4`, `w/2` and `w` VM-seconds, where `w` is the most a VM's
//!    billed time can exceed its life
//!    (`max(min_billed_s − (b+1)·Δ, largest rounding loss)`).
//!
//! Every candidate schedule (each plan above, and a static schedule for
//! every VM count) is then simulated in a [`CloudEnv`] with the run's seed,
//! and the one with the lowest simulated score is kept (ties to the first
//! candidate). So the oracle never does worse than any static count, and
//! where the planning model is exact (linear billing, and no schedule worth
//! considering leaves a backlog) it is optimal among all schedules.
//!
//! # Local search against the environment (issue #19)
//!
//! If the kept schedule's simulation carries a backlog or drops requests
//! at some step, the first relaxation bites, and the schedule is improved
//! against the environment itself. For each maximal run `t0 … t1` of such
//! steps (the costliest run first) it tries, one at a time: adding
//! `1, 2, 4, …` VMs (up to `max_vms`) from a boot delay before `t0`
//! (`t0 − b`, so they serve from `t0`) for `1, 2, 4, …` steps from `t0`
//! up to the step after `t1`; removing `1, 2, 4, …` VMs over the same
//! windows; and removing VMs over `1, 2, 4, …` steps after `t1`. Each
//! change is replayed from the saved state at the start of its block of
//! [`CHECKPOINT_STEPS`] steps ([`CloudEnv::checkpoint`]) until it rejoins
//! the kept schedule (same backlog, equivalent fleet, at a block start)
//! or the episode ends, or its running score reaches the kept one; a
//! change that lowers the score is kept, and the later changes start from
//! it. Passes over the runs repeat until one keeps nothing or the budget
//! is spent: [`SEARCH_STEPS_PER_STEP`] simulated steps per step of the
//! episode plus [`SEARCH_BASE_STEPS`], a count, so the result does not
//! depend on the machine or `--jobs`. The result is simulated in full once
//! more and kept only if it scores lower. A schedule without backlog or
//! drops is left as it is (byte-identical outputs), and so is every
//! schedule with `cloud.model = "des"`: a request-level replay never
//! rejoins (the queues are not compared), so each try would replay to the
//! end (on the diurnal test days, 88 s per seed instead of 16 s).
//!
//! Outside the exact class the oracle stays a strong heuristic, not a
//! bound: a policy can still beat it, so regret can be negative; the
//! property tests measure how often (with the search, only rules on
//! non-linear billing did, on 2 of 1000 random overloaded instances).
//!
//! Building costs `O(T·M²)` for the penalty table and the static
//! simulations (the Erlang recurrence is `O(c)`) and `O(T·M)` per
//! programme. Plans with more than [`MAX_PLAN_CELLS`] cells (`T·M`, the
//! memory) or [`MAX_PLAN_WORK`] units of work (`T·M²/2`) are not built: the
//! oracle then keeps the best of 16 static counts spread over the bounds.
//! A week of 60 s steps with 51 counts plans in about 0.2 s in a release
//! build.
//!
//! Sources: R. Bellman, *Dynamic Programming*, Princeton University Press,
//! 1957 (the principle of optimality and the backward recursion).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::policy::PolicySetup;
use crate::policy::{Policy, PolicyContext};
use crate::cloud::serve::serve_from_empty;
use crate::cloud::{
    episode_arrivals, Action, Checkpoint, CloudEnv, Environment, Observation, StepInfo,
};
use crate::policy::registry::{NoParams, Registered};

/// Largest planning table the oracle builds, in cells (steps × VM counts):
/// 2^25, about a year of 60 s steps with 63 counts. The penalty table
/// takes 8 bytes per cell and the decisions 2 more.
pub(crate) const MAX_PLAN_CELLS: usize = 1 << 25;

/// Most work the oracle takes on, in Erlang-recurrence terms
/// (steps × VM counts² / 2): 2^30, about a year of 60 s steps with 60 VM
/// counts, or a week with 460 (several seconds).
pub(crate) const MAX_PLAN_WORK: u128 = 1 << 30;

/// Static counts tried when the plan is too large.
const FALLBACK_STATICS: u32 = 16;

/// The clairvoyant policy: replays a schedule planned with knowledge of
/// the whole episode.
#[derive(Debug, Clone, PartialEq)]
pub struct OraclePolicy {
    /// Total VMs to ask for at each step.
    plan: Vec<u32>,
    /// Score of the plan simulated at build time, USD.
    score_usd: f64,
    /// What to ask for after the plan ends.
    hold: u32,
}

impl OraclePolicy {
    /// Plans for the episode `ctx` describes: `ctx.workload` with
    /// `ctx.setup` and the noise of `ctx.seed`.
    pub(crate) fn from_context(ctx: PolicyContext<'_>) -> OraclePolicy {
        OraclePolicy::build(ctx, true)
    }

    /// [`OraclePolicy::from_context`], with or without the local search.
    /// The search runs only where a replay can rejoin
    /// ([`CloudEnv::can_rejoin`]): otherwise each try would run to the
    /// episode's end.
    fn build(ctx: PolicyContext<'_>, search: bool) -> OraclePolicy {
        let arrivals = episode_arrivals(ctx.workload, ctx.setup.workload.noise, ctx.seed);
        let mut env = CloudEnv::new(Arc::new(ctx.workload.clone()), ctx.setup).with_p95(false);
        let search = search && env.can_rejoin();
        let planner = Planner::new(ctx.setup, ctx.workload.step_s, &arrivals);
        let mut best: Option<(f64, Vec<u32>)> = None;
        let mut consider = |plan: Vec<u32>, best: &mut Option<(f64, Vec<u32>)>| {
            let bound = best.as_ref().map_or(f64::INFINITY, |b| b.0);
            if let Some(score) = simulate(&mut env, ctx.seed, &plan, bound) {
                if score < bound {
                    *best = Some((score, plan));
                }
            }
        };
        for plan in planner.programme_plans() {
            consider(plan, &mut best);
        }
        for vms in planner.static_counts() {
            consider(vec![vms; arrivals.len()], &mut best);
        }
        let (score_usd, plan) = best.unwrap_or((0.0, Vec::new()));
        let (score_usd, plan) = if search {
            local_search(&mut env, ctx.seed, &planner, plan, score_usd)
        } else {
            (score_usd, plan)
        };
        let hold = plan.last().copied().unwrap_or(ctx.setup.cloud.initial_vms);
        OraclePolicy {
            plan,
            score_usd,
            hold,
        }
    }

    #[cfg(test)]
    /// The planned total VM count of every step.
    pub(crate) fn plan(&self) -> &[u32] {
        &self.plan
    }

    #[cfg(test)]
    /// The plan's score as simulated at build time, USD (what the run will
    /// report, up to float summation order).
    pub(crate) fn planned_score_usd(&self) -> f64 {
        self.score_usd
    }
}

impl Policy for OraclePolicy {
    fn name(&self) -> &str {
        "oracle"
    }

    fn decide(&mut self, obs: &Observation) -> Action {
        let step = usize::try_from(obs.step).unwrap_or(usize::MAX);
        Action::Target(self.plan.get(step).copied().unwrap_or(self.hold))
    }
}

/// Simulates `plan` from `reset(seed)` and returns cost + penalty, summed
/// as the run's totals are; `None` once the partial score exceeds `bound`
/// (every step adds a non-negative amount, so it cannot come back).
fn simulate(env: &mut CloudEnv, seed: u64, plan: &[u32], bound: f64) -> Option<f64> {
    env.reset(seed);
    let (mut cost, mut penalty) = (0.0, 0.0);
    for &n in plan {
        let step = env.step(Action::Target(n));
        cost += step.info.cost_usd;
        penalty += step.info.penalty_usd;
        if cost + penalty > bound {
            return None;
        }
        if step.terminated || step.truncated {
            break;
        }
    }
    Some(cost + penalty)
}

/// Steps between two saved states of a replay in the local search.
const CHECKPOINT_STEPS: usize = 16;

/// Work budget of the local search, in simulated steps: this many per step
/// of the episode, plus [`SEARCH_BASE_STEPS`]. A fixed count (not a time),
/// so the search stops at the same place on every machine and for any
/// `--jobs`.
const SEARCH_STEPS_PER_STEP: usize = 32;

/// The part of the local search's budget that does not grow with the
/// episode, simulated steps.
const SEARCH_BASE_STEPS: usize = 1 << 16;

/// Whether a step carries requests over or drops some: the steps the
/// planning model gets wrong.
fn overloaded(info: &StepInfo) -> bool {
    info.backlog > 0.0 || info.dropped > 0.0
}

/// A schedule simulated step by step, with its state saved every
/// [`CHECKPOINT_STEPS`] steps so that a change can be replayed from just
/// before it.
struct Replay {
    plan: Vec<u32>,
    /// Cost + penalty of each step, USD.
    step_usd: Vec<f64>,
    /// `before[t]`: the sum of `step_usd` over the steps before `t`
    /// (`T + 1` entries).
    before: Vec<f64>,
    /// Whether each step is [`overloaded`].
    overloaded: Vec<bool>,
    /// The state at the start of step `i·CHECKPOINT_STEPS`, for each such
    /// step of the episode.
    checkpoints: Vec<Checkpoint>,
    /// The last [`Replay::try_patch`]'s changed schedule; the next try
    /// clears and refills it (its buffers are reused).
    trial: Trial,
}

/// A changed schedule replayed from `from` until it rejoined the replayed
/// one (at `to`, a checkpoint step or the end).
#[derive(Default)]
struct Trial {
    from: usize,
    to: usize,
    step_usd: Vec<f64>,
    overloaded: Vec<bool>,
    /// States at the checkpoint steps in `(from, to)`.
    checkpoints: Vec<Checkpoint>,
}

impl Replay {
    fn record(env: &mut CloudEnv, seed: u64, plan: Vec<u32>) -> Replay {
        env.reset(seed);
        let steps = plan.len();
        let mut replay = Replay {
            step_usd: Vec::with_capacity(steps),
            before: Vec::with_capacity(steps + 1),
            overloaded: Vec::with_capacity(steps),
            checkpoints: Vec::with_capacity(steps.div_ceil(CHECKPOINT_STEPS)),
            plan,
            trial: Trial::default(),
        };
        replay.before.push(0.0);
        for t in 0..steps {
            if t % CHECKPOINT_STEPS == 0 {
                replay.checkpoints.push(env.checkpoint());
            }
            let step = env.step(Action::Target(replay.plan[t]));
            let usd = step.info.cost_usd + step.info.penalty_usd;
            replay.step_usd.push(usd);
            replay.before.push(replay.before[t] + usd);
            replay.overloaded.push(overloaded(&step.info));
        }
        replay
    }

    fn total(&self) -> f64 {
        self.before.last().copied().unwrap_or(0.0)
    }

    /// The maximal runs `[t0, t1]` of overloaded steps, the costliest
    /// first (ties to the earliest).
    fn overloaded_runs(&self) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut t = 0;
        while t < self.overloaded.len() {
            if !self.overloaded[t] {
                t += 1;
                continue;
            }
            let t0 = t;
            while t + 1 < self.overloaded.len() && self.overloaded[t + 1] {
                t += 1;
            }
            runs.push((t0, t));
            t += 1;
        }
        let usd = |&(a, b): &(usize, usize)| self.before[b + 1] - self.before[a];
        runs.sort_by(|x, y| usd(y).total_cmp(&usd(x)).then(x.0.cmp(&y.0)));
        runs
    }

    /// Replays the schedule with `patch` in place of the steps from `at`
    /// into `self.trial` and returns its score; `None` once its running
    /// score reaches `bound`. Counts the steps simulated in `used`.
    fn try_patch(
        &mut self,
        env: &mut CloudEnv,
        at: usize,
        patch: &[u32],
        bound: f64,
        used: &mut usize,
    ) -> Option<f64> {
        let steps = self.plan.len();
        let end = at + patch.len();
        let from = at / CHECKPOINT_STEPS * CHECKPOINT_STEPS;
        let kept_total = self.total();
        env.restore(&self.checkpoints[from / CHECKPOINT_STEPS]);
        let trial = &mut self.trial;
        trial.from = from;
        trial.to = steps;
        trial.step_usd.clear();
        trial.overloaded.clear();
        trial.checkpoints.clear();
        let mut partial = self.before[from];
        for t in from..steps {
            let n = if (at..end).contains(&t) {
                patch[t - at]
            } else {
                self.plan[t]
            };
            let step = env.step(Action::Target(n));
            *used += 1;
            let usd = step.info.cost_usd + step.info.penalty_usd;
            partial += usd;
            if partial >= bound {
                return None;
            }
            trial.step_usd.push(usd);
            trial.overloaded.push(overloaded(&step.info));
            let next = t + 1;
            if next < steps && next % CHECKPOINT_STEPS == 0 {
                let saved = &self.checkpoints[next / CHECKPOINT_STEPS];
                if next >= end && env.rejoins(saved) {
                    trial.to = next;
                    return Some(partial + (kept_total - self.before[next]));
                }
                trial.checkpoints.push(env.checkpoint());
            }
        }
        Some(partial)
    }

    /// Makes the last trial, of `patch` at `at` (which
    /// [`Replay::try_patch`] returned a score for), the replayed schedule.
    fn apply(&mut self, at: usize, patch: &[u32]) {
        let trial = &mut self.trial;
        let (from, to) = (trial.from, trial.to);
        self.plan[at..at + patch.len()].copy_from_slice(patch);
        self.step_usd[from..to].copy_from_slice(&trial.step_usd);
        self.overloaded[from..to].copy_from_slice(&trial.overloaded);
        let first = from / CHECKPOINT_STEPS + 1;
        for (i, cp) in trial.checkpoints.drain(..).enumerate() {
            self.checkpoints[first + i] = cp;
        }
        for t in from..self.plan.len() {
            self.before[t + 1] = self.before[t] + self.step_usd[t];
        }
    }
}

/// `1, 2, 4, …` below `span`, then `span` (nothing when `span` is 0).
fn geometric(span: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut x = 1;
    while x < span {
        out.push(x);
        x *= 2;
    }
    if span > 0 {
        out.push(span);
    }
    out
}

/// The changes the local search tries for the overloaded steps `t0 ..= t1`
/// of `plan`, as `(first step, new targets)`: more VMs, launched a boot
/// delay ahead of `t0` and kept for `1, 2, 4, …` steps up to the step after
/// `t1`, by `1, 2, 4, …` VMs up to the most allowed; fewer VMs over the
/// same windows; and fewer VMs over the steps after `t1`.
fn moves(planner: &Planner<'_>, plan: &[u32], t0: usize, t1: usize) -> Vec<(usize, Vec<u32>)> {
    let steps = plan.len();
    let (lo, hi) = (planner.min_vms, planner.max_vms);
    let launch = t0.saturating_sub(planner.boot_steps);
    let mut out = Vec::new();
    let mut windows = Vec::new();
    for len in geometric(t1 + 2 - t0) {
        let end = (t0 + len).min(steps); // exclusive
        if windows.last().is_none_or(|&(_, e)| e != end) {
            windows.push((launch, end));
        }
    }
    for &(a, e) in &windows {
        let window = &plan[a..e];
        let least = window.iter().copied().min().unwrap_or(hi);
        for delta in geometric((hi.saturating_sub(least)) as usize) {
            let d = delta as u32;
            out.push((a, window.iter().map(|&n| n.saturating_add(d).min(hi)).collect()));
        }
    }
    let after = (t1 + 1).min(steps);
    let mut lower = windows.clone();
    for len in geometric(t1 + 1 - t0 + planner.boot_steps) {
        let end = (after + len).min(steps);
        if end > after && lower.last().is_none_or(|&(a, e)| (a, e) != (after, end)) {
            lower.push((after, end));
        }
    }
    for (a, e) in lower {
        let window = &plan[a..e];
        let most = window.iter().copied().max().unwrap_or(lo);
        for delta in geometric((most.saturating_sub(lo)) as usize) {
            let d = delta as u32;
            out.push((a, window.iter().map(|&n| n.saturating_sub(d).max(lo)).collect()));
        }
    }
    out
}

/// Improves `plan` (scored `score_usd`) against the environment itself,
/// where its simulation carries a backlog or drops requests: for each run
/// of such steps, costliest first, tries the [`moves`] one by one,
/// replaying each from the checkpoint before it until it rejoins the
/// schedule (or ends), and keeps every change that lowers the simulated
/// score. Passes repeat until one changes nothing or the budget
/// ([`SEARCH_STEPS_PER_STEP`] per step plus [`SEARCH_BASE_STEPS`]
/// simulated steps) is spent. A plan without such steps is returned as is.
fn local_search(
    env: &mut CloudEnv,
    seed: u64,
    planner: &Planner<'_>,
    plan: Vec<u32>,
    score_usd: f64,
) -> (f64, Vec<u32>) {
    let steps = plan.len();
    let mut replay = Replay::record(env, seed, plan);
    if !replay.overloaded.contains(&true) {
        return (score_usd, replay.plan);
    }
    let original = replay.plan.clone();
    let budget = SEARCH_STEPS_PER_STEP
        .saturating_mul(steps)
        .saturating_add(SEARCH_BASE_STEPS);
    let mut used = 0;
    'search: loop {
        let mut improved = false;
        for (t0, t1) in replay.overloaded_runs() {
            let mut tries = moves(planner, &replay.plan, t0, t1);
            let mut i = 0;
            while i < tries.len() {
                if used >= budget {
                    break 'search;
                }
                // Each move is tried once: take its targets out of the list.
                let at = tries[i].0;
                let patch = std::mem::take(&mut tries[i].1);
                i += 1;
                if replay.plan[at..at + patch.len()] == patch[..] {
                    continue;
                }
                let best = replay.total();
                let need = best - 1e-12 * best.abs();
                if let Some(total) = replay.try_patch(env, at, &patch, need, &mut used) {
                    if total < need {
                        replay.apply(at, &patch);
                        improved = true;
                        // The later moves start from the changed plan.
                        tries = moves(planner, &replay.plan, t0, t1);
                    }
                }
            }
        }
        if !improved {
            break;
        }
    }
    // An unchanged plan would simulate to `score_usd` again.
    if replay.plan != original {
        if let Some(score) = simulate(env, seed, &replay.plan, score_usd) {
            if score < score_usd {
                return (score, replay.plan);
            }
        }
    }
    (score_usd, original)
}

/// The realised schedule of a plan of running counts: each VM is launched
/// `boot_steps` before it must serve, `n_s = max(c_s, …, c_{s+b})` (the
/// window cut at the last step).
fn launch_ahead(running: &[u32], boot_steps: usize) -> Vec<u32> {
    let mut out = vec![0; running.len()];
    // Indices of a decreasing run of values, the window's maximum in front.
    let mut window: VecDeque<usize> = VecDeque::new();
    for s in (0..running.len()).rev() {
        while window.back().is_some_and(|&i| running[i] <= running[s]) {
            window.pop_back();
        }
        window.push_back(s);
        while window.front().is_some_and(|&i| i - s > boot_steps) {
            window.pop_front();
        }
        out[s] = window.front().map_or(running[s], |&i| running[i]);
    }
    out
}

/// The fixed inputs of the planning model.
struct Planner<'a> {
    config: PolicySetup<'a>,
    arrivals: &'a [f64],
    step_s: f64,
    min_vms: u32,
    max_vms: u32,
    initial_vms: u32,
    /// Boot delay in steps, capped at the episode length (a longer delay
    /// plans the same: nothing launched ever serves).
    boot_steps: usize,
    /// USD per VM-step.
    vm_step_usd: f64,
}

impl<'a> Planner<'a> {
    fn new(config: impl Into<PolicySetup<'a>>, step_s: f64, arrivals: &'a [f64]) -> Planner<'a> {
        let config: PolicySetup<'a> = config.into();
        let c = &config.cloud;
        let boot = (c.mean_boot_s() / step_s).ceil();
        let boot_steps = if boot.is_finite() && boot >= 0.0 {
            (boot.min(arrivals.len() as f64)) as usize
        } else {
            arrivals.len()
        };
        Planner {
            config,
            arrivals,
            step_s,
            min_vms: c.min_vms,
            max_vms: c.max_vms.max(c.min_vms),
            initial_vms: c.initial_vms.clamp(c.min_vms, c.max_vms.max(c.min_vms)),
            boot_steps,
            vm_step_usd: c.price_per_hour * step_s / 3600.0,
        }
    }

    /// Number of VM counts the plan chooses from.
    fn width(&self) -> usize {
        (self.max_vms - self.min_vms) as usize + 1
    }

    /// The most a VM's billed seconds can exceed its life, over lives of
    /// `b + 1` steps or more (a planned VM boots and serves at least one
    /// step): the minimum charge, or the rounding to the billing grain.
    fn waste_s(&self) -> f64 {
        let c = &self.config.cloud;
        let shortest_s = (self.boot_steps as f64 + 1.0) * self.step_s;
        let minimum = (c.min_billed_s - shortest_s).max(0.0);
        let grain = c.billing.granularity_s();
        let mut rounding: f64 = 0.0;
        if grain > 1.0 {
            // The rounding loss of L·Δ repeats with a period of at most
            // `grain` steps (Δ is a whole number of seconds).
            for steps in 1..=3600u32 {
                let life = f64::from(steps) * self.step_s;
                rounding = rounding.max(grain * (life / grain).ceil() - life);
            }
        }
        minimum.max(rounding)
    }

    /// Launch surcharges to plan with, VM-seconds: 0, and when billing is
    /// not linear, a quarter, half and all of the worst waste.
    fn surcharges_s(&self) -> Vec<f64> {
        let w = self.waste_s();
        if w > 0.0 && w.is_finite() {
            vec![0.0, 0.25 * w, 0.5 * w, w]
        } else {
            vec![0.0]
        }
    }

    /// USD charged in the programme per VM added: its `b` boot steps plus
    /// `surcharge_s` seconds.
    fn launch_usd(&self, surcharge_s: f64) -> f64 {
        self.vm_step_usd * self.boot_steps as f64
            + surcharge_s * self.config.cloud.price_per_hour / 3600.0
    }

    /// The schedules of the dynamic programme, one per launch surcharge
    /// (none when the table would be too large).
    fn programme_plans(&self) -> Vec<Vec<u32>> {
        let Some(tables) = self.tables() else {
            return Vec::new();
        };
        self.surcharges_s()
            .into_iter()
            .map(|surcharge_s| {
                let running = tables.plan_running(self, self.launch_usd(surcharge_s));
                launch_ahead(&running, self.boot_steps)
            })
            .collect()
    }

    /// Whether the plan fits [`MAX_PLAN_CELLS`] and [`MAX_PLAN_WORK`] (and
    /// the counts fit the decision table).
    fn plannable(&self) -> bool {
        let (steps, width) = (self.arrivals.len(), self.width());
        let work = steps as u128 * width as u128 * width as u128 / 2;
        steps > 0
            && width <= usize::from(u16::MAX) + 1
            && steps
                .checked_mul(width)
                .is_some_and(|cells| cells <= MAX_PLAN_CELLS)
            && work <= MAX_PLAN_WORK
    }

    /// The static counts to simulate: all of them when the plan is built,
    /// else [`FALLBACK_STATICS`] spread evenly over the bounds.
    fn static_counts(&self) -> Vec<u32> {
        if self.plannable() {
            return (self.min_vms..=self.max_vms).collect();
        }
        let span = u64::from(self.max_vms - self.min_vms);
        let last = u64::from(FALLBACK_STATICS - 1);
        let mut counts: Vec<u32> = (0..=last)
            // invariant: the quotient is at most span, so the sum fits u32
            .map(|i| self.min_vms + (span * i / last) as u32)
            .collect();
        counts.dedup();
        counts
    }

    /// The penalty table, or `None` when the plan is not
    /// [`plannable`](Self::plannable).
    fn tables(&self) -> Option<Tables> {
        if !self.plannable() {
            return None;
        }
        let (steps, width) = (self.arrivals.len(), self.width());
        let c = &self.config.cloud;
        let r = &self.config.reward;
        let mut penalty = vec![0.0; steps * width];
        for (&arrivals, row) in self.arrivals.iter().zip(penalty.chunks_exact_mut(width)) {
            for (i, cell) in row.iter_mut().enumerate() {
                let out = serve_from_empty(c, self.step_s, arrivals, self.min_vms + i as u32);
                *cell = r.penalty_per_violation * (out.violations + out.backlog)
                    + r.penalty_per_drop * out.dropped;
            }
            for i in (0..width - 1).rev() {
                row[i] = row[i].max(row[i + 1]);
            }
        }
        Some(Tables {
            width,
            steps,
            penalty,
        })
    }
}

/// The penalty of every step for every running count.
struct Tables {
    width: usize,
    steps: usize,
    /// Row-major `steps × width`: `penalty[t·width + i]` for `min_vms + i`
    /// running VMs.
    penalty: Vec<f64>,
}

impl Tables {
    /// Solves the programme with `launch_usd` charged per VM added and
    /// returns the optimal running count of every step.
    fn plan_running(&self, planner: &Planner<'_>, launch_usd: f64) -> Vec<u32> {
        let (width, steps) = (self.width, self.steps);
        let lo = planner.min_vms;
        let initial = (planner.initial_vms - lo) as usize;
        let mut value = vec![0.0; width]; // V_{t+1}(c)
        let mut next = vec![0.0; width];
        let mut own = vec![0.0; width]; // p_t(c) + K·c + V_{t+1}(c)
        let mut low = vec![(0.0, 0usize); width]; // min over c ≤ i of own
        let mut high = vec![(f64::INFINITY, 0usize); width + 1]; // min over c ≥ i of own + L·c
        let mut choice = vec![0u16; steps * width];
        for t in (0..steps).rev() {
            let top = if t < planner.boot_steps {
                initial
            } else {
                width - 1
            };
            let row = &self.penalty[t * width..(t + 1) * width];
            for i in 0..=top {
                let vms = f64::from(lo) + i as f64;
                own[i] = row[i] + planner.vm_step_usd * vms + value[i];
            }
            // Ties: below the previous count prefer the larger count, above
            // it the smaller one: the fewest VMs changed.
            let mut best = (f64::INFINITY, 0);
            for i in 0..=top {
                if own[i] <= best.0 {
                    best = (own[i], i);
                }
                low[i] = best;
            }
            high[top + 1] = (f64::INFINITY, top + 1);
            for i in (0..=top).rev() {
                let g = own[i] + launch_usd * i as f64;
                high[i] = if g <= high[i + 1].0 {
                    (g, i)
                } else {
                    high[i + 1]
                };
            }
            let row_choice = &mut choice[t * width..(t + 1) * width];
            for q in 0..width {
                let (mut v, mut pick) = low[q.min(top)];
                if q < top {
                    let (g, i) = high[q + 1];
                    let up = g - launch_usd * q as f64;
                    if up < v {
                        (v, pick) = (up, i);
                    }
                }
                next[q] = v;
                // invariant: width ≤ u16::MAX + 1 (checked in `tables`), so pick fits
                row_choice[q] = pick as u16;
            }
            std::mem::swap(&mut value, &mut next);
        }
        let mut previous = initial;
        let mut running = Vec::with_capacity(steps);
        for t in 0..steps {
            previous = usize::from(choice[t * width + previous]);
            running.push(lo + previous as u32);
        }
        running
    }
}


impl Registered for OraclePolicy {
    const NAME: &'static str = "oracle";
    const COLOUR: (u8, u8, u8) = (0, 0, 0);
    const NOT_TUNABLE: Option<&'static str> =
        Some("the oracle is clairvoyant and has no parameters to tune");
    type Params = NoParams;
    fn build(ctx: PolicyContext<'_>) -> Option<Box<dyn Policy + Send>> {
        Some(Box::new(OraclePolicy::from_context(ctx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Workload;
    use crate::config::{Billing, Config, Noise, PolicyKind};
    use crate::experiment::run_with;
    use crate::policy::registry::threshold::ThresholdPolicy;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};

    /// Replays a fixed list of targets.
    struct Script(Vec<u32>);

    impl Policy for Script {
        fn name(&self) -> &str {
            "script"
        }
        fn decide(&mut self, obs: &Observation) -> Action {
            Action::Target(self.0.get(obs.step as usize).copied().unwrap_or(0))
        }
    }

    fn workload(arrivals: Vec<f64>, step_s: f64) -> Arc<Workload> {
        Arc::new(Workload {
            name: "w".into(),
            start_s: 0.0,
            step_s,
            arrivals,
        })
    }

    fn score<P: Policy + ?Sized>(config: &Config, p: &mut P, w: &Arc<Workload>, seed: u64) -> f64 {
        run_with(config, p, Arc::clone(w), seed).summary.score_usd
    }

    fn oracle(config: &Config, w: &Workload, seed: u64) -> OraclePolicy {
        OraclePolicy::from_context(PolicyContext {
            setup: config.into(),
            workload: w,
            seed,
        })
    }

    /// A small instance of the class where the planning model is exact:
    /// per-second billing with `step_s ≥ min_billed_s`, no noise, a peak
    /// within the largest fleet (and, before the first boot completes,
    /// within the initial one), and a violation penalty high enough that
    /// overloading is never worth a VM.
    #[derive(Debug, Clone)]
    struct Instance {
        config: Config,
        arrivals: Vec<f64>,
    }

    fn exact_instance(
        steps: usize,
        max_vms: u32,
        boot_steps: u32,
        rng: &mut rand_pcg::Pcg64Mcg,
    ) -> Instance {
        let mut config = Config::default();
        config.workload.noise = Noise::None;
        config.workload.step_s = 60;
        config.cloud.vm_capacity_rps = 10.0;
        config.cloud.boot_s = if boot_steps == 0 {
            0.0
        } else {
            60.0 * f64::from(boot_steps) - rng.random_range(0.0..59.0)
        };
        config.cloud.min_vms = rng.random_range(0..=1u32).min(max_vms);
        config.cloud.max_vms = max_vms;
        config.cloud.initial_vms = rng.random_range(config.cloud.min_vms..=max_vms);
        config.cloud.billing = Billing::PerSecond;
        config.cloud.min_billed_s = rng.random_range(0.0..=60.0);
        config.cloud.slo_s = 0.3;
        config.reward.penalty_per_violation = rng.random_range(0.002..0.02);
        // A VM-step costs what 4 to 60 violations do; overloading one VM
        // (600 violations a step) is never worth it.
        let vm_step_usd = config.reward.penalty_per_violation * rng.random_range(4.0..60.0);
        config.cloud.price_per_hour = vm_step_usd * 3600.0 / 60.0;
        config.reward.penalty_per_drop =
            config.reward.penalty_per_violation * rng.random_range(1.0..10.0);
        let arrivals = (0..steps)
            .map(|t| {
                let fleet = if (t as u32) < boot_steps {
                    config.cloud.initial_vms
                } else {
                    max_vms
                };
                let peak = 0.9 * f64::from(fleet) * 10.0 * 60.0;
                if rng.random_bool(0.15) {
                    0.0
                } else {
                    rng.random_range(0.0..=peak)
                }
            })
            .collect();
        Instance { config, arrivals }
    }

    /// Every target sequence, by exhaustive enumeration: the best score.
    fn exhaustive_best(inst: &Instance) -> (f64, Vec<u32>) {
        let w = workload(inst.arrivals.clone(), 60.0);
        exhaustive_search(inst, &w, 1)
    }

    /// Every target sequence of `inst` on `w` with noise seed `seed`: the
    /// best score and its plan (the first found among equals).
    fn exhaustive_search(inst: &Instance, w: &Arc<Workload>, seed: u64) -> (f64, Vec<u32>) {
        let c = &inst.config.cloud;
        let counts: Vec<u32> = (c.min_vms..=c.max_vms).collect();
        let steps = inst.arrivals.len();
        let mut best = (f64::INFINITY, Vec::new());
        for code in 0..counts.len().pow(steps as u32) {
            let mut rest = code;
            let plan: Vec<u32> = (0..steps)
                .map(|_| {
                    let v = counts[rest % counts.len()];
                    rest /= counts.len();
                    v
                })
                .collect();
            let s = score(&inst.config, &mut Script(plan.clone()), w, seed);
            if s < best.0 {
                best = (s, plan);
            }
        }
        best
    }

    #[test]
    fn the_oracle_matches_exhaustive_search_on_tiny_instances() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2024);
        let mut varied = 0;
        for boot_steps in 0..=2 {
            for case in 0..40 {
                let steps = rng.random_range(if case < 8 { 1 } else { 3 }..=6usize);
                let max_vms = rng.random_range(if case < 8 { 1 } else { 2 }..=3u32);
                let inst = exact_instance(steps, max_vms, boot_steps, &mut rng);
                let w = workload(inst.arrivals.clone(), 60.0);
                let (want, best_plan) = exhaustive_best(&inst);
                let close = |got: f64| (got - want).abs() <= 1e-9 * want.abs().max(1e-12);
                let mut o = oracle(&inst.config, &w, 1);
                let got = score(&inst.config, &mut o, &w, 1);
                assert!(
                    close(got),
                    "boot {boot_steps} case {case}: oracle {got} ({:?}) vs exhaustive {want} ({best_plan:?}) on {inst:?}",
                    o.plan()
                );
                assert!((o.planned_score_usd() - got).abs() <= 1e-9 * got.max(1e-12));
                // The programme alone, without the static candidates, is
                // optimal too: its charge is exact at the optimum.
                let planner = Planner::new(&inst.config, 60.0, &inst.arrivals);
                let plans = planner.programme_plans();
                assert_eq!(plans.len(), 1, "linear billing plans once");
                let alone = score(&inst.config, &mut Script(plans[0].clone()), &w, 1);
                assert!(close(alone), "boot {boot_steps} case {case}: programme {alone} ({:?}) vs {want} ({best_plan:?})", plans[0]);
                if best_plan.windows(2).any(|p| p[0] != p[1]) {
                    varied += 1;
                }
            }
        }
        // The instances are informative: most optima change the count.
        assert!(varied >= 55, "only {varied} of 120 optima vary");
    }

    #[test]
    fn running_vms_are_the_minimum_of_the_last_boot_window_of_totals() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        for boot_steps in 0..=4u64 {
            let mut config = Config::default();
            config.workload.noise = Noise::None;
            config.cloud.boot_s = 60.0 * boot_steps as f64;
            config.cloud.min_vms = 0;
            config.cloud.max_vms = 6;
            config.cloud.initial_vms = 3;
            let steps = 40;
            let plan: Vec<u32> = (0..steps).map(|_| rng.random_range(0..=6)).collect();
            let w = workload(vec![100.0; steps], 60.0);
            let rec = run_with(&config, &mut Script(plan.clone()), w, 1);
            for (t, info) in rec.steps.iter().enumerate() {
                let from = t as i64 - boot_steps as i64;
                let expected = (from..=t as i64)
                    .map(|s| if s < 0 { 3 } else { plan[s as usize] })
                    .min()
                    .unwrap();
                assert_eq!(info.vms_running, expected, "boot {boot_steps} step {t}");
                assert_eq!(info.vms_running + info.vms_booting, plan[t]);
            }
        }
    }

    #[test]
    fn launching_ahead_takes_the_maximum_over_the_boot_window() {
        assert_eq!(launch_ahead(&[1, 1, 4, 1, 2, 1], 0), vec![1, 1, 4, 1, 2, 1]);
        assert_eq!(launch_ahead(&[1, 1, 4, 1, 2, 1], 2), vec![4, 4, 4, 2, 2, 1]);
        assert_eq!(launch_ahead(&[3, 0, 0], 9), vec![3, 0, 0]);
        assert!(launch_ahead(&[], 3).is_empty());
    }

    #[test]
    fn hourly_billing_waste_is_the_rest_of_the_first_hour() {
        let mut config = Config::default();
        config.cloud.billing = Billing::PerHour;
        config.cloud.boot_s = 100.0;
        let arrivals = vec![0.0; 10];
        let planner = Planner::new(&config, 60.0, &arrivals);
        assert_eq!(planner.boot_steps, 2);
        assert_eq!(planner.waste_s(), 3600.0 - 60.0);
        config.cloud.billing = Billing::PerSecond;
        let planner = Planner::new(&config, 60.0, &arrivals);
        assert_eq!(planner.waste_s(), 0.0);
        assert_eq!(planner.surcharges_s(), vec![0.0]);
    }

    #[test]
    fn the_oracle_is_deterministic_and_follows_the_noise_of_its_seed() {
        let mut config = Config::default();
        config.cloud.max_vms = 12;
        let rates = [30.0, 80.0, 150.0, 40.0, 10.0, 120.0, 200.0, 60.0];
        let w = workload(rates.iter().map(|r| r * 60.0).collect(), 60.0);
        let a = oracle(&config, &w, 5);
        let b = oracle(&config, &w, 5);
        assert_eq!(a, b);
        let ra = run_with(&config, &mut a.clone(), Arc::clone(&w), 5);
        let rb = run_with(&config, &mut b.clone(), Arc::clone(&w), 5);
        assert_eq!(ra, rb);
        assert!(
            (ra.summary.score_usd - a.planned_score_usd()).abs() <= 1e-9 * ra.summary.score_usd
        );
        // Through the registry too.
        config.policy.kind = PolicyKind::Oracle;
        let built = crate::experiment::run_policy(&config, Arc::clone(&w), 5).unwrap();
        assert_eq!(built.summary.policy, "oracle");
        assert_eq!(built.summary.score_usd, ra.summary.score_usd);
    }

    #[test]
    fn a_plan_too_large_falls_back_to_static_counts_spread_over_the_bounds() {
        let mut config = Config::default();
        config.cloud.min_vms = 1;
        config.cloud.max_vms = 100_001;
        let arrivals = vec![600.0; 10];
        let planner = Planner::new(&config, 60.0, &arrivals);
        assert!(!planner.plannable());
        let counts = planner.static_counts();
        assert_eq!(counts.len(), 16);
        assert_eq!((counts[0], counts[15]), (1, 100_001));
        let w = workload(arrivals, 60.0);
        let o = oracle(&config, &w, 1);
        assert!(o.plan().iter().all(|&n| counts.contains(&n)));
        // Few counts: every one of them.
        config.cloud.max_vms = 5;
        let planner = Planner::new(&config, 60.0, &w.arrivals);
        assert!(planner.plannable());
        assert_eq!(planner.static_counts(), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn an_empty_workload_gives_an_empty_plan() {
        let config = Config::default();
        let w = workload(Vec::new(), 60.0);
        let mut o = oracle(&config, &w, 1);
        assert!(o.plan().is_empty());
        let obs = CloudEnv::new(w, &config).reset(1);
        assert_eq!(o.decide(&obs), Action::Target(config.cloud.initial_vms));
    }

    /// An instance outside the exact class: any billing rule and step,
    /// Poisson noise, penalties that may make overloading worth it, and
    /// peaks up to 30 % above the largest fleet.
    fn broad_instance(steps: usize, max_vms: u32, rng: &mut rand_pcg::Pcg64Mcg) -> Instance {
        let mut config = Config::default();
        config.workload.noise = Noise::Poisson;
        config.workload.step_s = [30, 60, 90][rng.random_range(0..3)];
        let step_s = f64::from(config.workload.step_s);
        config.cloud.vm_capacity_rps = rng.random_range(5.0..30.0);
        config.cloud.boot_s = rng.random_range(0.0..3.0 * step_s);
        config.cloud.min_vms = rng.random_range(0..=1u32).min(max_vms);
        config.cloud.max_vms = max_vms;
        config.cloud.initial_vms = rng.random_range(config.cloud.min_vms..=max_vms);
        config.cloud.billing =
            [Billing::PerSecond, Billing::PerMinute, Billing::PerHour][rng.random_range(0..3)];
        config.cloud.min_billed_s = rng.random_range(0.0..300.0);
        config.cloud.slo_s = rng.random_range(0.1..1.0);
        config.cloud.timeout_s = rng.random_range(5.0..120.0);
        config.cloud.price_per_hour = rng.random_range(0.01..5.0);
        config.reward.penalty_per_violation = 10f64.powf(rng.random_range(-5.0..-2.0));
        config.reward.penalty_per_drop =
            config.reward.penalty_per_violation * rng.random_range(0.2..20.0);
        let peak = 1.3 * f64::from(max_vms) * config.cloud.vm_capacity_rps * step_s;
        let arrivals = (0..steps).map(|_| rng.random_range(0.0..=peak)).collect();
        Instance { config, arrivals }
    }

    /// Case `case` of a loop over broad instances: every fourth tiny (up to
    /// 5 steps and 3 VMs, for exhaustive search), the others up to 40 steps
    /// and 6 VMs. Returns whether it is tiny, its steps, the instance and
    /// its workload.
    fn broad_case(
        case: u64,
        rng: &mut rand_pcg::Pcg64Mcg,
    ) -> (bool, usize, Instance, Arc<Workload>) {
        let tiny = case % 4 == 0;
        let steps = rng.random_range(1..=if tiny { 5 } else { 40 });
        let max_vms = rng.random_range(1..=if tiny { 3 } else { 6 });
        let inst = broad_instance(steps, max_vms, rng);
        let step_s = f64::from(inst.config.workload.step_s);
        let w = workload(inst.arrivals.clone(), step_s);
        (tiny, steps, inst, w)
    }

    fn arbitrary_exact_instance() -> impl Strategy<Value = Instance> {
        (1usize..=24, 1u32..=5, 0u32..=3, any::<u64>()).prop_map(|(steps, max_vms, boot, seed)| {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            exact_instance(steps, max_vms, boot, &mut rng)
        })
    }

    /// Scores of the baselines on `inst`: every static count, the
    /// threshold rule, and a few random target sequences.
    fn baseline_scores(inst: &Instance, seed: u64) -> Vec<(String, f64)> {
        let c = &inst.config.cloud;
        let w = workload(inst.arrivals.clone(), 60.0);
        let mut out = Vec::new();
        for vms in c.min_vms..=c.max_vms {
            let s = score(
                &inst.config,
                &mut crate::policy::StaticPolicy::new(vms),
                &w,
                seed,
            );
            out.push((format!("static {vms}"), s));
        }
        let s = score(
            &inst.config,
            &mut ThresholdPolicy::new(&inst.config),
            &w,
            seed,
        );
        out.push(("threshold".into(), s));
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
        for k in 0..4 {
            let plan: Vec<u32> = (0..inst.arrivals.len())
                .map(|_| rng.random_range(c.min_vms..=c.max_vms))
                .collect();
            let s = score(&inst.config, &mut Script(plan.clone()), &w, seed);
            out.push((format!("random {k} {plan:?}"), s));
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn the_oracle_is_no_worse_than_any_baseline_where_its_model_is_exact(
            inst in arbitrary_exact_instance(),
        ) {
            let w = workload(inst.arrivals.clone(), 60.0);
            let mut o = oracle(&inst.config, &w, 1);
            let got = score(&inst.config, &mut o, &w, 1);
            for (name, s) in baseline_scores(&inst, 1) {
                prop_assert!(got <= s * (1.0 + 1e-9) + 1e-12, "oracle {} > {} {}", got, name, s);
            }
        }
    }

    /// Issue #19: on random instances that overload the largest fleet
    /// (peaks 1.3× its capacity), with any billing rule and Poisson noise,
    /// no policy, schedule or exhaustive optimum scores below the certified
    /// lower bound `cloud::bound`, and the oracle stays above it too; with
    /// the local search and linear billing, no rule or random schedule
    /// scores below the oracle either (one rule did on 1 of the 160, with a
    /// minimum charge of 4 steps).
    #[test]
    fn no_policy_or_schedule_scores_below_the_lower_bound() {
        use crate::cloud::bound::score_lower_bound;
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(57);
        let (mut checked, mut tightest) = (0, f64::INFINITY);
        for case in 0..160u64 {
            let (tiny, steps, inst, w) = broad_case(case, &mut rng);
            let bound = score_lower_bound((&inst.config).into(), &w, case).unwrap();
            let mut scores = vec![(
                "oracle".to_string(),
                score(&inst.config, &mut oracle(&inst.config, &w, case), &w, case),
            )];
            for kind in PolicyKind::ALL.into_iter().filter(|k| !k.is_learned()) {
                let mut config = inst.config.clone();
                config.policy.kind = kind;
                let run = crate::experiment::run_policy(&config, Arc::clone(&w), case).unwrap();
                scores.push((kind.name().to_string(), run.summary.score_usd));
            }
            let c = &inst.config.cloud;
            for _ in 0..4 {
                let plan = (0..steps)
                    .map(|_| rng.random_range(c.min_vms..=c.max_vms))
                    .collect();
                scores.push((
                    "random".into(),
                    score(&inst.config, &mut Script(plan), &w, case),
                ));
            }
            if tiny {
                scores.push(("optimum".into(), exhaustive_search(&inst, &w, case).0));
            }
            let got = scores[0].1;
            for (i, (name, s)) in scores.into_iter().enumerate() {
                assert!(
                    s >= bound * (1.0 - 1e-9) - 1e-12,
                    "case {case}: {name} scores {s} below the bound {bound}"
                );
                // With the local search, where billing is linear nothing
                // but the exhaustive optimum beats the oracle here (entry
                // 0 is the oracle itself: not compared with itself).
                assert!(
                    i == 0
                        || !linear_billing(&inst.config)
                        || name == "optimum"
                        || got <= s * (1.0 + 1e-9) + 1e-12,
                    "case {case}: {name} scores {s} below the oracle's {got}"
                );
                tightest = tightest.min(s / bound.max(1e-300));
                checked += 1;
            }
        }
        assert!(checked > 1000, "{checked}");
        assert!(tightest >= 1.0 - 1e-9, "{tightest}");
    }

    /// Whether the environment bills a VM-step linearly (the planning
    /// model's billing): per-second or per-minute billing with a step of
    /// whole minutes, and no minimum charge beyond a step.
    fn linear_billing(config: &Config) -> bool {
        let c = &config.cloud;
        let step_s = config.workload.step_s;
        c.min_billed_s <= f64::from(step_s)
            && match c.billing {
                Billing::PerSecond => true,
                Billing::PerMinute => step_s % 60 == 0,
                Billing::PerHour => false,
            }
    }

    /// Scores of the rules (every policy that is not learned, the oracle
    /// left out) on `w` with seed `seed`.
    fn rule_scores(config: &Config, w: &Arc<Workload>, seed: u64) -> Vec<(String, f64)> {
        PolicyKind::ALL
            .into_iter()
            .filter(|k| !k.is_learned() && *k != PolicyKind::Oracle)
            .map(|kind| {
                let mut config = config.clone();
                config.policy.kind = kind;
                let run = crate::experiment::run_policy(&config, Arc::clone(w), seed).unwrap();
                (kind.name().to_string(), run.summary.score_usd)
            })
            .collect()
    }

    /// Issue #19: outside its exact class the oracle is a heuristic; this
    /// measures how often it loses, on 1000 random instances that overload
    /// the largest fleet (a quarter of them tiny enough for exhaustive
    /// search). Measured with the local search (without it): a rule beat it
    /// on 2 (18) of 1000, one of four random schedules on 0 (1), and it
    /// missed the exhaustive optimum on 3 (4) of 250 tiny ones. The two
    /// rule wins are on billing that is not linear, which the plan gets
    /// wrong away from the overloaded steps (all the search touches).
    #[test]
    fn outside_its_exact_class_the_oracle_rarely_loses() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(31);
        let (mut rule_losses, mut random_losses, mut tiny_misses) = (0, 0, 0);
        let (mut tiny_gap, mut tiny_cases, mut overloaded_cases) = (0.0, 0, 0);
        for case in 0..1000u64 {
            let (tiny, steps, inst, w) = broad_case(case, &mut rng);
            let mut o = oracle(&inst.config, &w, case);
            let run = run_with(&inst.config, &mut o, Arc::clone(&w), case);
            let got = run.summary.score_usd;
            if run.steps.iter().any(overloaded) {
                overloaded_cases += 1;
            }
            let beats = |s: f64| got > s * (1.0 + 1e-9) + 1e-12;
            let rules = rule_scores(&inst.config, &w, case);
            if rules.iter().any(|(_, s)| beats(*s)) {
                rule_losses += 1;
                assert!(
                    !linear_billing(&inst.config),
                    "case {case}: a rule beats the oracle with linear billing"
                );
            }
            let c = &inst.config.cloud;
            let mut lost = false;
            for _ in 0..4 {
                let plan = (0..steps)
                    .map(|_| rng.random_range(c.min_vms..=c.max_vms))
                    .collect();
                lost |= beats(score(&inst.config, &mut Script(plan), &w, case));
            }
            random_losses += usize::from(lost);
            if tiny {
                let optimum = exhaustive_search(&inst, &w, case).0;
                let gap = (got - optimum) / optimum;
                assert!(gap >= -1e-9, "case {case}: below the exhaustive optimum");
                tiny_cases += 1;
                tiny_gap += gap;
                if gap > 1e-9 {
                    tiny_misses += 1;
                }
            }
        }
        assert!(overloaded_cases >= 800, "only {overloaded_cases} overload");
        assert_eq!(random_losses, 0, "lost to a random schedule");
        assert!(rule_losses <= 2, "lost to a rule on {rule_losses} of 1000");
        assert!(tiny_misses <= 3, "missed the optimum on {tiny_misses} of 250");
        let mean_gap = tiny_gap / f64::from(tiny_cases);
        assert!(mean_gap <= 1e-3, "mean gap to the optimum {mean_gap}");
    }

    /// Issue #19: the LLM conversation hour at 800 req/s (as in
    /// `experiments/crossval-real.toml`) starts busy on 2 VMs, and the
    /// backlog of the first steps carries over. The plan alone, which
    /// assumes every step starts empty, lost to the agent's opening: asking
    /// for `max_vms` at step 0. The local search finds a better one.
    #[test]
    fn issue_19_starting_at_max_no_longer_beats_the_oracle_on_the_llm_conversation() {
        let mut config = Config::default();
        config.workload.step_s = 60;
        config.workload.peak_rps = Some(800.0);
        config.workload.noise = Noise::None;
        config.cloud.vm_capacity_rps = 100.0;
        config.cloud.boot_s = 100.0;
        config.cloud.min_vms = 1;
        config.cloud.max_vms = 40;
        config.cloud.initial_vms = 2;
        config.cloud.billing = Billing::PerSecond;
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/azure-llm-conv-2023.csv");
        let w = Arc::new(Workload::load(&path, &config).unwrap());
        let ctx = PolicyContext {
            setup: (&config).into(),
            workload: &w,
            seed: 1,
        };
        let plan_only = OraclePolicy::build(ctx, false);
        let searched = OraclePolicy::build(ctx, true);
        let before = score(&config, &mut plan_only.clone(), &w, 1);
        let got = score(&config, &mut searched.clone(), &w, 1);
        assert!(got < before, "{got} vs {before}");
        // The agent's opening: the old plan with max_vms for the first
        // `len` steps. Some of these beat the plan alone; none beats the
        // oracle, and neither does a rule.
        let mut beat_before = 0;
        for len in 1..=10 {
            let mut plan = plan_only.plan().to_vec();
            plan[..len].fill(config.cloud.max_vms);
            let s = score(&config, &mut Script(plan), &w, 1);
            beat_before += usize::from(s < before);
            assert!(got <= s * (1.0 + 1e-9), "max for {len} steps: {s} < {got}");
        }
        assert!(beat_before > 0, "starting at max no longer beats the plan alone");
        for (name, s) in rule_scores(&config, &w, 1) {
            assert!(got <= s * (1.0 + 1e-9), "{name}: {s} < {got}");
        }
    }

    /// With `cloud.model = "des"` the oracle is the plan alone, even where
    /// the analytic model's search changes it.
    #[test]
    fn with_the_request_level_model_the_oracle_skips_the_local_search() {
        // The compare golden's overloaded start (`tests/data/tiny.toml`).
        let mut config = Config::default();
        config.workload.noise = Noise::Poisson;
        config.cloud.vm_capacity_rps = 10.0;
        config.cloud.min_vms = 1;
        config.cloud.max_vms = 8;
        config.cloud.initial_vms = 2;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/step-6h.csv");
        let w = Arc::new(Workload::load(&path, &config).unwrap());
        let ctx = |config: &Config| {
            let searched = oracle(config, &w, 7);
            let plan_only = OraclePolicy::build(
                PolicyContext {
                    setup: config.into(),
                    workload: &w,
                    seed: 7,
                },
                false,
            );
            (searched, plan_only)
        };
        let (searched, plan_only) = ctx(&config);
        assert_ne!(searched, plan_only, "the analytic search changes nothing here");
        config.cloud.model = crate::cloud::config::ServiceModel::Des;
        let (searched, plan_only) = ctx(&config);
        assert_eq!(searched, plan_only);
    }

    /// Without a backlog or a drop in the chosen schedule the local search
    /// does nothing: the oracle is the plan alone, step for step.
    #[test]
    fn the_local_search_leaves_a_schedule_without_backlog_alone() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
        let mut checked = 0;
        for case in 0..40u64 {
            let inst = exact_instance(12, 4, (case % 3) as u32, &mut rng);
            let w = workload(inst.arrivals.clone(), 60.0);
            let ctx = PolicyContext {
                setup: (&inst.config).into(),
                workload: &w,
                seed: 1,
            };
            let plan_only = OraclePolicy::build(ctx, false);
            let run = run_with(&inst.config, &mut plan_only.clone(), Arc::clone(&w), 1);
            if run.steps.iter().any(overloaded) {
                continue;
            }
            assert_eq!(OraclePolicy::build(ctx, true), plan_only, "case {case}");
            checked += 1;
        }
        assert!(checked >= 30, "{checked}");
    }

    /// A change replayed from the checkpoint before it, and stopped where
    /// it rejoins the old schedule, scores what a full simulation does.
    #[test]
    fn a_change_replayed_from_a_checkpoint_scores_as_a_full_simulation() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let mut rejoined = 0;
        for case in 0..200u64 {
            let (_, steps, inst, w) = broad_case(1 + 4 * case, &mut rng);
            let mut env = CloudEnv::new(Arc::clone(&w), &inst.config).with_p95(false);
            let c = &inst.config.cloud;
            let plan: Vec<u32> = (0..steps)
                .map(|_| rng.random_range(c.min_vms..=c.max_vms))
                .collect();
            let mut replay = Replay::record(&mut env, case, plan.clone());
            let at = rng.random_range(0..steps);
            let patch: Vec<u32> = (at..steps.min(at + 3))
                .map(|_| rng.random_range(c.min_vms..=c.max_vms))
                .collect();
            let mut used = 0;
            let total = replay
                .try_patch(&mut env, at, &patch, f64::INFINITY, &mut used)
                .unwrap();
            rejoined += usize::from(replay.trial.to < steps);
            let mut changed = plan.clone();
            changed[at..at + patch.len()].copy_from_slice(&patch);
            let full = simulate(&mut env, case, &changed, f64::INFINITY).unwrap();
            assert!(
                (total - full).abs() <= 1e-9 * full.max(1e-12),
                "case {case}: {total} vs {full}"
            );
        }
        assert!(rejoined >= 10, "rejoined {rejoined} times");
    }

    #[test]
    #[ignore = "timing; run in release with --ignored --nocapture"]
    fn time_a_week() {
        use crate::config::StaticSizing;
        use crate::trace::{generate, GenKind, GenSpec};
        for billing in [Billing::PerSecond, Billing::PerHour] {
            let trace = generate(&GenSpec {
                kind: GenKind::Diurnal,
                weekly: true,
                seed: 3,
                ..GenSpec::default()
            })
            .unwrap();
            let mut config = Config::default();
            config.cloud.billing = billing;
            config.cloud.max_vms = 50;
            let w = Arc::new(Workload::from_trace(&trace, &config).unwrap());
            let t0 = std::time::Instant::now();
            let o = oracle(&config, &w, 1);
            let el = t0.elapsed();
            let mut report = vec![("oracle".to_string(), o.planned_score_usd())];
            for kind in [
                PolicyKind::Static,
                PolicyKind::Threshold,
                PolicyKind::Predictive,
            ] {
                let mut c = config.clone();
                c.policy.kind = kind;
                c.policy.static_count.sizing = StaticSizing::Peak;
                let r = crate::experiment::run_policy(&c, Arc::clone(&w), 1).unwrap();
                report.push((kind.name().to_string(), r.summary.score_usd));
            }
            eprintln!(
                "{billing:?}: {} steps planned in {el:?}: {report:?}",
                w.len()
            );
        }
    }
}
