"""Batching rules: how each op runs on tensors batched at one vmap level, keyed by the op's
Function class. Each rule receives the op's arguments as `Function.apply` did, unwraps those
batched at `level` (their examples along dim 0), calls ops on the physical tensors and wraps
the result. The kinds, as in PyTorch's functorch:

* broadcasting ops: pad each batched operand with size-1 dims to the common rank, call the op
  once (the batch dim lines up in front);
* ops with dim arguments (reductions, softmax, scans, sorting, shape ops): a non-negative dim
  moves one place right, a negative one stays (it counts from the end);
* matmul, linear, einsum, losses, gather/scatter, embedding: their own rules;
* ops on (N, C, ...) images (pooling, padding, resampling): the batch folded into N.

An op missing here runs once per example (`batching.loop`) with PyTorch's warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from backends import broadcast_shapes

from ..foreach import NODE_CLASSES
from ..ops import (
    activation,
    adaptive_pool,
    arithmetic,
    avg_pool,
    conversion,
    cross_entropy,
    cumulative,
    decompositions,
    diagonal,
    division,
    dropout,
    einsum,
    indexing,
    interpolate,
    joining,
    linear,
    loss,
    margin_loss,
    matmul,
    max_pool,
    minmax,
    norm,
    order_statistics,
    padding,
    rearranging,
    reduction,
    sampling,
    scatter,
    scatter_reduce,
    selection,
    shape,
    softmax,
    sorting,
    strides,
    unary,
    variates,
)
from ..ops.views import CloneLike, as_view
from ..tensor import Tensor, _wrap
from .batched_tensor import BatchedArray, BatchedTensor, level_of, make_batched, unwrap
from .levels import Level, levels

Rule = Callable[[Any, tuple[Any, ...], dict[str, Any], Level], Any]
RULES: dict[type, Rule] = {}
# Ops whose output shares its input's memory (the public functions record them as views).
VIEW_OPS = {shape.Permute, shape.Transpose, shape.T, shape.Unsqueeze, shape.Squeeze,
            shape.SqueezeDim, shape.SqueezeDims, shape.Unfold, indexing.Select, indexing.Slice,
            indexing.ViewGather, diagonal.Diagonal, shape.TransposeInPlace, shape.TInPlace,
            shape.UnsqueezeInPlace, *shape.SQUEEZE_IN_PLACE_OPS, strides.AsStridedView}


def _register(rule: Rule, *classes: type) -> None:
    for cls in classes:
        RULES[cls] = rule


def _wrap_out(result: Any, level: Level) -> Any:
    if isinstance(result, Tensor):
        return make_batched(result, level.number)
    return tuple(make_batched(r, level.number) if isinstance(r, Tensor) else r for r in result)


def _pad(value: Tensor, rank: int) -> Tensor:
    """A batched value (B, *s) as (B, 1, ..., 1, *s) with len(s) grown to `rank`."""
    missing = rank - (value.dim() - 1)
    if missing <= 0:
        return value
    shape = tuple(value.shape)
    return value.reshape((shape[0], *(1,) * missing, *shape[1:]))


def _expand(value: Any, size: int) -> Any:
    """An unbatched tensor repeated (as a broadcast view) along a new front dim."""
    return value.expand((size, *value.shape))


def _shift(dim: Any) -> Any:
    """A dim of one example as a dim of the physical tensor."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(d + 1 if d >= 0 else d for d in dim)
    return dim + 1 if dim >= 0 else dim


def broadcast_values(args: tuple[Any, ...] | list[Any], number: int) -> tuple[list[Any], bool]:
    """The physical values of broadcasting operands: batched ones padded to the operands'
    common rank, unbatched ones as they are (they broadcast from the right)."""
    values: list[Any] = []
    flags: list[bool] = []
    for arg in args:
        value, batched = unwrap(arg, number)
        values.append(value)
        flags.append(batched)
    rank = 0
    for value, batched in zip(values, flags):
        if hasattr(value, "shape") and not isinstance(value, (int, float, bool)):
            rank = max(rank, len(value.shape) - batched)
    for index, (value, batched) in enumerate(zip(values, flags)):
        if batched:
            if isinstance(value, Tensor):
                values[index] = _pad(value, rank)
            else:  # an array (a drawn mask, an index)
                missing = rank - (len(value.shape) - 1)
                if missing > 0:
                    shape = tuple(value.shape)
                    backend = args[index].value._backend
                    values[index] = backend.reshape(value, (shape[0], *(1,) * missing,
                                                            *shape[1:]))
    return values, any(flags)


