"""`nn.functional.scaled_dot_product_attention`: softmax(q k^T * scale + mask) v as one op.

The forward and backward run on backend arrays in chunks of heads (all batch dims but the
last are walked one index at a time; the last, the heads, is cut into chunks of a few heads).
For each chunk the scores are one GEMM, then scaled, masked and soft-maxed in place; the
probabilities are kept for backward, and they are the only buffer of L x S per head that
outlives its chunk. The backward needs no second such buffer either: per chunk,
dP = dO v^T is made in place into dS = P * (dP - rowsum(dP * P)) (the softmax backward fused
into it), then dq = dS k * scale, dk = dS^T q * scale, dv = P^T dO. Nothing else is kept (not
the output: it may be changed in place without harm, as in PyTorch).

Dropout draws its mask per chunk from a generator of its own, seeded from the default
generator of the device: the backward (and the twin) replays the same draws, so the mask is
never stored. Grouped-query attention (enable_gqa) lays each key head's group of query heads
out as rows of one matrix, so keys and values are never repeated. Under create_graph the
backward is the recorded gradient of `attention_twin` (elementary ops), so double backward
works.

As PyTorch's math path: a bool mask marks the positions that take part; a float mask is
added; is_causal masks above the diagonal (top-left aligned); rows with nothing to attend to
give 0 (PyTorch's _safe_softmax). PyTorch's node is its final matmul's (UnsafeViewBackward0,
MmBackward0 for 2-D inputs; for some shapes PyTorch runs its CPU flash kernel instead, whose node
is ScaledDotProductFlashAttentionForCpuBackward0). Shapes are checked as its math path checks
them: its flash kernel accepts values of another length than the keys, which is refused here.
Which kernels are enabled (nn.attention.sdpa_kernel) is checked first, as PyTorch's dispatcher
does (attention_kernels.py). Float16 and bfloat16 inputs are computed in float32 and the result
rounded back, as PyTorch's math path does unless
torch.backends.cuda.allow_fp16_bf16_reduction_math_sdp(True).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..function import Function
from ..grad_mode import is_grad_enabled
from ..jvp_rules import jvp_from_backward
from ..tensor import Tensor, _wrap
from ._checks import same_device, scalar_type_name
from ._promotion import check_broadcast
from ._recorded import recorded_gradients
from .attention_kernels import check_kernel, flash_output_order, reduced_precision_math_allowed
from .selection import where
from .softmax import softmax

Array = Any
_REDUCED = (dtypes.float16, dtypes.bfloat16)
_CHUNK_BYTES = 1 << 20  # a chunk of heads is at least this big (or all the heads)...
_CHUNKS = 16  # ...and at most 1/16 of the probabilities, unless one head is more


class AttentionPlan:
    """The shapes of one call: the broadcast batch (heads last, key heads under GQA), the
    query rows per head (group * L), and how the heads are cut into chunks."""

    def __init__(self, batch: tuple[int, ...], group: int, length: int, source: int,
                 itemsize: int) -> None:
        self.batch, self.group, self.length, self.source = batch, group, length, source
        heads = batch[-1]
        per_head = group * length * source * itemsize
        total_heads = math.prod(batch)
        wanted = max(-(-total_heads // _CHUNKS), _CHUNK_BYTES // max(per_head, 1), 1)
        self.chunk = min(heads, wanted)

    def chunks(self) -> Iterator[tuple[tuple[int, ...], slice]]:
        """(outer index, slice of heads) for every chunk, in a fixed order."""
        heads = self.batch[-1]
        for outer in itertools.product(*(range(size) for size in self.batch[:-1])):
            for start in range(0, heads, self.chunk):
                yield outer, slice(start, min(start + self.chunk, heads))


def _index(shape: tuple[int, ...], outer: tuple[int, ...], heads: slice) -> tuple[Any, ...]:
    """The index of a chunk into an array whose batch dims broadcast (size 1) or not."""
    key: list[Any] = [index if size > 1 else 0 for index, size in zip(outer, shape)]
    key.append(heads if shape[len(outer)] > 1 else slice(0, 1))
    return (*key, ...)


class AttentionInputs:
    """q, k, v (and the mask) with their batch dims padded to the plan's, q's heads grouped
    by key head (the rows of a group's heads side by side)."""

    def __init__(self, backend: Any, q: Array, k: Array, v: Array, mask: Array | None,
                 plan: AttentionPlan) -> None:
        ndim = len(plan.batch) + 2
        self.q = _pad(backend, _group(backend, q, plan.group), ndim)
        self.k, self.v = _pad(backend, k, ndim), _pad(backend, v, ndim)
        self.mask = None if mask is None else _pad(backend, mask, ndim)


def _group(backend: Any, array: Array, group: int) -> Array:
    """(..., Hk * G, L, E) -> (..., Hk, G * L, E): each key head's query heads as rows."""
    if group == 1:
        return array
    shape = array.shape
    return backend.reshape(array, (*shape[:-3], shape[-3] // group, group * shape[-2],
                                   shape[-1]))


def _pad(backend: Any, array: Array, ndim: int) -> Array:
    if array.ndim >= ndim:
        return array
    return backend.reshape(array, (1,) * (ndim - array.ndim) + array.shape)


def _mask_chunk(backend: Any, mask: Array, outer: tuple[int, ...], heads: slice,
                group: int) -> Array:
    """The mask's part for a chunk, shaped (heads or 1, group or 1, L or 1, S or 1) to
    broadcast against the chunk's scores viewed as (heads, group, L, S)."""
    ndim = len(outer)
    key: list[Any] = [index if size > 1 else 0 for index, size in zip(outer, mask.shape)]
    if mask.shape[ndim] > 1:
        key.append(slice(heads.start * group, heads.stop * group))
        part = backend.getitem(mask, (*key, ...))
        return backend.reshape(part, (heads.stop - heads.start, group, *part.shape[-2:]))
    key.append(slice(0, 1))
    part = backend.getitem(mask, (*key, ...))
    return backend.reshape(part, (1, 1, *part.shape[-2:]))


def _dropout_keep(backend: Any, generator: Any, shape: tuple[int, ...], dtype: str,
                  p: float) -> Array:
    """The chunk's dropout factor: 0 or 1 / (1 - p), drawn from `generator`."""
    keep = backend.less(backend.rand(shape, dtype, generator), 1.0 - p)
    return backend.multiply(backend.astype(keep, dtype), 0.0 if p >= 1 else 1.0 / (1.0 - p))


class ScaledDotProductAttention(Function):
    """Inputs q, k, v, a float mask (or None); options: a bool mask (not differentiable),
    the scale, is_causal, the group size (GQA), the dropout p and its generator's seed."""

    node_name = "UnsafeViewBackward0"

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, q: Array, k: Array, v: Array, float_mask: Array | None, *,
                bool_mask: Array | None, scale: float, causal: bool, group: int,
                batch: tuple[int, ...], output_shape: tuple[int, ...], dropout_p: float,
                seed: int | None, order: tuple[int, ...] | None = None) -> Array:
        backend = ctx.backend
        dtype = backend.dtype_name(q)
        length, source = q.shape[-2], k.shape[-2]
        plan = AttentionPlan(batch, group, length, source, _itemsize(dtype))
        mask = bool_mask if bool_mask is not None else float_mask
        inputs = AttentionInputs(backend, q, k, v, mask, plan)
        out = backend.zeros((*batch, group * length, v.shape[-1]), dtype)
        ctx.options = (plan, scale, causal, dropout_p, seed, bool_mask is not None)
        if length == 0 or source == 0:
            ctx.save_for_backward(q, k, v, float_mask, bool_mask)
            return backend.reshape(out, output_shape)
        causal_bias = _causal_bias(backend, length, source, dtype) if causal else None
        generator = None if seed is None else backend.new_generator(seed)
        probabilities = []
        for outer, heads in plan.chunks():
            scores = _scores(backend, inputs, plan, outer, heads, scale, causal_bias,
                             bool_mask is not None)
            _softmax_rows(backend, scores)
            probabilities.append(scores)
            weights = scores
            if generator is not None:
                weights = scores * _dropout_keep(backend, generator, scores.shape, dtype,
                                                 dropout_p)
            values = backend.getitem(inputs.v, _index(inputs.v.shape, outer, heads))
            backend.setitem(out, (*outer, heads, ...), backend.matmul(weights, values))
        out = backend.reshape(out, output_shape)
        ctx.save_for_backward(q, k, v, float_mask, bool_mask, *probabilities)
        if order is not None:  # PyTorch's CPU flash kernel lays its output out as the query
            out = backend.permute_dims(backend.contiguous_copy(backend.permute_dims(out, order)),
                                       tuple(order.index(dim) for dim in range(len(order))))
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        saved = ctx.saved_tensors
        q, k, v, float_mask, bool_mask = saved[:5]
        needs = ctx.needs_input_grad
        if is_grad_enabled():
            plan, scale, causal, dropout_p, seed, _ = ctx.options
            mask = bool_mask if bool_mask is not None else float_mask

            def twin(q: Tensor, k: Tensor, v: Tensor, float_mask: Tensor | None
                     ) -> tuple[Tensor]:
                return (attention_twin(q, k, v, mask if float_mask is None else float_mask,
                                       scale, causal, plan, dropout_p, seed),)

            return recorded_gradients(twin, (q, k, v, float_mask), needs, (grad,))
        return _attention_backward(ctx, grad, saved)


