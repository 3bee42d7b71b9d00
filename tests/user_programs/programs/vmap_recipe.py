# Adapted from pytorch/tutorials, unstable_source/vmap_recipe.py ("torch.vmap").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a seed; the
# commented-out per-sample-gradient call runs; assertions and CHECK lines at the end.
import autodiff as torch
from autodiff import vmap

torch.manual_seed(0)

torch.dot  # [D], [D] -> []  # noqa: B018
batched_dot = torch.vmap(torch.dot)  # [N, D], [N, D] -> [N]
x, y = torch.randn(2, 5), torch.randn(2, 5)
batched_dot(x, y)

batch_size, feature_size = 3, 5
weights = torch.randn(feature_size, requires_grad=True)


def model(feature_vec):
    # Very simple linear model with activation
    return feature_vec.dot(weights).relu()


examples = torch.randn(batch_size, feature_size)
result = torch.vmap(model)(examples)
expected = torch.stack([model(example) for example in examples.unbind()])
assert torch.allclose(result, expected)

# Setup
N = 5


def f(x):
    return x ** 2


x = torch.randn(N, requires_grad=True)
y = f(x)
basis_vectors = torch.eye(N)

# Sequential approach
jacobian_rows = [torch.autograd.grad(y, x, v, retain_graph=True)[0]
                 for v in basis_vectors.unbind()]
jacobian = torch.stack(jacobian_rows)


# Using `vmap`, we can vectorize the whole computation, computing the
# Jacobian in a single call to `autograd.grad`.
def get_vjp(v):
    return torch.autograd.grad(y, x, v)[0]


jacobian_vmap = vmap(get_vjp)(basis_vectors)
assert torch.allclose(jacobian_vmap, jacobian)


def model(sample, weight):
    # do something...
    return torch.dot(sample, weight)


weight = torch.randn(5)


def grad_sample(sample):
    return torch.autograd.functional.vjp(lambda weight: model(sample, weight), weight)[1]


batch_of_samples = torch.randn(64, 5)
per_sample = torch.stack([grad_sample(sample) for sample in batch_of_samples])

# Checks: the batched results are the loops', and d(x**2)/dx is 2x on the diagonal.
assert torch.allclose(batched_dot(x.detach()[None].expand(2, 5), basis_vectors[:2]),
                      x.detach()[:2])
assert torch.allclose(jacobian, torch.diag(2 * x.detach()))
assert torch.allclose(per_sample, batch_of_samples)
assert result.shape == (batch_size,) and result.requires_grad
print("CHECK jacobian_trace", jacobian_vmap.trace().item())
print("CHECK result_sum", result.sum().item())
