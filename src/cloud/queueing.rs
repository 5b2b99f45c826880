//! Closed-form performance of an M/M/c first-come-first-served queue.
//!
//! # Model
//!
//! A pool of `c` identical servers (VMs) shares one FCFS queue of unbounded
//! length. Requests arrive as a Poisson process with rate `λ` (requests per
//! second) and each server completes work at rate `μ` (requests per second), so
//! a single service time is exponential with mean `1/μ` seconds. The offered
//! load is `a = λ/μ` (Erlangs, dimensionless) and the per-server utilisation
//! is `ρ = a/c = λ/(cμ)`. The system is stable only when `ρ < 1`. All times
//! in this module are in seconds and all rates in requests per second.
//!
//! # Formulas and where they come from
//!
//! * **Erlang B** (blocking probability of the loss system M/M/c/c), evaluated
//!   with the recurrence `B(0) = 1`, `B(k) = a·B(k−1) / (k + a·B(k−1))`. Every
//!   intermediate value lies in `[0, 1]`, so nothing overflows even for millions
//!   of servers, unlike the textbook ratio of factorial sums.
//!   (Kleinrock, *Queueing Systems, Vol. 1: Theory*, Wiley 1975, §3.7;
//!   Gross & Harris, *Fundamentals of Queueing Theory*, 3rd ed., Wiley 1998,
//!   §2.5.)
//! * **Erlang C** (probability that an arriving request has to queue), derived
//!   from Erlang B as `C = B / (1 − ρ(1 − B))`, here rearranged to
//!   `C = c·B / ((c − a) + a·B)` so the `1 − ρ` difference is formed from
//!   the raw inputs. (Kleinrock 1975, §3.5; Gross & Harris 1998, §2.3.)
//! * **Mean wait and response**: `W_q = C / (cμ − λ)` and `W = 1/μ + W_q`.
//!   (Kleinrock 1975, eq. 3.40ff; Gross & Harris 1998, §2.3.)
//! * **Response-time tail** of an arriving request under FCFS, with
//!   `θ = cμ − λ`: the wait is 0 with probability `1 − C` and otherwise
//!   exponential with rate `θ`; adding an independent exponential service
//!   gives
//!   `P(T > t) = e^{−μt} · [1 + C·μ/(θ − μ) · (1 − e^{−(θ−μ)t})]`,
//!   whose limit for `θ = μ` is `e^{−μt} · (1 + Cμt)`.
//!   (Gross & Harris 1998, §2.3, waiting-time distribution of M/M/c;
//!   Kleinrock 1975, §3.5.)
//!
//! # Numerical notes
//!
//! The tail is evaluated as `e^{−μt} + C·μt·e^{−m t}·g(|θ − μ|·t)` with
//! `m = min(θ, μ)` and `g(x) = (1 − e^{−x})/x` computed through `expm1`
//! (`g(0) = 1`). This form is exact algebra, has no cancellation when
//! `θ ≈ μ`, passes continuously through the `θ = μ` limit and never forms a
//! growing exponential. Quantiles are found by bracketing followed by a
//! Newton iteration on `ln P(T > t)` that falls back to bisection whenever a
//! step would leave the bracket or converge too slowly.
//!
//! Nothing here allocates; everything is `O(1)` except the Erlang recurrence,
//! which is `O(c)` and is evaluated once per [`Mmc::new`].

/// The response-time quantile a step's VM demand is sized for (the
/// demand of the elasticity metrics and of the agent's demand design).
pub(crate) const DEMAND_QUANTILE: f64 = 0.95;

/// Relative tolerance for [`Mmc::response_quantile_s`].
const QUANTILE_REL_TOL: f64 = 1e-13;
/// Upper bound on the number of halvings or doublings used to bracket a
/// quantile; enough to walk across the full `f64` exponent range.
const MAX_BRACKET_STEPS: u32 = 2_200;
/// Upper bound on Newton/bisection refinement steps for a quantile.
const MAX_REFINE_STEPS: u32 = 200;

