"""Tracing: the first call of a compiled function with a new signature runs it eagerly while
every outermost call this thread makes into a backend is recorded as a `Step`.

Arrays are told apart by identity: each array a step returns gets a value number, and a later
step that takes the same object refers to that number. Arrays the trace did not make are either
inputs (the arrays of the function's Tensor arguments and of the state it reaches: parameters,
their `.grad`, optimizer state, registered up front by `guards.py`) or constants (held by
reference). A few places in the tape touch arrays without a backend call; they ask `current()`
and record through `record_inplace` (the engine's in-place `.grad +=`) or hand out `Traced`
proxies (an optimizer's update rule, written with array operators). An elementwise kernel a
backend runs as its Python (`Backend.kernel_as_python`) is run on the proxies so that its own
array operations become the steps (`Tracer.record_kernel`), or recorded whole where they cannot.

Whatever makes Python depend on the values of arrays (reading a value, a data-dependent shape,
a hook, a `requires_grad` change) is a graph break: with `fullgraph` it raises `CompileError`
at once, naming the operation and the user's line; otherwise the eager run goes on untouched
and the signature stays eager.
"""

from __future__ import annotations

import operator
import os
import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from backends.kernels import KERNELS
from backends.primitives import PRIMITIVES

if TYPE_CHECKING:
    from backends import Backend

# Backend methods that describe arrays or dtypes without reading their values.
_METADATA = frozenset({
    "dtype_name", "name_of_dtype", "native_dtype", "is_floating", "is_integer", "is_bool",
    "is_exclusive", "is_array", "out_argument", "result_type", "can_cast", "finfo", "iinfo",
    "isdtype", "is_pinned_host", "bind_kernel", "new_generator", "strides", "storage_offset",
    "storage_size", "dlpack_device", "kernel_as_python", "scalar_operand",
})
# Backend methods that hand array values to Python.
_VALUE_READS = frozenset({
    "item", "tolist", "to_numpy", "host_copy", "pinned_host_copy", "data_ptr", "to_dlpack",
    "any_true", "all_true", "host_operand",
})
# Backend methods whose result's shape depends on the values of their input.
_DATA_DEPENDENT = frozenset({
    "unique_rows",
    "nonzero", "argwhere", "unique_all", "unique_counts", "unique_inverse", "unique_values",
    "unique", "unique_consecutive", "bincount", "compress", "extract", "flatnonzero",
})
# Steps a replay may drop when nothing reads their result: they neither write into an array
# nor advance a generator.
PURE = frozenset(PRIMITIVES) | frozenset(
    name for name in KERNELS if not name.endswith(("_step", "_update"))) | frozenset({
    "asarray", "zeros", "ones", "full", "empty", "eye", "arange", "linspace", "logspace",
    "astype", "getitem", "zeros_like", "ones_like", "contiguous_copy", "sliding_windows",
    "window_view", "windows", "strided_view", "take", "take_along_axis", "sort", "sort_order",
    "topk", "argsort", "logsumexp", "sum", "mean", "max", "min", "var", "prod",
    "cumulative_sum", "cumulative_prod", "cumulative_extreme", "logcumsumexp", "einsum",
    "tensordot", "det", "inv", "cholesky", "qr", "svd", "slogdet", "solve", "searchsorted",
    "inverse_permutation", "flip", "roll", "tile", "repeat", "stack", "concat", "squeeze",
    "expand_dims", "permute_dims", "reshape", "broadcast_to", "where", "clip", "transfer",
    "from_numpy", "argmax", "argmin", "restrided", "lay_out_empty",
})
_LIBRARY = tuple(os.path.dirname(os.path.dirname(path)) + os.sep for path in (
    __file__, os.path.join(os.path.dirname(__file__), "..", "..", "backends", "x")))


# Steps whose result may be a view of (or the very object of) an argument.
VIEWS = frozenset({
    "reshape", "permute_dims", "getitem", "expand_dims", "squeeze", "broadcast_to", "asarray",
    "astype", "strided_view", "window_view", "sliding_windows", "as_strided", "flip",
    "_transpose", "index_add", "put_along_axis", "restrided", "lay_out_empty",
})
# Draws from a generator (its `generator=` argument, or the device's default one).
_RANDOM = frozenset({"rand", "randn", "randint", "randperm", "poisson"})
# Steps that write into their first argument only.
WRITES_FIRST = frozenset({
    "setitem", "_setitem", "index_add", "put_along_axis", "index_reduce", "iadd", "isub", "imul",
    "itruediv", "ifloordiv", "imod", "ipow", "iand", "ior", "ixor",
})


