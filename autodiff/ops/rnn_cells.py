"""One recurrent step, as PyTorch's `_VF.rnn_tanh_cell` / `rnn_relu_cell` / `lstm_cell` /
`gru_cell` (what nn.RNNCell, LSTMCell and GRUCell call).

The gates are two linear layers (input and hidden, each one GEMM with its bias). The LSTM and
GRU gate arithmetic is then one op each, on arrays (`_rnn_pointwise`), with PyTorch's node names
for it (`ThnnFusedLstmCellBackward0`, `ThnnFusedGruCellBackward0`); under create_graph their
backward is the recorded gradient of the elementary-op twin. The Elman cell is composed, as in
PyTorch (tanh or relu of the sum).
"""

from __future__ import annotations

from typing import Any

from ..autocast_state import autocast_op
from ..function import Function
from ..grad_mode import is_grad_enabled
from ..jvp_rules import jvp_from_backward
from ..tensor import Tensor, _wrap
from ._checks import scalar_type_name
from ._recorded import recorded_gradients
from ._rnn_pointwise import (
    LSTMActivations,
    gru_pointwise,
    gru_pointwise_backward,
    gru_twin,
    lstm_pointwise,
    lstm_pointwise_backward,
    lstm_twin,
)
from .activation import relu
from .linear import linear
from .unary import tanh


def _both(backend: Any, grad: Any, needs: tuple[bool, ...]) -> tuple[Any, Any]:
    """The same gradient for the input and the hidden gates; a copy for the second, so two
    leaves never share one `.grad` buffer."""
    first = _wrap(grad, backend) if needs[0] else None
    second = None
    if needs[1]:
        second = _wrap(backend.asarray(grad, copy=True) if needs[0] else grad, backend)
    return first, second


class ThnnFusedLstmCell(Function):
    """(hy, cy) from the input gates, the hidden gates and cx."""

    node_name = "ThnnFusedLstmCellBackward0"

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, input_gates: Any, hidden_gates: Any, cx: Any) -> tuple[Any, Any]:
        backend = ctx.backend
        hy, cy, saved = lstm_pointwise(backend, backend.add(input_gates, hidden_gates), cx)
        ctx.save_for_backward(input_gates, hidden_gates, cx, saved.gates, saved.tanh_cell)
        return hy, cy

    @staticmethod
    def backward(ctx: Any, grad_hy: Tensor, grad_cy: Tensor) -> tuple[Tensor | None, ...]:
        input_gates, hidden_gates, cx, gates, tanh_cell = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if is_grad_enabled():
            return recorded_gradients(lambda i, h, c: lstm_twin(i + h, c),
                                      (input_gates, hidden_gates, cx), needs, (grad_hy, grad_cy))
        backend = ctx.backend
        grad_gates, grad_cx = lstm_pointwise_backward(
            backend, grad_hy._data, grad_cy._data,
            LSTMActivations(gates._data, tanh_cell._data), cx._data)
        grad_input, grad_hidden = _both(backend, grad_gates, needs)
        return grad_input, grad_hidden, (_wrap(grad_cx, backend) if needs[2] else None)


class ThnnFusedGruCell(Function):
    """hy from the input gates, the hidden gates and hx."""

    node_name = "ThnnFusedGruCellBackward0"

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, input_gates: Any, hidden_gates: Any, hx: Any) -> Any:
        hy, activated = gru_pointwise(ctx.backend, input_gates, hidden_gates, hx)
        ctx.save_for_backward(input_gates, hidden_gates, hx, activated)
        return hy

    @staticmethod
    def backward(ctx: Any, grad_hy: Tensor) -> tuple[Tensor | None, ...]:
        input_gates, hidden_gates, hx, activated = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if is_grad_enabled():
            return recorded_gradients(lambda i, h, x: (gru_twin(i, h, x),),
                                      (input_gates, hidden_gates, hx), needs, (grad_hy,))
        backend = ctx.backend
        width = hx.shape[-1]
        hidden_n = backend.getitem(hidden_gates._data, (slice(None), slice(2 * width, None)))
        grad_input, grad_hidden, grad_hx = gru_pointwise_backward(
            backend, grad_hy._data, activated._data, hidden_n, hx._data)
        input_result = _wrap(grad_input, backend) if needs[0] else None
        hidden_result = _wrap(grad_hidden, backend) if needs[1] else None
        return input_result, hidden_result, (_wrap(grad_hx, backend) if needs[2] else None)


# ----------------------------------------------------------------------------- public functions
def _check_cell(input: Tensor, hidden: Tensor, w_ih: Tensor, w_hh: Tensor,
                hidden_index: int = 0) -> None:
    """PyTorch's check_rnn_cell_forward_input / _hidden, and its GEMM's dtype check."""
    if input.shape[1] != w_ih.shape[1]:
        raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected "
                           f"{w_ih.shape[1]}")
    if input.shape[0] != hidden.shape[0]:
        raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden"
                           f"{hidden_index} batch size {hidden.shape[0]}")
    if hidden.shape[1] != w_hh.shape[1]:
        raise RuntimeError(f"hidden{hidden_index} has inconsistent hidden_size: got "
                           f"{hidden.shape[1]}, expected {w_hh.shape[1]}")
    if input.dtype is not w_ih.dtype:
        raise RuntimeError("mat1 and mat2 must have the same dtype, but got "
                           f"{scalar_type_name(input)} and {scalar_type_name(w_ih)}")


@autocast_op("lstm_cell")
def lstm_cell(input: Tensor, hx: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step on a (B, I) input: (hy, cy)."""
    _check_cell(input, hx[0], w_ih, w_hh, 0)
    _check_cell(input, hx[1], w_ih, w_hh, 1)
    return ThnnFusedLstmCell.apply(linear(input, w_ih, b_ih), linear(hx[0], w_hh, b_hh), hx[1])


@autocast_op("gru_cell")
def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One GRU step on a (B, I) input."""
    _check_cell(input, hx, w_ih, w_hh)
    return ThnnFusedGruCell.apply(linear(input, w_ih, b_ih), linear(hx, w_hh, b_hh), hx)


@autocast_op("rnn_tanh_cell")
def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """tanh(input @ W_ih^T + b_ih + hx @ W_hh^T + b_hh)."""
    _check_cell(input, hx, w_ih, w_hh)
    return tanh(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))


@autocast_op("rnn_relu_cell")
def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """relu(input @ W_ih^T + b_ih + hx @ W_hh^T + b_hh)."""
    _check_cell(input, hx, w_ih, w_hh)
    return relu(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))
