"""autodiff.onnx.export (torch.onnx.export's shape): the program `autodiff.compile` captures of
a forward call, written as an ONNX graph through the `onnx` package.

The argument Tensors become the graph's inputs, the state the call reads (parameters, buffers)
its initializers, each step one ONNX node (`ops.py` says which), the returned Tensors its
outputs. A step with no ONNX equivalent is an error naming it. Guards of the trace (values
Python read) are not exported: the graph follows the path the traced call took.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..compiler import guards
from ..compiler.compiled import CompiledFunction, _Result
from ..grad_mode import no_grad
from ..tensor import Tensor
from .ops import GraphBuilder

__all__ = ["export"]


def export(model: Any, args: Any, f: Any, kwargs: dict[str, Any] | None = None,
           export_params: bool = True, verbose: bool | None = None,
           input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
           opset_version: int | None = None,
           dynamic_axes: dict[str, Any] | None = None) -> None:
    """Export `model(*args)` to the ONNX file (path or binary file object) `f`."""
    import onnx

    if not export_params:
        raise ValueError("autodiff.onnx.export: export_params=False is not supported (the "
                         "parameters are always written as initializers)")
    args = args if isinstance(args, tuple) else (args,)
    kwargs = kwargs or {}
    compiled = CompiledFunction(model, fullgraph=True,
                                options={"constant_folding": False,
                                         "dead_code_elimination": True,
                                         "buffer_planning": False})
    with no_grad():
        compiled(*args, **kwargs)
    (entry,) = compiled.cache.values()
    program = entry.program
    if program is None:
        raise RuntimeError(f"autodiff.onnx.export: the model cannot be captured ({entry.reason})")
    arguments: list[Tensor] = []
    guards.arguments_key(args, kwargs, arguments)
    everything = [*arguments, *entry.state]
    results = _flatten(entry.result)
    input_names = list(input_names or [f"input_{i}" for i in range(len(arguments))])
    output_names = list(output_names or [f"output_{i}" for i in range(len(results))])
    if len(input_names) != len(arguments) or len(output_names) != len(results):
        raise ValueError(f"autodiff.onnx.export: {len(arguments)} inputs and {len(results)} "
                         f"outputs, but {len(input_names)} input_names and "
                         f"{len(output_names)} output_names")
    builder = GraphBuilder(program, opset_version or 17)
    dynamic = _dynamic(dynamic_axes or {})
    for source, vid in zip(entry.inputs, program.inputs):
        tensor = everything[source.index]
        if source.grad:
            continue
        if source.index < len(arguments):
            builder.graph_input(vid, input_names[source.index], tensor,
                                dynamic.get(input_names[source.index], {}))
        else:
            builder.initializer(vid, tensor._backend.to_numpy(tensor._data))
    for step in program.steps:
        builder.step(step)
    for name, result in zip(output_names, results):
        if not isinstance(result, _Result):
            raise RuntimeError("autodiff.onnx.export: only returned Tensors computed by the "
                               "model can be outputs")
        builder.graph_output(program.outputs[result.position], name, dynamic.get(name, {}))
    model_proto = builder.build(onnx)
    onnx.checker.check_model(model_proto)
    if verbose:
        print(onnx.helper.printable_graph(model_proto.graph))
    onnx.save(model_proto, f)


def _flatten(shape: Any) -> list[Any]:
    if type(shape) in (tuple, list):
        return [item for part in shape for item in _flatten(part)]
    return [shape]


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
