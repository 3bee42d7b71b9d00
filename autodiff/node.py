"""The graph node: what every node has, whatever op it belongs to (PyTorch's `Node`).

A node has edges to the nodes of its inputs (`next_functions`, one `(node, output_nr)` pair per
input), a creation number the engine orders by (`_sequence_nr`), and hooks: its own pre- and
post-hooks, the hooks of the Tensors it produced, and the retains-grad entries of those
Tensors. Ops (`function.Function`) add forward, backward and saved tensors; a leaf that
requires grad has an `AccumulateGrad` node instead, which the engine adds into `.grad` through.

Anomaly mode's state lives here too: while it is on, each node keeps the traceback of the user
code that made it.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import traceback
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .compiler.tracing import graph_break
from .hot_path import modes
from .user_warnings import warn

if TYPE_CHECKING:
    from .tensor import Tensor

# Creation order of nodes. The engine runs ready nodes latest-first (PyTorch's sequence_nr).
sequence_nrs = itertools.count()

Hook = Callable[..., Any]


class Node:
    """What every graph node has: edges to the next nodes, a creation number, hooks."""

    node_name: ClassVar[str] = "Node"
    _sequence_nr: int
    next_functions: tuple[tuple[Node | None, int], ...] = ()
    _num_outputs: int = 1
    # Which inputs need a gradient (ops set it when recorded; None: the node has no inputs of
    # its own to skip, as AccumulateGrad and CopySlices).
    needs_input_grad: tuple[bool, ...] | None = None
    _pre_hooks: list[Hook] | None = None
    _post_hooks: list[Hook] | None = None
    # [(output_nr, hook)] for hooks registered on the Tensors this node produced, in
    # registration order (PyTorch runs them in that order, whichever output they watch).
    _tensor_hooks: list[tuple[int, Hook]] | None = None
    # {output_nr: weak reference to the non-leaf Tensor that called retain_grad()}.
    _retained: dict[int, weakref.ref[Tensor]] | None = None
    # True once any hook or retain_grad is registered here: the engine checks only this flag.
    _hooked = False
    # Anomaly mode: where in the user's code the node was made, and the node whose backward
    # was running then (for nodes a create_graph backward made).
    _anomaly_trace: list[str] | None = None
    _anomaly_parent: Node | None = None
    _metadata: dict[str, Any] | None = None
    # replayable(): the node's arguments, options and outputs (autograd.graph.replay).
    _replay: Any = None
    # What backward saved (function.Function); RELEASED once a backward freed it.
    _saved: tuple[Any, ...] | None = None
    # True for the nodes recorded inside a control-flow operator (control_flow.py): PyTorch's
    # operator node recomputes in its backward, so a second backward through it works without
    # retain_graph; these nodes keep what they saved for the same reason.
    _keep_saved = False
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

    # ------------------------------------------------------------------------- for the engine
    def _run_backward(self, grad_outputs: list[Any]) -> tuple[Any, ...]:
        """The gradients w.r.t. the inputs, one per edge of `next_functions`."""
        raise TypeError(f"{type(self).__name__} has no backward of its own")

    def _check_saved(self) -> None:
        """Raise now what reading the saved tensors in backward would raise (nothing here)."""

    # ------------------------------------------------------------------------- the node's hooks
    def register_prehook(self, hook: Hook) -> RemovableHandle:
        """`hook(grad_outputs) -> grad_outputs or None`, run before this node's backward."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._hooked = True
        return RemovableHandle.append(self._pre_hooks, hook)

    def register_hook(self, hook: Hook) -> RemovableHandle:
        """`hook(grad_inputs, grad_outputs) -> grad_inputs or None`, run after its backward."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._hooked = True  # the engine looks at _post_hooks only on hooked nodes
        return RemovableHandle.append(self._post_hooks, hook)

    # ------------------------------------------------------------------------- its Tensors' hooks
    def add_tensor_hook(self, output_nr: int, hook: Hook) -> RemovableHandle:
        """`Tensor.register_hook` on this node's output `output_nr`."""
        if self._tensor_hooks is None:
            self._tensor_hooks = []
        self._hooked = True
        # One list per node: the registration order over all outputs is kept.
        return RemovableHandle.append(self._tensor_hooks, (output_nr, hook))

    def tensor_hooks(self) -> list[tuple[int, Hook]]:
        """A snapshot of the hooks of this node's outputs, `(output_nr, hook)` in registration
        order (a hook may register or remove hooks while they run)."""
        return list(self._tensor_hooks) if self._tensor_hooks else []

    def add_retains_grad(self, tensor: Tensor) -> None:
        """`tensor.retain_grad()`: the engine stores the gradient of this output in its
        `.grad` (after the Tensor hooks, so it sees the hooked value)."""
        if self._retained is None:
            self._retained = {}
        self._retained[tensor._output_nr] = weakref.ref(tensor)
        self._hooked = True

    def pop_retains_grad(self, output_nr: int) -> weakref.ref[Tensor] | None:
        """Take the retains-grad entry of one output away (its Tensor has a new node)."""
        if self._retained is None:
            return None
        return self._retained.pop(output_nr, None)

    def retained_tensors(self) -> list[tuple[int, Tensor]]:
        """The live Tensors of this node that retain their gradient, with their output_nr."""
        if not self._retained:
            return []
        alive = []
        for output_nr, reference in self._retained.items():
            tensor = reference()
            if tensor is not None:
                alive.append((output_nr, tensor))
        return alive


