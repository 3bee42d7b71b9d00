"""Op table entries: the matrix factorizations of autodiff.linalg (svd, qr, eigh, eig, LU,
triangular solves, matrix_exp, lstsq, pinv, householder products, LDL^T) and their torch-level
names. Samples are small (3 x 3, 4 x 3) so each gradgradcheck stays fast.

Singular vectors and eigenvectors are defined up to sign (phase): entries read them through
gauge-invariant functions (U Vh, V^2, |V|), as PyTorch's OpInfos do. Symmetric and
well-conditioned inputs are built inside the op from the drawn ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

import autodiff
import autodiff.linalg as LA

from .info import OpInfo, Sample


def _eye(like: autodiff.Tensor, n: int) -> autodiff.Tensor:
    return autodiff.eye(n, dtype=like.dtype, device=like.device)


def _sym(a: autodiff.Tensor) -> autodiff.Tensor:
    return a + a.mT


def _np_sym(a: np.ndarray) -> np.ndarray:
    return a + np.swapaxes(a, -1, -2)


def _seeded(function: Any) -> Any:
    """A randomized function made repeatable: the same draws on every call."""

    def call(*inputs: autodiff.Tensor) -> autodiff.Tensor:
        autodiff.manual_seed(0)
        return function(*inputs)

    return call


def _dominant(a: autodiff.Tensor) -> autodiff.Tensor:
    return a + 4 * _eye(a, a.shape[-1])


def _np_dominant(a: np.ndarray) -> np.ndarray:
    return a + 4 * np.eye(a.shape[-1])


def _spd(a: autodiff.Tensor) -> autodiff.Tensor:
    return a @ a.mT + 3 * _eye(a, a.shape[-1])


def _np_spd(a: np.ndarray) -> np.ndarray:
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(a.shape[-1])


def _each(function: Any, *arrays: np.ndarray) -> np.ndarray:
    """function on each matrix of a batch (SciPy's functions take one matrix)."""
    batch = arrays[0].shape[:-2]
    if not batch:
        return np.asarray(function(*arrays))
    flat = [a.reshape(-1, *a.shape[len(batch):]) for a in arrays]
    results = [function(*(a[i] for a in flat)) for i in range(flat[0].shape[0])]
    return np.stack(results).reshape(*batch, *np.shape(results[0]))


def _np_svd_uv(a: np.ndarray) -> np.ndarray:
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    return u @ vh


def _np_householder(a: np.ndarray, tau: np.ndarray) -> np.ndarray:
    m, n = a.shape[-2:]
    q = np.eye(m)
    for i in range(tau.shape[-1]):
        v = np.concatenate([np.zeros(i), [1.0], a[i + 1:, i]])
        q = q @ (np.eye(m) - tau[i] * np.outer(v, v))
    return q[:, :n]


def _np_lu_packed(a: np.ndarray) -> np.ndarray:
    return _each(lambda m: scipy.linalg.lu_factor(m)[0], a)


def _swap(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


SQUARE = (Sample(((3, 3),)), Sample(((2, 2, 2),)))
TALL_WIDE = (Sample(((3, 2),)), Sample(((2, 3),)), Sample(((2, 3, 2),)))
PAIR = (Sample(((3, 3), (3, 1))), Sample(((2, 2, 2), (2, 2, 1))))
SMALL_PAIR = (Sample(((2, 2), (2, 1))),)  # the LU solves: each gradgradcheck unpacks P, L, U

DECOMPOSITIONS: list[OpInfo] = [
    # svd
    OpInfo("linalg.svd", lambda a: LA.svd(a, full_matrices=False).S,
           lambda a: np.linalg.svd(a, compute_uv=False), TALL_WIDE, "LinalgSvdBackward0"),
    OpInfo("linalg.svd_vectors", lambda a: (lambda r: r.U @ r.Vh)(LA.svd(a, False)),
           _np_svd_uv, TALL_WIDE, "MmBackward0"),
    OpInfo("linalg.svd_full", lambda a: (lambda r: r.U[..., :2] * r.S.unsqueeze(-2)
                                         @ r.Vh[..., :2, :])(LA.svd(a)),
           lambda a: a, (Sample(((3, 2),)), Sample(((2, 3),))), "MmBackward0"),
    OpInfo("linalg.svdvals", LA.svdvals, lambda a: np.linalg.svd(a, compute_uv=False),
           TALL_WIDE[:1], "LinalgSvdBackward0", complex_grad=True),
    OpInfo("svd", lambda a: (lambda r: r.U @ r.V.mT)(autodiff.svd(a)), _np_svd_uv,
           TALL_WIDE[:2], "MmBackward0"),
    OpInfo("linalg.pinv", LA.pinv, np.linalg.pinv, TALL_WIDE[:2], "LinalgPinvBackward0"),
    OpInfo("linalg.pinv_hermitian", lambda a: LA.pinv(_sym(a), hermitian=True),
           lambda a: np.linalg.pinv(_np_sym(a)), SQUARE[:1], "LinalgPinvBackward0"),
    OpInfo("pinverse", autodiff.pinverse, np.linalg.pinv, TALL_WIDE[:1], "LinalgPinvBackward0"),
    OpInfo("linalg.matrix_rank", LA.matrix_rank, np.linalg.matrix_rank, TALL_WIDE[:2],
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("linalg.cond", LA.cond, np.linalg.cond, SQUARE, "SqueezeBackward1",
           domain=(-1.0, 1.0)),
    OpInfo("linalg.cond_fro", lambda a: LA.cond(_dominant(a), "fro"),
           lambda a: np.linalg.cond(_np_dominant(a), "fro"), SQUARE[:1], "NanToNumBackward0"),
    OpInfo("linalg.cond_nuc", lambda a: LA.cond(_dominant(a), "nuc"),
           lambda a: np.linalg.cond(_np_dominant(a), "nuc"), SQUARE[:1], "MulBackward0",
           gradgrad="singular values (ord 'nuc') are differentiable to first order only"),
    OpInfo("nuclear_norm", autodiff.nuclear_norm, lambda a: np.linalg.norm(a, "nuc"),
           TALL_WIDE[:1], "SumBackward1",
           gradgrad="singular values (ord 'nuc') are differentiable to first order only"),
    OpInfo("frobenius_norm", lambda a: autodiff.frobenius_norm(a, (0, 1)),
           lambda a: np.linalg.norm(a, "fro"), TALL_WIDE[:1], "NormBackward1"),
    OpInfo("frobenius_norm_dim", lambda a: autodiff.frobenius_norm(a, 1, True),
           lambda a: np.linalg.norm(a, axis=1, keepdims=True), (Sample(((2, 3, 2),)),),
           "NormBackward1"),
    # qr and Householder products
    OpInfo("linalg.qr", lambda a: LA.qr(a).Q, lambda a: np.linalg.qr(a)[0], TALL_WIDE,
           "LinalgQrBackward0"),
    OpInfo("linalg.qr_r", lambda a: LA.qr(a).R, lambda a: np.linalg.qr(a)[1], TALL_WIDE[:2],
           "LinalgQrBackward0"),
    OpInfo("qr", lambda a: autodiff.qr(a, some=False).Q,
           lambda a: np.linalg.qr(a, mode="complete")[0], (Sample(((3, 4),)),),
           "LinalgQrBackward0"),
    OpInfo("linalg.householder_product", LA.householder_product, _np_householder,
           (Sample(((3, 2), (2,))), Sample(((3, 2), (1,)))),
           "LinalgHouseholderProductBackward0"),
    OpInfo("orgqr", autodiff.orgqr, _np_householder, (Sample(((3, 3), (2,))),),
           "LinalgHouseholderProductBackward0"),
    OpInfo("ormqr", autodiff.ormqr,
           lambda a, tau, c: _np_householder(np.pad(a, ((0, 0), (0, 1))), tau) @ c,
           (Sample(((3, 2), (2,), (3, 1))),), "OrmqrBackward0"),
    OpInfo("ormqr_transpose_right",
           lambda a, tau, c: autodiff.ormqr(a, tau, c, left=False, transpose=True),
           lambda a, tau, c: c @ _np_householder(np.pad(a, ((0, 0), (0, 1))), tau).T,
           (Sample(((3, 2), (2,), (1, 3))),), "OrmqrBackward0"),
    OpInfo("geqrf", lambda a: autodiff.geqrf(a).a, lambda a: scipy.linalg.lapack.dgeqrf(a)[0],
           TALL_WIDE[:2], differentiable=False),
    # eigendecompositions
    OpInfo("linalg.eigh_vectors_upper", lambda a: LA.eigh(_sym(a), UPLO="U").eigenvectors ** 2,
           lambda a: np.linalg.eigh(_np_sym(a))[1] ** 2, SQUARE, "PowBackward0"),
    OpInfo("linalg.eig", lambda a: autodiff.view_as_real(LA.eig(a).eigenvalues),
           lambda a: _parts(np.linalg.eigvals(a)), SQUARE, "ViewAsRealBackward0"),
    OpInfo("linalg.eig_vectors", lambda a: LA.eig(a).eigenvectors.abs(),
           lambda a: np.abs(np.linalg.eig(a)[1]), SQUARE[:1], "AbsBackward0"),
    OpInfo("linalg.eigvals", lambda a: LA.eigvals(a).real, lambda a: np.linalg.eigvals(a).real,
           SQUARE[:1], "SelectBackward0"),
    # LU
    OpInfo("linalg.lu_factor", lambda a: LA.lu_factor(_dominant(a)).LU,
           lambda a: _np_lu_packed(_np_dominant(a)), SQUARE, "LinalgLuFactorExBackward0"),
    OpInfo("linalg.lu_factor_ex", lambda a: LA.lu_factor_ex(a).LU, _np_lu_packed,
           (Sample(((3, 2),)), Sample(((2, 3),))), "LinalgLuFactorExBackward0",
           domain=(0.5, 2.0)),
    OpInfo("linalg.lu", lambda a: LA.lu(a).U + LA.lu(a).L.sum(-1, keepdim=True),
           lambda a: (lambda _, lower, upper: upper + lower.sum(-1, keepdims=True))(
               *scipy.linalg.lu(a)),
           (Sample(((2, 2),)),), "AddBackward0"),
    OpInfo("linalg.lu_L", lambda a: LA.lu(a).L, lambda a: scipy.linalg.lu(a)[1],
           (Sample(((3, 2),)),), "LinalgLuBackward0", domain=(0.5, 2.0)),
    OpInfo("linalg.lu_U", lambda a: LA.lu(a).U, lambda a: scipy.linalg.lu(a)[2],
           (Sample(((2, 3),)),), "LinalgLuBackward0", domain=(0.5, 2.0)),
    OpInfo("lu", lambda a: autodiff.lu(_dominant(a))[0],
           lambda a: _np_lu_packed(_np_dominant(a)), SQUARE[:1], "LinalgLuFactorExBackward0"),
    OpInfo("lu_unpack", lambda a: autodiff.lu_unpack(*LA.lu_factor(_dominant(a))).L,
           lambda a: scipy.linalg.lu(_np_dominant(a))[1], SQUARE[:1], "LuUnpackBackward0"),
    OpInfo("lu_unpack_wide", lambda a: autodiff.lu_unpack(*LA.lu_factor(a)).U,
           lambda a: scipy.linalg.lu(a)[2], (Sample(((2, 3),)),), "LuUnpackBackward0",
           domain=(0.5, 2.0)),
    OpInfo("linalg.lu_solve", lambda a, b: LA.lu_solve(*LA.lu_factor(_dominant(a)), b),
           lambda a, b: np.linalg.solve(_np_dominant(a), b), PAIR, "LinalgLuSolveBackward0"),
    OpInfo("linalg.lu_solve_adjoint",
           lambda a, b: LA.lu_solve(*LA.lu_factor(_dominant(a)), b, adjoint=True),
           lambda a, b: np.linalg.solve(_swap(_np_dominant(a)), b), SMALL_PAIR,
           "LinalgLuSolveBackward0"),
    OpInfo("linalg.lu_solve_right",
           lambda a, b: LA.lu_solve(*LA.lu_factor(_dominant(a)), b.mT, left=False),
           lambda a, b: _swap(np.linalg.solve(_swap(_np_dominant(a)), b)), SMALL_PAIR,
           "LinalgLuSolveBackward0"),
    OpInfo("lu_solve", lambda a, b: autodiff.lu_solve(b, *LA.lu_factor(_dominant(a))),
           lambda a, b: np.linalg.solve(_np_dominant(a), b), SMALL_PAIR, "LinalgLuSolveBackward0"),
    # triangular systems and Cholesky helpers
    OpInfo("linalg.solve_triangular_lower_right_unit",
           lambda a, b: LA.solve_triangular(a, b.mT, upper=False, left=False,
                                            unitriangular=True),
           lambda a, b: _swap(np.linalg.solve(_swap(np.tril(a, -1) + np.eye(3)), b)), PAIR[:1],
           "LinalgSolveTriangularBackward0"),
    OpInfo("triangular_solve", lambda a, b: autodiff.triangular_solve(b, _dominant(a),
                                                                      transpose=True)[0],
           lambda a, b: np.linalg.solve(np.triu(_np_dominant(a)).T, b), PAIR[:1],
           "TriangularSolveBackward0"),
    OpInfo("cholesky", lambda a: autodiff.cholesky(_spd(a)),
           lambda a: np.linalg.cholesky(_np_spd(a)), SQUARE[:1], "CholeskyBackward0"),
    OpInfo("linalg.cholesky_ex", lambda a: LA.cholesky_ex(_spd(a)).L,
           lambda a: np.linalg.cholesky(_np_spd(a)), SQUARE[:1], "LinalgCholeskyExBackward0"),
    OpInfo("linalg.inv_ex", lambda a: LA.inv_ex(_dominant(a)).inverse,
           lambda a: np.linalg.inv(_np_dominant(a)), SQUARE[:1], "LinalgInvExBackward0"),
    OpInfo("linalg.solve_ex", lambda a, b: LA.solve_ex(_dominant(a), b).result,
           lambda a, b: np.linalg.solve(_np_dominant(a), b), PAIR[:1], "LinalgSolveExBackward0"),
    OpInfo("linalg.ldl_factor", lambda a: LA.ldl_factor(_spd(a)).LD,
           lambda a: np.tril(scipy.linalg.lapack.dsytrf(_np_spd(a), lower=1)[0]), SQUARE[:1],
           differentiable=False),
    OpInfo("linalg.ldl_factor_ex", lambda a: LA.ldl_factor_ex(_sym(a)).LD,
           lambda a: np.tril(scipy.linalg.lapack.dsytrf(_np_sym(a), lower=1)[0]), SQUARE[:1],
           differentiable=False),
    OpInfo("linalg.ldl_solve", lambda a, b: LA.ldl_solve(*LA.ldl_factor(_sym(a)), b),
           lambda a, b: np.linalg.solve(_np_sym(a), b), PAIR[:1], differentiable=False),
    # matrix functions
    OpInfo("linalg.matrix_exp", LA.matrix_exp, lambda a: _each(scipy.linalg.expm, a), SQUARE,
           "LinalgMatrixExpBackward0", domain=(-1.0, 1.0)),
    OpInfo("matrix_exp", autodiff.matrix_exp, lambda a: _each(scipy.linalg.expm, a),
           SQUARE[:1], "LinalgMatrixExpBackward0", domain=(-1.0, 1.0)),
    OpInfo("linalg.matrix_power", lambda a: LA.matrix_power(a, 3),
           lambda a: np.linalg.matrix_power(a, 3), SQUARE, "MmBackward0"),
    OpInfo("linalg.matrix_power_negative", lambda a: LA.matrix_power(_dominant(a), -2),
           lambda a: np.linalg.matrix_power(_np_dominant(a), -2), SQUARE[:1], "MmBackward0"),
    OpInfo("matrix_power", lambda a: autodiff.matrix_power(a, 2),
           lambda a: np.linalg.matrix_power(a, 2), SQUARE[:1], "MmBackward0"),
    OpInfo("linalg.lstsq", lambda a, b: LA.lstsq(a, b).solution,
           lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0],
           (Sample(((3, 2), (3, 1))), Sample(((2, 2), (2,)))), "LinalgLstsqBackward0",
           domain=(0.5, 2.0)),
    OpInfo("linalg.lstsq_gelsd", lambda a, b: LA.lstsq(a, b, driver="gelsd").solution,
           lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], (Sample(((3, 2), (3, 1))),),
           "LinalgLstsqBackward0"),
    OpInfo("logdet", lambda a: autodiff.logdet(_spd(a)),
           lambda a: np.linalg.slogdet(_np_spd(a))[1], SQUARE, "WhereBackward0"),
    OpInfo("linalg.tensorinv", lambda a: LA.tensorinv(_dominant(a.reshape(4, 4)).reshape(
        2, 2, 4), ind=2), lambda a: np.linalg.tensorinv(_np_dominant(a.reshape(4, 4)).reshape(
            2, 2, 4), ind=2), (Sample(((2, 8),)),), "ReshapeAliasBackward0"),
    OpInfo("linalg.tensorsolve", lambda a, b: LA.tensorsolve(
        _dominant(a.reshape(4, 4)).reshape(2, 2, 4), b),
           lambda a, b: np.linalg.tensorsolve(_np_dominant(a.reshape(4, 4)).reshape(2, 2, 4),
                                              b), (Sample(((2, 8), (2, 2))),), "ViewBackward0"),
    OpInfo("linalg.vander", LA.vander, lambda x: x[..., None] ** np.arange(x.shape[-1]),
           (Sample(((3,),)), Sample(((2, 3),), {})), "CatBackward0"),
    OpInfo("vander", lambda x: autodiff.vander(x, 4), lambda x: np.vander(x, 4),
           (Sample(((3,),)),), "FlipBackward0"),
    OpInfo("vander_increasing", lambda x: autodiff.vander(x, increasing=True),
           lambda x: np.vander(x, increasing=True), (Sample(((3,),)),),
           "CopySlices"),
    OpInfo("linalg.vecdot", LA.vecdot, lambda x, y: (x * y).sum(-1),
           (Sample(((3, 4), (3, 4))), Sample(((4,), (2, 4)))), "SumBackward1"),
    OpInfo("vdot", autodiff.vdot, np.vdot, (Sample(((4,), (4,))),), "VdotBackward0"),
    OpInfo("linalg.diagonal", lambda a: LA.diagonal(a, offset=1),
           lambda a: np.diagonal(a, 1, -2, -1), (Sample(((2, 3, 4),)),), "DiagonalBackward0"),
]


def _parts(z: np.ndarray) -> np.ndarray:
    return np.stack([z.real, z.imag], -1)


# The randomized factorizations, each call drawing the same block (gradcheck calls them often):
# with q = min(m, n) the range found is the whole column space, so S is exactly A's (A - M's).
# Random, they stay out of the harnesses that batch DECOMPOSITIONS' gradients.
LOWRANK: list[OpInfo] = [
    OpInfo("svd_lowrank", _seeded(lambda a: autodiff.svd_lowrank(a, q=min(a.shape[-2:]))[1]),
           lambda a: np.linalg.svd(a, compute_uv=False), TALL_WIDE, "LinalgSvdBackward0"),
    OpInfo("svd_lowrank_M",
           _seeded(lambda a, m: autodiff.svd_lowrank(a, q=2, niter=1, M=m)[1]),
           lambda a, m: np.linalg.svd(a - m, compute_uv=False),
           (Sample(((3, 2), (1, 2))), Sample(((2, 3), (2, 3)))), "LinalgSvdBackward0"),
    OpInfo("svd_lowrank_vectors",
           _seeded(lambda a: (lambda r: r[0] @ r[2].mT)(autodiff.svd_lowrank(a, q=2))),
           _np_svd_uv, TALL_WIDE[:2], "MmBackward0"),
    OpInfo("pca_lowrank", _seeded(lambda a: autodiff.pca_lowrank(a, q=2)[1]),
           lambda a: np.linalg.svd(a - a.mean(-2, keepdims=True), compute_uv=False)[..., :2],
           (Sample(((3, 4),)), Sample(((2, 3, 3),))), "LinalgSvdBackward0"),
]
