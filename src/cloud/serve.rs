//! One step of service: how `c` running VMs handle a step's arrivals.
//!
//! Two regimes, chosen per step:
//!
//! - **Stable** (no backlog and λ < cμ): the pool is an M/M/c FCFS queue in
//!   steady state. All arrivals are served; the mean response time is
//!   `W = 1/μ + C(c, a)/(cμ − λ)`, the number of SLO violations is
//!   `arrivals · P(T > slo)` from the M/M/c response-time tail
//!   (see [`super::queueing`]).
//! - **Fluid** (λ ≥ cμ, or a backlog carried in): the queue is treated as a
//!   fluid drained at rate cμ. The backlog `Q(t)` grows or shrinks linearly;
//!   if it empties within the step, the rest of the step is stable again.
//!   A request at the back of the queue waits `Q/(cμ)`; the backlog kept at
//!   the end of a step is capped at `cμ · timeout_s`, the excess is dropped.
//!   Every request served from the backlog and every dropped one counts as
//!   an SLO violation (conservative: the fluid picture ignores the
//!   stochastic waiting that makes an overloaded queue worse still).
//!
//! Requests are conserved exactly up to float rounding:
//! `backlog_in + arrivals = served + dropped + backlog_out`.
//!
//! Known approximations (stated in docs/limits.md): drops happen only at step
//! ends and only in the fluid regime (the M/M/c tail beyond `timeout_s` is
//! ignored); with no VM running, waiting requests are all dropped at the
//! end of the step.
//!
//! **Speed.** The environment serves through `serve_in`, which is
//! [`serve`] bit for bit but reads the stable queue of a step from a
//! `StableMemo` once it has met the step's arrival count and fleet size,
//! and can leave out the latency fields that training never reads. The
//! Erlang B recurrence behind every stable step is a chain of `c`
//! dependent divisions (about 5.5 ns per server on the reference machine),
//! the longest latency of a step; the memo replaces it with one load.

use super::queueing::{erlang_c, Mmc, TailPoint};

/// The inputs of one step of service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ServeInput {
    /// Requests arriving during the step, ≥ 0.
    pub arrivals: f64,
    /// Requests waiting at the start of the step, ≥ 0.
    pub backlog: f64,
    /// Running VMs.
    pub servers: u32,
    /// Service rate of one VM, requests per second, > 0.
    pub service_rps: f64,
    /// Step length, seconds, > 0.
    pub step_s: f64,
    /// Response-time objective, seconds.
    pub slo_s: f64,
    /// Longest wait before a backlogged request is dropped, seconds.
    pub timeout_s: f64,
    /// Whether to compute the 95th percentile (a root search; skipped in
    /// training).
    pub want_p95: bool,
}

/// What happened in the step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ServeOutcome {
    /// Requests completed.
    pub served: f64,
    /// Requests dropped.
    pub dropped: f64,
    /// Requests still waiting at the end of the step.
    pub backlog: f64,
    /// Requests served later than the SLO, plus the dropped ones.
    pub violations: f64,
    /// Busy fraction of the running VMs, in [0, 1].
    pub utilization: f64,
    /// Mean response time of the step, seconds (`None` with no VM running).
    pub latency_mean_s: Option<f64>,
    /// 95th percentile response time, seconds (`None` when not asked for or
    /// no VM running).
    pub latency_p95_s: Option<f64>,
}

/// One step of `cloud`'s service starting with an empty queue, without the
/// 95th percentile: the per-step penalty the oracle plans with and the
/// lower bound sums.
pub(crate) fn serve_from_empty(
    cloud: &super::config::CloudConfig,
    step_s: f64,
    arrivals: f64,
    servers: u32,
) -> ServeOutcome {
    serve(&ServeInput {
        arrivals,
        backlog: 0.0,
        servers,
        service_rps: cloud.vm_capacity_rps,
        step_s,
        slo_s: cloud.slo_s,
        timeout_s: cloud.timeout_s,
        want_p95: false,
    })
}

/// Simulates one step of service.
pub(crate) fn serve(input: &ServeInput) -> ServeOutcome {
    let slo = TailPoint::new(input.service_rps, input.slo_s);
    serve_with::<true, _>(input, &mut Direct(&slo))
}

/// Where [`serve`] gets the stable M/M/c queue of a step and its SLO tail
/// (`Mmc::new(servers, rate, μ)` and `response_tail(slo_s)`), for the
/// step's `arrivals` (whose rate is `rate`). Implementations return
/// exactly those values.
pub(crate) trait StableQueues {
    fn stable(&mut self, arrivals: f64, servers: u32, rate: f64, mu: f64) -> Option<(Mmc, f64)>;
}

