//! Per-episode randomisation of a training workload (`agent.randomise`).
//!
//! Training on the same traces at the same scale every episode teaches
//! the agent only the states those traces visit. With randomisation, each
//! episode replays a new variant of its training trace, drawn from the
//! stream [`Stream::Randomise`] keyed by the training seed and the episode,
//! so training stays deterministic:
//!
//! 1. **Offset and stretch**: the variant has the trace's length; step `i`
//!    reads the trace at `(offset + i · (1/f)) mod len` (linear interpolation,
//!    wrapping around), with `offset` uniform over the trace and the
//!    stretch `f` log-uniform in `agent.random_stretch` (`f > 1` slows the
//!    trace down, `f < 1` speeds it up and repeats it).
//! 2. **Bursts and drops**: a Poisson number of events, on average
//!    `agent.random_bursts_per_day` per day of trace time; each multiplies
//!    the load from a uniform start for a duration log-uniform between one
//!    step and 4 hours by a factor log-uniform in
//!    `[1 / random_burst_max, random_burst_max]`.
//! 3. **Noise**: every step is multiplied by `max(0, 1 + cv·Z)`, `Z`
//!    standard normal, `cv = agent.random_noise_cv`.
//! 4. **Peak**: the variant is scaled so that its peak rate is a fraction
//!    `p` of the fleet's capacity (`cloud.max_vms · cloud.vm_capacity_rps`),
//!    `p` log-uniform in `agent.random_peak`.
//! 5. **Counts**: each step's count is rounded to a whole number and, above
//!    1000, to three significant digits (a change under 0.1 %, far inside
//!    the noise of step 3, that lets the simulator's memo of queues serve
//!    the counts of earlier episodes again). The environment replays the
//!    variant as it is ([`crate::cloud::Noise::None`]): the noise of
//!    step 3 stands in for `workload.noise` in training.
//!
//! Log-uniform draws use `exp(uniform(ln lo, ln hi))`.

use rand::Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

use super::{AgentConfig, AgentSetup};
use crate::cloud::Workload;
use crate::rng::{rng_for, SimRng, Stream};

/// The longest injected burst or drop, seconds.
const BURST_MAX_S: f64 = 4.0 * 3600.0;

/// The variant of `base` that training episode `episode` of a training run
/// with `seed` replays (see the module docs); `base` itself (a copy) when
/// `agent.randomise` is off.
pub(crate) fn episode_workload<'a>(
    base: &Workload,
    config: impl Into<AgentSetup<'a>>,
    seed: u64,
    episode: u64,
) -> Workload {
    let config: AgentSetup<'a> = config.into();
    let a = &config.agent;
    if !a.randomise || base.arrivals.is_empty() {
        return base.clone();
    }
    let mut rng = rng_for(seed, episode, Stream::Randomise);
    let mut arrivals = offset_and_stretch(base, a.random_stretch, &mut rng);
    add_bursts(&mut arrivals, base.step_s, a, &mut rng);
    add_noise(&mut arrivals, a.random_noise_cv, &mut rng);
    let full = [
        f64::from(config.cloud.max_vms),
        config.cloud.vm_capacity_rps,
        base.step_s,
    ];
    let factor = peak_factor(&arrivals, full, a.random_peak, &mut rng);
    // Steps 4 and 5 in one pass: scaled, then whole counts.
    arrivals.iter_mut().for_each(|x| *x = quantise(*x * factor));

    Workload {
        name: base.name.clone(),
        start_s: base.start_s,
        step_s: base.step_s,
        arrivals,
    }
}

/// Step 1: `base` read from a random offset at a random speed (see the
/// module docs), wrapping around.
fn offset_and_stretch(base: &Workload, stretch_range: [f64; 2], rng: &mut SimRng) -> Vec<f64> {
    let len = base.arrivals.len();
    let n = len as f64;
    let offset = rng.random_range(0.0..n);
    let stretch = log_uniform(rng, stretch_range);
    let step = 1.0 / stretch;
    (0..len)
        .map(|i| {
            // (offset + i · (1/f)) mod n; positions are ≥ 0, so
            // truncation is the floor.
            // Through i64, the conversions are single instructions (the
            // same values: positions are far below 2^53).
            let mut x = offset + i as i64 as f64 * step;
            while x >= n {
                x -= n;
            }
            let lo = (x as i64 as usize).min(len - 1);
            let hi = if lo + 1 == len { 0 } else { lo + 1 };
            let w = x - lo as i64 as f64;
            base.arrivals[lo] * (1.0 - w) + base.arrivals[hi] * w
        })
        .collect()
}

