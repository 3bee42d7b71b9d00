# Adapted from pytorch/tutorials, recipes_source/torch_compile_torch_function_modes.py
# ("(beta) Utilizing Torch Function modes with torch.compile").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the check for
# a CUDA device of capability 7.0 left out (the recipe runs on the CPU); assertions at the end.
import autodiff as torch
from autodiff.overrides import BaseTorchFunctionMode


# Define our mode, Note: ``BaseTorchFunctionMode``
# implements the actual invocation of func(..)
class AddToMultiplyMode(BaseTorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func == torch.Tensor.add:
            func = torch.mul

        return super().__torch_function__(func, types, args, kwargs)

@torch.compile()
def test_fn(x, y):
    return x + y * x # Note: infix operators map to torch.Tensor.* methods

x = torch.rand(2, 2)
y = torch.rand_like(x)

with AddToMultiplyMode():
    z = test_fn(x, y)

assert torch.allclose(z, x * y * x)

# The mode can also be used within the compiled region as well like this:

@torch.compile()
def test_fn(x, y):
    with AddToMultiplyMode():
        return x + y * x # Note: infix operators map to torch.Tensor.* methods

x = torch.rand(2, 2)
y = torch.rand_like(x)
z = test_fn(x, y)

assert torch.allclose(z, x * y * x)

# Outside the mode, the same compiled function adds again.
plain = torch.compile()(lambda x, y: x + y * x)
assert torch.allclose(plain(x, y), x + y * x)
print("function modes under torch.compile: ok")
