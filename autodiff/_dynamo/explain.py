"""torch._dynamo.explain: `explain(f)(*args)` compiles `f` afresh, calls it once and says what
the compile made of it (an `ExplainOutput`, PyTorch's fields). autodiff's compile does not
resume a graph after a break: a call whose trace broke makes no graph (graph_count 0), where
PyTorch counts one graph on each side of the break."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..compiler.compiled import compile as _compile


class GraphCompileReason:
    """Why a graph broke (`reason`) and the user's line (`user_stack`, one entry)."""

    def __init__(self, reason: str, user_stack: list[str]) -> None:
        self.reason = reason
        self.user_stack = user_stack

    def __repr__(self) -> str:
        return f"GraphCompileReason(reason={self.reason!r}, user_stack={self.user_stack!r})"


class ExplainOutput:
    """PyTorch's ExplainOutput: the graphs made (each program's listing), their counts, the
    break reasons and each graph's ops (the names of its steps)."""

    def __init__(self, graphs: list[str], graph_break_count: int,
                 break_reasons: list[GraphCompileReason], ops_per_graph: list[list[str]]) -> None:
        self.graphs = graphs
        self.graph_count = len(graphs)
        self.graph_break_count = graph_break_count
        self.break_reasons = break_reasons
        self.op_count = sum(len(ops) for ops in ops_per_graph)
        self.ops_per_graph = ops_per_graph
        self.out_guards: list[Any] = []
        self.compile_times = ""

    def __str__(self) -> str:
        lines = [f"Graph Count: {self.graph_count}",
                 f"Graph Break Count: {self.graph_break_count}", f"Op Count: {self.op_count}",
                 "Break Reasons:"]
        for number, item in enumerate(self.break_reasons, start=1):
            lines += [f"  Break Reason {number}:", f"    Reason: {item.reason}",
                      "    User Stack:", *(f"      {line}" for line in item.user_stack)]
        lines.append("Ops per Graph:")
        for number, ops in enumerate(self.ops_per_graph, start=1):
            lines += [f"  Ops {number}:", *(f"    {op}" for op in ops)]
        return "\n".join(lines) + "\n"


def explain(f: Callable[..., Any], *extra_args: Any,
            **extra_kwargs: Any) -> Callable[..., ExplainOutput]:
    """`explain(f)(*args, **kwargs)`: compile `f` afresh, call it once, explain the result."""
    if extra_args or extra_kwargs:
        raise TypeError("explain(f, *args, **kwargs) was removed from PyTorch: call "
                        "explain(f)(*args, **kwargs)")

    def inner(*args: Any, **kwargs: Any) -> ExplainOutput:
        compiled = _compile(f)
        compiled(*args, **kwargs)
        function = getattr(compiled, "_compiled", compiled)  # an OptimizedModule's own
        graphs, ops = [], []
        for entry in function.cache.values():
            if entry.program is not None:
                graphs.append(entry.program.listing())
                ops.append([step.name for step in entry.program.steps if step.name != "guard"])
        reasons = [GraphCompileReason(item.reason, [item.location])
                   for item in function.stats.graph_breaks]
        return ExplainOutput(graphs, len(reasons), reasons, ops)

    return inner
