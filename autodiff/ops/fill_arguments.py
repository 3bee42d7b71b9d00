"""PyTorch's argument-parser refusals for scatter, index_fill and masked_fill: a Python list
(or anything else) where an index, a mask or a source tensor is required, or arguments no
overload takes. The method forms list their overloads without `input`/`out`, as PyTorch's do.

Each public form is wrapped (`parses`) so that the check sees the call as it was made: the
refusal lists keyword arguments by name (`got (int, list, value=float)`) and marks them so in
its "didn't match" lines (`!value=float!`), as PyTorch's parser does. `Tensor`'s methods are
wrapped in its class body, so this module reads `Tensor` from its module when called.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from numbers import Number
from typing import Any, TypeVar

from .. import tensor as _tensor

_F = TypeVar("_F", bound=Callable[..., Any])

_SCATTER = (
    "int dim, Tensor index, Tensor src",
    "int dim, Tensor index, Tensor src, *, str reduce",
    "int dim, Tensor index, Number value",
    "int dim, Tensor index, Number value, *, str reduce",
)
_INDEX_FILL = ("int dim, Tensor index, Tensor value", "int dim, Tensor index, Number value")
_MASKED_FILL = ("Tensor mask, Tensor value", "Tensor mask, Number value")


class _Parser:
    """One op's parameters as its Python forms take them (the first `positional` also by
    position, `out` in the function form only), what fits, and the overloads PyTorch lists."""

    def __init__(self, parameters: tuple[str, ...], positional: int,
                 fits: Callable[[dict[str, Any]], bool], overloads: tuple[str, ...],
                 function_overloads: tuple[str, ...], takes_out: bool = False) -> None:
        self.parameters = parameters
        self.positional = positional
        self.fits = fits
        self.overloads = overloads
        self.function_overloads = function_overloads
        self.takes_out = takes_out

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any],
             method: bool) -> dict[str, Any] | None:
        """The arguments by name, None where given (None stands for "not given", as the
        forms' defaults say), or None when the call does not bind."""
        names = (*self.parameters, "out") if self.takes_out and not method else self.parameters
        if len(args) > self.positional:
            return None
        bound = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names or key in bound:
                return None
            bound[key] = value
        return {key: value for key, value in bound.items() if value is not None}


def _is_number(value: Any) -> bool:
    return isinstance(value, (Number, _tensor.Tensor))


def _is_dim(value: Any) -> bool:
    """An int (not a bool), or a 0-d tensor standing for one, as PyTorch's parser takes it."""
    if isinstance(value, _tensor.Tensor):
        return value.ndim == 0
    return isinstance(value, int) and not isinstance(value, bool)


def _scatter_fits(bound: dict[str, Any]) -> bool:
    """`scatter(dim, index, src)` or `scatter(dim, index, value=number)`: one of the two, and
    a tensor index."""
    if "dim" not in bound or "index" not in bound:
        return False
    if not (_is_dim(bound["dim"]) and isinstance(bound["index"], _tensor.Tensor)):
        return False
    if "src" in bound:
        return "value" not in bound and _is_number(bound["src"])
    return "value" in bound and _is_number(bound["value"])


def _index_fill_fits(bound: dict[str, Any]) -> bool:
    return len(bound) == 3 and _is_dim(bound["dim"]) \
        and isinstance(bound["index"], _tensor.Tensor) and _is_number(bound["value"])


def _masked_fill_fits(bound: dict[str, Any]) -> bool:
    return len(bound) == 2 and isinstance(bound["mask"], _tensor.Tensor) \
        and _is_number(bound["value"])


SCATTER: _Parser = _Parser(
    ("dim", "index", "src", "value", "reduce"), 3, _scatter_fits, _SCATTER,
    tuple(f"Tensor input, {signature.replace(', *, str reduce', '')}, *, "
          f"{'str reduce, ' if 'reduce' in signature else ''}Tensor out = None"
          for signature in _SCATTER),
    takes_out=True)
INDEX_FILL: _Parser = _Parser(("dim", "index", "value"), 3, _index_fill_fits, _INDEX_FILL,
                     tuple(f"Tensor input, {signature}" for signature in _INDEX_FILL))
MASKED_FILL: _Parser = _Parser(("mask", "value"), 2, _masked_fill_fits, _MASKED_FILL,
                      tuple(f"Tensor input, {signature}" for signature in _MASKED_FILL))


def parses(name: str, parser: _Parser, method: bool) -> Callable[[_F], _F]:
    """Check a form's arguments as PyTorch's parser would before calling it; refuse with
    its TypeError, listing the call as it was made."""
    def decorate(form: _F) -> _F:
        @functools.wraps(form)
        def parsed(input: Any, *args: Any, **kwargs: Any) -> Any:
            bound = parser.bind(args, kwargs, method)
            if bound is None or not parser.fits(bound):
                from ._checks import invalid_arguments  # needs Tensor, which needs this

                if method:
                    raise invalid_arguments(name, args, kwargs, parser.overloads)
                raise invalid_arguments(name, (input, *args), kwargs,
                                        parser.function_overloads)
            return form(input, *args, **kwargs)
        return parsed  # type: ignore[return-value]
    return decorate
