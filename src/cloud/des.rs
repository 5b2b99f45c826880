//! A request-level discrete-event simulation of the running VMs serving
//! one shared FCFS queue, or a queue each behind a load balancer: the
//! reference the analytic per-step model (`super::serve`) is measured
//! against.
//!
//! **Arrivals.** A step's `n` requests arrive at the order statistics of
//! `n` uniform times within the step, drawn in one pass from `n + 1`
//! exponential spacings (Devroye, *Non-Uniform Random Variate Generation*,
//! 1986, §V.2). Given its count, this *is* a Poisson process on the step,
//! so a trace whose counts are Poisson draws (`workload.noise =
//! "poisson"`) is a Poisson process throughout.
//!
//! **Service.** One queue in arrival order; a request starts on the VM
//! that frees up first (the Kiefer–Wolfowitz recursion: start =
//! max(arrival, earliest free time)). Service times are exponential,
//! deterministic or log-normal with mean `1/μ` ([`ServiceTime`]).
//!
//! **Balancers** (`cloud.balancer`). `shared` is the single queue above
//! (M/M/c with exponential service). `round-robin` and `jsq` give each
//! running VM its own FCFS queue and assign every request on arrival: to
//! the VMs in turn, or to the VM with the fewest requests waiting or in
//! service at that instant (join the shortest queue; ties to the
//! lowest-numbered VM; a request known to time out is not counted). With
//! Poisson arrivals, round-robin over `c` VMs feeds each an Erlang-`c`
//! renewal stream, an `E_c/M/1` queue per VM (tested against the `GI/M/1`
//! formula). When VMs are terminated, those with the least work left go
//! (as with the shared queue); each finishes the request it is serving,
//! and its waiting requests are assigned again, oldest first, through the
//! balancer at the step's start, keeping their arrival times (so their
//! wait and timeout run on). Requests that arrive with no VM running wait
//! for the next step's VMs the same way.
//!
//! **Timeouts.** A request that would wait longer than `timeout_s` before
//! starting leaves the queue unserved at `arrival + timeout_s` and counts
//! as dropped in the step where that instant falls; under FCFS its wait is
//! known the moment the VMs ahead of it are, so leaving never changes the
//! requests ahead of it.
//!
//! **Fleet changes** happen at step boundaries. A VM added at a boundary
//! is free from that instant. A VM removed finishes the request it is
//! serving and then leaves: the VMs that free up first are the ones
//! removed, so idle VMs go before busy ones. With the shared queue nothing
//! waits at a VM, so nothing is requeued; with a queue per VM its waiting
//! requests are assigned again (above).
//!
//! **What a step reports.** Latency (wait + service), its mean and 95th
//! percentile (nearest rank) and the SLO violations are those of the
//! requests that *complete* in the step; dropped requests also count as
//! violations, as in the analytic model. `backlog` is every request
//! neither completed nor dropped at the step's end (waiting or in
//! service), so requests are conserved exactly:
//! `backlog_in + arrivals = served + dropped + backlog_out`, in whole
//! requests. Utilization is the VMs' busy time within the step over
//! `servers · step_s`.
//!
//! **Memory** is bounded by the requests in the system (the queue, the
//! VMs, one step's completions), never by the trace.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

pub use super::config::Balancer;
use super::config::CloudConfig;
use super::serve::ServeOutcome;
use crate::rng::{rng_for, SimRng, Stream};

/// How long one request occupies a VM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ServiceTime {
    /// Exponential with mean `1/μ` (the M/M/c assumption).
    Exponential,
    /// Exactly `1/μ`.
    Deterministic,
    /// Log-normal with mean `1/μ` and coefficient of variation `cv` > 0:
    /// `ln X ~ N(m, s²)` with `s² = ln(1 + cv²)`, `m = ln(1/μ) − s²/2`.
    LogNormal {
        /// Standard deviation over mean, > 0.
        cv: f64,
    },
}

/// A service-time sampler with mean `1/service_rps`.
#[derive(Debug, Clone, Copy)]
struct ServiceSampler {
    kind: ServiceTime,
    mean_s: f64,
    /// Log-normal parameters `m` and `s`.
    log_mean: f64,
    log_sd: f64,
}

impl ServiceSampler {
    fn new(kind: ServiceTime, service_rps: f64) -> Self {
        let mean_s = 1.0 / service_rps;
        let (log_mean, log_sd) = match kind {
            ServiceTime::LogNormal { cv } => {
                let var = (1.0 + cv * cv).ln();
                (mean_s.ln() - var / 2.0, var.sqrt())
            }
            _ => (0.0, 0.0),
        };
        ServiceSampler {
            kind,
            mean_s,
            log_mean,
            log_sd,
        }
    }

    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self.kind {
            ServiceTime::Exponential => {
                let e: f64 = Exp1.sample(rng);
                e * self.mean_s
            }
            ServiceTime::Deterministic => self.mean_s,
            ServiceTime::LogNormal { .. } => {
                let z: f64 = StandardNormal.sample(rng);
                (self.log_mean + self.log_sd * z).exp()
            }
        }
    }
}

