"""In-place ops, with PyTorch's version counters and history rewriting.

Every in-place op is the ordinary op's `Function` applied to the tensor's value before the
change, with the result written into the tensor's own buffer (views see it), then:

* the shared version counter is bumped, so nodes that saved the tensor notice at backward time;
* while recording, the tensor takes the op's node as its history (a view's base takes a
  CopySlices node instead, see views.py). The value before the op lives on in a stand-in
  tensor with the old history; if one of the op's nodes saved it, the stand-in gets its own
  copy (PyTorch saves `original_self` the same way), and outputs the op saved are re-pointed
  at the tensor so a later in-place change is caught, as in PyTorch;
* a tensor that retains its grad takes its retain_grad to its new node (as PyTorch does), so
  its `.grad` is the gradient of the new value.

Outside the graph (no_grad, or nothing requires grad) arithmetic uses the array's own in-place
operators: no temporaries, which is what optimizer updates want.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any, NoReturn

from backends import broadcast_shapes

from .. import dtypes
from ..creation import zeros_like
from ..dual import rules_running, tangent_at
from ..dual import state as _dual_state
from ..function import Function, _new
from ..grad_mode import state as _grad_state
from ..jvp_rules import zero_tangent
from ..layout_dispatch import LayoutData
from ..node import move_retains_grad, sequence_nrs
from ..op_modes import op_mode_state
from ..saved import saved_tensors_hooks_state
from ..sparse_compressed import LAYOUT_NAMES, SparseCompressed
from ..sparse_coo import SparseCOO
from ..sparse_dispatch import refuse_operator
from ..tensor import Tensor, _wrap_dim
from ._checks import invalid_arguments, is_number, not_implemented_for, require_tensors
from ._promotion import check_broadcast, checked_number, wrap_integer
from .arithmetic import Addcdiv, Addcmul, check_addcdiv, div
from .comparison import compared
from .conversion import clone
from .shape import (
    SQUEEZE_IN_PLACE_OPS,
    TInPlace,
    TransposeInPlace,
    UnsqueezeInPlace,
    squeezed,
    t_view,
    transposed,
    unsqueezed,
)
from .sparse_copies import SparseCopy, SparseZero
from .sparse_elementwise import SparseTInPlace, SparseTransposeInPlace
from .sparse_elementwise import t as sparse_t
from .sparse_elementwise import transpose as sparse_transpose
from .views import CopySlices, has_overlap, history_changed, own_array, replay, view_error

_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF = ("a view of a leaf Variable that requires grad is being used in an in-place "
                 "operation.")
_INFERENCE = ("Inplace update to inference tensor outside InferenceMode is not allowed.You can "
              "make a clone to get a normal tensor before doing inplace update.See "
              "https://github.com/pytorch/rfcs/pull/17 for more details.")
_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to "
            "a single memory location. Please clone() the tensor before performing the "
            "operation.")


# ----------------------------------------------------------------------------- the machinery
def is_recording(tensor: Tensor, others: tuple[Any, ...] = ()) -> bool:
    """Whether the in-place op goes into the graph (PyTorch's compute_requires_grad)."""
    if not _grad_state.enabled:
        return False
    if tensor._requires_grad:
        return True
    for other in others:
        if isinstance(other, Tensor) and other._requires_grad:
            return True
    base = tensor._base
    return base is not None and base._requires_grad


def check_inplace(tensor: Tensor, recording: bool) -> None:
    """PyTorch's refusals, in its order; raised before anything changes."""
    if tensor._inference and not _grad_state.inference:
        raise RuntimeError(_INFERENCE)
    if saved_tensors_hooks_state.before_mutation is not None:
        saved_tensors_hooks_state.before_mutation(tensor)
    if tensor._base is not None and has_overlap(tensor):
        raise RuntimeError(_OVERLAP)
    if not recording:
        return
    base = tensor._base
    if base is not None:
        if tensor._view_error is not None:
            raise RuntimeError(view_error(tensor, modified_self=True))
        if tensor._requires_grad and base.grad_fn is None:
            raise RuntimeError(_VIEW_OF_LEAF)
    elif tensor._requires_grad and tensor.grad_fn is None:
        raise RuntimeError(_LEAF)


def apply(tensor: Tensor, others: tuple[Any, ...], compute: Callable[[Tensor], Tensor],
          direct: Callable[[], bool] | None = None) -> Tensor:
    """Run an in-place op. `compute(source)` is the op out of place on the value before the
    change (ops that write into their input's buffer may do so and return it); `direct()`,
    when given, is tried first outside the graph and returns False when it cannot help."""
    if tensor._batched or any(getattr(other, "_batched", False) for other in others):
        from ..batching.dispatch import batched_inplace

        return batched_inplace(tensor, others, compute)
    recording = is_recording(tensor, others)
    check_inplace(tensor, recording)
    data = tensor._data
    if type(data) is SparseCOO or type(data) is SparseCompressed:
        return _into_sparse(tensor, compute, recording)
    if isinstance(data, LayoutData):  # a masked tensor: the layout takes the result
        taken = data.take_in_place(tensor, compute)
        if taken is not None:
            return taken
    if not data.shape:
        own_array(tensor)
    if recording:
        return _record(tensor, compute)
    if _dual_state.enabled:
        direct = None  # the op must run, for its tangent
    watched = op_mode_state.active  # an op mode sees the op, and which tensor took its value
    if direct is None or watched or not direct():
        result = compute(tensor)
        if type(result._data) is SparseCOO:  # dense * sparse: written into the tensor dense
            result = result.to_dense()
        _check_result(tensor, result)
        _write(tensor, result._data)
        if _dual_state.enabled:
            _take_tangent(tensor, result)
        _bump(tensor)
        if watched:
            op_mode_state.written(tensor, result)
        return tensor
    _bump(tensor)
    return tensor


def _take_tangent(tensor: Tensor, result: Tensor) -> None:
    """Forward AD: the tensor's new value has the op's tangents, at each level. For a view, its
    base's tangent becomes a copy with the op's tangent written into the same view (a recorded
    copy_, so it stays differentiable). A copy, not a write into the old tangent: tangents made
    earlier from it (the view's own, which the op's rule may have saved) must keep their
    values; tangents of other views taken before the op are not updated."""
    for level in _dual_state.visible_levels([tensor, result]):
        _take_tangent_at(tensor, result, level)


def _take_tangent_at(tensor: Tensor, result: Tensor, level: int) -> None:
    tangent = tangent_at(result, level)
    base = tensor._base
    existing = tangent_at(tensor, level)
    if existing is not None and tangent is not None and not _grad_state.enabled:
        # As PyTorch: under no_grad the tangent changes in place and keeps its history, as
        # the tensor itself does (a tangent recorded earlier stays differentiable).
        with rules_running(level):
            copy_(existing, tangent)
        return
    if base is None or (tangent is None and existing is None):
        if tangent is not None or existing is not None:
            _dual_state.set_tangent(tensor, tangent, level)
        return
    with rules_running(level):
        base_tangent = tangent_at(base, level)
        base_tangent = clone(base_tangent) if base_tangent is not None else zeros_like(base)
        view = replay(base_tangent, tensor._view_chain or ())
        copy_(view, tangent if tangent is not None else zeros_like(view))
    _dual_state.set_tangent(base, base_tangent, level)
    _dual_state.set_tangent(tensor, view, level)


def _record(tensor: Tensor, compute: Callable[[Tensor], Tensor]) -> Tensor:
    # The value before the op, with the old history: the op's node takes it as its input.
    # A new array object on the same memory, so that `x.mul_(x)` saves two different things.
    backend = tensor._backend
    buffer = backend.reshape(tensor._data, tensor._data.shape)
    source = _new(Tensor)
    source._data = buffer
    source._backend = backend
    if tensor._requires_grad:
        source._requires_grad = True
        source._grad_fn = tensor.grad_fn
        source._output_nr = tensor._output_nr
    source._fw_grads = tensor._fw_grads
    first_new = next(sequence_nrs)  # the nodes compute records are numbered from here on
    result = compute(source)
    if type(result._data) is SparseCOO:  # dense * sparse: written into the tensor dense
        result = result.to_dense()
    _check_result(tensor, result)
    if _dual_state.enabled:
        _take_tangent(tensor, result)
    if _saved_by_op(result, source, first_new):  # keep the old values for its backward
        source._data = backend.asarray(buffer, copy=True)
    data = result._data
    if data is not buffer:  # else the op wrote into the buffer itself
        _write(tensor, data)
    tensor._bump_version()
    node = result.grad_fn
    if node is None:
        return tensor
    if isinstance(node, Function):
        node.saved_output_moved(data, tensor)
    if tensor._base is None:
        _take_history(tensor, result, node)
    else:
        _rebase_view(tensor, source, result)
    return tensor


def _into_sparse(tensor: Tensor, compute: Callable[[Tensor], Tensor], recording: bool
                 ) -> Tensor:
    """An in-place op on a sparse tensor: the op out of place, its sparse result's arrays
    taking the tensor's place (as PyTorch's sparse kernels replace indices and values). No
    array of a sparse tensor is written into, so the value before the op lives on unchanged
    wherever a node saved it."""
    source = _new(Tensor)
    source._data = tensor._data
    source._backend = tensor._backend
    if tensor._requires_grad:
        source._requires_grad = True
        source._grad_fn = tensor.grad_fn
        source._output_nr = tensor._output_nr
    try:
        result = compute(source)
    except NotImplementedError as error:
        raise _in_place_refusal(error) from None
    if type(result._data) is not type(tensor._data):  # no sparse kernel writes a dense result
        refuse_operator("aten::copy_", tensor.device,
                        "Sparse" if type(tensor._data) is SparseCOO else "SparseCsr")
    if result._data.shape != tensor._data.shape:  # t_, transpose_: the tensor takes its shape
        tensor._data = result._data
    _check_result(tensor, result)
    tensor._data = result._data
    tensor._bump_version()
    node = result.grad_fn
    if recording and node is not None:
        _take_history(tensor, result, node)
    return tensor


_REFUSED_OPERATOR = re.compile(r"^(Could not run 'aten::)([a-z0-9_]+?)_?(?=[.'])")


def _take_history(tensor: Tensor, result: Tensor, node: Any) -> None:
    """The tensor (not a view) becomes output `result._output_nr` of `node`, the op it was
    written by; retain_grad follows it to its new place."""
    old_node, old_output_nr = tensor.grad_fn, tensor._output_nr
    tensor._grad_fn = node
    tensor._output_nr = result._output_nr
    tensor._requires_grad = True
    move_retains_grad(tensor, old_node, old_output_nr, node)
    history_changed(tensor)


def _in_place_refusal(error: NotImplementedError) -> NotImplementedError:
    """The dispatcher's refusal of the out-of-place op, as PyTorch words it for the in-place
    one ('aten::clamp' -> 'aten::clamp_')."""
    message = _REFUSED_OPERATOR.sub(r"\1\2_", str(error), count=1)
    return NotImplementedError(message)


def _saved_by_op(result: Tensor, source: Tensor, first_new: int) -> bool:
    """Whether one of the nodes the op recorded (numbered `first_new` or later, reached from
    its result) saved `source`, the tensor's value before the op."""
    node = result.grad_fn
    if node is None or node._sequence_nr < first_new:
        return False
    stack = [node]
    seen = {node}
    while stack:
        node = stack.pop()
        if isinstance(node, Function) and node.saved_from(source):
            return True
        for child, _ in node.next_functions:
            if child is not None and child._sequence_nr >= first_new and child not in seen:
                seen.add(child)
                stack.append(child)
    return False


def _rebase_view(view: Tensor, source: Tensor, result: Tensor) -> None:
    """After an in-place op on a view: the base takes CopySlices, its views new nodes."""
    base = view._base
    assert base is not None
    old_node, old_output_nr = base.grad_fn, base._output_nr
    base_edge = (old_node, old_output_nr) if base._requires_grad else (None, 0)
    node = result.grad_fn
    chain = view._view_chain
    assert node is not None and chain is not None
    source_edge = (source.grad_fn, source._output_nr) if source._requires_grad else (None, 0)
    first = node.next_functions[0] if node.next_functions else None
    if (isinstance(node, Function) and result._output_nr == 0 and first is not None
            and first[0] is source_edge[0] and first[1] == source_edge[1]):
        copy_slices = CopySlices(base, base_edge, chain, node)
    else:  # an op made of several nodes: take its output as the new values of the slice
        copy_slices = CopySlices(base, base_edge, chain, None, (node, result._output_nr))
    base._grad_fn = copy_slices
    base._output_nr = 0
    base._requires_grad = True
    move_retains_grad(base, old_node, old_output_nr, copy_slices)
    history_changed(base)


def _check_result(tensor: Tensor, result: Tensor) -> None:
    if type(result._data) is SparseCompressed and type(tensor._data) is not SparseCompressed:
        # dense *= CSR: PyTorch's kernel writes a CSR result
        raise RuntimeError("Expected result Tensor to be of format CSR")
    shape, result_shape = tensor._data.shape, result._data.shape
    if result_shape != shape:
        raise RuntimeError(
            f"output with shape {list(shape)} doesn't match the broadcast shape "
            f"{list(broadcast_shapes(shape, result_shape))}"
        )
    if result.dtype.category > tensor.dtype.category:
        raise RuntimeError(
            f"result type {dtypes.SCALAR_TYPE_NAMES[result.dtype.name]} can't be cast to the "
            f"desired output type {dtypes.SCALAR_TYPE_NAMES[tensor.dtype.name]}"
        )


def _write(tensor: Tensor, data: Any) -> None:
    target = tensor._data
    if data is target:  # the op wrote into the buffer itself
        return
    backend = tensor._backend
    if data.dtype != target.dtype:
        data = backend.astype(data, backend.dtype_name(target))
    backend.setitem(target, (...,), data)


# ----------------------------------------------------------------------------- nodes of their own
class Zero(Function):
    node_name = "ZeroBackward0"
    sparse_form = SparseZero
    compressed_form = SparseZero

    jvp = zero_tangent

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.backend.setitem(a, (...,), 0)  # only ever applied in place
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return zeros_like(grad)


class Fill(Function):
    node_name = "FillBackward2"

    jvp = zero_tangent

    @staticmethod
    def forward(ctx: Any, a: Any, *, value: Any) -> Any:
        ctx.backend.setitem(a, (...,), value)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return zeros_like(grad)


class FillTensor(Function):
    node_name = "FillBackward3"

    @staticmethod
    def jvp(ctx: Any, tangent: Tensor | None, tangent_value: Tensor | None) -> Tensor:
        # Written in place, so the rule cannot run the op on the tangents: the value's
        # tangent, broadcast by the caller, or zeros.
        return tangent_value if tangent_value is not None else zero_tangent(ctx)

    @staticmethod
    def forward(ctx: Any, a: Any, value: Any) -> Any:
        backend = ctx.backend
        if value.dtype != a.dtype:
            value = backend.astype(value, backend.dtype_name(a))
        backend.setitem(a, (...,), value)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_value = ctx.needs_input_grad
        return ((zeros_like(grad) if needs_input else None),
                (grad.sum() if needs_value else None))


class Copy(Function):
    """`a.copy_(src)`: src broadcast to a's shape and cast to its dtype, written into a."""

    node_name = "CopyBackwards"
    sparse_form = SparseCopy

    @staticmethod
    def jvp(ctx: Any, tangent: Tensor | None, tangent_src: Tensor | None) -> Tensor:
        return tangent_src if tangent_src is not None else zero_tangent(ctx)

    def name(self) -> str:
        return f"torch::autograd::{self.node_name}"

    @staticmethod
    def forward(ctx: Any, a: Any, src: Any) -> Any:
        backend = ctx.backend
        if src.dtype != a.dtype:
            src = backend.astype(src, backend.dtype_name(a))
        backend.setitem(a, (...,), src)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor]:
        return (zeros_like(grad) if ctx.needs_input_grad[0] else None), grad


