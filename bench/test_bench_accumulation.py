"""What accuracy costs (pytest-benchmark; compare within a group): float32 cumsum and var
accumulated in float64, vector_norm's overflow check, float16 mean in float32, each against
hand-written NumPy doing the same accumulation and NumPy's plain low-precision version."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff
from bench import accumulation

CASES = accumulation.cases(1_000_000)


@pytest.mark.parametrize("engine", ["numpy limit", "low precision", "autodiff"])
@pytest.mark.parametrize("index", range(len(CASES)), ids=[case[0] for case in CASES])
def test_accumulation(benchmark: Any, index: int, engine: str) -> None:
    label, engines, _ = CASES[index]
    if engine == "low precision":
        engine = next(name for name in engines if name.startswith("numpy f"))
    benchmark.group = f"accumulation {label}"
    with autodiff.no_grad():
        benchmark(engines[engine])
