"""dtypes: PyTorch's type promotion (against torch.result_type and torch's ops when torch is
installed, and a hand-written table when not), result dtypes of the integer and bool cases,
casting methods, and gradients that come back in each input's dtype."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff import dtypes

DTYPE_NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
               "float64"]
SCALARS = [True, 3, 2.5]


@pytest.fixture
def default_float64() -> Iterator[None]:
    autodiff.set_default_dtype(autodiff.float64)
    try:
        yield
    finally:
        autodiff.set_default_dtype(autodiff.float32)


def _operands() -> list[tuple[Any, str]]:
    """Every operand kind: a tensor of each dtype with dimensions, a 0-d one, Python scalars."""
    kinds: list[tuple[Any, str]] = []
    for name in DTYPE_NAMES:
        kinds.append(((dtypes.BY_NAME[name], 1), f"{name}[2]"))
        kinds.append(((dtypes.BY_NAME[name], 0), f"{name}[]"))
    kinds.extend((scalar, repr(scalar)) for scalar in SCALARS)
    return kinds


OPERAND_PAIRS = [
    pytest.param(a, b, id=f"{a_id}-{b_id}")
    for (a, a_id), (b, b_id) in itertools.product(_operands(), _operands())
    if isinstance(a, tuple) or isinstance(b, tuple)
]


# ----------------------------------------------------------------------------- result_type
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_result_type_matches_torch_for_every_pair(default: str) -> None:
    torch = pytest.importorskip("torch")

    def torch_operand(operand: Any) -> Any:
        if not isinstance(operand, tuple):
            return operand
        kind, ndim = operand
        return torch.ones((2,) * ndim, dtype=getattr(torch, kind.name))

    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, default))
    autodiff.set_default_dtype(dtypes.BY_NAME[default])
    try:
        mismatches = []
        for param in OPERAND_PAIRS:
            a, b = param.values
            expected = str(torch.result_type(torch_operand(a), torch_operand(b))).split(".")[1]
            if dtypes.result_type(a, b).name != expected:
                mismatches.append((param.id, dtypes.result_type(a, b).name, expected))
    finally:
        torch.set_default_dtype(previous)
        autodiff.set_default_dtype(autodiff.float32)
    assert not mismatches
    assert len(OPERAND_PAIRS) == 441 - 9  # 21 operand kinds, pairs of two scalars excluded


# Without torch: the rules spelled out on representative pairs.
@pytest.mark.parametrize(("a", "b", "expected"), [
    ((autodiff.int64, 1), 2.5, "float32"),          # an integer tensor with a float scalar
    ((autodiff.int32, 1), 3, "int32"),              # a scalar never widens its own category
    ((autodiff.int32, 1), (autodiff.int64, 0), "int32"),      # nor does a 0-d tensor
    ((autodiff.float16, 1), (autodiff.float64, 0), "float16"),
    ((autodiff.int32, 1), (autodiff.float64, 0), "float64"),  # a higher category does
    ((autodiff.int32, 0), (autodiff.float16, 0), "float16"),
    ((autodiff.uint8, 1), (autodiff.int8, 1), "int16"),
    ((autodiff.uint8, 1), (autodiff.int16, 1), "int16"),
    ((autodiff.bool, 1), True, "bool"),
    ((autodiff.bool, 1), 3, "int64"),
    ((autodiff.bool, 0), (autodiff.uint8, 0), "uint8"),
    ((autodiff.float16, 1), (autodiff.float32, 1), "float32"),
    ((autodiff.int8, 0), 2.5, "float32"),
])
def test_result_type_rules(a: Any, b: Any, expected: str) -> None:
    assert dtypes.result_type(a, b).name == expected
    assert dtypes.result_type(b, a).name == expected


def test_view_as_another_dtype_shares_memory(device: str) -> None:
    x = autodiff.tensor([[1.5, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], device=device)
    y = x.view(autodiff.int32)
    assert y.dtype is autodiff.int32 and tuple(y.shape) == (2, 4)
    assert y[0, 1].item() == 1073741824  # 2.0's bits
    y[0, 0] = 1000000000
    assert x[0, 0].item() == pytest.approx(0.0047238, rel=1e-4)
    assert tuple(x.view(autodiff.float64).shape) == (2, 2)
    assert tuple(x.view(autodiff.int16).shape) == (2, 8)
    assert x.t().view(autodiff.int32).stride() == (1, 4)  # equal sizes: any layout
    assert autodiff.tensor([1.0, 2.0], dtype=autodiff.float64, device=device).view(
        autodiff.complex128).tolist() == [1 + 2j]
    leaf = autodiff.ones(2, requires_grad=True, device=device)
    assert not leaf.view(autodiff.float32).requires_grad


@pytest.mark.parametrize("call", [
    lambda m: m.tensor(1.0).view(m.int8),
    lambda m: m.ones(4, 3).view(m.float64),
    lambda m: m.ones(4, 4).t().view(m.float64),
    lambda m: m.ones(4, 4)[:, 1:3].view(m.float64),
    lambda m: m.ones(4, 5)[:, :4].view(m.float64),
])
def test_view_as_another_dtype_refusals(call: Callable[[Any], Any]) -> None:
    with pytest.raises(RuntimeError) as ours:
        call(autodiff)
    assert "to view Float as " in str(ours.value)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        call(torch)
    assert str(ours.value) == str(theirs.value)


def test_public_promotion_functions() -> None:
    # torch.promote_types, torch.result_type and torch.can_cast over the same lattice.
    assert autodiff.promote_types(autodiff.int32, autodiff.float32) is autodiff.float32
    assert autodiff.promote_types(autodiff.uint8, autodiff.long) is autodiff.int64
    assert autodiff.result_type(autodiff.tensor([1, 2], dtype=autodiff.int), 1.0) is \
        autodiff.float32
    assert autodiff.result_type(autodiff.tensor([1, 2], dtype=autodiff.uint8),
                                autodiff.tensor(1)) is autodiff.uint8
    assert autodiff.result_type(2, autodiff.tensor([True])) is autodiff.int64
    assert autodiff.result_type(1, 2.5) is autodiff.float32
    assert autodiff.can_cast(autodiff.double, autodiff.float)
    assert not autodiff.can_cast(autodiff.float, autodiff.int)
    assert not autodiff.can_cast(autodiff.complex64, autodiff.float64)
    assert not autodiff.can_cast(autodiff.int8, autodiff.bool)
    assert autodiff.can_cast(autodiff.bool, autodiff.float16)
    with pytest.raises(TypeError, match=r"^can_cast\(\): argument 'from_' \(position 1\) must "
                                        r"be torch\.dtype, not int$"):
        autodiff.can_cast(1, autodiff.float)
    with pytest.raises(TypeError, match=r"^promote_types\(\): argument 'type2' \(position 2\) "
                                        r"must be torch\.dtype, not NoneType$"):
        autodiff.promote_types(autodiff.float, None)
    with pytest.raises(TypeError, match=r"^result_type\(\) received an invalid combination of "
                                        r"arguments - got \(Tensor, str\)"):
        autodiff.result_type(autodiff.tensor(1), "a")


def test_public_promotion_functions_match_torch() -> None:
    torch = pytest.importorskip("torch")
    kinds = [*DTYPE_NAMES, "bfloat16", "complex64", "complex128"]
    for a, b in itertools.product(kinds, kinds):
        ours, theirs = getattr(autodiff, a), getattr(torch, a)
        other, others = getattr(autodiff, b), getattr(torch, b)
        assert str(autodiff.promote_types(ours, other)) == str(torch.promote_types(theirs,
                                                                                   others))
        assert autodiff.can_cast(ours, other) == torch.can_cast(theirs, others), (a, b)


def test_default_dtype_changes_float_results(default_float64: None) -> None:
    assert dtypes.result_type((autodiff.int64, 1), 2.5) is autodiff.float64
    assert autodiff.tensor([1, 4]).sqrt().dtype is autodiff.float64
    assert (autodiff.tensor([1, 2]) / 2).dtype is autodiff.float64
    assert (autodiff.ones(2, dtype=autodiff.float32) * 2.5).dtype is autodiff.float32


# ----------------------------------------------------------------------------- ops vs torch
def _tensor(library: Any, name: str, ndim: int) -> Any:
    data: Any = [2, 3] if ndim else 3
    if name == "bool":
        data = [True, False] if ndim else True
    return library.tensor(data, dtype=getattr(library, name))


BINARY_OPS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "add": lambda L, a, b: a + b, "sub": lambda L, a, b: a - b, "rsub": lambda L, a, b: b - a,
    "radd": lambda L, a, b: b + a, "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / b, "rdiv": lambda L, a, b: b / a, "pow": lambda L, a, b: a ** b,
    "rpow": lambda L, a, b: b ** a, "floor_divide": lambda L, a, b: a // b,
    "remainder": lambda L, a, b: a % b,
    "trunc": lambda L, a, b: L.div(a, b, rounding_mode="trunc"),
    "eq": lambda L, a, b: a == b, "lt": lambda L, a, b: a < b,
    "bitwise_and": lambda L, a, b: a & b, "bitwise_xor": lambda L, a, b: a ^ b,
    "where": lambda L, a, b: L.where(L.tensor(True), a, b),
    "maximum": lambda L, a, b: L.maximum(a, b), "atan2": lambda L, a, b: L.atan2(a, b),
    "clamp_tensor": lambda L, a, b: L.clamp(a, min=b), "lerp": lambda L, a, b: L.lerp(a, b, 0.5),
    "logical_or": lambda L, a, b: L.logical_or(a, b),
}
TENSOR_ONLY = {"maximum", "atan2", "clamp_tensor", "lerp", "logical_or"}


def _outcome(function: Callable[[], Any]) -> tuple[str, str, Any]:
    """('ok', dtype, values) or ('error', exception type, first line of the message)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = function()
    except Exception as error:  # the kind of failure is what is compared
        return "error", type(error).__name__, str(error).split("\n")[0]
    return "ok", str(out.dtype), np.array(out.tolist(), dtype=np.float64)


