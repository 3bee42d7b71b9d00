"""The FLOP counts the profiler reports with `with_flops=True`: PyTorch's formulas, for the ops
PyTorch counts (`aten::mm`, `aten::addmm`, `aten::bmm`, `aten::baddbmm`, `aten::conv2d`,
`aten::mul`, `aten::add`); every other op counts 0, as in PyTorch.

A product counts a multiply and an add per term (2 * M * N * K, the bias or the scaled input of
addmm/baddbmm not counted); an element-wise op counts one per element of its first input (not
of the broadcast output); conv2d counts 2 * N * H_out * W_out * C_out * C_in * kH * kW / groups.
Ops call these from their `count_flops` (a static method taking the recorded arguments).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .user_warnings import warn


def _warn(message: str) -> None:
    warn(message, UserWarning, stacklevel=4)


def matmul_flops(mat1: Sequence[int], mat2: Sequence[int]) -> int:
    """mm / addmm: every dim of mat1 but the shared one, times every dim of mat2, twice."""
    if len(mat1) == 0 or mat1[-1] == 0:
        return 0
    return 2 * math.prod(mat1) // mat1[-1] * math.prod(mat2)


def batched_matmul_flops(batch1: Sequence[int], batch2: Sequence[int]) -> int:
    """bmm / baddbmm: the batch counted once (it is in both operands)."""
    if len(batch1) == 0 or batch1[0] == 0 or batch1[-1] == 0:
        return 0
    return 2 * math.prod(batch1) // batch1[-1] // batch1[0] * math.prod(batch2)


def elementwise_flops(first: Any) -> int:
    """mul / add: one per element of the first argument (0 when it is not a tensor)."""
    shape = getattr(first, "shape", None)
    return 0 if shape is None else math.prod(shape)


def _pair(value: Any) -> list[int] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return [value, value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        return list(value)
    return None


def conv2d_flops(input: Sequence[int], weight: Sequence[int], stride: Any, padding: Any,
                 dilation: Any, groups: int) -> int:
    """conv2d's count, with PyTorch's warnings (and 0) where an argument does not fit it."""
    op = "aten::conv2d"
    strides, paddings, dilations = _pair(stride), _pair(padding), _pair(dilation)
    if strides is None or paddings is None or dilations is None:
        _warn(f"Failed to compute flops for op {op} because it requires padding, stride, and "
              "dilation values.")
        return 0
    if len(input) != 4 or len(weight) != 4:
        _warn(f"Failed to compute flops for op {op} because both input and weight must be "
              "size 4.")
        return 0
    if not groups:
        _warn(f"Failed to compute flops for op {op} because group size must not be 0.")
        return 0
    if len(paddings) != 2 or len(dilations) != 2:
        _warn(f"Failed to compute flops for op {op} because both padding and dilation must be "
              "size 2.")
        return 0
    if len(strides) != 2 or strides[0] * strides[1] == 0:
        _warn(f"Failed to compute flops for op {op} because stride must be size 2 and cannot "
              "be 0.")
        return 0
    batch, in_channels, height, width = input
    out_channels, _, kernel_h, kernel_w = weight
    out_h = (height + 2 * paddings[0] - dilations[0] * (kernel_h - 1) - 1) // strides[0] + 1
    out_w = (width + 2 * paddings[1] - dilations[1] * (kernel_w - 1) - 1) // strides[1] + 1
    return (2 * batch * out_h * out_w * kernel_h * kernel_w * in_channels * out_channels
            // groups)
