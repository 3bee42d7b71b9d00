"""Every exported elementwise, reduction, shape, indexing and in-place function has an
op-table entry.

An entry covers an export when its name is the export's name or starts with it followed by
"_" (`pow_scalar` covers `pow`, `split_sizes` covers `split`); aliases of the shape family are
covered by their target's entries. `autodiff.nn.functional.relu` needs an entry named
"F.relu". A new export from these families without an entry fails here.
"""

from __future__ import annotations

import pytest

import autodiff
import autodiff.nn.functional as F
from tests.op_db import OP_DB

# The modules of the elementwise and reduction families.
ELEMENTWISE_MODULES = {
    f"autodiff.ops.{name}" for name in (
        "elementwise", "unary", "selection", "comparison", "division", "activation",
        "reduction", "minmax", "scan",
    )
} | {"autodiff.nn._activations"}
SHAPE_MODULES = {
    f"autodiff.ops.{name}" for name in (
        "shape", "indexing", "joining", "scatter", "diagonal", "padding", "inplace",
    )
}

# Exports that return Python values, not tensors; tested in test_elementwise.py.
NOT_TENSOR_OPS = {"allclose", "equal"}

ENTRY_NAMES = {info.name for info in OP_DB}


def _covered(name: str) -> bool:
    return name in ENTRY_NAMES or any(entry.startswith(f"{name}_") for entry in ENTRY_NAMES)


def _family_exports(namespace: object, modules: set[str]) -> list[str]:
    return sorted(
        name for name in dir(namespace)
        if not name.startswith("_")
        and getattr(getattr(namespace, name), "__module__", None) in modules
        and callable(getattr(namespace, name))
        and name not in NOT_TENSOR_OPS
    )


TORCH_EXPORTS = _family_exports(autodiff, ELEMENTWISE_MODULES)
FUNCTIONAL_EXPORTS = _family_exports(F, ELEMENTWISE_MODULES)


def test_the_families_export_what_the_issue_lists() -> None:
    listed = {
        "add", "sub", "mul", "div", "neg", "pow", "exp", "expm1", "log", "log1p", "log2",
        "log10", "sqrt", "rsqrt", "abs", "sign", "sin", "cos", "tan", "tanh", "sinh", "cosh",
        "asin", "acos", "atan", "atan2", "sigmoid", "relu", "clamp", "clip", "maximum",
        "minimum", "where", "reciprocal", "square", "floor", "ceil", "round", "trunc", "lerp",
        "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not",
        "logical_xor", "isnan", "isinf", "isfinite", "sum", "mean", "prod", "max", "min",
        "amax", "amin", "var", "std", "logsumexp", "norm", "argmax", "argmin", "cumsum",
        "cumprod",
    }
    assert listed <= set(TORCH_EXPORTS)
    assert {"relu", "leaky_relu", "gelu", "elu", "silu", "softplus", "sigmoid",
            "tanh"} <= set(FUNCTIONAL_EXPORTS)


@pytest.mark.parametrize("name", TORCH_EXPORTS)
def test_export_has_an_op_table_entry(name: str) -> None:
    assert _covered(name), f"autodiff.{name} has no entry in tests/op_db/"


@pytest.mark.parametrize("name", FUNCTIONAL_EXPORTS)
def test_functional_export_has_an_op_table_entry(name: str) -> None:
    assert _covered(f"F.{name}"), f"autodiff.nn.functional.{name} has no 'F.{name}' entry"


def test_the_shape_issue_lists_are_exported() -> None:
    listed = {
        "reshape", "flatten", "squeeze", "unsqueeze", "transpose", "permute", "t", "expand",
        "broadcast_to", "flip", "roll", "cat", "concat", "concatenate", "stack", "split",
        "chunk", "unbind", "narrow", "gather", "scatter", "scatter_add", "index_select",
        "masked_fill", "take_along_dim", "tril", "triu", "diagonal", "trace", "tile",
    }
    assert listed <= set(dir(autodiff))
    assert callable(F.pad)


@pytest.mark.parametrize("name", _family_exports(autodiff, SHAPE_MODULES))
def test_shape_export_has_an_op_table_entry(name: str) -> None:
    function = getattr(autodiff, name)
    assert _covered(name) or _covered(function.__name__), \
        f"autodiff.{name} has no entry in tests/op_db/"


@pytest.mark.parametrize("name", _family_exports(F, SHAPE_MODULES))
def test_shape_functional_export_has_an_op_table_entry(name: str) -> None:
    assert _covered(name), f"autodiff.nn.functional.{name} has no entry in tests/op_db/"


def test_the_coverage_rule_catches_a_missing_entry() -> None:
    assert not _covered("no_such_op")
    assert _covered("pow") and not _covered("po")


# The vision layers of nn.functional (convolution, pooling, normalization, resampling, ...).
VISION_MODULES = {
    f"autodiff.ops.{name}" for name in (
        "conv", "fold", "max_pool", "avg_pool", "adaptive_pool", "max_unpool", "normalization",
        "dropout", "pixel_shuffle", "interpolate", "grid_sample",
    )
}


@pytest.mark.parametrize("name", _family_exports(F, VISION_MODULES))
def test_vision_functional_export_has_an_op_table_entry(name: str) -> None:
    assert _covered(f"F.{name}"), f"autodiff.nn.functional.{name} has no 'F.{name}' entry"
