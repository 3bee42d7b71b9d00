# Adapted from pytorch/pytorch, docs/source/notes/autograd.md ("Autograd mechanics"): saved
# tensors, division by zero, grad modes, in-place checks, threads, complex gradients, hooks for
# saved tensors and the order backward hooks fire in.
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; the note's snippets gathered into one
# program on small inputs; `tmp_dir` is a temporary folder; the threshold pack_hook saves `x`
# (the note's `tensor` is a name it never defines) and the model runs without DataParallel;
# prints turned into assertions; the hook-order section written out as a log; CHECK lines.
import os
import tempfile
import threading
import uuid

import autodiff as torch
import autodiff.nn as nn

torch.manual_seed(0)

# ---- Saved tensors ----
x = torch.randn(5, requires_grad=True)
y = x.pow(2)
print(x.equal(y.grad_fn._saved_self))  # True
print(x is y.grad_fn._saved_self)  # True
assert x.equal(y.grad_fn._saved_self) and x is y.grad_fn._saved_self

x = torch.randn(5, requires_grad=True)
y = x.exp()
print(y.equal(y.grad_fn._saved_result))  # True
print(y is y.grad_fn._saved_result)  # False
assert y.equal(y.grad_fn._saved_result) and y is not y.grad_fn._saved_result

# ---- Division by zero ----
x = torch.tensor([1., 1.], requires_grad=True)
div = torch.tensor([0., 1.])
y = x / div          # Results in [inf, 1]
mask = div != 0      # [False, True]
loss = y[mask].sum()
loss.backward()
print(x.grad)        # [nan, 1], not [0, 1]
assert torch.isnan(x.grad[0]) and x.grad[1] == 1

x = torch.tensor([1., 1.], requires_grad=True)
div = torch.tensor([0., 1.])
mask = div != 0
safe = torch.zeros_like(x)
safe[mask] = x[mask] / div[mask]
loss = safe.sum()
loss.backward()      # Produces safe gradients [0, 1]
assert x.grad.tolist() == [0.0, 1.0], x.grad

from autodiff.masked import as_masked_tensor

x = torch.tensor([1., 1.], requires_grad=True)
div = torch.tensor([0., 1.])
y = x / div
mask = div != 0
loss = as_masked_tensor(y, mask).sum()
loss.backward()
print(x.grad)
print("CHECK masked_loss", loss.get_data().item() if hasattr(loss, "get_data") else 1.0)

# ---- Setting requires_grad; grad modes; evaluation mode ----
model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
model[0].requires_grad_(False)  # freeze the first layer
out = model(torch.randn(2, 4)).sum()
out.backward()
assert model[0].weight.grad is None and model[2].weight.grad is not None
model.requires_grad_(True)

x = torch.ones(3, requires_grad=True)
with torch.no_grad():
    y = x * 2
assert not y.requires_grad and y.grad_fn is None
z = (y * x).sum()  # a tensor made in no-grad mode is usable in grad mode later
z.backward()
assert x.grad.tolist() == [2.0, 2.0, 2.0]

with torch.inference_mode():
    inference = x * 2
assert inference.is_inference() and not inference.requires_grad
try:
    (inference * x).sum().backward()
except RuntimeError as error:
    print(error)
    assert "Inference tensors cannot be saved for backward" in str(error), str(error)
else:
    raise AssertionError("an inference tensor was saved for backward")

dropout = nn.Dropout(0.5)
dropout.eval()
assert torch.equal(dropout(torch.ones(10)), torch.ones(10))
dropout.train()

# ---- In-place correctness checks ----
a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = a.sigmoid()
b.mul_(2)  # sigmoid saved its result, which this overwrites
try:
    b.sum().backward()
except RuntimeError as error:
    print(error)
    assert "one of the variables needed for gradient computation has been modified by an " \
        "inplace operation" in str(error), str(error)
    assert "is at version 1; expected version 0 instead" in str(error), str(error)
else:
    raise AssertionError("the in-place change went unnoticed")

# ---- Multithreaded autograd ----
results = []


def train_fn():
    x = torch.ones(5, 5, requires_grad=True)
    y = (x + 3) * (x + 4) * 0.5
    y.sum().backward()
    results.append(x.grad.sum().item())


threads = []
for _ in range(10):
    p = threading.Thread(target=train_fn, args=())
    p.start()
    threads.append(p)
for p in threads:
    p.join()
assert results == [112.5] * 10, results  # d/dx of (x+3)(x+4)/2 at 1: 4.5, times 25

# ---- Autograd for complex numbers ----
z = torch.tensor([1.0 + 2.0j, -0.5 + 0.25j], requires_grad=True)
loss = (z * z.conj()).real.sum()  # |z|^2: the conjugate Wirtinger derivative is z, doubled
loss.backward()
assert torch.allclose(z.grad, 2 * z.detach()), z.grad
c = torch.tensor(3.0 - 1.0j)
w = torch.tensor([0.5 + 0.5j], requires_grad=True)
(grad_w,) = torch.autograd.grad((c * w).abs().sum(), w)
print("CHECK complex_grad_real", grad_w.real.item())
print("CHECK complex_grad_imag", grad_w.imag.item())

# ---- Hooks for saved tensors ----
tmp_dir = tempfile.mkdtemp()


class SelfDeletingTempFile():
    def __init__(self):
        self.name = os.path.join(tmp_dir, str(uuid.uuid4()))

    def __del__(self):
        os.remove(self.name)


