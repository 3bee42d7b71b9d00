"""ScriptModule and ScriptFunction: what `trace`, `script` and `load` return.

A module or function made from a graph (a trace, a loaded archive) runs the Python code that
autodiff.fx generates from the graph (`graph.python_code`), with `self` the module, so its
parameters and buffers are read where they live at each call. A module holds one graph per
method (forward, the other methods `trace_module` traced, a scripted module's exported ones);
`module.name` finds each as a ScriptMethod. A scripted module or function runs its own Python
(see `_script.py`).
"""

from __future__ import annotations

import copy
import functools
import inspect
import pickle
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from autodiff.nn import Module

if TYPE_CHECKING:
    from autodiff.fx import Graph

_PICKLE_MESSAGE = ("ScriptModules cannot be deepcopied using copy.deepcopy or saved using "
                   "torch.save. Mixed serialization of script and non-script modules is not "
                   "supported. For purely script modules use my_script_module.save(<filename>) "
                   "instead.")


def compile_graph(graph: Graph, name: str = "forward") -> tuple[Callable[..., Any], str]:
    """The function a graph's generated code defines (`def <name>(self, ...)`) and that
    code."""
    from autodiff.fx.graph_module import _exec_with_source

    graph._codegen._func_name = name
    python_code = graph.python_code(root_module="self")
    namespace = dict(python_code.globals)
    _exec_with_source(python_code.src, namespace)
    return namespace[name], python_code.src


def fx_graph_of(obj: Any, method: str = "forward") -> Graph:
    """The graph autodiff.fx's symbolic tracing makes of a scripted module's method or a
    scripted function, or a RuntimeError that says why there is none (data-dependent control
    flow, most often)."""
    from autodiff.fx import Tracer, symbolic_trace

    try:
        if method == "forward":
            return symbolic_trace(obj).graph
        tracer = Tracer()
        tracer.traced_func_name = method
        return tracer.trace(obj)
    except Exception as error:
        from ._script import ExportRefused

        if isinstance(error, ExportRefused):
            raise
        name = getattr(obj, "original_name", None) or getattr(obj, "__name__", repr(obj))
        if method != "forward":
            name = f"{name}.{method}"
        raise RuntimeError(
            f"'{name}' has no graph: autodiff.jit runs scripted code as Python, and "
            f"autodiff.fx cannot trace it ({type(error).__name__}: {error})") from error


class ScriptModule(Module):
    """A module made by `trace`, `script` or `load` (torch.jit.ScriptModule)."""

    @property
    def original_name(self) -> str:
        """The name of the class the module was made from."""
        return self.__dict__.get("_original_name") or type(self).__name__

    @property
    def graph(self) -> Graph:
        """forward as autodiff.fx traces it (a subclass written by the user runs its Python)."""
        return fx_graph_of(self)

    @property
    def inlined_graph(self) -> Graph:
        return self.graph

    @property
    def code(self) -> str:
        """The Python source of forward."""
        return textwrap.dedent(inspect.getsource(type(self).forward))

    def __setattr__(self, name: str, value: Any) -> None:
        constants: frozenset[str] | None = self.__dict__.get("_constant_names")
        if constants and name in constants:  # (`__constants__` and `Final` attributes)
            raise RuntimeError(f"Can't set constant '{name}' which has value:"
                               f"{self.__dict__.get(name)}")
        types: dict[str, Any] | None = self.__dict__.get("_attribute_types")
        if types and name in types:  # (a scripted module's attributes keep their types)
            from ._types import cast_attribute

            value = cast_attribute(name, types[name], value)
        super().__setattr__(name, value)

    def save(self, f: Any, _extra_files: dict[str, Any] | None = None) -> None:
        """`autodiff.jit.save(self, f, _extra_files)`."""
        from ._serialization import save

        save(self, f, _extra_files)

    def save_to_buffer(self, _extra_files: dict[str, Any] | None = None) -> bytes:
        """The archive `save` writes, as bytes."""
        import io

        from ._serialization import save

        buffer = io.BytesIO()
        save(self, buffer, _extra_files)
        return buffer.getvalue()

    def extra_repr(self) -> str:
        return f"original_name={self.original_name}"

    # Pickling would need the code of the class; the archive holds the graph instead.
    def __getstate__(self) -> dict[str, Any]:
        raise pickle.PickleError(_PICKLE_MESSAGE)

    def __copy__(self) -> ScriptModule:
        copied = type(self).__new__(type(self))
        copied.__dict__.update(self.__dict__)
        return copied

    def __deepcopy__(self, memo: dict[int, Any]) -> ScriptModule:
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return copied


class GraphMethod:
    """A method made from a graph: its name, the generated function and its source."""

    def __init__(self, graph: Graph, name: str = "forward") -> None:
        self.name = name
        self.graph = graph
        self.function, self.code = compile_graph(graph, name)

    def __deepcopy__(self, memo: dict[int, Any]) -> GraphMethod:
        return GraphMethod(copy.deepcopy(self.graph, memo), self.name)


