# Adapted from pytorch/tutorials, beginner_source/onnx/export_simple_model_to_onnx_tutorial.py
# ("Export a PyTorch model to ONNX").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a seed;
# the exported program is also called directly (it runs in ONNX Runtime); assertions and
# CHECK lines at the end. On PyTorch the export needs the onnxscript package.
import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F

torch.manual_seed(0)


class ImageClassifierModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


# 3. Export the model to ONNX format
torch_model = ImageClassifierModel()
# Create example inputs for exporting the model. The inputs should be a tuple of tensors.
example_inputs = (torch.randn(1, 1, 32, 32),)
onnx_program = torch.onnx.export(torch_model, example_inputs, dynamo=True)

# 4. Save the ONNX model in a file
onnx_program.optimize()
onnx_program.save("image_classifier_model.onnx")

import onnx

onnx_model = onnx.load("image_classifier_model.onnx")
onnx.checker.check_model(onnx_model)

# 6. Execute the ONNX model with ONNX Runtime
import onnxruntime

onnx_inputs = [tensor.numpy(force=True) for tensor in example_inputs]
print(f"Input length: {len(onnx_inputs)}")
print(f"Sample input: {onnx_inputs}")

ort_session = onnxruntime.InferenceSession(
    "./image_classifier_model.onnx", providers=["CPUExecutionProvider"]
)

onnxruntime_input = {input_arg.name: input_value
                     for input_arg, input_value in zip(ort_session.get_inputs(), onnx_inputs)}

# ONNX Runtime returns a list of outputs
onnxruntime_outputs = ort_session.run(None, onnxruntime_input)[0]

# 7. Compare the PyTorch results with the ones from the ONNX Runtime
torch_outputs = torch_model(*example_inputs)

assert len(torch_outputs) == len(onnxruntime_outputs)
for torch_output, onnxruntime_output in zip(torch_outputs, onnxruntime_outputs):
    torch.testing.assert_close(torch_output, torch.tensor(onnxruntime_output))

print("PyTorch and ONNX Runtime output matched!")
print(f"Output length: {len(onnxruntime_outputs)}")
print(f"Sample output: {onnxruntime_outputs}")

# Checks: one input, one output of ten classes, and the program itself runs the model too.
assert [value.name for value in ort_session.get_inputs()] == [
    value.name for value in onnx_model.graph.input]
assert onnxruntime_outputs.shape == (1, 10)
called = onnx_program(*example_inputs)
assert isinstance(called, (tuple, list)) and len(called) == 1
torch.testing.assert_close(called[0], torch_outputs.detach())
assert {node.op_type for node in onnx_model.graph.node} >= {"Conv", "MaxPool", "Relu"}
print("CHECK output_shape", onnxruntime_outputs.size)
