"""Matrix products. `matmul` is one node per call, named as PyTorch names its outermost node for
that combination of shapes (MmBackward0, MvBackward0, DotBackward0, ...)."""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor
from ._util import promote


class Matmul(Function):
    """matmul for any shapes; subclasses only carry PyTorch's node name for the shape case."""

    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        a, b = promote(ctx.backend, a, b, elementwise=False)
        return ctx.backend.matmul(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        # 1-D operands take part as a row (a) or a column (b) that matmul then drops.
        a_vector, b_vector = a.ndim == 1, b.ndim == 1
        if b_vector:  # the result lost b's column dim (the last)...
            grad = grad.unsqueeze(-1)
            b = b.unsqueeze(1)
        if a_vector:  # ...and a's row dim (the one before it)
            grad = grad.unsqueeze(-2)
            a = a.unsqueeze(0)
        grad_a = grad_b = None
        if needs_a:
            grad_a = grad @ b.mT
            if a_vector:
                grad_a = grad_a.squeeze(-2)
        if needs_b:
            grad_b = a.mT @ grad
            if b_vector:
                grad_b = grad_b.squeeze(-1)
        # Broadcast batch dims are summed away by the Function base class.
        return grad_a, grad_b


class Mm(Matmul):
    node_name = "MmBackward0"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return (grad @ b.mT if needs_a else None), (a.mT @ grad if needs_b else None)


class Mv(Matmul):
    node_name = "MvBackward0"


class Dot(Matmul):
    node_name = "DotBackward0"


class VectorMatrix(Matmul):
    node_name = "SqueezeBackward4"  # PyTorch: unsqueeze(0), mm, squeeze(0)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    a_shape, b_shape = input._data.shape, other._data.shape
    a_dims, b_dims = len(a_shape), len(b_shape)
    if a_dims == 0 or b_dims == 0:
        raise RuntimeError(
            "both arguments to matmul need to be at least 1D, but they are "
            f"{a_dims}D and {b_dims}D"
        )
    _check_shapes(a_shape, b_shape)
    if a_dims == 2 and b_dims == 2:
        return Mm.apply(input, other)
    if a_dims == 1 and b_dims == 1:
        return Dot.apply(input, other)
    if a_dims == 2 and b_dims == 1:
        return Mv.apply(input, other)
    if a_dims == 1 and b_dims == 2:
        return VectorMatrix.apply(input, other)
    return Matmul.apply(input, other)


def _check_shapes(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    """Raise PyTorch's message for each way matmul's shapes can disagree."""
    if len(a) == 1 and len(b) == 1:
        if a[0] != b[0]:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have "
                f"the same number of elements, but got {a[0]} and {b[0]} elements respectively"
            )
        return
    if len(a) == 2 and len(b) == 1:
        if a[1] != b[0]:
            raise RuntimeError(
                f"size mismatch, got input ({a[0]}), mat ({a[0]}x{a[1]}), vec ({b[0]})"
            )
        return
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        rows = 1
        for size in a[:-1]:
            rows *= size
        left = f"{rows}x{inner_a}"
        right = f"{b[0]}x{b[1]}" if len(b) == 2 else f"{b[-2]}x{b[-1]}" if len(b) > 1 else f"{b[0]}x1"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({left} and {right})")
    from ._util import check_broadcast

    check_broadcast(a[:-2], b[:-2])


mm = matmul
