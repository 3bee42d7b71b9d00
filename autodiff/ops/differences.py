"""Finite differences and integration along a dim: diff (n-th forward difference, with prepend
and append), gradient (central differences, numpy.gradient's scheme, with spacing and
edge_order), trapezoid / trapz and cumulative_trapezoid (the trapezoidal rule).

Each is composed of ops, as in PyTorch, so the graph ends in PyTorch's nodes (SubBackward0 for
diff, CatBackward0 for gradient, ...) and every gradient is twice differentiable.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..creation import zeros
from ..tensor import Tensor, _wrap_dim
from .arithmetic import DivNumber, MulNumber
from .comparison import logical_xor
from .cumulative import cumsum
from .indexing import narrow
from .joining import cat
from .reduction import sum


def _slice(input: Tensor, dim: int, start: int, stop: int | None = None) -> Tensor:
    """input[start:stop] along dim, negative bounds counting from the end."""
    size = input._data.shape[dim]
    start = max(start + size, 0) if start < 0 else min(start, size)
    stop = size if stop is None else (max(stop + size, 0) if stop < 0 else min(stop, size))
    return narrow(input, dim, start, max(stop - start, 0))


# ----------------------------------------------------------------------------- diff
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The n-th forward difference along dim (of `prepend`, input, `append` joined); bools
    differ where they are unequal."""
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    for extra in (prepend, append):
        if extra is not None and extra._data.ndim != input._data.ndim:
            raise RuntimeError(
                "diff expects prepend or append to be the same dimension as input")
    dim = _wrap_dim(dim, input._data.ndim)
    if prepend is not None or append is not None:
        input = cat([t for t in (prepend, input, append) if t is not None], dim)
    if n == 0:
        out = zeros(input.shape, dtype=input.dtype, device=input.device)
        return out.copy_(input)
    for _ in range(n):
        if input._data.shape[dim] == 0:
            break
        later, earlier = _slice(input, dim, 1), _slice(input, dim, 0, -1)
        input = logical_xor(later, earlier) if input.dtype is dtypes.bool_ else later - earlier
    return input


# ----------------------------------------------------------------------------- gradient
def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None,
             edge_order: int = 1) -> tuple[Tensor, ...]:
    """The gradient by central differences inside and one-sided differences (of order
    `edge_order`) at the ends, along each of `dim` (all dims by default). `spacing` is one
    number, a number per dim, or a tensor of coordinates per dim."""
    ndim = input._data.ndim
    if dim is None:
        dims = list(range(ndim))
        given = "since dim argument was not given"
        expected = f"'self.dim() = {ndim}'"
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        given = "since dim argument was given"
        expected = f"'dim = {len(dims)}'"
        dims = [_wrap_dim(d, ndim) for d in dims]
    if isinstance(spacing, Tensor) and spacing._data.ndim == 0:
        spacing = spacing.item()
    if isinstance(spacing, (int, float)):
        spacings: list[Any] = [spacing] * len(dims)
    else:
        spacings = list(spacing)
        if len(spacings) == 1 and len(dims) > 1 and not isinstance(spacings[0], Tensor):
            spacings = spacings * len(dims)
        if len(spacings) != len(dims):
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar, or a list of "
                f"length equal to {expected}, {given}, but got a list of length "
                f"{len(spacings)}")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input._data.shape[d] < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1")
    return tuple(_gradient_along(input, d, step, edge_order) for d, step in zip(dims, spacings))


def _gradient_along(input: Tensor, dim: int, spacing: Any, edge_order: int) -> Tensor:
    if isinstance(spacing, Tensor):
        return _gradient_by_coordinates(input, dim, spacing, edge_order)
    center = (_slice(input, dim, 2) - _slice(input, dim, 0, -2)) / spacing
    if edge_order == 1:
        first = (_slice(input, dim, 1, 2) - _slice(input, dim, 0, 1)) / spacing
        last = (_slice(input, dim, -1) - _slice(input, dim, -2, -1)) / spacing
    else:
        first = (_slice(input, dim, 0, 1) * -1.5 + _slice(input, dim, 1, 2) * 2
                 - _slice(input, dim, 2, 3) * 0.5) / spacing
        last = (_slice(input, dim, -3, -2) * 0.5 + _slice(input, dim, -2, -1) * -2
                + _slice(input, dim, -1) * 1.5) / spacing
    return cat([first, center / 2, last], dim)


