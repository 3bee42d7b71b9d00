"""Seed 001 (../shared/seeds/001_693334bbc932c712.txt): PyTorch's one-layer network, its grad_fns,
loss.backward(), no_grad and detach.

Every code cell is replayed verbatim (with `import autodiff as torch`); the cell the tutorial
shows as `In [None]` (never executed there, output shown anyway) is labelled In[None].
"""



from __future__ import annotations

import pytest

import autodiff
from tests.seeds import one_layer
from tests.seeds.notebook import Cell, Notebook, compare_with_pytorch

CELLS = [
    Cell("In[13]", """\
import torch

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
# print(loss)"""),
    Cell("In[14]", """\
print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")"""),
    Cell("In[15]", """\
loss.backward()
print(w.grad)
print(b.grad)"""),
    Cell("In[None]", """\
z = torch.matmul(x, w)+b
print(z.requires_grad)

with torch.no_grad():
    z = torch.matmul(x, w)+b
print(z.requires_grad)"""),
    Cell("In[17]", """\
z = torch.matmul(x, w)+b
z_det = z.detach()
print(z_det.requires_grad)"""),
]

TUTORIAL_GRADS = (
    "tensor([[0.3250, 0.1356, 0.0164],\n"
    "        [0.3250, 0.1356, 0.0164],\n"
    "        [0.3250, 0.1356, 0.0164],\n"
    "        [0.3250, 0.1356, 0.0164],\n"
    "        [0.3250, 0.1356, 0.0164]])\n"
    "tensor([0.3250, 0.1356, 0.0164])"
)


@pytest.fixture
def notebook() -> Notebook:
    autodiff.manual_seed(1)
    return Notebook(CELLS)


def test_builds_the_graph(notebook: Notebook) -> None:
    one_layer.check_graph_cell(notebook, "In[13]")


def test_prints_grad_fns(notebook: Notebook) -> None:
    one_layer.check_grad_fn_cell(notebook, "In[14]")


def test_backward_prints_w_and_b_grads(notebook: Notebook) -> None:
    notebook.run_through("In[14]")
    one_layer.check_backward_cell(notebook, "In[15]")


def test_tutorial_grads_print_identically() -> None:
    one_layer.check_tutorial_print([0.3250, 0.1356, 0.0164], TUTORIAL_GRADS)


def test_no_grad_stops_tracking(notebook: Notebook) -> None:
    notebook.run_through("In[15]")
    one_layer.check_no_grad_cell(notebook, "In[None]")


def test_detach_stops_tracking(notebook: Notebook) -> None:
    notebook.run_through("In[None]")
    one_layer.check_detach_cell(notebook, "In[17]")


def test_every_cell_shows_what_pytorch_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    compare_with_pytorch(CELLS, monkeypatch)
