"""ONNX export of the ops whose output size depends on the values (nonzero, masked_select,
unique, unique_consecutive): each graph, run on other values, gives eager's outputs."""

from __future__ import annotations

import io

import numpy as np
import pytest

import autodiff

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

NAN, INF = float("nan"), float("inf")


def _run(function, example: tuple, calls: list[tuple], **options) -> None:
    buffer = io.BytesIO()
    autodiff.onnx.export(function, example, buffer, **options)
    session = onnxruntime.InferenceSession(buffer.getvalue(),
                                           providers=["CPUExecutionProvider"])
    names = [item.name for item in session.get_inputs()]
    for inputs in calls:
        got = session.run(None, {name: tensor.numpy() for name, tensor in zip(names, inputs)})
        expected = function(*inputs)
        expected = [expected] if isinstance(expected, autodiff.Tensor) else list(expected)
        assert len(got) == len(expected)
        for value, reference in zip(got, expected):
            assert value.dtype == reference.numpy().dtype
            np.testing.assert_array_equal(value, reference.numpy())


@pytest.mark.parametrize("as_tuple", [False, True])
def test_nonzero_finds_as_many_elements_as_each_call_has(as_tuple: bool) -> None:
    def function(x):
        return autodiff.nonzero(x, as_tuple=as_tuple)

    x = autodiff.tensor([[0.0, 1.0, 0.0], [2.0, 0.0, -1.0]])
    _run(function, (x,), [(x,), (autodiff.zeros(2, 3),), (autodiff.ones(2, 3),)])


def test_argwhere_of_integers() -> None:
    x = autodiff.tensor([[0, 3], [4, 0]])
    _run(autodiff.argwhere, (x,), [(x,), (autodiff.tensor([[1, 1], [0, 0]]),)])


def test_masked_select_of_a_0d_mask_that_selects_on_one_call_and_not_the_next() -> None:
    def function(a, m):
        return a.masked_select(m > 0)

    a = autodiff.tensor(0.5)
    _run(function, (a, autodiff.tensor(-1.0)),
         [(a, autodiff.tensor(-1.0)), (a, autodiff.tensor(2.0))])


def test_masked_select_broadcasts() -> None:
    def function(a, m):
        return a.masked_select(m > 0)

    a, m = autodiff.arange(6.0).reshape(3, 2), autodiff.tensor([1.0, -1.0])
    _run(function, (a, m), [(a, m), (a, autodiff.tensor([1.0, 1.0])),
                            (a, autodiff.tensor([-1.0, -1.0]))])


UNIQUE_VALUES = [
    [3.0, 1.0, NAN, 1.0, NAN, 2.0, -0.0, 0.0],
    [INF, NAN, INF, -INF, NAN, 1.0],
    [2.0, 2.0, 2.0],
    [NAN],
]


@pytest.mark.parametrize("return_counts", [False, True])
@pytest.mark.parametrize("return_inverse", [False, True])
def test_unique_keeps_every_nan_apart_and_sorts_it_last(return_inverse: bool,
                                                        return_counts: bool) -> None:
    """ONNX's own Unique merges a NaN with a number; the export sorts and compares instead."""
    def function(x):
        return autodiff.unique(x, return_inverse=return_inverse, return_counts=return_counts)

    calls = [(autodiff.tensor(values),) for values in UNIQUE_VALUES]
    _run(function, calls[0], calls, input_names=["x"], dynamic_axes={"x": [0]})


@pytest.mark.parametrize("return_counts", [False, True])
@pytest.mark.parametrize("return_inverse", [False, True])
def test_unique_consecutive_runs(return_inverse: bool, return_counts: bool) -> None:
    def function(x):
        return autodiff.unique_consecutive(x, return_inverse=return_inverse,
                                           return_counts=return_counts)

    calls = [(autodiff.tensor(values),) for values in UNIQUE_VALUES]
    calls.append((autodiff.tensor([[1.0, 1.0], [2.0, 1.0]]),))
    _run(function, calls[-1], calls[-1:])
    _run(function, calls[0], calls[:-1], input_names=["x"], dynamic_axes={"x": [0]})


def test_unique_of_a_matrix_of_integers_gives_the_inverse_in_its_shape() -> None:
    def function(x):
        return autodiff.unique(x, return_inverse=True, return_counts=True)

    x = autodiff.tensor([[4, 1, 4], [0, 1, 7]])
    _run(function, (x,), [(x,), (autodiff.tensor([[5, 5, 5], [5, 5, 5]]),)])
