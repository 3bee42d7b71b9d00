# Adapted from pytorch/tutorials, advanced_source/super_resolution_with_onnxruntime.py
# ("Exporting a Model from PyTorch to ONNX and Running it using ONNX Runtime").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a seed; the
# pretrained weights are not downloaded (the model keeps its orthogonal initialization, and
# torch.utils.model_zoo, which would load them, is not imported); sizes
# shrunk (batches of 4, 32x32 images); instead of the cat picture (PIL and torchvision), a
# synthetic Y channel, and the output image is not saved; assertions at the end. On PyTorch
# the export needs the onnxscript package.
import time

import numpy as np

import autodiff as torch
import autodiff.onnx

torch.manual_seed(0)

# Super Resolution model definition in PyTorch
import autodiff.nn as nn
import autodiff.nn.init as init


class SuperResolutionNet(nn.Module):
    def __init__(self, upscale_factor, inplace=False):
        super(SuperResolutionNet, self).__init__()

        self.relu = nn.ReLU(inplace=inplace)
        self.conv1 = nn.Conv2d(1, 64, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(64, 64, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(64, 32, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(32, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv2.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv3.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv4.weight)


# Create the super-resolution model by using the above model definition.
torch_model = SuperResolutionNet(upscale_factor=3)

batch_size = 4    # just a random number

# set the model to inference mode
torch_model.eval()

# Input to the model
x = torch.randn(batch_size, 1, 32, 32, requires_grad=True)
torch_out = torch_model(x)

# Export the model
torch.onnx.export(torch_model,               # model being run
                  x,                         # model input (or a tuple for multiple inputs)
                  "super_resolution.onnx",   # where to save the model (a file or file-like object)
                  export_params=True,        # store the trained parameter weights in the file
                  opset_version=10,          # the ONNX version to export the model to
                  do_constant_folding=True,  # whether to execute constant folding for optimization
                  input_names = ['input'],   # the model's input names
                  output_names = ['output'], # the model's output names
                  dynamic_axes={'input' : {0 : 'batch_size'},    # variable length axes
                                'output' : {0 : 'batch_size'}})

import onnx

onnx_model = onnx.load("super_resolution.onnx")
onnx.checker.check_model(onnx_model)

import onnxruntime

ort_session = onnxruntime.InferenceSession("super_resolution.onnx",
                                           providers=["CPUExecutionProvider"])


def to_numpy(tensor):
    return tensor.detach().cpu().numpy() if tensor.requires_grad else tensor.cpu().numpy()


# compute ONNX Runtime output prediction
ort_inputs = {ort_session.get_inputs()[0].name: to_numpy(x)}
ort_outs = ort_session.run(None, ort_inputs)

# compare ONNX Runtime and PyTorch results
np.testing.assert_allclose(to_numpy(torch_out), ort_outs[0], rtol=1e-03, atol=1e-05)

print("Exported model has been tested with ONNXRuntime, and the result looks good!")

x = torch.randn(batch_size, 1, 32, 32, requires_grad=True)

start = time.time()
torch_out = torch_model(x)
end = time.time()
print(f"Inference of Pytorch model used {end - start} seconds")

ort_inputs = {ort_session.get_inputs()[0].name: to_numpy(x)}
start = time.time()
ort_outs = ort_session.run(None, ort_inputs)
end = time.time()
print(f"Inference of ONNX model used {end - start} seconds")

# Running the model on an image using ONNX Runtime (a synthetic Y channel: a gradient)
img_y = torch.linspace(0, 1, 32 * 32).reshape(1, 1, 32, 32)

ort_inputs = {ort_session.get_inputs()[0].name: to_numpy(img_y)}
ort_outs = ort_session.run(None, ort_inputs)
img_out_y = ort_outs[0]
img_out_y = np.uint8((img_out_y[0] * 255.0).clip(0, 255)[0])

# Checks: the batch axis is dynamic (the other batch size ran and matched), the graph is of
# opset 10, and the upscaled image is three times the size.
assert onnx_model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch_size"
assert onnx_model.opset_import[0].version == 10
np.testing.assert_allclose(to_numpy(torch_out), ort_session.run(None, {"input": to_numpy(x)})[0],
                           rtol=1e-03, atol=1e-05)
assert img_out_y.shape == (96, 96)
