"""`nn.functional.linear` (x @ W^T + b as one node, named as PyTorch's dispatch names it; one
example's vector by PyTorch's own ops) and
`bilinear` (x1^T A x2 + b, PyTorch's `_trilinear` node)."""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..flop_counts import matmul_flops
from ..function import Function
from ..jvp_rules import auto_multilinear, rule_facts, sum_terms
from ..profiling import InnerOp
from ..saved_fields import Computed, constant, fields
from ..tensor import Tensor
from ._checks import cpp_type_name, refuse_bool, same_device, scalar_type_name
from .einsum import einsum
from .matmul import matmul, mm
from .products import addmm


def _matrix1(node: Any) -> Tensor:
    """x as the matrix PyTorch's addmm/mm gets: x itself when 2-D, its rows otherwise."""
    x = node.saved_tensors[0]
    return x if x.dim() == 2 else x.reshape(-1, x.shape[-1])


def _rows(node: Any) -> Tensor | None:
    """The first matrix, saved (as PyTorch) for the weight's gradient only."""
    return _matrix1(node) if node.needs_input_grad[1] else None


def _weight_t(node: Any) -> Tensor | None:
    """W^T, PyTorch's second matrix, saved for the input's gradient."""
    return node.saved_tensors[1].t() if node.needs_input_grad[0] else None


def _input_shape(node: Any, index: int) -> tuple[int, ...]:
    meta = node._input_meta[index]
    return tuple(meta[0]) if meta is not None else tuple(node.saved_tensors[index].shape)


def _rows_shape(node: Any) -> tuple[int, ...]:
    shape = _input_shape(node, 0)
    return (math.prod(shape[:-1]), shape[-1])


def _weight_t_shape(node: Any) -> tuple[int, ...]:
    out_features, in_features = _input_shape(node, 1)
    return (in_features, out_features)


def _strides_when(needs: int, matrix: Any) -> Computed:
    def read(node: Any) -> tuple[int, ...]:
        if not node.needs_input_grad[needs]:
            return ()
        return tuple(matrix(node).stride())
    return Computed(read)


def _output_rows_shape(node: Any) -> tuple[int, ...]:
    return (_rows_shape(node)[0], _input_shape(node, 1)[0])


# What PyTorch's addmm(b, x, W^T) and mm(x, W^T) save, under their names.
_ADDMM_FIELDS = fields(
    alpha=constant(1), beta=constant(1), mat1=Computed(_rows, tensor=True),
    mat1_sym_sizes=Computed(_rows_shape),
    mat1_sym_strides=_strides_when(0, _matrix1),
    mat2=Computed(_weight_t, tensor=True), mat2_sym_sizes=Computed(_weight_t_shape),
    mat2_sym_strides=_strides_when(1, lambda node: node.saved_tensors[1].t()))


class Linear(Function):
    """x @ W^T + b in one node. PyTorch's node depends on the shapes (addmm for a batch of
    rows with a bias, mm without, a view or unsafe view of a folded addmm/mm for more dims);
    subclasses carry those names."""

    node_name = "AddmmBackward0"
    saved_fields = _ADDMM_FIELDS

    @staticmethod
    def count_flops(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        """x (rows, in) times W^T (in, out), as PyTorch's addmm / mm counts it."""
        x, w = args[0], args[1]
        return matmul_flops(x.shape, w.shape) if x.dim() == 2 else 0

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any, b: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x, w)
        out = backend.matmul(x, backend.permute_dims(w, (1, 0)))
        if b is not None:
            if b.ndim <= 1:
                out += b  # a fresh result: add the bias in place
            else:
                out = backend.add(out, b)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, w = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        grad_x = grad_w = None
        if needs_x:
            # mm straight away for rows (the common case), as addmm's backward is
            grad_x = mm(grad, w) if grad._data.ndim == 2 else grad @ w
        if needs_w:
            if x._data.ndim == 1:
                grad_w = grad.unsqueeze(1) * x
            elif x._data.ndim == 2:
                grad_w = mm(grad.mT, x)
            else:
                features = x._data.shape[-1]
                grad_w = grad.reshape(-1, grad._data.shape[-1]).mT @ x.reshape(-1, features)
        grad_b = None
        if needs_b:
            grad_b = grad
            if grad._data.ndim > 1 and len(ctx._input_meta[2][0]) == 1:
                # A 1-D bias, the usual case, is summed over the rows here: the base class's
                # general broadcast fitting would do it too, more slowly (other biases get it).
                grad_b = grad.sum(tuple(range(grad._data.ndim - 1)))
        return grad_x, grad_w, grad_b

    @rule_facts(reads_saved=False, complex_safe=True)
    @staticmethod
    def jvp(ctx: Any, tangent_x: Tensor | None, tangent_w: Tensor | None,
            tangent_b: Tensor | None) -> Tensor | None:
        (x, w, _), _, _ = ctx._dual_call
        op = type(ctx)
        terms = [op.apply(tangent_x, w, None) if tangent_x is not None else None,
                 op.apply(x, tangent_w, None) if tangent_w is not None else None,
                 tangent_b]
        return sum_terms(terms)


