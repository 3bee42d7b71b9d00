"""The array layer: one `Backend` object per device. Knows nothing about gradients.

`get_backend(device)` is the only way in. NumPy is imported eagerly (it is a dependency); CuPy and
array-api-strict are imported the first time a device of theirs is asked for, so a CPU-only
install never touches them. The `cuda_*` functions are what `autodiff.cuda` is made of.
"""

from __future__ import annotations

import importlib
import importlib.util
import secrets
import threading
import warnings
from types import ModuleType

from . import settings
from .base import DEFAULT_SEED, Backend, broadcast_shapes, contiguous_strides
from .device import (
    DEVICE_TYPES,
    Device,
    default_device,
    legacy_type_device,
    parse_cuda_device,
    parse_device,
    set_default_device,
    set_legacy_type_device,
)

__all__ = [
    "DEFAULT_SEED",
    "DEVICE_TYPES",
    "Backend",
    "Device",
    "broadcast_shapes",
    "contiguous_strides",
    "cpu_capability",
    "created_backends",
    "cuda_current_device",
    "cuda_device_count",
    "cuda_device_name",
    "cuda_empty_cache",
    "cuda_is_built",
    "cuda_memory_allocated",
    "cuda_set_device",
    "default_device",
    "device_count",
    "float32_matmul_precision",
    "get_backend",
    "is_pinned",
    "legacy_type_device",
    "nondeterministic_seed",
    "parse_cuda_device",
    "parse_device",
    "pinned",
    "seed_all",
    "seed_all_in_child",
    "set_default_device",
    "set_deterministic",
    "set_float32_matmul_precision",
    "set_legacy_type_device",
]

# Every backend made so far, by the Devices and strings that name it ("cpu", "cpu:0" and
# Device("cpu") share one), so the common lookup is one dict access. A bare "cuda" is never a
# key: it means whichever CUDA device is current, which can change.
# NumPy warns where PyTorch (and CuPy) silently give inf or nan: log(0), 0/0, exp overflow. For
# users of a PyTorch-shaped library that is noise, so those warnings are silenced, but only when
# they come from this package's frames (or array-api-strict's, the test backend computing with
# NumPy): a user's own NumPy code keeps its warnings.
for _module in (r"(autodiff|backends)(\.|$)", r"array_api_strict(\.|$)"):
    warnings.filterwarnings(
        "ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered",
        category=RuntimeWarning, module=_module,
    )

_backends: dict[object, Backend] = {}
_lock = threading.Lock()
_seed: int | None = None  # set by seed_all(seed): every generator made later starts from it
_seed_by_type: dict[str, int] = {}  # set by seed_all(seed, device_type) for one device type

_NO_CUPY = (
    "CUDA backend requires CuPy, which is not installed: pip install 'autodiff[cuda]' (or a "
    "cupy-cuda12x / cupy-cuda13x wheel matching your CUDA driver). Import error: {error}"
)


def seed_all(seed: int, device_type: str | None = None) -> None:
    """Reseed every backend's default generator (or only those of `device_type`); backends made
    later start from the same seed. Until then, as in PyTorch, the CPU's starts from a random
    seed and every other device's from `DEFAULT_SEED`."""
    global _seed
    if device_type is None:
        _seed = seed
        _seed_by_type.clear()
    else:
        _seed_by_type[device_type] = seed
    for backend in set(_backends.values()):
        if device_type is None or backend.device.type == device_type:
            backend.seed_generator(seed)


def seed_all_in_child(seed: int) -> None:
    """seed_all for a process made by fork (a DataLoader worker): CUDA backends inherited from
    the parent are left alone, as a CUDA context does not survive fork and touching one there
    fails; every other backend is reseeded, and backends made later start from `seed`."""
    global _seed
    _seed = seed
    _seed_by_type.clear()
    for backend in set(_backends.values()):
        if backend.device.type != "cuda":
            backend.seed_generator(seed)


def created_backends() -> list[Backend]:
    """Every backend made so far, once each."""
    return list({id(backend): backend for backend in list(_backends.values())}.values())


