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

from ..func.pytree import tree_flatten
from ..grad_mode import no_grad
from ..nn.modules.module import Module
from ..op_modes import OpCall, OpMode
from ..tensor import Tensor

# The converter families register themselves in CONVERTERS when imported.
from . import (
    comparison,
    composite,
    division,
    elementwise,
    indexing,
    layers,
    loss,
    normalization,
    pooling,
    products,
    rearrange,
    recurrent,
    reduction,
    selection,
)
from . import shape as _shape
from .convert import CONVERTERS, Unsupported
from .graph import ONNX_TYPES, Graph, Record, UnsupportedOperatorError
from .program import ONNXProgram
from .selection import SIZED_BY_VALUES

__all__ = ["ONNXProgram", "UnsupportedOperatorError", "export"]


def export(model: Any, args: Any = (), f: Any = None, kwargs: dict[str, Any] | None = None,
           export_params: bool = True, verbose: bool | None = None,
           input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
           opset_version: int | None = None,
           dynamic_axes: dict[str, Any] | None = None, *, dynamo: bool = True,
           optimize: bool = True, do_constant_folding: bool = True) -> ONNXProgram | None:
    """Export `model(*args, **kwargs)` as an ONNX graph, written to `f` (a path or binary file
    object) when given. With `dynamo=True` (torch.onnx's default) it returns the graph as an
    `ONNXProgram`; with `dynamo=False` (torch.onnx's TorchScript exporter), None, and `f` is
    required. One exporter serves both: `dynamo` picks only what is returned; `optimize`
    runs `ONNXProgram.optimize`. What the model computes from constants alone is written as a
    constant (`do_constant_folding=True`, torch.onnx's default; False is refused)."""
    import onnx

    if not do_constant_folding:
        raise ValueError("autodiff.onnx.export: do_constant_folding=False is not supported (what "
                         "the model computes from constants alone is always written as a "
                         "constant)")

    if f is None and not dynamo:
        raise ValueError("autodiff.onnx.export: dynamo=False writes the graph to f: give f")

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
        # the same call on the inputs' elements shuffled: what the graph holds as constants
        # must not change with them (`_check_constants`)
        probe: list[Record] = []
        probe_args, probe_kwargs = _shuffled((args, kwargs), arguments)
        held = [*model.parameters(), *model.buffers()] if isinstance(model, Module) else []
        try:
            with no_grad(), _Recorder(probe, None, opset,
                                      known=[*_tensors((probe_args, probe_kwargs)), *held]):
                probe_result = model(*probe_args, **probe_kwargs)
            probed = True
        except Exception:  # (inputs the model cannot take: no check)
            probed = False
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
        records: list[Record] = []
        with no_grad(), _Recorder(records, graph, opset, grown):
            result = model(*args, **kwargs)
    finally:
        for module, mode in training:
            module.training = mode
    results = _tensors(result)
    if probed:
        graph.position = len(records)  # (the outputs, read as one more op)
        for tensor in results:
            graph.value(tensor)  # (an output no op made becomes a constant here)
        ends = (Record("output", "the outputs", tuple(results), {}, ()),
                Record("output", "the outputs", tuple(_tensors(probe_result)), {}, ()))
        _check_constants(graph, [*records, ends[0]], [*probe, ends[1]])
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
    try:
        onnx.checker.check_model(model_proto)
    except onnx.checker.ValidationError as error:
        if opset >= 17:
            raise
        # The converters write opset 17's operators, with earlier forms only for some.
        raise UnsupportedOperatorError(
            f"autodiff.onnx.export: the graph is not valid at opset_version={opset} "
            f"({str(error).splitlines()[0]}): export with opset_version=17 or later"
        ) from error
    if verbose:
        print(onnx.helper.printable_graph(model_proto.graph))
    program = ONNXProgram(model_proto)
    if optimize:
        program.optimize()
    if f is not None:
        onnx.save(program.model_proto, f)
    return program if dynamo else None


