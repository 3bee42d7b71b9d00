"""The activation functions of `autodiff.nn.functional` that have an in-place form, with
PyTorch's signatures (`inplace=` and the `<name>_` functions).

In place is an in-place op (ops/inplace.py): an op run out of place on the input's old value,
written back into the input. It is the ordinary op where PyTorch's in-place node is the same
(relu_, hardtanh_, silu_, ...) and the op that saves its result where PyTorch's in-place node is
another (elu_ is `EluBackward1`, leaky_relu_ `LeakyReluBackward1`, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ops import activation, piecewise
from ..ops import inplace as _inplace
from ..ops.unary import tanh
from ..tensor import Tensor


def _maybe_inplace(input: Tensor, inplace: bool, op: Callable[..., Tensor], *args: Any,
                   inplace_op: Callable[..., Tensor] | None = None) -> Tensor:
    if not inplace:
        return op(input, *args)
    op = op if inplace_op is None else inplace_op
    return _inplace.apply(input, (), lambda source: op(source, *args))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.relu)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.leaky_relu, negative_slope,
                          inplace_op=activation.leaky_relu_result)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    return activation.gelu(input, approximate)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.elu, alpha,
                          inplace_op=activation.elu_result)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.selu, inplace_op=activation.selu_result)


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.celu, alpha,
                          inplace_op=activation.celu_result)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.silu)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, activation.mish)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, piecewise.hardtanh, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, piecewise.relu6)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, piecewise.hardsigmoid)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, piecewise.hardswish)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, piecewise.threshold, threshold, value,
                          inplace_op=piecewise.threshold_in_place)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _maybe_inplace(input, True, piecewise.threshold, threshold, value,
                          inplace_op=piecewise.threshold_in_place)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, inplace, piecewise.rrelu, lower, upper, training,
                          inplace_op=piecewise.rrelu_result)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False, generator: Any = None) -> Tensor:
    """rrelu in place; as torch.rrelu_ it also takes the `generator` of the slopes."""
    return _maybe_inplace(input, True, piecewise.rrelu, lower, upper, training, generator,
                          inplace_op=piecewise.rrelu_result)


__all__ = [
    "celu", "celu_", "elu", "elu_", "gelu", "hardsigmoid", "hardswish", "hardtanh", "hardtanh_",
    "leaky_relu", "leaky_relu_", "mish", "relu", "relu6", "relu_", "rrelu", "rrelu_", "selu",
    "selu_", "silu", "tanh", "threshold", "threshold_",
]
