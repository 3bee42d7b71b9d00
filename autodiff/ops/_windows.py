"""What the windowed families (convolution, pooling, unfold/fold) share: padded copies and
crops of arrays, the windows of a pooling and their adjoint, and PyTorch's output-size rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backends import Backend

Pairs = tuple[tuple[int, int], ...]


def symmetric(padding: Sequence[int]) -> Pairs:
    """(p, p) for each spatial dim."""
    return tuple((int(p), int(p)) for p in padding)


def pad_array(backend: Backend, array: Any, padding: Pairs, value: Any = 0) -> Any:
    """`array` with its trailing len(padding) dims padded by `value` (the array itself when
    there is nothing to pad)."""
    if not any(before or after for before, after in padding):
        return array
    lead = array.ndim - len(padding)
    shape = (*array.shape[:lead],
             *(size + before + after for size, (before, after) in
               zip(array.shape[lead:], padding)))
    dtype = backend.dtype_name(array)
    out = backend.zeros(shape, dtype) if value == 0 else backend.full(shape, value, dtype)
    backend.setitem(out, interior(padding, array.shape[lead:]), array)
    return out


def interior(padding: Pairs, spatial: Sequence[int]) -> tuple[Any, ...]:
    """The key of the unpadded region inside a padded array."""
    return (..., *(slice(before, before + size) for (before, _), size in zip(padding, spatial)))


# ----------------------------------------------------------------------------- pooling
@dataclass(frozen=True)
class PoolGeometry:
    """The windows of a pooling over the trailing dims: `padding` (before, after) includes the
    extra cells ceil_mode's last windows reach; `positions` is the output's spatial shape."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: Pairs
    dilation: tuple[int, ...]
    positions: tuple[int, ...]


def windows_of(backend: Backend, x: Any, geometry: PoolGeometry, fill: Any) -> Any:
    """(*leading, *positions, *kernel): the pooling windows of x padded with `fill`."""
    padded = pad_array(backend, x, geometry.padding, fill)
    windows = backend.sliding_windows(padded, geometry.kernel, geometry.stride,
                                      geometry.dilation)
    count = len(geometry.kernel)
    lead = x.ndim - count
    if tuple(windows.shape[lead:lead + count]) != geometry.positions:
        windows = backend.getitem(windows, (..., *(slice(0, p) for p in geometry.positions),
                                             *(slice(None),) * count))
    return windows


def fold_into(backend: Backend, windows: Any, geometry: PoolGeometry,
              spatial: Sequence[int]) -> Any:
    """The adjoint of `windows_of`: windows added back into an array of the input's shape."""
    return backend.fold_windows(windows, tuple(spatial), geometry.stride, geometry.dilation,
                                tuple(before for before, _ in geometry.padding))


def pooling_output_size(size: int, kernel: int, pad: int, stride: int, dilation: int,
                        ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: the number of windows, with its argument checks. In
    ceil_mode the last window must start inside the input or its left padding."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > ((kernel - 1) * dilation + 1) // 2:
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={pad}, "
            f"kernel_size={kernel} and dilation={dilation}")
    span = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


@dataclass(frozen=True)
class PoolArguments:
    """A pooling's arguments as the caller gave them, which PyTorch's node keeps (`given`)."""

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool
    count_include_pad: bool = True  # average pooling's
    divisor_override: int | None = None


def given(value: Any, count: int) -> tuple[int, ...]:
    """An int-list argument as PyTorch's node keeps it: an int once per dim, a sequence as it
    is (an omitted stride empty)."""
    if value is None:
        return ()
    if isinstance(value, int):
        return (value,) * count
    return tuple(int(v) for v in value)


def pool_geometry(spatial: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                  padding: Sequence[int], dilation: Sequence[int],
                  positions: Sequence[int]) -> PoolGeometry:
    """The geometry of a pooling whose output has `positions` windows per dim: the right
    padding grows where ceil_mode's last window reaches past the padded input."""
    pairs = []
    for size, k, s, p, d, out in zip(spatial, kernel, stride, padding, dilation, positions):
        reach = (out - 1) * s + d * (k - 1) + 1
        pairs.append((p, max(p, reach - size - p)))
    return PoolGeometry(tuple(kernel), tuple(stride), tuple(pairs), tuple(dilation),
                        tuple(positions))


def as_tuple(value: Any, count: int, message: str, allow_empty: bool = False) -> tuple[int, ...]:
    """An int or a sequence of 1 or `count` ints as `count` ints; RuntimeError(message) else."""
    values = [value] if isinstance(value, int) else list(value)
    if allow_empty and not values:
        return ()
    if len(values) == 1:
        values = values * count
    if len(values) != count:
        raise RuntimeError(message)
    return tuple(int(v) for v in values)