/// The fixed parameters of the simulated service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DesParams {
    /// Service rate of one VM, requests per second, > 0.
    pub service_rps: f64,
    /// Service-time distribution.
    pub service: ServiceTime,
    /// Response-time objective, seconds.
    pub slo_s: f64,
    /// Longest wait before a request leaves unserved, seconds, ≥ 0.
    pub timeout_s: f64,
    /// How requests are routed to the VMs.
    pub balancer: Balancer,
}

/// What one step of the simulation saw.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DesOutcome {
    /// Requests completed in the step.
    pub served: u64,
    /// Requests that timed out in the step.
    pub dropped: u64,
    /// Requests in the system at the step's end (waiting or in service).
    pub backlog: u64,
    /// Completed requests slower than the SLO, plus the dropped ones.
    pub violations: u64,
    /// Busy time of the VMs within the step over `servers · step_s`, in
    /// [0, 1] (0 with no VM).
    pub utilization: f64,
    /// Mean response time of the requests completed in the step, seconds.
    pub latency_mean_s: Option<f64>,
    /// 95th percentile (nearest rank) of the same, seconds.
    pub latency_p95_s: Option<f64>,
    /// Requests that started service in the step.
    pub started: u64,
}

/// A time in seconds ordered for the min-heap of VM free times.
#[derive(Debug, Clone, Copy, PartialEq)]
struct FreeAt(f64);

impl Eq for FreeAt {}

impl PartialOrd for FreeAt {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FreeAt {
    /// Reversed, so `BinaryHeap` pops the earliest time first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0)
    }
}

/// A request in service whose completion falls after the step it started
/// in.
#[derive(Debug, Clone, Copy)]
struct InService {
    start_s: f64,
    end_s: f64,
    arrival_s: f64,
}

/// The state of the simulated queue between steps.
#[derive(Debug, Clone)]
pub struct DesQueue {
    params: DesParams,
    sampler: ServiceSampler,
    /// When each VM is next free.
    free_at: BinaryHeap<FreeAt>,
    /// Arrival times of the requests waiting, oldest first.
    waiting: VecDeque<f64>,
    /// An empty buffer swapped with `waiting` each step, so a long queue
    /// is not reallocated step after step.
    spare: VecDeque<f64>,
    /// Requests whose service outlasts the step they started in.
    in_service: Vec<InService>,
    /// The step's arrival times (reused buffer).
    arrivals: Vec<f64>,
    /// The step's completed response times (reused buffer).
    latencies: Vec<f64>,
    /// Start of the next step, seconds.
    now_s: f64,
    /// Every request's wait, when asked for ([`DesQueue::record_waits`]).
    waits: Option<Vec<f64>>,
    /// The queues per VM, unless the balancer is `shared`.
    per_vm: Option<Box<PerVm>>,
}

/// One VM's own queue.
#[derive(Debug, Clone)]
struct VmQueue {
    /// When the VM is done with the requests it has started, seconds.
    free_s: f64,
    /// Arrival times of the requests assigned to it and not started, in
    /// the order they joined.
    waiting: VecDeque<f64>,
    /// End times of its started requests, increasing; those at or before
    /// the last look are forgotten (kept for `jsq` only).
    ends: VecDeque<f64>,
}

impl VmQueue {
    fn new(free_s: f64) -> Self {
        VmQueue {
            free_s,
            waiting: VecDeque::new(),
            ends: VecDeque::new(),
        }
    }

    /// Requests waiting or in service at `now` (not counting those known
    /// to time out).
    #[inline]
    fn length_at(&mut self, now: f64) -> usize {
        while self.ends.front().is_some_and(|&e| e <= now) {
            self.ends.pop_front();
        }
        self.ends.len() + self.waiting.len()
    }
}

/// The queues of the running VMs behind a balancer.
#[derive(Debug, Clone)]
struct PerVm {
    /// Whether the balancer is `jsq` (join the shortest queue); otherwise
    /// it is `round-robin` (`shared` has no queues per VM).
    jsq: bool,
    vms: Vec<VmQueue>,
    /// Arrival times of the requests without a VM (none was running, or
    /// theirs was terminated), oldest first.
    unassigned: VecDeque<f64>,
    /// An empty buffer that takes `unassigned`'s place while its requests
    /// are routed (then the two swap roles), so neither is reallocated.
    spare: VecDeque<f64>,
    /// VM indices, sorted by [`PerVm::resize`] (empty between calls).
    order: Vec<usize>,
    /// The next VM of the round, or the fleet size after the last one
    /// (the round then starts again at 0).
    next: usize,
}

impl PerVm {
    fn new(balancer: Balancer) -> Self {
        PerVm {
            jsq: balancer == Balancer::Jsq,
            vms: Vec::new(),
            unassigned: VecDeque::new(),
            spare: VecDeque::new(),
            order: Vec::new(),
            next: 0,
        }
    }

    fn backlog(&self) -> usize {
        self.unassigned.len() + self.vms.iter().map(|v| v.waiting.len()).sum::<usize>()
    }

