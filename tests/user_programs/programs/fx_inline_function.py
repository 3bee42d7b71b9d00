# Adapted from pytorch/examples, fx/inline_function.py (how to inline a function into an
# existing Graph).
# Copyright (c) 2017, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; assertions
# at the end.
import autodiff as torch
from autodiff.fx import Proxy, symbolic_trace
from autodiff.fx.node import map_arg


# Sample module
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        return self.relu(x) + 1.0


m = symbolic_trace(M())

for node in m.graph.nodes:
    if (node.op, node.target) == ("call_module", "relu"):
        with m.graph.inserting_before(node):
            proxy_args = map_arg(node.args, Proxy)
            proxy_kwargs = map_arg(node.kwargs, Proxy)
            proxy_output = m.relu(*proxy_args, **proxy_kwargs)
            node.replace_all_uses_with(proxy_output.node)
            m.graph.erase_node(node)

# -- checks (added for the tests) --
m.recompile()
print(m.code)
assert [n.op for n in m.graph.nodes] == ["placeholder", "call_function", "call_function",
                                         "output"]
assert "relu_1 = torch.nn.functional.relu(x, inplace = False);  x = None" in m.code
x = torch.tensor([-2.0, 3.0])
assert torch.equal(m(x), torch.tensor([1.0, 4.0]))
