"""Saving and loading run in this one process: refused in a process group of more ranks."""

from __future__ import annotations

from typing import Any

from ...user_warnings import warn
from .. import process_group as _process_group


def single_process(action: str, process_group: Any, no_dist: bool) -> None:
    """Warn as PyTorch does when no process group is initialised; refuse a group of more than
    one rank, whose shards autodiff cannot gather or re-shard."""
    if no_dist or not _process_group.is_initialized():
        warn("torch.distributed is disabled, unavailable or uninitialized, assuming the intent "
             f"is to {action} in a single process.", UserWarning, stacklevel=3)
        return
    if _process_group.get_world_size(process_group) > 1:
        raise NotImplementedError(
            f"autodiff.distributed.checkpoint can only {action} in a single process: pass "
            "no_dist=True on one rank (the state dicts of data-parallel ranks are the same)")
