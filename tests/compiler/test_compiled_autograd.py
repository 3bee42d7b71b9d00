"""Compiled autograd (torch._dynamo.compiled_autograd, `config.compiled_autograd`): a backward
captured as one fx graph, compiled once per structure, with eager's gradients and hooks."""

import logging

import pytest

import autodiff
import autodiff._dynamo
import autodiff._logging
import autodiff.nn.functional as F
from autodiff import fx
from autodiff._dynamo import compiled_autograd
from autodiff.compiler.compiled_autograd import CACHE


@pytest.fixture(autouse=True)
def _fresh():
    compiled_autograd.reset()
    yield
    compiled_autograd.reset()
    autodiff._dynamo.config.compiled_autograd = False
    autodiff._logging.set_logs()


class Counting:
    """A compiler function that counts its graphs and runs each as it is (or compiled)."""

    def __init__(self, compile_graph=False):
        self.graphs = []
        self.compile_graph = compile_graph

    def __call__(self, graph_module):
        assert isinstance(graph_module, fx.GraphModule)
        self.graphs.append(graph_module)
        return autodiff.compile(graph_module) if self.compile_graph else graph_module


def _model():
    autodiff.manual_seed(0)
    return autodiff.nn.Sequential(autodiff.nn.Linear(5, 8), autodiff.nn.Tanh(),
                                  autodiff.nn.Linear(8, 3))


def _steps(compiler_fn, steps=3):
    """Gradients after each of a few steps that accumulate into .grad (eager: None)."""
    model = _model()
    autodiff.manual_seed(1)
    seen = []
    for step in range(steps):
        x = autodiff.randn(4, 5)
        target = autodiff.tensor([0, 2, 1, step % 3])
        loss = F.cross_entropy(model(x), target)
        if compiler_fn is None:
            loss.backward()
        else:
            with compiled_autograd.enable(compiler_fn):
                loss.backward()
        seen.append([p.grad.clone() for p in model.parameters()])
    return seen


def _same(first, second):
    return all(autodiff.equal(a, b) for left, right in zip(first, second)
               for a, b in zip(left, right))


@pytest.mark.parametrize("compile_graph", [False, True], ids=["graph", "autodiff.compile"])
def test_gradients_are_eagers_bit_for_bit(compile_graph):
    eager = _steps(None)
    compiler = Counting(compile_graph)
    assert _same(_steps(compiler), eager)
    assert len(compiler.graphs) == 1  # three backwards of one structure: one graph


def test_one_compile_per_distinct_graph():
    compiler = Counting()
    x = autodiff.linspace(-1, 1, 10, requires_grad=True)
    for op in (autodiff.add, autodiff.sub, autodiff.mul, autodiff.add, autodiff.mul):
        loss = op(x, x).sum()
        with compiled_autograd._enable(compiler):
            loss.backward()
    assert len(compiler.graphs) == 3
    assert x.grad.tolist() == pytest.approx((4 + 4 * x.detach()).tolist())
    # a new shape is a new graph (autodiff specializes on sizes)
    for size in (10, 20, 10):
        loss = autodiff.ones(size, requires_grad=True).sum()
        with compiled_autograd._enable(compiler):
            loss.backward()
    assert len(compiler.graphs) == 5


def test_graph_is_a_graph_module_of_node_calls():
    compiler = Counting()
    x = autodiff.ones(3, requires_grad=True)
    with compiled_autograd.enable(compiler):
        (x * 2).relu().sum().backward()
    (graph_module,) = compiler.graphs
    code = graph_module.code
    assert "def forward(self, inputs, sizes, scalars, hooks)" in code
    for name in ("SumBackward0", "ReluBackward0", "MulBackward0"):
        assert f"torch__dynamo_compiled_autograd_ops_{name}" in code
    assert "call_accumulate_grad" in code
    assert graph_module.__class__.__name__ == "CompiledAutograd"


def _hooked_run(compiler_fn):
    """A backward with every kind of hook; what ran, in order, and the gradients."""
    autodiff.manual_seed(0)
    calls = []
    weight = autodiff.randn(3, 3, requires_grad=True)
    x = autodiff.randn(2, 3, requires_grad=True)
    x.register_hook(lambda grad: calls.append("x tensor hook") or grad * 2)
    weight.register_post_accumulate_grad_hook(lambda p: calls.append("weight post-accumulate"))
    hidden = x @ weight
    hidden.register_hook(lambda grad: calls.append("hidden tensor hook") or grad + 1)
    hidden.retain_grad()
    out = hidden.tanh()
    out.grad_fn.register_prehook(lambda grads: calls.append("tanh pre-hook"))
    out.grad_fn.register_hook(
        lambda grad_inputs, grad_outputs: calls.append("tanh post-hook")
        or (grad_inputs[0] * 3,))
    loss = out.sum()
    if compiler_fn is None:
        loss.backward()
    else:
        with compiled_autograd.enable(compiler_fn):
            loss.backward()
    return calls, x.grad, weight.grad, hidden.grad


@pytest.mark.parametrize("compile_graph", [False, True], ids=["graph", "autodiff.compile"])
def test_hooks_run_in_the_engines_order(compile_graph):
    eager_calls, *eager_grads = _hooked_run(None)
    compiler = Counting(compile_graph)
    calls, *grads = _hooked_run(compiler)
    assert calls == eager_calls
    assert len(calls) == 5
    assert all(autodiff.equal(a, b) for a, b in zip(grads, eager_grads))
    # a second run of the same structure reuses the graph and still runs every hook
    calls, *grads = _hooked_run(compiler)
    assert calls == eager_calls and len(compiler.graphs) == 1
    assert all(autodiff.equal(a, b) for a, b in zip(grads, eager_grads))
    assert "call_hook" in compiler.graphs[0].code


