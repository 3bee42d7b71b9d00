"""Every op-table entry through `autodiff.compile`: forward, and backward into the inputs'
`.grad` where differentiable, replayed on new values and compared with eager bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import backends
from autodiff.compiler import blocking
from tests.op_db import OP_DB, OpInfo, Sample

CASES = [
    pytest.param(info, sample, id=f"{info.name}-{index}")
    for info in OP_DB
    for index, sample in enumerate(info.samples)
]


def _leaves(info: OpInfo, sample: Sample, seed: int, device: str) -> list[autodiff.Tensor]:
    rng = np.random.default_rng(seed)
    low, high = info.domain
    count = info.grad_inputs if info.grad_inputs is not None else len(sample.shapes)
    return [autodiff.tensor(rng.uniform(low, high, size=shape), dtype=autodiff.float64,
                            device=device,
                            requires_grad=info.differentiable and index < count)
            for index, shape in enumerate(sample.shapes)]


def _step(info: OpInfo):
    def step(*leaves: autodiff.Tensor) -> autodiff.Tensor:
        out = info.op(*leaves)
        if out.requires_grad:
            weight = autodiff.linspace(-1.0, 1.0, max(out.numel(), 1), dtype=out.dtype,
                                       device=out.device)[:out.numel()].reshape(out.shape)
            (out * weight).sum().backward()
        return out.detach()

    return step


def _values(out: autodiff.Tensor, leaves: list[autodiff.Tensor]) -> list[np.ndarray]:
    values = [np.asarray(out.cpu().numpy(force=True))]
    values += [np.asarray(leaf.grad.cpu().numpy()) if leaf.grad is not None else None
               for leaf in leaves]
    return values


@pytest.mark.parametrize(("info", "sample"), CASES)
def test_compiled_matches_eager(info: OpInfo, sample: Sample, device: str) -> None:
    compiled = autodiff.compile(_step(info))
    eager = _step(info)
    for seed in (0, 1, 2):  # trace, then two replays on new values
        leaves = _leaves(info, sample, seed, device)
        autodiff.manual_seed(seed)  # random ops draw the same numbers in both
        expected = _values(eager(*leaves), leaves)
        leaves = _leaves(info, sample, seed, device)
        autodiff.manual_seed(seed)
        got = _values(compiled(*leaves), leaves)
        for value, reference in zip(got, expected):
            if reference is None:
                assert value is None
            else:
                np.testing.assert_array_equal(value, reference)
    stats = compiled.stats
    assert stats.traces == 1
    assert stats.replays + stats.eager_calls + stats.guard_failures == 2
    if stats.replays < 2 and not stats.guard_failures:
        # only ops whose shapes or control flow depend on values run eagerly
        reasons = " ".join(item.reason for item in stats.graph_breaks)
        assert any(word in reasons for word in _VALUE_DEPENDENT), compiled.explain()


@pytest.mark.parametrize(("info", "sample"), CASES)
def test_compiled_in_blocks_matches_eager(info: OpInfo, sample: Sample,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The same on the CPU with every elementwise run replayed in blocks of one row (any
    sample of 2 rows or more): still eager's bits."""
    monkeypatch.setattr(type(backends.get_backend("cpu")), "replay_block_bytes", 8)
    monkeypatch.setattr(blocking, "MIN_BLOCKS", 2)
    test_compiled_matches_eager(info, sample, "cpu")


_VALUE_DEPENDENT = ("depends on the values", "boolean mask", "values into Python",
                    "Python values computed from arrays", "generator= argument",
                    "value into Python")