def _same(theirs: tuple[str, str, Any], ours: tuple[str, str, Any]) -> bool:
    if theirs[:2] != ours[:2]:
        return False
    if theirs[0] == "error":
        return theirs[2] == ours[2]
    return bool(np.allclose(theirs[2], ours[2], rtol=1e-3, equal_nan=True))


@pytest.mark.parametrize("op", list(BINARY_OPS))
def test_binary_ops_promote_and_fail_like_torch(op: str) -> None:
    """Every dtype pair (with dims, 0-d, Python scalars): the same result dtype, values, or
    error type and message as PyTorch."""
    torch = pytest.importorskip("torch")
    function = BINARY_OPS[op]
    mismatches = []
    for a_kind, b_kind in itertools.product(
            [(name, ndim) for name in DTYPE_NAMES for ndim in (1, 0)],
            [*((name, ndim) for name in DTYPE_NAMES for ndim in (1, 0)), *SCALARS]):
        if op in TENSOR_ONLY and not isinstance(b_kind, tuple):
            continue
        results = []
        for library in (torch, autodiff):
            a = _tensor(library, *a_kind)
            b = _tensor(library, *b_kind) if isinstance(b_kind, tuple) else b_kind
            results.append(_outcome(lambda: function(library, a, b)))  # noqa: B023
        if not _same(*results):
            mismatches.append((a_kind, b_kind, results[0][:2], results[1][:2]))
    assert not mismatches


