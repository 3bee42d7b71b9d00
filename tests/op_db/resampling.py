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

from . import OpInfo, Sample


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
