"""autodiff.nn.functional against PyTorch: softmax, the losses (every option), linear, layer_norm,
normalize, embedding, one_hot (values, gradients of first and second order, node names, error
messages), and dropout's statistics."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from tests.compare import compare, same_error

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RNG = np.random.default_rng(99)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def probabilities(*shape: int, axis: int = 1) -> np.ndarray:
    values = RNG.random(shape)
    return values / values.sum(axis=axis, keepdims=True)


def both(function: str) -> tuple[Any, Any]:
    return getattr(F, function), getattr(TF, function)


# ----------------------------------------------------------------------------- softmax
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize(("shape", "dim"), [
    ((3, 4), 1), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((), 0), ((5,), 0), ((0, 3), 1),
    ((2, 0), 1),
], ids=str)
def test_softmax_matches_torch(name: str, shape: tuple[int, ...], dim: int) -> None:
    ours, theirs = both(name)
    compare(torch, lambda x: ours(x, dim), lambda x: theirs(x, dim), [randn(*shape)],
            second_order=True)
    compare(torch, lambda x: getattr(x, name)(dim), lambda x: getattr(x, name)(dim),
            [randn(*shape)])
    compare(torch, lambda x: getattr(autodiff, name)(x, dim),
            lambda x: getattr(torch, name)(x, dim), [randn(*shape)])


def test_softmax_is_stable_and_takes_a_dtype() -> None:
    big = np.array([[1000.0, 0.0, -1000.0]])
    compare(torch, lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1), [big])
    compare(torch, lambda x: F.softmax(x, 1), lambda x: TF.softmax(x, 1), [big])
    out = F.softmax(autodiff.ones(3), 0, dtype=autodiff.float64)
    assert out.dtype is autodiff.float64


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_implicit_dim_warns_like_torch(name: str) -> None:
    ours, theirs = both(name)
    for shape in [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = randn(*shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice") as caught:
            out = ours(autodiff.tensor(x))
        with warnings.catch_warnings(record=True) as expected:
            warnings.simplefilter("always")
            reference = theirs(torch.tensor(x))
        assert str(caught[0].message) == str(expected[0].message)
        np.testing.assert_allclose(out.numpy(), reference.numpy())


def test_softmax_errors_match_torch() -> None:
    for name in ("softmax", "log_softmax"):
        ours, theirs = both(name)
        same_error(lambda o=ours: o(autodiff.ones(2, 3), 2),
                   lambda t=theirs: t(torch.ones(2, 3), 2))
        for dim in (0, 1):
            same_error(lambda o=ours, d=dim: o(autodiff.ones(2, 3, dtype=autodiff.int64), d),
                       lambda t=theirs, d=dim: t(torch.ones(2, 3, dtype=torch.int64), d))


# ----------------------------------------------------------------------------- cross_entropy
CE_INPUTS = {  # input shape -> a target of class indices (with a -100 and a repeated class)
    (4,): np.array(2),
    (3, 4): np.array([1, 0, 3]),
    (5, 4): np.array([1, -100, 3, 3, 0]),
    (2, 4, 3): np.array([[0, 2, -100], [1, 1, 0]]),
    (2, 4, 3, 2): RNG.integers(0, 4, (2, 3, 2)),
    (2, 4, 1, 2, 2): RNG.integers(0, 4, (2, 1, 2, 2)),
    (0, 4): np.zeros(0, dtype=np.int64),
}
CLASS_WEIGHT = np.array([0.5, 1.0, 2.0, 1.5])


@pytest.mark.parametrize(("reduction", "weighted", "ignore_index", "smoothing"),
                         list(itertools.product(("mean", "sum", "none"), (False, True),
                                                (-100, 1), (0.0, 0.3))), ids=str)
@pytest.mark.parametrize("shape", list(CE_INPUTS), ids=str)
def test_cross_entropy_indices_match_torch(shape: tuple[int, ...], reduction: str,
                                           weighted: bool, ignore_index: int,
                                           smoothing: float) -> None:
    target = np.where(CE_INPUTS[shape] == -100, ignore_index, CE_INPUTS[shape])

    def run(library: Any, functional: Any) -> Any:
        def loss(x: Any) -> Any:
            weight = library.tensor(CLASS_WEIGHT) if weighted else None
            return functional.cross_entropy(x, library.tensor(target), weight=weight,
                                            ignore_index=ignore_index, reduction=reduction,
                                            label_smoothing=smoothing)
        return loss

    compare(torch, run(autodiff, F), run(torch, TF), [randn(*shape)], second_order=True)


@pytest.mark.parametrize(("reduction", "weighted", "smoothing"),
                         list(itertools.product(("mean", "sum", "none"), (False, True),
                                                (0.0, 0.2))), ids=str)
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3), (4,), (0, 4)], ids=str)
def test_cross_entropy_probabilities_match_torch(shape: tuple[int, ...], reduction: str,
                                                 weighted: bool, smoothing: float) -> None:
    axis = 0 if len(shape) == 1 else 1

    def run(library: Any, functional: Any) -> Any:
        def loss(x: Any, p: Any) -> Any:
            weight = library.tensor(CLASS_WEIGHT) if weighted else None
            return functional.cross_entropy(x, p, weight=weight, reduction=reduction,
                                            label_smoothing=smoothing)
        return loss

    target = probabilities(*shape, axis=axis) if np.prod(shape) else np.zeros(shape)
    compare(torch, run(autodiff, F), run(torch, TF), [randn(*shape), target],
            second_order=True)


def test_cross_entropy_all_ignored_is_nan_with_zero_gradient() -> None:
    target = np.array([-100, -100])
    compare(torch, lambda x: F.cross_entropy(x, autodiff.tensor(target)),
            lambda x: TF.cross_entropy(x, torch.tensor(target)), [randn(2, 3)])


def test_cross_entropy_legacy_reduction_arguments() -> None:
    target = np.array([1, 0, 2])
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            compare(torch, lambda x, s=size_average, r=reduce: F.cross_entropy(
                        x, autodiff.tensor(target), size_average=s, reduce=r),
                    lambda x, s=size_average, r=reduce: TF.cross_entropy(
                        x, torch.tensor(target), size_average=s, reduce=r), [randn(3, 3)])
        messages = [str(w.message) for w in caught if "size_average" in str(w.message)]
        assert len(messages) == 2 and messages[0] == messages[1]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3), (2, 4, 3, 2), (4,)], ids=str)
def test_nll_loss_matches_torch(shape: tuple[int, ...], reduction: str) -> None:
    target = {(3, 4): np.array([1, -100, 3]), (2, 4, 3): np.array([[0, 2, 1], [3, 1, 0]]),
              (2, 4, 3, 2): RNG.integers(0, 4, (2, 3, 2)), (4,): np.array(3)}[shape]
    for weight in (None, CLASS_WEIGHT):
        compare(torch, lambda x, w=weight: F.nll_loss(
                    x, autodiff.tensor(target), None if w is None else autodiff.tensor(w),
                    reduction=reduction),
                lambda x, w=weight: TF.nll_loss(
                    x, torch.tensor(target), None if w is None else torch.tensor(w),
                    reduction=reduction), [randn(*shape)], second_order=True)
    if len(shape) > 2:
        return  # (PyTorch's nll_loss2d takes int64 targets only)
    uint8 = np.abs(target).astype(np.uint8) % 4
    compare(torch, lambda x: F.nll_loss(x, autodiff.tensor(uint8), reduction=reduction),
            lambda x: TF.nll_loss(x, torch.tensor(uint8), reduction=reduction), [randn(*shape)])


CE_ERRORS = [
    ("float target", lambda lib, f: f.cross_entropy(lib.ones(3, 4), lib.ones(3))),
    ("long probabilities", lambda lib, f: f.cross_entropy(
        lib.ones(3, 4), lib.zeros(3, 4, dtype=lib.int64))),
    ("batch", lambda lib, f: f.cross_entropy(lib.ones(3, 4), lib.zeros(4, dtype=lib.int64))),
    ("out of bounds", lambda lib, f: f.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1, 4]))),
    ("negative", lambda lib, f: f.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1, -1]))),
    ("weight size", lambda lib, f: f.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1, 2]),
                                                   weight=lib.ones(3))),
    ("weight 2-D", lambda lib, f: f.nll_loss(lib.ones(2, 4), lib.tensor([0, 1]),
                                             weight=lib.ones(2, 2))),
    ("0-d input", lambda lib, f: f.cross_entropy(lib.ones(()), lib.tensor(2))),
    ("target size", lambda lib, f: f.cross_entropy(lib.ones(2, 4, 3),
                                                   lib.zeros(2, 4, dtype=lib.int64))),
    ("spatial target", lambda lib, f: f.cross_entropy(lib.ones(2, 4, 3, 5),
                                                      lib.zeros(2, 3, dtype=lib.int64))),
    ("spatial size", lambda lib, f: f.nll_loss(lib.ones(2, 4, 3, 5),
                                               lib.zeros(2, 3, 4, dtype=lib.int64))),
    ("smoothing", lambda lib, f: f.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1, 2]),
                                                 label_smoothing=1.1)),
    ("probability shape", lambda lib, f: f.cross_entropy(lib.ones(3, 4), lib.ones(3, 5))),
    ("probability ignore", lambda lib, f: f.cross_entropy(lib.ones(3, 4), lib.ones(3, 4),
                                                          ignore_index=1)),
    ("probability weight", lambda lib, f: f.cross_entropy(lib.ones(3, 4), lib.ones(3, 4),
                                                          weight=lib.ones(3))),
    ("reduction", lambda lib, f: f.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1, 2]),
                                                 reduction="avg")),
    ("integer input", lambda lib, f: f.cross_entropy(lib.ones(3, 4, dtype=lib.int64),
                                                     lib.tensor([0, 1, 2]))),
    ("int32 target", lambda lib, f: f.cross_entropy(lib.ones(3, 4),
                                                    lib.tensor([0, 1, 2], dtype=lib.int32))),
    ("nll 0-d", lambda lib, f: f.nll_loss(lib.ones(()), lib.tensor(1))),
    ("nll 2-D target", lambda lib, f: f.nll_loss(lib.ones(3, 4),
                                                 lib.zeros(3, 1, dtype=lib.int64))),
    ("nll 0-d target", lambda lib, f: f.nll_loss(lib.ones(2, 4), lib.tensor(1))),
    ("nll integer input", lambda lib, f: f.nll_loss(lib.ones(2, 4, dtype=lib.int64),
                                                    lib.tensor([0, 1]))),
    ("nll weight grad", lambda lib, f: f.nll_loss(lib.ones(2, 4), lib.tensor([0, 1]),
                                                  weight=lib.ones(4, requires_grad=True))),
]


@pytest.mark.parametrize("build", [case[1] for case in CE_ERRORS],
                         ids=[case[0] for case in CE_ERRORS])
def test_cross_entropy_errors_match_torch(build: Any) -> None:
    same_error(lambda: build(autodiff, F), lambda: build(torch, TF))


def test_failed_loss_leaves_gradients_alone() -> None:
    x = autodiff.ones(3, 4, requires_grad=True)
    with pytest.raises(IndexError):
        F.cross_entropy(x, autodiff.tensor([0, 1, 9]))
    assert x.grad is None


# ----------------------------------------------------------------------------- regression
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("name", "options"), [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.3}),
    ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 0.4}),
], ids=str)
def test_regression_losses_match_torch(name: str, options: dict[str, Any],
                                       reduction: str) -> None:
    ours, theirs = both(name)
    for shapes in [((3, 4), (3, 4)), ((2, 3, 1), (2, 3, 1)), ((), ()), ((0, 2), (0, 2))]:
        compare(torch, lambda x, y: ours(x, y, reduction=reduction, **options),
                lambda x, y: theirs(x, y, reduction=reduction, **options),
                [randn(*s) * 2 for s in shapes], second_order=True)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_losses_broadcast_with_torchs_warning(name: str) -> None:
    ours, theirs = both(name)
    x, y = randn(3, 1), randn(4)
    with pytest.warns(UserWarning) as caught:
        out = ours(autodiff.tensor(x), autodiff.tensor(y))
    with warnings.catch_warnings(record=True) as expected:
        warnings.simplefilter("always")
        reference = theirs(torch.tensor(x), torch.tensor(y))
    assert str(caught[0].message) == str(expected[0].message)
    assert out.item() == pytest.approx(reference.item())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        compare(torch, ours, theirs, [x, y])


REGRESSION_ERRORS = [
    ("broadcast", lambda lib, f: f.mse_loss(lib.ones(3, 2), lib.ones(3))),
    ("reduction", lambda lib, f: f.mse_loss(lib.ones(3), lib.ones(3), reduction="x")),
    ("integers", lambda lib, f: f.mse_loss(lib.ones(3, dtype=lib.int64),
                                           lib.ones(3, dtype=lib.int64))),
    ("l1 integers", lambda lib, f: f.l1_loss(lib.ones(3, dtype=lib.int64),
                                             lib.ones(3, dtype=lib.int64))),
    ("beta", lambda lib, f: f.smooth_l1_loss(lib.ones(3), lib.ones(3), beta=-1.0)),
    ("delta", lambda lib, f: f.huber_loss(lib.ones(3), lib.ones(3), delta=0.0)),
    ("negative delta", lambda lib, f: f.huber_loss(lib.ones(3), lib.ones(3), delta=-1.0)),
]


@pytest.mark.parametrize("build", [case[1] for case in REGRESSION_ERRORS],
                         ids=[case[0] for case in REGRESSION_ERRORS])
def test_regression_errors_match_torch(build: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        same_error(lambda: build(autodiff, F), lambda: build(torch, TF))


def test_mse_promotes_mixed_dtypes() -> None:
    out = F.mse_loss(autodiff.ones(3), autodiff.ones(3, dtype=autodiff.int64))
    reference = TF.mse_loss(torch.ones(3), torch.ones(3, dtype=torch.int64))
    assert repr(out.dtype) == repr(reference.dtype) and out.item() == 0.0


# ----------------------------------------------------------------------------- binary
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight_shape", [None, (4,), (3, 4), (3, 1)], ids=str)
def test_binary_cross_entropy_matches_torch(weight_shape: Any, reduction: str) -> None:
    x, y = RNG.uniform(0.05, 0.95, (3, 4)), RNG.uniform(0, 1, (3, 4))
    weight = None if weight_shape is None else RNG.random(weight_shape)

    def run(library: Any, functional: Any) -> Any:
        def loss(a: Any, b: Any) -> Any:
            w = None if weight is None else library.tensor(weight)
            return functional.binary_cross_entropy(a, b, w, reduction=reduction)
        return loss

    compare(torch, run(autodiff, F), run(torch, TF), [x, y], second_order=True)


def test_binary_cross_entropy_clamps_its_logs() -> None:
    x, y = np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    compare(torch, lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
            lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"), [x, y],
            grad=[False, False])
    compare(torch, lambda a: F.binary_cross_entropy(a, autodiff.tensor(y[2:4])),
            lambda a: TF.binary_cross_entropy(a, torch.tensor(y[2:4])), [x[2:4]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("weight_shape", "pos_shape"), [
    (None, None), ((4,), None), (None, (4,)), ((3, 4), (4,)), ((3, 1), (1,)), ((1, 4), (3, 4)),
], ids=str)
def test_bce_with_logits_matches_torch(weight_shape: Any, pos_shape: Any,
                                       reduction: str) -> None:
    weight = None if weight_shape is None else RNG.random(weight_shape) + 0.5
    pos_weight = None if pos_shape is None else RNG.random(pos_shape) * 3

    def run(library: Any, functional: Any) -> Any:
        def loss(z: Any, y: Any) -> Any:
            return functional.binary_cross_entropy_with_logits(
                z, y, None if weight is None else library.tensor(weight),
                reduction=reduction,
                pos_weight=None if pos_weight is None else library.tensor(pos_weight))
        return loss

    compare(torch, run(autodiff, F), run(torch, TF), [randn(3, 4) * 3, RNG.random((3, 4))],
            second_order=True)


BINARY_ERRORS = [
    ("input range", lambda lib, f: f.binary_cross_entropy(lib.tensor([1.5]), lib.tensor([1.0]))),
    ("target range", lambda lib, f: f.binary_cross_entropy(lib.tensor([0.5]),
                                                           lib.tensor([2.0]))),
    ("shape", lambda lib, f: f.binary_cross_entropy(lib.ones(3) / 2, lib.ones(3, 1) / 2)),
    ("integer target", lambda lib, f: f.binary_cross_entropy(lib.ones(3) / 2,
                                                             lib.tensor([0, 1, 1]))),
    ("weight", lambda lib, f: f.binary_cross_entropy(lib.ones(3, 2) / 2, lib.ones(3, 2) / 2,
                                                     weight=lib.ones(3))),
    ("weight grad", lambda lib, f: f.binary_cross_entropy(
        lib.ones(3, 2) / 2, lib.ones(3, 2) / 2, weight=lib.ones(2, requires_grad=True))),
    ("logits shape", lambda lib, f: f.binary_cross_entropy_with_logits(lib.ones(3, 2),
                                                                       lib.ones(3))),
    ("logits weight", lambda lib, f: f.binary_cross_entropy_with_logits(
        lib.ones(3, 2), lib.ones(3, 2), weight=lib.ones(3))),
    ("logits pos_weight", lambda lib, f: f.binary_cross_entropy_with_logits(
        lib.ones(3, 2), lib.ones(3, 2), pos_weight=lib.ones(3))),
    ("logits wider weight", lambda lib, f: f.binary_cross_entropy_with_logits(
        lib.ones(3, 2), lib.ones(3, 2), weight=lib.ones(4, 3, 2), reduction="none")),
    ("logits weight grad", lambda lib, f: f.binary_cross_entropy_with_logits(
        lib.ones(3, 2), lib.ones(3, 2), weight=lib.ones(2, requires_grad=True))),
    ("logits pos_weight grad", lambda lib, f: f.binary_cross_entropy_with_logits(
        lib.ones(3, 2), lib.ones(3, 2), pos_weight=lib.ones(2, requires_grad=True))),
]


@pytest.mark.parametrize("build", [case[1] for case in BINARY_ERRORS],
                         ids=[case[0] for case in BINARY_ERRORS])
def test_binary_errors_match_torch(build: Any) -> None:
    same_error(lambda: build(autodiff, F), lambda: build(torch, TF))


# ----------------------------------------------------------------------------- kl_div
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
def test_kl_div_matches_torch(reduction: str, log_target: bool) -> None:
    x = np.log(probabilities(3, 4))
    target = probabilities(3, 4)
    target[0, 0] = 0.0  # 0 log 0 = 0
    if log_target:
        target = np.log(probabilities(3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        compare(torch, lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
                [x, target], grad=[True, log_target], second_order=True)
        compare(torch, lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
                [x, np.abs(target) + 0.1], second_order=True)


def test_kl_div_mean_warns_and_checks_reduction() -> None:
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(autodiff.zeros(2, 2), autodiff.ones(2, 2) / 2)
    same_error(lambda: F.kl_div(autodiff.ones(3), autodiff.ones(3), reduction="avg"),
               lambda: TF.kl_div(torch.ones(3), torch.ones(3), reduction="avg"))


# ----------------------------------------------------------------------------- layers
@pytest.mark.parametrize(("x", "w", "b"), [
    ((2, 3), (4, 3), (4,)), ((2, 3), (4, 3), None), ((3,), (4, 3), (4,)), ((3,), (4, 3), None),
    ((5, 2, 3), (4, 3), (4,)), ((5, 2, 3), (4, 3), None), ((6, 5, 2, 3), (4, 3), (4,)),
    ((2, 3), (3,), None), ((2, 3), (4, 3), (2, 4)), ((0, 3), (4, 3), (4,)), ((2, 3), (4, 3), (1,)),
], ids=str)
def test_linear_matches_torch(x: Any, w: Any, b: Any) -> None:
    inputs = [randn(*x), randn(*w)] + ([] if b is None else [randn(*b)])
    compare(torch, F.linear, TF.linear, inputs, second_order=True)
    compare(torch, F.linear, TF.linear, inputs, grad=[True, False] + [False] * (b is not None))


LINEAR_ERRORS = [
    ("shapes", lambda lib, f: f.linear(lib.ones(2, 3), lib.ones(4, 2))),
    ("bias", lambda lib, f: f.linear(lib.ones(2, 3), lib.ones(4, 3), lib.ones(3))),
    ("bias batched", lambda lib, f: f.linear(lib.ones(5, 2, 3), lib.ones(4, 3), lib.ones(3))),
    ("bias vector", lambda lib, f: f.linear(lib.ones(3), lib.ones(4, 3), lib.ones(3))),
    ("dtype", lambda lib, f: f.linear(lib.ones(2, 3), lib.ones(4, 3, dtype=lib.float64))),
    ("bias dtype", lambda lib, f: f.linear(lib.ones(2, 3), lib.ones(4, 3),
                                           lib.ones(4, dtype=lib.float64))),
    ("3-D weight", lambda lib, f: f.linear(lib.ones(2, 3), lib.ones(2, 4, 3))),
]


@pytest.mark.parametrize("build", [case[1] for case in LINEAR_ERRORS],
                         ids=[case[0] for case in LINEAR_ERRORS])
def test_linear_errors_match_torch(build: Any) -> None:
    same_error(lambda: build(autodiff, F), lambda: build(torch, TF))


@pytest.mark.parametrize(("shape", "normalized", "affine"), [
    ((2, 3), (3,), True), ((2, 3, 4), (3, 4), True), ((2, 3, 4), (4,), False), ((5,), (5,), True),
    ((0, 3), (3,), True),
], ids=str)
def test_layer_norm_matches_torch(shape: Any, normalized: Any, affine: bool) -> None:
    inputs = [randn(*shape)] + ([randn(*normalized), randn(*normalized)] if affine else [])
    compare(torch, lambda x, *wb: F.layer_norm(x, normalized, *wb, eps=1e-4),
            lambda x, *wb: TF.layer_norm(x, normalized, *wb, eps=1e-4), inputs,
            second_order=True)
    compare(torch, lambda x, w=None, b=None: F.layer_norm(x, list(normalized), w, None),
            lambda x, w=None, b=None: TF.layer_norm(x, list(normalized), w, None), inputs)


def test_layer_norm_errors_match_torch() -> None:
    for build in [
        lambda lib, f: f.layer_norm(lib.ones(2, 3), (4,)),
        lambda lib, f: f.layer_norm(lib.ones(2, 3), (3,), lib.ones(4)),
        lambda lib, f: f.layer_norm(lib.ones(2, 3), [3], None, lib.ones(4)),
        lambda lib, f: f.layer_norm(lib.ones(2, 3), 3),
    ]:
        same_error(lambda b=build: b(autodiff, F), lambda b=build: b(torch, TF))


@pytest.mark.parametrize(("p", "dim"), [(2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1)])
def test_normalize_matches_torch(p: float, dim: int) -> None:
    compare(torch, lambda x: F.normalize(x, p, dim), lambda x: TF.normalize(x, p, dim),
            [randn(3, 4)], second_order=p != float("inf"))
    compare(torch, F.normalize, TF.normalize, [np.zeros((2, 3))])


@pytest.mark.parametrize(("padding_idx", "scale_grad_by_freq"),
                         [(None, False), (3, False), (-1, False), (0, True), (None, True)])
def test_embedding_matches_torch(padding_idx: Any, scale_grad_by_freq: bool) -> None:
    indices = np.array([[0, 2, 2, 4], [4, 3, 1, 2]])
    for index in (indices, indices.astype(np.int32), np.array(2)):
        compare(torch, lambda w, i=index: F.embedding(
                    autodiff.tensor(i), w, padding_idx, scale_grad_by_freq=scale_grad_by_freq),
                lambda w, i=index: TF.embedding(
                    torch.tensor(i), w, padding_idx, scale_grad_by_freq=scale_grad_by_freq),
                [randn(5, 3)])


def test_embedding_gradient_accumulates_and_skips_padding() -> None:
    weight = autodiff.zeros(4, 2, requires_grad=True)
    F.embedding(autodiff.tensor([1, 1, 1, 2, 0]), weight, padding_idx=0).sum().backward()
    assert weight.grad.tolist() == [[0.0, 0.0], [3.0, 3.0], [1.0, 1.0], [0.0, 0.0]]


def test_embedding_second_order_is_the_lookup_again() -> None:
    # d/dW <grad_W(E(W)^2), D>, the derivative of the scaled, padded first gradient, checked
    # against finite differences of that gradient.
    indices = autodiff.tensor([[0, 2], [2, 3]])
    weight = autodiff.tensor(randn(4, 3), requires_grad=True)
    upstream, direction = autodiff.tensor(randn(2, 2, 3)), autodiff.tensor(randn(4, 3))

    def grad_dot(w: Any) -> Any:
        out = F.embedding(indices, w, padding_idx=3, scale_grad_by_freq=True) ** 2
        out.backward(upstream, create_graph=True)
        return (w.grad * direction).sum()

    grad_dot(weight).backward()
    base = weight.detach().numpy()
    numeric = np.zeros_like(base)
    for position in np.ndindex(base.shape):
        values = []
        for step in (1e-6, -1e-6):
            shifted = base.copy()
            shifted[position] += step
            leaf = autodiff.tensor(shifted, requires_grad=True)
            values.append(grad_dot(leaf).item())
        numeric[position] = (values[0] - values[1]) / 2e-6
    second = weight.grad.detach().numpy() - _first_grad(indices, base, upstream)
    np.testing.assert_allclose(second, numeric, atol=1e-6)


def _first_grad(indices: Any, base: np.ndarray, upstream: Any) -> np.ndarray:
    leaf = autodiff.tensor(base, requires_grad=True)
    out = F.embedding(indices, leaf, padding_idx=3, scale_grad_by_freq=True) ** 2
    out.backward(upstream)
    return leaf.grad.numpy()


def test_embedding_max_norm_renormalizes_in_place() -> None:
    for library, functional in ((autodiff, F), (torch, TF)):
        weight = library.ones(3, 2) * 5
        out = functional.embedding(library.tensor([0, 0, 1]), weight, max_norm=1.0)
        assert weight._version == 1
        np.testing.assert_allclose(np.array(weight.tolist())[:2], np.full((2, 2), 2 ** -0.5),
                                   rtol=1e-5)
        assert weight.tolist()[2] == [5.0, 5.0]
        np.testing.assert_allclose(np.array(out.tolist()), np.full((3, 2), 2 ** -0.5), rtol=1e-5)


EMBEDDING_ERRORS = [
    ("float indices", lambda lib, f: f.embedding(lib.ones(3), lib.ones(4, 3))),
    ("out of range", lambda lib, f: f.embedding(lib.tensor([5]), lib.ones(4, 3))),
    ("negative index", lambda lib, f: f.embedding(lib.tensor([-1]), lib.ones(4, 3))),
    ("padding", lambda lib, f: f.embedding(lib.tensor([1]), lib.ones(4, 3), padding_idx=5)),
    ("negative padding", lambda lib, f: f.embedding(lib.tensor([1]), lib.ones(4, 3),
                                                    padding_idx=-5)),
    ("1-D weight", lambda lib, f: f.embedding(lib.tensor([1]), lib.ones(4))),
]


@pytest.mark.parametrize("build", [case[1] for case in EMBEDDING_ERRORS],
                         ids=[case[0] for case in EMBEDDING_ERRORS])
def test_embedding_errors_match_torch(build: Any) -> None:
    same_error(lambda: build(autodiff, F), lambda: build(torch, TF))


def test_one_hot_matches_torch() -> None:
    for values, classes in [([1, 2, 0], -1), ([[0, 2], [1, 0]], -1), ([1], 4), ([], 3)]:
        ours = F.one_hot(autodiff.tensor(values, dtype=autodiff.int64), classes)
        theirs = TF.one_hot(torch.tensor(values, dtype=torch.int64), classes)
        assert ours.dtype is autodiff.int64 and ours.tolist() == theirs.tolist()
        assert tuple(ours.shape) == tuple(theirs.shape)
    for build in [
        lambda lib, f: f.one_hot(lib.ones(3)),
        lambda lib, f: f.one_hot(lib.tensor([1], dtype=lib.int32)),
        lambda lib, f: f.one_hot(lib.tensor([-1, 2])),
        lambda lib, f: f.one_hot(lib.tensor([1, 2]), 2),
        lambda lib, f: f.one_hot(lib.tensor([], dtype=lib.int64)),
    ]:
        same_error(lambda b=build: b(autodiff, F), lambda b=build: b(torch, TF))


# ----------------------------------------------------------------------------- dropout
def test_dropout_keeps_the_mean_and_scales_survivors() -> None:
    autodiff.manual_seed(0)
    x = autodiff.ones(200_000, requires_grad=True)
    out = F.dropout(x, p=0.3)
    values = out.detach().numpy()
    np.testing.assert_allclose(np.unique(values), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(values.mean() - 1.0) < 0.01  # std of the mean is about 0.0015
    assert abs((values == 0).mean() - 0.3) < 0.005
    assert out.grad_fn.name() == "MulBackward0"
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # the gradient is the same mask


def test_dropout_is_reproducible_under_manual_seed() -> None:
    autodiff.manual_seed(123)
    first = F.dropout(autodiff.ones(1000)).tolist()
    second = F.dropout(autodiff.ones(1000)).tolist()
    autodiff.manual_seed(123)
    assert F.dropout(autodiff.ones(1000)).tolist() == first
    assert first != second


def test_dropout_identities_and_edge_probabilities() -> None:
    x = autodiff.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.5, training=False) is x
    zeros = F.dropout(x, 1.0)
    assert zeros.tolist() == [[0.0] * 5] * 4 and zeros.grad_fn.name() == "MulBackward0"
    half = F.dropout(autodiff.ones(4, 5, dtype=autodiff.float16), 0.5)
    assert half.dtype is autodiff.float16
    for p in (1.5, -0.5):
        same_error(lambda p=p: F.dropout(autodiff.ones(3), p),
                   lambda p=p: TF.dropout(torch.ones(3), p))
    same_error(lambda: F.dropout(autodiff.ones(3, dtype=autodiff.int64)),
               lambda: TF.dropout(torch.ones(3, dtype=torch.int64)))


def test_dropout_inplace() -> None:
    leaf = autodiff.ones(10, requires_grad=True)
    same_error(lambda: F.dropout(leaf, 0.5, inplace=True),
               lambda: TF.dropout(torch.ones(10, requires_grad=True), 0.5, inplace=True))
    hidden = leaf * 2
    out = F.dropout(hidden, 0.5, inplace=True)
    assert out is hidden and hidden._version == 1 and out.grad_fn.name() == "MulBackward0"
    out.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), out.detach().numpy())
    plain = autodiff.ones(10)
    assert F.dropout(plain, 0.5, inplace=True) is plain
