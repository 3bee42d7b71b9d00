"""`autodiff.nn.utils.rnn`: batches of sequences of different lengths, padded or packed.

`PackedSequence` is PyTorch's named tuple (data, batch_sizes, sorted_indices,
unsorted_indices); RNN, LSTM and GRU take one and return one. The batch sizes and lengths live
on the CPU as int64 tensors, as in PyTorch. The differentiable work is in `ops/packed_sequence`.

Two deliberate differences: `pack_padded_sequence` refuses a length longer than the padded
sequence (PyTorch builds a PackedSequence whose batch sizes count rows its data lacks), and
`unpad_sequence` leaves its input as it is (PyTorch's transposes a time-major input in place).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from ... import dtypes
from ...creation import arange, as_tensor, empty_like, tensor
from ...ops import packed_sequence as _ops
from ...tensor import Tensor
from ...torch_function import overridable

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence",
    "pad_packed_sequence", "pad_sequence", "unpack_sequence", "unpad_sequence",
]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """The packed rows of a batch of sequences (see the module docstring). Made by
    `pack_padded_sequence` and `pack_sequence`, not by hand."""

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError(
                    "batch_sizes should always be on CPU. Instances of PackedSequence should "
                    "never be created manually. They should be instantiated by functions like "
                    "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                    "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        else:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The data converted as `Tensor.to` does; the indices follow it to its device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(indices: Tensor | None) -> Tensor | None:
            return None if indices is None else indices.to(data.device)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cuda(self, device: Any = None) -> PackedSequence:
        return self.to("cuda" if device is None else
                       f"cuda:{device}" if isinstance(device, int) else device)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self.to(dtype=dtypes.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=dtypes.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=dtypes.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=dtypes.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=dtypes.int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=dtypes.int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=dtypes.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=dtypes.uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation p⁻¹ with p⁻¹[p[i]] = i."""
    if permutation is None:
        return None
    output = empty_like(permutation)
    output.scatter_(0, permutation, arange(0, permutation.numel(), device=permutation.device))
    return output


def _lengths_list(lengths: Any) -> list[int]:
    if not isinstance(lengths, Tensor):
        lengths = as_tensor(lengths, dtype=dtypes.int64, device="cpu")
    else:
        lengths = lengths.to(dtype=dtypes.int64)
    if lengths.ndim != 1 or lengths.device.type != "cpu":
        raise RuntimeError(
            "'lengths' argument should be a 1D CPU int64 tensor, but got "
            f"{lengths.ndim}D {lengths.device} Long tensor")
    return [int(value) for value in lengths.tolist()]


def pack_padded_sequence(input: Tensor, lengths: Tensor | list[int], batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *)) given each sequence's length. Unless
    enforce_sorted=False, the lengths must be sorted longest first."""
    sorted_indices = None
    if not enforce_sorted:
        values = _lengths_list(lengths)
        order = sorted(range(len(values)), key=lambda index: -values[index])  # stable
        sorted_indices = tensor(order, dtype=dtypes.int64, device=input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
        lengths = tensor([values[index] for index in order], dtype=dtypes.int64)
    elif not isinstance(lengths, Tensor):
        lengths = as_tensor(lengths, dtype=dtypes.int64, device="cpu")
    data, batch_sizes = _pack_padded_sequence(input, lengths, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _pack_padded_sequence_op(input: Tensor, lengths: Tensor, batch_first: bool
                             ) -> tuple[Tensor, Tensor]:
    """torch._pack_padded_sequence: (the packed rows, the batch size of each step) of a padded
    batch whose lengths are sorted longest first; one call, so a trace records it whole."""
    values = _lengths_list(lengths)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    batch_dim = 0 if batch_first else 1
    batch = input.size(batch_dim)
    if len(values) != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(values)} "
            f"(batch_size={batch})")
    if values and values[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0")
    if any(a < b for a, b in itertools.pairwise(values)):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
            "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
            "to sidestep this requirement if you do not need ONNX exportability.")
    steps = input.size(1 if batch_first else 0)
    if values and values[0] > steps:
        raise RuntimeError(
            f"Expected every length to be at most the padded length {steps}, but got "
            f"{values[0]}")
    batch_sizes = _ops.batch_sizes_of(values)
    data = _ops.pack_padded(input, batch_sizes, batch_first)
    return data, tensor(batch_sizes, dtype=dtypes.int64)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """The padded batch back from a PackedSequence, and each sequence's length."""
    max_seq_length = sequence.batch_sizes.size(0)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_seq_length}")
        max_seq_length = total_length
    padded, lengths = _pad_packed_sequence(sequence.data, sequence.batch_sizes, batch_first,
                                           padding_value, max_seq_length)
    unsorted_indices = sequence.unsorted_indices
    if unsorted_indices is not None:
        batch_dim = 0 if batch_first else 1
        return (padded.index_select(batch_dim, unsorted_indices),
                lengths[unsorted_indices.cpu()])
    return padded, lengths


