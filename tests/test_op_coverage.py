"""Every op a public namespace exports has an op-table entry.

The families are read from `autodiff/ops/` itself: every function exported by `autodiff`,
`autodiff.nn.functional`, `autodiff.linalg` or `autodiff.special` whose home is a module of
`autodiff/ops/` (or nn.functional's own wrappers) is an op, so a new module or a new export is
checked the day it lands. An export is covered by an entry named after it, or after the name it
is defined under, with its namespace's prefix ("F.", "linalg.", "special.": `F.relu` is not
`autodiff.relu`); entries may
add a variant as "_suffix" or "[...]" (`pow_scalar` covers `pow`, `einsum[ii]` covers
`einsum`). A function of nn.functional or linalg whose bare name is not a different top-level
op may also be covered by the bare name (`cross_entropy`, `det`).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict
from types import ModuleType
from typing import Any

import pytest

import autodiff
import autodiff.fft
import autodiff.linalg
import autodiff.nn.functional as F
import autodiff.ops
import autodiff.sparse
import autodiff.special
from tests.op_db import OP_DB

OPS_MODULES = {
    f"autodiff.ops.{module.name}": importlib.import_module(f"autodiff.ops.{module.name}")
    for module in pkgutil.iter_modules(autodiff.ops.__path__)
}
# Where ops live: every module of ops/, and nn.functional's wrappers over them (implicit
# softmax dims, activations with `inplace=`).
OP_MODULES = set(OPS_MODULES) | {"autodiff.nn.functional", "autodiff.nn._activations"}
NAMESPACES: tuple[tuple[str, ModuleType], ...] = (
    ("", autodiff), ("F.", F), ("linalg.", autodiff.linalg), ("special.", autodiff.special),
    ("fft.", autodiff.fft), ("sparse.", autodiff.sparse),
)

# Exports of op modules that the op table cannot hold, and why.
NOT_TABLE_OPS = {
    "allclose": "returns a Python bool, not a tensor (tested in test_elementwise.py)",
    "equal": "returns a Python bool, not a tensor (tested in test_elementwise.py)",
    "broadcast_shapes": "returns a torch.Size, not a tensor (tested in test_shape_ops.py)",
    "empty_strided": "uninitialised values: its layout is tested in test_strides.py",
    "empty_permuted": "uninitialised values: its layout is tested in compat/test_compat_names.py",
    "resize_as_": "refuses tensors that require grad; tested in compat/test_compat_names.py",

    "is_complex": "returns a Python bool, not a tensor (tested in test_complex.py)",
    "is_conj": "returns a Python bool (tested in test_linalg_factorizations.py)",
    "is_neg": "returns a Python bool (tested in test_linalg_factorizations.py)",
}
# Modules of ops/ whose public functions are reached only through Tensor methods or other ops.
NO_EXPORTS = {
    "attention_kernels": "which SDPA kernels are enabled, and PyTorch's CPU kernel choice",
    "fill_arguments": "the argument checks of scatter/index_fill/masked_fill (PyTorch's parser)",
    "holomorphic": "the mixin that conjugates holomorphic ops' derivatives for complex inputs",
    "inplace": "the in-place machinery and the `Tensor.<op>_` methods (INPLACE entries)",
    "views": "the view machinery (view tracking, CopySlices, AsStrided)",
    "rnn": "the recurrent layers' op, reached through nn.RNN/LSTM/GRU (entries rnn.*_layer*)",
    "rnn_cells": "the cells' ops, reached through nn.RNNCell/LSTMCell/GRUCell (entries rnn.*_cell)",
    "packed_sequence": "packing, reached through nn.utils.rnn (entries nn.utils.rnn.*)",
    "sparse_indexing": "select's and index_select's sparse forms, reached through "
                       "Tensor.select/index_select/__getitem__",
    "sparse_copies": "clone's and to's sparse forms, reached through Tensor.clone/.to "
                     "(entry sparse_clone_to)",
    "memory_formats": "contiguous's copy and the channels-last layouts, reached through "
                      "Tensor.contiguous/.to/.clone (entry contiguous, test_memory_formats.py)",
}

ENTRY_NAMES = {info.name for info in OP_DB}
_ATEN_SIGNATURES = "autodiff.nn_ops"


def _covered(name: str) -> bool:
    return name in ENTRY_NAMES or any(
        entry.startswith((f"{name}_", f"{name}[")) for entry in ENTRY_NAMES)


def _is_op(value: Any) -> bool:
    return (callable(value) and not inspect.isclass(value)
            and getattr(value, "__module__", None) in OP_MODULES)


def _exported_ops() -> dict[str, set[str]]:
    """Each exported op, by its public path ("F.relu"), with every entry name that covers it
    (one function exported under several names is covered by an entry for any of them)."""
    names_of: dict[int, set[str]] = defaultdict(set)
    paths_of: dict[int, list[str]] = defaultdict(list)
    for prefix, namespace in NAMESPACES:
        for name, value in vars(namespace).items():
            if name.startswith("_") or not _is_op(value) or name in NOT_TABLE_OPS:
                continue
            # an alias is a function of its own (named as exported) around the same op
            original = getattr(value, "_torch_function_of", value)
            key = id(original)
            paths_of[key].append(f"{prefix}{name}")
            names_of[key] |= {f"{prefix}{name}", f"{prefix}{value.__name__}",
                              f"{prefix}{original.__name__}"}
            # An entry under the bare name covers F.x when autodiff.x is the same op, or
            # ATen's signature of it (nn_ops: tested against F.x in test_torch_level_nn.py).
            top = getattr(autodiff, name, value)
            if prefix and (top is value or getattr(top, "__module__", None) == _ATEN_SIGNATURES):
                names_of[key].add(name)
    return {path: names_of[key] for key, paths in paths_of.items() for path in paths}


EXPORTED_OPS = _exported_ops()


@pytest.mark.parametrize("path", sorted(EXPORTED_OPS))
def test_exported_op_has_an_op_table_entry(path: str) -> None:
    names = EXPORTED_OPS[path]
    assert any(_covered(name) for name in names), (
        f"{path} has no entry in tests/op_db/ (F = autodiff.nn.functional; names that would "
        f"cover it: {sorted(names)})")


@pytest.mark.parametrize("module", sorted(OPS_MODULES))
def test_every_ops_module_exports_an_op_or_says_why_not(module: str) -> None:
    short = module.rsplit(".", 1)[1]
    if short.startswith("_"):
        return  # helpers of the families (promotion, dims, checks)
    exported = {value.__module__ for _, namespace in NAMESPACES
                for value in vars(namespace).values() if _is_op(value)}
    assert (module in exported) != (short in NO_EXPORTS), (
        f"{module}: exports no op and is not in NO_EXPORTS" if module not in exported
        else f"{module} exports ops: remove it from NO_EXPORTS")


def test_the_families_are_read_from_the_package() -> None:
    assert {"autodiff.ops.arithmetic", "autodiff.ops.matmul", "autodiff.ops.decompositions",
            "autodiff.ops.loss", "autodiff.ops.norm"} <= set(OPS_MODULES)
    assert {"add", "matmul", "det", "einsum", "F.cross_entropy", "F.mse_loss", "F.relu",
            "linalg.vector_norm", "linalg.solve", "F.one_hot"} <= set(EXPORTED_OPS)


def test_the_namespaces_export_the_listed_ops() -> None:
    listed = {
        "add", "sub", "mul", "div", "neg", "pow", "exp", "expm1", "log", "log1p", "log2",
        "log10", "sqrt", "rsqrt", "abs", "sign", "sin", "cos", "tan", "tanh", "sinh", "cosh",
        "asin", "acos", "atan", "atan2", "sigmoid", "relu", "clamp", "clip", "maximum",
        "minimum", "where", "reciprocal", "square", "floor", "ceil", "round", "trunc", "lerp",
        "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not",
        "logical_xor", "isnan", "isinf", "isfinite", "sum", "mean", "prod", "max", "min",
        "amax", "amin", "var", "std", "logsumexp", "norm", "argmax", "argmin", "cumsum",
        "cumprod", "reshape", "flatten", "squeeze", "unsqueeze", "transpose", "permute", "t",
        "expand", "broadcast_to", "flip", "roll", "cat", "concat", "concatenate", "stack",
        "split", "chunk", "unbind", "narrow", "gather", "scatter", "scatter_add",
        "index_select", "masked_fill", "take_along_dim", "tril", "triu", "diagonal", "trace",
        "tile",
    }
    assert listed <= set(EXPORTED_OPS)
    assert {f"F.{name}" for name in ("relu", "leaky_relu", "gelu", "elu", "silu", "softplus",
                                     "sigmoid", "tanh", "pad")} <= set(EXPORTED_OPS)


def test_the_coverage_rule_catches_a_missing_entry() -> None:
    assert not _covered("no_such_op")
    assert _covered("pow") and not _covered("po")
    assert _covered("einsum") and _covered("F.relu")
