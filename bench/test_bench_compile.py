"""Compiled steps against eager (pytest-benchmark; compare within a group)."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff
from bench import per_op, seed_graph
from bench._setup import Setup


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("size", ["tutorial", "64x256x256"])
def test_seed_step(benchmark: Any, setup: Setup, size: str, compiled: bool) -> None:
    step = seed_graph.step_of(autodiff, seed_graph.make_problem(size), setup.device)
    benchmark.group = f"compile seed {size}"
    benchmark(autodiff.compile(step, fullgraph=True) if compiled else step)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("size", per_op.SIZES)
def test_chain(benchmark: Any, setup: Setup, size: int, compiled: bool) -> None:
    x = autodiff.tensor(per_op.np.ones(size, dtype=per_op.np.float32), device=setup.device,
                        requires_grad=True)

    def step() -> Any:
        return per_op.chain(autodiff, x, True)

    benchmark.group = f"compile chain {size}"
    benchmark(autodiff.compile(step, fullgraph=True) if compiled else step)
