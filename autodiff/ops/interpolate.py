"""`interpolate` (and the deprecated upsample, upsample_nearest, upsample_bilinear): nearest,
nearest-exact, linear, bilinear, bicubic, trilinear, area and, with antialias, bilinear, bicubic
and lanczos, as PyTorch's CPU kernels compute them.

Every mode is separable: along each spatial dim, output i reads a few input positions with
weights that depend on the sizes, the scale and align_corners only (`Taps`). They are computed
on the host with PyTorch's formulas (area_pixel_compute_source_index, nearest_idx, the cubic
convolution with A = -0.75, the antialiasing filters), and one `SeparableTaps` node applies them
(its gradient scatters back through the same taps). Area is adaptive average pooling.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..saved_fields import Field, fields, value
from ..settings import get_num_threads
from ..tensor import Tensor
from ..user_warnings import warn
from ._fixed_point_taps import fixed_point_taps
from ._interpolation_formulas import (
    FILTERS,
    antialias_window,
    area_scale,
    cubic,
    float32,
    scale_value,
    source_index,
)
from ._taps import SeparableTaps, Taps
from .adaptive_pool import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d


# ----------------------------------------------------------------------------- nodes
class Upsample(SeparableTaps):
    """An interpolate node: its taps, and the arguments PyTorch's node keeps (`resize_fields`)."""

    @staticmethod
    def forward(ctx: Any, x: Any, *, taps: tuple[Taps, ...], output_size: tuple[int, ...] = (),
                scales: tuple[float | None, ...] = (), align_corners: bool = False) -> Any:
        ctx.input_shape, ctx.output_size = x.shape, output_size
        ctx.scales, ctx.align_corners = scales, align_corners
        return SeparableTaps.forward(ctx, x, taps=taps)


_SCALE_NAMES = {1: ("scales",), 2: ("scales_h", "scales_w"),
                3: ("scales_d", "scales_h", "scales_w")}


def resize_fields(dims: int, align_corners: bool) -> Mapping[str, Field]:
    """The saved names of an upsample node over `dims` spatial dims (the interpolating modes
    also keep align_corners)."""
    named: dict[str, Field] = {"self_sym_sizes": value("input_shape", tuple),
                               "output_size": value("output_size", tuple)}
    for index, name in enumerate(_SCALE_NAMES[dims]):
        named[name] = value("scales", operator.itemgetter(index))
    if align_corners:
        named["align_corners"] = value("align_corners")
    return fields(**named)


class UpsampleNearest1D(Upsample):
    node_name = "UpsampleNearest1DBackward0"
    saved_fields = resize_fields(1, align_corners=False)


class UpsampleNearest2D(Upsample):
    node_name = "UpsampleNearest2DBackward0"
    saved_fields = resize_fields(2, align_corners=False)


class UpsampleNearest3D(Upsample):
    node_name = "UpsampleNearest3DBackward0"
    saved_fields = resize_fields(3, align_corners=False)


class UpsampleNearestExact1D(Upsample):
    node_name = "UpsampleNearestExact1DBackward0"
    saved_fields = resize_fields(1, align_corners=False)


class UpsampleNearestExact2D(Upsample):
    node_name = "UpsampleNearestExact2DBackward0"
    saved_fields = resize_fields(2, align_corners=False)


class UpsampleNearestExact3D(Upsample):
    node_name = "UpsampleNearestExact3DBackward0"
    saved_fields = resize_fields(3, align_corners=False)


class UpsampleLinear1D(Upsample):
    node_name = "UpsampleLinear1DBackward0"
    saved_fields = resize_fields(1, align_corners=True)


class UpsampleBilinear2D(Upsample):
    node_name = "UpsampleBilinear2DBackward0"
    saved_fields = resize_fields(2, align_corners=True)


class UpsampleTrilinear3D(Upsample):
    node_name = "UpsampleTrilinear3DBackward0"
    saved_fields = resize_fields(3, align_corners=True)


