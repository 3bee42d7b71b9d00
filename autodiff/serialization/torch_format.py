"""PyTorch's checkpoint formats, read and written without PyTorch.

The zip format (`torch.save` since 1.6): one top-level folder `<name>/` holding
    data.pkl          the object, pickled (protocol 2); each storage is a persistent id
                      ("storage", torch.FloatStorage, key, location, numel)
    data/<key>        each storage's raw bytes, stored uncompressed, aligned to 64 bytes
    byteorder         "little" or "big" (absent: little)
    .format_version, .storage_alignment, version, .data/serialization_id
The legacy format (before 1.6, `_use_new_zipfile_serialization=False`) is a stream of pickles:
a magic number, a protocol version, system information, the object (persistent ids
("storage", type, key, location, numel, view)), the list of storage keys, then each storage as
an int64 element count and its little-endian bytes.

With `weights_only=True` the pickle is read by the restricted machine of `unpickler.py`; with
`weights_only=False` by Python's unpickler, which imports and calls what the file names (only
for files from a trusted source, as in PyTorch). Either way PyTorch's own names resolve to
autodiff's objects (`torch_names.py`). Each storage is read straight into its array (or mapped,
with `mmap=True`), put on its device once, and shared by every tensor that views it.
"""

from __future__ import annotations

import io
import os
import pickle
import secrets
import struct
import zipfile
from collections.abc import Callable
from typing import Any

from backends import get_backend
from backends import serialization as host

from ..tensor import Tensor, _wrap
from .errors import CheckpointError
from .locations import is_callable_map, restore_backend
from .members import MemberReader
from .pickler import StorageTable, TorchPickler
from .skip_data import skipping
from .torch_names import Storage, StorageType, TorchGlobals
from .unpickler import Unpickler, python3_name, user_allowed_globals

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_ALIGNMENT = 64
_ALIGNMENT_FIELD = 0x4246  # the extra-field id PyTorch pads local headers with ("FB")

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will "
    "likely succeed, but it can result in arbitrary code execution. Do it only if you got the "
    "file from a trusted source."
)
_DOCS_MESSAGE = (
    "\n\nCheck the documentation of torch.load to learn more about types accepted by default "
    "with weights_only https://pytorch.org/docs/stable/generated/torch.load.html."
)


def weights_only_message(message: str) -> str:
    """PyTorch's wording around a refusal of the weights-only unpickler."""
    if "was not an allowed global by default." in message:
        return (
            "Weights only load failed. This file can still be loaded, to do so you have two "
            "options, \033[1mdo those steps only if you trust the source of the "
            f"checkpoint\033[0m. \n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with "
            "`weights_only=True` please check the recommended steps in the following error "
            "message.\n\tWeightsUnpickler error: " + message + _DOCS_MESSAGE
        )
    text = f"Weights only load failed. {UNSAFE_MESSAGE}\n"
    if "is blocked" not in message:
        text += ("Please file an issue with the following so that we can make "
                 "`weights_only=True` compatible with your use case: WeightsUnpickler error: ")
    return text + "\n\n" + message + _DOCS_MESSAGE


