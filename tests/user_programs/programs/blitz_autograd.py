# Adapted from pytorch/tutorials, beginner_source/blitz/autograd_tutorial.py ("A Gentle
# Introduction to torch.autograd").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; a small ResNet defined here stands in
# for torchvision's resnet18 (no pretrained weights to download); assertions at the end.
import autodiff as torch
from autodiff import nn


class BasicBlock(nn.Module):
    def __init__(self, planes):
        super().__init__()
        self.conv1 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)


class ResNet(nn.Module):
    """torchvision's ResNet layout (conv1, bn1, maxpool, layer1, avgpool, fc), 16 wide."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(16), BasicBlock(16))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet18(weights=None):
    return ResNet()


torch.manual_seed(0)
model = resnet18(weights="DEFAULT")
data = torch.rand(1, 3, 64, 64)
labels = torch.rand(1, 1000)

prediction = model(data)  # forward pass

loss = (prediction - labels).sum()
loss.backward()  # backward pass

optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
before = model.conv1.weight.detach().clone()
optim.step()  # gradient descent
assert not torch.equal(before, model.conv1.weight)

# Differentiation in Autograd
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

# check if collected gradients are correct
print(9*a**2 == a.grad)
print(-2*b == b.grad)
assert (9*a**2 == a.grad).all() and (-2*b == b.grad).all()

# Exclusion from the DAG
x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)

a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")
assert not a.requires_grad and b.requires_grad

from autodiff import nn, optim  # imported here, as in the tutorial

model = resnet18(weights="DEFAULT")

# Freeze all the parameters in the network
for param in model.parameters():
    param.requires_grad = False

model.fc = nn.Linear(16, 10)

# Optimize only the classifier
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

# -- checks (added for the tests) --
frozen = {name: p.detach().clone() for name, p in model.named_parameters()}
loss = model(torch.rand(2, 3, 64, 64)).logsumexp(1).sum()
loss.backward()
optimizer.step()
for name, p in model.named_parameters():
    assert torch.equal(p, frozen[name]) != name.startswith("fc."), name
    assert (p.grad is None) != name.startswith("fc."), name