def move_retains_grad(tensor: Tensor, old_node: Node | None, old_output_nr: int,
                      new_node: Node) -> None:
    """`tensor` has a new node (an in-place op, or a view catching up with its base): its
    retain_grad moves there, so `.grad` is the gradient of the new value (PyTorch's
    update_tensor_hooks_on_new_gradfn). Hooks registered before stay with the old node, as in
    PyTorch."""
    if not tensor._retains_grad or new_node is old_node:
        return
    if old_node is not None:
        old_node.pop_retains_grad(old_output_nr)
    new_node.add_retains_grad(tensor)


class RemovableHandle:
    """Returned by hook registration; `remove()` takes the hook out again."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks = hooks
        self._hook = hook

    @classmethod
    def append(cls, hooks: list[Any], hook: Any) -> RemovableHandle:
        """Register `hook` at the end of `hooks`; the handle removes that very entry."""
        hooks.append(hook)
        return cls(hooks, hook)

    def remove(self) -> None:
        for index, hook in enumerate(self._hooks):
            if hook is self._hook:  # identity: the same function may be registered twice
                del self._hooks[index]
                return

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


# Guards the making of a leaf's AccumulateGrad and its lock: two threads recording ops on one
# leaf get the same node.
_creation = threading.Lock()


class AccumulateGrad(Node):
    """The node of a leaf that requires grad: the engine adds what reaches it into `.grad`.

    One node per leaf while a graph holds it (`AccumulateGrad.of`). Backward passes in several
    threads add into one `.grad` one at a time, under the leaf's `lock`, as in PyTorch.
    """

    node_name = "AccumulateGrad"

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # PyTorch's C++ name (the repr is short)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable
        # Leaves run as soon as they are ready: their gradient is final then (PyTorch does the
        # same). Distinct numbers keep the engine's heap from ever comparing two nodes.
        self._sequence_nr = (1 << 62) + next(sequence_nrs)
        if variable._hooks is not None:
            self._hooked = True

    @property
    def lock(self) -> threading.RLock:
        """The leaf's lock, made on first use (autograd.grad and the transforms never add into
        `.grad`) and kept by the leaf, as graphs come and go. Reentrant: a
        post-accumulate-grad hook may run a backward into the same leaf."""
        variable = self.variable
        lock = variable._grad_lock
        if lock is None:
            _creation.acquire()
            try:
                lock = variable._grad_lock
                if lock is None:
                    lock = variable._grad_lock = threading.RLock()
            finally:
                _creation.release()
        return lock

    @classmethod
    def of(cls, variable: Tensor) -> AccumulateGrad:
        """The leaf's node, made once and shared while a graph holds it (weakly referenced
        from the leaf: the leaf does not keep its graph alive)."""
        reference = variable._accumulator_ref
        node = reference() if reference is not None else None
        if node is None:
            # acquire/release rather than `with`: a `with` block on a lock costs twice as much
            # (its __exit__ is a call from C), and a step makes this node for every leaf anew.
            _creation.acquire()
            try:
                reference = variable._accumulator_ref
                node = reference() if reference is not None else None
                if node is None:
                    node = cls(variable)
                    variable._accumulator_ref = weakref.ref(node)
            finally:
                _creation.release()
        return node

    def forget_grad(self) -> None:
        """Undo of a first gradient (a failed backward): the leaf's `.grad` back to None."""
        with self.lock:
            self.variable._grad = None

    @staticmethod
    def add_leaf_hook(variable: Tensor, hook: Hook) -> RemovableHandle:
        """`Tensor.register_hook` on a leaf. The hooks live on the Tensor (they outlive any one
        graph) and are this node's tensor hooks, as in PyTorch."""
        if variable._hooks is None:
            variable._hooks = []
        reference = variable._accumulator_ref
        node = reference() if reference is not None else None
        if node is not None:
            node._hooked = True
        return RemovableHandle.append(variable._hooks, hook)

    def tensor_hooks(self) -> list[tuple[int, Hook]]:
        hooks = self.variable._hooks
        return [(0, hook) for hook in hooks] if hooks else []


