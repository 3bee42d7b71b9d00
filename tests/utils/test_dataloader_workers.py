"""DataLoader with worker processes: order, seeding, worker_init_fn and get_worker_info,
persistent workers, prefetching, timeouts, errors and dead workers, iterable datasets,
multiprocessing contexts. Every test here runs under a deadline (tests/utils/conftest.py)."""

from __future__ import annotations

import multiprocessing
import pickle
import platform
import random
import re
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import autodiff
import backends
from autodiff.utils.data import DataLoader, Generator, TensorDataset, get_worker_info
from autodiff.utils.data._utils import transport
from autodiff.utils.data._utils.worker import WorkerInfo, _generate_state
from autodiff.utils.data.sampler import random_seed

from . import worker_datasets as datasets

pytestmark = pytest.mark.usefixtures("deadline")


def _xs(batches: list[dict[str, autodiff.Tensor]]) -> list[list[int]]:
    return [batch["x"][:, 0].tolist() for batch in batches]


def test_batches_come_in_sampler_order_from_both_workers() -> None:
    loader = DataLoader(datasets.Squares(), batch_size=3, num_workers=2)
    batches = list(loader)
    assert len(loader) == 7
    assert _xs(batches) == [list(range(i, min(i + 3, 20))) for i in range(0, 20, 3)]
    # Round-robin: task i goes to worker i % 2 (as PyTorch), each in its own process.
    assert [batch["worker"].tolist()[0] for batch in batches] == [0, 1, 0, 1, 0, 1, 0]
    assert len({batch["pid"][0].item() for batch in batches}) == 2
    assert batches[0]["x"].dtype is autodiff.int64 and batches[0]["x"].shape == (3, 2)
    serial = list(DataLoader(datasets.Squares(), batch_size=3))
    assert _xs(serial) == _xs(batches) and serial[0]["worker"].tolist() == [-1, -1, -1]


def test_shuffled_order_is_the_same_with_and_without_workers() -> None:
    orders = []
    for workers in (0, 2):
        loader = DataLoader(datasets.Squares(), batch_size=4, shuffle=True, num_workers=workers,
                            generator=Generator().manual_seed(5))
        orders.append([_xs(list(loader)) for _ in range(2)])  # two epochs
    assert orders[0] == orders[1]
    assert orders[0][0] != orders[0][1]  # a new order each epoch


def test_tensor_dataset_with_workers_and_drop_last() -> None:
    x = autodiff.arange(30.0).reshape(10, 3)
    y = autodiff.arange(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4, num_workers=2, drop_last=True))
    assert len(batches) == 2
    np.testing.assert_array_equal(batches[1][0].numpy(), np.arange(12.0, 24.0).reshape(4, 3))
    assert batches[1][1].tolist() == [4, 5, 6, 7] and batches[0][0].dtype is autodiff.float32
    batches[1][0].add_(1)  # batches rebuilt from worker bytes are ordinary, writable tensors
    assert batches[1][0][0].tolist() == [13.0, 14.0, 15.0] and x[4].tolist() == [12, 13, 14]


def test_tensors_cross_to_the_device_of_the_dataset(device: str) -> None:
    x = autodiff.arange(12.0, device=device).reshape(6, 2)
    batches = list(DataLoader(TensorDataset(x), batch_size=4, num_workers=2))
    assert [batch[0].device for batch in batches] == [x.device, x.device]
    np.testing.assert_array_equal(batches[1][0].cpu().numpy(), [[8.0, 9.0], [10.0, 11.0]])