# ----------------------------------------------------------------------------- filling and copying
def zero_(tensor: Tensor) -> Tensor:
    if _fill_outside_graph(tensor, checked_number(0, tensor.dtype.name)):
        return tensor
    return apply(tensor, (), Zero.apply)


def fill_(tensor: Tensor, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.ndim} dimensions."
            )
        value = _same_device(tensor, value)
        return apply(tensor, (value,), lambda source: FillTensor.apply(source, value))
    if not is_number(value):
        raise invalid_arguments("fill_", (value,), {}, ("Tensor value", "Number value"))
    value = checked_number(value, tensor.dtype.name)
    if _fill_outside_graph(tensor, value):
        return tensor
    return apply(tensor, (), lambda source: Fill.apply(source, value=value))


def copy_(tensor: Tensor, src: Any) -> Tensor:
    if not isinstance(src, Tensor):
        if type(tensor._data) is SparseCOO:  # a number is a wrapped 0-d tensor there
            _dense_sparse_copy(tensor, "torch.LongTensor" if type(src) in (bool, int)
                               else "torch.DoubleTensor")
        return fill_(tensor, src)
    if (type(tensor._data) is SparseCOO) is not (type(src._data) is SparseCOO):
        _dense_sparse_copy(tensor, src.type())
    shape, src_shape = tensor._data.shape, src._data.shape
    if src_shape != shape:
        check_broadcast(shape, src_shape)
        if len(src_shape) > len(shape) and any(size != 1 for size in
                                                src_shape[:len(src_shape) - len(shape)]):
            check_broadcast(src_shape[len(src_shape) - len(shape):], shape)
        src = src.reshape(src_shape[max(len(src_shape) - len(shape), 0):]) \
            if len(src_shape) > len(shape) else src
    src = _same_device(tensor, src)
    return apply(tensor, (src,), lambda source: Copy.apply(source, src))


