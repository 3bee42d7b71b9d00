"""Creation functions: tensor, zeros, ones, full, eye, arange, rand, randn, randint, randperm,
..._like."""

from __future__ import annotations

import math
import operator
from typing import Any

from backends import default_device, get_backend, interop, parse_device, pinned
from backends.dlpack import is_capsule

from . import dtypes
from .batching.dispatch import random_op
from .generator import draw
from .grad_mode import state as _grad_state
from .layouts import CHANNELS_LAST_ORDER, check_layout, check_memory_format, contiguous_format
from .ops._checks import invalid_arguments
from .ops._out import resize as resize_out
from .ops._out import write as write_out
from .ops._promotion import checked_number, integer_bounds
from .ops.memory_formats import dense_in_order
from .sparse_compressed import SparseCompressed, emptied
from .sparse_coo import SparseCOO
from .sparse_dispatch import refuse_operator
from .tensor import Tensor, _wrap
from .user_warnings import warn

# PyTorch's warnings for a tensor over memory it may not write.
_NOT_WRITABLE_ARRAY = (
    "The given NumPy array is not writable, and PyTorch does not support non-writable tensors. "
    "This means writing to this tensor will result in undefined behavior. You may want to copy "
    "the array to protect its data or make it writable before converting it to a tensor. This "
    "type of warning will be suppressed for the rest of this program."
)
_NOT_WRITABLE_BUFFER = (
    "The given buffer is not writable, and PyTorch does not support non-writable tensors. This "
    "means you can write to the underlying (supposedly non-writable) buffer using the tensor. "
    "You may want to copy the buffer to protect its data or make it writable before converting "
    "it to a tensor. This type of warning will be suppressed for the rest of this program."
)


def _finish(data: Any, backend: Any, requires_grad: bool) -> Tensor:
    out = _wrap(data, backend)
    if requires_grad:
        # The factories' wording (capital O), not requires_grad_'s.
        out._set_requires_grad(True, "Only Tensors of floating point and complex dtype can "
                                     "require gradients")
    return out


# ----------------------------------------------------------------------------- arguments
def _size(size: tuple[Any, ...], function: str = "zeros",
          keywords: dict[str, Any] | None = None) -> tuple[int, ...]:
    """A factory's size, given as ints (`zeros(2, 3)`), one sequence (`zeros((2, 3))`) or the
    `size=` keyword, with PyTorch's argument errors; `keywords` are the factory's other
    keyword arguments, of which only `size` is known."""
    given_as_keyword = False
    if keywords:
        extra = dict(keywords)
        if "size" in extra:
            if size:
                raise TypeError(f"{function}() got multiple values for argument 'size'")
            size, given_as_keyword = (extra.pop("size"),), True
        for key in extra:
            raise TypeError(f"{function}() got an unexpected keyword argument '{key}'")
        if given_as_keyword and not isinstance(size[0], (tuple, list)):
            raise TypeError(f"{function}(): argument 'size' must be tuple of ints, not "
                            f"{type(size[0]).__name__}")
    if not size:
        raise TypeError(f'{function}() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        values = tuple(size[0])
        for position, value in enumerate(values, start=1):
            if not _is_int(value):
                raise TypeError(
                    f"{function}(): argument 'size' failed to unpack the object at pos "
                    f'{position} with error "type must be tuple of ints,but got '
                    f'{type(value).__name__}"')
    else:
        values = size
        for position, value in enumerate(values, start=1):
            if _is_int(value):
                continue
            if given_as_keyword:
                raise TypeError(f"{function}(): argument 'size' must be tuple of ints, not "
                                f"{type(value).__name__}")
            if position == 1:
                raise TypeError(f"{function}(): argument 'size' (position 1) must be tuple of "
                                f"ints, not {type(value).__name__}")
            raise TypeError(
                f"{function}(): argument 'size' failed to unpack the object at pos {position} "
                f'with error "type must be tuple of ints,but got {type(value).__name__}"')
    shape = tuple(operator.index(value) for value in values)
    for extent in shape:
        if extent < 0:
            if function == "zeros":  # PyTorch's zeros checks sizes itself
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {extent}: {list(shape)}"
            )
    return shape


def _is_int(value: Any) -> bool:
    """An int, or what converts to one losslessly (a NumPy integer, a 0-d integer tensor)."""
    if isinstance(value, int):
        return True
    if isinstance(value, (float, str, bytes, tuple, list)) or not hasattr(value, "__index__"):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def _int_argument(function: str, name: str, position: int, value: Any) -> int:
    if isinstance(value, bool) or not _is_int(value):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be int, "
                        f"not {type(value).__name__}")
    return operator.index(value)


def _dtype_argument(function: str, value: Any) -> dtypes.dtype | None:
    """A factory's dtype: a dtype, or a Python type as PyTorch maps it (float is float64)."""
    if value is None or isinstance(value, dtypes.dtype):
        return value
    if value is float:
        return dtypes.float64
    if value is int:
        return dtypes.int64
    if value is bool:
        return dtypes.bool_
    raise TypeError(f"{function}(): argument 'dtype' must be torch.dtype, not "
                    f"{type(value).__name__}")


def _default_backend(device: Any) -> Any:
    return get_backend(device if device is not None else default_device() or "cpu")


