"""cdist at 512x512 per engine (pytest-benchmark; compare within a group): SciPy's cdist is
the limit. `python -m bench.distance` prints the paired ratios."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bench import distance


@pytest.mark.parametrize("engine", ["scipy", "autodiff", "torch"])
@pytest.mark.parametrize("p", [2.0, 1.0])
@pytest.mark.parametrize("dims", [3, 64])
def test_cdist(benchmark: Any, dims: int, p: float, engine: str) -> None:
    engines = distance.cdist_engines(512, dims, p)
    if engine not in engines:
        pytest.skip(f"{engine} is not installed")
    np.testing.assert_allclose(np.asarray(engines["autodiff"]()),
                               engines["scipy"](), rtol=1e-10)  # the same distances
    benchmark.group = f"cdist 512x512 dims={dims} p={p:g}"
    benchmark(engines[engine])
