"""qscale from Python: its cloud autoscaling model as Gymnasium environments,
and its runs (the rules, the Q-learning agent and the clairvoyant oracle).

- :class:`ScalingEnv`: one environment, a :class:`gymnasium.Env`.
- :class:`VectorScalingEnv`: N environments stepped together in Rust, a
  :class:`gymnasium.vector.VectorEnv` (next-step autoreset).
- :class:`SB3VecEnv`: the same for Stable-Baselines3 (its ``VecEnv`` API).
- :func:`run`: one run of a policy, as ``qscale run`` makes it.

The model is the Rust crate's; configurations, overrides and error messages
are the command line's (see the repository's docs/python.md and
docs/configuration.md).
"""

from ._qscale import FEATURES, INFO
from .env import ENV_ID, ScalingEnv, VectorScalingEnv, observation_space
from .runs import run
from .sb3 import SB3VecEnv

__all__ = [
    "ENV_ID",
    "FEATURES",
    "INFO",
    "SB3VecEnv",
    "ScalingEnv",
    "VectorScalingEnv",
    "observation_space",
    "run",
]