/// Erlang B blocking probability `B(c, a)` of an M/M/c/c loss system.
///
/// * `servers`: number of servers `c` (any `u32`; `c = 0` gives `1.0`).
/// * `offered_load`: offered traffic `a = λ/μ` in Erlangs, `a ≥ 0`.
///
/// Uses the recurrence `B(0) = 1`, `B(k) = a·B(k−1) / (k + a·B(k−1))`, whose
/// iterates stay in `[0, 1]`, so the result is finite for `c` in the millions.
/// Cost is `O(c)` (the loop stops early once the value underflows to zero).
///
/// Returns a value in `[0, 1]`: `0.0` when `a = 0` and `c ≥ 1`, `1.0` when
/// `a = +∞`, and `NaN` when `a` is negative or `NaN` (outside the domain).
pub fn erlang_b(servers: u32, offered_load: f64) -> f64 {
    let a = offered_load;
    if a.is_nan() || a < 0.0 {
        return f64::NAN;
    }
    if servers == 0 {
        return 1.0;
    }
    if a == 0.0 {
        return 0.0;
    }
    if a.is_infinite() {
        return 1.0;
    }
    // `k` as a float is counted up exactly (whole numbers below 2^32), so
    // the loop carries no integer conversion and no inclusive-range flag.
    let mut blocking = 1.0_f64;
    let mut k = 0.0_f64;
    for _ in 0..servers {
        k += 1.0;
        let scaled = a * blocking;
        blocking = scaled / (k + scaled);
        if blocking == 0.0 {
            break;
        }
    }
    blocking
}

/// Erlang C: probability `C(c, a)` that an arriving request must wait in an
/// M/M/c queue.
///
/// * `servers`: number of servers `c`.
/// * `offered_load`: offered traffic `a = λ/μ` in Erlangs, `a ≥ 0`.
///
/// Computed from [`erlang_b`] as `C = c·B / ((c − a) + a·B)` (equivalent to
/// `B / (1 − ρ(1 − B))`), so no factorials appear. Returns a value in
/// `[0, 1]`: `1.0` when `c == 0` or `a ≥ c` (the queue is unstable and every
/// arrival waits), `0.0` when `a = 0` and `c ≥ 1`, and `NaN` for a negative
/// or `NaN` load with `c ≥ 1`. Cost is `O(c)`.
pub fn erlang_c(servers: u32, offered_load: f64) -> f64 {
    if servers == 0 {
        return 1.0;
    }
    let a = offered_load;
    let c = f64::from(servers);
    if a >= c {
        return 1.0;
    }
    let b = erlang_b(servers, a);
    if b.is_nan() {
        return f64::NAN;
    }
    let value = c * b / ((c - a) + a * b);
    value.clamp(0.0, 1.0)
}

/// `g(x) = (1 − e^{−x}) / x` for `x ≥ 0`, with `g(0) = 1`; accurate for tiny
/// `x` because it goes through `expm1`. Lies in `(0, 1]`, and is `0` at `+∞`.
fn one_minus_exp_over_x(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        -(-x).exp_m1() / x
    }
}

/// A time `t` (seconds) at which response-time tails of queues with
/// service rate `μ` are read again and again, with `e^{−μt}` computed once:
/// see [`Mmc::response_tail_at`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TailPoint {
    service_rps: f64,
    t_s: f64,
    exp_neg_mu_t: f64,
    /// `0 < t_s < ∞`: none of [`Mmc::response_tail`]'s special cases.
    regular: bool,
}

impl TailPoint {
    /// The point `t_s` for queues whose servers work at `service_rps`.
    pub fn new(service_rps: f64, t_s: f64) -> TailPoint {
        TailPoint {
            service_rps,
            t_s,
            exp_neg_mu_t: (-(service_rps * t_s)).exp(),
            regular: t_s > 0.0 && t_s < f64::INFINITY,
        }
    }
}

/// A stable M/M/c FCFS queue (`λ < cμ`, `c ≥ 1`) with its Erlang C value
/// precomputed.
///
/// Build it with [`Mmc::new`], which enforces the invariants. The fields are
/// public for inspection; if they are edited by hand into an unstable or
/// invalid state the methods do not panic but may return `NaN` or infinite
/// values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mmc {
    /// Number of identical servers `c` (≥ 1).
    pub servers: u32,
    /// Poisson arrival rate `λ` in requests per second (finite, ≥ 0, `< cμ`).
    pub arrival_rps: f64,
    /// Service rate `μ` of one server in requests per second (finite, > 0).
    pub service_rps: f64,
    /// Erlang C value `C(c, λ/μ)`: probability that an arrival waits, in
    /// `[0, 1]`.
    pub wait_probability: f64,
}

