# Adapted from pytorch/tutorials, recipes_source/recipes/save_load_across_devices.py ("Saving and
# loading models across devices in PyTorch").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the functional
# module imported as F (the recipe uses it without importing it); 'cuda' where there is one and
# the meta device otherwise stands in for the GPU; the DataParallel model the last step saves is
# built (the recipe saves `net.module` of a plain Net); map_location as a string, a dict and a
# function as torch.load's documentation lists them; assertions and CHECK lines at the end.
import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F
import autodiff.optim as optim

GPU = 'cuda' if torch.cuda.is_available() else 'meta'
torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.flatten(start_dim=1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
print(net)
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
inputs = torch.randn(4, 3, 32, 32)
loss = net(inputs).square().mean()
loss.backward()
optimizer.step()
expected = net(inputs).detach()

# ---- 3. Save on GPU, load on CPU ----
PATH = "model.pt"
torch.save(net.state_dict(), PATH)
device = torch.device('cpu')
model = Net()
print(model.load_state_dict(torch.load(PATH, map_location=device)))
assert torch.equal(model(inputs), expected)
assert all(p.device == device for p in model.parameters())

# ---- 4. Save on GPU, load on GPU ----
torch.save(net.state_dict(), PATH)
device = torch.device(GPU)
model = Net()
model.load_state_dict(torch.load(PATH))
model.to(device)
assert all(p.device.type == GPU for p in model.parameters())
# `to` returns a new tensor and leaves its input where it was
my_tensor = torch.ones(3)
moved = my_tensor.to(device)
assert my_tensor.device.type == 'cpu' and moved.device.type == GPU

# ---- 5. Save on CPU, load on GPU ----
torch.save(net.state_dict(), PATH)
model = Net()
loaded = torch.load(PATH, map_location=GPU if GPU == 'meta' else "cuda:0")
assert all(t.device.type == GPU for t in loaded.values())
print(model.load_state_dict(loaded, assign=GPU == 'meta'))
model.to(device)
assert model.fc3.weight.device.type == GPU

# map_location's other forms: a dict of locations, and a function of (storage, location)
on_cpu = torch.load(PATH, map_location={'cuda:0': 'cpu'})
assert all(t.device.type == 'cpu' for t in on_cpu.values())
locations = []


def remember(storage, location):
    locations.append(location)
    return storage


on_cpu = torch.load(PATH, map_location=remember)
assert set(locations) == {'cpu'}, locations
assert torch.equal(on_cpu['fc3.bias'], net.fc3.bias.detach())
on_cpu = torch.load(PATH, map_location=lambda storage, loc: storage)
assert torch.equal(on_cpu['conv1.weight'], net.conv1.weight.detach())

# ---- 6. Saving torch.nn.DataParallel models ----
parallel = nn.DataParallel(net)
assert next(iter(parallel.state_dict())) == 'module.conv1.weight'
torch.save(parallel.module.state_dict(), PATH)
model = Net()
print(model.load_state_dict(torch.load(PATH, map_location='cpu')))
assert torch.equal(model(inputs), expected)

print("CHECK loss", loss.item())
print("CHECK output_sum", float(expected.sum()))
