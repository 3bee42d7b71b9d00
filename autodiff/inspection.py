"""torch-level questions about a tensor (`torch.is_floating_point(t)`, `torch.is_nonzero(t)`,
...): each the Tensor method of the same name, with PyTorch's check of the argument; and
`torch._assert`, the assert a traced program can record."""

from __future__ import annotations

from typing import Any

from .ops._checks import require_tensors

__all__ = ["_assert", "get_device", "is_distributed", "is_floating_point", "is_inference",
           "is_nonzero", "is_same_size", "is_signed", "is_storage", "typename"]


def _assert(condition: Any, message: str) -> None:
    """`assert condition, message` as a function: fx records it (through
    `__torch_function__`) where a Python assert would ask a Proxy for its truth."""
    from .overrides import handle_torch_function, has_torch_function
    from .tensor import Tensor

    if type(condition) is not Tensor and has_torch_function((condition,)):
        return handle_torch_function(_assert, (condition,), condition, message)
    assert condition, message
    return None


def is_floating_point(input: Any) -> bool:
    require_tensors("is_floating_point", ("input", input))
    return bool(input.is_floating_point())


def is_signed(input: Any) -> bool:
    require_tensors("is_signed", ("input", input))
    return bool(input.is_signed())


def is_nonzero(input: Any) -> bool:
    require_tensors("is_nonzero", ("input", input))
    return bool(input.is_nonzero())


def is_same_size(input: Any, other: Any) -> bool:
    require_tensors("is_same_size", ("input", input), ("other", other))
    return bool(input.is_same_size(other))


def is_inference(input: Any) -> bool:
    require_tensors("is_inference", ("input", input))
    return bool(input.is_inference())


def get_device(input: Any) -> int:
    require_tensors("get_device", ("input", input))
    return int(input.get_device())


def is_distributed(input: Any) -> bool:
    require_tensors("is_distributed", ("input", input))
    return bool(input.is_distributed())


def typename(obj: Any) -> str:
    """A tensor's legacy type name ('torch.FloatTensor'); for anything else its module and
    qualified name (a builtin's bare name)."""
    from .tensor import Tensor

    if isinstance(obj, Tensor):
        return str(obj.type())
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def is_storage(obj: Any) -> bool:
    """Whether `obj` is a storage object: autodiff's tensors keep their memory in arrays and
    have no storage class, so nothing is."""
    return False
