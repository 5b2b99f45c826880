"""VectorScalingEnv and SB3VecEnv: the same trajectories as single envs."""

import numpy as np
import pytest
from gymnasium.vector import VectorEnv

import qscale
from conftest import TINY_CONFIG, TRACE

N = 3
SEED = 11


def singles_next_step(actions):
    """What N ScalingEnv give under Gymnasium's next-step autoreset: env i
    reset with SEED + i, then with no seed after each episode; the step after
    an episode's end resets it (action ignored, reward 0)."""
    envs = [qscale.ScalingEnv(config=TINY_CONFIG) for _ in range(N)]
    obs = [e.reset(seed=SEED + i)[0] for i, e in enumerate(envs)]
    ended = [False] * N
    steps = []
    for row in actions:
        out = []
        for i, (env, a) in enumerate(zip(envs, row)):
            if ended[i]:
                o, _ = env.reset()
                out.append((o, 0.0, False, None))
                ended[i] = False
            else:
                o, r, _, trunc, info = env.step(a)
                out.append((o, r, trunc, info))
                ended[i] = trunc
        steps.append(out)
    return obs, steps


def test_the_vector_env_steps_as_n_single_envs_with_the_same_seeds():
    # 30-step trace, 75 steps: two autoresets per env.
    actions = np.random.default_rng(0).integers(0, 6, (75, N))
    first, want = singles_next_step(actions)
    env = qscale.VectorScalingEnv(N, config=TINY_CONFIG)
    assert isinstance(env, VectorEnv)
    obs, _ = env.reset(seed=SEED)
    np.testing.assert_array_equal(obs, np.stack(first))
    for row, expected in zip(actions, want):
        obs, rewards, terminated, truncated, info = env.step(row)
        assert not terminated.any()
        for i, (o, r, trunc, single_info) in enumerate(expected):
            np.testing.assert_array_equal(obs[i], o)
            assert rewards[i] == r and truncated[i] == trunc
            assert info["_cost_usd"][i] == (single_info is not None)
            if single_info is not None:
                for k in qscale.INFO:
                    np.testing.assert_array_equal(info[k][i], single_info[k])


def test_the_vector_env_is_deterministic_and_its_spaces_are_batched():
    def run():
        env = qscale.VectorScalingEnv(4, trace=TRACE, action="target", copy=True)
        obs, _ = env.reset(seed=[3, 1, 4, 1])
        assert env.observation_space.contains(obs)
        rewards = []
        for a in np.random.default_rng(2).integers(0, 51, (200, 4)):
            rewards.append(env.step(a)[1])
        return np.array(rewards)

    a, b = run(), run()
    np.testing.assert_array_equal(a, b)
    # Envs 1 and 3 share seed 1 and get different actions; env 0 differs.
    assert not np.array_equal(a[:, 0], a[:, 1])


def test_vector_actions_out_of_the_space_are_refused():
    env = qscale.VectorScalingEnv(2, trace=TRACE)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action 8 of environment 1"):
        env.step(np.array([0, 8]))
    with pytest.raises(ValueError, match="expected 2 actions"):
        env.step(np.array([0]))


# Stable-Baselines3's VecEnv methods (stable_baselines3.common.vec_env.VecEnv).
SB3_METHODS = [
    "reset", "step_async", "step_wait", "step", "close", "get_attr", "set_attr",
    "env_method", "env_is_wrapped", "seed", "set_options", "get_images", "render",
]


def test_the_sb3_adapter_has_the_vec_env_api_and_same_step_autoreset():
    env = qscale.SB3VecEnv(N, config=TINY_CONFIG)
    for name in SB3_METHODS:
        assert callable(getattr(env, name)), name
    assert env.num_envs == N
    assert env.get_attr("render_mode") == [None] * N
    assert env.env_is_wrapped(object) == [False] * N
    assert env.seed(SEED) == [SEED + i for i in range(N)]

    singles = [qscale.ScalingEnv(config=TINY_CONFIG) for _ in range(N)]
    want = np.stack([e.reset(seed=SEED + i)[0] for i, e in enumerate(singles)])
    obs = env.reset()
    np.testing.assert_array_equal(obs, want)
    actions = np.random.default_rng(5).integers(0, 6, (70, N))
    for row in actions:
        env.step_async(row)
        obs, rewards, dones, infos = env.step_wait()
        assert rewards.dtype == np.float32 and dones.dtype == bool
        assert isinstance(infos, list) and len(infos) == N
        for i, (single, a) in enumerate(zip(singles, row)):
            o, r, _, trunc, _ = single.step(a)
            assert rewards[i] == np.float32(r) and dones[i] == trunc
            if trunc:
                # Same-step autoreset: the last observation is in info.
                np.testing.assert_array_equal(infos[i]["terminal_observation"], o)
                assert infos[i]["TimeLimit.truncated"] is True
                o, _ = single.reset()
            else:
                assert infos[i] == {}
            np.testing.assert_array_equal(obs[i], o)
