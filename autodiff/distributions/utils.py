"""Helpers the distributions share (torch.distributions.utils): broadcasting parameters,
probabilities to logits and back, `lazy_property`, and packing the lower triangle of a matrix
into a vector."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Final, Generic, TypeVar, overload

from .. import dtypes
from ..creation import arange, randn, tensor, zeros
from ..grad_mode import enable_grad
from ..ops.activation import sigmoid
from ..ops.combining import broadcast_tensors
from ..ops.softmax import softmax
from ..ops.unary import log, log1p
from ..tensor import Tensor

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs",
           "probs_to_logits", "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant: Final[float] = 0.57721566490153286060  # Euler-Mascheroni constant

_NUMBERS = (int, float, bool)


def broadcast_all(*values: Tensor | float) -> tuple[Tensor, ...]:
    """The values broadcast to one shape, Python numbers made tensors of the first tensor's
    dtype and device (of the default dtype when all are numbers)."""
    if not all(isinstance(value, (Tensor, *_NUMBERS)) for value in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or "
                         "objects implementing __torch_function__.")
    options: dict[str, Any] = {"dtype": dtypes.get_default_dtype()}
    for value in values:
        if isinstance(value, Tensor):
            options = {"dtype": value.dtype, "device": value.device}
            break
    return broadcast_tensors(*(value if isinstance(value, Tensor) else tensor(value, **options)
                               for value in values))


def _standard_normal(shape: Sequence[int], dtype: Any, device: Any) -> Tensor:
    return randn(tuple(shape), dtype=dtype, device=device)


def _sum_rightmost(value: Any, dim: int) -> Any:
    """Sum out the rightmost `dim` dims."""
    if dim == 0:
        return value
    return value.reshape((*value.shape[:-dim], -1)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from unnormalised log probabilities (sigmoid for a binary event, softmax
    over the last dim otherwise)."""
    if is_binary:
        return sigmoid(logits)
    return softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities clamped into [eps, 1 - eps] of their dtype."""
    eps = dtypes.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits of probabilities: log-odds for a binary event, log probabilities otherwise."""
    clamped = clamp_probs(probs)
    if is_binary:
        return log(clamped) - log1p(-clamped)
    return log(clamped)


T = TypeVar("T", contravariant=True)
R = TypeVar("R", covariant=True)


class lazy_property(Generic[T, R]):
    """A property computed on first access (with gradients recorded) and then stored on the
    instance, so an unused parameterization costs nothing."""

    def __init__(self, wrapped: Callable[[T], R]) -> None:
        self.wrapped: Callable[[T], R] = wrapped
        functools.update_wrapper(self, wrapped)  # type: ignore[arg-type]

    @overload
    def __get__(self, instance: None, obj_type: Any = None) -> _lazy_property_and_property[T, R]:
        ...

    @overload
    def __get__(self, instance: T, obj_type: Any = None) -> R:
        ...

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property[T, R], property):
    """What a lazy_property is on its class: a property too, so documentation tools see one."""

    def __init__(self, wrapped: Callable[[T], R]) -> None:
        property.__init__(self, wrapped)


def _tril_mask(n: int, diag: int, device: Any) -> Tensor:
    positions = arange(n, device=device)
    return positions < positions.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of a matrix's lower triangle (below diagonal `diag`), row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The lower-triangular matrix whose triangle (below diagonal `diag`) holds `vec`."""
    # The D with D (D + 1) / 2 + ... entries: a root of the quadratic.
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1]
                            + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = dtypes.finfo(vec.dtype).eps
    # PyTorch tests round(n) - n > eps, one-sided, and so misses n = 2.37 (its later
    # assignment fails with a shape mismatch instead).
    if abs(round(n) - n) > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    size = round(n)
    mat = zeros((*tuple(vec.shape[:-1]), size, size), dtype=vec.dtype, device=vec.device)
    mat[..., _tril_mask(size, diag, vec.device)] = vec
    return mat

