"""Ops, grouped by family. Each op is one `Function` subclass with the public function right
below it; `Tensor`'s methods call those functions."""

# torch.ops.aten: the operators' names, for policies that pick ops (op_overloads.py).
from ..op_overloads import USER_NAMESPACES, aten

__all__ = ["aten"]


def __getattr__(name: str) -> object:
    """torch.ops.<namespace>: the operators torch.library defined in it (and `profiler`'s,
    record_function's range as operators)."""
    if name == "profiler" and name not in USER_NAMESPACES:  # PyTorch's own, defined on first use
        from ..autograd import profiler_ops
    found = USER_NAMESPACES.get(name)
    if found is None:
        raise AttributeError(f"module 'autodiff.ops' has no attribute '{name}'")
    return found
