"""The default process group: what `init_process_group` makes and every collective goes through.

A `ProcessGroup` is one backend's view of the job (its rank, its size, its timeout) plus the
array-level collectives: `mpi.ProcessGroupMPI` (mpi4py, CPU tensors) and
`nccl.ProcessGroupNCCL` (CuPy's NCCL binding, CUDA tensors). `collectives.py` checks the tensors
and the ranks' agreement, then calls them.

Timeouts. Every collective is started non-blocking and waited for by polling it against a
deadline (`timeout=` of `init_process_group`, 30 minutes by default as in PyTorch). A rank that
waits longer raises `DistTimeoutError` instead of hanging on a peer that died, raised or went
into another collective; the group is unusable afterwards (the collective is still pending).
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

DEFAULT_TIMEOUT = timedelta(minutes=30)  # PyTorch's default_pg_timeout
# Ranks start seconds apart (imports, a busy or remote machine): the first handshake waits at
# least this long, however short the collectives' timeout.
STARTUP_WAIT = 60.0


class DistError(RuntimeError):
    """Raised by autodiff.distributed for errors of the distributed job (as torch.distributed)."""


class DistBackendError(DistError):
    """The communication backend failed, or the group is unusable after an earlier failure."""


class DistTimeoutError(DistBackendError):
    """A collective waited longer than the group's timeout for the other ranks."""


