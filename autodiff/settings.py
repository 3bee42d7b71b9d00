"""Process-wide switches PyTorch keeps at the torch level: deterministic algorithms, the
precision of float32 matrix products, and the CPU's thread count.

Deterministic algorithms: the CPU backends are deterministic throughout; on CUDA the
scatter-adds (index_add, index_put with accumulate, the backward of indexing and embedding)
add with atomics, whose order varies. The flags are recorded and `backends` reads them.

float32 matmul precision: "highest" computes float32 products in float32; "high" and "medium"
allow TensorFloat-32 (CuPy's TF32 compute type, on GPUs that have it). It is the same switch
as `torch.backends.cuda.matmul.allow_tf32`.

Threads: the CPU's intra-op threads are its BLAS's (see `backends.threads`); where the BLAS
cannot be driven, the count is recorded and reported, and says nothing about real threads.
"""

from __future__ import annotations

import os
from typing import Any

import backends
from backends import threads

from .user_warnings import warn

_DEBUG_MODES = ("default", "warn", "error")


class _Deterministic:
    enabled = False
    warn_only = False


_deterministic = _Deterministic()


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms; with `warn_only`, ops without one warn instead of
    raising."""
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _deterministic.enabled = mode
    _deterministic.warn_only = warn_only  # kept when off, as PyTorch's flag is
    backends.set_deterministic(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic.enabled


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic.warn_only


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """"default"/0: off; "warn"/1: deterministic, warning; "error"/2: deterministic."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        level = _DEBUG_MODES.index(debug_mode)
    elif isinstance(debug_mode, int) and not isinstance(debug_mode, bool):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError("invalid value of debug_mode, expected 0, 1, or 2, but got "
                               f"{debug_mode}")
        level = debug_mode
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    use_deterministic_algorithms(level > 0, warn_only=level == 1)


def get_deterministic_debug_mode() -> int:
    if not _deterministic.enabled:
        return 0
    return 1 if _deterministic.warn_only else 2


# ----------------------------------------------------------------------------- matmul precision
_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision: str) -> None:
    """"highest": float32 products in float32; "high"/"medium": TensorFloat-32 allowed."""
    if precision not in _PRECISIONS:
        warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the "
             "currentsetFloat32MatmulPrecision call has no effect.", UserWarning,
             stacklevel=2)
        return
    backends.set_float32_matmul_precision(precision)


def get_float32_matmul_precision() -> str:
    return backends.float32_matmul_precision()


# ----------------------------------------------------------------------------- threads
_requested_threads: int | None = None


def set_num_threads(threads_count: Any) -> None:
    """The number of threads the CPU's BLAS uses."""
    global _requested_threads
    _check_thread_count("set_num_threads", threads_count)
    threads.set_num_threads(threads_count)
    _requested_threads = threads_count


def _check_thread_count(function: str, count: Any) -> None:
    """PyTorch's checks of a thread count: a positive int."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise RuntimeError(f"{function} expects an int, but got {type(count).__name__}")
    if count <= 0:
        raise RuntimeError(f"{function} expects a positive integer")


def get_num_threads() -> int:
    """The CPU's BLAS thread count (what `set_num_threads` asked for, where the BLAS cannot be
    asked)."""
    count = threads.get_num_threads()
    if count is not None:
        return count
    return _requested_threads if _requested_threads is not None else (os.cpu_count() or 1)


# PyTorch's inter-op pool runs independent ops in parallel; autodiff runs ops one after
# another, so the number is kept for what asks it (as many as the CPU has, PyTorch's default).
_interop_threads: int | None = None


def set_num_interop_threads(num: Any) -> None:
    """The size of PyTorch's inter-op thread pool; set once, before any parallel work."""
    global _interop_threads
    _check_thread_count("set_num_interop_threads", num)
    if _interop_threads is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work "
                           "has started or set_num_interop_threads called")
    _interop_threads = num


def get_num_interop_threads() -> int:
    return _interop_threads if _interop_threads is not None else (os.cpu_count() or 1)


def set_flush_denormal(mode: bool) -> bool:
    """Whether flushing denormal floats to zero is supported (PyTorch sets the CPU's FTZ/DAZ
    flags): NumPy gives no way to set them, so False, as PyTorch answers on a CPU without."""
    if not isinstance(mode, bool):
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return False
