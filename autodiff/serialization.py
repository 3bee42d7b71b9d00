"""`autodiff.save` / `autodiff.load`: tensors, state dicts and nested containers in a safe format.

A checkpoint is a zip archive (stored, not compressed) holding
    autodiff/header.json   the structure of the saved object, as tagged JSON, and one entry per
                           tensor: dtype, shape, device, requires_grad, Parameter or not;
    autodiff/data/<n>      each tensor's raw little-endian bytes.
Loading reads JSON and raw numbers only: no pickle, no imports, no code of any kind runs, so a
checkpoint from an untrusted source can at worst fail to load. Zip's CRC-32 of every member is
checked, so truncated or altered files are refused with `CheckpointError`.

What can be saved: Tensors (and Parameters), dict/OrderedDict (str, int, float, bool, None or
tuple keys), list, tuple, torch.Size, int, float (inf and nan included), bool, None, str, dtypes
and devices. The same Tensor object saved twice loads as one object (tied weights stay tied).
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from backends import Device, get_backend, parse_device
from backends.serialization import array_from_buffer, array_to_buffer

from . import dtypes
from .dtypes import Size
from .tensor import Tensor, _wrap

FORMAT_NAME = "autodiff.save"
FORMAT_VERSION = 1
_HEADER = "autodiff/header.json"
_DATA = "autodiff/data/"
_MAX_DEPTH = 100  # containers nested deeper than this are refused on save and on load


class CheckpointError(RuntimeError):
    """A file that is not a valid autodiff checkpoint (truncated, altered, or another format)."""


# ----------------------------------------------------------------------------- saving
def save(obj: Any, f: str | os.PathLike[str] | Any) -> None:
    """Write `obj` to `f` (a path or a writable binary file object).

    To a path, the file is written next to its destination and renamed into place, so an
    interrupted save never leaves a half-written checkpoint under the final name.
    """
    tensors: list[Tensor] = []
    root = _encode(obj, tensors, {}, 0)
    header = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "root": root,
        "tensors": [_tensor_entry(tensor) for tensor in tensors],
    }
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        directory = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(prefix=".autodiff-save-", dir=directory)
        try:
            with os.fdopen(handle, "wb") as stream:
                _write_archive(stream, header, tensors)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
    else:
        _write_archive(f, header, tensors)


def _write_archive(stream: Any, header: dict[str, Any], tensors: list[Tensor]) -> None:
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_HEADER, json.dumps(header, allow_nan=False))
        for index, tensor in enumerate(tensors):
            archive.writestr(_DATA + str(index), array_to_buffer(tensor._backend, tensor._data))


def _tensor_entry(tensor: Tensor) -> dict[str, Any]:
    from .nn.parameter import Parameter

    return {
        "dtype": tensor._backend.dtype_name(tensor._data),
        "shape": list(tensor._data.shape),
        "device": str(tensor._backend.device),
        "requires_grad": tensor._requires_grad,
        "parameter": isinstance(tensor, Parameter),
    }


def _encode(obj: Any, tensors: list[Tensor], seen: dict[int, int], depth: int) -> Any:
    """Tagged JSON for `obj`. Plain JSON values stand for themselves; everything else is a
    one-key object naming its kind."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"autodiff.save: containers nested deeper than {_MAX_DEPTH} levels")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if math.isfinite(obj):
            return float(obj)
        return {"float": repr(float(obj))}  # 'inf', '-inf', 'nan'
    if isinstance(obj, Tensor):
        index = seen.get(id(obj))
        if index is None:
            index = seen[id(obj)] = len(tensors)
            tensors.append(obj)
        return {"tensor": index}
    depth += 1
    if isinstance(obj, dict):
        kind = "odict" if isinstance(obj, OrderedDict) else "dict"
        return {kind: [[_encode_key(key), _encode(value, tensors, seen, depth)]
                       for key, value in obj.items()]}
    if isinstance(obj, Size):
        return {"size": [int(size) for size in obj]}
    if isinstance(obj, list):
        return {"list": [_encode(item, tensors, seen, depth) for item in obj]}
    if isinstance(obj, tuple):
        return {"tuple": [_encode(item, tensors, seen, depth) for item in obj]}
    if isinstance(obj, dtypes.dtype):
        return {"dtype": obj.name}
    if isinstance(obj, Device):
        return {"device": str(obj)}
    raise TypeError(
        f"autodiff.save: cannot save an object of type {type(obj).__module__}."
        f"{type(obj).__qualname__}; the format holds tensors, dicts, lists, tuples, numbers, "
        "strings, None, dtypes and devices (it runs no code on load, so it stores no objects)"
    )


