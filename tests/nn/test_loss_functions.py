"""The likelihood, margin, embedding, CTC and weighted regression losses and the distances
against PyTorch (values, gradients, second derivatives where PyTorch has them, node names,
errors), and their modules (reprs, buffers, state dicts). The op table checks each function
against NumPy on every device without PyTorch; the last tests here need no PyTorch either."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import functional as F
from tests.compare import compare, same_error

RNG = np.random.default_rng(7)
REDUCTIONS = ["mean", "sum", "none"]


def _torch() -> Any:
    return pytest.importorskip("torch")


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def signs(*shape: int) -> np.ndarray:
    return np.where(RNG.random(shape) < 0.5, -1.0, 1.0)


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses_match_torch(name: str, reduction: str) -> None:
    torch = _torch()
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    weight = RNG.random((3, 4))
    compare(torch, lambda x, y, w: ours(x, y, reduction=reduction, weight=w),
            lambda x, y, w: theirs(x, y, reduction=reduction, weight=w),
            [randn(3, 4), randn(3, 4), weight], grad=[True, True, False],
            second_order=name != "l1_loss")
    with warnings.catch_warnings():  # a broadcast target, weighted (PyTorch warns as well)
        warnings.simplefilter("ignore", UserWarning)
        compare(torch, lambda x, y, w: ours(x, y, reduction=reduction, weight=w),
                lambda x, y, w: theirs(x, y, reduction=reduction, weight=w),
                [randn(3, 4), randn(4), weight], grad=[True, True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("log_input", "full"), [(True, False), (False, False), (True, True),
                                                 (False, True)])
def test_poisson_nll_loss_matches_torch(log_input: bool, full: bool, reduction: str) -> None:
    torch = _torch()
    rates = np.abs(randn(3, 4)) + (0.0 if log_input else 0.1)
    counts = np.floor(np.abs(randn(3, 4)) * 3)  # 0, 1 and more: Stirling's term for > 1 only
    compare(torch, lambda x, y: F.poisson_nll_loss(x, y, log_input, full, reduction=reduction),
            lambda x, y: torch.nn.functional.poisson_nll_loss(x, y, log_input, full,
                                                              reduction=reduction),
            [rates, counts], grad=[True, False], second_order=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(3, 4), (3,), (3, 1), (1, 4), None])
def test_gaussian_nll_loss_matches_torch(var_shape: Any, reduction: str) -> None:
    torch = _torch()
    for full in (False, True):
        if var_shape is None:  # a float variance
            compare(torch, lambda x, y, f=full: F.gaussian_nll_loss(x, y, 0.7, f,
                                                                    reduction=reduction),
                    lambda x, y, f=full: torch.nn.functional.gaussian_nll_loss(
                        x, y, 0.7, f, reduction=reduction),
                    [randn(3, 4), randn(3, 4)], second_order=True)
            continue
        var = RNG.random(var_shape) + 0.1
        var.flat[0] = 1e-9  # clamped at eps: the gradient still reaches var
        compare(torch, lambda x, y, v, f=full: F.gaussian_nll_loss(x, y, v, f,
                                                                   reduction=reduction),
                lambda x, y, v, f=full: torch.nn.functional.gaussian_nll_loss(
                    x, y, v, f, reduction=reduction),
                [randn(3, 4), randn(3, 4), var], second_order=True)


MARGIN_CASES: dict[str, tuple[Any, Any]] = {
    "margin_ranking": (lambda F, a, b, t, r: F.margin_ranking_loss(a, b, t, 0.3, reduction=r),
                       lambda: [randn(5), randn(5), signs(5)]),
    "hinge_embedding": (lambda F, a, t, r: F.hinge_embedding_loss(a, t, 0.8, reduction=r),
                        lambda: [randn(3, 4), signs(3, 4)]),
    "soft_margin": (lambda F, a, t, r: F.soft_margin_loss(a, t, reduction=r),
                    lambda: [randn(3, 4) * 3, signs(3, 4)]),
    "soft_margin_broadcast": (lambda F, a, t, r: F.soft_margin_loss(a, t, reduction=r),
                              lambda: [randn(3, 4), signs(4)]),
    "multilabel_soft_margin": (
        lambda F, a, t, r: F.multilabel_soft_margin_loss(a, t, reduction=r),
        lambda: [randn(3, 4), (signs(3, 4) > 0) * 1.0]),
    "multilabel_soft_margin_weight": (
        lambda F, a, t, w, r: F.multilabel_soft_margin_loss(a, t, w, reduction=r),
        lambda: [randn(3, 4), (signs(3, 4) > 0) * 1.0, RNG.random(4)]),
    "cosine_embedding": (lambda F, a, b, t, r: F.cosine_embedding_loss(a, b, t, 0.1,
                                                                       reduction=r),
                         lambda: [randn(5, 3), randn(5, 3), signs(5)]),
    "cosine_embedding_1d": (lambda F, a, b, t, r: F.cosine_embedding_loss(a, b, t, -0.2,
                                                                          reduction=r),
                            lambda: [randn(3), randn(3), np.array(-1.0)]),
    "triplet": (lambda F, a, p, n, r: F.triplet_margin_loss(a, p, n, 0.7, 3, reduction=r),
                lambda: [randn(4, 3), randn(4, 3), randn(4, 3)]),
    "triplet_swap": (lambda F, a, p, n, r: F.triplet_margin_loss(a, p, n, swap=True,
                                                                 reduction=r),
                     lambda: [randn(4, 3), randn(4, 3), randn(4, 3)]),
    "triplet_1d": (lambda F, a, p, n, r: F.triplet_margin_loss(a, p, n, reduction=r),
                   lambda: [randn(3), randn(3), randn(3)]),
    "triplet_distance": (
        lambda F, a, p, n, r: F.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda x, y: (x - y).abs().sum(-1), swap=True,
            margin=2.0, reduction=r),
        lambda: [randn(4, 3), randn(4, 3), randn(4, 3)]),
    "triplet_distance_default": (
        lambda F, a, p, n, r: F.triplet_margin_with_distance_loss(a, p, n, reduction=r),
        lambda: [randn(4, 3), randn(4, 3), randn(4, 3)]),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(MARGIN_CASES))
def test_margin_losses_match_torch(name: str, reduction: str) -> None:
    torch = _torch()
    call, inputs = MARGIN_CASES[name]
    arrays = inputs()
    # The targets (±1, 0/1 and class weights) take no gradient.
    grad = [not (np.all(np.isin(a, (-1.0, 0.0, 1.0))) or (name.endswith("weight") and i == 2))
            for i, a in enumerate(arrays)]
    compare(torch, lambda *xs: call(F, *xs, reduction),
            lambda *xs: call(torch.nn.functional, *xs, reduction), arrays, grad=grad,
            second_order=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("p", "weighted", "shape"), [(1, False, (3, 4)), (2, True, (3, 4)),
                                                      (1, True, (4,)), (2, False, (1, 5))])
def test_multi_margin_loss_matches_torch(p: int, weighted: bool, shape: Any,
                                         reduction: str) -> None:
    torch = _torch()
    classes = shape[-1]
    target = RNG.integers(0, classes, shape[:-1] or ())
    weight = RNG.random(classes) if weighted else None

    def run(functional: Any, library: Any) -> Any:
        def op(x: Any) -> Any:
            w = None if weight is None else library.tensor(weight)
            return functional.multi_margin_loss(x, library.tensor(target), p, 0.6, w,
                                                reduction=reduction)
        return op

    compare(torch, run(F, autodiff), run(torch.nn.functional, torch), [randn(*shape)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss_matches_torch(reduction: str) -> None:
    torch = _torch()
    for x, target in [(randn(3, 4), [[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0]]),
                      (randn(4), [2, 2, -1, 0]),  # a label twice counts twice
                      (randn(2, 3), [[-1, 0, 1], [2, 0, -1]])]:
        compare(torch, lambda a, t=target: F.multilabel_margin_loss(
                    a, autodiff.tensor(t), reduction=reduction),
                lambda a, t=target: torch.nn.functional.multilabel_margin_loss(
                    a, torch.tensor(t), reduction=reduction), [x])


@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 3.0, 0.5, 1.5, math.inf])
def test_distances_match_torch(p: float) -> None:
    torch = _torch()
    x, y = randn(4, 3), randn(4, 3)
    compare(torch, lambda a, b: F.pairwise_distance(a, b, p),
            lambda a, b: torch.nn.functional.pairwise_distance(a, b, p), [x, y],
            second_order=p not in (0.0, math.inf))
    compare(torch, lambda a, b: F.pairwise_distance(a, b, p, 1e-3, keepdim=True),
            lambda a, b: torch.nn.functional.pairwise_distance(a, b, p, 1e-3, keepdim=True),
            [x, y[0]])
    repeated = np.concatenate([x, x[:1]])  # a zero distance: PyTorch's choice of gradient
    compare(torch, lambda a: F.pdist(a, p), lambda a: torch.nn.functional.pdist(a, p),
            [repeated])


def test_cosine_similarity_matches_torch() -> None:
    torch = _torch()
    for x, y, dim in [(randn(3, 4), randn(3, 4), 1), (randn(3, 4), randn(4), -1),
                      (randn(2, 3, 4), randn(2, 1, 4), 2), (np.zeros((2, 3)), randn(2, 3), 1)]:
        zero = not x.any()
        compare(torch, lambda a, b, d=dim: F.cosine_similarity(a, b, d),
                lambda a, b, d=dim: torch.nn.functional.cosine_similarity(a, b, d), [x, y],
                second_order=not zero)
    ints = F.cosine_similarity(autodiff.ones(2, 3, dtype=autodiff.int64), autodiff.ones(2, 3))
    assert ints.dtype is autodiff.float32


# ----------------------------------------------------------------------------- CTC
CTC_LOG_PROBS = RNG.standard_normal((6, 2, 4))
CTC_TARGETS = [[1, 2, 2], [3, 1, 0]]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["padded", "concatenated", "lists", "blank_last", "repeats",
                                  "empty_target", "no_frames", "impossible", "zero_infinity",
                                  "unbatched", "int32"])
def test_ctc_loss_matches_torch(case: str, reduction: str) -> None:
    torch = _torch()
    targets: Any = CTC_TARGETS
    lengths: tuple[Any, Any] = ([6, 5], [3, 2])
    options: dict[str, Any] = {}
    as_tensors = True
    frames = CTC_LOG_PROBS
    if case == "concatenated":
        targets = [1, 2, 2, 3, 1]
    elif case == "lists":
        as_tensors = False
    elif case == "blank_last":
        targets, options = [[1, 2, 2], [2, 1, 0]], {"blank": 3}
    elif case == "repeats":
        targets = [[1, 1, 1], [2, 2, 0]]
    elif case == "empty_target":
        lengths = ([6, 5], [0, 2])
    elif case == "no_frames":
        lengths = ([0, 5], [0, 2])
    elif case in ("impossible", "zero_infinity"):
        frames, lengths = CTC_LOG_PROBS[:2], ([2, 2], [3, 2])
        options = {"zero_infinity": case == "zero_infinity"}
    elif case == "unbatched":
        frames, targets, lengths = CTC_LOG_PROBS[:, 0], CTC_TARGETS[0], (6, 3)

    def run(functional: Any, library: Any) -> Any:
        def op(x: Any) -> Any:
            inputs, target_lengths = lengths
            if as_tensors:
                inputs, target_lengths = library.tensor(inputs), library.tensor(target_lengths)
            dtype = library.int32 if case == "int32" else library.int64
            return functional.ctc_loss(x.log_softmax(-1), library.tensor(targets, dtype=dtype),
                                       inputs, target_lengths, reduction=reduction, **options)
        return op

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing warns, not even the impossible sample's nan
        compare(torch, run(F, autodiff), run(torch.nn.functional, torch), [frames])


def test_ctc_loss_gradient_with_respect_to_log_probs_is_pytorchs() -> None:
    """PyTorch's convention: exp(log_probs) - posterior (see ops/ctc.py), on a bigger batch
    with every kind of length, in float32 too."""
    torch = _torch()
    frames, batch, classes, longest = 40, 5, 7, 10
    log_probs = torch.randn(frames, batch, classes, dtype=torch.float64).log_softmax(2).numpy()
    targets = RNG.integers(1, classes, (batch, longest))
    inputs, target_lengths = [40, 33, 20, 10, 1], [10, 9, 4, 0, 1]
    compare(torch, lambda x: F.ctc_loss(x, autodiff.tensor(targets), inputs, target_lengths),
            lambda x: torch.nn.functional.ctc_loss(x, torch.tensor(targets), inputs,
                                                   target_lengths), [log_probs])
    ours = autodiff.tensor(log_probs, dtype=autodiff.float32, requires_grad=True)
    theirs = torch.tensor(log_probs, dtype=torch.float32, requires_grad=True)
    F.ctc_loss(ours, autodiff.tensor(targets), inputs, target_lengths, reduction="sum").backward()
    torch.nn.functional.ctc_loss(theirs, torch.tensor(targets), inputs, target_lengths,
                                 reduction="sum").backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-5)


CTC_ERRORS: dict[str, Any] = {
    "blank range": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS), (6, 5), (3, 2),
                                               blank=4),
    "blank negative": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS), (6, 5), (3, 2),
                                                  blank=-1),
    "input lengths size": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS), (6, 5, 4),
                                                      (3, 2)),
    "target lengths size": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS), (6, 5), (3,)),
    "negative target length": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS), (6, 5),
                                                          (-1, 2)),
    "input too long": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS), (7, 5), (3, 2)),
    "negative input": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS), (-1, 5), (3, 2)),
    "targets too short": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS)[:, :2], (6, 5),
                                                     (3, 2)),
    "targets batch": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS)[:1], (6, 5), (3, 2)),
    "concatenated size": lambda F, t, lp: F.ctc_loss(lp, t.tensor([1, 2, 2, 3]), (6, 5), (3, 2)),
    "float input lengths": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS),
                                                       t.tensor([6.0, 5.0]), t.tensor([3, 2])),
    "float target lengths": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS),
                                                        t.tensor([6, 5]), t.tensor([3.0, 2.0])),
    "4-D log_probs": lambda F, t, lp: F.ctc_loss(lp.unsqueeze(0), t.tensor(CTC_TARGETS), (6, 5),
                                                 (3, 2)),
    "3-D targets": lambda F, t, lp: F.ctc_loss(lp, t.tensor([CTC_TARGETS]), (6, 5), (3, 2)),
    "integer log_probs": lambda F, t, lp: F.ctc_loss(lp.long(), t.tensor(CTC_TARGETS), (6, 5),
                                                     (3, 2)),
    "reduction": lambda F, t, lp: F.ctc_loss(lp, t.tensor(CTC_TARGETS), (6, 5), (3, 2),
                                             reduction="x"),
    "empty batch": lambda F, t, lp: F.ctc_loss(lp[:, :0], t.tensor(CTC_TARGETS)[:0], (), ()),
}


@pytest.mark.parametrize("case", sorted(CTC_ERRORS))
def test_ctc_loss_errors_match_torch(case: str) -> None:
    torch = _torch()
    call = CTC_ERRORS[case]
    same_error(lambda: call(F, autodiff, autodiff.tensor(CTC_LOG_PROBS)),
               lambda: call(torch.nn.functional, torch, torch.tensor(CTC_LOG_PROBS)))


def test_ctc_loss_refuses_a_label_out_of_range() -> None:
    """PyTorch's CPU kernel reads past the class dim; here it is an error."""
    with pytest.raises(RuntimeError, match=r"every target must be in \[0, 4\)"):
        F.ctc_loss(autodiff.tensor(CTC_LOG_PROBS), autodiff.tensor([[1, 2, 7], [3, 1, 0]]),
                   (6, 5), (3, 2))


