# Adapted from pytorch/examples, fx/proxy_based_graph_creation.py (how to create a Graph using
# Proxy objects instead of tracing).
# Copyright (c) 2017, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the code the
# example shows in its docstring is checked, with the names PyTorch 2.13 gives (`cat`, `tanh`,
# `neg`; the example shows `cat_1`, ...); the second Proxy shares the first one's tracer
# (PyTorch now refuses an operation on Proxies of two tracers); assertions at the end.
import autodiff as torch
from autodiff.fx import Graph, GraphModule, Proxy

# Create a graph independently of symbolic tracing
graph = Graph()

# Create raw Nodes
raw1 = graph.placeholder("x")
raw2 = graph.placeholder("y")

# Initialize Proxies using the raw Nodes
y = Proxy(raw1)
z = Proxy(raw2, y.tracer)

# Create other operations using the Proxies `y` and `z`
a = torch.cat([y, z])
b = torch.tanh(a)
c = torch.neg(b)

# Create a new output Node and add it to the Graph. By doing this, the
# Graph will contain all the Nodes we just created (since they're all
# linked to the output Node)
graph.output(c.node)

# Wrap our created Graph in a GraphModule to get a final, runnable
# `nn.Module` instance
mod = GraphModule(torch.nn.Module(), graph)

# -- checks (added for the tests) --
print(mod.code)
expected_code = """
def forward(self, x, y):
    cat = torch.cat([x, y]);  x = y = None
    tanh = torch.tanh(cat);  cat = None
    neg = torch.neg(tanh);  tanh = None
    return neg
"""
assert mod.code.strip() == expected_code.strip(), mod.code
x, y = torch.tensor([0.5]), torch.tensor([-1.0, 2.0])
assert torch.allclose(mod(x, y), -torch.tanh(torch.cat([x, y])))
