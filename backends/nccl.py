"""NCCL collectives on CuPy arrays, through CuPy's own binding (`cupy.cuda.nccl`).

Imported only by `autodiff.distributed` for `init_process_group("nccl")`. Every collective is
queued on the current CUDA stream of the array's device, so it is ordered after the kernels that
produced its input and before the ones that read its output, with no host synchronisation;
`record()` returns an event the caller may poll (that is how timeouts are enforced).

Not exercised by this repository's CI (no GPU there): written against CuPy's documented
`NcclCommunicator` API (allReduce / broadcast / allGather / reduceScatter on device pointers).
"""

from __future__ import annotations

import time
from typing import Any

import cupy

try:
    from cupy.cuda import nccl as _nccl
except ImportError:  # CuPy built without NCCL support
    _nccl = None

# NCCL has no int16 or bool; bool travels as uint8, where max is a logical or and min an and.
_DTYPES = {
    "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "bool": "NCCL_UINT8", "int32": "NCCL_INT32",
    "int64": "NCCL_INT64", "float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32",
    "float64": "NCCL_FLOAT64",
}
_OPS = {"sum": "NCCL_SUM", "product": "NCCL_PROD", "max": "NCCL_MAX", "min": "NCCL_MIN",
        "lor": "NCCL_MAX", "land": "NCCL_MIN"}


def unavailable_reason() -> str | None:
    """Why NCCL cannot be used from CuPy here, or None when it can."""
    if _nccl is None or not getattr(_nccl, "available", False):
        return ("CuPy was built without NCCL (cupy.cuda.nccl is unavailable): install NCCL for "
                "CuPy with `python -m cupyx.tools.install_library --library nccl --cuda 12.x`, "
                "or use a CuPy build that ships it (e.g. conda-forge's cupy)")
    return None


def unique_id() -> bytes:
    """A fresh NCCL unique id (rank 0 makes it; every rank needs the same one)."""
    return bytes(value & 0xFF for value in _nccl.get_unique_id())


class NcclCommunicator:
    """One rank's NCCL communicator, bound to CUDA device `device_index`."""

    def __init__(self, world_size: int, uid: bytes, rank: int, device_index: int) -> None:
        self.device_index = device_index
        # get_unique_id gives C chars (signed); the constructor wants them back the same way.
        signed = tuple(byte - 256 if byte > 127 else byte for byte in uid)
        with cupy.cuda.Device(device_index):
            self._comm = _nccl.NcclCommunicator(world_size, signed, rank)

    # ----------------------------------------------------------------------------- collectives
    def all_reduce(self, array: Any, op: str) -> None:
        """In place: every rank's `array` becomes the reduction over ranks."""
        datatype, nccl_op = self._types(array, op)
        self._comm.allReduce(array.data.ptr, array.data.ptr, array.size, datatype, nccl_op,
                             _stream())

    def broadcast(self, array: Any, root: int) -> None:
        datatype, _ = self._types(array, None)
        self._comm.broadcast(array.data.ptr, array.data.ptr, array.size, datatype, root,
                             _stream())

    def all_gather(self, send: Any, recv: Any) -> None:
        """recv (world_size * send.size elements) receives every rank's `send`, in rank order."""
        datatype, _ = self._types(send, None)
        self._comm.allGather(send.data.ptr, recv.data.ptr, send.size, datatype, _stream())

    def reduce_scatter(self, send: Any, recv: Any, op: str) -> None:
        """recv receives block `rank` of the reduction over ranks of `send`."""
        datatype, nccl_op = self._types(send, op)
        self._comm.reduceScatter(send.data.ptr, recv.data.ptr, recv.size, datatype, nccl_op,
                                 _stream())

    def exchange_ints(self, values: list[int], deadline: float) -> list[list[int]] | None:
        """Every rank's `values` (same length everywhere), or None past `deadline`."""
        with cupy.cuda.Device(self.device_index):
            send = cupy.asarray(values, dtype=cupy.int64)
            recv = cupy.empty(len(values) * self._comm.size(), dtype=cupy.int64)
            self._comm.allGather(send.data.ptr, recv.data.ptr, len(values),
                                 _nccl.NCCL_INT64, _stream())
            if not wait(record(), deadline):
                return None
            flat = recv.get().tolist()
        width = len(values)
        return [flat[start:start + width] for start in range(0, len(flat), width)]

    def abort(self) -> None:
        """Make kernels stuck in this communicator return (after a timeout); it is unusable then."""
        self._comm.abort()

    def destroy(self) -> None:
        self._comm.destroy()

    def _types(self, array: Any, op: str | None) -> tuple[int, int]:
        if not array.flags.c_contiguous:
            raise ValueError("Tensors must be contiguous")
        name = array.dtype.name
        if name not in _DTYPES:
            raise TypeError(f"NCCL has no type for {name} tensors")
        return getattr(_nccl, _DTYPES[name]), 0 if op is None else getattr(_nccl, _OPS[op])


def _stream() -> int:
    return cupy.cuda.get_current_stream().ptr


def record() -> Any:
    """An event marking the end of the work queued so far on the current stream."""
    event = cupy.cuda.Event(block=False, disable_timing=True)
    event.record(cupy.cuda.get_current_stream())
    return event


def wait(event: Any, deadline: float) -> bool:
    """Poll `event` until it has happened (True) or `deadline` (time.monotonic()) passes."""
    while not event.done:
        if time.monotonic() >= deadline:
            return False
        time.sleep(50e-6)
    return True

