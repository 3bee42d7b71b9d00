"""Concater (`concat`) and Zipper (`zip`) of MapDataPipes."""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from .._decorator import functional_datapipe
from ..datapipe import MapDataPipe

__all__ = ["ConcaterMapDataPipe", "ZipperMapDataPipe"]


def _check_inputs(datapipes: tuple[Any, ...]) -> None:
    if len(datapipes) == 0:
        raise ValueError("Expected at least one DataPipe, but got nothing")
    if not all(isinstance(datapipe, MapDataPipe) for datapipe in datapipes):
        raise TypeError("Expected all inputs to be `MapDataPipe`")
    if not all(isinstance(datapipe, Sized) for datapipe in datapipes):
        raise TypeError("Expected all inputs to be `Sized`")


@functional_datapipe("concat")
class ConcaterMapDataPipe(MapDataPipe[Any]):
    """The DataPipes one after another: index `len(a)` is `b[0]`."""

    def __init__(self, *datapipes: MapDataPipe[Any]) -> None:
        _check_inputs(datapipes)
        self.datapipes = datapipes

    def __getitem__(self, index: int) -> Any:
        offset = 0
        for datapipe in self.datapipes:
            if index - offset < len(datapipe):
                return datapipe[index - offset]
            offset += len(datapipe)
        raise IndexError(f"Index {index} is out of range.")

    def __len__(self) -> int:
        return sum(len(datapipe) for datapipe in self.datapipes)


@functional_datapipe("zip")
class ZipperMapDataPipe(MapDataPipe[tuple[Any, ...]]):
    """`dp[i]` is the tuple of every DataPipe's element `i`; as long as the shortest."""

    def __init__(self, *datapipes: MapDataPipe[Any]) -> None:
        _check_inputs(datapipes)
        self.datapipes = datapipes

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        items = []
        for datapipe in self.datapipes:
            try:
                items.append(datapipe[index])
            except IndexError as error:
                raise IndexError(f"Index {index} is out of range for one of the input "
                                 f"MapDataPipes {datapipe}.") from error
        return tuple(items)

    def __len__(self) -> int:
        return min(len(datapipe) for datapipe in self.datapipes)
