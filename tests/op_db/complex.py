"""Op table entries: complex numbers, built from pairs of real inputs with `complex` and read
back with `view_as_real`, `real`, `imag` or `abs`, so forward values, gradients (PyTorch's
convention: d/dx + i d/dy of a real loss) and second derivatives are checked on real tensors.
"""

from __future__ import annotations

import numpy as np

import autodiff

from .info import BINARY_SHAPES, UNARY_SHAPES, OpInfo, Sample
from .linalg import _SVDVALS_FIRST_ORDER

_QUADRUPLE = (Sample(((3, 4), (3, 4), (3, 4), (3, 4))), Sample(((3, 4), (3, 4), (4,), (4,))))


def _z(a: autodiff.Tensor, b: autodiff.Tensor) -> autodiff.Tensor:
    return autodiff.complex(a, b)


def _parts(z: np.ndarray) -> np.ndarray:
    return np.stack([z.real, z.imag], -1)


COMPLEX: list[OpInfo] = [
    OpInfo("complex", lambda a, b: autodiff.view_as_real(_z(a, b)),
           lambda a, b: np.stack(np.broadcast_arrays(a, b), -1), BINARY_SHAPES,
           "ViewAsRealBackward0"),
    OpInfo("view_as_real", lambda a, b: autodiff.view_as_real(_z(a, b) * 2),
           lambda a, b: _parts(2 * (a + 1j * b)), BINARY_SHAPES[:1], "ViewAsRealBackward0"),
    OpInfo("real", lambda a, b: autodiff.real(_z(a, b) * _z(b, a)),
           lambda a, b: ((a + 1j * b) * (b + 1j * a)).real, BINARY_SHAPES, "SelectBackward0"),
    OpInfo("imag", lambda a, b: autodiff.imag(_z(a, b) * _z(b, a)),
           lambda a, b: ((a + 1j * b) * (b + 1j * a)).imag, BINARY_SHAPES, "SelectBackward0"),
    OpInfo("conj", lambda a, b: autodiff.view_as_real(autodiff.conj(_z(a, b) * _z(a, a))),
           lambda a, b: _parts(np.conj((a + 1j * b) * (a + 1j * a))), BINARY_SHAPES[:2],
           "ViewAsRealBackward0"),
    OpInfo("conj_physical", lambda a, b: autodiff.conj_physical(_z(a, b)).imag,
           lambda a, b: -b + 0 * a, BINARY_SHAPES[:2], "SelectBackward0"),
    OpInfo("angle", lambda a, b: autodiff.angle(_z(a, b)), lambda a, b: np.angle(a + 1j * b),
           BINARY_SHAPES, "AngleBackward0"),
    # One input, real or complex (`+ 0j` makes a real sample complex): with complex samples
    # gradcheck differentiates the part-taking ops on complex inputs themselves.
    OpInfo("conj_unary", lambda z: autodiff.view_as_real((z + 0j).conj().resolve_conj()),
           lambda z: _parts(np.conj(z + 0j)), UNARY_SHAPES[:2], "ViewAsRealBackward0",
           complex_grad=True),
    OpInfo("real_unary", lambda z: autodiff.real(z + 0j), lambda z: np.real(z + 0j),
           UNARY_SHAPES[:2], "SelectBackward0", complex_grad=True),
    OpInfo("imag_unary", lambda z: autodiff.imag(z * 1j), lambda z: np.imag(z * 1j),
           UNARY_SHAPES[:2], "SelectBackward0", complex_grad=True),
    OpInfo("angle_real", autodiff.angle, np.angle, UNARY_SHAPES, "AngleBackward0",
           complex_grad=True),
    OpInfo("abs_complex", lambda a, b: autodiff.abs(_z(a, b)), lambda a, b: np.abs(a + 1j * b),
           BINARY_SHAPES, "AbsBackward0"),
    OpInfo("mul_complex", lambda a, b, c, d: autodiff.view_as_real(_z(a, b) * _z(c, d)),
           lambda a, b, c, d: _parts((a + 1j * b) * (c + 1j * d)), _QUADRUPLE,
           "ViewAsRealBackward0"),
    OpInfo("div_complex", lambda a, b, c, d: autodiff.view_as_real(_z(a, b) / _z(c, d)),
           lambda a, b, c, d: _parts((a + 1j * b) / (c + 1j * d)), _QUADRUPLE,
           "ViewAsRealBackward0", domain=(0.5, 2.0)),
    OpInfo("mul_complex_scalar", lambda a, b: autodiff.view_as_real(_z(a, b) * (2 - 1j)),
           lambda a, b: _parts((a + 1j * b) * (2 - 1j)), BINARY_SHAPES[:1],
           "ViewAsRealBackward0"),
    OpInfo("sum_complex", lambda a, b: autodiff.view_as_real((_z(a, b) * _z(b, a)).sum(0)),
           lambda a, b: _parts(((a + 1j * b) * (b + 1j * a)).sum(0)), BINARY_SHAPES[:1],
           "ViewAsRealBackward0"),
    OpInfo("prod_complex", lambda a, b: autodiff.view_as_real(_z(a, b).prod(1)),
           lambda a, b: _parts(np.prod(a + 1j * b, 1)), BINARY_SHAPES[:2], "ViewAsRealBackward0"),
    OpInfo("prod_complex_all", lambda a, b: autodiff.abs(_z(a, b).prod()),
           lambda a, b: np.abs(np.prod(a + 1j * b)), (Sample(((2, 3), (2, 3))),),
           "AbsBackward0"),
    OpInfo("cumprod_complex", lambda a, b: autodiff.view_as_real(_z(a, b).cumprod(1)),
           lambda a, b: _parts(np.cumprod(a + 1j * b, 1)), BINARY_SHAPES[:2],
           "ViewAsRealBackward0"),
    *[OpInfo(f"linalg.vector_norm_complex[{order}]",
             lambda a, b, order=order: autodiff.linalg.vector_norm(_z(a, b), order, dim=-1),
             lambda a, b, order=order: np.linalg.norm(a + 1j * b, order, axis=-1),
             BINARY_SHAPES[:2], "LinalgVectorNormBackward0")
      for order in (2, 1, 3, 0.5, np.inf, -np.inf)],
    *[OpInfo(f"linalg.matrix_norm_complex[{order}]",
             lambda a, b, order=order: autodiff.linalg.matrix_norm(_z(a, b), order),
             lambda a, b, order=order: np.linalg.norm(a + 1j * b, order, axis=(-2, -1)),
             (Sample(((3, 4), (3, 4))), Sample(((2, 3, 3), (2, 3, 3)))), name,
             gradgrad=(_SVDVALS_FIRST_ORDER if order in ("nuc", 2) else True))
      for order, name in (("fro", "LinalgVectorNormBackward0"), ("nuc", "SumBackward1"),
                          (2, "AmaxBackward0"), (1, "AmaxBackward0"),
                          (-np.inf, "AminBackward0"))],
    OpInfo("norm_complex", lambda a, b: autodiff.norm(_z(a, b), 3, dim=0),
           lambda a, b: np.linalg.norm(a + 1j * b, 3, axis=0), BINARY_SHAPES[:1],
           "LinalgVectorNormBackward0"),
    *[OpInfo(f"dist_complex[{order}]",
             lambda a, b, c, d, order=order: autodiff.dist(_z(a, b), _z(c, d), order),
             lambda a, b, c, d, order=order: np.linalg.norm(
                 np.ravel((a + 1j * b) - (c + 1j * d)), order),
             _QUADRUPLE, "DistBackward0")
      for order in (2, 1, 3, np.inf)],
    OpInfo("pow_complex", lambda a, b, c, d: autodiff.view_as_real(_z(a, b) ** _z(c, d)),
           lambda a, b, c, d: _parts((a + 1j * b) ** (c + 1j * d)), _QUADRUPLE,
           "ViewAsRealBackward0"),
    OpInfo("pow_complex_real_exponent", lambda a, b, c: autodiff.view_as_real(_z(a, b) ** c),
           lambda a, b, c: _parts((a + 1j * b) ** c),
           (Sample(((3, 4), (3, 4), (3, 4))), Sample(((3, 4), (3, 4), (4,)))),
           "ViewAsRealBackward0"),
    OpInfo("pow_real_complex_exponent", lambda a, b, c: autodiff.view_as_real(a ** _z(b, c)),
           lambda a, b, c: _parts((a + 0j) ** (b + 1j * c)),
           (Sample(((3, 4), (3, 4), (3, 4))), Sample(((4,), (3, 4), (3, 4)))),
           "ViewAsRealBackward0", domain=(0.2, 2.0)),
    OpInfo("pow_complex_number_exponent",
           lambda a, b: autodiff.view_as_real(_z(a, b) ** (1.5 - 0.5j)),
           lambda a, b: _parts((a + 1j * b) ** (1.5 - 0.5j)), BINARY_SHAPES[:1],
           "ViewAsRealBackward0"),
    OpInfo("pow_complex_negative_integer",
           lambda a, b: autodiff.view_as_real(_z(a, b) ** -3),
           lambda a, b: _parts((a + 1j * b) ** -3), BINARY_SHAPES[:1], "ViewAsRealBackward0",
           domain=(0.5, 2.0)),
    OpInfo("rpow_complex_exponent", lambda a, b: autodiff.view_as_real(2.5 ** _z(a, b)),
           lambda a, b: _parts(2.5 ** (a + 1j * b)), BINARY_SHAPES[:2], "ViewAsRealBackward0"),
    OpInfo("rpow_negative_base_complex_exponent",
           lambda a, b: autodiff.view_as_real((-2) ** _z(a, b)),
           lambda a, b: _parts((-2 + 0j) ** (a + 1j * b)), BINARY_SHAPES[:1],
           "ViewAsRealBackward0"),
    OpInfo("rpow_complex_base", lambda a: autodiff.view_as_real((1 + 1j) ** a),
           lambda a: _parts((1 + 1j) ** a), UNARY_SHAPES[:2], "ViewAsRealBackward0"),
    OpInfo("polar", lambda a, b: autodiff.view_as_real(autodiff.polar(a, b)),
           lambda a, b: _parts(a * np.exp(1j * b)), BINARY_SHAPES[:3], "ViewAsRealBackward0"),
    OpInfo("view_as_complex",
           lambda a: autodiff.view_as_real(autodiff.view_as_complex(a) * (1 + 2j)),
           lambda a: _parts((a[..., 0] + 1j * a[..., 1]) * (1 + 2j)), (Sample(((3, 2),)),),
           "ViewAsRealBackward0"),
    OpInfo("adjoint", lambda a, b: autodiff.view_as_real(autodiff.adjoint(_z(a, b))),
           lambda a, b: _parts(np.conj(np.swapaxes(a + 1j * b, -1, -2))),
           (Sample(((3, 4), (3, 4))), Sample(((2, 3, 4), (2, 3, 4)))), "ViewAsRealBackward0"),
    OpInfo("resolve_conj", lambda a, b: autodiff.resolve_conj(autodiff.conj(_z(a, b))).imag,
           lambda a, b: -b + 0 * a, BINARY_SHAPES[:1], "SelectBackward0"),
    OpInfo("resolve_neg", lambda a, b: autodiff.resolve_neg(autodiff.conj(_z(a, b)).imag),
           lambda a, b: -b + 0 * a, BINARY_SHAPES[:1], "CloneBackward0"),
    OpInfo("conj_physical_", lambda a, b: autodiff.conj_physical_(_z(a, b) * 1).imag,
           lambda a, b: -b + 0 * a, BINARY_SHAPES[:1], "SelectBackward0"),
    OpInfo("matmul_complex", lambda a, b, c, d: autodiff.view_as_real(_z(a, b) @ _z(c, d)),
           lambda a, b, c, d: _parts((a + 1j * b) @ (c + 1j * d)),
           (Sample(((2, 3), (2, 3), (3, 4), (3, 4))),), "ViewAsRealBackward0"),
    OpInfo("vdot_complex", lambda a, b, c, d: autodiff.view_as_real(autodiff.vdot(_z(a, b),
                                                                                _z(c, d))),
           lambda a, b, c, d: _parts(np.vdot(a + 1j * b, c + 1j * d)),
           (Sample(((4,), (4,), (4,), (4,))),), "ViewAsRealBackward0"),
    OpInfo("linalg.eig_complex_input",
           lambda a, b: autodiff.view_as_real(autodiff.linalg.eigvals(_z(a, b) @ _z(a, b).mH
                                                                    + 3)),
           lambda a, b: _parts(np.linalg.eigvals(
               (a + 1j * b) @ (a + 1j * b).conj().T + 3)),
           (Sample(((3, 3), (3, 3))),), "ViewAsRealBackward0"),
]
