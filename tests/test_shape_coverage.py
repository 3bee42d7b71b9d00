"""Every exported shape, indexing and in-place function has an op-table entry.

An entry covers an export when its name is the export's name or starts with it followed by
"_" (`split_sizes` covers `split`); aliases are covered by their target's entries.
"""

from __future__ import annotations

import pytest

import autodiff
import autodiff.nn.functional as F
from tests.op_db import OP_DB

FAMILY_MODULES = {
    f"autodiff.ops.{name}" for name in (
        "shape", "indexing", "joining", "scatter", "diagonal", "padding", "inplace",
    )
}
# Not differentiable ops or not tensor-valued; none today.
EXEMPT: set[str] = set()
ENTRY_NAMES = {info.name for info in OP_DB}


def _covered(name: str) -> bool:
    return name in ENTRY_NAMES or any(entry.startswith(f"{name}_") for entry in ENTRY_NAMES)


def _exports(namespace: object) -> list[str]:
    return sorted(
        name for name in dir(namespace)
        if not name.startswith("_") and callable(getattr(namespace, name))
        and getattr(getattr(namespace, name), "__module__", None) in FAMILY_MODULES
        and name not in EXEMPT
    )


@pytest.mark.parametrize("name", _exports(autodiff))
def test_export_has_an_op_table_entry(name: str) -> None:
    function = getattr(autodiff, name)
    assert _covered(name) or _covered(function.__name__), \
        f"autodiff.{name} has no entry in tests/op_db/"


@pytest.mark.parametrize("name", _exports(F))
def test_functional_export_has_an_op_table_entry(name: str) -> None:
    assert _covered(name), f"autodiff.nn.functional.{name} has no entry in tests/op_db/"


def test_the_issue_lists_are_exported() -> None:
    listed = {
        "reshape", "flatten", "squeeze", "unsqueeze", "transpose", "permute", "t", "expand",
        "broadcast_to", "flip", "roll", "cat", "concat", "concatenate", "stack", "split",
        "chunk", "unbind", "narrow", "gather", "scatter", "scatter_add", "index_select",
        "masked_fill", "take_along_dim", "tril", "triu", "diagonal", "trace", "tile",
    }
    assert listed <= set(dir(autodiff))
    assert callable(F.pad)
