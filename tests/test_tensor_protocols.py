"""Pickling, deepcopy, Python bools in arithmetic, and inf/nan without NumPy's warnings."""

from __future__ import annotations

import copy
import pathlib
import pickle
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import autodiff


def test_pickle_round_trip_keeps_values_dtype_device_and_requires_grad(device: str) -> None:
    x = autodiff.tensor([[1.5, -2.0], [3.0, 4.25]], dtype=autodiff.float64, device=device,
                        requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    assert y.tolist() == x.tolist()
    assert (y.dtype, y.device, y.requires_grad, y.is_leaf) == (x.dtype, x.device, True, True)
    assert y.grad is None


def test_deepcopy_copies_data_and_grad(device: str) -> None:
    x = autodiff.ones(3, device=device, requires_grad=True)
    (x * 2).sum().backward()
    y = copy.deepcopy(x)
    assert y.tolist() == [1.0, 1.0, 1.0] and y.grad.tolist() == [2.0, 2.0, 2.0]
    with autodiff.no_grad():
        y.add_(1)
        y.grad.add_(1)
    assert x.tolist() == [1.0, 1.0, 1.0] and x.grad.tolist() == [2.0, 2.0, 2.0]


def test_deepcopy_of_a_non_leaf_raises_like_pytorch() -> None:
    x = autodiff.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda f, b, i: f + True, [2.0, 2.0]),
        (lambda f, b, i: f * True, [1.0, 1.0]),
        (lambda f, b, i: b + b, [True, False]),
        (lambda f, b, i: b * b, [True, False]),
        (lambda f, b, i: i + True, [2, 3]),
        (lambda f, b, i: b + 1, [2, 1]),
        (lambda f, b, i: b * 2.5, [2.5, 0.0]),
    ],
)
def test_python_bools_and_bool_tensors_in_arithmetic(make, expected, device: str) -> None:
    f = autodiff.ones(2, device=device)
    b = autodiff.tensor([True, False], device=device)
    i = autodiff.tensor([1, 2], device=device)
    assert make(f, b, i).tolist() == expected


def test_inf_and_nan_results_raise_no_numpy_warnings(device: str) -> None:
    """In a user's program (a fresh interpreter with default warning filters), inf and nan
    results are silent, as in PyTorch, while the user's own NumPy code still warns."""
    script = f"""
import numpy as np
import autodiff
x = autodiff.tensor([0.0, 1.0], device={device!r})
assert autodiff.log(x).tolist()[0] == float("-inf")
out = (x / 0).tolist()
assert out[1] == float("inf") and out[0] != out[0]
assert autodiff.exp(autodiff.tensor([1000.0], device={device!r})).tolist() == [float("inf")]
print("library done", flush=True)
np.log(np.zeros(1))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=pathlib.Path(__file__).resolve().parent.parent, check=True)
    assert "library done" in result.stdout
    warned = [line for line in result.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warned) == 1 and "<string>" in warned[0], result.stderr


# PyTorch's own __array__ takes no copy keyword: NumPy warns about it (not about ours).
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_numpy_array_protocol_honours_copy() -> None:
    """np.asarray shares the CPU tensor's memory, np.array(copy=True) copies, a conversion
    that needs a copy is refused under copy=False: as with PyTorch under NumPy 2."""
    def scenario(lib: Any) -> Any:
        t = lib.ones(2)
        shared = np.asarray(t)
        shared[0] = 5
        copied = np.array(t, copy=True)
        copied[1] = 7
        converted = np.asarray(t, dtype=np.float64)
        try:
            np.asarray(t, dtype=np.float64, copy=False)
            refused = None
        except ValueError as error:
            refused = str(error).splitlines()[0]
        return [t.tolist(), converted.dtype.name, refused]

    assert scenario(autodiff) == [[5.0, 1.0], "float64",
                                  "Unable to avoid copy while creating an array as requested."]
    torch = pytest.importorskip("torch")
    assert scenario(torch) == scenario(autodiff)


class _Units:
    """A class of its own that takes tensors on its right: Python asks it once a Tensor's
    operator gives NotImplemented, as PyTorch's do for an operand they do not take."""

    def __radd__(self, other: Any) -> str:
        return "radd"

    def __rmul__(self, other: Any) -> str:
        return "rmul"

    def __rsub__(self, other: Any) -> str:
        return "rsub"

    def __rpow__(self, other: Any) -> str:
        return "rpow"

    def __rmatmul__(self, other: Any) -> str:
        return "rmatmul"

    def __rand__(self, other: Any) -> str:
        return "rand"

    def __rlshift__(self, other: Any) -> str:
        return "rlshift"

    def __gt__(self, other: Any) -> str:
        return "gt"

    def __eq__(self, other: object) -> Any:
        return "eq"

    __hash__ = object.__hash__