class _Placement:
    """Where a factory makes its tensor, in which dtype, and where the result goes: from its
    dtype/device/layout/pin_memory arguments, the default device, and `out` (whose dtype and
    device a factory takes when none is given, as PyTorch's do)."""

    __slots__ = ("backend", "dtype", "out", "pin")

    def __init__(self, function: str, dtype: Any, device: Any, layout: Any = None,
                 pin_memory: bool = False, out: Tensor | None = None) -> None:
        check_layout(function, layout)
        self.dtype = _dtype_argument(function, dtype)
        self.out = out
        self.pin = bool(pin_memory)
        if out is None:
            self.backend = _default_backend(device)
        else:
            self.backend = self._from_out(function, device, out)
        if self.pin and self.backend.device.type != "cpu":
            raise RuntimeError(f"{function}(): only CPU tensors can be pinned, not "
                               f"{self.backend.device} ones")

    def _from_out(self, function: str, device: Any, out: Any) -> Any:
        if not isinstance(out, Tensor):
            raise TypeError(f"{function}(): argument 'out' must be Tensor, not "
                            f"{type(out).__name__}")
        if _grad_state.enabled and out.requires_grad:
            # PyTorch's empty and randn resize out before its autograd check runs.
            if function in ("empty", "randn"):
                raise RuntimeError("cannot resize variables that require grad")
            raise RuntimeError(
                f"aten::{function}(): functions with out=... arguments don't support automatic "
                "differentiation, but one of the arguments requires grad.")
        if self.dtype is None:
            self.dtype = out.dtype
        elif self.dtype is not out.dtype:
            raise RuntimeError(
                f"dtype {dtypes.SCALAR_TYPE_NAMES[self.dtype.name]} does not match dtype of out "
                f"parameter ({dtypes.SCALAR_TYPE_NAMES[out.dtype.name]})")
        if device is not None:
            kind = parse_device(device).type
            if kind != out.device.type:
                raise RuntimeError(f"device type {kind} does not match device type of out "
                                   f"parameter ({out.device.type})")
        return out._backend

    def kind(self, default: dtypes.dtype | None = None) -> dtypes.dtype:
        """The dtype asked for, else `default`, else the default float dtype."""
        if self.dtype is not None:
            return self.dtype
        return default if default is not None else dtypes.get_default_dtype()

    def made(self, array: Any, requires_grad: bool) -> Tensor:
        """The factory's result: into `out` (requires_grad is then ignored, as PyTorch does), or
        a new tensor, in page-locked memory when pin_memory=True."""
        if self.out is not None:
            write_out(self.out, _wrap(array, self.backend))
            return self.out
        if self.pin:
            array = pinned(array)
        return _finish(array, self.backend, requires_grad)


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, numbers, arrays or a Tensor), on
    `device` (default: the default device; a Tensor's own device when none is set)."""
    kind = _dtype_argument("tensor", dtype)
    if isinstance(data, Tensor):
        warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
        if device is None:
            device = default_device()
        backend = get_backend(device) if device is not None else data._backend
        source = data.detach()
        array = backend.transfer(source._data, source._backend) if backend is not data._backend \
            else backend.asarray(source._data, copy=True)
    else:
        backend = _default_backend(device)
        array = _array_from_data(backend, data)
        # Python floats (complex numbers) arrive as float64 (complex128); PyTorch gives them
        # the default float (complex) dtype.
        if kind is None and not _is_array(data):
            name = backend.dtype_name(array)
            if name == "float64":
                kind = dtypes.get_default_dtype()
            elif name == "complex128":
                kind = dtypes.default_complex()
    if kind is not None:
        name = kind.name
        if backend.dtype_name(array) != name:
            if not isinstance(data, Tensor) and not _is_array(data) and array.size:
                _check_fits(backend, array, name)
            array = backend.astype(array, name)
    if pin_memory:
        if backend.device.type != "cpu":
            raise RuntimeError(f"tensor(): only CPU tensors can be pinned, not {backend.device} "
                               "ones")
        array = pinned(array)
    return _finish(array, backend, requires_grad)


def _array_from_data(backend: Any, data: Any) -> Any:
    """A backend array of Python data (nested sequences of numbers or 0-d tensors) or of an
    array; data PyTorch cannot take gets PyTorch's error."""
    if _is_array(data):
        if interop.is_numpy_array(data):  # torch.from_numpy's checks: dtype, strides, order
            interop.shareable_array(data)
        return backend.asarray(data, copy=True)
    data = _unwrap_nested(data)
    try:
        array = backend.asarray(data)
        backend.dtype_name(array)  # a dtype tensors have (not strings, objects, uint64)
    except (KeyError, TypeError, ValueError, OverflowError):
        _refuse_data(data, _first_sizes(data))
        raise
    return array


def _first_sizes(data: Any) -> list[int]:
    """The shape PyTorch infers from nested sequences: the lengths met following the first
    element down (a string there is a dimension too many)."""
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    sizes = []
    while isinstance(data, (list, tuple, str, range)):
        if isinstance(data, str):
            raise ValueError("too many dimensions 'str'")
        sizes.append(len(data))
        if not data:
            break
        data = data[0]
    return sizes


def _refuse_data(data: Any, sizes: list[int], dim: int = 0) -> None:
    """Raise PyTorch's error for the first element it would refuse, walking as it fills."""
    if dim == len(sizes):
        if isinstance(data, (list, tuple, range)):
            raise TypeError(f"'{type(data).__name__}' object cannot be interpreted as an "
                            "integer")
        if isinstance(data, str):
            raise TypeError("new(): invalid data type 'str'")
        if isinstance(data, (bool, float, complex)):
            return
        if isinstance(data, int):
            if not -2**63 <= data < 2**63:
                raise ValueError("Overflow when unpacking long long")
            return
        if not hasattr(data, "__index__") and not hasattr(data, "__float__"):
            raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
        return
    if not isinstance(data, (list, tuple, range)):
        raise TypeError("not a sequence")
    if len(data) != sizes[dim]:
        raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} "
                         f"(got {len(data)})")
    for item in data:
        _refuse_data(item, sizes, dim + 1)


def _check_fits(backend: Any, array: Any, name: str) -> None:
    """Python numbers given for an integer dtype must fit it, as PyTorch checks them."""
    kind = dtypes.BY_NAME[name]
    if kind.category != 1 or backend.is_bool(array.dtype) or backend.is_complex(array.dtype):
        return
    for extreme in (backend.min(array), backend.max(array)):
        checked_number(backend.item(extreme), name, type_name=name)


def _is_array(data: Any) -> bool:
    return hasattr(data, "dtype") and hasattr(data, "shape")