def _pad_packed_sequence_op(data: Tensor, batch_sizes: Tensor, batch_first: bool,
                            padding_value: float, total_length: int) -> tuple[Tensor, Tensor]:
    """torch._pad_packed_sequence: (the padded batch, each sequence's length) of packed rows;
    one call, so a trace records it whole."""
    sizes = [int(size) for size in batch_sizes.tolist()]
    padded = _ops.pad_packed(data, sizes, batch_first, padding_value, total_length)
    return padded, tensor(_ops.lengths_of(sizes), dtype=dtypes.int64)


# torch's names for the two calls: public through __torch_function__, so a mode (jit.trace's
# recorder) sees them
_pack_padded_sequence_op.__name__ = _pack_padded_sequence_op.__qualname__ = "_pack_padded_sequence"
_pad_packed_sequence_op.__name__ = _pad_packed_sequence_op.__qualname__ = "_pad_packed_sequence"
_pack_padded_sequence = overridable(_pack_padded_sequence_op, "autodiff")
_pad_packed_sequence = overridable(_pad_packed_sequence_op, "autodiff")


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences (L_i, *) into (max L, N, *) (or (N, max L, *)), padding on the right
    or the left with padding_value."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            "pad_sequence: Expected iterable for input sequences, but got arg of type: "
            f"{type(sequences)}")
    items = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not items:
        raise RuntimeError("received an empty list of sequences")
    first = items[0]
    if first.ndim == 0:
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    trailing = tuple(first.shape[1:])
    converted = []
    for item in items:
        _check_copies_into(item, trailing)
        converted.append(item if item.dtype is first.dtype else item.to(first.dtype))
    return _ops.pad_sequences(converted, batch_first, padding_value, padding_side == "left")


def _check_copies_into(item: Tensor, trailing: tuple[int, ...]) -> None:
    """PyTorch copies each sequence into its slot (its length, then the first's trailing dims),
    broadcasting it: its errors where that fails."""
    target = (item.shape[0] if item.ndim else 1, *trailing)
    source = tuple(item.shape)
    ndim = max(len(target), len(source))
    result = []
    for offset in range(1, ndim + 1):
        want = target[-offset] if offset <= len(target) else 1
        have = source[-offset] if offset <= len(source) else 1
        if want != have and want != 1 and have != 1:
            raise RuntimeError(
                f"The size of tensor a ({want}) must match the size of tensor b ({have}) at "
                f"non-singleton dimension {ndim - offset}")
        result.append(have if want == 1 else want)
    if tuple(result[::-1]) != target:
        raise RuntimeError(f"output with shape {list(target)} doesn't match the broadcast shape "
                           f"{result[::-1]}")


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor,
                   batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length."""
    batch_major = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    steps = arange(batch_major.shape[1], device=lengths.device)
    return [sequence[steps < length] for sequence, length in zip(batch_major, lengths)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) (longest first unless enforce_sorted=False)."""
    lengths = as_tensor([operator.index(v.size(0)) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a PackedSequence holds, in their original order."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)