def nondeterministic_seed() -> int:
    """A seed from the operating system's entropy (an unsigned 64-bit integer)."""
    return secrets.randbits(64)


def device_count(device_type: str) -> int:
    """How many devices of `device_type` there are (0 when none can be had). Never raises."""
    if device_type == "cpu":
        return 1
    if device_type == "cuda":
        return cuda_device_count()
    if device_type != "strict":
        return 0
    try:
        from .strict_backend import DEVICE_COUNT
    except ImportError:
        return 0
    return DEVICE_COUNT


def get_backend(device: object = "cpu") -> Backend:
    """The backend for `device` ("cpu", "cuda", "cuda:1", "strict:1", or a `Device`)."""
    if type(device) is str or type(device) is Device:
        backend = _backends.get(device)
        if backend is not None:
            return backend
    return _get_backend_slow(device)


def _get_backend_slow(name: object) -> Backend:
    device = name if type(name) is Device else Device(name)
    canonical = _canonical(device)
    backend = _backends.get(canonical)
    if backend is None:
        with _lock:
            backend = _backends.get(canonical)
            if backend is None:
                backend = _create_backend(canonical)
                seed = _seed_by_type.get(canonical.type, _seed)
                if seed is None and canonical.type == "cpu":
                    seed = nondeterministic_seed()
                if seed is not None:
                    backend.seed_generator(seed)
                _backends[canonical] = backend
    if not (device.type == "cuda" and device.index is None):
        _backends[device] = backend
        if type(name) is str:
            _backends[name] = backend
    return backend


def _canonical(device: Device) -> Device:
    """The one name of a backend: "cpu" for "cpu:0", "strict:0" for "strict", "cuda:N" for
    "cuda" (N: the current CUDA device). Raises here, before any array exists, when the device
    cannot be had."""
    if device.type == "cpu":
        if device.index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, given {device.index}")
        return Device("cpu")
    if device.type == "strict":
        return Device("strict", device.index or 0)
    if device.type == "meta":
        return Device("meta")
    return Device("cuda", _check_cuda_ordinal(device.index))


def _create_backend(device: Device) -> Backend:
    if device.type == "cpu":
        from .numpy_backend import NumpyBackend

        return NumpyBackend()
    if device.type == "meta":
        from .meta_backend import MetaBackend

        return MetaBackend()
    if device.type == "cuda":
        module = _cupy_backend()
        if settings.float32_matmul_precision != "highest":
            module.set_tf32_matmul(True)
        return module.CupyBackend(device.index)
    try:
        from .strict_backend import StrictBackend
    except ImportError as error:
        raise RuntimeError(
            "the 'strict' test devices need array-api-strict: pip install 'autodiff[test]'. "
            f"Import error: {error}"
        ) from None
    return StrictBackend(device.index or 0)


# ----------------------------------------------------------------------------- CUDA
def _cupy_backend() -> ModuleType:
    """The CuPy backend module. The one place CuPy is imported; a missing CuPy fails here."""
    try:
        import cupy
    except ImportError as error:
        raise RuntimeError(_NO_CUPY.format(error=error)) from None
    # Looked up through sys.modules, so tests can stand in a fake module for a GPU they lack.
    return importlib.import_module(".cupy_backend", __name__)


def _check_cuda_ordinal(index: int | None) -> int:
    """The CUDA device `index` names (the current one for None), after checking that CuPy, a
    driver and that device are there; every failure says what is missing and how to fix it."""
    module = _cupy_backend()
    try:
        count = module.cuda_device_count()
    except Exception as error:  # CuPy's CUDARuntimeError: no driver, or no device
        raise RuntimeError(
            f"CUDA backend: CuPy is installed but no usable CUDA GPU was found ({error}). "
            "Use device='cpu', or run on a machine with an NVIDIA GPU and a driver that "
            "matches the CuPy wheel."
        ) from None
    if count == 0:
        raise RuntimeError(
            "CUDA backend: CuPy is installed but no CUDA GPU was found (no device or no usable "
            "driver). Use device='cpu', or run on a machine with an NVIDIA GPU and driver."
        )
    ordinal = module.current_device() if index is None else index
    if ordinal >= count:
        available = ", ".join(f"cuda:{i}" for i in range(count))
        raise RuntimeError(
            f"CUDA error: invalid device ordinal: cuda:{ordinal} was asked for, but this machine "
            f"has {count} CUDA device{'s' if count > 1 else ''} ({available})"
        )
    return int(ordinal)


