"""autodiff.onnx.export (torch.onnx.export's shape): the ops a forward call applies, written as an
ONNX graph through the `onnx` package.

The call runs once under an op mode (`op_modes.py`, as PyTorch's exporter traces aten calls)
that hands each op to its converter (`convert.py`'s registry) as it is applied: the argument
Tensors become the graph's inputs, the tensors the ops read that no op made (parameters,
buffers) its initializers, each op one or a few ONNX nodes, the returned Tensors its outputs.
An op with no converter stops the export with torch.onnx's UnsupportedOperatorError naming
it. A Module is exported in eval mode (torch.onnx's default, TrainingMode.EVAL) and put back
as it was.

Dynamic axes: the call runs first on inputs grown by one along each dynamic axis; the sizes an
op is given that differ between the two runs are dynamic, and are written so ONNX infers them
(a Reshape's -1 and 0, an Expand's 1). Python control flow follows the path the traced call
took, as in torch.onnx's tracing export.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..grad_mode import no_grad
from ..nn.modules.module import Module
from ..op_modes import OpCall, OpMode
from ..tensor import Tensor

# The converter families register themselves in CONVERTERS when imported.
from . import (
    composite,
    division,
    elementwise,
    indexing,
    layers,
    loss,
    normalization,
    pooling,
    products,
    recurrent,
    reduction,
)
from . import shape as _shape
from .convert import CONVERTERS, Unsupported
from .graph import ONNX_TYPES, Graph, Record, UnsupportedOperatorError

__all__ = ["UnsupportedOperatorError", "export"]


def export(model: Any, args: Any, f: Any, kwargs: dict[str, Any] | None = None,
           export_params: bool = True, verbose: bool | None = None,
           input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
           opset_version: int | None = None,
           dynamic_axes: dict[str, Any] | None = None) -> None:
    """Export `model(*args, **kwargs)` to the ONNX file (path or binary file object) `f`."""
    import onnx

    if not export_params:
        raise ValueError("autodiff.onnx.export: export_params=False is not supported (the "
                         "parameters are always written as initializers)")
    args = args if isinstance(args, tuple) else (args,)
    kwargs = kwargs or {}
    opset = opset_version or 17
    arguments = _tensors((args, kwargs))
    input_names = list(input_names or [f"input_{i}" for i in range(len(arguments))])
    if len(input_names) != len(arguments):
        raise ValueError(f"autodiff.onnx.export: {len(arguments)} inputs, but "
                         f"{len(input_names)} input_names")
    dynamic = _dynamic(dynamic_axes or {})
    training = [(module, module.training) for module in model.modules()] \
        if isinstance(model, Module) else []
    for module, _ in training:
        module.training = False
    try:
        grown: list[Record] | None = None
        if any(name in dynamic for name in input_names):
            grown = []
            grown_args, grown_kwargs = _grow((args, kwargs), arguments, input_names, dynamic)
            with no_grad(), _Recorder(grown, None, opset):
                model(*grown_args, **grown_kwargs)
        graph = Graph(onnx, opset)
        if isinstance(model, Module):
            for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
                graph.parameter_names[id(tensor)] = name
        inputs = []
        for name, tensor in zip(input_names, arguments):
            graph.bind(tensor, name)
            shape = [dynamic.get(name, {}).get(axis, size)
                     for axis, size in enumerate(tensor.shape)]
            inputs.append((name, tensor.dtype.name, shape))
        with no_grad(), _Recorder([], graph, opset, grown):
            result = model(*args, **kwargs)
    finally:
        for module, mode in training:
            module.training = mode
    results = _tensors(result)
    output_names = list(output_names or [f"output_{i}" for i in range(len(results))])
    if len(output_names) != len(results):
        raise ValueError(f"autodiff.onnx.export: {len(results)} outputs, but "
                         f"{len(output_names)} output_names")
    outputs = []
    for name, tensor in zip(output_names, results):
        graph.nodes.append(("Identity", [graph.value(tensor)], [name], {}))
        shape = [dynamic.get(name, {}).get(axis, size) for axis, size in enumerate(tensor.shape)]
        outputs.append((name, tensor.dtype.name, shape))
    model_proto = _build(onnx, graph, inputs, outputs)
    onnx.checker.check_model(model_proto)
    if verbose:
        print(onnx.helper.printable_graph(model_proto.graph))
    onnx.save(model_proto, f)


class _Recorder(OpMode):
    """Runs each op, then records it (`graph` None) or converts it, pairing it with the same
    op of the grown run."""

    def __init__(self, records: list[Record], graph: Graph | None, opset: int,
                 grown: list[Record] | None = None) -> None:
        self.records = records
        self.graph = graph
        self.opset = opset
        self.grown = grown

    def apply_op(self, call: OpCall) -> Any:
        result = call.run()
        func = call.func
        overload = func.name() if func is not None else type(call.ctx).__name__
        record = Record(type(call.ctx).__name__, overload, call.args, call.kwargs,
                        tuple(_tensors(result)))
        position = len(self.records)
        self.records.append(record)
        graph = self.graph
        if graph is None:
            return result
        other = None
        if self.grown is not None:
            other = self.grown[position] if position < len(self.grown) else None
            if other is None or other.op != record.op:
                raise UnsupportedOperatorError(
                    "autodiff.onnx.export: the model applies other ops when a dynamic axis "
                    f"has another size (at {overload}): it cannot be exported with these "
                    "dynamic_axes")
        converter = CONVERTERS.get(record.op)
        if converter is None:
            raise record.unsupported(self.opset)
        if other is None and record.outputs and all(
                tensor.numel() == 0 for tensor in record.outputs):
            for tensor in record.outputs:  # an empty result: nothing to compute
                graph.bind(tensor, graph.constant(tensor._backend.to_numpy(tensor._data)),
                           computed=False)
            return result
        try:
            names = converter(graph, record, other)
        except Unsupported as why:
            raise record.unsupported(self.opset, str(why)) from None
        for tensor, name in zip(record.outputs, names):
            if name is None:
                graph.unavailable(tensor, f"{overload}'s output has no ONNX value here")
            else:
                graph.bind(tensor, name)
        return result


    def written(self, tensor: Any, value: Any) -> None:
        if self.graph is not None:
            self.graph.follow(tensor, value)


def _tensors(obj: Any) -> list[Tensor]:
    if isinstance(obj, Tensor):
        return [obj]
    if type(obj) in (tuple, list) or isinstance(obj, tuple):
        return [tensor for item in obj for tensor in _tensors(item)]
    if type(obj) is dict:
        return [tensor for item in obj.values() for tensor in _tensors(item)]
    return []


def _grow(obj: Any, arguments: list[Tensor], names: list[str],
          dynamic: dict[str, dict[int, str]]) -> Any:
    """The arguments with each dynamic axis one longer (its first slice repeated)."""
    from ..ops.joining import cat

    grown: dict[int, Tensor] = {}
    for name, tensor in zip(names, arguments):
        value = tensor.detach()
        for axis in dynamic.get(name, {}):
            value = cat([value, value.narrow(axis, 0, 1)], axis)
        grown[id(tensor)] = value

    def rebuild(item: Any) -> Any:
        if isinstance(item, Tensor):
            return grown.get(id(item), item)
        if type(item) in (tuple, list):
            return type(item)(rebuild(part) for part in item)
        if type(item) is dict:
            return {key: rebuild(part) for key, part in item.items()}
        return item

    return rebuild(obj)


def _dynamic(axes: dict[str, Any]) -> dict[str, dict[int, str]]:
    """dynamic_axes as {name: {axis: label}} (a list of axes gets generated labels)."""
    out: dict[str, dict[int, str]] = {}
    for name, value in axes.items():
        if isinstance(value, dict):
            out[name] = {int(axis): str(label) for axis, label in value.items()}
        else:
            out[name] = {int(axis): f"{name}_dynamic_axes_{i + 1}"
                         for i, axis in enumerate(value)}
    return out


def _build(onnx: Any, graph: Graph, inputs: list[Any], outputs: list[Any]) -> Any:
    helper = onnx.helper
    nodes = [helper.make_node(kind, node_inputs, node_outputs, **attributes)
             for kind, node_inputs, node_outputs, attributes in graph.nodes]

    def info(name: str, dtype: str, shape: list[Any]) -> Any:
        if dtype not in ONNX_TYPES:
            raise UnsupportedOperatorError(f"autodiff.onnx.export: {name} is {dtype}, which "
                                           "has no ONNX type here")
        return helper.make_tensor_value_info(name, ONNX_TYPES[dtype], shape)

    onnx_graph = helper.make_graph(nodes, "autodiff", [info(*item) for item in inputs],
                                   [info(*item) for item in outputs], graph.initializers)
    return helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", graph.opset)],
                             producer_name="autodiff")
