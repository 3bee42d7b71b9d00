"""Seed 002 (../shared/seeds/002_3d5dfff09b1f4dbc.txt): y = x + 2, z = y*y*2, mean, backward;
the two RuntimeErrors; backward(v) for a vector; three ways to stop tracking; gradient
accumulation over epochs and grad.zero_().

Every code cell is replayed verbatim (with `import autodiff as torch`). The x's come from randn:
their values are checked against NumPy computing the same formulas from the tensors' own values,
and the printed form against PyTorch's layout (and, in the last test, against PyTorch itself).
"""

# ruff: noqa: E501 - the cells keep the tutorials' lines verbatim

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.seeds.notebook import Cell, Notebook, compare_with_pytorch, entries, printed_numbers

CELLS = [
    Cell("In[68]", """\
import torch

x = torch.randn(3, requires_grad=True)
print(x)  """),
    Cell("In[69]", """\
y = x + 2
print(y)

# In above, clearly y is created as a result of an operation, so it has grad_fn
# the name of the function is AddBackward0 """),
    Cell("In[70]", """\
# Similarly,

z = y*y*2
print(z)

# In above, clearly z is created as a result of an operation, so it has grad_fn
# the name of the function is MulBackward0"""),
    Cell("In[71]", """\
z = z.mean()
print(z)

# In above, clearly z is created as a result of an operation, so it has grad_fn
# the name of the function is MeanBackward0"""),
    Cell("In[72]", """\
# Now, let's backpropagate
z.backward() # dz/dx
print(x)
print(x.grad)
"""),
    Cell("In[73]", """\
# Suppose we didnt specify requires_grad=True, then
x = torch.randn(3, requires_grad=False)
y = x + 2
z = y*y*2
z = z.mean()
z.backward() # dz/dx
print(x.grad)

# It throws a runtime error, because we didnt specify requires_grad=True
"""),
    Cell("In[75]", """\
# The value of z is a scalar, so we can backpropagate through it without specifying any arguments to backward()
# But what if z was a vector, then we need to specify a vector argument to backward()

# it means we have multiple values for z, and we need to specify which one to backpropagate
# so we need to specify a vector value for z.backward()

x = torch.randn(3, requires_grad=True)
y = x + 2
z = y*y*2
print(z)
v = torch.tensor([0.1, 1.0, 0.001], dtype=torch.float32)
z.backward() # dz/dx
"""),
    Cell("In[76]", """\
# To specify which value of z to backpropagate, we need to specify a vector value for z.backward()

v = torch.tensor([0.1, 1.0, 0.001], dtype=torch.float32)
z.backward(v) # dz/dx
print(x.grad)
"""),
    Cell("In[77]", """\
# We might be updating the weights of the model in the training phase, but not in the inference phase. In this case we dont want pytorch to track the gradients
# If we dont want pytorch to track the gradients, we can use following methods
# 1. x.requires_grad_(False)
# 2. x.detach()
# 3. with torch.no_grad():"""),
    Cell("In[78]", """\
# Method 1
x = torch.randn(3, requires_grad=True)
print(x.requires_grad)
y = x.detach()
print(y.requires_grad)"""),
    Cell("In[79]", """\
# Method 2
x = torch.randn(3, requires_grad=True)
print(x.requires_grad)

x.requires_grad_(False)
print(x.requires_grad)"""),
    Cell("In[80]", """\
# Method 3
x = torch.randn(3, requires_grad=True)
print(x.requires_grad)
with torch.no_grad():
    y = x + 2
    print(y.requires_grad) """),
    Cell("In[81]", """\
import torch

weights = torch.ones(4, requires_grad=True)

for epoch in range(1):
    model_output = (weights*3).sum()
    model_output.backward()
    print(weights.grad)"""),
    Cell("In[82]", """\
import torch

weights = torch.ones(4, requires_grad=True)

for epoch in range(2):
    model_output = (weights*3).sum()
    model_output.backward()
    print(weights.grad)
    """),
    Cell("In[83]", """\
import torch

weights = torch.ones(4, requires_grad=True)

for epoch in range(3):
    model_output = (weights*3).sum()
    model_output.backward()
    print(weights.grad)


# Clearing the gradients are accumulated in the weights.grad as we iterate through the loop more and more times

# To prevent this, we need to reset the gradients to zero, otherwise they will accumulate"""),
    Cell("In[84]", """\
import torch

weights = torch.ones(4, requires_grad=True)

for epoch in range(3):
    model_output = (weights*3).sum()
    model_output.backward()
    print(weights.grad)
    # Clearing the gradients are accumulated in the weights.grad as we iterate through the loop more and more times
    # To prevent this, we need to reset the gradients to zero, otherwise they will accumulate
    weights.grad.zero_()"""),
]

