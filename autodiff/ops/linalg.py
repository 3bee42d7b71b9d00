"""Matrix products. `matmul` is one node per call, named as PyTorch names its outermost node for
that combination of shapes (MmBackward0, MvBackward0, DotBackward0, ...)."""

from __future__ import annotations

from typing import Any

from backends import broadcast_shapes

from ..function import Function
from ..tensor import Tensor
from ._util import check_broadcast, promote


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
    _check_shapes(a_shape, b_shape, input._requires_grad or other._requires_grad)
    if a_dims == 2 and b_dims == 2:
        return Mm.apply(input, other)
    if a_dims == 1 and b_dims == 1:
        return Dot.apply(input, other)
    if a_dims == 2 and b_dims == 1:
        return Mv.apply(input, other)
    if a_dims == 1 and b_dims == 2:
        return VectorMatrix.apply(input, other)
    return Matmul.apply(input, other)


def _check_shapes(a: tuple[int, ...], b: tuple[int, ...], requires_grad: bool) -> None:
    """Raise PyTorch's message for each way matmul's shapes can disagree.

    PyTorch's message names the kernel it dispatched to (dot, mv, mm or bmm), so this follows
    its dispatch (aten/src/ATen/native/LinearAlgebra.cpp, _matmul_impl and should_fold): a
    3-D+ operand against a 1-D/2-D one is folded into a matrix; with a 3-D+ second operand that
    fold (of its transpose) happens when either input requires grad (or the transpose folds
    without a copy); otherwise both are broadcast and go to bmm.
    """
    a_dims, b_dims = len(a), len(b)
    if a_dims <= 2 and b_dims <= 2:
        if a_dims == 1 and b_dims == 1:
            if a[0] != b[0]:
                raise RuntimeError(
                    f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to "
                    f"have the same number of elements, but got {a[0]} and {b[0]} elements "
                    "respectively"
                )
        elif b_dims == 1:
            _check_mv(a[0], a[1], b[0])
        else:  # 1-D @ 2-D runs as a (1, n) row through mm
            _check_mm((1, a[0]) if a_dims == 1 else a, b)
        return
    if a_dims >= 3 and b_dims <= 2:
        rows = _product(a[:-1])
        if b_dims == 1:
            _check_mv(rows, a[-1], b[0])
        else:
            _check_mm((rows, a[-1]), b)
        return
    batch_b, inner_b, cols_b = b[:-2], b[-2], b[-1]
    if requires_grad and a_dims == 3 and b_dims == 3 and a[0] == 1 and b[0] != 1:
        a, a_dims = a[1:], 2  # PyTorch drops a's batch of one here and folds as below
    if (a_dims == 2 and requires_grad) or (a_dims == 1 and (requires_grad or inner_b == 1
                                                        or 0 in b)):
        # Folded transposed: (b.mT as (batch * cols, inner)) @ a.t() (or mv with a 1-D a).
        rows = _product(batch_b) * cols_b
        if a_dims == 1:
            _check_mv(rows, inner_b, a[0])
        else:
            _check_mm((rows, inner_b), (a[1], a[0]))
        return
    batch_a = a[:-2]
    check_broadcast(batch_a, batch_b)
    inner_a = a[-1]
    if inner_a != inner_b:
        batch = _product(broadcast_shapes(batch_a, batch_b))
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{batch}, {inner_a}] but got: [{batch}, {inner_b}]."
        )


def _check_mv(rows: int, inner: int, vector: int) -> None:
    if inner != vector:
        raise RuntimeError(
            f"size mismatch, got input ({rows}), mat ({rows}x{inner}), vec ({vector})"
        )


def _check_mm(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    if a[1] != b[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a[0]}x{a[1]} and {b[0]}x{b[1]})"
        )


def _product(sizes: tuple[int, ...]) -> int:
    total = 1
    for size in sizes:
        total *= size
    return total


mm = matmul
