"""Python arguments as the command line's: ``overrides`` as ``--set`` strings,
seeds as Gymnasium draws them."""

from __future__ import annotations

import json
import math
import os
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

Overrides = Optional[Union[Mapping[str, Any], Sequence[str]]]

# Episode seeds are drawn below 2**63 from the environment's np_random.
_SEED_BOUND = 2**63 - 1


def _toml(value: Any, top: bool) -> str:
    """A value as the text after ``=`` of a ``--set``."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return repr(f)
    if isinstance(value, str):
        # Top-level strings go as typed on the command line (`hpa`, or a
        # TOML value); inside a list they are quoted.
        return value if top else json.dumps(value)
    if isinstance(value, os.PathLike):
        return json.dumps(os.fspath(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v, False) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{k} = {_toml(v, False)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(f"cannot pass a {type(value).__name__} as a config value")


def override_args(overrides: Overrides) -> list:
    """``{"cloud.max_vms": 40}`` (or ``["cloud.max_vms=40"]``) as the
    command line's ``--set cloud.max_vms=40`` arguments, in order."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [f"{key}={_toml(value, True)}" for key, value in overrides.items()]
    if isinstance(overrides, str):
        return [overrides]
    return [str(o) for o in overrides]


def fspath(path) -> Optional[str]:
    """A path argument as a string (``None`` stays ``None``)."""
    return None if path is None else os.fspath(path)


def draw_seed(rng: np.random.Generator) -> int:
    """The seed of an episode started without one, from the env's np_random."""
    return int(rng.integers(_SEED_BOUND, dtype=np.int64))
