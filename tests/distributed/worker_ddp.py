"""DistributedDataParallel and DistributedSampler against single-process references.

Run by test_ddp.py as `mpiexec -n K python tests/distributed/worker_ddp.py K`. The global batch
is the same on every rank (a seeded generator); rank r trains on rows [r*B, (r+1)*B). The
reference is one plain model, started from rank 0's parameters, trained on all rows at once on
each rank locally: data-parallel training must give the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from harness import check, expected_size, raises, rank, run_checks, size

import autodiff as torch
import autodiff.distributed as dist
from autodiff import nn
from autodiff.nn.parallel import DistributedDataParallel as DDP
from autodiff.utils.data import DistributedSampler

ROWS = 4  # per rank


class MLP(nn.Module):
    def __init__(self, hidden: int = 8, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.first = nn.Linear(6, hidden, dtype=dtype)
        self.second = nn.Linear(hidden, 3, dtype=dtype)
        self.register_buffer("offset", torch.full((3,), float(rank()), dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(torch.tanh(self.first(x))) + self.offset


class TwoHeads(nn.Module):
    """`body` always; `extra` only when asked; `never` is in no graph."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(6, 3, dtype=torch.float64)
        self.extra = nn.Linear(6, 3, dtype=torch.float64)
        self.never = nn.Linear(6, 3, dtype=torch.float64)

    def forward(self, x: torch.Tensor, use_extra: bool) -> torch.Tensor:
        out = self.body(x)
        return out + self.extra(x) if use_extra else out


