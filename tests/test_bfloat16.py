"""bfloat16 as a dtype: promotion, finfo, reprs, conversions, checkpoints and the refusals of
backends without it; ops computed as PyTorch's CPU kernels compute them (in float32, rounded
once), values and gradients against PyTorch where installed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autodiff

ALL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
       "float64"]


def test_bfloat16_is_a_floating_dtype() -> None:
    kind = autodiff.bfloat16
    assert repr(kind) == "torch.bfloat16" and kind.is_floating_point and kind.itemsize == 2
    x = autodiff.tensor([1.0, 2.5]).bfloat16()
    assert x.dtype is kind and x.is_floating_point() and x.element_size() == 2
    assert x.type() == "torch.BFloat16Tensor"
    assert x.tolist() == [1.0, 2.5] and isinstance(x[0].item(), float)
    assert autodiff.tensor(1.1, dtype=kind).item() == 1.1015625  # 8 significant bits


@pytest.mark.parametrize("other", ALL)
def test_promotion_with_every_dtype(other: str) -> None:
    expected = {"float16": "float32", "float32": "float32", "float64": "float64"}.get(
        other, "bfloat16")
    kind = getattr(autodiff, other if other != "bool" else "bool")
    assert autodiff.dtypes.promote_types(autodiff.bfloat16, kind).name == expected
    a = autodiff.ones(2, dtype=autodiff.bfloat16)
    assert (a + autodiff.ones(2, dtype=kind)).dtype.name == expected
    assert (a * 2.5).dtype is autodiff.bfloat16 and (a + 1).dtype is autodiff.bfloat16
    torch = pytest.importorskip("torch")
    assert str(torch.promote_types(torch.bfloat16, getattr(torch, other))) == f"torch.{expected}"


def test_finfo_and_iinfo_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for name in ("float16", "bfloat16", "float32", "float64"):
        ours, theirs = autodiff.finfo(getattr(autodiff, name)), torch.finfo(getattr(torch, name))
        assert repr(ours) == repr(theirs)
        for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution",
                      "dtype"):
            assert getattr(ours, field) == getattr(theirs, field), (name, field)
    assert repr(autodiff.finfo()) == repr(torch.finfo())
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        ours, theirs = autodiff.iinfo(getattr(autodiff, name)), torch.iinfo(getattr(torch, name))
        assert (ours.bits, ours.min, ours.max, ours.dtype, repr(ours)) == (
            theirs.bits, theirs.min, theirs.max, theirs.dtype, repr(theirs))
    with pytest.raises(TypeError, match=r"torch\.finfo\(\) requires a floating point input"):
        autodiff.finfo(autodiff.int32)
    with pytest.raises(TypeError, match=r"torch\.bool is not supported by torch\.iinfo"):
        autodiff.iinfo(autodiff.bool)


def test_reprs_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for values in ([1.5, 2.25, 3.0], [1e-3, 1e5], 2.5, [[0.1, -7.0], [1e10, 0.0]]):
        ours = autodiff.tensor(values, dtype=autodiff.bfloat16)
        theirs = torch.tensor(values, dtype=torch.bfloat16)
        assert repr(ours) == repr(theirs)
    assert repr(autodiff.ones(2, dtype=autodiff.bfloat16, requires_grad=True) * 2) == repr(
        torch.ones(2, dtype=torch.bfloat16, requires_grad=True) * 2)


def test_numpy_refuses_bfloat16_as_pytorch() -> None:
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        autodiff.ones(2, dtype=autodiff.bfloat16).numpy()


def test_module_bfloat16() -> None:
    model = autodiff.nn.Linear(3, 2).bfloat16()
    assert model.weight.dtype is autodiff.bfloat16 and model.bias.dtype is autodiff.bfloat16
    assert model(autodiff.ones(1, 3, dtype=autodiff.bfloat16)).dtype is autodiff.bfloat16


def test_backends_without_the_dtype_refuse_it_clearly(device: str) -> None:
    if device == "cpu":
        pytest.skip("the CPU holds bfloat16")
    with pytest.raises(TypeError, match=f"torch.bfloat16 is not supported on device "
                       f"'{device}': .* has no bfloat16 dtype"):
        autodiff.ones(2, dtype=autodiff.bfloat16, device=device)
    with pytest.raises(TypeError, match="is not supported on device"):
        autodiff.ones(2).to(device).to(autodiff.bfloat16)


def test_checkpoints_hold_bfloat16(tmp_path: Path) -> None:
    x = autodiff.tensor([1.5, -2.25, 3008.0], dtype=autodiff.bfloat16)
    autodiff.save({"x": x}, tmp_path / "native.pt")
    loaded = autodiff.load(tmp_path / "native.pt")["x"]
    assert loaded.dtype is autodiff.bfloat16 and loaded.tolist() == x.tolist()
    torch = pytest.importorskip("torch")
    torch.save({"x": torch.tensor([1.5, -2.25, 3e3]).bfloat16()}, tmp_path / "torch.pt")
    loaded = autodiff.load(tmp_path / "torch.pt")["x"]
    assert loaded.dtype is autodiff.bfloat16 and loaded.tolist() == x.tolist()


# ----------------------------------------------------------------------------- ops
def _conv(t: Any, x: Any, y: Any) -> Any:
    return t.nn.functional.conv2d(x.reshape(1, 2, 4, 4), y.reshape(2, 2, 2, 4)[..., :2])


CASES: list[tuple[str, Callable[[Any, Any, Any], Any]]] = [
    ("exp", lambda t, x, y: x.exp()),
    ("log", lambda t, x, y: x.abs().log()),
    ("sin", lambda t, x, y: x.sin()),
    ("tanh", lambda t, x, y: x.tanh()),
    ("sigmoid", lambda t, x, y: x.sigmoid()),
    ("relu", lambda t, x, y: t.relu(x)),
    ("gelu", lambda t, x, y: t.nn.functional.gelu(x)),
    ("erf", lambda t, x, y: t.erf(x)),
    ("sqrt", lambda t, x, y: x.abs().sqrt()),
    ("add", lambda t, x, y: x + y),
    ("mul", lambda t, x, y: x * y),
    ("div", lambda t, x, y: x / (y.abs() + 1)),
    ("number", lambda t, x, y: x * 0.1 + 1e-3),
    ("pow", lambda t, x, y: x ** 2),
    ("sum", lambda t, x, y: x.sum(0)),
    ("mean", lambda t, x, y: x.mean()),
    ("prod", lambda t, x, y: (x[:4] * 0.5 + 1).prod(0)),
    ("var", lambda t, x, y: x.var(0)),
    ("norm", lambda t, x, y: t.linalg.vector_norm(x, 2, 0)),
    ("cumsum", lambda t, x, y: x.cumsum(0)),
    ("amax", lambda t, x, y: x.amax(0)),
    ("sort", lambda t, x, y: x.sort(0)[0]),
    ("matmul", lambda t, x, y: x.t() @ y),
    ("linear", lambda t, x, y: t.nn.functional.linear(x, y.t()[:, :8].reshape(-1, 8)[:3])),
    ("conv2d", _conv),
    ("softmax", lambda t, x, y: t.softmax(x, 1)),
    ("log_softmax", lambda t, x, y: t.log_softmax(x, 0)),
    ("layer_norm", lambda t, x, y: t.nn.functional.layer_norm(x, (8,))),
    ("mse", lambda t, x, y: t.nn.functional.mse_loss(x, y)),
    ("cross_entropy", lambda t, x, y: t.nn.functional.cross_entropy(x, t.tensor([0, 3, 7, 1]))),
    ("gather", lambda t, x, y: x.gather(1, t.tensor([[0], [2], [7], [1]]))),
    ("cat", lambda t, x, y: t.cat([x, y])),
    ("where", lambda t, x, y: t.where(x > 0, x, y)),
    ("clamp", lambda t, x, y: x.clamp(-0.5, 0.5)),
    ("max_pool2d", lambda t, x, y: t.nn.functional.max_pool2d(x.reshape(1, 1, 4, 8), 2)),
    ("avg_pool2d", lambda t, x, y: t.nn.functional.avg_pool2d(x.reshape(1, 1, 4, 8), 2)),
]


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_bfloat16_ops_match_pytorch(name: str, case: Callable[[Any, Any, Any], Any]) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8)).astype(np.float32)
    y = rng.standard_normal((4, 8)).astype(np.float32)
    inputs = autodiff.tensor(x, dtype=autodiff.bfloat16, requires_grad=True)
    out = case(autodiff, inputs, autodiff.tensor(y, dtype=autodiff.bfloat16))
    assert out.dtype is autodiff.bfloat16
    out.backward(autodiff.ones_like(out))
    assert inputs.grad.dtype is autodiff.bfloat16
    torch = pytest.importorskip("torch")
    reference_inputs = torch.tensor(x, dtype=torch.bfloat16, requires_grad=True)
    reference = case(torch, reference_inputs, torch.tensor(y, dtype=torch.bfloat16))
    reference.backward(torch.ones_like(reference))
    # A couple of bfloat16 ulps (2**-8 relative): summation orders and where PyTorch rounds
    # intermediates differ.
    for ours, theirs in ((out, reference), (inputs.grad, reference_inputs.grad)):
        expected = theirs.detach().float().numpy()
        np.testing.assert_allclose(ours.detach().float().numpy(), expected, rtol=1.6e-2,
                                   atol=1.6e-2 * max(1.0, float(np.abs(expected).max())))


# ----------------------------------------------------------------------------- the op table
# Entries PyTorch refuses for bfloat16, with its error (autodiff raises the same).
_REFUSED = {
    # Before "linalg.solve": the first prefix that matches decides.
    "linalg.solve_triangular": (NotImplementedError,
                                "\"triangular_solve_cpu\" not implemented for 'BFloat16'"),
    "cholesky_solve_upper": (NotImplementedError,
                             "\"cholesky_solve_cpu\" not implemented for 'BFloat16'"),
    # the other entries factor their matrix with linalg.cholesky first, which refuses bfloat16
    "cholesky_solve": (NotImplementedError, "\"cholesky_cpu\" not implemented for 'BFloat16'"),
    "cholesky_inverse": (NotImplementedError,
                         "\"cholesky_inverse_out_cpu\" not implemented for 'BFloat16'"),
    "linalg.eigh": (NotImplementedError, "\"linalg_eigh_cpu\" not implemented for 'BFloat16'"),
    "linalg.eigvalsh": (NotImplementedError,
                        "\"linalg_eigh_cpu\" not implemented for 'BFloat16'"),
    # LAPACK's LU and Cholesky kernels have no bfloat16 versions; inv and slogdet refuse first
    **{prefix: (NotImplementedError, "\"lu_cpu\" not implemented for 'BFloat16'")
       for prefix in ("linalg.solve", "linalg.det", "linalg.lu", "lu", "linalg.tensorsolve")},
    "linalg.cholesky": (NotImplementedError, "\"cholesky_cpu\" not implemented for 'BFloat16'"),
    **{prefix: (RuntimeError, "Low precision dtypes not supported. Got BFloat16")
       for prefix in ("linalg.inv", "linalg.slogdet", "slogdet", "linalg.matrix_norm[nuc]",
                      "linalg.matrix_norm[2]", "linalg.matrix_norm[-2]")},
    # the factorizations (each entry's first call decides)
    **{prefix: (NotImplementedError, "\"linalg_svd_cpu\" not implemented for 'BFloat16'")
       for prefix in ("linalg.svd", "svd", "linalg.cond-")},
    **{prefix: (RuntimeError, "linalg.inv: Low precision dtypes not supported. Got BFloat16")
       for prefix in ("linalg.cond_", "linalg.matrix_power_negative", "linalg.tensorinv")},
    **{prefix: (RuntimeError, "expected a tensor with 2 or more dimensions of float, double, "
                              "cfloat or cdouble types")
       for prefix in ("linalg.pinv", "pinverse")},
    **{prefix: (RuntimeError, "This function doesn't handle types other than float and double")
       for prefix in ("linalg.matrix_rank", "linalg.lstsq")},
    "nuclear_norm": (RuntimeError,
                     "linalg.matrix_norm: Low precision dtypes not supported. Got BFloat16"),
    **{prefix: (NotImplementedError, "\"geqrf_cpu\" not implemented for 'BFloat16'")
       for prefix in ("linalg.qr", "qr", "geqrf")},
    **{prefix: (NotImplementedError, "\"orgqr_cpu\" not implemented for 'BFloat16'")
       for prefix in ("linalg.householder_product", "orgqr")},
    "ormqr": (NotImplementedError, "\"ormqr_cpu\" not implemented for 'BFloat16'"),
    "triangular_solve": (NotImplementedError,
                         "\"triangular_solve_cpu\" not implemented for 'BFloat16'"),
    "linalg.ldl": (NotImplementedError,
                   "\"ldl_factor_kernel_cpu\" not implemented for 'BFloat16'"),
    "logdet": (RuntimeError, "logdet: Low precision dtypes not supported. Got BFloat16"),
    "linalg.vander": (RuntimeError, "linalg.vander supports floating point, complex, and "
                                    "integer tensors, but got BFloat16"),
    # complex() and polar() take float16, float32 and float64 parts only
    **{prefix: (RuntimeError, "Expected both inputs to be Half, Float or Double tensors but "
                              "got BFloat16 and BFloat16")
       for prefix in ("polar", "adjoint", "resolve_conj", "resolve_neg", "conj_physical_",
                      "matmul_complex", "vdot_complex", "linalg.eig_complex_input",
                      "linalg.vector_norm_complex", "linalg.matrix_norm_complex")},
    "view_as_complex": (RuntimeError, "view_as_complex is only supported for half, float and "
                                      "double tensors, but got a tensor of scalar type: "
                                      "BFloat16"),
    "quantile": (RuntimeError, "quantile() input tensor must be either float or double dtype"),
    "nanquantile": (RuntimeError, "quantile() input tensor must be either float or double"),
    "histogram": (NotImplementedError, "\"histogramdd\" not implemented for 'BFloat16'"),
    "F.avg_pool3d": (NotImplementedError, "\"avg_pool3d_out_frame\" not implemented for"),
    "F.lp_pool3d": (NotImplementedError, "\"avg_pool3d_out_frame\" not implemented for"),
    "F.local_response_norm-1": (NotImplementedError, "\"avg_pool3d_out_frame\" not implemented"),
    "cdist": (NotImplementedError, "\"cdist\" not implemented for 'BFloat16'"),
    "pdist": (NotImplementedError, "\"pdist\" not implemented for 'BFloat16'"),
    "special.chebyshev_polynomial": (NotImplementedError, "_cpu\" not implemented for 'BFloat16'"),
    "special.shifted_chebyshev": (NotImplementedError, "_cpu\" not implemented for 'BFloat16'"),
    "special.hermite_polynomial": (NotImplementedError, "_cpu\" not implemented for 'BFloat16'"),
    "special.legendre_polynomial": (NotImplementedError, "_cpu\" not implemented for 'BFloat16'"),
    # after linalg.eigh and linalg.eigvalsh, and torch.cholesky after cholesky_solve/inverse
    "linalg.eig": (NotImplementedError,
                   "\"linalg_eig_out_cpu\" not implemented for 'BFloat16'"),
    "cholesky": (NotImplementedError, "\"cholesky_cpu\" not implemented for 'BFloat16'"),
}
# The complex entries build their complex inputs with complex(), which PyTorch refuses for
# bfloat16; so do the FFT entries that take complex inputs (istft too). Its other transforms
# refuse bfloat16 themselves; stft and ctc_loss have no bfloat16 CPU kernel.
_COMPLEX_REFUSED = (RuntimeError, "Expected both inputs to be Half, Float or Double tensors but "
                    "got BFloat16 and BFloat16")
_FFT_REFUSED = (RuntimeError, "Unsupported dtype BFloat16")
# By entry name (exactly: "angle" is refused, "angle_real" is not).
_REFUSED_ENTRIES = {
    # the range finder draws its block in float32 (PyTorch's get_floating_dtype)
    **{name: (RuntimeError, "expected m1 and m2 to have the same dtype, but got: "
                            "c10::BFloat16 != float")
       for name in ("svd_lowrank", "svd_lowrank_M", "svd_lowrank_vectors", "pca_lowrank")},
    **{name: _COMPLEX_REFUSED for name in (
        "complex", "view_as_real", "real", "imag", "conj", "conj_physical", "angle",
        *(f"dist_complex[{order}]" for order in (1, 2, 3, "inf")),
        "abs_complex", "mul_complex", "mul_complex_scalar", "div_complex", "sum_complex",
        "prod_complex", "prod_complex_all", "cumprod_complex", "norm_complex", "pow_complex",
        "pow_complex_real_exponent", "pow_real_complex_exponent", "pow_complex_number_exponent",
        "pow_complex_negative_integer", "rpow_complex_exponent",
        "rpow_negative_base_complex_exponent",
        "istft", "fft.fft", "fft.fft2", "fft.fftn", "fft.ifft", "fft.ifftn", "fft.fft_n_ortho",
        "fft.irfft", "fft.irfft_n", "fft.irfft2", "fft.irfftn", "fft.hfft", "fft.hfft2",
        "fft.hfftn")},
    **{name: _FFT_REFUSED for name in (
        "fft.fft_real", "fft.ifft_real", "fft.ifft2", "fft.rfft", "fft.rfft_n", "fft.rfft2",
        "fft.rfftn", "fft.ihfft", "fft.ihfft2", "fft.ihfftn")},
    "stft": (RuntimeError, "MKL FFT doesn't support tensors of type: BFloat16"),
    **{name: (NotImplementedError, "\"ctc_loss_cpu\" not implemented for 'BFloat16'")
       for name in ("ctc_loss_mean", "ctc_loss_sum", "ctc_loss_none")},
    "special.laguerre_polynomial_l": (NotImplementedError,
                                      "\"laguerre_polynomial_l_cpu\" not implemented for "
                                      "'BFloat16'"),
}


def _rounded(x: Any) -> Any:
    import ml_dtypes

    return np.asarray(x).astype(ml_dtypes.bfloat16).astype(np.float64)


def _shifted_left(a: Any, b: Any) -> Any:
    """The bitwise_left_shift entry's reference with its operands scaled in bfloat16 (the op
    turns `a * 5` and `b * 20` into integers after bfloat16 rounds them: PyTorch's results)."""
    value, shift = np.trunc(_rounded(a * 5)), np.trunc(_rounded(b * 20))
    return np.where((shift < 0) | (shift >= 64), 0,
                    np.left_shift(value.astype(int), np.clip(shift, 0, 63).astype(int)))


