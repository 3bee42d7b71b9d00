"""The Tensor API of issue 2: creation functions (dtype inference as PyTorch's), manual_seed,
Tensor attributes and methods, Python numbers on either side of every operator, and PyTorch's
type promotion for the seed ops."""

from __future__ import annotations

import math
import operator
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import Tensor


def values(tensor: Tensor) -> np.ndarray:
    return np.array(tensor.tolist())


# ----------------------------------------------------------------------------- creation
@pytest.mark.parametrize(("data", "dtype"), [
    (1.5, "float32"), (2, "int64"), (True, "bool"),
    ([1, 2.5], "float32"), ([True, 2], "int64"), ([True, False], "bool"),
    ([[1, 2], [3, 4]], "int64"), ([], "float32"), ([[0.5], [1.0]], "float32"),
])
def test_tensor_infers_dtype_like_pytorch(data: Any, dtype: str, device: str) -> None:
    t = autodiff.tensor(data, device=device)
    assert str(t.dtype) == f"torch.{dtype}"
    assert t.tolist() == data
    assert t.is_leaf and not t.requires_grad and t.grad is None and t.grad_fn is None


def test_tensor_from_numpy_keeps_its_dtype_and_copies() -> None:
    source = np.array([1.0, 2.0])
    t = autodiff.tensor(source)
    assert t.dtype is autodiff.float64
    source[0] = 5.0
    assert t.tolist() == [1.0, 2.0]
    assert autodiff.tensor(np.array([1, 2], dtype=np.int32)).dtype is autodiff.int32


def test_tensor_with_dtype_and_requires_grad(device: str) -> None:
    t = autodiff.tensor([1, 2], dtype=autodiff.float64, device=device, requires_grad=True)
    assert t.dtype is autodiff.float64 and t.requires_grad and t.is_leaf
    assert t.device == autodiff.zeros(1, device=device).device


@pytest.mark.parametrize(("factory", "shape"), [
    (lambda d: autodiff.zeros(2, 3, device=d), (2, 3)),
    (lambda d: autodiff.zeros((2, 3), device=d), (2, 3)),
    (lambda d: autodiff.ones([4], device=d), (4,)),
    (lambda d: autodiff.ones((), device=d), ()),
    (lambda d: autodiff.zeros(0, 3, device=d), (0, 3)),
    (lambda d: autodiff.rand(2, 3, device=d), (2, 3)),
    (lambda d: autodiff.randn(5, 3, device=d), (5, 3)),
    (lambda d: autodiff.eye(3, device=d), (3, 3)),
    (lambda d: autodiff.eye(2, 4, device=d), (2, 4)),
    (lambda d: autodiff.full((2, 2), 1.5, device=d), (2, 2)),
])
def test_float_factories_default_to_float32(factory: Callable[[str], Tensor],
                                            shape: tuple[int, ...], device: str) -> None:
    t = factory(device)
    assert tuple(t.shape) == shape and t.dtype is autodiff.float32


def test_factory_values(device: str) -> None:
    assert autodiff.zeros(2, device=device).tolist() == [0.0, 0.0]
    assert autodiff.ones(2, dtype=autodiff.int64, device=device).tolist() == [1, 1]
    assert autodiff.eye(2, 3, device=device).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert autodiff.eye(2, dtype=autodiff.int64, device=device).tolist() == [[1, 0], [0, 1]]
    r = values(autodiff.rand(1000, device=device))
    assert r.min() >= 0.0 and r.max() < 1.0 and 0.4 < r.mean() < 0.6
    n = values(autodiff.randn(10_000, device=device))
    assert abs(n.mean()) < 0.05 and 0.95 < n.std() < 1.05


@pytest.mark.parametrize(("fill", "dtype"), [(3, "int64"), (3.0, "float32"), (True, "bool")])
def test_full_infers_dtype_from_the_fill_value(fill: Any, dtype: str, device: str) -> None:
    t = autodiff.full((2,), fill, device=device)
    assert str(t.dtype) == f"torch.{dtype}" and t.tolist() == [fill, fill]
    assert autodiff.full((2,), 3, dtype=autodiff.float64, device=device).dtype is autodiff.float64


