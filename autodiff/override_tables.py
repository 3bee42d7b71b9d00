"""torch.overrides' tables of autodiff's public API: what goes through `__torch_function__`
(`get_overridable_functions`), what does not (`get_ignored_functions`), a dummy of each
overridable function with its signature (`get_testing_overrides`), and their names
(`resolve_name`)."""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import types
from collections.abc import Callable
from typing import Any

from .torch_function import TensorMethod, make_namespace_overridable, tensor_attribute_names

# The namespaces whose public functions go through the protocol, by module name.
NAMESPACES = ("autodiff", "autodiff.nn.functional", "autodiff.linalg", "autodiff.special",
              "autodiff.fft")

# autodiff's public functions that PyTorch does not hand to `__torch_function__` (they take no
# tensors, or answer about the program's state): left as they are.
IGNORED = {
    "autodiff": (
        "are_deterministic_algorithms_enabled", "autocast_decrement_nesting",
        "autocast_increment_nesting", "broadcast_shapes", "clear_autocast_cache", "compile",
        "compile_stats", "get_autocast_cpu_dtype", "get_autocast_dtype",
        "get_autocast_gpu_dtype", "get_default_device", "get_default_dtype",
        "get_deterministic_debug_mode", "get_float32_matmul_precision", "get_num_threads",
        "get_rng_state", "initial_seed", "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
        "is_autocast_available", "is_autocast_cache_enabled", "is_autocast_cpu_enabled",
        "is_autocast_enabled", "is_deterministic_algorithms_warn_only_enabled",
        "is_grad_enabled", "is_inference_mode_enabled", "is_tensor", "load", "manual_seed",
        "reset_compile_stats", "save", "seed", "set_anomaly_enabled",
        "set_autocast_cache_enabled", "set_autocast_cpu_dtype", "set_autocast_cpu_enabled",
        "set_autocast_dtype", "set_autocast_enabled", "set_autocast_gpu_dtype",
        "set_default_device", "set_default_dtype", "set_default_tensor_type",
        "set_deterministic_debug_mode", "set_float32_matmul_precision", "set_num_threads",
        "set_printoptions", "set_rng_state", "thread_safe_generator",
        "use_deterministic_algorithms", "vmap", "while_loop",
    ),
}


# Public functions that go through `__torch_function__` for modes only: PyTorch's factories (and
# a few functions of its ignored list) take no Tensor whose class could take the call over, so
# get_ignored_functions lists them and the tables of overridable functions do not.
MODE_ONLY = {
    "autodiff": (
        "arange", "as_strided", "as_tensor", "asarray", "bartlett_window", "blackman_window",
        "cond", "empty", "empty_permuted", "empty_strided", "eye", "fill", "from_file",
        "from_numpy", "frombuffer", "full", "hamming_window", "hann_window", "kaiser_window",
        "linspace", "logspace", "normal", "ones", "rand", "rand_like", "randint", "randint_like",
        "randn", "randn_like", "randperm", "range", "scalar_tensor", "sparse_bsc_tensor",
        "sparse_bsr_tensor", "sparse_compressed_tensor", "sparse_coo_tensor", "sparse_csc_tensor",
        "sparse_csr_tensor", "tensor", "tril_indices", "triu_indices", "vander", "zeros",
    ),
}


def _module(name: str) -> Any:
    return importlib.import_module(name)


def _public_functions(namespace: str) -> dict[str, Callable[..., Any]]:
    module = _module(namespace)
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and hasattr(value, "_torch_function_of")}


@functools.lru_cache(maxsize=1)
def _tensor_overridables() -> tuple[tuple[str, Any], ...]:
    """(name, the callable handed to handlers) for each Tensor method and property accessor."""
    from .tensor import Tensor

    found: list[tuple[str, Any]] = []
    for name in tensor_attribute_names(Tensor):
        value = vars(Tensor)[name]
        if isinstance(value, property):
            found.append((f"{name}.__get__", value.__get__))
            if value.fset is not None:
                found.append((f"{name}.__set__", value.__set__))
        else:
            found.append((name, value))
    return tuple(found)


