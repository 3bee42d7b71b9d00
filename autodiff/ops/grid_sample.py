"""`affine_grid` and `grid_sample` (bilinear, nearest, bicubic; zeros, border and reflection
padding; align_corners), 2-D and 3-D, as PyTorch's CPU kernels.

grid_sample is one node (GridSampler2DBackward0 / GridSampler3DBackward0). Its gradients are
written in recorded Tensor ops around one piece of bookkeeping: each sampling coordinate, once
unnormalized and padded, is a piecewise-linear function of the grid, so it is rebuilt as
grid * slope + offset with the slope (PyTorch's gradient multiplier of the padding) and offset
held constant. The corner weights are polynomials of the coordinate's fraction, the corner
values gathers from the input, the input gradient a scatter-add of the weighted gradient: all
recorded, so the gradient is differentiable again.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from backends import Backend

from .. import dtypes
from ..autocast_state import autocast_op
from ..function import Function
from ..grad_mode import no_grad
from ..jvp_rules import auto_linear, jvp_from_backward
from ..saved_fields import fields, saved, value
from ..tensor import Tensor, _wrap
from ..user_warnings import warn
from .indexing import zeros
from .joining import stack
from .scatter import Gather, ScatterAdd

_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details."
)


# ----------------------------------------------------------------------------- affine_grid
def base_grid(backend: Backend, spatial: tuple[int, ...], align_corners: bool,
              dtype: str) -> Any:
    """(prod(spatial), dims + 1): each output position's normalized coordinates (x first),
    then a 1, as PyTorch's affine_grid_generator builds them."""
    axes = []
    for size in spatial:
        step = backend.linspace(-1.0, 1.0, size, "float64")
        if not align_corners and size > 0:
            step = backend.multiply(step, (size - 1) / size)
        axes.append(step)
    count = len(spatial)
    columns = []
    for axis in reversed(range(count)):  # x is the last spatial dim
        shape = [1] * count
        shape[axis] = spatial[axis]
        columns.append(backend.broadcast_to(backend.reshape(axes[axis], tuple(shape)), spatial))
    columns.append(backend.ones(spatial, "float64"))
    grid = backend.stack(columns, axis=-1)
    return backend.astype(backend.reshape(grid, (-1, count + 1)), dtype)


