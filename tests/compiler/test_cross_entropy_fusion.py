"""cross_entropy in a compiled program: log_softmax and nll_loss's mean as one step, and their
gradient as one more (`compiler/fusion.py`). Every result is compared with eager's bit for
bit: the fused steps do eager's operations in eager's order (the gradient's scatter into
zeros and row sums are exact, so leaving them out changes no bit)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import functional as F


def _bits(tensor: autodiff.Tensor) -> bytes:
    return np.asarray(tensor.detach().numpy()).tobytes()


def _program(compiled):
    programs = [entry.program for entry in compiled.cache.values() if entry.program]
    assert programs
    return programs[-1]


def _mlp(seed: int, dtype=autodiff.float32):
    autodiff.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 5)).to(dtype)


def _training_step(model, optimizer, **loss_options):
    def step(x, target):
        loss = F.cross_entropy(model(x), target, **loss_options)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def _batches(count: int, rows: int = 12, classes: int = 5, seed: int = 0, dtype=np.float32,
             target_dtype=np.int64, ignore: int | None = None):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        x = rng.standard_normal((rows, 8)).astype(dtype)
        target = rng.integers(0, classes, rows).astype(target_dtype)
        if ignore is not None:
            target[rng.random(rows) < 0.3] = ignore
        yield autodiff.tensor(x), autodiff.tensor(target)


def _compare_training(loss_options: dict, fused: int, dtype=autodiff.float32,
                      **batch_options) -> autodiff.compile:
    """Two identical models trained on the same batches, eagerly and compiled: every loss
    and every parameter after every step the same bits. Returns the compiled step."""
    eager_model, compiled_model = _mlp(0, dtype), _mlp(0, dtype)
    eager = _training_step(eager_model, autodiff.optim.SGD(eager_model.parameters(), lr=0.1,
                                                           momentum=0.9), **loss_options)
    compiled = autodiff.compile(_training_step(
        compiled_model, autodiff.optim.SGD(compiled_model.parameters(), lr=0.1, momentum=0.9),
        **loss_options))
    for call, (x, target) in enumerate(_batches(6, **batch_options)):
        expected, got = eager(x, target), compiled(x, target)
        assert _bits(got) == _bits(expected), call
        for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
            assert _bits(a) == _bits(b), call
    assert compiled.stats.replays >= 4
    program = _program(compiled)
    assert program.fused == fused
    listing = compiled.explain()
    if fused:
        assert "cross_entropy_forward(" in listing and "cross_entropy_backward(" in listing
        assert "nll_loss_forward(" not in listing and "log_softmax_backward(" not in listing
    else:
        assert "cross_entropy_" not in listing
    return compiled


def test_training_step_is_fused_and_bitwise_eager() -> None:
    compiled = _compare_training({}, fused=1)
    assert "1 cross_entropy fused" in compiled.explain()


def test_byte_targets() -> None:
    _compare_training({}, fused=1, target_dtype=np.uint8)


def test_float64() -> None:
    eager_model, compiled_model = _mlp(0, autodiff.float64), _mlp(0, autodiff.float64)
    eager = _training_step(eager_model, autodiff.optim.SGD(eager_model.parameters(), lr=0.1))
    compiled = autodiff.compile(_training_step(
        compiled_model, autodiff.optim.SGD(compiled_model.parameters(), lr=0.1)))
    for call, (x, target) in enumerate(_batches(4, dtype=np.float64)):
        assert _bits(compiled(x, target)) == _bits(eager(x, target)), call
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        assert _bits(a) == _bits(b)
    assert _program(compiled).fused == 1


@pytest.mark.parametrize("options, batch", [
    ({"weight": "weight"}, {}),
    ({"ignore_index": 2}, {}),  # a class: targets of class 2 are ignored
    ({"ignore_index": -1}, {"ignore": -1}),
    ({"weight": "weight", "ignore_index": 3}, {"ignore": 3}),
])
def test_weight_and_ignore_index_take_the_general_form(options: dict, batch: dict) -> None:
    if options.get("weight") == "weight":
        options = {**options, "weight": autodiff.tensor([0.5, 2.0, 1.0, 0.25, 3.0])}
    _compare_training(options, fused=1, **batch)


def test_label_smoothing_stays_unfused() -> None:
    """The smoothing term reads the log-probabilities too, so their gradient is a sum of two:
    nll_loss's gradient is not log_softmax_backward's input, and nothing is fused."""
    _compare_training({"label_smoothing": 0.1}, fused=0)


@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_other_reductions_stay_unfused(reduction: str) -> None:
    x = autodiff.randn(6, 4, requires_grad=True)

    def step(x, target):
        loss = F.cross_entropy(x, target, reduction=reduction)
        loss = loss.sum() if reduction == "none" else loss
        loss.backward()
        return loss

    compiled = autodiff.compile(step)
    for target in ([0, 3, 1, 2, 2, 0], [1, 1, 3, 2, 0, 0], [2, 3, 1, 0, 0, 1]):
        target_tensor = autodiff.tensor(target)
        x.grad = None
        got = compiled(x, target_tensor)
        got_grad = x.grad.clone()
        x.grad = None
        assert _bits(got) == _bits(step(x, target_tensor))
        assert _bits(got_grad) == _bits(x.grad)
    assert _program(compiled).fused == 0


def test_forward_alone_is_fused() -> None:
    model = _mlp(0)

    def evaluate(x, target):
        with autodiff.no_grad():
            return F.cross_entropy(model(x), target)

    compiled = autodiff.compile(evaluate)
    for x, target in _batches(3):
        assert _bits(compiled(x, target)) == _bits(evaluate(x, target))
    assert _program(compiled).fused == 1
    assert "cross_entropy_backward" not in compiled.explain()


def test_log_probabilities_read_elsewhere() -> None:
    """A program that also returns the log-probabilities (nll_loss of log_softmax written
    out) gets them from the fused step."""
    x = autodiff.randn(6, 4, requires_grad=True)

    def step(x, target):
        log_probs = F.log_softmax(x, 1)
        loss = F.nll_loss(log_probs, target)
        loss.backward()
        return loss, log_probs.detach()

    compiled = autodiff.compile(step)
    target = autodiff.tensor([0, 3, 1, 2, 2, 0])
    for _ in range(3):
        x.grad = None
        got = compiled(x, target)
        got_grad = x.grad.clone()
        x.grad = None
        expected = step(x, target)
        assert [_bits(t) for t in got] == [_bits(t) for t in expected]
        assert _bits(got_grad) == _bits(x.grad)
    assert _program(compiled).fused == 1


def test_option_off_keeps_the_unfused_steps() -> None:
    model = _mlp(0)
    optimizer = autodiff.optim.SGD(model.parameters(), lr=0.1)
    compiled = autodiff.compile(_training_step(model, optimizer),
                                options={"cross_entropy_fusion": False})
    for x, target in _batches(3):
        compiled(x, target)
    assert _program(compiled).fused == 0
    listing = compiled.explain()
    assert "nll_loss_forward(" in listing and "log_softmax_backward(" in listing


def test_all_targets_ignored_gives_nan_as_eager() -> None:
    x = autodiff.randn(4, 3, requires_grad=True)

    def step(x, target):
        loss = F.cross_entropy(x, target, ignore_index=1)
        loss.backward()
        return loss

    compiled = autodiff.compile(step)
    for target in ([0, 1, 2, 1], [0, 2, 2, 0], [1, 1, 1, 1], [2, 1, 0, 1]):
        target_tensor = autodiff.tensor(target)
        x.grad = None
        got = compiled(x, target_tensor)
        got_grad = x.grad.clone()
        x.grad = None
        expected = step(x, target_tensor)
        assert _bits(got) == _bits(expected), target
        assert _bits(got_grad) == _bits(x.grad), target
    assert _program(compiled).fused == 1


def test_out_of_range_target_raises_as_eager() -> None:
    model = _mlp(0)
    optimizer = autodiff.optim.SGD(model.parameters(), lr=0.1)
    compiled = autodiff.compile(_training_step(model, optimizer))
    (x, target), = _batches(1)
    compiled(x, target)
    compiled(x, target)
    assert _program(compiled).fused == 1
    bad = target.clone()
    bad[3] = 7
    with pytest.raises(IndexError, match=r"Target 7 is out of bounds\."):
        compiled(x, bad)
    bad[3] = -5
    with pytest.raises(IndexError, match=r"Target -5 is out of bounds\."):
        compiled(x, bad)


def test_out_of_range_after_a_write_puts_the_state_back() -> None:
    """The fused forward stands for nll_loss's guard: a target out of range after batch norm
    and dropout ran fails it there, the running statistics and the generator are put back and
    the eager call raises eager's error from eager's state."""
    def make():
        autodiff.manual_seed(0)
        return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(16, 5))

    model, twin = make(), make()
    eager = _training_step(model, autodiff.optim.SGD(model.parameters(), lr=0.1))
    compiled = autodiff.compile(_training_step(twin, autodiff.optim.SGD(twin.parameters(),
                                                                        lr=0.1)))
    (x, target), = _batches(1)
    for seed in range(3):
        autodiff.manual_seed(seed)
        eager(x, target)
        autodiff.manual_seed(seed)
        compiled(x, target)
    assert _program(compiled).fused == 1
    bad = target.clone()
    bad[5] = 9
    autodiff.manual_seed(7)
    with pytest.raises(IndexError) as expected:
        eager(x, bad)
    after_eager = autodiff.rand(3)
    autodiff.manual_seed(7)
    with pytest.raises(IndexError) as got:
        compiled(x, bad)
    assert str(got.value) == str(expected.value) == "Target 9 is out of bounds."
    assert _bits(autodiff.rand(3)) == _bits(after_eager)
    assert compiled.stats.guard_failures == 1
    for name, value in model.state_dict().items():
        assert _bits(twin.state_dict()[name]) == _bits(value), name


def test_targets_written_between_forward_and_gradient() -> None:
    """nll_loss saves its targets, as PyTorch's node does: writing them before the gradient is
    PyTorch's in-place error at backward, compiled as eager, and no gradient is written."""
    x = autodiff.randn(5, 4, requires_grad=True)

    def step(x, target):
        loss = F.cross_entropy(x, target)
        with autodiff.no_grad():
            target.add_(1).remainder_(4)
        loss.backward()
        return loss

    compiled = autodiff.compile(step)
    for function in (step, compiled, compiled):
        target = autodiff.tensor([0, 3, 1, 2, 2])
        x.grad = None
        with pytest.raises(RuntimeError, match=r"modified by an inplace operation: "
                           r"\[torch.LongTensor \[5\]\] is at version 2; expected version 0"):
            function(x, target)
        assert x.grad is None
        assert target.tolist() == [1, 0, 2, 3, 3]
