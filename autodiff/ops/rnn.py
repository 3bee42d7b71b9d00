"""Recurrent layers (RNN with tanh or relu, LSTM with optional projections, GRU) as PyTorch's
`_VF.rnn_tanh` / `lstm` / `gru` compute them: `recurrent` runs the layers and directions; each
(layer, direction) is one op, `RecurrentLayer`, over the whole sequence.

The input projection of all time steps is one GEMM per layer and direction, made before the op
(`linear(x, W_ih, b)` over the whole sequence). The op's forward is a Python loop over the time
steps on backend arrays: one GEMM per step (h @ W_hh^T, the hidden state's gates) and the gate
arithmetic (`_rnn_pointwise`). Its backward runs the loop in reverse the same way and makes each
weight gradient one GEMM over all steps at the end (dW_hh = dgates^T @ h_prev). When the
backward is itself recorded (create_graph), it is instead the recorded gradient of the layer's
twin in elementary ops (`_recorded`), so double backward works.

Sequences are packed: step t covers the first batch_sizes[t] rows of its block (a padded batch
is the packed one whose batch sizes are all B, and its (T, B, G) projection is already that
layout). The state is a full (B, H) array whose first rows each step overwrites: in the forward
direction a sequence that has ended keeps its last state, its final one; in the reverse
direction a sequence starts from its initial state at its own last step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..function import Function
from ..grad_mode import is_grad_enabled
from ..jvp_rules import jvp_from_backward
from ..tensor import Tensor, _wrap
from ._recorded import recorded_gradients
from ._rnn_pointwise import (
    LSTMActivations,
    elman_pointwise,
    elman_pointwise_backward,
    elman_twin,
    gru_pointwise,
    gru_pointwise_backward,
    gru_twin,
    lstm_pointwise,
    lstm_pointwise_backward,
    lstm_twin,
)
from .dropout import dropout as _dropout
from .joining import cat, stack
from .linear import linear

Array = Any
_ALL = slice(None)


class Step:
    """One time step: its rows of the packed sequence and its batch size."""

    __slots__ = ("rows", "size")

    def __init__(self, start: int, size: int) -> None:
        self.rows = slice(start, start + size)
        self.size = size


def steps(batch_sizes: Sequence[int], reverse: bool) -> list[Step]:
    """The steps in the order a direction runs them."""
    order, start = [], 0
    for size in batch_sizes:
        order.append(Step(start, size))
        start += size
    return order[::-1] if reverse else order


class LayerTape:
    """What the forward keeps for the fast backward, one row per (time step, sequence) in the
    packed order: the previous hidden state (for dW_hh), the previous cell state (LSTM), the
    step's activations (gates; the new hidden state for RNN), tanh of the cell state (LSTM) or
    the hidden n-gate (GRU), and the LSTM's unprojected hidden state (for dW_hr). Copies: the
    op's outputs may be changed in place without touching them."""

    def __init__(self, backend: Any, rows: int, widths: dict[str, int], dtype: str) -> None:
        self.h_prev = backend.empty((rows, widths["h"]), dtype)
        self.c_prev = backend.empty((rows, widths["c"]), dtype) if "c" in widths else None
        self.activations = backend.empty((rows, widths["gates"]), dtype)
        self.extra = backend.empty((rows, widths["extra"]), dtype) if "extra" in widths else None
        self.unprojected = (backend.empty((rows, widths["c"]), dtype)
                            if "projected" in widths else None)

    def arrays(self) -> list[Array]:
        return [self.h_prev, self.c_prev, self.activations, self.extra, self.unprojected]


