"""`Holomorphic`: the complex gradient of elementwise ops whose backward is the real formula."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class Holomorphic:
    """Elementwise functions whose subclasses write backward as grad * f'(x), the real formula.
    For a complex tensor PyTorch's backward is grad * conj(f'(z)) (its gradient convention,
    dL/dx + i dL/dy), which is conj(backward(conj(grad))) of the same formula: each
    subclass's backward is wrapped so, once, here."""

    backward: Any  # the Function's (an annotation only: the mixin defines none)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        backward = cls.__dict__.get("backward")
        if isinstance(backward, staticmethod):
            cls.backward = staticmethod(_conjugating(backward.__func__))


def _conjugating(backward: Any) -> Any:
    def complex_aware(ctx: Any, grad: Tensor) -> Any:
        if grad is None or not grad._backend.is_complex(grad._data.dtype):
            return backward(ctx, grad)
        grads = backward(ctx, grad.conj())
        if type(grads) is tuple:
            return tuple([None if item is None else item.conj() for item in grads])
        return grads.conj()

    complex_aware.__wrapped__ = backward  # type: ignore[attr-defined]
    return complex_aware