def _dense_sparse_copy(tensor: Tensor, src_type: str) -> NoReturn:
    raise RuntimeError("copy_() between dense and sparse Tensors is not implemented! Found "
                       f"self type = {tensor.type()} and src type = {src_type}")


def _same_device(tensor: Tensor, other: Tensor) -> Tensor:
    """copy_ crosses devices (a differentiable transfer first), as PyTorch's does."""
    return other if other._backend is tensor._backend else other.to(tensor._backend.device)


def masked_fill_(tensor: Tensor, mask: Tensor, value: Any) -> Tensor:
    from .scatter import MaskedFill, MaskedFillTensor, mask_array

    array = mask_array(tensor, mask, value)
    if array.shape != tensor._data.shape:
        full = broadcast_shapes(tensor._data.shape, array.shape)
        if full != tensor._data.shape:
            raise RuntimeError(
                f"output with shape {list(tensor._data.shape)} doesn't match the broadcast "
                f"shape {list(full)}"
            )
    if isinstance(value, Tensor):
        value = _same_device(tensor, value)
        return apply(tensor, (value,), lambda source: MaskedFillTensor.apply(
            source, value, mask=array, inplace=True))
    return apply(tensor, (), lambda source: MaskedFill.apply(
        source, mask=array, value=value, inplace=True))


