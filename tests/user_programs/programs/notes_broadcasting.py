# Adapted from pytorch/pytorch, docs/source/notes/broadcasting.md ("Broadcasting semantics"), with
# a few float32/float64 checks in the spirit of docs/source/notes/numerical_accuracy.md.
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; the notes' doctests as assertions,
# errors caught and their messages checked; the backward-compatibility warning left out
# (torch.utils.backcompat is a deprecated switch); gradients through broadcasts added (each
# input's gradient summed back to its own shape); CHECK lines at the end.
import autodiff as torch

# ---- General semantics ----
x = torch.empty(5, 7, 3)
y = torch.empty(5, 7, 3)
assert (x + y).size() == (5, 7, 3)

x = torch.empty((0,))
y = torch.empty(2, 2)
try:
    x + y
except RuntimeError as error:
    print(error)
    assert str(error) == ("The size of tensor a (0) must match the size of tensor b (2) at "
                          "non-singleton dimension 1"), str(error)
else:
    raise AssertionError("a 0-sized dim broadcast against 2")

x = torch.empty(5, 3, 4, 1)
y = torch.empty(3, 1, 1)
assert (x + y).size() == torch.Size([5, 3, 4, 1])

x = torch.empty(5, 1, 4, 1)
y = torch.empty(3, 1, 1)
print((x + y).size())
assert (x + y).size() == torch.Size([5, 3, 4, 1])

x = torch.empty(1)
y = torch.empty(3, 1, 7)
assert (x + y).size() == torch.Size([3, 1, 7])

x = torch.empty(5, 2, 4, 1)
y = torch.empty(3, 1, 1)
try:
    (x + y).size()
except RuntimeError as error:
    print(error)
    assert str(error) == ("The size of tensor a (2) must match the size of tensor b (3) at "
                          "non-singleton dimension 1"), str(error)
else:
    raise AssertionError("2 broadcast against 3")
assert torch.broadcast_shapes((5, 1, 4, 1), (3, 1, 1)) == torch.Size([5, 3, 4, 1])
try:
    torch.broadcast_shapes((5, 2, 4, 1), (3, 1, 1))
except RuntimeError as error:
    print(error)
    assert str(error) == ("Attempting to broadcast a dimension of length 3 at -3! Mismatching "
                          "argument at index 1 had (3, 1, 1); but expected shape should be "
                          "broadcastable to [5, 2, 4, 1]"), str(error)
else:
    raise AssertionError("broadcast_shapes took 2 against 3")

# ---- In-place semantics ----
x = torch.empty(5, 3, 4, 1)
y = torch.empty(3, 1, 1)
assert (x.add_(y)).size() == torch.Size([5, 3, 4, 1])

x = torch.ones(1, 3, 1)
y = torch.ones(3, 1, 7)
try:
    (x.add_(y)).size()
except RuntimeError as error:
    print(error)
    assert str(error) == ("output with shape [1, 3, 1] doesn't match the broadcast shape "
                          "[3, 3, 7]"), str(error)
else:
    raise AssertionError("an in-place op changed its tensor's shape")
assert torch.equal(x, torch.ones(1, 3, 1))  # left as it was

# ---- Backwards compatibility ----
assert torch.add(torch.ones(4, 1), torch.randn(4)).size() == torch.Size([4, 4])

# ---- Gradients through a broadcast: each input's summed back to its shape ----
a = torch.linspace(-1, 1, 5 * 4).reshape(5, 1, 4, 1).requires_grad_()
b = torch.linspace(0.5, 2, 3).reshape(3, 1, 1).requires_grad_()
out = (a * b).pow(2).sum()
out.backward()
assert a.grad.shape == a.shape and b.grad.shape == b.shape
print("CHECK a_grad_first", a.grad.flatten()[0].item())
print("CHECK b_grad_sum", b.grad.sum().item())
scalar = torch.tensor(3.0, requires_grad=True)
(scalar * torch.ones(2, 3)).sum().backward()
assert scalar.grad.shape == () and scalar.grad.item() == 6.0

# ---- Extremal values (numerical_accuracy.md) ----
a = torch.tensor([1e20], dtype=torch.float)
print(a * a)  # inf: the square overflows float32
assert (a * a).isinf().all() and torch.isfinite(a.double() * a.double()).all()
x = torch.tensor([1e-8, 1e-8], dtype=torch.float)
print(x.sum())
big = torch.tensor([1e8, 1.0, -1e8], dtype=torch.float)
print("CHECK float32_cancellation", big.sum().item())
print("CHECK float64_cancellation", big.double().sum().item())
print(torch.finfo(torch.float32).eps, torch.finfo(torch.bfloat16).eps)
assert torch.finfo(torch.float32).eps == 2 ** -23 and torch.finfo(torch.bfloat16).eps == 2 ** -7
