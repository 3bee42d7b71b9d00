"""Where factories put tensors by default: `set_default_device`/`get_default_device` (per
thread, as in PyTorch; `with torch.device(...):` blocks override it inside them) and the
deprecated `set_default_tensor_type`, which sets the default dtype and the device of
`torch.Tensor(...)` and of every factory at once. (The default dtype itself lives in
`dtypes`.)"""

from __future__ import annotations

from typing import Any

import backends
from backends import Device, get_backend, parse_device

from . import dtypes
from .user_warnings import first_time, warn


def set_default_device(device: Any) -> None:
    """Make `device` ("cuda", "cuda:1", a device, an int: a CUDA ordinal) where factories put
    tensors when no device is given, in this thread; None restores the CPU."""
    backends.set_default_device(None if device is None else parse_device(device))


def get_default_device() -> Device:
    """The default device, with its index (a bare "cuda" is the current CUDA device)."""
    device = backends.default_device()
    if device is None:
        return Device("cpu")
    if device.index is None and device.type != "cpu":
        return get_backend(device).device
    return device


_warned: list[bool] = []


def set_default_tensor_type(t: Any) -> None:
    """Deprecated: set the default dtype and device from a legacy tensor type
    (`torch.DoubleTensor`, 'torch.cuda.FloatTensor')."""
    from . import legacy  # legacy imports the factories, which import this module's users

    if first_time(_warned):  # once per process, as PyTorch warns
        warn(
            "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
            "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
            UserWarning, stacklevel=2)
    kind = legacy.tensor_type(t)
    if not kind.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    dtypes.set_default_dtype(kind.dtype)
    backends.set_legacy_type_device(None if kind.device_type == "cpu" else Device(kind.device_type))