class ScaledDotProductAttentionMm(ScaledDotProductAttention):
    node_name = "MmBackward0"  # 2-D inputs: PyTorch's last matmul is an mm


def _itemsize(dtype: str) -> int:
    return dtypes.BY_NAME[dtype].itemsize


def _causal_bias(backend: Any, length: int, source: int, dtype: str) -> Array:
    """0 on and below the diagonal (top-left aligned), -inf above: added to the scores."""
    rows = backend.reshape(backend.arange(0, length, 1, "int64"), (length, 1))
    columns = backend.reshape(backend.arange(0, source, 1, "int64"), (1, source))
    zero = backend.zeros((), dtype)
    return backend.where(columns <= rows, zero, backend.full((), -math.inf, dtype))


def _scores(backend: Any, inputs: AttentionInputs, plan: AttentionPlan, outer: tuple[int, ...],
            heads: slice, scale: float, causal_bias: Array | None, boolean: bool) -> Array:
    """The chunk's scaled, masked scores, (heads, group * L, S): one GEMM, then in place."""
    query = backend.getitem(inputs.q, _index(inputs.q.shape, outer, heads))
    key = backend.getitem(inputs.k, _index(inputs.k.shape, outer, heads))
    scores = backend.matmul(query, backend.permute_dims(key, (0, 2, 1)))
    count = heads.stop - heads.start
    if scores.shape[0] != count:  # q broadcast over these heads (k, v are not)
        scores = backend.asarray(backend.broadcast_to(scores, (count, *scores.shape[1:])),
                                 copy=True)
    scores *= scale
    if inputs.mask is None and causal_bias is None:
        return scores
    grouped = backend.reshape(scores, (count, plan.group, plan.length, plan.source))
    if inputs.mask is not None:
        part = _mask_chunk(backend, inputs.mask, outer, heads, plan.group)
        if boolean:
            grouped = backend.where(part, grouped, backend.full((), -math.inf,
                                                                 backend.dtype_name(scores)))
        else:
            grouped += part
    if causal_bias is not None:
        grouped += causal_bias
    return backend.reshape(grouped, scores.shape)


