"""Discrete Fourier transforms (torch.fft): fft, ifft, rfft, irfft, hfft, ihfft, their 2-D and
n-D forms, fftfreq, rfftfreq, fftshift and ifftshift.

Every transform is built as PyTorch builds it, from three ops on the backend's FFT: FftC2C
(complex to complex, either direction), FftR2C (real to complex, the full spectrum or its
non-redundant half) and FftC2R (the half spectrum of a Hermitian signal to real), after
PyTorch's input handling (integers become the default float dtype; `n`/`s` crop with a slice
or zero-pad) and with its conjugations, so each graph ends in PyTorch's nodes. Each op's
backward is another of them (the adjoint transform), so gradients are PyTorch's (under its
complex convention) and twice differentiable. `norm` scales the forward transform by 1
("backward", the default), 1/sqrt(n) ("ortho") or 1/n ("forward"), and the inverse the other
way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..creation import arange, zeros
from ..creation import tensor as _tensor
from ..function import Function
from ..jvp_rules import auto_linear
from ..tensor import Tensor
from ._checks import scalar_type_name
from .complex import conj, conj_physical, real
from .indexing import narrow
from .joining import cat, roll
from .padding import ConstantPadNd


# ----------------------------------------------------------------------------- the three ops
class FftC2C(Function):
    """The complex DFT over `dims` (forward: exp(-2 pi i jk/n)), scaled by `scale`."""

    node_name = "FftC2CBackward0"
    jvp = auto_linear  # linear over the reals: the op on the tangents

    @staticmethod
    def forward(ctx: Any, a: Any, *, dims: tuple[int, ...], scale: str, forward: bool) -> Any:
        ctx.dims, ctx.scale, ctx.forward = dims, scale, forward
        return ctx.backend.fft_c2c(a, dims, scale, forward)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        # The adjoint: the other direction, the same scale.
        return FftC2C.apply(grad, dims=ctx.dims, scale=ctx.scale, forward=not ctx.forward)


class FftR2C(Function):
    """The forward DFT of a real tensor over `dims`; `onesided` keeps the last dim only up to
    n/2 + 1 (the rest follows by conjugate symmetry)."""

    node_name = "FftR2CBackward0"
    jvp = auto_linear  # linear over the reals: the op on the tangents

    @staticmethod
    def forward(ctx: Any, a: Any, *, dims: tuple[int, ...], scale: str, onesided: bool) -> Any:
        ctx.dims, ctx.scale, ctx.onesided = dims, scale, onesided
        ctx.last_size = a.shape[dims[-1]]
        return ctx.backend.fft_r2c(a, dims, scale, onesided)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        # The full spectrum's adjoint is the inverse transform; a half spectrum's gradient is
        # first padded with zeros (the discarded half contributed nothing).
        last = ctx.dims[-1]
        missing = ctx.last_size - grad.shape[last]
        if ctx.onesided and missing > 0:
            shape = list(grad.shape)
            shape[last] = missing
            grad = cat([grad, zeros(shape, dtype=grad.dtype, device=grad.device)], last)
        return real(FftC2C.apply(grad, dims=ctx.dims, scale=ctx.scale, forward=False))


class FftC2R(Function):
    """The real inverse DFT over `dims` of a Hermitian signal given by its half spectrum; the
    last dim of the result has `last_size` points."""

    node_name = "FftC2RBackward0"
    jvp = auto_linear  # linear over the reals: the op on the tangents

    @staticmethod
    def forward(ctx: Any, a: Any, *, dims: tuple[int, ...], scale: str, last_size: int) -> Any:
        ctx.dims, ctx.scale = dims, scale
        return ctx.backend.fft_c2r(a, dims, scale, last_size)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        # The forward half-spectrum transform, with the entries whose mirror image lies
        # outside the half (1 .. n - (n/2 + 1)) counted twice.
        half = FftR2C.apply(grad, dims=ctx.dims, scale=ctx.scale, onesided=True)
        last = ctx.dims[-1]
        doubled = grad.shape[last] - half.shape[last]
        if doubled <= 0:
            return half
        weights = [1.0] + [2.0] * doubled + [1.0] * (half.shape[last] - 1 - doubled)
        shape = [1] * half.ndim
        shape[last] = len(weights)
        factor = _tensor(weights, dtype=half.dtype.to_real(), device=half.device).reshape(shape)
        return half * factor


# ----------------------------------------------------------------------------- arguments
def _scale(norm: str | None, forward: bool) -> str:
    """PyTorch's norm_from_string: the scale of a transform in this direction."""
    if norm is None or norm == "backward":
        return "none" if forward else "n"
    if norm == "forward":
        return "n" if forward else "none"
    if norm == "ortho":
        return "sqrt"
    raise RuntimeError(f'Invalid normalization mode: "{norm}"')