impl Mmc {
    /// Builds the queue and precomputes its Erlang C value (cost `O(c)`).
    ///
    /// * `servers`: number of servers `c`, must be ≥ 1.
    /// * `arrival_rps`: arrival rate `λ` in requests per second, finite, ≥ 0.
    /// * `service_rps`: per-server service rate `μ` in requests per second,
    ///   finite, > 0.
    ///
    /// Returns `None` when `c == 0`, `μ ≤ 0`, `λ < 0`, any input is not
    /// finite, the capacity `cμ` overflows, or `λ ≥ cμ` (unstable queue).
    pub fn new(servers: u32, arrival_rps: f64, service_rps: f64) -> Option<Mmc> {
        let offered_load = Mmc::stable_load(servers, arrival_rps, service_rps)?;
        Some(Mmc {
            servers,
            arrival_rps,
            service_rps,
            wait_probability: erlang_c(servers, offered_load),
        })
    }

    /// The offered load `a = λ/μ` when [`Mmc::new`] would accept the
    /// inputs, `None` otherwise. `Mmc::new` is exactly this followed by
    /// `erlang_c(servers, a)`, so a memo of Erlang C keyed on
    /// `(servers, a)` reproduces it bit for bit.
    ///
    /// One test covers every refusal: `0 ≤ λ < cμ` with `cμ` finite fails
    /// for `c = 0`, `μ ≤ 0` (then `cμ ≤ 0 ≤ λ`), `μ` or `λ` not finite
    /// (`cμ` not finite, or `λ` NaN or infinite) and `λ < 0`. When it
    /// holds, `μ > 0` and `a = λ/μ` is finite: the product `cμ` rounds up
    /// by at most a relative 2⁻⁵³ or half a subnormal step, and `μ` is at
    /// least one such step, so `λ/μ < c + 1`.
    #[inline]
    pub(crate) fn stable_load(servers: u32, arrival_rps: f64, service_rps: f64) -> Option<f64> {
        let capacity = f64::from(servers) * service_rps;
        if !(capacity.is_finite() && arrival_rps >= 0.0 && arrival_rps < capacity) {
            return None;
        }
        let offered_load = arrival_rps / service_rps;
        debug_assert!(offered_load.is_finite());
        Some(offered_load)
    }

    /// Per-server utilisation `ρ = λ/(cμ)`, dimensionless, in `[0, 1)`.
    pub(crate) fn utilization(&self) -> f64 {
        self.arrival_rps / (f64::from(self.servers) * self.service_rps)
    }

    /// Decay rate `θ = cμ − λ` of the conditional waiting time, in 1/s.
    fn theta(&self) -> f64 {
        f64::from(self.servers) * self.service_rps - self.arrival_rps
    }

    /// Mean time spent queueing before service, `W_q = C/(cμ − λ)`, in
    /// seconds; finite and ≥ 0.
    pub(crate) fn mean_wait_s(&self) -> f64 {
        self.wait_probability / self.theta()
    }

    /// Mean response time (queueing plus service), `W = 1/μ + W_q`, in
    /// seconds; > 0.
    pub(crate) fn mean_response_s(&self) -> f64 {
        1.0 / self.service_rps + self.mean_wait_s()
    }

    /// Returns `(P(T > t), C·e^{−θt})` for finite `t ≥ 0`; the second value is
    /// the probability that the wait alone exceeds `t`.
    fn tail_parts(&self, t: f64) -> (f64, f64) {
        let tail = self.tail_given(t, (-(self.service_rps * t)).exp());
        let wait_tail = self.wait_probability * (-self.theta() * t).exp();
        (tail, wait_tail)
    }

    /// `P(T > t)` for finite `t ≥ 0`, given `exp_neg_mu_t` = e^{−μt}
    /// (computed as `(-(μ·t)).exp()`). When θ ≥ μ that is also the
    /// e^{−min(θ,μ)t} of the waiting term (`(−μ)·t` and `−(μ·t)` are the
    /// same float), so a caller that knows it saves both exponentials.
    #[inline(always)]
    fn tail_given(&self, t: f64, exp_neg_mu_t: f64) -> f64 {
        let mu = self.service_rps;
        let c = f64::from(self.servers);
        let theta = self.theta();
        // θ − μ written directly from the inputs.
        let delta = (c - 1.0) * mu - self.arrival_rps;
        let mu_t = mu * t;
        // μt·e^{−min(θ,μ)t}, in log form only if μt itself overflows.
        let scaled = if delta >= 0.0 {
            if mu_t.is_finite() {
                mu_t * exp_neg_mu_t
            } else {
                (mu.ln() + t.ln() - mu * t).exp()
            }
        } else if mu_t.is_finite() {
            mu_t * (-theta * t).exp()
        } else {
            (mu.ln() + t.ln() - theta * t).exp()
        };
        let waiting = self.wait_probability * scaled * one_minus_exp_over_x(delta.abs() * t);
        let tail = exp_neg_mu_t + waiting;
        tail.clamp(0.0, 1.0)
    }

