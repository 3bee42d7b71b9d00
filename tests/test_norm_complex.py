"""The norms (linalg.vector_norm, linalg.matrix_norm, linalg.norm, torch.norm) on complex
inputs: PyTorch's checks of `dtype=` (complex for complex inputs, real for real ones, never
narrowing) and of the order (never complex), with its exception types and words, and the real
norms and gradients of the complex inputs it accepts. Values and gradients over the op table's
samples are in tests/op_db/complex.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.compare import same_error

_VECTOR = "linalg.vector_norm"
_MATRIX = "linalg.matrix_norm"


def _complex(lib: Any, *shape: int, dtype: str = "complex64") -> Any:
    return lib.ones(*shape, dtype=getattr(lib, dtype))


def _real(lib: Any, *shape: int, dtype: str = "float32") -> Any:
    return lib.ones(*shape, dtype=getattr(lib, dtype))


# (id, call, PyTorch's message)
ERRORS = [
    ("vector_real_dtype_for_complex",
     lambda L: L.linalg.vector_norm(_complex(L, 3, dtype="complex128"), dtype=L.float64),
     f"{_VECTOR}: dtype should be complex for complex inputs, but got Double"),
    ("vector_complex_dtype_for_real",
     lambda L: L.linalg.vector_norm(_real(L, 3, dtype="float64"), dtype=L.complex128),
     f"{_VECTOR}: dtype should be real for real inputs, but got ComplexDouble"),
    ("vector_narrowing_complex",
     lambda L: L.linalg.vector_norm(_complex(L, 3, dtype="complex128"), dtype=L.complex64),
     f"{_VECTOR}: the dtype of the input (ComplexDouble) should be convertible without "
     "narrowing to the specified dtype (ComplexFloat)"),
    ("vector_narrowing_real",
     lambda L: L.linalg.vector_norm(_real(L, 3, dtype="float64"), dtype=L.float32),
     f"{_VECTOR}: the dtype of the input (Double) should be convertible without narrowing to "
     "the specified dtype (Float)"),
    ("vector_half_to_bfloat16",
     lambda L: L.linalg.vector_norm(_real(L, 3, dtype="float16"), dtype=L.bfloat16),
     f"{_VECTOR}: the dtype of the input (Half) should be convertible without narrowing to "
     "the specified dtype (BFloat16)"),
    ("vector_integer_dtype",
     lambda L: L.linalg.vector_norm(_real(L, 3, dtype="float64"), dtype=L.int64),
     f"{_VECTOR}: dtype should be floating point or complex, but got Long"),
    ("vector_integer_input_before_dtype",
     lambda L: L.linalg.vector_norm(_real(L, 3, dtype="int64"), dtype=L.float64),
     f"{_VECTOR}: Expected a floating point or complex tensor as input. Got Long"),
    ("vector_complex_order",
     lambda L: L.linalg.vector_norm(_complex(L, 3), ord=1j),
     f"{_VECTOR}: Expected a non-complex scalar as the order of norm."),
    ("vector_complex_order_with_zero_imaginary_part",
     lambda L: L.linalg.vector_norm(_real(L, 3), ord=2 + 0j),
     f"{_VECTOR}: Expected a non-complex scalar as the order of norm."),
    ("vector_complex_order_before_dtype",
     lambda L: L.linalg.vector_norm(_complex(L, 3), ord=1j, dtype=L.float32),
     f"{_VECTOR}: Expected a non-complex scalar as the order of norm."),
    ("vector_integer_input_before_complex_order",
     lambda L: L.linalg.vector_norm(_real(L, 3, dtype="int32"), ord=1j),
     f"{_VECTOR}: Expected a floating point or complex tensor as input. Got Int"),
    ("matrix_real_dtype_for_complex",
     lambda L: L.linalg.matrix_norm(_complex(L, 2, 2), ord=1, dtype=L.float64),
     f"{_MATRIX}: dtype should be complex for complex inputs, but got Double"),
    ("matrix_complex_dtype_for_real",
     lambda L: L.linalg.matrix_norm(_real(L, 2, 2, dtype="float64"), "nuc", dtype=L.complex128),
     f"{_MATRIX}: dtype should be real for real inputs, but got ComplexDouble"),
    ("matrix_narrowing",
     lambda L: L.linalg.matrix_norm(_complex(L, 2, 2, dtype="complex128"), 1,
                                    dtype=L.complex64),
     f"{_MATRIX}: the dtype of the input (ComplexDouble) should be convertible without "
     "narrowing to the specified dtype (ComplexFloat)"),
    ("matrix_integer_input_before_dtype",
     lambda L: L.linalg.matrix_norm(_real(L, 2, 2, dtype="int64"), "nuc", dtype=L.float32),
     f"{_MATRIX}: Expected a floating point or complex tensor as input. Got Long"),
    ("matrix_complex_order_first",
     lambda L: L.linalg.matrix_norm(_real(L, 2, dtype="int64"), ord=1j),
     f"{_MATRIX}: Expected a non-complex scalar as the order of norm."),
    ("matrix_dims_before_dtype",
     lambda L: L.linalg.matrix_norm(_real(L, 2, 2), 1, dim=(0, 0), dtype=L.int64),
     f"{_MATRIX}: dims must be different. Got (0, 0)"),
    ("matrix_narrowing_before_low_precision",
     lambda L: L.linalg.norm(_real(L, 2, 2), "nuc", dtype=L.float16),
     f"{_MATRIX}: the dtype of the input (Float) should be convertible without narrowing to "
     "the specified dtype (Half)"),
    ("linalg_norm_real_dtype_for_complex",
     lambda L: L.linalg.norm(_complex(L, 2, 2), dtype=L.float32),
     f"{_VECTOR}: dtype should be complex for complex inputs, but got Float"),
    ("linalg_norm_complex_order_matrix",
     lambda L: L.linalg.norm(_complex(L, 2, 2), ord=1j),
     f"{_MATRIX}: Expected a non-complex scalar as the order of norm."),
    ("linalg_norm_complex_order_vector",
     lambda L: L.linalg.norm(_complex(L, 2, 2), ord=1j, dim=0),
     f"{_VECTOR}: Expected a non-complex scalar as the order of norm."),
    ("torch_norm_real_dtype_for_complex",
     lambda L: L.norm(_complex(L, 2), dtype=L.float32),
     f"{_VECTOR}: dtype should be complex for complex inputs, but got Float"),
    ("torch_norm_nuc_real_dtype_for_complex",
     lambda L: L.norm(_complex(L, 2, 2), p="nuc", dtype=L.float32),
     f"{_MATRIX}: dtype should be complex for complex inputs, but got Float"),
    ("torch_norm_complex_dtype_for_real",
     lambda L: L.norm(_real(L, 2, 2), p=2, dim=0, dtype=L.complex64),
     f"{_VECTOR}: dtype should be real for real inputs, but got ComplexFloat"),
    ("torch_norm_complex_p",
     lambda L: L.norm(_complex(L, 2), p=1j),
     f"{_VECTOR}: Expected a non-complex scalar as the order of norm."),
]


@pytest.mark.parametrize(("call", "message"), [case[1:] for case in ERRORS],
                         ids=[case[0] for case in ERRORS])
def test_norm_argument_errors(call: Any, message: str) -> None:
    with pytest.raises(RuntimeError) as raised:
        call(autodiff)
    assert str(raised.value) == message


@pytest.mark.parametrize("call", [case[1] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_norm_argument_errors_match_pytorch(call: Any) -> None:
    torch = pytest.importorskip("torch")
    same_error(lambda: call(autodiff), lambda: call(torch))


def test_a_rejected_dtype_leaves_the_input_untouched() -> None:
    z = autodiff.tensor([1 + 2j, 3j], requires_grad=True)
    y = z * 1
    with pytest.raises(RuntimeError):
        autodiff.linalg.vector_norm(y, dtype=autodiff.float32)
    assert z.grad is None and y.grad_fn.name() == "MulBackward0"


_Z = [[1 + 2j, -3j, 0.5], [2 - 1j, 0j, -1 + 1j]]

# (id, call) of complex inputs PyTorch accepts: a real norm with a real-valued loss's gradient.
ACCEPTED = [
    ("vector_2", lambda L, z: L.linalg.vector_norm(z)),
    ("vector_1_dim", lambda L, z: L.linalg.vector_norm(z, 1, dim=1)),
    ("vector_3_keepdim", lambda L, z: L.linalg.vector_norm(z, 3, dim=0, keepdim=True)),
    ("vector_inf", lambda L, z: L.linalg.vector_norm(z, math.inf, dim=1)),
    ("vector_minus_inf", lambda L, z: L.linalg.vector_norm(z + 1, -math.inf, dim=1)),
    ("vector_dtype", lambda L, z: L.linalg.vector_norm(z, dtype=L.complex128)),
    ("vector_tensor_order", lambda L, z: L.linalg.vector_norm(z, L.tensor(3.0))),
    ("matrix_fro", lambda L, z: L.linalg.matrix_norm(z)),
    ("matrix_nuc", lambda L, z: L.linalg.matrix_norm(z, "nuc")),
    ("matrix_2", lambda L, z: L.linalg.matrix_norm(z, 2)),
    ("matrix_1", lambda L, z: L.linalg.matrix_norm(z, 1, dtype=L.complex128)),
    ("matrix_minus_inf", lambda L, z: L.linalg.matrix_norm(z, -math.inf)),
    ("linalg_norm", lambda L, z: L.linalg.norm(z, dtype=L.complex128)),
    ("linalg_norm_ord", lambda L, z: L.linalg.norm(z, math.inf)),
    ("torch_norm", lambda L, z: L.norm(z, 3, dim=1, dtype=L.complex128)),
    ("torch_norm_nuc", lambda L, z: L.norm(z, "nuc")),
    ("tensor_norm", lambda L, z: z.norm(p=1)),
]


@pytest.mark.parametrize("call", [case[1] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED])
def test_complex_norms_are_real_with_real_gradients_checked(call: Any) -> None:
    z = autodiff.tensor(_Z, dtype=autodiff.complex128)
    out = call(autodiff, z)
    assert out.dtype is autodiff.float64
    parts = (z.real.clone().requires_grad_(), z.imag.clone().requires_grad_())
    assert autodiff.autograd.gradcheck(lambda x, y: call(autodiff, autodiff.complex(x, y)), parts)


@pytest.mark.parametrize("call", [case[1] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED])
def test_complex_norms_match_pytorch(call: Any) -> None:
    torch = pytest.importorskip("torch")
    results = []
    for library in (autodiff, torch):
        z = library.tensor(_Z, dtype=library.complex128, requires_grad=True)
        out = call(library, z)
        (grad,) = library.autograd.grad(out.sum(), z)
        results.append((str(out.dtype), out.grad_fn.name(), out.tolist(), grad.tolist()))
    assert results[0][:2] == results[1][:2]
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-6)
    np.testing.assert_allclose(np.array(results[0][3]), np.array(results[1][3]), rtol=1e-6,
                               atol=1e-12)


def test_complex_vector_norm_gradient_is_the_phase_times_the_weight() -> None:
    z = autodiff.tensor([3 + 4j, -1j], dtype=autodiff.complex128, requires_grad=True)
    autodiff.linalg.vector_norm(z, 1).backward()  # |z0| + |z1|: d/d conj(z) is z / |z|
    np.testing.assert_allclose(np.array(z.grad.tolist()), [0.6 + 0.8j, -1j], rtol=1e-15)
    assert autodiff.linalg.vector_norm(z).item() == math.sqrt(26)
    widened = autodiff.linalg.vector_norm(z.to(autodiff.complex64), dtype=autodiff.complex128)
    assert widened.dtype is autodiff.float64 and widened.item() == math.sqrt(26)
