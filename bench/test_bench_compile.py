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


def test_compile_steps_times_every_statement_of_the_program() -> None:
    from bench import compile_steps

    rows = compile_steps.profile("64x256x256", rounds=3)
    texts = [text for text, _ in rows]
    assert sum("matmul(" in text for text in texts) == 2
    assert texts[-3:] == ["# matmul floor", "# NumPy limit", "# compiled call"]
    assert all(seconds > 0 for _, seconds in rows)
    source = "def program(inputs):\n    a = f(b)\n    for s, u0, in r1:\n        g(u0)\n" \
             "        h(u0)\n    return (a,)"
    assert compile_steps.statements(source) == ["a = f(b)", "for s, u0, in r1:\n    g(u0)\n"
                                                "    h(u0)"]
