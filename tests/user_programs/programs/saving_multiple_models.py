# Adapted from pytorch/tutorials, recipes_source/recipes/saving_multiple_models_in_one_file.py
# ("Saving and loading multiple models in one file using PyTorch").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the
# functional module imported as F (the recipe uses it without importing it); a training step
# before saving, so the optimizers have state; assertions at the end.
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
        x = x.flatten(start_dim=1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

netA = Net()
netB = Net()

optimizerA = optim.SGD(netA.parameters(), lr=0.001, momentum=0.9)
optimizerB = optim.SGD(netB.parameters(), lr=0.001, momentum=0.9)

images, labels = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
for net, optimizer in ((netA, optimizerA), (netB, optimizerB)):
    optimizer.zero_grad()
    F.cross_entropy(net(images), labels).backward()
    optimizer.step()

# Specify a path to save to
PATH = "model.pt"

torch.save({
            'modelA_state_dict': netA.state_dict(),
            'modelB_state_dict': netB.state_dict(),
            'optimizerA_state_dict': optimizerA.state_dict(),
            'optimizerB_state_dict': optimizerB.state_dict(),
            }, PATH)

modelA = Net()
modelB = Net()
optimModelA = optim.SGD(modelA.parameters(), lr=0.001, momentum=0.9)
optimModelB = optim.SGD(modelB.parameters(), lr=0.001, momentum=0.9)

checkpoint = torch.load(PATH)
modelA.load_state_dict(checkpoint['modelA_state_dict'])
modelB.load_state_dict(checkpoint['modelB_state_dict'])
optimizerA.load_state_dict(checkpoint['optimizerA_state_dict'])
optimizerB.load_state_dict(checkpoint['optimizerB_state_dict'])

modelA.eval()
modelB.eval()
# - or -
modelA.train()
modelB.train()

# The loaded models compute what the saved ones do; the momentum buffers came back too.
assert sorted(checkpoint) == ['modelA_state_dict', 'modelB_state_dict',
                              'optimizerA_state_dict', 'optimizerB_state_dict']
with torch.no_grad():
    assert torch.equal(modelA(images), netA(images))
    assert torch.equal(modelB(images), netB(images))
    assert not torch.equal(modelA(images), modelB(images))
for name, tensor in modelA.state_dict().items():
    assert torch.equal(tensor, netA.state_dict()[name]), name
state = optimizerA.state_dict()
assert state["param_groups"][0]["momentum"] == 0.9
assert len(state["state"]) == len(list(netA.parameters()))
assert all("momentum_buffer" in entry for entry in state["state"].values())
# the loaded optimizer state moves the models on as before
optimModelA.load_state_dict(checkpoint['optimizerA_state_dict'])
optimModelA.zero_grad()
F.cross_entropy(modelA(images), labels).backward()
optimModelA.step()
assert not torch.equal(modelA.fc3.weight, netA.fc3.weight)
print("saved and loaded two models and their optimizers: ok")
