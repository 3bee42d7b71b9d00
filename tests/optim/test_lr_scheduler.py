"""Every learning-rate schedule: the same sequences as PyTorch's (learning rates, momentum and
betas, last_epoch, state-dict keys), the closed forms derived by hand, chained and sequential
use, state_dict round trips, the step-order warnings and PyTorch's errors."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import autodiff
from autodiff import nn, optim
from autodiff.optim import lr_scheduler
from autodiff.optim.lr_scheduler import CosineAnnealingLR, StepLR

LRS = (0.1, 0.02)


def _optimizer(module: Any = autodiff, kind: str = "sgd", lrs: tuple[float, ...] = LRS) -> Any:
    parameter = nn.Parameter if module is autodiff else module.nn.Parameter
    groups = [{"params": [parameter(module.ones(1))], "lr": lr} for lr in lrs]
    library = optim if module is autodiff else module.optim
    if kind == "sgd":
        return library.SGD(groups, lr=1.0, momentum=0.9)
    return library.Adam(groups, lr=1.0)


def _schedule(scheduler: Any, optimizer: Any, epochs: int) -> list[Any]:
    """(last lrs, momentum or betas of each group, last_epoch) at each epoch."""
    def record() -> Any:
        return (scheduler.get_last_lr(),
                [group.get("momentum", group.get("betas")) for group in optimizer.param_groups],
                getattr(scheduler, "last_epoch", None))

    seen = [record()]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        seen.append(record())
    return seen


# Each schedule made in a module `m` (autodiff.optim.lr_scheduler or torch's) on optimizer o.
SCHEDULES: dict[str, Callable[[Any, Any], Any]] = {
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.9**e),
    "LambdaLR per group": lambda m, o: m.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1 / (e + 1)]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95 if e % 2 else 0.8),
    "StepLR": lambda m, o: m.StepLR(o, 3, 0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, [2, 5, 5, 9], 0.3),
    "ConstantLR": lambda m, o: m.ConstantLR(o, 0.25, 4),
    "LinearLR": lambda m, o: m.LinearLR(o, 0.2, 0.9, 6),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, 0.9),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, 7, 2.0),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, 5, 0.001),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, 3, 2, 0.001),
    "CyclicLR": lambda m, o: m.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=3,
                                        step_size_down=2),
    "CyclicLR triangular2": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                    mode="triangular2"),
    "CyclicLR exp_range": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                  mode="exp_range", gamma=0.9),
    "CyclicLR scale_fn": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                 scale_fn=lambda x: 1 / (x + 1),
                                                 scale_mode="iterations",
                                                 base_momentum=0.7, max_momentum=0.95),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, [0.5, 0.3], total_steps=25),
    "OneCycleLR linear three_phase": lambda m, o: m.OneCycleLR(
        o, 0.5, epochs=5, steps_per_epoch=5, anneal_strategy="linear", three_phase=True,
        pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, 1.0, 4), m.CosineAnnealingLR(o, 10), m.ExponentialLR(o, 0.9)],
        [4, 12]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, 0.5, 3), m.ExponentialLR(o, 0.9)]),
}
EPOCHS = 24


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_sequences_match_torch(name: str, kind: str) -> None:
    torch = pytest.importorskip("torch")
    ours_opt, torch_opt = _optimizer(autodiff, kind), _optimizer(torch, kind)
    ours = SCHEDULES[name](lr_scheduler, ours_opt)
    theirs = SCHEDULES[name](torch.optim.lr_scheduler, torch_opt)
    # The same recursion, so the same floating-point values (momentum and betas included).
    assert _schedule(ours, ours_opt, EPOCHS) == _schedule(theirs, torch_opt, EPOCHS)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert [g["lr"] for g in ours_opt.param_groups] == [g["lr"] for g in torch_opt.param_groups]


def test_two_schedulers_on_one_optimizer_compose_as_in_torch() -> None:
    torch = pytest.importorskip("torch")

    def run(module: Any, schedulers: Any) -> list[Any]:
        opt = _optimizer(module)
        first = schedulers.LinearLR(opt, 0.5, 1.0, 4)
        second = schedulers.MultiStepLR(opt, [3, 6], 0.5)
        seen = []
        for _ in range(10):
            opt.step()
            first.step()
            second.step()
            seen.append((first.get_last_lr(), second.get_last_lr()))
        return seen

    assert run(autodiff, lr_scheduler) == run(torch, torch.optim.lr_scheduler)


# The closed forms, written out (no torch needed): epoch -> factor of each group's base lr.
def _cosine(epoch: int, base: float, t_max: int = 5, eta_min: float = 0.001) -> float:
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2


CLOSED_FORMS: dict[str, Callable[[int, float], float]] = {
    "LambdaLR": lambda e, base: base * 0.9**e,
    "StepLR": lambda e, base: base * 0.5 ** (e // 3),
    "MultiStepLR": lambda e, base: base * 0.3 ** sum(m <= e for m in [2, 5, 5, 9]),
    "ConstantLR": lambda e, base: base * (0.25 if e < 4 else 1.0),
    "LinearLR": lambda e, base: base * (0.2 + 0.7 * min(e, 6) / 6),
    "ExponentialLR": lambda e, base: base * 0.9**e,
    "PolynomialLR": lambda e, base: base * (1 - min(e, 7) / 7) ** 2,
    "CosineAnnealingLR": _cosine,
    # Restarts at epochs 3, 9 and 21: periods of 3, 6, 12 and 24 epochs.
    "CosineAnnealingWarmRestarts": lambda e, base: 0.001 + (base - 0.001) * (1 + math.cos(
        math.pi * (e - max(start for start in (0, 3, 9, 21) if start <= e))
        / (3 * 2 ** sum(start <= e for start in (3, 9, 21))))) / 2,
    # Up 3, down 2: triangle between 0.01 and max_lr.
    "CyclicLR": lambda e, peak: 0.01 + (peak - 0.01) * (
        (e % 5) / 3 if e % 5 <= 3 else (5 - e % 5) / 2),
}
MAX_LRS = {"CyclicLR": (0.1, 0.2)}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_sequences_follow_their_closed_forms(name: str) -> None:
    optimizer = _optimizer()
    scheduler = SCHEDULES[name](lr_scheduler, optimizer)
    bases = MAX_LRS.get(name, LRS)
    for epoch, (lrs, _, _) in enumerate(_schedule(scheduler, optimizer, EPOCHS)):
        expected = [CLOSED_FORMS[name](epoch, base) for base in bases]
        assert lrs == pytest.approx(expected, rel=1e-12, abs=1e-15), f"epoch {epoch}"


def test_one_cycle_follows_its_phases() -> None:
    optimizer = _optimizer()
    scheduler = lr_scheduler.OneCycleLR(optimizer, 1.0, total_steps=21, pct_start=0.25,
                                        anneal_strategy="linear")
    seen = _schedule(scheduler, optimizer, 20)
    # Warm-up from 1/25 to 1 over steps 0..4.25, down to 1/25/1e4 at step 20; momentum the
    # other way, 0.95 -> 0.85 -> 0.95.
    for step, (lrs, momenta, _) in enumerate(seen):
        if step <= 4.25:
            pct, start, end = step / 4.25, 0.04, 1.0
            m_start, m_end = 0.95, 0.85
        else:
            pct, start, end = (step - 4.25) / (20 - 4.25), 1.0, 0.04 / 1e4
            m_start, m_end = 0.85, 0.95
        assert lrs[0] == pytest.approx(start + (end - start) * pct, rel=1e-12)
        assert momenta[0] == pytest.approx(m_start + (m_end - m_start) * pct, rel=1e-12)
    with pytest.raises(ValueError, match=r"Tried to step 22 times. The specified number of "
                                         "total steps is 21"):
        optimizer.step()
        scheduler.step()
        scheduler.step()


def test_reduce_lr_on_plateau_matches_torch_and_its_rules() -> None:
    metrics = [5, 4, 4, 4, 4, 4, 3.9999, 4, 4, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2]
    options = [dict(patience=2, cooldown=1, factor=0.5, min_lr=[0.01, 0.005]),
               dict(mode="max", threshold_mode="abs", threshold=0.5, patience=1),
               dict(threshold=0.3, patience=0, eps=0.05)]

    def run(module: Any, schedulers: Any, kwargs: dict[str, Any]) -> list[Any]:
        opt = _optimizer(module)
        scheduler = schedulers.ReduceLROnPlateau(opt, **kwargs)
        seen = []
        for value in metrics:
            opt.step()
            scheduler.step(value)
            seen.append((scheduler.get_last_lr(), scheduler.num_bad_epochs,
                         scheduler.cooldown_counter, scheduler.best, scheduler.last_epoch))
        return seen

    ours = run(autodiff, lr_scheduler, options[0])
    # Derived by hand: 5, then 4 (better); three bad epochs at 4 (patience 2) halve the lrs at
    # epoch 5, then one epoch of cooldown; 3.9999 is not better than 4 by the relative
    # threshold 1e-4. Reductions at epochs 5, 9, 13 and 19 (after 2 improves at 16); the
    # second group stops at its min_lr 0.005, the first at 0.01 (0.0125 / 2 < 0.01).
    lrs = [entry[0] for entry in ours]
    assert lrs[3] == [0.1, 0.02] and lrs[4] == [0.05, 0.01]
    assert lrs[8] == [0.025, 0.005] and lrs[12] == [0.0125, 0.005]
    assert lrs[17] == [0.0125, 0.005] and lrs[18] == [0.01, 0.005] == lrs[-1]
    assert ours[15][3] == 2  # the best value
    torch = pytest.importorskip("torch")
    for kwargs in options:
        assert run(autodiff, lr_scheduler, kwargs) == run(torch, torch.optim.lr_scheduler,
                                                          kwargs)


def test_step_before_optimizer_step_warns_once() -> None:
    optimizer = _optimizer()
    scheduler = StepLR(optimizer, step_size=2)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before "
                                         r"`optimizer.step\(\)`"):
        scheduler.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()  # only the first step() checks
        optimizer.step()
        StepLR(optimizer, step_size=2).step()  # the optimizer has stepped: no warning


def test_an_optimizer_step_replaced_after_the_scheduler_warns() -> None:
    optimizer = _optimizer()
    scheduler = StepLR(optimizer, step_size=2)
    optimizer.step = lambda closure=None: None  # type: ignore[method-assign]
    with pytest.warns(UserWarning, match=r"Seems like `optimizer.step\(\)` has been overridden"):
        scheduler.step()


def test_get_lr_outside_step_warns() -> None:
    optimizer = _optimizer()
    scheduler = StepLR(optimizer, step_size=2)
    with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
        scheduler.get_lr()


class Halving:
    """A callable object with state, as LambdaLR and CyclicLR save it (its __dict__)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __call__(self, epoch: float) -> float:
        return self.factor**epoch


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_state_dict_round_trip_resumes_identically(name: str, tmp_path: Any) -> None:
    optimizer = _optimizer()
    scheduler = SCHEDULES[name](lr_scheduler, optimizer)
    _schedule(scheduler, optimizer, 5)
    state = scheduler.state_dict()
    assert "optimizer" not in state
    autodiff.save({"scheduler": state, "optimizer": optimizer.state_dict()}, tmp_path / "s.pt")
    checkpoint = autodiff.load(tmp_path / "s.pt")
    resumed_optimizer = _optimizer()
    resumed = SCHEDULES[name](lr_scheduler, resumed_optimizer)
    resumed.load_state_dict(checkpoint["scheduler"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    assert _schedule(resumed, resumed_optimizer, 6) == _schedule(scheduler, optimizer, 6)


def test_callable_objects_keep_their_state_through_state_dicts() -> None:
    optimizer = _optimizer()
    scheduler = lr_scheduler.LambdaLR(optimizer, [Halving(0.5), lambda e: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"factor": 0.5}, None]
    other = lr_scheduler.LambdaLR(_optimizer(), [Halving(0.9), lambda e: 1.0])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].factor == 0.5  # type: ignore[attr-defined]
    assert "lr_lambdas" in state  # the caller's dict is left whole
    cyclic = lr_scheduler.CyclicLR(_optimizer(), 0.01, 0.1, scale_fn=Halving(0.7))
    cyclic_state = cyclic.state_dict()
    assert cyclic_state["_scale_fn_custom"] == {"factor": 0.7}
    assert "_scale_fn_ref" not in cyclic_state


def test_step_with_epoch_uses_the_closed_form_as_torch() -> None:
    torch = pytest.importorskip("torch")
    for name in ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                 "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts"]:
        seen = []
        for module, schedulers in ((autodiff, lr_scheduler), (torch, torch.optim.lr_scheduler)):
            opt = _optimizer(module)
            scheduler = SCHEDULES[name](schedulers, opt)
            opt.step()
            lrs = []
            for epoch in (5, 2, 7.5 if name == "CosineAnnealingWarmRestarts" else 7, 30):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    scheduler.step(epoch)
                lrs.append((scheduler.get_last_lr(), scheduler.last_epoch))
            seen.append(lrs)
        assert seen[0] == seen[1], name
    optimizer = _optimizer(lrs=(1.0,))
    scheduler = StepLR(optimizer, step_size=2, gamma=0.1)
    optimizer.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        scheduler.step(5)
    assert scheduler.get_last_lr() == pytest.approx([0.01])


