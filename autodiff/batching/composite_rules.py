"""Batching rules that run an op as one example's composition of other ops, each batched by
its own rule (functorch's decompositions): the fused matrix products, kron, bilinear, aminmax,
the medians of all elements, weight norm, block_diag, dist. And rules for ops that write
into their first input (copy_, fill_, zero_, the in-place comparisons).
"""

from __future__ import annotations

import math
from typing import Any

from backends import broadcast_shapes

from ..ops import (
    comparison,
    diagonal,
    embedding_bag,
    flat_indexing,
    inplace,
    linear,
    margin_loss,
    minmax,
    norm,
    normalization,
    order_statistics,
    products,
    scatter,
    sparse,
    view_scatter,
)
from ..tensor import Tensor, _wrap
from .batched_tensor import BatchedArray, make_batched, unwrap
from .levels import Level
from .rules import _broadcasting, _dims, _expand, _pad, _register


def _fused_add(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """beta * input + alpha * product(a, b), the product one example's matmul (or outer
    product, or sum of matmuls)."""
    input, a, b = args
    if a.dtype.is_floating_point or a.dtype.is_complex:
        beta, alpha = kwargs["beta"], kwargs["alpha"]
    elif a.dtype.name == "bool":
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    else:
        beta, alpha = int(kwargs["beta"]), int(kwargs["alpha"])
    if cls is products.Addr:
        out = a.unsqueeze(-1) * b.unsqueeze(-2)
    elif cls is products.Addbmm:
        out = (a @ b).sum(0)
    else:
        out = a @ b
    if alpha != 1:
        out = out * alpha
    if beta == 0:  # the input is not read at all
        return _broadcast_to(out, input)
    return out + (input if beta == 1 else input * beta)


def _broadcast_to(out: Tensor, input: Tensor) -> Tensor:
    """out with input's broadcast shape (beta = 0 ignores input's values, not its shape)."""
    shape = tuple(out.shape)
    return out if tuple(input.shape) == shape or input.dim() <= len(shape) else \
        out.expand(tuple(input.shape))


def _kron(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    a, b = args
    rank = max(a.dim(), b.dim())
    a_shape = (1,) * (rank - a.dim()) + tuple(a.shape)
    b_shape = (1,) * (rank - b.dim()) + tuple(b.shape)
    a_view = a.reshape(tuple(size for pair in zip(a_shape, (1,) * rank) for size in pair))
    b_view = b.reshape(tuple(size for pair in zip((1,) * rank, b_shape) for size in pair))
    return (a_view * b_view).reshape(tuple(m * n for m, n in zip(a_shape, b_shape)))


def _trilinear(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    from ..ops.einsum import einsum

    x1, weight, x2 = args
    return einsum("ni,oij,nj->no", x1, weight, x2)


def _aminmax(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    (a,) = args
    dim, keepdim = kwargs["dim"], kwargs["keepdim"]
    if dim is None:
        flat = a.reshape(-1)
        low, high = flat.amin(0), flat.amax(0)
        if keepdim:
            low, high = low.reshape((1,) * a.dim()), high.reshape((1,) * a.dim())
        return low, high
    if a.dim() == 0:
        return a.amin(), a.amax()
    return a.amin(dim, keepdim), a.amax(dim, keepdim)


def _median_all(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    flat = args[0].reshape(-1)
    if cls is order_statistics.NanmedianAll:
        return flat.nanmedian(0)[0]
    return flat.median(0)[0]


def _weight_norm(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    v, g = args
    dim = kwargs["dim"]
    axes = tuple(axis for axis in range(v.dim()) if axis != dim % max(v.dim(), 1))
    length = (v * v).sum(axes, keepdim=True).sqrt()
    return v * (g.reshape(tuple(length.shape)) / length)


def _block_diag(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Each block padded with zeros to the full width, the rows stacked."""
    from ..ops.joining import cat
    from ..ops.padding import pad

    blocks = [t.reshape(1, -1) if t.dim() < 2 else t for t in args]
    blocks = [t.reshape(1, 1) if t.dim() == 2 and t.numel() == 1 and t.shape[0] == 1 and
              t.shape[1] == 1 else t for t in blocks]
    width = sum(t.shape[1] for t in blocks)
    rows, left = [], 0
    for block in blocks:
        rows.append(pad(block, (left, width - left - block.shape[1])))
        left += block.shape[1]
    return cat(rows, 0)


def _renorm(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Each example's slices along `dim` are slices of their own: (B, D, ...) as (B * D, ...)
    renormed along dim 0."""
    value, batched = unwrap(args[0], level.number)
    value = value if batched else _expand(value, level.batch_size)
    moved = value.movedim(kwargs["dim"] + 1, 1)
    shape = tuple(moved.shape)
    out = cls.apply(moved.reshape((shape[0] * shape[1], *shape[2:])), **{**kwargs, "dim": 0})
    return make_batched(out.reshape(shape).movedim(1, kwargs["dim"] + 1), level.number)


_register(_fused_add, products.Addmm, products.Addmv, products.Addr, products.Baddbmm,
          products.Addbmm)
_register(_kron, products.Kron)
_register(_trilinear, linear.Trilinear)
_register(_aminmax, minmax.Aminmax)
_register(_median_all, order_statistics.MedianAll, order_statistics.NanmedianAll)
_register(_weight_norm, normalization.WeightNormInterface)
_register(_block_diag, diagonal.BlockDiag)
_register(_dims("axes", all_axes="axes"), norm.NormAll, norm.NormDims)
_register(_renorm, norm.Renorm)


# ----------------------------------------------------------------------------- writing
def _writes_first(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Ops whose result is written into their first input: batched values cannot go into an
    unbatched tensor (PyTorch's error); otherwise they broadcast like elementwise ops."""
    batched = unwrap(args[0], level.number)[1]
    if not batched:
        raise RuntimeError(f"output with shape {list(args[0].shape)} doesn't match the "
                           f"broadcast shape {[level.batch_size, *args[0].shape]}")
    return _broadcasting(cls, args, kwargs, level)


_register(_writes_first, inplace.Copy, inplace.Fill, inplace.FillTensor, inplace.Zero)
_register(_broadcasting, *comparison.COMPARED.values())



# ----------------------------------------------------------------------------- indexing
def _offset_index(index: Any, level: Level, count: int, backend: Any) -> Any:
    """Flat positions into one example of `count` elements as flat positions into the
    physical tensor: example b's shifted by b * count (an unbatched index shared by all)."""
    value, batched = unwrap(index, level.number)
    size = level.batch_size
    if not batched:
        value = backend.broadcast_to(value, (size, *value.shape))
    offsets = backend.multiply(backend.arange(0, size, 1, "int64"), count)
    offsets = backend.reshape(offsets, (size, *(1,) * (len(value.shape) - 1)))
    return backend.add(value, offsets)


def _flat(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """take and put on flat positions: the physical tensor is the examples' elements one
    after the other, so each example's positions are offset by its start."""
    values = [_batched(arg, level) for arg in args]
    backend = values[0]._backend
    count = math.prod(args[0].shape)
    index = _offset_index(kwargs["index"], level, count, backend)
    return make_batched(cls.apply(*values, **{**kwargs, "index": index}), level.number)


def _masked_select(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   level: Level) -> Any:
    """A mask every example shares selects as many elements from each: one selection from
    the examples' tensor, a row per example. A mask per example would select a different
    number from each (PyTorch's refusal)."""
    mask = kwargs["mask"]
    if type(mask) is BatchedArray:
        raise RuntimeError(
            "vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) We cannot "
            "support this because for each batch this would return a differently shaped "
            "Tensor. Please file an issue at https://github.com/pytorch/pytorch/issues if you "
            "need this feature.")
    value = _batched(args[0], level)
    shape = broadcast_shapes(tuple(value.shape)[1:], tuple(mask.shape))
    value = _pad(value, len(shape))
    backend = value._backend
    full = backend.broadcast_to(mask, (level.batch_size, *shape))
    out = cls.apply(value, mask=full)
    return make_batched(out.reshape((level.batch_size, -1)), level.number)


def _masked_scatter(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                    level: Level) -> Any:
    """Each example's i-th masked position takes its own source's i-th element: the running
    count of each example's mask (a row of the examples' mask) gathers from that example's
    source, `where` keeps the input elsewhere. The input, the mask and the source may each be
    batched or shared."""
    from ..ops.flat_indexing import Take
    from ..ops.selection import where

    size = level.batch_size
    mask, mask_batched = unwrap(kwargs["mask"], level.number)
    source, source_batched = unwrap(args[1], level.number)
    input = args[0]
    shape = broadcast_shapes(tuple(input.shape),
                             tuple(mask.shape)[1:] if mask_batched else tuple(mask.shape))
    a = _pad(_batched(input, level), len(shape)).expand((size, *shape))
    backend = a._backend
    if mask_batched:
        mask = backend.reshape(mask, (size, *(1,) * (len(shape) + 1 - len(mask.shape)),
                                      *tuple(mask.shape)[1:]))
    mask = backend.broadcast_to(mask, (size, *shape))
    counts = backend.cumulative_sum(backend.astype(backend.reshape(mask, (size, -1)), "int64"),
                                    axis=1)
    count = math.prod(source.shape[1:] if source_batched else source.shape)
    wanted = backend.item(backend.max(counts[:, -1])) if counts.shape[1] else 0
    if wanted > count:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if wanted == 0:
        return make_batched(a.clone(), level.number)
    rank = backend.clip(backend.subtract(counts, 1), 0, count - 1)
    if source_batched:  # example b's source starts at b * count in the flat sources
        starts = backend.multiply(backend.arange(0, size, 1, "int64"), count)
        rank = backend.add(rank, backend.reshape(starts, (size, 1)))
    picked = Take.apply(source.reshape(-1), index=rank).reshape((size, *shape))
    return make_batched(where(_wrap(mask, backend), picked.to(a.dtype), a), level.number)


def _embedding(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """A weight per example: the rows of all the examples' weights one after the other, each
    example's indices offset by its first row (counts for scale_grad_by_freq stay each
    example's own)."""
    weight, indices = args
    w_value, w_batched = unwrap(weight, level.number)
    if not w_batched:
        return make_batched(cls.apply(weight, unwrap(indices, level.number)[0], **kwargs),
                            level.number)
    if kwargs["padding_idx"] is not None:  # one padding row per example
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    size, rows = level.batch_size, w_value.shape[1]
    i_value, i_batched = unwrap(indices, level.number)
    i_value = i_value if i_batched else _expand(i_value, size)
    offsets = _wrap(w_value._backend.arange(0, size * rows, rows, "int64"), w_value._backend)
    shifted = i_value + offsets.reshape((size, *(1,) * (i_value.dim() - 1)))
    flat = w_value.reshape((size * rows, *tuple(w_value.shape)[2:]))
    return make_batched(cls.apply(flat, shifted, **kwargs), level.number)


def _embedding_bag(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   level: Level) -> Any:
    """A weight per example (the bags shared): every example's bags are more bags, of the
    rows of all the examples' weights one after the other, each example's indices offset by
    its first row. Padding indices point at one extra row, the padding of every example."""
    from ..ops.joining import cat

    weight, indices, per_sample_weights, offsets = args
    if unwrap(indices, level.number)[1] or unwrap(offsets, level.number)[1]:
        # bags of their own per example
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    w_value = _batched(weight, level)
    size, rows, dim = w_value.shape
    backend = w_value._backend
    index = indices._data
    count = index.shape[0]
    each = backend.broadcast_to(index, (size, count))
    first_rows = backend.reshape(backend.arange(0, size * rows, rows, "int64"), (size, 1))
    flat_index = backend.reshape(backend.add(each, first_rows), (-1,))
    flat_weight = w_value.reshape((size * rows, dim))
    options = dict(kwargs)
    if kwargs["padding_idx"] is not None:
        padding = backend.reshape(backend.equal(each, kwargs["padding_idx"]), (-1,))
        flat_index = backend.where(padding, size * rows, flat_index)
        flat_weight = cat([flat_weight, flat_weight[:1] * 0])
        options["padding_idx"] = size * rows
    starts = tuple(example * count + start for example in range(size)
                   for start in kwargs["offsets"])
    scales = None
    if per_sample_weights is not None:
        scales = _batched(per_sample_weights, level).reshape((-1,))
    flat_offsets = _wrap(backend.asarray(starts, dtype="int64"), backend)
    out = cls.apply(flat_weight, _wrap(flat_index, backend), scales, flat_offsets,
                    **{**options, "offsets": starts, "include_last_offset": False})
    return make_batched(out.reshape((size, -1, dim)), level.number)


def _view_scatter(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                  level: Level) -> Any:
    """slice_scatter and select_scatter: a basic key, one more full slice in front."""
    values = [_batched(arg, level) for arg in args]
    return make_batched(cls.apply(*values, key=(slice(None), *kwargs["key"])), level.number)


def _batched(item: Tensor, level: Level) -> Tensor:
    value, batched = unwrap(item, level.number)
    return value if batched else _expand(value, level.batch_size)


def _index_fill_tensor(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                       level: Level) -> Any:
    """index_fill with a tensor value: where(positions, value, input), the positions those of
    its index along `dim`, the value one number per example."""
    from ..ops.selection import where

    if kwargs.get("inplace"):
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    a = _batched(args[0], level)
    backend = a._backend
    rank = a.dim()
    dim = kwargs["dim"] + 1
    mask = backend.zeros((a.shape[dim],), "bool")
    if kwargs["index"].shape[0]:
        backend.setitem(mask, (kwargs["index"],), True)
    mask = backend.reshape(mask, tuple(a.shape[dim] if axis == dim else 1
                                       for axis in range(rank)))
    value = _batched(args[1], level).reshape((level.batch_size, *(1,) * (rank - 1)))
    return make_batched(where(_wrap(mask, backend), value.to(a.dtype), a), level.number)


def _fill_tensor(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                 level: Level) -> Any:
    """torch.fill with a tensor value: each example's value spread over input's shape (its
    gradient each example's own sum)."""
    a = _batched(args[0], level)
    value = _batched(args[1], level).reshape((level.batch_size, *(1,) * (a.dim() - 1)))
    return make_batched(value.to(a.dtype).expand(tuple(a.shape)).clone(), level.number)


_register(_broadcasting, scatter.Fill)
_register(_fill_tensor, scatter.FillTensor)
_register(_flat, flat_indexing.Take, flat_indexing.Put)
_register(_masked_select, flat_indexing.MaskedSelect)
_register(_masked_scatter, flat_indexing.MaskedScatter)
_register(_embedding, sparse.Embedding)
_register(_embedding_bag, embedding_bag.EmbeddingBag)
_register(_view_scatter, view_scatter.SliceScatter, view_scatter.SelectScatter)
_register(_index_fill_tensor, scatter.IndexFillTensor)


# ----------------------------------------------------------------------------- losses by row
def _row_loss(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Losses with one value per row of classes (multi_margin, multilabel_margin): every
    example's rows are more rows (reduction 'none'), then each example reduced."""
    if args[0].dim() == 0 or any(unwrap(arg, level.number)[1] for arg in args[2:]):
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    size = level.batch_size
    x, target = _batched(args[0], level), _batched(args[1], level)
    classes = x.shape[-1]
    rows_target = target.reshape((-1,)) if cls is margin_loss.MultiMarginLoss else \
        target.reshape((-1, classes))
    loss = cls.apply(x.reshape((-1, classes)), rows_target, *args[2:],
                     **{**kwargs, "reduction": "none"}).reshape((size, -1))
    mode = kwargs["reduction"]
    if mode == "mean":
        return make_batched(loss.mean(1), level.number)
    if mode == "sum":
        return make_batched(loss.sum(1), level.number)
    return make_batched(loss.reshape((size, *tuple(x.shape)[1:-1])), level.number)


_register(_row_loss, margin_loss.MultiMarginLoss, margin_loss.MultilabelMarginLoss)
