"""`Function`: an op's forward and backward. Applied, an instance is the op's node in the graph
and its `ctx` (as in PyTorch): it holds the saved tensors, the edges to the nodes of its inputs
(`next_functions`) and what the engine needs to hand each input a gradient of the right shape.

Built-in ops subclass `Function` with `forward(ctx, *arrays)` on backend arrays and
`backward(ctx, *grad_outputs)` written with Tensor ops, so a backward run under
`create_graph=True` is itself recorded and can be differentiated again. Tensor-valued arguments
are positional (one edge each, as PyTorch lists them in `next_functions`); options such as `dim`
are keyword arguments. User-defined ops (`autograd.Function`) are this class with forward called
on Tensors instead of arrays; everything else here is shared.

Two switches hook in at `_record`, each one attribute test while off: anomaly mode (keeps the
forward traceback) and saved_tensors_hooks (saved entries go through the pack hook and come back
through the unpack hook, in the saved tensor's place in the graph).
"""

from __future__ import annotations

import itertools
import re
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from . import dtypes
from .grad_mode import state as _grad_state
from .tensor import Tensor, _wrap

if TYPE_CHECKING:
    from backends import Backend

# Creation order of nodes. The engine runs ready nodes latest-first (PyTorch's sequence_nr).
_sequence = itertools.count()

# Kinds of saved entries, stored as (kind, value, version at save, version counter, output nr):
# an input Tensor (kept as is, so a recorded backward reaches its graph), an output (kept as its
# array: holding the output Tensor would make a reference cycle), a constant (an array the
# forward computed, or a Python number), or what a saved_tensors_hooks pack hook returned
# (value: (unpack hook, packed object, how to rebuild the Tensor); its counter never moves, as
# PyTorch does not check versions through hooks).
_INPUT, _OUTPUT, _CONSTANT, _PACKED = 0, 1, 2, 3
_NO_VERSION = [0]
_RELEASED: Any = ("<freed>",)  # what _saved holds once backward has freed it
_NO_EDGE = (None, 0)
_SCALARS = (bool, int, float, complex)


class Node:
    """What every graph node has: edges to the next nodes, a creation number, hooks."""

    node_name: ClassVar[str] = "Node"
    _sequence_nr: int
    next_functions: tuple[tuple[Node | None, int], ...] = ()
    _pre_hooks: list[Callable[..., Any]] | None = None
    _post_hooks: list[Callable[..., Any]] | None = None
    # [(output_nr, hook)] for hooks registered on the Tensors this node produced, in
    # registration order (PyTorch runs them in that order, whichever output they watch).
    _tensor_hooks: list[tuple[int, Callable[..., Any]]] | None = None
    # {output_nr: weakref to a non-leaf Tensor that called retain_grad()}.
    _retained: dict[int, Any] | None = None
    # Anomaly mode: where in the user's code the node was made, and the node whose backward
    # was running then (for nodes a create_graph backward made).
    _anomaly_trace: list[str] | None = None
    _anomaly_parent: Node | None = None
    _metadata: dict[str, Any] | None = None
    _num_outputs: int = 1
    # True once any hook or retain_grad is registered here: the engine checks only this flag.
    _hooked = False
    _saved: tuple[Any, ...] | None = None  # only Functions save tensors
    # autograd.Function subclasses: backward runs even when no gradient reached the node (with
    # zeros, or Nones without materialize_grads), and needs_input_grad is what forward saw.
    _custom = False

    def name(self) -> str:
        return self.node_name

    def __repr__(self) -> str:
        return f"<{self.node_name} object at {hex(id(self))}>"

    @property
    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def register_prehook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(grad_outputs) -> grad_outputs or None`, run before this node's backward."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(hook)
        self._hooked = True
        return RemovableHandle(self._pre_hooks, hook)

    def register_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(grad_inputs, grad_outputs) -> grad_inputs or None`, run after its backward."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        self._hooked = True  # the engine looks at _post_hooks only on hooked nodes
        return RemovableHandle(self._post_hooks, hook)


