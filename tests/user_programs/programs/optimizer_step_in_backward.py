# Adapted from pytorch/tutorials, intermediate_source/optimizer_step_in_backward_tutorial.py
# ("How to save memory by fusing the optimizer step into the backward pass").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; a small vision transformer in
# torchvision's VisionTransformer layout (patch convolution, class token, position embedding,
# pre-norm encoder blocks, head) stands in for torchvision's pretrained vit_l_16, on 32x32
# images; the model runs on `device`, not "cuda", and the CUDA memory snapshots are taken only
# where CUDA is; assertions at the end (the fused steps give the same weights as the usual loop).
import copy
from pickle import dump

import autodiff as torch
from autodiff import nn

device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)


class EncoderBlock(nn.Module):
    def __init__(self, num_heads, hidden_dim, mlp_dim):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(hidden_dim, mlp_dim), nn.GELU(),
                                 nn.Linear(mlp_dim, hidden_dim))

    def forward(self, input):
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = x + input
        return x + self.mlp(self.ln_2(x))


class VisionTransformer(nn.Module):
    """In place of torchvision.models.vit_l_16: the same parts, much smaller."""

    def __init__(self, image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32,
                 mlp_dim=64, num_classes=10):
        super().__init__()
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, hidden_dim).normal_(std=0.02))
        self.layers = nn.Sequential(*[EncoderBlock(num_heads, hidden_dim, mlp_dim)
                                      for _ in range(num_layers)])
        self.ln = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.heads = nn.Linear(hidden_dim, num_classes)

    def forward(self, x):
        n = x.shape[0]
        x = self.conv_proj(x).reshape(n, self.hidden_dim, -1).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
        x = self.ln(self.layers(x + self.pos_embedding))
        return self.heads(x[:, 0])


model = VisionTransformer().to(device)
reference = copy.deepcopy(model)  # for the checks: the same start, trained the usual way
optimizer = torch.optim.Adam(model.parameters())

IMAGE_SIZE = 32
fake_images = [torch.rand(1, 3, IMAGE_SIZE, IMAGE_SIZE).to(device) for _ in range(6)]
step = 0


def train(model, optimizer):
    global step
    # create our fake image input: tensor shape is batch_size, channels, height, width
    fake_image = fake_images[step]
    step += 1

    # call our forward and backward
    loss = model.forward(fake_image)
    loss.sum().backward()

    # optimizer update
    optimizer.step()
    optimizer.zero_grad()


if device == "cuda":
    # tell CUDA to start recording memory allocations
    torch.cuda.memory._record_memory_history(enabled='all')

# train 3 steps
for _ in range(3):
    train(model, optimizer)

if device == "cuda":
    # save a snapshot of the memory allocations
    s = torch.cuda.memory._snapshot()
    with open("snapshot.pickle", "wb") as f:
        dump(s, f)

    # tell CUDA to stop recording memory allocations now
    torch.cuda.memory._record_memory_history(enabled=None)

# Instead of having just *one* optimizer, we will have a ``dict`` of optimizers
# for every parameter so we could reference them in our hook.
optimizer_dict = {p: torch.optim.Adam([p], foreach=False) for p in model.parameters()}

hook_calls = []


# Define our hook, which will call the optimizer ``step()`` and ``zero_grad()``
def optimizer_hook(parameter) -> None:
    hook_calls.append(parameter)
    optimizer_dict[parameter].step()
    optimizer_dict[parameter].zero_grad()


# Register the hook onto every parameter
for p in model.parameters():
    p.register_post_accumulate_grad_hook(optimizer_hook)


# Now remember our previous ``train()`` function? Since the optimizer has been
# fused into the backward, we can remove the optimizer step and zero_grad calls.
def train(model):
    global step
    # create our fake image input: tensor shape is batch_size, channels, height, width
    fake_image = fake_images[step]
    step += 1

    # call our forward and backward
    loss = model.forward(fake_image)
    loss.sum().backward()

    # optimizer update --> no longer needed!
    # optimizer.step()
    # optimizer.zero_grad()


# delete optimizer memory from before to get a clean slate for the next
# memory snapshot
del optimizer

if device == "cuda":
    # tell CUDA to start recording memory allocations
    torch.cuda.memory._record_memory_history(enabled='all')

# train 3 steps. note that we no longer pass the optimizer into train()
for _ in range(3):
    train(model)

if device == "cuda":
    # save a snapshot of the memory allocations
    s = torch.cuda.memory._snapshot()
    with open("snapshot-opt-in-bwd.pickle", "wb") as f:
        dump(s, f)

    # tell CUDA to stop recording memory allocations now
    torch.cuda.memory._record_memory_history(enabled=None)

# -- checks (added for the tests) --
parameters = list(model.parameters())
assert len(hook_calls) == 3 * len(parameters)
assert all(p.grad is None for p in parameters)  # each gradient dropped right after its step
# The usual loop: one Adam over all parameters for three steps, then a fresh Adam per
# parameter (its state starts over, as the tutorial's per-parameter optimizers' does).
usual = torch.optim.Adam(reference.parameters())
for image in fake_images[:3]:
    reference(image).sum().backward()
    usual.step()
    usual.zero_grad()
fresh = torch.optim.Adam(reference.parameters(), foreach=False)
for image in fake_images[3:]:
    reference(image).sum().backward()
    fresh.step()
    fresh.zero_grad()
for ours, theirs in zip(parameters, reference.parameters()):
    assert torch.allclose(ours, theirs, atol=1e-6), (ours - theirs).abs().max()
