"""autodiff.compile reads optimizer hyperparameters at each call: the numbers of param_groups
(lr, momentum, betas, eps, weight_decay...) and a Tensor lr are inputs of the program, so a
learning rate a scheduler (or the user) changes every step replays one program, bit for bit
as eager. A change that takes another branch (momentum 0 -> 0.9, nesterov, amsgrad,
maximize, a weight decay switched on) traces again."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.optim import lr_scheduler

optim = autodiff.optim
STEPS = 8

OPTIMIZERS: dict[str, Callable[[list[Any]], Any]] = {
    "sgd": lambda params: optim.SGD(params, lr=0.1),
    "sgd-momentum": lambda params: optim.SGD(params, lr=0.1, momentum=0.9, dampening=0.1,
                                             weight_decay=0.01),
    "sgd-nesterov": lambda params: optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda params: optim.Adam(params, lr=0.01),
    "adam-maximize": lambda params: optim.Adam(params, lr=0.01, maximize=True,
                                               weight_decay=0.1),
    "adamw": lambda params: optim.AdamW(params, lr=0.01),
    "adamw-amsgrad": lambda params: optim.AdamW(params, lr=0.01, amsgrad=True),
    "rmsprop": lambda params: optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True,
                                            weight_decay=0.1),
    "adagrad": lambda params: optim.Adagrad(params, lr=0.1, lr_decay=0.01, weight_decay=0.1),
    "adadelta": lambda params: optim.Adadelta(params, lr=1.0, weight_decay=0.1),
    "adamax": lambda params: optim.Adamax(params, lr=0.01),
    "nadam": lambda params: optim.NAdam(params, lr=0.01, weight_decay=0.1,
                                        decoupled_weight_decay=True),
    "radam": lambda params: optim.RAdam(params, lr=0.01),
    "asgd": lambda params: optim.ASGD(params, lr=0.05, t0=3),
    "rprop": lambda params: optim.Rprop(params, lr=0.01),
    "muon": lambda params: optim.Muon([p for p in params if p.ndim == 2], lr=0.01),
}
# Optimizers with a momentum or betas, which OneCycleLR and CyclicLR cycle by default.
_CYCLES_MOMENTUM = {"sgd-momentum", "sgd-nesterov", "adam", "adam-maximize", "adamw",
                    "adamw-amsgrad", "rmsprop", "adamax", "nadam", "radam", "muon"}


def _one_cycle(optimizer: Any, name: str) -> Any:
    return lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=STEPS + 2,
                                   cycle_momentum=name in _CYCLES_MOMENTUM)


SCHEDULERS: dict[str, Callable[[Any, str], Any]] = {
    "step": lambda opt, name: lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    "cosine": lambda opt, name: lr_scheduler.CosineAnnealingLR(opt, T_max=5),
    "one-cycle": _one_cycle,
    "exponential": lambda opt, name: lr_scheduler.ExponentialLR(opt, gamma=0.9),
    "multi-step": lambda opt, name: lr_scheduler.MultiStepLR(opt, milestones=[2, 5]),
    "lambda": lambda opt, name: lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (1 + epoch)),
    "multiplicative": lambda opt, name: lr_scheduler.MultiplicativeLR(opt, lambda e: 0.95),
    "constant": lambda opt, name: lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3),
    "linear": lambda opt, name: lr_scheduler.LinearLR(opt, start_factor=0.2, total_iters=4),
    "polynomial": lambda opt, name: lr_scheduler.PolynomialLR(opt, total_iters=6, power=2.0),
    "warm-restarts": lambda opt, name: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3),
    "cyclic": lambda opt, name: lr_scheduler.CyclicLR(
        opt, base_lr=0.001, max_lr=0.05, step_size_up=2,
        cycle_momentum=name in _CYCLES_MOMENTUM and name.startswith("sgd")),
    "sequential": lambda opt, name: lr_scheduler.SequentialLR(
        opt, [lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2),
              lr_scheduler.ExponentialLR(opt, gamma=0.8)], milestones=[2]),
    "plateau": lambda opt, name: lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0),
}


def _problem(seed: int = 0) -> tuple[nn.Module, list[tuple[autodiff.Tensor, autodiff.Tensor]]]:
    autodiff.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    rng = np.random.default_rng(seed)
    batches = [(autodiff.tensor(rng.standard_normal((5, 6)), dtype=autodiff.float32),
                autodiff.tensor(rng.standard_normal((5, 3)), dtype=autodiff.float32))
               for _ in range(STEPS)]
    return model, batches


def _step(model: nn.Module, optimizer: Any) -> Callable[..., autodiff.Tensor]:
    def step(x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def _numpy(tensor: autodiff.Tensor) -> np.ndarray:
    return np.asarray(tensor.detach().numpy())


def _same_state(model: nn.Module, twin: nn.Module, optimizer: Any, twin_optimizer: Any) -> None:
    for mine, theirs in zip(twin.parameters(), model.parameters()):
        np.testing.assert_array_equal(_numpy(mine), _numpy(theirs))
    for mine, theirs in zip(twin_optimizer.state.values(), optimizer.state.values()):
        for key, value in theirs.items():
            if isinstance(value, autodiff.Tensor):
                np.testing.assert_array_equal(_numpy(mine[key]), _numpy(value))


def _run(make_optimizer: Callable[[list[Any]], Any], change: Callable[[Any, int, Any], None],
         ) -> autodiff.compiler.compiled.CompiledFunction:
    """STEPS steps, eager and compiled side by side, `change(optimizer, step, loss)` after
    each; every loss, parameter and state tensor the same bit for bit."""
    model, batches = _problem()
    twin = copy.deepcopy(model)
    optimizer = make_optimizer(list(model.parameters()))
    twin_optimizer = make_optimizer(list(twin.parameters()))
    eager, compiled = _step(model, optimizer), autodiff.compile(_step(twin, twin_optimizer))
    for number, (x, y) in enumerate(batches):
        expected = eager(x, y)
        got = compiled(x, y)
        np.testing.assert_array_equal(_numpy(got), _numpy(expected))
        _same_state(model, twin, optimizer, twin_optimizer)
        change(optimizer, number, expected)
        change(twin_optimizer, number, got)
    assert [group["lr"] for group in twin_optimizer.param_groups] == \
        [group["lr"] for group in optimizer.param_groups]
    return compiled


def _assert_one_program(compiled: Any) -> None:
    """Two traces whatever the schedule: one before the optimizer made its state (plain SGD
    and Adagrad: before the parameters had a .grad), one after, replayed at every next step."""
    stats = compiled.stats
    assert stats.graph_breaks == [] and stats.eager_calls == 0 and stats.guard_failures == 0
    assert stats.recompile_limit_hits == 0
    assert stats.traces == 2
    assert stats.replays == STEPS - 2


def _scheduled(scheduler: str, name: str) -> Callable[[Any, int, Any], None]:
    """A `change` that steps a scheduler of each optimizer (made at its first step)."""
    schedulers: dict[int, Any] = {}

    def change(optimizer: Any, number: int, loss: Any) -> None:
        if id(optimizer) not in schedulers:
            schedulers[id(optimizer)] = SCHEDULERS[scheduler](optimizer, name)
        if scheduler == "plateau":
            schedulers[id(optimizer)].step(float(loss) * (1 + number))  # never better
        else:
            schedulers[id(optimizer)].step()

    return change


@pytest.mark.parametrize("scheduler", ["step", "cosine", "one-cycle"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_under_a_schedule_replays_one_program(name: str, scheduler: str) -> None:
    compiled = _run(OPTIMIZERS[name], _scheduled(scheduler, name))
    _assert_one_program(compiled)


@pytest.mark.parametrize("scheduler", [name for name in SCHEDULERS
                                       if name not in ("step", "cosine", "one-cycle")])
@pytest.mark.parametrize("name", ["sgd-momentum", "adam"])
def test_every_scheduler_replays_one_program(name: str, scheduler: str) -> None:
    compiled = _run(OPTIMIZERS[name], _scheduled(scheduler, name))
    _assert_one_program(compiled)


def test_one_compile_in_compile_stats() -> None:
    """compile_stats() over StepLR, CosineAnnealingLR and OneCycleLR runs of SGD with
    momentum: two traces each (before and after the momentum buffers exist), whatever the
    number of steps."""
    autodiff.reset_compile_stats()
    for scheduler in ("step", "cosine", "one-cycle"):
        _run(OPTIMIZERS["sgd-momentum"], _scheduled(scheduler, "sgd-momentum"))
    stats = autodiff.compile_stats()
    assert stats["traces"] == 3 * 2
    assert stats["replays"] == 3 * (STEPS - 2)
    assert stats["eager_calls"] == stats["guard_failures"] == stats["graph_breaks"] == 0


def test_tensor_learning_rate_changed_in_place_replays() -> None:
    def change(optimizer: Any, number: int, loss: Any) -> None:
        optimizer.param_groups[0]["lr"].fill_(0.01 / (number + 2))

    compiled = _run(lambda params: optim.Adam(params, lr=autodiff.tensor(0.01)), change)
    _assert_one_program(compiled)


def test_hyperparameters_written_by_the_user_replay() -> None:
    """Every number of the group changed after each step (as a user writing param_group[...]
    would), none switching a branch: one program."""
    def change(optimizer: Any, number: int, loss: Any) -> None:
        group = optimizer.param_groups[0]
        group["lr"] = 0.02 / (number + 1)
        group["betas"] = (0.9 - 0.01 * number, 0.999 - 0.001 * number)
        group["eps"] = 1e-8 * (number + 1)
        group["weight_decay"] = 0.01 * (number + 1)

    compiled = _run(lambda params: optim.Adam(params, lr=0.01, weight_decay=0.01), change)
    _assert_one_program(compiled)


@pytest.mark.parametrize(("make", "key", "values", "traces"), [
    # the momentum buffer: made (a trace), then each branch a trace of its own
    # (and back to 0: a new signature, the state now holding the buffers)
    (lambda params: optim.SGD(params, lr=0.1), "momentum", [0, 0, 0.9, 0.8, 0.7, 0, 0, 0], 5),
    (lambda params: optim.SGD(params, lr=0.1, momentum=0.9), "nesterov",
     [False, False, True, True, False, False, True, True], 3),
    (lambda params: optim.SGD(params, lr=0.1), "weight_decay",
     [0, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 3),
    (lambda params: optim.Adam(params, lr=0.01), "decoupled_weight_decay",
     [False, False, True, True, True, True, True, True], 3),
    (lambda params: optim.Adam(params, lr=0.01), "maximize",
     [False, False, True, True, False, False, False, False], 3),
], ids=["momentum", "nesterov", "weight_decay", "decoupled", "maximize"])
def test_a_change_of_branch_traces_again(make: Any, key: str, values: list[Any],
                                         traces: int) -> None:
    """Values that choose another branch of the step (a Python branch on the number, a flag)
    are a new signature: traced again, and each result is eager's."""
    def change(optimizer: Any, number: int, loss: Any) -> None:
        if number + 1 < len(values):
            optimizer.param_groups[0][key] = values[number + 1]

    compiled = _run(make, change)
    stats = compiled.stats
    assert stats.graph_breaks == [] and stats.eager_calls == 0 and stats.guard_failures == 0
    assert stats.traces == traces
    assert stats.replays == STEPS - traces