    /// The fleet becomes `servers` VMs at `t0`: new VMs are free from
    /// `t0`; removed ones are those with the least work left (ties to the
    /// highest-numbered), their waiting requests left without a VM.
    fn resize(&mut self, servers: usize, t0: f64) {
        for vm in &mut self.vms {
            vm.free_s = vm.free_s.max(t0);
        }
        if self.vms.len() > servers {
            let vms = &self.vms;
            let order = &mut self.order;
            order.extend(0..vms.len());
            order.sort_by(|&a, &b| vms[a].free_s.total_cmp(&vms[b].free_s).then(b.cmp(&a)));
            // The removed VMs, in index order.
            let removed = &mut order[..vms.len() - servers];
            removed.sort_unstable();
            let mut removed = removed.iter().peekable();
            let unassigned = &mut self.unassigned;
            let mut i = 0;
            self.vms.retain_mut(|vm| {
                let keep = removed.next_if_eq(&&i).is_none();
                i += 1;
                if !keep {
                    unassigned.extend(vm.waiting.drain(..));
                }
                keep
            });
            unassigned.make_contiguous().sort_by(f64::total_cmp);
            self.order.clear();
        }
        while self.vms.len() < servers {
            self.vms.push(VmQueue::new(t0));
        }
        if !self.vms.is_empty() {
            self.next %= self.vms.len();
        }
    }

    /// The VM a request arriving at `now` joins (the fleet is not empty).
    #[inline]
    fn pick(&mut self, now: f64) -> usize {
        if self.jsq {
            let mut best = (usize::MAX, 0);
            for (j, vm) in self.vms.iter_mut().enumerate() {
                let len = vm.length_at(now);
                if len < best.0 {
                    best = (len, j);
                    if len == 0 {
                        break;
                    }
                }
            }
            best.1
        } else {
            // `next` never exceeds the fleet size (`resize` brings it
            // below, a pick leaves it one past a VM), so this wrap picks
            // VM `next % len` without dividing.
            if self.next >= self.vms.len() {
                self.next = 0;
            }
            let j = self.next;
            self.next = j + 1;
            j
        }
    }
}

impl DesQueue {
    /// An empty queue with no VM, at time 0.
    pub fn new(params: DesParams) -> Self {
        DesQueue {
            sampler: ServiceSampler::new(params.service, params.service_rps),
            params,
            free_at: BinaryHeap::new(),
            waiting: VecDeque::new(),
            spare: VecDeque::new(),
            in_service: Vec::new(),
            arrivals: Vec::new(),
            latencies: Vec::new(),
            now_s: 0.0,
            waits: None,
            per_vm: (params.balancer != Balancer::Shared)
                .then(|| Box::new(PerVm::new(params.balancer))),
        }
    }

    #[cfg(test)]
    /// Keeps every started request's wait (start − arrival), for
    /// [`DesQueue::take_waits`]; off by default (it grows with the run).
    pub(crate) fn record_waits(&mut self) {
        self.waits.get_or_insert_with(Vec::new);
    }