class LinearMm(Linear):
    node_name = "MmBackward0"
    saved_fields = fields(
        self=_ADDMM_FIELDS["mat1"], self_sym_sizes=_ADDMM_FIELDS["mat1_sym_sizes"],
        self_sym_strides=_ADDMM_FIELDS["mat1_sym_strides"], mat2=_ADDMM_FIELDS["mat2"],
        mat2_sym_sizes=_ADDMM_FIELDS["mat2_sym_sizes"],
        mat2_sym_strides=_ADDMM_FIELDS["mat2_sym_strides"])


class LinearFolded(Linear):
    node_name = "ViewBackward0"  # PyTorch flattens the rows, calls addmm and views the result
    saved_fields = fields(self_sym_sizes=Computed(_output_rows_shape))

    @staticmethod
    def inner_op(args: tuple[Any, ...]) -> InnerOp:
        """The profiler's view of PyTorch's addmm(bias, rows, W^T) inside."""
        x, w, b = args
        rows = [math.prod(x.shape[:-1]), x.shape[-1]]
        weight_t = [w.shape[1], w.shape[0]]
        return InnerOp("aten::addmm", [list(b.shape), rows, weight_t],
                       matmul_flops(rows, weight_t), scalars=2)


class LinearFoldedNoBias(Linear):
    node_name = "UnsafeViewBackward0"
    saved_fields = fields(self_sym_sizes=Computed(_output_rows_shape))

    @staticmethod
    def inner_op(args: tuple[Any, ...]) -> InnerOp:
        """The profiler's view of PyTorch's mm(rows, W^T) inside (matmul's fold)."""
        x, w = args[0], args[1]
        rows = [math.prod(x.shape[:-1]), x.shape[-1]]
        weight_t = [w.shape[1], w.shape[0]]
        return InnerOp("aten::mm", [rows, weight_t], matmul_flops(rows, weight_t))


