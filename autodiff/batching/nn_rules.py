"""Batching rules of the neural-network ops, as PyTorch's functorch batches them: the vmap dim
folded into a dim the op already treats example by example.

* convolution: a batched input folds into N; a batched weight into the output channels; both
  batched fold into the groups (example b's channels meet only example b's filters). Its weight
  gradient folds the same way into the groups.
* batch_norm folds into the channels (each example gets its own statistics; batched running
  statistics are updated in place), or into N where the statistics are shared (evaluation);
  group_norm folds into N; layer_norm shifts its dims; a batched weight or bias is applied
  after the op, per example.
* scaled_dot_product_attention treats every leading dim as a batch dim: the vmap dim becomes one.
* recurrent layers fold into the rows (N) when the weights are shared; with batched weights the
  layer runs as its twin in Tensor ops (one batched op per step); the fused cells fold into rows.
* cdist batches natively; pdist is the upper triangle of a batched cdist.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..grad_mode import no_grad
from ..ops import (
    attention,
    batch_norm,
    conv,
    ctc,
    distance,
    fold,
    grid_sample,
    max_unpool,
    normalization,
    packed_sequence,
    pixel_shuffle,
    rnn,
    rnn_cells,
    spectral,
)
from ..tensor import Tensor, _wrap
from .batched_tensor import BatchedArray, make_batched, unwrap
from .levels import Level
from .rules import _broadcasting, _expand, _fold_batch, _pad, _register


def _value(item: Any, level: Level) -> tuple[Any, bool]:
    """(the physical tensor, batched) of a tensor; (None, False) for None."""
    if item is None:
        return None, False
    return unwrap(item, level.number)


def _batched(item: Tensor, level: Level) -> Tensor:
    """A tensor's physical value with the examples along dim 0 (an unbatched one broadcast)."""
    value, batched = unwrap(item, level.number)
    return value if batched else _expand(value, level.batch_size)


