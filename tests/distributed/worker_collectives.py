"""Every collective against NumPy references, its errors, and the rank-agreement check.

Run by test_collectives.py as `mpiexec -n K python tests/distributed/worker_collectives.py K`.
Each rank's data comes from a generator seeded with its rank, so any rank can compute every
other rank's data, and with it the NumPy reference.
"""

from __future__ import annotations

import numpy as np
from harness import check, expected_size, raises, rank, run_checks, size

import autodiff as torch
import autodiff.distributed as dist
from autodiff.distributed import ReduceOp

SHAPE = (3, 5)
FLOATS = (torch.float32, torch.float64)
INTS = (torch.int32, torch.int64)


def data(of_rank: int, dtype: torch.dtype, shape: tuple[int, ...] = SHAPE,
         salt: int = 0) -> np.ndarray:
    rng = np.random.default_rng(1000 * salt + of_rank)
    if dtype.is_floating_point:
        return rng.uniform(0.5, 2.0, shape).astype(dtype.name)
    return rng.integers(-5, 6, shape).astype(dtype.name)


def everyone(dtype: torch.dtype, shape: tuple[int, ...] = SHAPE, salt: int = 0) -> np.ndarray:
    return np.stack([data(r, dtype, shape, salt) for r in range(size())])


REFERENCES = {
    ReduceOp.SUM: lambda stacked: stacked.sum(axis=0, dtype=stacked.dtype),
    ReduceOp.PRODUCT: lambda stacked: stacked.prod(axis=0, dtype=stacked.dtype),
    ReduceOp.MIN: lambda stacked: stacked.min(axis=0),
    ReduceOp.MAX: lambda stacked: stacked.max(axis=0),
    ReduceOp.AVG: lambda stacked: stacked.sum(axis=0, dtype=stacked.dtype) / len(stacked),
}


def assert_close(actual: torch.Tensor, expected: np.ndarray) -> None:
    assert actual.numpy().dtype == expected.dtype, (actual.numpy().dtype, expected.dtype)
    tolerance = 1e-6 if expected.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(actual.numpy(), expected, rtol=tolerance, atol=0)


# ----------------------------------------------------------------------------- state
@check
def group_state() -> None:
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    assert 0 <= rank() < size() and dist.group.WORLD is not None
    assert dist.get_rank(dist.group.WORLD) == rank()
    raises(ValueError, "twice", dist.init_process_group, "mpi")


# ----------------------------------------------------------------------------- all_reduce
@check
def all_reduce_every_op_and_dtype() -> None:
    for dtype in FLOATS + INTS:
        for op, reference in REFERENCES.items():
            if op is ReduceOp.AVG and not dtype.is_floating_point:
                continue
            tensor = torch.tensor(data(rank(), dtype), dtype=dtype)
            assert dist.all_reduce(tensor, op=op) is None
            assert_close(tensor, reference(everyone(dtype)))


@check
def all_reduce_is_in_place_without_copies() -> None:
    tensor = torch.tensor(data(rank(), torch.float32))
    array, version = tensor._data, tensor._version
    address = array.__array_interface__["data"][0]
    dist.all_reduce(tensor)
    assert tensor._data is array and array.__array_interface__["data"][0] == address
    assert tensor._version == version + 1  # in place, like any in-place op
    view = torch.zeros(4, 6)[1:3]  # a contiguous view: the result lands in its base
    base = view._base if view._base is not None else view
    view.add_(float(rank() + 1))
    dist.all_reduce(view)
    expected = sum(range(1, size() + 1))
    np.testing.assert_array_equal(base.numpy()[1:3], np.full((2, 6), expected, np.float32))
    np.testing.assert_array_equal(base.numpy()[0], np.zeros(6, np.float32))


