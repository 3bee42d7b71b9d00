# Adapted from pytorch/tutorials, beginner_source/introyt/autogradyt_tutorial.py ("The
# Fundamentals of Autograd").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose and the matplotlib plots
# are left out; the profiler loop runs 100 times instead of 1000; the in-place example the
# tutorial shows failing runs inside try/except; the notebook's bare expressions are printed;
# assertions at the end, with CHECK lines of the numbers that do not depend on the random
# stream.
import math

import autodiff as torch

a = torch.linspace(0., 2. * math.pi, steps=25, requires_grad=True)
print(a)

b = torch.sin(a)
print(b)

c = 2 * b
print(c)

d = c + 1
print(d)

out = d.sum()
print(out)

print('d:')
print(d.grad_fn)
print(d.grad_fn.next_functions)
print(d.grad_fn.next_functions[0][0].next_functions)
print(d.grad_fn.next_functions[0][0].next_functions[0][0].next_functions)
print(d.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0].next_functions)
print('\nc:')
print(c.grad_fn)
print('\nb:')
print(b.grad_fn)
print('\na:')
print(a.grad_fn)

out.backward()
print(a.grad)

# -- checks (added for the tests) --
names = []
node = d.grad_fn
while node is not None:
    names.append(node.name())
    node = node.next_functions[0][0] if node.next_functions else None
assert names == ['AddBackward0', 'MulBackward0', 'SinBackward0',
                 'torch::autograd::AccumulateGrad'], names
assert d.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0].variable is a
assert str(d.grad_fn).startswith('<AddBackward0 object at 0x'), str(d.grad_fn)
assert d.grad_fn.next_functions[1] == (None, 0), d.grad_fn.next_functions
assert torch.allclose(a.grad, 2 * torch.cos(a.detach()))
print("CHECK out", out.item())
print("CHECK a_grad_sum", a.grad.sum().item())
print("CHECK a_grad_3", a.grad[3].item())

BATCH_SIZE = 16
DIM_IN = 1000
HIDDEN_SIZE = 100
DIM_OUT = 10

class TinyModel(torch.nn.Module):

    def __init__(self):
        super(TinyModel, self).__init__()

        self.layer1 = torch.nn.Linear(1000, 100)
        self.relu = torch.nn.ReLU()
        self.layer2 = torch.nn.Linear(100, 10)

    def forward(self, x):
        x = self.layer1(x)
        x = self.relu(x)
        x = self.layer2(x)
        return x

some_input = torch.randn(BATCH_SIZE, DIM_IN, requires_grad=False)
ideal_output = torch.randn(BATCH_SIZE, DIM_OUT, requires_grad=False)

model = TinyModel()

print(model.layer2.weight[0][0:10]) # just a small slice
print(model.layer2.weight.grad)
assert model.layer2.weight.grad is None

optimizer = torch.optim.SGD(model.parameters(), lr=0.001)

prediction = model(some_input)

loss = (ideal_output - prediction).pow(2).sum()
print(loss)

before = model.layer2.weight.detach().clone()
loss.backward()
print(model.layer2.weight[0][0:10])
print(model.layer2.weight.grad[0][0:10])
assert torch.equal(before, model.layer2.weight)

optimizer.step()
print(model.layer2.weight[0][0:10])
print(model.layer2.weight.grad[0][0:10])
assert torch.allclose(model.layer2.weight, before - 0.001 * model.layer2.weight.grad)

print(model.layer2.weight.grad[0][0:10])
one_step = model.layer2.weight.grad.clone()

for i in range(0, 5):
    prediction = model(some_input)
    loss = (ideal_output - prediction).pow(2).sum()
    loss.backward()

print(model.layer2.weight.grad[0][0:10])
assert model.layer2.weight.grad.norm() > 3 * one_step.norm()

optimizer.zero_grad()

print(model.layer2.weight.grad[0][0:10] if model.layer2.weight.grad is not None else None)
assert model.layer2.weight.grad is None  # zero_grad sets to None by default

a = torch.ones(2, 3, requires_grad=True)
print(a)

b1 = 2 * a
print(b1)

a.requires_grad = False
b2 = 2 * a
print(b2)
assert b1.requires_grad and b1.grad_fn is not None
assert not b2.requires_grad and b2.grad_fn is None

a = torch.ones(2, 3, requires_grad=True) * 2
b = torch.ones(2, 3, requires_grad=True) * 3

c1 = a + b
print(c1)

with torch.no_grad():
    c2 = a + b

print(c2)