# ----------------------------------------------------------------------------- broadcasting
def _broadcasting(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    if len(args) == 1 and not kwargs:  # one batched operand: nothing to line up
        return _wrap_out(cls.apply(args[0]._value), level)
    values, _ = broadcast_values(args, level.number)
    new_kwargs = kwargs
    if any(type(v) is BatchedArray or type(v) is BatchedTensor for v in kwargs.values()):
        keys = list(kwargs)
        padded, _ = broadcast_values([*args, *kwargs.values()], level.number)
        values = padded[:len(args)]
        new_kwargs = dict(zip(keys, padded[len(args):]))
    return _wrap_out(cls.apply(*values, **new_kwargs), level)


_register(
    _broadcasting,
    arithmetic.Add, arithmetic.Sub, arithmetic.Rsub, arithmetic.RsubTensor, arithmetic.Mul,
    arithmetic.Div, arithmetic.Neg, arithmetic.Reciprocal, arithmetic.PowScalar, arithmetic.Pow,
    arithmetic.RPow, arithmetic.Addcmul, arithmetic.Addcdiv,
    division.DivMode, division.FloorDivide, division.Remainder, division.RemainderTensor,
    division.RemainderNumber, division.FloorDivideInPlace,
    activation.Sigmoid, activation.Softplus, activation.Relu, activation.LeakyRelu,
    activation.Gelu, activation.Elu, activation.Silu, activation.ThresholdBackward,
    selection.Where, selection.Maximum, selection.Minimum, selection.Clamp, selection.ClampMin,
    selection.ClampMax, selection.ClampTensor, selection.ClampMinTensor,
    selection.ClampMaxTensor, selection.Lerp, selection.LerpTensor,
    conversion.Clone, conversion.ToCopy, strides.Contiguous, shape.Alias,
    diagonal.Tril, diagonal.Triu, loss.XLogX, loss.Abs, dropout.DropoutMul,
    decompositions.LinalgInv, decompositions.LinalgDet, decompositions.LinalgCholesky,
)
_register(_broadcasting, *[cls for cls in vars(unary).values()
                           if isinstance(cls, type) and issubclass(cls, unary.Function)
                           and cls.__module__ == unary.__name__ and hasattr(cls, "node_name")])


def _each_copied(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """The foreach ops' shared node: each output is its own input copied (shapes differ, so
    nothing is lined up); the batched ones stay batched, in one call."""
    batched = [type(arg) is BatchedTensor and arg._level == level.number for arg in args]
    out = cls.apply(*(arg._value if is_batched else arg for arg, is_batched in zip(args, batched)))
    outs = out if isinstance(out, tuple) else (out,)
    wrapped = tuple(make_batched(o, level.number) if is_batched else o
                    for o, is_batched in zip(outs, batched))
    return wrapped if isinstance(out, tuple) else wrapped[0]


_register(_each_copied, *NODE_CLASSES.values())


# ----------------------------------------------------------------------------- dims
def _call(cls: Any, values: list[Any], options: dict[str, Any]) -> Any:
    """cls applied to physical values; a view op's output recorded as a view of its input,
    so in-place ops on it reach the input (and its gradient), as the public op does."""
    out = cls.apply(*values, **options)
    if cls in VIEW_OPS and isinstance(out, Tensor):
        return as_view(out, values[0], cls, options)
    return out


def _dims(*names: str, all_axes: str | None = None) -> Rule:
    """Ops whose keyword arguments `names` are dims of one example; `all_axes` names one whose
    None means every dim (made explicit, so the batch dim stays)."""

    def rule(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
        if len(args) == 1 and all_axes is None and cls is not joining.Cat:
            # one operand, batched here, with dims to move (most calls; a 0-d example's
            # special cases below)
            arg = args[0]
            if type(arg) is BatchedTensor and arg._level == level.number and (
                    arg._data.ndim or (cls not in SCALAR_AS_VECTOR
                                       and not issubclass(cls, shape.Transpose))):
                value = arg._value
                options = dict(kwargs)
                for name in names:
                    if name in options:
                        options[name] = _shift(options[name])
                return _wrap_out(_call(cls, [value], options), level)
        values = []
        ndim = 0
        for arg in args:
            value, batched = unwrap(arg, level.number)
            if isinstance(value, Tensor) and not batched:
                value = _expand(value, level.batch_size)
            if isinstance(value, Tensor):
                ndim = max(ndim, value.dim() - 1)
            values.append(value)
        if ndim == 0 and issubclass(cls, shape.Transpose):  # a 0-d example: no dims to swap
            return make_batched(values[0], level.number)
        if cls is joining.Cat:  # PyTorch skips 1-d empty tensors (the legacy empty shape)
            values = [v for v, arg in zip(values, args)
                      if tuple(arg.shape) != (0,)]
        if ndim == 0 and cls in SCALAR_AS_VECTOR:  # a 0-d example: its dim 0 is a new dim 1
            values = [v.unsqueeze(1) if isinstance(v, Tensor) else v for v in values]
            out = _call(cls, values, {**kwargs, "dim": 1})
            if isinstance(out, Tensor):
                return make_batched(out.reshape((level.batch_size,)), level.number)
            return tuple(make_batched(o.reshape((level.batch_size,)), level.number) for o in out)
        options = dict(kwargs)
        if ndim == 0 and all_axes is not None:
            # A 0-d example reduced: over a new dim 1 of one element, so the op (and its
            # backward, where `sum(())` means every dim) never sees an empty tuple of axes.
            values = [v.unsqueeze(1) if isinstance(v, Tensor) else v for v in values]
            options[all_axes] = (1,)
            out = _call(cls, values, options)
            if isinstance(out, Tensor):
                return make_batched(out.reshape((level.batch_size,)), level.number)
            return tuple(make_batched(o.reshape((level.batch_size,)), level.number)
                         for o in out)
        for name in names:
            if name in options:
                options[name] = _shift(options[name])
        if all_axes is not None and options.get(all_axes, 0) is None:
            options[all_axes] = tuple(range(1, ndim + 1))
        return _wrap_out(_call(cls, values, options), level)

    return rule


_register(_dims("axes", all_axes="axes"), reduction.Sum, reduction.SumDim, reduction.Mean,
          reduction.MeanDim, reduction.Var, reduction.Std, reduction.Logsumexp, minmax.Amax,
          minmax.Amin, norm.LinalgVectorNorm)
_register(_dims("axes"), shape.Squeeze, shape.SqueezeDim, shape.SqueezeDims,
          *shape.SQUEEZE_IN_PLACE_OPS)
# Ops that take dim 0 (or -1) of a 0-d tensor and give a 0-d result.
SCALAR_AS_VECTOR = {cumulative.Cumsum, cumulative.Cumprod, cumulative.Cummax, cumulative.Cummin,
                    cumulative.Logcumsumexp, minmax.MaxDim, minmax.MinDim,
                    order_statistics.Kthvalue, order_statistics.MedianDim,
                    order_statistics.NanmedianDim, order_statistics.Mode, softmax.Softmax,
                    softmax.LogSoftmax, softmax.SoftmaxBackwardData, softmax.LogSoftmaxBackwardData,
          sorting.Sort, sorting.SortStable, sorting.Topk}
_register(_dims("dim"), cumulative.Cumsum, cumulative.Cumprod, cumulative.Cummax,
          cumulative.Cummin, cumulative.Logcumsumexp, minmax.MaxDim, minmax.MinDim,
          order_statistics.Kthvalue, order_statistics.MedianDim,
          order_statistics.NanmedianDim, order_statistics.Mode, softmax.Softmax,
          softmax.LogSoftmax, softmax.SoftmaxBackwardData, softmax.LogSoftmaxBackwardData,
          sorting.Sort, sorting.SortStable, sorting.Topk,
          indexing.Select, indexing.Slice, indexing.NarrowCopy, shape.Unsqueeze,
          shape.UnsqueezeInPlace, shape.Unfold,
          shape.UnfoldCopy, joining.Split, joining.SplitWithSizes, joining.UnsafeSplit,
          joining.UnsafeSplitWithSizes, joining.Unbind, joining.Cat, joining.Stack,
          scatter.IndexSelect)
_register(_dims("dims"), joining.Flip, rearranging.Rot90)
_register(_dims("dim0", "dim1"), shape.Transpose, shape.T, shape.TransposeInPlace,
          shape.TInPlace)
_register(_dims("dim1", "dim2"), diagonal.Diagonal, diagonal.DiagonalCopy, diagonal.DiagCopy,
          diagonal.DiagEmbed, diagonal.DiagonalScatter)


def _prod(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    value, _ = unwrap(args[0], level.number)
    axis = kwargs["axis"]
    if axis is None:  # every dim: flatten one example first
        rank = value.dim() - 1
        flat = value.reshape((level.batch_size, -1))
        out = cls.apply(flat, axis=1, keepdim=False)
        if kwargs["keepdim"]:
            out = out.reshape((level.batch_size, *(1,) * rank))
        return make_batched(out, level.number)
    return make_batched(cls.apply(value, axis=_shift(axis), keepdim=kwargs["keepdim"]),
                        level.number)


_register(_prod, reduction.Prod, reduction.ProdDim)


def _reduce_all(reducer: str) -> Rule:
    """Reductions of every element (max(), min(), trace()) as a dim reduction of the
    flattened example."""

    def rule(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
        value, _ = unwrap(args[0], level.number)
        flat = value.reshape((level.batch_size, -1))
        return make_batched(getattr(flat, reducer)(1), level.number)

    return rule


_register(_reduce_all("amax"), minmax.MaxAll)
_register(_reduce_all("amin"), minmax.MinAll)


def _trace(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    value, _ = unwrap(args[0], level.number)
    return make_batched(value.diagonal(0, 1, 2).sum(-1), level.number)


_register(_trace, diagonal.Trace)


# ----------------------------------------------------------------------------- shape ops
def _first(args: tuple[Any, ...], level: Level) -> Tensor:
    value, batched = unwrap(args[0], level.number)
    return value if batched else _expand(value, level.batch_size)


def _view(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    value = _first(args, level)
    return make_batched(value.reshape((level.batch_size, *kwargs["shape"])), level.number)


def _expand_rule(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    target = tuple(kwargs["shape"])
    value = _pad(_first(args, level), len(target))
    return make_batched(value.expand((level.batch_size, *target)), level.number)


def _sum_to_size(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    target = tuple(kwargs["shape"])
    value = _first(args, level)
    extra = value.dim() - 1 - len(target)
    if extra > 0:
        value = value.sum(tuple(range(1, 1 + extra)))
    return make_batched(value.sum_to_size((level.batch_size, *target)), level.number)


def _permute(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    value = _first(args, level)
    rank = value.dim() - 1
    dims = tuple(d % rank + 1 if rank else 0 for d in kwargs["dims"])
    return make_batched(_call(cls, [value], {"dims": (0, *dims)}), level.number)


def _repeat(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    repeats = tuple(kwargs["repeats"])
    value = _pad(_first(args, level), len(repeats))
    return make_batched(cls.apply(value, repeats=(1, *repeats)), level.number)


def _roll(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    value = _first(args, level)
    dims = kwargs["dims"]
    if dims is None:  # the flattened example rolls
        rank_shape = tuple(value.shape[1:])
        flat = value.reshape((level.batch_size, -1))
        out = cls.apply(flat, shifts=kwargs["shifts"], dims=(1,))
        return make_batched(out.reshape((level.batch_size, *rank_shape)), level.number)
    return make_batched(cls.apply(value, shifts=kwargs["shifts"], dims=_shift(tuple(dims))),
                        level.number)


def _as_strided_scatter(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                        level: Level) -> Any:
    """Positions counted in each example read as row-major: in the examples' tensor, example
    b's start `b * numel` later."""
    a = _first(args, level)
    src, batched = unwrap(args[1], level.number)
    src = src if batched else _expand(src, level.batch_size)
    count = math.prod(args[0].shape)
    options = {**kwargs, "size": (level.batch_size, *kwargs["size"]),
               "stride": (count, *kwargs["stride"])}
    return make_batched(cls.apply(a, src, **options), level.number)


def _as_strided(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """The view op as_strided records (replayed by the backward of an in-place write into
    such a view): each example's view of its own memory, as the public function's rule."""
    value = _first(args, level)
    if type(value) is BatchedTensor:  # batched again below: no strides to read
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    options = {**kwargs, "size": (level.batch_size, *kwargs["size"]),
               "stride": (value.stride(0), *kwargs["stride"]),
               "examples": kwargs.get("examples", 0) + 1}
    return make_batched(_call(cls, [value], options), level.number)


_register(_view, shape.View, shape.ReshapeAlias, shape.UnsafeView)
_register(_as_strided, strides.AsStridedView)
_register(_as_strided_scatter, strides.AsStridedScatter)
_register(_expand_rule, shape.Expand)
_register(_sum_to_size, shape.SumToSize)
_register(_permute, shape.Permute)
_register(_repeat, joining.Repeat)
_register(_roll, joining.Roll)




# ----------------------------------------------------------------------------- products
def _matmul(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    a, a_batched = unwrap(args[0], level.number)
    b, b_batched = unwrap(args[1], level.number)
    a_rank, b_rank = a.dim() - a_batched, b.dim() - b_batched
    if a_rank == 1:
        a = a.unsqueeze(-2)
    if b_rank == 1:
        b = b.unsqueeze(-1)
    rank = max(a_rank, b_rank, 2)
    if a_batched:
        a = _pad(a, rank)
    if b_batched:
        b = _pad(b, rank)
    if b_batched and a_batched and a.dim() == b.dim() == 3 and _repeated(b):
        out = matmul.SharedMatmul.apply(a, b)  # one GEMM; b's gradient stays per example
    else:
        out = matmul.matmul(a, b)
    if b_rank == 1:
        out = out.squeeze(-1)
    if a_rank == 1:
        out = out.squeeze(-1 if b_rank == 1 else -2)
    return make_batched(out, level.number)


def _repeated(value: Tensor) -> bool:
    """Whether a physical value is one tensor repeated along its batch dim (stride 0)."""
    data = value._data
    if type(value) is BatchedTensor or not data.ndim or data.shape[0] < 2:
        return False
    return value._backend.repeats_along(data, 0)


def _outer(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    a, _ = unwrap(args[0], level.number)
    b, _ = unwrap(args[1], level.number)
    return make_batched(a.unsqueeze(-1) * b.unsqueeze(-2), level.number)


def _linear(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    x, weight, bias = args
    x_value, _ = unwrap(x, level.number)
    weight_value, weight_batched = unwrap(weight, level.number)
    bias_value, bias_batched = unwrap(bias, level.number)
    if not weight_batched and not bias_batched and (bias is None or bias.dim() <= 1):
        # the common case: one call on the batch
        return make_batched(linear.linear(x_value, weight_value, bias_value), level.number)
    if weight_batched and _repeated(weight_value) and x.dim() >= 1 and (
            bias is None or (bias_batched and bias.dim() == 1 and _repeated(bias_value))) \
            and type(x_value) is not BatchedTensor:
        # parameters under vmap(grad): one GEMM, gradients kept per example
        if x is x_value:
            x_value = _expand(x_value, level.batch_size)
        vector = x_value.dim() == 2
        if vector:
            x_value = x_value.unsqueeze(1)
        out = linear.SharedLinear.apply(x_value, weight_value, bias_value)
        return make_batched(out.squeeze(1) if vector else out, level.number)
    out = matmul.matmul(x, weight.transpose(-1, -2))  # one example's ops, batched again
    return out if bias is None else out + bias


def _einsum(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    equation = kwargs["equation"]
    inputs, output = equation.split("->")
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                  if c not in equation)
    terms = inputs.split(",")
    values = []
    for index, arg in enumerate(args):
        value, batched = unwrap(arg, level.number)
        if batched:
            terms[index] = letter + terms[index]
        values.append(value)
    new = ",".join(terms) + "->" + letter + output
    return make_batched(cls.apply(*values, equation=new), level.number)


def _shared_weight(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   level: Level) -> Any:
    """SharedMatmul, SharedLinear and SharedLinearBackward (ops on a batch of examples whose
    weight repeats along the batch) with examples of an enclosing vmap, as the backward of a
    backward meets them (jacrev of a per-example gradient). A weight the outer examples share:
    they are more examples of the batch (both batch dims folded into one, the weight repeated
    along both), one call. A weight (or SharedLinear's bias) of their own: the op's composite
    of batched ops (the op reads the first example's)."""
    if any(level_of(args[index]) == level.number for index in cls.shared):
        return cls.composite(*args, **kwargs)
    size = level.batch_size
    values = []
    inner = 0
    for arg in args:
        value, batched = unwrap(arg, level.number)
        if isinstance(value, Tensor):
            if not batched:
                value = _expand(value, size)
            inner = value.shape[1]
            value = value.reshape((size * inner, *value.shape[2:]))
        values.append(value)
    out = cls.apply(*values, **kwargs)
    if isinstance(out, Tensor):
        return make_batched(out.reshape((size, inner, *out.shape[1:])), level.number)
    return tuple(make_batched(o.reshape((size, inner, *o.shape[1:])), level.number)
                 for o in out)


_register(_shared_weight, matmul.SharedMatmul, linear.SharedLinear, linear.SharedLinearBackward)
_register(_matmul, matmul.Matmul, matmul.Mm, matmul.Bmm, matmul.Mv, matmul.Dot,
          matmul.VectorMatrix, matmul.MatrixBatchTransposed, matmul.MatrixBatchTransposedView)
_register(_outer, matmul.Outer)
_register(_linear, linear.Linear, linear.LinearMm, linear.LinearFolded,
          linear.LinearFoldedNoBias)
_register(_einsum, einsum.Einsum, einsum.EinsumProduct, einsum.EinsumPermute, einsum.EinsumSum,
          einsum.Tensordot)


# ----------------------------------------------------------------------------- losses
def _pointwise_loss(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                    level: Level) -> Any:
    """The loss per element (reduction='none', one call), then each example reduced."""
    values, _ = broadcast_values(args, level.number)
    if not (type(args[0]) is BatchedTensor and args[0]._level == level.number):
        values[0] = _expand(values[0], level.batch_size)  # the kernels write in its shape
    reduction_mode = kwargs["reduction"]
    out = cls.apply(*values, **{**kwargs, "reduction": "none"})
    if out.dim() - 1 < max(v.dim() for v in values if isinstance(v, Tensor)) - 1:
        out = _expand(out, level.batch_size)
    dims = tuple(range(1, out.dim()))
    if reduction_mode == "mean":
        out = out.mean(dims) if dims else out
    elif reduction_mode == "sum":
        out = out.sum(dims) if dims else out
    return make_batched(out, level.number)


_register(_pointwise_loss, margin_loss.SoftMarginLoss, loss.PointwiseLoss, loss.MseLoss,
          loss.SmoothL1Loss,
          loss.HuberLoss, loss.BinaryCrossEntropy, loss.BinaryCrossEntropyWithLogits)


def _bce_with_logits_grad(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                          level: Level) -> Any:
    """The fused d loss / d z kernel: elementwise in (grad, z, y, weight, pos_weight), its
    result in z's shape, so z is broadcast to every operand's batched shape first."""
    values, _ = broadcast_values(args, level.number)
    shape = broadcast_shapes(*(tuple(v.shape) for v in values if isinstance(v, Tensor)))
    if tuple(values[1].shape) != shape:
        values[1] = values[1].expand(shape)
    return make_batched(cls.apply(*values, **kwargs), level.number)


_register(_bce_with_logits_grad, loss.BinaryCrossEntropyWithLogitsGrad)


def _rows(value: Tensor, sizes: tuple[int, ...]) -> Tensor:
    """A physical value of shape `sizes` as a matrix of its rows, for the loss kernel alone
    (nothing else sees it, so it is not recorded as a view of `value`: one View node, as
    reshape's)."""
    if type(value) is BatchedTensor:  # batched by an outer vmap too: its own rule
        return value.reshape((-1, sizes[-1]))
    try:
        return shape.View.apply(value, shape=(math.prod(sizes[:-1]), sizes[-1]))
    except shape.NOT_VIEWABLE:  # a layout that allows no view (an expanded value)
        return value.reshape((-1, sizes[-1]))


def _nll_loss(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Per-element losses of the flattened batch (one call), then each example reduced with
    PyTorch's weighted mean."""
    x, target, weight = args
    size = level.batch_size
    x_value, x_batched = unwrap(x, level.number)
    t_value, t_batched = unwrap(target, level.number)
    if isinstance(weight, BatchedTensor):
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    if not x_batched:
        x_value = _expand(x_value, size)
    if not t_batched:
        t_value = _expand(t_value, size)
    shape = tuple(x_value.shape)
    if len(shape) > 3:  # (B, N, C, d...): the examples are more samples
        flat_x = x_value.reshape((size * shape[1], *shape[2:]))
        flat_t = t_value.reshape((size * shape[1], *shape[3:]))
    else:
        flat_x = _rows(x_value, shape)
        if type(t_value) is BatchedTensor:  # batched by an outer vmap too
            flat_t = t_value.reshape((-1,))
        else:  # class indices: never differentiated, reshaped as an array
            backend = t_value._backend
            flat_t = _wrap(backend.reshape(t_value._data, (-1,)), backend)
    losses = cls.apply(flat_x, flat_t, weight, **{**kwargs, "reduction": "none"})
    if flat_t.dim() != 1:
        flat_t = flat_t.reshape((-1,))
    mode = kwargs["reduction"]
    if mode == "mean" and weight is None and flat_t.shape[0] == size:
        # one row per example: its loss over whether its target counts (0/0 when ignored,
        # as PyTorch's mean over no targets; over 1, the loss itself, when none is ignored)
        if type(flat_t) is not BatchedTensor:  # class indices: checked on the array
            backend = flat_t._backend
            kept = backend.not_equal(flat_t._data, kwargs["ignore_index"])
            if backend.all_true(kept):
                return make_batched(losses, level.number)
        counted = flat_t != kwargs["ignore_index"]
        return make_batched(losses / counted, level.number)
    losses = losses.reshape((size, -1))
    if mode == "none":
        return make_batched(losses.reshape(tuple(t_value.shape)), level.number)
    if mode == "sum":
        return make_batched(losses.sum(1), level.number)
    valid = flat_t != kwargs["ignore_index"]
    if weight is None:
        weights = valid.to(losses.dtype)
    else:
        weights = weight.index_select(0, selection.where(valid, flat_t, 0)) * valid.to(losses.dtype)
    return make_batched(losses.sum(1) / weights.reshape((size, -1)).sum(1), level.number)


_register(_nll_loss, cross_entropy.NllLoss, cross_entropy.NllLoss2d)


def _nll_loss_backward(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                       level: Level) -> Any:
    """nll_loss's input gradient for a batched grad (Jacobians, Hessians: the targets and
    weights fixed by the forward): one scatter into (batch, *input shape), the class axis one
    further right, each example's grad spread over its own targets."""
    grad, safe, scale = args
    if level_of(safe) or level_of(scale) or any(
            type(kwargs[name]) is BatchedArray for name in ("total", "valid")):
        from .dispatch import fallback

        return fallback(cls, args, kwargs, level)
    size = level.batch_size
    value = _pad(unwrap(grad, level.number)[0], safe.dim())
    valid = kwargs["valid"]
    backend = value._backend
    out = cls.apply(value, _expand(safe, size), _expand(scale, size),
                    axis=kwargs["axis"] + 1, shape=(size, *kwargs["shape"]),
                    total=kwargs["total"],
                    valid=backend.broadcast_to(valid, (size, *valid.shape)))
    return make_batched(out, level.number)


_register(_nll_loss_backward, cross_entropy.NllLossBackward)


# ----------------------------------------------------------------------------- indexing
def _index_array(value: Any, batched: bool, size: int, backend: Any) -> Any:
    if batched:
        return value
    return backend.broadcast_to(value, (size, *value.shape))


def _gather_like(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """gather/scatter and friends: every tensor operand and the index batched (unbatched ones
    broadcast along the batch), the dim shifted."""
    values = [_first((arg,), level) if isinstance(arg, Tensor) else arg for arg in args]
    backend = values[0]._backend
    index, index_batched = unwrap(kwargs["index"], level.number)
    options = dict(kwargs)
    options["index"] = _index_array(index, index_batched, level.batch_size, backend)
    options["dim"] = _shift(kwargs["dim"])
    return make_batched(cls.apply(*values, **options), level.number)


_register(_gather_like, scatter.Gather, scatter.Scatter, scatter.ScatterAdd,
          scatter.ScatterValue, scatter_reduce.ScatterReduce)


def _index_along(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """index_add/index_copy/index_fill with a 1-d index of one example's dim: the index is
    shared, the tensors batched."""
    from .dispatch import fallback

    if type(kwargs["index"]) is BatchedArray:
        return fallback(cls, args, kwargs, level)
    values = [_first((arg,), level) if isinstance(arg, Tensor) else arg for arg in args]
    return make_batched(cls.apply(*values, **{**kwargs, "dim": _shift(kwargs["dim"])}),
                        level.number)


_register(_index_along, scatter.IndexAdd, scatter.IndexCopy, scatter.IndexFill,
          scatter_reduce.IndexReduce)


def _masked_fill(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """masked_fill (in place too): a mask per example lines up with the examples' tensor; a
    tensor value per example (MaskedFillTensor) is one number per example, broadcast over
    its elements. In place into a tensor the examples share, with a mask or value per
    example: PyTorch's error."""
    mask, mask_batched = unwrap(kwargs["mask"], level.number)
    values = [unwrap(arg, level.number) for arg in args[1:]]
    if kwargs.get("inplace") and not (type(args[0]) is BatchedTensor
                                      and args[0]._level == level.number):
        if cls is scatter.MaskedFillTensor:
            raise RuntimeError(INPLACE_AT_LEVEL.format(name="aten::masked_fill_",
                                                       level=levels.stack.index(level) + 1))
        raise RuntimeError(INPLACE_ARITHMETIC)
    input = _pad(_first(args, level), len(mask.shape) - (1 if mask_batched else 0))
    backend = input._backend
    if mask_batched:
        missing = input.dim() - len(mask.shape)
        if missing > 0:
            shape = tuple(mask.shape)
            mask = backend.reshape(mask, (shape[0], *(1,) * missing, *shape[1:]))
    rest = [value.reshape((level.batch_size, *(1,) * (input.dim() - 1))) if batched else value
            for value, batched in values]
    return make_batched(cls.apply(input, *rest, **{**kwargs, "mask": mask}), level.number)


# PyTorch's refusals of an in-place op into a tensor the examples share, from values that
# vary over them: its fallback's (the vmap numbered from 1, outermost first) and its in-place
# arithmetic rules'.
INPLACE_AT_LEVEL = (
    "vmap: {name}(self, *extra_args) is not possible because there exists a Tensor `other` in "
    "extra_args that has more elements than `self`. This happened due to `other` being vmapped "
    "over but `self` not being vmapped over at level {level}. Please try to use out-of-place "
    "operators instead of {name}. If said operator is being called inside the PyTorch "
    "framework, please file a bug report instead.")
INPLACE_ARITHMETIC = (
    "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor "
    "`other` in extra_args that has more elements than `self`. This happened due to `other` "
    "being vmapped over but `self` not being vmapped over in a vmap. Please try to use "
    "out-of-place operators instead of inplace arithmetic. If said operator is being called "
    "inside the PyTorch framework, please file a bug report instead.")


_register(_masked_fill, scatter.MaskedFill, scatter.MaskedFillTensor)


def check_inplace_into(name: str, tensor: Any, others: tuple[Any, ...]) -> None:
    """An in-place op (PyTorch's `name`) that writes values of `others` into `tensor`: none
    may vary over examples `tensor` does not have (PyTorch's fallback's error)."""
    number = max((level_of(other) for other in others), default=0)
    if number > level_of(tensor):
        position = [level.number for level in levels.stack].index(number) + 1
        raise RuntimeError(INPLACE_AT_LEVEL.format(name=name, level=position))


# ----------------------------------------------------------------------------- images
def _fold_batch(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Ops on (N, C, ...) images that treat each leading index alike (pooling, padding,
    resampling): the batch folded into the leading dim, one call."""
    from .dispatch import fallback

    if len(args) > 1 and any(isinstance(a, BatchedTensor) for a in args[1:]):
        return fallback(cls, args, kwargs, level)
    value = _first(args, level)
    shape = tuple(value.shape)
    out = cls.apply(value.reshape((shape[0] * shape[1], *shape[2:])), *args[1:], **kwargs)
    if isinstance(out, Tensor):
        return make_batched(out.reshape((shape[0], shape[1], *out.shape[1:])), level.number)
    return tuple(make_batched(o.reshape((shape[0], shape[1], *o.shape[1:])), level.number)
                 for o in out)


_register(_fold_batch, avg_pool.AvgPool2D, avg_pool.AvgPool3D, adaptive_pool.AdaptiveAvgPool2D,
          adaptive_pool.AdaptiveAvgPool3D, adaptive_pool.AdaptiveMaxPool2D,
          adaptive_pool.AdaptiveMaxPool3D, padding.ReflectionPad1D, padding.ReflectionPad2D,
          padding.ReflectionPad3D, padding.ReplicationPad1D, padding.ReplicationPad2D,
          padding.ReplicationPad3D, max_pool.MaxPool2DWithIndices,
          max_pool.MaxPool3DWithIndices)
_register(_fold_batch, *[cls for cls in vars(interpolate).values() if isinstance(cls, type)
                         and getattr(cls, "_op_name", "").startswith("Upsample")])
_register(_broadcasting, padding.ConstantPadNd)


# ----------------------------------------------------------------------------- random ops
def _random(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """Ops that draw inside forward. Their public functions apply the vmaps' randomness
    (`dispatch.random_op`): what reaches here is batched at a level with randomness 'same'
    (or one being looped over): every example draws the same numbers, from the same state of
    the generator."""
    from .dispatch import loop

    generator = kwargs.get("generator")
    backend = next(arg._backend for arg in args if isinstance(arg, Tensor))
    impl = generator if generator is not None else backend.default_generator
    state = impl.get_state()

    def same_draws(*sliced: Any, **options: Any) -> Any:
        impl.set_state(state)
        return cls.apply(*sliced, **options)

    return loop(same_draws, args, kwargs, level)


_register(_random, sampling.Bernoulli, sampling.BernoulliProbability, sampling.BernoulliTensor,
          sampling.Normal, sampling.NormalMeanTensor, sampling.NormalStdTensor, sampling.Poisson,
          variates.Binomial)


def _clone_like(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level) -> Any:
    """The copy the backward of an in-place write into a view starts from: one example's
    memory layout is not observable inside vmap, so a clone of the examples."""
    return make_batched(_first(args, level).clone(), level.number)


_register(_clone_like, CloneLike)


def elementwise_rule(cls: Any) -> Rule | None:
    """The broadcasting rule for an op that declares itself elementwise by its forward-mode
    rule (`jvp_rules.auto_element_wise`, PyTorch's `result: auto_element_wise`) and takes no
    dim options; None for any other op."""
    from ..jvp_rules import auto_element_wise

    if getattr(cls, "jvp", None) is auto_element_wise and not _DIM_OPTIONS & set(
            getattr(cls.forward, "__code__", _NO_CODE).co_varnames):
        RULES[cls] = _broadcasting
        return _broadcasting
    return None


_DIM_OPTIONS = {"dim", "dims", "axis", "axes", "shape", "key", "index", "mask"}
_NO_CODE = (lambda: None).__code__


# Elementwise ops declared by name where the op module has no forward-mode rule to tell:
# PyTorch's pointwise ops (every operand broadcast, one output element per element).
_POINTWISE = {
    "Heaviside", "Fmin", "Fmax", "Logaddexp", "Logaddexp2", "Xlogy", "XlogyNumberSelf",
    "XlogyNumberOther", "Copysign", "CopysignNumber", "Hypot", "Nextafter", "Fmod",
    "FmodTensor", "Ldexp", "Frexp", "NanToNum", "Logit", "Lgamma", "Polygamma", "Mvlgamma",
    "Igamma", "Igammac", "Erfc", "Erfinv", "Erfcx", "Ndtr", "Ndtri", "LogNdtr", "Entr",
    "Xlog1py", "Xlog1pyNumberOther", "I0", "I0e", "I1", "I1e", "Digamma", "Zeta",
    "ZetaNumberSelf", "Real", "Imag", "Conj", "ConjPhysical", "Angle", "MulNumber",
    "DivNumber", "Complex", "ViewAsReal",
}
# Ops with dim options, declared by name as above: (rule, class names).
_WITH_DIMS = (
    (_dims("dim"), {"Glu", "Cross"}),
    (_dims("axes", all_axes="axes"), {"NormDims", "Nansum", "VarMean", "StdMean"}),
)


def _register_pointwise() -> None:
    import importlib
    import pkgutil

    from .. import ops
    from ..function import Function

    for module_info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"{ops.__name__}.{module_info.name}")
        for name, cls in vars(module).items():
            if not (isinstance(cls, type) and issubclass(cls, Function)
                    and cls.__module__ == module.__name__ and cls not in RULES):
                continue
            if name in _POINTWISE:
                RULES[cls] = _broadcasting
            for rule, names in _WITH_DIMS:
                if name in names:
                    RULES[cls] = rule


_register_pointwise()