def _promoted(input: Tensor, require_complex: bool = False) -> Tensor:
    """PyTorch's promote_tensor_fft: integers and bools to the default float dtype, and to
    complex when asked; float16 has no transform on the CPU."""
    kind = input.dtype
    if kind.is_complex:
        return input
    if not kind.is_floating_point:
        kind = dtypes.get_default_dtype()
    if kind not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(f"Unsupported dtype {dtypes.SCALAR_TYPE_NAMES[kind.name]}")
    if require_complex:
        kind = kind.to_complex()
    return input if kind is input.dtype else input.to(kind)


def _dim(dim: int, ndim: int) -> int:
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                         f"{ndim - 1}], but got {dim})")
    return dim % ndim


def _check_points(n: int) -> None:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _resized(x: Tensor, dims: Sequence[int], sizes: Sequence[int]) -> Tensor:
    """PyTorch's resize_fft_input: crop each dim longer than its size (a slice), then zero-pad
    the shorter ones (one pad)."""
    pad = [0] * (2 * x.ndim)
    padded = False
    for dim, size in zip(dims, sizes):
        have = x.shape[dim]
        if have < size:
            padded = True
            pad[2 * (x.ndim - 1 - dim) + 1] = size - have
        elif have > size:
            x = narrow(x, dim, 0, size)
    return ConstantPadNd.apply(x, pad=tuple(pad), value=0) if padded else x


def _shape_and_dims(input: Tensor, s: Any, dim: Any) -> tuple[list[int], list[int]]:
    """PyTorch's canonicalize_fft_shape_and_dim_args: the points and dims to transform."""
    ndim = input.ndim
    dims: list[int] = []
    if dim is not None:
        dims = [_dim(d, ndim) for d in ([dim] if isinstance(dim, int) else dim)]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    if s is not None:
        s = list(s)
        if dim is not None and len(dims) != len(s):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{ndim} dimensions.")
        if dim is None:
            dims = list(range(ndim - len(s), ndim))
        shape = [input.shape[d] if n == -1 else n for n, d in zip(s, dims)]
    elif dim is None:
        dims = list(range(ndim))
        shape = list(input.shape)
    else:
        shape = [input.shape[d] for d in dims]
    for n in shape:
        if n <= 0:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return shape, dims


def _c2r_shape_and_dims(name: str, input: Tensor, s: Any,
                        dim: Any) -> tuple[list[int], list[int], int]:
    """As _shape_and_dims for a Hermitian (half) input: also the last dim's output length."""
    shape, dims = _shape_and_dims(input, s, dim)
    if not shape:
        raise RuntimeError(f"{name} must transform at least one axis")
    default = s is None or list(s)[-1] == -1
    last_size = 2 * (input.shape[dims[-1]] - 1) if default else shape[-1]
    _check_points(last_size)
    shape[-1] = last_size // 2 + 1
    return shape, dims, last_size


