"""`torch.nn.attention.bias`: causal attention biases that `scaled_dot_product_attention`
takes as `attn_mask` (CausalBias, causal_upper_left, causal_lower_right).

A CausalBias is a Tensor subclass, as PyTorch's: made by the legacy constructor from its
arguments (a (variant, L, S) tensor of unset values, which nothing reads), printed as its
materialized boolean mask, and recognised by scaled_dot_product_attention through
`__torch_function__`. autodiff has no fused kernels, so PyTorch's CPU paths are the ones taken:
upper-left (or square) as `is_causal=True`, lower-right through the materialized mask.
"""

from __future__ import annotations

from enum import IntEnum, auto
from typing import Any

from ... import creation, dtypes
from ...ops.attention import scaled_dot_product_attention
from ...ops.diagonal import tril
from ...tensor import Tensor
from ...user_warnings import warn

__all__ = ["CausalBias", "CausalVariant", "causal_lower_right", "causal_upper_left"]


class CausalVariant(IntEnum):
    """Which corner a causal bias's triangle is aligned to: UPPER_LEFT (is_causal=True's
    `tril(ones(L, S))`) or LOWER_RIGHT (`tril(ones(L, S), diagonal=S - L)`)."""

    UPPER_LEFT = auto()
    LOWER_RIGHT = auto()


class CausalBias(Tensor):
    """A causal attention pattern of one variant for L queries and S keys."""

    variant: CausalVariant
    seq_len_q: int
    seq_len_kv: int

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warn("Lower right causal bias will produce NaNs in the output when "
                 "seq_len_q > seq_len_kv!", stacklevel=2)

    def _upper_left(self, device: Any) -> Tensor:
        return tril(creation.ones(self.seq_len_q, self.seq_len_kv, device=device,
                                  dtype=dtypes.bool_))

    def _lower_right(self, device: Any) -> Tensor:
        return tril(creation.ones(self.seq_len_q, self.seq_len_kv, device=device,
                                  dtype=dtypes.bool_), diagonal=self.seq_len_kv - self.seq_len_q)

    def _materialize(self, device: Any = None) -> Tensor:
        """The bias as a boolean (L, S) mask (True: attend) on `device` (the CPU by default)."""
        if device is None:
            device = "cpu"
        if self.variant == CausalVariant.UPPER_LEFT:
            return self._upper_left(device)
        return self._lower_right(device)

    @staticmethod
    def _dispatch(query: Tensor, key: Tensor, value: Tensor, attn_mask: CausalBias,
                  dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                  enable_gqa: bool = False) -> Tensor:
        """scaled_dot_product_attention with this bias as its mask."""
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if (attn_mask.seq_len_q == attn_mask.seq_len_kv
                or attn_mask.variant == CausalVariant.UPPER_LEFT):
            return scaled_dot_product_attention(query, key, value, attn_mask=None,
                                                dropout_p=dropout_p, is_causal=True,
                                                scale=scale, enable_gqa=enable_gqa)
        if attn_mask.variant == CausalVariant.LOWER_RIGHT:
            return scaled_dot_product_attention(
                query, key, value, attn_mask=attn_mask._materialize(query.device),
                dropout_p=dropout_p, is_causal=False, scale=scale, enable_gqa=enable_gqa)
        raise ValueError("CausalBias.variant must be a CausalVariant type, but found: "
                         f"{attn_mask.variant}")

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        """scaled_dot_product_attention with a CausalBias mask runs `_dispatch`."""
        from .. import functional  # the public function, wrapped once autodiff is loaded

        if kwargs is None:
            kwargs = {}
        if func is functional.scaled_dot_product_attention:
            return cls._dispatch(*args, **kwargs)
        return super().__torch_function__(func, types, args, kwargs)

    def __repr__(self) -> str:
        return repr(self._materialize())


def causal_upper_left(*size: int) -> CausalBias:
    """The UPPER_LEFT causal bias of (L, S): `is_causal=True`'s pattern."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.UPPER_LEFT, seq_len_q, seq_len_kv)


def causal_lower_right(*size: int) -> CausalBias:
    """The LOWER_RIGHT causal bias of (L, S): the triangle aligned to the last key."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.LOWER_RIGHT, seq_len_q, seq_len_kv)
