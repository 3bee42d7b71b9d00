"""The pointwise part of a recurrent step, on backend arrays: the gate arithmetic of LSTM
(gates i, f, g, o), GRU (r, z, n) and the Elman RNN (tanh or relu), forward and backward.

Both the whole-layer op (`ops/rnn.py`) and the fused cells (`ops/rnn_cells.py`) run
these; their twins in elementary Tensor ops (`lstm_twin`, `gru_twin`, `elman_twin`) define the
same functions for double backward and for tests. Gate layouts are PyTorch's, so its weights
load unchanged.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .activation import relu, sigmoid
from .unary import tanh

Array = Any


def _block(backend: Any, array: Array, index: int, width: int) -> Array:
    """Gate block `index` (columns index*width .. (index+1)*width) of a (rows, k*width) array."""
    return backend.getitem(array, (slice(None), slice(index * width, (index + 1) * width)))


# ----------------------------------------------------------------------------- LSTM
class LSTMActivations:
    """What an LSTM step keeps for its backward: the activated gates (i, f, g, o side by side)
    and tanh of the new cell state."""

    __slots__ = ("gates", "tanh_cell")

    def __init__(self, gates: Array, tanh_cell: Array) -> None:
        self.gates = gates
        self.tanh_cell = tanh_cell


def lstm_pointwise(backend: Any, gates: Array, cx: Array
                   ) -> tuple[Array, Array, LSTMActivations]:
    """hy = o * tanh(cy), cy = f * cx + i * g, from the pre-activation gates (rows, 4H)."""
    width = cx.shape[-1]
    activated = backend.sigmoid(gates)
    backend.setitem(activated, (slice(None), slice(2 * width, 3 * width)),
                    backend.tanh(_block(backend, gates, 2, width)))
    i, f, g, o = (_block(backend, activated, index, width) for index in range(4))
    cy = f * cx
    cy += i * g
    tanh_cell = backend.tanh(cy)
    return o * tanh_cell, cy, LSTMActivations(activated, tanh_cell)


def lstm_pointwise_backward(backend: Any, grad_hy: Array, grad_cy: Array,
                            saved: LSTMActivations, cx: Array) -> tuple[Array, Array]:
    """Gradients of the pre-activation gates and of cx."""
    width = cx.shape[-1]
    i, f, g, o = (_block(backend, saved.gates, index, width) for index in range(4))
    tanh_cell = saved.tanh_cell
    grad_o = grad_hy * tanh_cell
    grad_cell = grad_hy * o
    grad_cell *= 1 - tanh_cell * tanh_cell
    grad_cell += grad_cy
    grad_i = grad_cell * g
    grad_i *= i * (1 - i)
    grad_f = grad_cell * cx
    grad_f *= f * (1 - f)
    grad_g = grad_cell * i
    grad_g *= 1 - g * g
    grad_o *= o * (1 - o)
    grad_gates = backend.concat([grad_i, grad_f, grad_g, grad_o], axis=1)
    return grad_gates, grad_cell * f


def lstm_twin(gates: Tensor, cx: Tensor) -> tuple[Tensor, Tensor]:
    """lstm_pointwise in elementary Tensor ops."""
    i, f, g, o = gates.chunk(4, 1)
    cy = sigmoid(f) * cx + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(cy), cy


# ----------------------------------------------------------------------------- GRU
def gru_pointwise(backend: Any, input_gates: Array, hidden_gates: Array, hx: Array
                  ) -> tuple[Array, Array]:
    """hy = n + z * (hx - n), r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r * h_n).
    Returns hy and the activations (r, z, n side by side) for the backward."""
    width = hx.shape[-1]
    activated = backend.sigmoid(input_gates + hidden_gates)
    r = _block(backend, activated, 0, width)
    z = _block(backend, activated, 1, width)
    n = r * _block(backend, hidden_gates, 2, width)
    n += _block(backend, input_gates, 2, width)
    n = backend.tanh(n)
    backend.setitem(activated, (slice(None), slice(2 * width, 3 * width)), n)
    hy = hx - n
    hy *= z
    hy += n
    return hy, activated


def gru_pointwise_backward(backend: Any, grad_hy: Array, activated: Array,
                           hidden_n: Array, hx: Array) -> tuple[Array, Array, Array]:
    """Gradients of the input gates, of the hidden gates, and of hx through the z * hx term
    (the part through the hidden gates is the caller's GEMM)."""
    width = hx.shape[-1]
    r, z, n = (_block(backend, activated, index, width) for index in range(3))
    grad_n = grad_hy * (1 - z)
    grad_n *= 1 - n * n
    grad_z = grad_hy * (hx - n)
    grad_z *= z * (1 - z)
    grad_r = grad_n * hidden_n
    grad_r *= r * (1 - r)
    grad_input = backend.concat([grad_r, grad_z, grad_n], axis=1)
    grad_hidden = backend.concat([grad_r, grad_z, grad_n * r], axis=1)
    return grad_input, grad_hidden, grad_hy * z


def gru_twin(input_gates: Tensor, hidden_gates: Tensor, hx: Tensor) -> Tensor:
    """gru_pointwise in elementary Tensor ops."""
    x_r, x_z, x_n = input_gates.chunk(3, 1)
    h_r, h_z, h_n = hidden_gates.chunk(3, 1)
    r = sigmoid(x_r + h_r)
    z = sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    return n + z * (hx - n)


# ----------------------------------------------------------------------------- Elman RNN
def elman_pointwise(backend: Any, gates: Array, nonlinearity: str) -> Array:
    if nonlinearity == "tanh":
        return backend.tanh(gates)
    return backend.maximum(gates, 0)


def elman_pointwise_backward(backend: Any, grad_hy: Array, hy: Array,
                             nonlinearity: str) -> Array:
    if nonlinearity == "tanh":
        return grad_hy * (1 - hy * hy)
    return backend.where(hy > 0, grad_hy, 0)  # relu's gradient at 0 is 0, as PyTorch's


def elman_twin(gates: Tensor, nonlinearity: str) -> Tensor:
    return tanh(gates) if nonlinearity == "tanh" else relu(gates)