def test_tutorials_hook_adds_ten():
    x = autodiff.randn(10, 10, requires_grad=True)
    x.register_hook(lambda grad: grad + 10)
    loss = x.sum()
    with compiled_autograd._enable(autodiff.compile(backend="aot_eager")):
        loss.backward()
    assert autodiff.equal(x.grad, autodiff.full((10, 10), 11.0))


class _Scaled(autodiff.autograd.Function):
    """Keeps a Tensor on the ctx, not in save_for_backward: it must be lifted as well."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        ctx.factor = 2.0
        return x * scale * 2.0

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale * ctx.factor, None


def test_a_second_backward_reads_its_own_saved_values():
    compiler = Counting(compile_graph=True)
    for value in (1.0, 3.0):
        x = autodiff.ones(4, requires_grad=True)
        scale = autodiff.full((4,), value)
        y = (_Scaled.apply(x, scale) * autodiff.arange(4.0)).sum()
        with compiled_autograd.enable(compiler):
            y.backward()
        assert x.grad.tolist() == [2 * value * i for i in range(4)]
    assert len(compiler.graphs) == 1


def test_saved_tensors_are_freed_unless_retain_graph():
    x = autodiff.ones(3, requires_grad=True)
    loss = (x * x).sum()
    with compiled_autograd.enable(Counting()):
        loss.backward(retain_graph=True)
        loss.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()
    assert x.grad.tolist() == [4.0] * 3


def test_a_failed_backward_puts_grad_back():
    x = autodiff.ones(3, requires_grad=True)
    y = autodiff.ones(3, requires_grad=True)
    y.grad = autodiff.full((3,), 5.0)

    def fail(grad):
        raise ValueError("hook failed")

    x.register_hook(fail)
    loss = (x * y).sum()
    with compiled_autograd.enable(Counting()), pytest.raises(ValueError, match="hook failed"):
        loss.backward()
    assert y.grad.tolist() == [5.0] * 3 and x.grad is None


def test_engine_walks_what_compiled_autograd_leaves_to_it():
    compiler = Counting()
    x = autodiff.ones(3, requires_grad=True)
    with compiled_autograd.enable(compiler):
        (grad,) = autodiff.autograd.grad((x * x).sum(), x, create_graph=True)
        grad.sum().backward()
        with compiled_autograd.disable():
            (x * 3).sum().backward()
    assert len(compiler.graphs) == 1  # only the plain backward (of a recorded gradient)
    assert x.grad.tolist() == [5.0] * 3


def test_config_flag_compiles_the_backward_of_a_compiled_function():
    eager_model = _model()
    autodiff.manual_seed(1)
    x = autodiff.randn(4, 5)
    F.mse_loss(eager_model(x), autodiff.zeros(4, 3)).backward()

    model = _model()
    autodiff._dynamo.config.compiled_autograd = True

    @autodiff.compile
    def train(model, x):
        loss = F.mse_loss(model(x), autodiff.zeros(4, 3))
        loss.backward()

    train(model, x)
    assert CACHE.entries  # the backward went through compiled autograd
    for ours, theirs in zip(model.parameters(), eager_model.parameters()):
        assert autodiff.equal(ours.grad, theirs.grad)
    train(model, x)  # a replay
    for ours, theirs in zip(model.parameters(), eager_model.parameters()):
        assert autodiff.equal(ours.grad, theirs.grad * 2)


def test_config_flag_off_leaves_backward_to_the_engine():
    @autodiff.compile
    def step(x):
        (x * 2).sum().backward()

    step(autodiff.ones(3, requires_grad=True))
    assert not CACHE.entries


def test_logs_print_the_captured_graph(caplog):
    autodiff._logging.set_logs(compiled_autograd_verbose=True)
    x = autodiff.ones(3, requires_grad=True)
    with caplog.at_level(logging.DEBUG, logger="autodiff.compile.compiled_autograd_verbose"), \
            compiled_autograd.enable(Counting()):
        (x * 2).sum().backward()
        (x + 2).sum().backward()
    messages = [record.getMessage() for record in caplog.records]
    assert any("Cache miss due to new autograd node: SumBackward0 (NodeCall 0)" in message
               for message in messages)
    assert any("Cache miss due to new autograd node: AddBackward0 (NodeCall 1)" in message
               for message in messages)
    assert any("===== Compiled autograd graph =====" in message and "class CompiledAutograd"
               in message for message in messages)


def test_reset_forgets_the_graphs():
    compiler = Counting()
    x = autodiff.ones(3, requires_grad=True)
    for _ in range(2):
        with compiled_autograd.enable(compiler):
            (x * 2).sum().backward()
        autodiff._dynamo.reset()
    assert len(compiler.graphs) == 2


def test_dynamic_must_be_a_bool():
    with pytest.raises(AssertionError, match="Expected dynamic to be bool"):
        compiled_autograd._enable(Counting(), dynamic=1)


def test_an_in_place_op_on_a_view_is_one_call_of_its_graph():
    compiler = Counting(compile_graph=True)
    for value in (2.0, 5.0):
        x = autodiff.full((3, 4), value, requires_grad=True)
        y = x * 1.0
        y[1:, :2] *= x[:2, 2:] ** 2  # CopySlices over MulBackward0
        eager_x = x.detach().clone().requires_grad_()
        eager_y = eager_x * 1.0
        eager_y[1:, :2] *= eager_x[:2, 2:] ** 2
        eager_y.sum().backward()
        with compiled_autograd.enable(compiler):
            y.sum().backward()
        assert autodiff.equal(x.grad, eager_x.grad)
    assert len(compiler.graphs) == 1
    assert "torch__dynamo_compiled_autograd_ops_CopySlices" in compiler.graphs[0].code
