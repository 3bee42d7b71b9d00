"""autodiff.onnx.export of the recurrent modules (nn.RNN, nn.GRU, nn.LSTM and their cells):
ONNX's RNN, GRU and LSTM operators, run in onnxruntime against eager, with layers, directions,
batch_first, given initial states and dynamic batch and sequence axes; what ONNX cannot hold
(proj_size, packed sequences) named. And the rounding divisions, bit for bit."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.onnx import UnsupportedOperatorError

onnxruntime = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def _export(model: Any, args: tuple[Any, ...], **options: Any) -> bytes:
    buffer = io.BytesIO()
    autodiff.onnx.export(model, args, buffer, **options)
    return buffer.getvalue()


def _flat(result: Any) -> list[autodiff.Tensor]:
    if isinstance(result, autodiff.Tensor):
        return [result]
    return [tensor for item in result for tensor in _flat(item)]


def _run(data: bytes, args: tuple[Any, ...]) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    tensors = _flat(args)
    return session.run(None, {item.name: tensor.numpy()
                              for item, tensor in zip(session.get_inputs(), tensors)})


def _check(model: Any, args: tuple[Any, ...], data: bytes | None = None) -> set[str]:
    data = data if data is not None else _export(model, args)
    with autodiff.no_grad():
        expected = _flat(model(*args))
    got = _run(data, args)
    assert len(got) == len(expected)
    for value, reference in zip(got, expected):
        np.testing.assert_allclose(value, reference.numpy(), rtol=1e-5, atol=1e-6)
    return {node.op_type for node in onnx.load_from_string(data).graph.node}


MODULES = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}
OPTIONS = {
    "one_layer": {},
    "two_layers_bidirectional": {"num_layers": 2, "bidirectional": True},
    "batch_first": {"batch_first": True},
    "without_bias": {"bias": False},
}


@pytest.mark.parametrize("options", sorted(OPTIONS))
@pytest.mark.parametrize("mode", sorted(MODULES))
def test_recurrent_module_runs_in_onnxruntime(mode: str, options: str) -> None:
    autodiff.manual_seed(0)
    model = MODULES[mode](4, 3, **OPTIONS[options]).eval()
    x = autodiff.randn(2, 5, 4) if OPTIONS[options].get("batch_first") else \
        autodiff.randn(5, 2, 4)
    assert mode in _check(model, (x,))


def test_rnn_relu_runs_in_onnxruntime() -> None:
    autodiff.manual_seed(0)
    model = nn.RNN(4, 3, nonlinearity="relu", num_layers=2).eval()
    _check(model, (autodiff.randn(5, 2, 4),))


def test_given_initial_states() -> None:
    autodiff.manual_seed(0)
    x = autodiff.randn(5, 2, 4)
    lstm = nn.LSTM(4, 3, num_layers=2, bidirectional=True).eval()
    state = (autodiff.randn(4, 2, 3), autodiff.randn(4, 2, 3))
    _check(lambda inputs, h, c: lstm(inputs, (h, c)), (x, *state))
    gru = nn.GRU(4, 3, bidirectional=True).eval()
    _check(gru, (x, autodiff.randn(2, 2, 3)))


def test_unbatched_input() -> None:
    autodiff.manual_seed(0)
    _check(nn.GRU(4, 3).eval(), (autodiff.randn(5, 4),))


def test_dynamic_batch_and_sequence_axes() -> None:
    autodiff.manual_seed(0)
    model = nn.LSTM(4, 3, num_layers=2).eval()
    data = _export(model, (autodiff.randn(5, 2, 4),),
                   dynamic_axes={"input_0": {0: "steps", 1: "batch"},
                                 "output_0": {0: "steps", 1: "batch"}})
    for shape in ((5, 2, 4), (7, 3, 4), (1, 1, 4)):
        _check(model, (autodiff.randn(*shape),), data)
    gru = nn.GRU(4, 3).eval()  # a given state (an input) follows the batch too
    data = _export(gru, (autodiff.randn(5, 2, 4), autodiff.randn(1, 2, 3)),
                   dynamic_axes={"input_0": {1: "batch"}, "input_1": {1: "batch"},
                                 "output_0": {1: "batch"}, "output_1": {1: "batch"}})
    for batch in (2, 4):
        _check(gru, (autodiff.randn(5, batch, 4), autodiff.randn(1, batch, 3)), data)


@pytest.mark.parametrize("cell", [nn.LSTMCell, nn.GRUCell, nn.RNNCell])
def test_cells_run_in_onnxruntime(cell: Any) -> None:
    autodiff.manual_seed(0)
    model = cell(4, 3).eval()
    _check(model, (autodiff.randn(2, 4),))
    if cell is nn.LSTMCell:
        _check(lambda x, h, c: model(x, (h, c)),
               (autodiff.randn(2, 4), autodiff.randn(2, 3), autodiff.randn(2, 3)))
    else:
        _check(model, (autodiff.randn(2, 4), autodiff.randn(2, 3)))


def test_what_onnx_cannot_hold_is_named() -> None:
    autodiff.manual_seed(0)
    with pytest.raises(UnsupportedOperatorError,
                       match=r"Exporting the operator 'aten::mkldnn_rnn_layer' to ONNX opset "
                             r"version 17 is not supported \(proj_size"):
        _export(nn.LSTM(4, 3, proj_size=2).eval(), (autodiff.randn(5, 2, 4),))
    model = nn.GRU(4, 3).eval()

    def packed(x: autodiff.Tensor) -> autodiff.Tensor:
        sequence = nn.utils.rnn.pack_padded_sequence(x, [5, 3])
        return nn.utils.rnn.pad_packed_sequence(model(sequence)[0])[0]

    with pytest.raises(UnsupportedOperatorError,
                       match="Exporting the operator 'aten::_pack_padded_sequence'"):
        _export(packed, (autodiff.randn(5, 2, 4),))


# ----------------------------------------------------------------------------- divisions
DIVISIONS = {
    "floor_divide": lambda a, b: a // b,
    "div_floor": lambda a, b: autodiff.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda a, b: autodiff.div(a, b, rounding_mode="trunc"),
    "remainder": lambda a, b: a % b,
    "fmod": lambda a, b: autodiff.fmod(a, b),
    "floor_divide_number": lambda a, b: a // 3,
    "remainder_number": lambda a, b: a % -3,
    "number_remainder": lambda a, b: autodiff.remainder(5, b),
}


@pytest.mark.parametrize("name", sorted(DIVISIONS))
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_rounding_divisions_are_exact(name: str, dtype: str) -> None:
    """Every sign combination, quotients that floor(a / b) gets wrong (1 / 0.1), and a zero
    divisor (floating only: integers raise in eager)."""
    if dtype == "float32":
        a = autodiff.tensor([7.0, -7.0, 7.0, -7.0, 1.0, 0.5, -3.3, 5.0, 0.0])
        b = autodiff.tensor([2.0, 2.0, -2.0, -2.0, 0.1, 0.0, 1.1, 0.3, -4.0])
    else:
        a = autodiff.tensor([7, -7, 7, -7, 0, 9, -9])
        b = autodiff.tensor([2, 2, -2, -2, 3, 4, 5])
    function = DIVISIONS[name]
    (got,) = _run(_export(function, (a, b)), (a, b))
    expected = function(a, b).numpy()
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence(batch_first: bool, padding_side: str) -> None:
    from autodiff.nn.utils.rnn import pad_sequence

    def model(a, b, c):
        return pad_sequence([a, b, c], batch_first=batch_first, padding_value=-2.0,
                            padding_side=padding_side)

    autodiff.manual_seed(0)
    args = (autodiff.randn(2, 3), autodiff.randn(4, 3), autodiff.randn(1, 3))
    (got,) = _run(_export(model, args), args)
    np.testing.assert_array_equal(got, model(*args).numpy())