def test_operators_give_not_implemented_for_operands_they_do_not_take() -> None:
    x = autodiff.tensor([1.0, 2.0])
    n = autodiff.tensor([1, 2])
    other = _Units()
    assert (x + other, x * other, x - other, x ** other, x @ other) == (
        "radd", "rmul", "rsub", "rpow", "rmatmul")
    assert (n & other, n << other, x < other, x == other) == ("rand", "rlshift", "gt", "eq")
    # equality with what is not a tensor or a number is Python's identity: False, as PyTorch's
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert (x == "a") is False and (x == [1.0, 2.0]) is False
    assert x.__add__(object()) is NotImplemented and x.__ilshift__(None) is NotImplemented
    for refused in (lambda: x + None, lambda: x < "a", lambda: n & object(),
                    lambda: None - x):
        with pytest.raises(TypeError, match=r"not supported|unsupported operand"):
            refused()
    y = x.clone()
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+=: 'Tensor' and"):
        y += None
    assert y.tolist() == [1.0, 2.0]
    # the named methods raise PyTorch's TypeError instead
    with pytest.raises(TypeError, match=r"^eq\(\) received an invalid combination"):
        x.eq(None)
    with pytest.raises(TypeError, match=r"^bitwise_and\(\) received an invalid combination"):
        n.bitwise_and(None)
    with pytest.raises(TypeError, match=r"^fill_\(\) received an invalid combination"):
        x.fill_(None)
    assert x.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match=r"^remainder\(\) received an invalid combination"):
        autodiff.remainder(None, x)
    with pytest.raises(TypeError, match=r"^logical_or_\(\): argument 'other' \(position 1\)"):
        x.logical_or_(None)
    # numbers still work
    assert (x == 1.0).tolist() == [True, False] and (n & 3).tolist() == [1, 2]
    assert x.fill_(2).tolist() == [2.0, 2.0]


def test_numpy_scalars_on_the_left_make_tensors_in_the_graph() -> None:
    # NumPy defers its operators to Tensor's (__array_priority__), as it does to PyTorch's
    w = autodiff.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = np.sqrt(np.float64(4.0)) * w + np.float32(1.0) - np.int64(1) * w
    assert isinstance(y, autodiff.Tensor) and y.dtype == autodiff.float32
    assert y.tolist() == [2.0, 3.0, 4.0]
    y.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]
    x = autodiff.tensor([1.5, -2.5])
    assert (np.float64(2.0) ** x).dtype == autodiff.float32
    assert (np.complex128(1j) * x).dtype == autodiff.complex64
    assert (np.float64(1.5) == x).tolist() == [True, False]


def test_numpy_ufuncs_of_tensors_give_tensors() -> None:
    x = autodiff.tensor([0.0, 1.0])
    out = np.exp(x)
    assert isinstance(out, autodiff.Tensor) and out.dtype == autodiff.float32
    np.testing.assert_allclose(out.tolist(), [1.0, np.e], rtol=1e-6)
    mask = np.equal(x, x)  # a bool result as uint8, as PyTorch's
    assert isinstance(mask, autodiff.Tensor) and mask.dtype == autodiff.uint8
    assert mask.tolist() == [1, 1]
    assert np.add(np.ones(2), x).dtype == autodiff.float64


def test_python_protocols_as_pytorch() -> None:
    t = autodiff.tensor([1.5, -2.5, 3.0])
    assert reversed(t).tolist() == [3.0, -2.5, 1.5]
    scalar = autodiff.tensor(2.0)
    assert reversed(scalar) is scalar
    assert 1.5 in t and 7 not in t and autodiff.tensor([3.0]) in t
    assert t in t
    for element in ("a", None, [1.5]):
        with pytest.raises(RuntimeError, match=r"^Tensor.__contains__ only supports Tensor or "
                                               r"scalar, but you passed in a <class"):
            element in t  # noqa: B015
    with pytest.raises(RuntimeError, match=r"^Boolean value of Tensor with no values is ambig"):
        bool(autodiff.tensor([]))
    with pytest.raises(RuntimeError, match=r"^Boolean value of Tensor with more than one value"):
        bool(t)
    for convert in (int, float, complex):
        with pytest.raises(ValueError, match=r"^only one element tensors can be converted to "
                                             r"Python scalars$"):
            convert(t)
    assert complex(autodiff.tensor(1 + 2j)) == 1 + 2j and float(autodiff.tensor([[2.0]])) == 2.0
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \*\* or pow\(\)"):
        pow(autodiff.tensor(3), 2, 5)
