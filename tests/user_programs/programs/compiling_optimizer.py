# Adapted from pytorch/tutorials, recipes_source/compiling_optimizer.py ("(beta) Compiling the
# optimizer with torch.compile") and recipes_source/compiling_optimizer_lr_scheduler.py
# ("(beta) Running the compiled optimizer with an LR Scheduler").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; on the CPU (the recipes exit
# without CUDA); 10 layers of 64 features, not 1024, with weights set from a formula; the
# benchmark's timing kept but not its speed assertion (a loaded machine cannot promise it);
# the compiled and eager steps compared; assertions and CHECK lines at the end.
import math

import autodiff as torch
import autodiff.utils.benchmark as benchmark


def make_model():
    model = torch.nn.Sequential(
        *[torch.nn.Linear(64, 64, False) for _ in range(10)]
    )
    with torch.no_grad():
        for i, layer in enumerate(model):
            layer.weight.copy_(torch.sin(torch.arange(64 * 64.0).reshape(64, 64) + i) / 8)
    return model


model = make_model()
input = torch.cos(torch.arange(64.0))
output = model(input)
output.sum().backward()

# -- compiling_optimizer.py --
opt = torch.optim.Adam(model.parameters(), lr=0.01)


@torch.compile()
def fn():
    opt.step()


def benchmark_torch_function_in_microseconds(f, *args, **kwargs):
    t0 = benchmark.Timer(
        stmt="f(*args, **kwargs)", globals={"args": args, "kwargs": kwargs, "f": f}
    )
    return t0.blocked_autorange(min_run_time=0.05).mean * 1e6


# Warmup runs to compile the function
for _ in range(5):
    fn()

eager_runtime = benchmark_torch_function_in_microseconds(opt.step)
compiled_runtime = benchmark_torch_function_in_microseconds(fn)

print(f"eager runtime: {eager_runtime}us")
print(f"compiled runtime: {compiled_runtime}us")

# (checks) Five compiled steps from the same start are five eager steps.
eager_model = make_model()
eager_model(input).sum().backward()
eager_opt = torch.optim.Adam(eager_model.parameters(), lr=0.01)
compiled_model = make_model()
compiled_model(input).sum().backward()
compiled_opt = torch.optim.Adam(compiled_model.parameters(), lr=0.01)


@torch.compile()
def compiled_step():
    compiled_opt.step()


for _ in range(5):
    eager_opt.step()
    compiled_step()
for eager_p, compiled_p in zip(eager_model.parameters(), compiled_model.parameters()):
    torch.testing.assert_close(compiled_p, eager_p)
assert compiled_opt.state_dict()["state"][0]["step"].item() == 5

# -- compiling_optimizer_lr_scheduler.py --
model = make_model()
model(input).sum().backward()

# !!! IMPORTANT !!! Wrap the lr in a Tensor if we are pairing the
# the optimizer with an LR Scheduler.
# Without this, torch.compile will recompile as the value of the LR
# changes.
opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01))
sched = torch.optim.lr_scheduler.LinearLR(opt, total_iters=5)


@torch.compile(fullgraph=False)
def fn():
    opt.step()
    sched.step()


# Warmup runs to compile the function
lrs = []
for _ in range(5):
    fn()
    print(opt.param_groups[0]["lr"])
    lrs.append(opt.param_groups[0]["lr"].item())

# No longer wrap the LR in a tensor here
opt = torch.optim.Adam(model.parameters(), lr=0.01)
sched = torch.optim.lr_scheduler.LinearLR(opt, total_iters=5)


@torch.compile(fullgraph=False)
def fn():
    opt.step()
    sched.step()


# Setup logging to view recompiles
torch._logging.set_logs(recompiles=True)

# Warmup runs to compile the function
# We will now recompile on each iteration
# as the value of the lr is mutated.
float_lrs = []
for _ in range(5):
    fn()
    float_lrs.append(opt.param_groups[0]["lr"])

# -- checks (added for the tests) --
assert isinstance(opt.param_groups[0]["lr"], float)
expected = [0.01 * (1 / 3 + (2 / 3) * min(i, 5) / 5) for i in range(1, 6)]
assert all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(lrs, expected)), lrs
assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(float_lrs, expected)), float_lrs
for i, lr in enumerate(lrs):
    print(f"CHECK tensor_lr_{i}", lr)
print("CHECK float_lr_last", float_lrs[-1])
