"""`autodiff.nested` (torch.nested): batches of tensors of different lengths, as one nested
tensor in the strided layout (components of any sizes) or the jagged layout (one ragged dim,
over a `values` tensor and `offsets`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from .. import creation, dtypes, layouts
from ..grad_mode import no_grad
from ..ops.joining import cat
from ..ops.shape import Alias, view_op
from ..tensor import Tensor, _wrap_dim
from . import ops, storage
from .nested_tensor import NestedTensor
from .storage import Component

__all__ = ["as_nested_tensor", "narrow", "nested_tensor", "nested_tensor_from_jagged",
           "to_padded_tensor"]


class FromListAlias(Alias):
    node_name = "NestedTensorFromTensorListBackward0"


class FromJaggedAlias(Alias):
    node_name = "NestedViewFromJaggedBackward0"


def _check_layout(layout: Any) -> layouts.layout:
    if layout is None:
        return layouts.strided
    if layout is layouts.strided or layout is layouts.jagged:
        return layout
    if isinstance(layout, layouts.layout):
        raise RuntimeError(f"Specified layout is unsupported for nested tensors: {layout}")
    raise TypeError(f"layout must be torch.layout, not {type(layout).__name__}")


def _from_tensors(tensors: list[Tensor], layout: layouts.layout, alias: type[Alias] | None
                  ) -> NestedTensor:
    """A nested tensor of these tensors, packed into a new buffer (recorded)."""
    if layout is layouts.jagged:
        if not tensors:
            raise RuntimeError("Cannot construct a nested tensor from an empty tensor list")
        if len({tensor.dim() for tensor in tensors}) != 1:
            raise RuntimeError("When constructing a nested tensor, all tensors in list must have "
                               "the same dim")
        if tensors[0].dim() == 0:
            raise RuntimeError("Cannot construct a nested tensor from 0-dim tensors")
        if len({tuple(tensor.shape[1:]) for tensor in tensors}) != 1:
            raise RuntimeError("autodiff's jagged layout has its ragged dim at dim 1: the "
                               "components must have the same sizes after their first dim")
    else:
        for index, tensor in enumerate(tensors):
            if tensor.dim() != tensors[0].dim():
                raise RuntimeError(
                    f"All Tensors given to nested_tensor must have the same dimension. Found "
                    f"dimension {tensor.dim()} for Tensor at index {index} and dimension "
                    f"{tensors[0].dim()} for Tensor at index 0.")
    buffer = storage.pack(tensors) if tensors else creation.empty(0)
    if alias is not None and buffer.requires_grad:
        buffer = view_op(alias, buffer)
    components = storage.packed([tuple(tensor.shape) for tensor in tensors])
    offsets = None
    if layout is layouts.jagged:
        starts = [0]
        for tensor in tensors:
            starts.append(starts[-1] + tensor.shape[0])
        offsets = creation.tensor(starts, dtype=dtypes.int64, device=buffer.device)
    return NestedTensor.make(buffer, components, layout, offsets=offsets)


def nested_tensor(tensor_list: Sequence[Any], *, dtype: Any = None, layout: Any = None,
                  device: Any = None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """A nested tensor (a leaf: the components are copied) of the tensors or lists given."""
    layout = _check_layout(layout)
    if pin_memory:
        raise RuntimeError("autodiff: pin_memory=True is not supported for nested tensors")
    tensors = []
    with no_grad():
        for item in tensor_list:
            if isinstance(item, Tensor):
                tensor = item.detach().to(device=device if device is not None else item.device,
                                          dtype=dtype if dtype is not None else None)
            else:
                tensor = creation.tensor(item, dtype=dtype, device=device)
            tensors.append(tensor)
        if tensors and dtype is None:
            tensors = [tensor.to(tensors[0].dtype) for tensor in tensors]
        nested = _from_tensors(tensors, layout, None)
        nested = nested.derive(nested._buffer.clone())
    if requires_grad:
        nested.requires_grad_(True)
    return nested


def as_nested_tensor(ts: Any, dtype: Any = None, device: Any = None,
                     layout: Any = None) -> Tensor:
    """A nested tensor of `ts` (a list of tensors, or a tensor whose rows are the components)
    that keeps their history: gradients flow back to them."""
    layout = _check_layout(layout)
    if isinstance(ts, Tensor) and ts.is_nested:
        if ts.layout is not layout:
            raise RuntimeError("as_nested_tensor(): converting between nested layouts is not "
                               "supported")
        return ts.to(dtype=dtype, device=device) if dtype or device else ts
    if isinstance(ts, Tensor):
        if ts.dim() < 2:
            raise RuntimeError("as_nested_tensor(): Expected a tensor with at least 2 dims")
        tensors = list(ts.unbind())
    elif isinstance(ts, (list, tuple)) and all(isinstance(t, Tensor) for t in ts):
        tensors = list(ts)
    else:
        raise TypeError("as_nested_tensor(): Expected first argument to be a tensor or a list / "
                        "tuple of tensors ")
    tensors = [tensor.to(dtype=dtype if dtype is not None else tensors[0].dtype,
                         device=device if device is not None else tensors[0].device)
               for tensor in tensors]
    alias = FromListAlias if layout is layouts.strided else FromJaggedAlias
    return _from_tensors(tensors, layout, alias)


def nested_tensor_from_jagged(values: Tensor, offsets: Tensor | None = None,
                              lengths: Tensor | None = None, jagged_dim: int | None = None,
                              min_seqlen: int | None = None,
                              max_seqlen: int | None = None) -> Tensor:
    """A jagged nested tensor viewing `values`: component i is the rows offsets[i] to
    offsets[i] + lengths[i] (offsets[i + 1] without lengths). min_seqlen / max_seqlen are
    hints for fused kernels, which autodiff does not have: they are checked, not used."""
    if offsets is None:
        if lengths is None:
            raise RuntimeError("nested_tensor_from_jagged(): At least one of offsets or lengths "
                               "is required.")
        offsets = creation.tensor(0, dtype=lengths.dtype, device=lengths.device).reshape(1)
        offsets = cat([offsets, lengths.cumsum(0)])
        lengths = None
    if jagged_dim not in (None, 1):
        raise RuntimeError("autodiff's jagged layout has its ragged dim at dim 1: jagged_dim "
                           f"must be 1, got {jagged_dim}")
    for name, hint in (("min_seqlen", min_seqlen), ("max_seqlen", max_seqlen)):
        if hint is not None and not isinstance(hint, int):
            raise TypeError(f"nested_tensor_from_jagged(): {name} must be an int")
    if values.dim() < 1:
        raise RuntimeError("nested_tensor_from_jagged(): values must have at least 1 dim")
    return _jagged_view(values, offsets, lengths)


def _jagged_view(values: Tensor, offsets: Tensor, lengths: Tensor | None) -> NestedTensor:
    starts = [int(start) for start in offsets.tolist()]
    if lengths is not None:
        sizes = [int(length) for length in lengths.tolist()]
    else:
        sizes = [end - start for start, end in itertools.pairwise(starts)]
    rest = tuple(values.shape[1:])
    buffer = values.contiguous()
    row = storage.contiguous_strides((1, *rest))[0]
    components = tuple(Component((size, *rest), storage.contiguous_strides((size, *rest)),
                                 start * row) for start, size in zip(starts, sizes))
    if buffer.requires_grad:
        buffer = view_op(FromJaggedAlias, buffer)
    return NestedTensor.make(buffer, components, layouts.jagged, offsets=offsets,
                             lengths=lengths)


def narrow(tensor: Tensor, dim: int, start: Any, length: Any,
           layout: Any = layouts.strided) -> Tensor:
    """Component i of a dense (B, S, ...) tensor is its row i narrowed along `dim` (1 for the
    jagged layout) to start[i]:start[i] + length[i]; start and length are ints or tensors."""
    layout = _check_layout(layout)
    if tensor.is_nested:
        raise RuntimeError("torch.nested.narrow(): expected dense tensor input")
    if layout is layouts.strided:
        if isinstance(start, Tensor) or isinstance(length, Tensor):
            raise RuntimeError("start and length must be integers for the strided layout NT "
                               "impl")
        return _narrow_strided(tensor, dim, start, length)
    if _wrap_dim(dim, tensor.dim()) != 1:
        raise RuntimeError("jagged layout only supports dim=1")
    batch, sequence = tensor.shape[0], tensor.shape[1]
    starts = start if isinstance(start, Tensor) else creation.full((batch,), start,
                                                                   dtype=dtypes.int64)
    lengths = length if isinstance(length, Tensor) else creation.full((batch,), length,
                                                                      dtype=dtypes.int64)
    offsets = starts.to(tensor.device) + creation.arange(batch, device=tensor.device) * sequence
    values = tensor.reshape(batch * sequence, *tensor.shape[2:])
    return _jagged_view(values, offsets, lengths.to(tensor.device))


def _narrow_strided(tensor: Tensor, dim: int, start: int, length: int) -> Tensor:
    rows = [row.narrow(_wrap_dim(dim, tensor.dim()) - 1, start, length)
            for row in tensor.unbind()]
    return as_nested_tensor(rows, layout=layouts.strided)


def to_padded_tensor(input: Tensor, padding: float, output_size: Any = None) -> Tensor:
    """The components padded with `padding` to a dense tensor (of `output_size` if given)."""
    return ops.to_padded_tensor(input, padding, output_size)