class RecurrentLayer(Function):
    """One layer, one direction, the whole sequence. Inputs: the input projection (T, B, G) or
    (rows, G) packed, h0 (B, P), c0 (B, H) for LSTM, W_hh, b_hh (GRU only: the other modes'
    b_hh is folded into the projection), W_hr (LSTM with proj_size). Outputs: the hidden states
    of every step (the projection's layout), the final hidden state, and the final cell state
    (LSTM). Subclasses are the modes."""

    mode: ClassVar[str]

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, projection: Array, h0: Array, c0: Array | None, w_hh: Array,
                b_hh: Array | None, w_hr: Array | None, *, batch_sizes: tuple[int, ...],
                reverse: bool, record: bool) -> tuple[Array, ...]:
        backend = ctx.backend
        mode = ctx.mode
        gates = w_hh.shape[0]
        rows = sum(batch_sizes)
        x = backend.reshape(projection, (rows, gates)) if projection.ndim == 3 else projection
        dtype = backend.dtype_name(x)
        h = backend.asarray(h0, copy=True)
        c = None if c0 is None else backend.asarray(c0, copy=True)
        out = backend.empty((rows, h.shape[1]), dtype)
        w_hh_t = backend.permute_dims(w_hh, (1, 0))
        w_hr_t = None if w_hr is None else backend.permute_dims(w_hr, (1, 0))
        tape = LayerTape(backend, rows, _tape_widths(mode, h.shape[1], gates), dtype) \
            if record else None
        for step in steps(batch_sizes, reverse):
            active = (slice(0, step.size), _ALL)
            h_prev = backend.getitem(h, active)
            hidden = backend.matmul(h_prev, w_hh_t)
            x_t = backend.getitem(x, (step.rows, _ALL))
            if tape is not None:
                backend.setitem(tape.h_prev, (step.rows, _ALL), h_prev)
            if mode == "LSTM":
                c_prev = backend.getitem(c, active)
                hidden += x_t
                h_new, c_new, saved = lstm_pointwise(backend, hidden, c_prev)
                if tape is not None:
                    backend.setitem(tape.c_prev, (step.rows, _ALL), c_prev)
                    backend.setitem(tape.activations, (step.rows, _ALL), saved.gates)
                    backend.setitem(tape.extra, (step.rows, _ALL), saved.tanh_cell)
                    if w_hr_t is not None:
                        backend.setitem(tape.unprojected, (step.rows, _ALL), h_new)
                if w_hr_t is not None:
                    h_new = backend.matmul(h_new, w_hr_t)
                backend.setitem(c, active, c_new)
            elif mode == "GRU":
                if b_hh is not None:
                    hidden += b_hh
                h_new, activated = gru_pointwise(backend, x_t, hidden, h_prev)
                if tape is not None:
                    backend.setitem(tape.activations, (step.rows, _ALL), activated)
                    width = h_new.shape[1]
                    backend.setitem(tape.extra, (step.rows, _ALL),
                                    backend.getitem(hidden, (_ALL, slice(2 * width, None))))
            else:
                hidden += x_t
                h_new = elman_pointwise(backend, hidden, ctx.nonlinearity)
                if tape is not None:
                    backend.setitem(tape.activations, (step.rows, _ALL), h_new)
            backend.setitem(out, (step.rows, _ALL), h_new)
            backend.setitem(h, active, h_new)
        if tape is not None:
            ctx.save_for_backward(projection, h0, c0, w_hh, b_hh, w_hr, *tape.arrays())
        ctx.batch_sizes, ctx.reverse = batch_sizes, reverse
        if projection.ndim == 3:
            out = backend.reshape(out, (*projection.shape[:2], out.shape[1]))
        return (out, h) if c is None else (out, h, c)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor | None, ...]:
        inputs = ctx.saved_tensors[:6]
        if is_grad_enabled():  # create_graph: the recorded gradient of the twin
            return recorded_gradients(_LayerTwin(ctx), inputs, ctx.needs_input_grad, grads)
        return _layer_backward(ctx, [None if g is None else g._data for g in grads])


class RnnTanhLayer(RecurrentLayer):
    node_name = "RnnTanhLayerBackward0"
    mode = "RNN"
    nonlinearity = "tanh"


class RnnReluLayer(RecurrentLayer):
    node_name = "RnnReluLayerBackward0"
    mode = "RNN"
    nonlinearity = "relu"


class LstmLayer(RecurrentLayer):
    node_name = "MkldnnRnnLayerBackward0"  # PyTorch's CPU op for one LSTM layer
    mode = "LSTM"


class GruLayer(RecurrentLayer):
    node_name = "GruLayerBackward0"
    mode = "GRU"


LAYERS: dict[str, type[RecurrentLayer]] = {
    "RNN_TANH": RnnTanhLayer, "RNN_RELU": RnnReluLayer, "LSTM": LstmLayer, "GRU": GruLayer,
}


