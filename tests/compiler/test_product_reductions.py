"""compile(options={"product_reductions": True}): NumPy's float32/float64 sums and means of a
whole array, or of a matrix along one axis, replayed as BLAS dot / matrix-vector products with
ones. The additions run in another order, so results are eager's to float tolerance (not bit
for bit); with the option off (the default) every result is eager's bit for bit again."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest

import autodiff
import backends
from autodiff.nn import functional as F

ON = {"product_reductions": True}


def _seed_step(rows: int, inputs: int, outputs: int, dtype: type = np.float32):
    """The seed graph's training step (z = x @ w + b, BCE-with-logits mean, backward to w and
    b): a mean of the loss and the bias gradient's sum over the broadcast rows."""
    rng = np.random.default_rng(0)
    x = autodiff.tensor(rng.standard_normal((rows, inputs)).astype(dtype))
    y = autodiff.tensor((rng.random((rows, outputs)) < 0.5).astype(dtype))
    w = autodiff.tensor(rng.standard_normal((inputs, outputs)).astype(dtype),
                        requires_grad=True)
    b = autodiff.tensor(rng.standard_normal(outputs).astype(dtype), requires_grad=True)

    def step():
        w.grad = None
        b.grad = None
        loss = F.binary_cross_entropy_with_logits(autodiff.matmul(x, w) + b, y)
        loss.backward()
        return loss, w.grad, b.grad

    return step


def _numpy(tensor: autodiff.Tensor) -> np.ndarray:
    return np.asarray(tensor.detach().numpy())


def _program(compiled):
    programs = [entry.program for entry in compiled.cache.values() if entry.program]
    assert programs
    return programs[-1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_seed_step_close_to_eager_and_bitwise_when_off(dtype: type) -> None:
    step = _seed_step(64, 32, 16, dtype)
    rewritten = autodiff.compile(step, fullgraph=True, options=ON)
    plain = autodiff.compile(step, fullgraph=True)
    tolerance = 1e-5 if dtype is np.float32 else 1e-12
    for _ in range(3):
        expected = [_numpy(t) for t in step()]
        got = [_numpy(t) for t in rewritten()]
        for value, reference in zip(got, expected):
            assert value.dtype == reference.dtype and value.shape == reference.shape
            np.testing.assert_allclose(value, reference, rtol=tolerance, atol=tolerance)
        assert [a.tobytes() for a in (_numpy(t) for t in plain())] == [
            a.tobytes() for a in expected]
    assert _program(rewritten).products == 2  # the loss's mean and the bias gradient's sum
    assert _program(plain).products == 0
    listing = rewritten.explain()
    assert "2 reductions as products with ones (not bit for bit eager's)" in listing
    assert "vdot(" in listing and "products with ones" not in plain.explain()


def test_digits_style_step_with_optimizer_close_to_eager() -> None:
    """Linear-ReLU-Linear, cross_entropy, SGD with momentum: the bias gradients' column sums
    as products; the parameters after several steps stay close to eager's."""
    def make():
        autodiff.manual_seed(0)
        model = autodiff.nn.Sequential(autodiff.nn.Linear(12, 16), autodiff.nn.ReLU(),
                                       autodiff.nn.Linear(16, 5))
        optimizer = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(inputs, targets):
            loss = F.cross_entropy(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        return model, step

    rng = np.random.default_rng(1)
    batches = [(autodiff.tensor(rng.standard_normal((8, 12), dtype=np.float32)),
                autodiff.tensor(rng.integers(0, 5, 8))) for _ in range(6)]
    eager_model, eager_step = make()
    model, step = make()
    compiled = autodiff.compile(step, options=ON)
    for inputs, targets in batches:
        expected = eager_step(inputs, targets)
        got = compiled(inputs, targets)
        np.testing.assert_allclose(_numpy(got), _numpy(expected), rtol=1e-5)
    for mine, theirs in zip(model.parameters(), eager_model.parameters()):
        np.testing.assert_allclose(_numpy(mine), _numpy(theirs), rtol=1e-5, atol=1e-6)
    assert _program(compiled).products >= 2


@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1)])
def test_reductions_of_a_matrix(reduce: str, dim) -> None:
    def function(a):
        return getattr(a, reduce)() if dim is None else getattr(a, reduce)(dim)

    rng = np.random.default_rng(2)
    compiled = autodiff.compile(function, options=ON)
    for _ in range(3):
        a = autodiff.tensor(rng.standard_normal((7, 9), dtype=np.float32))
        got, expected = _numpy(compiled(a)), _numpy(function(a))
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert _program(compiled).products == 1


