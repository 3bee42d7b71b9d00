"""Ops on nested tensors: the rule `Function.apply` hands an op with a nested argument to
(elementwise ops and clone run on the whole buffer; softmax per component), and the nested
branches of linear, dropout, scaled_dot_product_attention and to_padded_tensor. Where
PyTorch's kernels refuse a nested tensor, so does the rule, in PyTorch's words."""

from __future__ import annotations

import re
from typing import Any

from .. import creation, layouts
from ..dtypes import SCALAR_TYPE_NAMES
from ..function import Function
from ..jvp_rules import auto_element_wise
from ..op_overloads import overload_of
from ..ops import attention_kernels
from ..ops.arithmetic import Add, Mul
from ..ops.attention import scaled_dot_product_attention as dense_attention
from ..ops.conversion import Clone
from ..ops.dropout import dropout as dense_dropout
from ..ops.joining import cat
from ..ops.linear import Linear
from ..ops.softmax import LogSoftmax, Softmax
from ..tensor import Tensor
from ..user_warnings import warn
from . import storage

# Elementwise ops PyTorch's strided-layout kernels have (its jagged layout has them all), by
# node name.
STRIDED_ELEMENTWISE = frozenset({
    "AbsBackward0", "CosBackward0", "SinBackward0", "SqrtBackward0", "TanhBackward0",
    "NegBackward0", "ReluBackward0", "SgnBackward0", "GeluBackward0", "SiluBackward0",
    "AddBackward0", "SubBackward0", "MulBackward0", "DivBackward0", "ToCopyBackward0",
    "CloneBackward0",
})


def aten_name(op: type[Function], args: tuple[Any, ...] = ()) -> str:
    """`aten.pow.Tensor_Scalar` for PowScalar (the overload its arguments pick), `aten.exp.default`
    for Exp: the operator PyTorch's errors name."""
    overload = overload_of(op(), args)
    if overload is not None:
        return str(overload)
    stem = re.sub(r"Backward\d*$", "", op.node_name)
    return "aten." + re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower() + ".default"


def refuse(op: type[Function], nested: Tensor, args: tuple[Any, ...] = ()
           ) -> NotImplementedError:
    name = aten_name(op, args)
    return refuse_operator("aten::" + name.removeprefix("aten.").removesuffix(".default"), nested)


def refuse_operator(operator: str, nested: Tensor) -> NotImplementedError:
    """PyTorch's refusal of `operator` ('aten::argmax', 'aten::all.dim'): the jagged layout's
    names the op overload, the strided layout's is the dispatcher's."""
    if nested.layout is layouts.jagged:
        name = "aten." + operator.removeprefix("aten::")
        return NotImplementedError(name if "." in operator else name + ".default")
    backend = "NestedTensorCUDA" if nested.device.type == "cuda" else "NestedTensorCPU"
    return NotImplementedError(
        f"Could not run '{operator}' with arguments from the '{backend}' backend. This could "
        "be because the operator doesn't exist for this backend, or was omitted during the "
        "selective/custom build process (if using custom build).")


def is_nested(value: Any) -> bool:
    return isinstance(value, Tensor) and value.is_nested


