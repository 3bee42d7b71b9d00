"""Batching rules of the linear algebra: the ops take stacks of matrices (and of the vectors
that go with them: pivots, Householder scales, tolerances) with any leading batch dims, so
the examples are one more batch dim in front (functorch's BatchRulesLinearAlgebra). Each
operand has a core rank (2 for a matrix, 1 for a vector of one matrix, 0 for a number of one
matrix); the dims before its core are batch dims, lined up from the right and expanded to
one common batch shape, as the LAPACK-backed kernels take them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from backends import broadcast_shapes

from ..ops import (
    complex,
    decompositions,
    eig,
    eigh,
    householder,
    lu,
    matrix_functions,
    norm,
    svd,
    triangular,
)
from ..tensor import Tensor
from .batched_tensor import make_batched, unwrap
from .levels import Level
from .rules import Rule, _broadcasting, _expand, _pad, _register


def stacked_operands(args: Sequence[Any], cores: Sequence[int | None], level: Level
                     ) -> list[Any]:
    """The physical values of `args`: each tensor (core rank `cores[i]`; None for what is
    not an operand) with the examples in front and every batch dim expanded to the common
    batch shape."""
    values: list[Any] = []
    batch_ranks = []
    for arg, core in zip(args, cores):
        value, batched = unwrap(arg, level.number)
        if core is None or not isinstance(value, Tensor):
            values.append(None)
            continue
        value = value if batched else value.unsqueeze(0)
        values.append(value)
        batch_ranks.append(value.dim() - 1 - core)
    rank = max(batch_ranks, default=0)
    shapes = []
    for index, (value, core) in enumerate(zip(values, cores)):
        if value is None:
            continue
        value = _pad(value, rank + core)  # type: ignore[operator]
        values[index] = value
        shapes.append(tuple(value.shape[:1 + rank]))
    batch = broadcast_shapes(*shapes)
    out = list(args)
    for index, value in enumerate(values):
        if value is None:
            continue
        shape = (*batch, *tuple(value.shape)[1 + rank:])
        out[index] = value if tuple(value.shape) == shape else value.expand(shape)
    return out


def wrap_outputs(out: Any, level: Level) -> Any:
    """The op's outputs batched at `level`. An empty placeholder an op returns in place of an
    output it does not compute (qr's Q for mode 'r', lstsq's residuals) is one per example,
    as the loop of examples stacks them."""
    size = level.batch_size

    def wrap(item: Any) -> Any:
        if not isinstance(item, Tensor):
            return item
        if size and tuple(item.shape) == (0,):
            item = _expand(item, size)
        return make_batched(item, level.number)

    if isinstance(out, Tensor):
        return wrap(out)
    return tuple(wrap(item) for item in out)


def _stacked(cores: Sequence[int | None] | Callable[[dict[str, Any]], Sequence[int | None]]
             ) -> Rule:
    """The rule of an op whose operands have the core ranks `cores` (or those a function of
    its options gives)."""

    def rule(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
        ranks = cores(kwargs) if callable(cores) else cores
        values = stacked_operands(args, ranks, level)
        return wrap_outputs(cls.apply(*values, **kwargs), level)

    return rule


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


def _lstsq_cores(options: dict[str, Any]) -> tuple[int, int]:
    return (2, 1 if options["vector"] else 2)


def _vdot(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """sum(conj(a) * b) over each example's vectors (an integer sum keeps its dtype)."""
    a, b = stacked_operands(args, (1, 1), level)
    out = (complex.conj(a) * b).sum(-1)
    if out.dtype != a.dtype:
        out = out.to(a.dtype)
    return make_batched(out, level.number)


def _svdvals_backward(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                      level: Level) -> Any:
    """U diag(grad) Vh: the examples' gradients (in front) broadcast against U and Vh, which
    are one example's or, batched, have the examples in front too."""
    grad, a = args
    value, batched = unwrap(grad, level.number)
    options = {key: unwrap(item, level.number)[0] for key, item in kwargs.items()}
    out = cls.apply(value if batched else _expand(value, level.batch_size),
                    unwrap(a, level.number)[0], **options)
    return make_batched(out, level.number)


_register(_matrices, decompositions.LinalgSolve, triangular.LinalgSolveTriangular,
          triangular.CholeskySolve, triangular.CholeskyInverse, eigh.LinalgEigh,
          norm.LinalgSvdvals, decompositions.LinalgSlogdet)
_register(_stacked((2,)), svd.LinalgSvd, eig.LinalgEig, householder.LinalgQr,
          householder.Geqrf, householder.LinalgLdlFactorEx, lu.LinalgLuFactorEx, lu.LinalgLu,
          matrix_functions.LinalgMatrixExp, triangular.TorchCholesky)
_register(_stacked((2, 0, 0)), svd.LinalgPinv)
_register(_stacked((2, 1)), householder.LinalgHouseholderProduct, lu.LuUnpack)
_register(_stacked((2, 1, 2)), householder.Ormqr, lu.LinalgLuSolve, householder.LinalgLdlSolve)
_register(_stacked((2, 2)), triangular.TriangularSolve)
_register(_stacked(_lstsq_cores), matrix_functions.LinalgLstsq)
_register(_vdot, matrix_functions.Vdot)
_register(_svdvals_backward, norm.SvdvalsBackward)
_register(_broadcasting, complex.Polar, complex.ViewAsComplex)
