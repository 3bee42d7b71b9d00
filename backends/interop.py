"""Host arrays from the outside world: NumPy arrays and scalars and Python buffers, checked as
`torch.from_numpy` / `torch.frombuffer` check them, so `autodiff/` never handles NumPy itself.

Every function that returns an array returns a CPU-backend (NumPy) array; "shares" means no copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import DTYPE_NAMES

_SUPPORTED = ("float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
              "uint8, and bool")
def is_numpy_array(obj: Any) -> bool:
    return isinstance(obj, np.ndarray)


def is_numpy_scalar(obj: Any) -> bool:
    return isinstance(obj, np.generic)


def _type_name(obj: Any) -> str:
    kind = type(obj)
    if kind.__module__ == "builtins":
        return kind.__name__
    module = "numpy" if kind.__module__.startswith("numpy") else kind.__module__
    return f"{module}.{kind.__name__}"


# NumPy dtype -> autodiff's name (a dict lookup: `dtype.name` costs microseconds).
# NumPy has no bfloat16 (ml_dtypes' is not shared with NumPy arrays, as in PyTorch).
_NAMES = {np.dtype(name): name for name in DTYPE_NAMES if name != "bfloat16"}


def _dtype_name(dtype: Any) -> str:
    """autodiff's name for a NumPy dtype, or TypeError naming it as torch.from_numpy does."""
    name = _NAMES.get(dtype)
    if name is None and dtype.kind in "biuf":
        name = _NAMES.get(dtype.newbyteorder("="))  # the byte order is checked on its own
    if name is not None:
        return name
    module = "numpy" if dtype.type.__module__.startswith("numpy") else dtype.type.__module__
    raise TypeError(
        f"can't convert np.ndarray of type {module}.{dtype.type.__name__}. The only supported "
        f"types are: {_SUPPORTED}."
    )


def shareable_array(obj: Any) -> Any:
    """`obj` itself, after torch.from_numpy's checks: an ndarray of a dtype autodiff has, no
    negative strides, native byte order."""
    if not isinstance(obj, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {_type_name(obj)})")
    _dtype_name(obj.dtype)
    if any(stride < 0 for stride in obj.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making a "
            "copy of your array  with array.copy().) "
        )
    if not obj.dtype.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. Conversion "
            "between byte orders is currently not supported."
        )
    return obj


def read_only(array: Any) -> bool:
    """Whether a host array may not be written (made from a read-only array or buffer)."""
    return not array.flags.writeable


def scalar_array(obj: Any) -> Any:
    """A NumPy scalar as a new 0-d array of its own dtype."""
    _dtype_name(np.asarray(obj).dtype)
    return np.array(obj)


def is_buffer(obj: Any) -> bool:
    """Whether `obj` exposes Python's buffer protocol (str does not count, as in PyTorch)."""
    if isinstance(obj, str):
        return False
    try:
        memoryview(obj).release()
    except TypeError:
        return False
    return True


def buffer_array(buffer: Any, dtype: str, count: int, offset: int) -> Any:
    """A 1-D array over `buffer`'s bytes from `offset` (no copy), with torch.frombuffer's checks
    and messages. A read-only buffer gives a read-only array."""
    if isinstance(buffer, str) or not is_buffer(buffer):
        raise ValueError("object does not implement Python buffer protocol.")
    view = memoryview(buffer)
    if not view.contiguous:
        raise RuntimeError("could not retrieve buffer from object")
    length = view.nbytes
    itemsize = np.dtype(dtype).itemsize
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({length} bytes) minus 1")
    if count < 0 and (length - offset) % itemsize:
        raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) "
                         f"must be a multiple of element size ({itemsize})")
    actual = (length - offset) // itemsize if count < 0 else count
    if offset + actual * itemsize > length:
        raise ValueError(f"requested buffer length ({actual} * {itemsize} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({length} bytes)")
    return np.frombuffer(view.cast("B"), dtype=dtype, count=actual, offset=offset)


def array_protocol(array: Any, dtype: Any, copy: bool | None) -> Any:
    """What `Tensor.__array__(dtype, copy)` returns for a host array, as NumPy's protocol asks:
    the array itself when allowed, a copy when asked for or needed, ValueError when a copy is
    needed but `copy=False`."""
    if dtype is not None and np.dtype(dtype) != array.dtype:
        if copy is False:
            raise ValueError("Unable to avoid copy while creating an array as requested.")
        return array.astype(dtype)
    return array.copy() if copy else array
