"""What accuracy costs: float32 cumsum and var accumulated in float64 (PyTorch's CPU kernels),
vector_norm's overflow check, float16 mean in float32. Each case times autodiff (forward, no
graph) against hand-written NumPy doing the same accumulation (the limit) and NumPy's plain
float32/float16 version (fast and less accurate), paired round by round (see _timing.py); the
last column is each engine's largest relative error against float64.

    python -m bench.accumulation            # 10^7 elements
    python -m bench.accumulation --quick    # 10^6, fewer rounds
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
from bench._timing import paired

Case = tuple[str, dict[str, Callable[[], Any]], Callable[[], Any]]


def _relative_error(result: Any, exact: np.ndarray) -> float:
    values = np.asarray(result.numpy() if hasattr(result, "numpy") else result, dtype=np.float64)
    return float(np.max(np.abs(values - exact)) / np.max(np.abs(exact)))


def cases(n: int) -> list[Case]:
    rng = np.random.default_rng(0)
    x32 = rng.random(n).astype(np.float32)
    x16 = rng.random(n).astype(np.float16)
    ours32, ours16 = autodiff.tensor(x32), autodiff.tensor(x16)
    return [
        ("cumsum float32", {
            "numpy limit": lambda: np.cumsum(x32, dtype=np.float64).astype(np.float32),
            "numpy float32": lambda: np.cumsum(x32),
            "autodiff": lambda: ours32.cumsum(0),
        }, lambda: np.cumsum(x32.astype(np.float64))),
        ("var float32", {
            "numpy limit": lambda: np.float32(np.var(x32.astype(np.float64), ddof=1)),
            "numpy float32": lambda: np.var(x32, ddof=1),
            "autodiff": lambda: ours32.var(),
        }, lambda: np.var(x32.astype(np.float64), ddof=1)),
        ("vector_norm float32", {
            "numpy limit": lambda: np.sqrt(np.dot(x32, x32)),
            "numpy float32": lambda: np.sqrt(np.add.reduce(x32 * x32)),
            "autodiff": lambda: autodiff.linalg.vector_norm(ours32),
        }, lambda: np.sqrt(np.sum(x32.astype(np.float64) ** 2))),
        ("mean float16", {
            "numpy limit": lambda: np.float16(np.add.reduce(x16, dtype=np.float32) / n),
            "numpy float16": lambda: np.mean(x16),
            "autodiff": lambda: ours16.mean(),
        }, lambda: np.mean(x16.astype(np.float64))),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.accumulation")
    parser.add_argument("--quick", action="store_true", help="10^6 elements, 5 rounds")
    args = parser.parse_args(argv)
    n, rounds = (1_000_000, 5) if args.quick else (10_000_000, 15)
    print(f"# n = {n}; median ms per call, median per-round ratio to the limit, max rel error")
    print(f"{'case':22} {'engine':14} {'median':>10} {'x limit':>8} {'rel error':>10}")
    with autodiff.no_grad():
        for label, engines, exact in cases(n):
            reference = exact()
            timings = paired(engines, "numpy limit", rounds=rounds)
            for name, result in timings.items():
                error = _relative_error(engines[name](), reference)
                print(f"{label:22} {name:14} {result['median'] * 1e3:8.2f}ms "
                      f"{result['ratio']:8.2f} {error:10.1e}")


if __name__ == "__main__":
    main()