# Entries whose float64 reference needs bfloat16's rounding of an intermediate.
_REFERENCES = {"bitwise_left_shift": _shifted_left}
# Entries whose result is not bfloat16 for bfloat16 inputs, as in PyTorch.
# (a complex number with bfloat16 is complex64 — a power, `z + 0j`, `z * 1j` — read back as
# float32, as in PyTorch)
_OUT_DTYPES = {"bincount_weights": autodiff.float64, "rpow_complex_base": autodiff.float32,
               "conj_unary": autodiff.float32, "real_unary": autodiff.float32,
               "imag_unary": autodiff.float32}


def _op_table_cases() -> list[Any]:
    from tests.op_db import OP_DB

    return [pytest.param(info, sample, id=f"{info.name}-{index}")
            for info in OP_DB for index, sample in enumerate(info.samples)]


@pytest.mark.parametrize(("info", "sample"), _op_table_cases())
def test_op_table_in_bfloat16(info: Any, sample: Any) -> None:
    """Every op-table entry on bfloat16 inputs: its output dtype, values within bfloat16's
    resolution of the float64 reference on the same (rounded) inputs, and bfloat16 gradients;
    or PyTorch's refusal."""
    import ml_dtypes

    name = f"{info.name}-{info.samples.index(sample)}"
    rng = np.random.default_rng(0)
    low, high = info.domain
    arrays = [rng.uniform(low, high, size=shape).astype(ml_dtypes.bfloat16).astype(np.float64)
              for shape in sample.shapes]
    count = info.grad_inputs if info.grad_inputs is not None else len(arrays)
    tensors = [autodiff.tensor(a, dtype=autodiff.bfloat16,
                               requires_grad=info.differentiable and index < count)
               for index, a in enumerate(arrays)]
    refused = _REFUSED_ENTRIES.get(info.name) or next(
        (error for prefix, error in _REFUSED.items()
         if name.startswith(prefix) or info.name.startswith(prefix)), None)
    if refused is not None:
        with pytest.raises(refused[0], match=re.escape(refused[1])):
            info.op(*tensors)
        return
    out = info.op(*tensors)
    expected_dtype = _OUT_DTYPES.get(info.name, info.out_dtype or autodiff.bfloat16)
    assert out.dtype is expected_dtype
    if not info.name.startswith("isclose"):  # its own arithmetic is bfloat16's (PyTorch's too)
        expected = np.asarray(_REFERENCES.get(info.name, info.ref)(*arrays), dtype=np.float64)
        actual = np.array(out.float().tolist() if out.dtype is autodiff.bfloat16
                          else out.tolist(), dtype=np.float64).reshape(tuple(out.shape))
        scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
        np.testing.assert_allclose(actual, expected, rtol=3e-2, atol=3e-2 * scale)
    if out.requires_grad and out.numel():
        out.float().sum().backward()
        for tensor in tensors:
            if tensor.grad is not None:
                assert tensor.grad.dtype is autodiff.bfloat16
