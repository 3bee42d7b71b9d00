"""Cumulative ops along one dim: cumsum, cumprod, cummax, cummin and logcumsumexp.

cumsum's adjoint is the reversed cumulative sum, itself a Cumsum (`reverse=True`), so gradients
of any order stay exact. cumprod's gradient is PyTorch's result with zeros: the product of the
other factors, computed without dividing by zero.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes, return_types
from ..autocast_state import autocast_op
from ..function import Function
from ..jvp_rules import auto_linear, jvp_from_backward, picked_jvp
from ..saved_fields import fields, saved, saved_array, value
from ..tensor import Tensor, _wrap, _wrap_dim
from ._checks import require_floating
from ._out import INTO, takes_out
from ._promotion import accumulation_dtype, cast_for_accumulation
from .scatter import ScatterAdd
from .selection import where


def _accumulate(backend: Any, scan: Any, a: Any, dim: int) -> Any:
    """A cumulative sum or product along dim, accumulated as PyTorch's CPU kernels do: float32
    in float64 and float16 in float32, each result rounded once. (In float32 the relative
    error of a running sum grows with its length: 5e-6 after 1e7 values, 2e-8 this way.)"""
    wide = accumulation_dtype(backend, a)
    if wide is None:
        return scan(a, axis=dim)
    out = scan(a, axis=dim, dtype=backend.native_dtype(wide))
    return backend.astype(out, backend.dtype_name(a))


class Cumsum(Function):
    node_name = "CumsumBackward0"
    saved_fields = fields(dim=value("dim"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, reverse: bool = False) -> Any:
        backend = ctx.backend
        ctx.dim, ctx.reverse = dim, reverse
        if a.ndim == 0:
            return backend.asarray(a, copy=True)
        if reverse:
            flipped = backend.flip(a, axis=dim)
            return backend.flip(_accumulate(backend, backend.cumulative_sum, flipped, dim),
                                axis=dim)
        return _accumulate(backend, backend.cumulative_sum, a, dim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return Cumsum.apply(grad, dim=ctx.dim, reverse=not ctx.reverse)


def _prepare(name: str, input: Tensor, dim: int, dtype: Any) -> tuple[Tensor, int]:
    if dtype is not None and dtypes.to_dtype(dtype) is dtypes.bool_:
        raise NotImplementedError(f'"{name}_out_cpu" not implemented for \'Bool\'')
    input = cast_for_accumulation(input, dtype)
    return input, _wrap_dim(dim, input._data.ndim)


@takes_out(INTO)
@autocast_op("cumsum")
def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    input, dim = _prepare("cumsum", input, dim, dtype)
    return Cumsum.apply(input, dim=dim)


def _reverse_cumsum(tensor: Tensor, dim: int) -> Tensor:
    """sum over positions >= i along dim, for every i."""
    return Cumsum.apply(tensor, dim=dim, reverse=True)


class Cumprod(Function):
    node_name = "CumprodBackward0"
    saved_fields = fields(self=saved(0), result=saved(1), dim=value("dim"))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int) -> Any:
        backend = ctx.backend
        ctx.dim = dim
        out = backend.asarray(a, copy=True) if a.ndim == 0 else \
            _accumulate(backend, backend.cumulative_prod, a, dim)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        # Complex: the gradient is grad times the conjugated derivative (PyTorch's convention).
        a, out = a.conj(), out.conj()
        dim = ctx.dim
        # d out_k / d a_i = prod_{j <= k, j != i} a_j for k >= i. Without zeros that is
        # out_k / a_i, so the gradient is a reversed cumulative sum of grad * out over a_i.
        backend = ctx.backend
        if not backend.any_true(backend.equal(a._data, 0)):
            return _reverse_cumsum(grad * out, dim) / a
        # With zeros: before a slice's first zero the formula above still holds (no division
        # by zero there); at the first zero, the product of the others is the cumulative
        # product with that zero replaced by 1; after it, every product has a zero factor.
        is_zero = a == 0
        zeros_so_far = cumsum(is_zero, dim)
        before_first = zeros_so_far == 0
        first = is_zero & (zeros_so_far == 1)
        safe = where(before_first, a, 1.0)
        grad_before = where(before_first, _reverse_cumsum(grad * out, dim) / safe, 0.0)
        out_without_first = cumprod(where(first, 1.0, a), dim)
        grad_first = where(first, _reverse_cumsum(grad * out_without_first, dim), 0.0)
        return grad_before + grad_first


@takes_out(INTO)
@autocast_op("cumprod")
def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    input, dim = _prepare("cumprod", input, dim, dtype)
    return Cumprod.apply(input, dim=dim)


# ----------------------------------------------------------------------------- cummax, cummin
class Cummax(Function):
    """(running max, index where it was last reached) along `dim`. Ties and NaNs take the later
    index, and NaN stays once met (PyTorch's rule). The gradient of every output element goes
    to the element its index names (a scatter-add: one element may be named many times)."""

    node_name = "CummaxBackward0"
    saved_fields = fields(self=saved(0), dim=value("dim"), indices=saved_array("indices"))
    largest = True

    jvp = picked_jvp

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int) -> Any:
        backend = ctx.backend
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(a)  # unread: PyTorch's node keeps it (grad_fn._saved_self)
        ctx.dim, ctx.shape = dim, a.shape
        if a.ndim == 0:
            values, indices = backend.asarray(a, copy=True), backend.zeros((), "int64")
        elif 0 in a.shape:
            values = backend.asarray(a, copy=True)
            indices = backend.zeros(a.shape, "int64")
        else:
            values, indices = backend.cumulative_extreme(a, dim, ctx.largest)
        ctx.indices = indices
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, grad_indices: Any = None) -> Tensor | None:
        if grad is None:
            return None
        if not ctx.shape:
            return grad
        backend = grad._backend
        target = _wrap(backend.zeros(ctx.shape, backend.dtype_name(grad._data)), backend)
        return ScatterAdd.apply(target, grad, dim=ctx.dim, index=ctx.indices)


class Cummin(Cummax):
    node_name = "CumminBackward0"
    largest = False


def cummax(input: Tensor, dim: int) -> Any:
    dim = _wrap_dim(dim, input._data.ndim)
    values, indices = Cummax.apply(input, dim=dim)
    return return_types.cummax((values, indices))


def cummin(input: Tensor, dim: int) -> Any:
    dim = _wrap_dim(dim, input._data.ndim)
    values, indices = Cummin.apply(input, dim=dim)
    return return_types.cummin((values, indices))


# ----------------------------------------------------------------------------- logcumsumexp
class Logcumsumexp(Function):
    """log(cumsum(exp(x))) along `dim`, computed without overflow."""

    node_name = "LogcumsumexpBackward0"
    saved_fields = fields(self=saved(0), result=saved(1), dim=value("dim"))

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int) -> Any:
        backend = ctx.backend
        require_floating("logcumsumexp_out", backend, a)
        ctx.dim = dim
        if a.ndim == 0 or 0 in a.shape:
            out = backend.asarray(a, copy=True)
        else:
            out = backend.logcumsumexp(a, dim)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        if grad.ndim == 0 or grad.numel() == 0:
            return grad
        # d out_k / d a_i = exp(a_i - out_k) for k >= i: a reversed cumulative sum of
        # grad_k exp(-out_k), times exp(a_i). Positive and negative parts of the gradient are
        # summed apart in log space (PyTorch's formula), so nothing overflows.
        dim = ctx.dim
        lowest = -_largest_finite(grad.dtype.name)
        log_magnitude = grad.abs().log()
        positive = where(grad > 0, log_magnitude, lowest)
        negative = where(grad < 0, log_magnitude, lowest)

        def reverse_logcumsumexp(x: Tensor) -> Tensor:
            return logcumsumexp(x.flip(dim), dim).flip(dim)

        return ((reverse_logcumsumexp(positive - out) + a).exp()
                - (reverse_logcumsumexp(negative - out) + a).exp())

    @staticmethod
    def jvp(ctx: Any, tangent: Tensor) -> Tensor:
        """cumsum(exp(a) t) / cumsum(exp(a)), both shifted by the maximum along dim (PyTorch's
        logcumsumexp_jvp)."""
        a, _ = ctx.saved_tensors
        if tangent.ndim == 0 or tangent.numel() == 0:
            return tangent
        shifted = (a - a.amax(ctx.dim, keepdim=True)).exp()
        return (shifted * tangent).cumsum(ctx.dim) / shifted.cumsum(ctx.dim)


def _largest_finite(dtype: str) -> float:
    return {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
            "float32": 3.4028234663852886e38}.get(
        dtype, 1.7976931348623157e308)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    return Logcumsumexp.apply(input, dim=_wrap_dim(dim, input._data.ndim))
