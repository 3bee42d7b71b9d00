"""torch.jit.trace: run a function or module once on example inputs and record, as an
autodiff.fx Graph, every autodiff function and Tensor method it calls.

The recording is a TorchFunctionMode (`_TracingMode`): each call it sees runs as usual, and
a node is added for it when its result holds tensors (or when it writes into a tensor). A
tensor the call takes is the node that made it, a placeholder (an input), a `get_attr` (a
parameter or buffer of the traced module) or, otherwise, a constant the traced module keeps.
What Python computes from tensors (`if x.sum() > 0`, `x.item()`, sizes) is fixed at its
value in this run; converting a tensor to a Python value warns (TracerWarning), as PyTorch's
tracer does. Under autocast a call is recorded as it ran: the casts autocast made are `to`
nodes and the op takes the cast tensors, so the trace gives autocast's dtypes with autocast off
(as PyTorch's, whose tracer records the casts as ops).

A submodule call is recorded as one `call_module` node and the submodule gets a trace of its
own (a TracedModule child, as in PyTorch), through forward hooks held for the trace: entering
a submodule pushes a recorder for it, leaving pops it. A submodule that is already a
ScriptModule (scripted or traced) is called, not traced into: a scripted child keeps its
data-dependent control flow inside the trace, as TorchScript's does. So is a module of
autodiff's own whose forward makes tensors through calls the mode does not see (nn.LSTM runs
its recurrence below the public functions): its trace would miss them (`_Recorder.escaped`).
"""

from __future__ import annotations

import builtins
import inspect
import operator
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from autodiff import autocast_state
from autodiff.nn import Module
from autodiff.overrides import TorchFunctionMode
from autodiff.tensor import Tensor
from autodiff.torch_function import TensorMethod, _property_names
from autodiff.user_warnings import warn

from ._module import RecursiveScriptModule, ScriptFunction, ScriptModule

if TYPE_CHECKING:
    from autodiff.fx import Graph, Node

__all__ = ["TopLevelTracedModule", "TracedModule", "TracerWarning", "TracingCheckError",
           "is_tracing", "trace", "trace_module"]


class TracerWarning(Warning):
    """A trace may not generalize to other inputs (torch.jit.TracerWarning)."""

    @staticmethod
    def ignore_lib_warnings() -> None:
        # Warnings raised inside the library itself, as PyTorch ignores those in torch.*.
        warnings.filterwarnings("ignore", category=TracerWarning, module=r"autodiff\.(?!jit)")


class TracingCheckError(Exception):
    """`check_trace` found that tracing again gives another graph (torch.jit's)."""

    def __init__(self, graph_diff_error: str | None, tensor_compare_error: str | None,
                 extra_msg: str | None = None) -> None:
        self.message = "Tracing failed sanity checks!\n"
        if extra_msg is not None:
            self.message += extra_msg + "\n"
        if graph_diff_error is not None:
            self.message += "ERROR: Graphs differed across invocations!\n"
            self.message += graph_diff_error + "\n"
        if tensor_compare_error is not None:
            self.message += ("ERROR: Tensor-valued Constant nodes differed in value across "
                             "invocations. This often indicates that the tracer has encountered "
                             "untraceable code.\n" + tensor_compare_error + "\n")
        super().__init__(self.message)


# Tensor methods that hand a Python value out of a tensor: the trace keeps the value.
_CONVERSIONS = {
    "__bool__": "a Python boolean", "item": "a Python number", "__int__": "a Python integer",
    "__float__": "a Python float", "__index__": "a Python index", "__complex__":
    "a Python complex", "tolist": "a Python list", "numpy": "a NumPy array",
}
_CONVERSION_TAIL = (" might cause the trace to be incorrect. We can't record the data flow of "
                    "Python values, so this value will be treated as a constant in the future. "
                    "This means that the trace might not generalize to other inputs!")

# Operators recorded as the `operator` functions (the code reads `x + y`); a reflected one
# swaps its operands.
_OPERATORS: dict[str, Callable[..., Any]] = {
    f"__{name}__": getattr(operator, name + "_" if name in ("and", "or") else name)
    for name in (
        "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
        "xor", "lshift", "rshift", "eq", "ne", "lt", "le", "gt", "ge", "getitem", "setitem",
        "neg", "pos", "invert", "abs", "iadd", "isub", "imul", "itruediv", "ifloordiv",
        "imod", "ipow", "imatmul", "iand", "ior", "ixor", "ilshift", "irshift")
}
_REFLECTED = {f"__r{name[2:]}": function for name, function in _OPERATORS.items()
              if name[2:-2] in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow",
                                "matmul", "and", "or", "xor", "lshift", "rshift")}
# Calls whose only effect is on a tensor they are given: kept though nothing uses their result.
_WRITES = {operator.setitem, *(function for name, function in _OPERATORS.items()
                               if name.startswith("__i") and name != "__invert__")}


def _is_write(node: Node) -> bool:
    if node.op == "call_module" or node.target in _WRITES:
        return True
    name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
    return isinstance(name, str) and name.endswith("_") and not name.endswith("__")


