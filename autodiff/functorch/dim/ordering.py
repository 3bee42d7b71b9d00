"""`order`: first-class dims made positional again (the way back to a plain tensor)."""

from __future__ import annotations

import math
from typing import Any

from .dims import DimList
from .levels import find, is_positional, match_levels, ndim_of
from .tensor import Dim, _Tensor, from_positional, has_device


def _entry(item: Any, ndim: int) -> Any:
    """A Dim or a position as a level; None for anything else."""
    if isinstance(item, Dim):
        return item
    if isinstance(item, int) and not isinstance(item, bool):
        return item if item < 0 else item - ndim
    return None


def order(tensor: Any, *dims: Any) -> Any:
    """`tensor` with `dims` moved, in this order, in front of its remaining positional dims
    (at the place of the first of those); a sequence in `dims` becomes one flattened dim."""
    if not isinstance(tensor, _Tensor):
        raise ValueError("First argument must be a Tensor or Dim object")
    physical, original = tensor._physical(), tensor._levels()
    levels: list[Any] = list(original)
    ndim = ndim_of(levels)
    picked: list[Any] = []
    groups: list[int] = []  # how many picked levels each new positional dim holds

    def take(level: Any) -> None:
        index = find(levels, level)
        if index is None:
            if is_positional(level):
                raise ValueError(f"tensor has {ndim} positional dimensions, but "
                                 f"{level + ndim} specified, or it was specified twice")
            raise ValueError(f"tensor does not contain dim {level!r} or it was specified twice")
        levels[index] = None
        picked.append(level)

    for arg in dims:
        level = _entry(arg, ndim)
        if level is not None:
            take(level)
            groups.append(1)
        elif isinstance(arg, DimList):
            for dim in arg._dims:
                take(dim)
                groups.append(1)
        else:
            if not hasattr(arg, "__iter__"):
                raise ValueError("expected a Dim, List[Dim], or Sequence[Dim]")
            items = list(arg)
            for item in items:
                level = _entry(item, ndim)
                if level is None:
                    raise ValueError("expected a Dim or int")
                take(level)
            groups.append(len(items))
    new_levels: list[Any] = []
    insert = -1
    for level in levels:
        if level is None:
            continue
        if is_positional(level) and insert == -1:
            insert = len(new_levels)
            new_levels.extend(picked)
        new_levels.append(level)
    if insert == -1:
        insert = len(new_levels)
        new_levels.extend(picked)
    data = match_levels(physical, original, new_levels)
    if any(group != 1 for group in groups):
        sizes = list(data.shape)
        shape = sizes[:insert]
        start = insert
        for group in groups:
            shape.append(math.prod(sizes[start:start + group]))
            start += group
        shape.extend(sizes[start:])
        data = data.reshape(shape)
    # the picked levels become positional ones, numbered with the rest from the right
    result_levels = new_levels[:insert] + [-1] * len(groups) + new_levels[insert + len(picked):]
    seen = 0
    for index in range(len(result_levels) - 1, -1, -1):
        if is_positional(result_levels[index]):
            seen -= 1
            result_levels[index] = seen
    return from_positional(data, result_levels, has_device(tensor))
