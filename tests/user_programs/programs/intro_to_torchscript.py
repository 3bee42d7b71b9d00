# Adapted from pytorch/tutorials, beginner_source/Intro_to_TorchScript_tutorial.py
# ("Introduction to TorchScript").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; a seed; the printed `.graph` and
# `.code` left out (TorchScript's own text); the traced and scripted modules compared with
# eager ones; assertions and CHECK lines (on fixed inputs, the same under PyTorch) at the end.
import autodiff as torch

torch.manual_seed(0)
print(torch.__version__)


class MyCell(torch.nn.Module):
    def __init__(self):
        super(MyCell, self).__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


my_cell = MyCell()
x, h = torch.rand(3, 4), torch.rand(3, 4)
traced_cell = torch.jit.trace(my_cell, (x, h))
print(traced_cell)
traced_cell(x, h)

print(my_cell(x, h))
print(traced_cell(x, h))
assert torch.equal(my_cell(x, h)[0], traced_cell(x, h)[0])


class MyDecisionGate(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class MyCell(torch.nn.Module):
    def __init__(self, dg):
        super(MyCell, self).__init__()
        self.dg = dg
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


my_cell = MyCell(MyDecisionGate())
traced_cell = torch.jit.trace(my_cell, (x, h))

scripted_gate = torch.jit.script(MyDecisionGate())

my_cell = MyCell(scripted_gate)
scripted_cell = torch.jit.script(my_cell)

# New inputs
x, h = torch.rand(3, 4), torch.rand(3, 4)
traced_cell(x, h)
assert torch.equal(scripted_gate(-x), x) and torch.equal(scripted_gate(x), x)


class MyRNNLoop(torch.nn.Module):
    def __init__(self):
        super(MyRNNLoop, self).__init__()
        self.cell = torch.jit.trace(MyCell(scripted_gate), (x, h))

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


rnn_loop = torch.jit.script(MyRNNLoop())


class WrapRNN(torch.nn.Module):
    def __init__(self):
        super(WrapRNN, self).__init__()
        self.loop = torch.jit.script(MyRNNLoop())

    def forward(self, xs):
        y, h = self.loop(xs)
        return torch.relu(y)


xs = torch.rand(10, 3, 4)
traced = torch.jit.trace(WrapRNN(), (xs,))

traced.save('wrapped_rnn.pt')

loaded = torch.jit.load('wrapped_rnn.pt')

print(loaded)

# -- checks (added for the tests) --
assert torch.equal(loaded(xs), traced(xs))
assert loaded(xs).shape == (3, 4) and (loaded(xs) >= 0).all()

gate_input = torch.tensor([[1.0, -2.0], [3.0, -4.0]])  # sums to -2: the gate negates it
print("CHECK gate_negates", scripted_gate(gate_input).sum().item())
print("CHECK gate_passes", scripted_gate(-gate_input).sum().item())
print("CHECK loaded_matches_traced", float(torch.equal(loaded(xs), traced(xs))))
print("CHECK loaded_rows", loaded(xs).shape[0])
