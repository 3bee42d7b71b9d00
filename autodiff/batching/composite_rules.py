"""Batching rules that run an op as one example's composition of other ops, each batched by
its own rule (functorch's decompositions): the fused matrix products, kron, bilinear, aminmax,
the medians of all elements, weight norm, block_diag, dist. And rules for ops that support
batch dims natively (linear algebra) or write into their first input (copy_, fill_, zero_,
the in-place comparisons).
"""

from __future__ import annotations

from typing import Any

from ..ops import (
    comparison,
    decompositions,
    diagonal,
    eigh,
    inplace,
    linear,
    minmax,
    norm,
    normalization,
    order_statistics,
    products,
    triangular,
)
from ..tensor import Tensor
from .batched_tensor import make_batched, unwrap
from .levels import Level
from .rules import _broadcasting, _dims, _expand, _pad, _register


def _fused_add(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """beta * input + alpha * product(a, b), the product one example's matmul (or outer
    product, or sum of matmuls)."""
    input, a, b = args
    if a.dtype.is_floating_point or a.dtype.is_complex:
        beta, alpha = kwargs["beta"], kwargs["alpha"]
    elif a.dtype.name == "bool":
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    else:
        beta, alpha = int(kwargs["beta"]), int(kwargs["alpha"])
    if cls is products.Addr:
        out = a.unsqueeze(-1) * b.unsqueeze(-2)
    elif cls is products.Addbmm:
        out = (a @ b).sum(0)
    else:
        out = a @ b
    if alpha != 1:
        out = out * alpha
    if beta == 0:  # the input is not read at all
        return _broadcast_to(out, input)
    return out + (input if beta == 1 else input * beta)


def _broadcast_to(out: Tensor, input: Tensor) -> Tensor:
    """out with input's broadcast shape (beta = 0 ignores input's values, not its shape)."""
    shape = tuple(out.shape)
    return out if tuple(input.shape) == shape or input.dim() <= len(shape) else \
        out.expand(tuple(input.shape))


def _kron(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    a, b = args
    rank = max(a.dim(), b.dim())
    a_shape = (1,) * (rank - a.dim()) + tuple(a.shape)
    b_shape = (1,) * (rank - b.dim()) + tuple(b.shape)
    a_view = a.reshape(tuple(size for pair in zip(a_shape, (1,) * rank) for size in pair))
    b_view = b.reshape(tuple(size for pair in zip((1,) * rank, b_shape) for size in pair))
    return (a_view * b_view).reshape(tuple(m * n for m, n in zip(a_shape, b_shape)))


def _trilinear(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    from ..ops.einsum import einsum

    x1, weight, x2 = args
    return einsum("ni,oij,nj->no", x1, weight, x2)


def _aminmax(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    (a,) = args
    dim, keepdim = kwargs["dim"], kwargs["keepdim"]
    if dim is None:
        flat = a.reshape(-1)
        low, high = flat.amin(0), flat.amax(0)
        if keepdim:
            low, high = low.reshape((1,) * a.dim()), high.reshape((1,) * a.dim())
        return low, high
    if a.dim() == 0:
        return a.amin(), a.amax()
    return a.amin(dim, keepdim), a.amax(dim, keepdim)


def _median_all(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    flat = args[0].reshape(-1)
    if cls is order_statistics.NanmedianAll:
        return flat.nanmedian(0)[0]
    return flat.median(0)[0]


def _weight_norm(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    v, g = args
    dim = kwargs["dim"]
    axes = tuple(axis for axis in range(v.dim()) if axis != dim % max(v.dim(), 1))
    length = (v * v).sum(axes, keepdim=True).sqrt()
    return v * (g.reshape(tuple(length.shape)) / length)


def _block_diag(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Each block padded with zeros to the full width, the rows stacked."""
    from ..ops.joining import cat
    from ..ops.padding import pad

    blocks = [t.reshape(1, -1) if t.dim() < 2 else t for t in args]
    blocks = [t.reshape(1, 1) if t.dim() == 2 and t.numel() == 1 and t.shape[0] == 1 and
              t.shape[1] == 1 else t for t in blocks]
    width = sum(t.shape[1] for t in blocks)
    rows, left = [], 0
    for block in blocks:
        rows.append(pad(block, (left, width - left - block.shape[1])))
        left += block.shape[1]
    return cat(rows, 0)


def _renorm(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Each example's slices along `dim` are slices of their own: (B, D, ...) as (B * D, ...)
    renormed along dim 0."""
    value, batched = unwrap(args[0], level.number)
    value = value if batched else _expand(value, level.batch_size)
    moved = value.movedim(kwargs["dim"] + 1, 1)
    shape = tuple(moved.shape)
    out = cls.apply(moved.reshape((shape[0] * shape[1], *shape[2:])), **{**kwargs, "dim": 0})
    return make_batched(out.reshape(shape).movedim(1, kwargs["dim"] + 1), level.number)


_register(_fused_add, products.Addmm, products.Addmv, products.Addr, products.Baddbmm,
          products.Addbmm)
_register(_kron, products.Kron)
_register(_trilinear, linear.Trilinear)
_register(_aminmax, minmax.Aminmax)
_register(_median_all, order_statistics.MedianAll, order_statistics.NanmedianAll)
_register(_weight_norm, normalization.WeightNormInterface)
_register(_block_diag, diagonal.BlockDiag)
_register(_dims("axes", all_axes="axes"), norm.NormAll, norm.NormDims)
_register(_renorm, norm.Renorm)


# ----------------------------------------------------------------------------- linear algebra
def _matrices(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Ops on stacks of matrices, broadcasting their batch dims: the examples one more batch
    dim in front (each operand's matrices padded to the common rank)."""
    values = []
    flags = []
    for arg in args:
        value, batched = unwrap(arg, level.number)
        values.append(value)
        flags.append(batched)
    options = dict(kwargs)
    if kwargs.get("vector"):  # b is one vector per matrix: a column here
        values[1] = values[1].unsqueeze(-1)
        options["vector"] = False
    rank = max(v.dim() - f for v, f in zip(values, flags))
    values = [_pad(v if f else _expand(v, level.batch_size), rank)
              for v, f in zip(values, flags)]
    out = cls.apply(*values, **options)
    if kwargs.get("vector"):
        out = out.squeeze(-1)
    if isinstance(out, Tensor):
        return make_batched(out, level.number)
    return tuple(make_batched(o, level.number) if isinstance(o, Tensor) else o for o in out)


_register(_matrices, decompositions.LinalgSolve, triangular.LinalgSolveTriangular,
          triangular.CholeskySolve, triangular.CholeskyInverse, eigh.LinalgEigh,
          norm.LinalgSvdvals, decompositions.LinalgSlogdet)


# ----------------------------------------------------------------------------- writing
def _writes_first(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Ops whose result is written into their first input: batched values cannot go into an
    unbatched tensor (PyTorch's error); otherwise they broadcast like elementwise ops."""
    batched = unwrap(args[0], level.number)[1]
    if not batched:
        raise RuntimeError(f"output with shape {list(args[0].shape)} doesn't match the "
                           f"broadcast shape {[level.batch_size, *args[0].shape]}")
    return _broadcasting(cls, args, kwargs, level)


_register(_writes_first, inplace.Copy, inplace.Fill, inplace.FillTensor, inplace.Zero)
_register(_broadcasting, *comparison.COMPARED.values())

