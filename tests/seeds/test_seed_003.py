"""Seed 003 (../shared/seeds/003_210868cdce96c7e6.txt): x**2, sin(x**2), a perceptron with a
hand-written BCE loss vs autograd, vector input, clearing grads, disabling tracking.

Every code cell is replayed verbatim (with `import autodiff as torch`); each test checks what
its cell showed in the tutorial. All inputs but the last cell's are deterministic, so the shown
reprs are compared character for character.
"""



from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff
from tests.seeds.notebook import Cell, Notebook, compare_with_pytorch

CELLS = [
    Cell("In[4]", """\
# if you want to differente in normal using python
def dy_dx(x):
    return 2*x"""),
    Cell("In[6]", """\
dy_dx(3)"""),
    Cell("In[10]", """\
import torch"""),
    Cell("In[12]", """\
x=torch.tensor(3.0,requires_grad=True)"""),
    Cell("In[14]", """\
y=x**2"""),
    Cell("In[16]", """\
x"""),
    Cell("In[18]", """\
y"""),
    Cell("In[20]", """\
y.backward()"""),
    Cell("In[24]", """\
x.grad  ## dy_dx(3)"""),
    Cell("In[28]", """\
## In one line
X=torch.tensor(3.0,requires_grad=True)
y=X**2
y.backward()
x.grad"""),
    Cell("In[37]", """\

# y=x^2
# z=sin(y)


import math
def dz_dx(x):
    return 2* x* math.cos(x**2)"""),
    Cell("In[34]", """\
dz_dx(4)"""),
    Cell("In[40]", """\
x=torch.tensor(4.0, requires_grad=True)"""),
    Cell("In[44]", """\
y=x**2"""),
    Cell("In[46]", """\
z=torch.sin(y)"""),
    Cell("In[48]", """\
x"""),
    Cell("In[52]", """\
y"""),
    Cell("In[54]", """\
z"""),
    Cell("In[56]", """\
z.backward()"""),
    Cell("In[58]", """\
x.grad"""),
    Cell("In[60]", """\
## in one line
x=torch.tensor(4.0, requires_grad=True)
y=x**2
z=torch.sin(y)
z.backward()
x.grad  ## samee with dz_dx  but simple to use"""),
    Cell("In[64]", """\
y.grad"""),
    Cell("In[72]", """\
x=torch.tensor(6.7)  # input feature
y=torch.tensor(0.0)  ## True label (binary)

w=torch.tensor(1.0) # weight
b=torch.tensor(0.0)  # bias"""),
    Cell("In[74]", """\
# binary cross-Entropy loss for scaler

def binary_cross_entropy_loss(prediction,target):
    epsilon=1e-8   # to prevent log(0)
    prediction=torch.clamp(prediction,epsilon,1-epsilon)#torch.clamp(input, min=0, max=10)
    return -(target*torch.log(prediction)+ (1 -target)*torch.log(1-prediction))"""),
    Cell("In[76]", """\
# Forwar pass

z=w*x+b  # Weighted sum (liner part)
y_pred=torch.sigmoid(z)  # predtion probability

# compute binary cross-entropy_loss
loss=binary_cross_entropy_loss(y_pred,y)"""),
    Cell("In[78]", """\
loss"""),
    Cell("In[82]", """\
## Derivaties:

#1. dl/d(y_pred): Loss with respect to prediction(y_pred)
dloss_dy_pred=(y_pred  -y )/(y_pred*(1-y_pred))

#2. dy_pred/dz: Prediction(y_pred) with repect toz (sigmoid  derivatie)
dy_pred_dz=y_pred*(1-y_pred)

#3. dz/dw and dz/db : z with respect to w and b
dz_dw = x #dz/dw=x
dz_db=1 # dz/db=1(bias contribution directly to z)


dL_dw = dloss_dy_pred * dy_pred_dz * dz_dw
dL_db = dloss_dy_pred * dy_pred_dz * dz_db"""),
    Cell("In[84]", """\
print(f"Manual Gradient of loss w.r.t weight (dw): {dL_dw}")
print(f"Manual Gradient of loss w.r.t bias (db): {dL_db}")"""),
    Cell("In[88]", """\
x= torch.tensor(6.7)
y=torch.tensor(0.0)"""),
    Cell("In[92]", """\
w=torch.tensor(1.0, requires_grad=True)
b=torch.tensor(0.0,requires_grad=True)"""),
    Cell("In[94]", """\
w"""),
    Cell("In[96]", """\
b"""),
    Cell("In[98]", """\
z=w*x+b
z"""),
    Cell("In[102]", """\
y_pred=torch.sigmoid(z)
y_pred"""),
    Cell("In[108]", """\
loss=binary_cross_entropy_loss(y_pred,y)
loss"""),
    Cell("In[110]", """\
loss.backward()"""),
    Cell("In[114]", """\
print(w.grad)
print(b.grad)   ## same as above   here we dont have to write the code for Derivaties:"""),
    Cell("In[121]", """\
x=torch.tensor([1.0,2.0,3.0],requires_grad=True)
y=(x**2).mean()
y"""),
    Cell("In[123]", """\
y.backward()"""),
    Cell("In[125]", """\
x.grad"""),
    Cell("In[190]", """\

x = torch.tensor(2.0, requires_grad=True)
x"""),
    Cell("In[192]", """\
y=x**2
y"""),
    Cell("In[194]", """\
y.backward()"""),
    Cell("In[196]", """\
x.grad"""),
    Cell("In[198]", """\
x.grad.zero_()"""),
    Cell("In[202]", """\
x = torch.tensor(2.0, requires_grad=True)
x"""),
    Cell("In[204]", """\
y = x ** 2
y"""),
    Cell("In[206]", """\
y.backward()"""),
    Cell("In[208]", """\
x.grad"""),
    Cell("In[210]", """\
# option 1 - requires_grad_(False)
# option 2 - detach()
# option 3 - torch.no_grad()"""),
    Cell("In[216]", """\

# option 1 - requires_grad_(False)
x.requires_grad_(False)"""),
    Cell("In[214]", """\
x"""),
    Cell("In[218]", """\
# option 2 - detach()
x = torch.tensor(2.0, requires_grad=True)
x"""),
    Cell("In[220]", """\
z = x.detach()
z"""),
    Cell("In[222]", """\
# option 3 - torch.no_grad()

# Create a tensor with requires_grad=True
x = torch.randn(3, 3, requires_grad=True)

# Disable gradient tracking
with torch.no_grad():
    y = x * 2  # Operations here won't track gradients

print(y.requires_grad)  # Output will be False"""),
]

