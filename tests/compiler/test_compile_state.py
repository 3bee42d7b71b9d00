"""autodiff.compile over steps whose Python state changes between calls: the GradScaler's scale
and growth tracker, ASGD's and RAdam's step-dependent branches, learning rates a scheduler
sets, hyperparameters written into param_groups, module attributes. Each compiled sequence
ends where eager's does, bit for bit; none keeps a value from the call it traced."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.amp.grad_scaler import _update_scale_


def _problem(seed: int = 0, steps: int = 10):
    autodiff.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    rng = np.random.default_rng(seed)
    batches = [(autodiff.tensor(rng.standard_normal((5, 6)), dtype=autodiff.float32),
                autodiff.tensor(rng.standard_normal((5, 3)), dtype=autodiff.float32))
               for _ in range(steps)]
    return model, batches


def _numpy(tensor: autodiff.Tensor) -> np.ndarray:
    return np.asarray(tensor.detach().numpy())


def _same_parameters(mine: nn.Module, theirs: nn.Module) -> None:
    for a, b in zip(mine.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(_numpy(a), _numpy(b))


def _plain_step(model, optimizer):
    def step(x, y):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def _scaled_step(model, optimizer, scaler):
    def step(x, y):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss.detach()

    return step


def test_grad_scaler_scale_and_tracker_are_read_at_replay() -> None:
    """Growth every 2 clean steps, backoff at the steps with an inf: the scale, the growth
    tracker and the parameters follow eager's at every step (a scale baked in at the trace
    would stop growing after it, and scale the loss by a stale number)."""
    model, batches = _problem(steps=12)
    twin = copy.deepcopy(model)
    eager_opt = autodiff.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    twin_opt = autodiff.optim.SGD(twin.parameters(), lr=0.05, momentum=0.9)
    eager_scaler = autodiff.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
    twin_scaler = autodiff.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
    eager = _scaled_step(model, eager_opt, eager_scaler)
    compiled = autodiff.compile(_scaled_step(twin, twin_opt, twin_scaler))
    scales = []
    for number, (x, y) in enumerate(batches):
        if number in (5, 9):  # an overflow: the step is skipped and the scale backs off
            x = x * float("inf")
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(eager(x, y)))
        assert twin_scaler.get_scale() == eager_scaler.get_scale()
        assert twin_scaler._get_growth_tracker() == eager_scaler._get_growth_tracker()
        _same_parameters(twin, model)
        scales.append(eager_scaler.get_scale())
    assert len(set(scales)) >= 3  # it grew and backed off
    stats = compiled.stats
    assert stats.graph_breaks == []
    assert stats.replays >= 6  # the inf steps fail the found_inf guard and run eagerly
    assert stats.guard_failures == 2


def test_grad_scaler_update_matches_pytorch_sequence() -> None:
    """_amp_update_scale_ as recorded tensor ops: growth, the grown scale kept finite,
    backoff, the tracker's reset, against torch's scaler on the same found_inf sequence."""
    torch = pytest.importorskip("torch")
    found_sequence = [0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0]
    mine = autodiff.amp.GradScaler("cpu", init_scale=3.0e38, growth_interval=2,
                                   growth_factor=1.5, backoff_factor=0.25)
    theirs = torch.amp.GradScaler("cpu", init_scale=3.0e38, growth_interval=2,
                                  growth_factor=1.5, backoff_factor=0.25)
    mine._lazy_init_scale_growth_tracker("cpu")
    theirs._lazy_init_scale_growth_tracker("cpu")
    for found in found_sequence:
        _update_scale_(mine._scale, mine._growth_tracker,
                       autodiff.tensor(float(found)), 1.5, 0.25, 2)
        torch._amp_update_scale_(theirs._scale, theirs._growth_tracker,
                                 torch.tensor(float(found)), 1.5, 0.25, 2)
        assert mine._scale.item() == theirs._scale.item()
        assert mine._growth_tracker.item() == theirs._growth_tracker.item()
        assert mine._scale.dtype == autodiff.float32
        assert mine._growth_tracker.dtype == autodiff.int32


@pytest.mark.parametrize(("make", "steps"), [
    (lambda params: autodiff.optim.ASGD(params, lr=0.05, t0=3, weight_decay=0.01), 9),
    (lambda params: autodiff.optim.ASGD(params, lr=0.05, t0=3, maximize=True), 9),
    # rho_t passes 5 at the 6th step: the rectified update starts there
    (lambda params: autodiff.optim.RAdam(params, lr=0.01), 10),
], ids=["asgd", "asgd-maximize", "radam"])
def test_step_count_branches_replay_as_eager(make, steps: int) -> None:
    """ASGD averages only after t0 (mu != 1), RAdam rectifies once rho_t > 5: branches on
    the step count, taken at each replay as eager takes them (no guard fails, no eager run)."""
    model, batches = _problem(steps=steps)
    twin = copy.deepcopy(model)
    eager_opt, twin_opt = make(model.parameters()), make(twin.parameters())
    eager = _plain_step(model, eager_opt)
    compiled = autodiff.compile(_plain_step(twin, twin_opt))
    for x, y in batches:
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(eager(x, y)))
        _same_parameters(twin, model)
        for mine, theirs in zip(twin_opt.state.values(), eager_opt.state.values()):
            for key in theirs:
                np.testing.assert_array_equal(_numpy(mine[key]), _numpy(theirs[key]))
    stats = compiled.stats
    assert stats.graph_breaks == [] and stats.guard_failures == 0 and stats.eager_calls == 0
    assert stats.traces == 2  # before and after the optimizer made its state
    assert stats.replays == steps - 2


def test_step_lr_changing_every_step() -> None:
    """StepLR(step_size=1) sets a new lr after every step: the compiled steps use each one
    (the lr is part of the signature), ending on eager's parameters."""
    model, batches = _problem(steps=8)
    twin = copy.deepcopy(model)
    eager_opt = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    twin_opt = autodiff.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    schedulers = [autodiff.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
                  for opt in (eager_opt, twin_opt)]
    eager = _plain_step(model, eager_opt)
    compiled = autodiff.compile(_plain_step(twin, twin_opt))
    for x, y in batches:
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(eager(x, y)))
        for scheduler in schedulers:
            scheduler.step()
        _same_parameters(twin, model)
    assert twin_opt.param_groups[0]["lr"] == eager_opt.param_groups[0]["lr"] != 0.1
    assert compiled.stats.graph_breaks == []


