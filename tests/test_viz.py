"""autodiff.viz: the DOT text of the tutorials' graph (its nodes and edges), deep graphs,
saved tensors, and render() with and without Graphviz."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

import autodiff
from autodiff import viz


def _seed_graph() -> tuple[autodiff.Tensor, autodiff.Tensor, autodiff.Tensor]:
    x = autodiff.ones(5)
    y = autodiff.zeros(3)
    w = autodiff.randn(5, 3, requires_grad=True)
    b = autodiff.randn(3, requires_grad=True)
    z = autodiff.matmul(x, w) + b
    loss = autodiff.nn.functional.binary_cross_entropy_with_logits(z, y)
    return loss, w, b


def _parse(dot: str) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """node id -> label, and the edges as (tail label, head label)."""
    labels = dict(re.findall(r'^\t(n\d+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M))
    edges = {(labels[tail], labels[head])
             for tail, head in re.findall(r"^\t(n\d+) -> (n\d+)", dot, re.M)}
    return labels, edges


def test_seed_graph_nodes_and_edges() -> None:
    loss, w, b = _seed_graph()
    dot = viz.to_dot(loss, params={"w": w, "b": b})
    assert dot.startswith("digraph {\n") and dot.endswith("}\n")
    labels, edges = _parse(dot)
    assert sorted(labels.values()) == sorted([
        "()", "BinaryCrossEntropyWithLogitsBackward0", "AddBackward0", "SqueezeBackward4",
        "AccumulateGrad", "AccumulateGrad", "w\\n(5, 3)", "b\\n(3)"])
    assert edges == {
        ("BinaryCrossEntropyWithLogitsBackward0", "()"),
        ("AddBackward0", "BinaryCrossEntropyWithLogitsBackward0"),
        ("SqueezeBackward4", "AddBackward0"),
        ("AccumulateGrad", "AddBackward0"),
        ("AccumulateGrad", "SqueezeBackward4"),
        ("w\\n(5, 3)", "AccumulateGrad"),
        ("b\\n(3)", "AccumulateGrad"),
    }
    assert dot.count("->") == 7  # each edge once
    assert 'fillcolor=lightblue' in dot and 'fillcolor=darkolivegreen1' in dot
    # Without names the leaves show their shapes only; the graph is the same.
    unnamed, _ = _parse(viz.to_dot(loss))
    assert "(5, 3)" in unnamed.values() and "(3)" in unnamed.values()


def test_saved_tensors_are_drawn_until_freed() -> None:
    loss, w, b = _seed_graph()
    dot = viz.to_dot(loss, params={"w": w, "b": b}, show_saved=True)
    labels, edges = _parse(dot)
    saved = [label for label in labels.values() if label.startswith("saved")]
    # BCE saved z and y; the matmul saved x and w (named from params).
    assert sorted(saved) == ["saved 0\\n(3)", "saved 0\\n(5)", "saved 1 (w)\\n(5, 3)",
                             "saved 1\\n(3)"]
    assert ("saved 1 (w)\\n(5, 3)", "SqueezeBackward4") in edges
    assert dot.count("dir=none") == 4
    loss.backward()
    after = viz.to_dot(loss, params={"w": w, "b": b}, show_saved=True)
    assert "saved" not in after  # freed by backward: not drawn, and nothing raised
    assert _parse(after)[1] == _parse(viz.to_dot(loss, params={"w": w, "b": b}))[1]


def test_packed_saved_tensors_are_drawn_without_a_shape() -> None:
    """Under saved_tensors_hooks only the unpack hook knows what was saved: drawn, unshaped."""
    x = autodiff.ones(2, 3, requires_grad=True)
    with autodiff.autograd.graph.saved_tensors_hooks(lambda t: ("packed", t),
                                                     lambda packed: packed[1]):
        y = (x * x).sum()
    labels, edges = _parse(viz.to_dot(y, params={"x": x}, show_saved=True))
    saved = sorted(label for label in labels.values() if label.startswith("saved"))
    assert saved == ["saved 0\\n(packed)", "saved 1\\n(packed)"]
    assert ("saved 0\\n(packed)", "MulBackward0") in edges


def test_deep_graphs_need_no_recursion() -> None:
    x = autodiff.ones(2, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    dot = viz.to_dot(y.sum(), params={"x": x})
    assert dot.count("MulBackward0") == 5000 and "x\\n(2)" in dot


def test_leaf_and_constant_outputs() -> None:
    leaf = autodiff.ones(3, requires_grad=True)
    labels, edges = _parse(viz.to_dot(leaf, params={"p": leaf}))
    assert ("p\\n(3)", "AccumulateGrad") in edges and ("AccumulateGrad", "p\\n(3)") in edges
    labels, edges = _parse(viz.to_dot(autodiff.ones(2)))
    assert list(labels.values()) == ["(2)"] and not edges
    quoted = autodiff.ones(1, requires_grad=True)
    assert 'a\\"b\\\\n' in viz.to_dot(quoted * 2, params={'a"b\\n': quoted})


def test_render_writes_svg_and_png(tmp_path: Path) -> None:
    pytest.importorskip("graphviz", reason="render needs the graphviz Python package")
    if shutil.which("dot") is None:
        pytest.skip("render needs Graphviz's dot program (apt-get install graphviz)")
    loss, w, b = _seed_graph()
    svg = viz.render(loss, tmp_path / "graph.svg", params={"w": w, "b": b})
    text = Path(svg).read_text()
    assert "<svg" in text and "AddBackward0" in text and "BinaryCrossEntropyWithLogits" in text
    png = Path(viz.render(loss, tmp_path / "graph.png", params={"w": w, "b": b}))
    assert png.read_bytes().startswith(b"\x89PNG")


def test_render_dot_text_needs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)
    monkeypatch.setenv("PATH", "")
    loss, w, _ = _seed_graph()
    path = viz.render(loss, tmp_path / "graph.dot", params={"w": w})
    assert Path(path).read_text() == viz.to_dot(loss, params={"w": w})


def test_render_names_the_missing_package(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    loss, _, _ = _seed_graph()
    with pytest.raises(RuntimeError, match="needs the 'graphviz' Python package, which is not "
                       "installed: pip install graphviz"):
        viz.render(loss, tmp_path / "graph.svg")
    assert not (tmp_path / "graph.svg").exists()


def test_render_names_the_missing_binary(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("graphviz", reason="the binary check comes after the package check")
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without dot
    loss, _, _ = _seed_graph()
    with pytest.raises(RuntimeError, match="needs Graphviz's 'dot' program, which is not on the "
                       "PATH"):
        viz.render(loss, tmp_path / "graph.svg")


def test_demo_graph_flag(tmp_path: Path) -> None:
    from autodiff.__main__ import main

    assert main(["--graph", str(tmp_path / "demo.dot")]) == 0
    labels, edges = _parse((tmp_path / "demo.dot").read_text())
    assert ("w\\n(5, 3)", "AccumulateGrad") in edges
    assert "BinaryCrossEntropyWithLogitsBackward0" in labels.values()
