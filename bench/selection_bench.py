"""sort, topk and unique at 1M elements: autodiff against the NumPy calls that compute the same
result (the limit) and PyTorch when installed, paired round by round (see _timing.py).

    python -m bench.selection_bench [--rounds 15] [--threads N]

The limits: sort returns values and indices, stable, so NumPy's is `argsort(kind="stable")`
then a gather (`np.sort` alone, values only by quicksort, is shown as a second reference);
topk's is `argpartition`, a gather, and a stable sort of the k values; unique's is
`np.unique` (with inverse and counts where asked).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
from bench._timing import paired

Engines = dict[str, Callable[[], object]]


def _with_torch(engines: Engines, x: np.ndarray, call: Callable[[Any, Any], object]) -> Engines:
    """engines plus PyTorch's `call(torch, tensor)` on a copy of `x`, when torch is installed."""
    try:
        import torch
    except ImportError:
        return engines
    theirs = torch.tensor(x.copy())
    engines["torch"] = lambda: call(torch, theirs)
    return engines


def _sort(x: np.ndarray, axis: int) -> Engines:
    ours = autodiff.tensor(x)

    def numpy_limit() -> object:
        order = np.argsort(x, axis=axis, kind="stable")
        return np.take_along_axis(x, order, axis), order

    engines: Engines = {
        "numpy": numpy_limit,
        "np.sort": lambda: np.sort(x, axis=axis),
        "autodiff": lambda: autodiff.sort(ours, axis),
    }
    return _with_torch(engines, x, lambda torch, t: torch.sort(t, dim=axis, stable=True))


def _topk(x: np.ndarray, k: int) -> Engines:
    ours = autodiff.tensor(x)
    size = x.shape[-1]

    def numpy_limit() -> object:
        chosen = np.argpartition(x, size - k, axis=-1)[..., size - k:]
        values = np.take_along_axis(x, chosen, -1)
        order = np.flip(np.argsort(np.flip(values, -1), axis=-1, kind="stable"), -1)
        order = k - 1 - order
        return np.take_along_axis(values, order, -1), np.take_along_axis(chosen, order, -1)

    engines: Engines = {"numpy": numpy_limit, "autodiff": lambda: autodiff.topk(ours, k)}
    return _with_torch(engines, x, lambda torch, t: torch.topk(t, k))


def _unique(x: np.ndarray, inverse: bool) -> Engines:
    ours = autodiff.tensor(x)
    engines: Engines = {
        "numpy": lambda: np.unique(x, return_inverse=inverse, return_counts=inverse),
        "autodiff": lambda: autodiff.unique(ours, return_inverse=inverse,
                                            return_counts=inverse),
    }
    return _with_torch(engines, x, lambda torch, t: torch.unique(
        t, return_inverse=inverse, return_counts=inverse))


def cases() -> list[tuple[str, Engines, int]]:
    rng = np.random.default_rng(0)
    flat = rng.standard_normal(1_000_000).astype(np.float32)
    square = flat.reshape(1000, 1000)
    integers = rng.integers(0, 1000, 1_000_000)
    return [
        ("sort 1M float32", _sort(flat, 0), 1),
        ("sort 1000x1000 dim=1", _sort(square, 1), 1),
        ("topk k=100 of 1M", _topk(flat, 100), 1),
        ("topk k=10 of 1000x1000", _topk(square, 10), 1),
        ("unique 1M int64 (1000 values)", _unique(integers, False), 1),
        ("unique 1M float32", _unique(flat, False), 1),
        ("unique 1M +inverse+counts", _unique(integers, True), 1),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.selection_bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None,
                        help="PyTorch threads (NumPy's sorts are single-threaded)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        try:
            import torch
        except ImportError:
            pass
        else:
            torch.set_num_threads(args.threads)
    print(f"{'case':30} {'engine':9} {'median':>10} {'x numpy':>8}")
    for label, engines, number in cases():
        for name, result in paired(engines, "numpy", rounds=args.rounds, number=number).items():
            print(f"{label:30} {name:9} {result['median'] * 1e3:8.2f}ms {result['ratio']:8.2f}")


if __name__ == "__main__":
    main()
