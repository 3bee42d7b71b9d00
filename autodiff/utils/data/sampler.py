"""Samplers (torch.utils.data.sampler): iterables of dataset indices, or of lists of indices
(`BatchSampler`). Random samplers draw as they are iterated, a few indices at a time, never a
whole epoch's worth up front: `RandomSampler(data, replacement=True, num_samples=10**10)`
is fine."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

from ... import creation
from .generator import Generator, as_generator, default_generator

__all__ = [
    "BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
    "WeightedRandomSampler",
]

T_co = TypeVar("T_co", covariant=True)

# Draws with replacement come this many at a time (as PyTorch's RandomSampler draws them).
_CHUNK = 32


class Sampler(Generic[T_co]):
    """Base class: subclasses define `__iter__` and usually `__len__` (deliberately no default
    `__len__`, as in PyTorch: `len()` of a sampler without one is a TypeError)."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1, every epoch."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def _chunks(self) -> Iterator[list[int]]:
        yield list(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _epoch_generator(generator: Generator | None) -> Generator:
    # Without a generator, each epoch seeds its own from autodiff's generator (as PyTorch seeds
    # a fresh torch.Generator from its default generator).
    return default_generator() if generator is None else generator


class RandomSampler(Sampler[int]):
    """A new random order every epoch; with `replacement`, `num_samples` independent draws.
    Without replacement and `num_samples > len(data_source)`, whole permutations follow each
    other."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = as_generator(generator)
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        # The dataset may change size between epochs.
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        for chunk in self._chunks():
            yield from chunk

    def _chunks(self) -> Iterator[list[int]]:
        """The epoch's indices as they are drawn: 32 at a time with replacement, a permutation
        at a time without."""
        n = len(self.data_source)
        generator = _epoch_generator(self.generator)
        if self.replacement:
            for _ in range(self.num_samples // _CHUNK):
                yield generator.integers(n, _CHUNK).tolist()
            yield generator.integers(n, self.num_samples % _CHUNK).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield generator.permutation(n).tolist()
            yield generator.permutation(n).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a new random order every epoch."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = as_generator(generator)

    def __iter__(self) -> Iterator[int]:
        generator = _epoch_generator(self.generator)
        for position in generator.permutation(len(self.indices)).tolist():
            yield self.indices[position]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """`num_samples` indices into `weights`, each drawn with probability proportional to its
    weight (as torch.multinomial); without replacement an index comes at most once."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        if (not isinstance(num_samples, int) or isinstance(num_samples, bool)
                or num_samples <= 0):
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights_tensor = creation.as_tensor(weights, dtype="float64")
        if weights_tensor.dim() != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = as_generator(generator)

    def __iter__(self) -> Iterator[int]:
        generator = _epoch_generator(self.generator)
        yield from generator.multinomial(self.weights.tolist(), self.num_samples,
                                         self.replacement)

    def __len__(self) -> int:
        return self.num_samples


def _draws_in_chunks(sampler: Any) -> bool:
    """A built-in sampler whose iteration is exactly the concatenation of its `_chunks()`."""
    kind = type(sampler)
    return (kind in (SequentialSampler, RandomSampler)
            or (isinstance(sampler, (SequentialSampler, RandomSampler))
                and kind.__iter__ in (SequentialSampler.__iter__, RandomSampler.__iter__)
                and kind._chunks in (SequentialSampler._chunks, RandomSampler._chunks)))


class BatchSampler(Sampler[list[Any]]):
    """Groups the indices of `sampler` into lists of `batch_size` (the last one shorter,
    unless `drop_last`)."""

    def __init__(self, sampler: Sampler[Any] | Iterable[Any], batch_size: int,
                 drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[Any]]:
        if _draws_in_chunks(self.sampler):
            yield from self._batches_from_chunks()
            return
        iterator = iter(self.sampler)
        while True:
            batch = list(itertools.islice(iterator, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def _batches_from_chunks(self) -> Iterator[list[Any]]:
        """The same batches, cut from the sampler's chunks of indices by slicing instead of
        pulling every index through a generator."""
        pending: list[Any] = []
        for chunk in self.sampler._chunks():  # type: ignore[union-attr]
            pending.extend(chunk)
            start = 0
            while len(pending) - start >= self.batch_size:
                yield pending[start:start + self.batch_size]
                start += self.batch_size
            del pending[:start]
        if pending and not self.drop_last:
            yield pending

    def __len__(self) -> int:
        length = len(self.sampler)  # type: ignore[arg-type]
        if self.drop_last:
            return length // self.batch_size
        return (length + self.batch_size - 1) // self.batch_size
