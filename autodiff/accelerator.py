"""`torch.accelerator`: the device-agnostic view of the accelerator, which for autodiff is CUDA
through CuPy. Without CuPy there is none (`current_accelerator()` is None); with CuPy but no
usable GPU, `is_available()` is False and the functions that need a device raise PyTorch's
error."""

from __future__ import annotations

from typing import Any

import backends
from backends import Device

from . import cuda
from .user_warnings import warn

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """Whether a CUDA GPU can be used."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> Device | None:
    """device(type='cuda') where CUDA support (CuPy) is installed, else None; with
    `check_available`, only where a GPU can be used too."""
    if not backends.cuda_is_built():
        return None
    if check_available and not is_available():
        return None
    return Device("cuda")


def device_count() -> int:
    return cuda.device_count()


def current_device_index() -> int:
    _require()
    return cuda.current_device()


def current_device_idx() -> int:
    """Deprecated name of `current_device_index`."""
    warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_index(device: Any, /) -> None:
    """Make `device` (an index, "cuda:1" or a device) the current one."""
    _require()
    cuda.set_device(_index(device))


def set_device_idx(device: Any, /) -> None:
    """Deprecated name of `set_device_index`."""
    warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


class device_index:
    """`with device_index(i):` makes device i current inside the block (None: no change)."""

    def __init__(self, device: int | None, /) -> None:
        self.index = device
        self.previous = -1

    def __enter__(self) -> None:
        if self.index is not None:
            _require()
            self.previous = cuda.current_device()
            cuda.set_device(self.index)

    def __exit__(self, *exc_info: object) -> None:
        if self.index is not None:
            cuda.set_device(self.previous)


def synchronize(device: Any = None, /) -> None:
    """Wait for the work queued on `device` (default: the current one)."""
    _require()
    cuda.synchronize(None if device is None else _index(device))


def empty_cache() -> None:
    _require()
    cuda.empty_cache()


def memory_allocated(device_index: Any = None, /) -> int:
    """Bytes held by tensors on the device."""
    _require()
    return cuda.memory_allocated(None if device_index is None else _index(device_index))


def _require() -> None:
    if not is_available():
        raise RuntimeError(_NONE_AVAILABLE)


def _index(device: Any) -> int:
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    if isinstance(device, (str, Device)):
        parsed = Device(device)
        if parsed.index is not None:
            if parsed.type != "cuda":
                raise ValueError(f"{parsed.type} doesn't match the current accelerator cuda.")
            return parsed.index
    raise ValueError("Expected a torch.device with a specified index or an integer, but got:"
                     f"{device}")


__all__ = [
    "current_accelerator", "current_device_idx", "current_device_index", "device_count",
    "device_index", "empty_cache", "is_available", "memory_allocated", "set_device_idx",
    "set_device_index", "synchronize",
]