def _unwrap_nested(data: Any) -> Any:
    """Nested lists may hold one-element Tensors; turn those into Python numbers."""
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(item) for item in data]
    if isinstance(data, Tensor):
        if data.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.item()
    return data


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor, sharing memory where it can: a Tensor is returned itself (or
    converted with `to`, recording the conversion), a NumPy array or DLPack producer is wrapped
    without a copy unless `dtype`/`device` ask for another; anything else is copied."""
    if device is None:
        device = default_device()
    if isinstance(data, Tensor):
        return _converted(data, dtype, device)
    if interop.is_numpy_array(data):
        return _converted(_from_numpy(data, stacklevel=3), dtype, device)
    if hasattr(data, "__dlpack__"):
        from .utils.dlpack import from_dlpack  # utils imports this module

        return _converted(from_dlpack(data), dtype, device)
    return tensor(data, dtype=dtype, device=device)


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool | None = None) -> Tensor:
    """`torch.asarray`: `obj` (a tensor, NumPy array or scalar, DLPack capsule or producer,
    buffer, scalar or sequence) as a tensor, sharing its memory unless `dtype`/`device` differ
    or `copy=True`; `copy=False` refuses to copy. requires_grad=None keeps a tensor's (and its
    history); when the result is `obj` itself, requires_grad=True/False sets obj's flag, as in
    PyTorch."""
    if device is None:
        device = default_device()
    if isinstance(obj, Tensor):
        result = obj
    elif interop.is_numpy_array(obj):
        result = _from_numpy(obj, stacklevel=3)
    elif interop.is_numpy_scalar(obj):
        if copy is False:
            raise RuntimeError("can't alias NumPy scalars. Either remove copy=False or transform "
                               "it in a ndarray. ")
        cpu = get_backend("cpu")
        result = _wrap(cpu.from_numpy(interop.scalar_array(obj)), cpu)
        copy = None  # already a copy
    elif is_capsule(obj) or hasattr(obj, "__dlpack__"):
        from .utils.dlpack import from_dlpack  # utils imports this module

        result = from_dlpack(obj)
    elif interop.is_buffer(obj):
        result = _frombuffer(obj, dtypes.get_default_dtype() if dtype is None else dtype, -1,
                             0, False, stacklevel=3)
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        return tensor(obj, dtype=dtype, device=device, requires_grad=bool(requires_grad))
    kind = result.dtype if dtype is None else dtypes.to_dtype(dtype)
    backend = result._backend if device is None else get_backend(_full_device(device))
    if kind is not result.dtype or backend is not result._backend:
        if copy is False:
            if kind is not result.dtype:
                raise ValueError(
                    f"can't alias tensor with dtype '{dtypes.SCALAR_TYPE_NAMES[result.dtype.name]}'"
                    f" into dtype '{dtypes.SCALAR_TYPE_NAMES[kind.name]}'.")
            raise ValueError(f"can't alias tensor from device '{result.device}' to "
                             f"'{backend.device}'.")
        result = result.to(backend.device, kind)
    elif copy:
        result = result.clone()
    if not isinstance(obj, Tensor):
        if requires_grad:
            result._set_requires_grad(True, "Only Tensors of floating point and complex dtype "
                                            "can require gradients")
        return result
    if requires_grad is None:
        if obj.requires_grad:
            warn(
                "torch.asarray: unspecified requires_grad now defaults to obj.requires_grad "
                "instead of False. Pass requires_grad=False explicitly to get the old behavior "
                "and silence this warning.", UserWarning, stacklevel=2)
    elif requires_grad and not result.requires_grad:
        result._set_requires_grad(True, "Only Tensors of floating point and complex dtype can "
                                        "require gradients")
    elif not requires_grad and result.requires_grad:
        result = result.requires_grad_(False) if result.is_leaf else result.detach()
    return result


def _converted(data: Tensor, dtype: Any, device: Any) -> Tensor:
    """`data` itself, or converted to `dtype`/`device` (recorded, like `to`)."""
    kind = data.dtype if dtype is None else dtypes.to_dtype(dtype)
    backend = data._backend if device is None else get_backend(_full_device(device))
    if kind is data.dtype and backend is data._backend:
        return data
    return data.to(backend.device, kind)


def _full_device(device: Any) -> Any:
    """A device with its index ("cuda" is the current CUDA device, as `to` resolves it)."""
    return get_backend(device).device


def from_numpy(ndarray: Any) -> Tensor:
    """A CPU tensor over a NumPy array's memory (no copy), with torch.from_numpy's checks: a
    dtype autodiff has, no negative strides, native byte order; a read-only array is taken
    with PyTorch's warning."""
    return _from_numpy(ndarray, stacklevel=3)


def _from_numpy(ndarray: Any, stacklevel: int) -> Tensor:
    """from_numpy, its warning `stacklevel` frames up (the user's call of the public
    function that took the array)."""
    backend = get_backend("cpu")
    array = interop.shareable_array(ndarray)
    if interop.read_only(array):
        warn(_NOT_WRITABLE_ARRAY, UserWarning, stacklevel=stacklevel)
    return _wrap(backend.from_numpy(array), backend)


