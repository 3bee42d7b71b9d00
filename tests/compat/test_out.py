"""`out=` on the torch functions that take it: each kernel family's dtype rule and message, the
refusal when something requires grad, resizing (with PyTorch's deprecation warning), version
bumps, views of `out`, several results (`max(dim)`), and the factories (which take out's dtype
and device). Asserted values run everywhere; with torch installed every case is also run
through PyTorch and the outcomes (dtype, shape, values or exception and message) compared."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.helpers import raises, raises_containing, raises_starting

DTYPES = ("float64", "int64", "bool", "float16")
SHORT = {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool",
         "float16": "Half"}
CPP = {"float32": "float", "float64": "double", "int64": "long int", "bool": "bool",
       "float16": "c10::Half"}


def _inputs(lib: Any, device: str) -> dict[str, Any]:
    x = lib.tensor([[1.5, -2.5, 3.0], [0.5, 2.0, -1.0]], device=device)
    return {"x": x, "v": lib.tensor([1.0, 2.0, 3.0], device=device),
            "i": lib.tensor([[0, 1, 1]], device=device),
            "m": lib.tensor([[2.0, 1.0], [1.0, 3.0]], device=device), "b": x > 0,
            "lib": lib, "device": device}


# name: (arguments, the rule that decides which out dtypes are taken and how others are refused)
CASES: dict[str, tuple[Callable[[dict[str, Any]], tuple[Any, ...]], str]] = {
    "abs": (lambda a: (a["x"],), "same"), "ceil": (lambda a: (a["x"],), "same"),
    "floor": (lambda a: (a["x"],), "same"), "round": (lambda a: (a["x"],), "same"),
    "trunc": (lambda a: (a["x"],), "same"), "neg": (lambda a: (a["x"],), "same"),
    "sign": (lambda a: (a["x"],), "same"), "clamp": (lambda a: (a["x"], 0), "same"),
    "clamp_min": (lambda a: (a["x"], 0.5), "same"), "clamp_max": (lambda a: (a["x"], 0.5), "same"),
    "exp": (lambda a: (a["x"],), "cast"), "log": (lambda a: (a["x"].abs(),), "cast"),
    "sin": (lambda a: (a["x"],), "cast"), "tanh": (lambda a: (a["x"],), "cast"),
    "sqrt": (lambda a: (a["x"].abs(),), "cast"), "sigmoid": (lambda a: (a["x"],), "cast"),
    "atan2": (lambda a: (a["x"], a["x"]), "cast"), "add": (lambda a: (a["x"], a["x"]), "cast"),
    "sub": (lambda a: (a["x"], a["x"]), "cast"), "mul": (lambda a: (a["x"], a["x"]), "cast"),
    "div": (lambda a: (a["x"], a["x"]), "cast"), "pow": (lambda a: (a["x"], 2), "cast"),
    "remainder": (lambda a: (a["x"], 2), "cast"), "floor_divide": (lambda a: (a["x"], 2), "cast"),
    "addcmul": (lambda a: (a["x"], a["x"], a["x"]), "cast"),
    "lerp": (lambda a: (a["x"], a["x"] * 2, 0.5), "cast"),
    "maximum": (lambda a: (a["x"], a["v"]), "cast"), "outer": (lambda a: (a["v"], a["v"]), "cast"),
    "mean": (lambda a: (a["x"], 1), "cast"), "std": (lambda a: (a["x"], 1), "cast"),
    "var": (lambda a: (a["x"], 1), "cast"),
    "eq": (lambda a: (a["x"], 0.5), "any"), "lt": (lambda a: (a["x"], 0), "any"),
    "logical_and": (lambda a: (a["x"], a["x"]), "any"),
    "bitwise_and": (lambda a: (a["b"], a["b"]), "any"),
    "sum": (lambda a: (a["x"], 1), "any"), "prod": (lambda a: (a["x"], 1), "any"),
    "cumsum": (lambda a: (a["x"], 1), "any_but_bool"),
    "matmul": (lambda a: (a["x"], a["x"].t()), "exact"),
    "mm": (lambda a: (a["x"], a["x"].t()), "exact"),
    "mv": (lambda a: (a["x"], a["v"]), "exact"),
    "bmm": (lambda a: (a["x"][None], a["x"].t()[None]), "exact"),
    "softmax": (lambda a: (a["x"], 1), "exact"), "log_softmax": (lambda a: (a["x"], 1), "exact"),
    "gather": (lambda a: (a["x"], 0, a["i"]), "exact"),
    "scatter_add": (lambda a: (a["x"], 0, a["i"], a["x"]), "exact"),
    "tril": (lambda a: (a["x"],), "exact"), "inverse": (lambda a: (a["m"],), "exact"),
    "norm": (lambda a: (a["x"],), "exact"),
    "cat": (lambda a: ([a["x"], a["x"]],), "cat"), "stack": (lambda a: ([a["x"], a["x"]],), "cat"),
    "dot": (lambda a: (a["v"], a["v"]), "dot"),
    "index_select": (lambda a: (a["x"], 1, a["lib"].tensor([0, 2], device=a["device"])),
                     "index_select"),
    "tensordot": (lambda a: (a["x"], a["x"].t(), 1), "tensordot"),
    "amax": (lambda a: (a["x"], 0), "amax"), "where": (lambda a: (a["b"], a["x"], a["x"]), "where"),
    "logsumexp": (lambda a: (a["x"], 1), "logsumexp"), "all": (lambda a: (a["b"],), "all"),
    "argmax": (lambda a: (a["x"], 0), "argmax"),
}


def _refusal(rule: str, name: str, out: str) -> tuple[type[Exception], str] | None:
    """The exception PyTorch raises for a float32 result written into an `out` of dtype
    `out`, by the op's rule; None where it is taken."""
    if rule in ("any",) or (rule == "any_but_bool" and out != "bool"):
        return None
    if rule == "any_but_bool":
        return NotImplementedError, f"\"{name}_out_cpu\" not implemented for 'Bool'"
    if rule in ("cast", "cat", "logsumexp") and out in ("float64", "float16"):
        return None
    if rule in ("all",) and out == "bool":
        return None
    if rule == "argmax" and out == "int64":
        return None
    messages = {
        "cast": f"result type Float can't be cast to the desired output type {SHORT[out]}",
        "same": f"Found dtype {SHORT[out]} but expected Float",
        "exact": f"Expected out tensor to have dtype float, but got {CPP[out]} instead",
        "argmax": f"Expected out tensor to have dtype long int, but got {CPP[out]} instead",
        "cat": f"torch.cat(): input types can't be cast to the desired output type {SHORT[out]}",
        "dot": f"result dtype {SHORT[out]} does not match input dtype Float",
        "index_select": "index_select(): self and result must have the same scalar type",
        "tensordot": "tensordot: Expected the output tensor to have dtype Float, but got an "
                     f"output tensor with dtype {SHORT[out]}",
        "amax": "Expected the dtype for input and out to match, but got Float for input's dtype "
                f"and {SHORT[out]} for out's dtype.",
        "where": f"Expected out type to be Float but got {SHORT[out]}",
        "logsumexp": "logsumexp(): Expected floating point type for result tensor, but got: "
                     f"{SHORT[out]}",
        "all": f"all only supports bool tensor for result, got: {SHORT[out]}",
    }
    return (TypeError if rule == "cat" else RuntimeError), messages[rule]


