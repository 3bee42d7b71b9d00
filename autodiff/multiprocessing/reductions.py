"""How tensors cross to another process through multiprocessing (queues, pipes, a spawned
Process's arguments): in shared memory, as PyTorch's `torch/multiprocessing/reductions.py`.

multiprocessing pickles with its `ForkingPickler`; `init_reductions` registers a reducer for
Tensor and Parameter there (ordinary pickling, `torch.save`, is untouched). A CPU tensor is
first moved into shared memory in place (`share_memory_`, so the sender's tensor is shared
afterwards, as in PyTorch), then sent as where it lies in its segment: the receiver maps the
same memory, and writes on either side are seen by both. Its segment is pickled once per
message, by the sharing strategy: the file descriptor (multiprocessing's DupFd) or the file's
name. `requires_grad` travels, the gradient and the graph do not; a non-leaf that requires
grad is refused. Meta tensors arrive as fresh meta tensors of the same size, stride and dtype;
sparse COO tensors as their indices and values, each shared. Tensors on other devices (CUDA,
the strict test backend) are pickled by value.
"""

from __future__ import annotations

import multiprocessing.resource_sharer  # noqa: F401  # loaded before any fork (see PyTorch's note)
import pickle
from multiprocessing import reduction
from typing import Any

from backends import get_backend, shared_memory

from ..nn.parameter import Parameter
from ..ops.sparse_coo import sparse_coo_tensor
from ..ops.strides import empty_strided
from ..ops.views import TrackedView
from ..tensor import Tensor, _wrap
from ..user_warnings import warn

_NON_LEAF = (
    "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does "
    "not support crossing process boundaries.  If you just want to transfer the data, call "
    "detach() on the tensor before serializing (e.g., putting it on the queue)."
)


def reduce_tensor(tensor: Tensor) -> tuple[Any, tuple[Any, ...]]:
    if tensor.requires_grad and tensor.grad_fn is not None:
        raise RuntimeError(_NON_LEAF)
    warn_if_has_hooks(tensor)
    device = tensor._backend.device
    if tensor.is_sparse:
        if device.type == "cpu":  # its own arrays move, so the sender shares them too
            arrays = tensor._data
            arrays.indices = tensor._backend.share_memory(arrays.indices)
            arrays.values = tensor._backend.share_memory(arrays.values)
        return (rebuild_sparse_coo_tensor,
                (reduce_tensor(tensor._indices()), reduce_tensor(tensor._values()),
                 tuple(tensor.shape), tensor.is_coalesced()))
    if device.type == "meta":
        return (rebuild_meta_tensor, (type(tensor), tuple(tensor.shape), tensor.stride(),
                                      tensor.storage_offset(), tensor.dtype,
                                      tensor.requires_grad))
    if device.type != "cpu":
        return tensor.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    if tensor.numel() == 0 and not tensor.is_shared():
        # An empty tensor is sent as it is (an empty file cannot be mapped), as in PyTorch.
        return tensor.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    tensor.share_memory_()
    view = tensor._backend.shared_view(tensor._data)
    return (rebuild_tensor, (type(tensor), view, tensor.requires_grad))


def rebuild_tensor(cls: type, view: shared_memory.SharedView, requires_grad: bool) -> Tensor:
    tensor = _wrap(get_backend("cpu").from_shared_view(view), get_backend("cpu"))
    if cls is Parameter:
        return Parameter(tensor, requires_grad=requires_grad)
    tensor.requires_grad = requires_grad
    return tensor


def rebuild_meta_tensor(cls: type, size: tuple[int, ...], stride: tuple[int, ...], offset: int,
                        dtype: Any, requires_grad: bool) -> Tensor:
    tensor = empty_strided(size, stride, dtype=dtype, device="meta")
    if offset:
        tensor = tensor.as_strided(size, stride, offset)
    if cls is Parameter:
        return Parameter(tensor, requires_grad=requires_grad)
    tensor.requires_grad = requires_grad
    return tensor


def rebuild_sparse_coo_tensor(indices: tuple[Any, tuple[Any, ...]],
                              values: tuple[Any, tuple[Any, ...]], shape: tuple[int, ...],
                              is_coalesced: bool) -> Tensor:
    rebuild_indices, indices_arguments = indices
    rebuild_values, values_arguments = values
    return sparse_coo_tensor(rebuild_indices(*indices_arguments),
                             rebuild_values(*values_arguments), shape,
                             is_coalesced=is_coalesced)


def reduce_segment(segment: shared_memory.Segment) -> tuple[Any, tuple[Any, ...]]:
    """A segment by the current sharing strategy: its name ("file_system"; it has one, since
    `share_memory_` made it under that strategy) or its descriptor."""
    if shared_memory.sharing_strategy() == "file_system" and segment.name is not None:
        return (rebuild_segment_by_name, (segment.name, segment.nbytes))
    return (rebuild_segment_by_fd, (reduction.DupFd(segment.fd), segment.nbytes))


def rebuild_segment_by_fd(handle: Any, size: int) -> shared_memory.Segment:
    return shared_memory.receive_fd(handle.detach(), size)


def rebuild_segment_by_name(name: str, size: int) -> shared_memory.Segment:
    return shared_memory.receive_name(name, size)


def warn_if_has_hooks(tensor: Tensor) -> None:
    """Backward hooks stay behind (they are code of this process): say so, unless marked
    with `autodiff.utils.hooks.unserializable_hook`."""
    for hook in tensor._hooks or ():
        if not hasattr(hook, "__torch_unserializable__"):
            warn(f"backward hook {hook!r} on tensor will not be serialized.  If this is "
                 "expected, you can decorate the function with "
                 "@torch.utils.hooks.unserializable_hook to suppress this warning",
                 stacklevel=2)


def init_reductions() -> None:
    reduction.ForkingPickler.register(Tensor, reduce_tensor)
    reduction.ForkingPickler.register(Parameter, reduce_tensor)
    reduction.ForkingPickler.register(TrackedView, reduce_tensor)  # a view made in grad mode
    reduction.ForkingPickler.register(shared_memory.Segment, reduce_segment)


__all__ = ["init_reductions", "rebuild_tensor", "reduce_tensor"]