class RemovableHandle:
    """Returned by hook registration; `remove()` takes the hook out again."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        for index, hook in enumerate(self._hooks):
            if hook is self._hook:  # identity: the same function may be registered twice
                del self._hooks[index]
                return

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


class AccumulateGrad(Node):
    """The node of a leaf that requires grad: the engine adds what reaches it into `.grad`."""

    node_name = "AccumulateGrad"

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # PyTorch's C++ name (the repr is short)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable
        # Leaves run as soon as they are ready: their gradient is final then (PyTorch does the
        # same). Distinct numbers keep the engine's heap from ever comparing two nodes.
        self._sequence_nr = (1 << 62) + next(_sequence)
        # A leaf's own hooks (Tensor.register_hook) live on the Tensor and are this node's
        # tensor pre-hooks, as in PyTorch; registering one later sets the flag too.
        if variable._hooks is not None:
            self._hooked = True


class Function(Node):
    """Base class of every op. Subclasses define `forward` and `backward` as static methods."""

    # What the engine and the base class read; set by `apply` on each node.
    backend: Backend
    needs_input_grad: tuple[bool, ...]
    _input_meta: list[tuple[tuple[int, ...], Any] | None]
    _to_save: tuple[Any, ...] | None = None
    _non_differentiable: tuple[Any, ...] | None = None
    materialize_grads: bool = True
    # Output shapes and dtypes, kept by multi-output nodes and custom Functions (to make zeros
    # for outputs that got no gradient).
    _output_meta: tuple[tuple[tuple[int, ...], str] | None, ...] | None = None
    # Set by an in-place op on a view: rebuilds a saved output as a view of the base's new
    # history (as PyTorch does), so this node never enters a recorded backward on its own.
    _unpack_output: Callable[[Any, int], Tensor] | None = None

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError

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
        if saved is _RELEASED:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward."
            )
        return tuple([None if entry is None else self._unpack(entry) for entry in saved])

    def _unpack(self, entry: tuple[Any, ...]) -> Any:
        kind, value, version, counter, output_nr = entry
        if kind == _CONSTANT:
            return value if type(value) in _SCALARS else _wrap(value, self.backend)
        if counter[0] != version:
            raise RuntimeError(_modified_message(self, entry))
        if kind == _INPUT:
            return value
        if kind == _PACKED:
            return self._unpack_hooked(value, output_nr)
        if self._unpack_output is not None:
            return self._unpack_output(value, output_nr)
        # An output is rebuilt around its array with this node as its grad_fn, so a recorded
        # backward (create_graph) differentiates through this op again.
        tensor = _wrap(value, self.backend)
        tensor._version_counter = counter
        tensor._requires_grad = True
        tensor.grad_fn = self
        tensor._output_nr = output_nr
        return tensor

    def _check_saved(self) -> None:
        """Raise now what `saved_tensors` would raise later. The engine calls this for every
        node before it changes anything, so a failed backward leaves every `.grad` as it was."""
        saved = self._saved
        if saved is None:
            return
        if saved is _RELEASED:
            self.saved_tensors  # noqa: B018 - raises the freed-buffers error
        for entry in saved:
            if entry is not None and entry[0] != _CONSTANT and entry[3][0] != entry[2]:
                raise RuntimeError(_modified_message(self, entry))

    # --------------------------------------------------------------------------- applying
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward on the arrays of `args`; record a node when a Tensor input needs grad."""
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
                arrays.append(arg._data)
            else:
                arrays.append(arg)
        if backend is None:
            raise TypeError(f"{cls.__name__}.apply() needs at least one Tensor argument")
        ctx = _new(cls)
        ctx.backend = backend
        result = cls.forward(ctx, *arrays, **kwargs) if kwargs else cls.forward(ctx, *arrays)
        if requires_grad and _grad_state.enabled:
            return ctx._record(args, arrays, result)
        backend = ctx.backend  # a device transfer's forward moves it to the target
        if type(result) is tuple:
            return tuple([_wrap(array, backend) for array in result])
        output = _new(Tensor)
        output._data = result
        output._backend = backend
        return output

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

    def _record(self, args: tuple[Any, ...], arrays: list[Any], result: Any) -> Any:
        """Make this ctx a node of the graph: edges, input metadata, outputs, saved tensors."""
        self._sequence_nr = next(_sequence)
        if _anomaly_state.enabled:
            _anomaly_state.record(self)
        edges: list[Any] = []
        needs = []
        meta: list[Any] = []
        for arg in args:
            if isinstance(arg, Tensor) and arg._requires_grad:
                node = arg.grad_fn
                edges.append((node if node is not None else arg._grad_accumulator(),
                              arg._output_nr))
                needs.append(True)
                data = arg._data
                meta.append((data.shape, data.dtype))
            else:
                edges.append(_NO_EDGE)
                needs.append(False)
                meta.append(None)
        self.next_functions = tuple(edges)
        self.needs_input_grad = tuple(needs)
        self._input_meta = meta

        if type(result) is tuple:
            outputs: Any = tuple([self._make_output(array, index)
                                  for index, array in enumerate(result)])
            self._num_outputs = len(outputs)
            self._output_meta = tuple((a.shape, self.backend.dtype_name(a)) for a in result)
        elif self._non_differentiable is None:
            outputs = _new(Tensor)
            outputs._data = result
            outputs._backend = self.backend
            outputs._requires_grad = True
            outputs.grad_fn = self
        else:
            outputs = self._make_output(result, 0)
        to_save = self._to_save
        if to_save is not None:
            self._saved = tuple([self._saved_entry(item, args, arrays, result, outputs)
                                 for item in to_save])
            self._to_save = None
            if _saved_tensors_hooks.open and _saved_tensors_hooks.state.stack:
                self._pack_saved(outputs)
        return outputs

    def _make_output(self, array: Any, index: int) -> Tensor:
        output = _wrap(array, self.backend)
        non_differentiable = self._non_differentiable
        if non_differentiable is None or not any(array is x for x in non_differentiable):
            output._requires_grad = True
            output.grad_fn = self
            output._output_nr = index
        return output

    def _pack_saved(self, outputs: Any) -> None:
        """saved_tensors_hooks is active: hand each saved Tensor to its pack hook (with grad
        mode off, as PyTorch) and keep what it returns, plus what is needed to rebuild the
        Tensor's place in the graph on unpack (not the Tensor itself: freeing it is the point)."""
        pack_hook, unpack_hook = _saved_tensors_hooks.state.stack[-1]
        output_tensors = outputs if type(outputs) is tuple else (outputs,)
        packed_entries: list[Any] = []
        previous = _grad_state.enabled
        _grad_state.enabled = False
        try:
            for entry in self._saved or ():
                if entry is None:
                    packed_entries.append(None)
                    continue
                kind, value, _, _, output_nr = entry
                if kind == _CONSTANT and type(value) in _SCALARS:
                    packed_entries.append(entry)  # numbers are not tensors: nothing to pack
                    continue
                if kind == _INPUT:
                    tensor = value
                    if not tensor._requires_grad:
                        graph: Any = None
                    elif tensor.grad_fn is not None:
                        graph = (tensor.grad_fn, tensor._output_nr)
                    else:
                        graph = (tensor._grad_accumulator(), -1)  # a leaf: same .grad
                elif kind == _OUTPUT:
                    tensor, graph = output_tensors[output_nr], self
                else:
                    tensor, graph = _wrap(value, self.backend), None
                packed = (unpack_hook, pack_hook(tensor), graph)
                packed_entries.append((_PACKED, packed, 0, _NO_VERSION, output_nr))
        finally:
            _grad_state.enabled = previous
        self._saved = tuple(packed_entries)

    def _unpack_hooked(self, packed: tuple[Any, Any, Any], output_nr: int) -> Tensor:
        """A Tensor around what the unpack hook returns, in the saved Tensor's place in the
        graph: an output of this node, a non-leaf input's node, or a leaf's AccumulateGrad."""
        unpack_hook, value, graph = packed
        data = unpack_hook(value)
        if not isinstance(data, Tensor):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                f"type {type(data).__name__}"
            )
        if graph is self and self._unpack_output is not None:
            return self._unpack_output(data._data, output_nr)
        tensor = _wrap(data._data, data._backend)
        if graph is self:
            tensor._requires_grad = True
            tensor.grad_fn = self
            tensor._output_nr = output_nr
        elif graph is not None:
            node, node_output_nr = graph
            tensor._requires_grad = True
            if node_output_nr < 0:
                tensor._accumulator_ref = weakref.ref(node)
            else:
                tensor.grad_fn = node
                tensor._output_nr = node_output_nr
        return tensor

    def _saved_entry(self, item: Any, args: tuple[Any, ...], arrays: list[Any], result: Any,
                     outputs: Any) -> tuple[Any, ...] | None:
        """Turn what forward passed to save_for_backward into a saved entry."""
        if item is None:
            return None
        if type(item) in _SCALARS:
            return (_CONSTANT, item, 0, None, 0)
        for arg, array in zip(args, arrays):
            if item is array or item is arg:
                if isinstance(arg, Tensor):
                    counter = arg._shared_version_counter()
                    return (_INPUT, arg, counter[0], counter, 0)
                break
        results = result if type(result) is tuple else (result,)
        output_tensors = outputs if type(outputs) is tuple else (outputs,)
        for index, (array, tensor) in enumerate(zip(results, output_tensors)):
            if item is array or item is tensor:
                counter = tensor._shared_version_counter()
                return (_OUTPUT, array, counter[0], counter, index)
        if isinstance(item, Tensor):  # neither input nor output: keep the Tensor as it is
            counter = item._shared_version_counter()
            return (_INPUT, item, counter[0], counter, 0)
        return (_CONSTANT, item, 0, None, 0)

    # --------------------------------------------------------------------------- for the engine
    def _run_backward(self, grad_outputs: list[Any]) -> tuple[Any, ...]:
        """Call backward, then give each input a gradient of its own shape and dtype."""
        if self._output_meta is not None and self.materialize_grads:
            # A None entry in _output_meta: a custom Function's non-Tensor output (stays None).
            grad_outputs = [
                _zeros(self.backend, *meta) if grad is None and meta is not None else grad
                for grad, meta in zip(grad_outputs, self._output_meta)
            ]
        grads = self.backward(self, *grad_outputs)
        if type(grads) is not tuple:
            grads = (grads,)
        meta = self._input_meta
        if len(grads) != len(meta):
            grads = self._check_count(grads)
        try:
            for index, grad in enumerate(grads):
                if grad is None:
                    continue
                input_meta = meta[index]
                if input_meta is None:
                    continue  # nobody asked for it; the engine skips inputs without an edge
                data = grad._data
                # `is` first: dtypes are singletons in NumPy and CuPy, and == is slow.
                if data.shape != input_meta[0] or (data.dtype is not input_meta[1]
                                                   and data.dtype != input_meta[1]):
                    return self._fit_all(grads)
        except AttributeError:  # not a Tensor: _fit says so
            return self._fit_all(grads)
        return grads

    def _fit_all(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        """The slow path of _run_backward: fit every gradient to its input."""
        fitted: list[Any] = []
        for index, (grad, input_meta) in enumerate(zip(grads, self._input_meta)):
            if grad is None or input_meta is None:
                fitted.append(None)
            else:
                data = getattr(grad, "_data", None)
                if data is None or data.shape != input_meta[0] or data.dtype != input_meta[1]:
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
            grad = _sum_to_size(grad, shape)
        if grad._data.dtype != native_dtype:
            backend = self.backend
            if backend.is_complex(grad._data.dtype) and not backend.is_complex(native_dtype):
                grad = _real(grad)  # a real input takes the real part, as in PyTorch
            grad = grad.to(dtypes.BY_NAME[backend._dtype_names[native_dtype]])
        return grad


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    if len(shape) > len(target):
        return False
    return all(size == 1 or size == other for size, other in zip(shape[::-1], target[::-1]))


def _modified_message(node: Function, entry: tuple[Any, ...]) -> str:
    kind, value, version, counter, output_nr = entry
    current = counter[0]
    if kind == _OUTPUT:
        shape, dtype_name = value.shape, node.backend.dtype_name(value)
        origin = f", which is output {output_nr} of {short_name(node)},"
    else:
        shape, dtype_name = value._data.shape, node.backend.dtype_name(value._data)
        origin = (f", which is output {value._output_nr} of {short_name(value.grad_fn)},"
                  if value.grad_fn is not None else "")
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [torch.{dtypes.LEGACY_NAMES[dtype_name]} {list(shape)}]{origin} is at "
        f"version {current}; expected version {version} instead. Hint: enable anomaly detection "
        "to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )


_SHORT_NAME = re.compile(r"(.*)Backward(\d*)")


def short_name(node: Node) -> str:
    """A node's name as PyTorch's error messages print it: `ExpBackward0` -> `Exp`,
    `ClampBackward1` -> `Clamp1`; names without that suffix keep their C++ namespace."""
    match = _SHORT_NAME.fullmatch(node.node_name)
    if match is None:
        return f"torch::autograd::{node.node_name}"
    stem, number = match.groups()
    return stem + ("" if number == "0" else number)


def _raise_device_mismatch(first: Backend, second: Backend) -> NoReturn:
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{first.device} and {second.device}!"
    )


