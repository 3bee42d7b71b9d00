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
import numpy

from . import kernels, settings
from .base import Array, Backend, Shape, window_positions
from .device import Device
from .host_random import check_state_size
from .variates import SAMPLERS


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


def set_tf32_matmul(allowed: bool) -> None:
    """Let cuBLAS compute float32 products in TensorFloat-32 (GPUs of compute capability 8.0
    and up; CuPy warns and keeps float32 elsewhere)."""
    from cupy._core import _routines_linalg as linalg

    linalg.set_compute_type(numpy.float32, linalg.COMPUTE_TYPE_TF32 if allowed
                            else linalg.COMPUTE_TYPE_DEFAULT)


def pinned_copy(array: Any) -> Any:
    """A copy of a NumPy array in page-locked host memory (a NumPy array over it)."""
    host = cupyx.empty_pinned(array.shape, dtype=array.dtype)
    numpy.copyto(host, array)
    return host


def is_pinned(array: Any) -> bool:
    """Whether a NumPy array's memory is page-locked (registered with the CUDA runtime)."""
    if array.size == 0:
        return False
    try:
        attributes = cupy.cuda.runtime.pointerGetAttributes(array.ctypes.data)
    except cupy.cuda.runtime.CUDARuntimeError:
        return False
    return int(attributes.type) == cupy.cuda.runtime.memoryTypeHost


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


class _Compiled:
    """A `@kernel` of kernels.py compiled for CuPy: one `_Fused` per combination of its static
    keyword options (which the kernel reads at trace time), made on first use.

    Fusion caches one kernel per argument dtypes/ndims (None-ness included) and CuPy compiles
    each for every device it runs on, so one object per kernel serves all devices."""

    def __init__(self, declared: kernels.Kernel[..., Any]) -> None:
        self.declared = declared
        self.variants: dict[tuple[Any, ...], _Fused] = {}

    def __call__(self, *arrays: Any, **static: Any) -> Any:
        key = tuple(static.items()) if static else ()
        fused = self.variants.get(key)
        if fused is None:
            fused = self.variants[key] = self._variant(static)
        return fused(*arrays)

    def _variant(self, static: dict[str, Any]) -> _Fused:
        unknown = set(static) - set(self.declared.static)
        if unknown:  # a keyword the compiled kernel would silently bake in or drop
            raise TypeError(f"kernel '{self.declared.name}' got unexpected keyword arguments "
                            f"{sorted(unknown)}")
        function = self.declared.function

        def traced(*arrays: Any) -> Any:
            return function(cupy, *arrays, **static)

        return _Fused(self.declared.name, traced)


# Every elementwise kernel, compiled lazily per variant; composites run as Python.
_COMPILED = {name: _Compiled(declared) for name, declared in kernels.KERNELS.items()
             if isinstance(declared, kernels.Kernel)}


# ----------------------------------------------------------------------------- random
class CupyGenerator:
    """A stream of random numbers on one GPU: CuPy's `Generator` over cuRAND's XORWOW. Its
    state is the initial seed (8 bytes, little-endian) and cuRAND's per-thread states, copied
    from the device (megabytes on a large GPU; PyTorch's Philox state is 16 bytes)."""

    kind = "XORWOW"

    def __init__(self, device: Any, seed: int) -> None:
        self.device = device
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> None:
        self.initial_seed = seed
        with self.device:  # the cuRAND states are allocated and initialised on this GPU
            self.cupy: Any = cupy.random.default_rng(seed)

    @property
    def _states(self) -> Any:
        # CuPy keeps cuRAND's states in a device array of bytes; it has no public accessor.
        return self.cupy.bit_generator._state

    @property
    def state_size(self) -> int:
        return 8 + int(self._states.nbytes)

    def get_state(self) -> bytes:
        with self.device:
            return self.initial_seed.to_bytes(8, "little") + cupy.asnumpy(self._states).tobytes()

    def set_state(self, state: bytes) -> None:
        check_state_size(self, state)
        with self.device:
            self._states[...] = cupy.asarray(numpy.frombuffer(state[8:], dtype=numpy.int8))
        self.initial_seed = int.from_bytes(state[:8], "little")


