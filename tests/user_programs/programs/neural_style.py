# Adapted from pytorch/tutorials, advanced_source/neural_style_tutorial.py ("Neural Transfer
# Using PyTorch").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the two downloaded pictures are 32x32
# images drawn from sines, and the pretrained VGG19's features a five-conv VGG-like Sequential
# whose weights come from a fixed formula (no download, and the numbers are PyTorch's); 20 L-BFGS
# steps with a style weight of 1000 for these features (1e6 is for VGG19's); no plots;
# assertions and CHECK lines at the end.
import copy
import math

import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F
import autodiff.optim as optim

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.set_default_device(device)

imsize = 32


def image_loader(phase):
    """A 3 x imsize x imsize picture in [0, 1], as the loader's ToTensor gives it."""
    rows = torch.linspace(0, 1, imsize).view(-1, 1)
    cols = torch.linspace(0, 1, imsize).view(1, -1)
    channels = [0.5 + 0.5 * torch.sin(6.0 * (rows * (c + 1) + cols * phase) + c)
                for c in range(3)]
    return torch.stack(channels).unsqueeze(0).to(device, torch.float)


style_img = image_loader(phase=3.0)
content_img = image_loader(phase=0.5)

assert style_img.size() == content_img.size(), \
    "we need to import style and content images of the same size"


class ContentLoss(nn.Module):

    def __init__(self, target,):
        super(ContentLoss, self).__init__()
        # we 'detach' the target content from the tree used
        # to dynamically compute the gradient: this is a stated value,
        # not a variable. Otherwise the forward method of the criterion
        # will throw an error.
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


def gram_matrix(input):
    a, b, c, d = input.size()  # a=batch size(=1)
    # b=number of feature maps
    # (c,d)=dimensions of a f. map (N=c*d)

    features = input.view(a * b, c * d)  # resize F_XL into \hat F_XL

    G = torch.mm(features, features.t())  # compute the gram product

    # we 'normalize' the values of the gram matrix
    # by dividing by the number of element in each feature maps.
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):

    def __init__(self, target_feature):
        super(StyleLoss, self).__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        G = gram_matrix(input)
        self.loss = F.mse_loss(G, self.target)
        return input


def vgg_features():
    """VGG's `features` layout (conv, ReLU(inplace=True), max-pool) at a small width."""
    layers, channels = [], 3
    for width in (8, 8, "M", 16, 16, "M", 16):
        if width == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        conv = nn.Conv2d(channels, width, kernel_size=3, padding=1)
        with torch.no_grad():
            count = conv.weight.numel()
            ramp = torch.arange(count, dtype=torch.float).view_as(conv.weight)
            conv.weight.copy_(torch.sin(ramp * 0.7 + width) / math.sqrt(9 * channels))
            conv.bias.copy_(torch.cos(torch.arange(width, dtype=torch.float)) * 0.05)
        layers += [conv, nn.ReLU(inplace=True)]
        channels = width
    return nn.Sequential(*layers)


cnn = vgg_features().to(device).eval()

cnn_normalization_mean = torch.tensor([0.485, 0.456, 0.406]).to(device)
cnn_normalization_std = torch.tensor([0.229, 0.224, 0.225]).to(device)


# create a module to normalize input image so we can easily put it in a
# nn.Sequential
class Normalization(nn.Module):
    def __init__(self, mean, std):
        super(Normalization, self).__init__()
        # .view the mean and std to make them [C x 1 x 1] so that they can
        # directly work with image Tensor of shape [B x C x H x W].
        # B is batch size. C is number of channels. H is height and W is width.
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        # normalize img
        return (img - self.mean) / self.std


# desired depth layers to compute style/content losses :
content_layers_default = ['conv_4']
style_layers_default = ['conv_1', 'conv_2', 'conv_3', 'conv_4', 'conv_5']