class _NotRecordable(Exception):
    """Raised inside `Tracer.record_kernel` where a kernel's operations cannot be recorded."""


_NOT_RECORDED = object()


class CompileError(RuntimeError):
    """A graph break under `compile(fullgraph=True)`."""


class GraphBreak:
    """Why a trace could not become a program, and the user's line where it happened."""

    __slots__ = ("location", "reason")

    def __init__(self, reason: str, location: str) -> None:
        self.reason = reason
        self.location = location

    def __repr__(self) -> str:
        return f"{self.reason} ({self.location})"


class Ref:
    """A value of the program inside a step's arguments."""

    __slots__ = ("vid",)

    def __init__(self, vid: int) -> None:
        self.vid = vid


class Step:
    """One recorded call: `function(*args, **kwargs)` with `Ref`s for values; `outputs` is a
    value number, a tuple of them (a function returning several arrays) or None."""

    __slots__ = ("args", "function", "kwargs", "name", "outputs", "pure")

    def __init__(self, name: str, function: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any], outputs: int | tuple[int, ...] | None,
                 pure: bool) -> None:
        self.name = name
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        self.pure = pure

    def uses(self) -> list[int]:
        found: list[int] = []
        _collect(self.args, found)
        _collect(self.kwargs, found)
        return found

    def output_ids(self) -> tuple[int, ...]:
        outputs = self.outputs
        if outputs is None:
            return ()
        if isinstance(outputs, int):
            return (outputs,)
        return outputs


def _collect(obj: Any, found: list[int]) -> None:
    if type(obj) is Ref:
        found.append(obj.vid)
    elif type(obj) in (tuple, list):
        for item in obj:
            _collect(item, found)
    elif type(obj) is dict:
        for item in obj.values():
            _collect(item, found)


class _State:
    tracer: Tracer | None = None


state = _State()


def current() -> Tracer | None:
    """The tracer recording this thread, if any (one attribute test when none is)."""
    tracer = state.tracer
    if tracer is not None and tracer.thread == threading.get_ident() and tracer.recording:
        return tracer
    return None


def graph_break(reason: str) -> None:
    """Report a graph break to this thread's tracer (nothing when none records)."""
    tracer = current()
    if tracer is not None:
        tracer.graph_break(reason)


def requires_grad_change(tensor: Any) -> None:
    """A Tensor's requires_grad is set while tracing: a graph break when the Tensor existed
    before the call (an argument, the state, a tensor the function holds), whose flag is part
    of the signature or outlives the call; a Tensor the call made (`func.grad` makes its input
    a fresh leaf) is the call's own business."""
    tracer = current()
    if tracer is None:
        return
    data = tensor._data
    if id(tensor) in tracer.outside or type(data) is not Traced or data.tracer is not tracer:
        tracer.graph_break("a requires_grad change of a tensor from outside the call")
        return
    tracer.keep.append(tensor)  # its id stays its own while the trace is checked
    tracer.made_leaves.add(id(tensor))


