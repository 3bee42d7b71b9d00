"""Index-based functions of `nn.functional` (PyTorch's "sparse functions"): embedding, with its
twice-differentiable backward, and one_hot."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..batching.dispatch import function_rule
from ..function import Function
from ..grad_mode import no_grad
from ..jvp_rules import auto_linear
from ..saved_fields import fields, saved, value
from ..tensor import Tensor, _wrap
from .indexing import same_device_index
from .norm import vector_norm
from .sparse_coo import SparseCooTensor


class Embedding(Function):
    """Rows of weight at the indices; the gradient adds into those rows (repeats accumulate)."""

    node_name = "EmbeddingBackward0"
    saved_fields = fields(
        indices=saved(0), weight_sym_argsize_0=value("options", lambda options: options[0]),
        padding_idx=value("options", lambda options: -1 if options[1] is None else options[1]),
        scale_grad_by_freq=value("options", lambda options: options[2]),
        sparse=value("sparse"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, weight: Any, indices: Any, *, padding_idx: int | None,
                scale_grad_by_freq: bool, sparse: bool = False) -> Any:
        backend = ctx.backend
        ctx.options = (weight.shape[0], padding_idx, scale_grad_by_freq)
        ctx.sparse = sparse
        ctx.save_for_backward(indices)
        rows = backend.take(weight, backend.reshape(indices, (-1,)), axis=0)
        return backend.reshape(rows, (*indices.shape, weight.shape[1]))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        indices, = ctx.saved_tensors
        num_weights, padding_idx, by_freq = ctx.options
        if ctx.sparse:
            if by_freq:
                raise RuntimeError(SPARSE_BY_FREQ)
            values = grad.reshape(-1, grad.shape[-1])
            flat = grad._backend.reshape(indices._data, (-1,))
            return sparse_weight_grad(values, flat, num_weights, padding_idx), None
        return EmbeddingBackward.apply(grad, indices, num_weights=num_weights,
                                       padding_idx=padding_idx, scale_grad_by_freq=by_freq), None


SPARSE_BY_FREQ = "embedding_backward: scale_grad_by_freq not supported with sparse gradients"


def inverse_frequency(backend: Any, flat: Any, num_weights: int, like: Any) -> Any:
    """1 / (how often each index occurs), per index position, as a (K, 1) column of like's
    dtype."""
    dtype = backend.dtype_name(like)
    counts = backend.zeros((num_weights,), dtype)
    backend.index_add(counts, (flat,), backend.ones(flat.shape, dtype))
    return backend.expand_dims(backend.divide(1.0, backend.take(counts, flat, axis=0)), axis=1)


def sparse_weight_grad(values: Tensor, flat: Any, num_weights: int,
                       padding_idx: int | None) -> Tensor:
    """An embedding weight's sparse COO gradient (PyTorch's embedding_sparse_backward):
    uncoalesced, one entry per looked-up index (`flat`, 1-D) with its gradient row of `values`
    (K, dim); the positions of padding_idx are left out."""
    backend = values._backend
    flat = backend.astype(flat, "int64")
    if padding_idx is not None:
        keep = backend.astype(backend.nonzero(backend.not_equal(flat, padding_idx))[0], "int64")
        flat = backend.take(flat, keep, axis=0)
        values = values.index_select(0, _wrap(keep, backend))
    return SparseCooTensor.apply(values, indices=backend.reshape(flat, (1, -1)),
                                 shape=(num_weights, values.shape[1]), coalesced=False)


class EmbeddingBackward(Function):
    """Scatter-add grad's rows into a (num_weights, dim) zero matrix, each row first scaled by
    0 (the padding index) or 1 / its count (scale_grad_by_freq)."""

    node_name = "EmbeddingDenseBackwardBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, grad: Any, indices: Any, *, num_weights: int,
                padding_idx: int | None, scale_grad_by_freq: bool) -> Any:
        backend = ctx.backend
        dtype = backend.dtype_name(grad)
        flat = backend.reshape(indices, (-1,))
        dim = grad.shape[-1]
        values = backend.reshape(grad, (-1, dim))
        kept = scale = None
        if padding_idx is not None:
            kept = backend.astype(backend.not_equal(flat, padding_idx), dtype)
            scale = kept
        if scale_grad_by_freq:
            counts = backend.zeros((num_weights,), dtype)
            backend.index_add(counts, flat, backend.ones(flat.shape, dtype))
            frequency = backend.divide(1.0, backend.take(counts, flat, axis=0))
            scale = frequency if scale is None else backend.multiply(scale, frequency)
        if scale is not None:
            values = backend.multiply(values, backend.expand_dims(scale, axis=1))
        ctx.save_for_backward(indices, None if kept is None else backend.reshape(kept,
                                                                                 indices.shape))
        out = backend.zeros((num_weights, dim), dtype)
        # Every element addressed by integer arrays (rows x columns): the portable scatter key.
        columns = backend.reshape(backend.arange(0, dim, 1, "int64"), (1, dim))
        return backend.index_add(out, (backend.reshape(flat, (-1, 1)), columns), values)

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> tuple[Tensor, None]:
        indices, kept = ctx.saved_tensors
        # The lookup again, without the padding rows. As in PyTorch, the 1 / count scaling is
        # not applied here: the path back to the weight goes through Embedding's backward,
        # which scales once, so this is the derivative of the scaled first gradient.
        rows = Embedding.apply(outer, indices, padding_idx=None, scale_grad_by_freq=False)
        return (rows if kept is None else rows * kept.unsqueeze(-1)), None


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """weight[input]: a lookup table of rows; padding_idx's row gets no gradient. With
    `sparse=True` the weight's gradient is a sparse COO tensor (one entry per index)."""
    num_weights = weight._data.shape[0] if weight._data.ndim else 0
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= num_weights:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -num_weights:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx += num_weights
    if input.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got torch.{dtypes.LEGACY_NAMES[input.dtype.name]} instead "
            "(while checking arguments for embedding)"
        )
    if weight._data.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    same_device_index("embedding", weight, input)  # PyTorch's embedding is an index_select
    backend = input._backend
    indices = input._data
    if indices.size:
        outside = backend.logical_or(backend.less(indices, 0),
                                     backend.greater_equal(indices, num_weights))
        if backend.any_true(outside):
            raise IndexError("index out of range in self")
    if max_norm is not None:
        embedding_renorm_(weight, indices, max_norm, norm_type)
    return Embedding.apply(weight, input, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def embedding_renorm_(weight: Tensor, indices: Any, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows whose norm exceeds max_norm down to it, in place (PyTorch's
    embedding_renorm_, outside the graph)."""
    with no_grad():
        backend = weight._backend
        flat = backend.reshape(indices, (-1,))
        rows = _wrap(backend.take(weight._data, flat, axis=0), backend)
        norms = vector_norm(rows, norm_type, 1)._data
        factor = backend.where(backend.greater(norms, max_norm),
                               backend.divide(max_norm, norms + 1e-7), 1.0)
        factor = backend.astype(backend.expand_dims(factor, axis=1), backend.dtype_name(rows._data))
        backend.setitem(weight._data, flat, backend.multiply(rows._data, factor))
        weight._bump_version()


@function_rule("one_hot", seen=True)
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot vectors along a new last dim (not differentiable)."""
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    backend = tensor._backend
    data = tensor._data
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(backend.item(backend.max(data))) + 1
    if data.size and backend.holds_values:  # (PyTorch's meta kernel checks no values)
        if backend.item(backend.min(data)) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if backend.item(backend.max(data)) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    classes = backend.arange(0, num_classes, 1, "int64")
    hot = backend.equal(backend.expand_dims(data, axis=data.ndim), classes)
    return _wrap(backend.astype(hot, "int64"), backend)