/// Computes every queue afresh.
pub(crate) struct Direct<'a>(pub &'a TailPoint);

impl StableQueues for Direct<'_> {
    #[inline(always)]
    fn stable(&mut self, _arrivals: f64, servers: u32, rate: f64, mu: f64) -> Option<(Mmc, f64)> {
        let q = Mmc::new(servers, rate, mu)?;
        Some((q, q.response_tail_at(self.0)))
    }
}

/// A memo of the stable queues of one environment (fixed `step_s`, `μ`
/// and SLO), for whole arrival counts: `(tail, C)` per `(servers,
/// arrivals)`, the two values that cost a step's Erlang recurrence (a chain
/// of one division per server, ~20 cycles each), an `expm1` and a few
/// divisions. A replayed workload draws the same counts again and again
/// (Poisson draws are whole numbers near each step's mean), so after the
/// first episodes nearly every step is a lookup. Entries hold the exact
/// values computed the first time, so results are bit-identical.
///
/// Layout: one column of counts per fleet size, allocated when that size
/// is first met, so the counts met with one fleet size (which follows the
/// load) sit together and only the sizes in use cost memory. A dropped
/// memo leaves its columns to the next one made on the same thread (a
/// sweep builds one per cell, a benchmark one per training run): a column
/// of the same queue parameters ([`QueueKey`]), fleet size and length
/// keeps its entries, which are exact values of the same function, so the
/// next memo starts with what the last one computed; any other is cleared,
/// which still costs far less than the page faults of fresh memory.
/// Erlang C is kept only for environments that report latencies.
#[derive(Debug, Clone, Default)]
pub(crate) struct StableMemo {
    /// What every entry depends on besides its count and fleet size.
    key: QueueKey,
    /// Arrival counts kept: `0..counts`.
    counts: usize,
    /// Per fleet size `c` (at `c − 1`): `!tail.to_bits()` per count; 0 =
    /// not computed yet (no tail in [0, 1] has every bit set).
    tails: Vec<Option<Box<[u64]>>>,
    /// Per fleet size: `!C.to_bits()` per count, 0 = not computed yet (as
    /// for the tails); empty when the memo does not keep Erlang C.
    waits: Vec<Option<Box<[u64]>>>,
}

/// What a memo's entries depend on besides the arrival count and the
/// fleet size: the service rate, the response-time objective and the step
/// length (bit patterns; a step's rate is its count over the step length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct QueueKey {
    service_rps: u64,
    slo_s: u64,
    step_s: u64,
}

impl QueueKey {
    /// The key of queues with service rate `service_rps` per VM, objective
    /// `slo_s` and steps of `step_s` seconds.
    pub(crate) fn new(service_rps: f64, slo_s: f64, step_s: f64) -> QueueKey {
        QueueKey {
            service_rps: service_rps.to_bits(),
            slo_s: slo_s.to_bits(),
            step_s: step_s.to_bits(),
        }
    }
}

/// Which values a column holds: a fleet size's SLO tails or its Erlang C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    Tails,
    Waits,
}

/// A column of a dropped memo and what its entries are.
struct SpareColumn {
    key: QueueKey,
    /// The fleet size's column index (`servers − 1`).
    col: usize,
    kind: ColumnKind,
    column: Box<[u64]>,
}

/// Most bytes of spare columns a thread keeps.
const SPARE_BYTES: usize = 32 << 20;

