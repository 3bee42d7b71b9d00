"""`autodiff.utils.data`: datasets, samplers and `DataLoader`, shaped like torch.utils.data.

Loading runs in the calling process (`num_workers` is accepted and ignored: the batches are the
same). A `TensorDataset` with the default collate is batched by one gather per tensor on the
tensors' own device, instead of indexing and stacking sample by sample.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from .. import creation, dtypes
from ..generator import Generator
from ..tensor import Tensor, _wrap

__all__ = [
    "BatchSampler", "DataLoader", "Dataset", "Generator", "RandomSampler", "Sampler",
    "SequentialSampler", "Subset", "TensorDataset", "default_collate", "random_split",
]

def _generator_from_global() -> Generator:
    """A Generator seeded from autodiff's own CPU generator, so `autodiff.manual_seed` makes
    unseeded shuffling reproducible (as torch's default generator does)."""
    seed = int(creation.randint(0, 2**62, (1,)).item())
    return Generator().manual_seed(seed)


def _permutation(generator: Generator, n: int) -> list[int]:
    return creation.randperm(n, generator=generator).tolist()


def _as_generator(generator: Any) -> Generator:
    if generator is None:
        return _generator_from_global()
    if isinstance(generator, Generator):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return Generator().manual_seed(generator)
    if hasattr(generator, "initial_seed"):  # e.g. a torch.Generator
        return Generator().manual_seed(generator.initial_seed())
    raise TypeError(f"generator must be an autodiff Generator or an int seed, got "
                    f"{type(generator).__name__}")


# ----------------------------------------------------------------------------- datasets
class Dataset:
    """A map-style dataset: `__getitem__(index)` and usually `__len__`."""

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")


class TensorDataset(Dataset):
    """Samples are rows: `dataset[i] == tuple(t[i] for t in tensors)`."""

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)

    def _gather(self, indices: Any) -> list[Tensor]:
        """Rows `indices` (a backend int64 array per device) of every tensor, as new tensors."""
        out = []
        for tensor in self.tensors:
            backend = tensor._backend
            rows = indices[backend]
            out.append(_wrap(backend.take(tensor._data, rows, axis=0), backend))
        return out


class Subset(Dataset):
    """The samples of `dataset` at `indices`."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: Any = None) -> list[Subset]:
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1)."""
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for index, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"Fraction at index {index} is not between 0 and 1")
            counts.append(math.floor(total * fraction))
        for index in range(total - sum(counts)):
            counts[index % len(counts)] += 1
        for index, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {index} is 0. This might result in an "
                              "empty dataset.", stacklevel=2)
        lengths = counts
    if sum(lengths) != total:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = _permutation(_as_generator(generator), total)
    subsets = []
    offset = 0
    for length in lengths:
        subsets.append(Subset(dataset, order[offset:offset + int(length)]))
        offset += int(length)
    return subsets


# ----------------------------------------------------------------------------- samplers
class Sampler:
    """Yields dataset indices."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def _order(self) -> range:
        return range(len(self.data_source))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh permutation every epoch (or draws with replacement), from `generator`."""

    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        return iter(self._order())

    def _order(self) -> Any:
        """This epoch's indices, as a list."""
        n = len(self.data_source)
        # Without a generator, each epoch draws its own seed from autodiff's generator.
        generator = _as_generator(self.generator)
        if self.replacement:
            return creation.randint(0, n, (self.num_samples,), generator=generator).tolist()
        if self.num_samples <= n:
            return _permutation(generator, n)[:self.num_samples]
        order: list[int] = []
        while len(order) < self.num_samples:
            order.extend(_permutation(generator, n))
        return order[:self.num_samples]

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size`."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        iterator = iter(self.sampler)
        while True:
            batch = list(itertools.islice(iterator, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self) -> int:
        length = len(self.sampler)  # type: ignore[arg-type]
        if self.drop_last:
            return length // self.batch_size
        return (length + self.batch_size - 1) // self.batch_size


# ----------------------------------------------------------------------------- collate
def _stack(tensors: Sequence[Tensor]) -> Tensor:
    first = tensors[0]
    backend = first._backend
    shape = first._data.shape
    for index, tensor in enumerate(tensors):
        if tensor._backend is not backend:
            from ..function import _raise_device_mismatch

            _raise_device_mismatch(backend, tensor._backend)
        if tensor._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(tensor._data.shape)} at entry {index}"
            )
    return _wrap(backend.stack([tensor._data for tensor in tensors]), backend)


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack samples into a batch, keeping their structure: tensors (and arrays) are stacked,
    numbers become tensors, dicts and sequences are collated field by field (tuples come back
    as lists, as in PyTorch)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if hasattr(elem, "__array__") and hasattr(elem, "shape") and hasattr(elem, "dtype"):
        return _stack([creation.tensor(item) for item in batch])
    if isinstance(elem, float):
        return creation.tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):
        return creation.tensor(batch)
    if isinstance(elem, str):
        return batch
    if isinstance(elem, Mapping):
        try:
            mapping: Any = type(elem)  # the sample's own mapping type, as PyTorch keeps it
            return mapping({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(item) != size for item in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem)}")


# ----------------------------------------------------------------------------- loader
class DataLoader:
    """Iterates over `dataset` in batches. shuffle=True draws a new order every epoch from
    `generator` (an autodiff Generator or an int seed) or, without one, from a seed taken from
    autodiff's generator (so `autodiff.manual_seed` makes it reproducible)."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Callable[[Any], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[..., Any] | None = None, generator: Any = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else \
                SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.generator = generator
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self._default_collate = collate_fn is None
        self.collate_fn = default_collate if collate_fn is None else collate_fn

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self) -> Iterator[Any]:
        if self.batch_sampler is None:  # auto-batching off: one sample at a time
            for index in self.sampler:
                sample = self.dataset[index]
                yield sample if self._default_collate else self.collate_fn(sample)
            return
        if (self._default_collate and type(self.dataset) is TensorDataset
                and type(self.batch_sampler) is BatchSampler):
            yield from self._tensor_batches()
            return
        getitems = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            samples = getitems(indices) if getitems is not None else \
                [self.dataset[index] for index in indices]
            yield self.collate_fn(samples)

    def _tensor_batches(self) -> Iterator[list[Tensor]]:
        """TensorDataset fast path: the epoch's order goes to each device once; every batch is
        one gather per tensor (what collating the rows one by one would give)."""
        dataset: TensorDataset = self.dataset
        sampler = self.batch_sampler.sampler
        order = sampler._order() if hasattr(sampler, "_order") else list(sampler)
        batch_size = self.batch_sampler.batch_size
        on_device = {}
        for tensor in dataset.tensors:
            backend = tensor._backend
            if backend not in on_device:
                on_device[backend] = (
                    backend.arange(order.start, order.stop, order.step, "int64")
                    if isinstance(order, range) else backend.asarray(order, dtype="int64"))
        stop = len(order)
        if self.batch_sampler.drop_last:
            stop -= stop % batch_size
        for start in range(0, stop, batch_size):
            end = min(start + batch_size, stop)
            yield dataset._gather({backend: indices[start:end]
                                   for backend, indices in on_device.items()})


# (issue 7, distributed: DistributedSampler, in its own file; imported last since it needs
# Sampler and Generator from here)
from .distributed_sampler import DistributedSampler  # noqa: E402

__all__ += ["DistributedSampler"]
