"""`DataLoader` (torch.utils.data.dataloader): batches from a dataset, loaded in the calling
process (`num_workers=0`) or by worker processes.

Both paths run the same fetchers (`_utils/fetch.py`). With workers, the main process keeps the
sampler: it hands out batches of indices round-robin to the workers, at most
`prefetch_factor * num_workers` at a time, and gives the batches back in sampler order (or as
they arrive, with `in_order=False`). It waits on the workers' pipes and on their process
sentinels at once, so a worker that dies is reported at once (never a hang), and a worker's
exception is re-raised with its traceback.
"""

from __future__ import annotations

import functools
import itertools
import math
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

import backends

from ...generator import Generator
from ...user_warnings import warn
from ._utils import exiting, transport
from ._utils.collate import default_collate, default_convert
from ._utils.fetch import _DatasetKind, _MapDatasetFetcher
from ._utils.pin_memory import pin_memory
from ._utils.worker import (
    MP_STATUS_CHECK_INTERVAL,
    ExceptionWrapper,
    _IterableDatasetStopIteration,
    _ResumeIteration,
    _worker_loop,
    get_worker_info,
)
from .datapipes.datapipe import (
    IterDataPipe,
    MapDataPipe,
    _IterDataPipeSerializationWrapper,
    _MapDataPipeSerializationWrapper,
)
from .dataset import Dataset, IterableDataset
from .graph_settings import apply_random_seed, apply_sharding, apply_shuffle_settings
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _draws_in_chunks,
    as_generator,
    random_seed,
)

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

T_co = TypeVar("T_co", covariant=True)


