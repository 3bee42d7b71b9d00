# Adapted from pytorch/pytorch, docs/source/notes/modules.md ("Modules"): custom modules,
# composition, training, module state, initialization and hooks.
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; the note's snippets gathered into one
# program; CPU only (the `.to(device='cuda')` lines dropped); the training loop runs 300 steps;
# files go to the working folder; the doctest outputs turned into assertions; the hook example
# also runs on fixed values for the CHECK lines.
import autodiff as torch
import autodiff.nn.functional as F
from autodiff import nn

torch.manual_seed(0)


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features))

    def forward(self, input):
        return (input @ self.weight) + self.bias


m = MyLinear(4, 3)
sample_input = torch.randn(4)
out = m(sample_input)
print(out)
assert out.shape == (3,) and out.grad_fn.name() == "AddBackward0"
for parameter in m.named_parameters():
    print(parameter)
assert [name for name, _ in m.named_parameters()] == ["weight", "bias"]

net = nn.Sequential(
    MyLinear(4, 3),
    nn.ReLU(),
    MyLinear(3, 1)
)
sample_input = torch.randn(4)
assert net(sample_input).shape == (1,)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.l0 = MyLinear(4, 3)
        self.l1 = MyLinear(3, 1)

    def forward(self, x):
        x = self.l0(x)
        x = F.relu(x)
        x = self.l1(x)
        return x


net = Net()
for child in net.named_children():
    print(child)
assert [repr(child) for child in net.named_children()] == ["('l0', MyLinear())",
                                                           "('l1', MyLinear())"]


class BigNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = MyLinear(5, 4)
        self.net = Net()

    def forward(self, x):
        return self.net(self.l1(x))


big_net = BigNet()
for module in big_net.named_modules():
    print(module)
assert [name for name, _ in big_net.named_modules()] == ["", "l1", "net", "net.l0", "net.l1"]
assert repr(big_net) == ("BigNet(\n  (l1): MyLinear()\n  (net): Net(\n    (l0): MyLinear()\n"
                         "    (l1): MyLinear()\n  )\n)"), repr(big_net)


class DynamicNet(nn.Module):
    def __init__(self, num_layers):
        super().__init__()
        self.linears = nn.ModuleList(
            [MyLinear(4, 4) for _ in range(num_layers)])
        self.activations = nn.ModuleDict({
            'relu': nn.ReLU(),
            'lrelu': nn.LeakyReLU()
        })
        self.final = MyLinear(4, 1)

    def forward(self, x, act):
        for linear in self.linears:
            x = linear(x)
            x = self.activations[act](x)
        x = self.final(x)
        return x


dynamic_net = DynamicNet(3)
sample_input = torch.randn(4)
output = dynamic_net(sample_input, 'relu')
assert [name for name, _ in dynamic_net.named_parameters()] == [
    "linears.0.weight", "linears.0.bias", "linears.1.weight", "linears.1.bias",
    "linears.2.weight", "linears.2.bias", "final.weight", "final.bias"]

dynamic_net.to(dtype=torch.float64)
result = dynamic_net(torch.randn(4, dtype=torch.float64), 'lrelu')
assert result.dtype == torch.float64


@torch.no_grad()
def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_normal_(m.weight)
        m.bias.fill_(0.0)


seq = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
seq.apply(init_weights)
assert all(torch.equal(layer.bias, torch.zeros_like(layer.bias)) for layer in (seq[0], seq[2]))

# ---- Training ----
net = Net()
optimizer = torch.optim.SGD(net.parameters(), lr=1e-2, weight_decay=1e-2, momentum=0.9)
start = sum(net(torch.randn(4)).abs().item() for _ in range(50))
for _ in range(300):
    input = torch.randn(4)
    output = net(input)
    loss = torch.abs(output)
    net.zero_grad()
    loss.backward()
    optimizer.step()
net.eval()
end = sum(net(torch.randn(4)).abs().item() for _ in range(50))
print(net.l1.weight)
print(f"mean |output|: {start / 50:.4f} before, {end / 50:.4f} after")
assert end < start


