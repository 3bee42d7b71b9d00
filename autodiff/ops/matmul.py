"""Matrix products: matmul (every PyTorch shape rule, broadcast batch dims included), mm, bmm,
mv, dot, outer.

`matmul` is one node per call. PyTorch builds it from mm/mv/bmm plus reshapes, so its outermost
node depends on the shapes (and, for a 2-D or 1-D operand against a batch, on which operand
requires grad); each case below is a subclass that only carries that name. Shape and dtype
errors are PyTorch's, in the order its dispatch raises them.
"""

from __future__ import annotations

import math
from typing import Any

from ..autocast_state import autocast_op
from ..flop_counts import batched_matmul_flops, elementwise_flops, matmul_flops
from ..function import Function
from ..jvp_rules import auto_multilinear
from ..layout_dispatch import LayoutData
from ..profiling import InnerOp
from ..saved_fields import Computed, InputSizes, constant, fields, saved, strides
from ..tensor import Tensor
from ..user_warnings import warn
from ._checks import cpp_type_name, refuse_bool, require_tensors, same_device, scalar_type_name
from ._out import CAST, EXACT, same, takes_out
from ._promotion import check_broadcast
from .complex import conj
from .sparse_compressed import is_compressed
from .sparse_compressed_products import (
    CompressedMm,
    CompressedMv,
    CompressedVectorMatrix,
    refuse_batched_compressed,
)
from .sparse_products import SparseMm, SparseMv
from .sparse_products import mm as sparse_mm


class Matmul(Function):
    """matmul for any shapes; subclasses only carry PyTorch's node name for the shape case."""

    node_name = "UnsafeViewBackward0"

    @classmethod
    def inner_op(cls, args: tuple[Any, ...]) -> InnerOp | None:
        """The profiler's view of the product PyTorch's matmul runs for the general case: an
        mm of the folded rows against a matrix, else a bmm over the broadcast batch. (The
        shape cases of the subclasses are those products themselves, or vector products.)"""
        if cls is not Matmul:
            return None
        a, b = args[0].shape, args[1].shape
        if len(a) < 2 or len(b) < 2:
            return None
        if len(b) == 2:
            rows = [math.prod(a[:-1]), a[-1]]
            return InnerOp("aten::mm", [rows, list(b)], matmul_flops(rows, b))
        batch = math.prod(_broadcast_batch(a[:-2], b[:-2]))
        left, right = [batch, a[-2], a[-1]], [batch, b[-2], b[-1]]
        return InnerOp("aten::bmm", [left, right], batched_matmul_flops(left, right))

    jvp = auto_multilinear

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
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
            grad_a = grad @ conj(b).mT
            if a_vector:
                grad_a = grad_a.squeeze(-2)
        if needs_b:
            grad_b = conj(a).mT @ grad
            if b_vector:
                grad_b = grad_b.squeeze(-1)
        # Broadcast batch dims are summed away by the Function base class.
        return grad_a, grad_b


def _broadcast_batch(left: Any, right: Any) -> list[int]:
    """The broadcast of two batch shapes (already checked compatible)."""
    size = max(len(left), len(right))
    left = (1,) * (size - len(left)) + tuple(left)
    right = (1,) * (size - len(right)) + tuple(right)
    return [max(x, y) for x, y in zip(left, right)]


class SharedMatmul(Function):
    """a @ b where b is one matrix repeated along its batch dim (a broadcast view, as vmap's
    grad makes of a parameter shared by every example): one GEMM with b's first matrix in
    forward, while b's gradient keeps one matrix per example (the per-example gradients)."""

    node_name = "UnsafeViewBackward0"
    shared = (1,)  # the arguments that repeat along the batch (vmap's rule reads them)

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        backend = ctx.backend
        return backend.matmul(a, backend.getitem(b, (0, ...)))

    @staticmethod
    def composite(a: Tensor, b: Tensor) -> Tensor:
        """The same product for a b that need not repeat, by ops of their own."""
        return a @ b

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        # grad_a by one GEMM again, recorded so that its gradient w.r.t. b is per example
        grad_a = SharedMatmul.apply(grad, b.mT) if needs_a else None
        grad_b = None
        if needs_b:  # one row per example (a vector's matmul): outer products, elementwise
            grad_b = a.mT * grad if a.shape[-2] == 1 else a.mT @ grad
        return grad_a, grad_b

    @staticmethod
    def jvp(ctx: Any, tangent_a: Tensor | None, tangent_b: Tensor | None) -> Tensor | None:
        # b's tangent need not repeat along the batch: its product is a batched matmul.
        a, b = ctx.saved_tensors
        out = None if tangent_a is None else SharedMatmul.apply(tangent_a, b)
        if tangent_b is not None:
            term = a @ tangent_b
            out = term if out is None else out + term
        return out


