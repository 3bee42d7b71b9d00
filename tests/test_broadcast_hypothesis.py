"""Broadcasting gradients on random shapes (Hypothesis): for every pair (or triple) of
broadcast-compatible shapes, each input's gradient is NumPy's sum of the upstream gradient,
times the local derivative, over the axes that input was broadcast along."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import autodiff

SETTINGS = settings(max_examples=50, deadline=None)


def reduce_to(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast array back to `shape` (leading axes, then size-1 axes)."""
    lead = array.ndim - len(shape)
    array = array.sum(axis=tuple(range(lead)))
    axes = tuple(axis for axis, size in enumerate(shape) if size == 1 and array.shape[axis] != 1)
    return array.sum(axis=axes, keepdims=True).reshape(shape)


# name -> (autodiff op, local derivatives w.r.t. each input as NumPy functions of the inputs)
BINARY: dict[str, tuple[Callable[..., Any], Callable[..., tuple[np.ndarray, ...]]]] = {
    "add": (lambda a, b: a + b, lambda a, b: (np.ones_like(a * b), np.ones_like(a * b))),
    "mul": (lambda a, b: a * b, lambda a, b: (b + 0 * a, a + 0 * b)),
    "div": (lambda a, b: a / b, lambda a, b: (1 / b + 0 * a, -a / (b * b))),
    "maximum": (autodiff.maximum, lambda a, b: ((a > b) + 0.0 * b, (b > a) + 0.0 * a)),
}


def _check(op: Callable[..., Any], local: Callable[..., tuple[np.ndarray, ...]],
           shapes: tuple[tuple[int, ...], ...], result_shape: tuple[int, ...], seed: int,
           device: str) -> None:
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(0.5, 2.0, size=shape) for shape in shapes]
    upstream = rng.normal(size=result_shape)
    inputs = [autodiff.tensor(a, dtype=autodiff.float64, device=device, requires_grad=True)
              for a in arrays]
    out = op(*inputs)
    assert tuple(out.shape) == result_shape
    out.backward(autodiff.tensor(upstream, dtype=autodiff.float64, device=device))
    for array, tensor, derivative in zip(arrays, inputs, local(*arrays)):
        expected = reduce_to(upstream * derivative, array.shape)
        assert tuple(tensor.grad.shape) == array.shape
        np.testing.assert_allclose(np.array(tensor.grad.tolist()).reshape(array.shape),
                                   expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(BINARY))
@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0,
                                            max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_binary_gradients_reduce_over_broadcast_axes(name: str, shapes: Any, seed: int,
                                                     device: str) -> None:
    op, local = BINARY[name]
    _check(op, local, shapes.input_shapes, shapes.result_shape, seed, device)


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, min_side=0,
                                            max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_where_gradients_reduce_over_broadcast_axes(shapes: Any, seed: int, device: str) -> None:
    condition_shape, a_shape, b_shape = shapes.input_shapes
    rng = np.random.default_rng(seed)
    condition = rng.uniform(size=condition_shape) > 0.5
    mask = autodiff.tensor(condition, device=device)

    def local(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
        picked = np.broadcast_to(condition, shapes.result_shape)
        return picked + 0.0 * a * b, ~picked + 0.0 * a * b

    _check(lambda a, b: autodiff.where(mask, a, b), local, (a_shape, b_shape),
           shapes.result_shape, seed, device)
