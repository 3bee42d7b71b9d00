"""autodiff.onnx.export of the elementwise functions ONNX has no operator for (written with the
ones it has), the in-place comparisons and the in-place shape changes: onnxruntime's results
equal eager's at special values (zeros of both signs, infinities, NaN, tiny and huge numbers),
in float32 and float64, with a dynamic batch."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F

onnxruntime = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

SPECIAL = [0.0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8, 1e-4, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0, 30.0,
           -30.0, 1e30, -1e30, math.inf, -math.inf, math.nan]


def _export(model, args, **options) -> bytes:
    buffer = io.BytesIO()
    autodiff.onnx.export(model, args, buffer, **options)
    return buffer.getvalue()


def _grid(dtype) -> tuple[autodiff.Tensor, autodiff.Tensor]:
    """Every pair of special values, as two (len, len) tensors."""
    a, b = np.meshgrid(SPECIAL, SPECIAL, indexing="ij")
    return (autodiff.tensor(a, dtype=dtype), autodiff.tensor(b, dtype=dtype))


def _same(model, inputs, rtol: float, signed_zeros: bool = False) -> None:
    names = [f"x{index}" for index in range(len(inputs))]
    data = _export(model, tuple(inputs), input_names=names, output_names=["y"],
                   dynamic_axes={**{name: [0] for name in names}, "y": [0]})
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    for rows in (slice(None), slice(3, 9)):  # the whole grid, and another batch size
        feed = {name: tensor[rows].numpy() for name, tensor in zip(names, inputs)}
        (got,) = session.run(None, feed)
        expected = model(*[tensor[rows] for tensor in inputs]).numpy()
        assert got.shape == expected.shape and got.dtype == expected.dtype
        floating = np.issubdtype(expected.dtype, np.floating)
        tiny = float(np.finfo(expected.dtype).eps) if floating else 0  # (sin(pi) is noise)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=tiny, equal_nan=True)
        if signed_zeros:
            zeros = expected == 0
            assert (np.signbit(got)[zeros] == np.signbit(expected)[zeros]).all()


UNARY = {
    "expm1": autodiff.expm1, "log1p": autodiff.log1p, "logit": autodiff.logit,
    "logit_eps": lambda x: autodiff.logit(x, eps=1e-6), "sinc": autodiff.sinc,
    "entr": autodiff.special.entr, "ndtr": autodiff.special.ndtr,
    "nan_to_num": autodiff.nan_to_num,
    "nan_to_num_values": lambda x: autodiff.nan_to_num(x, nan=2.0, posinf=7.0, neginf=-7.0),
    "round_decimals": lambda x: autodiff.round(x, decimals=2),
    "round_negative_decimals": lambda x: autodiff.round(x * 1000, decimals=-2),
    "angle": autodiff.angle, "xlogx": lambda x: F.kl_div(x, x, reduction="none"),
}
BINARY = {
    "atan2": autodiff.atan2, "hypot": autodiff.hypot, "logaddexp": autodiff.logaddexp,
    "logaddexp2": autodiff.logaddexp2, "xlogy": autodiff.xlogy,
    "xlog1py": autodiff.special.xlog1py, "fmax": autodiff.fmax, "fmin": autodiff.fmin,
    "copysign": autodiff.copysign, "heaviside": autodiff.heaviside,
    "lerp": lambda a, b: autodiff.lerp(a, b, 0.75), "lerp_tensor": lambda a, b: autodiff.lerp(
        a, a * 0.5, b), "addcmul": lambda a, b: autodiff.addcmul(a, a, b, value=-1.5),
    "addcdiv": lambda a, b: autodiff.addcdiv(a, b, a, value=0.5),
    "ldexp": lambda a, b: autodiff.ldexp(a, autodiff.clamp(b, -8, 8).nan_to_num().round()),
    "xlogy_number": lambda a, b: autodiff.xlogy(a, 2.5),
    "copysign_number": lambda a, b: autodiff.copysign(a, -0.0),
}


# onnxruntime has no float64 kernel of these ONNX operators (the graph is valid)
NO_FLOAT64_KERNEL = {"ndtr": "Erf", "atan2": "Atan"}


@pytest.mark.parametrize("dtype", [autodiff.float32, autodiff.float64], ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_functions_at_special_values(name: str, dtype) -> None:
    if dtype == autodiff.float64 and name in NO_FLOAT64_KERNEL:
        pytest.skip(f"onnxruntime has no float64 {NO_FLOAT64_KERNEL[name]}")
    x, _ = _grid(dtype)
    _same(UNARY[name], [x], rtol=2e-6 if dtype == autodiff.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [autodiff.float32, autodiff.float64], ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_functions_at_special_values(name: str, dtype) -> None:
    if dtype == autodiff.float64 and name in NO_FLOAT64_KERNEL:
        pytest.skip(f"onnxruntime has no float64 {NO_FLOAT64_KERNEL[name]}")
    a, b = _grid(dtype)
    _same(BINARY[name], [a, b], rtol=2e-6 if dtype == autodiff.float32 else 1e-12,
          signed_zeros=name in SIGNED_ZEROS)


# where the sign of a zero decides the result (or is the result)
SIGNED_ZEROS = {"atan2", "copysign", "copysign_number"}


def test_expm1_and_log1p_keep_every_digit_near_zero() -> None:
    """exp(x) - 1 and log(1 + x) would give 0 for 1e-10 in float32."""
    x = autodiff.tensor([1e-10, -1e-10, 3e-8, -2e-7], dtype=autodiff.float32)
    for function in (autodiff.expm1, autodiff.log1p):
        session = onnxruntime.InferenceSession(_export(function, (x,)),
                                               providers=["CPUExecutionProvider"])
        (got,) = session.run(None, {"input_0": x.numpy()})
        np.testing.assert_allclose(got, function(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("op", ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "logical_and_",
                                "logical_or_", "logical_xor_"])
@pytest.mark.parametrize("other", ["tensor", "number", "int_tensor"])
def test_in_place_comparisons(op: str, other: str) -> None:
    """x.eq_(y) & co.: the result in x's dtype; an int tensor compared with a float number
    compares in float (PyTorch's promotion)."""
    if other == "number" and op.startswith("logical"):
        # PyTorch's logical ops take Tensors only (a number is its TypeError)
        with pytest.raises(TypeError, match=rf"^{op}\(\): argument 'other' \(position 1\)"):
            getattr(autodiff.ones(2), op)(0.5)
        return

    def model(x, y):
        z = x * 1
        second = {"tensor": y, "number": 0.5, "int_tensor": y.long()}[other]
        if other == "int_tensor":
            z = z.long()
            second = 1.5 if op.startswith(("eq", "ne", "lt", "le", "gt", "ge")) else y.long()
        getattr(z, op)(second)
        return z + 1

    a, b = _grid(autodiff.float32)
    a, b = a.nan_to_num() % 3, b.nan_to_num() % 3
    _same(model, [a.round(), b.round()], rtol=0)


def test_logical_not_in_place() -> None:
    def model(x):
        z = x * 1
        z.logical_not_()
        return z

    _same(model, [_grid(autodiff.float32)[0]], rtol=0)


def test_in_place_shape_changes_are_followed() -> None:
    """squeeze_, unsqueeze_, t_ and transpose_ change the tensor's own shape: what reads it
    afterwards reads the new shape."""
    def model(x):
        y = x * 2
        y.unsqueeze_(1)
        y.transpose_(0, 2)
        z = y.squeeze_(1).t_() + 1
        return z * y

    x = autodiff.tensor(np.random.default_rng(0).standard_normal((5, 3)), dtype=autodiff.float32)
    _same(model, [x], rtol=1e-6)


# ----------------------------------------------------------------------------- values no op makes
def test_comparisons_masks_and_argmax_follow_the_inputs() -> None:
    """Comparisons, logical ops, value tests, argmax and any record no node: the export sees
    them all the same, so the mask and the index change with each input."""
    def model(x):
        mask = (x < 0) | x.isnan() | (x == 2.0)
        picked = x.index_select(1, x.nan_to_num().abs().argmax(1))
        return (autodiff.where(mask, 0.0, x), x.masked_fill(~mask.logical_not(), -1.0),
                x.nan_to_num().argmax(1), (x > 1).any(1), picked)

    rng = np.random.default_rng(0)
    x = autodiff.tensor(rng.standard_normal((4, 5)), dtype=autodiff.float32)
    x[1, 2] = math.nan
    names = ["x"]
    data = _export(model, (x,), input_names=names)
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    for seed in (1, 2):
        other = autodiff.tensor(np.random.default_rng(seed).standard_normal((4, 5)),
                                dtype=autodiff.float32)
        other[seed, 0] = math.nan
        got = session.run(None, {"x": other.numpy()})
        for value, reference in zip(got, model(other)):
            np.testing.assert_array_equal(value, reference.numpy())


@pytest.mark.parametrize("function", [
    lambda x: autodiff.bincount((x > 0).long().sum(1), minlength=6).float(),
    lambda x: x[x > 0].sum().reshape(1),
    lambda x: x + autodiff.randn(3, 5),
    lambda x: autodiff.histc(x[0], bins=3, min=-2, max=2),
], ids=["bincount", "mask_getitem", "random_draw", "histc"])
def test_a_value_computed_where_the_export_cannot_see_is_refused(function) -> None:
    """A value computed from the inputs outside the ops the export sees would be frozen as a
    constant: the export runs the call again on the inputs' elements reordered and refuses a
    constant that changes."""
    x = autodiff.tensor(np.random.default_rng(0).standard_normal((3, 5)), dtype=autodiff.float32)
    with pytest.raises(autodiff.onnx.UnsupportedOperatorError, match="does not see"):
        _export(function, (x,))