def _unfold_channels(out: Tensor, size: int) -> Tensor:
    """(N, B * C, ...) -> (B, N, C, ...): the examples back out of the channels."""
    shape = tuple(out.shape)
    return out.reshape((shape[0], size, shape[1] // size, *shape[2:])).movedim(1, 0)


def _fold_channels(value: Tensor) -> Tensor:
    """(B, N, C, ...) -> (N, B * C, ...): the examples into the channels."""
    shape = tuple(value.shape)
    return value.movedim(0, 1).reshape((shape[1], shape[0] * shape[2], *shape[3:]))


def _per_channel(value: Tensor, rank: int) -> Tensor:
    """A per-example, per-channel (B, C) tensor shaped to broadcast against (B, N, C, ...)."""
    shape = tuple(value.shape)
    return value.reshape((shape[0], 1, shape[1], *(1,) * (rank - 3)))


# ----------------------------------------------------------------------------- convolution
def _convolution(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    x, weight, bias = args
    size = level.batch_size
    x_value, x_batched = unwrap(x, level.number)
    w_value, w_batched = unwrap(weight, level.number)
    b_value, b_batched = _value(bias, level)
    geometry, transposed = kwargs["geometry"], kwargs["transposed"]
    groups = geometry.groups
    if not x_batched and not w_batched:  # only the bias differs between examples
        out = cls.apply(x_value, w_value, None, **kwargs)
        out = out + _per_channel(b_value, out.dim() + 1)
        return make_batched(out, level.number)
    if x_batched and not w_batched:  # the examples are more samples
        shape = tuple(x_value.shape)
        out = cls.apply(x_value.reshape((shape[0] * shape[1], *shape[2:])), w_value,
                        None if b_batched else b_value, **kwargs)
        out = out.reshape((size, shape[1], *out.shape[1:]))
    elif w_batched and not x_batched:  # the examples are more output channels
        w_shape = tuple(w_value.shape)
        kernel = w_shape[3:]
        if transposed:  # (B, C_in, C_out/g, k) -> (C_in, g * B * C_out/g, k) by group
            grouped = w_value.reshape((size, groups, w_shape[1] // groups, w_shape[2], *kernel))
            folded = grouped.permute((1, 2, 0, 3, *range(4, grouped.dim())))
            folded = folded.reshape((w_shape[1], size * w_shape[2], *kernel))
            per_group = w_shape[2]
        else:  # (B, C_out, C_in/g, k) -> (g * B * C_out/g, C_in/g, k) by group
            grouped = w_value.reshape((size, groups, w_shape[1] // groups, w_shape[2], *kernel))
            folded = grouped.movedim(0, 1).reshape((groups * size * (w_shape[1] // groups),
                                                     w_shape[2], *kernel))
            per_group = w_shape[1] // groups
        out = cls.apply(x_value, folded, None, **kwargs)
        shape = tuple(out.shape)  # (N, g * B * C_out/g, ...) -> (B, N, C_out, ...)
        out = out.reshape((shape[0], groups, size, per_group, *shape[2:]))
        out = out.permute((2, 0, 1, 3, *range(4, out.dim())))
        out = out.reshape((size, shape[0], groups * per_group, *shape[2:]))
        b_batched = bias is not None
    else:  # both: each example a group set of its own
        x_folded = _fold_channels(_batched(x, level))
        w_shape = tuple(w_value.shape)
        folded = w_value.reshape((size * w_shape[1], *w_shape[2:]))
        options = {**kwargs, "geometry": dataclasses.replace(geometry, groups=groups * size)}
        out = _unfold_channels(cls.apply(x_folded, folded, None, **options), size)
        b_batched = bias is not None
    if b_batched:
        out = out + _per_channel(_batched(bias, level), out.dim())
    return make_batched(out, level.number)


def _convolution_weight(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                        level: Level) -> Any:
    """The weight gradient of each example: its samples and output gradient as a group set
    of their own."""
    x, g = args
    size = level.batch_size
    geometry = kwargs["geometry"]
    options = {**kwargs, "geometry": dataclasses.replace(geometry, groups=geometry.groups * size)}
    out = cls.apply(_fold_channels(_batched(x, level)), _fold_channels(_batched(g, level)),
                    **options)
    shape = tuple(out.shape)
    return make_batched(out.reshape((size, shape[0] // size, *shape[1:])), level.number)


_register(_convolution, conv.Convolution)
_register(_convolution_weight, conv.ConvolutionWeight)


# ----------------------------------------------------------------------------- normalization
_RUNNING_NOT_BATCHED = (
    "Batch norm got a batched tensor as input while the running_mean or running_var, which "
    "will be updated in place, were not batched.\nIf you are using a module and do not need "
    "eval mode, please set `track_running_stats` to be False.If you are using a prebuilt "
    "module and do not need eval mode, please see the functorch website for resources on how "
    "to patch your module to work with vmap")


def _batch_norm(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    x, weight, bias = args
    size = level.batch_size
    x_batched = unwrap(x, level.number)[1]
    running = [_value(kwargs[name], level) for name in ("running_mean", "running_var")]
    training = kwargs["training"]
    if training and x_batched and any(kwargs[name] is not None and not batched for name, (
            _, batched) in zip(("running_mean", "running_var"), running)):
        raise RuntimeError(_RUNNING_NOT_BATCHED)
    w_value, w_batched = _value(weight, level)
    b_value, b_batched = _value(bias, level)
    affine = not (w_batched or b_batched)  # else the examples' own, applied after
    if not training and not any(batched for _, batched in running):
        # shared statistics: the examples are more samples
        value = _batched(x, level)
        shape = tuple(value.shape)
        out = cls.apply(value.reshape((size * shape[1], *shape[2:])),
                        w_value if affine else None, b_value if affine else None, **kwargs)
        out = out.reshape(shape)
    else:  # statistics of each example's own: its channels apart from the others'
        value = _batched(x, level)
        options = dict(kwargs)
        flat_running: list[Tensor | None] = []
        for name, (statistic, batched) in zip(("running_mean", "running_var"), running):
            if statistic is None:
                flat_running.append(None)
                continue
            if not batched:
                statistic = _expand(statistic, size)
            flat = statistic.reshape((-1,))
            if training:  # updated in place: a buffer of its own, copied back below
                flat = flat.detach().clone()
            options[name] = flat
            flat_running.append(flat)
        out = _unfold_channels(cls.apply(_fold_channels(value), None, None, **options), size)
        if training:
            with no_grad():
                for (statistic, _), flat in zip(running, flat_running):
                    if flat is not None:
                        statistic.copy_(flat.reshape(tuple(statistic.shape)))
        affine = False
    if not affine:
        out = _per_example_affine(out, weight, bias, level)
    return make_batched(out, level.number)


def _per_example_affine(out: Tensor, weight: Any, bias: Any, level: Level) -> Tensor:
    """A normalization's weight and bias applied per channel after the op, for when one of
    them is batched and so cannot go into the op's own affine step."""
    if weight is not None:
        out = out * _per_channel(_batched(weight, level), out.dim())
    if bias is not None:
        out = out + _per_channel(_batched(bias, level), out.dim())
    return out


def _group_norm(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    x, weight, bias = args
    size = level.batch_size
    w_value, w_batched = _value(weight, level)
    b_value, b_batched = _value(bias, level)
    value = _batched(x, level)
    shape = tuple(value.shape)
    affine = not (w_batched or b_batched)
    out = cls.apply(value.reshape((size * shape[1], *shape[2:])),
                    w_value if affine else None, b_value if affine else None, **kwargs)
    out = out.reshape(shape)
    if not affine:
        out = _per_example_affine(out, weight, bias, level)
    return make_batched(out, level.number)


def _layer_norm(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    x, weight, bias = args
    w_value, w_batched = _value(weight, level)
    b_value, b_batched = _value(bias, level)
    value = _batched(x, level)
    affine = not (w_batched or b_batched)
    axes = tuple(axis + 1 for axis in kwargs["axes"])
    out = cls.apply(value, w_value if affine else None, b_value if affine else None,
                    **{**kwargs, "axes": axes})
    if not affine:
        rank = out.dim() - 1
        if weight is not None:
            out = out * _pad(_batched(weight, level), rank)
        if bias is not None:
            out = out + _pad(_batched(bias, level), rank)
    return make_batched(out, level.number)


_register(_batch_norm, batch_norm.NativeBatchNorm)
_register(_group_norm, normalization.NativeGroupNorm)
_register(_layer_norm, normalization.NativeLayerNorm)


# ----------------------------------------------------------------------------- attention
def _attention(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """One call with the vmap dim as one more batch dim in front (unbatched operands
    broadcast along it)."""
    if kwargs["seed"] is not None:  # dropout: each example's draws, one by one
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    size = level.batch_size
    batch = tuple(kwargs["batch"])
    output_shape = tuple(kwargs["output_shape"])
    example_batch = batch if len(output_shape) > 2 else ()
    rank = len(example_batch) + 2
    values = []
    for arg in args:
        value, batched = _value(arg, level)
        values.append(_pad(value, rank) if batched else value)
    options = dict(kwargs)
    mask = kwargs["bool_mask"]
    if type(mask) is BatchedArray:
        array, _ = unwrap(mask, level.number)
        missing = rank - (len(array.shape) - 1)
        if missing > 0:
            array = args[0]._backend.reshape(array, (size, *(1,) * missing,
                                                     *tuple(array.shape)[1:]))
        options["bool_mask"] = array
    options["batch"] = (size, *example_batch)
    options["output_shape"] = (size, *output_shape)
    return make_batched(attention.ScaledDotProductAttention.apply(*values, **options),
                        level.number)


_register(_attention, attention.ScaledDotProductAttention, attention.ScaledDotProductAttentionMm)


# ----------------------------------------------------------------------------- recurrent
def _recurrent_layer(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                     level: Level) -> Any:
    projection, h0, c0, w_hh, b_hh, w_hr = args
    size = level.batch_size
    if any(_value(weight, level)[1] for weight in (w_hh, b_hh, w_hr)):
        # a layer per example: its twin in Tensor ops, each step one batched op
        return rnn.layer_twin(cls.mode, getattr(cls, "nonlinearity", "tanh"), projection, h0,
                              c0, w_hh, b_hh, w_hr, kwargs["batch_sizes"], kwargs["reverse"])
    # Shared weights: every example's sequences are more sequences. Row n of example b
    # becomes row n * B + b, so the sequences still active at a step stay the first rows.
    x = _batched(projection, level)
    values = [None if s is None else _batched(s, level) for s in (h0, c0)]
    if x.dim() == 4:  # (B, T, N, G) -> (T, N * B, G)
        shape = tuple(x.shape)
        folded_x = x.permute((1, 2, 0, 3)).reshape((shape[1], shape[2] * size, shape[3]))
    else:  # packed (B, rows, G) -> (rows * B, G)
        folded_x = x.movedim(0, 1).reshape((-1, x.shape[-1]))
    states = [None if s is None else s.movedim(0, 1).reshape((-1, s.shape[-1]))
              for s in values]
    options = {**kwargs, "batch_sizes": tuple(n * size for n in kwargs["batch_sizes"])}
    outputs = cls.apply(folded_x, states[0], states[1], _value(w_hh, level)[0],
                        _value(b_hh, level)[0], _value(w_hr, level)[0], **options)
    out = outputs[0]
    if x.dim() == 4:
        shape = tuple(out.shape)
        out = out.reshape((shape[0], shape[1] // size, size, shape[2])).permute((2, 0, 1, 3))
    else:
        out = out.reshape((-1, size, out.shape[-1])).movedim(1, 0)
    finals = [o.reshape((-1, size, o.shape[-1])).movedim(1, 0) for o in outputs[1:]]
    return tuple(make_batched(o, level.number) for o in (out, *finals))


def _fused_cell(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """The gate arithmetic of LSTM and GRU cells, row by row: the examples are more rows."""
    values = [_batched(arg, level) for arg in args]
    shapes = [tuple(v.shape) for v in values]
    flat = [v.reshape((-1, v.shape[-1])) for v in values]
    outputs = cls.apply(*flat, **kwargs)
    rows = shapes[-1][:-1]  # the state's (B, N) or (B,)
    if isinstance(outputs, Tensor):
        return make_batched(outputs.reshape((*rows, outputs.shape[-1])), level.number)
    return tuple(make_batched(o.reshape((*rows, o.shape[-1])), level.number) for o in outputs)


_register(_recurrent_layer, *rnn.LAYERS.values())
_register(_fused_cell, rnn_cells.ThnnFusedLstmCell, rnn_cells.ThnnFusedGruCell)


# ----------------------------------------------------------------------------- distances
def _cdist(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    values = [_batched(arg, level) for arg in args]
    rank = max(v.dim() for v in values) - 1
    return make_batched(cls.apply(*[_pad(v, rank) for v in values], **kwargs), level.number)


def _pdist(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """The upper triangle (row-major, above the diagonal) of each example's cdist."""
    value = _batched(args[0], level)
    count = value.shape[1]
    backend = value._backend
    first, second = backend.upper_pairs(count)
    flat = _wrap(backend.add(backend.multiply(first, count), second), backend)
    distances = distance.Cdist.apply(value, value, p=kwargs["p"])
    return make_batched(distances.reshape((level.batch_size, count * count)).index_select(
        1, flat), level.number)


def _dist(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """||a - b||_p of each example: one example's ops, batched again."""
    from ..ops.norm import vector_norm

    return vector_norm(args[0] - args[1], kwargs["p"])


_register(_cdist, distance.Cdist, distance.CdistByProduct)
_register(_pdist, distance.Pdist)
_register(_dist, distance.Dist)


# ----------------------------------------------------------------------------- images
def _fold_all(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Ops on (N, ...) batches taking several tensors (grid_sample's input and grid): every
    tensor's examples folded into its N."""
    values = [_batched(arg, level) for arg in args]
    shapes = [tuple(v.shape) for v in values]
    out = cls.apply(*[v.reshape((s[0] * s[1], *s[2:])) for v, s in zip(values, shapes)],
                    **kwargs)
    return make_batched(out.reshape((level.batch_size, shapes[0][1], *out.shape[1:])),
                        level.number)


def _max_unpool(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Any leading dims: the examples are one more; the indices batched alike."""
    value = _batched(args[0], level)
    indices, batched = unwrap(kwargs["indices"], level.number)
    if not batched:
        indices = value._backend.broadcast_to(indices, (level.batch_size, *indices.shape))
    return make_batched(cls.apply(value, **{**kwargs, "indices": indices}), level.number)


def _frequency_major(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                     level: Level) -> Any:
    value = _batched(args[0], level)
    if cls is spectral.FrequencyMajorSqueezed:  # each example's (1, frames, freq)
        value = value.squeeze(1)
    lead, last = tuple(value.shape[:-2]), tuple(value.shape[-2:])
    out = spectral.FrequencyMajor.apply(value.reshape((-1, *last)))
    return make_batched(out.reshape((*lead, last[1], last[0])), level.number)


_register(_broadcasting, pixel_shuffle.PixelShuffle, pixel_shuffle.PixelUnshuffle,
          spectral.Frames, spectral.OverlapAdd)
_register(_fold_batch, pixel_shuffle.ChannelShuffle, pixel_shuffle.NativeChannelShuffle,
          fold.Im2Col, fold.Col2Im, grid_sample.AffineGridGenerator)
_register(_fold_all, grid_sample.GridSampler2D)
_register(_max_unpool, max_unpool.MaxUnpool2D, max_unpool.MaxUnpool3D)
_register(_frequency_major, spectral.FrequencyMajor, spectral.FrequencyMajorSqueezed)


# ----------------------------------------------------------------------------- packed sequences
def _behind_leading(inputs: int, outputs: int) -> Any:
    """Ops that move rows among their first `inputs` dims (the time and sequence dims) and
    treat the dims after them alike: the examples one more dim right behind those (moved
    back in front of the result's first `outputs` dims)."""

    def rule(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
        values = [_batched(arg, level).movedim(0, inputs) for arg in args]
        out = cls.apply(*values, **kwargs)
        return make_batched(out.movedim(outputs, 0), level.number)

    return rule


_register(_behind_leading(2, 1), packed_sequence.PackPaddedSequence)
_register(_behind_leading(1, 2), packed_sequence.PadPackedSequence,
          packed_sequence.PadSequence)


# ----------------------------------------------------------------------------- ctc_loss
def _ctc_loss(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Log-probabilities per example (the targets shared): every example's samples are more
    samples, (T, N, C) examples as (T, B * N, C), their targets and lengths repeated."""
    log_probs, targets = args
    if unwrap(targets, level.number)[1]:  # targets per example
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    value = _batched(log_probs, level)
    size, frames, samples, classes = value.shape
    folded = value.movedim(0, 1).reshape((frames, size * samples, classes))
    backend = value._backend
    labels = _wrap(backend.tile(targets._data, (size, 1)), backend)
    options = {**kwargs, "input_lengths": tuple(kwargs["input_lengths"]) * size,
               "target_lengths": tuple(kwargs["target_lengths"]) * size}
    return make_batched(cls.apply(folded, labels, **options).reshape((size, samples)),
                        level.number)


def _ctc_loss_backward(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                       level: Level) -> Any:
    """The incoming gradient per example (jacrev's cotangents), the rest shared: the shared
    gradient of each sample, scaled by each example's."""
    grad, *rest = args
    if any(unwrap(item, level.number)[1] for item in rest):
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    value = _batched(grad, level)
    size, samples = value.shape
    shared = cls.apply(value.new_ones((samples,)), *rest, **kwargs)
    return make_batched(shared * value.reshape((size, 1, samples, 1)), level.number)


_register(_ctc_loss, ctc.CtcLoss)
_register(_ctc_loss_backward, ctc.CtcLossBackward)
