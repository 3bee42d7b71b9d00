"""nn.utils.rnn: packing and padding against PyTorch's results, errors and PackedSequence's
behaviour, on every device; and the two deliberate differences (lengths past the padded length
are refused; unpad_sequence leaves its input untouched)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn.utils import rnn
from tests.compare import same_error


def _np(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _padded(device: str, shape: tuple[int, ...] = (5, 3, 2)) -> autodiff.Tensor:
    values = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    return autodiff.tensor(values, device=device, requires_grad=True)


def test_pack_and_pad_round_trip(device: str) -> None:
    x = _padded(device)
    packed = rnn.pack_padded_sequence(x, [4, 2, 1])
    assert packed.batch_sizes.tolist() == [3, 2, 1, 1]
    assert packed.batch_sizes.device.type == "cpu" and packed.batch_sizes.dtype is autodiff.int64
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    np.testing.assert_array_equal(
        _np(packed.data), _np(x)[[0, 0, 0, 1, 1, 2, 3], [0, 1, 2, 0, 1, 0, 0]])
    assert packed.data.grad_fn.name() == "PackPaddedSequenceBackward0"
    padded, lengths = rnn.pad_packed_sequence(packed, padding_value=-1.0, total_length=6)
    assert lengths.tolist() == [4, 2, 1] and lengths.device.type == "cpu"
    expected = np.full((6, 3, 2), -1.0)
    for column, length in enumerate([4, 2, 1]):
        expected[:length, column] = _np(x)[:length, column]
    np.testing.assert_array_equal(_np(padded), expected)
    padded.sum().backward()
    mask = np.zeros((5, 3, 2))
    for column, length in enumerate([4, 2, 1]):
        mask[:length, column] = 1
    np.testing.assert_array_equal(_np(x.grad), mask)


def test_unsorted_batch_first(device: str) -> None:
    x = _padded(device, (4, 5, 3))
    packed = rnn.pack_padded_sequence(x, autodiff.tensor([2, 5, 2, 4]), batch_first=True,
                                      enforce_sorted=False)
    assert packed.sorted_indices.tolist() == [1, 3, 0, 2]  # stable, as PyTorch's sort
    assert packed.unsorted_indices.tolist() == [2, 0, 3, 1]
    assert packed.sorted_indices.device == x.device
    padded, lengths = rnn.pad_packed_sequence(packed, batch_first=True)
    assert lengths.tolist() == [2, 5, 2, 4]
    for row, length in enumerate([2, 5, 2, 4]):
        np.testing.assert_array_equal(_np(padded)[row, :length], _np(x)[row, :length])
        np.testing.assert_array_equal(_np(padded)[row, length:], 0)
    sequences = rnn.unpack_sequence(packed)
    assert [tuple(s.shape) for s in sequences] == [(2, 3), (5, 3), (2, 3), (4, 3)]


def test_pack_sequence_and_unpack(device: str) -> None:
    a = autodiff.tensor([1.0, 2, 3], device=device)
    b = autodiff.tensor([4.0, 5], device=device)
    packed = rnn.pack_sequence([a, b])
    assert _np(packed.data).tolist() == [1, 4, 2, 5, 3]
    assert packed.batch_sizes.tolist() == [2, 2, 1]
    assert repr(packed) == ("PackedSequence(data=tensor([1., 4., 2., 5., 3.]), "
                            "batch_sizes=tensor([2, 2, 1]), sorted_indices=None, "
                            "unsorted_indices=None)") or device != "cpu"
    unpacked = rnn.unpack_sequence(rnn.pack_sequence([b, a], enforce_sorted=False))
    assert [_np(s).tolist() for s in unpacked] == [[4, 5], [1, 2, 3]]


def test_pad_sequence_sides_and_layouts(device: str) -> None:
    a = autodiff.ones(2, 3, device=device, requires_grad=True)
    b = autodiff.full((4, 3), 2.0, device=device)
    right = rnn.pad_sequence([a, b])
    assert tuple(right.shape) == (4, 2, 3) and right.grad_fn.name() == "CopySlices"
    np.testing.assert_array_equal(_np(right)[:, 0, 0], [1, 1, 0, 0])
    left = rnn.pad_sequence([a, b], batch_first=True, padding_value=-1.0, padding_side="left")
    np.testing.assert_array_equal(_np(left)[0, :, 0], [-1, -1, 1, 1])
    left.sum().backward()
    np.testing.assert_array_equal(_np(a.grad), 1)
    broadcast = rnn.pad_sequence([autodiff.zeros(2, 3), autodiff.ones(3)])  # (3,) into (3, 3)
    np.testing.assert_array_equal(_np(broadcast)[:, 1], 1)
    mixed = rnn.pad_sequence([autodiff.zeros(2), autodiff.ones(1, dtype=autodiff.float64)])
    assert mixed.dtype is autodiff.float32


def test_unpad_sequence_leaves_its_input() -> None:
    padded = autodiff.arange(12.0).reshape(4, 3)
    pieces = rnn.unpad_sequence(padded, autodiff.tensor([4, 2, 1]))
    assert [_np(p).tolist() for p in pieces] == [[0, 3, 6, 9], [1, 4], [2]]
    assert tuple(padded.shape) == (4, 3)  # PyTorch's transposes it in place


def test_packed_sequence_methods() -> None:
    packed = rnn.pack_sequence([autodiff.ones(3, 2), autodiff.ones(1, 2)], enforce_sorted=False)
    double = packed.double()
    assert double.data.dtype is autodiff.float64 and double.batch_sizes is packed.batch_sizes
    assert packed.to("cpu") is packed and packed.float() is packed
    assert not packed.is_cuda
    moved = packed.to("strict:1")
    assert moved.data.device == moved.sorted_indices.device == autodiff.device("strict:1")
    assert moved.batch_sizes.device.type == "cpu"
    assert rnn.PackedSequence((packed.data, packed.batch_sizes)).batch_sizes is \
        packed.batch_sizes
    with pytest.raises(AssertionError, match="Expected data to be a list or tuple of length 2"):
        rnn.PackedSequence(packed.data)
    with pytest.raises(ValueError, match="batch_sizes should always be on CPU"):
        rnn.PackedSequence(packed.data, packed.batch_sizes.to("strict:1"))
    assert rnn.invert_permutation(autodiff.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert rnn.invert_permutation(None) is None


def test_length_past_the_padded_length_is_refused() -> None:
    # PyTorch builds a PackedSequence whose batch sizes count rows its data does not have.
    with pytest.raises(RuntimeError, match=re.escape(
            "Expected every length to be at most the padded length 4, but got 5")):
        rnn.pack_padded_sequence(autodiff.zeros(4, 3, 2), [5, 2, 1])


ERRORS: list[tuple[str, Callable[[Any, Any], Any], type, str]] = [
    ("unsorted", lambda m, r: r.pack_padded_sequence(m.zeros(4, 3, 2), [2, 4, 2]),
     RuntimeError, "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
     "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
     "sidestep this requirement if you do not need ONNX exportability."),
    ("zero length", lambda m, r: r.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 0]),
     RuntimeError, "Length of all samples has to be greater than 0, but found an element in "
     "'lengths' that is <= 0"),
    ("count", lambda m, r: r.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2]), RuntimeError,
     "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)"),
    ("empty", lambda m, r: r.pack_padded_sequence(m.zeros(0, 2, 3), [1, 1]), RuntimeError,
     "Cannot pack empty tensors."),
    ("lengths 2-D", lambda m, r: r.pack_padded_sequence(m.zeros(3, 2, 3),
                                                        m.tensor([[2, 1]])),
     RuntimeError, "'lengths' argument should be a 1D CPU int64 tensor, but got 2D cpu Long "
                   "tensor"),
    ("1-D input", lambda m, r: r.pack_padded_sequence(m.zeros(4), [4]), IndexError,
     "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    ("total_length", lambda m, r: r.pad_packed_sequence(
        r.pack_sequence([m.ones(4), m.ones(2)]), total_length=3), ValueError,
     "Expected total_length to be at least the length of the longest sequence in input, but "
     "got total_length=3 and max sequence length being 4"),
    ("empty list", lambda m, r: r.pad_sequence([]), RuntimeError,
     "received an empty list of sequences"),
    ("side", lambda m, r: r.pad_sequence([m.ones(2)], padding_side="middle"), RuntimeError,
     "Expected padding_side to be one of left or right, but got middle."),
    ("not iterable", lambda m, r: r.pad_sequence(3), RuntimeError,
     "pad_sequence: Expected iterable for input sequences, but got arg of type: <class 'int'>"),
    ("trailing", lambda m, r: r.pad_sequence([m.ones(2, 3), m.ones(2, 4)]), RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension "
     "1"),
    ("extra dims", lambda m, r: r.pad_sequence([m.ones(2, 3), m.ones(3, 2, 3)]), RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension "
     "1"),
    ("broadcast grows", lambda m, r: r.pad_sequence([m.ones(2, 1), m.ones(3, 3)]),
     RuntimeError, "output with shape [3, 1] doesn't match the broadcast shape [3, 3]"),
    ("0-d", lambda m, r: r.pad_sequence([m.tensor(1.0)]), RuntimeError,
     "ArrayRef: invalid slice, N = 1; size = 0"),
]


@pytest.mark.parametrize(("name", "call", "kind", "message"), ERRORS,
                         ids=[case[0] for case in ERRORS])
def test_errors(name: str, call: Callable[[Any, Any], Any], kind: type, message: str) -> None:
    with pytest.raises(kind, match=re.escape(message)):
        call(autodiff, rnn)


@pytest.mark.parametrize(("name", "call", "kind", "message"), ERRORS,
                         ids=[case[0] for case in ERRORS])
def test_errors_are_pytorchs(name: str, call: Callable[[Any, Any], Any], kind: type,
                             message: str) -> None:
    torch = pytest.importorskip("torch")
    same_error(lambda: call(autodiff, rnn), lambda: call(torch, torch.nn.utils.rnn))


def test_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    time_major = np.random.default_rng(0).standard_normal((6, 4, 3))
    lengths = [3, 6, 1, 4]
    for batch_first in (False, True):
        values = time_major.swapaxes(0, 1).copy() if batch_first else time_major
        theirs = torch.nn.utils.rnn.pack_padded_sequence(
            torch.tensor(values), lengths, batch_first=batch_first, enforce_sorted=False)
        ours = rnn.pack_padded_sequence(autodiff.tensor(values), lengths,
                                        batch_first=batch_first, enforce_sorted=False)
        np.testing.assert_array_equal(_np(ours.data), _np(theirs.data))
        for name in ("batch_sizes", "sorted_indices", "unsorted_indices"):
            assert getattr(ours, name).tolist() == getattr(theirs, name).tolist()
        t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first, 2.5, 7)
        a_pad, a_len = rnn.pad_packed_sequence(ours, batch_first, 2.5, 7)
        np.testing.assert_array_equal(_np(a_pad), _np(t_pad))
        assert a_len.tolist() == t_len.tolist()
    seqs = [time_major[:length, 0] for length in lengths]
    np.testing.assert_array_equal(
        _np(rnn.pad_sequence([autodiff.tensor(s) for s in seqs], True, -1.0, "left")),
        _np(torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], True, -1.0,
                                            "left")))


def test_private_pack_and_pad_functions_match_pytorchs_names() -> None:
    # torch._pack_padded_sequence / torch._pad_packed_sequence: the calls a trace records
    padded = autodiff.arange(6.0).reshape(3, 2, 1)
    data, batch_sizes = autodiff._pack_padded_sequence(padded, autodiff.tensor([3, 2]), False)
    assert data.flatten().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert batch_sizes.tolist() == [2, 2, 1]
    back, lengths = autodiff._pad_packed_sequence(data, batch_sizes, False, -1.0, 4)
    assert back.shape == (4, 2, 1) and lengths.tolist() == [3, 2]
    assert back[2:, 1].flatten().tolist() == [-1.0, -1.0]


def test_a_trace_records_packing_so_it_follows_new_lengths() -> None:
    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(2, 3)

        def forward(self, padded: Any, lengths: Any) -> Any:
            packed = nn.utils.rnn.pack_padded_sequence(padded, lengths)
            outputs, hidden = self.gru(packed)
            outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs)
            return outputs * 2, hidden

    autodiff.manual_seed(0)
    model = Encoder().eval()
    traced = autodiff.jit.trace(model, (autodiff.randn(4, 2, 2), autodiff.tensor([4, 3])))
    padded, lengths = autodiff.randn(4, 2, 2), autodiff.tensor([4, 1])
    for ours, expected in zip(traced(padded, lengths), model(padded, lengths)):
        assert autodiff.allclose(ours, expected)
    assert "torch._pack_padded_sequence" in traced.code
