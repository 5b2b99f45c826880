//! The agent's state: discretised features of an observation.
//!
//! Three designs ([`crate::agent::Design`]). The demand design
//! ([`DemandState`], the default) uses ratios and an overload flag (see its
//! docs). The scale-free design ([`ScaleFree`]) uses only ratios, so a
//! state means the same at 3 VMs and at 300:
//!
//! | feature | value | default edges |
//! |---|---|---|
//! | load | offered load per VM of the whole fleet, λ / (μ·(running + booting)) | 0.3 … 1.25 |
//! | trend | (λ_t − λ_{t−1}) / max(λ_{t−1}, 1/step) | −5 %, +5 % |
//! | booting share | booting / (running + booting) | 0.001, 0.3 |
//! | volatility | moving average of \|λ_t − λ_{t−1}\| / λ_{t−1} (capped at 10) | 3 %, 8 %, 20 % |
//! | hour | hour of day of the trace time | off |
//!
//! The legacy design ([`Discretiser`]) has five features, each cut into
//! buckets by configurable edges (a value `x` falls in bucket `i` = the
//! number of edges `≤ x`):
//!
//! | feature | value | default edges |
//! |---|---|---|
//! | utilization | offered load of the last step per serving VM, λ / (c·μ), c ≥ 1 | 0.3 … 1.2 |
//! | VMs | running + booting now | one bucket per count |
//! | trend | (λ_t − λ_{t−1}) / max(λ_{t−1}, 1/step) | −5 %, +5 % |
//! | booting | VMs booting now | 1, 2 |
//! | hour | hour of day of the trace time | off |
//!
//! The state index is the mixed-radix number of the bucket indices, so the
//! Q-table is dense and indexed arithmetically: no hashing per step.

use super::{larger, smaller, AgentSetup};
use crate::cloud::Observation;

/// Maps observations to state indices.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Discretiser {
    util_edges: Vec<f64>,
    /// VM count edges; `None` = one bucket per count in [lo, hi].
    vm_edges: Option<Vec<u32>>,
    vm_lo: u32,
    vm_hi: u32,
    trend_edges: Vec<f64>,
    booting_edges: Vec<u32>,
    hour_buckets: u32,
    service_rps: f64,
    step_s: f64,
    layout: Layout<5>,
    /// The same edges in fixed blocks, for a branch-free count per step.
    util_block: Block<f64>,
    vm_block: Block<u64>,
    trend_block: Block<f64>,
    booting_block: Block<u64>,
    /// `1 / step_s`: the trend's denominator floor.
    trend_floor: f64,
}

// Edges are strictly increasing (validated), so the edges `<= x` form a
// prefix and counting them all, without a branch, gives the bucket.
#[inline]
fn bucket_f64(edges: &[f64], x: f64) -> usize {
    edges.iter().map(|&e| usize::from(e <= x)).sum()
}

#[inline]
fn bucket_u32(edges: &[u32], x: u32) -> usize {
    edges.iter().map(|&e| usize::from(e <= x)).sum()
}

/// Up to 8 edges padded to a fixed-size array (2, 4 or 8 slots) with
/// values that are never `<= x` (NaN for floats, `u64::MAX` above every
/// `u32`), so a bucket is a fixed-length count the compiler unrolls;
/// `Long` for longer lists, which take the slice loop.
#[derive(Debug, Clone, Copy)]
enum Block<T> {
    Two([T; 2]),
    Four([T; 4]),
    Eight([T; 8]),
    Long,
}

/// The number of `edges` `<= x`, fully unrolled.
#[inline(always)]
fn count_le<T: PartialOrd + Copy, const N: usize>(edges: &[T; N], x: T) -> usize {
    let mut n = 0;
    for &e in edges {
        n += usize::from(e <= x);
    }
    n
}

impl<T: PartialOrd + Copy> Block<T> {
    fn of(edges: impl ExactSizeIterator<Item = T>, pad: T) -> Block<T> {
        fn fill<T: Copy, const N: usize>(edges: impl Iterator<Item = T>, pad: T) -> [T; N] {
            let mut b = [pad; N];
            for (slot, e) in b.iter_mut().zip(edges) {
                *slot = e;
            }
            b
        }
        match edges.len() {
            0..=2 => Block::Two(fill(edges, pad)),
            3..=4 => Block::Four(fill(edges, pad)),
            5..=8 => Block::Eight(fill(edges, pad)),
            _ => Block::Long,
        }
    }

