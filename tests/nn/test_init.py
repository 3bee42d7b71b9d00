"""nn.init: PyTorch's bounds and gains, in-place writes, the device's own generator."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import init


def test_calculate_gain_table() -> None:
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("dtype", [autodiff.float32, autodiff.float64])
def test_uniform_and_normal_statistics(device: str, dtype: autodiff.dtype) -> None:
    autodiff.manual_seed(0)
    t = autodiff.empty(200, 300, device=device, dtype=dtype)
    data_before = t._data
    assert init.uniform_(t, -2.0, 3.0) is t and t._data is data_before  # written in place
    values = t.cpu().numpy()
    assert values.dtype == np.dtype(dtype.name)
    assert values.min() >= -2.0 and values.max() < 3.0
    assert abs(values.mean() - 0.5) < 0.05 and abs(values.std() - 5 / math.sqrt(12)) < 0.05
    init.normal_(t, mean=1.0, std=0.5)
    values = t.cpu().numpy()
    assert abs(values.mean() - 1.0) < 0.01 and abs(values.std() - 0.5) < 0.01
    init.constant_(t, 0.25)
    assert np.all(t.cpu().numpy() == 0.25)
    init.zeros_(t)
    assert np.all(t.cpu().numpy() == 0)
    init.ones_(t)
    assert np.all(t.cpu().numpy() == 1)


def test_fans_and_bounds_of_xavier_and_kaiming(device: str) -> None:
    autodiff.manual_seed(1)
    w = autodiff.empty(400, 250, device=device)  # fan_in 250, fan_out 400
    init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 650)
    values = w.cpu().numpy()
    assert values.max() <= bound and values.min() >= -bound and values.max() > 0.98 * bound
    init.xavier_normal_(w)
    assert abs(w.cpu().numpy().std() - math.sqrt(2 / 650)) < 0.002
    init.kaiming_uniform_(w, a=0, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 250)
    values = w.cpu().numpy()
    assert values.max() <= bound and values.max() > 0.98 * bound
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.cpu().numpy().std() - math.sqrt(2 / 400)) < 0.002
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of "
                       r"\['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(w, mode="fan_avg")
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor "
                       "with fewer than 2 dimensions"):
        init.xavier_uniform_(autodiff.empty(3))
    conv = autodiff.empty(8, 4, 3, 3)  # receptive field 9: fan_in 36, fan_out 72
    assert init._calculate_fan_in_and_fan_out(conv) == (36, 72)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(autodiff.empty(0, 3))


def test_init_follows_manual_seed_and_touches_no_graph() -> None:
    autodiff.manual_seed(7)
    first = nn.Linear(5, 3)
    autodiff.manual_seed(7)
    second = nn.Linear(5, 3)
    np.testing.assert_array_equal(first.weight.detach().numpy(), second.weight.detach().numpy())
    np.testing.assert_array_equal(first.bias.detach().numpy(), second.bias.detach().numpy())
    assert first.weight.is_leaf and first.weight.grad_fn is None


def test_linear_default_initialisation_bounds() -> None:
    """PyTorch's default: weight and bias both U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    autodiff.manual_seed(3)
    layer = nn.Linear(64, 512)
    bound = 1 / math.sqrt(64)
    weight = layer.weight.detach().numpy()
    bias = layer.bias.detach().numpy()
    assert weight.shape == (512, 64) and bias.shape == (512,)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.99 * bound
    assert np.abs(bias).max() <= bound and np.abs(bias).max() > 0.95 * bound
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.002
    assert nn.Linear(3, 2, bias=False).bias is None


def test_embedding_and_layer_norm_initialisation() -> None:
    autodiff.manual_seed(0)
    embedding = nn.Embedding(1000, 16, padding_idx=3)
    weight = embedding.weight.detach().numpy()
    assert np.all(weight[3] == 0) and abs(weight.std() - 1) < 0.02
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    norm = nn.LayerNorm((2, 3))
    assert np.all(norm.weight.detach().numpy() == 1) and np.all(norm.bias.detach().numpy() == 0)
    assert nn.LayerNorm(3, elementwise_affine=False).weight is None
    assert nn.LayerNorm(3, bias=False).bias is None
    frozen = nn.Embedding.from_pretrained(autodiff.ones(4, 2))
    assert not frozen.weight.requires_grad and frozen.num_embeddings == 4


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


