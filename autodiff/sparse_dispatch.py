"""The sparse layouts' answer to an op that `Function.apply` hands them (`layout_dispatch.py`):
the op's `sparse_form` (COO) or `compressed_form` (CSR, CSC, BSR, BSC), a Function written for
the layout's arrays, runs in its place; an op without one refuses, as PyTorch's dispatcher does
for an operator with no kernel for the Sparse (SparseCsr) backends. An elementwise op whose
sparse form maps the values alone (`maps_values`) serves both layouts."""

from __future__ import annotations

from typing import Any, NoReturn

from .layout_dispatch import layout_tensor
from .op_overloads import overload_of


def dispatch(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    form = op.sparse_form
    if form is None:
        refuse(op(), args)
    return form.apply(*args, **kwargs)


def dispatch_compressed(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    form = op.compressed_form
    if form is None and getattr(op.sparse_form, "maps_values", False):
        form = op.sparse_form
    if form is None:
        refuse(op(), args, "SparseCsr")
    return form.apply(*args, **kwargs)


def refuse(ctx: Any, args: tuple[Any, ...], key: str = "Sparse") -> NoReturn:
    """PyTorch's NotImplementedError for an op without a kernel for dispatch key `key`
    ('Sparse' for COO, 'SparseCsr' for the compressed layouts)."""
    overload = overload_of(ctx, args)
    name = overload.name() if overload is not None else f"aten::{ctx.node_name}"
    refuse_operator(name, layout_tensor(args).device, key)


def refuse_operator(name: str, device: Any, key: str = "Sparse") -> NoReturn:
    """PyTorch's dispatcher error for operator `name` ('aten::fill_.Scalar') on a sparse
    tensor of `device`."""
    backend = f"{key}CPU" if device.type == "cpu" else f"{key}{device.type.upper()}"
    raise NotImplementedError(
        f"Could not run '{name}' with arguments from the '{backend}' backend. This could be "
        "because the operator doesn't exist for this backend, or was omitted during the "
        "selective/custom build process (if using custom build).")
