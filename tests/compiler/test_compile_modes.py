"""autodiff.compile beside the library's other modes: autocast (outside the call and inside it),
bfloat16, forward-mode AD and vmap (inside a compiled function, and a compiled function called
under them), the profiler, anomaly mode, replayable graphs and distributions. Each compiled
result is compared with eager's over several calls with new values."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.autograd import forward_ad as fwad
from autodiff.compiler.tracing import CompileError


def _numpy(tensor: autodiff.Tensor) -> np.ndarray:
    return np.asarray(tensor.detach().float().cpu().numpy())


def _inputs(seed: int, shape=(8, 16)) -> autodiff.Tensor:
    rng = np.random.default_rng(seed)
    return autodiff.tensor(rng.standard_normal(shape), dtype=autodiff.float32)


def _model(seed: int = 0) -> nn.Module:
    autodiff.manual_seed(seed)
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))


def _step(model: nn.Module, optimizer: autodiff.optim.Optimizer, autocast: bool):
    def step(x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
        optimizer.zero_grad()
        if autocast:
            with autodiff.autocast("cpu", dtype=autodiff.bfloat16):
                out = model(x)
                loss = nn.functional.mse_loss(out.float(), y)
        else:
            loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def _compare_steps(make_step, calls: int = 5) -> autodiff.compiler.compiled.CompiledFunction:
    model = _model()
    twin = copy.deepcopy(model)
    eager = make_step(model, autodiff.optim.SGD(model.parameters(), lr=0.1))
    compiled = autodiff.compile(make_step(twin, autodiff.optim.SGD(twin.parameters(), lr=0.1)))
    for seed in range(calls):
        x, y = _inputs(seed), _inputs(seed + 100, (8, 4))
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(eager(x, y)))
        for mine, theirs in zip(twin.parameters(), model.parameters()):
            np.testing.assert_array_equal(_numpy(mine), _numpy(theirs))
    return compiled


def test_step_with_autocast_inside_equals_eager() -> None:
    compiled = _compare_steps(lambda model, opt: _step(model, opt, autocast=True))
    assert compiled.stats.graph_breaks == []
    assert compiled.stats.replays == 3  # the first call makes the .grads: a second trace
    assert "astype" in compiled.explain()  # the casts are steps of the program


def test_autocast_around_the_call_is_part_of_the_signature() -> None:
    model = _model()
    compiled = autodiff.compile(model)
    for seed in range(3):
        x = _inputs(seed)
        with autodiff.no_grad(), autodiff.autocast("cpu", dtype=autodiff.bfloat16):
            got, expected = compiled(x), model(x)
        assert got.dtype == expected.dtype == autodiff.bfloat16
        np.testing.assert_array_equal(_numpy(got), _numpy(expected))
        with autodiff.no_grad():  # the same shapes outside autocast: float32
            got, expected = compiled(x), model(x)
        assert got.dtype == expected.dtype == autodiff.float32
        np.testing.assert_array_equal(_numpy(got), _numpy(expected))
    with autodiff.no_grad(), autodiff.autocast("cpu", dtype=autodiff.float16):  # another dtype
        got, expected = compiled(x), model(x)
    assert got.dtype == expected.dtype == autodiff.float16
    np.testing.assert_array_equal(_numpy(got), _numpy(expected))
    assert compiled.stats.traces == 3


def test_autocast_weight_casts_are_made_again_after_the_weights_change() -> None:
    """Each autocast region casts a weight once (a cache): a replay in a later region, after an
    optimizer step, must use the new weights, as eager does."""
    model = _model()
    twin = copy.deepcopy(model)
    compiled = autodiff.compile(twin)
    for seed in range(3):
        x = _inputs(seed)
        with autodiff.no_grad(), autodiff.autocast("cpu", dtype=autodiff.bfloat16):
            np.testing.assert_array_equal(_numpy(compiled(x)), _numpy(model(x)))
        with autodiff.no_grad():
            for mine, theirs in zip(twin.parameters(), model.parameters()):
                mine.mul_(0.5)
                theirs.mul_(0.5)
    assert compiled.stats.replays == 2


def test_bfloat16_training_step_equals_eager() -> None:
    def make(model, optimizer):
        model.to(autodiff.bfloat16)
        return lambda x, y: _step(model, optimizer, autocast=False)(
            x.to(autodiff.bfloat16), y.to(autodiff.bfloat16))

    compiled = _compare_steps(make)
    assert compiled.stats.replays == 3


def test_forward_ad_inside_a_compiled_function() -> None:
    w = _inputs(7, (16, 16))

    def directional(x: autodiff.Tensor, t: autodiff.Tensor) -> tuple[autodiff.Tensor, ...]:
        with fwad.dual_level():
            out = (fwad.make_dual(x, t) @ w).tanh().sum(0)
            primal, tangent = fwad.unpack_dual(out)
        _, jvp_out = autodiff.func.jvp(lambda v: (v @ w).sin(), (x,), (t,))
        return primal, tangent, jvp_out

    compiled = autodiff.compile(directional, fullgraph=True)
    for seed in range(4):
        x, t = _inputs(seed), _inputs(seed + 50)
        for got, expected in zip(compiled(x, t), directional(x, t)):
            assert fwad.unpack_dual(got).tangent is None
            np.testing.assert_array_equal(_numpy(got), _numpy(expected))
    assert compiled.stats.replays == 3


def test_a_dual_argument_runs_eagerly_with_its_tangent() -> None:
    def f(x: autodiff.Tensor) -> autodiff.Tensor:
        return (x * x).sin()

    compiled = autodiff.compile(f)
    x = _inputs(0)
    compiled(x)  # traced without forward AD
    for seed in range(2):
        t = _inputs(seed + 1)
        with fwad.dual_level():
            got = fwad.unpack_dual(compiled(fwad.make_dual(x, t)))
            expected = fwad.unpack_dual(f(fwad.make_dual(x, t)))
        np.testing.assert_array_equal(_numpy(got.primal), _numpy(expected.primal))
        np.testing.assert_array_equal(_numpy(got.tangent), _numpy(expected.tangent))
    assert compiled.stats.eager_calls == 2
    with fwad.dual_level(), pytest.raises(CompileError, match="forward AD"):
        autodiff.compile(f, fullgraph=True)(fwad.make_dual(x, t))


def test_vmap_and_func_grad_inside_a_compiled_function() -> None:
    w = _inputs(3, (16, 4))

    def f(x: autodiff.Tensor) -> tuple[autodiff.Tensor, autodiff.Tensor]:
        per_row = autodiff.func.vmap(lambda row: (row @ w).tanh().sum())(x)
        gradient = autodiff.func.grad(lambda v: (v @ w).square().sum())(x)
        return per_row, gradient

    compiled = autodiff.compile(f, fullgraph=True)
    for seed in range(4):
        x = _inputs(seed)
        for got, expected in zip(compiled(x), f(x)):
            np.testing.assert_array_equal(_numpy(got), _numpy(expected))
    assert compiled.stats.replays == 3


def test_a_compiled_function_called_under_vmap() -> None:
    def f(row: autodiff.Tensor) -> autodiff.Tensor:
        return (row * row).sum()

    compiled = autodiff.compile(f)
    for seed in range(3):
        x = _inputs(seed)
        np.testing.assert_array_equal(_numpy(autodiff.func.vmap(compiled)(x)),
                                      _numpy(autodiff.func.vmap(f)(x)))
    assert compiled.stats.replays == 0
    with pytest.raises(CompileError, match="vmap"):
        autodiff.func.vmap(autodiff.compile(f, fullgraph=True))(x)


def test_profiler_sees_the_ops_of_a_compiled_call() -> None:
    model = _model()
    compiled = autodiff.compile(model)
    x = _inputs(0)
    with autodiff.no_grad():
        compiled(x)
        compiled(x)
        with autodiff.profiler.profile() as prof:
            got = compiled(x)
        np.testing.assert_array_equal(_numpy(got), _numpy(model(x)))
    names = {event.key for event in prof.key_averages()}
    assert "aten::addmm" in names or "aten::linear" in names, names
    assert (compiled.stats.replays, compiled.stats.eager_calls) == (1, 1)


def test_profiler_started_inside_the_function_breaks_the_graph() -> None:
    def f(x: autodiff.Tensor) -> autodiff.Tensor:
        with autodiff.profiler.profile():
            return x.exp()

    compiled = autodiff.compile(f)
    x = _inputs(0)
    compiled(x)
    compiled(x)
    assert compiled.stats.replays == 0
    assert "profiler" in compiled.explain()
    with pytest.raises(CompileError, match="profiler"):
        autodiff.compile(f, fullgraph=True)(x)


def test_anomaly_mode_switched_on_after_the_trace_runs_eagerly() -> None:
    def f(x: autodiff.Tensor) -> autodiff.Tensor:
        y = x.sqrt()  # nan for negative x: anomaly mode names the node in backward
        y.sum().backward()
        return y.detach()

    compiled = autodiff.compile(f)
    x = autodiff.tensor([1.0, 4.0], requires_grad=True)
    compiled(x)
    x.grad = None  # (a .grad the backward adds into is part of the signature)
    compiled(x)
    assert compiled.stats.replays == 1
    bad = autodiff.tensor([-1.0, 4.0], requires_grad=True)
    with autodiff.autograd.detect_anomaly(), pytest.warns(UserWarning), \
            pytest.raises(RuntimeError, match="SqrtBackward0"):
        compiled(bad)
    assert compiled.stats.eager_calls == 1


def test_replayable_records_the_nodes_of_a_compiled_call() -> None:
    def f(x: autodiff.Tensor) -> autodiff.Tensor:
        return (x * 2).exp().sum()

    compiled = autodiff.compile(f)
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    compiled(x.detach())
    compiled(x.detach())
    with autodiff.autograd.graph.replayable():
        loss = compiled(x)
    report = autodiff.autograd.graph.replay(loss, device="strict:1")
    assert len(report.nodes) > 0 and report.first_divergence is None
    assert compiled.stats.eager_calls == 1


def test_distribution_step_equals_eager() -> None:
    """A reparameterized sample (fresh noise each call, from the default generator) and a
    log_prob with argument validation (Python reads values: guards)."""
    def f(mu: autodiff.Tensor, log_sigma: autodiff.Tensor) -> tuple[autodiff.Tensor, ...]:
        normal = autodiff.distributions.Normal(mu, log_sigma.exp())
        sample = normal.rsample((3,))
        loss = -normal.log_prob(sample).mean() + sample.square().mean()
        loss.backward()
        return loss.detach(), sample.detach()

    compiled = autodiff.compile(f)
    for seed in range(4):
        mu = _inputs(seed, (5,)).requires_grad_()
        log_sigma = (_inputs(seed + 9, (5,)) * 0.1).requires_grad_()
        twins = [mu.detach().clone().requires_grad_(),
                 log_sigma.detach().clone().requires_grad_()]
        autodiff.manual_seed(seed)
        expected = f(*twins)
        autodiff.manual_seed(seed)
        got = compiled(mu, log_sigma)
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(_numpy(a), _numpy(b))
        np.testing.assert_array_equal(_numpy(mu.grad), _numpy(twins[0].grad))
        np.testing.assert_array_equal(_numpy(log_sigma.grad), _numpy(twins[1].grad))
    assert compiled.stats.replays + compiled.stats.guard_failures == 3


@pytest.mark.parametrize("mode", ["anomaly", "saved_tensors_hooks", "replayable"])
def test_modes_entered_inside_the_function_break_the_graph(mode: str) -> None:
    packed = []

    def enter():
        if mode == "anomaly":
            return autodiff.autograd.set_detect_anomaly(True)
        if mode == "replayable":
            return autodiff.autograd.graph.replayable()
        return autodiff.autograd.graph.saved_tensors_hooks(
            lambda tensor: packed.append(1) or tensor, lambda tensor: tensor)

    def f(x: autodiff.Tensor) -> autodiff.Tensor:
        with enter():
            y = (x * x).sum()
            y.backward()
        return y.detach()

    compiled = autodiff.compile(f)
    for _ in range(3):
        x = autodiff.tensor([1.0, 2.0], requires_grad=True)
        assert compiled(x).item() == 5.0 and x.grad.tolist() == [2.0, 4.0]
    assert compiled.stats.replays == 0 and compiled.stats.eager_calls == 2
    if mode == "saved_tensors_hooks":
        assert len(packed) == 6  # the pack hook ran in every call
    with pytest.raises(CompileError, match="inside a compiled function"):
        autodiff.compile(f, fullgraph=True)(autodiff.tensor([1.0], requires_grad=True))
