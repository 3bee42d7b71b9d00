"""`nn.functional.embedding_bag`: the sum, mean or max of the embedding rows of each bag of
indices, without materialising the looked-up rows per bag.

Bags are contiguous runs of a flat index tensor, given by `offsets` (or the rows of a 2-D
input). sum and mean scatter-add each looked-up row into its bag (weighted by
`per_sample_weights`, divided by the bag's count of non-padding indices); max lays the bags out
as a (bags, longest bag) grid and takes the max over it (the first of equal maxima gets the
gradient, as in PyTorch). Indices equal to `padding_idx` are left out of their bag; an empty
bag gives zeros. The backward is written in Tensor ops (twice differentiable, where PyTorch's
is not).

Differences from PyTorch: decreasing offsets are refused (PyTorch returns unspecified values
for them), and an empty list of bags gives an empty result (PyTorch crashes). With
include_last_offset and a last offset short of the input's length, the indices past it join
the last bag, as in PyTorch's kernel for float64 weights or a padding_idx (its float32 fast
path leaves them out of a sum, and divides a mean by a count that includes them).

The node shows PyTorch's saved values, ATen's offset2bag, bag_size and max_indices among them
(result1-3), made from the bags when read.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

from .. import dtypes
from ..batching.dispatch import function_rule
from ..creation import zeros
from ..function import Function
from ..jvp_rules import jvp_from_backward
from ..saved_fields import Computed, fields, saved, value
from ..tensor import Tensor, _wrap
from .indexing import same_device_index
from .joining import stack
from .sparse import SPARSE_BY_FREQ, embedding_renorm_, inverse_frequency, sparse_weight_grad

_MODES = ("sum", "mean", "max")


class _Bags:
    """Where each flat index goes: its bag, whether it counts (not padding), and the bags'
    counts; for max, the (bags, longest) grid of positions."""

    def __init__(self, backend: Any, indices: Any, offsets: list[int], total: int,
                 padding_idx: int | None, layout: bool) -> None:
        count = len(offsets)
        lengths = [end - start for start, end in itertools.pairwise([*offsets, total])]
        used = sum(lengths)  # indices past the last offset (include_last_offset) are unused
        self.count = count
        self.used = used
        # (on meta the lengths become a tensor without values: only the total is known)
        self.bag_of = backend.repeat(backend.arange(0, count, 1, "int64"),
                                     backend.asarray(lengths, dtype="int64")) \
            if backend.holds_values else backend.zeros((used,), "int64")
        kept = backend.ones((used,), "bool")
        if padding_idx is not None:
            kept = backend.not_equal(indices[:used], padding_idx)
        self.kept = kept
        self.longest = max(lengths, default=0)
        if layout:
            steps = backend.reshape(backend.arange(0, self.longest, 1, "int64"), (1, -1))
            starts = backend.reshape(backend.asarray(offsets, dtype="int64"), (-1, 1))
            sizes = backend.reshape(backend.asarray(lengths, dtype="int64"), (-1, 1))
            inside = backend.less(steps, sizes)
            self.positions = backend.where(inside, starts + steps, 0)
            self.grid_kept = inside
            if used:
                kept_there = backend.take(kept, backend.reshape(self.positions, (-1,)), axis=0)
                self.grid_kept = backend.logical_and(
                    inside, backend.reshape(kept_there, self.positions.shape))


class EmbeddingBag(Function):
    """(bags, dim): each bag's rows of weight at its indices, summed, averaged or maxed."""

    node_name = "EmbeddingBagBackward0"
    # result1-3 are ATen's offset2bag, bag_size and max_indices, made when read.
    saved_fields = fields(
        weight=saved(0, when=2), weight_sym_argsize_0=Computed(lambda node: node.shape[0]),
        indices=saved(1),
        offsets=saved(3),
        per_sample_weights=saved(2), mode=value("mode", _MODES.index),
        padding_idx=value("padding_idx", lambda index: -1 if index is None else index),
        scale_grad_by_freq=value("scale_grad_by_freq"), sparse=value("sparse"),
        result1=Computed(lambda node: _details(node)[0], tensor=True),
        result2=Computed(lambda node: _details(node)[1], tensor=True),
        result3=Computed(lambda node: _details(node)[2], tensor=True))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, weight: Any, indices: Any, per_sample_weights: Any, given: Any, *,
                offsets: tuple[int, ...], mode: str, padding_idx: int | None,
                scale_grad_by_freq: bool, sparse: bool = False,
                include_last_offset: bool = False) -> Any:
        backend = ctx.backend
        dtype = backend.dtype_name(weight)
        # (indices and offsets come as the caller gave them, which the node saves, with the
        # bags' starts as `offsets`; the bags index int64)
        given_indices = indices
        if backend.dtype_name(indices) != "int64":
            indices = backend.astype(indices, "int64")
        bags = _Bags(backend, indices, list(offsets), indices.shape[0], padding_idx,
                     layout=mode == "max")
        used = indices[:bags.used]
        dim = weight.shape[1]
        ctx.bags, ctx.mode, ctx.scale_grad_by_freq = bags, mode, scale_grad_by_freq
        ctx.shape, ctx.flat = weight.shape, indices
        ctx.padding_idx, ctx.sparse = padding_idx, sparse
        ctx.include_last_offset = include_last_offset
        rows = backend.take(weight, used, axis=0)
        if mode == "max":
            grid = backend.take(rows, backend.reshape(bags.positions, (-1,)), axis=0) \
                if bags.used else backend.zeros((bags.positions.size, dim), dtype)
            grid = backend.reshape(grid, (bags.count, bags.longest, dim))
            mask = backend.expand_dims(bags.grid_kept, axis=2)
            grid = backend.where(mask, grid, float("-inf"))
            if bags.longest:
                winner = backend.argmax(grid, axis=1)  # the first maximum, as PyTorch
                out = backend.max(grid, axis=1)
            else:
                winner = backend.zeros((bags.count, dim), "int64")
                out = backend.full((bags.count, dim), float("-inf"), dtype)
            empty = backend.logical_not(backend.any(bags.grid_kept, axis=1)) \
                if bags.longest else backend.ones((bags.count,), "bool")
            out = backend.where(backend.expand_dims(empty, axis=1), 0.0, out)
            out = backend.astype(out, dtype)
            # The winning position of each (bag, column) in the flat index list.
            ctx.winner = backend.take_along_axis(bags.positions, winner, axis=1) \
                if bags.longest else winner
            ctx.nonempty = backend.logical_not(empty)
            ctx.save_for_backward(weight, given_indices, None, given)
            return out
        scale = backend.astype(bags.kept, dtype)
        if per_sample_weights is not None:
            scale = backend.multiply(scale, per_sample_weights[:bags.used])
        if mode == "mean":
            counts = backend.zeros((bags.count,), dtype)
            backend.index_add(counts, (bags.bag_of,), backend.astype(bags.kept, dtype))
            scale = backend.divide(scale, backend.take(backend.maximum(counts, 1.0),
                                                       bags.bag_of, axis=0))
        ctx.scale = scale
        out = backend.zeros((bags.count, dim), dtype)
        columns = backend.reshape(backend.arange(0, dim, 1, "int64"), (1, dim))
        backend.index_add(out, (backend.reshape(bags.bag_of, (-1, 1)), columns),
                          backend.multiply(rows, backend.expand_dims(scale, axis=1)))
        ctx.save_for_backward(weight, given_indices, per_sample_weights, given)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None, Tensor | None, None]:
        weight, indices, per_sample_weights, _ = ctx.saved_tensors
        needs_weight, _, needs_weights, _ = ctx.needs_input_grad
        bags, backend = ctx.bags, grad._backend
        rows, dim = ctx.shape
        used = _wrap(ctx.flat[:bags.used], backend)
        grad_weight = None
        if ctx.mode == "max":
            if needs_weight:
                # grad[b, d] goes to weight[indices[winner[b, d]], d] for every non-empty bag.
                winner_rows = backend.take(ctx.flat, backend.reshape(ctx.winner, (-1,)),
                                           axis=0) if bags.used else backend.reshape(
                    ctx.winner, (-1,))
                columns = backend.tile(backend.arange(0, dim, 1, "int64"), (bags.count,))
                flat = _wrap(winner_rows * dim + columns, backend)
                kept = _wrap(backend.expand_dims(ctx.nonempty, axis=1), backend)
                values = (grad * kept.to(grad.dtype)).reshape(-1)
                grad_weight = zeros(rows * dim, dtype=grad.dtype, device=grad.device
                                    ).index_add(0, flat, values).reshape(rows, dim)
            return grad_weight, None, None, None
        per_row = grad.index_select(0, _wrap(bags.bag_of, backend))
        scale = _wrap(ctx.scale, backend)
        if needs_weight:
            if ctx.sparse and ctx.scale_grad_by_freq:
                raise RuntimeError(SPARSE_BY_FREQ)
            contribution = per_row * scale.unsqueeze(1)
            if per_sample_weights is not None and per_sample_weights._requires_grad:
                # The weights' own path: scale as a function of them, for double backward.
                kept = _wrap(backend.astype(bags.kept, backend.dtype_name(grad._data)), backend)
                contribution = per_row * (per_sample_weights[:bags.used] * kept).unsqueeze(1)
            if ctx.scale_grad_by_freq:
                contribution = contribution * _wrap(inverse_frequency(backend, used._data, rows,
                                                                      grad._data), backend)
            if ctx.sparse:
                grad_weight = sparse_weight_grad(contribution, used._data, rows, ctx.padding_idx)
                return grad_weight, None, _per_sample_grad(ctx, grad, per_row, weight, indices,
                                                           used, needs_weights), None
            grad_weight = zeros(rows, dim, dtype=grad.dtype, device=grad.device).index_add(
                0, used, contribution)
        return grad_weight, None, _per_sample_grad(ctx, grad, per_row, weight, indices, used,
                                                   needs_weights), None