    /// Probability `P(T > t)` that the response time `T` (wait plus service,
    /// in seconds) of an arriving request exceeds `t_s` seconds.
    ///
    /// Returns a value in `[0, 1]`: `1.0` for `t_s ≤ 0`, `0.0` for
    /// `t_s = +∞`, `NaN` for `NaN`. Non-increasing in `t_s`. Evaluated in a
    /// form without cancellation when `cμ − λ ≈ μ`; see the module notes.
    pub fn response_tail(&self, t_s: f64) -> f64 {
        if t_s.is_nan() {
            return f64::NAN;
        }
        if t_s <= 0.0 {
            return 1.0;
        }
        if t_s == f64::INFINITY {
            return 0.0;
        }
        self.tail_given(t_s, (-(self.service_rps * t_s)).exp())
    }

    /// [`Mmc::response_tail`] at `at`'s time, bit for bit, with `at`'s
    /// precomputed e^{−μt} when `at` was made for this queue's μ (saving
    /// one or two exponentials: the per-step SLO tail of the simulator).
    #[inline]
    pub fn response_tail_at(&self, at: &TailPoint) -> f64 {
        if !at.regular || self.service_rps.to_bits() != at.service_rps.to_bits() {
            return self.response_tail(at.t_s);
        }
        self.tail_given(at.t_s, at.exp_neg_mu_t)
    }

    /// The `q`-quantile of the response time in seconds: the smallest `t ≥ 0`
    /// with `P(T > t) ≤ 1 − q`, to about `1e-13` relative accuracy.
    ///
    /// `q` is a probability in `(0, 1)`. Returns `0.0` for `q ≤ 0`,
    /// `+∞` for `q ≥ 1`, and `NaN` for `NaN`. The root is bracketed by
    /// halving/doubling from the mean response time, then refined by Newton
    /// steps on `ln P(T > t)` with a bisection fallback; all loops are bounded.
    pub(crate) fn response_quantile_s(&self, q: f64) -> f64 {
        if q.is_nan() {
            return f64::NAN;
        }
        if q <= 0.0 {
            return 0.0;
        }
        if q >= 1.0 {
            return f64::INFINITY;
        }
        let target = 1.0 - q;
        match self.bracket(target) {
            Some((lo, hi)) => self.refine(lo, hi, target),
            None => f64::INFINITY,
        }
    }

    /// A bracket `(lo, hi)` of the `1 − target` quantile, with
    /// `tail(lo) > target >= tail(hi)`, found by halving or doubling from
    /// the mean response time; `None` when doubling runs out of range or
    /// steps (the quantile is +∞).
    fn bracket(&self, target: f64) -> Option<(f64, f64)> {
        let mean = self.mean_response_s();
        let start = if mean.is_finite() && mean > 0.0 {
            mean
        } else {
            1.0
        };
        let mut lo = 0.0_f64;
        let mut hi;
        if self.response_tail(start) <= target {
            hi = start;
            for _ in 0..MAX_BRACKET_STEPS {
                let half = 0.5 * hi;
                if half <= 0.0 {
                    break;
                }
                if self.response_tail(half) <= target {
                    hi = half;
                } else {
                    lo = half;
                    break;
                }
            }
        } else {
            lo = start;
            hi = 2.0 * start;
            let mut bracketed = false;
            for _ in 0..MAX_BRACKET_STEPS {
                if !hi.is_finite() {
                    return None;
                }
                if self.response_tail(hi) <= target {
                    bracketed = true;
                    break;
                }
                lo = hi;
                hi *= 2.0;
            }
            if !bracketed {
                return None;
            }
        }
        Some((lo, hi))
    }

