"""`autodiff.utils._python_dispatch` (torch.utils._python_dispatch): `TorchDispatchMode`, a
mode that sees every op this thread applies, forward and backward, as its aten overload.

Built on the op modes (`op_modes.py`): each op applied inside `with mode:` is handed to
`mode.__torch_dispatch__(func, types, args, kwargs)`, `func` being the op's `OpOverload`
(`aten.mul.Tensor`), `args`/`kwargs` the op's own; calling `func(*args, **kwargs)` in the
handler runs the op (through the modes further out), and what the handler returns is the op's
result. Ops with no aten operator run without being shown. Creation functions (`rand`,
`zeros`) are not ops here, so no handler sees them.
"""

from __future__ import annotations

from typing import Any

from ..op_modes import OpCall, OpMode, op_mode_state
from ..op_overloads import handed_over
from ..python_dispatch import is_traceable_wrapper_subclass
from ..tensor import Tensor

__all__ = ["TorchDispatchMode", "is_traceable_wrapper_subclass"]


class TorchDispatchMode(OpMode):
    """Subclass it with `__torch_dispatch__(self, func, types, args=(), kwargs=None)` and use
    an instance as a context manager."""

    def __init__(self, _dispatch_key: Any = None) -> None:
        if _dispatch_key is not None:
            raise NotImplementedError("TorchDispatchMode: autodiff has no dispatch keys; "
                                      "leave _dispatch_key unset")

    def __torch_dispatch__(self, func: Any, types: tuple[type, ...], args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError

    def apply_op(self, call: OpCall) -> Any:
        func = call.func
        if func is None:
            return call.run()
        types = tuple(dict.fromkeys(type(arg) for arg in call.args
                                    if isinstance(arg, Tensor) and arg._python_dispatch))
        handed_over.calls.append(call)
        try:
            return self.__torch_dispatch__(func, types, call.args, dict(call.kwargs))
        finally:
            handed_over.calls.pop()

    @classmethod
    def push(cls, *args: Any, **kwargs: Any) -> TorchDispatchMode:
        """A new mode, entered (the caller exits it)."""
        mode = cls(*args, **kwargs)
        mode.__enter__()
        return mode


def _get_current_dispatch_mode() -> Any:
    """The innermost TorchDispatchMode open now, or None."""
    for mode in reversed(op_mode_state.stack):
        if isinstance(mode, TorchDispatchMode):
            return mode
    return None
