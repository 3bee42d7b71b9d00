"""Packing and padding of variable-length sequences (what `nn.utils.rnn` is built on).

A packed sequence lists, time step by time step, the rows of the sequences still running at
that step (sorted longest first, so step t holds the first batch_sizes[t] of them). Packing
(`PackPaddedSequenceBackward0`) and padding back (PyTorch writes the padded tensor with slice
copies, so its node is `CopySlices`) are each other's adjoints: each one's backward is the
other, so both are differentiable any number of times. `pad_sequence` stacks sequences of
different lengths into one padded tensor (also `CopySlices`, as PyTorch's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..function import Function
from ..jvp_rules import auto_linear, auto_linear_with
from ..saved_fields import Computed, fields, value
from ..tensor import Tensor, _wrap

_ALL = slice(None)


def batch_sizes_of(lengths: Sequence[int]) -> list[int]:
    """The batch size of each time step for lengths sorted longest first."""
    return [sum(1 for length in lengths if length > t) for t in range(lengths[0])] \
        if lengths else []


def lengths_of(batch_sizes: Sequence[int]) -> list[int]:
    """Each sequence's length, longest first, from the batch sizes."""
    if not batch_sizes:
        return []
    return [sum(1 for size in batch_sizes if size > b) for b in range(batch_sizes[0])]


class PackPaddedSequence(Function):
    """(T, B, *) (or (B, T, *) with batch_first) -> the packed rows (sum of lengths, *)."""

    node_name = "PackPaddedSequenceBackward0"
    saved_fields = fields(
        batch_first=value("batch_first"), input_sym_sizes=value("padded_shape", tuple),
        result1=Computed(lambda node: _wrap(node.backend.asarray(node.batch_sizes,
                                                                  dtype="int64"), node.backend),
                         tensor=True))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, padded: Any, *, batch_sizes: tuple[int, ...],
                batch_first: bool) -> Any:
        backend = ctx.backend
        ctx.batch_sizes, ctx.batch_first = batch_sizes, batch_first
        ctx.padded_shape = padded.shape
        time_major = _time_major(backend, padded, batch_first)
        blocks = [backend.getitem(time_major, (t, slice(0, size), ...))
                  for t, size in enumerate(batch_sizes)]
        if not blocks:
            return backend.empty((0, *padded.shape[2:]), backend.dtype_name(padded))
        return backend.concat(blocks, axis=0)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        total = ctx.padded_shape[1 if ctx.batch_first else 0]
        return PadPackedSequence.apply(grad, batch_sizes=ctx.batch_sizes,
                                       batch_first=ctx.batch_first, padding_value=0.0,
                                       total_length=total)


class PadPackedSequence(Function):
    """The packed rows -> (total_length, B, *) (or batch first), padding_value elsewhere."""

    node_name = "CopySlices"

    jvp = auto_linear_with(padding_value=0)

    @staticmethod
    def forward(ctx: Any, data: Any, *, batch_sizes: tuple[int, ...], batch_first: bool,
                padding_value: float, total_length: int) -> Any:
        backend = ctx.backend
        ctx.batch_sizes, ctx.batch_first = batch_sizes, batch_first
        batch = batch_sizes[0] if batch_sizes else 0
        padded = backend.full((total_length, batch, *data.shape[1:]), padding_value,
                              backend.dtype_name(data))
        start = 0
        for t, size in enumerate(batch_sizes):
            backend.setitem(padded, (t, slice(0, size), ...),
                            backend.getitem(data, (slice(start, start + size), ...)))
            start += size
        return _time_major(backend, padded, batch_first)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return PackPaddedSequence.apply(grad, batch_sizes=ctx.batch_sizes,
                                        batch_first=ctx.batch_first)


def _time_major(backend: Any, array: Any, batch_first: bool) -> Any:
    """Swap the first two dims when batch_first (a view): time-major <-> batch-major."""
    if not batch_first:
        return array
    order = (1, 0, *range(2, array.ndim))
    return backend.permute_dims(array, order)


class PadSequence(Function):
    """Sequences (L_i, *) -> (max L, N, *) (or (N, max L, *)), padded on the right or left."""

    node_name = "CopySlices"

    jvp = auto_linear_with(padding_value=0)

    @staticmethod
    def forward(ctx: Any, *sequences: Any, batch_first: bool, padding_value: float,
                left: bool) -> Any:
        backend = ctx.backend
        longest = max(sequence.shape[0] for sequence in sequences)
        trailing = sequences[0].shape[1:]
        ctx.spans = []
        shape = (len(sequences), longest, *trailing) if batch_first \
            else (longest, len(sequences), *trailing)
        padded = backend.full(shape, padding_value, backend.dtype_name(sequences[0]))
        for index, sequence in enumerate(sequences):
            length = sequence.shape[0]
            rows = slice(longest - length, longest) if left else slice(0, length)
            ctx.spans.append(rows)
            key = (index, rows, ...) if batch_first else (rows, index, ...)
            backend.setitem(padded, key, backend.broadcast_to(sequence, (length, *trailing)))
        ctx.batch_first = batch_first
        return padded

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, ...]:
        if ctx.batch_first:
            return tuple(grad[index, rows] for index, rows in enumerate(ctx.spans))
        return tuple(grad[rows, index] for index, rows in enumerate(ctx.spans))


# ----------------------------------------------------------------------------- functions
def pack_padded(padded: Tensor, batch_sizes: Sequence[int], batch_first: bool) -> Tensor:
    return PackPaddedSequence.apply(padded, batch_sizes=tuple(batch_sizes),
                                    batch_first=batch_first)


def pad_packed(data: Tensor, batch_sizes: Sequence[int], batch_first: bool,
               padding_value: float, total_length: int) -> Tensor:
    return PadPackedSequence.apply(data, batch_sizes=tuple(batch_sizes),
                                   batch_first=batch_first, padding_value=padding_value,
                                   total_length=total_length)


def pad_sequences(sequences: Sequence[Tensor], batch_first: bool, padding_value: float,
                  left: bool) -> Tensor:
    return PadSequence.apply(*sequences, batch_first=batch_first,
                             padding_value=padding_value, left=left)