def test_worker_seeds_follow_the_base_seed_as_pytorch() -> None:
    generator = Generator().manual_seed(123)
    base_seed = random_seed(Generator().manual_seed(123))  # what the loader draws first
    samples = [sample for batch in DataLoader(datasets.RandomDraws(), batch_size=None,
                                              num_workers=2, generator=generator)
               for sample in [batch]]
    by_worker = {worker: [s for s in samples if s["worker"] == worker] for worker in (0, 1)}
    for worker, drawn in by_worker.items():
        seed = base_seed + worker
        assert {s["seed"] for s in drawn} == {seed}
        first = drawn[0]
        # autodiff's generator, Python's and NumPy's legacy one, seeded as PyTorch seeds them.
        autodiff.manual_seed(seed)
        assert first["torch_like"] == pytest.approx(float(autodiff.rand(1).item()))
        assert first["python"] == random.Random(seed).random()
        np_state = np.random.RandomState(np.asarray(_generate_state(base_seed, worker),
                                                    dtype=np.uint32))
        assert first["numpy"] == np_state.rand()
    assert by_worker[0][0]["numpy"] != by_worker[1][0]["numpy"]
    again = list(DataLoader(datasets.RandomDraws(), batch_size=None, num_workers=2,
                            generator=Generator().manual_seed(123)))
    assert [s["torch_like"] for s in again] == [s["torch_like"] for s in samples]


def test_generate_state_matches_pytorch() -> None:
    worker = pytest.importorskip("torch.utils.data._utils.worker")
    for base_seed, worker_id in [(0, 0), (123, 1), (2**62 + 12345, 3), (2**63 - 1, 7)]:
        assert _generate_state(base_seed, worker_id) == worker._generate_state(base_seed,
                                                                               worker_id)


def test_worker_init_fn_and_get_worker_info() -> None:
    assert get_worker_info() is None
    batches = list(DataLoader(datasets.Squares(8), batch_size=2, num_workers=2,
                              worker_init_fn=datasets.offset_by_worker))
    assert _xs(batches) == [[0, 1], [1002, 1003], [4, 5], [1006, 1007]]
    info = WorkerInfo(id=0, num_workers=2, seed=7, dataset=None)
    with pytest.raises(AttributeError):
        info.id = 1  # type: ignore[misc]


def test_worker_exception_is_reraised_with_its_traceback() -> None:
    loader = DataLoader(datasets.Failing(5, ValueError("bad sample 5")), batch_size=2,
                        num_workers=2)
    with pytest.raises(ValueError, match=r"Caught ValueError in DataLoader worker process 0\."
                       r"\nOriginal Traceback \(most recent call last\):(.|\n)*bad sample 5"):
        list(loader)
    # KeyError keeps its message readable (not the repr of a one-line string).
    with pytest.raises(KeyError) as caught:
        list(DataLoader(datasets.Failing(3, KeyError("k")), batch_size=2, num_workers=2))
    assert str(caught.value).startswith("Caught KeyError in DataLoader worker process 1.\n")
    with pytest.raises(ValueError, match="init of worker 0 failed"):
        list(DataLoader(datasets.Squares(), batch_size=2, num_workers=2,
                        worker_init_fn=datasets.failing_init))


def test_a_dead_worker_is_reported_not_waited_for() -> None:
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                       "unexpectedly") as caught:
        list(DataLoader(datasets.Dying(5), batch_size=2, num_workers=2))
    assert "exited unexpectedly with exit code 3" in str(caught.value.__cause__)
    with pytest.raises(RuntimeError, match="exited unexpectedly") as caught:
        list(DataLoader(datasets.Dying(1, kill=True), batch_size=1, num_workers=2))
    assert "is killed by signal: Killed" in str(caught.value.__cause__)


def test_a_batch_that_cannot_be_pickled_is_an_error_not_a_hang() -> None:
    with pytest.raises((AttributeError, pickle.PicklingError, TypeError),
                       match="in DataLoader worker process"):
        list(DataLoader(datasets.Unpicklable(), batch_size=None, num_workers=2))


