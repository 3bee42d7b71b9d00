"""Operator schemas: `FunctionSchema` parsed from PyTorch's schema strings
(`mylib::crop(Tensor pic, SymInt[] box) -> Tensor`), and `infer_schema`, which writes one from
a function's type hints with PyTorch's rules and messages.

autodiff runs no dispatcher, so a schema is read for what a call needs: which arguments there
are (positional, keyword-only, defaults), which are Tensors, which the op writes (`Tensor(a!)`),
and what it returns.
"""

from __future__ import annotations

import collections.abc
import inspect
import typing
from dataclasses import dataclass
from types import GenericAlias
from typing import Any

from backends import Device

from .. import dtypes
from ..tensor import Tensor

_NO_DEFAULT = object()


@dataclass(frozen=True)
class AliasInfo:
    """`(a!)`: the alias set's name and whether the op writes through it."""

    name: str
    is_write: bool


@dataclass(frozen=True)
class Argument:
    """One argument (or return) of a schema."""

    name: str
    type: str  # the schema's type without the alias: "Tensor", "Tensor?", "SymInt[]", ...
    alias_info: AliasInfo | None = None
    kwarg_only: bool = False
    default_text: str | None = None

    @property
    def has_default(self) -> bool:
        return self.default_text is not None

    @property
    def default_value(self) -> Any:
        return _parse_default(self.default_text or "None")

    @property
    def is_tensor(self) -> bool:
        """A Tensor, an optional Tensor, or a list of (optional) Tensors."""
        return self.type.startswith("Tensor")

    @property
    def is_write(self) -> bool:
        return self.alias_info is not None and self.alias_info.is_write

    def __str__(self) -> str:
        text = self.type
        if self.alias_info is not None:
            mark = f"({self.alias_info.name}{'!' if self.alias_info.is_write else ''})"
            text = f"Tensor{mark}{self.type[len('Tensor'):]}"
        if self.name:
            text = f"{text} {self.name}"
        if self.default_text is not None:
            text = f"{text}={self.default_text}"
        return text


@dataclass(frozen=True)
class FunctionSchema:
    """A parsed schema: `name` is qualified (`mylib::crop`), `overload_name` may be ""."""

    name: str
    overload_name: str
    arguments: tuple[Argument, ...]
    returns: tuple[Argument, ...]
    returns_text: str

    @property
    def is_mutable(self) -> bool:
        return any(argument.is_write for argument in self.arguments)

    def __str__(self) -> str:
        name = f"{self.name}.{self.overload_name}" if self.overload_name else self.name
        parts: list[str] = []
        for argument in self.arguments:
            if argument.kwarg_only and "*" not in parts:
                parts.append("*")
            parts.append(str(argument))
        return f"{name}({', '.join(parts)}) -> {self.returns_text}"

    def __repr__(self) -> str:
        return str(self)


def parse_schema(text: str) -> FunctionSchema:
    """`name[.overload](arguments) -> returns`, as `torch._C.parse_schema` reads it."""
    open_at = text.find("(")
    if open_at <= 0:
        raise RuntimeError(f"Expected a schema like 'name(Tensor x) -> Tensor', got {text!r}")
    close_at = _matching(text, open_at)
    name, _, overload = text[:open_at].strip().partition(".")
    rest = text[close_at + 1:].strip()
    if not rest.startswith("->"):
        raise RuntimeError(f"Expected '->' after the arguments in schema {text!r}")
    returns_text = rest[2:].strip()
    arguments = []
    kwarg_only = False
    for part in _split(text[open_at + 1:close_at]):
        if part == "*":
            kwarg_only = True
            continue
        arguments.append(_argument(part, kwarg_only, text))
    return FunctionSchema(name, overload, tuple(arguments), _returns(returns_text, text),
                          returns_text)


