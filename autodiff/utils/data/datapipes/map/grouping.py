"""Batcher (`batch`) of a MapDataPipe."""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from .._decorator import functional_datapipe
from ..datapipe import DataChunk, MapDataPipe
from ..utils.common import _no_length

__all__ = ["BatcherMapDataPipe"]


@functional_datapipe("batch")
class BatcherMapDataPipe(MapDataPipe[DataChunk[Any]]):
    """`dp[i]` is the DataChunk of elements `i * batch_size` to `(i + 1) * batch_size - 1`
    (the last one shorter unless `drop_last`)."""

    def __init__(self, datapipe: MapDataPipe[Any], batch_size: int, drop_last: bool = False,
                 wrapper_class: type[DataChunk[Any]] = DataChunk) -> None:
        if batch_size <= 0:
            raise AssertionError("Batch size is required to be larger than 0!")
        self.datapipe = datapipe
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.wrapper_class = wrapper_class

    def __getitem__(self, index: int) -> DataChunk[Any]:
        batch: list[Any] = []
        try:
            batch.extend(self.datapipe[i] for i in range(index * self.batch_size,
                                                         (index + 1) * self.batch_size))
            return self.wrapper_class(batch)
        except IndexError as error:
            if not self.drop_last and batch:
                return self.wrapper_class(batch)
            raise IndexError(f"Index {index} is out of bound.") from error

    def __len__(self) -> int:
        if isinstance(self.datapipe, Sized):
            if self.drop_last:
                return len(self.datapipe) // self.batch_size
            return (len(self.datapipe) + self.batch_size - 1) // self.batch_size
        raise _no_length(self)
