# Adapted from pytorch/tutorials, recipes_source/regional_compilation.py ("Reducing
# torch.compile cold start compilation time with regional compilation").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; on the CPU; 8 layers, not 64; a seed;
# torch._inductor.utils.fresh_inductor_cache() left out (a private helper of PyTorch's
# inductor); the two models given the same weights and their outputs compared with eager's;
# assertions at the end.
from time import perf_counter

import autodiff as torch
import autodiff.nn as nn  # noqa: F401

torch.manual_seed(0)
LAYERS = 8


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = torch.nn.Linear(10, 10)
        self.relu1 = torch.nn.ReLU()
        self.linear2 = torch.nn.Linear(10, 10)
        self.relu2 = torch.nn.ReLU()

    def forward(self, x):
        a = self.linear1(x)
        a = self.relu1(a)
        a = torch.sigmoid(a)
        b = self.linear2(a)
        b = self.relu2(b)
        return b


class Model(torch.nn.Module):
    def __init__(self, apply_regional_compilation):
        super().__init__()
        self.linear = torch.nn.Linear(10, 10)
        # Apply compile only to the repeated layers.
        if apply_regional_compilation:
            self.layers = torch.nn.ModuleList([torch.compile(Layer()) for _ in range(LAYERS)])
        else:
            self.layers = torch.nn.ModuleList([Layer() for _ in range(LAYERS)])

    def forward(self, x):
        # In regional compilation, the self.linear is outside of the scope of `torch.compile`.
        x = self.linear(x)
        for layer in self.layers:
            x = layer(x)
        return x


model = Model(apply_regional_compilation=False)
full_compiled_model = torch.compile(model)

regional_compiled_model = Model(apply_regional_compilation=True)


def measure_latency(fn, input):
    # Reset the compiler caches to ensure no reuse between different runs
    torch.compiler.reset()
    start = perf_counter()
    fn(input)
    end = perf_counter()
    return end - start


input = torch.randn(10, 10)
full_model_compilation_latency = measure_latency(full_compiled_model, input)
print(f"Full model compilation time = {full_model_compilation_latency:.2f} seconds")

regional_compilation_latency = measure_latency(regional_compiled_model, input)
print(f"Regional compilation time = {regional_compilation_latency:.2f} seconds")

# -- checks (added for the tests) --
# A compiled module is a Module: it sits in a ModuleList, its parameters and state_dict are
# the original's (the state_dict's keys under `_orig_mod.`), and it computes what eager does.
assert isinstance(regional_compiled_model.layers[0], torch.nn.Module)
assert isinstance(full_compiled_model, torch.nn.Module)
assert full_compiled_model._orig_mod is model
assert len(list(regional_compiled_model.parameters())) == 2 + 4 * LAYERS
keys = list(regional_compiled_model.state_dict())
assert keys[2] == "layers.0._orig_mod.linear1.weight", keys[:4]
regional_compiled_model.load_state_dict(
    {key: model.state_dict()[key.replace("._orig_mod", "")] for key in keys})
expected = model(input)
torch.testing.assert_close(full_compiled_model(input), expected)
torch.testing.assert_close(regional_compiled_model(input), expected)
loss = regional_compiled_model(input).sum()
loss.backward()
assert regional_compiled_model.layers[0]._orig_mod.linear1.weight.grad is not None
print(repr(regional_compiled_model.layers[0])[:40])
