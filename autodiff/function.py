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

`apply` runs forward; `_record` makes the ctx a node when an input requires grad. Two switches
hook in there, each one attribute test while off: anomaly mode (keeps the forward traceback) and
saved_tensors_hooks (saved tensors go through the pack hook, and come back through the unpack
hook in the saved tensor's place in the graph).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from . import dtypes
from .grad_mode import state as _grad_state
from .node import AccumulateGrad, Node, anomaly_state, sequence_nrs
from .saved import FREED, RELEASED, SavedTensor, saved_tensors_hooks_state
from .tensor import Tensor, _wrap

if TYPE_CHECKING:
    from backends import Backend

_NO_EDGE = (None, 0)
_SCALARS = (bool, int, float, complex)


class Function(Node):
    """Base class of every op. Subclasses define `forward` and `backward` as static methods."""

    # What the engine and the base class read; set by `apply` on each node.
    backend: Backend
    needs_input_grad: tuple[bool, ...]
    _input_meta: list[tuple[tuple[int, ...], Any] | None]
    _to_save: tuple[Any, ...] | None = None
    # One entry per item given to save_for_backward: a SavedTensor, a Python number or None.
    _saved: tuple[SavedTensor | bool | int | float | None, ...] | None = None
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
        if saved is RELEASED:
            raise RuntimeError(FREED)
        return tuple([entry.unpack(self) if type(entry) is SavedTensor else entry
                      for entry in saved])

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
        self._sequence_nr = next(sequence_nrs)
        if anomaly_state.enabled:
            anomaly_state.record(self)
        edges: list[Any] = []
        needs = []
        meta: list[Any] = []
        for arg in args:
            if isinstance(arg, Tensor) and arg._requires_grad:
                node = arg.grad_fn
                edges.append((node if node is not None else AccumulateGrad.of(arg),
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
            if saved_tensors_hooks_state.open:
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

    def _saved_entry(self, item: Any, args: tuple[Any, ...], arrays: list[Any], result: Any,
                     outputs: Any) -> SavedTensor | bool | int | float | None:
        """Turn what forward passed to save_for_backward into a saved entry."""
        if item is None or type(item) in _SCALARS:
            return item
        for arg, array in zip(args, arrays):
            if item is array or item is arg:
                if isinstance(arg, Tensor):
                    return SavedTensor(arg, arg._shared_version_counter())
                break
        results = result if type(result) is tuple else (result,)
        output_tensors = outputs if type(outputs) is tuple else (outputs,)
        for index, (array, tensor) in enumerate(zip(results, output_tensors)):
            if item is array or item is tensor:
                return SavedTensor(array, tensor._shared_version_counter(), is_output=True,
                                   output_nr=index)
        if isinstance(item, Tensor):  # neither input nor output: keep the Tensor as it is
            return SavedTensor(item, item._shared_version_counter())
        return SavedTensor(item, None, is_constant=True)

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
            grad = grad.sum_to_size(shape)
        if grad._data.dtype != native_dtype:
            backend = self.backend
            if backend.is_complex(grad._data.dtype) and not backend.is_complex(native_dtype):
                grad = grad.real  # a real input takes the real part, as in PyTorch
            grad = grad.to(dtypes.BY_NAME[backend.name_of_dtype(native_dtype)])
        return grad


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    if len(shape) > len(target):
        return False
    return all(size == 1 or size == other for size, other in zip(shape[::-1], target[::-1]))


def _raise_device_mismatch(first: Backend, second: Backend) -> NoReturn:
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{first.device} and {second.device}!"
    )


def _zeros(backend: Backend, shape: tuple[int, ...], dtype: str) -> Tensor:
    return _wrap(backend.zeros(shape, dtype), backend)


_new = object.__new__