def _outcome(lib: Any, name: str, device: str, out_dtype: str) -> tuple[Any, ...]:
    arguments = CASES[name][0](_inputs(lib, device))
    out = lib.empty(0, dtype=getattr(lib, out_dtype), device=device)
    try:
        result = getattr(lib, name)(*arguments, out=out)
    except Exception as error:
        return type(error).__name__, str(error).splitlines()[0]
    assert result is out
    values = np.asarray(out.detach().cpu().tolist(), dtype=float)
    return str(out.dtype), tuple(out.shape), values


@pytest.mark.parametrize("out_dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_out_dtype_rule(name: str, out_dtype: str, device: str) -> None:
    if out_dtype == "float16" and device.startswith("strict"):
        pytest.skip("array-api-strict has no float16")
    rule = CASES[name][1]
    refusal = _refusal(rule, name, out_dtype)
    arguments = CASES[name][0](_inputs(autodiff, device))
    out = autodiff.empty(0, dtype=getattr(autodiff, out_dtype), device=device)
    function = getattr(autodiff, name)
    if refusal is not None:
        with pytest.raises(refusal[0]) as raised:
            function(*arguments, out=out)
        assert str(raised.value) == refusal[1]
        assert out.shape == (0,) and out._version == 0  # untouched
        return
    # sums, products and means compute in out's dtype; the rest in their own, then cast
    computes_in = name in ("sum", "prod", "cumsum") or (name == "mean" and out_dtype[0] == "f")
    expected = function(*arguments, **({"dtype": out.dtype} if computes_in else {}))
    assert function(*arguments, out=out) is out
    assert out.dtype is getattr(autodiff, out_dtype) and out.shape == expected.shape
    assert out._version == 1
    np.testing.assert_array_equal(out.cpu().numpy(), expected.to(out.dtype).cpu().numpy())


@pytest.mark.parametrize("out_dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_out_matches_pytorch(name: str, out_dtype: str) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _outcome(autodiff, name, "cpu", out_dtype), \
        _outcome(torch, name, "cpu", out_dtype)
    assert ours[:2] == theirs[:2]
    if len(ours) == 3:
        np.testing.assert_allclose(ours[2], theirs[2], rtol=2e-3 if out_dtype == "float16" else
                                   1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- several results
def test_max_with_dim_writes_values_and_indices(device: str) -> None:
    x = autodiff.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], device=device)
    values = autodiff.empty(0, device=device)
    indices = autodiff.empty(0, dtype=autodiff.long, device=device)
    result = autodiff.max(x, 1, out=(values, indices))
    assert type(result).__name__ == "max_out"
    assert result.values is values and result.indices is indices
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert repr(result).startswith("torch.return_types.max_out(\nvalues=tensor([5., 7.]")
    with raises(RuntimeError, "Expected out tensor to have dtype long int, but got float instead"):
        autodiff.min(x, 0, out=(values, autodiff.empty(0, device=device)))
    with raises(TypeError, "expected tuple of 2 elements but got 3"):
        autodiff.max(x, 1, out=(values, indices, values))


def test_max_of_two_tensors_and_of_everything_take_one_out() -> None:
    x = autodiff.tensor([[1.0, 5.0], [7.0, 0.0]])
    out = autodiff.empty(0, dtype=autodiff.float64)
    assert autodiff.max(x, x.flip(0), out=out).tolist() == [[7.0, 5.0], [7.0, 5.0]]
    assert autodiff.max(x, out=autodiff.empty(())).item() == 7.0


def test_sum_and_prod_of_everything_take_no_out() -> None:
    x = autodiff.ones(2, 3)
    with pytest.raises(TypeError) as raised:
        autodiff.sum(x, out=autodiff.empty(0))
    assert str(raised.value) == (
        "sum() received an invalid combination of arguments - got (Tensor, out=Tensor), but "
        "expected one of:\n * (Tensor input, *, torch.dtype dtype = None)\n * (Tensor input, "
        "tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None, Tensor out = "
        "None)\n")


def test_reductions_compute_in_a_floating_outs_dtype() -> None:
    # sum, prod, cumsum and mean compute in out's dtype (PyTorch passes it as `dtype`); exp,
    # add and var compute in their own and cast.
    x = autodiff.tensor([0.1, 0.7, 0.3])
    out = autodiff.empty(0, dtype=autodiff.float64)
    assert autodiff.mean(x, 0, out=out).item() == autodiff.mean(x.double(), 0).item()
    assert autodiff.sum(x, 0, out=out).item() == autodiff.sum(x.double(), 0).item()
    assert autodiff.exp(x, out=autodiff.empty(0, dtype=autodiff.float64)).tolist() == \
        autodiff.exp(x).double().tolist()
    with raises(RuntimeError, "Expected out tensor to have dtype float, but got double instead"):
        autodiff.sum(x, 0, dtype=autodiff.float32, out=out)
    # sum into an integer out truncates each element first, as PyTorch
    assert autodiff.sum(autodiff.tensor([1.5, 2.7]), 0, out=autodiff.empty(
        0, dtype=autodiff.long)).item() == 3
    with raises_starting(RuntimeError, "mean(): could not infer output dtype"):
        autodiff.mean(autodiff.tensor([1, 2]), 0, out=out)


# ----------------------------------------------------------------------------- grad, resize, views
def test_out_refuses_what_requires_grad_unless_grad_mode_is_off(device: str) -> None:
    x = autodiff.ones(2, 3, device=device)
    leaf = autodiff.ones(2, 3, device=device, requires_grad=True)
    message = ("add(): functions with out=... arguments don't support automatic "
               "differentiation, but one of the arguments requires grad.")
    for args, out in (((leaf, x), autodiff.empty(2, 3, device=device)),
                      ((x, x), autodiff.empty(2, 3, device=device, requires_grad=True))):
        with pytest.raises(RuntimeError) as raised:
            autodiff.add(*args, out=out)
        assert str(raised.value) == message
        assert out._version == 0
    with raises_starting(RuntimeError, "cat(): functions with out"):
        autodiff.cat([leaf, x], out=autodiff.empty(0, device=device))
    out = autodiff.empty(2, 3, device=device)
    with autodiff.no_grad():
        assert autodiff.add(leaf, x, out=out) is out
    assert out.tolist() == [[2.0] * 3] * 2 and not out.requires_grad and out.grad_fn is None


def test_out_of_another_shape_is_resized_with_the_deprecation_warning(device: str) -> None:
    x = autodiff.ones(2, 3, device=device)
    out = autodiff.zeros(5, device=device)
    with pytest.warns(UserWarning) as caught:
        autodiff.add(x, x, out=out)
    assert str(caught[0].message) == (
        "An output with one or more elements was resized since it had shape [5], which does not "
        "match the required output shape [2, 3]. This behavior is deprecated, and in a future "
        "PyTorch release outputs will not be resized unless they have zero elements. You can "
        "explicitly reuse an out tensor t by resizing it, inplace, to zero elements with "
        "t.resize_(0).")
    assert out.shape == (2, 3) and out.tolist() == [[2.0] * 3] * 2 and out._version == 1
    empty = autodiff.empty(0, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty out is resized silently
        autodiff.add(x, x, out=empty)
    assert empty.shape == (2, 3)


def test_out_may_be_an_input_or_a_view(device: str) -> None:
    a = autodiff.tensor([1.0, 2.0, 3.0], device=device)
    assert autodiff.mul(a, 2, out=a) is a and a.tolist() == [2.0, 4.0, 6.0]
    base = autodiff.zeros(2, 2, device=device)
    autodiff.add(autodiff.ones(2, 2, device=device),
                 autodiff.tensor([[0.0, 1.0], [2.0, 3.0]], device=device), out=base.t())
    assert base.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert base._version == 1  # the view shares its base's version counter


def test_resized_view_gets_its_own_memory() -> None:
    # PyTorch resizes the shared storage (so the base may change); here the view is detached
    # from its base first (documented in ops/_out.py).
    base = autodiff.zeros(4)
    view = base[:2]
    with pytest.warns(UserWarning, match="resized"):
        autodiff.add(autodiff.ones(3), autodiff.ones(3), out=view)
    assert view.tolist() == [2.0, 2.0, 2.0] and base.tolist() == [0.0] * 4
    assert view._base is None


def test_out_on_another_device_is_refused() -> None:
    x = autodiff.ones(2)
    out = autodiff.empty(2, device="strict:1")
    with raises(RuntimeError, "Expected out tensor to have device cpu, but got strict:1 instead"):
        autodiff.exp(x, out=out)


def test_out_must_be_a_tensor() -> None:
    with raises(TypeError, "add(): argument 'out' must be Tensor, not list"):
        autodiff.add(autodiff.ones(1), 1, out=[1])


def test_ger_warns_with_out() -> None:
    v = autodiff.tensor([1.0, 2.0])
    with pytest.warns(UserWarning, match="torch.ger is deprecated"):
        autodiff.ger(v, v, out=autodiff.empty(0))


def test_signature_shows_out() -> None:
    import inspect

    assert "out" in inspect.signature(autodiff.add).parameters
    assert inspect.signature(autodiff.add).parameters["out"].kind is inspect.Parameter.KEYWORD_ONLY


# ----------------------------------------------------------------------------- factories
FACTORIES: dict[str, Callable[..., Any]] = {
    "zeros": lambda lib, **k: lib.zeros(2, **k), "ones": lambda lib, **k: lib.ones(2, **k),
    "full": lambda lib, **k: lib.full((2,), 3, **k), "eye": lambda lib, **k: lib.eye(2, **k),
    "arange": lambda lib, **k: lib.arange(3, **k),
    "linspace": lambda lib, **k: lib.linspace(0, 1, 3, **k),
    "randint": lambda lib, **k: lib.randint(5, (2,), **k),
    "randperm": lambda lib, **k: lib.randperm(3, **k),
    "rand": lambda lib, **k: lib.rand(2, **k), "empty": lambda lib, **k: lib.empty(2, **k),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factories_take_outs_dtype_and_device(name: str, device: str) -> None:
    make = FACTORIES[name]
    out = autodiff.empty(0, dtype=autodiff.float64, device=device)
    assert make(autodiff, out=out) is out
    assert out.dtype is autodiff.float64 and out.device == autodiff.empty(0, device=device).device
    assert out._version == 1
    with raises(RuntimeError, "dtype Int does not match dtype of out parameter (Double)"):
        make(autodiff, out=out, dtype=autodiff.int32)
    if device != "cpu":
        with raises(RuntimeError, f"device type cpu does not match device type of out "
                    f"parameter ({out.device.type})"):
            make(autodiff, out=out, device="cpu")
    requires = autodiff.empty(2, device=device, requires_grad=True)
    expected = ("cannot resize variables that require grad" if name == "empty" else
                f"aten::{name}(): functions with out=... arguments don't support automatic "
                "differentiation, but one of the arguments requires grad.")
    with pytest.raises(RuntimeError) as raised:
        make(autodiff, out=requires)
    assert str(raised.value) == expected


def test_factory_values_into_out() -> None:
    out = autodiff.empty(0, dtype=autodiff.int32)
    assert autodiff.full((2,), 3, out=out).tolist() == [3, 3] and out.dtype is autodiff.int32
    assert autodiff.arange(0.5, 3, out=autodiff.empty(0, dtype=autodiff.int32)).tolist() == [
        0, 1, 2]
    out = autodiff.empty(1)
    with pytest.warns(UserWarning) as caught:
        autodiff.arange(5, out=out)
    assert str(caught[0].message) == (
        "The number of elements in the out tensor of shape [1] is 1 which does not match the "
        "computed number of elements 5. Note that this may occur as a result of rounding "
        "error. The out tensor will be resized to a tensor of shape (5,).")
    assert out.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    with raises_containing(NotImplementedError, "check_uniform_bounds"):
        autodiff.rand(2, out=autodiff.empty(0, dtype=autodiff.int32))


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factories_with_out_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    make = FACTORIES[name]
    for dtype in ("float64", "int32", "bool"):
        outcomes = []
        for lib in (autodiff, torch):
            out = lib.empty(0, dtype=getattr(lib, dtype))
            try:
                make(lib, out=out)
                outcomes.append((str(out.dtype), tuple(out.shape)))
            except Exception as error:
                outcomes.append((type(error).__name__, str(error)))
        assert outcomes[0] == outcomes[1]