    /// The `1 − target` quantile inside the bracket `(lo, hi)` of
    /// [`Mmc::bracket`].
    fn refine(&self, mut lo: f64, mut hi: f64, target: f64) -> f64 {
        let ln_target = target.ln();
        // Safeguarded Newton on F(t) = ln P(T > t) − ln(1 − q), whose slope is
        // −h(t) with hazard h(t) = μ·(1 − C·e^{−θt} / P(T > t)) > 0.
        let mu = self.service_rps;
        let mut t = 0.5 * (lo + hi);
        let mut step = hi - lo;
        let mut previous_step = step;
        for _ in 0..MAX_REFINE_STEPS {
            let (tail, wait_tail) = self.tail_parts(t);
            if tail == target {
                return t;
            }
            if tail < target {
                hi = t;
            } else {
                lo = t;
            }
            let residual = tail.ln() - ln_target;
            let hazard = mu * (1.0 - wait_tail / tail);
            let newton = t + residual / hazard;
            let newton_usable = residual.is_finite()
                && hazard.is_finite()
                && hazard > 0.0
                && newton > lo
                && newton < hi
                && (2.0 * residual).abs() <= (previous_step * hazard).abs();
            let next = if newton_usable {
                newton
            } else {
                0.5 * (lo + hi)
            };
            previous_step = step;
            step = (next - t).abs();
            if step <= QUANTILE_REL_TOL * next || hi - lo <= QUANTILE_REL_TOL * hi {
                return next;
            }
            t = next;
        }
        hi
    }

    /// 95th percentile of the response time in seconds,
    /// `response_quantile_s(0.95)`; finite and > 0.
    pub fn p95_s(&self) -> f64 {
        self.response_quantile_s(0.95)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Exp};
    use rand_pcg::Pcg64Mcg;

    /// `a^c/c!` over `Σ_{k=0}^{c} a^k/k!`, straight from the definition.
    fn direct_erlang_b(c: u32, a: f64) -> f64 {
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..=c {
            term *= a / f64::from(k);
            sum += term;
        }
        term / sum
    }

    /// Textbook Erlang C: `(a^c/c!)·c/(c−a)` over
    /// `Σ_{k<c} a^k/k! + (a^c/c!)·c/(c−a)`.
    fn direct_erlang_c(c: u32, a: f64) -> f64 {
        let mut term = 1.0;
        let mut below = 0.0;
        for k in 0..c {
            below += term;
            term *= a / f64::from(k + 1);
        }
        let cf = f64::from(c);
        let top = term * cf / (cf - a);
        top / (below + top)
    }

    fn close(actual: f64, expected: f64, tol: f64) -> bool {
        (actual - expected).abs() <= tol
    }

    #[test]
    fn erlang_b_with_one_server_is_a_over_one_plus_a() {
        for a in [0.0, 1e-9, 0.3, 1.0, 7.5, 1e6] {
            assert!(close(erlang_b(1, a), a / (1.0 + a), 1e-15), "a = {a}");
        }
    }

    #[test]
    fn erlang_b_and_c_agree_with_direct_factorial_sums_for_small_systems() {
        for c in 1..=30u32 {
            for frac in [0.05, 0.3, 0.6, 0.85, 0.97] {
                let a = frac * f64::from(c);
                let b = erlang_b(c, a);
                let cc = erlang_c(c, a);
                assert!(close(b, direct_erlang_b(c, a), 1e-13), "B c={c} a={a}");
                assert!(close(cc, direct_erlang_c(c, a), 1e-12), "C c={c} a={a}");
            }
        }
    }

    #[test]
    fn published_erlang_values_are_reproduced() {
        // Erlang C, 10 servers at 8 Erlangs: tables give 0.4092.
        let c10 = erlang_c(10, 8.0);
        assert!(close(c10, direct_erlang_c(10, 8.0), 1e-13));
        assert!(close(c10, 0.4092, 5e-5), "C(10, 8) = {c10}");
        // Erlang B, 5 servers at 3 Erlangs: tables give 0.1101.
        let b5 = erlang_b(5, 3.0);
        assert!(close(b5, direct_erlang_b(5, 3.0), 1e-14));
        assert!(close(b5, 0.1101, 5e-5), "B(5, 3) = {b5}");
        // Erlang C, 3 servers at 2 Erlangs is exactly 4/9.
        assert!(close(erlang_c(3, 2.0), 4.0 / 9.0, 1e-15));
    }

    #[test]
    fn two_unit_rate_servers_at_unit_load_wait_a_third_of_the_time() {
        let q = Mmc::new(2, 1.0, 1.0).unwrap();
        assert!(close(q.wait_probability, 1.0 / 3.0, 1e-15));
        assert!(close(q.mean_wait_s(), 1.0 / 3.0, 1e-15));
        assert!(close(q.mean_response_s(), 4.0 / 3.0, 1e-15));
        assert!(close(q.utilization(), 0.5, 1e-15));
    }

