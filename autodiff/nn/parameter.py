"""`Parameter` (a Tensor that a Module registers as one of its parameters) and `Buffer` (one it
registers as a buffer)."""

from __future__ import annotations

from typing import Any

from .. import python_dispatch
from ..tensor import Tensor
from ..torch_function import TensorMeta


class _ParameterMeta(TensorMeta):
    """`isinstance(t, Parameter)` is also True for the instances of tensor subclasses that
    `Parameter(...)` flagged (`_is_param`), as in PyTorch."""

    def __instancecheck__(cls, instance: Any) -> bool:
        # Tensor first, as PyTorch: other objects (an fx Proxy) answer any attribute
        if cls is Parameter and isinstance(instance, Tensor) \
                and getattr(instance, "_is_param", False):
            return True
        return super().__instancecheck__(instance)


class Parameter(Tensor, metaclass=_ParameterMeta):
    """A leaf Tensor that requires grad by default and is picked up by `Module.parameters()`.

    `Parameter(t)` shares `t`'s array (no copy), as PyTorch's does. For a subclass that takes
    over its ops (`__torch_dispatch__`), it is `t.detach()` (of t's class) flagged as a
    parameter, as PyTorch's.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Any:
        if data is None:
            from ..creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}"
            )
        if python_dispatch.dispatches(data):
            detached = data.detach().requires_grad_(requires_grad)
            if type(detached) is not type(data):
                raise RuntimeError(
                    f"Creating a Parameter from an instance of type {type(data).__name__} "
                    "requires that detach() returns an instance of the same type, but return "
                    f"type {type(detached).__name__} was found instead. To use the type as a "
                    "Parameter, please correct the detach() semantics defined by its "
                    "__torch_dispatch__() implementation.")
            detached._is_param = True  # type: ignore[attr-defined]
            return detached
        parameter = object.__new__(cls)
        parameter._data = data._data
        parameter._backend = data._backend
        if requires_grad:
            parameter.requires_grad_(True)  # refuses integer dtypes with PyTorch's message
        return parameter

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass  # all done in __new__ (Tensor.__init__ would build a new array)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        backend = self._backend
        copy = Tensor.__new__(Tensor)
        copy._data = backend.asarray(self._data, copy=True)
        copy._backend = backend
        result = type(self)(copy, self._requires_grad)
        memo[id(self)] = result
        return result


class _BufferMeta(TensorMeta):
    """`isinstance(t, Buffer)` is True for the tensors `Buffer(...)` returns (they carry the
    `_is_buffer` flag), as in PyTorch."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute
    (`persistent=False`: left out of the state dict). `Buffer(t)` returns `t` detached (sharing
    its memory), flagged, as PyTorch's does; it is not an instance of a new class."""

    persistent: bool

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Any:
        if data is None:
            from ..creation import empty

            data = empty(0)
        tensor = data.detach().requires_grad_(data.requires_grad)
        tensor.persistent = persistent  # type: ignore[attr-defined]
        tensor._is_buffer = True  # type: ignore[attr-defined]
        return tensor
