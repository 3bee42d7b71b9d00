"""Tensors saved for backward (PyTorch's SavedVariable), and the saved_tensors_hooks that may
pack them.

An op's forward calls `ctx.save_for_backward(...)`; when the op is recorded, each saved item
becomes a `SavedTensor` (Python numbers stay as they are). Backward reads them back through
`ctx.saved_tensors`, which unpacks each one, checking that no in-place op changed it since.
Once a backward without `retain_graph` has run a node, its saved tensors are freed: the node
holds `RELEASED`, and reading them raises PyTorch's "backward through the graph a second time".
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import dtypes
from .compiler.tracing import graph_break
from .dual import state as dual_state
from .hot_path import modes
from .node import Node, short_name
from .tensor import Tensor, _wrap

if TYPE_CHECKING:
    from .function import Function

FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed when "
    "you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


class _Released:
    """What a node's `_saved` holds once backward has freed it (truthy, unlike the empty
    tuple of a node that saved nothing but must still refuse a second backward)."""

    def __repr__(self) -> str:
        return "<freed>"


RELEASED: Any = _Released()


class SavedTensor:
    """One tensor an op saved for backward.

    What is kept (`data`) depends on what was saved:

    * an input, or any other Tensor: the Tensor itself, so a recorded backward (create_graph)
      reaches its graph;
    * an output of the node that saved it (`is_output`): its array only, since holding the
      output Tensor would make a reference cycle node -> output -> node; unpacking rebuilds
      the Tensor with the node as its grad_fn and `output_nr`;
    * an array the forward computed (`is_constant`): the array, never version-checked;
    * under saved_tensors_hooks: what the pack hook returned, handed to `unpack_hook` on
      unpack (versions are not checked through hooks, as in PyTorch).

    `version` is the shared version counter's value at save time: unpacking after an in-place
    op moved the counter on raises PyTorch's "modified by an inplace operation" error.

    `plain` says that unpacking is only that check and `data` as it is (a Tensor kept as it
    was saved, not packed): `Function.saved_tensors` unpacks those itself, without a call.
    """

    __slots__ = ("data", "edge", "fw_grads", "is_constant", "is_output", "original", "output_nr",
                 "plain", "unpack_hook", "version", "version_counter")

    def __init__(self, data: Any, version_counter: list[int] | None, is_output: bool = False,
                 output_nr: int = 0, is_constant: bool = False) -> None:
        self.data = data
        self.version_counter = version_counter
        self.version = version_counter[0] if version_counter is not None else 0
        self.is_output = is_output
        self.output_nr = output_nr
        self.is_constant = is_constant
        self.plain = not is_output and not is_constant
        self.unpack_hook: Callable[[Any], Tensor] | None = None
        # Packed only: where the saved Tensor sat in the graph ((node, output_nr); output_nr
        # -1 for a leaf's AccumulateGrad), and the Tensor it was saved from, weakly.
        self.edge: tuple[Node, int] | None = None
        self.original: weakref.ref[Tensor] | None = None
        # An output's tangents (forward AD), each as (level, the level's generation, tangent):
        # the rebuilt output carries each while its level is open, as the output itself did.
        self.fw_grads: list[tuple[int, int, Tensor]] | None = None

    # ------------------------------------------------------------------------- checking
    def is_modified(self) -> bool:
        """True when an in-place op changed the saved tensor after it was saved."""
        counter = self.version_counter
        return counter is not None and counter[0] != self.version

    def check_version(self, node: Function) -> None:
        if self.is_modified():
            raise RuntimeError(self._modified_message(node))

    def _modified_message(self, node: Function) -> str:
        assert self.version_counter is not None
        if self.is_output:
            array = self.data
            origin = f", which is output {self.output_nr} of {short_name(node)},"
        else:
            tensor: Tensor = self.data
            array = tensor._data
            origin = (f", which is output {tensor._output_nr} of {short_name(tensor.grad_fn)},"
                      if tensor.grad_fn is not None else "")
        dtype_name = dtypes.LEGACY_NAMES[node.backend.dtype_name(array)]
        return (
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [torch.{dtype_name} {list(array.shape)}]{origin} is at version "
            f"{self.version_counter[0]}; expected version {self.version} instead. Hint: enable "
            "anomaly detection to find the operation that failed to compute its gradient, with "
            "torch.autograd.set_detect_anomaly(True, check_nan=False)."
        )

    # ------------------------------------------------------------------------- unpacking
    def unpack(self, node: Function) -> Tensor:
        """The saved Tensor, for `node`'s backward."""
        counter = self.version_counter
        if counter is not None and counter[0] != self.version:
            raise RuntimeError(self._modified_message(node))
        if self.unpack_hook is not None:
            return self._unpack_packed(node)
        if self.is_output:
            return self._unpack_output(node, self.data)
        if self.is_constant:
            return _wrap(self.data, node.backend)
        return self.data

    def _unpack_output(self, node: Function, array: Any) -> Tensor:
        """An output rebuilt around its array with `node` as its grad_fn, so a recorded
        backward (create_graph) differentiates through the op again."""
        if node._unpack_output is not None:  # an in-place op on a view (views.py)
            return node._unpack_output(array, self.output_nr)
        tensor = _wrap(array, node.backend)
        tensor._version_counter = self.version_counter
        tensor._requires_grad = True
        tensor._grad_fn = node
        tensor._output_nr = self.output_nr
        if self.fw_grads is not None:
            for level, generation, tangent in self.fw_grads:
                if dual_state.is_open(level, generation):
                    dual_state.set_tangent(tensor, tangent, level)
        return tensor

    def _unpack_packed(self, node: Function) -> Tensor:
        """A Tensor around what the unpack hook returns, in the saved Tensor's place in the
        graph: an output of this node, a non-leaf input's node, or a leaf's AccumulateGrad."""
        assert self.unpack_hook is not None
        data = self.unpack_hook(self.data)
        if not isinstance(data, Tensor):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                f"type {type(data).__name__}"
            )
        if self.is_output:
            if node._unpack_output is not None:
                return node._unpack_output(data._data, self.output_nr)
            tensor = _wrap(data._data, data._backend)
            tensor._requires_grad = True
            tensor._grad_fn = node
            tensor._output_nr = self.output_nr
            return tensor
        tensor = _wrap(data._data, data._backend)
        if self.edge is not None:
            edge_node, output_nr = self.edge
            tensor._requires_grad = True
            if output_nr < 0:
                tensor._accumulator_ref = weakref.ref(edge_node)
            else:
                tensor._grad_fn = edge_node
                tensor._output_nr = output_nr
        return tensor

    # ------------------------------------------------------------------------- packing
    def pack(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor],
             outputs: tuple[Tensor, ...], node: Function) -> None:
        """saved_tensors_hooks is open: keep what `pack_hook` returns instead of the tensor,
        plus what rebuilds the tensor's place in the graph on unpack (not the Tensor itself:
        freeing it is the point)."""
        if self.is_output:
            tensor = outputs[self.output_nr]
        elif self.is_constant:
            tensor = _wrap(self.data, node.backend)
        else:
            tensor = self.data
            self._remember_place(tensor)
        self._packed(pack_hook(tensor), unpack_hook)

    def register_hooks(self, pack_hook: Callable[[Tensor], Any],
                       unpack_hook: Callable[[Any], Tensor], node: Function) -> None:
        """Pack the saved tensor now (`grad_fn._raw_saved_<name>.register_hooks`): the pack
        hook gets it detached, as PyTorch hands it."""
        tensor = self.unpack(node)  # checks the version first
        if not self.is_output and not self.is_constant:
            self._remember_place(tensor)
        self._packed(pack_hook(tensor.detach()), unpack_hook)

    def _remember_place(self, tensor: Tensor) -> None:
        self.original = weakref.ref(tensor)
        if not tensor._requires_grad:
            self.edge = None
        elif tensor.grad_fn is not None:
            self.edge = (tensor.grad_fn, tensor._output_nr)
        else:
            self.edge = (tensor._grad_accumulator(), -1)  # a leaf: the same .grad

    def _packed(self, packed: Any, unpack_hook: Callable[[Any], Tensor]) -> None:
        self.data = packed
        self.unpack_hook = unpack_hook
        self.version_counter = None  # PyTorch does not check versions through hooks
        self.is_constant = False
        self.plain = False

    def stored(self, node: Function) -> Any:
        """What is kept, as PyTorch's SavedTensor.data shows it: the saved tensor, or once
        packed, what the pack hook returned."""
        if self.unpack_hook is not None:
            return self.data
        if self.is_output:
            return self._unpack_output(node, self.data)
        if self.is_constant:
            return _wrap(self.data, node.backend)
        return self.data

    # ------------------------------------------------------------------------- in-place ops
    def was_saved_from(self, tensor: Tensor) -> bool:
        """Whether this is `tensor` as saved (an in-place op asks before overwriting it)."""
        if self.unpack_hook is not None:
            return self.original is not None and self.original() is tensor
        return not self.is_output and self.data is tensor

    def follow_output(self, array: Any, tensor: Tensor) -> bool:
        """An in-place op's node saved its output `array`, whose values now live in `tensor`:
        check them against tensor's version counter from now on. True if this was it."""
        if not self.is_output or self.data is not array or self.unpack_hook is not None:
            return False
        counter = tensor._shared_version_counter()
        if array.dtype == tensor._data.dtype:
            self.data = tensor._data
        self.version_counter = counter
        self.version = counter[0]
        return True

    # ------------------------------------------------------------------------- for viz
    @property
    def shape(self) -> tuple[int, ...] | None:
        """The saved tensor's shape (None once packed: only the unpack hook knows it)."""
        if self.unpack_hook is not None:
            return None
        data = self.data
        return tuple(data._data.shape if isinstance(data, Tensor) else data.shape)