def test_an_int_hyperparameter_becoming_a_float_traces_again() -> None:
    """The program computed with the type the trace saw (momentum=0 is an int)."""
    def change(optimizer: Any, number: int, loss: Any) -> None:
        optimizer.param_groups[0]["dampening"] = 0 if number < 3 else 0.0

    compiled = _run(lambda params: optim.SGD(params, lr=0.1, momentum=0.5), change)
    assert compiled.stats.traces == 3


def test_a_learning_rate_read_by_the_function() -> None:
    """The function itself reads the group's lr: Python arithmetic on it is recorded, and
    where it meets a Tensor operation it is a constant of the program that a new value traces
    again (as a printed one)."""
    model, batches = _problem()
    twin = copy.deepcopy(model)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    twin_optimizer = optim.SGD(twin.parameters(), lr=0.1)

    def step_of(model: nn.Module, optimizer: Any) -> Callable[..., Any]:
        def step(x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
            optimizer.zero_grad()
            scale = 1 + optimizer.param_groups[0]["lr"]
            loss = ((model(x) - y) ** 2).mean() * scale
            loss.backward()
            optimizer.step()
            return loss.detach()

        return step

    eager, compiled = step_of(model, optimizer), autodiff.compile(step_of(twin, twin_optimizer))
    for number, (x, y) in enumerate(batches[:6]):
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(eager(x, y)))
        if number in (2, 4):
            for opt in (optimizer, twin_optimizer):
                opt.param_groups[0]["lr"] = 0.1 / number
    _same_state(model, twin, optimizer, twin_optimizer)
    stats = compiled.stats
    assert stats.graph_breaks == [] and stats.guard_failures == 0
    assert stats.traces == 4 and stats.replays == 2


