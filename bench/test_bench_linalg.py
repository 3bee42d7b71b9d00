"""The factorizations at 512 x 512 per engine (pytest-benchmark; compare within a group).
`python -m bench --suite linalg` pairs the engines round by round."""

from __future__ import annotations

from typing import Any

import pytest

from bench import linalg_bench
from bench._setup import Setup, engine_names


@pytest.mark.parametrize("engine", engine_names())
@pytest.mark.parametrize("case", ["svd", "svdvals", "eigh", "qr"])
def test_factorization(benchmark: Any, setup: Setup, case: str, engine: str) -> None:
    linalg_bench.check_agreement(case, setup)
    engines = linalg_bench.make_engines(case, setup)
    benchmark.group = f"linalg {case} 512x512"
    benchmark(engines[engine])
