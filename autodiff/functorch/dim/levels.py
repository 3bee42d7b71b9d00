"""The levels of a first-class tensor: one entry per dim of its physical tensor, either a `Dim`
(a first-class dim, matched by identity) or a negative int (a positional dim, counted from the
right: -1 is the last). The helpers here compare, find and line up levels; they know nothing of
how a tensor got them."""

from __future__ import annotations

from typing import Any


class DimensionBindError(Exception):
    """A dim bound to one size and used with another, or sizes that cannot be inferred."""


class DimensionMismatchError(Exception):
    pass


def is_positional(level: Any) -> bool:
    return type(level) is int


def same(a: Any, b: Any) -> bool:
    """Two levels are one: the same Dim object, or the same position. (Never `==` on a Dim:
    that is an elementwise comparison of its range.)"""
    if type(a) is int:
        return type(b) is int and a == b
    return a is b


def find(levels: list[Any], level: Any) -> int | None:
    for index, entry in enumerate(levels):
        if same(entry, level):
            return index
    return None


def contains(levels: list[Any], level: Any) -> bool:
    return find(levels, level) is not None


def union(into: list[Any], levels: list[Any]) -> None:
    """Append to `into` the levels it lacks, in their order."""
    for level in levels:
        if not contains(into, level):
            into.append(level)


def ndim_of(levels: list[Any]) -> int:
    return sum(1 for level in levels if type(level) is int)


def renumber(levels: list[Any]) -> list[Any]:
    """The positional levels numbered from the right again (-1 last), others kept."""
    out = list(levels)
    seen = 0
    for index in range(len(out) - 1, -1, -1):
        if type(out[index]) is int:
            seen -= 1
            out[index] = seen
    return out


def match_levels(tensor: Any, from_levels: list[Any], to_levels: list[Any],
                 expand: bool = False) -> Any:
    """`tensor` (whose dims are `from_levels`) with its dims moved to the order of `to_levels`;
    a level it lacks becomes a dim of size 1 (broadcasting), or, with `expand`, a first-class
    dim's full size (a stride-0 view)."""
    if len(from_levels) == len(to_levels) and all(map(same, from_levels, to_levels)):
        return tensor
    order = []
    shape = []
    sizes = []
    physical = tensor.shape
    for level in to_levels:
        index = find(from_levels, level)
        if index is None:
            shape.append(1)
            sizes.append(level.size if expand and type(level) is not int else 1)
        else:
            order.append(index)
            shape.append(physical[index])
            sizes.append(physical[index])
    if len(order) != len(from_levels):
        raise AssertionError("Cannot expand dimensions without drop_levels")
    if order != list(range(len(order))):
        tensor = tensor.permute(order)
    if len(shape) != len(order):
        tensor = tensor.reshape(shape)
    if sizes != shape:
        tensor = tensor.expand(sizes)
    return tensor


def wrap_position(position: int, ndim: int) -> int:
    """A dim number as a positional level. As functorch.dim does, a non-negative number is
    wrapped by the number of positional dims until it is negative (so on a tensor of 2
    positional dims, 2 means dim 0)."""
    while position >= 0:
        position -= ndim
        if ndim <= 0:
            break
    return position
