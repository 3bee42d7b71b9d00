"""The array functions optimizer update rules call, for Tensors.

An update rule is written once over a namespace `xp` (operators, in-place operators and the
functions below). On a parameter's backend arrays it is the step itself; with
`differentiable=True` it runs on the Tensors with these functions, so every operation is a
recorded op and the step can be differentiated (PyTorch's `differentiable` optimizers).
"""

from __future__ import annotations

from ..ops.selection import clip, maximum, where
from ..ops.unary import abs, sign, sqrt

__all__ = ["abs", "clip", "maximum", "sign", "sqrt", "where"]
