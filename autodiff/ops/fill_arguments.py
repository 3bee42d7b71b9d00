"""PyTorch's argument-parser refusals for scatter, index_fill and masked_fill: a Python list
(or anything else) where an index, a mask or a source tensor is required. The method forms
list their overloads without `input`/`out`, as PyTorch's do."""

from __future__ import annotations

from numbers import Number
from typing import Any

from ..tensor import Tensor
from ._checks import invalid_arguments

_SCATTER = (
    "int dim, Tensor index, Tensor src",
    "int dim, Tensor index, Tensor src, *, str reduce",
    "int dim, Tensor index, Number value",
    "int dim, Tensor index, Number value, *, str reduce",
)
_INDEX_FILL = ("int dim, Tensor index, Tensor value", "int dim, Tensor index, Number value")
_MASKED_FILL = ("Tensor mask, Tensor value", "Tensor mask, Number value")


def _is_number(value: Any) -> bool:
    return isinstance(value, (Number, Tensor))


def _is_dim(value: Any) -> bool:
    """An int (not a bool), or a 0-d tensor standing for one, as PyTorch's parser takes it."""
    if isinstance(value, Tensor):
        return value.ndim == 0
    return isinstance(value, int) and not isinstance(value, bool)


def check_scatter(name: str, method: bool, input: Any, dim: Any, index: Any, src: Any,
                  value: Any) -> None:
    """`scatter(dim, index, src)` or `scatter(dim, index, value=number)`: one of the two, and a
    tensor index."""
    tensor_src = src is not None and isinstance(src, Tensor)
    number_src = src is not None and _is_number(src)
    fits = _is_dim(dim) and isinstance(index, Tensor) and (
        (value is None and (tensor_src or number_src))
        or (src is None and value is not None and _is_number(value)))
    if fits:
        return
    args = (dim, index) if src is None else (dim, index, src)
    kwargs = {} if value is None else {"value": value}
    if method:
        raise invalid_arguments(name, args, kwargs, _SCATTER)
    raise invalid_arguments(name, (input, *args), kwargs, tuple(
        f"Tensor input, {signature.replace(', *, str reduce', '')}, *, "
        f"{'str reduce, ' if 'reduce' in signature else ''}Tensor out = None"
        for signature in _SCATTER))


def check_index_fill(name: str, method: bool, input: Any, dim: Any, index: Any,
                     value: Any) -> None:
    if _is_dim(dim) and isinstance(index, Tensor) and _is_number(value):
        return
    _refuse(name, method, input, (dim, index, value), _INDEX_FILL)


def check_masked_fill(name: str, method: bool, input: Any, mask: Any, value: Any) -> None:
    if isinstance(mask, Tensor) and _is_number(value):
        return
    _refuse(name, method, input, (mask, value), _MASKED_FILL)


def _refuse(name: str, method: bool, input: Any, args: tuple[Any, ...],
            signatures: tuple[str, ...]) -> None:
    if method:
        raise invalid_arguments(name, args, {}, signatures)
    raise invalid_arguments(name, (input, *args), {},
                            tuple(f"Tensor input, {signature}" for signature in signatures))
