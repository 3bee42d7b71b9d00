"""Batching rules for gather/scatter-style functions called with a batched index (one index
per example), applied at the public function (`dispatch.index_op`), where the index is still
a tensor. As PyTorch's functorch does, the mapped dim becomes a physical dim that the index
addresses elementwise:

* "same rank" functions (gather, scatter, scatter_add, scatter_reduce), whose index has the
  input's rank, run once on the physical tensors with `dim` shifted past the batch dim (the
  batch dims of input, index and src line up element by element);
* "vector" functions (index_select, index_add, index_copy, index_fill, index_reduce), whose
  index is a vector of positions along `dim`, become the same-rank function with the index
  expanded over the other dims: index_select is a gather, index_add a scatter_add,
  index_copy and index_fill a scatter, index_reduce a scatter_reduce.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..tensor import Tensor, _wrap_dim
from .batched_tensor import make_batched, unwrap
from .levels import Level


def _physical(item: Any, level: Level) -> Any:
    """A tensor's values with the examples of `level` along dim 0 (an unbatched one
    broadcast, as a view); anything else as it is."""
    if not isinstance(item, Tensor):
        return item
    value, batched = unwrap(item, level.number)
    return value if batched else value.expand((level.batch_size, *value.shape))


def same_rank(function: Callable[..., Any], level: Level, input: Tensor, dim: int,
              index: Tensor, *rest: Any, **kwargs: Any) -> Any:
    dim = _wrap_dim(dim, max(input.dim(), 1))
    values = [_physical(item, level) for item in (input, index, *rest)]
    options = {key: _physical(value, level) for key, value in kwargs.items()}
    if input.dim() == 0:  # a 0-d example: one element, addressed as a vector of one
        values = [v.reshape((level.batch_size, -1)) if isinstance(v, Tensor) else v
                  for v in values]
        out = function(values[0], 1, *values[1:], **options)
        return make_batched(out.reshape((level.batch_size,)), level.number)
    return make_batched(function(values[0], dim + 1, *values[1:], **options), level.number)


def _spread(index: Tensor, level: Level, dim: int, shape: tuple[int, ...]) -> Tensor:
    """One example's vector of positions along `dim` as an index of `shape` (physical, batch
    dim first): position i along dim+1 holds index[i] in every other coordinate."""
    value = _physical(index, level).reshape((level.batch_size, -1))
    rank = len(shape) - 1
    view = [level.batch_size] + [1] * rank
    view[dim + 1] = value.shape[1]
    target = list(shape)
    target[dim + 1] = value.shape[1]
    return value.reshape(tuple(view)).expand(tuple(target))


def _check_bounds(index: Tensor, level: Level, size: int) -> None:
    value = _physical(index, level)
    if value.numel() and bool(((value < 0) | (value >= size)).any()):
        raise IndexError("index out of range in self")


def vector(name: str, level: Level, input: Tensor, dim: int, index: Tensor, *rest: Any,
           **kwargs: Any) -> Any:
    from ..ops import scatter, scatter_reduce

    if index.dim() > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    rank = input.dim()
    if rank == 0:  # a 0-d example: a vector of one element
        out = vector(name, level, input.reshape(1), 0, index,
                     *[r.reshape(1) if isinstance(r, Tensor) and r.dim() == 0 and
                       name != "index_fill" else r for r in rest], **kwargs)
        return out.reshape(())
    dim = _wrap_dim(dim, rank)
    _check_bounds(index, level, input.shape[dim])
    x = _physical(input, level)
    if name == "index_select":
        where = _spread(index, level, dim, tuple(x.shape))
        return make_batched(scatter.gather(x, dim + 1, where), level.number)
    if name == "index_fill":
        where = _spread(index, level, dim, tuple(x.shape))
        value = rest[0]
        if isinstance(value, Tensor):
            src = _physical(value, level).reshape(
                (level.batch_size, *(1,) * rank)).expand(tuple(where.shape))
            return make_batched(scatter.scatter(x, dim + 1, where, src.to(x.dtype)),
                                level.number)
        return make_batched(scatter.scatter(x, dim + 1, where, value=value), level.number)
    source = _physical(rest[0], level)
    where = _spread(index, level, dim, tuple(source.shape))
    if name == "index_add":
        alpha = kwargs.get("alpha", 1)
        src = source if alpha == 1 else source * alpha
        return make_batched(scatter.scatter_add(x, dim + 1, where, src), level.number)
    if name == "index_copy":
        return make_batched(scatter.scatter(x, dim + 1, where, source), level.number)
    reduce = rest[1]  # index_reduce
    return make_batched(scatter_reduce.scatter_reduce(
        x, dim + 1, where, source, reduce, include_self=kwargs.get("include_self", True)),
        level.number)
