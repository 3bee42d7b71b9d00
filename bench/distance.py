"""cdist at 512x512 points: autodiff's forward against SciPy's `cdist` (the limit) and PyTorch
when installed, paired round by round (see _timing.py), for a few point dimensions and p.

    python -m bench.distance
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.spatial.distance import cdist as scipy_cdist

import autodiff
from bench._timing import paired

METRICS = {1.0: "cityblock", 2.0: "euclidean", float("inf"): "chebyshev"}


def cdist_engines(points: int, dims: int, p: float,
                  dtype: str = "float64") -> dict[str, Callable[[], object]]:
    rng = np.random.default_rng(0)
    x1 = rng.standard_normal((points, dims)).astype(dtype)
    x2 = rng.standard_normal((points, dims)).astype(dtype)
    ours1, ours2 = autodiff.tensor(x1), autodiff.tensor(x2)
    engines: dict[str, Callable[[], object]] = {
        "scipy": lambda: scipy_cdist(x1, x2, METRICS[p]),
        "autodiff": lambda: autodiff.cdist(ours1, ours2, p=p),
    }
    try:
        import torch
    except ImportError:
        return engines
    theirs1, theirs2 = torch.tensor(x1), torch.tensor(x2)
    engines["torch"] = lambda: torch.cdist(theirs1, theirs2, p=p)
    return engines


def main() -> None:
    print(f"{'cdist 512x512':26} {'engine':9} {'median':>10} {'x scipy':>8}")
    for dims in (3, 64):
        for p in (2.0, 1.0):
            label = f"dims {dims}, p={p:g}"
            for name, result in paired(cdist_engines(512, dims, p), "scipy", rounds=15).items():
                print(f"{label:26} {name:9} {result['median'] * 1e3:8.2f}ms "
                      f"{result['ratio']:8.2f}")


if __name__ == "__main__":
    main()