def test_ctc_loss_is_not_twice_differentiable() -> None:
    x = autodiff.tensor(CTC_LOG_PROBS, requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(2), autodiff.tensor(CTC_TARGETS), (6, 5), (3, 2))
    grad, = autodiff.autograd.grad(loss, x, create_graph=True)
    with pytest.raises(RuntimeError, match="derivative for aten::_ctc_loss_backward is not "):
        grad.sum().backward()


def test_ctc_loss_is_the_sum_over_alignments(device: str) -> None:
    """One sample small enough to list every path (no PyTorch needed)."""
    import itertools
    logits = RNG.standard_normal((5, 1, 3))
    log_probs = logits - np.log(np.exp(logits).sum(2, keepdims=True))
    target = (1, 2)
    total = 0.0
    for path in itertools.product(range(3), repeat=5):
        collapsed = tuple(c for k, c in enumerate(path) if c and (k == 0 or path[k - 1] != c))
        if collapsed == target:
            total += math.exp(sum(log_probs[t, 0, c] for t, c in enumerate(path)))
    loss = F.ctc_loss(autodiff.tensor(log_probs, device=device),
                      autodiff.tensor([target], device=device), (5,), (2,), reduction="sum")
    assert loss.item() == pytest.approx(-math.log(total), rel=1e-12)