def _per_sample_grad(ctx: Any, grad: Tensor, per_row: Tensor, weight: Tensor, indices: Tensor,
                     used: Tensor, needed: bool) -> Tensor | None:
    """The gradient of per_sample_weights (mode 'sum'): each looked-up row dotted with its
    bag's gradient; indices past the last offset and padding get zero."""
    if not needed:
        return None
    bags, backend = ctx.bags, grad._backend
    kept = _wrap(backend.astype(bags.kept, backend.dtype_name(grad._data)), backend)
    looked_up = weight.index_select(0, used)
    grad_per_sample = (per_row * looked_up).sum(1) * kept
    total = indices._data.shape[0]
    if bags.used < total:  # indices past the last offset take no part
        grad_per_sample = zeros(total, dtype=grad.dtype, device=grad.device).index_add(
            0, _wrap(backend.arange(0, bags.used, 1, "int64"), backend), grad_per_sample)
    return grad_per_sample


def _details(node: Any) -> tuple[Tensor, Tensor, Tensor]:
    """ATen's offset2bag, bag_size and max_indices for this node, of indices' and offsets'
    promoted dtype, as its CPU kernel fills them (see `bag_details`): max_indices holds each
    maximum's row of weight (0 in an empty bag)."""
    weight = _BAG_WEIGHT.read(node)
    indices, offsets = _BAG_INDICES.read(node), _BAG_OFFSETS.read(node)
    mode = _MODES.index(node.mode)
    offset2bag, bag_size, max_indices = _bag_details(  # (max's indices made below)
        weight, indices, offsets, min(mode, 1), node.include_last_offset,
        node.padding_idx)
    if mode == 2:
        backend = node.backend
        winners = backend.take(node.flat, backend.reshape(node.winner, (-1,)), axis=0) \
            if node.bags.used else backend.reshape(node.winner, (-1,))
        winners = backend.reshape(winners, node.winner.shape)
        max_indices = _wrap(backend.where(backend.expand_dims(node.nonempty, axis=1),
                                          winners, 0), backend)
    dtype = dtypes.promote_types(indices.dtype, offsets.dtype)
    return offset2bag.to(dtype), bag_size.to(dtype), max_indices.to(dtype)


