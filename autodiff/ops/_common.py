"""What the op families share beside the lead's `_util`: the base classes of elementwise
functions of one tensor, and small helpers for gradients and errors."""

from __future__ import annotations

from typing import Any, ClassVar

from .. import dtypes
from ..function import Function
from ..tensor import Tensor, _wrap
from ._util import default_float


def zeros_like_grad(grad: Tensor) -> Tensor:
    """The gradient of a piecewise-constant op: zeros (not grad * 0, which keeps NaNs)."""
    return _wrap(grad._backend.zeros_like(grad._data), grad._backend)


def cast_for_accumulation(input: Tensor, dtype: Any) -> Tensor:
    """How sums and products over elements (prod, cumsum, cumprod) take their input, as
    PyTorch: cast to `dtype=` first (differentiably); without it integers and bools become
    int64."""
    if dtype is not None:
        return input.to(dtypes.to_dtype(dtype))
    if not input.dtype.is_floating_point and input.dtype is not dtypes.int64:
        return input.to(dtypes.int64)
    return input


# PyTorch's CPU kernels compute float16 in float32 ("opmath": softmax, layer_norm, norms) and
# accumulate cumulative sums and products and variances one level up (`acc_type`: float16 in
# float32, float32 in float64), rounding the result once.
_OPMATH = {"float16": "float32"}
_ACCUMULATE = {"float16": "float32", "float32": "float64"}


def opmath(backend: Any, array: Any) -> tuple[Any, str | None]:
    """`array` in the dtype PyTorch computes it in (float16 as float32), and the dtype to round
    the result to (None when the array is unchanged)."""
    name = backend.dtype_name(array)
    wide = _OPMATH.get(name)
    return (array, None) if wide is None else (backend.astype(array, wide), name)


def accumulation_dtype(backend: Any, array: Any) -> str | None:
    """The dtype PyTorch's CPU kernels accumulate `array`'s cumulative sums and products and
    its variance in, when wider than its own (float16: float32, float32: float64)."""
    return _ACCUMULATE.get(backend.dtype_name(array))


def rounded(backend: Any, array: Any, dtype: str | None) -> Any:
    """`array` rounded to `dtype` (unchanged for None): the end of an `opmath` computation."""
    return array if dtype is None else backend.astype(array, dtype)


def not_implemented_for(kernel: str, backend: Any, array: Any, *,
                        on_device: bool = True) -> NotImplementedError:
    """PyTorch's error for a dtype a kernel has no implementation for, e.g.
    `"abs_cpu" not implemented for 'Bool'` (some kernels' names carry no device)."""
    name = dtypes.SCALAR_TYPE_NAMES[backend.dtype_name(array)]
    if on_device:
        kernel = f"{kernel}_{backend.device.type}"
    return NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def require_tensors(function: str, *arguments: tuple[str, Any]) -> None:
    """PyTorch's argument parser: each (name, value), in position order from 1, must be a
    Tensor (a number there would otherwise fail deep inside with an AttributeError)."""
    for position, (name, value) in enumerate(arguments, start=1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{function}(): argument '{name}' (position {position}) must be "
                            f"Tensor, not {type(value).__name__}")


def require_floating(kernel: str, backend: Any, array: Any) -> None:
    if array.dtype not in backend._floating:
        raise not_implemented_for(kernel, backend, array)


class UnaryOfInput(Function):
    """An elementwise function `backend.<kernel>` of one tensor, computed in a floating dtype
    (integers and bools in the default one), whose backward is written with its input.
    Subclasses set `node_name` and `kernel` and write `backward`."""

    kernel: ClassVar[str]

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        return getattr(ctx.backend, ctx.kernel)(default_float(ctx.backend, a))


class UnaryOfOutput(Function):
    """As `UnaryOfInput`, for functions whose backward is written with their output (exp,
    sqrt, tanh, ...)."""

    kernel: ClassVar[str]

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = getattr(ctx.backend, ctx.kernel)(default_float(ctx.backend, a))
        ctx.save_for_backward(out)
        return out
