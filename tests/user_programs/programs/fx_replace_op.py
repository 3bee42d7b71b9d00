# Adapted from pytorch/examples, fx/replace_op.py (how to replace one op with another).
# Copyright (c) 2017, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; assertions
# at the end.
import operator

import autodiff as torch
from autodiff.fx import symbolic_trace


# Sample module
class M(torch.nn.Module):
    def forward(self, x, y):
        return x + y, torch.add(x, y), x.add(y)


# Symbolically trace an instance of the module
traced = symbolic_trace(M())

patterns = set([operator.add, torch.add, "add"])

# Go through all the nodes in the Graph
for n in traced.graph.nodes:
    # If the target matches one of the patterns
    if any(n.target == pattern for pattern in patterns):
        # Set the insert point, add the new node, and replace all uses
        # of `n` with the new node
        with traced.graph.inserting_after(n):
            new_node = traced.graph.call_function(torch.bitwise_and, n.args, n.kwargs)
            n.replace_all_uses_with(new_node)
        # Remove the old node from the graph
        traced.graph.erase_node(n)

# Don't forget to recompile!
traced.recompile()

# -- checks (added for the tests) --
print(traced.code)
x, y = torch.tensor([12, 10, 7]), torch.tensor([10, 6, 3])
assert all(torch.equal(out, torch.tensor([8, 2, 3])) for out in traced(x, y))
assert [n.target for n in traced.graph.nodes if n.op == "call_function"] == \
    [torch.bitwise_and] * 3
assert "bitwise_and_2 = torch.bitwise_and(x, y);  x = y = None" in traced.code