# ----------------------------------------------------------------------------- the backend
# Methods that touch no device (pure Python on dtypes): never wrapped in the device guard.
_DEVICE_FREE = frozenset({"native_dtype", "dtype_name"})


# cudaMemoryTypeHost in CUDA's cudaMemoryType enum: host memory the driver has page-locked.
_CUDA_MEMORY_TYPE_HOST = 1


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
            attribute = getattr(self, name, None)  # None: a primitive CuPy's namespace lacks
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
    default_generator: CupyGenerator

    def _generator(self, generator: CupyGenerator | None) -> CupyGenerator:
        return self.default_generator if generator is None else generator

    def new_generator(self, seed: int) -> CupyGenerator:
        return CupyGenerator(self._cuda_device, seed)

    def rand(self, shape: Shape, dtype: str, generator: Any = None) -> Array:
        cupy_generator = self._generator(generator).cupy
        return cupy_generator.random(shape, dtype=self._float_dtype(dtype)).astype(
            self._native_dtypes[dtype], copy=False)

    def randn(self, shape: Shape, dtype: str, generator: Any = None) -> Array:
        cupy_generator = self._generator(generator).cupy
        return cupy_generator.standard_normal(shape, dtype=self._float_dtype(dtype)).astype(
            self._native_dtypes[dtype], copy=False)

    def poisson(self, rates: Array, generator: Any = None) -> Array:
        return self._generator(generator).cupy.poisson(rates).astype(cupy.float64)

    def randint(self, low: int, high: int, shape: Shape, dtype: str,
                generator: Any = None) -> Array:
        cupy_generator = self._generator(generator).cupy
        return cupy_generator.integers(low, high, shape, dtype=self._native_dtypes[dtype])

    def variates(self, sampler: str, *parameters: Array, generator: Any = None) -> Array:
        # CuPy's Generator has NumPy's sampler names and draws on the device.
        if sampler not in SAMPLERS:
            raise ValueError(f"no sampler named {sampler!r}")
        drawn = getattr(self._generator(generator).cupy, sampler)(*parameters)
        return drawn.astype(cupy.float64, copy=False)

    def _float_dtype(self, dtype: str) -> Any:
        # CuPy's generator draws float32 and float64; float16 is drawn as float32 and cast.
        return cupy.float32 if dtype in ("float16", "float32") else cupy.float64

    # ----------------------------------------------------------------------------- indexing
    def sliding_windows(self, array: Array, window_shape: Shape, stride: Shape,
                        dilation: Shape) -> Array:
        # A strided view, as on NumPy (windows are only read: no write goes through it).
        lead = array.ndim - len(window_shape)
        strides = array.strides[lead:]
        positions = tuple(window_positions(size, *geometry) for size, *geometry in
                          zip(array.shape[lead:], window_shape, stride, dilation))
        return cupy.lib.stride_tricks.as_strided(
            array, (*array.shape[:lead], *positions, *window_shape),
            (*array.strides[:lead], *(s * step for s, step in zip(strides, stride)),
             *(s * spacing for s, spacing in zip(strides, dilation))),
        )

    def _add_slice(self, out: Array, key: Any, values: Array) -> None:
        out[key] += values

    def index_add(self, target: Array, key: Any, values: Array) -> Array:
        if settings.deterministic and target.dtype.kind in "fc":
            # Atomic float adds land in a varying order; the sorted sum's order is fixed.
            return self.sorted_index_add(target, key, values)
        cupyx.scatter_add(target, key, values)  # atomics: repeated indices accumulate
        return target

    # ----------------------------------------------------------------------------- host, devices
    def data_ptr(self, array: Array) -> int:
        return int(array.data.ptr)

    def share_memory(self, array: Array) -> Array:
        return array  # device memory: other processes map it through CUDA IPC

    def is_shared(self, array: Array) -> bool:
        return True

    def to_numpy(self, array: Array) -> Any:
        return cupy.asnumpy(array)

    def from_numpy(self, array: Any) -> Array:
        return cupy.asarray(array)

    def tolist(self, array: Array) -> Any:
        return cupy.asnumpy(array).tolist()

    def host_copy(self, array: Array, pinned: bool = False) -> Any:
        if not pinned:
            return cupy.asnumpy(array)
        host = cupyx.empty_pinned(array.shape, dtype=array.dtype)
        cupy.ascontiguousarray(array).get(out=host)
        return host

    def item(self, array: Array) -> Any:
        return array.item()

    def transfer(self, array: Array, source: Backend) -> Array:
        if isinstance(source, CupyBackend):
            # ndarray.copy() copies onto the current device (this one): peer to peer, no host.
            with self._cuda_device:
                return array.copy()
        return cupy.asarray(source.to_numpy(array))

    def is_array(self, obj: Any) -> bool:
        return isinstance(obj, cupy.ndarray)

    def is_exclusive(self, array: Array) -> bool:
        # A fresh result owns its buffer; views (reshape, broadcast_to, slices) have a base.
        return array.base is None and array.flags.c_contiguous

    def memory_owner(self, array: Array) -> Any:
        while array.base is not None:
            array = array.base
        return array

    makes_views = True

    def owns_memory(self, array: Array) -> bool:
        return array.base is None

    def synchronize(self) -> None:
        self._cuda_device.synchronize()

    def timing_event(self) -> Any:
        with self._cuda_device:
            event = cupy.cuda.Event()
            event.record()
        return event

    def elapsed_us(self, start: Any, end: Any) -> float:
        end.synchronize()
        return float(cupy.cuda.get_elapsed_time(start, end)) * 1000.0

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

    def from_dlpack(self, obj: Any, copy: bool | None = None) -> Array:
        # CuPy takes `__dlpack__` producers and bare capsules alike.
        with self._cuda_device:
            array = cupy.from_dlpack(obj)
            return array.copy() if copy else array

    def as_strided(self, storage: Array, shape: Shape, strides: Shape, offset: int) -> Array:
        itemsize = storage.itemsize
        return cupy.lib.stride_tricks.as_strided(
            storage[offset:], shape, tuple(stride * itemsize for stride in strides))

    def empty_cache(self) -> None:
        """Give this device's cached, unused memory-pool blocks back to the driver."""
        with self._cuda_device:
            cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()

    def memory_allocated(self) -> int:
        """Bytes held by live arrays on this device (the memory pool's used bytes)."""
        with self._cuda_device:
            return int(cupy.get_default_memory_pool().used_bytes())

    def complex_of(self, real: Array, imag: Array) -> Array:
        out = cupy.empty(numpy.broadcast_shapes(real.shape, imag.shape),
                         dtype=cupy.result_type(real.dtype, imag.dtype, cupy.complex64))
        out.real, out.imag = real, imag
        return out

    def isin(self, elements: Array, test_elements: Array, invert: bool = False) -> Array:
        return cupy.isin(elements, test_elements, invert=invert)

    # ------------------------------------------------------------------------- special functions
    def bind_special(self, name: str, library: str) -> Callable[..., Any]:
        """CuPy's function, or cupyx.scipy.special's; what CuPy lacks runs on the host."""
        if library == "numpy":
            function = getattr(cupy, name, None)
        else:
            import cupyx.scipy.special

            function = getattr(cupyx.scipy.special, name, None)
        if function is not None:
            return function
        return super().bind_special(name, library)

    # ----------------------------------------------------------------------------- fused kernels
    compiles_kernels = True

    def bind_kernel(self, declared: kernels.Kernel[..., Any] | kernels.Composite[..., Any]
                    ) -> Callable[..., Any]:
        """An elementwise kernel compiled with cupy.fuse; a composite as Python (calling the
        compiled kernels)."""
        compiled = _COMPILED.get(declared.name)
        return compiled if compiled is not None else declared.bind(self)
