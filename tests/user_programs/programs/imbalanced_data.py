# Adapted from pytorch/tutorials, intermediate_source/imbalanced_data_tutorial.py
# ("Classifying an imbalanced dataset").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose and the plots are left
# out; CIFAR-10 is replaced by a small synthetic set of 32x32 colour images whose class sets
# the mean of one channel patch (a `Dataset` with the torchvision CIFAR10 fields the tutorial
# reassigns, train_labels and train_data), loaded in the main process; `train_iter.next()` (a
# Python 2 iterator method) is `next(train_iter)`; 2 epochs instead of 25; assertions at the end.
from __future__ import print_function

import numpy as np

import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F
import autodiff.optim as optim
from autodiff.utils.data import DataLoader, Dataset

SEED = 2809
torch.manual_seed(SEED)
np.random.seed(SEED)
if torch.cuda.is_available():
    torch.cuda.manual_seed(SEED)
batch_size = 64

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')


class SyntheticCIFAR10(Dataset):
    """Images whose class c lights up patch c of a 5x2 grid in the first channel."""

    def __init__(self, per_class, seed):
        rng = np.random.default_rng(seed)
        labels = np.repeat(np.arange(10), per_class)
        data = rng.normal(0, 0.5, size=(len(labels), 3, 32, 32)).astype(np.float32)
        for index, label in enumerate(labels):
            row, col = divmod(int(label), 2)
            data[index, 0, row * 6:row * 6 + 6, col * 16:col * 16 + 16] += 1.5
        self.train_data = self.test_data = data
        self.train_labels = self.test_labels = labels

    def __len__(self):
        return len(self.train_labels)

    def __getitem__(self, index):
        return torch.from_numpy(self.train_data[index]), int(self.train_labels[index])


# Training dataset
train_dataset = SyntheticCIFAR10(per_class=40, seed=0)
train_loader = DataLoader(
    dataset=train_dataset,
    batch_size=batch_size,
    shuffle=True,
    num_workers=0,
    pin_memory=torch.cuda.is_available())

test_dataset = SyntheticCIFAR10(per_class=20, seed=1)
test_loader = DataLoader(
    dataset=test_dataset,
    batch_size=batch_size,
    shuffle=False,
    num_workers=0,
    pin_memory=torch.cuda.is_available())

class_names = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
               'ship', 'truck')
nb_classes = len(class_names)

# Get all training targets and count the number of class instances
train_targets = np.array(train_dataset.train_labels)
test_targets = np.array(test_dataset.test_labels)
_, train_class_counts = np.unique(train_targets, return_counts=True)
_, test_class_counts = np.unique(test_targets, return_counts=True)


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
        x = F.log_softmax(self.fc3(x), dim=1)
        return x


model = Net()
model = model.to(device)
criterion = nn.NLLLoss()
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

losses = []


def train(epoch):
    model.train()
    running_loss = 0.0
    for batch_idx, (data, target) in enumerate(train_loader):
        # Push data and target to GPU, if available
        data = data.to(device)
        target = target.to(device)

        # Zero the gradients
        optimizer.zero_grad()
        # Forward pass
        output = model(data)
        loss = criterion(output, target)
        # Backward pass
        loss.backward()
        # Weight update
        optimizer.step()

        # print statistics
        running_loss += loss.item()
        losses.append(loss.item())
        if batch_idx % 100 == 0:  # print every 100 mini-batches
            print('[{}, {}] loss: {:.3f}'.format(epoch + 1, batch_idx + 1,
                                                 running_loss / 100))
            running_loss = 0.0


def evaluate():
    model.eval()
    correct = 0
    total = 0
    confusion_matrix = torch.zeros(nb_classes, nb_classes)
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            _, preds = torch.max(output, 1)

            correct += (preds == target).sum().item()
            total += target.size(0)
            for t, p in zip(target, preds):
                confusion_matrix[t, p] += 1

    assert confusion_matrix.sum().item() == total

    # Calculate global accuracy
    accuracy = 100 * correct / total

    # Calculate class accuracies
    class_correct = confusion_matrix.diag()
    class_total = confusion_matrix.sum(1)
    class_accuracies = class_correct / class_total

    # Normalize confusion matrix
    for i in range(nb_classes):
        confusion_matrix[i] = confusion_matrix[i] / confusion_matrix[i].sum()
    assert torch.allclose(confusion_matrix.sum(1), torch.ones(nb_classes))

    # Print statistics
    print('Accuracy of the model {:.3f}%'.format(accuracy))
    for i in range(nb_classes):
        print('Accuracy for {}: {:.3f}%'.format(
            class_names[i], 100 * class_accuracies[i]))
    print('Mean per class accuracy: {:.3f}%'.format(
        100 * class_accuracies.mean()))
    return accuracy