def _zeros(backend: Backend, shape: tuple[int, ...], dtype: str) -> Tensor:
    return _wrap(backend.zeros(shape, dtype), backend)


class _AnomalyState:
    """Anomaly mode's switch (global, as PyTorch's). `autograd.anomaly_mode` fills in `record`
    (keeps the forward trace); the engine sets `parent` while a node's backward runs."""

    enabled = False
    check_nan = True
    parent: Node | None = None

    def record(self, node: Node) -> None:
        pass


_anomaly_state = _AnomalyState()


class _HooksOfThisThread(threading.local):
    def __init__(self) -> None:
        self.stack: list[tuple[Callable[[Tensor], Any], Callable[[Any], Tensor]]] = []


class _SavedTensorsHooks:
    """The (pack, unpack) pairs of the saved_tensors_hooks contexts open in each thread (the
    innermost applies). `open` counts them over all threads: recording an op reads only it
    (a plain attribute) unless some thread has a context open."""

    open = 0
    state = _HooksOfThisThread()


_saved_tensors_hooks = _SavedTensorsHooks()

_new = object.__new__

# Fitting a broadcast gradient uses an op; the op modules import this one, so the reference is
# taken once everything above exists (a function-local import would cost microseconds a call).
from .ops.complex import real as _real  # noqa: E402
from .ops.shape import sum_to_size as _sum_to_size  # noqa: E402