    /// The bucket of `x`, or `None` for a `Long` list.
    #[inline(always)]
    fn bucket(&self, x: T) -> Option<usize> {
        match self {
            Block::Two(b) => Some(count_le(b, x)),
            Block::Four(b) => Some(count_le(b, x)),
            Block::Eight(b) => Some(count_le(b, x)),
            Block::Long => None,
        }
    }

    fn slots(&self) -> &[T] {
        match self {
            Block::Two(b) => b,
            Block::Four(b) => b,
            Block::Eight(b) => b,
            Block::Long => &[],
        }
    }
}

impl Block<f64> {
    #[inline(always)]
    fn bucket_f64(&self, edges: &[f64], x: f64) -> usize {
        self.bucket(x).unwrap_or_else(|| bucket_f64(edges, x))
    }
}

impl Block<u64> {
    #[inline(always)]
    fn bucket_u32(&self, edges: &[u32], x: u32) -> usize {
        self.bucket(u64::from(x))
            .unwrap_or_else(|| bucket_u32(edges, x))
    }
}

// Derived from the edge lists; compared bit for bit (NaN padding).
impl PartialEq for Block<f64> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.slots(), other.slots());
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }
}

impl PartialEq for Block<u64> {
    fn eq(&self, other: &Self) -> bool {
        self.slots() == other.slots()
    }
}

/// The mixed-radix layout of a state index over `N` features: the index
/// is `Σ bucket · stride`, the last feature varying fastest.
#[derive(Debug, Clone, PartialEq)]
struct Layout<const N: usize> {
    sizes: [usize; N],
    strides: [usize; N],
}

impl<const N: usize> Layout<N> {
    fn new(sizes: [usize; N]) -> Layout<N> {
        let mut strides = [1; N];
        for i in (0..N.saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * sizes[i + 1];
        }
        Layout { sizes, strides }
    }

    fn n_states(&self) -> usize {
        self.sizes.iter().product()
    }

    #[inline]
    fn index(&self, buckets: [usize; N]) -> usize {
        buckets
            .iter()
            .zip(self.strides)
            .map(|(bucket, stride)| bucket * stride)
            .sum()
    }

    fn decode(&self, mut state: usize) -> [usize; N] {
        let mut b = [0; N];
        for i in (0..N).rev() {
            b[i] = state % self.sizes[i];
            state /= self.sizes[i];
        }
        b
    }
}

/// The hour-of-day bucket of trace time `time_s` with `buckets` buckets
/// (0 when the feature is off, `buckets` ≤ 1).
#[inline]
fn hour_bucket(time_s: f64, buckets: u32) -> usize {
    if buckets <= 1 {
        return 0;
    }
    let h = (time_s / 3600.0).rem_euclid(24.0);
    ((h * f64::from(buckets) / 24.0) as usize).min(buckets as usize - 1)
}

