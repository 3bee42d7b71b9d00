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

import itertools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .device import Device
from .kernels import KERNELS, Composite, Kernel, Kernels
from .loss_kernels import LossKernels
from .primitives import PRIMITIVES, Primitives
from .special import SpecialFunctions, host_function, on_host

Array = Any
Shape = tuple[int, ...]

DTYPE_NAMES = (
    "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
    "float64", "complex64", "complex128",
)
# The floating dtypes PyTorch's CPU kernels compute in float32 and round once ("opmath").
LOW_PRECISION_FLOATING = ("float16", "bfloat16")


class NativeDtypes(dict[str, Any]):
    """A backend's native dtype objects by name. A dtype the array library cannot hold
    (bfloat16 on CuPy and array-api-strict, float16 on array-api-strict) is a clear error, at
    the first place a tensor of it would be made."""

    def __init__(self, entries: dict[str, Any], library: str, device: Device) -> None:
        super().__init__(entries)
        self.library = library
        self.device = device

    def __missing__(self, name: str) -> Any:
        if name not in DTYPE_NAMES:
            raise KeyError(name)
        raise TypeError(
            f"torch.{name} is not supported on device '{self.device}': {self.library} has no "
            f"{name} dtype"
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


class ProductReduction:
    """A sum or mean as a product with ones (`Backend.product_reduction`):
    `function(ones, array)` (`ones_first`) or `function(array, ones)`, then, for a mean,
    divided by `divisor` (the count, a scalar of the array's dtype)."""

    __slots__ = ("divisor", "function", "ones", "ones_first")

    def __init__(self, function: Callable[..., Any], ones: Array, ones_first: bool,
                 divisor: Any = None) -> None:
        self.function = function
        self.ones = ones
        self.ones_first = ones_first
        self.divisor = divisor


class Backend(Primitives, Kernels, LossKernels, SpecialFunctions):
    """One object per device; methods are the array primitives of the tape."""

    name = "generic"
    # False for the meta backend: its arrays have shapes and dtypes but no values, so an op
    # skips the fix-ups its values would call for (as PyTorch's meta kernels do)
    holds_values = True
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
        # The elementwise kernels this backend runs as their declared Python over `xp`.
        self._python_kernels = frozenset(
            name for name, declared in KERNELS.items()
            if name not in overridden and isinstance(declared, Kernel)
            and type(self).bind_kernel is Backend.bind_kernel)
        # The dtype objects arrays actually carry (NumPy's xp.float32 is a scalar type, and
        # np.dtype("float32") hashes differently), read off an empty array of each.
        # A namespace may lack some (array-api-strict has no float16): those dtypes are absent.
        self._native_dtypes = NativeDtypes({
            name: xp.empty((0,), dtype=kind, device=native_device).dtype
            for name in DTYPE_NAMES
            if (kind := self.dtype_object(name)) is not None
        }, self.library_name, device)
        # Keyed by the native dtype object: one dict lookup answers `Tensor.dtype`.
        self._dtype_names = {native: name for name, native in self._native_dtypes.items()}
        # The native dtypes of each kind, read by the predicates below. Hot paths (an op's
        # forward on a float tensor and a Python number) test `dtype in backend.floating_dtypes`
        # directly: the same set lookup without the call.
        self.floating_dtypes = frozenset(
            native for name, native in self._native_dtypes.items() if "float" in name
        )
        self.complex_dtypes = frozenset(
            native for name, native in self._native_dtypes.items() if name.startswith("complex")
        )
        self.integer_dtypes = frozenset(
            native for name, native in self._native_dtypes.items() if "int" in name
        )
        self.bool_dtype = self._native_dtypes["bool"]
        # The floating dtypes whose arithmetic with a Python number the library does as PyTorch:
        # not float16, which PyTorch computes in float32 with the number rounded to float32
        # (NumPy rounds the number to float16 first: 0.1 -> 0.09998, 70000 -> inf).
        self.full_precision_floating = frozenset(
            native for name, native in self._native_dtypes.items()
            if name in ("float32", "float64")
        )
        self.default_generator = self.new_generator(DEFAULT_SEED)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} device='{self.device}'>"

    # ----------------------------------------------------------------------------- dtypes
    def dtype_object(self, name: str) -> Any:
        """The library's dtype of this name, or None where it has none. A backend whose
        library gets a dtype from elsewhere (NumPy's bfloat16 from ml_dtypes) overrides this."""
        return getattr(self.xp, name, None)

    @property
    def library_name(self) -> str:
        return str(getattr(self.xp, "__name__", self.name)).replace("array_api_compat.", "")

    def has_dtype(self, name: str) -> bool:
        return name in self._native_dtypes

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
        """`num` evenly spaced values from start to stop, computed as PyTorch computes them:
        the first half as start + step * i, the second as stop - step * (num - 1 - i), in the
        dtype itself (in double for integers, then truncated), so both ends are exact."""
        return self.astype(self._spaced(start, stop, num, dtype), dtype)

    def logspace(self, start: Any, stop: Any, num: int, base: float, dtype: str) -> Array:
        """base ** linspace(start, stop, num): the exponents in the dtype, the powers in
        double, then cast (PyTorch's order of operations)."""
        exponents = self.astype(self._spaced(start, stop, num, dtype), "float64")
        powers = self.pow(self.full((), float(base), "float64"), exponents)
        return self.astype(powers, dtype)

    def _spaced(self, start: Any, stop: Any, num: int, dtype: str) -> Array:
        floating = dtype.startswith(("float", "bfloat"))
        work = dtype if floating else "float64"
        if not floating:  # the ends are first converted to the integer type
            start, stop = int(start), int(stop)
        if num <= 1:
            return self.full((num,), start, work)
        first = self.full((), start, work)
        last = self.full((), stop, work)
        step = self.divide(self.subtract(last, first), self.full((), num - 1, work))
        index = self.arange(0, num, 1, "int64")
        lower = self.add(first, self.multiply(step, self.astype(index, work)))
        upper = self.subtract(last, self.multiply(step, self.astype(
            self.subtract(num - 1, index), work)))
        return self.where(self.less(index, num // 2), lower, upper)

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

    def poisson(self, rates: Array, generator: RandomGenerator | None = None) -> Array:
        """Poisson counts with the given rates (float64). The array API has no sampler but
        uniform numbers: each backend brings its library's."""
        raise RuntimeError(f"{type(self).__name__} has no Poisson sampler")

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

    def windows(self, array: Array, axis: int, size: int, step: int) -> Array:
        """Every window of `size` elements, `step` apart, along `axis`: the windows' index in
        place of `axis`, each window's elements along a new last axis (a copy)."""
        shape = array.shape
        count = (shape[axis] - size) // step + 1
        starts = self.reshape(self.arange(0, count * step, step, "int64"), (count, 1))
        offsets = self.reshape(self.arange(0, size, 1, "int64"), (1, size))
        positions = self.reshape(self.add(starts, offsets), (-1,))
        taken = self.take(array, positions, axis=axis)
        taken = self.reshape(taken, (*shape[:axis], count, size, *shape[axis + 1:]))
        order = [d for d in range(taken.ndim) if d != axis + 1]
        return self.permute_dims(taken, (*order, axis + 1))

    def window_view(self, array: Array, axis: int, size: int, step: int) -> Array:
        """`windows` as a view of `array`'s memory. The array API has no strided views: a
        backend that can make one overrides this; ValueError says it cannot."""
        raise ValueError("this backend makes no strided views")

    def put_along_axis(self, target: Array, indices: Array, values: Array, axis: int) -> None:
        """target[..., indices[...], ...] = values along `axis`, in place (the inverse of
        `take_along_axis`; indices has size 1 along `axis`). The array API has none: this
        compares every position with the index and selects."""
        size = target.shape[axis]
        shape = [1] * target.ndim
        shape[axis] = size
        positions = self.reshape(self.arange(0, size, 1, "int64"), tuple(shape))
        chosen = self.equal(positions, indices)
        values = self.astype(values, self.dtype_name(target))
        self.setitem(target, (...,), self.where(chosen, values, target))

    def index_add(self, target: Array, key: Any, values: Array) -> Array:
        """target[key] += values, accumulating over repeated indices (scatter-add), in place.

        The array API has no scatter-add, so each backend supplies one (NumPy's `add.at`, CuPy's
        `cupyx.scatter_add`), or uses `sorted_index_add`.
        """
        raise NotImplementedError

    def sorted_index_add(self, target: Array, key: Any, values: Array) -> Array:
        """target[key] += values, summing repeated indices, in place, with array-API calls only,
        in an order fixed by the indices alone (so deterministic where atomics are not).

        The flat position of every element `key` selects is read off an index grid with the
        same `key`; a sort groups equal positions, a segmented scan sums each group (pairwise
        within the group, so no cancellation between groups), and a binary search gathers each
        group's total back to a dense array. O(m log m) for m selected elements.
        """
        xp = self.xp
        size = 1
        for extent in target.shape:
            size *= extent
        every = self.arange(0, size, 1, "int64")
        selected = self.selected_positions(self.reshape(every, target.shape), key)
        positions = self.reshape(selected, (-1,))
        count = positions.shape[0]
        if count == 0 or size == 0:
            return target
        values = self.reshape(xp.broadcast_to(self.astype(values, self.dtype_name(target)),
                                              selected.shape), (-1,))
        order = xp.argsort(positions, stable=True)
        positions = xp.take(positions, order)
        totals = xp.take(values, order)
        # Segmented inclusive scan: after the pass with shift d, totals[i] sums the run of equal
        # positions ending at i, up to 2d elements long.
        shift = 1
        while shift < count:
            same = positions[shift:] == positions[:-shift]
            earlier = xp.where(same, totals[:-shift], xp.zeros_like(totals[:-shift]))
            totals = xp.concat([totals[:shift], totals[shift:] + earlier])
            shift *= 2
        # The last element of each run holds the run's total.
        last = xp.searchsorted(positions, every, side="right") - 1
        safe = xp.clip(last, 0, count - 1)
        hit = (last >= 0) & (xp.take(positions, safe) == every)
        dense = xp.where(hit, xp.take(totals, safe), xp.zeros_like(xp.take(totals, safe)))
        self.setitem(target, (...,), target + self.reshape(dense, target.shape))
        return target

    def selected_positions(self, grid: Array, key: Any) -> Array:
        """grid[key] with NumPy's meaning (for `sorted_index_add`)."""
        return grid[key]

    # ----------------------------------------------------------------------------- windows
    def sliding_windows(self, array: Array, window_shape: Shape, stride: Shape,
                        dilation: Shape) -> Array:
        """The windows of `array` over its trailing len(window_shape) dims, shaped
        (*leading, *positions, *window): element [..., o, k] is array[..., o * stride +
        k * dilation] per windowed dim (convolution's im2col, pooling's windows).

        The array API has no strides, so this gathers the windows (a copy, one `take` per
        windowed dim); NumPy and CuPy return a read-only strided view instead.
        """
        count = len(window_shape)
        first = array.ndim - count
        out = array
        # Last windowed dim first: splitting it in two leaves the earlier axes where they are.
        for axis in reversed(range(first, array.ndim)):
            window, step, spacing = (window_shape[axis - first], stride[axis - first],
                                     dilation[axis - first])
            positions = window_positions(array.shape[axis], window, step, spacing)
            starts = self.arange(0, positions * step, step, "int64")
            offsets = self.arange(0, window * spacing, spacing, "int64")
            index = self.reshape(self.add(self.reshape(starts, (-1, 1)), offsets), (-1,))
            out = self.take(out, index, axis=axis)
            shape = out.shape
            out = self.reshape(out, (*shape[:axis], positions, window, *shape[axis + 1:]))
        # (*leading, o0, k0, o1, k1, ...) -> (*leading, o0, o1, ..., k0, k1, ...)
        order = (*range(first), *range(first, first + 2 * count, 2),
                 *range(first + 1, first + 2 * count, 2))
        return self.permute_dims(out, order)

    def fold_windows(self, windows: Array, spatial_shape: Shape, stride: Shape,
                     dilation: Shape, offset: Shape | None = None) -> Array:
        """The adjoint of `sliding_windows` (col2im): a zero array of shape
        (*leading, *spatial_shape) into which every window of `windows` (shaped as
        `sliding_windows` returns them) is added back where it was taken from. One strided
        add per window element (kernel tap), never a loop over positions.

        `offset` (per dim) is the padding the windows were taken from: window element o, k
        lands at o * stride + k * dilation - offset, and what lands outside the array (in the
        padding) is dropped, so no padded buffer is made and cropped."""
        count = len(spatial_shape)
        offset = offset or (0,) * count
        lead = windows.shape[:windows.ndim - 2 * count]
        positions = windows.shape[len(lead):len(lead) + count]
        window = windows.shape[len(lead) + count:]
        out = self.zeros((*lead, *spatial_shape), self.dtype_name(windows))
        for tap in itertools.product(*(range(size) for size in window)):
            target, source = [], []
            for k, o, step, spacing, pad, size in zip(tap, positions, stride, dilation, offset,
                                                      spatial_shape):
                shift = k * spacing - pad  # where window position 0 lands for this tap
                first = max(0, -(shift // step) if shift < 0 else 0)  # first position inside
                last = min(o, (size - 1 - shift) // step + 1) if size - 1 - shift >= 0 else 0
                if last <= first:
                    break
                start = first * step + shift
                target.append(slice(start, start + step * (last - first - 1) + 1, step))
                source.append(slice(first, last))
            else:
                values = self.getitem(windows, (Ellipsis, *source, *tap))
                self._add_slice(out, (Ellipsis, *target), values)
        return out

    def _add_slice(self, out: Array, key: Any, values: Array) -> None:
        """out[key] += values for a key of slices (NumPy adds through the view in place)."""
        self.setitem(out, key, self.add(self.getitem(out, key), values))

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

    def data_ptr(self, array: Array) -> int:
        """The address of the array's first element. The array API has no way to ask: each
        backend answers from its library."""
        raise RuntimeError(f"{type(self).__name__} cannot give the address of its arrays")

    def pinned_host_copy(self, host_array: Any) -> Any:
        """A copy of a host (NumPy) array in page-locked memory, which this device reads by DMA
        without a staging copy: what `pin_memory` gives a CPU tensor. Only devices that copy
        from the host asynchronously have such memory."""
        raise RuntimeError(f"{self.device.type} devices have no page-locked host memory")

    def is_pinned_host(self, host_array: Any) -> bool:
        """Whether a host array lies in memory this device has page-locked."""
        return False

    def transfer(self, array: Array, source: Backend) -> Array:
        """Copy an array of another backend onto this one (through the host by default)."""
        return self.from_numpy(source.to_numpy(array))

    def share_memory(self, array: Array) -> Array:
        """`array`'s values in memory other processes can map (Tensor.share_memory_)."""
        raise RuntimeError(f"share_memory_(): {self.device} tensors cannot be placed in shared "
                           "memory")

    def is_shared(self, array: Array) -> bool:
        return False

    def shared_view(self, array: Array) -> Any:
        """Where a shared array (`share_memory`'s result) lies, picklable for another process
        (torch.multiprocessing); only the CPU's backend shares memory that way."""
        raise RuntimeError(f"{self.device} arrays cannot be sent through shared memory")

    def from_shared_view(self, view: Any) -> Array:
        """The array `shared_view` described, mapped in this process."""
        raise RuntimeError(f"{self.device} arrays cannot be received through shared memory")

    def is_exclusive(self, array: Array) -> bool:
        """True when `array` owns its memory and is writable, so a gradient may be stolen.

        The default is the safe answer: False makes the engine copy before storing a gradient.
        """
        return False

    def is_array(self, obj: Any) -> bool:
        """Whether `obj` is an array of this backend's library (a 0-d result included)."""
        return hasattr(obj, "__array_namespace__")

    def out_argument(self, function: Callable[..., Any]) -> str | None:
        """How `function`, one of this backend's primitives, takes an `out=` array:
        "elementwise" (it may be one of the inputs), "matmul" (it must not overlap them), or
        None (no `out=`; the default, as the array API has none)."""
        return None

    def replay_function(self, function: Callable[..., Any], arrays: list[Array]
                        ) -> Callable[..., Any]:
        """A function a compiled replay may call instead of `function`, one of this backend's
        calls whose array arguments are like `arrays` (same dtypes): the same results, bit
        for bit, faster or taking `out=` (see `out_argument`). By default `function`."""
        return function

    def product_reduction(self, function: Callable[..., Any], array: Array, axis: Any,
                          keepdims: bool) -> ProductReduction | None:
        """How a compiled replay may compute `function(array, axis, keepdims)`, this
        backend's `sum` or `mean`, as a product with ones (compile's `product_reductions`
        option): the same sum in another order, so not bit for bit. None: as it is (the
        default)."""
        return None

    # Bytes per array of one block when a compiled replay runs a chain of elementwise `out=`
    # steps block by block so that the block stays in cache (`compiler/blocking.py`); None:
    # whole arrays, one step after another (the default: a GPU streams each pass anyway).
    replay_block_bytes: int | None = None

    def scalar_operand(self, function: Callable[..., Any]) -> str | None:
        """How a compiled replay passes a Python-number operand to `function` (an elementwise
        `out=` call of `replay_function`) to compute the same elements faster: "0-d" (a 0-d
        array of the result's dtype holding it), "array" (an array of the result's shape
        filled with it), or None (the number itself; the default)."""
        return None

    def memory_owner(self, array: Array) -> Any:
        """The object that owns the memory `array` views (the array itself when it owns it):
        two arrays share memory when their owners are the same object. The array API has no
        views, so by default every array owns its memory."""
        return array

    def owns_memory(self, array: Array) -> bool:
        """Whether `array` holds memory of its own (False for a view of another array)."""
        return True

    # Whether reshapes, permutes and broadcasts of an array share its memory (NumPy's and
    # CuPy's views); the array API promises none.
    makes_views = False

    def synchronize(self) -> None:
        """Wait for queued work; a no-op for synchronous backends."""

    def timing_event(self) -> Any:
        """A marker placed in this device's queue of work, for `elapsed_us`: how the profiler
        times the device work of an op. A synchronous backend has done all its work when the
        marker is placed, so its marker is the host clock."""
        return time.perf_counter_ns()

    def elapsed_us(self, start: Any, end: Any) -> float:
        """Microseconds of device work between two `timing_event` markers (waits for `end`)."""
        return (end - start) / 1000.0

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

    # ----------------------------------------------------------------------------- memory layout
    # The array API has no memory layout: the generic answers describe every array as a fresh,
    # C-contiguous one, and there are no strided views. NumPy and CuPy answer from the array.
    def needs_values(self, operator: str) -> None:
        """Called by an op whose result's shape depends on its input's values (`operator`:
        PyTorch's aten name): a backend without values (meta) raises PyTorch's error."""

    def host_operand(self, array: Array) -> Any:
        """A host (NumPy) copy of `array` for a computation run on the host: its values, or on
        a backend without values a stand-in of its shape and dtype."""
        return self.to_numpy(array)

    def host_result(self, array: Any) -> Array:
        """A host computation's result (NumPy) on this backend (on meta: its shape, dtype and
        layout)."""
        return self.from_numpy(array)

    def any_true(self, array: Array) -> bool:
        """Whether any element is true: the check an op makes on values before it raises. A
        backend without values (meta) answers False, as PyTorch's meta kernels skip such
        checks."""
        return bool(self.item(self.any(array)))

    def all_true(self, array: Array) -> bool:
        """Whether every element is true (True on a backend without values)."""
        return bool(self.item(self.all(array)))

    def strides(self, array: Array) -> Shape:
        """The array's strides, in elements."""
        return contiguous_strides(array.shape)

    def storage_offset(self, array: Array) -> int:
        """Where the array's first element is in the memory it views, in elements."""
        return 0

    def lay_out_empty(self, array: Array) -> Array:
        """`array`, or where it is a new array without elements, the same array with the
        contiguous strides PyTorch gives a new tensor, so that views of it compute theirs from
        them (a library that lays out empty arrays as any other needs nothing)."""
        return array

    def restrided(self, array: Array, shape: Shape, strides: Shape) -> Array:
        """`array`'s memory from its first element seen with this shape and these strides (in
        elements), where the library keeps the strides it is given: for a view that reads no
        element the array does not (strides of dims of size 1, or no elements at all)."""
        if 0 in shape:
            return self.empty(shape, self.dtype_name(array))
        return self.reshape(array, shape)

    def outer_each(self, a: Array, b: Array) -> Array:
        """Per-row outer products: (B, m) and (B, n) -> (B, m, n), out[k] = outer(a[k], b[k])
        (the per-example gradients of a weight under vmap(grad))."""
        return self.einsum("bo,bi->boi", a, b)

    def repeats_along(self, array: Array, axis: int) -> bool:
        """Whether `array` is one slice repeated along `axis` (a broadcast view: stride 0)."""
        return self.strides(array)[axis] == 0

    def storage_size(self, array: Array) -> int:
        """How many elements the memory the array views holds."""
        return math.prod(array.shape)

    def storage(self, array: Array) -> Array:
        """The elements of the memory `array` views, 1-d, in memory order."""
        return self.reshape(array, (-1,))

    def strided_view(self, array: Array, shape: Shape, strides: Shape, offset: int) -> Array:
        """The elements `offset + sum(i * stride)` of `storage(array)`, as a view of `shape`;
        ValueError where the backend makes no strided views (`as_strided` copies them)."""
        raise ValueError("this backend makes no strided views")

    def bitcast_view(self, array: Array, dtype: str) -> Array:
        """The array's memory read as `dtype`, a view: the last dim scaled by the ratio of
        the item sizes (the caller checks that the last dim is contiguous)."""
        return array.view(self._native_dtypes[dtype])

    def contiguous_copy(self, array: Array) -> Array:
        """A copy laid out C-contiguously."""
        return self.xp.asarray(array, copy=True)

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

    # True where a compiled program may record a kernel that runs as Python over `xp` as the
    # array operations it makes, one step each (NumPy: ufuncs, which then take `out=` buffers
    # and run in place like any other elementwise step of the program).
    records_kernel_operations = False

    def kernel_as_python(self, name: str) -> Callable[..., Any] | None:
        """The declared `function(xp, ...)` of elementwise kernel `name` where this backend
        records kernel operations and runs exactly that function over `xp` for it (neither
        compiled nor overridden by the backend's class); None otherwise."""
        if not self.records_kernel_operations or name not in self._python_kernels:
            return None
        declared = KERNELS[name]
        return declared.function if isinstance(declared, Kernel) else None

    from .decompositions import (  # type: ignore[misc]
        cholesky,
        cholesky_ex,
        det,
        eig,
        eigh,
        eigvalsh,
        geqrf,
        householder_product,
        inv,
        ldl_factor,
        ldl_solve,
        lstsq,
        lu_factor,
        lu_permutation,
        lu_solve,
        lu_solve_lapack,
        matrix_exp,
        ormqr,
        qr,
        qr_complete,
        slogdet,
        solve,
        solve_triangular,
        svd,
        svd_full,
        svdvals,
    )
    from .distances import (  # type: ignore[misc]
        euclidean_distances,
        minkowski_distances,
        pairwise_distances,
        upper_pairs,
    )
    from .einsum import einsum  # type: ignore[misc]
    from .fft import fft_c2c, fft_c2r, fft_r2c  # type: ignore[misc]
    from .sorting import (  # type: ignore[misc]
        bincount,
        cumulative_extreme,
        index_reduce,
        inverse_permutation,
        logcumsumexp,
        searchsorted,
        sort_order,
        topk,
        unique,
        unique_consecutive,
        unique_rows,
    )
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


def contiguous_strides(shape: Sequence[int]) -> Shape:
    """The strides, in elements, of a C-contiguous array of `shape`."""
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


def window_positions(size: int, window: int, stride: int, dilation: int) -> int:
    """How many windows of `window` elements `dilation` apart fit in `size`, `stride` apart."""
    return max((size - dilation * (window - 1) - 1) // stride + 1, 0)