@pytest.mark.parametrize(("args", "dtype", "expected"), [
    ((5,), "int64", [0, 1, 2, 3, 4]),
    ((2, 5), "int64", [2, 3, 4]),
    ((5, 0, -2), "int64", [5, 3, 1]),
    ((3.0,), "float32", [0.0, 1.0, 2.0]),
    ((0, 1, 0.25), "float32", [0.0, 0.25, 0.5, 0.75]),
    ((1, 2.5, 0.5), "float32", [1.0, 1.5, 2.0]),
])
def test_arange(args: tuple[Any, ...], dtype: str, expected: list[Any], device: str) -> None:
    t = autodiff.arange(*args, device=device)
    assert str(t.dtype) == f"torch.{dtype}" and t.tolist() == expected


def test_like_factories(device: str) -> None:
    ints = autodiff.tensor([[1, 2, 3]], device=device)
    doubles = autodiff.zeros(2, dtype=autodiff.float64, device=device)
    assert autodiff.zeros_like(ints).dtype is autodiff.int64
    assert autodiff.zeros_like(ints).tolist() == [[0, 0, 0]]
    assert autodiff.ones_like(doubles).dtype is autodiff.float64
    assert autodiff.ones_like(doubles).tolist() == [1.0, 1.0]
    like = autodiff.ones_like(doubles, dtype=autodiff.float32, requires_grad=True)
    assert like.dtype is autodiff.float32 and like.requires_grad and like.is_leaf
    assert autodiff.zeros_like(doubles).device == doubles.device


@pytest.mark.parametrize("make", [
    pytest.param(lambda d: autodiff.tensor([1, 2], device=d, requires_grad=True), id="tensor"),
    pytest.param(lambda d: autodiff.zeros(2, dtype=autodiff.int64, device=d,
                                          requires_grad=True), id="zeros"),
    pytest.param(lambda d: autodiff.arange(3, device=d, requires_grad=True), id="arange"),
    pytest.param(lambda d: autodiff.full((2,), 3, device=d, requires_grad=True), id="full"),
    pytest.param(lambda d: autodiff.ones_like(autodiff.tensor([1], device=d),
                                              requires_grad=True), id="ones_like"),
    pytest.param(lambda d: autodiff.eye(2, dtype=autodiff.bool, device=d,
                                        requires_grad=True), id="eye-bool"),
])
def test_requires_grad_on_integer_dtypes_raises(make: Callable[[str], Tensor],
                                                device: str) -> None:
    with pytest.raises(RuntimeError) as error:
        make(device)
    assert str(error.value) == (
        "Only Tensors of floating point and complex dtype can require gradients")


def test_manual_seed_reproduces_draws(device: str) -> None:
    autodiff.manual_seed(1234)
    first = [autodiff.randn(3, device=device).tolist(), autodiff.rand(2, device=device).tolist()]
    autodiff.manual_seed(1234)
    again = [autodiff.randn(3, device=device).tolist(), autodiff.rand(2, device=device).tolist()]
    assert first == again
    autodiff.manual_seed(1235)
    assert autodiff.randn(3, device=device).tolist() != first[0]


def test_successive_draws_differ(device: str) -> None:
    autodiff.manual_seed(0)
    assert autodiff.randn(4, device=device).tolist() != autodiff.randn(4, device=device).tolist()


def test_randn_dtype(device: str) -> None:
    autodiff.manual_seed(0)
    t = autodiff.randn(2, 2, dtype=autodiff.float64, device=device, requires_grad=True)
    assert t.dtype is autodiff.float64 and t.requires_grad and t.is_leaf


# ----------------------------------------------------------------------------- attributes
def test_metadata(device: str) -> None:
    t = autodiff.zeros(5, 3, device=device)
    assert t.shape == autodiff.Size([5, 3]) and t.shape == (5, 3)
    assert str(t.shape) == "torch.Size([5, 3])" and repr(t.shape) == "torch.Size([5, 3])"
    assert t.size() == t.shape and t.size(0) == 5 and t.size(-1) == 3
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 15
    assert autodiff.zeros((), device=device).numel() == 1
    assert autodiff.zeros(0, 3, device=device).numel() == 0
    assert t.dtype is autodiff.float32 and str(t.dtype) == "torch.float32"
    assert t.device.type == device.split(":")[0]
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                                         r"\[-2, 1\], but got 2\)"):
        t.size(2)


