"""Forward-mode AD over the whole op table, on every device, in float64.

Every differentiable entry must have a jvp rule (an op without one raises PyTorch's "Trying to
use forward AD with ... that does not support it", and its cases fail). Each sample's tangent
J v is checked two ways: against central differences of the op along v, and against reverse
mode through the identity <u, J v> = <J^T u, v> for a random u (one backward pass).
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff import autograd
from autodiff.autograd import forward_ad
from tests.op_db import OP_DB, OpInfo, Sample

# Entries PyTorch has no forward derivative for: forward AD refuses them with PyTorch's
# "Trying to use forward AD with ... that does not support it" (strict: a rule added later
# shows up here).
NO_FORWARD_DERIVATIVE_IN_PYTORCH = {
    "ctc_loss_mean": "_ctc_loss", "ctc_loss_sum": "_ctc_loss", "ctc_loss_none": "_ctc_loss",
    "ormqr": "ormqr", "ormqr_transpose_right": "ormqr",
    "sparse.softmax": "_sparse_softmax", "sparse.softmax_dim0": "_sparse_softmax",
    "sparse.softmax_values": "_sparse_softmax", "sparse.log_softmax": "_sparse_log_softmax",
}

def _case(info: OpInfo, sample: Sample, index: int) -> object:
    marks = []
    if info.name in NO_FORWARD_DERIVATIVE_IN_PYTORCH:
        marks.append(pytest.mark.xfail(
            reason=f"PyTorch has no forward derivative for "
                   f"{NO_FORWARD_DERIVATIVE_IN_PYTORCH[info.name]}",
            strict=True, raises=NotImplementedError))
    return pytest.param(info, sample, id=f"{info.name}-{index}", marks=marks)


CASES = [_case(info, sample, index)
         for info in OP_DB if info.differentiable
         for index, sample in enumerate(info.samples)]
_STEP = 1e-6


def _inputs_and_tangents(info: OpInfo, sample: Sample, device: str
                         ) -> tuple[tuple[autodiff.Tensor, ...], tuple[autodiff.Tensor, ...]]:
    """float64 inputs from the entry's domain (as the gradcheck tests draw them) and a random
    tangent for each of the first `grad_inputs`."""
    rng = np.random.default_rng(2)
    low, high = info.domain
    count = info.grad_inputs if info.grad_inputs is not None else len(sample.shapes)
    inputs = tuple(autodiff.tensor(rng.uniform(low, high, size=shape), dtype=autodiff.float64,
                                   device=device) for shape in sample.shapes)
    tangents = tuple(autodiff.tensor(rng.standard_normal(size=shape), dtype=autodiff.float64,
                                     device=device) for shape in sample.shapes[:count])
    return inputs, tangents


def _jvp(info: OpInfo, inputs: tuple[autodiff.Tensor, ...],
         tangents: tuple[autodiff.Tensor, ...]) -> tuple[autodiff.Tensor, autodiff.Tensor]:
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(x, t) for x, t in zip(inputs, tangents)]
        out = info.op(*duals, *inputs[len(duals):])
        primal, tangent = forward_ad.unpack_dual(out)
    if tangent is None:  # no tangent means a zero one
        tangent = autodiff.zeros_like(primal)
    return primal.detach(), tangent.detach()


def _along(inputs: tuple[autodiff.Tensor, ...], tangents: tuple[autodiff.Tensor, ...],
           step: float) -> list[autodiff.Tensor]:
    moved = [x + step * t for x, t in zip(inputs, tangents)]
    return moved + list(inputs[len(tangents):])


@pytest.mark.parametrize(("info", "sample"), CASES)
def test_forward_ad_matches_finite_differences(info: OpInfo, sample: Sample,
                                               device: str) -> None:
    inputs, tangents = _inputs_and_tangents(info, sample, device)
    primal, tangent = _jvp(info, inputs, tangents)
    np.testing.assert_allclose(primal.cpu().numpy(), info.op(*inputs).detach().cpu().numpy(),
                               rtol=1e-12, atol=1e-12)
    assert tangent.shape == primal.shape and tangent.dtype == primal.dtype
    plus = info.op(*_along(inputs, tangents, _STEP)).detach()
    minus = info.op(*_along(inputs, tangents, -_STEP)).detach()
    numerical = ((plus - minus) / (2 * _STEP)).cpu().numpy()
    np.testing.assert_allclose(tangent.cpu().numpy(), numerical, atol=info.atol, rtol=info.rtol)


@pytest.mark.parametrize(("info", "sample"), CASES)
def test_forward_ad_matches_reverse_mode(info: OpInfo, sample: Sample, device: str) -> None:
    inputs, tangents = _inputs_and_tangents(info, sample, device)
    primal, tangent = _jvp(info, inputs, tangents)
    leaves = [x.detach().requires_grad_(position < len(tangents))
              for position, x in enumerate(inputs)]
    out = info.op(*leaves)
    # Where the value is not finite (the mean of nothing) the identity has no meaning.
    finite = np.isfinite(primal.cpu().numpy())
    u = autodiff.tensor(np.random.default_rng(3).standard_normal(size=tuple(out.shape)) * finite,
                        dtype=autodiff.float64, device=device)
    tangent = autodiff.where(autodiff.tensor(finite, device=device), tangent, 0.0)
    grads = autograd.grad(out, leaves[:len(tangents)], u, allow_unused=True)
    reverse = sum(float((g * t).sum()) for g, t in zip(grads, tangents) if g is not None)
    forward = float((u * tangent).sum())
    assert forward == pytest.approx(reverse, rel=1e-9, abs=1e-9)


REVERSE_OVER_FORWARD_CASES = [
    _case(info, sample, index)
    for info in OP_DB if info.differentiable and info.gradgrad is True
    for index, sample in enumerate(info.samples)
]


@pytest.mark.parametrize(("info", "sample"), REVERSE_OVER_FORWARD_CASES)
def test_reverse_over_forward_matches_reverse_over_reverse(info: OpInfo, sample: Sample,
                                                           device: str) -> None:
    """Rules are recorded ops: d/dx <u, J(x) v> by a backward through the tangent equals the
    same derivative by double backward, d/dx <J(x)^T u, v> (entries twice differentiable)."""
    inputs, tangents = _inputs_and_tangents(info, sample, device)
    count = len(tangents)
    u = None
    with forward_ad.dual_level():
        leaves = [x.detach().requires_grad_(position < count)
                  for position, x in enumerate(inputs)]
        duals = [forward_ad.make_dual(x, t) for x, t in zip(leaves, tangents)]
        primal, tangent = forward_ad.unpack_dual(info.op(*duals, *leaves[count:]))
        u = autodiff.tensor(np.random.default_rng(3).standard_normal(size=tuple(primal.shape)),
                            dtype=autodiff.float64, device=device)
        if tangent is None or not tangent.requires_grad:
            forward = [None] * count
        else:
            forward = list(autograd.grad((u * tangent).sum(), leaves[:count], allow_unused=True))
    leaves = [x.detach().requires_grad_(position < count) for position, x in enumerate(inputs)]
    out = info.op(*leaves)
    grads = autograd.grad(out, leaves[:count], u, create_graph=True, allow_unused=True)
    pairing = sum(((g * t).sum() for g, t in zip(grads, tangents) if g is not None),
                  autodiff.zeros((), dtype=autodiff.float64, device=device))
    reverse = (autograd.grad(pairing, leaves[:count], allow_unused=True)
               if pairing.requires_grad else [None] * count)
    for got, expected, x in zip(forward, reverse, leaves):
        got = autodiff.zeros_like(x) if got is None else got
        expected = autodiff.zeros_like(x) if expected is None else expected
        np.testing.assert_allclose(got.detach().cpu().numpy(), expected.detach().cpu().numpy(),
                                   rtol=1e-7, atol=1e-9)
