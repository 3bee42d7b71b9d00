"""The globals a `torch.save` pickle names, and what each one becomes in autodiff.

A PyTorch checkpoint's pickle refers to PyTorch by name: `torch._utils._rebuild_tensor_v2` to
make a tensor, `torch.FloatStorage` for a storage's dtype, `torch.float32`, `torch.Size`,
`torch.device`, `collections.OrderedDict`... `TorchGlobals` maps each name PyTorch's
`weights_only=True` allows to autodiff's own equivalent, so such a file loads with no PyTorch
installed and nothing imported by name. Names autodiff has no equivalent for (complex, sparse
and quantized tensors, meta tensors...) are refused with the reason.

Storages arrive already on their device (`Storage`); a tensor is a strided view of one, so
tensors that shared memory when saved share it again after loading.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backends import Backend, parse_device
from backends.serialization import reinterpret

from .. import dtypes, layouts
from ..dtypes import Size
from ..nn.parameter import Parameter
from ..ops.sparse_coo import sparse_coo_tensor
from ..quantized_tensor import QSCHEMES, make_quantized, per_channel_affine, per_tensor_affine
from ..tensor import Tensor, _wrap
from .errors import CheckpointError

# torch's legacy storage classes, by the dtype of their elements.
STORAGE_CLASSES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
    "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
    "BFloat16Storage": "bfloat16",
}
STORAGE_CLASS_OF = {dtype: name for name, dtype in STORAGE_CLASSES.items()}
# Quantized tensors' storages, by the integer type their elements are stored as.
QUANTIZED_STORAGE_CLASSES = {"QInt8Storage": "int8", "QUInt8Storage": "uint8",
                             "QInt32Storage": "int32"}
_QUANTIZED_OF_STORAGE = {"int8": dtypes.qint8, "uint8": dtypes.quint8, "int32": dtypes.qint32}
_UNSUPPORTED_STORAGES = {
    "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "QUInt4x2Storage": "quint4x2",
    "QUInt2x4Storage": "quint2x4",
}
_UNSUPPORTED_DTYPES = (
    "complex32", "complex64", "complex128", "uint16", "uint32", "uint64",
    "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu",
    "float4_e2m1fn_x2", "quint2x4", "bits1x8",
    "bits2x4", "bits4x2", "bits8", "bits16",
    *(f"int{bits}" for bits in range(1, 8)), *(f"uint{bits}" for bits in range(1, 8)),
)
_UNSUPPORTED_FUNCTIONS = {
    "torch._utils._rebuild_nested_tensor": "autodiff has no nested tensors",
    "torch._utils._rebuild_meta_tensor_no_storage": "autodiff has no meta device",
    "torch._utils._rebuild_wrapper_subclass": "autodiff has no tensor subclasses without data",
}


class StorageType:
    """What `torch.FloatStorage` (and the others) stand for: the dtype of a storage's elements.
    `torch.UntypedStorage` holds bytes (uint8)."""

    __slots__ = ("dtype", "name")

    def __init__(self, name: str, dtype: str) -> None:
        self.name = name
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"StorageType(dtype=torch.{self.dtype})"


@dataclass
class Storage:
    """One storage of a checkpoint, on the device it was restored to."""

    array: Any  # 1-D, of `dtype`
    backend: Backend
    dtype: str

    @property
    def numel(self) -> int:
        return int(self.array.shape[0])


class TorchGlobals:
    """The table of one load: PyTorch's global names to autodiff's objects.

    `restore(host_tensor, location)` puts a CPU tensor where `map_location` says a storage
    tagged `location` goes (for the rebuild functions that move a whole tensor)."""

    def __init__(self, restore: Callable[[Tensor, str], Tensor]) -> None:
        self._restore = restore
        table: dict[str, Any] = {
            "collections.OrderedDict": OrderedDict,
            "collections.Counter": Counter,
            "torch.nn.parameter.Parameter": Parameter,
            "torch.Size": Size,
            "torch.Tensor": Tensor,
            "torch.device": _device,
            "_codecs.encode": _encode,
            "builtins.bytearray": _bytearray,
            "builtins.set": set,
            "builtins.complex": complex,
            "torch._utils._rebuild_tensor": self.rebuild_tensor,
            "torch._utils._rebuild_tensor_v2": self.rebuild_tensor_v2,
            "torch._utils._rebuild_tensor_v3": self.rebuild_tensor_v3,
            "torch._utils._rebuild_parameter": self.rebuild_parameter,
            "torch._utils._rebuild_parameter_with_state": self.rebuild_parameter_with_state,
            "torch._utils._rebuild_device_tensor_from_cpu_tensor":
                self.rebuild_device_tensor_from_cpu_tensor,
            "torch._utils._rebuild_device_tensor_from_numpy":
                self.rebuild_device_tensor_from_numpy,
            "torch._tensor._rebuild_from_type_v2": self.rebuild_from_type_v2,
            "torch._utils._rebuild_sparse_tensor": self.rebuild_sparse_tensor,
            "torch._utils._rebuild_qtensor": self.rebuild_qtensor,
            "torch.serialization._get_layout": _get_layout,
        }
        for name, kind in (*dtypes.BY_NAME.items(), *dtypes.QUANTIZED.items()):
            table[f"torch.{name}"] = kind
        for name, scheme in QSCHEMES.items():
            table[f"torch.{name}"] = scheme
        for module in ("torch", "torch.cuda"):
            for name, dtype in (*STORAGE_CLASSES.items(), *QUANTIZED_STORAGE_CLASSES.items()):
                table[f"{module}.{name}"] = StorageType(name, dtype)
        for name in ("torch.UntypedStorage", "torch.storage.UntypedStorage"):
            table[name] = StorageType("UntypedStorage", "uint8")
        self.table = table

    @staticmethod
    def unsupported() -> dict[str, str]:
        """Names PyTorch allows that autodiff cannot represent, with the reason."""
        reasons = dict(_UNSUPPORTED_FUNCTIONS)
        for name in _UNSUPPORTED_DTYPES:
            reasons[f"torch.{name}"] = f"autodiff has no dtype torch.{name}"
        for module in ("torch", "torch.cuda"):
            for name, dtype in _UNSUPPORTED_STORAGES.items():
                reasons[f"{module}.{name}"] = f"autodiff has no dtype torch.{dtype}"
        return reasons

    # ------------------------------------------------------------------------- tensors
    def rebuild_tensor(self, storage: Any, storage_offset: Any, size: Any, stride: Any) -> Tensor:
        return _view(storage, storage_offset, size, stride)

    def rebuild_tensor_v2(self, storage: Any, storage_offset: Any, size: Any, stride: Any,
                          requires_grad: Any, backward_hooks: Any, metadata: Any = None) -> Tensor:
        tensor = _view(storage, storage_offset, size, stride)
        _check_extras(backward_hooks, metadata)
        return _set_requires_grad(tensor, requires_grad)

    def rebuild_tensor_v3(self, storage: Any, storage_offset: Any, size: Any, stride: Any,
                          requires_grad: Any, backward_hooks: Any, dtype: Any,
                          metadata: Any = None) -> Tensor:
        # An untyped (byte) storage read as `dtype`: PyTorch uses it for its newer dtypes.
        if not isinstance(storage, Storage) or not isinstance(dtype, dtypes.dtype):
            raise CheckpointError("_rebuild_tensor_v3 expects a storage and a dtype")
        if storage.dtype != dtype.name:
            if storage.dtype != "uint8" or storage.numel % dtype.itemsize:
                raise CheckpointError(f"a storage of {storage.dtype} cannot be read as {dtype}")
            backend = storage.backend
            host = reinterpret(backend.to_numpy(storage.array), dtype.name)
            storage = Storage(backend.from_numpy(host), backend, dtype.name)
        return self.rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
                                      backward_hooks, metadata)

    def rebuild_sparse_tensor(self, layout: Any, data: Any) -> Tensor:
        """A sparse COO tensor from (indices, values, size[, is_coalesced]), its indices
        checked (a file cannot make a tensor that indexes outside its size)."""
        if layout is not layouts.sparse_coo:
            raise CheckpointError(f"autodiff has no sparse layout {layout!r} (only "
                                  "torch.sparse_coo)")
        if not isinstance(data, tuple) or len(data) not in (3, 4) or not all(
                isinstance(item, Tensor) for item in data[:2]):
            raise CheckpointError("_rebuild_sparse_tensor expects (indices, values, size, "
                                  "is_coalesced)")
        indices, values, size = data[:3]
        coalesced = data[3] if len(data) == 4 else False
        if not isinstance(coalesced, bool):
            raise CheckpointError(f"is_coalesced must be a bool, not {coalesced!r}")
        try:
            return sparse_coo_tensor(indices, values, tuple(size), check_invariants=True,
                                     is_coalesced=coalesced or None)
        except (RuntimeError, TypeError, ValueError) as error:
            raise CheckpointError(f"an invalid sparse tensor: {error}") from None

    def rebuild_qtensor(self, storage: Any, storage_offset: Any, size: Any, stride: Any,
                        quantizer_params: Any, requires_grad: Any, backward_hooks: Any
                        ) -> Tensor:
        """A quantized tensor: its integers (a QInt8/QUInt8/QInt32 storage) and its
        (scheme, scale, zero point) or (scheme, scales, zero points, axis)."""
        integers = _view(storage, storage_offset, size, stride)
        _check_extras(backward_hooks, None)
        if requires_grad is not False:
            raise CheckpointError("a quantized tensor cannot require grad")
        dtype = _QUANTIZED_OF_STORAGE.get(storage.dtype)
        if dtype is None or not isinstance(quantizer_params, tuple) or not quantizer_params:
            raise CheckpointError("_rebuild_qtensor expects a quantized storage and "
                                  "(scheme, parameters...)")
        scheme, *params = quantizer_params
        if scheme is per_tensor_affine and len(params) == 2 and \
                isinstance(params[0], float) and isinstance(params[1], int):
            return make_quantized(integers, dtype, scale=params[0], zero_point=params[1])
        if scheme is per_channel_affine and len(params) == 3 and \
                isinstance(params[0], Tensor) and isinstance(params[1], Tensor) and \
                isinstance(params[2], int) and 0 <= params[2] < max(integers.dim(), 1) and \
                params[0].shape == params[1].shape == (integers.shape[params[2]],):
            return make_quantized(integers, dtype, scales=params[0].to(dtypes.float64),
                                  zero_points=params[1].to(dtypes.int64), axis=params[2])
        raise CheckpointError(f"autodiff cannot load a quantized tensor with parameters "
                              f"{quantizer_params!r} (per_tensor_affine and "
                              "per_channel_affine are supported)")

    def rebuild_parameter(self, data: Any, requires_grad: Any, backward_hooks: Any) -> Parameter:
        if not isinstance(data, Tensor):
            raise CheckpointError("a Parameter's data is not a tensor")
        _check_extras(backward_hooks, None)
        if not isinstance(requires_grad, bool):
            raise CheckpointError(f"requires_grad must be a bool, not {requires_grad!r}")
        if requires_grad and not data.dtype.is_floating_point:
            raise CheckpointError(f"a Parameter of dtype {data.dtype} requires grad (only "
                                  "floating point tensors can)")
        return Parameter(data, requires_grad)

    def rebuild_parameter_with_state(self, data: Any, requires_grad: Any, backward_hooks: Any,
                                     state: Any) -> Parameter:
        parameter = self.rebuild_parameter(data, requires_grad, backward_hooks)
        _set_state(parameter, state)
        return parameter

    def rebuild_from_type_v2(self, func: Any, new_type: Any, args: Any, state: Any) -> Any:
        """A tensor subclass (or a tensor with Python attributes): made by `func`, re-classed
        as `new_type`, then given `state`."""
        if func not in self.table.values() or not isinstance(args, tuple):
            raise CheckpointError(f"_rebuild_from_type_v2 with an unexpected function {func!r}")
        if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
            raise CheckpointError(f"_rebuild_from_type_v2 with a type that is not a Tensor "
                                  f"subclass: {new_type!r}")
        result = func(*args)
        if type(result) is not new_type:
            if not isinstance(result, Tensor):
                raise CheckpointError("_rebuild_from_type_v2's function made no tensor")
            if new_type is Parameter:
                result = Parameter(result, result.requires_grad)
            else:
                subclass = object.__new__(new_type)
                subclass.__dict__.update(result.__dict__)
                result = subclass
        setstate = getattr(type(result), "__setstate__", None)
        if setstate is not None and state:
            result.__setstate__(state)
        else:
            _set_state(result, state)
        return result

    def rebuild_device_tensor_from_cpu_tensor(self, data: Any, dtype: Any, device: Any,
                                              requires_grad: Any) -> Tensor:
        if not isinstance(data, Tensor) or not isinstance(dtype, dtypes.dtype):
            raise CheckpointError("_rebuild_device_tensor_from_cpu_tensor expects a tensor and "
                                  "a dtype")
        tensor = self._restore(data.to(dtype), str(device))
        return _set_requires_grad(tensor, requires_grad)

    def rebuild_device_tensor_from_numpy(self, data: Any, dtype: Any, device: Any,
                                         requires_grad: Any) -> Tensor:
        from ..creation import from_numpy

        return self.rebuild_device_tensor_from_cpu_tensor(from_numpy(data), dtype, device,
                                                          requires_grad)


# ----------------------------------------------------------------------------- helpers
def _device(*args: Any) -> Any:
    try:
        return parse_device(*args)
    except (RuntimeError, TypeError) as error:
        raise CheckpointError(f"torch.device{args}: {error}") from None


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # Protocol 2 pickles bytes as _codecs.encode(latin-1 text, "latin1"); nothing else is
    # needed, and other codecs (zlib_codec...) are not let in.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise CheckpointError(f"_codecs.encode is allowed only for latin-1 text, not "
                              f"{type(text).__name__} with {encoding!r}")
    return text.encode("latin1")


def _bytearray(*args: Any) -> bytearray:
    if len(args) > 2 or (args and not isinstance(args[0], (bytes, bytearray, str, list))):
        raise CheckpointError("bytearray is allowed only from bytes, text or a list of bytes")
    return bytearray(*args)


def _index(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CheckpointError(f"invalid {what} {value!r}")
    return value


def _sizes(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)):
        raise CheckpointError(f"invalid {what} {value!r}")
    return tuple(_index(item, what) for item in value)


def _is_contiguous(size: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    expected = 1
    for extent, step in zip(reversed(size), reversed(stride)):
        if extent != 1 and step != expected:
            return False
        expected *= extent
    return True


def _get_layout(name: Any) -> layouts.layout:
    """torch.serialization._get_layout: a layout by its name ('torch.sparse_coo')."""
    found = {"torch.strided": layouts.strided, "torch.sparse_coo": layouts.sparse_coo}.get(name)
    if found is None:
        raise CheckpointError(f"autodiff has no layout {name!r}")
    return found


def _view(storage: Any, storage_offset: Any, size: Any, stride: Any) -> Tensor:
    """A tensor of `size` over `storage`'s elements at `offset + sum(i * stride)`."""
    if not isinstance(storage, Storage):
        raise CheckpointError(f"a tensor's storage is {type(storage).__name__}, not a storage")
    offset = _index(storage_offset, "storage offset")
    shape = _sizes(size, "size")
    strides = _sizes(stride, "stride")
    if len(strides) != len(shape):
        raise CheckpointError(f"size {list(shape)} and stride {list(strides)} differ in length")
    numel = math.prod(shape)
    needed = offset + sum((extent - 1) * step for extent, step in zip(shape, strides)) + 1 \
        if numel else offset
    if needed > storage.numel:
        itemsize = dtypes.BY_NAME[storage.dtype].itemsize
        raise CheckpointError(
            f"setStorage: sizes {list(shape)}, strides {list(strides)}, storage offset {offset}, "
            f"and itemsize {itemsize} requiring a storage size of {needed * itemsize} are out of "
            f"bounds for storage of size {storage.numel * itemsize}"
        )
    backend = storage.backend
    if _is_contiguous(shape, strides):
        flat = backend.getitem(storage.array, slice(offset, offset + numel))
        array = backend.reshape(flat, shape)
    else:
        array = backend.as_strided(storage.array, shape, strides, offset)
    return _wrap(array, backend)