class Tracer:
    """Records one eager run of a compiled function as steps over numbered values."""

    def __init__(self, fullgraph: bool) -> None:
        self.fullgraph = fullgraph
        self.thread = threading.get_ident()
        self.recording = True
        self.depth = 0
        self.steps: list[Step] = []
        self.ids: dict[int, int] = {}
        self.keep: list[Any] = []  # every object numbered stays alive: ids are not reused
        self.values: list[Any] = []  # value number -> the array it had in the trace
        self.inputs: list[int] = []  # the value numbers of the input arrays, in slot order
        self.constants: dict[int, Any] = {}
        self.breaks: list[GraphBreak] = []
        self.mutated = False  # a step that writes has been recorded: no more guards
        self.shared: set[int] = set()  # values that may be the caller's memory
        # What a replay must put back if a guard fails after the call wrote something: the
        # input arrays written and the generators drawn from so far (`restore`, `reseed`).
        self.restorable = True
        self.written: list[int] = []
        self.drawn: list[Any] = []
        self.restore: set[int] = set()
        self.reseed: set[Any] = set()
        self.backward_ran = False
        self.grad_leaves: list[Any] = []  # leaves whose .grad the engine wrote
        self.updated: list[Any] = []  # tensors an optimizer rule wrote through `Traced`
        self.outside: set[int] = set()  # ids of the argument and state Tensors
        self.made_leaves: set[int] = set()  # ids of Tensors the call made require grad
        self._patched: list[tuple[Backend, dict[str, Any]]] = []
        self.probing = False  # recording a kernel's operations (`record_kernel`)
        self.kernel_operations = True  # whether to try (compile's "kernel_operations" option)

    # ----------------------------------------------------------------------------- values
    def new_value(self, array: Any) -> int:
        vid = len(self.values)
        self.values.append(array)
        self.ids[id(array)] = vid
        self.keep.append(array)
        return vid

    def note_updated(self, *tensors: Any) -> None:
        """Tensors an optimizer rule is handed (to write, or read): the compiled function must
        reach those whose arrays came from outside the call. One whose array the call made
        and no caller's array shares (a `.grad` this call's backward created) is its own."""
        for tensor in tensors:
            if tensor is None:
                continue
            data = tensor._data
            if type(data) is Traced and data.tracer is self and data.vid not in self.shared:
                continue
            self.updated.append(tensor)

    def add_input(self, array: Any) -> Traced:
        """An array the program reads from its caller (a Tensor argument, a parameter...): the
        proxy the tensor holds while tracing."""
        if type(array) is Traced:  # one tensor reached twice
            self.inputs.append(array.vid)
            return array
        known = self.ids.get(id(array))
        vid = known if known is not None and self.values[known] is array else None
        if vid is None:
            vid = self.new_shared(array)
        self.inputs.append(vid)
        return Traced(self, array, vid)

    def new_shared(self, array: Any) -> int:
        vid = self.new_value(array)
        self.shared.add(vid)
        return vid

    def value_of(self, array: Any) -> int:
        """The value number of an array a step reads; an array seen for the first time is a
        constant, held by reference."""
        if type(array) is Traced:
            return array.vid
        vid = self.ids.get(id(array))
        if vid is not None and self.values[vid] is array:
            return vid
        vid = self.new_shared(array)
        self.constants[vid] = array
        return vid

    def is_constant(self, array: Any) -> bool:
        vid = self.ids.get(id(array))
        return vid is None or vid in self.constants

    # ----------------------------------------------------------------------------- breaks
    def graph_break(self, reason: str) -> None:
        if self.probing:
            raise _NotRecordable(reason)
        location = user_location()
        if self.fullgraph:
            self.stop()
            raise CompileError(
                f"autodiff.compile(fullgraph=True): graph break at {location}: {reason}")
        self.breaks.append(GraphBreak(reason, location))
        self.recording = False  # the rest runs eagerly, unrecorded

    def guard(self, what: str, check: Callable[[Any], None], array: Any) -> None:
        """Python read a value: the program checks at replay that it reads the same, and the
        call runs eagerly where it does not. Only before the first step that writes anything
        (a failed check must leave nothing changed); later it is a graph break."""
        if self.probing:
            raise _NotRecordable(what)
        if self.mutated and not self.restorable:
            self.graph_break(f"{what} reads a tensor's value into Python after the call "
                             "changed state")
            return
        if self.mutated:  # the replay saves what was written so far, to put it back
            self.restore.update(self.written)
            self.reseed.update(self.drawn)
        self.steps.append(Step("guard", check, (Ref(self.value_of(array)),), {}, None, False))

    def append(self, step: Step) -> None:
        """Add a step, keeping track of which values may share memory with the caller's
        arrays (inputs, constants, their views) and whether one has been written."""
        uses = step.uses()
        if step.name in VIEWS and any(vid in self.shared for vid in uses):
            self.shared.update(step.output_ids())
        if not step.pure:
            if step.name in _RANDOM:  # a draw moves its generator on
                self.mutated = True
                generator = _generator_of(step)
                if generator is not step.function.__self__.default_generator:  # type: ignore
                    # Python may seed or replace it between calls, unseen by the trace.
                    self.graph_break("a random draw from a generator= argument")
                self.drawn.append(generator)
            else:
                target = uses[0] if step.name in WRITES_FIRST and uses else None
                if target is None or target in self.shared:
                    self.mutated = True
                    if target in self.inputs:
                        self.written.append(target)
                    else:
                        self.restorable = False
        self.steps.append(step)

    # ----------------------------------------------------------------------------- backends
    def start(self, backends: list[Backend]) -> None:
        """Put a recording wrapper in front of every public method of each backend (as an
        instance attribute, which is how primitives are bound anyway)."""
        state.tracer = self
        for backend in backends:
            saved = dict(vars(backend))
            self._patched.append((backend, saved))
            for name in dir(backend):
                if name.startswith("_"):
                    continue
                original = getattr(backend, name)
                if not callable(original) or isinstance(original, type):
                    continue
                if name in _METADATA:
                    setattr(backend, name, _unwrapping(original))
                else:
                    setattr(backend, name, _recording(self, backend, name, original))

    def stop(self) -> None:
        for backend, saved in self._patched:
            vars(backend).clear()
            vars(backend).update(saved)
        self._patched = []
        if state.tracer is self:
            state.tracer = None
        self.recording = False

    def record_call(self, backend: Backend, name: str, function: Callable[..., Any],
                    args: tuple[Any, ...], kwargs: dict[str, Any], result: Any,
                    traced: bool) -> Any:
        """After a backend call ran: check it, make it a step, number its results."""
        if name in _VALUE_READS:
            if _reads_values(self, backend, args):
                if name in ("item", "any_true", "all_true"):  # a replay checks the same value
                    self.guard(f"{name}()", _ItemGuard(function, result), args[0])
                else:
                    self.graph_break(f"{name}() reads a tensor's values into Python")
            return result
        if name in _DATA_DEPENDENT:
            self.graph_break(f"{name}() has a result whose shape depends on the values")
            return result
        if name == "getitem" and _has_bool_array(backend, args[1:]):
            self.graph_break("indexing with a boolean mask (a data-dependent shape)")
            return result
        arrays_out: tuple[Any, ...]
        if result is None:
            arrays_out = ()
        elif backend.is_array(result):
            arrays_out = (result,)
        elif type(result) in (tuple, list) or isinstance(result, tuple):
            arrays_out = tuple(result)
            if not all(backend.is_array(item) for item in arrays_out):
                if _reads_values(self, backend, args):
                    self.graph_break(f"{name}() returns Python values computed from arrays")
                return result
        else:
            if _reads_values(self, backend, args):
                self.graph_break(f"{name}() returns Python values computed from arrays")
            return result
        pure = name in PURE and "out" not in kwargs
        step_args = _template(self, backend, args)
        step_kwargs = _template(self, backend, kwargs)
        outputs: int | tuple[int, ...] | None
        if result is None:
            outputs = None
        elif len(arrays_out) == 1 and result is arrays_out[0]:
            outputs = self.new_value(result)
        else:
            outputs = tuple(self.new_value(item) for item in arrays_out)
        self.append(Step(name, function, step_args, step_kwargs, outputs, pure))
        if outputs is None:
            return result
        # A result that is one of the arguments (`out=`, a no-op cast) stays that proxy: the
        # tape tests `result is argument`.
        # Only where the function always returns that argument: others (a 0-d `where`) may
        # return one of their inputs for some values only.
        given: list[Any] = []
        if "out" in kwargs or name in ("asarray", "astype"):
            _arrays(backend, (args, kwargs), given)
        same = {id(item.array): item for item in given if type(item) is Traced}
        if isinstance(outputs, int):
            return _proxy_of(self, same, result, outputs)
        items = [_proxy_of(self, same, item, vid) for item, vid in zip(result, outputs)]
        make = getattr(type(result), "_make", type(result))  # a named tuple's constructor
        return make(items)

    def record_kernel(self, backend: Backend, function: Callable[..., Any],
                      args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run an elementwise kernel's Python (`function(xp, ...)`, as the backend runs it) on
        the proxies, so that each of its array operations is recorded as a step of its own.
        Where that cannot be done (an operation the proxies do not record, a value read into
        Python, a result that is not an array the kernel made) the steps are taken back and
        `_NOT_RECORDED` returned: the call is then recorded whole, as any backend call."""
        mark = len(self.steps)
        first = len(self.values)
        flags = (self.mutated, self.restorable, len(self.written), len(self.drawn))
        self.probing = True
        try:
            result = function(backend.xp, *args, **kwargs)
        except Exception:  # (a genuine error is raised again by the whole call)
            result = _NOT_RECORDED
        finally:
            self.probing = False
        made = result if type(result) in (tuple, list) else (result,)
        if result is not _NOT_RECORDED and all(
                type(item) is Traced and item.tracer is self and item.vid >= first
                for item in made):
            return result
        del self.steps[mark:]
        self.mutated, self.restorable = flags[0], flags[1]
        del self.written[flags[2]:]
        del self.drawn[flags[3]:]
        return _NOT_RECORDED

    def scalar(self, backend: Backend, array: Any) -> Traced:
        """The Python number in a 0-d array, kept as a value of the program (an optimizer's
        step count, written by the call before it is read): each replay reads the array
        again, and the arithmetic on the number is recorded through the proxy's operators
        (a guard on the number would fail at every next step)."""
        read = _ScalarRead(type(backend).item.__get__(backend))
        value = read(real(array))
        vid = self.new_value(value)
        self.append(Step("item", read, (_template(self, None, array),), {}, vid, True))
        return Traced(self, value, vid)

    def record_inplace(self, symbol: str, target: Any, operand: Any) -> Any:
        """`target <symbol>= operand` (symbol "+", "-", "*", "/") on arrays the tape holds,
        run now and recorded. Returns what the operator returned."""
        function = _INPLACE[symbol]
        target_array = target.array if type(target) is Traced else target
        operand_array = operand.array if type(operand) is Traced else operand
        result = function(target_array, operand_array)
        if result is not target_array:  # an immutable scalar: rebinding is not in place
            self.graph_break(f"in-place {symbol}= on a value that cannot be written in place")
            return result
        self.append(Step(function.__name__, function, (Ref(self.value_of(target)),
                                                             _template(self, None, operand)),
                               {}, None, False))
        return result

    def record_mutation(self, function: Callable[..., Any], *operands: Any,
                        **kwargs: Any) -> None:
        """An operator that writes into its first operand (`array[key] = value`), or a ufunc
        with `out=`."""
        function(*_unwrap(operands), **_unwrap(kwargs))
        step = Step(function.__name__, function, _template(self, None, operands),
                    _template(self, None, kwargs), None, False)
        if "out" in kwargs:  # writes into `out` only
            for vid in _template_ids(step.kwargs["out"]):
                if vid in self.shared:
                    self.mutated = True
                    if vid in self.inputs:
                        self.written.append(vid)
                    else:
                        self.restorable = False
            self.steps.append(step)
            return
        self.append(step)

    def record_opaque(self, name: str, kernel: Callable[..., Any], args: tuple[Any, ...],
                      kwargs: dict[str, Any], pure: bool) -> Any:
        """A call the trace does not look into (a custom operator's kernel, written with any
        library): it runs now on the real arrays with nothing inside recorded, and is one
        step that runs it again on the replay's arrays, as torch.compile calls a custom op."""
        from ..tensor import _wrap

        call = _OpaqueCall(kernel, args, kwargs)
        if call.differentiable():  # its own ops would record nodes over the real arrays
            self.graph_break(f"custom operator {name} recording its own autograd graph")
            return kernel(*args, **kwargs)
        arrays = call.arrays()
        self.depth += 1
        try:
            result, made = call.run(_unwrap(arrays), keep=True)
        finally:
            self.depth -= 1
        outputs: int | tuple[int, ...] | None
        if made is None:
            outputs = None
        elif isinstance(made, tuple):
            outputs = tuple(self.new_value(item._data) for item in made)
        else:
            outputs = self.new_value(made._data)
        self.append(Step(name, call, tuple(_template(self, None, arrays)), {}, outputs, pure))
        # New Tensors around the proxies: a returned Tensor may be one the function keeps
        # (a cache), whose array must stay its own.
        if made is None:
            return result
        if isinstance(outputs, int):
            return _wrap(Traced(self, made._data, outputs), made._backend)
        proxies = [_wrap(Traced(self, tensor._data, vid), tensor._backend)
                   for tensor, vid in zip(made, outputs)]  # type: ignore[arg-type]
        return type(result)(proxies)

    def record_operator(self, function: Callable[..., Any], *operands: Any,
                        **kwargs: Any) -> Traced:
        """A binary or unary array operator (or ufunc) on a proxy: a new value."""
        result = function(*_unwrap(operands), **_unwrap(kwargs))
        outputs = self.new_value(result)
        self.append(Step(getattr(function, "__name__", "ufunc"), function,
                         _template(self, None, operands), _template(self, None, kwargs),
                         outputs, True))
        return Traced(self, result, outputs)


class _OpaqueCall:
    """A kernel on Tensors as a function of the arrays of its Tensor arguments (Tensors in
    lists too): each call wraps the arrays it is given in new Tensors in their places, and
    returns the arrays of the Tensors the kernel returned."""

    def __init__(self, kernel: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        from ..tensor import Tensor

        self.kernel = kernel
        self.args = args
        self.kwargs = kwargs
        self.tensors = [tensor for value in (*args, *kwargs.values())
                        for tensor in ([value] if isinstance(value, Tensor) else
                                       value if isinstance(value, list) else [])
                        if isinstance(tensor, Tensor)]
        self.__name__ = getattr(kernel, "__name__", "custom_op")

    def differentiable(self) -> bool:
        from ..grad_mode import state as grad_state

        return grad_state.enabled and any(tensor._requires_grad for tensor in self.tensors)

    def arrays(self) -> list[Any]:
        return [tensor._data for tensor in self.tensors]

    def run(self, arrays: list[Any], keep: bool = False) -> Any:
        from ..tensor import Tensor, _wrap

        fresh = iter([_wrap(array, tensor._backend)
                      for array, tensor in zip(arrays, self.tensors)])
        replaced = {id(tensor): next(fresh) for tensor in self.tensors}

        def swap(value: Any) -> Any:
            if isinstance(value, Tensor):
                return replaced[id(value)]
            if isinstance(value, list):
                return [swap(item) for item in value]
            return value

        result = self.kernel(*[swap(value) for value in self.args],
                             **{key: swap(value) for key, value in self.kwargs.items()})
        if isinstance(result, Tensor):
            made: Any = result
        elif isinstance(result, (tuple, list)) and all(isinstance(item, Tensor)
                                                       for item in result):
            made = tuple(result)
        elif result is None:
            made = None
        else:
            raise CompileError("a custom operator returning numbers cannot be compiled")
        if keep:
            return result, made
        if made is None:
            return None
        if isinstance(made, tuple):
            return tuple(tensor._data for tensor in made)
        return made._data

    def __call__(self, *arrays: Any) -> Any:
        return self.run(list(arrays))


_INPLACE = {"+": operator.iadd, "-": operator.isub, "*": operator.imul, "/": operator.itruediv,
            "//": operator.ifloordiv, "%": operator.imod, "**": operator.ipow,
            "&": operator.iand, "|": operator.ior, "^": operator.ixor}


def _recording(tracer: Tracer, backend: Backend, name: str,
               original: Callable[..., Any]) -> Callable[..., Any]:
    def method(*args: Any, **kwargs: Any) -> Any:
        if tracer.depth or not tracer.recording or threading.get_ident() != tracer.thread:
            if _has_traced(args) or _has_traced(kwargs):
                return original(*_unwrap(args), **_unwrap(kwargs))
            return original(*args, **kwargs)
        traced = _has_traced(args) or _has_traced(kwargs)
        if traced and name in KERNELS and tracer.kernel_operations:
            python = backend.kernel_as_python(name)
            if python is not None:
                result = tracer.record_kernel(backend, python, args, kwargs)
                if result is not _NOT_RECORDED:
                    return result
        real_args = _unwrap(args) if traced else args
        real_kwargs = _unwrap(kwargs) if traced else kwargs
        tracer.depth += 1
        try:
            result = original(*real_args, **real_kwargs)
        finally:
            tracer.depth -= 1
        return tracer.record_call(backend, name, original, args, kwargs, result, traced)

    method.__name__ = name
    return method


def _unwrapping(original: Callable[..., Any]) -> Callable[..., Any]:
    def method(*args: Any, **kwargs: Any) -> Any:
        if _has_traced(args) or _has_traced(kwargs):
            return original(*_unwrap(args), **_unwrap(kwargs))
        return original(*args, **kwargs)

    return method


def _has_traced(obj: Any) -> bool:
    kind = type(obj)
    if kind is Traced:
        return True
    if kind in (tuple, list):
        return any(_has_traced(item) for item in obj)
    if kind is dict:
        return any(_has_traced(item) for item in obj.values())
    return False


def _unwrap(obj: Any) -> Any:
    kind = type(obj)
    if kind is Traced:
        return obj.array
    if kind is tuple:
        return tuple(_unwrap(item) for item in obj)
    if kind is list:
        return [_unwrap(item) for item in obj]
    if kind is dict:
        return {key: _unwrap(item) for key, item in obj.items()}
    return obj


def _template(tracer: Tracer, backend: Backend | None, obj: Any) -> Any:
    """`obj` with every array replaced by a `Ref` to its value."""
    kind = type(obj)
    if kind is Traced:
        return Ref(obj.vid)
    if kind is tuple:
        return tuple(_template(tracer, backend, item) for item in obj)
    if kind is list:
        return [_template(tracer, backend, item) for item in obj]
    if kind is dict:
        return {key: _template(tracer, backend, item) for key, item in obj.items()}
    if kind in (int, float, bool, str, slice) or obj is None or obj is Ellipsis:
        return obj
    if (backend is not None and backend.is_array(obj)) or hasattr(obj, "__array_namespace__"):
        return Ref(tracer.value_of(obj))
    if hasattr(obj, "shape") and hasattr(obj, "dtype") and not isinstance(obj, type):
        return Ref(tracer.value_of(obj))  # a NumPy scalar the array operators returned
    return obj


def _reads_values(tracer: Tracer, backend: Backend, args: Any) -> bool:
    """Whether any array among args came from the trace or its inputs (not a constant)."""
    found: list[Any] = []
    _arrays(backend, args, found)
    return any(type(item) is Traced or not tracer.is_constant(item) for item in found)


def _arrays(backend: Backend, obj: Any, found: list[Any]) -> None:
    kind = type(obj)
    if kind is Traced or backend.is_array(obj):
        found.append(obj)
    elif kind in (tuple, list):
        for item in obj:
            _arrays(backend, item, found)
    elif kind is dict:
        for item in obj.values():
            _arrays(backend, item, found)


def _has_bool_array(backend: Backend, obj: Any) -> bool:
    found: list[Any] = []
    _arrays(backend, obj, found)
    return any(backend.is_bool(_unwrap(item).dtype) for item in found
               if getattr(_unwrap(item), "ndim", 0) > 0)


def _proxy_of(tracer: Tracer, same: dict[int, Traced], array: Any, vid: int) -> Traced:
    given = same.get(id(array))
    return given if given is not None else Traced(tracer, array, vid)


def user_location() -> str:
    """The innermost line of the stack outside autodiff and backends: the user's line."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(_LIBRARY):
            return f"{frame.filename}:{frame.lineno} ({frame.line})"
    return "<unknown>"


class Traced:
    """An array of the trace as the tape's Python sees it while tracing: every operator runs on
    the real array and is recorded (`out += b`, `x[key] = v`); shape and dtype pass through;
    a value read into Python is a guard (or a graph break); an unknown attribute is a graph
    break. Backend calls take the array out of the proxy."""

    __slots__ = ("array", "tracer", "vid")
    __hash__ = object.__hash__

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """A NumPy ufunc meeting a proxy (`array += proxy`): recorded like an operator; after
        a graph break or the trace, computed on the arrays."""
        # (the ufunc itself for a plain call: a replay gives it `out=`)
        function = ufunc if method == "__call__" else getattr(ufunc, method)
        if not self.tracer.recording:
            return function(*_unwrap(inputs), **_unwrap(kwargs))
        if "out" in kwargs:
            self.tracer.record_mutation(_Call(function), *inputs, **kwargs)
            out = kwargs["out"]
            return out[0] if type(out) is tuple and len(out) == 1 else out
        return self.tracer.record_operator(function, *inputs, **kwargs)

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if self.tracer.recording:
            self.tracer.graph_break(f"NumPy's {function.__name__}() on a traced array")
        return function(*_unwrap(args), **_unwrap(kwargs))

    def __init__(self, tracer: Tracer, array: Any, vid: int) -> None:
        self.tracer = tracer
        self.array = array
        self.vid = vid

    @property
    def shape(self) -> Any:
        return self.array.shape

    @property
    def dtype(self) -> Any:
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return int(self.array.ndim)

    @property
    def size(self) -> Any:
        return self.array.size

    @property
    def T(self) -> Any:
        return self._operator(_transpose, self)

    def __len__(self) -> int:
        return len(self.array)

    def __getattr__(self, name: str) -> Any:
        if name in _ATTRIBUTES:
            return getattr(self.array, name)
        if self.tracer.recording:
            self.tracer.graph_break(f"the array attribute .{name} (not traced)")
        return getattr(self.array, name)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        if self.tracer.recording:
            self.tracer.graph_break("an array converted by NumPy (reads its values)")
        return self.array if dtype is None else self.array.astype(dtype)

    def _value(self, what: str, convert: Callable[[Any], Any]) -> Any:
        value = convert(self.array)
        if self.tracer.recording:
            self.tracer.guard(f"{what}", _ValueGuard(convert, value), self)
        return value

    def __bool__(self) -> bool:
        return bool(self._value("bool()", bool))

    def __float__(self) -> float:
        return float(self._value("float()", float))

    def __int__(self) -> int:
        return int(self._value("int()", int))

    def __index__(self) -> int:
        return int(self._value("an index", operator.index))

    def _operator(self, function: Callable[..., Any], *operands: Any) -> Any:
        if not self.tracer.recording:
            return function(*[_unwrap(item) for item in operands])
        return self.tracer.record_operator(function, *operands)

    def _inplace(self, symbol: str, other: Any) -> Traced:
        if not self.tracer.recording:
            _INPLACE[symbol](self.array, _unwrap(other))
            return self
        self.tracer.record_inplace(symbol, self, other)
        return self

    def __getitem__(self, key: Any) -> Any:
        return self._operator(operator.getitem, self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if not self.tracer.recording:
            self.array[_unwrap(key)] = _unwrap(value)
            return
        self.tracer.record_mutation(_setitem, self, key, value)


_ATTRIBUTES = frozenset({"strides", "itemsize", "nbytes", "flags", "device", "base",
                         "__array_namespace__", "__array_priority__", "__array_interface__"})


def _transpose(array: Any) -> Any:
    return array.T


def _binary(function: Callable[..., Any]) -> tuple[Any, Any]:
    def forward(self: Traced, other: Any) -> Any:
        return self._operator(function, self, other)

    def reflected(self: Traced, other: Any) -> Any:
        return self._operator(function, other, self)

    return forward, reflected


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
              "xor", "lshift", "rshift"):
    _function = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    _forward, _reflected = _binary(_function)
    setattr(Traced, f"__{_name}__", _forward)
    setattr(Traced, f"__r{_name}__", _reflected)
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(Traced, f"__{_name}__", _binary(getattr(operator, _name))[0])
for _name in ("neg", "pos", "abs", "invert"):
    setattr(Traced, f"__{_name}__",
            (lambda function: lambda self: self._operator(function, self))(
                getattr(operator, _name)))
for _symbol, _name in (("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "truediv"),
                       ("//", "floordiv"), ("%", "mod"), ("**", "pow"), ("&", "and"),
                       ("|", "or"), ("^", "xor")):
    setattr(Traced, f"__i{_name}__",
            (lambda symbol: lambda self, other: self._inplace(symbol, other))(_symbol))


class GuardFailed(Exception):
    """A replay read a different value than its trace: the call runs eagerly."""


class _ItemGuard:
    __slots__ = ("expected", "item")

    def __init__(self, item: Callable[[Any], Any], expected: Any) -> None:
        self.item, self.expected = item, expected

    def __call__(self, array: Any) -> None:
        if self.item(array) != self.expected:
            raise GuardFailed

    def __repr__(self) -> str:
        return f"item() == {self.expected!r}"


class _ValueGuard:
    __slots__ = ("convert", "expected")

    def __init__(self, convert: Callable[[Any], Any], expected: Any) -> None:
        self.convert, self.expected = convert, expected

    def __call__(self, array: Any) -> None:
        if self.convert(array) != self.expected:
            raise GuardFailed

    def __repr__(self) -> str:
        return f"{self.convert.__name__}() == {self.expected!r}"


class _ScalarRead:
    """A 0-d array's value as a Python float (a backend's item)."""

    __slots__ = ("__name__", "item")

    def __init__(self, item: Callable[[Any], Any]) -> None:
        self.item = item
        self.__name__ = "item"

    def __call__(self, array: Any) -> float:
        return float(self.item(array))


class _Call:
    """A ufunc method called with `out=` (named for listings)."""

    __slots__ = ("__name__", "function")

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.__name__ = getattr(function, "__name__", "ufunc") + "_out"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)


def _generator_of(step: Step) -> Any:
    """The generator a random step draws from."""
    given = step.kwargs.get("generator")
    if given is None and step.args and not isinstance(step.args[-1], (int, str, tuple, Ref)):
        given = step.args[-1]
    if given is not None:
        return given
    return step.function.__self__.default_generator  # type: ignore[attr-defined]


def _template_ids(obj: Any) -> list[int]:
    found: list[int] = []
    _collect(obj, found)
    return found


def _setitem(array: Any, key: Any, value: Any) -> None:
    array[key] = value


def real(array: Any) -> Any:
    """The array behind a proxy (anything else as it is)."""
    return array.array if type(array) is Traced else array
