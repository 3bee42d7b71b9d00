# Adapted from pytorch/tutorials, intermediate_source/pruning_tutorial.py ("Pruning Tutorial").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; a seed; each pruned model also runs a
# forward pass; assertions and CHECK lines (counts of pruned entries) after each part.
import autodiff as torch
import autodiff.nn.functional as F
import autodiff.nn.utils.prune as prune
from autodiff import nn

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        # 1 input image channel, 6 output channels, 5x5 square conv kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5x5 image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


model = LeNet().to(device=device)
images = torch.randn(2, 1, 32, 32, device=device)

module = model.conv1
print(list(module.named_parameters()))
print(list(module.named_buffers()))
assert [name for name, _ in module.named_parameters()] == ["weight", "bias"]
assert list(module.named_buffers()) == []

prune.random_unstructured(module, name="weight", amount=0.3)

print(list(module.named_parameters()))
print(list(module.named_buffers()))
print(module.weight)
print(module._forward_pre_hooks)
assert sorted(name for name, _ in module.named_parameters()) == ["bias", "weight_orig"]
assert [name for name, _ in module.named_buffers()] == ["weight_mask"]
assert torch.equal(module.weight, module.weight_orig * module.weight_mask)
assert int((module.weight_mask == 0).sum()) == round(0.3 * 150)
assert len(module._forward_pre_hooks) == 1

prune.l1_unstructured(module, name="bias", amount=3)

print(list(module.named_parameters()))
print(list(module.named_buffers()))
print(module.bias)
print(module._forward_pre_hooks)
smallest = module.bias_orig.abs().argsort()[:3]
assert torch.equal(module.bias_mask[smallest], torch.zeros(3))
assert int(module.bias_mask.sum()) == 3 and len(module._forward_pre_hooks) == 2

prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)

# As we can verify, this will zero out all the connections corresponding to
# 50% (3 out of 6) of the channels, while preserving the action of the
# previous mask.
print(module.weight)
channels_off = (module.weight_mask.sum(dim=(1, 2, 3)) == 0).sum().item()
assert channels_off == 3, channels_off

for hook in module._forward_pre_hooks.values():
    if hook._tensor_name == "weight":  # select out the correct hook
        break

print(list(hook))  # pruning history in the container
assert [type(method).__name__ for method in hook] == ["RandomUnstructured", "LnStructured"]
assert isinstance(hook, prune.PruningContainer)

print(model.state_dict().keys())
assert sorted(model.state_dict().keys())[:4] == [
    "conv1.bias_mask", "conv1.bias_orig", "conv1.weight_mask", "conv1.weight_orig"]
model(images).sum().backward()
assert torch.equal(module.weight_orig.grad == 0, module.weight_mask == 0)

print(list(module.named_parameters()))
print(list(module.named_buffers()))
print(module.weight)

pruned_weight = module.weight.detach().clone()
prune.remove(module, 'weight')
print(list(module.named_parameters()))
print(list(module.named_buffers()))
assert sorted(name for name, _ in module.named_parameters()) == ["bias_orig", "weight"]
assert [name for name, _ in module.named_buffers()] == ["bias_mask"]
assert isinstance(module.weight, nn.Parameter) and torch.equal(module.weight, pruned_weight)

new_model = LeNet()
for name, module in new_model.named_modules():
    # prune 20% of connections in all 2D-conv layers
    if isinstance(module, torch.nn.Conv2d):
        prune.l1_unstructured(module, name='weight', amount=0.2)
    # prune 40% of connections in all linear layers
    elif isinstance(module, torch.nn.Linear):
        prune.l1_unstructured(module, name='weight', amount=0.4)

print(dict(new_model.named_buffers()).keys())  # to verify that all masks exist
assert list(dict(new_model.named_buffers()).keys()) == [
    "conv1.weight_mask", "conv2.weight_mask", "fc1.weight_mask", "fc2.weight_mask",
    "fc3.weight_mask"]
print("CHECK fc1_pruned", (new_model.fc1.weight == 0).sum().item())

model = LeNet()

parameters_to_prune = (
    (model.conv1, 'weight'),
    (model.conv2, 'weight'),
    (model.fc1, 'weight'),
    (model.fc2, 'weight'),
    (model.fc3, 'weight'),
)

prune.global_unstructured(
    parameters_to_prune,
    pruning_method=prune.L1Unstructured,
    amount=0.2,
)

print(
    "Sparsity in conv1.weight: {:.2f}%".format(
        100. * float(torch.sum(model.conv1.weight == 0))
        / float(model.conv1.weight.nelement())
    )
)
print(
    "Sparsity in conv2.weight: {:.2f}%".format(
        100. * float(torch.sum(model.conv2.weight == 0))
        / float(model.conv2.weight.nelement())
    )
)
print(
    "Sparsity in fc1.weight: {:.2f}%".format(
        100. * float(torch.sum(model.fc1.weight == 0))
        / float(model.fc1.weight.nelement())
    )
)
print(
    "Sparsity in fc2.weight: {:.2f}%".format(
        100. * float(torch.sum(model.fc2.weight == 0))
        / float(model.fc2.weight.nelement())
    )
)
print(
    "Sparsity in fc3.weight: {:.2f}%".format(
        100. * float(torch.sum(model.fc3.weight == 0))
        / float(model.fc3.weight.nelement())
    )
)
print(
    "Global sparsity: {:.2f}%".format(
        100. * float(
            torch.sum(model.conv1.weight == 0)
            + torch.sum(model.conv2.weight == 0)
            + torch.sum(model.fc1.weight == 0)
            + torch.sum(model.fc2.weight == 0)
            + torch.sum(model.fc3.weight == 0)
        )
        / float(
            model.conv1.weight.nelement()
            + model.conv2.weight.nelement()
            + model.fc1.weight.nelement()
            + model.fc2.weight.nelement()
            + model.fc3.weight.nelement()
        )
    )
)
pruned = sum(int(torch.sum(module.weight == 0)) for module, _ in parameters_to_prune)
total = sum(module.weight.nelement() for module, _ in parameters_to_prune)
print("CHECK global_pruned", pruned)
assert pruned == round(0.2 * total)
kept = torch.cat([module.weight_orig[module.weight_mask.bool()].abs()
                  for module, _ in parameters_to_prune])
dropped = torch.cat([module.weight_orig[~module.weight_mask.bool()].abs()
                     for module, _ in parameters_to_prune])
assert dropped.max() <= kept.min()  # the smallest 20% across the whole model


class FooBarPruningMethod(prune.BasePruningMethod):
    """Prune every other entry in a tensor
    """
    PRUNING_TYPE = 'unstructured'

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


def foobar_unstructured(module, name):
    """Prunes tensor corresponding to parameter called `name` in `module`
    by removing every other entry in the tensors.
    """
    FooBarPruningMethod.apply(module, name)
    return module


model = LeNet()
foobar_unstructured(model.fc3, name='bias')

print(model.fc3.bias_mask)
assert model.fc3.bias_mask.tolist() == [0, 1] * 5
foobar_unstructured(model.fc3, name='bias')  # again: every other entry of the unpruned ones
print("CHECK foobar_twice", model.fc3.bias_mask.sum().item())