def batch(dtype: torch.dtype = torch.float64, salt: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(100 + salt)
    x = rng.standard_normal((ROWS * size(), 6)).astype(dtype.name)
    y = rng.standard_normal((ROWS * size(), 3)).astype(dtype.name)
    return x, y


def mine(array: np.ndarray) -> torch.Tensor:
    return torch.tensor(array[rank() * ROWS:(rank() + 1) * ROWS])


def copy_of(model: nn.Module, make: Callable[[], nn.Module]) -> nn.Module:
    reference = make()
    reference.load_state_dict(model.state_dict())
    return reference


def flat(tensors: list[torch.Tensor]) -> np.ndarray:
    return np.concatenate([t.detach().numpy().reshape(-1) for t in tensors])


def same_on_every_rank(values: np.ndarray) -> None:
    """Bitwise: every rank holds exactly these values."""
    mine_tensor = torch.tensor(values)
    gathered = [torch.zeros_like(mine_tensor) for _ in range(size())]
    dist.all_gather(gathered, mine_tensor)
    for other, theirs in enumerate(gathered):
        np.testing.assert_array_equal(theirs.numpy(), values, err_msg=f"rank {other} differs")


# ----------------------------------------------------------------------------- construction
@check
def construction_broadcasts_rank0_parameters_and_buffers() -> None:
    torch.manual_seed(rank())  # every rank starts from different numbers
    model = MLP()
    DDP(model)
    same_on_every_rank(flat(list(model.parameters())))
    np.testing.assert_array_equal(model.offset.numpy(), np.zeros(3))  # rank 0's buffer


@check
def different_models_raise_on_every_rank() -> None:
    if size() == 1:
        return
    message = raises(dist.DistError, "expects the same model on every rank", DDP,
                     MLP(hidden=4 + rank()))
    assert "rank 0 has 4 parameters of 43 elements" in message, message
    assert "rank 1 has 4 parameters of 53 elements" in message, message


# ----------------------------------------------------------------------------- training
def train_and_compare(dtype: torch.dtype, bucket_cap_mb: float | None, steps: int = 4) -> None:
    torch.manual_seed(rank())
    model = MLP(dtype=dtype)
    ddp = DDP(model, bucket_cap_mb=bucket_cap_mb)
    reference = copy_of(model, lambda: MLP(dtype=dtype))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.MSELoss()
    tolerance = 1e-12 if dtype is torch.float64 else 2e-6
    for step in range(steps):
        x, y = batch(dtype, salt=step)
        optimizer.zero_grad()
        loss_fn(ddp(mine(x)), mine(y)).backward()
        optimizer.step()
        reference_optimizer.zero_grad()
        loss_fn(reference(torch.tensor(x)), torch.tensor(y)).backward()
        reference_optimizer.step()
        for (name, param), expected in zip(model.named_parameters(), reference.parameters()):
            np.testing.assert_allclose(param.detach().numpy(), expected.detach().numpy(),
                                       rtol=tolerance, atol=tolerance, err_msg=name)
        same_on_every_rank(flat(list(model.parameters())))


@check
def training_matches_single_process_float64() -> None:
    train_and_compare(torch.float64, None)


@check
def training_matches_single_process_float32() -> None:
    train_and_compare(torch.float32, None)


@check
def training_matches_single_process_with_small_buckets() -> None:
    train_and_compare(torch.float64, bucket_cap_mb=50 / 2**20)  # 50 bytes: 3 buckets


@check
def buckets_start_during_backward_in_order() -> None:
    model = MLP()
    ddp = DDP(model, bucket_cap_mb=50 / 2**20)
    # Buckets: second.bias + second.weight, first.bias, first.weight.
    assert [len(b.params) for b in ddp.reducer.buckets] == [2, 1, 1]
    group = ddp.process_group
    started: list[tuple[str, int]] = []
    original = group.all_reduce

    def recording(array: Any, op: str, what: str, finish: Any) -> Any:
        started.append((what, ddp.reducer.ready_count))
        return original(array, op, what, finish)

    group.all_reduce = recording
    try:
        x, y = batch()
        nn.MSELoss()(ddp(mine(x)), mine(y)).backward()
    finally:
        del group.all_reduce
    assert [what for what, _ in started] == [
        f"DistributedDataParallel (gradient bucket {index})" for index in range(3)]
    # Bucket 0 (the last layer) started when 2 of the 4 gradients were in: during backward.
    assert started[0][1] == 2 and started[2][1] == 4, started
    assert all(param.grad is not None for param in model.parameters())


@check
def gradients_are_averaged_views_of_the_bucket() -> None:
    model = MLP()
    ddp = DDP(model, gradient_as_bucket_view=True)
    reference = copy_of(model, MLP)
    x, y = batch()
    nn.MSELoss()(ddp(mine(x)), mine(y)).backward()
    nn.MSELoss()(reference(torch.tensor(x)), torch.tensor(y)).backward()
    for param, expected in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(param.grad.numpy(), expected.grad.numpy(), rtol=1e-12,
                                   atol=1e-14)
    buffer = ddp.reducer.buckets[0]
    assert buffer.flat is None  # released after the step: the grads hold it
    bases = {id(param.grad.numpy().base) for param in model.parameters()}
    assert len(bases) == 1  # one bucket: every .grad is a view of the same reduced buffer


@check
def gradients_are_copied_out_of_the_bucket_by_default() -> None:
    model = MLP()
    ddp = DDP(model)
    reference = copy_of(model, MLP)
    x, y = batch()
    for step in range(2):  # the second backward finds .grad there: its object is kept
        held = [param.grad for param in model.parameters()]
        nn.MSELoss()(ddp(mine(x)), mine(y)).backward()
        nn.MSELoss()(reference(torch.tensor(x)), torch.tensor(y)).backward()
        for param, expected, before in zip(model.parameters(), reference.parameters(), held):
            np.testing.assert_allclose(param.grad.numpy(), expected.grad.numpy(), rtol=1e-12,
                                       atol=1e-14)
            assert param.grad.numpy().base is None  # its own memory, not the bucket's
            assert step == 0 or param.grad is before


@check
def arguments_pytorch_refuses_or_warns_about() -> None:
    model = MLP()
    raises(ValueError, "device_ids can only be None or contain a single element.", DDP,
           model, device_ids=[0, 1])
    message = raises(ValueError, "DistributedDataParallel device_ids and output_device "
                     "arguments only work with single-device/multiple-device GPU modules or CPU "
                     "modules, but got device_ids [0], output_device None, and module "
                     "parameters {device(type='cpu')}.", DDP, model, device_ids=[0])
    assert message.endswith("{device(type='cpu')}."), message
    raises(RuntimeError, "DistributedDataParallel(static_graph=True) is not supported", DDP,
           model, static_graph=True)
    import warnings

    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        ddp = DDP(model, check_reduction=True, dim=1)
    assert [str(w.message) for w in warned] == [
        "The `check_reduction` argument in `DistributedDataParallel` module is deprecated. "
        "Please avoid using it."]
    assert ddp.dim == 1 and ddp.device_ids is None and ddp.output_device is None
    raises(RuntimeError, "DistributedDataParallel(static_graph=True) is not supported",
           ddp._set_static_graph)


@check
def no_sync_accumulates_locally_then_averages() -> None:
    model = MLP()
    ddp = DDP(model)
    local = copy_of(model, MLP)
    reference = copy_of(model, MLP)
    loss_fn = nn.MSELoss()
    (x1, y1), (x2, y2) = batch(salt=1), batch(salt=2)
    with ddp.no_sync():
        loss_fn(ddp(mine(x1)), mine(y1)).backward()
    loss_fn(local(mine(x1)), mine(y1)).backward()  # this rank's own gradient, not averaged
    for param, expected in zip(model.parameters(), local.parameters()):
        np.testing.assert_allclose(param.grad.numpy(), expected.grad.numpy(), rtol=1e-12,
                                   atol=1e-14)
    loss_fn(ddp(mine(x2)), mine(y2)).backward()  # synchronised: averages the accumulated sums
    loss_fn(reference(torch.tensor(x1)), torch.tensor(y1)).backward()
    loss_fn(reference(torch.tensor(x2)), torch.tensor(y2)).backward()
    for param, expected in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(param.grad.numpy(), expected.grad.numpy(), rtol=1e-12,
                                   atol=1e-14)
    same_on_every_rank(flat([param.grad for param in model.parameters()]))


@check
def find_unused_parameters() -> None:
    model = TwoHeads()
    ddp = DDP(model, find_unused_parameters=True)
    reference = copy_of(model, TwoHeads)
    x, y = batch()
    loss_fn = nn.MSELoss()
    # Only rank 0 uses `extra`; nobody uses `never`.
    loss_fn(ddp(mine(x), use_extra=rank() == 0), mine(y)).backward()
    rows = [torch.tensor(x[r * ROWS:(r + 1) * ROWS]) for r in range(size())]
    targets = [torch.tensor(y[r * ROWS:(r + 1) * ROWS]) for r in range(size())]
    for r in range(size()):  # the average of each rank's gradient, computed here
        loss = loss_fn(reference(rows[r], use_extra=r == 0), targets[r]) / size()
        loss.backward()
    for name in ("body.weight", "body.bias", "extra.weight", "extra.bias"):
        np.testing.assert_allclose(dict(model.named_parameters())[name].grad.numpy(),
                                   dict(reference.named_parameters())[name].grad.numpy(),
                                   rtol=1e-12, atol=1e-14, err_msg=name)
    assert model.never.weight.grad is None and model.never.bias.grad is None
    # A second iteration works the same way (the state was reset).
    loss_fn(ddp(mine(x), use_extra=True), mine(y)).backward()
    assert model.never.weight.grad is None


@check
def unused_parameter_without_find_unused_raises_at_next_forward() -> None:
    model = TwoHeads()
    ddp = DDP(model)
    x, y = batch()
    nn.MSELoss()(ddp(mine(x), use_extra=False), mine(y)).backward()
    raises(RuntimeError, "Expected to have finished reduction in the prior iteration", ddp,
           mine(x), True)


@check
def forward_without_grad_does_not_sync() -> None:
    model = MLP()
    ddp = DDP(model)
    x, y = batch()
    with torch.no_grad():
        ddp(mine(x))
    assert not ddp.reducer.expect_hooks
    nn.MSELoss()(model(mine(x)), mine(y)).backward()  # the inner module: not synchronised
    local = flat([param.grad for param in model.parameters()])
    model.zero_grad()
    nn.MSELoss()(ddp(mine(x)), mine(y)).backward()
    if size() > 1:
        assert not np.array_equal(local, flat([param.grad for param in model.parameters()]))
    assert "module.first.weight" in ddp.state_dict()


# ----------------------------------------------------------------------------- sampler
@check
def distributed_sampler_shards_the_dataset() -> None:
    dataset = list(range(11))
    for drop_last in (False, True):
        sampler = DistributedSampler(dataset, seed=3, drop_last=drop_last)
        assert sampler.num_replicas == size() and sampler.rank == rank()
        first = list(sampler)
        mine_tensor = torch.tensor(first, dtype=torch.int64)
        gathered = [torch.zeros_like(mine_tensor) for _ in range(size())]
        dist.all_gather(gathered, mine_tensor)
        everything = [index for shard in gathered for index in shard.tolist()]
        if drop_last:
            assert len(everything) == 11 - 11 % size() and len(set(everything)) == len(everything)
        else:
            assert sorted(set(everything)) == dataset and len(everything) == len(sampler) * size()
        sampler.set_epoch(1)
        assert list(sampler) != first or size() == len(dataset)


if __name__ == "__main__":
    run_checks(timeout=30.0, expected_size=expected_size())
