"""`autodiff.cuda`: CUDA devices, as `torch.cuda` offers them (backed by CuPy).

`is_available()` and `device_count()` never raise: without CuPy, a driver or a GPU they answer
False and 0. The rest raise the backend's message naming what is missing and how to fix it.
"""

from __future__ import annotations

from typing import Any

import backends
from backends import Device


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return backends.cuda_device_count() > 0


def device_count() -> int:
    """The number of CUDA GPUs (0 without CuPy, a driver or a GPU)."""
    return backends.cuda_device_count()


def current_device() -> int:
    """The index of the current CUDA device: where `device="cuda"` puts tensors."""
    return backends.cuda_current_device()


def set_device(device: Any) -> None:
    """Make `device` (an index, "cuda:1" or a `device`) the current CUDA device."""
    backends.cuda_set_device(device)


def get_device_name(device: Any = None) -> str:
    return backends.cuda_device_name(device)


def synchronize(device: Any = None) -> None:
    """Wait until all work queued on `device` (default: the current one) has finished."""
    backends.get_backend(_cuda(device)).synchronize()


def empty_cache() -> None:
    """Release the cached, unused blocks of the CUDA memory pools back to the driver."""
    backends.cuda_empty_cache()


def memory_allocated(device: Any = None) -> int:
    """Bytes occupied by tensors on `device` (default: the current one)."""
    return backends.cuda_memory_allocated(device)


def manual_seed(seed: int) -> None:
    """Seed the generator of the current CUDA device."""
    backends.get_backend("cuda").seed_generator(int(seed))


def manual_seed_all(seed: int) -> None:
    """Seed the generators of every CUDA device, now and for devices first used later."""
    backends.seed_all(int(seed), device_type="cuda")


def _cuda(device: Any) -> Any:
    if device is None:
        return "cuda"
    parsed = Device(device)  # a bare int is a CUDA ordinal
    if parsed.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {parsed}")
    return parsed
