# Adapted from pytorch/tutorials, beginner_source/maskedtensor_adagrad_sparse_semantics.py
# ("Efficiency of writing "sparse" semantics for Adagrad").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; masked_tensor is imported where the
# MaskedTensor part starts (so the sparse part runs first); the final comparison of the two
# parameters is asserted; MaskedTensor's data() is get_data() (PyTorch 2.13 has no data());
# CHECK lines.
import autodiff as torch


def _make_sparse(grad, grad_indices, values):
    size = grad.size()
    if grad_indices.numel() == 0 or values.numel() == 0:
        return torch.empty_like(grad)
    return torch.sparse_coo_tensor(grad_indices, values, size)


# Some hyperparameters
eps = 1e-10
clr = 0.1

# We don't support sparse gradients
param = torch.arange(8).reshape(2, 4).float()
i = torch.tensor([[0, 1, 1],
                  [2, 0, 2]])
v = torch.tensor([3, 4, 5], dtype=torch.float32)
grad = torch.sparse_coo_tensor(i, v, [2, 4])
state_sum = torch.full_like(param, 0.5)  # initial value for state sum

print("param:\n", param)
print("grad:\n", grad.to_dense())
print("state_sum:\n", state_sum)

state_sum = torch.full_like(param, 0.5)  # initial value for state sum
print(state_sum)

grad = grad.coalesce()  # the update is non-linear so indices must be unique
grad_indices = grad._indices()
grad_values = grad._values()

# pow(2) has the same semantics for both sparse and dense memory layouts since 0^2 is zero
state_sum.add_(_make_sparse(grad, grad_indices, grad_values.pow(2)))
# We take care to make std sparse, even though state_sum clearly is not.
std = state_sum.sparse_mask(grad)
print("state_sum:\n", state_sum)
print("std:\n", std.to_dense())
assert std.is_sparse and std._nnz() == 3
assert state_sum.tolist() == [[0.5, 0.5, 9.5, 0.5], [16.5, 0.5, 25.5, 0.5]]

# We currently dodge all these concerns using the private method values.
std_values = std._values().sqrt_().add_(eps)

# We currently don't support div for sparse Tensors because zero / zero is
# not well defined. For a MaskedTensor undefined / undefined is undefined.
param.add_(_make_sparse(grad, grad_indices, grad_values / std_values), alpha=-clr)
print("param:\n", param)
print("CHECK param_sparse_sum", param.sum().item())
print("CHECK param_sparse_02", param[0, 2].item())

# MaskedTensor sparse implementation
from autodiff.masked import masked_tensor

# Create an entirely new set of parameters to avoid errors
param2 = torch.arange(8).reshape(2, 4).float()
state_sum2 = torch.full_like(param, 0.5)  # initial value for state sum

mask = (grad.to_dense() != 0).to_sparse()
masked_grad = masked_tensor(grad, mask)
print("masked_grad:\n", masked_grad)

state_sum2 = state_sum2 + masked_grad.pow(2).get_data()
std2 = masked_tensor(state_sum2.to_sparse(), mask)

# Let's print both this version and the regular version for easier comparison
print("state_sum:\n", state_sum)
print("std:\n", std)
print("state_sum2:\n", state_sum2)
print("std2:\n", std2)

# We can add support for in-place operations later. Notice how this doesn't
# need to access any storage internals and is in general a lot shorter
std2 = std2.sqrt().add(eps)

print("std:\n", std)
print("std2:\n", std2)

# .get_data() indeed returns a sparse tensor
param2 = param2.add((masked_grad / std2).get_data(), alpha=-clr)
print("param2:\n", param2)

print("param:\n", param)
print("param2:\n", param2)
assert torch.allclose(param, param2.to_dense() if param2.is_sparse else param2)
