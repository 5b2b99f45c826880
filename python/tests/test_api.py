"""qscale.run, overrides, and errors with the command line's messages."""

import subprocess
import sys

import numpy as np
import pytest

import qscale
from conftest import REPO, TINY_CONFIG, TRACE


def cli_message(binary, *args):
    """The message `qscale run ARGS` prints after `error: `."""
    done = subprocess.run(
        [binary, "run", *args, "--out", "/nonexistent/never-written"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ")
    return done.stderr[len("error: "):].strip()


BAD = [
    # (kwargs, exception, CLI arguments, words of the message)
    (dict(trace="traces/diurnal-test-2d.csv", overrides={"cloud.max_vm": 3}), ValueError,
     ["--trace", "traces/diurnal-test-2d.csv", "--set", "cloud.max_vm=3"],
     "--set cloud.max_vm=3: unknown field `max_vm`"),
    (dict(trace="traces/diurnal-test-2d.csv", overrides={"cloud.max_vms": 0}), ValueError,
     ["--trace", "traces/diurnal-test-2d.csv", "--set", "cloud.max_vms=0"],
     "cloud.max_vms = 0 is out of range: must be >= 1"),
    (dict(trace="traces/diurnal-test-2d.csv", overrides={"cloud.max_vms": "abc"}), ValueError,
     ["--trace", "traces/diurnal-test-2d.csv", "--set", "cloud.max_vms=abc"],
     "--set cloud.max_vms=abc: invalid type: string \"abc\""),
    (dict(trace="traces/nope.csv"), FileNotFoundError,
     ["--trace", "traces/nope.csv"], "cannot read trace traces/nope.csv"),
    (dict(trace="tests/data/malformed.csv"), ValueError,
     ["--trace", "tests/data/malformed.csv"], "tests/data/malformed.csv:3:2: field `requests`"),
    (dict(config="nope.toml"), FileNotFoundError,
     ["--config", "nope.toml"], "cannot read config nope.toml"),
]


@pytest.fixture
def in_repo(monkeypatch):
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize("kwargs,error,_args,words", BAD)
def test_bad_inputs_raise_with_the_cli_message(in_repo, kwargs, error, _args, words):
    for make in (qscale.ScalingEnv, lambda **k: qscale.VectorScalingEnv(2, **k), qscale.run):
        with pytest.raises(error) as raised:
            make(**kwargs)
        assert words in str(raised.value)


@pytest.mark.parametrize("kwargs,error,args,_words", BAD)
def test_the_messages_are_exactly_the_cli_messages(in_repo, cli, kwargs, error, args, _words):
    with pytest.raises(error) as raised:
        qscale.ScalingEnv(**kwargs)
    assert str(raised.value) == cli_message(cli, *args)


def test_other_misuse_raises_and_never_crashes():
    with pytest.raises(ValueError, match="unknown policy `nope`"):
        qscale.run(policy="nope", trace=TRACE)
    with pytest.raises(ValueError, match="no trace given"):
        qscale.ScalingEnv()
    with pytest.raises(ValueError, match='action must be "agent" or "target"'):
        qscale.ScalingEnv(trace=TRACE, action="change")
    env = qscale.ScalingEnv(trace=TRACE)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not in the action space"):
        env.step(8)
    with pytest.raises(TypeError):
        env.step(1.5)
    with pytest.raises(OverflowError):
        env.reset(seed=2**64)


def test_overrides_take_python_values_as_the_cli_takes_set():
    env = qscale.ScalingEnv(
        trace=TRACE,
        overrides={"agent.design": "scale-free",
                   "cloud.max_vms": 12, "workload.noise": "none", "agent.targets": [0.5, 0.8],
                   "agent.hold": False, "workload.scale": 0.5},
    )
    assert env.action_space.n == 3  # two targets and the episode's peak
    list_style = qscale.ScalingEnv(
        trace=TRACE, overrides=["agent.design=scale-free", "cloud.max_vms=12", "workload.noise=none",
                                "agent.targets=[0.5, 0.8]", "agent.hold=false",
                                "workload.scale=0.5"])
    a = [env.reset(seed=1)[0]] + [env.step(1)[0] for _ in range(50)]
    b = [list_style.reset(seed=1)[0]] + [list_style.step(1)[0] for _ in range(50)]
    np.testing.assert_array_equal(np.stack(a), np.stack(b))


@pytest.mark.parametrize("policy", ["hpa", "oracle", "qlearning"])
def test_run_returns_the_summary_and_the_step_columns(policy):
    summary, steps = qscale.run(
        policy=policy, config=TINY_CONFIG, seed=7, overrides={"agent.episodes": 5})
    assert summary["policy"] == policy and summary["trace"] == "tiny"
    assert summary["seed"] == 7 and summary["steps"] == 30
    assert steps["reward"].shape == (30,) and steps["vms_running"].dtype == np.int64
    assert steps["cost_usd"].sum() == pytest.approx(summary["cost_usd"], rel=1e-11)
    again, again_steps = qscale.run(
        policy=policy, config=TINY_CONFIG, seed=7, overrides={"agent.episodes": 5})
    assert again == summary
    np.testing.assert_array_equal(again_steps["reward"], steps["reward"])


def test_the_numpy_example_runs():
    done = subprocess.run(
        [sys.executable, str(REPO / "python" / "examples" / "tabular_numpy.py"),
         "--episodes", "3"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "hpa" in done.stdout and "oracle" in done.stdout


def test_an_agent_action_set_too_large_to_tabulate_is_refused():
    edges = [i / 1000 for i in range(1, 1000)]
    with pytest.raises(ValueError, match="Q-table would have"):
        qscale.ScalingEnv(trace=TRACE, overrides={
            "agent.load_edges": edges, "agent.volatility_edges": edges,
            "agent.trend_edges": [i / 100 for i in range(-90, 90)]})
