"""resize_ and resize_as_ (a tensor given another shape in place, keeping the values that fit in
row-major order, the new ones uninitialized), and the deprecated out-of-place resize/resize_as
(autograd's: the shape changes, the number of elements may not)."""

from __future__ import annotations

import operator
from typing import Any

from .. import layouts
from ..function import Function
from ..jvp_rules import auto_linear
from ..layout_dispatch import dense_only
from ..saved_fields import fields
from ..tensor import Tensor
from ..user_warnings import warn
from ._checks import require_tensors
from .shape import NOT_VIEWABLE, view_op
from .views import forget_base, own_array


def _sizes(function: str, sizes: tuple[Any, ...]) -> tuple[int, ...]:
    """resize_'s sizes: ints, or one sequence of them, with PyTorch's argument errors (a negative
    size overflows its element count)."""
    values = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
        else sizes
    for position, value in enumerate(values, start=1):
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            if position == 1:
                raise TypeError(f"{function}(): argument 'size' (position 1) must be tuple of "
                                f"ints, not {type(value).__name__}")
            raise TypeError(f"{function}(): argument 'size' failed to unpack the object at pos "
                            f'{position} with error "type must be tuple of ints,but got '
                            f'{type(value).__name__}"')
    shape = tuple(operator.index(value) for value in values)
    if any(size < 0 for size in shape):
        raise RuntimeError("numel: integer multiplication overflow")
    return shape


def _check_memory_format(function: str, memory_format: Any, ndim: int) -> None:
    layouts.check_memory_format(function, memory_format)
    rank = {layouts.channels_last: 4, layouts.channels_last_3d: 5}.get(memory_format)
    if rank is None:
        return
    if ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {memory_format.name} format")
    raise RuntimeError(f"{function}(): memory_format={memory_format} is not supported: autodiff "
                       "keeps tensors row-major (contiguous)")


def resize_(tensor: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Give `tensor` the shape `sizes` in place: its first elements (row-major) keep their
    values, any new ones are uninitialized. Refused for a tensor that requires grad, even under
    no_grad, as in PyTorch; the version counter is bumped when the shape changes.

    A view that changes shape gets memory of its own and stops being a view (PyTorch resizes
    the shared storage, so a view that fits in it keeps aliasing its base)."""
    shape = _sizes("resize_", sizes)
    _check_memory_format("resize_", memory_format, len(shape))
    if tensor.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if shape == tuple(tensor._data.shape):
        return tensor
    backend = tensor._backend
    old = tensor._data
    count = 1
    for size in shape:
        count *= size
    flat = backend.reshape(old, (-1,))
    kept = min(count, flat.shape[0])
    if count <= flat.shape[0] and tensor._base is None:
        data = backend.reshape(backend.getitem(flat, slice(0, count)), shape)
    else:
        data = backend.empty((count,), backend.dtype_name(old))
        if kept:
            backend.setitem(data, slice(0, kept), backend.getitem(flat, slice(0, kept)))
        data = backend.reshape(data, shape)
    if tensor._base is not None:
        forget_base(tensor)
    tensor._data = data
    if not shape:
        own_array(tensor)
    tensor._bump_version()
    return tensor


def resize_as_(tensor: Tensor, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
    """resize_ to the shape of `the_template`."""
    require_tensors("resize_as_", ("input", tensor), ("the_template", the_template))
    dense_only("aten::resize_", tensor)
    return resize_(tensor, tuple(the_template._data.shape), memory_format=memory_format)


def resize_as_method_(tensor: Tensor, the_template: Any, *, memory_format: Any = None) -> Tensor:
    """Tensor.resize_as_(the_template): the template is the method's first argument."""
    require_tensors("resize_as_", ("the_template", the_template))
    dense_only("aten::resize_", tensor)
    return resize_(tensor, tuple(the_template._data.shape), memory_format=memory_format)


# ----------------------------------------------------------------------------- out of place
class Resize(Function):
    """The deprecated Tensor.resize: a reshape that keeps the number of elements."""

    node_name = "ResizeBackward"
    saved_fields = fields()
    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, shape: tuple[int, ...], view: bool) -> Any:
        ctx.input_shape = a.shape
        # A view, or nothing (the caller then asks for a copy).
        return ctx.backend.reshape(a, shape, copy=False if view and 0 not in a.shape else None)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.reshape(ctx.input_shape)


def resize(tensor: Tensor, *sizes: Any) -> Tensor:
    """`tensor` in the shape `sizes` (the same number of elements): a view where the layout
    allows one, else a copy. (PyTorch's refuses sizes given as one tuple, quoting the tuple as
    the element count; here a tuple or Size is taken as reshape takes it.)"""
    warn("non-inplace resize is deprecated", UserWarning, stacklevel=3)
    return _resized(tensor, sizes)


def resize_as(tensor: Tensor, the_template: Any) -> Tensor:
    warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=3)
    require_tensors("resize_as", ("the_template", the_template))
    return _resized(tensor, (tuple(the_template._data.shape),))


def _resized(tensor: Tensor, sizes: tuple[Any, ...]) -> Tensor:
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
        else tuple(sizes)
    count = 1
    for size in shape:
        count *= size
    numel = tensor.numel()
    if count != numel:
        shown = "x".join(str(size) for size in shape)
        have = "x".join(str(size) for size in tensor._data.shape)
        raise RuntimeError(
            f"requested resize to {shown} ({count} elements in total), but the given tensor has "
            f"a size of {have} ({numel} elements). autograd's resize can only change the shape "
            "of a given tensor, while preserving the number of elements. ")
    try:
        return view_op(Resize, tensor, shape=shape, view=True)
    except NOT_VIEWABLE:
        return Resize.apply(tensor, shape=shape, view=False)
