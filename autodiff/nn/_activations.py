"""The activation functions of `autodiff.nn.functional`, with PyTorch's signatures.

`inplace=True` is an in-place op (ops/inplace.py): the same op out of place on the input's old
value (so the node and gradient are PyTorch's `relu_`'s), written back into the input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ops import activation
from ..ops import inplace as _inplace
from ..ops.unary import tanh
from ..tensor import Tensor


def _maybe_inplace(input: Tensor, inplace: bool, op: Callable[..., Tensor], *args: Any) -> Tensor:
    if not inplace:
        return op(input, *args)
    return _inplace.apply(input, (), lambda source: op(source, *args))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.relu)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.leaky_relu, negative_slope)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    return activation.gelu(input, approximate)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.elu, alpha)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.silu)


__all__ = ["elu", "gelu", "leaky_relu", "relu", "silu", "tanh"]
