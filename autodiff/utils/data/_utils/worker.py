"""The DataLoader worker process (torch.utils.data._utils.worker): its loop, `get_worker_info`,
the seeding of its random generators, and how its results and errors reach the main process
(pickled by the worker itself: see `transport`).

Protocol. The main process sends `(task_index, indices)` on the worker's index queue (or a
`_ResumeIteration` to start a new epoch with persistent workers, or None to stop). The worker
answers each with `(task_index, batch)` on its own pipe; a batch that failed is an
`ExceptionWrapper` carrying the traceback, the end of an IterableDataset's stream is an
`_IterableDatasetStopIteration`. The worker pickles each answer itself, so an object that
cannot cross processes (or a CUDA tensor) becomes an error in the main process, not a lost
message and a hang. Tensors cross as their host arrays and are rebuilt on the main side.
"""

from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import backends
from backends.host_random import seed_legacy_global

from ....generator import Generator
from ..datapipes.datapipe import IterDataPipe
from ..graph_settings import apply_random_seed
from . import transport
from .fetch import _DatasetKind
from .heap import keep_freed_memory

# Seconds between checks that the other side is still alive, while waiting.
MP_STATUS_CHECK_INTERVAL = 5.0

# Seconds an idle worker waits for an index before it looks at the done event. A loader that
# the cycle collector finalizes together with its index queues sends its final None after the
# queues' feeder threads were told to stop (their finalizers run first), so that None never
# arrives; the done event still does.
_POLL_INTERVAL = 0.1

__all__ = ["ExceptionWrapper", "WorkerInfo", "get_worker_info"]


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """About the DataLoader worker this code runs in: its `id` (0 .. num_workers - 1),
    `num_workers`, the `seed` its generators were seeded with, and its own copy of the
    `dataset`. Read-only."""

    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Any = None
    worker_method: str | None = "multiprocessing"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its `WorkerInfo`; in the main process, None. Use it in a
    dataset's `__iter__` or in `worker_init_fn` to give each worker its own share of the work
    (its `dataset` is this worker's copy)."""
    return _worker_info


class KeyErrorMessage(str):
    """A str that is its own repr: a KeyError prints its argument's repr, which would turn a
    multi-line traceback into one line of escapes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return self


class ExceptionWrapper:
    """An exception and its formatted traceback, to re-raise in another process or thread."""

    def __init__(self, exc_info: Any = None, where: str = "in background") -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        # Only the type and the text are kept: the traceback object would hold every frame.
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self) -> None:
        """Raise the wrapped exception's type with a message that says where it was caught and
        carries the original traceback."""
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            message = KeyErrorMessage(message)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=message)
        try:
            exception = self.exc_type(message)
        except Exception:
            # The type needs other arguments: the message still gets through.
            raise RuntimeError(message) from None
        raise exception


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's IterableDataset stream has ended."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Persistent workers: start a new epoch (the worker answers with this, and no data)."""

    seed: int | None = None


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """Four 32-bit words for NumPy's legacy generator, mixed from the base seed and the worker
    id with NumPy's SeedSequence hashing (the words PyTorch's workers seed NumPy with)."""
    init_a, mult_a = 0x43B0D7E5, 0x931E8875
    init_b, mult_b = 0x8B51F9DD, 0x58F38DED
    mix_mult_l, mix_mult_r = 0xCA01F9DD, 0x4973F715
    xshift = 16
    mask32 = 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask32, base_seed >> 32, 0]
    hash_const_a = init_a

    def hashmix(value: int) -> int:
        nonlocal hash_const_a
        value = (value ^ hash_const_a) & mask32
        hash_const_a = (hash_const_a * mult_a) & mask32
        value = (value * hash_const_a) & mask32
        return (value ^ (value >> xshift)) & mask32

    def mix(x: int, y: int) -> int:
        result = ((mix_mult_l * x) & mask32) - ((mix_mult_r * y) & mask32)
        result &= mask32
        return (result ^ (result >> xshift)) & mask32

    pool = [hashmix(word) for word in entropy]
    for source in range(4):
        for target in range(4):
            if source != target:
                pool[target] = mix(pool[target], hashmix(pool[source]))
    hash_const_b = init_b
    state = []
    for word in pool:
        value = (word ^ hash_const_b) & mask32
        hash_const_b = (hash_const_b * mult_b) & mask32
        value = (value * hash_const_b) & mask32
        state.append((value ^ (value >> xshift)) & mask32)
    return state


class ManagerWatchdog:
    """Whether the process that started this worker is still there (an orphaned worker exits
    instead of waiting forever)."""

    def __init__(self) -> None:
        self.manager_pid = os.getppid()
        self.manager_dead = False

    def is_alive(self) -> bool:
        if not self.manager_dead:
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


def _send(connection: Any, task: Any, data: Any, worker_id: int) -> None:
    """Send (task, data); if `data` cannot be pickled, send that error instead."""
    try:
        message = transport.dumps((task, data), worker_id)
    except Exception:
        error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        message = transport.dumps((task, error), worker_id)
    message.send(connection)


def _worker_loop(dataset_kind: int, dataset: Any, index_queue: Any, result_connection: Any,
                 done_event: Any, auto_collation: bool, collate_fn: Callable[[Any], Any],
                 drop_last: bool, base_seed: int, init_fn: Callable[[int], None] | None,
                 worker_id: int, num_workers: int, persistent_workers: bool,
                 shared_seed: int | None) -> None:
    try:
        keep_freed_memory()
        # Each worker has its own streams: Python's, autodiff's devices' (the CUDA ones are
        # seeded when first made) and NumPy's legacy global one, as PyTorch seeds them.
        seed = base_seed + worker_id
        random.seed(seed)
        backends.seed_all_in_child(seed)
        seed_legacy_global(_generate_state(base_seed, worker_id))

        if isinstance(dataset, IterDataPipe):
            dataset = apply_random_seed(dataset, _shared_generator(shared_seed))

        global _worker_info
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)

        init_exception = None
        fetcher: Any = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                  collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        # After the stream of an IterableDataset ends, indices that were already on their way
        # are ignored until the next epoch (a _ResumeIteration) or the end.
        iteration_end = False
        watchdog = ManagerWatchdog()
        while watchdog.is_alive():
            try:
                request = index_queue.get(timeout=_POLL_INTERVAL)
            except queue.Empty:
                if done_event.is_set():
                    break  # shut down, though our None was lost (see _POLL_INTERVAL)
                continue
            if isinstance(request, _ResumeIteration):
                _send(result_connection, request, None, worker_id)
                iteration_end = False
                if isinstance(dataset, IterDataPipe):
                    dataset = apply_random_seed(dataset, _shared_generator(request.seed))
                fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                      collate_fn, drop_last)
                continue
            if request is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            task, index = request
            data: Any
            if init_exception is not None:
                data = init_exception
                init_exception = None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as error:
                    if isinstance(error, StopIteration) and dataset_kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
            _send(result_connection, task, data, worker_id)
            del data, task, index, request  # free the batch before waiting for the next
    except KeyboardInterrupt:
        pass  # the main process handles the interrupt and shuts the workers down
    except (BrokenPipeError, ConnectionResetError):
        pass  # the main process went away: nobody is left to answer
    finally:
        result_connection.close()


def _shared_generator(seed: int | None) -> Generator:
    """The generator shared by every worker's copy of a DataPipe graph (its shufflers must
    agree on the order before sharding)."""
    generator = Generator()
    if seed is not None:
        generator.manual_seed(seed)
    return generator