thread_local! {
    /// Columns of dropped memos, oldest first, for the next memo made on
    /// this thread.
    static SPARE_COLUMNS: std::cell::RefCell<Vec<SpareColumn>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// A column of `len` entries for fleet-size column `col` of a memo keyed
/// `key`: a spare one of the same key, column, kind and length as it is
/// (its computed entries are exact for this memo too), else any spare one
/// of that length cleared, else a fresh zeroed one.
fn new_column(key: QueueKey, col: usize, kind: ColumnKind, len: usize) -> Box<[u64]> {
    let spare = SPARE_COLUMNS
        .try_with(|s| {
            let mut s = s.borrow_mut();
            let same = |c: &SpareColumn| {
                c.key == key && c.col == col && c.kind == kind && c.column.len() == len
            };
            if let Some(i) = s.iter().rposition(same) {
                return Some((s.swap_remove(i).column, true));
            }
            let i = s.iter().rposition(|c| c.column.len() == len)?;
            Some((s.swap_remove(i).column, false))
        })
        .ok()
        .flatten();
    match spare {
        Some((column, true)) => column,
        Some((mut column, false)) => {
            column.fill(0);
            column
        }
        None => vec![0; len].into_boxed_slice(),
    }
}

impl Drop for StableMemo {
    fn drop(&mut self) {
        let key = self.key;
        let mut columns = Vec::new();
        for (kind, side) in [
            (ColumnKind::Tails, &mut self.tails),
            (ColumnKind::Waits, &mut self.waits),
        ] {
            for (col, column) in side.drain(..).enumerate() {
                if let Some(column) = column {
                    columns.push(SpareColumn {
                        key,
                        col,
                        kind,
                        column,
                    });
                }
            }
        }
        let bytes_of = |c: &SpareColumn| c.column.len() * 8;
        // A thread being torn down simply frees them.
        let _ = SPARE_COLUMNS.try_with(|s| {
            let mut s = s.borrow_mut();
            let adding: usize = columns.iter().map(bytes_of).sum::<usize>().min(SPARE_BYTES);
            // The newest columns are the likeliest to serve the next memo
            // (a sweep's next cell): make room for them, oldest out first.
            let mut bytes: usize = s.iter().map(bytes_of).sum();
            let mut evict = 0;
            while evict < s.len() && bytes + adding > SPARE_BYTES {
                bytes -= bytes_of(&s[evict]);
                evict += 1;
            }
            s.drain(..evict);
            for c in columns {
                if bytes + bytes_of(&c) > SPARE_BYTES {
                    break;
                }
                bytes += bytes_of(&c);
                s.push(c);
            }
        });
    }
}

impl StableMemo {
    /// Most entries a memo may hold.
    const MAX_ENTRIES: usize = 1 << 22;

    /// A memo for arrival counts up to `max_arrivals` and up to `servers`
    /// servers (keeping Erlang C too with `waits`), or `None` when that
    /// would be too large.
    pub fn new(max_arrivals: f64, servers: u32, waits: bool, key: QueueKey) -> Option<StableMemo> {
        if max_arrivals.is_nan() || max_arrivals < 0.0 || servers == 0 {
            return None;
        }
        let counts = (max_arrivals.min(Self::MAX_ENTRIES as f64) as usize).checked_add(1)?;
        let servers = (servers as usize).min(Self::MAX_ENTRIES / counts);
        if servers == 0 {
            return None;
        }
        Some(StableMemo {
            key,
            counts,
            tails: vec![None; servers],
            waits: if waits {
                vec![None; servers]
            } else {
                Vec::new()
            },
        })
    }

    /// Whether an earlier memo of the same queues left this thread a
    /// column this one can take with its entries.
    pub(crate) fn is_warm(&self) -> bool {
        SPARE_COLUMNS
            .try_with(|s| {
                s.borrow()
                    .iter()
                    .any(|c| c.key == self.key && c.column.len() == self.counts)
            })
            .unwrap_or(false)
    }

    /// Hints the processor to fetch the entries of `arrivals` with
    /// `servers`, one fewer and two fewer servers: what the next step reads
    /// when its VMs are those running now, less up to two its action
    /// terminates. A lookup that misses every cache costs far more than
    /// the step's other work and stalls it; fetched a step ahead it is
    /// ready. Hints change no value.
    #[inline(always)]
    pub(crate) fn prefetch(&self, arrivals: f64, servers: u32) {
        #[cfg(target_arch = "x86_64")]
        if let Some(count) = self.count_of(arrivals) {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let top = (servers as usize).min(self.tails.len());
            for column in self.tails[top.saturating_sub(3)..top].iter().flatten() {
                // SAFETY: a prefetch only hints the cache: it never faults
                // and reads nothing into the program, whatever the address
                // (`wrapping_add` keeps the pointer arithmetic defined);
                // SSE is part of the x86_64 baseline.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(column.as_ptr().wrapping_add(count).cast()) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (arrivals, servers);
    }

    /// True when the memo keeps every whole count up to `max_arrivals`.
    pub(crate) fn covers(&self, max_arrivals: f64) -> bool {
        max_arrivals < self.counts as f64
    }

    /// `arrivals` as a whole count inside the table.
    #[inline(always)]
    fn count_of(&self, arrivals: f64) -> Option<usize> {
        // Through i64, whose conversions are one instruction each on
        // x86_64 (usize's take about a dozen). The cast saturates and maps
        // NaN to 0: a value that round-trips is whole, and the unsigned
        // bound then rejects the negative ones (as usize's saturation did).
        let count = arrivals as i64;
        (count as f64 == arrivals && (count as u64) < self.counts as u64).then_some(count as usize)
    }

    /// The column of `servers` (≥ 1), if the table has one.
    #[inline(always)]
    fn column(&self, servers: u32) -> Option<usize> {
        let col = (servers as usize).wrapping_sub(1);
        (col < self.tails.len()).then_some(col)
    }

    /// The entry `(count, col)`: `(tail, C)` when computed (C NaN when not
    /// kept). It counts only when every column the memo keeps has it: a
    /// column of tails handed over warm may come with its column of C
    /// cleared (see [`new_column`]).
    #[inline(always)]
    fn get(&self, col: usize, count: usize) -> Option<(f64, f64)> {
        let bits = self.tails[col].as_ref()?[count];
        if bits == 0 {
            return None;
        }
        let wait = match self.waits.get(col).and_then(Option::as_ref) {
            Some(waits) => match waits[count] {
                0 => return None,
                wait => f64::from_bits(!wait),
            },
            None => f64::NAN,
        };
        Some((f64::from_bits(!bits), wait))
    }

    #[inline]
    fn put(&mut self, col: usize, count: usize, tail: f64, wait: f64) {
        if tail.to_bits() == u64::MAX {
            return;
        }
        let (key, counts) = (self.key, self.counts);
        self.tails[col].get_or_insert_with(|| new_column(key, col, ColumnKind::Tails, counts))
            [count] = !tail.to_bits();
        if let Some(column) = self.waits.get_mut(col) {
            column.get_or_insert_with(|| new_column(key, col, ColumnKind::Waits, counts))[count] =
                !wait.to_bits();
        }
    }
}

/// [`StableMemo`] with the environment's SLO point; `DETAIL` says whether
/// the queue's Erlang C is read (it is only kept by memos made for that).
pub(crate) struct Memoised<'a, const DETAIL: bool> {
    pub memo: &'a mut StableMemo,
    pub slo: &'a TailPoint,
}

impl<const DETAIL: bool> StableQueues for Memoised<'_, DETAIL> {
    #[inline(always)]
    fn stable(&mut self, arrivals: f64, servers: u32, rate: f64, mu: f64) -> Option<(Mmc, f64)> {
        // `Mmc::new` is `stable_load` followed by `erlang_c`; the check is
        // cheap and decides `None` exactly as it does.
        let offered_load = Mmc::stable_load(servers, rate, mu)?;
        let queue = |wait_probability| Mmc {
            servers,
            arrival_rps: rate,
            service_rps: mu,
            wait_probability,
        };
        let usable = !DETAIL || !self.memo.waits.is_empty();
        let slot = self.memo.count_of(arrivals).zip(self.memo.column(servers));
        let Some((count, col)) = slot.filter(|_| usable) else {
            let q = queue(erlang_c(servers, offered_load));
            return Some((q, q.response_tail_at(self.slo)));
        };
        if let Some((tail, wait)) = self.memo.get(col, count) {
            // Without DETAIL the queue's Erlang C is never read.
            return Some((queue(wait), tail));
        }
        let q = queue(erlang_c(servers, offered_load));
        let tail = q.response_tail_at(self.slo);
        self.memo.put(col, count, tail, q.wait_probability);
        Some((q, tail))
    }
}

/// [`serve`] with the environment's SLO point and, when it has one, its
/// memo; bit-identical. `DETAIL` off leaves out the latency and
/// utilization fields, which cost divisions and (for p95) a root search
/// but enter neither the reward nor the request counts: `utilization` is
/// then 0 and both latencies `None`; every other field is unchanged.
#[inline(always)]
pub(crate) fn serve_in<const DETAIL: bool>(
    input: &ServeInput,
    slo: &TailPoint,
    memo: Option<&mut StableMemo>,
) -> ServeOutcome {
    match memo {
        Some(memo) => serve_with::<DETAIL, _>(input, &mut Memoised::<DETAIL> { memo, slo }),
        None => serve_with::<DETAIL, _>(input, &mut Direct(slo)),
    }
}

/// One step of service; `DETAIL` selects whether the latency and
/// utilization fields are computed.
#[inline(always)]
fn serve_with<const DETAIL: bool, Q: StableQueues>(
    input: &ServeInput,
    queues: &mut Q,
) -> ServeOutcome {
    // The SLO is in `queues`' tail point.
    let ServeInput {
        arrivals,
        backlog,
        servers,
        service_rps: mu,
        step_s,
        slo_s: _,
        timeout_s,
        want_p95,
    } = *input;
    let rate = arrivals / step_s;
    let capacity_rps = f64::from(servers) * mu;

    if backlog <= 0.0 {
        if let Some((q, tail)) = queues.stable(arrivals, servers, rate, mu) {
            return ServeOutcome {
                served: arrivals,
                dropped: 0.0,
                backlog: 0.0,
                violations: arrivals * tail,
                utilization: if DETAIL { q.utilization() } else { 0.0 },
                latency_mean_s: DETAIL.then(|| q.mean_response_s()),
                latency_p95_s: (DETAIL && want_p95).then(|| q.p95_s()),
            };
        }
    }

    let fluid = Fluid::of(arrivals, backlog, rate, capacity_rps, step_s, timeout_s);
    let stable_with_tail = if fluid.stable_arrivals > 0.0 {
        queues.stable(arrivals, servers, rate, mu)
    } else {
        None
    };
    let stable = stable_with_tail.map(|(q, _)| q);
    let stable_violations = stable_with_tail.map_or(0.0, |(_, tail)| fluid.stable_arrivals * tail);
    let violations = fluid.served_fluid.min(fluid.served) + fluid.dropped + stable_violations;
    if !DETAIL {
        return ServeOutcome {
            served: fluid.served,
            dropped: fluid.dropped,
            backlog: fluid.backlog_out,
            violations,
            utilization: 0.0,
            latency_mean_s: None,
            latency_p95_s: None,
        };
    }

    let utilization = if servers == 0 {
        if backlog + arrivals > 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        (fluid.served / (capacity_rps * step_s)).min(1.0)
    };
    let (latency_mean_s, latency_p95_s) = if servers == 0 {
        (None, None)
    } else {
        fluid.latency(capacity_rps, mu, stable, want_p95)
    };

    ServeOutcome {
        served: fluid.served,
        dropped: fluid.dropped,
        backlog: fluid.backlog_out,
        violations,
        utilization,
        latency_mean_s,
        latency_p95_s,
    }
}

/// A step in the fluid regime: the backlog changes at `rate − capacity_rps`
/// until it empties (after `drain_s`) or the step ends.
struct Fluid {
    /// The backlog at the start of the step.
    queue_start: f64,
    /// The backlog at its highest during the fluid part.
    queue_peak: f64,
    /// Requests served during the fluid part.
    served_fluid: f64,
    /// The most requests the queue keeps (the rest time out).
    keep_cap: f64,
    /// Requests served in the step.
    served: f64,
    /// Requests dropped in the step.
    dropped: f64,
    /// The backlog at the end of the step.
    backlog_out: f64,
    /// Arrivals after the backlog emptied, which meet a stable queue.
    stable_arrivals: f64,
}

impl Fluid {
    /// The fluid part of a step with `arrivals` (at `rate` per second)
    /// on a `backlog`.
    #[inline(always)]
    fn of(
        arrivals: f64,
        backlog: f64,
        rate: f64,
        capacity_rps: f64,
        step_s: f64,
        timeout_s: f64,
    ) -> Fluid {
        let drain_s = if rate < capacity_rps {
            backlog / (capacity_rps - rate)
        } else {
            f64::INFINITY
        };
        let fluid_s = drain_s.min(step_s);
        let queue_start = backlog;
        let queue_peak = (backlog + (rate - capacity_rps) * fluid_s).max(0.0);
        let served_fluid = capacity_rps * fluid_s;
        let keep_cap = capacity_rps * timeout_s;

        let (served, dropped, backlog_out, stable_arrivals) = if drain_s < step_s {
            // The backlog empties inside the step; what arrives afterwards
            // meets a stable queue.
            let stable_arrivals = (arrivals - rate * drain_s).max(0.0);
            (backlog + arrivals, 0.0, 0.0, stable_arrivals)
        } else {
            let left = (backlog + arrivals - served_fluid).max(0.0);
            let dropped = (left - keep_cap).max(0.0);
            (served_fluid, dropped, left - dropped, 0.0)
        };
        Fluid {
            queue_start,
            queue_peak,
            served_fluid,
            keep_cap,
            served,
            dropped,
            backlog_out,
            stable_arrivals,
        }
    }

    /// Mean and (when `want_p95`) 95th-percentile response time, seconds,
    /// of a step served by at least one VM: the fluid part mixed with the
    /// `stable` M/M/c part, if any.
    #[inline(always)]
    fn latency(
        &self,
        capacity_rps: f64,
        mu: f64,
        stable: Option<Mmc>,
        want_p95: bool,
    ) -> (Option<f64>, Option<f64>) {
        // Waits in the fluid part run from queue_start/cμ to queue_end/cμ.
        let w0 = self.queue_start.min(self.keep_cap) / capacity_rps;
        let w1 = self.queue_peak.min(self.keep_cap) / capacity_rps;
        let n_fluid = self.served_fluid.min(self.served);
        let n_stable = if stable.is_some() {
            self.stable_arrivals
        } else {
            0.0
        };
        let fluid_mean = 0.5 * (w0 + w1) + 1.0 / mu;
        let mean = match stable {
            Some(q) if n_fluid + n_stable > 0.0 => {
                (n_fluid * fluid_mean + n_stable * q.mean_response_s()) / (n_fluid + n_stable)
            }
            _ => fluid_mean,
        };
        let p95 = want_p95.then(|| {
            let mix = Mixture {
                fluid_weight: if n_fluid + n_stable > 0.0 {
                    n_fluid / (n_fluid + n_stable)
                } else {
                    1.0
                },
                w0,
                w1,
                mu,
                stable,
            };
            mix.quantile(0.95)
        });
        (Some(mean), p95)
    }
}

/// Response time of a step that mixes a fluid part (a wait uniform in
/// `[w0, w1]` plus an exponential service) with a stable M/M/c part.
struct Mixture {
    fluid_weight: f64,
    w0: f64,
    w1: f64,
    mu: f64,
    stable: Option<Mmc>,
}

impl Mixture {
    /// P(U + S > t) for U uniform on [w0, w1], S ~ Exp(μ).
    fn fluid_tail(&self, t: f64) -> f64 {
        let (w0, w1, mu) = (self.w0, self.w1, self.mu);
        if t <= w0 {
            return 1.0;
        }
        let width = w1 - w0;
        if width <= 1e-12 * w1.max(1.0) {
            return (-mu * (t - w1)).exp().min(1.0);
        }
        if t >= w1 {
            ((-mu * (t - w1)).exp() - (-mu * (t - w0)).exp()) / (mu * width)
        } else {
            ((w1 - t) + (-(-mu * (t - w0)).exp_m1()) / mu) / width
        }
    }

    fn tail(&self, t: f64) -> f64 {
        let stable = self.stable.map_or(0.0, |q| q.response_tail(t));
        self.fluid_weight * self.fluid_tail(t) + (1.0 - self.fluid_weight) * stable
    }

    /// Smallest t with tail(t) ≤ 1 − q, by bisection on a doubling bracket.
    fn quantile(&self, q: f64) -> f64 {
        let level = 1.0 - q;
        let mut hi = self.w1 + 1.0 / self.mu;
        let mut guard = 0;
        while self.tail(hi) > level && guard < 200 {
            hi *= 2.0;
            guard += 1;
        }
        let mut lo = 0.0;
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if self.tail(mid) > level {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo <= 1e-12 * hi {
                break;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input(arrivals: f64, backlog: f64, servers: u32) -> ServeInput {
        ServeInput {
            arrivals,
            backlog,
            servers,
            service_rps: 10.0,
            step_s: 60.0,
            slo_s: 0.5,
            timeout_s: 30.0,
            want_p95: true,
        }
    }

    #[test]
    fn stable_step_serves_everything_with_mmc_latency() {
        let out = serve(&input(60.0 * 15.0, 0.0, 2));
        let q = Mmc::new(2, 15.0, 10.0).unwrap();
        assert_eq!(out.served, 900.0);
        assert_eq!(out.backlog, 0.0);
        assert_eq!(out.latency_mean_s, Some(q.mean_response_s()));
        assert!((out.utilization - 0.75).abs() < 1e-12);
        assert!((out.violations - 900.0 * q.response_tail(0.5)).abs() < 1e-9);
    }

    #[test]
    fn overload_builds_a_backlog_and_counts_served_as_violations() {
        // 2 VMs of 10 rps face 30 rps: 1200 served, 600 queued.
        let out = serve(&input(1800.0, 0.0, 2));
        assert!((out.served - 1200.0).abs() < 1e-9);
        assert!((out.backlog - 600.0).abs() < 1e-9);
        assert_eq!(out.dropped, 0.0);
        assert!((out.violations - 1200.0).abs() < 1e-9);
        assert_eq!(out.utilization, 1.0);
    }

    #[test]
    fn backlog_beyond_the_timeout_is_dropped() {
        // Cap = 20 rps * 30 s = 600 kept; arrivals 60 rps for 60 s.
        let out = serve(&input(3600.0, 0.0, 2));
        assert!((out.served - 1200.0).abs() < 1e-9);
        assert!((out.backlog - 600.0).abs() < 1e-9);
        assert!((out.dropped - 1800.0).abs() < 1e-9);
    }

    #[test]
    fn a_backlog_that_drains_within_the_step_leaves_a_stable_tail() {
        // 2 VMs (20 rps) at 10 rps with 300 waiting: drains in 30 s.
        let out = serve(&input(600.0, 300.0, 2));
        assert!((out.served - 900.0).abs() < 1e-9);
        assert_eq!(out.backlog, 0.0);
        let q = Mmc::new(2, 10.0, 10.0).unwrap();
        // 300 backlog + 300 arrived while draining are violations, the
        // other 300 meet the stable queue.
        let expected = 600.0 + 300.0 * q.response_tail(0.5);
        assert!(
            (out.violations - expected).abs() < 1e-6,
            "{}",
            out.violations
        );
    }

    #[test]
    fn no_running_vm_drops_what_waits() {
        let out = serve(&input(100.0, 5.0, 0));
        assert_eq!(out.served, 0.0);
        assert!((out.dropped - 105.0).abs() < 1e-12);
        assert_eq!(out.utilization, 1.0);
        assert_eq!(out.latency_mean_s, None);
        let idle = serve(&input(0.0, 0.0, 0));
        assert_eq!(idle.utilization, 0.0);
        assert_eq!(idle.violations, 0.0);
    }

    #[test]
    fn p95_of_an_overloaded_step_lies_between_its_waits() {
        let out = serve(&input(1800.0, 0.0, 2));
        let p95 = out.latency_p95_s.unwrap();
        // waits run from 0 to 600/20 = 30 s
        assert!(p95 > 25.0 && p95 < 31.0, "{p95}");
    }

    proptest! {
        #[test]
        fn requests_are_conserved_and_outputs_stay_sane(
            arrivals in 0.0f64..1e6, backlog in 0.0f64..1e5, servers in 0u32..50,
            mu in 0.1f64..100.0, step in 1.0f64..3600.0,
        ) {
            let out = serve(&ServeInput { arrivals, backlog, servers, service_rps: mu, step_s: step,
                slo_s: 0.5, timeout_s: 30.0, want_p95: true });
            let total_in = arrivals + backlog;
            let total_out = out.served + out.dropped + out.backlog;
            prop_assert!((total_in - total_out).abs() <= 1e-9 * total_in.max(1.0));
            prop_assert!(out.served >= 0.0 && out.dropped >= 0.0 && out.backlog >= 0.0);
            prop_assert!(out.violations >= 0.0 && out.violations <= out.served + out.dropped + 1e-9 * total_in.max(1.0));
            prop_assert!((0.0..=1.0).contains(&out.utilization));
            if let Some(l) = out.latency_mean_s { prop_assert!(l.is_finite() && l > 0.0); }
            if let Some(p) = out.latency_p95_s { prop_assert!(p.is_finite() && p > 0.0); }
        }
    }

    proptest! {
        // Issue #19 (the oracle's lower bound): a backlog carried in never
        // lowers a step's violations or drops, so a step planned with an
        // empty queue is a lower bound on the same step with any backlog.
        #[test]
        fn a_backlog_never_lowers_violations_or_drops(
            arrivals in 0.0f64..1e5, backlog in 0.0f64..1e5, servers in 0u32..40,
            mu in 0.5f64..100.0, step in 1.0f64..600.0, slo in 0.01f64..5.0,
            timeout in 0.1f64..120.0,
        ) {
            let at = |b: f64| serve(&ServeInput { arrivals, backlog: b, servers, service_rps: mu,
                step_s: step, slo_s: slo, timeout_s: timeout, want_p95: false });
            let (empty, carried) = (at(0.0), at(backlog));
            let tol = 1e-9 * (arrivals + backlog).max(1.0);
            prop_assert!(carried.violations + tol >= empty.violations,
                "violations {} < {}", carried.violations, empty.violations);
            prop_assert!(carried.dropped + tol >= empty.dropped,
                "drops {} < {}", carried.dropped, empty.dropped);
        }
    }

    fn same_counts(a: &ServeOutcome, b: &ServeOutcome) -> bool {
        [
            (a.served, b.served),
            (a.dropped, b.dropped),
            (a.backlog, b.backlog),
            (a.violations, b.violations),
        ]
        .iter()
        .all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn a_new_memo_keeps_a_dropped_ones_entries_only_for_the_same_queues() {
        // On a thread of its own: the spare columns are per thread.
        std::thread::spawn(|| {
            let key = QueueKey::new(20.0, 0.5, 60.0);
            let other = QueueKey::new(21.0, 0.5, 60.0);
            let mut a = StableMemo::new(1000.0, 10, false, key).unwrap();
            a.put(4, 600, 0.25, f64::NAN);
            drop(a);
            // Other queue parameters: the spare column comes cleared.
            let mut b = StableMemo::new(1000.0, 10, false, other).unwrap();
            b.put(4, 1, 0.5, f64::NAN);
            assert_eq!(b.get(4, 600), None);
            drop(b);
            let mut c = StableMemo::new(1000.0, 10, false, key).unwrap();
            assert_eq!(c.key, key);
            c.put(4, 600, 0.125, f64::NAN);
            assert_eq!(c.get(4, 600).map(|(tail, _)| tail), Some(0.125));
            drop(c);
            // The same parameters: the entries stay.
            let mut d = StableMemo::new(1000.0, 10, false, key).unwrap();
            d.put(4, 2, 0.75, f64::NAN);
            assert_eq!(d.get(4, 600).map(|(tail, _)| tail), Some(0.125));
            // Another fleet size's column starts empty.
            d.put(5, 2, 0.75, f64::NAN);
            assert_eq!(d.get(5, 600), None);
        })
        .join()
        .unwrap();

        // A memo keeping Erlang C may take a warm column of tails whose
        // Erlang C column came cleared (a lean memo left the tails): an
        // entry counts only with both.
        std::thread::spawn(|| {
            let key = QueueKey::new(20.0, 0.5, 60.0);
            let mut lean = StableMemo::new(1000.0, 10, false, key).unwrap();
            lean.put(4, 600, 0.25, f64::NAN);
            drop(lean);
            let mut detailed = StableMemo::new(1000.0, 10, true, key).unwrap();
            detailed.put(4, 1, 0.5, 0.125);
            assert_eq!(detailed.get(4, 1), Some((0.5, 0.125)));
            assert_eq!(detailed.get(4, 600), None);
        })
        .join()
        .unwrap();
    }

    proptest! {
        // Issue (performance): the memo and the count-only variant must
        // change no bit of what they return.
        #[test]
        fn memoised_and_count_only_service_match_serve_bit_for_bit(
            steps in proptest::collection::vec((0u32..4000, 0.0f64..3000.0, 0u32..30, any::<bool>()), 1..60),
            mu in prop_oneof![Just(20.0), 0.5f64..60.0],
            step_s in prop_oneof![Just(60.0), 1.0f64..600.0],
            slo_s in prop_oneof![Just(0.5), 0.01f64..5.0],
        ) {
            let slo = TailPoint::new(mu, slo_s);
            let key = QueueKey::new(mu, slo_s, step_s);
            let mut memo = StableMemo::new(4000.0, 25, true, key).unwrap();
            let mut lean = StableMemo::new(4000.0, 25, false, key).unwrap();
            // Twice over, so the second pass reads the entries the first wrote.
            for _ in 0..2 {
                for &(arrivals, backlog, servers, with_backlog) in &steps {
                    let input = ServeInput {
                        arrivals: f64::from(arrivals),
                        backlog: if with_backlog { backlog } else { 0.0 },
                        servers,
                        service_rps: mu,
                        step_s,
                        slo_s,
                        timeout_s: 30.0,
                        want_p95: true,
                    };
                    let reference = serve(&input);
                    let detailed = serve_in::<true>(&input, &slo, Some(&mut memo));
                    prop_assert_eq!(format!("{reference:?}"), format!("{detailed:?}"));
                    let counts = serve_in::<false>(&input, &slo, Some(&mut memo));
                    prop_assert!(same_counts(&reference, &counts), "{:?} vs {:?}", reference, counts);
                    let lean_counts = serve_in::<false>(&input, &slo, Some(&mut lean));
                    prop_assert!(same_counts(&reference, &lean_counts));
                    // A memo without Erlang C computes what it lacks.
                    let detailed_from_lean = serve_in::<true>(&input, &slo, Some(&mut lean));
                    prop_assert_eq!(format!("{reference:?}"), format!("{detailed_from_lean:?}"));
                    let direct = serve_in::<false>(&input, &slo, None);
                    prop_assert!(same_counts(&reference, &direct));
                }
            }
        }
    }
}
