# Adapted from pytorch/tutorials, intermediate_source/torch_export_tutorial.py ("torch.export
# Tutorial").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the basic usage, the graph-break
# examples, control flow with torch.cond (the tutorial's functorch.experimental.control_flow
# import is its older spelling) and dynamic shapes with Dim, each function wrapped in a Module
# (PyTorch's export now takes Modules only); the printed graphs left out; a seed; assertions at
# the end, and CHECK lines of what does not depend on the random stream.
import autodiff as torch
from autodiff.export import Dim, export

torch.manual_seed(0)


class Wrapped(torch.nn.Module):
    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, *args):
        return self.function(*args)


class MyModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(100, 10)

    def forward(self, x, y):
        return torch.nn.functional.relu(self.lin(x + y), inplace=True)


mod = MyModule()
exported_mod = export(mod, (torch.randn(8, 100), torch.randn(8, 100)))
print(type(exported_mod))
x, y = torch.randn(8, 100), torch.randn(8, 100)
print(exported_mod.module()(x, y))
assert torch.allclose(exported_mod.module()(x, y), mod(x, y))
print(exported_mod.graph_signature)


def bad1(x):
    if x.sum() > 0:
        return torch.sin(x)
    return torch.cos(x)


errors = []
try:
    export(Wrapped(bad1), (torch.randn(3, 3),))
except Exception as e:
    errors.append(e)


def bad1_fixed(x):
    def true_fn(x):
        return torch.sin(x)

    def false_fn(x):
        return torch.cos(x)
    return torch.cond(x.sum() > 0, true_fn, false_fn, [x])


exported_bad1_fixed = export(Wrapped(bad1_fixed), (torch.randn(3, 3),))
print(exported_bad1_fixed.module()(torch.ones(3, 3)))
print(exported_bad1_fixed.module()(-torch.ones(3, 3)))
assert torch.allclose(exported_bad1_fixed.module()(torch.ones(3, 3)), torch.sin(torch.ones(3, 3)))
assert torch.allclose(exported_bad1_fixed.module()(-torch.ones(3, 3)),
                      torch.cos(-torch.ones(3, 3)))

inp1 = torch.randn(10, 10, 2)


def dynamic_shapes_example1(x):
    x = x[:, 2:]
    return torch.relu(x)


inp1_dim0 = Dim("inp1_dim0")
inp1_dim1 = Dim("inp1_dim1", min=4, max=18)
dynamic_shapes1 = {
    "x": {0: inp1_dim0, 1: inp1_dim1},
}

exported_dynamic_shapes_example1 = export(Wrapped(dynamic_shapes_example1), (inp1,),
                                          dynamic_shapes={"args": (dynamic_shapes1["x"],)})

print(exported_dynamic_shapes_example1.module()(torch.randn(5, 5, 2)))
assert exported_dynamic_shapes_example1.module()(torch.randn(5, 5, 2)).shape == (5, 3, 2)

try:
    exported_dynamic_shapes_example1.module()(torch.randn(8, 1, 2))
except Exception as e:
    errors.append(e)

# -- checks (added for the tests) --
assert len(errors) == 2, errors
print("CHECK errors", len(errors))
print("CHECK signature_inputs", len(exported_mod.graph_signature.input_specs))
print("CHECK signature_parameters", len(exported_mod.graph_signature.parameters))
print("CHECK cond_true_sum", exported_bad1_fixed.module()(torch.ones(3, 3)).sum().item())
print("CHECK cond_false_sum", exported_bad1_fixed.module()(-torch.ones(3, 3)).sum().item())
dynamic_out = exported_dynamic_shapes_example1.module()(torch.randn(5, 5, 2))
print("CHECK dynamic_dim1", dynamic_out.shape[1])
print("CHECK dynamic_ranges", len(exported_dynamic_shapes_example1.range_constraints))