_BAG_WEIGHT, _BAG_INDICES, _BAG_OFFSETS = saved(0), saved(1), saved(3)


def _index_error(name: str, tensor: Tensor, allowed: str, what: str = "indices") -> RuntimeError:
    return RuntimeError(
        f"Expected tensor for argument #1 '{what}' to have one of the following scalar types: "
        f"{allowed}; but got torch.{dtypes.LEGACY_NAMES[tensor.dtype.name]} instead (while "
        f"checking arguments for {name})")


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """The sum, mean or max of weight's rows over each bag of indices: the rows of a 2-D
    input, or the runs of a 1-D input that `offsets` start. `sparse=True` gives the weight a
    sparse COO gradient (one entry per looked-up index)."""
    if weight.dtype is dtypes.int64 and input.dtype.is_floating_point:
        warnings.warn(
            "Argument order of nn.functional.embedding_bag was changed. Usage "
            "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
            "`embedding_bag(input, weight, ...)`.", UserWarning, stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
            f"then it must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(
            f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets)}")
        starts = list(range(0, input.numel(), input.shape[1])) if input.shape[1] else \
            [0] * input.shape[0]
        include_last_offset = False
        # (PyTorch's offsets for the rows: the starts, of input's dtype)
        offsets = _wrap(input._backend.asarray(starts, dtype=input.dtype.name), input._backend)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = None
    else:
        raise ValueError(
            f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    for tensor in (input, offsets):
        if tensor is not None and tensor.dtype not in (dtypes.int64, dtypes.int32):
            raise _index_error("embedding_bag", tensor, "Long, Int")
    if not weight.dtype.is_floating_point:
        raise _index_error("embedding_bag", weight, "Half, BFloat16, Float, Double", "weight")
    same_device_index("embedding_bag", weight, input)
    backend = weight._backend
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise RuntimeError(
                f"padding_idx must be within the number of embeddings, -{rows} through "
                f"{rows - 1}, but got {padding_idx}")
        padding_idx %= rows
    total = input.numel()
    if starts is None:
        assert offsets is not None
        # (meta: the bags' count is known, not where they start; PyTorch's meta kernel checks
        # no offsets)
        starts = ([int(value) for value in offsets.tolist()] if offsets._backend.holds_values
                  else [0] * offsets.numel())
        if include_last_offset:
            total, starts = (starts[-1], starts[:-1]) if starts else (0, [])
        if starts and starts[0] != 0:  # (PyTorch's message ends in the printed 0-d tensor)
            raise RuntimeError(
                "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                f"start from position 0. However, got {starts[0]}\n[ torch."
                f"{dtypes.LEGACY_NAMES[offsets.dtype.name]}{{}} ]")
        last = starts[-1] if starts else 0
        if last > input.numel() or total > input.numel():
            raise RuntimeError(
                f"offsets[-1] can not be greater than input's length {input.numel()} but got "
                f"offsets[-1] of {max(last, total)}")
        if any(later < earlier for earlier, later in itertools.pairwise(starts)):
            raise RuntimeError("embedding_bag: offsets have to be non-decreasing")
    indices = backend.astype(input._data, "int64")
    if indices.size and backend.holds_values:
        low, high = backend.item(backend.min(indices)), backend.item(backend.max(indices))
        if low < 0 or high >= rows:
            raise RuntimeError(
                "embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be "
                f"{low if low < 0 else high}")
    if max_norm is not None:
        embedding_renorm_(weight, indices, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    return EmbeddingBag.apply(weight, input, per_sample_weights, offsets,
                              offsets=tuple(starts), mode=mode, padding_idx=padding_idx,
                              scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                              include_last_offset=include_last_offset)


@function_rule("bag_details")
def bag_details(weight: Tensor, indices: Tensor, offsets: Tensor, mode: int,
                include_last_offset: bool, padding_idx: int | None
                ) -> tuple[Tensor, Tensor, Tensor]:
    """ATen's other three embedding_bag results (offset2bag, bag_size, max_indices) for a
    1-D `indices` split by `offsets` (see `torch.embedding_bag`)."""
    details = _bag_details(weight, indices, offsets, mode, include_last_offset, padding_idx)
    return tuple(detail.to(indices.dtype) for detail in details)  # type: ignore[return-value]


def _bag_details(weight: Tensor, indices: Tensor, offsets: Tensor, mode: int,
                 include_last_offset: bool, padding_idx: int | None
                 ) -> tuple[Tensor, Tensor, Tensor]:
    device = weight.device
    flat = indices.reshape(-1).long()
    starts = offsets.long()
    if include_last_offset and starts.numel():
        starts = starts[:-1]
    count = starts.numel()
    total = flat.numel()
    rows = weight.shape[0]
    padding = None if padding_idx is None else padding_idx % rows if rows else padding_idx
    sum_fast_path = (mode == 0 and padding is None
                     and weight.dtype in (dtypes.float32, dtypes.float16, dtypes.bfloat16))
    # Each index's bag: how many bags start at or before it, less one.
    marks = zeros(total + 1, dtype=dtypes.int64, device=device)
    if count:
        marks = marks.index_add(0, starts.clamp(max=total), marks.new_ones(count))
    offset2bag = (marks.cumsum(0) - 1)[:total] if total else marks[:0]
    zeros_per_bag = zeros(count, dtype=dtypes.int64, device=device)
    if mode == 0:
        return (offset2bag[:0] if sum_fast_path else offset2bag), zeros_per_bag, zeros_per_bag
    kept = flat != padding if padding is not None else flat >= 0
    bag_size = zeros_per_bag.index_add(0, offset2bag, kept.long())
    if mode == 1:
        return offset2bag, bag_size, bag_size.clone()
    dim = weight.shape[1]
    # Each bag's row of winners, stacked (not written into a tensor: inside vmap the winners
    # of a batched weight differ per example).
    rows = []
    for bag in range(count):
        members = flat[offset2bag == bag]
        members = members[kept[offset2bag == bag]]
        if members.numel():
            winners = weight.index_select(0, members).argmax(0)  # the first maximum
            rows.append(members.gather(0, winners))
        else:
            rows.append(zeros(dim, dtype=dtypes.int64, device=device))
    if not rows:
        return offset2bag, bag_size, zeros(count, dim, dtype=dtypes.int64, device=device)
    return offset2bag, bag_size, stack(rows)
