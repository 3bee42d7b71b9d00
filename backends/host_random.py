"""A seeded random generator on the host, for what is random but not a tensor: the order of a
shuffled dataset, random splits, weighted sampling of indices, the seeds of DataLoader workers.
NumPy's generator draws a whole permutation in one call (a Python-level shuffle costs half a
millisecond per epoch of a small dataset)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class HostGenerator:
    def __init__(self, seed: int) -> None:
        self._generator = np.random.default_rng(seed)

    def permutation(self, n: int) -> Any:
        """0..n-1 in random order, as an int64 host array (a backend's asarray takes it)."""
        return self._generator.permutation(n)

    def integers(self, high: int, size: int) -> Any:
        """`size` draws from 0..high-1, as an int64 host array."""
        return self._generator.integers(0, high, size)

    def random_int64(self) -> int:
        """One draw from [0, 2**63): what `random_()` gives an int64 tensor."""
        return int(self._generator.integers(0, 2**63 - 1, dtype=np.int64, endpoint=True))

    def weighted(self, weights: Sequence[float], num_samples: int, replacement: bool) -> list[int]:
        """`num_samples` indices drawn with probability proportional to `weights` (checked by
        the caller: finite, non-negative, positive sum). Without replacement an index is drawn
        at most once: the largest keys weight / Exp(1) (Efraimidis and Spirakis), so indices of
        zero weight come last, after every index of positive weight."""
        w = np.asarray(weights, dtype=np.float64)
        if replacement:
            return self._generator.choice(len(w), size=num_samples, p=w / w.sum()).tolist()
        keys = w / self._generator.standard_exponential(len(w))
        return np.argsort(-keys, kind="stable")[:num_samples].tolist()

    def get_state(self) -> dict[str, Any]:
        """A copy of the generator's state (a plain dict, picklable)."""
        return dict(self._generator.bit_generator.state)

    def set_state(self, state: dict[str, Any]) -> None:
        self._generator.bit_generator.state = state


def seed_legacy_global(state: Sequence[int]) -> None:
    """Seed NumPy's legacy global generator (`np.random.rand` and friends) from four 32-bit
    words. DataLoader workers do this, as PyTorch's do, so that augmentations written with
    `np.random` differ between workers instead of repeating the parent's stream."""
    np.random.seed(np.asarray(state, dtype=np.uint32))