@contextlib.contextmanager
def _warnings_as_the_package_filters_them():
    """Every warning recorded, but for the NumPy ones the package silences in its own frames
    (`backends/__init__.py`): the list of those that would reach the user."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings(
            "ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered",
            category=RuntimeWarning, module=r"(autodiff|backends)(\.|$)")
        yield caught


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_nan_and_infinities_propagate(reduce: str) -> None:
    """NaN and inf as eager gives them, and as quietly (inf - inf sets BLAS's invalid flag,
    which NumPy reports: silenced as the eager call's warnings are)."""
    with _warnings_as_the_package_filters_them() as caught:
        _nan_and_infinities(reduce)
    assert not caught, [str(item.message) for item in caught]


def _nan_and_infinities(reduce: str) -> None:
    compiled_all = autodiff.compile(lambda a: getattr(a, reduce)(), options=ON)
    compiled_rows = autodiff.compile(lambda a: getattr(a, reduce)(0), options=ON)
    values = np.array([[1.0, np.inf, np.nan, -np.inf, 0.0],
                       [2.0, np.inf, 1.0, np.inf, -0.0],
                       [3.0, 1.0, 1.0, -np.inf, -0.0]], dtype=np.float32)
    for _ in range(2):
        a = autodiff.tensor(values)
        np.testing.assert_array_equal(_numpy(compiled_all(a)), _numpy(getattr(a, reduce)()))
        np.testing.assert_array_equal(_numpy(compiled_rows(a)), _numpy(getattr(a, reduce)(0)))
    a = autodiff.tensor(np.array([[1.0, np.inf], [2.0, 3.0]], dtype=np.float32))
    assert np.isposinf(_numpy(compiled_all(a)))
    assert _program(compiled_all).products == 1 and _program(compiled_rows).products == 1


def test_non_contiguous_and_broadcast_inputs() -> None:
    """The program's input may be a view (a transpose, a slice with steps, a broadcast): the
    products take any layout (a copy where BLAS needs one), with the same values."""
    rng = np.random.default_rng(3)
    base = rng.standard_normal((12, 10), dtype=np.float32)
    compiled_all = autodiff.compile(lambda a: a.sum(), options=ON)
    compiled_columns = autodiff.compile(lambda a: a.sum(0), options=ON)
    compiled_mean = autodiff.compile(lambda a: a.mean(1), options=ON)
    for view in (autodiff.tensor(base).T, autodiff.tensor(base)[::2, ::3].T,
                 autodiff.tensor(base[0]).expand(4, 10).T):
        view2 = view.T  # (another layout again, of the other shape)
        for compiled, function, operand in (
                (compiled_all, lambda a: a.sum(), view),
                (compiled_columns, lambda a: a.sum(0), view),
                (compiled_mean, lambda a: a.mean(1), view2)):
            for _ in range(2):  # the trace, then a replay
                got, expected = _numpy(compiled(operand)), _numpy(function(operand))
                assert got.shape == expected.shape
                np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_gradient_through_a_mean_and_a_sum() -> None:
    """A compiled forward and backward: the graph's own sums (the mean's and the broadcast's
    undoing) replayed as products, the gradient eager's to tolerance."""
    rng = np.random.default_rng(4)
    w = autodiff.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    b = autodiff.tensor(rng.standard_normal(5), requires_grad=True)
    x = autodiff.tensor(rng.standard_normal((30, 6)))

    def step():
        w.grad = None
        b.grad = None
        loss = ((x @ w + b).tanh() ** 2).mean()
        loss.backward()
        return loss, w.grad, b.grad

    compiled = autodiff.compile(step, options=ON)
    for _ in range(3):
        expected = [_numpy(t) for t in step()]
        got = [_numpy(t) for t in compiled()]
        for value, reference in zip(got, expected):
            np.testing.assert_allclose(value, reference, rtol=1e-12, atol=1e-14)
    assert _program(compiled).products >= 2


@pytest.mark.parametrize("case", ["float16", "int64", "keepdim", "max", "3-d along 1",
                                  "empty"])
def test_left_as_they_are(case: str) -> None:
    rng = np.random.default_rng(5)
    data = rng.standard_normal((4, 6, 3)).astype(np.float32)
    function, operand = {
        "float16": (lambda a: a.sum(), data.astype(np.float16)),
        "int64": (lambda a: a.sum(0), (data * 10).astype(np.int64)),
        "keepdim": (lambda a: a.sum(0, keepdim=True), data),
        "max": (lambda a: a.amax(0), data),
        "3-d along 1": (lambda a: a.sum(1), data),
        "empty": (lambda a: a.sum(), data[:0]),
    }[case]
    compiled = autodiff.compile(function, options=ON)
    a = autodiff.tensor(operand)
    for _ in range(2):
        got, expected = _numpy(compiled(a)), _numpy(function(a))
        assert got.tobytes() == expected.tobytes() and got.dtype == expected.dtype
    assert _program(compiled).products == 0


def test_backend_plan() -> None:
    backend = backends.get_backend("cpu")
    matrix = np.ones((3, 4), np.float32)
    plan = backend.product_reduction(backend.mean, matrix, (0,), False)
    assert plan is not None and plan.function is np.matmul and plan.ones_first
    assert plan.ones.shape == (3,) and plan.divisor == np.float32(3)
    plan = backend.product_reduction(backend.sum, matrix, -1, False)
    assert plan is not None and not plan.ones_first and plan.divisor is None
    plan = backend.product_reduction(backend.sum, matrix, None, False)
    assert plan is not None and plan.function is np.vdot and plan.ones.shape == (3, 4)
    assert backend.product_reduction(backend.max, matrix, None, False) is None
    assert backend.product_reduction(backend.sum, matrix, None, True) is None
    assert backend.product_reduction(backend.sum, matrix.astype(np.complex64), None,
                                     False) is None


def test_unknown_option_names_it() -> None:
    with pytest.raises(RuntimeError, match="product_reductions"):
        autodiff.compile(lambda a: a, options={"product_reduction": True})

