"""`autodiff.multiprocessing` (torch.multiprocessing): Python's `multiprocessing`, whose pickler
sends tensors through shared memory (see `reductions`), plus `spawn` and the sharing strategy.

Everything of `multiprocessing` is here under its name (Process, Pool, Queue, get_context,
set_start_method, ...); importing autodiff registers the reducers, so tensors put on a plain
`multiprocessing.Queue` are shared too, as with PyTorch.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F403

from backends import shared_memory

from .reductions import init_reductions
from .spawn import ProcessContext as ProcessContext
from .spawn import ProcessException as ProcessException
from .spawn import ProcessExitedException as ProcessExitedException
from .spawn import ProcessRaisedException as ProcessRaisedException
from .spawn import SpawnContext as SpawnContext
from .spawn import spawn as spawn
from .spawn import start_processes as start_processes

__all__ = ["get_all_sharing_strategies", "get_sharing_strategy", "set_sharing_strategy",
           *multiprocessing.__all__]


def set_sharing_strategy(new_strategy: str) -> None:
    """How CPU tensors' memory is handed to other processes: "file_descriptor" (Linux's
    default) or "file_system" (a named file under /dev/shm)."""
    shared_memory.set_sharing_strategy(new_strategy)


def get_sharing_strategy() -> str:
    return shared_memory.sharing_strategy()


def get_all_sharing_strategies() -> set[str]:
    return set(shared_memory.STRATEGIES)


init_reductions()
