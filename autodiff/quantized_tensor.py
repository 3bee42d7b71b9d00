"""Quantized tensors (PyTorch's `torch.qint8`, `quint8`, `qint32`, `quint4x2`): integers that
stand for real numbers, `real = (q - zero_point) * scale`, with one scale and zero point for the
whole tensor (`per_tensor_affine`) or one per slice along an axis (`per_channel_affine`).

A quantized tensor is a `Tensor` whose `_data` is a `QuantizedData`: layout data
(`layout_dispatch.py`) holding the integer representation as a backend array of the
dtype's storage type (int8, uint8, int32) and the quantization parameters. `Function.apply`
hands it every op: ops that only move or copy elements (views, indexing, clone) run on the
integers and keep the parameters, as PyTorch's QuantizedCPU kernels do; every other op is
refused in the words of PyTorch's dispatcher. Nothing here records gradients: quantized tensors
never require them.

Rounding is PyTorch's on x86: `inv_scale = 1 / scale` in float32, `value * inv_scale +
zero_point` rounded half to even (`nearbyint`) and clamped to the dtype's range. The sum is one
fused multiply-add for 8-bit dtypes per tensor (fbgemm's AVX2 kernel) and float32 product then
sum otherwise (ATen's `quantize_val`): the two differ near halfway points.
"""

from __future__ import annotations

import struct
from typing import Any, NoReturn

from . import dtypes
from .grad_mode import no_grad
from .layout_dispatch import LayoutData
from .user_warnings import warn


class qscheme:
    """How a quantized tensor maps its integers to reals (`torch.qscheme`)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


per_tensor_affine = qscheme("per_tensor_affine")
per_channel_affine = qscheme("per_channel_affine")
per_tensor_symmetric = qscheme("per_tensor_symmetric")
per_channel_symmetric = qscheme("per_channel_symmetric")
per_channel_affine_float_qparams = qscheme("per_channel_affine_float_qparams")
QSCHEMES = {scheme.name: scheme for scheme in (
    per_tensor_affine, per_channel_affine, per_tensor_symmetric, per_channel_symmetric,
    per_channel_affine_float_qparams)}

# Ops that only move or copy elements: on a per-tensor quantized tensor they run on its
# integers and keep its scale and zero point (PyTorch has QuantizedCPU kernels for them).
_STRUCTURAL = frozenset({
    "View", "ReshapeAlias", "UnsafeView", "Permute", "Transpose", "T", "Unsqueeze", "Squeeze",
    "SqueezeDim", "SqueezeDims", "Select", "Slice", "Index", "NarrowCopy", "Expand", "Clone",
    "Alias", "Contiguous", "Unbind"})
# Those that keep every element where it is, so a per-channel tensor's axis still holds.
_IN_PLACE_OF_ELEMENTS = frozenset({"Clone", "Alias", "Contiguous"})

_DISPATCH_TAIL = (
    "This could be because the operator doesn't exist for this backend, or was omitted during "
    "the selective/custom build process (if using custom build).")
_CREATION_WARNING = (
    "torch.quantize_per_tensor, torch.quantize_per_channel and other quantized tensor creation "
    "functions that produce tensors with dtype torch.quint8, torch.qint8, and torch.qint32 are "
    "deprecated and will be removed in a future PyTorch release. Please see "
    "https://github.com/pytorch/pytorch/issues/184982 for more information.")


_SMALL_SCALE_THRESHOLD = 6.0999998822808266e-05  # ATen's 6.1e-5f, a float32


class _Warned:
    creation = False


class QuantizedData(LayoutData):
    """int_repr: the integers, a backend array of `dtype.storage_name`; dtype: the quantized
    dtype; scheme: its qscheme; per tensor, scale (a float) and zero_point (an int); per
    channel, scales (float64 Tensor), zero_points (int64 Tensor) and axis."""

    __slots__ = ("axis", "dtype", "int_repr", "scale", "scales", "scheme", "zero_point",
                 "zero_points")
    layout_name = "quantized"

    def __init__(self, int_repr: Any, dtype: dtypes.QuantizedDtype, scheme: qscheme, *,
                 scale: float = 1.0, zero_point: int = 0, scales: Any = None,
                 zero_points: Any = None, axis: int = 0) -> None:
        self.int_repr = int_repr
        self.dtype = dtype
        self.scheme = scheme
        self.scale = scale
        self.zero_point = zero_point
        self.scales = scales
        self.zero_points = zero_points
        self.axis = axis

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.int_repr.shape)

    @property
    def ndim(self) -> int:
        return len(self.int_repr.shape)

    @property
    def per_channel(self) -> bool:
        return self.scales is not None

    def with_int_repr(self, int_repr: Any) -> QuantizedData:
        """The same parameters over other integers."""
        return QuantizedData(int_repr, self.dtype, self.scheme, scale=self.scale,
                             zero_point=self.zero_point, scales=self.scales,
                             zero_points=self.zero_points, axis=self.axis)

    def dispatch(self, op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        name = op._op_name
        if name == "ToCopy":  # to another dtype (or device): PyTorch makes no such tensor
            raise RuntimeError("Creation of quantized tensor requires quantized dtype like "
                               "torch.quint8")
        allowed = _IN_PLACE_OF_ELEMENTS if self.per_channel else _STRUCTURAL
        if name not in allowed:
            _refuse_op(op, args)
        from .tensor import Tensor, _wrap

        plain = tuple(_integers(arg) if isinstance(arg, Tensor) and is_quantized(arg) else arg
                      for arg in args)
        with no_grad():
            result = op.apply(*plain, **kwargs)
        if isinstance(result, tuple):  # unbind
            return tuple(_wrap(self.with_int_repr(part._data), part._backend) for part in result)
        return _wrap(self.with_int_repr(result._data), result._backend)

    def refuse(self, operator: str, tensor: Any) -> NoReturn:
        refuse_operator(operator, "QuantizedCPU")


def refuse_operator(name: str, backend: str) -> NoReturn:
    """PyTorch's dispatcher error for operator `name` with no kernel for `backend`."""
    raise NotImplementedError(f"Could not run '{name}' with arguments from the '{backend}' "
                              f"backend. {_DISPATCH_TAIL}")


