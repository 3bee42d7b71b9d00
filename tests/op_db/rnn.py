"""Op table entries: the recurrent family (one layer and direction of RNN/LSTM/GRU over a
padded or packed sequence, the fused cells) and the packing of sequences (nn.utils.rnn).

Each recurrent op has several outputs; an entry takes one of them, so every output's
gradient is checked by some entry. The references are plain NumPy time loops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autodiff
from autodiff.nn.utils import rnn as rnn_utils
from autodiff.ops import rnn, rnn_cells

from .info import OpInfo, Sample

H = 2  # hidden size of every recurrent entry
PACKED = (3, 3, 2, 1)  # batch sizes of the packed samples: lengths 4, 3, 2


# ----------------------------------------------------------------------------- references
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _steps(batch_sizes: Sequence[int], reverse: bool) -> list[tuple[slice, int]]:
    order, start = [], 0
    for size in batch_sizes:
        order.append((slice(start, start + size), size))
        start += size
    return order[::-1] if reverse else order


def _layer_ref(mode: str, projection: np.ndarray, h0: np.ndarray, c0: Any, w_hh: np.ndarray,
               b_hh: Any, w_hr: Any, batch_sizes: Sequence[int], reverse: bool,
               output: int) -> np.ndarray:
    """Output `output` (0: every step's hidden state, 1: h_n, 2: c_n) of one layer."""
    gates = w_hh.shape[0]
    x = projection.reshape(-1, gates)
    h, c = h0.copy(), None if c0 is None else c0.copy()
    out = np.zeros((x.shape[0], h.shape[1]))
    for rows, size in _steps(batch_sizes, reverse):
        hp = h[:size]
        hidden = hp @ w_hh.T
        if mode == "LSTM":
            g = x[rows] + hidden
            width = g.shape[1] // 4
            i, f = _sigmoid(g[:, :width]), _sigmoid(g[:, width:2 * width])
            gg, o = np.tanh(g[:, 2 * width:3 * width]), _sigmoid(g[:, 3 * width:])
            c_new = f * c[:size] + i * gg  # type: ignore[index]
            h_new = o * np.tanh(c_new)
            if w_hr is not None:
                h_new = h_new @ w_hr.T
            c[:size] = c_new  # type: ignore[index]
        elif mode == "GRU":
            hidden = hidden + (0 if b_hh is None else b_hh)
            width = hp.shape[1]
            xr, xz, xn = (x[rows][:, k * width:(k + 1) * width] for k in range(3))
            hr, hz, hn = (hidden[:, k * width:(k + 1) * width] for k in range(3))
            r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
            n = np.tanh(xn + r * hn)
            h_new = (1 - z) * n + z * hp
        else:
            pre = x[rows] + hidden
            h_new = np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)
        out[rows] = h_new
        h[:size] = h_new
    if output == 0:
        return out.reshape(*projection.shape[:-1], out.shape[1])
    return h if output == 1 else c  # type: ignore[return-value]


def _layer_entry(name: str, mode: str, output: int, shapes: tuple[tuple[int, ...], ...],
                 batch_sizes: Sequence[int], reverse: bool = False, grad_fn: str | None = None,
                 projected: bool = False) -> OpInfo:
    """An entry for output `output` of RecurrentLayer: inputs (projection, h0, [c0], W_hh,
    [b_hh], [W_hr]) as `shapes` lists them."""
    op_class = rnn.LAYERS[mode]
    sizes = tuple(batch_sizes)

    def split(args: Sequence[Any]) -> list[Any]:
        args = list(args)
        projection, h0 = args.pop(0), args.pop(0)
        c0 = args.pop(0) if mode == "LSTM" else None
        w_hh = args.pop(0)
        b_hh = args.pop(0) if mode == "GRU" else None
        w_hr = args.pop(0) if projected else None
        return [projection, h0, c0, w_hh, b_hh, w_hr]

    def op(*args: autodiff.Tensor) -> autodiff.Tensor:
        return op_class.apply(*split(args), batch_sizes=sizes, reverse=reverse,
                              record=True)[output]

    def ref(*args: np.ndarray) -> np.ndarray:
        return _layer_ref(mode, *split(args), sizes, reverse, output)

    return OpInfo(name, op, ref, (Sample(shapes),), grad_fn or op_class.node_name)


