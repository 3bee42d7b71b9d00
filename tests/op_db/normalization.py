"""Op table entries: batch, instance, group and local response normalization.

Running statistics are made inside each op (fresh for every call, on the input's device) so the
entries stay pure functions of their inputs; their updates are tested in tests/nn.
"""

from __future__ import annotations

import numpy as np

import autodiff
import autodiff.nn.functional as F

from .info import OpInfo, Sample

RUNNING_MEAN = np.array([0.5, -0.25, 1.0])
RUNNING_VAR = np.array([2.0, 0.5, 1.5])


def _running(like: autodiff.Tensor) -> tuple[autodiff.Tensor, autodiff.Tensor]:
    return (autodiff.tensor(RUNNING_MEAN, dtype=like.dtype, device=like.device),
            autodiff.tensor(RUNNING_VAR, dtype=like.dtype, device=like.device))


def _per_channel(vector: np.ndarray, ndim: int) -> np.ndarray:
    return vector.reshape(1, -1, *(1,) * (ndim - 2))


def batch_norm_ref(x: np.ndarray, weight: np.ndarray | None = None,
                   bias: np.ndarray | None = None, training: bool = True,
                   eps: float = 1e-5) -> np.ndarray:
    axes = (0, *range(2, x.ndim))
    if training:
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    else:
        mean, var = _per_channel(RUNNING_MEAN, x.ndim), _per_channel(RUNNING_VAR, x.ndim)
    out = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        out = out * _per_channel(weight, x.ndim)
    if bias is not None:
        out = out + _per_channel(bias, x.ndim)
    return out


def group_norm_ref(x: np.ndarray, groups: int, weight: np.ndarray | None = None,
                   bias: np.ndarray | None = None, eps: float = 1e-5) -> np.ndarray:
    grouped = x.reshape(x.shape[0], groups, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    var = ((grouped - mean) ** 2).mean(axis=2, keepdims=True)
    out = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    if weight is not None:
        out = out * _per_channel(weight, x.ndim)
    if bias is not None:
        out = out + _per_channel(bias, x.ndim)
    return out


def instance_norm_ref(x: np.ndarray, weight: np.ndarray | None = None,
                      bias: np.ndarray | None = None, eps: float = 1e-5) -> np.ndarray:
    return group_norm_ref(x, x.shape[1], weight, bias, eps)


def local_response_norm_ref(x: np.ndarray, size: int, alpha: float = 1e-4,
                            beta: float = 0.75, k: float = 1.0) -> np.ndarray:
    squares = x * x
    channels = x.shape[1]
    sums = np.zeros_like(x)
    for c in range(channels):
        low, high = c - size // 2, c + (size - 1) // 2
        sums[:, c] = squares[:, max(low, 0):min(high, channels - 1) + 1].sum(axis=1)
    return x / (k + alpha * sums / size) ** beta


NORMALIZATION = [
    OpInfo("F.batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           batch_norm_ref,
           (Sample(((4, 3, 2, 3), (3,), (3,))), Sample(((5, 3), (3,), (3,)))),
           "NativeBatchNormBackward0"),
    OpInfo("F.batch_norm_running",
           lambda x: F.batch_norm(x, *_running(x), training=True, momentum=0.3),
           lambda x: batch_norm_ref(x), (Sample(((3, 3, 4),)),), "NativeBatchNormBackward0"),
    OpInfo("F.batch_norm_eval",
           lambda x, w, b: F.batch_norm(x, *_running(x), w, b, training=False),
           lambda x, w, b: batch_norm_ref(x, w, b, training=False),
           (Sample(((4, 3, 2, 2), (3,), (3,))),), "NativeBatchNormBackward0"),
    OpInfo("F.instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
           instance_norm_ref, (Sample(((2, 3, 4, 2), (3,), (3,))),), "ViewBackward0"),
    OpInfo("F.group_norm", lambda x, w, b: F.group_norm(x, 2, w, b),
           lambda x, w, b: group_norm_ref(x, 2, w, b),
           (Sample(((2, 4, 3, 2), (4,), (4,))), Sample(((3, 6), (6,), (6,)))),
           "NativeGroupNormBackward0"),
    OpInfo("F.group_norm_no_affine", lambda x: F.group_norm(x, 3),
           lambda x: group_norm_ref(x, 3), (Sample(((2, 3, 5),)),),
           "NativeGroupNormBackward0"),
    OpInfo("F.local_response_norm", lambda x: F.local_response_norm(x, 3, alpha=0.1, k=2.0),
           lambda x: local_response_norm_ref(x, 3, alpha=0.1, k=2.0),
           (Sample(((2, 5, 4),)), Sample(((2, 4, 3, 2),))), "DivBackward0"),
]
