"""The seed step's thread settings: the NumPy limit and PyTorch eager, each at 1 and 2 BLAS /
intra-op threads, timed round-robin (`_timing.paired_samples`), every engine's median ratio to
the limit at 1 thread and at 2. A ratio of PyTorch at 2 threads to the limit at 1 compares
thread counts, not libraries.

    python -m bench.seed_threads [--sizes 64x256x256,1024x1024x1024] [--rounds N]

Run as its own process: the other bench modules pin the BLAS to one thread before NumPy loads
(OPENBLAS_NUM_THREADS=1), and an OpenBLAS started that way may not grow its pool.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from backends import threads
from bench import seed_graph
from bench._setup import make_setup
from bench._timing import paired_ratio, paired_samples

ROUNDS = {"64x256x256": 61, "1024x1024x1024": 11}


def engines_for(problem: seed_graph.Problem, torch: Any, setup: Any
                ) -> dict[str, tuple[Callable[[], None], int]]:
    """Each engine as a batch of back-to-back calls (about `seed_graph.TARGET` seconds) that
    first sets its thread count, and the number of calls in it."""
    x, y, w, b = problem.x, problem.y, problem.w, problem.b
    torch_step = seed_graph.step_of(torch, problem, "cpu")

    def limit() -> Any:
        return seed_graph.limit_step(np, x, y, w, b)

    made: dict[str, tuple[Callable[[], None], int]] = {}
    for count in (1, 2):
        for name, step in ((f"numpy limit, {count} thread", limit),
                           (f"torch eager, {count} thread", torch_step)):
            _set_threads(count, torch)
            calls = seed_graph.calls_per_timing(step, setup, seed_graph.TARGET)
            made[name + "s" * (count > 1)] = (_batch(count, step, calls, torch), calls)
    return made


def _set_threads(count: int, torch: Any) -> None:
    threads.set_num_threads(count)
    torch.set_num_threads(count)


def _batch(count: int, step: Callable[[], Any], calls: int, torch: Any) -> Callable[[], None]:
    def run() -> None:
        _set_threads(count, torch)
        for _ in range(calls):
            step()

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed_threads")
    parser.add_argument("--sizes", default="64x256x256,1024x1024x1024")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("error: PyTorch is not installed", file=sys.stderr)
        return 2
    if not threads.controllable():
        print("error: the BLAS thread count cannot be set here", file=sys.stderr)
        return 2
    setup = make_setup("cpu", with_torch=False)
    print(f"# seed step, NumPy limit and PyTorch {torch.__version__} eager at 1 and 2 threads "
          f"({len(threads.loaded_blas())} BLAS found)")
    for size in args.sizes.split(","):
        problem = seed_graph.make_problem(size)
        engines = engines_for(problem, torch, setup)
        rounds = args.rounds or ROUNDS.get(size, 11)
        samples = paired_samples({name: batch for name, (batch, _) in engines.items()},
                                 rounds=rounds, number=1, warmup=1)
        per_call = {name: [seconds / engines[name][1] for seconds in times]
                    for name, times in samples.items()}
        one, two = "numpy limit, 1 thread", "numpy limit, 2 threads"
        print(f"\n{size} ({rounds} rounds)")
        print(f"{'engine':24}  {'median':>10}  {'vs limit@1':>10}  {'vs limit@2':>10}")
        for name, times in per_call.items():
            print(f"{name:24}  {statistics.median(times) * 1e3:8.3f} ms  "
                  f"{paired_ratio(per_call, name, one):9.2f}x  "
                  f"{paired_ratio(per_call, name, two):9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