@check
def all_reduce_zero_d_empty_and_bool() -> None:
    scalar = torch.tensor(float(rank() + 1), dtype=torch.float64)
    dist.all_reduce(scalar, op=ReduceOp.MAX)
    assert scalar.item() == size()
    empty = torch.zeros(0, 3)
    dist.all_reduce(empty)
    assert tuple(empty.shape) == (0, 3)
    flags = torch.tensor([rank() == 0, True, False])
    dist.all_reduce(flags)  # SUM on bool is a logical or (as PyTorch)
    assert flags.tolist() == [True, True, False]
    flags = torch.tensor([rank() == 0, True, False])
    dist.all_reduce(flags, op=ReduceOp.MIN)  # a logical and
    assert flags.tolist() == [size() == 1, True, False]


@check
def all_reduce_async() -> None:
    tensors = [torch.tensor(data(rank(), torch.float64, salt=salt)) for salt in range(3)]
    works = [dist.all_reduce(t, op=ReduceOp.AVG, async_op=True) for t in tensors]
    for salt, (tensor, work) in enumerate(zip(tensors, works)):
        assert work is not None and work.wait() is True and work.is_completed()
        assert_close(tensor, REFERENCES[ReduceOp.AVG](everyone(torch.float64, salt=salt)))


# ----------------------------------------------------------------------------- the others
@check
def broadcast_from_every_rank() -> None:
    for src in range(size()):
        for dtype in (torch.float32, torch.int64):
            tensor = torch.tensor(data(rank(), dtype), dtype=dtype)
            array = tensor._data
            dist.broadcast(tensor, src=src)
            assert tensor._data is array
            np.testing.assert_array_equal(tensor.numpy(), data(src, dtype))


@check
def all_gather_lists_and_into_tensor() -> None:
    for dtype in (torch.float32, torch.int32):
        mine = torch.tensor(data(rank(), dtype), dtype=dtype)
        outputs = [torch.zeros(*SHAPE, dtype=dtype) for _ in range(size())]
        arrays = [output._data for output in outputs]
        dist.all_gather(outputs, mine)
        for other, output in enumerate(outputs):
            assert output._data is arrays[other]
            np.testing.assert_array_equal(output.numpy(), data(other, dtype))
        stacked = torch.zeros(size(), *SHAPE, dtype=dtype)
        dist.all_gather_into_tensor(stacked, mine)
        np.testing.assert_array_equal(stacked.numpy(), everyone(dtype))
        concatenated = torch.zeros(size() * SHAPE[0], SHAPE[1], dtype=dtype)
        dist.all_gather_into_tensor(concatenated, mine)
        np.testing.assert_array_equal(concatenated.numpy(), np.concatenate(everyone(dtype)))


@check
def reduce_scatter_lists_and_tensor() -> None:
    for op in (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.MAX):
        # Rank r's input block i is data(r, salt=i); rank i receives the reduction of block i.
        inputs = [torch.tensor(data(rank(), torch.float64, salt=i)) for i in range(size())]
        output = torch.zeros(*SHAPE, dtype=torch.float64)
        dist.reduce_scatter(output, inputs, op=op)
        assert_close(output, REFERENCES[op](everyone(torch.float64, salt=rank())))
        whole = torch.cat(inputs)
        output = torch.zeros(*SHAPE, dtype=torch.float64)
        dist.reduce_scatter_tensor(output, whole, op=op)
        assert_close(output, REFERENCES[op](everyone(torch.float64, salt=rank())))


@check
def barrier_and_async_barrier() -> None:
    assert dist.barrier() is None
    work = dist.barrier(async_op=True)
    assert work is not None and work.wait()
    assert dist.barrier(device_ids=[0]) is None  # the "mpi" barrier runs on no device
    raises(TypeError, "Invalid function argument: device_ids type should be List[int]",
           dist.barrier, device_ids=0)


# ----------------------------------------------------------------------------- agreement
@check
def mismatched_shapes_raise_on_every_rank() -> None:
    if size() == 1:
        return
    tensor = torch.ones(2, 3 + rank())
    message = raises(dist.DistError, "the ranks disagree", dist.all_reduce, tensor)
    for other in range(size()):
        assert f"rank {other}: all_reduce(SUM) of a float32 tensor of shape (2, {3 + other})" \
            in message, message
    # The group is fine afterwards.
    tensor = torch.ones(2)
    dist.all_reduce(tensor)
    assert tensor.tolist() == [size(), size()]