def _set_requires_grad(tensor: Tensor, requires_grad: Any) -> Tensor:
    if not isinstance(requires_grad, bool):
        raise CheckpointError(f"requires_grad must be a bool, not {requires_grad!r}")
    if requires_grad:
        if not tensor.dtype.is_floating_point:
            raise CheckpointError(f"a tensor of dtype {tensor.dtype} requires grad (only "
                                  "floating point tensors can)")
        tensor.requires_grad_(True)
    return tensor


def _check_extras(backward_hooks: Any, metadata: Any) -> None:
    if not isinstance(backward_hooks, dict) or backward_hooks:
        raise CheckpointError("a tensor was saved with backward hooks; autodiff does not load "
                              "hooks (PyTorch no longer saves them either)")
    if metadata is not None and (not isinstance(metadata, dict) or any(metadata.values())):
        raise CheckpointError(f"tensor metadata {metadata!r}: autodiff tensors have no "
                              "conjugate or negative bits")


def is_tensor_internal(name: str) -> bool:
    """Whether an attribute is a Tensor's own machinery (never saved with it, never set from a
    file), as opposed to a Python attribute a user gave the tensor."""
    return name.startswith("_") or name in vars(Tensor)


def _set_state(tensor: Tensor, state: Any) -> None:
    """Python attributes saved with a tensor (a dict, or a (dict, slots) pair)."""
    if state is None:
        return
    slots: Any = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    for part in (state, slots):
        if part is None:
            continue
        if not isinstance(part, dict):
            raise CheckpointError(f"a tensor's saved state is {type(part).__name__}, not a dict")
        for name, value in part.items():
            if not isinstance(name, str) or is_tensor_internal(name):
                raise CheckpointError(f"a tensor's saved state sets {name!r}")
            setattr(tensor, name, value)
