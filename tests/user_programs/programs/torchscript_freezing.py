# Adapted from pytorch/tutorials, prototype_source/torchscript_freezing.py ("Model Freezing in
# TorchScript").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a seed;
# freezing the scripted model in training mode, which PyTorch now refuses, is tried, then done
# after `.eval()`; the missing attributes of the frozen module raise AttributeError now, not the
# RuntimeError the tutorial catches, so both are caught; 20 timed iterations instead of 1000;
# assertions and CHECK lines at the end.
import time

import autodiff as torch

torch.manual_seed(0)


class Net(torch.nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 3, 1)
        self.conv2 = torch.nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = torch.nn.Dropout2d(0.25)
        self.dropout2 = torch.nn.Dropout2d(0.5)
        self.fc1 = torch.nn.Linear(9216, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = torch.nn.functional.relu(x)
        x = self.conv2(x)
        x = torch.nn.functional.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = x.flatten(start_dim=1)
        x = self.fc1(x)
        x = torch.nn.functional.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = torch.nn.functional.log_softmax(x, dim=1)
        return output

    @torch.jit.export
    def version(self):
        return 1.0


net = torch.jit.script(Net())
try:
    fnet = torch.jit.freeze(net)
    training_refusal = ""
except RuntimeError as error:
    training_refusal = str(error)
    net.eval()
    fnet = torch.jit.freeze(net)

print(net.conv1.weight.size())
print(net.conv1.bias)

conv1_inlined = False
try:
    print(fnet.conv1.bias)
except (RuntimeError, AttributeError):
    conv1_inlined = True
    print("field 'conv1' is inlined. It does not exist in 'fnet'")

version_deleted = False
try:
    fnet.version()
except (RuntimeError, AttributeError):
    version_deleted = True
    print("method 'version' is not deleted in fnet. Only 'forward' is preserved")

fnet2 = torch.jit.freeze(net, ["version"])

print(fnet2.version())

B=1
warmup = 1
iter = 20
input = torch.rand(B, 1,28, 28)

start = time.time()
for i in range(warmup):
    net(input)
end = time.time()
print("Scripted - Warm up time: {0:7.4f}".format(end-start), flush=True)

start = time.time()
for i in range(warmup):
    fnet(input)
end = time.time()
print("Frozen   - Warm up time: {0:7.4f}".format(end-start), flush=True)

start = time.time()
for i in range(iter):
    input = torch.rand(B, 1,28, 28)
    net(input)
end = time.time()
print("Scripted - Inference: {0:5.2f}".format(end-start), flush=True)

start = time.time()
for i in range(iter):
    input = torch.rand(B, 1,28, 28)
    fnet2(input)
end = time.time()
print("Frozen    - Inference time: {0:5.2f}".format(end-start), flush =True)

# Checks: freezing needs eval mode; the frozen modules compute what the scripted one does,
# without its submodules, keeping only the methods asked for.
print(repr(training_refusal))
assert training_refusal.startswith("Freezing is currently only implemented for modules in eval "
                                   "mode."), training_refusal
assert version_deleted, "fnet.version is still reachable"
assert conv1_inlined, "fnet.conv1 is still reachable"
assert [name for name, _ in fnet.named_modules()] == [""] and not fnet.state_dict()
assert repr(fnet) == "RecursiveScriptModule(original_name=Net)", repr(fnet)
assert fnet2.version() == 1.0
with torch.no_grad():
    expected = net(input)
    torch.testing.assert_close(fnet(input), expected)
    torch.testing.assert_close(fnet2(input), expected)
print("CHECK conv1_weight_numel", net.conv1.weight.numel())
print("CHECK frozen_version", fnet2.version())