    #[test]
    fn a_single_server_reduces_to_mm1() {
        for (lambda, mu) in [(0.5, 1.0), (3.0, 4.0), (9.9, 10.0), (0.001, 250.0)] {
            let q = Mmc::new(1, lambda, mu).unwrap();
            let rho = lambda / mu;
            assert!(close(q.wait_probability, rho, 1e-14));
            let w = 1.0 / (mu - lambda);
            assert!(close(q.mean_response_s(), w, 1e-12 * w));
            for k in [0.0, 0.1, 1.0, 3.0, 10.0, 40.0] {
                let t = k * w;
                let expected = (-(mu - lambda) * t).exp();
                assert!(close(q.response_tail(t), expected, 1e-13), "t = {t}");
            }
            let p95 = 20.0_f64.ln() / (mu - lambda);
            assert!(close(q.p95_s(), p95, 1e-12 * p95), "{} vs {p95}", q.p95_s());
        }
    }

    #[test]
    fn large_systems_stay_finite_and_within_the_unit_interval() {
        for (c, rho) in [(1000u32, 0.95), (5000, 0.999), (2_000_000, 0.9999)] {
            let a = rho * f64::from(c);
            let b = erlang_b(c, a);
            let cc = erlang_c(c, a);
            assert!(b.is_finite() && (0.0..=1.0).contains(&b), "B = {b}");
            assert!(cc.is_finite() && (0.0..=1.0).contains(&cc), "C = {cc}");
            assert!(cc >= b);
            let q = Mmc::new(c, a * 2.0, 2.0).unwrap();
            assert!(q.mean_response_s().is_finite());
            let p95 = q.p95_s();
            assert!(p95.is_finite() && p95 > 0.0);
        }
    }

    #[test]
    fn degenerate_inputs_return_the_documented_values() {
        for x in [0.0, 0.5, 3.0, f64::INFINITY, f64::NAN] {
            assert_eq!(erlang_c(0, x), 1.0);
        }
        assert_eq!(erlang_c(4, 4.0), 1.0);
        assert_eq!(erlang_c(4, 9.0), 1.0);
        assert_eq!(erlang_c(4, f64::INFINITY), 1.0);
        assert_eq!(erlang_c(7, 0.0), 0.0);
        assert_eq!(erlang_b(7, 0.0), 0.0);
        assert_eq!(erlang_b(0, 2.0), 1.0);
        assert_eq!(erlang_b(3, f64::INFINITY), 1.0);
        assert!(erlang_b(3, -1.0).is_nan());
        assert!(erlang_c(3, f64::NAN).is_nan());

        assert!(Mmc::new(0, 1.0, 1.0).is_none());
        assert!(Mmc::new(2, 1.0, 0.0).is_none());
        assert!(Mmc::new(2, 1.0, -1.0).is_none());
        assert!(Mmc::new(2, -0.1, 1.0).is_none());
        assert!(Mmc::new(2, 2.0, 1.0).is_none());
        assert!(Mmc::new(2, f64::NAN, 1.0).is_none());
        assert!(Mmc::new(2, 1.0, f64::INFINITY).is_none());
        assert!(Mmc::new(u32::MAX, 1.0, f64::MAX).is_none());

        let idle = Mmc::new(3, 0.0, 2.0).unwrap();
        assert_eq!(idle.wait_probability, 0.0);
        assert_eq!(idle.mean_wait_s(), 0.0);
        assert!(close(idle.response_tail(1.0), (-2.0_f64).exp(), 1e-15));
    }

    #[test]
    fn quantile_edge_cases_follow_the_documentation() {
        let q = Mmc::new(4, 3.0, 1.0).unwrap();
        assert_eq!(q.response_quantile_s(0.0), 0.0);
        assert_eq!(q.response_quantile_s(-2.0), 0.0);
        assert_eq!(q.response_quantile_s(1.0), f64::INFINITY);
        assert!(q.response_quantile_s(f64::NAN).is_nan());
        // 1 − 1e-300 rounds to 1, so the answer collapses to (nearly) zero.
        let tiny = q.response_quantile_s(1e-300);
        assert!((0.0..1e-300).contains(&tiny), "{tiny}");
        // Small q: T ≈ q / f(0) with density f(0) = μ(1 − C); the rounding of
        // 1 − q limits the relative accuracy to about 1e-6 here.
        let small = q.response_quantile_s(1e-10);
        let approx = 1e-10 / (1.0 - q.wait_probability);
        assert!(close(small, approx, 1e-5 * approx), "{small} vs {approx}");
        let extreme = q.response_quantile_s(1.0 - 1e-16);
        assert!(extreme.is_finite() && extreme > q.p95_s());
    }

