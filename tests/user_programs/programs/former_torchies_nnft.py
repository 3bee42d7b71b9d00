# Adapted from pytorch/tutorials, beginner_source/former_torchies/nnft_tutorial.py ("nn
# package").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a seed; the
# hooks also note what they saw; assertions and CHECK lines at the end.
import warnings

import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F

torch.manual_seed(0)
seen = {}


class MNISTConvNet(nn.Module):

    def __init__(self):
        # this is the place where you instantiate all your modules
        # you can later access them using the same names you've given them in
        # here
        super(MNISTConvNet, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, 5)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(10, 20, 5)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    # it's the forward function that defines the network structure
    def forward(self, input):
        x = self.pool1(F.relu(self.conv1(input)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = x.flatten(start_dim=1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return x


net = MNISTConvNet()
print(net)

input = torch.randn(1, 1, 28, 28)
out = net(input)
print(out.size())

target = torch.tensor([3], dtype=torch.long)
loss_fn = nn.CrossEntropyLoss()  # LogSoftmax + ClassNLL Loss
err = loss_fn(out, target)
err.backward()

print(err)

print(net.conv1.weight.grad.size())

print(net.conv1.weight.data.norm())  # norm of the weight
print(net.conv1.weight.grad.data.norm())  # norm of the gradients


def printnorm(self, input, output):
    # input is a tuple of packed inputs
    # output is a Tensor. output.data is the Tensor we are interested
    print('Inside ' + self.__class__.__name__ + ' forward')
    print('')
    print('input: ', type(input))
    print('input[0]: ', type(input[0]))
    print('output: ', type(output))
    print('')
    print('input size:', input[0].size())
    print('output size:', output.data.size())
    print('output norm:', output.data.norm())
    seen["forward"] = (type(input), tuple(input[0].size()), tuple(output.size()))


net.conv2.register_forward_hook(printnorm)

out = net(input)


def printgradnorm(self, grad_input, grad_output):
    print('Inside ' + self.__class__.__name__ + ' backward')
    print('Inside class:' + self.__class__.__name__)
    print('')
    print('grad_input: ', type(grad_input))
    print('grad_input[0]: ', type(grad_input[0]))
    print('grad_output: ', type(grad_output))
    print('grad_output[0]: ', type(grad_output[0]))
    print('')
    print('grad_input size:', grad_input[0].size())
    print('grad_output size:', grad_output[0].size())
    print('grad_input norm:', grad_input[0].norm())
    seen["backward"] = (type(grad_input), [None if g is None else tuple(g.size())
                                          for g in grad_input],
                        [tuple(g.size()) for g in grad_output])


with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    net.conv2.register_backward_hook(printgradnorm)

    out = net(input)
    err = loss_fn(out, target)
    err.backward()


class RNN(nn.Module):

    # you can also accept arguments in your model constructor
    def __init__(self, data_size, hidden_size, output_size):
        super(RNN, self).__init__()

        self.hidden_size = hidden_size
        input_size = data_size + hidden_size

        self.i2h = nn.Linear(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)

    def forward(self, data, last_hidden):
        input = torch.cat((data, last_hidden), 1)
        hidden = self.i2h(input)
        output = self.h2o(hidden)
        return hidden, output


rnn = RNN(50, 20, 10)

loss_fn = nn.MSELoss()

batch_size = 10
TIMESTEPS = 5

# Create some fake data
batch = torch.randn(batch_size, 50)
hidden = torch.zeros(batch_size, 20)
target = torch.zeros(batch_size, 10)

loss = 0
for t in range(TIMESTEPS):
    # yes! you can reuse the same network several times,
    # sum up the losses, and call backward!
    hidden, output = rnn(batch, hidden)
    loss += loss_fn(output, target)
loss.backward()

# Checks: the hooks saw what PyTorch's do (the old backward hook sees the inputs of conv2's
# last op: its input, weight and bias), and the shared RNN layer got gradients.
assert out.shape == (1, 10) and net.conv1.weight.grad.shape == (10, 1, 5, 5)
assert seen["forward"] == (tuple, (1, 10, 12, 12), (1, 20, 8, 8)), seen["forward"]
kind, grad_inputs, grad_outputs = seen["backward"]
assert kind is tuple and grad_outputs == [(1, 20, 8, 8)], seen["backward"]
print("CHECK grad_input_count", len(grad_inputs))
for index, size in enumerate(grad_inputs):
    print(f"CHECK grad_input_{index}_numel", 0 if size is None else torch.Size(size).numel())
print("CHECK backward_hook_warned", int(any("non-full backward hook" in str(w.message)
                                           for w in caught)))
assert rnn.i2h.weight.grad is not None and rnn.h2o.weight.grad.shape == (10, 20)
print("CHECK rnn_grad_shape", rnn.i2h.weight.grad.shape.numel())
