# Adapted from pytorch/tutorials, recipes_source/compiling_optimizer_lr_scheduler.py ("Running
# the compiled optimizer with an LR Scheduler").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the model
# runs on `device` (CUDA where available), 10 layers of width 128; the CUDA capability check
# applies only on CUDA; the learning rates are kept; assertions at the end.
import autodiff as torch

device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)

# Create simple model
model = torch.nn.Sequential(
    *[torch.nn.Linear(128, 128, False, device=device) for _ in range(10)]
)
input = torch.rand(128, device=device)

# run forward pass
output = model(input)

# run backward to populate the grads for our optimizer below
output.sum().backward()

# exit cleanly if we are on a device that doesn't support torch.compile
if device == "cuda" and torch.cuda.get_device_capability() < (7, 0):
    print("Exiting because torch.compile is not supported on this device.")
    import sys
    sys.exit(0)

# !!! IMPORTANT !!! Wrap the lr in a Tensor if we are pairing the
# the optimizer with an LR Scheduler.
opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01))
sched = torch.optim.lr_scheduler.LinearLR(opt, total_iters=5)


@torch.compile(fullgraph=False)
def fn():
    opt.step()
    sched.step()


tensor_lrs = []
# Warmup runs to compile the function
for _ in range(5):
    fn()
    print(opt.param_groups[0]["lr"])
    lr = opt.param_groups[0]["lr"]
    tensor_lrs.append((isinstance(lr, torch.Tensor) and lr.dim() == 0, lr.item()))
tensor_weight = model[0].weight.detach().clone()

# No longer wrap the LR in a tensor here
opt = torch.optim.Adam(model.parameters(), lr=0.01)
sched = torch.optim.lr_scheduler.LinearLR(opt, total_iters=5)


@torch.compile(fullgraph=False)
def fn():
    opt.step()
    sched.step()


# Setup logging to view recompiles
torch._logging.set_logs(recompiles=True)

float_lrs = []
for _ in range(5):
    fn()
    float_lrs.append(opt.param_groups[0]["lr"])
torch._logging.set_logs()

# Checks: the tutorial's sample output (the learning rate as a tensor, moving linearly from a
# third of 0.01 to 0.01), the same values as floats, and the weights moved.
expected = [0.0047, 0.0060, 0.0073, 0.0087, 0.0100]
assert all(is_tensor for is_tensor, _ in tensor_lrs)
assert [round(lr, 4) for _, lr in tensor_lrs] == expected, tensor_lrs
assert [round(lr, 4) for lr in float_lrs] == expected, float_lrs
assert all(isinstance(lr, float) for lr in float_lrs)
assert not torch.equal(model[0].weight.detach(), tensor_weight)
print("CHECK last_lr", tensor_lrs[-1][1])
