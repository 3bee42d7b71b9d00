# Adapted from pytorch/tutorials, prototype_source/maskedtensor_overview.py ("(Prototype)
# MaskedTensor Overview").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the two randn tensors are fixed values
# so the numbers are PyTorch's; the bare expressions the notebook shows are printed; assertions
# and CHECK lines after each part.
import math
import warnings

import autodiff as torch
from autodiff.masked import as_masked_tensor, masked_tensor

# Disable prototype warnings and such
warnings.filterwarnings(action='ignore', category=UserWarning)

# Indexing and slicing
data = torch.arange(24).reshape(2, 3, 4)
mask = data % 2 == 0

print("data:\n", data)
print("mask:\n", mask)

# float is used for cleaner visualization when being printed
mt = masked_tensor(data.float(), mask)

print("mt[0]:\n", mt[0])
print("mt[:, :, 2:4]:\n", mt[:, :, 2:4])
assert mt[0].get_mask().tolist() == mask[0].tolist()
assert mt[:, :, 2:4].get_data().tolist() == data[:, :, 2:4].float().tolist()
assert repr(mt[1, 2]) == ("MaskedTensor(\n  [ 20.0000,       --,  22.0000,       --]\n)")

# Distinguishing between 0 and NaN gradient: torch.where
x = torch.tensor([-10., -5, 0, 5, 10, 50, 60, 70, 80, 90, 100], requires_grad=True,
                 dtype=torch.float)
y = torch.where(x < 0, torch.exp(x), torch.ones_like(x))
y.sum().backward()
print(x.grad)
assert math.isnan(x.grad[-1].item())  # exp(100) overflows: inf * 0 = nan, the point

x = torch.tensor([-10., -5, 0, 5, 10, 50, 60, 70, 80, 90, 100])
mask = x < 0
mx = masked_tensor(x, mask, requires_grad=True)
my = masked_tensor(torch.ones_like(x), ~mask, requires_grad=True)
y = torch.where(mask, torch.exp(mx), my)
y.sum().backward()
print(mx.grad)
assert mx.grad.get_mask().tolist() == mask.tolist()
print("CHECK where_grad_0", mx.grad.get_data()[0].item())
print("CHECK where_grad_1", mx.grad.get_data()[1].item())
print("CHECK where_my_grad_10", my.grad.get_data()[10].item())

# Another torch.where
a = torch.tensor(0.3367, requires_grad=True)
b = torch.tensor(False)
c = torch.ones(())
print("torch.where(b, a/0, c):\n", torch.where(b, a/0, c))
print("torch.autograd.grad(torch.where(b, a/0, c), a):\n",
      torch.autograd.grad(torch.where(b, a/0, c), a))
assert math.isnan(torch.autograd.grad(torch.where(b, a/0, c), a)[0].item())

a = masked_tensor(torch.tensor(0.3367), torch.tensor(True), requires_grad=True)
b = torch.tensor(False)
c = torch.ones(())
print("torch.where(b, a/0, c):\n", torch.where(b, a/0, c))
grad_a, = torch.autograd.grad(torch.where(b, a/0, c), a)
print("torch.autograd.grad(torch.where(b, a/0, c), a):\n", grad_a)
assert repr(torch.where(b, a/0, c)) == "MaskedTensor(  1.0000, True)"
assert repr(grad_a) == "MaskedTensor(--, False)"

# When using mask, x/0 yields NaN grad
x = torch.tensor([1., 1.], requires_grad=True)
div = torch.tensor([0., 1.])
y = x/div  # => y is [inf, 1]
mask = (div != 0)  # => mask is [0, 1]
y[mask].backward()
print(x.grad)
assert math.isnan(x.grad[0].item())

x = torch.tensor([1., 1.], requires_grad=True)
div = torch.tensor([0., 1.])
y = x/div  # => y is [inf, 1]
mask = (div != 0)  # => mask is [0, 1]
loss = as_masked_tensor(y, mask)
loss.sum().backward()
print(x.grad)
assert repr(x.grad) == "MaskedTensor(\n  [      --,   1.0000]\n)"
print("CHECK div_grad_1", x.grad.get_data()[1].item())

# torch.nansum and torch.nanmean
a = torch.tensor([1., 2., float('nan')])
b = torch.tensor(1.0, requires_grad=True)
c = a * b
c1 = torch.nansum(c)
bgrad1, = torch.autograd.grad(c1, b, retain_graph=True)
print(bgrad1)
assert math.isnan(bgrad1.item())

a = torch.tensor([1., 2., float('nan')])
b = torch.tensor(1.0, requires_grad=True)
mt = masked_tensor(a, ~torch.isnan(a))
c = mt * b
c1 = torch.sum(c)
bgrad1, = torch.autograd.grad(c1, b, retain_graph=True)
print(bgrad1)
print("CHECK nansum_grad", float(bgrad1))

# Safe Softmax
data = torch.tensor([[-0.6, 1.2, 0.3], [2.0, -1.1, 0.5], [0.7, 0.1, -0.4]])
mask = torch.tensor([[True, False, False], [True, False, True], [False, False, False]])
x = data.masked_fill(~mask, float('-inf'))
mt = masked_tensor(data, mask)
print("x:\n", x)
print("mt:\n", mt)

print(x.softmax(0))
safe = mt.softmax(0)
print(safe)
assert safe.get_mask().tolist() == mask.tolist()
print("CHECK softmax_00", safe.get_data()[0, 0].item())
print("CHECK softmax_12", safe.get_data()[1, 2].item())

# Implementing missing torch.nan* operators
x = torch.arange(16).float()
y = x * x.fmod(4)
z = y.masked_fill(y == 0, float('nan'))  # we want to get the mean of y when ignoring the zeros

print("y:\n", y)
# z is just y with the zeros replaced with nan's
print("z:\n", z)

print("y.mean():\n", y.mean())
print("z.nanmean():\n", z.nanmean())
# MaskedTensor successfully ignores the 0's
masked_mean = torch.mean(masked_tensor(y, y != 0))
print("torch.mean(masked_tensor(y, y != 0)):\n", masked_mean)
assert masked_mean.get_data().item() == z.nanmean().item()
print("CHECK masked_mean", masked_mean.get_data().item())

print(torch.argmin(masked_tensor(y, y != 0)))
print("CHECK masked_argmin", torch.argmin(masked_tensor(y, y != 0)).get_data().item())

x = torch.empty(16).fill_(float('nan'))
print("x:\n", x)
print("torch.nanmean(x):\n", torch.nanmean(x))
fully_masked = torch.mean(masked_tensor(x, ~torch.isnan(x)))
print("torch.nanmean via maskedtensor:\n", fully_masked)
assert repr(fully_masked) == "MaskedTensor(--, False)"
