"""Creation functions: tensor, zeros, ones, full, eye, arange, rand, randn, randint, randperm,
..._like."""

from __future__ import annotations

import math
import warnings
from typing import Any

from backends import get_backend, interop
from backends.dlpack import is_capsule

from . import dtypes
from .generator import draw
from .ops._promotion import checked_number
from .tensor import Tensor, _wrap


def _finish(data: Any, backend: Any, requires_grad: bool) -> Tensor:
    out = _wrap(data, backend)
    if requires_grad:
        # The factories' wording (capital O), not requires_grad_'s.
        out._set_requires_grad(True, "Only Tensors of floating point and complex dtype can "
                                     "require gradients")
    return out


def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and not isinstance(size[0], int):
        size = tuple(size[0])
    for value in size:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(
                f"zeros(): argument 'size' must be tuple of ints, but found element of type "
                f"{type(value).__name__}"
            )
        if value < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {value}: {list(size)}"
            )
    return tuple(size)


def _float_dtype(dtype: Any) -> str:
    kind = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    return kind.name


def _device_backend(device: Any) -> Any:
    return get_backend("cpu" if device is None else device)


def tensor(data: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, numbers, arrays or a Tensor)."""
    if isinstance(data, Tensor):
        backend = get_backend(device) if device is not None else data._backend
        source = data.detach()
        array = backend.transfer(source._data, source._backend) if backend is not data._backend \
            else backend.asarray(source._data, copy=True)
    else:
        backend = _device_backend(device)
        data = _unwrap_nested(data)
        array = backend.asarray(data, copy=True) if _is_array(data) else backend.asarray(data)
        # Python floats (complex numbers) arrive as float64 (complex128); PyTorch gives them
        # the default float (complex) dtype.
        if dtype is None and not _is_array(data):
            name = backend.dtype_name(array)
            if name == "float64":
                dtype = dtypes.get_default_dtype()
            elif name == "complex128":
                dtype = dtypes.default_complex()
    if dtype is not None:
        name = dtypes.to_dtype(dtype).name
        if backend.dtype_name(array) != name:
            if not isinstance(data, Tensor) and not _is_array(data) and array.size:
                _check_fits(backend, array, name)
            array = backend.astype(array, name)
    return _finish(array, backend, requires_grad)


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
    """Nested lists may hold 0-d Tensors; turn those into Python numbers."""
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(item) for item in data]
    if isinstance(data, Tensor):
        return data.tolist()
    return data


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor, sharing memory where it can: a Tensor is returned itself (or
    converted with `to`, recording the conversion), a NumPy array or DLPack producer is wrapped
    without a copy unless `dtype`/`device` ask for another; anything else is copied."""
    if isinstance(data, Tensor):
        return _converted(data, dtype, device)
    if interop.is_numpy_array(data):
        return _converted(from_numpy(data), dtype, device)
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
    if isinstance(obj, Tensor):
        result = obj
    elif interop.is_numpy_array(obj):
        result = from_numpy(obj)
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
        result = frombuffer(obj, dtype=dtypes.get_default_dtype() if dtype is None else dtype)
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
            warnings.warn(
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
    dtype autodiff has, no negative strides, native byte order."""
    backend = get_backend("cpu")
    return _wrap(backend.from_numpy(interop.shareable_array(ndarray)), backend)


def frombuffer(buffer: Any, *, dtype: Any = None, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-D CPU tensor over an object's buffer (bytes, bytearray, memoryview, array.array...),
    `count` elements of `dtype` from byte `offset`, without copying."""
    if dtype is None:
        raise TypeError('frombuffer() missing 1 required positional arguments: "dtype"')
    backend = get_backend("cpu")
    array = interop.buffer_array(buffer, dtypes.to_dtype(dtype).name, count, offset)
    return _finish(array, backend, requires_grad)


def _factory(kernel: str, size: tuple[Any, ...], dtype: Any, device: Any,
             requires_grad: bool) -> Tensor:
    """zeros, ones, empty: `backend.<kernel>(shape, dtype)`, default float."""
    backend = _device_backend(device)
    array = getattr(backend, kernel)(_size(size), _float_dtype(dtype))
    return _finish(array, backend, requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _factory("zeros", size, dtype, device, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return _factory("ones", size, dtype, device, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _factory("empty", size, dtype, device, requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    backend = _device_backend(device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()  # a number: any device's full() takes one
    kind = dtypes.scalar_dtype(fill_value) if dtype is None else dtypes.to_dtype(dtype)
    fill_value = checked_number(fill_value, kind.name)
    shape = _size((size,) if isinstance(size, int) else tuple(size))
    return _finish(backend.full(shape, fill_value, kind.name), backend, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    backend = _device_backend(device)
    return _finish(backend.eye(n, m, _float_dtype(dtype)), backend, requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        kind = dtypes.get_default_dtype() if is_float else dtypes.int64
    else:
        kind = dtypes.to_dtype(dtype)
    backend = _device_backend(device)
    # PyTorch counts ceil((end - start) / step) elements, computed in double precision.
    count = max(math.ceil((end - start) / step), 0)
    if kind.is_floating_point:
        array = backend.arange(0, count, 1, "float64")
        array = backend.astype(backend.add(backend.multiply(array, float(step)), float(start)),
                               kind.name)
    else:
        array = backend.arange(start, start + count * step, step, kind.name)
    return _finish(array, backend, requires_grad)


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


def _spaced(name: str, start: Any, end: Any, steps: int, dtype: Any, device: Any,
            requires_grad: bool, base: float | None = None) -> Tensor:
    start, end = _end_point(name, start, "start"), _end_point(name, end, "end")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    backend = _device_backend(device)
    kind = _float_dtype(dtype)
    array = (backend.linspace(start, end, int(steps), kind) if base is None
             else backend.logspace(start, end, int(steps), float(base), kind))
    return _finish(array, backend, requires_grad)


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end (both included), PyTorch's values."""
    return _spaced("linspace", start, end, steps, dtype, device, requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """base ** linspace(start, end, steps)."""
    return _spaced("logspace", start, end, steps, dtype, device, requires_grad, base)


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
    backend = _device_backend(device)
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
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "tensor.new_tensor(sourceTensor).", UserWarning, stacklevel=3)
    return tensor(data, dtype=input.dtype if dtype is None else dtype,
                  device=input.device if device is None else device,
                  requires_grad=requires_grad)


def new_zeros(input: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _new(input, "zeros", _size(size), dtype, device, requires_grad)


def new_ones(input: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _new(input, "ones", _size(size), dtype, device, requires_grad)


def new_empty(input: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _new(input, "empty", _size(size), dtype, device, requires_grad)


def new_full(input: Tensor, size: Any, fill_value: Any, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    if isinstance(size, int):
        raise TypeError("new_full(): argument 'size' (position 1) must be tuple of ints, not "
                        "int")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _new(input, "full", _size((size,)), dtype, device, requires_grad, fill_value)


def _draw(function: str, kind: str, size: tuple[Any, ...], dtype: Any, device: Any,
          requires_grad: bool, generator: Any) -> Tensor:
    """rand, randn: `backend.<kind>(shape, dtype)` from `generator`, default float."""
    backend = _device_backend(device)
    array = draw(function, backend, generator, kind, _size(size), _float_dtype(dtype))
    return _finish(array, backend, requires_grad)


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from `generator` or the device's default generator."""
    return _draw("rand", "rand", size, dtype, device, requires_grad, generator)


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal, from `generator` or the device's default generator."""
    return _draw("randn", "randn", size, dtype, device, requires_grad, generator)


def randint(low: int, high: Any = None, size: Any = None, *, generator: Any = None,
            dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high) (`randint(high, size)`: from [0, high))."""
    if size is None:
        low, high, size = 0, low, high
    backend = _device_backend(device)
    kind = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    shape = _size((size,) if isinstance(size, int) else tuple(size))
    array = draw("randint", backend, generator, "randint", low, high, shape, kind.name)
    return _finish(array, backend, requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """0 .. n-1 in random order."""
    backend = _device_backend(device)
    kind = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    array = draw("randperm", backend, generator, "randperm", n, kind.name)
    return _finish(array, backend, requires_grad)


def _like(kernel: str, input: Tensor, dtype: Any, device: Any, requires_grad: bool,
          *fill: Any) -> Tensor:
    """The ..._like functions: `backend.<kernel>(input's shape, *fill, dtype)` with input's
    dtype and device unless given."""
    backend = input._backend if device is None else get_backend(device)
    kind = input.dtype if dtype is None else dtypes.to_dtype(dtype)
    array = getattr(backend, kernel)(input._data.shape, *fill, kind.name)
    return _finish(array, backend, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return _like("zeros", input, dtype, device, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _like("ones", input, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _like("full", input, dtype, device, requires_grad, fill_value)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return _like("empty", input, dtype, device, requires_grad)


def rand_like(input: Tensor, *, generator: Any = None, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _draw_like("rand_like", "rand", input, dtype, device, requires_grad, generator)


def randn_like(input: Tensor, *, generator: Any = None, dtype: Any = None,
               device: Any = None, requires_grad: bool = False) -> Tensor:
    return _draw_like("randn_like", "randn", input, dtype, device, requires_grad, generator)


def randint_like(input: Tensor, low: int = 0, high: Any = None, *, generator: Any = None,
                 dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high) (`randint_like(input, high)`: from [0, high)),
    in a tensor of input's shape, dtype and device unless given."""
    if high is None:
        low, high = 0, low
    backend = input._backend if device is None else get_backend(device)
    kind = input.dtype if dtype is None else dtypes.to_dtype(dtype)
    array = draw("randint_like", backend, generator, "randint", int(low), int(high),
                 input._data.shape, "int64")
    return _finish(backend.astype(array, kind.name), backend, requires_grad)


def _draw_like(function: str, kind: str, input: Tensor, dtype: Any, device: Any,
               requires_grad: bool, generator: Any) -> Tensor:
    backend = input._backend if device is None else get_backend(device)
    kind_dtype = input.dtype if dtype is None else dtypes.to_dtype(dtype)
    array = draw(function, backend, generator, kind, input._data.shape, kind_dtype.name)
    return _finish(array, backend, requires_grad)


def is_tensor(obj: object) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()
