"""torch.result_type, torch.promote_types and torch.can_cast: PyTorch's type promotion and
casting rules asked directly (the ops apply the same rules, `dtypes.result_type`)."""

from __future__ import annotations

from numbers import Real
from typing import Any

from . import dtypes
from .ops._checks import invalid_arguments, is_number
from .tensor import Tensor

__all__ = ["can_cast", "promote_types", "result_type"]


def _require_dtype(function: str, name: str, position: int, value: Any) -> dtypes.dtype:
    if not isinstance(value, dtypes.dtype):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be "
                        f"torch.dtype, not {type(value).__name__}")
    return value


def promote_types(type1: Any, type2: Any) -> dtypes.dtype:
    """The smallest dtype both convert to (neither narrower nor of a lower kind)."""
    first = _require_dtype("promote_types", "type1", 1, type1)
    second = _require_dtype("promote_types", "type2", 2, type2)
    return dtypes.promote_types(first, second)


def _python_number(value: Any) -> Any:
    """A number as the Python number it promotes as (NumPy's scalars by their item)."""
    if isinstance(value, (bool, int, float, complex)):
        return value
    item = getattr(value, "item", None)
    if item is not None:
        return item()
    return float(value) if isinstance(value, Real) else complex(value)


def result_type(tensor1: Any, tensor2: Any) -> dtypes.dtype:
    """The dtype an arithmetic op of the two operands (tensors or numbers) computes in: a
    tensor with dimensions outranks a 0-d one, which outranks a Python number, unless the
    lower one is of a higher kind (a float number and an integer tensor give the default
    float)."""
    operands: list[Any] = []
    for value in (tensor1, tensor2):
        if isinstance(value, Tensor):
            operands.append((value.dtype, value._data.ndim))
        elif is_number(value):
            operands.append(_python_number(value))
        else:
            raise invalid_arguments("result_type", (tensor1, tensor2), {}, (
                "Tensor tensor, Tensor other", "Scalar scalar, Tensor tensor",
                "Tensor tensor, Scalar other", "Scalar scalar1, Scalar scalar2"))
    return dtypes.result_type(*operands)


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch's casting rules allow `from_` to `to` (as an in-place op's result):
    not complex to a real dtype, floating to integral, or anything but bool to bool."""
    source = _require_dtype("can_cast", "from_", 1, from_)
    target = _require_dtype("can_cast", "to", 2, to)
    if source.is_complex and not target.is_complex:
        return False
    if source.is_floating_point and not (target.is_floating_point or target.is_complex):
        return False
    return not (source is not dtypes.bool_ and target is dtypes.bool_)
