# Adapted from pytorch/examples, super_resolution/model.py, data.py and main.py ("Superresolution
# using an efficient sub-pixel convolutional neural network").
# Copyright (c) 2017, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; synthetic 24x24 luminance images
# (smooth random blobs), shrunk 3x with an average pool, stand in for the BSDS300 download and
# PIL's resize; 16 channels, not 64; 3 epochs; --upscale_factor defaults to 3; assertions.
import argparse
from math import log10

import numpy as np

import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F
import autodiff.nn.init as init
import autodiff.optim as optim
from autodiff.utils.data import DataLoader, Dataset


# model.py
class Net(nn.Module):
    def __init__(self, upscale_factor):
        super(Net, self).__init__()

        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv2.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv3.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv4.weight)


# data.py
class DatasetFromFolder(Dataset):
    """The BSDS300 images in place: smooth synthetic luminance images, and their shrunk copies."""

    def __init__(self, count, upscale_factor, seed):
        rng = np.random.default_rng(seed)
        yy, xx = np.mgrid[0:24, 0:24] / 24.0
        images = []
        for _ in range(count):
            image = np.zeros((24, 24))
            for _ in range(4):
                cx, cy, width = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.1, 0.3)
                image += rng.uniform(0.2, 1) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / width**2)
            images.append(np.clip(image, 0, 1).astype(np.float32))
        self.targets = torch.from_numpy(np.stack(images)).unsqueeze(1)
        self.inputs = F.avg_pool2d(self.targets, upscale_factor)

    def __getitem__(self, index):
        return self.inputs[index], self.targets[index]

    def __len__(self):
        return len(self.targets)


def get_training_set(upscale_factor):
    return DatasetFromFolder(64, upscale_factor, seed=0)


def get_test_set(upscale_factor):
    return DatasetFromFolder(16, upscale_factor, seed=1)


# main.py
parser = argparse.ArgumentParser(description='PyTorch Super Res Example')
parser.add_argument('--upscale_factor', type=int, default=3,
                    help="super resolution upscale factor")
parser.add_argument('--batchSize', type=int, default=8, help='training batch size')
parser.add_argument('--testBatchSize', type=int, default=8, help='testing batch size')
parser.add_argument('--nEpochs', type=int, default=3, help='number of epochs to train for')
parser.add_argument('--lr', type=float, default=0.01, help='Learning Rate. Default=0.01')
parser.add_argument('--accel', action='store_true',
                    help='Enables acceleration for training, if available')
parser.add_argument('--threads', type=int, default=0,
                    help='number of threads for data loader to use')
parser.add_argument('--seed', type=int, default=123, help='random seed to use. Default=123')
opt = parser.parse_args()

print(opt)

torch.manual_seed(opt.seed)

if opt.accel and torch.accelerator.is_available():
    device = torch.accelerator.current_accelerator()
else:
    device = torch.device("cpu")

print('===> Loading datasets')
train_set = get_training_set(opt.upscale_factor)
test_set = get_test_set(opt.upscale_factor)
training_data_loader = DataLoader(dataset=train_set, num_workers=opt.threads,
                                  batch_size=opt.batchSize, shuffle=True)
testing_data_loader = DataLoader(dataset=test_set, num_workers=opt.threads,
                                 batch_size=opt.testBatchSize, shuffle=False)

print('===> Building model')
model = Net(upscale_factor=opt.upscale_factor).to(device)
criterion = nn.MSELoss()

optimizer = optim.Adam(model.parameters(), lr=opt.lr)


def train(epoch):
    epoch_loss = 0
    for iteration, batch in enumerate(training_data_loader, 1):
        input, target = batch[0].to(device), batch[1].to(device)

        optimizer.zero_grad()
        loss = criterion(model(input), target)
        epoch_loss += loss.item()
        loss.backward()
        optimizer.step()

        print("===> Epoch[{}]({}/{}): Loss: {:.4f}".format(epoch, iteration,
                                                          len(training_data_loader), loss.item()))

    print("===> Epoch {} Complete: Avg. Loss: {:.4f}".format(
        epoch, epoch_loss / len(training_data_loader)))


def test():
    avg_psnr = 0
    with torch.no_grad():
        for batch in testing_data_loader:
            input, target = batch[0].to(device), batch[1].to(device)

            prediction = model(input)
            mse = criterion(prediction, target)
            psnr = 10 * log10(1 / mse.item())
            avg_psnr += psnr
    print("===> Avg. PSNR: {:.4f} dB".format(avg_psnr / len(testing_data_loader)))
    return avg_psnr / len(testing_data_loader)


def checkpoint(epoch):
    model_out_path = "model_epoch_{}.pth".format(epoch)
    torch.save(model, model_out_path)
    print("Checkpoint saved to {}".format(model_out_path))


psnrs = [test()]
for epoch in range(1, opt.nEpochs + 1):
    train(epoch)
    psnrs.append(test())
    checkpoint(epoch)

# -- checks (added for the tests) --
w = model.conv2.weight.detach().clone().view(16, -1)
assert psnrs[-1] > psnrs[0] + 3, psnrs
reloaded = torch.load("model_epoch_{}.pth".format(opt.nEpochs), weights_only=False)
sample = test_set[0][0].unsqueeze(0)
assert reloaded(sample).shape == (1, 1, 24, 24)
assert torch.equal(reloaded(sample), model(sample))
fresh = Net(upscale_factor=3)  # orthogonal init: rows of conv1's flattened weight orthogonal
rows = fresh.conv1.weight.detach().view(16, -1)
gram = rows @ rows.T / init.calculate_gain('relu') ** 2
assert torch.allclose(gram, torch.eye(16), atol=1e-5)