def rule(op: type[Function], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What `op.apply(*args, **kwargs)` is when an argument is nested."""
    nested: Any = next(arg for arg in args if isinstance(arg, Tensor) and arg.is_nested)
    if op in (Softmax, LogSoftmax):
        return _softmax(op, nested, kwargs["dim"])
    if _is_elementwise(op):
        return _elementwise(op, nested, args, kwargs)
    raise refuse(op, nested, args)


def _is_elementwise(op: type[Function]) -> bool:
    """Declared elementwise by its forward rule (here or in a base it refines), or add / mul /
    clone."""
    return op in (Add, Mul, Clone) or any(
        klass.__dict__.get("jvp") is auto_element_wise for klass in op.__mro__)


def _elementwise(op: type[Function], nested: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Tensor:
    """The op on the buffers: every position is computed, the components stay where they are."""
    strided = nested.layout is layouts.strided
    if strided and op.node_name not in STRIDED_ELEMENTWISE:
        raise refuse(op, nested, args)
    tensors: list[Any] = [arg for arg in args if isinstance(arg, Tensor)]
    others = [arg for arg in tensors if arg.is_nested and arg is not nested]
    if others and any(other._components != nested._components
                      or other._buffer.shape != nested._buffer.shape for other in others):
        nested = nested.contiguous()
        sizes = [component.size for component in nested._components]
        for other in others:
            if [component.size for component in other._components] != sizes:
                name = aten_name(op, args).split(".")[1]
                if strided:
                    raise RuntimeError(f"{name} does not support broadcasting when given a "
                                       "NestedTensor")
                raise RuntimeError(
                    f"cannot call binary pointwise function {name}.Tensor with inputs of shapes "
                    f"{_shape_text(nested)} and {_shape_text(other)}")
        args = tuple(arg.contiguous() if is_nested(arg) else arg for arg in args)
    dense = [arg for arg in tensors if not arg.is_nested and arg.dim() > 0]
    if dense and (strided or nested._ragged_idx != 1 or not nested.is_contiguous()
                  or any(arg.dim() > nested.dim() - 2 for arg in dense)):
        order = ("self", "other") if args[0] is nested else ("other", "self")
        raise RuntimeError(f"Expected both self and other to be nested, but got a nested "
                           f"{order[0]} and non-nested {order[1]}")
    buffers = tuple(arg._buffer if is_nested(arg) else arg for arg in args)
    target: Any = next(arg for arg in args if is_nested(arg))
    return target.derive(op.apply(*buffers, **kwargs))


def _shape_text(nested: Any) -> str:
    return "(" + ", ".join(str(size) for size in nested.size()) + ")"


def _softmax(op: type[Function], nested: Any, dim: int) -> Tensor:
    """Softmax over a regular dim of each component (PyTorch refuses dim 0 and a ragged dim)."""
    if dim == 0:
        if nested.layout is layouts.jagged:
            raise RuntimeError(f"{op._op_name.lower()}(): not supported when reducing across the "
                               "batch dimension for NestedTensor")
        raise RuntimeError("Cannot apply softmax across nested dimension 0")
    if dim == nested.dim() - 1:  # the rows of a packed buffer are the components' rows
        packed = nested.contiguous()
        rows = packed._buffer
        width = packed._components[0].size[-1] if packed._components else 0
        if rows.dim() == 2 and rows.shape[1] == width and rows.numel() == packed.numel():
            return packed.derive(op.apply(rows, dim=1))
    parts = [op.apply(component, dim=dim - 1) for component in nested.unbind()]
    return from_components(nested, parts)


def from_components(like: Any, parts: list[Tensor]) -> Tensor:
    """A nested tensor like `like` (layout, ragged dim) holding `parts`, packed in a new
    buffer (recorded)."""
    components = storage.packed([tuple(part.shape) for part in parts])
    return like.derive(storage.pack(parts), components)


class NestedLinear(Linear):
    """x @ W^T + b on the rows of a packed nested tensor's buffer (PyTorch's nested linear)."""

    node_name = "LinearBackward0"


def linear(input: Any, weight: Tensor, bias: Tensor | None) -> Tensor:
    if weight.is_nested:
        raise RuntimeError("Linear does not support nested weight when input is a nested tensor.")
    if input.dim() < 2:
        raise RuntimeError(f"Linear requires nested_tensor.dim == 3 and dense_matrix.dim == 2. "
                           f"Nested tensor dim: {input.dim()}. Dense tensor dim: {weight.dim()}")
    if weight.dim() != 2:
        raise RuntimeError(f"Linear requires nested_tensor.dim == 3 and dense_matrix.dim == 2. "
                           f"Nested tensor dim: {input.dim()}. Dense tensor dim: {weight.dim()}")
    features = {component.size[-1] for component in input._components}
    if features - {weight.shape[1]}:
        if input.layout is layouts.jagged:
            rows = input.numel() // features.pop()
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x"
                               f"{input.size(-1)} and {weight.shape[1]}x{weight.shape[0]})")
        raise RuntimeError(f"Shape mismatch for NestedTensor Linear: Expected input's (a nested "
                           f"tensor) 'last_dim' to equal 'weight.size(1), but got: last_dim = "
                           f"{features.pop()}, and weight.size(1) = {weight.shape[1]}")
    packed = input.contiguous()
    rows = packed._buffer
    if rows.dim() != 2 or rows.shape[1] != weight.shape[1] or rows.numel() != packed.numel():
        rows = rows.reshape(-1, weight.shape[1])
    out = NestedLinear.apply(rows, weight, bias)
    components = storage.packed([(*component.size[:-1], weight.shape[0])
                                 for component in packed._components])
    return packed.derive(out, components)


def dropout(input: Any, p: float, training: bool) -> Tensor:
    """Dense dropout on every position of the buffer: each element kept or zeroed alike."""
    return input.derive(dense_dropout(input._buffer, p, training))


class ToPaddedTensor(Function):
    """The components of a buffer, each at the start of its row of a dense tensor filled with
    `padding`. The gradient is each component's part of the rows, at its buffer positions."""

    node_name = "ToPaddedTensorBackward0"

    @staticmethod
    def forward(ctx: Any, buffer: Any, *, components: tuple[storage.Component, ...],
                padding: float, shape: tuple[int, ...]) -> Any:
        backend = ctx.backend
        ctx.components = components
        ctx.buffer_shape = tuple(buffer.shape)
        memory = backend.storage(buffer)
        start = backend.storage_offset(buffer)
        out = backend.full(shape, padding, backend.dtype_name(buffer))
        for index, component in enumerate(components):
            part = backend.as_strided(memory, component.size, component.stride,
                                      start + component.offset)
            backend.setitem(out, (index, *(slice(0, size) for size in component.size)), part)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        parts = [grad[tuple([index, *(slice(0, size) for size in component.size)])]
                 for index, component in enumerate(ctx.components)]
        return scatter(parts, ctx.components, ctx.buffer_shape, grad)


