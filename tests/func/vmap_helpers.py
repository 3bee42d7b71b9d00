"""What the vmap rule tests share: seeded float64 operands, a Tensor's values as NumPy, and a
check that no per-example fallback ran (its performance warning)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

import autodiff


def randn64(*shape: int, seed: int = 0, device: str = "cpu") -> autodiff.Tensor:
    rng = np.random.default_rng(seed)
    return autodiff.tensor(rng.standard_normal(shape), dtype=autodiff.float64, device=device)


def values(x: autodiff.Tensor) -> np.ndarray:
    return np.array(x.tolist()).reshape(tuple(x.shape))


@contextmanager
def no_fallback() -> Iterator[None]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    slow = [str(w.message) for w in caught if "performance drop" in str(w.message)]
    assert not slow, slow
