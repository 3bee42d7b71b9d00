"""torch.fx.Proxy: the stand-in for a value during symbolic tracing. Every operation on one
(operators, attribute reads, method calls, autodiff functions through `__torch_function__`)
records a Node in the tracer's graph and returns a new Proxy; what needs the value itself
(`bool`, iteration, `len`) raises PyTorch's TraceError or RuntimeError.
"""

from __future__ import annotations

import collections
import copy
import dis
import enum
import inspect
import operator
import os
import traceback
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from typing import Any

from autodiff.overrides import is_tensor_method_or_property
from autodiff.torch_function import switch

from .graph import Graph, magic_methods, reflectable_magic_methods
from .node import Argument, Node, Target, map_aggregate, map_arg

# Frames in these folders are the library's, not the traced program's.
_LIBRARY_DIRS = tuple(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), package) + os.sep for package in ("autodiff", "backends"))

__all__ = ["Attribute", "GraphAppendingTracer", "ParameterProxy", "Proxy", "Scope",
           "ScopeContextManager", "TraceError", "TracerBase"]


class Scope:
    """The module the tracer is inside: its dotted path and type."""

    def __init__(self, module_path: str, module_type: Any) -> None:
        self.module_path = module_path
        self.module_type = module_type


class ScopeContextManager:
    """Sets the tracer's scope for the duration of a submodule's call."""

    def __init__(self, scope: Scope, current_scope: Scope) -> None:
        self._prev_scope = copy.copy(scope)
        scope.module_path = current_scope.module_path
        scope.module_type = current_scope.module_type
        self._scope = scope

    def __enter__(self) -> Scope:
        return self._scope

    def __exit__(self, *args: object) -> None:
        self._scope.module_path = self._prev_scope.module_path
        self._scope.module_type = self._prev_scope.module_type


def _base_types() -> tuple[type, ...]:
    import autodiff
    from autodiff.dtypes import dtype
    return (str, int, float, bool, complex, dtype, autodiff.Tensor, autodiff.device,
            autodiff.memory_format, autodiff.layout)


class TracerBase:
    """What Proxies need of a tracer: making nodes and proxies, and the answers to the
    questions a symbolic value cannot answer."""

    graph: Graph
    record_stack_traces: bool = False
    check_mutable_operations: bool = False
    trace_asserts: bool = False
    proxy_buffer_attributes: bool = False
    traced_func_name: str = "forward"
    scope: Scope
    module_stack: collections.OrderedDict[str, tuple[str, Any]]
    node_name_to_scope: dict[str, tuple[str, type]]

    def create_node(self, kind: str, target: Target, args: tuple[Argument, ...],
                    kwargs: dict[str, Argument], name: str | None = None,
                    type_expr: Any | None = None) -> Node:
        """Insert a node into the graph; override to check or change what is recorded."""
        node = self.graph.create_node(kind, target, args, kwargs, name, type_expr)
        self.node_name_to_scope[node.name] = (self.scope.module_path, self.scope.module_type)
        if self.module_stack:
            node.meta["nn_module_stack"] = copy.copy(self.module_stack)
        if self.record_stack_traces and not node.stack_trace:
            frames = self._filter_traceback_frames(traceback.extract_stack())
            if frames:
                node.stack_trace = "".join(frames.format()).strip()
        return node

    def _filter_traceback_frames(self, user_stack_summary: traceback.StackSummary
                                 ) -> traceback.StackSummary:
        """The frames a node's stack trace keeps: from the first `forward` on (none without
        one), without autodiff's own."""
        first_forward = next((index for index, frame in enumerate(user_stack_summary)
                              if frame.name == "forward"), None)
        if first_forward is None:
            return traceback.StackSummary.from_list([])
        return traceback.StackSummary.from_list(
            [frame for frame in user_stack_summary[first_forward:]
             if not frame.filename.startswith(_LIBRARY_DIRS)])

    def proxy(self, node: Node) -> Proxy:
        return Proxy(node, self)

    def create_proxy(self, kind: str, target: Target, args: tuple[Any, ...],
                     kwargs: dict[str, Any], name: str | None = None,
                     type_expr: Any | None = None,
                     proxy_factory_fn: Callable[[Node], Proxy] | None = None) -> Proxy:
        """Record a node for this call (its arguments through `create_arg`) and return a
        Proxy of it."""
        args_ = self.create_arg(args)
        kwargs_ = self.create_arg(kwargs)
        assert isinstance(args_, tuple)
        assert isinstance(kwargs_, dict)
        node = self.create_node(kind, target, args_, kwargs_, name, type_expr)
        return self.proxy(node) if not proxy_factory_fn else proxy_factory_fn(node)

    def create_arg(self, a: Any) -> Argument:
        """Lower a value met during tracing into what a node's arguments may hold: Proxies
        become their nodes, containers are rebuilt, constants stay."""
        if isinstance(a, Proxy):
            return a.node
        if hasattr(a, "__fx_create_arg__"):
            return a.__fx_create_arg__(self)
        if isinstance(a, tuple):
            if hasattr(a, "_fields"):
                return type(a)(*[self.create_arg(elem) for elem in a])
            return tuple(self.create_arg(elem) for elem in a)
        if isinstance(a, list):
            return [self.create_arg(elem) for elem in a]
        if isinstance(a, dict):
            result: dict[Any, Argument] = {}
            for k, v in a.items():
                if not isinstance(k, str):
                    # no Proxy anywhere inside a key
                    k = self.create_arg(k)
                    map_arg(k, _no_nodes_error)
                result[k] = self.create_arg(v)
            return result
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop),
                         self.create_arg(a.step))
        if isinstance(a, range):
            return range(self.create_arg(a.start), self.create_arg(a.stop),
                         self.create_arg(a.step))
        if is_dataclass(a) and not isinstance(a, type):
            kwargs = {field.name: self.create_arg(getattr(a, field.name)) for field in fields(a)}
            return self.create_node("call_function", a.__class__, (), kwargs)
        if isinstance(a, (*_base_types(), enum.Enum)) or a is None or a is ...:
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj: Proxy) -> bool:
        """A Proxy used as a condition: its value is unknown while tracing."""
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def iter(self, obj: Proxy) -> Iterator[Any]:
        """A Proxy iterated: its length is unknown while tracing."""
        raise TraceError(
            "Proxy object cannot be iterated. This can be attempted when the Proxy is used in a "
            "loop or as a *args or **kwargs function argument. See the torch.fx docs on "
            "pytorch.org for a more detailed explanation of what types of control flow can be "
            "traced, and check out the Proxy docstring for help troubleshooting Proxy iteration "
            "errors")

    def len(self, obj: Proxy) -> int:
        """`len(proxy)`: its length is unknown while tracing."""
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want "
                           "this call to be recorded, please call torch.fx.wrap('len') at "
                           "module scope")

    def keys(self, obj: Proxy) -> Proxy:
        """`**proxy` calls keys(): recorded as a method call."""
        return Attribute(obj, "keys")()


