# Adapted from pytorch/tutorials, beginner_source/basics/autogradqs_tutorial.py ("Automatic
# Differentiation with torch.autograd").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; assertions and CHECK lines at the end.
import autodiff as torch

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")

loss.backward()
print(w.grad)
print(b.grad)

z = torch.matmul(x, w) + b
print(z.requires_grad)

with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
no_grad_requires_grad = z.requires_grad

z = torch.matmul(x, w) + b
z_det = z.detach()
print(z_det.requires_grad)

# Optional Reading: Tensor Gradients and Jacobian Products
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
first = inp.grad.clone()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
second = inp.grad.clone()
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")

# -- checks (added for the tests) --
assert z.grad_fn.name() == "AddBackward0"
assert loss.grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"
assert w.grad.shape == (5, 3) and b.grad.shape == (3,)
# The gradient of the mean BCE-with-logits loss: (sigmoid(z) - y) / 3 per output, times x = 1.
expected = (torch.sigmoid(torch.matmul(x, w) + b) - y) / 3
assert torch.allclose(b.grad, expected) and torch.allclose(w.grad, expected.expand(5, 3))
assert not no_grad_requires_grad and not z_det.requires_grad
assert torch.equal(second, 2 * first) and torch.equal(inp.grad, first)
print("CHECK first_sum", first.sum().item())
print("CHECK first_00", first[0, 0].item())