def frombuffer(buffer: Any, *, dtype: Any = None, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-D CPU tensor over an object's buffer (bytes, bytearray, memoryview, array.array...),
    `count` elements of `dtype` from byte `offset`, without copying."""
    return _frombuffer(buffer, dtype, count, offset, requires_grad, stacklevel=3)


def _frombuffer(buffer: Any, dtype: Any, count: int, offset: int, requires_grad: bool,
                stacklevel: int) -> Tensor:
    """frombuffer, its warning `stacklevel` frames up."""
    if dtype is None:
        raise TypeError('frombuffer() missing 1 required positional arguments: "dtype"')
    backend = get_backend("cpu")
    array = interop.buffer_array(buffer, dtypes.to_dtype(dtype).name, count, offset)
    if interop.read_only(array):
        warn(_NOT_WRITABLE_BUFFER, UserWarning, stacklevel=stacklevel)
    return _finish(array, backend, requires_grad)


def from_file(filename: str, shared: bool | None = None, size: int = 0, *, dtype: Any = None,
              layout: Any = None, device: Any = None, pin_memory: bool = False,
              requires_grad: bool = False) -> Tensor:
    """A 1-D CPU tensor of `size` elements of `dtype` read from a file's bytes. shared=True
    maps the file: writes to the tensor reach the file (which grows to the size needed);
    otherwise the bytes are copied."""
    import mmap
    import os

    check_layout("from_file", layout)
    kind = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    nbytes = int(size) * kind.itemsize
    if nbytes < 0:
        raise RuntimeError(f"unable to mmap {nbytes} bytes from file <{filename}>: Cannot "
                           "allocate memory (12)")
    backend = get_backend("cpu")
    try:  # a shared mapping creates the file where it is missing
        file = (os.fdopen(os.open(filename, os.O_RDWR | os.O_CREAT, 0o666), "r+b") if shared
                else open(filename, "rb"))  # noqa: SIM115 (the mapping outlives the file)
    except OSError as error:
        kind_of_open = "read-write" if shared else "read-only"
        raise RuntimeError(f"unable to open file <{filename}> in {kind_of_open} mode: "
                           f"{error.strerror} ({error.errno})") from None
    with file:
        length = file.seek(0, 2)
        if shared and length < nbytes:
            file.truncate(nbytes)
        elif length < nbytes:
            raise RuntimeError(f"file <{filename}> size <{length}> is smaller than the required "
                               f"mapping size <{nbytes}>")
        if nbytes == 0:
            array = backend.empty((0,), kind.name)
        elif shared:
            array = interop.buffer_array(mmap.mmap(file.fileno(), nbytes), kind.name, size, 0)
        else:
            file.seek(0)
            array = interop.buffer_array(bytearray(file.read(nbytes)), kind.name, size, 0)
    result = _finish(array, backend, requires_grad)
    if pin_memory:
        result = result.pin_memory()
    return result if device is None else result.to(device)


# ----------------------------------------------------------------------------- factories
def _factory(function: str, size: tuple[Any, ...], keywords: dict[str, Any], out: Any,
             dtype: Any, layout: Any, device: Any, pin_memory: bool, requires_grad: bool,
             memory_format: Any = None) -> Tensor:
    """zeros, ones, empty: `backend.<function>(shape, dtype)`, default float."""
    shape = _size(size, function, keywords)
    place = _Placement(function, dtype, device, layout, pin_memory, out)
    check_memory_format(function, memory_format)
    kind = place.kind().name
    order = CHANNELS_LAST_ORDER.get(memory_format)
    if order is None:
        array = getattr(place.backend, function)(shape, kind)
    else:
        array = _channels_last(function, place.backend, shape, kind, order, memory_format)
    return place.made(array, requires_grad)


def _channels_last(function: str, backend: Any, shape: tuple[int, ...], kind: str,
                   order: tuple[int, ...], memory_format: Any) -> Any:
    """An array of `shape` whose memory holds the dims in `order` (channels innermost)."""
    if len(shape) != len(order):
        raise RuntimeError(f"required rank {len(order)} tensor to use {memory_format.name} "
                           "format")
    stored = getattr(backend, function)(tuple(shape[dim] for dim in order), kind)
    return backend.permute_dims(stored, tuple(order.index(dim) for dim in range(len(order))))


def zeros(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
          device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
          **size_keyword: Any) -> Tensor:
    """A tensor of zeros of shape `size` (ints, a sequence, or `size=`)."""
    return _factory("zeros", size, size_keyword, out, dtype, layout, device, pin_memory,
                    requires_grad)


def ones(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
         device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
         **size_keyword: Any) -> Tensor:
    return _factory("ones", size, size_keyword, out, dtype, layout, device, pin_memory,
                    requires_grad)


def empty(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
          device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
          memory_format: Any = None, **size_keyword: Any) -> Tensor:
    """An uninitialised tensor; `memory_format=torch.channels_last` lays a 4-d one out with
    the channels innermost."""
    return _factory("empty", size, size_keyword, out, dtype, layout, device, pin_memory,
                    requires_grad, memory_format)


def full(size: Any, fill_value: Any, *, out: Tensor | None = None, dtype: Any = None,
         layout: Any = None, device: Any = None, pin_memory: bool = False,
         requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with `fill_value`; the dtype follows the value (an int gives
    int64, a bool bool, a float the default float dtype) unless given."""
    if _is_int(size) and not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    shape = _size((size,), "full")
    if isinstance(fill_value, Tensor):
        if fill_value.ndim != 0:
            raise TypeError("full(): argument 'fill_value' (position 2) must be Number, not "
                            "Tensor")
        fill_value = fill_value.item()  # a number: any device's full() takes one
    elif not isinstance(fill_value, (bool, int, float)):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(fill_value).__name__}")
    place = _Placement("full", dtype, device, layout, pin_memory, out)
    kind = place.kind(dtypes.scalar_dtype(fill_value))
    fill_value = checked_number(fill_value, kind.name)
    if kind is dtypes.float32 and math.isfinite(fill_value) and abs(fill_value) > _FLOAT32_MAX:
        raise RuntimeError("value cannot be converted to type float without overflow")
    return place.made(place.backend.full(shape, fill_value, kind.name), requires_grad)


_FLOAT32_MAX = 3.4028234663852886e38


_EYE_SIGNATURES = (
    "int n, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
    "torch.device device = None, bool pin_memory = False, bool requires_grad = False",
    "int n, int m, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
    "torch.device device = None, bool pin_memory = False, bool requires_grad = False",
)