def _matching(text: str, open_at: int) -> int:
    depth = 0
    for index in range(open_at, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    raise RuntimeError(f"Unbalanced parentheses in schema {text!r}")


def _split(text: str) -> list[str]:
    """Comma-separated parts at depth 0 (a type's `(a!)` and a list default stay whole)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    last = text[start:].strip()
    if last:
        parts.append(last)
    return parts


def _type_and_alias(text: str) -> tuple[str, AliasInfo | None]:
    if not text.startswith("Tensor(") or text.startswith("Tensor()"):
        return text, None
    close = text.index(")")
    mark = text[len("Tensor("):close]
    alias = AliasInfo(mark.rstrip("!"), mark.endswith("!"))
    return "Tensor" + text[close + 1:], alias


def _argument(text: str, kwarg_only: bool, schema: str) -> Argument:
    declaration, _, default = text.partition("=")
    words = declaration.rsplit(None, 1)
    if len(words) != 2:
        raise RuntimeError(f"Expected 'Type name' for an argument of schema {schema!r}, got "
                           f"{text!r}")
    type_text, alias = _type_and_alias(words[0].strip())
    return Argument(words[1], type_text, alias, kwarg_only, default.strip() or None)


def _returns(text: str, schema: str) -> tuple[Argument, ...]:
    if text.startswith("("):
        inner = text[1:_matching(text, 0)]
        parts = _split(inner)
    else:
        parts = [text]
    returns = []
    for part in parts:
        words = part.split()
        type_text, alias = _type_and_alias(words[0].strip("()"))
        returns.append(Argument(words[1] if len(words) > 1 else "", type_text, alias))
    return tuple(returns)


def _parse_default(text: str) -> Any:
    if text == "None":
        return None
    if text in ("True", "False"):
        return text == "True"
    if text.startswith(("'", '"')):
        return text[1:-1]
    if text.startswith("["):
        return [_parse_default(item) for item in _split(text[1:-1])]
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    found = getattr(dtypes, text, None)
    return found if isinstance(found, dtypes.dtype) else text


# ----------------------------------------------------------------------------- inference
def _derived(base: Any, name: str, list_base: bool, optional_base_list: bool,
             optional_list_base: bool) -> list[tuple[Any, str]]:
    """A base type, its Optional and, as PyTorch allows, its sequences."""
    result: list[tuple[Any, str]] = [(base, name), (typing.Optional[base], f"{name}?")]  # noqa: UP045

    def sequences(item: Any) -> tuple[Any, ...]:
        return (typing.Sequence[item], typing.List[item],  # noqa: UP006
                GenericAlias(collections.abc.Sequence, (item,)), GenericAlias(list, (item,)))

    if list_base:
        result.extend((kind, f"{name}[]") for kind in sequences(base))
    if optional_base_list:
        result.extend((kind, f"{name}?[]") for kind in sequences(typing.Optional[base]))  # noqa: UP045
    if optional_list_base:
        result.extend((typing.Optional[kind], f"{name}[]?")  # noqa: UP045
                      for kind in sequences(base))
    return result


_NUMBER = typing.Union[int, float, bool]  # noqa: UP007 (PyTorch's torch.types.Number)
SUPPORTED_PARAM_TYPES: dict[Any, str] = dict(
    item for line in (
        (Tensor, "Tensor", True, True, False),
        (int, "SymInt", True, False, True),
        (float, "float", True, False, True),
        (bool, "bool", True, False, True),
        (str, "str", False, False, False),
        (_NUMBER, "Scalar", True, False, False),
        (dtypes.dtype, "ScalarType", False, False, False),
        (Device, "Device", False, False, False),
    ) for item in _derived(*line))

SUPPORTED_RETURN_TYPES: dict[Any, str] = {
    Tensor: "Tensor", typing.List[Tensor]: "Tensor[]", list[Tensor]: "Tensor[]",  # noqa: UP006
    int: "SymInt", float: "float", bool: "bool", _NUMBER: "Scalar",
}


def infer_schema(prototype_function: Any, /, *, mutates_args: Any, op_name: str | None = None,
                 tags: Any = ()) -> str:
    """The schema of `prototype_function` from its type hints (torch.library.infer_schema):
    each parameter's type from `SUPPORTED_PARAM_TYPES`, `mutates_args` (names, or "unknown"
    for every Tensor) marked `Tensor(aN!)`, the return from `SUPPORTED_RETURN_TYPES`."""
    if tags:
        raise NotImplementedError("infer_schema: autodiff does not implement operator tags")
    signature = inspect.signature(prototype_function)
    globals_ = getattr(prototype_function, "__globals__", {})
    if type(mutates_args) is not str:
        mutates_args = tuple(mutates_args)

    def error(what: str) -> typing.NoReturn:
        raise ValueError(f"infer_schema(func): {what} Got func with signature {signature})")

    def resolve(annotation: Any) -> Any:
        if isinstance(annotation, str):
            try:
                return eval(annotation, globals_)
            except NameError as exc:
                error(f"Unsupported type annotation {annotation}. It is not a type. ({exc}). If "
                      "you are using 'from __future__ import annotations', note that "
                      "annotations are evaluated lazily as strings; make sure all types "
                      "referenced in annotations are importable at module scope, not only "
                      "inside a local function.")
            except Exception as exc:
                error(f"Unsupported type annotation {annotation}. It is not a type. "
                      f"({type(exc).__name__}: {exc})")
        origin = typing.get_origin(annotation)
        if origin is not None and any(isinstance(arg, str)
                                      for arg in typing.get_args(annotation)):
            return GenericAlias(origin, tuple(resolve(arg) for arg in
                                              typing.get_args(annotation)))
        return annotation

    params: list[str] = []
    seen: set[str] = set()
    saw_kwarg_only = False
    for index, (name, param) in enumerate(signature.parameters.items()):
        if param.kind not in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              inspect.Parameter.KEYWORD_ONLY):
            error("We do not support positional-only args, varargs, or varkwargs.")
        if param.kind == inspect.Parameter.KEYWORD_ONLY and not saw_kwarg_only:
            params.append("*")
            saw_kwarg_only = True
        if param.annotation is inspect.Parameter.empty:
            error(f"Parameter {name} must have a type annotation.")
        annotation = resolve(param.annotation)
        schema_type = SUPPORTED_PARAM_TYPES.get(annotation)
        if schema_type is None:
            if typing.get_origin(annotation) is tuple:
                items = typing.get_args(annotation)
                as_list = list[items[0]] if items else list  # type: ignore[valid-type]
                example = (f"For example, {as_list}.\n\n" if as_list in SUPPORTED_PARAM_TYPES
                           else "\n\n")
                error(f"Parameter {name} has unsupported type {param.annotation}. We do not "
                      "support Tuple inputs in schema. As a workaround, please try to use List "
                      f"instead. {example}The valid types are: {SUPPORTED_PARAM_TYPES.keys()}.")
            error(f"Parameter {name} has unsupported type {param.annotation}. The valid types "
                  f"are: {SUPPORTED_PARAM_TYPES.keys()}.")
        if type(mutates_args) is str:
            if mutates_args != "unknown":
                raise ValueError("mutates_args must either be a sequence of the names of the "
                                 "arguments that are mutated or the string 'unknown'. ")
            if schema_type.startswith("Tensor"):
                schema_type = f"Tensor(a{index}!){schema_type[len('Tensor'):]}"
        elif name in mutates_args:
            if not schema_type.startswith("Tensor"):
                error(f"Parameter {name} is in mutable_args but only Tensors or collections of "
                      "Tensors can be mutated")
            schema_type = f"Tensor(a{index}!){schema_type[len('Tensor'):]}"
        seen.add(name)
        if param.default is inspect.Parameter.empty:
            params.append(f"{schema_type} {name}")
            continue
        default = param.default
        if default is None or isinstance(default, (int, float, bool)):
            default_text = str(default)
        elif isinstance(default, (str, Device)):
            default_text = f'"{default}"'
        elif isinstance(default, dtypes.dtype):
            default_text = str(default).removeprefix("torch.")
        else:
            error(f"Parameter {name} has an unsupported default value type {type(default)}. "
                  "Please file an issue on GitHub so we can prioritize this.")
        params.append(f"{schema_type} {name}={default_text}")
    if mutates_args != "unknown":
        not_seen = set(mutates_args) - seen
        if not_seen:
            error(f"{not_seen} in mutates_args were not found in the custom op's signature. "
                  "mutates_args should contain the names of all args that the custom op "
                  "mutates, or just the string 'unknown' if you don't know.")
    returns = _parse_return(resolve(signature.return_annotation), error)
    arguments = ", ".join(params)
    return f"{op_name}({arguments}) -> {returns}" if op_name is not None \
        else f"({arguments}) -> {returns}"


def _parse_return(annotation: Any, error: Any) -> str:
    if annotation is None:
        return "()"
    if annotation is inspect.Parameter.empty:
        error("No return type annotation was provided. Please add one.")
    if typing.get_origin(annotation) is not tuple:
        if annotation not in SUPPORTED_RETURN_TYPES:
            error(f"Return has unsupported type {annotation}. The valid types are: "
                  f"{SUPPORTED_RETURN_TYPES}.")
        return SUPPORTED_RETURN_TYPES[annotation]
    arguments = typing.get_args(annotation)
    for argument in arguments:
        if argument not in SUPPORTED_RETURN_TYPES:
            error(f"Return has unsupported type {annotation}. The valid types are: "
                  f"{SUPPORTED_RETURN_TYPES}.")
    joined = ", ".join(SUPPORTED_RETURN_TYPES[argument] for argument in arguments)
    return f"(({joined}))" if len(arguments) == 1 else f"({joined})"