class UpsampleBicubic2D(Upsample):
    node_name = "UpsampleBicubic2DBackward0"
    saved_fields = resize_fields(2, align_corners=True)


class UpsampleBilinear2DAa(Upsample):
    node_name = "UpsampleBilinear2DAaBackward0"
    saved_fields = resize_fields(2, align_corners=True)


class UpsampleBicubic2DAa(Upsample):
    node_name = "UpsampleBicubic2DAaBackward0"
    saved_fields = resize_fields(2, align_corners=True)


class UpsampleLanczos2DAa(Upsample):
    node_name = "UpsampleLanczos2DAaBackward0"
    saved_fields = resize_fields(2, align_corners=True)


_NODES: dict[tuple[str, int], type[SeparableTaps]] = {
    ("nearest", 1): UpsampleNearest1D, ("nearest", 2): UpsampleNearest2D,
    ("nearest", 3): UpsampleNearest3D, ("nearest-exact", 1): UpsampleNearestExact1D,
    ("nearest-exact", 2): UpsampleNearestExact2D, ("nearest-exact", 3): UpsampleNearestExact3D,
    ("linear", 1): UpsampleLinear1D, ("bilinear", 2): UpsampleBilinear2D,
    ("trilinear", 3): UpsampleTrilinear3D, ("bicubic", 2): UpsampleBicubic2D,
}
_AA_NODES = {"bilinear": UpsampleBilinear2DAa, "bicubic": UpsampleBicubic2DAa,
             "lanczos": UpsampleLanczos2DAa}


# ----------------------------------------------------------------------------- taps
def _selection(size: int) -> Taps:
    """The identity map of a dim whose size stays (PyTorch copies it, whatever the scale)."""
    return Taps(tuple((i,) for i in range(size)), None, size)


def _nearest_taps(size: int, out: int, scale_factor: float | None, exact: bool) -> Taps:
    scale = float32(scale_value(size, out, scale_factor))
    if exact:
        index = [min(math.floor(float32((i + 0.5) * scale)), size - 1)
                 for i in range(out)]
    elif out == size:
        index = list(range(out))
    elif out == 2 * size:
        index = [i >> 1 for i in range(out)]
    else:
        index = [min(math.floor(float32(i * scale)), size - 1) for i in range(out)]
    return Taps(tuple((i,) for i in index), None, size)


def _linear_taps(size: int, out: int, align_corners: bool, scale_factor: float | None) -> Taps:
    if out == size:  # compute_source_index_and_lambda: "scale_factor = 1, simply copy"
        return _selection(size)
    scale = area_scale(size, out, align_corners, scale_factor)
    index, weight = [], []
    for i in range(out):
        source = source_index(scale, i, align_corners, cubic=False)
        low = min(math.floor(source), size - 1)
        fraction = min(max(source - low, 0.0), 1.0)
        high = low + (1 if low < size - 1 else 0)
        index.append((low, high))
        weight.append((1.0 - fraction, fraction))
    return Taps(tuple(index), tuple(weight), size)


def _cubic_taps(size: int, out: int, align_corners: bool, scale_factor: float | None) -> Taps:
    scale = area_scale(size, out, align_corners, scale_factor)
    index, weight = [], []
    for i in range(out):
        source = source_index(scale, i, align_corners, cubic=True)
        low = math.floor(source)
        t = source - low
        index.append(tuple(min(max(low - 1 + k, 0), size - 1) for k in range(4)))
        weight.append((cubic(t + 1.0, -0.75), cubic(t, -0.75), cubic(1.0 - t, -0.75),
                       cubic(2.0 - t, -0.75)))
    return Taps(tuple(index), tuple(weight), size)