def get_style_model_and_losses(cnn, normalization_mean, normalization_std,
                               style_img, content_img,
                               content_layers=content_layers_default,
                               style_layers=style_layers_default):
    cnn = copy.deepcopy(cnn)

    # normalization module
    normalization = Normalization(normalization_mean, normalization_std).to(device)

    # just in order to have an iterable access to or list of content/syle
    # losses
    content_losses = []
    style_losses = []

    # assuming that cnn is a nn.Sequential, so we make a new nn.Sequential
    # to put in modules that are supposed to be activated sequentially
    model = nn.Sequential(normalization)

    i = 0  # increment every time we see a conv
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = 'conv_{}'.format(i)
        elif isinstance(layer, nn.ReLU):
            name = 'relu_{}'.format(i)
            # The in-place version doesn't play very nicely with the ContentLoss
            # and StyleLoss we insert below. So we replace with out-of-place
            # ones here.
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = 'pool_{}'.format(i)
        elif isinstance(layer, nn.BatchNorm2d):
            name = 'bn_{}'.format(i)
        else:
            raise RuntimeError('Unrecognized layer: {}'.format(layer.__class__.__name__))

        model.add_module(name, layer)

        if name in content_layers:
            # add content loss:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module("content_loss_{}".format(i), content_loss)
            content_losses.append(content_loss)

        if name in style_layers:
            # add style loss:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module("style_loss_{}".format(i), style_loss)
            style_losses.append(style_loss)

    # now we trim off the layers after the last content and style losses
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):
            break

    model = model[:(i + 1)]

    return model, style_losses, content_losses


input_img = content_img.clone()


def get_input_optimizer(input_img):
    # this line to show that input is a parameter that requires a gradient
    optimizer = optim.LBFGS([input_img.requires_grad_()])
    return optimizer


history = []


def run_style_transfer(cnn, normalization_mean, normalization_std,
                       content_img, style_img, input_img, num_steps=20,
                       style_weight=1000, content_weight=1):
    """Run the style transfer."""
    print('Building the style transfer model..')
    model, style_losses, content_losses = get_style_model_and_losses(cnn,
        normalization_mean, normalization_std, style_img, content_img)

    # We want to optimize the input and not the model parameters so we
    # update all the requires_grad fields accordingly
    input_img.requires_grad_(True)
    # We also put the model in evaluation mode, so that specific layers
    # such as dropout or batch normalization layers behave correctly.
    model.eval()
    model.requires_grad_(False)

    optimizer = get_input_optimizer(input_img)

    print('Optimizing..')
    run = [0]
    while run[0] <= num_steps:

        def closure():
            # correct the values of updated input image
            with torch.no_grad():
                input_img.clamp_(0, 1)

            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0

            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss

            style_score *= style_weight
            content_score *= content_weight

            loss = style_score + content_score
            loss.backward()

            run[0] += 1
            history.append((style_score.item(), content_score.item()))
            if run[0] % 5 == 0:
                print("run {}:".format(run))
                print('Style Loss : {:4f} Content Loss: {:4f}'.format(
                    style_score.item(), content_score.item()))
                print()

            return style_score + content_score

        optimizer.step(closure)

    # a last correction...
    with torch.no_grad():
        input_img.clamp_(0, 1)

    return input_img, model


output, model = run_style_transfer(cnn, cnn_normalization_mean, cnn_normalization_std,
                                   content_img, style_img, input_img)

names = [name for name, _ in model.named_children()]
print(names)
assert names == ['0', 'conv_1', 'style_loss_1', 'relu_1', 'conv_2', 'style_loss_2', 'relu_2',
                 'pool_2', 'conv_3', 'style_loss_3', 'relu_3', 'conv_4', 'content_loss_4',
                 'style_loss_4', 'relu_4', 'pool_4', 'conv_5', 'style_loss_5']
assert not any(p.requires_grad for p in model.parameters())
assert all(p.grad is None for p in cnn.parameters())
assert output is input_img and output.shape == (1, 3, imsize, imsize)
assert float(output.min()) >= 0.0 and float(output.max()) <= 1.0
first, last = history[0], history[-1]
print("first", first, "last", last)
# The content image itself: no content loss, all style loss; L-BFGS trades them off
assert first[1] == 0.0 and sum(last) < 0.5 * sum(first), (first, last)
print("CHECK style_loss_start", first[0])
print("CHECK second_evaluation_style", history[1][0])
