"""What each op does to a MaskedTensor, by its aten name (PyTorch's maskedtensor tables:
unary.py, binary.py, passthrough.py, reductions.py, _ops_refs.py).

- Unary (`UNARY`): the op on the data, the mask kept. No other tensor argument.
- Binary (`BINARY`): the op on the two datas; masks must match (ValueError otherwise), the
  result has that mask. Sparse (COO or CSR) data: the op on the values, which share indices
  (`_values_op`: masked gradients go back through the values).
- where, softmax, clone, detach, _to_copy, ones_like: their own rules below.
- Reductions (`REDUCTIONS`): torch.masked's reduction of the data over the mask, its result
  masked where any element was masked in.
Anything else is refused as PyTorch's dispatcher refuses an op no `__torch_dispatch__` takes.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .. import dtypes, layouts
from ..creation import tensor as autodiff_tensor
from ..function import Function
from ..op_overloads import overload_of
from ..ops.selection import Where
from ..ops.shape import SumToSize
from ..tensor import Tensor, _wrap
from ..user_warnings import warn
from . import _ops
from .maskedtensor import MaskedTensor, is_masked_tensor

UNARY = frozenset({
    "abs", "absolute", "acos", "arccos", "acosh", "arccosh", "angle", "asin", "arcsin", "asinh",
    "arcsinh", "atan", "arctan", "atanh", "arctanh", "bitwise_not", "ceil", "clamp", "clip",
    "conj_physical", "cos", "cosh", "deg2rad", "digamma", "erf", "erfc", "erfinv", "exp", "exp2",
    "expm1", "fix", "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "logit", "i0",
    "isnan", "nan_to_num", "neg", "negative", "positive", "pow", "rad2deg", "reciprocal",
    "round", "rsqrt", "sigmoid", "sign", "sgn", "signbit", "sin", "sinc", "sinh", "sqrt",
    "square", "tan", "tanh", "trunc"})
BINARY = frozenset({
    "add", "atan2", "arctan2", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
    "bitwise_right_shift", "div", "divide", "floor_divide", "fmod", "logaddexp", "logaddexp2",
    "mul", "multiply", "nextafter", "remainder", "sub", "subtract", "true_divide", "eq", "ne",
    "le", "ge", "greater", "greater_equal", "gt", "less_equal", "lt", "less", "maximum",
    "minimum", "fmax", "fmin", "not_equal", "rsub"})
REDUCTIONS = ("sum", "mean", "amin", "amax", "argmin", "argmax", "prod", "all", "norm", "var",
              "std")


def not_implemented(name: str) -> TypeError:
    """PyTorch's warning and error for an op MaskedTensor does not take."""
    warn(
        f"{name} is not implemented in __torch_dispatch__ for MaskedTensor.\nIf you would like "
        "this operator to be supported, please file an issue for a feature request at "
        "https://github.com/pytorch/maskedtensor/issues with a minimal reproducible code "
        "snippet.\nIn the case that the semantics for the operator are not trivial, it would "
        "be appreciated to also include a proposal for the semantics.", UserWarning,
        stacklevel=4)
    return TypeError(
        f"Multiple dispatch failed for 'torch._ops.aten.{name}.default'; all __torch_dispatch__ "
        "handlers returned NotImplemented:\n\n  - tensor subclass "
        "<class 'torch.masked.maskedtensor.core.MaskedTensor'>\n\nFor more information, try "
        "re-running with TORCH_LOGS=not_implemented")


def _name(op: Any, args: tuple[Any, ...]) -> str:
    overload = overload_of(op(), args)
    if overload is None:  # no aten operator by that name: the class's own, in aten's spelling
        return re.sub(r"(?<!^)(?=[A-Z])", "_", op._op_name).lower()
    return overload.name().removeprefix("aten::").split(".")[0]


