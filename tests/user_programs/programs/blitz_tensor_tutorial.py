# Adapted from pytorch/tutorials, beginner_source/blitz/tensor_tutorial.py ("What is PyTorch?").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose and the __future__ import
# are left out; the CUDA cell runs on the meta device where there is no GPU; assertions and
# CHECK lines at the end.
import autodiff as torch

torch.manual_seed(0)

x = torch.empty(5, 3)
print(x)
assert x.shape == (5, 3) and x.dtype == torch.float32

x = torch.rand(5, 3)
print(x)
assert ((x >= 0) & (x < 1)).all()

x = torch.zeros(5, 3, dtype=torch.long)
print(x)
assert x.dtype == torch.int64 and x.sum() == 0

x = torch.tensor([5.5, 3])
print(x)
assert repr(x) == "tensor([5.5000, 3.0000])"

x = x.new_ones(5, 3, dtype=torch.double)      # new_* methods take in sizes
print(x)
assert x.dtype == torch.float64 and x.shape == (5, 3)

x = torch.randn_like(x, dtype=torch.float)    # override dtype!
print(x)                                      # result has the same size
assert x.dtype == torch.float32

print(x.size())
assert x.size() == (5, 3) and isinstance(x.size(), tuple) and x.size()[1:] == (3,)
assert repr(x.size()) == "torch.Size([5, 3])"

# Addition: syntax 1
y = torch.rand(5, 3)
print(x + y)

# Addition: syntax 2
print(torch.add(x, y))
assert torch.equal(x + y, torch.add(x, y))

# Addition: providing an output tensor as argument
result = torch.empty(5, 3)
returned = torch.add(x, y, out=result)
print(result)
assert returned is result and torch.equal(result, x + y)

# adds x to y
before = y.clone()
y.add_(x)
print(y)
assert torch.equal(y, before + x)

print(x[:, 1])
assert x[:, 1].shape == (5,)

x = torch.randn(4, 4)
y = x.view(16)
z = x.view(-1, 8)  # the size -1 is inferred from other dimensions
print(x.size(), y.size(), z.size())
assert (x.size(), y.size(), z.size()) == ((4, 4), (16,), (2, 8))
x[0, 0] = 100.0
assert y[0] == 100.0 and z[0, 0] == 100.0  # views share the data

x = torch.randn(1)
print(x)
print(x.item())
assert isinstance(x.item(), float)

# ---- NumPy Bridge ----
a = torch.ones(5)
print(a)

b = a.numpy()
print(b)

a.add_(1)
print(a)
print(b)
assert b.tolist() == [2.0] * 5  # the array shares the tensor's memory

import numpy as np  # (where the tutorial imports it)

a = np.ones(5)
b = torch.from_numpy(a)
np.add(a, 1, out=a)
print(a)
print(b)
assert b.dtype == torch.float64 and b.tolist() == [2.0] * 5
assert repr(b) == "tensor([2., 2., 2., 2., 2.], dtype=torch.float64)"

# ---- CUDA Tensors (the meta device where there is no GPU) ----
device = torch.device("cuda" if torch.cuda.is_available() else "meta")
y = torch.ones_like(x, device=device)  # directly create a tensor on GPU
x = x.to(device)                       # or just use strings ``.to("cuda")``
z = x + y
print(z.shape, z.device)
assert z.device.type == device.type
moved = z.to("cpu", torch.double) if device.type == "cuda" else z.to(torch.double)
assert moved.dtype == torch.float64

print("CHECK new_ones_sum", float(torch.tensor([5.5, 3]).new_ones(5, 3).sum()))
print("CHECK numpy_bridge", float(b.sum()))
