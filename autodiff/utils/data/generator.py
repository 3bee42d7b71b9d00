"""`Generator`: the seeded source of randomness for samplers, `random_split` and DataLoader
worker seeds, as torch.Generator serves them. Tensor random numbers come from the devices'
generators (`autodiff.manual_seed`) instead."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from backends.host_random import HostGenerator

from ... import creation

__all__ = ["Generator"]

_DEFAULT_SEED = 67280421310721  # torch.Generator's default seed


class Generator:
    """A seeded host generator (`Generator().manual_seed(0)`, as torch.Generator)."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = device
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self._host = HostGenerator(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        """Reseed from system entropy; returns the new seed."""
        self.manual_seed(random.SystemRandom().getrandbits(63))
        return self._seed

    def get_state(self) -> dict[str, Any]:
        return self._host.get_state()

    def set_state(self, state: dict[str, Any]) -> Generator:
        self._host.set_state(state)
        return self

    # ----------------------------------------------------------------------------- draws
    def permutation(self, n: int) -> Any:
        """0..n-1 in random order (a host int64 array: `.tolist()` gives Python ints)."""
        return self._host.permutation(n)

    def integers(self, high: int, size: int) -> Any:
        """`size` draws from 0..high-1 (a host int64 array)."""
        return self._host.integers(high, size)

    def random_int64(self) -> int:
        """One draw from [0, 2**63), as `torch.empty((), dtype=torch.int64).random_()`."""
        return self._host.random_int64()

    def multinomial(self, weights: Sequence[float], num_samples: int,
                    replacement: bool) -> list[int]:
        """Indices drawn with probability proportional to `weights`, with torch.multinomial's
        checks and messages."""
        if not replacement and num_samples > len(weights):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        total = 0.0
        for weight in weights:
            if math.isinf(weight) or math.isnan(weight):
                raise RuntimeError("invalid multinomial distribution (encountering probability "
                                   "entry = infinity or NaN)")
            if weight < 0:
                raise RuntimeError("invalid multinomial distribution (encountering probability "
                                   "entry < 0)")
            total += weight
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        return self._host.weighted(weights, num_samples, replacement)


def default_generator() -> Generator:
    """A Generator seeded from autodiff's CPU generator, so `autodiff.manual_seed` makes
    unseeded shuffling and worker seeds reproducible (torch draws them from its default
    generator)."""
    seed = int(creation.randint(0, 2**62, (1,)).item())
    return Generator().manual_seed(seed)


def as_generator(generator: Any) -> Generator | None:
    """A Generator from what a `generator=` argument may be: None (stays None: draw from
    autodiff's generator when needed), a Generator, an int seed, or a torch.Generator (its
    initial seed)."""
    if generator is None or isinstance(generator, Generator):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return Generator().manual_seed(generator)
    if hasattr(generator, "initial_seed"):  # e.g. a torch.Generator
        return Generator().manual_seed(generator.initial_seed())
    raise TypeError(f"generator must be an autodiff Generator or an int seed, got "
                    f"{type(generator).__name__}")
