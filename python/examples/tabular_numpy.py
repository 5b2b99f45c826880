"""A tabular Q-learning agent in numpy, trained on qscale's environment and
compared with the rules and the oracle on the same unseen trace and seed.

    python python/examples/tabular_numpy.py [--episodes 30]

It trains on the 5 synthetic diurnal days of experiments/agent-diurnal.toml
and is scored on the 2 other days, as `qscale compare` scores the rules
there. The state is the offered load per VM (6 buckets), the trend's sign
and whether VMs are booting; the actions are the Q-learning agent's
(target utilisations the fleet is sized for, the episode's peak, hold).
"""

import argparse
from pathlib import Path

import numpy as np

import qscale

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "experiments" / "agent-diurnal.toml"
TRAIN = REPO / "traces" / "diurnal-train-5d.csv"
TEST = REPO / "traces" / "diurnal-test-2d.csv"

F = {name: i for i, name in enumerate(qscale.FEATURES)}
LOAD_EDGES = np.array([0.3, 0.5, 0.7, 0.85, 1.0])


def state(obs) -> int:
    load = int(np.searchsorted(LOAD_EDGES, obs[F["load_per_vm"]], side="right"))
    trend = int(np.sign(obs[F["trend_rps"]])) + 1
    booting = int(obs[F["vms_booting"]] > 0)
    return (load * 3 + trend) * 2 + booting


N_STATES = (len(LOAD_EDGES) + 1) * 3 * 2


def episode(env, q, seed, epsilon, rng, alpha=0.1, gamma=0.95):
    """One episode; learns when epsilon > 0. Returns cost + penalty (USD)."""
    obs, _ = env.reset(seed=seed)
    s, total, done = state(obs), 0.0, False
    while not done:
        if rng.random() < epsilon:
            a = int(rng.integers(q.shape[1]))
        else:
            a = int(np.argmax(q[s]))
        obs, reward, terminated, truncated, _ = env.step(a)
        s2 = state(obs)
        total -= reward
        if epsilon > 0:
            # Rewards in USD per step are small: scale them for the table.
            target = reward * 10 + (0.0 if terminated else gamma * q[s2].max())
            q[s, a] += alpha * (target - q[s, a])
        s, done = s2, terminated or truncated
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    train = qscale.ScalingEnv(config=CONFIG, trace=TRAIN, latency="off")
    q = np.zeros((N_STATES, train.action_space.n))
    for e in range(args.episodes):
        epsilon = max(0.02, 0.5 * 0.9**e)
        score = episode(train, q, args.seed * 1000 + e, epsilon, rng)
        print(f"training episode {e + 1:3d}: ${score:8.2f} (epsilon {epsilon:.2f})")

    test = qscale.ScalingEnv(config=CONFIG, trace=TEST)
    ours = episode(test, q, args.seed, 0.0, rng)
    print(f"\ncost + penalty on {TEST.name}, seed {args.seed}:")
    print(f"  {'numpy agent':<12} ${ours:8.2f}")
    for policy in ["hpa", "threshold", "oracle"]:
        summary, _ = qscale.run(policy=policy, config=CONFIG, trace=TEST, seed=args.seed)
        print(f"  {policy:<12} ${summary['score_usd']:8.2f}")


if __name__ == "__main__":
    main()
