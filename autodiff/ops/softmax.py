"""softmax and log_softmax along a dim, and what is made of them: softmin, gumbel_softmax.

Each forward is a few array passes (log_softmax is the backend's fused kernel). As in PyTorch,
each backward is an op of its own (`SoftmaxBackwardData`, `LogSoftmaxBackwardData`): one fused
pass when no graph is recorded, and itself differentiable, so double backward works.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..batching.dispatch import random_op
from ..creation import zeros_like
from ..function import Function
from ..jvp_rules import sum_terms
from ..saved_fields import fields, saved, value
from ..tensor import Tensor, _wrap, _wrap_dim
from ..user_warnings import warn
from ._out import EXACT, takes_out
from ._promotion import opmath, rounded
from .unary import exp


def _as_vector(backend: Any, x: Any) -> Any:
    """The kernels reduce along an axis: a 0-d tensor takes part as a 1-element vector."""
    return backend.reshape(x, (1,)) if x.ndim == 0 else x


class LogSoftmax(Function):
    node_name = "LogSoftmaxBackward0"
    saved_fields = fields(result=saved(0), dim=value("dim"))

    @staticmethod
    def forward(ctx: Any, x: Any, *, dim: int) -> Any:
        backend = ctx.backend
        ctx.dim = dim
        if x.size == 0:  # nothing to normalize (and max has no identity)
            out = backend.asarray(x, copy=True)
        else:
            wide, dtype = opmath(backend, _as_vector(backend, x))  # float16 in float32
            out = rounded(backend, backend.reshape(backend.log_softmax(wide, dim), x.shape),
                          dtype)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return LogSoftmaxBackwardData.apply(grad, out, dim=ctx.dim)

    @staticmethod
    def jvp(ctx: Any, tangent: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return tangent - (out.exp() * tangent).sum(ctx.dim, keepdim=True)


class LogSoftmaxBackwardData(Function):
    """grad - softmax * sum(grad) along dim, given the log_softmax output."""

    node_name = "LogSoftmaxBackwardDataBackward0"

    @staticmethod
    def forward(ctx: Any, grad: Any, out: Any, *, dim: int) -> Any:
        backend = ctx.backend
        ctx.dim = dim
        ctx.save_for_backward(grad, out)
        if grad.ndim == 0:
            return backend.multiply(grad, 0)  # log_softmax of one element is constant
        grad, dtype = opmath(backend, grad)
        out, _ = opmath(backend, out)
        return rounded(backend, backend.log_softmax_backward(grad, out, dim), dtype)

    @staticmethod
    def jvp(ctx: Any, tangent_grad: Tensor | None, tangent_out: Tensor | None) -> Tensor | None:
        """y = g - exp(out) sum(g): dy = dg - exp(out) (sum(dg) + d_out sum(g))."""
        grad, out = ctx.saved_tensors
        if grad.ndim == 0:
            return None
        dim, softmax = ctx.dim, out.exp()
        return sum_terms([
            tangent_grad - softmax * tangent_grad.sum(dim, keepdim=True)
            if tangent_grad is not None else None,
            -(softmax * tangent_out) * grad.sum(dim, keepdim=True)
            if tangent_out is not None else None,
        ])

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, out = ctx.saved_tensors
        needs_grad, needs_out = ctx.needs_input_grad
        dim = ctx.dim
        probs = exp(out)
        # y = g - s * sum(g):  dy/dg = outer - sum(outer * s),  dy/dout = -outer * s * sum(g)
        grad_grad = outer - (outer * probs).sum(dim, keepdim=True) if needs_grad else None
        grad_out = -(outer * probs) * grad.sum(dim, keepdim=True) if needs_out else None
        return grad_grad, grad_out


class Softmax(Function):
    node_name = "SoftmaxBackward0"
    saved_fields = fields(result=saved(0), dim=value("dim"))

    @staticmethod
    def forward(ctx: Any, x: Any, *, dim: int) -> Any:
        backend = ctx.backend
        ctx.dim = dim
        if x.size == 0:
            out = backend.asarray(x, copy=True)
        else:
            vector, dtype = opmath(backend, _as_vector(backend, x))  # float16 in float32
            out = backend.exp(vector - backend.max(vector, axis=dim, keepdims=True))
            out /= backend.sum(out, axis=dim, keepdims=True)
            out = rounded(backend, backend.reshape(out, x.shape), dtype)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return SoftmaxBackwardData.apply(grad, out, dim=ctx.dim)

    @staticmethod
    def jvp(ctx: Any, tangent: Tensor) -> Tensor:
        # softmax's Jacobian diag(y) - y y^T is symmetric: the JVP is the backward's formula.
        out, = ctx.saved_tensors
        return SoftmaxBackwardData.apply(tangent, out, dim=ctx.dim)


class SoftmaxBackwardData(Function):
    """s * (grad - sum(grad * s)) along dim, given the softmax output s."""

    node_name = "SoftmaxBackwardDataBackward0"

    @staticmethod
    def forward(ctx: Any, grad: Any, out: Any, *, dim: int) -> Any:
        backend = ctx.backend
        ctx.dim = dim
        ctx.save_for_backward(grad, out)
        if grad.ndim == 0:
            return backend.multiply(grad, 0)
        grad, dtype = opmath(backend, grad)
        out, _ = opmath(backend, out)
        product = backend.multiply(grad, out)
        product -= backend.multiply(out, backend.sum(product, axis=dim, keepdims=True))
        return rounded(backend, product, dtype)

    @staticmethod
    def jvp(ctx: Any, tangent_grad: Tensor | None, tangent_out: Tensor | None) -> Tensor | None:
        """y = s (g - sum(g s)): dy = s (dg - sum(dg s)) + ds (g - sum(g s)) - s sum(g ds)."""
        grad, out = ctx.saved_tensors
        if grad.ndim == 0:
            return None
        dim = ctx.dim
        terms: list[Tensor | None] = [None, None]
        if tangent_grad is not None:
            terms[0] = out * (tangent_grad - (tangent_grad * out).sum(dim, keepdim=True))
        if tangent_out is not None:
            terms[1] = (tangent_out * (grad - (grad * out).sum(dim, keepdim=True))
                        - out * (grad * tangent_out).sum(dim, keepdim=True))
        return sum_terms(terms)

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, out = ctx.saved_tensors
        needs_grad, needs_out = ctx.needs_input_grad
        dim = ctx.dim
        # y = s * (g - sum(g * s)):
        #   dy/dg = s * (outer - sum(outer * s))
        #   dy/ds = outer * (g - sum(g * s)) - g * sum(outer * s)
        outer_dot = (outer * out).sum(dim, keepdim=True)
        grad_grad = out * (outer - outer_dot) if needs_grad else None
        grad_out = None
        if needs_out:
            grad_out = outer * (grad - (grad * out).sum(dim, keepdim=True)) - grad * outer_dot
        return grad_grad, grad_out


# ----------------------------------------------------------------------------- public functions
def _prepare(name: str, input: Tensor, dim: int, dtype: Any) -> tuple[Tensor, int]:
    if dtype is not None:
        input = input.to(dtypes.to_dtype(dtype))
    ndim = input.dim()
    dim = _wrap_dim(dim, ndim)
    if not input.dtype.is_floating_point:
        kernel = f"{name}_lastdim_kernel_impl" if dim == ndim - 1 or ndim == 0 \
            else f"{name}_kernel_impl"
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}\'')
    return input, dim


@takes_out(EXACT)
@autocast_op("softmax")
def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim."""
    input, dim = _prepare("softmax", input, dim, dtype)
    return Softmax.apply(input, dim=dim)


