"""Distances between rows of matrices, for the generic `Backend` (bound into it as methods; the
NumPy backend binds SciPy's `cdist`/`pdist` instead, one pass in C).

`minkowski_distances` takes the p-norm of every difference (memory for all of them at once);
`euclidean_distances` is PyTorch's algorithm for many rows, one matrix product of
[-2 x1, |x1|^2, 1] and [x2, 1, |x2|^2] (fast on a GPU, less accurate for near points).
"""

from __future__ import annotations

import math
from typing import Any

Array = Any


def p_norm(self: Any, difference: Array, p: float) -> Array:
    """The p-norm of `difference` along its last axis (p = 0 counts the nonzero elements)."""
    xp = self.xp
    if difference.shape[-1] == 0:
        return xp.zeros(difference.shape[:-1], dtype=difference.dtype, device=self.native_device)
    if p == 0:
        return xp.sum(xp.astype(difference != 0, difference.dtype), axis=-1)
    magnitude = xp.abs(difference)
    if p == 1:
        return xp.sum(magnitude, axis=-1)
    if p == 2:
        return xp.sqrt(xp.sum(difference * difference, axis=-1))
    if p == math.inf:
        return xp.max(magnitude, axis=-1)
    return xp.sum(magnitude ** p, axis=-1) ** (1.0 / p)


def minkowski_distances(self: Any, x1: Array, x2: Array, p: float) -> Array:
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M),
    batch dims broadcast: (..., P, R)."""
    xp = self.xp
    return p_norm(self, xp.expand_dims(x1, axis=-2) - xp.expand_dims(x2, axis=-3), p)


def euclidean_distances(self: Any, x1: Array, x2: Array) -> Array:
    """minkowski_distances for p = 2 by one matrix product (see the module docstring)."""
    xp = self.xp
    norm1 = xp.sum(x1 * x1, axis=-1, keepdims=True)
    norm2 = xp.sum(x2 * x2, axis=-1, keepdims=True)
    padded1 = xp.concat([x1 * -2, norm1, xp.ones_like(norm1)], axis=-1)
    padded2 = xp.concat([x2, xp.ones_like(norm2), norm2], axis=-1)
    squares = xp.matmul(padded1, xp.matrix_transpose(padded2))
    return xp.sqrt(xp.clip(squares, 0, None))


def pairwise_distances(self: Any, x: Array, p: float) -> Array:
    """The p-norm distance of each pair of rows i < j of x (N, M), in row-major order."""
    xp = self.xp
    first, second = upper_pairs(self, x.shape[0])
    return p_norm(self, xp.take(x, first, axis=0) - xp.take(x, second, axis=0), p)


def upper_pairs(self: Any, count: int) -> tuple[Array, Array]:
    """The row and column of each entry above the diagonal of a count x count matrix, in
    row-major order (int64)."""
    xp = self.xp
    rows = xp.arange(count, dtype=xp.int64, device=self.native_device)
    first, second = xp.nonzero(xp.expand_dims(rows, axis=0) > xp.expand_dims(rows, axis=1))
    return xp.astype(first, xp.int64), xp.astype(second, xp.int64)
