"""qscale's environment for Gymnasium: one (:class:`ScalingEnv`) or many
stepped together in Rust (:class:`VectorScalingEnv`).

Observation: a float32 vector of the features in :data:`qscale.FEATURES`
(see docs/python.md for units and bounds). Action: ``Discrete`` over the
Q-learning agent's action set (``action="agent"``, the default: with the
default demand design, the SLO demand of the recent or the episode's peak
rate with some headroom, and "hold"), or over VM counts ``0..cloud.max_vms``
(``action="target"``; the environment clamps to ``cloud.min_vms``). Reward:
``-(cost + penalty)`` of the step in USD, as in ``steps.csv``. The end of the
trace is ``truncated`` (never ``terminated``).
"""

from __future__ import annotations

import dataclasses
import operator
from itertools import repeat
from typing import Any, Optional, Sequence, Union

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import VectorEnv
from gymnasium.vector.utils import batch_space

from . import _qscale
from ._args import Overrides, draw_seed, fspath, override_args

try:  # gymnasium >= 1.1
    from gymnasium.vector import AutoresetMode

    _NEXT_STEP: Any = AutoresetMode.NEXT_STEP
except ImportError:  # gymnasium 1.0: next-step is the only mode
    _NEXT_STEP = "NextStep"

_F32_MAX = float(np.finfo(np.float32).max)

#: The id :class:`ScalingEnv` is registered under: ``gymnasium.make(ENV_ID,
#: trace=...)`` makes one.
ENV_ID = "qscale/Scaling-v0"


def observation_space(min_vms: float, max_vms: float) -> spaces.Box:
    """The observation space for fleets bounded by ``[min_vms, max_vms]``."""
    big = _F32_MAX
    bounds = {
        "utilization": (0.0, 1.0),
        "vms_running": (0.0, max_vms),
        "vms_booting": (0.0, max_vms),
        "arrival_rps": (0.0, big),
        "trend_rps": (-big, big),
        "load_per_vm": (0.0, big),
        "backlog": (0.0, big),
        "latency_mean_s": (0.0, big),
        "slo_violations": (0.0, big),
        "dropped": (0.0, big),
        "time_of_day_sin": (-1.0, 1.0),
        "time_of_day_cos": (-1.0, 1.0),
        # Constant in an episode; a Box whose low equals its high is
        # flagged by Gymnasium's checker, so they range over [0, max_vms].
        "min_vms": (0.0, max(max_vms, 1.0)),
        "max_vms": (0.0, max(max_vms, 1.0)),
    }
    low = np.array([bounds[f][0] for f in _qscale.FEATURES], dtype=np.float32)
    high = np.array([bounds[f][1] for f in _qscale.FEATURES], dtype=np.float32)
    return spaces.Box(low, high, dtype=np.float32)


def _core(config, trace, overrides, num_envs, action, autoreset, latency):
    return _qscale.Core(
        config=fspath(config),
        trace=fspath(trace),
        overrides=override_args(overrides),
        num_envs=num_envs,
        action=action,
        autoreset=autoreset,
        latency=latency,
    )


