"""Views: tensors that share memory and the version counter with a base tensor, and the history
rewriting that makes in-place ops on them (or on their base) give PyTorch's gradients.

A view records how it was made from its base as a chain of view-op steps, `(op class, options)`,
so it can be replayed on any tensor of the base's shape. That replay is what keeps the graph
right when memory is shared:

* An in-place op on a view changes its base too. The base takes a `CopySlices` node: its
  backward replays the view on the incoming gradient, runs the op's backward on that slice, and
  writes the slice's gradient back (the rest of the base passes through unchanged).
* Whenever a base's history changes, its views fall behind: a view made in grad mode is a
  `TrackedView`, whose node and requires_grad are properties that first catch up, giving the
  view a node that replays its chain from the base's new history (PyTorch's
  `AsStridedBackward0`). As in PyTorch this happens lazily, when the view is next used, so an
  in-place op costs nothing per live view.

Views made in no_grad mode, and the outputs of ops that return several views (split, chunk,
unbind), cannot be replayed in a well-defined way. As in PyTorch, an in-place op on them that
would be recorded raises, and so does using a multi-output view after its base's history
changed. One difference: a view made in no_grad mode is not tracked (the backward pass makes
many), so after its base's history changes it stays a constant where PyTorch would raise.

Known limit: a diagonal of a layout whose two dims cannot be merged without a copy (a column
slice such as `x[:, :3].diagonal()`) is a copy, not a view.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..compiler.tracing import real
from ..dual import state as dual_state
from ..function import Function, _new
from ..grad_mode import state as _grad_state
from ..jvp_rules import auto_linear
from ..node import Node, move_retains_grad, sequence_nrs, short_name
from ..tensor import Tensor, _wrap
from .conversion import clone

# Why a view cannot be replayed: made in no_grad mode, one output of a multi-view op, or an
# input a custom Function returned as it is.
NO_GRAD_VIEW = "no_grad"
MULTI_OUTPUT_VIEW = "multi"
CUSTOM_FUNCTION_VIEW = "custom"


# ----------------------------------------------------------------------------- making views
def own_array(tensor: Tensor) -> None:
    """Make a 0-d tensor's data a real array. NumPy's ops return 0-d results as immutable
    scalars: in-place writes and views need memory to share."""
    # (looking through a trace's proxy)
    if not hasattr(real(tensor._data), "__setitem__") and not tensor._batched:
        tensor._data = tensor._backend.asarray(tensor._data)


def prepare_view_input(tensor: Tensor) -> None:
    """Before a view is taken of `tensor`: a 0-d tensor's data made a real array (own_array),
    and a tensor without elements given the contiguous strides PyTorch gives a new one (NumPy
    gives new empty arrays zero strides, which its views inherit, where PyTorch computes a
    view's strides from its input's)."""
    shape = tensor._data.shape
    if not shape:
        own_array(tensor)
    elif 0 in shape and not tensor._batched:
        tensor._data = tensor._backend.lay_out_empty(tensor._data)


def as_view(output: Tensor, input: Tensor, op: type[Function], options: dict[str, Any]) -> Tensor:
    """Mark `output` (made by `op.apply(input, **options)`) as a view of `input`'s base: it shares
    the version counter, and can be replayed from the base when the base's history changes."""
    if output._batched:  # vmap: its batching rule made the physical tensor a view
        return output
    counter = input._version_counter
    if counter is None:
        counter = input._version_counter = [0]
    output._version_counter = counter
    base = input._base
    if base is None:
        base = input
        output._view_chain = ((op, options),)
    else:
        output._view_chain = (*(input._view_chain or ()), (op, options))
        if input._view_error is not None:
            output._view_error = input._view_error
    output._base = base
    if output._inference != base._inference:  # a view is an inference tensor when its base is
        output._inference = base._inference
    if not _grad_state.enabled:
        # Not tracked: the backward pass makes many views of gradients with grad mode off.
        output._view_error = (NO_GRAD_VIEW, None)
    elif base.grad_fn is not None or not base._requires_grad:
        # (A leaf that requires grad never changes history: in-place ops on it are refused
        # while recording, so its views need not follow it.)
        return TrackedView.following(output, base)
    return output


