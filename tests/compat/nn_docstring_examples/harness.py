"""Run a PyTorch docstring example against one library and record what it produced.

A block is the ``>>>`` code of one docstring (torch.nn modules, nn.utils, nn.init, optim,
distributions, autograd.functional / forward_ad / graph).  It runs with ``torch`` bound to the
library under test through an import hook, so ``import torch.nn as nn`` inside a block resolves
to the library's own ``nn``.  Both libraries must see the same numbers:

* ``torch.randn`` / ``rand`` / ``randint`` / ``randperm`` / ``empty`` / ... draw from one seeded
  NumPy generator, so every block gets the same inputs in either library;
* every ``nn.Module`` built by a block gets deterministic parameters (a parameter initialised to
  non-constant values is overwritten with seeded uniform numbers), so module outputs agree.

What is left random (dropout, ``Distribution.sample``, ``nn.init.uniform_``) is found by running
the reference twice under different seeds; such values are compared by shape and dtype only.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import io
import math
import re
import types
import zlib

import numpy as np

_NP_DTYPES = {
    "torch.float16": np.float16, "torch.float32": np.float32, "torch.float64": np.float64,
    "torch.bfloat16": np.float32, "torch.complex64": np.complex64,
    "torch.complex128": np.complex128, "torch.int8": np.int8, "torch.uint8": np.uint8,
    "torch.int16": np.int16, "torch.int32": np.int32, "torch.int64": np.int64,
    "torch.bool": np.bool_,
}

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class Runner:
    """Binds one library (``torch`` or ``autodiff``) and runs blocks against it."""

    def __init__(self, lib_name: str):
        self.lib_name = lib_name
        self.lib = importlib.import_module(lib_name)
        self._proxies: dict[str, types.ModuleType] = {}
        self._wrapped: dict[type, type] = {}
        self.rng = np.random.RandomState(0)
        self.module_count = 0

    # ---------- deterministic numbers -------------------------------------------------
    def to_lib(self, array, dtype=None, requires_grad=False):
        lib = self.lib
        if dtype is None and np.issubdtype(array.dtype, np.floating):
            dtype = lib.get_default_dtype()
        if dtype is not None:
            target = _NP_DTYPES.get(str(dtype), np.float32)
            array = array.astype(target)
        out = lib.from_numpy(np.ascontiguousarray(array).copy())
        if dtype is not None and str(dtype) == "torch.bfloat16":
            out = out.to(dtype)
        if requires_grad:
            out.requires_grad_(True)
        return out

    @staticmethod
    def _size(size):
        if len(size) == 1 and (isinstance(size[0], (tuple, list))
                               or type(size[0]).__name__ == "Size"):
            return tuple(int(s) for s in size[0])
        return tuple(int(s) for s in size)

    def _random_functions(self):
        rng = self.rng

        def randn(*size, dtype=None, requires_grad=False, **_):
            shape = self._size(size)
            if dtype is not None and "complex" in str(dtype):
                values = (rng.standard_normal(shape)
                          + 1j * rng.standard_normal(shape)) / math.sqrt(2)
                return self.to_lib(values, dtype, requires_grad)
            return self.to_lib(rng.standard_normal(shape), dtype, requires_grad)

        def rand(*size, dtype=None, requires_grad=False, **_):
            return self.to_lib(rng.random_sample(self._size(size)), dtype, requires_grad)

        def empty(*size, dtype=None, requires_grad=False, **_):
            shape = self._size(size)
            if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
                return self.to_lib(np.zeros(shape), dtype, requires_grad)
            return self.to_lib(rng.standard_normal(shape), dtype, requires_grad)

        def randint(*args, size=None, dtype=None, requires_grad=False, **_):
            args = list(args)
            if size is None:
                size = args.pop()
            low, high = (0, args[0]) if len(args) == 1 else args
            dtype = dtype if dtype is not None else self.lib.int64
            return self.to_lib(rng.randint(low, high, size=tuple(size)), dtype, requires_grad)

        def randn_like(x, dtype=None, requires_grad=False, **_):
            return randn(tuple(x.shape), dtype=dtype or x.dtype, requires_grad=requires_grad)

        def rand_like(x, dtype=None, requires_grad=False, **_):
            return rand(tuple(x.shape), dtype=dtype or x.dtype, requires_grad=requires_grad)

        def randint_like(x, *args, dtype=None, **_):
            return randint(*args, size=tuple(x.shape), dtype=dtype or x.dtype)

        def randperm(n, dtype=None, **_):
            return self.to_lib(rng.permutation(int(n)), dtype or self.lib.int64)

        def bernoulli(p, *args, **_):
            values = rng.random_sample(tuple(p.shape)) < self.to_numpy(p)
            return self.to_lib(values.astype(np.float64), p.dtype)

        def manual_seed(seed):
            return self.lib.manual_seed(seed)

        return {
            "randn": randn, "rand": rand, "empty": empty, "randint": randint,
            "randn_like": randn_like, "rand_like": rand_like, "randint_like": randint_like,
            "randperm": randperm, "bernoulli": bernoulli, "manual_seed": manual_seed,
        }

    def to_numpy(self, tensor):
        tensor = tensor.detach()
        if getattr(tensor, "is_sparse", False) or str(getattr(tensor, "layout", "")) not in (
            "torch.strided", ""
        ):
            with contextlib.suppress(Exception):
                tensor = tensor.to_dense()
        if tensor.dtype == self.lib.bfloat16:
            tensor = tensor.float()
        if tensor.is_complex():
            tensor = tensor.resolve_conj()
        return np.array(tensor.cpu().resolve_neg().numpy())

    # ---------- deterministic modules ---------------------------------------------------
    def _seed_parameters(self, module):
        self.module_count += 1
        count = self.module_count
        with self.lib.no_grad():
            for name, param in module.named_parameters():
                if param.numel() < 2 or param.dtype.is_complex or not param.dtype.is_floating_point:
                    continue
                if getattr(param, "is_meta", False) or type(param).__name__.startswith("Uninit"):
                    continue
                values = self.to_numpy(param)
                if np.all(values == values.flat[0]):
                    continue
                seed = zlib.crc32(f"{count}:{name}".encode())
                shape = values.shape
                fan_in = max(1, values.size // shape[0]) if len(shape) >= 2 else values.size
                draw = np.random.RandomState(seed).uniform(-1, 1, shape) / math.sqrt(fan_in)
                param.copy_(self.to_lib(draw, param.dtype))

    def _wrap_module_class(self, cls):
        wrapped = self._wrapped.get(cls)
        if wrapped is None:
            runner = self
            original_init = cls.__init__

            def __init__(self, *args, **kwargs):
                runner._depth += 1
                try:
                    original_init(self, *args, **kwargs)
                finally:
                    runner._depth -= 1
                if runner._depth == 0:
                    runner._seed_parameters(self)

            wrapped = type(cls.__name__, (cls,),
                           {"__init__": __init__, "__module__": cls.__module__})
            wrapped.__qualname__ = cls.__qualname__
            self._wrapped[cls] = wrapped
        return wrapped

    _depth = 0

    # ---------- the ``torch`` seen by a block ----------------------------------------------
    def proxy(self, dotted: str):
        """The library's module for ``dotted`` (a ``torch.*`` name) as a block sees it."""
        proxy = self._proxies.get(dotted)
        if proxy is not None:
            return proxy
        real_name = self.lib_name + dotted[len("torch"):]
        real = importlib.import_module(real_name)
        runner = self
        randoms = self._random_functions() if dotted == "torch" else {}

        class Proxy(types.ModuleType):
            def __getattr__(self, name):
                if name in randoms:
                    return randoms[name]
                try:
                    value = getattr(real, name)
                except AttributeError:
                    try:
                        importlib.import_module(f"{real_name}.{name}")
                    except ImportError:
                        raise AttributeError(
                            f"module '{dotted}' has no attribute '{name}'"
                        ) from None
                    value = getattr(real, name)
                if isinstance(value, types.ModuleType) and value.__name__.startswith(
                    runner.lib_name + "."
                ):
                    return runner.proxy("torch" + value.__name__[len(runner.lib_name):])
                if (
                    isinstance(value, type)
                    and issubclass(value, runner.lib.nn.Module)
                    and value.__name__ not in ("Module",)
                ):
                    return runner._wrap_module_class(value)
                return value

        proxy = Proxy(dotted)
        self._proxies[dotted] = proxy
        return proxy

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == "torch" or name.startswith("torch.")):
            leaf = self.proxy(name)
            if fromlist:
                return leaf
            return self.proxy("torch")
        return builtins.__import__(name, globals, locals, fromlist, level)

    def namespace(self, preset_names):
        """Globals for a block: ``torch``, ``nn``, ``F``, ``D`` and the names the docstring's own
        module offers (``Normal`` for a distribution, ``StepLR`` for a scheduler)."""
        builtins_dict = dict(vars(builtins))
        builtins_dict["__import__"] = self._import
        namespace = {
            "__builtins__": builtins_dict, "__name__": "__docstring_example__",
            "torch": self.proxy("torch"), "nn": self.proxy("torch.nn"),
            "F": self.proxy("torch.nn.functional"), "D": self.proxy("torch.distributions"),
        }
        for dotted, name in preset_names:
            if name in namespace:
                continue
            with contextlib.suppress(ImportError, AttributeError):
                namespace[name] = getattr(self.proxy(dotted), name)
        return namespace

    # ---------- running ---------------------------------------------------------------
    def run(self, block, seed=0):
        """Run each chunk of ``block``; return one record per chunk and a final snapshot."""
        self.rng.seed(1234)
        self.module_count = 0
        self.lib.manual_seed(seed)
        namespace = self.namespace(block["preset"])
        preset = set(namespace)
        exec(STAND_INS, namespace)
        records = []
        for chunk in block["chunks"]:
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    try:
                        code = compile(chunk, "<example>", "eval")
                    except SyntaxError:
                        exec(compile(chunk, "<example>", "exec"), namespace)
                        value = None
                    else:
                        value = eval(code, namespace)
                records.append(["ok", self.normalize(value), _sanitize(out.getvalue())])
            except Exception as error:  # the record compares exceptions too
                records.append(_error_record(error))
        snapshot = {}
        for name, value in namespace.items():
            if name in preset or name.startswith("_") or isinstance(value,
                                                                      (types.ModuleType, type)):
                continue
            if callable(value) and not isinstance(value, (self.lib.Tensor, self.lib.nn.Module)):
                continue
            try:
                snapshot[name] = self.normalize(value, final=True)
            except Exception as error:
                snapshot[name] = ["unreadable", type(error).__name__]
        return {"chunks": records, "final": snapshot}

    def normalize(self, value, final=False, depth=0):
        """A library-neutral record of ``value``: nested lists, strings, numbers, arrays."""
        lib = self.lib
        if depth > 6:
            return ["deep"]
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return ["float", value]
        if isinstance(value, complex):
            return ["complex", value.real, value.imag]
        if isinstance(value, lib.Tensor):
            record = ["tensor", list(value.shape), str(value.dtype), bool(value.requires_grad)]
            try:
                record.append(self.to_numpy(value))
            except Exception as error:
                record.append(["unreadable", type(error).__name__])
            if final and value.is_leaf and value.requires_grad:
                grad = value.grad
                record.append(None if grad is None else self.normalize(grad))
            return record
        if isinstance(value, lib.nn.Module):
            named = [[n, list(p.shape)] for n, p in value.named_parameters()]
            record = ["module", _sanitize(repr(value)), named, list(value.state_dict().keys()),
                      bool(value.training)]
            if final:
                record.append([[n, self.normalize(p)] for n, p in value.state_dict().items()])
                record.append([[n, None if p.grad is None else self.normalize(p.grad)]
                               for n, p in value.named_parameters()])
            return record
        if isinstance(value, (lib.dtype, lib.device)):
            return ["str", str(value)]
        if isinstance(value, lib.Size):
            return ["size", [int(s) for s in value]]
        if isinstance(value, types.GeneratorType):
            return ["generator"]
        if isinstance(value, dict):
            return ["dict", [[self.normalize(k, final, depth + 1),
                              self.normalize(v, final, depth + 1)] for k, v in value.items()]]
        if isinstance(value, (tuple, list)):
            return [type(value).__name__ if type(value) in (tuple, list) else "tuple",
                    [self.normalize(v, final, depth + 1) for v in value]]
        if isinstance(value, lib.distributions.Distribution):
            record = ["distribution", type(value).__name__, list(value.batch_shape),
                      list(value.event_shape)]
            with contextlib.suppress(Exception):
                record.append(_sanitize(repr(value)))
            return record
        if isinstance(value, lib.optim.Optimizer):
            return ["optimizer", _sanitize(repr(value))]
        if isinstance(value, lib.optim.lr_scheduler.LRScheduler):
            return ["scheduler", type(value).__name__, value.last_epoch,
                    self.normalize(value.get_last_lr(), final, depth + 1)]
        return ["object", type(value).__name__]


