# Adapted from pytorch/tutorials, recipes_source/recipes/amp_recipe.py ("Automatic Mixed
# Precision").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; run on the
# CPU, where autocast's lower precision is bfloat16 (the recipe's float16 is CUDA's default):
# `torch.cuda.amp.autocast()` becomes `torch.autocast(device_type="cpu", dtype=torch.bfloat16)`
# and `torch.cuda.amp.GradScaler()` becomes `torch.amp.GradScaler("cpu")`; the CUDA memory
# statistics and synchronizations of the timing helpers are left out; sizes shrunk to batch 64,
# width 64, 4 batches, 2 epochs; the illustration-only loops (range(0)) run one epoch; the
# checkpoint goes through torch.save/torch.load; assertions at the end.
import gc
import time

import autodiff as torch

# Timing utilities
start_time = None

def start_timer():
    global start_time
    gc.collect()
    start_time = time.time()

def end_timer_and_print(local_msg):
    end_time = time.time()
    print("\n" + local_msg)
    print("Total execution time = {:.3f} sec".format(end_time - start_time))


def make_model(in_size, out_size, num_layers):
    layers = []
    for _ in range(num_layers - 1):
        layers.append(torch.nn.Linear(in_size, in_size))
        layers.append(torch.nn.ReLU())
    layers.append(torch.nn.Linear(in_size, out_size))
    return torch.nn.Sequential(*tuple(layers)).to(device)


torch.manual_seed(0)
device = "cpu"
batch_size = 64
in_size = 64
out_size = 64
num_layers = 3
num_batches = 4
epochs = 2

data = [torch.randn(batch_size, in_size, device=device) for _ in range(num_batches)]
targets = [torch.randn(batch_size, out_size, device=device) for _ in range(num_batches)]

loss_fn = torch.nn.MSELoss().to(device)

# Default precision
net = make_model(in_size, out_size, num_layers)
opt = torch.optim.SGD(net.parameters(), lr=0.001)

start_timer()
for epoch in range(epochs):
    for input, target in zip(data, targets):
        output = net(input)
        loss = loss_fn(output, target)
        loss.backward()
        opt.step()
        opt.zero_grad() # set_to_none=True here can modestly improve performance
end_timer_and_print("Default precision:")
default_loss = loss.item()

# Adding autocast
for epoch in range(1):
    for input, target in zip(data, targets):
        # Runs the forward pass under autocast.
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            output = net(input)
            # output is bfloat16 because linear layers autocast to bfloat16.
            assert output.dtype is torch.bfloat16

            loss = loss_fn(output, target)
            # loss is float32 because mse_loss layers autocast to float32.
            assert loss.dtype is torch.float32

        # Exits autocast before backward().
        loss.backward()
        # Gradients have their parameters' dtype, float32.
        assert all(p.grad.dtype is torch.float32 for p in net.parameters())
        opt.step()
        opt.zero_grad() # set_to_none=True here can modestly improve performance

# Adding GradScaler
scaler = torch.amp.GradScaler(device)

for epoch in range(1):
    for input, target in zip(data, targets):
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            output = net(input)
            loss = loss_fn(output, target)

        # Scales loss.  Calls backward() on scaled loss to create scaled gradients.
        scaler.scale(loss).backward()

        # scaler.step() first unscales the gradients of the optimizer's assigned params.
        # If these gradients do not contain infs or NaNs, optimizer.step() is then called,
        # otherwise, optimizer.step() is skipped.
        scaler.step(opt)

        # Updates the scale for next iteration.
        scaler.update()

        opt.zero_grad()

# All together ("Automatic Mixed Precision")
use_amp = True

net = make_model(in_size, out_size, num_layers)
opt = torch.optim.SGD(net.parameters(), lr=0.001)
scaler = torch.amp.GradScaler(device, enabled=use_amp)

start_timer()
amp_losses = []
for epoch in range(epochs):
    for input, target in zip(data, targets):
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_amp):
            output = net(input)
            loss = loss_fn(output, target)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
        amp_losses.append(loss.item())
end_timer_and_print("Mixed precision:")

# Inspecting/modifying gradients (e.g., clipping)
for epoch in range(1):
    for input, target in zip(data, targets):
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            output = net(input)
            loss = loss_fn(output, target)
        scaler.scale(loss).backward()

        # Unscales the gradients of optimizer's assigned params in-place
        scaler.unscale_(opt)

        # Since the gradients of optimizer's assigned params are now unscaled, clips as usual.
        # You may use the same value for max_norm here as you would without gradient scaling.
        total_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.1)
        clipped = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p.grad) for p in net.parameters()]))
        assert clipped.item() <= 0.1 * (1 + 1e-4), (total_norm, clipped)

        scaler.step(opt)
        scaler.update()
        opt.zero_grad()

# Saving/Resuming
checkpoint = {"model": net.state_dict(),
              "optimizer": opt.state_dict(),
              "scaler": scaler.state_dict()}
torch.save(checkpoint, "checkpoint.pt")
checkpoint = torch.load("checkpoint.pt")

net.load_state_dict(checkpoint["model"])
opt.load_state_dict(checkpoint["optimizer"])
scaler.load_state_dict(checkpoint["scaler"])

# -- checks (added for the tests) --
print("default precision loss", default_loss, "mixed precision losses", amp_losses)
assert all(0.0 < value < 10.0 for value in amp_losses), amp_losses
state = checkpoint["scaler"]
assert sorted(state) == ["_growth_tracker", "backoff_factor", "growth_factor",
                         "growth_interval", "scale"], sorted(state)
assert state["scale"] == 65536.0 and state["_growth_tracker"] == 3 * num_batches, state
assert scaler.get_scale() == 65536.0
# Outside autocast everything is float32 again.
assert net(data[0]).dtype is torch.float32
# A disabled scaler passes the loss through and steps as the optimizer does.
off = torch.amp.GradScaler(device, enabled=False)
assert off.scale(loss) is loss and not off.is_enabled()
# An overflowing gradient skips the step and halves the scale.
before = [p.detach().clone() for p in net.parameters()]
with torch.autocast(device_type=device, dtype=torch.bfloat16):
    loss = loss_fn(net(data[0]), targets[0])
scaler.scale(loss * float("inf")).backward()
scaler.step(opt)
scaler.update()
opt.zero_grad()
assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
assert scaler.get_scale() == 32768.0, scaler.get_scale()
# Inference under autocast alone.
with torch.no_grad(), torch.autocast(device_type=device, dtype=torch.bfloat16):
    assert net(data[0]).dtype is torch.bfloat16