def get_overridable_functions() -> dict[Any, list[Callable[..., Any]]]:
    """The functions that go through `__torch_function__`, by namespace (a module, or
    autodiff.Tensor for its methods and property accessors)."""
    from .tensor import Tensor

    table: dict[Any, list[Callable[..., Any]]] = {
        _module(namespace): [function for name, function in
                             sorted(_public_functions(namespace).items())
                             if name not in MODE_ONLY.get(namespace, ())]
        for namespace in NAMESPACES}
    table[Tensor] = [getattr(Tensor, name.split(".")[0]) if "." not in name
                     else _accessor(Tensor, name) for name, _ in _tensor_overridables()]
    return table


def _accessor(tensor_class: type, name: str) -> Any:
    attribute, accessor = name.split(".")
    return getattr(vars(tensor_class)[attribute], accessor)


def get_ignored_functions() -> set[Callable[..., Any]]:
    """Public functions and Tensor methods that do not go through `__torch_function__`."""
    from .tensor import Tensor
    from .torch_function import _NOT_DISPATCHED

    ignored: set[Callable[..., Any]] = set()
    for table in (IGNORED, MODE_ONLY):
        for namespace, names in table.items():
            module = _module(namespace)
            ignored.update(getattr(module, name) for name in names if hasattr(module, name))
    for name in _NOT_DISPATCHED:
        value = vars(Tensor).get(name)
        if isinstance(value, (types.FunctionType, staticmethod, classmethod)):
            ignored.add(getattr(Tensor, name))
    return ignored


def get_testing_overrides() -> dict[Callable[..., Any], Callable[..., Any]]:
    """For each overridable function, a dummy with its signature that returns -1."""
    overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
    for functions in get_overridable_functions().values():
        for function in functions:
            overrides[function] = _dummy(function)
    return overrides


def _dummy(function: Callable[..., Any]) -> Callable[..., Any]:
    def dummy(*args: Any, **kwargs: Any) -> int:
        return -1

    with contextlib.suppress(TypeError, ValueError):  # no signature to copy
        dummy.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
    dummy.__name__ = getattr(function, "__name__", "dummy")
    return dummy


@functools.lru_cache(maxsize=1)
def _names() -> dict[Any, str]:
    names: dict[Any, str] = {}
    for namespace in NAMESPACES:
        prefix = "torch" + namespace[len("autodiff"):]
        for name, function in _public_functions(namespace).items():
            names.setdefault(function, f"{prefix}.{name}")
    return names


def resolve_name(f: Any) -> str | None:
    """PyTorch's name of an overridable function ("torch.add", "torch.Tensor.add",
    "torch.Tensor.shape.__get__"), or None."""
    if isinstance(f, TensorMethod):
        return f"torch.Tensor.{f.name}"
    from .tensor import Tensor

    if getattr(f, "__name__", None) in ("__get__", "__set__"):
        for name, value in vars(Tensor).items():
            if isinstance(value, property) and getattr(f, "__self__", None) is value:
                return f"torch.Tensor.{name}.{f.__name__}"
    for name, value in _tensor_overridables():
        if value == f and "." not in name:
            return f"torch.Tensor.{name}"
    return _names().get(f)


def is_tensor_method_or_property(func: Callable[..., Any]) -> bool:
    """Whether `func` is one of Tensor's methods or property accessors (handlers get `self`
    as the first argument)."""
    if isinstance(func, TensorMethod) or getattr(func, "__name__", None) in ("__get__",
                                                                               "__set__"):
        return True
    return any(value == func for _, value in _tensor_overridables())


def make_namespaces_overridable() -> None:
    """Give each public function of the namespaces its `__torch_function__` wrapper (those of
    nn.functional, linalg, special and fft have theirs already: each module makes its own at
    its end). A function several namespaces share is named in messages after the first of
    NAMESPACES holding it (`torch.relu`, not `torch.nn.functional.relu`)."""
    for namespace in NAMESPACES:
        make_namespace_overridable(vars(_module(namespace)), namespace,
                                   IGNORED.get(namespace, ()))
    for namespace in reversed(NAMESPACES):
        for public in _public_functions(namespace).values():
            public._torch_function_namespace = namespace  # type: ignore[attr-defined]