# Names that examples use without defining them (``model``, ``optimizer``, ``train(...)``).
STAND_INS = """
model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = nn.MSELoss()
dataset = [(torch.randn(2, 4), torch.randn(2, 2)) for _ in range(3)]
data_loader = dataloader = loader = train_loader = dataset
def train(*args, **kwargs):
    optimizer.step()
train_batch = train
def validate(*args, **kwargs):
    return 1.0
"""


def _error_record(error: Exception) -> list:
    message = str(error).strip().split("\n")[0]
    # Without CUDA, PyTorch's CPU build asserts while autodiff says CuPy is missing (its CUDA
    # backend is CuPy): both say the same thing, in their own words.
    if message == "Torch not compiled with CUDA enabled" or message.startswith(
        "CUDA backend requires CuPy"
    ):
        return ["error", "CUDA unavailable", ""]
    return ["error", type(error).__name__, _sanitize(message)]


def _sanitize(text: str) -> str:
    return _ADDRESS.sub(" at 0x?", text).replace("autodiff.", "torch.")


# ---------- comparing two records ---------------------------------------------------------
class RandomLeaf:
    """A value the reference draws at random (it differs between seeds): compared by kind."""

    def __init__(self, kind: str):
        self.kind = kind

    def __repr__(self) -> str:
        return f"RandomLeaf({self.kind})"


def _kind(value) -> str:
    return type(value).__name__


def mark_random(expected, others):
    """``expected`` with every leaf that differs under another seed replaced by a RandomLeaf."""
    if isinstance(expected, dict):
        return {key: mark_random(value, [o.get(key) if isinstance(o, dict) else None
                                         for o in others])
                for key, value in expected.items()}
    if isinstance(expected, list) and not (expected and expected[0] == "float"):
        marked = []
        for i, value in enumerate(expected):
            other = [o[i] if isinstance(o, list) and len(o) == len(expected) else None
                     for o in others]
            marked.append(mark_random(value, other))
        return marked
    if all(_same(expected, other) for other in others):
        return expected
    return RandomLeaf(_kind(expected))


DIGEST_LIMIT = 64


def digest(record):
    """``record`` with each array longer than DIGEST_LIMIT replaced by its first 16 values and
    its mean, mean absolute value and root mean square (keeps a fixture small)."""
    if isinstance(record, dict):
        return {key: digest(value) for key, value in record.items()}
    if isinstance(record, list):
        return [digest(value) for value in record]
    if isinstance(record, np.ndarray) and record.size > DIGEST_LIMIT and record.dtype != object:
        flat = record.reshape(-1)
        if flat.dtype.kind == "c":
            flat = np.abs(flat)
        flat = flat.astype(np.float64)
        finite = flat[np.isfinite(flat)]
        stats = [finite.mean(), np.abs(finite).mean(), np.sqrt((finite ** 2).mean())] if (
            finite.size) else [0.0, 0.0, 0.0]
        return np.concatenate([flat[:16], np.array(stats)])
    return record


