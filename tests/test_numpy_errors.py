"""Where NumPy would raise its own exception (ValueError, OverflowError, IndexError,
AttributeError) or quietly compute what PyTorch refuses, PyTorch's behaviour: its result, or
its exception type and wording.

Each case is written once against a module `t` (autodiff, or torch for the cross-check), so the
expected messages and values are PyTorch's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import autodiff
from tests.helpers import raises


def _setitem(t: Any, key: Callable[[Any], Any], value: Callable[[Any], Any]) -> Any:
    x = t.zeros(3, 2)
    x[key(t)] = value(t)
    return x


def _assign(t: Any, dtype: str, index: int, value: Any) -> Any:
    x = t.ones(2, dtype=getattr(t, dtype))
    x[index] = value
    return x


# name, case, expected result (a list) or (exception type, message)
CASES: list[tuple[str, Callable[[Any], Any], Any]] = [
    # Integer powers with negative exponents: integer arithmetic, as PyTorch (NumPy raises).
    ("int_pow_tensor",
     lambda t: t.tensor([0, 1, -1, 2, -2, 3]) ** t.tensor([-1, -2, -3, -1, -1, -2]),
     [0, 1, -1, 0, 0, 0]),
    ("int_rpow", lambda t: 2 ** t.tensor([1, -2]), [2, 0]),
    ("minus_one_rpow", lambda t: (-1) ** t.tensor([-3, -2, 3]), [-1, 1, -1]),
    ("uint8_pow_int64", lambda t: t.tensor([2, 3], dtype=t.uint8) ** t.tensor([-1, 2]), [0, 9]),
    ("int_pow_negative_number", lambda t: t.tensor([1, 2]) ** -1,
     (RuntimeError, "Integers to negative integer powers are not allowed.")),
    # Broadcasting errors with an empty dim.
    ("where_empty", lambda t: t.where(t.ones(1, 0, dtype=t.bool), t.ones(1, 2), t.ones(1, 2)),
     (RuntimeError, "The size of tensor a (0) must match the size of tensor b (2) at "
                    "non-singleton dimension 1")),
    ("lerp_empty", lambda t: t.lerp(t.ones(1, 0), t.ones(1, 2), 0.5),
     (RuntimeError, "The size of tensor a (0) must match the size of tensor b (2) at "
                    "non-singleton dimension 1")),
    ("lerp_weight_empty", lambda t: t.lerp(t.ones(1, 2), t.ones(1, 2), t.ones(1, 0)),
     (RuntimeError, "The size of tensor a (2) must match the size of tensor b (0) at "
                    "non-singleton dimension 1")),
    ("take_along_dim_empty",
     lambda t: t.take_along_dim(t.ones(3, 0), t.zeros(1, 2, dtype=t.int64), 0),
     (RuntimeError, "The size of tensor a (0) must match the size of tensor b (2) at "
                    "non-singleton dimension 1")),
    ("clamp_tensors", lambda t: t.ones(2, 3).clamp(t.zeros(3, 2)),
     (RuntimeError, "The size of tensor a (3) must match the size of tensor b (2) at "
                    "non-singleton dimension 1")),
    # movedim of a 0-d tensor, and its checks.
    ("movedim_0d", lambda t: t.movedim(t.tensor(1.0), 0, 0), 1.0),
    ("movedim_0d_lists", lambda t: t.movedim(t.tensor(1.0), [-1], [0]), 1.0),
    ("movedim_repeated", lambda t: t.movedim(t.ones(2, 3, 4), [0, 0], [1, 2]),
     (RuntimeError, "movedim: repeated dim in `source` ([0, 0])")),
    ("movedim_count", lambda t: t.movedim(t.ones(2, 3, 4), [0, -1], [1]),
     (RuntimeError, "movedim: Invalid source or destination dims: source ([0, -1] dims) should "
                    "contain the same number of dims as destination ([1] dims)")),
    # A source of another dtype: refused as PyTorch does (NumPy would cast).
    ("index_put_dtype", lambda t: _setitem(t, lambda t: t.tensor([0]), lambda t: t.tensor(
        2.0, dtype=t.float64)),
     (RuntimeError, "Index put requires the source and destination dtypes match, got Float for "
                    "the destination and Double for the source.")),
    ("mask_put_dtype", lambda t: _setitem(t, lambda t: t.tensor([True, False, True]),
                                          lambda t: t.tensor([1, 2]).reshape(2, 1)),
     (RuntimeError, "Index put requires the source and destination dtypes match, got Float for "
                    "the destination and Long for the source.")),
    # ... except a one-element source for one boolean mask (PyTorch's masked_fill_ path).
    ("mask_fill_dtype", lambda t: _setitem(t, lambda t: t.tensor([True, False, True]),
                                           lambda t: t.tensor(2.0, dtype=t.float64)),
     [[2.0, 2.0], [0.0, 0.0], [2.0, 2.0]]),
    ("index_put_method_dtype", lambda t: t.zeros(3).index_put_(
        (t.tensor([0, 1]),), t.tensor([1.0, 2.0], dtype=t.float64)),
     (RuntimeError, "Index put requires the source and destination dtypes match, got Float for "
                    "the destination and Double for the source.")),
    ("scatter_dtype", lambda t: t.zeros(3).scatter(0, t.tensor([0, 1]), t.ones(2, dtype=t.float64)),
     (RuntimeError, "scatter(): Expected self.dtype to be equal to src.dtype")),
    ("scatter_add_dtype", lambda t: t.zeros(3).scatter_add(0, t.tensor([0, 1]),
                                                           t.ones(2, dtype=t.float64)),
     (RuntimeError, "scatter(): Expected self.dtype to be equal to src.dtype")),
    ("scatter_add_index_dtype", lambda t: t.zeros(3).scatter_add(0, t.tensor([0.0]), t.ones(1)),
     (RuntimeError, "scatter(): Expected dtype int32/int64 for index")),
    ("index_add_dtype", lambda t: t.zeros(3).index_add(0, t.tensor([0, 1]),
                                                       t.ones(2, dtype=t.float64)),
     (RuntimeError, "index_add_(): self (Float) and source (Double) must have the same scalar "
                    "type")),
    ("scatter_0d_source", lambda t: t.zeros(3).scatter(0, t.tensor([1]), t.tensor(3.0)),
     [0.0, 3.0, 0.0]),
    ("scatter_0d_source_2d", lambda t: t.zeros(2, 2).scatter(1, t.tensor([[1]]), t.tensor(3.0)),
     (RuntimeError, "Index tensor must have the same number of dimensions as src tensor")),
    # bool matrix products: PyTorch has no kernel.
    ("bool_mm", lambda t: t.ones(2, 2, dtype=t.bool) @ t.ones(2, 2, dtype=t.bool),
     (NotImplementedError, "\"addmm_impl_cpu_\" not implemented for 'Bool'")),
    ("bool_mv", lambda t: t.ones(2, 2, dtype=t.bool) @ t.ones(2, dtype=t.bool),
     (NotImplementedError, "\"addmv_impl_cpu\" not implemented for 'Bool'")),
    ("bool_dot", lambda t: t.ones(2, dtype=t.bool) @ t.ones(2, dtype=t.bool),
     (NotImplementedError, "\"dot\" not implemented for 'Bool'")),
    ("bool_bmm", lambda t: t.ones(2, 2, 2, dtype=t.bool) @ t.ones(2, 2, 2, dtype=t.bool),
     (NotImplementedError, "\"bmm\" not implemented for 'Bool'")),
    ("bool_linear", lambda t: t.nn.functional.linear(t.ones(2, 2, dtype=t.bool),
                                                     t.ones(2, 2, dtype=t.bool)),
     (NotImplementedError, "\"addmm_impl_cpu_\" not implemented for 'Bool'")),
    ("bool_mm_empty", lambda t: t.ones(0, 3, dtype=t.bool) @ t.ones(3, 2, dtype=t.bool),
     []),
    ("bool_trace", lambda t: t.ones(2, 2, dtype=t.bool).trace(),
     (NotImplementedError, "\"trace\" not implemented for 'Bool'")),
    ("bool_clamp", lambda t: t.tensor([True, False]).clamp(min=True),
     (NotImplementedError, "\"clamp_min_scalar_cpu\" not implemented for 'Bool'")),
    # Python ints beyond an integer dtype: wrapped in arithmetic and comparisons...
    ("uint8_add", lambda t: t.tensor([1, 2, 3], dtype=t.uint8) + 300, [45, 46, 47]),
    ("uint8_minus_one", lambda t: t.tensor([1, 2, 3], dtype=t.uint8) + (-1), [0, 1, 2]),
    ("int8_mul", lambda t: t.tensor([1, 2, 3], dtype=t.int8) * 1000, [-24, -48, -72]),
    ("uint8_rsub", lambda t: 300 - t.tensor([1, 2, 3], dtype=t.uint8), [43, 42, 41]),
    ("uint8_floordiv", lambda t: t.tensor([1, 2, 3], dtype=t.uint8) // -1, [0, 0, 0]),
    ("uint8_remainder", lambda t: t.tensor([1, 2, 3], dtype=t.uint8) % 300, [1, 2, 3]),
    ("uint8_rpow", lambda t: (-1) ** t.tensor([1, 2, 3], dtype=t.uint8), [255, 1, 255]),
    ("uint8_lt", lambda t: t.tensor([1, 2, 3], dtype=t.uint8) < -1, [True, True, True]),
    ("int64_add", lambda t: t.tensor([1]) + 2 ** 63, [-9223372036854775807]),
    ("int8_add_", lambda t: t.tensor([1, 2, 3], dtype=t.int8).add_(300), [45, 46, 47]),
    ("uint8_true_divide", lambda t: t.tensor([3], dtype=t.uint8) / 300, [0.009999999776482582]),
    # ... and refused where they are stored.
    ("uint8_full", lambda t: t.full((2,), 300, dtype=t.uint8),
     (RuntimeError, "value cannot be converted to type uint8_t without overflow")),
    ("uint8_full_negative", lambda t: t.full((2,), -1, dtype=t.uint8), [255, 255]),
    ("int8_fill", lambda t: t.zeros(2, dtype=t.int8).fill_(300),
     (RuntimeError, "value cannot be converted to type int8_t without overflow")),
    ("int32_masked_fill", lambda t: t.zeros(2, dtype=t.int32).masked_fill(
        t.tensor([True, False]), 2 ** 40),
     (RuntimeError, "value cannot be converted to type int without overflow")),
    ("uint8_where", lambda t: t.where(t.tensor([True, False]), t.ones(2, dtype=t.uint8), 300),
     (RuntimeError, "value cannot be converted to type uint8_t without overflow")),
    ("uint8_clamp", lambda t: t.ones(2, dtype=t.uint8).clamp(max=300),
     (RuntimeError, "value cannot be converted to type uint8_t without overflow")),
    ("uint8_pow", lambda t: t.ones(2, dtype=t.uint8) ** 300,
     (RuntimeError, "value cannot be converted to type uint8_t without overflow")),
    ("uint8_setitem", lambda t: _assign(t, "uint8", 0, 300),
     (RuntimeError, "value cannot be converted to type uint8_t without overflow")),
    ("uint8_tensor", lambda t: t.tensor([300], dtype=t.uint8),
     (RuntimeError, "value cannot be converted to type uint8 without overflow")),
    ("bool_mul_", lambda t: t.ones(2, dtype=t.bool).mul_(2),
     (RuntimeError, "result type Long can't be cast to the desired output type Bool")),
    # A number where a tensor argument is required.
    ("matmul_number", lambda t: t.matmul(t.ones(3), 2),
     (TypeError, "matmul(): argument 'other' (position 2) must be Tensor, not int")),
    ("mm_number", lambda t: t.mm(t.ones(2, 2), 2.5),
     (TypeError, "mm(): argument 'mat2' (position 2) must be Tensor, not float")),
    ("dot_number", lambda t: t.dot(t.ones(2), 2),
     (TypeError, "dot(): argument 'tensor' (position 2) must be Tensor, not int")),
    ("atan2_number", lambda t: t.atan2(t.ones(2), 2),
     (TypeError, "atan2(): argument 'other' (position 2) must be Tensor, not int")),
    ("isclose_number", lambda t: t.isclose(t.ones(2), 1),
     (TypeError, "isclose(): argument 'other' (position 2) must be Tensor, not int")),
    ("equal_number", lambda t: t.equal(t.ones(2), 1),
     (TypeError, "equal(): argument 'other' (position 2) must be Tensor, not int")),
    # Integer division by zero is checked only where something is divided.
    ("empty_floor_divide", lambda t: t.zeros(0, 3, dtype=t.int64) // t.tensor([1, 0, 2]), []),
]


@pytest.mark.parametrize(("name", "case", "expected"), CASES, ids=[c[0] for c in CASES])
def test_pytorch_behaviour_not_numpy_exceptions(name: str, case: Callable[[Any], Any],
                                                expected: Any) -> None:
    if isinstance(expected, tuple):
        error, message = expected
        with raises(error, message):
            case(autodiff)
    else:
        assert case(autodiff).tolist() == expected


@pytest.mark.parametrize(("name", "case", "expected"), CASES, ids=[c[0] for c in CASES])
def test_expectations_are_pytorchs(name: str, case: Callable[[Any], Any],
                                   expected: Any) -> None:
    torch = pytest.importorskip("torch")
    if isinstance(expected, tuple):
        error, message = expected
        with raises(error, message):
            case(torch)
    else:
        assert case(torch).tolist() == expected


def test_movedim_of_0d_is_an_alias_with_its_node() -> None:
    x = autodiff.tensor(1.0, requires_grad=True)
    out = autodiff.movedim(x, 0, 0)
    assert out.grad_fn.name() == "AliasBackward0"
    out.backward()
    assert x.grad.item() == 1.0


def test_failed_assignment_changes_nothing() -> None:
    x = autodiff.zeros(3)
    with pytest.raises(RuntimeError):
        x[autodiff.tensor([0, 1])] = autodiff.tensor([1.0, 2.0], dtype=autodiff.float64)
    with pytest.raises(RuntimeError):
        x.scatter_add_(0, autodiff.tensor([0]), autodiff.ones(1, dtype=autodiff.float64))
    with pytest.raises(RuntimeError):
        x.index_add_(0, autodiff.tensor([0]), autodiff.ones(1, dtype=autodiff.float64))
    assert x.tolist() == [0.0, 0.0, 0.0]
