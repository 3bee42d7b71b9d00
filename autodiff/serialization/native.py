"""autodiff's own checkpoint format: tensors, state dicts and nested containers, with no code.

A checkpoint is a zip archive (stored, not compressed) holding
    autodiff/header.json   the structure of the saved object, as tagged JSON, and one entry per
                           tensor: dtype, shape, device, requires_grad, Parameter or not;
    autodiff/data/<n>      each tensor's raw little-endian bytes;
    autodiff/storage/<k>   (version 2) the memory several saved tensors view, written once: their
                           entries name it with their strides and offset in it, so tensors
                           that shared memory when saved share it when loaded (PyTorch's
                           views survive its save and load the same way).
Loading reads JSON and raw numbers only: no pickle, no imports, no code of any kind runs, so a
checkpoint from an untrusted source can at worst fail to load. Zip's CRC-32 of every member is
checked, so truncated or altered files are refused with `CheckpointError`; a member's declared
size is checked before it is read (`members.py`).

What can be saved: Tensors (and Parameters), dict/OrderedDict (str, int, float, bool, None or
tuple keys), list, tuple, torch.Size, int, float (inf and nan included), bool, None, str, dtypes
and devices. The same Tensor object saved twice loads as one object (tied weights stay tied).
Anything else raises `NotRepresentable`; `autodiff.save` then writes PyTorch's format instead.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from backends import Device, get_backend, parse_device
from backends import serialization as host

from .. import dtypes
from ..dtypes import Size
from ..nn.parameter import Parameter
from ..ops.sparse_coo import sparse_coo_tensor
from ..quantized_tensor import QuantizedData, make_quantized
from ..sparse_coo import SparseCOO
from ..tensor import Tensor, _wrap
from .errors import CheckpointError
from .locations import restore_backend
from .members import MemberReader
from .skip_data import skipping

FORMAT_NAME = "autodiff.save"
FORMAT_VERSION = 2  # written when tensors share memory; version 1 otherwise
READ_VERSIONS = (1, 2)
HEADER = "autodiff/header.json"
_DATA = "autodiff/data/"
_STORAGE = "autodiff/storage/"
_MAX_DEPTH = 100  # containers nested deeper than this are refused on save and on load


class NotRepresentable(TypeError):
    """An object the format cannot hold (it stores no objects, so it never runs code)."""


# ----------------------------------------------------------------------------- saving
class Prepared:
    """An object encoded for the format: its header and the tensors it refers to."""

    def __init__(self, obj: Any) -> None:
        self.tensors: list[Tensor] = []
        root = _encode(obj, self.tensors, {}, 0)
        entries = [_tensor_entry(tensor) for tensor in self.tensors]
        # (backend, flat array) of each storage written once for the tensors that view it
        self.storages: list[tuple[Any, Any]] = []
        storage_entries: list[dict[str, Any]] = []
        for members in _sharing(self.tensors):
            first = self.tensors[members[0]]
            backend = first._backend
            for index in members:
                array = self.tensors[index]._data
                entries[index]["storage"] = len(self.storages)
                entries[index]["strides"] = list(backend.strides(array))
                entries[index]["offset"] = int(backend.storage_offset(array))
            flat = backend.storage(first._data)
            storage_entries.append({"dtype": backend.dtype_name(flat),
                                    "numel": int(flat.shape[0]),
                                    "device": str(backend.device)})
            self.storages.append((backend, flat))
        self.header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION if self.storages else 1,
            "root": root,
            "tensors": entries,
        }
        if self.storages:
            self.header["storages"] = storage_entries

    def write(self, stream: Any) -> None:
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(HEADER, json.dumps(self.header, allow_nan=False))
            for index, tensor in enumerate(self.tensors):
                if "storage" not in self.header["tensors"][index]:
                    archive.writestr(_DATA + str(index), _contents(tensor._backend, tensor._data))
            for index, (backend, flat) in enumerate(self.storages):
                archive.writestr(_STORAGE + str(index), _contents(backend, flat))


def _contents(backend: Any, array: Any) -> Any:
    """An array's bytes, or as many zero bytes inside `skip_data()`."""
    if skipping():
        return bytes(math.prod(array.shape) * host.itemsize(backend.dtype_name(array)))
    return host.array_to_buffer(backend, array)


