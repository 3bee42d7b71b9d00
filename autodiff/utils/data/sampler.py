"""Samplers (torch.utils.data.sampler): iterables of dataset indices, or of lists of indices
(`BatchSampler`). Random samplers draw as they are iterated, a few indices at a time, never a
whole epoch's worth up front: `RandomSampler(data, replacement=True, num_samples=10**10)`
is fine."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

from ... import creation, dtypes
from ...generator import Generator
from ...tensor import Tensor

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

    def _chunk_tensors(self) -> Iterator[Tensor]:
        yield creation.arange(len(self.data_source))

    def __len__(self) -> int:
        return len(self.data_source)


def as_generator(generator: Any) -> Generator | None:
    """What a `generator=` of the data classes may be: None (draw from the default generator
    when needed), a Generator, an int seed (a Generator seeded with it), or a torch.Generator
    (one seeded with its initial seed)."""
    if generator is None or isinstance(generator, Generator):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return Generator().manual_seed(generator)
    if hasattr(generator, "initial_seed"):  # e.g. a torch.Generator
        return Generator().manual_seed(generator.initial_seed())
    raise TypeError(f"generator must be an autodiff Generator or an int seed, got "
                    f"{type(generator).__name__}")


def random_seed(generator: Generator | None = None) -> int:
    """A seed drawn from `generator` (default: the CPU's default generator), as PyTorch draws
    one with `torch.empty((), dtype=torch.int64).random_(generator=generator)`: in [0, 2^63)."""
    return int(creation.randint(0, 2**63 - 1, (1,), generator=generator).item())


def _epoch_generator(generator: Generator | None) -> Generator:
    # Without a generator, each epoch seeds a new one from the default generator (as PyTorch's
    # RandomSampler does).
    return Generator().manual_seed(random_seed()) if generator is None else generator


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
        for chunk in self._chunk_tensors():
            yield chunk.tolist()

    def _chunk_tensors(self) -> Iterator[Tensor]:
        """The epoch's indices as they are drawn (int64 CPU tensors): 32 at a time with
        replacement, a permutation at a time without (the last one drawn whole and cut, as
        PyTorch draws it, so the generator moves on the same)."""
        n = len(self.data_source)
        generator = _epoch_generator(self.generator)
        if self.replacement:
            for _ in range(self.num_samples // _CHUNK):
                yield creation.randint(0, n, (_CHUNK,), generator=generator)
            yield creation.randint(0, n, (self.num_samples % _CHUNK,), generator=generator)
        else:
            for _ in range(self.num_samples // n):
                yield creation.randperm(n, generator=generator)
            last = creation.randperm(n, generator=generator)
            if self.num_samples % n:  # (drawn even when none of it is used, as PyTorch does)
                yield last[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a new random order every epoch."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = as_generator(generator)

    def __iter__(self) -> Iterator[int]:
        for position in creation.randperm(len(self.indices), generator=self.generator).tolist():
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
        weights_tensor = creation.as_tensor(weights, dtype=dtypes.float64)
        if weights_tensor.dim() != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = as_generator(generator)

    def __iter__(self) -> Iterator[int]:
        yield from _multinomial(self.weights.tolist(), self.num_samples, self.replacement,
                                self.generator)

    def __len__(self) -> int:
        return self.num_samples


def _draws_in_chunks(sampler: Any) -> bool:
    """A built-in sampler whose iteration is exactly the concatenation of its `_chunks()`, and
    those the lists of its `_chunk_tensors()`."""
    kind = type(sampler)
    return (kind in (SequentialSampler, RandomSampler)
            or (isinstance(sampler, (SequentialSampler, RandomSampler))
                and kind.__iter__ in (SequentialSampler.__iter__, RandomSampler.__iter__)
                and kind._chunks in (SequentialSampler._chunks, RandomSampler._chunks)
                and kind._chunk_tensors in (SequentialSampler._chunk_tensors,
                                            RandomSampler._chunk_tensors)))


def _multinomial(weights: list[float], num_samples: int, replacement: bool,
                 generator: Generator | None) -> list[int]:
    """torch.multinomial of one row of weights, with its checks and messages. With replacement,
    each draw inverts the cumulative weights at a uniform number; without, the indices with
    the largest keys weight / Exp(1) (Efraimidis and Spirakis: each draw proportional to the
    weights left), so indices of zero weight come after all the others."""
    if not replacement and num_samples > len(weights):
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    for weight in weights:
        if math.isinf(weight) or math.isnan(weight):
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry = infinity or NaN)")
        if weight < 0:
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry < 0)")
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1] if cumulative else 0.0
    if total <= 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        uniforms = creation.rand(num_samples, dtype=dtypes.float64, generator=generator).tolist()
        last = len(weights) - 1
        # A draw never lands on an index of zero weight: bisect_right skips equal sums.
        return [min(bisect.bisect_right(cumulative, u * total), last) for u in uniforms]
    uniforms = creation.rand(len(weights), dtype=dtypes.float64, generator=generator).tolist()
    keys = [weight / -math.log1p(-u) if weight > 0 else 0.0
            for weight, u in zip(weights, uniforms)]
    order = sorted(range(len(weights)), key=lambda index: -keys[index])
    return order[:num_samples]


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

    def _index_arrays(self) -> Iterator[tuple[Any, Any]]:
        """The same batches as (array, backend) pairs of int64 indices on the CPU, for
        loaders that gather rows with them: views of the sampler's chunks where a batch lies
        within one (no list of Python ints made and converted back)."""
        if not _draws_in_chunks(self.sampler):
            raise TypeError("the sampler does not draw its indices in chunks")
        pending: list[Any] = []  # pieces of chunks not yet in a batch
        count = 0
        backend = None
        for chunk in self.sampler._chunk_tensors():  # type: ignore[union-attr]
            backend, array = chunk._backend, chunk._data
            start, size = 0, int(array.shape[0])
            while count + size - start >= self.batch_size:
                end = start + self.batch_size - count
                piece = backend.getitem(array, slice(start, end))
                if pending:
                    yield backend.concat([*pending, piece]), backend
                    pending, count = [], 0
                else:
                    yield piece, backend
                start = end
            if start < size:
                pending.append(backend.getitem(array, slice(start, None)))
                count += size - start
        if count and not self.drop_last and backend is not None:
            yield (pending[0] if len(pending) == 1 else backend.concat(pending)), backend

    def __len__(self) -> int:
        length = len(self.sampler)  # type: ignore[arg-type]
        if self.drop_last:
            return length // self.batch_size
        return (length + self.batch_size - 1) // self.batch_size
