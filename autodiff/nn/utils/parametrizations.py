"""`nn.utils.parametrizations`: weight_norm, spectral_norm and orthogonal, each registered with
`parametrize.register_parametrization` (state dict keys `parametrizations.weight.original`, or
`original0`/`original1` for weight_norm's g and v), as PyTorch's.

The orthogonal maps are written in Tensor ops here, so they are differentiable: the matrix
exponential by scaling and squaring with a Taylor series (accurate to rounding for the
skew-symmetric matrices it takes), the Cayley map by a solve, and the Householder product one
reflector at a time. The QR decompositions that right_inverse needs (no gradient) are Householder
QR as LAPACK's geqrf defines it.
"""

from __future__ import annotations

import math
from enum import Enum, auto
from typing import Any

from ...creation import arange, eye, randn, tensor, zeros_like
from ...grad_mode import no_grad
from ...ops.decompositions import solve
from ...ops.normalization import norm_except_dim
from ...ops.normalization import weight_norm as _weight_norm
from ...tensor import Tensor
from .. import functional as F
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from . import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ----------------------------------------------------------------------------- orthogonal
def _is_orthogonal(Q: Tensor) -> bool:
    n, k = Q.shape[-2], Q.shape[-1]
    identity = eye(k, dtype=Q.dtype, device=Q.device)
    eps = 10.0 * n * _EPSILON[Q.dtype.name]
    return bool((Q.mT @ Q - identity).abs().max().item() <= eps) if Q.numel() else True


_EPSILON = {"float16": 0.0009765625, "float32": 1.1920928955078125e-07,
            "float64": 2.220446049250313e-16}


