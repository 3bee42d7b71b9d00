# Adapted from pytorch/tutorials, advanced_source/visualizing_gradients_tutorial.py
# ("Visualizing Gradients").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the errors and the warning the
# tutorial describes in prose are raised and checked; a seed; assertions and CHECK lines.
import warnings

import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F

torch.manual_seed(0)

# tensor setup
x = torch.ones(1, 3)                      # input with shape: (1, 3)
W = torch.ones(3, 2, requires_grad=True)  # weights with shape: (3, 2)
b = torch.ones(1, 2, requires_grad=True)  # bias with shape: (1, 2)
y = torch.ones(1, 2)                      # output with shape: (1, 2)

# forward pass
z = (x @ W) + b                           # pre-activation with shape: (1, 2)
y_pred = F.relu(z)                        # activation with shape: (1, 2)
loss = F.mse_loss(y_pred, y)              # scalar loss

# prints all True because new tensors are leafs by convention
print(f"{x.is_leaf=}")
print(f"{W.is_leaf=}")
print(f"{b.is_leaf=}")
print(f"{y.is_leaf=}")

# prints all False because tensors are the result of an operation
# with at least one tensor having requires_grad=True
print(f"{z.is_leaf=}")
print(f"{y_pred.is_leaf=}")
print(f"{loss.is_leaf=}")
assert x.is_leaf and W.is_leaf and b.is_leaf and y.is_leaf
assert not (z.is_leaf or y_pred.is_leaf or loss.is_leaf)

a = torch.tensor([1.0, 5.0, 2.0])
assert a.is_leaf

# prints all False because tensors are leaf nodes
print(f"{x.requires_grad=}")
print(f"{y.requires_grad=}")

# prints all True because requires_grad=True in constructor
print(f"{W.requires_grad=}")
print(f"{b.requires_grad=}")

# prints all True because tensors are non-leaf nodes
print(f"{z.requires_grad=}")
print(f"{y_pred.requires_grad=}")
print(f"{loss.requires_grad=}")
assert not x.requires_grad and not y.requires_grad
assert W.requires_grad and b.requires_grad and z.requires_grad and loss.requires_grad


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 20, 5)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        return F.relu(self.conv2(x))


m = Model()

for name, param in m.named_parameters():
    print(name, param.requires_grad)
assert all(param.requires_grad for param in m.parameters())
assert [name for name, _ in m.named_parameters()] == [
    "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"]

z = (x @ W) + b  # same as before

with torch.no_grad():  # could also use torch.inference_mode()
    z2 = (x @ W) + b

print(f"{z.requires_grad=}")
print(f"{z2.requires_grad=}")
assert z.requires_grad and not z2.requires_grad

loss.backward()

print(f"{W.grad=}")
print(f"{b.grad=}")
print(f"{x.grad=}")
print(f"{y.grad=}")
assert x.grad is None and y.grad is None

# A non-leaf's grad is None, with a warning
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(f"{z.grad=}")
assert z.grad is None
assert any("non-leaf Tensor" in str(warning.message) for warning in caught), caught

# Prints all False because we didn't tell PyTorch to store gradients with `retain_grad()`
print(f"{z.retains_grad=}")
print(f"{y_pred.retains_grad=}")
print(f"{loss.retains_grad=}")

# Prints all False because these are leaf tensors
print(f"{x.retains_grad=}")
print(f"{y.retains_grad=}")
print(f"{b.retains_grad=}")
print(f"{W.retains_grad=}")

W.retain_grad()
print(f"{W.retains_grad=}")  # still False
assert not (z.retains_grad or loss.retains_grad or W.retains_grad or x.retains_grad)

try:
    x.retain_grad()
except RuntimeError as error:
    print(error)
    assert "can't retain_grad on Tensor that has requires_grad=False" in str(error)
else:
    raise AssertionError("retain_grad on a tensor without requires_grad must raise")

# forward pass
z = (x @ W) + b
y_pred = F.relu(z)
loss = F.mse_loss(y_pred, y)

# tell PyTorch to store the gradients after backward()
z.retain_grad()
y_pred.retain_grad()
loss.retain_grad()

# have to zero out gradients otherwise they would accumulate
W.grad = None
b.grad = None

# back-propagation
loss.backward()

# print gradients for all tensors that have requires_grad=True
print(f"{W.grad=}")
print(f"{b.grad=}")
print(f"{z.grad=}")
print(f"{y_pred.grad=}")
print(f"{loss.grad=}")
assert z.retains_grad and y_pred.retains_grad and loss.retains_grad
assert loss.grad.item() == 1.0 and loss.grad.shape == ()
# z = 4, relu passes it, mse: 2 * (4 - 1) / 2
assert z.grad.tolist() == [[3.0, 3.0]] and y_pred.grad.tolist() == [[3.0, 3.0]]
assert W.grad.tolist() == [[3.0, 3.0]] * 3 and b.grad.tolist() == [[3.0, 3.0]]
print("CHECK loss", loss.item())
print("CHECK W_grad_sum", W.grad.sum().item())
print("CHECK z_grad_sum", z.grad.sum().item())
