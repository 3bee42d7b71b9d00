"""Named tuples returned by ops with several results, like `torch.return_types`: `x.max(dim)`
gives `max(values=..., indices=...)`, a tuple that also has `.values` and `.indices`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar


class _ReturnType(tuple):
    """A tuple with named fields, printed as PyTorch prints its return types."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __new__(cls, sequence: Iterable[Any]) -> _ReturnType:
        items = tuple(sequence)
        if len(items) != len(cls._fields):
            raise TypeError(
                f"torch.return_types.{cls.__name__} takes a {len(cls._fields)}-sequence "
                f"({len(items)}-sequence given)"
            )
        return tuple.__new__(cls, items)

    @property
    def n_fields(self) -> int:
        return len(self._fields)

    n_sequence_fields = n_fields

    def __repr__(self) -> str:
        fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{fields})"


def _values_indices(name: str) -> type[_ReturnType]:
    namespace = {
        "__slots__": (),
        "_fields": ("values", "indices"),
        "values": property(lambda self: self[0], doc="the selected values"),
        "indices": property(lambda self: self[1], doc="where they are along the dim"),
        "__module__": __name__,
    }
    return type(name, (_ReturnType,), namespace)


def _named(name: str, fields: tuple[str, ...]) -> type[_ReturnType]:
    namespace: dict[str, Any] = {"__slots__": (), "_fields": fields, "__module__": __name__}
    for index, field in enumerate(fields):
        namespace[field] = property(_item(index))
    return type(name, (_ReturnType,), namespace)


def _item(index: int) -> Any:
    return lambda self: self[index]


frexp = _named("frexp", ("mantissa", "exponent"))

max = _values_indices("max")
min = _values_indices("min")

__all__ = ["frexp", "max", "min"]