class LoadOptions:
    """How one load unpickles and places what it reads."""

    def __init__(self, map_location: Any, weights_only: bool, pickle_module: Any,
                 pickle_load_args: dict[str, Any]) -> None:
        self.map_location = map_location
        self.weights_only = weights_only
        self.pickle_module = pickle_module
        self.pickle_load_args = pickle_load_args
        self.names = TorchGlobals(self.restore_tensor)
        # Read now, so a malformed allowlist is reported as itself, not as a damaged file.
        self.user_globals = user_allowed_globals() if weights_only else {}

    # ------------------------------------------------------------------------- placement
    def place(self, storage: Any, dtype: str, location: str) -> Storage:
        """A host storage read from the file, put where `map_location` says."""
        cpu = get_backend("cpu")
        if is_callable_map(self.map_location):
            moved = self.map_location(_wrap(storage, cpu), location)
            if moved is not None:
                if not isinstance(moved, Tensor) or moved.dtype.name != dtype or \
                        tuple(moved.shape) != tuple(storage.shape):
                    raise TypeError("map_location must return None or a 1-D tensor of the "
                                    "storage's dtype and size (the storage it was given, on "
                                    "any device)")
                return Storage(moved._data, moved._backend, dtype)
            backend = restore_backend(location, None)
        else:
            backend = restore_backend(location, self.map_location)
        if backend is cpu:
            return Storage(storage, cpu, dtype)
        try:
            return Storage(backend.transfer(storage, cpu), backend, dtype)
        except (TypeError, ValueError, KeyError) as error:  # not the file's fault
            raise RuntimeError(f"cannot put a {dtype} storage on {backend.device}: "
                               f"{error}") from None

    def restore_tensor(self, tensor: Tensor, location: str) -> Tensor:
        """A whole CPU tensor moved where a storage tagged `location` would go."""
        flat = tensor._backend.reshape(tensor._data, (-1,))
        placed = self.place(flat, tensor.dtype.name, location)
        return _wrap(placed.backend.reshape(placed.array, tuple(tensor.shape)), placed.backend)

    # ------------------------------------------------------------------------- unpickling
    def unpickle(self, stream: Any, persistent_load: Callable[[Any], Any]) -> Any:
        table = self.names.table
        unsupported = TorchGlobals.unsupported()
        if self.weights_only:
            allowed = {**self.user_globals, **table}
            encoding = self.pickle_load_args.get("encoding", "utf-8")
            return Unpickler(stream, allowed, unsupported, persistent_load,
                             encoding=encoding).load()

        class FullUnpickler(self.pickle_module.Unpickler):  # type: ignore[name-defined]
            def find_class(self, module: str, name: str) -> Any:
                module, name = python3_name(module, name)
                full_path = f"{module}.{name}"
                if full_path in table:
                    return table[full_path]
                if full_path in unsupported:
                    raise CheckpointError(f"{full_path}: {unsupported[full_path]}")
                return super().find_class(module, name)

            def persistent_load(self, pid: Any) -> Any:
                return persistent_load(pid)

        return FullUnpickler(stream, **self.pickle_load_args).load()


def default_allowed_globals() -> list[str]:
    """The globals `load(weights_only=True)` builds without an allowlist, by full name."""
    return list(TorchGlobals(lambda tensor, location: tensor).table)


def _text(value: Any, what: str) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii")
    if not isinstance(value, str):
        raise CheckpointError(f"invalid {what} {value!r}")
    return value


def _storage_type(value: Any) -> StorageType:
    if not isinstance(value, StorageType):
        raise CheckpointError(f"invalid storage type {value!r}")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CheckpointError(f"invalid storage size {value!r}")
    return value


# ----------------------------------------------------------------------------- the zip format
def is_torch_zip(names: list[str]) -> bool:
    return any(name.count("/") == 1 and name.endswith("/data.pkl") for name in names)


