"""`autodiff.distributed`: data-parallel training over MPI (CPU) and NCCL (CUDA), shaped like
`torch.distributed`.

    import autodiff.distributed as dist
    dist.init_process_group("mpi")        # launched as: mpirun -n 2 python train.py
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)

Backends are proven engines, not a protocol of our own: "mpi" runs mpi4py's non-blocking
collectives on the tensors' own memory (zero copy), "nccl" runs NCCL through CuPy on the
current CUDA stream. `pip install "autodiff[distributed]"` installs mpi4py and an MPI (MPICH).
`autodiff.nn.parallel.DistributedDataParallel` and `autodiff.utils.data.DistributedSampler`
build data-parallel training on these.
"""

from __future__ import annotations

from .collectives import (
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    reduce_scatter,
    reduce_scatter_tensor,
)
from .process_group import (
    DEFAULT_TIMEOUT as default_pg_timeout,
)
from .process_group import (
    DistBackendError,
    DistError,
    DistTimeoutError,
    GroupMember,
    ProcessGroup,
    ReduceOp,
    Work,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_initialized,
)

group = GroupMember()


def is_available() -> bool:
    """True: the package is always there (whether a backend can run is is_mpi_available() /
    is_nccl_available())."""
    return True


def is_mpi_available() -> bool:
    """True when mpi4py and an MPI library can be imported (this does not initialise MPI)."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available() -> bool:
    """True when CuPy with NCCL support is installed."""
    try:
        from backends import nccl
    except ImportError:
        return False
    return nccl.unavailable_reason() is None


def nccl_unique_id() -> str:
    """A new NCCL unique id (hex) for init_method='env://' launchers (AUTODIFF_NCCL_ID)."""
    from .nccl import nccl_unique_id as make

    return make()


__all__ = [
    "DistBackendError", "DistError", "DistTimeoutError", "ProcessGroup", "ReduceOp", "Work",
    "all_gather", "all_gather_into_tensor", "all_reduce", "barrier", "broadcast",
    "default_pg_timeout", "destroy_process_group", "get_backend", "get_rank", "get_world_size",
    "group", "init_process_group", "is_available", "is_initialized", "is_mpi_available",
    "is_nccl_available", "nccl_unique_id", "reduce_scatter", "reduce_scatter_tensor",
]
