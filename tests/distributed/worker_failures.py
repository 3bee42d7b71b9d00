"""A rank that raises must not leave the others hanging.

    mpiexec -n K python worker_failures.py timeout   # rank 1 raises; the others time out
    mpiexec -n K python worker_failures.py abort     # rank 1 raises; the job is aborted
    mpiexec -n K python worker_failures.py backward  # rank 1 skips DDP's backward

Run by test_failures.py, which checks what each rank reported and that the job ended.
"""

from __future__ import annotations

import sys

from harness import report

import autodiff as torch
import autodiff.distributed as dist
from autodiff import nn


def fail_on_rank_1() -> None:
    if dist.get_rank() == 1:
        raise ValueError("rank 1 fails on purpose")


def timeout() -> None:
    # Short enough to keep the test quick, long enough that a busy machine does not time out
    # the collectives that are meant to succeed.
    dist.init_process_group("mpi", timeout=4.0, abort_on_exception=False)
    rank = dist.get_rank()
    fail_on_rank_1()  # uncaught on rank 1: its process ends, the others wait for it
    try:
        dist.all_reduce(torch.ones(3))
    except dist.DistTimeoutError as error:
        message = str(error)
        assert "all_reduce timed out after" in message, message
        assert f"on rank {rank} of {dist.get_world_size()}" in message, message
        assert "another rank did not join it" in message, message
        report(f"PASS collective_times_out rank={rank}")
    try:
        dist.barrier()
    except dist.DistBackendError as error:
        assert "process group is unusable" in str(error), str(error)
        report(f"PASS group_unusable_after_timeout rank={rank}")
    dist.destroy_process_group()


def abort() -> None:
    dist.init_process_group("mpi", timeout=600.0)  # abort_on_exception=True is the default
    report(f"PASS entered_collective rank={dist.get_rank()}")
    fail_on_rank_1()  # uncaught on rank 1: traceback, then MPI_Abort ends every rank
    dist.all_reduce(torch.ones(3))
    report(f"FAIL not_aborted rank={dist.get_rank()}: the collective returned")


def backward() -> None:
    # Short enough to keep the test quick, long enough that a busy machine does not time out
    # the collectives that are meant to succeed.
    dist.init_process_group("mpi", timeout=4.0, abort_on_exception=False)
    rank = dist.get_rank()
    model = nn.parallel.DistributedDataParallel(nn.Linear(4, 2))
    loss = model(torch.ones(3, 4)).sum()
    if rank == 1:
        return  # never runs backward: the others wait for its gradients
    try:
        loss.backward()
    except dist.DistTimeoutError as error:
        assert "DistributedDataParallel (gradient bucket 0) timed out" in str(error), str(error)
        report(f"PASS backward_times_out rank={rank}")


if __name__ == "__main__":
    {"timeout": timeout, "abort": abort, "backward": backward}[sys.argv[1]]()
