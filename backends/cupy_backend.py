"""The CuPy backend: the generic backend on array-api-compat's CuPy namespace, plus what CuPy does
its own way: scatter-add, a generator per device, host transfer, the memory pool, the current
device, and the fused kernels of `kernels.py` compiled with `cupy.fuse`.

Imported only by `backends.get_backend` (and `autodiff.cuda` through it), so a CPU-only install
never imports CuPy. Works with any CuPy 13/14 wheel: it imports `cupy`, never a wheel name.

Devices. CuPy launches kernels and allocates on the *current* device, so every call for cuda:N
must run with device N current. On a machine with one GPU the current device is always 0 and the
backend's functions are bound straight from CuPy (no cost per call). With several GPUs every
method is wrapped in a guard that compares the current device (one `cudaGetDevice`, no kernel)
and switches only when it differs.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import array_api_compat.cupy as compat_xp
import cupy
import cupyx

from . import kernels
from .base import Array, Backend, Shape
from .device import Device


# ----------------------------------------------------------------------------- the runtime
def cuda_device_count() -> int:
    """CUDA devices the runtime sees. Raises CuPy's CUDARuntimeError when there is no usable
    driver or no device (`backends` turns that into a message naming the fix)."""
    return int(cupy.cuda.runtime.getDeviceCount())


def current_device() -> int:
    return int(cupy.cuda.runtime.getDevice())


def set_device(index: int) -> None:
    cupy.cuda.runtime.setDevice(index)


def device_name(index: int) -> str:
    name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


# ----------------------------------------------------------------------------- fused kernels
class _Fused:
    """A kernels.py function compiled by `cupy.fuse` into one kernel (an elementwise one, or an
    elementwise prelude fused into a reduction).

    Should CuPy fail to compile it (an untested CuPy version), the same Python runs unfused on
    CuPy arrays, after one warning, so results stay right and only speed suffers.
    """

    def __init__(self, name: str, function: Callable[..., Any]) -> None:
        self.name = name
        self.function = function
        self.fused: Any = cupy.fuse(kernel_name=name)(function)

    def __call__(self, *args: Any) -> Any:
        fused = self.fused
        if fused is None:
            return self.function(*args)
        try:
            return fused(*args)
        except Exception as error:
            result = self.function(*args)  # a user error raises here, as it would unfused
            self.fused = None
            warnings.warn(
                f"autodiff: cupy.fuse could not compile kernel '{self.name}' "
                f"({type(error).__name__}: {error}); running it unfused",
                RuntimeWarning, stacklevel=2,
            )
            return result


def _sigmoid(x: Array) -> Array:
    return kernels.sigmoid(cupy, x)


def _softplus(x: Array) -> Array:
    return kernels.softplus(cupy, x)


def _bce_with_logits(z: Array, y: Array, weight: Array | None,
                     pos_weight: Array | None) -> Array:
    return kernels.bce_with_logits(cupy, z, y, weight, pos_weight)


def _bce_with_logits_backward(grad: Array, z: Array, y: Array, weight: Array | None,
                              pos_weight: Array | None) -> Array:
    return kernels.bce_with_logits_backward(cupy, grad, z, y, weight, pos_weight)


def _log_softmax_finish(x: Array, peak: Array, total: Array) -> Array:
    return kernels.log_softmax_finish(cupy, x, peak, total)


def _log_softmax_backward_finish(grad: Array, output: Array, grad_sum: Array) -> Array:
    return kernels.log_softmax_backward_finish(cupy, grad, output, grad_sum)


# Fusion caches one kernel per argument dtypes/ndims (None-ness included), and CuPy compiles each
# for every device it runs on, so one object per kernel serves all devices.
_SIGMOID = _Fused("sigmoid", _sigmoid)
_SOFTPLUS = _Fused("softplus", _softplus)
_BCE = _Fused("bce_with_logits", _bce_with_logits)
_BCE_BACKWARD = _Fused("bce_with_logits_backward", _bce_with_logits_backward)
_LOG_SOFTMAX_FINISH = _Fused("log_softmax_finish", _log_softmax_finish)
_LOG_SOFTMAX_BACKWARD_FINISH = _Fused("log_softmax_backward_finish",
                                      _log_softmax_backward_finish)


@functools.cache
def _log_softmax_sum(axis: int) -> _Fused:
    """sum(exp(x - peak)) along `axis` as one reduction kernel (the axis is part of the kernel,
    so there is one per axis)."""
    def log_softmax_sum(x: Array, peak: Array) -> Array:
        return kernels.log_softmax_sum(cupy, x, peak, axis)

    return _Fused("log_softmax_sum", log_softmax_sum)


@functools.cache
def _adam_step(l2: bool, decay: bool, lerp_from_start: bool) -> _Fused:
    """The Adam update as one in-place kernel; the flags pick its variant at trace time."""
    def adam_step(param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array,
                  *scalars: float) -> None:
        kernels.adam_step(cupy, param, grad, exp_avg, exp_avg_sq, *scalars, l2=l2, decay=decay,
                          lerp_from_start=lerp_from_start)

    return _Fused("adam_step", adam_step)


# cudaMemoryTypeHost in CUDA's cudaMemoryType enum: host memory the driver has page-locked.
_CUDA_MEMORY_TYPE_HOST = 1


# ----------------------------------------------------------------------------- the backend
# Methods that touch no device (pure Python on dtypes): never wrapped in the device guard.
_DEVICE_FREE = frozenset({"native_dtype", "dtype_name"})


class CupyBackend(Backend):
    name = "cupy"

    def __init__(self, index: int) -> None:
        self._cuda_device = cupy.cuda.Device(index)
        with self._cuda_device:
            super().__init__(compat_xp, Device("cuda", index), native_device=self._cuda_device)
        # As in the NumPy backend: CuPy's own functions take the arguments the tape passes and
        # skip array-api-compat's wrapper frame.
        self.matmul = cupy.matmul
        self.permute_dims = cupy.transpose
        self.zeros_like = cupy.zeros_like
        self.ones_like = cupy.ones_like
        if cuda_device_count() > 1:
            self._guard_methods(index)

    def _guard_methods(self, index: int) -> None:
        """Wrap every method so it runs with this backend's device current."""
        get_device = cupy.cuda.runtime.getDevice
        device = self._cuda_device

        def guard(function: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(function)
            def on_device(*args: Any, **kwargs: Any) -> Any:
                if get_device() == index:
                    return function(*args, **kwargs)
                with device:
                    return function(*args, **kwargs)

            return on_device

        for name in dir(self):
            if name.startswith("_") or name in _DEVICE_FREE:
                continue
            attribute = getattr(self, name)
            if callable(attribute) and not isinstance(attribute, type):
                setattr(self, name, guard(attribute))

    # ----------------------------------------------------------------------------- creation
    # CuPy's own functions allocate on the current device (array-api-compat's ignore `device`).
    def asarray(self, obj: Any, dtype: str | None = None, copy: bool | None = None) -> Array:
        native = None if dtype is None else self._native_dtypes[dtype]
        if copy:
            return cupy.array(obj, dtype=native, copy=True)
        return cupy.asarray(obj, dtype=native)

    def zeros(self, shape: Shape, dtype: str) -> Array:
        return cupy.zeros(shape, self._native_dtypes[dtype])

    def ones(self, shape: Shape, dtype: str) -> Array:
        return cupy.ones(shape, self._native_dtypes[dtype])

    def full(self, shape: Shape, fill_value: Any, dtype: str) -> Array:
        return cupy.full(shape, fill_value, self._native_dtypes[dtype])

    def empty(self, shape: Shape, dtype: str) -> Array:
        return cupy.empty(shape, self._native_dtypes[dtype])

    def astype(self, array: Array, dtype: str, copy: bool = False) -> Array:
        return array.astype(self._native_dtypes[dtype], copy=copy)

    # ----------------------------------------------------------------------------- random
    def seed_generator(self, seed: int) -> None:
        with self._cuda_device:  # the generator's state lives on this device
            self._generator = cupy.random.default_rng(seed)

    def rand(self, shape: Shape, dtype: str) -> Array:
        return self._generator.random(shape, dtype=self._float_dtype(dtype)).astype(
            self._native_dtypes[dtype], copy=False)

    def randn(self, shape: Shape, dtype: str) -> Array:
        return self._generator.standard_normal(shape, dtype=self._float_dtype(dtype)).astype(
            self._native_dtypes[dtype], copy=False)

    def randint(self, low: int, high: int, shape: Shape, dtype: str) -> Array:
        return self._generator.integers(low, high, shape, dtype=self._native_dtypes[dtype])

    # CuPy's Generator has no public state API. Its whole state is the bit generator's block of
    # cuRAND states, one device array: a copy of it is an exact snapshot, and copying it back
    # (in place: the generator keeps its pointer) restores it.
    def get_rng_state(self) -> Any:
        with self._cuda_device:
            return self._generator.bit_generator._state.copy()

    def set_rng_state(self, state: Any) -> None:
        with self._cuda_device:
            self._generator.bit_generator._state[...] = state

    def _float_dtype(self, dtype: str) -> Any:
        # CuPy's generator draws float32 and float64; float16 is drawn as float32 and cast.
        return cupy.float32 if dtype in ("float16", "float32") else cupy.float64

    # ----------------------------------------------------------------------------- indexing
    def index_add(self, target: Array, key: Any, values: Array) -> Array:
        cupyx.scatter_add(target, key, values)  # atomics: repeated indices accumulate
        return target

    # ----------------------------------------------------------------------------- host, devices
    def to_numpy(self, array: Array) -> Any:
        return cupy.asnumpy(array)

    def from_numpy(self, array: Any) -> Array:
        return cupy.asarray(array)

    def tolist(self, array: Array) -> Any:
        return cupy.asnumpy(array).tolist()

    def item(self, array: Array) -> Any:
        return array.item()

    def transfer(self, array: Array, source: Backend) -> Array:
        if isinstance(source, CupyBackend):
            # ndarray.copy() copies onto the current device (this one): peer to peer, no host.
            with self._cuda_device:
                return array.copy()
        return cupy.asarray(source.to_numpy(array))

    def is_exclusive(self, array: Array) -> bool:
        # A fresh result owns its buffer; views (reshape, broadcast_to, slices) have a base.
        return array.base is None and array.flags.c_contiguous

    def synchronize(self) -> None:
        self._cuda_device.synchronize()

    def pinned_host_copy(self, host_array: Any) -> Any:
        with self._cuda_device:
            pinned = cupyx.empty_pinned(host_array.shape, host_array.dtype)
        pinned[...] = host_array
        return pinned

    def is_pinned_host(self, host_array: Any) -> bool:
        if host_array.size == 0:
            return False
        attributes = cupy.cuda.runtime.pointerGetAttributes(host_array.ctypes.data)
        return bool(attributes.type == _CUDA_MEMORY_TYPE_HOST)

    def empty_cache(self) -> None:
        """Give this device's cached, unused memory-pool blocks back to the driver."""
        with self._cuda_device:
            cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()

    def memory_allocated(self) -> int:
        """Bytes held by live arrays on this device (the memory pool's used bytes)."""
        with self._cuda_device:
            return int(cupy.get_default_memory_pool().used_bytes())

    # ----------------------------------------------------------------------------- fused kernels
    def sigmoid(self, x: Array) -> Array:
        return _SIGMOID(x)

    def softplus(self, x: Array) -> Array:
        return _SOFTPLUS(x)

    def bce_with_logits(self, z: Array, y: Array, weight: Array | None,
                        pos_weight: Array | None) -> Array:
        return _BCE(z, y, weight, pos_weight)

    def bce_with_logits_backward(self, grad: Array, z: Array, y: Array, weight: Array | None,
                                 pos_weight: Array | None) -> Array:
        return _BCE_BACKWARD(grad, z, y, weight, pos_weight)

    def log_softmax(self, x: Array, axis: int) -> Array:
        if x.ndim == 0 or x.size == 0:
            return kernels.log_softmax(cupy, x, axis)
        axis %= x.ndim
        # Three launches: the max, exp-and-sum fused into one reduction, the elementwise rest.
        peak = cupy.max(x, axis=axis, keepdims=True)
        total = cupy.expand_dims(_log_softmax_sum(axis)(x, peak), axis)
        return _LOG_SOFTMAX_FINISH(x, peak, total)

    def log_softmax_backward(self, grad: Array, output: Array, axis: int) -> Array:
        grad_sum = cupy.sum(grad, axis=axis, keepdims=True)
        return _LOG_SOFTMAX_BACKWARD_FINISH(grad, output, grad_sum)

    def adam_update(self, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, *,
                    lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                    step: int, decoupled: bool) -> None:
        scalars, flags = kernels.adam_scalars(lr=lr, beta1=beta1, beta2=beta2,
                                              weight_decay=weight_decay, step=step,
                                              decoupled=decoupled)
        _adam_step(flags["l2"], flags["decay"], flags["lerp_from_start"])(
            param, grad, exp_avg, exp_avg_sq, eps, *scalars)
