"""Products beyond matmul: the fused multiply-adds addmm, addmv, addr, baddbmm and addbmm
(beta * input + alpha * product), chains of matrix products (linalg.multi_dot, chain_matmul),
the Kronecker product and the cross product.

As in PyTorch, beta = 0 ignores the input altogether (NaN and inf in it do not propagate), and
integer tensors take beta and alpha as integers. Backwards are PyTorch's formulas, in Tensor
ops (twice differentiable).
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..flop_counts import batched_matmul_flops, matmul_flops
from ..function import Function
from ..jvp_rules import auto_multilinear, jvp_from_backward
from ..saved_fields import fields, saved, value
from ..tensor import Tensor, _wrap_dim
from ..user_warnings import warn
from ._checks import cpp_type_name, require_tensors, same_device, scalar_type_name
from ._promotion import check_broadcast, promote
from .complex import conj
from .matmul import bmm, mm
from .sparse_compressed_products import CompressedAddmm
from .sparse_products import SparseAddmmDense


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, Tensor) else value


def _check_expandable(shape: tuple[int, ...], target: tuple[int, ...]) -> None:
    """PyTorch's error when `shape` does not expand to `target` (the fused ops' input)."""
    if len(shape) > len(target):
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(target)}): the number of "
            f"sizes provided ({len(target)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(shape)})")
    offset = len(target) - len(shape)
    for axis, size in enumerate(shape):
        wanted = target[offset + axis]
        if size != wanted and size != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({wanted}) must match the existing size "
                f"({size}) at non-singleton dimension {offset + axis}.  Target sizes: "
                f"{list(target)}.  Tensor sizes: {list(shape)}")


_SCALES = {"alpha": value("alpha"), "beta": value("beta")}


class _FusedAdd(Function):
    """beta * input + alpha * product(a, b): the common part of addmm, addmv, addr, baddbmm
    and addbmm. Subclasses set `node_name` and compute `product` on arrays."""

    jvp = jvp_from_backward

    @staticmethod
    def product(backend: Any, a: Any, b: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def forward(ctx: Any, input: Any, a: Any, b: Any, *, beta: Any, alpha: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a, b)
        ctx.beta, ctx.alpha, ctx.shapes = beta, alpha, (a.shape, b.shape)
        if backend.is_bool(a.dtype):
            return _bool_fused(backend, input, ctx.product(backend, a, b), beta, alpha)
        if not backend.is_floating(a.dtype):  # integer tensors take integer factors
            beta, alpha = int(beta), int(alpha)
        out = ctx.product(backend, a, b)
        if alpha != 1:
            out = backend.multiply(out, alpha)
        if beta == 0:  # the input is not read at all
            return out
        scaled = input if beta == 1 else backend.multiply(input, beta)
        return backend.add(out, scaled)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        raise NotImplementedError


def _bool_fused(backend: Any, input: Any, product: Any, beta: Any, alpha: Any) -> Any:
    """Bools: (beta and input) or (alpha and product), as PyTorch's addr does."""
    out = product if alpha else backend.zeros_like(product)
    if beta:
        out = backend.logical_or(out, input)
    return out


def _input_grad(ctx: Any, grad: Tensor) -> Tensor | None:
    if not ctx.needs_input_grad[0]:
        return None
    return grad * ctx.beta if ctx.beta != 1 else grad


def _scaled(ctx: Any, value: Tensor) -> Tensor:
    return value * ctx.alpha if ctx.alpha != 1 else value


