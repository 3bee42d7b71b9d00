"""The 200-op chain per engine (pytest-benchmark; compare within a group)."""

from __future__ import annotations

from typing import Any

import pytest

from bench import per_op
from bench._setup import Setup, engine_names


@pytest.mark.parametrize("engine", engine_names())
@pytest.mark.parametrize("backward", [True, False], ids=["fwd+bwd", "fwd-no_grad"])
@pytest.mark.parametrize("size", per_op.SIZES)
def test_chain(benchmark: Any, setup: Setup, size: int, backward: bool, engine: str) -> None:
    engines, limit = per_op.make_engines(size, backward, setup)
    if backward:
        per_op.check_agreement(engines, limit, setup)
    benchmark.group = f"per_op {size} {'fwd+bwd' if backward else 'fwd'}"
    benchmark(engines[limit if engine == "numpy" else engine])
