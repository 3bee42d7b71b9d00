"""DLPack: which device a producer's memory is on, and legacy capsules read without copying.

Arrays that implement `__dlpack__` are imported by each backend's own `from_dlpack`
(`Backend.from_dlpack`). What is left here is what no array library does for us:
    - naming our device for a producer's `__dlpack_device__()` answer (array-api-strict's arrays
      answer "CPU" whatever device they simulate, so they are recognised by type first);
    - a bare legacy capsule (`torch.utils.dlpack.to_dlpack`, `cupy.ndarray.toDlpack`): NumPy's
      `from_dlpack` takes only objects with `__dlpack__`, and marks what it reads from an
      unversioned capsule read-only. Here the capsule's DLManagedTensor is read with ctypes and
      its memory wrapped, writable, in a NumPy array that calls the producer's deleter when it
      dies, as the DLPack specification asks of a consumer.
"""

from __future__ import annotations

import ctypes
import enum
import sys
import weakref
from typing import Any

import numpy as np

from .device import Device


class DLDeviceType(enum.IntEnum):
    """DLPack's device types (`torch.utils.dlpack.DLDeviceType`)."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


# Host memory (pinned host memory included) is the CPU device's; device memory a CUDA device's.
_HOST_TYPES = {DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost}
_CUDA_TYPES = {DLDeviceType.kDLCUDA, DLDeviceType.kDLCUDAManaged}


def device_type(code: int) -> DLDeviceType | int:
    """`code` as a DLDeviceType member where it is one (an unknown code stays an int)."""
    try:
        return DLDeviceType(code)
    except ValueError:
        return code


def device_for(code: int, index: int) -> Device:
    """Our device for DLPack's (device_type, device_id)."""
    if code in _HOST_TYPES:
        return Device("cpu")
    if code in _CUDA_TYPES:
        return Device("cuda", int(index))
    raise BufferError(f"Unsupported device in DLTensor: {device_type(code)!r} (device {index}); "
                      "autodiff reads CPU and CUDA memory")


def producer_device(obj: Any) -> Device:
    """The device whose memory `obj` (an object with `__dlpack__`) holds."""
    if "array_api_strict" in sys.modules:  # else no array-api-strict array exists
        from . import strict_backend

        if strict_backend.is_strict_array(obj):
            return strict_backend.device_of(obj)
    code, index = obj.__dlpack_device__()
    return device_for(int(code), int(index))


# ----------------------------------------------------------------------------- legacy capsules
class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
        ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64),
    ]


class _DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p)]


class _DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32),
                ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p),
                ("flags", ctypes.c_uint64), ("dl_tensor", _DLTensor)]


_LEGACY, _VERSIONED = b"dltensor", b"dltensor_versioned"
_USED = {_LEGACY: b"used_dltensor", _VERSIONED: b"used_dltensor_versioned"}
_DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_INVALID_CAPSULE = (
    "from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed only "
    "once, so you might have already constructed a tensor from it once."
)
# DLPack's type codes: kDLInt 0, kDLUInt 1, kDLFloat 2, kDLBool 6 (bfloat16 4, complex 5 have no
# NumPy type; the caller refuses what autodiff has no dtype for).
_TYPE_LETTERS = {0: "i", 1: "u", 2: "f", 6: "b"}

_capsule_api = ctypes.pythonapi
_capsule_api.PyCapsule_IsValid.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_api.PyCapsule_IsValid.restype = ctypes.c_int
_capsule_api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_api.PyCapsule_GetPointer.restype = ctypes.c_void_p
_capsule_api.PyCapsule_SetName.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_api.PyCapsule_SetName.restype = ctypes.c_int


def is_capsule(obj: Any) -> bool:
    return type(obj).__name__ == "PyCapsule" and type(obj).__module__ == "builtins"


def _managed(capsule: Any) -> tuple[bytes, Any]:
    """The capsule's name and its DLManagedTensor(Versioned), or RuntimeError if consumed."""
    for name, layout in ((_LEGACY, _DLManagedTensor), (_VERSIONED, _DLManagedTensorVersioned)):
        if _capsule_api.PyCapsule_IsValid(capsule, name):
            address = _capsule_api.PyCapsule_GetPointer(capsule, name)
            return name, layout.from_address(address)
    raise RuntimeError(_INVALID_CAPSULE)


def capsule_device(capsule: Any) -> Device:
    """The device of an unconsumed DLPack capsule's memory."""
    _, managed = _managed(capsule)
    device = managed.dl_tensor.device
    return device_for(device.device_type, device.device_id)


class _CapsuleMemory:
    """The memory of a consumed capsule, seen by NumPy through `__array_interface__`; the
    producer's deleter runs when the last array over it is gone."""

    def __init__(self, interface: dict[str, Any], deleter: int, managed: int) -> None:
        self.__array_interface__ = interface
        if deleter:
            weakref.finalize(self, _DELETER(deleter), managed)


def capsule_to_numpy(capsule: Any) -> Any:
    """A NumPy array over a CPU capsule's memory (no copy); the capsule is consumed."""
    name, managed = _managed(capsule)
    tensor = managed.dl_tensor
    if tensor.device.device_type not in _HOST_TYPES:
        raise BufferError("the DLPack capsule does not hold host memory")
    dtype = tensor.dtype
    letter = _TYPE_LETTERS.get(dtype.code)
    if letter is None or dtype.lanes != 1 or dtype.bits % 8:
        raise BufferError(f"Unsupported DLPack dtype (code {dtype.code}, {dtype.bits} bits, "
                          f"{dtype.lanes} lanes)")
    native = np.dtype(f"{letter}{dtype.bits // 8}")
    shape = tuple(int(tensor.shape[i]) for i in range(tensor.ndim))
    strides = None if not tensor.strides else tuple(
        int(tensor.strides[i]) * native.itemsize for i in range(tensor.ndim))
    read_only = name == _VERSIONED and bool(managed.flags & 1)
    address = ctypes.addressof(managed)
    _capsule_api.PyCapsule_SetName(capsule, _USED[name])  # ours now: the deleter is ours to run
    if 0 in shape or not tensor.data:
        if managed.deleter:
            _DELETER(managed.deleter)(address)
        return np.empty(shape, native)
    memory = _CapsuleMemory({
        "shape": shape, "typestr": native.str, "strides": strides, "version": 3,
        "data": ((tensor.data or 0) + tensor.byte_offset, read_only),
    }, managed.deleter or 0, address)
    return np.asarray(memory)
