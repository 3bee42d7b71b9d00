# Adapted from pytorch/pytorch, docs/source/notes/extending.func.md ("Extending torch.func with
# autograd.Function"): NumPy-backed Functions under grad and vmap, custom gradient rules, the
# generated vmap rule and a hand-written one.
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; the note's snippets gathered into one
# program (NumpySort and NumpyTake defined once, with their vmap staticmethods); inputs are
# fixed values for the CHECK lines; the second-order check also runs jacrev and jacfwd-free
# compositions the note names; the vmap rule's `result` line (computed twice in the note) kept.
import numpy as np

import autodiff as torch


def to_numpy(tensor):
    return tensor.cpu().numpy()


class NumpySort(torch.autograd.Function):
    @staticmethod
    def forward(x, dim):
        device = x.device
        x = to_numpy(x)
        ind = np.argsort(x, axis=dim)
        ind_inv = np.argsort(ind, axis=dim)
        result = np.take_along_axis(x, ind, axis=dim)
        return (
            torch.tensor(result, device=device),
            torch.tensor(ind, device=device),
            torch.tensor(ind_inv, device=device),
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, dim = inputs
        _, ind, ind_inv = output
        ctx.mark_non_differentiable(ind, ind_inv)
        ctx.save_for_backward(ind, ind_inv)
        ctx.dim = dim

    @staticmethod
    def backward(ctx, grad_output, _0, _1):
        ind, ind_inv = ctx.saved_tensors
        return NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim), None

    @staticmethod
    def vmap(info, in_dims, x, dim):
        x_bdim, _ = in_dims
        x = x.movedim(x_bdim, 0)
        dim = dim if dim >= 0 else dim + x.dim() - 1
        result = NumpySort.apply(x, dim + 1)
        return result, (0, 0, 0)


class NumpyTake(torch.autograd.Function):
    @staticmethod
    def forward(x, ind, ind_inv, dim):
        device = x.device
        x = to_numpy(x)
        ind = to_numpy(ind)
        return torch.tensor(np.take_along_axis(x, ind, dim), device=device)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, ind, ind_inv, dim = inputs
        ctx.save_for_backward(ind, ind_inv)
        ctx.dim = dim

    @staticmethod
    def backward(ctx, grad_output):
        ind, ind_inv = ctx.saved_tensors
        result = NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim)
        return result, None, None, None

    @staticmethod
    def vmap(info, in_dims, x, ind, ind_inv, dim):
        x_bdim, ind_bdim, ind_inv_bdim, _ = in_dims
        logical_dim = x.dim() if x_bdim is None else x_bdim - 1
        dim = dim if dim >= 0 else dim + logical_dim

        def maybe_expand_bdim_at_front(x, x_bdim):
            if x_bdim is None:
                return x.expand(info.batch_size, *x.shape)
            return x.movedim(x_bdim, 0)

        x = maybe_expand_bdim_at_front(x, x_bdim)
        ind = maybe_expand_bdim_at_front(ind, ind_bdim)
        ind_inv = maybe_expand_bdim_at_front(ind_inv, ind_inv_bdim)
        return NumpyTake.apply(x, ind, ind_inv, dim + 1), 0


def numpy_sort(x, dim=-1):
    result, _, _ = NumpySort.apply(x, dim)
    return result


x = torch.tensor([[0.3, -1.2, 2.5], [1.0, 0.1, -0.4]])
grad_x = torch.func.grad(lambda x: numpy_sort(x).sum())(x)
assert torch.allclose(grad_x, torch.ones_like(x))

# A weighted sum tells the sorted positions apart: each input gets its sorted slot's weight.
weights = torch.tensor([1.0, 10.0, 100.0])
grad_x = torch.func.grad(lambda x: (numpy_sort(x) * weights).sum())(x)
print(grad_x)
assert grad_x.tolist() == [[10.0, 1.0, 100.0], [100.0, 10.0, 1.0]], grad_x
print("CHECK weighted_grad_sum", grad_x.sum().item())

result = torch.vmap(numpy_sort)(x)
assert torch.allclose(result, numpy_sort(result, 1))
assert torch.equal(result, torch.sort(x, dim=1).values)

# Per-sample gradients: vmap over grad, through both hand-written vmap rules.
per_sample = torch.vmap(torch.func.grad(lambda row: (numpy_sort(row) * weights).sum()))(x)
assert torch.equal(per_sample, grad_x)

# The rule of NumpyTake where only some inputs are batched (x is not, the indices are).
ind = torch.tensor([[2, 0, 1], [1, 2, 0]])
ind_inv = torch.argsort(ind, dim=1)
row = torch.tensor([5.0, 6.0, 7.0])
taken = torch.vmap(NumpyTake.apply, in_dims=(None, 0, 0, None))(row, ind, ind_inv, 0)
assert taken.tolist() == [[7.0, 5.0, 6.0], [6.0, 7.0, 5.0]], taken

# jacrev vmaps over the backward: its Jacobian is the sort's permutation matrix.
jacobian = torch.func.jacrev(numpy_sort)(x[0])
assert jacobian.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], jacobian


# ---- Custom gradient rules ----
class MyCube(torch.autograd.Function):
    @staticmethod
    def forward(x):
        result = x ** 3
        dx = 3 * x ** 2
        return result, dx

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        result, dx = output
        ctx.save_for_backward(x, dx)

    @staticmethod
    def backward(ctx, grad_output, grad_dx):
        x, dx = ctx.saved_tensors
        result = grad_output * dx + grad_dx * 6 * x
        return result


def my_cube(x):
    result, _ = MyCube.apply(x)
    return result


x = torch.tensor(0.7)
ggx = torch.func.grad(torch.func.grad(my_cube))(x)
assert torch.allclose(ggx, 6 * x)
print("CHECK ggx", ggx.item())


# ---- The generated vmap rule ----
class MyCubeGenerated(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        result = x ** 3
        dx = 3 * x ** 2
        return result, dx

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        result, dx = output
        ctx.save_for_backward(x, dx)

    @staticmethod
    def backward(ctx, grad_output, grad_dx):
        x, dx = ctx.saved_tensors
        result = grad_output * dx + grad_dx * 6 * x
        return result


def my_cube_generated(x):
    result, dx = MyCubeGenerated.apply(x)
    return result


x = torch.tensor([0.5, -1.5, 2.0])
result = torch.vmap(my_cube_generated)(x)
assert torch.allclose(result, x ** 3)
grads = torch.vmap(torch.func.grad(my_cube_generated))(x)
assert torch.allclose(grads, 3 * x ** 2)
print("CHECK vmapped_grads_sum", grads.sum().item())

# Without a vmap staticmethod or generate_vmap_rule, vmap refuses the Function.
try:
    torch.vmap(my_cube)(x)
except RuntimeError as error:
    print(error)
    assert "generate_vmap_rule=True" in str(error) and "vmap staticmethod" in str(error), error
else:
    raise AssertionError("vmap ran a Function without a vmap rule")
