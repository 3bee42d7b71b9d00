# Adapted from pytorch/tutorials, intermediate_source/compiled_autograd_tutorial.py ("Compiled
# Autograd: Capturing a larger backward graph for torch.compile").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the basic usage, the context
# manager (PyTorch now spells it compiled_autograd._enable), the backward-hook example and the
# recompilation examples (their graphs counted by a compiler function of our own instead of
# read from the logs, their inputs made without the random stream); the graph-break example
# and dynamo's counters left out; the captured graph printed through
# torch._logging.set_logs(compiled_autograd=True) instead of TORCH_LOGS; a seed; gradients
# checked; CHECK lines; assertions at the end.
import autodiff as torch
import autodiff._dynamo

torch.manual_seed(0)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(10, 10)

    def forward(self, x):
        return self.linear(x)


model = Model()
x = torch.randn(10)

torch._dynamo.config.compiled_autograd = True


@torch.compile
def train(model, x):
    loss = model(x).sum()
    loss.backward()


torch._logging.set_logs(compiled_autograd=True)  # TORCH_LOGS="compiled_autograd"
train(model, x)
torch._logging.set_logs()
assert torch.allclose(model.linear.bias.grad, torch.ones(10))
assert torch.allclose(model.linear.weight.grad, x.expand(10, 10))
print("CHECK basic_bias_grad_sum", model.linear.bias.grad.sum().item())


def train(model, x):
    model = torch.compile(model)
    loss = model(x).sum()
    with torch._dynamo.compiled_autograd._enable(torch.compile(fullgraph=True)):
        loss.backward()


model.zero_grad()
train(model, x)
assert torch.allclose(model.linear.bias.grad, torch.ones(10))


@torch.compile(backend="aot_eager")
def fn(x):
    return x.sum()


x = torch.randn(10, 10, requires_grad=True)
x.register_hook(lambda grad: grad + 10)
loss = fn(x)

with torch._dynamo.compiled_autograd._enable(torch.compile(backend="aot_eager")):
    loss.backward()

assert torch.allclose(x.grad, torch.full((10, 10), 11.0))
print("CHECK hook_grad_sum", x.grad.sum().item())

# Common recompilation reasons: a change in the autograd graph's structure...
graphs = []


def count_graphs(graph_module):  # (added: a compiler function that counts its graphs)
    graphs.append(graph_module)
    return graph_module


x = torch.linspace(-1, 1, 10, requires_grad=True)  # (the tutorial: torch.randn(10, ...))
for op in [torch.add, torch.sub, torch.mul, torch.div]:
    loss = op(x, x).sum()
    with torch._dynamo.compiled_autograd._enable(count_graphs):
        loss.backward()
assert len(graphs) == 4  # one graph per new autograd structure
print("CHECK structure_grad_sum", x.grad.sum().item())

loss = torch.mul(x, x).sum()
seen = len(graphs)
with torch._dynamo.compiled_autograd._enable(count_graphs):
    loss.backward()  # the same structure again
assert len(graphs) == seen  # reused: nothing captured

# ... and new shapes
for i in [10, 100, 10]:
    x = torch.ones(i, i, requires_grad=True)  # (the tutorial: torch.randn(i, i, ...))
    loss = x.sum()
    with torch._dynamo.compiled_autograd._enable(count_graphs):
        loss.backward()
    print(f"CHECK shape_{i}_grad_sum", x.grad.sum().item())

# -- checks (added for the tests) --
assert torch.equal(x.grad, torch.ones(10, 10))
