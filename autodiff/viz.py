"""`autodiff.viz`: a picture of the backward graph.

`to_dot(loss, params=dict(model.named_parameters()))` returns Graphviz DOT text: one box per
graph node named as PyTorch names it (`AddBackward0`, `MmBackward0`, `AccumulateGrad`), a light
blue box for each leaf tensor (its name from `params`, and its shape), a green box for the
output, and with `show_saved=True` an orange box for each tensor a node saved for backward.
Edges follow the forward direction: from an input's node to the node that consumed it.
`render(loss, "graph.svg")` draws it with the `graphviz` package and Graphviz's `dot` program.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import Any

from .autograd.memory_report import MemoryReport, memory_report
from .node import AccumulateGrad
from .saved import RELEASED, SavedTensor
from .tensor import Tensor

_HEAD = [
    "digraph {",
    '\tgraph [size="12,12"]',
    "\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box "
    "style=filled]",
]


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ")"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _Dot:
    """Collects nodes and edges, giving each Python object one short, stable node id."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, int], str] = {}
        self.lines: list[str] = list(_HEAD)
        self.memory: _MemoryColours | None = None

    def op_label(self, node: Any) -> tuple[str, str | None]:
        """A graph node's label and fill colour (by its saved bytes with show_memory)."""
        if self.memory is None:
            return _label(node), None
        return self.memory.label_and_colour(node)

    def node(self, obj: Any, label: str, fillcolor: str | None = None,
             role: str = "node") -> tuple[str, bool]:
        """The node id of `obj` in `role` (a leaf tensor is drawn once as a variable and once
        more per role it has elsewhere), and whether it was new (then its line is written)."""
        key = (role, id(obj))
        if key in self.ids:
            return self.ids[key], False
        node_id = self.ids[key] = f"n{len(self.ids)}"
        color = f" fillcolor={fillcolor}" if fillcolor else ""
        self.lines.append(f"\t{node_id} [label={_quote(label)}{color}]")
        return node_id, True

    def edge(self, tail: str, head: str, undirected: bool = False) -> None:
        self.lines.append(f"\t{tail} -> {head}" + (" [dir=none]" if undirected else ""))


def to_dot(tensor: Tensor, params: Mapping[str, Tensor] | None = None,
           show_saved: bool = False, show_memory: bool = False) -> str:
    """Graphviz DOT text of the graph that `tensor.backward()` would walk.

    params: names for leaf tensors (e.g. `dict(model.named_parameters())`); unnamed leaves are
    labelled by their shape only. show_saved: also draw the tensors each node saved for
    backward (freed ones, after a backward without retain_graph, are not drawn). show_memory:
    colour each node by the bytes it saved (`autograd.graph.memory_report`; white for none,
    darkest red for the most) and write them, and what its backward frees, under its name.
    """
    names = {id(value): name for name, value in (params or {}).items()}
    dot = _Dot()
    output_label = names.get(id(tensor), "") + "\n" + _shape(tuple(tensor.shape))
    output_id, _ = dot.node(tensor, output_label.lstrip("\n"), "darkolivegreen1", "output")
    root = tensor.grad_fn
    if root is None and tensor.requires_grad:
        root = tensor._grad_accumulator()
    if root is None:
        return "\n".join([*dot.lines, "}"]) + "\n"

    report = memory_report(tensor) if show_memory and tensor.grad_fn is not None else None
    dot.memory = _MemoryColours(report) if report is not None else None
    root_id, _ = dot.node(root, *dot.op_label(root))
    dot.edge(root_id, output_id)
    stack = [root]  # iterative depth-first walk: graphs can be deeper than Python's stack
    while stack:
        node = stack.pop()
        node_id = dot.ids[("node", id(node))]
        if type(node) is AccumulateGrad:
            variable = node.variable
            label = names.get(id(variable), "")
            label = (label + "\n" if label else "") + _shape(tuple(variable.shape))
            variable_id, new = dot.node(variable, label, "lightblue", "variable")
            if new:
                dot.edge(variable_id, node_id)
        if show_saved:
            _draw_saved(dot, node, node_id, names)
        for child, _ in node.next_functions:
            if child is None:
                continue
            child_id, new = dot.node(child, *dot.op_label(child))
            dot.edge(child_id, node_id)
            if new:
                stack.append(child)
    return "\n".join([*dot.lines, "}"]) + "\n"


class _MemoryColours:
    """show_memory: each node's saved and freed bytes, and a colour of Graphviz's reds9
    scheme scaled to the node that saved most."""

    def __init__(self, report: MemoryReport) -> None:
        self.report = report
        self.largest = max([entry.saved_bytes for entry in report.nodes] + [1])

    def label_and_colour(self, node: Any) -> tuple[str, str | None]:
        entry = self.report.of(node)
        if entry is None or entry.saved_bytes == 0:
            return _label(node), None
        shade = 1 + round(8 * entry.saved_bytes / self.largest)
        label = (f"{_label(node)}\nsaved {_format_bytes(entry.saved_bytes)}, frees "
                 f"{_format_bytes(entry.freed_bytes)}")
        return label, f'"/reds9/{shade}"'


def _format_bytes(nbytes: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{nbytes} B"


def _draw_saved(dot: _Dot, node: Any, node_id: str, names: dict[int, str]) -> None:
    """Orange boxes for what `node` saved, read from its entries without unpacking them."""
    saved = node._saved
    if saved is None or saved is RELEASED:
        return
    for index, entry in enumerate(saved):
        if type(entry) is not SavedTensor:
            continue  # None or a Python number: not a tensor
        value = entry.data  # the Tensor, array or packed object: one box for each
        name = names.get(id(value), "")
        shape = entry.shape
        label = (f"saved {index}" + (f" ({name})" if name else "") + "\n"
                 + (_shape(shape) if shape is not None else "(packed)"))
        saved_id, _ = dot.node(value, label, "orange", "saved")
        dot.edge(saved_id, node_id, undirected=True)


def render(tensor: Tensor, path: str | os.PathLike[str], params: Mapping[str, Tensor] | None = None,
           show_saved: bool = False, format: str | None = None,
           show_memory: bool = False) -> str:
    """Draw the graph of `tensor` into `path` (SVG, PNG, PDF, ... from the suffix, or
    `format`). A `.dot`/`.gv` path gets the DOT text itself and needs nothing installed; other
    formats need the `graphviz` Python package and Graphviz's `dot` program."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    kind = (format or suffix or "svg").lower()
    text = to_dot(tensor, params, show_saved, show_memory)
    if kind in ("dot", "gv"):
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)
        return path
    try:
        import graphviz
    except ImportError:
        raise RuntimeError(
            "autodiff.viz.render needs the 'graphviz' Python package, which is not installed: "
            "pip install graphviz (and Graphviz's 'dot' program). to_dot() and a .dot path work "
            "without it."
        ) from None
    if shutil.which("dot") is None:
        raise RuntimeError(
            "autodiff.viz.render needs Graphviz's 'dot' program, which is not on the PATH "
            "(the 'graphviz' Python package is installed, the binary is not): apt-get install "
            "graphviz, brew install graphviz or conda install graphviz. to_dot() and a .dot "
            "path work without it."
        )
    data = graphviz.Source(text).pipe(format=kind)
    with open(path, "wb") as stream:
        stream.write(data)
    return path


def _label(node: Any) -> str:
    """The node's name without PyTorch's C++ namespace (AccumulateGrad, CopySlices), as
    torchviz draws them."""
    return node.name().rpartition("::")[2]
