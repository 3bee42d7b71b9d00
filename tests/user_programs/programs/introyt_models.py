# Adapted from pytorch/tutorials, beginner_source/introyt/modelsyt_tutorial.py
# ("Building Models with PyTorch", Introduction to PyTorch on YouTube).
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; a seed; the LeNet and LSTMTagger the
# tutorial only defines are run once (with torch.nn.functional: the tutorial's
# `torch.functional`, which it imports as F, has no max_pool2d); assertions and CHECK lines at
# the end.
import warnings

import autodiff as torch

torch.manual_seed(0)


class TinyModel(torch.nn.Module):

    def __init__(self):
        super(TinyModel, self).__init__()

        self.linear1 = torch.nn.Linear(100, 200)
        self.activation = torch.nn.ReLU()
        self.linear2 = torch.nn.Linear(200, 10)
        self.softmax = torch.nn.Softmax()

    def forward(self, x):
        x = self.linear1(x)
        x = self.activation(x)
        x = self.linear2(x)
        x = self.softmax(x)
        return x


tinymodel = TinyModel()

print('The model:')
print(tinymodel)

print('\n\nJust one layer:')
print(tinymodel.linear2)

print('\n\nModel params:')
for param in tinymodel.parameters():
    print(param)

print('\n\nLayer params:')
for param in tinymodel.linear2.parameters():
    print(param)

lin = torch.nn.Linear(3, 2)
x = torch.rand(1, 3)
print('Input:')
print(x)

print('\n\nWeight and Bias parameters:')
for param in lin.parameters():
    print(param)

y = lin(x)
print('\n\nOutput:')
print(y)

import autodiff.functional as F


class LeNet(torch.nn.Module):

    def __init__(self):
        super(LeNet, self).__init__()
        # 1 input image channel (black & white), 6 output channels, 3x3 square convolution
        # kernel
        self.conv1 = torch.nn.Conv2d(1, 6, 5)
        self.conv2 = torch.nn.Conv2d(6, 16, 3)
        # an affine operation: y = Wx + b
        self.fc1 = torch.nn.Linear(16 * 6 * 6, 120)  # 6*6 from image dimension
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        # Max pooling over a (2, 2) window
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        # If the size is a square you can only specify a single number
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

    def num_flat_features(self, x):
        size = x.size()[1:]  # all dimensions except the batch dimension
        num_features = 1
        for s in size:
            num_features *= s
        return num_features


class LSTMTagger(torch.nn.Module):

    def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
        super(LSTMTagger, self).__init__()
        self.hidden_dim = hidden_dim

        self.word_embeddings = torch.nn.Embedding(vocab_size, embedding_dim)

        # The LSTM takes word embeddings as inputs, and outputs hidden states
        # with dimensionality hidden_dim.
        self.lstm = torch.nn.LSTM(embedding_dim, hidden_dim)

        # The linear layer that maps from hidden state space to tag space
        self.hidden2tag = torch.nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        tag_scores = F.log_softmax(tag_space, dim=1)
        return tag_scores


my_tensor = torch.rand(1, 6, 6)
print(my_tensor)

maxpool_layer = torch.nn.MaxPool2d(3)
print(maxpool_layer(my_tensor))

my_tensor = torch.rand(1, 4, 4) * 20 + 5
print(my_tensor)

print(my_tensor.mean())

norm_layer = torch.nn.BatchNorm1d(4)
normed_tensor = norm_layer(my_tensor)
print(normed_tensor)

print(normed_tensor.mean())

my_tensor = torch.rand(1, 4, 4)

dropout = torch.nn.Dropout(p=0.4)
print(dropout(my_tensor))
print(dropout(my_tensor))

# -- checks (added for the tests) --
assert str(tinymodel) == """TinyModel(
  (linear1): Linear(in_features=100, out_features=200, bias=True)
  (activation): ReLU()
  (linear2): Linear(in_features=200, out_features=10, bias=True)
  (softmax): Softmax(dim=None)
)""", str(tinymodel)
assert [tuple(p.shape) for p in tinymodel.parameters()] == [(200, 100), (200,), (10, 200), (10,)]
assert all(isinstance(p, torch.nn.Parameter) and p.requires_grad for p in tinymodel.parameters())
assert str(lin.weight).startswith("Parameter containing:\ntensor([[")
assert torch.allclose(y, x @ lin.weight.T + lin.bias)

# Softmax without dim picks dim 1 for a 2-D input, with PyTorch's warning.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    probabilities = tinymodel(torch.rand(3, 100))
assert any("Implicit dimension choice for softmax" in str(w.message) for w in caught), caught
assert probabilities.shape == (3, 10)
assert torch.allclose(probabilities.sum(dim=1), torch.ones(3))

# torch.functional holds the tensor functions that are not ops (einsum, meshgrid, ...); the
# layers' functions are torch.nn.functional's.
assert F.einsum is torch.einsum and not hasattr(F, "max_pool2d")
F = torch.nn.functional
lenet = LeNet()
out = lenet(torch.rand(2, 1, 32, 32))
assert out.shape == (2, 10)
out.sum().backward()
assert lenet.conv1.weight.grad.shape == (6, 1, 5, 5)

tagger = LSTMTagger(embedding_dim=6, hidden_dim=6, vocab_size=9, tagset_size=3)
scores = tagger(torch.tensor([0, 4, 2, 8]))
assert scores.shape == (4, 3)
assert torch.allclose(scores.exp().sum(dim=1), torch.ones(4))

pooled = maxpool_layer(torch.arange(36.0).reshape(1, 6, 6))
assert pooled.tolist() == [[[14.0, 17.0], [32.0, 35.0]]]
assert abs(normed_tensor.mean().item()) < 1e-6
assert norm_layer.running_mean.shape == (4,)
dropped = dropout(torch.ones(1000))
kept = dropped[dropped != 0]
assert torch.allclose(kept, torch.full_like(kept, 1 / 0.6))
dropout.eval()
assert torch.equal(dropout(my_tensor), my_tensor)
print("CHECK maxpool_sum", pooled.sum().item())
