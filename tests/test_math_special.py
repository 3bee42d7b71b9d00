"""Arithmetic, math and special functions beyond the op table's values and gradients: PyTorch's
dtype rules and errors, its values at special points (zeros, poles, infinities, NaN), the
gradients PyTorch refuses, and the results it never differentiates.

The first part needs no PyTorch; the second compares with PyTorch itself where it is
installed (each case runs the same call on both libraries)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.special as S
from tests.compare import compare, same_error

# ----------------------------------------------------------------------------- without PyTorch


def test_beta_zero_ignores_the_input(device: str) -> None:
    nan = autodiff.full((2, 2), float("nan"), device=device)
    a = autodiff.ones(2, 3, device=device)
    b = autodiff.ones(3, 2, device=device)
    assert autodiff.addmm(nan, a, b, beta=0).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert autodiff.addmv(nan[0, :1], a.T, autodiff.ones(2, device=device),
                          beta=0).tolist() == [2.0, 2.0, 2.0]
    assert autodiff.baddbmm(nan[None], a[None], b[None], beta=0).tolist() == \
        [[[3.0, 3.0], [3.0, 3.0]]]


def test_integer_fused_products_take_integer_factors() -> None:
    ones = autodiff.ones(2, 2, dtype=autodiff.int64)
    out = autodiff.addmm(ones, ones, ones, beta=0.5, alpha=2)
    assert out.dtype is autodiff.int64 and out.tolist() == [[4, 4], [4, 4]]


@pytest.mark.parametrize(("call", "kind", "message"), [
    (lambda x: autodiff.igamma(x, x.detach() + 1), NotImplementedError,
     "the derivative for 'igamma: input' is not implemented."),
    (lambda x: autodiff.igammac(x, x.detach() + 1), NotImplementedError,
     "the derivative for 'igammac: input' is not implemented."),
    (lambda x: S.zeta(x + 1, x.detach()), NotImplementedError,
     "the derivative for 'zeta' is not implemented."),
    (lambda x: autodiff.heaviside(x, x.detach()), RuntimeError,
     "derivative for aten::heaviside is not implemented"),
    # PyTorch's in-place inverse hyperbolics are nodes of their own without a derivative.
    (lambda x: (x * 0.25).asinh_(), NotImplementedError,
     "the derivative for 'inplace version of asinh' is not implemented."),
    (lambda x: autodiff.arccosh_(x + 1), NotImplementedError,
     "the derivative for 'inplace version of acosh' is not implemented."),
    (lambda x: (x * 0.25).arctanh_(), NotImplementedError,
     "the derivative for 'inplace version of atanh' is not implemented."),
])
def test_gradients_pytorch_does_not_have_raise(call: Callable[..., Any], kind: type[Exception],
                                               message: str, device: str) -> None:
    x = autodiff.tensor([0.5, 1.5], dtype=autodiff.float64, device=device, requires_grad=True)
    out = call(x)
    with pytest.raises(kind) as raised:
        out.sum().backward()
    assert type(raised.value) is kind and str(raised.value) == message
    assert x.grad is None


@pytest.mark.parametrize("name", [
    "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
    "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai",
])
def test_functions_pytorch_does_not_differentiate_give_plain_tensors(name: str,
                                                                      device: str) -> None:
    x = autodiff.tensor([0.5, 2.0], device=device, requires_grad=True)
    out = getattr(S, name)(x)
    assert not out.requires_grad and out.grad_fn is None and out.device == x.device


def test_orthogonal_polynomials_at_their_special_degrees_and_points() -> None:
    x = autodiff.tensor([-1.0, 1.0, 0.5, 0.0], dtype=autodiff.float64)
    assert S.chebyshev_polynomial_t(x, -1).tolist() == [0.0, 0.0, 0.0, 0.0]
    assert S.chebyshev_polynomial_t(x, 3).tolist() == [-1.0, 1.0, -1.0, 0.0]
    assert S.chebyshev_polynomial_u(x, 2).tolist() == [3.0, 3.0, 0.0, -1.0]
    assert S.laguerre_polynomial_l(x, 2.7).tolist() == pytest.approx([3.5, -0.5, 0.125, 1.0])
    # a number for x and a tensor of degrees (truncated towards zero), as PyTorch allows
    degrees = autodiff.tensor([0, 1, 2, 3.9])
    assert S.hermite_polynomial_he(2.0, degrees).tolist() == [1.0, 2.0, 3.0, 2.0]


def test_special_values_where_pytorch_differs_from_scipy() -> None:
    # PyTorch's conventions are kept: lgamma(-inf) = inf, zeta(x, inf) = nan,
    # polygamma(n >= 2, inf) = nan.
    inf = float("inf")
    assert autodiff.lgamma(autodiff.tensor([-inf])).tolist() == [inf]
    assert math.isnan(S.zeta(autodiff.tensor([2.0]), inf).item())
    assert math.isnan(autodiff.polygamma(2, autodiff.tensor([inf])).item())
    assert autodiff.digamma(autodiff.tensor([0.0, -0.0])).tolist() == [-inf, inf]


@pytest.mark.parametrize(("call", "kind", "message"), [
    (lambda: autodiff.gcd(autodiff.ones(2), autodiff.ones(2)), NotImplementedError,
     "\"gcd_cpu\" not implemented for 'Float'"),
    (lambda: autodiff.ones(2) << 1, NotImplementedError,
     "\"lshift_cpu\" not implemented for 'Float'"),
    (lambda: autodiff.hypot(autodiff.ones(2, dtype=autodiff.int64), autodiff.ones(2)),
     TypeError, None),
    (lambda: autodiff.hypot(autodiff.ones(2), 2.0), TypeError,
     "hypot(): argument 'other' (position 2) must be Tensor, not float"),
    (lambda: S.erfcx(autodiff.ones(2, dtype=autodiff.float16)), NotImplementedError,
     "\"erfcx_cpu\" not implemented for 'Half'"),
    (lambda: autodiff.polygamma(-1, autodiff.ones(2)), RuntimeError,
     "polygamma(n, x) does not support negative n."),
    (lambda: autodiff.frexp(autodiff.ones(2, dtype=autodiff.int64)), RuntimeError,
     "torch.frexp() only supports floating-point dtypes"),
    (lambda: autodiff.cdist(autodiff.ones(2, 3), autodiff.ones(2, 4)), RuntimeError,
     "X1 and X2 must have the same number of columns. X1: 3 X2: 4"),
])
def test_errors(call: Callable[[], Any], kind: type[Exception], message: str | None) -> None:
    if message is None:  # hypot of an int64 and a float tensor promotes: no error
        call()
        return
    with pytest.raises(kind) as raised:
        call()
    assert str(raised.value) == message


def test_frexp_returns_a_named_tuple(device: str) -> None:
    x = autodiff.tensor([8.0, -0.75, 0.0], device=device)
    mantissa, exponent = autodiff.frexp(x)
    assert autodiff.frexp(x).mantissa.tolist() == mantissa.tolist() == [0.5, -0.75, 0.0]
    assert exponent.dtype is autodiff.int32 and exponent.tolist() == [4, 0, 0]
    assert repr(autodiff.frexp(x)).startswith("torch.return_types.frexp(\nmantissa=")


def test_var_mean_is_one_node_with_two_outputs(device: str) -> None:
    x = autodiff.tensor([[1.0, 2.0], [4.0, 8.0]], device=device, requires_grad=True)
    var, mean = autodiff.var_mean(x, 1)
    assert var.grad_fn is mean.grad_fn and var.grad_fn.name() == "VarMeanBackward0"
    (var.sum() + mean.sum()).backward()
    np.testing.assert_allclose(x.grad.tolist(), [[-0.5, 1.5], [-3.5, 4.5]])


def test_dist_with_p0_has_a_zero_gradient() -> None:
    # PyTorch 2.13's backward raises an internal error here ("Expected a proper Tensor but got
    # None"); the count of nonzero differences is piecewise constant, so its gradient is 0.
    x = autodiff.tensor([0.0, 1.0], requires_grad=True)
    autodiff.dist(x, autodiff.tensor([2.0, 1.0]), 0).backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_chain_matmul_is_deprecated() -> None:
    with pytest.warns(UserWarning, match="torch.chain_matmul is deprecated"):
        autodiff.chain_matmul(autodiff.ones(2, 2), autodiff.ones(2, 2))


def test_cross_without_dim_warns_and_takes_the_first_dim_of_size_3() -> None:
    a = autodiff.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    b = autodiff.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    with pytest.warns(UserWarning, match="Using torch.cross without specifying the dim"):
        out = autodiff.cross(a, b)
    assert out.tolist() == autodiff.linalg.cross(a, b, dim=0).tolist()


def test_special_functions_keep_results_on_their_device() -> None:
    x = autodiff.tensor([0.5, 1.5], device="strict:1")
    for out in (autodiff.lgamma(x), S.i0e(x), S.bessel_j0(x), S.zeta(x + 1, x),
                S.chebyshev_polynomial_t(x, 3), autodiff.fmod(x, 0.4)):
        assert out.device == x.device


# ----------------------------------------------------------------------------- against PyTorch
DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]

# name -> function of (library, x) for every input dtype
def _top(name: str) -> Callable[..., Any]:
    """`library.<name>(*args)`."""
    return lambda L, *args: getattr(L, name)(*args)


def _special(name: str) -> Callable[..., Any]:
    """`library.special.<name>(*args)`."""
    return lambda L, *args: getattr(L.special, name)(*args)


UNARY: dict[str, Callable[..., Any]] = {
    **{name: _top(name) for name in (
        "acosh", "asinh", "atanh", "deg2rad", "rad2deg", "sgn", "exp2", "frac", "sinc",
        "erfc", "erfinv", "lgamma", "digamma", "i0", "logit", "signbit", "isneginf",
        "isposinf", "isreal", "nan_to_num", "positive", "nansum")},
    **{f"special.{name}": _special(name) for name in (
        "erfcx", "ndtr", "ndtri", "log_ndtr", "i0e", "i1", "i1e", "entr", "expit",
        "bessel_j0", "bessel_y1", "modified_bessel_k0", "scaled_modified_bessel_k1",
        "spherical_bessel_j0", "airy_ai", "round", "psi", "gammaln")},
    "polygamma": lambda L, x: L.polygamma(2, x),
    "mvlgamma": lambda L, x: L.mvlgamma(x, 1),
    "nanmean": lambda L, x: L.nanmean(x),
    "frexp": lambda L, x: L.frexp(x)[0],
    "var_mean": lambda L, x: L.var_mean(x)[0],
    "chebyshev_polynomial_t": lambda L, x: L.special.chebyshev_polynomial_t(x, 3),
    "hermite_polynomial_h_tensor_degree": lambda L, x: L.special.hermite_polynomial_h(0.5, x),
}
# name -> function of (library, x, y) for every pair of input dtypes
BINARY: dict[str, Callable[..., Any]] = {
    **{name: _top(name) for name in (
        "fmod", "copysign", "hypot", "logaddexp", "logaddexp2", "xlogy", "float_power",
        "ldexp", "nextafter", "fmax", "fmin", "heaviside", "gcd", "lcm", "bitwise_left_shift",
        "bitwise_right_shift", "igamma", "igammac", "dist", "isin")},
    **{f"special.{name}": _special(name)
       for name in ("xlog1py", "zeta", "gammainc", "legendre_polynomial_p")},
    "kron": lambda L, x, y: L.kron(x, y),
    "lshift_operator": lambda L, x, y: x << y,
}
# name -> (function of (library, tensor), Python numbers to try as the other argument)
WITH_NUMBER: dict[str, Callable[..., Any]] = {
    "fmod": lambda L, x, n: L.fmod(x, n),
    "copysign": lambda L, x, n: L.copysign(x, n),
    "xlogy": lambda L, x, n: L.xlogy(x, n),
    "xlogy_number_first": lambda L, x, n: L.xlogy(n, x),
    "float_power": lambda L, x, n: L.float_power(x, n),
    "float_power_number_first": lambda L, x, n: L.float_power(n, x),
    "zeta": lambda L, x, n: L.special.zeta(x, n),
    "zeta_number_first": lambda L, x, n: L.special.zeta(n, x),
    "shift": lambda L, x, n: L.bitwise_right_shift(x, n),
    "shift_number_first": lambda L, x, n: n << x,
    "hypot": lambda L, x, n: L.hypot(x, n),
    "igamma": lambda L, x, n: L.igamma(x, n),
    "isin": lambda L, x, n: L.isin(x, n),
}


def _outcome(torch: Any, library: Any, call: Callable[..., Any], *args: Any) -> Any:
    """The result's dtype name and values, or the exception's type and message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = call(library, *args)
        except Exception as error:
            return type(error).__name__, str(error)
    return str(out.dtype).removeprefix("torch."), np.asarray(out.detach().numpy(), dtype=float)


