"""`torch.ao.nn.quantized.dynamic`'s recurrent layers: LSTM and GRU, and the LSTMCell, GRUCell
and RNNCell cells, whose gate projections are dynamic quantized linears (`_packed.py`).

The layers run ATen's quantized RNN loop: each layer's input projection is computed once for
the whole sequence (one activation scale for all steps, as PyTorch's CPU path does), the hidden
projection once per step; both carry their bias inside the packed weight. Layers and cells
quantize activations to half the quint8 range (fbgemm's reduce_range), as PyTorch's kernels
do."""

from __future__ import annotations

import contextlib
import numbers
from typing import Any

from ..... import dtypes
from .....creation import randn, zeros
from .....grad_mode import no_grad
from .....nn import functional as F
from .....nn.modules.container import ModuleList
from .....nn.modules.module import Module
from .....nn.modules.rnn import GRU as FloatGRU
from .....nn.modules.rnn import LSTM as FloatLSTM
from .....nn.modules.rnn import GRUCell as FloatGRUCell
from .....nn.modules.rnn import LSTMCell as FloatLSTMCell
from .....nn.modules.rnn import RNNCell as FloatRNNCell
from .....nn.utils.rnn import PackedSequence
from .....ops.joining import cat, stack
from .....quantized_tensor import quantize_per_tensor
from .....tensor import Tensor
from .._packed import PackedLinearWeight, not_differentiable
from .linear import quantize_weight

_SUPPORTED = (dtypes.qint8, dtypes.float16)


class CellParams:
    """One layer and direction's packed weights (PyTorch's `CellParamsBase` for dynamic
    quantization): the input and hidden projections, biases inside."""

    __slots__ = ("packed_hh", "packed_ih", "reduce_range")

    def __init__(self, packed_ih: PackedLinearWeight, packed_hh: PackedLinearWeight,
                 reduce_range: bool) -> None:
        self.packed_ih = packed_ih
        self.packed_hh = packed_hh
        self.reduce_range = reduce_range

    def linear_ih(self, input: Tensor) -> Tensor:
        return self.packed_ih.apply_dynamic(input, self.reduce_range)

    def linear_hh(self, hidden: Tensor) -> Tensor:
        return self.packed_hh.apply_dynamic(hidden, self.reduce_range)

    def __getstate__(self) -> tuple[Any, ...]:
        return self.packed_ih, self.packed_hh, self.reduce_range

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.packed_ih, self.packed_hh, self.reduce_range = state


def _pack(weight: Tensor, bias: Tensor | None, dtype: Any) -> PackedLinearWeight:
    return PackedLinearWeight(weight, bias, dtype)


def _observe_and_quantize(weight: Tensor, factory: Any, dtype: Any) -> Tensor:
    if dtype is not dtypes.qint8:
        return weight.float()
    observer = factory()
    observer(weight)
    return quantize_weight(weight.float(), observer)


def _lstm_step(params: CellParams, projected: Tensor, hidden: tuple[Tensor, Tensor]
               ) -> tuple[Tensor, Tensor]:
    h, c = hidden
    gates = params.linear_hh(h) + projected
    ingate, forgetgate, cellgate, outgate = gates.chunk(4, 1)
    cy = forgetgate.sigmoid() * c + ingate.sigmoid() * cellgate.tanh()
    return outgate.sigmoid() * cy.tanh(), cy


def _gru_step(params: CellParams, projected: Tensor, h: Tensor) -> Tensor:
    reset_i, input_i, new_i = projected.chunk(3, 1)
    reset_h, input_h, new_h = params.linear_hh(h).chunk(3, 1)
    reset_gate = (reset_h + reset_i).sigmoid()
    input_gate = (input_h + input_i).sigmoid()
    new_gate = (new_i + new_h * reset_gate).tanh()
    return (h - new_gate) * input_gate + new_gate