class ScalingEnv(gym.Env):
    """One qscale environment: a trace replayed against the cloud model.

    Args:
        config: a qscale TOML config file (paths in it relative to it), or
            ``None`` for the defaults.
        trace: the trace CSV (relative to the working directory), as
            ``qscale run --trace``; else the config's ``workload.trace``.
        overrides: ``{"section.key": value}`` applied after the file, as the
            command line's ``--set section.key=value``.
        action: ``"agent"`` (the agent's action set) or ``"target"`` (a VM
            count).
        latency: ``"p95"`` (the default: each step's mean and 95th-percentile
            latency, as ``steps.csv`` has them), ``"mean"`` (no p95: NaN in
            ``info``; a root search per step saved) or ``"off"`` (no latency:
            ``latency_mean_s`` reads 0 in the observation and NaN in
            ``info``, and the utilisation is served / capacity of the step,
            the model's value up to rounding; several times faster). Rewards
            and request counts are the same in every mode.

    Raises:
        ValueError: a bad config, key, value or trace, with the command
            line's message.
        OSError: a file that cannot be read (FileNotFoundError if missing).
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        config=None,
        trace=None,
        overrides: Overrides = None,
        action: str = "agent",
        latency: str = "p95",
    ):
        self._core = _core(config, trace, overrides, 1, action, "off", latency)
        # The spec `gymnasium.make(ENV_ID, **kwargs)` would give (and
        # replaces when it makes this env): it lets a checker make a twin.
        kwargs = dict(config=config, trace=trace, overrides=overrides, action=action, latency=latency)
        self.spec = dataclasses.replace(gym.spec(ENV_ID), kwargs=kwargs)
        self.observation_space = observation_space(*self._core.bounds)
        self.action_space = spaces.Discrete(self._core.n_actions)
        self.render_mode = None
        name, steps, step_s = self._core.trace
        self.trace_name, self.trace_steps, self.step_s = name, steps, step_s

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        """Starts an episode: with ``seed``, the episode of that seed (the
        command line's ``--seed``); without, the next seed drawn from
        ``np_random`` (seeded by the last ``seed`` given)."""
        super().reset(seed=seed)
        if options:
            raise ValueError(f"unknown reset options: {sorted(options)}")
        episode_seed = seed if seed is not None else draw_seed(self.np_random)
        return self._core.reset_one(episode_seed), {}

    def step(self, action):
        """Simulates one step. ``info`` holds the step's row of
        ``steps.csv``: cost_usd, penalty_usd, slo_violations, dropped,
        latency_mean_s, latency_p95_s (NaN when not computed), VMs, etc."""
        obs, reward, truncated, info = self._core.step_one(_action_index(action))
        return obs, reward, False, truncated, info


def _action_index(action) -> int:
    if isinstance(action, np.ndarray) and action.shape == ():
        action = action.item()
    return operator.index(action)


def _seed_list(seed, n) -> list:
    if seed is None:
        return [None] * n
    if isinstance(seed, (int, np.integer)):
        return [int(seed) + i for i in range(n)]
    seeds = list(seed)
    if len(seeds) != n:
        raise ValueError(f"expected {n} seeds, got {len(seeds)}")
    return seeds


class _Seeds:
    """Per environment: the np_random its episode seeds are drawn from, as
    :meth:`ScalingEnv.reset` draws them, and the seed drawn for its next
    episode (held by the Rust core too, for autoreset)."""

    def __init__(self, n: int):
        self.rngs: list = [None] * n
        self.pending: list = [None] * n

    def reset(self, seed) -> tuple:
        """Episode seeds for a reset with ``seed``, and the next ones."""
        first = []
        for i, s in enumerate(_seed_list(seed, len(self.rngs))):
            if s is not None or self.rngs[i] is None:
                self.rngs[i] = seeding.np_random(s)[0]
                first.append(s if s is not None else draw_seed(self.rngs[i]))
            else:
                first.append(self.pending[i])
            self.pending[i] = draw_seed(self.rngs[i])
        return first, list(self.pending)

    def refill(self, core, reset_mask: np.ndarray) -> None:
        """Draws the next seed of every env that just started an episode."""
        for i in np.flatnonzero(reset_mask):
            self.pending[i] = draw_seed(self.rngs[i])
            core.set_next_seed(int(i), self.pending[i])


class VectorScalingEnv(VectorEnv):
    """``num_envs`` qscale environments on one trace, stepped together in Rust
    (the GIL released, results written into numpy buffers).

    Environment ``i`` behaves exactly as a :class:`ScalingEnv` with the same
    arguments reset with seed ``seed + i`` (or ``seed[i]``), then with no seed
    after each episode. Autoreset is next-step (Gymnasium's default): the step
    after an episode's last starts the next episode, ignores its action and
    returns reward 0 and that env's ``info`` masked out.

    ``info`` is a dict of arrays, one per column of :data:`qscale.INFO` (as
    float64), each with its ``"_name"`` mask. With ``copy=False`` the arrays
    returned are the env's own buffers, overwritten by the next call.
    Other arguments as :class:`ScalingEnv`.
    """

    metadata = {"autoreset_mode": _NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int,
        config=None,
        trace=None,
        overrides: Overrides = None,
        action: str = "agent",
        latency: str = "p95",
        copy: bool = True,
    ):
        self._core = _core(config, trace, overrides, num_envs, action, "next-step", latency)
        self.num_envs = num_envs
        self.copy = copy
        self.render_mode = None
        self.single_observation_space = observation_space(*self._core.bounds)
        self.single_action_space = spaces.Discrete(self._core.n_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        (
            self._obs,
            self._reward,
            self._terminated,
            self._truncated,
            self._info,
            self._stepped,
            self._reset,
            _final,
        ) = self._core.buffers()
        self._seeds = _Seeds(num_envs)
        self._names = list(_qscale.INFO)
        self._masks = ["_" + n for n in self._names]
        # With copy=False, info is this dict of views of the buffers.
        self._info_views = dict(zip(self._names, self._info))
        self._info_views.update(zip(self._masks, repeat(self._stepped)))

    def reset(
        self,
        *,
        seed: Optional[Union[int, Sequence[Optional[int]]]] = None,
        options: Optional[dict] = None,
    ):
        """Starts an episode in every env (``seed``: an int for ``seed + i``,
        a list of one per env, or ``None``)."""
        if options:
            raise ValueError(f"unknown reset options: {sorted(options)}")
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(
                seed if isinstance(seed, (int, np.integer)) else None
            )
        first, following = self._seeds.reset(seed)
        self._core.reset_all(first, following)
        obs = self._obs.copy() if self.copy else self._obs
        return obs, {}

    def step(self, actions):
        if self._core.step(np.asarray(actions, dtype=np.int64)):
            self._seeds.refill(self._core, self._reset)
        if not self.copy:
            return (self._obs, self._reward, self._terminated, self._truncated,
                    self._info_views)
        stepped = self._stepped.copy()
        info = dict(zip(self._names, self._info.copy()))
        info.update(zip(self._masks, repeat(stepped)))
        return (self._obs.copy(), self._reward.copy(), self._terminated.copy(),
                self._truncated.copy(), info)

    def close_extras(self, **kwargs):
        pass


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="qscale.env:ScalingEnv")
