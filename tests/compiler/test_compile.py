"""autodiff.compile: whole training steps replayed bit for bit as eager computes them, graph
breaks (fullgraph errors, eager fallback, counted), guards, random numbers, options, explain,
AUTODIFF_COMPILE=0."""

from __future__ import annotations

import copy
import tracemalloc
import warnings

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.compiler.tracing import CompileError


def _mlp_problem(device: str, seed: int = 0):
    autodiff.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).to(device)
    rng = np.random.default_rng(seed)
    batches = [(autodiff.tensor(rng.standard_normal((16, 64)), dtype=autodiff.float32,
                                device=device),
                autodiff.tensor(rng.integers(0, 10, 16), device=device)) for _ in range(6)]
    return model, batches


def _training_step(model: nn.Module, optimizer: autodiff.optim.Optimizer):
    def step(x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def _numpy(tensor: autodiff.Tensor) -> np.ndarray:
    return np.asarray(tensor.detach().cpu().numpy())


@pytest.mark.parametrize("options", [{}, {"dead_code_elimination": False},
                                     {"buffer_planning": False}, {"constant_folding": False},
                                     {"kernel_operations": False},
                                     {"dead_code_elimination": False, "buffer_planning": False,
                                      "constant_folding": False, "kernel_operations": False}],
                         ids=["all", "no-dce", "no-buffers", "no-folding", "no-kernel-ops",
                              "none"])
def test_mlp_training_step_equals_eager(device: str, options: dict[str, bool]) -> None:
    model, batches = _mlp_problem(device)
    twin = copy.deepcopy(model)
    eager_step = _training_step(model, autodiff.optim.SGD(model.parameters(), lr=0.05,
                                                          momentum=0.9))
    compiled = autodiff.compile(
        _training_step(twin, autodiff.optim.SGD(twin.parameters(), lr=0.05, momentum=0.9)),
        options=options)
    start = [(mine._version, theirs._version)
             for mine, theirs in zip(twin.parameters(), model.parameters())]
    for x, y in batches:
        expected = eager_step(x, y)
        got = compiled(x, y)
        np.testing.assert_array_equal(_numpy(got), _numpy(expected))
        for mine, theirs in zip(twin.parameters(), model.parameters()):
            np.testing.assert_array_equal(_numpy(mine), _numpy(theirs))
    # The first step makes the momentum buffers (a new signature after it), then replays.
    assert compiled.stats.traces == 2
    assert compiled.stats.replays == len(batches) - 2
    assert compiled.stats.graph_breaks == []
    for (mine, theirs), (mine_start, theirs_start) in zip(
            zip(twin.parameters(), model.parameters()), start):
        assert mine._version - mine_start == theirs._version - theirs_start


def test_gradients_accumulate_across_replays() -> None:
    """No zero_grad: each call adds into the .grad the last one left (in place)."""
    w = autodiff.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    twin = w.detach().clone().requires_grad_()

    def step(x: autodiff.Tensor) -> autodiff.Tensor:
        loss = (x @ w).tanh().sum()
        loss.backward()
        return loss

    def twin_step(x: autodiff.Tensor) -> autodiff.Tensor:
        loss = (x @ twin).tanh().sum()
        loss.backward()
        return loss

    compiled = autodiff.compile(twin_step)
    for index in range(4):
        x = autodiff.tensor([[1.0 + index, 2.0], [0.5, -index * 1.0]])
        np.testing.assert_array_equal(_numpy(compiled(x)), _numpy(step(x)))
        np.testing.assert_array_equal(_numpy(twin.grad), _numpy(w.grad))
    assert compiled.stats.replays >= 2


def test_seed_tutorial_step_equals_eager(device: str) -> None:
    rng = np.random.default_rng(0)
    x = autodiff.tensor(rng.standard_normal(5), dtype=autodiff.float32, device=device)
    y = autodiff.tensor((rng.random(3) < 0.5) * 1.0, dtype=autodiff.float32, device=device)
    start_w = rng.standard_normal((5, 3))
    start_b = rng.standard_normal(3)

    def make():
        w = autodiff.tensor(start_w, dtype=autodiff.float32, device=device, requires_grad=True)
        b = autodiff.tensor(start_b, dtype=autodiff.float32, device=device, requires_grad=True)

        def step() -> tuple[autodiff.Tensor, autodiff.Tensor, autodiff.Tensor]:
            w.grad = None
            b.grad = None
            loss = nn.functional.binary_cross_entropy_with_logits(autodiff.matmul(x, w) + b, y)
            loss.backward()
            with autodiff.no_grad():
                w.sub_(0.1 * w.grad)
                b.sub_(0.1 * b.grad)
            return loss, w, b

        return step

    eager, compiled = make(), autodiff.compile(make())
    for _ in range(4):
        expected, got = eager(), compiled()
        for mine, theirs in zip(got, expected):
            np.testing.assert_array_equal(_numpy(mine), _numpy(theirs))
        assert got[1] is not expected[1]
        np.testing.assert_array_equal(_numpy(got[1].grad), _numpy(expected[1].grad))
    assert compiled.stats.replays >= 2


def test_steady_state_replay_allocates_no_planned_buffers() -> None:
    """After warm-up, a replay of an elementwise chain allocates only what leaves the program
    (its result): tracemalloc sees no growth and no more than a few result-sized blocks."""
    x0 = autodiff.tensor(np.linspace(-1, 1, 100_000))

    def chain(x: autodiff.Tensor) -> autodiff.Tensor:
        for _ in range(20):
            x = x * 1.0001 + 0.0001
        return x

    compiled = autodiff.compile(chain)
    for _ in range(3):
        compiled(x0)
    tracemalloc.start()
    try:
        compiled(x0)
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        out = compiled(x0)
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = 100_000 * 8
    assert after - before <= size + 4096  # the new result only (the last one was freed)
    assert peak - before <= 2 * size + 4096  # eager would peak at ~3 arrays per step
    np.testing.assert_array_equal(_numpy(out), _numpy(chain(x0)))
    program = next(iter(compiled.cache.values())).program
    assert program is not None and program.buffers


def test_buffer_planning_writes_chains_in_place() -> None:
    compiled = autodiff.compile(lambda x: ((x * 2.0).exp() + 1.0).log().sum())
    x = autodiff.tensor(np.arange(12.0).reshape(3, 4))
    compiled(x)
    compiled(x)
    program = next(iter(compiled.cache.values())).program
    assert len(program.buffers) == 1  # one buffer carries the whole chain
    assert "out=b0" in compiled.explain()


def test_dead_code_elimination_removes_unused_work() -> None:
    def function(x: autodiff.Tensor) -> autodiff.Tensor:
        unused = (x * 3.0).exp()  # noqa: F841 (dead on purpose)
        return x + 1.0

    compiled = autodiff.compile(function)
    plain = autodiff.compile(function, options={"dead_code_elimination": False})
    x = autodiff.tensor([1.0, 2.0])
    for c in (compiled, plain):
        c(x)
        np.testing.assert_array_equal(_numpy(c(x)), [2.0, 3.0])
    kept = next(iter(compiled.cache.values())).program
    all_steps = next(iter(plain.cache.values())).program
    assert kept.removed == 2 and len(kept.steps) == len(all_steps.steps) - 2


def test_constant_factories_are_made_once_unless_written() -> None:
    def function(x: autodiff.Tensor) -> tuple[autodiff.Tensor, autodiff.Tensor]:
        read = x * autodiff.ones(3) + autodiff.arange(3.0).reshape(3)  # only read: constants
        written = autodiff.zeros(3)
        written += x  # written in place: made by every replay
        fresh = autodiff.ones(3)  # returned: a new array each call
        return read + written, fresh

    compiled = autodiff.compile(function)
    plain = autodiff.compile(function, options={"constant_folding": False})
    results = []
    for value in (1.0, 2.0, 3.0):
        x = autodiff.tensor([value, 0.0, -value])
        got, expected = compiled(x), plain(x)
        for a, b, c in zip(got, expected, function(x)):
            np.testing.assert_array_equal(_numpy(a), _numpy(c))
            np.testing.assert_array_equal(_numpy(b), _numpy(c))
        results.append(got[1])
    assert results[1] is not results[2] and results[1]._data is not results[2]._data
    program = next(iter(compiled.cache.values())).program
    # ones; arange and what is computed from it alone (multiply, add, astype, the reshape's
    # view), all only read
    assert program.folded == 6
    assert next(iter(plain.cache.values())).program.folded == 0


# --------------------------------------------------------------------------- soundness
def _reads_item(x: autodiff.Tensor) -> autodiff.Tensor:
    y = x * 2.0
    y.add_(1.0)
    scale = y.sum().item()  # a value into Python after writing... only into a fresh array
    return y / scale


def test_item_becomes_a_guard_and_a_new_value_runs_eagerly() -> None:
    compiled = autodiff.compile(_reads_item)
    x = autodiff.tensor([1.0, 2.0])
    for _ in range(3):
        np.testing.assert_array_equal(_numpy(compiled(x)), _numpy(_reads_item(x)))
    assert compiled.stats.replays == 2
    other = autodiff.tensor([3.0, 5.0])
    np.testing.assert_array_equal(_numpy(compiled(other)), _numpy(_reads_item(other)))
    assert compiled.stats.guard_failures == 1


def test_item_after_writing_an_input_restores_it_when_the_guard_fails() -> None:
    w = autodiff.tensor([1.0, 2.0])

    def function(x: autodiff.Tensor) -> float:
        w.add_(x)
        return w.sum().item()

    compiled = autodiff.compile(function)
    assert compiled(autodiff.tensor([1.0, 1.0])) == 5.0
    # The replay reads 7.0 where the trace read 5.0: w is put back, then the call runs eagerly.
    assert compiled(autodiff.tensor([1.0, 1.0])) == 7.0
    np.testing.assert_array_equal(_numpy(w), [3.0, 4.0])
    assert compiled.stats.guard_failures == 1 and compiled.stats.graph_breaks == []


def test_item_after_an_unrestorable_write_is_a_graph_break() -> None:
    w = autodiff.tensor([1.0, 2.0])

    def function(x: autodiff.Tensor) -> float:
        w[:1].add_(x)  # through a view: the replay could not put it back
        return w.sum().item()

    compiled = autodiff.compile(function)
    assert compiled(autodiff.tensor([1.0])) == 4.0
    assert compiled(autodiff.tensor([1.0])) == 5.0  # eager: the break's fallback
    assert compiled.stats.eager_calls == 1
    (item,) = compiled.stats.graph_breaks
    assert "item()" in item.reason and "test_compile.py" in item.location
    assert "w.sum().item()" in item.location
    assert autodiff.compile_stats()["graph_breaks"] >= 1

    strict = autodiff.compile(function, fullgraph=True)
    where = r"test_compile.py:\d+ \(return w.sum\(\).item\(\)\): item\(\)"
    with pytest.raises(CompileError, match=where):
        strict(autodiff.tensor([1.0]))
    assert w._data.__class__.__name__ != "Traced"  # the proxies are gone after the error


@pytest.mark.parametrize(("function", "words"), [
    (lambda x: x[x > 0].sum(), "boolean mask"),
    (lambda x: autodiff.nonzero(x), "nonzero()"),
    (lambda x: autodiff.tensor(x.tolist()) * 2, "tolist()"),
    (lambda x: x.unique(), "unique"),
], ids=["mask", "nonzero", "tolist", "unique"])
def test_value_dependent_work_breaks_the_graph(function, words: str) -> None:
    x = autodiff.tensor([1.0, -2.0, 3.0, 0.0])
    with pytest.raises(CompileError, match=words):
        autodiff.compile(function, fullgraph=True)(x)
    compiled = autodiff.compile(function)
    for _ in range(3):
        np.testing.assert_array_equal(_numpy(compiled(x)), _numpy(function(x)))
    assert compiled.stats.replays == 0 and compiled.stats.eager_calls == 2


def test_hooks_and_requires_grad_changes_break_the_graph() -> None:
    w = autodiff.tensor([1.0, 2.0], requires_grad=True)
    calls = []

    def function(x: autodiff.Tensor) -> autodiff.Tensor:
        loss = (x * w).sum()
        loss.backward()
        return loss

    w.register_hook(lambda grad: calls.append(1))
    compiled = autodiff.compile(function)
    for _ in range(3):
        compiled(autodiff.tensor([1.0, 1.0]))
    assert len(calls) == 3 and compiled.stats.replays == 0
    with pytest.raises(CompileError, match="tensor hook"):
        autodiff.compile(function, fullgraph=True)(autodiff.tensor([1.0, 1.0]))

    def toggles(x: autodiff.Tensor) -> autodiff.Tensor:
        return x.requires_grad_() * 2  # the argument's flag is part of the signature

    with pytest.raises(CompileError, match="requires_grad change of a tensor from outside"):
        autodiff.compile(toggles, fullgraph=True)(autodiff.tensor([1.0]))

    def fresh_leaf(x: autodiff.Tensor) -> autodiff.Tensor:
        leaf = x.detach().requires_grad_()  # a tensor of the call's own: no break
        (leaf * leaf).sum().backward()
        return leaf.grad

    compiled = autodiff.compile(fresh_leaf, fullgraph=True)
    for value in (1.0, 2.0, 3.0):
        assert compiled(autodiff.tensor([value])).tolist() == [2 * value]
    assert compiled.stats.replays == 2


def test_result_needing_its_graph_runs_eagerly() -> None:
    w = autodiff.tensor([1.0, 2.0], requires_grad=True)
    compiled = autodiff.compile(lambda x: (x * w).sum())
    for _ in range(3):
        loss = compiled(autodiff.tensor([3.0, 4.0]))
        assert loss.grad_fn is not None
        loss.backward()
    np.testing.assert_array_equal(_numpy(w.grad), [9.0, 12.0])
    assert compiled.stats.replays == 0


def test_random_ops_replay_with_fresh_numbers() -> None:
    def function(x: autodiff.Tensor) -> autodiff.Tensor:
        return nn.functional.dropout(x, 0.5, training=True) + autodiff.randn(4)

    compiled = autodiff.compile(function)
    x = autodiff.ones(4)
    autodiff.manual_seed(3)
    expected = [_numpy(function(x)) for _ in range(4)]
    autodiff.manual_seed(3)
    got = [_numpy(compiled(x)) for _ in range(4)]
    assert compiled.stats.replays == 3
    for mine, theirs in zip(got, expected):
        np.testing.assert_array_equal(mine, theirs)
    assert not np.array_equal(got[2], got[3])


def test_environment_variable_disables_compilation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTODIFF_COMPILE", "0")
    compiled = autodiff.compile(lambda x: x * 2)
    for _ in range(3):
        compiled(autodiff.tensor([1.0]))
    assert compiled.stats.disabled_calls == 3 and compiled.stats.traces == 0


def test_decorator_module_and_arguments() -> None:
    @autodiff.compile(fullgraph=True)
    def double(x: autodiff.Tensor) -> autodiff.Tensor:
        return x * 2

    assert double.__name__ == "double"
    np.testing.assert_array_equal(_numpy(double(autodiff.tensor([1.0]))), [2.0])
    model = nn.Linear(3, 2)
    compiled = autodiff.compile(model)
    x = autodiff.ones(4, 3)
    with autodiff.no_grad():
        for _ in range(3):
            np.testing.assert_array_equal(_numpy(compiled(x)), _numpy(model(x)))
    assert compiled.stats.replays == 2
    with pytest.raises(ValueError, match="dynamic=True"):
        autodiff.compile(double, dynamic=True)
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast"):
        autodiff.compile(double, mode="fast")
    with pytest.raises(RuntimeError, match="Unexpected optimization option fusion"):
        autodiff.compile(double, options={"fusion": True})


def test_new_shapes_trace_again_and_explain_lists_programs() -> None:
    compiled = autodiff.compile(lambda x: (x * 2).sum())
    compiled(autodiff.ones(3))
    compiled(autodiff.ones(4))
    compiled(autodiff.ones(4))
    assert compiled.stats.traces == 2 and compiled.stats.replays == 1
    listing = compiled.explain()
    assert listing.count("def program(inputs):") == 2
    assert "multiply" in listing and "# traces 2, replays 1" in listing


def _cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.25), nn.Linear(64, 10))


