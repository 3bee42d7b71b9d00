"""Runs PyTorch's ``>>>`` docstring examples against a torch-shaped library and encodes what
each line produced (value, printed text, or exception) so that two libraries' runs compare.

Random draws are made deterministic: ``randn``, ``rand``, ``randint``, ``randperm``, the
``*_like`` variants and the in-place fillers (``uniform_``, ``normal_``, ...) return numbers
from a seeded NumPy generator, the same numbers for every library, so examples that start from
random inputs still compare value for value; ``empty`` and its kin return zeroed memory.
Operations whose result is random by nature (``bernoulli``, ``multinomial``, ``dropout``, ...)
mark their block *random*: there only dtypes, shapes and exception outcomes compare.

Used by ``record_docstring_examples.py`` (needs torch) and ``test_docstring_examples.py``
(does not)."""

from __future__ import annotations

import builtins
import contextlib
import io
import math
import os
import re
import signal
import tempfile
import types
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

# Functions that draw random numbers; each is replaced by a draw from a seeded generator.
_DRAWS = ("rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like")
# In-place fillers on Tensor, replaced the same way.
_FILLERS = ("uniform_", "normal_", "random_", "exponential_", "cauchy_", "log_normal_",
            "geometric_")
# Results random by nature: the block then compares dtypes, shapes and exceptions only.
RANDOM_NAMES = ("bernoulli", "multinomial", "poisson", "dropout", "dropout1d", "dropout2d",
                "dropout3d", "alpha_dropout", "feature_alpha_dropout", "gumbel_softmax",
                "rrelu", "bernoulli_", "normal", "binomial", "_standard_gamma", "_sample_dirichlet",
                "fractional_max_pool2d", "fractional_max_pool3d", "seed", "initial_seed",
                "random_split")
# Factories of uninitialised memory: their results are zeroed in both libraries (the values
# are unspecified, the dtypes, shapes and strides are not).
_EMPTY = ("empty", "empty_like", "empty_strided", "empty_permuted")
_EMPTY_METHODS = ("new_empty", "new_empty_strided")
_RANDOM_CALL = re.compile(r"\b(" + "|".join(RANDOM_NAMES) + r")\(")


