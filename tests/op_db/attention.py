"""Op table entries: scaled_dot_product_attention (masks, causal, nn.attention.bias's causal
biases, scale, GQA, broadcast batch dims, 2-D to 5-D) and multi_head_attention_forward.
Dropout draws random numbers, so it is tested in tests/nn/test_attention.py instead (replayed
masks, gradcheck, gradgradcheck)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autodiff
import autodiff.nn.functional as F
from autodiff.nn.attention.bias import causal_lower_right, causal_upper_left

from .info import OpInfo, Sample

BOOL_MASK = np.array([[True, False, True, True, False],
                      [False, False, False, False, False],  # a row with nothing to attend to
                      [True, True, True, True, True]])


def _const(values: np.ndarray, like: autodiff.Tensor) -> autodiff.Tensor:
    return autodiff.tensor(values, device=like.device)


def _attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: Any = None,
               causal: bool = False, scale: float | None = None, group: int = 1) -> np.ndarray:
    if group > 1:
        k, v = np.repeat(k, group, axis=-3), np.repeat(v, group, axis=-3)
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], bool)), scores, -np.inf)
    empty = np.all(scores == -np.inf, axis=-1, keepdims=True)
    scores = np.where(empty, 0.0, scores)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs = np.where(empty, 0.0, probs / probs.sum(-1, keepdims=True))
    return probs @ v


def _mha(q: np.ndarray, k: np.ndarray, v: np.ndarray, w_in: np.ndarray, b_in: np.ndarray,
         w_out: np.ndarray, b_out: np.ndarray, heads: int, weights: bool = False) -> np.ndarray:
    """(L, N, E) multi-head attention with PyTorch's packed projection."""
    length, batch, embed = q.shape
    w_q, w_k, w_v = np.split(w_in, 3)
    b_q, b_k, b_v = np.split(b_in, 3)
    head = embed // heads

    def split(x: np.ndarray) -> np.ndarray:  # (S, N, E) -> (N, heads, S, head)
        return x.reshape(x.shape[0], batch, heads, head).transpose(1, 2, 0, 3)

    qh, kh, vh = split(q @ w_q.T + b_q), split(k @ w_k.T + b_k), split(v @ w_v.T + b_v)
    scores = qh @ kh.swapaxes(-1, -2) / math.sqrt(head)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    if weights:
        return probs.mean(1)
    out = (probs @ vh).transpose(2, 0, 1, 3).reshape(length, batch, embed)
    return out @ w_out.T + b_out


def _sdpa(name: str, samples: tuple[Sample, ...], grad_fn: str = "UnsafeViewBackward0",
          **options: Any) -> OpInfo:
    bool_mask = options.pop("bool_mask", None)

    def op(*args: autodiff.Tensor) -> autodiff.Tensor:
        mask = None if bool_mask is None else _const(bool_mask, args[0])
        return F.scaled_dot_product_attention(*args, **options) if mask is None else \
            F.scaled_dot_product_attention(*args, attn_mask=mask, **options)

    def ref(*args: np.ndarray) -> np.ndarray:
        q, k, v, *mask = args
        group = q.shape[-3] // k.shape[-3] if options.get("enable_gqa") else 1
        return _attention(q, k, v, bool_mask if bool_mask is not None else
                          (mask[0] if mask else None), options.get("is_causal", False),
                          options.get("scale"), group)

    return OpInfo(name, op, ref, samples, grad_fn)


def _causal(q: np.ndarray, k: np.ndarray, diagonal: int) -> np.ndarray:
    """nn.attention.bias's causal mask: tril(ones(L, S), diagonal)."""
    return np.tril(np.ones((q.shape[-2], k.shape[-2]), bool), k=diagonal)


def _qkv(batch: tuple[int, ...], length: int = 3, source: int = 5, embed: int = 4,
         value: int = 3) -> tuple[tuple[int, ...], ...]:
    return ((*batch, length, embed), (*batch, source, embed), (*batch, source, value))


ATTENTION: list[OpInfo] = [
    _sdpa("F.scaled_dot_product_attention",
          (Sample(_qkv((2, 2))), Sample(_qkv((2,))), Sample(_qkv(())),
           Sample(((2, 2, 3, 4), (1, 2, 5, 4), (2, 1, 5, 3))),
           Sample(_qkv((2, 1, 2))), Sample(_qkv((2,), length=0)))),
    _sdpa("scaled_dot_product_attention_2d", (Sample(_qkv(())),), "MmBackward0"),
    _sdpa("scaled_dot_product_attention_causal",
          (Sample(_qkv((2, 2), length=4, source=4)), Sample(_qkv((2,), length=5, source=3))),
          is_causal=True),
    _sdpa("scaled_dot_product_attention_float_mask",
          (Sample((*_qkv((2, 2)), (3, 5))), Sample((*_qkv((2, 2)), (2, 1, 3, 5))),
           Sample((*_qkv((2,)), (1, 5))))),
    _sdpa("scaled_dot_product_attention_bool_mask", (Sample(_qkv((2, 2))),),
          bool_mask=BOOL_MASK),
    _sdpa("scaled_dot_product_attention_scale", (Sample(_qkv((2, 2))),), scale=0.7),
    _sdpa("scaled_dot_product_attention_gqa",
          (Sample(((2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3))),
           Sample(((6, 3, 4), (2, 5, 4), (2, 5, 3)))), enable_gqa=True),
    _sdpa("scaled_dot_product_attention_gqa_causal",
          (Sample(((2, 4, 3, 4), (2, 1, 5, 4), (2, 1, 5, 3))),), enable_gqa=True,
          is_causal=True),
    OpInfo("scaled_dot_product_attention_causal_upper_left",
           lambda q, k, v: F.scaled_dot_product_attention(
               q, k, v, causal_upper_left(q.shape[-2], k.shape[-2])),
           lambda q, k, v: _attention(q, k, v, _causal(q, k, 0)),
           (Sample(_qkv((2, 2))), Sample(_qkv((2,), length=4, source=4))),
           "UnsafeViewBackward0"),
    OpInfo("scaled_dot_product_attention_causal_lower_right",
           lambda q, k, v: F.scaled_dot_product_attention(
               q, k, v, causal_lower_right(q.shape[-2], k.shape[-2])),
           lambda q, k, v: _attention(q, k, v, _causal(q, k, k.shape[-2] - q.shape[-2])),
           (Sample(_qkv((2, 2))), Sample(_qkv((2,), length=2, source=6))),
           "UnsafeViewBackward0"),
    OpInfo("F.multi_head_attention_forward",
           lambda q, k, v, w_in, b_in, w_out, b_out: F.multi_head_attention_forward(
               q, k, v, 4, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out,
               need_weights=False)[0],
           lambda *args: _mha(*args, heads=2),
           (Sample(((3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (12,), (4, 4), (4,))),),
           "ViewBackward0"),
    OpInfo("multi_head_attention_forward_weights",
           lambda q, k, v, w_in, b_in, w_out, b_out: F.multi_head_attention_forward(
               q, k, v, 4, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out)[1],
           lambda *args: _mha(*args, heads=2, weights=True),
           (Sample(((3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (12,), (4, 4), (4,))),),
           "MeanBackward1"),
]
