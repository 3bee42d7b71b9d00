"""`autodiff.overrides` (torch.overrides), the part autodiff runs: a function that lets the
classes of its arguments take the call over through `__torch_function__`
(`has_torch_function`, `handle_torch_function`), and the switch that turns that off
(`autodiff._C.DisableTorchFunctionSubclass`).

autodiff's Tensor defines no `__torch_function__`; the functions that consult it are
`Tensor.module_load` (as PyTorch's, which does it in Python), scaled_dot_product_attention for
its attention-mask subclasses (nn/attention/bias.py), and the reductions MaskedTensor takes
(sum, mean, prod, amin, amax, argmin, argmax, all, norm, var, std; autodiff/masked).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any


class _Disabled(threading.local):
    subclasses = False


_disabled = _Disabled()


class DisableTorchFunctionSubclass:
    """Inside, subclasses' `__torch_function__` overrides are not consulted (their handlers
    use it to run the function itself)."""

    def __enter__(self) -> DisableTorchFunctionSubclass:
        self._previous = _disabled.subclasses
        _disabled.subclasses = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        _disabled.subclasses = self._previous


def _overriding(args: Iterable[Any]) -> list[type]:
    """The distinct classes among `args` with a `__torch_function__`, each subclass before
    its bases, otherwise left to right (PyTorch's order)."""
    types: list[type] = []
    for arg in args:
        kind = type(arg)
        if kind in types or getattr(kind, "__torch_function__", None) is None:
            continue
        position = next((index for index, seen in enumerate(types) if issubclass(kind, seen)),
                        len(types))
        types.insert(position, kind)
    return types


def has_torch_function(relevant_args: Iterable[Any]) -> bool:
    return not _disabled.subclasses and bool(_overriding(relevant_args))


def handle_torch_function(public_api: Callable[..., Any], relevant_args: Iterable[Any],
                          *args: Any, **kwargs: Any) -> Any:
    """Call `public_api` through its arguments' `__torch_function__` overrides: the first
    result that is not NotImplemented."""
    types = _overriding(relevant_args)
    for kind in types:
        result = kind.__torch_function__(public_api, tuple(types), args, kwargs)  # type: ignore[attr-defined]
        if result is not NotImplemented:
            return result
    name = f"{public_api.__module__}.{public_api.__name__}"
    raise TypeError(f"no implementation found for '{name}' on types that implement "
                    f"__torch_function__: {types}")
