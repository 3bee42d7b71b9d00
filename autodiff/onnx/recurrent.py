"""ONNX forms of the recurrent ops: each layer (one direction over the whole sequence) as ONNX's
RNN, GRU or LSTM operator, and the LSTM and GRU cells' gate arithmetic as elementwise nodes.

A layer's op receives the input projection of every step already made (x W_ih^T + b_ih, plus
b_hh for RNN and LSTM): it is the ONNX operator's X, its gate blocks put in ONNX's order (LSTM
i, o, f, c from PyTorch's i, f, g, o; GRU z, r, h from r, z, n), W the identity and R the hidden
weights in that order. GRU's n gate, tanh(x_n + r * (W_hn h + b_hn)), is ONNX's
linear_before_reset=1 with b_hn among R's biases.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .convert import Unsupported, converts, dtype_of, onnx_type, operand, output
from .graph import Graph, Record

# PyTorch's gate block for each of ONNX's, in ONNX's order.
_ONNX_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN": (0,)}
_MODES = {"RnnTanhLayer": ("RNN", "Tanh"), "RnnReluLayer": ("RNN", "Relu"),
          "LstmLayer": ("LSTM", None), "GruLayer": ("GRU", None)}


def _gates(g: Graph, value: str, width: int, axis: int, order: tuple[int, ...]) -> str:
    """The gate blocks (each `width` long along `axis`) of `value`, in `order`."""
    if len(order) == 1:
        return value
    blocks = g.node("Split", [value, g.ints([width] * len(order))], outputs=len(order),
                    axis=axis)
    return g.node("Concat", [blocks[index] for index in order], axis=axis)


@converts(*_MODES)
def _layer(g: Graph, record: Record, other: Record | None) -> list[Any]:
    projection, h0, c0, w_hh, b_hh, w_hr = record.args
    mode, activation = _MODES[record.op]
    if projection.ndim != 3:
        raise Unsupported("a packed sequence")
    if w_hr is not None:
        raise Unsupported("proj_size: ONNX's LSTM has no projection")
    dtype = dtype_of(output(record))
    order = _ONNX_ORDER[mode]
    gates, hidden = int(w_hh.shape[0]), int(w_hh.shape[1])
    x = _gates(g, operand(g, projection, dtype), hidden, 2, order)
    square = g.node("ConstantOfShape", [g.ints([gates, gates])],
                    value=g.onnx.helper.make_tensor("value", onnx_type(dtype), [1], [0]))
    w = g.node("Unsqueeze", [g.node("EyeLike", [square]), g.ints([0])])
    r = g.node("Unsqueeze", [_gates(g, operand(g, w_hh, dtype), hidden, 0, order),
                             g.ints([0])])
    bias = ""
    if b_hh is not None:  # GRU's b_hh (the others' is in the projection)
        recurrent_bias = _gates(g, operand(g, b_hh, dtype), hidden, 0, order)
        zeros = g.node("Sub", [recurrent_bias, recurrent_bias])
        bias = g.node("Unsqueeze", [g.node("Concat", [zeros, recurrent_bias], axis=0),
                                    g.ints([0])])
    grown = other.args if other is not None else (None,) * 6
    inputs = [x, w, r, bias, "", _initial_state(g, h0, grown[1], dtype)]
    attributes: dict[str, Any] = {
        "hidden_size": hidden,
        "direction": "reverse" if record.kwargs["reverse"] else "forward"}
    if mode == "RNN":
        attributes["activations"] = [activation]
    elif mode == "GRU":
        attributes["linear_before_reset"] = 1
    else:
        inputs.append(_initial_state(g, c0, grown[2], dtype))
    count = 3 if mode == "LSTM" else 2
    outs = g.node(mode, inputs, outputs=count, **attributes)
    results = [g.node("Squeeze", [outs[0], g.ints([1])])]
    results += [g.node("Squeeze", [state, g.ints([0])]) for state in outs[1:]]
    return results


def _initial_state(g: Graph, state: Tensor, grown: Tensor | None, dtype: str) -> str:
    """The layer's initial state, one direction of one. Zeros the module made for a batch
    size that is dynamic (no state given) are left to ONNX's default, zeros of the batch's
    size; a state of a fixed size read under a dynamic batch is refused."""
    value = operand(g, state, dtype)
    if grown is not None and grown.shape != state.shape and _constant(g, value):
        backend = state._backend
        if backend.any_true(backend.not_equal(state._data, 0)):
            raise Unsupported("an initial state of fixed size under a dynamic batch")
        return ""
    return g.node("Unsqueeze", [value, g.ints([0])])


def _constant(g: Graph, name: str) -> bool:
    """Whether a value is computed from initializers alone (no graph input reaches it)."""
    made = {output: inputs for _, inputs, outputs, _ in g.nodes for output in outputs}
    stored = {initializer.name for initializer in g.initializers}
    pending, seen = [name], set()
    while pending:
        current = pending.pop()
        if current in seen or current in stored or not current:
            continue
        seen.add(current)
        if current not in made:
            return False  # a graph input
        pending.extend(made[current])
    return True


def _blocks(g: Graph, value: str, count: int, width: int) -> list[str]:
    return list(g.node("Split", [value, g.ints([width] * count)], outputs=count, axis=-1))


@converts("ThnnFusedLstmCell")
def _lstm_cell(g: Graph, record: Record, other: Record | None) -> list[Any]:
    input_gates, hidden_gates, cx = record.args
    dtype = dtype_of(output(record))
    width = int(cx.shape[-1])
    gates = g.node("Add", [operand(g, input_gates, dtype), operand(g, hidden_gates, dtype)])
    i, f, cell, o = _blocks(g, gates, 4, width)
    cy = g.node("Add", [g.node("Mul", [g.node("Sigmoid", [f]), operand(g, cx, dtype)]),
                        g.node("Mul", [g.node("Sigmoid", [i]), g.node("Tanh", [cell])])])
    return [g.node("Mul", [g.node("Sigmoid", [o]), g.node("Tanh", [cy])]), cy]


@converts("ThnnFusedGruCell")
def _gru_cell(g: Graph, record: Record, other: Record | None) -> list[Any]:
    input_gates, hidden_gates, hx = record.args
    dtype = dtype_of(output(record))
    width = int(hx.shape[-1])
    x_r, x_z, x_n = _blocks(g, operand(g, input_gates, dtype), 3, width)
    h_r, h_z, h_n = _blocks(g, operand(g, hidden_gates, dtype), 3, width)
    r = g.node("Sigmoid", [g.node("Add", [x_r, h_r])])
    z = g.node("Sigmoid", [g.node("Add", [x_z, h_z])])
    n = g.node("Tanh", [g.node("Add", [x_n, g.node("Mul", [r, h_n])])])
    hx_value = operand(g, hx, dtype)
    return [g.node("Add", [n, g.node("Mul", [z, g.node("Sub", [hx_value, n])])])]