def saved_input(tensor: Tensor, version_counter: list[int]) -> SavedTensor:
    """`SavedTensor(tensor, version_counter)`: the common case, an op's input Tensor, made
    without the class call (a call of the class runs `__init__` from C, which costs more than
    this whole function)."""
    saved = _new(SavedTensor)
    saved.data = tensor
    saved.version_counter = version_counter
    saved.version = version_counter[0]
    saved.is_output = False
    saved.output_nr = 0
    saved.is_constant = False
    saved.plain = True
    saved.unpack_hook = None
    saved.edge = None
    saved.original = None
    saved.fw_grads = None
    return saved


def saved_constant(array: Any) -> SavedTensor:
    """`SavedTensor(array, None, is_constant=True)`, an array the forward computed, made as
    `saved_input` makes an input's."""
    saved = _new(SavedTensor)
    saved.data = array
    saved.version_counter = None
    saved.version = 0
    saved.is_output = False
    saved.output_nr = 0
    saved.is_constant = True
    saved.plain = False
    saved.unpack_hook = None
    saved.edge = None
    saved.original = None
    saved.fw_grads = None
    return saved


_new = object.__new__


def holds_array(saved: tuple[Any, ...], array: Any) -> bool:
    """Whether one of the saved entries `saved` keeps `array` (the engine asks before letting
    a leaf's `.grad` take a gradient without a copy)."""
    for entry in saved:
        if type(entry) is SavedTensor and entry.unpack_hook is None:
            data = entry.data
            # `plain`: data is the saved Tensor (else an output's or a constant's array). Asked
            # of the entry, not with isinstance: Tensor's metaclass makes that test slow.
            if data is array or (entry.plain and data._data is array):
                return True
    return False