    #[test]
    fn the_tail_starts_at_one_and_vanishes_at_infinity() {
        for (c, lambda, mu) in [(1, 0.5, 1.0), (2, 1.0, 1.0), (17, 12.0, 0.9)] {
            let q = Mmc::new(c, lambda, mu).unwrap();
            assert_eq!(q.response_tail(0.0), 1.0);
            assert_eq!(q.response_tail(-3.0), 1.0);
            assert_eq!(q.response_tail(f64::INFINITY), 0.0);
            assert_eq!(q.response_tail(f64::MAX), 0.0);
            assert!(q.response_tail(f64::NAN).is_nan());
        }
    }

    #[test]
    fn the_theta_equals_mu_limit_matches_its_closed_form_and_is_continuous() {
        // c = 2, λ = μ = 1 gives θ = 2 − 1 = μ exactly; c = 3, μ = 2, λ = 4 too.
        for (c, mu) in [(2u32, 1.0), (3, 2.0)] {
            let lambda = f64::from(c - 1) * mu;
            let q = Mmc::new(c, lambda, mu).unwrap();
            let cw = q.wait_probability;
            for t in [1e-6, 0.01, 0.5, 1.0, 4.0, 25.0] {
                let limit = (-mu * t).exp() * (1.0 + cw * mu * t);
                let got = q.response_tail(t);
                assert!(close(got, limit, 1e-15), "t = {t}: {got} vs {limit}");
                for sign in [-1.0, 1.0] {
                    // θ = μ(1 ± 1e-9) by shifting λ by ∓1e-9·μ.
                    let nearby = Mmc::new(c, lambda - sign * 1e-9 * mu, mu).unwrap();
                    let theta = f64::from(c) * mu - nearby.arrival_rps;
                    assert!(close(theta / mu, 1.0 + sign * 1e-9, 1e-12));
                    assert!(close(nearby.response_tail(t), got, 1e-8));
                }
            }
        }
        let q = Mmc::new(2, 1.0, 1.0).unwrap();
        let t = 2.0;
        assert!(close(
            q.response_tail(t),
            (-t).exp() * (1.0 + t / 3.0),
            1e-15
        ));
    }

    /// Seeded FCFS M/M/c event simulation; each arrival, in order, takes the
    /// server that frees up first, which reproduces FCFS waiting times
    /// (Kiefer–Wolfowitz recursion). Batch means give standard errors that
    /// account for the autocorrelation of consecutive response times.
    #[test]
    fn a_monte_carlo_simulation_agrees_with_the_formulas() {
        const SERVERS: usize = 3;
        const WARMUP: usize = 20_000;
        const BATCHES: usize = 50;
        const BATCH_LEN: usize = 4_000;
        let (lambda, mu) = (2.4, 1.0);
        let model = Mmc::new(SERVERS as u32, lambda, mu).unwrap();
        let times = [0.5, 2.0, 5.0];

        let mut rng = Pcg64Mcg::seed_from_u64(20_240_611);
        let gaps = Exp::new(lambda).unwrap();
        let work = Exp::new(mu).unwrap();
        let mut free_at = [0.0_f64; SERVERS];
        let mut clock = 0.0_f64;
        // Per batch: [sum of T, count T > times[0], ..[1], ..[2]].
        let mut sums = [[0.0_f64; 4]; BATCHES];
        for i in 0..WARMUP + BATCHES * BATCH_LEN {
            clock += gaps.sample(&mut rng);
            let mut idx = 0;
            for s in 1..SERVERS {
                if free_at[s] < free_at[idx] {
                    idx = s;
                }
            }
            let done = clock.max(free_at[idx]) + work.sample(&mut rng);
            free_at[idx] = done;
            if i >= WARMUP {
                let response = done - clock;
                let row = &mut sums[(i - WARMUP) / BATCH_LEN];
                row[0] += response;
                for (k, &t) in times.iter().enumerate() {
                    if response > t {
                        row[k + 1] += 1.0;
                    }
                }
            }
        }

        let expected = [
            model.mean_response_s(),
            model.response_tail(times[0]),
            model.response_tail(times[1]),
            model.response_tail(times[2]),
        ];
        for (k, &exact) in expected.iter().enumerate() {
            let means: Vec<f64> = sums.iter().map(|r| r[k] / BATCH_LEN as f64).collect();
            let n = BATCHES as f64;
            let grand = means.iter().sum::<f64>() / n;
            let var = means.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / (n - 1.0);
            let se = (var / n).sqrt();
            // The check must be informative, not vacuous.
            assert!(se < 0.1 * exact, "stat {k}: se = {se}, exact {exact}");
            assert!(
                (grand - exact).abs() <= 4.0 * se,
                "stat {k}: simulated {grand} vs exact {exact}, se {se}"
            );
        }
    }

