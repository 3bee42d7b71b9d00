"""ONNX export of searchsorted, bucketize, one_hot and the shifts (computed with no node: seen
by the export as op-mode calls), run in onnxruntime on other values than the traced ones."""

from __future__ import annotations

import io

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def _same(function, calls: list[tuple]) -> None:
    buffer = io.BytesIO()
    autodiff.onnx.export(function, calls[0], buffer)
    session = onnxruntime.InferenceSession(buffer.getvalue(),
                                           providers=["CPUExecutionProvider"])
    names = [item.name for item in session.get_inputs()]
    for inputs in calls:
        (got,) = session.run(None, {name: t.numpy() for name, t in zip(names, inputs)})
        expected = function(*inputs).numpy()
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


SEQUENCE = autodiff.tensor([1.0, 3.0, 3.0, 5.0, 7.0])
VALUES = [autodiff.tensor([[0.0, 3.0, 9.0], [5.0, float("nan"), 1.0]]),
          autodiff.tensor([[7.0, 7.5, -1.0], [3.0, 2.0, 6.0]])]


@pytest.mark.parametrize("options", [{}, {"right": True}, {"side": "right"},
                                     {"out_int32": True}])
def test_searchsorted_in_a_vector(options) -> None:
    _same(lambda s, v: autodiff.searchsorted(s, v, **options),
          [(SEQUENCE, VALUES[0]), (SEQUENCE, VALUES[1])])


def test_searchsorted_rows_with_a_sorter() -> None:
    sequence = autodiff.tensor([[5.0, 1.0, 3.0], [2.0, 9.0, 4.0]])
    sorter = autodiff.argsort(sequence, dim=-1)
    values = autodiff.tensor([[3.0, 6.0], [4.0, 0.0]])
    _same(lambda s, v, o: autodiff.searchsorted(s, v, sorter=o, side="right"),
          [(sequence, values, sorter), (sequence, values.flip(0), sorter)])


def test_searchsorted_of_a_number_gives_a_0d_position() -> None:
    _same(lambda s: autodiff.searchsorted(s, 4), [(SEQUENCE,), (SEQUENCE * 0.5,)])


@pytest.mark.parametrize("right", [False, True])
def test_bucketize(right: bool) -> None:
    _same(lambda v, b: autodiff.bucketize(v, b, right=right),
          [(VALUES[0], SEQUENCE), (VALUES[1], SEQUENCE)])


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot(num_classes: int) -> None:
    _same(lambda x: F.one_hot(x, num_classes),
          [(autodiff.tensor([[0, 3], [2, 1]]),), (autodiff.tensor([[5, 0], [1, 1]]),)])


def test_searchsorted_where_the_sequence_ends_in_nans() -> None:
    sequence = autodiff.tensor([1.0, 3.0, float("nan")])
    values = autodiff.tensor([2.0, 4.0, float("nan"), 0.0])
    for right in (False, True):
        _same(lambda s, v, right=right: autodiff.searchsorted(s, v, right=right),
              [(sequence, values), (autodiff.tensor([float("nan")] * 3), values)])


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8"])
@pytest.mark.parametrize("op", ["bitwise_left_shift", "bitwise_right_shift"])
def test_shifts_past_the_width_and_below_zero(op: str, dtype: str) -> None:
    """Exported in int64 arithmetic (ONNX's BitShift takes unsigned integers only)."""
    width = {"int64": 64, "int32": 32, "int8": 8, "uint8": 8}[dtype]
    signed = dtype != "uint8"
    values = [5, -7, 1, 100, -128, 127, 0, -1] if signed else [5, 7, 1, 200, 128, 255, 0, 3]
    shifts = [1, 2, width + 6, -1 if signed else 2, width - 1, width, 3, width - 1]
    kind = getattr(autodiff, dtype)
    x, n = autodiff.tensor(values, dtype=kind), autodiff.tensor(shifts, dtype=kind)
    function = getattr(autodiff, op)
    _same(function, [(x, n), (n, x) if signed else (x.flip(0), n)])


@pytest.mark.parametrize("invert", [False, True])
def test_isin(invert: bool) -> None:
    elements = autodiff.tensor([[1.0, float("nan"), 3.0], [-0.0, 5.0, 2.0]])
    tests = autodiff.tensor([0.0, 3.0, float("nan"), 7.0])
    _same(lambda x, t: autodiff.isin(x, t, invert=invert),
          [(elements, tests), (elements, autodiff.tensor([5.0, 5.0, 1.0, 2.0]))])
    _same(lambda x: autodiff.isin(x, 4, invert=invert), [(autodiff.tensor([4, 1, 4]),)])
