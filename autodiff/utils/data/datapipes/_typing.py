"""The metaclasses of DataPipes (torch.utils.data.datapipes._typing) and the element types
`runtime_validation` and `argument_validation` check.

`_IterDataPipeMeta` wraps each IterDataPipe class's `__iter__` (see `_hook_iterator`) and
`reset`. A DataPipe's element type is the parameter it was declared with
(`class Squares(IterDataPipe[int])` has `Squares.type == int`), else its base's, else Any.
PyTorch 2.13 declares the same idea, but its code that would set `type` is unreachable, so its
`runtime_validation` fails on any DataPipe; here the declared type is honoured.
"""

from __future__ import annotations

import builtins
import functools
import numbers
from abc import ABCMeta
from typing import Any, TypeVar, Union, get_args, get_origin

from ._hook_iterator import _SnapshotState, hook_iterator


class _Integer(numbers.Integral):  # what `int` means here: bool is not one
    pass


class _Boolean(numbers.Integral):
    pass


_TYPE_TO_ABC: dict[Any, Any] = {
    bool: _Boolean, int: _Integer, float: numbers.Real, complex: numbers.Complex,
    dict: dict, list: list, set: set, tuple: tuple, None: type(None),
}


def _decompose(t: Any) -> list[Any] | None:
    """The alternatives of a Union or a constrained/bounded TypeVar, else None."""
    if isinstance(t, TypeVar):
        return [t.__bound__] if t.__bound__ is not None else list(t.__constraints__)
    if get_origin(t) is Union:
        return list(get_args(t))
    return None


def issubtype(left: Any, right: Any, recursive: bool = True) -> bool:
    """Whether every value of type `left` is a value of type `right` (Unions, TypeVars and
    generic parameters included)."""
    left = _TYPE_TO_ABC.get(left, left)
    right = _TYPE_TO_ABC.get(right, right)
    if right is Any or left == right:
        return True
    if right is type(None):
        return False
    constraints = _decompose(right)
    if constraints is None:
        constraints = [right]
    if not constraints or Any in constraints:
        return True
    if left is Any:
        return False
    variants = _decompose(left)
    if variants is None:
        variants = [left]
    if not variants:
        return False
    return all(_issubtype_with_constraints(variant, constraints, recursive)
               for variant in variants)


def _issubtype_with_constraints(variant: Any, constraints: list[Any], recursive: bool) -> bool:
    variant = _TYPE_TO_ABC.get(variant, variant)
    constraints = [_TYPE_TO_ABC.get(c, c) for c in constraints]
    if variant in constraints:
        return True
    parts = _decompose(variant)
    if parts is not None:
        return all(_issubtype_with_constraints(part, constraints, recursive) for part in parts)
    v_origin = get_origin(variant) or variant
    v_args = get_args(variant) or None
    for constraint in constraints:
        inner = _decompose(constraint)
        if inner is not None:
            if _issubtype_with_constraints(variant, inner, recursive):
                return True
            continue
        c_origin = get_origin(constraint)
        if c_origin is not None:
            if v_origin == c_origin:
                c_args = get_args(constraint) or None
                if not recursive or not c_args:
                    return True
                if v_args is not None and len(v_args) == len(c_args) and all(
                        issubtype(v, c) for v, c in zip(v_args, c_args)):
                    return True
        elif v_origin == constraint or (isinstance(v_origin, type) and isinstance(constraint, type)
                                         and issubclass(v_origin, constraint)):
            return True
    return False


def issubinstance(data: Any, data_type: Any) -> bool:
    """Whether the value `data` is of type `data_type`, looking inside tuples, lists, sets and
    dicts when the type has parameters."""
    if not issubtype(type(data), data_type, recursive=False):
        return False
    args = get_args(data_type) or None
    if isinstance(data, tuple):
        if not args:
            return True
        if len(args) == 2 and args[1] is Ellipsis:
            return all(issubinstance(item, args[0]) for item in data)
        return len(args) == len(data) and all(issubinstance(d, t) for d, t in zip(data, args))
    if isinstance(data, (list, set)):
        return not args or all(issubinstance(item, args[0]) for item in data)
    if isinstance(data, dict):
        return not args or all(issubinstance(k, args[0]) and issubinstance(v, args[1])
                               for k, v in data.items())
    return True


class _DataPipeType:
    """An element type (the annotation in `param`)."""

    def __init__(self, param: Any) -> None:
        self.param = param

    def __repr__(self) -> str:
        param = self.param
        if isinstance(param, type) and get_origin(param) is None:
            return param.__name__ if param.__module__ == "builtins" else \
                f"{param.__module__}.{param.__qualname__}"
        return repr(param).replace("typing.", "")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _DataPipeType):
            return bool(self.param == other.param)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.param)

    def issubtype(self, other: Any) -> bool:
        if isinstance(other, _DataPipeType):
            return issubtype(self.param, other.param)
        if isinstance(other, type):
            return issubtype(self.param, other)
        raise TypeError(f"Expected '_DataPipeType' or 'type', but found {type(other)}")

    def issubtype_of_instance(self, other: Any) -> bool:
        return issubinstance(other, self.param)


_ANY_TYPE = _DataPipeType(Any)


def _declared_type(cls: type) -> _DataPipeType:
    for base in getattr(cls, "__orig_bases__", ()):
        origin = get_origin(base)
        if isinstance(origin, _DataPipeMeta):
            args = get_args(base)
            if args and not isinstance(args[0], TypeVar):
                return _DataPipeType(args[0])
    for base in cls.__mro__[1:]:
        declared = base.__dict__.get("type")
        if isinstance(declared, _DataPipeType):
            return declared
    return _ANY_TYPE


class _DataPipeMeta(ABCMeta):
    """Metaclass of DataPipes: gives each class its element `type`."""

    type: _DataPipeType

    def __new__(mcs, name: str, bases: tuple[builtins.type, ...], namespace: dict[str, Any],
                **kwargs: Any) -> Any:
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if "type" not in namespace:
            cls.type = _declared_type(cls)
        return cls


class _IterDataPipeMeta(_DataPipeMeta):
    """Metaclass of IterDataPipes: hooks `__iter__` and makes `reset` run only when a new
    iterator should start from scratch (not right after a state was restored)."""

    def __new__(mcs, name: str, bases: tuple[builtins.type, ...], namespace: dict[str, Any],
                **kwargs: Any) -> Any:
        if "reset" in namespace:
            reset_function = namespace["reset"]

            @functools.wraps(reset_function)
            def conditional_reset(*args: Any, **kwargs: Any) -> None:
                datapipe = args[0]
                if datapipe._snapshot_state in (_SnapshotState.Iterating,
                                                _SnapshotState.NotStarted):
                    datapipe._number_of_samples_yielded = 0
                    datapipe._fast_forward_iterator = None
                    reset_function(*args, **kwargs)
                datapipe._snapshot_state = _SnapshotState.Iterating

            namespace["reset"] = conditional_reset
        if "__iter__" in namespace:
            hook_iterator(namespace)
        return super().__new__(mcs, name, bases, namespace, **kwargs)
