# Adapted from pytorch/tutorials, advanced_source/python_custom_ops_mutable.py ("Mutable Python
# Custom Operators").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose and the tagged (Tag.inplace,
# Tag.out) operators, which autodiff does not implement, left out; version counts, assertions
# and CHECK lines at the end.
import numpy as np

import autodiff as torch
from autodiff import Tensor

torch.manual_seed(0)


@torch.library.custom_op("mylib_mutable::numpy_sin_out", mutates_args={"out"},
                         device_types="cpu")
def numpy_sin_out(x: Tensor, out: Tensor) -> None:
    if x.shape != out.shape:
        raise RuntimeError("x and out must have the same shape")
    if x.dtype != out.dtype:
        raise RuntimeError("x and out must have the same dtype")
    if x.device != out.device:
        raise RuntimeError("x and out must be on the same device")
    np.sin(x.detach().numpy(), out=out.numpy())


x = torch.randn(5)
out = torch.empty_like(x)
version = out._version
numpy_sin_out(x, out)
torch.testing.assert_close(out, x.sin())
assert out._version == version + 1  # the operator counts as one write of `out`


@torch.compile(fullgraph=True)
def compiled_numpy_sin_out(x):
    out = torch.empty_like(x)
    numpy_sin_out(x, out)
    return out


torch.testing.assert_close(compiled_numpy_sin_out(x), x.sin())
torch.testing.assert_close(compiled_numpy_sin_out(x * 2), (x * 2).sin())

examples = [
    (torch.randn(5), torch.empty(5)),
    (torch.randn(0, 3), torch.empty(0, 3)),
    (torch.randn(2, 3, dtype=torch.double), torch.empty(2, 3, dtype=torch.double)),
    (torch.randn(2, 3).t(), torch.empty_strided((3, 2), (1, 3))),
]

for example in examples:
    torch.library.opcheck(numpy_sin_out, example)

results = torch.library.opcheck(numpy_sin_out, examples[0], raise_exception=False)
assert set(results.values()) == {"SUCCESS"}, results
print("CHECK compiled_sum", compiled_numpy_sin_out(torch.linspace(0, 1, 5)).sum().item())
