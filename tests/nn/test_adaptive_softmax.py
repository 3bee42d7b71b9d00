"""AdaptiveLogSoftmaxWithLoss: the loss against PyTorch from the same weights (values,
gradients, log_prob, predict), its checks, and its defining identities without PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn

RNG = np.random.default_rng(3)


def test_log_prob_is_a_distribution_and_the_loss_picks_from_it(device: str) -> None:
    autodiff.manual_seed(0)
    layer = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], div_value=2.0).to(device)
    x = autodiff.tensor(RNG.standard_normal((6, 8)), dtype=autodiff.float32, device=device)
    target = [0, 5, 12, 19, 3, 10]
    log_prob = layer.log_prob(x)
    np.testing.assert_allclose(np.exp(log_prob.detach().cpu().numpy()).sum(1), np.ones(6),
                               rtol=1e-5)
    output, loss = layer(x, autodiff.tensor(target, device=device))
    expected = log_prob.detach().cpu().numpy()[np.arange(6), target]
    np.testing.assert_allclose(output.detach().cpu().numpy(), expected, rtol=1e-5)
    assert loss.item() == pytest.approx(-expected.mean(), rel=1e-5)
    loss.backward()
    assert all(p.grad is not None for p in layer.parameters())
    predicted = layer.predict(x).cpu().numpy()
    np.testing.assert_array_equal(predicted, log_prob.detach().cpu().numpy().argmax(1))


def test_adaptive_softmax_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], div_value=2.0, head_bias=True)
    ours = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], div_value=2.0, head_bias=True)
    assert repr(ours) == repr(theirs)
    with torch.no_grad():  # make the clusters the likely answers, so predict runs the tails
        theirs.head.bias.copy_(torch.tensor([0.0, 0, 0, 0, 3.0, 3.0]))
    ours.load_state_dict({k: autodiff.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((6, 8)).astype(np.float32)
    target = [0, 5, 12, 19, 3, 10]
    mine_x, their_x = autodiff.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mine, reference = ours(mine_x, autodiff.tensor(target)), theirs(their_x,
                                                                    torch.tensor(target))
    np.testing.assert_allclose(mine.output.detach().numpy(), reference.output.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert mine.loss.grad_fn.name() == reference.loss.grad_fn.name() == "MeanBackward0"
    mine.loss.backward()
    reference.loss.backward()
    np.testing.assert_allclose(mine_x.grad.numpy(), their_x.grad.numpy(), rtol=1e-4, atol=1e-6)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)
    np.testing.assert_allclose(ours.log_prob(autodiff.tensor(x)).detach().numpy(),
                               theirs.log_prob(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert ours.predict(autodiff.tensor(x)).tolist() == theirs.predict(torch.tensor(x)).tolist()
    single = ours(autodiff.tensor(x[0]), autodiff.tensor(target[0]))
    assert single.output.shape == ()
    assert single.output.item() == pytest.approx(
        theirs(torch.tensor(x[0]), torch.tensor(target[0])).output.item(), rel=1e-5)


@pytest.mark.parametrize("case", ["empty", "unsorted", "too big", "range", "batch", "dims",
                                  "target dims"])
def test_adaptive_softmax_errors_match_torch(case: str) -> None:
    torch = pytest.importorskip("torch")
    calls: dict[str, Any] = {
        "empty": lambda N, t: N.AdaptiveLogSoftmaxWithLoss(8, 20, []),
        "unsorted": lambda N, t: N.AdaptiveLogSoftmaxWithLoss(8, 20, [10, 4]),
        "too big": lambda N, t: N.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 20]),
        "range": lambda N, t: N.AdaptiveLogSoftmaxWithLoss(8, 20, [4])(t.ones(2, 8),
                                                                       t.tensor([1, 25])),
        "batch": lambda N, t: N.AdaptiveLogSoftmaxWithLoss(8, 20, [4])(t.ones(3, 8),
                                                                       t.tensor([1, 2])),
        "dims": lambda N, t: N.AdaptiveLogSoftmaxWithLoss(8, 20, [4])(t.ones(2, 1, 8),
                                                                      t.tensor([1, 2])),
        "target dims": lambda N, t: N.AdaptiveLogSoftmaxWithLoss(8, 20, [4])(
            t.ones(2, 8), t.tensor([[1, 2]])),
    }
    call = calls[case]
    with pytest.raises((ValueError, RuntimeError)) as expected:
        call(torch.nn, torch)
    with pytest.raises(type(expected.value)) as got:
        call(nn, autodiff)
    assert str(got.value) == str(expected.value)
