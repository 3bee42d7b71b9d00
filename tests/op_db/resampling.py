"""Op table entries: channel rearrangements (pixel_shuffle, pixel_unshuffle, channel_shuffle),
circular padding, the dropout variants at p = 1 (deterministic: all dropped), interpolation and
grid sampling."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
import autodiff.nn.functional as F

from .info import OpInfo, Sample


def _quiet(function: Callable[..., autodiff.Tensor]) -> Callable[..., autodiff.Tensor]:
    """Calls that warn as PyTorch does (dropout2d on 3-D input, ...); the table means them."""

    def call(*args: Any) -> autodiff.Tensor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return function(*args)

    return call


def pixel_shuffle_ref(x: np.ndarray, r: int) -> np.ndarray:
    *lead, c, h, w = x.shape
    out = np.zeros((*lead, c // (r * r), h * r, w * r))
    for channel in range(c // (r * r)):
        for i in range(r):
            for j in range(r):
                out[..., channel, i::r, j::r] = x[..., channel * r * r + i * r + j, :, :]
    return out


def pixel_unshuffle_ref(x: np.ndarray, r: int) -> np.ndarray:
    *lead, c, h, w = x.shape
    out = np.zeros((*lead, c * r * r, h // r, w // r))
    for channel in range(c):
        for i in range(r):
            for j in range(r):
                out[..., channel * r * r + i * r + j, :, :] = x[..., channel, i::r, j::r]
    return out


def channel_shuffle_ref(x: np.ndarray, groups: int) -> np.ndarray:
    channels = x.shape[1]
    per_group = channels // groups
    order = [g * per_group + k for k in range(per_group) for g in range(groups)]
    return x[:, order]


RESAMPLING = [
    OpInfo("F.pixel_shuffle", lambda x: F.pixel_shuffle(x, 2),
           lambda x: pixel_shuffle_ref(x, 2),
           (Sample(((2, 8, 3, 2),)), Sample(((4, 2, 3),)), Sample(((2, 1, 4, 2, 3),))),
           "PixelShuffleBackward0"),
    OpInfo("F.pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2),
           lambda x: pixel_unshuffle_ref(x, 2),
           (Sample(((2, 2, 4, 6),)), Sample(((1, 4, 2),))), "PixelUnshuffleBackward0"),
    OpInfo("F.channel_shuffle", lambda x: F.channel_shuffle(x, 3),
           lambda x: channel_shuffle_ref(x, 3),
           (Sample(((2, 6, 3, 2),)), Sample(((2, 3, 4),))), "ChannelShuffleBackward0"),
    OpInfo("F.native_channel_shuffle", lambda x: F.native_channel_shuffle(x, 3),
           lambda x: channel_shuffle_ref(x, 3), (Sample(((2, 6, 3, 2),)),),
           "torch::autograd::NotImplemented", differentiable=False),
    OpInfo("pad_circular", lambda x: F.pad(x, (1, 2, 2, 0), mode="circular"),
           lambda x: np.pad(x, [(0, 0)] * (x.ndim - 2) + [(2, 0), (1, 2)], mode="wrap"),
           (Sample(((2, 3, 4),)), Sample(((1, 2, 3, 4),))), "CopySlices"),
    OpInfo("pad_circular_3d", lambda x: F.pad(x, (1, 1, 0, 2, 1, 0), mode="circular"),
           lambda x: np.pad(x, [(0, 0), (0, 0), (1, 0), (0, 2), (1, 1)], mode="wrap"),
           (Sample(((1, 2, 3, 3, 2),)),), "CopySlices"),
    OpInfo("F.dropout1d_all", lambda x: F.dropout1d(x, 1.0), lambda x: x * 0.0,
           (Sample(((2, 3, 4),)), Sample(((3, 4),))), "MulBackward0"),
    OpInfo("F.dropout2d_all", lambda x: F.dropout2d(x, 1.0), lambda x: x * 0.0,
           (Sample(((2, 3, 4, 2),)),), "MulBackward0"),
    OpInfo("F.dropout3d_all", _quiet(lambda x: F.dropout3d(x, 1.0)), lambda x: x * 0.0,
           (Sample(((1, 2, 3, 2, 2),)), Sample(((2, 3, 2, 2),))), "MulBackward0"),
    OpInfo("F.alpha_dropout_all", lambda x: F.alpha_dropout(x, 1.0, True), lambda x: x * 0.0,
           (Sample(((3, 4),)),), "MulBackward0"),
    OpInfo("F.feature_alpha_dropout_all", lambda x: F.feature_alpha_dropout(x, 1.0, True),
           lambda x: x * 0.0, (Sample(((2, 3, 4),)),), "MulBackward0"),
]


# ----------------------------------------------------------------------------- interpolation
def _source_index(scale: float, index: np.ndarray, align_corners: bool, cubic: bool
                  ) -> np.ndarray:
    if align_corners:
        return scale * index
    source = scale * (index + 0.5) - 0.5
    return source if cubic else np.maximum(source, 0.0)


def _resample_axis(x: np.ndarray, axis: int, out: int, mode: str,
                   align_corners: bool) -> np.ndarray:
    """One spatial dim of interpolate, written as PyTorch documents its kernels (per output
    position: the source index, then the neighbours' weights)."""
    size = x.shape[axis]
    moved = np.moveaxis(x, axis, -1)
    positions = np.arange(out)
    if mode == "nearest":
        index = np.minimum(np.floor(positions * np.float32(size / out)), size - 1).astype(int)
        result = moved[..., index]
    elif mode == "nearest-exact":
        index = np.minimum(np.floor((positions + 0.5) * np.float32(size / out)),
                           size - 1).astype(int)
        result = moved[..., index]
    else:
        corner_scale = (size - 1) / (out - 1) if out > 1 else 0.0
        scale = corner_scale if align_corners else size / out
        source = _source_index(scale, positions, align_corners, mode == "cubic")
        low = np.floor(source).astype(int)
        t = source - low
        if mode == "linear":
            low = np.minimum(low, size - 1)
            t = np.clip(source - low, 0, 1)
            high = np.minimum(low + 1, size - 1)
            result = moved[..., low] * (1 - t) + moved[..., high] * t
        else:  # cubic, A = -0.75, positions clamped
            a = -0.75

            def near(v: np.ndarray) -> np.ndarray:
                return ((a + 2) * v - (a + 3)) * v * v + 1

            def far(v: np.ndarray) -> np.ndarray:
                return ((a * v - 5 * a) * v + 8 * a) * v - 4 * a

            weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
            result = sum(moved[..., np.clip(low - 1 + k, 0, size - 1)] * weights[k]
                         for k in range(4))
    return np.moveaxis(result, -1, axis)


def interpolate_ref(x: np.ndarray, size: tuple[int, ...], mode: str,
                    align_corners: bool = False) -> np.ndarray:
    axis_mode = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    for offset, out in enumerate(size):
        x = _resample_axis(x, x.ndim - len(size) + offset, out, axis_mode, align_corners)
    return x


# ----------------------------------------------------------------------------- grid sampling
def grid_sample_ref(x: np.ndarray, grid: np.ndarray, mode: str, padding_mode: str,
                    align_corners: bool) -> np.ndarray:
    """2-D grid_sample point by point, with PyTorch's unnormalize, padding and interpolation."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, *grid.shape[1:3]))

    def unnormalize(v: float, size: int) -> float:
        return (v + 1) / 2 * (size - 1) if align_corners else ((v + 1) * size - 1) / 2

    def reflect(v: float, low: int, high: int) -> float:
        if low == high:
            return 0.0
        minimum, span = low / 2, (high - low) / 2
        v = abs(v - minimum)
        extra, flips = v % span, int(v // span)
        return extra + minimum if flips % 2 == 0 else span - extra + minimum

    def pad(v: float, size: int) -> float:
        if padding_mode == "border":
            return min(max(v, 0.0), size - 1.0)
        if padding_mode == "reflection":
            v = reflect(v, 0, 2 * (size - 1)) if align_corners else reflect(v, -1, 2 * size - 1)
            return min(max(v, 0.0), size - 1.0)
        return v

    def at(b: int, yy: int, xx: int) -> np.ndarray:
        if 0 <= yy < h and 0 <= xx < w:
            return x[b, :, yy, xx]
        return np.zeros(c)

    for b in range(n):
        for i in range(grid.shape[1]):
            for j in range(grid.shape[2]):
                gx = pad(unnormalize(grid[b, i, j, 0], w), w)
                gy = pad(unnormalize(grid[b, i, j, 1], h), h)
                if mode == "nearest":
                    out[b, :, i, j] = at(b, int(np.rint(gy)), int(np.rint(gx)))
                    continue
                x0, y0 = int(np.floor(gx)), int(np.floor(gy))
                tx, ty = gx - x0, gy - y0
                out[b, :, i, j] = (at(b, y0, x0) * (1 - tx) * (1 - ty)
                                   + at(b, y0, x0 + 1) * tx * (1 - ty)
                                   + at(b, y0 + 1, x0) * (1 - tx) * ty
                                   + at(b, y0 + 1, x0 + 1) * tx * ty)
    return out


def affine_grid_ref(theta: np.ndarray, size: tuple[int, ...], align_corners: bool
                    ) -> np.ndarray:
    spatial = size[2:]
    axes = [np.linspace(-1, 1, s) * (1 if align_corners else (s - 1) / s) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([*reversed(mesh), np.ones(spatial)], axis=-1)  # x first, then 1
    return np.einsum("...k,nik->n...i", base, theta)


def _grid(like: autodiff.Tensor, shape: tuple[int, ...]) -> autodiff.Tensor:
    """A fixed sampling grid (points inside and outside [-1, 1]) on the input's device."""
    values = np.random.default_rng(7).uniform(-1.3, 1.3, shape)
    return autodiff.tensor(values, dtype=like.dtype, device=like.device)


GRID_2D = np.random.default_rng(7).uniform(-1.3, 1.3, (2, 3, 4, 2))

RESAMPLING += [
    OpInfo("F.interpolate_nearest", lambda x: F.interpolate(x, size=(5, 3)),
           lambda x: interpolate_ref(x, (5, 3), "nearest"),
           (Sample(((1, 2, 4, 5),)),), "UpsampleNearest2DBackward0"),
    OpInfo("F.interpolate_nearest_1d", lambda x: F.interpolate(x, size=7),
           lambda x: interpolate_ref(x, (7,), "nearest"),
           (Sample(((2, 3, 4),)),), "UpsampleNearest1DBackward0"),
    OpInfo("F.interpolate_nearest_3d", lambda x: F.interpolate(x, size=(3, 5, 2)),
           lambda x: interpolate_ref(x, (3, 5, 2), "nearest"),
           (Sample(((1, 2, 2, 3, 3),)),), "UpsampleNearest3DBackward0"),
    OpInfo("F.interpolate_nearest_exact", lambda x: F.interpolate(x, size=(7, 3),
                                                                  mode="nearest-exact"),
           lambda x: interpolate_ref(x, (7, 3), "nearest-exact"),
           (Sample(((1, 2, 4, 5),)),), "UpsampleNearestExact2DBackward0"),
    OpInfo("F.interpolate_linear", lambda x: F.interpolate(x, size=7, mode="linear"),
           lambda x: interpolate_ref(x, (7,), "linear"),
           (Sample(((2, 3, 5),)),), "UpsampleLinear1DBackward0"),
    OpInfo("F.interpolate_bilinear",
           lambda x: F.interpolate(x, size=(7, 3), mode="bilinear"),
           lambda x: interpolate_ref(x, (7, 3), "bilinear"),
           (Sample(((1, 2, 4, 5),)),), "UpsampleBilinear2DBackward0"),
    OpInfo("F.interpolate_bilinear_align_corners",
           lambda x: F.interpolate(x, size=(7, 3), mode="bilinear", align_corners=True),
           lambda x: interpolate_ref(x, (7, 3), "bilinear", True),
           (Sample(((1, 2, 4, 5),)),), "UpsampleBilinear2DBackward0"),
    OpInfo("F.interpolate_bicubic", lambda x: F.interpolate(x, size=(6, 3), mode="bicubic"),
           lambda x: interpolate_ref(x, (6, 3), "bicubic"),
           (Sample(((2, 2, 4, 5),)),), "UpsampleBicubic2DBackward0"),
    OpInfo("F.interpolate_trilinear",
           lambda x: F.interpolate(x, size=(3, 4, 2), mode="trilinear", align_corners=True),
           lambda x: interpolate_ref(x, (3, 4, 2), "trilinear", True),
           (Sample(((1, 2, 2, 3, 3),)),), "UpsampleTrilinear3DBackward0"),
    OpInfo("F.interpolate_area", lambda x: F.interpolate(x, size=(3, 2), mode="area"),
           lambda x: np.stack([np.stack([x[..., i * 5 // 3:-(-(i + 1) * 5 // 3),
                                            j * 4 // 2:-(-(j + 1) * 4 // 2)].mean(axis=(-2, -1))
                                          for j in range(2)], -1) for i in range(3)], -2),
           (Sample(((1, 2, 5, 4),)),), "AdaptiveAvgPool2DBackward0"),
    OpInfo("F.interpolate_bilinear_antialias",
           lambda x: F.interpolate(x, size=(3, 2), mode="bilinear", antialias=True),
           lambda x: _antialias_ref(x, (3, 2)),
           (Sample(((1, 2, 7, 6),)),), "UpsampleBilinear2DAaBackward0"),
    OpInfo("F.upsample", _quiet(lambda x: F.upsample(x, scale_factor=2)),
           lambda x: interpolate_ref(x, (6, 4), "nearest"),
           (Sample(((1, 2, 3, 2),)),), "UpsampleNearest2DBackward0"),
    OpInfo("F.upsample_nearest", _quiet(lambda x: F.upsample_nearest(x, size=(5, 3))),
           lambda x: interpolate_ref(x, (5, 3), "nearest"),
           (Sample(((1, 2, 3, 2),)),), "UpsampleNearest2DBackward0"),
    OpInfo("F.upsample_bilinear", _quiet(lambda x: F.upsample_bilinear(x, size=(5, 3))),
           lambda x: interpolate_ref(x, (5, 3), "bilinear", True),
           (Sample(((1, 2, 3, 2),)),), "UpsampleBilinear2DBackward0"),
    OpInfo("F.grid_sample", lambda x, g: F.grid_sample(x, g, align_corners=False),
           lambda x, g: grid_sample_ref(x, g, "bilinear", "zeros", False),
           (Sample(((1, 2, 3, 4), (1, 3, 2, 2))),), "GridSampler2DBackward0",
           domain=(-1.3, 1.3)),
    OpInfo("F.grid_sample_reflection",
           lambda x, g: F.grid_sample(x, g, padding_mode="reflection", align_corners=True),
           lambda x, g: grid_sample_ref(x, g, "bilinear", "reflection", True),
           (Sample(((1, 2, 3, 3), (1, 2, 2, 2))),), "GridSampler2DBackward0",
           domain=(-1.3, 1.3)),
    OpInfo("F.grid_sample_border_nearest",
           lambda x: F.grid_sample(x, _grid(x, (2, 3, 4, 2)), mode="nearest",
                                   padding_mode="border", align_corners=False),
           lambda x: grid_sample_ref(x, GRID_2D, "nearest", "border", False),
           (Sample(((2, 2, 3, 4),)),), "GridSampler2DBackward0"),
    OpInfo("F.affine_grid", lambda t: F.affine_grid(t, (2, 3, 4, 5), align_corners=False),
           lambda t: affine_grid_ref(t, (2, 3, 4, 5), False),
           (Sample(((2, 2, 3),)),), "AffineGridGeneratorBackward0"),
    OpInfo("F.affine_grid_3d", lambda t: F.affine_grid(t, (1, 2, 3, 2, 4), align_corners=True),
           lambda t: affine_grid_ref(t, (1, 2, 3, 2, 4), True),
           (Sample(((1, 3, 4),)),), "AffineGridGeneratorBackward0"),
]


def _antialias_ref(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Antialiased bilinear downsampling: a triangle filter stretched by the scale, each
    output's weights normalised (PIL's and PyTorch's resampling)."""
    for offset, out in enumerate(size):
        axis = x.ndim - 2 + offset
        length = x.shape[axis]
        scale = length / out
        support = scale if scale >= 1 else 1.0
        rows = []
        for i in range(out):
            center = scale * (i + 0.5)
            low = max(int(center - support + 0.5), 0)
            high = min(int(center + support + 0.5), length)
            taps = np.arange(low, high)
            weights = np.maximum(0, 1 - np.abs((taps - center + 0.5) / max(scale, 1.0)))
            row = np.zeros(length)
            row[taps] = weights / weights.sum()
            rows.append(row)
        x = np.moveaxis(np.tensordot(x, np.array(rows), axes=([axis], [1])), -1, axis)
    return x