# ----------------------------------------------------------------------------- 1-D
def _c2c(name: str, input: Tensor, n: int | None, dim: int, norm: str | None,
         forward: bool) -> Tensor:
    d = _dim(dim, input.ndim)
    points = input.shape[d] if n is None else n
    _check_points(points)
    if n is not None:
        input = _resized(input, [d], [n])
    return FftC2C.apply(input, dims=(d,), scale=_scale(norm, forward), forward=forward)


def _r2c(name: str, input: Tensor, n: int | None, dim: int, norm: str | None, forward: bool,
         onesided: bool) -> Tensor:
    if input.dtype.is_complex:
        raise RuntimeError(f"{name} expects a real input tensor, but got "
                           f"{scalar_type_name(input)}")
    d = _dim(dim, input.ndim)
    points = input.shape[d] if n is None else n
    _check_points(points)
    input = _promoted(input)
    if n is not None:
        input = _resized(input, [d], [n])
    out = FftR2C.apply(input, dims=(d,), scale=_scale(norm, forward), onesided=onesided)
    return out if forward else conj(out)


def _c2r(name: str, input: Tensor, n: int | None, dim: int, norm: str | None,
         forward: bool) -> Tensor:
    input = _promoted(input, require_complex=True)
    d = _dim(dim, input.ndim)
    points = 2 * (input.shape[d] - 1) if n is None else n
    _check_points(points)
    if n is not None:
        input = _resized(input, [d], [n // 2 + 1])
    if forward:
        input = conj(input)
    return FftC2R.apply(input, dims=(d,), scale=_scale(norm, forward), last_size=points)


@autocast_op("fft_fft")
def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The one-dimensional discrete Fourier transform along `dim`."""
    if input.dtype.is_complex:
        return _c2c("fft", input, n, dim, norm, True)
    return _r2c("fft", input, n, dim, norm, True, onesided=False)


@autocast_op("fft_ifft")
def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of fft."""
    if input.dtype.is_complex:
        return _c2c("ifft", input, n, dim, norm, False)
    return _r2c("ifft", input, n, dim, norm, False, onesided=False)


@autocast_op("fft_rfft")
def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The FFT of a real signal: the n/2 + 1 non-negative frequencies."""
    return _r2c("rfft", input, n, dim, norm, True, onesided=True)


@autocast_op("fft_irfft")
def irfft(input: Tensor, n: int | None = None, dim: int = -1,
          norm: str | None = None) -> Tensor:
    """The inverse of rfft: a real signal of n points (2 (m - 1) by default)."""
    return _c2r("irfft", input, n, dim, norm, False)


@autocast_op("fft_hfft")
def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The FFT of a Hermitian-symmetric signal given by its first half: a real spectrum."""
    return _c2r("hfft", input, n, dim, norm, True)


@autocast_op("fft_ihfft")
def ihfft(input: Tensor, n: int | None = None, dim: int = -1,
          norm: str | None = None) -> Tensor:
    """The inverse of hfft: the half spectrum of a real signal's inverse transform."""
    return _r2c("ihfft", input, n, dim, norm, False, onesided=True)


# ----------------------------------------------------------------------------- n-D
@autocast_op("fft_fftn")
def fftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The n-dimensional FFT over `dim` (all dims by default, or the last len(s))."""
    return _c2c_n("fftn", input, s, dim, norm, True)


@autocast_op("fft_ifftn")
def ifftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    return _c2c_n("ifftn", input, s, dim, norm, False)


def _c2c_n(name: str, input: Tensor, s: Any, dim: Any, norm: str | None,
           forward: bool) -> Tensor:
    shape, dims = _shape_and_dims(input, s, dim)
    x = _resized(_promoted(input, require_complex=True), dims, shape)
    return FftC2C.apply(x, dims=tuple(dims), scale=_scale(norm, forward), forward=forward)


@autocast_op("fft_rfftn")
def rfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    if input.dtype.is_complex:
        raise RuntimeError("rfftn expects a real-valued input tensor, but got "
                           f"{scalar_type_name(input)}")
    shape, dims = _shape_and_dims(input, s, dim)
    if not shape:
        raise RuntimeError("rfftn must transform at least one axis")
    x = _resized(_promoted(input), dims, shape)
    return FftR2C.apply(x, dims=tuple(dims), scale=_scale(norm, True), onesided=True)


@autocast_op("fft_irfftn")
def irfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    shape, dims, last_size = _c2r_shape_and_dims("irfftn", input, s, dim)
    x = _resized(_promoted(input, require_complex=True), dims, shape)
    return FftC2R.apply(x, dims=tuple(dims), scale=_scale(norm, False), last_size=last_size)


def hfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    shape, dims, last_size = _c2r_shape_and_dims("hfftn", input, s, dim)
    x = _resized(_promoted(input, require_complex=True), dims, shape)
    scale = _scale(norm, True)
    if len(dims) > 1:
        x = FftC2C.apply(x, dims=tuple(dims[:-1]), scale=scale, forward=True)
    return FftC2R.apply(conj(x), dims=(dims[-1],), scale=scale, last_size=last_size)


def ihfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    shape, dims = _shape_and_dims(input, s, dim)
    if not shape:
        raise RuntimeError("ihfftn must transform at least one axis")
    if input.dtype.is_complex:
        raise RuntimeError("Only supports floating-point dtypes, but found: "
                           f"{scalar_type_name(input)}")
    x = _resized(_promoted(input), dims, shape)
    scale = _scale(norm, False)
    half = FftR2C.apply(x, dims=(dims[-1],), scale=scale, onesided=True)
    if len(dims) == 1:
        return conj(half)
    return FftC2C.apply(conj_physical(half), dims=tuple(dims[:-1]), scale=scale, forward=False)


@autocast_op("fft_fft2")
def fft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    return fftn(input, s, dim, norm)


@autocast_op("fft_ifft2")
def ifft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    return ifftn(input, s, dim, norm)


@autocast_op("fft_rfft2")
def rfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    return rfftn(input, s, dim, norm)


@autocast_op("fft_irfft2")
def irfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1),
           norm: str | None = None) -> Tensor:
    return irfftn(input, s, dim, norm)


def hfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    return hfftn(input, s, dim, norm)


def ihfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1),
           norm: str | None = None) -> Tensor:
    return ihfftn(input, s, dim, norm)


# ----------------------------------------------------------------------------- helpers
def fftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an n-point fft with sample spacing d:
    [0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (n d)."""
    kind = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    values = cat([arange((n + 1) // 2, dtype=kind, device=device),
                  arange(-(n // 2), 0, dtype=kind, device=device)])
    out = values * (1.0 / (n * d))
    return out.requires_grad_(requires_grad) if requires_grad else out


def rfftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an n-point rfft: [0, 1, ..., n // 2] / (n d)."""
    kind = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    out = arange(n // 2 + 1, dtype=kind, device=device) * (1.0 / (n * d))
    return out.requires_grad_(requires_grad) if requires_grad else out


def _shifts(input: Tensor, dim: Any, inverse: bool) -> tuple[list[int], list[int]]:
    dims = list(range(input.ndim)) if dim is None else (
        [dim] if isinstance(dim, int) else list(dim))
    sizes = [input.shape[_dim(d, input.ndim)] for d in dims]
    return [(size + 1) // 2 if inverse else size // 2 for size in sizes], dims


def fftshift(input: Tensor, dim: Any = None) -> Tensor:
    """The zero frequency moved to the middle of each of `dim` (all dims by default)."""
    shifts, dims = _shifts(input, dim, inverse=False)
    return roll(input, shifts, dims)


def ifftshift(input: Tensor, dim: Any = None) -> Tensor:
    """The inverse of fftshift."""
    shifts, dims = _shifts(input, dim, inverse=True)
    return roll(input, shifts, dims)

