"""Resampling and channel layers against PyTorch: interpolate in every mode (values,
gradients to second order, node names, errors), grid_sample and affine_grid, pixel and channel
shuffles, the padding layers, the dropout variants (structure and statistics, since random
streams differ), and the Upsample layers."""

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


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


RNG = np.random.default_rng(0)

INTERPOLATE = [
    ((2, 3, 5), dict(scale_factor=2)),
    ((2, 3, 5), dict(size=3)),
    ((2, 3, 4, 5), dict(scale_factor=(1.5, 0.6))),
    ((2, 3, 4, 5), dict(size=(7, 3), mode="nearest-exact")),
    ((1, 2, 2, 3, 4), dict(scale_factor=1.7)),
    ((2, 3, 5), dict(scale_factor=2.3, mode="linear")),
    ((2, 3, 5), dict(size=8, mode="linear", align_corners=True)),
    ((2, 3, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ((2, 3, 4, 5), dict(scale_factor=1.7, mode="bilinear", align_corners=True)),
    ((2, 3, 4, 5), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
    ((2, 3, 4, 5), dict(size=(9, 2), mode="bicubic")),
    ((2, 3, 4, 5), dict(scale_factor=2.5, mode="bicubic", align_corners=True)),
    ((1, 2, 3, 4, 2), dict(size=(4, 5, 3), mode="trilinear")),
    ((2, 3, 8, 9), dict(size=(3, 4), mode="area")),
    ((2, 3, 9), dict(scale_factor=0.4, mode="area")),
    ((2, 3, 10, 12), dict(size=(4, 5), mode="bilinear", antialias=True)),
    ((2, 3, 10, 12), dict(size=(4, 5), mode="bicubic", antialias=True)),
    ((2, 3, 10, 12), dict(size=(4, 15), mode="bicubic", antialias=True, align_corners=True)),
    ((2, 3, 10, 12), dict(size=(4, 5), mode="lanczos", antialias=True)),
    ((2, 3, 10, 12), dict(scale_factor=0.37, mode="bilinear", antialias=True)),
    ((2, 3, 4, 5), dict(size=(1, 3), mode="bicubic")),
    ((2, 3, 6, 7), dict(size=(1, 1), mode="bilinear", antialias=True)),
    ((2, 3, 6, 7), dict(scale_factor=(1.1, 0.5), mode="bilinear")),
]


@pytest.mark.parametrize(("shape", "options"), INTERPOLATE,
                         ids=[f"{o.get('mode', 'nearest')}-{i}"
                              for i, (_, o) in enumerate(INTERPOLATE)])
def test_interpolate_matches_torch(torch: Any, shape: tuple[int, ...],
                                   options: dict[str, Any]) -> None:
    compare(torch, lambda t: F.interpolate(t, **options),
            lambda t: torch.nn.functional.interpolate(t, **options),
            [RNG.standard_normal(shape)], second_order=True)


INTERPOLATE_ERRORS = [
    ((2, 3, 4), dict(size=0)),
    ((2, 3, 4, 4), dict(size=(0, 2))),
    ((2, 3, 4, 4, 4), dict(size=(0, 2, 2))),
    ((2, 3, 4, 4), dict(scale_factor=0.1, mode="bilinear")),
    ((2, 0, 4, 4), dict(scale_factor=2)),
    ((2, 3, 4, 4), dict(size=(2,))),
    ((2, 3, 4, 4), dict(size=(2, 2.5))),
    ((2, 3, 4, 4), dict(size=2, scale_factor=2)),
    ((2, 3, 4, 4), dict()),
    ((2, 3, 4, 4), dict(scale_factor=(2,))),
    ((2, 3, 4, 4), dict(size=2, recompute_scale_factor=True)),
    ((2, 3, 4, 4), dict(size=2, mode="nearest", align_corners=True)),
    ((2, 3, 4, 4), dict(size=2, mode="linear")),
    ((2, 3, 4), dict(size=2, mode="bilinear")),
    ((2, 3, 4, 4), dict(size=2, mode="trilinear")),
    ((2, 3, 4, 4), dict(size=2, mode="foo")),
    ((2, 3), dict(size=2)),
    ((2, 3, 4), dict(size=2, antialias=True, mode="bilinear")),
    ((2, 3, 8, 8), dict(size=3, mode="lanczos")),
    ((2, 3, 8, 8), dict(size=3, mode="lanczos", antialias=True, align_corners=True)),
]


@pytest.mark.parametrize(("shape", "options"), INTERPOLATE_ERRORS,
                         ids=[str(i) for i in range(len(INTERPOLATE_ERRORS))])
def test_interpolate_errors_match_torch(torch: Any, shape: tuple[int, ...],
                                        options: dict[str, Any]) -> None:
    x = RNG.standard_normal(shape)
    ours = autodiff.tensor(x, requires_grad=True)
    same_error(lambda: F.interpolate(ours, **options),
               lambda: torch.nn.functional.interpolate(torch.tensor(x, requires_grad=True),
                                                       **options))
    np.testing.assert_array_equal(ours.detach().numpy(), x)


def test_interpolate_dtype_errors_and_integer_nearest(torch: Any) -> None:
    same_error(lambda: F.interpolate(autodiff.ones(2, 3, 4, 4, dtype=autodiff.int64), size=3),
               lambda: torch.nn.functional.interpolate(torch.ones(2, 3, 4, 4,
                                                                  dtype=torch.int64), size=3))
    x = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
    ours = F.interpolate(autodiff.tensor(x), size=(7, 3))
    assert ours.dtype is autodiff.uint8
    np.testing.assert_array_equal(
        ours.numpy(), torch.nn.functional.interpolate(torch.tensor(x), size=(7, 3)).numpy())
    # and its fixed-point image path for the filters (tests/nn/test_interpolate_uint8.py)
    for mode in ("bilinear", "bicubic"):
        np.testing.assert_array_equal(
            F.interpolate(autodiff.tensor(x), size=(7, 3), mode=mode).numpy(),
            torch.nn.functional.interpolate(torch.tensor(x), size=(7, 3), mode=mode).numpy())


INTEGER_INPUTS = [
    (rank, dtype, mode, antialias)
    for rank in (3, 4, 5) for dtype in ("int32", "int64", "uint8", "bool")
    for mode in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear",
                 "area", "lanczos")
    for antialias in (False, True)
    if not antialias or (rank == 4 and mode in ("bilinear", "bicubic", "lanczos"))
]


@pytest.mark.parametrize(("rank", "dtype", "mode", "antialias"), INTEGER_INPUTS)
def test_interpolate_integer_inputs_match_torch(torch: Any, rank: int, dtype: str, mode: str,
                                                antialias: bool) -> None:
    # each rank and mode is refused by its own kernel's name (or by the rank check first),
    # except uint8 in the nearest modes and, 4-d, in the image path (bilinear, bicubic and
    # lanczos): there the values are PyTorch's
    shape, size = (1, 2, *[4] * (rank - 2)), [3] * (rank - 2)
    x = np.random.default_rng(rank).integers(0, 2 if dtype == "bool" else 200, shape)
    ours = autodiff.tensor(x).to(getattr(autodiff, dtype))
    theirs = torch.from_numpy(x).to(getattr(torch, dtype))
    options = dict(size=size, mode=mode, antialias=antialias)
    try:
        expected = torch.nn.functional.interpolate(theirs, **options)
    except (NotImplementedError, RuntimeError, ValueError):
        same_error(lambda: F.interpolate(ours, **options),
                   lambda: torch.nn.functional.interpolate(theirs, **options))
        return
    out = F.interpolate(ours, **options)
    assert dtype == "uint8" and out.dtype is autodiff.uint8
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("name", ["adaptive_avg_pool3d", "adaptive_max_pool3d",
                                  "adaptive_avg_pool2d", "adaptive_max_pool2d",
                                  "adaptive_avg_pool1d", "adaptive_max_pool1d"])
def test_adaptive_pool_integer_refusals_match_torch(torch: Any, name: str) -> None:
    shape = (1, 2, *[4] * int(name[-2]))
    same_error(lambda: getattr(F, name)(autodiff.ones(shape, dtype=autodiff.int32), 3),
               lambda: getattr(torch.nn.functional, name)(torch.ones(shape, dtype=torch.int32),
                                                          3))


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_matches_torch(torch: Any, mode: str, padding_mode: str,
                                   align_corners: bool) -> None:
    x, grid = RNG.standard_normal((2, 3, 4, 5)), RNG.uniform(-1.3, 1.3, (2, 3, 6, 2))
    options = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    compare(torch, lambda *t: F.grid_sample(*t, **options),
            lambda *t: torch.nn.functional.grid_sample(*t, **options), [x, grid],
            second_order=mode != "nearest")


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_3d_matches_torch(torch: Any, mode: str, padding_mode: str) -> None:
    x, grid = RNG.standard_normal((2, 2, 3, 4, 3)), RNG.uniform(-1.3, 1.3, (2, 2, 3, 2, 3))
    options = dict(mode=mode, padding_mode=padding_mode, align_corners=False)
    compare(torch, lambda *t: F.grid_sample(*t, **options),
            lambda *t: torch.nn.functional.grid_sample(*t, **options), [x, grid])


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_drives_grid_sample_as_torch(torch: Any, align_corners: bool) -> None:
    theta = np.array([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.2]]] * 2) + RNG.normal(0, 0.1, (2, 2, 3))
    x = RNG.standard_normal((2, 3, 5, 4))

    def run(library: Any, functional: Any) -> Any:
        def call(image: Any, matrix: Any) -> Any:
            grid = functional.affine_grid(matrix, (2, 3, 6, 5), align_corners=align_corners)
            return functional.grid_sample(image, grid, align_corners=align_corners)
        return call

    compare(torch, run(autodiff, F), run(torch, torch.nn.functional), [x, theta],
            second_order=True, check_name=True)