@pytest.mark.parametrize(("mean", "std", "a", "b"), [
    (0.0, 1.0, -2.0, 2.0),  # most of the mass inside: normals redrawn outside [a, b]
    (0.5, 2.0, 1.0, 1.5),  # little mass inside: uniform proposals, accepted by pdf ratio
    (0.0, 1.0, 2.0, 3.0),  # a tail
])
def test_trunc_normal_draws_the_truncated_distribution(mean: float, std: float, a: float,
                                                       b: float, device: str) -> None:
    autodiff.manual_seed(11)
    t = autodiff.empty(40000, device=device, dtype=autodiff.float64)
    data = t._data
    assert init.trunc_normal_(t, mean, std, a, b) is t and t._data is data
    values = np.sort(t.cpu().numpy())
    assert values.min() >= a and values.max() <= b
    # Kolmogorov-Smirnov distance to the truncated normal CDF (the 0.1% critical value for
    # 40000 draws is about 0.0098).
    low, high = _normal_cdf(np.array([(a - mean) / std, (b - mean) / std]))
    cdf = (_normal_cdf((values - mean) / std) - low) / (high - low)
    empirical = np.arange(1, values.size + 1) / values.size
    assert np.max(np.abs(cdf - empirical)) < 0.0098


def test_trunc_normal_warns_far_from_its_interval_and_keeps_float32() -> None:
    with pytest.warns(UserWarning, match=r"mean is more than 2 std from \[a, b\] in "
                                         "nn.init.trunc_normal_"):
        t = init.trunc_normal_(autodiff.empty(100), mean=10.0)
    values = t.numpy()
    assert t.dtype == autodiff.float32 and values.min() >= -2 and values.max() <= 2


def test_dirac_is_the_identity_convolution(device: str) -> None:
    for shape, groups in [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((2, 3, 1, 3, 3), 1)]:
        w = init.dirac_(autodiff.empty(*shape, device=device), groups=groups)
        values = w.cpu().numpy()
        out_per_group = shape[0] // groups
        centre = tuple(size // 2 for size in shape[2:])
        expected = np.zeros(shape, dtype=np.float32)
        for group in range(groups):
            for channel in range(min(out_per_group, shape[1])):
                expected[(group * out_per_group + channel, channel, *centre)] = 1
        np.testing.assert_array_equal(values, expected)
    # The identity: a same-padded cross-correlation with it returns its input.
    x = np.random.default_rng(0).standard_normal((4, 9))
    w = init.dirac_(autodiff.empty(4, 4, 3)).numpy()
    padded = np.pad(x, ((0, 0), (1, 1)))
    windows = np.stack([padded[:, k:k + 9] for k in range(3)], axis=-1)  # (in, time, k)
    np.testing.assert_allclose(np.einsum("oik,itk->ot", w, windows), x, atol=1e-6)
    integer = init.dirac_(autodiff.zeros(3, 3, 3, dtype=autodiff.int64))
    assert integer.dtype == autodiff.int64 and integer.numpy()[:, :, 1].tolist() == \
        np.eye(3, dtype=np.int64).tolist()
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
        init.dirac_(autodiff.empty(3, 3))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(autodiff.empty(3, 3, 3), groups=2)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3), (6, 6)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape: tuple[int, ...],
                                                      device: str) -> None:
    autodiff.manual_seed(2)
    w = init.orthogonal_(autodiff.empty(*shape, device=device, dtype=autodiff.float64), gain=2.0)
    matrix = w.cpu().numpy().reshape(shape[0], -1)
    rows, cols = matrix.shape
    gram = matrix @ matrix.T if rows <= cols else matrix.T @ matrix
    np.testing.assert_allclose(gram, 4 * np.eye(min(rows, cols)), atol=1e-12)
    # Uniform (Haar) over the orthogonal matrices: the signs fixed by R's diagonal make the
    # first column's first entry symmetric about 0 over many draws.
    firsts = [init.orthogonal_(autodiff.empty(3, 3, device=device)).cpu().numpy()[0, 0]
              for _ in range(200)]
    assert abs(np.mean(np.sign(firsts))) < 0.25
    assert init.orthogonal_(autodiff.empty(0, 3)).shape == (0, 3)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(autodiff.empty(3))


def test_sparse_zeroes_a_fraction_of_each_column(device: str) -> None:
    autodiff.manual_seed(4)
    w = init.sparse_(autodiff.empty(10, 400, device=device), sparsity=0.25, std=0.5)
    values = w.cpu().numpy()
    assert np.all((values == 0).sum(axis=0) == 3)  # ceil(0.25 * 10) per column
    nonzero = values[values != 0]
    assert abs(nonzero.std() - 0.5) < 0.02 and abs(nonzero.mean()) < 0.02
    # Which rows are zeroed differs from column to column.
    assert len({tuple(np.flatnonzero(column == 0)) for column in values.T}) > 50
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.sparse_(autodiff.empty(3), 0.1)