class AffineGridGenerator(Function):
    """theta (N, dims, dims + 1) -> the sampling grid (N, *spatial, dims): base @ theta^T."""

    node_name = "AffineGridGeneratorBackward0"
    saved_fields = fields(size=value("size"), align_corners=value("align_corners"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, theta: Any, *, spatial: tuple[int, ...], align_corners: bool,
                size: tuple[int, ...] = ()) -> Any:
        """`size`: the (N, C, *spatial) the caller asked for (C only PyTorch's node keeps)."""
        backend = ctx.backend
        ctx.size, ctx.align_corners = size or (theta.shape[0], 1, *spatial), align_corners
        base = base_grid(backend, spatial, align_corners, backend.dtype_name(theta))
        ctx.base, ctx.spatial = base, spatial
        out = backend.matmul(base, backend.permute_dims(theta, (0, 2, 1)))
        return backend.reshape(out, (theta.shape[0], *spatial, len(spatial)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        count = len(ctx.spatial)
        base = _wrap(ctx.base, grad._backend)
        flat = grad.reshape(grad._data.shape[0], -1, count)
        return flat.mT @ base


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of a batch of affine maps, for grid_sample into `size`."""
    if align_corners is None:
        warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(size)
    shape = tuple(theta._data.shape)
    if len(size) == 4:
        if len(shape) != 3 or shape[-2] != 2 or shape[-1] != 3:
            raise ValueError("Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {theta.size()}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if len(shape) != 3 or shape[-2] != 3 or shape[-1] != 4:
            raise ValueError("Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {theta.size()}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if shape[0] != size[0]:
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{size[0]}, {len(spatial) + 1}] but got: [{shape[0]}, {shape[2]}].")
    return AffineGridGenerator.apply(theta, spatial=tuple(int(s) for s in spatial),
                                     align_corners=align_corners,
                                     size=tuple(int(s) for s in size))


# ----------------------------------------------------------------------------- coordinates
def _coordinate(backend: Backend, g: Any, size: int, padding_mode: str,
                align_corners: bool, padded: bool) -> tuple[Any, Any]:
    """A grid component's source coordinate and its slope d coordinate / d grid (PyTorch's
    grid_sampler_compute_source_index_set_grad), on arrays."""
    if align_corners:
        x = backend.multiply(backend.add(g, 1.0), (size - 1) / 2)
        slope = (size - 1) / 2
    else:
        x = backend.divide(backend.subtract(backend.multiply(backend.add(g, 1.0), size), 1.0),
                           2.0)
        slope = size / 2
    slopes = backend.full(x.shape, slope, backend.dtype_name(x))
    if not padded or padding_mode == "zeros":
        return x, slopes
    if padding_mode == "reflection":
        low, high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        x, sign = _reflect(backend, x, low, high)
        slopes = backend.multiply(slopes, sign)
    # border, and reflection without align_corners: clip into [0, size - 1].
    inside = backend.logical_and(backend.greater(x, 0.0), backend.less(x, size - 1.0))
    x = backend.clip(x, 0.0, size - 1.0)
    slopes = backend.where(inside, slopes, backend.zeros_like(slopes))
    return x, slopes


def _reflect(backend: Backend, x: Any, twice_low: int, twice_high: int) -> tuple[Any, Any]:
    """reflect_coordinates_set_grad: x folded into [low, high] and the sign of d fold / dx."""
    if twice_low == twice_high:
        return backend.zeros_like(x), backend.zeros_like(x)
    minimum, span = twice_low / 2, (twice_high - twice_low) / 2
    shifted = backend.subtract(x, minimum)
    negative = backend.less(shifted, 0.0)
    shifted = backend.abs(shifted)
    extra = backend.remainder(shifted, span)
    flips = backend.floor(backend.divide(shifted, span))
    even = backend.equal(backend.remainder(flips, 2.0), 0.0)
    folded = backend.where(even, backend.add(extra, minimum),
                           backend.add(backend.subtract(span, extra), minimum))
    one = backend.ones_like(x)
    sign = backend.where(negative, backend.negative(one), one)
    sign = backend.where(even, sign, backend.negative(sign))
    return folded, sign


def _cubic_weights(t: Tensor) -> list[Tensor]:
    """PyTorch's cubic convolution coefficients (A = -0.75) at fraction t, in Tensor ops."""
    a = -0.75

    def near(x: Tensor) -> Tensor:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Tensor) -> Tensor:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]


# ----------------------------------------------------------------------------- sampling
def _cubic_derivatives(t: Tensor) -> list[Tensor]:
    """d/dt of `_cubic_weights`."""
    a = -0.75

    def near(x: Tensor) -> Tensor:  # d/dx of the |x| <= 1 piece
        return (3 * (a + 2) * x - 2 * (a + 3)) * x

    def far(x: Tensor) -> Tensor:  # d/dx of the 1 < |x| < 2 piece
        return (3 * a * x - 10 * a) * x + 8 * a

    return [far(t + 1.0), near(t), -near(1.0 - t), -far(2.0 - t)]


