"""Views of nested tensors: transpose, view, reshape, chunk, unflatten, flatten. A view keeps
the buffer's memory and changes only the component records (PyTorch's nested sizes, strides
and offsets); the buffer is aliased under the view op's node name, so the graph shows the
view."""

from __future__ import annotations

from typing import Any

from .. import layouts
from ..grad_mode import state as grad_state
from ..ops.shape import Alias, view_op
from ..tensor import Tensor, _wrap_dim
from . import storage
from .storage import Component, RaggedSize


class TransposeAlias(Alias):
    node_name = "TransposeBackward0"


class ViewAlias(Alias):
    node_name = "ViewBackwardAutogradNestedTensor0"


class ChunkAlias(Alias):
    node_name = "ChunkBackwardAutogradNestedTensor0"


def _aliased(nested: Any, op: type[Alias]) -> Tensor:
    """The buffer again, recorded as `op` when the graph is being recorded."""
    buffer = nested._buffer
    if buffer.requires_grad and grad_state.enabled:
        return view_op(op, buffer)
    return buffer


def transpose(nested: Any, dim0: int, dim1: int) -> Tensor:
    ndim = nested.dim()
    dim0, dim1 = _wrap_dim(dim0, ndim), _wrap_dim(dim1, ndim)
    if 0 in (dim0, dim1) and dim0 != dim1:
        if nested.layout is layouts.jagged:
            raise ValueError("Transpose is not supported on the batch dimension for jagged NT")
        raise RuntimeError("Nested tensor dimension 0 cannot be transposed")
    components = []
    for component in nested._components:
        size, stride = list(component.size), list(component.stride)
        a, b = dim0 - 1, dim1 - 1
        if dim0 != dim1:
            size[a], size[b] = size[b], size[a]
            stride[a], stride[b] = stride[b], stride[a]
        components.append(Component(tuple(size), tuple(stride), component.offset))
    ragged = nested._ragged_idx
    if ragged in (dim0, dim1):
        ragged = dim1 if ragged == dim0 else dim0
    return nested.derive(_aliased(nested, TransposeAlias), tuple(components), ragged_idx=ragged)


def view(nested: Any, shape: tuple[Any, ...], *, copy_if_needed: bool = False) -> Tensor:
    """view (or reshape, copying components that cannot be viewed): dim 0 stays the batch; a
    -1 keeps the component's own size at that dim (a ragged dim has no one size to give)."""
    name = "reshape" if copy_if_needed else "view"
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if nested.layout is layouts.jagged and not _jagged_fits(nested, shape):
        shown = ", ".join(str(size) for size in nested.size())
        raise RuntimeError(f"{name}(): cannot view shape ({shown}) as {list(shape)}")
    if not shape or shape[0] != len(nested._components):
        raise RuntimeError(f"{name}: For now nested {name} cannot change or infer the implicit "
                           "batch dimension")
    if nested.layout is layouts.jagged and nested._ragged_idx != 1 and tuple(
            -1 if isinstance(size, RaggedSize) else size for size in shape) != tuple(
            -1 if isinstance(size, RaggedSize) else size for size in nested.size()):
        raise RuntimeError("view(): does not support ragged_idx != 1 except when inp._size == "
                           "size.")
    sizes: list[tuple[int, ...]] = []
    for component in nested._components:
        wanted: list[int] = []
        for position, size in enumerate(shape[1:]):
            if isinstance(size, RaggedSize) or size == -1:
                if position >= len(component.size):
                    raise RuntimeError("nested tensor does not infer shape")
                size = component.size[position]
            wanted.append(int(size))
        if _numel(wanted) != component.numel:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size "
                               f"{component.numel}")
        sizes.append(tuple(wanted))
    strides = [_view_strides(component, size)
               for component, size in zip(nested._components, sizes)]
    viewed = []
    for component, size, stride in zip(nested._components, sizes, strides):
        if stride is None:
            if not copy_if_needed:
                raise RuntimeError("view size is not compatible with input tensor's size and "
                                   "stride (at least one dimension spans across two contiguous "
                                   "subspaces). Use .reshape(...) instead.")
            return view(nested.contiguous(), shape)
        viewed.append(Component(size, stride, component.offset))
    components = tuple(viewed)
    if components == nested._components:
        return nested
    return nested.derive(_aliased(nested, ViewAlias), components)


def _jagged_fits(nested: Any, shape: tuple[Any, ...]) -> bool:
    """The batch kept, the ragged dim kept where it is (-1 or its nested int), and the regular
    dims holding as many elements as before."""
    ragged = nested._ragged_idx
    if len(shape) <= ragged or shape[0] != len(nested._components):
        return False
    if not (isinstance(shape[ragged], RaggedSize) or shape[ragged] == -1):
        return False
    regular = [size for dim, size in enumerate(shape) if dim not in (0, ragged)]
    if any(not isinstance(size, int) or size < 0 for size in regular):
        return False
    if not nested._components:
        return True
    size = nested._components[0].size
    return _numel(regular) == _numel([size[d] for d in range(len(size)) if d != ragged - 1])