@pytest.mark.parametrize("change", [
    lambda opt, model: opt.param_groups[0].__setitem__("momentum", 0.5),
    lambda opt, model: opt.param_groups[0].__setitem__("weight_decay", 0.1),
    lambda opt, model: opt.param_groups[0].__setitem__("lr", 0.01),
    lambda opt, model: setattr(model[1], "p", 0.0),
    lambda opt, model: model.eval(),
], ids=["momentum", "weight_decay", "lr", "dropout-p", "training-flag"])
def test_python_values_changed_between_calls(change) -> None:
    """A hyperparameter written into param_groups, a Dropout's p or the training flag changed
    after the program was traced: the next calls use the new value, as eager does."""
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    twin = copy.deepcopy(model)
    _, batches = _problem(steps=6)
    eager_opt = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    twin_opt = autodiff.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    eager = _plain_step(model, eager_opt)
    compiled = autodiff.compile(_plain_step(twin, twin_opt))
    for number, (x, y) in enumerate(batches):
        if number == 3:
            change(eager_opt, model)
            change(twin_opt, twin)
        autodiff.manual_seed(number)
        expected = eager(x, y)
        autodiff.manual_seed(number)
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(expected))
        _same_parameters(twin, model)
    assert compiled.stats.graph_breaks == []
    assert compiled.stats.replays >= 2


def test_tensor_lr_changed_in_place() -> None:
    """lr given as a Tensor and changed in place between calls (as a capturable scheduler
    does): it is state, so no replay keeps the traced value."""
    model, batches = _problem(steps=6)
    twin = copy.deepcopy(model)
    eager_opt = autodiff.optim.Adam(model.parameters(), lr=autodiff.tensor(0.01))
    twin_opt = autodiff.optim.Adam(twin.parameters(), lr=autodiff.tensor(0.01))
    eager = _plain_step(model, eager_opt)
    compiled = autodiff.compile(_plain_step(twin, twin_opt))
    for number, (x, y) in enumerate(batches):
        if number >= 3:
            for opt in (eager_opt, twin_opt):
                opt.param_groups[0]["lr"].fill_(0.01 / number)
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(eager(x, y)))
        _same_parameters(twin, model)