class ModalModule(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        if self.training:
            return x + 1.
        else:
            return x


m = ModalModule()
x = torch.randn(4)
print('training mode output: {}'.format(m(x)))
assert torch.equal(m(x), x + 1.)
m.eval()
print('evaluation mode output: {}'.format(m(x)))
assert torch.equal(m(x), x)

# ---- Module state ----
torch.save(net.state_dict(), 'net.pt')
new_net = Net()
result = new_net.load_state_dict(torch.load('net.pt'))
print(result)
assert str(result) == "<All keys matched successfully>"


class RunningMean(nn.Module):
    def __init__(self, num_features, momentum=0.9):
        super().__init__()
        self.momentum = momentum
        self.register_buffer('mean', torch.zeros(num_features))

    def forward(self, x):
        self.mean = self.momentum * self.mean + (1.0 - self.momentum) * x
        return self.mean


m = RunningMean(4)
for step in range(10):
    input = torch.linspace(-1.0, 1.0, 4) * step
    m(input)
print(m.state_dict())
torch.save(m.state_dict(), 'mean.pt')
m_loaded = RunningMean(4)
m_loaded.load_state_dict(torch.load('mean.pt'))
assert(torch.all(m.mean == m_loaded.mean))
print("CHECK running_mean_0", m.mean[0].item())
for buffer in m.named_buffers():
    print(buffer)
assert [name for name, _ in m.named_buffers()] == ["mean"]


class StatefulModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.param1 = nn.Parameter(torch.randn(2))
        self.register_parameter('param2', nn.Parameter(torch.randn(3)))
        self.register_parameter('param3', None)
        self.param_list = nn.ParameterList([nn.Parameter(torch.randn(2)) for i in range(3)])
        self.param_dict = nn.ParameterDict({
            'foo': nn.Parameter(torch.randn(3)),
            'bar': nn.Parameter(torch.randn(4))
        })
        self.register_buffer('buffer1', torch.randn(4), persistent=True)
        self.register_buffer('buffer2', torch.randn(5), persistent=False)
        self.register_buffer('buffer3', None)
        self.linear = nn.Linear(2, 3)


m = StatefulModule()
torch.save(m.state_dict(), 'state.pt')
m_loaded = StatefulModule()
m_loaded.load_state_dict(torch.load('state.pt'))
print(m_loaded.state_dict())
assert list(m_loaded.state_dict()) == [
    'param1', 'param2', 'buffer1', 'param_list.0', 'param_list.1', 'param_list.2',
    'param_dict.bar', 'param_dict.foo', 'linear.weight', 'linear.bias'], \
    list(m_loaded.state_dict())
assert torch.equal(m_loaded.param_dict['foo'], m.param_dict['foo'])
assert not torch.equal(m_loaded.buffer2, m.buffer2)  # non-persistent: not saved
try:
    m.param3 = torch.ones(1)
except TypeError as error:
    print(error)
    assert str(error) == ("cannot assign 'torch.FloatTensor' as parameter 'param3' "
                          "(torch.nn.Parameter or None expected)"), str(error)
else:
    raise AssertionError("a plain tensor was assigned to a reserved parameter")

# ---- Module initialization ----
m = nn.Linear(5, 3, dtype=torch.half)
assert m.weight.dtype == torch.float16
m = torch.nn.utils.skip_init(nn.Linear, 5, 3)
nn.init.orthogonal_(m.weight)
assert torch.allclose(m.weight @ m.weight.t(), torch.eye(3), atol=1e-5)
m = nn.BatchNorm2d(3, dtype=torch.half)
print(m.running_mean)
assert repr(m.running_mean) == "tensor([0., 0., 0.], dtype=torch.float16)"

# ---- Module hooks ----
torch.manual_seed(1)


def forward_pre_hook(m, inputs):
    input = inputs[0]
    return input + 1.


def forward_hook(m, inputs, output):
    return output + inputs[0]


def backward_hook(m, grad_inputs, grad_outputs):
    new_grad_inputs = [torch.ones_like(gi) * 42. for gi in grad_inputs]
    return new_grad_inputs


m = nn.Linear(3, 3)
with torch.no_grad():
    m.weight.copy_(torch.linspace(-1.0, 1.0, 9).reshape(3, 3))
    m.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
x = torch.linspace(-0.5, 0.5, 6).reshape(2, 3).requires_grad_()
plain = m(x)
print('output with no forward hooks: {}'.format(plain))
forward_pre_hook_handle = m.register_forward_pre_hook(forward_pre_hook)
pre = m(x)
print('output with forward pre hook: {}'.format(pre))
assert torch.allclose(pre, m.weight.sum(1).detach() + plain.detach())
forward_hook_handle = m.register_forward_hook(forward_hook)
both = m(x)
print('output with both forward hooks: {}'.format(both))
assert torch.allclose(both, pre + x + 1.)  # the hook sees the modified input
print("CHECK both_hooks_sum", both.sum().item())
forward_pre_hook_handle.remove()
forward_hook_handle.remove()
assert torch.equal(m(x), plain)

m(x).sum().backward()
print('x.grad with no backwards hook: {}'.format(x.grad))
print("CHECK x_grad_00", x.grad[0, 0].item())
m.zero_grad()
x.grad.zero_()
m.register_full_backward_hook(backward_hook)
m(x).sum().backward()
print('x.grad with backwards hook: {}'.format(x.grad))
assert torch.equal(x.grad, torch.full((2, 3), 42.))

# The global forms, for every module
calls = []
handle = torch.nn.modules.module.register_module_forward_hook(
    lambda module, inputs, output: calls.append(type(module).__name__))
pre_handle = torch.nn.modules.module.register_module_full_backward_pre_hook(
    lambda module, grad_outputs: calls.append("pre " + type(module).__name__))
seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
seq(torch.ones(1, 2, requires_grad=True)).sum().backward()
handle.remove()
pre_handle.remove()
print(calls)
assert calls == ["Linear", "ReLU", "Sequential", "pre Sequential", "pre ReLU", "pre Linear"], \
    calls
