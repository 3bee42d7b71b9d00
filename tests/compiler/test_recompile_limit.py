"""compile's recompile limit, as torch._dynamo.config.recompile_limit: past it a new signature
runs eagerly (one warning) and the traced ones keep replaying; fullgraph=True raises."""
import logging

import pytest

import autodiff
from autodiff.compiler import config
from autodiff.compiler.compiled import FailOnRecompileLimitHit


def _double(x):
    return x * 2


def test_new_signatures_past_the_limit_run_eagerly(caplog, monkeypatch):
    monkeypatch.setattr(config, "recompile_limit", 3)
    compiled = autodiff.compile(_double)
    with caplog.at_level(logging.WARNING, logger="autodiff.compile"):
        for n in range(1, 7):  # a new shape each call: 3 traces, then 3 eager calls
            x = autodiff.arange(float(n))
            assert autodiff.equal(compiled(x), x * 2)
    assert compiled.stats.traces == 3
    assert compiled.stats.recompile_limit_hits == 3
    assert compiled.stats.eager_calls == 3
    assert len(compiled.cache) == 3
    warnings = [r for r in caplog.records if "recompile_limit (3)" in r.getMessage()]
    assert len(warnings) == 1 and "'_double'" in warnings[0].getMessage()
    replays = compiled.stats.replays
    x = autodiff.arange(2.0)  # a traced signature still replays
    assert autodiff.equal(compiled(x), x * 2)
    assert compiled.stats.replays == replays + 1


def test_a_learning_rate_changed_every_step_stops_tracing(monkeypatch):
    monkeypatch.setattr(config, "recompile_limit", 4)
    autodiff.manual_seed(0)
    model = autodiff.nn.Linear(3, 1)
    eager_model = autodiff.nn.Linear(3, 1)
    eager_model.load_state_dict(model.state_dict())
    optimizer = autodiff.optim.SGD(model.parameters(), lr=0.1)
    eager_optimizer = autodiff.optim.SGD(eager_model.parameters(), lr=0.1)
    x = autodiff.randn(5, 3)

    def step(model, optimizer):
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()

    compiled = autodiff.compile(step)
    for i in range(10):
        for group in (*optimizer.param_groups, *eager_optimizer.param_groups):
            group["lr"] = 0.1 / (i + 1)
        compiled(model, optimizer)
        step(eager_model, eager_optimizer)
    assert len(compiled.cache) <= 4
    assert compiled.stats.recompile_limit_hits >= 6
    for got, expected in zip(model.parameters(), eager_model.parameters()):
        assert autodiff.equal(got, expected)


@pytest.mark.parametrize("how", ["fullgraph", "config"])
def test_fullgraph_raises_past_the_limit(how, monkeypatch):
    monkeypatch.setattr(config, "recompile_limit", 1)
    if how == "config":
        monkeypatch.setattr(config, "fail_on_recompile_limit_hit", True)
    compiled = autodiff.compile(_double, fullgraph=how == "fullgraph")
    compiled(autodiff.ones(2))
    reason = "fullgraph=True" if how == "fullgraph" else "fail_on_recompile_limit_hit"
    with pytest.raises(FailOnRecompileLimitHit, match=f"^Hard failure due to {reason}$"):
        compiled(autodiff.ones(3))


def test_the_default_limit_is_dynamos():
    assert config.recompile_limit == 8 and config.fail_on_recompile_limit_hit is False
    torch = pytest.importorskip("torch")
    assert torch._dynamo.config.recompile_limit == config.recompile_limit
