"""Mapper (`map`) and Collator (`collate`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sized
from typing import Any

from ..._utils.collate import default_collate
from .._decorator import functional_datapipe
from ..datapipe import IterDataPipe
from ..utils.common import _check_unpickable_fn, _no_length, validate_input_col

__all__ = ["CollatorIterDataPipe", "MapperIterDataPipe"]


@functional_datapipe("map")
class MapperIterDataPipe(IterDataPipe[Any]):
    """`fn` applied to each element; with `input_col`, to those columns of it (one index or
    key, or several passed as arguments), the result replacing the first of them, or written to
    `output_col` (-1: appended)."""

    def __init__(self, datapipe: IterDataPipe[Any], fn: Callable[..., Any],
                 input_col: Any = None, output_col: Any = None) -> None:
        self.datapipe = datapipe
        _check_unpickable_fn(fn)
        self.fn = fn
        self.input_col = input_col
        if input_col is None and output_col is not None:
            raise ValueError("`output_col` must be None when `input_col` is None.")
        if isinstance(output_col, (list, tuple)):
            if len(output_col) > 1:
                raise ValueError("`output_col` must be a single-element list or tuple")
            output_col = output_col[0]
        self.output_col = output_col
        validate_input_col(fn, input_col)

    def _apply_fn(self, data: Any) -> Any:
        if self.input_col is None and self.output_col is None:
            return self.fn(data)
        if self.input_col is None:
            result = self.fn(data)
        elif isinstance(self.input_col, (list, tuple)):
            result = self.fn(*(data[column] for column in self.input_col))
        else:
            result = self.fn(data[self.input_col])
        was_tuple = isinstance(data, tuple)
        if was_tuple:
            data = list(data)
        if self.output_col is None:
            if isinstance(self.input_col, (list, tuple)):
                data[self.input_col[0]] = result
                for index in sorted(self.input_col[1:], reverse=True):
                    del data[index]
            else:
                data[self.input_col] = result
        elif self.output_col == -1:
            data.append(result)
        else:
            data[self.output_col] = result
        return tuple(data) if was_tuple else data

    def __iter__(self) -> Iterator[Any]:
        for data in self.datapipe:
            yield self._apply_fn(data)

    def __len__(self) -> int:
        if isinstance(self.datapipe, Sized):
            return len(self.datapipe)
        raise _no_length(self)


@functional_datapipe("collate")
class CollatorIterDataPipe(MapperIterDataPipe):
    """Each element (usually a batch) through `collate_fn` (default: default_collate)."""

    def __init__(self, datapipe: IterDataPipe[Any],
                 conversion: Callable[..., Any] | dict[Any, Any] | None = default_collate,
                 collate_fn: Callable[..., Any] | None = None) -> None:
        if collate_fn is not None:
            super().__init__(datapipe, fn=collate_fn)
        elif callable(conversion):
            super().__init__(datapipe, fn=conversion)
        else:
            # PyTorch collates DataFrame batches by column here (through TorchArrow).
            raise RuntimeError(
                "Collator with a dict of per-column conversions collates DataFrames, which "
                "autodiff does not have: pass a callable (or collate_fn)")
