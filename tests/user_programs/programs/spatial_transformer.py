# Adapted from pytorch/tutorials, intermediate_source/spatial_transformer_tutorial.py
# ("Spatial Transformer Networks Tutorial").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; scikit-learn's 8x8 digits, each pixel
# made 3x3 and padded to 28x28, stand in for torchvision's MNIST download (1000 to train);
# lr 0.1 (not 0.01) and 3 epochs; the matplotlib figure is left out (visualize_stn returns the
# two batches instead); assertions and CHECK lines at the end.
import numpy as np
from sklearn.datasets import load_digits

import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F
import autodiff.optim as optim

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Digits(torch.utils.data.Dataset):
    """In place of datasets.MNIST(..., transform=transforms.Compose([ToTensor(), Normalize()]))."""

    def __init__(self, train):
        digits = load_digits()
        cut = 1000
        images = digits.images[:cut] if train else digits.images[cut:]
        images = np.kron(images, np.ones((3, 3))) / 16.0  # 24x24
        self.data = np.pad(images, ((0, 0), (2, 2), (2, 2))).astype(np.float32)
        self.targets = digits.target[:cut] if train else digits.target[cut:]

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        img = (torch.from_numpy(self.data[index][None]) - 0.1307) / 0.3081
        return img, int(self.targets[index])


torch.manual_seed(0)
# Training dataset
train_loader = torch.utils.data.DataLoader(Digits(train=True), batch_size=64, shuffle=True)
# Test dataset
test_loader = torch.utils.data.DataLoader(Digits(train=False), batch_size=64, shuffle=True)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True)
        )

        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(
            nn.Linear(10 * 3 * 3, 32),
            nn.ReLU(True),
            nn.Linear(32, 3 * 2)
        )

        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)

        grid = F.affine_grid(theta, x.size())
        x = F.grid_sample(x, grid)

        return x

    def forward(self, x):
        # transform the input
        x = self.stn(x)

        # Perform the usual forward pass
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


model = Net().to(device)

optimizer = optim.SGD(model.parameters(), lr=0.1)


def train(epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)

        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % 500 == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))


def test():
    with torch.no_grad():
        model.eval()
        test_loss = 0
        correct = 0
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)

            # sum up batch loss
            test_loss += F.nll_loss(output, target, size_average=False).item()
            # get the index of the max log-probability
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()

        test_loss /= len(test_loader.dataset)
        print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'
              .format(test_loss, correct, len(test_loader.dataset),
                      100. * correct / len(test_loader.dataset)))
        return test_loss, correct / len(test_loader.dataset)


def visualize_stn():
    with torch.no_grad():
        # Get a batch of training data
        data = next(iter(test_loader))[0].to(device)

        input_tensor = data.cpu()
        transformed_input_tensor = model.stn(data).cpu()
        return input_tensor, transformed_input_tensor


# -- checks (added for the tests): the identity start samples every pixel at its centre --
before_in, before_out = visualize_stn()
assert torch.allclose(before_in, before_out, atol=1e-5)
theta = torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]])
grid = F.affine_grid(theta, (1, 1, 2, 3), align_corners=False)
print("CHECK grid_corner_x", grid[0, 0, 0, 0].item())
print("CHECK grid_corner_y", grid[0, 0, 0, 1].item())

results = []
for epoch in range(1, 3 + 1):
    train(epoch)
    results.append(test())

in_grid, out_grid = visualize_stn()
assert out_grid.shape == in_grid.shape == (64, 1, 28, 28)
assert results[-1][1] > 0.5 and results[-1][0] < results[0][0], results
assert not torch.allclose(in_grid, out_grid)  # the transformer learned to move the digits
