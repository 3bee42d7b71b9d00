"""The scalar and alpha overloads of the arithmetic ops against PyTorch itself (skipped when
torch is not installed): node names, the edges of `next_functions`, `_saved_alpha`, values
and gradients, and PyTorch's errors for a bad alpha (the tensors left untouched)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")

# name -> function of (library, x, t): x requires grad (a non-leaf, so in-place ops apply), t
# is a second tensor that requires grad.
CASES: dict[str, Any] = {
    "mul_scalar_": lambda L, x, t: x.mul_(2),
    "add_scalar_": lambda L, x, t: x.add_(2),
    "add_scalar_alpha_": lambda L, x, t: x.add_(2, alpha=3),
    "add_tensor_alpha_": lambda L, x, t: x.add_(t, alpha=3),
    "sub_scalar_": lambda L, x, t: x.sub_(2),
    "sub_tensor_alpha_": lambda L, x, t: x.sub_(t, alpha=2),
    "div_scalar_": lambda L, x, t: x.div_(2),
    "div_scalar_floor_": lambda L, x, t: x.div_(2, rounding_mode="floor"),
    "imul": lambda L, x, t: x.__imul__(2),
    "iadd": lambda L, x, t: x.__iadd__(2),
    "isub": lambda L, x, t: x.__isub__(2),
    "itruediv": lambda L, x, t: x.__itruediv__(2),
    "true_divide_": lambda L, x, t: x.true_divide_(2),
    "multiply_": lambda L, x, t: x.multiply_(2),
    "mul": lambda L, x, t: x * 2,
    "rmul": lambda L, x, t: 2 * x,
    "mul_method": lambda L, x, t: x.mul(2),
    "mul_function": lambda L, x, t: L.mul(x, 2),
    "add": lambda L, x, t: x + 2,
    "radd": lambda L, x, t: 2 + x,
    "add_alpha": lambda L, x, t: L.add(x, t, alpha=3),
    "add_scalar_alpha": lambda L, x, t: L.add(x, 2, alpha=3),
    "add_method_alpha": lambda L, x, t: x.add(t, alpha=0.5),
    "sub": lambda L, x, t: x - 2,
    "rsub_operator": lambda L, x, t: 2 - x,
    "sub_alpha": lambda L, x, t: L.sub(x, t, alpha=2),
    "sub_method_alpha": lambda L, x, t: x.sub(t, alpha=-1.5),
    "rsub_scalar": lambda L, x, t: L.rsub(x, 2),
    "rsub_scalar_alpha": lambda L, x, t: L.rsub(x, 2, alpha=3),
    "rsub_tensor": lambda L, x, t: L.rsub(x, t),
    "rsub_tensor_alpha": lambda L, x, t: L.rsub(x, t, alpha=3),
    "div": lambda L, x, t: x / 2,
    "rdiv": lambda L, x, t: 2 / x,
    "div_floor": lambda L, x, t: L.div(x, 2, rounding_mode="floor"),
    "pow_tensor": lambda L, x, t: x ** t,
    "rpow_scalar": lambda L, x, t: 2 ** x,
    "fmod_tensor": lambda L, x, t: L.fmod(x, t),
    "clamp_numbers": lambda L, x, t: L.clamp(x, 0, 1),
    "clamp_min_number": lambda L, x, t: L.clamp_min(x, 0),
    "masked_fill_number": lambda L, x, t: x.masked_fill(t > 0, 2),
    "lerp_number": lambda L, x, t: L.lerp(x, t, 0.5),
    "copysign_tensor": lambda L, x, t: L.copysign(x, t),
}


def _edges(node: Any) -> list[str | None]:
    names = []
    for next_node, _ in node.next_functions:
        name = None if next_node is None else next_node.name()
        names.append(None if name is None else name.replace("torch::autograd::", ""))
    return names


def _run(library: Any, case: Any) -> tuple[Any, Any, Any, Any]:
    start = [[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]]
    leaf = library.tensor(start, dtype=library.float64, requires_grad=True)
    t = library.tensor([[1.0, 2.0, -0.5], [0.25, -1.5, 3.0]], dtype=library.float64,
                       requires_grad=True)
    x = leaf * 1
    out = case(library, x, t)
    out.backward(library.ones_like(out))
    return out, leaf.grad, t.grad, out.grad_fn


@pytest.mark.parametrize("name", list(CASES))
def test_as_pytorch(name: str) -> None:
    out, grad_x, grad_t, node = _run(autodiff, CASES[name])
    expected, expected_grad_x, expected_grad_t, expected_node = _run(torch, CASES[name])
    assert node.name() == expected_node.name()
    assert _edges(node) == _edges(expected_node)
    if hasattr(expected_node, "_saved_alpha"):
        assert node._saved_alpha == expected_node._saved_alpha
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy())
    np.testing.assert_allclose(grad_x.numpy(), expected_grad_x.numpy())
    if expected_grad_t is None:
        assert grad_t is None
    else:
        np.testing.assert_allclose(grad_t.numpy(), expected_grad_t.numpy())


# (function of (library, a, b), dtype of a and b): PyTorch refuses the alpha for the dtype.
BAD_ALPHA = {
    "float_alpha_int": (lambda L, a, b: L.add(a, b, alpha=0.5), "int64"),
    "float_alpha_int_sub": (lambda L, a, b: L.sub(a, b, alpha=1.5), "int64"),
    "float_alpha_int_inplace": (lambda L, a, b: a.add_(b, alpha=0.5), "int64"),
    "bool_alpha_float": (lambda L, a, b: L.add(a, b, alpha=True), "float32"),
    "complex_alpha_float": (lambda L, a, b: L.add(a, b, alpha=1j), "float32"),
    "complex_alpha_rsub": (lambda L, a, b: L.rsub(a, b, alpha=2j), "float32"),
}


@pytest.mark.parametrize("name", list(BAD_ALPHA))
def test_bad_alpha_as_pytorch(name: str) -> None:
    case, dtype = BAD_ALPHA[name]
    errors = []
    for library in (torch, autodiff):
        a = library.tensor([1, 2, 3], dtype=getattr(library, dtype))
        b = library.tensor([4, 5, 6], dtype=getattr(library, dtype))
        with pytest.raises(Exception) as info:
            case(library, a, b)
        errors.append((type(info.value), str(info.value)))
        assert a.tolist() == [1, 2, 3] and b.tolist() == [4, 5, 6]
    assert errors[0] == errors[1]


def test_integer_alpha_keeps_integers() -> None:
    for library in (torch, autodiff):
        out = library.add(library.tensor([1, 2]), library.tensor([3, 4]), alpha=2)
        assert out.tolist() == [7, 10] and str(out.dtype) == "torch.int64"
