"""`save` / `load` of an ExportedProgram: a zip archive (".pt2") holding the program as JSON (its
graph, node by node, each function by the name it is imported by; the graph signature; how the
module is called and what its inputs must be) and the weights, constants and example inputs in
autodiff's own tensor format. Loading imports only the functions the graph names, never the
exported module's class.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import io
import json
import os
import zipfile
from typing import IO, Any

import autodiff
from autodiff.func.pytree import TreeSpec
from autodiff.fx import Graph, GraphModule
from autodiff.fx.node import Node, _get_qualified_name
from autodiff.serialization import load as load_tensors
from autodiff.serialization import save as save_tensors

from .dynamic_shapes import DerivedDim, Dim, DimHint, DimSpec, ValueRanges, int_oo
from .exported_program import ExportedProgram, ModuleCallSignature, Symbol, _Constant
from .graph_signature import (
    ConstantArgument,
    ExportGraphSignature,
    InputKind,
    InputSpec,
    OutputKind,
    OutputSpec,
    TensorArgument,
)

__all__ = ["load", "save"]

FORMAT = "autodiff.export 1"
_ROOT = "archive"


def save(ep: ExportedProgram, f: str | os.PathLike[str] | IO[bytes], *,
         extra_files: dict[str, Any] | None = None,
         opset_version: dict[str, int] | None = None, pickle_protocol: int = 2) -> None:
    """Write `ep` to `f` (a path, conventionally ending in ".pt2", or a writable binary file);
    `extra_files` maps names to strings stored beside it."""
    if not isinstance(ep, ExportedProgram):
        raise TypeError(f"The 'ep' parameter must be an instance of 'ExportedProgram', got "
                        f"'{type(ep).__name__}' instead.")
    for name in _subgraph_names(ep.graph):
        if not isinstance(getattr(ep.graph_module, name), GraphModule):
            raise RuntimeError(
                f"autodiff.export.save: the program calls {getattr(ep.graph_module, name)!r} "
                "as a whole (autodiff traces no further into it), and a module cannot be saved "
                "without its class")
    program = {
        "format": FORMAT,
        "graph": _encode_graph(ep.graph),
        "subgraphs": {name: _encode_graph(ep.graph_module.get_submodule(name).graph)
                      for name in _subgraph_names(ep.graph)},
        "signature": _encode_signature(ep.graph_signature),
        "call": _encode_call(ep.call_signature),
        "range_constraints": [[symbol.name, ranges.lower, _upper(ranges.upper)]
                              for symbol, ranges in ep.range_constraints.items()],
    }
    weights = io.BytesIO()
    save_tensors({"state_dict": ep.state_dict, "constants": ep.constants,
                  "example_inputs": ep.example_inputs}, weights, format="autodiff")
    with zipfile.ZipFile(f, "w") as archive:
        archive.writestr(f"{_ROOT}/program.json", json.dumps(program))
        archive.writestr(f"{_ROOT}/weights.pt", weights.getvalue())
        for name, content in (extra_files or {}).items():
            archive.writestr(f"{_ROOT}/extra/{name}", content)


def load(f: str | os.PathLike[str] | IO[bytes], *, extra_files: dict[str, Any] | None = None,
         expected_opset_version: dict[str, int] | None = None) -> ExportedProgram:
    """Read an ExportedProgram written by `save`; names in `extra_files` get their contents."""
    with zipfile.ZipFile(f, "r") as archive:
        names = set(archive.namelist())
        if f"{_ROOT}/program.json" not in names:
            raise RuntimeError("autodiff.export.load: not an archive written by "
                               "autodiff.export.save (PyTorch's .pt2 files hold ATen graphs, "
                               "which autodiff cannot run)")
        program = json.loads(archive.read(f"{_ROOT}/program.json"))
        weights = load_tensors(io.BytesIO(archive.read(f"{_ROOT}/weights.pt")))
        for name in list(extra_files or {}):
            assert extra_files is not None
            extra_files[name] = archive.read(f"{_ROOT}/extra/{name}").decode()
    if program.get("format") != FORMAT:
        raise RuntimeError(f"autodiff.export.load: unknown format {program.get('format')!r}")
    root = {name: GraphModule({}, _decode_graph(encoded))
            for name, encoded in program["subgraphs"].items()}
    graph = _decode_graph(program["graph"])
    signature = _decode_signature(program["signature"])
    ranges = {Symbol(name): ValueRanges(lower, int_oo if upper is None else upper)
              for name, lower, upper in program["range_constraints"]}
    example_inputs = weights["example_inputs"]
    if example_inputs is not None:
        example_inputs = (tuple(example_inputs[0]), dict(example_inputs[1]))
    ep = ExportedProgram(root, graph, signature, weights["state_dict"], ranges,
                         call_signature=_decode_call(program["call"]),
                         constants=weights["constants"], example_inputs=example_inputs)
    _propagate_values(ep)
    return ep


def _subgraph_names(graph: Graph) -> list[str]:
    return [str(node.target) for node in graph.nodes if node.op == "get_attr"]


def _upper(value: Any) -> int | None:
    return None if value is int_oo else int(value)


# -------------------------------------------------------------------- graphs
def _encode_graph(graph: Graph) -> list[dict[str, Any]]:
    nodes = []
    for node in graph.nodes:
        target = node.target if isinstance(node.target, str) else _function_name(node.target)
        nodes.append({"name": node.name, "op": node.op, "target": target,
                      "args": _encode(node.args), "kwargs": _encode(node.kwargs)})
    return nodes


def _decode_graph(nodes: list[dict[str, Any]]) -> Graph:
    graph = Graph()
    by_name: dict[str, Node] = {}
    for entry in nodes:
        target = entry["target"] if entry["op"] != "call_function" \
            else _resolve(entry["target"])
        node = graph.create_node(entry["op"], target, _decode(entry["args"], by_name),
                                 _decode(entry["kwargs"], by_name), name=entry["name"])
        by_name[entry["name"]] = node
    return graph


def _function_name(function: Any) -> str:
    """A name `_resolve` turns back into `function`: "module:qualname"."""
    candidates = []
    module, qualname = getattr(function, "__module__", None), getattr(function, "__qualname__",
                                                                      None)
    name = getattr(function, "__name__", "")
    if getattr(builtins, name, None) is function:
        candidates.append(f"builtins:{name}")
    if module and qualname:
        candidates.append(f"{module}:{qualname}")
    name = _get_qualified_name(function)  # "torch.relu": autodiff's public name
    if name.startswith("torch."):
        head, _, tail = name.rpartition(".")
        candidates.append(f"{'autodiff' + head[len('torch'):]}:{tail}")
    for candidate in candidates:
        try:
            if _resolve(candidate) is function:
                return candidate
        except (ImportError, AttributeError):
            continue
    raise RuntimeError(f"autodiff.export.save: cannot save a call of {function!r}: it has no "
                       "name it can be imported by")


def _resolve(name: str) -> Any:
    module_name, _, qualname = name.partition(":")
    value: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


_NAMED = {"dtype", "memory_format", "layout"}


def _encode(value: Any) -> Any:
    if isinstance(value, Node):
        return {"node": value.name}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") \
            else {"float": repr(value)}
    if isinstance(value, complex):
        return {"complex": [_encode(value.real), _encode(value.imag)]}
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"tuple": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {"dict": [[_encode(key), _encode(item)] for key, item in value.items()]}
    if isinstance(value, slice):
        return {"slice": [_encode(value.start), _encode(value.stop), _encode(value.step)]}
    if value is ...:
        return {"ellipsis": True}
    if isinstance(value, autodiff.device):
        return {"device": str(value)}
    if type(value).__name__ in _NAMED:
        for name, candidate in vars(autodiff).items():
            if candidate is value:
                return {"autodiff": name}
    raise RuntimeError(f"autodiff.export.save: cannot save the argument {value!r} "
                       f"({type(value).__name__})")


def _decode(value: Any, nodes: dict[str, Node] | None = None) -> Any:
    if isinstance(value, list):
        return [_decode(item, nodes) for item in value]
    if not isinstance(value, dict):
        return value
    (kind, content), = value.items()
    if kind == "node":
        assert nodes is not None
        return nodes[content]
    if kind == "float":
        return float(content)
    if kind == "complex":
        return complex(_decode(content[0]), _decode(content[1]))
    if kind == "tuple":
        return tuple(_decode(item, nodes) for item in content)
    if kind == "dict":
        return {_decode(key, nodes): _decode(item, nodes) for key, item in content}
    if kind == "slice":
        return slice(*(_decode(item, nodes) for item in content))
    if kind == "ellipsis":
        return ...
    if kind == "device":
        return autodiff.device(content)
    if kind == "autodiff":
        return getattr(autodiff, content)
    raise RuntimeError(f"autodiff.export.load: unknown value {value!r}")


# -------------------------------------------------------------------- signatures
def _encode_argument(argument: TensorArgument | ConstantArgument) -> dict[str, Any]:
    if isinstance(argument, TensorArgument):
        return {"tensor": argument.name}
    return {"constant": argument.name, "value": _encode(argument.value)}


def _decode_argument(entry: dict[str, Any]) -> TensorArgument | ConstantArgument:
    if "tensor" in entry:
        return TensorArgument(entry["tensor"])
    return ConstantArgument(entry["constant"], _decode(entry["value"]))


def _encode_signature(signature: ExportGraphSignature) -> dict[str, Any]:
    return {
        "inputs": [{"kind": spec.kind.name, "arg": _encode_argument(spec.arg),
                    "target": spec.target, "persistent": spec.persistent}
                   for spec in signature.input_specs],
        "outputs": [{"kind": spec.kind.name, "arg": _encode_argument(spec.arg),
                     "target": spec.target} for spec in signature.output_specs],
    }


def _decode_signature(entry: dict[str, Any]) -> ExportGraphSignature:
    inputs = [InputSpec(InputKind[spec["kind"]], _decode_argument(spec["arg"]), spec["target"],
                        spec["persistent"]) for spec in entry["inputs"]]
    outputs = [OutputSpec(OutputKind[spec["kind"]], _decode_argument(spec["arg"]),
                          spec["target"]) for spec in entry["outputs"]]
    return ExportGraphSignature(inputs, outputs)


def _encode_spec(spec: TreeSpec) -> Any:
    if spec.kind is None:
        return None
    kind = spec.kind
    name = kind.__name__ if kind in (dict, tuple, list) else \
        f"{kind.__module__}:{kind.__qualname__}"
    return {"kind": name, "keys": [_encode(key) for key in spec.keys],
            "children": [_encode_spec(child) for child in spec.children]}


def _decode_spec(entry: Any) -> TreeSpec:
    if entry is None:
        return TreeSpec()
    name = entry["kind"]
    kind = {"dict": dict, "tuple": tuple, "list": list}.get(name) or _resolve(name)
    return TreeSpec(kind, tuple(_decode(key) for key in entry["keys"]),
                    tuple(_decode_spec(child) for child in entry["children"]))


def _encode_dim(spec: DimSpec) -> dict[str, Any]:
    dim: Any = None
    if isinstance(spec.dim, Dim):
        root = spec.dim.root
        dim = {"name": root.__name__, "min": root.min, "max": _upper(root.max),
               "scale": spec.dim.scale, "offset": spec.dim.offset}
    elif isinstance(spec.dim, DimHint):
        dim = {"hint": spec.dim.kind}
    return {"source": spec.source, "origin": spec.origin, "example": spec.example, "dim": dim,
            "group": spec.group}


def _decode_dim(entry: dict[str, Any]) -> DimSpec:
    dim: Dim | DimHint | None = None
    if entry["dim"] is not None and "hint" in entry["dim"]:
        dim = getattr(Dim, entry["dim"]["hint"])
    elif entry["dim"] is not None:
        dim = Dim(entry["dim"]["name"], min=entry["dim"]["min"], max=entry["dim"]["max"])
        if (entry["dim"]["scale"], entry["dim"]["offset"]) != (1, 0):
            dim = DerivedDim(dim, entry["dim"]["scale"], entry["dim"]["offset"])
    return DimSpec(entry["source"], entry["origin"], entry["example"], dim, entry["group"])


def _encode_call(call: ModuleCallSignature) -> dict[str, Any]:
    parameters = []
    for parameter in call.signature.parameters.values():
        entry: dict[str, Any] = {"name": parameter.name, "kind": int(parameter.kind)}
        if parameter.default is not inspect.Parameter.empty:
            entry["default"] = _encode(parameter.default)
        parameters.append(entry)
    checks = [{"constant": _encode(check.value)} if isinstance(check, _Constant)
              else [_encode_dim(spec) for spec in check] for check in call.input_checks]
    return {"parameters": parameters, "in_spec": _encode_spec(call.in_spec),
            "out_spec": _encode_spec(call.out_spec), "input_names": call.input_names,
            "input_checks": checks}


def _decode_call(entry: dict[str, Any]) -> ModuleCallSignature:
    parameters = [inspect.Parameter(
        parameter["name"], inspect._ParameterKind(parameter["kind"]),
        default=_decode(parameter["default"]) if "default" in parameter
        else inspect.Parameter.empty) for parameter in entry["parameters"]]
    checks = [_Constant(_decode(check["constant"])) if isinstance(check, dict)
              else [_decode_dim(spec) for spec in check] for check in entry["input_checks"]]
    return ModuleCallSignature(inspect.Signature(parameters), _decode_spec(entry["in_spec"]),
                               _decode_spec(entry["out_spec"]), entry["input_names"], checks)


def _propagate_values(ep: ExportedProgram) -> None:
    """Each node's example value again (what printing shows), from the saved example inputs."""
    if ep.example_inputs is None:
        return
    from autodiff.func.pytree import tree_flatten
    from autodiff.grad_mode import no_grad
    from autodiff.random import fork_rng
    call = ep.call_signature
    bound = call.signature.bind(*ep.example_inputs[0], **ep.example_inputs[1])
    leaves, _ = tree_flatten(dict(bound.arguments))
    leaves = [leaf.clone() if isinstance(leaf, autodiff.Tensor) else leaf for leaf in leaves]
    values = iter([*(_lifted(ep, spec.target) for spec in ep.graph_signature.input_specs
                     if spec.kind is not InputKind.USER_INPUT), *leaves])
    try:
        with no_grad(), fork_rng(devices=[]):
            env: dict[Node, Any] = {}
            for node in ep.graph.nodes:
                if node.op == "placeholder":
                    env[node] = next(values)
                elif node.op == "get_attr":
                    env[node] = ep.graph_module.get_submodule(str(node.target))
                elif node.op in ("call_function", "call_method"):
                    args = _substitute(node.args, env)
                    kwargs = _substitute(node.kwargs, env)
                    env[node] = node.target(*args, **kwargs) if node.op == "call_function" \
                        else getattr(args[0], str(node.target))(*args[1:], **kwargs)
                if node in env and isinstance(env[node], autodiff.Tensor):
                    node.meta["val"] = env[node]
    except Exception:
        return  # the values are for printing only


def _lifted(ep: ExportedProgram, target: str | None) -> Any:
    value = ep.state_dict.get(str(target), ep.constants.get(str(target)))
    return value.detach().clone() if isinstance(value, autodiff.Tensor) else value


def _substitute(value: Any, env: dict[Node, Any]) -> Any:
    from autodiff.fx.node import map_arg
    return map_arg(value, lambda node: env[node])