class SharedLinear(Function):
    """x @ W^T + b over a batch of examples x (B, rows..., in) whose weight (B, out, in) and
    bias (B, out) are one tensor repeated along the batch dim (broadcast views, as vmap's
    grad makes of parameters every example shares): one GEMM with the first W in forward,
    while the gradients of W and b keep one per example (the per-example gradients)."""

    node_name = "AddmmBackward0"
    shared = (1, 2)  # the arguments that repeat along the batch (vmap's rule reads them)

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any, b: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x, w)
        # The examples' rows folded into one matrix: one GEMM (a 3-d matmul loops over them)
        weight_t = backend.permute_dims(backend.getitem(w, (0, ...)), (1, 0))
        rows = backend.reshape(x, (-1, x.shape[-1]))
        out = backend.reshape(backend.matmul(rows, weight_t), (*x.shape[:-1], w.shape[1]))
        if b is not None:
            out += backend.getitem(b, (0, ...))  # a fresh result: add the bias in place
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if not any(needs):
            return None, None, None
        results = iter(SharedLinearBackward.apply(grad, x, w, needs=needs))
        return tuple([next(results) if need else None for need in needs])

    @staticmethod
    def composite(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
        """The same for a W (and b) that need not repeat, by ops of their own."""
        shape = tuple(x._data.shape)
        size, outputs = shape[0], w._data.shape[1]
        out = (x.reshape(size, -1, shape[-1]) @ w.mT).reshape(*shape[:-1], outputs)
        if b is None:
            return out
        return out + b.reshape(size, *(1,) * (len(shape) - 2), outputs)

    @rule_facts(reads_saved=False)
    @staticmethod
    def jvp(ctx: Any, tangent_x: Tensor | None, tangent_w: Tensor | None,
            tangent_b: Tensor | None) -> Tensor | None:
        # W's tangent need not repeat along the batch: its product is a batched matmul.
        (x, w, _), _, _ = ctx._dual_call
        if tangent_b is not None:
            size, outputs = tangent_b._data.shape[0], tangent_b._data.shape[-1]
            tangent_b = tangent_b.reshape(size, *(1,) * (x._data.ndim - 2), outputs)
        return sum_terms([
            SharedLinear.apply(tangent_x, w, None) if tangent_x is not None else None,
            x @ tangent_w.mT if tangent_w is not None else None,
            tangent_b])


class SharedLinearBackward(Function):
    """SharedLinear's gradients as one node, those `needs` asks for (input, weight, bias), in
    that order: grad_input by one GEMM over every example's rows with the first W, the
    weight's and bias's one per example (with one row per example, outer products: the
    backend's `outer_each`). Its own backward keeps every
    example's W its own, so per-example second derivatives are each example's."""

    node_name = "MmBackward0"
    materialize_grads = False  # an output without a gradient adds no term
    shared = (2,)  # the arguments that repeat along the batch (vmap's rule reads them)

    @staticmethod
    def forward(ctx: Any, grad: Any, x: Any, w: Any, *, needs: tuple[bool, ...]) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(grad, x, w)
        ctx.needs = needs
        shape = grad.shape
        size, outputs, features = shape[0], shape[-1], x.shape[-1]
        rows = math.prod(shape[1:-1])
        flat = backend.reshape(grad, (size * rows, outputs))
        results = []
        if needs[0]:
            weight = backend.getitem(w, (0, ...))
            results.append(backend.reshape(backend.matmul(flat, weight),
                                           (*shape[:-1], features)))
        if needs[1]:
            if rows == 1:
                results.append(backend.outer_each(flat, backend.reshape(x, (size, features))))
            else:
                per_example = backend.permute_dims(
                    backend.reshape(grad, (size, rows, outputs)), (0, 2, 1))
                results.append(backend.matmul(per_example,
                                              backend.reshape(x, (size, rows, features))))
        if needs[2]:  # summed over the rows; one row is a copy (a fresh array: no alias of
            # grad), cheaper than a reduction over a dim of one
            if rows == 1:
                results.append(backend.asarray(backend.reshape(grad, (size, outputs)),
                                               copy=True))
            else:
                results.append(backend.sum(backend.reshape(grad, (size, rows, outputs)),
                                           axis=1))
        return tuple(results)

    @staticmethod
    def composite(grad: Tensor, x: Tensor, w: Tensor, *,
                  needs: tuple[bool, ...]) -> tuple[Tensor, ...]:
        """The same for a W that need not repeat, by ops of their own."""
        shape = tuple(grad._data.shape)
        size, outputs, features = shape[0], shape[-1], x._data.shape[-1]
        per_example = grad.reshape(size, -1, outputs)
        results = []
        if needs[0]:
            results.append((per_example @ w).reshape(*shape[:-1], features))
        if needs[1]:
            results.append(per_example.mT @ x.reshape(size, -1, features))
        if needs[2]:
            results.append(per_example.sum(1))
        return tuple(results)

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Tensor | None) -> tuple[Tensor | None, ...]:
        grad, x, w = ctx.saved_tensors
        given = iter(grad_outputs)
        gg_x, gg_w, gg_b = (next(given) if need else None for need in ctx.needs)
        needs_grad, needs_x, needs_w = ctx.needs_input_grad
        shape = tuple(grad._data.shape)
        size, outputs, features = shape[0], shape[-1], x._data.shape[-1]
        rows = math.prod(shape[1:-1])
        d_grad = d_x = d_w = None
        if needs_grad:
            terms = [SharedLinear.apply(gg_x, w, None) if gg_x is not None else None]
            if gg_w is not None:  # each example's rows times its own gg_w
                terms.append((x.reshape(size, rows, features) @ gg_w.mT).reshape(shape))
            if gg_b is not None:
                terms.append(gg_b.reshape(size, *(1,) * (len(shape) - 2), outputs)
                             .expand(shape))
            d_grad = sum_terms(terms)
        if needs_x and gg_w is not None:
            d_x = (grad.reshape(size, rows, outputs) @ gg_w).reshape(x._data.shape)
        if needs_w and gg_x is not None:  # each example's own: the weight gradient's formula
            (d_w,) = SharedLinearBackward.apply(grad, gg_x, w, needs=(False, True, False))
        return d_grad, d_x, d_w

    @rule_facts(reads_saved=False)
    @staticmethod
    def jvp(ctx: Any, tangent_grad: Tensor | None, tangent_x: Tensor | None,
            tangent_w: Tensor | None) -> tuple[Tensor | None, ...]:
        (grad, x, w), kwargs, _ = ctx._dual_call
        needs = kwargs["needs"]
        op = SharedLinearBackward
        results: list[Tensor | None] = []
        if needs[0]:  # grad @ w per example: w's tangent need not repeat along the batch
            rows = grad.reshape(grad._data.shape[0], -1, grad._data.shape[-1])
            results.append(sum_terms([
                op.apply(tangent_grad, x, w, needs=(True, False, False))[0]
                if tangent_grad is not None else None,
                (rows @ tangent_w).reshape(*grad._data.shape[:-1], x._data.shape[-1])
                if tangent_w is not None else None]))
        if needs[1]:
            results.append(sum_terms([
                op.apply(tangent_grad, x, w, needs=(False, True, False))[0]
                if tangent_grad is not None else None,
                op.apply(grad, tangent_x, w, needs=(False, True, False))[0]
                if tangent_x is not None else None]))
        if needs[2]:
            results.append(op.apply(tangent_grad, x, w, needs=(False, False, True))[0]
                           if tangent_grad is not None else None)
        return tuple(results)


