"""Complex powers with tensor exponents (PowBackward1), numbers to complex tensor powers
(PowBackward2) and complex tensors to number powers (PowBackward0): PyTorch's values (C's cpow,
exp(b log a), with its conventions at a zero base, and its special-cased number exponents),
result dtypes and gradients, including PyTorch's choices at a zero base. Gradients over the op
table's samples are in tests/op_db/complex.py."""

from __future__ import annotations

import cmath
import math
from typing import Any

import numpy as np
import pytest

import autodiff

_NAN = complex(math.nan, math.nan)


def _same(actual: list[complex], expected: list[complex]) -> None:
    np.testing.assert_allclose(np.array(actual, dtype=complex), np.array(expected, dtype=complex),
                               rtol=1e-12, atol=1e-15, equal_nan=True)


def test_zero_base_conventions(device: str) -> None:
    # 0 ** w: 0 where Re w > 0, inf + nan j where Re w < 0, nan where Re w == 0 (0 ** 0 too).
    zero = autodiff.zeros(6, dtype=autodiff.complex128, device=device)
    w = autodiff.tensor([1 + 0j, 1 + 1j, 2.5 - 3j, -1 + 0j, 0j, 2j], device=device)
    out = (zero ** w).tolist()
    _same(out[:3], [0j, 0j, 0j])
    assert math.isinf(out[3].real) and math.isnan(out[3].imag)
    _same(out[4:], [_NAN, _NAN])
    _same((0 ** w).tolist()[:3], [0j, 0j, 0j])
    _same((zero[:2] ** autodiff.tensor([0.0, 1.0], dtype=autodiff.float64,
                                       device=device)).tolist(), [_NAN, 0j])


def test_values_are_the_principal_branch(device: str) -> None:
    a = autodiff.tensor([1 + 2j, -0.5 + 1j, -3 + 0j], dtype=autodiff.complex128, device=device)
    b = autodiff.tensor([0.5 - 1j, 2 + 0j, 1.5j], dtype=autodiff.complex128, device=device)
    expected = [cmath.exp(y * cmath.log(x)) for x, y in zip(a.tolist(), b.tolist())]
    _same((a ** b).tolist(), expected)
    _same(autodiff.pow(a, b).tolist(), expected)
    real = autodiff.tensor([-0.5, 2.0, 3.0], dtype=autodiff.float64, device=device)
    _same((real ** b).tolist(), [cmath.exp(y * cmath.log(x))
                                 for x, y in zip(real.tolist(), b.tolist())])
    _same((a ** real).tolist(), [cmath.exp(y * cmath.log(x))
                                 for x, y in zip(a.tolist(), real.tolist())])
    _same(((-2) ** b).tolist(), [cmath.exp(y * cmath.log(-2)) for y in b.tolist()])
    _same((1 ** b).tolist(), [1, 1, 1])


@pytest.mark.parametrize(("base", "exponent", "expected"), [
    ("complex128", "complex128", "complex128"),
    ("complex64", "complex128", "complex128"),
    ("complex64", "float64", "complex128"),
    ("float64", "complex64", "complex128"),
    ("float32", "complex64", "complex64"),
    ("int64", "complex64", "complex64"),
    ("complex64", "int64", "complex64"),
    ("complex128", "bool", "complex128"),
])
def test_tensor_exponent_dtypes(base: str, exponent: str, expected: str) -> None:
    a = autodiff.ones(2, dtype=getattr(autodiff, base))
    b = autodiff.ones(2, dtype=getattr(autodiff, exponent))
    assert (a ** b).dtype is getattr(autodiff, expected)


@pytest.mark.parametrize(("call", "expected"), [
    (lambda x: 2 ** x, "complex64"), (lambda x: (1 + 1j) ** x.real, "complex64"),
    (lambda x: x.real ** (1 + 1j), "complex64"),
    (lambda x: (1 + 1j) ** x.real.to(autodiff.float64), "complex128"),
    (lambda x: (1 + 1j) ** autodiff.ones(2, dtype=autodiff.int64), "complex64"),
    (lambda x: autodiff.ones(2, dtype=autodiff.int64) ** 1j, "complex64"),
])
def test_number_dtypes(call: Any, expected: str) -> None:
    assert call(autodiff.ones(2, dtype=autodiff.complex64)).dtype is getattr(autodiff, expected)


