"""What the windowed families (convolution, pooling, unfold/fold) share: a padded copy of an
array and the (before, after) padding of each spatial dim."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backends import Backend

Pairs = tuple[tuple[int, int], ...]


def symmetric(padding: Sequence[int]) -> Pairs:
    """(p, p) for each spatial dim."""
    return tuple((int(p), int(p)) for p in padding)


def pad_array(backend: Backend, array: Any, padding: Pairs, value: Any = 0) -> Any:
    """`array` with its trailing len(padding) dims padded by `value` (the array itself when
    there is nothing to pad)."""
    if not any(before or after for before, after in padding):
        return array
    lead = array.ndim - len(padding)
    shape = (*array.shape[:lead],
             *(size + before + after for size, (before, after) in
               zip(array.shape[lead:], padding)))
    out = backend.full(shape, value, backend.dtype_name(array))
    backend.setitem(out, interior(padding, array.shape[lead:]), array)
    return out


def interior(padding: Pairs, spatial: Sequence[int]) -> tuple[Any, ...]:
    """The key of the unpadded region inside a padded array."""
    return (..., *(slice(before, before + size) for (before, _), size in zip(padding, spatial)))


def crop(backend: Backend, array: Any, padding: Pairs, spatial: Sequence[int]) -> Any:
    """The region of `array` that `pad_array` filled from an array of shape `spatial`."""
    if not any(before or after for before, after in padding) and \
            tuple(array.shape[array.ndim - len(spatial):]) == tuple(spatial):
        return array
    return backend.getitem(array, interior(padding, spatial))
