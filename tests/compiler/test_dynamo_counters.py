"""torch._dynamo.graph_break and torch._dynamo.utils.counters: a user-inserted break under
autodiff.compile (an error under fullgraph=True, nothing eagerly), and the counts PyTorch's
tutorials read, as PyTorch keeps them (its own counts compared where torch is installed)."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff
from autodiff._dynamo.utils import counters


def _with_break(library: Any) -> Any:
    def f(x: Any) -> Any:
        y = x.sin() + 1
        library._dynamo.graph_break()
        return y.cos() * 2
    return f


def test_graph_break_is_nothing_eagerly() -> None:
    x = autodiff.tensor([0.5, 1.0])
    assert _with_break(autodiff)(x).tolist() == ((x.sin() + 1).cos() * 2).tolist()


def test_graph_break_under_compile() -> None:
    counters.clear()
    f = _with_break(autodiff)
    compiled = autodiff.compile(f)
    x = autodiff.tensor([0.5, 1.0])
    for _ in range(3):
        assert compiled(x).tolist() == f(x).tolist()
    assert dict(counters["frames"]) == {"total": 1, "ok": 1}
    assert list(counters["graph_break"].values()) == [1]
    (reason,) = counters["graph_break"]
    assert reason.startswith("Call to `torch._dynamo.graph_break()`")
    assert counters["stats"]["unique_graphs"] == 0  # the broken signature runs eagerly


def test_graph_break_under_fullgraph() -> None:
    compiled = autodiff.compile(_with_break(autodiff), fullgraph=True)
    with pytest.raises(autodiff.compiler.tracing.CompileError,
                       match=r"Call to `torch._dynamo.graph_break\(\)`"):
        compiled(autodiff.ones(2))


def _captured(library: Any, **options: Any) -> dict[str, int]:
    library._dynamo.reset()
    counters_of = library._dynamo.utils.counters
    counters_of.clear()
    compiled = library.compile(lambda x: (x.sin() + 1) * x, **options)
    x = library.ones(3)
    compiled(x)
    compiled(x)
    return {"calls_captured": counters_of["stats"]["calls_captured"],
            "unique_graphs": counters_of["stats"]["unique_graphs"],
            "frames": counters_of["frames"]["total"]}


def test_counters_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    assert _captured(autodiff) == _captured(torch, backend="eager")


def test_reset_keeps_counters() -> None:
    counters.clear()
    autodiff.compile(lambda x: x * 2)(autodiff.ones(2))
    autodiff._dynamo.reset()
    assert counters["stats"]["unique_graphs"] == 1


def _explained(library: Any, function: Any) -> tuple[int, int, int]:
    out = library._dynamo.explain(function)(library.ones(3))
    return out.graph_count, out.graph_break_count, out.op_count


def test_explain_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    # (PyTorch's op_count counts function calls only, not method calls such as x.sin())
    assert _explained(autodiff, lambda x: (autodiff.sin(x) + 1) * x) == _explained(
        torch, lambda x: (torch.sin(x) + 1) * x) == (1, 0, 3)


def test_explain_graph_break() -> None:
    out = autodiff._dynamo.explain(_with_break(autodiff))(autodiff.ones(3))
    # PyTorch resumes after the break (two graphs); autodiff's broken signature runs eagerly.
    assert (out.graph_count, out.graph_break_count) == (0, 1)
    assert out.break_reasons[0].reason.startswith("Call to `torch._dynamo.graph_break()`")
    assert "Graph Break Count: 1" in str(out)
    torch = pytest.importorskip("torch")
    expected = torch._dynamo.explain(_with_break(torch))(torch.ones(3))
    assert expected.graph_break_count == 1
    assert expected.break_reasons[0].reason.startswith("Call to `torch._dynamo.graph_break()`")
