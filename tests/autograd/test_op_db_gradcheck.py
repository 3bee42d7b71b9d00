"""autograd.gradcheck and gradgradcheck over the whole op table, on every device.

Every differentiable entry passes gradcheck on each sample; every entry with `gradgrad=True`
passes gradgradcheck (second derivatives, and the backward's dependence on grad_output). The
others carry the reason they are not twice differentiable: they are listed as expected
failures, and gradgradcheck must really fail for them (strict), so a stale reason shows up.

Entries marked `complex_grad` (the ops PyTorch's OpInfo lists as supporting complex autograd)
run both checks again on complex128 samples, in slow and fast mode: Wirtinger derivatives for
complex inputs, real and imaginary parts for complex outputs.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff import autograd
from tests.op_db import OP_DB, OpInfo, Sample

CASES = [
    pytest.param(info, sample, id=f"{info.name}-{index}")
    for info in OP_DB if info.differentiable
    for index, sample in enumerate(info.samples)
]


def _gradgrad_case(info: OpInfo, sample: Sample, index: int, reason: bool | str) -> object:
    marks = []
    if reason is not True:
        # Either a wrong second derivative (GradcheckError) or a backward that refuses to be
        # differentiated (RuntimeError, which GradcheckError also is).
        marks.append(pytest.mark.xfail(reason=str(reason), strict=True, raises=RuntimeError))
    return pytest.param(info, sample, id=f"{info.name}-{index}", marks=marks)


GRADGRAD_CASES = [
    _gradgrad_case(info, sample, index, info.gradgrad)
    for info in OP_DB if info.differentiable
    for index, sample in enumerate(info.samples)
]

COMPLEX_CASES = [
    pytest.param(info, sample, id=f"{info.name}-{index}")
    for info in OP_DB if info.complex_grad
    for index, sample in enumerate(info.samples)
]

COMPLEX_GRADGRAD_CASES = [
    _gradgrad_case(info, sample, index,
                   info.gradgrad if info.gradgrad is not True else info.complex_gradgrad)
    for info in OP_DB if info.complex_grad
    for index, sample in enumerate(info.samples)
]


def _inputs(info: OpInfo, sample: Sample, device: str,
            dtype: autodiff.dtype = autodiff.float64) -> tuple[autodiff.Tensor, ...]:
    """Inputs drawn from the entry's domain (real and imaginary parts, for complex128); the
    first `grad_inputs` require grad and are of `dtype`, the others float64."""
    rng = np.random.default_rng(2)
    low, high = info.domain
    count = info.grad_inputs if info.grad_inputs is not None else len(sample.shapes)
    inputs = []
    for position, shape in enumerate(sample.shapes):
        values = rng.uniform(low, high, size=shape)
        differentiated = position < count
        if differentiated and dtype.is_complex:
            values = values + 1j * rng.uniform(low, high, size=shape)
        inputs.append(autodiff.tensor(values, device=device, requires_grad=differentiated,
                                      dtype=dtype if differentiated else autodiff.float64))
    return tuple(inputs)


@pytest.mark.parametrize(("info", "sample"), CASES)
def test_gradcheck(info: OpInfo, sample: Sample, device: str) -> None:
    inputs = _inputs(info, sample, device)
    assert autograd.gradcheck(info.op, inputs, atol=info.atol, rtol=info.rtol)


@pytest.mark.parametrize(("info", "sample"), GRADGRAD_CASES)
def test_gradgradcheck(info: OpInfo, sample: Sample, device: str) -> None:
    inputs = _inputs(info, sample, device)
    autodiff.manual_seed(0)  # the random grad_outputs
    assert autograd.gradgradcheck(info.op, inputs, atol=info.atol,
                                  rtol=info.rtol)


@pytest.mark.parametrize("fast_mode", [False, True], ids=["slow", "fast"])
@pytest.mark.parametrize(("info", "sample"), COMPLEX_CASES)
def test_gradcheck_complex(info: OpInfo, sample: Sample, fast_mode: bool,
                           device: str) -> None:
    inputs = _inputs(info, sample, device, autodiff.complex128)
    assert autograd.gradcheck(info.op, inputs, atol=info.atol, rtol=info.rtol,
                              fast_mode=fast_mode)


@pytest.mark.parametrize(("info", "sample"), COMPLEX_GRADGRAD_CASES)
def test_gradgradcheck_complex(info: OpInfo, sample: Sample, device: str) -> None:
    inputs = _inputs(info, sample, device, autodiff.complex128)
    autodiff.manual_seed(0)  # the random grad_outputs
    assert autograd.gradgradcheck(info.op, inputs, atol=info.atol, rtol=info.rtol)


def test_entries_not_twice_differentiable_say_why() -> None:
    for info in OP_DB:
        assert info.gradgrad is True or (isinstance(info.gradgrad, str) and info.gradgrad), \
            info.name
        assert info.complex_gradgrad is True or (
            isinstance(info.complex_gradgrad, str) and info.complex_gradgrad), info.name


def test_complex_entries_cover_pytorchs_complex_autograd_ops() -> None:
    """At least the ops the op table is asked to check on complex inputs carry samples."""
    names = {info.name for info in OP_DB if info.complex_grad}
    assert {"add", "sub", "mul", "div", "exp", "log", "sin", "cos", "tanh", "sqrt", "abs",
            "angle_real", "conj_unary", "real_unary", "imag_unary", "sum", "mean", "prod",
            "matmul_mm", "linalg.det", "linalg.inv", "linalg.solve",
            "linalg.svdvals"} <= names
