"""Seed 004 (../shared/seeds/004_85d3e80b34eec3d0.txt): PyTorch's one-layer network, grad_fns,
loss.backward(), no_grad and detach, then gradients of a non-scalar output with
backward(torch.ones_like(inp), retain_graph=True), accumulation and zeroing.

Every code cell is replayed verbatim (with `import autodiff as torch`); `%matplotlib inline` is an
IPython magic and is left out. The tutorial's prose block between In[5] and In[7] (a string
literal it never closed) is not code.
"""



from __future__ import annotations

import pytest

import autodiff
from tests.seeds import one_layer
from tests.seeds.notebook import Cell, Notebook, compare_with_pytorch

CELLS = [
    Cell("In[1]", """\
%matplotlib inline
import torch

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)"""),
    Cell("In[2]", """\
print('Gradient function for z =',z.grad_fn)
print('Gradient function for loss =', loss.grad_fn)"""),
    Cell("In[3]", """\
loss.backward()
print(w.grad)
print(b.grad)"""),
    Cell("In[4]", """\
z = torch.matmul(x, w)+b
print(z.requires_grad)

with torch.no_grad():
    z = torch.matmul(x, w)+b
print(z.requires_grad)"""),
    Cell("In[5]", """\
z = torch.matmul(x, w)+b
z_det = z.detach()
print(z_det.requires_grad)"""),
    Cell("In[7]", """\
inp = torch.eye(5, requires_grad=True)
out = (inp+1).pow(2)
out.backward(torch.ones_like(inp), retain_graph=True)
print("First call\\n", inp.grad)
out.backward(torch.ones_like(inp), retain_graph=True)
print("\\nSecond call\\n", inp.grad)
inp.grad.zero_()
out.backward(torch.ones_like(inp), retain_graph=True)
print("\\nCall after zeroing gradients\\n", inp.grad)"""),
]

TUTORIAL_GRADS = (
    "tensor([[0.0051, 0.0433, 0.1946],\n"
    "        [0.0051, 0.0433, 0.1946],\n"
    "        [0.0051, 0.0433, 0.1946],\n"
    "        [0.0051, 0.0433, 0.1946],\n"
    "        [0.0051, 0.0433, 0.1946]])\n"
    "tensor([0.0051, 0.0433, 0.1946])"
)

# In[7]'s output, verbatim from the tutorial: deterministic inputs, so compared exactly.
RETAIN_GRAPH_OUTPUT = """First call
 tensor([[4., 2., 2., 2., 2.],
        [2., 4., 2., 2., 2.],
        [2., 2., 4., 2., 2.],
        [2., 2., 2., 4., 2.],
        [2., 2., 2., 2., 4.]])

Second call
 tensor([[8., 4., 4., 4., 4.],
        [4., 8., 4., 4., 4.],
        [4., 4., 8., 4., 4.],
        [4., 4., 4., 8., 4.],
        [4., 4., 4., 4., 8.]])

Call after zeroing gradients
 tensor([[4., 2., 2., 2., 2.],
        [2., 4., 2., 2., 2.],
        [2., 2., 4., 2., 2.],
        [2., 2., 2., 4., 2.],
        [2., 2., 2., 2., 4.]])
"""


@pytest.fixture
def notebook() -> Notebook:
    autodiff.manual_seed(4)
    return Notebook(CELLS)


def test_builds_the_graph(notebook: Notebook) -> None:
    one_layer.check_graph_cell(notebook, "In[1]")


def test_prints_grad_fns(notebook: Notebook) -> None:
    # print(a, b) puts one space where the f-string version has " = ": same line shape.
    one_layer.check_grad_fn_cell(notebook, "In[2]")


def test_backward_prints_w_and_b_grads(notebook: Notebook) -> None:
    notebook.run_through("In[2]")
    one_layer.check_backward_cell(notebook, "In[3]")


def test_tutorial_grads_print_identically() -> None:
    one_layer.check_tutorial_print([0.0051, 0.0433, 0.1946], TUTORIAL_GRADS)


def test_no_grad_stops_tracking(notebook: Notebook) -> None:
    notebook.run_through("In[3]")
    one_layer.check_no_grad_cell(notebook, "In[4]")


def test_detach_stops_tracking(notebook: Notebook) -> None:
    notebook.run_through("In[4]")
    one_layer.check_detach_cell(notebook, "In[5]")


def test_retain_graph_accumulation_and_zeroing(notebook: Notebook) -> None:
    output = notebook.run_through("In[7]")
    assert output.error is None
    assert output.stdout == RETAIN_GRAPH_OUTPUT
    inp, out = notebook["inp"], notebook["out"]
    assert out.grad_fn.name() == "PowBackward0"
    assert out.grad_fn.next_functions[0][0].name() == "AddBackward0"
    # The graph was retained each time: a fourth call still works and accumulates again.
    out.backward(autodiff.ones_like(inp))
    assert inp.grad.tolist() == [[8.0 if i == j else 4.0 for j in range(5)] for i in range(5)]
    with pytest.raises(RuntimeError, match=r"^Trying to backward through the graph a second"):
        out.backward(autodiff.ones_like(inp))


def test_every_cell_shows_what_pytorch_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    compare_with_pytorch(CELLS, monkeypatch)
