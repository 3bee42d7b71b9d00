"""The seed-graph training step per engine and size (pytest-benchmark; compare within a group)."""

from __future__ import annotations

from typing import Any

import pytest

from bench import seed_graph
from bench._setup import Setup, engine_names

# 2048^3 takes seconds per call: run it from `python -m bench`, which pairs the engines.
SIZES = ["tutorial", "64x256x256", "1024x1024x1024"]


@pytest.mark.parametrize("engine", engine_names())
@pytest.mark.parametrize("size", SIZES)
def test_seed_step(benchmark: Any, setup: Setup, size: str, engine: str) -> None:
    engines, limit = seed_graph.make_engines(seed_graph.make_problem(size), setup)
    seed_graph.check_agreement(engines, limit, setup)  # what is timed computes the right thing
    benchmark.group = f"seed {size}"
    benchmark(engines[limit if engine == "numpy" else engine])
