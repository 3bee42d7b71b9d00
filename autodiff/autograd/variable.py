"""`Variable`: deprecated since PyTorch 0.4, when Variables and Tensors merged. Calling it
returns a Tensor (sharing the data's memory, outside the graph, requiring grad as asked), and
every Tensor is an instance of it."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from ..user_warnings import warn

VOLATILE_REMOVED = ("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                    "instead.")


class _VariableMeta(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """`Variable(tensor, requires_grad=False, volatile=False)`: `tensor.detach()`, requiring
    grad if asked (`volatile` only warns, as in PyTorch)."""

    def __new__(  # type: ignore[misc]
        cls, data: Any = None, requires_grad: bool = False, volatile: bool = False,
        **unknown: Any,
    ) -> Tensor:
        for key in unknown:
            raise TypeError(f"'{key}' is an invalid keyword argument for this function")
        if volatile:
            warn(VOLATILE_REMOVED, UserWarning, stacklevel=2)
        if data is None:
            from ..creation import empty  # creation needs the tensor module this one does

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out._set_requires_grad(True, "Only Tensors of floating point and complex dtype can "
                                         "require gradients")
        return out


Variable.__module__ = "torch.autograd.variable"