    #[cfg(test)]
    /// The waits recorded since the last call, in start order.
    pub(crate) fn take_waits(&mut self) -> Vec<f64> {
        self.waits.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Requests in the system: waiting or in service.
    pub(crate) fn backlog(&self) -> u64 {
        let per_vm = self.per_vm.as_ref().map_or(0, |p| p.backlog());
        (self.waiting.len() + self.in_service.len() + per_vm) as u64
    }

    /// Simulates the step `[now, now + step_s)`: the fleet becomes
    /// `servers` VMs at its start, `arrivals` requests arrive within it.
    pub fn step<R: Rng + ?Sized>(
        &mut self,
        arrivals: u64,
        servers: u32,
        step_s: f64,
        rng: &mut R,
    ) -> DesOutcome {
        if let Some(mut per_vm) = self.per_vm.take() {
            let out = self.step_per_vm(&mut per_vm, arrivals, servers, step_s, rng);
            self.per_vm = Some(per_vm);
            return out;
        }
        let t0 = self.now_s;
        let t1 = t0 + step_s;
        self.resize_fleet(servers as usize, t0);
        let (mut out, mut busy_s) = self.begin_step(arrivals, step_s, rng);
        // The waiting requests go first (they arrived earlier), then the
        // step's own, in arrival order. Once one must wait past the step's
        // end, so must every later one: they are kept as they are.
        let mut queue = std::mem::take(&mut self.waiting);
        let mut kept = std::mem::take(&mut self.spare);
        let mut blocked = false;
        while let Some(arrival) = queue.pop_front() {
            match self.admit(arrival, t1, &mut out, rng) {
                Some(busy) => busy_s += busy,
                None => {
                    kept.push_back(arrival);
                    kept.append(&mut queue);
                    blocked = true;
                }
            }
        }
        let arrivals = std::mem::take(&mut self.arrivals);
        for (i, &arrival) in arrivals.iter().enumerate() {
            if blocked {
                kept.extend(&arrivals[i..]);
                break;
            }
            match self.admit(arrival, t1, &mut out, rng) {
                Some(busy) => busy_s += busy,
                None => {
                    kept.push_back(arrival);
                    blocked = true;
                }
            }
        }
        self.arrivals = arrivals;
        self.waiting = kept;
        self.spare = queue;
        let backlog = self.backlog();
        self.end_step(&mut out, t1, backlog, busy_s, servers, step_s);
        out
    }

    /// Starts a step (after the fleet has changed): finishes the requests
    /// carried in service and draws the step's arrival times; returns the
    /// step's outcome so far and the busy time it added.
    fn begin_step<R: Rng + ?Sized>(
        &mut self,
        arrivals: u64,
        step_s: f64,
        rng: &mut R,
    ) -> (DesOutcome, f64) {
        let t0 = self.now_s;
        self.latencies.clear();
        let mut out = DesOutcome::default();
        let busy_s = self.finish_carried(t0, t0 + step_s, &mut out);
        uniform_order_statistics(arrivals as usize, t0, step_s, rng, &mut self.arrivals);
        (out, busy_s)
    }

    /// Ends a step at `t1`: the clock, the requests left in the system,
    /// the VMs' busy share and the latencies of the completed requests.
    fn end_step(
        &mut self,
        out: &mut DesOutcome,
        t1: f64,
        backlog: u64,
        busy_s: f64,
        servers: u32,
        step_s: f64,
    ) {
        self.now_s = t1;
        out.backlog = backlog;
        out.utilization = if servers == 0 {
            0.0
        } else {
            (busy_s / (f64::from(servers) * step_s)).clamp(0.0, 1.0)
        };
        self.summarise_latencies(out);
    }

    /// [`DesQueue::step`] with a queue per VM: each VM's waiting requests
    /// first, then those without a VM (oldest first, assigned at the
    /// step's start), then the step's arrivals, each assigned on arrival.
    fn step_per_vm<R: Rng + ?Sized>(
        &mut self,
        pv: &mut PerVm,
        arrivals: u64,
        servers: u32,
        step_s: f64,
        rng: &mut R,
    ) -> DesOutcome {
        let t0 = self.now_s;
        let t1 = t0 + step_s;
        pv.resize(servers as usize, t0);
        let (mut out, mut busy_s) = self.begin_step(arrivals, step_s, rng);
        let track = pv.jsq;
        for vm in &mut pv.vms {
            busy_s += self.drain_vm(vm, t1, track, &mut out, rng);
        }
        // Routing may keep requests without a VM again, in the spare.
        let spare = std::mem::take(&mut pv.spare);
        let mut unassigned = std::mem::replace(&mut pv.unassigned, spare);
        for &arrival in &unassigned {
            busy_s += self.route(pv, arrival, t0, t1, &mut out, rng);
        }
        unassigned.clear();
        pv.spare = unassigned;
        let arrivals = std::mem::take(&mut self.arrivals);
        for &arrival in &arrivals {
            busy_s += self.route(pv, arrival, arrival, t1, &mut out, rng);
        }
        self.arrivals = arrivals;
        let backlog = self.backlog() + pv.backlog() as u64;
        self.end_step(&mut out, t1, backlog, busy_s, servers, step_s);
        out
    }

    /// Starts what it can of `vm`'s waiting requests before `t1`, drops
    /// those whose deadline falls before `t1` and keeps the rest in
    /// order; returns the busy time added to the step.
    fn drain_vm<R: Rng + ?Sized>(
        &mut self,
        vm: &mut VmQueue,
        t1: f64,
        track: bool,
        out: &mut DesOutcome,
        rng: &mut R,
    ) -> f64 {
        let mut busy_s = 0.0;
        let mut blocked = false;
        for _ in 0..vm.waiting.len() {
            let Some(arrival) = vm.waiting.pop_front() else {
                break;
            };
            let deadline = arrival + self.params.timeout_s;
            let start = arrival.max(vm.free_s);
            if start > deadline && deadline < t1 {
                out.dropped += 1;
                out.violations += 1;
            } else if blocked || start >= t1 {
                blocked = true;
                vm.waiting.push_back(arrival);
            } else {
                busy_s += self.begin(vm, arrival, start, t1, track, out, rng);
            }
        }
        busy_s
    }

    /// Assigns a request that arrived at `arrival` to a VM at `now`
    /// (keeps it without one when none runs) and starts, queues or drops
    /// it there; returns the busy time added to the step.
    #[inline]
    fn route<R: Rng + ?Sized>(
        &mut self,
        pv: &mut PerVm,
        arrival: f64,
        now: f64,
        t1: f64,
        out: &mut DesOutcome,
        rng: &mut R,
    ) -> f64 {
        let deadline = arrival + self.params.timeout_s;
        if pv.vms.is_empty() {
            if deadline < t1 {
                out.dropped += 1;
                out.violations += 1;
            } else {
                pv.unassigned.push_back(arrival);
            }
            return 0.0;
        }
        let j = pv.pick(now);
        let track = pv.jsq;
        let vm = &mut pv.vms[j];
        // A VM with requests waiting is busy past `t1`.
        let start = if vm.waiting.is_empty() {
            arrival.max(vm.free_s)
        } else {
            f64::INFINITY
        };
        if start > deadline && deadline < t1 {
            out.dropped += 1;
            out.violations += 1;
            0.0
        } else if start >= t1 {
            vm.waiting.push_back(arrival);
            0.0
        } else {
            self.begin(vm, arrival, start, t1, track, out, rng)
        }
    }

    /// Starts a request that arrived at `arrival` on `vm` at `start`
    /// (before `t1`); returns its busy time within the step.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn begin<R: Rng + ?Sized>(
        &mut self,
        vm: &mut VmQueue,
        arrival: f64,
        start: f64,
        t1: f64,
        track: bool,
        out: &mut DesOutcome,
        rng: &mut R,
    ) -> f64 {
        let end = start + self.sampler.sample(rng);
        vm.free_s = end;
        if track {
            vm.ends.push_back(end);
        }
        out.started += 1;
        if let Some(waits) = &mut self.waits {
            waits.push(start - arrival);
        }
        if end < t1 {
            self.complete(end - arrival, out);
            end - start
        } else {
            self.in_service.push(InService {
                start_s: start,
                end_s: end,
                arrival_s: arrival,
            });
            t1 - start
        }
    }