def test_resuming_without_initial_lr_is_an_error() -> None:
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups"):
        StepLR(_optimizer(), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        StepLR([], step_size=2)  # type: ignore[arg-type]


def _errors(m: Any, o: Any) -> list[tuple[Callable[[], Any], type[Exception], str]]:
    return [
        (lambda: m.ConstantLR(o, factor=1.5), ValueError,
         "Constant multiplicative factor expected to be between 0 and 1."),
        (lambda: m.LinearLR(o, start_factor=0), ValueError,
         "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."),
        (lambda: m.LinearLR(o, end_factor=1.5), ValueError,
         "Ending multiplicative factor expected to be between 0 and 1."),
        (lambda: m.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
        (lambda: m.MultiplicativeLR(o, [1.0, 2.0]), TypeError,
         "lr_lambda should be a function, but got float"),
        (lambda: m.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
         "Expected positive integer T_0, but got 0"),
        (lambda: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError,
         "Expected integer T_mult >= 1, but got 0"),
        (lambda: m.CyclicLR(o, 0.1, 0.2, mode="other"), ValueError,
         "mode is invalid and scale_fn is None"),
        (lambda: m.CyclicLR(o, [0.1], 0.2), ValueError,
         "base_lr must have the same length as optimizer.param_groups. base_lr has 1 values, "
         "param_groups has 2."),
        (lambda: m.OneCycleLR(o, 0.1), ValueError,
         "You must define either total_steps OR (epochs AND steps_per_epoch)"),
        (lambda: m.OneCycleLR(o, 0.1, total_steps=0), ValueError,
         "Expected positive integer total_steps, but got 0"),
        (lambda: m.OneCycleLR(o, 0.1, total_steps=5, pct_start=1), ValueError,
         "Expected float between 0 and 1 pct_start, but got 1"),
        (lambda: m.OneCycleLR(o, 0.1, total_steps=5, anneal_strategy="exp"), ValueError,
         "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
        (lambda: m.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
        (lambda: m.ReduceLROnPlateau(o, mode="mid"), ValueError, "mode mid is unknown!"),
        (lambda: m.ReduceLROnPlateau(o, threshold_mode="x"), ValueError,
         "threshold mode x is unknown!"),
        (lambda: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
        (lambda: m.SequentialLR(o, [], []), ValueError,
         "SequentialLR expects at least one scheduler, but got no scheduler."),
        (lambda: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 2)], []), ValueError,
         "Sequential Schedulers expects number of schedulers provided to be one more than the "
         "number of milestone points, but got number of schedulers 2 and the number of "
         "milestones to be equal to 0"),
        (lambda: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], []), ValueError,
         "SequentialLR does not support `ReduceLROnPlateau` scheduler as it requires "
         "additional kwargs to be specified when calling `step`, but got one at index 0 in "
         "the given schedulers sequence."),
        (lambda: m.ChainedScheduler([]), ValueError,
         "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler."),
        (lambda: m.ChainedScheduler([object()], o), TypeError,
         "ChainedScheduler at index 0 should have `optimizer` as its attribute."),
    ]


@pytest.mark.parametrize("index", range(22))
def test_constructor_errors_are_torchs(index: int) -> None:
    make, error, message = _errors(lr_scheduler, _optimizer())[index]
    with pytest.raises(error) as raised:
        make()
    assert str(raised.value) == message
    torch = pytest.importorskip("torch")
    make, error, message = _errors(torch.optim.lr_scheduler, _optimizer(torch))[index]
    with pytest.raises(error) as raised:
        make()
    assert str(raised.value) == message


def test_a_tensor_lr_is_filled_in_place() -> None:
    lr = autodiff.tensor(0.1)
    optimizer = optim.SGD([nn.Parameter(autodiff.ones(1))], lr=lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=4)
    assert isinstance(optimizer.param_groups[0]["initial_lr"], autodiff.Tensor)
    assert optimizer.param_groups[0]["initial_lr"] is not lr  # a copy
    for _ in range(2):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] is lr
    assert lr.item() == pytest.approx(0.05, rel=1e-6)
    assert isinstance(scheduler.get_last_lr()[0], autodiff.Tensor)
