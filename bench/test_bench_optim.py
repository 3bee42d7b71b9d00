"""One optimizer step per engine on 10M float32 parameters (pytest-benchmark; compare within a
group). `python -m bench --suite optim` pairs the engines round by round."""

from __future__ import annotations

from typing import Any

import pytest

from bench import optim_bench
from bench._setup import Setup, engine_names


@pytest.mark.parametrize("engine", engine_names())
@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "RAdam"])
def test_optimizer_step(benchmark: Any, setup: Setup, name: str, engine: str) -> None:
    optim_bench.check_agreement(name, setup)  # what is timed computes the right update
    engines = optim_bench.make_engines(name, setup, optim_bench.SIZE)
    benchmark.group = f"optim {name} step"
    benchmark(engines["numpy" if engine == "numpy" else engine])