def set_deterministic(mode: bool) -> None:
    """Sum scatter-adds in a fixed order on every device (CUDA's atomics do not)."""
    settings.deterministic = bool(mode)


def set_float32_matmul_precision(precision: str) -> None:
    """"highest", "high" or "medium": whether CUDA may multiply float32 in TensorFloat-32."""
    settings.float32_matmul_precision = precision
    if any(backend.device.type == "cuda" for backend in _backends.values()):
        _cupy_backend().set_tf32_matmul(precision != "highest")


def float32_matmul_precision() -> str:
    return settings.float32_matmul_precision


def cuda_is_built() -> bool:
    """Whether CuPy (the CUDA backend's library) is installed; it is not imported."""
    return importlib.util.find_spec("cupy") is not None


def cpu_capability() -> str:
    """The SIMD level NumPy's kernels use on this CPU, in PyTorch's names."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        return "DEFAULT"
    for feature, name in (("AVX512_SKX", "AVX512"), ("AVX2", "AVX2"), ("SVE", "SVE256"),
                          ("VSX", "VSX")):
        if features.get(feature):
            return name
    return "DEFAULT"


_NO_PINNED = ("pin_memory=True requires a CUDA or other accelerator backend; no pinned memory "
              "allocator is available on this system.")


def pinned(array: object) -> object:
    """A copy of a CPU (NumPy) array in page-locked memory, which CUDA copies from faster.
    Needs CuPy and a GPU (PyTorch's error otherwise)."""
    if cuda_device_count() == 0:
        raise RuntimeError(_NO_PINNED)
    return _cupy_backend().pinned_copy(array)


def is_pinned(array: object) -> bool:
    """Whether a CPU array lives in page-locked memory (never without CUDA)."""
    if cuda_device_count() == 0:
        return False
    return bool(_cupy_backend().is_pinned(array))


def cuda_device_count() -> int:
    """The number of CUDA GPUs CuPy can use; 0 without CuPy, a driver or a GPU. Never raises."""
    try:
        return int(_cupy_backend().cuda_device_count())
    except Exception:
        return 0


def cuda_current_device() -> int:
    """The index of the current CUDA device (per thread, as in the CUDA runtime)."""
    return _check_cuda_ordinal(None)


def cuda_set_device(device: object) -> None:
    """Make `device` (an index, "cuda:N" or a Device) the current CUDA device of this thread."""
    parsed = parse_cuda_device(device)
    if parsed.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {parsed}")
    index = _check_cuda_ordinal(parsed.index)
    _cupy_backend().set_device(index)


def cuda_device_name(device: object = None) -> str:
    index = _cuda_index(device)
    return str(_cupy_backend().device_name(index))


def cuda_empty_cache() -> None:
    """Give the cached, unused blocks of every CUDA memory pool back to the driver."""
    for backend in set(_backends.values()):
        if backend.device.type == "cuda":
            backend.empty_cache()  # type: ignore[attr-defined]


def cuda_memory_allocated(device: object = None) -> int:
    """Bytes held by live arrays on `device` (default: the current CUDA device)."""
    backend = get_backend(Device("cuda", _cuda_index(device)))
    return int(backend.memory_allocated())  # type: ignore[attr-defined]


def _cuda_index(device: object) -> int:
    if device is None:
        return _check_cuda_ordinal(None)
    parsed = parse_cuda_device(device)
    if parsed.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {parsed}")
    return _check_cuda_ordinal(parsed.index)
