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

It also holds the rules of the ops of `x[key]` and `x[key] = v` (Index, IndexPut and the
view-indexing pair), registered in `rules.RULES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ops import indexing
from ..ops.indexing import expand_ellipsis, full_index_key, index_result_shape
from ..tensor import Tensor, _wrap_dim
from .batched_tensor import BatchedArray, BatchedTensor, make_batched, unwrap
from .levels import Level
from .rules import _call, _expand, _pad, _register


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


# ----------------------------------------------------------------------------- x[key], x[key] = v
# Index, IndexPut and the view-indexing pair take keys of full slices, Ellipsis, ints and index
# arrays (arrays of a batched index tensor are BatchedArrays). The key of one example becomes a
# key of the physical tensor whose result is (batch, *one example's result): a full slice in
# front where that keeps the batch dim in front, else one index array per physical dim.
INPLACE = ("vmap: {name}(self, *extra_args) is not possible because there exists a Tensor "
           "`other` in extra_args that has more elements than `self`. This happened due to "
           "`other` being vmapped over but `self` not being vmapped over in a vmap. Please try "
           "to use out-of-place operators instead of {name}. If said operator is being called "
           "inside the PyTorch framework, please file a bug report instead.")


def basic_key(key: tuple[Any, ...]) -> bool:
    """Whether prepending a full slice keeps the batch dim in front: no batched index, and
    the advanced indices (arrays, and ints among them) side by side."""
    advanced = []
    for position, item in enumerate(key):
        if type(item) is BatchedArray or type(item) is BatchedTensor:
            return False
        if item is None or item is Ellipsis or isinstance(item, slice):
            continue
        advanced.append((position, not isinstance(item, (int, bool))))
    arrays = [position for position, is_array in advanced if is_array]
    if not arrays:
        return True
    positions = [position for position, _ in advanced]
    return positions == list(range(positions[0], positions[0] + len(positions)))


def physical_key(backend: Any, shape: tuple[int, ...], key: tuple[Any, ...],
                 level: Level) -> tuple[Any, ...]:
    """One example's key (for an example of `shape`) as the key of the physical tensor, whose
    result is (batch, *the example's result). Arrays batched at `level` index each example
    with its own positions; arrays batched at other levels stay batched."""
    if basic_key(key):
        return (slice(None), *key)
    key = expand_ellipsis(key, len(shape))
    # full_index_key lays every entry out for the result; batched entries stand in as arrays
    # of their logical shape, and take that layout afterwards.
    stand_ins = tuple(backend.zeros(entry.shape, "int64") if type(entry) is BatchedArray
                      else entry for entry in key)
    full = full_index_key(backend, shape, stand_ins)
    rank = max(len(entry.shape) for entry in full)
    entries = [backend.reshape(backend.arange(0, level.batch_size, 1, "int64"),
                               (level.batch_size, *(1,) * rank))]
    for entry, laid_out in zip(key, full):
        grid = tuple(laid_out.shape)
        grid = (*(1,) * (rank - len(grid)), *grid)
        if type(entry) is BatchedArray and entry.level == level.number:
            entries.append(backend.reshape(entry.value._data, (level.batch_size, *grid)))
        elif type(entry) is BatchedArray:
            entries.append(entry.tensor.reshape(grid)._data)
        else:
            entries.append(laid_out)
    return tuple(entries)


def _index(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    value, batched = unwrap(args[0], level.number)
    if not batched:
        value = _expand(value, level.batch_size)
    key = kwargs["key"]
    if basic_key(key):
        return make_batched(_call(cls, [value], {**kwargs, "key": (slice(None), *key)}),
                            level.number)
    key = physical_key(value._backend, tuple(args[0].shape), key, level)
    return make_batched(cls.apply(value, **{**kwargs, "key": key}), level.number)


def _index_put(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """`a[key] = values` (accumulated with accumulate): a batched index writes each example's
    values at its own positions; an unbatched `a` is copied once per example, except in place,
    where values varying over examples cannot go into one tensor (PyTorch's error)."""
    source, source_batched = unwrap(args[0], level.number)
    values, values_batched = unwrap(args[1], level.number)
    if not source_batched:
        if kwargs.get("inplace"):
            raise RuntimeError(INPLACE.format(name="index_put_"))
        source = _expand(source, level.batch_size)
    shape = tuple(args[0].shape)
    key = kwargs["key"]
    if values_batched:
        rank = len(index_result_shape(shape, expand_ellipsis(key, len(shape))))
        values = _pad(values, rank)
    key = physical_key(source._backend, shape, key, level)
    return make_batched(cls.apply(source, values, **{**kwargs, "key": key}), level.number)


def _view_scatter(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                  level: Level) -> Any:
    """The backward of indexing: the gradient put into zeros of the input's shape."""
    value, batched = unwrap(args[0], level.number)
    if not batched:
        value = _expand(value, level.batch_size)
    shape = tuple(kwargs["shape"])
    key = physical_key(value._backend, shape, kwargs["key"], level)
    return make_batched(cls.apply(value, shape=(level.batch_size, *shape), key=key),
                        level.number)


_register(_index, indexing.Index, indexing.ViewGather)
_register(_index_put, indexing.IndexPut)
_register(_view_scatter, indexing.ViewScatter)
