"""Paired timing: run the engines round-robin and compare them round by round.

These machines' speed swings by 2-3x over seconds, so a ratio of medians taken minutes apart
means little. Each round times every engine once, back to back, in a rotating order; the ratio
to the limit is taken within each round and the median over rounds is reported.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def time_once(function: Callable[[], object], number: int,
              sync: Callable[[], None] | None = None) -> float:
    """Seconds per call, averaged over `number` back-to-back calls."""
    if sync is not None:
        sync()
    start = time.perf_counter()
    for _ in range(number):
        function()
    if sync is not None:
        sync()
    return (time.perf_counter() - start) / number


def paired_samples(engines: dict[str, Callable[[], object]], rounds: int = 15,
                   number: int = 1, warmup: int = 2,
                   sync: Callable[[], None] | None = None,
                   warm_calls: int = 0) -> dict[str, list[float]]:
    """Seconds per call of each engine in each round (every engine once per round, back to
    back, in a rotating order): a ratio of two engines is taken within a round. `warm_calls`
    untimed calls come right before each timed one (the caches then hold the engine's own
    code and data, not the previous engine's: the steady cost of a call in a loop)."""
    names = list(engines)
    for name in names:
        for _ in range(warmup):
            engines[name]()
    if sync is not None:
        sync()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            for _ in range(warm_calls):
                engines[name]()
            samples[name].append(time_once(engines[name], number, sync))
    return samples


def paired_ratio(samples: dict[str, list[float]], name: str, reference: str) -> float:
    """The median over rounds of `name`'s time divided by `reference`'s in the same round."""
    return statistics.median(a / b for a, b in zip(samples[name], samples[reference]))


def paired(engines: dict[str, Callable[[], object]], limit: str, rounds: int = 15,
           number: int = 1, warmup: int = 2,
           sync: Callable[[], None] | None = None) -> dict[str, dict[str, float]]:
    """Median seconds per call of each engine and its median per-round ratio to `limit`."""
    samples = paired_samples(engines, rounds, number, warmup, sync)
    return {
        name: {"median": statistics.median(samples[name]),
               "ratio": paired_ratio(samples, name, limit)}
        for name in engines
    }
