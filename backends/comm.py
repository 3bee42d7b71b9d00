"""What `autodiff.distributed` needs to hand backend arrays to a communication library.

MPI (through mpi4py) reads and writes any object with the buffer protocol, in place: for a NumPy
array that is the array itself, so a collective on a CPU tensor costs no copy. The tape never
sees NumPy; it asks here for "the buffer of this array".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Backend


def host_buffer(backend: Backend, array: Any, *, writable: bool = True) -> Any:
    """`array` as a buffer-protocol object that MPI may read (and write, when `writable`) in
    place: the NumPy array itself, never a copy.

    Raises ValueError for arrays MPI cannot take whole: not on the host (the caller names the
    right backend) or not one contiguous block (PyTorch's "Tensors must be contiguous")."""
    if backend.device.type != "cpu" or not isinstance(array, np.ndarray):
        raise ValueError(f"not a host array: {backend.device} holds it")
    return check_dense(array, writable)


def check_dense(array: Any, writable: bool = True) -> Any:
    """`array` itself when it is one contiguous block (writable if asked); ValueError otherwise.
    Works for NumPy and CuPy arrays alike."""
    if not array.flags.c_contiguous:
        raise ValueError("Tensors must be contiguous")
    if writable and not getattr(array.flags, "writeable", True):
        raise ValueError("Tensors must be writable (this one is a read-only view, e.g. expand())")
    return array


def divide_(array: Any, divisor: int) -> None:
    """array /= divisor in place (ReduceOp.AVG after a sum); on CuPy, queued on the current
    stream."""
    array /= divisor



def flatten_concat(backend: Backend, arrays: list[Any]) -> Any:
    """One new 1-d array holding `arrays` one after another (a DDP bucket): a single copy."""
    if isinstance(arrays[0], np.ndarray):
        return np.concatenate([array.reshape(-1) for array in arrays])
    return backend.concat([backend.reshape(array, (-1,)) for array in arrays])


def split_views(flat: Any, spans: list[tuple[int, int]], shapes: list[tuple[int, ...]]
                ) -> list[Any]:
    """Views of `flat[start:stop]` reshaped to each shape (no copies; NumPy and CuPy alike)."""
    return [flat[start:stop].reshape(shape) for (start, stop), shape in zip(spans, shapes)]
