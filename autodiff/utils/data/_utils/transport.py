"""How a worker's answers cross to the main process: pickled by the worker, with the memory of
arrays sent out of band (pickle protocol 5: written to the pipe from where it lies, read on
the other side straight into the bytearrays the rebuilt arrays use). One message:

    number of buffers k, header length h (two little-endian uint64), k buffer sizes,
    the pickle (h bytes), then the k buffers.

On POSIX the worker writes and the main process reads the pipe's file descriptor directly
(`os.write`, `os.readv` into the destination), with the pipe enlarged to 1 MiB where Linux
allows it: a multi-megabyte batch is then a few system calls and one copy on each side.
Elsewhere the connection's own framing carries the same parts.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import sys
from typing import Any

import backends

from ....tensor import Tensor

_COUNTS = struct.Struct("<QQ")
_RAW = sys.platform != "win32" and hasattr(os, "readv")
_PIPE_BYTES = 1 << 20


class _BatchPickler(pickle.Pickler):
    """Tensors reduce to their host arrays (Tensor.__reduce_ex__), whose memory goes out of
    band. A CUDA tensor is refused: a CUDA context does not survive fork, and batches cross
    through host memory anyway."""

    def __init__(self, file: io.BytesIO, worker_id: int, buffers: list[Any]) -> None:
        super().__init__(file, protocol=5, buffer_callback=buffers.append)
        self.worker_id = worker_id

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Tensor) and obj._backend.device.type == "cuda":
            raise RuntimeError(
                f"DataLoader worker process {self.worker_id} returned a tensor on "
                f"{obj._backend.device}: batches cross from workers to the main process through "
                "host memory, so workers must return CPU tensors. Move each batch to the GPU in "
                "the main process (pin_memory=True makes that copy faster)."
            )
        return NotImplemented


class Message:
    """A pickled answer: the pickle and the out-of-band buffers of its arrays."""

    def __init__(self, header: bytes, buffers: list[Any]) -> None:
        self.header = header
        self.buffers = [buffer.raw() for buffer in buffers]

    def loads(self) -> Any:
        return pickle.loads(self.header, buffers=self.buffers)

    def send(self, connection: Any) -> None:
        sizes = [buffer.nbytes for buffer in self.buffers]
        prefix = _COUNTS.pack(len(sizes), len(self.header)) + \
            struct.pack(f"<{len(sizes)}Q", *sizes)
        if not _RAW:
            connection.send_bytes(prefix + self.header)
            for buffer in self.buffers:
                connection.send_bytes(buffer)
            return
        descriptor = connection.fileno()
        _write_all(descriptor, prefix + self.header)
        for buffer in self.buffers:
            _write_all(descriptor, buffer)


def dumps(message: Any, worker_id: int) -> Message:
    file = io.BytesIO()
    buffers: list[Any] = []
    _BatchPickler(file, worker_id, buffers).dump(message)
    return Message(file.getvalue(), buffers)


def receive(connection: Any) -> Any:
    """One message sent by `Message.send`, unpickled. Raises EOFError if the sender is gone."""
    if not _RAW:
        first = connection.recv_bytes()
        count, _ = _COUNTS.unpack_from(first)
        sizes = struct.unpack_from(f"<{count}Q", first, _COUNTS.size)
        header = first[_COUNTS.size + 8 * count:]
        buffers = [bytearray(size) for size in sizes]
        for buffer in buffers:
            if buffer:
                connection.recv_bytes_into(buffer)
            else:
                connection.recv_bytes()
        return pickle.loads(header, buffers=buffers)
    descriptor = connection.fileno()
    counts = bytearray(_COUNTS.size)
    _read_into(descriptor, memoryview(counts))
    count, header_length = _COUNTS.unpack(counts)
    rest = bytearray(8 * count + header_length)
    _read_into(descriptor, memoryview(rest))
    sizes = struct.unpack_from(f"<{count}Q", rest)
    header = bytes(rest[8 * count:])
    buffers = [_uninitialized(size) for size in sizes]
    for buffer in buffers:
        _read_into(descriptor, memoryview(buffer))
    return pickle.loads(header, buffers=buffers)


def _uninitialized(size: int) -> Any:
    """A writable host buffer of `size` bytes that the pipe's data will fill: not zeroed
    first, as a bytearray would be (a pass over every batch for nothing)."""
    return _host().empty((size,), "uint8")


def _host() -> Any:
    return backends.get_backend("cpu")


def enlarge(connection: Any) -> None:
    """Give the pipe under `connection` a 1 MiB buffer where the system allows it (fewer,
    larger writes and reads); a no-op elsewhere."""
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _write_all(descriptor: int, data: Any) -> None:
    view = memoryview(data).cast("B")
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


def _read_into(descriptor: int, view: memoryview) -> None:
    while view:
        read = os.readv(descriptor, [view])
        if read == 0:
            raise EOFError
        view = view[read:]