impl Discretiser {
    /// The discretiser of `config.agent`, for `config.cloud`'s bounds and
    /// capacity and `workload.step_s`.
    pub fn new<'a>(config: impl Into<AgentSetup<'a>>) -> Discretiser {
        let config: AgentSetup<'a> = config.into();
        let a = &config.agent;
        let c = &config.cloud;
        let vm_edges = (!a.vm_edges.is_empty()).then(|| a.vm_edges.clone());
        let vm_buckets = match &vm_edges {
            Some(e) => e.len() + 1,
            None => (c.max_vms - c.min_vms) as usize + 1,
        };
        let sizes = [
            a.util_edges.len() + 1,
            vm_buckets,
            a.trend_edges.len() + 1,
            a.booting_edges.len() + 1,
            a.hour_buckets.max(1) as usize,
        ];
        Discretiser {
            util_block: Block::of(a.util_edges.iter().copied(), f64::NAN),
            vm_block: Block::of(a.vm_edges.iter().map(|&e| u64::from(e)), u64::MAX),
            trend_block: Block::of(a.trend_edges.iter().copied(), f64::NAN),
            booting_block: Block::of(a.booting_edges.iter().map(|&e| u64::from(e)), u64::MAX),
            trend_floor: 1.0 / f64::from(config.workload.step_s),
            util_edges: a.util_edges.clone(),
            vm_edges,
            vm_lo: c.min_vms,
            vm_hi: c.max_vms,
            trend_edges: a.trend_edges.clone(),
            booting_edges: a.booting_edges.clone(),
            hour_buckets: a.hour_buckets,
            service_rps: c.vm_capacity_rps,
            step_s: f64::from(config.workload.step_s),
            layout: Layout::new(sizes),
        }
    }

    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.layout.n_states()
    }

    /// Buckets per feature: utilization, VMs, trend, booting, hour.
    pub(crate) fn sizes(&self) -> [usize; 5] {
        self.layout.sizes
    }

    /// Place value of each feature's bucket in the state index (the
    /// index is `Σ bucket · stride`).
    pub(crate) fn strides(&self) -> [usize; 5] {
        self.layout.strides
    }

    /// The bucket indices of each feature for `obs`, given the arrivals of
    /// the step before it.
    #[inline]
    pub(crate) fn buckets(&self, obs: &Observation, prev_arrivals: f64) -> [usize; 5] {
        let serving = f64::from(obs.vms_serving.max(1));
        let util = obs.arrival_rps / (serving * self.service_rps);
        let vms = obs.vms_total();
        let vm = match &self.vm_edges {
            Some(e) => self.vm_block.bucket_u32(e, vms),
            // max/min: `clamp` without its panic path (lo ≤ hi is validated).
            None => (vms.max(self.vm_lo).min(self.vm_hi) - self.vm_lo) as usize,
        };
        let trend = (obs.arrivals - prev_arrivals) / larger(prev_arrivals, self.trend_floor);
        let hour = hour_bucket(obs.time_s, self.hour_buckets);
        [
            self.util_block.bucket_f64(&self.util_edges, util),
            vm,
            self.trend_block.bucket_f64(&self.trend_edges, trend),
            self.booting_block
                .bucket_u32(&self.booting_edges, obs.vms_booting),
            hour,
        ]
    }

    /// The state index of `obs`.
    #[inline]
    pub(crate) fn state(&self, obs: &Observation, prev_arrivals: f64) -> usize {
        self.layout.index(self.buckets(obs, prev_arrivals))
    }

    /// The bucket indices of a state index (inverse of [`Discretiser::state`]).
    pub(crate) fn decode(&self, state: usize) -> [usize; 5] {
        self.layout.decode(state)
    }

    /// A typical offered utilization of utilization bucket `b` (the middle
    /// of its edges; 1.25 × the last edge for the open top bucket).
    pub(crate) fn util_representative(&self, b: usize) -> f64 {
        representative(&self.util_edges, b, 0.0)
    }

    /// A typical VM count of VM bucket `b`.
    pub(crate) fn vms_representative(&self, b: usize) -> u32 {
        match &self.vm_edges {
            None => self.vm_lo + b as u32,
            Some(e) => {
                let edges: Vec<f64> = e.iter().map(|&x| f64::from(x)).collect();
                representative(&edges, b, f64::from(self.vm_lo)).round() as u32
            }
        }
    }

    /// The utilization bucket edges (offered load per serving VM).
    pub(crate) fn util_edges(&self) -> &[f64] {
        &self.util_edges
    }

    /// The load-trend bucket edges (relative change of the arrivals).
    pub(crate) fn trend_edges(&self) -> &[f64] {
        &self.trend_edges
    }

    /// The VM counts (running + booting) of VM bucket `b`, lowest and
    /// highest, within `[cloud.min_vms, cloud.max_vms]`.
    pub(crate) fn vm_bucket_bounds(&self, b: usize) -> (u32, u32) {
        match &self.vm_edges {
            None => {
                let v = self.vm_lo.saturating_add(b as u32).min(self.vm_hi);
                (v, v)
            }
            Some(e) => {
                let lo = b
                    .checked_sub(1)
                    .and_then(|i| e.get(i))
                    .map_or(self.vm_lo, |&x| x.max(self.vm_lo));
                let hi = e
                    .get(b)
                    .map_or(self.vm_hi, |&x| x.saturating_sub(1).min(self.vm_hi));
                (lo, hi.max(lo))
            }
        }
    }

    /// The smallest booting count of booting bucket `b`.
    pub(crate) fn booting_lower(&self, b: usize) -> u32 {
        if b == 0 {
            0
        } else {
            self.booting_edges.get(b - 1).copied().unwrap_or(0)
        }
    }

    /// A one-line description of the state space; a Q-table file records
    /// it and refuses to load under a config that describes another.
    pub(crate) fn describe(&self) -> String {
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let list_u = |v: &[u32]| {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let vms = match &self.vm_edges {
            Some(e) => list_u(e),
            None => format!("{}..{}", self.vm_lo, self.vm_hi),
        };
        format!(
            "util:{}|vms:{}|trend:{}|booting:{}|hours:{}|capacity_rps:{}|step_s:{}",
            list(&self.util_edges),
            vms,
            list(&self.trend_edges),
            list_u(&self.booting_edges),
            self.hour_buckets,
            self.service_rps,
            self.step_s
        )
    }
}

