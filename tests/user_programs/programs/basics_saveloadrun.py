# Adapted from pytorch/tutorials, beginner_source/basics/saveloadrun_tutorial.py ("Save and
# Load the Model").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; a small VGG-shaped network defined
# here stands in for torchvision's models.vgg16 (no pretrained weights to download); assertions.
import autodiff as torch
from autodiff import nn


class VGG(nn.Module):
    """torchvision's VGG layout (features, avgpool, classifier), a few channels wide."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(16 * 2 * 2, 32), nn.ReLU(True), nn.Dropout(p=0.5),
            nn.Linear(32, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


def vgg16(weights=None):
    return VGG()


torch.manual_seed(0)
model = vgg16(weights='IMAGENET1K_V1')
torch.save(model.state_dict(), 'model_weights.pth')

model = vgg16()  # we do not specify ``weights``, i.e. create untrained model
model.load_state_dict(torch.load('model_weights.pth', weights_only=True))
model.eval()

torch.save(model, 'model.pth')

model_again = torch.load('model.pth', weights_only=False)

# -- checks (added for the tests) --
x = torch.rand(2, 3, 16, 16)
with torch.no_grad():
    expected = model(x)
    assert torch.equal(model_again(x), expected)
assert isinstance(model_again, VGG) and not model_again.training
assert model_again.state_dict().keys() == model.state_dict().keys()
assert expected.shape == (2, 10)
