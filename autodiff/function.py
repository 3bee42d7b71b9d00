"""`Function`: an op's forward and backward. Applied, an instance is the op's node in the graph
and its `ctx` (as in PyTorch): it holds the saved tensors (`saved.py`), the edges to the nodes of
its inputs (`next_functions`, with the hooks and the rest of the graph bookkeeping in `node.py`)
and what the engine needs to hand each input a gradient of the right shape.

Built-in ops subclass `Function` with `forward(ctx, *arrays)` on backend arrays and
`backward(ctx, *grad_outputs)` written with Tensor ops, so a backward run under
`create_graph=True` is itself recorded and can be differentiated again. Tensor-valued arguments
are positional (one edge each, as PyTorch lists them in `next_functions`); options such as `dim`
are keyword arguments. User-defined ops (`autograd.Function`) are this class with forward called
on Tensors instead of arrays; everything else here is shared.

`apply` runs forward; `_make_node` makes the ctx a node when an input requires grad. That is
the plain path, taken while no mode that reaches into op calls is on: `apply` tests the one
switch `hot_path.modes.active` for all of them. While it is on, `apply` asks each mode:
vmap sends a batched input to the op's batching rule (`batching/dispatch.py`), the profiler
times the op (`profiling.py`), and `_record` wraps `_make_node` with anomaly mode (keeps the
forward traceback), `replayable()` (keeps the inputs) and saved_tensors_hooks (saved tensors go
through the pack hook, and come back through the unpack hook in the saved tensor's place in the
graph).

A tensor without one dense array (sparse COO, nested) holds layout data in `_data`: a dense
forward fails on it, and apply's one except clause hands the op to the layout
(`layout_dispatch.py`), at no cost to the dense path.

Forward-mode AD is one of those modes (`dual.py`): while a dual level is open and an input
carries a tangent, the op's `jvp(ctx, *tangents)` gives its output's tangent. Like backward, a
jvp rule is written with Tensor ops on `ctx.saved_tensors` (and options forward kept on ctx),
so tangents can be differentiated in reverse mode; most ops declare one of PyTorch's generic
rules (`jvp_rules.py`: `auto_element_wise`, `auto_linear`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from . import dtypes
from . import python_dispatch as _python_dispatch
from .argument_parsing import method_error
from .batching.levels import NOT_BATCHED as _NOT_BATCHED
from .batching.levels import levels as _vmap_levels
from .dual import state as _dual_state
from .grad_mode import inference_seen as _inference_seen
from .grad_mode import state as _grad_state
from .hot_path import modes as _modes
from .jvp_rules import jvp_from_backward
from .layout_dispatch import LayoutData, layout_data
from .node import AccumulateGrad, Node, anomaly_state, sequence_nrs
from .op_modes import ForwardState, OpCall, op_mode_state
from .profiling import profiler_state
from .saved import (
    FREED,
    RELEASED,
    SavedTensor,
    saved_constant,
    saved_input,
    saved_tensors_hooks_state,
)
from .saved_fields import Field, install, visible
from .tensor import Tensor, _wrap

if TYPE_CHECKING:
    from backends import Backend

_NO_EDGE = (None, 0)
_ONE_DIFFERENTIABLE = [True]
_SCALARS = (bool, int, float, complex)
_SCALAR_TYPES = frozenset(_SCALARS)  # `type(x) in` a set: one hash, not four comparisons
_INFERENCE_SAVED = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`.")


class _NeedsInputGrad:
    """`ctx.needs_input_grad` of a recorded op: which inputs have an edge, made from the input
    metadata on first read and kept on the ctx (a value set on the ctx wins, as any attribute:
    this descriptor has no __set__). Most backward formulas of one-input ops never read it, and
    setting it on every node would cost each one an attribute. (Read and set as attributes:
    `ctx.__dict__` would make the ctx's attribute dictionary a real dict, slower from then on.)"""

    def __get__(self, ctx: Any, owner: type | None = None) -> Any:
        if ctx is None:
            return self
        meta = getattr(ctx, "_input_meta", None)
        if meta is None:  # not recorded (yet): as the base class's default
            return None
        needs = []  # a loop, not a comprehension: this runs once per node that asks
        for entry in meta:
            needs.append(entry is not None)
        result = ctx.needs_input_grad = tuple(needs)
        return result


class Function(Node):
    """Base class of every op. Subclasses define `forward` and `backward` as static methods."""

    # What the engine and the base class read; set by `apply` on each node.
    backend: Backend
    needs_input_grad: Any = _NeedsInputGrad()
    _input_meta: list[tuple[tuple[int, ...], Any] | None]
    _to_save: tuple[Any, ...] | None = None
    # One entry per item given to save_for_backward: a SavedTensor, a Python number or None.
    _saved: tuple[SavedTensor | bool | int | float | None, ...] | None = None
    _non_differentiable: tuple[Any, ...] | None = None
    materialize_grads: bool = True
    # A dense op given a sparse tensor runs this in its place (`sparse_dispatch.py`): a
    # Function, or anything with its `apply` (`ops/sparse_coo.OnValues`); without one it
    # refuses the sparse tensor in PyTorch's words.
    sparse_form: Any = None
    # The same for the compressed layouts (CSR, CSC, BSR, BSC: `ops/sparse_compressed.py`).
    compressed_form: Any = None
    # A layout's own op, whose forward takes layout data (a sparse form takes `SparseCOO`s):
    # apply never hands it to the layout (`layout_dispatch.py`).
    takes_layout_data = False
    # Output shapes and dtypes, kept by multi-output nodes and custom Functions (to make zeros
    # for outputs that got no gradient).
    _output_meta: tuple[tuple[tuple[int, ...], str] | None, ...] | None = None
    # Set by an in-place op on a view: rebuilds a saved output as a view of the base's new
    # history (as PyTorch does), so this node never enters a recorded backward on its own.
    _unpack_output: Callable[[Any, int], Tensor] | None = None
    # PyTorch's names for what the node saved (derivatives.yaml's), each read off the node by
    # a Field: `grad_fn._saved_<name>` and, for tensors, `_raw_saved_<name>` (saved_fields.py).
    saved_fields: Mapping[str, Field] | None = None
    # The op's class name as written; the class itself is renamed to its node's name.
    _op_name: str = "Function"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # `apply` makes the ctx with `cls()`: a built-in op keeps its state on the ctx in
        # forward, never in an __init__ (custom Functions make theirs in their own `apply`).
        if not cls._custom and ("__init__" in cls.__dict__ or "__new__" in cls.__dict__):
            raise TypeError(f"{cls.__name__}: an op's ctx is made without arguments; set its "
                            "state in forward instead of __init__/__new__")
        declared = cls.__dict__.get("saved_fields")
        if declared is not None:
            install(cls, declared)
        if "_is_backward_cls" not in cls.__dict__:  # a custom Function's node class keeps it
            cls._op_name = cls.__name__  # the class as written (messages that name the op)
        if not cls._custom and cls.node_name != "Node":
            # The op's class is its node's class: `type(grad_fn).__name__` is PyTorch's node
            # class name, as graph walkers (torchviz) read it (`AccumulateGrad` for
            # "torch::autograd::AccumulateGrad").
            cls.__name__ = cls.__qualname__ = cls.node_name.rpartition("::")[2]

    def __dir__(self) -> list[str]:
        return visible(type(self), list(super().__dir__()))

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError

    # The forward-mode rule: jvp(ctx, *tangents) -> the output's tangent (a tuple for several
    # outputs; None: zero). One tangent per positional input, None where it has none. An op
    # without one refuses dual inputs with PyTorch's error (`_no_jvp`).
    jvp: Callable[..., Any] | None = None
    # The name PyTorch's forward-AD error gives the op, where it is not the node name's stem
    # ("aten::<name>" for an op whose node is NotImplemented).
    forward_ad_name: str | None = None
    # While its jvp rule runs: the op's (args, kwargs, outputs), for the generic rules.
    _dual_call: tuple[tuple[Any, ...], dict[str, Any], Any] | None = None

    # --------------------------------------------------------------------------- in forward
    def save_for_backward(self, *items: Any) -> None:
        """Keep inputs, outputs or other arrays for backward; read back as `saved_tensors`."""
        self._to_save = items

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Outputs (indices, masks) that get requires_grad=False and no gradient."""
        self._non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    # --------------------------------------------------------------------------- in backward
    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        saved = self._saved
        if saved is None:
            return ()
        if saved is RELEASED:
            raise RuntimeError(FREED)
        tensors: list[Any] = []  # a loop, not a comprehension: no function object made per call
        for entry in saved:
            if type(entry) is not SavedTensor:  # a number or None
                tensors.append(entry)
            elif entry.plain:  # a Tensor kept as saved: the version check is all of unpack
                counter = entry.version_counter
                if counter is not None and counter[0] != entry.version:
                    entry.check_version(self)  # raises PyTorch's message
                tensors.append(entry.data)
            elif entry.is_constant:
                tensors.append(_wrap(entry.data, self.backend))
            else:
                tensors.append(entry.unpack(self))
        return tuple(tensors)

    def _check_saved(self) -> None:
        """Raise now what `saved_tensors` would raise later. The engine calls this for every
        node before it changes anything, so a failed backward leaves every `.grad` as it was."""
        saved = self._saved
        if saved is None:
            return
        if saved is RELEASED:
            raise RuntimeError(FREED)
        for entry in saved:
            if type(entry) is SavedTensor:
                counter = entry.version_counter
                if counter is not None and counter[0] != entry.version:
                    entry.check_version(self)  # raises PyTorch's message

    # --------------------------------------------------------------------------- for in-place ops
    def saved_from(self, tensor: Tensor) -> bool:
        """Whether this node saved `tensor` (an in-place op asks before overwriting it)."""
        saved = self._saved
        if not saved or saved is RELEASED:
            return False
        return any(type(entry) is SavedTensor and entry.was_saved_from(tensor)
                   for entry in saved)

    def saved_output_moved(self, array: Any, tensor: Tensor) -> None:
        """The output array this node saved now lives in `tensor` (written there by an in-place
        op): its saved copy is checked against tensor's version counter from now on."""
        saved = self._saved
        if not saved or saved is RELEASED:
            return
        for entry in saved:
            if type(entry) is SavedTensor:
                entry.follow_output(array, tensor)

    # --------------------------------------------------------------------------- applying
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward on the arrays of `args`; record a node when a Tensor input needs grad."""
        # The one test of the plain path: is any mode on that reaches into op calls (vmap,
        # the profiler, forward AD, anomaly mode, saved_tensors_hooks)? Then each is asked.
        in_modes = _modes.active
        if in_modes and _vmap_levels.depth:  # a batched input goes to the op's batching rule
            batched = _vmap_levels.dispatch(cls, args, kwargs)
            if batched is not _NOT_BATCHED:
                return batched
            in_modes = _modes.beyond_vmap  # no input batched: vmap asks nothing more of it
        backend = None
        requires_grad = False
        arrays = []
        for arg in args:
            if isinstance(arg, Tensor):
                if backend is None:
                    backend = arg._backend
                elif arg._backend is not backend:
                    return cls._apply_across_devices(args, kwargs)
                if arg._requires_grad:
                    requires_grad = True
                # A subclass with __torch_dispatch__ takes the op (the type test first: a
                # class default read through an instance costs several times more).
                if type(arg) is not Tensor and arg._python_dispatch:
                    return _python_dispatch.apply(cls(), args, kwargs)
                arrays.append(arg._data)
            else:
                arrays.append(arg)
        if backend is None:
            raise TypeError(f"{cls._op_name}.apply() needs at least one Tensor argument")
        # `cls()`, not `object.__new__(cls)`: ops define no __init__ (`__init_subclass__`
        # checks), and a plain class call skips the generic __new__ wrapper's argument checks.
        ctx = cls()
        ctx.backend = backend
        if in_modes:
            return ctx._run_in_modes(args, arrays, kwargs, requires_grad)
        # Free until it catches: a dense forward handed layout data (a sparse or nested
        # tensor's `_data`) fails, and the layout takes the op (`layout_dispatch.py`).
        try:
            if kwargs:
                result = cls.forward(ctx, *arrays, **kwargs)
            elif len(arrays) == 2:  # the arities of most ops, called without unpacking a list
                result = cls.forward(ctx, arrays[0], arrays[1])
            elif len(arrays) == 1:
                result = cls.forward(ctx, arrays[0])
            else:
                result = cls.forward(ctx, *arrays)
        except Exception as error:
            if cls.takes_layout_data:
                raise
            layout = layout_data(args)
            if layout is None:
                if isinstance(error, (TypeError, AttributeError, ValueError)):
                    # a Tensor method given what PyTorch's parser refuses: its TypeError
                    refused = method_error(Tensor)
                    if refused is not None:
                        raise refused from None
                raise
            return layout.dispatch(cls, args, kwargs)
        if requires_grad and _grad_state.enabled:
            return ctx._make_node(args, arrays, result)
        backend = ctx.backend  # a device transfer's forward moves it to the target
        # A helper wraps a tuple: a comprehension here would make `backend` a closure cell,
        # slower to read all through apply.
        if type(result) is tuple:
            return _wrap_each(result, backend)
        output = _new(Tensor)
        output._data = result
        output._backend = backend
        if _inference_seen.entered and _grad_state.inference:
            output._inference = True
        return output

    def _run_in_modes(self, args: tuple[Any, ...], arrays: list[Any], kwargs: dict[str, Any],
                      requires_grad: bool) -> Any:
        """apply's forward and what follows it while some mode is on: an op mode (selective
        checkpointing, op_modes.py) takes the op; the profiler times it; `_finish` gives
        tangents (forward AD) and records through `_record` (anomaly mode,
        saved_tensors_hooks)."""
        cls = type(self)
        if not cls.takes_layout_data:  # as apply's plain path would, but before any mode
            for data in arrays:  # the Tensor arguments' data, read once by apply
                if isinstance(data, LayoutData):
                    return data.dispatch(cls, args, kwargs)
        if op_mode_state.active:
            return op_mode_state.dispatch(OpCall(self, args, arrays, kwargs, requires_grad))
        return self._forward_and_finish(args, arrays, kwargs, requires_grad, None)

    def _apply_dual(self, args: tuple[Any, ...], arrays: list[Any], result: Any,
                    requires_grad: bool, kwargs: dict[str, Any]) -> Any:
        """apply's end while a dual level is open: the outputs, and their tangents at each
        level where an input has one."""
        recording = requires_grad and _grad_state.enabled
        if recording:
            outputs = self._record(args, arrays, result, kwargs)
        else:
            backend = self.backend
            outputs = (tuple([_wrap(array, backend) for array in result])
                       if type(result) is tuple else _wrap(result, backend))
        found: list[int] | None = None
        visible = _dual_state.visible
        for arg in args:
            if isinstance(arg, Tensor) and arg._fw_grads is not None:
                for level in arg._fw_grads:
                    if level <= visible:
                        if found is None:
                            found = [level]
                        elif level not in found:
                            found.append(level)
        if found is not None:
            if len(found) > 1:
                found.sort()
            self._forward_tangents(args, arrays, kwargs, found, outputs, recording)
        return outputs

    def _forward_tangents(self, args: tuple[Any, ...], arrays: list[Any],
                          kwargs: dict[str, Any], found: list[int], outputs: Any,
                          recording: bool) -> None:
        """Run the op's jvp rule once per level, outermost first (on primals, propagating the
        outer levels only), and give each floating output its tangent there, broadcast to its
        shape and cast to its dtype. Outer first: a rule at an inner level may read a saved
        output, whose outer tangents must then be there."""
        many = type(outputs) is tuple
        output_tensors = outputs if many else (outputs,)
        if many or self._non_differentiable is not None:
            differentiable = [self._differentiable_output(tensor) for tensor in output_tensors]
            if not any(differentiable):
                return  # indices, masks, counts: no tangent, and no rule needed
        elif self._differentiable_output(outputs):
            differentiable = _ONE_DIFFERENTIABLE
        else:
            return
        jvp = type(self).jvp
        if jvp is None:
            _no_jvp(self)
        if not getattr(jvp, "complex_safe", False) and self._touches_complex(args,
                                                                             output_tensors):
            jvp = jvp_from_backward  # the real rule would be wrong (jvp_rules.py)
        if recording:  # the node stays in the graph: what the rule changes is put back
            saved, needs = self._saved, self.__dict__.get("needs_input_grad")
            try:
                self._run_rules(jvp, args, found, outputs, output_tensors, many, differentiable,
                                kwargs, recording)
            finally:
                self._dual_call = None
                if needs is None:
                    self.__dict__.pop("needs_input_grad", None)
                else:
                    self.needs_input_grad = needs
                self._saved = saved
            return
        if getattr(jvp, "reads_saved", True):  # as a recorded node's backward would read them
            self._saved = self._entries_for_rule(args, arrays, output_tensors)
        self._run_rules(jvp, args, found, outputs, output_tensors, many, differentiable, kwargs,
                        recording)

    def _run_rules(self, jvp: Callable[..., Any], args: tuple[Any, ...], found: list[int],
                   outputs: Any, output_tensors: tuple[Tensor, ...], many: bool,
                   differentiable: list[bool], kwargs: dict[str, Any], recording: bool) -> None:
        state = _dual_state
        previous = state.visible
        for level in found:
            tangents = [arg._fw_grads.get(level)
                        if isinstance(arg, Tensor) and arg._fw_grads is not None else None
                        for arg in args]
            self.needs_input_grad = tuple([tangent is not None for tangent in tangents])
            self._dual_call = (args, kwargs, outputs)
            # The rule's own ops propagate the outer levels only (dual.py)
            state.visible = level - 1 if level <= previous else previous
            state.enabled = state.visible >= 0
            try:
                results = jvp(self, *tangents)
            finally:
                state.visible = previous
                state.enabled = previous >= 0
            if not many:
                if results is not None:
                    state.set_tangent(outputs, _fit_tangent(results, outputs), level)
            else:
                for tensor, tangent, wanted in zip(output_tensors, results, differentiable):
                    if wanted and tangent is not None:
                        state.set_tangent(tensor, _fit_tangent(tangent, tensor), level)
            if recording and self._saved:  # saved outputs come back with their tangents
                self._save_output_tangents(output_tensors, level)

    def _save_output_tangents(self, output_tensors: tuple[Tensor, ...], level: int) -> None:
        generation = _dual_state.open[level].generation
        for entry in self._saved or ():
            if type(entry) is SavedTensor and entry.is_output:
                grads = output_tensors[entry.output_nr]._fw_grads
                tangent = None if grads is None else grads.get(level)
                if tangent is not None:
                    kept = entry.fw_grads or []
                    entry.fw_grads = [*kept, (level, generation, tangent)]

    def _touches_complex(self, args: tuple[Any, ...], outputs: tuple[Tensor, ...]) -> bool:
        is_complex = self.backend.is_complex
        for tensor in outputs:
            if is_complex(tensor._data.dtype):
                return True
        for arg in args:
            if isinstance(arg, Tensor):
                if is_complex(arg._data.dtype):
                    return True
                if arg._fw_grads is not None:
                    for tangent in arg._fw_grads.values():
                        if is_complex(tangent._data.dtype):
                            return True
        return False

    def _differentiable_output(self, tensor: Tensor) -> bool:
        backend = self.backend
        dtype = tensor._data.dtype
        if not (backend.is_floating(dtype) or backend.is_complex(dtype)):
            return False
        marked = self._non_differentiable
        return marked is None or not any(tensor._data is array for array in marked)

    def _entries_for_rule(self, args: tuple[Any, ...], arrays: list[Any],
                        outputs: tuple[Tensor, ...]) -> Any:
        """What save_for_backward was given, as saved entries, for a node that is not
        recorded: inputs as their Tensors, outputs as the Tensors apply returns (outside any
        graph), other arrays as constants."""
        to_save = self._to_save
        if to_save is None:
            return self._saved
        self._to_save = None
        entries: list[Any] = []
        for item in to_save:
            if item is None or type(item) in _SCALARS:
                entries.append(item)
                continue
            tensor = None
            for arg, array in zip(args, arrays):
                if item is array or item is arg:
                    if isinstance(arg, Tensor):
                        tensor = arg
                    break
            if tensor is None:
                for out in outputs:
                    if item is out._data or item is out:
                        tensor = out
                        break
            if tensor is None and isinstance(item, Tensor):
                tensor = item
            entries.append(SavedTensor(tensor, None) if tensor is not None
                           else SavedTensor(item, None, is_constant=True))
        return tuple(entries)

    def _run_forward(self, arrays: list[Any], kwargs: dict[str, Any],
                     kept: list[ForwardState] | None) -> Any:
        """forward on the arrays; with `kept`, also keep what it computed (for an op mode)."""
        result = type(self).forward(self, *arrays, **kwargs)
        if kept is not None:
            kept.append(ForwardState(result, dict(self.__dict__), arrays))
        return result

    def _forward_and_finish(self, args: tuple[Any, ...], arrays: list[Any],
                            kwargs: dict[str, Any], requires_grad: bool,
                            kept: list[ForwardState] | None) -> Any:
        """What `apply` does once the op's mode (if any) let it run."""
        if profiler_state.active:
            return profiler_state.record_op(self, args, arrays, kwargs, requires_grad, kept)
        result = self._run_forward(arrays, kwargs, kept)
        return self._finish(args, arrays, result, requires_grad, kwargs)

    def _replay_forward(self, args: tuple[Any, ...], arrays: list[Any], kwargs: dict[str, Any],
                        requires_grad: bool, state: ForwardState) -> Any:
        """Finish as apply would with the outputs and node state an earlier forward left."""
        self.__dict__.update(state.attributes_for(arrays))
        return self._finish(args, arrays, state.result, requires_grad, kwargs)

    def _finish(self, args: tuple[Any, ...], arrays: list[Any], result: Any,
                requires_grad: bool, kwargs: dict[str, Any]) -> Any:
        """What `apply` does after forward while some mode is on: record the node or wrap the
        result (and give it its tangent while a dual level is open)."""
        if _dual_state.enabled:
            return self._apply_dual(args, arrays, result, requires_grad, kwargs)
        if requires_grad and _grad_state.enabled:
            return self._record(args, arrays, result, kwargs)
        if type(result) is tuple:
            return tuple([_wrap(array, self.backend) for array in result])
        return _wrap(result, self.backend)

    @classmethod
    def _apply_across_devices(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Tensors on two devices. PyTorch lets a 0-d CPU tensor join an op on another device,
        as a Python number would: it is moved there (differentiably, so its gradient comes
        back to the CPU). Anything else is PyTorch's mismatch error."""
        tensors = [arg for arg in args if isinstance(arg, Tensor)]
        anchored = [t._backend for t in tensors
                    if t._data.ndim != 0 or t._backend.device.type != "cpu"]
        target = anchored[0] if anchored else None
        if target is None or any(backend is not target for backend in anchored):
            first = tensors[0]._backend
            second = next(t._backend for t in tensors if t._backend is not first)
            _raise_device_mismatch(first, second)
        moved = tuple(arg.to(target.device) if isinstance(arg, Tensor) and arg._backend
                      is not target else arg for arg in args)
        return cls.apply(*moved, **kwargs)

    def _record(self, args: tuple[Any, ...], arrays: list[Any], result: Any,
                kwargs: dict[str, Any] | None = None) -> Any:
        """`_make_node`, with what anomaly mode, `replayable()` and saved_tensors_hooks add
        (apply's plain path, with no mode on, calls `_make_node` itself)."""
        if anomaly_state.recording:  # anomaly mode, or replayable()
            anomaly_state.record(self)
            if anomaly_state.check_forward and anomaly_state.enabled:
                anomaly_state.check_forward_values(self, self.backend, result)
            if anomaly_state.keep_inputs:
                self._replay = ReplayInputs(args, kwargs or {}, result)
        packs = saved_tensors_hooks_state.open and self._to_save is not None
        outputs = self._make_node(args, arrays, result)
        if packs:
            self._pack_saved(outputs)
        return outputs

    def _make_node(self, args: tuple[Any, ...], arrays: list[Any], result: Any) -> Any:
        """Make this ctx a node of the graph: edges, input metadata, outputs, saved tensors.
        `arrays` holds each Tensor argument's array in its place and any other argument as it
        is, so `arg is not arrays[index]` tells a Tensor argument (isinstance would too, but
        Tensor's metaclass sends it down CPython's slow path for a Parameter or a None)."""
        self._sequence_nr = next(sequence_nrs)
        edges: list[Any] = []
        meta: list[Any] = []
        index = -1  # into arrays (counted by hand: a zip costs more than this loop's body)
        for arg in args:
            index += 1
            if arg is not arrays[index] and arg._requires_grad:
                node = arg._grad_fn
                edges.append((node if node is not None else AccumulateGrad.of(arg),
                              arg._output_nr))
                data = arg._data
                meta.append((data.shape, data.dtype))
            else:
                edges.append(_NO_EDGE)
                meta.append(None)
        self.next_functions = tuple(edges)
        self._input_meta = meta  # needs_input_grad is read off it when backward asks

        if type(result) is tuple:
            outputs: Any = self._make_outputs(result)
        elif self._non_differentiable is None:
            outputs = _new(Tensor)
            outputs._data = result
            outputs._backend = self.backend
            outputs._requires_grad = True
            outputs._grad_fn = self
        else:
            outputs = self._make_output(result, 0)
        to_save = self._to_save
        if to_save is not None:
            self._saved = self._entries_to_save(to_save, args, arrays, result, outputs)
            self._to_save = None
        return outputs

    def _entries_to_save(self, to_save: tuple[Any, ...], args: tuple[Any, ...],
                         arrays: list[Any], result: Any, outputs: Any) -> tuple[Any, ...]:
        """The saved entries of what forward passed to save_for_backward. Inputs and arrays
        forward computed, the common cases, are made here; a call of `_entry_to_save` per
        item would cost as much as the rest of this loop."""
        saved = []
        for item in to_save:
            if item is None or type(item) in _SCALAR_TYPES:
                saved.append(item)
                continue
            index = -1  # into arrays (counted by hand, as in _entry_to_save)
            for arg in args:
                index += 1
                if item is arrays[index] or item is arg:  # an input
                    # (a Tensor one, as _make_node tells it; an inference tensor is made only
                    # once some thread has entered inference mode: until then its class
                    # default is not read)
                    if arg is not arrays[index] and not (_inference_seen.entered
                                                         and arg._inference):
                        counter = arg._version_counter
                        if counter is None:
                            counter = arg._version_counter = [0]
                        saved.append(saved_input(arg, counter))
                    else:
                        saved.append(self._entry_to_save(item, args, arrays, result, outputs))
                    break
            else:
                if (type(result) is not tuple and item is not result
                        and not isinstance(item, Tensor)):  # an array forward computed
                    saved.append(saved_constant(item))
                else:  # an output, or a Tensor neither input nor output
                    saved.append(self._entry_to_save(item, args, arrays, result, outputs))
        return tuple(saved)

    def _make_outputs(self, result: tuple[Any, ...]) -> tuple[Tensor, ...]:
        """A multi-output node's outputs (and their shapes and dtypes, for zeros in backward).
        Comprehensions live here, not in `_make_node`, where they would make `self` a closure
        cell, slower to read all through it."""
        outputs = tuple([self._make_output(array, index) for index, array in enumerate(result)])
        self._num_outputs = len(outputs)
        self._output_meta = tuple((a.shape, self.backend.dtype_name(a)) for a in result)
        return outputs

    def _make_output(self, array: Any, index: int) -> Tensor:
        output = _wrap(array, self.backend)
        non_differentiable = self._non_differentiable
        if non_differentiable is None or not any(array is x for x in non_differentiable):
            output._requires_grad = True
            output._grad_fn = self
            output._output_nr = index
        return output

    def _pack_saved(self, outputs: Any) -> None:
        """saved_tensors_hooks is open in this thread: hand each saved tensor to the pack hook
        (with grad mode off, as PyTorch) and keep what it returns."""
        hooks = saved_tensors_hooks_state.innermost()
        if hooks is None or not self._saved:
            return
        pack_hook, unpack_hook = hooks
        output_tensors = outputs if type(outputs) is tuple else (outputs,)
        previous = _grad_state.enabled
        _grad_state.enabled = False
        try:
            for entry in self._saved:
                if type(entry) is SavedTensor:
                    entry.pack(pack_hook, unpack_hook, output_tensors, self)
        finally:
            _grad_state.enabled = previous

    def _entry_to_save(self, item: Any, args: tuple[Any, ...], arrays: list[Any], result: Any,
                     outputs: Any) -> SavedTensor | bool | int | float | None:
        """Turn what forward passed to save_for_backward into a saved entry."""
        if item is None or type(item) in _SCALAR_TYPES:
            return item
        index = -1  # into arrays (counted by hand: a zip costs more than this loop's body)
        for arg in args:
            index += 1
            if item is arrays[index] or item is arg:
                if isinstance(arg, Tensor):
                    if arg._inference:
                        raise RuntimeError(_INFERENCE_SAVED)
                    counter = arg._version_counter  # arg._shared_version_counter(), inline
                    if counter is None:
                        counter = arg._version_counter = [0]
                    return saved_input(arg, counter)
                break
        if type(result) is tuple:
            for index, (array, tensor) in enumerate(zip(result, outputs)):
                if item is array or item is tensor:
                    return SavedTensor(array, tensor._shared_version_counter(), is_output=True,
                                       output_nr=index)
        elif item is result or item is outputs:
            return SavedTensor(result, outputs._shared_version_counter(), is_output=True)
        if isinstance(item, Tensor):  # neither input nor output: keep the Tensor as it is
            if item._inference:
                raise RuntimeError(_INFERENCE_SAVED)
            return SavedTensor(item, item._shared_version_counter())
        return saved_constant(item)

    # --------------------------------------------------------------------------- for the engine
    def _run_backward(self, grad_outputs: list[Any]) -> tuple[Any, ...]:
        """Call backward, then give each input a gradient of its own shape and dtype."""
        if len(grad_outputs) == 1:  # one output (most ops): no list unpacking
            grad_output = grad_outputs[0]
            # Only a missing gradient is materialized: one that arrived is passed as it is.
            if (grad_output is None and self._output_meta is not None
                    and self.materialize_grads):
                grad_output = self._materialized(grad_outputs)[0]
            grads = self.backward(self, grad_output)
        else:
            if self._output_meta is not None and self.materialize_grads:
                grad_outputs = self._materialized(grad_outputs)
            grads = self.backward(self, *grad_outputs)
        if type(grads) is not tuple:
            grads = (grads,)
        meta = self._input_meta
        if len(grads) != len(meta):
            grads = self._check_count(grads)
        try:
            index = -1  # into meta (counted by hand: a zip costs more than this loop's body)
            for grad in grads:
                index += 1
                # No meta: nobody asked for it; the engine skips inputs without an edge.
                if grad is None:
                    continue
                input_meta = meta[index]
                if input_meta is None:
                    continue
                data = grad._data
                # `is` first: dtypes are singletons in NumPy and CuPy, and == is slow.
                if data.shape != input_meta[0] or (data.dtype is not input_meta[1]
                                                   and data.dtype != input_meta[1]):
                    return self._fit_all(grads)
        except AttributeError:  # not a Tensor: _fit says so
            return self._fit_all(grads)
        return grads

    def _materialized(self, grad_outputs: list[Any]) -> list[Any]:
        """Zeros for the outputs that got no gradient (a helper, as `_make_outputs` is)."""
        # A None entry in _output_meta: a custom Function's non-Tensor output (stays None).
        assert self._output_meta is not None
        return [_zeros(self.backend, *meta) if grad is None and meta is not None else grad
                for grad, meta in zip(grad_outputs, self._output_meta)]

    def _fit_all(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        """The slow path of _run_backward: fit every gradient to its input."""
        fitted: list[Any] = []
        for index, (grad, input_meta) in enumerate(zip(grads, self._input_meta)):
            if grad is None or input_meta is None:
                fitted.append(None)
            else:
                data = getattr(grad, "_data", None)
                leaf = self.next_functions[index][0]
                if type(leaf) is AccumulateGrad and leaf.variable._grad_dtype_set:
                    # A leaf with a grad_dtype: the engine casts to that (None: no cast).
                    native = input_meta[1] if data is None else data.dtype
                    grad = self._fit(index, grad, input_meta[0], native)
                elif data is None or data.shape != input_meta[0] or data.dtype != input_meta[1]:
                    grad = self._fit(index, grad, *input_meta)
                fitted.append(grad)
        return tuple(fitted)

    def _check_count(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        expected = len(self._input_meta)
        if len(grads) > expected and all(grad is None for grad in grads[expected:]):
            return grads[:expected]
        raise RuntimeError(
            f"function {self.node_name} returned an incorrect number of gradients "
            f"(expected {expected}, got {len(grads)})"
        )

    def _fit(self, index: int, grad: Any, shape: tuple[int, ...], native_dtype: Any) -> Tensor:
        """Sum a broadcast gradient back to its input's shape and cast it to the input's dtype."""

        if not isinstance(grad, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(grad).__name__})")
        if grad._data.shape != shape:
            if not _broadcasts_to(shape, grad._data.shape):
                raise RuntimeError(
                    f"Function {self.node_name} returned an invalid gradient at index {index} - "
                    f"got {list(grad._data.shape)} but expected shape compatible with "
                    f"{list(shape)}"
                )
            grad = grad.sum_to_size(shape)
        if grad._data.dtype != native_dtype:
            backend = self.backend
            if backend.is_complex(grad._data.dtype) and not backend.is_complex(native_dtype):
                grad = grad.real  # a real input takes the real part, as in PyTorch
            grad = grad.to(dtypes.BY_NAME[backend.name_of_dtype(native_dtype)])
        return grad


def _fit_tangent(tangent: Tensor, output: Tensor) -> Tensor:
    """A rule's tangent at its output's shape and dtype (rules may leave a broadcast or a
    promotion to here, as backward leaves summing to the input's shape to `_fit`)."""
    data, out = tangent._data, output._data
    if data.shape != out.shape:
        tangent = tangent.expand(out.shape).clone()  # its own memory: in-place ops write into it
    if data.dtype is not out.dtype and tangent._data.dtype != out.dtype:
        tangent = tangent.to(output.dtype)
    return tangent


def _no_jvp(node: Function) -> NoReturn:
    name = node.forward_ad_name or _stem(node.node_name)
    if node.node_name == "torch::autograd::NotImplemented":  # no derivative in either mode
        raise NotImplementedError(f"Trying to use forward AD with {name} that does not support it.")
    raise NotImplementedError(
        f"Trying to use forward AD with {name} that does not support it because it has not "
        "been implemented yet.\nPlease file an issue to PyTorch at "
        "https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml so that we "
        "can prioritize its implementation or submit a PR adding the implementation to "
        "derivatives.yaml"
    )


def _stem(node_name: str) -> str:
    """PyTorch's op name from its node's: "MaxPool2DWithIndicesBackward0" ->
    "max_pool2d_with_indices"."""
    words: list[str] = []
    for word in re.findall(r"\d+[A-Z]?|[A-Z][a-z]*|[a-z]+", re.sub(r"Backward\d*$", "", node_name)):
        if word[0].isdigit() and words:
            words[-1] += word.lower()  # Log1P -> log1p, Pool2D -> pool2d
        else:
            words.append(word.lower())
    return "_".join(words)


class ReplayInputs:
    """What `autograd.graph.replay` needs to run a node's op again: its arguments (each
    Tensor as the graph edge it came from, or, for a leaf or a tensor outside the graph, the
    Tensor itself with its version then), its options and its outputs' arrays."""

    __slots__ = ("args", "kwargs", "outputs")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any], outputs: Any) -> None:
        self.args = tuple([ReplayArgument(arg) if isinstance(arg, Tensor) else arg
                           for arg in args])
        self.kwargs = kwargs
        self.outputs = outputs if type(outputs) is tuple else (outputs,)


class ReplayArgument:
    """One Tensor argument: the (node, output_nr) it came out of, or the Tensor itself."""

    __slots__ = ("node", "output_nr", "tensor", "version")

    def __init__(self, tensor: Tensor) -> None:
        self.node = tensor.grad_fn
        self.output_nr = tensor._output_nr
        self.tensor = tensor
        self.version = tensor._version


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    if len(shape) > len(target):
        return False
    return all(size == 1 or size == other for size, other in zip(shape[::-1], target[::-1]))


def _raise_device_mismatch(first: Backend, second: Backend) -> NoReturn:
    if "meta" in (first.device.type, second.device.type):
        raise RuntimeError(f"Tensor on device {second.device} is not on the expected device "
                           f"{first.device}!")
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{first.device} and {second.device}!"
    )


def _wrap_each(arrays: tuple[Any, ...], backend: Backend) -> tuple[Tensor, ...]:
    return tuple([_wrap(array, backend) for array in arrays])


def _zeros(backend: Backend, shape: tuple[int, ...], dtype: str) -> Tensor:
    return _wrap(backend.zeros(shape, dtype), backend)


_new = object.__new__
