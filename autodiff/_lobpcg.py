"""lobpcg (torch._lobpcg): the k largest (or smallest) eigenpairs of a symmetric positive
definite generalized eigenproblem A x = lambda B x, by the Locally Optimal Block Preconditioned
Conjugate Gradient method, matrix-free (A and B may be sparse COO) and batched.

Two variants, as PyTorch's: "basic" (Knyazev 2001: Rayleigh-Ritz on [X, P, W] through a
Cholesky-based transform, which fails on a singular basis) and "ortho" (Stathopoulos and Wu
2002, Duersch et al. 2018: the search directions B-orthonormalized against X and P by repeated
SVQB, robust). Iteration stops after `niter` steps (-1: no limit) or when the first k pairs'
backward-stable residuals fall below `tol`; a `tracker` sees the worker after every step and may
stop it (`worker.bvars["force_stop"] = True`).

The iteration is not differentiated through: when A (or B) requires grad, lobpcg runs inside a
custom Function, LOBPCGAutogradFunction, whose backward is that of a partial symmetric
eigendecomposition (the eigenvalues' and eigenvectors' gradient, the part outside span(U)
solving a Sylvester equation with the characteristic polynomial of the found eigenvalues, Hu
and Cheng 2006). It is written in recorded ops, so it is differentiable again. As PyTorch's,
it refuses sparse or complex input and a given B; and A is first symmetrized, (A + A^T) / 2,
so that A.grad is symmetric.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import dtypes
from ._lowrank import get_floating_dtype, sparse_aware_matmul
from .autograd.function import Function
from .creation import eye, randn, zeros, zeros_like
from .generator import Generator
from .ops.decompositions import cholesky
from .ops.eigh import eigh
from .ops.householder import qr
from .ops.joining import stack
from .ops.matmul import matmul
from .ops.reduction import norm
from .ops.selection import where
from .ops.triangular import cholesky_solve, solve_triangular
from .tensor import Tensor

__all__ = ["LOBPCG", "lobpcg"]


# ------------------------------------------------------------------------------ linear algebra
def _bform(X: Tensor, A: Tensor | None, Y: Tensor) -> Tensor:
    """X^T A Y (A: None for the identity)."""
    return matmul(X.mT, sparse_aware_matmul(A, Y))


def _qform(A: Tensor | None, S: Tensor) -> Tensor:
    """S^T A S."""
    return _bform(S, A, S)


def _basis(A: Tensor) -> Tensor:
    """An orthonormal basis of A's columns."""
    return qr(A).Q


def _symeig(A: Tensor, largest: bool | None = False) -> tuple[Tensor, Tensor]:
    """A's eigenpairs, ascending, or descending with `largest`."""
    values, vectors = eigh(A, UPLO="U")
    if largest:
        return values.flip(-1), vectors.flip(-1)
    return values, vectors


# ------------------------------------------------------------------------------------ backward
def _symeig_backward_complete_eigenspace(D_grad: Tensor, U_grad: Tensor, A: Tensor,
                                         D: Tensor, U: Tensor) -> Tensor:
    """gA = U (diag(gD) + (U^T gU) * F) U^T, F_ij = 1 / (d_j - d_i) off the diagonal, 0 on it."""
    identity = eye(D.shape[-1], dtype=D.dtype, device=D.device)
    F = (1 - identity) / (D.unsqueeze(-2) - D.unsqueeze(-1) + identity)
    Ut = U.mT
    return matmul(U, matmul(D_grad.diag_embed() + matmul(Ut, U_grad) * F, Ut))


