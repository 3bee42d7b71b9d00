"""autodiff.multiprocessing (torch.multiprocessing): Python's multiprocessing whose pickler sends
CPU tensors through shared memory, the sharing strategies, Tensor.share_memory_/is_shared, and
spawn / start_processes with PyTorch's exceptions. Most processes here are forked (fast); one
test spawns, as Hogwild training does (tests/user_programs/programs/mnist_hogwild.py)."""

from __future__ import annotations

import multiprocessing
import pickle
import re
import sys
import warnings
from collections.abc import Iterator
from multiprocessing.reduction import ForkingPickler
from typing import Any

import pytest

import autodiff
import autodiff.multiprocessing as mp
from autodiff import nn
from autodiff.utils.hooks import unserializable_hook
from backends import shared_memory
from tests.helpers import raises

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the file_descriptor strategy and fork are Linux's")

_NON_LEAF = (
    "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does "
    "not support crossing process boundaries.  If you just want to transfer the data, call "
    "detach() on the tensor before serializing (e.g., putting it on the queue)."
)


@pytest.fixture(params=["file_descriptor", "file_system"])
def strategy(request: pytest.FixtureRequest) -> Iterator[str]:
    mp.set_sharing_strategy(request.param)
    try:
        yield request.param
    finally:
        mp.set_sharing_strategy("file_descriptor")


def _send(obj: Any) -> Any:
    """`obj` through multiprocessing's pickler, as a queue sends it (received in this process:
    the descriptor goes through multiprocessing's resource sharer all the same)."""
    return pickle.loads(ForkingPickler.dumps(obj))


# ----------------------------------------------------------------------------- the namespace
def test_it_is_pythons_multiprocessing() -> None:
    for name in multiprocessing.__all__:
        assert getattr(mp, name) is getattr(multiprocessing, name), name
    assert set(mp.__all__) >= {"set_sharing_strategy", "get_sharing_strategy",
                               "get_all_sharing_strategies", "Process", "Pool", "Queue",
                               "get_context", "set_start_method", "get_all_start_methods"}
    assert autodiff.multiprocessing is mp
    assert issubclass(mp.ProcessRaisedException, mp.ProcessException)
    assert issubclass(mp.ProcessExitedException, mp.ProcessException)


def test_sharing_strategies() -> None:
    assert mp.get_all_sharing_strategies() == {"file_descriptor", "file_system"}
    assert mp.get_sharing_strategy() == "file_descriptor"
    with pytest.raises(AssertionError, match=re.escape("invalid sharing strategy 'cuda_ipc', "
                                                       "expected one of {")):
        mp.set_sharing_strategy("cuda_ipc")
    assert mp.get_sharing_strategy() == "file_descriptor"


# ----------------------------------------------------------------------------- share_memory_
def test_share_memory_moves_values_in_place(strategy: str) -> None:
    x = autodiff.arange(6.0).reshape(2, 3)
    assert not x.is_shared()
    assert x.share_memory_() is x and x.is_shared()
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert x[1].is_shared() and x.t().is_shared()  # views of shared memory are shared
    assert not x.clone().is_shared()
    assert x.share_memory_() is x  # already shared: nothing moves


def test_module_share_memory_shares_parameters_buffers_and_existing_grads() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    model[0].weight.sum().backward()  # the weight has a grad, the bias none yet
    assert model.share_memory() is model
    assert all(tensor.is_shared() for tensor in model.state_dict().values())
    assert model[0].weight.grad.is_shared() and model[0].bias.grad is None


def test_meta_tensors_are_refused(strategy: str) -> None:
    call = "_share_filename_" if strategy == "file_system" else "_share_fd_"
    meta = autodiff.empty(3, device="meta")
    with raises(RuntimeError, f"{call}: only available on CPU"):
        meta.share_memory_()
    assert not meta.is_shared()