def read_zip(members: MemberReader, options: LoadOptions) -> Any:
    names = members.names()
    folders = {name.split("/", 1)[0] for name in names if name.endswith("/data.pkl")}
    if len(folders) != 1:
        raise CheckpointError(f"expected one data.pkl, found it in {sorted(folders)}")
    prefix = folders.pop() + "/"
    if prefix + "constants.pkl" in members:
        raise CheckpointError("this is a TorchScript archive (torch.jit.save); autodiff reads "
                              "checkpoints written by torch.save")
    byteorder = b"little"
    if prefix + "byteorder" in members:
        byteorder = members.read_small(prefix + "byteorder", limit=16)
        if byteorder not in (b"little", b"big"):
            raise CheckpointError(f"Unknown endianness type: {byteorder.decode(errors='replace')}")
    storages: dict[str, Storage] = {}

    def persistent_load(pid: Any) -> Storage:
        if not isinstance(pid, tuple) or len(pid) != 5 or _text(pid[0], "id") != "storage":
            raise CheckpointError(f"unexpected persistent id {pid!r}")
        storage_type = _storage_type(pid[1])
        key = _text(pid[2], "storage key")
        location = _text(pid[3], "location")
        count = _count(pid[4])
        storage = storages.get(key)
        if storage is None:
            if skipping():  # uninitialized memory of the storage's size
                array = host.empty_storage(storage_type.dtype, count)
            else:
                array = members.read_storage(f"{prefix}data/{key}", storage_type.dtype, count)
                host.to_native_order(array, big_endian=byteorder == b"big")
                try:
                    host.check_bool(array)
                except ValueError as error:
                    raise CheckpointError(str(error)) from None
            storage = storages[key] = options.place(array, storage_type.dtype, location)
        elif storage.dtype != storage_type.dtype or storage.numel != count:
            raise CheckpointError(f"storage {key} is named twice with different dtypes or sizes")
        return storage

    data = members.read_small(prefix + "data.pkl")
    return options.unpickle(io.BytesIO(data), persistent_load)


