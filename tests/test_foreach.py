"""torch._foreach_*: every name against the per-tensor loop on every device, against PyTorch
where installed (values, dtypes, node names, errors), and gradcheck for the out-of-place forms.

Each case names a foreach function, its arguments as kinds ("L" a list of tensors shaped as
`self`, "S" a number, "SL" a list of numbers, "T0" a 0-d tensor, "P" a 1-d tensor of one scalar
per tensor, "M" a list of matrices) and the per-tensor op it loops over (`one`, called with the
i-th element of every list). The in-place form, where the library has one, is checked on the
same case against the per-tensor in-place method (`one_`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.foreach import FUNCTIONS

SHAPES = [(2, 3), (4,), ()]


@dataclass
class Case:
    name: str  # the out-of-place name, e.g. "_foreach_add" (or "_foreach_zero_")
    kinds: tuple[str, ...]  # the arguments after `self`
    one: Callable[..., Any] | None  # (lib, x, *row) -> tensor, the per-tensor op
    one_: Callable[..., Any] | None = None  # (x, *row) -> None, the per-tensor in-place op
    kwargs: dict[str, Any] = field(default_factory=dict)
    dtypes: tuple[str, ...] = ("float64", "float64", "float64")  # of self's tensors
    scalar_first: bool = False  # pow(scalar, list)
    grad: bool = True  # differentiable (gradcheck, node names)
    inplace: bool = True  # the in-place form can hold the result (no narrowing cast)
    low: float = 0.1
    high: float = 0.9

    @property
    def id(self) -> str:
        dtype = "" if set(self.dtypes) == {"float64"} else "-" + "/".join(self.dtypes)
        return f"{self.name}({','.join(self.kinds)}){dtype}"


def _unary(name: str, **options: Any) -> Case:
    return Case(f"_foreach_{name}", (), lambda lib, x: getattr(lib, name)(x),
                lambda x: getattr(x, name + "_")(), **options)


def _binary(name: str, kinds: tuple[str, ...], one_name: str | None = None,
            **options: Any) -> Case:
    per = one_name or name
    kwargs = options.pop("kwargs", {})
    return Case(f"_foreach_{name}", kinds,
                lambda lib, x, o: getattr(lib, per)(x, o, **kwargs),
                lambda x, o: getattr(x, per + "_")(o, **kwargs), kwargs=kwargs, **options)


UNARY = ["abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
         "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
         "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc"]
# Piecewise-constant: their derivative is zero (gradcheck holds), PyTorch records it too.
STEPS = {"ceil", "floor", "round", "sign", "trunc"}

CASES = [_unary(name) for name in UNARY]
CASES += [
    _unary("exp", dtypes=("int32", "float32", "float64"), grad=False, inplace=False),
    _unary("abs", dtypes=("int64", "int32", "float32"), grad=False, low=-5, high=5),
    _unary("neg", dtypes=("int64", "float16", "float32"), grad=False, low=-5, high=5),
]
for _name in ("add", "sub", "mul", "div"):
    CASES += [_binary(_name, ("S",)), _binary(_name, ("SL",)), _binary(_name, ("L",))]
CASES += [
    _binary("add", ("L",), kwargs={"alpha": 2}),
    _binary("sub", ("L",), kwargs={"alpha": -0.5}),
    _binary("add", ("T0",), kwargs={"alpha": 3}),
    _binary("mul", ("T0",)),
    _binary("div", ("T0",)),
    _binary("add", ("S",), dtypes=("int32", "int64", "float32"), grad=False, low=-5, high=5),
    _binary("div", ("S",), dtypes=("int32", "int64", "float16"), grad=False, low=1, high=9,
            inplace=False),
    _binary("mul", ("L",), dtypes=("int32", "float16", "float32"), grad=False, inplace=False),
    _binary("pow", ("S",)), _binary("pow", ("SL",)), _binary("pow", ("L",)),
    Case("_foreach_pow", (), lambda lib, s, x: lib.pow(s, x), None, scalar_first=True),
    _binary("maximum", ("S",), "clamp_min"), _binary("maximum", ("SL",), "clamp_min"),
    Case("_foreach_maximum", ("L",), lambda lib, x, o: lib.maximum(x, o),
         lambda x, o: x.copy_(x.maximum(o))),
    _binary("minimum", ("S",), "clamp_max"), _binary("minimum", ("SL",), "clamp_max"),
    Case("_foreach_minimum", ("L",), lambda lib, x, o: lib.minimum(x, o),
         lambda x, o: x.copy_(x.minimum(o))),
    _binary("maximum", ("S",), "clamp_min", dtypes=("int64", "int32", "float32"), grad=False,
            low=-5, high=5),
]
for _name in ("clamp_min", "clamp_max"):
    CASES += [_binary(_name, ("S",)), _binary(_name, ("SL",)), _binary(_name, ("L",))]
for _name in ("addcmul", "addcdiv"):
    CASES += [
        Case(f"_foreach_{_name}", ("L", "L"),
             lambda lib, x, a, b, n=_name: getattr(lib, n)(x, a, b),
             lambda x, a, b, n=_name: getattr(x, n + "_")(a, b)),
        Case(f"_foreach_{_name}", ("L", "L", "S"),
             lambda lib, x, a, b, v, n=_name: getattr(lib, n)(x, a, b, value=v),
             lambda x, a, b, v, n=_name: getattr(x, n + "_")(a, b, value=v)),
        Case(f"_foreach_{_name}", ("L", "L", "SL"),
             lambda lib, x, a, b, v, n=_name: getattr(lib, n)(x, a, b, value=v),
             lambda x, a, b, v, n=_name: getattr(x, n + "_")(a, b, value=v)),
        # PyTorch records no derivative for packed scalars: values only
        Case(f"_foreach_{_name}", ("L", "L", "P"),
             lambda lib, x, a, b, v, n=_name: getattr(lib, n)(x, a, b, value=v),
             lambda x, a, b, v, n=_name: getattr(x, n + "_")(a, b, value=v), grad=False),
    ]
CASES += [
    Case("_foreach_lerp", ("L", "S"), lambda lib, x, e, w: lib.lerp(x, e, w),
         lambda x, e, w: x.lerp_(e, w)),
    Case("_foreach_lerp", ("L", "SL"), lambda lib, x, e, w: lib.lerp(x, e, w),
         lambda x, e, w: x.lerp_(e, w)),
    Case("_foreach_lerp", ("L", "L"), lambda lib, x, e, w: lib.lerp(x, e, w),
         lambda x, e, w: x.lerp_(e, w)),
    Case("_foreach_clone", (), lambda lib, x: x.clone(), None),
    Case("_foreach_mm", ("M",), lambda lib, x, m: lib.mm(x, m), None),
    Case("_foreach_norm", (), lambda lib, x: lib.linalg.vector_norm(x), None),
    Case("_foreach_norm", ("S",), lambda lib, x, o: lib.linalg.vector_norm(x, o), None),
    Case("_foreach_norm", (), lambda lib, x: lib.linalg.vector_norm(x, 3.0), None,
         kwargs={"ord": 3.0}),
    Case("_foreach_norm", (), lambda lib, x: lib.linalg.vector_norm(x, math.inf), None,
         kwargs={"ord": math.inf}),
    Case("_foreach_norm", (), lambda lib, x: lib.linalg.vector_norm(x, dtype=lib.float64),
         None, kwargs={"dtype": "float64"}, dtypes=("float32", "float32", "float32"),
         grad=False),
    Case("_foreach_powsum", (), lambda lib, x: (x.abs() ** 2).sum(), None, grad=False),
    Case("_foreach_powsum", ("S",), lambda lib, x, o: (x.abs() ** o).sum(), None, grad=False),
    Case("_foreach_max", (), lambda lib, x: x.max(), None),
    Case("_foreach_max", (), lambda lib, x: x.max(), None, dtypes=("int64", "int32", "int64"),
         grad=False, low=-5, high=5),
    Case("_foreach_zero_", (), None, lambda x: x.zero_()),
    Case("_foreach_copy_", ("L",), None, lambda x, s: x.copy_(s)),
]

# A case per overload is enough to check how the ops run; the mapping of arguments to numbers
# is one per kind.
SCALAR_BASE = 2.5  # pow(scalar, list)
SCALAR = {"S": 1.5, "SL": [0.5, 2.0, -1.25]}
INT_SCALAR = {"S": 3, "SL": [2, -1, 3]}


def _array(rng: np.random.Generator, shape: tuple[int, ...], dtype: str, low: float,
           high: float) -> np.ndarray:
    values = rng.uniform(low, high, size=shape)
    if dtype.startswith("int"):
        values = np.round(values)
    return values.astype(dtype)


@dataclass
class Inputs:
    """A case's arguments as NumPy data, made once, turned into either library's."""

    tensors: list[np.ndarray]
    rest: list[Any]  # per kind: a list of arrays, a number, a list of numbers, an array

    @classmethod
    def of(cls, case: Case, seed: int = 0) -> Inputs:
        rng = np.random.default_rng(seed)
        tensors = [_array(rng, s, d, case.low, case.high) for s, d in zip(SHAPES, case.dtypes)]
        rest: list[Any] = []
        for kind in case.kinds:
            if kind == "L":
                dtype = "float64" if case.grad else "float32"
                rest.append([_array(rng, s, dtype, 0.1, 0.9) for s in SHAPES])
            elif kind == "M":
                rest.append([_array(rng, (s[-1] if s else 1, 2), "float64", 0.1, 0.9)
                             for s in SHAPES])
            elif kind in ("S", "SL"):
                integral = any(d.startswith("int") for d in case.dtypes)
                rest.append((INT_SCALAR if integral else SCALAR)[kind])
            elif kind == "T0":
                rest.append(np.array(1.75))
            elif kind == "P":
                rest.append(np.array([0.5, 2.0, -1.5]))
        if case.name == "_foreach_mm":
            tensors = [_array(rng, (3, s[-1] if s else 1), "float64", 0.1, 0.9)
                       for s in SHAPES]
        return cls(tensors, rest)

    def build(self, lib: Any, device: str | None = None, requires_grad: bool = False
              ) -> tuple[list[Any], list[Any]]:
        def make(array: np.ndarray) -> Any:
            kwargs = {"device": device} if device is not None else {}
            grad = requires_grad and array.dtype == np.float64
            return lib.tensor(array, requires_grad=grad, **kwargs)

        rest: list[Any] = []
        for value in self.rest:
            if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
                rest.append([make(array) for array in value])
            elif isinstance(value, np.ndarray):
                rest.append(make(value))
            else:
                rest.append(value)
        return [make(array) for array in self.tensors], rest


def _kwargs(case: Case, lib: Any) -> dict[str, Any]:
    return {k: getattr(lib, v) if k == "dtype" else v for k, v in case.kwargs.items()}


def _call(case: Case, lib: Any, name: str, tensors: list[Any], rest: list[Any]) -> Any:
    function = getattr(lib, name)
    if case.scalar_first:
        return function(SCALAR_BASE, tensors)
    return function(tensors, *rest, **_kwargs(case, lib))


def _row(case: Case, rest: list[Any], index: int) -> list[Any]:
    row = []
    for kind, value in zip(case.kinds, rest):
        if kind in ("L", "SL", "M"):
            row.append(value[index])
        elif kind == "P":
            row.append(value[index].item())
        else:
            row.append(value)
    return row


def _same(ours: Any, expected: Any, exact_dtype: bool = True) -> None:
    assert tuple(ours.shape) == tuple(expected.shape)
    if exact_dtype:
        assert str(ours.dtype) == str(expected.dtype)
    np.testing.assert_allclose(_numpy(ours), _numpy(expected), rtol=1e-6, atol=1e-6,
                               equal_nan=True)


def _numpy(tensor: Any) -> np.ndarray:
    return np.asarray(tensor.detach().to("cpu").numpy(), dtype=np.float64)


def _skip_unsupported(case: Case, device: str) -> None:
    if device.startswith("strict") and "float16" in case.dtypes:
        pytest.skip("array-api-strict has no float16")


def _ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


OUT_OF_PLACE = [case for case in CASES if case.one is not None]
IN_PLACE = [case for case in CASES if case.one_ is not None and case.inplace
            and case.name.rstrip("_") + "_" in FUNCTIONS]


@pytest.mark.parametrize("case", OUT_OF_PLACE, ids=_ids(OUT_OF_PLACE))
def test_out_of_place_is_the_per_tensor_loop(case: Case, device: str) -> None:
    _skip_unsupported(case, device)
    tensors, rest = Inputs.of(case).build(autodiff, device)
    before = [t._version for t in tensors]
    result = _call(case, autodiff, case.name, tensors, rest)
    assert isinstance(result, tuple) and len(result) == len(tensors)
    for index, (tensor, out) in enumerate(zip(tensors, result)):
        row = _row(case, rest, index)
        expected = case.one(autodiff, SCALAR_BASE, tensor) if case.scalar_first else \
            case.one(autodiff, tensor, *row)
        _same(out, expected)
        assert out.device == tensor.device
    assert [t._version for t in tensors] == before


@pytest.mark.parametrize("case", IN_PLACE, ids=_ids(IN_PLACE))
def test_in_place_is_the_per_tensor_loop(case: Case, device: str) -> None:
    _skip_unsupported(case, device)
    inputs = Inputs.of(case)
    tensors, rest = inputs.build(autodiff, device)
    expected, _ = inputs.build(autodiff, device)
    name = case.name.rstrip("_") + "_"
    before = [t._version for t in tensors]
    result = _call(case, autodiff, name, tensors, rest)
    assert result is tensors
    for index, (tensor, reference) in enumerate(zip(tensors, expected)):
        case.one_(reference, *_row(case, rest, index))
        _same(tensor, reference)
        assert tensor._version > before[index]


@pytest.mark.parametrize("case", [c for c in OUT_OF_PLACE if c.grad],
                         ids=_ids([c for c in OUT_OF_PLACE if c.grad]))
def test_gradcheck(case: Case, device: str) -> None:
    inputs = Inputs.of(case)
    tensors, rest = inputs.build(autodiff, device, requires_grad=True)
    leaves = [t for t in tensors if t.requires_grad]
    for value in rest:
        if isinstance(value, list) and value and isinstance(value[0], autodiff.Tensor):
            leaves += value
        elif isinstance(value, autodiff.Tensor):
            leaves.append(value)

    def function(*flat: Any) -> Any:
        it = iter(flat)
        mine = [next(it) for _ in tensors]
        others = [[next(it) for _ in value] if isinstance(value, list) and value
                  and isinstance(value[0], autodiff.Tensor)
                  else next(it) if isinstance(value, autodiff.Tensor) else value
                  for value in rest]
        return _call(case, autodiff, case.name, mine, others)

    assert autodiff.autograd.gradcheck(function, tuple(leaves), eps=1e-6, atol=1e-5)


def test_outputs_share_one_node_whose_gradients_reach_the_per_tensor_ops() -> None:
    x = autodiff.ones(2, requires_grad=True)
    y = autodiff.ones(3)
    first, second = autodiff._foreach_mul([x, y], 3.0)
    assert first.grad_fn is second.grad_fn and first.grad_fn.name() == "ForeachMulBackward1Scalar"
    assert second.requires_grad  # as PyTorch: every output of a recording call requires grad
    (first.sum() + second.sum()).backward()
    assert x.grad.tolist() == [3.0, 3.0]
    with autodiff.no_grad():
        assert autodiff._foreach_mul([x], 3.0)[0].grad_fn is None


def test_in_place_on_a_leaf_that_requires_grad_is_refused() -> None:
    x = autodiff.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        autodiff._foreach_mul_([x], 2.0)


def test_in_place_records_the_per_tensor_in_place_node() -> None:
    x = autodiff.ones(2, requires_grad=True)
    y = x * 1
    autodiff._foreach_mul_([y], 3.0)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_every_pytorch_name_is_here() -> None:
    names = {name for name in dir(autodiff) if name.startswith("_foreach")}
    assert names == set(FUNCTIONS) and len(names) == 91
    covered = {case.name for case in CASES} | {case.name.rstrip("_") + "_" for case in IN_PLACE}
    assert names <= covered, sorted(names - covered)


# ----------------------------------------------------------------------------- PyTorch


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


@pytest.mark.parametrize("case", OUT_OF_PLACE, ids=_ids(OUT_OF_PLACE))
def test_out_of_place_matches_pytorch(case: Case, torch: Any) -> None:
    inputs = Inputs.of(case)
    ours = _call(case, autodiff, case.name, *inputs.build(autodiff, requires_grad=case.grad))
    theirs = _call(case, torch, case.name, *inputs.build(torch, requires_grad=case.grad))
    assert type(ours) is type(theirs) is tuple
    for mine, expected in zip(ours, theirs):
        _same(mine, expected)
        if case.grad:
            assert mine.grad_fn.name() == expected.grad_fn.name()


@pytest.mark.parametrize("case", IN_PLACE, ids=_ids(IN_PLACE))
def test_in_place_matches_pytorch(case: Case, torch: Any) -> None:
    inputs = Inputs.of(case)
    name = case.name.rstrip("_") + "_"
    ours, rest = inputs.build(autodiff)
    theirs, rest_theirs = inputs.build(torch)
    assert _call(case, autodiff, name, ours, rest) is ours
    assert _call(case, torch, name, theirs, rest_theirs) is theirs
    for mine, expected in zip(ours, theirs):
        _same(mine, expected)
        assert mine._version == expected._version


def _lists(lib: Any) -> dict[str, Any]:
    return {
        "a": [lib.ones(2), lib.ones(3)], "one": [lib.ones(2)],
        "ints": [lib.ones(2, dtype=lib.int64)], "bools": [lib.ones(2, dtype=lib.bool)],
        "mixed": [lib.ones(2), lib.ones(2, dtype=lib.int64)],
        "empty": [lib.ones(0)], "vec": lib.ones(2), "zero_d": lib.tensor(2.0),
    }


ERRORS: list[tuple[str, Callable[[Any, dict[str, Any]], Any]]] = [
    ("empty_self", lambda lib, t: lib._foreach_add([], 1)),
    ("empty_self_", lambda lib, t: lib._foreach_exp_([])),
    ("list_lengths", lambda lib, t: lib._foreach_add(t["a"], t["one"])),
    ("scalar_list_length", lambda lib, t: lib._foreach_mul(t["a"], [1.0])),
    ("empty_scalar_list", lambda lib, t: lib._foreach_add(t["a"], [])),
    ("ternary_lengths", lambda lib, t: lib._foreach_addcmul(t["a"], t["a"], t["one"])),
    ("ternary_scalars", lambda lib, t: lib._foreach_addcdiv(t["a"], t["a"], t["a"], [1.0])),
    ("packed_dim", lambda lib, t: lib._foreach_addcmul(t["a"], t["a"], t["a"], t["zero_d"])),
    ("packed_length", lambda lib, t: lib._foreach_addcmul(t["a"], t["a"], t["a"],
                                                         lib.ones(3))),
    ("lerp_lengths", lambda lib, t: lib._foreach_lerp(t["a"], t["one"], 0.5)),
    ("lerp_weights", lambda lib, t: lib._foreach_lerp(t["a"], t["a"], t["one"])),
    ("copy_lengths", lambda lib, t: lib._foreach_copy_(t["a"], t["one"])),
    ("shapes", lambda lib, t: lib._foreach_add(t["a"], [lib.ones(2), lib.ones(4)])),
    ("cast", lambda lib, t: lib._foreach_add_(t["ints"], 1.5)),
    ("tensor_not_0d", lambda lib, t: lib._foreach_mul(t["a"], t["vec"])),
    ("norm_of_ints", lambda lib, t: lib._foreach_norm(t["ints"])),
    ("norm_narrowing", lambda lib, t: lib._foreach_norm([lib.ones(2, dtype=lib.float64)],
                                                       dtype=lib.float32)),
    ("norm_ord_str", lambda lib, t: lib._foreach_norm(t["a"], "fro")),
    ("max_empty", lambda lib, t: lib._foreach_max(t["empty"])),
    ("powsum_ints", lambda lib, t: lib._foreach_powsum(t["ints"])),
    ("sub_bool", lambda lib, t: lib._foreach_sub(t["bools"], 1)),
    ("neg_bool", lambda lib, t: lib._foreach_neg(t["bools"])),
    ("self_not_a_list", lambda lib, t: lib._foreach_exp(5)),
    ("self_item_not_a_tensor", lambda lib, t: lib._foreach_exp([1])),
    ("too_many_args", lambda lib, t: lib._foreach_exp(t["a"], 1)),
    ("scalar_with_alpha", lambda lib, t: lib._foreach_add(t["a"], 1, alpha=2)),
    ("bad_other", lambda lib, t: lib._foreach_add(t["a"], "x")),
    ("bad_keyword", lambda lib, t: lib._foreach_add(t["a"], b=1)),
    ("self_as_tensor", lambda lib, t: lib._foreach_add(t["vec"], 1)),
    ("self_as_tensor_one_overload", lambda lib, t: lib._foreach_norm(t["vec"])),
    ("self_as_tensor_lerp", lambda lib, t: lib._foreach_lerp(t["vec"], t["a"], 1)),
    ("list_of_tensor_then_number", lambda lib, t: lib._foreach_add(t["one"], [t["vec"], 1])),
    ("list_of_number_then_tensor", lambda lib, t: lib._foreach_add(t["a"], [1, t["vec"]])),
    ("mm_not_matrix", lambda lib, t: lib._foreach_mm(t["a"], t["a"])),
    ("addcdiv_integers", lambda lib, t: lib._foreach_addcdiv(t["ints"], t["ints"], t["ints"])),
    ("too_many_norm", lambda lib, t: lib._foreach_norm(t["a"], 2, None, 5)),
    ("too_many_copy", lambda lib, t: lib._foreach_copy_(t["a"], t["a"], False, 1)),
    ("too_many_zero", lambda lib, t: lib._foreach_zero_(t["a"], 1)),
    ("too_many_mm", lambda lib, t: lib._foreach_mm(t["a"], t["a"], t["a"])),
    ("vector_where_scalar", lambda lib, t: lib._foreach_sub(t["a"], lib.ones(1))),
    ("tensor_in_scalar_list", lambda lib, t: lib._foreach_add(t["a"], [1, t["zero_d"]])),
]


@pytest.mark.parametrize("make", [
    lambda lib, t: lib._foreach_sub(t["a"], t["zero_d"]),
    lambda lib, t: lib._foreach_clamp_min(t["a"], t["zero_d"]),
    lambda lib, t: lib._foreach_pow(t["a"], t["zero_d"]),
    lambda lib, t: lib._foreach_lerp(t["a"], t["a"], t["zero_d"]),
], ids=["sub", "clamp_min", "pow", "lerp"])
def test_a_0d_tensor_is_a_scalar_where_no_overload_takes_a_tensor(make: Any, torch: Any) -> None:
    for ours, theirs in zip(make(autodiff, _lists(autodiff)), make(torch, _lists(torch))):
        _same(ours, theirs)


@pytest.mark.parametrize("name, make", ERRORS, ids=[name for name, _ in ERRORS])
def test_errors_match_pytorch(name: str, make: Callable[..., Any], torch: Any) -> None:
    with pytest.raises(Exception) as theirs:
        make(torch, _lists(torch))
    mine = _lists(autodiff)
    with pytest.raises(Exception) as ours:
        make(autodiff, mine)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value).splitlines()[0] == str(theirs.value).splitlines()[0]
    if name == "cast":  # PyTorch's loop has changed nothing before the failing tensor
        assert mine["ints"][0].tolist() == [1, 1]


def test_errors_leave_every_tensor_untouched_when_the_lists_are_wrong() -> None:
    a = [autodiff.ones(2), autodiff.ones(3)]
    with pytest.raises(RuntimeError):
        autodiff._foreach_add_(a, [autodiff.ones(2)])
    assert [t._version for t in a] == [0, 0] and a[0].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("name, args", [
    ("_foreach_mul", ("self",)), ("_foreach_exp", ()), ("_foreach_norm", ()),
    ("_foreach_addcdiv", ("self", "self", 0.5)), ("_foreach_lerp", ("self", 0.25)),
], ids=["mul", "exp", "norm", "addcdiv", "lerp"])
def test_gradgradcheck_and_forward_ad(name: str, args: tuple[Any, ...], device: str) -> None:
    tensors = [autodiff.rand(3, dtype=autodiff.float64, device=device, requires_grad=True) + 0.5,
               autodiff.rand(2, 2, dtype=autodiff.float64, device=device, requires_grad=True)
               + 0.5]
    leaves = tuple(t.detach().requires_grad_() for t in tensors)

    def function(*flat: Any) -> Any:
        mine = list(flat)
        return getattr(autodiff, name)(mine, *(mine if a == "self" else a for a in args))

    assert autodiff.autograd.gradgradcheck(function, leaves)
    assert autodiff.autograd.gradcheck(function, leaves, check_forward_ad=True)


def test_vmap_of_grad_batches_the_shared_node_in_one_call() -> None:
    import warnings

    from autodiff.func import grad, vmap

    def f(x: Any) -> Any:
        outs = autodiff._foreach_mul(autodiff._foreach_exp([x, x[:2] * 2]), 3.0)
        return outs[0].sum() + outs[1].sum()

    batch = autodiff.rand(4, 3, dtype=autodiff.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no per-example fallback
        batched = vmap(grad(f))(batch)
    for index in range(4):
        _same(batched[index], grad(f)(batch[index]))