def _is_plain_constant(value: Any) -> bool:
    """A value the generated code can write as a literal."""
    from autodiff.dtypes import dtype
    from autodiff.layouts import layout, memory_format

    if value is None or value is Ellipsis or isinstance(
            value, (bool, int, float, complex, str, dtype, layout, memory_format)):
        return True
    if isinstance(value, slice):
        return all(_is_plain_constant(v) for v in (value.start, value.stop, value.step))
    from backends import Device

    return isinstance(value, Device)


class _Recorder:
    """The graph of one traced function or module call: the values it has nodes for."""

    def __init__(self, root: Module | None, muted: bool = False,
                 constant_prefix: str = "") -> None:
        from autodiff.fx import Graph

        self.graph = Graph()
        self.root = root
        self.muted = muted  # inside a ScriptModule child: it is called, not traced into
        # autodiff's own modules (nn.LSTM, ...) may make tensors through calls the mode does
        # not see; such a module is then kept whole, as a call (`escaped`).
        self.library = root is not None and type(root).__module__.startswith("autodiff.")
        self.escaped = False
        self.inside: list[Module] = []  # (a traced function's: the modules it is inside)
        self.values: dict[int, tuple[Any, Node]] = {}
        self.attributes: dict[int, str] = {}
        if root is not None:
            for name, parameter in root.named_parameters(remove_duplicate=False):
                self.attributes.setdefault(id(parameter), name)
            for name, buffer in root.named_buffers(remove_duplicate=False):
                self.attributes.setdefault(id(buffer), name)
        self.constants: dict[str, Any] = {}
        self.constant_prefix = constant_prefix  # (methods other than forward: their own names)

    # ------------------------------------------------------------------------- values
    def bind(self, value: Any, node: Node) -> None:
        """`node` is where `value` (a tensor, or a container of them) comes from."""
        if isinstance(value, Tensor):
            self.values[id(value)] = (value, node)
        elif isinstance(value, (tuple, list)):
            for index, item in enumerate(value):
                if _holds_tensor(item):
                    self.bind(item, self.graph.call_function(operator.getitem, (node, index)))
        elif isinstance(value, dict):
            for key, item in value.items():
                if _holds_tensor(item):
                    self.bind(item, self.graph.call_function(operator.getitem, (node, key)))

    def argument(self, value: Any) -> Any:
        """`value` as an argument of a node: tensors as the nodes they come from."""
        if isinstance(value, _TracedInt):
            return value.node if value.recorder is self else int(value)
        if isinstance(value, Tensor):
            known = self.values.get(id(value))
            if known is not None and known[0] is value:
                return known[1]
            name = self.attributes.get(id(value))
            if name is None:
                library = [m for m in self.inside if type(m).__module__.startswith("autodiff.")]
                if library:
                    raise RuntimeError(
                        f"autodiff.jit.trace: {type(library[-1]).__name__} makes tensors "
                        f"through calls the tracer does not see; trace a Module that holds it "
                        f"as a submodule (it is then kept whole, as a call)")
                self.escaped = self.escaped or self.library
                name = self._constant(value, checked=not self.library)
            node = self.graph.get_attr(name)
            self.values[id(value)] = (value, node)
            return node
        known = self.values.get(id(value))
        if known is not None and known[0] is value:  # a tensor's device
            return known[1]
        if type(value) in (tuple, list):
            return type(value)(self.argument(item) for item in value)
        if isinstance(value, tuple) and not hasattr(value, "_fields"):  # Size
            return tuple(self.argument(item) for item in value)
        if type(value) is dict:
            return {key: self.argument(item) for key, item in value.items()}
        if isinstance(value, slice):
            return slice(self.argument(value.start), self.argument(value.stop),
                         self.argument(value.step))
        if isinstance(value, tuple) and _holds_tensor(value):  # a named tuple (PackedSequence)
            return self.graph.call_function(type(value), tuple(self.argument(item)
                                                               for item in value))
        if _is_plain_constant(value):
            return value
        return self.graph.get_attr(self._constant(value))

    def _constant(self, value: Any, checked: bool = True) -> str:
        if checked and isinstance(value, Tensor) and value.requires_grad:
            raise RuntimeError("Cannot insert a Tensor that requires grad as a constant. "
                               "Consider making it a parameter or input, or detaching the "
                               "gradient")
        for name, kept in self.constants.items():
            if kept is value:
                return name
        name = f"{self.constant_prefix}_tensor_constant{len(self.constants)}"
        self.constants[name] = value
        return name

    def autocast_arguments(self, rewrite: autocast_state.Rewrite, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The arguments to record for a call autocast rewrote, each cast tensor a `to` node of
        the tensor it was cast from: those the op ran on when autocast rewrote this very call;
        when it rewrote one the function makes inside on tensors this call was given (conv1d's
        convolution), this call's, with those tensors cast. Otherwise the call as made."""
        if rewrite.given is None or rewrite.ran is None:
            return args, kwargs
        given_args, given_kwargs = rewrite.given
        ran_args, ran_kwargs = rewrite.ran
        casts: dict[int, tuple[Tensor, Tensor]] = {}
        pairs = [*zip(_leaves(given_args), _leaves(ran_args)),
                 *((old, new) for key in given_kwargs if key in ran_kwargs
                   for old, new in zip(_leaves(given_kwargs[key]), _leaves(ran_kwargs[key])))]
        for old, new in pairs:
            if isinstance(new, Tensor) and new is not old and isinstance(old, Tensor):
                casts[id(old)] = (old, new)
        if _same_objects(given_args, args) and given_kwargs.keys() == kwargs.keys() \
                and _same_objects(tuple(given_kwargs.values()), tuple(kwargs.values())):
            call_args, call_kwargs = ran_args, ran_kwargs  # (with a `dtype=` autocast adds)
        else:
            passed = {id(leaf) for leaf in _leaves((args, kwargs)) if isinstance(leaf, Tensor)}
            if any(key not in passed for key in casts):
                return args, kwargs  # an inner call on tensors of its own: not this call's
            call_args = _substituted(args, casts)
            call_kwargs = _substituted(kwargs, casts)
        for old, new in casts.values():
            known = self.values.get(id(new))
            if known is None or known[0] is not new:  # (a cached weight cast: one node)
                node = self.graph.call_method("to", (self.argument(old), new.dtype))
                self.values[id(new)] = (new, node)
        return call_args, call_kwargs

    # ------------------------------------------------------------------------- calls
    def record(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
               result: Any) -> Any:
        """Add the node for a call that returned `result`; the result to hand back (sizes
        as _TracedInts)."""
        op, target = "call_function", func
        if isinstance(func, TensorMethod):
            if func.name in _OPERATORS:
                target = _OPERATORS[func.name]
            elif func.name in _REFLECTED:
                target, args = _REFLECTED[func.name], (args[1], args[0], *args[2:])
            else:
                op, target = "call_method", func.name
        elif getattr(func, "__name__", None) == "__get__":
            name = _property_names.get(getattr(func, "__self__", None))
            if name is None:
                return result
            target, args = builtins.getattr, (args[0], name)
            if name == "device":  # followed, so that `device=x.device` moves with the inputs
                node = self.graph.call_function(target, (self.argument(args[0]), name))
                self.values[id(result)] = (result, node)
                return result
        elif getattr(func, "__name__", None) == "__set__":
            return result
        if target in _SIZES or (target is builtins.getattr and args[1] == "shape"):
            return self._size(op, target, args, kwargs, result)
        if not _holds_tensor(result) and target not in _WRITES and not (
                op == "call_method" and target.endswith("_")):
            return result
        node = self.graph.create_node(op, target, self.argument(args),
                                      self.argument(kwargs))
        self.bind(result, node)
        return result

    def _size(self, op: str, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
              result: Any) -> Any:
        node = self.graph.create_node(op, target, self.argument(args), self.argument(kwargs))
        if isinstance(result, tuple):
            from autodiff.dtypes import Size

            return Size(_TracedInt(size, self.graph.call_function(operator.getitem, (node, i)),
                                   self) for i, size in enumerate(result))
        return _TracedInt(result, node, self)

    def call_module(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                    result: Any) -> None:
        node = self.graph.call_module(name, self.argument(args), self.argument(kwargs))
        self.bind(result, node)

    # ------------------------------------------------------------------------- ends
    def inputs(self, names: list[str], values: list[Any]) -> None:
        for name, value in zip(names, values, strict=True):
            self.bind(value, self.graph.placeholder(name))

    def finish(self, result: Any) -> Graph:
        self.graph.output(self.argument(result))
        for node in reversed(list(self.graph.nodes)):
            if node.op in ("call_function", "call_method", "get_attr") and not node.users \
                    and not _is_write(node):
                self.graph.erase_node(node)
        self.graph.lint()
        self.values.clear()  # (the run's tensors, kept alive only while recording)
        return self.graph


# Tensor methods whose ints are recorded as values: `x.view(x.size(0), -1)` keeps the size.
_SIZES = frozenset({"size", "numel"})


class _TracedInt(int):
    """A size read while tracing: an int that knows the node it comes from, so that the
    graph computes it from the inputs, as PyTorch's tracer records sizes. Integer arithmetic
    on it is recorded too; anything else sees a plain int."""

    node: Node
    recorder: _Recorder

    def __new__(cls, value: int, node: Node, recorder: _Recorder) -> _TracedInt:
        traced = super().__new__(cls, value)
        traced.node = node
        traced.recorder = recorder
        return traced

    def __reduce__(self) -> tuple[Any, ...]:  # kept past the trace (a cached size): an int
        return int, (int(self),)

    def _recorded(self, function: Callable[..., Any], operands: tuple[Any, ...]) -> Any:
        result = function(*(int(v) if isinstance(v, _TracedInt) else v for v in operands))
        recorder = self.recorder
        if (type(result) is not int or not _state.recorders
                or _state.recorders[-1] is not recorder):
            return result
        node = recorder.graph.call_function(function, tuple(recorder.argument(v)
                                                            for v in operands))
        return _TracedInt(result, node, recorder)

    def __add__(self, other: Any) -> Any:
        return self._recorded(operator.add, (self, other))

    def __radd__(self, other: Any) -> Any:
        return self._recorded(operator.add, (other, self))

    def __sub__(self, other: Any) -> Any:
        return self._recorded(operator.sub, (self, other))

    def __rsub__(self, other: Any) -> Any:
        return self._recorded(operator.sub, (other, self))

    def __mul__(self, other: Any) -> Any:
        return self._recorded(operator.mul, (self, other))

    def __rmul__(self, other: Any) -> Any:
        return self._recorded(operator.mul, (other, self))

    def __floordiv__(self, other: Any) -> Any:
        return self._recorded(operator.floordiv, (self, other))

    def __rfloordiv__(self, other: Any) -> Any:
        return self._recorded(operator.floordiv, (other, self))

    def __mod__(self, other: Any) -> Any:
        return self._recorded(operator.mod, (self, other))

    def __neg__(self) -> Any:
        return self._recorded(operator.neg, (self,))


def _same_objects(first: tuple[Any, ...], second: tuple[Any, ...]) -> bool:
    return len(first) == len(second) and all(a is b for a, b in zip(first, second))


def _substituted(value: Any, casts: dict[int, tuple[Tensor, Tensor]]) -> Any:
    """`value` with each tensor autocast cast replaced by its cast (in nested containers)."""
    if isinstance(value, Tensor):
        found = casts.get(id(value))
        return found[1] if found is not None and found[0] is value else value
    if type(value) in (tuple, list):
        return type(value)(_substituted(item, casts) for item in value)
    if type(value) is dict:
        return {key: _substituted(item, casts) for key, item in value.items()}
    return value


def _leaves(value: Any) -> Iterator[Any]:
    """The items of nested tuples, lists and dicts, in order (dicts by their keys' order)."""
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value


def _holds_tensor(value: Any) -> bool:
    if isinstance(value, Tensor):
        return True
    if isinstance(value, (tuple, list)):
        return any(_holds_tensor(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_tensor(item) for item in value.values())
    return False


class _State(threading.local):
    def __init__(self) -> None:
        self.recorders: list[_Recorder] = []


_state = _State()


def is_tracing() -> bool:
    """True while `trace` runs the traced code (torch.jit.is_tracing)."""
    return bool(_state.recorders)


class _TracingMode(TorchFunctionMode):
    def __torch_function__(self, func: Callable[..., Any], types: Any, args: Any = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        recorder = _state.recorders[-1] if _state.recorders else None
        if recorder is None or recorder.muted:
            return func(*args, **kwargs)
        name = getattr(func, "name", None) if isinstance(func, TensorMethod) else None
        if name in _CONVERSIONS:
            warn(f"Converting a tensor to {_CONVERSIONS[name]}{_CONVERSION_TAIL}", TracerWarning,
                 stacklevel=2)
        if not autocast_state.state.active:
            return recorder.record(func, tuple(args), kwargs, func(*args, **kwargs))
        # Under autocast the graph keeps the casts the call made (PyTorch's tracer records
        # them as ops too), so the trace runs as traced with autocast off.
        with autocast_state.observing() as rewrite:
            result = func(*args, **kwargs)
        args, kwargs = recorder.autocast_arguments(rewrite, tuple(args), kwargs)
        return recorder.record(func, args, kwargs, result)


class _SubmoduleHooks:
    """Forward hooks on the traced module's submodules, held for the trace: each call of a
    submodule becomes a `call_module` node in its caller's graph; its first call is traced
    into a graph of its own."""

    def __init__(self, root: Module) -> None:
        self.paths: dict[int, tuple[str, Module]] = {}
        self.recorders: dict[int, _Recorder] = {}
        self.opaque: set[int] = set()  # submodules kept whole (`_Recorder.escaped`)
        self.handles: list[Any] = []
        # (module, its recorder, the arguments its caller gave it)
        self.stack: list[tuple[Module, _Recorder, tuple[Any, ...], dict[str, Any]]] = [
            (root, _state.recorders[-1], (), {})]
        for path, module in root.named_modules():
            if module is root:
                continue
            self.paths.setdefault(id(module), (path, module))
            self.handles.append(module.register_forward_pre_hook(self.enter, with_kwargs=True))
            self.handles.append(module.register_forward_hook(self.leave, with_kwargs=True))

    def enter(self, module: Module, args: tuple[Any, ...], kwargs: dict[str, Any]
              ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        # Inside a called (not traced) module, a ScriptModule, or a module traced already
        called_only = (self.stack[-1][1].muted or isinstance(module, ScriptModule)
                       or id(module) in self.recorders or id(module) in self.opaque)
        called_args, called_kwargs = args, kwargs
        if called_only:
            recorder = _Recorder(module, muted=True)
        else:
            recorder = _Recorder(module)
            self.recorders[id(module)] = recorder
            args, kwargs = _distinct_inputs(args, kwargs)
            recorder.inputs(*_input_names(module.forward, args, kwargs))
        self.stack.append((module, recorder, called_args, called_kwargs))
        _state.recorders.append(recorder)
        return args, kwargs

    def leave(self, module: Module, args: tuple[Any, ...], kwargs: dict[str, Any],
              result: Any) -> None:
        _, recorder, args, kwargs = self.stack.pop()
        _state.recorders.pop()
        if not recorder.muted:
            recorder.finish(result)
            if recorder.escaped:
                del self.recorders[id(module)]
                self.opaque.add(id(module))
        caller_module, caller, _, _ = self.stack[-1]
        if not caller.muted:
            caller.call_module(_relative_path(caller_module, module), args, kwargs, result)

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _relative_path(parent: Module, child: Module) -> str:
    for path, module in parent.named_modules():
        if module is child:
            return path
    raise RuntimeError(f"a submodule of type {type(child).__name__} was called from a module "
                       f"that does not hold it ({type(parent).__name__}); tracing records "
                       f"calls of a module's own submodules only")


def _input_names(function: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """Placeholder names and values for a call: the parameters' names where the signature
    binds them."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
    except (TypeError, ValueError):
        names = [f"input_{index}" for index in range(len(args))] + list(kwargs)
        return names, [*args, *kwargs.values()]
    names, values = [], []
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            names += [f"{name}_{index}" for index in range(len(value))]
            values += list(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            names += list(value)
            values += list(value.values())
        else:
            names.append(name)
            values.append(value)
    return names, values


@contextmanager
def _recording(recorder: _Recorder) -> Iterator[_Recorder]:
    depth = len(_state.recorders)
    _state.recorders.append(recorder)
    try:
        with _TracingMode():
            yield recorder
    finally:  # (with the submodules' recorders an exception left behind)
        del _state.recorders[depth:]


# ----------------------------------------------------------------------------- modules
class TracedModule(RecursiveScriptModule):
    """A module made by tracing: its parameters and buffers are the original module's, its
    submodules traced modules in turn (torch.jit.TracedModule)."""

    def _get_name(self) -> str:
        return self.original_name


class TopLevelTracedModule(TracedModule):
    """The module `trace` returns."""


def _build_traced(original: Module, top: bool = False,
                  opaque: frozenset[int] | set[int] = frozenset()) -> TracedModule:
    """The TracedModule tree of `original`, without methods yet: its parameters and buffers
    are the original's; ScriptModule and `opaque` submodules stay themselves."""
    traced = TopLevelTracedModule() if top else TracedModule()
    object.__setattr__(traced, "_original_name", type(original).__name__)
    traced.training = original.training
    for name, parameter in original._parameters.items():
        traced.register_parameter(name, parameter)
    persistent_not: set[str] = getattr(original, "_non_persistent_buffers_set", set())
    for name, buffer in original._buffers.items():
        traced.register_buffer(name, buffer, persistent=name not in persistent_not)
    for name, child in original._modules.items():
        if child is None or isinstance(child, ScriptModule) or id(child) in opaque:
            traced.add_module(name, child)
        else:
            traced.add_module(name, _build_traced(child, opaque=opaque))
    return traced


def _keep_whole(traced: Module, original: Module, opaque: set[int]) -> None:
    """Put the `opaque` modules a later method's trace found back in place of their traces."""
    for name, child in original._modules.items():
        if child is None or isinstance(child, ScriptModule):
            continue
        counterpart = traced._modules.get(name)
        if id(child) in opaque:
            traced._modules[name] = child
        elif isinstance(counterpart, TracedModule):
            _keep_whole(counterpart, child, opaque)


def _add_methods(traced: TopLevelTracedModule, original: Module, method_name: str,
                 recorder: _Recorder, hooks: _SubmoduleHooks) -> None:
    """Make the graphs of one traced method methods of `traced` and its submodules.

    A submodule called in this trace gets its graph as `forward`, or, where an earlier
    method's trace gave it one, as `forward1` (2, ...), which its callers here then call (as
    PyTorch names them)."""
    _keep_whole(traced, original, hooks.opaque)
    traced_of: dict[int, list[Module]] = {}
    for path, module in original.named_modules(remove_duplicate=False):
        traced_of.setdefault(id(module), []).append(traced.get_submodule(path))
    method_of: dict[int, str] = {}
    # Inner modules were entered after the modules that called them: named first, so that
    # their callers' calls can be renamed.
    for module_id, child in reversed(list(hooks.recorders.items())):
        _call_methods(child, method_of)
        targets = [m for m in traced_of.get(module_id, []) if isinstance(m, TracedModule)]
        if not targets:
            continue
        name = _method_name_for(targets[0])
        method_of[module_id] = name
        if name != "forward":
            _rename_constants(child, f"_{name}")
        for target in targets:
            _set_method(target, name, child)
    _call_methods(recorder, method_of)
    _set_method(traced, method_name, recorder)


def _method_name_for(target: TracedModule) -> str:
    """`forward` for a submodule's first trace, `forward1`, `forward2`, ... for later ones
    (PyTorch's names: each traced method of the parent calls a method of its own)."""
    count = sum(name == "forward" or (name.startswith("forward") and name[7:].isdigit())
                for name in target._method_names)
    return f"forward{count}" if count else "forward"


def _set_method(target: TracedModule, name: str, recorder: _Recorder) -> None:
    """`recorder`'s graph as the method `name` of `target`, with its constants (once: a
    module held at two paths is named once)."""
    if name in target._method_names:
        return
    for constant, value in recorder.constants.items():
        object.__setattr__(target, constant, value)
    target._set_graph(recorder.graph, name)


def _rename_constants(recorder: _Recorder, prefix: str) -> None:
    """Give a graph's constants names of their own (`_forward1_tensor_constant0`)."""
    renamed = {f"{prefix}{name}": value for name, value in recorder.constants.items()}
    for node in recorder.graph.nodes:
        if node.op == "get_attr" and node.target in recorder.constants:
            node.target = f"{prefix}{node.target}"
    recorder.constants = renamed


def _call_methods(recorder: _Recorder, method_of: dict[int, str]) -> None:
    """Calls of submodules whose graph in this trace is not their forward call that method."""
    if recorder.root is None:
        return
    for node in list(recorder.graph.nodes):
        if node.op != "call_module":
            continue
        callee = recorder.root.get_submodule(node.target)
        name = method_of.get(id(callee), "forward")
        if name == "forward":
            continue
        with recorder.graph.inserting_before(node):
            module_node = recorder.graph.get_attr(node.target)
            call = recorder.graph.call_method(name, (module_node, *node.args), dict(node.kwargs))
        node.replace_all_uses_with(call)
        recorder.graph.erase_node(node)


# ----------------------------------------------------------------------------- trace
def _as_tuple(example_inputs: Any) -> tuple[Any, ...]:
    """The arguments of a call: one tensor or dict is one argument, another iterable the
    arguments (PyTorch's make_tuple)."""
    if isinstance(example_inputs, (Tensor, dict)):
        return (example_inputs,)
    if not isinstance(example_inputs, tuple):
        return tuple(example_inputs)
    return example_inputs


class _CalledModules:
    """Global forward hooks held while a function is traced: the modules of autodiff's own
    it is inside. Their unseen tensors (nn.LSTM's) cannot be recorded, nor kept whole
    without a module to keep them in: refused."""

    def __init__(self, recorder: _Recorder) -> None:
        from autodiff.nn.modules.module import (
            register_module_forward_hook,
            register_module_forward_pre_hook,
        )

        self.recorder = recorder
        self.handles = [register_module_forward_pre_hook(self.enter),
                        register_module_forward_hook(self.leave, always_call=True)]

    def enter(self, module: Module, args: tuple[Any, ...]) -> None:
        if _state.recorders and _state.recorders[-1] is self.recorder:
            self.recorder.inside.append(module)

    def leave(self, module: Module, args: tuple[Any, ...], output: Any) -> None:
        if self.recorder.inside and self.recorder.inside[-1] is module:
            self.recorder.inside.pop()

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _distinct_inputs(args: tuple[Any, ...], kwargs: dict[str, Any]
                     ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The inputs with a tensor given twice replaced, the second time, by a view of it (an
    object of its own), so that each placeholder stands for one object."""
    from autodiff.overrides import _no_torch_function_mode

    seen: set[int] = set()

    def distinct(value: Any) -> Any:
        if isinstance(value, Tensor):
            if id(value) in seen:
                with _no_torch_function_mode():
                    return value.view_as(value)
            seen.add(id(value))
            return value
        if type(value) in (tuple, list):
            return type(value)(distinct(item) for item in value)
        if type(value) is dict:
            return {key: distinct(item) for key, item in value.items()}
        return value

    new_args = distinct(args)
    return new_args, distinct(kwargs)


def _check_output_containers(value: Any) -> None:
    """`strict`: a dict among the outputs is refused, a list warned about (PyTorch's)."""
    kind = "dict" if isinstance(value, dict) else "list" if isinstance(value, list) else None
    if kind is not None:
        message = (f"Encountering a {kind} at the output of the tracer might cause the trace to "
                   "be incorrect, this is only valid if the container structure does not change "
                   "based on the module's inputs. Consider using a constant container instead "
                   "(e.g. for `list`, use a `tuple` instead. for `dict`, use a `NamedTuple` "
                   "instead). If you absolutely need this and know the side effects, pass "
                   "strict=False to trace() to allow this behavior.")
        if kind == "dict":
            raise RuntimeError(message)
        warn(message, TracerWarning, stacklevel=4)
    if isinstance(value, (tuple, list)):
        for item in value:
            _check_output_containers(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_output_containers(item)


def _trace_call(function: Callable[..., Any], root: Module | None, args: tuple[Any, ...],
                kwargs: dict[str, Any], signature_of: Callable[..., Any],
                constant_prefix: str = "") -> tuple[_Recorder, _SubmoduleHooks | None, Any]:
    recorder = _Recorder(root, constant_prefix=constant_prefix)
    args, kwargs = _distinct_inputs(args, kwargs)
    recorder.inputs(*_input_names(signature_of, args, kwargs))
    hooks = None
    with _recording(recorder):
        called = _CalledModules(recorder) if root is None else None
        try:
            if root is not None:
                hooks = _SubmoduleHooks(root)
            result = function(*args, **kwargs)
        finally:
            if hooks is not None:
                hooks.remove()
            if called is not None:
                called.remove()
    recorder.finish(result)
    return recorder, hooks, result


# Ops whose results differ from run to run (dropout only while training).
_RANDOM = frozenset({
    "rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "randperm",
    "bernoulli", "bernoulli_", "multinomial", "normal", "normal_", "uniform_", "poisson",
    "exponential_", "geometric_", "cauchy_", "log_normal_", "random_"})
_DROPOUT = frozenset({"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                      "feature_alpha_dropout", "dropout_", "alpha_dropout_",
                      "feature_alpha_dropout_"})


def _nondeterministic(graphs: list[Graph]) -> list[Node]:
    found = []
    for graph in graphs:
        for node in graph.nodes:
            if node.op not in ("call_function", "call_method"):
                continue
            name = node.target if node.op == "call_method" else getattr(node.target,
                                                                        "__name__", "")
            if name in _DROPOUT:
                training = node.kwargs.get("training", node.args[2] if len(node.args) > 2
                                           else True)
                if training is not False:
                    found.append(node)
            elif name in _RANDOM:
                found.append(node)
    return found


def _compare_outputs(expected: Any, actual: Any, rtol: float, atol: float) -> None:
    from autodiff.testing import assert_close

    flat_expected, flat_actual = _flatten(expected), _flatten(actual)
    for index, (want, got) in enumerate(zip(flat_expected, flat_actual, strict=False)):
        try:
            with warnings.catch_warnings():  # (relative differences where values are 0)
                warnings.simplefilter("ignore", RuntimeWarning)
                assert_close(got, want, rtol=rtol, atol=atol, equal_nan=True)
        except AssertionError as error:
            warn(f"Output nr {index + 1}. of the traced function does not match the "
                 f"corresponding output of the Python function. Detailed error:\n{error}",
                 TracerWarning, stacklevel=4)


def _flatten(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flatten(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _flatten(item)]
    return []


def _check(traced: Any, function: Callable[..., Any], root: Module | None,
           check_inputs: list[Any] | None, example: tuple[Any, ...],
           kwargs: dict[str, Any], code: str, tolerance: float,
           signature_of: Callable[..., Any], graphs: list[Graph], name: str = "forward",
           constant_prefix: str = "") -> None:
    """`check_trace`: trace again on each check input (the same graph, or TracingCheckError)
    and compare the traced and the Python function's outputs (a TracerWarning if they
    differ)."""
    random_nodes = _nondeterministic(graphs)
    if random_nodes:
        listed = "".join(f"\n\t{node.format_node()}" for node in random_nodes)
        warn(f"Trace had nondeterministic nodes. Did you forget call .eval() on your model? "
             f"Nodes:{listed}\nThis may cause errors in trace checking. To disable trace "
             f"checking, pass check_trace=False to torch.jit.trace()", TracerWarning,
             stacklevel=3)
    for inputs in (check_inputs if check_inputs is not None else [example]):
        args = _as_tuple(inputs)
        call_kwargs = kwargs if check_inputs is None else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TracerWarning)
            again, _, _ = _trace_call(function, root, args, call_kwargs, signature_of,
                                      constant_prefix)
        from ._module import compile_graph

        code_again = compile_graph(again.graph, name)[1]
        if code_again != code:
            raise TracingCheckError(
                f"First graph:\n{code}\nGraph traced again on the check inputs:\n"
                f"{code_again}", None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TracerWarning)
            expected = function(*args, **call_kwargs)
        _compare_outputs(expected, traced(*args, **call_kwargs), tolerance, 1e-5)


def trace(func: Any, example_inputs: Any = None, optimize: Any = None,
          check_trace: bool = True, check_inputs: list[Any] | None = None,
          check_tolerance: float = 1e-5, strict: bool = True,
          _force_outplace: bool = False, _module_class: Any = None,
          _compilation_unit: Any = None, example_kwarg_inputs: dict[str, Any] | None = None,
          _store_inputs: bool = True) -> Any:
    """Run `func` (a function or Module) on `example_inputs` (a tuple of arguments, or one
    tensor) and return a ScriptFunction / TopLevelTracedModule that replays the recorded ops.

    check_trace: run the traced and the Python code again on `check_inputs` (default: the
    example) and warn where the outputs differ; trace again and raise TracingCheckError where
    the graph differs. A ScriptModule is returned as it is."""
    if isinstance(func, (ScriptModule, ScriptFunction)):
        warn("The input to trace is already a ScriptModule, tracing it is a no-op. "
             "Returning the object as is.", stacklevel=2)
        return func
    is_forward = inspect.ismethod(func) and isinstance(func.__self__, Module)
    if (isinstance(func, Module) or is_forward) and example_inputs is None and not isinstance(
            example_kwarg_inputs, dict):
        raise RuntimeError("example_kwarg_inputs should be a dict")
    if isinstance(func, Module):
        return trace_module(func, {"forward": example_inputs}, None, check_trace,
                            [{"forward": c} for c in check_inputs] if check_inputs else None,
                            check_tolerance, strict, example_inputs_is_kwarg=(
                                example_kwarg_inputs is not None),
                            _kwargs=example_kwarg_inputs)
    if inspect.ismethod(func) and isinstance(func.__self__, Module):
        if func.__name__ != "forward":
            raise AttributeError("trace doesn't support compiling individual module's "
                                 "functions.\nPlease use trace_module")
        return trace(func.__self__, example_inputs, optimize, check_trace, check_inputs,
                     check_tolerance, strict, example_kwarg_inputs=example_kwarg_inputs)
    args = _as_tuple(example_inputs) if example_kwarg_inputs is None else ()
    kwargs = dict(example_kwarg_inputs or {})
    recorder, _, result = _trace_call(func, None, args, kwargs, func)
    if strict:
        _check_output_containers(result)
    constants = Module()
    for name, value in recorder.constants.items():
        object.__setattr__(constants, name, value)
    traced = ScriptFunction(func, recorder.graph, constants)
    if check_trace:
        _check(traced, func, None, check_inputs, args, kwargs, traced.code, check_tolerance,
               func, [recorder.graph])
    return traced


def trace_module(mod: Module, inputs: dict[str, Any], optimize: Any = None,
                 check_trace: bool = True, check_inputs: list[dict[str, Any]] | None = None,
                 check_tolerance: float = 1e-5, strict: bool = True,
                 _force_outplace: bool = False, _module_class: Any = None,
                 _compilation_unit: Any = None, example_inputs_is_kwarg: bool = False,
                 _store_inputs: bool = True, *, _kwargs: dict[str, Any] | None = None
                 ) -> ScriptModule:
    """Trace methods of `mod`: `inputs` maps each method name to its example inputs; the
    result's method of that name replays the recorded ops (torch.jit.trace_module)."""
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    from ._module import compile_graph

    traced: TopLevelTracedModule | None = None
    for method_name, example in inputs.items():
        method = getattr(mod, method_name)
        if example_inputs_is_kwarg:
            args: tuple[Any, ...] = ()
            kwargs = dict(_kwargs or example or {})
        else:
            args, kwargs = _as_tuple(example), {}
        is_forward = method_name == "forward"
        function = mod if is_forward else method
        prefix = "" if is_forward else f"_{method_name}"
        recorder, hooks, result = _trace_call(function, mod, args, kwargs, method, prefix)
        assert hooks is not None
        if strict:
            _check_output_containers(result)
        if recorder.escaped:
            # autodiff's own module, not all of whose ops the mode saw: kept whole
            from ._script import script

            scripted: ScriptModule = script(mod)
            return scripted
        code = compile_graph(recorder.graph, method_name)[1]  # (before calls are renamed)
        graphs = [recorder.graph, *(r.graph for r in hooks.recorders.values())]
        if traced is None:
            built = _build_traced(mod, top=True, opaque=hooks.opaque)
            assert isinstance(built, TopLevelTracedModule)
            traced = built
        _add_methods(traced, mod, method_name, recorder, hooks)
        if check_trace:
            checks = [c[method_name] for c in check_inputs] if check_inputs else None
            _check(getattr(traced, method_name), function, mod, checks, args, kwargs, code,
                   check_tolerance, method, graphs, method_name, prefix)
    assert traced is not None
    _add_exported(traced, mod)
    return traced


def _add_exported(traced: TopLevelTracedModule, original: Module) -> None:
    """The `@export` methods of the traced modules' classes, as methods made from the graph
    autodiff.fx traces of each (PyTorch scripts them). One fx cannot trace (control flow on
    tensor values) is left out."""
    from ._module import fx_graph_of
    from ._script import exported_methods

    for path, module in original.named_modules():
        target = traced.get_submodule(path)
        if not isinstance(target, TracedModule):
            continue
        for name in exported_methods(type(module)):
            if name in target._method_names:
                continue
            # (fx keeps the tensors it makes constants on the module it traces: a copy)
            scratch = type(module).__new__(type(module))
            scratch.__dict__.update(module.__dict__)
            try:
                graph = fx_graph_of(scratch, name)
            except RuntimeError:
                continue
            for node in graph.nodes:
                if node.op != "get_attr" or _has_attribute(target, node.target):
                    continue
                value = _attribute(scratch, node.target)
                owner_path, _, attribute = node.target.rpartition(".")
                if attribute.startswith("_tensor_constant"):
                    attribute = f"_{name}{attribute}"
                    node.target = f"{owner_path}.{attribute}" if owner_path else attribute
                object.__setattr__(target.get_submodule(owner_path), attribute, value)
            target._set_graph(graph, name)


def _attribute(module: Module, path: str) -> Any:
    value: Any = module
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _has_attribute(module: Module, path: str) -> bool:
    try:
        _attribute(module, path)
    except AttributeError:
        return False
    return True
