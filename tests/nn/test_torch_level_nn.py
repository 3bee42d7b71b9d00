"""The nn functions at the top level (`autodiff.conv2d`, `autodiff.batch_norm`, ...): ATen's
signatures (argument order, integer reductions, empty pooling strides), values and gradients as
PyTorch's, on every device against nn.functional."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from tests.helpers import raises

_RNG = np.random.default_rng(0)


def _arrays(*shapes: tuple[int, ...]) -> list[np.ndarray]:
    return [_RNG.standard_normal(shape) for shape in shapes]


def _p(values: np.ndarray) -> np.ndarray:
    """Probabilities along the last dim (kl_div's target)."""
    e = np.exp(values)
    return e / e.sum(-1, keepdims=True)


# (name, float inputs, call(lib, *tensors), the nn.functional equivalent(*tensors))
CASES: list[tuple[str, list[np.ndarray], Callable[..., Any], Callable[..., Any]]] = [
    ("conv1d", _arrays((2, 3, 7), (4, 3, 3), (4,)),
     lambda t, x, w, b: t.conv1d(x, w, b, 2, 1), lambda x, w, b: F.conv1d(x, w, b, 2, 1)),
    ("conv2d", _arrays((2, 3, 6, 5), (4, 3, 3, 3)),
     lambda t, x, w: t.conv2d(x, w, None, 1, "same"), lambda x, w: F.conv2d(x, w, padding="same")),
    ("conv3d", _arrays((1, 2, 4, 4, 4), (2, 1, 2, 2, 2)),
     lambda t, x, w: t.conv3d(x, w, None, 1, 0, 1, 2), lambda x, w: F.conv3d(x, w, groups=2)),
    ("conv_transpose1d", _arrays((2, 3, 5), (3, 2, 3)),
     lambda t, x, w: t.conv_transpose1d(x, w, None, 2, 1, 1),
     lambda x, w: F.conv_transpose1d(x, w, None, 2, 1, 1)),
    ("conv_transpose2d", _arrays((1, 2, 4, 4), (2, 3, 3, 3)),
     lambda t, x, w: t.conv_transpose2d(x, w, None, 1, 0, 0, 1, 2),
     lambda x, w: F.conv_transpose2d(x, w, dilation=2)),
    ("conv_transpose3d", _arrays((1, 2, 3, 3, 3), (2, 1, 2, 2, 2)),
     lambda t, x, w: t.conv_transpose3d(x, w), lambda x, w: F.conv_transpose3d(x, w)),
    ("convolution", _arrays((2, 3, 6, 5), (4, 3, 3, 2), (4,)),
     lambda t, x, w, b: t.convolution(x, w, b, [1, 2], [1, 0], [1, 1], False, [0, 0], 1),
     lambda x, w, b: F.conv2d(x, w, b, (1, 2), (1, 0))),
    ("convolution transposed", _arrays((2, 3, 5), (3, 2, 3)),
     lambda t, x, w: t.convolution(x, w, None, [2], [1], [1], True, [1], 1),
     lambda x, w: F.conv_transpose1d(x, w, None, 2, 1, 1)),
    ("adaptive_avg_pool1d", _arrays((2, 3, 7)),
     lambda t, x: t.adaptive_avg_pool1d(x, 3), lambda x: F.adaptive_avg_pool1d(x, 3)),
    ("adaptive_max_pool1d", _arrays((2, 3, 7)),
     lambda t, x: t.adaptive_max_pool1d(x, 3)[0], lambda x: F.adaptive_max_pool1d(x, 3)),
    ("avg_pool1d", _arrays((2, 3, 7)),
     lambda t, x: t.avg_pool1d(x, 3), lambda x: F.avg_pool1d(x, 3)),
    ("avg_pool1d stride", _arrays((2, 3, 7)),
     lambda t, x: t.avg_pool1d(x, 3, 1, 1, True, False),
     lambda x: F.avg_pool1d(x, 3, 1, 1, True, False)),
    ("max_pool1d", _arrays((2, 3, 7)),
     lambda t, x: t.max_pool1d(x, 2), lambda x: F.max_pool1d(x, 2)),
    ("max_pool2d", _arrays((2, 3, 6, 5)),
     lambda t, x: t.max_pool2d(x, [3, 2], [], 1, 1, True),
     lambda x: F.max_pool2d(x, (3, 2), None, 1, 1, True)),
    ("max_pool3d", _arrays((1, 2, 4, 4, 4)),
     lambda t, x: t.max_pool3d(x, 2, 1), lambda x: F.max_pool3d(x, 2, 1)),
    ("batch_norm eval", _arrays((4, 3, 5), (3,), (3,)),
     lambda t, x, w, b: t.batch_norm(x, w, b, t.zeros(3, dtype=t.float64, device=x.device),
                                     t.ones(3, dtype=t.float64, device=x.device), False, 0.1,
                                     1e-5, True),
     lambda x, w, b: F.batch_norm(x, autodiff.zeros(3, dtype=autodiff.float64, device=x.device),
                                  autodiff.ones(3, dtype=autodiff.float64, device=x.device), w, b)),
    ("batch_norm training", _arrays((4, 3, 5), (3,), (3,)),
     lambda t, x, w, b: t.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
     lambda x, w, b: F.batch_norm(x, None, None, w, b, True)),
    ("instance_norm", _arrays((2, 3, 5), (3,), (3,)),
     lambda t, x, w, b: t.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
     lambda x, w, b: F.instance_norm(x, weight=w, bias=b)),
    ("group_norm", _arrays((2, 4, 5), (4,), (4,)),
     lambda t, x, w, b: t.group_norm(x, 2, w, b), lambda x, w, b: F.group_norm(x, 2, w, b)),
    ("dropout eval", _arrays((3, 4)),
     lambda t, x: t.dropout(x, 0.5, False), lambda x: F.dropout(x, 0.5, False)),
    ("alpha_dropout eval", _arrays((3, 4)),
     lambda t, x: t.alpha_dropout(x, 0.5, False), lambda x: F.alpha_dropout(x, 0.5, False)),
    ("feature_alpha_dropout eval", _arrays((3, 4, 2)),
     lambda t, x: t.feature_alpha_dropout(x, 0.5, False),
     lambda x: F.feature_alpha_dropout(x, 0.5, False)),
    ("embedding", _arrays((5, 3)),
     lambda t, w: t.embedding(w, t.tensor([[0, 2], [4, 2]], device=w.device), 2),
     lambda w: F.embedding(autodiff.tensor([[0, 2], [4, 2]], device=w.device), w, 2)),
    ("embedding no padding", _arrays((5, 3)),
     lambda t, w: t.embedding(w, t.tensor([4, 4, 1], device=w.device)),
     lambda w: F.embedding(autodiff.tensor([4, 4, 1], device=w.device), w)),
    ("pixel_shuffle", _arrays((1, 8, 2, 3)),
     lambda t, x: t.pixel_shuffle(x, 2), lambda x: F.pixel_shuffle(x, 2)),
    ("pixel_unshuffle", _arrays((1, 2, 4, 6)),
     lambda t, x: t.pixel_unshuffle(x, 2), lambda x: F.pixel_unshuffle(x, 2)),
    ("channel_shuffle", _arrays((1, 6, 2, 2)),
     lambda t, x: t.channel_shuffle(x, 3), lambda x: F.channel_shuffle(x, 3)),
    ("binary_cross_entropy_with_logits", [*_arrays((3, 4), (4,)), _RNG.uniform(size=(3, 4))],
     lambda t, x, pw, y: t.binary_cross_entropy_with_logits(x, y, None, pw.detach().exp(), 2),
     lambda x, pw, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum",
                                                         pos_weight=pw.detach().exp())),
    ("kl_div", [_RNG.standard_normal((3, 4)), _p(_RNG.standard_normal((3, 4)))],
     lambda t, x, y: t.kl_div(x, y, 0), lambda x, y: F.kl_div(x, y, reduction="none")),
    ("kl_div log_target", _arrays((3, 4), (3, 4)),
     lambda t, x, y: t.kl_div(x, y, log_target=True),
     lambda x, y: F.kl_div(x, y, reduction="none", log_target=True)),
    ("kl_div mean", _arrays((3, 4), (3, 4)),
     lambda t, x, y: t.kl_div(x, y, 1, log_target=True),
     lambda x, y: F.kl_div(x, y, reduction="mean", log_target=True)),
    ("poisson_nll_loss", [*_arrays((3, 4)), _RNG.poisson(2.0, (3, 4)).astype(float)],
     lambda t, x, y: t.poisson_nll_loss(x, y, True, True, 1e-8, 1),
     lambda x, y: F.poisson_nll_loss(x, y, True, True)),
    ("cosine_embedding_loss", _arrays((3, 4), (3, 4)),
     lambda t, a, b: t.cosine_embedding_loss(a, b, t.tensor([1.0, -1.0, 1.0], dtype=t.float64,
                                                              device=a.device), 0.1, 2),
     lambda a, b: F.cosine_embedding_loss(a, b, autodiff.tensor(
         [1.0, -1.0, 1.0], dtype=autodiff.float64, device=a.device), 0.1, reduction="sum")),
    ("hinge_embedding_loss", _arrays((3, 4)),
     lambda t, x: t.hinge_embedding_loss(x, (x > 0).to(x.dtype) * 2 - 1, 0.5),
     lambda x: F.hinge_embedding_loss(x, (x > 0).to(x.dtype) * 2 - 1, 0.5, reduction="none")),
    ("margin_ranking_loss", _arrays((5,), (5,)),
     lambda t, a, b: t.margin_ranking_loss(a, b, (a > 0).to(a.dtype) * 2 - 1, 0.2, 0),
     lambda a, b: F.margin_ranking_loss(a, b, (a > 0).to(a.dtype) * 2 - 1, 0.2,
                                        reduction="none")),
    ("triplet_margin_loss", _arrays((3, 4), (3, 4), (3, 4)),
     lambda t, a, p, n: t.triplet_margin_loss(a, p, n, 1.0, 1.0, 1e-6, True),
     lambda a, p, n: F.triplet_margin_loss(a, p, n, 1.0, 1.0, 1e-6, True, reduction="none")),
    ("triplet_margin_loss mean", _arrays((3, 4), (3, 4), (3, 4)),
     lambda t, a, p, n: t.triplet_margin_loss(a, p, n, 1.0, 2.0, 1e-6, False, 1),
     lambda a, p, n: F.triplet_margin_loss(a, p, n)),
]


