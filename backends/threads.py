"""The CPU's thread pool: the threads of the BLAS that NumPy (and SciPy) call for matrix
products and factorizations. NumPy's own elementwise loops are single-threaded, so the BLAS
pool is the one intra-op thread count there is.

The BLAS is found among the shared libraries the process has loaded (Linux: /proc/self/maps)
and driven through its own C entry points: OpenBLAS (NumPy's and SciPy's wheels, with or
without their `scipy_` symbol prefix), MKL and BLIS. Where none is found (macOS Accelerate,
another platform) the thread count cannot be set, and `controllable()` says so.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass

import numpy  # noqa: F401 - loads NumPy's BLAS, the one to find


@dataclass(frozen=True)
class Blas:
    """One loaded BLAS library and its thread-control functions."""

    path: str
    vendor: str  # "openblas", "mkl" or "blis"
    set_threads: ctypes._CFuncPtr  # type: ignore[name-defined]
    get_threads: ctypes._CFuncPtr  # type: ignore[name-defined]
    parallel: ctypes._CFuncPtr | None  # type: ignore[name-defined]  # OpenBLAS's threading kind


# (vendor, name in the path, set symbols, get symbols, threading-kind symbols), each symbol list
# in the order tried.
_VENDORS = (
    ("openblas", "openblas",
     ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
      "openblas_set_num_threads64_", "openblas_set_num_threads"),
     ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
      "openblas_get_num_threads64_", "openblas_get_num_threads"),
     ("scipy_openblas_get_parallel64_", "scipy_openblas_get_parallel",
      "openblas_get_parallel64_", "openblas_get_parallel")),
    ("mkl", "mkl_rt", ("MKL_Set_Num_Threads",), ("MKL_Get_Max_Threads",), ()),
    ("blis", "libblis", ("bli_thread_set_num_threads",), ("bli_thread_get_num_threads",), ()),
)


def loaded_blas() -> list[Blas]:
    """The BLAS libraries loaded in this process that expose thread control."""
    found = []
    for path in _loaded_library_paths():
        name = os.path.basename(path).lower()
        for vendor, marker, setters, getters, parallel in _VENDORS:
            if marker not in name:
                continue
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            set_threads = _symbol(library, setters)
            get_threads = _symbol(library, getters)
            if set_threads is not None and get_threads is not None:
                found.append(Blas(path, vendor, set_threads, get_threads,
                                  _symbol(library, parallel)))
    return found


def _loaded_library_paths() -> list[str]:
    if not sys.platform.startswith("linux"):
        return []
    paths: list[str] = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                parts = line.split(maxsplit=5)
                if len(parts) == 6 and ".so" in parts[5] and parts[5].strip() not in paths:
                    paths.append(parts[5].strip())
    except OSError:
        return []
    return paths


def _symbol(library: ctypes.CDLL, names: tuple[str, ...]) -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    for name in names:
        try:
            function = getattr(library, name)
        except AttributeError:
            continue
        function.restype = ctypes.c_int
        return function
    return None


def controllable() -> bool:
    """Whether the CPU's thread count can be set here."""
    return bool(loaded_blas())


def set_num_threads(count: int) -> None:
    """Set every loaded BLAS's thread count (returns quietly where there is none)."""
    for blas in loaded_blas():
        blas.set_threads(ctypes.c_int(count))


def get_num_threads() -> int | None:
    """The thread count of NumPy's BLAS, or None where unknown."""
    found = sorted(loaded_blas(), key=lambda blas: "numpy" not in blas.path)
    return int(found[0].get_threads()) if found else None


def vendors() -> set[str]:
    return {blas.vendor for blas in loaded_blas()}


def uses_openmp() -> bool:
    """Whether a loaded BLAS runs its threads with OpenMP (OpenBLAS reports 2 for that)."""
    return any(blas.parallel is not None and int(blas.parallel()) == 2
               for blas in loaded_blas())
