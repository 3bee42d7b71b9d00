"""autograd.graph.replay: a forward recorded under replayable() runs again on another device,
node by node, and the first op whose outputs (or gradients) differ beyond the tolerance is
named."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff
import backends
from autodiff import nn
from autodiff.autograd.graph import replay, replayable
from autodiff.nn import functional as F


def _model_loss() -> Any:
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    x = autodiff.randn(4, 5)
    target = autodiff.tensor([0, 2, 1, 0])
    with replayable():
        hidden = model(x)
        loss = F.cross_entropy(hidden.exp().log() * 2, target)
    return model, loss


@pytest.mark.parametrize("target", ["strict:1", "cpu"])
def test_cpu_and_strict_agree_exactly(target: str) -> None:
    _, loss = _model_loss()
    report = replay(loss, target)
    names = [diff.name for diff in report.nodes]
    assert names == ["AddmmBackward0", "ReluBackward0", "AddmmBackward0", "ExpBackward0",
                     "LogBackward0", "MulBackward0", "LogSoftmaxBackward0", "NllLossBackward0"]
    assert report.first_divergence is None
    assert all(diff.output_abs == 0 and diff.grad_abs == 0 for diff in report.nodes)
    assert report.target == target
    assert "the devices agree" in str(report)


def test_replay_leaves_the_recorded_graph_alone() -> None:
    model, loss = _model_loss()
    replay(loss, "strict:1")
    assert all(parameter.grad is None for parameter in model.parameters())
    loss.backward()  # the recorded graph still works
    assert all(parameter.grad is not None for parameter in model.parameters())


def test_faulty_kernel_is_found_at_its_node(monkeypatch: pytest.MonkeyPatch) -> None:
    strict = backends.get_backend("strict:1")
    exact_exp = strict.exp
    monkeypatch.setattr(strict, "exp", lambda a: exact_exp(a) * (1 + 1e-3))
    _, loss = _model_loss()
    report = replay(loss, "strict:1")
    first = report.first_divergence
    assert first is not None and first.label == "ExpBackward0#0"
    by_label = {diff.label: diff for diff in report.nodes}
    assert not by_label["AddmmBackward0#1"].output_diverged  # before it: identical
    assert by_label["ExpBackward0#0"].output_rel == pytest.approx(1e-3, rel=1e-3)
    assert "ExpBackward0#0" in str(report).splitlines()[-1]


def test_gradient_only_divergence_is_found_in_backward_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Division: on this graph only sqrt's backward (grad / (2 * out)) divides, so the forward
    # agrees and the gradients part at SqrtBackward0's input.
    strict = backends.get_backend("strict:1")
    exact_divide = strict.divide
    x = autodiff.tensor([1.0, 4.0, 9.0], requires_grad=True)
    with replayable():
        loss = (x * 2).sqrt().sum()
    monkeypatch.setattr(strict, "divide", lambda a, b: exact_divide(a, b) * (1 + 1e-2))
    report = replay(loss, "strict:1")
    assert not any(diff.output_diverged for diff in report.nodes)
    by_label = {diff.label: diff for diff in report.nodes}
    assert by_label["SqrtBackward0#0"].grad_abs == 0  # the gradient it received
    assert by_label["MulBackward0#0"].grad_diverged  # the gradient it passed on
    first = report.first_divergence
    assert first is not None and first.label == "MulBackward0#0"


def test_tolerance(monkeypatch: pytest.MonkeyPatch) -> None:
    strict = backends.get_backend("strict:1")
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    with replayable():
        loss = x.exp().sum()
    exact_exp = strict.exp
    monkeypatch.setattr(strict, "exp", lambda a: exact_exp(a) * (1 + 1e-7))
    assert replay(loss, "strict:1").first_divergence is None  # within rtol 1e-5
    assert replay(loss, "strict:1", atol=0, rtol=1e-9).first_divergence is not None


def test_needs_a_replayable_forward() -> None:
    x = autodiff.ones(2, requires_grad=True)
    loss = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"replayable\(\)"):
        replay(loss, "strict:1")
    with pytest.raises(RuntimeError, match="grad_fn"):
        replay(autodiff.ones(2), "strict:1")


def test_input_modified_after_use_is_refused() -> None:
    x = autodiff.ones(2, requires_grad=True)
    scale = autodiff.ones(2)
    with replayable():
        loss = (x * scale).sum()
    scale.add_(1)
    with pytest.raises(RuntimeError, match="modified in place"):
        replay(loss, "strict:1")


def test_nothing_kept_outside_replayable() -> None:
    x = autodiff.ones(2, requires_grad=True)
    assert (x * 2).grad_fn._replay is None
    with replayable():
        assert (x * 2).grad_fn._replay is not None
    assert (x * 2).grad_fn._replay is None
