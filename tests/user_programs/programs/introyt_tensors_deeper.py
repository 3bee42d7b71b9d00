# Adapted from pytorch/tutorials, beginner_source/introyt/tensors_deeper_tutorial.py
# ("Introduction to PyTorch Tensors").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; assertions and CHECK lines at the end.
import math

import numpy as np

import autodiff as torch

# Creating Tensors
x = torch.empty(3, 4)
print(type(x))

zeros = torch.zeros(2, 3)
ones = torch.ones(2, 3)
torch.manual_seed(1729)
random = torch.rand(2, 3)
print(random)

# Random Tensors and Seeding
torch.manual_seed(1729)
random1 = torch.rand(2, 3)
random2 = torch.rand(2, 3)
torch.manual_seed(1729)
random3 = torch.rand(2, 3)
random4 = torch.rand(2, 3)
assert torch.equal(random1, random3) and torch.equal(random2, random4)

# Tensor Shapes
x = torch.empty(2, 2, 3)
empty_like_x = torch.empty_like(x)
zeros_like_x = torch.zeros_like(x)
ones_like_x = torch.ones_like(x)
rand_like_x = torch.rand_like(x)
print(rand_like_x.shape)

some_constants = torch.tensor([[3.1415926, 2.71828], [1.61803, 0.0072897]])
some_integers = torch.tensor((2, 3, 5, 7, 11, 13, 17, 19))
more_integers = torch.tensor(((2, 4, 6), [3, 6, 9]))
print(some_constants, some_integers, more_integers)

# Tensor Data Types
a = torch.ones((2, 3), dtype=torch.int16)
print(a)
b = torch.rand((2, 3), dtype=torch.float64) * 20.
c = b.to(torch.int32)
print(c)

# Math & Logic with PyTorch Tensors
ones = torch.zeros(2, 2) + 1
twos = torch.ones(2, 2) * 2
threes = (torch.ones(2, 2) * 7 - 1) / 2
fours = twos ** 2
sqrt2s = twos ** 0.5

powers2 = twos ** torch.tensor([[1, 2], [3, 4]])
fives = ones + fours
dozens = threes * fours
print(powers2, fives, dozens)

# Broadcasting
rand = torch.rand(2, 4)
doubled = rand * (torch.ones(1, 4) * 2)

a = torch.ones(4, 3, 2)
b = a * torch.rand(3, 2)
c = a * torch.rand(3, 1)
d = a * torch.rand(1, 2)

# More Math with Tensors
a = torch.rand(2, 4) * 2 - 1
print('Common functions:')
print(torch.abs(a))
print(torch.ceil(a))
print(torch.floor(a))
print(torch.clamp(a, -0.5, 0.5))

angles = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
sines = torch.sin(angles)
inverses = torch.asin(sines)
print(angles, sines, inverses)

b = torch.tensor([1, 5, 11])
c = torch.tensor([2, 7, 10])
xor = torch.bitwise_xor(b, c)
print(xor)

d = torch.tensor([[1., 2.], [3., 4.]])
e = torch.ones(1, 2)
print(torch.eq(d, e))

print(torch.max(d))
print(torch.max(d).item())
print(torch.mean(d))
print(torch.std(d))
print(torch.prod(d))
unique = torch.unique(torch.tensor([1, 2, 1, 2, 1, 2]))
print(unique)

v1 = torch.tensor([1., 0., 0.])
v2 = torch.tensor([0., 1., 0.])
m1 = torch.rand(2, 2)
m2 = torch.tensor([[3., 0.], [0., 3.]])
cross = torch.cross(v2, v1)  # negative of z unit vector (v1 x v2 == -v2 x v1)
print(cross)
m3 = torch.matmul(m1, m2)
print(m3)
U, S, V = torch.svd(m3)
print(U, S, V)

# Altering Tensors in Place
a = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
print(torch.sin(a))
b = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
print(torch.sin_(b))
assert torch.equal(b, torch.sin(a))

a = torch.ones(2, 2)
b = torch.rand(2, 2)
print(a.add_(b))
print(b.mul_(b))

a = torch.rand(2, 2)
b = torch.rand(2, 2)
c = torch.zeros(2, 2)
old_id = id(c)
d = torch.matmul(a, b, out=c)
assert c is d
assert id(c) == old_id
torch.rand(2, 2, out=c)
assert id(c) == old_id

# Copying Tensors
a = torch.ones(2, 2)
b = a
a[0][1] = 561
assert b[0][1] == 561

a = torch.ones(2, 2)
b = a.clone()
assert b is not a
a[0][1] = 561
assert b[0][1] == 1

a = torch.rand(2, 2, requires_grad=True)
b = a.clone()
c = a.detach().clone()
print(a, b, c)
assert b.requires_grad and b.grad_fn is not None and not c.requires_grad

# Moving to GPU
if torch.cuda.is_available():
    my_device = torch.device('cuda')
else:
    my_device = torch.device('cpu')
print('Device: {}'.format(my_device))
x = torch.rand(2, 2, device=my_device)
y = torch.rand(2, 2)
y = y.to(my_device)

# Manipulating Tensor Shapes
a = torch.rand(3, 226, 226)
b = a.unsqueeze(0)
assert b.shape == (1, 3, 226, 226)

a = torch.rand(1, 20)
b = a.squeeze(0)
c = torch.rand(2, 2)
d = c.squeeze(0)
assert b.shape == (20,) and d.shape == (2, 2)

a = torch.ones(4, 3, 2)
b = torch.rand(3)
c = b.unsqueeze(1)
assert (a * c).shape == (4, 3, 2)

batch_me = torch.rand(3, 226, 226)
batch_me.unsqueeze_(0)
assert batch_me.shape == (1, 3, 226, 226)

output3d = torch.rand(6, 20, 20)
input1d = output3d.reshape(6 * 20 * 20)
assert input1d.shape == (2400,)
assert torch.reshape(output3d, (6 * 20 * 20,)).shape == (2400,)

# NumPy Bridge
numpy_array = np.ones((2, 3))
pytorch_tensor = torch.from_numpy(numpy_array)
pytorch_rand = torch.rand(2, 3)
numpy_rand = pytorch_rand.numpy()
numpy_array[1, 1] = 23
assert pytorch_tensor[1, 1] == 23
pytorch_rand[1, 1] = 17
assert numpy_rand[1, 1] == 17

# -- checks (added for the tests) --
assert a.dtype == torch.float32 and powers2.dtype == torch.float32
assert c.dtype == torch.float32 and xor.tolist() == [3, 2, 1] and unique.tolist() == [1, 2]
assert cross.tolist() == [0.0, 0.0, -1.0]
assert torch.allclose(U @ torch.diag(S) @ V.T, m3, atol=1e-6)
print("CHECK powers2", powers2.sum().item())
print("CHECK dozens", dozens.sum().item())
# the tensor whose std the tutorial prints (d is reassigned to random values later)
print("CHECK std", torch.std(torch.tensor([[1., 2.], [3., 4.]])).item())
print("CHECK sines", sines.sum().item())
print("CHECK inverses", inverses.sum().item())