def eye(n: Any, m: Any = None, *, out: Tensor | None = None, dtype: Any = None,
        layout: Any = None, device: Any = None, pin_memory: bool = False,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity (m defaults to n)."""
    n = _int_argument("eye", "n", 1, n)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None:
        m = _int_argument("eye", "m", 2, m)
        if m < 0:
            raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    place = _Placement("eye", dtype, device, layout, pin_memory, out)
    return place.made(place.backend.eye(n, m, place.kind().name), requires_grad)


def arange(start: Any = None, end: Any = None, step: Any = 1, *, out: Tensor | None = None,
           dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: bool = False,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... below end (`arange(end)` starts at 0). Integer dtype unless a
    bound or the step is a float (then the default float dtype)."""
    if end is None:
        if start is None:
            raise TypeError('arange() missing 1 required positional arguments: "end"')
        start, end = 0, start
    elif start is None:
        start = 0
    for name, position, value in (("start", 1, start), ("end", 2, end), ("step", 3, step)):
        if isinstance(value, Tensor):
            continue
        if not isinstance(value, (bool, int, float)):
            shown = ("end", 1) if name == "end" and start == 0 and position == 2 else \
                (name, position)
            raise TypeError(f"arange(): argument '{shown[0]}' (position {shown[1]}) must be "
                            f"Number, not {type(value).__name__}")
    bounds = [value.item() if isinstance(value, Tensor) else value for value in
              (start, end, step)]
    place = _Placement("arange", dtype, device, layout, pin_memory, out)
    is_float = any(isinstance(value, float) for value in bounds)
    kind = place.kind(None if is_float else dtypes.int64)
    if kind is dtypes.bool_:
        raise NotImplementedError('"arange_cpu" not implemented for \'Bool\'')
    if not kind.is_floating_point:  # PyTorch steps integer ranges in int64
        bounds = [int(value) for value in bounds]
    first, last, stride = bounds
    if not all(math.isfinite(value) for value in bounds):
        raise RuntimeError(f"unsupported range: {first} -> {last}")
    if stride == 0:
        raise RuntimeError("step must be nonzero")
    if (last - first) / stride < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    # PyTorch counts ceil((end - start) / step) elements, computed in double precision.
    count = max(math.ceil((last - first) / stride), 0)
    backend = place.backend
    if kind.is_floating_point:
        array = backend.arange(0, count, 1, "float64")
        array = backend.astype(backend.add(backend.multiply(array, float(stride)), float(first)),
                               kind.name)
    else:
        array = backend.arange(first, first + count * stride, stride, kind.name)
    if out is not None and out.numel() != count:
        if out.numel():
            warn(
                f"The number of elements in the out tensor of shape {list(out.shape)} is "
                f"{out.numel()} which does not match the computed number of elements {count}. "
                "Note that this may occur as a result of rounding error. The out tensor will be "
                f"resized to a tensor of shape ({count},).", UserWarning, stacklevel=2)
        resize_out(out, (count,))
    return place.made(array, requires_grad)


def legacy_range(start: Any, end: Any = None, step: Any = 1, *, out: Tensor | None = None,
                 dtype: Any = None, layout: Any = None, device: Any = None,
                 pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """The deprecated torch.range (exported under that name): start, start + step, ... up to
    and including `end`, in the default float dtype unless `dtype`, even for integer bounds."""
    warn(
        "torch.range is deprecated and will be removed in a future release because its "
        "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, "
        "which produces values in [start, end).", UserWarning, stacklevel=2)
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    bounds = []
    for name, position, value in (("start", 1, start), ("end", 2, end), ("step", 3, step)):
        if isinstance(value, Tensor):
            value = value.item()
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"range(): argument '{name}' (position {position}) must be Number, "
                            f"not {type(value).__name__}")
        bounds.append(value)
    first, last, stride = bounds
    place = _Placement("range", dtype, device, layout, pin_memory, out)
    kind = place.kind()
    if kind is dtypes.bool_:
        raise NotImplementedError('"range_cpu" not implemented for \'Bool\'')
    if not all(math.isfinite(value) for value in bounds):
        raise RuntimeError(f"unsupported range: {first} -> {last}")
    if stride == 0:
        raise RuntimeError("step must be nonzero")
    if (last - first) / stride < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    count = int((last - first) / stride + 1)  # truncated, in double precision, as PyTorch
    backend = place.backend
    steps = backend.arange(0, count, 1, "float64")
    array = backend.add(backend.multiply(steps, float(stride)), float(first))
    if out is not None and out.numel() != count:
        resize_out(out, (count,))  # without out='s deprecation warning, as PyTorch's range
    return place.made(backend.astype(array, kind.name), requires_grad)


def _end_point(name: str, value: Any, which: str) -> Any:
    """start or end of linspace/logspace: a number, or a 0-d tensor's number."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"{name} only supports 0-dimensional start and end tensors, but got {which} "
                f"with {value.ndim} dimension(s)."
            )
        return value.item()
    return value


def _spaced(name: str, start: Any, end: Any, steps: int, place: _Placement,
            requires_grad: bool, base: float | None = None) -> Tensor:
    start, end = _end_point(name, start, "start"), _end_point(name, end, "end")
    steps = _int_argument(name, "steps", 3, steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    kind = place.kind()
    if kind is dtypes.bool_:
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')
    backend = place.backend
    array = (backend.linspace(start, end, steps, kind.name) if base is None
             else backend.logspace(start, end, steps, float(base), kind.name))
    return place.made(array, requires_grad)


def linspace(start: Any, end: Any, steps: int, *, out: Tensor | None = None,
             dtype: Any = None, layout: Any = None, device: Any = None,
             pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end (both included), PyTorch's values."""
    place = _Placement("linspace", dtype, device, layout, pin_memory, out)
    return _spaced("linspace", start, end, steps, place, requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *,
             out: Tensor | None = None, dtype: Any = None, layout: Any = None,
             device: Any = None, pin_memory: bool = False,
             requires_grad: bool = False) -> Tensor:
    """base ** linspace(start, end, steps)."""
    place = _Placement("logspace", dtype, device, layout, pin_memory, out)
    return _spaced("logspace", start, end, steps, place, requires_grad, base)


def _triangle_indices(name: str, row: int, col: int, offset: int, dtype: Any, device: Any,
                      lower: bool) -> Tensor:
    kind = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    if kind.category != 1:
        raise NotImplementedError(
            f'"{name}" not implemented for \'{dtypes.SCALAR_TYPE_NAMES[kind.name]}\'')
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    backend = _default_backend(device)
    rows = backend.reshape(backend.arange(0, row, 1, "int64"), (row, 1))
    cols = backend.reshape(backend.arange(0, col, 1, "int64"), (1, col))
    above = backend.subtract(cols, rows)  # how far right of the main diagonal
    keep = backend.less_equal(above, offset) if lower else backend.greater_equal(above, offset)
    found = backend.nonzero(keep)
    pair = backend.stack([backend.astype(found[0], kind.name),
                          backend.astype(found[1], kind.name)], axis=0)
    return _wrap(pair, backend)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None) -> Tensor:
    """The (row, column) indices of the lower triangle (diagonal `offset` and below) of a
    row x col matrix, in row-major order, as a 2 x N tensor."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, lower=True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None) -> Tensor:
    """The indices of the upper triangle (diagonal `offset` and above), as a 2 x N tensor."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, lower=False)


