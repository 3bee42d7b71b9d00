"""LSTM and attention per engine (pytest-benchmark; compare within a group). Each group first
checks that its engines compute the same gradients; no time is asserted."""

from __future__ import annotations

from typing import Any

import pytest

from bench import attention_bench, rnn_bench

ENGINES = ["numpy (hand-written)", "autodiff", "torch"]


@pytest.mark.parametrize("engine", ENGINES)
def test_lstm(benchmark: Any, engine: str) -> None:
    engines = rnn_bench.make_engines(with_torch=engine == "torch")
    if engine not in engines:
        pytest.skip("torch is not installed")
    rnn_bench.check_agreement(engines)
    benchmark.group = "LSTM 2x256 T=64 B=32 fwd+bwd"
    benchmark(engines[engine])


@pytest.mark.parametrize("engine", ENGINES)
def test_attention(benchmark: Any, engine: str) -> None:
    engines = attention_bench.make_engines(with_torch=engine == "torch")
    if engine not in engines:
        pytest.skip("torch is not installed")
    attention_bench.check_agreement(engines)
    benchmark.group = "SDPA B=8 H=8 L=256 D=64 causal fwd+bwd"
    benchmark(engines[engine])