c3 = a * b
print(c3)
assert c1.requires_grad and not c2.requires_grad and c3.requires_grad

def add_tensors1(x, y):
    return x + y

@torch.no_grad()
def add_tensors2(x, y):
    return x + y


a = torch.ones(2, 3, requires_grad=True) * 2
b = torch.ones(2, 3, requires_grad=True) * 3

c1 = add_tensors1(a, b)
print(c1)

c2 = add_tensors2(a, b)
print(c2)
assert c1.grad_fn is not None and c2.grad_fn is None and add_tensors2.__name__ == 'add_tensors2'

@torch.enable_grad()
def doubler(x):
    return x * 2

with torch.no_grad():
    doubled = doubler(a)
assert doubled.requires_grad

x = torch.rand(5, requires_grad=True)
y = x.detach()

print(x)
print(y)
assert not y.requires_grad and y.data_ptr() == x.data_ptr()

a = torch.linspace(0., 2. * math.pi, steps=25, requires_grad=True)
try:
    torch.sin_(a)
except RuntimeError as error:
    print(error)
    assert str(error) == ('a leaf Variable that requires grad is being used in an in-place '
                          'operation.'), str(error)
else:
    raise AssertionError("in-place sin_ on a leaf that requires grad was allowed")

device = torch.device('cpu')
run_on_gpu = False
if torch.cuda.is_available():
    device = torch.device('cuda')
    run_on_gpu = True

x = torch.randn(2, 3, requires_grad=True)
y = torch.rand(2, 3, requires_grad=True)
z = torch.ones(2, 3, requires_grad=True)

with torch.autograd.profiler.profile(use_cuda=run_on_gpu) as prf:
    for _ in range(100):
        z = (z / x) * y

table = prf.key_averages().table(sort_by='self_cpu_time_total')
print(table)
counts = {event.key: event.count for event in prf.key_averages()}
assert counts['aten::div'] == 100 and counts['aten::mul'] == 100, counts
assert 'Self CPU time total' in table, table

x = torch.randn(3, requires_grad=True)

y = x * 2
while y.data.norm() < 1000:
    y = y * 2

print(y)

try:
    y.backward()
except RuntimeError as error:
    assert str(error) == 'grad can be implicitly created only for scalar outputs', str(error)
else:
    raise AssertionError("backward() of a non-scalar output was allowed")

v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float) # stand-in for gradients
y.backward(v)

print(x.grad)
scale = (y / x).detach()
assert torch.allclose(x.grad, v * scale)
assert all(math.log2(s) == round(math.log2(s)) for s in scale.tolist()), scale

def exp_adder(x, y):
    return 2 * x.exp() + 3 * y

inputs = (torch.rand(1), torch.rand(1)) # arguments for the function
print(inputs)
print(torch.autograd.functional.jacobian(exp_adder, inputs))
jx, jy = torch.autograd.functional.jacobian(exp_adder, inputs)
assert torch.allclose(jx, 2 * inputs[0].exp().view(1, 1)) and torch.equal(jy, torch.tensor([[3.]]))

inputs = (torch.rand(3), torch.rand(3)) # arguments for the function
print(inputs)
print(torch.autograd.functional.jacobian(exp_adder, inputs))
jx, jy = torch.autograd.functional.jacobian(exp_adder, inputs)
assert jx.shape == (3, 3) and torch.allclose(jx, torch.diag(2 * inputs[0].exp()))
assert torch.equal(jy, 3 * torch.eye(3))

hx = torch.autograd.functional.hessian(lambda x: (2 * x.exp()).sum(), inputs[0])
assert torch.allclose(hx, torch.diag(2 * inputs[0].exp()))

def do_some_doubling(x):
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    return y

inputs = torch.randn(3)
my_gradients = torch.tensor([0.1, 1.0, 0.0001])
print(torch.autograd.functional.vjp(do_some_doubling, inputs, v=my_gradients))
output, vjp = torch.autograd.functional.vjp(do_some_doubling, inputs, v=my_gradients)
assert torch.allclose(vjp, my_gradients * (output / inputs))
output, jvp = torch.autograd.functional.jvp(do_some_doubling, inputs, v=my_gradients)
assert torch.allclose(jvp, vjp)
_, hvp = torch.autograd.functional.hvp(lambda x: x.pow(3).sum(), inputs, v=my_gradients)
_, vhp = torch.autograd.functional.vhp(lambda x: x.pow(3).sum(), inputs, v=my_gradients)
assert torch.allclose(hvp, 6 * inputs * my_gradients) and torch.allclose(hvp, vhp)