UNARY_OPS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "neg": lambda L, F, x: -x, "abs": lambda L, F, x: x.abs(), "sign": lambda L, F, x: x.sign(),
    "sqrt": lambda L, F, x: x.sqrt(), "rsqrt": lambda L, F, x: x.rsqrt(),
    "exp": lambda L, F, x: x.exp(), "expm1": lambda L, F, x: x.expm1(),
    "log": lambda L, F, x: x.log(), "log1p": lambda L, F, x: x.log1p(),
    "log2": lambda L, F, x: x.log2(), "log10": lambda L, F, x: x.log10(),
    "erf": lambda L, F, x: x.erf(), "sin": lambda L, F, x: x.sin(),
    "tan": lambda L, F, x: x.tan(), "tanh": lambda L, F, x: x.tanh(),
    "asin": lambda L, F, x: x.asin(), "atan": lambda L, F, x: x.atan(),
    "cosh": lambda L, F, x: x.cosh(), "sigmoid": lambda L, F, x: x.sigmoid(),
    "relu": lambda L, F, x: x.relu(), "gelu": lambda L, F, x: F.gelu(x),
    "elu": lambda L, F, x: F.elu(x), "silu": lambda L, F, x: F.silu(x),
    "leaky_relu": lambda L, F, x: F.leaky_relu(x), "softplus": lambda L, F, x: F.softplus(x),
    "floor": lambda L, F, x: x.floor(), "ceil": lambda L, F, x: x.ceil(),
    "round": lambda L, F, x: x.round(), "trunc": lambda L, F, x: x.trunc(),
    "round_decimals": lambda L, F, x: x.round(decimals=1),
    "square": lambda L, F, x: x.square(), "reciprocal": lambda L, F, x: x.reciprocal(),
    "pow_int": lambda L, F, x: x ** 2, "pow_float": lambda L, F, x: x ** 2.5,
    "pow_negative": lambda L, F, x: x ** -1, "rpow_int": lambda L, F, x: 2 ** x,
    "clamp_ints": lambda L, F, x: x.clamp(0, 1), "clamp_floats": lambda L, F, x: x.clamp(0.5),
    "sum": lambda L, F, x: x.sum(), "sum_dim": lambda L, F, x: x.sum(0),
    "mean": lambda L, F, x: x.mean(), "prod": lambda L, F, x: x.prod(),
    "max": lambda L, F, x: x.max(), "max_dim": lambda L, F, x: x.max(0).values,
    "amax": lambda L, F, x: x.amax(), "argmax": lambda L, F, x: x.argmax(),
    "argmin": lambda L, F, x: x.argmin(0), "var": lambda L, F, x: x.var(),
    "std": lambda L, F, x: x.std(), "logsumexp": lambda L, F, x: x.logsumexp(0),
    "norm": lambda L, F, x: x.norm(), "cumsum": lambda L, F, x: x.cumsum(0),
    "cumprod": lambda L, F, x: x.cumprod(0), "any": lambda L, F, x: x.any(),
    "all": lambda L, F, x: x.all(0), "isnan": lambda L, F, x: x.isnan(),
    "isfinite": lambda L, F, x: x.isfinite(), "logical_not": lambda L, F, x: L.logical_not(x),
    "invert": lambda L, F, x: ~x, "float": lambda L, F, x: x.float(),
    "double": lambda L, F, x: x.double(), "half": lambda L, F, x: x.half(),
    "long": lambda L, F, x: x.long(), "int": lambda L, F, x: x.int(),
    "bool": lambda L, F, x: x.bool(), "to": lambda L, F, x: x.to(L.int16),
}