def _polynomial_coefficients_given_roots(roots: Tensor) -> Tensor:
    """(a_0, ..., a_n = 1) with (x - r_1) ... (x - r_n) = sum a_i x^i, along the last dim:
    the product built one root at a time, each step a recorded op on the previous one."""
    order = roots.shape[-1]
    ones = roots.new_ones(roots.shape[:-1])
    coefficients = [ones]  # of x^0, x^1, ... for the product so far
    for index in range(order):
        root = roots[..., index]
        lower = [ones * 0, *coefficients]  # x * p(x)
        higher = [*coefficients, ones * 0]
        coefficients = [low - root * high for low, high in zip(lower, higher)]
    return stack(coefficients, -1)


def _vector_polynomial_value(poly: Tensor, x: Tensor) -> Tensor:
    """p(x) elementwise by Horner's rule, p monic: poly[..., i] the coefficient of x^i."""
    result = x.new_ones(1).expand(x.shape)
    for index in range(poly.shape[-1] - 2, -1, -1):
        result = poly[..., index].unsqueeze(-1) + x * result
    return result


def _matrix_polynomial_value(poly: Tensor, x: Tensor) -> Tensor:
    """p(X) for square matrices X by Horner's rule, p monic."""
    identity = eye(x.shape[-1], dtype=x.dtype, device=x.device)
    result = identity
    for index in range(poly.shape[-1] - 2, -1, -1):
        result = matmul(x, result) + poly[..., index].unsqueeze(-1).unsqueeze(-1) * identity
    return result


def _symeig_backward_partial_eigenspace(D_grad: Tensor, U_grad: Tensor, A: Tensor, D: Tensor,
                                        U: Tensor, largest: bool) -> Tensor:
    """gA for k < m eigenpairs: the complete-eigenspace part, plus the part in the orthogonal
    complement of span(U), which solves U_o^T A U_o dX - dX D = -U_o^T A U through the
    characteristic polynomial p of D (Hu and Cheng, "The polynomial solution to the Sylvester
    matrix equation", 2006): p(U_o^T A U_o) is definite, so a Cholesky solve inverts it."""
    Ut = U.mT
    projector = eye(A.shape[-1], dtype=A.dtype, device=A.device) - matmul(U, Ut)
    # A basis of the complement: a random block projected off span(U), from a generator of
    # fixed seed so that the gradient is deterministic (as PyTorch's).
    generator = Generator(A.device)
    U_ortho = matmul(projector, randn((*A.shape[:-1], A.shape[-1] - D.shape[-1]),
                                      dtype=A.dtype, device=A.device, generator=generator))
    U_ortho_t = U_ortho.mT
    chr_poly_D = _polynomial_coefficients_given_roots(D)
    # sum over k of A^(k-1-i) gU D^i weighted by p's coefficients, with one product by A a step
    U_grad_projected = U_grad
    series_acc = zeros_like(U_grad)
    degree = chr_poly_D.shape[-1] - 1
    for k in range(1, degree + 1):
        poly_D = _vector_polynomial_value(chr_poly_D[..., k:], D)
        series_acc = series_acc + U_grad_projected * poly_D.unsqueeze(-2)
        U_grad_projected = matmul(A, U_grad_projected)
    chr_poly_D_at_A = _matrix_polynomial_value(chr_poly_D, A)
    restricted = matmul(U_ortho_t, matmul(chr_poly_D_at_A, U_ortho))
    # p(A) restricted to the complement is positive definite for the smallest eigenvalues and
    # for an even count of the largest; negative definite for an odd count of the largest.
    sign = -1 if (largest and degree % 2 == 1) else 1
    L = cholesky(sign * restricted)
    result = _symeig_backward_complete_eigenspace(D_grad, U_grad, A, D, U)
    solved = cholesky_solve(matmul(U_ortho_t, series_acc), L)
    return result - matmul(matmul(U_ortho, sign * solved), Ut)


def _symeig_backward(D_grad: Tensor, U_grad: Tensor, A: Tensor, D: Tensor, U: Tensor,
                     largest: bool) -> Tensor:
    if U.shape[-1] == U.shape[-2]:  # U's columns span the whole space
        return _symeig_backward_complete_eigenspace(D_grad, U_grad, A, D, U)
    return _symeig_backward_partial_eigenspace(D_grad, U_grad, A, D, U, largest)


