# Adapted from pytorch/examples, fx/custom_tracer.py (how to create and use custom Tracers).
# Copyright (c) 2017, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out;
# `print(graph)` in place of `graph.print_tabular()` (its `tabulate` package is not installed
# here); assertions at the end.
from typing import Any, Callable, Dict, Optional, Tuple, Union

import autodiff as torch
from autodiff.fx import Graph, GraphModule, Node, Tracer, symbolic_trace


class M1(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        return self.relu(x)


default_traced: GraphModule = symbolic_trace(M1())
print(default_traced.graph)


class LowerReluTracer(Tracer):
    def is_leaf_module(self, m: torch.nn.Module, qualname: str):
        if isinstance(m, torch.nn.ReLU):
            return False
        return super().is_leaf_module(m, qualname)


lower_relu_tracer = LowerReluTracer()
custom_traced_graph: Graph = lower_relu_tracer.trace(M1())
print(custom_traced_graph)


class M2(torch.nn.Module):
    def forward(self, a, b):
        return a + b


class TaggingTracer(Tracer):
    def create_node(
        self,
        kind: str,
        target: Union[str, Callable],
        args: Tuple[Any],
        kwargs: Dict[str, Any],
        name: Optional[str] = None,
        type_expr: Optional[Any] = None,
    ) -> Node:
        n = super().create_node(kind, target, args, kwargs, name)
        n.tag = "foo"
        return n


custom_traced_graph_2: Graph = TaggingTracer().trace(M2())


def assert_all_nodes_have_tags(g: Graph) -> bool:
    for n in g.nodes:
        if not hasattr(n, "tag") or not n.tag == "foo":
            return False
    return True


# Prints "True"
print(assert_all_nodes_have_tags(custom_traced_graph_2))

# -- checks (added for the tests) --
assert [(n.op, n.target) for n in default_traced.graph.nodes] == [
    ("placeholder", "x"), ("call_module", "relu"), ("output", "output")]
relu_node = [n for n in custom_traced_graph.nodes][1]
assert relu_node.op == "call_function" and relu_node.target is torch.nn.functional.relu
assert relu_node.kwargs == {"inplace": False}
assert assert_all_nodes_have_tags(custom_traced_graph_2)
