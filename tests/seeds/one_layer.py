"""Checks shared by the three tutorials built on PyTorch's one-layer network (seeds 000, 001,
004): x = ones(5), y = zeros(3), w = randn(5, 3), b = randn(3), z = matmul(x, w) + b,
loss = binary_cross_entropy_with_logits(z, y).

w and b are random, so values are checked against NumPy computing the same formulas from the
tensors' own values, and printed matrices against PyTorch's layout.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.seeds.notebook import Notebook, entries, node_pattern, printed_numbers


def numpy_graph(notebook: Notebook) -> dict[str, np.ndarray]:
    """The tutorial's forward and backward in float64 NumPy, from the notebook's w and b."""
    w = np.array(notebook["w"].tolist(), dtype=np.float64)
    b = np.array(notebook["b"].tolist(), dtype=np.float64)
    x = np.ones(5)
    z = x @ w + b
    y = np.zeros(3)
    loss = np.mean(np.logaddexp(0, z) - z * y)  # BCE with logits, mean over the 3 outputs
    dz = (1 / (1 + np.exp(-z)) - y) / 3
    return {"z": z, "loss": loss, "w_grad": np.outer(x, dz), "b_grad": dz}


def check_graph_cell(notebook: Notebook, label: str) -> None:
    output = notebook.run_through(label)
    assert output.error is None and output.stdout == "" and output.display is None
    x, y, w, b, z, loss = (notebook[name] for name in ("x", "y", "w", "b", "z", "loss"))
    assert x.tolist() == [1.0] * 5 and y.tolist() == [0.0] * 3
    assert not x.requires_grad and not y.requires_grad
    assert w.requires_grad and b.requires_grad and w.is_leaf and b.is_leaf
    assert tuple(w.shape) == (5, 3) and tuple(b.shape) == (3,) and tuple(z.shape) == (3,)
    assert {str(t.dtype) for t in (x, y, w, b, z, loss)} == {"torch.float32"}
    assert tuple(loss.shape) == () and loss.requires_grad
    expected = numpy_graph(notebook)
    np.testing.assert_allclose(z.tolist(), expected["z"], rtol=1e-5, atol=1e-6)
    assert loss.item() == pytest.approx(expected["loss"], rel=1e-5)
    assert w.grad is None and b.grad is None


def check_grad_fn_cell(notebook: Notebook, label: str) -> None:
    output = notebook.run_through(label)
    assert re.fullmatch(
        f"Gradient function for z = {node_pattern('AddBackward0')}\n"
        f"Gradient function for loss = {node_pattern('BinaryCrossEntropyWithLogitsBackward0')}\n",
        output.stdout), output.stdout
    z, loss = notebook["z"], notebook["loss"]
    assert z.grad_fn.name() == "AddBackward0"
    assert loss.grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"
    # The printed addresses are the nodes' own; the graph links loss -> z -> matmul -> w.
    assert hex(id(z.grad_fn)) in output.stdout and hex(id(loss.grad_fn)) in output.stdout
    assert loss.grad_fn.next_functions[0][0] is z.grad_fn
    matmul_node, bias_edge = z.grad_fn.next_functions
    assert matmul_node[0].name() == "SqueezeBackward4"  # PyTorch's node for vector @ matrix
    assert bias_edge[0].name() == "torch::autograd::AccumulateGrad"
    assert bias_edge[0].variable is notebook["b"]


def check_backward_cell(notebook: Notebook, label: str) -> None:
    expected = numpy_graph(notebook)
    output = notebook.run_through(label)
    w_grad, b_grad = notebook["w"].grad, notebook["b"].grad
    np.testing.assert_allclose(w_grad.tolist(), expected["w_grad"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b_grad.tolist(), expected["b_grad"], rtol=1e-5, atol=1e-7)
    # Every row of w.grad is b.grad (x is all ones): sigmoid(z) / 3.
    assert all(row == b_grad.tolist() for row in w_grad.tolist())
    lines = output.stdout.splitlines()
    assert len(lines) == 6, output.stdout
    matrix, vector = "\n".join(lines[:5]), lines[5]
    row = r"\[ *-?\d+\.\d{4}(?:, +-?\d+\.\d{4}){2}\]"
    assert re.fullmatch(rf"tensor\(\[{row}(?:,\n        {row}){{4}}\]\)", matrix), matrix
    assert re.fullmatch(rf"tensor\({row}\)", vector), vector
    assert len({len(entry) for entry in entries(matrix)}) == 1
    np.testing.assert_allclose(printed_numbers(matrix), expected["w_grad"].ravel(), atol=5.01e-5)
    np.testing.assert_allclose(printed_numbers(vector), expected["b_grad"], atol=5.01e-5)
    # The first matrix row and the vector print the same numbers the same way.
    assert lines[0].removeprefix("tensor([").rstrip(",") == vector.removeprefix("tensor(")[:-1]


def check_no_grad_cell(notebook: Notebook, label: str) -> None:
    output = notebook.run_through(label)
    assert output.stdout == "True\nFalse\n"
    z = notebook["z"]
    assert z.grad_fn is None and z.is_leaf
    np.testing.assert_allclose(z.tolist(), numpy_graph(notebook)["z"], rtol=1e-5, atol=1e-6)


def check_detach_cell(notebook: Notebook, label: str) -> None:
    output = notebook.run_through(label)
    assert output.stdout == "False\n"
    z, z_det = notebook["z"], notebook["z_det"]
    assert z.requires_grad and z.grad_fn.name() == "AddBackward0"
    assert z_det.is_leaf and z_det.grad_fn is None and z_det.tolist() == z.tolist()


def check_tutorial_print(matrix_row: list[float], text: str) -> None:
    """The tutorial's own printed w.grad, rebuilt from its numbers, prints identically."""
    import autodiff as torch

    assert str(torch.tensor([matrix_row] * 5)) + "\n" + str(torch.tensor(matrix_row)) == text
