# Adapted from pytorch/tutorials, intermediate_source/torch_controlflow_tutorial.py ("Tutorial of
# control flow operators").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; on the CPU: associative_scan in its
# generic mode only (the pointwise mode and the SSM example need CUDA), no torch.compile or
# timing; the scan LSTM's gradients are checked against the for-loop LSTMCell's; a seed;
# assertions at the end of each part.
import autodiff as torch
from autodiff._higher_order_ops.associative_scan import associative_scan
from autodiff._higher_order_ops.cond import cond
from autodiff._higher_order_ops.map import map
from autodiff._higher_order_ops.scan import scan
from autodiff._higher_order_ops.while_loop import while_loop

torch.manual_seed(0)


class CondExample(torch.nn.Module):
    def forward(self, x: torch.Tensor):

        # Define the branch prediction function
        pred = (x.sum() > 0).unsqueeze(0)

        # Define the function for the true branch
        def true_fn(t: torch.Tensor):
            return (t.cos(),)

        # Define the function for the false branch
        def false_fn(t: torch.Tensor):
            return (t.sin(),)

        out = cond(pred, true_fn, false_fn, (x,))
        return out[0]


# Define the input
xs = torch.randn(3, 3)

# Compute the results using cond
model = CondExample()
result = model(xs)

# Compute the results with pure PyTorch
result_pytorch = xs.cos() if xs.sum() > 0 else xs.sin()

print('=' * 80)
print('Example: cond')
print("Native PyTorch:\n", result_pytorch)
print("Result with cond:\n", result)
torch.testing.assert_close(result_pytorch, result)
print('-' * 80)


class CumulativeSumWithWhileLoopExample(torch.nn.Module):
    def forward(self, cnt: torch.Tensor, s: torch.Tensor):
        def cond_fn(i, s):
            return i < 5

        def body_fn(i, s):
            return (i + 1, s + i)

        cnt_final, cumsum_final = while_loop(cond_fn, body_fn, (cnt, s))
        return cumsum_final


# Define the inputs
cnt = torch.tensor(0)
s = torch.tensor(0)

# Compute ground truth
result_pytorch = torch.cumsum(torch.arange(5), 0)[-1]

model = CumulativeSumWithWhileLoopExample()
result = model(cnt, s)

print('=' * 80)
print('Example: while_loop')
print("Native PyTorch:\n", result_pytorch)
print("Cumulative sum with while_loop result:\n", result)
torch.testing.assert_close(result_pytorch, result)
print('-' * 80)


class ScanExample(torch.nn.Module):
    def forward(self, init: torch.Tensor, xs: torch.Tensor):
        def combine(carry, x):
            new_carry = carry + x
            return new_carry, new_carry * 2.

        cumsum_final, _ = scan(combine, init, xs, dim=0)
        return cumsum_final


# Define the inputs
xs = torch.arange(1, 5)
init = torch.tensor(0)

# Compute ground truth
result_pytorch = torch.cumsum(torch.arange(5), 0)[-1]

model = ScanExample()
result = model(init, xs)

print('=' * 80)
print('Example: scan')
print("Native PyTorch:\n", result_pytorch)
print("Cumulative sum with scan:\n", result)
torch.testing.assert_close(result_pytorch, result)
print('-' * 80)


class AssociativeScanExample(torch.nn.Module):
    def forward(self, xs: torch.Tensor):
        def sum(a, b):
            return a + b

        res_generic = associative_scan(combine_fn=sum, xs=xs, dim=0, combine_mode="generic")[-1]
        return res_generic


# Define the inputs
xs = torch.arange(5)

# Compute ground truth
result_pytorch = torch.cumsum(torch.arange(5), 0)[-1]

model = AssociativeScanExample()
res_generic = model(xs)

print('=' * 80)
print('Example: associative_scan')
print("Native PyTorch:\n", result_pytorch)
print("Cumulative sum with associative_scan (generic):\n", res_generic)
torch.testing.assert_close(result_pytorch, res_generic.to('cpu'))
print('-' * 80)


class MapExample(torch.nn.Module):
    def forward(self, xs: torch.Tensor, y: torch.Tensor):
        def body_fn(x, y):
            return x ** y

        result = map(body_fn, xs, y)
        return result


