"""Decorators and switches for DataPipes (torch.utils.data.datapipes._decorator)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any, get_args, get_origin, get_type_hints

from ._typing import _DataPipeMeta, _DataPipeType
from .datapipe import IterDataPipe, MapDataPipe

__all__ = [
    "argument_validation", "functional_datapipe", "guaranteed_datapipes_determinism",
    "non_deterministic", "runtime_validation", "runtime_validation_disabled",
]


class functional_datapipe:
    """Class decorator: register a DataPipe class under `name` as a method of every DataPipe
    of its kind (`@functional_datapipe("map")` makes `dp.map(fn)` mean `Mapper(dp, fn)`)."""

    name: str

    def __init__(self, name: str, enable_df_api_tracing: bool = False) -> None:
        self.name = name
        self.enable_df_api_tracing = enable_df_api_tracing

    def __call__(self, cls: Any) -> Any:
        if issubclass(cls, IterDataPipe):
            if isinstance(cls, type):
                if not isinstance(cls, _DataPipeMeta):
                    raise TypeError("`functional_datapipe` can only decorate IterDataPipe")
            elif not isinstance(cls, non_deterministic) and not (
                    hasattr(cls, "__self__") and isinstance(cls.__self__, non_deterministic)):
                raise TypeError("`functional_datapipe` can only decorate IterDataPipe")
            IterDataPipe.register_datapipe_as_function(
                self.name, cls, enable_df_api_tracing=self.enable_df_api_tracing)
        elif issubclass(cls, MapDataPipe):
            MapDataPipe.register_datapipe_as_function(self.name, cls)
        return cls


_determinism: bool = False


class guaranteed_datapipes_determinism:
    """Inside this context (from its construction to its exit), making a DataPipe marked
    `non_deterministic` raises TypeError."""

    prev: bool

    def __init__(self) -> None:
        global _determinism
        self.prev = _determinism
        _determinism = True

    def __enter__(self) -> None:
        pass

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        global _determinism
        _determinism = self.prev


class non_deterministic:
    """Mark an IterDataPipe class as non-deterministic (always), or, decorating a function
    `deterministic_fn(*args) -> bool` and then the class, when that function says so for the
    constructor's arguments. Under `guaranteed_datapipes_determinism` such DataPipes cannot be
    made."""

    cls: type[IterDataPipe[Any]] | None = None
    deterministic_fn: Callable[..., bool]

    def __init__(self, arg: type[IterDataPipe[Any]] | Callable[..., bool]) -> None:
        if isinstance(arg, type):
            if not issubclass(arg, IterDataPipe):
                raise TypeError("Only `IterDataPipe` can be decorated with `non_deterministic`"
                                f", but {arg.__name__} is found")
            self.cls = arg
        elif callable(arg):
            self.deterministic_fn = arg
        else:
            raise TypeError(f"{arg} can not be decorated by non_deterministic")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.cls is not None:  # decorated a class: this call makes an instance
            if _determinism:
                raise TypeError(
                    f"{self.cls.__name__} is non-deterministic, but you set "
                    "'guaranteed_datapipes_determinism'. You can turn off determinism for this "
                    "DataPipe if that is acceptable for your application")
            return self.cls(*args, **kwargs)
        # Decorated a function: this call decorates the class.
        if not (isinstance(args[0], type) and issubclass(args[0], IterDataPipe)):
            raise TypeError(
                f"Only `IterDataPipe` can be decorated, but {args[0].__name__} is found")
        self.cls = args[0]
        return self.deterministic_wrapper_fn

    def deterministic_wrapper_fn(self, *args: Any, **kwargs: Any) -> IterDataPipe[Any]:
        result = self.deterministic_fn(*args, **kwargs)
        if not isinstance(result, bool):
            raise TypeError("deterministic_fn of `non_deterministic` decorator is required to "
                            f"return a boolean value, but {type(result)} is found")
        assert self.cls is not None
        if _determinism and result:
            raise TypeError(
                f"{self.cls.__name__} is non-deterministic with the inputs, but you set "
                "'guaranteed_datapipes_determinism'. You can turn off determinism for this "
                "DataPipe if that is acceptable for your application")
        return self.cls(*args, **kwargs)


def _datapipe_hint(hint: Any) -> Any:
    """The DataPipe class a hint names (`IterDataPipe` or `IterDataPipe[int]`), or None."""
    if isinstance(hint, _DataPipeMeta):
        return hint
    origin = get_origin(hint)
    return origin if isinstance(origin, _DataPipeMeta) else None


def argument_validation(f: Callable[..., Any]) -> Callable[..., Any]:
    """Check, at each call, that arguments annotated as DataPipes are IterDataPipes whose
    element type fits the annotation's (`IterDataPipe[int]` accepts an IterDataPipe of int)."""
    signature = inspect.signature(f)
    hints = get_type_hints(f)

    @wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        for name, value in bound.arguments.items():
            hint = hints.get(name)
            datapipe_class = _datapipe_hint(hint)
            if datapipe_class is None:
                continue
            if not isinstance(value, IterDataPipe):
                raise TypeError(
                    f"Expected argument '{name}' as a IterDataPipe, but found {type(value)}")
            parameters = get_args(hint)
            hint_type = _DataPipeType(parameters[0]) if parameters else datapipe_class.type
            if not value.type.issubtype(hint_type):
                raise TypeError(f"Expected type of argument '{name}' as a subtype of hint "
                                f"{hint_type}, but found {value.type}")
        return f(*args, **kwargs)

    return wrapper


_runtime_validation_enabled: bool = True


class runtime_validation_disabled:
    """Inside this context (from its construction to its exit), `runtime_validation` does not
    check elements."""

    prev: bool

    def __init__(self) -> None:
        global _runtime_validation_enabled
        self.prev = _runtime_validation_enabled
        _runtime_validation_enabled = False

    def __enter__(self) -> None:
        pass

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        global _runtime_validation_enabled
        _runtime_validation_enabled = self.prev


def runtime_validation(f: Callable[[Any], Iterator[Any]]) -> Callable[[Any], Iterator[Any]]:
    """Decorate an IterDataPipe's `__iter__`: every element it yields must be an instance of
    the DataPipe's element type, or RuntimeError."""
    if f.__name__ != "__iter__":
        raise TypeError(f"Can not decorate function {f.__name__} with 'runtime_validation'")

    @wraps(f)
    def wrapper(self: Any) -> Iterator[Any]:
        if not _runtime_validation_enabled:
            yield from f(self)
            return
        for item in f(self):
            if not self.type.issubtype_of_instance(item):
                raise RuntimeError(f"Expected an instance as subtype of {self.type}, but found "
                                   f"{item}({type(item)})")
            yield item

    return wrapper
