# Adapted from pytorch/tutorials, advanced_source/python_custom_ops_functional.py ("Functional
# Python Custom Operators").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose left out; assertions and
# CHECK lines at the end.
import numpy as np

import autodiff as torch
from autodiff import Tensor

torch.manual_seed(0)


def numpy_sin_impl(x: Tensor) -> Tensor:
    result = torch.empty_like(x)
    np.sin(x.detach().numpy(), out=result.numpy())
    return result


x = torch.randn(5)
torch.testing.assert_close(numpy_sin_impl(x), x.sin())


@torch.library.custom_op("mylib_functional::numpy_sin", mutates_args=(), device_types="cpu")
def numpy_sin(x: Tensor) -> Tensor:
    result = torch.empty_like(x)
    np.sin(x.detach().numpy(), out=result.numpy())
    return result


@numpy_sin.register_fake
def _(x):
    return torch.empty_like(x)


@torch.compile(fullgraph=True)
def f(x):
    return numpy_sin(x)


result = f(x)
torch.testing.assert_close(result, x.sin())
result = f(x + 1)  # a second call replays the compiled function, calling the operator again
torch.testing.assert_close(result, (x + 1).sin())


# Fake kernels must match strides
def numpy_sin_strided_impl(x: Tensor) -> Tensor:
    result = torch.empty_strided(x.shape, tuple(reversed(x.stride())), dtype=x.dtype,
                                 device=x.device)
    np.sin(x.detach().numpy(), out=result.numpy())
    return result


@torch.library.custom_op("mylib_functional::numpy_sin_strided_bad", mutates_args=(),
                         device_types="cpu")
def numpy_sin_strided_bad(x: Tensor) -> Tensor:
    return numpy_sin_strided_impl(x)


@numpy_sin_strided_bad.register_fake
def _(x):
    return torch.empty_like(x)


caught = None
try:
    torch.library.opcheck(numpy_sin_strided_bad, (torch.randn(2, 3),))
except Exception as exc:
    caught = type(exc).__name__
    print(f"opcheck caught incorrect fake kernel metadata: {caught}")
assert caught == "OpCheckError", caught


@torch.library.custom_op("mylib_functional::numpy_sin_strided", mutates_args=(),
                         device_types="cpu")
def numpy_sin_strided(x: Tensor) -> Tensor:
    return numpy_sin_strided_impl(x)


@numpy_sin_strided.register_fake
def _(x):
    return torch.empty_strided(x.shape, tuple(reversed(x.stride())), dtype=x.dtype,
                               device=x.device)


torch.library.opcheck(numpy_sin_strided, (torch.randn(2, 3),))

examples = [
    (torch.randn(5),),
    (torch.randn(0, 3),),
    (torch.randn(2, 3, dtype=torch.double),),
    (torch.randn(2, 3).t(),),
    (torch.randn(8)[1:],),
]

for example in examples:
    torch.library.opcheck(numpy_sin, example)

strided = numpy_sin_strided(torch.linspace(0, 1, 6).reshape(2, 3))
assert strided.stride() == (1, 3)
print("CHECK strided_sum", strided.sum().item())
print("CHECK compiled_sum", f(torch.linspace(0, 1, 5)).sum().item())
