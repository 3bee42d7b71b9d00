"""Ops, grouped by family. Each op is one `Function` subclass with the public function right
below it; `Tensor`'s methods call those functions."""

# torch.ops.aten: the operators' names, for policies that pick ops (op_overloads.py).
from ..op_overloads import USER_NAMESPACES, aten

__all__ = ["aten"]


def __getattr__(name: str) -> object:
    """torch.ops.<namespace>: the operators torch.library defined in it."""
    found = USER_NAMESPACES.get(name)
    if found is None:
        raise AttributeError(f"module 'autodiff.ops' has no attribute '{name}'")
    return found