class LOBPCGAutogradFunction(Function):
    """lobpcg with A or B requiring grad: the iteration as forward, the eigenproblem's
    gradient as backward (PyTorch's node name, LOBPCGAutogradFunctionBackward)."""

    @staticmethod
    def forward(ctx: Any, A: Tensor, k: int | None = None, B: Tensor | None = None,
                X: Tensor | None = None, n: int | None = None, iK: Tensor | None = None,
                niter: int | None = None, tol: float | None = None,
                largest: bool | None = None, method: str | None = None,
                tracker: Callable[[LOBPCG], None] | None = None,
                ortho_iparams: dict[str, int] | None = None,
                ortho_fparams: dict[str, float] | None = None,
                ortho_bparams: dict[str, bool] | None = None) -> tuple[Tensor, Tensor]:
        A = A if A.is_sparse else A.contiguous()
        if B is not None:
            B = B if B.is_sparse else B.contiguous()
        D, U = _lobpcg(A, k, B, X, n, iK, niter, tol, largest, method, tracker,
                       ortho_iparams, ortho_fparams, ortho_bparams)
        ctx.save_for_backward(A, B, D, U)
        ctx.largest = largest
        return D, U

    @staticmethod
    def backward(ctx: Any, D_grad: Tensor, U_grad: Tensor) -> tuple[Tensor | None, ...]:
        A, B, D, U = ctx.saved_tensors
        if A.is_sparse or (B is not None and B.is_sparse and ctx.needs_input_grad[2]):
            raise ValueError(
                "lobpcg.backward does not support sparse input yet. "
                "Note that lobpcg.forward does though.")
        if A.is_complex() or (B is not None and B.is_complex()):
            raise ValueError(
                "lobpcg.backward does not support complex input yet. "
                "Note that lobpcg.forward does though.")
        if B is not None:
            raise ValueError("lobpcg.backward does not support backward with B != I yet.")
        largest = True if ctx.largest is None else ctx.largest
        grads: list[Tensor | None] = [None] * 14
        grads[0] = _symeig_backward(D_grad, U_grad, A, D, U, largest)
        return tuple(grads)


# ------------------------------------------------------------------------------------- lobpcg
def lobpcg(A: Tensor, k: int | None = None, B: Tensor | None = None, X: Tensor | None = None,
           n: int | None = None, iK: Tensor | None = None, niter: int | None = None,
           tol: float | None = None, largest: bool | None = None, method: str | None = None,
           tracker: Callable[[LOBPCG], None] | None = None,
           ortho_iparams: dict[str, int] | None = None,
           ortho_fparams: dict[str, float] | None = None,
           ortho_bparams: dict[str, bool] | None = None) -> tuple[Tensor, Tensor]:
    """(E, X): the k largest (`largest`, the default) or smallest eigenvalues of the symmetric
    positive definite problem A x = lambda B x (B: identity when None) and their eigenvectors
    as X's columns, by LOBPCG ("ortho", the default, or "basic"); X given is the initial
    guess (n columns, k <= n), else n (default k) random columns; iK a preconditioner. A has
    at least 3 n rows. Differentiable in A (dense, real, B None) as PyTorch's."""
    if A.requires_grad or (B is not None and B.requires_grad):
        # A.grad is then symmetric, so that a gradient step keeps A symmetric.
        A_sym = (A + A.mT) / 2
        B_sym = (B + B.mT) / 2 if B is not None else None
        return LOBPCGAutogradFunction.apply(A_sym, k, B_sym, X, n, iK, niter, tol, largest,
                                            method, tracker, ortho_iparams, ortho_fparams,
                                            ortho_bparams)
    return _lobpcg(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams,
                   ortho_fparams, ortho_bparams)