def _gradient_by_coordinates(input: Tensor, dim: int, coordinates: Tensor,
                             edge_order: int) -> Tensor:
    """Second-order differences on an uneven grid (numpy.gradient's formulas)."""
    shape = [1] * input._data.ndim
    shape[dim] = -1
    steps = diff(coordinates, 1, 0)
    before, after = _slice(steps, 0, 0, -1), _slice(steps, 0, 1)
    a = (-after / (before * (before + after))).reshape(shape)
    b = ((after - before) / (before * after)).reshape(shape)
    c = (before / (after * (before + after))).reshape(shape)
    center = (a * _slice(input, dim, 0, -2) + b * _slice(input, dim, 1, -1)
              + c * _slice(input, dim, 2))
    if edge_order == 1:
        first = (_slice(input, dim, 1, 2) - _slice(input, dim, 0, 1)) / steps[0]
        last = (_slice(input, dim, -1) - _slice(input, dim, -2, -1)) / steps[-1]
    else:
        h0, h1 = steps[0], steps[1]
        first = (-(2.0 * h0 + h1) / (h0 * (h0 + h1)) * _slice(input, dim, 0, 1)
                 + (h0 + h1) / (h0 * h1) * _slice(input, dim, 1, 2)
                 + (-h0) / (h1 * (h0 + h1)) * _slice(input, dim, 2, 3))
        hl, hm = steps[-1], steps[-2]
        last = (hl / (hm * (hl + hm)) * _slice(input, dim, -3, -2)
                - (hl + hm) / (hl * hm) * _slice(input, dim, -2, -1)
                + (2 * hl + hm) / (hl * (hl + hm)) * _slice(input, dim, -1))
    return cat([first, center, last], dim)


# ----------------------------------------------------------------------------- trapezoid
def _check_samples(y: Tensor, x: Tensor, dim: int, name: str) -> None:
    if x._data.ndim == 1 and x._data.shape[0] != y._data.shape[dim]:
        raise RuntimeError(f"{name}: There must be one `x` value for each sample point")


def _spacing_along(y: Tensor, x: Tensor, dim: int) -> Tensor:
    """The steps of x along dim, shaped to broadcast against y's slices."""
    if x._data.ndim == 1:
        steps = diff(x)
        shape = [1] * y._data.ndim
        shape[dim] = steps._data.shape[0]
        return steps.view(shape)
    return diff(x, dim=dim)


def _number(value: Any) -> Any:
    return value.item() if isinstance(value, Tensor) else value


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The integral of y along dim by the trapezoidal rule, on points x or with spacing dx."""
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    dim = _wrap_dim(dim, y._data.ndim)
    if x is not None and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments: `x` and "
                        "`dx` cannot both be given")
    if y._data.shape[dim] == 0:
        shape = tuple(size for axis, size in enumerate(y._data.shape) if axis != dim)
        return zeros(shape, dtype=y.dtype, device=y.device)
    if x is not None:
        _check_samples(y, x, dim, "trapezoid")
        steps = _spacing_along(y, x, dim)
        pairs = _slice(y, dim, 1) + _slice(y, dim, 0, -1)
        return DivNumber.apply(sum(steps * pairs, dim), 2.0)
    step = 1.0 if dx is None else float(_number(dx))
    ends = (y.select(dim, 0) + y.select(dim, -1)) * 0.5
    return MulNumber.apply(sum(y, dim) - ends, step)


def trapz(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None,
                         dim: int = -1) -> Tensor:
    """The running integral of y along dim by the trapezoidal rule (one fewer element)."""
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    dim = _wrap_dim(dim, y._data.ndim)
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid() received an invalid combination of "
                        "arguments: `x` and `dx` cannot both be given")
    pairs = _slice(y, dim, 1) + _slice(y, dim, 0, -1)
    if x is not None:
        _check_samples(y, x, dim, "cumulative_trapezoid")
        return DivNumber.apply(cumsum(_spacing_along(y, x, dim) * pairs, dim), 2.0)
    step = 1.0 if dx is None else float(_number(dx))
    return cumsum(MulNumber.apply(pairs, step / 2.0), dim)