def _ctc_inputs(lib: Any, device: str | None = None) -> tuple[Any, ...]:
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 2, 4))
    kwargs = {} if device is None else {"device": device}
    log_probs = lib.tensor(logits, dtype=lib.float64, requires_grad=True, **kwargs)
    targets = lib.tensor([[1, 2, 2], [3, 1, 0]], **kwargs)
    return log_probs, targets


def _run(lib: Any, arrays: list[np.ndarray], call: Callable[..., Any],
         device: str | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    kwargs = {} if device is None else {"device": device}
    inputs = [lib.tensor(a, dtype=lib.float64, requires_grad=True, **kwargs) for a in arrays]
    out = call(lib, *inputs)
    weights = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)),
                         dtype=lib.float64, **kwargs)
    (out * weights).sum().backward()
    return (out.detach().cpu().numpy(),
            [t.grad.cpu().numpy() if t.grad is not None else None for t in inputs])


@pytest.mark.parametrize("name, arrays, call, functional", CASES, ids=[c[0] for c in CASES])
def test_against_functional_on_every_device(name: str, arrays: list[np.ndarray],
                                            call: Callable[..., Any],
                                            functional: Callable[..., Any], device: str) -> None:
    value, grads = _run(autodiff, arrays, call, device)
    expected, expected_grads = _run(autodiff, arrays, lambda t, *xs: functional(*xs), device)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    for grad, expected_grad in zip(grads, expected_grads):
        if expected_grad is None:
            assert grad is None
        else:
            np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, arrays, call, functional", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name: str, arrays: list[np.ndarray], call: Callable[..., Any],
                       functional: Callable[..., Any]) -> None:
    torch = pytest.importorskip("torch")
    value, grads = _run(autodiff, arrays, call)
    expected, expected_grads = _run(torch, arrays, call)
    np.testing.assert_allclose(value, expected, rtol=1e-10, atol=1e-10)
    for grad, expected_grad in zip(grads, expected_grads):
        if expected_grad is None:
            assert grad is None
        else:
            np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("reduction", [(), (0, 0), (0, 1), (0, 2)])
