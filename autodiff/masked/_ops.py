"""torch.masked's functional reductions and normalizations: `sum(input, dim, mask=mask)` and
the rest, on a strided tensor (or a MaskedTensor) with a boolean mask saying which elements
take part.

Each fills the masked-out elements with its operation's identity (0 for sum, 1 for prod, -inf
for amax, ...) and runs the plain op, as PyTorch's `torch.masked._ops`: the result is a plain
tensor, whose elements with nothing masked in hold whatever the identity gives. Written with
recorded ops, so gradients reach the input where the mask is True (0 elsewhere).
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..creation import ones
from ..function import Function
from ..linalg import vector_norm
from ..nn import functional as F
from ..ops.cumulative import cumprod as _cumprod
from ..ops.cumulative import cumsum as _cumsum
from ..ops.logarithmic import logaddexp as _logaddexp
from ..ops.minmax import amax as _amax
from ..ops.minmax import amin as _amin
from ..ops.minmax import argmax as _argmax
from ..ops.minmax import argmin as _argmin
from ..ops.order_statistics import nanmedian as _nanmedian
from ..ops.reduction import logsumexp as _logsumexp
from ..ops.reduction import sum as _sum
from ..ops.selection import where
from ..tensor import Tensor
from ..type_info import iinfo

_WIDENED = frozenset({dtypes.uint8, dtypes.bool_, dtypes.int8, dtypes.int16, dtypes.int32})


def _canonical_dim(dim: Any, ndim: int) -> tuple[int, ...]:
    """`dim` as a sorted tuple of wrapped dims; None (or ()) is every dim."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    wrapped = set()
    for d in dims:
        if d in wrapped or (d % max(ndim, 1)) in wrapped:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if d >= ndim or d < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {d})")
        wrapped.add(d % ndim)
    return tuple(sorted(wrapped))


def _identity(op_name: str, input: Tensor, ord: Any = 2) -> Any:
    """The value that leaves the reduction `op_name` unchanged (PyTorch's
    `_reduction_identity`), as a Python number for `where`, or None where there is none."""
    dtype = input.dtype
    if op_name in ("sum", "cumsum"):
        return 0
    if op_name in ("prod", "cumprod"):
        return 1
    if op_name == "median":
        return math.nan
    if op_name in ("amax", "argmax", "logsumexp", "logaddexp"):
        return -math.inf if dtype.is_floating_point else iinfo(dtype).min
    if op_name in ("amin", "argmin"):
        return math.inf if dtype.is_floating_point else iinfo(dtype).max
    if op_name == "norm":
        return math.inf if ord == -math.inf else 0
    return None


def input_mask(input: Tensor, mask: Tensor) -> Tensor:
    """The mask broadcast to the input's shape, as bool (PyTorch's `_input_mask`)."""
    if tuple(mask.shape) != tuple(input.shape):
        if mask.dim() > input.dim():
            raise IndexError("_input_mask expected broadcastable mask (got mask dimensionality "
                             "higher than of the input)")
        mask = mask.broadcast_to(input.shape)
    if mask.layout is not input.layout:
        mask = mask.to_dense() if not input.is_sparse else mask.to_sparse()
    return mask.to(dtypes.bool_)


def _combine(op_name: str, input: Tensor, mask: Tensor | None, ord: Any = 2) -> Tensor:
    """The input with its masked-out elements replaced by the op's identity. A MaskedTensor's
    data goes through `Combine`, so its gradient comes back masked with the tensor's mask."""
    from .maskedtensor import is_masked_tensor

    if is_masked_tensor(input):
        data: Tensor = input._masked_data
        return Combine.apply(data, mask=input._masked_mask, fill=_identity(op_name, data, ord))
    if mask is None:
        return input
    return where(input_mask(input, mask), input, _identity(op_name, input, ord))


class Combine(Function):
    """A MaskedTensor's data with the masked-out elements set to `fill`; its gradient is the
    incoming one as a MaskedTensor with that mask (PyTorch's `Combine` in torch.masked)."""

    node_name = "CombineBackward"

    @staticmethod
    def forward(ctx: Any, data: Any, *, mask: Tensor, fill: Any) -> Any:
        ctx.mask = mask
        backend = ctx.backend
        filled = backend.full(data.shape, fill, backend.dtype_name(data))
        return backend.where(mask._data, data, filled)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> Any:
        from .maskedtensor import MaskedTensor, is_masked_tensor

        if is_masked_tensor(grad_output):
            grad_output = grad_output._masked_data
        return MaskedTensor._make(grad_output, ctx.mask)


def _strided(name: str, input: Tensor) -> None:
    if input.is_sparse:
        raise ValueError(f"masked {name} expects strided tensor (got {input.layout} tensor)")