def scatter(parts: list[Tensor], components: tuple[storage.Component, ...],
            buffer_shape: tuple[int, ...], like: Tensor) -> Tensor:
    """A buffer-shaped tensor holding each part at its component's positions, zero elsewhere
    (recorded)."""
    numel = 1
    for size in buffer_shape:
        numel *= size
    memory = creation.zeros(numel, dtype=like.dtype, device=like.device)
    if not parts:
        return memory.reshape(buffer_shape)
    flat = cat([part.reshape(-1) for part in parts])
    if storage.is_packed(components) and flat.numel() == numel:
        return flat.reshape(buffer_shape)
    positions = cat([_positions(like, component) for component in components])
    return memory.index_put((positions,), flat, accumulate=True).reshape(buffer_shape)


def to_padded_tensor(input: Any, padding: float, output_size: Any = None) -> Tensor:
    """The components padded with `padding` to the largest size in each dim (or `output_size`),
    stacked into a dense tensor (recorded: gradients go back to the components)."""
    if not is_nested(input):
        raise RuntimeError("to_padded_tensor(): expected a nested tensor")
    components = input._components
    if not components:
        raise RuntimeError("to_padded_tensor: at least one constituent tensor should exist")
    largest = [max(component.size[d] for component in components)
               for d in range(len(components[0].size))]
    shape = (len(components), *largest)
    if output_size is not None:
        output_size = [int(size) for size in output_size]
        if len(output_size) != input.dim():
            raise RuntimeError("Length of output_size does not match NestedTensor dims. "
                               "Broadcasting is not supported.")
        if any(want < have for want, have in zip(output_size, shape)):
            raise RuntimeError("Value in output_size is less than NestedTensor padded size. "
                               "Truncation is not supported.")
        shape = tuple(output_size)
    return ToPaddedTensor.apply(input._buffer, components=components, padding=float(padding),
                                shape=shape)