    fn arbitrary_queue() -> impl Strategy<Value = Mmc> {
        (1u32..200, 1e-4..0.999f64, 0.1..100.0f64).prop_map(|(c, rho, mu)| {
            let lambda = rho * f64::from(c) * mu;
            Mmc::new(c, lambda, mu).unwrap()
        })
    }

    proptest! {
        #[test]
        fn the_tail_is_non_increasing_in_time(q in arbitrary_queue(), span in 0.1..60.0f64) {
            // Grid over [0, span·W]; allow a few ulps of rounding.
            let w = q.mean_response_s();
            let mut previous = q.response_tail(0.0);
            prop_assert_eq!(previous, 1.0);
            for i in 1..=256 {
                let t = span * w * f64::from(i) / 256.0;
                let p = q.response_tail(t);
                prop_assert!((0.0..=1.0).contains(&p));
                prop_assert!(p <= previous * (1.0 + 8.0 * f64::EPSILON), "t = {}: {} > {}", t, p, previous);
                previous = p;
            }
        }

        #[test]
        fn the_quantile_inverts_the_tail(q in arbitrary_queue(), level in 1e-6..0.999_999f64) {
            let t = q.response_quantile_s(level);
            prop_assert!(t.is_finite() && t > 0.0);
            let p = q.response_tail(t);
            prop_assert!((p - (1.0 - level)).abs() <= 1e-9, "tail({}) = {} vs {}", t, p, 1.0 - level);
            // Smallest such t: slightly earlier the tail is still above 1 − q.
            if level <= 0.999 {
                prop_assert!(q.response_tail(t * (1.0 - 1e-9)) > 1.0 - level);
                prop_assert!(q.response_tail(t * (1.0 + 1e-9)) < 1.0 - level);
            }
        }
    }

    proptest! {
        #[test]
        fn the_tail_at_a_precomputed_point_is_the_tail_bit_for_bit(
            q in arbitrary_queue(), t in prop_oneof![Just(0.5), 1e-4..100.0f64, Just(0.0), Just(f64::INFINITY)],
        ) {
            let at = TailPoint::new(q.service_rps, t);
            prop_assert_eq!(q.response_tail_at(&at).to_bits(), q.response_tail(t).to_bits());
            // A point made for another μ falls back to the full formula.
            let other = TailPoint::new(q.service_rps * 2.0, t);
            prop_assert_eq!(q.response_tail_at(&other).to_bits(), q.response_tail(t).to_bits());
        }
    }

    // Issue #15 (performance): the single test of `stable_load` refuses
    // exactly what the separate checks it replaced refused.
    #[test]
    fn stable_load_refuses_what_the_separate_checks_refused() {
        fn separate_checks(servers: u32, arrival_rps: f64, service_rps: f64) -> Option<f64> {
            if servers == 0 || !arrival_rps.is_finite() || !service_rps.is_finite() {
                return None;
            }
            if service_rps <= 0.0 || arrival_rps < 0.0 {
                return None;
            }
            let capacity = f64::from(servers) * service_rps;
            if !capacity.is_finite() || arrival_rps >= capacity {
                return None;
            }
            let offered_load = arrival_rps / service_rps;
            offered_load.is_finite().then_some(offered_load)
        }
        let tiny = f64::from_bits(1);
        let values = [
            0.0,
            -0.0,
            tiny,
            3.0 * tiny,
            -tiny,
            f64::MIN_POSITIVE,
            1e-300,
            0.5,
            1.0,
            2.0,
            19.999_999_999_999_996,
            20.0,
            1e6,
            1e300,
            f64::MAX,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for servers in [0, 1, 2, 3, 20, 1_000_000, u32::MAX] {
            for &arrival_rps in &values {
                for &service_rps in &values {
                    let got = Mmc::stable_load(servers, arrival_rps, service_rps);
                    let want = separate_checks(servers, arrival_rps, service_rps);
                    assert_eq!(
                        got.map(f64::to_bits),
                        want.map(f64::to_bits),
                        "c = {servers}, λ = {arrival_rps:e}, μ = {service_rps:e}"
                    );
                }
            }
        }
    }
}