# ----------------------------------------------------------------------------- the reducers
def test_a_sent_tensor_shares_memory_with_the_sender(strategy: str) -> None:
    x = autodiff.zeros(2, 3)
    received = _send(x)
    assert x.is_shared() and received.is_shared()  # sending moved the sender's values
    received.add_(1.0)
    x[0, 0] = 5.0
    assert x.tolist() == received.tolist() == [[5.0, 1.0, 1.0], [1.0, 1.0, 1.0]]


def test_views_arrive_as_views_of_the_same_memory(strategy: str) -> None:
    x = autodiff.zeros(3, 4).share_memory_()
    row, column, block = _send((x[1], x[:, 2], x.t()[1:, :2]))
    assert type(row) is autodiff.Tensor and row.shape == (4,)
    row.fill_(1.0)
    column.add_(10.0)
    block.mul_(2.0)
    assert x.tolist() == [[0.0, 0.0, 20.0, 0.0], [1.0, 2.0, 22.0, 2.0],
                          [0.0, 0.0, 10.0, 0.0]]


def test_tensors_of_one_memory_are_mapped_once() -> None:
    x = autodiff.zeros(4).share_memory_()
    first, second = _send((x, x[2:]))
    third = _send(x)
    segment = shared_memory.segment_of(first._data)
    assert segment is not None
    assert shared_memory.segment_of(second._data) is segment
    assert shared_memory.segment_of(third._data) is segment


def test_requires_grad_travels_the_gradient_does_not() -> None:
    leaf = autodiff.ones(2, requires_grad=True)
    (leaf * 2).sum().backward()
    parameter = nn.Parameter(autodiff.ones(2))
    frozen = nn.Parameter(autodiff.ones(2), requires_grad=False)
    received, received_parameter, received_frozen = _send((leaf, parameter, frozen))
    assert type(received) is autodiff.Tensor and received.requires_grad
    assert received.is_leaf and received.grad is None
    assert type(received_parameter) is nn.Parameter and received_parameter.requires_grad
    assert type(received_frozen) is nn.Parameter and not received_frozen.requires_grad


def test_non_leaves_that_require_grad_are_refused() -> None:
    x = autodiff.ones(2, requires_grad=True)
    with raises(RuntimeError, _NON_LEAF):
        ForkingPickler.dumps(x * 2)
    assert not _send((x * 2).detach()).requires_grad


def test_backward_hooks_stay_behind_with_a_warning() -> None:
    x = autodiff.ones(2, requires_grad=True)

    def hook(grad: Any) -> None:
        return None

    x.register_hook(hook)
    with pytest.warns(UserWarning, match=re.escape(
            f"backward hook {hook!r} on tensor will not be serialized.  If this is expected, "
            "you can decorate the function with @torch.utils.hooks.unserializable_hook to "
            "suppress this warning")):
        _send(x)
    y = autodiff.ones(2, requires_grad=True)
    y.register_hook(unserializable_hook(lambda grad: None))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _send(y)


def test_meta_sparse_and_empty_tensors() -> None:
    meta = _send(autodiff.empty(2, 3, device="meta").t().requires_grad_())
    assert meta.is_meta and meta.shape == (3, 2) and meta.dtype == autodiff.float32
    assert meta.requires_grad
    sparse = autodiff.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    received = _send(sparse)
    assert received.is_sparse and received.to_dense().tolist() == [[0.0, 2.0], [3.0, 0.0]]
    assert sparse._values().is_shared()
    empty = autodiff.zeros(0, 3)
    assert _send(empty).shape == (0, 3) and not empty.is_shared()


def test_other_devices_are_sent_by_value(device: str) -> None:
    x = autodiff.tensor([1.0, 2.0], device=device)
    received = _send(x)
    assert received.device == x.device and received.tolist() == [1.0, 2.0]
    if x.device.type == "cpu":
        assert received.is_shared()


def test_plain_pickling_is_unchanged() -> None:
    x = autodiff.ones(2)
    assert not pickle.loads(pickle.dumps(x)).is_shared() and not x.is_shared()


