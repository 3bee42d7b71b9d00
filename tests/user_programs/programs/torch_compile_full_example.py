# Adapted from pytorch/tutorials, intermediate_source/torch_compile_full_example.py
# ("torch.compile End-to-End Tutorial").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; instead of
# torchvision's densenet121, a small network of densely connected conv-batchnorm-relu layers
# (the same building block), on 32x32 images of 10 classes; it runs on `device`, timed with
# CUDA events on CUDA and time.perf_counter elsewhere; batches of 4, 3 iterations; the
# speedup assertions are left out (a tiny network on a CPU); the compiled results are checked
# against eager instead, with CHECK-free assertions at the end.
import time
import warnings

import autodiff as torch

gpu_ok = False
if torch.cuda.is_available():
    device_cap = torch.cuda.get_device_capability()
    if device_cap in ((7, 0), (8, 0), (9, 0)):
        gpu_ok = True

if not gpu_ok:
    warnings.warn(
        "GPU is not NVIDIA V100, A100, or H100. Speedup numbers may be lower "
        "than expected.", stacklevel=1
    )

device = "cuda" if torch.cuda.is_available() else "cpu"


def timed(fn):
    if device == "cuda":
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        result = fn()
        end.record()
        torch.cuda.synchronize()
        return result, start.elapsed_time(end) / 1000
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def generate_data(b):
    return (
        torch.randn(b, 3, 32, 32).to(device),
        torch.randint(10, (b,)).to(device),
    )


N_ITERS = 3


class DenseLayer(torch.nn.Module):
    def __init__(self, channels, growth):
        super().__init__()
        self.norm = torch.nn.BatchNorm2d(channels)
        self.conv = torch.nn.Conv2d(channels, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return torch.cat([x, self.conv(torch.relu(self.norm(x)))], 1)


def densenet_small():
    layers = [torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)]
    channels = 8
    for _ in range(3):
        layers.append(DenseLayer(channels, 4))
        channels += 4
    layers += [torch.nn.BatchNorm2d(channels), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
               torch.nn.Flatten(), torch.nn.Linear(channels, 10)]
    return torch.nn.Sequential(*layers)


def init_model():
    torch.manual_seed(0)
    return densenet_small().to(device)


model = init_model()

model_opt = init_model()
model_opt.compile(mode="reduce-overhead")

inp = generate_data(4)[0]
with torch.no_grad():
    print("eager:", timed(lambda: model(inp))[1])
    print("compile:", timed(lambda: model_opt(inp))[1])

eager_times = []
for i in range(N_ITERS):
    inp = generate_data(4)[0]
    with torch.no_grad():
        _, eager_time = timed(lambda: model(inp))  # noqa: B023
    eager_times.append(eager_time)
    print(f"eager eval time {i}: {eager_time}")

print("~" * 10)

compile_times = []
for i in range(N_ITERS):
    inp = generate_data(4)[0]
    with torch.no_grad():
        result, compile_time = timed(lambda: model_opt(inp))  # noqa: B023
        torch.testing.assert_close(result, model(inp), rtol=1e-4, atol=1e-5)
    compile_times.append(compile_time)
    print(f"compile eval time {i}: {compile_time}")
print("~" * 10)

import numpy as np

eager_med = np.median(eager_times)
compile_med = np.median(compile_times)
speedup = eager_med / compile_med
print(
    f"(eval) eager median: {eager_med}, compile median: {compile_med}, speedup: {speedup}x"
)
print("~" * 10)

model = init_model()
opt = torch.optim.Adam(model.parameters())


def train(mod, data):
    opt.zero_grad(True)
    pred = mod(data[0])
    loss = torch.nn.CrossEntropyLoss()(pred, data[1])
    loss.backward()
    opt.step()


torch.manual_seed(1)
batches = [generate_data(4) for _ in range(N_ITERS)]
eager_times = []
for i in range(N_ITERS):
    inp = batches[i]
    _, eager_time = timed(lambda: train(model, inp))  # noqa: B023
    eager_times.append(eager_time)
    print(f"eager train time {i}: {eager_time}")
print("~" * 10)
eager_model = model

model = init_model()
opt = torch.optim.Adam(model.parameters())

train_opt = torch.compile(train, mode="reduce-overhead")

compile_times = []
for i in range(N_ITERS):
    inp = batches[i]
    _, compile_time = timed(lambda: train_opt(model, inp))  # noqa: B023
    compile_times.append(compile_time)
    print(f"compile train time {i}: {compile_time}")
print("~" * 10)

eager_med = np.median(eager_times)
compile_med = np.median(compile_times)
speedup = eager_med / compile_med
print(
    f"(train) eager median: {eager_med}, compile median: {compile_med}, speedup: {speedup}x"
)
print("~" * 10)

# Checks: compiled training took the same steps as eager training.
for (name, eager_parameter), compiled_parameter in zip(eager_model.named_parameters(),
                                                       model.parameters()):
    torch.testing.assert_close(compiled_parameter, eager_parameter, rtol=1e-4, atol=1e-5,
                               msg=name)
for eager_buffer, compiled_buffer in zip(eager_model.buffers(), model.buffers()):
    torch.testing.assert_close(compiled_buffer, eager_buffer, rtol=1e-4, atol=1e-5)
