"""StepLR and CosineAnnealingLR: the closed-form schedules, PyTorch's recursive values,
get_last_lr and state_dict round trips."""

from __future__ import annotations

import math
from typing import Any

import pytest

import autodiff
from autodiff import nn, optim
from autodiff.optim.lr_scheduler import CosineAnnealingLR, StepLR


def _optimizer(lrs: tuple[float, ...] = (0.1, 0.02)) -> optim.SGD:
    groups = [{"params": [nn.Parameter(autodiff.ones(1))], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=1.0, momentum=0.9)


def _schedule(scheduler: Any, optimizer: optim.SGD, epochs: int) -> list[list[float]]:
    seen = [scheduler.get_last_lr()]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        seen.append(scheduler.get_last_lr())
    return seen


def test_step_lr_multiplies_every_step_size_epochs() -> None:
    optimizer = _optimizer()
    scheduler = StepLR(optimizer, step_size=3, gamma=0.5)
    seen = _schedule(scheduler, optimizer, 10)
    for epoch, lrs in enumerate(seen):
        expected = [base * 0.5 ** (epoch // 3) for base in (0.1, 0.02)]
        assert lrs == pytest.approx(expected, rel=1e-12)
    assert [group["lr"] for group in optimizer.param_groups] == seen[-1]
    assert [group["initial_lr"] for group in optimizer.param_groups] == [0.1, 0.02]


def test_cosine_annealing_follows_the_cosine_and_comes_back_up() -> None:
    optimizer = _optimizer()
    scheduler = CosineAnnealingLR(optimizer, T_max=5, eta_min=0.001)
    seen = _schedule(scheduler, optimizer, 12)
    for epoch, lrs in enumerate(seen):
        expected = [0.001 + (base - 0.001) * (1 + math.cos(math.pi * epoch / 5)) / 2
                    for base in (0.1, 0.02)]
        assert lrs == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", ["step", "cosine"])
def test_schedules_match_torch(name: str) -> None:
    torch = pytest.importorskip("torch")

    def make(module: Any, opt: Any) -> Any:
        if name == "step":
            return module.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.3)
        return module.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)

    ours_opt = _optimizer()
    groups = [{"params": [torch.nn.Parameter(torch.ones(1))], "lr": lr} for lr in (0.1, 0.02)]
    torch_opt = torch.optim.SGD(groups, lr=1.0, momentum=0.9)
    ours = _schedule(make(autodiff, ours_opt), ours_opt, 11)
    theirs = _schedule(make(torch, torch_opt), torch_opt, 11)
    assert ours == theirs  # the same recursion, the same floating-point values


def test_scheduler_state_dict_round_trip(tmp_path: Any) -> None:
    optimizer = _optimizer()
    scheduler = CosineAnnealingLR(optimizer, T_max=6)
    _schedule(scheduler, optimizer, 3)
    state = scheduler.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3 and state["T_max"] == 6
    autodiff.save({"scheduler": state, "optimizer": optimizer.state_dict()}, tmp_path / "s.pt")
    checkpoint = autodiff.load(tmp_path / "s.pt")
    resumed_opt = _optimizer()
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    resumed = CosineAnnealingLR(resumed_opt, T_max=6, last_epoch=-1)
    resumed.load_state_dict(checkpoint["scheduler"])
    assert _schedule(resumed, resumed_opt, 4) == _schedule(scheduler, optimizer, 4)


def test_resuming_without_initial_lr_is_an_error() -> None:
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups"):
        StepLR(_optimizer(), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        StepLR([], step_size=2)  # type: ignore[arg-type]


def test_step_with_epoch_uses_the_closed_form() -> None:
    optimizer = _optimizer((1.0,))
    scheduler = StepLR(optimizer, step_size=2, gamma=0.1)
    with pytest.warns(UserWarning, match="epoch parameter"):
        scheduler.step(5)
    assert scheduler.get_last_lr() == pytest.approx([0.01])
