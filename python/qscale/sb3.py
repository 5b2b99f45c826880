"""qscale's vector environment for Stable-Baselines3.

Stable-Baselines3's ``VecEnv`` API differs from Gymnasium's: ``reset()``
returns the observations only (seeds are set beforehand with ``seed()``),
``step_async``/``step_wait`` return ``(obs, rewards, dones, infos)`` with
``infos`` a list of dicts, and an environment whose episode ends is reset in
the same step: ``obs`` is already the next episode's first observation, the
last one is ``infos[i]["terminal_observation"]``, and
``infos[i]["TimeLimit.truncated"]`` is true (the trace ran out: a
truncation, so the value bootstraps).

:class:`SB3VecEnv` subclasses Stable-Baselines3's ``VecEnv`` when it is
installed, and is a plain class with the same methods otherwise (qscale does
not depend on it).
"""

from __future__ import annotations

from typing import Any, List, Optional

import numpy as np
from gymnasium import spaces

from ._args import Overrides
from .env import _core, _Seeds, observation_space

try:
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv as _Base

    HAVE_SB3 = True
except ImportError:  # qscale works without Stable-Baselines3
    _Base = object
    HAVE_SB3 = False


class SB3VecEnv(_Base):  # type: ignore[misc, valid-type]
    """``num_envs`` qscale environments for Stable-Baselines3, stepped
    together in Rust. Environment ``i`` behaves as a
    :class:`qscale.ScalingEnv` reset with seed ``seed + i`` (after
    ``seed(seed)``), then with no seed after each episode. Arguments as
    :class:`qscale.ScalingEnv`; rewards are float32, as Stable-Baselines3's
    ``DummyVecEnv`` gives them."""

    def __init__(
        self,
        num_envs: int,
        config=None,
        trace=None,
        overrides: Overrides = None,
        action: str = "agent",
        latency: str = "p95",
    ):
        self._core = _core(config, trace, overrides, num_envs, action, "same-step", latency)
        self.render_mode = None
        obs_space = observation_space(*self._core.bounds)
        act_space = spaces.Discrete(self._core.n_actions)
        if HAVE_SB3:
            super().__init__(num_envs, obs_space, act_space)
        else:
            self.num_envs = num_envs
            self.observation_space = obs_space
            self.action_space = act_space
            self.reset_infos: List[dict] = [{} for _ in range(num_envs)]
            self._seeds: List[Optional[int]] = [None] * num_envs
            self._options: List[dict] = [{} for _ in range(num_envs)]
            self.metadata = {"render_modes": []}
        (
            self._obs,
            self._reward,
            _terminated,
            self._truncated,
            _info,
            _stepped,
            self._reset_mask,
            self._final,
        ) = self._core.buffers()
        self._episode_seeds = _Seeds(num_envs)
        self._actions: Optional[np.ndarray] = None

    # The VecEnv API.

    def reset(self) -> np.ndarray:
        """Starts an episode in every env, with the seeds set by ``seed()``
        (then forgotten, as Stable-Baselines3 does)."""
        first, following = self._episode_seeds.reset(list(self._seeds))
        self._core.reset_all(first, following)
        self._seeds = [None] * self.num_envs
        self._options = [{} for _ in range(self.num_envs)]
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._obs.copy()

    def step_async(self, actions) -> None:
        self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("step_wait() without step_async()")
        actions, self._actions = self._actions, None
        infos: List[dict] = [{} for _ in range(self.num_envs)]
        if self._core.step(actions):
            for i in np.flatnonzero(self._reset_mask):
                infos[i]["terminal_observation"] = self._final[i].copy()
                infos[i]["TimeLimit.truncated"] = True
            self._episode_seeds.refill(self._core, self._reset_mask)
        dones = self._truncated.copy()
        return self._obs.copy(), self._reward.astype(np.float32), dones, infos

    def step(self, actions):
        """``step_async`` then ``step_wait``."""
        self.step_async(actions)
        return self.step_wait()

    def seed(self, seed: Optional[int] = None) -> List[Optional[int]]:
        """Seeds the next ``reset()``: env ``i`` with ``seed + i``."""
        if seed is None:
            seed = int(np.random.randint(0, np.iinfo(np.uint32).max, dtype=np.uint32))
        self._seeds = [seed + i for i in range(self.num_envs)]
        return list(self._seeds)

    def set_options(self, options=None) -> None:
        """qscale's environments take no reset options."""
        if options:
            raise ValueError(f"unknown reset options: {options}")

    def close(self) -> None:
        pass

    def _indices(self, indices) -> List[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int):
            return [indices]
        return list(indices)

    def get_attr(self, attr_name: str, indices=None) -> List[Any]:
        """The attribute of each env (they share this object's)."""
        return [getattr(self, attr_name) for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *args, indices=None, **kwargs) -> List[Any]:
        raise AttributeError(
            f"qscale's environments live in Rust: there is no {method_name}() to call on each"
        )

    def env_is_wrapped(self, wrapper_class, indices=None) -> List[bool]:
        return [False for _ in self._indices(indices)]

    def get_images(self):
        return [None for _ in range(self.num_envs)]

    def render(self, mode: Optional[str] = None):
        return None
