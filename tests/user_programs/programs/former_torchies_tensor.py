# Adapted from pytorch/tutorials, beginner_source/former_torchies/tensor_tutorial.py
# ("Tensors", for former Torch users).
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a seed;
# assertions and CHECK lines at the end.
import numpy as np

import autodiff as torch

torch.manual_seed(0)
a = torch.empty(5, 7, dtype=torch.float)

a = torch.randn(5, 7, dtype=torch.double)
print(a)
print(a.size())

a.fill_(3.5)
# a has now been filled with the value 3.5

b = a.add(4.0)
# a is still filled with 3.5
# new tensor b is returned with values 3.5 + 4.0 = 7.5

print(a, b)
filled, added = a.clone(), b

b = a[0, 3]  # select 1st row, 4th column from a
selected = b

b = a[:, 3:5]  # selects all rows, 4th column and  5th column from a
sliced = b

x = torch.ones(5, 5)
print(x)

z = torch.empty(5, 2)
z[:, 0] = 10
z[:, 1] = 100
print(z)

x.index_add_(1, torch.tensor([4, 0], dtype=torch.long), z)
print(x)

# Numpy Bridge
a = torch.ones(5)
print(a)

b = a.numpy()
print(b)

a.add_(1)
print(a)
print(b) 	# see how the numpy array changed in value
shared_to_numpy = b.copy()

a = np.ones(5)
b = torch.from_numpy(a)
np.add(a, 1, out=a)
print(a)
print(b)  # see how changing the np array changed the torch Tensor automatically

if torch.cuda.is_available():
    a = torch.full((10,), 3, device=torch.device("cuda"))
    print(type(a))
    b = a.to(torch.device("cpu"))

# Checks: values, dtypes and the shared memory of the NumPy bridge.
assert filled.dtype == torch.float64 and torch.all(filled == 3.5) and torch.all(added == 7.5)
assert selected.dim() == 0 and sliced.shape == (5, 2) and isinstance(a, np.ndarray)
assert isinstance(torch.randn(2).size(), tuple)
assert (shared_to_numpy == 2).all() and b.dtype == torch.float64 and bool((b == 2).all())
assert torch.equal(x[:, 0], torch.full((5,), 101.0))
assert torch.equal(x[:, 4], torch.full((5,), 11.0))
print("CHECK index_add_sum", x.sum().item())
print("CHECK bridge_sum", b.sum().item())
