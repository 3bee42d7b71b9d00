"""torch.compiler's functions (set_stance, is_compiling, reset), torch._dynamo's reset and
config, torch._logging.set_logs, and compile(module) returning a Module (OptimizedModule)."""

import logging

import pytest

import autodiff
import autodiff._dynamo
import autodiff._logging
from autodiff.compiler import switches


@pytest.fixture(autouse=True)
def _default_stance():
    yield
    switches.state.stance = switches.DEFAULT
    autodiff._logging.set_logs()


def _marked(x):
    # Traced code sees is_compiling() True; a replay repeats what the traced call did.
    return x + 1 if autodiff.compiler.is_compiling() else x - 1


def test_is_compiling_only_while_tracing():
    compiled = autodiff.compile(_marked)
    x = autodiff.zeros(3)
    assert not autodiff.compiler.is_compiling()
    assert compiled(x).tolist() == [1.0] * 3  # traced
    assert compiled(x).tolist() == [1.0] * 3  # replayed
    assert _marked(x).tolist() == [-1.0] * 3
    assert compiled.stats.traces == 1 and compiled.stats.replays == 1


def test_force_eager_as_call_context_manager_and_decorator():
    compiled = autodiff.compile(_marked)
    x = autodiff.zeros(2)
    autodiff.compiler.set_stance("force_eager")
    assert compiled(x).tolist() == [-1.0] * 2
    autodiff.compiler.set_stance("default")
    assert compiled(x).tolist() == [1.0] * 2
    with autodiff.compiler.set_stance("force_eager"):
        assert compiled(x).tolist() == [-1.0] * 2
    assert compiled(x).tolist() == [1.0] * 2

    @autodiff.compiler.set_stance("force_eager")
    def run(t):
        return compiled(t)

    assert switches.state.stance is switches.DEFAULT  # decorating does not set it
    assert run(x).tolist() == [-1.0] * 2
    assert compiled(x).tolist() == [1.0] * 2
    assert compiled.stats.traces == 1 and compiled.stats.eager_calls == 3


def test_eager_on_recompile_replays_known_signatures_only():
    compiled = autodiff.compile(_marked)
    compiled(autodiff.zeros(3))
    with autodiff.compiler.set_stance("eager_on_recompile"):
        assert compiled(autodiff.zeros(3)).tolist() == [1.0] * 3
        assert compiled(autodiff.zeros(4)).tolist() == [-1.0] * 4
    assert len(compiled.cache) == 1


def test_fail_on_recompile_raises_pytorchs_error():
    compiled = autodiff.compile(autodiff.relu)
    compiled(autodiff.randn(3))
    with autodiff.compiler.set_stance("fail_on_recompile"):
        compiled(autodiff.randn(3))
        with pytest.raises(RuntimeError, match=r"Detected recompile when torch\.compile stance "
                                               r"is 'fail_on_recompile'"):
            compiled(autodiff.randn(4))
    assert len(compiled.cache) == 1


def test_eager_then_compile_runs_the_first_call_eagerly():
    compiled = autodiff.compile(_marked)
    x = autodiff.zeros(2)
    with autodiff.compiler.set_stance("eager_then_compile"):
        assert compiled(x).tolist() == [-1.0] * 2
        assert compiled(x).tolist() == [1.0] * 2
        assert compiled(x).tolist() == [1.0] * 2
    assert compiled.stats.traces == 1


def test_force_backend():
    compiled = autodiff.compile(_marked)
    with autodiff.compiler.set_stance(force_backend="eager"):
        assert compiled(autodiff.zeros(1)).tolist() == [-1.0]
    with autodiff.compiler.set_stance(force_backend="inductor"):
        assert compiled(autodiff.zeros(1)).tolist() == [1.0]
    with pytest.raises(RuntimeError, match="non-default stance cannot have force_backend set"):
        autodiff.compiler.set_stance("force_eager", force_backend="eager")
    assert switches.state.stance is switches.DEFAULT


def test_an_unknown_stance_is_refused_at_the_compiled_call():
    compiled = autodiff.compile(_marked)
    with autodiff.compiler.set_stance("bogus"), \
            pytest.raises(RuntimeError, match=r"invalid torch\.compile stance"):
        compiled(autodiff.zeros(1))


def test_set_stance_inside_a_compiled_function_is_refused():
    @autodiff.compile
    def sets_it(x):
        with autodiff.compiler.set_stance("force_eager"):
            return x + 1

    @autodiff.compiler.set_stance("force_eager")
    def inner(x):
        return x + 1

    @autodiff.compile
    def calls_decorated(x):
        return inner(x)

    with pytest.raises(AssertionError, match=r"Attempt to trace forbidden callable .*set_stance"):
        sets_it(autodiff.zeros(1))
    with pytest.raises(AssertionError, match=r"Attempt to trace forbidden callable .*inner"):
        calls_decorated(autodiff.zeros(1))
    assert switches.state.stance is switches.DEFAULT


def test_reset_forgets_every_program():
    compiled = autodiff.compile(_marked)
    compiled(autodiff.zeros(1))
    compiled(autodiff.zeros(2))
    assert len(compiled.cache) == 2
    autodiff.compiler.reset()
    assert len(compiled.cache) == 0
    compiled(autodiff.zeros(1))
    assert compiled.stats.traces == 3
    autodiff._dynamo.reset()
    assert len(compiled.cache) == 0


