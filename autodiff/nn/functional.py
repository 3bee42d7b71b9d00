"""`autodiff.nn.functional`: activations and losses as functions."""

from __future__ import annotations

from ..ops.elementwise import sigmoid, softplus
from ..ops.loss import binary_cross_entropy_with_logits

__all__ = ["binary_cross_entropy_with_logits", "sigmoid", "softplus"]
