"""The sparse COO layout's answer to an op that `Function.apply` hands it (`layout_dispatch.py`):
the op's `sparse_form`, a Function written for sparse arrays, runs in its place; an op without
one refuses, as PyTorch's dispatcher does for an operator with no kernel for the Sparse
backends."""

from __future__ import annotations

from typing import Any, NoReturn

from .layout_dispatch import layout_tensor
from .op_overloads import overload_of


def dispatch(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    form = op.sparse_form
    if form is None:
        refuse(op(), args)
    return form.apply(*args, **kwargs)


def refuse(ctx: Any, args: tuple[Any, ...]) -> NoReturn:
    """PyTorch's NotImplementedError for an op without a sparse kernel."""
    overload = overload_of(ctx, args)
    name = overload.name() if overload is not None else f"aten::{ctx.node_name}"
    refuse_operator(name, layout_tensor(args).device)


def refuse_operator(name: str, device: Any) -> NoReturn:
    """PyTorch's dispatcher error for operator `name` ('aten::fill_.Scalar') on a sparse
    tensor of `device`."""
    backend = "SparseCPU" if device.type == "cpu" else f"Sparse{device.type.upper()}"
    raise NotImplementedError(
        f"Could not run '{name}' with arguments from the '{backend}' backend. This could be "
        "because the operator doesn't exist for this backend, or was omitted during the "
        "selective/custom build process (if using custom build).")
