"""Datasets (torch.utils.data.dataset): map-style `Dataset` (`__getitem__`, usually `__len__`),
`IterableDataset` (`__iter__`), and the ways of combining them."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from ... import creation
from ...tensor import Tensor, _wrap
from ...user_warnings import warn
from .sampler import as_generator

__all__ = [
    "ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset", "Subset",
    "TensorDataset", "random_split",
]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style dataset: `__getitem__(index)` and usually `__len__`. `a + b` concatenates.

    There is deliberately no default `__len__` (as in PyTorch): `len()` of a dataset without one
    raises TypeError, which is what `list()` and friends expect."""

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset[Any]) -> Dataset[Any]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """A dataset that is a stream: subclasses define `__iter__`. `a + b` chains.

    With `num_workers > 0` every worker iterates its own copy: use `get_worker_info()` inside
    `__iter__` (or a `worker_init_fn`) to give each worker its own share, or every sample
    comes once per worker."""

    def __add__(self, other: Dataset[Any]) -> Dataset[Any]:
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are rows: `dataset[i] == tuple(t[i] for t in tensors)`."""

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)

    def _gather(self, indices: list[int]) -> list[Tensor]:
        """What collating `[self[i] for i in indices]` gives (one stacked tensor per tensor,
        in a list), made with one gather per tensor on its own device."""
        backend = self.tensors[0]._backend
        return self._gather_array(backend.asarray(indices, dtype="int64"), backend)

    def _gather_array(self, indices: Any, index_backend: Any) -> list[Tensor]:
        """`_gather` of the indices in `indices`, an int64 array of `index_backend`'s."""
        out = []
        elsewhere: dict[Any, Any] = {}  # the indices on each other device, moved once
        for tensor in self.tensors:
            backend = tensor._backend
            rows = indices
            if backend is not index_backend:
                rows = elsewhere.get(backend)
                if rows is None:
                    rows = elsewhere[backend] = backend.asarray(index_backend.tolist(indices),
                                                                dtype="int64")
            out.append(_wrap(backend.take(tensor._data, rows, axis=0), backend))
        return out


class StackDataset(Dataset[Any]):
    """Samples of several datasets of equal length side by side: `StackDataset(a, b)[i]` is
    `(a[i], b[i])`, `StackDataset(x=a, y=b)[i]` is `{"x": a[i], "y": b[i]}`."""

    datasets: tuple[Any, ...] | dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args:
            if kwargs:
                raise ValueError(
                    "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                    "input/output, but both types are given."
                )
            self._length = len(args[0])
            if any(self._length != len(dataset) for dataset in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets = args
        elif kwargs:
            values = list(kwargs.values())
            self._length = len(values[0])
            if any(self._length != len(dataset) for dataset in values):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list[Any]) -> list[Any]:
        """The samples at `indices`, asking each member dataset for all of them at once where
        it can (its own `__getitems__`)."""
        if isinstance(self.datasets, dict):
            dict_batch: list[dict[str, Any]] = [{} for _ in indices]
            for key, dataset in self.datasets.items():
                for sample, item in zip(dict_batch, _items(dataset, indices)):
                    sample[key] = item
            return dict_batch
        columns = [_items(dataset, indices) for dataset in self.datasets]
        return [tuple(row) for row in zip(*columns)] if columns else []

    def __len__(self) -> int:
        return self._length


def _items(dataset: Any, indices: list[Any]) -> list[Any]:
    getitems = getattr(dataset, "__getitems__", None)
    if callable(getitems):
        items = getitems(indices)
        if len(items) != len(indices):
            raise ValueError("Nested dataset's output size mismatch. "
                             f"Expected {len(indices)}, got {len(items)}")
        return list(items)
    return [dataset[index] for index in indices]


class ConcatDataset(Dataset[T_co]):
    """Map-style datasets one after another: index `len(a)` is `b[0]`."""

    datasets: list[Dataset[T_co]]
    cumulative_sizes: list[int]

    @staticmethod
    def cumsum(sequence: Iterable[Any]) -> list[int]:
        return list(itertools.accumulate(len(item) for item in sequence))

    def __init__(self, datasets: Iterable[Dataset[Any]]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> T_co:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index = len(self) + index
        dataset_index = bisect.bisect_right(self.cumulative_sizes, index)
        sample_index = index if dataset_index == 0 else \
            index - self.cumulative_sizes[dataset_index - 1]
        return self.datasets[dataset_index][sample_index]

    @property
    def cummulative_sizes(self) -> list[int]:
        warn("`cummulative_sizes` attribute is renamed to `cumulative_sizes`",
             FutureWarning, stacklevel=2)
        return self.cumulative_sizes


class ChainDataset(IterableDataset[Any]):
    """Iterable datasets one after another, chained on the fly."""

    def __init__(self, datasets: Iterable[Dataset[Any]]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from dataset

    def __len__(self) -> int:
        total = 0
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(dataset)  # type: ignore[arg-type]
        return total


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices`."""

    dataset: Dataset[T_co]
    indices: Sequence[int]

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        if (type(self).__getitem__ is not Subset.__getitem__
                and type(self).__getitems__ is Subset.__getitems__):
            # DataLoader asks for whole batches through __getitems__, which would bypass the
            # subclass's __getitem__.
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. When "
                "subclassing Subset and overriding __getitem__, you must also override "
                "__getitems__ to ensure DataLoader works correctly with your custom logic. A "
                "simple implementation:\n\ndef __getitems__(self, indices):\n    return "
                "[self.__getitem__(idx) for idx in indices]"
            )

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[index] for index in indices])
        return [self.dataset[self.indices[index]] for index in indices]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: Any = None) -> list[Subset[Any]]:
    """Split into non-overlapping Subsets of the given lengths, or of fractions summing to 1
    (the remainder of the rounding is spread one by one from the first split); the order is
    drawn from `generator`, by default the CPU's default generator."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts: list[int] = []
        for index, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"Fraction at index {index} is not between 0 and 1")
            counts.append(math.floor(len(dataset) * fraction))
        for index in range(len(dataset) - sum(counts)):
            counts[index % len(counts)] += 1
        lengths = counts
        for index, length in enumerate(lengths):
            if length == 0:
                warn(f"Length of split at index {index} is 0. This might result in an "
                     "empty dataset.", stacklevel=2)
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = creation.randperm(int(sum(lengths)), generator=as_generator(generator)).tolist()
    return [Subset(dataset, order[offset - int(length):offset])
            for offset, length in zip(itertools.accumulate(int(n) for n in lengths), lengths)]
