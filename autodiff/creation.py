"""Creation functions: tensor, zeros, ones, full, eye, arange, rand, randn, randint, randperm,
..._like."""

from __future__ import annotations

import math
from typing import Any

from backends import get_backend

from . import dtypes
from .generator import draw
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
        # Python floats arrive as float64; PyTorch gives them the default float dtype.
        if dtype is None and not _is_array(data) and backend.dtype_name(array) == "float64":
            dtype = dtypes.get_default_dtype()
    if dtype is not None:
        name = dtypes.to_dtype(dtype).name
        if backend.dtype_name(array) != name:
            array = backend.astype(array, name)
    return _finish(array, backend, requires_grad)


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
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: Any) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array."""
    backend = get_backend("cpu")
    return _wrap(backend.from_numpy(array), backend)


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


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    backend = _device_backend(device)
    return _finish(backend.linspace(start, end, steps, _float_dtype(dtype)), backend,
                   requires_grad)


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