def test_cpu_device_repr() -> None:
    t = autodiff.ones(1)
    assert repr(t.device) == "device(type='cpu')" and str(t.device) == "cpu"


def test_transpose_T(device: str) -> None:
    t = autodiff.tensor([[1, 2, 3], [4, 5, 6]], device=device)
    assert t.T.tolist() == [[1, 4], [2, 5], [3, 6]]
    w = autodiff.tensor([[1.0, 2.0], [3.0, 4.0]], device=device, requires_grad=True)
    (w.T * autodiff.tensor([[1.0, 10.0], [100.0, 1000.0]], device=device)).sum().backward()
    assert w.grad.tolist() == [[1.0, 100.0], [10.0, 1000.0]]


def test_item_and_tolist(device: str) -> None:
    assert autodiff.tensor(2.5, device=device).item() == 2.5
    assert type(autodiff.tensor(2, device=device).item()) is int
    assert type(autodiff.tensor(True, device=device).item()) is bool
    assert autodiff.tensor([7.0], device=device).item() == 7.0
    assert autodiff.tensor([[1.5, 2]], device=device).tolist() == [[1.5, 2.0]]
    assert autodiff.tensor(3, device=device).tolist() == 3
    x = autodiff.tensor(0.1, device=device, requires_grad=True)
    assert x.item() == float(np.float32(0.1))  # the float32 value, exactly
    with pytest.raises(RuntimeError, match=r"^a Tensor with 2 elements cannot be converted to "
                                           r"Scalar$"):
        autodiff.ones(2, device=device).item()