def test_cnn_with_batch_norm_and_dropout_equals_eager() -> None:
    """Running statistics, dropout masks and SGD with weight decay, replayed bit for bit (the
    cross-entropy target check is a guard after batch norm wrote its running statistics)."""
    autodiff.manual_seed(0)
    model = _cnn()
    twin = copy.deepcopy(model)
    eager = _training_step(model, autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9,
                                                     weight_decay=1e-4))
    compiled = autodiff.compile(_training_step(
        twin, autodiff.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)))
    rng = np.random.default_rng(0)
    for index in range(5):
        x = autodiff.tensor(rng.standard_normal((8, 1, 8, 8)), dtype=autodiff.float32)
        y = autodiff.tensor(rng.integers(0, 10, 8))
        autodiff.manual_seed(index)
        expected = eager(x, y)
        autodiff.manual_seed(index)
        got = compiled(x, y)
        np.testing.assert_array_equal(_numpy(got), _numpy(expected))
        for (name, mine), theirs in zip(twin.state_dict().items(),
                                        model.state_dict().values()):
            np.testing.assert_array_equal(_numpy(mine), _numpy(theirs), err_msg=name)
    assert compiled.stats.replays == 3 and compiled.stats.graph_breaks == []


def test_failed_guard_after_a_write_puts_the_state_back() -> None:
    """A replay whose target check fails (a class out of range) after batch norm and dropout
    ran: the running statistics and the generator are put back, and the eager call raises
    eager's error from eager's state."""
    autodiff.manual_seed(0)
    model = _cnn()
    twin = copy.deepcopy(model)
    eager = _training_step(model, autodiff.optim.SGD(model.parameters(), lr=0.1))
    compiled = autodiff.compile(_training_step(twin, autodiff.optim.SGD(twin.parameters(),
                                                                        lr=0.1)))
    x = autodiff.ones(8, 1, 8, 8)
    good = autodiff.tensor([1, 2, 3, 4, 5, 6, 7, 8])
    for index in range(3):
        autodiff.manual_seed(index)
        eager(x, good)
        autodiff.manual_seed(index)
        compiled(x, good)
    assert compiled.stats.replays == 1
    bad = autodiff.tensor([1, 2, 3, 4, 5, 6, 7, 12])
    autodiff.manual_seed(5)
    with pytest.raises(IndexError) as expected:
        eager(x, bad)
    after_eager = autodiff.rand(3)
    autodiff.manual_seed(5)
    with pytest.raises(IndexError) as got:
        compiled(x, bad)
    assert str(got.value) == str(expected.value)
    np.testing.assert_array_equal(_numpy(autodiff.rand(3)), _numpy(after_eager))
    assert compiled.stats.guard_failures == 1
    for mine, theirs in zip(twin.state_dict().values(), model.state_dict().values()):
        np.testing.assert_array_equal(_numpy(mine), _numpy(theirs))


