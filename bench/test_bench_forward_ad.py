"""Forward-mode AD per engine (pytest-benchmark; compare within each group).
`python -m bench.forward_ad_bench` pairs the engines round by round."""

from __future__ import annotations

from typing import Any

import pytest

from bench import forward_ad_bench
from bench._setup import Setup

JVP_ENGINES = ["numpy jvp", "numpy forward", "func.jvp", "no_grad forward", "torch.func.jvp",
               "torch no_grad forward"]


@pytest.mark.parametrize("engine", JVP_ENGINES)
def test_jvp_of_an_mlp(benchmark: Any, setup: Setup, engine: str) -> None:
    engines, limit = forward_ad_bench.make_jvp_engines(setup)
    if engine not in engines:
        pytest.skip(f"{engine} needs PyTorch")
    forward_ad_bench.check_jvp(engines, limit, setup)
    benchmark.group = "jvp of an MLP 64-128-128-10, batch 64"
    benchmark(engines[engine])


@pytest.mark.parametrize("shape", forward_ad_bench.JACOBIAN_SHAPES, ids=str)
@pytest.mark.parametrize("engine", ["numpy", "jacfwd", "jacrev"])
def test_jacobian(benchmark: Any, setup: Setup, engine: str, shape: tuple[int, int]) -> None:
    engines, limit = forward_ad_bench.make_jacobian_engines(setup, *shape)
    forward_ad_bench.check_jacobian(engines, limit, setup)
    benchmark.group = f"jacobian R^{shape[0]} -> R^{shape[1]}"
    benchmark(engines[engine])