/// The scale-free design's state (see the module docs): load per VM of the
/// fleet, trend, booting share, volatility and hour, mixed-radix in that
/// order. The volatility is a moving average the agent carries from step
/// to step ([`ScaleFree::volatility`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScaleFree {
    load_edges: Vec<f64>,
    trend_edges: Vec<f64>,
    share_edges: Vec<f64>,
    volatility_edges: Vec<f64>,
    hour_buckets: u32,
    volatility_span: u32,
    service_rps: f64,
    step_s: f64,
    /// Weight of the newest change in the volatility's average.
    volatility_weight: f64,
    layout: Layout<5>,
    load_block: Block<f64>,
    trend_block: Block<f64>,
    share_block: Block<f64>,
    volatility_block: Block<f64>,
    trend_floor: f64,
}

/// The largest relative change one step adds to the volatility.
const VOLATILITY_CAP: f64 = 10.0;

impl ScaleFree {
    /// The scale-free state of `config.agent`.
    pub fn new<'a>(config: impl Into<AgentSetup<'a>>) -> ScaleFree {
        let config: AgentSetup<'a> = config.into();
        let a = &config.agent;
        let sizes = [
            a.load_edges.len() + 1,
            a.trend_edges.len() + 1,
            a.booting_share_edges.len() + 1,
            a.volatility_edges.len() + 1,
            a.hour_buckets.max(1) as usize,
        ];
        ScaleFree {
            load_block: Block::of(a.load_edges.iter().copied(), f64::NAN),
            trend_block: Block::of(a.trend_edges.iter().copied(), f64::NAN),
            share_block: Block::of(a.booting_share_edges.iter().copied(), f64::NAN),
            volatility_block: Block::of(a.volatility_edges.iter().copied(), f64::NAN),
            load_edges: a.load_edges.clone(),
            trend_edges: a.trend_edges.clone(),
            share_edges: a.booting_share_edges.clone(),
            volatility_edges: a.volatility_edges.clone(),
            hour_buckets: a.hour_buckets,
            volatility_span: a.volatility_span,
            service_rps: config.cloud.vm_capacity_rps,
            step_s: f64::from(config.workload.step_s),
            volatility_weight: 2.0 / (f64::from(a.volatility_span) + 1.0),
            layout: Layout::new(sizes),
            trend_floor: 1.0 / f64::from(config.workload.step_s),
        }
    }

    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.layout.n_states()
    }

    /// Buckets per feature: load, trend, booting share, volatility, hour.
    pub(crate) fn sizes(&self) -> [usize; 5] {
        self.layout.sizes
    }

    /// Place value of each feature's bucket in the state index.
    pub(crate) fn strides(&self) -> [usize; 5] {
        self.layout.strides
    }

    /// The volatility after `obs`, from `volatility` before it and the
    /// arrivals of the step before `obs`'s: unchanged until two steps
    /// have been seen (step 0 reports no arrivals).
    #[inline]
    pub(crate) fn volatility(&self, volatility: f64, obs: &Observation, prev_arrivals: f64) -> f64 {
        if obs.step < 2 {
            return volatility;
        }
        let change = smaller(
            (obs.arrivals - prev_arrivals).abs() / larger(prev_arrivals, 1.0),
            VOLATILITY_CAP,
        );
        volatility + self.volatility_weight * (change - volatility)
    }

    /// The bucket indices of `obs`, given the arrivals of the step before
    /// it and the volatility after it.
    #[inline]
    pub(crate) fn buckets(
        &self,
        obs: &Observation,
        prev_arrivals: f64,
        volatility: f64,
    ) -> [usize; 5] {
        let total = obs.vms_total();
        let fleet = f64::from(total.max(1));
        let load = obs.arrival_rps / (fleet * self.service_rps);
        let share = f64::from(obs.vms_booting) / fleet;
        let trend = (obs.arrivals - prev_arrivals) / larger(prev_arrivals, self.trend_floor);
        let hour = hour_bucket(obs.time_s, self.hour_buckets);
        [
            self.load_block.bucket_f64(&self.load_edges, load),
            self.trend_block.bucket_f64(&self.trend_edges, trend),
            self.share_block.bucket_f64(&self.share_edges, share),
            self.volatility_block
                .bucket_f64(&self.volatility_edges, volatility),
            hour,
        ]
    }

    /// The state index of `obs`.
    #[inline]
    pub(crate) fn state(&self, obs: &Observation, prev_arrivals: f64, volatility: f64) -> usize {
        self.layout
            .index(self.buckets(obs, prev_arrivals, volatility))
    }

    /// The bucket indices of a state index.
    pub(crate) fn decode(&self, state: usize) -> [usize; 5] {
        self.layout.decode(state)
    }

    /// A typical load per VM of load bucket `b`.
    pub(crate) fn load_representative(&self, b: usize) -> f64 {
        representative(&self.load_edges, b, 0.0)
    }

    /// The load bucket edges.
    pub(crate) fn load_edges(&self) -> &[f64] {
        &self.load_edges
    }

    /// The volatility bucket edges.
    pub(crate) fn volatility_edges(&self) -> &[f64] {
        &self.volatility_edges
    }

    /// The load-trend bucket edges.
    pub(crate) fn trend_edges(&self) -> &[f64] {
        &self.trend_edges
    }

    /// A one-line description of the state space (recorded in Q-table
    /// files).
    pub(crate) fn describe(&self) -> String {
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "load:{}|trend:{}|booting_share:{}|volatility:{}|volatility_span:{}|hours:{}|capacity_rps:{}|step_s:{}",
            list(&self.load_edges),
            list(&self.trend_edges),
            list(&self.share_edges),
            list(&self.volatility_edges),
            self.volatility_span,
            self.hour_buckets,
            self.service_rps,
            self.step_s
        )
    }
}