class _Sampler:
    """One grid_sample call in Tensor ops, from the input and the grid as Tensors: run
    without recording for the forward, recorded for the gradients (so they are
    differentiable again)."""

    def __init__(self, input: Tensor, grid: Tensor, mode: str, padding_mode: str,
                 align_corners: bool) -> None:
        backend = input._backend
        self.backend, self.mode, self.padding_mode = backend, mode, padding_mode
        self.align_corners = align_corners
        shape = tuple(input._data.shape)
        self.batch, self.channels, self.spatial = shape[0], shape[1], shape[2:]
        self.out_spatial = tuple(grid._data.shape[1:-1])
        self.dtype = backend.dtype_name(input._data)
        count = len(self.spatial)
        self.slopes: list[Any] = []
        # Per spatial dim: the taps' integer positions and (weight, d weight / d coordinate).
        self.axes: list[list[tuple[Any, Any, Any]]] = []
        for axis in range(count):
            component = grid[..., count - 1 - axis]  # grid's x is the last spatial dim
            x, slope = _coordinate(backend, component._data, self.spatial[axis], padding_mode,
                                   align_corners, padded=mode != "bicubic")
            offset = backend.subtract(x, backend.multiply(component._data, slope))
            # The coordinate as a recorded, piecewise-linear function of the grid.
            coordinate = component * _wrap(slope, backend) + _wrap(offset, backend)
            self.slopes.append(slope)
            self.axes.append(self._axis_taps(axis, coordinate))
        self.flat_input = input.reshape(self.batch, self.channels, -1)

    def _axis_taps(self, axis: int, coordinate: Tensor) -> list[tuple[Any, Any, Any]]:
        backend = self.backend
        if self.mode == "nearest":  # round half to even, as nearbyint
            return [(backend.astype(backend.round(coordinate._data), "int64"), None, None)]
        low = backend.floor(coordinate._data)
        t = coordinate - _wrap(low, backend)
        low = backend.astype(low, "int64")
        if self.mode == "bilinear":
            return [(low, 1.0 - t, -1.0), (backend.add(low, 1), t, 1.0)]
        taps = []
        for shift, weight, slope in zip(range(-1, 3), _cubic_weights(t), _cubic_derivatives(t)):
            index = backend.add(low, shift)
            if self.padding_mode != "zeros":  # bicubic pads each tap position on its own
                index = _pad_index(backend, index, self.spatial[axis], self.padding_mode,
                                   self.align_corners)
            taps.append((index, weight, slope))
        return taps

    def _position(self, indices: tuple[Any, ...]) -> tuple[Any, Any]:
        """Flat positions in the input plane (N, C, P) and the 0/1 mask of the in-range ones
        (N, 1, P)."""
        backend = self.backend
        valid = flat = None
        for axis, index in enumerate(indices):
            size = self.spatial[axis]
            inside = backend.logical_and(backend.greater_equal(index, 0),
                                         backend.less(index, size))
            valid = inside if valid is None else backend.logical_and(valid, inside)
            term = backend.multiply(backend.clip(index, 0, size - 1),
                                    math.prod(self.spatial[axis + 1:]))
            flat = term if flat is None else backend.add(flat, term)
        flat = backend.reshape(flat, (self.batch, 1, -1))
        flat = backend.asarray(backend.broadcast_to(flat, (self.batch, self.channels,
                                                           flat.shape[-1])), copy=True)
        mask = backend.astype(backend.reshape(valid, (self.batch, 1, -1)), self.dtype)
        return flat, mask

    def combinations(self) -> list[tuple[tuple[Any, ...], list[Any], list[Any]]]:
        """Every tap of the interpolation: positions per dim, weights, weight derivatives."""
        out = []
        for combination in itertools.product(*self.axes):
            indices = tuple(index for index, _, _ in combination)
            out.append((indices, [w for _, w, _ in combination],
                        [d for _, _, d in combination]))
        return out

    def _flat(self, tensor: Tensor) -> Tensor:
        return tensor.reshape(self.batch, 1, -1)

    def sample(self) -> Tensor:
        total: Tensor | None = None
        for indices, weights, _ in self.combinations():
            flat, mask = self._position(indices)
            values = Gather.apply(self.flat_input, dim=2, index=flat) * _wrap(mask,
                                                                              self.backend)
            weight = _product(weights)
            term = values if weight is None else values * self._flat(weight)
            total = term if total is None else total + term
        assert total is not None
        return total.reshape(self.batch, self.channels, *self.out_spatial)

    def input_gradient(self, grad: Tensor, like: Tensor) -> Tensor:
        """Each tap's weighted gradient added at its position (out-of-range taps dropped)."""
        backend = self.backend
        flat_grad = grad.reshape(self.batch, self.channels, -1)
        total = zeros(backend, (self.batch, self.channels, math.prod(self.spatial)), like._data)
        for indices, weights, _ in self.combinations():
            flat, mask = self._position(indices)
            contribution = flat_grad * _wrap(mask, backend)
            weight = _product(weights)
            if weight is not None:
                contribution = contribution * self._flat(weight)
            total = ScatterAdd.apply(total, contribution, dim=2, index=flat)
        return total.reshape(*like._data.shape)

    def grid_gradient(self, grad: Tensor, like: Tensor) -> Tensor:
        """d out / d grid: per dim, the sum over taps of value * d weight / d coordinate,
        times the coordinate's slope; zero for nearest, as PyTorch."""
        backend = self.backend
        if self.mode == "nearest":
            return _wrap(backend.zeros_like(like._data), backend)
        flat_grad = grad.reshape(self.batch, self.channels, -1)
        count = len(self.spatial)
        per_axis: list[Tensor | None] = [None] * count
        for indices, weights, derivatives in self.combinations():
            flat, mask = self._position(indices)
            values = Gather.apply(self.flat_input, dim=2, index=flat) * _wrap(mask, backend)
            seen = (flat_grad * values).sum(1)  # (N, P): summed over channels
            for axis in range(count):
                factors = [derivatives[axis] if d == axis else w for d, w in enumerate(weights)]
                term = seen * _product(factors).reshape(self.batch, -1)
                current = per_axis[axis]
                per_axis[axis] = term if current is None else current + term
        components = []
        for axis in reversed(range(count)):  # grid component k is spatial dim count - 1 - k
            slope = _wrap(backend.reshape(self.slopes[axis], (self.batch, -1)), backend)
            total = per_axis[axis]
            assert total is not None
            components.append((total * slope).reshape(self.batch, *self.out_spatial))
        return stack(components, -1)


