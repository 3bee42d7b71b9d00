"""A seeded random generator on the host, for what is random but not a tensor: the order of a
shuffled dataset, random splits. NumPy's generator draws a whole permutation in one call (a
Python-level shuffle costs half a millisecond per epoch of a small dataset)."""

from __future__ import annotations

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