def compare(expected, others, actual, path="", out=None):
    """Differences between ``actual`` and ``expected``; what differs between ``expected`` and
    any of ``others`` (the reference under other seeds) is random and compared by kind only."""
    if out is None:
        out = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(expected) != set(actual):
            out.append(f"{path}: names {sorted(expected)} vs {sorted(actual or ())}")
        for key in expected:
            if isinstance(actual, dict) and key in actual:
                compare(expected[key], [o.get(key) if isinstance(o, dict) else None
                                        for o in others], actual[key], f"{path}.{key}", out)
        return out
    if isinstance(expected, RandomLeaf):
        if expected.kind != _kind(actual):
            out.append(f"{path}: {expected.kind} vs {_kind(actual)}")
        return out
    random = not all(_same(expected, other) for other in others)
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        if not (isinstance(expected, np.ndarray) and isinstance(actual, np.ndarray)):
            out.append(f"{path}: {type(expected).__name__} vs {type(actual).__name__}")
        elif expected.shape != actual.shape:
            out.append(f"{path}: shape {expected.shape} vs {actual.shape}")
        elif not random and not _close(expected, actual):
            out.append(f"{path}: values differ (max abs diff {_max_diff(expected, actual)})")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if expected and expected[0] == "float" and actual and actual[0] == "float":
            if not random and not _close(np.array(expected[1]), np.array(actual[1])):
                out.append(f"{path}: {expected[1]} vs {actual[1]}")
            return out
        if len(expected) != len(actual):
            out.append(f"{path}: {_short(expected)} vs {_short(actual)}")
            return out
        for i, (e, a) in enumerate(zip(expected, actual)):
            other = [o[i] if isinstance(o, list) and len(o) == len(expected) else None
                     for o in others]
            compare(e, other, a, f"{path}[{i}]", out)
        return out
    if random and type(expected) is type(actual):
        return out
    if expected != actual:
        out.append(f"{path}: {_short(expected)} vs {_short(actual)}")
    return out