def test_special_exponents_as_pytorch_computes_them() -> None:
    z = autodiff.tensor([1 + 1j, 0j, -1 + 0j], dtype=autodiff.complex128)
    _same((z ** 2).tolist(), [2j, 0j, 1 + 0j])  # a product: exact, 0 at 0
    _same((z ** -1).tolist()[:1] + (z ** -1).tolist()[2:], [0.5 - 0.5j, -1 + 0j])
    _same((z ** 3).tolist(), [-2 + 2j, 0j, -1 + 0j])
    _same((z ** 0).tolist(), [1, 1, 1])
    # every other exponent through exp(b log a): (1 + 1j) ** 4 is -4 up to rounding only
    four = (z ** 4).tolist()[0]
    assert four != -4 and abs(four + 4) < 1e-14


_A = [1 + 2j, -0.5 + 1j, 0j, 2 + 0j, 0j, -3 + 0j, 0j]
_B = [0.5 - 1j, 2 + 0j, 1 + 1j, 0j, 0j, 1.5j, -1 + 0j]
_WEIGHTS = [1 - 2j, 0.5j, 2 + 0j, -1 + 1j, 3 + 0j, 0.25 - 1j, 1 + 0j]

CASES = {
    "complex_complex": (lambda L, a, b: a ** b, True, True),
    "complex_real": (lambda L, a, b: a ** b.real, True, True),
    "real_complex": (lambda L, a, b: a.real ** b, True, True),
    "number_complex": (lambda L, a, b: 2.5 ** b, False, True),
    "negative_number_complex": (lambda L, a, b: (-2) ** b, False, True),
    "zero_number_complex": (lambda L, a, b: 0 ** b, False, True),
    "complex_number_real": (lambda L, a, b: (1 + 1j) ** b.real, False, True),
    "complex_scalar": (lambda L, a, b: a ** (1.5 - 0.5j), True, False),
    "complex_negative_integer": (lambda L, a, b: a[:2] ** -3, True, False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    call, on_a, on_b = CASES[name]
    results = []
    for library in (autodiff, torch):
        a = library.tensor(_A, dtype=library.complex128, requires_grad=True)
        b = library.tensor(_B, dtype=library.complex128, requires_grad=True)
        out = call(library, a, b)
        weights = library.tensor(_WEIGHTS[: out.numel()], dtype=library.complex128)
        inputs = [x for x, wanted in ((a, on_a), (b, on_b)) if wanted]
        grads = library.autograd.grad((out * weights).real.sum(), inputs)
        results.append((out.grad_fn.name(), str(out.dtype), out.tolist(),
                        [g.tolist() for g in grads]))
    assert results[0][:2] == results[1][:2]
    _same(results[0][2], results[1][2])
    for mine, theirs in zip(results[0][3], results[1][3]):
        _same(mine, theirs)


def test_exponent_gradient_at_a_zero_base() -> None:
    # d/db 0 ** b: PyTorch takes 0 where b is real and >= 0, whatever out * log(0) would be.
    a = autodiff.zeros(3, dtype=autodiff.complex128)
    b = autodiff.tensor([2 + 0j, 0j, -1 + 0j], requires_grad=True, dtype=autodiff.complex128)
    (grad,) = autodiff.autograd.grad((a ** b).real.sum(), b)
    values = grad.tolist()
    _same(values[:2], [0j, 0j])
    assert not cmath.isfinite(values[2])
    (grad,) = autodiff.autograd.grad((0 ** b[:2]).real.sum(), b)
    _same(grad.tolist(), [0j, 0j, 0j])


def test_pow_gradchecks_through_real_parts() -> None:
    parts = [autodiff.tensor(np.array(v), dtype=autodiff.float64).requires_grad_()
             for v in ([1.0, -0.5, 2.0], [2.0, 1.0, -0.5], [0.5, 2.0, 1.0], [-1.0, 0.0, 1.5])]

    def power(a: Any, b: Any, c: Any, d: Any) -> Any:
        return autodiff.view_as_real(autodiff.complex(a, b) ** autodiff.complex(c, d))

    assert autodiff.autograd.gradcheck(power, parts)
    assert autodiff.autograd.gradgradcheck(power, parts)