def _numel(size: list[int]) -> int:
    total = 1
    for length in size:
        total *= length
    return total


def _view_strides(component: Component, size: tuple[int, ...]) -> tuple[int, ...] | None:
    """The strides that show the component's memory in `size`, or None when no strides can
    (ATen's computeStride)."""
    old_size, old_stride = component.size, component.stride
    if component.numel == 0 or not old_size:
        return storage.contiguous_strides(size)
    new_stride = [0] * len(size)
    view_d = len(size) - 1
    chunk_base = old_stride[-1]
    tensor_numel = view_numel = 1
    for tensor_d in reversed(range(len(old_size))):
        tensor_numel *= old_size[tensor_d]
        if tensor_d == 0 or (old_size[tensor_d - 1] != 1
                             and old_stride[tensor_d - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or size[view_d] == 1):
                new_stride[view_d] = view_numel * chunk_base
                view_numel *= size[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base = old_stride[tensor_d - 1]
                tensor_numel = view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_stride)


def chunk(nested: Any, chunks: int, dim: int) -> tuple[Tensor, ...]:
    """Equal chunks of the last dim (the only dim PyTorch chunks a nested tensor along)."""
    ndim = nested.dim()
    dim = _wrap_dim(dim, ndim)
    if dim != ndim - 1:
        if nested.layout is layouts.jagged and dim == nested._ragged_idx:
            raise RuntimeError("chunk(): not supported for NestedTensor on ragged dim")
        raise RuntimeError("Chunk for nested tensors is currently only supported for the last "
                           "dimension.")
    lengths = {component.size[-1] for component in nested._components}
    length = lengths.pop() if len(lengths) == 1 else None
    if length is None:
        raise RuntimeError("chunk(): not supported for NestedTensor on ragged dim")
    if length % chunks and nested.layout is layouts.strided:
        raise RuntimeError(f"Chunk for nested tensors is only supported for nested tensors with "
                           f"trailing dimension divisible by chunks, got: {length} % {chunks} "
                           "!= 0")
    width = -(-length // chunks)  # as torch.chunk: equal chunks, the last one shorter
    outputs = []
    for start in range(0, length, width):
        components = tuple(
            Component((*component.size[:-1], min(width, length - start)), component.stride,
                      component.offset + start * component.stride[-1])
            for component in nested._components)
        outputs.append(nested.derive(_aliased(nested, ChunkAlias), components))
    return tuple(outputs)


def contiguous(nested: Any) -> Tensor:
    """The components packed one after the other in a new buffer (itself when they are)."""
    if nested.is_contiguous():
        return nested
    parts = nested.unbind()
    components = storage.packed([tuple(part.shape) for part in parts])
    return nested.derive(storage.pack(parts), components)


def unflatten(nested: Any, dim: int, sizes: Any) -> Tensor:
    """A view with regular dim `dim` split into `sizes` (one of them may be -1)."""
    dim = _wrap_dim(dim, nested.dim())
    if dim == 0 or (nested.layout is layouts.jagged and dim == nested._ragged_idx):
        shape = list(nested.size())
        shown = ", ".join(str(size) for size in shape)
        raise RuntimeError(f"view(): cannot view shape ({shown}) as "
                           f"{[*shape[:dim], *sizes, *shape[dim + 1:]]}")
    sizes = [int(size) for size in sizes]
    length = nested.size(dim)
    known = _numel([size for size in sizes if size != -1])
    if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != length) or (
            sizes.count(-1) == 1 and (known == 0 or length % known)):
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of "
                           f"dim {dim} ({length}) in the input tensor")
    sizes = [length // known if size == -1 else size for size in sizes]
    shape = list(nested.size())  # the strided layout has no sizes to view with, as PyTorch
    return view(nested, (*shape[:dim], *sizes, *shape[dim + 1:]))


def flatten(nested: Any, start_dim: int, end_dim: int) -> Tensor:
    """Regular dims start_dim..end_dim as one (a reshape: a copy where a view cannot be)."""
    ndim = nested.dim()
    start_dim, end_dim = _wrap_dim(start_dim, ndim), _wrap_dim(end_dim, ndim)
    if start_dim == end_dim:
        return nested
    shape = list(nested.size())  # the strided layout has none: PyTorch's first refusal
    if start_dim == 0:
        raise RuntimeError("flatten(): not supported for NestedTensor on dim=0")
    if nested.layout is layouts.jagged and start_dim <= nested._ragged_idx <= end_dim:
        raise RuntimeError("flatten(): not supported for NestedTensor on ragged dim")
    merged = _numel(shape[start_dim:end_dim + 1])
    return view(nested, (*shape[:start_dim], merged, *shape[end_dim + 1:]),
                copy_if_needed=True)
