"""Sparse COO gradients in optimizer steps (what `Embedding(sparse=True)` gives its weight):
the array pieces the rules that accept them are made of (SGD, Adagrad, SparseAdam), and
PyTorch's refusal for the rest."""

from __future__ import annotations

from typing import Any

from .. import sparse_coo as coo
from ..sparse_coo import SparseCOO


def sparse_grad(param: Any) -> SparseCOO | None:
    """The parameter's gradient as sparse COO arrays, or None when it is dense (or absent)."""
    grad = param._grad
    data = None if grad is None else grad._data
    return data if type(data) is SparseCOO else None


def refuse_sparse_grads(optimizer: Any, message: str, fused_only: bool = False) -> None:
    """PyTorch's RuntimeError for an optimizer without a sparse rule (or, `fused_only`, for its
    fused groups), raised before any parameter or state changes."""
    for group in optimizer.param_groups:
        if fused_only and not group.get("fused"):
            continue
        for param in group["params"]:
            if sparse_grad(param) is not None:
                raise RuntimeError(message)


def gathered(dense: Any, sparse: SparseCOO, backend: Any) -> Any:
    """dense's entries at sparse's indices: the values of dense.sparse_mask(sparse)."""
    return coo.gather(backend, dense, sparse.indices)


def coalesced(sparse: SparseCOO, backend: Any) -> SparseCOO:
    return coo.coalesce(backend, sparse)


def scaled(sparse: SparseCOO, factor: float) -> SparseCOO:
    """factor * sparse (the same indices)."""
    return sparse.with_values(sparse.values * factor)


def concatenated(first: SparseCOO, second: SparseCOO, backend: Any) -> SparseCOO:
    """first + second as PyTorch's in-place sparse add leaves it: first's entries, then
    second's, uncoalesced."""
    indices = backend.concat([first.indices, second.indices], axis=1)
    values = backend.concat([first.values, second.values], axis=0)
    return SparseCOO(indices, values, first.shape, False)


def add_into_(dense: Any, sparse: SparseCOO, backend: Any, alpha: float = 1.0) -> None:
    """dense += alpha * sparse, in place (repeated indices accumulate): a scatter-add of the
    rows for an embedding-like (rows, width) tensor, else through a dense copy."""
    values = sparse.values if alpha == 1.0 else sparse.values * alpha
    if sparse.sparse_dim != 1 or dense.ndim != 2:
        dense += coo.to_dense(backend, sparse.with_values(values))
        return
    width = dense.shape[1]
    columns = backend.reshape(backend.arange(0, width, 1, "int64"), (1, width))
    backend.index_add(dense, (backend.reshape(sparse.indices[0, :], (-1, 1)), columns), values)
