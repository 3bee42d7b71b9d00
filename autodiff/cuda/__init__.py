"""`autodiff.cuda`: CUDA devices, as `torch.cuda` offers them (backed by CuPy).

`is_available()` and `device_count()` never raise: without CuPy, a driver or a GPU they answer
False and 0. The rest raise the backend's message naming what is missing and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import backends
from backends import Device

from ..generator import Generator, _check_seed
from ..legacy import CUDA_TYPES as _LEGACY_TYPES
from ..tensor import Tensor

# The legacy CUDA tensor types: torch.cuda.FloatTensor(2, 3) makes a float32 CUDA tensor.
BoolTensor = _LEGACY_TYPES["BoolTensor"]
ByteTensor = _LEGACY_TYPES["ByteTensor"]
CharTensor = _LEGACY_TYPES["CharTensor"]
ShortTensor = _LEGACY_TYPES["ShortTensor"]
IntTensor = _LEGACY_TYPES["IntTensor"]
LongTensor = _LEGACY_TYPES["LongTensor"]
HalfTensor = _LEGACY_TYPES["HalfTensor"]
FloatTensor = _LEGACY_TYPES["FloatTensor"]
DoubleTensor = _LEGACY_TYPES["DoubleTensor"]


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return backends.cuda_device_count() > 0


def device_count() -> int:
    """The number of CUDA GPUs (0 without CuPy, a driver or a GPU)."""
    return backends.cuda_device_count()


def current_device() -> int:
    """The index of the current CUDA device: where `device="cuda"` puts tensors."""
    return backends.cuda_current_device()


def set_device(device: Any) -> None:
    """Make `device` (an index, "cuda:1" or a `device`) the current CUDA device."""
    backends.cuda_set_device(device)


def get_device_name(device: Any = None) -> str:
    return backends.cuda_device_name(device)


def synchronize(device: Any = None) -> None:
    """Wait until all work queued on `device` (default: the current one) has finished."""
    backends.get_backend(_cuda(device)).synchronize()


def empty_cache() -> None:
    """Release the cached, unused blocks of the CUDA memory pools back to the driver."""
    backends.cuda_empty_cache()


def memory_allocated(device: Any = None) -> int:
    """Bytes occupied by tensors on `device` (default: the current one)."""
    return backends.cuda_memory_allocated(device)


# ----------------------------------------------------------------------------- random numbers
# Seeding is safe without CUDA (nothing to seed, as in PyTorch); reading or setting a state needs
# the device.
def manual_seed(seed: Any) -> None:
    """Seed the default generator of the current CUDA device."""
    seed = _check_seed(int(seed))
    if is_available():
        _default_generator(None).manual_seed(seed)


def manual_seed_all(seed: Any) -> None:
    """Seed the default generators of every CUDA device, now and for devices first used
    later."""
    backends.seed_all(_check_seed(int(seed)), device_type="cuda")


def seed() -> None:
    """Seed the current CUDA device's default generator from the operating system."""
    if is_available():
        _default_generator(None).seed()


def seed_all() -> None:
    """Seed every CUDA device's default generator with one seed from the operating system."""
    if is_available():
        manual_seed_all(_default_generator(0).seed())


def initial_seed() -> int:
    """The seed the current CUDA device's default generator started from."""
    return _default_generator(None).initial_seed()


def get_rng_state(device: Any = "cuda") -> Tensor:
    """The state of `device`'s default generator (a CPU uint8 tensor)."""
    return _default_generator(device).get_state()


def get_rng_state_all() -> list[Tensor]:
    return [get_rng_state(index) for index in range(device_count())]


def set_rng_state(new_state: Tensor, device: Any = "cuda") -> None:
    """Restore `device`'s default generator to a state `get_rng_state` returned."""
    _default_generator(device).set_state(new_state)


def set_rng_state_all(new_states: Iterable[Tensor]) -> None:
    for index, state in enumerate(new_states):
        set_rng_state(state, index)


def __getattr__(name: str) -> Any:
    if name == "default_generators":  # as in PyTorch, one per device; empty without CUDA
        return tuple(_default_generator(index) for index in range(device_count()))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _default_generator(device: Any) -> Generator:
    return Generator._default(backends.get_backend(_cuda(device)))


def _cuda(device: Any) -> Any:
    if device is None or device == "cuda":
        return "cuda"
    parsed = backends.parse_cuda_device(device)  # a bare int is a CUDA ordinal
    if parsed.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {parsed}")
    return parsed