def _softmax_rows(backend: Any, scores: Array) -> None:
    """Softmax along the last axis, in place; rows that are all -inf give 0."""
    peak = backend.max(scores, axis=-1, keepdims=True)
    peak = backend.where(backend.isinf(peak), backend.zeros((), backend.dtype_name(peak)), peak)
    scores -= peak
    backend.setitem(scores, (...,), backend.exp(scores))
    total = backend.sum(scores, axis=-1, keepdims=True)
    scores /= backend.where(total == 0, backend.ones((), backend.dtype_name(total)), total)


def _attention_backward(ctx: Any, grad: Tensor, saved: tuple[Any, ...]
                        ) -> tuple[Tensor | None, ...]:
    backend = ctx.backend
    q, k, v = (t._data for t in saved[:3])
    plan, scale, _, dropout_p, seed, _ = ctx.options
    needs = ctx.needs_input_grad
    dtype = backend.dtype_name(q)
    batch, group, length, source = plan.batch, plan.group, plan.length, plan.source
    grad_q = backend.zeros((*batch, group * length, q.shape[-1]), dtype)
    grad_k = backend.zeros((*batch, source, k.shape[-1]), dtype)
    grad_v = backend.zeros((*batch, source, v.shape[-1]), dtype)
    grad_mask = (backend.zeros((*batch[:-1], batch[-1] * group, length, source), dtype)
                 if needs[3] else None)
    if length and source:
        grad_out = backend.reshape(grad._data, (*batch, group * length, v.shape[-1]))
        probabilities = [p._data for p in saved[5:]]
        inputs = AttentionInputs(backend, q, k, v, None, plan)
        generator = None if seed is None else backend.new_generator(seed)
        for (outer, heads), probs in zip(plan.chunks(), probabilities):
            at = (*outer, heads, ...)
            grad_chunk = backend.getitem(grad_out, at)
            query = backend.getitem(inputs.q, _index(inputs.q.shape, outer, heads))
            key = backend.getitem(inputs.k, _index(inputs.k.shape, outer, heads))
            values = backend.getitem(inputs.v, _index(inputs.v.shape, outer, heads))
            grad_probs = backend.matmul(grad_chunk, backend.permute_dims(values, (0, 2, 1)))
            weights = probs
            if generator is not None:
                keep = _dropout_keep(backend, generator, probs.shape, dtype, dropout_p)
                grad_probs *= keep
                weights = probs * keep
            backend.setitem(grad_v, at, backend.matmul(backend.permute_dims(weights, (0, 2, 1)),
                                                       grad_chunk))
            # dS = P * (dP - rowsum(dP * P)), in dP's buffer
            grad_probs -= backend.sum(grad_probs * probs, axis=-1, keepdims=True)
            grad_probs *= probs
            if grad_mask is not None:
                count = heads.stop - heads.start
                rows = slice(heads.start * group, heads.stop * group)
                backend.setitem(grad_mask, (*outer, rows, ...),
                                backend.reshape(grad_probs, (count * group, length, source)))
            grad_probs *= scale
            backend.setitem(grad_q, at, backend.matmul(grad_probs, key))
            backend.setitem(grad_k, at, backend.matmul(backend.permute_dims(grad_probs, (0, 2, 1)),
                                                       query))
    heads_q = batch[-1] * group
    results = [
        backend.reshape(grad_q, (*batch[:-1], heads_q, length, q.shape[-1])) if needs[0] else None,
        grad_k if needs[1] else None,
        grad_v if needs[2] else None,
        grad_mask,
    ]
    return tuple(None if r is None else _wrap(r, backend) for r in results)


