"""Observers (`torch.ao.quantization.observer`): modules that watch the values passing through
and choose quantization parameters from them. Dynamic quantization uses them for weights only:
MinMaxObserver (one scale for the tensor), PerChannelMinMaxObserver (one per output channel)
and PlaceholderObserver (records the dtype, computes nothing)."""

from __future__ import annotations

import functools
from typing import Any

from ... import dtypes
from ...creation import tensor as make_tensor
from ...dtypes import finfo
from ...grad_mode import no_grad
from ...nn.modules.module import Module
from ...quantized_tensor import (
    per_channel_affine,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qscheme,
)
from ...tensor import Tensor
from ...user_warnings import warn

_SYMMETRIC = (per_tensor_symmetric, per_channel_symmetric)


class _PartialWrapper:
    """`Observer.with_args(...)`: a factory of observers with those arguments, printed as
    PyTorch prints it."""

    def __init__(self, partial: functools.partial) -> None:
        self.p = partial
        self.callable_args: dict[str, Any] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.p(*args, **kwargs)

    def __repr__(self) -> str:
        return repr(self.p) + repr(self.callable_args)

    def with_args(self, **kwargs: Any) -> _PartialWrapper:
        return _PartialWrapper(functools.partial(self.p, **kwargs))


def _with_args(cls: Any, **kwargs: Any) -> _PartialWrapper:
    return _PartialWrapper(functools.partial(cls, **kwargs))


def _quant_range(dtype: Any, reduce_range: bool, quant_min: int | None,
                 quant_max: int | None) -> tuple[int, int]:
    """PyTorch's calculate_qmin_qmax: the integer range an observer maps onto."""
    if quant_min is not None and quant_max is not None:
        if not quant_min <= 0 <= quant_max:
            raise ValueError("Used-specified quantization range must include 0.")
        if quant_min >= quant_max:
            raise ValueError("qmin must be strictly less than qmax for user-specified "
                             "quantization range.")
        return quant_min, quant_max
    if dtype is dtypes.qint8:
        return (-64, 63) if reduce_range else (-128, 127)
    if dtype is dtypes.quint8:
        return (0, 127) if reduce_range else (0, 255)
    if dtype is dtypes.qint32:
        return -(2 ** 31), 2 ** 31 - 1
    return 0, 15


class ObserverBase(Module):
    """An observer: `dtype`, `is_dynamic`, and `with_args` to make a factory."""

    with_args = classmethod(_with_args)

    def __init__(self, dtype: Any, is_dynamic: bool = False) -> None:
        super().__init__()
        self.dtype = dtype
        self.is_dynamic = is_dynamic


class UniformQuantizationObserverBase(ObserverBase):
    """Observers whose parameters map a range [min, max] uniformly onto the integers."""

    def __init__(self, dtype: Any = dtypes.quint8, qscheme: qscheme = per_tensor_affine,
                 reduce_range: bool = False, quant_min: int | None = None,
                 quant_max: int | None = None, factory_kwargs: Any = None,
                 eps: float = finfo(dtypes.float32).eps, is_dynamic: bool = False) -> None:
        super().__init__(dtype, is_dynamic)
        self.qscheme = qscheme
        if reduce_range:
            warn("Please use quant_min and quant_max to specify the range for "
                 "observers." + " " * 21 + "reduce_range will be deprecated in a "
                 "future release of PyTorch.", UserWarning, stacklevel=2)
        self.reduce_range = reduce_range
        self.register_buffer("eps", make_tensor([eps]))
        if qscheme not in (per_tensor_affine, per_tensor_symmetric, per_channel_affine,
                           per_channel_symmetric, per_channel_affine_float_qparams):
            raise AssertionError("Default Observer only works for per_tensor_affine, "
                                 "per_tensor_symmetric, per_channel_affine, "
                                 "per_channel_symmetric and per_channel_float_qparams "
                                 "quantization scheme")
        if dtype not in (dtypes.qint8, dtypes.quint8, dtypes.quint4x2, dtypes.qint32):
            raise AssertionError("Default Observer only works for qint8, quint8 and quint4x2 "
                                 "data type")
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        self.quant_min, self.quant_max = _quant_range(dtype, reduce_range, quant_min,
                                                      quant_max)

    def _calculate_qparams(self, min_val: Tensor, max_val: Tensor) -> tuple[Tensor, Tensor]:
        """PyTorch's formula: symmetric schemes scale max(|min|, |max|) onto half the range
        (zero point 0, or 128 for quint8); affine ones scale [min, max] onto the whole range."""
        if min_val.numel() == 0 or not bool((min_val <= max_val).all()):
            return make_tensor([1.0]), make_tensor([0])
        quant_min, quant_max = self.quant_min, self.quant_max
        min_neg = min_val.clamp(max=0.0)
        max_pos = max_val.clamp(min=0.0)
        zero_point = (min_neg * 0).to(dtypes.int64)
        if self.qscheme in _SYMMETRIC:
            max_pos = (-min_neg).maximum(max_pos)
            scale = (max_pos / (float(quant_max - quant_min) / 2)).maximum(self.eps)
            if self.dtype is dtypes.quint8:
                middle = (quant_min + quant_max) // 2 if self.has_customized_qrange else 128
                zero_point = zero_point + middle
        else:
            scale = ((max_pos - min_neg) / float(quant_max - quant_min)).maximum(self.eps)
            zero_point = quant_min - (min_neg / scale).round().to(dtypes.int32)
            zero_point = zero_point.clamp(quant_min, quant_max)
        if scale.dim() == 0:
            scale = scale.reshape(1)
        if zero_point.dim() == 0:
            zero_point = zero_point.reshape(1)
        return scale, zero_point


