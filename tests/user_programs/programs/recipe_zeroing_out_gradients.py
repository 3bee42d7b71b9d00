# Adapted from pytorch/tutorials, recipes_source/recipes/zeroing_out_gradients.py
# ("Zeroing out gradients in PyTorch").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; CIFAR10 (a
# download) replaced by 64 random 3x32x32 images in a TensorDataset, Normalize done by hand;
# num_workers=0; one epoch, printing every 4 batches; assertions at the end on what the
# recipe explains (gradients accumulate, zero_grad sets them to None, model.zero_grad is the
# same as optimizer.zero_grad when the optimizer holds every parameter).
import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F
import autodiff.optim as optim
from autodiff.utils.data import TensorDataset

torch.manual_seed(0)
images = (torch.rand(64, 3, 32, 32) - 0.5) / 0.5  # ToTensor, then Normalize((0.5,)*3, (0.5,)*3)
targets = torch.randint(0, 10, (64,))
trainset = TensorDataset(images, targets)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=4,
                                          shuffle=True, num_workers=0)

classes = ('plane', 'car', 'bird', 'cat',
           'deer', 'dog', 'frog', 'horse', 'ship', 'truck')


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
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

losses = []
for epoch in range(1):  # loop over the dataset multiple times

    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, labels = data

        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        # print statistics
        running_loss += loss.item()
        losses.append(loss.item())
        if i % 4 == 3:    # print every 4 mini-batches
            print('[%d, %5d] loss: %.3f' %
                  (epoch + 1, i + 1, running_loss / 4))
            running_loss = 0.0

print('Finished Training')

# -- checks (added for the tests) --
assert len(losses) == 16 and all(0.0 < value < 5.0 for value in losses), losses
# zero_grad() sets gradients to None by default (set_to_none=True).
optimizer.zero_grad()
assert all(p.grad is None for p in net.parameters())
inputs, labels = images[:4], targets[:4]
criterion(net(inputs), labels).backward()
first = [p.grad.clone() for p in net.parameters()]
# Without zeroing, a second backward adds to .grad.
criterion(net(inputs), labels).backward()
for g, p in zip(first, net.parameters()):
    assert torch.allclose(p.grad, 2 * g, rtol=1e-5, atol=1e-7)
# model.zero_grad() is the same as optimizer.zero_grad() here; set_to_none=False keeps zeros.
net.zero_grad(set_to_none=False)
assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
net.zero_grad()
assert all(p.grad is None for p in net.parameters())
