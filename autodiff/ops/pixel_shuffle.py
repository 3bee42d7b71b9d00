"""Rearrangements of channels: pixel_shuffle / pixel_unshuffle (depth to space and back) and
channel_shuffle. Each is a reshape-permute-reshape whose gradient is the inverse rearrangement
(pixel_unshuffle for pixel_shuffle, channel_shuffle with the complementary groups)."""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..jvp_rules import auto_linear
from ..saved_fields import fields, value
from ..tensor import Tensor


class PixelShuffle(Function):
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r)."""

    node_name = "PixelShuffleBackward0"
    saved_fields = fields(upscale_factor=value("factor"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, x: Any, *, factor: int) -> Any:
        backend = ctx.backend
        ctx.factor = factor
        *lead, channels, height, width = x.shape
        out_channels = channels // (factor * factor)
        blocks = backend.reshape(x, (-1, out_channels, factor, factor, height, width))
        moved = backend.permute_dims(blocks, (0, 1, 4, 2, 5, 3))
        return backend.reshape(moved, (*lead, out_channels, height * factor, width * factor))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return PixelUnshuffle.apply(grad, factor=ctx.factor)


class PixelUnshuffle(Function):
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W)."""

    node_name = "PixelUnshuffleBackward0"
    saved_fields = fields(downscale_factor=value("factor"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, x: Any, *, factor: int) -> Any:
        backend = ctx.backend
        ctx.factor = factor
        *lead, channels, height, width = x.shape
        blocks = backend.reshape(x, (-1, channels, height // factor, factor, width // factor,
                                     factor))
        moved = backend.permute_dims(blocks, (0, 1, 3, 5, 2, 4))
        return backend.reshape(moved, (*lead, channels * factor * factor, height // factor,
                                       width // factor))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return PixelShuffle.apply(grad, factor=ctx.factor)


class ChannelShuffle(Function):
    """(N, g * k, *) -> channels reordered as k groups of g (channel i * k + j goes to
    j * g + i)."""

    node_name = "ChannelShuffleBackward0"
    saved_fields = fields(groups=value("groups"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, x: Any, *, groups: int) -> Any:
        backend = ctx.backend
        batch, channels = x.shape[:2]
        ctx.groups, ctx.channels = groups, channels
        grouped = backend.reshape(x, (batch, groups, channels // groups, -1))
        moved = backend.permute_dims(grouped, (0, 2, 1, 3))
        return backend.reshape(moved, x.shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return ChannelShuffle.apply(grad, groups=ctx.channels // ctx.groups)


class NativeChannelShuffle(ChannelShuffle):
    """channel_shuffle as ATen's native_channel_shuffle: PyTorch has no derivative for it and
    says so at backward time."""

    node_name = "torch::autograd::NotImplemented"
    forward_ad_name = "aten::native_channel_shuffle"
    saved_fields = fields()
    jvp = None

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        raise RuntimeError("derivative for aten::native_channel_shuffle is not implemented")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Moves channel blocks of r * r into r x r spatial blocks: (*, C r^2, H, W) ->
    (*, C, H r, W r)."""
    shape = list(input._data.shape)
    if len(shape) < 3:
        raise RuntimeError("pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {len(shape)} dimension(s)")
    if upscale_factor <= 0:
        raise RuntimeError(
            f"pixel_shuffle expects a positive upscale_factor, but got {upscale_factor}")
    square = upscale_factor * upscale_factor
    if shape[-3] % square:
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={shape[-3]} is not divisible by "
            f"{square}")
    return PixelShuffle.apply(input, factor=upscale_factor)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of pixel_shuffle: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    shape = list(input._data.shape)
    if len(shape) < 3:
        raise RuntimeError("pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {len(shape)} dimension(s)")
    if downscale_factor <= 0:
        raise RuntimeError(
            f"pixel_unshuffle expects a positive downscale_factor, but got {downscale_factor}")
    for name, axis in (("height", -2), ("width", -1)):
        if shape[axis] % downscale_factor:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({axis})={shape[axis]} is not divisible by {downscale_factor}")
    return PixelUnshuffle.apply(input, factor=downscale_factor)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleaves the channels of `groups` groups (ShuffleNet's channel shuffle)."""
    _check_channel_shuffle(input, groups)
    return ChannelShuffle.apply(input, groups=groups)


def native_channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """channel_shuffle with no derivative (ATen's native kernel)."""
    _check_channel_shuffle(input, groups)
    return NativeChannelShuffle.apply(input, groups=groups)


def _check_channel_shuffle(input: Tensor, groups: int) -> None:
    shape = list(input._data.shape)
    if len(shape) <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes {shape}")
    if groups <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    if shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {shape[1]} "
                           f"channels and {groups} groups.")