class _Recorder(OpMode):
    """Runs each op, then records it (`graph` None) or converts it, pairing it with the same
    op of the grown run."""

    def __init__(self, records: list[Record], graph: Graph | None, opset: int,
                 grown: list[Record] | None = None, known: list[Tensor] | None = None) -> None:
        self.records = records
        self.graph = graph
        # The probe call's inputs, parameters, buffers and op outputs; with `known`, each
        # other Tensor an op reads is copied when first read (`Record.first_read`), before
        # any in-place write can change it, for `_check_constants`.
        self.known = None if known is None else {id(tensor) for tensor in known}
        self.opset = opset
        self.grown = grown

    def apply_op(self, call: OpCall) -> Any:
        first_read = self._first_read(call.args)
        result = call.run()
        func = call.func
        overload = func.name() if func is not None else type(call.ctx)._op_name
        record = Record(type(call.ctx)._op_name, overload, call.args, call.kwargs,
                        tuple(_tensors(result)))
        record.first_read = first_read
        self._convert(record)
        return result

    def _first_read(self, args: tuple[Any, ...]) -> dict[int, Any]:
        """Copies of the Tensors among `args` that no input, parameter, buffer or op made,
        by position, at their first read."""
        if self.known is None:
            return {}
        copies = {}
        for position, item in enumerate(args):
            if isinstance(item, Tensor) and id(item) not in self.known:
                self.known.add(id(item))
                copies[position] = item._backend.to_numpy(item._data).copy()
        return copies

    def computed(self, name: str, operands: tuple[Any, ...], options: dict[str, Any],
                 result: Any) -> None:
        record = Record(name, f"aten::{_ATEN_NAMES.get(name, name)}", operands, options,
                        tuple(_tensors(result)))
        record.first_read = self._first_read(operands)
        graph = self.graph
        # of constants only (a mask the model builds from arange): a constant, as it was
        constant = graph is not None and not any(
            isinstance(item, Tensor) and graph.is_computed(item) for item in operands)
        self._convert(record, write=not constant)

    def _convert(self, record: Record, write: bool = True) -> None:
        """Record the op; with a graph, write it there (its outputs bound to ONNX values)."""
        position = len(self.records)
        self.records.append(record)
        if self.known is not None:
            self.known.update(id(tensor) for tensor in record.outputs)
        graph = self.graph
        if graph is not None:
            graph.position = position
        if graph is None or not write:
            return
        other = None
        if self.grown is not None:
            other = self.grown[position] if position < len(self.grown) else None
            if other is None or other.op != record.op:
                raise UnsupportedOperatorError(
                    "autodiff.onnx.export: the model applies other ops when a dynamic axis "
                    f"has another size (at {record.overload}): it cannot be exported with "
                    "these dynamic_axes")
        converter = CONVERTERS.get(record.op)
        if converter is None:
            raise record.unsupported(self.opset)
        if other is None and record.outputs and record.op not in SIZED_BY_VALUES and all(
                tensor.numel() == 0 for tensor in record.outputs):
            for tensor in record.outputs:  # an empty result: nothing to compute
                graph.bind(tensor, graph.constant(tensor._backend.to_numpy(tensor._data)),
                           computed=False)
            return
        try:
            names = converter(graph, record, other)
        except Unsupported as why:
            raise record.unsupported(self.opset, str(why)) from None
        source = record.args[0] if record.args and isinstance(record.args[0], Tensor) else None
        for tensor, name in zip(record.outputs, names):
            if name is None:
                graph.unavailable(tensor, f"{record.overload}'s output has no ONNX value here")
            else:
                graph.bind(tensor, name, source=source)

    def written(self, tensor: Any, value: Any) -> None:
        if self.graph is not None:
            self.graph.follow(tensor, value)
            if tensor._base is not None:
                _shape.write_through(self.graph, tensor, tensor._base)

    def cond(self, pred: Any, true_fn: Any, false_fn: Any, operands: tuple[Any, ...]) -> Any:
        """Both branches run (so every run records the same ops); with a `pred` computed from
        the inputs, each is written as a subgraph of an If node, whose outputs the taken
        branch's results are bound to. A constant `pred` keeps only its branch's nodes."""
        graph = self.graph
        outer = graph.nodes if graph is not None else []
        branches = []
        for branch in (true_fn, false_fn):
            if graph is not None:
                graph.nodes = []
            result = branch(*operands)
            leaves = list(tree_flatten(result)[0])
            if not all(isinstance(leaf, Tensor) for leaf in leaves):
                raise UnsupportedOperatorError("autodiff.onnx.export: a torch.cond branch "
                                               "returns something other than tensors")
            names = [graph.node("Identity", [graph.value(leaf)]) for leaf in leaves] \
                if graph is not None else []
            branches.append((result, leaves, graph.nodes if graph is not None else [], names))
        taken = branches[0] if bool(pred.item()) else branches[1]
        if graph is None:
            return taken[0]
        graph.nodes = outer
        if not graph.is_computed(pred):
            graph.nodes.extend(taken[2])
            return taken[0]
        if len(branches[0][1]) != len(branches[1][1]):
            raise UnsupportedOperatorError("autodiff.onnx.export: the branches of torch.cond "
                                           "return different numbers of tensors")
        subgraphs = [_subgraph(graph, f"{kind}_branch", nodes, names, leaves)
                     for kind, (_, leaves, nodes, names) in zip(("then", "else"), branches)]
        outputs = graph.node("If", [graph.value(pred)], outputs=len(taken[1]),
                             then_branch=subgraphs[0], else_branch=subgraphs[1])
        outputs = [outputs] if isinstance(outputs, str) else outputs
        for leaf, name in zip(taken[1], outputs):
            graph.bind(leaf, name)
        return taken[0]


