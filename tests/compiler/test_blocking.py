"""Elementwise runs replayed block of rows by block (compile's "blocked_elementwise"): the
loop appears only over arrays of several blocks, every result is eager's bit for bit, and
what could read another block's memory (a transposed view of a buffer, an in-place update of
an input) stays out of the runs."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

import autodiff
import backends
from autodiff import nn
from autodiff.compiler import blocking
from autodiff.nn import functional as F


def _bits(tensor: autodiff.Tensor) -> bytes:
    return np.asarray(tensor.detach().numpy()).tobytes()


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of one row of anything: the runs of small test arrays are blocked too."""
    monkeypatch.setattr(type(backends.get_backend("cpu")), "replay_block_bytes", 8)
    monkeypatch.setattr(blocking, "MIN_BLOCKS", 2)


def _seed_step(rows: int, inputs: int, outputs: int):
    rng = np.random.default_rng(0)
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

    return step, w, b


@pytest.mark.parametrize("blocked", [True, False])
def test_seed_step_over_large_arrays_runs_in_blocks(blocked: bool) -> None:
    """z is (4096, 64) float32, 1 MiB: the forward's and the backward's elementwise chains
    each run in blocks of 256 KiB (NumPy's backend), bit for bit as eager on new values."""
    step, w, b = _seed_step(4096, 8, 64)
    compiled = autodiff.compile(step, fullgraph=True,
                                options={"blocked_elementwise": blocked})
    for call in range(4):
        got = compiled()
        expected = step()
        assert [_bits(t) for t in got] == [_bits(t) for t in expected], call
        with autodiff.no_grad():  # a new point each time
            w -= 0.1 * expected[1]
            b -= 0.1 * expected[2]
    listing = compiled.explain()
    runs = re.findall(r"# blocked run: (\d+) steps over \(4096, 64\), 1024 rows per block, "
                      r"4 blocks", listing)
    if blocked:
        assert len(runs) >= 2 and all(int(count) >= 5 for count in runs), listing
        assert re.search(r"for s, u0, .*in r\d+:", listing)
        assert re.search(r"f\d+_exp\(u\d+, out=u\d+\)", listing)
    else:
        assert not runs and "for s" not in listing


def test_small_arrays_are_not_blocked() -> None:
    step, _, _ = _seed_step(64, 8, 16)
    compiled = autodiff.compile(step, fullgraph=True)
    compiled()
    compiled()
    assert "blocked run" not in compiled.explain()


def test_chain_on_a_vector_in_blocks(small_blocks: None) -> None:
    start = np.random.default_rng(0).standard_normal(37).astype(np.float32)
    x = autodiff.tensor(start, requires_grad=True)

    def chain() -> tuple[autodiff.Tensor, autodiff.Tensor]:
        x.grad = None
        y = x
        for _ in range(10):
            y = y * 1.0001 + 0.0001
        total = (y.exp() * y).sum()
        total.backward()
        return total, x.grad

    compiled = autodiff.compile(chain, fullgraph=True)
    for _ in range(3):
        got = compiled()
        expected = chain()
        assert [_bits(t) for t in got] == [_bits(t) for t in expected]
        with autodiff.no_grad():
            x.mul_(0.9)
    assert "2 rows per block, 19 blocks" in compiled.explain()  # (8 bytes: 2 float32s)


def test_a_transposed_buffer_is_not_read_by_blocks(small_blocks: None) -> None:
    """y.T reads y's columns: a block of rows of it is spread over every block of y, so the
    step that reads it cannot join the run that writes y."""
    start = np.random.default_rng(1).standard_normal((6, 6))
    x = autodiff.tensor(start)

    def function(t: autodiff.Tensor) -> autodiff.Tensor:
        y = (t * 3.0).exp() - 1.0
        return (y.T * 2.0 + y) * 0.5 - t

    compiled = autodiff.compile(function, fullgraph=True)
    compiled(x)
    for seed in range(3):
        x = autodiff.tensor(np.random.default_rng(seed).standard_normal((6, 6)))
        assert _bits(compiled(x)) == _bits(function(x))
    assert compiled.stats.replays == 3
    assert "blocked run" in compiled.explain()


def test_broadcast_operands_are_read_whole(small_blocks: None) -> None:
    rng = np.random.default_rng(2)
    x = autodiff.tensor(rng.standard_normal((9, 5)))
    row = autodiff.tensor(rng.standard_normal(5))
    column = autodiff.tensor(rng.standard_normal((1, 5)))

    def function(a: autodiff.Tensor, r: autodiff.Tensor, c: autodiff.Tensor) -> autodiff.Tensor:
        return ((a + r) * c - r).tanh() * 2.0 + c

    compiled = autodiff.compile(function, fullgraph=True)
    compiled(x, row, column)
    assert _bits(compiled(x, row, column)) == _bits(function(x, row, column))
    assert "9 blocks" in compiled.explain()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_training_step_in_blocks_equals_eager(small_blocks: None, momentum: float) -> None:
    """The optimizer's in-place updates write into parameters (inputs): they stay whole
    steps; the rest of the step may run in blocks."""
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 3))
    twin = copy.deepcopy(model)
    rng = np.random.default_rng(3)
    batches = [(autodiff.tensor(rng.standard_normal((8, 12)), dtype=autodiff.float32),
                autodiff.tensor(rng.integers(0, 3, 8))) for _ in range(4)]

    def make(net: nn.Module):
        optimizer = autodiff.optim.SGD(net.parameters(), lr=0.1, momentum=momentum)

        def step(x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
            optimizer.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            optimizer.step()
            return loss

        return step

    eager, compiled = make(model), autodiff.compile(make(twin))
    for x, y in batches:
        assert _bits(compiled(x, y)) == _bits(eager(x, y))
        for mine, theirs in zip(twin.parameters(), model.parameters()):
            assert _bits(mine) == _bits(theirs)
    assert compiled.stats.replays >= 2
    assert "blocked run" in compiled.explain()