_NUMBERS = (int, float, bool, complex)

# ----------------------------------------------------------------------------- arithmetic
# Outside the graph the array's own in-place operator writes into the buffer directly.
_ARRAY_INPLACE = {
    "add": operator.iadd, "sub": operator.isub, "mul": operator.imul,
    "div": operator.itruediv, "pow": operator.ipow,
}


def _arithmetic_(name: str, tensor: Tensor, other: Any,
                 out_of_place: Callable[..., Tensor], alpha: Any = 1) -> Tensor:
    if tensor._batched or getattr(other, "_batched", False):  # inside vmap
        if alpha != 1:
            other = other * alpha
        return apply(tensor, (other,), lambda source: out_of_place(source, other))
    # The optimizer's case first: outside the graph, not a view (nothing to check), and the
    # array's own operator writes into the buffer.
    outside = tensor._base is None and not _dual_state.enabled and not tensor._inference and (
        not op_mode_state.active) and (
        not _grad_state.enabled or not (
            tensor._requires_grad or (isinstance(other, Tensor) and other._requires_grad)))
    if outside and saved_tensors_hooks_state.before_mutation is not None:
        saved_tensors_hooks_state.before_mutation(tensor)
    if outside and tensor._data.shape and _write_direct(name, tensor, other, alpha):
        _bump(tensor)
        return tensor
    if alpha != 1:  # the node keeps alpha (grad_fn._saved_alpha)
        return apply(tensor, (other,), lambda source: out_of_place(source, other, alpha=alpha),
                     lambda: _write_direct(name, tensor, other, alpha))
    return apply(tensor, (other,), lambda source: out_of_place(source, other),
                 lambda: _write_direct(name, tensor, other, 1))