# ----------------------------------------------------------------------------- errors
LOSS_ERRORS: dict[str, Any] = {
    "mse weight shape": lambda F, t: F.mse_loss(t.ones(3), t.ones(3), weight=t.ones(2)),
    "mse weight reduction": lambda F, t: F.mse_loss(t.ones(3), t.ones(3), weight=t.ones(3),
                                                    reduction="x"),
    "huber weight shape": lambda F, t: F.huber_loss(t.ones(3), t.ones(3), weight=t.ones(1)),
    "l1 weight shape": lambda F, t: F.l1_loss(t.ones(3), t.ones(3), weight=t.ones(3, 1)),
    "poisson reduction": lambda F, t: F.poisson_nll_loss(t.ones(3), t.ones(3),
                                                         reduction="batchmean"),
    "gaussian var size": lambda F, t: F.gaussian_nll_loss(t.ones(3, 4), t.ones(3, 4),
                                                          t.ones(2, 2)),
    "gaussian negative var": lambda F, t: F.gaussian_nll_loss(t.ones(3), t.ones(3), -t.ones(3)),
    "gaussian negative float": lambda F, t: F.gaussian_nll_loss(t.ones(3), t.ones(3), -1.0),
    "gaussian reduction": lambda F, t: F.gaussian_nll_loss(t.ones(3), t.ones(3), t.ones(3),
                                                           reduction="x"),
    "margin ranking dims": lambda F, t: F.margin_ranking_loss(t.ones(3), t.ones(3),
                                                              t.ones(3, 1)),
    "margin ranking sizes": lambda F, t: F.margin_ranking_loss(t.ones(3), t.ones(4), t.ones(3)),
    "hinge sizes": lambda F, t: F.hinge_embedding_loss(t.ones(3, 4), t.ones(3, 5)),
    "soft margin sizes": lambda F, t: F.soft_margin_loss(t.ones(3, 4), t.ones(3, 5)),
    "soft margin integers": lambda F, t: F.soft_margin_loss(t.ones(3, dtype=t.int64),
                                                            t.ones(3, dtype=t.int64)),
    "soft margin target grad": lambda F, t: F.soft_margin_loss(
        t.ones(3), t.ones(3, requires_grad=True)),
    "multilabel soft reduction": lambda F, t: F.multilabel_soft_margin_loss(
        t.ones(3, 4), t.ones(3, 4), reduction="x"),
    "cosine target dims": lambda F, t: F.cosine_embedding_loss(t.ones(3, 4), t.ones(3, 4),
                                                               t.ones(3, 1)),
    "cosine 0-d target": lambda F, t: F.cosine_embedding_loss(t.ones(3, 4), t.ones(3, 4),
                                                              t.ones(())),
    "cosine 1-d target": lambda F, t: F.cosine_embedding_loss(t.ones(4), t.ones(4), t.ones(3)),
    "multi margin target out of range": lambda F, t: F.multi_margin_loss(
        t.ones(3, 4), t.tensor([1, 0, 4])),
    "multi margin negative target": lambda F, t: F.multi_margin_loss(
        t.ones(3, 4), t.tensor([1, 0, -1])),
    "multi margin target size": lambda F, t: F.multi_margin_loss(t.ones(3, 4), t.tensor([1, 0])),
    "multi margin 2-D target": lambda F, t: F.multi_margin_loss(t.ones(3, 4),
                                                                t.tensor([[1, 0, 2]])),
    "multi margin p": lambda F, t: F.multi_margin_loss(t.ones(3, 4), t.tensor([1, 0, 2]), p=3),
    "multi margin weight size": lambda F, t: F.multi_margin_loss(
        t.ones(3, 4), t.tensor([1, 0, 2]), weight=t.ones(3)),
    "multi margin weight dims": lambda F, t: F.multi_margin_loss(
        t.ones(3, 4), t.tensor([1, 0, 2]), weight=t.ones(2, 2)),
    "multi margin weight dtype": lambda F, t: F.multi_margin_loss(
        t.ones(3, 4), t.tensor([1, 0, 2]), weight=t.ones(4, dtype=t.float64)),
    "multi margin empty classes": lambda F, t: F.multi_margin_loss(t.ones(3, 0),
                                                                   t.tensor([1, 0, 2])),
    "multi margin 3-D": lambda F, t: F.multi_margin_loss(t.ones(3, 4, 2), t.tensor([1, 0, 2])),
    "multi margin float target": lambda F, t: F.multi_margin_loss(t.ones(3, 4),
                                                                  t.tensor([1.0, 0.0, 2.0])),
    "multilabel target range": lambda F, t: F.multilabel_margin_loss(
        t.ones(3, 4), t.tensor([[1, 0, 4, -1]] * 3)),
    "multilabel target -2": lambda F, t: F.multilabel_margin_loss(
        t.ones(3, 4), t.tensor([[1, 0, -2, 1]] * 3)),
    "multilabel target size": lambda F, t: F.multilabel_margin_loss(
        t.ones(3, 4), t.tensor([[1, 0, -1]] * 3)),
    "multilabel 1-D target size": lambda F, t: F.multilabel_margin_loss(t.ones(4),
                                                                        t.tensor([1, 0, -1])),
    "multilabel float target": lambda F, t: F.multilabel_margin_loss(
        t.ones(3, 4), t.tensor([[1.0, 0.0, 2.0, 3.0]] * 3)),
    "multilabel 3-D": lambda F, t: F.multilabel_margin_loss(t.ones(2, 3, 4),
                                                            t.zeros(2, 3, 4, dtype=t.int64)),
    "triplet dims": lambda F, t: F.triplet_margin_loss(t.ones(3, 4), t.ones(3, 4), t.ones(4)),
    "triplet margin": lambda F, t: F.triplet_margin_loss(t.ones(3, 4), t.ones(3, 4),
                                                         t.ones(3, 4), margin=0),
    "triplet distance dims": lambda F, t: F.triplet_margin_with_distance_loss(
        t.ones(3, 4), t.ones(3, 4), t.ones(4)),
    "triplet distance margin": lambda F, t: F.triplet_margin_with_distance_loss(
        t.ones(3, 4), t.ones(3, 4), t.ones(3, 4), margin=-1),
    "triplet distance reduction": lambda F, t: F.triplet_margin_with_distance_loss(
        t.ones(3, 4), t.ones(3, 4), t.ones(3, 4), reduction="x"),
    "pdist 3-D": lambda F, t: F.pdist(t.ones(2, 3, 4)),
    "pdist negative p": lambda F, t: F.pdist(t.ones(2, 3), -1),
    "pdist integers": lambda F, t: F.pdist(t.ones(2, 3, dtype=t.int64)),
    "cosine similarity integers": lambda F, t: F.cosine_similarity(
        t.ones(2, 3, dtype=t.int64), t.ones(2, 3, dtype=t.int64)),
    "cosine similarity shapes": lambda F, t: F.cosine_similarity(t.ones(2, 3), t.ones(2, 4)),
}


