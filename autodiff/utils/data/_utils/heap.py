"""How a DataLoader worker's C heap keeps the memory it frees between batches.

A worker builds a batch, sends it and frees it, then builds the next one. With glibc's default
settings that free leaves a large free block at the top of the heap, which glibc hands back to
the system (it trims once the top exceeds twice the adaptive mmap threshold), so the next
batch's buffers and every temporary of the transform that lands there page-fault anew: on
bench/dataloader_bench.py's transform each of two workers took ~30,000 minor faults an epoch
(~3,400 with the settings below) and about 8% more CPU. Fixing the thresholds at the largest values
glibc's own adaptive rule reaches (mmap above 32 MiB, trim above 64 MiB) keeps those pages: a
worker then holds at most what its previous batch needed. Set only in worker processes; the
user's process keeps its allocator as it is. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# glibc's mallopt parameters (malloc.h) and the maxima of its adaptive thresholds (64-bit).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 << 20
_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD_MAX


def keep_freed_memory() -> bool:
    """Stop glibc from returning freed heap memory between batches (see the module's text).
    True if the allocator took the settings."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        mallopt = libc.mallopt
        # gnu_get_libc_version exists only in glibc: musl's mallopt ignores these parameters.
        libc.gnu_get_libc_version  # noqa: B018
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
                and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
