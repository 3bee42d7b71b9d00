# Adapted from pytorch/tutorials, intermediate_source/torch_compile_tutorial.py
# ("torch.compile Tutorial").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; on the CPU; a small convolutional
# network on 16x16 images instead of torchvision's densenet121; 3 iterations, no timing (the
# eager and compiled results compared instead); the TorchScript and FX comparisons and the FX
# custom backend left out (torch.jit, torch.fx); a seed; assertions at the end.
import warnings

import numpy as np
import scipy

import autodiff as torch

torch.manual_seed(0)

gpu_ok = False
if torch.cuda.is_available():
    device = torch.cuda.get_device_name()
    if "V100" in device or "A100" in device:
        gpu_ok = True

if not gpu_ok:
    warnings.warn(  # noqa: B028
        "GPU is not NVIDIA V100 or A100. Speedup numbers may be lower than "
        "expected."
    )


def foo(x, y):
    a = torch.sin(x)
    b = torch.cos(x)
    return a + b


opt_foo1 = torch.compile(foo)
x, y = torch.randn(10, 10), torch.randn(10, 10)
print(opt_foo1(x, y))
assert torch.allclose(opt_foo1(x, y), foo(x, y))


@torch.compile
def opt_foo2(x, y):
    a = torch.sin(x)
    b = torch.cos(x)
    return a + b


print(opt_foo2(torch.randn(10, 10), torch.randn(10, 10)))
assert torch.allclose(opt_foo2(x, y), foo(x, y))


class MyModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(100, 10)

    def forward(self, x):
        return torch.nn.functional.relu(self.lin(x))


mod = MyModule()
opt_mod = torch.compile(mod)
inp = torch.randn(10, 100)
print(opt_mod(inp))
assert torch.allclose(opt_mod(inp), mod(inp))


# Generates random input and targets data for the model, where `b` is
# batch size.
def generate_data(b):
    return (
        torch.randn(b, 3, 16, 16).to(torch.float32),
        torch.randint(10, (b,)),
    )


N_ITERS = 3


def init_model():
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(8 * 8 * 8, 10),
    ).to(torch.float32)


def evaluate(mod, inp):
    return mod(inp)


model = init_model()

# Reset since we are using a different mode.
import autodiff._dynamo

torch._dynamo.reset()

evaluate_opt = torch.compile(evaluate, mode="reduce-overhead")

inp = generate_data(16)[0]
for i in range(N_ITERS):
    inp = generate_data(16)[0]
    torch.testing.assert_close(evaluate_opt(model, inp), evaluate(model, inp))

model = init_model()
opt = torch.optim.Adam(model.parameters())


def train(mod, data):
    opt.zero_grad(True)
    pred = mod(data[0])
    loss = torch.nn.CrossEntropyLoss()(pred, data[1])
    loss.backward()
    opt.step()


batches = [generate_data(16) for _ in range(N_ITERS)]
for data in batches:
    train(model, data)
eager_weights = [p.detach().clone() for p in model.parameters()]

model = init_model()
opt = torch.optim.Adam(model.parameters())
train_opt = torch.compile(train, mode="reduce-overhead")
for data in batches:
    train_opt(model, data)
# (PyTorch's inductor reorders float operations: Adam's first steps, about lr each, then
# differ by a fraction of a step where a gradient is near zero.)
for eager, compiled in zip(eager_weights, model.parameters()):
    torch.testing.assert_close(compiled, eager, rtol=0, atol=3e-3)


def f1(x, y):
    if x.sum() < 0:
        return -y
    return y


# Test that `fn1` and `fn2` return the same result, given
# the same arguments `args`. Typically, `fn1` will be an eager function
# while `fn2` will be a compiled function (torch.compile, TorchScript, or FX graph).
def test_fns(fn1, fn2, args):
    out1 = fn1(*args)
    out2 = fn2(*args)
    return torch.allclose(out1, out2)


inp1 = torch.randn(5, 5)
inp2 = torch.randn(5, 5)

# Reset since we are using a different mode.
torch._dynamo.reset()

compile_f1 = torch.compile(f1)
print("compile 1, 1:", test_fns(f1, compile_f1, (inp1, inp2)))
print("compile 1, 2:", test_fns(f1, compile_f1, (-inp1, inp2)))
print("~" * 10)
assert test_fns(f1, compile_f1, (inp1, inp2)) and test_fns(f1, compile_f1, (-inp1, inp2))


def f2(x, y):
    return x + y


inp1 = torch.randn(5, 5)
inp2 = 3

compile_f2 = torch.compile(f2)
print("compile 2:", test_fns(f2, compile_f2, (inp1, inp2)))
print("~" * 10)
assert test_fns(f2, compile_f2, (inp1, inp2))


def f3(x):
    x = x * 2
    x = scipy.fft.dct(x.numpy())
    x = torch.from_numpy(x)
    x = x * 2
    return x


inp2 = torch.randn(5, 5)
compile_f3 = torch.compile(f3)
print("compile 3:", test_fns(f3, compile_f3, (inp2,)))
assert test_fns(f3, compile_f3, (inp2,))
assert torch.allclose(compile_f3(inp2), torch.from_numpy(scipy.fft.dct(inp2.numpy() * 2) * 2))


def bar(a, b):
    x = a / (torch.abs(a) + 1)
    if b.sum() < 0:
        b = b * -1
    return x * b


opt_bar = torch.compile(bar)
inp1 = torch.randn(10)
inp2 = torch.randn(10)
assert torch.allclose(opt_bar(inp1, inp2), bar(inp1, inp2))
assert torch.allclose(opt_bar(inp1, -inp2), bar(inp1, -inp2))

# -- checks (added for the tests) --
# torch._dynamo.reset() empties the caches: the next call compiles afresh.
torch._dynamo.reset()
assert torch.allclose(opt_bar(inp1, inp2), bar(inp1, inp2))
print(np.round(compile_f3(torch.ones(2, 2)).numpy(), 4).tolist())
