"""torch-level type-promotion questions: `torch.promote_types`, `torch.result_type` and
`torch.can_cast`, answered by the promotion lattice in `dtypes` that every op uses."""

from __future__ import annotations

from typing import Any

from . import dtypes
from .ops._checks import invalid_arguments
from .tensor import Tensor

__all__ = ["can_cast", "promote_types", "result_type"]

_RESULT_TYPE_SIGNATURES = ("Tensor tensor, Tensor other", "Number scalar, Tensor tensor",
                           "Tensor tensor, Number other", "Number scalar1, Number scalar2")


def _require_dtype(function: str, name: str, position: int, value: Any) -> None:
    if not isinstance(value, dtypes.dtype):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be "
                        f"torch.dtype, not {type(value).__name__}")


def promote_types(type1: Any, type2: Any) -> dtypes.dtype:
    """The smallest dtype both `type1` and `type2` convert to without loss of kind."""
    _require_dtype("promote_types", "type1", 1, type1)
    _require_dtype("promote_types", "type2", 2, type2)
    return dtypes.promote_types(type1, type2)


def _operand(value: Any) -> Any:
    if isinstance(value, Tensor):
        return (value.dtype, value.dim())
    return value


def result_type(*args: Any, **kwargs: Any) -> dtypes.dtype:
    """result_type(tensor, other): the dtype an arithmetic op on `tensor` and `other` (each a
    tensor or a number) gives."""
    numbers = (bool, int, float, complex)
    named = dict(zip(("tensor", "other"), args))
    if len(args) > 2 or set(kwargs) - {"tensor", "other"} or set(kwargs) & set(named) or \
            len(named) + len(kwargs) != 2 or not all(
                isinstance(value, (Tensor, *numbers)) for value in (*args, *kwargs.values())):
        raise invalid_arguments("result_type", args, kwargs, _RESULT_TYPE_SIGNATURES)
    named.update(kwargs)
    return dtypes.result_type(_operand(named["tensor"]), _operand(named["other"]))


def can_cast(from_: Any, to: Any) -> bool:
    """Whether a cast from `from_` to `to` is allowed by PyTorch's casting rules (no complex
    to real, no floating to integral, nothing but bool to bool)."""
    _require_dtype("can_cast", "from_", 1, from_)
    _require_dtype("can_cast", "to", 2, to)
    if from_.is_complex and not to.is_complex:
        return False
    if from_.is_floating_point and not (to.is_floating_point or to.is_complex
                                        or to is dtypes.bool_):
        return False
    return not (from_ is not dtypes.bool_ and to is dtypes.bool_)
