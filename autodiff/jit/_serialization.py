"""torch.jit.save / torch.jit.load: a zip archive that rebuilds a module without its class.

    archive/version          the format
    archive/model.json       the module tree: each module's original name, training flag,
                             tensors' names, children, and the graph of each of its methods
                             (nodes with their targets by import path, arguments as JSON)
    archive/data.pt          the tensors (autodiff.save of {dotted name: tensor})
    archive/code/<path>.py   each module's methods' generated code, for reading
    archive/pickled/<n>.pkl  a scripted module or function autodiff.fx cannot trace (control
                             flow on tensor values), pickled: loading it needs its class
    archive/extra/<name>     `_extra_files`

`load` builds RecursiveScriptModules whose methods are the graphs' generated code (traced
and fx-traceable scripted modules), so it needs none of the original Python classes.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import os
import pickle
import zipfile
from typing import Any

from autodiff.nn import Module, Parameter
from autodiff.tensor import Tensor

from ._module import RecursiveScriptModule, ScriptFunction, ScriptModule

__all__ = ["load", "save"]

_FORMAT = "autodiff.jit 2"  # (1: one graph per module, "graph")
_ROOT = "archive"
# Where a saved graph's call targets may be imported from on load.
_TARGET_MODULES = ("autodiff", "operator", "_operator", "builtins", "math")


# ----------------------------------------------------------------------------- targets
def _target_path(function: Any) -> str:
    from autodiff.torch_function import exported_path

    exported = exported_path(function)
    if exported is not None:
        path = f"{exported[0]}:{exported[1]}"
    else:
        path = f"{getattr(function, '__module__', None)}:{getattr(function, '__qualname__', '')}"
    try:
        found = _resolve(path)
    except (ImportError, AttributeError, RuntimeError):
        found = None
    if found is not function:
        raise RuntimeError(f"autodiff.jit.save: cannot save a call to {function!r}: only "
                           f"autodiff's functions and Python's operators can be saved")
    return path


def _resolve(path: str) -> Any:
    module_name, _, qualname = path.partition(":")
    if module_name.split(".")[0] not in _TARGET_MODULES:
        raise RuntimeError(f"autodiff.jit.load: the archive calls {path}, which is not a "
                           f"function of autodiff or Python's operators")
    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _namespace_constants() -> dict[int, str]:
    import autodiff
    from autodiff.dtypes import dtype
    from autodiff.layouts import layout, memory_format

    return {id(value): name for name, value in vars(autodiff).items()
            if isinstance(value, (dtype, layout, memory_format))}


# ----------------------------------------------------------------------------- arguments
def _encode(value: Any, constants: dict[int, str]) -> Any:
    from autodiff.fx import Node
    from backends import Device

    if isinstance(value, Node):
        return {"node": value.name}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"float": repr(value)} if not math.isfinite(value) else value
    if isinstance(value, complex):
        return {"complex": [value.real, value.imag]}
    if isinstance(value, (list, tuple)):
        items = [_encode(item, constants) for item in value]
        return items if isinstance(value, list) else {"tuple": items}
    if isinstance(value, dict):
        return {"dict": [[_encode(k, constants), _encode(v, constants)]
                         for k, v in value.items()]}
    if isinstance(value, slice):
        return {"slice": [_encode(v, constants) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"ellipsis": True}
    if isinstance(value, Device):
        return {"device": str(value)}
    if id(value) in constants:
        return {"autodiff": constants[id(value)]}
    raise RuntimeError(f"autodiff.jit.save: cannot save the argument {value!r} of type "
                       f"{type(value).__name__}")


def _decode(value: Any, nodes: dict[str, Any]) -> Any:
    import autodiff

    if isinstance(value, list):
        return [_decode(item, nodes) for item in value]
    if not isinstance(value, dict):
        return value
    ((kind, content),) = value.items()
    if kind == "node":
        return nodes[content]
    if kind == "float":
        return float(content)
    if kind == "complex":
        return complex(*content)
    if kind == "tuple":
        return tuple(_decode(item, nodes) for item in content)
    if kind == "dict":
        return {_decode(k, nodes): _decode(v, nodes) for k, v in content}
    if kind == "slice":
        return slice(*(_decode(item, nodes) for item in content))
    if kind == "ellipsis":
        return Ellipsis
    if kind == "device":
        return autodiff.device(content)
    if kind == "autodiff":
        return getattr(autodiff, content)
    raise RuntimeError(f"autodiff.jit.load: unknown argument kind {kind!r} in the archive")


def _encode_graph(graph: Any) -> list[dict[str, Any]]:
    constants = _namespace_constants()
    records = []
    for node in graph.nodes:
        target = _target_path(node.target) if node.op == "call_function" else node.target
        records.append({"op": node.op, "name": node.name, "target": target,
                        "args": _encode(tuple(node.args), constants),
                        "kwargs": _encode(dict(node.kwargs), constants)})
    return records


def _decode_graph(records: list[dict[str, Any]]) -> Any:
    from autodiff.fx import Graph

    graph = Graph()
    nodes: dict[str, Any] = {}
    for record in records:
        target = record["target"]
        if record["op"] == "call_function":
            target = _resolve(target)
        args = _decode(record["args"], nodes)
        kwargs = _decode(record["kwargs"], nodes)
        if record["op"] == "output":
            nodes[record["name"]] = graph.output(args[0])
        else:
            nodes[record["name"]] = graph.create_node(record["op"], target, args, kwargs,
                                                      name=record["name"])
    return graph


# ----------------------------------------------------------------------------- save
class _Writer:
    def __init__(self) -> None:
        self.tensors: dict[str, Tensor] = {}
        self.names: dict[int, str] = {}
        self.aliases: dict[str, str] = {}
        self.code: dict[str, str] = {}
        self.pickled: list[bytes] = []

    def tensor(self, name: str, tensor: Tensor) -> None:
        first = self.names.get(id(tensor))
        if first is not None:
            self.aliases[name] = first
        else:
            self.names[id(tensor)] = name
            self.tensors[name] = tensor.detach()

    def pickle(self, obj: Any, name: str) -> int:
        buffer = io.BytesIO()
        try:
            _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
        except (pickle.PicklingError, AttributeError, TypeError) as error:
            raise RuntimeError(
                f"autodiff.jit.save: '{name}' has no graph to save (autodiff.fx cannot trace "
                f"it), so it is pickled by reference to its class, and pickling failed: "
                f"{error}") from error
        self.pickled.append(buffer.getvalue())
        return len(self.pickled) - 1

    def module(self, module: Module, path: str) -> dict[str, Any]:
        prefix = f"{path}." if path else ""
        entry: dict[str, Any] = {"original_name": getattr(module, "original_name",
                                                          type(module).__name__),
                                 "training": module.training}
        graphs: dict[str, Any] = {}
        constants: dict[str, Any] = {}
        if isinstance(module, RecursiveScriptModule):
            graphs = {name: compiled.graph
                      for name, compiled in module.__dict__.get("_graph_methods", {}).items()}
            constants = {name: value for name, value in vars(module).items()
                         if isinstance(value, Tensor)}
        elif isinstance(module, ScriptModule):  # scripted, or a ScriptModule subclass
            from ._module import fx_graph_of
            from ._script import ExportRefused, refusing_ignored_calls, saved_methods

            try:
                with refusing_ignored_calls():
                    for name in saved_methods(module):
                        graphs[name] = fx_graph_of(module, name)
            except ExportRefused:
                raise
            except RuntimeError:
                entry["pickled"] = self.pickle(module, entry["original_name"])
                return entry
            # (fx keeps the tensors it makes constants on the module it traces)
            constants = {name: value for name, value in vars(module).items()
                         if isinstance(value, Tensor)}
        else:  # autodiff's own module, kept whole by a trace
            entry["pickled"] = self.pickle(module, entry["original_name"])
            entry["scripted"] = False
            return entry
        entry["parameters"] = {}
        for name, parameter in module._parameters.items():
            if parameter is not None:
                entry["parameters"][name] = parameter.requires_grad
                self.tensor(prefix + name, parameter)
        non_persistent: set[str] = getattr(module, "_non_persistent_buffers_set", set())
        entry["buffers"] = {}
        for name, buffer in module._buffers.items():
            if buffer is not None:
                entry["buffers"][name] = name not in non_persistent
                self.tensor(prefix + name, buffer)
        entry["constants"] = []
        for name, value in constants.items():
            if not isinstance(value, Tensor):
                raise RuntimeError(f"autodiff.jit.save: cannot save the constant {name} of "
                                   f"type {type(value).__name__}")
            entry["constants"].append(name)
            self.tensor(prefix + name, value)
        entry["attributes"] = _attributes(module)
        entry["constant_names"] = sorted(module.__dict__.get("_constant_names", ()))
        entry["attribute_types"] = {
            name: kind for name, kind in module.__dict__.get("_attribute_types", {}).items()
            if name in entry["attributes"] or name in constants}
        entry["children"] = {name: None if child is None else self.module(child, prefix + name)
                             for name, child in module._modules.items()}
        from ._module import compile_graph

        entry["methods"] = {name: _encode_graph(graph) for name, graph in graphs.items()}
        if graphs:
            self.code[path or "__torch__"] = "\n".join(
                compile_graph(graph, name)[1] for name, graph in graphs.items())
        return entry

    def function(self, function: ScriptFunction) -> dict[str, Any]:
        entry: dict[str, Any] = {"function": function.name}
        compiled = function._graph_forward
        if compiled is None:
            from ._script import ExportRefused, refusing_ignored_calls

            try:
                with refusing_ignored_calls():
                    graph, constants = _fx_trace(function._function)
            except ExportRefused:
                raise
            except RuntimeError:
                entry["pickled"] = self.pickle(function._function, function.name)
                return entry
        else:
            graph = compiled.graph
            constants = {name: value for name, value in vars(function._constants).items()
                         if name.startswith("_tensor_constant")}
        entry["constants"] = list(constants)
        for name, value in constants.items():
            self.tensor(name, value)
        entry["graph"] = _encode_graph(graph)
        from ._module import compile_graph

        self.code["__torch__"] = compile_graph(graph)[1]
        return entry


# What every module (or autodiff.jit) keeps in its __dict__: not the user's attributes.
_MODULE_STATE = frozenset({*vars(Module()), "_original_name", "_graph_methods", "_code",
                           "_graph", "_frozen", "_constant_names",
                           "_dropped_methods", "_attribute_types"})


def _attributes(module: Module) -> dict[str, Any]:
    """A module's plain attributes that JSON can hold (numbers, strings, None, dtypes,
    devices and containers of them), encoded; PyTorch keeps every attribute of a type
    TorchScript knows. Tensors are saved as constants; other values are left out."""
    constants = _namespace_constants()
    attributes = {}
    for name, value in vars(module).items():
        if name in _MODULE_STATE or isinstance(value, (Tensor, Module)):
            continue
        try:
            attributes[name] = _encode(value, constants)
        except RuntimeError:
            continue
    return attributes


def _fx_trace(obj: Any) -> tuple[Any, dict[str, Any]]:
    """A scripted module's or function's graph as autodiff.fx traces it, with the constants
    fx put on its GraphModule."""
    from autodiff.fx import symbolic_trace

    try:
        traced = symbolic_trace(obj)
    except Exception as error:
        raise RuntimeError(str(error)) from error
    constants = {node.target: getattr(traced, node.target) for node in traced.graph.nodes
                 if node.op == "get_attr" and "." not in node.target
                 and node.target.startswith("_tensor_constant")}
    return traced.graph, constants


class _Pickler(pickle.Pickler):
    """Pickles a scripted module or function that autodiff.fx cannot trace: a scripted
    module as an instance of its own class (scripted again on load), a graph-made module
    inside it as an archive of its own."""

    def reducer_override(self, obj: Any) -> Any:
        from ._script import _ScriptedModule

        if isinstance(obj, _ScriptedModule):
            return _script_again, (_plain_copy(obj),)
        if isinstance(obj, RecursiveScriptModule):
            buffer = io.BytesIO()
            save(obj, buffer)
            return _load_bytes, (buffer.getvalue(),)
        if isinstance(obj, ScriptModule):  # a subclass of the user's: its class and state
            return _with_state, (type(obj), dict(obj.__dict__))
        return NotImplemented


def _script_again(module: Module) -> ScriptModule:
    from ._script import script

    scripted: ScriptModule = script(module)
    return scripted


def _with_state(cls: type[Module], state: dict[str, Any]) -> Module:
    module = cls.__new__(cls)
    module.__dict__.update(state)
    return module


def _load_bytes(data: bytes) -> Any:
    return load(io.BytesIO(data))


def _plain_copy(module: ScriptModule) -> Module:
    """A scripted module as an instance of its own class again, its submodules as they are."""
    from ._script import original_class

    cls = original_class(module)
    assert cls is not None
    plain = cls.__new__(cls)
    state = dict(module.__dict__)
    state.pop("_original_name", None)
    plain.__dict__.update(state)
    return plain


def save(m: Any, f: Any, _extra_files: dict[str, Any] | None = None) -> None:
    """Write a ScriptModule or ScriptFunction to `f` (a path or a writable binary file) as a
    zip archive `load` reads back without the original classes (torch.jit.save)."""
    writer = _Writer()
    if isinstance(m, ScriptFunction):
        tree = writer.function(m)
    elif isinstance(m, ScriptModule) and "_frozen_inner" in m.__dict__:
        # (a frozen module: the module inside it, and what it shows of it)
        tree = writer.module(m.__dict__["_frozen_inner"], "")
        tree["frozen_preserved"] = sorted(m.__dict__["_frozen_preserved"])
    elif isinstance(m, ScriptModule):
        tree = writer.module(m, "")
    else:
        raise AttributeError(f"'{type(m).__name__}' object has no attribute 'save'")
    tree["aliases"] = writer.aliases
    from autodiff.serialization import save as save_object

    tensors = io.BytesIO()
    save_object(writer.tensors, tensors, format="autodiff")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:
            _write(file, tree, tensors.getvalue(), writer, _extra_files)
    else:
        _write(f, tree, tensors.getvalue(), writer, _extra_files)


def _write(file: Any, tree: dict[str, Any], tensors: bytes, writer: _Writer,
           extra_files: dict[str, Any] | None) -> None:
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{_ROOT}/version", _FORMAT)
        archive.writestr(f"{_ROOT}/model.json", json.dumps(tree, indent=1))
        archive.writestr(f"{_ROOT}/data.pt", tensors)
        for path, code in writer.code.items():
            archive.writestr(f"{_ROOT}/code/{path}.py", code)
        for index, data in enumerate(writer.pickled):
            archive.writestr(f"{_ROOT}/pickled/{index}.pkl", data)
        for name, content in (extra_files or {}).items():
            archive.writestr(f"{_ROOT}/extra/{name}",
                             content.encode() if isinstance(content, str) else content)


# ----------------------------------------------------------------------------- load
def load(f: Any, map_location: Any = None, _extra_files: dict[str, Any] | None = None,
         _restore_shapes: bool = False) -> Any:
    """Read what `save` wrote: a RecursiveScriptModule (or ScriptFunction) that runs the saved
    graph; `_extra_files`' keys are filled with the saved files' contents."""
    if isinstance(f, (str, os.PathLike)):
        if not os.path.exists(f):
            raise ValueError(f"The provided filename {f} does not exist")
        if os.path.isdir(f):
            raise ValueError(f"The provided filename {f} is a directory")
    if isinstance(map_location, str):
        import autodiff

        map_location = autodiff.device(map_location)
    try:
        archive = zipfile.ZipFile(f)
    except zipfile.BadZipFile as error:
        raise RuntimeError("PytorchStreamReader failed reading zip archive: failed finding "
                           "central directory") from error
    with archive:
        names = set(archive.namelist())
        if f"{_ROOT}/model.json" not in names:
            raise RuntimeError("autodiff.jit.load: the archive was not written by "
                               "autodiff.jit.save (no archive/model.json)")
        tree = json.loads(archive.read(f"{_ROOT}/model.json"))
        from autodiff.serialization import load as load_object

        tensors = load_object(io.BytesIO(archive.read(f"{_ROOT}/data.pt")),
                              map_location=map_location)
        for alias, first in tree.get("aliases", {}).items():
            tensors[alias] = first
        pickled = {name: archive.read(name) for name in names
                   if name.startswith(f"{_ROOT}/pickled/")}
        if _extra_files is not None:
            for name in list(_extra_files):
                member = f"{_ROOT}/extra/{name}"
                # (a name the archive lacks reads as empty, as PyTorch's)
                _extra_files[name] = archive.read(member) if member in names else b""
    reader = _Reader(tensors, pickled, map_location)
    if "function" in tree:
        return reader.function(tree)
    module = reader.module(tree, "")
    if "frozen_preserved" in tree:
        from ._freeze import FrozenModule

        assert isinstance(module, ScriptModule)
        return FrozenModule(module, frozenset(tree["frozen_preserved"]), loaded=True)
    return module


class _Reader:
    def __init__(self, tensors: dict[str, Any], pickled: dict[str, bytes],
                 map_location: Any) -> None:
        self.tensors = tensors
        self.pickled = pickled
        self.map_location = map_location
        self.made: dict[str, Any] = {}

    def tensor(self, name: str, parameter: bool | None = None) -> Any:
        value = self.tensors[name]
        if isinstance(value, str):  # an alias: the same object as its first name's
            return self.made[value]
        if parameter is not None:
            value = Parameter(value, requires_grad=parameter)
        self.made[name] = value
        return value

    def unpickle(self, index: int) -> Any:
        return pickle.loads(self.pickled[f"{_ROOT}/pickled/{index}.pkl"])

    def module(self, entry: dict[str, Any], path: str) -> Module:
        if "pickled" in entry:
            from ._script import script

            loaded: Module = self.unpickle(entry["pickled"])
            if entry.get("scripted", True):
                loaded = script(loaded)
            loaded.train(entry["training"])
            return loaded
        prefix = f"{path}." if path else ""
        module = RecursiveScriptModule()
        object.__setattr__(module, "_original_name", entry["original_name"])
        for name, requires_grad in entry["parameters"].items():
            module.register_parameter(name, self.tensor(prefix + name, requires_grad))
        for name, persistent in entry["buffers"].items():
            module.register_buffer(name, self.tensor(prefix + name), persistent=persistent)
        for name in entry["constants"]:
            object.__setattr__(module, name, self.tensor(prefix + name))
        for name, value in entry.get("attributes", {}).items():
            object.__setattr__(module, name, _decode(value, {}))
        object.__setattr__(module, "_constant_names",
                           frozenset(entry.get("constant_names", ())))
        object.__setattr__(module, "_attribute_types", entry.get("attribute_types", {}))
        for name, child in entry["children"].items():
            module.add_module(name, None if child is None else self.module(child, prefix + name))
        module.training = entry["training"]
        methods = entry.get("methods", {"forward": entry["graph"]} if "graph" in entry else {})
        for name, records in methods.items():
            module._set_graph(_decode_graph(records), name)
        return module

    def function(self, entry: dict[str, Any]) -> Any:
        """A saved function comes back as a module whose forward it is, as PyTorch's does."""
        if "pickled" in entry:
            return ScriptFunction(self.unpickle(entry["pickled"]))
        module = RecursiveScriptModule()
        object.__setattr__(module, "_original_name", entry["function"])
        for name in entry["constants"]:
            object.__setattr__(module, name, self.tensor(name))
        module._set_graph(_decode_graph(entry["graph"]))
        return module

