"""House rules: the tape (`autodiff/`) never imports numpy or cupy, only `backends/` does; and it
reads no private attribute of a backend (it asks `Backend`'s public predicates instead)."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BANNED = {"numpy", "cupy", "cupyx", "scipy"}


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", sorted((ROOT / "autodiff").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_autodiff_does_not_import_array_libraries(path: pathlib.Path) -> None:
    assert not (_imports(path) & BANNED), f"{path} imports {_imports(path) & BANNED}"


def test_backends_import_nothing_from_autodiff() -> None:
    for path in (ROOT / "backends").rglob("*.py"):
        assert "autodiff" not in _imports(path), f"{path} imports autodiff"


def test_importing_autodiff_does_not_import_scipy() -> None:
    """SciPy's special functions are bound on first use (backends/special.py)."""
    import subprocess
    import sys

    code = ("import sys, autodiff; autodiff.ones(2).exp(); print('scipy' in sys.modules); "
            "autodiff.lgamma(autodiff.ones(2)); print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_importing_autodiff_does_not_import_cupy() -> None:
    import subprocess
    import sys

    code = "import sys, autodiff; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


# Private backend attributes still read, each with its reason (none should be added).
PRIVATE_READS_ALLOWED = {
    # Until function.py calls `backend.name_of_dtype` (its gradient-cast line).
    ("autodiff/function.py", "_dtype_names"),
}


def _backend_private_reads(source: str, label: str) -> set[tuple[str, str]]:
    """(label, attribute) for every `<...backend>._name` read, e.g. `ctx.backend._floating`."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            continue
        owner = node.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if name in ("backend", "_backend"):
            found.add((label, node.attr))
    return found


def test_autodiff_reads_no_backend_privates() -> None:
    found = set()
    for path in (ROOT / "autodiff").rglob("*.py"):
        found |= _backend_private_reads(path.read_text(), str(path.relative_to(ROOT)))
    assert found <= PRIVATE_READS_ALLOWED, sorted(found - PRIVATE_READS_ALLOWED)


def test_the_privates_check_sees_a_read() -> None:
    source = ("a = ctx.backend._floating\nb = tensor._backend._bool\n"
              "c = backend.is_floating(x.dtype)\nd = tensor._data\n")
    assert _backend_private_reads(source, "probe") == {("probe", "_floating"), ("probe", "_bool")}


@pytest.mark.parametrize("name", ["scatter.py", "scatter_reduce.py", "_scatter_arrays.py"])
def test_the_scatter_modules_import_at_the_top_only(name: str) -> None:
    # scatter (whose reduce= is scatter_reduce's older spelling) and scatter_reduce share their
    # array code from below, so neither needs a deferred import of the other.
    tree = ast.parse((ROOT / "autodiff" / "ops" / name).read_text())
    deferred = [node.lineno for function in ast.walk(tree)
                if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
                for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert deferred == []
    imported = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert name != "scatter.py" or "scatter_reduce" not in imported
