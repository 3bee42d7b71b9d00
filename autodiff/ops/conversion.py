"""Copies: clone, and `to` (PyTorch's ToCopy), which converts the dtype and/or moves to another
device; the gradient goes back to the source's dtype and device."""

from __future__ import annotations

from typing import Any

import backends
from backends import Device, get_backend, parse_device

from .. import dtypes, python_dispatch
from ..function import Function
from ..jvp_rules import auto_linear
from ..op_overloads import aten
from ..tensor import Tensor
from ..user_warnings import warn
from ._checks import invalid_arguments, require_tensors
from .memory_formats import ToCopyLaidOut, laid_out, memory_order
from .sparse_copies import SparseClone, SparseToCopy


class Clone(Function):
    node_name = "CloneBackward0"
    sparse_form = SparseClone
    compressed_form = SparseClone

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        copy = backend.asarray(a, copy=True)
        if 0 in a.shape:  # PyTorch's clone of a tensor without elements keeps its strides
            return backend.restrided(copy, a.shape, backend.strides(a))
        return copy

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy; its layout is input's (preserve_format) or the one `memory_format` names."""
    memory_order("clone", memory_format, input.dim())
    copy = laid_out(input, memory_format)
    return Clone.apply(input) if copy is input else copy


def detach(input: Tensor) -> Tensor:
    """`input.detach()`: the same data, outside the graph."""
    require_tensors("detach", ("input", input))
    return input.detach()


def detach_(input: Tensor) -> Tensor:
    """`input.detach_()`: take input itself out of the graph."""
    require_tensors("detach_", ("input", input))
    return input.detach_()


class ToCopy(Function):
    """A copy to another dtype and/or device; the gradient goes back to the source's."""

    node_name = "ToCopyBackward0"
    sparse_form = SparseToCopy
    compressed_form = SparseToCopy

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dtype: str, target: Any) -> Any:
        source = ctx.backend
        ctx.source_device = source.device
        ctx.source_dtype = source.dtype_name(a)
        if target is not source:
            a = target.transfer(a, source)
            ctx.backend = target  # the output lives on the target device
        if target.dtype_name(a) != dtype:
            if target.is_complex(a.dtype) and not dtype.startswith("complex"):
                warn("Casting complex values to real discards the imaginary part",
                     UserWarning, stacklevel=4)
                a = target.real(a)
            return target.astype(a, dtype, copy=False)
        # Same device and dtype only with to(copy=True): a transfer above already copied.
        return target.asarray(a, copy=True) if target is source else a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        if grad.is_complex() and not ctx.source_dtype.startswith("complex"):
            grad = grad.real  # a real source takes the real part, as in PyTorch
        return grad.to(ctx.source_device, dtypes.BY_NAME[ctx.source_dtype])


_TO_KEYWORDS = frozenset({"device", "dtype", "copy", "non_blocking", "memory_format"})
# PyTorch's overloads of Tensor.to and Module.to, as its parser lists them in a refusal
TO_SIGNATURES = (
    "torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, "
    "bool copy = False, *, torch.memory_format memory_format = None",
    "torch.dtype dtype, bool non_blocking = False, bool copy = False, *, "
    "torch.memory_format memory_format = None",
    "Tensor tensor, bool non_blocking = False, bool copy = False, *, "
    "torch.memory_format memory_format = None",
)


def to(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Tensor.to(dtype) / to(device, dtype=None) / to(other) with copy=False like PyTorch."""
    if kwargs.keys() - _TO_KEYWORDS:
        raise invalid_arguments("to", args, kwargs, TO_SIGNATURES)
    device: Any = kwargs.pop("device", None)
    dtype: Any = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    non_blocking = kwargs.pop("non_blocking", False)
    memory_format = kwargs.pop("memory_format", None)
    memory_order("to", memory_format, input.dim())
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, (dtypes.dtype, type)) and arg is not str:
            dtype = arg
        else:
            device = arg
    backend = input._backend if device is None else get_backend(_full_device(device))
    kind = input.dtype if dtype is None else dtypes.to_dtype(dtype)
    if backend is input._backend and kind is input.dtype and not copy:
        return laid_out(input, memory_format, ToCopyLaidOut)
    if memory_format is not None:
        return laid_out(to(input, backend.device, kind, copy=copy), memory_format, ToCopyLaidOut)
    if input._python_dispatch:
        arguments = python_dispatch.to_copy_arguments(
            None if device is None else backend.device, dtype and kind, non_blocking,
            input.dtype)
        return python_dispatch.dispatch(aten._to_copy.default, [input], (input,), arguments)
    if input._requires_grad and not (kind.is_floating_point or kind.is_complex):
        out = ToCopy.apply(input.detach(), dtype=kind.name, target=backend)
        return out
    return ToCopy.apply(input, dtype=kind.name, target=backend)


def _full_device(device: Any) -> Device:
    parsed = parse_device(device)
    if parsed.type == "cuda" and parsed.index is None:
        return get_backend(parsed).device
    return parsed


# ----------------------------------------------------------------------------- where memory lives
class PinMemory(Function):
    """A copy of a CPU tensor in page-locked host memory."""

    node_name = "PinMemoryBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return backends.pinned(a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


def pin_memory(input: Tensor) -> Tensor:
    """A copy of a CPU tensor in page-locked memory (which CUDA copies from faster); needs a
    GPU, as PyTorch's does."""
    if not backends.cuda_device_count():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    device = input._backend.device
    if device.type != "cpu":
        legacy = dtypes.LEGACY_NAMES[input.dtype.name]
        raise RuntimeError(f"cannot pin 'torch.{device.type}.{legacy}' only dense CPU tensors "
                           "can be pinned")
    if is_pinned(input):
        return input
    return PinMemory.apply(input)


def is_pinned(input: Tensor) -> bool:
    return input._backend.device.type == "cpu" and backends.is_pinned(input._data)


def share_memory_(input: Tensor) -> Tensor:
    """Move the values into memory other processes share (for fork-started workers: Hogwild
    training, DataLoader workers); a no-op on CUDA, whose memory is shared through IPC."""
    input._data = input._backend.share_memory(input._data)
    return input


def is_shared(input: Tensor) -> bool:
    return input._backend.is_shared(input._data)


_LEGACY_DTYPES = {legacy: name for name, legacy in dtypes.LEGACY_NAMES.items()}


def to_type(input: Tensor, kind: Any) -> Tensor:
    """Tensor.type(dtype or legacy name): a dtype, or 'torch.FloatTensor' (the CPU) and
    'torch.cuda.FloatTensor' (CUDA); the tensor itself when it is already of that type."""
    if isinstance(kind, str):
        parts = kind.split(".")
        on_cuda = len(parts) == 3 and parts[1] == "cuda"
        if parts[0] != "torch" or len(parts) not in (2, 3) or (len(parts) == 3 and not on_cuda) \
                or parts[-1] not in _LEGACY_DTYPES:
            raise ValueError(f"invalid type: '{kind}'")
        dtype = dtypes.BY_NAME[_LEGACY_DTYPES[parts[-1]]]
        device = "cuda" if on_cuda else "cpu"
        if input.dtype is dtype and input.device.type == device:
            return input
        return to(input, device, dtype)
    if not isinstance(kind, dtypes.dtype):
        raise TypeError(f"type(): argument 'dtype' must be torch.dtype, not "
                        f"{type(kind).__name__}")
    return to(input, kind)