def _lstm_shapes(batch: int, rows: tuple[int, ...], projected: bool = False
                 ) -> tuple[tuple[int, ...], ...]:
    size = 1 if projected else H
    shapes: tuple[tuple[int, ...], ...] = ((*rows, 4 * H), (batch, size), (batch, H),
                                           (4 * H, size))
    return (*shapes, (size, H)) if projected else shapes


def _cell_ref(kind: str, output: int) -> Callable[..., np.ndarray]:
    def ref(x: np.ndarray, h: np.ndarray, *rest: np.ndarray) -> np.ndarray:
        if kind == "LSTM":
            c, w_ih, w_hh, b_ih, b_hh = rest
        else:
            w_ih, w_hh, b_ih, b_hh = rest
        gates_x, gates_h = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if kind == "LSTM":
            return _layer_ref("LSTM", gates_x + gates_h, h * 0, c, np.zeros((4 * H, H)), None,
                              None, (x.shape[0],), False, output + 1)
        if kind == "GRU":
            return _layer_ref("GRU", gates_x, h, None, np.zeros((3 * H, H)), gates_h, None,
                              (x.shape[0],), False, 1)
        pre = gates_x + gates_h
        return np.tanh(pre) if kind == "RNN_TANH" else np.maximum(pre, 0)

    return ref


def _cell_entry(name: str, kind: str, output: int, grad_fn: str) -> OpInfo:
    function = {"LSTM": rnn_cells.lstm_cell, "GRU": rnn_cells.gru_cell,
                "RNN_TANH": rnn_cells.rnn_tanh_cell, "RNN_RELU": rnn_cells.rnn_relu_cell}[kind]
    gates = {"LSTM": 4, "GRU": 3}.get(kind, 1) * H

    def op(x: autodiff.Tensor, h: autodiff.Tensor, *rest: autodiff.Tensor) -> autodiff.Tensor:
        if kind == "LSTM":
            return function(x, (h, rest[0]), *rest[1:])[output]  # type: ignore[operator]
        return function(x, h, *rest)  # type: ignore[operator]

    state = ((3, H), (3, H)) if kind == "LSTM" else ((3, H),)
    shapes = ((3, 4), *state, (gates, 4), (gates, H), (gates,), (gates,))
    return OpInfo(name, op, _cell_ref(kind, output), (Sample(shapes),), grad_fn)


def _pack_ref(padded: np.ndarray, lengths: Sequence[int], batch_first: bool) -> np.ndarray:
    time_major = padded.swapaxes(0, 1) if batch_first else padded
    return np.concatenate([time_major[t, :sum(1 for n in lengths if n > t)]
                           for t in range(lengths[0])])


def _pad_packed_ref(data: np.ndarray, lengths: Sequence[int], total: int,
                    batch_first: bool) -> np.ndarray:
    out = np.full((total, len(lengths), *data.shape[1:]), -1.0)
    start = 0
    for t in range(lengths[0]):
        size = sum(1 for n in lengths if n > t)
        out[t, :size] = data[start:start + size]
        start += size
    return out.swapaxes(0, 1) if batch_first else out


def _pad_sequence_ref(*sequences: np.ndarray) -> np.ndarray:
    longest = max(s.shape[0] for s in sequences)
    out = np.full((len(sequences), longest, *sequences[0].shape[1:]), 0.5)
    for index, sequence in enumerate(sequences):
        out[index, longest - sequence.shape[0]:] = sequence
    return out


def _lengths_packed(data: autodiff.Tensor) -> Any:
    return rnn_utils.PackedSequence(data, autodiff.tensor(list(PACKED)))


