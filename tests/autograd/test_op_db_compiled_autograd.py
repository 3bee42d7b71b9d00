"""Compiled autograd over the whole op table: a backward captured as one graph gives eager's
gradients bit for bit, and a second backward of the same structure (new values, so new saved
tensors) reuses the graph and still gives eager's gradients: nothing of the first backward is
baked into the graph. Graphs whose nodes keep layout data (sparse, masked) go to the engine's
own walk."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff._dynamo import compiled_autograd
from tests.op_db import OP_DB, OpInfo, Sample

CASES = [
    pytest.param(info, sample, id=f"{info.name}-{index}")
    for info in OP_DB if info.differentiable
    for index, sample in enumerate(info.samples)
]


def _values(tensor: autodiff.Tensor) -> np.ndarray:
    return np.array(tensor.detach().cpu().tolist(), dtype=np.float64)


def _gradients(info: OpInfo, sample: Sample, device: str, seed: int,
               compiler_fn: object) -> list[np.ndarray | None] | None:
    rng = np.random.default_rng(seed)
    low, high = info.domain
    count = info.grad_inputs if info.grad_inputs is not None else len(sample.shapes)
    inputs = tuple(
        autodiff.tensor(rng.uniform(low, high, size=shape), dtype=autodiff.float64,
                        device=device, requires_grad=position < count)
        for position, shape in enumerate(sample.shapes)
    )
    output = info.op(*inputs)
    if not output.requires_grad:
        return None
    gradient = autodiff.tensor(rng.uniform(-1.0, 1.0, size=tuple(output.shape)),
                               dtype=output.dtype, device=device)
    if compiler_fn is None:
        output.backward(gradient)
    else:
        with compiled_autograd.enable(compiler_fn):
            output.backward(gradient)
    return [None if tensor.grad is None else _values(tensor.grad)
            for tensor in inputs if tensor.requires_grad]


@pytest.mark.parametrize(("info", "sample"), CASES)
def test_compiled_backward_gives_eagers_gradients(info: OpInfo, sample: Sample,
                                                  device: str) -> None:
    compiled_autograd.reset()
    graphs: list[object] = []

    def compiler_fn(graph_module: object) -> object:
        graphs.append(graph_module)
        return graph_module

    for seed in (3, 4):
        eager = _gradients(info, sample, device, seed, None)
        if eager is None:
            pytest.skip("no graph for this sample")
        compiled = _gradients(info, sample, device, seed, compiler_fn)
        assert compiled is not None and len(compiled) == len(eager)
        for ours, theirs in zip(compiled, eager):
            if theirs is None:
                assert ours is None
            else:
                assert ours is not None
                np.testing.assert_array_equal(ours, theirs)
    # one graph for both backwards (none where the graph keeps layout data, sparse or
    # masked: the engine walks those)
    assert len(graphs) <= 1
    compiled_autograd.reset()