_SHORT_NAME = re.compile(r"(.*)Backward(\d*)")


def short_name(node: Node) -> str:
    """A node's name as PyTorch's error messages print it: `ExpBackward0` -> `Exp`,
    `ClampBackward1` -> `Clamp1`; names without that suffix keep their C++ namespace."""
    match = _SHORT_NAME.fullmatch(node.node_name)
    if match is None:
        return f"torch::autograd::{node.node_name}"
    stem, number = match.groups()
    return stem + ("" if number == "0" else number)


# ----------------------------------------------------------------------------- anomaly mode
# Frames inside the package are not the user's code: the recorded trace stops before them.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class AnomalyState:
    """Anomaly mode's switch (global, as PyTorch's; `autograd.anomaly_mode` sets it), and the
    node whose backward is running (the engine sets it) for the nodes that backward makes.

    `recording` is the one attribute an op being recorded tests: on while anomaly mode keeps
    forward tracebacks or `autograd.graph.replayable()` keeps each node's inputs for replay."""

    _enabled = False
    keep_inputs = 0  # replayable() blocks open (all threads)
    recording = False
    check_nan = True
    # check_forward: warn at the first recorded op whose forward made a NaN or an infinity
    # (once per detect_anomaly block: `forward_flagged` says it was done).
    check_forward = False
    forward_flagged = False
    parent: Node | None = None

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = value
        self._set_recording(value or self.keep_inputs > 0)

    def keep_replay_inputs(self, change: int) -> None:
        graph_break("autograd.graph.replayable() inside a compiled function")
        self.keep_inputs += change
        self._set_recording(self._enabled or self.keep_inputs > 0)

    def _set_recording(self, recording: bool) -> None:
        if recording != self.recording:  # ops take the full path while it is on
            if recording:
                modes.enter()
            else:
                modes.exit()
        self.recording = recording

    def record(self, node: Node) -> None:
        """Keep, on a node being recorded, where in the user's code it was made (in anomaly
        mode)."""
        if not self._enabled:
            return
        stack = traceback.extract_stack()
        end = len(stack)
        while end > 0 and stack[end - 1].filename.startswith(_PACKAGE_DIR):
            end -= 1
        node._anomaly_trace = traceback.format_list(stack[:end])
        node._anomaly_parent = self.parent

    def check_forward_values(self, node: Node, backend: Any, result: Any) -> None:
        """check_forward: warn, with the forward traceback, the first time an op recorded in
        anomaly mode returns a NaN or an infinity."""
        if self.forward_flagged:
            return
        arrays = result if type(result) is tuple else (result,)
        for index, array in enumerate(arrays):
            if not hasattr(array, "dtype") or not backend.is_floating(array.dtype):
                continue
            finite = backend.isfinite(array)
            if backend.all_true(finite):
                continue
            kinds = "nan" if backend.any_true(backend.isnan(array)) else "inf"
            self.forward_flagged = True
            trace = "".join(node._anomaly_trace or ())
            warn(
                f"Function '{node.name()}' produced {kinds} values in its {index}th output "
                f"in forward (the first non-finite forward value in anomaly mode). Traceback "
                f"of forward call that produced it:\n{trace}",
                stacklevel=4,
            )
            return


anomaly_state = AnomalyState()
