# Adapted from pytorch/tutorials, recipes_source/recipes/saving_and_loading_a_general_checkpoint.py
# ("Saving and loading a general checkpoint in PyTorch").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the
# functional module imported as F (the recipe uses it without importing it); the optimizer that
# is rebuilt after loading is given the loaded model's parameters (the recipe passes `net`'s);
# a few training steps on random CIFAR-shaped data before the save, and assertions at the end
# that resuming from the checkpoint continues exactly as the uninterrupted run does.
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

torch.manual_seed(0)
net = Net()
print(net)

optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

# -- a few training steps, so that the optimizer has momentum buffers to save (added) --
inputs = torch.randn(6, 8, 3, 32, 32)
labels = torch.randint(0, 10, (6, 8))
criterion = nn.CrossEntropyLoss()


def train_step(model, opt, i):
    opt.zero_grad()
    loss = criterion(model(inputs[i]), labels[i])
    loss.backward()
    opt.step()
    return loss.item()


for i in range(3):
    LOSS = train_step(net, optimizer, i)

# Additional information
EPOCH = 5
PATH = "model.pt"

torch.save({
            'epoch': EPOCH,
            'model_state_dict': net.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(),
            'loss': LOSS,
            }, PATH)

model = Net()
optimizer_resumed = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

checkpoint = torch.load(PATH)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer_resumed.load_state_dict(checkpoint['optimizer_state_dict'])
epoch = checkpoint['epoch']
loss = checkpoint['loss']

model.eval()
# - or -
model.train()

# -- checks (added for the tests) --
assert epoch == 5 and loss == LOSS
saved = checkpoint['optimizer_state_dict']
assert sorted(saved) == ['param_groups', 'state'], sorted(saved)
assert saved['param_groups'][0]['params'] == list(range(10)), saved['param_groups']
assert saved['param_groups'][0]['momentum'] == 0.9
assert sorted(saved['state']) == list(range(10))
assert all(torch.equal(a, b) for a, b in zip(net.parameters(), model.parameters()))
for p, q in zip(net.parameters(), model.parameters()):
    assert torch.equal(optimizer.state[p]['momentum_buffer'],
                       optimizer_resumed.state[q]['momentum_buffer'])
# The resumed run and the uninterrupted one take the same steps, momentum and all.
for i in range(3, 6):
    a = train_step(net, optimizer, i)
    b = train_step(model, optimizer_resumed, i)
    assert a == b, (i, a, b)
assert all(torch.equal(p, q) for p, q in zip(net.parameters(), model.parameters()))
# A checkpoint loaded with weights_only=True (torch.load's default) holds plain tensors.
assert type(checkpoint['model_state_dict']['conv1.weight']) is torch.Tensor
print("resumed run matches; last loss", b)