def _antialias_taps(size: int, out: int, align_corners: bool, scale_factor: float | None,
                    mode: str) -> Taps:
    """PyTorch's separable antialiasing kernel: each output's window of inputs and its
    normalised filter weights; a dim whose size stays is copied."""
    if out == size:
        return _selection(size)
    kernel = FILTERS[mode]
    scale = area_scale(size, out, align_corners, scale_factor)
    windows = [antialias_window(i, size, scale, kernel.width, kernel.function)
               for i in range(out)]
    rows = [tuple(low + j for j in range(len(values))) for low, values in windows]
    width = max((len(r) for r in rows), default=1) or 1
    index = tuple(r + (r[-1] if r else 0,) * (width - len(r)) for r in rows)
    weight = tuple(tuple(values) + (0.0,) * (width - len(values)) for _, values in windows)
    return Taps(index, weight, size)


def _taps(mode: str, size: int, out: int, align_corners: bool, scale_factor: float | None,
          antialias: bool) -> Taps:
    if antialias:
        return _antialias_taps(size, out, align_corners, scale_factor, mode)
    if mode in ("nearest", "nearest-exact"):
        return _nearest_taps(size, out, scale_factor, mode == "nearest-exact")
    if mode == "bicubic":
        return _cubic_taps(size, out, align_corners, scale_factor)
    return _linear_taps(size, out, align_corners, scale_factor)


# ----------------------------------------------------------------------------- arguments
_SPATIAL_NAMES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}
_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "lanczos": 2}


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_UPSAMPLE_OPS = {"nearest": "upsample_nearest", "nearest-exact": "_upsample_nearest_exact",
                 "linear": "upsample_linear", "bilinear": "upsample_bilinear",
                 "trilinear": "upsample_trilinear", "bicubic": "upsample_bicubic"}


def upsample_op(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> str | None:
    """The ATen op `interpolate` runs, which autocast's lists name (upsample_bilinear2d, ...)."""
    if mode not in _UPSAMPLE_OPS or not isinstance(input, Tensor):
        return None
    suffix = "_aa" if antialias and mode in ("bilinear", "bicubic") else ""
    return f"{_UPSAMPLE_OPS[mode]}{input.dim() - 2}d{suffix}"


@autocast_op(upsample_op)
def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, *spatial) to `size` or by `scale_factor`."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    shape = tuple(input._data.shape)
    scale_factors: list[float] | None
    output_size: list[int] | None
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(shape[2:])} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(x) for x in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    "Tuple[int, int, int], but got size with types "
                    f"{[type(x) for x in size]}")
            output_size = list(size)
        else:
            output_size = [size] * dim
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(shape[2:])} and scale_factor of "
                    f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                    "format and scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor and scale_factors is not None:
        output_size = [int(shape[i + 2] * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if mode == "lanczos" and input.dim() == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if mode == "area" and 1 <= dim <= 3:
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dim - 1]
        return pool(input, output_size)
    if (mode in ("nearest", "nearest-exact") and 1 <= dim <= 3) or _DIMS.get(mode) == dim:
        return _resample(input, mode, output_size, scale_factors, bool(align_corners),
                         antialias)
    if mode in ("linear", "bilinear", "trilinear") and dim in (1, 2, 3):
        wanted = {1: "3D", 2: "4D", 3: "5D"}[_DIMS[mode]]
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {wanted} "
                                  "input")
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                              f"{input.dim()}D) for the modes: {_MODES} (got {mode})")


def _channels_last_contiguous(input: Tensor) -> bool:
    """is_contiguous(memory_format=channels_last / channels_last_3d): the channel dim
    innermost, then the spatial dims from the last (dims of size 1 do not count)."""
    shape, strides = tuple(input._data.shape), input.stride()
    expected = 1
    for dim in (1, *range(len(shape) - 1, 1, -1), 0):
        if shape[dim] != 1:
            if strides[dim] != expected:
                return False
            expected *= shape[dim]
    return True