# ----------------------------------------------------------------------------- saved_tensors_hooks
class _HooksOfThisThread(threading.local):
    def __init__(self) -> None:
        self.stack: list[tuple[Callable[[Tensor], Any], Callable[[Any], Tensor]]] = []
        self.disabled_message: str | None = None  # disable_saved_tensors_hooks's


class SavedTensorsHooksState:
    """The (pack, unpack) pairs of the saved_tensors_hooks contexts open in each thread (the
    innermost applies). `open` counts them over all threads: recording an op reads only it
    (a plain attribute) unless some thread has a context open."""

    def __init__(self) -> None:
        self.open = 0
        self.per_thread = _HooksOfThisThread()
        self._lock = threading.Lock()
        # Called with a tensor about to be changed in place (allow_mutation_on_saved_tensors
        # sets it, to copy what was saved from it first); None otherwise.
        self.before_mutation: Callable[[Tensor], None] | None = None

    def push(self, pack_hook: Callable[[Tensor], Any],
             unpack_hook: Callable[[Any], Tensor]) -> None:
        graph_break("saved_tensors_hooks opened inside a compiled function")
        message = self.per_thread.disabled_message
        if message is not None:
            raise RuntimeError(message)
        self.per_thread.stack.append((pack_hook, unpack_hook))
        with self._lock:
            self.open += 1
        modes.enter()

    def pop(self) -> None:
        self.per_thread.stack.pop()
        with self._lock:
            self.open -= 1
        modes.exit()

    def disable(self, message: str | None) -> str | None:
        """Refuse hooks in this thread with `message` (None: allow them again); returns the
        message that was in force. Refused while hooks are open, with `message`."""
        if message is not None and self.per_thread.stack:
            raise RuntimeError(message)
        previous = self.per_thread.disabled_message
        self.per_thread.disabled_message = message
        return previous

    def innermost(self) -> tuple[Callable[[Tensor], Any], Callable[[Any], Tensor]] | None:
        """The pair that applies in this thread, if any."""
        stack = self.per_thread.stack
        return stack[-1] if stack else None


saved_tensors_hooks_state = SavedTensorsHooksState()
