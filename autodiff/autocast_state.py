"""Autocast's state and the wrapper that applies the op lists (`autocast_lists.py`).

The state is PyTorch's: per thread, each device type's flag and dtype (bfloat16 on the CPU,
float16 on CUDA), whether weight casts are cached, and how deeply autocast regions nest; the
cache of weight casts is shared (as PyTorch's, under a lock) and emptied when the outermost
region closes. `autodiff.amp.autocast` is only a context manager over these functions.

An op on a list is decorated with `autocast_op(aten_name)`. While no mode is on (an active
autocast region is one, `hot_path.py`) the public function skips the wrapper (`fast_path`).
Inside, it casts the op's floating tensor arguments as the op's policy says (each a recorded
`to`, so its backward casts the gradient back: a float32 leaf gets a float32 gradient), then
runs the op with autocast suspended, as PyTorch's wrappers exclude the autocast dispatch keys:
ops the op calls are not cast again. Backward runs under whatever state the thread calling
`backward` has, as in PyTorch (where the graph task carries the caller's thread-local state):
the saved inputs are already in the dtype the forward used. `observing` lets jit.trace see
what autocast made of a call (the casts and the arguments the op ran on), to record them.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from backends import parse_device

from . import dtypes
from .autocast_lists import BANNED_MESSAGES, POLICIES
from .hot_path import fast_path, modes
from .user_warnings import warn

if TYPE_CHECKING:
    from .tensor import Tensor

AUTOCAST_DEVICE_TYPES = ("cpu", "cuda")
_DEFAULT_DTYPES = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = dict.fromkeys(AUTOCAST_DEVICE_TYPES, False)
        self.dtype = dict(_DEFAULT_DTYPES)
        self.cache_enabled = True
        self.nesting = 0
        self.suspended = 0
        self.active = False  # some device type is enabled and no autocast op is running
        self.observer: Rewrite | None = None  # jit.trace's view of the next call (observing)

    def refresh(self) -> None:
        global _active_threads
        active = self.suspended == 0 and any(self.enabled.values())
        if active != self.active:
            with _count_lock:
                _active_threads += 1 if active else -1
            if active:  # the public functions' wrappers take their full path
                modes.enter()
            else:
                modes.exit()
        self.active = active


class Rewrite:
    """What autocast made of the first call under `observing`: the arguments it was given
    and those the op ran on (cast, or with a float32 dtype); None when it changed nothing."""

    def __init__(self) -> None:
        self.seen = False
        self.given: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self.ran: tuple[tuple[Any, ...], dict[str, Any]] | None = None


@contextlib.contextmanager
def observing() -> Iterator[Rewrite]:
    """Note what autocast does to the first call made inside (jit.trace records the casts as
    ops of their own and the op on the cast tensors, as PyTorch's tracer does)."""
    previous, state.observer = state.observer, Rewrite()
    try:
        yield state.observer
    finally:
        state.observer = previous


state = _State()
# How many threads have autocast active: while none has, an op's wrapper reads this global only
# (a thread-local attribute costs several times a global's lookup).
_active_threads = 0
_count_lock = threading.Lock()

# The cache of weight casts: id(source) -> (source, its cast). The source is held, so its id
# cannot be reused by another tensor while the entry lives (cleared with the outermost region).
_cached_casts: dict[int, tuple[Tensor, Tensor]] = {}
_cache_lock = threading.Lock()


def _check_device_type(device_type: str) -> str:
    """The device type of a device string ("cpu", "cuda:1"), which must have autocast."""
    if device_type not in AUTOCAST_DEVICE_TYPES:
        device_type = parse_device(device_type).type  # PyTorch's errors for a bad string
        if device_type not in AUTOCAST_DEVICE_TYPES:
            raise RuntimeError(
                "unknown device type for autocast in get_autocast_dispatch_key_from_device_type")
    return device_type


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast exists for a device type (the CPU and CUDA); a device string that names
    no device raises PyTorch's error."""
    return parse_device(device_type).type in AUTOCAST_DEVICE_TYPES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for `device_type` (CUDA when none is given, as PyTorch)."""
    return state.enabled[_check_device_type("cuda" if device_type is None else device_type)]


def set_autocast_enabled(device_type: Any, enabled: bool | None = None) -> None:
    """set_autocast_enabled(device_type, enabled), or the legacy set_autocast_enabled(enabled)
    for CUDA."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    state.enabled[_check_device_type(device_type)] = bool(enabled)
    state.refresh()


def get_autocast_dtype(device_type: str) -> dtypes.dtype:
    return state.dtype[_check_device_type(device_type)]


def set_autocast_dtype(device_type: str, dtype: dtypes.dtype) -> None:
    state.dtype[_check_device_type(device_type)] = dtype


def is_autocast_cache_enabled() -> bool:
    return state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    state.cache_enabled = bool(enabled)


def autocast_increment_nesting() -> int:
    state.nesting += 1
    return state.nesting


def autocast_decrement_nesting() -> int:
    state.nesting -= 1
    return state.nesting


def clear_autocast_cache() -> None:
    with _cache_lock:
        _cached_casts.clear()


def signature() -> tuple[Any, ...] | None:
    """What autocast changes about the ops this thread runs now (None while it changes
    nothing): a compiled function's program holds the casts of the state it was traced in."""
    if not _active_threads or not state.active:
        return None
    return (tuple(state.enabled.items()), tuple(state.dtype.items()))


class isolated_cache:
    """Weight casts made inside start from an empty cache and are dropped on exit; the casts
    cached before are back afterwards. A compiled function's trace runs inside one, so its
    program casts the weights it reads rather than holding a cast made before the call."""

    def __enter__(self) -> None:
        with _cache_lock:
            self.saved = dict(_cached_casts)
            _cached_casts.clear()

    def __exit__(self, *exc_info: object) -> None:
        with _cache_lock:
            _cached_casts.clear()
            _cached_casts.update(self.saved)


# PyTorch's per-device spellings, deprecated there (DeprecationWarning) in favour of the above.
def _deprecated(old: str, new: str) -> None:
    warn(f"torch.{old} is deprecated. Please use torch.{new} instead.",
         DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled() -> bool:
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype() -> dtypes.dtype:
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype: dtypes.dtype) -> None:
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype() -> dtypes.dtype:
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype: dtypes.dtype) -> None:
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


