"""Host arrays to and from checkpoint bytes, for `autodiff.save` / `autodiff.load` and safetensors.

Every array here lives on the host (a NumPy array, the CPU backend's kind); the checkpoint code
moves storages to their device after reading them. Nothing here can run code: bytes become
numbers through `numpy.frombuffer`, `readinto` and `numpy.memmap`, and nothing else.

Checkpoint bytes are little-endian whatever the machine (bool and 8-bit types have no byte order).
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Backend

_DISK_DTYPES = {
    "bool": "|b1", "uint8": "|u1", "int8": "|i1", "int16": "<i2", "int32": "<i4",
    "int64": "<i8", "float16": "<f2", "float32": "<f4", "float64": "<f8",
}
try:  # bfloat16 storages need ml_dtypes' NumPy dtype (a dependency; refused without it)
    import ml_dtypes

    _DISK_DTYPES["bfloat16"] = np.dtype(ml_dtypes.bfloat16).newbyteorder("<")
except ImportError:  # pragma: no cover
    pass
_CHUNK = 16 << 20  # bytes per read from a compressed stream


def itemsize(dtype: str) -> int:
    return np.dtype(_DISK_DTYPES[dtype]).itemsize


# ----------------------------------------------------------------------------- whole arrays
def array_to_buffer(backend: Backend, array: Any) -> memoryview:
    """The array's bytes (C order, little-endian), copied to the host if it lives elsewhere."""
    host = np.asarray(backend.to_numpy(array))
    disk = np.dtype(_DISK_DTYPES[backend.dtype_name(array)])
    host = np.ascontiguousarray(host, dtype=disk)
    return host.reshape(-1).view(np.uint8).data  # a memoryview of the bytes, no copy


def check_shape(dtype: str, shape: tuple[int, ...]) -> int:
    """The byte size of an array of `dtype` and `shape`; ValueError if either is not valid."""
    if dtype not in _DISK_DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}")
    if any(not isinstance(size, int) or isinstance(size, bool) or size < 0 for size in shape):
        raise ValueError(f"invalid shape {list(shape)}")
    return math.prod(shape) * itemsize(dtype)


def check_bool(storage: Any) -> None:
    """ValueError if a bool array read from bytes holds bytes other than 0 and 1."""
    if storage.dtype == np.bool_ and storage.size and storage.view(np.uint8).max() > 1:
        raise ValueError("bool data holds bytes other than 0 and 1")


# ----------------------------------------------------------------------------- storages
def empty_storage(dtype: str, count: int) -> Any:
    """A new 1-D host array to read `count` elements into."""
    return np.empty(count, dtype=np.dtype(_DISK_DTYPES[dtype]).newbyteorder("="))


def writable_bytes(storage: Any) -> memoryview:
    """The bytes of a C-contiguous host array, writable: `readinto` fills the array itself."""
    return memoryview(storage.reshape(-1).view(np.uint8))


def read_into(stream: Any, storage: Any) -> None:
    """Fill `storage` from `stream` (a file, or a decompressing reader), no extra copy for a
    file; ValueError if the stream ends first."""
    target = writable_bytes(storage)
    filled = 0
    total = target.nbytes
    while filled < total:
        count = stream.readinto(target[filled:filled + _CHUNK])
        if not count:
            raise ValueError(f"the data ends after {filled} of {total} bytes")
        filled += count


def map_file(path: str | os.PathLike[str]) -> Any:
    """The file's bytes, mapped copy-on-write (writes stay in this process, as torch's
    mmap=True does by default)."""
    return np.memmap(path, dtype=np.uint8, mode="c")


def mapped_storage(mapped: Any, offset: int, dtype: str, count: int) -> Any:
    """`count` elements of `dtype` at byte `offset` of a mapped file, without copying."""
    disk = np.dtype(_DISK_DTYPES[dtype]).newbyteorder("=")
    return np.frombuffer(mapped, dtype=disk, count=count, offset=offset)


def reinterpret(storage: Any, dtype: str) -> Any:
    """A host byte storage's memory seen as elements of `dtype` (no copy)."""
    return storage.view(np.dtype(_DISK_DTYPES[dtype]).newbyteorder("="))


def to_native_order(storage: Any, big_endian: bool) -> None:
    """Swap a storage read from a file written big-endian (or little-endian, on a big-endian
    machine) into this machine's order, in place."""
    if storage.dtype.itemsize > 1 and big_endian != (sys.byteorder == "big"):
        storage.byteswap(inplace=True)


def array_from_buffer(backend: Backend, buffer: bytes, dtype: str,
                      shape: tuple[int, ...]) -> Any:
    """An array of `backend` holding `buffer`'s values; ValueError if the bytes cannot be an
    array of that dtype and shape."""
    expected = check_shape(dtype, shape)
    if len(buffer) != expected:
        raise ValueError(
            f"{len(buffer)} bytes of data for a {dtype} array of shape {list(shape)} "
            f"(expected {expected})"
        )
    disk = np.dtype(_DISK_DTYPES[dtype])
    host = np.frombuffer(buffer, dtype=disk).reshape(shape)
    check_bool(host)
    # A copy in native byte order: writable, owned, independent of the file's buffer.
    return backend.from_numpy(host.astype(disk.newbyteorder("="), copy=True))