def _same(torch: Any, call: Callable[..., Any], values: list[list[float]],
          dtypes: list[str]) -> None:
    ours = _outcome(torch, autodiff, call, *[
        autodiff.tensor(v).to(getattr(autodiff, d if d != "bool" else "bool"))
        for v, d in zip(values, dtypes)])
    theirs = _outcome(torch, torch, call, *[
        torch.tensor(v).to(getattr(torch, d)) for v, d in zip(values, dtypes)])
    assert ours[0] == theirs[0], (ours, theirs)
    if isinstance(theirs[1], str):
        assert ours[1] == theirs[1]
    else:
        np.testing.assert_allclose(ours[1], theirs[1], rtol=2e-3 if "float16" in dtypes
                                   else 1e-5, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_dtypes_values_and_errors_match_pytorch(name: str, dtype: str) -> None:
    torch = pytest.importorskip("torch")
    _same(torch, UNARY[name], [[0.0, 1.0, 0.5, 2.0, 3.0]], [dtype])


@pytest.mark.parametrize("dtypes", [["int64", "int64"], ["int32", "float32"],
                                    ["float32", "float64"], ["bool", "bool"],
                                    ["uint8", "int64"], ["float16", "float16"],
                                    ["float64", "int64"]], ids="-".join)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_dtypes_values_and_errors_match_pytorch(name: str, dtypes: list[str]) -> None:
    torch = pytest.importorskip("torch")
    _same(torch, BINARY[name], [[1.0, 3.0, 2.0], [2.0, 1.0, 3.0]], dtypes)


@pytest.mark.parametrize("number", [2, 2.5, True], ids=repr)
@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
@pytest.mark.parametrize("name", sorted(WITH_NUMBER))
def test_numbers_as_operands_match_pytorch(name: str, dtype: str, number: Any) -> None:
    torch = pytest.importorskip("torch")
    call = WITH_NUMBER[name]
    _same(torch, lambda L, x: call(L, x, number), [[1.0, 3.0, 2.0]], [dtype])


SPECIAL_POINTS = [0.0, -0.0, 1.0, -1.0, -2.5, 0.5, 1e-30, 30.0, -30.0, float("inf"),
                  -float("inf"), float("nan")]
SPECIAL_POINT_FUNCTIONS = [
    "erfc", "erfinv", "lgamma", "digamma", "i0", "sinc", "exp2", "frac", "logit", "asinh",
    "acosh", "atanh", "special.erfcx", "special.ndtr", "special.ndtri", "special.log_ndtr",
    "special.i0e", "special.i1", "special.i1e", "special.entr", "special.bessel_j0",
    "special.bessel_j1", "special.bessel_y0", "special.bessel_y1",
    "special.modified_bessel_i0", "special.modified_bessel_i1", "special.modified_bessel_k0",
    "special.modified_bessel_k1", "special.scaled_modified_bessel_k0",
    "special.scaled_modified_bessel_k1", "special.spherical_bessel_j0", "special.airy_ai",
]


@pytest.mark.parametrize("name", SPECIAL_POINT_FUNCTIONS)
def test_values_at_special_points_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    path = name.split(".")

    def call(L: Any, x: Any) -> Any:
        namespace = L.special if len(path) == 2 else L
        return getattr(namespace, path[-1])(x)

    ours = call(autodiff, autodiff.tensor(SPECIAL_POINTS, dtype=autodiff.float64)).numpy()
    theirs = call(torch, torch.tensor(SPECIAL_POINTS, dtype=torch.float64)).numpy()
    # The same conventions (infinities, NaN, signs) and values to PyTorch's accuracy: its own
    # airy_ai is good to about 1e-6 relative (SciPy's, used here, to double precision), and
    # its ndtr, (1 + erf(x / sqrt 2)) / 2, rounds to 0 far in the left tail.
    rtol = 1e-5 if name == "special.airy_ai" else 1e-10
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-15, equal_nan=True)
    assert np.array_equal(np.signbit(ours[ours == 0]), np.signbit(theirs[ours == 0]))