# ----------------------------------------------------------------------------- the wrapper
Function = TypeVar("Function", bound=Callable[..., Any])
NameChooser = Callable[..., "str | None"]


def autocast_op(name: str | NameChooser) -> Callable[[Function], Function]:
    """Decorate an op's public function with its ATen name (or a function of the op's arguments
    giving the name, for a function that is several ATen ops: `pad` by mode and size)."""

    def decorate(function: Function) -> Function:
        dtype_position = _dtype_position(function)

        @functools.wraps(function)
        def autocast_wrapper(*args: Any, **kwargs: Any) -> Any:
            if not _active_threads or not state.active:
                return function(*args, **kwargs)
            aten_name = name if isinstance(name, str) else name(*args, **kwargs)
            return _call(aten_name, function, dtype_position, args, kwargs)

        return fast_path(autocast_wrapper, function, vmap_blind=True)  # type: ignore[return-value]

    return decorate


def _dtype_position(function: Callable[..., Any]) -> int | None:
    parameters = list(inspect.signature(function).parameters.values())
    for position, parameter in enumerate(parameters):
        if parameter.name == "dtype":
            return position if parameter.kind is parameter.POSITIONAL_OR_KEYWORD else None
    return None


def _is_tensor(value: Any) -> bool:
    from .tensor import Tensor  # the Tensor <-> ops cycle: ops import this module

    return isinstance(value, Tensor)


