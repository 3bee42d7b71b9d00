"""Separable linear maps along the trailing dims, each a few taps per output: the common form
of adaptive average pooling and of every interpolation mode (nearest, linear, cubic, area).

Along one dim, output o is sum_t weight[o, t] * input[index[o, t]]: a gather of T taps and a
weighted sum (T is 1 for nearest, 2 for linear, 4 for cubic, the longest window for adaptive
pooling). A map over several dims applies one dim after the other, the last first (as
PyTorch's kernels sum the innermost dim first). The gradient is the transposed map: each
tap's gradient is added back at its index (a scatter-add), written with recorded ops so that
the gradient is differentiable again.

Taps with a `precision` are PyTorch's fixed-point uint8 image path: integer weights scaled by
2**precision, each output rounded back to uint8 before the next dim (integers have no gradient).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backends import Backend

from ..function import Function
from ..jvp_rules import auto_linear
from ..tensor import Tensor, _wrap
from .indexing import zeros
from .scatter import IndexAdd


@dataclass(frozen=True)
class Taps:
    """A linear map along one dim from `size` inputs: output o is
    sum_t weight[o, t] * input[index[o, t]] (index and weight are host lists of rows; no
    weight means one tap of weight 1, a selection). With a precision, the weights are
    integers scaled by 2**precision and each output is that sum rounded half up back to a
    uint8 (clamped to [0, 255])."""

    index: tuple[tuple[int, ...], ...]
    weight: tuple[tuple[float, ...], ...] | None
    size: int
    precision: int | None = None

    @property
    def count(self) -> int:
        return len(self.index[0]) if self.index else 1


def gather_taps(backend: Backend, x: Any, axis: int, taps: Taps) -> Any:
    """The map along `axis` of the array x."""
    outputs = len(taps.index)
    flat = backend.asarray([i for row in taps.index for i in row], dtype="int64")
    gathered = backend.take(x, flat, axis=axis)
    if taps.weight is None and taps.count == 1:
        return gathered
    shape = gathered.shape
    gathered = backend.reshape(gathered, (*shape[:axis], outputs, taps.count, *shape[axis + 1:]))
    if taps.precision is not None:
        return _fixed_point_sum(backend, gathered, axis, taps, taps.precision)
    weight = _weight_array(backend, taps, backend.dtype_name(x), x.ndim - axis - 1)
    return backend.sum(backend.multiply(gathered, weight), axis=axis + 1)


def _fixed_point_sum(backend: Backend, gathered: Any, axis: int, taps: Taps,
                     precision: int) -> Any:
    """The uint8 outputs of integer taps: (sum + 2**(precision - 1)) >> precision, clamped."""
    weight = _weight_array(backend, taps, "int32", gathered.ndim - axis - 2)
    total = backend.sum(backend.multiply(backend.astype(gathered, "int32"), weight),
                        axis=axis + 1)
    total = backend.floor_divide(backend.add(total, 1 << (precision - 1)), 1 << precision)
    return backend.astype(backend.clip(total, 0, 255), "uint8")


def scatter_taps(grad: Tensor, axis: int, taps: Taps) -> Tensor:
    """The transposed map along `axis` of a Tensor, in recorded ops."""
    backend = grad._backend
    flat = backend.asarray([i for row in taps.index for i in row], dtype="int64")
    shape = tuple(grad._data.shape)
    if taps.weight is not None or taps.count != 1:
        weight = _wrap(_weight_array(backend, taps, backend.dtype_name(grad._data),
                                     len(shape) - axis - 1), backend)
        spread = grad.unsqueeze(axis + 1) * weight
        grad = spread.reshape(*shape[:axis], -1, *shape[axis + 1:])
    target = zeros(backend, (*shape[:axis], taps.size, *shape[axis + 1:]), grad._data)
    return IndexAdd.apply(target, grad, dim=axis, index=flat, alpha=1)


def _weight_array(backend: Backend, taps: Taps, dtype: str, trailing: int) -> Any:
    """The (outputs, T, 1, ...) weights, broadcasting over the dims after the mapped one."""
    weight = taps.weight if taps.weight is not None else \
        tuple((1.0,) * taps.count for _ in taps.index)
    array = backend.asarray(weight, dtype=dtype)
    return backend.reshape(array, (len(taps.index), taps.count, *(1,) * trailing))


class SeparableTaps(Function):
    """A map of `Taps` along each of the trailing dims. Subclasses carry PyTorch's node name
    for the op they implement."""

    node_name = "SeparableTapsBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, x: Any, *, taps: tuple[Taps, ...]) -> Any:
        backend = ctx.backend
        ctx.taps = taps
        first = x.ndim - len(taps)
        out = x
        for offset in reversed(range(len(taps))):
            out = gather_taps(backend, out, first + offset, taps[offset])
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return transposed_taps(grad, ctx.taps)


def transposed_taps(grad: Tensor, taps: Sequence[Taps]) -> Tensor:
    """The gradient of a `SeparableTaps` map, in recorded ops (the last dim first)."""
    first = grad._data.ndim - len(taps)
    for offset in reversed(range(len(taps))):
        grad = scatter_taps(grad, first + offset, taps[offset])
    return grad
