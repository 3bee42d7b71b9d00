"""nn.attention.bias: CausalBias of both variants — what it is (a Tensor subclass made by the
legacy constructor), its materialized mask and repr, its errors and warning, and
scaled_dot_product_attention with it as attn_mask (values and gradients against NumPy and
PyTorch); the output layout PyTorch's CPU flash kernel gives."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff.nn.attention.bias import (
    CausalBias,
    CausalVariant,
    causal_lower_right,
    causal_upper_left,
)

from ..helpers import raises

RNG = np.random.default_rng(11)


def _mask(variant: str, length: int, source: int) -> np.ndarray:
    diagonal = 0 if variant == "upper_left" else source - length
    return np.tril(np.ones((length, source), bool), k=diagonal)


def _attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray) -> np.ndarray:
    scores = np.where(mask, q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]), -np.inf)
    empty = np.all(scores == -np.inf, axis=-1, keepdims=True)
    scores = np.where(empty, 0.0, scores)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    return np.where(empty, 0.0, probs / probs.sum(-1, keepdims=True)) @ v


FACTORIES = {"upper_left": causal_upper_left, "lower_right": causal_lower_right}


@pytest.mark.parametrize("variant", list(FACTORIES))
@pytest.mark.parametrize(("length", "source"), [(3, 5), (4, 4), (2, 10)])
def test_materialize(device: str, variant: str, length: int, source: int) -> None:
    bias = FACTORIES[variant](length, source)
    assert isinstance(bias, autodiff.Tensor) and type(bias) is CausalBias
    assert bias.variant is CausalVariant[variant.upper()]
    assert (bias.seq_len_q, bias.seq_len_kv) == (length, source)
    # PyTorch's legacy constructor makes the tensor itself from (variant, L, S)
    assert tuple(bias.shape) == (int(bias.variant), length, source)
    mask = bias._materialize(device)
    assert mask.dtype is autodiff.bool and mask.device == autodiff.device(device)
    np.testing.assert_array_equal(mask.cpu().numpy(), _mask(variant, length, source))
    assert repr(bias) == repr(bias._materialize())


def test_variant_values() -> None:
    assert int(CausalVariant.UPPER_LEFT) == 1 and int(CausalVariant.LOWER_RIGHT) == 2


def test_errors_and_warning() -> None:
    with raises(AssertionError, "variant must be a CausalVariant, got int"):
        CausalBias(1, 2, 3)  # type: ignore[arg-type]
    with raises(AssertionError, "causal_upper_left only supports 2D tensors"):
        causal_upper_left(2)
    with raises(AssertionError, "causal_lower_right only supports 2D tensors"):
        causal_lower_right(2, 3, 4)
    with pytest.warns(UserWarning, match="^Lower right causal bias will produce NaNs in the "
                                         "output when seq_len_q > seq_len_kv!$"):
        causal_lower_right(5, 3)
    q = autodiff.ones(1, 1, 2, 4)
    with raises(ValueError, "CausalBias should not be used with causal=True"):
        F.scaled_dot_product_attention(q, q, q, causal_upper_left(2, 2), is_causal=True)


@pytest.mark.parametrize("variant", list(FACTORIES))
@pytest.mark.parametrize(("length", "source"), [(3, 5), (4, 4), (5, 3)])
def test_attention_with_bias(device: str, variant: str, length: int, source: int) -> None:
    arrays = [RNG.standard_normal((2, 2, n, 4)) for n in (length, source, source)]
    q, k, v = (autodiff.tensor(a, device=device, requires_grad=True) for a in arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lower right with L > S warns
        bias = FACTORIES[variant](length, source)
    out = F.scaled_dot_product_attention(q, k, v, bias)
    want = _attention(*arrays, _mask(variant, length, source))
    np.testing.assert_allclose(out.detach().cpu().numpy(), want, rtol=1e-12, atol=1e-14)
    dense = [autodiff.tensor(a, device=device, requires_grad=True) for a in arrays]
    mask = autodiff.tensor(_mask(variant, length, source), device=device)
    reference = F.scaled_dot_product_attention(*dense, mask)
    weights = autodiff.tensor(RNG.standard_normal(want.shape), device=device)
    (out * weights).sum().backward()
    (reference * weights).sum().backward()
    for ours, theirs in zip((q, k, v), dense, strict=True):
        np.testing.assert_allclose(ours.grad.cpu().numpy(), theirs.grad.cpu().numpy(),
                                   rtol=1e-10, atol=1e-14)


def test_upper_left_is_is_causal(device: str) -> None:
    q = autodiff.tensor(RNG.standard_normal((1, 2, 3, 4)), device=device)
    k = autodiff.tensor(RNG.standard_normal((1, 2, 5, 4)), device=device)
    by_bias = F.scaled_dot_product_attention(q, k, k, causal_upper_left(3, 5))
    by_flag = F.scaled_dot_product_attention(q, k, k, is_causal=True)
    np.testing.assert_array_equal(by_bias.cpu().numpy(), by_flag.cpu().numpy())


@pytest.mark.parametrize("variant", list(FACTORIES))
def test_matches_torch(variant: str) -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.attention.bias as torch_bias

    arrays = [RNG.standard_normal((2, 2, n, 4)) for n in (3, 6, 6)]
    torch_factory = getattr(torch_bias, f"causal_{variant}")

    def run(library: Any, factory: Any) -> list[np.ndarray]:
        q, k, v = (library.tensor(a, requires_grad=True) for a in arrays)
        out = library.nn.functional.scaled_dot_product_attention(q, k, v, factory(3, 6))
        (out ** 2).sum().backward()
        return [out.detach().numpy(), *(t.grad.numpy() for t in (q, k, v))]

    for ours, theirs in zip(run(autodiff, FACTORIES[variant]), run(torch, torch_factory),
                            strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)
    assert repr(FACTORIES[variant](2, 4)) == repr(torch_factory(2, 4))
    assert tuple(FACTORIES[variant](2, 4).shape) == tuple(torch_factory(2, 4).shape)


def test_flash_output_is_laid_out_as_the_query() -> None:
    """PyTorch's CPU flash kernel (the default choice for 4-d inputs without dropout) gives an
    output with the query's memory order, so `out.transpose(1, 2).view(...)` works after a
    query made by `.view(B, L, H, E).transpose(1, 2)`; the math kernel's output is row-major."""
    x = autodiff.tensor(RNG.standard_normal((2, 5, 3 * 8)))
    q = x.view(2, 5, 3, 8).transpose(1, 2)
    out = F.scaled_dot_product_attention(q, q, q)
    assert out.transpose(1, 2).is_contiguous()
    assert tuple(out.transpose(1, 2).reshape(2, 5, 24).shape) == (2, 5, 24)
    out.transpose(1, 2).view(2, 5, 24)
    from autodiff.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH):
        assert F.scaled_dot_product_attention(q, q, q).is_contiguous()
    torch = pytest.importorskip("torch")
    tq = torch.tensor(x.numpy()).view(2, 5, 3, 8).transpose(1, 2)
    assert torch.nn.functional.scaled_dot_product_attention(tq, tq, tq).stride() == out.stride()
