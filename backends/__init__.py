"""The array layer: one `Backend` object per device. Knows nothing about gradients.

`get_backend(device)` is the only way in. NumPy is imported eagerly (it is a dependency); CuPy and
array-api-strict are imported the first time a device of theirs is asked for, so a CPU-only
install never touches them.
"""

from __future__ import annotations

import threading

from .base import Backend, broadcast_shapes
from .device import DEVICE_TYPES, Device, parse_device

__all__ = ["DEVICE_TYPES", "Backend", "Device", "broadcast_shapes", "get_backend", "parse_device", "seed_all"]

_backends: dict[Device, Backend] = {}
_lock = threading.Lock()
_seed = 0


def seed_all(seed: int) -> None:
    """Reseed every backend's generator; backends made later start from the same seed."""
    global _seed
    _seed = seed
    for backend in set(_backends.values()):
        backend.seed_generator(seed)


def get_backend(device: object = "cpu") -> Backend:
    """The backend for `device` ("cpu", "cuda", "cuda:1", "strict:1", or a `Device`)."""
    parsed = parse_device(device)
    backend = _backends.get(parsed)
    if backend is not None:
        return backend
    with _lock:
        backend = _backends.get(parsed)
        if backend is None:
            backend = _create_backend(parsed)
            backend.seed_generator(_seed)
            _backends[parsed] = backend
            if backend.device != parsed:  # "cuda" and "cuda:0" share one backend
                _backends[backend.device] = backend
    return backend


def _create_backend(device: Device) -> Backend:
    if device.type == "cpu":
        from .numpy_backend import NumpyBackend

        return NumpyBackend()
    if device.type == "cuda":
        return _create_cuda_backend(device.index)
    if device.type == "strict":
        from .strict_backend import StrictBackend

        return StrictBackend(device.index or 0)
    raise RuntimeError(f"no backend for device {device}")  # parse_device already refused it


def _create_cuda_backend(index: int | None) -> Backend:
    """The one place CuPy is imported; every failure says what is missing and how to fix it."""
    try:
        import cupy  # noqa: F401
    except ImportError as error:
        raise RuntimeError(
            "CUDA backend requires CuPy, which is not installed: "
            "pip install 'autodiff[cuda]' (or a cupy-cuda12x / cupy-cuda13x wheel matching your "
            f"CUDA driver). Import error: {error}"
        ) from None
    from .cupy_backend import CupyBackend, cuda_device_count

    count = cuda_device_count()
    if count == 0:
        raise RuntimeError(
            "CUDA backend: CuPy is installed but no CUDA GPU was found (no device or no usable "
            "driver). Use device='cpu', or run on a machine with an NVIDIA GPU and driver."
        )
    ordinal = 0 if index is None else index
    if ordinal >= count:
        available = ", ".join(f"cuda:{i}" for i in range(count))
        raise RuntimeError(
            f"CUDA error: invalid device ordinal: cuda:{ordinal} was asked for, but this machine "
            f"has {count} CUDA device{'s' if count > 1 else ''} ({available})"
        )
    return CupyBackend(ordinal)