GRID_ERRORS = [
    ((2, 3, 4, 4), (3, 5, 6, 2), {}),
    ((2, 3, 4, 4), (2, 5, 6, 3), {}),
    ((2, 3, 4), (2, 5, 2), {}),
    ((2, 3, 4), (2, 5, 1), {}),
    ((2, 3, 4, 4, 4), (2, 5, 6, 2, 3), dict(mode="bicubic")),
    ((2, 3, 0, 4), (2, 5, 6, 2), {}),
    ((2, 3, 4, 4), (2, 5, 6, 2), dict(mode="foo")),
    ((2, 3, 4, 4), (2, 5, 6, 2), dict(padding_mode="foo")),
]


@pytest.mark.parametrize(("shape", "grid_shape", "options"), GRID_ERRORS,
                         ids=[str(i) for i in range(len(GRID_ERRORS))])
def test_grid_sample_errors_match_torch(torch: Any, shape: tuple[int, ...],
                                        grid_shape: tuple[int, ...],
                                        options: dict[str, Any]) -> None:
    x, grid = RNG.standard_normal(shape), RNG.standard_normal(grid_shape)
    same_error(lambda: F.grid_sample(autodiff.tensor(x), autodiff.tensor(grid),
                                     align_corners=False, **options),
               lambda: torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(grid),
                                                       align_corners=False, **options))


