"""autograd.graph.memory_report: saved tensors per node (shape, dtype, device, bytes, sharing),
what backward frees, and the predicted peak of the backward against tracemalloc's measure."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest

import autodiff
from autodiff import nn, viz
from autodiff.autograd.graph import memory_report


def _chain(device: str) -> tuple[Any, Any, Any]:
    x = autodiff.randn(8, 4, device=device, requires_grad=True)
    w = autodiff.randn(4, 3, device=device, requires_grad=True)
    return x, w, (x @ w).relu().exp().sum()


def test_saved_tensors_per_node(device: str) -> None:
    _, _, loss = _chain(device)
    report = memory_report(loss)
    by_name = {entry.name: entry for entry in report.nodes}
    exp = by_name["ExpBackward0"]
    assert [(info.shape, info.dtype, info.nbytes) for info in exp.saved] == [((8, 3),
                                                                             "float32", 96)]
    assert exp.saved[0].device == str(loss.device)
    assert exp.saved[0].owned_by_graph and exp.freed_bytes == 96
    mm = by_name["MmBackward0"]
    assert [info.shape for info in mm.saved] == [(8, 4), (4, 3)]
    # The leaves belong to the user: saved, never freed by backward.
    assert not any(info.owned_by_graph for info in mm.saved) and mm.freed_bytes == 0
    assert report.freed_bytes == 96 + 96
    assert report.external_bytes == (8 * 4 + 4 * 3) * 4


def test_shared_memory_is_named_and_freed_once() -> None:
    x = autodiff.randn(16, requires_grad=True)
    hidden = x.exp()  # saved by ExpBackward0 (its output) and by the two MulBackward0
    loss = (hidden * hidden).sum()
    report = memory_report(loss)
    exp = next(entry for entry in report.nodes if entry.name == "ExpBackward0")
    mul = next(entry for entry in report.nodes if entry.name == "MulBackward0")
    assert mul.saved[0].shared_with == [exp.label] or exp.label in mul.saved[1].shared_with
    # One 64-byte buffer, freed by whichever node runs last.
    assert report.freed_bytes == 64
    assert exp.freed_bytes == 64 and mul.freed_bytes == 0


def test_order_is_the_engines() -> None:
    _, _, loss = _chain("cpu")
    order = [entry.name for entry in sorted(memory_report(loss).nodes,
                                            key=lambda entry: entry.order)]
    ran: list[str] = []
    for node in _walk(loss.grad_fn):
        node.register_prehook(lambda grads, node=node: ran.append(node.name()))
    loss.backward()
    assert order == ran


def _walk(root: Any) -> list[Any]:
    seen, stack = [root], [root]
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is not None and child not in seen:
                seen.append(child)
                stack.append(child)
    return seen


def _measured_peak(loss: Any) -> int:
    gc.collect()
    tracemalloc.reset_peak()
    current, _ = tracemalloc.get_traced_memory()
    loss.backward()
    return tracemalloc.get_traced_memory()[1] - current


@pytest.mark.parametrize("accumulated", [False, True])
def test_predicted_peak_within_ten_percent(accumulated: bool) -> None:
    autodiff.manual_seed(0)
    layers: list[nn.Module] = []
    # W4's proportions (bench/memory_report_bench.py), smaller: the Python objects backward
    # makes, which tracemalloc counts too, stay small beside the arrays.
    for _ in range(4):
        layers += [nn.Linear(1024, 1024), nn.ReLU()]
    model, x = nn.Sequential(*layers), autodiff.randn(256, 1024)
    tracemalloc.start()
    try:
        if accumulated:  # .grad exists: the engine adds in place, keeping undo copies
            model(x).sum().backward()
        loss = model(x).sum()
        report = memory_report(loss)
        measured = _measured_peak(loss)
    finally:
        tracemalloc.stop()
    assert report.peak_increase == pytest.approx(measured, rel=0.10)
    assert report.start_bytes == 4 * 256 * 1024 * 4 + 4  # the ReLU outputs, the loss's 1.0


@pytest.mark.parametrize("accumulated", [False, True])
def test_temporaries_inside_a_backward_are_counted(accumulated: bool) -> None:
    # Narrow layers: the weights no longer dwarf what one op's backward makes and drops
    # (ReLU's mask of dead units) or hands on as a view (sum's expanded gradient).
    autodiff.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(4):
        layers += [nn.Linear(256, 256), nn.ReLU()]
    model, x = nn.Sequential(*layers), autodiff.randn(512, 256)
    tracemalloc.start()
    try:
        if accumulated:
            model(x).sum().backward()
        loss = model(x).sum()
        report = memory_report(loss)
        measured = _measured_peak(loss)
    finally:
        tracemalloc.stop()
    assert report.peak_increase == pytest.approx(measured, rel=0.05)


def test_table_and_refusal() -> None:
    _, _, loss = _chain("cpu")
    table = str(memory_report(loss))
    assert table.splitlines()[0].split() == ["node", "saved", "frees", "saved", "tensors"]
    assert "ExpBackward0#0" in table and "predicted peak" in table
    with pytest.raises(RuntimeError, match="does not require grad"):
        memory_report(autodiff.ones(2))


def test_viz_colours_nodes_by_saved_bytes() -> None:
    _, _, loss = _chain("cpu")
    text = viz.to_dot(loss, show_memory=True)
    assert 'MmBackward0\\nsaved 176 B, frees 0 B" fillcolor="/reds9/9"' in text
    assert 'ExpBackward0\\nsaved 96 B, frees 96 B" fillcolor="/reds9/5"' in text
    assert "reds9" not in viz.to_dot(loss)