    /// Starts or drops one request that arrived at `arrival`, returning
    /// the busy time it adds to the step ending at `t1`; `None` when it
    /// must wait beyond the step (its VM frees up after `t1`, whose fleet
    /// may change).
    #[inline]
    fn admit<R: Rng + ?Sized>(
        &mut self,
        arrival: f64,
        t1: f64,
        out: &mut DesOutcome,
        rng: &mut R,
    ) -> Option<f64> {
        let deadline = arrival + self.params.timeout_s;
        let free = self.free_at.peek().map_or(f64::INFINITY, |f| f.0);
        let start = arrival.max(free);
        if start > deadline && deadline < t1 {
            // It would wait too long: it leaves at its deadline.
            out.dropped += 1;
            out.violations += 1;
            return Some(0.0);
        }
        if start >= t1 {
            return None;
        }
        let end = start + self.sampler.sample(rng);
        if let Some(mut top) = self.free_at.peek_mut() {
            top.0 = end;
        }
        out.started += 1;
        if let Some(waits) = &mut self.waits {
            waits.push(start - arrival);
        }
        if end < t1 {
            self.complete(end - arrival, out);
            Some(end - start)
        } else {
            self.in_service.push(InService {
                start_s: start,
                end_s: end,
                arrival_s: arrival,
            });
            Some(t1 - start)
        }
    }

    /// Counts the requests in service from earlier steps: those that end
    /// in `[t0, t1)` complete now; returns their busy time within the step.
    fn finish_carried(&mut self, t0: f64, t1: f64, out: &mut DesOutcome) -> f64 {
        let mut busy_s = 0.0;
        let mut i = 0;
        while i < self.in_service.len() {
            let r = self.in_service[i];
            busy_s += r.end_s.min(t1) - r.start_s.max(t0);
            if r.end_s < t1 {
                self.complete(r.end_s - r.arrival_s, out);
                self.in_service.swap_remove(i);
            } else {
                i += 1;
            }
        }
        busy_s
    }

    #[inline]
    fn complete(&mut self, latency_s: f64, out: &mut DesOutcome) {
        out.served += 1;
        if latency_s > self.params.slo_s {
            out.violations += 1;
        }
        self.latencies.push(latency_s);
    }

    /// Adds VMs free at `t0`, or removes the ones that free up first.
    fn resize_fleet(&mut self, servers: usize, t0: f64) {
        while self.free_at.len() < servers {
            self.free_at.push(FreeAt(t0));
        }
        while self.free_at.len() > servers {
            self.free_at.pop();
        }
    }

    fn summarise_latencies(&mut self, out: &mut DesOutcome) {
        let n = self.latencies.len();
        if n == 0 {
            return;
        }
        out.latency_mean_s = Some(self.latencies.iter().sum::<f64>() / n as f64);
        // Nearest rank: the smallest value with at least 95 % at or below.
        let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
        let (_, p95, _) = self
            .latencies
            .select_nth_unstable_by(rank - 1, |a, b| a.total_cmp(b));
        out.latency_p95_s = Some(*p95);
    }
}

/// The request-level model as the environment runs it in an episode:
/// the queue, its random stream, and whole requests from fractional counts.
#[derive(Debug, Clone)]
pub(crate) struct RequestLevel {
    params: DesParams,
    queue: DesQueue,
    /// The episode's [`Stream::Requests`] stream.
    rng: SimRng,
    /// The fraction of a request carried to the next step, so scaled,
    /// fractional counts become whole requests without losing any.
    carry: f64,
}