RNN: list[OpInfo] = [
    # LSTM: padded, packed, reverse, projections; each output
    _layer_entry("rnn.lstm_layer", "LSTM", 0, _lstm_shapes(3, (4, 3)), (3,) * 4),
    _layer_entry("rnn.lstm_layer_h_n", "LSTM", 1, _lstm_shapes(3, (4, 3)), (3,) * 4),
    _layer_entry("rnn.lstm_layer_c_n", "LSTM", 2, _lstm_shapes(3, (4, 3)), (3,) * 4),
    _layer_entry("rnn.lstm_layer_packed", "LSTM", 0, _lstm_shapes(3, (9,)), PACKED),
    _layer_entry("rnn.lstm_layer_packed_h_n", "LSTM", 1, _lstm_shapes(3, (9,)), PACKED),
    _layer_entry("rnn.lstm_layer_packed_reverse", "LSTM", 2, _lstm_shapes(3, (9,)), PACKED,
                 reverse=True),
    _layer_entry("rnn.lstm_layer_projected", "LSTM", 0, _lstm_shapes(3, (4, 3), True),
                 (3,) * 4, projected=True),
    _layer_entry("rnn.lstm_layer_projected_packed_reverse", "LSTM", 1,
                 _lstm_shapes(3, (9,), True), PACKED, reverse=True, projected=True),
    # GRU (its b_hh stays inside the step)
    _layer_entry("rnn.gru_layer", "GRU", 0, ((4, 3, 3 * H), (3, H), (3 * H, H), (3 * H,)),
                 (3,) * 4),
    _layer_entry("rnn.gru_layer_packed_reverse", "GRU", 1,
                 ((9, 3 * H), (3, H), (3 * H, H), (3 * H,)), PACKED, reverse=True),
    # Elman RNN
    _layer_entry("rnn.rnn_tanh_layer", "RNN_TANH", 0, ((4, 3, H), (3, H), (H, H)), (3,) * 4),
    _layer_entry("rnn.rnn_tanh_layer_packed", "RNN_TANH", 1, ((9, H), (3, H), (H, H)), PACKED),
    _layer_entry("rnn.rnn_relu_layer_reverse", "RNN_RELU", 0, ((4, 3, H), (3, H), (H, H)),
                 (3,) * 4, reverse=True),
    # cells
    _cell_entry("rnn.lstm_cell", "LSTM", 0, "ThnnFusedLstmCellBackward0"),
    _cell_entry("rnn.lstm_cell_cy", "LSTM", 1, "ThnnFusedLstmCellBackward0"),
    _cell_entry("rnn.gru_cell", "GRU", 0, "ThnnFusedGruCellBackward0"),
    _cell_entry("rnn.rnn_tanh_cell", "RNN_TANH", 0, "TanhBackward0"),
    _cell_entry("rnn.rnn_relu_cell", "RNN_RELU", 0, "ReluBackward0"),
    # packing
    OpInfo("nn.utils.rnn.pack_padded_sequence",
           lambda x: rnn_utils.pack_padded_sequence(x, [4, 3, 2]).data,
           lambda x: _pack_ref(x, [4, 3, 2], False),
           (Sample(((5, 3, 2),)), Sample(((4, 3),))), "PackPaddedSequenceBackward0"),
    OpInfo("nn.utils.rnn.pack_padded_sequence_unsorted_batch_first",
           lambda x: rnn_utils.pack_padded_sequence(x, [2, 4, 3], batch_first=True,
                                                    enforce_sorted=False).data,
           lambda x: _pack_ref(x[[1, 2, 0]], [4, 3, 2], True),
           (Sample(((3, 4, 2),)),), "PackPaddedSequenceBackward0"),
    OpInfo("nn.utils.rnn.pad_packed_sequence",
           lambda d: rnn_utils.pad_packed_sequence(_lengths_packed(d), padding_value=-1.0,
                                                   total_length=5)[0],
           lambda d: _pad_packed_ref(d, [4, 3, 2], 5, False),
           (Sample(((9, 2),)), Sample(((9,),))), "CopySlices"),
    OpInfo("nn.utils.rnn.pad_packed_sequence_batch_first",
           lambda d: rnn_utils.pad_packed_sequence(_lengths_packed(d), batch_first=True,
                                                   padding_value=-1.0)[0],
           lambda d: _pad_packed_ref(d, [4, 3, 2], 4, True),
           (Sample(((9, 2),)),)),
    OpInfo("nn.utils.rnn.pad_sequence",
           lambda *s: rnn_utils.pad_sequence(s, batch_first=True, padding_value=0.5,
                                             padding_side="left"),
           _pad_sequence_ref, (Sample(((2, 3), (4, 3), (1, 3))), Sample(((2,), (3,)))),
           "CopySlices"),
]
