"""Collectives on tensors, shaped like torch.distributed's: results are written in place into
the tensors given (their version counters are bumped, as for any in-place op).

Every collective first makes the ranks agree on what they are doing: an allgather of a few
integers per rank (which collective, its op or root, dtype, shape). Should any rank differ, or
have rejected its own arguments, every rank raises (DistError naming each rank's call) instead
of hanging, or corrupting memory with mismatched sizes. That exchange is also where a rank
that never arrives is noticed: past the group's timeout, DistTimeoutError.

async_op=True returns a `Work` (call `.wait()`); otherwise MPI returns when the result is in
place, and NCCL once the collective is queued on the current stream (as PyTorch).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from backends import comm as backend_comm

from .. import dtypes
from ..tensor import Tensor
from .process_group import (
    DistError,
    ProcessGroup,
    RedOpType,
    ReduceOp,
    Work,
    _default_group,
    _DoneWork,
)

_BARRIER, _ALL_REDUCE, _BROADCAST, _ALL_GATHER, _REDUCE_SCATTER, _REJECTED = range(6)
_KIND_NAMES = ("barrier", "all_reduce", "broadcast", "all_gather", "reduce_scatter")
_DTYPE_NAMES = tuple(dtypes.BY_NAME)
_SHOWN_DIMS = 6  # dims carried in the signature (a hash covers longer shapes)


# ----------------------------------------------------------------------------- the collectives
def all_reduce(tensor: Tensor, op: Any = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Reduce `tensor` over all ranks, in place: afterwards every rank holds the result."""
    pg = _default_group(group)

    def prepare() -> tuple[Any, str, bool]:
        _check_tensor(tensor, "tensor")
        name, average = _reduce_op(op, tensor)
        return pg.buffer(tensor), name, average

    array, name, average = _agreed(pg, _ALL_REDUCE, op.value if isinstance(op, RedOpType)
                                   else 0, tensor, prepare)
    finish = _finisher(pg, [tensor], array if average else None)
    return _result(pg, pg.all_reduce(array, name, "all_reduce", finish), async_op)