def _write_direct(name: str, tensor: Tensor, other: Any, alpha: Any) -> bool:
    """`tensor <op>= alpha * other` with the array's in-place operator; False when PyTorch's
    rules need the general path (another dtype, a device mismatch, integer division)."""
    backend = tensor._backend
    data = tensor._data
    if isinstance(other, Tensor):
        if other._backend is not backend:
            return False  # the op raises the device error
        value = other._data
        if type(value) is SparseCOO:
            return False  # no array: the general path adds it (or refuses it)
        if alpha != 1:
            value = backend.multiply(value, alpha)
        if value.dtype != data.dtype:
            return False
        if value.shape != data.shape:
            _check_inplace_shape(data.shape, value.shape)
    else:
        if type(other) not in _NUMBERS:
            return False  # not a number: the general path refuses it as PyTorch's parser does
        value = other if alpha == 1 else other * alpha
        if data.dtype not in backend.full_precision_floating and (
                type(value) is float or backend.is_floating(data.dtype) or (
                    backend.is_bool(data.dtype) and type(value) is not bool)):
            # Ints meeting a float, float16 meeting any number (PyTorch computes it in
            # float32), bools meeting a number: PyTorch's rules, on the general path.
            return False
        if type(value) is int and not 0 <= value <= 127 and backend.is_integer(data.dtype):
            value = wrap_integer(value, backend.dtype_name(data))
    if not backend.is_floating(data.dtype) and name in ("div", "pow"):
        return False  # true division and negative powers need PyTorch's checks
    try:
        _ARRAY_INPLACE[name](data, value)
    except TypeError:  # layout data is no array: the general path takes it (or refuses)
        if isinstance(data, LayoutData) or isinstance(value, LayoutData):
            return False
        raise
    return True


def _bump(tensor: Tensor) -> None:
    counter = tensor._version_counter
    if counter is None:
        tensor._version_counter = [1]
    else:
        counter[0] += 1


def _fill_outside_graph(tensor: Tensor, value: Any) -> bool:
    """zero_'s and fill_'s fast path: with nothing to record or check (not a view; grad mode
    off or no grad required), write the value straight into the buffer."""
    if tensor._base is None and tensor._data.shape and not tensor._batched and (
            type(tensor._data) not in (SparseCOO, SparseCompressed)) and (
            not _dual_state.enabled) and not tensor._inference and not op_mode_state.active and (
            not _grad_state.enabled or not tensor._requires_grad):
        if saved_tensors_hooks_state.before_mutation is not None:
            saved_tensors_hooks_state.before_mutation(tensor)
        tensor._backend.setitem(tensor._data, (...,), value)
        _bump(tensor)
        return True
    return False


