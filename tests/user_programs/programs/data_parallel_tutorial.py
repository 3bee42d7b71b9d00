# Adapted from pytorch/tutorials, beginner_source/blitz/data_parallel_tutorial.py ("Optional:
# Data Parallelism", Deep Learning with PyTorch: A 60 Minute Blitz).
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the model wrapped in
# nn.DataParallel whatever the number of GPUs (without CUDA it runs the module as it is, as
# PyTorch's does); the sizes the model saw collected; inputs from a formula instead of randn;
# assertions and CHECK lines at the end.
import autodiff as torch
import autodiff.nn as nn
from autodiff.utils.data import DataLoader, Dataset

# Parameters and DataLoaders
input_size = 5
output_size = 2

batch_size = 30
data_size = 100

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


class RandomDataset(Dataset):

    def __init__(self, size, length):
        self.len = length
        self.data = torch.sin(torch.arange(float(length * size)).reshape(length, size))

    def __getitem__(self, index):
        return self.data[index]

    def __len__(self):
        return self.len


rand_loader = DataLoader(dataset=RandomDataset(input_size, data_size),
                         batch_size=batch_size, shuffle=True)

seen = []


class Model(nn.Module):
    # Our model

    def __init__(self, input_size, output_size):
        super(Model, self).__init__()
        self.fc = nn.Linear(input_size, output_size)

    def forward(self, input):
        output = self.fc(input)
        print("\tIn Model: input size", input.size(),
              "output size", output.size())
        seen.append((tuple(input.size()), tuple(output.size())))

        return output


model = Model(input_size, output_size)
if torch.cuda.device_count() > 1:
    print("Let's use", torch.cuda.device_count(), "GPUs!")
# dim = 0 [30, xxx] -> [10, ...], [10, ...], [10, ...] on 3 GPUs
model = nn.DataParallel(model)

model.to(device)

outside = []
for data in rand_loader:
    input = data.to(device)
    output = model(input)
    print("Outside: input size", input.size(),
          "output_size", output.size())
    outside.append((tuple(input.size()), tuple(output.size())))

# -- checks (added for the tests) --
assert isinstance(model.module, Model)
assert list(model.state_dict()) == ["module.fc.weight", "module.fc.bias"]
expected = [((30, 5), (30, 2))] * 3 + [((10, 5), (10, 2))]
assert outside == expected and seen == expected, (outside, seen)
output.sum().backward()
assert model.module.fc.weight.grad.shape == (2, 5)
print("CHECK batches", len(outside))
print("CHECK last_batch", outside[-1][0][0])
