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

import dis
import functools
import inspect
import os
import sys
import types
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


def _overloaded(name: str) -> bool:
    """Whether PyTorch declares `name` (or, for an in-place method, its out-of-place form)
    with several overloads."""
    return name in _OVERLOADED or (name.endswith("_") and name[:-1] in _OVERLOADED)


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
    annotation = parameter.annotation
    text = annotation if isinstance(annotation, str) else str(annotation)
    if value is None and ("None" in text or "Optional" in text):
        return None  # `Tensor | None`: PyTorch's Optional[Tensor]
    if type(value) in _NUMBER_TYPES and any(
            kind in text for kind in ("float", "int", "complex", "Number")):
        return None  # `Tensor | float`: a Tensor-or-Number parameter
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
        alone = len(args) == 1 and not kwargs and positions[key] == 0
        if _overloaded(name) and not alone:
            given = [type_name(item) for item in args[skip:]]
            given += [f"{item}={type_name(value)}" for item, value in kwargs.items()]
            return TypeError(f"{name}() received an invalid combination of arguments - got "
                             f"({', '.join(given)}), but expected one of:\n")
        where = "" if key in kwargs else f" (position {positions[key] + 1 - skip})"
        return TypeError(f"{name}(): argument '{key}'{where} must be {expected}, not "
                         f"{type_name(value)}")
    return None


# Namespaces whose functions PyTorch binds from C++, under the native function's name.
_NATIVE_PREFIXES = {"autodiff.linalg": "linalg_", "autodiff.special": "special_",
                    "autodiff.fft": "fft_"}


