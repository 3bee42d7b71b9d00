# Adapted from pytorch/tutorials, advanced_source/python_custom_ops.py ("Python Custom
# Operators").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; PIL's crop and paste (through
# torchvision) are NumPy slicing; the torch.compile parts and the drawings are left out; smaller
# opcheck examples; assertions and CHECK lines at the end of each part.
from typing import Sequence

import numpy as np

import autodiff as torch

torch.manual_seed(0)

img = torch.ones(3, 64, 64)
img *= torch.linspace(0, 1, steps=64) * torch.linspace(0, 1, steps=64).unsqueeze(-1)


# Use torch.library.custom_op to define a new custom operator.
# If your operator mutates any input Tensors, their names must be specified
# in the mutates_args argument.
@torch.library.custom_op("mylib::crop", mutates_args=())
def crop(pic: torch.Tensor, box: Sequence[int]) -> torch.Tensor:
    x0, y0, x1, y1 = box
    cropped = pic.detach().cpu().numpy()[:, y0:y1, x0:x1].copy()
    return torch.from_numpy(cropped).to(pic.device, pic.dtype)


# Use register_fake to add a FakeTensor kernel for the operator
@crop.register_fake
def _(pic, box):
    channels = pic.shape[0]
    x0, y0, x1, y1 = box
    return pic.new_empty(channels, y1 - y0, x1 - x0)


cropped_img = crop(img, (10, 10, 50, 50))
assert cropped_img.shape == (3, 40, 40)
assert torch.equal(cropped_img, img[:, 10:50, 10:50])


@torch.library.custom_op("mylib::paste", mutates_args=())
def paste(im1: torch.Tensor, im2: torch.Tensor, coord: Sequence[int]) -> torch.Tensor:
    assert im1.device == im2.device
    assert im1.dtype == im2.dtype
    out = im1.detach().cpu().numpy().copy()
    x0, y0 = coord
    out[:, y0:y0 + im2.shape[1], x0:x0 + im2.shape[2]] = im2.detach().cpu().numpy()
    return torch.from_numpy(out).to(im1.device, im1.dtype)


@paste.register_fake
def _(im1, im2, coord):
    assert im1.device == im2.device
    assert im1.dtype == im2.dtype
    return torch.empty_like(im1)


def backward(ctx, grad_output):
    grad_input = grad_output.new_zeros(ctx.pic_shape)
    grad_input = paste(grad_input, grad_output, ctx.coords)
    return grad_input, None


def setup_context(ctx, inputs, output):
    pic, box = inputs
    ctx.coords = box[:2]
    ctx.pic_shape = pic.shape


crop.register_autograd(backward, setup_context=setup_context)

img = img.requires_grad_()
result = crop(img, (10, 10, 50, 50))
result.sum().backward()
# 1s in the cropped region and 0s in the unused region
assert img.grad[:, 10:50, 10:50].eq(1).all() and img.grad.sum().item() == 3 * 40 * 40
print("CHECK crop_grad_sum", img.grad.sum().item())
print("CHECK crop_sum", result.sum().item())

# Testing Python Custom operators
examples = [
    [torch.randn(3, 16, 16), [0, 0, 10, 10]],
    [torch.randn(3, 21, 21, requires_grad=True), [10, 0, 20, 10]],
    [torch.randn(3, 40, 40, dtype=torch.double), [3, 4, 32, 20]],
]

for example in examples:
    torch.library.opcheck(crop, example)

# Mutable Python Custom operators


@torch.library.custom_op("mylib::numpy_sin", mutates_args={"output"}, device_types="cpu")
def numpy_sin(input: torch.Tensor, output: torch.Tensor) -> None:
    assert input.device == output.device
    assert input.device.type == "cpu"
    input_np = input.numpy()
    output_np = output.numpy()
    np.sin(input_np, out=output_np)


def f(x):
    out = torch.empty(3)
    numpy_sin(x, out)
    return out


x = torch.randn(3)
y = f(x)
assert torch.allclose(y, x.sin())

example_inputs = [
    [torch.randn(3), torch.empty(3)],
    [torch.randn(0, 3), torch.empty(0, 3)],
    [torch.randn(1, 2, 3, 4, dtype=torch.double), torch.empty(1, 2, 3, 4, dtype=torch.double)],
]

for example in example_inputs:
    torch.library.opcheck(numpy_sin, example)
print("CHECK numpy_sin", f(torch.linspace(0, 1, 3))[1].item())
