# Adapted from pytorch/tutorials, recipes_source/recipes/reasoning_about_shapes.py ("Reasoning
# about Shapes in PyTorch").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the hook's
# lines are kept for assertions at the end.
import timeit

import autodiff as torch

t = torch.rand(2, 3, 10, 10, device="meta")
conv = torch.nn.Conv2d(3, 5, 2, device="meta")
start = timeit.default_timer()
out = conv(t)
end = timeit.default_timer()

print(out)
print(f"Time taken: {end-start}")
small_out = out


t_large = torch.rand(2**10, 3, 2**16, 2**16, device="meta")
start = timeit.default_timer()
out = conv(t_large)
end = timeit.default_timer()

print(out)
print(f"Time taken: {end-start}")
large_out = out


import autodiff.nn as nn
import autodiff.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1) # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


printed = []


def fw_hook(module, input, output):
    print(f"Shape of output to {module} is {output.shape}.")
    printed.append(f"Shape of output to {module} is {output.shape}.")


# Any tensor created within this torch.device context manager will be
# on the meta device.
with torch.device("meta"):
    net = Net()
    inp = torch.randn((1024, 3, 32, 32))

for name, layer in net.named_modules():
    layer.register_forward_hook(fw_hook)

out = net(inp)

# -- checks (added for the tests) --
assert str(small_out) == ("tensor(..., device='meta', size=(2, 5, 9, 9), "
                          "grad_fn=<ConvolutionBackward0>)"), str(small_out)
assert large_out.shape == (2**10, 5, 2**16 - 1, 2**16 - 1) and large_out.is_meta
assert out.shape == (1024, 10) and out.device.type == "meta"
POOL = "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
assert printed == [
    "Shape of output to Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1)) is "
    "torch.Size([1024, 6, 28, 28]).",
    f"Shape of output to {POOL} is torch.Size([1024, 6, 14, 14]).",
    "Shape of output to Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1)) is "
    "torch.Size([1024, 16, 10, 10]).",
    f"Shape of output to {POOL} is torch.Size([1024, 16, 5, 5]).",
    "Shape of output to Linear(in_features=400, out_features=120, bias=True) is "
    "torch.Size([1024, 120]).",
    "Shape of output to Linear(in_features=120, out_features=84, bias=True) is "
    "torch.Size([1024, 84]).",
    "Shape of output to Linear(in_features=84, out_features=10, bias=True) is "
    "torch.Size([1024, 10]).",
    "Shape of output to Net(\n  (conv1): Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))\n"
    f"  (pool): {POOL}\n"
    "  (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))\n"
    "  (fc1): Linear(in_features=400, out_features=120, bias=True)\n"
    "  (fc2): Linear(in_features=120, out_features=84, bias=True)\n"
    "  (fc3): Linear(in_features=84, out_features=10, bias=True)\n) is torch.Size([1024, 10]).",
], printed
