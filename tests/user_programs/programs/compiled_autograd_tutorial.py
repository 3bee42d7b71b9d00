# Adapted from pytorch/tutorials, intermediate_source/compiled_autograd_tutorial.py ("Compiled
# Autograd: Capturing a larger backward graph for torch.compile").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the basic usage, the context
# manager (PyTorch now spells it compiled_autograd._enable) and the backward-hook example; the
# printed logs and dynamo's counters left out; a seed; gradients checked; assertions at the end.
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


train(model, x)
assert torch.allclose(model.linear.bias.grad, torch.ones(10))
assert torch.allclose(model.linear.weight.grad, x.expand(10, 10))


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

# -- checks (added for the tests) --
assert torch.allclose(x.grad, torch.full((10, 10), 11.0))
