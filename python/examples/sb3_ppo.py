"""PPO or DQN from Stable-Baselines3 on qscale's environment, compared with
the rules and the oracle on the same unseen trace and seed.

    pip install stable-baselines3            # brings PyTorch: large
    python python/examples/sb3_ppo.py [--algo ppo|dqn] [--steps 200000]

Trains on the 5 synthetic diurnal days of experiments/agent-diurnal.toml
(8 environments stepped together in Rust for PPO, one for DQN) and scores
the greedy policy on the 2 other days. Not run in CI.
"""

import argparse
from pathlib import Path

import numpy as np

import qscale

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "experiments" / "agent-diurnal.toml"
TRAIN = REPO / "traces" / "diurnal-train-5d.csv"
TEST = REPO / "traces" / "diurnal-test-2d.csv"


class Normalise:
    """Scales the raw features (req/s, VMs, requests) to about [0, 1] for a
    neural network, from the config's bounds and the training trace's peak."""

    def __init__(self, env):
        peak = float(np.max(qscale.run(policy="static", config=CONFIG, trace=TRAIN,
                                       seed=1)[1]["arrivals"])) / env.step_s
        f = {n: 1.0 for n in qscale.FEATURES}
        max_vms = float(env.observation_space.high[qscale.FEATURES.index("max_vms")])
        for n in ["vms_running", "vms_booting", "min_vms", "max_vms"]:
            f[n] = max_vms
        for n in ["arrival_rps", "trend_rps"]:
            f[n] = peak
        for n in ["backlog", "slo_violations", "dropped"]:
            f[n] = peak * env.step_s
        f["latency_mean_s"] = 1.0
        self.scale = np.array([f[n] for n in qscale.FEATURES], dtype=np.float32)

    def __call__(self, obs):
        return np.clip(obs / self.scale, -10, 10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algo", choices=["ppo", "dqn"], default="ppo")
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import gymnasium as gym
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.vec_env import VecNormalize

    single = qscale.ScalingEnv(config=CONFIG, trace=TRAIN)
    norm = Normalise(single)
    if args.algo == "ppo":
        env = qscale.SB3VecEnv(8, config=CONFIG, trace=TRAIN, latency="mean")
        env = VecNormalize(env, norm_obs=True, norm_reward=True)
        model = PPO("MlpPolicy", env, n_steps=1024, batch_size=256, seed=args.seed, verbose=1)
    else:
        env = gym.wrappers.TransformObservation(
            single, norm, gym.spaces.Box(-10, 10, single.observation_space.shape, np.float32))
        model = DQN("MlpPolicy", env, learning_starts=5_000, seed=args.seed, verbose=1)
    model.learn(total_timesteps=args.steps)

    test = qscale.ScalingEnv(config=CONFIG, trace=TEST)
    obs, _ = test.reset(seed=args.seed)
    total, done = 0.0, False
    while not done:
        if args.algo == "ppo":
            x = env.normalize_obs(obs[None])[0]
        else:
            x = norm(obs)
        action, _ = model.predict(x, deterministic=True)
        obs, reward, terminated, truncated, _ = test.step(int(action))
        total -= reward
        done = terminated or truncated
    print(f"\ncost + penalty on {TEST.name}, seed {args.seed}:")
    print(f"  {args.algo:<10} ${total:8.2f}")
    for policy in ["hpa", "qlearning", "oracle"]:
        summary, _ = qscale.run(policy=policy, config=CONFIG, trace=TEST, seed=args.seed)
        print(f"  {policy:<10} ${summary['score_usd']:8.2f}")


if __name__ == "__main__":
    main()