class _InfiniteConstantSampler(Sampler[None]):
    """The sampler of an IterableDataset: None forever (the stream decides when it ends)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


def _get_distributed_settings() -> tuple[int, int]:
    from ... import distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


def _sharding_worker_init_fn(worker_init_fn: Callable[[int], None] | None, world_size: int,
                             rank_id: int, worker_id: int) -> None:
    """Give each worker of each rank its own shard of a DataPipe graph, then run the user's
    worker_init_fn."""
    info = get_worker_info()
    if info is None:
        raise AssertionError("Worker info is None in sharding worker init function")
    total_workers = info.num_workers * world_size
    global_worker_id = worker_id * world_size + rank_id
    apply_sharding(info.dataset, total_workers, global_worker_id)
    if worker_init_fn is not None:
        worker_init_fn(worker_id)


def _share_dist_seed(generator: Generator | None) -> int:
    """A seed drawn on rank 0 and shared by every rank (DataPipe shufflers must agree)."""
    seed = random_seed(generator)
    world_size, _ = _get_distributed_settings()
    if world_size > 1:
        from ... import creation, dtypes
        from ... import distributed as dist

        shared = creation.tensor([seed], dtype=dtypes.int64)
        dist.broadcast(shared, src=0)
        seed = int(shared.item())
    return seed


class DataLoader(Generic[T_co]):
    """Iterates over `dataset` in batches of `batch_size` (see torch.utils.data.DataLoader).

    shuffle=True draws a new order every epoch from `generator` (an autodiff Generator or an
    int seed) or, without one, from a seed taken from autodiff's generator (so
    `autodiff.manual_seed` makes it reproducible). `num_workers > 0` loads in that many worker
    processes; each worker `i` seeds Python's, NumPy's and autodiff's generators with
    `base_seed + i`, where `base_seed` is drawn from `generator` for every epoch.
    `pin_memory=True` copies batches into page-locked memory when a CUDA device is present.
    """

    dataset: Any
    batch_size: int | None
    num_workers: int
    pin_memory: bool
    drop_last: bool
    timeout: float
    sampler: Sampler[Any] | Iterable[Any]
    pin_memory_device: str
    prefetch_factor: int | None
    _iterator: _BaseDataLoaderIter | None
    _initialized = False

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler[Any] | Iterable[Any] | None = None,
                 batch_sampler: Sampler[list[Any]] | Iterable[list[Any]] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[Any], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Any = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        # DataPipes cross to workers through a wrapper that pickles them (the graph may hold
        # lambdas, which plain pickling of the process arguments would refuse).
        if isinstance(self.dataset, IterDataPipe):
            self.dataset = _IterDataPipeSerializationWrapper(self.dataset)
        elif isinstance(self.dataset, MapDataPipe):
            self.dataset = _MapDataPipeSerializationWrapper(self.dataset)

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if isinstance(dataset, IterDataPipe):
                if shuffle is not None:
                    dataset = apply_shuffle_settings(dataset, shuffle=shuffle)
            elif shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        # One Generator object, shared with the default RandomSampler (as PyTorch shares it):
        # an int seed becomes a Generator once, so each epoch still differs.
        generator = as_generator(generator)
        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True
        self._IterableDataset_len_called: int | None = None
        self._iterator = None
        self.check_worker_number_rationality()

    def _get_iterator(self) -> _BaseDataLoaderIter:
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    @property
    def multiprocessing_context(self) -> Any:
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context: Any) -> None:
        if context is not None:
            if self.num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 "loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError("multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context "
                                "object or a string specifying the start method, but got "
                                f"multiprocessing_context={context}")
        self._multiprocessing_context = context

    def __setattr__(self, name: str, value: Any) -> None:
        if self._initialized and name in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                          "dataset", "persistent_workers"):
            raise ValueError(f"{name} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(name, value)

    def __iter__(self) -> _BaseDataLoaderIter:
        # Persistent workers: one iterator (and one set of workers) for every epoch.
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            # An estimate from the dataset's own length: each worker may end with a short batch.
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else math.ceil(length / self.batch_size))
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn when asked for more workers than this process has CPUs."""
        if not self.num_workers:
            return
        cpuset_checked = hasattr(os, "sched_getaffinity")
        suggested = len(os.sched_getaffinity(0)) if cpuset_checked else os.cpu_count()
        if suggested is not None and self.num_workers <= suggested:
            return
        if suggested is None:
            advice = ("DataLoader is not able to compute a suggested max number of worker in "
                      "current system.")
        else:
            advice = (f"Our suggested max number of worker in current system is {suggested}"
                      f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}, "
                      "which is smaller than what this DataLoader is going to create.")
        warn(
            f"This DataLoader will create {self.num_workers} worker processes in total. "
            f"{advice} Please be aware that excessive worker creation might get DataLoader "
            "running slow or even freeze, lower the worker number to avoid potential "
            "slowness/freeze if necessary.", stacklevel=2)


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader[Any]) -> None:
        self._dataset = loader.dataset
        self._shared_seed: int | None = None
        if isinstance(self._dataset, IterDataPipe):
            self._shared_seed = _share_dist_seed(loader.generator)
            self._dataset = apply_random_seed(self._dataset,
                                              Generator().manual_seed(self._shared_seed))
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._world_size, self._rank = _get_distributed_settings()
        if loader.pin_memory and loader.pin_memory_device:
            warn("pin_memory_device is deprecated, the current accelerator will be used "
                 f"as the device,ignore pin_memory_device='{loader.pin_memory_device}'.",
                 stacklevel=2)
        # Only asked when pinning: without CuPy, the answer costs a failed import each time.
        accelerator = loader.pin_memory and backends.cuda_device_count() > 0
        if loader.pin_memory and not accelerator:
            warn("'pin_memory' argument is set as true but no accelerator is found, "
                 "then device pinned memory won't be used.", stacklevel=2)
        self._pin_memory = loader.pin_memory and accelerator
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter: Iterator[Any] | None = iter(self._index_sampler)
        # Drawn for every epoch, with or without workers (as PyTorch draws it).
        self._base_seed = random_seed(loader.generator)
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def _reset(self, loader: DataLoader[Any], first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        if isinstance(self._dataset, IterDataPipe):
            self._shared_seed = _share_dist_seed(loader.generator)
            self._dataset = apply_random_seed(self._dataset,
                                              Generator().manual_seed(self._shared_seed))

    def _next_index(self) -> Any:
        assert self._sampler_iter is not None
        return next(self._sampler_iter)  # may raise StopIteration

    def _next_data(self) -> Any:
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable
                and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            message = (f"Length of IterableDataset {self._dataset} was reported to be "
                       f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
                       f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                message += ("For multiprocessing data-loading, this could be caused by not "
                            "properly configuring the IterableDataset replica at each worker. "
                            "Please see https://pytorch.org/docs/stable/data.html#torch.utils."
                            "data.IterableDataset for examples.")
            warn(message, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self) -> Any:
        raise NotImplementedError("{} cannot be pickled", self.__class__.__name__)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader[Any]) -> None:
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        if isinstance(self._dataset, (IterDataPipe, MapDataPipe)):
            apply_sharding(self._dataset, self._world_size, self._rank)
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
            self._drop_last)
        # A TensorDataset batched by the built-in samplers: the batches' indices stay arrays
        # from the sampler's draw to the gather (the same batches, no Python ints between).
        sampler = self._index_sampler
        self._index_arrays = (
            type(sampler) is BatchSampler and _draws_in_chunks(sampler.sampler)
            and isinstance(self._dataset_fetcher, _MapDatasetFetcher)
            and self._dataset_fetcher.gathers_index_arrays())
        if self._index_arrays:
            self._sampler_iter = sampler._index_arrays()

    def _next_data(self) -> Any:
        index = self._next_index()  # may raise StopIteration
        if self._index_arrays:
            data = self._dataset_fetcher.fetch_rows(*index)  # type: ignore[attr-defined]
        else:
            data = self._dataset_fetcher.fetch(index)  # may raise StopIteration
        return pin_memory(data) if self._pin_memory else data


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """One epoch (or, with persistent workers, every epoch) of loading by worker processes.

    Bookkeeping, as PyTorch's: task `i` is the i-th batch of indices sent; `_task_info[i]` says
    which worker has it and holds its data if it arrived before its turn; `_rcvd_idx` is the
    next task to hand out, `_send_idx` the next to send.
    """

    def __init__(self, loader: DataLoader[Any]) -> None:
        super().__init__(loader)
        assert loader.prefetch_factor is not None
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            raise AssertionError(
                "prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter")
        context = loader.multiprocessing_context or multiprocessing.get_context()
        self._worker_init_fn = loader.worker_init_fn
        if isinstance(self._dataset, (IterDataPipe, MapDataPipe)):
            self._worker_init_fn = functools.partial(
                _sharding_worker_init_fn, self._worker_init_fn, self._world_size, self._rank)
        self._shutdown = False
        self._workers: list[Any] = []
        self._index_queues: list[Any] = []
        self._connections: list[Any] = []  # the read end of each worker's result pipe
        self._workers_status: list[bool] = []
        self._workers_done_event = context.Event()
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()  # never wait at exit for unread indices
            reader, writer = context.Pipe(duplex=False)
            transport.enlarge(reader)
            worker = context.Process(
                target=_worker_loop,
                args=(self._dataset_kind, self._dataset, index_queue, writer,
                      self._workers_done_event, self._auto_collation, self._collate_fn,
                      self._drop_last, self._base_seed, self._worker_init_fn, worker_id,
                      self._num_workers, self._persistent_workers, self._shared_seed),
                daemon=True)
            self._index_queues.append(index_queue)
            self._connections.append(reader)
            self._workers_status.append(False)
            try:
                worker.start()
            except (TypeError, AttributeError, pickle.PicklingError):
                warn(
                    "Got pickle error when attempting to start a worker Process. This might be "
                    "because the worker Process arguments are not picklable. Python 3.14+ "
                    "changed the multiprocessing start method in non-Mac POSIX platforms to "
                    "'forkserver', which requires the worker Process arguments to be picklable. "
                    "You can also try multiprocessing.set_start_method('fork').", stacklevel=2)
                self._shutdown_workers()
                raise
            finally:
                # Only the worker holds the write end now: if it dies, reading gives EOF.
                writer.close()
            self._workers.append(worker)
            self._workers_status[worker_id] = True
        self._reset(loader, first_iter=True)

    def _reset(self, loader: DataLoader[Any], first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info: dict[int, _Task] = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # Persistent workers: start every worker's new epoch and wait until all have.
            for index_queue in self._index_queues:
                index_queue.put(_ResumeIteration(self._shared_seed))
            remaining = self._num_workers
            while remaining > 0:
                task, data = self._get_data()
                if isinstance(task, _ResumeIteration):
                    assert data is None
                    remaining -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    # ------------------------------------------------------------------------- receiving
    def _try_get_data(self, timeout: float = MP_STATUS_CHECK_INTERVAL) -> tuple[bool, Any]:
        """(True, (task, data)) from whichever worker answers first within `timeout` seconds,
        or (False, None). A worker that exits while it should be working raises."""
        active = {worker.sentinel: worker_id for worker_id, worker in enumerate(self._workers)
                  if self._workers_status[worker_id]}
        readers = [connection for connection in self._connections if not connection.closed]
        ready = multiprocessing.connection.wait(readers + list(active), timeout)
        failed = []
        for handle in ready:
            if handle in active:
                worker_id = active[handle]
                connection = self._connections[worker_id]
                if not connection.closed and connection.poll():
                    try:
                        return True, self._receive(worker_id)  # its last words came first
                    except EOFError:  # (a killed worker's pipe polls ready at its end)
                        connection.close()
                failed.append(worker_id)
            else:
                worker_id = self._connections.index(handle)
                try:
                    return True, self._receive(worker_id)
                except EOFError:
                    self._connections[worker_id].close()
                    if self._workers_status[worker_id]:
                        failed.append(worker_id)
        if failed:
            self._report_failed(sorted(set(failed)))
        return False, None

    def _receive(self, worker_id: int) -> Any:
        return transport.receive(self._connections[worker_id])

    def _report_failed(self, worker_ids: list[int]) -> None:
        reasons = []
        for worker_id in worker_ids:
            worker = self._workers[worker_id]
            worker.join(timeout=MP_STATUS_CHECK_INTERVAL)  # the exit code
            reasons.append(_exit_reason(worker))
            self._mark_worker_as_unavailable(worker_id)
        pids = ", ".join(str(self._workers[worker_id].pid) for worker_id in worker_ids)
        raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") \
            from RuntimeError(" ".join(reasons))

    def _get_data(self) -> Any:
        if self._timeout > 0:
            success, data = self._try_get_data(self._timeout)
            if success:
                return data
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        while True:
            success, data = self._try_get_data()
            if success:
                return data

    def _next_data(self) -> Any:
        while True:
            # Skip tasks whose worker has finished its stream (an IterableDataset's end).
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None:
                    if info.arrived or self._workers_status[info.worker_id]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if self._task_info[self._rcvd_idx].arrived:  # arrived early, kept until now
                info = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(info.data, info.worker_id)
            assert not self._shutdown and self._tasks_outstanding > 0
            task, data = self._get_data()
            self._tasks_outstanding -= 1
            if self._dataset_kind == _DatasetKind.Iterable and \
                    isinstance(data, _IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if task != self._rcvd_idx:
                if not self._in_order:
                    return self._process_data(data, self._task_info.pop(task).worker_id)
                self._task_info[task].keep(data)
            else:
                self._rcvd_idx += 1
                return self._process_data(data, self._task_info.pop(task).worker_id)

    # ------------------------------------------------------------------------- sending
    def _try_put_index(self) -> None:
        max_tasks = self._prefetch_factor * self._num_workers
        assert self._tasks_outstanding < max_tasks
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next active worker, if any
            worker_id = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_id]:
                if self._in_order:
                    break
                if self._workers_num_tasks[worker_id] < max_tasks // sum(self._workers_status):
                    break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = _Task(worker_id)
        self._workers_num_tasks[worker_id] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data: Any, worker_id: int) -> Any:
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return pin_memory(data) if self._pin_memory else data

    # ------------------------------------------------------------------------- shutting down
    def _mark_worker_as_unavailable(self, worker_id: int, shutdown: bool = False) -> None:
        """No more tasks for this worker; it is told to stop (None)."""
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self) -> None:
        if exiting() or self._shutdown:
            return  # at interpreter exit multiprocessing terminates the daemonic workers
        self._shutdown = True
        try:
            self._workers_done_event.set()
            for worker_id in range(len(self._workers)):
                if self._persistent_workers or self._workers_status[worker_id]:
                    self._mark_worker_as_unavailable(worker_id, shutdown=True)
            # A worker blocked writing a batch nobody will read gets a broken pipe and exits.
            for connection in self._connections:
                connection.close()
            for worker in self._workers:
                worker.join(timeout=MP_STATUS_CHECK_INTERVAL)
            for index_queue in self._index_queues:
                index_queue.cancel_join_thread()
                index_queue.close()
        finally:
            for worker in self._workers:
                if worker.is_alive():
                    worker.terminate()
                    worker.join(timeout=MP_STATUS_CHECK_INTERVAL)

    def __del__(self) -> None:
        if hasattr(self, "_workers"):
            self._shutdown_workers()


class _Task:
    """A batch of indices sent to a worker: which worker has it, and its data once it arrived
    before its turn."""

    __slots__ = ("arrived", "data", "worker_id")

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id
        self.arrived = False
        self.data: Any = None

    def keep(self, data: Any) -> None:
        self.data = data
        self.arrived = True


def _exit_reason(worker: Any) -> str:
    """PyTorch's description of how a worker ended."""
    code = worker.exitcode
    if code is not None and code < 0:
        try:
            name = signal.strsignal(-code) or f"signal {-code}"
        except ValueError:
            name = f"signal {-code}"
        return f"DataLoader worker (pid {worker.pid}) is killed by signal: {name}. "
    return (f"DataLoader worker (pid {worker.pid}) exited unexpectedly with exit code {code}. "
            "Details are lost due to multiprocessing. Rerunning with num_workers=0 may give "
            "better error trace.")
