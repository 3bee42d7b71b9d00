"""Fetchers (torch.utils.data._utils.fetch): one batch (or one sample) from a dataset, the same
in the main process and in a worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ....grad_mode import state as grad_state
from ..dataset import Subset, TensorDataset
from .collate import default_collate


class _DatasetKind:
    """Map-style (indexed) or iterable-style (a stream) dataset, and the fetcher for each."""

    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind: int, dataset: Any, auto_collation: bool,
                       collate_fn: Callable[[Any], Any], drop_last: bool) -> _BaseDatasetFetcher:
        if kind == _DatasetKind.Map:
            return _MapDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
        return _IterableDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)


class _BaseDatasetFetcher:
    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable[[Any], Any],
                 drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index: Any) -> Any:
        raise NotImplementedError


class _IterableDatasetFetcher(_BaseDatasetFetcher):
    """Takes the next `len(batch_index)` samples of the dataset's iterator (or the next one);
    raises StopIteration when the stream ends (or leaves only a short batch under drop_last)."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable[[Any], Any],
                 drop_last: bool) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
            return self.collate_fn(data)
        return self.collate_fn(next(self.dataset_iter))


class _MapDatasetFetcher(_BaseDatasetFetcher):
    """`dataset.__getitems__(indices)` when the dataset has it, else one `dataset[i]` per index,
    then the collate function."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable[[Any], Any],
                 drop_last: bool) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self._rows = _row_source(dataset) if collate_fn is default_collate else None

    def fetch(self, possibly_batched_index: Any) -> Any:
        if not self.auto_collation:
            return self.collate_fn(self.dataset[possibly_batched_index])
        if self._rows is not None and not self._rows.records_graph():
            return self._rows.gather(possibly_batched_index)
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems:
            data = getitems(possibly_batched_index)
        else:
            data = [self.dataset[index] for index in possibly_batched_index]
        return self.collate_fn(data)

    def gathers_index_arrays(self) -> bool:
        """Whether `fetch_rows` may be given index arrays: a batch of a TensorDataset itself
        under the default collate."""
        return self.auto_collation and self._rows is not None and not self._rows.subsets

    def fetch_rows(self, indices: Any, backend: Any) -> Any:
        """`fetch` of the batch at `indices`, an int64 array of `backend`'s (see
        `gathers_index_arrays`)."""
        assert self._rows is not None
        if self._rows.records_graph():
            return self.fetch(backend.tolist(indices))
        return self._rows.dataset._gather_array(indices, backend)


class _TensorRows:
    """A TensorDataset (possibly seen through Subsets) under the default collate: a batch is
    one gather per tensor (the same values, dtypes and devices as indexing each row and
    stacking), instead of one index op per sample and tensor."""

    def __init__(self, dataset: TensorDataset, subsets: list[Subset[Any]]) -> None:
        self.dataset = dataset
        self.subsets = subsets  # outermost first

    def records_graph(self) -> bool:
        """Stacking rows of a tensor that requires grad is recorded: take the general path."""
        if grad_state.enabled:
            for tensor in self.dataset.tensors:
                if tensor.requires_grad:
                    return True
        return False

    def gather(self, indices: list[int]) -> Any:
        for subset in self.subsets:
            indices = [subset.indices[index] for index in indices]
        return self.dataset._gather(indices)


def _row_source(dataset: Any) -> _TensorRows | None:
    subsets = []
    while type(dataset) is Subset:
        subsets.append(dataset)
        dataset = dataset.dataset
    if type(dataset) is TensorDataset:
        return _TensorRows(dataset, subsets)
    return None