def test_a_learning_rate_printed_by_the_function_is_a_guard() -> None:
    """Formatting the lr reads its value into Python: that value is part of the signature
    (each new lr traces again), and the text printed at each traced call is eager's."""
    model, batches = _problem()
    twin = copy.deepcopy(model)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    twin_optimizer = optim.SGD(twin.parameters(), lr=0.1)
    printed: list[str] = []

    def step_of(model: nn.Module, optimizer: Any) -> Callable[..., Any]:
        def step(x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
            printed.append(f"lr {optimizer.param_groups[0]['lr']:.4f}")
            return _step(model, optimizer)(x, y)

        return step

    eager, compiled = step_of(model, optimizer), autodiff.compile(step_of(twin, twin_optimizer))
    for number, (x, y) in enumerate(batches[:5]):
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(eager(x, y)))
        if number >= 2:
            for opt in (optimizer, twin_optimizer):
                opt.param_groups[0]["lr"] = 0.1 / number
    _same_state(model, twin, optimizer, twin_optimizer)
    assert printed[-2:] == ["lr 0.0333", "lr 0.0333"]
    assert compiled.stats.traces == 4 and compiled.stats.guard_failures == 0
    assert isinstance(optimizer.param_groups[0]["lr"], float)


def test_a_scheduler_stepped_inside_the_function_runs_eagerly() -> None:
    """A replay would not set the new lr: the signature runs eagerly, as eager would."""
    model, batches = _problem()
    twin = copy.deepcopy(model)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    twin_optimizer = optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)

    def step_of(model: nn.Module, optimizer: Any) -> Callable[..., Any]:
        scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

        def step(x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
            loss = _step(model, optimizer)(x, y)
            scheduler.step()
            return loss

        return step

    eager, compiled = step_of(model, optimizer), autodiff.compile(step_of(twin, twin_optimizer))
    for x, y in batches:
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(eager(x, y)))
        assert type(twin_optimizer.param_groups[0]["lr"]) is float
        assert twin_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    _same_state(model, twin, optimizer, twin_optimizer)
    assert any("lr scheduler" in (entry.reason or "") for entry in compiled.cache.values())
    assert compiled.stats.replays == 0


