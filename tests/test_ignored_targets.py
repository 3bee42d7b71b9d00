"""nll_loss and cross_entropy with ignore_index: an ignored target counts for nothing whatever
its input holds (a row of -inf or nan logits leaves the loss finite, as in PyTorch), and
nll_loss gives its input 0 gradient there. (cross_entropy's logits gradient in that row is nan,
as PyTorch's: log_softmax of the row is nan.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F

INF = math.inf
# log(e + e^2 + e^3) - 1: the loss of row [1, 2, 3] with target 0.
ROW_LOSS = math.log(math.e + math.e ** 2 + math.e ** 3) - 1.0


def logits(bad: float, device: str) -> autodiff.Tensor:
    return autodiff.tensor([[1.0, 2.0, 3.0], [bad] * 3], dtype=autodiff.float64, device=device,
                           requires_grad=True)


@pytest.mark.parametrize("bad", [-INF, INF, math.nan])
def test_cross_entropy_ignores_a_non_finite_row(bad: float, device: str) -> None:
    target = autodiff.tensor([0, -100], device=device)
    x = logits(bad, device)
    mean = F.cross_entropy(x, target)
    assert mean.item() == pytest.approx(ROW_LOSS)  # 2.4076
    assert F.cross_entropy(x, target, reduction="sum").item() == pytest.approx(ROW_LOSS)
    none = F.cross_entropy(x, target, reduction="none")
    assert none.tolist() == [pytest.approx(ROW_LOSS), 0.0]
    assert not math.copysign(1.0, none.tolist()[1]) < 0  # +0, as PyTorch
    mean.backward()
    grad = x.grad.cpu().numpy()
    softmax = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(grad[0], softmax - [1.0, 0.0, 0.0])
    assert np.all(np.isnan(grad[1]))  # log_softmax of the ignored row is nan (PyTorch too)


@pytest.mark.parametrize("bad", [-INF, INF, math.nan])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_ignored_row_gets_zero_gradient(bad: float, reduction: str,
                                                 device: str) -> None:
    x = logits(bad, device)
    weight = autodiff.tensor([1.0, 2.0, 0.5], dtype=autodiff.float64, device=device)
    loss = F.nll_loss(x, autodiff.tensor([2, -100], device=device), weight=weight,
                      reduction=reduction)
    assert loss.tolist() == ([-1.5, 0.0] if reduction == "none" else -1.5 if reduction == "sum"
                             else -3.0)
    loss.sum().backward()
    scale = {"mean": 1 / 0.5, "sum": 1.0, "none": 1.0}[reduction]
    assert x.grad.tolist() == [[0.0, 0.0, -0.5 * scale], [0.0, 0.0, 0.0]]


def test_label_smoothing_ignores_a_nan_row(device: str) -> None:
    target = autodiff.tensor([0, -100], device=device)
    loss = F.cross_entropy(logits(math.nan, device), target, label_smoothing=0.1)
    log_probs = np.log(np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum())
    expected = 0.9 * ROW_LOSS + 0.1 / 3 * -log_probs.sum()
    assert loss.item() == pytest.approx(expected)  # 2.3076


def test_nll_double_backward_through_an_ignored_row() -> None:
    x = logits(-INF, "cpu")
    loss = F.nll_loss(x, autodiff.tensor([1, -100]), reduction="none")
    upstream = autodiff.tensor([2.0, math.nan], dtype=autodiff.float64, requires_grad=True)
    grad, = autodiff.autograd.grad(loss, x, upstream, create_graph=True)
    assert grad.tolist() == [[0.0, -2.0, 0.0], [0.0, 0.0, 0.0]]
    # nll_loss's backward is linear in the upstream gradient; the ignored row takes none.
    second, = autodiff.autograd.grad(grad.sum(), upstream)
    assert second.tolist() == [-1.0, 0.0]


@pytest.mark.parametrize("bad", [-INF, math.nan])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_ignored_targets_match_pytorch(bad: float, reduction: str, label_smoothing: float,
                                       weighted: bool) -> None:
    torch = pytest.importorskip("torch")
    results = []
    for library in (autodiff, torch):
        weight = library.tensor([1.0, 2.0, 0.5], dtype=library.float64) if weighted else None
        rows = [[1.0, 2.0, 3.0], [bad] * 3, [0.5, 0.1, -1.0]]
        x = library.tensor(rows, dtype=library.float64, requires_grad=True)
        y = library.tensor(rows, dtype=library.float64, requires_grad=True)
        target = library.tensor([0, -100, 2])
        functional = library.nn.functional
        ce = functional.cross_entropy(x, target, weight=weight, reduction=reduction,
                                      label_smoothing=label_smoothing)
        nll = functional.nll_loss(y, target, weight=weight, reduction=reduction)
        (ce.sum() + nll.sum()).backward()
        results.append([np.asarray(v.detach().numpy()) for v in (ce, nll, x.grad, y.grad)]
                       + [ce.grad_fn.name()])
    for ours, theirs in zip(results[0][:4], results[1][:4]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, equal_nan=True)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
    assert results[0][4] == results[1][4]
