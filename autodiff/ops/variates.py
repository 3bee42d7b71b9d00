"""Draws from the gamma, Dirichlet and binomial distributions (`torch._standard_gamma`,
`torch._sample_dirichlet`, `torch.binomial`) and the implicit-reparameterization gradients of
gamma and beta samples (`torch._standard_gamma_grad`, `torch._dirichlet_grad`).

A gamma sample x = F^-1(u; alpha) is a function of alpha for fixed noise u, so it has a
derivative: d x / d alpha = -(d F / d alpha)(x) / pdf(x) (the implicit function theorem).
`_standard_gamma` records that derivative (`StandardGammaBackward0`), which makes Gamma, Chi2,
Beta and Dirichlet samples differentiable in their parameters, as PyTorch's. The derivative
itself is an approximation without a derivative of its own (PyTorch's too).

The draws come from the backend's samplers (`Backend.variates`: NumPy's or CuPy's Generator)
in float64 and are cast to the parameters' dtype; like PyTorch's, gamma samples are at least
the dtype's smallest normal number, so log and division by a sample stay finite.
"""

from __future__ import annotations

from typing import Any

from backends import broadcast_shapes

from .. import dtypes
from ..batching.dispatch import random_op
from ..function import Function
from ..generator import source
from ..tensor import Tensor
from ._checks import not_implemented_for, same_device, scalar_type_name


def _draw(function: str, backend: Any, generator: Any, sampler: str, *arrays: Any) -> Any:
    """backend.variates(sampler, *arrays) from `generator` (or the device's default one); a
    generator of another device of the same type draws on its own device."""
    drawing, impl = source(function, backend, generator)
    if drawing is backend:
        return backend.variates(sampler, *arrays, generator=impl)
    moved = [drawing.transfer(array, backend) for array in arrays]
    return backend.transfer(drawing.variates(sampler, *moved, generator=impl), drawing)


def _gamma_draws(backend: Any, alpha: Any, generator: Any, function: str) -> Any:
    """Gamma(alpha, 1) draws in alpha's dtype, at least its smallest normal number. Where alpha
    is not positive (or NaN) there is no distribution: the sample is that smallest number, as
    PyTorch's CPU kernel gives."""
    name = backend.dtype_name(alpha)
    tiny = dtypes.finfo(dtypes.BY_NAME[name]).tiny
    wide = backend.astype(alpha, "float64")
    valid = backend.greater(wide, 0)
    safe = backend.where(valid, wide, backend.ones_like(wide))
    drawn = backend.astype(_draw(function, backend, generator, "standard_gamma", safe), name)
    floor = backend.full(drawn.shape, tiny, name)
    # x > tiny is False for NaN: NaN (from alpha = inf, say) becomes tiny as in PyTorch.
    drawn = backend.where(backend.greater(drawn, floor), drawn, floor)
    return backend.where(valid, drawn, floor)


# ----------------------------------------------------------------------------- gamma
class StandardGamma(Function):
    """Draws from Gamma(alpha, 1), differentiable in alpha through the sample's implicit
    derivative."""

    node_name = "StandardGammaBackward0"

    @staticmethod
    def forward(ctx: Any, alpha: Any, *, generator: Any = None) -> Any:
        backend = ctx.backend
        if not backend.is_floating(alpha.dtype):
            raise not_implemented_for("gamma", backend, alpha)
        out = _gamma_draws(backend, alpha, generator, "_standard_gamma")
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        alpha, out = ctx.saved_tensors
        return grad * _standard_gamma_grad(alpha, out)


def _standard_gamma(input: Tensor, generator: Any = None) -> Tensor:
    """One draw from Gamma(concentration=input, rate=1) per element (float tensors)."""
    return StandardGamma.apply(input, generator=generator)


class StandardGammaGrad(Function):
    """d x / d alpha of a Gamma(alpha, 1) sample x (see backends/variates.py)."""

    node_name = "StandardGammaGradBackward0"

    @staticmethod
    def forward(ctx: Any, alpha: Any, x: Any) -> Any:
        backend = ctx.backend
        if alpha.dtype != x.dtype:
            raise RuntimeError(f"expected scalar type {_type(backend, alpha)} but found "
                               f"{_type(backend, x)}")
        if not backend.is_floating(alpha.dtype):
            raise not_implemented_for("_standard_gamma_grad", backend, alpha)
        name = backend.dtype_name(alpha)
        grad = backend.standard_gamma_grad(backend.astype(alpha, "float64"),
                                           backend.astype(x, "float64"))
        return backend.astype(grad, name)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise NotImplementedError("the derivative for '_standard_gamma_grad' is not "
                                  "implemented.")


def _standard_gamma_grad(input: Tensor, output: Tensor) -> Tensor:
    """The derivative of the Gamma(input, 1) sample `output` with respect to `input`."""
    same_device(input, output)
    return StandardGammaGrad.apply(input, output)


