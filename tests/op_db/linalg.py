"""Op table entries: linalg ops (matrix products, einsum, tensordot, autodiff.linalg).

Matrix functions get well-conditioned inputs built inside the op from the drawn ones: a
symmetric positive-definite `a a^T + 3 I`, or a diagonally dominant `a + 4 I`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff
import autodiff.linalg as LA

from .info import OpInfo, Sample


def _eye(like: autodiff.Tensor, n: int) -> autodiff.Tensor:
    return autodiff.eye(n, dtype=like.dtype, device=like.device)


def _spd(a: autodiff.Tensor) -> autodiff.Tensor:
    return a @ a.mT + 3 * _eye(a, a.shape[-1])


def _np_spd(a: np.ndarray) -> np.ndarray:
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(a.shape[-1])


def _dominant(a: autodiff.Tensor) -> autodiff.Tensor:
    return a + 4 * _eye(a, a.shape[-1])


def _np_dominant(a: np.ndarray) -> np.ndarray:
    return a + 4 * np.eye(a.shape[-1])


def _np_swap(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def _symmetric(a: autodiff.Tensor) -> autodiff.Tensor:
    # eigh reads one triangle: a symmetric input keeps the numerical gradient of the other.
    return a + a.mT


def _np_unit_upper(a: np.ndarray) -> np.ndarray:
    return np.triu(a, 1) + np.eye(a.shape[-1])


def _np_vector_norm(x: np.ndarray, ord: float, axis: Any = None) -> np.ndarray:
    magnitude = np.abs(x)
    if ord == np.inf:
        return magnitude.max(axis=axis)
    if ord == -np.inf:
        return magnitude.min(axis=axis)
    return (magnitude ** ord).sum(axis=axis) ** (1 / ord)


def _einsum(equation: str, shapes: tuple[tuple[int, ...], ...], grad_fn: str) -> OpInfo:
    return OpInfo(f"einsum[{equation}]", lambda *ops: autodiff.einsum(equation, *ops),
                  lambda *ops: np.einsum(equation, *ops), (Sample(shapes),), grad_fn)


MATRIX_SHAPES = (Sample(((3, 3),)), Sample(((2, 3, 3),)), Sample(((0, 2, 2),)))

# The singular values' derivative is U diag(grad) V^T; its own derivative (which needs the
# derivatives of U and V) is not implemented: a second backward raises.
_SVDVALS_FIRST_ORDER = "singular values (ord 2, -2, 'nuc') are differentiable to first order only"

LINALG: list[OpInfo] = [
    # matmul: every shape rule, each under the node name PyTorch gives it
    OpInfo("matmul_mm", autodiff.matmul, np.matmul, (Sample(((3, 4), (4, 5))),), "MmBackward0",
           complex_grad=True),
    OpInfo("matmul_dot", autodiff.matmul, np.matmul, (Sample(((4,), (4,))),), "DotBackward0",
           complex_grad=True),
    OpInfo("matmul_mv", autodiff.matmul, np.matmul, (Sample(((3, 4), (4,))),), "MvBackward0",
           complex_grad=True),
    OpInfo("matmul_vm", autodiff.matmul, np.matmul, (Sample(((4,), (4, 3))),),
           "SqueezeBackward4"),
    OpInfo("matmul_batched", autodiff.matmul, np.matmul,
           (Sample(((2, 3, 4), (2, 4, 5))), Sample(((2, 3, 4), (4, 5))),
            Sample(((4,), (2, 4, 3))), Sample(((2, 1, 3, 4), (5, 4, 2))),
            Sample(((2, 3, 4), (4,))), Sample(((5, 2, 3), (1, 3, 4))),
            Sample(((0, 3, 4), (4, 2))), Sample(((2, 3, 0), (2, 0, 4)))),
           "UnsafeViewBackward0", complex_grad=True),
    OpInfo("matmul_matrix_batch", autodiff.matmul, np.matmul,
           (Sample(((2, 3), (5, 3, 4))), Sample(((1, 2, 3), (5, 3, 4))),
            Sample(((2, 3), (2, 1, 3, 4)))),
           "CloneBackward0"),
    OpInfo("matmul_row_batch", autodiff.matmul, np.matmul,
           (Sample(((1, 3), (5, 3, 4))), Sample(((2, 3), (5, 3, 1)))), "TransposeBackward0"),
    OpInfo("matmul_operator", lambda a, b: a @ b, np.matmul,
           (Sample(((3, 4), (4, 2))), Sample(((2, 2, 3), (3,)))), "MmBackward0"),
    OpInfo("mm", autodiff.mm, np.matmul, (Sample(((3, 4), (4, 5))), Sample(((0, 4), (4, 2)))),
           "MmBackward0", complex_grad=True),
    OpInfo("bmm", autodiff.bmm, np.matmul, (Sample(((2, 3, 4), (2, 4, 5))),), "BmmBackward0",
           complex_grad=True),
    OpInfo("mv", autodiff.mv, np.matmul, (Sample(((3, 4), (4,))),), "MvBackward0",
           complex_grad=True),
    OpInfo("dot", autodiff.dot, np.dot, (Sample(((5,), (5,))), Sample(((0,), (0,)))),
           "DotBackward0", complex_grad=True),
    OpInfo("outer", autodiff.outer, np.outer, (Sample(((3,), (4,))), Sample(((0,), (2,)))),
           "MulBackward0", complex_grad=True),
    OpInfo("ger", autodiff.ger, np.outer, (Sample(((3,), (4,))),), "MulBackward0"),
    OpInfo("inner", autodiff.inner, np.inner,
           (Sample(((2, 3), (4, 3))), Sample(((3,), (3,))), Sample(((), (2, 3))),
            Sample(((2, 3), (3,)))), "ViewBackward0"),
    # einsum: contractions, diagonals, sums, broadcasting, ellipses, implicit outputs
    _einsum("ij,jk->ik", ((2, 3), (3, 4)), "ViewBackward0"),
    _einsum("ij,jk", ((2, 3), (3, 4)), "ViewBackward0"),
    _einsum("bij,bjk->bik", ((2, 2, 3), (2, 3, 4)), "ViewBackward0"),
    _einsum("ii->i", ((3, 3),), "PermuteBackward0"),
    _einsum("ii", ((3, 3),), "SumBackward1"),
    _einsum("iij->j", ((2, 2, 3),), "SumBackward1"),
    _einsum("iii->i", ((2, 2, 2),), "PermuteBackward0"),
    _einsum("ij->", ((2, 3),), "SumBackward1"),
    _einsum("ij->ji", ((2, 3),), "PermuteBackward0"),
    _einsum("i,j->ij", ((2,), (3,)), "MulBackward0"),
    _einsum("ij,ij->ij", ((2, 3), (2, 3)), "MulBackward0"),
    _einsum("ii,i->i", ((3, 3), (3,)), "MulBackward0"),
    _einsum("i,i->", ((3,), (3,)), "ViewBackward0"),
    _einsum("ij,kj->", ((2, 3), (4, 3)), "ViewBackward0"),
    _einsum("ij,jk,kl->il", ((2, 3), (3, 4), (4, 5)), "ViewBackward0"),
    _einsum("abc,cd,ae->be", ((2, 3, 4), (4, 5), (2, 6)), "ViewBackward0"),
    _einsum("...ij,...jk", ((2, 1, 2, 3), (5, 3, 4)), "ViewBackward0"),
    _einsum("i...->...", ((2, 3, 4),), "SumBackward1"),
    _einsum("i...j->j...i", ((2, 3, 4, 5),), "PermuteBackward0"),
    _einsum("ba,Ac", ((2, 3), (4, 5)), "MulBackward0"),
    _einsum("ij,jk->ik", ((0, 3), (3, 4)), "ViewBackward0"),
    OpInfo("einsum_broadcast", lambda a, b: autodiff.einsum("ij,jk->ik", a, b),
           lambda a, b: np.broadcast_to(a, (2, 3)) @ b, (Sample(((2, 1), (3, 4))),),
           "ViewBackward0"),
    OpInfo("einsum_sublist", lambda a, b: autodiff.einsum(a, [0, 1], b, [1, 2], [0, 2]),
           np.matmul, (Sample(((2, 3), (3, 4))),), "ViewBackward0"),
    OpInfo("tensordot", lambda a, b: autodiff.tensordot(a, b, dims=([1, 0], [0, 2])),
           lambda a, b: np.tensordot(a, b, axes=([1, 0], [0, 2])),
           (Sample(((2, 3, 4), (3, 5, 2))),), "ViewBackward0"),
    OpInfo("tensordot_int", lambda a, b: autodiff.tensordot(a, b, dims=2),
           lambda a, b: np.tensordot(a, b, axes=2),
           (Sample(((2, 3, 4), (3, 4, 5))), Sample(((3, 4), (3, 4)))), "ViewBackward0"),
    # autodiff.linalg
    OpInfo("linalg.inv", lambda a: LA.inv(_dominant(a)),
           lambda a: np.linalg.inv(_np_dominant(a)), MATRIX_SHAPES, "LinalgInvExBackward0",
           domain=(-1.0, 1.0), complex_grad=True),
    OpInfo("linalg.solve", lambda a, b: LA.solve(_dominant(a), b),
           lambda a, b: np.linalg.solve(_np_dominant(a), b),
           (Sample(((3, 3), (3, 2))), Sample(((2, 3, 3), (2, 3, 1))),
            Sample(((3, 3), (4, 3, 2)))),
           "LinalgSolveExBackward0", domain=(-1.0, 1.0), complex_grad=True),
    OpInfo("linalg.solve_vector", lambda a, b: LA.solve(_dominant(a), b),
           lambda a, b: np.linalg.solve(_np_dominant(a), b[..., None])[..., 0],
           (Sample(((3, 3), (3,))), Sample(((2, 3, 3), (2, 3))), Sample(((2, 3, 3), (3,)))),
           "LinalgSolveExBackward0", domain=(-1.0, 1.0), complex_grad=True),
    OpInfo("linalg.solve_right", lambda a, b: LA.solve(_dominant(a), b, left=False),
           lambda a, b: np.swapaxes(np.linalg.solve(np.swapaxes(_np_dominant(a), -1, -2),
                                                    np.swapaxes(b, -1, -2)), -1, -2),
           (Sample(((3, 3), (2, 3))), Sample(((2, 3, 3), (4, 3)))),
           "LinalgSolveExBackward0", domain=(-1.0, 1.0)),
    OpInfo("linalg.det", lambda a: LA.det(_dominant(a)), lambda a: np.linalg.det(_np_dominant(a)),
           MATRIX_SHAPES, "LinalgDetBackward0", domain=(-1.0, 1.0), complex_grad=True),
    OpInfo("linalg.det_general", LA.det, np.linalg.det, (Sample(((3, 3),)),),
           "LinalgDetBackward0"),
    OpInfo("linalg.slogdet", lambda a: LA.slogdet(a).logabsdet,
           lambda a: np.linalg.slogdet(a)[1], (Sample(((3, 3),)), Sample(((2, 4, 4),))),
           "LinalgSlogdetBackward0"),
    OpInfo("slogdet", lambda a: autodiff.slogdet(a).logabsdet,
           lambda a: np.linalg.slogdet(a)[1], (Sample(((3, 3),)),), "LinalgSlogdetBackward0"),
    OpInfo("linalg.cholesky", lambda a: LA.cholesky(_spd(a)),
           lambda a: np.linalg.cholesky(_np_spd(a)), MATRIX_SHAPES,
           "LinalgCholeskyExBackward0"),
    OpInfo("linalg.cholesky_upper", lambda a: LA.cholesky(_spd(a), upper=True),
           lambda a: np.swapaxes(np.linalg.cholesky(_np_spd(a)), -1, -2),
           (Sample(((3, 3),)), Sample(((2, 3, 3),))), "LinalgCholeskyExBackward0"),
    OpInfo("linalg.solve_triangular",
           lambda a, b: LA.solve_triangular(_dominant(a), b, upper=False),
           lambda a, b: np.linalg.solve(np.tril(_np_dominant(a)), b),
           (Sample(((3, 3), (3, 2))), Sample(((2, 3, 3), (2, 3, 1))),
            Sample(((3, 3), (4, 3, 2))), Sample(((0, 2, 2), (2, 1)))),
           "LinalgSolveTriangularBackward0", domain=(-1.0, 1.0)),
    OpInfo("linalg.solve_triangular_upper",
           lambda a, b: LA.solve_triangular(_dominant(a), b, upper=True),
           lambda a, b: np.linalg.solve(np.triu(_np_dominant(a)), b),
           (Sample(((3, 3), (3, 4))), Sample(((2, 3, 3), (3, 2)))),
           "LinalgSolveTriangularBackward0", domain=(-1.0, 1.0)),
    OpInfo("linalg.solve_triangular_right_unit",
           lambda a, b: LA.solve_triangular(a, b, upper=True, left=False, unitriangular=True),
           lambda a, b: _np_swap(np.linalg.solve(_np_swap(_np_unit_upper(a)), _np_swap(b))),
           (Sample(((3, 3), (2, 3))), Sample(((2, 3, 3), (4, 3)))),
           "LinalgSolveTriangularBackward0", domain=(-1.0, 1.0)),
    OpInfo("cholesky_solve", lambda b, a: autodiff.cholesky_solve(b, LA.cholesky(_spd(a))),
           lambda b, a: np.linalg.solve(_np_spd(a), b),
           (Sample(((3, 2), (3, 3))), Sample(((2, 3, 1), (3, 3))),
            Sample(((3, 2), (2, 3, 3)))), "CholeskySolveBackward0"),
    OpInfo("cholesky_solve_upper",
           lambda b, a: autodiff.cholesky_solve(b, _dominant(a).triu(), upper=True),
           lambda b, a: np.linalg.solve(_np_swap(np.triu(_np_dominant(a))) @
                                        np.triu(_np_dominant(a)), b),
           (Sample(((3, 2), (3, 3))), Sample(((2, 3, 2), (2, 3, 3)))),
           "CholeskySolveBackward0", domain=(-1.0, 1.0)),
    OpInfo("cholesky_inverse", lambda a: autodiff.cholesky_inverse(_dominant(a).tril()),
           lambda a: np.linalg.inv(np.tril(_np_dominant(a)) @ _np_swap(np.tril(_np_dominant(a)))),
           (Sample(((3, 3),)), Sample(((2, 3, 3),)), Sample(((0, 2, 2),))),
           "CholeskyInverseBackward0", domain=(-1.0, 1.0)),
    OpInfo("cholesky_inverse_upper",
           lambda a: autodiff.cholesky_inverse(_dominant(a).triu(), upper=True),
           lambda a: np.linalg.inv(_np_swap(np.triu(_np_dominant(a))) @ np.triu(_np_dominant(a))),
           (Sample(((3, 3),)), Sample(((2, 3, 3),))), "CholeskyInverseBackward0",
           domain=(-1.0, 1.0)),
    OpInfo("linalg.eigvalsh", lambda a: LA.eigvalsh(_symmetric(a)),
           lambda a: np.linalg.eigvalsh(a + _np_swap(a)),
           (Sample(((3, 3),)), Sample(((2, 4, 4),)), Sample(((0, 2, 2),))),
           "LinalgEighBackward0"),
    OpInfo("linalg.eigvalsh_upper", lambda a: LA.eigvalsh(_symmetric(a), UPLO="U"),
           lambda a: np.linalg.eigvalsh(a + _np_swap(a), UPLO="U"),
           (Sample(((3, 3),)), Sample(((2, 4, 4),))), "LinalgEighBackward0"),
    OpInfo("linalg.eigh", lambda a: LA.eigh(_symmetric(a)).eigenvalues,
           lambda a: np.linalg.eigh(a + _np_swap(a))[0],
           (Sample(((3, 3),)), Sample(((2, 4, 4),))), "LinalgEighBackward0"),
    # The eigenvectors' signs are arbitrary: their squares are not.
    OpInfo("linalg.eigh_vectors", lambda a: LA.eigh(_symmetric(a)).eigenvectors ** 2,
           lambda a: np.linalg.eigh(a + _np_swap(a))[1] ** 2,
           (Sample(((3, 3),)), Sample(((2, 4, 4),))), "PowBackward0"),
    OpInfo("linalg.vector_norm", LA.vector_norm, lambda x: _np_vector_norm(x, 2),
           (Sample(((3, 4),)), Sample(((),)), Sample(((0, 3),))), "LinalgVectorNormBackward0"),
    *[OpInfo(f"linalg.vector_norm[{order}]",
             lambda x, order=order: LA.vector_norm(x, order, dim=-1),
             lambda x, order=order: _np_vector_norm(x, order, -1),
             (Sample(((3, 4),)), Sample(((2, 3, 2),))), "LinalgVectorNormBackward0")
      for order in (1, 3, 1.5, 0.5, np.inf, -np.inf)],
    OpInfo("linalg.vector_norm_keepdim", lambda x: LA.vector_norm(x, 2, (0, 2), keepdim=True),
           lambda x: np.sqrt((x * x).sum(axis=(0, 2), keepdims=True)),
           (Sample(((2, 3, 4),)),), "LinalgVectorNormBackward0"),
    *[OpInfo(f"linalg.matrix_norm[{order}]", lambda a, order=order: LA.matrix_norm(a, order),
             lambda a, order=order: np.linalg.norm(a, order, axis=(-2, -1)),
             (Sample(((3, 4),)), Sample(((2, 3, 3),))), name,
             gradgrad=(_SVDVALS_FIRST_ORDER if order in ("nuc", 2, -2) else True))
      for order, name in (("fro", "LinalgVectorNormBackward0"), ("nuc", "SumBackward1"),
                          (2, "AmaxBackward0"), (-2, "AminBackward0"), (1, "AmaxBackward0"),
                          (-1, "AminBackward0"), (np.inf, "AmaxBackward0"),
                          (-np.inf, "AminBackward0"))],
    OpInfo("linalg.matrix_norm_dims", lambda a: LA.matrix_norm(a, 1, dim=(2, 0), keepdim=True),
           lambda a: np.linalg.norm(a, 1, axis=(2, 0), keepdims=True),
           (Sample(((3, 2, 4),)),), "AmaxBackward0"),
    OpInfo("linalg.norm", LA.norm, lambda a: np.sqrt((a * a).sum()),
           (Sample(((2, 3, 4),)), Sample(((3,),))), "LinalgVectorNormBackward0"),
    OpInfo("linalg.norm_ord", lambda a: LA.norm(a, np.inf),
           lambda a: np.linalg.norm(a, np.inf), (Sample(((3, 4),)), Sample(((4,),))),
           "AmaxBackward0"),
]