# name -> (function of (library, *tensors), float64 inputs, compare second derivatives)
GRADIENTS: dict[str, tuple[Callable[..., Any], list[Any], bool]] = {
    "xlogy_at_zero": (lambda L, x, y: L.xlogy(x, y), [[0.0, 0.0, 1.0], [-1.0, 0.5, 2.0]], True),
    "xlog1py_at_zero": (lambda L, x, y: L.special.xlog1py(x, y),
                        [[0.0, 0.0, 1.0], [-1.5, 0.5, 2.0]], True),
    "copysign_at_zero": (lambda L, x, y: L.copysign(x, y), [[0.0, -1.0, 2.0], [1.0, 1.0, -1.0]],
                         False),
    "fmod": (lambda L, x, y: L.fmod(x, y), [[5.5, -3.2, 1.0], [2.0, 1.5, -0.75]], True),
    "logit_outside": (lambda L, x: L.logit(x), [[-0.5, 0.0, 0.3, 1.0, 1.5]], False),
    "logit_eps": (lambda L, x: L.logit(x, 0.25), [[0.1, 0.3, 0.9]], True),
    "i1_at_zero": (lambda L, x: L.special.i1(x), [[0.0, 1.0, -2.0]], True),
    "i1e_at_zero": (lambda L, x: L.special.i1e(x), [[0.0, 1.0, -2.0]], True),
    "i0e": (lambda L, x: L.special.i0e(x), [[0.0, 1.0, -2.0]], True),
    "nan_to_num": (lambda L, x: L.nan_to_num(x), [[float("nan"), float("inf"), 1.0]], False),
    "fmax_nan": (lambda L, x, y: L.fmax(x, y), [[float("nan"), 1.0, 2.0], [1.0, 1.0, float(
        "nan")]], False),
    "hypot": (lambda L, x, y: L.hypot(x, y), [[3.0, 0.5], [4.0, -1.0]], True),
    "ldexp": (lambda L, x, y: L.ldexp(x, y), [[3.0, 0.5], [4.0, -1.5]], True),
    "frexp": (lambda L, x: L.frexp(x)[0], [[3.0, 0.5, -7.0]], True),
    "renorm": (lambda L, x: L.renorm(x, 2, 1, 1.0), [[[1.0, 0.2], [2.0, 0.1]]], True),
    "renorm_inf": (lambda L, x: L.renorm(x, float("inf"), 0, 0.5), [[[1.0, 0.2], [2.0, 2.0]]],
                   False),
    "cdist_mm": (lambda L, x, y: L.cdist(x, y, compute_mode="use_mm_for_euclid_dist"),
                 [np.arange(12.0).reshape(4, 3) / 7, np.arange(6.0).reshape(2, 3) / 5], False),
    "cdist_identical_points": (lambda L, x: L.cdist(x, x), [[[0.0, 1.0], [2.0, 3.0]]], False),
    "pdist_inf": (lambda L, x: L.pdist(x, float("inf")), [[[0.0, 1.0], [2.0, 3.0],
                                                            [1.0, 1.5]]], False),
    "dist_inf_ties": (lambda L, x, y: L.dist(x, y, float("inf")), [[0.0, 1.0], [1.0, 0.0]],
                      False),
    "gradient_coordinates": (lambda L, x: L.gradient(x, spacing=(L.tensor(
        [0.0, 1.0, 3.0, 3.5], dtype=L.float64),), edge_order=2)[0], [[1.0, 2.0, 5.0, 4.0]],
        True),
    "gradient_dims": (lambda L, x: L.gradient(x, spacing=[2.0, 0.5], dim=(1, 0))[1],
                      [np.arange(12.0).reshape(3, 4) ** 2], True),
    "trapezoid_x_2d": (lambda L, y, x: L.trapezoid(y, x, dim=0),
                       [np.arange(12.0).reshape(4, 3) ** 1.5, np.arange(12.0).reshape(4, 3)],
                       True),
    "cumulative_trapezoid_dx": (lambda L, y: L.cumulative_trapezoid(y, dx=0.5, dim=0),
                                [np.arange(12.0).reshape(4, 3) ** 1.5], True),
    "diff_append": (lambda L, x, y: L.diff(x, n=3, append=y), [[1.0, 4.0, 2.0], [5.0, 7.0]],
                    True),
    "cov_weights": (lambda L, x, w: L.cov(x, correction=2, fweights=L.tensor([1, 3, 2]),
                                          aweights=w),
                    [np.arange(6.0).reshape(2, 3) ** 2, [0.5, 1.0, 2.0]], True),
    "corrcoef": (lambda L, x: L.corrcoef(x), [np.arange(6.0).reshape(2, 3) ** 2], True),
    "std_mean": (lambda L, x: L.std_mean(x, 0)[0] * L.std_mean(x, 0)[1],
                 [np.arange(6.0).reshape(2, 3) ** 2], True),
    "multi_dot_vectors": (lambda L, a, b, c: L.linalg.multi_dot([a, b, c]),
                          [np.ones(3), np.arange(6.0).reshape(3, 2), np.ones(2) * 2], True),
    "addbmm": (lambda L, c, a, b: L.addbmm(c, a, b, beta=2.0, alpha=0.5),
               [np.ones((2, 2)), np.arange(12.0).reshape(3, 2, 2), np.ones((3, 2, 2))], True),
    "addr": (lambda L, c, a, b: L.addr(c, a, b, beta=0.0), [np.ones((2, 3)), [1.0, 2.0],
                                                           [3.0, 4.0, 5.0]], True),
    "kron_3d": (lambda L, a, b: L.kron(a, b), [np.arange(4.0).reshape(2, 1, 2),
                                               np.arange(3.0)], True),
}