class _Draws:
    """The seeded source of every random draw in one block run."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        self.rng = np.random.default_rng(1234)

    def _dtype(self, dtype: Any) -> Any:
        return self.lib.get_default_dtype() if dtype is None else dtype

    def _make(self, values: np.ndarray, dtype: Any, requires_grad: bool = False) -> Any:
        lib = self.lib
        dtype = self._dtype(dtype)
        if dtype.is_complex:
            values = values.astype(np.complex64 if dtype == lib.complex64 else np.complex128)
        elif dtype.is_floating_point:
            # Round to the requested width first so that both libraries hold the same numbers.
            width = {"torch.float64": np.float64, "torch.float16": np.float16}.get(
                str(dtype), np.float32)
            values = values.astype(width)
        out = lib.from_numpy(np.ascontiguousarray(values)).to(dtype).clone()
        if requires_grad:
            out.requires_grad_(True)
        return out

    @staticmethod
    def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
        if len(size) == 1 and isinstance(size[0], (tuple, list)):  # a Size is a tuple too
            size = tuple(size[0])
        return tuple(int(n) for n in size)

    def _normal(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        if self._dtype(dtype).is_complex:
            return (self.rng.standard_normal(shape)
                    + 1j * self.rng.standard_normal(shape)) / math.sqrt(2)
        return self.rng.standard_normal(shape)

    def randn(self, *size: Any, dtype: Any = None, requires_grad: bool = False,
              **_: Any) -> Any:
        shape = self._size(size)
        return self._make(self._normal(shape, dtype), dtype, requires_grad)

    def rand(self, *size: Any, dtype: Any = None, requires_grad: bool = False,
             **_: Any) -> Any:
        shape = self._size(size)
        values = self.rng.random(shape)
        if self._dtype(dtype).is_complex:
            values = values + 1j * self.rng.random(shape)
        return self._make(values, dtype, requires_grad)

    def randint(self, *args: Any, size: Any = None, dtype: Any = None, **_: Any) -> Any:
        args_list = list(args)
        if size is None:
            size = args_list.pop()
        low, high = (0, args_list[0]) if len(args_list) == 1 else args_list
        values = self.rng.integers(int(low), int(high), self._size((size,)))
        return self._make(values, self.lib.int64 if dtype is None else dtype)

    def randperm(self, n: int, *, dtype: Any = None, requires_grad: bool = False,
                 **_: Any) -> Any:
        values = self.rng.permutation(int(n))
        return self._make(values, self.lib.int64 if dtype is None else dtype, requires_grad)

    def rand_like(self, like: Any, *, dtype: Any = None, requires_grad: bool = False,
                  **_: Any) -> Any:
        return self.rand(tuple(like.shape), dtype=dtype or like.dtype,
                         requires_grad=requires_grad)

    def randn_like(self, like: Any, *, dtype: Any = None, requires_grad: bool = False,
                   **_: Any) -> Any:
        return self.randn(tuple(like.shape), dtype=dtype or like.dtype,
                          requires_grad=requires_grad)

    def randint_like(self, like: Any, *args: Any, dtype: Any = None, **_: Any) -> Any:
        return self.randint(*args, size=tuple(like.shape), dtype=dtype or like.dtype)

    def filler(self, name: str) -> Any:
        draws = self

        def fill(tensor: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs.pop("generator", None)
            shape = tuple(tensor.shape)
            rng = draws.rng
            values: Any
            if name == "uniform_":
                low, high = [*args, kwargs.get("from", 0.0), kwargs.get("to", 1.0)][:2]
                values = rng.uniform(low, high, shape)
            elif name == "normal_":
                mean, std = [*args, kwargs.get("mean", 0.0), kwargs.get("std", 1.0)][:2]
                values = rng.normal(mean, std, shape)
            elif name == "random_":
                bounds = list(args) or [kwargs.get("from", 0), kwargs.get("to", 2 ** 24)]
                low, high = (0, bounds[0]) if len(bounds) == 1 else bounds[:2]
                values = rng.integers(low, 2 ** 24 if high is None else high, shape)
            elif name == "exponential_":
                values = rng.exponential(1.0 / (args[0] if args else kwargs.get("lambd", 1.0)),
                                         shape)
            elif name == "cauchy_":
                values = rng.standard_cauchy(shape)
            elif name == "log_normal_":
                values = rng.lognormal(size=shape)
            else:
                values = rng.geometric(args[0] if args else kwargs["p"], shape)
            made = draws._make(np.asarray(values), tensor.dtype)
            with draws.lib.no_grad():
                tensor.copy_(made)
            return tensor

        return fill


def _zeroed(lib: Any, factory: Any) -> Any:
    def make(*args: Any, **kwargs: Any) -> Any:
        out = factory(*args, **kwargs)
        with lib.no_grad():
            out.zero_()
        return out

    return make


class _Namespace(types.ModuleType):
    """The library as the examples see it: every name passes through except the draws."""

    def __init__(self, lib: Any, draws: _Draws, used: set[str]) -> None:
        super().__init__(lib.__name__)
        self._lib = lib
        for name in _DRAWS:
            setattr(self, name, getattr(draws, name))
        for name in _EMPTY:
            setattr(self, name, _zeroed(lib, getattr(lib, name)))
        self._used = used

    def __getattr__(self, name: str) -> Any:
        if name in RANDOM_NAMES:
            self._used.add(name)
        return getattr(self._lib, name)


def _import_hook(namespace: _Namespace) -> Any:
    real_import = builtins.__import__

    def hooked(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
               level: int = 0) -> Any:
        if level == 0 and (name == "torch" or name.startswith("torch.")):
            if not fromlist:
                return namespace
            module: Any = namespace
            for part in name.split(".")[1:]:
                module = getattr(module, part)
            return module
        return real_import(name, globals, locals, fromlist, level)

    return hooked


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


_LARGE = 256  # elements past which a tensor's values are summarised


@contextlib.contextmanager
def _working_directory(path: str) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def encode(value: Any, lib: Any) -> Any:
    """A JSON-ready record of one produced value."""
    if isinstance(value, lib.Tensor):
        record: dict[str, Any] = {"kind": "tensor", "dtype": str(value.dtype),
                                  "shape": list(value.shape), "repr": repr(value)}
        try:
            plain = value.detach()
            if getattr(plain, "is_sparse", False) or str(getattr(plain, "layout", "")) not in (
                    "torch.strided", ""):
                plain = plain.to_dense()
            if plain.is_conj():
                plain = plain.resolve_conj()
            if plain.is_neg():
                plain = plain.resolve_neg()
            values = np.asarray(plain.tolist())
            if np.iscomplexobj(values):
                record["complex"] = True
                values = np.stack([values.real, values.imag], -1)
            values = values.astype(np.float64)
            if values.size > _LARGE:
                # A large tensor is kept as moments of its values, which close values share,
                # and the start of its repr.
                record["repr"] = record["repr"][:_LARGE]
                flat = values.ravel()
                finite = flat[np.isfinite(flat)]
                record["moments"] = [float(finite.sum()), float(np.abs(finite).sum()),
                                     float(np.square(finite).sum()), int(finite.size)]
            else:
                record["values"] = values.tolist()
        except Exception as error:  # a tensor kind whose values we cannot read: repr compares
            record["values_error"] = type(error).__name__
        return record
    if isinstance(value, (tuple, list)):
        return {"kind": "seq", "type": type(value).__name__,
                "items": [encode(item, lib) for item in value]}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return {"kind": "number", "type": type(value).__name__, "value": float(value)}
    if isinstance(value, complex):
        return {"kind": "number", "type": "complex", "value": [value.real, value.imag]}
    return {"kind": "other", "type": type(value).__name__, "repr": repr(value)}


def _reset(lib: Any) -> None:
    """Undo the global settings an example may have changed."""
    lib.set_default_dtype(lib.float32)
    lib.set_grad_enabled(True)
    lib.set_printoptions(profile="default")
    if hasattr(lib, "set_default_device"):
        lib.set_default_device(None)


def run_block(lib: Any, sources: list[str], time_limit: int = 20) -> dict[str, Any]:
    """Run one docstring's examples in order; one outcome per example."""
    draws = _Draws(lib)
    used = {match for source in sources for match in _RANDOM_CALL.findall(source)}
    namespace = _Namespace(lib, draws, used)
    scope: dict[str, Any] = {"torch": namespace, "np": np, "numpy": np, "math": math,
                             "__builtins__": dict(vars(builtins),
                                                  __import__=_import_hook(namespace))}
    scope["F"] = lib.nn.functional
    scope["nn"] = lib.nn
    saved = {name: lib.Tensor.__dict__.get(name) for name in (*_FILLERS, *_EMPTY_METHODS)}
    for name in _FILLERS:
        setattr(lib.Tensor, name, draws.filler(name))
    for name in _EMPTY_METHODS:
        setattr(lib.Tensor, name, _zeroed(lib, getattr(lib.Tensor, name)))
    outcomes = []
    try:
        # Examples that write files (from_file's) write them in a directory of their own.
        with _time_limit(time_limit), tempfile.TemporaryDirectory() as directory, \
                _working_directory(directory):
            for source in sources:
                outcomes.append(_run_one(lib, source, scope))
    except _Timeout:
        outcomes.append({"error": ["Timeout", ""], "stdout": ""})
    finally:
        for name, method in saved.items():
            if method is None:
                delattr(lib.Tensor, name)
            else:
                setattr(lib.Tensor, name, method)
        _reset(lib)
    return {"outcomes": outcomes, "random": sorted(used)}