def _product(factors: list[Any]) -> Any:  # Tensor, number or None
    """The product of weights (Tensors or numbers); None when there is none."""
    out: Any = None
    for factor in factors:
        if factor is None:
            continue
        out = factor if out is None else out * factor
    return out


def _pad_index(backend: Backend, index: Any, size: int, padding_mode: str,
               align_corners: bool) -> Any:
    """compute_coordinates on an integer tap position (bicubic): clipped or reflected."""
    if padding_mode == "border":
        return backend.clip(index, 0, size - 1)
    low, high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
    folded, _ = _reflect(backend, backend.astype(index, "float64"), low, high)
    folded = backend.clip(folded, 0.0, size - 1.0)
    return backend.astype(backend.round(folded), "int64")


# PyTorch's GridSamplerInterpolation and GridSamplerPadding enums, as its node saves them.
_MODES = ("bilinear", "nearest", "bicubic")
_PADDING_MODES = ("zeros", "border", "reflection")


class GridSampler2D(Function):
    """grid_sample: the input read at the grid's points, interpolated."""

    node_name = "GridSampler2DBackward0"
    saved_fields = fields(
        input=saved(0), grid=saved(1),
        interpolation_mode=value("options", lambda options: _MODES.index(options[0])),
        padding_mode=value("options", lambda options: _PADDING_MODES.index(options[1])),
        align_corners=value("options", lambda options: options[2]))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, input: Any, grid: Any, *, mode: str, padding_mode: str,
                align_corners: bool) -> Any:
        backend = ctx.backend
        ctx.options = (mode, padding_mode, align_corners)
        ctx.save_for_backward(input, grid)
        with no_grad():
            sampler = _Sampler(_wrap(input, backend), _wrap(grid, backend), mode,
                               padding_mode, align_corners)
            return sampler.sample()._data

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        input, grid = ctx.saved_tensors
        needs_input, needs_grid = ctx.needs_input_grad
        sampler = _Sampler(input, grid, *ctx.options)
        grad_input = sampler.input_gradient(grad, input) if needs_input else None
        grad_grid = sampler.grid_gradient(grad, grid) if needs_grid else None
        return grad_input, grad_grid


class GridSampler3D(GridSampler2D):
    node_name = "GridSampler3DBackward0"


_SAMPLERS = {2: GridSampler2D, 3: GridSampler3D}


@autocast_op("grid_sampler")
def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample (N, C, *spatial) at the normalized points of grid (N, *out_spatial, dims)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    shape, grid_shape = list(input._data.shape), list(grid._data.shape)
    if shape and grid_shape and shape[0] != grid_shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {shape} and grid with sizes {grid_shape}")
    if not grid_shape or grid_shape[-1] != len(shape) - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {len(shape) - 2} in "
                           f"last dimension, but got grid with sizes {grid_shape}")
    for axis in range(2, len(shape)):
        if shape[axis] == 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but input "
                f"has sizes {shape} with dimension {axis} being empty")
    dims = 2 if len(shape) == 4 else 3
    if len(shape) not in (4, 5) or len(grid_shape) != len(shape):
        raise RuntimeError(
            f"grid_sampler(): expected {dims + 2}D input and grid with same number of "
            f"dimensions, but got input with sizes {shape} and grid with sizes {grid_shape}")
    if dims == 3 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype is not grid.dtype:
        raise RuntimeError(
            f"expected scalar type {dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} but found "
            f"{dtypes.SCALAR_TYPE_NAMES[grid.dtype.name]}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f'"grid_sampler_{dims}d_cpu_kernel_impl" not implemented for '
            f"'{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}'")
    return _SAMPLERS[dims].apply(input, grid, mode=mode, padding_mode=padding_mode,
                                 align_corners=align_corners)