def _first_tensor(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor | None:
    for value in (*args, *kwargs.values()):
        if _is_tensor(value):
            return value
        if isinstance(value, (list, tuple)):
            for item in value:
                if _is_tensor(item):
                    return item
    return None


def _call(aten_name: str | None, function: Callable[..., Any], dtype_position: int | None,
          args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    rewritten = _rewritten(aten_name, dtype_position, args, kwargs)
    observer = state.observer
    if observer is not None and not observer.seen:
        observer.seen = True
        if rewritten is not None:
            observer.given, observer.ran = (args, kwargs), rewritten
    if rewritten is None:
        return function(*args, **kwargs)
    args, kwargs = rewritten
    state.suspended += 1
    state.refresh()  # inactive: counted out, so that leaving counts it back in once
    try:
        return function(*args, **kwargs)
    finally:
        state.suspended -= 1
        state.refresh()


def _rewritten(aten_name: str | None, dtype_position: int | None, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """The arguments the op runs on under its policy; None when it has none here (the op then
    runs as called, autocast still on for the ops it calls)."""
    first = _first_tensor(args, kwargs)
    device_type = None if first is None else first.device.type
    policy = (None if aten_name is None or device_type is None
              or not state.enabled.get(device_type, False)
              else POLICIES[device_type].get(aten_name))
    if policy is None:
        return None
    assert device_type is not None and aten_name is not None
    if policy == "banned":
        raise RuntimeError(BANNED_MESSAGES[aten_name])
    low = state.dtype[device_type]
    if policy in ("fp32_set_opt_dtype", "fp32_append_dtype"):
        return _with_float32_dtype(policy, device_type, dtype_position, args, kwargs)
    if policy == "lower_precision_fp":
        target = low
    elif policy == "fp32":
        target = dtypes.float32
    else:
        target = _promote_type(low, device_type, args, kwargs)
    return (tuple(_cast(value, target, low, device_type) for value in args),
            {key: _cast(value, target, low, device_type) for key, value in kwargs.items()})


def _eligible(tensor: Tensor, device_type: str) -> bool:
    kind = tensor.dtype
    return (kind.is_floating_point and kind is not dtypes.float64
            and tensor.device.type == device_type)


def _cast(value: Any, target: dtypes.dtype, low: dtypes.dtype, device_type: str) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(item, target, low, device_type) for item in value)
    if not _is_tensor(value) or not _eligible(value, device_type) or value.dtype is target:
        return value
    # Apex's heuristic, as PyTorch: a float32 leaf that requires grad (a weight) is cast once
    # per region, however many ops use it.
    if (target is low and value.dtype is dtypes.float32 and value.requires_grad
            and value.is_leaf and value._base is None and state.cache_enabled):
        with _cache_lock:
            entry = _cached_casts.get(id(value))
            if entry is not None and entry[0] is value:
                return entry[1]
            cast = value.to(target)
            _cached_casts[id(value)] = (value, cast)
            return cast
    return value.to(target)


def _promote_type(low: dtypes.dtype, device_type: str, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> dtypes.dtype:
    current = low
    for value in (*args, *kwargs.values()):
        items = value if isinstance(value, (list, tuple)) else (value,)
        for item in items:
            if not _is_tensor(item) or not item.dtype.is_floating_point:
                continue
            if item.device.type != device_type or item.dtype is dtypes.float64:
                continue
            if current is dtypes.float32 or item.dtype is dtypes.float32:
                current = dtypes.float32
            elif item.dtype is not low:
                raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return current


def _with_float32_dtype(policy: str, device_type: str, dtype_position: int | None,
                        args: tuple[Any, ...], kwargs: dict[str, Any],
                        ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    first = args[0] if args else None
    eligible = first is not None and _is_tensor(first) and _eligible(first, device_type)
    given = kwargs.get("dtype")
    if dtype_position is not None and len(args) > dtype_position:
        given = args[dtype_position]
    if policy == "fp32_set_opt_dtype":
        # The caller's dtype is kept; an ineligible input runs unchanged.
        if given is not None or not eligible:
            return args, kwargs
        return args, {**kwargs, "dtype": dtypes.float32}
    # fp32_append_dtype: the overloads without a dtype run with one (the input's own when the
    # input is not eligible).
    if given is not None:
        return args, kwargs
    assert first is not None
    return args, {**kwargs, "dtype": dtypes.float32 if eligible else first.dtype}