def _run_one(lib: Any, source: str, scope: dict[str, Any]) -> dict[str, Any]:
    out = io.StringIO()
    outcome: dict[str, Any] = {}
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                code = compile(source, "<example>", "eval")
            except SyntaxError:
                exec(compile(source, "<example>", "exec"), scope)
            else:
                value = eval(code, scope)
                if value is not None:
                    outcome["value"] = encode(value, lib)
    except _Timeout:
        raise
    except Exception as error:
        outcome["error"] = [type(error).__name__, str(error).split("\n")[0]]
    outcome["stdout"] = out.getvalue()
    return outcome


def _close(expected: Any, actual: Any, rtol: float, atol: float) -> bool:
    expected_array = np.asarray(expected, dtype=float)
    actual_array = np.asarray(actual, dtype=float)
    return expected_array.shape == actual_array.shape and bool(
        np.allclose(actual_array, expected_array, rtol=rtol, atol=atol, equal_nan=True))


def _same(expected: Any, actual: Any) -> bool:
    """Equal bit for bit as the printer sees them, the sign of zero included."""
    expected_array = np.asarray(expected, dtype=float)
    actual_array = np.asarray(actual, dtype=float)
    return bool(np.array_equal(expected_array, actual_array, equal_nan=True)) and bool(
        np.array_equal(np.signbit(expected_array), np.signbit(actual_array)))