impl RequestLevel {
    /// The model of `cloud` (its service rate and times, SLO, timeout and
    /// balancer), empty; [`RequestLevel::reset`] before the first step.
    pub(crate) fn new(cloud: &CloudConfig) -> Self {
        let params = DesParams {
            service_rps: cloud.vm_capacity_rps,
            service: cloud.service_time(),
            slo_s: cloud.slo_s,
            timeout_s: cloud.timeout_s,
            balancer: cloud.balancer,
        };
        RequestLevel {
            params,
            queue: DesQueue::new(params),
            rng: rng_for(0, 0, Stream::Requests),
            carry: 0.0,
        }
    }

    /// An empty queue and the stream of episode `seed`.
    pub(crate) fn reset(&mut self, seed: u64) {
        self.queue = DesQueue::new(self.params);
        self.rng = rng_for(seed, 0, Stream::Requests);
        self.carry = 0.0;
    }

    /// Simulates a step of `arrivals` (rounded to whole requests, the
    /// remainder carried) on `servers` VMs; returns the whole count.
    pub(crate) fn serve(
        &mut self,
        arrivals: f64,
        servers: u32,
        step_s: f64,
    ) -> (f64, ServeOutcome) {
        let total = self.carry + arrivals;
        let count = total.floor();
        self.carry = total - count;
        let out = self
            .queue
            .step(count as u64, servers, step_s, &mut self.rng);
        let outcome = ServeOutcome {
            served: out.served as f64,
            dropped: out.dropped as f64,
            backlog: out.backlog as f64,
            violations: out.violations as f64,
            utilization: out.utilization,
            latency_mean_s: out.latency_mean_s,
            latency_p95_s: out.latency_p95_s,
        };
        (count, outcome)
    }
}