class Mm(Matmul):
    node_name = "MmBackward0"
    saved_fields = fields(self=saved(0, when=1), self_sym_sizes=InputSizes(0),
                          self_sym_strides=strides(0, when=0), mat2=saved(1, when=0),
                          mat2_sym_sizes=InputSizes(1), mat2_sym_strides=strides(1, when=1))
    sparse_form = SparseMm
    compressed_form = CompressedMm

    @staticmethod
    def count_flops(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        return matmul_flops(args[0].shape, args[1].shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return ((mm(grad, conj(b).mT) if needs_a else None),
                (mm(conj(a).mT, grad) if needs_b else None))


class Bmm(Matmul):
    node_name = "BmmBackward0"
    saved_fields = fields(self=saved(0, when=1), mat2=saved(1, when=0))

    @staticmethod
    def count_flops(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        return batched_matmul_flops(args[0].shape, args[1].shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return ((bmm(grad, conj(b).mT) if needs_a else None),
                (bmm(conj(a).mT, grad) if needs_b else None))


# The 1-D cases get backward formulas of their own: one op per gradient instead of the general
# unsqueeze / transpose / matmul / squeeze chain (the tutorial's x @ w is one of them).
class Mv(Matmul):
    node_name = "MvBackward0"
    saved_fields = fields(self=saved(0, when=1), vec=saved(1, when=0))
    sparse_form = SparseMv
    compressed_form = CompressedMv

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors  # (m, k) @ (k,) -> (m,)
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = Outer.apply(grad, conj(b)) if needs_a else None
        grad_b = VectorMatrix.apply(grad, conj(a)) if needs_b else None  # grad @ conj(a)
        return grad_a, grad_b


class Dot(Matmul):
    node_name = "DotBackward0"
    saved_fields = fields(self=saved(0, when=1), tensor=saved(1, when=0))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return (grad * conj(b) if needs_a else None), (grad * conj(a) if needs_b else None)


def _vector_matrix_product_shape(node: Any) -> tuple[int, ...]:
    """The (1, n) product PyTorch's mm gives before squeeze_(0)."""
    meta = node._input_meta[1]
    shape = meta[0] if meta is not None else node.saved_tensors[1].shape
    return (1, shape[-1])


class VectorMatrix(Matmul):
    node_name = "SqueezeBackward4"  # PyTorch: unsqueeze(0), mm, squeeze_(0)
    compressed_form = CompressedVectorMatrix
    saved_fields = fields(dim=constant(0),
                          self_sym_sizes=Computed(_vector_matrix_product_shape))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors  # (k,) @ (k, n) -> (n,)
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = Mv.apply(conj(b), grad) if needs_a else None  # conj(b) @ grad
        grad_b = Outer.apply(conj(a), grad) if needs_b else None
        return grad_a, grad_b


class Outer(Function):
    """a[i] * b[j]: the gradient of the 1-D matmul cases, one op (public `outer` is composed as
    in PyTorch, a reshape and a broadcast product, for its node names)."""

    node_name = "MulBackward0"

    @staticmethod
    def count_flops(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        return elementwise_flops(args[0])

    jvp = auto_multilinear

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        backend = ctx.backend
        return backend.multiply(backend.expand_dims(a, 1), b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return ((Mv.apply(grad, conj(b)) if needs_a else None),
                (VectorMatrix.apply(conj(a), grad) if needs_b else None))


class MatrixBatchTransposed(Matmul):
    """A matrix against a batch: PyTorch computes (b.mT @ a.mT).mT and copies it contiguous."""

    node_name = "CloneBackward0"


class MatrixBatchTransposedView(Matmul):
    node_name = "TransposeBackward0"  # the same, where the transposed result is contiguous


# ----------------------------------------------------------------------------- public functions
@takes_out(EXACT)
@autocast_op("matmul")
def matmul(input: Tensor, other: Tensor) -> Tensor:
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        require_tensors("matmul", ("input", input), ("other", other))  # raises PyTorch's error
    if input.is_nested or other.is_nested:
        from ..nested import ops as nested_ops  # built on this module: imported on use

        return nested_ops.matmul(input, other)
    same_device(input, other)
    a_dims, b_dims = input._data.ndim, other._data.ndim
    if a_dims > 2 or b_dims > 2:
        refuse_batched_compressed(input, other)
    if a_dims == 0 or b_dims == 0:
        raise RuntimeError(
            "both arguments to matmul need to be at least 1D, but they are "
            f"{a_dims}D and {b_dims}D"
        )
    if a_dims == 2 and b_dims == 2:
        return mm(input, other)
    if a_dims == 1 and b_dims == 1:
        return dot(input, other)
    if a_dims == 2 and b_dims == 1:
        return mv(input, other)
    if a_dims == 1 and b_dims == 2:
        a_shape, b_shape = input._data.shape, other._data.shape
        _check_mm((1, a_shape[0]), b_shape, input, other)
        return VectorMatrix.apply(input, other)
    return _matmul_batched(input, other)


def _matmul_batched(input: Tensor, other: Tensor) -> Tensor:
    """At least one operand has batch dims: PyTorch folds a <= 2-D operand into mm/mv against
    the batch flattened, or broadcasts the batch dims and calls bmm."""
    a, b = input._data.shape, other._data.shape
    if _should_fold(input, other):
        if len(a) >= len(b):  # a batch against a matrix or vector: fold a's rows
            rows = math.prod(a[:-1])
            if len(b) == 2:
                _check_mm((rows, a[-1]), b, input, other)
            else:
                _check_mv((rows, a[-1]), b, input, other)
            return Matmul.apply(input, other)
        # A matrix or vector against a batch: PyTorch folds b.mT and transposes back.
        rows = math.prod(b[:-2]) * b[-1]
        if len(a) == 1:
            _check_mv((rows, b[-2]), a, other, input)
            return Matmul.apply(input, other)
        _check_mm((rows, b[-2]), (a[1], a[0]), other, input)
        contiguous = a[0] == 1 or b[-1] == 1 or math.prod(b[:-2]) * a[0] * b[-1] == 0
        op = MatrixBatchTransposedView if contiguous else MatrixBatchTransposed
        return op.apply(input, other)
    if len(a) == 3 and len(b) == 3 and a[0] != b[0]:
        # PyTorch drops a batch of 1 from an operand that requires grad, then folds.
        if a[0] == 1 and input._requires_grad:
            return matmul(input.squeeze(0), other)
        if b[0] == 1 and other._requires_grad:
            return matmul(input, other.squeeze(0))
    batch_a, batch_b = a[:-2], b[:-2]
    check_broadcast(batch_a, batch_b)
    batch = math.prod(max(x, y) for x, y in zip(_pad(batch_a, batch_b), _pad(batch_b, batch_a)))
    inner_a = a[-1]
    inner_b = b[-2] if len(b) > 1 else b[0]
    if inner_a != inner_b:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, "
            f"{inner_a}] but got: [{batch}, {inner_b}]."
        )
    _check_same_dtype_bmm(input, other)
    return Matmul.apply(input, other)


def _should_fold(input: Tensor, other: Tensor) -> bool:
    """PyTorch's should_fold: a >= 3-D operand against a <= 2-D one is folded into mm/mv when
    the small one requires grad, or when the big one folds without a copy."""
    a_dims, b_dims = input._data.ndim, other._data.ndim
    larger = a_dims >= b_dims
    big, small = (a_dims, b_dims) if larger else (b_dims, a_dims)
    if not (big >= 3 and small <= 2):
        return False
    if (other if larger else input)._requires_grad:
        return True
    if a_dims == 2:
        return False
    if larger:
        return True
    # b.mT of a contiguous b folds without a copy only when its rows are a single one.
    b = other._data.shape
    return math.prod(b) == 0 or b[-2] == 1


def _pad(shape: tuple[int, ...], other: tuple[int, ...]) -> tuple[int, ...]:
    return (1,) * (len(other) - len(shape)) + tuple(shape)


@takes_out(EXACT)
@autocast_op("mm")
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    require_tensors("mm", ("input", input), ("mat2", mat2))
    same_device(input, mat2)
    if input.is_sparse or mat2.is_sparse:
        return sparse_mm(input, mat2)
    for name, matrix in (("mat1", input), ("mat2", mat2)):
        if is_compressed(matrix) and matrix._data.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {matrix._data.ndim}-D tensor")
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_mm(input._data.shape, mat2._data.shape, input, mat2)
    return Mm.apply(input, mat2)


@takes_out(EXACT)
@autocast_op("bmm")
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    require_tensors("bmm", ("input", input), ("mat2", mat2))
    same_device(input, mat2)
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    a, b = input._data.shape, mat2._data.shape
    if b[:2] != (a[0], a[2]):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a[0]}, {a[2]}] "
            f"but got: [{b[0]}, {b[1]}]."
        )
    _check_same_dtype_bmm(input, mat2)
    return Bmm.apply(input, mat2)


@takes_out(EXACT)
@autocast_op("mv")
def mv(input: Tensor, vec: Tensor) -> Tensor:
    require_tensors("mv", ("input", input), ("vec", vec))
    same_device(input, vec)
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}"
        )
    _check_mv(input._data.shape, vec._data.shape, input, vec)
    return Mv.apply(input, vec)


