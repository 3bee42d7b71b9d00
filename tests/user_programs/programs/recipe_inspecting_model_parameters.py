# Adapted from pytorch/tutorials, recipes_source/inspecting_model_parameters.py
# ("Inspecting Model Parameters").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `from autodiff import nn`; the torchinfo summaries left out
# (torchinfo is a third-party package built on torch); assertions and CHECK lines at the end
# (parameter counts and the printed lines, the same under PyTorch).
import io
from collections import defaultdict
from contextlib import redirect_stdout

from autodiff import nn

printed = io.StringIO()
with redirect_stdout(printed):

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28*28, 512),
                nn.ReLU(),
                nn.Linear(512, 512),
                nn.ReLU(),
                nn.Linear(512, 10),
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    model = NeuralNetwork()
    print(model)

    print([param.shape for param in model.parameters()])

    for name, param in model.named_parameters():
        print(name, param.shape)

    layer = nn.Linear(28*28, 512)

    for name, param in layer.named_parameters():
        print(name, param.size())

    for name, param in model.named_parameters():
        print(f'{name=}, {param.size()=}, {param.numel()=}')

    print(f'Total model params: {sum(p.numel() for p in model.parameters()):,}')

    print(f'Total model trainable params: '
          f'{sum(p.numel() for p in model.parameters() if p.requires_grad):,}')

    for name, param in model.named_parameters():
        if name == 'linear_relu_stack.0.weight':
            param.requires_grad = False
        print(f'{name=}, {param.size()=}, {param.numel()=}, {param.requires_grad=}')
    print(f'Total model trainable params: '
          f'{sum(p.numel() for p in model.parameters() if p.requires_grad):,}')

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3),
                nn.ReLU(inplace=True),
                nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=(2, 2)),
            )
            self.classifier = nn.Sequential(
                nn.Flatten(),
                nn.Linear(64 * 12 * 12, 128),
                nn.ReLU(inplace=True),
                nn.Linear(128, 10),
            )

        def forward(self, x):
            x = self.features(x)
            x = self.classifier(x)
            return x

    cnn_model = CNN()
    print(cnn_model)
    print('-'*72)
    for name, param in cnn_model.named_parameters():
        print(f'{name=}, {param.size()=}, {param.numel()=}, {param.requires_grad=}')
    print('-'*72)
    print(f'Total model trainable params: '
          f'{sum(p.numel() for p in cnn_model.parameters() if p.requires_grad):,}')

    import numpy as np

    for name, param in cnn_model.named_parameters():
        print(f'{name=}, {param.size()=}, {np.prod(param.size())=} == {param.numel()=}')

    layer_params = defaultdict(int)

    for name, param in model.named_parameters():
        # combine weight and bias together using layer name
        # linear_relu_stack.0 = linear_relu_stack.0.weight + linear_relu_stack.bias
        layer_params[name.rsplit('.', 1)[0]] += param.numel()

    for name, total_params in layer_params.items():
        print(f'{name=} {total_params=:,}')

    print('-'*72)
    print('Manually generated total number of parameters per layer:')
    cnn_layer_params = defaultdict(int)

    for name, param in cnn_model.named_parameters():
        cnn_layer_params[name.rsplit('.', 1)[0]] += param.numel()

    for name, total_params in cnn_layer_params.items():
        print(f'{name=} {total_params=:,}')

text = printed.getvalue()
print(text)

# -- checks (added for the tests) --
lines = text.splitlines()
expected = [
    "NeuralNetwork(",
    "  (flatten): Flatten(start_dim=1, end_dim=-1)",
    "  (linear_relu_stack): Sequential(",
    "    (0): Linear(in_features=784, out_features=512, bias=True)",
    "    (1): ReLU()",
    "    (2): Linear(in_features=512, out_features=512, bias=True)",
    "    (3): ReLU()",
    "    (4): Linear(in_features=512, out_features=10, bias=True)",
    "  )",
    ")",
    "[torch.Size([512, 784]), torch.Size([512]), torch.Size([512, 512]), torch.Size([512]), "
    "torch.Size([10, 512]), torch.Size([10])]",
    "linear_relu_stack.0.weight torch.Size([512, 784])",
]
assert lines[:len(expected)] == expected, lines[:len(expected)]
for line in [
    "weight torch.Size([512, 784])",
    "name='linear_relu_stack.0.weight', param.size()=torch.Size([512, 784]), param.numel()=401408",
    "Total model params: 669,706",
    "Total model trainable params: 268,298",
    "name='linear_relu_stack.0.weight', param.size()=torch.Size([512, 784]), param.numel()=401408,"
    " param.requires_grad=False",
    "    (1): ReLU(inplace=True)",
    "    (4): MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=0, dilation=1, ceil_mode=False)",
    "name='features.0.weight', param.size()=torch.Size([32, 1, 3, 3]), "
    "np.prod(param.size())=np.int64(288) == param.numel()=288",
    "name='linear_relu_stack.0' total_params=401,920",
    "name='classifier.1' total_params=1,179,776",
]:
    assert line in lines, line
assert "Total model trainable params: 669,706" in lines
print("CHECK total_params", sum(p.numel() for p in model.parameters()))
print("CHECK cnn_params", sum(p.numel() for p in cnn_model.parameters()))
print("CHECK lines", len(lines))
