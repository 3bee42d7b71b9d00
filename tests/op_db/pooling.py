"""Op table entries: max, average, power-average, adaptive pooling and max unpooling.

The NumPy references stack each window's elements with one strided slice per kernel tap (max
and average pooling) or loop over the adaptive windows, independently of the library's strided
window view and taps.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

import autodiff
import autodiff.nn.functional as F

from .info import OpInfo, Sample


def _expand(value: Any, count: int) -> tuple[int, ...]:
    return (value,) * count if isinstance(value, int) else tuple(value)


def _output_size(size: int, k: int, p: int, s: int, d: int, ceil_mode: bool) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _windows(x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...],
             padding: tuple[int, ...], dilation: tuple[int, ...], ceil_mode: bool,
             fill: float) -> tuple[np.ndarray, tuple[int, ...]]:
    """(*leading, *positions, taps): each window's elements, padded with `fill`."""
    count = len(kernel)
    spatial = x.shape[-count:]
    positions = tuple(_output_size(*args, ceil_mode) for args in
                      zip(spatial, kernel, padding, stride, dilation))
    pads = [(p, max(p, (o - 1) * s + d * (k - 1) + 1 - size - p)) for size, k, s, p, d, o in
            zip(spatial, kernel, stride, padding, dilation, positions)]
    padded = np.pad(x, [(0, 0)] * (x.ndim - count) + pads, constant_values=fill)
    taps = [padded[(..., *(slice(t * d, t * d + s * (o - 1) + 1, s) for t, o, s, d in
                          zip(tap, positions, stride, dilation)))]
            for tap in itertools.product(*(range(k) for k in kernel))]
    return np.stack(taps, axis=-1), positions


def max_pool_ref(x: np.ndarray, kernel: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, ceil_mode: bool = False, count: int = 2) -> np.ndarray:
    kernel = _expand(kernel, count)
    stride = kernel if stride is None else _expand(stride, count)
    windows, _ = _windows(x, kernel, stride, _expand(padding, count),
                          _expand(dilation, count), ceil_mode, -np.inf)
    return windows.max(axis=-1)


def avg_pool_ref(x: np.ndarray, kernel: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None, count: int = 2) -> np.ndarray:
    kernel = _expand(kernel, count)
    stride = kernel if stride is None else _expand(stride, count)
    padding = _expand(padding, count)
    windows, positions = _windows(x, kernel, stride, padding, (1,) * count, ceil_mode, 0.0)
    total = windows.sum(axis=-1)
    if divisor_override is not None:
        return total / divisor_override
    spatial = x.shape[-count:]
    divisor = np.ones(positions)
    for index in np.ndindex(*positions):
        cells = 1
        for o, size, k, s, p in zip(index, spatial, kernel, stride, padding):
            start = o * s - p
            end = min(start + k, size + p)
            if not count_include_pad:
                start, end = max(start, 0), min(end, size)
            cells *= end - start
        divisor[index] = cells
    return total / divisor


def _adaptive(x: np.ndarray, output: tuple[int, ...], reduce: Any) -> np.ndarray:
    count = len(output)
    spatial = x.shape[-count:]
    out = np.zeros((*x.shape[:-count], *output))
    for index in np.ndindex(*output):
        key = tuple(slice(o * size // n, -(-(o + 1) * size // n))
                    for o, size, n in zip(index, spatial, output))
        block = x[(..., *key)]
        out[(..., *index)] = reduce(block.reshape(*block.shape[:-count], -1), axis=-1)
    return out


def lp_pool_ref(x: np.ndarray, p: float, kernel: Any, stride: Any = None,
                count: int = 2) -> np.ndarray:
    kernel = _expand(kernel, count)
    stride = kernel if stride is None else _expand(stride, count)
    windows, _ = _windows(x, kernel, stride, (0,) * count, (1,) * count, False, 0.0)
    return (windows ** p).sum(axis=-1) ** (1 / p)


def _unpool(values: autodiff.Tensor, count: int) -> autodiff.Tensor:
    """max_unpool of `values` at the indices of a fixed 2x pooling pattern."""
    shape = tuple(values.shape)
    index = _UNPOOL_INDEX[count][: math.prod(shape)].reshape(shape)
    indices = autodiff.tensor(index, dtype=autodiff.int64, device=values.device)
    unpool = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}[count]
    return unpool(values, indices, 2)


