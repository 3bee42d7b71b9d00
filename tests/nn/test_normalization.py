"""Batch, instance, group and local response normalization against PyTorch: values and
gradients to second order, running statistics (momentum, cumulative average, unbiased variance,
num_batches_tracked), training and evaluation, the layers' reprs and state dicts, the argument
errors, and the two-pass variance."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import functional as F
from tests.compare import compare, same_error


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 3), (2, 3, 2, 3, 2)])
def test_batch_norm_matches_torch(torch: Any, training: bool, shape: tuple[int, ...]) -> None:
    stats: dict[str, list[np.ndarray]] = {"ours": [], "theirs": []}

    def run(library: Any, function: Any, key: str) -> Any:
        def call(x: Any, weight: Any, bias: Any) -> Any:
            mean = library.tensor([0.5, -0.25, 1.0], dtype=library.float64)
            var = library.tensor([2.0, 0.5, 1.5], dtype=library.float64)
            out = function(x, mean, var, weight, bias, training=training, momentum=0.3)
            stats[key] = [mean.numpy(), var.numpy()]
            return out
        return call

    inputs = [RNG.standard_normal(shape), RNG.standard_normal(3), RNG.standard_normal(3)]
    compare(torch, run(autodiff, F.batch_norm, "ours"),
            run(torch, torch.nn.functional.batch_norm, "theirs"), inputs, second_order=True)
    for mine, reference in zip(stats["ours"], stats["theirs"]):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_group_instance_and_local_response_norm_match_torch(torch: Any) -> None:
    tf = torch.nn.functional
    x = RNG.standard_normal((2, 6, 4, 3))
    w, b = RNG.standard_normal(6), RNG.standard_normal(6)
    compare(torch, lambda *t: F.group_norm(t[0], 3, t[1], t[2]),
            lambda *t: tf.group_norm(t[0], 3, t[1], t[2]), [x, w, b], second_order=True)
    compare(torch, lambda t: F.group_norm(t, 2), lambda t: tf.group_norm(t, 2),
            [RNG.standard_normal((3, 4, 5))], second_order=True)
    compare(torch, lambda *t: F.instance_norm(t[0], weight=t[1], bias=t[2]),
            lambda *t: tf.instance_norm(t[0], weight=t[1], bias=t[2]), [x, w, b],
            second_order=True)
    compare(torch, lambda t: F.local_response_norm(t, 3, alpha=0.1, k=2.0),
            lambda t: tf.local_response_norm(t, 3, alpha=0.1, k=2.0), [x], second_order=True)
    compare(torch, lambda t: F.local_response_norm(t, 2),
            lambda t: tf.local_response_norm(t, 2), [RNG.standard_normal((2, 5, 4))])


def test_instance_norm_running_statistics_match_torch(torch: Any) -> None:
    x = RNG.standard_normal((4, 3, 5))
    ours = [autodiff.zeros(3, dtype=autodiff.float64), autodiff.ones(3, dtype=autodiff.float64)]
    theirs = [torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)]
    out = F.instance_norm(autodiff.tensor(x), *ours, momentum=0.2)
    expected = torch.nn.functional.instance_norm(torch.tensor(x), *theirs, momentum=0.2)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-12)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-12)
    # Evaluation with the running statistics.
    out = F.instance_norm(autodiff.tensor(x), *ours, use_input_stats=False)
    expected = torch.nn.functional.instance_norm(torch.tensor(x), *theirs,
                                                 use_input_stats=False)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-12)


def test_two_pass_variance_of_a_constant_channel() -> None:
    """A channel of equal large values has variance 0 exactly (one pass, E[x^2] - E[x]^2,
    would give rounding noise amplified by 1/sqrt(eps))."""
    for shape in ((4, 2, 3), (64, 2, 30)):
        x = autodiff.full(shape, 1000.1)
        zeros = np.zeros(shape, dtype=np.float32)
        np.testing.assert_array_equal(F.batch_norm(x, None, None, training=True).numpy(), zeros)
        np.testing.assert_array_equal(F.group_norm(x, 2).numpy(), zeros)
        np.testing.assert_array_equal(F.instance_norm(x).numpy(), zeros)


def test_batch_norm_float16_input_with_float32_statistics(torch: Any) -> None:
    x = RNG.standard_normal((4, 3, 5))
    mean, var = autodiff.zeros(3), autodiff.ones(3)
    out = F.batch_norm(autodiff.tensor(x, dtype=autodiff.float16), mean, var, training=True)
    t_mean, t_var = torch.zeros(3), torch.ones(3)
    expected = torch.nn.functional.batch_norm(torch.tensor(x, dtype=torch.float16), t_mean,
                                              t_var, training=True)
    assert out.dtype is autodiff.float16
    np.testing.assert_allclose(out.numpy().astype(np.float32),
                               expected.numpy().astype(np.float32), atol=2e-3)
    np.testing.assert_allclose(var.numpy(), t_var.numpy(), rtol=1e-5)


ERRORS: list[tuple[str, Any, Any]] = [
    ("running mean size", lambda lib, x: lib.nn.functional.batch_norm(
        x, lib.zeros(4), lib.ones(3), training=True), (4, 3, 5)),
    ("running var size", lambda lib, x: lib.nn.functional.batch_norm(
        x, lib.zeros(3), lib.ones(4), training=True), (4, 3, 5)),
    ("weight size", lambda lib, x: lib.nn.functional.batch_norm(
        x, lib.zeros(3), lib.ones(3), weight=lib.ones(4), training=True), (4, 3, 5)),
    ("bias size", lambda lib, x: lib.nn.functional.batch_norm(
        x, lib.zeros(3), lib.ones(3), bias=lib.ones(4), training=True), (4, 3, 5)),
    ("eval without statistics", lambda lib, x: lib.nn.functional.batch_norm(
        x, None, None, training=False), (4, 3, 5)),
    ("one statistic", lambda lib, x: lib.nn.functional.batch_norm(
        x, lib.zeros(3), None, training=True), (4, 3, 5)),
    ("one value per channel", lambda lib, x: lib.nn.functional.batch_norm(
        x, lib.zeros(3), lib.ones(3), training=True), (1, 3)),
    ("eps", lambda lib, x: lib.nn.functional.batch_norm(
        x, lib.zeros(3), lib.ones(3), training=True, eps=0), (4, 3)),
    ("integer input", lambda lib, x: lib.nn.functional.batch_norm(
        x.long(), lib.zeros(3), lib.ones(3), training=True), (4, 3)),
    ("mixed dtypes", lambda lib, x: lib.nn.functional.batch_norm(
        x.double(), lib.zeros(3), lib.ones(3), training=True), (4, 3)),
    ("mixed parameter", lambda lib, x: lib.nn.functional.batch_norm(
        x.float(), lib.zeros(3).double(), lib.ones(3).double(), training=True), (4, 3)),
    ("instance spatial", lambda lib, x: lib.nn.functional.instance_norm(x), (4, 3, 1)),
    ("instance statistics", lambda lib, x: lib.nn.functional.instance_norm(
        x, use_input_stats=False), (4, 3, 5)),
    ("group divisible", lambda lib, x: lib.nn.functional.group_norm(x, 2), (4, 3, 5)),
    ("group weight", lambda lib, x: lib.nn.functional.group_norm(
        x, 3, weight=lib.ones(4)), (4, 3, 5)),
    ("group bias", lambda lib, x: lib.nn.functional.group_norm(
        x, 3, bias=lib.ones(2)), (2, 3)),
    ("group dims", lambda lib, x: lib.nn.functional.group_norm(x, 1), (3,)),
    ("group values", lambda lib, x: lib.nn.functional.group_norm(x, 3), (1, 3)),
    ("lrn dims", lambda lib, x: lib.nn.functional.local_response_norm(x, 3), (2, 5)),
]


@pytest.mark.parametrize(("name", "call", "shape"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(torch: Any, name: str, call: Any, shape: tuple[int, ...]) -> None:
    x = RNG.standard_normal(shape).astype(np.float32)
    ours = autodiff.tensor(x, requires_grad=True)
    same_error(lambda: call(autodiff, ours), lambda: call(torch, torch.tensor(x)))
    np.testing.assert_array_equal(ours.detach().numpy(), x)


def test_batch_norm_error_leaves_running_statistics_unchanged() -> None:
    mean, var = autodiff.zeros(3), autodiff.ones(3)
    with pytest.raises(RuntimeError):
        F.batch_norm(autodiff.randn(4, 3), mean, var, weight=autodiff.ones(4), training=True)
    assert mean.tolist() == [0.0] * 3 and var.tolist() == [1.0] * 3


# ----------------------------------------------------------------------------- layers
@pytest.mark.parametrize(("name", "options", "shape"), [
    ("BatchNorm1d", {}, (8, 3)),
    ("BatchNorm1d", dict(momentum=None), (8, 3, 4)),
    ("BatchNorm2d", dict(affine=False), (4, 3, 3, 2)),
    ("BatchNorm2d", dict(track_running_stats=False), (4, 3, 3, 2)),
    ("BatchNorm3d", dict(momentum=0.5, eps=1e-3, bias=False), (2, 3, 2, 2, 2)),
    ("InstanceNorm1d", dict(affine=True), (4, 3, 5)),
    ("InstanceNorm2d", dict(track_running_stats=True), (4, 3, 3, 2)),
    ("InstanceNorm2d", {}, (3, 3, 2)),
    ("InstanceNorm3d", dict(affine=True, track_running_stats=True), (2, 3, 2, 2, 3)),
])
def test_norm_layers_match_torch_in_training_and_evaluation(
        torch: Any, name: str, options: dict[str, Any], shape: tuple[int, ...]) -> None:
    ours, theirs = getattr(nn, name)(3, **options), getattr(torch.nn, name)(3, **options)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for step in range(3):  # running statistics over several batches (cumulative average too)
        x = RNG.standard_normal(shape)
        compare(torch, ours, theirs, [x.astype(np.float32)], atol=1e-5, rtol=1e-4)
        ours.zero_grad()
        theirs.zero_grad()
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(),
                                       rtol=1e-5, atol=1e-6, err_msg=f"{key} after {step}")
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal(shape).astype(np.float32)
    compare(torch, ours, theirs, [x], atol=1e-5, rtol=1e-4)
    if name.startswith("BatchNorm") and "num_batches_tracked" in ours.state_dict():
        tracked = ours.state_dict()["num_batches_tracked"]
        assert tracked.dtype is autodiff.int64 and tracked.item() == 3


def test_group_norm_and_lrn_layers_match_torch(torch: Any) -> None:
    for ours, theirs, shape in [
        (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4), (3, 4, 5)),
        (nn.GroupNorm(3, 6, affine=False), torch.nn.GroupNorm(3, 6, affine=False), (2, 6, 2, 2)),
        (nn.GroupNorm(1, 2, bias=False), torch.nn.GroupNorm(1, 2, bias=False), (2, 2, 3)),
        (nn.LocalResponseNorm(2), torch.nn.LocalResponseNorm(2), (2, 5, 3, 3)),
    ]:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        compare(torch, ours, theirs, [RNG.standard_normal(shape).astype(np.float32)],
                atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(("layer", "shape", "message"), [
    (lambda: nn.BatchNorm1d(3), (2, 3, 4, 5), "expected 2D or 3D input (got 4D input)"),
    (lambda: nn.BatchNorm2d(3), (2, 3, 4), "expected 4D input (got 3D input)"),
    (lambda: nn.BatchNorm3d(3), (2, 3, 4), "expected 5D input (got 3D input)"),
    (lambda: nn.InstanceNorm2d(3), (3, 4), "expected 3D or 4D input (got 2D input)"),
    (lambda: nn.InstanceNorm1d(4, affine=True), (2, 3, 5),
     "expected input's size at dim=1 to match num_features (4), but got: 3."),
    (lambda: nn.GroupNorm(2, 3), None, "num_channels (3) must be divisible by num_groups (2)"),
])
def test_layer_errors(layer: Any, shape: tuple[int, ...] | None, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        layer()(autodiff.randn(*shape))  # type: ignore[misc]
    assert str(raised.value) == message


def test_instance_norm_warns_when_num_features_is_unused() -> None:
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(autodiff.randn(2, 3, 5))


def test_batch_norm_state_dict_round_trip_and_reset(device: str) -> None:
    layer = nn.BatchNorm2d(3).to(device)
    for _ in range(2):
        layer(autodiff.randn(4, 3, 2, 2, device=device))
    state = layer.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var",
                           "num_batches_tracked"]
    assert state["num_batches_tracked"].item() == 2
    fresh = nn.BatchNorm2d(3).to(device)
    fresh.load_state_dict(state)
    fresh.eval()
    layer.eval()
    x = autodiff.randn(2, 3, 2, 2, device=device)
    np.testing.assert_array_equal(fresh(x).detach().cpu().numpy(),
                                  layer(x).detach().cpu().numpy())
    layer.reset_running_stats()
    assert layer.num_batches_tracked.item() == 0
    assert layer.running_var.cpu().tolist() == [1.0, 1.0, 1.0]


def test_cnn_block_on_every_device(device: str) -> None:
    autodiff.manual_seed(0)
    block = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4),
                          nn.LocalResponseNorm(2)).to(device)
    x = autodiff.randn(3, 1, 6, 6, device=device)
    out = block(x)
    assert tuple(out.shape) == (3, 4, 3, 3) and out.device == x.device
    out.square().sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    assert block[1].running_mean.device == x.device


def test_sync_batch_norm_in_one_process_is_batch_norm() -> None:
    """SyncBatchNorm.convert_sync_batchnorm shares the BatchNorm's parameters and running
    statistics; without a process group it normalizes as BatchNorm does; PyTorch's checks."""
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3, momentum=None))
    reference = nn.BatchNorm1d(3, momentum=None)
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    sync = converted[1]
    assert type(sync) is nn.SyncBatchNorm and sync.weight is model[1].weight
    assert sync.running_mean is model[1].running_mean and sync.process_group is None
    assert repr(sync) == ("SyncBatchNorm(3, eps=1e-05, momentum=None, affine=True, bias=True, "
                          "track_running_stats=True)")
    x = autodiff.arange(12.0).reshape(4, 3).sin()
    np.testing.assert_allclose(sync(x).detach().numpy(), reference(x).detach().numpy())
    np.testing.assert_allclose(sync.running_var.numpy(), reference.running_var.numpy())
    assert sync.num_batches_tracked.item() == 1
    with pytest.raises(ValueError, match=r"^expected at least 2D input \(got 1D input\)$"):
        sync(autodiff.ones(3))
    with pytest.raises(ValueError, match=r"^SyncBatchNorm number of input channels should be "
                       r"non-zero$"):
        nn.SyncBatchNorm(0)(autodiff.ones(2, 0))
