# Adapted from pytorch/tutorials, recipes_source/recipes/tuning_guide.py ("Performance Tuning
# Guide"): the snippets that run on a CPU.
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a small
# convolutional model of the program's own stands in for torchvision's resnet50 (and for the
# guide's undefined `model`, `optimizer`, `m` and `example_input`); the oneDNN Graph, AMP and
# compile settings are switched on and used on that model; the GPU-only settings (cuDNN
# benchmark, CUDA graphs' compile modes) are set on the CPU, where they change nothing; the
# guide's tips without code (no_grad, bias before batch norm, channels_last, checkpointing,
# preallocation) get a few lines each; assertions and CHECK lines at the end.
import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F
from autodiff.utils.checkpoint import checkpoint

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        # Disable bias for convolutions directly followed by a batch norm
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return self.fc(x.mean((2, 3)))


model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
example_input = torch.rand(4, 3, 8, 8)
target = torch.randint(0, 4, (4,))

# ---- Disable gradient calculation for validation or inference ----
with torch.no_grad():
    out = model(example_input)
assert not out.requires_grad


@torch.no_grad()
def evaluate(x):
    return model(x)


assert not evaluate(example_input).requires_grad

# ---- The bias a batch norm cancels: a conv bias changes nothing after BatchNorm (training) ----
with_bias = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8))
without_bias = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
with torch.no_grad():
    without_bias[0].weight.copy_(with_bias[0].weight)
    with_bias[0].bias.fill_(3.0)
assert torch.allclose(with_bias(example_input), without_bias(example_input), atol=1e-5)

# ---- Use parameter.grad = None instead of model.zero_grad() or optimizer.zero_grad() ----
F.cross_entropy(model(example_input), target).backward()
model.zero_grad()
# or
optimizer.zero_grad()
assert all(param.grad is None for param in model.parameters())  # set_to_none is the default

F.cross_entropy(model(example_input), target).backward()
for param in model.parameters():
    param.grad = None
assert all(param.grad is None for param in model.parameters())
F.cross_entropy(model(example_input), target).backward()
model.zero_grad(set_to_none=False)
assert all((param.grad == 0).all() for param in model.parameters())
optimizer.zero_grad(set_to_none=True)
assert all(param.grad is None for param in model.parameters())

# ---- Fuse operations ----


@torch.compile
def gelu(x):
    return x * 0.5 * (1.0 + torch.erf(x / 1.41421))


x = torch.randn(64)
assert torch.allclose(gelu(x), F.gelu(x), atol=1e-4)

# ---- Enable channels_last memory format ----
model = model.to(memory_format=torch.channels_last)
assert model.conv.weight.is_contiguous(memory_format=torch.channels_last)
input_cl = example_input.to(memory_format=torch.channels_last)
assert torch.allclose(model(input_cl), model(example_input), atol=1e-5)

# ---- Checkpoint intermediate buffers ----
features = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 8))
inputs = torch.randn(5, 8, requires_grad=True)
checkpoint(features, inputs, use_reentrant=False).sum().backward()
checkpointed = inputs.grad.clone()
inputs.grad = None
features(inputs).sum().backward()
assert torch.allclose(checkpointed, inputs.grad)

# ---- Disable debugging APIs ----
torch.autograd.set_detect_anomaly(False)
assert not torch.is_anomaly_enabled()
with torch.autograd.detect_anomaly():
    assert torch.is_anomaly_enabled()
assert not torch.is_anomaly_enabled()
with torch.autograd.profiler.profile(enabled=False) as prof:
    model(example_input)

# ---- Use oneDNN Graph with TorchScript for inference ----
# Only this extra line of code is required to use oneDNN Graph
torch.jit.enable_onednn_fusion(True)
assert torch.jit.onednn_fusion_enabled()

# sample input should be of the same shape as expected inputs
sample_input = [torch.rand(4, 3, 8, 8)]
model = Net().eval()
# Tracing the model with example input
traced_model = torch.jit.trace(model, sample_input)
# Invoking torch.jit.freeze
traced_model = torch.jit.freeze(traced_model)

with torch.no_grad():
    # a couple of warm-up runs
    traced_model(*sample_input)
    traced_model(*sample_input)
    # speedup would be observed after warm-up runs
    traced = traced_model(*sample_input)
    assert torch.allclose(traced, model(*sample_input), atol=1e-5)

# AMP for JIT mode is enabled by default, and is divergent with its eager mode counterpart
torch._C._jit_set_autocast_mode(False)

with torch.no_grad(), torch.cpu.amp.autocast(cache_enabled=False, dtype=torch.bfloat16):
    # Conv-BatchNorm folding for CNN-based Vision Models should be done with
    # ``torch.fx.experimental.optimization.fuse`` when AMP is used
    import autodiff.fx.experimental.optimization as optimization
    # Please note that optimization.fuse need not be called when AMP is not used
    model = optimization.fuse(model)
    model = torch.jit.trace(model, (example_input))
    model = torch.jit.freeze(model)
    # a couple of warm-up runs
    model(example_input)
    model(example_input)
    # speedup would be observed in subsequent runs.
    bf16_out = model(example_input)
torch._C._jit_set_autocast_mode(True)
torch.jit.enable_onednn_fusion(False)
assert bf16_out.dtype == torch.bfloat16
assert torch.allclose(bf16_out.float(), traced, atol=0.1)

# ---- Enable Tensor cores: the float32 matmul precision ----
torch.set_float32_matmul_precision("high")
assert torch.get_float32_matmul_precision() == "high"
torch.set_float32_matmul_precision("highest")

# ---- Use CUDA Graphs: compile modes ----
m = nn.Linear(8, 8)
x = torch.randn(2, 8)
reduce_overhead = torch.compile(m, mode="reduce-overhead")
max_autotune = torch.compile(m, mode="max-autotune")
assert torch.allclose(reduce_overhead(x), m(x)) and torch.allclose(max_autotune(x), m(x))

# ---- Enable cuDNN auto-tuner ----
torch.backends.cudnn.benchmark = True
assert torch.backends.cudnn.benchmark
torch.backends.cudnn.benchmark = False

# ---- Create tensors directly on the target device ----
device = 'cpu'
assert torch.rand(3, device=device).device.type == 'cpu'
assert torch.full((2,), 7.0, device=device).tolist() == [7.0, 7.0]

# ---- Preallocate memory in case of variable input length ----
lstm = nn.LSTM(4, 8, batch_first=True)
longest = torch.randn(2, 20, 4)
lstm(longest)[0].sum().backward()  # forward and backward at the maximum length
lstm.zero_grad()
assert all(param.grad is None for param in lstm.parameters())
for length in (5, 12, 20):
    lstm(torch.randn(2, length, 4))[0].sum().backward()

print("CHECK gelu_sum", float(gelu(torch.tensor([0.5, -1.0, 2.0])).sum()))
