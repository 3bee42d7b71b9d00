"""Op table entries: torch.masked's functional reductions and normalizations (`mask=`), each
with a fixed mask that leaves every row and column of the samples something masked in."""

from __future__ import annotations

import numpy as np

import autodiff
import autodiff.masked

from .info import OpInfo, Sample

MATRIX = Sample(((3, 4),))
CUBE = Sample(((2, 3, 4),))


def _mask(a: autodiff.Tensor) -> autodiff.Tensor:
    return (autodiff.arange(a.numel(), device=a.device) % 3 != 1).reshape(a.shape)


def _np_mask(a: np.ndarray) -> np.ndarray:
    return (np.arange(a.size) % 3 != 1).reshape(a.shape)


def _filled(a: np.ndarray, fill: float) -> np.ndarray:
    return np.where(_np_mask(a), a, fill)


def _mean(a: np.ndarray) -> np.ndarray:
    return _filled(a, 0).sum(1) / _np_mask(a).sum(1)


def _var(a: np.ndarray) -> np.ndarray:
    mask = _np_mask(a)
    count = mask.sum(1, keepdims=True)
    centred = np.where(mask, a - _filled(a, 0).sum(1, keepdims=True) / count, 0)
    return (centred ** 2).sum(1) / (count[:, 0] - 1)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(filled: np.ndarray) -> np.ndarray:
    peak = filled.max(1, keepdims=True)
    return filled - peak - np.log(np.exp(filled - peak).sum(1, keepdims=True))


def _median(a: np.ndarray) -> np.ndarray:
    """The lower median of the masked-in elements along dim 1 (PyTorch's, not NumPy's mean of
    the two middle ones)."""
    filled = np.sort(_filled(a, np.nan), axis=1)  # nan sorts last
    count = (~np.isnan(filled)).sum(1, keepdims=True)
    return np.take_along_axis(filled, (count - 1) // 2, axis=1)[:, 0]


def _logsumexp(a: np.ndarray) -> np.ndarray:
    filled = _filled(a, -np.inf)
    peak = filled.max(1, keepdims=True)
    return np.log(np.exp(filled - peak).sum(1)) + peak[:, 0]


def _normalize(a: np.ndarray) -> np.ndarray:
    size = np.sqrt((_filled(a, 0) ** 2).sum(1, keepdims=True))
    return _filled(a, 0) / np.maximum(size, 1e-12)


masked = autodiff.masked

MASKED: list[OpInfo] = [
    OpInfo("masked.sum", lambda a: masked.sum(a, 1, mask=_mask(a)),
           lambda a: _filled(a, 0).sum(1), (MATRIX, CUBE), "SumBackward1"),
    OpInfo("masked.sum_all_keepdim", lambda a: masked.sum(a, keepdim=True, mask=_mask(a)),
           lambda a: _filled(a, 0).sum(keepdims=True), (MATRIX,), "SumBackward1"),
    OpInfo("masked.prod", lambda a: masked.prod(a, 1, mask=_mask(a)),
           lambda a: _filled(a, 1).prod(1), (MATRIX, CUBE), "ProdBackward1"),
    OpInfo("masked.cumsum", lambda a: masked.cumsum(a, 1, mask=_mask(a)),
           lambda a: _filled(a, 0).cumsum(1), (MATRIX, CUBE), "CumsumBackward0"),
    OpInfo("masked.cumprod", lambda a: masked.cumprod(a, 1, mask=_mask(a)),
           lambda a: _filled(a, 1).cumprod(1), (MATRIX, CUBE), "CumprodBackward0"),
    OpInfo("masked.amax", lambda a: masked.amax(a, 1, mask=_mask(a)),
           lambda a: _filled(a, -np.inf).max(1), (MATRIX, CUBE), "AmaxBackward0"),
    OpInfo("masked.amin", lambda a: masked.amin(a, (0, 1), mask=_mask(a)),
           lambda a: _filled(a, np.inf).min((0, 1)), (MATRIX, CUBE), "AminBackward0"),
    OpInfo("masked.argmax", lambda a: masked.argmax(a, 1, mask=_mask(a)),
           lambda a: _filled(a, -np.inf).argmax(1).astype(a.dtype), (MATRIX, CUBE),
           differentiable=False),
    OpInfo("masked.argmin", lambda a: masked.argmin(a, 0, keepdim=True, mask=_mask(a)),
           lambda a: _filled(a, np.inf).argmin(0)[None].astype(a.dtype), (MATRIX, CUBE),
           differentiable=False),
    OpInfo("masked.mean", lambda a: masked.mean(a, 1, mask=_mask(a)), _mean, (MATRIX, CUBE),
           "DivBackward0"),
    OpInfo("masked.median", lambda a: masked.median(a, 1, mask=_mask(a)), _median,
           (MATRIX, CUBE), "NanmedianBackward1"),
    OpInfo("masked.logaddexp",
           lambda a, b: masked.logaddexp(a, b, input_mask=_mask(a), other_mask=~_mask(b)),
           lambda a, b: np.logaddexp(_filled(a, -np.inf), np.where(_np_mask(b), -np.inf, b)),
           (Sample(((3, 4), (3, 4))),), "LogaddexpBackward0",
           gradgrad="logaddexp's double backward at a masked-out (-inf) element: PyTorch's "
                    "gradgradcheck fails there too"),
    OpInfo("masked.logsumexp", lambda a: masked.logsumexp(a, 1, mask=_mask(a)), _logsumexp,
           (MATRIX, CUBE), "LogsumexpBackward0"),
    OpInfo("masked.norm", lambda a: masked.norm(a, 2.0, 1, mask=_mask(a)),
           lambda a: np.sqrt((_filled(a, 0) ** 2).sum(1)), (MATRIX, CUBE),
           "LinalgVectorNormBackward0"),
    OpInfo("masked.var", lambda a: masked.var(a, 1, mask=_mask(a)), _var, (MATRIX, CUBE),
           "DivBackward0"),
    OpInfo("masked.std", lambda a: masked.std(a, 1, mask=_mask(a)),
           lambda a: np.sqrt(_var(a)), (MATRIX, CUBE), "SqrtBackward0"),
    OpInfo("masked.softmax", lambda a: masked.softmax(a, 1, mask=_mask(a)),
           lambda a: _softmax(_filled(a, -np.inf), 1), (MATRIX, CUBE), "SoftmaxBackward0"),
    # Masked-out elements are -inf: filled, so that finite differences stay finite.
    OpInfo("masked.log_softmax",
           lambda a: masked.log_softmax(a, 1, mask=_mask(a)).masked_fill(~_mask(a), 0.0),
           lambda a: np.where(_np_mask(a), _log_softmax(_filled(a, -np.inf)), 0.0),
           (MATRIX, CUBE), "MaskedFillBackward0"),
    OpInfo("masked.softmin", lambda a: masked.softmin(a, 1, mask=_mask(a)),
           lambda a: _softmax(-_filled(a, np.inf), 1), (MATRIX, CUBE), "SoftmaxBackward0"),
    OpInfo("masked.normalize", lambda a: masked.normalize(a, 2.0, 1, mask=_mask(a)), _normalize,
           (MATRIX, CUBE), "DivBackward0"),
]
