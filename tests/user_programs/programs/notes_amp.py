# Adapted from pytorch/pytorch, docs/source/notes/amp_examples.md ("Automatic Mixed Precision
# examples"): autocast with GradScaler, unscaled gradients (clipping), gradient accumulation,
# gradient penalty, several models and optimizers, custom Functions under autocast.
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; on the CPU (device_type='cpu',
# bfloat16, GradScaler('cpu')) instead of CUDA and float16; a small Net and synthetic data;
# each sample runs a few iterations; the DataParallel sections left out; assertions on dtypes,
# on the scaler's state and on the training; CHECK lines of the scaler's numbers.
import autodiff as torch
import autodiff.nn as nn
from autodiff import optim
from autodiff.amp import GradScaler, autocast, custom_bwd, custom_fwd

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


inputs = torch.randn(32, 8)
targets = inputs.sum(1, keepdim=True) * 0.5
data = [(inputs[i:i + 8], targets[i:i + 8]) for i in range(0, 32, 8)]
epochs = range(3)
loss_fn = nn.MSELoss()

# ---- Typical mixed precision training ----
model = Net()
optimizer = optim.SGD(model.parameters(), lr=0.05)
scaler = GradScaler("cpu")
losses = []
for epoch in epochs:
    for input, target in data:
        optimizer.zero_grad()
        with autocast(device_type='cpu', dtype=torch.bfloat16):
            output = model(input)
            assert output.dtype == torch.bfloat16
            loss = loss_fn(output, target)
            assert loss.dtype == torch.float32  # mse_loss autocasts to float32
        scaler.scale(loss).backward()
        assert model.fc1.weight.grad.dtype == torch.float32  # parameters stay float32
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
print(losses[0], losses[-1])
assert losses[-1] < losses[0]
print("CHECK typical_scale", scaler.get_scale())

# ---- Gradient clipping on unscaled gradients ----
max_norm = 0.1
scaler = GradScaler("cpu")
for epoch in epochs:
    for input, target in data:
        optimizer.zero_grad()
        with autocast(device_type='cpu', dtype=torch.bfloat16):
            output = model(input)
            loss = loss_fn(output, target)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        norm = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()])
        assert norm <= max_norm * 1.0001, norm
        scaler.step(optimizer)
        scaler.update()
try:
    optimizer.zero_grad()
    scaler.scale(loss_fn(model(inputs), targets)).backward()
    scaler.unscale_(optimizer)
    scaler.unscale_(optimizer)
except RuntimeError as error:
    print(error)
    assert str(error) == "unscale_() has already been called on this optimizer since the " \
        "last update().", str(error)
else:
    raise AssertionError("unscale_ ran twice")
scaler.update()

# ---- Gradient accumulation ----
iters_to_accumulate = 2
scaler = GradScaler("cpu")
steps = 0
before = model.fc2.weight.detach().clone()
for epoch in epochs:
    for i, (input, target) in enumerate(data):
        with autocast(device_type='cpu', dtype=torch.bfloat16):
            output = model(input)
            loss = loss_fn(output, target)
            loss = loss / iters_to_accumulate
        scaler.scale(loss).backward()
        if (i + 1) % iters_to_accumulate == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
            steps += 1
assert steps == 6 and not torch.equal(before, model.fc2.weight)
print("CHECK accumulation_scale", scaler.get_scale())

# ---- Gradient penalty ----
scaler = GradScaler("cpu")
for epoch in epochs:
    for input, target in data:
        optimizer.zero_grad()
        with autocast(device_type='cpu', dtype=torch.bfloat16):
            output = model(input)
            loss = loss_fn(output, target)
        scaled_grad_params = torch.autograd.grad(outputs=scaler.scale(loss),
                                                 inputs=model.parameters(),
                                                 create_graph=True)
        inv_scale = 1. / scaler.get_scale()
        grad_params = [p * inv_scale for p in scaled_grad_params]
        with autocast(device_type='cpu', dtype=torch.bfloat16):
            grad_norm = 0
            for grad in grad_params:
                grad_norm += grad.pow(2).sum()
            grad_norm = grad_norm.sqrt()
            loss = loss + grad_norm
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
assert all(torch.isfinite(p).all() for p in model.parameters())

