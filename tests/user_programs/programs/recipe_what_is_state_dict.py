# Adapted from pytorch/tutorials, recipes_source/recipes/what_is_state_dict.py ("What is a
# state_dict in PyTorch").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; assertions
# at the end.
import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F
import autodiff.optim as optim


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
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

net = Net()
print(net)

optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

# Print model's state_dict
print("Model's state_dict:")
for param_tensor in net.state_dict():
    print(param_tensor, "\t", net.state_dict()[param_tensor].size())

print()

# Print optimizer's state_dict
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

# -- checks (added for the tests) --
state = net.state_dict()
assert list(state) == [f"{layer}.{kind}" for layer in ("conv1", "conv2", "fc1", "fc2", "fc3")
                       for kind in ("weight", "bias")], list(state)
assert state["conv1.weight"].size() == torch.Size([6, 3, 5, 5])
assert state["fc1.weight"].size() == (120, 400) and not state["fc1.weight"].requires_grad
assert str(net).startswith("Net(\n  (conv1): Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))")
opt_state = optimizer.state_dict()
assert list(opt_state) == ["state", "param_groups"] and opt_state["state"] == {}
group = opt_state["param_groups"][0]
assert group["params"] == list(range(10)) and group["lr"] == 0.001 and group["momentum"] == 0.9
assert group["dampening"] == 0 and group["nesterov"] is False and group["maximize"] is False
assert sorted(group) == ["dampening", "differentiable", "foreach", "fused", "lr", "maximize",
                         "momentum", "nesterov", "params", "weight_decay"], sorted(group)