# ----------------------------------------------------------------------------- addmm, addmv, addr
class Addmm(_FusedAdd):
    node_name = "AddmmBackward0"
    sparse_form = SparseAddmmDense
    compressed_form = CompressedAddmm

    @staticmethod
    def count_flops(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        return matmul_flops(args[1].shape, args[2].shape)

    jvp = jvp_from_backward

    @staticmethod
    def product(backend: Any, a: Any, b: Any) -> Any:
        return backend.matmul(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        a, b = ctx.saved_tensors
        _, needs_a, needs_b = ctx.needs_input_grad
        return (_input_grad(ctx, grad), _scaled(ctx, mm(grad, b.mT)) if needs_a else None,
                _scaled(ctx, mm(a.mT, grad)) if needs_b else None)


@autocast_op("addmm")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2)."""
    same_device(input, mat1, mat2)
    for name, tensor in (("mat1", mat1), ("mat2", mat2)):
        if tensor._data.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {tensor._data.ndim}-D tensor")
    a, b = mat1._data.shape, mat2._data.shape
    if a[1] != b[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a[0]}x{a[1]} and {b[0]}x{b[1]})")
    if mat1.dtype is not mat2.dtype:
        raise RuntimeError("mat1 and mat2 must have the same dtype, but got "
                           f"{scalar_type_name(mat1)} and {scalar_type_name(mat2)}")
    if input.dtype is not mat2.dtype:
        raise RuntimeError("self and mat2 must have the same dtype, but got "
                           f"{scalar_type_name(input)} and {scalar_type_name(mat2)}")
    _check_expandable(input._data.shape, (a[0], b[1]))
    return Addmm.apply(input, mat1, mat2, beta=_scalar(beta), alpha=_scalar(alpha))


class Addmv(_FusedAdd):
    node_name = "AddmvBackward0"
    saved_fields = fields(mat=saved(0, when=2), vec=saved(1, when=1), **_SCALES)

    jvp = jvp_from_backward

    @staticmethod
    def product(backend: Any, a: Any, b: Any) -> Any:
        return backend.matmul(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        mat, vec = ctx.saved_tensors
        _, needs_mat, needs_vec = ctx.needs_input_grad
        return (_input_grad(ctx, grad), _scaled(ctx, grad.outer(vec)) if needs_mat else None,
                _scaled(ctx, mat.mT.mv(grad)) if needs_vec else None)


@autocast_op("addmv")
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    same_device(input, mat, vec)
    if mat._data.ndim != 2 or vec._data.ndim != 1 or input._data.ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input._data.ndim}, "
                           f"{mat._data.ndim}, {vec._data.ndim}")
    rows, columns = mat._data.shape
    size = input._data.shape[0] if input._data.ndim else 1
    if columns != vec._data.shape[0] or size not in (1, rows):
        raise RuntimeError(f"size mismatch, got input ({size}), mat ({rows}x{columns}), vec "
                           f"({vec._data.shape[0]})")
    if not input.dtype is mat.dtype is vec.dtype:
        raise RuntimeError("addmv input tensors must have the same dtype, but got "
                           f"{scalar_type_name(input)}, {scalar_type_name(mat)}, and "
                           f"{scalar_type_name(vec)}")
    return Addmv.apply(input, mat, vec, beta=_scalar(beta), alpha=_scalar(alpha))


def addmv_(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """In place: `input.addmv_(mat, vec)`."""
    require_tensors("addmv_", ("input", input), ("mat", mat), ("vec", vec))
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


class Addr(_FusedAdd):
    node_name = "AddrBackward0"
    saved_fields = fields(vec1=saved(0, when=2), vec2=saved(1, when=1), **_SCALES)

    jvp = jvp_from_backward

    @staticmethod
    def product(backend: Any, a: Any, b: Any) -> Any:
        if backend.is_bool(a.dtype):
            return backend.logical_and(backend.expand_dims(a, 1), b)
        return backend.multiply(backend.expand_dims(a, 1), b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        vec1, vec2 = ctx.saved_tensors
        _, needs_1, needs_2 = ctx.needs_input_grad
        return (_input_grad(ctx, grad), _scaled(ctx, grad.mv(vec2)) if needs_1 else None,
                _scaled(ctx, grad.mT.mv(vec1)) if needs_2 else None)


@autocast_op("addr")
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2) (type-promoting, as PyTorch's)."""
    same_device(input, vec1, vec2)
    for name, tensor in (("vec1", vec1), ("vec2", vec2)):
        if tensor._data.ndim != 1:
            raise RuntimeError(
                f"addr: Expected 1-D argument {name}, but got {tensor._data.ndim}-D")
    kind = dtypes.promote_types(dtypes.promote_types(input.dtype, vec1.dtype), vec2.dtype)
    input, vec1, vec2 = (t.to(kind) for t in (input, vec1, vec2))
    _check_expandable(input._data.shape, (vec1._data.shape[0], vec2._data.shape[0]))
    return Addr.apply(input, vec1, vec2, beta=_scalar(beta), alpha=_scalar(alpha))


# ----------------------------------------------------------------------------- baddbmm, addbmm
class Baddbmm(_FusedAdd):
    node_name = "BaddbmmBackward0"
    saved_fields = fields(batch1=saved(0, when=2), batch2=saved(1, when=1), **_SCALES)

    @staticmethod
    def count_flops(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        return batched_matmul_flops(args[1].shape, args[2].shape)

    jvp = jvp_from_backward

    @staticmethod
    def product(backend: Any, a: Any, b: Any) -> Any:
        return backend.matmul(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        a, b = ctx.saved_tensors
        _, needs_a, needs_b = ctx.needs_input_grad
        return (_input_grad(ctx, grad), _scaled(ctx, bmm(grad, b.mT)) if needs_a else None,
                _scaled(ctx, bmm(a.mT, grad)) if needs_b else None)


class Addbmm(_FusedAdd):
    node_name = "AddbmmBackward0"
    saved_fields = fields(
        batch1=saved(0, when=2), batch2=saved(1, when=1), **_SCALES,
        batch1_sym_argsize_0=value("shapes", lambda shapes: shapes[0][0]),
        batch1_sym_argsize_1=value("shapes", lambda shapes: shapes[0][1]),
        batch2_sym_argsize_2=value("shapes", lambda shapes: shapes[1][2]))

    jvp = jvp_from_backward

    @staticmethod
    def product(backend: Any, a: Any, b: Any) -> Any:
        return backend.sum(backend.matmul(a, b), axis=0)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        a, b = ctx.saved_tensors
        _, needs_a, needs_b = ctx.needs_input_grad
        grads = grad.unsqueeze(0).expand(a.shape[0], a.shape[1], b.shape[2])
        return (_input_grad(ctx, grad), _scaled(ctx, bmm(grads, b.mT)) if needs_a else None,
                _scaled(ctx, bmm(a.mT, grads)) if needs_b else None)


def _check_batches(batch1: Tensor, batch2: Tensor) -> tuple[int, int, int, int]:
    for name, tensor in (("batch1", batch1), ("batch2", batch2)):
        if tensor._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    count, rows, inner = batch1._data.shape
    if batch2._data.shape[:2] != (count, inner):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{count}, {inner}] "
            f"but got: [{batch2._data.shape[0]}, {batch2._data.shape[1]}].")
    return count, rows, inner, batch2._data.shape[2]


@autocast_op("baddbmm")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
            alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    same_device(input, batch1, batch2)
    count, rows, _, columns = _check_batches(batch1, batch2)
    if batch1.dtype is not batch2.dtype:
        raise RuntimeError(f"expected scalar type {scalar_type_name(batch1)} but found "
                           f"{scalar_type_name(batch2)}")
    if input.dtype is not batch1.dtype:
        raise RuntimeError(
            f"Input dtypes must be the same, got: input {cpp_type_name(input)}, batch1: "
            f"{cpp_type_name(batch1)}, batch2: {cpp_type_name(batch2)}")
    _check_expandable(input._data.shape, (count, rows, columns))
    return Baddbmm.apply(input, batch1, batch2, beta=_scalar(beta), alpha=_scalar(alpha))


@autocast_op("addbmm")
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
           alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (the sum over the batch of batch1[i] @ batch2[i])."""
    same_device(input, batch1, batch2)
    for name, tensor in (("batch1", batch1), ("batch2", batch2)):
        if tensor._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    b1, b2 = batch1._data.shape, batch2._data.shape
    if b1[0] != b2[0]:
        raise RuntimeError(
            f"batch1 and batch2 must have same number of batches, got {b1[0]} and {b2[0]}")
    if b1[2] != b2[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({b1[1]}x{b1[2]} and "
                           f"{b2[1]}x{b2[2]})")
    _check_expandable(input._data.shape, (b1[1], b2[2]))
    if input.dtype is not batch2.dtype:
        raise RuntimeError("self and mat2 must have the same dtype, but got "
                           f"{scalar_type_name(input)} and {scalar_type_name(batch2)}")
    if batch1.dtype is not batch2.dtype:
        raise RuntimeError("mat1 and mat2 must have the same dtype, but got "
                           f"{scalar_type_name(batch1)} and {scalar_type_name(batch2)}")
    return Addbmm.apply(input, batch1, batch2, beta=_scalar(beta), alpha=_scalar(alpha))


# ----------------------------------------------------------------------------- chains
@autocast_op("linalg_multi_dot")
def multi_dot(tensors: Any) -> Tensor:
    """The product of a chain of matrices (the first may be a row vector, the last a column
    vector), in the order of fewest multiplications (PyTorch's dynamic programme)."""
    tensors = list(tensors)
    count = len(tensors)
    if count < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {count}")
    same_device(*tensors)
    first, last = tensors[0]._data.ndim, tensors[-1]._data.ndim
    if first not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first}D")
    if last not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last}D")
    for index, tensor in enumerate(tensors[1:-1], 1):
        if tensor._data.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {index} must be 2D but got "
                               f"{tensor._data.ndim}D")
    for index, tensor in enumerate(tensors[1:], 1):
        if tensor.dtype is not tensors[0].dtype:
            raise RuntimeError(
                "multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                f"{cpp_type_name(tensors[0])} and tensor {index} {cpp_type_name(tensor)}")
    matrices = list(tensors)
    if first == 1:
        matrices[0] = matrices[0].unsqueeze(0)
    if last == 1:
        matrices[-1] = matrices[-1].unsqueeze(-1)
    for index in range(count - 1):
        left, right = matrices[index]._data.shape, matrices[index + 1]._data.shape
        if left[1] != right[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {index} and {index + 1} with shapes "
                f"{list(tensors[index]._data.shape)} and {list(tensors[index + 1]._data.shape)} "
                "cannot be multiplied")
    out = _chain(matrices)
    shape = [matrices[0]._data.shape[0]] if first == 2 else []
    if last == 2:
        shape.append(matrices[-1]._data.shape[1])
    return out.view(shape)


def _chain(matrices: list[Tensor]) -> Tensor:
    if len(matrices) == 2:
        return mm(matrices[0], matrices[1])
    if len(matrices) == 3:
        (a, b), (_, c), (_, d) = (m._data.shape for m in matrices)
        if a * c * (b + d) > b * d * (a + c):  # (AB)C costs more than A(BC)
            return mm(matrices[0], mm(matrices[1], matrices[2]))
        return mm(mm(matrices[0], matrices[1]), matrices[2])
    order = _chain_order([m._data.shape for m in matrices])
    return _multiply(matrices, order, 0, len(matrices) - 1)


def _chain_order(shapes: list[tuple[int, ...]]) -> list[list[int]]:
    """The matrix chain's split points: split[i][j] is where the best product of matrices i..j
    splits (the textbook dynamic programme, as PyTorch's matrix_chain_order)."""
    count = len(shapes)
    sizes = [shapes[0][0]] + [shape[1] for shape in shapes]
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = -1
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if cost[i][j] == -1 or q < cost[i][j]:
                    cost[i][j] = q
                    split[i][j] = k
    return split


def _multiply(matrices: list[Tensor], split: list[list[int]], i: int, j: int) -> Tensor:
    if i == j:
        return matrices[i]
    k = split[i][j]
    return mm(_multiply(matrices, split, i, k), _multiply(matrices, split, k + 1, j))


@autocast_op("chain_matmul")
def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of the matrices, in the cheapest order. Deprecated in PyTorch, as here."""
    warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
        "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather "
        "than multiple parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for matrix in matrices:
        if matrix._data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {matrix._data.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices)


# ----------------------------------------------------------------------------- kron
class Kron(Function):
    """The Kronecker product: block (i, j, ...) of the result is a[i, j, ...] * b."""

    node_name = "UnsafeViewBackward0"

    jvp = auto_multilinear

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a, b)
        a, b = promote(backend, a, b, elementwise=False)
        a_shape, b_shape = _padded_shapes(a.shape, b.shape)
        ctx.shapes = (a_shape, b_shape)
        # a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...): the product interleaves them.
        spread_a = backend.reshape(a, tuple(x for size in a_shape for x in (size, 1)))
        spread_b = backend.reshape(b, tuple(x for size in b_shape for x in (1, size)))
        out = backend.multiply(spread_a, spread_b)
        return backend.reshape(out, tuple(x * y for x, y in zip(a_shape, b_shape)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        a_shape, b_shape = ctx.shapes
        ndim = len(a_shape)
        blocks = grad.reshape([x for pair in zip(a_shape, b_shape) for x in pair])
        spread_a = a.to(grad.dtype).reshape([x for size in a_shape for x in (size, 1)])
        spread_b = b.to(grad.dtype).reshape([x for size in b_shape for x in (1, size)])
        grad_a = (blocks * spread_b).sum(tuple(range(1, 2 * ndim, 2))) if needs_a else None
        grad_b = (blocks * spread_a).sum(tuple(range(0, 2 * ndim, 2))) if needs_b else None
        return grad_a, grad_b


def _padded_shapes(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    ndim = max(len(a), len(b))
    return (1,) * (ndim - len(a)) + tuple(a), (1,) * (ndim - len(b)) + tuple(b)


def kron(input: Tensor, other: Tensor) -> Tensor:
    same_device(input, other)
    return Kron.apply(input, other)


# ----------------------------------------------------------------------------- cross
class Cross(Function):
    """The cross product of 3-vectors along `dim` (broadcasting the other dims)."""

    node_name = "LinalgCrossBackward0"
    saved_fields = fields(self=saved(0), other=saved(1), dim=value("dim"))

    jvp = auto_multilinear

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, dim: int) -> Any:
        backend = ctx.backend
        ctx.dim = dim
        ctx.save_for_backward(a, b)
        a0, a1, a2 = (_component(backend, a, dim, i) for i in range(3))
        b0, b1, b2 = (_component(backend, b, dim, i) for i in range(3))
        parts = [
            backend.subtract(backend.multiply(a1, b2), backend.multiply(a2, b1)),
            backend.subtract(backend.multiply(a2, b0), backend.multiply(a0, b2)),
            backend.subtract(backend.multiply(a0, b1), backend.multiply(a1, b0)),
        ]
        return backend.concat(parts, axis=dim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        dim = ctx.dim
        # bilinear, so each gradient is the cross product with the other factor's conjugate
        return ((Cross.apply(conj(b), grad, dim=dim) if needs_a else None),
                (Cross.apply(grad, conj(a), dim=dim) if needs_b else None))


def _component(backend: Any, array: Any, dim: int, index: int) -> Any:
    """array[..., index:index + 1, ...] along dim (kept as a size-1 dim)."""
    key = [slice(None)] * array.ndim
    key[dim] = slice(index, index + 1)
    return array[tuple(key)]


def _cross(input: Tensor, other: Tensor, dim: int, name: str, shown_dim: int) -> Tensor:
    same_device(input, other)
    a, b = input._data.shape, other._data.shape
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected scalar type {scalar_type_name(input)} but found "
                           f"{scalar_type_name(other)}")
    if len(a) != len(b):
        raise RuntimeError(f"{name}: inputs must have the same number of dimensions.")
    if a[dim] != 3 or b[dim] != 3:
        raise RuntimeError(f"{name}: inputs dimension {shown_dim} must have length 3. Got "
                           f"{a[dim]} and {b[dim]}")
    if a != b:
        check_broadcast(a, b)
    return Cross.apply(input, other, dim=dim)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """torch.linalg.cross: the cross product along `dim` (default the last)."""
    ndim = max(input._data.ndim, other._data.ndim)
    return _cross(input, other, _wrap_dim(dim, ndim), "linalg.cross", dim)


@autocast_op("cross")
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """torch.cross: as linalg.cross, but without `dim` the first dim of size 3 (deprecated)."""
    if dim is None:
        warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either "
            "pass the dim explicitly or simply use torch.linalg.cross.\nThe default value of "
            "dim will change to agree with that of linalg.cross in a future release.",
            UserWarning, stacklevel=2)
        sizes = input._data.shape
        found = [axis for axis, size in enumerate(sizes) if size == 3]
        if not found:
            raise RuntimeError("no dimension of size 3 in input")
        dim = found[0]
    ndim = max(input._data.ndim, other._data.ndim)
    return _cross(input, other, _wrap_dim(dim, ndim), "linalg.cross", dim)