@takes_out(same("result dtype {out} does not match input dtype {result}"))
@autocast_op("dot")
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    require_tensors("dot", ("input", input), ("tensor", tensor))
    same_device(input, tensor)
    a, b = input._data.shape, tensor._data.shape
    if len(a) != 1 or len(b) != 1:
        raise RuntimeError(f"1D tensors expected, but got {len(a)}D and {len(b)}D tensors")
    if input._data.dtype != tensor._data.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{scalar_type_name(input)} and {scalar_type_name(tensor)}"
        )
    if a[0] != b[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have "
            f"the same number of elements, but got {a[0]} and {b[0]} elements respectively"
        )
    refuse_bool("dot", input, tensor)
    return Dot.apply(input, tensor)


@takes_out(CAST)
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """input[i] * vec2[j]; PyTorch computes it as a broadcast product (MulBackward0)."""
    require_tensors("outer", ("input", input), ("vec2", vec2))
    for name, tensor in (("self", input), ("vec2", vec2)):
        if tensor._data.ndim != 1:
            raise RuntimeError(
                f"outer: Expected 1-D argument {name}, but got {tensor._data.ndim}-D"
            )
    return input.reshape(input._data.shape[0], 1) * vec2


def ger(input: Tensor, vec2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """outer; PyTorch warns of the deprecation when results go into `out`."""
    if out is None:
        return outer(input, vec2)
    warn("torch.ger is deprecated and will be removed in a future PyTorch release. Use "
         "torch.outer instead.", UserWarning, stacklevel=2)
    return outer(input, vec2, out=out)  # type: ignore[call-arg]


# ----------------------------------------------------------------------------- checks
def _check_mm(a: tuple[int, ...], b: tuple[int, ...], left: Tensor, right: Tensor) -> None:
    """mm of an (a) and a (b) matrix: the shapes, then the dtypes, as PyTorch checks them."""
    if a[1] != b[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a[0]}x{a[1]} and {b[0]}x{b[1]})"
        )
    if left._data.dtype != right._data.dtype:
        if isinstance(left._data, LayoutData) or isinstance(right._data, LayoutData):
            raise RuntimeError(f"expected scalar type {scalar_type_name(left)} but found "
                               f"{scalar_type_name(right)}")  # the sparse kernels' words
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{cpp_type_name(left)} != {cpp_type_name(right)}"
        )
    if left._data.dtype == left._backend.bool_dtype:
        refuse_bool("addmm_impl_cpu_", left, right)


def _check_mv(mat: tuple[int, ...], vec: tuple[int, ...], matrix: Tensor, vector: Tensor) -> None:
    if mat[1] != vec[0]:
        raise RuntimeError(
            f"size mismatch, got input ({mat[0]}), mat ({mat[0]}x{mat[1]}), vec ({vec[0]})"
        )
    if matrix._data.dtype != vector._data.dtype:
        vec_name = scalar_type_name(vector)
        raise RuntimeError(
            "addmv input tensors must have the same dtype, but got "
            f"{vec_name}, {scalar_type_name(matrix)}, and {vec_name}"
        )
    refuse_bool("addmv_impl_cpu", matrix, vector)


def _check_same_dtype_bmm(input: Tensor, other: Tensor) -> None:
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(
            f"expected scalar type {scalar_type_name(input)} but found {scalar_type_name(other)}"
        )
    refuse_bool("bmm", input, other)
