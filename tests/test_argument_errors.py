"""A function, Tensor method or operator called with an argument PyTorch's parser refuses (an
`object()`, a string or a list where a Tensor belongs) raises PyTorch's TypeError with its
wording, checked against torch itself (skipped when torch is not installed), and leaves its
tensors untouched."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff

torch = pytest.importorskip("torch")

BAD = object()

# name -> function of (library, x): each call has one argument PyTorch refuses.
CASES: dict[str, Any] = {
    "add_other": lambda L, x: L.add(x, BAD),
    "add_input": lambda L, x: L.add(BAD, x),
    "add_both": lambda L, x: L.add(BAD, BAD),
    "add_keyword": lambda L, x: L.add(x, other=BAD),
    "add_alpha": lambda L, x: L.add(x, x, alpha=BAD),
    "add_string": lambda L, x: L.add(x, "a"),
    "add_none": lambda L, x: L.add(x, None),
    "sub": lambda L, x: L.sub(x, BAD),
    "mul": lambda L, x: L.mul(x, BAD),
    "mul_list": lambda L, x: L.mul(x, [1, 2, 3]),
    "div": lambda L, x: L.div(x, BAD),
    "matmul": lambda L, x: L.matmul(x, BAD),
    "matmul_input": lambda L, x: L.matmul(BAD, x),
    "mm": lambda L, x: L.mm(x, BAD),
    "maximum": lambda L, x: L.maximum(x, BAD),
    "minimum": lambda L, x: L.minimum(x, BAD),
    "atan2": lambda L, x: L.atan2(x, BAD),
    "dot": lambda L, x: L.dot(x, BAD),
    "exp": lambda L, x: L.exp(BAD),
    "sum": lambda L, x: L.sum(BAD),
    "cat_element": lambda L, x: L.cat([x, BAD]),
    "cat_element_int": lambda L, x: L.stack((x, 3)),
    "cat_not_a_sequence": lambda L, x: L.cat(BAD),
    "stack_element": lambda L, x: L.stack([x, BAD]),
    "linear_weight": lambda L, x: L.nn.functional.linear(x, BAD),
    "linear_bias": lambda L, x: L.nn.functional.linear(x, L.ones(3, 3), BAD),
    "relu": lambda L, x: L.nn.functional.relu(BAD),
    # Functions of several overloads: PyTorch's "invalid combination" (its first line)
    "pow": lambda L, x: L.pow(x, BAD),
    "pow_base": lambda L, x: L.pow(BAD, x),
    "where_other": lambda L, x: L.where(x > 0, x, BAD),
    "where_condition": lambda L, x: L.where(BAD, x, x),
    "eq": lambda L, x: L.eq(x, BAD),
    "lt": lambda L, x: L.lt(x, BAD),
    "clamp": lambda L, x: L.clamp(x, BAD),
    "remainder": lambda L, x: L.remainder(x, BAD),
    # Tensor methods (positions count from the first argument after self) and operators
    "method_add": lambda L, x: x.add(BAD),
    "method_add_list": lambda L, x: x.add([1, 2, 3]),
    "method_sub": lambda L, x: x.sub(BAD),
    "method_mul": lambda L, x: x.mul(BAD),
    "method_div": lambda L, x: x.div(BAD),
    "method_pow": lambda L, x: x.pow(BAD),
    "method_matmul": lambda L, x: x.matmul(BAD),
    "method_maximum": lambda L, x: x.maximum(BAD),
    "method_dot": lambda L, x: x.dot(BAD),
    "method_eq": lambda L, x: x.eq(BAD),
    "method_lt": lambda L, x: x.lt(BAD),
    "method_add_": lambda L, x: x.add_(BAD),
    "method_mul_": lambda L, x: x.mul_(BAD),
    "method_sub_list_": lambda L, x: x.sub_([1, 2, 3]),
    "operator_add": lambda L, x: x + BAD,
    "operator_mul": lambda L, x: x * BAD,
    "operator_matmul": lambda L, x: x @ BAD,
    "operator_pow": lambda L, x: x ** BAD,
    "operator_lt": lambda L, x: x < BAD,
    "operator_add_none": lambda L, x: x + None,
    "operator_floordiv_string": lambda L, x: x // "a",
    "operator_rsub": lambda L, x: BAD - x,
    "operator_iadd": lambda L, x: _iadd(x, BAD),
    "operator_and": lambda L, x: x.int() & BAD,
    "operator_lshift": lambda L, x: x.int() << None,
    # Binary ops of Tensors and Numbers: anything else is PyTorch's "invalid combination"
    "bitwise_and": lambda L, x: L.bitwise_and(x.int(), BAD),
    "method_bitwise_and": lambda L, x: x.int().bitwise_and(None),
    "method_bitwise_or_string": lambda L, x: x.int().bitwise_or("a"),
    "method_bitwise_xor_": lambda L, x: x.int().bitwise_xor_(BAD),
    "method_bitwise_left_shift": lambda L, x: x.int().bitwise_left_shift(None),
    "bitwise_right_shift": lambda L, x: L.bitwise_right_shift(x.int(), BAD),
    "method_bitwise_left_shift_": lambda L, x: x.int().bitwise_left_shift_(None),
    "floor_divide_number_first": lambda L, x: L.floor_divide(None, x),
    "remainder_number_first": lambda L, x: L.remainder(None, x),
    "remainder_string_first": lambda L, x: L.remainder("a", x),
    # In-place forms of functions of several overloads word it the same way
    "method_pow_": lambda L, x: x.pow_(None),
    "method_eq_": lambda L, x: x.eq_(None),
    "method_remainder_": lambda L, x: x.remainder_(None),
    "method_floor_divide_": lambda L, x: x.floor_divide_(None),
    "method_lerp_": lambda L, x: x.lerp_(x, None),
    "method_clamp_": lambda L, x: x.clamp_(BAD),
    "method_fill_": lambda L, x: x.fill_(None),
    "method_float_power_": lambda L, x: x.float_power_(None),
    # Logical ops take Tensors only
    "logical_and": lambda L, x: L.logical_and(x, BAD),
    "logical_and_number": lambda L, x: L.logical_and(x, 1),
    "method_logical_and": lambda L, x: x.logical_and(None),
    "method_logical_or_": lambda L, x: x.logical_or_(None),
    # linalg, special and fft functions are C++-bound in PyTorch: a missing argument gets its
    # parser's message under the native name (its singular and plural swapped).
    "linalg_solve_missing_B": lambda L, x: L.linalg.solve(x),
    "linalg_solve_ex_missing_B": lambda L, x: L.linalg.solve_ex(x),
    "linalg_solve_missing_both": lambda L, x: L.linalg.solve(),
    "linalg_inv_missing": lambda L, x: L.linalg.inv(),
    "fft_missing": lambda L, x: L.fft.fft(),
}


def _iadd(x: Any, other: Any) -> Any:
    x += other
    return x


@pytest.mark.parametrize("name", list(CASES))
def test_refused_as_pytorch(name: str) -> None:
    errors = []
    for library in (torch, autodiff):
        x = library.tensor([1.0, 2.0, 3.0])
        with pytest.raises(TypeError) as info:
            CASES[name](library, x)
        errors.append(str(info.value).split("\n")[0])
        assert x.tolist() == [1.0, 2.0, 3.0]
    assert errors[1] == errors[0]


@pytest.mark.parametrize("name", ["method_add_", "method_mul_", "method_sub_list_"])
def test_refused_in_place_leaves_graph_tensors(name: str) -> None:
    leaf = autodiff.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = leaf * 1
    with pytest.raises(TypeError, match=r"\(\): argument 'other' \(position 1\)"):
        CASES[name](autodiff, x)
    assert x.tolist() == [1.0, 2.0, 3.0] and x._version == 0


def test_valid_calls_unchanged() -> None:
    x = autodiff.tensor([1.0, 2.0])
    assert autodiff.add(x, 2, alpha=3).tolist() == [7.0, 8.0]
    assert autodiff.where(x > 1, x, 0.0).tolist() == [0.0, 2.0]
    assert autodiff.cat([x, x]).tolist() == [1.0, 2.0, 1.0, 2.0]
    # A failure that is not the parser's keeps its own error
    with pytest.raises(RuntimeError, match="must match the size"):
        autodiff.add(x, autodiff.ones(3))
