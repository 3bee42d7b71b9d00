# Adapted from pytorch/examples, fx/subgraph_rewriter_basic_use.py (how to use the FX subgraph
# rewriter).
# Copyright (c) 2017, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the code the
# example shows as a string is checked, with the names PyTorch 2.13 gives (the rewritten
# nodes keep the order replace_pattern inserts them in); assertions at the end.
import autodiff as torch
from autodiff.fx import replace_pattern, symbolic_trace


# Sample module
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, w1, w2):
        val1 = torch.neg(w1)
        m1 = torch.cat([val1, w2]).sum()
        val2 = torch.neg(w1)
        m2 = torch.cat([val2, w2]).sum()
        return x + torch.max(m1) + torch.max(m2)


# Symbolically trace an instance of `M`
traced = symbolic_trace(M())

def pattern(a1, a2):
    val1 = torch.neg(a1)
    return torch.cat([val1, a2]).sum()


# Define the replacement (same rules as the pattern)
def replacement(w1, w2):
    return torch.stack([w1, w2])


# Replace `pattern` with `replacement` in `traced`
replace_pattern(traced, pattern, replacement)

# -- checks (added for the tests) --
print(traced.code)
expected_code = """
def forward(self, x, w1, w2):
    stack = torch.stack([w1, w2])
    max_1 = torch.max(stack);  stack = None
    add = x + max_1;  x = max_1 = None
    stack_1 = torch.stack([w1, w2]);  w1 = w2 = None
    max_2 = torch.max(stack_1);  stack_1 = None
    add_1 = add + max_2;  add = max_2 = None
    return add_1
"""
assert traced.code.strip() == expected_code.strip(), traced.code
x, w1, w2 = torch.tensor([1.0]), torch.tensor([2.0, -3.0]), torch.tensor([4.0, 5.0])
assert torch.equal(traced(x, w1, w2), torch.tensor([11.0]))