# PyTorch's layout of a printed 1-D float tensor of three values: four decimals, every entry
# padded to one width (or scientific notation with 4 decimals when the values span > 1000x).
FIXED = r"-?\d+\.\d{4}"
SCI = r"-?\d\.\d{4}e[+-]\d{2}"


def one_d(suffix: str = "", sci: bool = False) -> re.Pattern[str]:
    number = SCI if sci else FIXED
    return re.compile(rf"tensor\(\[ *{number}(?:, +{number}){{2}}\]{re.escape(suffix)}\)")


def assert_printed(text: str, values: np.ndarray, suffix: str = "") -> None:
    """`text` is a PyTorch-style print of `values` (rounded to 4 decimals / 5 digits)."""
    text = text.strip()
    sci = "e+" in text or "e-" in text
    assert one_d(suffix, sci).fullmatch(text), text
    assert len({len(entry) for entry in entries(text)}) == 1, f"ragged padding: {text}"
    np.testing.assert_allclose(printed_numbers(text), values,
                               rtol=6e-5 if sci else 0, atol=0 if sci else 5.01e-5)


@pytest.fixture
def notebook() -> Notebook:
    import autodiff

    autodiff.manual_seed(0)
    return Notebook(CELLS)


def test_randn_leaf_prints_with_requires_grad(notebook: Notebook) -> None:
    output = notebook.run_through("In[68]")
    x = notebook["x"]
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    assert tuple(x.shape) == (3,) and str(x.dtype) == "torch.float32"
    assert_printed(output.stdout, np.array(x.tolist()), ", requires_grad=True")


def test_forward_chain_values_and_grad_fns(notebook: Notebook) -> None:
    notebook.run_through("In[68]")
    x = np.array(notebook["x"].tolist(), dtype=np.float32)
    output = notebook.run_through("In[69]")
    assert notebook["y"].grad_fn.name() == "AddBackward0"
    assert_printed(output.stdout, x + 2, ", grad_fn=<AddBackward0>")
    output = notebook.run_through("In[70]")
    assert notebook["z"].grad_fn.name() == "MulBackward0"
    assert_printed(output.stdout, (x + 2) * (x + 2) * 2, ", grad_fn=<MulBackward0>")
    output = notebook.run_through("In[71]")
    z = notebook["z"]
    assert z.grad_fn.name() == "MeanBackward0" and tuple(z.shape) == ()
    expected = np.mean((x + 2) * (x + 2) * 2)
    assert z.item() == pytest.approx(float(expected), rel=1e-6)
    assert re.fullmatch(rf"tensor\({FIXED}, grad_fn=<MeanBackward0>\)\n", output.stdout)
    assert abs(printed_numbers(output.stdout)[0] - expected) <= 5.01e-5


def test_backward_gives_dz_dx(notebook: Notebook) -> None:
    notebook.run_through("In[71]")
    x = np.array(notebook["x"].tolist(), dtype=np.float32)
    output = notebook.run_through("In[72]")
    printed_x, printed_grad = output.stdout.splitlines()
    assert_printed(printed_x, x, ", requires_grad=True")
    grad = 4 * (x + 2) / 3  # d/dx mean(2 (x + 2)^2)
    np.testing.assert_allclose(notebook["x"].grad.tolist(), grad, rtol=1e-6)
    assert_printed(printed_grad, grad)