def missing_arguments_error(namespace: str, name: str, function: Callable[..., Any],
                            args: tuple[Any, ...], kwargs: dict[str, Any]) -> TypeError | None:
    """PyTorch's parser's TypeError for a call of a linalg, special or fft function that
    lacks required arguments (`linalg_solve() missing 1 required positional arguments: "B"`,
    its plural and singular as it words them); else None."""
    prefix = _NATIVE_PREFIXES.get(namespace)
    signature = _signature(function) if prefix is not None else None
    if signature is None:
        return None
    try:
        signature.bind(*args, **kwargs)
    except TypeError:
        pass
    else:
        return None
    bound = dict(zip(signature.parameters, args)) | kwargs
    missing = [key for key, parameter in signature.parameters.items()
               if parameter.default is inspect.Parameter.empty and key not in bound
               and parameter.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                      inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if not missing:
        return None
    noun = "arguments" if len(missing) == 1 else "argument"
    names = ", ".join(f'"{key}"' for key in missing)
    return TypeError(f"{prefix}{name}() missing {len(missing)} required positional {noun}: "
                     f"{names}")


# ----------------------------------------------------------------------------- Tensor methods
# A Tensor method's op fails inside `Function.apply`: there, `method_error` looks for the
# Tensor method the user called (the outermost of the calling frames that are Tensor methods)
# and words the refusal as PyTorch's parser does for that method.
_OPERATORS = {
    "__add__": "+", "__radd__": "+", "__iadd__": "+=", "__sub__": "-", "__rsub__": "-",
    "__isub__": "-=", "__mul__": "*", "__rmul__": "*", "__imul__": "*=", "__truediv__": "/",
    "__rtruediv__": "/", "__itruediv__": "/=", "__floordiv__": "//", "__rfloordiv__": "//",
    "__ifloordiv__": "//=", "__mod__": "%", "__rmod__": "%", "__imod__": "%=",
    "__pow__": "** or pow()", "__rpow__": "** or pow()", "__ipow__": "**=", "__matmul__": "@",
    "__rmatmul__": "@",
    "__imatmul__": "@=", "__and__": "&", "__rand__": "&", "__iand__": "&=", "__or__": "|",
    "__ror__": "|", "__ior__": "|=", "__xor__": "^", "__rxor__": "^", "__ixor__": "^=",
    "__lshift__": "<<", "__rlshift__": "<<", "__ilshift__": "<<=", "__rshift__": ">>",
    "__rrshift__": ">>", "__irshift__": ">>=", "__lt__": "<", "__le__": "<=", "__gt__": ">",
    "__ge__": ">=",
}
_COMPARISONS = {"__lt__", "__le__", "__gt__", "__ge__"}


@functools.cache
def _method_codes(tensor_class: type) -> dict[Any, tuple[str, Callable[..., Any]]]:
    """Each Tensor method's code object: its name and function."""
    codes = {}
    for klass in reversed(tensor_class.__mro__):
        for name, value in vars(klass).items():
            if name in _OPERATORS:  # a reflected operator's wrapper: the method it calls
                value = getattr(value, "__wrapped__", value)
            code = getattr(value, "__code__", None)
            if code is not None and (not name.startswith("_") or name in _OPERATORS) and (
                    code not in codes or name == code.co_name):  # an alias: its def's name
                codes[code] = (name, value)
    return codes


@functools.cache
def _method_names(tensor_class: type) -> dict[Any, str]:
    """The public name of each operator's code that a method shares (`Tensor.pow` is
    `__pow__`): what the call is named when no operator made it."""
    names = {}
    for name, value in vars(tensor_class).items():
        code = getattr(value, "__code__", None)
        if code is not None and not name.startswith("_") and code.co_name in _OPERATORS and (
                code not in names or name == code.co_name.strip("_")):  # lt, not less
            names[code] = name
    return names


_OPERATOR_INSTRUCTIONS = frozenset({"BINARY_OP", "COMPARE_OP"})
_PROTOCOL_FILE = os.path.join(os.path.dirname(__file__), "torch_function.py")


def _called_as_operator(frame: Any) -> bool:
    """Whether the frame's caller is at an operator's instruction (`x ** y`), not a call."""
    caller = frame.f_back
    while caller is not None and caller.f_code.co_filename == _PROTOCOL_FILE:
        caller = caller.f_back  # a TensorMethod stand-in (the protocol's switch on) between
    if caller is None or caller.f_lasti < 0:
        return True
    return dis.opname[caller.f_code.co_code[caller.f_lasti]] in _OPERATOR_INSTRUCTIONS


def method_error(tensor_class: type) -> TypeError | None:
    """PyTorch's TypeError for the Tensor method (or operator) call under way, whose op failed,
    when PyTorch's parser would refuse one of its arguments; else None."""
    codes = _method_codes(tensor_class)
    walked: types.FrameType | None = sys._getframe(1)
    found = None
    while walked is not None:
        known = codes.get(walked.f_code)
        if known is not None:
            found = (known, walked)
        walked = walked.f_back
    if found is None:
        return None
    (name, method), frame = found
    code = frame.f_code
    local = frame.f_locals
    positional = code.co_varnames[:code.co_argcount]
    if not all(key in local for key in positional):
        return None
    args = tuple(local[key] for key in positional)
    defaults = getattr(method, "__defaults__", None) or ()
    first_default = len(args) - len(defaults)
    while len(args) > max(first_default, 1) and args[-1] is defaults[len(args) - 1 - first_default]:
        args = args[:-1]  # a default the user did not pass (as far as a frame tells)
    keyword_only = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    kwargs = {key: local[key] for key in keyword_only if key in local}
    symbol = _OPERATORS.get(name)
    if symbol is not None and not _called_as_operator(frame):
        public = _method_names(tensor_class).get(code)
        if public is not None:
            name, symbol = public, None
    if symbol is not None:
        other = args[1] if len(args) > 1 else None
        parameter = inspect.Parameter("other", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                      annotation="Any")
        if _refused(parameter, other, tensor_class) is None:
            return None
        if name in _COMPARISONS:
            return TypeError(f"'{symbol}' not supported between instances of 'Tensor' and "
                             f"'{type_name(other)}'")
        left, right = "Tensor", type_name(other)
        if name.startswith("__r") and name not in ("__rshift__",):
            left, right = right, left
        return TypeError(f"unsupported operand type(s) for {symbol}: '{left}' and '{right}'")
    # Defaults the user did not pass are not told apart from arguments given: only the
    # keyword-only options that differ from their defaults count as given.
    keyword_defaults = getattr(method, "__kwdefaults__", None) or {}
    kwargs = {key: value for key, value in kwargs.items()
              if key not in keyword_defaults or keyword_defaults[key] is not value}
    return argument_error(name, method, args, kwargs, tensor_class, skip=1)