/// The demand design's state (see [`crate::agent::Design::Demand`]):
/// seven features, mixed-radix in this order, each cut by configurable
/// edges:
///
/// | feature | value | default edges |
/// |---|---|---|
/// | fleet | VMs (running + booting) per VM of the last step's load, (running + booting)·μ / λ | 0.9 … 3 |
/// | peak | the window's peak rate over the last step's, max λ / λ (1 when both are 0) | 1.1, 1.5, 3 |
/// | trend | (λ_t − λ_{t−1}) / max(λ_{t−1}, 1/step) | −5 %, +5 % |
/// | booting share | booting / (running + booting) | 0.001, 0.3 |
/// | volatility | moving average of \|λ_t − λ_{t−1}\| / λ_{t−1} | 3 %, 8 %, 20 % |
/// | overload | requests waiting or dropped after the last step (0 or 1) | |
/// | hour | hour of day of the trace time | off |
///
/// Every feature is a ratio or a flag, so a state means the same at any
/// scale.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DemandState {
    fleet_edges: Vec<f64>,
    peak_edges: Vec<f64>,
    trend_edges: Vec<f64>,
    share_edges: Vec<f64>,
    volatility_edges: Vec<f64>,
    hour_buckets: u32,
    volatility_span: u32,
    peak_window_steps: u32,
    service_rps: f64,
    step_s: f64,
    layout: Layout<7>,
    fleet_block: Block<f64>,
    peak_block: Block<f64>,
    trend_block: Block<f64>,
    share_block: Block<f64>,
    volatility_block: Block<f64>,
    trend_floor: f64,
}

