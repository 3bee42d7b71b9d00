"""Pooling against PyTorch: max, average, power-average and adaptive pooling and max unpooling
(values, indices, gradients to second order, node names), PyTorch's tie and NaN rules, the
argument errors (type and wording, nothing changed) and the pooling layers."""

from __future__ import annotations

import math
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

CASES = [
    ("max_pool2d", (2,), {}, (2, 3, 6, 6)),
    ("max_pool2d", (3, 2, 1), dict(ceil_mode=True), (2, 3, 7, 6)),
    ("max_pool2d", ((3, 2), (2, 1), (1, 1), (2, 1)), {}, (2, 3, 9, 6)),
    ("max_pool2d", (2,), {}, (3, 6, 5)),
    ("max_pool3d", (2, 1, 1), dict(ceil_mode=True), (2, 2, 4, 3, 5)),
    ("max_pool1d", (3, 2, 1), {}, (2, 3, 8)),
    ("max_pool1d", (3, 2, 1), dict(ceil_mode=True), (3, 8)),
    ("avg_pool2d", (3, 2, 1), dict(ceil_mode=True), (2, 3, 7, 6)),
    ("avg_pool2d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False), (2, 3, 7, 6)),
    ("avg_pool2d", ((3, 2), (2, 1), (1, 1)), dict(divisor_override=3), (2, 3, 9, 6)),
    ("avg_pool2d", (2,), {}, (3, 6, 5)),
    ("avg_pool3d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False), (2, 2, 4, 3, 5)),
    ("avg_pool1d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False), (2, 3, 8)),
    ("lp_pool2d", (2, 3, 2), dict(ceil_mode=True), (2, 3, 7, 6)),
    ("lp_pool1d", (3, 3), {}, (2, 3, 7)),
    ("lp_pool3d", (1.5, 2), {}, (2, 3, 4, 4, 4)),
    ("lp_pool2d", (math.inf, 2), {}, (2, 3, 4, 4)),
    ("adaptive_avg_pool2d", (3,), {}, (2, 3, 7, 6)),
    ("adaptive_avg_pool2d", ((4, None),), {}, (2, 3, 7, 6)),
    ("adaptive_avg_pool2d", ((10, 4),), {}, (3, 7, 6)),
    ("adaptive_avg_pool2d", (1,), {}, (2, 3, 7, 6)),
    ("adaptive_avg_pool3d", ((2, 3, 1),), {}, (2, 2, 5, 7, 3)),
    ("adaptive_avg_pool1d", (3,), {}, (2, 3, 7)),
    ("adaptive_max_pool2d", (3,), {}, (2, 3, 7, 6)),
    ("adaptive_max_pool2d", ((10, 4),), {}, (3, 7, 6)),
    ("adaptive_max_pool3d", ((2, 3, 1),), {}, (2, 2, 5, 7, 3)),
    ("adaptive_max_pool1d", (3,), {}, (2, 3, 7)),
]


@pytest.mark.parametrize(("name", "args", "options", "shape"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch_to_second_order(torch: Any, name: str, args: tuple[Any, ...],
                                       options: dict[str, Any], shape: tuple[int, ...]) -> None:
    x = RNG.uniform(0.1, 2.0, shape) if name.startswith("lp") else RNG.standard_normal(shape)
    compare(torch, lambda t: getattr(F, name)(t, *args, **options),
            lambda t: getattr(torch.nn.functional, name)(t, *args, **options), [x],
            second_order=True)


INDEXED = [
    ("max_pool2d", (3, 2, 1), dict(ceil_mode=True, dilation=(1, 2)), (2, 3, 7, 8)),
    ("max_pool3d", (2, 1, 1), {}, (2, 2, 4, 3, 5)),
    ("max_pool1d", (3, 2, 1), {}, (2, 3, 8)),
    ("adaptive_max_pool2d", ((4, 3),), {}, (2, 3, 7, 6)),
    ("adaptive_max_pool3d", ((2, 3, 1),), {}, (2, 2, 5, 7, 3)),
    ("adaptive_max_pool1d", (3,), {}, (3, 7)),
]


@pytest.mark.parametrize(("name", "args", "options", "shape"), INDEXED,
                         ids=[c[0] for c in INDEXED])
def test_indices_match_torch(torch: Any, name: str, args: tuple[Any, ...],
                             options: dict[str, Any], shape: tuple[int, ...]) -> None:
    x = RNG.standard_normal(shape)
    values, indices = getattr(F, name)(autodiff.tensor(x), *args, return_indices=True,
                                       **options)
    expected = getattr(torch.nn.functional, name)(torch.tensor(x), *args,
                                                  return_indices=True, **options)
    np.testing.assert_array_equal(values.numpy(), expected[0].numpy())
    np.testing.assert_array_equal(indices.numpy(), expected[1].numpy())
    assert indices.dtype is autodiff.int64 and not indices.requires_grad


def test_ties_and_nans_follow_pytorch(torch: Any) -> None:
    """A tie goes to the window's first maximum (and gets the whole gradient); NaN wins, the
    last NaN of the window."""
    x = np.array([[[[1.0, math.nan, math.nan, 2.0], [3.0, 3.0, 1.0, 3.0]]]])
    for name in ("max_pool2d", "adaptive_max_pool2d"):
        args = ((1, 4),)
        ours = getattr(F, name)(autodiff.tensor(x), *args, return_indices=True)
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x), *args,
                                                    return_indices=True)
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
    ties = np.array([[[[5.0, 5.0], [5.0, 1.0]]]])
    compare(torch, lambda t: F.max_pool2d(t, 2), lambda t: torch.nn.functional.max_pool2d(t, 2),
            [ties])
    compare(torch, lambda t: F.adaptive_max_pool2d(t, 1),
            lambda t: torch.nn.functional.adaptive_max_pool2d(t, 1), [ties])


def test_integer_pooling(torch: Any) -> None:
    x = np.array([[[[-3, -2, 5], [1, -7, 2], [4, 4, 4]]]])
    for name in ("avg_pool2d", "max_pool2d"):
        ours = getattr(F, name)(autodiff.tensor(x), 2, 1)
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x), 2, 1)
        assert ours.dtype is autodiff.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_inverts_max_pool(torch: Any, dims: int) -> None:
    shape = (2, 3, *(4,) * dims)
    x = torch.tensor(RNG.standard_normal(shape))
    pool = getattr(torch.nn.functional, f"max_pool{dims}d")
    values, indices = pool(x, 2, return_indices=True)
    ours_indices = autodiff.tensor(indices.numpy())
    compare(torch, lambda v: getattr(F, f"max_unpool{dims}d")(v, ours_indices, 2),
            lambda v: getattr(torch.nn.functional, f"max_unpool{dims}d")(v, indices, 2),
            [values.numpy()], second_order=True)
    values, indices = torch.nn.functional.max_pool2d(torch.tensor(RNG.standard_normal(
        (2, 3, 5, 5))), 2, return_indices=True)
    ours_indices = autodiff.tensor(indices.numpy())
    compare(torch, lambda v: F.max_unpool2d(v, ours_indices, 2, output_size=(5, 5)),
            lambda v: torch.nn.functional.max_unpool2d(v, indices, 2, output_size=(5, 5)),
            [values.numpy()])


def test_max_unpool_repeated_indices_last_wins() -> None:
    """Repeated indices: the last value in row-major order is kept (PyTorch's threads keep
    whichever they write last, so its result varies; a single thread keeps the last)."""
    out = F.max_unpool2d(autodiff.tensor([[[[1.0, 2.0]]]]), autodiff.tensor([[[[0, 0]]]]), 1,
                         output_size=(1, 2))
    assert out.tolist() == [[[[2.0, 0.0]]]]


ERRORS = [
    ("max_pool2d", (3, 2, 2), {}, (2, 3, 7, 7)),
    ("max_pool2d", ((2, 2, 2),), {}, (2, 3, 7, 7)),
    ("max_pool2d", (0,), {}, (2, 3, 7, 7)),
    ("max_pool2d", (0, 1), {}, (2, 3, 7, 7)),
    ("max_pool2d", (2, -1), {}, (2, 3, 7, 7)),
    ("max_pool2d", (2,), dict(dilation=0), (2, 3, 7, 7)),
    ("max_pool2d", (2,), dict(padding=-1), (2, 3, 7, 7)),
    ("max_pool2d", (2,), dict(stride=(1, 2, 3)), (2, 3, 7, 7)),
    ("max_pool2d", (2,), dict(padding=(1, 1, 1)), (2, 3, 7, 7)),
    ("max_pool2d", (2,), dict(dilation=(1, 1, 1)), (2, 3, 7, 7)),
    ("max_pool2d", (2,), {}, (2, 3, 1, 1)),
    ("max_pool2d", (2,), {}, (7,)),
    ("max_pool2d", (2,), {}, (2, 3, 7, 7, 7)),
    ("max_pool2d", (2,), {}, (2, 0, 7, 7)),
    ("max_pool3d", (3,), dict(padding=2), (2, 3, 7, 7, 7)),
    ("max_pool3d", ((2, 2),), {}, (2, 3, 7, 7, 7)),
    ("max_pool3d", (2,), {}, (3, 7, 7)),
    ("max_pool3d", (2,), {}, (2, 0, 7, 7, 7)),
    ("max_pool3d", (2,), {}, (2, 3, 1, 1, 1)),
    ("max_pool1d", (3,), dict(padding=2), (2, 3, 7)),
    ("max_pool1d", (2,), {}, (2, 3, 1)),
    ("max_pool1d", (2,), {}, (2, 3, 7, 7)),
    ("max_pool1d", (0,), {}, (2, 3, 7)),
    ("max_pool1d", (2,), dict(stride=0), (2, 3, 7)),
    ("max_pool1d", (3,), dict(padding=-1), (2, 3, 7)),
    ("max_pool1d", (3,), dict(dilation=0), (2, 3, 7)),
    ("max_pool1d", ((3, 3),), {}, (2, 3, 7)),
    ("max_pool1d", (2,), dict(stride=(1, 2)), (2, 3, 7)),
    ("max_pool1d", (2,), dict(padding=(1, 2)), (2, 3, 7)),
    ("max_pool1d", (2,), dict(return_indices=True), (7,)),
    ("max_pool1d", ((3, 3),), dict(return_indices=True), (2, 3, 7)),
    ("max_pool1d", (2,), dict(return_indices=True), (2, 3, 1)),
    ("avg_pool2d", (3,), dict(padding=2), (2, 3, 7, 7)),
    ("avg_pool2d", (0,), {}, (2, 3, 7, 7)),
    ("avg_pool2d", (2,), dict(divisor_override=0), (2, 3, 7, 7)),
    ("avg_pool2d", ((2, 2, 2),), {}, (2, 3, 7, 7)),
    ("avg_pool2d", (2,), {}, (2, 3, 1, 1)),
    ("avg_pool2d", (2,), dict(stride=(1, 2, 3)), (2, 3, 7, 7)),
    ("avg_pool3d", (2,), dict(padding=2), (2, 3, 7, 7, 7)),
    ("avg_pool3d", ((2, 2),), {}, (2, 3, 7, 7, 7)),
    ("avg_pool3d", (2,), {}, (2, 0, 7, 7, 7)),
    ("avg_pool3d", (2,), {}, (2, 3, 1, 1, 1)),
    ("avg_pool1d", (3,), dict(padding=2), (2, 3, 7)),
    ("avg_pool1d", (2,), {}, (2, 3, 1)),
    ("avg_pool1d", (2,), {}, (7,)),
    ("avg_pool1d", ((2, 2),), {}, (2, 3, 7)),
    ("adaptive_avg_pool2d", ((3, 2, 1),), {}, (2, 3, 7, 7)),
    ("adaptive_avg_pool2d", (-1,), {}, (2, 3, 7, 7)),
    ("adaptive_avg_pool2d", (2,), {}, (2, 3, 0, 7)),
    ("adaptive_avg_pool2d", (2,), {}, (7, 7)),
    ("adaptive_avg_pool3d", ((1, 2),), {}, (2, 3, 7, 7, 7)),
    ("adaptive_avg_pool1d", (2,), {}, (2, 3, 7, 7)),
    ("adaptive_avg_pool1d", ((2, 2),), {}, (2, 3, 7)),
    ("adaptive_max_pool2d", ((3, 2, 1),), {}, (2, 3, 7, 7)),
    ("adaptive_max_pool2d", (2,), {}, (2, 3, 0, 7)),
    ("adaptive_max_pool2d", (2,), {}, (7, 7)),
    ("adaptive_max_pool2d", (-1,), {}, (2, 3, 7, 7)),
    ("adaptive_max_pool3d", (1,), {}, (3, 7, 7)),
    ("adaptive_max_pool1d", ((2, 2),), {}, (2, 3, 7)),
]


@pytest.mark.parametrize(("name", "args", "options", "shape"), ERRORS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_argument_errors_match_torch(torch: Any, name: str, args: tuple[Any, ...],
                                     options: dict[str, Any], shape: tuple[int, ...]) -> None:
    x = RNG.standard_normal(shape)
    ours = autodiff.tensor(x, requires_grad=True)
    same_error(lambda: getattr(F, name)(ours, *args, **options),
               lambda: getattr(torch.nn.functional, name)(torch.tensor(x, requires_grad=True),
                                                          *args, **options))
    np.testing.assert_array_equal(ours.detach().numpy(), x)
    assert ours.grad is None


@pytest.mark.parametrize(("name", "dtype"), [
    ("max_pool2d", "bool"), ("avg_pool2d", "int32"), ("avg_pool2d", "bool"),
    ("avg_pool3d", "float16"), ("adaptive_avg_pool2d", "int64"),
    ("adaptive_max_pool2d", "int64"), ("max_pool3d", "bool"),
])
def test_dtype_errors_match_torch(torch: Any, name: str, dtype: str) -> None:
    shape = (2, 3, 4, 4, 4) if name.endswith("3d") else (2, 3, 4, 4)
    same_error(lambda: getattr(F, name)(autodiff.ones(*shape, dtype=getattr(autodiff, dtype)),
                                        2),
               lambda: getattr(torch.nn.functional, name)(
                   torch.ones(*shape, dtype=getattr(torch, dtype)), 2))


def test_max_unpool_errors_match_torch(torch: Any) -> None:
    values, indices = torch.nn.functional.max_pool2d(torch.randn(2, 3, 4, 4), 2,
                                                     return_indices=True)
    ours_values, ours_indices = autodiff.tensor(values.numpy()), autodiff.tensor(indices.numpy())
    # One invalid index (PyTorch's threads report whichever invalid index they meet last).
    bad = indices.clone()
    bad[1, 2, 0, 1] = 40
    negative = indices.clone()
    negative[0, 1, 1, 0] = -3
    ours_bad, ours_negative = autodiff.tensor(bad.numpy()), autodiff.tensor(negative.numpy())
    cases = [
        ((ours_values, ours_bad, 2), (values, bad, 2), {}),
        ((ours_values, ours_negative, 2), (values, negative, 2), {}),
        ((ours_values, ours_indices.int(), 2), (values, indices.int(), 2), {}),
        ((ours_values, ours_indices[:1], 2), (values, indices[:1], 2), {}),
        ((ours_values[0, 0], ours_indices[0, 0], 2), (values[0, 0], indices[0, 0], 2), {}),
        ((ours_values.long(), ours_indices, 2), (values.long(), indices, 2), {}),
        ((ours_values, ours_indices, 2), (values, indices, 2), dict(output_size=(6, 5))),
        ((ours_values, ours_indices, 2), (values, indices, 2), dict(output_size=(5,))),
    ]
    for mine, theirs, options in cases:
        same_error(lambda m=mine, o=options: F.max_unpool2d(*m, **o),
                   lambda t=theirs, o=options: torch.nn.functional.max_unpool2d(*t, **o))


LAYERS = [
    ("MaxPool2d", ((2, 3), 1, 1, 2, False, True), (2, 3, 7, 8)),
    ("MaxPool1d", (3,), (2, 3, 9)),
    ("MaxPool3d", (2,), (1, 2, 4, 4, 4)),
    ("AvgPool1d", (3,), (2, 3, 9)),
    ("AvgPool2d", (2, 1, 1, True, False, 3), (2, 3, 6, 6)),
    ("AvgPool3d", (2,), (1, 2, 4, 4, 4)),
    ("LPPool1d", (2, 3), (2, 3, 9)),
    ("LPPool2d", (2, 3), (2, 3, 6, 6)),
    ("LPPool3d", (2, 2), (1, 2, 4, 4, 4)),
    ("AdaptiveAvgPool1d", (3,), (2, 3, 7)),
    ("AdaptiveAvgPool2d", ((3, None),), (2, 3, 7, 6)),
    ("AdaptiveAvgPool3d", (2,), (1, 2, 4, 5, 3)),
    ("AdaptiveMaxPool1d", (3,), (2, 3, 7)),
    ("AdaptiveMaxPool2d", (3, True), (2, 3, 7, 6)),
    ("AdaptiveMaxPool3d", (2,), (1, 2, 4, 5, 3)),
]


@pytest.mark.parametrize(("name", "args", "shape"), LAYERS, ids=[c[0] for c in LAYERS])
def test_layers_match_torch(torch: Any, name: str, args: tuple[Any, ...],
                            shape: tuple[int, ...]) -> None:
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = RNG.uniform(0.1, 2.0, shape)
    if getattr(ours, "return_indices", False):
        out, indices = ours(autodiff.tensor(x))
        expected, expected_indices = theirs(torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), expected.numpy())
        np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    else:
        compare(torch, ours, theirs, [x])


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_layers(torch: Any, dims: int) -> None:
    name = f"MaxUnpool{dims}d"
    ours, theirs = getattr(nn, name)(2), getattr(torch.nn, name)(2)
    assert repr(ours) == repr(theirs)
    pool = getattr(torch.nn.functional, f"max_pool{dims}d")
    values, indices = pool(torch.randn(2, 3, *(4,) * dims, dtype=torch.float64), 2,
                           return_indices=True)
    out = ours(autodiff.tensor(values.numpy()), autodiff.tensor(indices.numpy()))
    np.testing.assert_array_equal(out.numpy(), theirs(values, indices).numpy())


def test_pooling_on_every_device(device: str) -> None:
    x = autodiff.randn(2, 3, 6, 6, device=device, requires_grad=True)
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    assert values.device == x.device and indices.device == x.device
    unpooled = F.max_unpool2d(values, indices, 2)
    pooled = F.avg_pool2d(unpooled, 3, 1, 1) + F.adaptive_max_pool2d(unpooled, 6)
    pooled.sum().backward()
    assert x.grad is not None and x.grad.device == x.device
