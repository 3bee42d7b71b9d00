"""PyTorch functions the distributions call that autodiff's namespace does not have yet:
broadcast_tensors/broadcast_shapes, diag_embed, tril_indices, the draws torch.normal, bernoulli,
poisson and multinomial and the fills uniform_/exponential_/cauchy_, and from torch.linalg
solve_triangular, cholesky_inverse, cholesky_solve and eigvalsh.

Each is written once, here, from existing ops (so gradients flow where PyTorch's do) and only
for the arguments the distributions pass. When the namespace gains them (the shape, sampling
and linalg work), these definitions become imports of those functions.
"""

from __future__ import annotations

import math
from typing import Any

import backends

from .. import dtypes
from ..creation import eye, rand, randn, tensor
from ..dtypes import Size
from ..ops._promotion import check_broadcast
from ..ops.decompositions import LinalgSolve
from ..ops.selection import where
from ..tensor import Tensor, _wrap

__all__ = ["bernoulli", "broadcast_shapes", "broadcast_tensors", "cauchy", "cholesky_inverse",
           "cholesky_solve", "diag_embed", "eigvalsh", "exponential", "multinomial", "normal",
           "poisson", "solve_triangular", "tril_indices", "uniform"]


# ----------------------------------------------------------------------------- shapes
def broadcast_shapes(*shapes: Any) -> Size:
    """The shape the given shapes broadcast to (torch.broadcast_shapes)."""
    shapes = tuple((shape,) if isinstance(shape, int) else tuple(shape) for shape in shapes)
    common = [1] * max((len(shape) for shape in shapes), default=0)
    for index, shape in enumerate(shapes):
        for axis in range(-1, -1 - len(shape), -1):
            if shape[axis] == 1 or shape[axis] == common[axis]:
                continue
            if common[axis] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {shape[axis]} at {axis}! "
                    f"Mismatching argument at index {index} had {shape}; but expected shape "
                    f"should be broadcastable to {common}")
            common[axis] = shape[axis]
    return Size(common)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common shape (views, differentiable)."""
    shape: tuple[int, ...] = ()
    for t in tensors:
        check_broadcast(shape, tuple(t.shape))
        shape = backends.broadcast_shapes(shape, tuple(t.shape))
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensors)


def diag_embed(input: Tensor) -> Tensor:
    """Matrices with the last dim of `input` on their diagonal (offset 0, the last two dims)."""
    n = input.shape[-1]
    identity = eye(n, dtype=dtypes.bool_, device=input.device)
    return where(identity, input.unsqueeze(-1), tensor(0, dtype=input.dtype,
                                                       device=input.device))


def tril_indices(row: int, col: int, offset: int = 0, *, device: Any = None) -> Tensor:
    """The (row, column) indices of the lower triangle of a row x col matrix, row by row."""
    rows: list[int] = []
    cols: list[int] = []
    for i in range(row):
        for j in range(min(col, max(i + offset + 1, 0))):
            rows.append(i)
            cols.append(j)
    return tensor([rows, cols], dtype=dtypes.int64, device=device)


# ----------------------------------------------------------------------------- draws
# Draws are not differentiable: they are made from the parameters' values (detached).
def normal(mean: Tensor, std: Tensor) -> Tensor:
    """One N(mean, std^2) draw per element (mean and std of one shape)."""
    noise = randn(tuple(mean.shape), dtype=mean.dtype, device=mean.device)
    return mean.detach() + noise * std.detach()


def uniform(shape: Any, low: float, high: float, *, dtype: Any, device: Any) -> Tensor:
    """Draws from U[low, high)."""
    return rand(tuple(shape), dtype=dtype, device=device) * (high - low) + low


def exponential(shape: Any, *, dtype: Any, device: Any) -> Tensor:
    """Draws from the standard exponential distribution: -log(1 - u), u ~ U[0, 1)."""
    return -(-rand(tuple(shape), dtype=dtype, device=device)).log1p()


def cauchy(shape: Any, *, dtype: Any, device: Any) -> Tensor:
    """Draws from the standard Cauchy distribution: tan(pi (u - 1/2))."""
    return ((rand(tuple(shape), dtype=dtype, device=device) - 0.5) * math.pi).tan()


def bernoulli(probs: Tensor) -> Tensor:
    """1 with probability probs, else 0 (probs' dtype)."""
    u = rand(tuple(probs.shape), dtype=probs.dtype, device=probs.device)
    return (u < probs.detach()).to(probs.dtype)


def poisson(rates: Tensor) -> Tensor:
    """One Poisson(rate) draw per element, in rates' dtype."""
    backend = rates._backend
    data = rates.detach()._data
    if bool(backend.any(backend.less(data, 0))):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    drawn = backend.variates("poisson", backend.astype(data, "float64"))
    return _wrap(backend.astype(drawn, backend.dtype_name(data)), backend)


def multinomial(probs: Tensor, num_samples: int, replacement: bool = True) -> Tensor:
    """`num_samples` category indices per row of the 1-D or 2-D `probs` (weights: each row is
    normalised), drawn with replacement by inverting the cumulative weights."""
    if not replacement:
        raise RuntimeError("multinomial without replacement is not available here")
    weights = probs.detach()
    if not bool((weights >= 0).all() & weights.isfinite().all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    cumulative = weights.cumsum(-1)
    total = cumulative[..., -1:]
    if not bool((total > 0).all()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    shape = (*weights.shape[:-1], num_samples)
    u = rand(shape, dtype=weights.dtype, device=weights.device) * total
    # The index of a draw is the count of cumulative weights at or below it.
    below = (cumulative.unsqueeze(-2) <= u.unsqueeze(-1)).sum(-1)
    return below.clamp(max=weights.shape[-1] - 1)


# ----------------------------------------------------------------------------- linalg
def solve_triangular(A: Tensor, B: Tensor, *, upper: bool) -> Tensor:
    """X with A X = B for triangular A (the other triangle of A is not read, and gets no
    gradient)."""
    triangle = A.triu() if upper else A.tril()
    return LinalgSolve.apply(triangle, B, vector=False, left=True)


# cholesky_inverse and cholesky_solve differentiate L as a full matrix, as PyTorch's do (their
# gradients are not restricted to the triangle).
def cholesky_inverse(L: Tensor) -> Tensor:
    """(L L^T)^-1 from the lower Cholesky factor L."""
    n = L.shape[-1]
    identity = eye(n, dtype=L.dtype, device=L.device)
    inverse = LinalgSolve.apply(L, identity, vector=False, left=True)
    return inverse.mT @ inverse


def cholesky_solve(B: Tensor, L: Tensor) -> Tensor:
    """X with (L L^T) X = B, L lower triangular."""
    return LinalgSolve.apply(L @ L.mT, B, vector=False, left=True)


def eigvalsh(A: Tensor) -> Tensor:
    """The eigenvalues of symmetric matrices, ascending (not differentiable here)."""
    backend = A._backend
    return _wrap(backend.eigvalsh(A.detach()._data), backend)