@autocast_op("linear")
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias."""
    if input.is_nested:
        from ..nested import ops as nested_ops  # built on this module: imported on use

        return nested_ops.linear(input, weight, bias)
    same_device(input, weight, bias)
    w_shape, x_shape = weight._data.shape, input._data.shape
    if len(w_shape) > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {len(w_shape)}D")
    if len(w_shape) < 2 or len(x_shape) == 0:  # rare shapes: compose as PyTorch does
        if bias is not None and _takes_addmm(input, bias):
            raise RuntimeError(f"mat2 must be a matrix, got {len(w_shape)}-D tensor")
        out = matmul(input, weight.t())
        return out if bias is None else out.add_(bias)
    rows = math.prod(x_shape[:-1])
    if x_shape[-1] != w_shape[1]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x_shape[-1]} and "
            f"{w_shape[1]}x{w_shape[0]})"
        )
    if input._data.dtype != weight._data.dtype:
        if bias is not None:  # PyTorch's addmm path words it so
            raise RuntimeError(
                "mat1 and mat2 must have the same dtype, but got "
                f"{scalar_type_name(input)} and {scalar_type_name(weight)}")
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{cpp_type_name(input)} != {cpp_type_name(weight)}"
        )
    if len(x_shape) == 1:
        return _linear_vector(input, weight, bias)
    if bias is None:
        refuse_bool("addmm_impl_cpu_", input, weight)
        op: type[Linear] = LinearMm if len(x_shape) == 2 else LinearFoldedNoBias
        return op.apply(input, weight, None)
    _check_bias(bias, weight, (rows, w_shape[0]))
    refuse_bool("addmm_impl_cpu_", input, weight)
    op = Linear if len(x_shape) == 2 else LinearFolded
    return op.apply(input, weight, bias)


def _linear_vector(input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """One example's linear, composed of the ops PyTorch's `linear` calls, so its graph is
    PyTorch's: a contiguous vector with a 1-D bias is viewed as one row for addmm and the
    result viewed back; otherwise matmul's vector path (unsqueeze, mm, squeeze_) and the bias
    added after."""
    out_features = weight._data.shape[0]
    if bias is not None and _takes_addmm(input, bias):
        _check_bias(bias, weight, (1, out_features))
        refuse_bool("addmm_impl_cpu_", input, weight)
        return addmm(bias, input.view(1, -1), weight.t()).view(out_features)
    refuse_bool("addmm_impl_cpu_", input, weight)
    out = mm(input.unsqueeze(0), weight.t()).squeeze_(0)
    return out if bias is None else out.add_(bias)


def _takes_addmm(input: Tensor, bias: Tensor) -> bool:
    """Whether PyTorch's linear hands these to addmm (a matrix, or a contiguous input of 3
    dims or with a 1-D bias), rather than to matmul and an in-place add of the bias."""
    dims = input._data.ndim
    return dims == 2 or (input.is_contiguous() and (dims == 3 or bias._data.ndim == 1))


def _check_bias(bias: Tensor, weight: Tensor, target: tuple[int, int]) -> None:
    shape = bias._data.shape
    for offset in range(1, len(shape) + 1):
        size, wanted = shape[-offset], target[-offset] if offset <= 2 else 1
        if size != wanted and size != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({wanted}) must match the existing size "
                f"({size}) at non-singleton dimension {2 - offset}.  Target sizes: "
                f"{list(target)}.  Tensor sizes: {list(shape)}"
            )
    if bias._data.dtype != weight._data.dtype:
        raise RuntimeError(
            "self and mat2 must have the same dtype, but got "
            f"{dtypes.SCALAR_TYPE_NAMES[bias.dtype.name]} and "
            f"{dtypes.SCALAR_TYPE_NAMES[weight.dtype.name]}"
        )


# ----------------------------------------------------------------------------- bilinear
class Trilinear(Function):
    """out[n, o] = sum_ij x1[n, i] W[o, i, j] x2[n, j] over rows of x1 (N, in1) and x2
    (N, in2): PyTorch's `_trilinear` as `bilinear` calls it."""

    node_name = "TrilinearBackward0"

    jvp = auto_multilinear

    @staticmethod
    def forward(ctx: Any, x1: Any, weight: Any, x2: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x1, weight, x2)
        outputs, in1, in2 = weight.shape
        # x1 @ W, all outputs at once: (N, in1) @ (in1, out * in2), then the product with x2.
        flat = backend.reshape(backend.permute_dims(weight, (1, 0, 2)), (in1, outputs * in2))
        mixed = backend.reshape(backend.matmul(x1, flat), (x1.shape[0], outputs, in2))
        return backend.sum(backend.multiply(mixed, backend.expand_dims(x2, axis=1)), axis=2)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x1, weight, x2 = ctx.saved_tensors
        needs_x1, needs_weight, needs_x2 = ctx.needs_input_grad
        return (einsum("no,oij,nj->ni", grad, weight, x2) if needs_x1 else None,
                einsum("no,ni,nj->oij", grad, x1, x2) if needs_weight else None,
                einsum("no,oij,ni->nj", grad, weight, x1) if needs_x2 else None)


