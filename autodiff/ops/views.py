"""Views: tensors that share memory and the version counter with a base tensor, and the history
rewriting that makes in-place ops on them (or on their base) give PyTorch's gradients.

A view records how it was made from its base as a chain of view-op steps, `(op class, options)`,
so it can be replayed on any tensor of the base's shape. That replay is what keeps the graph
right when memory is shared:

* An in-place op on a view changes its base too. The base takes a `CopySlices` node: its
  backward replays the view on the incoming gradient, runs the op's backward on that slice, and
  writes the slice's gradient back (the rest of the base passes through unchanged).
* Whenever a base's history changes, every live view of it is given a fresh node that replays
  its chain from the base's new history (PyTorch's `AsStridedBackward0`), so a view used after
  the change differentiates through it.

Views made in no_grad mode, and the outputs of ops that return several views (split, chunk,
unbind), cannot be replayed in a well-defined way; PyTorch refuses in-place ops on them and on
their base with the errors below, and so does this module.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..function import Function, Node, _new, _sequence, short_name
from ..grad_mode import state as _grad_state
from ..tensor import Tensor

# Why a view cannot be replayed: made in no_grad mode, or one output of a multi-view op.
NO_GRAD_VIEW = "no_grad"
MULTI_OUTPUT_VIEW = "multi"

# ----------------------------------------------------------------------------- making views
def as_view(output: Tensor, input: Tensor, op: type[Function], options: dict[str, Any]) -> Tensor:
    """Mark `output` (made by `op.apply(input, **options)`) as a view of `input`'s base: it shares
    the version counter, and can be replayed from the base when the base's history changes."""
    output._version_counter = input._shared_version_counter()
    base = input._base
    if base is None:
        base = input
        output._view_chain = ((op, options),)
    else:
        output._view_chain = (*input._view_chain, (op, options))
        if input._view_error is not None:
            output._view_error = input._view_error
    output._base = base
    if _grad_state.enabled:
        _register(base, output)
    else:
        # Not tracked: the backward pass makes many views of gradients with grad mode off.
        output._view_error = (NO_GRAD_VIEW, None)
    return output


def as_multi_output_views(outputs: tuple[Tensor, ...], input: Tensor, op: type[Function],
                          options: dict[str, Any]) -> tuple[Tensor, ...]:
    """Mark the outputs of split/chunk/unbind as views that may not be modified in place."""
    for index, output in enumerate(outputs):
        as_view(output, input, op, {**options, "output": index})
        if output._view_error is None:
            node = output.grad_fn
            where = (short_name(node), output._output_nr) if node is not None else None
            output._view_error = (MULTI_OUTPUT_VIEW, where)
    return outputs


def _register(base: Tensor, view: Tensor) -> None:
    """Remember a live view, so its node can be regenerated when the base's history changes.
    A leaf that requires grad never changes history (in-place ops on it are refused while
    recording), so its views need no tracking."""
    if base._requires_grad and base.grad_fn is None:
        return
    views = base._views
    if views is None:
        base._views = [weakref.ref(view)]
        return
    views.append(weakref.ref(view))
    if len(views) >= 32 and len(views) & (len(views) - 1) == 0:  # now and then, drop dead ones
        views[:] = [ref for ref in views if ref() is not None]


def replay(tensor: Tensor, chain: tuple[Any, ...]) -> Tensor:
    """The view described by `chain`, taken of `tensor` (a view of it, recorded as such)."""
    for op, options in chain:
        tensor = as_view(op.apply(tensor, **options), tensor, op, options)
    return tensor


def view_error(tensor: Tensor, modified_self: bool) -> str:
    """PyTorch's message for an in-place change that touches a view made in no_grad mode or
    by an op that returns several views."""
    kind, where = tensor._view_error
    modified = ("is being" if modified_self
                else "its base or another view of its base has been")
    if kind == MULTI_OUTPUT_VIEW:
        if where is not None:
            start = f"Output {where[1]} of {where[0]} is a view and {modified} modified inplace."
        else:
            start = (f"A view was created in no_grad mode and {modified} modified inplace with "
                     "grad mode enabled.")
        return (start + " This view is the output of a function that returns multiple views. "
                "Such functions do not allow the output views to be modified inplace. You "
                "should replace the inplace operation by an out-of-place one.")
    return (
        f"A view was created in no_grad mode and {modified} modified inplace with grad mode "
        "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You "
        "can clarify your code by moving both the view and the inplace either both inside the "
        "no_grad block (if you don't want the inplace to be tracked) or both outside (if you "
        "want the inplace to be tracked)."
    )


