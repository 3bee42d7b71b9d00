"""autograd.gradcheck and gradgradcheck over the whole op table, on every device.

Every differentiable entry passes gradcheck on each sample; every entry with `gradgrad=True`
passes gradgradcheck (second derivatives, and the backward's dependence on grad_output). The
others carry the reason they are not twice differentiable: they are listed as expected
failures, and gradgradcheck must really fail for them (strict), so a stale reason shows up.
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


def _gradgrad_case(info: OpInfo, sample: Sample, index: int) -> object:
    marks = []
    if info.gradgrad is not True:
        # Either a wrong second derivative (GradcheckError) or a backward that refuses to be
        # differentiated (RuntimeError, which GradcheckError also is).
        marks.append(pytest.mark.xfail(reason=str(info.gradgrad), strict=True,
                                       raises=RuntimeError))
    return pytest.param(info, sample, id=f"{info.name}-{index}", marks=marks)


GRADGRAD_CASES = [
    _gradgrad_case(info, sample, index)
    for info in OP_DB if info.differentiable
    for index, sample in enumerate(info.samples)
]


def _inputs(info: OpInfo, sample: Sample, device: str) -> tuple[autodiff.Tensor, ...]:
    """float64 inputs drawn from the entry's domain; the first `grad_inputs` require grad."""
    rng = np.random.default_rng(2)
    low, high = info.domain
    count = info.grad_inputs if info.grad_inputs is not None else len(sample.shapes)
    return tuple(
        autodiff.tensor(rng.uniform(low, high, size=shape), dtype=autodiff.float64,
                        device=device, requires_grad=position < count)
        for position, shape in enumerate(sample.shapes)
    )


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


def test_entries_not_twice_differentiable_say_why() -> None:
    for info in OP_DB:
        assert info.gradgrad is True or (isinstance(info.gradgrad, str) and info.gradgrad), \
            info.name