def _matrix_exp(A: Tensor) -> Tensor:
    """exp(A) by scaling and squaring: A / 2^s has norm at most 1/2, where 18 Taylor terms
    reach double precision; then s squarings."""
    n = A.shape[-1]
    identity = eye(n, dtype=A.dtype, device=A.device)
    with no_grad():
        norm = A.abs().sum(-1).max().item() if A.numel() else 0.0
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    scaled = A / (2.0 ** squarings)
    term = identity + scaled * 0  # broadcast to A's batch shape
    total = term
    for k in range(1, 19):
        term = term @ scaled / k
        total = total + term
    for _ in range(squarings):
        total = total @ total
    return total


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T with v_i the i-th column
    of A below the diagonal, 1 on it, 0 above (linalg.householder_product)."""
    n, k = A.shape[-2], A.shape[-1]
    positions = arange(n, device=A.device).reshape(n, 1)
    Q = eye(n, dtype=A.dtype, device=A.device) + A[..., :, :1] * 0  # batch shape of A
    for i in range(k):
        column = A[..., :, i:i + 1]
        v = (column * (positions > i)) + (positions == i).to(A.dtype)
        Q = Q - (Q @ v) @ v.mT * tau[..., i:i + 1].unsqueeze(-1)
    return Q[..., :, :k]


def _geqrf(A: Tensor) -> tuple[Tensor, Tensor]:
    """Householder QR of a tall (n >= k) matrix as LAPACK's geqrf stores it: R on and above
    the diagonal, the reflectors' tails below it, and their scales tau."""
    with no_grad():
        X = A.clone()
        n, k = X.shape[-2], X.shape[-1]
        taus = []
        for j in range(min(n, k)):
            x = X[j:, j]
            alpha = x[0].item()
            tail = x[1:]
            tail_norm = tail.norm().item() if tail.numel() else 0.0
            if tail_norm == 0.0:
                taus.append(0.0)
                continue
            beta = -math.copysign(math.hypot(alpha, tail_norm), alpha)
            taus.append((beta - alpha) / beta)
            v_tail = tail / (alpha - beta)
            X[j + 1:, j] = v_tail
            X[j, j] = beta
            if j + 1 < k:
                v = X[j:, j].clone()
                v[0] = 1.0
                block = X[j:, j + 1:]
                X[j:, j + 1:] = block - taus[-1] * v.unsqueeze(1) * (v.unsqueeze(0) @ block)
    return X, tensor(taus, dtype=X.dtype, device=X.device)


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A = QR with R's diagonal made non-negative (so Q is A's own orthogonal
    factor)."""
    X, tau = _geqrf(A)
    Q = _householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sign().unsqueeze(-2)


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    base: Tensor

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:  # embed into a square matrix
                X = F.pad(X, (0, n - k))
            A = X - X.mT  # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = _matrix_exp(A)
            else:  # the Cayley retraction (I + A/2)(I - A/2)^{-1}
                identity = eye(n, dtype=A.dtype, device=A.device)
                Q = solve(identity - A * 0.5, identity + A * 0.5)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # X's diagonal holds 1s and -1s, taken as constants (no gradient, never updated).
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            if Q.shape != self.shape:
                raise ValueError(
                    f"Expected a matrix or batch of matrices of shape {self.shape}. Got a "
                    f"tensor of shape {Q.shape}.")
            Q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False.")
                A, tau = _geqrf(Q)
                # diag(R) > 0 makes the decomposition unique; a reflection LAPACK skipped (tau
                # 0) keeps its sign flipped.
                signs = A.diagonal(dim1=-2, dim2=-1).sign()
                signs = signs * (1 - 2 * (tau == 0).to(signs.dtype))
                diagonal = eye(n, k, dtype=A.dtype, device=A.device)
                A = A * (1 - diagonal) + diagonal * signs
                return A.mT if transpose else A
            if n == k:
                Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
            else:  # complete Q to an n x n orthogonal matrix
                extra = randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(F.pad(Q, (0, n - k)) + F.pad(extra, (k, 0)))
            self.base = Q
            # -Id (of Q's shape): the Householder map of it is the identity.
            rows, columns = Q_init.shape[-2], Q_init.shape[-1]
            return zeros_like(Q_init) - eye(rows, columns, dtype=Q_init.dtype,
                                            device=Q_init.device)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain module.<name> (a matrix or batch of them) to be orthogonal: "matrix_exp"
    (square), "householder" (otherwise, by default) or "cayley"."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = ("matrix_exp" if weight.shape[-2] == weight.shape[-1]
                          else "householder")
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: '
            f"{orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# ----------------------------------------------------------------------------- weight_norm
class _WeightNorm(Module):
    """weight = g * v / ||v|| (the norm over every dim but `dim`; dim None: over all)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize module.<name> by its magnitude g (`original0`) and direction v
    (`original1`); old checkpoints with `<name>_g` / `<name>_v` load into it."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict: Any, prefix: str, local_metadata: Any,
                                 strict: bool, missing_keys: Any, unexpected_keys: Any,
                                 error_msgs: Any) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


# ----------------------------------------------------------------------------- spectral_norm
class _SpectralNorm(Module):
    """weight / sigma, sigma the largest singular value of the weight (as a matrix with `dim`
    first), estimated by power iteration on the buffers _u and _v (one more iteration per
    forward in training; 15 at the start)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but "
                f"got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = randn(h, dtype=weight_mat.dtype, device=weight_mat.device)
            v = randn(w, dtype=weight_mat.dtype, device=weight_mat.device)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if weight.ndim <= 1:
            raise AssertionError(
                f"Expected weight to have more than 1 dimension, got {weight.ndim}")
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """u and v updated in place (so a replica sharing the buffers sees the update)."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(weight_mat @ self._v, dim=0, eps=self.eps))
                self._v.copy_(F.normalize(weight_mat.mT @ self._u, dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # Clones: a second forward's in-place update must not change what the first saved.
        u = self._u.clone()
        v = self._v.clone()
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide module.<name> by its spectral norm on every access (dim: the output dim, 1 for
    transposed convolutions, 0 otherwise)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
