"""Complex dtypes: complex64/complex128, PyTorch's promotion rules with them, reprs, and
gradients under PyTorch's convention (a real loss through complex intermediates gives
PyTorch's numbers). Values and gradients of the complex ops are in the op table
(tests/op_db/complex.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import dtypes
from tests.compare import same_error


@pytest.mark.parametrize(("a", "b", "expected"), [
    (dtypes.complex64, dtypes.float64, dtypes.complex128),
    (dtypes.complex64, dtypes.float32, dtypes.complex64),
    (dtypes.complex128, dtypes.float16, dtypes.complex128),
    (dtypes.complex64, dtypes.int64, dtypes.complex64),
    (dtypes.complex64, dtypes.complex128, dtypes.complex128),
    (dtypes.bool_, dtypes.complex64, dtypes.complex64),
])
def test_promote_types(a: dtypes.dtype, b: dtypes.dtype, expected: dtypes.dtype) -> None:
    assert dtypes.promote_types(a, b) is expected
    assert dtypes.promote_types(b, a) is expected


def test_result_type_with_complex_operands_of_lower_priority() -> None:
    # A complex number or 0-d tensor makes a float tensor complex of the float's precision.
    assert dtypes.result_type((dtypes.float64, 1), 1j) is dtypes.complex128
    assert dtypes.result_type((dtypes.float32, 1), (dtypes.complex128, 0)) is dtypes.complex64
    assert dtypes.result_type((dtypes.int64, 1), (dtypes.complex128, 0)) is dtypes.complex128
    assert dtypes.result_type((dtypes.complex64, 1), 2.5) is dtypes.complex64


def test_dtypes_and_predicates(device: str) -> None:
    z = autodiff.tensor([1 + 2j, 3 - 1j], device=device)
    assert z.dtype is autodiff.complex64 is autodiff.cfloat
    assert autodiff.tensor([1j], dtype=autodiff.cdouble).dtype is autodiff.complex128
    assert z.is_complex() and autodiff.is_complex(z) and not z.is_floating_point()
    assert not autodiff.ones(2).is_complex()
    assert autodiff.complex64.is_complex and autodiff.complex64.to_real() is autodiff.float32
    assert autodiff.float64.to_complex() is autodiff.complex128
    assert (z * 2.0).dtype is autodiff.complex64
    assert (autodiff.ones(2, device=device) * 1j).dtype is autodiff.complex64
    assert (autodiff.ones(2, dtype=autodiff.float64, device=device) + z).dtype is \
        autodiff.complex128
    assert z.real.dtype is z.imag.dtype is z.abs().dtype is z.angle().dtype is autodiff.float32
    assert z.real.tolist() == [1.0, 3.0] and z.imag.tolist() == [2.0, -1.0]
    assert z.conj().tolist() == [1 - 2j, 3 + 1j]
    assert z.sum().item() == 4 + 1j and z.mean().item() == 2 + 0.5j


def test_isreal_of_complex_elements(device: str) -> None:
    z = autodiff.tensor([1, 1 + 1j, 2 + 0j, -0.0 - 0.0j], device=device)
    assert autodiff.isreal(z).tolist() == [True, False, True, True]
    assert z.isreal().dtype is autodiff.bool


def test_complex_tensors_require_grad_and_need_a_gradient_for_backward() -> None:
    z = autodiff.tensor([1 + 1j], requires_grad=True)
    assert z.requires_grad
    with pytest.raises(RuntimeError, match=r"grad can be implicitly created only for real "
                                           r"scalar outputs but got torch\.complex64"):
        (z * 2).sum().backward()


def test_exact_parts_even_when_infinite(device: str) -> None:
    inf = float("inf")
    z = autodiff.complex(autodiff.tensor([1.0, inf], device=device),
                         autodiff.tensor([inf, float("nan")], device=device))
    assert repr(z.real) == repr(autodiff.tensor([1.0, inf], device=device))
    assert np.isinf(z.imag.tolist()[0]) and np.isnan(z.imag.tolist()[1])


def test_a_real_input_takes_the_real_part_of_its_gradient() -> None:
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    w = autodiff.tensor([1 + 2j, 3j])
    (x * w).abs().sum().backward()  # x * w is complex; x's gradient is real: |w|
    assert x.grad.dtype is autodiff.float32
    np.testing.assert_allclose(x.grad.tolist(), [5 ** 0.5, 3.0], rtol=1e-6)


def test_casting_complex_to_real_warns_and_keeps_the_real_part() -> None:
    z = autodiff.tensor([1 + 2j])
    with pytest.warns(UserWarning, match="Casting complex values to real discards"):
        assert z.to(autodiff.float32).tolist() == [1.0]


REPRS = [
    ([1 + 2j, 3 - 1j], None),
    ([1.5 + 0j], None),
    ([[1 + 2j, -3.25 - 1e-5j], [0j, 1j]], "complex128"),
    (1 + 1j, None),
    ([1e10 + 1j, 1], None),
    ([float("nan") + 1j, complex(0, float("inf"))], "complex128"),
    ([[0.1 + 0.2j] * 30] * 40, None),
]


@pytest.mark.parametrize(("data", "dtype"), REPRS, ids=range(len(REPRS)))
def test_reprs_match_pytorch(data: Any, dtype: str | None) -> None:
    torch = pytest.importorskip("torch")
    ours = autodiff.tensor(data, dtype=None if dtype is None else getattr(autodiff, dtype))
    theirs = torch.tensor(data, dtype=None if dtype is None else getattr(torch, dtype))
    assert repr(ours) == repr(theirs)
    assert repr(ours.requires_grad_()) == repr(theirs.requires_grad_())


def test_repr_literal() -> None:
    assert repr(autodiff.tensor([1 + 2j, 3 - 1j])) == "tensor([1.+2.j, 3.-1.j])"
    assert repr(autodiff.tensor([0.5j], dtype=autodiff.complex128)) == \
        "tensor([0.+0.5000j], dtype=torch.complex128)"


def test_gradients_of_a_real_loss_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    results = []
    for library in (autodiff, torch):
        x = library.tensor([1.0, -2.0, 0.5], dtype=library.float64, requires_grad=True)
        y = library.tensor([0.5, 3.0, -1.0], dtype=library.float64, requires_grad=True)
        z = library.complex(x, y)
        w = library.tensor([1 + 2j, 0.5 - 1j, 2j], dtype=library.complex128)
        loss = (((z * w).abs() ** 2).sum() + (z / w).real.sum() + (z * 1j).imag.sum()
                + z.angle().sum() + library.view_as_real(z.conj_physical()).sum()
                + (w / z).abs().sum() + (z.sum() * 3).real + library.sgn(z * w).imag.sum())
        loss.backward()
        results.append((loss.item(), x.grad.tolist(), y.grad.tolist()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1:], results[1][1:], rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda L: L.imag(L.ones(2)),
    lambda L: L.view_as_real(L.ones(2)),
    lambda L: L.complex(L.ones(2), L.ones(2, dtype=L.float64)),
    lambda L: L.complex(L.ones(2, dtype=L.int64), L.ones(2, dtype=L.int64)),
])
def test_errors_match_pytorch(call: Any) -> None:
    torch = pytest.importorskip("torch")
    same_error(lambda: call(autodiff), lambda: call(torch))


# A slice without zeros, one with a single zero (whose gradient is the product of the others)
# and one with two zeros (all gradients 0).
_PROD_INPUT = [[1 + 2j, -0.5 + 1j, 3 - 1j], [2 + 0j, 0j, 1.5j], [0j, 1 - 1j, 0j]]
_PROD_CONJ_OTHERS = [[(-0.5 - 1j) * (3 + 1j), (1 - 2j) * (3 + 1j), (1 - 2j) * (-0.5 - 1j)],
                     [0, 2 * -1.5j, 0], [0, 0, 0]]


def test_complex_prod_gradient_with_zeros() -> None:
    z = autodiff.tensor(_PROD_INPUT, dtype=autodiff.complex128, requires_grad=True)
    out = z.prod(1)
    assert out.grad_fn.name() == "ProdBackward1" and out.dtype is autodiff.complex128
    (grad,) = autodiff.autograd.grad(out, z, autodiff.ones_like(out))
    # d(loss)/d conj(z) for the real loss Re(sum(out)): the conjugated product of the others
    np.testing.assert_allclose(np.array(grad.tolist()), np.array(_PROD_CONJ_OTHERS), atol=1e-12)
    assert autodiff.tensor([1 + 1j, 2j]).prod().dtype is autodiff.complex64


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_complex_prod_gradchecks_with_zeros(dim: int | None) -> None:
    z = autodiff.tensor(_PROD_INPUT, dtype=autodiff.complex128)
    parts = (z.real.clone().requires_grad_(), z.imag.clone().requires_grad_())

    def product(x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
        w = autodiff.complex(x, y)
        return autodiff.view_as_real(w.prod() if dim is None else w.prod(dim))

    assert autodiff.autograd.gradcheck(product, parts)
    assert autodiff.autograd.gradgradcheck(product, parts)


@pytest.mark.parametrize("dim", [None, 1])
def test_complex_prod_matches_pytorch(dim: int | None) -> None:
    torch = pytest.importorskip("torch")
    grads = []
    for library in (autodiff, torch):
        z = library.tensor(_PROD_INPUT, dtype=library.complex128, requires_grad=True)
        out = z.prod() if dim is None else z.prod(dim)
        weights = library.tensor([1 - 2j, 0.5j, 2 + 0j], dtype=library.complex128)
        loss = (out * weights[: out.numel()]).abs().sum() + out.real.sum()
        (grad,) = library.autograd.grad(loss, z, create_graph=True)
        (second,) = library.autograd.grad(grad.abs().sum(), z)
        grads.append((out.grad_fn.name(), out.tolist(), grad.tolist(), second.tolist()))
    assert grads[0][0] == grads[1][0]
    for mine, theirs in zip(grads[0][1:], grads[1][1:]):
        np.testing.assert_allclose(np.array(mine), np.array(theirs), atol=1e-12)


# A complex Python number meeting a real tensor: PyTorch's combine_categories makes the
# tensor's dtype complex of its own precision, bfloat16 mapping to complex64 (toComplexType).
# float16 would be complex32, a dtype autodiff lacks: refused rather than computed in float16.
@pytest.mark.parametrize("dtype", ["bfloat16", "float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("op", ["add", "radd", "mul", "rmul"])
def test_real_tensor_meets_a_complex_number(dtype: str, op: str) -> None:
    operations = {"add": lambda x: x + (1 + 2j), "radd": lambda x: (1 + 2j) + x,
                  "mul": lambda x: x * (2 - 1j), "rmul": lambda x: (2 - 1j) * x}
    expected = {"bfloat16": dtypes.complex64, "float32": dtypes.complex64,
                "float64": dtypes.complex128, "int64": dtypes.complex64,
                "bool": dtypes.complex64}[dtype]
    x = autodiff.tensor([1.5, -2.0, 0.0]).to(getattr(autodiff, dtype))
    result = operations[op](x)
    assert result.dtype is expected
    plain = np.array(x.to(autodiff.float64).tolist())
    assert np.allclose(np.array(result.tolist()), operations[op](plain))
    torch = pytest.importorskip("torch")
    reference = operations[op](torch.tensor([1.5, -2.0, 0.0]).to(getattr(torch, dtype)))
    assert str(reference.dtype) == f"torch.{expected.name}"
    assert np.allclose(np.array(result.tolist()), reference.numpy())


def test_float16_meets_a_complex_number_is_refused_not_truncated() -> None:
    with pytest.raises(RuntimeError, match="Unsupported dtype Half"):
        autodiff.ones(2, dtype=autodiff.float16) + 1j