# What each cell displayed in the tutorial (Out[...] or its printed lines).
SHOWN = {
    "In[16]": "tensor(3., requires_grad=True)",
    "In[18]": "tensor(9., grad_fn=<PowBackward0>)",
    "In[24]": "tensor(6.)",
    "In[28]": "tensor(6.)",
    "In[48]": "tensor(4., requires_grad=True)",
    "In[52]": "tensor(16., grad_fn=<PowBackward0>)",
    "In[54]": "tensor(-0.2879, grad_fn=<SinBackward0>)",
    "In[58]": "tensor(-7.6613)",
    "In[60]": "tensor(-7.6613)",
    "In[78]": "tensor(6.7012)",
    "In[94]": "tensor(1., requires_grad=True)",
    "In[96]": "tensor(0., requires_grad=True)",
    "In[98]": "tensor(6.7000, grad_fn=<AddBackward0>)",
    "In[102]": "tensor(0.9988, grad_fn=<SigmoidBackward0>)",
    "In[108]": "tensor(6.7012, grad_fn=<NegBackward0>)",
    "In[121]": "tensor(4.6667, grad_fn=<MeanBackward0>)",
    "In[125]": "tensor([0.6667, 1.3333, 2.0000])",
    "In[190]": "tensor(2., requires_grad=True)",
    "In[192]": "tensor(4., grad_fn=<PowBackward0>)",
    "In[196]": "tensor(4.)",
    "In[198]": "tensor(0.)",
    "In[202]": "tensor(2., requires_grad=True)",
    "In[204]": "tensor(4., grad_fn=<PowBackward0>)",
    "In[208]": "tensor(4.)",
    "In[216]": "tensor(2.)",
    "In[214]": "tensor(2.)",
    "In[218]": "tensor(2., requires_grad=True)",
    "In[220]": "tensor(2.)",
}

NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)


@pytest.fixture
def notebook() -> Notebook:
    autodiff.manual_seed(0)
    return Notebook(CELLS)


@pytest.mark.parametrize("label", list(SHOWN))
def test_cell_shows_what_the_tutorial_shows(notebook: Notebook, label: str) -> None:
    output = notebook.run_through(label)
    assert output.error is None
    assert output.display == SHOWN[label]
    assert output.warnings == []


def test_every_cell_runs_without_error(notebook: Notebook) -> None:
    outputs = notebook.run_all()
    assert [label for label, out in outputs.items() if out.error is not None] == []
    # Cells that only define or compute show nothing (In[20], In[56], In[110], ...).
    for label in ("In[4]", "In[10]", "In[12]", "In[14]", "In[20]", "In[56]", "In[110]",
                  "In[123]", "In[194]", "In[206]", "In[210]"):
        assert outputs[label].display is None and outputs[label].stdout == "", label


def test_python_derivatives_for_reference(notebook: Notebook) -> None:
    assert notebook.run_through("In[6]").display == "6"
    assert notebook.run_through("In[34]").display == "-7.661275842587077"


