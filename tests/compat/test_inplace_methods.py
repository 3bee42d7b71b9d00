"""The in-place `_` twins of the out-of-place ops (Tensor methods and the torch-level functions):
values written into the tensor itself in its own dtype, the version counter bumped once, the
autograd refusals (a leaf that requires grad, a view of one), the node the tensor takes and the
gradient through it, and PyTorch's errors when the result cannot be written back (a float result
into an integer tensor, a broadcast shape into a smaller one) -- checked before any kernel runs.

Asserted outcomes run everywhere; with torch installed every case is also run through PyTorch
(the whole matrix of dtypes and autograd situations) and the outcomes compared."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.helpers import raises, raises_starting

KINDS = ("float64", "float32", "int64", "uint8", "bool", "0-d")
MODES = ("plain", "leaf", "view of a leaf", "non-leaf")


def _make(lib: Any, kind: str, device: str = "cpu") -> Any:
    if kind == "int64":
        return lib.tensor([[1, -2, 3], [0, 5, -6]], device=device)
    if kind == "uint8":
        return lib.tensor([[1, 2, 3], [0, 5, 6]], dtype=lib.uint8, device=device)
    if kind == "bool":
        return lib.tensor([[True, False, True], [False, False, True]], device=device)
    if kind == "0-d":
        return lib.tensor(0.5, dtype=lib.float64, device=device)
    dtype = lib.float64 if kind == "float64" else lib.float32
    return lib.tensor([[0.5, -1.25, 2.0], [0.75, 1.5, -0.3]], dtype=dtype, device=device)


Args = Callable[[Any, str], tuple[Any, ...]]


def _none(lib: Any, device: str) -> tuple[Any, ...]:
    return ()


def _with(*values: Any) -> Args:
    return lambda lib, device: values


def _tensor(kind: str) -> Args:
    return lambda lib, device: (_make(lib, kind, device),)


# method name -> the argument lists it is called with
CALLS: dict[str, tuple[Args, ...]] = {
    **{name: (_none,) for name in (
        "abs_", "absolute_", "sqrt_", "rsqrt_", "exp_", "expm1_", "log_", "log1p_", "log2_",
        "log10_", "erf_", "sin_", "cos_", "tan_", "asin_", "acos_", "atan_", "arcsin_",
        "arccos_", "arctan_", "sinh_", "cosh_", "tanh_", "sigmoid_", "relu_", "neg_",
        "negative_", "reciprocal_", "square_", "sign_", "floor_", "ceil_", "trunc_", "fix_",
        "round_", "t_", "logical_not_", "bitwise_not_", "zero_", "detach_")},
    "round_": (_none,),
    "atan2_": (_tensor("float64"), _tensor("float32")),
    "arctan2_": (_tensor("float64"),),
    "clamp_min_": (_with(0.1), _with(1)),
    "clamp_max_": (_with(0.3), _tensor("float64")),
    "clamp_": (_with(0.0, 1.0), _with(None, 1)),
    "clip_": (_with(0.0, 1.0),),
    "subtract_": (_tensor("float64"), _with(2)),
    "multiply_": (_tensor("float64"), _with(2.5)),
    "true_divide_": (_tensor("float64"), _with(2)),
    "divide_": (_with(2),),
    "floor_divide_": (_tensor("int64"), _with(2)),
    "remainder_": (_with(0.75), _tensor("int64")),
    "cumsum_": (_with(1),),
    "cumprod_": (_with(0),),
    "eq_": (_with(0.5), _tensor("float64")),
    "ne_": (_with(0.5),), "lt_": (_with(0.5),), "le_": (_with(0.5),), "gt_": (_with(0.5),),
    "ge_": (_tensor("float64"),), "not_equal_": (_with(0.5),), "less_": (_with(0.5),),
    "less_equal_": (_with(0.5),), "greater_": (_with(0.5),), "greater_equal_": (_with(0.5),),
    "logical_and_": (_tensor("float64"), _tensor("bool")),
    "logical_or_": (_tensor("int64"),),
    "logical_xor_": (_tensor("float64"),),
    "bitwise_and_": (_tensor("int64"), _with(3)),
    "bitwise_or_": (_tensor("int64"),),
    "bitwise_xor_": (_tensor("bool"),),
    "transpose_": (_with(0, 1),), "swapaxes_": (_with(0, 1),), "swapdims_": (_with(1, 0),),
    "unsqueeze_": (_with(1),),
    "squeeze_": (_none, _with(0)),
    "fill_": (_with(1.5), lambda lib, device: (lib.tensor(2.0, device=device),)),
}
SHAPE_OPS = ("t_", "transpose_", "swapaxes_", "swapdims_")


def _values(tensor: Any) -> list[str]:
    """Values to compare across libraries: 5 significant digits, nan and inf spelled out."""
    array = np.asarray(tensor.detach().cpu().tolist(), dtype=float).ravel()
    return [np.format_float_scientific(value, precision=4) for value in array]


def _outcome(lib: Any, name: str, kind: str, arguments: Args, mode: str,
             device: str = "cpu") -> Any:
    """What `x.<name>(*arguments)` does: (returns x, version delta, dtype, shape, values) and,
    for a non-leaf, its node and the gradient through it; or (exception type, first line)."""
    floating = kind in ("float64", "float32")
    try:
        if mode == "plain":
            x = _make(lib, kind, device)
        elif mode == "leaf":
            if not floating and kind != "0-d":
                return "n/a"
            x = _make(lib, kind, device).requires_grad_()
        else:
            if not floating:
                return "n/a"
            base = _make(lib, kind, device).requires_grad_()
            view = base[:1] if name in SHAPE_OPS else base[0]
            x = base * 1 if mode == "non-leaf" else view
        before = x._version
        result = getattr(x, name)(*arguments(lib, device))
        outcome: tuple[Any, ...] = (result is x, x._version - before,
                                    str(x.dtype).split(".")[-1], tuple(x.shape), _values(x))
        if mode == "non-leaf":
            outcome += (x.grad_fn.name() if x.grad_fn is not None else None,)
            try:
                x.sum().backward()
                outcome += (_values(base.grad),)
            except RuntimeError as error:
                outcome += ("RuntimeError", str(error).splitlines()[0])
        return outcome
    except Exception as error:
        return type(error).__name__, str(error).splitlines()[0]


# logical_and_ & co.: PyTorch skips its autograd checks for them (they are not differentiable)
# and keeps the tensor's previous node, so gradients flow through as if nothing had been
# written. Here they refuse a leaf that requires grad like every in-place op, and record a node
# whose gradient is zero (the function is piecewise constant). Not compared with PyTorch.
_LOGICAL = ("logical_and_", "logical_or_", "logical_xor_", "logical_not_")

MATRIX = [pytest.param(name, index, arguments, id=f"{name}[{index}]")
          for name, argument_lists in CALLS.items()
          for index, arguments in enumerate(argument_lists)]


@pytest.mark.parametrize(("name", "index", "arguments"), MATRIX)
def test_matches_pytorch_over_dtypes_and_autograd_situations(
        name: str, index: int, arguments: Args) -> None:
    torch = pytest.importorskip("torch")
    mismatches = []
    for kind in KINDS:
        for mode in MODES:
            if name in _LOGICAL and mode != "plain":
                continue
            ours = _outcome(autodiff, name, kind, arguments, mode)
            theirs = _outcome(torch, name, kind, arguments, mode)
            if ours != theirs:
                mismatches.append((kind, mode, ours, theirs))
    assert not mismatches


@pytest.mark.parametrize(("name", "index", "arguments"), MATRIX)
def test_each_device_writes_the_values_in_place(device: str, name: str, index: int,
                                                arguments: Args) -> None:
    device_type = autodiff.device(device).type
    for kind in KINDS:
        ours = _outcome(autodiff, name, kind, arguments, "plain", device)
        if isinstance(ours[0], str):  # kernel names carry the device ("abs_cuda")
            ours = (ours[0], ours[1].replace(f'_{device_type}"', '_cpu"'))
        assert ours == _outcome(autodiff, name, kind, arguments, "plain"), kind
        if not isinstance(ours[0], str):
            assert ours[:2] == (True, 0 if name == "detach_" else 1)


# ----------------------------------------------------------------------------- asserted cases
def test_values_dtype_and_version() -> None:
    x = autodiff.tensor([0.25, 4.0])
    version = x._version
    assert x.sqrt_() is x
    assert x.tolist() == [0.5, 2.0] and x.dtype is autodiff.float32
    assert x._version == version + 1
    assert autodiff.exp_(x) is x and x._version == version + 2
    np.testing.assert_allclose(x.tolist(), [math.exp(0.5), math.exp(2.0)], rtol=1e-6)


def test_results_that_cannot_be_written_back(device: str) -> None:
    integers = autodiff.tensor([1, 4], device=device)
    with raises(RuntimeError, "result type Float can't be cast to the desired output type Long"):
        integers.sqrt_()
    with raises(RuntimeError, "result type Float can't be cast to the desired output type "
                              "long int"):
        integers.clamp_(0.5)
    flags = autodiff.tensor([True, False], device=device)
    # Checked before the kernel: no division by zero is reported.
    with raises(RuntimeError, "result type Long can't be cast to the desired output type Bool"):
        flags.floor_divide_(autodiff.tensor([0, 0], device=device))
    with raises(RuntimeError, "output with shape [] doesn't match the broadcast shape [2]"):
        autodiff.tensor(1.0, device=device).bitwise_and_(autodiff.tensor([1.0, 2.0],
                                                                         device=device))
    with raises(NotImplementedError, "\"cumsum_out_cpu\" not implemented for 'Bool'"):
        autodiff.tensor([True]).cumsum_(0)
    with raises(RuntimeError, "Bad in-place call: input tensor dtype long int and output tensor "
                              "dtype double should match"):
        integers.cumsum_(0, dtype=autodiff.float64)
    assert integers.tolist() == [1, 4] and flags.tolist() == [True, False]


def test_autograd_refusals_and_history() -> None:
    leaf = autodiff.tensor([0.5, 2.0], requires_grad=True)
    with raises(RuntimeError, "a leaf Variable that requires grad is being used in an in-place "
                              "operation."):
        leaf.log_()
    with raises(RuntimeError, "a view of a leaf Variable that requires grad is being used in "
                              "an in-place operation."):
        leaf[:1].tanh_()
    y = leaf * 1
    y.reciprocal_()
    assert y.grad_fn.name() == "ReciprocalBackward0"
    y.sum().backward()
    assert leaf.grad.tolist() == [-4.0, -0.25]
    z = leaf * 1
    z.floor_divide_(2)
    with raises(RuntimeError, "derivative for aten::floor_divide_ is not implemented"):
        z.sum().backward()


def test_shape_changes_in_place_keep_the_memory() -> None:
    x = autodiff.arange(6.0).reshape(2, 3)
    view = x[0]
    assert x.t_() is x and x.shape == (3, 2) and x._version == 1
    x.unsqueeze_(0)
    assert x.shape == (1, 3, 2)
    x.squeeze_(0)
    x[0, 0] = 10.0
    assert view.tolist() == [10.0, 1.0, 2.0]  # still the same memory


def test_logical_ops_in_place_have_zero_gradients() -> None:
    base = autodiff.tensor([0.5, 0.0, -2.0], requires_grad=True)
    x = base * 3
    x.logical_not_()
    assert x.tolist() == [0.0, 1.0, 0.0] and x.grad_fn.name() == "LogicalNotBackward0"
    x.sum().backward()
    assert base.grad.tolist() == [0.0, 0.0, 0.0]
    with raises(RuntimeError, "a leaf Variable that requires grad is being used in an in-place "
                              "operation."):
        base.logical_and_(autodiff.ones(3))


# ----------------------------------------------------------------------------- torch.<op>_
# The torch.<op>_ twins of Tensor.<op>_ methods (fill_ and zero_ below; index_put_ and
# resize_as_ take more, in test_compat_names.py; nn's celu_ & co. have no Tensor method).
FUNCTIONS = sorted(name for name in dir(autodiff)
                   if name.endswith("_") and not name.startswith("_")
                   and callable(getattr(autodiff, name)) and hasattr(autodiff.Tensor, name)
                   and name not in ("fill_", "zero_", "index_put_", "resize_as_",
                                    # more operands; tested in test_math_special.py
                                    "addmv_", "gcd_", "lcm_", "ldexp_", "xlogy_"))
_ARGUMENTS = {"clamp_": (0.0, 1.0), "clip_": (0.0, 1.0), "clamp_min_": (0.1,),
              "clamp_max_": (0.3,)}
_OVERLOADED = ("clamp_", "clip_", "clamp_min_", "clamp_max_")


@pytest.mark.parametrize("name", FUNCTIONS)
def test_torch_level_functions(name: str) -> None:
    function = getattr(autodiff, name)
    x = autodiff.tensor([0.25, 0.5])
    expected = getattr(autodiff.tensor([0.25, 0.5]), name)(*_ARGUMENTS.get(name, ()))
    assert function(x, *_ARGUMENTS.get(name, ())) is x
    np.testing.assert_array_equal(x.numpy(), expected.numpy())  # nan (acosh_) equals nan
    assert x._version == (0 if name == "detach_" else 1)
    if name in _OVERLOADED:
        with raises_starting(TypeError, f"{name}() received an invalid combination of "
                                        "arguments - got (float"):
            function(0.5, *_ARGUMENTS[name])
    else:
        with raises(TypeError, f"{name}(): argument 'input' (position 1) must be Tensor, not "
                               "float"):
            function(0.5)


def test_torch_fill_and_zero() -> None:
    x = autodiff.ones(2, 3)
    assert autodiff.fill_(x, 2) is x and x.tolist() == [[2.0] * 3] * 2
    assert autodiff.zero_(x) is x and x.tolist() == [[0.0] * 3] * 2
    with raises_starting(TypeError, "fill_() received an invalid combination of arguments - got "
                                    "(float, float), but expected one of:"):
        autodiff.fill_(0.5, 1.0)
    with raises(TypeError, "zero_(): argument 'input' (position 1) must be Tensor, not int"):
        autodiff.zero_(2)


@pytest.mark.parametrize("name", [*FUNCTIONS, "fill_", "zero_"])
def test_torch_level_functions_exist_in_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    assert callable(getattr(torch, name))
