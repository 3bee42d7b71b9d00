"""Comparisons, logical and bitwise ops, and value tests (isnan, isneginf, isreal, isin,
isclose, ...).

None of them is differentiable: they compute on the arrays and return a Tensor outside the
graph (bool, or the promoted integer dtype for bitwise ops), as in PyTorch. Operands are
promoted with PyTorch's rules first, so `int_tensor == 2.5` compares in float.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..argument_parsing import method_error
from ..batching.dispatch import elementwise_op, function_rule
from ..creation import zeros_like
from ..function import Function, _raise_device_mismatch
from ..jvp_rules import zero_tangent
from ..layout_dispatch import LayoutData, dense_only, layout_data
from ..quantized_tensor import QuantizedData, dequantize, quantized_equal
from ..sparse_coo import SparseCOO
from ..sparse_dispatch import refuse_operator
from ..tensor import Tensor, _wrap
from ._checks import not_implemented_for, require_operands, require_tensors
from ._out import CAST, SAME, takes_out
from ._promotion import check_broadcast, promote
from .sparse_coo import values_mapped


def _operands(input: Tensor, other: Any) -> tuple[Any, Any, Any]:
    """The backend and the two arrays (or array and number) of a binary op."""
    backend = input._backend
    if isinstance(other, Tensor):
        if other._backend is not backend:
            _raise_device_mismatch(backend, other._backend)
        other = other._data
    return backend, input._data, other


@elementwise_op
def _compare(name: str, input: Tensor, other: Any) -> Tensor:
    backend, a, b = _operands(input, other)
    if type(a) is SparseCOO or type(b) is SparseCOO:  # PyTorch compares no sparse tensors
        overload = "Tensor" if isinstance(other, Tensor) else "Scalar"
        refuse_operator(f"aten::{_ATEN_NAMES[name]}.{overload}", backend.device)
    if type(a) is QuantizedData or type(b) is QuantizedData:  # their reals, as PyTorch's
        return _compare(name, dequantize(input), dequantize(other))
    try:
        return _wrap(_compared(backend, name, a, b), backend)
    except Exception as error:  # free until it catches, as Function.apply's layout hook
        layout = layout_data((input, other))
        mapped = None if layout is None else layout.map_values(
            (input, other), lambda x, y: _compare(name, x, y))
        if mapped is None:
            if isinstance(error, (TypeError, AttributeError)):  # as in Function.apply
                refused = method_error(Tensor)
                if refused is not None:
                    raise refused from None
            raise
        return mapped


_ATEN_NAMES = {"equal": "eq", "not_equal": "ne", "greater": "gt", "greater_equal": "ge",
               "less": "lt", "less_equal": "le"}


def _compared(backend: Any, name: str, a: Any, b: Any) -> Any:
    a, b = promote(backend, a, b)
    if name not in _EQUALITY and backend.is_bool(a.dtype):
        # False < True, as in PyTorch; the array API orders no bools, so compare as integers.
        a = backend.astype(a, "uint8")
        b = int(b) if type(b) is bool else backend.astype(b, "uint8")
    return getattr(backend, name)(a, b)


_EQUALITY = ("equal", "not_equal")


@takes_out(CAST)
def eq(input: Tensor, other: Any) -> Tensor:
    return _compare("equal", input, other)


@takes_out(CAST)
def ne(input: Tensor, other: Any) -> Tensor:
    return _compare("not_equal", input, other)


@takes_out(CAST)
def gt(input: Tensor, other: Any) -> Tensor:
    return _compare("greater", input, other)


@takes_out(CAST)
def ge(input: Tensor, other: Any) -> Tensor:
    return _compare("greater_equal", input, other)


@takes_out(CAST)
def lt(input: Tensor, other: Any) -> Tensor:
    return _compare("less", input, other)


@takes_out(CAST)
def le(input: Tensor, other: Any) -> Tensor:
    return _compare("less_equal", input, other)


not_equal, greater, greater_equal, less, less_equal = ne, gt, ge, lt, le


# ----------------------------------------------------------------------------- in place
class Compared(Function):
    """`x.eq_(y)` & co. on a tensor that requires grad (or with a `y` that does): the
    comparison (or logical op) in x's dtype, a piecewise-constant function, so its gradients
    are zero. (PyTorch records its comparisons this way; its logical_*_ keep x's previous
    history instead, which passes gradients through as if nothing happened: here they get zero
    gradients too.)"""

    node_name = "EqBackward0"  # each op and form below declares its own
    jvp = zero_tangent

    @staticmethod
    def forward(ctx: Any, a: Any, *other: Any, op: str, number: Any = None) -> Any:
        backend = ctx.backend
        b = other[0] if other else number
        if op == "logical_not":
            result = backend.logical_not(_truth(backend, a))
        elif op.startswith("logical_"):
            result = _logical_of(backend, op, a, b)
        else:
            result = _compared(backend, op, a, b)
        return backend.astype(result, backend.dtype_name(a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        return tuple(zeros_like(grad) if needed else None for needed in ctx.needs_input_grad)


def _compared_node(name: str) -> type[Compared]:
    return type(name, (Compared,), {"node_name": name, "__module__": __name__})


# (op, other is a tensor) -> node class: PyTorch's names, 0 for a number, 1 for a tensor.
COMPARED = {
    (op, tensor): _compared_node(f"{stem}Backward{int(tensor)}")
    for op, stem in (("equal", "Eq"), ("not_equal", "Ne"), ("less", "Lt"),
                     ("less_equal", "Le"), ("greater", "Gt"), ("greater_equal", "Ge"),
                     ("logical_and", "LogicalAnd"), ("logical_or", "LogicalOr"),
                     ("logical_xor", "LogicalXor"), ("logical_not", "LogicalNot"))
    for tensor in (False, True)
}


def compared(input: Tensor, op: str, other: Any = None) -> Tensor:
    """`input <op> other` in input's dtype, recorded with zero gradients (the in-place
    comparisons and logical ops; see `Compared`)."""
    if isinstance(other, Tensor):
        if other._backend is not input._backend:
            _raise_device_mismatch(input._backend, other._backend)
        return COMPARED[op, True].apply(input, other, op=op)
    return COMPARED[op, False].apply(input, op=op, number=other)


# ----------------------------------------------------------------------------- logical
def _truth(backend: Any, x: Any) -> Any:
    """Any dtype as bool: nonzero is True (PyTorch's logical ops accept every dtype)."""
    return x if backend.is_bool(x.dtype) else backend.not_equal(x, 0)


@elementwise_op
def _logical(name: str, input: Tensor, other: Tensor) -> Tensor:
    require_tensors(name, ("input", input), ("other", other))
    dense_only(f"aten::{name}.out", input, other)
    backend, a, b = _operands(input, other)
    return _wrap(_logical_of(backend, name, a, b), backend)


def _logical_of(backend: Any, name: str, a: Any, b: Any) -> Any:
    if not hasattr(b, "shape"):
        b = backend.asarray(b)
    if a.shape != b.shape:
        check_broadcast(a.shape, b.shape)
    return getattr(backend, name)(_truth(backend, a), _truth(backend, b))


@takes_out(CAST)
def logical_and(input: Tensor, other: Tensor) -> Tensor:
    return _logical("logical_and", input, other)


@takes_out(CAST)
def logical_or(input: Tensor, other: Tensor) -> Tensor:
    return _logical("logical_or", input, other)


@takes_out(CAST)
def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    return _logical("logical_xor", input, other)


@takes_out(CAST)
@elementwise_op
def logical_not(input: Tensor) -> Tensor:
    dense_only("aten::logical_not.out", input)
    backend = input._backend
    return _wrap(backend.logical_not(_truth(backend, input._data)), backend)


# ----------------------------------------------------------------------------- bitwise
@elementwise_op
def _bitwise(name: str, input: Tensor, other: Any) -> Tensor:
    require_operands(name, input, other)
    backend, a, b = _operands(input, other)
    a, b = promote(backend, a, b)
    array = a if hasattr(a, "dtype") else b
    if backend.is_floating(array.dtype):
        raise not_implemented_for(name, backend, array)
    return _wrap(getattr(backend, name)(a, b), backend)


@takes_out(CAST)
def bitwise_and(input: Tensor, other: Any) -> Tensor:
    return _bitwise("bitwise_and", input, other)


@takes_out(CAST)
def bitwise_or(input: Tensor, other: Any) -> Tensor:
    return _bitwise("bitwise_or", input, other)


@takes_out(CAST)
def bitwise_xor(input: Tensor, other: Any) -> Tensor:
    return _bitwise("bitwise_xor", input, other)


@takes_out(SAME)
@elementwise_op
def bitwise_not(input: Tensor) -> Tensor:
    backend, a = input._backend, input._data
    if backend.is_floating(a.dtype):
        raise not_implemented_for("bitwise_not", backend, a)
    if backend.is_bool(a.dtype):
        return _wrap(backend.logical_not(a), backend)
    return _wrap(backend.bitwise_invert(a), backend)


def invert(input: Tensor) -> Tensor:
    """`~tensor`: bitwise not, refused for floating tensors with PyTorch's TypeError."""
    if input.dtype.is_floating_point:
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return bitwise_not(input)


# ----------------------------------------------------------------------------- value tests
@elementwise_op
def isnan(input: Tensor) -> Tensor:
    return value_test(input, input._backend.isnan)


@elementwise_op
def isinf(input: Tensor) -> Tensor:
    return value_test(input, input._backend.isinf)


@elementwise_op
def isfinite(input: Tensor) -> Tensor:
    dense_only("aten::ne.Scalar", input)
    return _wrap(input._backend.isfinite(input._data), input._backend)


@elementwise_op
def isposinf(input: Tensor) -> Tensor:
    return _infinity(input, "greater")


@elementwise_op
def isneginf(input: Tensor) -> Tensor:
    return _infinity(input, "less")


def _infinity(input: Tensor, side: str) -> Tensor:
    backend = input._backend

    def test(data: Any) -> Any:
        if not backend.is_floating(data.dtype):  # integers and bools are never infinite
            return backend.zeros(data.shape, "bool")
        return backend.logical_and(backend.isinf(data), getattr(backend, side)(data, 0))

    return value_test(input, test)


def value_test(input: Tensor, test: Any) -> Tensor:
    """`test(array)`, a bool array that is False at 0, as a tensor; of a sparse tensor's
    values at its indices, as PyTorch's sparse kernels give it; of a masked tensor's data,
    the mask kept."""
    data = input._data
    if type(data) is SparseCOO:
        return values_mapped(input, test)
    if isinstance(data, LayoutData):
        mapped = data.map_values((input,), lambda inner: value_test(inner, test))
        if mapped is not None:
            return mapped
    return _wrap(test(data), input._backend)


@elementwise_op
def isreal(input: Tensor) -> Tensor:
    """Whether each element is real: all True for real dtypes; for complex ones, where the
    imaginary part is zero."""
    backend = input._backend
    if input.is_complex():
        return _wrap(backend.equal(backend.imag(input._data), 0), backend)
    return _wrap(backend.ones(input._data.shape, "bool"), backend)


@function_rule("isin", seen=True)
def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Whether each of `elements` is in `test_elements` (either may be a number). The result
    is the same whether or not the elements are unique, so `assume_unique` changes nothing."""
    like = elements if isinstance(elements, Tensor) else test_elements
    if not isinstance(like, Tensor):
        raise TypeError(
            "isin() received an invalid combination of arguments - got "
            f"({type(elements).__name__}, {type(test_elements).__name__}), but expected one "
            "of:\n * (Tensor elements, Tensor test_elements, *, bool assume_unique = False, "
            "bool invert = False, Tensor out = None)\n * (Number element, Tensor test_elements, "
            "*, bool assume_unique = False, bool invert = False, Tensor out = None)\n * (Tensor "
            "elements, Number test_element, *, bool assume_unique = False, bool invert = False, "
            "Tensor out = None)\n")
    backend = like._backend
    if isinstance(elements, Tensor) and isinstance(test_elements, Tensor) \
            and test_elements._backend is not backend:
        _raise_device_mismatch(backend, test_elements._backend)
    arrays = []
    for value in (elements, test_elements):
        array = value._data if isinstance(value, Tensor) else value
        arrays.append(array)
    for array in arrays:
        if type(array) is bool or (hasattr(array, "dtype") and backend.is_bool(array.dtype)):
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    a, b = promote(backend, arrays[0], arrays[1], elementwise=False)
    kind = backend.dtype_name(a) if hasattr(a, "dtype") else backend.dtype_name(b)
    a, b = (x if hasattr(x, "dtype") else backend.asarray(x, dtype=kind) for x in (a, b))
    return _wrap(backend.isin(a, backend.reshape(b, (-1,)), invert=invert), backend)


@elementwise_op
def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise (equal infinities are close)."""
    require_tensors("isclose", ("input", input), ("other", other))
    dense_only("aten::eq.Tensor", input, other)
    backend, a, b = _operands(input, other)
    if input.dtype is not other.dtype:
        raise RuntimeError(
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} did not match "
            f"{dtypes.SCALAR_TYPE_NAMES[other.dtype.name]}"
        )
    if a.shape != b.shape:
        check_broadcast(a.shape, b.shape)
    close = backend.equal(a, b)  # also equal infinities
    if backend.is_bool(a.dtype):
        return _wrap(close, backend)
    if not (backend.is_floating(a.dtype) or backend.is_complex(a.dtype)):
        # integers: the tolerance is computed in float64
        a, b = backend.astype(a, "float64"), backend.astype(b, "float64")
    # Infinities and NaNs are replaced before subtracting (no inf - inf): they are close
    # only when equal, which `close` already says.
    finite = backend.logical_and(backend.isfinite(a), backend.isfinite(b))
    a = backend.where(finite, a, backend.zeros_like(a))
    b = backend.where(finite, b, backend.zeros_like(b))
    difference = backend.abs(backend.subtract(a, b))
    tolerance = backend.add(backend.multiply(backend.abs(b), rtol), atol)
    within = backend.logical_and(finite, backend.less_equal(difference, tolerance))
    close = backend.logical_or(close, within)
    if equal_nan:
        both_nan = backend.logical_and(backend.isnan(input._data), backend.isnan(other._data))
        close = backend.logical_or(close, both_nan)
    return _wrap(close, backend)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    require_tensors("allclose", ("input", input), ("other", other))
    close = isclose(input, other, rtol, atol, equal_nan)
    return bool(close._backend.all(close._data))


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and the same values."""
    require_tensors("equal", ("input", input), ("other", other))
    if type(input._data) is QuantizedData and type(other._data) is QuantizedData:
        return quantized_equal(input, other)
    dense_only("aten::equal", input, other)
    backend, a, b = _operands(input, other)
    backend.needs_values("aten::equal")
    if a.shape != b.shape:
        return False
    a, b = promote(backend, a, b)
    return backend.all_true(backend.equal(a, b))
