"""The TorchScript types of a scripted module's plain attributes, and the check a new value
meets when one is set (PyTorch's "Could not cast attribute ..." RuntimeError).

A type is JSON, so that `save` writes it as it is: "int", "float", "bool", "str", "Tensor",
"NoneType", or {"List": t}, {"Dict": [k, v]}, {"Tuple": [t, ...]}, {"Optional": t}.
"""

from __future__ import annotations

import typing
from typing import Any, Union

from autodiff.tensor import Tensor

__all__ = ["attribute_type", "cast_attribute", "infer_type"]

_SCALARS: dict[type, str] = {bool: "bool", int: "int", float: "float", str: "str"}


def infer_type(value: Any) -> Any:
    """The type TorchScript infers for an attribute's value; None where it infers none
    (an empty container, an object of a class it does not know)."""
    if value is None:
        return "NoneType"
    if isinstance(value, Tensor):
        return "Tensor"
    if type(value) in _SCALARS:
        return _SCALARS[type(value)]
    if isinstance(value, (list, tuple, dict)) and not value:
        return None
    if type(value) is list:
        item_type = infer_type(value[0])
        same = all(infer_type(item) == item_type for item in value[1:])
        return {"List": item_type} if same and item_type is not None else None
    if type(value) is tuple:
        items = [infer_type(item) for item in value]
        return {"Tuple": items} if all(item is not None for item in items) else None
    if type(value) is dict:
        key_type = infer_type(next(iter(value)))
        value_type = infer_type(next(iter(value.values())))
        same = all(infer_type(key) == key_type and infer_type(item) == value_type
                   for key, item in value.items())
        if same and key_type in ("str", "int", "float", "Tensor") and value_type is not None:
            return {"Dict": [key_type, value_type]}
    return None


def attribute_type(annotation: Any) -> Any:
    """The type of a `jit.Attribute(value, annotation)`; None for an annotation it cannot
    read."""
    if annotation is type(None) or annotation is None:
        return "NoneType"
    if isinstance(annotation, type) and issubclass(annotation, Tensor):
        return "Tensor"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    inner = [attribute_type(argument) for argument in arguments]
    if any(item is None for item in inner):
        return None
    if origin is list and len(inner) == 1:
        return {"List": inner[0]}
    if origin is dict and len(inner) == 2:
        return {"Dict": inner}
    if origin is tuple and Ellipsis not in arguments:
        return {"Tuple": inner}
    if origin is Union and len(inner) == 2 and "NoneType" in inner:
        return {"Optional": next(item for item in inner if item != "NoneType")}
    return None


def type_name(kind: Any) -> str:
    """The type as PyTorch writes it (`List[int]`, `Dict[str, Tensor]`)."""
    if isinstance(kind, str):
        return kind
    ((container, inner),) = kind.items()
    if container in ("List", "Optional"):
        return f"{container}[{type_name(inner)}]"
    return f"{container}[{', '.join(type_name(item) for item in inner)}]"


class _CastError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _mismatch(value: Any) -> _CastError:
    return _CastError(f"Unable to cast Python instance of type {type(value)} to C++ type '?' "
                      "(#define PYBIND11_DETAILED_ERROR_MESSAGES or compile in debug mode for "
                      "details)")


def _cast(kind: Any, value: Any) -> Any:
    if kind == "Tensor":
        if not isinstance(value, Tensor):
            raise _CastError(f"Unable to cast {value} to Tensor")
        return value
    if kind == "NoneType":
        if value is not None:
            raise _CastError(f"Cannot cast {value} to None")
        return None
    if kind in ("int", "bool"):
        if not isinstance(value, int):
            raise _mismatch(value)
        return int(value) if kind == "int" else bool(value)
    if kind == "float":
        if not isinstance(value, (int, float)):
            raise _mismatch(value)
        return float(value)
    if kind == "str":
        if not isinstance(value, str):
            raise _mismatch(value)
        return value
    ((container, inner),) = kind.items()
    if container == "Optional":
        return None if value is None else _cast(inner, value)
    if container == "List":
        if not isinstance(value, (list, tuple)):
            raise _mismatch(value)
        try:
            return [_cast(inner, item) for item in value]
        except _CastError:
            if inner in ("int", "float", "bool"):  # (PyTorch names these lists, not items)
                raise _mismatch(value) from None
            raise
    if container == "Tuple":
        if not isinstance(value, (list, tuple)) or len(value) != len(inner):
            raise _mismatch(value)
        return tuple(_cast(item_kind, item) for item_kind, item in zip(inner, value,
                                                                         strict=True))
    if not isinstance(value, dict):
        raise _mismatch(value)
    return {_cast(inner[0], key): _cast(inner[1], item) for key, item in value.items()}


def cast_attribute(name: str, kind: Any, value: Any) -> Any:
    """`value` as the attribute's type (an int for a float attribute is a float), or
    PyTorch's RuntimeError where it is not of that type."""
    try:
        return _cast(kind, value)
    except _CastError as error:
        raise RuntimeError(f"Could not cast attribute '{name}' to type {type_name(kind)}: "
                           f"{error.reason}") from None
