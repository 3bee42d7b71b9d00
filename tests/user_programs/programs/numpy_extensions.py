# Adapted from pytorch/tutorials, advanced_source/numpy_extensions_tutorial.py ("Creating
# extensions using numpy and scipy").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the parameter-less Function is written
# with static methods and a ctx (PyTorch refuses the legacy non-static form); inputs, filter and
# bias come from arange/sin instead of randn so the numbers are PyTorch's; assertions and CHECK
# lines at the end of each part.
import numpy as np
from numpy.fft import irfft2, rfft2

import autodiff as torch
from autodiff.autograd import Function

###############################################################
# Parameter-less example


class BadFFTFunction(Function):
    @staticmethod
    def forward(ctx, input):
        numpy_input = input.detach().numpy()
        result = abs(rfft2(numpy_input))
        return input.new(result)

    @staticmethod
    def backward(ctx, grad_output):
        numpy_go = grad_output.numpy()
        result = irfft2(numpy_go)
        return grad_output.new(result)


# since this layer does not have any parameters, we can
# simply declare this as a function, rather than as an nn.Module class


def incorrect_fft(input):
    return BadFFTFunction.apply(input)


input = torch.arange(64, dtype=torch.float32).reshape(8, 8).sin().requires_grad_()
result = incorrect_fft(input)
print(result)
assert result.shape == (8, 5) and result.dtype == torch.float32
assert result.grad_fn is not None and result.grad_fn.name() == "BadFFTFunctionBackward"
result.backward(torch.arange(40, dtype=torch.float32).reshape(result.size()).cos())
print(input)
# irfft2 of an (8, 5) gradient is (8, 8): the shape of the input
assert input.grad.shape == (8, 8) and input.grad.dtype == torch.float32
print("CHECK fft_result_sum", result.sum().item())
print("CHECK fft_grad_sum", input.grad.sum().item())
print("CHECK fft_grad_00", input.grad[0, 0].item())

###############################################################
# Parametrized example

from scipy.signal import convolve2d, correlate2d

from autodiff.nn.modules.module import Module
from autodiff.nn.parameter import Parameter


class ScipyConv2dFunction(Function):
    @staticmethod
    def forward(ctx, input, filter, bias):
        # detach so we can cast to NumPy
        input, filter, bias = input.detach(), filter.detach(), bias.detach()
        result = correlate2d(input.numpy(), filter.numpy(), mode='valid')
        result += bias.numpy()
        ctx.save_for_backward(input, filter, bias)
        return torch.as_tensor(result, dtype=input.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        grad_output = grad_output.detach()
        input, filter, bias = ctx.saved_tensors
        grad_output = grad_output.numpy()
        grad_bias = np.sum(grad_output, keepdims=True)
        grad_input = convolve2d(grad_output, filter.numpy(), mode='full')
        # the previous line can be expressed equivalently as:
        # grad_input = correlate2d(grad_output, flip(flip(filter.numpy(), axis=0), axis=1),
        #                          mode='full')
        grad_filter = correlate2d(input.numpy(), grad_output, mode='valid')
        return (torch.as_tensor(grad_input, dtype=input.dtype),
                torch.as_tensor(grad_filter, dtype=filter.dtype),
                torch.as_tensor(grad_bias, dtype=bias.dtype))


class ScipyConv2d(Module):
    def __init__(self, filter_width, filter_height):
        super(ScipyConv2d, self).__init__()
        self.filter = Parameter(torch.arange(filter_width * filter_height, dtype=torch.float32)
                                .reshape(filter_width, filter_height).cos())
        self.bias = Parameter(torch.full((1, 1), 0.25))

    def forward(self, input):
        return ScipyConv2dFunction.apply(input, self.filter, self.bias)


module = ScipyConv2d(3, 3)
print("Filter and bias: ", list(module.parameters()))
input = torch.arange(100, dtype=torch.float32).reshape(10, 10).mul(0.1).sin().requires_grad_()
output = module(input)
print("Output from the convolution: ", output)
assert output.shape == (8, 8) and output.dtype == torch.float32
output.backward(torch.linspace(0, 1, 64).reshape(8, 8))
print("Gradient for the input map: ", input.grad)
assert input.grad.shape == (10, 10)
assert module.filter.grad.shape == (3, 3) and module.bias.grad.shape == (1, 1)
# The scipy gradients are those of the same cross-correlation written with autodiff's conv2d
conv_input = input.detach().clone().requires_grad_()
conv_filter = module.filter.detach().clone().requires_grad_()
same = torch.nn.functional.conv2d(conv_input[None, None], conv_filter[None, None])[0, 0] + 0.25
assert torch.allclose(same, output, atol=1e-5)
same.backward(torch.linspace(0, 1, 64).reshape(8, 8))
assert torch.allclose(conv_input.grad, input.grad, atol=1e-5)
assert torch.allclose(conv_filter.grad, module.filter.grad, atol=1e-4)
print("CHECK conv_output_sum", output.sum().item())
print("CHECK conv_input_grad_sum", input.grad.sum().item())
print("CHECK conv_filter_grad_00", module.filter.grad[0, 0].item())
print("CHECK conv_bias_grad", module.bias.grad.item())

###############################################################
# Check the gradients

from autodiff.autograd.gradcheck import gradcheck

moduleConv = ScipyConv2d(3, 3)

input = [torch.arange(400, dtype=torch.double).reshape(20, 20).mul(0.05).cos().requires_grad_()]
test = gradcheck(moduleConv, input, eps=1e-6, atol=1e-4)
print("Are the gradients correct: ", test)
assert test is True