def buffer_gradient(nested: Any, gradient: Any) -> Tensor:
    """A gradient for `nested`'s buffer from a nested gradient of its structure: each
    component's gradient at its positions, zero at the positions no component uses."""
    sizes = [component.size for component in nested._components]
    if [component.size for component in gradient._components] != sizes:
        raise RuntimeError("Mismatch in shape: the gradient's components have other sizes than "
                           "the output's")
    buffer = nested._buffer
    return scatter(list(gradient.unbind()), nested._components, tuple(buffer.shape), buffer)


def _positions(like: Tensor, component: storage.Component) -> Tensor:
    """The buffer positions of a component's elements, in its row-major order."""
    index = creation.tensor(component.offset, device=like.device)
    for size, stride in zip(component.size, component.stride):
        steps = creation.arange(size, device=like.device) * stride
        index = index.unsqueeze(-1) + steps
    return index.reshape(-1)


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any,
                                 dropout_p: float, is_causal: bool, scale: float | None,
                                 enable_gqa: bool) -> Tensor:
    """Attention per component of nested (N, H, L, E) / (N, H, S, E) inputs, as PyTorch's math
    kernel computes it for nested tensors."""
    if not (query.is_nested and key.is_nested and value.is_nested):
        raise RuntimeError("scaled_dot_product_attention(): expected query, key and value all "
                           "nested or all dense")
    if attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention(): attn_mask is not supported with "
                           "nested query, key and value")
    if not attention_kernels.is_enabled("math"):
        if attention_kernels.is_enabled("flash"):
            warn("Flash attention kernel not used because:", stacklevel=3)
            warn("Both fused kernels of cpp version currently do not support Nested "
                 "Tensor inputs.", stacklevel=3)
            raise RuntimeError("No available kernel.  Aborting execution.")
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This "
                           "is likely due to turning off both the math kernel and the fused "
                           "kernels.")
    for tensor in (query, key, value):
        if tensor.layout is layouts.strided and not tensor.is_contiguous():
            raise RuntimeError("scaled_dot_product_attention: If inputs are nested tensors they "
                               "must be contiguous")
        if tensor.layout is layouts.jagged and not tensor.transpose(1, 2).is_contiguous():
            raise RuntimeError("No viable backend for scaled_dot_product_attention was found.")
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise RuntimeError("scaled_dot_product_attention(): nested query, key and value must be "
                           "4 dimensional (N, H, L or S, E)")
    parts = [dense_attention(q, k, v, None, dropout_p, is_causal, scale, enable_gqa)
             for q, k, v in zip(query.unbind(), key.unbind(), value.unbind(), strict=True)]
    return from_components(query, parts)



def matmul(input: Any, other: Any) -> Tensor:
    """PyTorch's nested matmul: two strided nested tensors component by component; a jagged
    tensor against a dense matrix on its rows, or against a dense batch component by component;
    two jagged tensors with a ragged batch dim on their values."""
    from ..ops.matmul import matmul as dense_matmul  # built on this package: imported on use

    nested = input if is_nested(input) else other
    if nested.layout is layouts.strided:
        return _strided_matmul(input, other, dense_matmul)
    both = is_nested(input) and is_nested(other)
    if is_nested(input) and not both and input._ragged_idx < input.dim() - 1:
        if other.dim() == 2 and input.dim() > 2:
            packed = input.contiguous()
            rows = packed._buffer.reshape(-1, other.shape[0])
            components = storage.packed([(*component.size[:-1], other.shape[1])
                                         for component in packed._components])
            return packed.derive(dense_matmul(rows, other), components)
        if input.dim() >= 3 and input.dim() == other.dim():
            parts = [dense_matmul(part, dense)
                     for part, dense in zip(input.unbind(), other.unbind())]
            return from_components(input, parts)
    if is_nested(other) and not both and other._ragged_idx >= 2 \
            and other.dim() >= 3 and input.dim() in (2, other.dim()):
        dense_parts = [input] * len(other._components) if input.dim() == 2 else input.unbind()
        parts = [dense_matmul(dense, part) for dense, part in zip(dense_parts, other.unbind())]
        return from_components(other, parts)
    if both and input.layout is other.layout is layouts.jagged:
        if input.dim() > 3 and other.dim() > 3 and input._ragged_idx == other._ragged_idx == 1 \
                and input._ragged_size is other._ragged_size:
            parts = [dense_matmul(left, right)
                     for left, right in zip(input.unbind(), other.unbind())]
            return from_components(input, parts)
        if input.dim() == other.dim() == 3 and input._ragged_idx == 2 \
                and other._ragged_idx == 1 and input._ragged_size is other._ragged_size:
            from ..ops.joining import stack

            return stack([dense_matmul(left, right)
                          for left, right in zip(input.unbind(), other.unbind())])
    other_shape = f"torch.Size([{', '.join(str(size) for size in other.size())}])"
    input_shape = _shape_text(input) if is_nested(input) else str(tuple(input.shape))
    raise RuntimeError(f"matmul(): not supported between inputs of shapes {input_shape} and "
                       f"{other_shape}")


