"""Ops, grouped by family. Each op is one `Function` subclass with the public function right
below it; `Tensor`'s methods call those functions."""

# torch.ops.aten: the operators' names, for policies that pick ops (op_overloads.py).
from ..op_overloads import aten

__all__ = ["aten"]
