//! Seeded random streams: the only place the simulator makes RNGs.
//!
//! Every stream is a ChaCha8 generator (stable across `rand` versions and
//! platforms) keyed by the master seed, the run index and the purpose, so
//! that streams never share state: changing how often the agent explores
//! cannot shift the workload noise of the same run.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator used for every stream.
pub(crate) type SimRng = ChaCha8Rng;

/// What a stream is used for. The discriminant enters the key, so it must
/// never change for an existing purpose (append new ones at the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Stream {
    /// Poisson arrival noise of the workload.
    Workload = 1,
    // 2 was `Boot` (boot-time draws), never drawn from: not to be reused.
    /// Exploration of a learning policy.
    Exploration = 3,
    /// Anything else a policy draws (tie-breaking, model sampling).
    Policy = 4,
    /// The agent's per-episode randomisation of its training workload.
    Randomise = 5,
    /// Request arrival instants and service times of the request-level
    /// model.
    Requests = 6,
    /// Boot times of launched VMs (`cloud.boot` other than `"fixed"`).
    BootTimes = 7,
}

/// One reproducible stream per (master seed, run, purpose).
///
/// `run` identifies the run inside a larger experiment (a training
/// episode, a sweep cell): it is a grid index, never a thread or shard
/// position, so results do not depend on how work is split.
pub(crate) fn rng_for(master_seed: u64, run: u64, stream: Stream) -> SimRng {
    let mut z =
        master_seed ^ run.rotate_left(32) ^ (stream as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64 finaliser: nearby keys give unrelated seeds.
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ChaCha8Rng::seed_from_u64(z ^ (z >> 31))
}

/// A seed for sub-run `run` of `master` (a training episode, say):
/// splitmix64 of the pair, so neighbouring runs get unrelated seeds.
pub(crate) fn derive_seed(master: u64, run: u64) -> u64 {
    let mut z = master ^ run.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_key_gives_the_same_stream_and_different_keys_differ() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(rng_for(7, 0, Stream::Workload), |r, _: u64| {
                Some(r.random())
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(rng_for(7, 0, Stream::Workload), |r, _: u64| {
                Some(r.random())
            })
            .collect();
        assert_eq!(a, b);
        let mut c = rng_for(7, 0, Stream::Exploration);
        let mut d = rng_for(7, 1, Stream::Workload);
        let first = a[0];
        assert_ne!(c.random::<u64>(), first);
        assert_ne!(d.random::<u64>(), first);
    }
}