def test_ctc_loss_takes_an_integer_reduction(reduction: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    results = []
    for lib in (autodiff, torch):
        log_probs, targets = _ctc_inputs(lib)
        loss = lib.ctc_loss(log_probs.log_softmax(-1), targets, [6, 5], [3, 2], *reduction)
        (loss * lib.tensor([1.0, -2.0], dtype=lib.float64)[:loss.numel()]).sum().backward()
        results.append((loss.detach().numpy(), log_probs.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)


def test_batch_norm_training_updates_the_running_statistics(device: str) -> None:
    x = autodiff.tensor(_RNG.standard_normal((8, 3)), dtype=autodiff.float64, device=device)
    mean = autodiff.zeros(3, dtype=autodiff.float64, device=device)
    var = autodiff.ones(3, dtype=autodiff.float64, device=device)
    autodiff.batch_norm(x, None, None, mean, var, True, 0.5, 1e-5, True)
    values = x.cpu().numpy()
    np.testing.assert_allclose(mean.cpu().numpy(), 0.5 * values.mean(0), rtol=1e-12)
    np.testing.assert_allclose(var.cpu().numpy(), 0.5 + 0.5 * values.var(0, ddof=1), rtol=1e-12)


def test_in_place_dropout_in_training_zeroes_or_scales(device: str) -> None:
    autodiff.manual_seed(0)
    x = autodiff.ones(1000, dtype=autodiff.float64, device=device)
    out = autodiff.dropout_(x, 0.25, True)
    assert out is x
    values = set(np.unique(x.cpu().numpy()).tolist())
    assert values == {0.0, 1 / 0.75}


def test_errors_as_pytorch() -> None:
    x = autodiff.ones(2, 3, 5)
    with raises(RuntimeError, "weight should have at least three dimensions"):
        autodiff.convolution(x, autodiff.ones(4, 3), None, [1], [0], [1], False, [0], 1)
    with raises(RuntimeError, "Expected 4-dimensional input for 4-dimensional weight "
                              "[4, 3, 2, 2], but got 3-dimensional input of size [2, 3, 5] "
                              "instead"):
        autodiff.convolution(x, autodiff.ones(4, 3, 2, 2), None, [1, 1], [0, 0], [1, 1], False,
                             [0, 0], 1)
    with raises(ValueError, "3 is not a valid value for reduction"):
        autodiff.kl_div(x, x, 3)
    with pytest.raises(TypeError):
        autodiff.dropout(x, 0.5)  # type: ignore[call-arg]


def test_normalize_writes_into_out_as_pytorch(device: str) -> None:
    x = autodiff.tensor([[3.0, 4.0], [1.0, 0.0]], device=device)
    out = autodiff.empty(2, 2, device=device)
    assert F.normalize(x, out=out) is out
    np.testing.assert_allclose(out.cpu().numpy(), [[0.6, 0.8], [1.0, 0.0]], rtol=1e-6)
    with raises(RuntimeError, "div(): functions with out=... arguments don't support automatic "
                              "differentiation, but one of the arguments requires grad."):
        F.normalize(x.clone().requires_grad_(), out=autodiff.empty(2, 2, device=device))
