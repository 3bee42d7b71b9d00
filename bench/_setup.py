"""Where a benchmark runs: the device, its array library for the limit (NumPy or CuPy), the
autodiff backend, PyTorch when importable, the thread count and the synchronisation to time by."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import autodiff
import backends


class DeviceUnavailable(RuntimeError):
    """The device asked for cannot be used here (no CuPy, no GPU, ...)."""


@dataclass
class Setup:
    device: str
    backend: Any  # the autodiff backend of `device`
    xp: Any  # NumPy or CuPy: the array library the limit is written in
    torch: Any  # the torch module, or None
    torch_device: str | None
    threads: int

    def sync(self) -> None:
        """Wait for queued GPU work (a no-op on the CPU)."""
        self.backend.synchronize()
        if self.torch is not None and self.torch_device == "cuda":
            self.torch.cuda.synchronize()

    def describe(self) -> str:
        torch = ("absent" if self.torch is None
                 else f"{self.torch.__version__} on {self.torch_device}")
        return (f"device {self.device} ({self.xp.__name__} limit), {self.threads} CPU threads, "
                f"torch {torch}")


def blas_threads() -> int:
    """The thread count NumPy's BLAS uses (what the limit runs with)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(counts) if counts else (os.cpu_count() or 1)


_limits: list[Any] = []  # keeps a threadpoolctl limit alive for the whole run


def limit_blas_threads(threads: int) -> None:
    """Run NumPy's BLAS with `threads` threads (needs threadpoolctl; OPENBLAS_NUM_THREADS set
    before the start of Python does the same)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise DeviceUnavailable(
            "--threads needs threadpoolctl (pip install threadpoolctl), or set "
            "OPENBLAS_NUM_THREADS / MKL_NUM_THREADS before starting Python") from None
    _limits.append(threadpool_limits(limits=threads, user_api="blas"))


def make_setup(device: str = "cpu", with_torch: bool = True,
               threads: int | None = None) -> Setup:
    try:
        backend = backends.get_backend(device)
        autodiff.zeros(1, device=device)
    except RuntimeError as error:
        raise DeviceUnavailable(str(error)) from None
    except ImportError as error:  # CuPy present, but no CUDA backend in this checkout
        raise DeviceUnavailable(f"no CUDA backend for device {device!r}: {error}") from None
    if backend.device.type == "cuda":
        import cupy as xp
    else:
        import numpy as xp
    if threads is not None:
        limit_blas_threads(threads)
    threads = blas_threads()
    torch, torch_device = None, None
    if with_torch:
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None:
            torch.set_num_threads(threads)
            if backend.device.type == "cuda":
                torch_device = "cuda" if torch.cuda.is_available() else None
                torch = torch if torch_device else None
            else:
                torch_device = "cpu"
    return Setup(device, backend, xp, torch, torch_device, threads)


def engine_names() -> list[str]:
    """The engines the pytest-benchmark suites time: the limit, autodiff, torch if importable."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return ["numpy", "autodiff"]
    return ["numpy", "autodiff", "torch"]
