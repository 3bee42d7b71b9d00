"""`init_process_group("nccl")`: collectives on CUDA tensors through NCCL (CuPy's binding,
`backends/nccl.py`). One process per GPU.

Rendezvous (every rank needs the same NCCL unique id, made by rank 0):
- `init_method=None` or `"mpi://"` (default): launched by `mpirun`; the id goes from rank 0 to
  the others with an MPI broadcast, rank and world size are MPI's, and each rank takes the GPU
  of its rank on its node (`cuda:<local rank>`, unless `device_id=` says otherwise).
- `init_method="env://"`: the launcher sets RANK, WORLD_SIZE, LOCAL_RANK and AUTODIFF_NCCL_ID
  (the hex string of `autodiff.distributed.nccl_unique_id()`, made once for the job).

Collectives are queued on the current CUDA stream and return without waiting (as PyTorch's
NCCL backend): what comes after them on that stream sees their result. The timeout applies
where the host waits for one: `Work.wait()`, `barrier()`, the agreement check each collective
starts with, and the end of DDP's backward; past it the communicator is aborted (NCCL's
ncclCommAbort), so a kernel stuck on a dead peer returns, and DistTimeoutError is raised.

Untested here: this repository's CI has no GPU. The code follows CuPy's NcclCommunicator API.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import backends
from backends import Device
from backends import comm as backend_comm

from .process_group import STARTUP_WAIT, ProcessGroup, Work, poll


def _import_nccl() -> Any:
    try:
        from backends import nccl as backend_nccl
    except ImportError as error:
        raise RuntimeError(
            "backend 'nccl' needs CuPy with NCCL: pip install \"autodiff[cuda,distributed]\" "
            f"(then NCCL for CuPy, see its docs). Import error: {error}"
        ) from None
    reason = backend_nccl.unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"backend 'nccl': {reason}")
    return backend_nccl


class _NcclWork(Work):
    def __init__(self, group: ProcessGroupNCCL, event: Any, what: str) -> None:
        self._group = group
        self._event = event
        self._what = what

    def is_completed(self) -> bool:
        return bool(self._event.done)

    def wait(self, timeout: timedelta | float | None = None) -> bool:
        started = time.monotonic()
        if not self._group.nccl.wait(self._event, self._group.deadline(timeout)):
            raise self._group.timed_out(self._what, time.monotonic() - started)
        return True


class ProcessGroupNCCL(ProcessGroup):
    backend_name = "nccl"
    waits_for_synchronous_ops = False

    def __init__(self, init_method: str | None, timeout: timedelta | float | None,
                 device_id: Any) -> None:
        super().__init__(timeout)
        self.nccl = _import_nccl()
        self.rank, self.size, local_rank, get_id = _rendezvous(init_method, self)
        if device_id is None:
            index = local_rank % max(backends.cuda_device_count(), 1)
        else:
            index = Device(device_id).index or 0
        self.device = Device("cuda", index)
        backends.cuda_set_device(index)  # NCCL and the current stream are per current device
        self._comm = self.nccl.NcclCommunicator(self.size, get_id(), self.rank, index)

    def buffer(self, tensor: Any, writable: bool = True) -> Any:
        device = tensor._backend.device
        if device != self.device:
            hint = ("use init_process_group(backend='mpi') for CPU tensors"
                    if device.type != "cuda" else "each rank communicates from its own GPU")
            raise RuntimeError(
                f"backend 'nccl' on rank {self.rank} communicates tensors on {self.device}, but "
                f"this tensor is on {device}: {hint}"
            )
        try:
            return backend_comm.check_dense(tensor._data, writable)
        except ValueError as error:
            raise RuntimeError(str(error)) from None

    def exchange_ints(self, values: list[int], deadline: float) -> list[list[int]] | None:
        return self._comm.exchange_ints(values, deadline)

    def all_reduce(self, array: Any, op: str, what: str, finish: Callable[[], None]) -> Work:
        self._comm.all_reduce(array, op)
        return self._queued(what, finish)

    def broadcast(self, array: Any, root: int, what: str, finish: Callable[[], None]) -> Work:
        self._comm.broadcast(array, root)
        return self._queued(what, finish)

    def all_gather(self, send: Any, recv: Any, what: str, finish: Callable[[], None]) -> Work:
        self._comm.all_gather(send, recv)
        return self._queued(what, finish)

    def reduce_scatter(self, send: Any, recv: Any, op: str, what: str,
                       finish: Callable[[], None]) -> Work:
        self._comm.reduce_scatter(send, recv, op)
        return self._queued(what, finish)

    def _queued(self, what: str, finish: Callable[[], None]) -> Work:
        finish()  # queued on the same stream: it runs after the collective, on the device
        return _NcclWork(self, self.nccl.record(), what)

    def abort(self) -> None:
        self._comm.abort()

    def destroy(self) -> None:
        if self._broken is None:
            self._comm.destroy()


def _rendezvous(init_method: str | None, group: ProcessGroupNCCL
                ) -> tuple[int, int, int, Callable[[], bytes]]:
    """(rank, world size, local rank, a function giving the job's NCCL unique id)."""
    if init_method in (None, "mpi://"):
        from .mpi import import_mpi

        MPI = import_mpi()
        world = MPI.COMM_WORLD
        local_rank = world.Split_type(MPI.COMM_TYPE_SHARED).Get_rank()

        def share_id() -> bytes:
            buffer = bytearray(group.nccl.unique_id() if world.Get_rank() == 0 else bytes(128))
            request = world.Ibcast(buffer, root=0)
            if not poll(request.Test, group.startup_deadline()):
                raise group.timed_out("init_process_group (sharing the NCCL id)",
                                      max(group.timeout, STARTUP_WAIT))
            return bytes(buffer)

        return world.Get_rank(), world.Get_size(), local_rank, share_id
    if init_method == "env://":
        missing = [name for name in ("RANK", "WORLD_SIZE", "AUTODIFF_NCCL_ID")
                   if name not in os.environ]
        if missing:
            raise ValueError(
                f"init_method='env://' needs the environment variables {', '.join(missing)} "
                "(AUTODIFF_NCCL_ID: the hex string of autodiff.distributed.nccl_unique_id(), "
                "the same on every rank)"
            )
        rank = int(os.environ["RANK"])
        uid = bytes.fromhex(os.environ["AUTODIFF_NCCL_ID"])
        return (rank, int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", rank)),
                lambda: uid)
    raise ValueError(f"backend 'nccl' supports init_method 'mpi://' (the default) and 'env://', "
                     f"got {init_method!r}")


def nccl_unique_id() -> str:
    """A new NCCL unique id as a hex string, for a launcher's AUTODIFF_NCCL_ID."""
    return _import_nccl().unique_id().hex()
