"""autodiff.distributed in this process, without MPI: the errors before a group exists, the
messages that name the fix when a backend is missing, and DistributedSampler against PyTorch's."""

from __future__ import annotations

import datetime
import importlib.util
import subprocess
import sys

import pytest

import autodiff as torch
import autodiff.distributed as dist
from autodiff import nn
from autodiff.utils.data import DistributedSampler

from .launch import ROOT

NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                   "init_process_group.")


@pytest.mark.parametrize("call", [
    dist.get_rank, dist.get_world_size, dist.get_backend, dist.barrier,
    dist.destroy_process_group, lambda: dist.all_reduce(torch.ones(2)),
    lambda: dist.broadcast(torch.ones(2), src=0),
    lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2)),
    lambda: DistributedSampler(range(4)),
], ids=["get_rank", "get_world_size", "get_backend", "barrier", "destroy", "all_reduce",
        "broadcast", "DistributedDataParallel", "DistributedSampler"])
def test_without_a_process_group(call: object) -> None:
    assert not dist.is_initialized()
    with pytest.raises(ValueError) as error:
        call()  # type: ignore[operator]
    assert str(error.value) == NOT_INITIALIZED


def test_the_same_message_as_pytorch() -> None:
    torch_dist = pytest.importorskip("torch.distributed")
    with pytest.raises(ValueError) as error:
        torch_dist.get_rank()
    assert str(error.value) == NOT_INITIALIZED


def test_bad_arguments_fail_before_mpi_starts() -> None:
    with pytest.raises(ValueError, match="Invalid backend: 'gloo'"):
        dist.init_process_group("gloo")
    with pytest.raises(ValueError, match="store= is not supported"):
        dist.init_process_group("mpi", store=object())
    with pytest.raises(ValueError, match="pg_options= is not supported"):
        dist.init_process_group("mpi", pg_options=object())
    with pytest.raises(TypeError, match=r"timeout must be a datetime\.timedelta"):
        dist.init_process_group("mpi", timeout=-1)
    assert not dist.is_initialized()


def test_missing_mpi4py_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `import mpi4py` fail
    with pytest.raises(RuntimeError) as error:
        dist.init_process_group("mpi")
    assert "backend 'mpi' needs mpi4py and an MPI library" in str(error.value)
    assert 'pip install "autodiff[distributed]"' in str(error.value)
    assert not dist.is_initialized()


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_nccl_without_cupy_names_the_fix() -> None:
    with pytest.raises(RuntimeError) as error:
        dist.init_process_group("nccl")
    assert "backend 'nccl' needs CuPy with NCCL" in str(error.value)
    assert 'pip install "autodiff[cuda,distributed]"' in str(error.value)
    assert not dist.is_nccl_available()
    assert not dist.is_initialized()


def test_importing_autodiff_starts_no_mpi() -> None:
    # mpi4py.MPI initialises MPI when imported: only init_process_group("mpi") may do that.
    code = "import sys, autodiff, autodiff.distributed; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    assert out.stdout.strip() == "False"


def test_reduce_ops() -> None:
    assert [op.name for op in dist.ReduceOp.RedOpType] == ["SUM", "AVG", "PRODUCT", "MIN", "MAX"]
    assert dist.ReduceOp.SUM is dist.ReduceOp.RedOpType.SUM
    assert dist.default_pg_timeout == datetime.timedelta(minutes=30)  # PyTorch's default


# ----------------------------------------------------------------------------- the sampler
CASES = [(10, 3), (11, 3), (2, 3), (12, 4), (7, 2), (1, 4), (0, 2)]


@pytest.mark.parametrize("length,replicas", CASES)
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_shards_like_pytorch(length: int, replicas: int, drop_last: bool) -> None:
    reference = pytest.importorskip("torch.utils.data")
    for rank in range(replicas):
        ours = DistributedSampler(range(length), replicas, rank, shuffle=False,
                                  drop_last=drop_last)
        theirs = reference.DistributedSampler(range(length), replicas, rank, shuffle=False,
                                              drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


@pytest.mark.parametrize("length,replicas", [(10, 3), (11, 3), (12, 4)])
def test_shuffled_shards_partition_one_permutation(length: int, replicas: int) -> None:
    def shards(epoch: int, seed: int = 5) -> list[list[int]]:
        samplers = [DistributedSampler(range(length), replicas, rank, seed=seed)
                    for rank in range(replicas)]
        for sampler in samplers:
            sampler.set_epoch(epoch)
        return [list(sampler) for sampler in samplers]

    first = shards(0)
    # Rank r takes positions r, r + replicas, ... of one padded permutation.
    padded = [index for position in range(len(first[0])) for index in
              (shard[position] for shard in first)]
    assert sorted(set(padded)) == list(range(length))
    assert padded[length:] == padded[:len(padded) - length]  # padding repeats the start
    assert shards(0) == first  # the same seed and epoch: the same order, on every rank
    assert shards(1) != first  # set_epoch reshuffles
    assert shards(0, seed=6) != first


def test_sampler_rank_errors_like_pytorch() -> None:
    with pytest.raises(ValueError,
                       match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match=r"Invalid rank -1"):
        DistributedSampler(range(4), num_replicas=3, rank=-1)


def test_sampler_feeds_a_dataloader() -> None:
    from autodiff.utils.data import DataLoader, TensorDataset

    dataset = TensorDataset(torch.arange(10.0))
    loader = DataLoader(dataset, batch_size=2,
                        sampler=DistributedSampler(dataset, 2, 1, shuffle=False))
    assert [batch[0].tolist() for batch in loader] == [[1.0, 3.0], [5.0, 7.0], [9.0]]


@pytest.mark.parametrize("length,replicas,drop_last,expected", [
    (10, 3, False, [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]),  # padded with 0, 1
    (10, 3, True, [[0, 3, 6], [1, 4, 7], [2, 5, 8]]),            # 9 dropped
    (2, 3, False, [[0], [1], [0]]),
    (1, 4, False, [[0], [0], [0], [0]]),
    (7, 2, True, [[0, 2, 4], [1, 3, 5]]),
])
def test_sampler_shards(length: int, replicas: int, drop_last: bool,
                        expected: list[list[int]]) -> None:
    """What torch.utils.data.DistributedSampler gives (shuffle=False), without torch."""
    assert [list(DistributedSampler(range(length), replicas, rank, shuffle=False,
                                    drop_last=drop_last)) for rank in range(replicas)] == expected


def test_ddp_device_ids_place_the_inputs_on_the_modules_accelerator() -> None:
    """What DDP's forward does with device_ids (a group is needed for the rest): a module on
    one accelerator gets its inputs moved there, nested in tuples, lists and dicts."""
    from autodiff.nn.parallel import _placement, _to_device

    module = nn.Linear(2, 2).to("strict:1")
    assert _placement(module, [1], None) == ("strict", [1], 1)
    assert _placement(module, [torch.device("strict:1")], "strict:0") == ("strict", [1], 0)
    assert _placement(module, None, None) == ("strict", None, None)
    inputs = (torch.ones(2), [torch.zeros(1)], {"x": torch.ones(1)}, 3)
    moved = _to_device(inputs, torch.device("strict:1"))
    assert moved[0].device == moved[1][0].device == moved[2]["x"].device == \
        torch.device("strict:1")
    assert moved[3] == 3 and isinstance(moved[1], list)