def _same(a, b):
    if isinstance(a, dict) or isinstance(b, dict):
        return False
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and _close(a, b, exact=True)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    return a == b


def _close(a, b, exact=False):
    if a.dtype == object or b.dtype == object:
        return bool(np.all(a == b))
    if (a.dtype.kind in "biu" and b.dtype.kind in "biu") or exact:
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    return bool(np.allclose(a.astype(np.complex128), b.astype(np.complex128),
                            rtol=1e-4, atol=1e-5, equal_nan=True))


def _max_diff(a, b):
    with contextlib.suppress(Exception):
        return float(np.nanmax(np.abs(a.astype(np.complex128) - b.astype(np.complex128))))
    return "?"


def _short(value):
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "..."


def preset_names(block: dict, modules: dict[str, list[str]]) -> list[list[str]]:
    """(module, name) pairs a block's namespace starts with, from the modules it names."""
    return [[dotted, name] for dotted in block["modules"] for name in modules.get(dotted, ())]


# ---------- a fixture on disk -------------------------------------------------------------
class ArrayStore:
    """The arrays of a fixture, packed into one flat array per dtype (one .npz entry each, not
    one per array): an array is referred to by (dtype, offset, shape)."""

    def __init__(self, packed: dict[str, np.ndarray] | None = None):
        self.packed = packed or {}
        self._parts: dict[str, list[np.ndarray]] = {}
        self._sizes: dict[str, int] = {}

    def add(self, array: np.ndarray) -> list:
        key = array.dtype.str
        offset = self._sizes.get(key, 0)
        self._parts.setdefault(key, []).append(array.reshape(-1))
        self._sizes[key] = offset + array.size
        return [key, offset, list(array.shape)]

    def get(self, reference: list) -> np.ndarray:
        key, offset, shape = reference
        size = math.prod(shape)
        return self.packed[key][offset: offset + size].reshape(shape)

    def save(self, path) -> None:
        np.savez_compressed(path, **{key: np.concatenate(parts)
                                     for key, parts in self._parts.items()})


def to_json(record, arrays: ArrayStore):
    """``record`` as JSON-able data, its arrays kept in ``arrays``."""
    if isinstance(record, dict):
        return {"__dict__": {key: to_json(value, arrays) for key, value in record.items()}}
    if isinstance(record, list):
        return [to_json(value, arrays) for value in record]
    if isinstance(record, RandomLeaf):
        return {"__random__": record.kind}
    if isinstance(record, np.ndarray):
        return {"__array__": arrays.add(record)}
    if isinstance(record, float) and not math.isfinite(record):
        return {"__float__": repr(record)}
    return record


def from_json(data, arrays: ArrayStore):
    if isinstance(data, list):
        return [from_json(value, arrays) for value in data]
    if isinstance(data, dict):
        if "__dict__" in data:
            return {key: from_json(value, arrays) for key, value in data["__dict__"].items()}
        if "__random__" in data:
            return RandomLeaf(data["__random__"])
        if "__array__" in data:
            return arrays.get(data["__array__"])
        if "__float__" in data:
            return float(data["__float__"])
    return data