def test_backward_without_requires_grad_raises(notebook: Notebook) -> None:
    output = notebook.run_through("In[73]")
    assert isinstance(output.error, RuntimeError)
    assert str(output.error) == (
        "element 0 of tensors does not require grad and does not have a grad_fn")
    assert output.stdout == ""  # print(x.grad) was not reached
    assert notebook["x"].grad is None and not notebook["z"].requires_grad


def test_backward_on_a_vector_without_gradient_raises(notebook: Notebook) -> None:
    output = notebook.run_through("In[75]")
    x = np.array(notebook["x"].tolist(), dtype=np.float32)
    assert_printed(output.stdout, (x + 2) * (x + 2) * 2, ", grad_fn=<MulBackward0>")
    assert isinstance(output.error, RuntimeError)
    assert str(output.error) == "grad can be implicitly created only for scalar outputs"
    assert notebook["x"].grad is None


def test_backward_with_a_vector(notebook: Notebook) -> None:
    notebook.run_through("In[75]")
    x = np.array(notebook["x"].tolist(), dtype=np.float32)
    output = notebook.run_through("In[76]")
    assert output.error is None  # the graph was not freed by the failed call in In[75]
    v = np.array([0.1, 1.0, 0.001], dtype=np.float32)
    expected = 4 * (x + 2) * v
    np.testing.assert_allclose(notebook["x"].grad.tolist(), expected, rtol=1e-6)
    assert_printed(output.stdout, expected)


def test_vector_gradient_prints_like_the_tutorial() -> None:
    """The tutorial's In[76] values need scientific notation (they span more than 1000x)."""
    import autodiff as torch

    shown = torch.tensor([6.4465e-01, 1.5289e+01, 9.9570e-03])
    assert str(shown) == "tensor([6.4465e-01, 1.5289e+01, 9.9570e-03])"
    shown = torch.tensor([1.3505, 0.9042, -0.7476], requires_grad=True)
    assert str(shown) == "tensor([ 1.3505,  0.9042, -0.7476], requires_grad=True)"


def test_three_ways_to_stop_tracking(notebook: Notebook) -> None:
    assert notebook.run_through("In[77]").stdout == ""
    output = notebook.run_through("In[78]")
    assert output.stdout == "True\nFalse\n"
    x, y = notebook["x"], notebook["y"]
    assert y.is_leaf and y.grad_fn is None and y.tolist() == x.tolist()
    output = notebook.run_through("In[79]")
    assert output.stdout == "True\nFalse\n"
    assert notebook["x"].is_leaf
    output = notebook.run_through("In[80]")
    assert output.stdout == "True\nFalse\n"
    assert notebook["y"].grad_fn is None
    np.testing.assert_allclose(notebook["y"].tolist(), np.array(notebook["x"].tolist()) + 2)


@pytest.mark.parametrize(("label", "shown"), [
    ("In[81]", "tensor([3., 3., 3., 3.])\n"),
    ("In[82]", "tensor([3., 3., 3., 3.])\ntensor([6., 6., 6., 6.])\n"),
    ("In[83]", "tensor([3., 3., 3., 3.])\ntensor([6., 6., 6., 6.])\ntensor([9., 9., 9., 9.])\n"),
    ("In[84]", "tensor([3., 3., 3., 3.])\n" * 3),
])
def test_gradients_accumulate_until_zeroed(notebook: Notebook, label: str, shown: str) -> None:
    output = notebook.run_through(label)
    assert output.error is None
    assert output.stdout == shown


def test_zeroing_keeps_the_same_grad_tensor(notebook: Notebook) -> None:
    notebook.run_through("In[84]")
    weights = notebook["weights"]
    assert weights.grad.tolist() == [0.0] * 4  # zeroed at the end of the last epoch
    grad = weights.grad
    (weights * 3).sum().backward()
    assert weights.grad is grad and grad.tolist() == [3.0] * 4


def test_every_cell_shows_what_pytorch_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    compare_with_pytorch(CELLS, monkeypatch)
