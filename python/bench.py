"""Steps per second of qscale's environments from Python.

    python python/bench.py [--seconds 3] [--trace traces/diurnal-test-2d.csv]

Measures one ScalingEnv stepped from Python, and VectorScalingEnv with
several numbers of environments, for each latency mode. Actions are drawn
at random from the agent's action set beforehand (a worst case for the
fleet: it jumps between sizes). Each figure is given per second of wall
time and per second of this process's CPU time ("on a core"), as the
machine may be shared; the vector env runs on one thread.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import qscale

REPO = Path(__file__).resolve().parent.parent


def timed(step, seconds: float, per_call: int):
    """Calls ``step()`` until ``seconds`` of wall time pass; returns steps per
    second of wall time and of CPU time."""
    calls = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    deadline = wall0 + seconds
    while True:
        for _ in range(64):
            step()
        calls += 64
        if time.perf_counter() >= deadline:
            break
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    return calls * per_call / wall, calls * per_call / max(cpu, 1e-9)


def bench_single(trace: str, latency: str, seconds: float):
    env = qscale.ScalingEnv(trace=trace, latency=latency)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, env.action_space.n, 4096).tolist()
    state = {"i": 0}

    def step():
        i = state["i"]
        state["i"] = i + 1
        _, _, _, truncated, _ = env.step(actions[i & 4095])
        if truncated:
            env.reset()

    return timed(step, seconds, 1)


def bench_vector(trace: str, n: int, latency: str, copy: bool, seconds: float):
    env = qscale.VectorScalingEnv(n, trace=trace, latency=latency, copy=copy)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, env.single_action_space.n, (64, n))
    state = {"i": 0}

    def step():
        i = state["i"]
        state["i"] = i + 1
        env.step(actions[i & 63])

    return timed(step, seconds, n)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per figure")
    parser.add_argument("--trace", default=str(REPO / "traces" / "diurnal-test-2d.csv"))
    parser.add_argument("--envs", default="16,256,1024", help="vector sizes")
    args = parser.parse_args()
    print(f"trace {os.path.relpath(args.trace)}, {args.seconds:g} s per figure, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'environment':<34} {'steps/s':>12} {'on a core':>12}")
    for latency in ["p95", "mean", "off"]:
        wall, cpu = bench_single(args.trace, latency, args.seconds)
        print(f"{'ScalingEnv, latency=' + latency:<34} {wall:>12,.0f} {cpu:>12,.0f}")
    for n in [int(x) for x in args.envs.split(",")]:
        for latency in ["p95", "mean", "off"]:
            wall, cpu = bench_vector(args.trace, n, latency, True, args.seconds)
            name = f"VectorScalingEnv({n}), latency={latency}"
            print(f"{name:<34} {wall:>12,.0f} {cpu:>12,.0f}")


if __name__ == "__main__":
    main()