def _vectorized_kernel(input: Tensor, output_size: Sequence[int]) -> bool:
    """_use_vectorized_kernel_cond_2d / _3d: PyTorch's choice of its channels-last kernel."""
    wide = _channels_last_contiguous(input) and input._data.shape[1] > 3
    return wide or (len(output_size) == 2 and output_size[0] + output_size[1] <= 128)


def _refusing_kernel(input: Tensor, mode: str, output_size: Sequence[int],
                     antialias: bool) -> str | None:
    """The CPU kernel whose dtype dispatch refuses a non-floating input in PyTorch; None
    where PyTorch has a path for it: uint8 in the nearest modes and in its image path
    (bilinear, bicubic, lanczos), and any dtype in an antialiased resize that keeps every size
    (a copy)."""
    dim = len(output_size)
    uint8 = input.dtype.name == "uint8"
    if antialias:
        unchanged = tuple(output_size) == tuple(input._data.shape[2:])
        return None if uint8 or unchanged else "compute_index_ranges_weights"
    if uint8 and (mode in ("nearest", "nearest-exact") or dim == 2):
        return None
    if mode == "bicubic" or dim == 1:
        return "compute_indices_weights_" + {"bicubic": "cubic", "linear": "linear"}.get(
            mode, "nearest")
    kind = "nearest" if mode.startswith("nearest") else mode
    vectorized = _vectorized_kernel(input, output_size)
    if mode == "bilinear" and get_num_threads() == 1 and input._data.shape[1] == 3:
        vectorized = True  # PyTorch's single-thread choice for 3-channel images
    if vectorized:
        return f"upsample_{kind}{dim}d_channels_last"
    return "compute_indices_weights_" + ("nearest" if kind == "nearest" else "linear")


def _resample(input: Tensor, mode: str, output_size: list[int] | None,
              scale_factors: Sequence[float] | None, align_corners: bool,
              antialias: bool) -> Tensor:
    """The checks of PyTorch's upsample kernels, then one node."""
    shape = tuple(input._data.shape)
    dim = len(shape) - 2
    spatial = shape[2:]
    if output_size is None:
        assert scale_factors is not None
        output_size = [int(size * factor) for size, factor in zip(spatial, scale_factors)]
    names = _SPATIAL_NAMES[dim]
    if min(*spatial, *output_size) <= 0:
        sizes = ", ".join(f"{n}: {s}" for n, s in zip(names, spatial))
        outs = ", ".join(f"{n}: {s}" for n, s in zip(names, output_size))
        joiner = " and output" if dim == 1 else " output"
        raise RuntimeError("Input and output sizes should be greater than 0, but got input "
                           f"({sizes}){joiner} ({outs})")
    if shape[1] == 0:
        raise RuntimeError(f"Non-empty {dim + 2}D data tensor expected but got a tensor with "
                           f"sizes {list(shape)}")
    if not input.dtype.is_floating_point:
        kernel = _refusing_kernel(input, mode, output_size, antialias)
        if kernel is not None:
            raise NotImplementedError(f'"{kernel}" not implemented for '
                                      f"'{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}'")
    factors: Sequence[float | None] = scale_factors or [None] * dim
    # uint8 images resized with filters take PyTorch's fixed-point path.
    make_taps = fixed_point_taps if input.dtype.name == "uint8" and \
        mode not in ("nearest", "nearest-exact") else _taps
    taps = tuple(make_taps(mode, size, out, align_corners, factor, antialias)
                 for size, out, factor in zip(spatial, output_size, factors))
    node = _AA_NODES[mode] if antialias else _NODES[(mode, dim)]
    return node.apply(input, taps=taps, output_size=tuple(output_size), scales=tuple(factors),
                      align_corners=align_corners)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated: interpolate."""
    warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
         "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: interpolate(mode='nearest')."""
    warn("`nn.functional.upsample_nearest` is deprecated. Use "
         "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: interpolate(mode='bilinear', align_corners=True)."""
    warn("`nn.functional.upsample_bilinear` is deprecated. Use "
         "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
