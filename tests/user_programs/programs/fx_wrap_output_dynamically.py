# Adapted from pytorch/examples, fx/wrap_output_dynamically.py (wrap a graph's output in an
# activation chosen at run time).
# Copyright (c) 2017, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; `Optional`
# imported (the example uses it unimported, inside a function, where it is never evaluated);
# assertions at the end.
from enum import Enum, auto
from typing import Optional

import autodiff as torch
from autodiff.fx import GraphModule, Node, Proxy, symbolic_trace


# Sample module
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, y):
        y = torch.cat([x, y])
        return y


# Symbolically trace an instance of `M`
traced = symbolic_trace(M())

# Selected activation functions
class ActivationFunction(Enum):
    RELU = auto()
    LEAKY_RELU = auto()
    PRELU = auto()


# Map activation function names to their implementation
activation_functions = {
    ActivationFunction.RELU: torch.nn.ReLU(),
    ActivationFunction.LEAKY_RELU: torch.nn.LeakyReLU(),
    ActivationFunction.PRELU: torch.nn.PReLU(),
}


def wrap_in_activation_function(m: GraphModule, fn: ActivationFunction) -> GraphModule:
    # Get output node
    output_node: Optional[Node] = None
    for n in reversed(m.graph.nodes):
        if n.op == "output":
            output_node = n
            break
    assert output_node

    assert len(output_node.all_input_nodes) == 1
    wrap_node = output_node.all_input_nodes[0]

    # Wrap the actual output in a Proxy
    wrap_proxy = Proxy(wrap_node)

    fn_impl = activation_functions[fn]
    fn_impl_traced = symbolic_trace(fn_impl)

    with traced.graph.inserting_before(wrap_node):
        fn_impl_output_node = fn_impl_traced(wrap_proxy)
        new_args = (fn_impl_output_node.node,)
        output_node.args = new_args


# Example call
wrap_in_activation_function(traced, ActivationFunction.LEAKY_RELU)

# -- checks (added for the tests) --
print(traced.graph)
# The example inserts the activation before the node it wraps: the graph is out of order.
nodes = list(traced.graph.nodes)
assert [n.op for n in nodes] == ["placeholder", "placeholder", "call_function",
                                 "call_function", "output"]
assert nodes[2].target is torch.nn.functional.leaky_relu and nodes[2].args[0] is nodes[3]
assert nodes[3].target is torch.cat and nodes[4].args == (nodes[2],)
try:
    traced.graph.lint()
except RuntimeError as error:
    assert "was used before it has been defined" in str(error)
else:
    raise AssertionError("lint accepted a graph out of order")
