"""`autograd.forward_ad`, shaped like `torch.autograd.forward_ad`: dual tensors for
forward-mode AD.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        value, jvp = forward_ad.unpack_dual(y)

Inside a level every op given a dual tensor computes its output's tangent with its `jvp` rule
(one rule per op, beside its backward, `function.py`), so `jvp` is J @ tangent at about the cost
of one more forward. Rules are written with Tensor ops: with grad mode on, a tangent is
differentiable in reverse mode (reverse-over-forward), and a dual tensor may require grad
(forward-over-reverse). As in PyTorch, this API opens one level at a time (entering a second, or
one inside `func.jvp`, raises PyTorch's error); higher-order forward derivatives nest
`func.jvp`, which opens a level of its own per call (`dual.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from ..dual import rules_running, tangent_at
from ..dual import state as _state
from ..ops.shape import alias
from ..tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]


def enter_dual_level() -> int:
    """Open a forward-AD level and make it the current one; return it."""
    if _state.level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    return _state.enter(public=True)


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the current level: every tangent made at it is dropped."""
    _state.exit(_state.level if level is None else level)


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of `tensor` that carries `tangent` at the level (backward-differentiable)."""
    if level is None:
        level = _state.level
    if level < 0:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    if not _inexact(tensor):
        raise ValueError(
            f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not _inexact(tangent):
        raise ValueError(
            f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if not 0 <= level <= _state.level:
        raise RuntimeError("Invalid level given to _make_dual")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}."
        )
    if tangent._backend is not tensor._backend and tangent.device != tensor.device:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different device than that of the "
            f"original Tensor, this is not supported. Tensor is on {tensor.device} while the "
            f"given forward gradient is on {tangent.device}."
        )
    if tangent_at(tensor, level) is not None:
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at the "
            f"same level {level} is not supported."
        )
    with rules_running(level + 1):  # the view keeps the tensor's tangents at outer levels
        dual = tensor.view(tensor._data.shape)
    _state.set_tangent(dual, tangent, level)
    return dual


def _inexact(tensor: Tensor) -> bool:
    dtype, backend = tensor._data.dtype, tensor._backend
    return backend.is_floating(dtype) or backend.is_complex(dtype)


class UnpackedDualTensor(NamedTuple):
    """What `unpack_dual` returns: the primal and the tangent (None when there is none)."""

    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent) of a dual tensor at the level: the primal is a view of `tensor`
    without the tangent there (with its tangents at outer levels), the tangent is the
    tensor itself (not a copy)."""
    if level is None:
        level = _state.level
    if not 0 <= level <= _state.level:
        return UnpackedDualTensor(tensor, None)
    tangent = tangent_at(tensor, level)
    with rules_running(level):  # the primal view gets no tangent at the level
        primal = alias(tensor)
    return UnpackedDualTensor(primal, tangent)


class dual_level:
    """Context manager (and decorator) for a forward-AD level: entered on enter, exited (its
    tangents dropped) on exit."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