def _encode_key(key: Any) -> Any:
    if key is None or isinstance(key, (bool, int, str)):
        return _encode(key, [], {}, 0)
    if isinstance(key, float):
        return _encode(key, [], {}, 0)
    if isinstance(key, tuple):
        return {"tuple": [_encode_key(item) for item in key]}
    raise TypeError(f"autodiff.save: cannot save a dict key of type {type(key).__name__}")


# ----------------------------------------------------------------------------- loading
def load(f: str | os.PathLike[str] | Any, map_location: Any = None, pickle_module: Any = None,
         *, weights_only: bool | None = None, mmap: bool | None = None,
         **pickle_load_args: Any) -> Any:
    """Read an object written by `autodiff.save`.

    map_location: None (each tensor back on the device it was saved from), a device or device
    string (everything there), a dict {saved device: device} (e.g. {"cuda:0": "cpu"}), or a
    callable(tensor_on_cpu, saved_device_string) returning a Tensor.
    weights_only: either value loads the same way: the format never holds code, so loading is
    always as safe as PyTorch's weights_only=True. There is no pickle, and tensors are read into
    memory: pickle_module, pickle_load_args and mmap=True are refused.
    """
    if pickle_module is not None or pickle_load_args:
        given = ["pickle_module"] if pickle_module is not None else []
        raise TypeError(f"autodiff.load: {', '.join(given + sorted(pickle_load_args))} not "
                        "supported: autodiff checkpoints are not pickles")
    if mmap:
        raise ValueError("autodiff.load: mmap=True is not supported: tensors are read into "
                         "memory")
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<stream>")
    try:
        if isinstance(f, (str, os.PathLike)):
            with open(f, "rb") as stream:
                return _read_archive(stream, map_location)
        return _read_archive(f, map_location)
    except CheckpointError as error:
        raise CheckpointError(f"autodiff.load: {name} is not a valid autodiff checkpoint: "
                              f"{error}") from None


def _read_archive(stream: Any, map_location: Any) -> Any:
    if not hasattr(stream, "seek"):
        stream = io.BytesIO(stream.read())
    try:
        archive = zipfile.ZipFile(stream, "r")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise CheckpointError(
            f"not a zip archive, or truncated ({error}). Files written by pickle (or by "
            "torch.save) are not loaded: they can run arbitrary code"
        ) from None
    with archive:
        try:
            names = set(archive.namelist())
            if _HEADER not in names:
                raise CheckpointError(f"the archive has no {_HEADER} (written by another tool?)")
            header = _parse_header(archive.read(_HEADER))
            entries = header["tensors"]
            arrays = [_read_tensor_bytes(archive, index, names) for index in range(len(entries))]
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, TypeError,
                RecursionError) as error:
            if isinstance(error, CheckpointError):
                raise
            raise CheckpointError(f"corrupted or truncated ({type(error).__name__}: "
                                  f"{error})") from None
    tensors = [_make_tensor(entry, data, map_location) for entry, data in zip(entries, arrays)]
    try:
        return _decode(header["root"], tensors, 0)
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as error:
        raise CheckpointError(f"malformed structure ({type(error).__name__}: {error})") from None