def test_grid_sample_dtype_errors_and_warning(torch: Any) -> None:
    same_error(lambda: F.grid_sample(autodiff.ones(1, 1, 2, 2), autodiff.zeros(
        1, 1, 1, 2, dtype=autodiff.float64), align_corners=False),
               lambda: torch.nn.functional.grid_sample(torch.ones(1, 1, 2, 2), torch.zeros(
                   1, 1, 1, 2, dtype=torch.float64), align_corners=False))
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        F.grid_sample(autodiff.ones(1, 1, 2, 2), autodiff.zeros(1, 1, 1, 2))


@pytest.mark.parametrize(("theta", "size"), [
    ((2, 2, 3), (2, 3, 4, 5, 6)), ((2, 3, 3), (2, 3, 4, 5)), ((2, 2, 3), (2, 3, 4)),
    ((2, 2, 3), (2, 3, 0, 5)), ((3, 2, 3), (2, 3, 4, 5)),
])
def test_affine_grid_errors_match_torch(torch: Any, theta: tuple[int, ...],
                                        size: tuple[int, ...]) -> None:
    values = RNG.standard_normal(theta)
    same_error(lambda: F.affine_grid(autodiff.tensor(values), size, align_corners=False),
               lambda: torch.nn.functional.affine_grid(torch.tensor(values), size,
                                                       align_corners=False))
    same_error(lambda: F.affine_grid(autodiff.ones(2, 2, 3, dtype=autodiff.int64),
                                     (2, 3, 4, 5), align_corners=False),
               lambda: torch.nn.functional.affine_grid(torch.ones(2, 2, 3, dtype=torch.int64),
                                                       (2, 3, 4, 5), align_corners=False))


# ----------------------------------------------------------------------------- shuffles, pads
@pytest.mark.parametrize(("name", "arg", "shape"), [
    ("pixel_shuffle", 2, (2, 8, 3, 3)), ("pixel_shuffle", 3, (9, 2, 2)),
    ("pixel_shuffle", 2, (2, 2, 8, 3, 3)), ("pixel_unshuffle", 2, (2, 2, 4, 6)),
    ("channel_shuffle", 2, (2, 4, 3, 3)), ("channel_shuffle", 3, (2, 6, 5)),
])
def test_shuffles_match_torch(torch: Any, name: str, arg: int, shape: tuple[int, ...]) -> None:
    compare(torch, lambda t: getattr(F, name)(t, arg),
            lambda t: getattr(torch.nn.functional, name)(t, arg), [RNG.standard_normal(shape)],
            second_order=True)