# ----------------------------------------------------------------------------- saving storages
@dataclass(frozen=True)
class StorageView:
    """Where a host array's elements lie in the memory it views.

    `root` is the contiguous array that owns (or first views) that memory; the array's element
    `(i, j, ...)` is `root.flat[offset + i*strides[0] + j*strides[1] + ...]`."""

    root: Any
    offset: int
    strides: tuple[int, ...]

    @property
    def numel(self) -> int:
        return int(self.root.size)


def storage_view(array: Any) -> StorageView | None:
    """The storage a host array views, so that arrays sharing memory are saved as one storage;
    None when the array is not a host array or its memory cannot be described that way (then it
    is saved as a storage of its own)."""
    if not isinstance(array, np.ndarray):
        return None
    root = array
    while isinstance(root.base, np.ndarray):
        root = root.base
    size = array.itemsize
    if (root.dtype != array.dtype or not root.flags.c_contiguous
            or any(stride < 0 or stride % size for stride in array.strides)):
        return None
    distance = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if distance < 0 or distance % size:
        return None
    offset = distance // size
    strides = tuple(stride // size for stride in array.strides)
    last = offset + sum((extent - 1) * stride for extent, stride in zip(array.shape, strides))
    if array.size and last >= root.size:
        return None
    return StorageView(root, offset, strides)


def contiguous_host(backend: Backend, array: Any) -> Any:
    """A C-contiguous host copy of any backend's array (the array itself when it already is)."""
    host = np.asarray(backend.to_numpy(array))
    return host if host.flags.c_contiguous else host.copy(order="C")  # keeps 0-d arrays 0-d


def storage_bytes(root: Any) -> memoryview:
    """A C-contiguous host array's bytes in little-endian order (a view unless the machine is
    big-endian)."""
    flat = root.reshape(-1)
    if sys.byteorder == "big" and flat.dtype.itemsize > 1:
        flat = flat.astype(flat.dtype.newbyteorder("<"))
    return memoryview(flat.view(np.uint8))


# ----------------------------------------------------------------------------- safetensors
def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy
    except ImportError as error:
        raise RuntimeError(
            "Attempting to load a safetensors file but safetensors is not installed. Please "
            f"install safetensors with: pip install safetensors ({error})"
        ) from None
    return safetensors.numpy


# safetensors' dtype names for the ones autodiff has
_SAFETENSORS_DTYPES = {
    "BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64",
    "F16": "float16", "F32": "float32", "F64": "float64",
}
if "bfloat16" in _DISK_DTYPES:
    _SAFETENSORS_DTYPES["BF16"] = "bfloat16"


def safetensors_dtypes(path: str | os.PathLike[str]) -> dict[str, str]:
    """Each tensor's safetensors dtype code ("F32", "BF16", ...), from the file's header."""
    import safetensors

    _safetensors_numpy()
    with safetensors.safe_open(os.fspath(path), framework="np") as opened:
        return {name: opened.get_slice(name).get_dtype() for name in opened.keys()}  # noqa: SIM118


def safetensors_bytes_dtypes(data: bytes) -> dict[str, str]:
    """The same for a safetensors file held in memory: the header is 8 bytes of length, then
    JSON (anything malformed is left for the package to refuse)."""
    try:
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(bytes(data[8:8 + length]))
        return {name: entry["dtype"] for name, entry in header.items()
                if name != "__metadata__" and isinstance(entry, dict)}
    except (struct.error, ValueError, KeyError, TypeError, AttributeError):
        return {}


def safetensors_dtype_name(code: str) -> str | None:
    """autodiff's dtype name for a safetensors dtype code, or None when autodiff has none."""
    return _SAFETENSORS_DTYPES.get(code)


def safetensors_load_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    if "BF16" in safetensors_dtypes(path).values():
        # The package's NumPy loader has no bfloat16: the file's bytes go through `load`.
        with open(path, "rb") as file:
            return safetensors_load(file.read())
    return dict(_safetensors_numpy().load_file(os.fspath(path)))


def safetensors_load(data: bytes) -> dict[str, Any]:
    """The package's parse of the file (offsets and sizes checked there), each tensor's bytes
    seen as its dtype (bfloat16 too, which the package's NumPy API lacks)."""
    import safetensors

    _safetensors_numpy()
    arrays = {}
    for name, view in safetensors.deserialize(data):
        disk = np.dtype(_DISK_DTYPES[_SAFETENSORS_DTYPES[view["dtype"]]])
        arrays[name] = np.frombuffer(view["data"], dtype=disk).reshape(view["shape"])
    return arrays


def safetensors_save_file(arrays: dict[str, Any], path: str | os.PathLike[str],
                          metadata: dict[str, str] | None) -> None:
    _safetensors_numpy().save_file(arrays, os.fspath(path), metadata=metadata)


def safetensors_save(arrays: dict[str, Any], metadata: dict[str, str] | None) -> bytes:
    return bytes(_safetensors_numpy().save(arrays, metadata=metadata))
