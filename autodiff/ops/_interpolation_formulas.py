"""PyTorch's interpolation formulas, shared by the floating taps (`interpolate`) and the
fixed-point uint8 taps (`_fixed_point_taps`): the scale of a resized dim
(compute_scales_value, area_pixel_compute_scale), the input position an output reads
(area_pixel_compute_source_index) and the filters (triangle, Keys' cubic convolution,
Lanczos-3). Each is written with PyTorch's order of operations, so that double-precision
results agree with its kernels to the last bit.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable


def float32(value: float) -> float:
    """A value rounded to float32 (the nearest kernels compute their scale in float32)."""
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


def scale_value(size: int, out: int, scale_factor: float | None) -> float:
    """compute_scales_value: 1 / the user's scale factor, else size / out."""
    return 1.0 / scale_factor if scale_factor is not None and scale_factor > 0 else size / out


def area_scale(size: int, out: int, align_corners: bool, scale_factor: float | None) -> float:
    """area_pixel_compute_scale."""
    if align_corners:
        return (size - 1) / (out - 1) if out > 1 else 0.0
    return scale_value(size, out, scale_factor)


def source_index(scale: float, index: int, align_corners: bool, cubic: bool) -> float:
    """area_pixel_compute_source_index: where output `index` reads the input (clamped at 0
    except for cubic, whose taps reach left of it)."""
    if align_corners:
        return scale * index
    source = scale * (index + 0.5) - 0.5
    return 0.0 if not cubic and source < 0 else source


def guard_index_and_lambda(source: float, size: int) -> tuple[int, float]:
    """guard_index_and_lambda: the input position left of `source` (floored in float32, as
    PyTorch's floorf) and the fraction past it, clamped to [0, 1]."""
    index = min(math.floor(float32(source)), size - 1)
    return index, min(max(source - index, 0.0), 1.0)


def cubic(x: float, a: float) -> float:
    """The cubic convolution kernel (Keys) at |x|: cubic_convolution1 / cubic_convolution2."""
    x = abs(x)
    if x < 1.0:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2.0:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return 0.0


def triangle(x: float) -> float:
    x = abs(x)
    return 1.0 - x if x < 1.0 else 0.0


def _sinc(x: float) -> float:
    if x == 0.0:
        return 1.0
    x *= math.pi
    return math.sin(x) / x


def lanczos(x: float) -> float:
    """Lanczos-3: sinc(x) * sinc(x / 3) for |x| < 3."""
    x = abs(x)
    return _sinc(x) * _sinc(x / 3.0) if x < 3.0 else 0.0


class Filter:
    """An antialiasing filter: its width in input pixels at scale 1 (PyTorch's interp_size)
    and its function (the one for antialias=False where the uint8 path uses another)."""

    __slots__ = ("function", "plain", "width")

    def __init__(self, width: int, function: Callable[[float], float],
                 plain: Callable[[float], float] | None = None) -> None:
        self.width = width
        self.function = function
        self.plain = plain or function


# bicubic's antialiasing filter is Keys' with a = -0.5 (Pillow's); without antialiasing the
# uint8 path uses OpenCV's a = -0.75, as the floating bicubic does.
FILTERS = {
    "bilinear": Filter(2, triangle),
    "bicubic": Filter(4, lambda x: cubic(x, -0.5), lambda x: cubic(x, -0.75)),
    "lanczos": Filter(6, lanczos),
}


def antialias_window(index: int, size: int, scale: float, width: int,
                     function: Callable[[float], float]) -> tuple[int, list[float]]:
    """_compute_indices_min_size_weights_aa: the first input output `index` reads and its
    weights, the filter stretched by the scale when downsampling, normalised to sum to one."""
    support = width * 0.5 * scale if scale >= 1.0 else width * 0.5
    longest = math.ceil(support) * 2 + 1
    inverse = 1.0 / scale if scale >= 1.0 else 1.0
    center = scale * (index + 0.5)
    low = max(int(center - support + 0.5), 0)
    count = min(max(min(int(center + support + 0.5), size) - low, 0), longest)
    values = [function((j + low - center + 0.5) * inverse) for j in range(count)]
    total = 0.0
    for value in values:
        total += value
    if total != 0.0:
        values = [value / total for value in values]
    return low, values


def antialias_longest(scale: float, width: int) -> int:
    """The most inputs one output of an antialiased resize reads (max_interp_size)."""
    support = width * 0.5 * scale if scale >= 1.0 else width * 0.5
    return math.ceil(support) * 2 + 1
