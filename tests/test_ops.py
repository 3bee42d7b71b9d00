"""Forward values and node names of every op in the table, on every device (gradients:
tests/autograd/test_op_db_gradcheck.py, with autograd.gradcheck and gradgradcheck)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from tests.op_db import OP_DB, OpInfo, Sample

CASES = [
    pytest.param(info, sample, id=f"{info.name}-{index}")
    for info in OP_DB
    for index, sample in enumerate(info.samples)
]


def _inputs(info: OpInfo, sample: Sample, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    low, high = info.domain
    return [rng.uniform(low, high, size=shape) for shape in sample.shapes]


@pytest.mark.parametrize("dtype", [autodiff.float32, autodiff.float64], ids=str)
@pytest.mark.parametrize(("info", "sample"), CASES)
def test_forward_matches_numpy(info: OpInfo, sample: Sample, dtype: autodiff.dtype,
                               device: str) -> None:
    arrays = _inputs(info, sample)
    tensors = [autodiff.tensor(a, dtype=dtype, device=device) for a in arrays]
    out = info.op(*tensors)
    expected = info.ref(*arrays)
    assert out.dtype is (dtype if info.out_dtype is None else info.out_dtype)
    assert tuple(out.shape) == np.shape(expected)
    tolerance = 1e-5 if dtype is autodiff.float32 else 1e-12
    actual = np.array(out.tolist(), dtype=np.float64).reshape(tuple(out.shape))
    np.testing.assert_allclose(actual, expected, rtol=tolerance * 10,
                               atol=tolerance)


@pytest.mark.parametrize("info", [i for i in OP_DB if i.grad_fn], ids=lambda i: i.name)
def test_grad_fn_name(info: OpInfo, device: str) -> None:
    arrays = _inputs(info, info.samples[0])
    count = info.grad_inputs if info.grad_inputs is not None else len(arrays)
    # Inputs after `grad_inputs` (targets, weights) do not require grad, as in the gradient test.
    tensors = [autodiff.tensor(a, dtype=autodiff.float64, device=device,
                               requires_grad=index < count)
               for index, a in enumerate(arrays)]
    out = info.op(*tensors)
    assert out.grad_fn is not None
    # PyTorch's nodes outside its generated code keep their C++ namespace in name().
    assert out.grad_fn.name() in (info.grad_fn, f"torch::autograd::{info.grad_fn}")
    # PyTorch's Python-defined Functions (lobpcg's) show their module, as a class does.
    assert repr(out.grad_fn).startswith((f"<{info.grad_fn} object at 0x",
                                         f"<autodiff.autograd.function.{info.grad_fn} object"))