# ----------------------------------------------------------------------------- new_*
def _new(input: Tensor, kernel: str, size: tuple[int, ...], dtype: Any, device: Any,
         requires_grad: bool, *fill: Any) -> Tensor:
    """Tensor.new_zeros/new_ones/new_full/new_empty: `input`'s dtype and device unless given."""
    backend = input._backend if device is None else get_backend(device)
    kind = input.dtype if dtype is None else dtypes.to_dtype(dtype)
    array = getattr(backend, kernel)(size, *fill, kind.name)
    return _finish(array, backend, requires_grad)


def new_tensor(input: Tensor, data: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """A tensor holding a copy of `data`, with `input`'s dtype and device unless given."""
    if isinstance(data, Tensor):
        warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "tensor.new_tensor(sourceTensor).", UserWarning, stacklevel=3)
        if type(data._data) is SparseCOO:  # a copy of the sparse tensor, as PyTorch's
            copied = data.detach().to(device=input.device if device is None else device,
                                      dtype=input.dtype if dtype is None else dtype, copy=True)
            return copied.requires_grad_(requires_grad)
    return tensor(data, dtype=input.dtype if dtype is None else dtype,
                  device=input.device if device is None else device,
                  requires_grad=requires_grad)


def new_zeros(input: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _new(input, "zeros", _size(size, "new_zeros"), dtype, device, requires_grad)


def new_ones(input: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _new(input, "ones", _size(size, "new_ones"), dtype, device, requires_grad)


def new_empty(input: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _new(input, "empty", _size(size, "new_empty"), dtype, device, requires_grad)


def new_full(input: Tensor, size: Any, fill_value: Any, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    if isinstance(size, int):
        raise TypeError("new_full(): argument 'size' (position 1) must be tuple of ints, not "
                        "int")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _new(input, "full", _size((size,), "new_full"), dtype, device, requires_grad, fill_value)


# ----------------------------------------------------------------------------- random
_DRAW_OPTIONS = ("Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
                 "torch.device device = None, bool pin_memory = False, bool requires_grad = "
                 "False")


def _signatures(*heads: str) -> tuple[str, ...]:
    """PyTorch lists each random factory twice: with a generator and without."""
    return tuple(signature for head in heads for signature in (
        f"{head}, *, torch.Generator generator, {_DRAW_OPTIONS}", f"{head}, *, {_DRAW_OPTIONS}"))


_SIZE_SIGNATURES = _signatures("tuple of ints size")
_RANDINT_SIGNATURES = _signatures("int high, tuple of ints size",
                                  "int low, int high, tuple of ints size")
_RANDPERM_SIGNATURES = _signatures("int n")


def _draw(function: str, kernel: str, size: tuple[Any, ...], keywords: dict[str, Any],
          generator: Any, out: Any, dtype: Any, layout: Any, device: Any, pin_memory: bool,
          requires_grad: bool) -> Tensor:
    """rand, randn: `backend.<kernel>(shape, dtype)` from `generator`, default float."""
    call = {"generator": generator, "out": out, "dtype": dtype, "layout": layout,
            "device": device, "pin_memory": pin_memory, "requires_grad": requires_grad}
    unknown = set(keywords) - {"size"}
    if (not size and "size" not in keywords) or unknown:
        given = {key: value for key, value in {**call, **keywords}.items()
                 if value is not None and value is not False}
        raise invalid_arguments(function, size, given, _SIZE_SIGNATURES)
    shape = _size(size, function, keywords)
    place = _Placement(function, dtype, device, layout, pin_memory, out)
    kind = place.kind()
    _check_floating_draw(kernel, place.backend, kind)
    return place.made(draw(function, place.backend, generator, kernel, shape, kind.name),
                      requires_grad)


def _check_floating_draw(kernel: str, backend: Any, kind: dtypes.dtype) -> None:
    """rand and randn draw floats only, with PyTorch's kernel errors for other dtypes."""
    if not kind.is_floating_point:
        name = "check_uniform_bounds" if kernel == "rand" else \
            f"normal_kernel_{backend.device.type}"
        raise NotImplementedError(
            f'"{name}" not implemented for \'{dtypes.SCALAR_TYPE_NAMES[kind.name]}\'')


@random_op
def rand(*size: Any, generator: Any = None, out: Tensor | None = None, dtype: Any = None,
         layout: Any = None, device: Any = None, pin_memory: bool = False,
         requires_grad: bool = False, **size_keyword: Any) -> Tensor:
    """Uniform on [0, 1), from `generator` or the device's default generator."""
    return _draw("rand", "rand", size, size_keyword, generator, out, dtype, layout, device,
                 pin_memory, requires_grad)


@random_op
def randn(*size: Any, generator: Any = None, out: Tensor | None = None, dtype: Any = None,
          layout: Any = None, device: Any = None, pin_memory: bool = False,
          requires_grad: bool = False, **size_keyword: Any) -> Tensor:
    """Standard normal, from `generator` or the device's default generator."""
    return _draw("randn", "randn", size, size_keyword, generator, out, dtype, layout, device,
                 pin_memory, requires_grad)


@random_op
def randint(*args: Any, generator: Any = None, out: Tensor | None = None, dtype: Any = None,
            layout: Any = None, device: Any = None, pin_memory: bool = False,
            requires_grad: bool = False, **bounds: Any) -> Tensor:
    """Integers drawn uniformly from [low, high): `randint(high, size)` or
    `randint(low, high, size)` (positionally or as low=/high=/size=), int64 unless `dtype`."""
    low, high, size = _randint_arguments(args, bounds, {
        "generator": generator, "out": out, "dtype": dtype, "layout": layout, "device": device,
        "pin_memory": pin_memory, "requires_grad": requires_grad})
    place = _Placement("randint", dtype, device, layout, pin_memory, out)
    kind = place.kind(dtypes.int64)
    _check_randint_bounds(low, high, kind)
    backend = place.backend
    drawn = kind if kind.category == 1 else dtypes.int64
    array = draw("randint", backend, generator, "randint", low, high, size, drawn.name)
    if drawn is not kind:
        array = backend.astype(array, kind.name)
    return place.made(array, requires_grad)


def _randint_arguments(args: tuple[Any, ...], bounds: dict[str, Any],
                       options: dict[str, Any]) -> tuple[int, int, tuple[int, ...]]:
    """(low, high, size) from randint's two overloads, with PyTorch's argument errors."""
    names = ("low", "high", "size") if len(args) + len(bounds) >= 3 or "low" in bounds \
        else ("high", "size")
    given = dict(zip(names, args))
    for key, value in bounds.items():
        if key not in names or key in given:
            shown = {key: value for key, value in options.items()
                     if value is not None and value is not False}
            raise invalid_arguments("randint", args, {**bounds, **shown}, _RANDINT_SIGNATURES)
        given[key] = value
    if len(args) > len(names) or set(given) != set(names):
        shown = {key: value for key, value in options.items()
                 if value is not None and value is not False}
        raise invalid_arguments("randint", args, {**bounds, **shown}, _RANDINT_SIGNATURES)
    values: dict[str, Any] = {}
    for position, name in enumerate(names, start=1):
        value = given[name]
        where = f" (position {position})" if position <= len(args) else ""
        if name == "size":
            if not isinstance(value, (tuple, list)):
                raise TypeError(f"randint(): argument 'size'{where} must be tuple of ints, not "
                                f"{type(value).__name__}")
            values[name] = _size((value,), "randint")
        else:
            if isinstance(value, bool) or not _is_int(value):
                raise TypeError(f"randint(): argument '{name}'{where} must be int, not "
                                f"{type(value).__name__}")
            values[name] = operator.index(value)
    return values.get("low", 0), values["high"], values["size"]


def _check_randint_bounds(low: int, high: int, kind: dtypes.dtype) -> None:
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    if kind.category == 2:
        return
    if kind is dtypes.bool_:
        smallest, largest = 0, 1
    else:
        smallest, largest = integer_bounds(kind.name)
    type_name = dtypes.CPP_TYPE_NAMES[kind.name] if kind is not dtypes.bool_ else "bool"
    if not smallest <= low <= largest:
        raise RuntimeError(f"from is out of bounds for {type_name}")
    if not smallest <= high - 1 <= largest:
        raise RuntimeError(f"to - 1 is out of bounds for {type_name}")


@random_op
def randperm(*args: Any, generator: Any = None, out: Tensor | None = None, dtype: Any = None,
             layout: Any = None, device: Any = None, pin_memory: bool = False,
             requires_grad: bool = False, **keywords: Any) -> Tensor:
    """0 .. n-1 in random order (int64 unless `dtype`)."""
    given = dict(keywords)
    if len(args) > 1 or (args and "n" in given) or set(given) - {"n"} or not (args or given):
        options = {key: value for key, value in {
            "generator": generator, "out": out, "dtype": dtype, "layout": layout,
            "device": device, "pin_memory": pin_memory, "requires_grad": requires_grad}.items()
            if value is not None and value is not False}
        raise invalid_arguments("randperm", args, {**keywords, **options}, _RANDPERM_SIGNATURES)
    n = _int_argument("randperm", "n", 1, args[0] if args else given["n"])
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    place = _Placement("randperm", dtype, device, layout, pin_memory, out)
    kind = place.kind(dtypes.int64)
    if kind is dtypes.bool_:
        raise NotImplementedError('"randperm" not implemented for \'Bool\'')
    if kind.category == 1 and n > integer_bounds(kind.name)[1] + 1:
        raise RuntimeError(f"value cannot be converted to type {_CHECKED_NAMES[kind.name]} "
                           "without overflow")
    array = draw("randperm", place.backend, generator, "randperm", n, kind.name)
    return place.made(array, requires_grad)


_CHECKED_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
                  "int64": "int64_t"}


# ----------------------------------------------------------------------------- ..._like
def _like_backend(function: str, input: Tensor, dtype: Any, device: Any, layout: Any,
                  pin_memory: bool, memory_format: Any) -> tuple[Any, dtypes.dtype]:
    check_layout(function, layout)
    check_memory_format(function, memory_format)
    if pin_memory:
        raise RuntimeError(f"{function}(): pin_memory=True is only available on the factories "
                           "that make new CPU tensors (empty, zeros, tensor, ...)")
    if memory_format in CHANNELS_LAST_ORDER:
        raise RuntimeError(f"{function}(): memory_format={memory_format} is not supported: "
                           "the ..._like functions make row-major (contiguous) tensors")
    kind = _dtype_argument(function, dtype)
    backend = input._backend if device is None else get_backend(device)
    return backend, input.dtype if kind is None else kind


def _like(function: str, kernel: str, input: Tensor, dtype: Any, layout: Any, device: Any,
          pin_memory: bool, requires_grad: bool, memory_format: Any, *fill: Any) -> Tensor:
    """The ..._like functions: `backend.<kernel>(input's shape, *fill, dtype)` with input's
    dtype and device unless given, laid out as input (preserve_format) or in `memory_format`."""
    order = _like_order(function, input, memory_format)
    backend, kind = _like_backend(function, input, dtype, device, layout, pin_memory, None)
    if input.is_sparse or type(input._data) is SparseCompressed:
        return sparse_like(kernel, input, backend, kind, requires_grad)
    shape = input._data.shape
    if order is None:
        return _finish(getattr(backend, kernel)(shape, *fill, kind.name), backend, requires_grad)
    stored = getattr(backend, kernel)(tuple(shape[dim] for dim in order), *fill, kind.name)
    array = backend.permute_dims(stored, tuple(order.index(dim) for dim in range(len(order))))
    if memory_format not in CHANNELS_LAST_ORDER and backend.strides(array) != input.stride():
        # the dims of size 1, whose strides address nothing: PyTorch copies input's
        array = backend.restrided(array, shape, input.stride())
    return _finish(array, backend, requires_grad)


def _like_order(function: str, input: Tensor, memory_format: Any) -> tuple[int, ...] | None:
    """The dim order in memory (outermost first) of a ..._like result; None for row-major.
    preserve_format (the default) keeps the order of a dense input's strides, as PyTorch."""
    check_memory_format(function, memory_format)
    ndim = input._data.ndim
    if memory_format in CHANNELS_LAST_ORDER:
        order = CHANNELS_LAST_ORDER[memory_format]
        if len(order) != ndim:
            raise RuntimeError(f"required rank {len(order)} tensor to use "
                               f"{memory_format.name} format")
        return order
    if memory_format is contiguous_format or input.is_sparse or input._batched or \
            type(input._data) is SparseCompressed:
        return None
    strides = input.stride()
    order = tuple(sorted(range(ndim), key=lambda dim: -strides[dim]))
    if order == tuple(range(ndim)) or not dense_in_order(input._data.shape, strides, order):
        return None
    return order


def sparse_like(kernel: str, input: Tensor, backend: Any, kind: dtypes.dtype,
                requires_grad: bool) -> Tensor:
    """zeros_like / empty_like of a sparse tensor: a sparse one with no entries. PyTorch fills
    no sparse tensor: ones_like and full_like refuse."""
    if kernel not in ("zeros", "empty"):
        refuse_operator("aten::fill_.Scalar", input.device)
    data = input._data
    if type(data) is SparseCompressed:
        return _finish(emptied(backend, data, kind.name), backend, requires_grad)
    indices = backend.zeros((data.sparse_dim, 0), "int64")
    values = backend.zeros((0, *data.shape[data.sparse_dim:]), kind.name)
    return _finish(SparseCOO(indices, values, data.shape, True), backend, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               pin_memory: bool = False, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    return _like("zeros_like", "zeros", input, dtype, layout, device, pin_memory, requires_grad,
                 memory_format)


def ones_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              pin_memory: bool = False, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    return _like("ones_like", "ones", input, dtype, layout, device, pin_memory, requires_grad,
                 memory_format)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, layout: Any = None,
              device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    kind = input.dtype if dtype is None else _dtype_argument("full_like", dtype)
    assert kind is not None
    fill_value = checked_number(fill_value, kind.name)
    return _like("full_like", "full", input, dtype, layout, device, pin_memory, requires_grad,
                 memory_format, fill_value)


def empty_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               pin_memory: bool = False, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    return _like("empty_like", "empty", input, dtype, layout, device, pin_memory, requires_grad,
                 memory_format)


@random_op
def rand_like(input: Tensor, *, generator: Any = None, dtype: Any = None, layout: Any = None,
              device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    return _draw_like("rand_like", "rand", input, generator, dtype, layout, device, pin_memory,
                      requires_grad, memory_format)


@random_op
def randn_like(input: Tensor, *, generator: Any = None, dtype: Any = None, layout: Any = None,
               device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    return _draw_like("randn_like", "randn", input, generator, dtype, layout, device,
                      pin_memory, requires_grad, memory_format)


@random_op
@random_op
def randint_like(input: Tensor, low: int = 0, high: Any = None, *, generator: Any = None,
                 dtype: Any = None, layout: Any = None, device: Any = None,
                 pin_memory: bool = False, requires_grad: bool = False,
                 memory_format: Any = None) -> Tensor:
    """Integers drawn uniformly from [low, high) (`randint_like(input, high)`: from [0, high)),
    in a tensor of input's shape, dtype and device unless given."""
    if high is None:
        low, high = 0, low
    low = _int_argument("randint_like", "low", 2, low)
    high = _int_argument("randint_like", "high", 3, high)
    backend, kind = _like_backend("randint_like", input, dtype, device, layout, pin_memory,
                                  memory_format)
    _check_randint_bounds(low, high, kind)
    drawn = kind if kind.category == 1 else dtypes.int64
    array = draw("randint_like", backend, generator, "randint", low, high, input._data.shape,
                 drawn.name)
    if drawn is not kind:
        array = backend.astype(array, kind.name)
    return _finish(array, backend, requires_grad)


def _draw_like(function: str, kernel: str, input: Tensor, generator: Any, dtype: Any,
               layout: Any, device: Any, pin_memory: bool, requires_grad: bool,
               memory_format: Any) -> Tensor:
    backend, kind = _like_backend(function, input, dtype, device, layout, pin_memory,
                                  memory_format)
    _check_floating_draw(kernel, backend, kind)
    array = draw(function, backend, generator, kernel, input._data.shape, kind.name)
    return _finish(array, backend, requires_grad)


def scalar_tensor(s: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
                  pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number `s`, in the default float dtype unless `dtype`."""
    if isinstance(s, Tensor):
        if s.numel() != 1:
            raise TypeError("scalar_tensor(): argument 's' (position 1) must be Number, not "
                            "Tensor")
        s = s.item()
    if not isinstance(s, (bool, int, float)):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not "
                        f"{type(s).__name__}")
    place = _Placement("scalar_tensor", dtype, device, layout, pin_memory)
    kind = place.kind()
    return place.made(place.backend.full((), checked_number(s, kind.name), kind.name),
                      requires_grad)


def is_tensor(obj: object) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()