# ----------------------------------------------------------------------------- the twin
def attention_twin(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, scale: float,
                   causal: bool, plan: AttentionPlan, dropout_p: float,
                   seed: int | None) -> Tensor:
    """ScaledDotProductAttention in elementary Tensor ops (keys and values repeated per
    group): its definition, differentiated under create_graph."""
    if plan.group > 1:
        k, v = (_repeat_heads(t, plan.group) for t in (k, v))
    scores = (q @ k.mT) * scale
    if mask is not None:
        scores = scores.masked_fill(mask.logical_not(), -math.inf) if mask.dtype is dtypes.bool_ \
            else scores + mask
    if causal:
        length, source = scores.shape[-2], scores.shape[-1]
        backend = q._backend
        allowed = _wrap(_causal_bias(backend, length, source, backend.dtype_name(q._data)) == 0,
                        backend)
        scores = scores.masked_fill(allowed.logical_not(), -math.inf)
    empty = (scores == -math.inf).all(-1, keepdim=True)
    probs = where(empty, 0.0, softmax(where(empty, 0.0, scores), -1))
    if seed is not None:
        probs = probs * _replayed_dropout(q, probs.shape, plan, dropout_p, seed)
    return probs @ v


def _repeat_heads(tensor: Tensor, group: int) -> Tensor:
    """(..., H, S, E) -> (..., H * group, S, E), each head repeated group times in a row."""
    shape = tuple(tensor.shape)
    expanded = tensor.unsqueeze(-3).expand(*shape[:-2], group, *shape[-2:])
    return expanded.reshape(*shape[:-3], shape[-3] * group, *shape[-2:])


def _replayed_dropout(q: Tensor, shape: Any, plan: AttentionPlan, p: float, seed: int) -> Tensor:
    """The forward's dropout factors, drawn again chunk by chunk, as one (..., Hq, L, S)."""
    backend = q._backend
    dtype = backend.dtype_name(q._data)
    generator = backend.new_generator(seed)
    full = backend.zeros((*plan.batch, plan.group * plan.length, plan.source), dtype)
    for outer, heads in plan.chunks():
        count = heads.stop - heads.start
        backend.setitem(full, (*outer, heads, ...), _dropout_keep(
            backend, generator, (count, plan.group * plan.length, plan.source), dtype, p))
    grouped = backend.reshape(full, (*plan.batch[:-1], plan.batch[-1] * plan.group,
                                     plan.length, plan.source))
    return _wrap(backend.reshape(grouped, tuple(shape)), backend)