# ----------------------------------------------------------------------------- Dirichlet
class SampleDirichlet(Function):
    """Draws from Dirichlet(alpha) along the last dim: gamma draws, normalised. PyTorch has no
    derivative for it (`distributions.Dirichlet.rsample` builds its own)."""

    node_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx: Any, alpha: Any, *, generator: Any = None) -> Any:
        backend = ctx.backend
        if not backend.is_floating(alpha.dtype):
            raise not_implemented_for("dirichlet", backend, alpha, on_device=False)
        gammas = _gamma_draws(backend, alpha, generator, "_sample_dirichlet")
        if gammas.ndim == 0:
            return backend.divide(gammas, gammas)
        return backend.divide(gammas, backend.sum(gammas, axis=-1, keepdims=True))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError("derivative for aten::_sample_dirichlet is not implemented")


def _sample_dirichlet(input: Tensor, generator: Any = None) -> Tensor:
    """One draw from Dirichlet(input) per row of the last dim."""
    return SampleDirichlet.apply(input, generator=generator)


class DirichletGrad(Function):
    """The derivative of a Beta(alpha, total - alpha) sample x in alpha, over (1 - x)."""

    node_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx: Any, x: Any, alpha: Any, total: Any) -> Any:
        backend = ctx.backend
        if not x.shape == alpha.shape == total.shape:
            raise RuntimeError(
                f"_dirichlet_grad: expected x, alpha and total of the same shape, got "
                f"{list(x.shape)}, {list(alpha.shape)} and {list(total.shape)}")
        if not x.dtype == alpha.dtype == total.dtype:
            raise RuntimeError(f"expected scalar type {_type(backend, x)} but found "
                               f"{_type(backend, alpha if alpha.dtype != x.dtype else total)}")
        if not backend.is_floating(x.dtype):
            raise not_implemented_for("_dirichlet_grad", backend, x)
        grad = backend.dirichlet_grad(*(backend.astype(a, "float64") for a in (x, alpha, total)))
        return backend.astype(grad, backend.dtype_name(x))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError("derivative for aten::_dirichlet_grad is not implemented")


def _dirichlet_grad(x: Tensor, alpha: Tensor, total: Tensor) -> Tensor:
    same_device(x, alpha, total)
    return DirichletGrad.apply(x, alpha, total)


# ----------------------------------------------------------------------------- binomial
class Binomial(Function):
    """The number of successes in `count` trials of probability `prob`. No derivative (PyTorch
    has none)."""

    node_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx: Any, count: Any, prob: Any, *, generator: Any = None) -> Any:
        backend = ctx.backend
        if count.dtype != prob.dtype:
            raise RuntimeError(f"Found dtype {_type(backend, prob)} but expected "
                               f"{_type(backend, count)}")
        name = backend.dtype_name(count)
        n = backend.astype(count, "float64")
        p = backend.astype(prob, "float64")
        if n.shape != p.shape:
            shape = broadcast_shapes(n.shape, p.shape)
            n, p = backend.broadcast_to(n, shape), backend.broadcast_to(p, shape)
        # PyTorch's cases: no trials or p <= 0 give 0, p >= 1 gives every trial (count itself,
        # even when fractional); otherwise floor(count) trials are drawn.
        some = backend.logical_and(backend.greater(n, 0), backend.greater(p, 0))
        certain = backend.greater_equal(p, 1)
        drawable = backend.logical_and(some, backend.logical_not(certain))
        drawable = backend.logical_and(drawable, backend.isfinite(n))
        zeros = backend.zeros_like(n)
        trials = backend.astype(backend.floor(backend.where(drawable, n, zeros)), "int64")
        drawn = _draw("binomial", backend, generator, "binomial", trials,
                      backend.where(drawable, p, zeros))
        every = backend.where(backend.logical_and(certain, some), n, zeros)
        out = backend.where(drawable, drawn, every)
        undefined = backend.logical_or(backend.isnan(n), backend.isnan(p))
        out = backend.where(undefined, n + p, out)  # NaN stays NaN
        return backend.astype(out, name)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError("derivative for aten::binomial is not implemented")


@random_op
def binomial(count: Tensor, prob: Tensor, generator: Any = None) -> Tensor:
    """Draws from Binomial(count, prob), elementwise (count and prob float, of one dtype)."""
    for name, tensor in (("count", count), ("prob", prob)):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"binomial(): argument '{name}' (position "
                            f"{1 if name == 'count' else 2}) must be Tensor, not "
                            f"{type(tensor).__name__}")
    if not count.dtype.is_floating_point:
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{scalar_type_name(count)}")
    same_device(count, prob)
    return Binomial.apply(count, prob, generator=generator)


def _type(backend: Any, array: Any) -> str:
    return dtypes.SCALAR_TYPE_NAMES[backend.dtype_name(array)]