@pytest.mark.parametrize("case", sorted(LOSS_ERRORS))
def test_loss_errors_match_torch(case: str) -> None:
    torch = _torch()
    call = LOSS_ERRORS[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        same_error(lambda: call(F, autodiff), lambda: call(torch.nn.functional, torch))


def test_legacy_reduction_arguments_as_pytorch() -> None:
    torch = _torch()
    x, y = randn(3, 4), signs(3, 4)
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        for name, call in [
            ("soft_margin_loss", lambda F, a, b, s, r: F.soft_margin_loss(a, b, s, r)),
            ("hinge_embedding_loss",
             lambda F, a, b, s, r: F.hinge_embedding_loss(a, b, 1.0, s, r)),
            ("multilabel_soft_margin_loss",
             lambda F, a, b, s, r: F.multilabel_soft_margin_loss(a, (b > 0) * 1.0, None, s, r)),
            ("poisson_nll_loss",
             lambda F, a, b, s, r: F.poisson_nll_loss(a, b.abs(), True, False, s, 1e-8, r)),
        ]:
            with pytest.warns(UserWarning, match="size_average and reduce args will be "):
                ours = call(F, autodiff.tensor(x), autodiff.tensor(y), size_average, reduce)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = call(torch.nn.functional, torch.tensor(x), torch.tensor(y),
                              size_average, reduce)
            np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                                       err_msg=name)