def _check_inplace_shape(shape: tuple[int, ...], other: tuple[int, ...]) -> None:
    check_broadcast(shape, other)
    if len(other) > len(shape) or any(
        o != s and o != 1 for o, s in zip(other[::-1], shape[::-1])
    ):
        raise RuntimeError(
            f"output with shape {list(shape)} doesn't match the broadcast shape "
            f"{list(broadcast_shapes(shape, other))}"
        )


def add_(tensor: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    return _arithmetic_("add", tensor, other, Tensor.add, alpha)


def sub_(tensor: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    return _arithmetic_("sub", tensor, other, Tensor.sub, alpha)


def mul_(tensor: Tensor, other: Any) -> Tensor:
    return _arithmetic_("mul", tensor, other, Tensor.mul)


def div_(tensor: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode is not None:  # no array operator rounds: always the general path
        return call_(tensor, div, other, rounding_mode=rounding_mode)
    return _arithmetic_("div", tensor, other, div)


def pow_(tensor: Tensor, exponent: Any) -> Tensor:
    if type(tensor._data) is SparseCOO:  # pow keeps 0, but PyTorch has no sparse pow_
        overload = "Tensor" if isinstance(exponent, Tensor) else "Scalar"
        refuse_operator(f"aten::pow_.{overload}", tensor.device)
    return _arithmetic_("pow", tensor, exponent, Tensor.pow)


def clamp_(tensor: Tensor, min: Any = None, max: Any = None) -> Tensor:
    _check_number_bounds(tensor, min, max)
    return apply(tensor, (min, max), lambda source: source.clamp(min, max))


def clamp_min_(tensor: Tensor, min: Any) -> Tensor:
    _check_number_bounds(tensor, min)
    return method_("clamp_min", tensor, min)


def clamp_max_(tensor: Tensor, max: Any) -> Tensor:
    _check_number_bounds(tensor, max)
    return method_("clamp_max", tensor, max)


def _check_number_bounds(tensor: Tensor, *bounds: Any) -> None:
    """Number bounds that would make an integer tensor's clamp_ a float one: PyTorch's clamp
    kernels refuse them naming the C++ type (`long int`), unlike tensor bounds."""
    numbers = [bound for bound in bounds if bound is not None and not isinstance(bound, Tensor)]
    if not numbers or len(numbers) != len([b for b in bounds if b is not None]):
        return
    result = dtypes.result_type((tensor.dtype, tensor.ndim), *numbers)
    if result.category > tensor.dtype.category:
        raise RuntimeError(
            f"result type {dtypes.SCALAR_TYPE_NAMES[result.name]} can't be cast to the desired "
            f"output type {dtypes.CPP_TYPE_NAMES[tensor.dtype.name]}")


def cumulative_(name: str, tensor: Tensor, dim: int, dtype: Any) -> Tensor:
    """cumsum_/cumprod_: the running sum or product written back in the tensor's own dtype
    (no promotion of integers to int64, and no other `dtype`)."""
    if dtype is not None:
        kind = dtypes.to_dtype(dtype)
        if kind is not tensor.dtype:
            raise RuntimeError(
                f"Bad in-place call: input tensor dtype {dtypes.CPP_TYPE_NAMES[tensor.dtype.name]} "
                f"and output tensor dtype {dtypes.CPP_TYPE_NAMES[kind.name]} should match")
    if tensor.dtype is dtypes.bool_:
        raise not_implemented_for(f"{name}_out", tensor._backend, tensor._data)
    # (Integers accumulate in int64 and wrap back on writing: the same values modulo 2**bits.)
    return method_(name, tensor, dim)


def elementwise_(tensor: Tensor, function: Callable[..., Tensor], other: Any) -> Tensor:
    """The in-place form of a binary elementwise op (floor_divide_, remainder_, bitwise_and_,
    ...): the output's shape and dtype are checked before the kernel runs, as PyTorch's
    TensorIterator does (so `bool_tensor //= zeros` is a cast error, not a division by zero)."""
    check_inplace(tensor, is_recording(tensor, (other,)))
    if isinstance(other, Tensor):
        shape, other_shape = tensor._data.shape, other._data.shape
        if other_shape != shape:
            full = broadcast_shapes(shape, other_shape)
            if full != shape:
                raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast "
                                   f"shape {list(full)}")
        result = dtypes.result_type((tensor.dtype, tensor.ndim), (other.dtype, other.ndim))
    elif isinstance(other, (bool, int, float)):
        result = dtypes.result_type((tensor.dtype, tensor.ndim), other)
    else:
        result = tensor.dtype
    if result.category > tensor.dtype.category:
        raise RuntimeError(
            f"result type {dtypes.SCALAR_TYPE_NAMES[result.name]} can't be cast to the desired "
            f"output type {dtypes.SCALAR_TYPE_NAMES[tensor.dtype.name]}")
    return call_(tensor, function, other)


def addcmul_(tensor: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    return _addc_(Addcmul, operator.mul, tensor, tensor1, tensor2, value)


def addcdiv_(tensor: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    check_addcdiv(tensor1, tensor2)
    return _addc_(Addcdiv, operator.truediv, tensor, tensor1, tensor2, value)


def _addc_(op: type[Function], combine: Callable[[Any, Any], Any], tensor: Tensor,
           tensor1: Tensor, tensor2: Tensor, value: Any) -> Tensor:
    """`tensor += combine(value * tensor1, tensor2)`: outside the graph on the arrays, with
    one temporary; recorded as the op `op` otherwise."""
    def direct() -> bool:
        if not _same_layout(tensor, tensor1, tensor2):
            return False
        first = tensor1._data * value if value != 1 else tensor1._data  # PyTorch's rounding
        operator.iadd(tensor._data, combine(first, tensor2._data))
        return True

    return apply(tensor, (tensor1, tensor2),
                 lambda source: op.apply(source, tensor1, tensor2, value=value), direct)


def _same_layout(tensor: Tensor, *others: Tensor) -> bool:
    """Same backend, dtype and shape (floating): the no-temporary path applies."""
    data = tensor._data
    if not tensor._backend.is_floating(data.dtype):
        return False
    return all(isinstance(o, Tensor) and o._backend is tensor._backend
               and o._data.dtype == data.dtype and o._data.shape == data.shape for o in others)


def lerp_(tensor: Tensor, end: Tensor, weight: Any) -> Tensor:
    return method_("lerp", tensor, end, weight)


_LOGICAL_BINARY = frozenset({"logical_and", "logical_or", "logical_xor"})


def compare_(tensor: Tensor, op: str, other: Any = None) -> Tensor:
    """`tensor.eq_(other)` & co. (and the logical ops): the comparison written into tensor in
    its own dtype, recorded with zero gradients (`comparison.Compared`)."""
    if op in _LOGICAL_BINARY:  # they take Tensors only (a number, None: PyTorch's TypeError)
        require_tensors(f"{op}_", ("other", other))
    return apply(tensor, () if other is None else (other,),
                 lambda source: compared(source, op, other))


# ----------------------------------------------------------------------------- shape in place
def view_(tensor: Tensor, make: Callable[[Tensor], Tensor]) -> Tensor:
    """A change of the tensor's own shape (t_, transpose_, squeeze_, unsqueeze_): it takes the
    view `make` returns (the same memory) and, while recording, the view's node. A view stays a
    view of its base, one step further along its chain. (Other views taken of the tensor before
    replay against its new shape if its history changes.)"""
    if tensor._batched:  # inside vmap: the examples' tensor takes the batched view
        view = make(tensor)
        tensor._value, tensor._data = view._value, view._data  # type: ignore[attr-defined]
        return tensor
    recording = is_recording(tensor)
    check_inplace(tensor, recording)
    view = make(tensor)
    tensor._data = view._data
    if _dual_state.enabled:
        for level in _dual_state.visible_levels([view, tensor]):  # the same view of the tangent
            _dual_state.set_tangent(tensor, tangent_at(view, level), level)
    if tensor._base is not None:
        tensor._view_chain = view._view_chain
    tensor._bump_version()
    if op_mode_state.active:  # an op mode sees that the tensor is now the view
        op_mode_state.written(tensor, view)
    if recording and view.grad_fn is not None:
        tensor._grad_fn = view.grad_fn
        tensor._output_nr = 0
        if tensor._base is None:
            history_changed(tensor)
    return tensor


def _refuse_compressed_transpose(tensor: Tensor) -> None:
    data = tensor._data
    if type(data) is SparseCompressed:
        raise RuntimeError("torch.transpose_: in-place transposition is not supported for "
                           f"{LAYOUT_NAMES[data.layout]} layout")


def t_(tensor: Tensor) -> Tensor:
    _refuse_compressed_transpose(tensor)
    if type(tensor._data) is SparseCOO:  # no views of a sparse tensor: its arrays replaced
        return apply(tensor, (), lambda source: sparse_t(source, SparseTInPlace))
    return view_(tensor, lambda source: t_view(source, TInPlace))


def transpose_(tensor: Tensor, dim0: int, dim1: int) -> Tensor:
    _refuse_compressed_transpose(tensor)
    if type(tensor._data) is SparseCOO:
        ndim = tensor._data.ndim
        return apply(tensor, (), lambda source: sparse_transpose(
            source, _wrap_dim(dim0, ndim), _wrap_dim(dim1, ndim), SparseTransposeInPlace))
    return view_(tensor, lambda source: transposed(source, dim0, dim1, TransposeInPlace))


def unsqueeze_(tensor: Tensor, dim: int) -> Tensor:
    return view_(tensor, lambda source: unsqueezed(source, dim, UnsqueezeInPlace))


def squeeze_(tensor: Tensor, dim: Any = None) -> Tensor:
    return view_(tensor, lambda source: squeezed(source, dim, SQUEEZE_IN_PLACE_OPS))


# ----------------------------------------------------------------------------- Python functions
def apply_(tensor: Tensor, callable: Callable[[Any], Any]) -> Tensor:
    """Replace each element x with callable(x), in Python (CPU tensors only, outside autograd;
    as PyTorch's, it does not bump the version counter)."""
    _check_python_map("apply_", tensor, ())
    _write_python_values(tensor, [callable(value) for value in _flat_values(tensor)])
    return tensor


def map_(tensor: Tensor, other: Any, callable: Callable[[Any, Any], Any]) -> Tensor:
    """Replace each element x with callable(x, y), y the matching element of `other`
    (broadcast to the tensor's shape)."""
    _check_python_map("map_", tensor, (("other", other),))
    values = zip(_flat_values(tensor), _flat_values(other.expand_as(tensor)))
    _write_python_values(tensor, [callable(a, b) for a, b in values])
    return tensor


def map2_(tensor: Tensor, x: Any, y: Any, callable: Callable[[Any, Any, Any], Any]) -> Tensor:
    _check_python_map("map2_", tensor, (("x", x), ("y", y)))
    values = zip(_flat_values(tensor), _flat_values(x.expand_as(tensor)),
                 _flat_values(y.expand_as(tensor)))
    _write_python_values(tensor, [callable(a, b, c) for a, b, c in values])
    return tensor


def _check_python_map(name: str, tensor: Tensor, others: tuple[tuple[str, Any], ...]) -> None:
    for position, (label, other) in enumerate(others, start=1):
        if not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument '{label}' (position {position}) must be Tensor, "
                            f"not {type(other).__name__}")
    if tensor._backend.device.type != "cpu":
        raise TypeError(f"{name} is only implemented on CPU tensors")
    if _grad_state.enabled and (tensor.requires_grad or any(
            other.requires_grad for _, other in others)):
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                           f"var.detach().{name}() instead.")
    for label, other in others:
        if other.dtype is not tensor.dtype:
            # (PyTorch names a bool tensor by its dispatch key here, the others by legacy type.)
            expected = "CPUBoolType" if tensor.dtype is dtypes.bool_ else \
                f"torch.{dtypes.LEGACY_NAMES[tensor.dtype.name]}"
            got = dtypes.LEGACY_NAMES[other.dtype.name]
            where = "argument " if name == "map2_" else ""
            raise TypeError(f"{name}: expected {expected} for {where}'{label}' (got "
                            f"torch.{got})")


def _flat_values(tensor: Tensor) -> list[Any]:
    return list(tensor._backend.tolist(tensor._backend.reshape(tensor._data, (-1,))))


def _write_python_values(tensor: Tensor, values: list[Any]) -> None:
    for value in values:
        if isinstance(value, (bool, int, float)):
            continue
        if tensor.dtype.is_floating_point:
            raise TypeError(f"must be real number, not {type(value).__name__}")
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
    backend = tensor._backend
    if not tensor._data.shape:
        own_array(tensor)
    kind = "float64" if tensor.dtype.is_floating_point else None
    array = backend.astype(backend.asarray(values, dtype=kind), backend.dtype_name(tensor._data))
    backend.setitem(tensor._data, (...,), backend.reshape(array, tensor._data.shape))


# ----------------------------------------------------------------------------- generic
def method_(name: str, tensor: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """`tensor.<name>_()` from the out-of-place method `<name>` (exp_, sqrt_, neg_, ...)."""
    if name == "square" and type(tensor._data) is SparseCOO:  # as pow_, no sparse square_
        refuse_operator("aten::pow_.Scalar", tensor.device)
    return apply(tensor, (*args, *kwargs.values()),
                 lambda source: getattr(source, name)(*args, **kwargs))


def call_(tensor: Tensor, function: Callable[..., Tensor], *args: Any, **kwargs: Any) -> Tensor:
    """The in-place form of `function(tensor, *args, **kwargs)` (scatter_, tril_, exp_, ...)."""
    others = (*args, *kwargs.values())
    return apply(tensor, others, lambda source: function(source, *args, **kwargs))
