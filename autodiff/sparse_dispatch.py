"""What `Function.apply` does with an op whose inputs include a sparse tensor (its `_data` a
`SparseCOO`, not an array): the op's `sparse_form`, a Function written for sparse arrays, runs
in its place; an op without one refuses, as PyTorch's dispatcher does for an operator with no
kernel for the Sparse backends."""

from __future__ import annotations

from typing import Any, NoReturn

from .op_overloads import overload_of
from .sparse_coo import SparseCOO


def has_sparse(args: Any) -> bool:
    return any(type(getattr(arg, "_data", None)) is SparseCOO for arg in args)


def sparse_form(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    form = cls.sparse_form
    if form is None:
        refuse(cls(), args)
    return form.apply(*args, **kwargs)


def refuse(ctx: Any, args: tuple[Any, ...]) -> NoReturn:
    """PyTorch's NotImplementedError for an op without a sparse kernel."""
    overload = overload_of(ctx, args)
    name = overload.name() if overload is not None else f"aten::{ctx.node_name}"
    device = next(arg for arg in args if type(getattr(arg, "_data", None)) is SparseCOO).device
    refuse_operator(name, device)


def refuse_operator(name: str, device: Any) -> NoReturn:
    """PyTorch's dispatcher error for operator `name` ('aten::fill_.Scalar') on a sparse
    tensor of `device`."""
    backend = "SparseCPU" if device.type == "cpu" else f"Sparse{device.type.upper()}"
    raise NotImplementedError(
        f"Could not run '{name}' with arguments from the '{backend}' backend. This could be "
        "because the operator doesn't exist for this backend, or was omitted during the "
        "selective/custom build process (if using custom build).")