class PackedParameter(Module):
    """Holds one CellParams; saved in a state dict as `<prefix>param`."""

    def __init__(self, param: CellParams) -> None:
        super().__init__()
        self.param = param

    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str,
                            keep_vars: bool) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "param"] = self.param

    def _other_state_loaders(self) -> dict[str, Any]:
        def load_param(param: CellParams) -> None:
            if not isinstance(param, CellParams):
                raise TypeError(f"expected the packed weights of a dynamic quantized RNN "
                                f"layer, got {type(param).__name__}")
            self.param = param

        return {"param": load_param}


class RNNBase(Module):
    """What the dynamic quantized LSTM and GRU share: arguments, packed weights, checks, repr."""

    _version = 2

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, dtype: Any = dtypes.qint8) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.dtype = dtype
        self.version = 2
        num_directions = 2 if bidirectional else 1
        if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1
                or isinstance(dropout, bool)):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if mode == "LSTM":
            gate_size = 4 * hidden_size
        elif mode == "GRU":
            gate_size = 3 * hidden_size
        else:
            raise ValueError("Unrecognized RNN mode: " + mode)
        weights = []
        for layer in range(num_layers):
            for _ in range(num_directions):
                layer_input_size = input_size if layer == 0 else hidden_size * num_directions
                # Placeholder weights, drawn as PyTorch draws them (the random stream stays
                # PyTorch's); from_float replaces them.
                w_ih = randn(gate_size, layer_input_size)
                w_hh = randn(gate_size, hidden_size)
                b_ih = randn(gate_size)
                b_hh = randn(gate_size)
                if dtype is dtypes.qint8:
                    w_ih = quantize_per_tensor(w_ih, 0.1, 0, dtypes.qint8)
                    w_hh = quantize_per_tensor(w_hh, 0.1, 0, dtypes.qint8)
                params = CellParams(_pack(w_ih, b_ih, dtype), _pack(w_hh, b_hh, dtype),
                                    reduce_range=dtype is dtypes.qint8)
                weights.append(PackedParameter(params))
        self._all_weight_values = ModuleList(weights)

    def _get_name(self) -> str:
        return "DynamicQuantizedRNN"

    def extra_repr(self) -> str:
        text = "{input_size}, {hidden_size}"
        if self.num_layers != 1:
            text += ", num_layers={num_layers}"
        if self.bias is not True:
            text += ", bias={bias}"
        if self.batch_first is not False:
            text += ", batch_first={batch_first}"
        if self.dropout != 0:
            text += ", dropout={dropout}"
        if self.bidirectional is not False:
            text += ", bidirectional={bidirectional}"
        return text.format(**self.__dict__)

    def __repr__(self) -> str:
        # The packed weights are not shown (PyTorch hides its ModuleList of them).
        return f"{self._get_name()}({self.extra_repr()})"

    def check_input(self, input: Tensor, batch_sizes: Any) -> None:
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(
                f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Any) -> tuple[int, int, int]:
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_hidden_size(self, hx: Tensor, expected: tuple[int, int, int],
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != expected:
            raise RuntimeError(msg.format(expected, list(hx.size())))

    def _weight_bias(self) -> dict[str, dict[str, Any]]:
        """The weights and biases by PyTorch's float names (weight_ih_l0, ...)."""
        weights: dict[str, Any] = {}
        biases: dict[str, Any] = {}
        num_directions = 2 if self.bidirectional else 1
        for index, packed in enumerate(self._all_weight_values):
            layer, direction = divmod(index, num_directions)
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            params = packed.param
            weights["weight_ih" + suffix], biases["bias_ih" + suffix] = params.packed_ih.unpack()
            weights["weight_hh" + suffix], biases["bias_hh" + suffix] = params.packed_hh.unpack()
        return {"weight": weights, "bias": biases}

    def get_weight(self) -> dict[str, Any]:
        return self._weight_bias()["weight"]

    def get_bias(self) -> dict[str, Any]:
        return self._weight_bias()["bias"]

    def _run(self, input: Tensor, hx: Any, step: Any, lstm: bool) -> tuple[Tensor, Any]:
        """ATen's quantized RNN over a (seq, batch, features) input; hx stacked per layer and
        direction (a pair of stacks for the LSTM)."""
        if self.batch_first:
            input = input.transpose(0, 1)
        num_directions = 2 if self.bidirectional else 1
        cells = [packed.param for packed in self._all_weight_values]
        final_h, final_c = [], []
        layer_input = input
        with _graph_for(self.dtype):
            for layer in range(self.num_layers):
                outputs = []
                for direction in range(num_directions):
                    index = layer * num_directions + direction
                    params = cells[index]
                    state: Any = (hx[0][index], hx[1][index]) if lstm else hx[index]
                    projected = params.linear_ih(layer_input)  # the whole sequence at once
                    steps = range(projected.shape[0])
                    results: list[Tensor] = []
                    for t in (reversed(steps) if direction else steps):
                        state = step(params, projected[t], state)
                        results.append(state[0] if lstm else state)
                    if direction:
                        results.reverse()
                    outputs.append(stack(results))
                    final_h.append(state[0] if lstm else state)
                    if lstm:
                        final_c.append(state[1])
                layer_input = outputs[0] if num_directions == 1 else cat(outputs, -1)
                if self.dropout and self.training and layer < self.num_layers - 1:
                    layer_input = F.dropout(layer_input, self.dropout, True)
        output = layer_input.transpose(0, 1) if self.batch_first else layer_input
        hidden: Any = (stack(final_h), stack(final_c)) if lstm else stack(final_h)
        return output, hidden

    def _zeros(self, input: Tensor) -> Tensor:
        num_directions = 2 if self.bidirectional else 1
        batch = input.size(0) if self.batch_first else input.size(1)
        return zeros(self.num_layers * num_directions, batch, self.hidden_size,
                     dtype=input.dtype, device=input.device)

    @classmethod
    def from_float(cls, mod: Module, use_precomputed_fake_quant: bool = False) -> RNNBase:
        if type(mod) not in (FloatLSTM, FloatGRU):
            raise AssertionError("nn.quantized.dynamic.RNNBase.from_float only works for "
                                 "nn.LSTM and nn.GRU")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        qconfig = mod.qconfig
        factory = (qconfig.weight if qconfig is not None and qconfig.weight is not None
                   else _default_weight_factory())
        dtype = factory().dtype
        if dtype not in _SUPPORTED:
            raise RuntimeError(f"Unsupported dtype for dynamic RNN quantization: {dtype}")
        if mod.proj_size:
            raise NotImplementedError("dynamic quantization of an LSTM with proj_size > 0 is "
                                      "not supported")
        if not mod.bias:
            raise AssertionError("dynamic quantization needs an RNN with bias=True")
        quantized_cls = LSTM if mod.mode == "LSTM" else GRU
        quantized = quantized_cls(mod.input_size, mod.hidden_size, mod.num_layers, mod.bias,
                                  mod.batch_first, mod.dropout, mod.bidirectional, dtype)
        num_directions = 2 if mod.bidirectional else 1
        weights = []
        for layer in range(quantized.num_layers):
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                packed = [
                    _pack(_observe_and_quantize(getattr(mod, f"weight_{kind}{suffix}"), factory,
                                                dtype),
                          getattr(mod, f"bias_{kind}{suffix}"), dtype)
                    for kind in ("ih", "hh")]
                weights.append(PackedParameter(CellParams(
                    packed[0], packed[1], reduce_range=dtype is dtypes.qint8)))
        quantized._all_weight_values = ModuleList(weights)
        return quantized


def _default_weight_factory() -> Any:
    from ....quantization.qconfig import default_dynamic_qconfig

    return default_dynamic_qconfig.weight


def _graph_for(dtype: Any) -> Any:
    """How the gate arithmetic is recorded: not at all with qint8 weights (PyTorch's quantized
    RNN ops have no autograd kernel), as ordinary ops with float16 ones (whose biases are added
    in the graph)."""
    return no_grad() if dtype is dtypes.qint8 else contextlib.nullcontext()


def _marked(output: Tensor, input: Tensor, operator: str, dtype: Any) -> Tensor:
    if dtype is not dtypes.qint8:
        return output
    return not_differentiable(output, input, operator)


def _refuse_packed(input: Any) -> None:
    if isinstance(input, PackedSequence):
        raise NotImplementedError("autodiff's dynamic quantized RNNs take padded tensors; a "
                                  "PackedSequence input is not supported")


class LSTM(RNNBase):
    """The dynamic quantized LSTM (gates i, f, g, o)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def _get_name(self) -> str:
        return "DynamicQuantizedLSTM"

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        _refuse_packed(input)
        if hx is None:
            zero = self._zeros(input)
            hx = (zero, zero)
        self.check_input(input, None)
        expected = self.get_expected_hidden_size(input, None)
        self.check_hidden_size(hx[0], expected, "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hx[1], expected, "Expected hidden[1] size {}, got {}")
        output, (h, c) = self._run(input, hx, _lstm_step, lstm=True)
        operator = "aten::quantized_lstm"
        return (_marked(output, input, operator, self.dtype),
                (_marked(h, input, operator, self.dtype), _marked(c, input, operator, self.dtype)))


class GRU(RNNBase):
    """The dynamic quantized GRU (gates r, z, n)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("GRU", *args, **kwargs)

    def _get_name(self) -> str:
        return "DynamicQuantizedGRU"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        _refuse_packed(input)
        if hx is None:
            hx = self._zeros(input)
        self.check_input(input, None)
        self.check_hidden_size(hx, self.get_expected_hidden_size(input, None))
        output, h = self._run(input, hx, _gru_step, lstm=False)
        operator = "aten::quantized_gru"
        return (_marked(output, input, operator, self.dtype),
                _marked(h, input, operator, self.dtype))


# ----------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """What the dynamic quantized cells share: packed input and hidden projections (biases
    inside), argument checks, repr."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 num_chunks: int = 4, dtype: Any = dtypes.qint8) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_dtype = dtype
        # Placeholders drawn as PyTorch draws them; from_float replaces the packed weights.
        weight_ih = randn(num_chunks * hidden_size, input_size)
        weight_hh = randn(num_chunks * hidden_size, hidden_size)
        self.bias_ih = randn(num_chunks * hidden_size) if bias else None
        self.bias_hh = randn(num_chunks * hidden_size) if bias else None
        if dtype is dtypes.qint8:
            weight_ih = quantize_per_tensor(weight_ih, 1.0, 0, dtypes.qint8)
            weight_hh = quantize_per_tensor(weight_hh, 1.0, 0, dtypes.qint8)
        self._packed_weight_ih = _pack(weight_ih, self.bias_ih, dtype)
        self._packed_weight_hh = _pack(weight_hh, self.bias_hh, dtype)

    def _get_name(self) -> str:
        return "DynamicQuantizedRNNBase"

    def extra_repr(self) -> str:
        text = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            text += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            text += ", nonlinearity={nonlinearity}"
        return text.format(**self.__dict__)

    def check_forward_input(self, input: Tensor) -> None:
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)}, "
                               f"expected {self.input_size}")

    def check_forward_hidden(self, input: Tensor, hx: Tensor, hidden_label: str = "") -> None:
        if input.size(0) != hx.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match "
                               f"hidden{hidden_label} batch size {hx.size(0)}")
        if hx.size(1) != self.hidden_size:
            raise RuntimeError(f"hidden{hidden_label} has inconsistent hidden_size: got "
                               f"{hx.size(1)}, expected {self.hidden_size}")

    def _params(self) -> CellParams:
        return CellParams(self._packed_weight_ih, self._packed_weight_hh, reduce_range=True)

    def _zeros(self, input: Tensor) -> Tensor:
        return zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)

    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str,
                            keep_vars: bool) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "_packed_weight_ih"] = self._packed_weight_ih
        destination[prefix + "_packed_weight_hh"] = self._packed_weight_hh

    def _other_state_loaders(self) -> dict[str, Any]:
        def loader(name: str) -> Any:
            def load(packed: PackedLinearWeight) -> None:
                if not isinstance(packed, PackedLinearWeight):
                    raise TypeError(f"expected the packed weights of a dynamic quantized cell, "
                                    f"got {type(packed).__name__}")
                setattr(self, name, packed)
            return load

        return {name: loader(name) for name in ("_packed_weight_ih", "_packed_weight_hh")}

    def _weight_bias(self) -> dict[str, dict[str, Any]]:
        weight_ih, bias_ih = self._packed_weight_ih.unpack()
        weight_hh, bias_hh = self._packed_weight_hh.unpack()
        return {"weight": {"weight_ih": weight_ih, "weight_hh": weight_hh},
                "bias": {"bias_ih": bias_ih, "bias_hh": bias_hh}}

    def get_weight(self) -> dict[str, Any]:
        return self._weight_bias()["weight"]

    def get_bias(self) -> dict[str, Any]:
        return self._weight_bias()["bias"]

    @classmethod
    def from_float(cls, mod: Module, use_precomputed_fake_quant: bool = False) -> RNNCellBase:
        if type(mod) not in (FloatLSTMCell, FloatGRUCell, FloatRNNCell):
            raise AssertionError("nn.quantized.dynamic.RNNCellBase.from_float only works for "
                                 "nn.LSTMCell, nn.GRUCell and nn.RNNCell")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        qconfig = mod.qconfig
        factory = (qconfig.weight if qconfig is not None and qconfig.weight is not None
                   else _default_weight_factory())
        dtype = factory().dtype
        if dtype not in _SUPPORTED:
            raise RuntimeError(f"Unsupported dtype for dynamic RNN quantization: {dtype}")
        cell: RNNCellBase
        if type(mod) is FloatLSTMCell:
            cell = LSTMCell(mod.input_size, mod.hidden_size, bias=mod.bias, dtype=dtype)
        elif type(mod) is FloatGRUCell:
            cell = GRUCell(mod.input_size, mod.hidden_size, bias=mod.bias, dtype=dtype)
        else:
            cell = RNNCell(mod.input_size, mod.hidden_size, bias=mod.bias,
                           nonlinearity=mod.nonlinearity, dtype=dtype)
        if not mod.bias:
            raise AssertionError("dynamic quantization needs a cell with bias=True")
        cell._packed_weight_ih = _pack(_observe_and_quantize(mod.weight_ih, factory, dtype),
                                       mod.bias_ih, dtype)
        cell._packed_weight_hh = _pack(_observe_and_quantize(mod.weight_hh, factory, dtype),
                                       mod.bias_hh, dtype)
        return cell


class LSTMCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = dtypes.qint8) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, dtype=dtype)

    def _get_name(self) -> str:
        return "DynamicQuantizedLSTMCell"

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        self.check_forward_input(input)
        if hx is None:
            zero = self._zeros(input)
            hx = (zero, zero)
        self.check_forward_hidden(input, hx[0], "[0]")
        self.check_forward_hidden(input, hx[1], "[1]")
        params = self._params()
        with _graph_for(self.weight_dtype):
            h, c = _lstm_step(params, params.linear_ih(input), hx)
        operator = "quantized::quantized_lstm_cell_dynamic"
        return (_marked(h, input, operator, self.weight_dtype),
                _marked(c, input, operator, self.weight_dtype))


class GRUCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = dtypes.qint8) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype)

    def _get_name(self) -> str:
        return "DynamicQuantizedGRUCell"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self.check_forward_input(input)
        if hx is None:
            hx = self._zeros(input)
        self.check_forward_hidden(input, hx, "")
        params = self._params()
        with _graph_for(self.weight_dtype):
            h = _gru_step(params, params.linear_ih(input), hx)
        return _marked(h, input, "quantized::quantized_gru_cell_dynamic", self.weight_dtype)


class RNNCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype: Any = dtypes.qint8) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def _get_name(self) -> str:
        return "DynamicQuantizedRNNCell"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self.check_forward_input(input)
        if hx is None:
            hx = self._zeros(input)
        self.check_forward_hidden(input, hx, "")
        params = self._params()
        with _graph_for(self.weight_dtype):
            pre = params.linear_hh(hx) + params.linear_ih(input)
            if self.nonlinearity == "tanh":
                h = pre.tanh()
            elif self.nonlinearity == "relu":
                h = pre.relu()
            else:
                raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        operator = f"quantized::quantized_rnn_{self.nonlinearity}_cell_dynamic"
        return _marked(h, input, operator, self.weight_dtype)

