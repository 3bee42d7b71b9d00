"""Datasets for the DataLoader worker tests, at module level so that spawned workers (which
import them by name) can use them too."""

from __future__ import annotations

import os
import random
import signal
import time
from typing import Any

import numpy as np

import autodiff
from autodiff.utils.data import Dataset, IterableDataset, get_worker_info


class Squares(Dataset):
    """Sample i: (i, i*i) as a tensor, plus which worker (or -1) and process made it."""

    def __init__(self, length: int = 20) -> None:
        self.length = length
        self.offset = 0

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        info = get_worker_info()
        return {"x": autodiff.tensor([index + self.offset, index * index]),
                "worker": -1 if info is None else info.id, "pid": os.getpid()}


class RandomDraws(Dataset):
    """What each generator a worker is seeded with gives, plus the worker's seed."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict[str, Any]:
        info = get_worker_info()
        return {"torch_like": float(autodiff.rand(1).item()), "python": random.random(),
                "numpy": float(np.random.rand()), "seed": -1 if info is None else info.seed,
                "worker": -1 if info is None else info.id}


class Failing(Dataset):
    """Raises `error` for sample `bad`."""

    def __init__(self, bad: int, error: BaseException) -> None:
        self.bad = bad
        self.error = error

    def __len__(self) -> int:
        return 10

    def __getitem__(self, index: int) -> int:
        if index == self.bad:
            raise self.error
        return index


class Dying(Dataset):
    """The worker process ends abruptly at sample `bad`: `os._exit(3)`, or SIGKILL."""

    def __init__(self, bad: int, kill: bool = False) -> None:
        self.bad = bad
        self.kill = kill

    def __len__(self) -> int:
        return 10

    def __getitem__(self, index: int) -> int:
        if index == self.bad:
            if self.kill:
                os.kill(os.getpid(), signal.SIGKILL)
            os._exit(3)
        return index


class Slow(Dataset):
    """Sample `slow` takes `seconds`."""

    def __init__(self, slow: int, seconds: float, length: int = 8) -> None:
        self.slow = slow
        self.seconds = seconds
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> int:
        if index == self.slow:
            time.sleep(self.seconds)
        return index


class Unpicklable(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> Any:
        return lambda: index


class Stream(IterableDataset):
    """0..n-1, each worker taking every num_workers-th from its id (PyTorch's example of
    sharding with get_worker_info); `reported` is what __len__ claims."""

    def __init__(self, n: int = 10, reported: int | None = None, shard: bool = True) -> None:
        self.n = n
        self.reported = n if reported is None else reported
        self.shard = shard

    def __iter__(self) -> Any:
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self) -> int:
        return self.reported


def offset_by_worker(worker_id: int) -> None:
    """A worker_init_fn: this worker's dataset copy adds 1000 * worker id to its samples."""
    info = get_worker_info()
    assert info is not None and info.id == worker_id
    info.dataset.offset = 1000 * worker_id


def failing_init(worker_id: int) -> None:
    raise ValueError(f"init of worker {worker_id} failed")