def test_random_fills_refuse_integer_tensors_as_pytorch() -> None:
    integer = autodiff.zeros(3, 3, dtype=autodiff.int64)
    for fill in (init.normal_, init.trunc_normal_, init.orthogonal_,
                 lambda t: init.sparse_(t, 0.5)):
        with pytest.raises(NotImplementedError,
                           match="\"normal_kernel_cpu\" not implemented for 'Long'"):
            fill(integer)
    with pytest.raises(NotImplementedError,
                       match="\"check_uniform_bounds\" not implemented for 'Long'"):
        init.uniform_(integer)
    torch = pytest.importorskip("torch")
    for name in ("normal_", "trunc_normal_", "orthogonal_", "uniform_"):
        with pytest.raises(NotImplementedError) as ours:
            getattr(init, name)(integer)
        with pytest.raises(NotImplementedError) as theirs:
            getattr(torch.nn.init, name)(torch.zeros(3, 3, dtype=torch.int64))
        assert str(ours.value) == str(theirs.value)


FILLS = {
    "trunc_normal_": lambda t, g: init.trunc_normal_(t, 0.5, 1.0, -1.0, 1.5, generator=g),
    "trunc_normal_ tail": lambda t, g: init.trunc_normal_(t, 0.0, 1.0, 2.0, 3.0, generator=g),
    "orthogonal_": lambda t, g: init.orthogonal_(t, generator=g),
    "sparse_": lambda t, g: init.sparse_(t, 0.3, generator=g),
}


@pytest.mark.parametrize("name", sorted(FILLS))
def test_a_generator_repeats_the_fill_and_leaves_the_default_alone(name: str,
                                                                   device: str) -> None:
    fill = FILLS[name]
    generator = autodiff.Generator(device).manual_seed(5)
    default = autodiff.Generator._default(autodiff.empty(0, device=device)._backend)
    before = default.get_state().tolist()
    first = fill(autodiff.empty(6, 4, device=device), generator).cpu().numpy()
    assert default.get_state().tolist() == before  # the default stream did not move
    second = fill(autodiff.empty(6, 4, device=device), generator).cpu().numpy()
    assert not np.array_equal(first, second)
    again = fill(autodiff.empty(6, 4, device=device), generator.manual_seed(5)).cpu().numpy()
    np.testing.assert_array_equal(again, first)


def test_a_generator_argument_is_checked_as_pytorch() -> None:
    with pytest.raises(TypeError, match=r"^normal_\(\): argument 'generator' must be "
                                        r"torch\.Generator, not int$"):
        init.orthogonal_(autodiff.empty(3, 3), generator=3)
    target = autodiff.zeros(3, 3, device="strict:1")
    for fill in FILLS.values():
        with pytest.raises(RuntimeError, match="Expected a 'strict' device type for generator "
                                               "but found 'cpu'"):
            fill(target, autodiff.Generator("cpu"))
    assert target.tolist() == [[0.0] * 3] * 3  # refused before anything was written
    torch = pytest.importorskip("torch")
    for name in ("trunc_normal_", "orthogonal_", "sparse_"):
        args = (0.5,) if name == "sparse_" else ()
        with pytest.raises(TypeError) as ours:
            getattr(init, name)(autodiff.empty(3, 3), *args, generator=3)
        with pytest.raises(TypeError) as theirs:
            getattr(torch.nn.init, name)(torch.empty(3, 3), *args, generator=3)
        assert str(ours.value) == str(theirs.value)


def test_skip_init_makes_the_module_without_initializing_it() -> None:
    calls = []
    original = autodiff.nn.init.kaiming_uniform_

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0].device.type)
        return original(*args, **kwargs)

    autodiff.nn.init.kaiming_uniform_ = counting
    try:
        made = autodiff.nn.utils.skip_init(autodiff.nn.Linear, 5, 3)
        keywords = autodiff.nn.utils.skip_init(autodiff.nn.Linear, in_features=6,
                                               out_features=1, bias=False)
    finally:
        autodiff.nn.init.kaiming_uniform_ = original
    assert calls == ["meta", "meta"]  # initialization ran on the meta device only
    assert made.weight.shape == (3, 5) and made.weight.device.type == "cpu"
    assert isinstance(made.weight, autodiff.nn.Parameter) and made.weight.requires_grad
    assert keywords.weight.shape == (1, 6) and keywords.bias is None


def test_skip_init_refusals() -> None:
    class NoDevice(autodiff.nn.Module):
        def __init__(self) -> None:
            super().__init__()

    with pytest.raises(RuntimeError, match=r"^Module must support a 'device' arg to skip "
                                           r"initialization$"):
        autodiff.nn.utils.skip_init(NoDevice)
    with pytest.raises(RuntimeError, match=r"^Expected a Module; got <class 'int'>$"):
        autodiff.nn.utils.skip_init(int)