class TrackedView(Tensor):
    """A view made in grad mode. Its base's `_history` counts the changes to the base's
    history; when it has moved on, reading the view's node first regenerates it from the base
    (and a view that cannot be replayed raises PyTorch's error, as PyTorch does on access)."""

    __slots__ = ()
    _own_grad_fn: Node | None = None
    _own_requires_grad = False
    _seen_history = 0

    @classmethod
    def following(cls, output: Tensor, base: Tensor) -> TrackedView:
        """A view op's `output` as a TrackedView of `base`: a new object with the same fields,
        whose node and requires_grad are its own until the base's history moves on."""
        view = _new(cls)
        fields = output.__dict__.copy()
        view._own_grad_fn = fields.pop("_grad_fn", None)
        view._own_requires_grad = fields.pop("_requires_grad", False)
        view.__dict__.update(fields)
        view._seen_history = base._history
        grads = fields.get("_fw_grads")
        if grads is not None:  # a new object: its tangents go when their levels close
            for level, tangent in grads.items():
                dual_state.set_tangent(view, tangent, level)
        return view

    @property
    def _grad_fn(self) -> Node | None:
        if self._seen_history != self._base._history:  # type: ignore[union-attr]
            _follow_base(self)
        return self._own_grad_fn

    @_grad_fn.setter
    def _grad_fn(self, node: Node | None) -> None:
        self._own_grad_fn = node

    @property
    def _requires_grad(self) -> bool:
        if self._seen_history != self._base._history:  # type: ignore[union-attr]
            _follow_base(self)
        return self._own_requires_grad

    @_requires_grad.setter
    def _requires_grad(self, value: bool) -> None:
        self._own_requires_grad = value

    # Pickled and deep-copied as a plain tensor, as in PyTorch (the view relation stays behind).
    def __reduce_ex__(self, protocol: Any) -> Any:
        return Tensor.__reduce_ex__(_plain(self), protocol)

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        out = Tensor.__deepcopy__(_plain(self), memo)
        memo[id(self)] = out
        return out


_TRACKING_FIELDS = ("_own_grad_fn", "_own_requires_grad", "_seen_history")


def _plain(view: TrackedView) -> Tensor:
    """The same tensor (data, node, flags) as a plain Tensor object."""
    plain = _new(Tensor)
    plain.__dict__.update({key: value for key, value in view.__dict__.items()
                           if key not in _TRACKING_FIELDS})
    plain._grad_fn = view.grad_fn
    plain._requires_grad = view._requires_grad
    return plain


def forget_base(view: Tensor) -> None:
    """Make `view` a tensor of its own (its node and flags kept, the view relation and shared
    version counter dropped): for a view about to get new memory (an `out=` resized)."""
    if isinstance(view, TrackedView):
        grad_fn, requires_grad = view.grad_fn, view._requires_grad
        for key in _TRACKING_FIELDS:
            view.__dict__.pop(key, None)
        view.__class__ = Tensor  # type: ignore[assignment]
        view._grad_fn = grad_fn
        view._requires_grad = requires_grad
    view._version_counter = [view._version]
    for key in ("_base", "_view_chain", "_view_error"):
        view.__dict__.pop(key, None)


def _follow_base(view: TrackedView) -> None:
    if view._view_error is not None:
        raise RuntimeError(view_error(view, modified_self=False))
    base = view._base
    assert base is not None
    previous = _grad_state.enabled
    _grad_state.enabled = True  # the view's history is rebuilt whatever the mode now
    try:
        node = AsStrided.apply(base, chain=view._view_chain).grad_fn
    finally:
        _grad_state.enabled = previous
    old_node, old_output_nr = view._own_grad_fn, view._output_nr
    view._own_grad_fn = node
    view._own_requires_grad = True
    view._output_nr = 0
    view._seen_history = base._history
    if node is not None:
        move_retains_grad(view, old_node, old_output_nr, node)


