"""House rule: the tape (`autodiff/`) never imports numpy or cupy; only `backends/` does."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BANNED = {"numpy", "cupy", "cupyx"}


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


def test_importing_autodiff_does_not_import_cupy() -> None:
    import subprocess
    import sys

    code = "import sys, autodiff; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
