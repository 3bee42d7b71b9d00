"""`DistributedSampler` (torch.utils.data.distributed): each rank's own shard of a dataset."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ... import creation
from ...generator import Generator
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices of the dataset for rank `rank` of `num_replicas` (by default the default process
    group's), as torch.utils.data.DistributedSampler: every rank draws the same permutation
    (seeded by `seed + epoch`) and takes every num_replicas-th index from position `rank`.
    Without drop_last the permutation is padded by repeating its start, so every rank gets
    `ceil(len / num_replicas)` indices; with drop_last its tail is cut instead.

    Call `set_epoch(epoch)` before each epoch, or every epoch repeats the same order.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        self.shuffle = shuffle
        self.seed = seed
        length = len(dataset)
        if drop_last and length % num_replicas != 0:
            self.num_samples = math.ceil((length - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(length / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        length = len(self.dataset)
        if self.shuffle:
            generator = Generator().manual_seed(self.seed + self.epoch)
            order = creation.randperm(length, generator=generator).tolist()
        else:
            order = list(range(length))
        if self.drop_last:
            order = order[:self.total_size]
        elif length:
            padding = self.total_size - length
            order += (order * math.ceil(padding / length))[:padding]
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration draw the permutation of `epoch` (the same on every rank)."""
        self.epoch = epoch