def test_failed_losses_leave_gradients_alone() -> None:
    x = autodiff.ones(3, 4, requires_grad=True)
    for call in (lambda: F.multi_margin_loss(x, autodiff.tensor([1, 0, 9])),
                 lambda: F.ctc_loss(x.unsqueeze(1), autodiff.tensor([[1, 2]]), (9,), (2,)),
                 lambda: F.gaussian_nll_loss(x, x, -autodiff.ones(3, 4))):
        with pytest.raises((RuntimeError, ValueError)):
            call().backward()
    assert x.grad is None


# ----------------------------------------------------------------------------- modules
MODULES: list[Any] = [
    lambda n, t: n.HuberLoss(delta=0.5), lambda n, t: n.SmoothL1Loss(beta=0.2),
    lambda n, t: n.KLDivLoss(reduction="batchmean", log_target=True),
    lambda n, t: n.PoissonNLLLoss(log_input=False, full=True),
    lambda n, t: n.GaussianNLLLoss(full=True), lambda n, t: n.MarginRankingLoss(0.5),
    lambda n, t: n.HingeEmbeddingLoss(2.0), lambda n, t: n.MultiLabelMarginLoss(),
    lambda n, t: n.SoftMarginLoss(reduction="sum"),
    lambda n, t: n.MultiLabelSoftMarginLoss(weight=t.ones(4)),
    lambda n, t: n.CosineEmbeddingLoss(0.1), lambda n, t: n.MultiMarginLoss(2, 0.5, t.ones(4)),
    lambda n, t: n.TripletMarginLoss(swap=True), lambda n, t: n.TripletMarginWithDistanceLoss(),
    lambda n, t: n.TripletMarginWithDistanceLoss(distance_function=n.CosineSimilarity()),
    lambda n, t: n.CTCLoss(blank=1, zero_infinity=True), lambda n, t: n.PairwiseDistance(p=1),
    lambda n, t: n.CosineSimilarity(dim=0),
]