@takes_out(EXACT)
@autocast_op("log_softmax")
def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along dim."""
    input, dim = _prepare("log_softmax", input, dim, dtype)
    return LogSoftmax.apply(input, dim=dim)


def implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's deprecated choice of dim when F.softmax & co. are called without one."""
    warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """softmax(-x) along dim (PyTorch's composition: NegBackward0 under SoftmaxBackward0)."""
    return softmax(-input, dim, dtype)


_TINY = {"float16": 6.103515625e-05, "bfloat16": 1.1754943508222875e-38,
         "float32": 1.1754943508222875e-38,
         "float64": 2.2250738585072014e-308}  # the smallest normal number of each dtype


@random_op
def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """softmax((logits + g) / tau) with g drawn from Gumbel(0, 1) per element; with hard=True
    the one-hot of its argmax in the forward pass and the soft sample's gradient (the
    straight-through estimator, `y_hard - y_soft.detach() + y_soft` as PyTorch writes it)."""
    if eps != 1e-10:
        warn("`eps` parameter is deprecated and has no effect.", UserWarning,
             stacklevel=2)
    backend, data = logits._backend, logits._data
    dtype = backend.dtype_name(data)
    # g = -log(E), E ~ Exp(1) = -log(1 - U); E is kept off 0 (a U of exactly 0) so g is finite.
    exponential = backend.negative(backend.log1p(backend.negative(backend.rand(data.shape,
                                                                                dtype))))
    exponential = backend.maximum(exponential, _TINY[dtype])
    gumbels = _wrap(backend.negative(backend.log(exponential)), backend)
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
