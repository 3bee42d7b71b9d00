"""`autodiff.utils.dlpack` (`torch.utils.dlpack`): tensors shared with other array libraries
through DLPack, without copying.

`from_dlpack(x)` takes anything with `__dlpack__` (NumPy, CuPy, PyTorch, JAX arrays, autodiff
tensors) or a legacy DLPack capsule, and returns a tensor over the same memory; `Tensor.__dlpack__`
is the other direction (`np.from_dlpack(t)`, `torch.from_dlpack(t)`, `cupy.from_dlpack(t)`).
Each backend imports with its own library (`Backend.from_dlpack`), so `autodiff/` never touches
NumPy or CuPy.
"""

from __future__ import annotations

from typing import Any

from backends import Backend, get_backend, parse_device
from backends.dlpack import DLDeviceType, capsule_device, device_type, is_capsule, producer_device

from ..tensor import Tensor, _wrap

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]

_INVALID_CAPSULE = (
    "from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed only "
    "once, so you might have already constructed a tensor from it once."
)


def from_dlpack(ext_tensor: Any, *, device: Any = None, copy: bool | None = None) -> Tensor:
    """A tensor sharing the memory of `ext_tensor` (an object with `__dlpack__`, or a DLPack
    capsule). `device` puts it elsewhere (a copy); `copy=True` always copies, `copy=False`
    refuses to."""
    if is_capsule(ext_tensor):
        if device is not None or copy is not None:
            raise AssertionError("device and copy kwargs not supported when ext_tensor is "
                                 "already a DLPack capsule.")
        backend = get_backend(capsule_device(ext_tensor))
        return _tensor(backend.from_dlpack(ext_tensor), backend)
    if not hasattr(ext_tensor, "__dlpack__"):
        raise RuntimeError(_INVALID_CAPSULE)
    source = ext_tensor._backend if isinstance(ext_tensor, Tensor) \
        else get_backend(producer_device(ext_tensor))
    target = source if device is None else get_backend(parse_device(device))
    if target is not source:
        if copy is False:
            raise ValueError(f"cannot move DLPack tensor from device {source.device} to "
                             f"{target.device} without copying. Set copy=None or copy=True.")
        array = source.from_dlpack(ext_tensor)
        return _tensor(target.transfer(array, source), target)
    return _tensor(source.from_dlpack(ext_tensor, copy=copy), source)


def to_dlpack(tensor: Tensor) -> Any:
    """A legacy (unversioned) DLPack capsule sharing `tensor`'s memory; consume it once."""
    return tensor._backend.to_dlpack(tensor._data)


def export(tensor: Tensor, stream: Any, max_version: Any, dl_device: Any, copy: Any) -> Any:
    """`Tensor.__dlpack__`, with PyTorch's refusals and its stream rule (-1: no
    synchronisation; on the CPU no stream at all)."""
    if tensor.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    backend = tensor._backend
    kwargs: dict[str, Any] = {}
    if backend.device.type == "cuda":
        kwargs["stream"] = stream
    elif stream is not None and stream != -1:
        raise AssertionError("stream should be None on cpu.")
    if max_version is not None and max_version[0] >= 1:
        kwargs["max_version"] = max_version  # without it, the unversioned capsule (DLPack 0.8)
    if dl_device is not None:
        kwargs["dl_device"] = dl_device
    if copy is not None:
        kwargs["copy"] = copy
    return backend.to_dlpack(tensor._data, **kwargs)


def device_of(tensor: Tensor) -> tuple[Any, int]:
    """`Tensor.__dlpack_device__`: DLPack's (device type, index) of the tensor's memory."""
    code, index = tensor._backend.dlpack_device(tensor._data)
    return device_type(code), index


def _tensor(array: Any, backend: Backend) -> Tensor:
    try:
        backend.dtype_name(array)
    except KeyError:
        raise TypeError(f"from_dlpack: autodiff has no dtype for {array.dtype} (it has bool, "
                        "uint8, int8, int16, int32, int64, float16, float32, float64)") from None
    return _wrap(array, backend)