@pytest.mark.parametrize(("name", "arg", "shape"), [
    ("pixel_shuffle", 2, (2, 7, 3, 3)), ("pixel_shuffle", 2, (2, 3)),
    ("pixel_shuffle", 0, (2, 8, 3, 3)), ("pixel_unshuffle", 2, (2, 2, 5, 4)),
    ("pixel_unshuffle", 2, (2, 2, 4, 5)), ("pixel_unshuffle", 2, (2, 2)),
    ("pixel_unshuffle", 0, (2, 2, 4, 4)), ("channel_shuffle", 2, (2, 4)),
    ("channel_shuffle", 3, (2, 4, 3)), ("channel_shuffle", 0, (2, 4, 3)),
])
def test_shuffle_errors_match_torch(torch: Any, name: str, arg: int,
                                    shape: tuple[int, ...]) -> None:
    x = RNG.standard_normal(shape)
    same_error(lambda: getattr(F, name)(autodiff.tensor(x), arg),
               lambda: getattr(torch.nn.functional, name)(torch.tensor(x), arg))


PAD_LAYERS = [
    ("ZeroPad1d", (1,), (2, 3, 4)), ("ZeroPad2d", ((1, 2, 3, 0),), (2, 3, 4, 4)),
    ("ZeroPad3d", (1,), (1, 2, 2, 3, 2)), ("ConstantPad1d", (2, 3.5), (2, 3, 4)),
    ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (2, 3, 4)),
    ("ConstantPad3d", (1, 1.0), (1, 2, 2, 3, 2)), ("ReflectionPad1d", (2,), (2, 3, 4)),
    ("ReflectionPad2d", ((1, 2, 0, 1),), (2, 3, 4, 4)),
    ("ReflectionPad3d", (1,), (1, 2, 2, 3, 2)), ("ReplicationPad1d", (2,), (3, 4)),
    ("ReplicationPad2d", ((1, 2, 3, 0),), (2, 3, 4, 4)),
    ("ReplicationPad3d", (1,), (1, 2, 2, 3, 2)), ("CircularPad1d", (2,), (2, 3, 4)),
    ("CircularPad2d", ((1, 2, 0, 1),), (2, 3, 4, 4)),
    ("CircularPad3d", (1,), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize(("name", "args", "shape"), PAD_LAYERS, ids=[p[0] for p in PAD_LAYERS])
def test_padding_layers_match_torch(torch: Any, name: str, args: tuple[Any, ...],
                                    shape: tuple[int, ...]) -> None:
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    compare(torch, ours, theirs, [RNG.standard_normal(shape)], second_order=True)


def test_circular_padding_errors_match_torch(torch: Any) -> None:
    x = RNG.standard_normal((2, 3, 4))
    for pad in ((5, 2), (-3, -2)):
        same_error(lambda p=pad: F.pad(autodiff.tensor(x), p, mode="circular"),
                   lambda p=pad: torch.nn.functional.pad(torch.tensor(x), p, mode="circular"))
    same_error(lambda: nn.CircularPad2d(1)(autodiff.tensor(x[0, 0])),
               lambda: torch.nn.CircularPad2d(1)(torch.tensor(x[0, 0])))


def test_shuffle_and_upsample_layers_match_torch(torch: Any) -> None:
    for ours, theirs, shape in [
        (nn.PixelShuffle(2), torch.nn.PixelShuffle(2), (2, 8, 3, 3)),
        (nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2), (2, 2, 4, 4)),
        (nn.ChannelShuffle(2), torch.nn.ChannelShuffle(2), (2, 4, 3, 3)),
        (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2), (2, 3, 3, 4)),
        (nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True),
         torch.nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True), (2, 3, 5, 6)),
        (nn.Upsample(scale_factor=(2.0, 1.5), mode="bicubic"),
         torch.nn.Upsample(scale_factor=(2.0, 1.5), mode="bicubic"), (1, 2, 3, 4)),
        (nn.UpsamplingNearest2d(scale_factor=2), torch.nn.UpsamplingNearest2d(scale_factor=2),
         (2, 3, 3, 4)),
        (nn.UpsamplingBilinear2d(size=5), torch.nn.UpsamplingBilinear2d(size=5), (2, 3, 3, 4)),
    ]:
        assert repr(ours) == repr(theirs)
        compare(torch, ours, theirs, [RNG.standard_normal(shape)])


