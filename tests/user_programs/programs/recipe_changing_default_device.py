# Adapted from pytorch/tutorials, recipes_source/recipes/changing_default_device.py ("Changing
# default device").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; DEVICE, CUDA
# where there is one and the meta device otherwise, stands in for 'cuda'; assertions at the end.
import autodiff as torch

USE_CUDA = False
DEVICE = 'cuda' if torch.cuda.is_available() else 'meta'

mod = torch.nn.Linear(20, 30)
if USE_CUDA:
    mod.cuda()

device = 'cpu'
if USE_CUDA:
    device = 'cuda'
inp = torch.randn(128, 20, device=device)
print(mod(inp).device)
first = mod(inp).device

with torch.device(DEVICE):
    mod = torch.nn.Linear(20, 30)
    print(mod.weight.device)
    print(mod(torch.randn(128, 20)).device)
    inside = mod.weight.device, mod(torch.randn(128, 20)).device

torch.set_default_device(DEVICE)

mod = torch.nn.Linear(20, 30)
print(mod.weight.device)
print(mod(torch.randn(128, 20)).device)
default = mod.weight.device, mod(torch.randn(128, 20)).device

# -- checks (added for the tests) --
expected = torch.device(DEVICE, 0) if DEVICE == 'cuda' else torch.device(DEVICE)
assert first == torch.device('cpu'), first
assert inside == (expected, expected), inside
assert default == (expected, expected), default
assert torch.get_default_device() == expected, torch.get_default_device()
assert torch.tensor([1.0]).device == expected and torch.zeros(2).device == expected
torch.set_default_device(None)
assert torch.get_default_device() == torch.device('cpu') and torch.ones(1).device.type == 'cpu'
