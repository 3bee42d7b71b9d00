# Adapted from pytorch/tutorials, intermediate_source/autograd_saved_tensors_hooks_tutorial.py
# ("Hooks for autograd saved tensors").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; `import os` moved to the top (the
# tutorial uses it before importing it); the size-threshold pack_hook saves `x` (the tutorial's
# `tensor` is a name it never defines) and SaveToDisk is run once; prints of whole tensors
# dropped; assertions and CHECK lines at the end of each part.
import os
import tempfile
import uuid

import autodiff as torch
import autodiff.nn as nn

torch.manual_seed(0)

# Saved tensors
a = torch.randn(5, requires_grad=True)
b = torch.ones(5, requires_grad=True)
y = a * b

print(y.grad_fn._saved_self)
print(y.grad_fn._saved_other)


def f(x):
    return x * x


x = torch.randn(5, requires_grad=True)
y = f(f(f(x)))

# The concept of packing / unpacking
a = torch.randn(5, requires_grad=True)
b = torch.ones(5, requires_grad=True)
y = a * b

print(y.grad_fn._saved_self is a)   # True
print(y.grad_fn._saved_other is b)  # True
assert y.grad_fn._saved_self is a and y.grad_fn._saved_other is b

a = torch.randn(5, requires_grad=True)
y = torch.exp(a)
print(y.grad_fn._saved_result.equal(y))  # True
print(y.grad_fn._saved_result is y)      # False
assert y.grad_fn._saved_result.equal(y) and y.grad_fn._saved_result is not y

# Saved tensors hooks
calls = []


def pack_hook(x):
    print("Packing", x)
    calls.append("pack")
    return x


def unpack_hook(x):
    print("Unpacking", x)
    calls.append("unpack")
    return x


a = torch.ones(5, requires_grad=True)
b = torch.ones(5, requires_grad=True) * 2

with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = a * b

y.sum().backward()
assert calls == ["pack", "pack", "unpack", "unpack"], calls
print("CHECK a_grad_sum", a.grad.sum().item())

x = torch.randn(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(lambda x: x * 4, lambda x: x / 4):
    y = torch.pow(x, 2)
y.sum().backward()
assert(x.grad.equal(2 * x))

# Returning an int
storage = []


def pack(x):
    storage.append(x)
    return len(storage) - 1


def unpack(x):
    return storage[x]


x = torch.randn(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
    y = x * x
y.sum().backward()

assert(x.grad.equal(2 * x))
assert len(storage) == 2


# Returning a tuple
def pack(x):
    delta = torch.randn(*x.size())
    return x - delta, lambda x: x + delta


def unpack(packed):
    x, f = packed
    return f(x)


x = torch.randn(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
    y = x * x
y.sum().backward()

assert(torch.allclose(x.grad, 2 * x))

# Returning a str
x = torch.randn(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(lambda x: repr(x), lambda x: eval("torch." + x)):
    y = x * x
y.sum().backward()
assert(torch.all(x.grad - 2 * x <= 1e-4))


# Saving tensors to CPU
def pack_hook(x):
    return (x.device, x.cpu())


def unpack_hook(packed):
    device, tensor = packed
    return tensor.to(device)


x = torch.randn(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
    y = x * x
y.sum().backward()

assert torch.allclose(x.grad, (2 * x))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(5))

    def forward(self, x):
        with torch.autograd.graph.save_on_cpu(pin_memory=True):
            # some computation
            return self.w * x


x = torch.randn(5)
model = Model()
loss = model(x).sum()
loss.backward()
assert torch.equal(model.w.grad, x)


class SaveToCpu(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        with torch.autograd.graph.save_on_cpu(pin_memory=True):
            return self.module(*args, **kwargs)


model = nn.Sequential(
    nn.Linear(10, 100),
    SaveToCpu(nn.Linear(100, 100)),
    nn.Linear(100, 10),
)

x = torch.randn(10)
loss = model(x).sum()
loss.backward()
assert all(p.grad is not None for p in model.parameters())

# Saving tensors to disk
tmp_dir_obj = tempfile.TemporaryDirectory()
tmp_dir = tmp_dir_obj.name


def pack_hook(tensor):
    name = os.path.join(tmp_dir, str(uuid.uuid4()))
    torch.save(tensor, name)
    return name


def unpack_hook(name):
    tensor = torch.load(name)
    os.remove(name)
    return tensor


x = torch.ones(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = x.pow(2)
print(y.grad_fn._saved_self)
try:
    print(y.grad_fn._saved_self)
    print("Double access succeeded!")
    double_access = True
except:  # noqa: E722 (the tutorial's own bare except)
    print("Double access failed!")
    double_access = False
assert not double_access


class SelfDeletingTempFile():
    def __init__(self):
        self.name = os.path.join(tmp_dir, str(uuid.uuid4()))

    def __del__(self):
        os.remove(self.name)


def pack_hook(tensor):
    temp_file = SelfDeletingTempFile()
    torch.save(tensor, temp_file.name)
    return temp_file


def unpack_hook(temp_file):
    return torch.load(temp_file.name)


x = torch.ones(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = x.pow(2)
print(y.grad_fn._saved_self)
print(y.grad_fn._saved_self)  # the file stays while the graph holds it
assert len(os.listdir(tmp_dir)) == 1
y.sum().backward()
assert len(os.listdir(tmp_dir)) == 0  # backward freed the saved tensor, and with it the file
assert torch.equal(x.grad, 2 * x)

# Only save on disk tensors that have size >= 1000
SAVE_ON_DISK_THRESHOLD = 1000


def pack_hook(x):
    if x.numel() < SAVE_ON_DISK_THRESHOLD:
        return x
    temp_file = SelfDeletingTempFile()
    torch.save(x, temp_file.name)
    return temp_file


def unpack_hook(tensor_or_sctf):
    if isinstance(tensor_or_sctf, torch.Tensor):
        return tensor_or_sctf
    return torch.load(tensor_or_sctf.name)


class SaveToDisk(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
            return self.module(*args, **kwargs)


net = nn.DataParallel(SaveToDisk(Model()))

big = SaveToDisk(nn.Linear(2000, 3))
inp = torch.ones(2, 2000)
out = big(inp)
assert len(os.listdir(tmp_dir)) >= 1  # the 2x2000 input went to disk
out.sum().backward()
assert len(os.listdir(tmp_dir)) == 0
assert torch.equal(big.module.weight.grad, torch.full((3, 2000), 2.0))
out = net(torch.ones(5))
out.sum().backward()
print("CHECK weight_grad_sum", big.module.weight.grad.sum().item())
tmp_dir_obj.cleanup()
