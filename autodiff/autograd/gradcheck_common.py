"""What every part of gradcheck shares: its error type and which values take part."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class GradcheckError(RuntimeError):
    """What gradcheck raises when a gradient is wrong (a RuntimeError, as in PyTorch)."""


def as_tuple(value: Any) -> tuple[Any, ...]:
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return tuple(value)
    return (value,)


def is_float_or_complex(value: Any) -> bool:
    return isinstance(value, Tensor) and (value.is_floating_point() or value.is_complex())


def differentiable_outputs(value: Any) -> tuple[Tensor, ...]:
    return tuple(out for out in as_tuple(value) if isinstance(out, Tensor) and out.requires_grad)


def differentiable_inputs(inputs: tuple[Any, ...]) -> list[Tensor]:
    return [value for value in inputs if isinstance(value, Tensor) and value.requires_grad]
