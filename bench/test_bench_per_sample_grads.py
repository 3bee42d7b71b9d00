"""Per-sample gradients of the digits MLP per engine (pytest-benchmark; compare within the
group). `python -m bench.per_sample_grads` pairs the engines round by round."""

from __future__ import annotations

from typing import Any

import pytest

from bench import per_sample_grads
from bench._setup import Setup

ENGINES = ["numpy", "vmap(grad)", "batched backward", "per-example loop", "torch.func"]


@pytest.mark.parametrize("engine", ENGINES)
def test_per_sample_grads(benchmark: Any, setup: Setup, engine: str) -> None:
    engines, limit = per_sample_grads.make_engines(setup)
    if engine not in engines and engine != "numpy":
        pytest.skip(f"{engine} needs PyTorch")
    per_sample_grads.check_agreement(engines, limit, setup)
    benchmark.group = "per-sample gradients, batch 64"
    benchmark(engines[limit if engine == "numpy" else engine])
