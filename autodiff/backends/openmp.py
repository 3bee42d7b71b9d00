"""`torch.backends.openmp`: whether the CPU's threads (its BLAS's) run on OpenMP."""

from __future__ import annotations

from backends import threads


def is_available() -> bool:
    return threads.uses_openmp()


__all__ = ["is_available"]
