"""Concater (`concat`), Zipper (`zip`), Multiplexer (`mux`)."""

from __future__ import annotations

from collections.abc import Iterator, Sized
from typing import Any

from .._decorator import functional_datapipe
from ..datapipe import IterDataPipe
from ..utils.common import _no_length

__all__ = ["ConcaterIterDataPipe", "MultiplexerIterDataPipe", "ZipperIterDataPipe"]


@functional_datapipe("concat")
class ConcaterIterDataPipe(IterDataPipe[Any]):
    """The DataPipes one after another."""

    def __init__(self, *datapipes: IterDataPipe[Any]) -> None:
        if len(datapipes) == 0:
            raise ValueError("Expected at least one DataPipe, but got nothing")
        if not all(isinstance(datapipe, IterDataPipe) for datapipe in datapipes):
            raise TypeError("Expected all inputs to be `IterDataPipe`")
        self.datapipes = datapipes

    def __iter__(self) -> Iterator[Any]:
        for datapipe in self.datapipes:
            yield from datapipe

    def __len__(self) -> int:
        if all(isinstance(datapipe, Sized) for datapipe in self.datapipes):
            return sum(len(datapipe) for datapipe in self.datapipes)
        raise _no_length(self)


@functional_datapipe("zip")
class ZipperIterDataPipe(IterDataPipe[tuple[Any, ...]]):
    """Tuples of one element of each DataPipe, until the shortest ends."""

    def __init__(self, *datapipes: IterDataPipe[Any]) -> None:
        if not all(isinstance(datapipe, IterDataPipe) for datapipe in datapipes):
            raise TypeError("All inputs are required to be `IterDataPipe` for `ZipIterDataPipe`.")
        self.datapipes = datapipes

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        yield from zip(*(iter(datapipe) for datapipe in self.datapipes))

    def __len__(self) -> int:
        if all(isinstance(datapipe, Sized) for datapipe in self.datapipes):
            return min(len(datapipe) for datapipe in self.datapipes)
        raise _no_length(self)


@functional_datapipe("mux")
class MultiplexerIterDataPipe(IterDataPipe[Any]):
    """One element of each DataPipe in turn, until the shortest ends (a round is yielded only
    when complete)."""

    def __init__(self, *datapipes: IterDataPipe[Any]) -> None:
        self.datapipes = datapipes
        self.buffer: list[Any] = []

    def __iter__(self) -> Iterator[Any]:
        iterators = [iter(datapipe) for datapipe in self.datapipes]
        while iterators:
            for iterator in iterators:
                try:
                    self.buffer.append(next(iterator))
                except StopIteration:
                    self.buffer.clear()
                    return
            yield from self.buffer
            self.buffer.clear()

    def __len__(self) -> int:
        if all(isinstance(datapipe, Sized) for datapipe in self.datapipes):
            return min(len(dp) for dp in self.datapipes) * len(self.datapipes)
        raise _no_length(self)

    def reset(self) -> None:
        self.buffer = []