/// Fills `out` with the sorted times of `n` uniform points on
/// `[t0, t0 + step_s)`, from `n + 1` exponential spacings.
fn uniform_order_statistics<R: Rng + ?Sized>(
    n: usize,
    t0: f64,
    step_s: f64,
    rng: &mut R,
    out: &mut Vec<f64>,
) {
    out.clear();
    if n == 0 {
        return;
    }
    let mut sum = 0.0;
    for _ in 0..n {
        let e: f64 = Exp1.sample(rng);
        sum += e;
        out.push(sum);
    }
    let last: f64 = Exp1.sample(rng);
    let scale = step_s / (sum + last);
    for t in out.iter_mut() {
        *t = t0 + *t * scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::queueing::{erlang_c, Mmc};
    use rand::SeedableRng;
    use rand_distr::Poisson;

    fn rng(seed: u64) -> rand_pcg::Pcg64Mcg {
        rand_pcg::Pcg64Mcg::seed_from_u64(seed)
    }

    /// Waits of at least `requests` requests of a Poisson process at
    /// `rate_rps` on `servers` VMs serving 1 request/s each.
    fn waits(servers: u32, rate_rps: f64, service: ServiceTime, requests: usize) -> Vec<f64> {
        waits_behind(Balancer::Shared, servers, rate_rps, service, requests)
    }

    /// [`waits`] with `balancer` routing the requests.
    fn waits_behind(
        balancer: Balancer,
        servers: u32,
        rate_rps: f64,
        service: ServiceTime,
        requests: usize,
    ) -> Vec<f64> {
        let params = DesParams {
            service_rps: 1.0,
            service,
            slo_s: f64::INFINITY,
            timeout_s: f64::INFINITY,
            balancer,
        };
        let mut queue = DesQueue::new(params);
        queue.record_waits();
        let mut r = rng(7);
        let step_s = 60.0;
        let counts = Poisson::new(rate_rps * step_s).unwrap();
        let mut all = Vec::with_capacity(requests + 1000);
        while all.len() < requests {
            let n: f64 = counts.sample(&mut r);
            queue.step(n as u64, servers, step_s, &mut r);
            all.extend(queue.take_waits());
        }
        all
    }

    fn mean(xs: &[f64]) -> f64 {
        xs.iter().sum::<f64>() / xs.len() as f64
    }

    fn share_above(xs: &[f64], t: f64) -> f64 {
        xs.iter().filter(|&&w| w > t).count() as f64 / xs.len() as f64
    }

    fn assert_close(what: &str, measured: f64, expected: f64, tolerance: f64) {
        let error = (measured / expected - 1.0).abs();
        assert!(
            error <= tolerance,
            "{what}: simulated {measured}, theory {expected}, error {:.2} %",
            error * 100.0
        );
    }

    #[test]
    fn mm1_waits_match_erlang_c() {
        // M/M/1 at ρ = 0.7: Wq = ρ/(μ − λ), P(W > t) = ρ·e^{−(μ−λ)t}.
        let w = waits(1, 0.7, ServiceTime::Exponential, 2_000_000);
        assert_close("mean wait", mean(&w), 0.7 / 0.3, 0.02);
        for t in [1.0f64, 3.0] {
            let theory = 0.7 * (-0.3 * t).exp();
            assert_close("P(W > t)", share_above(&w, t), theory, 0.02);
        }
    }

    #[test]
    fn mmc_waits_match_erlang_c() {
        // M/M/5 at λ = 4, μ = 1: Wq = C/(cμ − λ), P(W > t) = C·e^{−(cμ−λ)t}.
        let c = erlang_c(5, 4.0);
        let w = waits(5, 4.0, ServiceTime::Exponential, 2_000_000);
        assert_close("mean wait", mean(&w), c / 1.0, 0.02);
        assert_close("P(W > 0)", share_above(&w, 0.0), c, 0.02);
        assert_close("P(W > 1)", share_above(&w, 1.0), c * (-1.0f64).exp(), 0.02);
        let mmc = Mmc::new(5, 4.0, 1.0).unwrap();
        assert_close("Wq", mmc.mean_wait_s(), c, 1e-12);
    }

    #[test]
    fn md1_mean_wait_matches_pollaczek_khinchine() {
        // M/D/1: Wq = ρ/(2μ(1 − ρ)).
        let w = waits(1, 0.7, ServiceTime::Deterministic, 2_000_000);
        assert_close("mean wait", mean(&w), 0.7 / (2.0 * 0.3), 0.02);
    }

    #[test]
    fn mg1_with_log_normal_service_matches_pollaczek_khinchine() {
        // M/G/1: Wq = λ·E[S²]/(2(1 − ρ)), E[S²] = (1 + cv²)/μ².
        let cv = 2.0;
        let w = waits(1, 0.5, ServiceTime::LogNormal { cv }, 2_000_000);
        let theory = 0.5 * (1.0 + cv * cv) / (2.0 * 0.5);
        // A heavier tail makes the estimate noisier: 5 %.
        assert_close("mean wait", mean(&w), theory, 0.05);
    }

    #[test]
    fn on_a_stable_constant_load_the_step_latency_agrees_with_the_analytic_model() {
        use crate::cloud::serve::{serve, ServeInput};
        // 10 VMs at 8 req/s each, one minute steps, Poisson counts.
        let (servers, rate, step_s) = (10, 80.0, 60.0);
        let params = DesParams {
            service_rps: 10.0,
            service: ServiceTime::Exponential,
            slo_s: 0.5,
            timeout_s: 30.0,
            balancer: Balancer::Shared,
        };
        let mut queue = DesQueue::new(params);
        let mut r = rng(3);
        let counts = Poisson::new(rate * step_s).unwrap();
        let means: Vec<f64> = (0..2_000)
            .filter_map(|_| {
                let n: f64 = counts.sample(&mut r);
                queue.step(n as u64, servers, step_s, &mut r).latency_mean_s
            })
            .skip(10)
            .collect();
        let analytic = serve(&ServeInput {
            arrivals: rate * step_s,
            backlog: 0.0,
            servers,
            service_rps: 10.0,
            step_s,
            slo_s: 0.5,
            timeout_s: 30.0,
            want_p95: false,
        })
        .latency_mean_s
        .unwrap();
        let m = mean(&means);
        let var = means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (means.len() - 1) as f64;
        let standard_error = (var / means.len() as f64).sqrt();
        assert!(
            (m - analytic).abs() < 4.0 * standard_error,
            "simulated {m} ± {standard_error}, analytic {analytic}"
        );
    }

    const BALANCERS: [Balancer; 3] = [Balancer::Shared, Balancer::RoundRobin, Balancer::Jsq];

    #[test]
    fn the_same_seed_gives_the_same_steps() {
        for balancer in BALANCERS {
            let params = DesParams {
                service_rps: 2.0,
                service: ServiceTime::LogNormal { cv: 1.5 },
                slo_s: 1.0,
                timeout_s: 5.0,
                balancer,
            };
            let run = || {
                let mut q = DesQueue::new(params);
                let mut r = rng(11);
                (0..50)
                    .map(|i| q.step(40 + i * 3, (i % 7) as u32, 10.0, &mut r))
                    .collect::<Vec<_>>()
            };
            assert_eq!(run(), run(), "{balancer:?}");
        }
    }

    #[test]
    fn with_one_vm_every_balancer_gives_the_same_steps() {
        // Under- and overloaded steps, with timeouts: one VM has one queue
        // whatever routes to it.
        let run = |balancer| {
            let params = DesParams {
                service_rps: 2.0,
                service: ServiceTime::LogNormal { cv: 1.5 },
                slo_s: 1.0,
                timeout_s: 5.0,
                balancer,
            };
            let mut q = DesQueue::new(params);
            let mut r = rng(5);
            (0..200)
                .map(|i| q.step((i * 7) % 45, 1, 10.0, &mut r))
                .collect::<Vec<_>>()
        };
        let shared = run(Balancer::Shared);
        assert!(shared.iter().any(|o| o.dropped > 0));
        assert_eq!(run(Balancer::RoundRobin), shared);
        assert_eq!(run(Balancer::Jsq), shared);
    }

    #[test]
    fn round_robin_waits_match_the_erlang_gi_m_1_formula() {
        // Round-robin over c VMs hands each every c-th request of a
        // Poisson process at rate λ: Erlang-c interarrival times, an
        // E_c/M/1 queue per VM. GI/M/1: σ = A*(μ(1 − σ)) with
        // A*(s) = (λ/(λ + s))^c; Wq = σ/(μ(1 − σ)), P(W > 0) = σ.
        let (c, lambda, mu) = (4u32, 3.2f64, 1.0f64);
        let mut sigma = 0.5f64;
        for _ in 0..10_000 {
            sigma = (lambda / (lambda + mu * (1.0 - sigma))).powi(c as i32);
        }
        let w = waits_behind(
            Balancer::RoundRobin,
            c,
            lambda,
            ServiceTime::Exponential,
            2_000_000,
        );
        eprintln!(
            "round-robin: mean wait {} (E4/M/1 {}), P(W > 0) {} (σ {sigma})",
            mean(&w),
            sigma / (mu * (1.0 - sigma)),
            share_above(&w, 0.0)
        );
        assert_close("mean wait", mean(&w), sigma / (mu * (1.0 - sigma)), 0.03);
        assert_close("P(W > 0)", share_above(&w, 0.0), sigma, 0.02);
    }

    #[test]
    fn jsq_waits_lie_between_the_shared_queue_and_round_robin() {
        // 4 VMs at 80 %: the shared queue (M/M/4) waits least, JSQ more,
        // round-robin (blind to the queues) most.
        let mean_wait = |b| {
            mean(&waits_behind(
                b,
                4,
                3.2,
                ServiceTime::Exponential,
                1_000_000,
            ))
        };
        let (shared, rr, jsq) = (
            mean_wait(Balancer::Shared),
            mean_wait(Balancer::RoundRobin),
            mean_wait(Balancer::Jsq),
        );
        let mmc = erlang_c(4, 3.2) / (4.0 - 3.2);
        eprintln!("mean wait: shared {shared} (M/M/4 {mmc}), jsq {jsq}, round-robin {rr}");
        assert_close("shared", shared, mmc, 0.03);
        assert!(
            shared < jsq && jsq < rr,
            "shared {shared}, jsq {jsq}, round-robin {rr}"
        );
    }

    #[test]
    fn a_terminated_vm_s_waiting_requests_are_served_by_the_others() {
        for balancer in [Balancer::RoundRobin, Balancer::Jsq] {
            let params = DesParams {
                service_rps: 1.0,
                service: ServiceTime::Deterministic,
                slo_s: 1.0,
                timeout_s: 1000.0,
                balancer,
            };
            let mut q = DesQueue::new(params);
            let mut r = rng(2);
            // 4 VMs, 400 requests in 10 s: each VM has about 100 waiting.
            let first = q.step(400, 4, 10.0, &mut r);
            assert_eq!(first.dropped, 0);
            let waiting = first.backlog;
            // Down to one VM: nothing is lost, and it serves 10 per step.
            let mut backlog = waiting;
            for _ in 0..5 {
                let out = q.step(0, 1, 10.0, &mut r);
                assert_eq!(backlog, out.served + out.dropped + out.backlog);
                assert!(out.served >= 10, "{balancer:?}: {out:?}");
                backlog = out.backlog;
            }
            // With no VM, requests wait; VMs back, they are served.
            let out = q.step(5, 0, 10.0, &mut r);
            assert_eq!(out.started, 0);
            assert_eq!(backlog + 5, out.served + out.dropped + out.backlog);
            let out = q.step(0, 40, 10.0, &mut r);
            assert!(out.served > 0 && out.backlog < 50, "{balancer:?}: {out:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn requests_are_conserved_exactly(
            steps in proptest::collection::vec((0u64..400, 0u32..12), 1..60),
            cv in 0.1f64..3.0,
            timeout_s in 0.0f64..20.0,
            seed in 0u64..1000,
            balancer in proptest::sample::select(BALANCERS.to_vec()),
        ) {
            let params = DesParams {
                service_rps: 3.0,
                service: ServiceTime::LogNormal { cv },
                slo_s: 0.5,
                timeout_s,
                balancer,
            };
            let mut q = DesQueue::new(params);
            let mut r = rng(seed);
            let mut backlog = 0u64;
            for (arrivals, servers) in steps {
                let out = q.step(arrivals, servers, 10.0, &mut r);
                proptest::prop_assert_eq!(
                    backlog + arrivals,
                    out.served + out.dropped + out.backlog
                );
                proptest::prop_assert!(out.violations <= out.served + out.dropped);
                proptest::prop_assert!((0.0..=1.0).contains(&out.utilization));
                if servers == 0 {
                    proptest::prop_assert_eq!(out.started, 0);
                }
                backlog = out.backlog;
            }
        }
    }

    #[test]
    fn arrivals_are_sorted_inside_the_step() {
        let mut out = Vec::new();
        uniform_order_statistics(1000, 5.0, 2.0, &mut rng(1), &mut out);
        assert_eq!(out.len(), 1000);
        assert!(out.windows(2).all(|w| w[0] <= w[1]));
        assert!(out[0] >= 5.0 && out[999] < 7.0);
        let mean = out.iter().sum::<f64>() / 1000.0;
        assert!((mean - 6.0).abs() < 0.05, "{mean}");
    }
}