def test_loss_module_reprs_and_state_dicts_as_pytorch() -> None:
    torch = _torch()
    for build in MODULES:
        ours, theirs = build(nn, autodiff), build(torch.nn, torch)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        ours.load_state_dict({key: autodiff.tensor(value.numpy())
                              for key, value in theirs.state_dict().items()})


def test_loss_module_checks_as_pytorch() -> None:
    torch = _torch()
    for call in (lambda n, t: n.MultiMarginLoss(p=3),
                 lambda n, t: n.MultiMarginLoss(weight=t.ones(2, 2)),
                 lambda n, t: n.TripletMarginLoss(margin=0.0),
                 lambda n, t: n.TripletMarginWithDistanceLoss(margin=-1.0),
                 lambda n, t: n.HuberLoss(delta="1")):
        same_error(lambda c=call: c(nn, autodiff), lambda c=call: c(torch.nn, torch))


def test_loss_modules_call_their_functions(device: str) -> None:
    x = autodiff.tensor(randn(3, 4), device=device)
    y = autodiff.tensor(signs(3, 4), device=device)
    labels = autodiff.tensor([1, 0, 3], device=device)
    pairs = [
        (nn.SoftMarginLoss()(x, y), F.soft_margin_loss(x, y)),
        (nn.HingeEmbeddingLoss(0.5)(x, y), F.hinge_embedding_loss(x, y, 0.5)),
        (nn.MultiMarginLoss(p=2)(x, labels), F.multi_margin_loss(x, labels, p=2)),
        (nn.PoissonNLLLoss()(x, y.abs()), F.poisson_nll_loss(x, y.abs())),
        (nn.GaussianNLLLoss()(x, y, x.abs()), F.gaussian_nll_loss(x, y, x.abs())),
        (nn.TripletMarginLoss(margin=0.3)(x, y, x.flip(0)),
         F.triplet_margin_loss(x, y, x.flip(0), margin=0.3)),
        (nn.TripletMarginWithDistanceLoss()(x, y, x.flip(0)),
         F.triplet_margin_loss(x, y, x.flip(0))),
        (nn.PairwiseDistance()(x, y), F.pairwise_distance(x, y)),
        (nn.CosineSimilarity()(x, y), F.cosine_similarity(x, y)),
    ]
    for ours, expected in pairs:
        np.testing.assert_allclose(ours.cpu().numpy(), expected.cpu().numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------- cross_entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("shape", "target"), [
    ((5, 4), [1, 0, 3, 0, 2]), ((2, 4, 3), [[0, 2, 3], [1, 3, 0]]), ((4,), 2),
    ((3, 4, 2, 2), [[[0, 1], [2, 3]], [[3, 3], [0, 0]], [[1, 2], [0, 3]]]),
], ids=["2d", "3d", "unbatched", "4d"])
def test_cross_entropy_smoothing_weight_and_ignore_index_as_pytorch(
        shape: Any, target: Any, reduction: str) -> None:
    """label_smoothing with a class weight and an ignored class: the smoothing term and the
    'mean' divisor count only kept targets, weighted (PyTorch's composition)."""
    torch = _torch()
    weight = RNG.random(4)
    for smoothing in (0.0, 0.2, 1.0):
        for weighted in (False, True):
            for ignore_index in (-100, 0, 3):
                def run(functional: Any, library: Any, s: float = smoothing,
                        w: bool = weighted, i: int = ignore_index) -> Any:
                    return lambda x: functional.cross_entropy(
                        x, library.tensor(target), library.tensor(weight) if w else None,
                        ignore_index=i, reduction=reduction, label_smoothing=s)
                compare(torch, run(F, autodiff), run(torch.nn.functional, torch),
                        [randn(*shape)], second_order=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets_as_pytorch(reduction: str) -> None:
    torch = _torch()
    for shape in ((5, 4), (2, 4, 3), (4,)):
        probabilities = RNG.random(shape)
        probabilities /= probabilities.sum(0 if len(shape) == 1 else 1, keepdims=True)
        for smoothing in (0.0, 0.3):
            for weight in (None, RNG.random(4)):
                def run(functional: Any, library: Any, s: float = smoothing,
                        w: Any = weight) -> Any:
                    return lambda x, p: functional.cross_entropy(
                        x, p, None if w is None else library.tensor(w), reduction=reduction,
                        label_smoothing=s)
                compare(torch, run(F, autodiff), run(torch.nn.functional, torch),
                        [randn(*shape), probabilities], second_order=True)


def test_linear_cross_entropy_is_cross_entropy_of_the_linear_logits() -> None:
    """nn.LinearCrossEntropyLoss / F.linear_cross_entropy (PyTorch 2.13): logits of shape
    (N, C, *out_features) from a flat Linear weight, then cross_entropy; gradients reach the
    input and the linear layer. The chunked kernel (`options`) is refused."""
    loss = autodiff.nn.LinearCrossEntropyLoss(5, 10, out_features=(4, 3), bias=True)
    assert loss.linear.weight.shape == (120, 5) and loss.linear.bias.shape == (120,)
    assert repr(loss).splitlines()[1].strip() == (
        "in_features=5, num_classes=10, out_features=(4, 3), bias=True, reduction=mean, "
        "ignore_index=None, label_smoothing=0.0, options=None")
    x = autodiff.arange(10.0).reshape(2, 5).requires_grad_()
    target = (autodiff.arange(24).reshape(2, 4, 3) * 7) % 10
    out = loss(x, target)
    logits = F.linear(x, loss.linear.weight, loss.linear.bias).reshape(2, 10, 4, 3)
    assert out.item() == pytest.approx(F.cross_entropy(logits, target).item(), rel=1e-6)
    out.backward()
    assert x.grad.shape == (2, 5) and loss.linear.weight.grad.shape == (120, 5)
    probabilities = autodiff.arange(240.0).reshape(2, 10, 4, 3).softmax(1)
    with pytest.raises(RuntimeError, match="ignore_index cannot be specified when target "
                       "contains probabilities"):
        F.linear_cross_entropy(x, autodiff.ones(10, 4, 3, 5), probabilities, ignore_index=1)
    with pytest.raises(RuntimeError, match=r"requires batched input, \(N, 5\), got unbatched"):
        F.linear_cross_entropy(autodiff.ones(5), autodiff.ones(10, 4, 5), target)
    with pytest.raises(NotImplementedError, match="chunked kernel"):
        F.linear_cross_entropy(x, autodiff.ones(10, 5), target[:, 0, 0], options=object())


def test_linear_cross_entropy_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")

    def run(lib: Any) -> Any:
        loss = lib.nn.LinearCrossEntropyLoss(5, 10, out_features=(4, 3), reduction="none",
                                             label_smoothing=0.1)
        with lib.no_grad():
            loss.linear.weight.copy_(lib.arange(600.0).reshape(120, 5).cos())
        x = lib.arange(10.0).reshape(2, 5).requires_grad_()
        out = loss(x, (lib.arange(24).reshape(2, 4, 3) * 7) % 10)
        out.sum().backward()
        return out.detach().numpy(), x.grad.numpy(), loss.linear.weight.grad.numpy()

    for expected, actual in zip(run(torch), run(autodiff)):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