/// Step 2: bursts and drops, `agent.random_bursts_per_day` on average.
fn add_bursts(arrivals: &mut [f64], step_s: f64, a: &AgentConfig, rng: &mut SimRng) {
    let len = arrivals.len();
    let n = len as f64;
    let days = n * step_s / 86_400.0;
    let mean_events = a.random_bursts_per_day * days;
    let events = if mean_events > 0.0 {
        Poisson::new(mean_events).map_or(0.0, |p| p.sample(rng))
    } else {
        0.0
    };
    let longest = (BURST_MAX_S / step_s).max(1.0);
    let ln_max = a.random_burst_max.ln();
    for _ in 0..events as u64 {
        let start = rng.random_range(0..len);
        let steps = log_uniform(rng, [1.0, longest]).round().max(1.0) as usize;
        let factor = if ln_max > 0.0 {
            rng.random_range(-ln_max..ln_max).exp()
        } else {
            1.0
        };
        for x in arrivals.iter_mut().skip(start).take(steps) {
            *x *= factor;
        }
    }
}

/// Step 3: multiplicative noise of coefficient of variation `cv`.
fn add_noise(arrivals: &mut [f64], cv: f64, rng: &mut SimRng) {
    if cv > 0.0 {
        for x in arrivals.iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            *x *= (1.0 + cv * z).max(0.0);
        }
    }
}

/// Step 4: the factor that scales `arrivals` so that the peak count is a
/// log-uniform share (from `share_range`) of the most the largest fleet
/// serves in a step, `max_vms · vm_capacity_rps · step_s` (`full`,
/// multiplied in that order); 1 (no change) when there is no load.
fn peak_factor(arrivals: &[f64], full: [f64; 3], share_range: [f64; 2], rng: &mut SimRng) -> f64 {
    let peak_share = log_uniform(rng, share_range);
    let peak = arrivals.iter().copied().fold(0.0, f64::max);
    if peak > 0.0 {
        let [max_vms, vm_capacity_rps, step_s] = full;
        let want = peak_share * max_vms * vm_capacity_rps * step_s;
        want / peak
    } else {
        1.0
    }
}

/// The highest count per second a variant can reach under `config`: its
/// largest peak rate (multiply by the step length for a count).
pub(crate) fn max_count<'a>(config: impl Into<AgentSetup<'a>>) -> f64 {
    let config: AgentSetup<'a> = config.into();
    config.agent.random_peak[1] * f64::from(config.cloud.max_vms) * config.cloud.vm_capacity_rps
}

/// `x` rounded to a whole count, and above 1000 to three significant
/// digits.
fn quantise(x: f64) -> f64 {
    let (mut quantum, mut limit) = (1.0, 1000.0);
    while x >= limit && limit < 1e300 {
        quantum *= 10.0;
        limit *= 10.0;
    }
    // Half up (x ≥ 0), as `round`, without its library call. Below 2^63
    // (always, but for absurd counts) the i64 conversions give the same
    // whole number as the u64 ones in one instruction each.
    let half_up = x / quantum + 0.5;
    let whole = if (0.0..9.2e18).contains(&half_up) {
        half_up as i64 as f64
    } else {
        half_up as u64 as f64
    };
    whole * quantum
}

/// `exp(uniform(ln lo, ln hi))`; `lo` when the range is a point.
fn log_uniform(rng: &mut SimRng, [lo, hi]: [f64; 2]) -> f64 {
    if hi > lo {
        rng.random_range(lo.ln()..hi.ln()).exp()
    } else {
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn base() -> Workload {
        Workload {
            name: "w".into(),
            start_s: 0.0,
            step_s: 60.0,
            arrivals: (0..1440)
                .map(|i| 6000.0 + 3000.0 * (f64::from(i) / 229.0).sin())
                .collect(),
        }
    }

    #[test]
    fn without_randomisation_the_workload_is_exactly_the_trace() {
        let mut config = Config::default();
        config.agent.randomise = false;
        for episode in 0..3 {
            assert_eq!(episode_workload(&base(), &config, 7, episode), base());
        }
    }

    #[test]
    fn a_variant_is_a_pure_function_of_seed_and_episode() {
        let config = Config::default();
        let a = episode_workload(&base(), &config, 7, 3);
        let b = episode_workload(&base(), &config, 7, 3);
        let bits = |w: &Workload| w.arrivals.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        assert_ne!(a, episode_workload(&base(), &config, 7, 4));
        assert_ne!(a, episode_workload(&base(), &config, 8, 3));
    }

    #[test]
    fn variants_keep_the_length_and_stay_within_the_fleet() {
        let config = Config::default();
        let capacity = f64::from(config.cloud.max_vms) * config.cloud.vm_capacity_rps * 60.0;
        let mut peaks = Vec::new();
        for episode in 0..40 {
            let w = episode_workload(&base(), &config, 1, episode);
            assert_eq!(w.len(), base().len());
            assert!(w.arrivals.iter().all(|&x| x >= 0.0 && x == x.round()));
            let peak = w.arrivals.iter().copied().fold(0.0, f64::max);
            // Within the rounding to three significant digits.
            assert!(peak <= 0.8 * capacity * 1.001, "{peak}");
            assert!(peak >= 0.1 * capacity * 0.999, "{peak}");
            peaks.push(peak);
        }
        // Peaks spread over the range.
        let (lo, hi) = peaks
            .iter()
            .fold((f64::MAX, 0.0f64), |(l, h), &p| (l.min(p), h.max(p)));
        assert!(hi / lo > 3.0, "{lo} {hi}");
    }
}
