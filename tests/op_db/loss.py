"""Op table entries: loss ops."""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff.nn.functional as F

from . import OpInfo, Sample


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _bce_logits(z: np.ndarray, y: np.ndarray, weight: Any = None, pos_weight: Any = None,
                reduction: str = "mean") -> np.ndarray:
    log_weight = 1 + (pos_weight - 1) * y if pos_weight is not None else 1
    loss = (1 - y) * z + log_weight * _softplus(-z)
    if weight is not None:
        loss = loss * weight
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](loss)

LOSS: list[OpInfo] = [
    OpInfo("bce_with_logits", lambda z, y: F.binary_cross_entropy_with_logits(z, y),
           _bce_logits, (Sample(((3, 4), (3, 4))), Sample(((5,), (5,)))),
           "BinaryCrossEntropyWithLogitsBackward0", domain=(-4.0, 4.0)),
    OpInfo("bce_with_logits_none",
           lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
           lambda z, y: _bce_logits(z, y, reduction="none"), (Sample(((3, 4), (3, 4))),),
           "BinaryCrossEntropyWithLogitsBackward0", domain=(-4.0, 4.0)),
    OpInfo("bce_with_logits_weights",
           lambda z, y, w, p: F.binary_cross_entropy_with_logits(
               z, y, weight=w, pos_weight=p, reduction="sum"),
           lambda z, y, w, p: _bce_logits(z, y, w, p, reduction="sum"),
           (Sample(((3, 4), (3, 4), (4,), (4,))),),
           "BinaryCrossEntropyWithLogitsBackward0", domain=(0.1, 3.0), grad_inputs=2),
]
