"""autodiff.special (torch.special): special functions, each imported from the module of
`autodiff/ops` that defines it, under PyTorch's names."""

from __future__ import annotations

from typing import Any

from .ops import reduction as _reduction
from .ops import softmax as _softmax
from .ops import unary as _unary
from .ops.activation import sigmoid as expit
from .ops.bessel import (
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    i0,
    i0e,
    i1,
    i1e,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    spherical_bessel_j0,
)
from .ops.error_function import erfc, erfcx, erfinv, log_ndtr, ndtr, ndtri
from .ops.gamma import digamma, gammainc, gammaincc, multigammaln, polygamma, psi, zeta
from .ops.gamma import lgamma as gammaln
from .ops.logarithmic import entr, logit, xlog1py, xlogy
from .ops.polynomials import (
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
)
from .ops.unary import erf, exp2, expm1, log1p, sinc
from .tensor import Tensor
from .torch_function import make_namespace_overridable as _make_namespace_overridable


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Round half to even to `decimals` places (floating tensors only, as PyTorch's)."""
    return _unary.round(input, decimals=decimals)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    return _softmax.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    return _softmax.log_softmax(input, dim, dtype)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return _reduction.logsumexp(input, dim, keepdim)


__all__ = [
    "Tensor", "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
    "chebyshev_polynomial_w", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2",
    "expit", "expm1", "gammainc", "gammaincc", "gammaln", "hermite_polynomial_h",
    "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l",
    "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
    "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
    "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0", "xlog1py",
    "xlogy", "zeta",
]

# Last: the public functions become their `__torch_function__` wrappers (torch_function.py)
# now, so the modules importing this one bind the wrappers, in defaults too (an
# `activation=F.relu` default is then the `F.relu` a user passes).
_make_namespace_overridable(globals(), __name__)
