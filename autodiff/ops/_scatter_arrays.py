"""Scattering on backend arrays, shared by scatter (with its older `reduce=`), scatter_reduce
and index_reduce: the key that addresses each index element's target, the block of a source
an index reads, and a reduction of values into positions."""

from __future__ import annotations

from typing import Any


def grid_key(backend: Any, index: Any, dim: int) -> tuple[Any, ...]:
    """The advanced key that addresses, for every element of `index`, the element of the
    input it points at along `dim` (the other coordinates are the element's own)."""
    ndim = index.ndim
    key = []
    for axis in range(ndim):
        if axis == dim:
            key.append(index)
        else:
            shape = [1] * ndim
            shape[axis] = index.shape[axis]
            key.append(backend.reshape(backend.arange(0, index.shape[axis], 1, "int64"),
                                       tuple(shape)))
    return tuple(key)


def leading_block(backend: Any, array: Any, shape: tuple[int, ...]) -> Any:
    """The leading block of `array` of the given shape (a view)."""
    if array.shape == shape:
        return array
    return backend.getitem(array, tuple(slice(0, size) for size in shape))


def _identity(backend: Any, dtype: str, reduce: str) -> Any:
    """The value that leaves `reduce` unchanged (what the input's own element is replaced
    with when include_self is False)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype == "bool":
        return reduce == "amin"
    if dtype.startswith(("float", "bfloat")):
        return float("-inf") if reduce == "amax" else float("inf")
    bits = {"uint8": 8, "int8": 8, "int16": 16, "int32": 32, "int64": 64}[dtype]
    if dtype == "uint8":
        return 0 if reduce == "amax" else 255
    return -(1 << (bits - 1)) if reduce == "amax" else (1 << (bits - 1)) - 1


def reduce_into(backend: Any, a: Any, key: Any, values: Any, reduce: str,
                 include_self: bool) -> Any:
    """A copy of `a` with `values` reduced into the positions `key` selects."""
    kind = backend.dtype_name(a)
    out = backend.asarray(a, copy=True)
    if values.dtype != a.dtype:
        values = backend.astype(values, kind)
    if not include_self:
        backend.setitem(out, key, backend.full((), _identity(backend, kind, reduce), kind))
    if reduce in ("sum", "mean"):
        backend.index_add(out, key, values)
    else:
        backend.index_reduce(out, key, values, reduce)
    if reduce == "mean":
        counts = backend.ones(a.shape, kind) if include_self else backend.zeros(a.shape, kind)
        backend.index_add(counts, key, backend.ones(values.shape, kind))
        counts = backend.where(backend.equal(counts, 0), backend.ones_like(counts), counts)
        if backend.is_floating(a.dtype):
            out = backend.divide(out, counts)
        else:
            out = backend.astype(backend.floor_divide(out, counts), kind)
    return out


def reduce_scattered(backend: Any, a: Any, src: Any, index: Any, dim: int, reduce: str,
                     include_self: bool) -> Any:
    """scatter_reduce's forward: a copy of `a` with src's leading block (of index's shape)
    reduced into the elements `index` names along `dim`."""
    if a.ndim == 0:  # one element: every index names it
        flat_index = backend.reshape(index, (-1,))
        values = backend.reshape(src, (-1,))[:flat_index.shape[0]]
        out = reduce_into(backend, backend.reshape(a, (1,)), (flat_index,), values, reduce,
                           include_self)
        return backend.reshape(out, ())
    return reduce_into(backend, a, grid_key(backend, index, dim),
                        leading_block(backend, src, index.shape), reduce, include_self)