class MinMaxObserver(UniformQuantizationObserverBase):
    """Tracks the running min and max of everything it sees; its parameters map that range."""

    min_val: Tensor
    max_val: Tensor

    def __init__(self, dtype: Any = dtypes.quint8, qscheme: qscheme = per_tensor_affine,
                 reduce_range: bool = False, quant_min: int | None = None,
                 quant_max: int | None = None, factory_kwargs: Any = None,
                 eps: float = finfo(dtypes.float32).eps, is_dynamic: bool = False,
                 **kwargs: Any) -> None:
        if qscheme in (per_channel_affine, per_channel_symmetric):
            raise NotImplementedError("MinMaxObserver's qscheme only support "
                                      "torch.per_tensor_symmetric and torch.per_tensor_affine.")
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs,
                         eps, is_dynamic)
        self.register_buffer("min_val", make_tensor(float("inf")))
        self.register_buffer("max_val", make_tensor(float("-inf")))

    def forward(self, x_orig: Tensor) -> Tensor:
        if x_orig.numel() == 0:
            return x_orig
        with no_grad():
            x = x_orig.detach().to(self.min_val.dtype)
            self.min_val = x.min().minimum(self.min_val)
            self.max_val = x.max().maximum(self.max_val)
        return x_orig

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class PerChannelMinMaxObserver(UniformQuantizationObserverBase):
    """The running min and max of each slice along `ch_axis`, one scale each."""

    min_val: Tensor
    max_val: Tensor

    def __init__(self, ch_axis: int = 0, dtype: Any = dtypes.quint8,
                 qscheme: qscheme = per_channel_affine, reduce_range: bool = False,
                 quant_min: int | None = None, quant_max: int | None = None,
                 factory_kwargs: Any = None, eps: float = finfo(dtypes.float32).eps,
                 is_dynamic: bool = False, **kwargs: Any) -> None:
        if qscheme not in (per_channel_affine, per_channel_symmetric,
                           per_channel_affine_float_qparams):
            raise NotImplementedError("PerChannelMinMaxObserver's qscheme only support "
                                      "torch.per_channel_symmetric, torch.per_channel_affine "
                                      "and torch.per_channel_affine_float_qparams.")
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs,
                         eps, is_dynamic)
        self.ch_axis = ch_axis
        self.register_buffer("min_val", make_tensor([]))
        self.register_buffer("max_val", make_tensor([]))

    def forward(self, x_orig: Tensor) -> Tensor:
        if x_orig.numel() == 0:
            return x_orig
        with no_grad():
            x = x_orig.detach().to(self.min_val.dtype).movedim(self.ch_axis, 0).flatten(1)
            low, high = x.min(dim=1).values, x.max(dim=1).values
            if self.min_val.numel() == 0:
                self.min_val, self.max_val = low, high
            else:
                self.min_val = low.minimum(self.min_val)
                self.max_val = high.maximum(self.max_val)
        return x_orig

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class PlaceholderObserver(ObserverBase):
    """Records a dtype (float16, or quint8 for activations quantized at run time) and computes
    nothing."""

    def __init__(self, dtype: Any = dtypes.float32, custom_op_name: str = "",
                 compute_dtype: Any = None, quant_min: int | None = None,
                 quant_max: int | None = None, qscheme: Any = None, eps: Any = None,
                 is_dynamic: bool = False) -> None:
        super().__init__(dtype, is_dynamic)
        self.qscheme = per_tensor_affine if qscheme is None else qscheme
        self.quant_min = quant_min
        self.quant_max = quant_max
        self.eps = eps
        self.custom_op = custom_op_name

    def forward(self, x: Tensor) -> Tensor:
        return x

    def extra_repr(self) -> str:
        return f"dtype={self.dtype}, is_dynamic={self.is_dynamic}"

    def calculate_qparams(self) -> Any:
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")


default_weight_observer = MinMaxObserver.with_args(dtype=dtypes.qint8,
                                                   qscheme=per_tensor_symmetric)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(
    dtype=dtypes.qint8, qscheme=per_channel_symmetric)
default_dynamic_quant_observer = PlaceholderObserver.with_args(
    dtype=dtypes.quint8, quant_min=0, quant_max=255, is_dynamic=True)
default_placeholder_observer = PlaceholderObserver