def _no_nodes_error(arg: Node) -> Any:
    raise RuntimeError("Keys for dictionaries used as an argument cannot contain a "
                       f"Node. Got key: {arg}")


class GraphAppendingTracer(TracerBase):
    """The tracer of a Proxy made around a bare Node: it appends to that node's graph."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph
        self.scope = Scope("", None)
        self.module_stack = collections.OrderedDict()
        self.node_name_to_scope = {}


def assert_fn(x: Any) -> None:
    if not x:
        raise AssertionError("Assertion failed")


class TraceError(ValueError):
    pass


class Proxy:
    """A Node's stand-in while tracing: operations on it are recorded in the graph.

    Proxies cannot be iterated (a loop or `*args` over one raises TraceError): move the
    untraceable logic into a function marked with `fx.wrap`, or, when the trip count is
    static, index instead (`for i in range(n): proxied_value[i]`).
    """

    def __init__(self, node: Node, tracer: TracerBase | None = None) -> None:
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        self.tracer = tracer
        self.node = node
        if not switch.classes:
            # Tensor's own methods must ask the protocol too (`tensor * proxy` is recorded)
            switch.class_seen()

    def __repr__(self) -> str:
        return f"Proxy({self.node.name})"

    def __getattr__(self, k: str) -> Attribute:
        # Recorded only when used as a value: most attributes are methods about to be called.
        return Attribute(self, k)

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__

    def __deepcopy__(self, memo: dict[int, Any]) -> Proxy:
        # Explicit, or deepcopy would find __deepcopy__ through __getattr__ (an Attribute).
        new_dict = {}
        for k, v in self.__dict__.items():
            try:
                new_dict[k] = copy.deepcopy(v, memo)
            except Exception:
                new_dict[k] = copy.copy(v)
        new_proxy = Proxy(new_dict["node"], new_dict["tracer"])
        new_proxy.__dict__.update(new_dict)
        return new_proxy

    def __setstate__(self, d: dict[str, Any]) -> None:
        self.__dict__ = d

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        return self.tracer.create_proxy("call_method", "__call__", (self, *args), kwargs)

    def __iter__(self) -> Iterator[Proxy]:
        # `a, b = proxy` unpacks a known number of values: that much can be traced.
        frame = inspect.currentframe()
        assert frame is not None and frame.f_back is not None
        calling_frame = frame.f_back
        instructions = list(dis.get_instructions(calling_frame.f_code))
        index = bisect_left(instructions, calling_frame.f_lasti, key=lambda x: x.offset)
        instruction = instructions[index]
        if instruction.opname == "UNPACK_SEQUENCE":
            return (self[i] for i in range(instruction.argval))  # type: ignore[index]
        return self.tracer.iter(self)

    def __abs__(self) -> Proxy:
        return self.tracer.create_proxy("call_function", operator.abs, (self,), {})

    def __bool__(self) -> bool:
        if self.tracer.trace_asserts:
            # `assert proxy`: recorded as a call of assert_fn, then taken as true.
            frame = inspect.currentframe()
            assert frame is not None and frame.f_back is not None
            calling_frame = frame.f_back
            instructions = list(dis.get_instructions(calling_frame.f_code))
            current = bisect_left(instructions, calling_frame.f_lasti, key=lambda x: x.offset)
            instruction = instructions[current]
            if instruction.opname in ("POP_JUMP_IF_TRUE", "POP_JUMP_FORWARD_IF_TRUE"):
                first = instructions[current + 1]
                if first.opname == "LOAD_ASSERTION_ERROR" or \
                        (first.opname == "LOAD_GLOBAL" and first.argval == "AssertionError"):
                    self.tracer.create_proxy("call_function", assert_fn, (self,), {})
                    return True
        return self.tracer.to_bool(self)

    def keys(self) -> Proxy:
        return self.tracer.keys(self)

    def __len__(self) -> int:
        return self.tracer.len(self)

    @classmethod
    def __torch_function__(cls, orig_method: Callable[..., Any], types: tuple[type, ...],
                           args: tuple[Any, ...] | None = None,
                           kwargs: dict[str, Any] | None = None) -> Proxy:
        """An autodiff function called on Proxies: recorded as a call_function node (a
        Tensor method as a call_method one), on the one tracer its Proxies share."""
        args = args if args else ()
        kwargs = kwargs if kwargs else {}
        tracers: dict[Any, None] = {}

        def find_tracer(a: Any) -> Any:
            if isinstance(a, cls):
                tracers[a.tracer] = None
            return a

        map_aggregate(args, find_tracer)
        map_aggregate(kwargs, find_tracer)
        if len(tracers) > 1:
            raise RuntimeError(f"Found multiple different tracers {list(tracers.keys())} while "
                               f"trying to trace operations {orig_method}")
        tracer = next(iter(tracers.keys()))
        if is_tensor_method_or_property(orig_method):
            return tracer.create_proxy("call_method", orig_method.__name__, args, kwargs)
        return tracer.create_proxy("call_function", orig_method, args, kwargs,
                                   name=tracer.graph._target_to_str(orig_method.__name__))


class Attribute(Proxy):
    """`proxy.name`: a method call when called at once (call_method), otherwise a getattr
    node, recorded on first use as a value."""

    def __init__(self, root: Proxy, attr: str) -> None:
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node: Node | None = None

    @property
    def node(self) -> Node:  # type: ignore[override]
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", getattr,
                                                  (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        return self.tracer.create_proxy("call_method", self.attr, (self.root, *args), kwargs)


class ParameterProxy(Proxy):
    """A parameter's Proxy that answers shape questions from the parameter itself, so code
    that branches on them traces (Tracer(param_shapes_constant=True))."""

    def __init__(self, tracer: TracerBase, node: Node, name: str, param: Any) -> None:
        super().__init__(node, tracer)
        from autodiff.nn import Parameter
        assert isinstance(param, Parameter)
        self.param = param
        self.name = name

    def __repr__(self) -> str:
        return f"ParameterProxy({self.name})"

    @property
    def shape(self) -> Any:
        return self.param.shape

    def size(self) -> Any:
        return self.param.size()

    def dim(self) -> int:
        return self.param.dim()

    @property
    def ndim(self) -> int:
        return self.param.ndim

    def numel(self) -> int:
        return self.param.numel()

    def nelement(self) -> int:
        return self.param.nelement()


def _define_magic(method: str) -> None:
    def impl(*args: Any, **kwargs: Any) -> Proxy:
        target = getattr(operator, method)
        return args[0].tracer.create_proxy("call_function", target, args, kwargs)

    impl.__name__ = method
    setattr(Proxy, f"__{method.strip('_')}__", impl)


def _define_reflectable(orig_method_name: str) -> None:
    method_name = f"__r{orig_method_name.strip('_')}__"

    def impl(self: Proxy, rhs: Any) -> Proxy:
        target = getattr(operator, orig_method_name)
        return self.tracer.create_proxy("call_function", target, (rhs, self), {})

    impl.__name__ = method_name
    impl.__qualname__ = method_name
    setattr(Proxy, method_name, impl)


for _method in magic_methods:
    _define_magic(_method)
for _method in reflectable_magic_methods:
    _define_reflectable(_method)