# ----------------------------------------------------------------------------- the legacy format
def is_legacy(head: bytes) -> bool:
    """A legacy checkpoint opens with a protocol 2 pickle of the magic number."""
    return head[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05") or \
        head.startswith(b"\x8a\x0a")


def is_tar(head: bytes) -> bool:
    return head[257:262] == b"ustar"


def _plain(stream: Any, encoding: str) -> Any:
    """A pickle of plain data (numbers, strings, containers) in the legacy stream."""
    def no_storage(pid: Any) -> Any:
        raise CheckpointError("unexpected persistent id")

    return Unpickler(stream, {}, {}, no_storage, encoding=encoding).load()


def read_legacy(stream: Any, options: LoadOptions) -> Any:
    encoding = options.pickle_load_args.get("encoding", "utf-8")
    if _plain(stream, encoding) != MAGIC_NUMBER:
        raise CheckpointError("Invalid magic number; corrupt file?")
    protocol = _plain(stream, encoding)
    if protocol != PROTOCOL_VERSION:
        raise CheckpointError(f"Invalid protocol version: {protocol}")
    _plain(stream, encoding)  # system information; storages are little-endian whatever it says
    start = stream.tell()
    # The storages' bytes follow the object's pickle, but reading them needs their dtypes, named
    # in that pickle: a first pass only collects them (nothing is built or called).
    found: dict[str, tuple[str, int, str]] = {}

    def collect(pid: Any) -> None:
        if isinstance(pid, tuple) and len(pid) == 6 and _text(pid[0], "id") == "storage":
            found[_text(pid[2], "storage key")] = (
                _storage_type(pid[1]).dtype, _count(pid[4]), _text(pid[3], "location"))

    Unpickler(stream, options.names.table, {}, collect, encoding=encoding, scan=True).load()
    keys = _plain(stream, encoding)
    if not isinstance(keys, list):
        raise CheckpointError("the storage key list is missing")
    roots: dict[str, Storage] = {}
    for key in keys:
        key = _text(key, "storage key")
        if key not in found:
            raise CheckpointError(f"storage {key} is not named by the pickle")
        dtype, count, location = found[key]
        header = stream.read(8)
        if len(header) != 8 or struct.unpack("<q", header)[0] != count:
            raise CheckpointError(f"storage {key}: its size record does not match ({count})")
        array = host.empty_storage(dtype, count)
        try:
            host.read_into(stream, array)
        except ValueError as error:
            raise CheckpointError(f"storage {key} is truncated: {error}") from None
        host.to_native_order(array, big_endian=False)
        try:
            host.check_bool(array)
        except ValueError as error:
            raise CheckpointError(str(error)) from None
        roots[key] = options.place(array, dtype, location)
    views: dict[str, Storage] = {}

    def persistent_load(pid: Any) -> Any:
        if isinstance(pid, tuple) and pid and _text(pid[0], "id") == "module":
            if options.weights_only or len(pid) != 4:
                raise pickle.UnpicklingError("Only persistent_load of storage is allowed")
            return pid[1]  # a pickled nn.Module class, with its source (not compared here)
        if not isinstance(pid, tuple) or len(pid) != 6 or _text(pid[0], "id") != "storage":
            raise CheckpointError(f"unexpected persistent id {pid!r}")
        key = _text(pid[2], "storage key")
        if key not in roots:
            raise CheckpointError(f"storage {key} has no data")
        root = roots[key]
        view = pid[5]
        if view is None:
            return root
        if not isinstance(view, tuple) or len(view) != 3:
            raise CheckpointError(f"invalid storage view {view!r}")
        view_key = _text(view[0], "view key")
        if view_key not in views:
            offset, count = _count(view[1]), _count(view[2])
            if offset + count > root.numel:
                raise CheckpointError(f"storage view {view_key} lies outside its storage")
            array = root.backend.getitem(root.array, slice(offset, offset + count))
            views[view_key] = Storage(array, root.backend, root.dtype)
        return views[view_key]

    end = stream.tell()
    stream.seek(start)
    result = options.unpickle(stream, persistent_load)
    stream.seek(end)
    return result


# ----------------------------------------------------------------------------- writing
def write_zip(obj: Any, stream: Any, archive_name: str, protocol: int) -> None:
    """`obj` in the zip format, as torch.save writes it (storages 64-byte aligned)."""
    from ..utils.serialization import config

    alignment = config.save.storage_alignment
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise ValueError(f"config.save.storage_alignment must be a power of two, got "
                         f"{alignment!r}")
    storages = StorageTable()
    pickled = io.BytesIO()
    TorchPickler(pickled, protocol, storages).dump(obj)
    prefix = archive_name + "/"
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        _write_record(archive, stream, prefix + "data.pkl", pickled.getbuffer())
        _write_record(archive, stream, prefix + ".format_version", b"1")
        _write_record(archive, stream, prefix + ".storage_alignment",
                      str(alignment).encode())
        _write_record(archive, stream, prefix + "byteorder", b"little")
        for record in storages.records:
            data: Any = host.storage_bytes(record.root)
            if skipping():  # the member at its size, holding zeros
                data = bytes(data.nbytes)
            _write_record(archive, stream, f"{prefix}data/{record.key}", data, alignment)
        _write_record(archive, stream, prefix + "version", b"3\n")
        _write_record(archive, stream, prefix + ".data/serialization_id",
                      str(secrets.randbits(64)).zfill(20).encode())


def _write_record(archive: zipfile.ZipFile, stream: Any, name: str, data: Any,
                  alignment: int = STORAGE_ALIGNMENT) -> None:
    """One stored member whose data starts at a multiple of `alignment` bytes in the file (64,
    or config.save.storage_alignment for storages, so that mmap=True gives aligned arrays),
    padded as PyTorch pads: an extra field in the local header."""
    size = memoryview(data).nbytes
    large = size >= zipfile.ZIP64_LIMIT
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size
    try:
        position = stream.tell()
    except (AttributeError, OSError):
        position = None
    if position is not None:
        header = 30 + len(name.encode("utf-8")) + 4 + (20 if large else 0)
        padding = -(position + header) % alignment
        info.extra = struct.pack("<HH", _ALIGNMENT_FIELD, padding) + b"Z" * padding
    with archive.open(info, "w", force_zip64=large) as member:
        member.write(data)


def archive_name(f: Any) -> str:
    """The top-level folder torch.save uses: the file's name without its extension."""
    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        if stem and stem.isascii() and "/" not in stem:
            return stem
    return "archive"

