"""Small helpers the elementwise and reduction families share (beside the lead's `_util`)."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..tensor import Tensor, _wrap


def zeros_like_grad(grad: Tensor) -> Tensor:
    """The gradient of a piecewise-constant op: zeros (not grad * 0, which keeps NaNs)."""
    return _wrap(grad._backend.zeros_like(grad._data), grad._backend)


def not_implemented_for(kernel: str, backend: Any, array: Any) -> NotImplementedError:
    """PyTorch's error for a dtype a kernel has no implementation for, e.g.
    `"abs_cpu" not implemented for 'Bool'`."""
    name = dtypes.SCALAR_TYPE_NAMES[backend.dtype_name(array)]
    return NotImplementedError(f'"{kernel}_{backend.device.type}" not implemented for \'{name}\'')
