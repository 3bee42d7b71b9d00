# Adapted from pytorch/tutorials,
# recipes_source/recipes/warmstarting_model_using_parameters_from_a_different_model.py
# ("Warmstarting model using parameters from a different model in PyTorch").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the
# functional module imported as F (the recipe uses it without importing it); assertions at the
# end, with a partial load whose keys do not all match.
import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F


class NetA(nn.Module):
    def __init__(self):
        super(NetA, self).__init__()
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

netA = NetA()

class NetB(nn.Module):
    def __init__(self):
        super(NetB, self).__init__()
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

netB = NetB()

# Specify a path to save to
PATH = "model.pt"

torch.save(netA.state_dict(), PATH)

result = netB.load_state_dict(torch.load(PATH), strict=False)

# -- checks (added for the tests) --
print(result)
assert result.missing_keys == [] and result.unexpected_keys == [], result
assert str(result) == "<All keys matched successfully>"
assert all(torch.equal(a, b) for a, b in zip(netA.parameters(), netB.parameters()))

# A partial state_dict, with one key renamed the way the recipe suggests and one left over.
partial = torch.load(PATH)
partial["fc3.extra"] = partial.pop("fc3.bias")
netC = NetB()
fc3_bias = netC.fc3.bias.detach().clone()
result = netC.load_state_dict(partial, strict=False)
print(result)
assert result.missing_keys == ["fc3.bias"] and result.unexpected_keys == ["fc3.extra"], result
assert torch.equal(netC.fc3.bias, fc3_bias) and torch.equal(netC.fc3.weight, netA.fc3.weight)
try:
    netC.load_state_dict(partial)
except RuntimeError as error:
    message = str(error)
    assert message.startswith('Error(s) in loading state_dict for NetB:\n\tMissing key(s) in '
                              'state_dict: "fc3.bias". \n\tUnexpected key(s) in state_dict: '
                              '"fc3.extra". '), message
else:
    raise AssertionError("strict load_state_dict accepted mismatched keys")