def as_multi_output_views(outputs: tuple[Tensor, ...], input: Tensor, op: type[Function],
                          options: dict[str, Any]) -> tuple[Tensor, ...]:
    """Mark the outputs of split/chunk/unbind as views that may not be modified in place."""
    views = []
    for index, output in enumerate(outputs):
        view = as_view(output, input, op, {**options, "output": index})
        if view._view_error is None:
            node = view.grad_fn
            where = (short_name(node), view._output_nr) if node is not None else None
            view._view_error = (MULTI_OUTPUT_VIEW, where)
        views.append(view)
    return tuple(views)


def replay(tensor: Tensor, chain: tuple[Any, ...]) -> Tensor:
    """The view described by `chain`, taken of `tensor` (a view of it, recorded as such)."""
    for op, options in chain:
        tensor = as_view(op.apply(tensor, **options), tensor, op, options)
    return tensor


def view_error(tensor: Tensor, modified_self: bool) -> str:
    """PyTorch's message for an in-place change that touches a view made in no_grad mode or
    by an op that returns several views."""
    assert tensor._view_error is not None
    kind, where = tensor._view_error
    modified = ("is being" if modified_self
                else "its base or another view of its base has been")
    if kind == CUSTOM_FUNCTION_VIEW:
        return (
            f"Output {where[1]} of {where[0]} is a view and {modified} modified inplace. This "
            "view was created inside a custom Function (or because an input was returned "
            "as-is) and the autograd logic to handle view+inplace would override the custom "
            "backward associated with the custom Function, leading to incorrect gradients. This "
            "behavior is forbidden. You can fix this by cloning the output of the custom "
            "Function.")
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

    jvp = auto_linear

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


def history_changed(base: Tensor) -> None:
    """Called after an in-place op gave `base` a new node: its views will follow it."""
    base._history += 1


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
                 fn: Function | None, value_edge: tuple[Node | None, int] | None = None) -> None:
        self._sequence_nr = next(sequence_nrs)
        self.fn = fn
        self.chain = chain
        # The base's array, for its memory layout: the view chain replays on a copy like it.
        self.layout = base._data
        if fn is not None:
            self.next_functions = (base_edge, *fn.next_functions[1:])
        else:
            assert value_edge is not None
            self.next_functions = (base_edge, value_edge)

        if fn is not None and fn._saved:
            fn._unpack_output = _OutputOfView(self)

    # The saved tensors are the op's: the engine checks and frees them through this node.
    @property
    def _saved(self) -> Any:
        return self.fn._saved if self.fn is not None else None

    @_saved.setter
    def _saved(self, value: Any) -> None:
        if self.fn is not None:
            self.fn._saved = value

    def _check_saved(self) -> None:
        if self.fn is not None:
            self.fn._check_saved()

    def name(self) -> str:
        return f"torch::autograd::{self.node_name}"

    def _run_backward(self, grad_outputs: list[Any]) -> tuple[Any, ...]:
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

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, like: Any) -> Any:
        out = ctx.backend.zeros_like(like)
        ctx.backend.setitem(out, (...,), a)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


class _OutputOfView:
    """Unpacks what an in-place op on a view saved of its output as that view of the base's
    new history. Holds the CopySlices node weakly (it holds the op): no reference cycle, and
    the op's backward only ever runs from inside CopySlices, which is then alive."""

    def __init__(self, copy_slices: CopySlices) -> None:
        self.node = weakref.ref(copy_slices)

    def __call__(self, array: Any, output_nr: int) -> Tensor:
        node = self.node()
        assert node is not None and node.fn is not None
        base = _wrap(node.layout, node.fn.backend)
        base._requires_grad = True
        base._grad_fn = node
        return AsStrided.apply(base, chain=node.chain)