def _unpool_ref(values: np.ndarray, count: int) -> np.ndarray:
    shape = values.shape
    index = _UNPOOL_INDEX[count][: values.size].reshape(shape)
    spatial = tuple(2 * size for size in shape[-count:])
    out = np.zeros((*shape[:-count], math.prod(spatial)))
    flat_values = values.reshape(*shape[:-count], -1)
    flat_index = index.reshape(*shape[:-count], -1)
    for lead in np.ndindex(*shape[:-count]):
        out[lead][flat_index[lead]] = flat_values[lead]
    return out.reshape(*shape[:-count], *spatial)


def _pool_pattern(shape: tuple[int, ...], count: int) -> np.ndarray:
    """Indices a 2x max pooling of `shape` could return (one per window, different taps)."""
    x = np.random.default_rng(3).standard_normal(shape)
    kernel = (2,) * count
    windows, positions = _windows(x, kernel, kernel, (0,) * count, (1,) * count, False, 0.0)
    arg = windows.argmax(axis=-1)
    taps = np.array(list(itertools.product(*(range(2) for _ in kernel))))
    index = np.zeros(arg.shape, dtype=np.int64)
    spatial = shape[-count:]
    for axis in range(count):
        start = np.arange(positions[axis]) * 2
        start = start.reshape(-1, *(1,) * (count - 1 - axis))
        index = index * spatial[axis] + start + taps[arg, axis]
    return index.reshape(-1)


_UNPOOL_INDEX = {1: _pool_pattern((2, 3, 8), 1), 2: _pool_pattern((2, 3, 4, 6), 2),
                 3: _pool_pattern((1, 2, 4, 4, 4), 3)}


