"""IterableWrapper: any iterable as an IterDataPipe."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sized
from typing import Any

from .....user_warnings import warn
from ..datapipe import IterDataPipe
from ..utils.common import _no_length

__all__ = ["IterableWrapperIterDataPipe"]


class IterableWrapperIterDataPipe(IterDataPipe[Any]):
    """Yields the items of `iterable`, a deep copy of it per iteration unless
    `deepcopy=False` (so in-place changes downstream do not reach the source)."""

    def __init__(self, iterable: Iterable[Any], deepcopy: bool = True) -> None:
        self.iterable = iterable
        self.deepcopy = deepcopy

    def __iter__(self) -> Iterator[Any]:
        source = self.iterable
        if self.deepcopy:
            try:
                source = copy.deepcopy(self.iterable)
            except TypeError:
                warn("The input iterable can not be deepcopied, please be aware of "
                     "in-place modification would affect source data.", stacklevel=2)
        yield from source

    def __len__(self) -> int:
        if isinstance(self.iterable, Sized):
            return len(self.iterable)
        raise _no_length(self)
