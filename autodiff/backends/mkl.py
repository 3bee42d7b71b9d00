"""`torch.backends.mkl`: whether the CPU's BLAS (NumPy's) is Intel MKL."""

from __future__ import annotations

from backends import threads


def is_available() -> bool:
    return "mkl" in threads.vendors()


__all__ = ["is_available"]
