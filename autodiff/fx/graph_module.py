"""torch.fx.GraphModule: a Module whose `forward` is the code its Graph generates.

Each GraphModule gets a class of its own (PyTorch's `GraphModuleImpl`), so that `recompile`
can set `forward` on the class without touching other instances. The generated source is kept
in `linecache` under a `<eval_with_key>.N` name, so tracebacks show the generated lines.
Pickling saves the code and the module's state, and traces the code again on load.
"""

from __future__ import annotations

import copy
import itertools
import linecache
import sys
import traceback
from collections.abc import Callable
from typing import Any

from autodiff.nn import Module, Parameter
from autodiff.nn.modules.module import _addindent
from autodiff.tensor import Tensor

from .graph import Graph, PythonCode, _custom_builtins
from .node import Node
from .proxy import _LIBRARY_DIRS

__all__ = ["GraphModule", "reduce_graph_module"]


class _EvalCacheLoader:
    """Serves generated sources to linecache (and so to tracebacks)."""

    def __init__(self) -> None:
        self.eval_cache: dict[str, str] = {}
        self.next_id = 0

    def cache(self, src: str, globals: dict[str, Any]) -> str:
        key = f"<eval_with_key>.{self.next_id}"
        self.next_id += 1
        while key in linecache.cache:  # (another loader's, as torch.fx's, in this process)
            key = f"<eval_with_key>.{self.next_id}"
            self.next_id += 1
        self.eval_cache[key] = src
        globals_copy = globals.copy()
        globals_copy["__file__"] = key
        globals_copy["__name__"] = key
        globals_copy["__loader__"] = self
        linecache.lazycache(key, globals_copy)
        return key

    def get_source(self, module_name: str) -> str | None:
        return self.eval_cache.get(module_name)


_loader = _EvalCacheLoader()


def _exec_with_source(src: str, globals: dict[str, Any]) -> None:
    key = _loader.cache(src, globals)
    exec(compile(src, key, "exec"), globals)


def _forward_from_src(src: str, globals: dict[str, Any]) -> Callable[..., Any]:
    globals_copy = globals.copy()
    _exec_with_source(src, globals_copy)
    forward = globals_copy["forward"]
    del globals_copy["forward"]
    return forward


def _format_import_statement(name: str, obj: Any) -> str:
    if name in _custom_builtins:
        return _custom_builtins[name].import_str
    return f"from {obj.__module__} import {obj.__qualname__} as {name}"


def _format_import_block(globals: dict[str, Any]) -> str:
    import_strs = {_format_import_statement(name, obj) for name, obj in globals.items()}
    return "\n".join(sorted(import_strs))


def reduce_graph_module(body: dict[str, Any], import_block: str) -> Module:
    """Unpickling: the module again from its generated code and state."""
    fn_src = body.get("_code") or body["code"]
    forward = _forward_from_src(import_block + fn_src, {})
    return _deserialize_graph_module(forward, body)


