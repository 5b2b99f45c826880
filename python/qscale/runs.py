"""One run of a policy from Python, as ``qscale run`` makes it."""

from __future__ import annotations

from typing import Optional

from . import _qscale
from ._args import Overrides, fspath, override_args


def run(
    policy: Optional[str] = None,
    config=None,
    trace=None,
    seed: Optional[int] = None,
    overrides: Overrides = None,
):
    """Runs ``policy`` (``"static"``, ``"threshold"``, ``"step"``,
    ``"target"``, ``"hpa"``, ``"predictive"``, ``"oracle"`` or
    ``"qlearning"``; default the config's ``policy.kind``) on ``trace`` with
    ``seed`` (default the config's first ``experiment.seeds``), exactly as
    ``qscale run --config CONFIG --policy POLICY --trace TRACE --seed SEED
    --set KEY=VALUE...``. ``qlearning`` is trained first, on
    ``experiment.train_traces`` (or the trace itself), and run greedy.

    Returns ``(summary, steps)``: the row of ``summary.csv`` as a dict, and
    the columns of ``steps.csv`` as numpy arrays (whole numbers as int64;
    empty cells as NaN or ``None``).

    Raises ValueError (bad config, key, policy or trace) or OSError (a file
    that cannot be read) with the command line's message.
    """
    return _qscale.run(
        policy=policy,
        config=fspath(config),
        trace=fspath(trace),
        seed=seed,
        overrides=override_args(overrides),
    )