# ----------------------------------------------------------------------------- processes
def _add_from_queue(queue: Any, done: Any) -> None:
    tensor, view = queue.get()
    with autodiff.no_grad():
        tensor.add_(1.0)
    view.mul_(10.0)
    done.put((tensor.is_shared(), tensor.requires_grad))


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_a_process_writes_through_a_queue(method: str, strategy: str) -> None:
    context = mp.get_context(method)
    queue, done = context.Queue(), context.Queue()
    process = context.Process(target=_add_from_queue, args=(queue, done))
    process.start()
    x = autodiff.zeros(2, 2, requires_grad=True).share_memory_()  # before its view is made
    queue.put((x, x.detach()[1]))
    assert done.get(timeout=60) == (True, True)
    process.join(60)
    assert process.exitcode == 0
    assert x.tolist() == [[1.0, 1.0], [10.0, 10.0]]


def _train_step(rank: int, model: nn.Linear) -> None:
    assert model.weight.is_shared() and model.weight.grad is None
    with autodiff.no_grad():
        model.weight.add_(rank + 1.0)


def test_spawned_processes_update_one_model() -> None:
    # Hogwild: the model travels in the spawned processes' arguments, in shared memory.
    model = nn.Linear(2, 2, bias=False)
    with autodiff.no_grad():
        model.weight.zero_()
    model.weight.sum().backward()  # a grad (not shared here: it is not sent)
    model.share_memory()
    mp.spawn(_train_step, args=(model,), nprocs=2)
    assert model.weight.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def _square(x: autodiff.Tensor) -> float:
    return float((x * x).sum())


def test_a_pool_maps_over_tensors() -> None:
    with mp.get_context("fork").Pool(2) as pool:
        assert pool.map(_square, [autodiff.ones(2) * i for i in range(4)]) == [0, 2, 8, 18]


def _fail(rank: int, how: str) -> None:
    if rank == 1 and how == "raise":
        raise ValueError("bad rank")
    if rank == 1 and how == "exit":
        sys.exit(3)


def test_start_processes_raises_the_childs_error() -> None:
    assert mp.start_processes(_fail, args=("none",), nprocs=2, start_method="fork") is None
    with pytest.raises(mp.ProcessRaisedException) as raised:
        mp.start_processes(_fail, args=("raise",), nprocs=2, start_method="fork")
    assert raised.value.error_index == 1
    assert raised.value.msg.startswith(
        "\n\n-- Process 1 terminated with the following error:\nTraceback (most recent call "
        "last):")
    assert raised.value.msg.endswith("ValueError: bad rank\n")
    with pytest.raises(mp.ProcessExitedException, match="process 1 terminated with exit code 3"):
        mp.start_processes(_fail, args=("exit",), nprocs=2, start_method="fork")


def test_join_false_returns_the_context() -> None:
    context = mp.start_processes(_fail, args=("none",), nprocs=2, join=False,
                                 start_method="fork")
    assert isinstance(context, mp.ProcessContext) and len(context.pids()) == 2
    while not context.join(timeout=60):
        pass
    assert context.join() is True


def test_spawn_warns_about_other_start_methods() -> None:
    with pytest.warns(FutureWarning, match=re.escape(
            "This method only supports start_method=spawn (got: fork).\nTo use a different "
            "start_method use:\n\t\t torch.multiprocessing.start_processes(...)")):
        context = mp.spawn(_fail, args=("none",), nprocs=1, join=False, start_method="fork")
    assert context is not None
    while not context.join(timeout=60):
        pass


def test_exceptions_pickle() -> None:
    error = mp.ProcessExitedException("gone", 1, 42, exit_code=-9, signal_name="SIGKILL")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.msg, copy.error_index, copy.error_pid, copy.exit_code, copy.signal_name) == (
        "gone", 1, 42, -9, "SIGKILL")
