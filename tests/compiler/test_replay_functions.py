"""What a compiled replay calls instead of a recorded backend call (`Backend.replay_function`)
and the constants folding makes: the same bits as the eager call, NaN, infinities and signed
zeros included."""

from __future__ import annotations

import operator

import numpy as np
import pytest

import autodiff
from backends import get_backend


def _bits(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masked_where_is_bitwise_where(dtype) -> None:
    backend = get_backend("cpu")
    rng = np.random.default_rng(0)
    right = rng.standard_normal((8, 16)).astype(dtype)
    right[0, :5] = [np.nan, -0.0, np.inf, -np.inf, 0.0]
    condition = rng.standard_normal((8, 16)) <= 0
    zero = np.zeros((), dtype)
    fast = backend.replay_function(np.where, [condition, zero, right])
    assert fast is not np.where
    for c, r in ((condition, right), (condition.T.copy().T, right.T.copy().T)):
        got, expected = fast(c, zero, r), np.where(c, zero, r)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert _bits(got) == _bits(expected)
        assert got.base is None  # a fresh array, as np.where gives
    # At replay, other values than the trace's take np.where's own path.
    for left in (np.array(-0.0, dtype), np.array(1.5, dtype)):
        np.testing.assert_array_equal(fast(condition, left, right),
                                      np.where(condition, left, right))
    small = np.array([True, False])
    np.testing.assert_array_equal(fast(small, np.array(0.0, dtype), np.ones((3, 2), dtype)),
                                  np.where(small, np.array(0.0, dtype), np.ones((3, 2), dtype)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masked_where_written_over_right_is_bitwise_where(dtype) -> None:
    """The planned form, `out=` right's own array (a replay's buffer, call after call) and
    `out=` another buffer: np.where's bits, with NaN (both signs), infinities and signed
    zeros in right and NaN in what the condition was computed from."""
    backend = get_backend("cpu")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 32)).astype(dtype)
    x[0, :4] = [np.nan, -0.0, 0.0, -np.nan]
    zero = np.zeros((), dtype)
    condition = np.empty(x.shape, np.bool_)
    right = np.empty(x.shape, dtype)
    other = np.empty(x.shape, dtype)
    fast = backend.replay_function(np.where, [x <= 0, zero, right])
    assert backend.out_argument(fast) == "elementwise"
    for _ in range(3):
        np.less_equal(x, 0, out=condition)
        right[...] = rng.standard_normal(x.shape).astype(dtype)
        right[1, :6] = [np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0]
        right[0, :4] = [-0.0, -0.0, -np.inf, np.nan]
        expected = np.where(condition, zero, right)
        assert fast(condition, zero, right, out=other) is other
        assert _bits(other) == _bits(expected)
        assert fast(condition, zero, right, out=right) is right
        assert _bits(right) == _bits(expected)
        x = -x  # (another mask next round, same arrays)
    # A left that holds another value at a later call takes np.where's path, even after
    # calls that kept the arrays' views.
    right[...] = 2.0
    left = np.zeros((), dtype)
    fast(condition, left, right, out=right)
    left[...] = -0.0
    np.testing.assert_array_equal(fast(condition, left, right, out=other),
                                  np.where(condition, left, right))
    assert _bits(fast(condition, left, right, out=other)) == _bits(
        np.where(condition, left, right))


def test_relu_backward_in_place_in_blocked_run_equals_eager() -> None:
    """A ReLU backward over arrays large enough to be replayed by blocks of rows: the masked
    where writes over its gradient block by block; the .grad is eager's to the bit."""
    rows = 4096  # (the bool mask too spans enough blocks)
    rng = np.random.default_rng(3)
    start = rng.standard_normal((rows, 256)).astype(np.float32)
    start[0, :3] = [np.nan, -0.0, 0.0]
    x = autodiff.tensor(start, requires_grad=True)
    scale = autodiff.tensor(rng.standard_normal((rows, 256)).astype(np.float32))

    def step():
        x.grad = None
        y = autodiff.relu(x * 1.5) * scale
        y.sum().backward()
        return x.grad

    expected = step().numpy().copy()
    compiled = autodiff.compile(step, fullgraph=True)
    for _ in range(3):
        assert _bits(compiled().numpy()) == _bits(expected)
    program = next(iter(compiled.cache.values())).program
    masked = [index for index, step in enumerate(program.steps) if step.name == "masked_zero"]
    assert masked and any(run.start <= masked[0] < run.stop for run in program.blocks)
    assert "masked_zero" in compiled.explain()
    unplanned = autodiff.compile(step, fullgraph=True, options={"buffer_planning": False})
    for _ in range(2):
        assert _bits(unplanned().numpy()) == _bits(expected)
    program = next(iter(unplanned.cache.values())).program
    assert not any(step.name == "masked_zero" for step in program.steps)


def test_where_of_other_values_is_not_replaced() -> None:
    backend = get_backend("cpu")
    condition = np.array([True, False])
    for arrays in ([condition, np.array(1.0), np.array([2.0, 3.0])],
                   [condition, np.array(-0.0), np.array([2.0, 3.0])],
                   [condition, np.array(0, np.int64), np.array([2, 3])],
                   [condition, np.zeros(2), np.array([2.0, 3.0])]):
        assert backend.replay_function(np.where, arrays) is np.where


def test_operators_become_ufuncs_only_on_arrays() -> None:
    backend = get_backend("cpu")
    array = np.arange(3, dtype=np.float32)
    assert backend.replay_function(operator.mul, [array]) is np.multiply
    # On Python numbers alone an operator gives a Python float, not a NumPy float64 (which
    # would then promote a float32 array it multiplies).
    assert backend.replay_function(operator.mul, [2.0]) is operator.mul
    assert backend.replay_function(backend.matmul, [array, array]) is np.matmul
    half = array.astype(np.float16)
    assert backend.replay_function(backend.matmul, [half, half]) == backend.matmul


def test_relu_mlp_step_with_nan_and_signed_zero_replays_bit_for_bit() -> None:
    """The ReLU backward (a where on +0.0) and the SGD update (operators as ufuncs into
    buffers) in a compiled step equal eager's bits, with a NaN and -0.0 among the inputs."""
    def make():
        autodiff.manual_seed(0)
        model = autodiff.nn.Sequential(autodiff.nn.Linear(4, 8), autodiff.nn.ReLU(),
                                       autodiff.nn.Linear(8, 2))
        return model, autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step_of(model, optimizer):
        def step(x):
            optimizer.zero_grad()
            loss = model(x).sum()
            loss.backward()
            optimizer.step()
            return loss
        return step

    eager_model, eager_optimizer = make()
    model, optimizer = make()
    eager = step_of(eager_model, eager_optimizer)
    compiled = autodiff.compile(step_of(model, optimizer))
    rng = np.random.default_rng(1)
    for round_index in range(5):
        x = rng.standard_normal((6, 4)).astype(np.float32)
        x[0, 0] = -0.0
        if round_index == 4:
            x[1, 1] = np.nan
        expected = eager(autodiff.tensor(x))
        got = compiled(autodiff.tensor(x))
        assert _bits(got.detach().numpy()) == _bits(expected.detach().numpy())
        for mine, theirs in zip(model.parameters(), eager_model.parameters()):
            assert _bits(mine.detach().numpy()) == _bits(theirs.detach().numpy())
    assert compiled.stats.replays >= 3


def test_folded_backward_chain_equals_eager() -> None:
    """A backward whose gradient depends on constants only (the seed of sum() times each
    multiplication's scale) is folded into one constant; the .grad still equals eager's and
    is a new array on every call."""
    x = autodiff.tensor(np.linspace(-1, 1, 7, dtype=np.float32), requires_grad=True)

    def step():
        x.grad = None
        y = x
        for _ in range(20):
            y = y * 1.0001 + 0.0001
        total = y.sum()
        total.backward()
        return total, x.grad

    compiled = autodiff.compile(step, fullgraph=True)
    expected_total, expected = (t.detach().numpy().copy() for t in step())
    results = [compiled() for _ in range(3)]
    for total, grad in results:
        assert _bits(grad.numpy()) == _bits(expected)
        assert _bits(total.detach().numpy()) == _bits(expected_total)
    assert results[1][1]._data is not results[2][1]._data
    program = next(iter(compiled.cache.values())).program
    assert program.folded > 20 and sum(step.name == "multiply" for step in program.steps) == 21