POOLING = [
    OpInfo("F.max_pool2d", lambda x: F.max_pool2d(x, 2),
           lambda x: max_pool_ref(x, 2),
           (Sample(((2, 3, 4, 6),)), Sample(((3, 5, 4),))), "MaxPool2DWithIndicesBackward0"),
    OpInfo("F.max_pool2d_padding_ceil",
           lambda x: F.max_pool2d(x, (3, 2), (2, 1), 1, dilation=(1, 2), ceil_mode=True),
           lambda x: max_pool_ref(x, (3, 2), (2, 1), 1, (1, 2), True),
           (Sample(((2, 2, 6, 5),)),), "MaxPool2DWithIndicesBackward0"),
    OpInfo("F.max_pool2d_overlapping", lambda x: F.max_pool2d(x, 3, 1, 1),
           lambda x: max_pool_ref(x, 3, 1, 1),
           (Sample(((1, 2, 4, 4),)),), "MaxPool2DWithIndicesBackward0"),
    OpInfo("F.max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True),
           lambda x: max_pool_ref(x, 3, 2, 1, 1, True, 1),
           (Sample(((2, 3, 7),)), Sample(((3, 6),))), "SqueezeBackward1"),
    OpInfo("F.max_pool3d", lambda x: F.max_pool3d(x, 2, 1, 1),
           lambda x: max_pool_ref(x, 2, 1, 1, count=3),
           (Sample(((1, 2, 3, 3, 2),)),), "MaxPool3DWithIndicesBackward0"),
    OpInfo("F.avg_pool2d", lambda x: F.avg_pool2d(x, 2),
           lambda x: avg_pool_ref(x, 2),
           (Sample(((2, 3, 4, 6),)), Sample(((3, 5, 4),))), "AvgPool2DBackward0"),
    OpInfo("F.avg_pool2d_ceil_exclude_pad",
           lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
           lambda x: avg_pool_ref(x, 3, 2, 1, True, False),
           (Sample(((2, 2, 6, 5),)),), "AvgPool2DBackward0"),
    OpInfo("F.avg_pool2d_divisor_override",
           lambda x: F.avg_pool2d(x, (3, 2), 1, (1, 0), ceil_mode=True, divisor_override=4),
           lambda x: avg_pool_ref(x, (3, 2), 1, (1, 0), True, True, 4),
           (Sample(((1, 2, 4, 4),)),), "AvgPool2DBackward0"),
    OpInfo("F.avg_pool1d", lambda x: F.avg_pool1d(x, 3, 2, 1),
           lambda x: avg_pool_ref(x, 3, 2, 1, count=1),
           (Sample(((2, 3, 7),)), Sample(((3, 6),))), "SqueezeBackward1"),
    OpInfo("F.avg_pool3d", lambda x: F.avg_pool3d(x, 2, 1, 1, count_include_pad=False),
           lambda x: avg_pool_ref(x, 2, 1, 1, count_include_pad=False, count=3),
           (Sample(((1, 2, 3, 3, 2),)),), "AvgPool3DBackward0"),
    OpInfo("F.lp_pool2d", lambda x: F.lp_pool2d(x, 2, 2),
           lambda x: lp_pool_ref(x, 2, 2),
           (Sample(((2, 3, 4, 4),)),), "PowBackward0", domain=(0.5, 2.0)),
    OpInfo("F.lp_pool1d", lambda x: F.lp_pool1d(x, 3, 3, 2),
           lambda x: lp_pool_ref(x, 3, 3, 2, 1),
           (Sample(((2, 3, 7),)),), "PowBackward0", domain=(0.5, 2.0)),
    OpInfo("F.lp_pool3d", lambda x: F.lp_pool3d(x, 1.5, 2),
           lambda x: lp_pool_ref(x, 1.5, 2, count=3),
           (Sample(((1, 2, 2, 4, 2),)),), "PowBackward0", domain=(0.5, 2.0)),
    OpInfo("F.adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
           lambda x: _adaptive(x, (3, 4), np.mean),
           (Sample(((1, 2, 7, 5),)), Sample(((2, 3, 4),))), "AdaptiveAvgPool2DBackward0"),
    OpInfo("F.adaptive_avg_pool2d_mean", lambda x: F.adaptive_avg_pool2d(x, 1),
           lambda x: _adaptive(x, (1, 1), np.mean),
           (Sample(((2, 3, 3, 4),)),), "MeanBackward1"),
    OpInfo("F.adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 4),
           lambda x: _adaptive(x, (4,), np.mean),
           (Sample(((2, 3, 7),)),), "SqueezeBackward1"),
    OpInfo("F.adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)),
           lambda x: _adaptive(x, (2, 3, 2), np.mean),
           (Sample(((1, 2, 3, 4, 3),)),), "AdaptiveAvgPool3DBackward0"),
    OpInfo("F.adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (3, 4)),
           lambda x: _adaptive(x, (3, 4), np.max),
           (Sample(((1, 2, 7, 5),)), Sample(((2, 3, 4),))), "AdaptiveMaxPool2DBackward0"),
    OpInfo("F.adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 4),
           lambda x: _adaptive(x, (4,), np.max),
           (Sample(((2, 3, 7),)),), "SqueezeBackward1"),
    OpInfo("F.adaptive_max_pool3d", lambda x: F.adaptive_max_pool3d(x, (2, 3, 2)),
           lambda x: _adaptive(x, (2, 3, 2), np.max),
           (Sample(((1, 2, 3, 4, 3),)),), "AdaptiveMaxPool3DBackward0"),
    OpInfo("F.max_unpool2d", lambda v: _unpool(v, 2), lambda v: _unpool_ref(v, 2),
           (Sample(((2, 3, 2, 3),)),), "MaxUnpool2DBackward0"),
    OpInfo("F.max_unpool1d", lambda v: _unpool(v, 1), lambda v: _unpool_ref(v, 1),
           (Sample(((2, 3, 4),)),), "SqueezeBackward1"),
    OpInfo("F.max_unpool3d", lambda v: _unpool(v, 3), lambda v: _unpool_ref(v, 3),
           (Sample(((1, 2, 2, 2, 2),)),), "MaxUnpool3DBackward0"),
]
