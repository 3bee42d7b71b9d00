# Adapted from pytorch/tutorials, recipes_source/recipes/saving_and_loading_models_for_inference.py
# ("Saving and loading models for inference in PyTorch").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the
# functional module imported as F (the recipe uses it without importing it); the whole model
# loaded with weights_only=False, as torch.load has wanted since PyTorch 2.6; assertions at the
# end.
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

# Specify a path
PATH = "state_dict_model.pt"

# Save
torch.save(net.state_dict(), PATH)

# Load
model = Net()
model.load_state_dict(torch.load(PATH))
model.eval()
state_dict_model = model

# Specify a path
PATH = "entire_model.pt"

# Save
torch.save(net, PATH)

# Load
model = torch.load(PATH, weights_only=False)
model.eval()

# -- checks (added for the tests) --
images = torch.randn(4, 3, 32, 32)
with torch.no_grad():
    expected = net(images)
    assert torch.equal(state_dict_model(images), expected)
    assert torch.equal(model(images), expected)
assert type(model) is Net and model is not net and not model.training and net.training
assert all(torch.equal(a, b) for a, b in zip(model.parameters(), net.parameters()))
assert all(isinstance(p, nn.Parameter) for p in model.parameters())
try:
    torch.load(PATH)  # weights_only=True by default: a whole module is refused
except Exception as error:  # pickle.UnpicklingError
    assert "Weights only load failed" in str(error), error
else:
    raise AssertionError("torch.load(weights_only=True) loaded a whole module")
