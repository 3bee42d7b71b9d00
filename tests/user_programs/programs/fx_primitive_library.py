# Adapted from pytorch/examples, fx/primitive_library.py (a library of composite operations:
# recorded as one call with fx.wrap, inlined afterwards or while tracing).
# Copyright (c) 2017, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the code
# the example shows as strings is checked (with the `wrap` lines PyTorch 2.13 prints above
# it); `inline_lowp_func` still uses the loop's global `node` where it means its argument `n`,
# as the example does; assertions at the end.
import autodiff as torch
import autodiff.fx


def sigmoid_lowp(x : torch.Tensor):
    x = x.float()
    x = x.sigmoid()
    return x.half()

torch.fx.wrap(sigmoid_lowp)

def add_lowp(a : torch.Tensor, b : torch.Tensor):
    a, b = a.float(), b.float()
    c = a + b
    return c.half()

torch.fx.wrap(add_lowp)


class Foo(torch.nn.Module):
    def forward(self, x, y):
        x = sigmoid_lowp(x)
        y = sigmoid_lowp(y)
        return add_lowp(x, y)


traced = torch.fx.symbolic_trace(Foo())
print(traced.code)
first_code = traced.code


def inline_lowp_func(n : torch.fx.Node):
    # If we find a call to a function in our "lowp" module, inline it
    if n.op == 'call_function' and n.target.__module__ == inline_lowp_func.__module__:
        with n.graph.inserting_before(n):
            proxy_args = torch.fx.node.map_arg(n.args, torch.fx.Proxy)
            proxy_kwargs = torch.fx.node.map_arg(n.kwargs, torch.fx.Proxy)
            output_proxy = n.target(*proxy_args, **proxy_kwargs)
            node.replace_all_uses_with(output_proxy.node)
            node.graph.erase_node(node)

for node in traced.graph.nodes:
    if node.op == 'call_function' and node.target is sigmoid_lowp:
        inline_lowp_func(node)

# Don't forget to recompile after graph manipulation
traced.recompile()

print(traced.code)
second_code = traced.code

# New instance of our module
f = Foo()

class InliningTracer(torch.fx.Tracer):
    FNS_TO_INLINE = [add_lowp]  # noqa: RUF012

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        if kind == 'call_function' and target in self.FNS_TO_INLINE:
            proxy_args = torch.fx.node.map_arg(args, torch.fx.Proxy)
            proxy_kwargs = torch.fx.node.map_arg(kwargs, torch.fx.Proxy)
            return target(*proxy_args, **proxy_kwargs).node
        else:
            return super().create_node(kind, target, args, kwargs, name, type_expr)


tracer = InliningTracer()
graph = tracer.trace(f)
module = torch.fx.GraphModule(f, graph)
print(module.code)

# -- checks (added for the tests) --
expected_first = """
torch.fx._symbolic_trace.wrap("__main___sigmoid_lowp")
torch.fx._symbolic_trace.wrap("__main___add_lowp")

def forward(self, x, y):
    sigmoid_lowp = __main___sigmoid_lowp(x);  x = None
    sigmoid_lowp_1 = __main___sigmoid_lowp(y);  y = None
    add_lowp = __main___add_lowp(sigmoid_lowp, sigmoid_lowp_1);  {}
    return add_lowp
""".format("sigmoid_lowp = sigmoid_lowp_1 = None")
assert first_code.strip() == expected_first.strip(), first_code
assert "float_1 = x.float();  x = None" in second_code, second_code
assert "sigmoid = float_1.sigmoid();  float_1 = None" in second_code
assert "add_lowp = __main___add_lowp(half, half_1);  half = half_1 = None" in second_code
assert "add = float_1 + float_2;  float_1 = float_2 = None" in module.code, module.code
x, y = torch.tensor([0.0, 1.0]), torch.tensor([2.0, -1.0])
expected = add_lowp(sigmoid_lowp(x), sigmoid_lowp(y))
for m in (traced, module):
    out = m(x, y)
    assert out.dtype == torch.float16 and torch.equal(out, expected)