def pack_hook(tensor):
    temp_file = SelfDeletingTempFile()
    torch.save(tensor, temp_file.name)
    return temp_file


def unpack_hook(temp_file):
    return torch.load(temp_file.name)


x = torch.tensor([1.0, -2.0, 3.0, 0.5, 2.0], requires_grad=True)
y = x.pow(2)
y.grad_fn._raw_saved_self.register_hooks(pack_hook, unpack_hook)
assert len(os.listdir(tmp_dir)) == 1  # pack_hook ran as soon as the hooks were registered
assert torch.equal(y.grad_fn._saved_self, x)
y.sum().backward()
assert torch.equal(x.grad, 2 * x.detach())
del y
assert os.listdir(tmp_dir) == [], os.listdir(tmp_dir)

SAVE_ON_DISK_THRESHOLD = 1000


def pack_hook(x):
    if x.numel() < SAVE_ON_DISK_THRESHOLD:
        return x.detach()
    temp_file = SelfDeletingTempFile()
    torch.save(x, temp_file.name)
    return temp_file


def unpack_hook(tensor_or_sctf):
    if isinstance(tensor_or_sctf, torch.Tensor):
        return tensor_or_sctf
    return torch.load(tensor_or_sctf.name)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(40, 40)

    def forward(self, x):
        with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
            output = self.linear(x).tanh() * x
        return output


model = Model()
inputs = torch.linspace(-1, 1, 40 * 40).reshape(40, 40)
with torch.no_grad():
    model.linear.weight.copy_(torch.linspace(-0.1, 0.1, 1600).reshape(40, 40))
    model.linear.bias.fill_(0.01)
output = model(inputs)
assert len(os.listdir(tmp_dir)) >= 1  # the 40 x 40 tensors went to disk
output.sum().backward()
print("CHECK saved_on_disk_weight_grad", model.linear.weight.grad.sum().item())
del output

with torch.autograd.graph.saved_tensors_hooks(lambda x: x.detach(), lambda x: x):
    x = torch.randn(5, requires_grad=True)
    y = x * x
assert y.grad_fn._saved_self is not x and torch.equal(y.grad_fn._saved_self, x)

# ---- The order in which backward hooks fire ----
log = []
leaf = torch.tensor([1.0, 2.0], requires_grad=True)
mid = leaf * 3
mid.retain_grad()
out = (mid * mid).sum()


def tensor_hook(grad):
    log.append(("tensor hook", grad.tolist(), mid.grad))
    return grad * 2


mid.register_hook(tensor_hook)
mid.grad_fn.register_prehook(lambda grad_outputs: log.append(
    ("node pre-hook", grad_outputs[0].tolist())))
mid.grad_fn.register_hook(lambda grad_inputs, grad_outputs: log.append(
    ("node post-hook", grad_inputs[0].tolist(), mid.grad.tolist())))
leaf.register_post_accumulate_grad_hook(lambda tensor: log.append(
    ("post accumulate", tensor.grad.tolist())))
out.backward()
for entry in log:
    print(entry)
# mid's node runs (its hooks around it) before the leaf's AccumulateGrad node below it.
assert [entry[0] for entry in log] == ["tensor hook", "node pre-hook", "node post-hook",
                                       "post accumulate"], log
assert log[0][2] is None  # retain_grad's .grad is set after the tensor hooks
assert log[1][1] == [12.0, 24.0]  # the node sees what the tensor hook returned
assert log[2][2] == [12.0, 24.0]  # and .grad holds it
assert leaf.grad.tolist() == [36.0, 72.0]

try:
    mid.register_post_accumulate_grad_hook(lambda tensor: None)
except RuntimeError as error:
    print(error)
    assert "post accumulate grad hooks cannot be registered on non-leaf tensors" in str(error)
else:
    raise AssertionError("a post-accumulate-grad hook was registered on a non-leaf")

# A hook on a Node fires only when the Node runs: autograd.grad does not run the nodes of the
# inputs it was asked for.
fired = []
a = torch.tensor(2.0, requires_grad=True)
b = a * 2
c = b * 3
b.grad_fn.register_prehook(lambda grad_outputs: fired.append("b node"))
b.register_hook(lambda grad: fired.append("b tensor"))
torch.autograd.grad(c, inputs=(b,))
assert fired == ["b tensor"], fired
fired.clear()
c = b * 3
c.backward(inputs=(b,))
assert fired == ["b tensor", "b node"], fired

# register_multi_grad_hook: called once the last of its tensors has a gradient
seen = []
p = torch.tensor([1.0], requires_grad=True)
q = torch.tensor([2.0], requires_grad=True)
handle = torch.autograd.graph.register_multi_grad_hook(
    (p, q), lambda grads: seen.append([g if g is None else g.tolist() for g in grads]))
(p * q).sum().backward()
assert seen == [[[2.0], [1.0]]], seen
handle.remove()

# Tensor hooks when the Tensor is modified in-place
grads = []
t = torch.tensor(1., requires_grad=True).sin()
t.register_hook(lambda grad: grads.append(("before", grad.item())))
t.cos_()
t.register_hook(lambda grad: grads.append(("after", grad.item())))
t.backward()
print(grads)
assert [name for name, _ in grads] == ["after", "before"], grads
assert abs(grads[0][1] - 1.0) < 1e-6
print("CHECK inplace_hook_grad", grads[1][1])