for epoch in range(2):
    train(epoch)
balanced_accuracy = evaluate()

# Create class proportions
imbal_class_prop = imbal_class_prop = np.hstack(([0.1] * 5, [1.0] * 5))

# Get class indices for resampling
train_class_indices = [
    np.where(train_targets == i)[0] for i in range(nb_classes)
]
test_class_indices = [
    np.where(test_targets == i)[0] for i in range(nb_classes)
]

# Reduce class count py proportion
train_imbal_class_indices = []
test_imbal_class_indices = []
train_class_counts = [
    int(count * prop)
    for count, prop in zip(train_class_counts, imbal_class_prop)
]
test_class_counts = [
    int(count * prop)
    for count, prop in zip(test_class_counts, imbal_class_prop)
]

# Get class indices for reduced class count
for i in range(nb_classes):
    train_class_count = train_class_counts[i]
    train_imbal_class_indices.append(
        train_class_indices[i][:train_class_count])

    test_class_count = test_class_counts[i]
    test_imbal_class_indices.append(test_class_indices[i][:test_class_count])

    print('Class {} reduced to {} training and {} test samples'.format(
        class_names[i], train_class_count, test_class_count))

train_imbal_class_indices = np.hstack(train_imbal_class_indices)
test_imbal_class_indices = np.hstack(test_imbal_class_indices)

# Resample datasets
train_dataset.train_labels = train_targets[train_imbal_class_indices]
train_dataset.train_data = train_dataset.train_data[train_imbal_class_indices]

test_dataset.test_labels = test_targets[test_imbal_class_indices]
test_dataset.test_data = test_dataset.test_data[test_imbal_class_indices]

assert len(train_dataset.train_labels) == len(train_dataset.train_data)
assert len(test_dataset.test_labels) == len(test_dataset.test_data)

# Create new DataLoaders, since the datasets have changed
train_loader = DataLoader(
    dataset=train_dataset,
    batch_size=batch_size,
    shuffle=True,
    num_workers=0,
    pin_memory=torch.cuda.is_available())

test_loader = DataLoader(
    dataset=test_dataset,
    batch_size=batch_size,
    shuffle=False,
    num_workers=0,
    pin_memory=torch.cuda.is_available())

train_iter = iter(train_loader)
for _ in range(3):
    _, target = next(train_iter)
    print('Classes {}, counts: {}'.format(
        *np.unique(target.numpy(), return_counts=True)))

model = Net()
model = model.to(device)
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
for epoch in range(2):
    train(epoch)
evaluate()

train_targets = train_dataset.train_labels
_, train_class_counts = np.unique(train_targets, return_counts=True)

weights = 1. / train_class_counts
samples_weights = torch.from_numpy(weights[train_targets])
for name, count, weight in zip(class_names, train_class_counts, weights):
    print('Class {}: {} samples, {:.5} weight'.format(name, count, weight))

from autodiff.utils.data.sampler import WeightedRandomSampler

sampler = WeightedRandomSampler(
    weights=samples_weights,
    num_samples=len(samples_weights),
    replacement=True)

train_loader = DataLoader(
    train_dataset,
    batch_size=batch_size,
    num_workers=0,
    sampler=sampler,
    pin_memory=torch.cuda.is_available())

# The sampler draws the minority classes about as often as the others.
drawn = np.array([int(train_targets[index]) for index in sampler])
assert len(drawn) == len(samples_weights)
minority_share = float(np.isin(drawn, np.arange(5)).mean())
print(f"minority share with the sampler: {minority_share:.2f}")
assert 0.3 < minority_share < 0.7, minority_share

train_iter = iter(train_loader)
for _ in range(3):
    _, target = next(train_iter)
    print('Classes {}, counts: {}'.format(
        *np.unique(target.numpy(), return_counts=True)))

model = Net()
model = model.to(device)
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
for epoch in range(2):
    train(epoch)
evaluate()

train_loader = DataLoader(
    train_dataset,
    batch_size=batch_size,
    num_workers=0,
    shuffle=True,
    pin_memory=torch.cuda.is_available())

model = Net()
model = model.to(device)
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

weight = torch.cat((torch.tensor([10.] * 5), torch.tensor([1.] * 5)))
weight = weight.to(device)
criterion = nn.NLLLoss(weight=weight)

for epoch in range(2):
    train(epoch)
evaluate()

assert all(np.isfinite(losses))
assert samples_weights.dtype == torch.float64