# Define the inputs
xs = torch.arange(5)
y = torch.tensor(2)

# Compute ground truth
result_pytorch = xs ** y

model = MapExample()
result = model(xs, y)

print('=' * 80)
print('Example: map')
print("Native PyTorch result:\n", result_pytorch)
print("map result:\n", result)
torch.testing.assert_close(result_pytorch, result)
print('-' * 80)


class AdvancedCondExample(torch.nn.Module):
    def forward(self, xs: torch.Tensor):
        def pred(x):
            return torch.isinf(x).any() or torch.isnan(x).any()

        def true_fn(x):
            no_nans_and_infs = torch.nan_to_num(x, nan=0.0, posinf=100, neginf=-100)
            clamped = torch.clamp(no_nans_and_infs, min=min_allowed_value, max=max_allowed_value)
            return clamped

        def false_fn(x):
            return x.clone()

        xs_filtered = cond(pred(xs),
                           true_fn,
                           false_fn,
                           (xs,)
                           )

        return xs_filtered


# Define the input with large values and NaNs
xs = torch.tensor([-10., -4, torch.nan, 1, torch.inf])
max_allowed_value = 4
min_allowed_value = -7

model = AdvancedCondExample()
xs_filtered = model(xs)

print('=' * 80)
print('Example: Value clamping')
print("Unfiltered tensort:\n", xs)
print("Filtered tensor:\n", xs_filtered)
assert xs_filtered.tolist() == [-7.0, -4.0, 0.0, 1.0, 4.0]
print('-' * 80)


class LSTM_forloop(torch.nn.Module):
    def __init__(self, input_size, hidden_size):
        super(LSTM_forloop, self).__init__()

        self.lstm_cell = torch.nn.LSTMCell(input_size, hidden_size)

    def forward(self, init: torch.Tensor, xs: torch.Tensor):
        # The input `xs` has the time as the first dimsion
        output = []
        for i in range(xs.size()[0]):
            hx, cx = self.lstm_cell(xs[i], init)
            init = (hx, cx)
            output.append(hx)
        output = torch.stack(output, dim=0)
        return output


class LSTM_scan_cell(torch.nn.Module):
    def __init__(self, state_dict):
        super(LSTM_scan_cell, self).__init__()
        self.lstm_cell = torch.nn.LSTMCell(input_size, hidden_size)
        self.lstm_cell.load_state_dict(state_dict)

    def forward(self, init: torch.Tensor, xs: torch.Tensor):
        def lstm_combine(carry, x):
            hx, cx = self.lstm_cell(x, carry)
            return (hx, cx.clone()), hx.clone()

        carry, outs = scan(lstm_combine, init, xs, dim=0)
        return carry, outs


print('=' * 80)
print('Example: RNN with scan')
time_steps = 20
input_size = 15
hidden_size = 20
xs = torch.randn(time_steps, input_size, requires_grad=True)
h = torch.randn(hidden_size)
c = torch.randn(hidden_size)
init = (h, c)

lstm_forloop = LSTM_forloop(input_size, hidden_size)
lstm_forloop_state_dict = lstm_forloop.state_dict()
rnn_scan_cell_state_dict = {}
for key, value in lstm_forloop_state_dict.items():
    new_key = key.replace('lstm_cell.', '')
    rnn_scan_cell_state_dict[new_key] = value.clone()
lstm_scan_cell = LSTM_scan_cell(rnn_scan_cell_state_dict)

result_forloop = lstm_forloop(init, xs)
result_scan_cell = lstm_scan_cell((init[0].clone(), init[1].clone()), xs)
torch.testing.assert_close(result_forloop, result_scan_cell[1])

# Autograd through scan: the same gradients as the for-loop's
(grad_loop,) = torch.autograd.grad(result_forloop.square().sum(), xs)
(grad_scan,) = torch.autograd.grad(result_scan_cell[1].square().sum(), xs)
torch.testing.assert_close(grad_loop, grad_scan)
weight_grads = torch.autograd.grad(result_scan_cell[1].sum(),
                                   list(lstm_scan_cell.parameters()))
assert all(grad.abs().sum() > 0 for grad in weight_grads)
print('-' * 80)