def test_dynamo_names():
    assert autodiff._dynamo.config.recompile_limit == 8
    assert autodiff._dynamo.set_stance is autodiff.compiler.set_stance
    assert autodiff._dynamo.is_compiling is autodiff.compiler.is_compiling


def test_compiled_module_is_a_module():
    autodiff.manual_seed(0)
    layer = autodiff.nn.Linear(3, 2)
    compiled = autodiff.compile(layer)
    assert isinstance(compiled, autodiff._dynamo.OptimizedModule)
    assert isinstance(compiled, autodiff.nn.Module)
    assert compiled._orig_mod is layer
    assert compiled.weight is layer.weight and compiled.in_features == 3  # read through
    assert list(compiled.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    assert [p for p in compiled.parameters()] == [layer.weight, layer.bias]
    assert repr(compiled).startswith("OptimizedModule(\n  (_orig_mod): Linear(in_features=3")
    stack = autodiff.nn.ModuleList([compiled, autodiff.compile(autodiff.nn.ReLU())])
    x = autodiff.randn(4, 3)
    expected = autodiff.relu(layer(x))
    with autodiff.no_grad():  # (a result that needs its graph runs eagerly)
        for _ in range(3):
            assert autodiff.equal(stack[1](stack[0](x)), expected)
    assert compiled.stats.traces == 1 and compiled.stats.replays == 2
    assert "signature 0" in compiled.explain()
    compiled.eval()
    assert not layer.training
    compiled(x).sum().backward()
    assert layer.weight.grad is not None


def test_set_logs_recompiles_and_graph_breaks(caplog):
    compiled = autodiff.compile(_marked)
    compiled(autodiff.zeros(1))
    autodiff._logging.set_logs(recompiles=True, graph_breaks=True)
    with caplog.at_level(logging.DEBUG, logger="autodiff.compile"):
        compiled(autodiff.zeros(2))

        @autodiff.compile
        def breaks(x):
            return x[x > 0]  # a data-dependent shape: a graph break

        breaks(autodiff.ones(1))
    messages = [record.getMessage() for record in caplog.records]
    recompiles = [m for m in messages if m.startswith("Recompiling function '_marked'")]
    assert len(recompiles) == 1 and "the arguments" in recompiles[0], messages
    assert any(m.startswith("Graph break in 'breaks'") for m in messages), messages
    autodiff._logging.set_logs()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="autodiff.compile"):
        compiled(autodiff.zeros(3))
    assert not [r for r in caplog.records if "Recompiling" in r.getMessage()]


def test_set_logs_graph_output_code_fusion_and_dynamo(caplog):
    @autodiff.compile
    def add(x, y):
        return (x + y) + 2

    autodiff._logging.set_logs(graph=True, output_code=True, fusion=True,
                               dynamo=logging.DEBUG)
    with caplog.at_level(logging.DEBUG, logger="autodiff.compile"):
        add(autodiff.ones(2), autodiff.zeros(2))
        add(autodiff.ones(2), autodiff.zeros(2))  # a replay logs nothing
    by_logger = {}
    for record in caplog.records:
        by_logger.setdefault(record.name, []).append(record.getMessage())
    assert set(by_logger) == {"autodiff.compile", "autodiff.compile.graph",
                              "autodiff.compile.output_code", "autodiff.compile.fusion"}
    assert [m.split(" ")[0] for m in by_logger["autodiff.compile"]] == ["tracing", "traced"]
    (graph,) = by_logger["autodiff.compile.graph"]
    assert graph.startswith("TRACED GRAPH of 'add'") and "def program(inputs):" in graph
    (code,) = by_logger["autodiff.compile.output_code"]
    assert "def program(inputs):" in code
    (fusion,) = by_logger["autodiff.compile.fusion"]
    assert "0 cross_entropy forward/gradient pairs fused" in fusion
    autodiff._logging.set_logs()
    assert logging.getLogger("autodiff.compile").level == logging.NOTSET


def test_config_refuses_a_setting_it_does_not_have(monkeypatch):
    config = autodiff._dynamo.config
    monkeypatch.setattr(config, "recompile_limit", 3)
    assert config.recompile_limit == 3
    with pytest.raises(AttributeError,
                       match=r"torch\._dynamo\.config\.suppress_errors does not exist"):
        config.suppress_errors = True
    assert not hasattr(config, "suppress_errors")


def test_module_compile_compiles_in_place() -> None:
    """Module.compile: the module keeps its type and state_dict keys; its calls replay the
    compiled program, hooks and all."""
    autodiff.manual_seed(0)
    module = autodiff.nn.Sequential(autodiff.nn.Linear(3, 4), autodiff.nn.ReLU())
    keys = list(module.state_dict())
    x = autodiff.randn(5, 3)
    with autodiff.no_grad():
        expected = module(x)
    assert module.compile(mode="reduce-overhead") is None
    assert type(module) is autodiff.nn.Sequential and list(module.state_dict()) == keys
    with autodiff.no_grad():
        for _ in range(3):
            assert autodiff.equal(module(x), expected)
    stats = module._compiled_call_impl.stats
    assert stats.traces == 1 and stats.replays == 2
    seen = []
    module.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
    with autodiff.no_grad():
        module(x)
    assert seen == [(5, 4)]
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast"):
        autodiff.nn.Linear(2, 2).compile(mode="fast")
