"""The CPU program's elementwise work: kernels recorded as their ufunc steps and written into
planned buffers, Python numbers passed as arrays, multiplications by a constant one dropped;
every result bit for bit eager's."""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest

import autodiff
from autodiff.nn import functional as F


def _seed_step(rows: int, inputs: int, outputs: int, seed: int = 0):
    """The seed graph's training step (z = x @ w + b, BCE-with-logits mean, backward to w and
    b), float32, and its leaves."""
    rng = np.random.default_rng(seed)
    x = autodiff.tensor(rng.standard_normal((rows, inputs), dtype=np.float32))
    y = autodiff.tensor((rng.random((rows, outputs)) < 0.5).astype(np.float32))
    w = autodiff.tensor(rng.standard_normal((inputs, outputs), dtype=np.float32),
                        requires_grad=True)
    b = autodiff.tensor(rng.standard_normal(outputs, dtype=np.float32), requires_grad=True)

    def step():
        w.grad = None
        b.grad = None
        loss = F.binary_cross_entropy_with_logits(autodiff.matmul(x, w) + b, y)
        loss.backward()
        return loss, w.grad, b.grad

    return step, (x, y, w, b)


def _bits(tensor: autodiff.Tensor) -> bytes:
    return np.asarray(tensor.detach().numpy()).tobytes()


def _program(compiled):
    programs = [entry.program for entry in compiled.cache.values() if entry.program]
    assert programs
    return programs[-1]


def test_seed_step_kernels_become_planned_ufunc_steps() -> None:
    step, (_, _, w, b) = _seed_step(16, 8, 4)
    compiled = autodiff.compile(step, fullgraph=True)
    for call in range(4):
        got = compiled()
        w_now, b_now = w.detach().clone(), b.detach().clone()
        expected = step()
        assert [_bits(t) for t in got] == [_bits(t) for t in expected], call
        with autodiff.no_grad():  # a new point each time: the replay reads the leaves anew
            w -= 0.1 * expected[1]
            b -= 0.1 * expected[2]
        assert not np.array_equal(w.detach().numpy(), w_now.numpy())
        assert not np.array_equal(b.detach().numpy(), b_now.numpy())
    listing = compiled.explain()
    assert "bce_with_logits" not in listing  # the two kernels' operations, one step each
    assert "f_exp" not in listing and re.search(r"= f\d+_exp\(v\d+, out=b\d+\)", listing)
    assert re.search(r"= f\d+_tanh\(v\d+, out=b\d+\)", listing)
    program = _program(compiled)
    assert program.in_place >= 4
    # The backward's `*= grad_output` (the ones the backward starts from) is gone: no step
    # multiplies by a constant array any more.
    assert not re.search(r"multiply\(v\d+, c\d+", listing)


def test_steady_state_seed_step_allocates_only_its_results() -> None:
    """After warm-up a replay allocates the arrays that leave it (the loss, w.grad, b.grad)
    and no temporary: eager makes about a dozen z-sized ones. (NumPy's broadcasting z + b
    iterates through a 32 KiB buffer of its own, whatever the size.)"""
    rows, inputs, outputs = 2048, 8, 64
    step, _ = _seed_step(rows, inputs, outputs)
    compiled = autodiff.compile(step, fullgraph=True)
    for _ in range(3):
        compiled()
    z_size = rows * outputs * 4
    results = inputs * outputs * 4 + outputs * 4
    tracemalloc.start()
    try:
        compiled()
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        compiled()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before <= results + 8192
    assert peak - before < z_size // 8  # not one z-sized temporary


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numbers_as_arrays_give_the_same_bits(dtype: type) -> None:
    """Numbers that are not exact in the dtype (1.0001 in float32) take the dtype as eager's
    calls give it to them; maximum against a filled array keeps signed zeros and NaNs."""
    special = np.array([-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, 1e-40, -1e-40, 3e38],
                       dtype=dtype)
    start = np.concatenate([special, np.random.default_rng(1).standard_normal(300)
                            .astype(dtype)])

    def function(x: autodiff.Tensor) -> tuple[autodiff.Tensor, ...]:
        chain = x
        for _ in range(5):
            chain = chain * 1.0001 + 0.0001
        signed_zeros = (x * -0.0) - (x * 0.0)  # -0.0 and 0.0 are different operands
        # (comparisons with numbers: the numbers as 0-d arrays of x's dtype, where exact)
        compared = ((x <= 0.3) & (x > -1.0001)) | (x >= 3) | (x * 2.0 < 16777217)
        return chain, F.softplus(x), F.binary_cross_entropy_with_logits(
            x, (x > 0).to(x.dtype), reduction="none"), 0.3 - x / 7.0, signed_zeros, compared

    compiled = autodiff.compile(function, fullgraph=True)
    x = autodiff.tensor(start)
    compiled(x)
    with np.errstate(all="ignore"):
        got = compiled(x)
        expected = function(x)
    assert [_bits(t) for t in got] == [_bits(t) for t in expected]
    source = _program(compiled).source
    assert "1.0001" not in source  # passed as a 0-d array
    assert re.search(r"less_equal\(v\d+, k\d+, out=b\d+\)", source)
    assert re.search(r"greater_equal\(v\d+, k\d+, out=b\d+\)", source)
    if dtype is np.float32:  # (2**24 + 1 is no float32: the number stays as eager passed it)
        assert re.search(r"less\(v\d+, 16777217, out=b\d+\)", source)
    assert re.search(r"maximum\(v\d+, k\d+, out=b\d+\)", source)
    assert re.search(r"# +k\d+ \(\) float\d+ = 1.000", compiled.explain())


def test_a_kernel_the_proxies_cannot_record_runs_whole() -> None:
    """erf (inside gelu) picks between two expansions with `where`: it is one step, and the
    rest of the program is still planned."""
    x = autodiff.tensor(np.linspace(-4, 4, 64, dtype=np.float32), requires_grad=True)

    def step(x: autodiff.Tensor) -> tuple[autodiff.Tensor, autodiff.Tensor]:
        x.grad = None
        loss = F.gelu(x).sum()
        loss.backward()
        return loss, x.grad

    compiled = autodiff.compile(step, fullgraph=True)
    compiled(x)
    got = compiled(x)
    expected = step(x)
    assert [_bits(t) for t in got] == [_bits(t) for t in expected]
    listing = compiled.explain()
    assert re.search(r"= f\d+_erf\(v\d+\)", listing)
    assert "out=b0" in listing


def test_graph_breaks_inside_a_kernel_are_not_reported() -> None:
    """Trying to record a kernel's operations is not a graph break of the user's function."""
    x = autodiff.tensor(np.linspace(-4, 4, 16, dtype=np.float32))
    compiled = autodiff.compile(lambda t: F.gelu(t) * 2.0)
    compiled(x)
    compiled(x)
    assert compiled.stats.graph_breaks == []
    assert compiled.stats.replays == 1


def test_kernel_operations_can_be_switched_off() -> None:
    step, _ = _seed_step(16, 8, 4)
    compiled = autodiff.compile(step, fullgraph=True, options={"kernel_operations": False})
    compiled()
    got = compiled()
    assert [_bits(t) for t in got] == [_bits(t) for t in step()]
    assert "bce_with_logits_backward" in compiled.explain()