impl DemandState {
    /// The demand design's state of `config.agent`.
    pub fn new<'a>(config: impl Into<AgentSetup<'a>>) -> DemandState {
        let config: AgentSetup<'a> = config.into();
        let a = &config.agent;
        let sizes = [
            a.fleet_edges.len() + 1,
            a.peak_ratio_edges.len() + 1,
            a.trend_edges.len() + 1,
            a.booting_share_edges.len() + 1,
            a.volatility_edges.len() + 1,
            2,
            a.hour_buckets.max(1) as usize,
        ];
        DemandState {
            fleet_block: Block::of(a.fleet_edges.iter().copied(), f64::NAN),
            peak_block: Block::of(a.peak_ratio_edges.iter().copied(), f64::NAN),
            trend_block: Block::of(a.trend_edges.iter().copied(), f64::NAN),
            share_block: Block::of(a.booting_share_edges.iter().copied(), f64::NAN),
            volatility_block: Block::of(a.volatility_edges.iter().copied(), f64::NAN),
            fleet_edges: a.fleet_edges.clone(),
            peak_edges: a.peak_ratio_edges.clone(),
            trend_edges: a.trend_edges.clone(),
            share_edges: a.booting_share_edges.clone(),
            volatility_edges: a.volatility_edges.clone(),
            hour_buckets: a.hour_buckets,
            volatility_span: a.volatility_span,
            peak_window_steps: a.peak_window_steps,
            service_rps: config.cloud.vm_capacity_rps,
            step_s: f64::from(config.workload.step_s),
            layout: Layout::new(sizes),
            trend_floor: 1.0 / f64::from(config.workload.step_s),
        }
    }

    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.layout.n_states()
    }

    /// Buckets per feature: fleet, peak, trend, booting share,
    /// volatility, overload, hour.
    pub(crate) fn sizes(&self) -> [usize; 7] {
        self.layout.sizes
    }

    /// The bucket indices of `obs`, given the arrivals of the step before
    /// it, the volatility after it and the highest rate of the window
    /// (requests/s, the last step's included).
    #[inline]
    pub(crate) fn buckets(
        &self,
        obs: &Observation,
        prev_arrivals: f64,
        volatility: f64,
        window_max_rps: f64,
    ) -> [usize; 7] {
        let total = obs.vms_total();
        let rate = obs.arrival_rps;
        // A fleet with no load has infinite headroom (the top bucket).
        let fleet = if rate > 0.0 {
            f64::from(total) * self.service_rps / rate
        } else {
            f64::INFINITY
        };
        let peak = if window_max_rps > rate {
            window_max_rps / rate
        } else {
            1.0
        };
        let share = f64::from(obs.vms_booting) / f64::from(total.max(1));
        let trend = (obs.arrivals - prev_arrivals) / larger(prev_arrivals, self.trend_floor);
        let overload = usize::from(obs.backlog > 0.0 || obs.dropped > 0.0);
        [
            self.fleet_block.bucket_f64(&self.fleet_edges, fleet),
            self.peak_block.bucket_f64(&self.peak_edges, peak),
            self.trend_block.bucket_f64(&self.trend_edges, trend),
            self.share_block.bucket_f64(&self.share_edges, share),
            self.volatility_block
                .bucket_f64(&self.volatility_edges, volatility),
            overload,
            hour_bucket(obs.time_s, self.hour_buckets),
        ]
    }

    /// The state index of `obs`.
    #[inline]
    pub(crate) fn state(
        &self,
        obs: &Observation,
        prev_arrivals: f64,
        volatility: f64,
        window_max_rps: f64,
    ) -> usize {
        self.layout
            .index(self.buckets(obs, prev_arrivals, volatility, window_max_rps))
    }

    /// The bucket indices of a state index.
    pub(crate) fn decode(&self, state: usize) -> [usize; 7] {
        self.layout.decode(state)
    }

    /// The fleet bucket edges.
    pub(crate) fn fleet_edges(&self) -> &[f64] {
        &self.fleet_edges
    }

    /// A typical fleet per VM of load of fleet bucket `b`.
    pub(crate) fn fleet_representative(&self, b: usize) -> f64 {
        representative(&self.fleet_edges, b, 0.0)
    }

    /// A typical window peak over the last rate of peak bucket `b`.
    pub(crate) fn peak_representative(&self, b: usize) -> f64 {
        representative(&self.peak_edges, b, 1.0)
    }

    /// A typical volatility of volatility bucket `b`.
    pub(crate) fn volatility_representative(&self, b: usize) -> f64 {
        representative(&self.volatility_edges, b, 0.0)
    }

    /// A one-line description of the state space (recorded in Q-table
    /// files).
    pub(crate) fn describe(&self) -> String {
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "fleet:{}|peak:{}|trend:{}|booting_share:{}|volatility:{}|volatility_span:{}|overload|window:{}|hours:{}|capacity_rps:{}|step_s:{}",
            list(&self.fleet_edges),
            list(&self.peak_edges),
            list(&self.trend_edges),
            list(&self.share_edges),
            list(&self.volatility_edges),
            self.volatility_span,
            self.peak_window_steps,
            self.hour_buckets,
            self.service_rps,
            self.step_s
        )
    }
}