def _tape_widths(mode: str, hidden: int, gates: int) -> dict[str, int]:
    if mode == "LSTM":
        cell = gates // 4
        widths = {"h": hidden, "c": cell, "gates": gates, "extra": cell}
        if hidden != cell:
            widths["projected"] = 1
        return widths
    if mode == "GRU":
        return {"h": hidden, "gates": gates, "extra": gates // 3}
    return {"h": hidden, "gates": hidden}  # the activations are the hidden states


def _layer_backward(ctx: Any, grads: list[Array | None]) -> tuple[Tensor | None, ...]:
    """The fast backward, on arrays: the time loop in reverse, then one GEMM per weight."""
    backend = ctx.backend
    saved: list[Any] = [None if t is None else t._data for t in ctx.saved_tensors]
    projection, _, _, w_hh, _, w_hr = saved[:6]
    tape_h_prev, tape_c_prev, activations, extra, unprojected = saved[6:]
    mode = ctx.mode
    rows, gates = tape_h_prev.shape[0], w_hh.shape[0]
    dtype = backend.dtype_name(w_hh)
    grad_out: Any = grads[0]
    grad_out = backend.reshape(grad_out, (rows, grad_out.shape[-1]))
    grad_h = backend.asarray(grads[1], copy=True)
    grad_c = backend.asarray(grads[2], copy=True) if mode == "LSTM" else None
    grad_x = backend.empty((rows, gates), dtype)
    grad_gates_h = backend.empty((rows, gates), dtype) if mode == "GRU" else grad_x
    grad_projected = backend.empty((rows, w_hr.shape[0]), dtype) if w_hr is not None else None
    for step in steps(ctx.batch_sizes, not ctx.reverse):
        active = (slice(0, step.size), _ALL)
        at = (step.rows, _ALL)
        grad_step = backend.getitem(grad_h, active) + backend.getitem(grad_out, at)
        direct = None
        if mode == "LSTM":
            if grad_projected is not None:
                backend.setitem(grad_projected, at, grad_step)
                grad_step = backend.matmul(grad_step, w_hr)
            grad_x_t, grad_c_prev = lstm_pointwise_backward(
                backend, grad_step, backend.getitem(grad_c, active),
                LSTMActivations(backend.getitem(activations, at), backend.getitem(extra, at)),
                backend.getitem(tape_c_prev, at))
            backend.setitem(grad_c, active, grad_c_prev)
            grad_h_t = grad_x_t
        elif mode == "GRU":
            grad_x_t, grad_h_t, direct = gru_pointwise_backward(
                backend, grad_step, backend.getitem(activations, at),
                backend.getitem(extra, at), backend.getitem(tape_h_prev, at))
            backend.setitem(grad_gates_h, at, grad_h_t)
        else:
            grad_x_t = elman_pointwise_backward(backend, grad_step,
                                                backend.getitem(activations, at),
                                                ctx.nonlinearity)
            grad_h_t = grad_x_t
        backend.setitem(grad_x, at, grad_x_t)
        grad_h_prev = backend.matmul(grad_h_t, w_hh)
        if direct is not None:
            grad_h_prev += direct
        backend.setitem(grad_h, active, grad_h_prev)
    needs = ctx.needs_input_grad
    results: list[Array | None] = [None] * 6
    if needs[0]:
        results[0] = backend.reshape(grad_x, projection.shape)
    if needs[1]:
        results[1] = grad_h
    if needs[2]:
        results[2] = grad_c
    if needs[3]:
        results[3] = backend.matmul(backend.permute_dims(grad_gates_h, (1, 0)), tape_h_prev)
    if needs[4]:
        results[4] = backend.sum(grad_gates_h, axis=0)
    if needs[5]:
        results[5] = backend.matmul(backend.permute_dims(grad_projected, (1, 0)), unprojected)
    return tuple(None if r is None else _wrap(r, backend) for r in results)


class _LayerTwin:
    """The layer in elementary Tensor ops (narrow, cat, matmul and the cells' twins)."""

    def __init__(self, ctx: Any) -> None:
        self.mode = ctx.mode
        self.nonlinearity = getattr(ctx, "nonlinearity", "tanh")
        self.batch_sizes, self.reverse = ctx.batch_sizes, ctx.reverse

    def __call__(self, projection: Tensor, h0: Tensor, c0: Tensor | None, w_hh: Tensor,
                 b_hh: Tensor | None, w_hr: Tensor | None) -> tuple[Tensor, ...]:
        return layer_twin(self.mode, self.nonlinearity, projection, h0, c0, w_hh, b_hh, w_hr,
                          self.batch_sizes, self.reverse)


def layer_twin(mode: str, nonlinearity: str, projection: Tensor, h0: Tensor, c0: Tensor | None,
               w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None,
               batch_sizes: Sequence[int], reverse: bool) -> tuple[Tensor, ...]:
    """RecurrentLayer's function, step by step in elementary Tensor ops."""
    x = projection.reshape(-1, w_hh.shape[0])
    order = steps(batch_sizes, reverse)
    first = order[0].size
    h = h0.narrow(0, 0, first) if first < h0.shape[0] else h0
    c = None if c0 is None else (c0.narrow(0, 0, first) if first < c0.shape[0] else c0)
    finished: list[tuple[Tensor, Tensor | None]] = []
    outputs: dict[int, Tensor] = {}
    for step in order:
        active = h.shape[0]
        if step.size < active:  # forward direction: these sequences have ended
            finished.append((h[step.size:], None if c is None else c[step.size:]))
            h = h[:step.size]
            c = None if c is None else c[:step.size]
        elif step.size > active:  # reverse direction: these sequences start here
            h = cat([h, h0[active:step.size]])
            c = None if c is None else cat([c, c0[active:step.size]])  # type: ignore[index]
        x_t = x[step.rows]
        hidden = h @ w_hh.mT
        if mode == "LSTM":
            h, c = lstm_twin(x_t + hidden, c)  # type: ignore[arg-type]
            if w_hr is not None:
                h = h @ w_hr.mT
        elif mode == "GRU":
            h = gru_twin(x_t, hidden if b_hh is None else hidden + b_hh, h)
        else:
            h = elman_twin(x_t + hidden, nonlinearity)
        outputs[step.rows.start] = h
    out = cat([outputs[start] for start in sorted(outputs)])
    if projection.ndim == 3:
        out = out.reshape(*projection.shape[:2], out.shape[1])
    h_n = cat([h] + [pair[0] for pair in finished[::-1]]) if finished else h
    if c is None:
        return out, h_n
    c_n = cat([c] + [pair[1] for pair in finished[::-1]]) if finished else c  # type: ignore[misc]
    return out, h_n, c_n


# ----------------------------------------------------------------------------- the layers
def recurrent(mode: str, input: Tensor, batch_sizes: Sequence[int] | None,
              hx: Tensor | tuple[Tensor, Tensor], weights: Sequence[Sequence[Tensor | None]],
              num_layers: int, dropout: float, training: bool, bidirectional: bool,
              nonlinearity: str = "tanh") -> tuple[Tensor, Any]:
    """The layers and directions over a time-major (T, B, I) input, or packed (rows, I) data
    with its batch sizes. `weights` holds (W_ih, W_hh, b_ih, b_hh, W_hr) per layer and
    direction (absent ones None); `hx` is h0 (and c0 for LSTM), (layers * directions, B, ·).
    Returns the last layer's output and the final states, stacked as hx is."""
    op = LAYERS["RNN_RELU" if mode == "RNN" and nonlinearity == "relu" else
                "RNN_TANH" if mode == "RNN" else mode]
    h0, c0 = hx if isinstance(hx, tuple) else (hx, None)
    sizes = tuple(batch_sizes) if batch_sizes is not None \
        else (input.shape[1],) * input.shape[0]
    directions = 2 if bidirectional else 1
    record = is_grad_enabled() and (input.requires_grad or h0.requires_grad or (
        c0 is not None and c0.requires_grad) or any(
        w is not None and w.requires_grad for group in weights for w in group))
    layer_input = input
    finals_h: list[Tensor] = []
    finals_c: list[Tensor] = []
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            index = layer * directions + direction
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[index]
            bias = b_ih
            if mode != "GRU" and b_ih is not None and b_hh is not None:
                bias = b_ih + b_hh  # one add here instead of one per step
            projection = linear(layer_input, w_ih, bias)  # type: ignore[arg-type]
            result = op.apply(projection, h0[index], None if c0 is None else c0[index], w_hh,
                              b_hh if mode == "GRU" else None, w_hr, batch_sizes=sizes,
                              reverse=direction == 1, record=record)
            outputs.append(result[0])
            finals_h.append(result[1])
            if c0 is not None:
                finals_c.append(result[2])
        layer_input = outputs[0] if directions == 1 else cat(outputs, -1)
        if dropout > 0 and training and layer < num_layers - 1:
            layer_input = _dropout(layer_input, dropout, True)
    h_n = stack(finals_h)
    return layer_input, h_n if c0 is None else (h_n, stack(finals_c))