@autocast_op("bilinear")
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """y = x1^T A x2 + b for each pair of rows, A = weight[o] of shape (in1, in2)."""
    tensors = [input1, input2, weight, *([] if bias is None else [bias])]
    if len({tensor._data.dtype for tensor in tensors}) > 1:
        names = ("input1", "input2", "weight", "bias")
        raise RuntimeError("All tensors must have the same dtype, got " + ", ".join(
            f"{name}: {cpp_type_name(tensor)}"
            for name, tensor in zip(names, tensors)))
    shape1, shape2, w_shape = input1._data.shape, input2._data.shape, weight._data.shape
    if len(shape1) != len(shape2):
        raise RuntimeError(
            f"bilinear(): input dimensions do not match: got {len(shape1)} and {len(shape2)}")
    for dim in range(len(shape1) - 1):
        if shape1[dim] != shape2[dim]:
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {dim}: got "
                f"{shape1[dim]} and {shape2[dim]}")
    if len(w_shape) != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D, got {len(w_shape)}-D")
    if shape1[-1] != w_shape[1]:
        raise RuntimeError(
            "bilinear(): input1 size does not match weight size: got "
            f"{shape1[-1]} but expected {w_shape[1]}")
    if shape2[-1] != w_shape[2]:
        raise RuntimeError(
            "bilinear(): input2 size does not match weight size: got "
            f"{shape2[-1]} but expected {w_shape[2]}")
    if bias is not None and bias._data.shape[0] != w_shape[0]:
        raise RuntimeError(
            "bilinear(): bias size does not match weight size: got "
            f"{bias._data.shape[0]} but expected {w_shape[0]}")
    flat1 = input1.reshape(-1, shape1[-1])
    flat2 = input2.reshape(-1, shape2[-1])
    output = Trilinear.apply(flat1, weight, flat2).reshape(*shape1[:-1], w_shape[0])
    return output if bias is None else output + bias
