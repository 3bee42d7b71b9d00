# Adapted from pytorch/tutorials, advanced_source/python_custom_ops_registrations.py ("Adding
# Training and Other Registrations to Python Custom Operators").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose left out; assertions and
# CHECK lines at the end.
import numpy as np

import autodiff as torch
from autodiff import Tensor

torch.manual_seed(0)


@torch.library.custom_op("mylib_training::numpy_sin", mutates_args=(), device_types="cpu")
def numpy_sin(x: Tensor) -> Tensor:
    result = torch.empty_like(x)
    np.sin(x.detach().numpy(), out=result.numpy())
    return result


@numpy_sin.register_fake
def _(x):
    return torch.empty_like(x)


def numpy_sin_setup_context(ctx, inputs, output):
    (x,) = inputs
    ctx.save_for_backward(x)


def numpy_sin_backward(ctx, grad_output):
    (x,) = ctx.saved_tensors
    return grad_output * x.cos()


numpy_sin.register_autograd(numpy_sin_backward, setup_context=numpy_sin_setup_context)

x = torch.randn(5, requires_grad=True)
y = numpy_sin(x)
y.sum().backward()
torch.testing.assert_close(x.grad, x.detach().cos())

gradcheck_input = torch.randn(3, dtype=torch.double, requires_grad=True)
assert torch.autograd.gradcheck(numpy_sin, (gradcheck_input,))

examples = [
    (torch.randn(5),),
    (torch.randn(0, 3),),
    (torch.randn(4, requires_grad=True),),
    (torch.randn(2, dtype=torch.double, requires_grad=True),),
    (torch.randn(2, 3).t(),),
    (torch.randn(8)[1:],),
]

for example in examples:
    torch.library.opcheck(numpy_sin, example)

line = torch.linspace(0, 1, 5, requires_grad=True)
numpy_sin(line).sum().backward()
print("CHECK grad_sum", line.grad.sum().item())
assert y.grad_fn.name() == "GeneratedBackwardFor_mylib_training_numpy_sin_defaultBackward"