class ScriptMethod:
    """A graph-made method bound to its module (torch.ScriptMethod): `module.name(...)`
    runs the graph's code; `.graph`, `.code`, `.name` and `.owner` describe it."""

    def __init__(self, owner: RecursiveScriptModule, compiled: GraphMethod) -> None:
        self.owner = owner
        self._compiled = compiled

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled.function(self.owner, *args, **kwargs)

    @property
    def __self__(self) -> RecursiveScriptModule:  # (as a bound method's)
        return self.owner

    @property
    def __func__(self) -> Callable[..., Any]:
        return self._compiled.function

    @property
    def name(self) -> str:
        return self._compiled.name

    @property
    def graph(self) -> Graph:
        return self._compiled.graph

    @property
    def inlined_graph(self) -> Graph:
        return self._compiled.graph

    @property
    def code(self) -> str:
        return self._compiled.code

    @property
    def __signature__(self) -> inspect.Signature:
        signature = inspect.signature(self._compiled.function)
        return signature.replace(parameters=list(signature.parameters.values())[1:])

    def __repr__(self) -> str:
        return f"<autodiff.jit.ScriptMethod {self.name} of {self.owner.original_name}>"


# What a missing attribute of a ScriptModule is called in the error (PyTorch's wording for
# scripted, traced and loaded modules alike).
_MISSING = "'RecursiveScriptModule' object has no attribute '{}'"


def _run_forward(self: RecursiveScriptModule, *args: Any, **kwargs: Any) -> Any:
    methods: dict[str, GraphMethod] = self.__dict__.get("_graph_methods", {})
    compiled = methods.get("forward")
    if compiled is None:
        raise AttributeError(_MISSING.format("forward"))
    return compiled.function(self, *args, **kwargs)


class _GraphForward:
    """RecursiveScriptModule.forward: on a module, its forward graph's ScriptMethod (missing,
    with PyTorch's AttributeError, where forward was not traced); on the class, a function
    that runs it (what autodiff.fx and the compiler read)."""

    def __get__(self, owner: RecursiveScriptModule | None, cls: Any = None) -> Any:
        if owner is None:
            return _run_forward
        compiled = owner.__dict__.get("_graph_methods", {}).get("forward")
        if compiled is None:
            raise AttributeError(_MISSING.format("forward"))
        return ScriptMethod(owner, compiled)


class RecursiveScriptModule(ScriptModule):
    """A module whose methods are graphs' code: what `load` makes (torch's
    RecursiveScriptModule), also the base of TracedModule. Each method is a ScriptMethod
    (`module.forward`, `module.other`); one that was not traced or exported is missing, with
    PyTorch's AttributeError."""

    forward = _GraphForward()

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            pass
        methods: dict[str, GraphMethod] = self.__dict__.get("_graph_methods", {})
        if name in methods:
            return ScriptMethod(self, methods[name])
        raise AttributeError(_MISSING.format(name))

    def _set_graph(self, graph: Graph, name: str = "forward") -> None:
        """Make `graph` the method `name` (replacing one of that name)."""
        methods = self.__dict__.setdefault("_graph_methods", {})
        methods[name] = GraphMethod(graph, name)

    @property
    def _method_names(self) -> list[str]:
        """The graph-made methods, in the order they were made."""
        return list(self.__dict__.get("_graph_methods", {}))

    def _forward_or_raise(self, attribute: str) -> GraphMethod:
        compiled: GraphMethod | None = self.__dict__.get("_graph_methods", {}).get("forward")
        if compiled is None:
            if attribute == "graph":
                raise RuntimeError("Method 'forward' is not defined.")
            raise AttributeError(_MISSING.format(attribute))
        return compiled

    @property
    def graph(self) -> Graph:
        """The recorded ops of forward (an autodiff.fx Graph)."""
        return self._forward_or_raise("graph").graph

    @property
    def code(self) -> str:
        """The Python source of forward, generated from the graph."""
        return self._forward_or_raise("code").code


class ScriptFunction:
    """A function made by `trace` (from its graph) or `script` (its own Python)
    (torch.jit.ScriptFunction)."""

    def __init__(self, function: Callable[..., Any], graph: Graph | None = None,
                 constants: Module | None = None) -> None:
        self._function = function
        self._graph_forward = GraphMethod(graph) if graph is not None else None
        self._constants = constants if constants is not None else Module()
        functools.update_wrapper(self, function)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._graph_forward is not None:
            return self._graph_forward.function(self._constants, *args, **kwargs)
        return self._function(*args, **kwargs)

    @property
    def name(self) -> str:
        return self._function.__name__

    @property
    def qualified_name(self) -> str:
        return f"{self._function.__module__}.{self._function.__qualname__}"

    @property
    def graph(self) -> Graph:
        """The recorded ops of a traced function; a scripted one's graph as autodiff.fx
        traces it (a RuntimeError where its control flow depends on data)."""
        if self._graph_forward is not None:
            return self._graph_forward.graph
        return fx_graph_of(self._function)

    @property
    def inlined_graph(self) -> Graph:
        return self.graph

    @property
    def code(self) -> str:
        """A traced function's code generated from its graph; a scripted one's source."""
        if self._graph_forward is not None:
            return self._graph_forward.code
        return textwrap.dedent(inspect.getsource(self._function))

    def save(self, f: Any, _extra_files: dict[str, Any] | None = None) -> None:
        from ._serialization import save

        save(self, f, _extra_files)

    def __repr__(self) -> str:
        return f"<autodiff.jit.ScriptFunction object at {id(self):#x}>"