@pytest.mark.parametrize("op", list(UNARY_OPS))
def test_unary_ops_dtypes_and_errors_like_torch(op: str) -> None:
    torch = pytest.importorskip("torch")
    function = UNARY_OPS[op]
    mismatches = []
    for name in DTYPE_NAMES:
        results = [
            _outcome(lambda library=library, functional=functional, name=name: function(  # type: ignore
                library, functional, library.tensor([1, 0, 2], dtype=getattr(library, name))))
            for library, functional in ((torch, torch.nn.functional), (autodiff, F))
        ]
        if not _same(*results):
            mismatches.append((name, results[0], results[1]))
    assert not mismatches


# Without torch: the integer and bool behaviours that differ from NumPy's.
@pytest.mark.parametrize(("function", "dtype", "expected"), [
    (lambda x: x.sqrt(), "int64", "float32"),
    (lambda x: x.exp(), "bool", "float32"),
    (lambda x: x.abs(), "int32", "int32"),
    (lambda x: x.sign(), "bool", "bool"),
    (lambda x: x.sum(), "int32", "int64"),
    (lambda x: x.sum(), "bool", "int64"),
    (lambda x: x.prod(), "uint8", "int64"),
    (lambda x: x.cumsum(0), "int16", "int64"),
    (lambda x: x.max(), "int8", "int8"),
    (lambda x: x.argmax(), "float16", "int64"),
    (lambda x: x / x, "int32", "float32"),
    (lambda x: x // 2, "int32", "int32"),
    (lambda x: x * 2.5, "int64", "float32"),
    (lambda x: x ** 2, "bool", "int64"),
    (lambda x: x.logsumexp(0), "int64", "float32"),
    (lambda x: x.floor(), "int64", "int64"),
    (lambda x: x.clamp(0.5), "int32", "float32"),
    (lambda x: x.relu(), "int32", "int32"),
    (lambda x: x.half().sigmoid(), "int32", "float16"),
])
def test_integer_and_bool_result_dtypes(function: Callable[[Any], Any], dtype: str,
                                        expected: str) -> None:
    x = autodiff.tensor([1, 3, 2], dtype=getattr(autodiff, dtype))
    assert function(x).dtype is getattr(autodiff, expected)


# ----------------------------------------------------------------------------- casting
@pytest.mark.parametrize(("method", "expected"), [
    ("float", "float32"), ("double", "float64"), ("half", "float16"), ("long", "int64"),
    ("int", "int32"), ("bool", "bool"),
])
def test_casting_methods(method: str, expected: str) -> None:
    x = autodiff.tensor([-1.5, 0.0, 2.75])
    out = getattr(x, method)()
    assert out.dtype is getattr(autodiff, expected)
    assert out.tolist() == np.array([-1.5, 0.0, 2.75]).astype(expected).tolist()
    assert x.to(getattr(autodiff, expected)).tolist() == out.tolist()
    assert x.to(dtype=getattr(autodiff, expected)).dtype is out.dtype
    same = getattr(out, method)()
    assert same is out  # already that dtype: no copy, as PyTorch


def test_casts_are_differentiable_between_floats_and_cut_to_integers() -> None:
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.grad_fn.name() == "ToCopyBackward0"
    (y * y).sum().backward()
    assert x.grad.dtype is autodiff.float32 and x.grad.tolist() == [2.0, 4.0]
    assert not x.long().requires_grad and x.long().grad_fn is None
    assert x.half().to(autodiff.float64).requires_grad
    # PyTorch's requires_grad_() says "floating point dtype" (its factories and the attribute
    # setter say "floating point and complex dtype"; see tests/test_errors.py).
    with pytest.raises(RuntimeError, match=r"^only Tensors of floating point dtype can require "
                                           r"gradients$"):
        autodiff.tensor([1, 2]).requires_grad_()


# ----------------------------------------------------------------------------- gradient dtypes
@pytest.mark.parametrize(("a_dtype", "b_dtype"), [
    ("float32", "float64"), ("float16", "float32"), ("float64", "float16"),
])
@pytest.mark.parametrize("op", ["mul", "add", "div", "maximum", "atan2", "where", "pow"])
def test_gradients_come_back_in_each_inputs_dtype(a_dtype: str, b_dtype: str, op: str) -> None:
    a = autodiff.tensor([[0.5], [1.5], [2.0]], dtype=getattr(autodiff, a_dtype),
                        requires_grad=True)
    b = autodiff.tensor([0.75, 1.25], dtype=getattr(autodiff, b_dtype), requires_grad=True)
    function = {
        "mul": lambda: a * b, "add": lambda: a + b, "div": lambda: a / b,
        "maximum": lambda: autodiff.maximum(a, b), "atan2": lambda: autodiff.atan2(a, b),
        "where": lambda: autodiff.where(a > 1, a, b), "pow": lambda: a ** b,
    }[op]
    out = function()
    assert out.dtype is dtypes.promote_types(a.dtype, b.dtype)
    (out * out).sum().backward()
    assert a.grad.dtype is a.dtype and a.grad.shape == a.shape
    assert b.grad.dtype is b.dtype and b.grad.shape == b.shape


def test_mixed_dtype_graph_gradient_values() -> None:
    a = autodiff.tensor([1.0, 2.0], dtype=autodiff.float32, requires_grad=True)
    b = autodiff.tensor(3.0, dtype=autodiff.float64, requires_grad=True)
    out = (a * b).sum()  # a 0-d float64 does not widen a float32 tensor
    assert out.dtype is autodiff.float32
    out.backward()
    assert a.grad.tolist() == [3.0, 3.0] and a.grad.dtype is autodiff.float32
    assert b.grad.item() == 3.0 and b.grad.dtype is autodiff.float64


@pytest.mark.parametrize("reduce", [
    lambda x: x.sum(dtype=autodiff.float64), lambda x: x.cumsum(0, dtype=autodiff.float64),
    lambda x: x.prod(dtype=autodiff.float64), lambda x: x.norm(dtype=autodiff.float64),
    lambda x: x.mean(dtype=autodiff.float64),
])
def test_reductions_with_a_dtype_return_gradients_in_the_input_dtype(reduce: Any) -> None:
    x = autodiff.tensor([0.5, 1.5, 2.0], dtype=autodiff.float32, requires_grad=True)
    out = reduce(x)
    assert out.dtype is autodiff.float64
    out.sum().backward()
    assert x.grad.dtype is autodiff.float32


def test_float16_ops_stay_float16() -> None:
    x = autodiff.tensor([0.5, -1.0, 2.0], dtype=autodiff.float16, requires_grad=True)
    out = F.gelu(x) + x.tanh() + x.erf() + x.abs().sqrt() + x.clamp(-0.5, 0.5)
    assert out.dtype is autodiff.float16
    out.sum().backward()
    assert x.grad.dtype is autodiff.float16
    assert all(math.isfinite(v) for v in x.grad.tolist())


# ----------------------------------------------------------------------------- public rules
PUBLIC_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
                 "float32", "float64", "complex64", "complex128"]


