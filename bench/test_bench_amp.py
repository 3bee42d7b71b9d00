"""Mixed precision on the CPU (pytest-benchmark; compare within a group): the autocast wrapper
with autocast off against the undecorated op, and a digits-MLP training step in float32 and
under autocast with a GradScaler against hand-written NumPy."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff
from bench import amp_bench

WRAPPERS = amp_bench.wrapper_cases()
STEPS = amp_bench.training_cases()


@pytest.mark.parametrize("engine", ["undecorated", "autodiff"])
@pytest.mark.parametrize("index", range(len(WRAPPERS)), ids=[case[0] for case in WRAPPERS])
def test_autocast_wrapper(benchmark: Any, index: int, engine: str) -> None:
    label, engines = WRAPPERS[index]
    benchmark.group = f"autocast wrapper {label}"
    with autodiff.no_grad():
        benchmark(engines[engine])


@pytest.mark.parametrize("engine", list(STEPS))
def test_mixed_precision_step(benchmark: Any, engine: str) -> None:
    benchmark.group = "mixed precision MLP step"
    benchmark(STEPS[engine])