class RedOpType(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4


class ReduceOp:
    """Reductions for `all_reduce` and `reduce_scatter`: `ReduceOp.SUM`, `AVG`, `PRODUCT`,
    `MIN`, `MAX` (AVG needs floating point tensors)."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX


class Work:
    """The handle `async_op=True` returns: `wait()` blocks until the collective has finished
    on this rank (raising DistTimeoutError past the group's timeout, or `timeout` seconds)."""

    def wait(self, timeout: timedelta | float | None = None) -> bool:
        raise NotImplementedError

    def is_completed(self) -> bool:
        raise NotImplementedError


class _DoneWork(Work):
    """A collective that has already finished (e.g. a synchronous one)."""

    def wait(self, timeout: timedelta | float | None = None) -> bool:
        return True

    def is_completed(self) -> bool:
        return True


class ProcessGroup:
    """One backend's communicator for the whole job. Subclasses supply the array-level
    collectives; each takes `finish`, run once the result is in place (scaling for AVG,
    copying out of a staging buffer, bumping version counters)."""

    backend_name = "undefined"
    rank: int
    size: int
    # MPI waits for a synchronous collective; NCCL only queues it on the stream (as PyTorch).
    waits_for_synchronous_ops = True

    def __init__(self, timeout: timedelta | float | None) -> None:
        self.timeout = seconds(DEFAULT_TIMEOUT if timeout is None else timeout)
        self._broken: str | None = None

    # ----------------------------------------------------------------------------- to implement
    def buffer(self, tensor: Any, writable: bool = True) -> Any:
        """The tensor's array as this backend takes it (no copy); raises for a tensor on the
        wrong device or not contiguous."""
        raise NotImplementedError

    def exchange_ints(self, values: list[int], deadline: float) -> list[list[int]] | None:
        """Every rank's `values` (an allgather; also a barrier), or None past `deadline`."""
        raise NotImplementedError

    def all_reduce(self, array: Any, op: str, what: str, finish: Callable[[], None]) -> Work:
        raise NotImplementedError

    def broadcast(self, array: Any, root: int, what: str, finish: Callable[[], None]) -> Work:
        raise NotImplementedError

    def all_gather(self, send: Any, recv: Any, what: str, finish: Callable[[], None]) -> Work:
        raise NotImplementedError

    def reduce_scatter(self, send: Any, recv: Any, op: str, what: str,
                       finish: Callable[[], None]) -> Work:
        raise NotImplementedError

    def destroy(self) -> None:
        """Free the communicator (skipped when a collective is still pending after a timeout)."""

    # ----------------------------------------------------------------------------- shared
    def deadline(self, timeout: timedelta | float | None = None) -> float:
        return time.monotonic() + (self.timeout if timeout is None else seconds(timeout))

    def startup_deadline(self) -> float:
        return time.monotonic() + max(self.timeout, STARTUP_WAIT)

    def check_usable(self) -> None:
        if self._broken is not None:
            raise DistBackendError(
                f"the '{self.backend_name}' process group is unusable: {self._broken}. End the "
                "job (destroy_process_group(), then exit) and start it again."
            )

    def abort(self) -> None:
        """After a timeout: make what is stuck in the communicator give up, where possible."""

    def timed_out(self, what: str, waited: float) -> DistTimeoutError:
        """Mark the group broken (aborting its communicator) and return the error to raise."""
        self._broken = f"{what} timed out on rank {self.rank}"
        self.abort()
        return DistTimeoutError(
            f"{what} timed out after {waited:g} s on rank {self.rank} of {self.size}: another "
            "rank did not join it (it may have raised or crashed, or be waiting in a different "
            "collective). The timeout is init_process_group(timeout=...). This process group "
            "cannot be used any more."
        )


def seconds(timeout: timedelta | float) -> float:
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return float(timeout)
    raise TypeError(f"timeout must be a datetime.timedelta or a positive number of seconds, "
                    f"got {timeout!r}")


_SPINS = 64  # tests between two looks at the clock
_ROUNDS_BEFORE_YIELD = 16  # about 1000 tests, as MPICH's own wait (MPIR_CVAR_POLLS_BEFORE_YIELD)
_sched_yield: Callable[[], None] = getattr(os, "sched_yield", lambda: time.sleep(0))


def poll(test: Callable[[], bool], deadline: float) -> bool:
    """Call `test` until it answers True (then True) or `deadline` (time.monotonic()) passes.

    It spins, as MPI's own blocking calls do: MPICH moves a non-blocking collective along only
    inside MPI calls, so sleeping between tests would stall a large transfer. Like MPICH's wait
    it yields the core once every thousand tests or so, for ranks that share cores."""
    monotonic = time.monotonic
    rounds = 0
    while True:
        for _ in range(_SPINS):
            if test():
                return True
        if monotonic() >= deadline:
            return False
        rounds += 1
        if rounds % _ROUNDS_BEFORE_YIELD == 0:
            _sched_yield()


# ----------------------------------------------------------------------------- the default group
_world: ProcessGroup | None = None
_BACKENDS = ("mpi", "nccl")


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: timedelta | float | None = None, world_size: int = -1,
                       rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None, *,
                       abort_on_exception: bool = True) -> None:
    """Join the job's default process group.

    backend: "mpi" (CPU tensors, through mpi4py; the default) or "nccl" (CUDA tensors, one GPU
    per process, through CuPy's NCCL). Under `mpirun -n N`, rank and world size come from MPI.
    timeout: how long a rank waits in one collective for the others before DistTimeoutError
    (a timedelta or seconds; 30 minutes by default, as PyTorch). Joining the group itself
    waits at least a minute, since ranks start at different times.
    abort_on_exception (autodiff's own; "mpi" with more than one rank): an uncaught exception
    on any rank prints its traceback and then aborts the whole job (MPI_Abort) instead of
    leaving the other ranks to wait out the timeout.
    group_name is deprecated and ignored, as in PyTorch; pg_options (backend options, e.g.
    NCCL's) is refused: neither backend here takes any.
    """
    global _world
    if _world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None:
        raise ValueError("store= is not supported: the rendezvous is MPI's (or env:// for nccl)")
    if pg_options is not None:
        raise ValueError("pg_options= is not supported: autodiff's 'mpi' and 'nccl' process "
                         "groups take no backend options")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in _BACKENDS:
        raise ValueError(f"Invalid backend: '{backend}'; autodiff.distributed supports 'mpi' "
                         "(CPU tensors) and 'nccl' (CUDA tensors)")
    if name == "mpi":
        from .mpi import ProcessGroupMPI, check_world

        if init_method not in (None, "mpi://", "env://"):
            raise ValueError(f"backend 'mpi' takes its rendezvous from the MPI launcher; "
                             f"init_method={init_method!r} is not supported")
        group: ProcessGroup = ProcessGroupMPI(timeout, abort_on_exception)
        check_world(rank, world_size, group)  # type: ignore[arg-type]
    else:
        from .nccl import ProcessGroupNCCL

        group = ProcessGroupNCCL(init_method, timeout, device_id)
    _world = group


def destroy_process_group(group: Any = None) -> None:
    """Leave the default process group (its communicator is freed)."""
    global _world
    world = _default_group()
    if group is not None and group is not world:
        raise ValueError("only the default process group exists in autodiff.distributed")
    _world = None
    world.destroy()


def is_initialized() -> bool:
    return _world is not None


def _default_group(group: Any = None) -> ProcessGroup:
    if _world is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    if group is not None and group is not _world:
        raise ValueError("only the default process group exists in autodiff.distributed "
                         "(group=None or group.WORLD)")
    return _world


def get_rank(group: Any = None) -> int:
    """This process's rank in the group (0 ... world size - 1)."""
    return _default_group(group).rank


def get_world_size(group: Any = None) -> int:
    return _default_group(group).size


def get_backend(group: Any = None) -> str:
    return _default_group(group).backend_name


class GroupMember:
    """`group.WORLD`: the default process group (the only one autodiff.distributed has)."""

    @property
    def WORLD(self) -> ProcessGroup | None:
        return _world