def _refuse_op(op: Any, args: tuple[Any, ...]) -> NoReturn:
    from .op_overloads import overload_of

    ctx = op()
    overload = overload_of(ctx, args)
    refuse_operator(overload.name() if overload is not None else f"aten::{ctx.node_name}",
                    "QuantizedCPU")


def is_quantized(tensor: Any) -> bool:
    return type(tensor._data) is QuantizedData


def _integers(tensor: Any) -> Any:
    """The integer representation of quantized `tensor` as a plain Tensor (sharing memory)."""
    from .tensor import _wrap

    return _wrap(tensor._data.int_repr, tensor._backend)


def _float32(value: float) -> float:
    """`value` rounded to the nearest float32 (C's `(float)value`)."""
    try:
        return float(struct.unpack("f", struct.pack("f", value))[0])
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def inverse_scale(scale: float) -> float:
    """fbgemm's `1.0f / scale` in float32 (a double quotient of two float32s, rounded to float32,
    is the float32 quotient)."""
    scale32 = _float32(scale)
    if scale32 == 0.0:
        return float("inf")
    return _float32(1.0 / scale32)


def _warn_creation() -> None:
    if not _Warned.creation:
        _Warned.creation = True
        warn(_CREATION_WARNING, UserWarning, stacklevel=3)


