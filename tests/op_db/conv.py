"""Op table entries: convolutions, transposed convolutions, unfold and fold.

The NumPy references loop over kernel taps (one strided slice and one einsum over channels per
tap and group), independently of the library's im2col + GEMM.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
import autodiff.nn.functional as F

from .info import OpInfo, Sample


def _expand(value: Any, count: int) -> tuple[int, ...]:
    return (value,) * count if isinstance(value, int) else tuple(value)


def _taps(kernel: tuple[int, ...]) -> itertools.product:
    return itertools.product(*(range(k) for k in kernel))


def _tap_slices(tap: tuple[int, ...], positions: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                 for t, o, s, d in zip(tap, positions, stride, dilation))


def conv_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: Any = 1,
             padding: Any = 0, dilation: Any = 1, groups: int = 1) -> np.ndarray:
    if x.ndim == w.ndim - 1:  # unbatched
        return conv_ref(x[None], w, b, stride, padding, dilation, groups)[0]
    count = x.ndim - 2
    stride, dilation = _expand(stride, count), _expand(dilation, count)
    kernel = w.shape[2:]
    if padding == "same":
        pairs = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                 for d, k in zip(dilation, kernel)]
    else:
        pairs = [(p, p) for p in _expand(0 if padding == "valid" else padding, count)]
    padded = np.pad(x, [(0, 0), (0, 0), *pairs])
    positions = tuple((size - d * (k - 1) - 1) // s + 1
                      for size, d, k, s in zip(padded.shape[2:], dilation, kernel, stride))
    in_group, out_group = x.shape[1] // groups, w.shape[0] // groups
    out = np.zeros((x.shape[0], w.shape[0], *positions))
    for tap in _taps(kernel):
        patch = padded[(slice(None), slice(None), *_tap_slices(tap, positions, stride,
                                                                   dilation))]
        for g in range(groups):
            out[:, g * out_group:(g + 1) * out_group] += np.einsum(
                "nc...,oc->no...", patch[:, g * in_group:(g + 1) * in_group],
                w[(slice(g * out_group, (g + 1) * out_group), slice(None), *tap)])
    if b is not None:
        out += b.reshape(-1, *(1,) * count)
    return out


def conv_transpose_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                       stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                       groups: int = 1, dilation: Any = 1) -> np.ndarray:
    if x.ndim == w.ndim - 1:  # unbatched
        return conv_transpose_ref(x[None], w, b, stride, padding, output_padding, groups,
                                  dilation)[0]
    count = x.ndim - 2
    stride, dilation = _expand(stride, count), _expand(dilation, count)
    padding, output_padding = _expand(padding, count), _expand(output_padding, count)
    kernel = w.shape[2:]
    in_group, out_group = x.shape[1] // groups, w.shape[1]
    full = tuple((size - 1) * s + d * (k - 1) + 1 + op for size, s, d, k, op in
                 zip(x.shape[2:], stride, dilation, kernel, output_padding))
    out = np.zeros((x.shape[0], out_group * groups, *full))
    for tap in _taps(kernel):
        key = _tap_slices(tap, x.shape[2:], stride, dilation)
        for g in range(groups):
            out[(slice(None), slice(g * out_group, (g + 1) * out_group), *key)] += np.einsum(
                "nc...,co->no...", x[:, g * in_group:(g + 1) * in_group],
                w[(slice(g * in_group, (g + 1) * in_group), slice(None), *tap)])
    out = out[(slice(None), slice(None), *(slice(p, size - p) for p, size in
                                           zip(padding, full)))]
    if b is not None:
        out = out + b.reshape(-1, *(1,) * count)
    return out


def unfold_ref(x: np.ndarray, kernel: Any, dilation: Any = 1, padding: Any = 0,
               stride: Any = 1) -> np.ndarray:
    kernel, dilation = _expand(kernel, 2), _expand(dilation, 2)
    padding, stride = _expand(padding, 2), _expand(stride, 2)
    padded = np.pad(x, [(0, 0), (0, 0), *((p, p) for p in padding)])
    positions = tuple((size - d * (k - 1) - 1) // s + 1
                      for size, d, k, s in zip(padded.shape[2:], dilation, kernel, stride))
    patches = [padded[(slice(None), slice(None), *_tap_slices(tap, positions, stride,
                                                              dilation))]
               for tap in _taps(kernel)]
    stacked = np.stack(patches, axis=2)  # (N, C, taps, *positions)
    return stacked.reshape(x.shape[0], -1, int(np.prod(positions)))


def fold_ref(cols: np.ndarray, output_size: Any, kernel: Any, dilation: Any = 1,
             padding: Any = 0, stride: Any = 1) -> np.ndarray:
    kernel, dilation = _expand(kernel, 2), _expand(dilation, 2)
    padding, stride = _expand(padding, 2), _expand(stride, 2)
    output_size = _expand(output_size, 2)
    padded_size = tuple(size + 2 * p for size, p in zip(output_size, padding))
    positions = tuple((size - d * (k - 1) - 1) // s + 1
                      for size, d, k, s in zip(padded_size, dilation, kernel, stride))
    taps = int(np.prod(kernel))
    blocks = cols.reshape(cols.shape[0], -1, taps, *positions)
    out = np.zeros((cols.shape[0], blocks.shape[1], *padded_size))
    for index, tap in enumerate(_taps(kernel)):
        out[(slice(None), slice(None), *_tap_slices(tap, positions, stride, dilation))] += \
            blocks[:, :, index]
    return out[(slice(None), slice(None), *(slice(p, p + size) for p, size in
                                           zip(padding, output_size)))]


def _quiet(function: Callable[..., autodiff.Tensor]) -> Callable[..., autodiff.Tensor]:
    """padding='same' with an even kernel warns (as PyTorch does); the table means it."""

    def call(*args: Any) -> autodiff.Tensor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return function(*args)

    return call


CONV = [
    OpInfo("F.conv2d", F.conv2d, conv_ref,
           (Sample(((2, 3, 5, 4), (4, 3, 3, 2), (4,))), Sample(((3, 4, 4), (2, 3, 2, 2))),
            Sample(((0, 2, 3, 3), (2, 2, 2, 2)))),
           "ConvolutionBackward0"),
    OpInfo("F.conv2d_stride_padding_dilation",
           lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
           lambda x, w, b: conv_ref(x, w, b, (2, 1), (1, 2), (2, 1)),
           (Sample(((2, 2, 6, 5), (3, 2, 2, 3), (3,))),), "ConvolutionBackward0"),
    OpInfo("F.conv2d_groups",
           _quiet(lambda x, w, b: F.conv2d(x, w, b, padding="same", groups=2)),
           lambda x, w, b: conv_ref(x, w, b, padding="same", groups=2),
           (Sample(((2, 4, 4, 5), (6, 2, 2, 3), (6,))),), "ConvolutionBackward0"),
    OpInfo("F.conv2d_depthwise", lambda x, w: F.conv2d(x, w, padding=1, groups=3),
           lambda x, w: conv_ref(x, w, padding=1, groups=3),
           (Sample(((2, 3, 4, 4), (6, 1, 3, 3))),), "ConvolutionBackward0"),
    OpInfo("F.conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
           lambda x, w, b: conv_ref(x, w, b, 2, 1),
           (Sample(((2, 3, 7), (4, 3, 3), (4,))),), "ConvolutionBackward0"),
    OpInfo("F.conv1d_valid", lambda x, w: F.conv1d(x, w, padding="valid", dilation=2),
           lambda x, w: conv_ref(x, w, padding="valid", dilation=2),
           (Sample(((2, 2, 7), (3, 2, 2))),), "ConvolutionBackward0"),
    OpInfo("F.conv3d", lambda x, w, b: F.conv3d(x, w, b, padding=(1, 0, 1), stride=(1, 2, 1)),
           lambda x, w, b: conv_ref(x, w, b, (1, 2, 1), (1, 0, 1)),
           (Sample(((1, 2, 3, 4, 3), (2, 2, 2, 2, 2), (2,))),), "ConvolutionBackward0"),
    OpInfo("F.conv_transpose2d",
           lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
           lambda x, w, b: conv_transpose_ref(x, w, b, 2, 1, 1),
           (Sample(((2, 3, 3, 2), (3, 2, 3, 3), (2,))),), "ConvolutionBackward0"),
    OpInfo("F.conv_transpose2d_groups_dilation",
           lambda x, w: F.conv_transpose2d(x, w, stride=(1, 2), output_padding=(1, 1),
                                           groups=2, dilation=2),
           lambda x, w: conv_transpose_ref(x, w, None, (1, 2), 0, (1, 1), 2, 2),
           (Sample(((1, 4, 3, 2), (4, 1, 2, 2))),), "ConvolutionBackward0"),
    OpInfo("F.conv_transpose1d", lambda x, w, b: F.conv_transpose1d(x, w, b, stride=3),
           lambda x, w, b: conv_transpose_ref(x, w, b, 3),
           (Sample(((2, 3, 3), (3, 2, 2), (2,))), Sample(((3, 4), (3, 2, 3), (2,)))),
           "ConvolutionBackward0"),
    OpInfo("F.conv_transpose3d",
           lambda x, w: F.conv_transpose3d(x, w, stride=2, padding=1),
           lambda x, w: conv_transpose_ref(x, w, None, 2, 1),
           (Sample(((1, 2, 2, 2, 2), (2, 1, 3, 2, 2))),), "ConvolutionBackward0"),
    OpInfo("F.unfold",
           lambda x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
           lambda x: unfold_ref(x, (2, 3), (1, 2), 1, (2, 1)),
           (Sample(((2, 3, 5, 6),)),), "Im2ColBackward0"),
    OpInfo("F.fold",
           lambda x: F.fold(x, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
           lambda x: fold_ref(x, (5, 6), (2, 3), (1, 2), 1, (2, 1)),
           (Sample(((2, 12, 12),)),), "Col2ImBackward0"),
]