def test_explain_names_the_hyperparameter_inputs_and_their_guards() -> None:
    model, batches = _problem()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    compiled = autodiff.compile(_step(model, optimizer))
    for x, y in batches[:3]:
        compiled(x, y)
    listing = compiled.explain()
    assert "param_group['lr'], read at each call" in listing
    assert "param_group['momentum'], read at each call" in listing
    assert "checked before each call" in listing and "guard" in listing


def test_lbfgs_and_subclasses_keep_their_numbers_by_value() -> None:
    """LBFGS compares Tensors with its tolerances and a user's subclass may do anything with
    its numbers: their numbers stay constants of the signature (a new lr traces again); both
    end where eager does."""
    class MySGD(optim.SGD):
        pass

    compiled = _run(lambda params: MySGD(params, lr=0.1, momentum=0.9),
                    _scheduled("step", "sgd-momentum"))
    assert compiled.stats.traces > 2 and compiled.stats.graph_breaks == []

    model, _ = _problem()
    twin = copy.deepcopy(model)
    x = autodiff.randn(5, 6)

    def step_of(model: nn.Module, optimizer: Any) -> Callable[..., Any]:
        def step() -> Any:
            def closure() -> Any:
                optimizer.zero_grad()
                loss = model(x).square().mean()
                loss.backward()
                return loss

            return optimizer.step(closure)

        return step

    optimizer = optim.LBFGS(model.parameters(), lr=0.5, max_iter=3)
    twin_optimizer = optim.LBFGS(twin.parameters(), lr=0.5, max_iter=3)
    schedulers = [lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
                  for opt in (optimizer, twin_optimizer)]
    eager, compiled = step_of(model, optimizer), autodiff.compile(step_of(twin, twin_optimizer))
    for _ in range(4):
        np.testing.assert_array_equal(_numpy(compiled()), _numpy(eager()))
        for scheduler in schedulers:
            scheduler.step()
    _same_state(model, twin, optimizer, twin_optimizer)
