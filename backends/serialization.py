"""Arrays to and from raw bytes, for `autodiff.save` / `autodiff.load`.

The checkpoint format stores each array as its little-endian bytes plus a dtype name and shape
kept in a JSON header (see autodiff/serialization.py). Nothing here can run code: bytes become
numbers through `numpy.frombuffer` and nothing else.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import Backend

# Little-endian on disk whatever the machine; bool and 8-bit types have no byte order.
_DISK_DTYPES = {
    "bool": "|b1", "uint8": "|u1", "int8": "|i1", "int16": "<i2", "int32": "<i4",
    "int64": "<i8", "float16": "<f2", "float32": "<f4", "float64": "<f8",
}


def array_to_buffer(backend: Backend, array: Any) -> memoryview:
    """The array's bytes (C order, little-endian), copied to the host if it lives elsewhere."""
    host = np.asarray(backend.to_numpy(array))
    disk = np.dtype(_DISK_DTYPES[backend.dtype_name(array)])
    host = np.ascontiguousarray(host, dtype=disk)
    return host.reshape(-1).view(np.uint8).data  # a memoryview of the bytes, no copy


def array_from_buffer(backend: Backend, buffer: bytes, dtype: str,
                      shape: tuple[int, ...]) -> Any:
    """An array of `backend` holding `buffer`'s values; ValueError if the bytes cannot be an
    array of that dtype and shape."""
    if dtype not in _DISK_DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}")
    if any(not isinstance(size, int) or isinstance(size, bool) or size < 0 for size in shape):
        raise ValueError(f"invalid shape {list(shape)}")
    disk = np.dtype(_DISK_DTYPES[dtype])
    expected = math.prod(shape) * disk.itemsize
    if len(buffer) != expected:
        raise ValueError(
            f"{len(buffer)} bytes of data for a {dtype} array of shape {list(shape)} "
            f"(expected {expected})"
        )
    raw = np.frombuffer(buffer, dtype=np.uint8)
    if dtype == "bool" and raw.size and raw.max() > 1:
        raise ValueError("bool data holds bytes other than 0 and 1")
    # A copy in native byte order: writable, owned, independent of the file's buffer.
    host = raw.view(disk).reshape(shape).astype(disk.newbyteorder("="), copy=True)
    return backend.from_numpy(host)