def test_promote_types_and_can_cast_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for a in PUBLIC_DTYPES:
        for b in PUBLIC_DTYPES:
            ours = autodiff.promote_types(getattr(autodiff, a), getattr(autodiff, b))
            assert str(ours) == str(torch.promote_types(getattr(torch, a), getattr(torch, b)))
            assert autodiff.can_cast(getattr(autodiff, a), getattr(autodiff, b)) == \
                torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)


def test_result_type_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    numbers: list[Any] = [True, 3, 2.5, 1 + 2j, np.float32(1.5), np.int64(2)]

    def operands(library: Any) -> list[Any]:
        made: list[Any] = list(numbers)
        for name in PUBLIC_DTYPES:
            made.append(library.ones(2, dtype=getattr(library, name)))
            made.append(library.ones((), dtype=getattr(library, name)))
        return made

    for ours_a, theirs_a in zip(operands(autodiff), operands(torch)):
        for ours_b, theirs_b in zip(operands(autodiff), operands(torch)):
            expected = torch.result_type(theirs_a, theirs_b)
            if expected == torch.complex32:  # float16 and a complex: autodiff has no complex32
                with pytest.raises(RuntimeError, match=r"^Unsupported dtype Half$"):
                    autodiff.result_type(ours_a, ours_b)
                continue
            assert str(autodiff.result_type(ours_a, ours_b)) == str(expected), (theirs_a,
                                                                               theirs_b)