# ---- Several models, losses and optimizers ----
model0, model1 = Net(), Net()
optimizer0 = optim.SGD(model0.parameters(), lr=0.01)
optimizer1 = optim.Adam(model1.parameters(), lr=0.01)
scaler = torch.amp.GradScaler("cpu")
for epoch in epochs:
    for input, target in data:
        optimizer0.zero_grad()
        optimizer1.zero_grad()
        with autocast(device_type='cpu', dtype=torch.bfloat16):
            output0 = model0(input)
            output1 = model1(input)
            loss0 = loss_fn(2 * output0 + 3 * output1, target)
            loss1 = loss_fn(3 * output0 - 5 * output1, target)
        scaler.scale(loss0).backward(retain_graph=True)
        scaler.scale(loss1).backward()
        scaler.unscale_(optimizer0)
        scaler.step(optimizer0)
        scaler.step(optimizer1)
        scaler.update()
print("CHECK multiple_scale", scaler.get_scale())

# A step whose gradients hold an inf is skipped, and the scale backs off.
scaler = GradScaler("cpu", init_scale=1024.0, growth_interval=1)
weight = model0.fc2.weight.detach().clone()
optimizer0.zero_grad()
loss = loss_fn(model0(inputs), targets) * float("inf")
scaler.scale(loss).backward()
scaler.step(optimizer0)
scaler.update()
assert torch.equal(model0.fc2.weight, weight) and scaler.get_scale() == 512.0
optimizer0.zero_grad()
scaler.scale(loss_fn(model0(inputs), targets)).backward()
scaler.step(optimizer0)
scaler.update()
assert scaler.get_scale() == 1024.0  # grown back after a good step (growth_interval=1)
print("CHECK backoff_scale", scaler.get_scale())
print("CHECK state_scale", scaler.state_dict()["scale"])


# ---- Custom Functions under autocast ----
class MyMM(torch.autograd.Function):
    @staticmethod
    @custom_fwd(device_type='cpu')
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.mm(b)

    @staticmethod
    @custom_bwd(device_type='cpu')
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad.mm(b.t()), a.t().mm(grad)


mymm = MyMM.apply
input1 = torch.randn(4, 3, requires_grad=True)
input2 = torch.randn(3, 2, requires_grad=True)
with autocast(device_type='cpu', dtype=torch.bfloat16):
    output = mymm(input1, input2)
    assert output.dtype == torch.bfloat16  # mm inside forward autocasts
output.float().sum().backward()
assert input1.grad.dtype == torch.float32 and input1.grad.shape == (4, 3)


class MyFloat32Func(torch.autograd.Function):
    @staticmethod
    @custom_fwd(device_type='cpu', cast_inputs=torch.float32)
    def forward(ctx, input):
        ctx.save_for_backward(input)
        assert input.dtype == torch.float32 and not torch.is_autocast_enabled('cpu')
        return input.mm(input.t())

    @staticmethod
    @custom_bwd(device_type='cpu')
    def backward(ctx, grad):
        input, = ctx.saved_tensors
        return (grad + grad.t()).mm(input)


half = torch.randn(3, 2, dtype=torch.bfloat16, requires_grad=True)
with autocast(device_type='cpu', dtype=torch.bfloat16):
    result = MyFloat32Func.apply(half)
assert result.dtype == torch.float32
result.sum().backward()
assert half.grad.dtype == torch.bfloat16

with autocast(device_type='cpu', dtype=torch.bfloat16):
    with autocast(device_type='cpu', dtype=torch.bfloat16, enabled=False):
        plain = torch.mm(input1.float(), input2.float())
assert plain.dtype == torch.float32
