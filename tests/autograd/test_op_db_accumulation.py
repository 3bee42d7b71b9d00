"""Accumulation over the whole op table: three backward passes through one graph give three
times the gradient, and leave the inputs, the output and the other leaves' `.grad` untouched.

The engine lets a leaf's `.grad` take a gradient without a copy when only the engine holds it
(engine._made_here). If that judgement were wrong for some op (its backward returning an array
it saved, a view, or one array for two inputs), the in-place `+=` of the second pass would
write into memory something else still reads, and the third pass would be off.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from tests.op_db import OP_DB, OpInfo, Sample

CASES = [
    pytest.param(info, sample, id=f"{info.name}-{index}")
    for info in OP_DB if info.differentiable
    for index, sample in enumerate(info.samples)
]


def _values(tensor: autodiff.Tensor) -> np.ndarray:
    return np.array(tensor.detach().cpu().tolist(), dtype=np.float64)


@pytest.mark.parametrize(("info", "sample"), CASES)
def test_three_backward_passes_give_three_times_the_gradient(info: OpInfo, sample: Sample,
                                                            device: str) -> None:
    rng = np.random.default_rng(3)
    low, high = info.domain
    count = info.grad_inputs if info.grad_inputs is not None else len(sample.shapes)
    inputs = tuple(
        autodiff.tensor(rng.uniform(low, high, size=shape), dtype=autodiff.float64,
                        device=device, requires_grad=position < count)
        for position, shape in enumerate(sample.shapes)
    )
    before = [_values(tensor) for tensor in inputs]
    output = info.op(*inputs)
    if not output.requires_grad:
        pytest.skip("no graph for this sample")
    expected_output = _values(output)
    gradient = autodiff.tensor(rng.uniform(-1.0, 1.0, size=tuple(output.shape)),
                               dtype=output.dtype, device=device)
    leaves = [tensor for tensor in inputs if tensor.requires_grad]

    output.backward(gradient, retain_graph=True)
    once = [None if leaf.grad is None else _values(leaf.grad) for leaf in leaves]
    output.backward(gradient, retain_graph=True)
    output.backward(gradient)

    for leaf, first in zip(leaves, once):
        if first is None:
            assert leaf.grad is None
        else:
            np.testing.assert_allclose(_values(leaf.grad), 3 * first, rtol=1e-12, atol=1e-12)
    for tensor, values in zip(inputs, before):
        np.testing.assert_array_equal(_values(tensor), values)
    np.testing.assert_array_equal(_values(output), expected_output)
    grads = [leaf.grad for leaf in leaves if leaf.grad is not None]
    assert len({id(grad) for grad in grads}) == len(grads)