def _subgraph(graph: Graph, name: str, nodes: list[Any], outputs: list[str],
              leaves: list[Tensor]) -> Any:
    """A branch's nodes as an ONNX graph of no inputs (it reads the outer graph's values)."""
    helper = graph.onnx.helper
    infos = [helper.make_tensor_value_info(output, ONNX_TYPES[leaf.dtype.name], list(leaf.shape))
             for output, leaf in zip(outputs, leaves)]
    return helper.make_graph(_nodes(graph.onnx, nodes), name, [], infos)


def _nodes(onnx: Any, nodes: list[Any]) -> list[Any]:
    return [onnx.helper.make_node(kind, node_inputs, node_outputs, **attributes)
            for kind, node_inputs, node_outputs, attributes in nodes]


# PyTorch's names of the ops an op mode sees as `computed` where they differ from ours.
_ATEN_NAMES = {"less": "lt", "less_equal": "le", "greater": "gt", "greater_equal": "ge",
               "equal": "eq", "not_equal": "ne"}


def _tensors(obj: Any) -> list[Tensor]:
    if isinstance(obj, Tensor):
        return [obj]
    if type(obj) in (tuple, list) or isinstance(obj, tuple):
        return [tensor for item in obj for tensor in _tensors(item)]
    if type(obj) is dict:
        return [tensor for item in obj.values() for tensor in _tensors(item)]
    return []


def _shuffled(obj: Any, arguments: list[Tensor]) -> Any:
    """The arguments with each one's elements moved one place along (the last to the first),
    each even place's element then repeated in the odd place after it: values the model takes
    as it takes the originals, in another order and another mix (a histogram or a sort of them
    differs too)."""
    shuffled: dict[int, Tensor] = {}
    for tensor in arguments:
        flat = tensor.detach().reshape(-1)
        count = flat.shape[0]
        if count < 2:
            continue
        order = [(position - 1 - position % 2) % count for position in range(count)]
        shuffled[id(tensor)] = flat[order].reshape(tensor.shape)
    return _replaced(obj, shuffled)


