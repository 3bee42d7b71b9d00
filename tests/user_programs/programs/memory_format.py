# Adapted from pytorch/tutorials, intermediate_source/memory_format_tutorial.py ("Channels Last
# Memory Format in PyTorch").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the cuDNN/half-precision conv runs on
# the CPU in float32; the "model" the tutorial leaves as a placeholder is a small conv net, run
# while every function is wrapped by the tutorial's channels-last checker; a seed; assertions
# (the strides the tutorial prints in its comments) and CHECK lines.
import autodiff as torch

torch.manual_seed(0)

N, C, H, W = 10, 3, 32, 32
x = torch.empty(N, C, H, W)
print(x.stride())  # Ouputs: (3072, 1024, 32, 1)
assert x.stride() == (3072, 1024, 32, 1)

# Conversion operator
x = x.to(memory_format=torch.channels_last)
print(x.shape)  # Outputs: (10, 3, 32, 32) as dimensions order preserved
print(x.stride())  # Outputs: (3072, 1, 96, 3)
assert x.shape == (10, 3, 32, 32) and x.stride() == (3072, 1, 96, 3)

# Back to contiguous
x = x.to(memory_format=torch.contiguous_format)
print(x.stride())  # Outputs: (3072, 1024, 32, 1)
assert x.stride() == (3072, 1024, 32, 1)

# Alternative option
x = x.contiguous(memory_format=torch.channels_last)
print(x.stride())  # Ouputs: (3072, 1, 96, 3)
assert x.stride() == (3072, 1, 96, 3)

# Format checks
print(x.is_contiguous(memory_format=torch.channels_last))  # Ouputs: True
assert x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()

special_x = torch.empty(4, 1, 4, 4)
print(special_x.is_contiguous(memory_format=torch.channels_last))  # Ouputs: True
print(special_x.is_contiguous(memory_format=torch.contiguous_format))  # Ouputs: True
assert special_x.is_contiguous(memory_format=torch.channels_last)
assert special_x.is_contiguous(memory_format=torch.contiguous_format)
# `to` restrides the size-1 channel dimension, `contiguous` leaves the tensor as it is
assert special_x.to(memory_format=torch.channels_last).stride() == (16, 1, 4, 1)
assert special_x.contiguous(memory_format=torch.channels_last).stride() == (16, 16, 4, 1)

# Create as channels last
x = torch.empty(N, C, H, W, memory_format=torch.channels_last)
print(x.stride())  # Ouputs: (3072, 1, 96, 3)
assert x.stride() == (3072, 1, 96, 3)

# ``clone`` preserves memory format
y = x.clone()
print(y.stride())  # Ouputs: (3072, 1, 96, 3)
assert y.stride() == (3072, 1, 96, 3)

# ``to``, ``cuda``, ``float`` ... preserves memory format
y = x.double()
assert y.stride() == (3072, 1, 96, 3)

# ``empty_like``, ``*_like`` operators preserves memory format
y = torch.empty_like(x)
print(y.stride())  # Ouputs: (3072, 1, 96, 3)
assert y.stride() == (3072, 1, 96, 3)
assert torch.zeros_like(x).stride() == (3072, 1, 96, 3)

# Pointwise operators preserves memory format
x = torch.arange(N * C * H * W, dtype=torch.float32).reshape(N, C, H, W).mul(1e-4)
x = x.to(memory_format=torch.channels_last)
y = torch.ones_like(x)
z = x + y
print(z.stride())  # Ouputs: (3072, 1, 96, 3)
assert z.stride() == (3072, 1, 96, 3)

# Conv modules have channels last as the dominating memory format
model = torch.nn.Conv2d(8, 4, 3)
model = model.to(memory_format=torch.channels_last)  # Module parameters need to be channels last
assert model.weight.is_contiguous(memory_format=torch.channels_last)

input = torch.randint(1, 10, (2, 8, 4, 4), dtype=torch.float32, requires_grad=True)
input = input.to(memory_format=torch.channels_last)

out = model(input)
print(out.is_contiguous(memory_format=torch.channels_last))  # Ouputs: True
assert out.is_contiguous(memory_format=torch.channels_last) and out.shape == (2, 4, 2, 2)
out.sum().backward()
# The gradient of a channels-last weight is channels last too
assert model.weight.grad.is_contiguous(memory_format=torch.channels_last)


# Converting existing models
def contains_cl(args):
    for t in args:
        if isinstance(t, torch.Tensor):
            if t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous():
                return True
        elif isinstance(t, list) or isinstance(t, tuple):
            if contains_cl(list(t)):
                return True
    return False


def print_inputs(args, indent=""):
    for t in args:
        if isinstance(t, torch.Tensor):
            print(indent, t.stride(), t.shape, t.device, t.dtype)
        elif isinstance(t, list) or isinstance(t, tuple):
            print(indent, type(t))
            print_inputs(list(t), indent=indent + "    ")
        else:
            print(indent, t)


def check_wrapper(fn):
    name = fn.__name__

    def check_cl(*args, **kwargs):
        was_cl = contains_cl(args)
        try:
            result = fn(*args, **kwargs)
        except Exception as e:
            print("`{}` inputs are:".format(name))
            print_inputs(args)
            print("-------------------")
            raise e
        failed = False
        if was_cl:
            if isinstance(result, torch.Tensor):
                if (result.dim() == 4
                        and not result.is_contiguous(memory_format=torch.channels_last)):
                    print(
                        "`{}` got channels_last input, but output is not channels_last:"
                        .format(name),
                        result.shape,
                        result.stride(),
                        result.device,
                        result.dtype,
                    )
                    failed = True
        if failed and True:
            print("`{}` inputs are:".format(name))
            print_inputs(args)
            raise Exception("Operator `{}` lost channels_last property".format(name))
        return result

    return check_cl


old_attrs = dict()


def attribute(m):
    old_attrs[m] = dict()
    for i in dir(m):
        e = getattr(m, i)
        exclude_functions = ["is_cuda", "has_names", "numel", "stride", "Tensor",
                             "is_contiguous", "__class__"]
        if i not in exclude_functions and not i.startswith("_") and "__call__" in dir(e):
            try:
                old_attrs[m][i] = e
                setattr(m, i, check_wrapper(e))
            except Exception as e:
                print(i)
                print(e)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(8)
        self.conv2 = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        x = torch.nn.functional.relu(self.bn1(self.conv1(x)))
        x = torch.nn.functional.max_pool2d(x, 2)
        x = torch.nn.functional.relu(self.conv2(x) + x)
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


net = Net()
# Need to be done once, after model initialization (or load)
net = net.to(memory_format=torch.channels_last)  # Replace with your model
images = torch.randn(4, 3, 8, 8)

attribute(torch.Tensor)
attribute(torch.nn.functional)
attribute(torch)

# Need to be done for every input
input = images.to(memory_format=torch.channels_last)  # Replace with your input
output = net(input)
loss = output.square().mean()
loss.backward()

# Code below is to recover the attributes of torch.
for (m, attrs) in old_attrs.items():
    for (k, v) in attrs.items():
        setattr(m, k, v)

assert output.shape == (4, 5)
assert net.conv1.weight.grad.is_contiguous(memory_format=torch.channels_last)
# The channels-last model computes what the contiguous one does
plain = Net()
plain.load_state_dict(net.state_dict())
assert all(p.is_contiguous() for p in plain.parameters())
assert torch.allclose(plain(images), output, atol=1e-5)
assert torch.add is old_attrs[torch]["add"] and torch.nn.functional.relu.__name__ == "relu"
