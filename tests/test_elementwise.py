"""Elementwise ops where random inputs never go: PyTorch's gradients at kinks, ties and zeros,
rounding modes, integer division, errors, and second derivatives.

Expected values were produced by PyTorch 2.13 (test_torch_parity.py checks the same kinds of
cases against torch itself when it is installed).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff import autograd
from tests.helpers import leaf, raises, raises_containing, raises_starting

INF, NAN = math.inf, math.nan


def leaves(*values: object, device: str = "cpu") -> list[autodiff.Tensor]:
    return [leaf(v, device) for v in values]


def grads(function: object, *values: object, device: str = "cpu") -> list[list[float]]:
    """The gradients of function(*inputs).sum() w.r.t. each input, as lists."""
    inputs = leaves(*values, device=device)
    with np.errstate(all="ignore"):  # PyTorch computes inf/nan here silently; NumPy warns
        function(*inputs).sum().backward()  # type: ignore[operator]
    return [x.grad.tolist() if x.grad is not None else None for x in inputs]


# ----------------------------------------------------------------------------- powers at 0
def test_pow_gradients_at_zero(device: str) -> None:
    assert grads(lambda x: x ** 0.5, [0.0, 1.0], device=device) == [[INF, 0.5]]
    assert grads(lambda x: x ** 0, [0.0, 1.0], device=device) == [[0.0, 0.0]]
    assert grads(lambda x: x ** 2, [0.0, 1.0], device=device) == [[0.0, 2.0]]
    base, exponent = grads(lambda x, y: x ** y, [0.0, 0.0, 0.0, 2.0], [0.0, 1.0, -1.0, 0.0],
                           device=device)
    assert base == [0.0, 1.0, -INF, 0.0]
    assert exponent[:3] == [0.0, 0.0, -INF] and exponent[3] == pytest.approx(math.log(2))


def test_number_to_a_tensor_power_at_zero_and_negative_bases(device: str) -> None:
    assert grads(lambda y: 0.0 ** y, [0.0, 1.0, -1.0], device=device) == [[0.0, 0.0, -INF]]
    (result,) = grads(lambda y: (-2.0) ** y, [2.0, 1.0], device=device)
    assert all(math.isnan(v) for v in result)
    (result,) = grads(lambda y: 2.0 ** y, [1.0], device=device)
    assert result == [pytest.approx(2 * math.log(2))]


def test_remainder_zero_keeps_the_dividends_sign(device: str) -> None:
    # PyTorch adjusts C's fmod only for a non-zero result, so a zero keeps the dividend's sign.
    x = autodiff.tensor([-3.0, -2.0, 2.0, -0.0, 0.0, -4.5], device=device)
    for result, signs in ((autodiff.remainder(x, 2), [False, True, False, True, False, False]),
                          (autodiff.remainder(x, -1.5), [True, True, True, True, False, True]),
                          (autodiff.remainder(-4.0, autodiff.tensor([2.0, -2.0], device=device)),
                           [True, True])):
        values = np.asarray(result.cpu().tolist())
        assert np.signbit(values).tolist() == signs
    assert (autodiff.tensor([1, 2, 3], device=device) % -1.5).tolist() == [-0.5, -1.0, 0.0]
    assert not np.signbit((autodiff.tensor([3], device=device) % -1.5).cpu().tolist()[0])


def test_square_sqrt_rsqrt(device: str) -> None:
    x = autodiff.tensor([True, False])
    assert autodiff.square(x).dtype is autodiff.int64  # bool ** 2 is int64, as in PyTorch
    assert grads(lambda x: x.sqrt(), [0.0, 4.0], device=device) == [[INF, 0.25]]
    assert grads(lambda x: x.rsqrt(), [4.0], device=device) == [[-0.0625]]
    assert autodiff.tensor([1, 4]).sqrt().tolist() == [1.0, 2.0]


# ----------------------------------------------------------------------------- kinks
def test_activation_gradients_at_zero(device: str) -> None:
    assert grads(F.relu, [0.0, -1.0, 1.0], device=device) == [[0.0, 0.0, 1.0]]
    assert grads(lambda x: F.leaky_relu(x, 0.1), [0.0, -1.0, 1.0], device=device) == [
        [0.1, 0.1, 1.0]]
    (elu,) = grads(lambda x: F.elu(x, 0.5), [0.0, -1.0, 1.0], device=device)
    assert elu == [0.5, pytest.approx(0.5 * math.exp(-1)), 1.0]
    assert grads(autodiff.abs, [0.0, -2.0], device=device) == [[0.0, -1.0]]
    assert grads(autodiff.sign, [0.0, 3.0], device=device) == [[0.0, 0.0]]


def test_activations_do_not_overflow() -> None:
    x = autodiff.tensor([-1000.0, 1000.0], dtype=autodiff.float64, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = F.elu(x) + F.silu(x) + F.gelu(x) + F.softplus(x)
        out.sum().backward()
    assert out.tolist() == [-1.0, 4000.0]
    assert x.grad.tolist() == [0.0, 4.0]


def test_relu_keeps_nan_and_integers() -> None:
    assert math.isnan(autodiff.relu(autodiff.tensor([NAN])).item())
    ints = autodiff.tensor([-2, 3])
    assert autodiff.relu(ints).tolist() == [0, 3] and autodiff.relu(ints).dtype is autodiff.int64
    with raises(RuntimeError, 'Boolean inputs not supported for relu'):
        autodiff.relu(autodiff.tensor([True]))
    with raises(NotImplementedError, '"GeluKernelImpl" not implemented for \'Long\''):
        F.gelu(ints)
    with raises(NotImplementedError, '"silu_cpu" not implemented for \'Long\''):
        F.silu(ints)
    with raises_starting(RuntimeError, 'approximate argument must be either none or tanh.'):
        F.gelu(autodiff.ones(2), approximate="fast")


def test_inplace_activations() -> None:
    x = autodiff.tensor([-1.0, 2.0], requires_grad=True)
    y = x * 1
    version = y._version
    out = F.relu(y, inplace=True)
    assert out is y and y.tolist() == [0.0, 2.0] and y._version == version + 1
    assert y.grad_fn.name() == "ReluBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]
    with raises_containing(RuntimeError, 'a leaf Variable that requires grad is being used in '
                                         'an in-place operation.'):
        F.elu(x, inplace=True)


def test_erf_and_gelu_accuracy() -> None:
    values = np.concatenate([np.linspace(-7, 7, 2001), [0.0, 1e-300, 2.5, -2.5]])
    exact = np.array([math.erf(v) for v in values])
    got = np.array(autodiff.erf(autodiff.tensor(values, dtype=autodiff.float64)).tolist())
    np.testing.assert_allclose(got, exact, rtol=2e-15, atol=2e-15)
    special = autodiff.erf(autodiff.tensor([INF, -INF, NAN])).tolist()
    assert special[:2] == [1.0, -1.0] and math.isnan(special[2])
    half = autodiff.erf(autodiff.tensor([0.5], dtype=autodiff.float16))
    assert half.dtype is autodiff.float16 and half.item() == pytest.approx(math.erf(0.5), 1e-3)


# ----------------------------------------------------------------------------- ties
def test_maximum_minimum_split_ties(device: str) -> None:
    a, b = [1.0, 2.0, 3.0], [1.0, 3.0, 2.0]
    assert grads(autodiff.maximum, a, b, device=device) == [[0.5, 0.0, 1.0], [0.5, 1.0, 0.0]]
    assert grads(autodiff.minimum, a, b, device=device) == [[0.5, 1.0, 0.0], [0.5, 0.0, 1.0]]
    # NaN has no order: it wins, and the gradient reaches both sides (as in PyTorch).
    assert grads(autodiff.maximum, [NAN], [1.0], device=device) == [[1.0], [1.0]]


def test_clamp_tensor_bounds_gradients(device: str) -> None:
    x, low, high = [0.0, 1.0, 2.0, 3.0, 5.0], [1.0, 1.0, 1.0, 4.0, 4.0], [2.0, 2.0, 2.0, 4.0, 3.0]
    assert grads(autodiff.clamp, x, low, high, device=device) == [
        [0.0, 1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]]
    assert grads(lambda x, lo: x.clamp(min=lo), [0.0, 1.0, 2.0], [1.0] * 3, device=device) == [
        [0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]
    assert grads(lambda x, hi: x.clamp(max=hi), [0.0, 1.0, 2.0], [1.0] * 3, device=device) == [
        [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def test_clamp_number_bounds(device: str) -> None:
    assert grads(lambda x: x.clamp(1, 2), [0.0, 1.0, 2.0, 3.0], device=device) == [
        [0.0, 1.0, 1.0, 0.0]]
    x = autodiff.tensor([0.0, 1.5, 3.0])
    assert x.clamp(2, 1).tolist() == [1.0, 1.0, 1.0]  # min > max: max everywhere
    assert grads(lambda x: x.clamp(2, 1), [0.0, 1.5, 3.0], device=device) == [[0.0] * 3]
    ints = autodiff.tensor([-3, 1, 5])
    assert ints.clamp(0, 2).dtype is autodiff.int64
    assert ints.clamp(0.5, 2.5).tolist() == [0.5, 1.0, 2.5]
    assert autodiff.tensor([True, False]).clamp(0, 1).dtype is autodiff.int64
    with raises(RuntimeError, "torch.clamp: At least one of 'min' or 'max' must not be None"):
        x.clamp()
    with pytest.raises(TypeError, match=r"^clamp\(\) received an invalid combination"):
        x.clamp(min=autodiff.zeros(3), max=1.0)


def test_where(device: str) -> None:
    condition = autodiff.tensor([True, False, True], device=device)
    assert grads(lambda a, b: autodiff.where(condition, a, b), [1.0, 2.0, 3.0], [4.0, 5.0, 6.0],
                 device=device) == [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    assert autodiff.where(condition, 1, 0).dtype is autodiff.int64
    assert autodiff.where(condition, 1.0, 0).dtype is autodiff.float32
    assert autodiff.where(condition, True, False).dtype is autodiff.bool
    ints = autodiff.tensor([1, 2, 3], dtype=autodiff.int32, device=device)
    assert autodiff.where(condition, ints, 2.5).tolist() == [1.0, 2.5, 3.0]
    with raises(RuntimeError, 'where expected condition to be a boolean tensor, but got a '
                              'tensor with dtype Float'):
        autodiff.where(autodiff.ones(3, device=device), ints, ints)


def test_lerp() -> None:
    start, end = autodiff.tensor([1.0, 2.0]), autodiff.tensor([3.0, 5.0])
    assert autodiff.lerp(start, end, 1.0).tolist() == [3.0, 5.0]  # exact at both ends
    assert autodiff.lerp(start, end, autodiff.tensor([0.0, 1.0])).tolist() == [1.0, 5.0]
    assert grads(autodiff.lerp, [1.0, 2.0], [3.0, 5.0], [0.2, 0.7]) == [
        [0.8, pytest.approx(0.3)], [0.2, 0.7], [2.0, 3.0]]
    with raises(RuntimeError, 'expected dtype float for `end` but got dtype double'):
        autodiff.lerp(start, end.double(), 0.5)
    with raises(NotImplementedError, '"lerp_kernel_scalar" not implemented for \'Long\''):
        autodiff.lerp(autodiff.tensor([1]), autodiff.tensor([2]), 0.5)


def test_atan2_at_the_origin(device: str) -> None:
    assert grads(autodiff.atan2, [0.0, 1.0], [0.0, 1.0], device=device) == [
        [0.0, 0.5], [0.0, -0.5]]


# ----------------------------------------------------------------------------- division
def test_rounding_division() -> None:
    a = autodiff.tensor([7.0, -7.0, 7.5, -0.5])
    b = autodiff.tensor([2.0, 2.0, -2.0, 3.0])
    assert autodiff.div(a, b, rounding_mode="trunc").tolist() == [3.0, -3.0, -3.0, -0.0]
    assert autodiff.div(a, b, rounding_mode="floor").tolist() == [3.0, -4.0, -4.0, -1.0]
    assert (a // b).tolist() == [3.0, -4.0, -4.0, -1.0]
    assert (a % b).tolist() == [1.0, 1.0, -0.5, 2.5]
    ints = autodiff.tensor([7, -7, 6])
    assert autodiff.div(ints, 2, rounding_mode="trunc").tolist() == [3, -3, 3]
    assert ints.div(2, rounding_mode="floor").tolist() == [3, -4, 3]
    assert (ints // 2).dtype is autodiff.int64 and (ints % -4).tolist() == [-1, -3, -2]
    assert (7 // ints).tolist() == [1, -1, 1] and (7 % ints).tolist() == [0, 0, 1]
    assert (ints / 2).dtype is autodiff.float32
    with raises(RuntimeError, 'ZeroDivisionError'):
        _ = ints // 0
    with raises(RuntimeError, 'ZeroDivisionError'):
        _ = ints % autodiff.tensor([1, 0, 1])
    with raises(RuntimeError, "div expected rounding_mode to be one of None, 'trunc', or "
                              "'floor' but found 'round'"):
        a.div(b, rounding_mode="round")


def test_rounding_division_gradients(device: str) -> None:
    a, b = [7.0, -7.5], [2.0, 3.0]
    mode = "trunc"
    assert grads(lambda x, y: autodiff.div(x, y, rounding_mode=mode), a, b, device=device) == [
        [0.0, 0.0], [0.0, 0.0]]
    x, y = leaves(a, b, device=device)
    assert autodiff.div(x, y, rounding_mode="floor").grad_fn.name() == "DivBackward2"
    out = x // y
    with raises(RuntimeError, 'derivative for aten::floor_divide is not implemented'):
        out.sum().backward()
    assert grads(lambda x, y: x % y, a, b, device=device) == [[1.0, 1.0], [-3.0, 3.0]]


def test_bool_arithmetic_errors() -> None:
    mask = autodiff.tensor([True, False])
    with raises(RuntimeError, 'Subtraction, the `-` operator, with two bool tensors is not '
                              'supported. Use the `^` or `logical_xor()` operator instead.'):
        _ = mask - mask
    with raises(RuntimeError, 'Subtraction, the `-` operator, with a bool tensor is not '
                              'supported. If you are trying to invert a mask, use the `~` or '
                              '`logical_not()` operator instead.'):
        _ = 1 - mask
    with raises_starting(RuntimeError, 'Negation, the `-` operator, on a bool tensor is not '
                                       'supported.'):
        _ = -mask
    with raises(NotImplementedError, '"abs_cpu" not implemented for \'Bool\''):
        mask.abs()
    assert (mask + mask).dtype is autodiff.bool and mask.sign().tolist() == [True, False]


# ----------------------------------------------------------------------------- comparisons
def test_comparisons_promote_first() -> None:
    ints = autodiff.tensor([1, 2, 3])
    assert (ints == 2.5).tolist() == [False, False, False]
    assert (ints < 2.5).tolist() == [True, True, False]
    assert (autodiff.tensor([True, False]) == 1).tolist() == [True, False]
    out = autodiff.tensor([1.0, 2.0], requires_grad=True) > 1.5
    assert out.dtype is autodiff.bool and not out.requires_grad


def test_logical_and_bitwise() -> None:
    floats = autodiff.tensor([0.0, 1.0, 2.0])
    assert autodiff.logical_and(floats, autodiff.tensor([2.0, 0.5, 0.0])).tolist() == [
        False, True, False]
    assert autodiff.logical_not(floats).tolist() == [True, False, False]
    ints = autodiff.tensor([12, 10])
    assert (ints & 6).tolist() == [4, 2] and (ints | 1).tolist() == [13, 11]
    assert (ints ^ ints).tolist() == [0, 0] and (~ints).tolist() == [-13, -11]
    mask = autodiff.tensor([True, False])
    assert (mask & True).dtype is autodiff.bool and (~mask).tolist() == [False, True]
    assert (mask & ints).tolist() == [0, 0] and (mask & ints).dtype is autodiff.int64
    with raises(NotImplementedError, '"bitwise_and_cpu" not implemented for \'Float\''):
        _ = floats & floats
    with pytest.raises(TypeError, match=r"^~ \(operator.invert\) is only implemented on "
                                        r"integer and Boolean-type tensors$"):
        _ = ~floats


def test_isclose_allclose_equal() -> None:
    a = autodiff.tensor([INF, NAN, 1.0, 1.0, -INF])
    b = autodiff.tensor([INF, NAN, 1.0 + 1e-7, 1.1, INF])
    assert autodiff.isclose(a, b).tolist() == [True, False, True, False, False]
    assert autodiff.isclose(a, b, equal_nan=True).tolist()[1] is True
    assert autodiff.isclose(autodiff.tensor([100]), autodiff.tensor([101]), rtol=0.1).item()
    assert autodiff.allclose(autodiff.ones(2), autodiff.ones(2) + 1e-9) is True
    assert autodiff.equal(autodiff.ones(2), autodiff.ones(2)) is True
    assert autodiff.equal(autodiff.ones(2), autodiff.ones(3)) is False
    with raises(RuntimeError, 'Float did not match Double'):
        autodiff.isclose(autodiff.ones(1), autodiff.ones(1, dtype=autodiff.float64))
    values = autodiff.tensor([1.0, INF, -INF, NAN])
    assert values.isfinite().tolist() == [True, False, False, False]
    assert values.isinf().tolist() == [False, True, True, False]
    assert autodiff.tensor([1, 2]).isnan().tolist() == [False, False]


# ----------------------------------------------------------------------------- second order
SECOND_ORDER = {
    "tan": autodiff.tan, "tanh": autodiff.tanh, "asin": autodiff.asin, "acos": autodiff.acos,
    "atan": autodiff.atan, "sinh": autodiff.sinh, "cosh": autodiff.cosh,
    "expm1": autodiff.expm1, "log1p": autodiff.log1p, "log2": autodiff.log2,
    "log10": autodiff.log10, "erf": autodiff.erf, "sqrt": autodiff.sqrt, "rsqrt": autodiff.rsqrt,
    "square": autodiff.square, "reciprocal": autodiff.reciprocal, "abs": autodiff.abs,
    "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "elu": F.elu,
    "silu": F.silu, "leaky_relu": F.leaky_relu, "relu": F.relu, "softplus": F.softplus,
    "pow": lambda x: x ** 2.5, "rpow": lambda x: 1.7 ** x, "pow_tensor": lambda x: x ** (x + 1),
    "atan2": lambda x: autodiff.atan2(x, x * x + 0.5), "maximum": lambda x: autodiff.maximum(
        x, x * x), "clamp_tensor": lambda x: x.clamp(x * x - 0.5, x * x + 0.3),
    "lerp_tensor": lambda x: autodiff.lerp(x, x * x, x * 0.5), "remainder": lambda x: (x * 3) % 1.3,
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order_gradients(name: str, device: str) -> None:
    """Backward formulas are Tensor ops: differentiating them again matches the numbers."""
    function = SECOND_ORDER[name]
    values = autodiff.tensor([0.3, 0.55, 0.8, 0.65], dtype=autodiff.float64, device=device,
                             requires_grad=True)
    weights = autodiff.tensor([1.0, -0.5, 2.0, 0.7], dtype=autodiff.float64, device=device)
    assert autograd.gradgradcheck(function, (values,), (weights,))


def test_bool_ordering_and_extremes(device: str) -> None:
    """False < True, max is `or`, min is `and` (the array API orders no bools)."""
    a = autodiff.tensor([False, False, True, True], device=device)
    b = autodiff.tensor([False, True, False, True], device=device)
    assert (a < b).tolist() == [False, True, False, False]
    assert (a >= True).tolist() == [False, False, True, True]
    assert autodiff.maximum(a, b).tolist() == [False, True, True, True]
    assert autodiff.minimum(a, b).dtype is autodiff.bool
    assert a.clamp(min=b).tolist() == [False, True, True, True]
    ints = autodiff.tensor([7, -7], device=device)
    assert autodiff.div(ints, 2, rounding_mode="trunc").tolist() == [3, -3]