@pytest.mark.parametrize("raw", [True, False])
def test_transport_round_trip(raw: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "_RAW", raw)  # False: the framing used where there is no readv
    reader, writer = multiprocessing.Pipe(duplex=False)
    transport.enlarge(reader)
    batch = {"x": autodiff.arange(300000.0).reshape(1000, 300), "empty": autodiff.zeros(0),
             "strided": autodiff.arange(10).reshape(2, 5).t(), "name": "b", "n": 3}
    sender = threading.Thread(target=lambda: transport.dumps((7, batch), 0).send(writer))
    sender.start()
    task, received = transport.receive(reader)
    sender.join()
    assert task == 7 and received["name"] == "b" and received["n"] == 3
    np.testing.assert_array_equal(received["x"].numpy(), batch["x"].numpy())
    assert received["empty"].shape == (0,) and received["strided"].tolist() == \
        batch["strided"].tolist()
    received["x"].add_(1)  # writable, and not the sender's memory
    assert batch["x"][0, 0].item() == 0.0
    writer.close()
    with pytest.raises(EOFError):
        transport.receive(reader)


def test_cuda_tensors_are_refused_at_the_worker_boundary() -> None:
    tensor = autodiff.ones(2)
    assert transport.dumps((0, tensor), worker_id=0).loads()[1].tolist() == [1.0, 1.0]

    class FakeCuda:  # stands in for a CUDA backend on machines without one
        device = backends.Device("cuda", 0)

    tensor._backend = FakeCuda()  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="DataLoader worker process 1 returned a tensor on "
                       "cuda:0: batches cross from workers to the main process through host "
                       "memory"):
        transport.dumps((0, [tensor]), worker_id=1)


def test_timeout() -> None:
    loader = DataLoader(datasets.Slow(2, 1.5), batch_size=1, num_workers=1, timeout=0.5)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.5 seconds"):
        list(loader)
    assert [batch.item() for batch in DataLoader(datasets.Slow(2, 0.2), batch_size=1,
                                                 num_workers=1, timeout=10)] == list(range(8))


def test_prefetch_factor_bounds_the_tasks_in_flight() -> None:
    loader = DataLoader(datasets.Squares(40), batch_size=1, num_workers=2, prefetch_factor=3)
    iterator = iter(loader)
    assert iterator._tasks_outstanding == 6 and iterator._send_idx == 6
    next(iterator)
    assert iterator._send_idx == 7  # one handed out, one more sent
    del iterator


def test_in_order_false_delivers_as_batches_arrive() -> None:
    loader = DataLoader(datasets.Slow(0, 1.0, length=6), batch_size=1, num_workers=2,
                        in_order=False)
    order = [batch.item() for batch in loader]
    assert sorted(order) == list(range(6)) and order[0] != 0


def test_persistent_workers_serve_every_epoch() -> None:
    loader = DataLoader(datasets.Squares(8), batch_size=2, num_workers=2,
                        persistent_workers=True)
    first, second = list(loader), list(loader)
    assert _xs(first) == _xs(second) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    pids = {batch["pid"][0].item() for batch in first}
    assert pids == {batch["pid"][0].item() for batch in second}
    assert all(worker.is_alive() for worker in loader._iterator._workers)
    # A half-read epoch followed by a new one starts over.
    iterator = iter(loader)
    next(iterator)
    assert _xs(list(loader)) == _xs(first)


def test_iterable_dataset_sharded_by_worker_info() -> None:
    batches = list(DataLoader(datasets.Stream(10), batch_size=3, num_workers=2))
    assert [batch.tolist() for batch in batches] == [[0, 2, 4], [1, 3, 5], [6, 8], [7, 9]]
    assert [item for item in DataLoader(datasets.Stream(10), batch_size=None,
                                        num_workers=2)] == list(range(10))
    dropping = list(DataLoader(datasets.Stream(10), batch_size=3, num_workers=2,
                               drop_last=True))
    assert [batch.tolist() for batch in dropping] == [[0, 2, 4], [1, 3, 5]]