def _sharing(tensors: list[Tensor]) -> list[list[int]]:
    """The indices of the saved tensors that view one memory, for each memory two or more of
    them view (tensors of one dtype on one device; a backend without strided views shares
    nothing)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for index, tensor in enumerate(tensors):
        backend, array = tensor._backend, tensor._data
        if backend.device.type == "meta":
            continue
        try:
            if not math.prod(array.shape) or any(stride < 0 for stride in
                                                 backend.strides(array)):
                continue
            start = backend.data_ptr(array) - \
                backend.storage_offset(array) * host.itemsize(backend.dtype_name(array))
            key = (str(backend.device), backend.dtype_name(array), start,
                   backend.storage_size(array))
            backend.strided_view(array, (1,), (1,), 0)  # it makes views of that memory
        except (ValueError, NotImplementedError, AttributeError, TypeError):
            continue
        groups.setdefault(key, []).append(index)
    return [members for members in groups.values() if len(members) > 1]


def _tensor_entry(tensor: Tensor) -> dict[str, Any]:
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
    if isinstance(obj, Tensor) and type(obj._data) is SparseCOO:  # indices and values
        sparse, backend = obj._data, obj._backend
        return {"sparse": [_encode(_wrap(sparse.indices, backend), tensors, seen, depth),
                           _encode(_wrap(sparse.values, backend), tensors, seen, depth),
                           list(sparse.shape), sparse.coalesced, obj._requires_grad]}
    if isinstance(obj, Tensor) and type(obj._data) is QuantizedData:  # integers, parameters
        quantized, backend = obj._data, obj._backend
        if quantized.dtype is dtypes.quint4x2:
            raise NotRepresentable("autodiff.save: a torch.quint4x2 tensor cannot be saved")
        integers = _encode(_wrap(quantized.int_repr, backend), tensors, seen, depth)
        if quantized.per_channel:
            return {"quantized": [integers, quantized.dtype.name, quantized.axis,
                                  _encode(quantized.scales, tensors, seen, depth),
                                  _encode(quantized.zero_points, tensors, seen, depth)]}
        return {"quantized": [integers, quantized.dtype.name, _encode(quantized.scale, [], {}, 0),
                              quantized.zero_point]}
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
    raise NotRepresentable(
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
    raise NotRepresentable(
        f"autodiff.save: cannot save a dict key of type {type(key).__name__}")


# ----------------------------------------------------------------------------- loading
def read(members: MemberReader, map_location: Any) -> Any:
    """The object saved in an archive that holds autodiff/header.json."""
    try:
        header = _parse_header(members.read_small(HEADER))
        storages = [_read_storage(members, index, entry, map_location)
                    for index, entry in enumerate(header.get("storages", []))]
        tensors = [_read_tensor(members, index, entry, map_location, storages)
                   for index, entry in enumerate(header["tensors"])]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, TypeError,
            RecursionError) as error:
        raise CheckpointError(f"corrupted or truncated ({type(error).__name__}: "
                              f"{error})") from None
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
    if header.get("version") not in READ_VERSIONS:
        raise CheckpointError(f"format version {header.get('version')!r} is not supported "
                              f"(this autodiff reads versions {READ_VERSIONS[0]} to "
                              f"{READ_VERSIONS[-1]})")
    if not isinstance(header.get("tensors"), list) or "root" not in header:
        raise CheckpointError("the header lacks its tensor table or root")
    for entry in header.get("storages", []):
        if not isinstance(entry, dict) or not _is_count(entry.get("numel")) or \
                entry.get("dtype") not in dtypes.BY_NAME:
            raise CheckpointError(f"invalid storage entry {entry!r}")
    for entry in header["tensors"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("shape"), list) or \
                entry.get("dtype") not in dtypes.BY_NAME:
            raise CheckpointError(f"invalid tensor entry {entry!r}")
    return header


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _read_elements(members: MemberReader, name: str, dtype: str, count: int) -> Any:
    """`count` elements of `dtype` from member `name`, as a 1-d host array, checked (left
    uninitialized inside `skip_data()`)."""
    if skipping():
        return host.empty_storage(dtype, count)
    storage = members.read_storage(name, dtype, count)
    host.to_native_order(storage, big_endian=False)
    try:
        host.check_bool(storage)
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    return storage


def _placed(array: Any, saved_device: str, map_location: Any) -> Tensor:
    """A host array as a Tensor on the device `map_location` gives for `saved_device`."""
    cpu = get_backend("cpu")
    if callable(map_location) and not isinstance(map_location, (dict, str, Device, Tensor)):
        mapped: Callable[..., Any] = map_location
        tensor = _wrap(array, cpu)
        result = mapped(tensor, saved_device)
        return tensor if result is None else result
    backend = restore_backend(saved_device, map_location)
    if backend is not cpu:
        array = backend.transfer(array, cpu)
    return _wrap(array, backend)


def _read_storage(members: MemberReader, index: int, entry: dict[str, Any],
                  map_location: Any) -> Tensor:
    """Storage `index`: the memory several tensors view, as a 1-d Tensor on its device."""
    flat = _read_elements(members, _STORAGE + str(index), entry["dtype"], entry["numel"])
    return _placed(flat, _saved_device(entry.get("device", "cpu")), map_location)


def _viewed(entry: dict[str, Any], shape: tuple[int, ...], storages: list[Tensor]) -> Tensor:
    """A tensor entry that names a storage: a view of its memory, checked to lie inside it."""
    index, strides, offset = entry["storage"], entry.get("strides"), entry.get("offset")
    if not (_is_count(index) and index < len(storages) and isinstance(strides, list)
            and len(strides) == len(shape) and all(_is_count(s) for s in strides)
            and _is_count(offset)):
        raise CheckpointError(f"invalid tensor entry {entry!r}")
    storage = storages[index]
    if storage._backend.dtype_name(storage._data) != entry["dtype"]:
        raise CheckpointError(f"tensor entry {entry!r} does not match its storage's dtype")
    last = offset + sum((size - 1) * stride for size, stride in zip(shape, strides))
    if math.prod(shape) and last >= storage._data.shape[0]:
        raise CheckpointError(f"tensor entry {entry!r} reaches past its storage")
    backend = storage._backend  # a view of the 1-d storage (a copy where views cannot be)
    return _wrap(backend.as_strided(storage._data, shape, tuple(strides), offset), backend)


def _read_tensor(members: MemberReader, index: int, entry: dict[str, Any],
                 map_location: Any, storages: list[Tensor]) -> Tensor:
    """Tensor `index`: its bytes read straight into an array (or its view of a storage),
    checked against its entry, then put on its device."""
    dtype = entry["dtype"]
    shape = tuple(entry["shape"])
    try:
        host.check_shape(dtype, shape)
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    requires_grad = entry.get("requires_grad", False)
    parameter = entry.get("parameter", False)
    if not isinstance(requires_grad, bool) or not isinstance(parameter, bool):
        raise CheckpointError(f"invalid tensor entry {entry!r}")
    if requires_grad and not dtypes.BY_NAME[dtype].is_floating_point:
        raise CheckpointError(f"a tensor of dtype {dtype} is marked requires_grad (only "
                              "floating point tensors can require gradients)")
    if "storage" in entry:
        tensor = _viewed(entry, shape, storages)
    else:
        storage = _read_elements(members, _DATA + str(index), dtype, math.prod(shape))
        array = get_backend("cpu").reshape(storage, shape)
        tensor = _placed(array, _saved_device(entry.get("device", "cpu")), map_location)
    if parameter:
        return Parameter(tensor, requires_grad=requires_grad)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _saved_device(saved: Any) -> str:
    """The device a tensor was saved from, as written in the header (a valid device name)."""
    try:
        if not isinstance(saved, str):
            raise TypeError(f"expected a string, got {type(saved).__name__}")
        return str(parse_device(saved))
    except (RuntimeError, TypeError) as error:
        raise CheckpointError(f"invalid device {saved!r} ({error})") from None


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
    if kind == "sparse":
        return _decode_sparse(value, tensors, depth)
    if kind == "quantized":
        return _decode_quantized(value, tensors, depth)
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


def _decode_sparse(value: Any, tensors: list[Tensor], depth: int) -> Tensor:
    """A sparse COO tensor, its indices checked against its size."""
    parts = _as_list(value)
    if len(parts) != 5:
        raise ValueError("a sparse tensor is [indices, values, size, coalesced, requires_grad]")
    indices, values = (_decode(part, tensors, depth) for part in parts[:2])
    size, coalesced, requires_grad = parts[2:]
    if not (isinstance(indices, Tensor) and isinstance(values, Tensor)
            and isinstance(coalesced, bool) and isinstance(requires_grad, bool)):
        raise ValueError("a sparse tensor's parts have the wrong types")
    try:
        return sparse_coo_tensor(indices, values, tuple(int(s) for s in _as_list(size)),
                                 check_invariants=True, is_coalesced=coalesced or None,
                                 requires_grad=requires_grad)
    except RuntimeError as error:
        raise ValueError(f"an invalid sparse tensor: {error}") from None


def _decode_quantized(value: Any, tensors: list[Tensor], depth: int) -> Tensor:
    """A quantized tensor: [integers, dtype, scale, zero point] per tensor, [integers, dtype,
    axis, scales, zero points] per channel, checked against each other."""
    parts = _as_list(value)
    if len(parts) not in (4, 5):
        raise ValueError("a quantized tensor is [integers, dtype, parameters...]")
    integers = _decode(parts[0], tensors, depth)
    dtype = dtypes.QUANTIZED.get(parts[1]) if isinstance(parts[1], str) else None
    if not isinstance(integers, Tensor) or dtype is None or \
            integers.dtype.name != dtype.storage_name:
        raise ValueError("a quantized tensor's integers do not match its dtype")
    if len(parts) == 4:
        scale, zero_point = _decode(parts[2], tensors, depth), parts[3]
        if not isinstance(scale, float) or not isinstance(zero_point, int):
            raise ValueError("a quantized tensor's scale and zero point have the wrong types")
        return make_quantized(integers, dtype, scale=scale, zero_point=zero_point)
    axis = parts[2]
    scales, zero_points = (_decode(part, tensors, depth) for part in parts[3:])
    if not (isinstance(axis, int) and 0 <= axis < integers.dim()
            and isinstance(scales, Tensor) and isinstance(zero_points, Tensor)
            and scales.dtype is dtypes.float64 and zero_points.dtype is dtypes.int64
            and scales.shape == zero_points.shape == (integers.shape[axis],)):
        raise ValueError("a quantized tensor's per-channel parameters do not match it")
    return make_quantized(integers, dtype, scales=scales, zero_points=zero_points, axis=axis)


def _decode_key(node: Any, depth: int) -> Any:
    key = _decode(node, [], depth)
    if isinstance(key, (list, dict)):
        raise ValueError("a dict key must be hashable")
    return key


def _as_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value