@pytest.mark.parametrize("make", [
    lambda params: autodiff.optim.Adam(params, lr=0.01),
    lambda params: autodiff.optim.Adam(params, lr=0.01, amsgrad=True, weight_decay=0.1),
    lambda params: autodiff.optim.AdamW(params, lr=0.01),
    lambda params: autodiff.optim.NAdam(params, lr=0.01),
    lambda params: autodiff.optim.RAdam(params, lr=0.01),
    lambda params: autodiff.optim.Adamax(params, lr=0.01),
    lambda params: autodiff.optim.Adagrad(params, lr=0.01),
    lambda params: autodiff.optim.RMSprop(params, lr=0.01),
    lambda params: autodiff.optim.Adadelta(params),
], ids=["adam", "adam-amsgrad", "adamw", "nadam", "radam", "adamax", "adagrad", "rmsprop",
        "adadelta"])
def test_optimizers_with_a_step_count_compile(make) -> None:
    """The step count is written then read by each step: the program reads it as a value (no
    guard on it), so every step after the state exists replays, equal to eager bit for bit."""
    model, batches = _mlp_problem("cpu")
    twin = copy.deepcopy(model)
    eager_step = _training_step(model, make(model.parameters()))
    compiled = autodiff.compile(_training_step(twin, make(twin.parameters())))
    for x, y in batches * 2:
        expected = eager_step(x, y)
        got = compiled(x, y)
        np.testing.assert_array_equal(_numpy(got), _numpy(expected))
        for mine, theirs in zip(twin.parameters(), model.parameters()):
            np.testing.assert_array_equal(_numpy(mine), _numpy(theirs))
    assert compiled.stats.graph_breaks == [] and compiled.stats.guard_failures == 0
    assert compiled.stats.traces == 2  # before and after the optimizer made its state
    assert compiled.stats.replays == 2 * len(batches) - 2