def apply_op(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`op.apply(*args, **kwargs)` where an argument is a MaskedTensor."""
    name = _name(op, args)
    if name in UNARY:
        return _unary(op, args, kwargs)
    if name in BINARY:
        return _binary(op, args, kwargs)
    if name in _PASSTHROUGH:
        return _passthrough(op, args, kwargs)
    if op is SumToSize:
        return _sum_to_size(args[0], kwargs["shape"])
    rule = _RULES.get(name)
    if rule is None:
        raise not_implemented(name)
    return rule(op, args, kwargs)


def _values_op(op: Any, masked: MaskedTensor, others: list[Any],
               kwargs: dict[str, Any]) -> MaskedTensor:
    """The op on a sparse (COO or CSR) masked tensor's values, the indices and mask kept; a
    sparse masked operand among `others` gives its values. The graph runs through the values
    (`MaskedValues`, `MaskedFromValues`), so a masked gradient reaches the data masked."""
    data = masked._masked_data
    if data.layout is layouts.sparse_coo:
        data = data.coalesce()
    values = MaskedValues.apply(data, mask=masked._masked_mask)
    others = [MaskedValues.apply(other._masked_data.coalesce() if other.is_sparse_coo()
                                 else other._masked_data, mask=other._masked_mask)
              if is_masked_tensor(other) else other for other in others]
    result = op.apply(values, *others, **kwargs)
    node = _FROM_VALUES_NODES.get(op)
    if node is None:
        node = _FROM_VALUES_NODES[op] = type(f"MaskedFromValues{op._op_name}",
                                             (MaskedFromValues,), {"node_name": op.node_name})
    return MaskedTensor._make(node.apply(result, like=data._data, mask=masked._masked_mask),
                              masked._masked_mask)


def _unwrap(grad: Tensor) -> Tensor:
    return grad._masked_data if is_masked_tensor(grad) else grad


class MaskedValues(Function):
    """The values of a sparse masked tensor's data (coalesced COO, or CSR) whose mask is
    `mask`; the gradient (the values' masked gradient, or a plain one) comes back as a sparse
    masked tensor with the data's indices."""

    node_name = "ValuesBackward0"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, data: Any, *, mask: Tensor) -> Any:
        ctx.like, ctx.mask = data, mask
        return data.values

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        mask = ctx.mask
        if is_masked_tensor(grad):
            mask = _wrap(ctx.like.with_values(grad._masked_mask._data), mask._backend)
        data = MaskedFromValues.apply(_unwrap(grad), like=ctx.like, mask=mask)
        return MaskedTensor._make(data, mask)


class MaskedFromValues(Function):
    """Values at the specified elements of `like`, a sparse masked tensor's data whose mask is
    `mask`; the gradient (a sparse masked tensor, or a plain one) comes back as its values at
    like's elements, masked by its mask's. Each op gets a subclass carrying its node name,
    as PyTorch's node is the op's."""

    node_name = "ValuesBackward0"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, values: Any, *, like: Any, mask: Tensor) -> Any:
        ctx.like, ctx.mask = like, mask
        return like.with_values(values)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        from ._conversions import masked_at

        mask = ctx.mask
        if is_masked_tensor(grad):
            mask = grad._masked_mask
        mask = masked_at(mask, ctx.mask) if mask is not ctx.mask else mask
        data = masked_at(_unwrap(grad), ctx.mask)
        values = MaskedValues.apply(data, mask=mask)
        return MaskedTensor._make(values, _wrap(mask._data.values, mask._backend))


_FROM_VALUES_NODES: dict[Any, type[MaskedFromValues]] = {}