def has_overlap(tensor: Tensor) -> bool:
    """True when several elements of `tensor` share one memory location (an expanded view)."""
    chain = tensor._view_chain
    return chain is not None and any(options.get("overlap", False) for _, options in chain)


# ----------------------------------------------------------------------------- regenerated nodes
class AsStrided(Function):
    """A view's node regenerated from its base: replays the view chain forward, and each step's
    backward in reverse (PyTorch names this node after as_strided, which it uses instead)."""

    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx: Any, base: Any, *, chain: tuple[Any, ...]) -> Any:
        steps = []
        array = base
        for op, options in chain:
            step = _new(op)
            step.backend = ctx.backend
            step.needs_input_grad = (True,)
            array = op.forward(step, array, **options)
            steps.append(step)
        ctx.steps = steps
        return array

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        for step in reversed(ctx.steps):
            grad = type(step).backward(step, grad)
        return grad


class InvalidatedView(Node):
    """The node of a view that cannot follow its base's new history: backward raises."""

    node_name = "AsStridedBackward0"

    def __init__(self, message: str) -> None:
        self._sequence_nr = next(_sequence)
        self.message = message
        self._saved = ()  # makes the engine call _check_saved while it discovers the graph

    def _check_saved(self) -> None:
        raise RuntimeError(self.message)

    def _run_backward(self, grad_outputs: list[Any]) -> tuple[Any, ...]:
        raise RuntimeError(self.message)

    def _release_saved(self) -> None:
        pass


def refresh_views(base: Tensor) -> None:
    """Give every live view of `base` a node on the base's new history."""
    views = base._views
    if not views:
        return
    alive = []
    for reference in views:
        view = reference()
        if view is None:
            continue
        alive.append(reference)
        if view._view_error is None:
            node = AsStrided.apply(base, chain=view._view_chain).grad_fn
        else:
            node = InvalidatedView(view_error(view, modified_self=False))
        view.grad_fn = node
        view._output_nr = 0
        view._requires_grad = True
    base._views = alive


class CopySlices(Node):
    """The base's node after an in-place op on one of its views (PyTorch's CopySlices).

    Backward: outside the view the base's gradient passes through; inside it, the gradient
    goes to the op. When the op is one node whose first input is the view before the op (`fn`,
    as for every built-in in-place op), its backward runs here and its gradient w.r.t. the old
    view values fills the slice, as in PyTorch. An op made of several nodes is instead joined
    as a whole (`value_edge`): the slice's gradient goes to its output, and it reaches the old
    view values through the op's own graph.
    """

    node_name = "CopySlices"

    def __init__(self, base: Tensor, base_edge: tuple[Node | None, int], chain: tuple[Any, ...],
                 fn: Function | None, value_edge: tuple[Node, int] | None = None) -> None:
        self._sequence_nr = next(_sequence)
        self.fn = fn
        self.chain = chain
        # The base's array, for its memory layout: the view chain replays on a copy like it.
        self.layout = base._data
        if fn is not None:
            self.next_functions = (base_edge, *fn.next_functions[1:])
        else:
            assert value_edge is not None
            self.next_functions = (base_edge, value_edge)

    @property
    def _saved(self) -> Any:  # type: ignore[override]
        return self.fn._saved if self.fn is not None else None

    def _check_saved(self) -> None:
        if self.fn is not None:
            self.fn._check_saved()

    def _release_saved(self) -> None:
        if self.fn is not None:
            self.fn._release_saved()

    def name(self) -> str:
        return f"torch::autograd::{self.node_name}"

    def _run_backward(self, grad_outputs: list[Any]) -> tuple[Any, ...]:
        from .shape import clone

        result = CloneLike.apply(grad_outputs[0], like=self.layout)
        grad_slice = replay(result, self.chain)
        if self.fn is None:
            value_grad = clone(grad_slice)
            grad_slice.zero_()
            return result, value_grad
        grads = self.fn._run_backward([clone(grad_slice)])
        if grads[0] is None:
            grad_slice.zero_()
        else:
            grad_slice.copy_(grads[0])
        return (result, *grads[1:])


class CloneLike(Function):
    """A copy laid out in memory like `like` (so views recorded on it replay as views)."""

    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, *, like: Any) -> Any:
        out = ctx.backend.zeros_like(like)
        ctx.backend.setitem(out, (...,), a)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad
