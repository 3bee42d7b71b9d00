"""conv2d, max_pool2d and batch_norm forward+backward per engine (pytest-benchmark; compare
within a group)."""

from __future__ import annotations

from typing import Any

import pytest

from bench import conv_bench


@pytest.mark.parametrize("engine", ["limit", "autodiff", "torch"])
@pytest.mark.parametrize("case", ["conv2d", "max_pool2d", "batch_norm"])
def test_vision_op(benchmark: Any, case: str, engine: str) -> None:
    if case == "conv2d":
        engines, check = conv_bench.conv_engines(conv_bench._torch())
    elif case == "max_pool2d":
        engines, check = conv_bench.pool_engines()
    else:
        engines, check = conv_bench.norm_engines()
    check()
    names = {"limit": next(iter(engines)), "autodiff": "autodiff", "torch": "torch"}
    if names[engine] not in engines:
        pytest.skip(f"no {engine} engine for {case}")
    benchmark.group = f"vision {case} fwd+bwd"
    benchmark(engines[names[engine]])
