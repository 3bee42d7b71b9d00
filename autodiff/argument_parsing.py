"""PyTorch's argument parser's TypeError for an argument of a class no function takes (an
`object()`, a string where a Tensor belongs): `add(): argument 'other' (position 2) must be
Tensor, not object`.

autodiff's public functions take their arguments as Python does and let the op fail; only once
the call has failed does `argument_error` look at the arguments against the function's
signature, so the check costs a successful call nothing. It names the first argument PyTorch's
parser would refuse: a parameter annotated Tensor (or a sequence of Tensors), one of the
operands every binary function takes (`input`, `other`, ...), a Number option (`alpha`).
Functions PyTorch declares with several overloads (`pow`, `where`, comparisons) get its "invalid
combination" message's first line instead, as PyTorch cannot name one parameter there either.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

# Operand names of PyTorch's Tensor-or-Number parameters (annotated `Any` here).
_OPERANDS = frozenset({"input", "other", "self", "tensor", "tensor1", "tensor2", "mat1", "mat2",
                       "vec", "vec1", "vec2", "end", "weight", "exponent", "min", "max"})
_NUMBERS = frozenset({"alpha", "beta", "value"})

# Functions PyTorch declares with several overloads that differ in a Tensor or Number operand.
_OVERLOADED = frozenset({
    "pow", "float_power", "where", "eq", "ne", "lt", "le", "gt", "ge", "greater", "less",
    "greater_equal", "less_equal", "not_equal", "clamp", "clip", "remainder", "fmod",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
    "lerp", "xlogy", "copysign", "masked_fill", "fill", "index_fill", "sum", "mean", "std",
    "var", "max", "min", "divide", "floor_divide", "true_divide", "multiply", "isin",
    "bucketize", "searchsorted", "rsub",
})


def type_name(value: Any) -> str:
    """The name PyTorch's parser gives an argument's class."""
    kind = type(value)
    for base in kind.__mro__:
        if base.__name__ == "Tensor" and base.__module__.startswith("autodiff"):
            return "Tensor"
    return kind.__name__


@functools.cache
def _signature(function: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):
        return None


def _expects(parameter: inspect.Parameter) -> str | None:
    """What PyTorch's parser names as the parameter's type: "Tensor", "tuple of Tensors",
    "Number", or None (nothing to say)."""
    annotation = parameter.annotation
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if "Sequence[Tensor]" in text or "list[Tensor]" in text or "tuple[Tensor" in text:
        return "tuple of Tensors"
    if text.startswith("Tensor"):
        return "Tensor"
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.name in _NUMBERS:
        return "Number"
    if text == "Any" and parameter.name in _OPERANDS:
        return "Tensor"
    return None


def _refused(parameter: inspect.Parameter, value: Any, tensor_class: type) -> str | None:
    """What PyTorch's parser wanted where it refuses `value` for `parameter`, else None."""
    expected = _expects(parameter)
    if expected is None or isinstance(value, tensor_class):
        return None
    if expected == "tuple of Tensors":
        return None if type(value) in (list, tuple) else expected
    if expected == "Number":
        return None if type(value) in _NUMBER_TYPES else expected
    if value is None and parameter.default is None:
        return None
    if type(value) in _NUMBER_TYPES and parameter.annotation in ("Any", Any):
        return None  # a Tensor-or-Number operand
    return expected


_NUMBER_TYPES = (int, float, bool, complex)


def argument_error(name: str, function: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any], tensor_class: type, skip: int = 0) -> TypeError | None:
    """PyTorch's TypeError for the call `name(*args, **kwargs)` of `function`, which failed,
    when PyTorch's parser would refuse one of its arguments; else None (the failure stands).
    `skip` leading arguments are not counted in positions (a Tensor method's `self`)."""
    signature = _signature(function)
    if signature is None:
        return None
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return None
    positions = {key: index for index, key in enumerate(signature.parameters)}
    for key, value in bound.arguments.items():
        parameter = signature.parameters[key]
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        expected = _refused(parameter, value, tensor_class)
        if expected is None and _expects(parameter) == "tuple of Tensors":
            for index, item in enumerate(value):
                if not isinstance(item, tensor_class):
                    return TypeError(f"expected Tensor as element {index} in argument "
                                     f"{positions[key] - skip}, but got {type_name(item)}")
            continue
        if expected is None:
            continue
        # One argument, the first refused: every overload starts with that Tensor (sum(x)).
        alone = len(args) == 1 + skip and not kwargs and positions[key] == skip
        if name in _OVERLOADED and not alone:
            given = [type_name(item) for item in args[skip:]]
            given += [f"{item}={type_name(value)}" for item, value in kwargs.items()]
            return TypeError(f"{name}() received an invalid combination of arguments - got "
                             f"({', '.join(given)}), but expected one of:\n")
        where = "" if key in kwargs else f" (position {positions[key] + 1 - skip})"
        return TypeError(f"{name}(): argument '{key}'{where} must be {expected}, not "
                         f"{type_name(value)}")
    return None
