"""Replaying a tutorial notebook cell by cell, as Jupyter runs it.

Each cell's source is the tutorial's, verbatim, with `import torch` read as
`import autodiff as torch` (and IPython magics such as `%matplotlib inline` left out). Cells share
one namespace; a cell shows what it printed, the repr of its last expression (Jupyter's `Out`),
the warnings it raised and, if it raised, the exception (the namespace keeps what ran before it).

The same notebook can run on PyTorch itself, with `torch.randn` handing back the values autodiff
drew (`replay_randn`), so a test can compare every cell's output with PyTorch's character for
character.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

# `<AddBackward0 object at 0x7fb66c278fd0>`: the address differs from run to run.
ADDRESS = re.compile(r" object at 0x[0-9a-fA-F]+>")
# PyTorch appends where in its C++ sources a warning came from; not part of the message.
TRIGGERED = re.compile(r" \(Triggered internally at .*\)$")


def node_pattern(name: str) -> str:
    """A regex for the repr of a graph node named `name`, as a notebook prints it."""
    return rf"<{name} object at 0x[0-9a-fA-F]+>"


@dataclass
class Cell:
    label: str
    source: str


@dataclass
class Output:
    """What a cell showed."""

    stdout: str = ""
    display: str | None = None  # repr of the last expression, None when it was None/absent
    value: Any = None
    warnings: list[warnings.WarningMessage] = field(default_factory=list)
    error: BaseException | None = None

    def comparable(self) -> tuple[Any, ...]:
        """The output with object addresses and PyTorch's C++ origin notes masked."""
        def mask(text: str | None) -> str | None:
            return None if text is None else ADDRESS.sub(" object at 0x...>", text)

        return (
            mask(self.stdout),
            mask(self.display),
            [(w.category.__name__, TRIGGERED.sub("", str(w.message))) for w in self.warnings],
            None if self.error is None else (type(self.error).__name__, str(self.error)),
        )


class Notebook:
    """Runs `cells` in order in one namespace on `module` ("autodiff" or "torch")."""

    def __init__(self, cells: Sequence[Cell], module: str = "autodiff") -> None:
        self.cells = list(cells)
        self.module = module
        self.namespace: dict[str, Any] = {"__name__": "__notebook__"}
        self.outputs: dict[str, Output] = {}
        self._next = 0

    def source_of(self, cell: Cell) -> str:
        lines = [line for line in cell.source.splitlines() if not line.lstrip().startswith("%")]
        source = "\n".join(lines)
        if self.module == "autodiff":
            source = re.sub(r"^(\s*)import torch\s*$", r"\1import autodiff as torch", source,
                            flags=re.MULTILINE)
        return source

    def run_through(self, label: str) -> Output:
        """Run every cell not yet run, up to and including the one labelled `label`."""
        labels = [cell.label for cell in self.cells]
        if label not in labels:
            raise KeyError(f"no cell {label!r}; cells are {labels}")
        stop = labels.index(label)
        while self._next <= stop:
            cell = self.cells[self._next]
            self.outputs[cell.label] = self._run(cell)
            self._next += 1
        return self.outputs[label]

    def run_all(self) -> dict[str, Output]:
        self.run_through(self.cells[-1].label)
        return self.outputs

    def __getitem__(self, name: str) -> Any:
        return self.namespace[name]

    def _run(self, cell: Cell) -> Output:
        tree = ast.parse(self.source_of(cell))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        output = Output()
        stdout = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(stdout):
            warnings.simplefilter("always")
            try:
                exec(compile(tree, f"<{cell.label}>", "exec"), self.namespace)
                if last is not None:
                    output.value = eval(compile(last, f"<{cell.label}>", "eval"), self.namespace)
            except Exception as error:  # a notebook shows the error and goes on
                output.error = error
        output.stdout = stdout.getvalue()
        output.warnings = list(caught)
        if output.value is not None:
            output.display = repr(output.value)
        return output


@contextlib.contextmanager
def recording_randn(monkeypatch: pytest.MonkeyPatch, seed: int = 0) -> Iterator[list[list[Any]]]:
    """Seed autodiff's generator and record every `autodiff.randn` draw (as nested lists)."""
    import autodiff

    autodiff.manual_seed(seed)
    draws: list[list[Any]] = []
    original = autodiff.randn

    def randn(*size: Any, **kwargs: Any) -> Any:
        out = original(*size, **kwargs)
        draws.append(out.tolist())
        return out

    monkeypatch.setattr(autodiff, "randn", randn)
    yield draws
    monkeypatch.setattr(autodiff, "randn", original)


@contextlib.contextmanager
def replay_randn(monkeypatch: pytest.MonkeyPatch, torch: Any, draws: list[list[Any]]
                 ) -> Iterator[None]:
    """Make `torch.randn` return autodiff's recorded draws, in order."""
    pending = list(draws)

    def randn(*size: Any, requires_grad: bool = False, **kwargs: Any) -> Any:
        values = torch.tensor(pending.pop(0), **kwargs)
        expected = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
        assert tuple(values.shape) == expected
        return values.requires_grad_(requires_grad)

    monkeypatch.setattr(torch, "randn", randn)
    yield
    assert not pending, "the PyTorch replay drew fewer tensors than autodiff"


def compare_with_pytorch(cells: Sequence[Cell], monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the notebook on autodiff and on PyTorch (same random draws); every cell must show
    the same thing."""
    torch = pytest.importorskip("torch")
    with recording_randn(monkeypatch) as draws:
        ours = Notebook(cells, "autodiff").run_all()
    with replay_randn(monkeypatch, torch, draws):
        theirs = Notebook(cells, "torch").run_all()
    assert list(ours) == list(theirs)
    for label in ours:
        assert ours[label].comparable() == theirs[label].comparable(), label


def printed_numbers(text: str) -> list[float]:
    """The numbers in a printed tensor, in order (`tensor([ 1.2, -3.0e-01], ...)`)."""
    body = text[text.index("(") + 1:]
    body = re.sub(r"(grad_fn=<\w+>|requires_grad=True|dtype=torch\.\w+)", "", body)
    return [float(n) for n in re.findall(r"-?\d+\.?\d*(?:e[+-]\d+)?", body)]


def entries(text: str) -> list[str]:
    """The entries of a printed 1-D/2-D tensor, with their padding (PyTorch pads to one width)."""
    body = text[text.index("[") : text.rindex("]") + 1]
    return [entry for row in re.findall(r"\[([^\[\]]*)\]", body) for entry in row.split(", ")]