def compare_value(expected: Any, actual: Any, where: str, values: bool = True) -> list[str]:
    """Differences between two encoded values, each a short line."""
    if isinstance(expected, dict) and isinstance(actual, dict) and \
            expected.get("kind") == actual.get("kind"):
        kind = expected["kind"]
        if kind == "tensor":
            problems = []
            if expected["dtype"] != actual["dtype"]:
                problems.append(f"{where}: dtype {actual['dtype']} != {expected['dtype']}")
            if expected["shape"] != actual["shape"]:
                problems.append(f"{where}: shape {actual['shape']} != {expected['shape']}")
            if problems or not values:
                return problems
            if "values" in expected and "values" in actual:
                half = expected["dtype"] in ("torch.float16", "torch.bfloat16",
                                             "torch.complex32")
                rtol, atol = (1e-2, 1e-3) if half else (1e-4, 1e-5)
                if expected.get("complex") != actual.get("complex") or not _close(
                        expected["values"], actual["values"], rtol, atol):
                    return [f"{where}: values {actual['repr']!r} != {expected['repr']!r}"]
                if not _same(expected["values"], actual["values"]):
                    # Rounding differences: the printed digits may differ, the values agree.
                    return []
            if "moments" in expected and "moments" in actual:
                count = expected["moments"][3]
                scale = expected["moments"][1] / max(count, 1)
                if expected["moments"][3] != actual["moments"][3] or not np.allclose(
                        actual["moments"][:3], expected["moments"][:3], rtol=1e-4,
                        atol=1e-5 * (1 + scale) * count):
                    return [f"{where}: values {actual['repr']!r} != {expected['repr']!r}"]
                if actual["moments"] != expected["moments"]:
                    return []
            if expected["repr"] != actual["repr"]:
                return [f"{where}: repr {actual['repr']!r} != {expected['repr']!r}"]
            return []
        if kind == "seq":
            if expected["type"] != actual["type"] or len(expected["items"]) != len(
                    actual["items"]):
                return [f"{where}: {actual['type']}[{len(actual['items'])}] != "
                        f"{expected['type']}[{len(expected['items'])}]"]
            problems = []
            for index, (left, right) in enumerate(zip(expected["items"], actual["items"])):
                problems += compare_value(left, right, f"{where}[{index}]", values)
            return problems
        if kind == "number":
            if expected["type"] != actual["type"]:
                return [f"{where}: {actual['type']} != {expected['type']}"]
            if values and not _close(expected["value"], actual["value"], 1e-4, 1e-5):
                return [f"{where}: {actual['value']} != {expected['value']}"]
            return []
        if expected != actual and values:
            return [f"{where}: {actual.get('repr')!r} != {expected.get('repr')!r}"]
        return []
    if expected != actual and (values or type(expected) is not type(actual)):
        return [f"{where}: {actual!r} != {expected!r}"]
    return []


def compare_block(expected: dict[str, Any], actual: dict[str, Any],
                  sources: list[str], loose: Any = ()) -> list[str]:
    """Differences between two runs of one block (the first run is the reference). Lines in
    `loose` (indices) compare only what they raise, dtypes and shapes: their values depend on
    rounding or on an order the documentation leaves open."""
    problems: list[str] = []
    for index, (left, right) in enumerate(zip(expected["outcomes"], actual["outcomes"])):
        values = not expected["random"] and index not in loose
        where = f"[{index}] {sources[index].strip()[:70]}"
        if index in loose and left.get("error") and right.get("error"):
            if left["error"][0] != right["error"][0]:
                problems.append(f"{where}: error {right.get('error')} != {left.get('error')}")
            continue
        if left.get("error") != right.get("error"):
            problems.append(f"{where}: error {right.get('error')} != {left.get('error')}")
            continue
        problems += compare_value(left.get("value"), right.get("value"), where, values)
        if values and left["stdout"] != right["stdout"]:
            problems.append(f"{where}: printed {right['stdout']!r} != {left['stdout']!r}")
    if len(expected["outcomes"]) != len(actual["outcomes"]):
        problems.append(f"ran {len(actual['outcomes'])} of {len(expected['outcomes'])} lines")
    return problems