_EPSILON = {dtypes.float32: 1.2e-07, dtypes.float64: 2.23e-16}


def _lobpcg(A: Tensor, k: int | None, B: Tensor | None, X: Tensor | None, n: int | None,
            iK: Tensor | None, niter: int | None, tol: float | None, largest: bool | None,
            method: str | None, tracker: Callable[[LOBPCG], None] | None,
            ortho_iparams: dict[str, int] | None, ortho_fparams: dict[str, float] | None,
            ortho_bparams: dict[str, bool] | None) -> tuple[Tensor, Tensor]:
    if A.shape[-2] != A.shape[-1]:
        raise AssertionError(f"A must be square, got shape {A.shape}")
    if B is not None and A.shape != B.shape:
        raise AssertionError(f"A and B must have same shape, got {A.shape} vs {B.shape}")
    dtype = get_floating_dtype(A)
    device = A.device
    if tol is None:
        tol = _EPSILON[dtype] ** 0.5
    m = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(
            f"LOBPCG algorithm is not applicable when the number of A rows (={m})"
            f" is smaller than 3 x the number of requested eigenpairs (={n})")
    method = "ortho" if method is None else method
    iparams = {"m": m, "n": n, "k": k, "niter": 1000 if niter is None else niter}
    fparams = {"tol": tol}
    bparams = {"largest": True if largest is None else largest}
    if method == "ortho":
        iparams.update(ortho_iparams or {})
        fparams.update(ortho_fparams or {})
        bparams.update(ortho_bparams or {})
        iparams.setdefault("ortho_i_max", 3)
        iparams.setdefault("ortho_j_max", 3)
        fparams.setdefault("ortho_tol", tol)
        fparams.setdefault("ortho_tol_drop", tol)
        fparams.setdefault("ortho_tol_replace", tol)
        bparams.setdefault("ortho_use_drop", False)

    def solve(A_: Tensor, B_: Tensor | None, X_: Tensor | None) -> tuple[Tensor, Tensor]:
        X_ = randn((m, n), dtype=dtype, device=device) if X_ is None else X_.clone()
        if not (len(X_.shape) == 2 and X_.shape == (m, n)):
            raise AssertionError(f"X shape mismatch: got {X_.shape}, expected {(m, n)}")
        worker = LOBPCG(A_, B_, X_, iK, iparams, fparams, bparams, method, tracker)
        worker.run()
        return worker.E[:k], worker.X[:, :k]

    if len(A.shape) > 2:
        batch = 1
        for size in A.shape[:-2]:
            batch *= size
        bA = A.reshape((batch, *A.shape[-2:]))
        bB = B.reshape((batch, *A.shape[-2:])) if B is not None else None
        bX = X.reshape((batch, *X.shape[-2:])) if X is not None else None
        values, vectors = [], []
        for index in range(batch):
            iparams["batch_index"] = index
            E_, X_ = solve(bA[index], bB[index] if bB is not None else None,
                           bX[index] if bX is not None else None)
            values.append(E_)
            vectors.append(X_)
        return (stack(values).reshape((*A.shape[:-2], k)),
                stack(vectors).reshape((*A.shape[:-2], m, k)))
    return solve(A, B, X)


