"""autodiff.onnx.export of losses, normalizations with batch statistics, weight_norm, average
pooling with other divisors, vector norms, matrix products with beta/alpha and k-th values:
onnxruntime equals eager (shape, dtype, values), with a dynamic batch."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff import nn

onnxruntime = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def _random(*shape: int, seed: int = 0, low: float = -2.0, high: float = 2.0):
    rng = np.random.default_rng(seed)
    return autodiff.tensor(rng.uniform(low, high, size=shape), dtype=autodiff.float32)


def _same(model, inputs: list, batches: list[list], dynamic: bool = True,
          rtol: float = 1e-5) -> bytes:
    """Exports `model(*inputs)` (axis 0 of every input dynamic) and checks each batch."""
    names = [f"x{index}" for index in range(len(inputs))]
    with autodiff.no_grad():
        result = model(*inputs)
    count = 1 if isinstance(result, autodiff.Tensor) else len(result)
    outputs = [f"y{index}" for index in range(count)]
    axes = {name: [0] for name in names} if dynamic else {}
    buffer = io.BytesIO()
    autodiff.onnx.export(model, tuple(inputs), buffer, input_names=names, output_names=outputs,
                         dynamic_axes=axes)
    session = onnxruntime.InferenceSession(buffer.getvalue(),
                                           providers=["CPUExecutionProvider"])
    for batch in [inputs, *batches]:
        got = session.run(None, {name: tensor.numpy() for name, tensor in zip(names, batch)})
        with autodiff.no_grad():
            expected = model(*batch)
        expected = [expected] if isinstance(expected, autodiff.Tensor) else list(expected)
        for value, reference in zip(got, expected):
            reference = reference.numpy()
            assert value.shape == reference.shape and value.dtype == reference.dtype
            np.testing.assert_allclose(value, reference, rtol=rtol, atol=1e-6)
    return buffer.getvalue()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", [
    F.mse_loss, lambda x, y, **kw: F.huber_loss(x, y, delta=0.7, **kw),
    lambda x, y, **kw: F.smooth_l1_loss(x, y, beta=0.4, **kw),
    lambda x, y, **kw: F.smooth_l1_loss(x, y, beta=0.0, **kw),
    lambda x, y, **kw: F.soft_margin_loss(x, y.sign(), **kw),
    lambda x, y, **kw: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), **kw),
    lambda x, y, **kw: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(),
                                              weight=autodiff.tensor([0.5, 2.0, 1.0]), **kw),
    lambda x, y, **kw: F.binary_cross_entropy_with_logits(x * 20, y.sigmoid(), **kw),
    lambda x, y, **kw: F.binary_cross_entropy_with_logits(
        x * 20, y.sigmoid(), weight=autodiff.tensor([0.5, 2.0, 1.0]),
        pos_weight=autodiff.tensor([3.0, 1.0, 0.25]), **kw),
], ids=["mse", "huber", "smooth_l1", "smooth_l1_beta0", "soft_margin", "bce", "bce_weight",
        "bce_logits", "bce_logits_weights"])
def test_losses(loss, reduction: str) -> None:
    def model(x, y):
        return loss(x, y, reduction=reduction)

    _same(model, [_random(4, 3), _random(4, 3, seed=1)],
          [[_random(7, 3, seed=2), _random(7, 3, seed=3)]])


def test_binary_cross_entropy_clamps_its_logs() -> None:
    """log(0) is -inf: PyTorch clamps each log at -100."""
    def model(x, y):
        return F.binary_cross_entropy(x, y, reduction="none")

    x = autodiff.tensor([[0.0, 1.0, 0.5], [1.0, 0.0, 1e-30]])
    y = autodiff.tensor([[1.0, 0.0, 0.5], [1.0, 0.0, 1.0]])
    _same(model, [x, y], [], dynamic=False)


def test_a_mean_loss_of_nothing_is_nan() -> None:
    _same(F.mse_loss, [_random(0, 3), _random(0, 3, seed=1)], [], dynamic=False)


def test_unbatched_cross_entropy() -> None:
    target = autodiff.tensor(2)

    def model(x):
        return F.cross_entropy(x, target), F.cross_entropy(x, target, reduction="none")

    _same(model, [_random(5)], [], dynamic=False)


# ----------------------------------------------------------------------------- normalization
@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_with_batch_statistics(shape) -> None:
    weight, bias = _random(3, seed=5), _random(3, seed=6)

    def model(x):
        return F.batch_norm(x, None, None, weight, bias, training=True, eps=1e-3)

    _same(model, [_random(*shape)], [[_random(7, *shape[1:], seed=1) * 10 + 3]])


def test_instance_norm() -> None:
    """(instance_norm repeats its weight once per sample: the batch cannot be dynamic)"""
    model = nn.InstanceNorm2d(3, affine=True)
    with autodiff.no_grad():
        model.weight.copy_(_random(3, seed=1))
        model.bias.copy_(_random(3, seed=2))
    _same(model, [_random(2, 3, 4, 5)], [[_random(2, 3, 4, 5, seed=3)]], dynamic=False)
    with pytest.raises(autodiff.onnx.UnsupportedOperatorError, match=r"aten::repeat.*dynamic"):
        _same(model, [_random(2, 3, 4, 5)], [])


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_module(dim) -> None:
    model = nn.utils.weight_norm(nn.Linear(4, 3), dim=dim)
    _same(model, [_random(2, 4)], [[_random(6, 4, seed=1)]])


# ----------------------------------------------------------------------------- pooling
@pytest.mark.parametrize(("options", "shape"), [
    ({"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
      "count_include_pad": False}, (2, 3, 6, 5)),
    ({"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 6, 5)),
    ({"kernel_size": 2, "divisor_override": 3}, (2, 3, 6, 5)),
    ({"kernel_size": (2, 3), "padding": (1, 0), "count_include_pad": False}, (3, 6, 5)),
])
def test_avg_pool2d_divisors(options, shape) -> None:
    def model(x):
        return F.avg_pool2d(x, **options)

    _same(model, [_random(*shape)], [[_random(4, *shape[1:], seed=1)]])


def test_avg_pool1d_and_3d_excluding_the_padding() -> None:
    def model(x, y):
        return (F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
                F.avg_pool3d(y, 2, 1, 1, count_include_pad=False))

    _same(model, [_random(2, 3, 7), _random(2, 2, 3, 3, 2)],
          [[_random(3, 3, 7, seed=1), _random(3, 2, 3, 3, 2, seed=2)]])


# ----------------------------------------------------------------------------- norms
@pytest.mark.parametrize("order", [0, 1, 2, 3, 0.5, -1, math.inf, -math.inf])
def test_vector_norms(order: float) -> None:
    def model(x):
        return (autodiff.linalg.vector_norm(x, order, dim=1),
                autodiff.linalg.vector_norm(x, order, dim=(1, 2), keepdim=True),
                autodiff.norm(x, p=order) if order not in (-1, 0.5) else x.sum(),
                autodiff.dist(x, x.flip(0), p=order))

    x = _random(3, 4, 5)
    x[0, 1, 2] = 0.0
    _same(model, [x], [[_random(3, 4, 5, seed=1)]], dynamic=False)


def test_pairwise_distance_and_triplet_margin_loss() -> None:
    def model(a, p, n):
        return F.pairwise_distance(a, p), F.triplet_margin_loss(a, p, n)

    _same(model, [_random(4, 6), _random(4, 6, seed=1), _random(4, 6, seed=2)],
          [[_random(2, 6, seed=3), _random(2, 6, seed=4), _random(2, 6, seed=5)]])


def test_aminmax_nansum_and_kthvalue() -> None:
    """(nanmean's mask comes from isnan, which the export does not see: not exported here)"""
    def model(x):
        low, high = autodiff.aminmax(x, dim=1, keepdim=True)
        values, indices = autodiff.kthvalue(x, 2, dim=1)
        whole = autodiff.aminmax(x)
        return (low, high, whole.min, whole.max, values, indices,
                autodiff.nansum(x.log(), dim=1))

    _same(model, [_random(3, 5)], [[_random(6, 5, seed=1)]])


# ----------------------------------------------------------------------------- products
def test_scaled_products_and_beta_zero_ignores_nan() -> None:
    """beta=0: the input is not read (its NaN does not reach the result), as PyTorch."""
    nan_matrix = autodiff.full((3, 5), math.nan)

    def model(v, m, b1, b2):
        return (autodiff.addmv(v[0, :3], m, v[0], beta=2, alpha=0.5),
                autodiff.addr(m, v[0, :3], v[1], beta=-1, alpha=3),
                autodiff.addbmm(nan_matrix, b1, b2, beta=0, alpha=2),
                autodiff.baddbmm(b1 @ b2, b1, b2, beta=0.5, alpha=2),
                autodiff.vdot(v[0], v[1]))

    _same(model, [_random(2, 4), _random(3, 4, seed=1), _random(2, 3, 4, seed=2),
                  _random(2, 4, 5, seed=3)], [], dynamic=False)


def test_bilinear_module_with_a_dynamic_batch() -> None:
    model = nn.Bilinear(4, 5, 6)
    _same(model, [_random(3, 4), _random(3, 5, seed=1)],
          [[_random(7, 4, seed=2), _random(7, 5, seed=3)]])


# ----------------------------------------------------------------------------- multi-class margins
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_with_a_dynamic_batch(p: int, reduction: str) -> None:
    weight = autodiff.tensor([0.5, 2.0, 1.0, 1.5])

    def model(x, y):
        return F.multi_margin_loss(x, y, p=p, margin=0.8, weight=weight, reduction=reduction)

    _same(model, [_random(3, 4), autodiff.tensor([0, 3, 1])],
          [[_random(5, 4, seed=1), autodiff.tensor([2, 2, 0, 1, 3])]])


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_multi_margin_loss_of_one_sample(reduction: str) -> None:
    _same(lambda x, y: F.multi_margin_loss(x, y, reduction=reduction),
          [_random(4), autodiff.tensor([2])], [[_random(4, seed=1), autodiff.tensor([0])]],
          dynamic=False)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss_stops_at_each_rows_first_minus_one(reduction: str) -> None:
    """Labels are an input: each row's labels end at its first -1 (a label listed twice
    counts twice, as PyTorch's kernel counts it)."""
    def model(x, y):
        return F.multilabel_margin_loss(x, y, reduction=reduction)

    labels = autodiff.tensor([[3, 0, -1, 1], [1, 1, 2, -1], [0, 1, 2, 3]])
    _same(model, [_random(3, 4), labels],
          [[_random(2, 4, seed=1), autodiff.tensor([[-1, 0, 1, 2], [2, -1, -1, 0]])]])
    _same(model, [_random(4), autodiff.tensor([1, -1, 0, 0])],
          [[_random(4, seed=2), autodiff.tensor([3, 2, 1, -1])]], dynamic=False)
