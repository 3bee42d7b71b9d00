"""The taps of PyTorch's uint8 image path (bilinear, bicubic and lanczos of 4-d uint8 tensors,
with or without antialias): weights computed in double precision, then scaled to 16-bit
integers, so that a resize is integer arithmetic rounded once per dim, as Pillow-SIMD does.

Per dim, PyTorch (UpSampleKernel.cpp, `_compute_index_ranges_int16_weights`) finds each
output's window of inputs and its weights: the antialiasing filter stretched over the window
(`antialias_window`), or, without antialias, the interpolation's 2 or 4 taps with the weights
of taps that fall outside the input added onto the edge pixel. The largest weight sets the
precision: the most fractional bits that keep it below 2**15. Each weight becomes
round(weight * 2**precision); an output is (sum of pixel * weight + 2**(precision - 1)) >>
precision, clamped to [0, 255]. The last dim is resized first; a dim whose size does not change
is not resized at all.
"""

from __future__ import annotations

from collections.abc import Callable

from ._interpolation_formulas import (
    FILTERS,
    antialias_longest,
    antialias_window,
    area_scale,
    guard_index_and_lambda,
    source_index,
)
from ._taps import Taps


def fixed_point_taps(mode: str, size: int, out: int, align_corners: bool,
                     scale_factor: float | None, antialias: bool) -> Taps:
    """The integer taps of one dim (a selection where the size stays)."""
    if out == size:
        return Taps(tuple((i,) for i in range(out)), None, size)
    kernel = FILTERS[mode]
    scale = area_scale(size, out, align_corners, scale_factor)
    if antialias:
        longest = antialias_longest(scale, kernel.width)
        windows = [antialias_window(i, size, scale, kernel.width, kernel.function)
                   for i in range(out)]
        largest = max((w for _, weights in windows if _total(weights) != 0.0
                       for w in weights), default=0.0)
        largest = max(largest, 0.0)
    else:
        longest = kernel.width
        windows, largest = _interpolation_windows(kernel.width, kernel.plain, size, out, scale,
                                                  align_corners)
    precision = _precision(largest)
    index, weight = [], []
    for low, weights in windows:
        index.append(tuple(min(low + j, size - 1) for j in range(longest)))
        scaled = [_to_int16(w * (1 << precision)) for w in weights]
        weight.append(tuple(scaled) + (0,) * (longest - len(scaled)))
    return Taps(tuple(index), tuple(weight), size, precision)


def _total(weights: list[float]) -> float:
    """The weights' sum in PyTorch's order: zero only for a window it left unnormalised."""
    total = 0.0
    for weight in weights:
        total += weight
    return total


Windows = list[tuple[int, list[float]]]


def _interpolation_windows(width: int, function: Callable[[float], float], size: int, out: int,
                           scale: float, align_corners: bool) -> tuple[Windows, float]:
    """_compute_indices_min_size_weights: each output's `width` taps around its source
    position, the weights of taps past either edge summed onto the edge pixel; and the largest
    value any weight took while they were summed."""
    support = width // 2
    windows: Windows = []
    largest = 0.0
    for i in range(out):
        source = source_index(scale, i, align_corners, cubic=width > 2)
        position, fraction = guard_index_and_lambda(source, size)
        first = position - support + 1
        low = max(first, 0)
        count = min(max(min(position + support + 1, size) - low, 0), width)
        weights = [0.0] * width
        target = 0
        for j in range(width):
            weights[j] = 0.0
            value = function(float(j + 1 - support) - fraction)
            if first + j <= 0:
                target = 0
            elif first + j >= size - 1:
                target = count - 1
            weights[target] += value
            largest = max(largest, weights[target])
            target += 1
        windows.append((low, weights[:count]))
    return windows, largest


def _precision(largest: float) -> int:
    """The most fractional bits (up to 22) that keep round(largest * 2**bits) below 2**15."""
    precision = 0
    while precision < 22 and int(0.5 + largest * (1 << (precision + 1))) < 1 << 15:
        precision += 1
    return precision


def _to_int16(value: float) -> int:
    """A scaled weight rounded half away from zero and stored in 16 bits."""
    rounded = int(value - 0.5) if value < 0 else int(value + 0.5)
    return (rounded + (1 << 15)) % (1 << 16) - (1 << 15)