def _replaced(item: Any, tensors: dict[int, Tensor]) -> Any:
    if isinstance(item, Tensor):
        return tensors.get(id(item), item)
    if type(item) in (tuple, list):
        return type(item)(_replaced(part, tensors) for part in item)
    if type(item) is dict:
        return {key: _replaced(part, tensors) for key, part in item.items()}
    return item


def _check_constants(graph: Graph, records: list[Record], probe: list[Record]) -> None:
    """Each Tensor or array the graph holds as a constant (one no parameter or buffer holds,
    read by an op or returned) has the same values in the probe call, or it was computed from
    the inputs by something the export does not see: refused, as it would be frozen."""
    for index, (record, other) in enumerate(zip(records, probe)):
        if record.op != other.op:
            return  # (control flow that follows the values: the trace holds for these)
        pairs, copies = [], []
        for position, item in enumerate(record.args):
            if position >= len(other.args) or not isinstance(item, Tensor) \
                    or id(item) not in graph.frozen:
                continue
            read = graph.first_read.get(id(item))
            if read is not None and read[0] != index:
                continue  # (compared where first read)
            if read is not None and position in other.first_read:
                # as both calls first read it: an in-place write may change it after
                copies.append((read[1], other.first_read[position]))
                continue
            pairs.append((item, other.args[position]))
        pairs += [(item, other.kwargs.get(key)) for key, item in record.kwargs.items()
                  if isinstance(item, Tensor) and id(item) in graph.frozen]
        arrays = [(value, second) for key, first in record.kwargs.items()
                  for value, second in _items(first, other.kwargs.get(key))
                  if id(value) in graph.frozen_arrays]
        backend = next((item._backend for item in record.args if isinstance(item, Tensor)),
                       None)
        same = all(_same_values(first, second, backend) for first, second in pairs + arrays)
        if not same or not all(first.shape == second.shape and first.tobytes() ==
                               second.tobytes() for first, second in copies):
            raise UnsupportedOperatorError(
                f"autodiff.onnx.export: an operand of {record.overload} is computed from "
                "the inputs by an operation the export does not see (such as nonzero, "
                "one_hot, searchsorted, bincount or a random draw): it cannot be written "
                "as a constant")


def _items(first: Any, second: Any) -> list[tuple[Any, Any]]:
    """A keyword's value paired with the probe's (item by item in a tuple: an index key)."""
    if type(first) in (tuple, list):
        seconds = list(second) if type(second) in (tuple, list) else []
        seconds += [None] * (len(first) - len(seconds))
        return list(zip(first, seconds))
    return [(first, second)]


def _same_values(first: Any, second: Any, backend: Any) -> bool:
    """Whether two Tensors (or two arrays of `backend`) hold the same elements, bit for bit."""
    if isinstance(first, Tensor) != isinstance(second, Tensor) or second is None:
        return False
    if isinstance(first, Tensor):
        first, second = (item._backend.to_numpy(item._data) for item in (first, second))
    else:
        first, second = backend.to_numpy(first), backend.to_numpy(second)
    return bool(first.shape == second.shape and first.tobytes() == second.tobytes())


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
    nodes = _nodes(onnx, graph.nodes)

    def info(name: str, dtype: str, shape: list[Any]) -> Any:
        if dtype not in ONNX_TYPES:
            raise UnsupportedOperatorError(f"autodiff.onnx.export: {name} is {dtype}, which "
                                           "has no ONNX type here")
        return helper.make_tensor_value_info(name, ONNX_TYPES[dtype], shape)

    onnx_graph = helper.make_graph(nodes, "autodiff", [info(*item) for item in inputs],
                                   [info(*item) for item in outputs], graph.initializers)
    return helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", graph.opset)],
                             producer_name="autodiff")
