"""`Function`: an op's forward and backward. Applied, an instance is the op's node in the graph
and its `ctx` (as in PyTorch): it holds the saved tensors, the edges to the nodes of its inputs
(`next_functions`) and what the engine needs to hand each input a gradient of the right shape.

Built-in ops subclass `Function` with `forward(ctx, *arrays)` on backend arrays and
`backward(ctx, *grad_outputs)` written with Tensor ops, so a backward run under
`create_graph=True` is itself recorded and can be differentiated again. Tensor-valued arguments
are positional (one edge each, as PyTorch lists them in `next_functions`); options such as `dim`
are keyword arguments.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from . import dtypes
from .grad_mode import state as _grad_state
from .tensor import Tensor, _wrap

if TYPE_CHECKING:
    from backends import Backend

# Creation order of nodes. The engine runs ready nodes latest-first (PyTorch's sequence_nr).
_sequence = itertools.count()

# Kinds of saved entries: an input Tensor (kept as is, so a recorded backward reaches its graph),
# an output (kept as its array: holding the output Tensor would make a reference cycle), or a
# constant the forward computed.
_INPUT, _OUTPUT, _CONSTANT = 0, 1, 2
_RELEASED: tuple[()] = ()  # distinct from "saved nothing" by identity, see _release_saved


class Node:
    """What every graph node has: edges to the next nodes, a creation number, hooks."""

    node_name: ClassVar[str] = "Node"
    _sequence_nr: int
    next_functions: tuple[tuple[Node | None, int], ...] = ()
    _pre_hooks: list[Callable[..., Any]] | None = None
    _post_hooks: list[Callable[..., Any]] | None = None
    # {output_nr: [hook]} for hooks registered on the Tensors this node produced.
    _tensor_hooks: dict[int, list[Callable[..., Any]]] | None = None
    # {output_nr: weakref to a non-leaf Tensor that called retain_grad()}.
    _retained: dict[int, Any] | None = None
    _anomaly_trace: list[str] | None = None
    _metadata: dict[str, Any] | None = None
    _num_outputs: int = 1

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
        return RemovableHandle(self._pre_hooks, hook)

    def register_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(grad_inputs, grad_outputs) -> grad_inputs or None`, run after its backward."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return RemovableHandle(self._post_hooks, hook)


class RemovableHandle:
    """Returned by hook registration; `remove()` takes the hook out again."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


class AccumulateGrad(Node):
    """The node of a leaf that requires grad: the engine adds what reaches it into `.grad`."""

    node_name = "AccumulateGrad"

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable
        # Leaves run as soon as they are ready: their gradient is final then (PyTorch does the same).
        self._sequence_nr = 1 << 62