def test_x_squared_graph(notebook: Notebook) -> None:
    notebook.run_through("In[24]")
    x, y = notebook["x"], notebook["y"]
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn.name() == "PowBackward0"
    assert x.grad.item() == 6.0
    assert x.grad.is_leaf and not x.grad.requires_grad


def test_one_line_cell_backpropagates_into_X_not_x(notebook: Notebook) -> None:
    notebook.run_through("In[28]")
    assert notebook["X"].grad.item() == 6.0
    assert notebook["x"].grad.item() == 6.0  # x's gradient from In[20], not accumulated again


def test_sin_of_square_matches_the_python_derivative(notebook: Notebook) -> None:
    notebook.run_through("In[58]")
    grad = notebook["x"].grad.item()
    assert grad == pytest.approx(2 * 4.0 * math.cos(16.0), rel=1e-6)
    assert notebook["z"].item() == pytest.approx(math.sin(16.0), rel=1e-6)
    notebook.run_through("In[60]")
    assert notebook["x"].grad.item() == pytest.approx(2 * 4.0 * math.cos(16.0), rel=1e-6)


def test_reading_grad_of_a_non_leaf_warns_and_gives_none(notebook: Notebook) -> None:
    output = notebook.run_through("In[64]")
    assert output.error is None
    assert output.display is None  # y.grad is None: the cell shows only the warning
    assert len(output.warnings) == 1
    warning = output.warnings[0]
    assert warning.category is UserWarning
    assert str(warning.message) == NON_LEAF_GRAD_WARNING
    assert warning.filename == "<In[64]>"  # points at the user's line, not into the library


def test_hand_written_loss(notebook: Notebook) -> None:
    notebook.run_through("In[78]")
    loss = notebook["loss"]
    assert loss.grad_fn is None and not loss.requires_grad  # no input requires grad
    y_pred = 1 / (1 + np.exp(np.float32(-6.7)))
    assert loss.item() == pytest.approx(-np.log1p(-y_pred), rel=1e-5)


def test_manual_gradients_print_as_python_floats(notebook: Notebook) -> None:
    output = notebook.run_through("In[84]")
    # f"{t}" of a 0-d tensor formats its Python number, as PyTorch does.
    assert output.stdout == (
        "Manual Gradient of loss w.r.t weight (dw): 6.691762447357178\n"
        "Manual Gradient of loss w.r.t bias (db): 0.998770534992218\n"
    )


def test_autograd_perceptron_gradients(notebook: Notebook) -> None:
    output = notebook.run_through("In[114]")
    assert output.stdout == "tensor(6.6918)\ntensor(0.9988)\n"
    # The same numbers as the manual derivation (In[82]), to float32 rounding.
    manual = notebook.run_through("In[114]")  # already run: the same output object
    assert manual is output
    assert notebook["w"].grad.item() == pytest.approx(6.691762447357178, rel=1e-6)
    assert notebook["b"].grad.item() == pytest.approx(0.998770534992218, rel=1e-6)
    names = []
    node = notebook["loss"].grad_fn
    while node is not None:
        names.append(node.name())
        node = node.next_functions[0][0] if node.next_functions else None
    assert names[:3] == ["NegBackward0", "AddBackward0", "MulBackward0"]


def test_vector_mean_gradient(notebook: Notebook) -> None:
    notebook.run_through("In[125]")
    np.testing.assert_allclose(notebook["x"].grad.tolist(), [2 / 3, 4 / 3, 2.0], rtol=1e-6)


def test_zero_clears_the_gradient_in_place(notebook: Notebook) -> None:
    notebook.run_through("In[196]")
    grad = notebook["x"].grad
    output = notebook.run_through("In[198]")
    assert output.value is grad  # zero_() returns the tensor it changed
    assert notebook["x"].grad is grad and grad.item() == 0.0


def test_requires_grad_false_and_detach(notebook: Notebook) -> None:
    notebook.run_through("In[216]")
    x = notebook["x"]
    assert x.requires_grad is False and x.is_leaf
    assert x.grad.item() == 4.0  # turning tracking off keeps the gradient already there
    notebook.run_through("In[220]")
    x, z = notebook["x"], notebook["z"]
    assert x.requires_grad and not z.requires_grad and z.is_leaf and z.grad_fn is None
    assert z.item() == x.item() == 2.0


def test_no_grad_cell(notebook: Notebook) -> None:
    output = notebook.run_through("In[222]")
    assert output.stdout == "False\n"
    x, y = notebook["x"], notebook["y"]
    assert x.requires_grad and y.grad_fn is None and y.is_leaf
    np.testing.assert_array_equal(np.array(y.tolist()), 2 * np.array(x.tolist()))
    assert autodiff.is_grad_enabled()  # restored after the with-block


def test_every_cell_shows_what_pytorch_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    compare_with_pytorch(CELLS, monkeypatch)