def _unary(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> MaskedTensor:
    masked, rest = args[0], list(args[1:])
    if any(isinstance(arg, Tensor) and (is_masked_tensor(arg) or arg.dim() > 0)
           for arg in rest):
        raise TypeError("MaskedTensor unary ops do not support additional Tensor arguments")
    if masked.is_sparse:
        return _values_op(op, masked, rest, kwargs)
    return MaskedTensor._make(op.apply(masked._masked_data, *rest, **kwargs),
                              masked._masked_mask)


def _masks_match(a: Any, b: Any) -> bool:
    if not (is_masked_tensor(a) and is_masked_tensor(b)):
        return True
    mask_a, mask_b = a._masked_mask, b._masked_mask
    if mask_a.layout is not mask_b.layout:
        raise ValueError(f"`a` and `b` must have the same layout. Got {mask_a.layout} and "
                         f"{mask_b.layout}")
    if mask_a.layout is not layouts.strided:
        mask_a, mask_b = mask_a.to_dense(), mask_b.to_dense()
    return mask_a.dim() == mask_b.dim() and tuple(mask_a.shape) == tuple(mask_b.shape) \
        and bool((mask_a == mask_b).all())


def elementwise(function: Any, args: tuple[Any, ...]) -> MaskedTensor:
    """`function(*args)` (an op autodiff computes outside `Function.apply`: isnan, the
    comparisons) on the data, with the masked arguments' mask; masks must match."""
    masked = [arg for arg in args if is_masked_tensor(arg)]
    if len(masked) == 2 and not _masks_match(*masked):
        raise ValueError("Input masks must match. If you need support for this, please open an "
                         "issue on Github.")
    if masked[0].is_sparse:
        raise not_implemented(getattr(function, "__name__", "elementwise"))
    result = function(*(a._masked_data if is_masked_tensor(a) else a for a in args))
    mask = masked[0]._masked_mask
    if tuple(mask.shape) != tuple(result.shape):
        mask = mask.expand_as(result)
    return MaskedTensor._make(result, mask)


def _binary(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> MaskedTensor:
    if any(value is not None for value in kwargs.values()):
        raise ValueError("len(kwargs) must equal 0")
    if any(isinstance(arg, Tensor) for arg in args[2:]):
        raise TypeError("MaskedTensor binary ops do not support Tensor arguments aside from the "
                        "lhs and rhs")
    first, second = args[0], args[1]
    if not _masks_match(first, second):
        raise ValueError("Input masks must match. If you need support for this, please open an "
                         "issue on Github.")
    data = [arg._masked_data if is_masked_tensor(arg) else arg for arg in args]
    mask = (first if is_masked_tensor(first) else second)._masked_mask
    if is_masked_tensor(first) and first.is_sparse:
        _same_indices(first, second)
        return _values_op(op, first, list(args[1:]), kwargs)
    result = op.apply(*data, **kwargs)
    if result.layout is layouts.strided and tuple(mask.shape) != tuple(result.shape):
        mask = mask.expand_as(result)
    return MaskedTensor._make(result, mask)


def _same_indices(first: MaskedTensor, second: Any) -> None:
    """PyTorch's refusal of two sparse masked operands whose data differ in indices."""
    if not (is_masked_tensor(second) and second.is_sparse):
        return
    left, right = first._masked_data, second._masked_data
    if first.is_sparse_coo():
        left, right = left.coalesce(), right.coalesce()
        if tuple(left.shape) != tuple(right.shape):
            raise ValueError("input1 and input2 must have the same size for binary functions.")
        if not _equal(left.indices(), right.indices()):
            raise ValueError("sparse_coo indices must match. If you need support for this, "
                             "please open an issue on Github.")
    elif not (_equal(left.crow_indices(), right.crow_indices())
              and _equal(left.col_indices(), right.col_indices())):
        raise ValueError("sparse_csr indices must match. If you need support for this, please "
                         "open an issue on Github.")


def _equal(a: Tensor, b: Tensor) -> bool:
    return tuple(a.shape) == tuple(b.shape) and bool((a == b).all())


def _data_and_mask(value: Any) -> tuple[Any, Any]:
    """A where operand's data and mask: a plain tensor or a number is all specified."""
    if is_masked_tensor(value):
        return value._masked_data, value._masked_mask
    return value, True


def _where(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> MaskedTensor:
    condition, first, second = args
    if is_masked_tensor(condition):
        raise not_implemented("where")
    from ..ops.selection import where

    (first_data, first_mask), (second_data, second_mask) = map(_data_and_mask, (first, second))
    data = MaskedWhere.apply(condition, first_data, second_data)
    mask = where(condition, first_mask, second_mask)
    if tuple(mask.shape) != tuple(data.shape):
        mask = mask.expand_as(data)
    return MaskedTensor._make(data, mask)


class MaskedWhere(Where):
    """where on masked tensors' data: each branch's gradient is masked out where the other
    branch was taken, not zero (PyTorch's `_MaskedWhere`), so a nan or inf in the branch not
    taken never reaches a gradient that is read."""

    node_name = "_MaskedWhereBackward"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, ...]:
        from ..ops.selection import where

        condition = ctx.saved_tensors[0]
        data, mask = _data_and_mask(grad)
        _, needs_first, needs_second = ctx.needs_input_grad
        first = second = None
        if needs_first:
            first = MaskedTensor._make(where(condition, data, 0.0), where(condition, mask, False))
        if needs_second:
            second = MaskedTensor._make(where(condition, 0.0, data),
                                        where(condition, False, mask))
        return None, first, second


def _softmax(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> MaskedTensor:
    masked = args[0]
    data, mask = masked._masked_data, masked._masked_mask
    return MaskedTensor._make(MaskedSoftmax.apply(data, mask, dim=kwargs["dim"]), mask)


class MaskedSoftmax(Function):
    """Softmax along `dim` over the elements where `mask` is True; the others, and a slice
    with none masked in, get 0 and never nan (PyTorch's `_masked_softmax`, whose node has
    this name). A masked gradient comes back masked."""

    node_name = "MaskedSoftmaxBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, mask: Any, *, dim: int) -> Any:
        backend = ctx.backend
        ctx.dim = dim
        kind = backend.dtype_name(x)
        filled = backend.where(mask, x, backend.full(x.shape, -math.inf, kind))
        top = backend.max(filled, axis=dim, keepdims=True)
        top = backend.where(backend.isfinite(top), top, backend.zeros(top.shape, kind))
        exps = backend.where(mask, backend.exp(filled - top), backend.zeros(x.shape, kind))
        total = backend.sum(exps, axis=dim, keepdims=True)
        empty = total == 0
        out = exps / backend.where(empty, backend.ones(total.shape, kind), total)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, None]:
        out, = ctx.saved_tensors
        data, mask = _data_and_mask(grad)
        result = out * (data - (data * out).sum(ctx.dim, keepdim=True))
        if is_masked_tensor(grad):
            result = MaskedTensor._make(result, mask)
        return result, None


def _on_data(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> MaskedTensor:
    masked = args[0]
    return MaskedTensor._make(op.apply(masked._masked_data, *args[1:], **kwargs),
                              masked._masked_mask)


def _passthrough(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A view or shape op: the same op on the data and on the mask."""
    data = op.apply(*(a._masked_data if is_masked_tensor(a) else a for a in args), **kwargs)
    mask = op.apply(*(a._masked_mask if is_masked_tensor(a) else a for a in args), **kwargs)
    return MaskedTensor._make(data, mask)


def _scatter(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> MaskedTensor:
    """A view's backward (slice_scatter & co.: a masked gradient put into a plain base): the
    op on the data, and on a mask that is False outside what was scattered (PyTorch's
    slice_backward through its passthrough)."""
    from ..creation import zeros_like

    if len(args) == 1:  # zeros of the view's base made by the op itself
        return _passthrough(op, args, kwargs)
    base, source, *rest = args
    data = op.apply(base, source._masked_data, *rest, **kwargs)
    mask = op.apply(zeros_like(base, dtype=dtypes.bool_), source._masked_mask, *rest, **kwargs)
    return MaskedTensor._make(data, mask)


def _sum_to_size(masked: MaskedTensor, shape: tuple[int, ...]) -> Tensor:
    """A broadcast gradient summed back to `shape` with masked semantics (the engine's fit)."""
    lead = masked.dim() - len(shape)
    kept = tuple(lead + axis for axis, size in enumerate(shape)
                 if size == 1 and masked.shape[lead + axis] != 1)
    result = _reduce_dim("sum", masked, tuple(range(lead)) + kept, True, None, {})
    return result.reshape(shape)


_RULES = {"where": _where, "_softmax": _softmax, "softmax": _softmax, "clone": _on_data,
          "detach": _on_data, "_to_copy": _on_data, "alias": _on_data, "view_as": _on_data,
          "slice_scatter": _scatter, "select_scatter": _scatter, "diagonal_scatter": _scatter,
          "as_strided_scatter": _scatter}
_PASSTHROUGH = frozenset({"select", "transpose", "split", "t", "slice", "index", "expand",
                          "view", "_unsafe_view", "_reshape_alias", "unsqueeze", "unfold"})


# ----------------------------------------------------------------------------- reductions
def _multidim_any(mask: Tensor, dims: tuple[int, ...], keepdim: bool) -> Tensor:
    from ..ops.reduction import any as any_

    for d in sorted(dims, reverse=True):
        mask = any_(mask, d, keepdim=keepdim)
    return mask


def _masked_all(data: Tensor, mask: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    filled = data.masked_fill(~mask, True)
    return filled.all() if dim is None else filled.all(dim, keepdim=keepdim)


def _reduce_all(name: str, masked: MaskedTensor, options: dict[str, Any]) -> MaskedTensor:
    from ..ops.reduction import any as any_

    data, mask = masked._masked_data, masked._masked_mask
    if masked.is_sparse:
        return _reduce_all_sparse(name, masked, options)
    if name == "all":
        result = _masked_all(data, mask)
    elif name == "norm":
        result = _ops.norm(masked, options["ord"], mask=mask)
    else:
        result = getattr(_ops, name)(masked, mask=mask, **options)
    return MaskedTensor._make(result, any_(mask))


def _reduce_all_sparse(name: str, masked: MaskedTensor, options: dict[str, Any]
                       ) -> MaskedTensor:
    """A reduction of every element of a sparse masked tensor: of its values, copied into a
    new masked tensor as PyTorch's `_reduce_all` does, so the result is out of the graph
    (PyTorch's does not require grad either). argmax and argmin of COO data give the flat
    index, as a float32 (PyTorch's stride arithmetic); of CSR data, the index into the values.
    """
    from ..ops.reduction import any as any_

    data, mask = masked._masked_data, masked._masked_mask
    if data.layout is layouts.sparse_coo:
        data, mask = data.coalesce(), mask.coalesce()
    mask_values = mask.values()
    if name == "all":  # PyTorch fills the data where the mask's values are False: refused
        count, last = mask_values.shape[0], data.shape[-1]
        if count not in (1, last) and last != 1:
            raise RuntimeError(f"The size of tensor a ({count}) must match the size of tensor "
                               f"b ({last}) at non-singleton dimension {data.dim() - 1}")
        kind = "Sparse" if data.layout is layouts.sparse_coo else "SparseCsr"
        raise RuntimeError(f"expand is unsupported for {kind} tensors")
    if data.requires_grad:
        warn("It is not recommended to create a MaskedTensor with a tensor that requires_grad. "
             "To avoid this, you can use data.detach().clone()", UserWarning, stacklevel=5)
    values = MaskedTensor._make(data.values().detach().clone(), mask_values.clone())
    if name not in ("argmin", "argmax") or data.layout is not layouts.sparse_coo:
        return _reduce_all(name, values, options)
    position = getattr(_ops, name)(values, mask=mask_values).to(dtypes.int32)
    index = data.indices()[:, position]
    strides = math.prod(data.shape) / autodiff_tensor(list(data.shape),
                                                      device=data.device).cumprod(0)
    return MaskedTensor._make((index * strides).sum(), any_(mask_values))


def _reduce_dim(name: str, masked: MaskedTensor, dim: Any, keepdim: bool, dtype: Any,
                options: dict[str, Any]) -> MaskedTensor:
    if masked.is_sparse:
        raise not_implemented(name)
    data, mask = masked._masked_data, masked._masked_mask
    if name == "all":
        result = _masked_all(data, mask, dim, keepdim)
    elif name == "norm":
        result = _ops.norm(masked, options["ord"], dim, keepdim=keepdim, dtype=dtype, mask=mask)
    else:
        result = getattr(_ops, name)(masked, dim, keepdim=keepdim, dtype=dtype, mask=mask,
                                     **options)
    dims = _ops._canonical_dim(dim, data.dim())
    return MaskedTensor._make(result, _multidim_any(mask, dims, keepdim))


def torch_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A reduction called on a MaskedTensor: `(input, dim=None, keepdim=False, dtype=None)`,
    all dims when dim is None (PyTorch's `_torch_reduce`); var and std also take unbiased and
    correction, norm a number `p` (its default 'fro' is the 2-norm here)."""
    name = getattr(func, "__name__", "")
    if name not in REDUCTIONS:
        from ..overrides import DisableTorchFunctionSubclass

        with DisableTorchFunctionSubclass():
            return func(*args, **kwargs)
    masked, *rest = args
    if not is_masked_tensor(masked):
        raise TypeError("Input to reduce_dim must be a MaskedTensor")
    options: dict[str, Any] = {}
    if name == "norm":
        p = rest.pop(0) if rest else kwargs.get("p", "fro")
        options["ord"] = 2.0 if p in ("fro", None) else p
    if name in ("var", "std"):
        options = {key: kwargs[key] for key in ("unbiased", "correction")
                   if kwargs.get(key) is not None}
    dim = rest[0] if rest else kwargs.get("dim")
    keepdim = rest[1] if len(rest) > 1 else kwargs.get("keepdim", False)
    dtype = kwargs.get("dtype")
    if dim is None or dim == ():
        return _reduce_all(name, masked, options)
    return _reduce_dim(name, masked, dim, keepdim, dtype, options)