def test_type_rules_without_pytorch() -> None:
    assert autodiff.promote_types(autodiff.uint8, autodiff.int8) == autodiff.int16
    assert autodiff.result_type(autodiff.tensor([1, 2]), 1.0) == autodiff.float32
    assert autodiff.result_type(autodiff.tensor(1.0), autodiff.tensor([1], dtype=autodiff.int32)) \
        == autodiff.float32
    assert autodiff.result_type(1, 2) == autodiff.int64
    assert autodiff.can_cast(autodiff.float64, autodiff.float32)
    assert not autodiff.can_cast(autodiff.float32, autodiff.int32)
    assert not autodiff.can_cast(autodiff.int32, autodiff.bool)
    assert not autodiff.can_cast(autodiff.complex64, autodiff.float64)
    with pytest.raises(TypeError, match=r"^promote_types\(\): argument 'type1' \(position 1\) "
                                        r"must be torch.dtype, not int$"):
        autodiff.promote_types(1, autodiff.float32)
    with pytest.raises(TypeError, match=r"^can_cast\(\): argument 'to' \(position 2\) must be "
                                        r"torch.dtype, not str$"):
        autodiff.can_cast(autodiff.float32, "a")
    with pytest.raises(TypeError, match=r"^result_type\(\) received an invalid combination of "
                                        r"arguments - got \(str, Tensor\)"):
        autodiff.result_type("a", autodiff.ones(1))


def test_namespace_settings_as_pytorch() -> None:
    assert autodiff.typename(autodiff.ones(1)) == "torch.FloatTensor"
    assert autodiff.typename(autodiff.ones(1, dtype=autodiff.int64)) == "torch.LongTensor"
    assert autodiff.typename(1) == "int" and autodiff.typename(autodiff.nn.Linear) == \
        "autodiff.nn.modules.linear.Linear"
    assert autodiff.is_storage(autodiff.ones(1)) is False
    assert autodiff.set_flush_denormal(False) is False
    with pytest.raises(RuntimeError, match=r"^flush_denormal expects a bool, but got int$"):
        autodiff.set_flush_denormal(1)  # type: ignore[arg-type]
    assert autodiff.get_num_interop_threads() >= 1
    assert autodiff.is_warn_always_enabled() is False
    try:
        autodiff.set_warn_always(True)
        assert autodiff.is_warn_always_enabled() is True
        for _ in range(2):  # a once-per-process warning, given every time now
            with pytest.warns(UserWarning, match="index_reduce\\(\\) is in beta"):
                autodiff.zeros(3).index_reduce(0, autodiff.tensor([0]), autodiff.ones(1), "prod")
    finally:
        autodiff.set_warn_always(False)
