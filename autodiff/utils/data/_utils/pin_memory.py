"""Pinning batches (torch.utils.data._utils.pin_memory): CPU tensors are copied into host
memory that the CUDA device has page-locked, so the copy to the device that follows
(`batch.to("cuda")`) goes by DMA without a staging copy. The page-locked memory comes from the
CUDA backend (CuPy)."""

from __future__ import annotations

import collections.abc
import copy
from typing import Any

import backends

from .... import dtypes
from ....tensor import Tensor, _wrap


def pin_memory(data: Any, device: Any = None) -> Any:
    """`data` with every CPU tensor in it copied into page-locked memory of the CUDA device
    `device` (default: the current one), keeping the structure; objects with their own
    `pin_memory()` method are asked to pin themselves."""
    if isinstance(data, Tensor):
        return _pin_tensor(data, device)
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: pin_memory(value, device) for key, value in data.items()})
                return clone
            return type(data)({key: pin_memory(value, device)  # type: ignore[call-arg]
                               for key, value in data.items()})
        except TypeError:
            return {key: pin_memory(value, device) for key, value in data.items()}
    if isinstance(data, tuple):
        if hasattr(data, "_fields"):  # namedtuple
            return type(data)(*(pin_memory(item, device) for item in data))
        return type(data)(pin_memory(item, device) for item in data)
    if isinstance(data, collections.abc.Sequence):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone_sequence: Any = copy.copy(data)
                for index, item in enumerate(data):
                    clone_sequence[index] = pin_memory(item, device)
                return clone_sequence
            return type(data)([pin_memory(item, device) for item in data])  # type: ignore[call-arg]
        except TypeError:
            return [pin_memory(item, device) for item in data]
    return data


def _pin_tensor(tensor: Tensor, device: Any) -> Tensor:
    """A copy of a CPU tensor in page-locked memory (detached: batches carry no graph)."""
    source = tensor._backend
    if source.device.type != "cpu":
        legacy = dtypes.LEGACY_NAMES[source.dtype_name(tensor._data)]
        raise RuntimeError(f"cannot pin 'torch.{source.device.type}.{legacy}' only dense CPU "
                           "tensors can be pinned")
    cuda = backends.get_backend("cuda" if device is None else device)
    if cuda.is_pinned_host(tensor._data):
        return tensor
    return _wrap(source.from_numpy(cuda.pinned_host_copy(source.to_numpy(tensor._data))), source)