def _check_input(function: str, input: Any, dtype: Any) -> None:
    from .tensor import Tensor

    if not isinstance(dtype, dtypes.QuantizedDtype):
        raise RuntimeError(f"ScalarType {dtypes.SCALAR_TYPE_NAMES[dtype.name]} is not supported "
                           "in new_qtensor.")
    if not isinstance(input, Tensor):
        raise TypeError(f"{function}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dtype is not dtypes.float32:
        raise RuntimeError("Quantize only works on Float Tensor, got "
                           f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}")


def _check_zero_point(function: str, zero_point: int, dtype: dtypes.QuantizedDtype) -> None:
    if zero_point > dtype.quant_max:
        raise RuntimeError(f"{function} zero_point {zero_point} is above upper bound.")
    if zero_point < dtype.quant_min:
        raise RuntimeError(f"{function} zero_point {zero_point} is below lower bound.")


def quantize_per_tensor(input: Any, scale: Any, zero_point: Any, dtype: Any) -> Any:
    """`input` (float32) as a quantized tensor of `dtype`, `q = clamp(round(input / scale) +
    zero_point)`; a list of tensors gives a list."""
    if isinstance(input, (list, tuple)):
        return [quantize_per_tensor(item, scale, zero_point, dtype) for item in input]
    _check_input("quantize_per_tensor", input, dtype)
    scale, zero_point = float(scale), int(zero_point)
    _check_zero_point("quantize_tensor_per_tensor_affine", zero_point, dtype)
    _warn_creation()
    with no_grad():
        integers = _clamp_to(shift_and_round(input.detach(), inverse_scale(scale), zero_point,
                                             fused=dtype.itemsize == 1), dtype)
    return _make(integers, QuantizedData(integers._data, dtype, per_tensor_affine, scale=scale,
                                         zero_point=zero_point))


def choose_qparams(low: float, high: float, quant_min: int, quant_max: int,
                   reduce_range: bool) -> tuple[float, int]:
    """ATen's ChooseQuantizationParams (no sparsity preserving, no power-of-two scale): the
    (scale, zero point) that map [low, high], widened to hold 0, onto [quant_min, quant_max].
    The scale is a double; fbgemm's kernels use it rounded to float32."""
    if low > high:
        raise RuntimeError(f"min should be less than or equal to max, min: {low} max: {high}")
    if reduce_range:
        quant_min, quant_max = quant_min // 2, quant_max // 2
    low, high = min(low, 0.0), max(high, 0.0)
    scale = (high - low) / (quant_max - quant_min)  # in double, as fbgemm
    if _float32(scale) == 0.0 or inverse_scale(scale) == float("inf"):
        scale = 0.1
    if scale < _SMALL_SCALE_THRESHOLD:
        original = _float32(scale)
        scale = _SMALL_SCALE_THRESHOLD
        if low == 0.0:
            high = _float32(_SMALL_SCALE_THRESHOLD * (quant_max - quant_min))
        elif high == 0.0:
            low = _float32(-_SMALL_SCALE_THRESHOLD * (quant_max - quant_min))
        else:
            amplifier = _float32(_SMALL_SCALE_THRESHOLD / original)
            low, high = _float32(low * amplifier), _float32(high * amplifier)
    from_min = quant_min - low / scale
    from_max = quant_max - high / scale
    # fbgemm's choice between the two (its "error" terms, as written there)
    from_min_error = abs(quant_min) - abs(low / scale)
    from_max_error = abs(quant_max) - abs(high / scale)
    initial = from_min if from_min_error < from_max_error else from_max
    if initial < quant_min:
        zero_point = quant_min
    elif initial > quant_max:
        zero_point = quant_max
    else:
        zero_point = round(initial)  # half to even, as nearbyint
    return scale, int(zero_point)


def quantize_per_tensor_dynamic(input: Any, dtype: Any, reduce_range: bool) -> Any:
    """`input` quantized per tensor with the scale and zero point its own min and max give
    (quint8 or qint8; `reduce_range` halves the integer range)."""
    if dtype is not dtypes.quint8 and dtype is not dtypes.qint8:
        raise RuntimeError("Expected dtype to be quint8 or qint8, but got: "
                           f"{dtypes.SCALAR_TYPE_NAMES[dtype.name]}")
    _check_input("quantize_per_tensor_dynamic", input, dtype)
    with no_grad():
        low = input.min().item() if input.numel() else 0.0
        high = input.max().item() if input.numel() else 0.0
    scale, zero_point = choose_qparams(low, high, dtype.quant_min, dtype.quant_max,
                                       reduce_range)
    return quantize_per_tensor(input, scale, zero_point, dtype)


def quantize_per_channel(input: Any, scales: Any, zero_points: Any, axis: int,
                         dtype: Any) -> Any:
    """`input` (float32) quantized with scale `scales[i]` and zero point `zero_points[i]` for
    slice i along `axis`."""
    from .creation import tensor as make_tensor

    _check_input("quantize_per_channel", input, dtype)
    ndim = input.dim()
    if not 0 <= axis < max(ndim, 1):
        raise RuntimeError(f"Channel axis {axis} is out of range for a tensor with {ndim} "
                           "dimensions")
    with no_grad():
        scales = scales.detach().to(dtypes.float64)
        zero_points = zero_points.detach().to(dtypes.int64)
        channels = input.shape[axis]
        if scales.numel() != channels:
            raise RuntimeError("length of scales must equal to channel, expected "
                               f"{channels} got, {scales.numel()}")
        if zero_points.numel() != channels:
            raise RuntimeError("length of zero_points must equal to channel expected "
                               f"{channels} got, {zero_points.numel()}")
        for point in zero_points.tolist():
            _check_zero_point("quantize_tensor_per_channel_affine", point, dtype)
        _warn_creation()
        along = [1] * ndim
        along[axis] = channels
        inverse = make_tensor([inverse_scale(s) for s in scales.tolist()],
                              dtype=dtypes.float32, device=input.device).reshape(along)
        points = zero_points.to(dtypes.float32).reshape(along)
        integers = _clamp_to(shift_and_round(input.detach(), inverse, points, fused=False),
                             dtype)
    return _make(integers, QuantizedData(integers._data, dtype, per_channel_affine,
                                         scales=scales, zero_points=zero_points, axis=axis))


def shift_and_round(values: Any, inverse: Any, zero_point: Any, *, fused: bool) -> Any:
    """`round(values * inverse + zero_point)`, half to even, of float32 `values`: one float32
    rounding of the whole sum when `fused` (fbgemm's 8-bit kernels use a fused multiply-add,
    computed here in float64, where the product is exact), else float32 product then sum (ATen's
    `quantize_val`)."""
    if fused:
        return (values.to(dtypes.float64) * inverse + zero_point).to(dtypes.float32).round()
    return (values * inverse + zero_point).round()


def _clamp_to(values: Any, dtype: dtypes.QuantizedDtype) -> Any:
    """Rounded reals clamped to the dtype's range (in float64, which holds every int32) and
    stored as its integers."""
    wide = values.to(dtypes.float64).clamp(dtype.quant_min, dtype.quant_max)
    return wide.to(dtypes.BY_NAME[dtype.storage_name])


def _make(integers: Any, data: QuantizedData) -> Any:
    from .tensor import _wrap

    return _wrap(data, integers._backend)


def make_quantized(int_repr: Any, dtype: dtypes.QuantizedDtype, *, scale: float = 1.0,
                   zero_point: int = 0, scales: Any = None, zero_points: Any = None,
                   axis: int = 0) -> Any:
    """A quantized tensor over the integers of Tensor `int_repr` (loading a checkpoint)."""
    scheme = per_tensor_affine if scales is None else per_channel_affine
    return _make(int_repr, QuantizedData(
        int_repr.to(dtypes.BY_NAME[dtype.storage_name])._data, dtype, scheme, scale=scale,
        zero_point=zero_point, scales=scales, zero_points=zero_points, axis=axis))


def dequantize(tensor: Any) -> Any:
    """The reals a quantized tensor stands for, float32, `(q - zero_point) * scale`; any other
    tensor is returned as it is. A list of tensors gives a list."""
    if isinstance(tensor, (list, tuple)):
        return [dequantize(item) for item in tensor]
    if not isinstance(getattr(tensor, "_data", None), QuantizedData):
        return tensor
    data: QuantizedData = tensor._data
    with no_grad():
        values = _integers(tensor).to(dtypes.float32)
        if not data.per_channel:
            # fbgemm: scale * float(q - zero_point), one float32 rounding
            return (values - float(data.zero_point)) * _float32(data.scale)
        along = [1] * data.ndim
        along[data.axis] = data.scales.numel()
        # ATen's per-channel kernel: (q - zero_point) * scale in float64, then float32
        shifted = values.to(dtypes.float64) - data.zero_points.to(dtypes.float64).reshape(along)
        return (shifted * data.scales.reshape(along)).to(dtypes.float32)


def quantized_equal(input: Any, other: Any) -> bool:
    """`torch.equal` of two quantized tensors: the same dtype, scheme, parameters, shape and
    integers."""
    from .ops.comparison import equal

    a, b = input._data, other._data
    if (a.dtype, a.scheme, a.shape) != (b.dtype, b.scheme, b.shape):
        return False
    if a.per_channel:
        if a.axis != b.axis or not (equal(a.scales, b.scales)
                                    and equal(a.zero_points, b.zero_points)):
            return False
    elif (a.scale, a.zero_point) != (b.scale, b.zero_point):
        return False
    return bool(equal(_integers(input), _integers(other)))


def _quantized(tensor: Any, operator: str) -> QuantizedData:
    if not is_quantized(tensor):
        refuse_operator(operator, "CUDA" if tensor.device.type == "cuda" else "CPU")
    return tensor._data


def _scheme_check(condition: bool, expected: str) -> None:
    if not condition:
        raise RuntimeError(f"Expected {expected} to be true, but got false.  (Could this error "
                           "message be improved?  If so, please report an enhancement request "
                           "to PyTorch.)")


def int_repr(tensor: Any) -> Any:
    """The integers of a quantized tensor (int8, uint8 or int32), a copy."""
    _quantized(tensor, "aten::int_repr")
    return _integers(tensor).clone()


def q_scale(tensor: Any) -> float:
    data = _quantized(tensor, "aten::q_scale")
    _scheme_check(not data.per_channel, "quantizer->qscheme() == kPerTensorAffine")
    return data.scale


def q_zero_point(tensor: Any) -> int:
    data = _quantized(tensor, "aten::q_zero_point")
    _scheme_check(not data.per_channel, "quantizer->qscheme() == kPerTensorAffine")
    return data.zero_point


def _per_channel(tensor: Any, operator: str) -> QuantizedData:
    data = _quantized(tensor, operator)
    _scheme_check(data.per_channel, "quantizer->qscheme() == kPerChannelAffine || "
                  "quantizer->qscheme() == kPerChannelAffineFloatQParams")
    return data


def q_per_channel_scales(tensor: Any) -> Any:
    return _per_channel(tensor, "aten::q_per_channel_scales").scales.clone()


def q_per_channel_zero_points(tensor: Any) -> Any:
    return _per_channel(tensor, "aten::q_per_channel_zero_points").zero_points.clone()


def q_per_channel_axis(tensor: Any) -> int:
    return _per_channel(tensor, "aten::q_per_channel_axis").axis


def get_qscheme(tensor: Any) -> qscheme:
    return _quantized(tensor, "aten::qscheme").scheme
