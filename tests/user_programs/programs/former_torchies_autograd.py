# Adapted from pytorch/tutorials, beginner_source/former_torchies/autograd_tutorial.py
# ("Autograd", for former Torch users).
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a seed;
# `a.to(requires_grad=True)`, which PyTorch now refuses with a TypeError, is tried and then done
# with `a.requires_grad_()`; the random gradient is a fixed one; assertions and CHECK lines at
# the end.
import autodiff as torch

torch.manual_seed(0)
x = torch.ones(2, 2, requires_grad=True)
print(x)

print(x.data)

print(x.grad)

print(x.grad_fn)  # we've created x ourselves

y = x + 2
print(y)

print(y.grad_fn)

z = y * y * 3
out = z.mean()

print(z, out)

a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
try:
    a = a.to(requires_grad=True)
    refused = ""
except TypeError as error:
    refused = str(error)
    a = a.requires_grad_()
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)

out.backward()
print(x.grad)
first_grad = x.grad.clone()

x = torch.ones(2, 2, requires_grad=True)
y = x + 2
y.backward(torch.ones(2, 2), retain_graph=True)
# the retain_variables flag will prevent the internal buffers from being freed
print(x.grad)

z = y * y
print(z)

gradient = torch.tensor([[0.5, -1.0], [2.0, 0.25]])

# this would fail if we didn't specify
# that we want to retain variables
y.backward(gradient)

print(x.grad)

print(x.requires_grad)
print((x ** 2).requires_grad)

with torch.no_grad():
    print((x ** 2).requires_grad)

# Checks: d(mean(3 (x + 2)^2))/dx = 4.5 at ones; two backwards accumulate.
assert refused.startswith("to() received an invalid combination of arguments - got "
                          "(requires_grad=bool, ), but expected one of:"), refused
assert a.requires_grad and type(b.grad_fn).__name__ == "SumBackward0"
assert type(y.grad_fn).__name__ == "AddBackward0"
assert torch.equal(first_grad, torch.full((2, 2), 4.5))
assert torch.equal(x.grad, torch.ones(2, 2) + gradient)
print("CHECK first_grad", first_grad.sum().item())
print("CHECK accumulated", x.grad.sum().item())
print("CHECK out", out.item())