# ----------------------------------------------------------------------------- the function
@autocast_op("scaled_dot_product_attention")
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value, with dropout on the attention weights."""
    if query.is_nested or key.is_nested or value.is_nested:
        from ..nested import ops as nested_ops  # built on this module: imported on use

        return nested_ops.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p,
                                                       is_causal, scale, enable_gqa)
    _check_inputs(query, key, value, attn_mask)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"expected scalar type Float but found {scalar_type_name(query)}")
    if dropout_p > 1:
        raise RuntimeError(
            f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    check_kernel(query, key, value, attn_mask, dropout_p, enable_gqa)
    if query.dtype in _REDUCED and not reduced_precision_math_allowed():
        # As PyTorch's math path: half precision computed in float32, the result rounded back
        # (its CPU flash kernel accumulates in float32 too).
        mask = attn_mask
        if mask is not None and mask.dtype.is_floating_point:
            mask = mask.float()
        return _attention(query.float(), key.float(), value.float(), mask, dropout_p,
                          is_causal, scale, enable_gqa).to(query.dtype)
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)


def _attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None,
               dropout_p: float, is_causal: bool, scale: float | None,
               enable_gqa: bool) -> Tensor:
    group = 1
    if enable_gqa:
        key, value, group = _group_query_heads(query, key, value)
    batch, output_batch = _check_shapes(query, key, value, attn_mask, group)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    seed = None
    if dropout_p > 0:
        seed = int(query._backend.item(query._backend.randint(0, 2**62, (), "int64")))
    float_mask = bool_mask = None
    if attn_mask is not None:
        if attn_mask.dtype is dtypes.bool_:
            bool_mask = attn_mask._data
        else:
            float_mask = attn_mask
    output_shape = (*output_batch, query.shape[-2], value.shape[-1])
    options = {"bool_mask": bool_mask, "scale": scale, "causal": is_causal, "group": group,
               "batch": batch, "output_shape": output_shape, "dropout_p": dropout_p,
               "seed": seed}
    if not output_batch:
        return ScaledDotProductAttentionMm.apply(query, key, value, float_mask, **options)
    order = flash_output_order(query, key, value, attn_mask, dropout_p, enable_gqa)
    if order is not None:
        options["order"] = order
    return ScaledDotProductAttention.apply(query, key, value, float_mask, **options)


def _check_inputs(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None) -> None:
    """PyTorch's validate_sdpa_input."""
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_cpp(query)} key.dtype: {_cpp(key)} and value.dtype: {_cpp(value)} instead.")
    same_device(query, key, value, mask)
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got "
            f"query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if mask is not None and mask.dtype not in (dtypes.bool_, dtypes.float32, query.dtype):
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {_cpp(mask)} and  query.dtype: {_cpp(query)} instead.")


def _cpp(tensor: Tensor) -> str:
    from ._checks import cpp_type_name

    return cpp_type_name(tensor)


def _group_query_heads(query: Tensor, key: Tensor, value: Tensor
                       ) -> tuple[Tensor, Tensor, int]:
    """enable_gqa: the group size when key and value have the same number of heads (keys are
    then never repeated); otherwise each is repeated to the query's heads."""
    heads, key_heads, value_heads = query.size(-3), key.size(-3), value.size(-3)
    if heads == key_heads == value_heads:
        return key, value, 1
    if heads % key_heads or heads % value_heads:
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
    if key_heads == value_heads:
        return key, value, heads // key_heads
    return (_repeat_heads(key, heads // key_heads), _repeat_heads(value, heads // value_heads), 1)


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None,
                  group: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The broadcast batch dims (key heads last under GQA; (1,) when there are none) and the
    output's batch dims, with PyTorch's errors: its matmuls' (q @ k^T, then @ v) and its
    in-place mask add's."""
    q_shape = tuple(query.shape)
    if group > 1:
        q_shape = (*q_shape[:-3], q_shape[-3] // group, *q_shape[-2:])
    k_shape, v_shape = tuple(key.shape), tuple(value.shape)
    batch_qk = _broadcast(q_shape[:-2], k_shape[:-2])
    count = math.prod(batch_qk) * group
    if q_shape[-1] != k_shape[-1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{count}, {q_shape[-1]}] but got: [{count}, {k_shape[-1]}].")
    batch = _broadcast(batch_qk, v_shape[:-2])
    count = math.prod(batch) * group
    if v_shape[-2] != k_shape[-2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{count}, {k_shape[-2]}] but got: [{count}, {v_shape[-2]}].")
    heads = (batch[-1] * group,) if batch else ()
    output_batch = (*batch[:-1], *heads)
    if mask is not None:
        scores = (*output_batch, q_shape[-2], k_shape[-2])
        mask_shape = tuple(mask.shape)
        check_broadcast(scores, mask_shape)
        full = _broadcast(scores, mask_shape)
        if full != scores:
            raise RuntimeError(f"output with shape {list(scores)} doesn't match the broadcast "
                               f"shape {list(full)}")
    return (batch if batch else (1,)), output_batch


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    check_broadcast(a, b)
    ndim = max(len(a), len(b))
    a = (1,) * (ndim - len(a)) + a
    b = (1,) * (ndim - len(b)) + b
    return tuple(max(x, y) if min(x, y) != 0 else 0 for x, y in zip(a, b))
