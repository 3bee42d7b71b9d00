"""Memory formats: is_contiguous, contiguous, to, clone and the ..._like functions with
`memory_format=`, Module.to(memory_format=) and convolution keeping channels last; the strides
are PyTorch's for the same calls (checked against it where it is installed)."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn

HAS_TORCH = importlib.util.find_spec("torch") is not None
CL = (48, 1, 12, 3)  # the channels-last strides of a (2, 3, 4, 4) tensor


def test_dim_order() -> None:
    empty = autodiff.empty
    assert empty((2, 3, 5, 7)).dim_order() == (0, 1, 2, 3)
    assert empty((2, 3, 5, 7)).transpose(1, 2).dim_order() == (0, 2, 1, 3)
    assert empty((2, 3, 5, 7), memory_format=autodiff.channels_last).dim_order() == (0, 2, 3, 1)
    assert empty((2, 3, 4, 5, 6)).permute(0, 2, 3, 4, 1).dim_order() == (0, 4, 1, 2, 3)
    assert empty((2, 2, 2)).permute(2, 0, 1).dim_order() == (1, 2, 0)
    assert empty((1, 2, 3, 4)).dim_order() == (0, 1, 2, 3)
    assert empty((1, 2, 3, 4)).dim_order(
        ambiguity_check=[autodiff.contiguous_format, autodiff.channels_last]) == (0, 1, 2, 3)
    assert autodiff.tensor(1.0).dim_order() == ()
    with pytest.raises(RuntimeError, match=r"^The tensor does not have unique dim order, or "
                                           r"cannot map to exact one of the given memory "
                                           r"formats\.$"):
        empty((1, 2, 3, 4)).dim_order(ambiguity_check=True)
    with pytest.raises(TypeError, match=r"^The ambiguity_check argument must be a bool or a list "
                                        r"of memory formats\.$"):
        empty((1, 2, 3, 4)).dim_order(ambiguity_check="ILLEGAL")


def test_dim_order_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    makers = [lambda m: m.empty((2, 1, 3, 1)).permute(3, 2, 1, 0), lambda m: m.empty(3, 4).t(),
              lambda m: m.empty(4, 4)[::2], lambda m: m.empty(1, 3).expand(4, 3),
              lambda m: m.empty(3, 1, 2), lambda m: m.empty(1, 1)]
    for make in makers:
        for check in (False, True, [torch.channels_last]):
            outcomes = []
            for library in (torch, autodiff):
                formats = check if not isinstance(check, list) else [library.channels_last]
                try:
                    outcomes.append(make(library).dim_order(ambiguity_check=formats))
                except RuntimeError as error:
                    outcomes.append(str(error))
            assert outcomes[0] == outcomes[1]


def test_contiguous_format_is_accepted() -> None:
    x = autodiff.ones(2, 3, 4, 4)
    assert x.is_contiguous(memory_format=autodiff.contiguous_format)
    assert x.contiguous(memory_format=autodiff.contiguous_format) is x
    assert x.is_contiguous(memory_format=autodiff.preserve_format)
    assert not x.is_contiguous(memory_format=autodiff.channels_last)
    assert not autodiff.ones(2, 2).is_contiguous(memory_format=autodiff.channels_last)


@pytest.mark.parametrize("convert", [
    lambda x, f: x.to(memory_format=f), lambda x, f: x.contiguous(memory_format=f),
    lambda x, f: x.clone(memory_format=f), lambda x, f: autodiff.clone(x, memory_format=f),
    lambda x, f: x.to(autodiff.float64, memory_format=f)])
def test_channels_last_copies(convert: object) -> None:
    x = autodiff.arange(96.0).reshape(2, 3, 4, 4).requires_grad_()
    out = convert(x, autodiff.channels_last)  # type: ignore[operator]
    assert out.stride() == CL and out.is_contiguous(memory_format=autodiff.channels_last)
    assert not out.is_contiguous() and out.tolist() == x.tolist()
    back = convert(out, autodiff.contiguous_format)  # type: ignore[operator]
    assert back.stride() == (48, 16, 4, 1) and back.tolist() == x.tolist()
    (back * autodiff.arange(96.0).reshape(2, 3, 4, 4)).sum().backward()
    assert x.grad.tolist() == np.arange(96.0).reshape(2, 3, 4, 4).tolist()


def test_to_restrides_an_ambiguous_layout_and_contiguous_does_not() -> None:
    x = autodiff.empty(4, 1, 4, 4)
    assert x.is_contiguous(memory_format=autodiff.channels_last) and x.is_contiguous()
    assert x.to(memory_format=autodiff.channels_last).stride() == (16, 1, 4, 1)
    assert x.contiguous(memory_format=autodiff.channels_last) is x
    # to() aliases when the layout is already the one asked for
    y = autodiff.ones(2, 3, 4, 4)
    assert y.to(memory_format=autodiff.contiguous_format) is y
    assert y.to(memory_format=autodiff.preserve_format) is y


def test_clone_preserves_the_layout() -> None:
    x = autodiff.ones(2, 3, 4, 4).to(memory_format=autodiff.channels_last)
    assert x.clone().stride() == CL
    assert x.clone(memory_format=autodiff.preserve_format).stride() == CL
    assert x.clone(memory_format=autodiff.channels_last) is not x


@pytest.mark.parametrize("like", [autodiff.empty_like, autodiff.zeros_like, autodiff.ones_like,
                                  lambda x, **k: autodiff.full_like(x, 2.0, **k)])
def test_likes_keep_a_dense_layout(like: object) -> None:
    x = autodiff.ones(2, 3, 4, 4).to(memory_format=autodiff.channels_last)
    assert like(x).stride() == CL  # type: ignore[operator]
    assert like(x, memory_format=autodiff.contiguous_format).stride() == (48, 16, 4, 1)  # type: ignore[operator]
    plain = autodiff.ones(2, 3, 4, 4)
    assert like(plain, memory_format=autodiff.channels_last).stride() == CL  # type: ignore[operator]
    assert like(autodiff.ones(3, 4).t()).stride() == (1, 4)  # type: ignore[operator]
    assert like(plain[:, :, ::2]).stride() == (24, 8, 4, 1)  # not dense: row-major  # type: ignore[operator]


@pytest.mark.parametrize(("call", "shape"), [
    (lambda x: x.contiguous(memory_format=autodiff.channels_last), (2, 2)),
    (lambda x: x.to(memory_format=autodiff.channels_last), (2, 2)),
    (lambda x: x.clone(memory_format=autodiff.channels_last), (2, 2)),
    (lambda x: autodiff.empty_like(x, memory_format=autodiff.channels_last), (2, 2)),
    (lambda x: x.contiguous(memory_format=autodiff.channels_last_3d), (2, 3, 4, 4))])
def test_a_format_of_another_rank_is_refused(call: Any, shape: tuple[int, ...]) -> None:
    with pytest.raises(RuntimeError, match=r"required rank \d tensor to use channels_last"):
        call(autodiff.ones(*shape))


@pytest.mark.parametrize("call", ["to", "clone", "contiguous", "is_contiguous"])
def test_a_string_is_not_a_memory_format(call: str) -> None:
    with pytest.raises(TypeError, match=r"argument .memory_format. must be torch\.memory_format"):
        getattr(autodiff.ones(2, 3, 4, 4), call)(memory_format="channels_last")


def test_module_to_lays_out_its_4d_tensors() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(8, 2))
    model = model.to(memory_format=autodiff.channels_last)
    assert model[0].weight.stride() == (27, 1, 9, 3) and isinstance(model[0].weight, nn.Parameter)
    assert model[0].bias.stride() == (1,) and model[2].weight.is_contiguous()


def test_convolution_keeps_channels_last() -> None:
    autodiff.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1).double()
    x = autodiff.randn(2, 3, 4, 4, dtype=autodiff.float64)
    expected = conv(x)
    out = conv(x.to(memory_format=autodiff.channels_last))
    assert out.is_contiguous(memory_format=autodiff.channels_last) and not out.is_contiguous()
    assert autodiff.allclose(out, expected)
    conv = conv.to(memory_format=autodiff.channels_last)
    out = conv(x)  # a channels-last weight is enough
    assert out.is_contiguous(memory_format=autodiff.channels_last)
    out.sum().backward()
    assert conv.weight.grad.is_contiguous(memory_format=autodiff.channels_last)
    cl = x.to(memory_format=autodiff.channels_last).requires_grad_()
    assert autodiff.autograd.gradcheck(lambda t: conv(t), (cl,))
    assert autodiff.autograd.gradgradcheck(lambda t: conv(t), (cl,))


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")
def test_strides_match_pytorch() -> None:
    import torch

    cases = [
        lambda m: m.ones(2, 3, 4, 4).to(memory_format=m.channels_last).stride(),
        lambda m: m.empty(4, 1, 4, 4).to(memory_format=m.channels_last).stride(),
        lambda m: m.empty(4, 1, 4, 4).contiguous(memory_format=m.channels_last).stride(),
        lambda m: m.empty_like(m.ones(2, 3, 4, 4).permute(0, 2, 3, 1)).stride(),
        lambda m: m.zeros_like(m.ones(5, 1, 1, 2).to(memory_format=m.channels_last)).stride(),
        lambda m: m.ones(2, 3, 4, 4).to(memory_format=m.channels_last).permute(0, 2, 1, 3)
        .clone().stride(),
        lambda m: m.nn.functional.conv2d(m.ones(1, 2, 3, 3).to(memory_format=m.channels_last),
                                         m.ones(4, 2, 1, 1)).stride(),
    ]
    for case in cases:
        assert case(autodiff) == case(torch)


@pytest.mark.parametrize("pool", [
    lambda x: autodiff.nn.functional.max_pool2d(x, 2),
    lambda x: autodiff.nn.functional.max_pool2d(x, 3, 1, 1, return_indices=True)[1],
    lambda x: autodiff.nn.functional.avg_pool2d(x, 2),
    lambda x: autodiff.nn.functional.avg_pool3d(x[..., None].expand(2, 3, 4, 4, 2)
                                                .to(memory_format=autodiff.channels_last_3d), 2)])
def test_pooling_keeps_channels_last(pool: object) -> None:
    x = autodiff.arange(96.0).reshape(2, 3, 4, 4).sin()
    expected = pool(x)  # type: ignore[operator]
    out = pool(x.to(memory_format=autodiff.channels_last))  # type: ignore[operator]
    fmt = autodiff.channels_last if out.dim() == 4 else autodiff.channels_last_3d
    assert out.is_contiguous(memory_format=fmt) and not out.is_contiguous()
    assert autodiff.allclose(out, expected)


def test_pooling_gradients_through_channels_last() -> None:
    x = autodiff.arange(96.0, dtype=autodiff.float64).reshape(2, 3, 4, 4).sin()
    x = x.to(memory_format=autodiff.channels_last).requires_grad_()
    for pool in (autodiff.nn.functional.max_pool2d, autodiff.nn.functional.avg_pool2d):
        assert autodiff.autograd.gradcheck(lambda t, pool=pool: pool(t, 2), (x,))
        assert autodiff.autograd.gradgradcheck(lambda t, pool=pool: pool(t, 2), (x,))