/// The middle of bucket `b` of `edges` (from `floor` below the first edge;
/// 1.25 × the last edge above it).
fn representative(edges: &[f64], b: usize, floor: f64) -> f64 {
    match (b.checked_sub(1).and_then(|i| edges.get(i)), edges.get(b)) {
        (None, Some(&hi)) => 0.5 * (floor.min(hi) + hi),
        (Some(&lo), Some(&hi)) => 0.5 * (lo + hi),
        (Some(&lo), None) => 1.25 * lo,
        (None, None) => floor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn obs(arrival_rps: f64, serving: u32, running: u32, booting: u32, time_s: f64) -> Observation {
        Observation {
            step: 1,
            time_s,
            arrivals: arrival_rps * 60.0,
            arrival_rps,
            utilization: 0.0,
            vms_serving: serving,
            vms_running: running,
            vms_booting: booting,
            latency_mean_s: None,
            backlog: 0.0,
            slo_violations: 0.0,
            dropped: 0.0,
        }
    }

    #[test]
    fn buckets_follow_the_edges() {
        let mut config = Config::default();
        config.cloud.vm_capacity_rps = 10.0;
        config.cloud.min_vms = 1;
        config.cloud.max_vms = 10;
        config.agent.hour_buckets = 4;
        let d = Discretiser::new(&config);
        assert_eq!(d.sizes(), [9, 10, 3, 3, 4]);
        // 15 rps on 2 serving VMs of 10 rps: utilization 0.75 -> bucket 4
        // (edges 0.3 0.5 0.6 0.7 are <= 0.75); 3 VMs -> bucket 2; rising
        // from 600 to 900 requests; 1 booting; 13:00 -> hour bucket 2.
        let b = d.buckets(&obs(15.0, 2, 2, 1, 13.0 * 3600.0), 600.0);
        assert_eq!(b, [4, 2, 2, 1, 2]);
        let s = d.state(&obs(15.0, 2, 2, 1, 13.0 * 3600.0), 600.0);
        assert_eq!(d.decode(s), b);
        assert!(s < d.n_states());
    }

    #[test]
    fn every_state_index_is_in_range_and_round_trips() {
        let config = Config::default();
        let d = Discretiser::new(&config);
        for rps in [0.0, 5.0, 50.0, 5000.0] {
            for vms in [0, 1, 7, 50, 80] {
                let o = obs(rps, vms, vms, vms / 3, 1e6);
                let s = d.state(&o, 100.0);
                assert!(s < d.n_states());
                assert_eq!(d.decode(s), d.buckets(&o, 100.0));
            }
        }
    }

    proptest::proptest! {
        // Issue (performance): the fixed blocks give the slice loop's bucket.
        #[test]
        fn edge_blocks_count_like_the_edge_lists(
            mut floats in proptest::collection::vec(-10.0f64..10.0, 0..12),
            mut ints in proptest::collection::vec(0u32..100, 0..12),
            x in proptest::prop_oneof![-12.0f64..12.0, proptest::strategy::Just(f64::NAN),
                proptest::strategy::Just(f64::INFINITY), proptest::strategy::Just(f64::NEG_INFINITY)],
            n in proptest::prop_oneof![0u32..110, proptest::strategy::Just(u32::MAX)],
        ) {
            floats.sort_by(f64::total_cmp);
            floats.dedup();
            ints.sort_unstable();
            ints.dedup();
            let fb = Block::of(floats.iter().copied(), f64::NAN);
            proptest::prop_assert_eq!(fb.bucket_f64(&floats, x), bucket_f64(&floats, x));
            let ib = Block::of(ints.iter().map(|&e| u64::from(e)), u64::MAX);
            proptest::prop_assert_eq!(ib.bucket_u32(&ints, n), bucket_u32(&ints, n));
        }
    }
}