def _unwrapped(input: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
    from .maskedtensor import is_masked_tensor

    if is_masked_tensor(input):
        return input._masked_data, input._masked_mask
    return input, mask


def sum(input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None,
        mask: Tensor | None = None) -> Tensor:
    """The sum of the masked-in elements over `dim` (all dims by default)."""
    if dtype is None:
        dtype = dtypes.int64 if input.dtype in _WIDENED else input.dtype
    dims = _canonical_dim(dim, input.dim())
    combined = _combine("sum", input, mask)
    _strided("sum", combined)
    return _sum(combined, dims, bool(keepdim), dtype=dtype)


def prod(input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None,
         mask: Tensor | None = None) -> Tensor:
    """The product of the masked-in elements over `dim` (all dims by default)."""
    if dtype is None:
        dtype = dtypes.int64 if input.dtype in _WIDENED else input.dtype
    dims = _canonical_dim(dim, input.dim())
    result = _combine("prod", input, mask)
    _strided("prod", result)
    result = result.to(dtype)
    for d in reversed(dims):
        result = result.prod(dim=d, keepdim=bool(keepdim))
    return result


def cumsum(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """The running sum along `dim`, masked-out elements counting as 0."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.dim())[0]
    combined = _combine("sum", input, mask)
    _strided("cumsum", combined)
    return _cumsum(combined, d, dtype=dtype).to(dtype)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """The running product along `dim`, masked-out elements counting as 1."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.dim())[0]
    combined = _combine("prod", input, mask)
    _strided("cumprod", combined)
    return _cumprod(combined, d, dtype=dtype).to(dtype)


def amax(input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None,
         mask: Tensor | None = None) -> Tensor:
    """The largest masked-in element over `dim`."""
    dtype = input.dtype if dtype is None else dtype
    combined = _combine("amax", input, mask)
    _strided("amax", combined)
    return _amax(combined, _canonical_dim(dim, combined.dim()), bool(keepdim)).to(dtype)


def amin(input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None,
         mask: Tensor | None = None) -> Tensor:
    """The smallest masked-in element over `dim`."""
    dtype = input.dtype if dtype is None else dtype
    combined = _combine("amin", input, mask)
    _strided("amin", combined)
    return _amin(combined, _canonical_dim(dim, combined.dim()), bool(keepdim)).to(dtype)


def argmax(input: Tensor, dim: int | None = None, *, keepdim: bool = False, dtype: Any = None,
           mask: Tensor | None = None) -> Tensor:
    """The index of the largest masked-in element along `dim` (of the flattened input when
    dim is None), in `dtype` (the input's by default, as PyTorch's)."""
    dtype = input.dtype if dtype is None else dtype
    combined = _combine("argmax", input, mask)
    _strided("argmax", combined)
    return _argmax(combined, dim, bool(keepdim)).to(dtype)


def argmin(input: Tensor, dim: int | None = None, *, keepdim: bool = False, dtype: Any = None,
           mask: Tensor | None = None) -> Tensor:
    """The index of the smallest masked-in element along `dim`."""
    dtype = input.dtype if dtype is None else dtype
    combined = _combine("argmin", input, mask)
    _strided("argmin", combined)
    return _argmin(combined, dim, bool(keepdim)).to(dtype)


def mean(input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None,
         mask: Tensor | None = None) -> Tensor:
    """The mean of the masked-in elements over `dim` (nan where none is)."""
    source = "Optional"
    if dtype is None:
        dtype, source = input.dtype, "Input"
    dtype = dtypes.to_dtype(dtype)
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(f"mean(): Could not infer output dtype. {source} dtype must be either "
                         f"a floating point or complex dtype. Got: {dtype}")
    data, mask = _unwrapped(input, mask)
    _strided("mean", data)
    if mask is None:
        count = sum(ones(data.shape, dtype=dtypes.int64, device=data.device), dim,
                    keepdim=keepdim)
        total = sum(input, dim, keepdim=keepdim, dtype=dtype)
    else:
        inmask = input_mask(data, mask)
        count = sum(inmask, dim, keepdim=keepdim)
        total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=inmask)
    return total / count


def median(input: Tensor, dim: int = -1, *, keepdim: bool = False, dtype: Any = None,
           mask: Tensor | None = None) -> Tensor:
    """The median of the masked-in elements along `dim` (nan where none is; integers need
    every slice to have one)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.dim())[0]
    is_float = input.dtype.is_floating_point
    if not is_float:
        input = input.to(dtypes.float32)
    combined = _combine("median", input, mask)
    _strided("median", combined)
    output = _nanmedian(combined, d, keepdim).values
    if is_float:
        return output
    if bool(output.isnan().any()):
        raise ValueError("masked median expects no fully masked out rows if dtype is not "
                         "floating point")
    return output.to(dtype)


def logaddexp(input: Tensor, other: Tensor, *, dtype: Any = None,
              input_mask: Tensor | None = None, other_mask: Tensor | None = None) -> Tensor:
    """log(exp(input) + exp(other)), each masked-out element counting as -inf."""
    dtype = input.dtype if dtype is None else dtype
    if input.is_sparse or other.is_sparse:
        raise ValueError(f"masked logaddexp expects strided tensors (got {input.layout} tensor "
                         f"for input, {other.layout} for other)")
    first = _combine("logaddexp", input, input_mask)
    second = _combine("logaddexp", other, other_mask)
    return _logaddexp(first, second).to(dtype)


def logsumexp(input: Tensor, dim: Any = None, *, keepdim: bool = False, dtype: Any = None,
              mask: Tensor | None = None) -> Tensor:
    """log(sum(exp(x))) of the masked-in elements over `dim`."""
    dtype = input.dtype if dtype is None else dtype
    dims = _canonical_dim(dim, input.dim())
    combined = _combine("logsumexp", input, mask)
    _strided("logsumexp", combined)
    return _logsumexp(combined, dims, keepdim=keepdim).to(dtype)


def norm(input: Tensor, ord: Any = 2.0, dim: Any = None, *, keepdim: bool = False,
         dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """The vector `ord`-norm of the masked-in elements over `dim`."""
    dtype = input.dtype if dtype is None else dtype
    combined = _combine("norm", input, mask, ord)
    _strided("norm", combined)
    return vector_norm(combined, ord, _canonical_dim(dim, input.dim()), bool(keepdim),
                       dtype=dtype)


def _std_var(input: Tensor, dim: Any, unbiased: bool | None, correction: Any, keepdim: bool,
             dtype: Any, mask: Tensor | None, take_sqrt: bool) -> Tensor:
    if unbiased is not None and correction is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    amount = 1.0
    if unbiased is not None:
        amount = 1.0 if unbiased else 0.0
    if correction is not None:
        amount = float(correction)
    if dtype is None:
        dtype = input.dtype
        if not (dtype.is_floating_point or dtype.is_complex):
            dtype = dtypes.float32
    dtype = dtypes.to_dtype(dtype)
    compute = dtype if (dtype.is_floating_point or dtype.is_complex) else dtypes.float32
    data, mask = _unwrapped(input, mask)
    if data.is_sparse:
        raise ValueError(f"masked std/var expects strided tensor (got {data.layout} tensor)")
    if mask is None:
        inmask = None
        count = sum(ones(data.shape, dtype=dtypes.int64, device=data.device), dim, keepdim=True)
        sample_total = sum(input, dim, keepdim=True, dtype=dtype)
    else:
        inmask = input_mask(data, mask)
        count = sum(inmask, dim, keepdim=True)
        sample_total = sum(input, dim, keepdim=True, dtype=dtype, mask=inmask)
    x = input - sample_total / count
    total = sum(x * x.conj(), dim, keepdim=keepdim, dtype=compute, mask=inmask)
    if not keepdim:
        count = count.reshape(total.shape)
    if amount != 0:
        count = (count.to(compute.to_real() if compute.is_complex else compute) - amount)
        count = count.clamp_min(0)
    output = (total / count).to(dtype)
    return output.sqrt() if take_sqrt else output


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None, *, correction: Any = None,
        keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """The variance of the masked-in elements over `dim` (Bessel-corrected by default)."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt=False)


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None, *, correction: Any = None,
        keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """The standard deviation of the masked-in elements over `dim`."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt=True)


def _normalization(name: str, fill: str, function: Any, input: Tensor, dim: int, dtype: Any,
                   mask: Tensor | None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.dim())[0]
    combined = _combine(fill, input, mask)
    _strided(name, combined)
    return function(combined, d, dtype=dtype)


def softmax(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """Softmax along `dim` over the masked-in elements (masked-out ones get 0; a slice with
    none masked in is nan, as PyTorch's)."""
    return _normalization("softmax", "amax", F.softmax, input, dim, dtype, mask)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None,
                mask: Tensor | None = None) -> Tensor:
    """log(softmax) along `dim` over the masked-in elements (-inf for masked-out ones)."""
    return _normalization("log_softmax", "amax", F.log_softmax, input, dim, dtype, mask)


def softmin(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """Softmin along `dim` over the masked-in elements."""
    return _normalization("softmin", "amin", F.softmin, input, dim, dtype, mask)


def normalize(input: Tensor, ord: Any, dim: int, *, eps: float = 1e-12, dtype: Any = None,
              mask: Tensor | None = None) -> Tensor:
    """The input divided by its masked `ord`-norm along `dim` (at least `eps`); masked-out
    elements are 0."""
    dtype = input.dtype if dtype is None else dtype
    combined = _combine("sum", input, mask)
    _strided("normalize", combined)
    size = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    return combined / size.clamp_min(eps)

