"""ONNX forms of matrix products: matmul and its forms, linear layers (Gemm for 2-D), addmm,
addmv, addr, addbmm, baddbmm (the scaled input dropped where beta is 0, as PyTorch ignores
it), einsum, bilinear's trilinear product, vdot."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .convert import Unsupported, converts, dtype_of, operand, output
from .graph import Graph, Record


@converts("Mm", "Bmm", "Matmul", "Dot", "Mv", "VectorMatrix")
def _matmul(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    return [g.node("MatMul", [operand(g, item, dtype) for item in record.args[:2]])]


@converts("Linear", "LinearFolded", "LinearFoldedNoBias", "LinearMm")
def _linear(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight = record.args[0], record.args[1]
    bias = record.args[2] if len(record.args) > 2 else None
    dtype = dtype_of(output(record))
    if x.ndim == 2 and weight.ndim == 2:
        inputs = [operand(g, x, dtype), operand(g, weight, dtype)]
        if bias is not None:
            inputs.append(operand(g, bias, dtype))
        return [g.node("Gemm", inputs, transB=1)]
    transposed = g.node("Transpose", [operand(g, weight, dtype)],
                        perm=list(reversed(range(weight.ndim))))
    out = g.node("MatMul", [operand(g, x, dtype), transposed])
    if bias is not None:
        out = g.node("Add", [out, operand(g, bias, dtype)])
    return [out]


@converts("Addmm")
def _addmm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    bias, left, right = (operand(g, item, dtype) for item in record.args[:3])
    return [g.node("Gemm", [left, right, bias], alpha=float(record.kwargs.get("alpha", 1)),
                   beta=float(record.kwargs.get("beta", 1)))]


@converts("Einsum", "EinsumPermute", "EinsumProduct", "EinsumSum", "Tensordot")
def _einsum(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    if "float" not in dtype:
        raise Unsupported("integer einsum")
    operands = [operand(g, item, dtype) for item in record.args if isinstance(item, Tensor)]
    return [g.node("Einsum", operands, equation=record.kwargs["equation"])]


def _scaled_sum(g: Graph, record: Record, product: str, dtype: str) -> str:
    """beta * input + alpha * product (input not read where beta is 0)."""
    alpha, beta = record.kwargs.get("alpha", 1), record.kwargs.get("beta", 1)
    if alpha != 1:
        product = g.node("Mul", [product, g.scalar(alpha, dtype)])
    if beta == 0:
        return g.node("Expand", [product, g.ints([int(size) for size in output(record).shape])])
    scaled = operand(g, record.args[0], dtype)
    if beta != 1:
        scaled = g.node("Mul", [scaled, g.scalar(beta, dtype)])
    return g.node("Add", [scaled, product])


@converts("Addmv", "Baddbmm")
def _addmv(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    left, right = (operand(g, item, dtype) for item in record.args[1:3])
    return [_scaled_sum(g, record, g.node("MatMul", [left, right]), dtype)]


@converts("Addbmm")
def _addbmm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    left, right = (operand(g, item, dtype) for item in record.args[1:3])
    product = g.node("ReduceSum", [g.node("MatMul", [left, right]), g.ints([0])], keepdims=0)
    return [_scaled_sum(g, record, product, dtype)]


@converts("Addr")
def _addr(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    left, right = (operand(g, item, dtype) for item in record.args[1:3])
    column = g.node("Unsqueeze", [left, g.ints([1])])
    row = g.node("Unsqueeze", [right, g.ints([0])])
    if dtype == "bool":
        raise Unsupported("boolean addr")
    return [_scaled_sum(g, record, g.node("Mul", [column, row]), dtype)]


@converts("Vdot")
def _vdot(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    a, b = (operand(g, item, dtype) for item in record.args[:2])
    return [g.node("ReduceSum", [g.node("Mul", [a, b]), g.ints([0])], keepdims=0)]


@converts("Trilinear")
def _trilinear(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """out[n, o] = sum_ij x1[n, i] W[o, i, j] x2[n, j]."""
    dtype = dtype_of(output(record))
    if "float" not in dtype:
        raise Unsupported("integer einsum")
    operands = [operand(g, item, dtype) for item in record.args[:3]]
    return [g.node("Einsum", operands, equation="ni,oij,nj->no")]


@converts("Kron")
def _kron(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """a (a1, ..., an) and b (b1, ..., bn), the shorter padded with leading 1s, as
    (a1, 1, a2, 1, ...) times (1, b1, 1, b2, ...), merged to (a1 b1, a2 b2, ...)."""
    a, b = record.args[:2]
    dtype = dtype_of(output(record))
    ndim = max(a.ndim, b.ndim)
    sizes_a = [1] * (ndim - a.ndim) + [int(size) for size in a.shape]
    sizes_b = [1] * (ndim - b.ndim) + [int(size) for size in b.shape]
    spread_a = [size for pair in zip(sizes_a, [1] * ndim) for size in pair]
    spread_b = [size for pair in zip([1] * ndim, sizes_b) for size in pair]
    product = g.node("Mul", [g.node("Reshape", [operand(g, a, dtype), g.ints(spread_a)]),
                             g.node("Reshape", [operand(g, b, dtype), g.ints(spread_b)])])
    return [g.node("Reshape", [product, g.ints([left * right for left, right in
                                                zip(sizes_a, sizes_b)])], allowzero=1)]


@converts("Cross")
def _cross(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """a x b along the dim of size 3: a[i+1] b[i+2] - a[i+2] b[i+1], the components rolled
    by Gathers."""
    a, b = record.args[:2]
    dtype = dtype_of(output(record))
    ndim = output(record).ndim
    axis = int(record.kwargs["dim"]) % ndim
    first, second = operand(g, a, dtype), operand(g, b, dtype)

    def rolled(value: str, shift: int) -> str:
        return g.node("Gather", [value, g.ints([(index + shift) % 3 for index in range(3)])],
                      axis=axis - ndim)

    return [g.node("Sub", [g.node("Mul", [rolled(first, 1), rolled(second, 2)]),
                           g.node("Mul", [rolled(first, 2), rolled(second, 1)])])]
