"""Op table entries: the special functions (autodiff.special and their torch.* names): the gamma
family, the error function's relatives, Bessel functions, the orthogonal polynomials.

References are SciPy's (scipy.special). The functions PyTorch does not differentiate (Bessel
functions of the first and second kind, the orthogonal polynomials, ...) are forward-only
entries; their results never require grad.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.special as sp

import autodiff
import autodiff.special as S

from .info import BINARY_SHAPES, UNARY_SHAPES, OpInfo, Sample

_POLYNOMIAL_SHAPES = (Sample(((3, 4), (3, 4))), Sample(((3, 4), (4,))), Sample(((), (2, 3))))


def _degrees(n: autodiff.Tensor) -> autodiff.Tensor:
    """Degrees 0 to 12 drawn from a uniform input on (-2, 2)."""
    return ((n + 2) * 3.25).long()


def _np_degrees(n: np.ndarray) -> np.ndarray:
    return np.trunc((n + 2) * 3.25)


def _polynomial(name: str, reference: Callable[..., np.ndarray],
                shift: bool = False) -> OpInfo:
    def ref(x: np.ndarray, n: np.ndarray) -> np.ndarray:
        x, degrees = np.broadcast_arrays(x, _np_degrees(n).astype(int))
        return reference(degrees, 2 * x - 1 if shift else x)  # type: ignore[no-any-return]

    return OpInfo(f"special.{name}", lambda x, n: getattr(S, name)(x, _degrees(n)), ref,
                  _POLYNOMIAL_SHAPES, differentiable=False, domain=(-1.0, 1.0) if not shift
                  else (0.0, 1.0), rtol=1e-4)


def _chebyshev_v(n: np.ndarray, x: np.ndarray) -> np.ndarray:
    # V_n(x) = (U_n(x) - U_{n-1}(x)) and W_n(x) = U_n(x) + U_{n-1}(x) (U_{-1} = 0)
    return sp.eval_chebyu(n, x) - np.where(n > 0, sp.eval_chebyu(np.maximum(n - 1, 0), x), 0)


def _chebyshev_w(n: np.ndarray, x: np.ndarray) -> np.ndarray:
    return sp.eval_chebyu(n, x) + np.where(n > 0, sp.eval_chebyu(np.maximum(n - 1, 0), x), 0)


def _forward_only(name: str, reference: Callable[..., np.ndarray],
                  domain: tuple[float, float] = (0.2, 4.0)) -> OpInfo:
    return OpInfo(f"special.{name}", getattr(S, name), reference, UNARY_SHAPES,
                  differentiable=False, domain=domain)


GAMMA: list[OpInfo] = [
    OpInfo("lgamma", autodiff.lgamma, sp.gammaln, UNARY_SHAPES, "LgammaBackward0",
           domain=(0.2, 4.0)),
    OpInfo("lgamma_negative", autodiff.lgamma, sp.gammaln, UNARY_SHAPES[:1], "LgammaBackward0",
           domain=(-2.9, -2.1)),
    OpInfo("digamma", autodiff.digamma, sp.digamma, UNARY_SHAPES, "DigammaBackward0",
           domain=(0.2, 4.0)),
    OpInfo("polygamma", lambda a: autodiff.polygamma(2, a), lambda a: sp.polygamma(2, a),
           UNARY_SHAPES, "PolygammaBackward0", domain=(0.5, 4.0)),
    OpInfo("polygamma_trigamma", lambda a: a.polygamma(1), lambda a: sp.polygamma(1, a),
           UNARY_SHAPES[:1], "PolygammaBackward0", domain=(0.5, 4.0)),
    OpInfo("mvlgamma", lambda a: autodiff.mvlgamma(a, 3),
           np.vectorize(lambda v: sp.multigammaln(v, 3), otypes=[float]),
           UNARY_SHAPES, "MvlgammaBackward0", domain=(1.5, 4.0)),
    OpInfo("special.multigammaln", lambda a: S.multigammaln(a, 2),
           np.vectorize(lambda v: sp.multigammaln(v, 2), otypes=[float]), UNARY_SHAPES[:1],
           "MvlgammaBackward0", domain=(1.0, 4.0)),
    # igamma/igammac/zeta: only the second argument is differentiable, so it comes first here.
    OpInfo("igamma", lambda x, a: autodiff.igamma(a, x), lambda x, a: sp.gammainc(a, x),
           BINARY_SHAPES, "IgammaBackward0", domain=(0.3, 3.0), grad_inputs=1),
    OpInfo("igammac", lambda x, a: autodiff.igammac(a, x), lambda x, a: sp.gammaincc(a, x),
           BINARY_SHAPES, "IgammacBackward0", domain=(0.3, 3.0), grad_inputs=1),
    OpInfo("special.gammainc", lambda x, a: S.gammainc(a, x), lambda x, a: sp.gammainc(a, x),
           BINARY_SHAPES[:1], "IgammaBackward0", domain=(0.3, 3.0), grad_inputs=1),
    OpInfo("special.gammaincc", lambda x, a: S.gammaincc(a, x),
           lambda x, a: sp.gammaincc(a, x), BINARY_SHAPES[:1], "IgammacBackward0",
           domain=(0.3, 3.0), grad_inputs=1),
    OpInfo("special.zeta", lambda q, x: S.zeta(x + 1, q), lambda q, x: sp.zeta(x + 1, q),
           BINARY_SHAPES, "SpecialZetaBackward0", domain=(0.5, 3.0), grad_inputs=1),
    OpInfo("special.zeta_scalar", lambda q: S.zeta(2.5, q), lambda q: sp.zeta(2.5, q),
           UNARY_SHAPES, "SpecialZetaBackward1", domain=(0.5, 3.0)),
]

ERROR_FUNCTION: list[OpInfo] = [
    OpInfo("erfc", autodiff.erfc, sp.erfc, UNARY_SHAPES, "ErfcBackward0"),
    OpInfo("erfinv", autodiff.erfinv, sp.erfinv, UNARY_SHAPES, "ErfinvBackward0",
           domain=(-0.9, 0.9)),
    OpInfo("special.erfcx", S.erfcx, sp.erfcx, UNARY_SHAPES, "SpecialErfcxBackward0"),
    OpInfo("special.ndtr", S.ndtr, sp.ndtr, UNARY_SHAPES, "MulBackward1"),
    OpInfo("special.ndtri", S.ndtri, sp.ndtri, UNARY_SHAPES, "SpecialNdtriBackward0",
           domain=(0.05, 0.95)),
    OpInfo("special.log_ndtr", S.log_ndtr, sp.log_ndtr, UNARY_SHAPES,
           "SpecialLogNdtrBackward0", domain=(-5.0, 3.0)),
    OpInfo("special.entr", S.entr, sp.entr, UNARY_SHAPES, "SpecialEntrBackward0",
           domain=(0.1, 3.0)),
    OpInfo("special.xlog1py", S.xlog1py, sp.xlog1py, BINARY_SHAPES,
           "SpecialXlog1PyBackward0", domain=(0.2, 2.0)),
    OpInfo("special.xlog1py_scalar", lambda a: S.xlog1py(a, 0.5), lambda a: sp.xlog1py(a, 0.5),
           UNARY_SHAPES[:1], "SpecialXlog1PyBackward2"),
]

BESSEL: list[OpInfo] = [
    OpInfo("i0", autodiff.i0, sp.i0, UNARY_SHAPES, "I0Backward0"),
    OpInfo("special.i0e", S.i0e, sp.i0e, UNARY_SHAPES, "SpecialI0EBackward0"),
    OpInfo("special.i1", S.i1, sp.i1, UNARY_SHAPES, "SpecialI1Backward0"),
    OpInfo("special.i1e", S.i1e, sp.i1e, UNARY_SHAPES, "SpecialI1EBackward0"),
    _forward_only("bessel_j0", sp.j0, (-6.0, 6.0)),
    _forward_only("bessel_j1", sp.j1, (-6.0, 6.0)),
    _forward_only("bessel_y0", sp.y0),
    _forward_only("bessel_y1", sp.y1),
    _forward_only("modified_bessel_i0", sp.i0, (-4.0, 4.0)),
    _forward_only("modified_bessel_i1", sp.i1, (-4.0, 4.0)),
    _forward_only("modified_bessel_k0", sp.k0),
    _forward_only("modified_bessel_k1", sp.k1),
    _forward_only("scaled_modified_bessel_k0", sp.k0e),
    _forward_only("scaled_modified_bessel_k1", sp.k1e),
    _forward_only("spherical_bessel_j0", lambda x: sp.spherical_jn(0, x), (-3.0, 3.0)),
    _forward_only("airy_ai", lambda x: sp.airy(x)[0], (-4.0, 4.0)),
]

POLYNOMIALS: list[OpInfo] = [
    _polynomial("chebyshev_polynomial_t", sp.eval_chebyt),
    _polynomial("chebyshev_polynomial_u", sp.eval_chebyu),
    _polynomial("chebyshev_polynomial_v", _chebyshev_v),
    _polynomial("chebyshev_polynomial_w", _chebyshev_w),
    _polynomial("shifted_chebyshev_polynomial_t", sp.eval_chebyt, shift=True),
    _polynomial("shifted_chebyshev_polynomial_u", sp.eval_chebyu, shift=True),
    _polynomial("shifted_chebyshev_polynomial_v", _chebyshev_v, shift=True),
    _polynomial("shifted_chebyshev_polynomial_w", _chebyshev_w, shift=True),
    _polynomial("hermite_polynomial_h", sp.eval_hermite),
    _polynomial("hermite_polynomial_he", sp.eval_hermitenorm),
    _polynomial("laguerre_polynomial_l", sp.eval_laguerre),
    _polynomial("legendre_polynomial_p", sp.eval_legendre),
]

SPECIAL: list[OpInfo] = [*GAMMA, *ERROR_FUNCTION, *BESSEL, *POLYNOMIALS]
