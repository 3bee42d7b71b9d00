"""`Generator` (torch.Generator): a stream of random numbers on one device, passed as
`generator=` to the functions that draw (`rand`, `randint`, `randperm`, `nn.init.uniform_`, the
data samplers, ...). Without one they draw from the device's default generator.

Each backend brings its own algorithm: NumPy's PCG64 on the CPU (and, drawn on the host, for
the strict test devices), cuRAND's XORWOW through CuPy on CUDA. So a seed gives other numbers
than PyTorch's mt19937 and Philox streams would, and `get_state` returns a state of another size
than PyTorch's; what holds is PyTorch's contract: the same seed, or a restored state, gives the
same numbers again on the same backend.
"""

from __future__ import annotations

from typing import Any

import backends
from backends import Device, get_backend
from backends.serialization import array_from_buffer, array_to_buffer

from . import dtypes
from .tensor import Tensor, _wrap
from .torch_function import plain_types

__all__ = ["Generator"]

_MIN_SEED, _MAX_SEED = -(2**63), 2**64  # a seed's range: [-2^63, 2^64), negatives wrap
_DEFAULTS: dict[Any, Generator] = {}  # backend -> its default generator's Generator


class Generator:
    """A random number generator on `device` ("cpu", "cuda", "cuda:1", ...), starting from
    PyTorch's default seed 67280421310721 until `manual_seed` or `seed` is called."""

    def __init__(self, device: Any = "cpu") -> None:
        backend = get_backend(device)
        self._backend = backend
        self._impl = backend.new_generator(backends.DEFAULT_SEED)

    @classmethod
    def _default(cls, backend: Any) -> Generator:
        """The device's default generator (the one draws without `generator=` use), one object
        per device."""
        generator = _DEFAULTS.get(backend)
        if generator is None:
            generator = cls.__new__(cls)
            generator._backend = backend
            generator._impl = backend.default_generator
            _DEFAULTS[backend] = generator
        return generator

    @property
    def device(self) -> Device:
        return self._backend.device

    def manual_seed(self, seed: Any) -> Generator:
        """Restart the stream from `seed`: an integer in [-2^63, 2^64) (negative seeds wrap
        around, as in PyTorch). Returns the generator."""
        self._impl.manual_seed(_check_seed(seed))
        return self

    def seed(self) -> int:
        """Restart the stream from a seed taken from the operating system; returns the seed."""
        seed = backends.nondeterministic_seed()
        self._impl.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return int(self._impl.initial_seed)

    def get_state(self) -> Tensor:
        """The stream's state, as a CPU uint8 tensor (`set_state` takes it back)."""
        cpu = get_backend("cpu")
        state = self._impl.get_state()
        return _wrap(array_from_buffer(cpu, state, "uint8", (len(state),)), cpu)

    def set_state(self, new_state: Tensor) -> Generator:
        """Continue from a state `get_state` returned. Returns the generator."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype is not dtypes.uint8 or new_state.device.type != "cpu":
            raise TypeError("RNG state must be a torch.ByteTensor")
        self._impl.set_state(bytes(array_to_buffer(new_state._backend, new_state._data)))
        return self

    def clone_state(self) -> Generator:
        """A new generator on the same device, at this one's state."""
        clone = Generator(self._backend.device)
        clone._impl.set_state(self._impl.get_state())
        return clone


# A Generator argument never takes a call over (PyTorch's is an immutable class).
plain_types.add(Generator)


def _check_seed(seed: Any) -> int:
    if not isinstance(seed, int):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    if not _MIN_SEED <= seed < _MAX_SEED:
        raise ValueError("Overflow when unpacking long long")
    return seed % _MAX_SEED


def source(function: str, backend: Any, generator: Any) -> tuple[Any, Any]:
    """(the backend that draws, its generator) for a draw of `function` onto `backend`: the
    device's default generator without one; PyTorch's errors for anything but a Generator and
    for a Generator of another device type. A generator of another device of the same type
    draws on its own device (the caller then moves the numbers, see `draw`)."""
    if generator is None:
        return backend, None
    if not isinstance(generator, Generator):
        raise TypeError(f"{function}(): argument 'generator' must be torch.Generator, not "
                        f"{type(generator).__name__}")
    if generator.device.type != backend.device.type:
        raise RuntimeError(f"Expected a '{backend.device.type}' device type for generator but "
                           f"found '{generator.device.type}'")
    return generator._backend, generator._impl


def draw(function: str, backend: Any, generator: Any, kind: str, *args: Any) -> Any:
    """`backend.<kind>(*args)` ("rand", "randn", "randint", "randperm") from `generator` (see
    `source`), as an array on `backend`."""
    drawing, impl = source(function, backend, generator)
    array = getattr(drawing, kind)(*args, impl)
    return array if drawing is backend else backend.transfer(array, drawing)
