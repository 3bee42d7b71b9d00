"""The generic `Backend`: every array primitive the tape needs, written once against an
array-API namespace `xp`.

A subclass per library (NumPy, CuPy, array-api-strict) overrides only what the libraries really do
differently: scatter-add, random numbers, host transfer, fused kernels, synchronisation. The tape
(`autodiff/`) calls nothing else, so a new backend is one subclass of this class.

Its two base classes declare the rest once each: `Primitives` (`primitives.py`), the namespace's
functions bound straight onto the instance (`self.exp = xp.exp`), and `Kernels` (`kernels.py`),
the fused kernels, which a backend runs as Python or compiles (`bind_kernel`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .device import Device
from .kernels import KERNELS, Composite, Kernel, Kernels
from .primitives import PRIMITIVES, Primitives
from .special import SpecialFunctions, host_function, on_host

Array = Any
Shape = tuple[int, ...]

DTYPE_NAMES = (
    "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
    "complex64", "complex128",
)

DEFAULT_SEED = 67280421310721  # PyTorch's: the initial seed of a generator nobody seeded


class RandomGenerator(Protocol):
    """A backend's stream of random numbers (`Backend.new_generator`). Its state is bytes: the
    initial seed and wherever the stream has got to."""

    initial_seed: int

    @property
    def kind(self) -> str: ...  # the algorithm, named in errors ("PCG64")
    @property
    def state_size(self) -> int: ...  # len(get_state())

    def manual_seed(self, seed: int) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...


class Backend(Primitives, Kernels, SpecialFunctions):
    """One object per device; methods are the array primitives of the tape."""

    name = "generic"
    floating_dtypes: frozenset[Any]
    complex_dtypes: frozenset[Any]
    integer_dtypes: frozenset[Any]
    bool_dtype: Any

    def __init__(self, xp: Any, device: Device, native_device: Any = None) -> None:
        self.xp = xp
        self.device = device
        self.native_device = native_device
        # Primitives and kernels become instance attributes (one lookup, no extra frame per
        # call), except where a backend class defines its own method of that name.
        overridden = {name for klass in type(self).__mro__
                      if issubclass(klass, Backend) and klass is not Backend
                      for name in vars(klass)}
        for name in PRIMITIVES:
            function = getattr(xp, name, None)
            if function is not None and name not in overridden:
                setattr(self, name, function)
        for name, declared in KERNELS.items():
            if name not in overridden:
                setattr(self, name, self.bind_kernel(declared))
        # The dtype objects arrays actually carry (NumPy's xp.float32 is a scalar type, and
        # np.dtype("float32") hashes differently), read off an empty array of each.
        # A namespace may lack some (array-api-strict has no float16): those dtypes are absent.
        self._native_dtypes = {
            name: xp.empty((0,), dtype=getattr(xp, name), device=native_device).dtype
            for name in DTYPE_NAMES
            if hasattr(xp, name)
        }
        # Keyed by the native dtype object: one dict lookup answers `Tensor.dtype`.
        self._dtype_names = {native: name for name, native in self._native_dtypes.items()}
        # The native dtypes of each kind, read by the predicates below. Hot paths (an op's
        # forward on a float tensor and a Python number) test `dtype in backend.floating_dtypes`
        # directly: the same set lookup without the call.
        self.floating_dtypes = frozenset(
            native for name, native in self._native_dtypes.items() if name.startswith("float")
        )
        self.complex_dtypes = frozenset(
            native for name, native in self._native_dtypes.items() if name.startswith("complex")
        )
        self.integer_dtypes = frozenset(
            native for name, native in self._native_dtypes.items() if "int" in name
        )
        self.bool_dtype = self._native_dtypes["bool"]
        self.default_generator = self.new_generator(DEFAULT_SEED)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} device='{self.device}'>"

    # ----------------------------------------------------------------------------- dtypes
    # The tape asks about dtypes only through these: a native dtype is what `array.dtype` gives.
    def native_dtype(self, name: str) -> Any:
        return self._native_dtypes[name]

    def dtype_name(self, array: Array) -> str:
        """The name ("float32", "int64", "bool", ...) of an array's dtype."""
        return self._dtype_names[array.dtype]

    def name_of_dtype(self, dtype: Any) -> str:
        """The name of a native dtype."""
        return self._dtype_names[dtype]

    def is_floating(self, dtype: Any) -> bool:
        return dtype in self.floating_dtypes

    def is_complex(self, dtype: Any) -> bool:
        return dtype in self.complex_dtypes

    def is_integer(self, dtype: Any) -> bool:
        """Signed or unsigned integers; bool is not one (as in PyTorch)."""
        return dtype in self.integer_dtypes

    def is_bool(self, dtype: Any) -> bool:
        return dtype == self.bool_dtype

    def astype(self, array: Array, dtype: str, copy: bool = False) -> Array:
        return self.xp.astype(array, self._native_dtypes[dtype], copy=copy)

    # ----------------------------------------------------------------------------- creation
    def asarray(self, obj: Any, dtype: str | None = None, copy: bool | None = None) -> Array:
        native = None if dtype is None else self._native_dtypes[dtype]
        return self.xp.asarray(obj, dtype=native, device=self.native_device, copy=copy)

    def zeros(self, shape: Shape, dtype: str) -> Array:
        return self.xp.zeros(shape, dtype=self._native_dtypes[dtype], device=self.native_device)

    def ones(self, shape: Shape, dtype: str) -> Array:
        return self.xp.ones(shape, dtype=self._native_dtypes[dtype], device=self.native_device)

    def full(self, shape: Shape, fill_value: Any, dtype: str) -> Array:
        return self.xp.full(
            shape, fill_value, dtype=self._native_dtypes[dtype], device=self.native_device
        )

    def empty(self, shape: Shape, dtype: str) -> Array:
        return self.xp.empty(shape, dtype=self._native_dtypes[dtype], device=self.native_device)

    def eye(self, n: int, m: int | None, dtype: str) -> Array:
        return self.xp.eye(n, m, dtype=self._native_dtypes[dtype], device=self.native_device)

    def arange(self, start: Any, stop: Any, step: Any, dtype: str) -> Array:
        return self.xp.arange(
            start, stop, step, dtype=self._native_dtypes[dtype], device=self.native_device
        )

    def linspace(self, start: Any, stop: Any, num: int, dtype: str) -> Array:
        return self.xp.linspace(
            start, stop, num, dtype=self._native_dtypes[dtype], device=self.native_device
        )

    # ----------------------------------------------------------------------------- random
    # The array API has no random numbers: each backend brings a generator class. Every draw
    # takes one of this backend's generators, or the device's default one when given None.
    default_generator: RandomGenerator

    def new_generator(self, seed: int) -> RandomGenerator:
        """A new stream of random numbers on this device, started from `seed`."""
        raise NotImplementedError

    def seed_generator(self, seed: int) -> None:
        """Restart the device's default generator from `seed`."""
        self.default_generator.manual_seed(seed)

    def rand(self, shape: Shape, dtype: str, generator: RandomGenerator | None = None) -> Array:
        """Uniform on [0, 1)."""
        raise NotImplementedError

    def randn(self, shape: Shape, dtype: str, generator: RandomGenerator | None = None) -> Array:
        """Standard normal."""
        raise NotImplementedError

    def randint(self, low: int, high: int, shape: Shape, dtype: str,
                generator: RandomGenerator | None = None) -> Array:
        raise NotImplementedError

    def randperm(self, n: int, dtype: str, generator: RandomGenerator | None = None) -> Array:
        return self.astype(self.argsort(self.rand((n,), "float64", generator)), dtype)

    # ----------------------------------------------------------------------------- reductions
    def var(self, array: Array, axis: Any = None, correction: float = 1,
            keepdims: bool = False) -> Array:
        return self.xp.var(array, axis=axis, correction=correction, keepdims=keepdims)

    def logsumexp(self, array: Array, axis: Any, keepdims: bool = False) -> Array:
        peak = self.max(array, axis=axis, keepdims=True)
        # An all -inf slice would give nan from (-inf) - (-inf); shift by 0 there instead.
        peak = self.where(self.isfinite(peak), peak, self.zeros_like(peak))
        out = self.log(self.sum(self.exp(array - peak), axis=axis, keepdims=True)) + peak
        return out if keepdims else self.squeeze(out, axis=axis)

    # ----------------------------------------------------------------------------- complex
    def complex_of(self, real: Array, imag: Array) -> Array:
        """real + i imag, exactly (infinite and NaN parts included, which real + 1j * imag
        would mix). The array API cannot write the parts of a complex array: the generic
        backend builds it on the host."""
        return on_host(self, _complex_of)(real, imag)

    # ----------------------------------------------------------------------------- sets
    def isin(self, elements: Array, test_elements: Array, invert: bool = False) -> Array:
        """Whether each element is one of `test_elements` (1-D, of the same dtype). The array
        API's isin takes integers only: a binary search in the sorted test elements."""
        xp = self.xp
        count = test_elements.shape[0]
        if count == 0:
            found = xp.zeros(elements.shape, dtype=self.bool_dtype, device=self.native_device)
        else:
            ordered = xp.sort(test_elements)
            flat = xp.reshape(elements, (-1,))
            position = xp.clip(xp.searchsorted(ordered, flat), 0, count - 1)
            found = xp.reshape(xp.take(ordered, position) == flat, elements.shape)
        return xp.logical_not(found) if invert else found

    # ----------------------------------------------------------------------------- indexing
    def getitem(self, array: Array, key: Any) -> Array:
        return array[key]

    def setitem(self, array: Array, key: Any, value: Any) -> None:
        array[key] = value

    def index_add(self, target: Array, key: Any, values: Array) -> Array:
        """target[key] += values, accumulating over repeated indices (scatter-add), in place.

        The array API has no scatter-add, so each backend supplies one (NumPy's `add.at`, CuPy's
        `cupyx.scatter_add`).
        """
        raise NotImplementedError

    # ----------------------------------------------------------------------------- host, devices
    def to_numpy(self, array: Array) -> Any:
        """A NumPy array with the same values (shares memory where the backend allows)."""
        raise NotImplementedError

    def from_numpy(self, array: Any) -> Array:
        return self.xp.asarray(array, device=self.native_device)

    def tolist(self, array: Array) -> Any:
        return self.to_numpy(array).tolist()

    def item(self, array: Array) -> Any:
        return self.to_numpy(array).item()

    def host_copy(self, array: Array, pinned: bool = False) -> Any:
        """A NumPy copy of `array`; `pinned`: in page-locked memory, where the backend has
        such memory (faster, asynchronous transfers back to the device)."""
        return self.to_numpy(array).copy()

    def transfer(self, array: Array, source: Backend) -> Array:
        """Copy an array of another backend onto this one (through the host by default)."""
        return self.from_numpy(source.to_numpy(array))

    def is_exclusive(self, array: Array) -> bool:
        """True when `array` owns its memory and is writable, so a gradient may be stolen.

        The default is the safe answer: False makes the engine copy before storing a gradient.
        """
        return False

    def synchronize(self) -> None:
        """Wait for queued work; a no-op for synchronous backends."""

    # ------------------------------------------------------------------------- special functions
    def bind_special(self, name: str, library: str) -> Callable[..., Any]:
        """The callable behind a function of `special.SpecialFunctions` on this backend: the
        namespace's own where it has one (a NumPy function), else NumPy's or SciPy's on the
        host, the result moved back to this device."""
        if library == "numpy":
            function = getattr(self.xp, name, None)
            if function is not None:
                return function
        return on_host(self, host_function(name, library))

    # ----------------------------------------------------------------------------- interop
    def from_dlpack(self, obj: Any, copy: bool | None = None) -> Array:
        """An array of this device over the memory of `obj` (a `__dlpack__` producer whose memory
        is on this device); `copy=True` copies, `copy=False` refuses to."""
        kwargs = {} if copy is None else {"copy": copy}
        return self.xp.from_dlpack(obj, device=self.native_device, **kwargs)

    def to_dlpack(self, array: Array, **kwargs: Any) -> Any:
        """`array.__dlpack__(**kwargs)`: a capsule sharing the array's memory."""
        return array.__dlpack__(**kwargs)

    def dlpack_device(self, array: Array) -> tuple[int, int]:
        code, index = array.__dlpack_device__()
        return int(code), int(index)

    def as_strided(self, storage: Array, shape: Shape, strides: Shape, offset: int) -> Array:
        """The elements of the 1-D `storage` at `offset + sum(i * stride)`, as an array of
        `shape` (a view where the library has strided views; the caller checks the bounds).

        The array API has no strided views, so this default gathers (a copy)."""
        xp = self.xp
        index = xp.full((), offset, dtype=xp.int64, device=self.native_device)
        for size, stride in zip(shape, strides):
            step = xp.arange(size, dtype=xp.int64, device=self.native_device) * stride
            index = index[..., None] + step
        return xp.reshape(xp.take(storage, xp.reshape(index, (-1,))), shape)

    # ----------------------------------------------------------------------------- fused kernels
    # True where `bind_kernel` makes one launch of each elementwise kernel (composites use
    # this to pick the form that suits a compiler).
    compiles_kernels = False

    def bind_kernel(self, declared: Kernel[..., Any] | Composite[..., Any]
                       ) -> Callable[..., Any]:
        """The callable that runs a kernel of `kernels.KERNELS` on this backend: by default its
        Python over `xp`."""
        return declared.bind(self)

    from .decompositions import (  # type: ignore[misc]
        cholesky,
        det,
        eigvalsh,
        inv,
        qr,
        slogdet,
        solve,
        svd,
    )
    from .distances import (  # type: ignore[misc]
        euclidean_distances,
        minkowski_distances,
        pairwise_distances,
        upper_pairs,
    )
    from .einsum import einsum  # type: ignore[misc]
    from .fft import fft_c2c, fft_c2r, fft_r2c  # type: ignore[misc]
    from .variates import dirichlet_grad, standard_gamma_grad, variates  # type: ignore[misc]


def _complex_of(real: Any, imag: Any) -> Any:
    import numpy

    kind = numpy.result_type(real.dtype, imag.dtype, numpy.complex64)
    out = numpy.empty(numpy.broadcast_shapes(real.shape, imag.shape), dtype=kind)
    out.real, out.imag = real, imag
    return out


def broadcast_shapes(*shapes: Sequence[int]) -> Shape:
    """The shape that `shapes` broadcast to; ValueError naming them when they do not."""
    ndim = max((len(shape) for shape in shapes), default=0)
    result = [1] * ndim
    for shape in shapes:
        for axis, size in enumerate(shape, start=ndim - len(shape)):
            if size == 1 or size == result[axis]:
                continue
            if result[axis] != 1:
                raise ValueError(f"shapes {[tuple(s) for s in shapes]} cannot be broadcast")
            result[axis] = size
    return tuple(result)


def numel(shape: Sequence[int]) -> int:
    return math.prod(shape)
