"""`init_process_group("mpi")`: collectives on CPU tensors through mpi4py.

Each tensor's NumPy array goes to MPI through the buffer protocol (`backends.comm.host_buffer`
hands over the array itself): an all-reduce works in place on the tensor's memory
(`MPI.IN_PLACE`), with no copy on either side. Collectives run on a duplicate of
`MPI.COMM_WORLD`, so they never mix with the user's own MPI messages.

Launch with any MPI's launcher: `mpirun -n 2 python train.py` (the `mpich` wheel puts `mpirun`
in the virtual environment's bin/; with a system MPI such as Debian's Open MPI, mpi4py must be
built against it: `pip install --no-binary mpi4py mpi4py`).
"""

from __future__ import annotations

import array
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from backends import comm as backend_comm

from .process_group import STARTUP_WAIT, DistBackendError, ProcessGroup, Work, poll

INSTALL_HINT = 'pip install "autodiff[distributed]"'


def import_mpi() -> Any:
    """mpi4py's MPI module (initialising MPI), or a RuntimeError that names the fix."""
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError, OSError) as error:
        raise RuntimeError(
            "backend 'mpi' needs mpi4py and an MPI library: "
            f"{INSTALL_HINT} installs both (mpi4py and the mpich wheel). A system MPI works too "
            "(e.g. Debian's openmpi-bin and libopenmpi-dev, then "
            f"pip install --no-binary mpi4py mpi4py). Import error: {error}"
        ) from None
    return MPI


class _MpiWork(Work):
    def __init__(self, group: ProcessGroupMPI, request: Any, what: str,
                 finish: Callable[[], None]) -> None:
        self._group = group
        self._request = request
        self._what = what
        self._finish: Callable[[], None] | None = finish

    def is_completed(self) -> bool:
        if self._finish is not None and self._request.Test():
            self._complete()
        return self._finish is None

    def wait(self, timeout: timedelta | float | None = None) -> bool:
        if self._finish is None:
            return True
        started = time.monotonic()
        if not poll(self._request.Test, self._group.deadline(timeout)):
            raise self._group.timed_out(self._what, time.monotonic() - started)
        self._complete()
        return True

    def _complete(self) -> None:
        finish, self._finish = self._finish, None
        if finish is not None:
            finish()


class ProcessGroupMPI(ProcessGroup):
    """The whole MPI job (MPI.COMM_WORLD, duplicated) as one process group of CPU tensors."""

    backend_name = "mpi"

    def __init__(self, timeout: timedelta | float | None, abort_on_exception: bool) -> None:
        super().__init__(timeout)
        MPI = import_mpi()
        self._MPI = MPI
        world = MPI.COMM_WORLD
        self.rank = world.Get_rank()
        self.size = world.Get_size()
        self._ops = {"sum": MPI.SUM, "product": MPI.PROD, "max": MPI.MAX, "min": MPI.MIN,
                     "lor": MPI.LOR, "land": MPI.LAND}
        self._comm, request = world.Idup()
        if not poll(request.Test, self.startup_deadline()):
            raise self.timed_out("init_process_group (duplicating MPI.COMM_WORLD)",
                                 max(self.timeout, STARTUP_WAIT))
        self._previous_excepthook: Any = None
        if abort_on_exception and self.size > 1:
            self._install_abort_hook()

    # ----------------------------------------------------------------------------- buffers
    def buffer(self, tensor: Any, writable: bool = True) -> Any:
        device = tensor._backend.device
        if device.type != "cpu":
            raise RuntimeError(
                f"backend 'mpi' communicates CPU tensors, but this tensor is on {device}: move "
                "it with .cpu(), or use init_process_group(backend='nccl') for CUDA tensors"
            )
        try:
            return backend_comm.host_buffer(tensor._backend, tensor._data, writable=writable)
        except ValueError as error:
            raise RuntimeError(str(error)) from None

    # ----------------------------------------------------------------------------- collectives
    def exchange_ints(self, values: list[int], deadline: float) -> list[list[int]] | None:
        send = array.array("q", values)
        recv = array.array("q", bytes(8 * len(values) * self.size))
        request = self._comm.Iallgather(send, recv)
        if not poll(request.Test, deadline):
            return None
        width = len(values)
        return [recv[start:start + width].tolist() for start in range(0, len(recv), width)]

    def all_reduce(self, array: Any, op: str, what: str, finish: Callable[[], None]) -> Work:
        request = self._comm.Iallreduce(self._MPI.IN_PLACE, array, op=self._ops[op])
        return self._started(request, what, finish)

    def broadcast(self, array: Any, root: int, what: str, finish: Callable[[], None]) -> Work:
        return self._started(self._comm.Ibcast(array, root=root), what, finish)

    def all_gather(self, send: Any, recv: Any, what: str, finish: Callable[[], None]) -> Work:
        return self._started(self._comm.Iallgather(send, recv), what, finish)

    def reduce_scatter(self, send: Any, recv: Any, op: str, what: str,
                       finish: Callable[[], None]) -> Work:
        request = self._comm.Ireduce_scatter_block(send, recv, op=self._ops[op])
        return self._started(request, what, finish)

    def _started(self, request: Any, what: str, finish: Callable[[], None]) -> Work:
        return _MpiWork(self, request, what, finish)

    # ----------------------------------------------------------------------------- teardown
    def destroy(self) -> None:
        if self._previous_excepthook is not None:
            sys.excepthook = self._previous_excepthook
            self._previous_excepthook = None
        if self._broken is None:
            self._comm.Free()

    def _install_abort_hook(self) -> None:
        """An uncaught exception on one rank prints its traceback, then ends every rank
        (MPI_Abort) instead of leaving them waiting in their next collective."""
        previous = sys.excepthook
        world = self._MPI.COMM_WORLD

        def abort_on_uncaught(kind: Any, value: Any, traceback: Any) -> None:
            previous(kind, value, traceback)
            sys.stderr.flush()
            sys.stdout.flush()
            # The launcher forwards each rank's output asynchronously and MPI_Abort kills the
            # forwarders: a moment's grace lets the traceback reach the user in full.
            time.sleep(1.0)
            world.Abort(1)

        self._previous_excepthook = previous
        sys.excepthook = abort_on_uncaught


def check_world(rank: int, world_size: int, group: ProcessGroupMPI) -> None:
    """rank= and world_size= given to init_process_group must be what MPI says (or -1)."""
    if world_size not in (-1, group.size) or rank not in (-1, group.rank):
        raise DistBackendError(
            f"init_process_group(backend='mpi', rank={rank}, world_size={world_size}): MPI "
            f"started this process as rank {group.rank} of {group.size}; leave rank and "
            "world_size out (the MPI launcher sets them: mpirun -n N python script.py)"
        )
