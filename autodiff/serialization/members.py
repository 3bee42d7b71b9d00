"""Reading a zip checkpoint's members without trusting their headers.

A member's declared size is checked against what the reader expects before a byte is read, and
against what its compressed size can physically hold (deflate expands at most about 1032 times),
so a small file cannot make the reader allocate or inflate more than the file could contain.
Compressed data is inflated in chunks straight into its array, never past the declared size. A
stored (uncompressed) member, which is what every writer of these formats produces, is read from
the file straight into its array, or mapped with `mmap=True`: no intermediate copy either way.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import Any

from backends import serialization as host

from .errors import CheckpointError

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra field length
_DEFLATE_RATIO = 1032  # deflate's largest expansion of its input
_MIN_SMALL_LIMIT = 64 << 20  # a metadata member may always be this big


class MemberReader:
    """The members of one open archive. `stream` is the file the archive was opened on;
    `mapped` its bytes mapped into memory (mmap=True) or None; `check_crc` whether stored
    members read straight from the file are CRC-checked (the zip module checks the rest)."""

    def __init__(self, archive: zipfile.ZipFile, stream: Any, mapped: Any = None,
                 check_crc: bool = True) -> None:
        self.archive = archive
        self._stream = stream
        self._mapped = mapped
        self._check_crc = check_crc
        self._names = {info.filename: info for info in archive.infolist()}
        position = stream.tell()
        self._size = stream.seek(0, 2)
        stream.seek(position)
        self._direct = callable(getattr(stream, "readinto", None))

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def names(self) -> list[str]:
        return list(self._names)

    def info(self, name: str) -> zipfile.ZipInfo:
        info = self._names.get(name)
        if info is None:
            raise CheckpointError(f"the archive has no {name}")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise CheckpointError(f"{name} is stored but declares {info.file_size} bytes "
                                      f"in {info.compress_size}")
        elif info.file_size > _DEFLATE_RATIO * info.compress_size + 1024:
            raise CheckpointError(f"{name} declares {info.file_size} bytes from "
                                  f"{info.compress_size} compressed bytes, more than "
                                  "compression can expand to")
        return info

    def read_small(self, name: str, limit: int | None = None) -> bytes:
        """A metadata member's bytes (CRC-checked); refused when it declares more than `limit`
        bytes (by default the file's size or 64 MiB, whichever is larger)."""
        info = self.info(name)
        limit = max(self._size, _MIN_SMALL_LIMIT) if limit is None else limit
        if info.file_size > limit:
            raise CheckpointError(f"{name} declares {info.file_size} bytes, more than the "
                                  f"{limit} allowed")
        return self.archive.read(info)  # inflates at most the declared size, checks the CRC

    def read_storage(self, name: str, dtype: str, count: int) -> Any:
        """A member holding `count` elements of `dtype`, as a 1-D host array."""
        info = self.info(name)
        expected = count * host.itemsize(dtype)
        if info.file_size != expected:
            raise CheckpointError(f"{name} holds {info.file_size} bytes; {count} elements of "
                                  f"{dtype} need {expected}")
        if info.compress_type == zipfile.ZIP_STORED and (self._direct or self._mapped is not None):
            offset = self._data_offset(info)
            if offset + expected > self._size:
                raise CheckpointError(f"{name} is truncated")
            if self._mapped is not None:
                return host.mapped_storage(self._mapped, offset, dtype, count)
            storage = host.empty_storage(dtype, count)
            self._stream.seek(offset)
            self._fill(storage, self._stream, name)
            if self._check_crc and zlib.crc32(host.writable_bytes(storage)) != info.CRC:
                raise CheckpointError(f"Bad CRC-32 for file {name!r}")
            return storage
        storage = host.empty_storage(dtype, count)
        with self.archive.open(info) as member:
            self._fill(storage, member, name)
            if member.read(1):  # also where the zip module checks the CRC
                raise CheckpointError(f"{name} holds more than its declared size")
        return storage

    def _fill(self, storage: Any, stream: Any, name: str) -> None:
        try:
            host.read_into(stream, storage)
        except ValueError as error:
            raise CheckpointError(f"{name} is truncated: {error}") from None

    def _data_offset(self, info: zipfile.ZipInfo) -> int:
        """Where a member's data starts: after its local header, whose extra field (alignment
        padding, zip64 sizes) may differ from the central directory's copy."""
        self._stream.seek(info.header_offset)
        header = self._stream.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size:
            raise CheckpointError(f"{info.filename}'s header is truncated")
        signature, name_length, extra_length = _LOCAL_HEADER.unpack(header)
        if signature != b"PK\x03\x04":
            raise CheckpointError(f"{info.filename}'s header is corrupted")
        return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