def _strided_matmul(input: Any, other: Any, dense_matmul: Any) -> Tensor:
    """Both nested, of the same rank (>= 3), as many components, equal batch dims and inner
    sizes: each component's product (PyTorch's checks, in its words)."""
    if not (is_nested(input) and is_nested(other)):
        order = ("nested self and non-nested other" if is_nested(input)
                 else "non-nested self and nested other")
        raise RuntimeError(f"Expected both to be nested, but got a {order}")
    for position, tensor in (("1st", input), ("2nd", other)):
        if tensor.dim() < 3:
            raise RuntimeError(f"matmul: For nested tensors, only inputs with >= 3 dims are "
                               f"currently supported. {position} input has rank: {tensor.dim()}")
    if input.dim() != other.dim():
        raise RuntimeError("matmul: both inputs must have the same rank")
    if len(input._components) != len(other._components):
        raise RuntimeError(f"matmul: Expected size for the 1st dimension of 2nd input tensor to "
                           f"be: {len(input._components)} but got: {len(other._components)}.")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected scalar type {SCALAR_TYPE_NAMES[input.dtype.name]} but "
                           f"found {SCALAR_TYPE_NAMES[other.dtype.name]}")
    left = [component.size for component in input._components]
    right = [component.size for component in other._components]
    if [size[:-2] for size in left] != [size[:-2] for size in right]:
        raise RuntimeError(
            "matmul: For nested tensors, batch dimensions must have the same sizes, no "
            "broadcasting is currently performed. Got batch shapes for self"
            f"{_long_tensor_text([size[:-2] for size in left])} and batch shapes for mat2"
            f"{_long_tensor_text([size[:-2] for size in right])}")
    if [size[-1] for size in left] != [size[-2] for size in right]:
        raise RuntimeError(
            "matmul: Nested tensors cannot be matrix multiplied, last dimension of self has "
            f"sizes{_long_tensor_text([size[-1] for size in left])}second last dimension of "
            f"mat2 has sizes{_long_tensor_text([size[-2] for size in right])}")
    parts = [dense_matmul(a, b) for a, b in zip(input.unbind(), other.unbind())]
    return from_components(input, parts)


def _long_tensor_text(values: list[Any]) -> str:
    """A LongTensor as PyTorch's C++ printer writes it into its error messages: the values, a
    column (or a row per entry of a list of tuples), then `[ torch.LongTensor{sizes} ]`."""
    if values and isinstance(values[0], tuple):
        width = max((len(str(value)) for row in values for value in row), default=1) + 1
        rows = ["".join(" " + str(value).rjust(width) for value in row) for row in values]
        sizes = f"{len(values)},{len(values[0])}"
    else:
        width = max((len(str(value)) for value in values), default=1)
        rows = [" " + str(value).rjust(width) for value in values]
        sizes = str(len(values))
    return "\n".join(rows) + f"\n[ torch.LongTensor{{{sizes}}} ]"
