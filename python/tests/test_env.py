"""ScalingEnv: Gymnasium's checker, seeding, truncation, the CLI's numbers."""

import csv
import subprocess
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import qscale
from conftest import GOLDEN, REPO, TINY_CONFIG, TRACE


@pytest.mark.parametrize("action", ["agent", "target"])
def test_check_env_passes_without_a_warning(action):
    env = qscale.ScalingEnv(trace=TRACE, action=action)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env)


def test_gymnasium_make_builds_the_registered_env():
    env = gym.make(qscale.ENV_ID, trace=str(TRACE))
    obs, _ = env.reset(seed=1)
    assert obs.shape == (len(qscale.FEATURES),) and obs.dtype == np.float32
    assert env.observation_space.contains(obs)


def test_spaces_follow_the_action_mode_and_bounds():
    agent = qscale.ScalingEnv(trace=TRACE)
    target = qscale.ScalingEnv(trace=TRACE, action="target", overrides={"cloud.max_vms": 40})
    # The default demand agent: 3 headrooms over the recent peak, 2 over
    # the episode's peak, and "hold".
    assert agent.action_space == gym.spaces.Discrete(6)
    assert target.action_space == gym.spaces.Discrete(41)
    obs, _ = target.reset(seed=0)
    features = dict(zip(qscale.FEATURES, obs))
    assert features["min_vms"] == 1 and features["max_vms"] == 40


def trajectory(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append((obs, reward, terminated, truncated, info))
        if truncated:
            break
    return out


def same(a, b):
    """Equal trajectories, bit for bit (NaN equal to NaN)."""
    assert len(a) == len(b)
    np.testing.assert_array_equal(a[0], b[0])
    for x, y in zip(a[1:], b[1:]):
        np.testing.assert_array_equal(x[0], y[0])
        assert x[1:4] == y[1:4]
        assert x[4].keys() == y[4].keys()
        for k in x[4]:
            np.testing.assert_array_equal(x[4][k], y[4][k])


def test_the_same_seed_gives_the_same_trajectory():
    actions = np.random.default_rng(1).integers(0, 6, 500)
    a = trajectory(qscale.ScalingEnv(trace=TRACE), 5, actions)
    b = trajectory(qscale.ScalingEnv(trace=TRACE), 5, actions)
    same(a, b)
    c = trajectory(qscale.ScalingEnv(trace=TRACE), 6, actions)
    assert [s[1] for s in a[1:]] != [s[1] for s in c[1:]]


def test_resets_without_a_seed_continue_the_seeded_sequence():
    def episodes(env):
        rewards = []
        env.reset(seed=9)
        for _ in range(3):
            total, done = 0.0, False
            while not done:
                _, r, _, done, _ = env.step(3)
                total += r
            rewards.append(total)
            env.reset()
        return rewards

    first = episodes(qscale.ScalingEnv(config=TINY_CONFIG))
    assert first == episodes(qscale.ScalingEnv(config=TINY_CONFIG))
    assert len(set(first)) == 3  # each episode has its own noise


def test_the_trace_end_truncates_and_never_terminates():
    env = qscale.ScalingEnv(config=TINY_CONFIG)
    assert env.trace_steps == 30
    env.reset(seed=1)
    flags = [env.step(1)[2:4] for _ in range(env.trace_steps)]
    assert flags[:-1] == [(False, False)] * 29
    assert flags[-1] == (False, True)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(1)
    env.reset()
    env.step(1)


def read_steps(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def replay(env, seed, rows):
    """Steps `env` with the target VM counts of a steps.csv; returns its
    rewards, costs and penalties."""
    env.reset(seed=seed)
    out = []
    for row in rows:
        _, reward, _, truncated, info = env.step(int(row["target_vms"]))
        out.append((reward, info["cost_usd"], info["penalty_usd"], truncated))
    return out


def test_replaying_the_golden_threshold_run_gives_its_rewards():
    # tests/golden/tiny_threshold_steps.csv is `qscale run --config
    # tests/data/tiny.toml --seed 7`'s steps.csv (policy threshold).
    rows = read_steps(GOLDEN / "tiny_threshold_steps.csv")
    got = replay(qscale.ScalingEnv(config=TINY_CONFIG, action="target"), 7, rows)
    want = [(float(r["reward"]), float(r["cost_usd"]), float(r["penalty_usd"])) for r in rows]
    # The CSV writes amounts to 12 significant digits (see csv_number).
    assert [g[:3] for g in got] == [pytest.approx(w, rel=1e-11) for w in want]
    assert [g[3] for g in got] == [False] * (len(rows) - 1) + [True]


def test_replaying_the_cli_threshold_run_gives_its_rewards(cli, tmp_path):
    out = tmp_path / "run"
    subprocess.run(
        [cli, "run", "--trace", TRACE, "--policy", "threshold", "--seed", "3", "--out", out],
        check=True, capture_output=True, cwd=REPO,
    )
    rows = read_steps(out / "steps.csv")
    got = replay(qscale.ScalingEnv(trace=TRACE, action="target"), 3, rows)
    written = [pytest.approx(float(r["reward"]), rel=1e-11) for r in rows]
    assert [g[0] for g in got] == written
    # qscale.run gives the same steps and summary.
    summary, steps = qscale.run(policy="threshold", trace=TRACE, seed=3)
    assert steps["reward"].tolist() == written
    (cli_summary,) = read_steps(out / "summary.csv")
    assert summary["score_usd"] == float(cli_summary["score_usd"])
    assert summary["policy"] == "threshold" and summary["seed"] == 3


def test_info_holds_the_steps_csv_columns():
    env = qscale.ScalingEnv(trace=TRACE)
    env.reset(seed=2)
    _, reward, _, _, info = env.step(0)
    assert list(info) == list(qscale.INFO)
    assert reward == -(info["cost_usd"] + info["penalty_usd"])
    assert isinstance(info["vms_running"], int) and info["latency_p95_s"] > 0
    lean = qscale.ScalingEnv(trace=TRACE, latency="off")
    lean.reset(seed=2)
    _, lean_reward, _, _, lean_info = lean.step(0)
    assert lean_reward == reward and np.isnan(lean_info["latency_mean_s"])
    assert lean_info["utilization"] == pytest.approx(info["utilization"], rel=1e-12)
