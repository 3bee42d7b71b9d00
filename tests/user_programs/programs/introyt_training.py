# Adapted from pytorch/tutorials, beginner_source/introyt/trainingyt.py ("Training with
# PyTorch", Introduction to PyTorch on YouTube).
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; a synthetic Fashion-MNIST (a
# TensorDataset of 28x28 images, each class a band of bright rows plus noise, normalized as the
# tutorial's transform does) instead of torchvision's download; no TensorBoard writer or
# matplotlib; 2 epochs of 256 images, reporting every 16 batches; a seed; assertions at the end.
from datetime import datetime

import autodiff as torch
from autodiff.utils.data import TensorDataset

torch.manual_seed(0)


def fashion_mnist(n, generator):
    labels = torch.randint(0, 10, (n,), generator=generator)
    patterns = torch.zeros(10, 1, 28, 28)
    for c in range(10):  # class c: a bright band of rows
        patterns[c, 0, 2 * c + 2:2 * c + 8] = 1.0
    images = patterns[labels] + 0.3 * torch.rand(n, 1, 28, 28, generator=generator)
    images = images / images.amax(dim=(1, 2, 3), keepdim=True)
    return TensorDataset((images - 0.5) / 0.5, labels)  # Normalize((0.5,), (0.5,))


generator = torch.Generator().manual_seed(1)
training_set = fashion_mnist(256, generator)
validation_set = fashion_mnist(64, generator)

# Create data loaders for our datasets; shuffle for training, not for validation
training_loader = torch.utils.data.DataLoader(training_set, batch_size=4, shuffle=True,
                                              num_workers=2)
validation_loader = torch.utils.data.DataLoader(validation_set, batch_size=4, shuffle=False,
                                                num_workers=2)

# Class labels
classes = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
        'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle Boot')

# Report split sizes
print('Training set has {} instances'.format(len(training_set)))
print('Validation set has {} instances'.format(len(validation_set)))

dataiter = iter(training_loader)
images, labels = next(dataiter)
print('  '.join(classes[labels[j]] for j in range(4)))

import autodiff.nn as nn
import autodiff.nn.functional as F


# PyTorch models inherit from torch.nn.Module
class GarmentClassifier(nn.Module):
    def __init__(self):
        super(GarmentClassifier, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 4 * 4)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


model = GarmentClassifier()

loss_fn = torch.nn.CrossEntropyLoss()

# NB: Loss functions expect data in batches, so we're creating batches of 4
# Represents the model's confidence in each of the 10 classes for a given input
dummy_outputs = torch.rand(4, 10)
# Represents the correct class among the 10 being tested
dummy_labels = torch.tensor([1, 5, 3, 7])

print(dummy_outputs)
print(dummy_labels)

loss = loss_fn(dummy_outputs, dummy_labels)
print('Total loss for this batch: {}'.format(loss.item()))

# Optimizers specified in the torch.optim package
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

REPORT = 16


def train_one_epoch(epoch_index):
    running_loss = 0.
    last_loss = 0.

    # Here, we use enumerate(training_loader) instead of
    # iter(training_loader) so that we can track the batch
    # index and do some intra-epoch reporting
    for i, data in enumerate(training_loader):
        # Every data instance is an input + label pair
        inputs, labels = data

        # Zero your gradients for every batch!
        optimizer.zero_grad()

        # Make predictions for this batch
        outputs = model(inputs)

        # Compute the loss and its gradients
        loss = loss_fn(outputs, labels)
        loss.backward()

        # Adjust learning weights
        optimizer.step()

        # Gather data and report
        running_loss += loss.item()
        if i % REPORT == REPORT - 1:
            last_loss = running_loss / REPORT # loss per batch
            print('  batch {} loss: {}'.format(i + 1, last_loss))
            running_loss = 0.

    return last_loss


# Initializing in a separate cell so we can easily add more epochs to the same run
timestamp = datetime.now().strftime('%Y%m%d_%H%M%S')
epoch_number = 0

EPOCHS = 2

best_vloss = 1_000_000.
vlosses = []

for epoch in range(EPOCHS):
    print('EPOCH {}:'.format(epoch_number + 1))

    # Make sure gradient tracking is on, and do a pass over the data
    model.train(True)
    avg_loss = train_one_epoch(epoch_number)

    # We don't need gradients on to do reporting
    model.train(False)

    running_vloss = 0.0
    for i, vdata in enumerate(validation_loader):
        vinputs, vlabels = vdata
        voutputs = model(vinputs)
        vloss = loss_fn(voutputs, vlabels)
        running_vloss += vloss

    avg_vloss = running_vloss / (i + 1)
    print('LOSS train {} valid {}'.format(avg_loss, avg_vloss))
    vlosses.append(avg_vloss.item())

    # Track best performance, and save the model's state
    if avg_vloss < best_vloss:
        best_vloss = avg_vloss
        model_path = 'model_{}_{}'.format(timestamp, epoch_number)
        torch.save(model.state_dict(), model_path)

    epoch_number += 1

# -- checks (added for the tests) --
saved_model = GarmentClassifier()
saved_model.load_state_dict(torch.load(model_path))
with torch.no_grad():
    images = torch.stack([validation_set[i][0] for i in range(64)])
    targets = torch.stack([validation_set[i][1] for i in range(64)])
    predictions = saved_model(images).argmax(dim=1)
accuracy = (predictions == targets).float().mean().item()
print(f"accuracy {accuracy:.3f}, validation losses {vlosses}")
assert isinstance(running_vloss, torch.Tensor) and running_vloss.grad_fn is not None
assert vlosses[-1] < 0.5 and accuracy > 0.8, (vlosses, accuracy)
assert 3.0 > loss.item() > 1.5