@check
def mismatched_dtypes_ops_and_collectives_raise() -> None:
    if size() == 1:
        return
    dtype = torch.float32 if rank() == 0 else torch.float64
    message = raises(dist.DistError, "disagree", dist.all_reduce, torch.ones(3, dtype=dtype))
    assert "float32" in message and "float64" in message
    op = ReduceOp.SUM if rank() == 0 else ReduceOp.MAX
    message = raises(dist.DistError, "disagree", dist.all_reduce, torch.ones(3), op=op)
    assert "all_reduce(SUM)" in message and "all_reduce(MAX)" in message
    tensor = torch.ones(3)
    if rank() == 0:
        message = raises(dist.DistError, "disagree", dist.all_reduce, tensor)
    else:
        message = raises(dist.DistError, "disagree", dist.broadcast, tensor, src=0)
    assert "rank 0: all_reduce(SUM)" in message and "rank 1: broadcast(src=0)" in message
    src = 0 if rank() == 0 else 1
    message = raises(dist.DistError, "disagree", dist.broadcast, tensor, src=src)
    assert "broadcast(src=0)" in message and "broadcast(src=1)" in message


@check
def a_rank_rejecting_its_arguments_fails_every_rank() -> None:
    if size() == 1:
        return
    if rank() == 1:
        transposed = torch.ones(4, 3).t()  # not contiguous: rank 1 rejects it
        raises(RuntimeError, "Tensors must be contiguous", dist.all_reduce, transposed)
    else:
        message = raises(dist.DistError, "disagree", dist.all_reduce, torch.ones(3, 4))
        assert "rank 1: rejected its arguments" in message


# ----------------------------------------------------------------------------- local errors
@check
def argument_errors() -> None:
    raises(TypeError, "Expected parameter `tensor` of type torch.Tensor", dist.all_reduce,
           [1.0, 2.0])
    raises(ValueError, "ReduceOp.AVG needs floating point tensors, got torch.int64",
           dist.all_reduce, torch.ones(2, dtype=torch.int64), op=ReduceOp.AVG)
    raises(TypeError, "op must be a ReduceOp", dist.all_reduce, torch.ones(2), op="sum")
    raises(ValueError, f"src rank {size()} is out of range", dist.broadcast, torch.ones(2),
           src=size())
    raises(ValueError, "broadcast needs src", dist.broadcast, torch.ones(2))
    raises(ValueError, f"tensor_list must be a list of {size()} tensors", dist.all_gather,
           [torch.zeros(2)] * (size() + 1), torch.ones(2))
    raises(ValueError, "every one must match", dist.all_gather,
           [torch.zeros(3)] * size(), torch.ones(2))
    raises(ValueError, "world size", dist.all_gather_into_tensor, torch.zeros(size() + 1),
           torch.ones(1))
    raises(RuntimeError, "Tensors must be contiguous", dist.all_reduce, torch.ones(4, 3).t())
    raises(RuntimeError, "Tensors must be writable", dist.all_reduce,
           torch.ones(3).expand(3))


@check
def tensors_on_another_device_are_refused() -> None:
    message = raises(RuntimeError, "backend 'mpi' communicates CPU tensors", dist.all_reduce,
                     torch.ones(3, device="strict:1"))
    assert "strict:1" in message and "nccl" in message


@check
def still_works_after_the_errors() -> None:
    tensor = torch.full((4,), float(rank()))
    dist.all_reduce(tensor, op=ReduceOp.AVG)
    assert tensor.tolist() == [(size() - 1) / 2] * 4


@check
def destroy_and_initialise_again() -> None:
    dist.destroy_process_group()
    assert not dist.is_initialized()
    raises(ValueError, "Default process group has not been initialized", dist.get_rank)
    dist.init_process_group("mpi", timeout=30.0)
    tensor = torch.ones(2)
    dist.all_reduce(tensor)
    assert tensor.tolist() == [size(), size()]


if __name__ == "__main__":
    run_checks(timeout=30.0, expected_size=expected_size())