def _parse_header(raw: bytes) -> dict[str, Any]:
    def refuse_constant(name: str) -> Any:
        raise ValueError(f"non-standard JSON constant {name}")

    header = json.loads(raw.decode("utf-8"), parse_constant=refuse_constant)
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise CheckpointError("the header does not name the autodiff.save format")
    if header.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"format version {header.get('version')!r} is not supported "
                              f"(this autodiff reads version {FORMAT_VERSION})")
    if not isinstance(header.get("tensors"), list) or "root" not in header:
        raise CheckpointError("the header lacks its tensor table or root")
    for entry in header["tensors"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("shape"), list) or \
                entry.get("dtype") not in dtypes.BY_NAME:
            raise CheckpointError(f"invalid tensor entry {entry!r}")
    return header


def _read_tensor_bytes(archive: zipfile.ZipFile, index: int, names: set[str]) -> bytes:
    member = _DATA + str(index)
    if member not in names:
        raise CheckpointError(f"tensor {index}'s data ({member}) is missing")
    return archive.read(member)  # checks the member's CRC-32


def _target_backend(saved: str, map_location: Any) -> Any:
    target: Any = saved
    if isinstance(map_location, dict):
        target = map_location.get(saved, saved)
    elif map_location is not None and not callable(map_location):
        target = map_location
    if isinstance(target, Tensor):
        target = target.device
    device = parse_device(target)
    try:
        return get_backend(device)
    except RuntimeError as error:
        if device.type == "cuda" and map_location is None:
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
                "is False. If you are running on a CPU-only machine, please use torch.load with "
                "map_location=torch.device('cpu') to map your storages to the CPU. "
                f"({error})"
            ) from None
        raise


def _make_tensor(entry: dict[str, Any], data: bytes, map_location: Any) -> Tensor:
    shape = tuple(entry["shape"])
    saved_device = str(entry.get("device", "cpu"))
    if callable(map_location) and not isinstance(map_location, (dict, str, Device)):
        cpu = get_backend("cpu")
        tensor = _wrap(_array(cpu, data, entry["dtype"], shape), cpu)
        mapped: Callable[..., Any] = map_location
        result = mapped(tensor, saved_device)
        tensor = tensor if result is None else result
    else:
        backend = _target_backend(saved_device, map_location)
        tensor = _wrap(_array(backend, data, entry["dtype"], shape), backend)
    requires_grad = bool(entry.get("requires_grad", False))
    if entry.get("parameter"):
        from .nn.parameter import Parameter

        return Parameter(tensor, requires_grad=requires_grad)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _array(backend: Any, data: bytes, dtype: str, shape: tuple[int, ...]) -> Any:
    try:
        return array_from_buffer(backend, data, dtype, shape)
    except ValueError as error:
        raise CheckpointError(str(error)) from None


def _decode(node: Any, tensors: list[Tensor], depth: int) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if depth > _MAX_DEPTH:
        raise ValueError(f"containers nested deeper than {_MAX_DEPTH} levels")
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"unexpected node {str(node)[:80]}")
    (kind, value), = node.items()
    depth += 1
    if kind == "tensor":
        if not isinstance(value, int) or isinstance(value, bool) or not \
                0 <= value < len(tensors):
            raise ValueError(f"tensor reference {value!r} out of range")
        return tensors[value]
    if kind in ("dict", "odict"):
        pairs = [(_decode_key(key, depth), _decode(item, tensors, depth)) for key, item in value]
        return OrderedDict(pairs) if kind == "odict" else dict(pairs)
    if kind == "list":
        return [_decode(item, tensors, depth) for item in _as_list(value)]
    if kind == "tuple":
        return tuple(_decode(item, tensors, depth) for item in _as_list(value))
    if kind == "size":
        return Size(int(size) for size in _as_list(value))
    if kind == "float":
        if value not in ("inf", "-inf", "nan"):
            raise ValueError(f"invalid float {value!r}")
        return float(value)
    if kind == "dtype":
        return dtypes.BY_NAME[value]
    if kind == "device":
        return parse_device(value)
    raise ValueError(f"unknown node kind {kind!r}")


def _decode_key(node: Any, depth: int) -> Any:
    key = _decode(node, [], depth)
    if isinstance(key, (list, dict)):
        raise ValueError("a dict key must be hashable")
    return key


def _as_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value
