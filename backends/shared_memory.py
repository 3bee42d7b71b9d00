"""CPU arrays in memory other processes map: Tensor.share_memory_ and torch.multiprocessing.

An array is shared when it lies in a `Segment`: a memory mapping (MAP_SHARED) of a file in
shared memory, so a forked child writes into the same pages, and a process that is handed the
file (its descriptor, or its name) maps the same pages too. Two ways to hand it over, as
PyTorch's sharing strategies:

- "file_descriptor" (the default on Linux): the file has no name (memfd, or unlinked at once);
  its descriptor travels to the other process (multiprocessing's DupFd, SCM_RIGHTS). The
  memory goes when the last mapping and descriptor close.
- "file_system": the file has a name under /dev/shm, which travels; the process that made it
  unlinks it when its segment is collected (or at exit), so a receiver must map it before then.

A process that receives the same file twice (two tensors of one storage, or the same tensor
sent twice) maps it once: received segments are cached by the file's identity.
"""

from __future__ import annotations

import contextlib
import itertools
import mmap
import os
import secrets
import sys
import tempfile
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

STRATEGIES = ("file_descriptor", "file_system") if sys.platform.startswith("linux") \
    else ("file_system",)


class _Strategy:
    name = STRATEGIES[0]


_strategy = _Strategy()


def sharing_strategy() -> str:
    return _strategy.name


def set_sharing_strategy(name: str) -> None:
    if name not in STRATEGIES:
        raise AssertionError(f"invalid sharing strategy {name!r}, expected one of "
                             f"{set(STRATEGIES)}")
    _strategy.name = name


class Segment(mmap.mmap):
    """A shared mapping of a whole file; `fd` stays open (it is what "file_descriptor" sends),
    `name` is the file's name under the shared-memory folder, or None when it has none."""

    fd: int
    name: str | None
    nbytes: int
    _finalizer: Any


def _shm_folder() -> str:
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


_names = itertools.count()


def _map(fd: int, size: int, name: str | None, *, owner: bool) -> Segment:
    segment = Segment(fd, size)
    segment.fd, segment.name, segment.nbytes = fd, name, size
    path = os.path.join(_shm_folder(), name) if owner and name is not None else None
    segment._finalizer = weakref.finalize(segment, _release, fd, path)
    return segment


def _release(fd: int, path: str | None) -> None:
    os.close(fd)
    if path is not None:
        with contextlib.suppress(FileNotFoundError):  # removed by hand
            os.unlink(path)


def allocate(nbytes: int, *, named: bool) -> Segment:
    """A new zero-filled segment of `nbytes` (at least 1: an empty file cannot be mapped)."""
    size = max(nbytes, 1)
    name = None
    if named:
        name = f"autodiff_{os.getpid()}_{next(_names)}_{secrets.token_hex(4)}"
        fd = os.open(os.path.join(_shm_folder(), name), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    elif hasattr(os, "memfd_create"):
        fd = os.memfd_create("autodiff_shared", os.MFD_CLOEXEC)
    else:  # pragma: no cover - platforms without memfd: a file unlinked at once
        fd, path = tempfile.mkstemp(prefix="autodiff_", dir=_shm_folder())
        os.unlink(path)
    try:
        os.ftruncate(fd, size)
        return _map(fd, size, name, owner=True)
    except BaseException:
        os.close(fd)
        raise


def segment_of(array: Any) -> Segment | None:
    """The segment `array`'s memory lies in, or None when it is private memory."""
    base = array
    while base is not None:
        if isinstance(base, Segment):
            return base
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return None


def is_shared(array: Any) -> bool:
    base = array
    while base is not None:
        if isinstance(base, mmap.mmap):  # a Segment, or memory mapped by np.memmap(mode="r+")
            return True
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return False


def share(array: Any) -> Any:
    """`array` itself when it is in a segment the current strategy can send; otherwise a copy
    in a new segment."""
    named = _strategy.name == "file_system"
    segment = segment_of(array)
    if segment is not None and (segment.name is not None or not named):
        return array
    segment = allocate(array.nbytes, named=named)
    shared = np.frombuffer(segment, dtype=array.dtype, count=array.size).reshape(array.shape)
    shared[...] = array
    return shared


@dataclass(frozen=True)
class SharedView:
    """Where an array lies in its segment: what a receiving process rebuilds it from."""

    segment: Segment
    offset: int  # in bytes, from the segment's start
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # in bytes
    dtype: Any


def view_of(array: Any) -> SharedView:
    """`array`, which lies in a segment, as a SharedView of it."""
    segment = segment_of(array)
    assert segment is not None, "view_of needs a shared array"
    start = np.frombuffer(segment, dtype=np.uint8).__array_interface__["data"][0]
    offset = array.__array_interface__["data"][0] - start
    return SharedView(segment, offset, tuple(array.shape), tuple(array.strides), array.dtype)


def array_of(view: SharedView) -> Any:
    return np.ndarray(view.shape, dtype=view.dtype, buffer=view.segment, offset=view.offset,
                      strides=view.strides)


# The segments this process received, by the file's identity: a file is mapped once.
_received: weakref.WeakValueDictionary[Any, Segment] = weakref.WeakValueDictionary()
_received_lock = threading.Lock()


def receive_fd(fd: int, size: int) -> Segment:
    """The segment of a file received as descriptor `fd` (which it adopts, or closes when the
    file is already mapped here)."""
    stat = os.fstat(fd)
    key = ("fd", stat.st_dev, stat.st_ino)
    with _received_lock:
        segment = _received.get(key)
        if segment is not None:
            os.close(fd)
            return segment
        segment = _map(fd, size, None, owner=False)
        _received[key] = segment
        return segment


def receive_name(name: str, size: int) -> Segment:
    """The segment of the file `name` in the shared-memory folder (its maker unlinks it)."""
    key = ("name", name)
    with _received_lock:
        segment = _received.get(key)
        if segment is not None:
            return segment
        fd = os.open(os.path.join(_shm_folder(), name), os.O_RDWR)
        try:
            segment = _map(fd, size, name, owner=False)
        except BaseException:
            os.close(fd)
            raise
        _received[key] = segment
        return segment