# ----------------------------------------------------------------------------- dropout variants
def test_channel_dropout_zeroes_whole_channels(device: str) -> None:
    autodiff.manual_seed(0)
    for function, shape in ((F.dropout1d, (8, 16, 5)), (F.dropout2d, (8, 16, 3, 4)),
                            (F.dropout3d, (8, 16, 2, 3, 2)), (F.dropout1d, (16, 5)),
                            (F.dropout3d, (16, 2, 3, 2))):
        x = autodiff.ones(*shape, device=device, requires_grad=True)
        out = function(x, 0.25, True)
        values = out.detach().cpu().numpy()
        lead = 1 if (function is F.dropout1d and len(shape) == 2) or \
            (function is F.dropout3d and len(shape) == 4) else 2
        per_channel = values.reshape(*shape[:lead], -1)
        # Each channel is all 0 or all 1 / (1 - p).
        assert np.all((per_channel == 0).all(-1) | np.isclose(per_channel, 1 / 0.75).all(-1))
        kept = np.isclose(per_channel, 1 / 0.75).all(-1).mean()
        assert 0.5 < kept < 0.95
        out.sum().backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(), values)


def test_alpha_dropout_keeps_mean_and_variance(device: str) -> None:
    autodiff.manual_seed(1)
    x = autodiff.randn(200, 500, device=device)
    for function in (F.alpha_dropout, F.feature_alpha_dropout):
        out = function(x, 0.2, True)
        assert out.grad_fn is None  # x does not require grad
        values = out.cpu().numpy()
        assert abs(values.mean()) < 0.05 and abs(values.std() - 1) < 0.05
    dropped = F.alpha_dropout(x, 0.2, True).cpu().numpy()
    scale = 1 / math.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8)
    saturated = -1.7580993408473766 * scale + 1.7580993408473766 * scale * 0.2
    assert np.isclose(dropped, saturated).mean() == pytest.approx(0.2, abs=0.02)


def test_dropout_variants_node_names_and_modes(torch: Any) -> None:
    x = autodiff.randn(4, 3, 5, 5, requires_grad=True)
    t = torch.randn(4, 3, 5, 5, requires_grad=True)
    for name, args in (("dropout2d", (0.5,)), ("alpha_dropout", (0.5, True)),
                       ("feature_alpha_dropout", (0.5, True)), ("alpha_dropout", (1.0, True))):
        ours = getattr(F, name)(x, *args)
        theirs = getattr(torch.nn.functional, name)(t, *args)
        assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert F.dropout1d(autodiff.randn(3, 4, requires_grad=True)).grad_fn.name() == \
        "SqueezeBackward1"
    assert F.alpha_dropout(x, 0.5, training=False) is x
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(autodiff.randn(2, 3, 4))


@pytest.mark.parametrize(("name", "shape", "options"), [
    ("dropout1d", (2, 3, 4, 5), {}), ("dropout1d", (2, 3, 4), dict(p=1.5)),
    ("feature_alpha_dropout", (2,), dict(p=0.5, training=True)),
    ("alpha_dropout", (2, 3), dict(p=-0.1)),
])
def test_dropout_errors_match_torch(torch: Any, name: str, shape: tuple[int, ...],
                                    options: dict[str, Any]) -> None:
    x = RNG.standard_normal(shape)
    same_error(lambda: getattr(F, name)(autodiff.tensor(x), **options),
               lambda: getattr(torch.nn.functional, name)(torch.tensor(x), **options))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        same_error(lambda: F.dropout2d(autodiff.ones(2, 3, 4, 5, dtype=autodiff.int64)),
                   lambda: torch.nn.functional.dropout2d(torch.ones(2, 3, 4, 5,
                                                                    dtype=torch.int64)))


def test_dropout_in_place_and_layers(device: str) -> None:
    autodiff.manual_seed(2)
    x = autodiff.ones(6, 8, 3, device=device)
    same = F.dropout1d(x, 0.5, True, inplace=True)
    assert same is x
    values = x.cpu().numpy()
    assert np.all((values == 0).all(-1) | (values == 2).all(-1))
    unbatched = autodiff.ones(8, 3, device=device)
    F.dropout1d(unbatched, 0.5, True, inplace=True)
    rows = unbatched.cpu().numpy()
    assert np.all((rows == 0).all(-1) | (rows == 2).all(-1))
    layer = nn.Dropout2d(0.5)
    layer.eval()
    y = autodiff.randn(2, 3, 4, 4, device=device)
    assert layer(y) is y
    for module in (nn.Dropout1d(), nn.Dropout3d(), nn.AlphaDropout(),
                   nn.FeatureAlphaDropout(0.3, True)):
        assert repr(module).endswith(f"(p={module.p}, inplace={module.inplace})")
