"""Dropout: `dropout` (each element), the whole-channel variants (dropout1d/2d/3d) and the
self-normalizing alpha dropouts (alpha_dropout, feature_alpha_dropout), out of place and in
place. As PyTorch's _dropout_impl: a Bernoulli noise (per element, or per channel broadcast over
the spatial dims) multiplies the input (MulBackward0); the alpha variants then add an affine
correction (AddBackward0) that keeps a SELU network's mean and variance."""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..batching.dispatch import random_op
from ..flop_counts import elementwise_flops
from ..function import Function
from ..jvp_rules import auto_element_wise
from ..tensor import Tensor, _wrap
from ..user_warnings import warn
from . import inplace as _inplace


class DropoutMul(Function):
    """x * mask for a constant mask (PyTorch's `input * noise`). Only the mask is saved, so
    dropout in place can overwrite x without invalidating its own node."""

    node_name = "MulBackward0"

    @staticmethod
    def count_flops(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        return elementwise_flops(args[0])

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, x: Any, *, mask: Any) -> Any:
        ctx.save_for_backward(mask)
        return ctx.backend.multiply(x, mask)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        mask, = ctx.saved_tensors
        return grad * mask


@random_op
def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p); the mask comes
    from the backend's generator (`autodiff.manual_seed` makes it reproducible)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "result type Float can't be cast to the desired output type "
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}"
        )
    if input.is_nested and not inplace:
        from ..nested import ops as nested_ops  # built on this module: imported on use

        return nested_ops.dropout(input, p, training)
    if inplace:  # refused before the generator moves
        _inplace.check_inplace(input, _inplace.is_recording(input))
    backend = input._backend
    dtype = backend.dtype_name(input._data)
    shape = input._data.shape
    if p == 1.0:
        mask = backend.zeros(shape, dtype)
    else:
        keep = backend.less(backend.rand(shape, dtype), 1.0 - p)
        mask = backend.multiply(backend.astype(keep, dtype), 1.0 / (1.0 - p))
    if inplace:  # an in-place op (ops/inplace.py): same node, written back into the input
        return _inplace.apply(input, (), lambda source: DropoutMul.apply(source, mask=mask))
    return DropoutMul.apply(input, mask=mask)


_ALPHA = 1.7580993408473766  # SELU's -alpha * scale: where a dropped unit goes


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool,
             alpha: bool, channel_dims: int = 2) -> Tensor:
    """`feature`: one noise value per entry of the first `channel_dims` dims (batch and
    channel), broadcast over the rest."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 0.0 or not training or input.numel() == 0:
        return input
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "result type Float can't be cast to the desired output type "
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}")
    if inplace:  # refused before the generator moves
        _inplace.check_inplace(input, _inplace.is_recording(input))
    backend = input._backend
    dtype = backend.dtype_name(input._data)
    shape = tuple(input._data.shape)
    noise_shape = (*shape[:channel_dims], *(1,) * (len(shape) - channel_dims)) if feature \
        else shape
    shift = None
    if p == 1.0:
        noise = backend.zeros(noise_shape, dtype)
    else:
        keep = backend.astype(backend.less(backend.rand(noise_shape, dtype), 1.0 - p), dtype)
        if alpha:
            scale = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
            shift = backend.add(backend.multiply(backend.subtract(keep, 1.0), _ALPHA * scale),
                                _ALPHA * scale * p)
            noise = backend.multiply(keep, scale)
        else:
            noise = backend.multiply(keep, 1.0 / (1.0 - p))
    if inplace:
        out = _inplace.apply(input, (), lambda source: DropoutMul.apply(source, mask=noise))
        return out if shift is None else out.add_(_wrap(shift, backend))
    out = DropoutMul.apply(input, mask=noise)
    return out if shift is None else out + _wrap(shift, backend)


@random_op
def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability p (scaling the rest)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note "
            "that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _channels(input, p, training, inplace, batched=input.dim() == 3)


@random_op
def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) with probability p. A 3-D input is taken as
    (N, C, L), as PyTorch does (with its warning)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    dims = input.dim()
    if dims not in (3, 4):
        warn(
            f"dropout2d: Received a {dims}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if dims == 3:
        warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _dropout(input, p, training, inplace, feature=True, alpha=False)


@random_op
def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    dims = input.dim()
    if dims not in (4, 5):
        warn(
            f"dropout3d: Received a {dims}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _channels(input, p, training, inplace, batched=dims == 5)


def _channels(input: Tensor, p: float, training: bool, inplace: bool,
              batched: bool) -> Tensor:
    """Channel dropout; an unbatched input gets a batch dim around it (in place, its noise is
    one value per channel of the input as it is)."""
    if batched:
        return _dropout(input, p, training, inplace, feature=True, alpha=False)
    if inplace:
        return _dropout(input, p, training, True, feature=True, alpha=False, channel_dims=1)
    return _dropout(input.unsqueeze(0), p, training, False, feature=True,
                    alpha=False).squeeze(0)


@random_op
def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units become SELU's saturation value and the result
    is rescaled to keep zero mean and unit variance."""
    return _dropout(input, p, training, inplace, feature=False, alpha=True)


@random_op
def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """alpha_dropout of whole channels."""
    return _dropout(input, p, training, inplace, feature=True, alpha=True)