def test_float_of_a_tensor_that_requires_grad_warns_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # PyTorch warns for float() alone, once per process: item(), int() and bool() are silent
    monkeypatch.setattr(sys.modules["autodiff.tensor"], "_warned_scalar_of_requires_grad", False)
    x = autodiff.tensor(1.5, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert x.item() == 1.5 and int(x) == 1 and bool(x) and float(x.detach()) == 1.5
        assert not caught
        assert float(x * 2) == 3.0
        assert float(x) == 1.5
    assert len(caught) == 1 and caught[0].category is UserWarning
    assert str(caught[0].message) == (
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
        "behavior.\nConsider using tensor.detach() first.")
    assert caught[0].filename == __file__


def test_numpy_shares_memory_on_cpu() -> None:
    t = autodiff.ones(3)
    array = t.numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    array[0] = 5.0
    assert t.tolist() == [5.0, 1.0, 1.0]
    t.add_(1)
    assert array.tolist() == [6.0, 2.0, 2.0]


def test_numpy_after_detach_of_a_tensor_that_requires_grad() -> None:
    w = autodiff.ones(2, requires_grad=True)
    array = w.detach().numpy()
    array[1] = 3.0
    assert w.tolist() == [1.0, 3.0]


def test_numpy_of_a_tensor_that_requires_grad_needs_grad_mode_off() -> None:
    """PyTorch refuses numpy() only when the tensor requires grad and grad mode is on."""
    error = ("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
             "instead.")
    torch = _torch_or_none()
    libs = [autodiff] + ([torch] if torch is not None else [])
    for lib in libs:
        w = lib.ones(2, requires_grad=True)
        y = w * 2
        for tensor in (w, y):
            with pytest.raises(RuntimeError) as raised:
                tensor.numpy()
            assert str(raised.value) == error
            with lib.no_grad():
                array = tensor.numpy()
                assert np.asarray(tensor).tolist() == array.tolist()
            with lib.inference_mode():
                assert tensor.numpy().tolist() == array.tolist()
        with lib.no_grad():
            w.numpy()[0] = 5.0  # the same memory, as in PyTorch
        assert w.tolist() == [5.0, 1.0]


def _torch_or_none() -> object:
    try:
        import torch
    except ImportError:
        return None
    return torch


def test_detach_shares_data_and_leaves_the_graph(device: str) -> None:
    x = autodiff.ones(3, device=device, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert y.grad_fn is not None  # the original keeps its history
    d.zero_()
    assert y.tolist() == [0.0, 0.0, 0.0]  # same data
    dx = x.detach()
    dx.add_(1)
    assert x.tolist() == [2.0, 2.0, 2.0]


def test_detach_in_place(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    assert x.detach_() is x and not x.requires_grad


def test_requires_grad_flag(device: str) -> None:
    x = autodiff.ones(2, device=device)
    assert x.requires_grad_() is x and x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad and x.is_leaf
    y = x * 2
    assert y.requires_grad_() is y  # True on a non-leaf: allowed, no change
    ints = autodiff.tensor([1, 2], device=device)
    assert ints.requires_grad_(False) is ints
    with pytest.raises(RuntimeError) as error:
        ints.requires_grad_()
    assert str(error.value) == "only Tensors of floating point dtype can require gradients"
    with pytest.raises(RuntimeError) as error:
        ints.requires_grad = True
    assert str(error.value) == (
        "only Tensors of floating point and complex dtype can require gradients")
    assert not ints.requires_grad


def test_zero_(device: str) -> None:
    t = autodiff.tensor([1.0, 2.0], device=device)
    assert t.zero_() is t and t.tolist() == [0.0, 0.0]
    leaf = autodiff.ones(2, device=device, requires_grad=True)
    with pytest.raises(RuntimeError) as error:
        leaf.zero_()
    assert str(error.value) == (
        "a leaf Variable that requires grad is being used in an in-place operation.")
    assert leaf.tolist() == [1.0, 1.0]
    with autodiff.no_grad():
        leaf.zero_()
    assert leaf.tolist() == [0.0, 0.0] and leaf.is_leaf and leaf.requires_grad


def test_retain_grad_needs_requires_grad(device: str) -> None:
    with pytest.raises(RuntimeError) as error:
        autodiff.ones(2, device=device).retain_grad()
    assert str(error.value) == "can't retain_grad on Tensor that has requires_grad=False"


def test_clone(device: str) -> None:
    x = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0" and c.requires_grad and not c.is_leaf
    (c * autodiff.tensor([3.0, 4.0], device=device)).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]
    with autodiff.no_grad():
        c.add_(10)
    assert x.tolist() == [1.0, 2.0]  # its own memory
    plain = autodiff.tensor([1, 2], device=device).clone()
    assert plain.dtype is autodiff.int64 and plain.grad_fn is None


def test_data_shares_values_without_history(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    y = x * 2
    data = y.data
    assert data.is_leaf and not data.requires_grad and data.tolist() == [2.0, 2.0]
    data.mul_(3)
    assert y.tolist() == [6.0, 6.0]
    x.data = autodiff.tensor([5.0, 6.0], device=device)
    assert x.tolist() == [5.0, 6.0] and x.requires_grad and x.is_leaf


def test_grad_attribute(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    assert x.grad is None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and x.grad.dtype is x.dtype
    x.grad = None
    assert x.grad is None
    g = autodiff.tensor([1.0, 1.0], device=device)
    x.grad = g
    assert x.grad is g


# ----------------------------------------------------------------------------- Python numbers
# (operator, PyTorch's node name with the tensor on the left, with the number on the left)
OPERATORS = [
    (operator.add, "AddBackward0", "AddBackward0"),
    (operator.sub, "SubBackward0", "RsubBackward1"),
    (operator.mul, "MulBackward0", "MulBackward0"),
    (operator.truediv, "DivBackward0", "MulBackward0"),  # number / t = reciprocal(t) * number
    (operator.pow, "PowBackward0", "PowBackward2"),
]


def _numeric_grad(function: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    step = 1e-6
    return np.array([(function(x + step * e).sum() - function(x - step * e).sum()) / (2 * step)
                     for e in np.eye(len(x))])


# PyTorch refuses to subtract bools (see test_bool_subtraction_is_refused).
NUMBER_CASES = [
    pytest.param(op, right, left, number, id=f"{op.__name__}-{type(number).__name__}")
    for op, right, left in OPERATORS for number in (2, 2.5, True)
    if not (op is operator.sub and number is True)
]


@pytest.mark.parametrize(("op", "name_right", "name_left", "number"), NUMBER_CASES)
def test_python_number_on_either_side(op: Callable[[Any, Any], Any], name_right: str,
                                      name_left: str, number: Any, device: str) -> None:
    start = np.array([0.5, 1.5, 3.0])
    for number_first in (False, True):
        x = autodiff.tensor(start, dtype=autodiff.float64, device=device, requires_grad=True)
        out = op(number, x) if number_first else op(x, number)

        def reference(a: np.ndarray, number_first: bool = number_first) -> np.ndarray:
            return op(number, a) if number_first else op(a, number)

        assert out.dtype is autodiff.float64
        np.testing.assert_allclose(values(out), reference(start), rtol=1e-12)
        assert out.grad_fn.name() == (name_left if number_first else name_right)
        out.sum().backward()
        np.testing.assert_allclose(values(x.grad), _numeric_grad(reference, start), rtol=1e-6)


@pytest.mark.parametrize("subtract", [
    pytest.param(lambda: autodiff.ones(2) - True, id="tensor-minus-True"),
    pytest.param(lambda: True - autodiff.ones(2), id="True-minus-tensor"),
    pytest.param(lambda: autodiff.tensor([True]) - 1, id="bool-tensor-minus-1"),
    pytest.param(lambda: autodiff.ones(2) - autodiff.tensor([True, False]),
                 id="tensor-minus-bool-tensor"),
])
def test_bool_subtraction_is_refused(subtract: Callable[[], Tensor]) -> None:
    with pytest.raises(RuntimeError) as error:
        subtract()
    assert str(error.value) == (
        "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
        "to invert a mask, use the `~` or `logical_not()` operator instead.")


def test_unary_minus_and_matmul_operator(device: str) -> None:
    x = autodiff.tensor([1.0, -2.0], device=device, requires_grad=True)
    y = -x
    assert y.grad_fn.name() == "NegBackward0" and y.tolist() == [-1.0, 2.0]
    w = autodiff.tensor([[1.0, 2.0], [3.0, 4.0]], device=device, requires_grad=True)
    z = x @ w
    assert z.grad_fn.name() == "SqueezeBackward4" and z.tolist() == [-5.0, -6.0]
    (y.sum() + z.sum()).backward()
    assert x.grad.tolist() == [-1.0 + 3.0, -1.0 + 7.0]
    assert w.grad.tolist() == [[1.0, 1.0], [-2.0, -2.0]]


# ----------------------------------------------------------------------------- promotion
PROMOTION = [
    ("int * 2.5", lambda t: t.tensor([1, 2]) * 2.5, "float32"),
    ("2.5 * int", lambda t: 2.5 * t.tensor([1, 2]), "float32"),
    ("int * 2", lambda t: t.tensor([1, 2]) * 2, "int64"),
    ("int / int", lambda t: t.tensor([1, 2]) / t.tensor([2, 2]), "float32"),
    ("int32 / int64", lambda t: t.tensor([1], dtype=t.int32) / t.tensor([2]), "float32"),
    ("int / 2", lambda t: t.tensor([1, 2]) / 2, "float32"),
    ("2 / int", lambda t: 2 / t.tensor([1, 2]), "float32"),
    ("bool + 1", lambda t: t.tensor([True]) + 1, "int64"),
    ("bool + True", lambda t: t.tensor([True]) + True, "bool"),
    ("bool + 1.5", lambda t: t.tensor([True]) + 1.5, "float32"),
    ("float32 * 0-d float64", lambda t: t.ones(2) * t.tensor(2.0, dtype=t.float64), "float32"),
    ("float32 * 1-d float64", lambda t: t.ones(2) * t.tensor([2.0], dtype=t.float64),
     "float64"),
    ("int * 0-d float64", lambda t: t.tensor([1]) * t.tensor(2.0, dtype=t.float64), "float64"),
    ("int32 + 0-d int64", lambda t: t.tensor([1], dtype=t.int32) + t.tensor(2), "int32"),
    ("float64 + 2.5", lambda t: t.ones(1, dtype=t.float64) + 2.5, "float64"),
    ("float32 ** 2", lambda t: t.ones(2) ** 2, "float32"),
    ("int ** 2", lambda t: t.tensor([2]) ** 2, "int64"),
    ("int ** 0.5", lambda t: t.tensor([4]) ** 0.5, "float32"),
    ("2 ** int", lambda t: 2 ** t.tensor([2]), "int64"),
    ("2.0 ** int", lambda t: 2.0 ** t.tensor([2]), "float32"),
    ("int - 1.5", lambda t: t.tensor([2]) - 1.5, "float32"),
    ("1.5 - int", lambda t: 1.5 - t.tensor([2]), "float32"),
    ("-int", lambda t: -t.tensor([2]), "int64"),
    ("int32.sum()", lambda t: t.tensor([2], dtype=t.int32).sum(), "int64"),
    ("bool.sum()", lambda t: t.tensor([True, True]).sum(), "int64"),
    ("int.exp()", lambda t: t.tensor([0]).exp(), "float32"),
    ("int.sigmoid()", lambda t: t.tensor([0]).sigmoid(), "float32"),
    ("int.clamp(int)", lambda t: t.tensor([0, 5]).clamp(1, 3), "int64"),
    ("int.clamp(float)", lambda t: t.tensor([0, 5]).clamp(1.5, 3), "float32"),
    ("float64 matmul float64", lambda t: t.ones(2, 2, dtype=t.float64) @ t.ones(2,
                                                                               dtype=t.float64),
     "float64"),
]


@pytest.mark.parametrize(("expression", "dtype"),
                         [pytest.param(case[1], case[2], id=case[0]) for case in PROMOTION])
def test_type_promotion(expression: Callable[[Any], Any], dtype: str) -> None:
    assert str(expression(autodiff).dtype) == f"torch.{dtype}"


def test_type_promotion_is_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    for name, expression, dtype in PROMOTION:
        assert str(expression(torch).dtype) == f"torch.{dtype}", name
        np.testing.assert_allclose(np.array(expression(autodiff).tolist(), dtype=np.float64),
                                   np.array(expression(torch).tolist(), dtype=np.float64),
                                   rtol=1e-6, err_msg=name)


def test_promoted_gradients_have_the_leaf_dtype(device: str) -> None:
    w = autodiff.ones(2, device=device, requires_grad=True)  # float32
    scale = autodiff.tensor(3.0, dtype=autodiff.float64, device=device, requires_grad=True)
    out = w * scale  # float32: a 0-d tensor does not promote
    assert out.dtype is autodiff.float32
    out.sum().backward()
    assert w.grad.dtype is autodiff.float32 and scale.grad.dtype is autodiff.float64
    assert w.grad.tolist() == [3.0, 3.0] and scale.grad.item() == 2.0


# ----------------------------------------------------------------------------- numerics
def test_seed_op_gradients_at_the_tutorial_points() -> None:
    x = autodiff.tensor(4.0, requires_grad=True)
    autodiff.sin(x ** 2).backward()
    assert x.grad.item() == pytest.approx(2 * 4 * math.cos(16), rel=1e-6)
    x = autodiff.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x ** 2).mean().backward()
    np.testing.assert_allclose(values(x.grad), [2 / 3, 4 / 3, 2.0], rtol=1e-6)


def test_sigmoid_keeps_relative_precision_for_negative_inputs() -> None:
    x = autodiff.tensor([-20.0, -10.0, -5.0, 0.0, 6.7, 20.0], dtype=autodiff.float32)
    expected = 1 / (1 + np.exp(-np.array([-20.0, -10.0, -5.0, 0.0, 6.7, 20.0])))
    np.testing.assert_allclose(values(autodiff.sigmoid(x)), expected, rtol=1e-6)


def test_tensor_of_an_ndarray_makes_from_numpys_checks() -> None:
    # torch.tensor copies, but refuses what torch.from_numpy refuses, with its errors
    grid = np.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError, match=r"^At least one stride in the given numpy array is "
                                         r"negative"):
        autodiff.tensor(grid[:, ::-1])
    with pytest.raises(ValueError, match=r"^given numpy array has byte order different"):
        autodiff.tensor(np.array([1.0], dtype=">f4"))
    for array, name in ((np.array(["a"]), "str_"), (np.array([1], np.uint64), "uint64")):
        with pytest.raises(TypeError, match=rf"^can't convert np.ndarray of type numpy\.{name}\. "):
            autodiff.tensor(array)
    copied = autodiff.tensor(grid.T)  # a copy in the array's layout, as PyTorch's
    assert copied.stride() == (1, 3) and copied.tolist() == grid.T.tolist()