class LOBPCG:
    """The LOBPCG iteration's state and steps. A tracker reads it: `iparams`, `fparams`,
    `bparams` (the parameters), `ivars` ("istep", "converged_count", ...), `fvars`, `bvars`
    ("force_stop" stops the iteration), `tvars` ("rerr", the residuals), and the tensors
    A, B, iK, E (eigenvalues), X (eigenvectors), S (search basis), R (residual)."""

    def __init__(self, A: Tensor | None, B: Tensor | None, X: Tensor, iK: Tensor | None,
                 iparams: dict[str, int], fparams: dict[str, float],
                 bparams: dict[str, bool], method: str,
                 tracker: Callable[[LOBPCG], None] | None) -> None:
        self.A = A
        self.B = B
        self.iK = iK
        self.iparams = iparams
        self.fparams = fparams
        self.bparams = bparams
        self.method = method
        self.tracker = tracker
        m = iparams["m"]
        n = iparams["n"]
        self.X = X
        self.E = zeros((n,), dtype=X.dtype, device=X.device)
        self.R = zeros((m, n), dtype=X.dtype, device=X.device)
        self.S = zeros((m, 3 * n), dtype=X.dtype, device=X.device)
        self.tvars: dict[str, Tensor] = {}
        self.ivars: dict[str, int] = {"istep": 0}
        self.fvars: dict[str, float] = {"_": 0.0}
        self.bvars: dict[str, bool] = {"_": False}

    def __str__(self) -> str:
        lines = ["LOBPCG:"]
        for name in ("iparams", "fparams", "bparams", "ivars", "fvars", "bvars", "tvars", "A",
                     "B", "iK", "X", "E"):
            lines.append(f"  {name}={getattr(self, name)}")
        return "".join(line + "\n" for line in lines)

    def update(self) -> None:
        """Set up the iteration (first step) and take one step."""
        if self.ivars["istep"] == 0:
            X_norm = float(norm(self.X))
            iX_norm = X_norm ** -1
            self.fvars["X_norm"] = X_norm
            self.fvars["A_norm"] = float(norm(sparse_aware_matmul(self.A, self.X))) * iX_norm
            self.fvars["B_norm"] = float(norm(sparse_aware_matmul(self.B, self.X))) * iX_norm
            self.ivars["iterations_left"] = self.iparams["niter"]
            self.ivars["converged_count"] = 0
            self.ivars["converged_end"] = 0
        if self.method == "ortho":
            self._update_ortho()
        else:
            self._update_basic()
        self.ivars["iterations_left"] = self.ivars["iterations_left"] - 1
        self.ivars["istep"] = self.ivars["istep"] + 1

    def update_residual(self) -> None:
        """R = A X - B X diag(E)."""
        self.R = sparse_aware_matmul(self.A, self.X) - sparse_aware_matmul(self.B, self.X) * self.E

    def update_converged_count(self) -> int:
        """The number of leading eigenpairs whose backward-stable relative residual (Duersch
        et al. 2018, section 4.3) is below tol; a pair after an unconverged one never counts,
        so that the converged pairs stay in order."""
        previous = self.ivars["converged_count"]
        tol = self.fparams["tol"]
        A_norm = self.fvars["A_norm"]
        B_norm = self.fvars["B_norm"]
        E, X, R = self.E, self.X, self.R
        rerr = norm(R, 2, (0,)) / (norm(X, 2, (0,)) * (A_norm + E[: X.shape[-1]].abs() * B_norm))
        count = 0
        for converged in (rerr < tol).tolist():
            if not converged:
                break
            count += 1
        if count < previous:
            raise AssertionError(f"the number of converged eigenpairs (was {previous}, got "
                                 f"{count}) cannot decrease")
        self.ivars["converged_count"] = count
        self.tvars["rerr"] = rerr
        return count

    def stop_iteration(self) -> bool:
        """Stop when forced (by a tracker), out of steps, or when k pairs have converged."""
        return (self.bvars.get("force_stop", False)
                or self.ivars["iterations_left"] == 0
                or self.ivars["converged_count"] >= self.iparams["k"])

    def run(self) -> None:
        """Iterate until `stop_iteration`, calling the tracker after each step."""
        self.update()
        self.call_tracker()
        while not self.stop_iteration():
            self.update()
            self.call_tracker()

    def call_tracker(self) -> None:
        if self.tracker is not None:
            self.tracker(self)

    def _update_basic(self) -> None:
        ns = self.ivars["converged_end"]
        nc = self.ivars["converged_count"]
        n = self.iparams["n"]
        largest = self.bparams["largest"]
        if self.ivars["istep"] == 0:
            Ri = self._get_rayleigh_ritz_transform(self.X)
            M = _qform(_qform(self.A, self.X), Ri)
            E, Z = _symeig(M, largest)
            self.X[:] = matmul(self.X, matmul(Ri, Z))
            self.E[:] = E
            np = 0
            self.update_residual()
            nc = self.update_converged_count()
            self.S[..., :n] = self.X
            W = sparse_aware_matmul(self.iK, self.R)
        else:
            S_ = self.S[:, nc:ns]
            Ri = self._get_rayleigh_ritz_transform(S_)
            M = _qform(_qform(self.A, S_), Ri)
            E_, Z = _symeig(M, largest)
            self.X[:, nc:] = matmul(S_, matmul(Ri, Z[:, : n - nc]))
            self.E[nc:] = E_[: n - nc]
            P = matmul(S_, matmul(Ri, Z[:, n : 2 * n - nc]))
            np = P.shape[-1]
            self.update_residual()
            nc = self.update_converged_count()
            self.S[..., :n] = self.X
            self.S[:, n : n + np] = P
            W = sparse_aware_matmul(self.iK, self.R[:, nc:])
        self.ivars["converged_end"] = ns = n + np + W.shape[-1]
        self.S[:, n + np : ns] = W

    def _update_ortho(self) -> None:
        ns = self.ivars["converged_end"]
        nc = self.ivars["converged_count"]
        n = self.iparams["n"]
        largest = self.bparams["largest"]
        if self.ivars["istep"] == 0:
            Ri = self._get_rayleigh_ritz_transform(self.X)
            M = _qform(_qform(self.A, self.X), Ri)
            # E is left at zero on this first step, as PyTorch leaves it (the residual is then
            # A X); the next step sets it.
            _, Z = _symeig(M, largest)
            self.X = matmul(self.X, matmul(Ri, Z))
            self.update_residual()
            np = 0
            nc = self.update_converged_count()
            self.S[:, :n] = self.X
            W = self._get_ortho(self.R, self.X)
        else:
            S_ = self.S[:, nc:ns]
            # Rayleigh-Ritz on the orthonormal search basis
            E_, Z = _symeig(_qform(self.A, S_), largest)
            self.X[:, nc:] = matmul(S_, Z[:, : n - nc])
            self.E[nc:] = E_[: n - nc]
            P = matmul(S_, matmul(Z[:, n - nc :], _basis(Z[: n - nc, n - nc :].mT)))
            np = P.shape[-1]
            self.update_residual()
            nc = self.update_converged_count()
            self.S[:, :n] = self.X
            self.S[:, n : n + np] = P
            W = self._get_ortho(self.R[:, nc:], self.S[:, : n + np])
        ns = self.ivars["converged_end"] = n + np + W.shape[-1]
        self.S[:, n + np : ns] = W

    def _get_rayleigh_ritz_transform(self, S: Tensor) -> Tensor:
        """Ri, upper triangular, reducing (S^T A S) C = (S^T B S) C E to the standard problem
        (Ri^T S^T A S Ri) Z = Z E with C = Ri Z: with d = diag(S^T B S) ** -1/2, R^T R the
        Cholesky factorization of (d d^T) * S^T B S, Ri = R^-1 diag(d) (Duersch et al.)."""
        SBS = _qform(self.B, S)
        d_row = SBS.diagonal(0, -2, -1) ** -0.5
        d_col = d_row.reshape(d_row.shape[0], 1)
        R = cholesky((SBS * d_row) * d_col, upper=True)
        return solve_triangular(R, d_row.diag_embed(), upper=True, left=False)

    def _get_svqb(self, U: Tensor, drop: bool, tau: float) -> Tensor:
        """U's columns B-orthonormalized (U^T B U = I) by SVQB (Duersch's thesis, algorithm
        4); with `drop`, columns that add little to span(U) (eigenvalue below tau times the
        largest) are dropped, else such eigenvalues are raised to that floor."""
        if U.numel() == 0:
            return U
        UBU = _qform(self.B, U)
        d = UBU.diagonal(0, -2, -1)
        # Exactly zero columns would divide by zero below: they go first.
        nonzero = where(d.abs() != 0.0)[0]
        if len(nonzero) < len(d):
            U = U[:, nonzero]
            if U.numel() == 0:
                return U
            UBU = _qform(self.B, U)
            d = UBU.diagonal(0, -2, -1)
        d_col = (d ** -0.5).reshape(d.shape[0], 1)
        DUBUD = (UBU * d_col) * d_col.mT
        E, Z = _symeig(DUBUD)
        t = tau * float(E.abs().max())
        if drop:
            keep = where(t < E)[0]
            E = E[keep]
            Z = Z[:, keep]
            d_col = d_col[keep]
        else:
            E = where(t > E, t, E)
        return matmul(U * d_col.mT, Z * E ** -0.5)

    def _get_ortho(self, U: Tensor, V: Tensor) -> Tensor:
        """U's columns B-orthonormalized and made B-orthogonal to V's (Duersch's thesis,
        algorithm 3, or 6 with `ortho_use_drop`); empty when all of U lies in span(V)."""
        m = self.iparams["m"]
        tau_ortho = self.fparams["ortho_tol"]
        tau_drop = self.fparams["ortho_tol_drop"]
        tau_replace = self.fparams["ortho_tol_replace"]
        i_max = self.iparams["ortho_i_max"]
        j_max = self.iparams["ortho_j_max"]
        use_drop = self.bparams["ortho_use_drop"]
        # the previous call's diagnostics go
        for key in list(self.fvars):
            if key.startswith("ortho_") and key.endswith("_rerr"):
                self.fvars.pop(key)
        self.ivars.pop("ortho_i", 0)
        self.ivars.pop("ortho_j", 0)
        BV_norm = norm(sparse_aware_matmul(self.B, V))
        BU = sparse_aware_matmul(self.B, U)
        VBU = matmul(V.mT, BU)
        i = j = 0
        for i in range(i_max):
            U = U - matmul(V, VBU)
            drop = False
            tau_svqb = tau_drop
            for j in range(j_max):
                if use_drop:
                    U = self._get_svqb(U, drop, tau_svqb)
                    drop = True
                    tau_svqb = tau_replace
                else:
                    U = self._get_svqb(U, False, tau_replace)
                if U.numel() == 0:  # every column of U was B-collinear to V
                    self.ivars["ortho_i"] = i
                    self.ivars["ortho_j"] = j
                    return U
                BU = sparse_aware_matmul(self.B, U)
                UBU = matmul(U.mT, BU)
                U_norm = norm(U)
                BU_norm = norm(BU)
                R = UBU - eye(UBU.shape[-1], device=UBU.device, dtype=UBU.dtype)
                rerr = float(norm(R)) * float(BU_norm * U_norm) ** -1
                self.fvars[f"ortho_UBUmI_rerr[{i}, {j}]"] = rerr
                if rerr < tau_ortho:
                    break
            VBU = matmul(V.mT, BU)
            rerr = float(norm(VBU)) * float(BV_norm * norm(U)) ** -1
            self.fvars[f"ortho_VBU_rerr[{i}]"] = rerr
            if rerr < tau_ortho:
                break
            if m < U.shape[-1] + V.shape[-1]:
                if self.B is None:
                    raise AssertionError("B must not be None")
                raise ValueError(
                    "Overdetermined shape of U:"
                    f" #B-cols(={self.B.shape[-1]}) >= #U-cols(={U.shape[-1]}) + "
                    f"#V-cols(={V.shape[-1]}) must hold")
        self.ivars["ortho_i"] = i
        self.ivars["ortho_j"] = j
        return U
