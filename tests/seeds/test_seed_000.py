"""Seed 000 (../shared/seeds/000_15828886d3bd1940.txt): PyTorch's one-layer network, its grad_fns,
loss.backward(), and disabling tracking with no_grad and detach.

Every code cell is replayed verbatim (with `import autodiff as torch`); see one_layer.py for what
each check compares (w and b are random: NumPy recomputes the expected values from them).
"""

# ruff: noqa: E501, W291 - the cells keep the tutorials' lines verbatim

from __future__ import annotations

import pytest

import autodiff
from tests.seeds import one_layer
from tests.seeds.notebook import Cell, Notebook, compare_with_pytorch

CELLS = [
    Cell("In[2]", """\
import torch

x = torch.ones(5) # input tensor
y = torch.zeros(3) # executed output
w = torch.randn(5,3, requires_grad=True)
# creates a tensor w of size 5x3 is created with random values from a normal distribution. The requires_grad=True flag indicates that gradients with respect to this tensor should be computed during backpropagation.
b = torch.randn(3, requires_grad=True)
# Similarly, a tensor b of size 3 is created with random values, and the requires_grad=True flag enables gradient computation for this tensor.
z = torch.matmul(x, w)+b # does matrix multiplication of x, w and adds tensor b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z,y)
#It compares the values in z (predicted logits) with y (expected labels) and calculates the loss value."""),
    Cell("In[8]", """\
print(f"Gradient function for z = {z.grad_fn}")
# This line prints the gradient function associated with the tensor z. The grad_fn attribute of a tensor stores the reference to the function that created it. By printing z.grad_fn, you can see the operation (such as matrix multiplication and addition) that generated z.
print(f"Gradient function for loss = {loss.grad_fn}")
# Similarly, this line prints the gradient function associated with the tensor loss. Since loss is computed using the binary cross-entropy loss function, the gradient function will correspond to this function."""),
    Cell("In[10]", '''\
"""
To optimize weights of parameters in the neural network, we need to compute the derivatives of our loss function with respect to parameters, namely, we need 
under some fixed values of x and y. To compute those derivatives, we call loss.backward(), and then retrieve the values from w.grad and b.grad:
"""'''),
    Cell("In[11]", """\
loss.backward()
print(w.grad)
print(b.grad)"""),
    Cell("In[13]", """\
z = torch.matmul(x, w)+b # operation on tensor
print(z.requires_grad) # wether tensor requires grad

with torch.no_grad(): # torch.no_grad() context disables gradient tracking.
    z = torch.matmul(x, w)+b
print(z.requires_grad)"""),
    Cell("In[15]", """\
# Another aproach is to use detach() method

z = torch.matmul(x, w)+b
z_det = z.detach() # disabling the gradient tracking
print(z_det.requires_grad)"""),
]

TUTORIAL_GRADS = (
    "tensor([[0.1833, 0.2676, 0.2318],\n"
    "        [0.1833, 0.2676, 0.2318],\n"
    "        [0.1833, 0.2676, 0.2318],\n"
    "        [0.1833, 0.2676, 0.2318],\n"
    "        [0.1833, 0.2676, 0.2318]])\n"
    "tensor([0.1833, 0.2676, 0.2318])"
)


@pytest.fixture
def notebook() -> Notebook:
    autodiff.manual_seed(0)
    return Notebook(CELLS)


def test_builds_the_graph(notebook: Notebook) -> None:
    one_layer.check_graph_cell(notebook, "In[2]")


def test_prints_grad_fns(notebook: Notebook) -> None:
    one_layer.check_grad_fn_cell(notebook, "In[8]")


def test_string_cell_displays_itself(notebook: Notebook) -> None:
    output = notebook.run_through("In[10]")
    assert output.display == (
        "'\\nTo optimize weights of parameters in the neural network, we need to compute the "
        "derivatives of our loss function with respect to parameters, namely, we need \\nunder "
        "some fixed values of x and y. To compute those derivatives, we call loss.backward(), "
        "and then retrieve the values from w.grad and b.grad:\\n'")


def test_backward_prints_w_and_b_grads(notebook: Notebook) -> None:
    notebook.run_through("In[10]")
    one_layer.check_backward_cell(notebook, "In[11]")


def test_tutorial_grads_print_identically() -> None:
    one_layer.check_tutorial_print([0.1833, 0.2676, 0.2318], TUTORIAL_GRADS)


def test_no_grad_stops_tracking(notebook: Notebook) -> None:
    notebook.run_through("In[11]")
    one_layer.check_no_grad_cell(notebook, "In[13]")


def test_detach_stops_tracking(notebook: Notebook) -> None:
    notebook.run_through("In[13]")
    one_layer.check_detach_cell(notebook, "In[15]")


def test_every_cell_shows_what_pytorch_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    compare_with_pytorch(CELLS, monkeypatch)