def test_trapezoid_of_integers_is_in_the_default_dtype() -> None:
    # Integer samples and points integrate in the default float dtype, as int / 2. does.
    y, x = autodiff.tensor([1, 5, 10]), autodiff.tensor([1, 3, 6])
    for result, expected in ((autodiff.trapezoid(y, x), 28.5),
                             (autodiff.trapezoid(y, dx=2), 21.0),
                             (autodiff.cumulative_trapezoid(y), [3.0, 10.5]),
                             (autodiff.cumulative_trapezoid(y, x), [6.0, 28.5]),
                             (autodiff.cumulative_trapezoid(y, dx=2), [6.0, 21.0])):
        assert result.dtype is autodiff.float32
        assert result.tolist() == expected
    assert autodiff.trapezoid(y.half(), x).dtype is autodiff.float16


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_values_gradients_and_node_names_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    call, inputs, second_order = GRADIENTS[name]
    arrays = [np.asarray(x, dtype=np.float64) for x in inputs]
    compare(torch, lambda *t: call(autodiff, *t), lambda *t: call(torch, *t), arrays,
            second_order=second_order)


@pytest.mark.parametrize(("name", "call"), [
    ("addmm_dtypes", lambda L: L.addmm(L.ones(2, 2), L.ones(2, 2, dtype=L.float64),
                                       L.ones(2, 2))),
    ("addmm_input_shape", lambda L: L.addmm(L.ones(3, 3), L.ones(2, 4), L.ones(4, 3))),
    ("addmv_sizes", lambda L: L.addmv(L.ones(3), L.ones(2, 4), L.ones(4))),
    ("addmv_dtypes", lambda L: L.addmv(L.ones(2), L.ones(2, 4, dtype=L.float64),
                                       L.ones(4))),
    ("addr_vectors", lambda L: L.addr(L.ones(2, 3), L.ones(2, 1), L.ones(3))),
    ("baddbmm_batches", lambda L: L.baddbmm(L.ones(2, 2, 3), L.ones(2, 2, 4), L.ones(3, 4, 3))),
    ("baddbmm_dtypes", lambda L: L.baddbmm(L.ones(2, 2, 3), L.ones(2, 2, 4, dtype=L.float64),
                                           L.ones(2, 4, 3, dtype=L.float64))),
    ("addbmm_batches", lambda L: L.addbmm(L.ones(2, 3), L.ones(5, 2, 4), L.ones(4, 4, 3))),
    ("multi_dot_one", lambda L: L.linalg.multi_dot([L.ones(3)])),
    ("multi_dot_shapes", lambda L: L.linalg.multi_dot([L.ones(3, 4), L.ones(5, 5)])),
    ("multi_dot_dtypes", lambda L: L.linalg.multi_dot([L.ones(3, 4),
                                                       L.ones(4, 5, dtype=L.float64)])),
    ("multi_dot_middle", lambda L: L.linalg.multi_dot([L.ones(3, 4), L.ones(4),
                                                       L.ones(4, 2)])),
    ("cross_length", lambda L: L.linalg.cross(L.ones(4, 2), L.ones(4, 2))),
    ("cross_no_dim_3", lambda L: L.cross(L.ones(4, 2), L.ones(4, 2))),
    ("cdist_1d", lambda L: L.cdist(L.ones(3), L.ones(5, 3))),
    ("cdist_p", lambda L: L.cdist(L.ones(3, 4), L.ones(5, 4), p=-1)),
    ("cdist_mode", lambda L: L.cdist(L.ones(3, 4), L.ones(5, 4), compute_mode="x")),
    ("cdist_int", lambda L: L.cdist(L.ones(3, 4, dtype=L.int64), L.ones(5, 4, dtype=L.int64))),
    ("pdist_1d", lambda L: L.pdist(L.ones(4))),
    ("diff_order", lambda L: L.diff(L.ones(5), n=-1)),
    ("diff_0d", lambda L: L.diff(L.tensor(1.0))),
    ("gradient_small", lambda L: L.gradient(L.ones(2), edge_order=2)),
    ("gradient_order", lambda L: L.gradient(L.ones(5), edge_order=3)),
    ("gradient_spacing", lambda L: L.gradient(L.ones(5), spacing=[1.0, 2.0])),
    ("trapezoid_points", lambda L: L.trapezoid(L.ones(5), L.ones(4))),
    ("cov_3d", lambda L: L.cov(L.ones(2, 3, 4))),
    ("cov_fweights_float", lambda L: L.cov(L.ones(2, 3), fweights=L.ones(3))),
    ("cov_negative", lambda L: L.cov(L.ones(2, 3), aweights=L.tensor([1.0, -2.0, 3.0]))),
    ("cov_bool", lambda L: L.cov(L.tensor([True, False]))),
    ("renorm_p", lambda L: L.renorm(L.ones(3, 4), 0, 0, 1.0)),
    ("renorm_maxnorm", lambda L: L.renorm(L.ones(3, 4), 2, 0, -1.0)),
    ("renorm_1d", lambda L: L.renorm(L.ones(3), 2, 0, 1.0)),
    ("nanmean_int", lambda L: L.nanmean(L.ones(3, dtype=L.int64))),
    ("var_mean_int", lambda L: L.var_mean(L.ones(3, dtype=L.int64))),
    ("mvlgamma_p", lambda L: L.mvlgamma(L.ones(3), 0)),
    ("mvlgamma_bool", lambda L: L.mvlgamma(L.ones(3, dtype=L.bool), 1)),
    ("heaviside_dtypes", lambda L: L.heaviside(L.ones(3), L.ones(3, dtype=L.float64))),
    ("positive_bool", lambda L: L.positive(L.ones(3, dtype=L.bool))),
    ("zeta_numbers", lambda L: L.special.zeta(2.0, 3.0)),
    ("polygamma_float_n", lambda L: L.polygamma(1.5, L.ones(3))),
    ("igamma_number", lambda L: L.igamma(L.ones(3), 2.0)),
    ("round_decimals_int", lambda L: L.round(L.ones(3, dtype=L.int64), decimals=0)),
    ("float_power_inplace", lambda L: L.ones(3).float_power_(2)),
])
def test_errors_match_pytorch(name: str, call: Callable[[Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(lambda: call(autodiff), lambda: call(torch))


# name -> (method arguments, inputs in the op's domain)
INPLACE_METHODS: dict[str, tuple[tuple[Any, ...], list[float]]] = {
    "deg2rad_": ((), [30.0, 45.0]), "rad2deg_": ((), [0.5, 1.0]), "sgn_": ((), [0.5, -1.0]),
    "exp2_": ((), [0.5, 3.0]), "frac_": ((), [1.5, -2.25]), "sinc_": ((), [0.5, 0.0]),
    "erfc_": ((), [0.5, -1.0]), "erfinv_": ((), [0.5, -0.25]), "lgamma_": ((), [0.5, 3.0]),
    "digamma_": ((), [0.5, 3.0]), "polygamma_": ((2,), [0.5, 3.0]),
    "mvlgamma_": ((2,), [1.5, 3.0]), "i0_": ((), [0.5, 3.0]), "logit_": ((0.1,), [0.05, 0.5]),
    "nan_to_num_": ((), [float("nan"), 1.0]), "fmod_": ((0.75,), [2.0, -1.25]),
    "copysign_": ((-1.0,), [2.0, -1.25]), "renorm_": ((2, 0, 1.0), [[3.0, 4.0], [0.1, 0.2]]),
}


@pytest.mark.parametrize("name", sorted(INPLACE_METHODS))
def test_inplace_methods_match_their_twins(name: str, device: str) -> None:
    arguments, values = INPLACE_METHODS[name]
    leaf = autodiff.tensor(values, dtype=autodiff.float64, device=device, requires_grad=True)
    x = leaf * 1
    expected = getattr(x, name[:-1])(*arguments)
    out = getattr(x, name)(*arguments)
    assert out is x and x._version == 1
    np.testing.assert_allclose(x.tolist(), expected.tolist(), equal_nan=True)
    assert x.grad_fn.name() == expected.grad_fn.name()
    x.sum().backward()
    assert leaf.grad is not None


@pytest.mark.parametrize(("name", "other"), [
    ("hypot_", [3.0, 0.5]), ("ldexp_", [1.0, 2.0]), ("xlogy_", [2.0, 3.0]),
    ("igamma_", [1.0, 2.0]), ("igammac_", [1.0, 2.0]), ("nextafter_", [0.0, 9.0]),
    ("heaviside_", [0.5, 0.5]),
])
def test_binary_inplace_methods_match_their_twins(name: str, other: list[float],
                                                  device: str) -> None:
    x = autodiff.tensor([0.5, 2.0], dtype=autodiff.float64, device=device)
    y = autodiff.tensor(other, dtype=autodiff.float64, device=device)
    expected = getattr(x, name[:-1])(y)
    assert getattr(x, name)(y) is x
    assert x.tolist() == expected.tolist()


@pytest.mark.parametrize(("inplace", "twin", "expected"), [
    ("gcd_", "gcd", [4, 6]), ("lcm_", "lcm", [12, 30]),
    ("bitwise_left_shift_", "bitwise_left_shift", [24, 120]),
    ("bitwise_right_shift_", "bitwise_right_shift", [6, 7]),
    ("__ilshift__", "__lshift__", [24, 120]), ("__irshift__", "__rshift__", [6, 7]),
])
def test_integer_inplace_methods(inplace: str, twin: str, expected: list[int],
                                 device: str) -> None:
    x = autodiff.tensor([12, 30], device=device)
    y = autodiff.tensor([1, 2], device=device) if "shift" in twin else \
        autodiff.tensor([4, 6], device=device)
    assert getattr(x, twin)(y).tolist() == expected
    assert getattr(x, inplace)(y) is x and x.tolist() == expected


def test_float_power_inplace_needs_a_double_base() -> None:
    x = autodiff.tensor([2.0, 3.0], dtype=autodiff.float64)
    assert x.float_power_(2).tolist() == [4.0, 9.0]
    with pytest.raises(RuntimeError, match="the base given to float_power_ has dtype Float"):
        autodiff.ones(2).float_power_(2)


# torch.<op>_(input, ...) -> (arguments after input, input values); integer inputs for gcd/lcm.
INPLACE_FUNCTIONS: dict[str, tuple[tuple[Any, ...], list[Any]]] = {
    "acosh_": ((), [1.5, 2.0]), "arccosh_": ((), [1.5, 2.0]), "asinh_": ((), [0.5, -1.0]),
    "arcsinh_": ((), [0.5, -1.0]), "atanh_": ((), [0.5, -0.25]), "arctanh_": ((), [0.5, 0.1]),
    "deg2rad_": ((), [30.0, 45.0]), "rad2deg_": ((), [0.5, 1.0]), "exp2_": ((), [0.5, 3.0]),
    "frac_": ((), [1.5, -2.25]), "sinc_": ((), [0.5, 0.0]), "i0_": ((), [0.5, 3.0]),
    "erfc_": ((), [0.5, -1.0]), "logit_": ((0.1,), [0.05, 0.5]),
    "nan_to_num_": ((0.5, 7.0), [float("nan"), float("inf")]),
    "ldexp_": (([1.0, 2.0],), [1.5, 2.0]), "xlogy_": (([2.0, 3.0],), [0.0, 2.0]),
    "gcd_": (([6, 4],), [4, 6]), "lcm_": (([6, 4],), [4, 6]),
}


def _others(library: Any, name: str, dtype: Any) -> list[Any]:
    return [library.tensor(a, dtype=dtype) if isinstance(a, list) else a
            for a in INPLACE_FUNCTIONS[name][0]]


def _inplace_function(library: Any, name: str) -> tuple[list[Any], str | None]:
    """torch.<name>_ on a non-leaf copy: its values and node name (and it returns its input)."""
    values = INPLACE_FUNCTIONS[name][1]
    integer = isinstance(values[0], int)
    dtype = library.int64 if integer else library.float64
    x = library.tensor(values, dtype=dtype, requires_grad=not integer) * 1
    assert getattr(library, name)(x, *_others(library, name, dtype)) is x
    return x.tolist(), x.grad_fn.name() if x.grad_fn is not None else None


@pytest.mark.parametrize("name", sorted(INPLACE_FUNCTIONS))
def test_inplace_functions_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    ours_values, ours_node = _inplace_function(autodiff, name)
    theirs_values, theirs_node = _inplace_function(torch, name)
    np.testing.assert_allclose(ours_values, theirs_values, rtol=1e-12)
    assert ours_node == theirs_node
    # A number as input: PyTorch's argument error (xlogy_'s two overloads list both, here one).
    def call_with_number(library: Any) -> Any:
        return getattr(library, name)(2.0, *_others(library, name, library.int64))

    if name == "xlogy_":
        with pytest.raises(TypeError, match=r"xlogy_\(\): argument 'input'"):
            call_with_number(autodiff)
    else:
        same_error(lambda: call_with_number(autodiff), lambda: call_with_number(torch))


def test_addmv_inplace_function_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    results = []
    for library in (autodiff, torch):
        mat = library.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=library.float64)
        vec = library.tensor([0.5, -1.0], dtype=library.float64, requires_grad=True)
        x = library.tensor([1.0, 2.0], dtype=library.float64) * 1
        assert library.addmv_(x, mat, vec, beta=2, alpha=0.5) is x
        x.sum().backward()
        results.append((x.tolist(), x.grad_fn.name(), vec.grad.tolist()))
    assert results[0] == results[1]
    same_error(lambda: autodiff.addmv_(autodiff.ones(2), 1.0, autodiff.ones(2)),
               lambda: torch.addmv_(torch.ones(2), 1.0, torch.ones(2)))
