"""A function called with an argument PyTorch's parser refuses (an `object()`, a string or a
list where a Tensor belongs) raises PyTorch's TypeError with its wording, checked against
torch itself (skipped when torch is not installed), and leaves its tensors untouched."""

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
}


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


def test_valid_calls_unchanged() -> None:
    x = autodiff.tensor([1.0, 2.0])
    assert autodiff.add(x, 2, alpha=3).tolist() == [7.0, 8.0]
    assert autodiff.where(x > 1, x, 0.0).tolist() == [0.0, 2.0]
    assert autodiff.cat([x, x]).tolist() == [1.0, 2.0, 1.0, 2.0]
    # A failure that is not the parser's keeps its own error
    with pytest.raises(RuntimeError, match="must match the size"):
        autodiff.add(x, autodiff.ones(3))