def test_iterable_dataset_length_warning() -> None:
    # As in PyTorch, the count of batches yielded is held against the length reported by the
    # dataset (here 2, while each of the two workers streams all 10 samples).
    loader = DataLoader(datasets.Stream(10, reported=2, shard=False), batch_size=None,
                        num_workers=2)
    assert len(loader) == 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = list(loader)
    assert len(caught) == 18  # one per sample past the second
    assert re.fullmatch(r"Length of IterableDataset .* was reported to be 2\(when accessing "
                        r"len\(dataloader\)\), but 3 samples have been fetched\. For "
                        "multiprocessing data-loading, this could be caused by not properly "
                        "configuring the IterableDataset replica at each worker. Please see "
                        r"https://pytorch.org/docs/stable/data.html#torch.utils.data."
                        "IterableDataset for examples.", str(caught[0].message))
    assert sorted(items) == sorted(list(range(10)) * 2)
    batched = DataLoader(datasets.Stream(10), batch_size=3)
    assert len(batched) == 4  # ceil(10 / 3); with drop_last, 10 // 3
    assert len(DataLoader(datasets.Stream(10), batch_size=3, drop_last=True)) == 3


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_other_start_methods(method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    loader = DataLoader(datasets.Squares(6), batch_size=2, num_workers=2,
                        multiprocessing_context=method, worker_init_fn=datasets.offset_by_worker)
    assert _xs(list(loader)) == [[0, 1], [1002, 1003], [4, 5]]
    context = multiprocessing.get_context(method)
    assert DataLoader(datasets.Squares(), num_workers=1,
                      multiprocessing_context=context).multiprocessing_context is context


def test_option_errors_and_warnings() -> None:
    dataset = datasets.Squares()
    with pytest.raises(ValueError, match=r"prefetch_factor option could only be specified in "
                       r"multiprocessing\.let num_workers > 0"):
        DataLoader(dataset, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(dataset, persistent_workers=True)
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(dataset, timeout=-1)
    with pytest.raises(ValueError, match="multiprocessing_context can only be used with "
                       r"multi-process loading \(num_workers > 0\), but got num_workers=0"):
        DataLoader(dataset, multiprocessing_context="spawn")
    with pytest.raises(ValueError, match="multiprocessing_context option should specify a "
                       "valid start method in"):
        DataLoader(dataset, num_workers=1, multiprocessing_context="teleport")
    with pytest.raises(TypeError, match="multiprocessing_context option should be a valid "
                       "context object or a string"):
        DataLoader(dataset, num_workers=1, multiprocessing_context=3)
    with pytest.warns(UserWarning, match="This DataLoader will create 64 worker processes in "
                      "total. Our suggested max number of worker in current system is"):
        DataLoader(dataset, num_workers=64)
    loader = DataLoader(dataset, batch_size=2)
    for name in ("batch_size", "sampler", "dataset", "drop_last", "batch_sampler",
                 "persistent_workers"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after "
                           "DataLoader is initialized"):
            setattr(loader, name, None)
    loader.num_workers = 2  # others may change
    if backends.cuda_device_count() == 0:
        with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no "
                          "accelerator is found, then device pinned memory won't be used."):
            batches = list(DataLoader(datasets.Squares(4), batch_size=2, pin_memory=True,
                                      num_workers=2))
        assert _xs(batches) == [[0, 1], [2, 3]]


def test_messages_match_pytorch() -> None:
    torch_data = pytest.importorskip("torch.utils.data")
    dataset = list(range(4))
    cases = [dict(prefetch_factor=2), dict(persistent_workers=True), dict(timeout=-1),
             dict(multiprocessing_context="spawn"),
             dict(num_workers=1, multiprocessing_context="teleport")]
    for options in cases:
        with pytest.raises(Exception) as ours:
            DataLoader(dataset, **options)
        with pytest.raises(Exception) as theirs:
            torch_data.DataLoader(dataset, **options)
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value) == str(theirs.value)


def test_workers_stop_when_the_loader_is_dropped() -> None:
    iterator = iter(DataLoader(datasets.Squares(40), batch_size=1, num_workers=2))
    next(iterator)
    workers = list(iterator._workers)
    iterator._shutdown_workers()
    assert not any(worker.is_alive() for worker in workers)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del iterator


def test_worker_heap_keeps_freed_memory():
    """On glibc the worker's allocator keeps the pages a batch frees (the next batch reuses
    them instead of faulting them in again); elsewhere nothing is changed."""
    code = ("from autodiff.utils.data._utils.heap import keep_freed_memory; "
            "print(keep_freed_memory())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert result.stdout.strip() == str(glibc)
