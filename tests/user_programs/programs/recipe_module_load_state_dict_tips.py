# Adapted from pytorch/tutorials, recipes_source/recipes/module_load_state_dict_tips.py ("Tips
# for Loading an nn.Module from a Checkpoint").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; layers of
# size 100 instead of 1000; the per-tensor processing goes to the CPU instead of CUDA;
# assertions at the end.
import time

import autodiff as torch
from autodiff import nn


class SomeModule(torch.nn.Module):
    def __init__(self, size):
        super().__init__()
        self.linears = nn.ModuleList([nn.Linear(size, size) for i in range(10)])

    def forward(self, x):
        return self.linears(x)


m = SomeModule(100)
torch.save(m.state_dict(), 'checkpoint.pth')
saved = m

state_dict = torch.load('checkpoint.pth', mmap=True)
with torch.device('meta'):
  meta_m = SomeModule(100)
meta_m.load_state_dict(state_dict, assign=True)
assigned = meta_m

state_dict = torch.load('checkpoint.pth')
m = SomeModule(100)
m.load_state_dict(state_dict)

start_time = time.time()
state_dict = torch.load('checkpoint.pth')
end_time = time.time()
print(f"loading time without mmap={end_time - start_time}")

start_time = time.time()
state_dict = torch.load('checkpoint.pth', mmap=True)
end_time = time.time()
print(f"loading time with mmap={end_time - start_time}")

def my_special_routine(t, device):
    # this could be a much fancier operation
    return t.to(dtype=torch.bfloat16, device=device)

def my_processing_function(key, device):
    t = state_dict[key]
    processed_t = my_special_routine(t, device)
    del t
    state_dict[key] = processed_t

for key in state_dict.keys():
    device = torch.device('cpu')
    my_processing_function(key, device)

m = SomeModule(100)

with torch.device('meta'):
  new_m = SomeModule(100)

m.load_state_dict(state_dict)

new_m.load_state_dict(state_dict, assign=True)
# This MUST be done AFTER the load_state_dict with assign.
opt = torch.optim.SGD(new_m.parameters(), lr=1e-3)

# -- checks (added for the tests) --
with torch.device('meta'):
    probe_m = SomeModule(100)
assert all(p.is_meta and p.shape in ((100, 100), (100,)) for p in probe_m.parameters())
assert not any(p.is_meta for p in assigned.parameters())
assert all(torch.equal(a, b) for a, b in zip(assigned.parameters(), saved.parameters()))
assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in assigned.parameters())
# load_state_dict copies into m's float32 parameters; assign=True takes the bfloat16 tensors.
assert all(p.dtype == torch.float32 for p in m.parameters())
assert all(p.dtype == torch.bfloat16 and isinstance(p, nn.Parameter)
           for p in new_m.parameters())
assert torch.equal(m.linears[3].weight, saved.linears[3].weight.bfloat16().float())
assert opt.param_groups[0]["params"][0] is new_m.linears[0].weight
with torch.device('meta'):
    probe = torch.empty(3)
assert probe.device == torch.device('meta') and probe.is_meta
