# Adapted from pytorch/tutorials, beginner_source/onnx/export_control_flow_model_to_onnx_tutorial.py
# ("Export a model with control flow to ONNX").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a seed; the
# exported graphs are run in ONNX Runtime on inputs that take each branch; assertions and CHECK
# lines at the end. On PyTorch the export needs the onnxscript package.
import numpy as np
import onnxruntime

import autodiff as torch

torch.manual_seed(0)


class ForwardWithControlFlowTest(torch.nn.Module):
    def forward(self, x):
        if x.sum():
            return x * 2
        return -x


class ModelWithControlFlowTest(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(3, 2),
            torch.nn.Linear(2, 1),
            ForwardWithControlFlowTest(),
        )

    def forward(self, x):
        out = self.mlp(x)
        return out


model = ModelWithControlFlowTest()

# Exporting the Model: First Attempt
x = torch.randn(3)
model(x)

try:
    torch.export.export(model, (x,), strict=False)
    raise AssertionError("This export should failed unless PyTorch now supports this model.")
except Exception as e:
    print(e)

# Using torch.onnx.export with JIT Tracing
onnx_program = torch.onnx.export(model, (x,), dynamo=True)
print(onnx_program.model)


# Suggested Patch: Refactoring with torch.cond
def new_forward(x):
    def identity2(x):
        return x * 2

    def neg(x):
        return -x

    return torch.cond(x.sum() > 0, identity2, neg, (x,))


print("the list of submodules")
for name, mod in model.named_modules():
    print(name, type(mod))
    if isinstance(mod, ForwardWithControlFlowTest):
        mod.forward = new_forward

print(torch.export.export(model, (x,), strict=False))

onnx_program = torch.onnx.export(model, (x,), dynamo=True)
print(onnx_program.model)

onnx_program.optimize()
print(onnx_program.model)


# Checks: the graph with torch.cond takes each branch as the model does.
def run_onnx(program, value):
    session = onnxruntime.InferenceSession(program.model_proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: value.numpy()})[0]


first_layers = model.mlp[:2]
inputs = [torch.randn(3) for _ in range(16)]
signs = set()
for value in inputs:
    with torch.no_grad():
        expected = model(value)
        signs.add(bool(first_layers(value).sum() > 0))
    np.testing.assert_allclose(run_onnx(onnx_program, value), expected.numpy(), rtol=1e-5,
                               atol=1e-6)
assert signs == {True, False}, signs
print("CHECK branches", len(signs))