class _CodeOnlyModule(Module):
    """A module made of a state dict (`__dict__`) and a forward: what unpickling and deepcopy
    trace again into a graph."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__()
        self.__dict__ = body


def _deserialize_graph_module(forward: Callable[..., Any], body: dict[str, Any]) -> Module:
    _CodeOnlyModule.forward = forward  # type: ignore[method-assign]
    from ._symbolic_trace import Tracer
    tracer_cls = body.get("_tracer_cls") or Tracer

    class KeepModules(tracer_cls):  # type: ignore[valid-type, misc]
        def is_leaf_module(self, _: Module, __: str) -> bool:
            return True

    com = _CodeOnlyModule(body)
    graph = KeepModules().trace(com, **body.get("_tracer_extras", {}))
    graph._tracer_cls = tracer_cls
    gm = GraphModule(com, graph, class_name=body.get("_graphmodule_cls_name", "GraphModule"))
    for k, v in body.items():
        if not hasattr(gm, k):
            setattr(gm, k, v)
    return gm


def _copy_attr(from_module: Module, to_module: Module, target: str) -> None:
    """Give `to_module` the object at dotted path `target` of `from_module` (a tensor that is
    not a Parameter as a buffer), making empty modules for the path on the way."""
    *prefix, field = target.split(".")
    for item in prefix:
        f = getattr(from_module, item)
        t = getattr(to_module, item, None)
        if f is t:  # already installed
            return
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    orig = getattr(from_module, field)
    if isinstance(orig, Tensor) and not isinstance(orig, Parameter):
        to_module.register_buffer(field, orig)
    else:
        setattr(to_module, field, orig)


def _assign_attr(from_obj: Any, to_module: Module, target: str) -> None:
    *prefix, field = target.split(".")
    for item in prefix:
        t = getattr(to_module, item, None)
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        to_module = t
    if isinstance(from_obj, Tensor) and not isinstance(from_obj, Parameter):
        to_module.register_buffer(field, from_obj)
    else:
        setattr(to_module, field, from_obj)


class _WrappedCall:
    """The module's call: on an error raised in the generated code, print where in it (as
    PyTorch does) and re-raise."""

    def __init__(self, cls: type, cls_call: Callable[..., Any] | None) -> None:
        self.cls = cls
        self.cls_call = cls_call

    @staticmethod
    def _generate_error_message(frame_summary: traceback.FrameSummary) -> str:
        err_lineno = frame_summary.lineno or 0
        err_line_len = len(frame_summary.line or "")
        all_src_lines = linecache.getlines(frame_summary.filename)
        tb_repr = traceback.format_exc()
        custom_msg = ("Call using an FX-traced Module, "
                      f"line {err_lineno} of the traced Module's generated forward function:")
        before_err = "".join(all_src_lines[err_lineno - 2:err_lineno])
        marker = "~" * err_line_len + "~~~ <--- HERE"
        err_and_after_err = "\n".join(all_src_lines[err_lineno:err_lineno + 2])
        return "\n".join([tb_repr, custom_msg, before_err, marker, err_and_after_err])

    def __call__(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            if self.cls_call is not None:
                return self.cls_call(obj, *args, **kwargs)
            return super(self.cls, obj).__call__(*args, **kwargs)  # type: ignore[arg-type]
        except Exception as error:
            assert error.__traceback__
            # autodiff's own frames stand where PyTorch's C++ is: the error is the generated
            # code's when the innermost frame outside them is
            frames = traceback.StackSummary.extract(traceback.walk_tb(error.__traceback__))
            topmost = next((frame for frame in reversed(frames)
                            if not _is_library_file(frame.filename)), frames[-1])
            if "eval_with_key" in topmost.filename:
                print(_WrappedCall._generate_error_message(topmost), file=sys.stderr)
                raise error.with_traceback(None)  # noqa: B904
            raise


def _is_library_file(filename: str) -> bool:
    return filename.startswith(_LIBRARY_DIRS) and "eval_with_key" not in filename


class GraphModule(Module):
    """A Module made from a Graph: `forward` is the graph's generated code (`.code`), the
    attributes the graph reads (`get_attr`, `call_module`) are copied from `root`. After
    changing `.graph`, call `recompile()`."""

    def __new__(cls, *args: Any, **kwargs: Any) -> GraphModule:
        # A class per instance, so that each can have its own forward.
        for t in cls.__mro__:
            if t.__qualname__.split(".")[-1] != "GraphModuleImpl":
                cls = t
                break

        class GraphModuleImpl(cls):  # type: ignore[valid-type, misc]
            pass

        return super().__new__(GraphModuleImpl)

    def __init__(self, root: Module | dict[str, Any], graph: Graph,
                 class_name: str = "GraphModule") -> None:
        """`root` is the module the graph's targets are found in (or a dict from target to
        object); `class_name` names the module in printouts."""
        super().__init__()
        self.__class__.__name__ = class_name
        if isinstance(root, Module):
            if hasattr(root, "training"):
                self.training = root.training
            if isinstance(root, _CodeOnlyModule):
                # deepcopy and unpickling: keep every submodule and tensor, used or not
                for k, _ in root.named_children():
                    _copy_attr(root, self, k)
                for k, _ in root.named_buffers():
                    _copy_attr(root, self, k)
                for k, _ in root.named_parameters():
                    _copy_attr(root, self, k)
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    assert isinstance(node.target, str)
                    _copy_attr(root, self, node.target)
        elif isinstance(root, dict):
            targets_to_copy = []
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    assert isinstance(node.target, str)
                    if node.target not in root:
                        raise RuntimeError("Node " + str(node) + " referenced target "
                                           + node.target + " but that target was not provided "
                                           "in ``root``!")
                    targets_to_copy.append(node.target)
            # parents before children, so that a module's own attributes land on it
            targets_to_copy.sort(key=lambda t: t.count("."))
            for target in targets_to_copy:
                _assign_attr(root[target], self, target)
        else:
            raise RuntimeError("Unsupported type " + str(root) + " passed for root!")
        self.graph = graph
        self._tracer_cls = None
        if graph._tracer_cls and "<locals>" not in graph._tracer_cls.__qualname__:
            self._tracer_cls = graph._tracer_cls
        self._tracer_extras = graph._tracer_extras or {}
        self.meta: dict[str, Any] = {}
        self._replace_hooks: list[Callable[..., Any]] = []
        self._create_node_hooks: list[Callable[[Node], Any]] = []
        self._erase_node_hooks: list[Callable[[Node], Any]] = []
        self._deepcopy_hooks: list[Callable[[GraphModule], Any]] = []

    @property
    def graph(self) -> Graph:
        """The graph this module's code is generated from."""
        return self._graph

    @graph.setter
    def graph(self, g: Graph) -> None:
        assert isinstance(g, Graph), f"Expected a Graph instance, but got {type(g)}"
        self._graph = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self) -> str:
        """The Python source of `forward`."""
        if not hasattr(self, "_code"):
            raise RuntimeError("Code has not been generated! Please report a bug to PyTorch")
        return self._code

    def recompile(self) -> PythonCode:
        """Generate `forward` again from `self.graph` (after changing the graph)."""
        python_code = self._graph.python_code(root_module="self")
        self._code = python_code.src
        cls = type(self)
        cls.forward = _forward_from_src(self._code, python_code.globals)  # type: ignore[method-assign]
        cls_call = cls.__call__ if "__call__" in vars(cls) else None
        if "_wrapped_call" not in vars(cls):
            cls._wrapped_call = _WrappedCall(cls, cls_call)  # type: ignore[attr-defined]

        def call_wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self._wrapped_call(self, *args, **kwargs)

        cls.__call__ = call_wrapped  # type: ignore[method-assign]
        for _, child in self.named_children():
            if isinstance(child, GraphModule):
                child.recompile()
        return python_code

    # ------------------------------------------------------------------ submodules
    def add_submodule(self, target: str, m: Module) -> bool:
        """Install `m` at dotted path `target`, making empty modules on the way; False when
        a step of the path is not a Module."""
        *prefix, field = target.split(".")
        mod: Any = self
        for item in prefix:
            submod = getattr(mod, item, None)
            if submod is None:
                submod = Module()
                setattr(mod, item, submod)
            if not isinstance(submod, Module):
                return False
            mod = submod
        mod.add_module(field, m)
        return True

    def delete_submodule(self, target: str) -> bool:
        """Remove the submodule at dotted path `target`; False when there is none."""
        atoms = target.split(".")
        path, target_submod = atoms[:-1], atoms[-1]
        mod: Any = self
        for item in path:
            if not hasattr(mod, item):
                return False
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                return False
        if not hasattr(mod, target_submod):
            return False
        if not isinstance(getattr(mod, target_submod), Module):
            return False
        delattr(mod, target_submod)
        return True

    def delete_all_unused_submodules(self) -> None:
        """Remove the submodules no node of the graph reads or calls (nor any path to one)."""
        used: list[str] = []
        for node in self.graph.nodes:
            if node.op in ("call_module", "get_attr") and isinstance(node.target, str):
                fullpath = node.target.split(".")
                used.extend(itertools.accumulate(fullpath, lambda x, y: f"{x}.{y}"))
                if node.op == "call_module":
                    try:
                        submod = self.get_submodule(node.target)
                        for submod_name, _ in submod.named_modules():
                            if submod_name != "":
                                used.append(f"{node.target}.{submod_name}")
                    except AttributeError:
                        pass
        to_delete = [name for name, _ in self.named_modules() if name not in used]
        for name in to_delete:
            self.delete_submodule(name)

    # ------------------------------------------------------------------ printing
    def print_readable(self, print_output: bool = True, include_stride: bool = False,
                       include_device: bool = False, colored: bool = False) -> str:
        """The module as a class with its generated forward (values annotated with what
        ShapeProp or `meta["val"]` recorded), nested GraphModules after it."""
        return _print_readable(self, self._get_name(), print_output, include_stride,
                               include_device, colored)

    def __str__(self) -> str:
        orig_str = super().__str__()
        reminder = "# To see more debug info, please use `graph_module.print_readable()`"
        return "\n".join([orig_str, self._code, reminder])

    # ------------------------------------------------------------------ copying
    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its generated code (with the imports it needs) and its state; the
        graph is traced again from the code on load."""
        dict_without_graph = self.__dict__.copy()
        python_code = self.recompile()
        import_block = _format_import_block(python_code.globals)
        del dict_without_graph["_graph"]
        return (reduce_graph_module, (dict_without_graph, import_block))

    def __deepcopy__(self, memo: dict[int, Any]) -> GraphModule:
        res = type(self).__new__(type(self))
        memo[id(self)] = res
        fake_mod = _CodeOnlyModule(copy.deepcopy(self.__dict__, memo))
        GraphModule.__init__(res, fake_mod, fake_mod.__dict__["_graph"])
        for attr in ("_state_dict_hooks", "_load_state_dict_pre_hooks",
                     "_load_state_dict_post_hooks", "_replace_hooks", "_create_node_hooks",
                     "_erase_node_hooks", "_deepcopy_hooks"):
            if attr in self.__dict__:
                setattr(res, attr, copy.deepcopy(self.__dict__[attr], memo))
        res.meta = copy.deepcopy(getattr(self, "meta", {}), memo)
        for hook in getattr(self, "_deepcopy_hooks", ()):
            hook(res)
        return res

    def __copy__(self) -> GraphModule:
        res = GraphModule(self, self.graph)
        res.meta = getattr(self, "meta", {})
        return res


def _print_readable(module: GraphModule, module_name: str, print_output: bool,
                    include_stride: bool = False, include_device: bool = False,
                    colored: bool = False) -> str:
    verbose_python_code = module.graph.python_code(
        root_module="self", verbose=True, include_stride=include_stride,
        include_device=include_device, colored=colored)
    module_code = verbose_python_code.src.lstrip("\n")
    module_code = f"class {module_name}(torch.nn.Module):\n" + module_code
    module_code = _addindent(module_code, 4)
    submodule_code_list = [""]
    for submodule_name, submodule in module.named_children():
        if isinstance(submodule, GraphModule):
            submodule_code_list.append(_print_readable(submodule, submodule_name, False,
                                                       include_stride, include_device,
                                                       colored))
    submodule_code = _addindent("\n".join(submodule_code_list), 4)
    output = module_code + submodule_code
    if print_output:
        print(module_code + submodule_code)
    return output