def broadcast(tensor: Tensor, src: int | None = None, group: Any = None, async_op: bool = False,
              group_src: int | None = None) -> Work | None:
    """Copy `tensor` of rank `src` into `tensor` of every other rank."""
    pg = _default_group(group)
    root = src if src is not None else group_src

    def prepare() -> Any:
        _check_tensor(tensor, "tensor")
        if root is None:
            raise ValueError("broadcast needs src (the rank whose tensor is sent)")
        if not isinstance(root, int) or not 0 <= root < pg.size:
            raise ValueError(f"src rank {root} is out of range for a group of {pg.size} ranks")
        return pg.buffer(tensor)

    array = _agreed(pg, _BROADCAST, root if isinstance(root, int) else -1, tensor, prepare)
    finish = _finisher(pg, [tensor] if pg.rank != root else [], None)
    return _result(pg, pg.broadcast(array, root, "broadcast", finish), async_op)  # type: ignore[arg-type]


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: Any = None,
               async_op: bool = False) -> Work | None:
    """`tensor_list[i]` receives rank i's `tensor` (a list of world size tensors like it)."""
    pg = _default_group(group)

    def prepare() -> tuple[Any, Any]:
        _check_tensor(tensor, "tensor")
        _check_list(pg, tensor_list, tensor, "tensor_list")
        send = pg.buffer(tensor, writable=False)
        backend = tensor._backend
        recv = backend.empty((pg.size, *tensor.shape), tensor.dtype.name)
        return send, recv

    send, recv = _agreed(pg, _ALL_GATHER, 0, tensor, prepare)
    backend = tensor._backend

    def copy_out() -> None:
        for rank, output in enumerate(tensor_list):
            backend.setitem(output._data, (...,), recv[rank])
            output._bump_version()

    return _result(pg, pg.all_gather(send, recv, "all_gather", copy_out), async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: Any = None,
                           async_op: bool = False) -> Work | None:
    """`output_tensor` (world size times `input_tensor`'s elements, stacked or concatenated
    along dim 0) receives every rank's `input_tensor` in rank order, with no staging copy."""
    pg = _default_group(group)

    def prepare() -> tuple[Any, Any]:
        _check_tensor(output_tensor, "output_tensor")
        _check_tensor(input_tensor, "input_tensor")
        _check_sizes(output_tensor, input_tensor, pg.size, "output_tensor", "input_tensor")
        return pg.buffer(input_tensor, writable=False), pg.buffer(output_tensor)

    send, recv = _agreed(pg, _ALL_GATHER, 1, input_tensor, prepare)
    finish = _finisher(pg, [output_tensor], None)
    return _result(pg, pg.all_gather(send, recv, "all_gather_into_tensor", finish), async_op)


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: Any = ReduceOp.SUM,
                   group: Any = None, async_op: bool = False) -> Work | None:
    """`output` of rank i receives the reduction over ranks of their `input_list[i]`."""
    pg = _default_group(group)

    def prepare() -> tuple[Any, Any, str, bool]:
        _check_tensor(output, "output")
        _check_list(pg, input_list, output, "input_list")
        name, average = _reduce_op(op, output)
        backend = output._backend
        # One staging copy: MPI and NCCL take the blocks as one contiguous buffer.
        send = backend.concat([backend.reshape(t._data, (-1,)) for t in input_list])
        return send, pg.buffer(output), name, average

    send, recv, name, average = _agreed(
        pg, _REDUCE_SCATTER, op.value if isinstance(op, RedOpType) else 0, output, prepare)
    finish = _finisher(pg, [output], recv if average else None)
    return _result(pg, pg.reduce_scatter(send, recv, name, "reduce_scatter", finish), async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: Any = ReduceOp.SUM,
                          group: Any = None, async_op: bool = False) -> Work | None:
    """Like reduce_scatter with `input` the world size blocks of `output`'s size laid end to
    end (dim 0): no staging copy."""
    pg = _default_group(group)

    def prepare() -> tuple[Any, Any, str, bool]:
        _check_tensor(output, "output")
        _check_tensor(input, "input")
        _check_sizes(input, output, pg.size, "input", "output")
        name, average = _reduce_op(op, output)
        return pg.buffer(input, writable=False), pg.buffer(output), name, average

    send, recv, name, average = _agreed(
        pg, _REDUCE_SCATTER, 16 + (op.value if isinstance(op, RedOpType) else 0), output,
        prepare)
    finish = _finisher(pg, [output], recv if average else None)
    return _result(pg, pg.reduce_scatter(send, recv, name, "reduce_scatter_tensor", finish),
                   async_op)


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Return once every rank has called barrier (DistTimeoutError past the group's timeout).

    device_ids: [index], the GPU a "nccl" barrier runs on; it must be the group's own (one
    GPU per process here). The "mpi" barrier runs on no device, as in PyTorch."""
    pg = _default_group(group)
    if device_ids is not None:
        if not isinstance(device_ids, list):
            raise TypeError("Invalid function argument: device_ids type should be List[int]")
        device = getattr(pg, "device", None)  # the "nccl" group's GPU
        if device is not None and device_ids and device_ids[0] != device.index:
            raise ValueError(f"barrier(device_ids={device_ids}): this process's 'nccl' group "
                             f"runs on {device} only")
    _agreed(pg, _BARRIER, 0, None, lambda: None)
    return _DoneWork() if async_op else None


# ----------------------------------------------------------------------------- agreement
def _agreed(pg: ProcessGroup, kind: int, argument: int, tensor: Tensor | None,
            prepare: Callable[[], Any]) -> Any:
    """Run the local checks (`prepare`), then exchange signatures with every rank: return what
    `prepare` made if all ranks call the same collective on the same shapes; otherwise raise,
    on every rank."""
    pg.check_usable()
    try:
        prepared = prepare()
        signature = _signature(kind, argument, tensor)
    except Exception:
        # Tell the others before raising here, so they raise too instead of waiting.
        _exchange(pg, _signature(_REJECTED, 0, None), _KIND_NAMES[kind])
        raise
    everyone = _exchange(pg, signature, _KIND_NAMES[kind])
    if any(other != signature for other in everyone):
        calls = "; ".join(f"rank {rank}: {_describe(other)}" for rank, other in enumerate(everyone))
        raise DistError(
            f"{_KIND_NAMES[kind]}: the ranks disagree on this collective (running it would hang "
            f"or corrupt memory): {calls}"
        )
    return prepared


def _exchange(pg: ProcessGroup, signature: list[int], what: str) -> list[list[int]]:
    started = time.monotonic()
    everyone = pg.exchange_ints(signature, pg.deadline())
    if everyone is None:
        raise pg.timed_out(what, time.monotonic() - started)
    return everyone


def _signature(kind: int, argument: int, tensor: Tensor | None) -> list[int]:
    if tensor is None:
        return [kind, argument, -1, -1, 0, 0] + [-1] * _SHOWN_DIMS
    shape = tuple(tensor.shape)
    shown = list(shape[:_SHOWN_DIMS]) + [-1] * (_SHOWN_DIMS - min(len(shape), _SHOWN_DIMS))
    # hash() of a tuple of ints is the same in every process (no hash randomisation for ints).
    return [kind, argument, _DTYPE_NAMES.index(tensor.dtype.name), len(shape),
            tensor.numel(), hash(shape), *shown]


def _describe(signature: list[int]) -> str:
    kind, argument, dtype_code, ndim, numel = signature[:5]
    if kind == _REJECTED:
        return "rejected its arguments (see the error raised there)"
    name = _KIND_NAMES[kind]
    if kind in (_ALL_REDUCE, _REDUCE_SCATTER):
        if argument >= 16:
            name, argument = name + "_tensor", argument - 16
        name += f"({RedOpType(argument).name})" if argument in (0, 1, 2, 3, 4) else ""
    elif kind == _BROADCAST:
        name += f"(src={argument})"
    elif kind == _ALL_GATHER and argument == 1:
        name += "_into_tensor"
    if ndim < 0:
        return name
    dims = signature[6:6 + min(ndim, _SHOWN_DIMS)]
    shape = f"({dims[0]},)" if ndim == 1 else f"({', '.join(map(str, dims))})"
    if ndim > _SHOWN_DIMS:
        shape = f"({', '.join(map(str, dims))}, ...) [{numel} elements]"
    return f"{name} of a {_DTYPE_NAMES[dtype_code]} tensor of shape {shape}"


# ----------------------------------------------------------------------------- local checks
def _check_tensor(value: Any, name: str) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor but got {type(value)} instead.")


def _check_list(pg: ProcessGroup, tensors: Any, like: Tensor, name: str) -> None:
    if not isinstance(tensors, (list, tuple)) or len(tensors) != pg.size:
        got = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{name} must be a list of {pg.size} tensors (one per rank), got {got}")
    for index, tensor in enumerate(tensors):
        _check_tensor(tensor, f"{name}[{index}]")
        if tensor.shape != like.shape or tensor.dtype is not like.dtype:
            raise ValueError(
                f"{name}[{index}] is a {tensor.dtype} tensor of shape {tuple(tensor.shape)}; "
                f"every one must match the tensor's {like.dtype} {tuple(like.shape)}"
            )
        if tensor._backend is not like._backend:
            raise RuntimeError(f"{name}[{index}] is on {tensor.device}, the tensor on "
                               f"{like.device}: all must be on one device")


def _check_sizes(large: Tensor, small: Tensor, size: int, large_name: str,
                 small_name: str) -> None:
    if large.dtype is not small.dtype:
        raise ValueError(f"{large_name} and {small_name} must have one dtype, got {large.dtype} "
                         f"and {small.dtype}")
    if large.numel() != size * small.numel():
        raise ValueError(
            f"{large_name} must have world size ({size}) times the elements of {small_name} "
            f"({small.numel()}), got {large.numel()}"
        )
    if large._backend is not small._backend:
        raise RuntimeError(f"{large_name} is on {large.device} and {small_name} on "
                           f"{small.device}: both must be on one device")


def _reduce_op(op: Any, tensor: Tensor) -> tuple[str, bool]:
    """(the backend's op name, whether to divide by the world size afterwards)."""
    if not isinstance(op, RedOpType):
        raise TypeError(f"op must be a ReduceOp (ReduceOp.SUM, AVG, PRODUCT, MIN, MAX), got {op!r}")
    if tensor.dtype is dtypes.bool_:
        if op is RedOpType.AVG:
            raise ValueError("ReduceOp.AVG needs floating point tensors, got torch.bool")
        return ("lor" if op in (RedOpType.SUM, RedOpType.MAX) else "land"), False
    if op is RedOpType.AVG:
        if not tensor.dtype.is_floating_point:
            raise ValueError(f"ReduceOp.AVG needs floating point tensors, got {tensor.dtype}")
        return "sum", True
    return op.name.lower(), False


# ----------------------------------------------------------------------------- completion
def _finisher(pg: ProcessGroup, written: Sequence[Tensor], average: Any) -> Callable[[], None]:
    """What to do once the result is in place: divide for AVG, bump the version counters."""
    size = pg.size

    def finish() -> None:
        if average is not None:
            backend_comm.divide_(average, size)
        for tensor in written:
            tensor._bump_version()

    return finish


def _result(pg: ProcessGroup, work: Work, async_op: bool) -> Work | None:
    if async_op:
        return work
    if pg.waits_for_synchronous_ops:
        work.wait()
    return None