class Function(Node):
    """Base class of every op. Subclasses define `forward` and `backward` as static methods."""

    # What the engine and the base class read; set by `apply` on each node.
    backend: Backend
    needs_input_grad: tuple[bool, ...]
    _input_meta: tuple[tuple[tuple[int, ...], Any] | None, ...]
    _saved: tuple[Any, ...] | None = None
    _to_save: tuple[Any, ...] | None = None
    _non_differentiable: tuple[Any, ...] | None = None
    materialize_grads: bool = True
    # Output shapes and dtypes, kept only by multi-output nodes (to make zeros for unused outputs).
    _output_meta: tuple[tuple[tuple[int, ...], str], ...] | None = None

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
        if saved is _RELEASED:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward."
            )
        if saved is None:
            return ()
        return tuple(self._unpack(entry) for entry in saved)

    def _unpack(self, entry: Any) -> Any:
        if entry is None:
            return None
        kind, value, version, extra = entry
        if kind == _CONSTANT:
            return _wrap(value, self.backend)
        current = extra[0][0] if kind == _OUTPUT else value._version
        if current != version:
            raise RuntimeError(_modified_message(self, entry, current))
        if kind == _INPUT:
            return value
        # An output is rebuilt around its array with this node as its grad_fn, so a recorded
        # backward (create_graph) differentiates through this op again.
        counter, output_nr = extra
        tensor = _wrap(value, self.backend)
        tensor._version_counter = counter
        tensor._requires_grad = True
        tensor.grad_fn = self
        tensor._output_nr = output_nr
        return tensor

    def _check_saved(self) -> None:
        """Raise now what `saved_tensors` would raise later: the engine calls this before it
        changes anything, so a failed backward leaves every `.grad` as it was."""
        saved = self._saved
        if saved is _RELEASED:
            self.saved_tensors  # noqa: B018 - raises the freed-buffers error
        if saved:
            for entry in saved:
                if entry is not None and entry[0] != _CONSTANT:
                    self._unpack(entry)

    def _release_saved(self) -> None:
        if self._saved is not None:
            self._saved = _RELEASED

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
                    _raise_device_mismatch(backend, arg._backend)
                if arg._requires_grad:
                    requires_grad = True
                arrays.append(arg._data)
            else:
                arrays.append(arg)
        if backend is None:
            raise TypeError(f"{cls.__name__}.apply() needs at least one Tensor argument")
        ctx = _new(cls)
        ctx.backend = backend
        result = cls.forward(ctx, *arrays, **kwargs)
        backend = ctx.backend  # a device transfer's forward moves it to the target
        if not (requires_grad and _grad_state.enabled):
            if type(result) is tuple:
                return tuple(_wrap(array, backend) for array in result)
            return _wrap(result, backend)
        return ctx._record(args, arrays, result)

    def _record(self, args: tuple[Any, ...], arrays: list[Any], result: Any) -> Any:
        """Make this ctx a node of the graph: edges, input metadata, saved tensors, outputs."""
        self._sequence_nr = next(_sequence)
        if _anomaly_state.enabled:
            _anomaly_state.record(self)
        edges = []
        needs = []
        meta = []
        for arg in args:
            if isinstance(arg, Tensor) and arg._requires_grad:
                edges.append((arg.grad_fn or arg._grad_accumulator(), arg._output_nr))
                needs.append(True)
                meta.append((arg._data.shape, arg._data.dtype))
            else:
                edges.append((None, 0))
                needs.append(False)
                meta.append(None)
        self.next_functions = tuple(edges)
        self.needs_input_grad = tuple(needs)
        self._input_meta = tuple(meta)

        backend = self.backend
        non_differentiable = self._non_differentiable
        if type(result) is tuple:
            outputs = tuple(
                self._make_output(array, index, non_differentiable)
                for index, array in enumerate(result)
            )
            self._num_outputs = len(outputs)
            self._output_meta = tuple((a.shape, backend.dtype_name(a)) for a in result)
        else:
            outputs = self._make_output(result, 0, non_differentiable)
        if self._to_save is not None:
            self._saved = tuple(self._resolve(item, args, arrays, result, outputs)
                                for item in self._to_save)
            self._to_save = None
        return outputs

    def _make_output(self, array: Any, index: int, non_differentiable: Any) -> Tensor:
        output = _wrap(array, self.backend)
        if non_differentiable is None or not any(array is x for x in non_differentiable):
            output._requires_grad = True
            output.grad_fn = self
            output._output_nr = index
        return output

    def _resolve(self, item: Any, args: tuple[Any, ...], arrays: list[Any], result: Any,
                 outputs: Any) -> Any:
        """Turn what forward passed to save_for_backward into a saved entry."""
        if item is None:
            return None
        results = result if type(result) is tuple else (result,)
        output_tensors = outputs if type(outputs) is tuple else (outputs,)
        for index, (array, tensor) in enumerate(zip(results, output_tensors)):
            if item is array or item is tensor:
                counter = tensor._shared_version_counter()
                return (_OUTPUT, array, counter[0], (counter, index))
        for arg, array in zip(args, arrays):
            if isinstance(arg, Tensor) and (item is array or item is arg):
                return (_INPUT, arg, arg._version, None)
        if isinstance(item, Tensor):  # a Tensor that is neither input nor output: keep as is
            return (_INPUT, item, item._version, None)
        return (_CONSTANT, item, 0, None)

    # --------------------------------------------------------------------------- for the engine
    def _run_backward(self, grad_outputs: list[Any]) -> tuple[Any, ...]:
        """Call backward, then give each input a gradient of its own shape and dtype."""
        if self._num_outputs > 1 and self.materialize_grads:
            grad_outputs = [
                _zeros(self.backend, shape, dtype) if grad is None else grad
                for grad, (shape, dtype) in zip(grad_outputs, self._output_meta or ())
            ]
        grads = self.backward(self, *grad_outputs)
        if type(grads) is not tuple:
            grads = (grads,)
        meta = self._input_meta
        if len(grads) != len(meta):
            if len(grads) > len(meta) and all(grad is None for grad in grads[len(meta):]):
                grads = grads[: len(meta)]
            else:
                raise RuntimeError(
                    f"function {self.node_name} returned an incorrect number of gradients "
                    f"(expected {len(meta)}, got {len(grads)})"
                )
        for index, (grad, input_meta) in enumerate(zip(grads, meta)):
            if grad is None or input_meta is None:
                continue
            shape, native_dtype = input_meta
            data = grad._data
            if data.shape != shape or data.dtype != native_dtype:
                grads = grads[:index] + (self._fit(index, grad, shape, native_dtype),) + grads[index + 1:]
        return grads

    def _fit(self, index: int, grad: Tensor, shape: tuple[int, ...], native_dtype: Any) -> Tensor:
        """Sum a broadcast gradient back to its input's shape and cast it to the input's dtype."""
        from .ops.shape import sum_to_size  # only reached when a gradient needs fitting

        if grad._data.shape != shape:
            if not _broadcasts_to(shape, grad._data.shape):
                raise RuntimeError(
                    f"Function {self.node_name} returned an invalid gradient at index {index} - "
                    f"got {list(grad._data.shape)} but expected shape compatible with "
                    f"{list(shape)}"
                )
            grad = sum_to_size(grad, shape)
        if grad._data.dtype != native_dtype:
            grad = grad.to(dtypes.BY_NAME[self.backend._dtype_names[native_dtype]])
        return grad


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    if len(shape) > len(target):
        return False
    return all(size == 1 or size == other for size, other in zip(shape[::-1], target[::-1]))


def _modified_message(node: Function, entry: Any, current: int) -> str:
    kind, value, version, extra = entry
    if kind == _OUTPUT:
        shape, dtype_name, origin = value.shape, node.backend.dtype_name(value), f", which is output {extra[1]} of {node.node_name},"
    else:
        shape, dtype_name = value._data.shape, node.backend.dtype_name(value._data)
        origin = (f", which is output {value._output_nr} of {value.grad_fn.node_name},"
                  if value.grad_fn is not None else "")
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [torch.{dtypes.LEGACY_NAMES[dtype_name]} {list(shape)}]{origin} is at "
        f"version {current}; expected version {version} instead. Hint: enable anomaly detection "
        "to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True)."
    )


def _raise_device_mismatch(first: Backend, second: Backend) -> None:
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{first.device} and {second.device}!"
    )


def _zeros(backend: Backend, shape: tuple[int, ...], dtype: str) -> Tensor:
    return _wrap(backend.zeros(shape, dtype), backend)


class _AnomalyState:
    """Anomaly mode's switch; the autograd API fills in `record` (keeps the forward trace)."""

    enabled = False

    def record(self, node: Node) -> None:
        pass


_anomaly_state = _AnomalyState()

_new = object.__new__
