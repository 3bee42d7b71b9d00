"""The cache hit's flat check: whatever would change a call's signature (or the state the call
reaches) makes it fail, so the call computes the signature in full and traces again or runs
eagerly, as eager would compute. Each case changes one thing between calls and compares with
eager."""

from __future__ import annotations

import copy

import numpy as np

import autodiff
from autodiff import nn


def _numpy(tensor: autodiff.Tensor) -> np.ndarray:
    return np.asarray(tensor.detach().cpu().numpy())


def _batch(seed: int) -> tuple[autodiff.Tensor, autodiff.Tensor]:
    rng = np.random.default_rng(seed)
    return (autodiff.tensor(rng.standard_normal((8, 6)), dtype=autodiff.float32),
            autodiff.tensor(rng.standard_normal((8, 2)), dtype=autodiff.float32))


def _pair():
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2))
    twin = copy.deepcopy(model)
    return model, twin


def _step(model: nn.Module, optimizer: autodiff.optim.Optimizer):
    def step(x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def _agree(model: nn.Module, twin: nn.Module, got: autodiff.Tensor,
           expected: autodiff.Tensor) -> None:
    np.testing.assert_array_equal(_numpy(got), _numpy(expected))
    for mine, theirs in zip(twin.parameters(), model.parameters()):
        np.testing.assert_array_equal(_numpy(mine), _numpy(theirs))


def test_learning_rate_schedule_changes_the_signature() -> None:
    model, twin = _pair()
    optimizer = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    twin_optimizer = autodiff.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    schedulers = [autodiff.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
                  for opt in (optimizer, twin_optimizer)]
    eager, compiled = _step(model, optimizer), autodiff.compile(_step(twin, twin_optimizer))
    for seed in range(9):
        x, y = _batch(seed)
        _agree(model, twin, compiled(x, y), eager(x, y))
        for scheduler in schedulers:
            scheduler.step()
    assert compiled.stats.replays > 0
    assert compiled.stats.traces == 2 + 2  # the state made, then two new learning rates


def test_replaced_parameter_and_training_flag() -> None:
    model, twin = _pair()
    eager = autodiff.compile(lambda x: model(x))
    compiled = autodiff.compile(lambda x: twin(x))
    with autodiff.no_grad():
        for seed in range(3):
            x, _ = _batch(seed)
            np.testing.assert_array_equal(_numpy(compiled(x)), _numpy(eager(x)))
        new = nn.Parameter(autodiff.ones(2, 5))
        twin[2].weight = new
        model[2].weight = nn.Parameter(autodiff.ones(2, 5))
        x, _ = _batch(5)
        np.testing.assert_array_equal(_numpy(compiled(x)), _numpy(model(x)))
        twin.eval()
        model.eval()
        np.testing.assert_array_equal(_numpy(compiled(x)), _numpy(model(x)))
        np.testing.assert_array_equal(_numpy(compiled(x)), _numpy(model(x)))
    assert compiled.stats.traces == 3


def test_a_hook_registered_after_the_trace_runs() -> None:
    _, twin = _pair()
    compiled = autodiff.compile(lambda x: twin(x))
    x, _ = _batch(0)
    with autodiff.no_grad():
        compiled(x)
        compiled(x)
        seen = []
        twin[0].register_forward_hook(lambda module, inputs, output: seen.append(1))
        compiled(x)
        compiled(x)
    assert seen == [1, 1]
    assert compiled.stats.replays == 1 and compiled.stats.eager_calls == 1


def test_rebound_global_and_mutated_closure_list() -> None:
    weights = [autodiff.tensor([[1.0, 2.0]])]

    def f(x: autodiff.Tensor) -> autodiff.Tensor:
        total = x
        for weight in weights:
            total = total * weight
        return total * SCALE

    compiled = autodiff.compile(f)
    x = autodiff.tensor([[3.0, 4.0]])
    for _ in range(2):
        assert compiled(x).tolist() == f(x).tolist()
    weights.append(autodiff.tensor([[10.0, 10.0]]))
    assert compiled(x).tolist() == f(x).tolist() == [[30.0, 80.0]]
    global SCALE
    SCALE = autodiff.tensor(2.0)
    try:
        assert compiled(x).tolist() == f(x).tolist() == [[60.0, 160.0]]
    finally:
        SCALE = autodiff.tensor(1.0)
    assert compiled.stats.traces == 3 and compiled.stats.replays == 1


SCALE = autodiff.tensor(1.0)


def test_arguments_layout_values_and_flags() -> None:
    def f(x: autodiff.Tensor, scale: float, flags: dict[str, bool]) -> autodiff.Tensor:
        return x * scale if flags["on"] else x

    compiled = autodiff.compile(f)
    x = autodiff.tensor([1.0, 2.0])
    calls = [(x, 2.0, {"on": True}), (x, 2.0, {"on": True}), (x, 3.0, {"on": True}),
             (x, 3.0, {"on": False}), (x, 3, {"on": False}), (x.double(), 3.0, {"on": True}),
             (x.detach().clone().requires_grad_(), 3.0, {"on": True})]
    for args in calls:
        got, expected = compiled(*args), f(*args)
        assert got.tolist() == expected.tolist() and got.dtype == expected.dtype
    assert compiled.stats.replays == 1


def test_grad_mode_and_grads_appearing() -> None:
    w = autodiff.tensor([1.0, -2.0], requires_grad=True)

    def f(x: autodiff.Tensor) -> autodiff.Tensor:
        loss = (x * w).square().sum()
        if loss.requires_grad:
            loss.backward()
        return loss.detach()

    compiled = autodiff.compile(f)
    x = autodiff.tensor([0.5, 0.25])
    expected_grads = []
    for _ in range(3):
        compiled(x)
        expected_grads.append(w.grad.tolist())
    assert expected_grads == [[0.5, -0.25], [1.0, -0.5], [1.5, -0.75]]
    with autodiff.no_grad():
        assert compiled(x).tolist() == f(x).tolist()
    assert w.grad.tolist() == [1.5, -0.75]  # no backward without grad mode
    assert compiled.stats.traces == 3  # no .grad, a .grad, then no grad mode
