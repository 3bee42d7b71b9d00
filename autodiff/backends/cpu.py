"""`torch.backends.cpu`: the SIMD level the CPU kernels (NumPy's) use here."""

from __future__ import annotations

import backends


def get_cpu_capability() -> str:
    """"AVX512", "AVX2", "SVE256", "VSX" or "DEFAULT", as PyTorch names them."""
    return backends.cpu_capability()


__all__ = ["get_cpu_capability"]