def test_replay_is_as_quiet_as_eager() -> None:
    """NumPy's overflow and invalid-value warnings, which this package silences in its own
    frames (`backends/__init__.py`), stay silent in a replay: the program's frame counts as
    the package's."""
    compiled = autodiff.compile(lambda t: ((t * 2).exp() * 3, (t - t.exp()).log()))
    a = autodiff.tensor(np.array([1000.0, 0.0, -1.0], dtype=np.float32))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings(
            "ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered",
            category=RuntimeWarning, module=r"(autodiff|backends)(\.|$)")
        for _ in range(3):
            got = [t.numpy() for t in compiled(a)]
    assert not caught, [str(item.message) for item in caught]
    expected = [t.numpy() for t in ((a * 2).exp() * 3, (a - a.exp()).log())]
    for value, reference in zip(got, expected):
        np.testing.assert_array_equal(value, reference)


def test_sparse_argument_runs_eagerly() -> None:
    """A program replays array operations; a sparse argument's ops go to its layout's rules."""
    dense = autodiff.tensor([[0.0, 2.0], [3.0, 0.0]])
    compiled = autodiff.compile(lambda x: x * 2)
    for _ in range(2):
        np.testing.assert_array_equal(compiled(dense.to_sparse()).to_dense().numpy(),
                                      (dense * 2).numpy())
    assert compiled.stats.eager_calls == 2 and compiled.stats.traces == 0
    np.testing.assert_array_equal(compiled(dense).numpy(), (dense * 2).numpy())
    assert compiled.stats.traces == 1
