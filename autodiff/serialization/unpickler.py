"""The weights-only unpickler: a pickle machine that builds only what it is allowed to.

Python's own unpickler imports any global a pickle names and calls it, so a checkpoint could run
code. This machine, like `torch.load(weights_only=True)`'s, resolves a global only through a
table (PyTorch's names mapped to autodiff's objects, `torch_names.py`, plus what the user
allowlisted with `add_safe_globals`), calls only what it resolved, appends only to lists, sets
items only on dicts, and builds state only on allowlisted types. Anything else is refused with
PyTorch's message, naming the global, before it is touched.

Every opcode of protocols 2 to 5 that builds plain data is read (PyTorch reads protocol 2's);
out-of-band buffers, extension codes and the text opcodes of protocols 0 and 1 are refused.

`scan=True` runs the same machine without calling anything: every global becomes a placeholder
and only the persistent ids (the storages) are reported. The legacy format needs it to learn its
storages' dtypes before reading their bytes, which come after the pickle.
"""

from __future__ import annotations

import struct
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from pickle import UnpicklingError
from typing import Any

from ..nn.parameter import Parameter
from ..tensor import Tensor
from ..torch_function import exported_path
from .errors import CheckpointError

# ----------------------------------------------------------------------------- safe globals
# Process-wide, as PyTorch's: what `add_safe_globals` and `safe_globals` allowlist.
_user_safe_globals: set[Any] = set()


def add_safe_globals(safe_globals: list[Any]) -> None:
    """Allow these classes and functions (or `(object, "module.name")` pairs) in
    `load(weights_only=True)`."""
    global _user_safe_globals
    _user_safe_globals = _user_safe_globals.union(set(safe_globals))


def get_safe_globals() -> list[Any]:
    return list(_user_safe_globals)


def clear_safe_globals() -> None:
    global _user_safe_globals
    _user_safe_globals = set()


def _remove_safe_globals(globals_to_remove: Iterable[Any]) -> None:
    global _user_safe_globals
    _user_safe_globals = _user_safe_globals - set(globals_to_remove)


class safe_globals:
    """`with safe_globals([Cls, ...]):` allowlists them for the loads inside the block."""

    def __init__(self, safe_globals: list[Any]) -> None:
        self.safe_globals = safe_globals

    def __enter__(self) -> None:
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc_info: Any) -> None:
        _remove_safe_globals(self.safe_globals)


def user_allowed_globals() -> dict[str, Any]:
    """The allowlist by full name, checked as PyTorch checks it."""
    allowed: dict[str, Any] = {}
    for item in _user_safe_globals:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full "
                                 f"path), but got tuple of length: {len(item)}")
            if type(item[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full "
                                f"path, but got: {type(item[1])}")
            allowed[item[1]] = item[0]
        else:
            allowed[f"{item.__module__}.{item.__qualname__}"] = item
            path = exported_path(item)  # a public function's wrapper is saved where exported
            if path is not None:
                allowed[".".join(path)] = item
    return allowed


# ----------------------------------------------------------------------------- the machine
_BLOCKED_MODULES = ("sys", "os", "posix", "nt")
# Protocol 2 pickles written by Python 2 (and Python 3's for Python 2) use Python 2's names.
_MODULE_RENAMES = {"__builtin__": "builtins", "copy_reg": "copyreg", "UserDict": "collections"}
_NAME_RENAMES = {
    ("__builtin__", "unicode"): ("builtins", "str"),
    ("__builtin__", "long"): ("builtins", "int"),
    ("__builtin__", "basestring"): ("builtins", "str"),
    ("__builtin__", "xrange"): ("builtins", "range"),
    ("__builtin__", "unichr"): ("builtins", "chr"),
    ("__builtin__", "reduce"): ("functools", "reduce"),
    ("__builtin__", "intern"): ("sys", "intern"),
}
_CONTAINERS = (dict, OrderedDict, Counter)


def python3_name(module: str, name: str) -> tuple[str, str]:
    if (module, name) in _NAME_RENAMES:
        return _NAME_RENAMES[(module, name)]
    return _MODULE_RENAMES.get(module, module), name


def unsupported_global_message(full_path: str) -> str:
    if full_path.startswith("builtins."):
        full_path = full_path[len("builtins."):]
    return (
        f"Unsupported global: GLOBAL {full_path} was not an allowed global by default. Please "
        f"use `torch.serialization.add_safe_globals([{full_path}])` or the "
        f"`torch.serialization.safe_globals([{full_path}])` context manager to allowlist this "
        "global if you trust this class/function."
    )


class _Placeholder:
    """What a global, and anything made from one, is while scanning."""


class _Stop(Exception):
    pass


class Unpickler:
    """Reads one pickle from `stream`, building only what `allowed` (full name -> object) and
    `persistent_load` (for the storages) provide. `unsupported` names (full name -> reason) are
    ones autodiff knows but cannot represent."""

    def __init__(self, stream: Any, allowed: dict[str, Any], unsupported: dict[str, str],
                 persistent_load: Callable[[Any], Any], *, encoding: str = "utf-8",
                 scan: bool = False) -> None:
        self._read_raw = stream.read
        self._readline = stream.readline
        self._allowed = allowed
        self._unsupported = unsupported
        self._callable_ids = {id(value) for value in allowed.values()}
        self._buildable = tuple({value for value in allowed.values() if isinstance(value, type)
                                 and not issubclass(value, Tensor)})
        self._persistent_load = persistent_load
        self._encoding = encoding
        self._scan = scan
        self.stack: list[Any] = []
        self._metastack: list[list[Any]] = []
        self._memo: dict[int, Any] = {}
        self._dispatch: dict[int, Callable[[], None]] = {
            code[0]: getattr(self, f"_op_{name}") for code, name in _OPCODES.items()
        }

    def load(self) -> Any:
        dispatch = self._dispatch
        read = self._read_raw
        try:
            while True:
                key = read(1)
                if not key:
                    raise CheckpointError("the pickle data is truncated")
                operation = dispatch.get(key[0])
                if operation is None:
                    raise UnpicklingError(f"Unsupported operand {key[0]}")
                operation()
        except _Stop:
            return self.stack.pop()
        except IndexError:
            raise CheckpointError("malformed pickle data (stack underflow)") from None

    # ------------------------------------------------------------------------- reading
    def _read(self, count: int) -> bytes:
        data = self._read_raw(count)
        if len(data) != count:
            raise CheckpointError("the pickle data is truncated")
        return data

    def _unpack(self, layout: str) -> Any:
        return struct.unpack(layout, self._read(struct.calcsize(layout)))[0]

    def _append(self, value: Any) -> None:
        self.stack.append(value)

    def _pop_mark(self) -> list[Any]:
        items = self.stack
        self.stack = self._metastack.pop()
        return items

    # ------------------------------------------------------------------------- globals and calls
    def _find(self, module: str, name: str) -> Any:
        module, name = python3_name(module, name)
        full_path = f"{module}.{name}"
        if module in _BLOCKED_MODULES:
            if self._scan:
                return _Placeholder()
            raise UnpicklingError(f"Trying to load unsupported GLOBAL {full_path} whose module "
                                  f"{module} is blocked.")
        if full_path in self._allowed:
            return self._allowed[full_path]
        if self._scan:
            return _Placeholder()
        if full_path in self._unsupported:
            raise CheckpointError(f"{full_path}: {self._unsupported[full_path]}")
        raise UnpicklingError(unsupported_global_message(full_path))

    def _op_global(self) -> None:
        module = self._readline()[:-1].decode("utf-8")
        name = self._readline()[:-1].decode("utf-8")
        self._append(self._find(module, name))

    def _op_stack_global(self) -> None:
        name = self.stack.pop()
        module = self.stack.pop()
        if not isinstance(name, str) or not isinstance(module, str):
            raise UnpicklingError("STACK_GLOBAL requires str")
        self._append(self._find(module, name))

    def _op_reduce(self) -> None:
        args = self.stack.pop()
        function = self.stack[-1]
        if self._scan or isinstance(function, _Placeholder):
            self.stack[-1] = _Placeholder()
            return
        if id(function) not in self._callable_ids:
            message = f"Trying to call reduce for unrecognized function {function}"
            if hasattr(function, "__self__"):
                message += f" which belongs to {function.__self__}"
            raise UnpicklingError(message)
        if not isinstance(args, tuple):
            raise CheckpointError(f"REDUCE with arguments of type {type(args).__name__}")
        self.stack[-1] = function(*args)

    def _op_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        if self._scan or isinstance(cls, _Placeholder):
            self._append(_Placeholder())
            return
        if not isinstance(args, tuple):
            raise CheckpointError(f"NEWOBJ with arguments of type {type(args).__name__}")
        if cls is Parameter:
            self._append(Parameter(*args))
        elif isinstance(cls, type) and id(cls) in self._callable_ids \
                and not issubclass(cls, Tensor):
            self._append(cls.__new__(cls, *args))
        else:
            raise UnpicklingError("Can only create new object for nn.Parameter or classes "
                                  f"allowlisted via `add_safe_globals` but got {cls}")

    def _op_build(self) -> None:
        state = self.stack.pop()
        instance = self.stack[-1]
        if self._scan or isinstance(instance, _Placeholder):
            return
        if isinstance(instance, Tensor):
            raise CheckpointError("a tensor saved with legacy state (Tensor.__setstate__) is "
                                  "not supported")
        if type(instance) is OrderedDict:
            if not isinstance(state, dict):
                raise CheckpointError("an OrderedDict's state is not a dict")
            instance.__dict__.update(state)
        elif isinstance(instance, self._buildable) and type(instance) in self._buildable:
            setstate = getattr(instance, "__setstate__", None)
            if setstate is not None:
                setstate(state)
                return
            slots = None
            if isinstance(state, tuple) and len(state) == 2:
                state, slots = state
            if state:
                instance.__dict__.update(state)
            if slots:
                for name, value in slots.items():
                    setattr(instance, name, value)
        else:
            raise UnpicklingError("Can only build Tensor, Parameter, OrderedDict or types "
                                  "allowlisted via `add_safe_globals`, but got "
                                  f"{type(instance)}")

    def _op_binpersid(self) -> None:
        pid = self.stack.pop()
        if type(pid) is not tuple and type(pid) is not int:
            raise UnpicklingError(f"persistent_load id must be tuple or int, but got {type(pid)}")
        if type(pid) is tuple and pid and pid[0] not in ("storage", b"storage"):
            raise UnpicklingError("Only persistent_load of storage is allowed, but got "
                                  f"{type(pid[0])}")
        self._append(self._persistent_load(pid))

    # ------------------------------------------------------------------------- containers
    def _target(self, kinds: tuple[type, ...], message: str) -> Any:
        target = self.stack[-1]
        if type(target) not in kinds and not isinstance(target, _Placeholder):
            raise UnpicklingError(f"{message}, but got {type(target)}")
        return None if isinstance(target, _Placeholder) else target

    def _op_append(self) -> None:
        item = self.stack.pop()
        target = self._target((list,), "Can only append to lists")
        if target is not None:
            target.append(item)

    def _op_appends(self) -> None:
        items = self._pop_mark()
        target = self._target((list,), "Can only extend lists")
        if target is not None:
            target.extend(items)

    def _op_setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        target = self._target(_CONTAINERS, "Can only SETITEM for dict, collections.OrderedDict, "
                                           "collections.Counter")
        if target is not None:
            target[key] = value

    def _op_setitems(self) -> None:
        items = self._pop_mark()
        target = self._target(_CONTAINERS, "Can only SETITEMS for dict, "
                                           "collections.OrderedDict, collections.Counter")
        if target is not None:
            for index in range(0, len(items) - 1, 2):
                target[items[index]] = items[index + 1]

    def _op_additems(self) -> None:
        items = self._pop_mark()
        target = self._target((set,), "Can only add items to sets")
        if target is not None:
            target.update(items)

    def _op_mark(self) -> None:
        self._metastack.append(self.stack)
        self.stack = []

    def _op_pop(self) -> None:
        if self.stack:
            self.stack.pop()
        else:
            self._pop_mark()

    def _op_pop_mark(self) -> None:
        self._pop_mark()

    def _op_dup(self) -> None:
        self._append(self.stack[-1])

    def _op_tuple(self) -> None:
        self._append(tuple(self._pop_mark()))

    def _op_tuple1(self) -> None:
        self.stack[-1] = (self.stack[-1],)

    def _op_tuple2(self) -> None:
        self.stack[-2:] = [(self.stack[-2], self.stack[-1])]

    def _op_tuple3(self) -> None:
        self.stack[-3:] = [(self.stack[-3], self.stack[-2], self.stack[-1])]

    def _op_list(self) -> None:
        self._append(self._pop_mark())

    def _op_dict(self) -> None:
        items = self._pop_mark()
        self._append({items[i]: items[i + 1] for i in range(0, len(items) - 1, 2)})

    def _op_frozenset(self) -> None:
        self._append(frozenset(self._pop_mark()))

    def _op_empty_tuple(self) -> None:
        self._append(())

    def _op_empty_list(self) -> None:
        self._append([])

    def _op_empty_dict(self) -> None:
        self._append({})

    def _op_empty_set(self) -> None:
        self._append(set())

    # ------------------------------------------------------------------------- values
    def _op_none(self) -> None:
        self._append(None)

    def _op_newtrue(self) -> None:
        self._append(True)

    def _op_newfalse(self) -> None:
        self._append(False)

    def _op_binint(self) -> None:
        self._append(self._unpack("<i"))

    def _op_binint1(self) -> None:
        self._append(self._read(1)[0])

    def _op_binint2(self) -> None:
        self._append(self._unpack("<H"))

    def _op_long1(self) -> None:
        self._append(int.from_bytes(self._read(self._read(1)[0]), "little", signed=True))

    def _op_long4(self) -> None:
        count = self._unpack("<i")
        if count < 0:
            raise UnpicklingError("LONG pickle has negative byte count")
        self._append(int.from_bytes(self._read(count), "little", signed=True))

    def _op_binfloat(self) -> None:
        self._append(self._unpack(">d"))

    def _text(self, count: int) -> None:
        self._append(str(self._read(count), "utf-8", "surrogatepass"))

    def _op_binunicode(self) -> None:
        self._text(self._unpack("<I"))

    def _op_short_binunicode(self) -> None:
        self._text(self._read(1)[0])

    def _op_binunicode8(self) -> None:
        self._text(self._unpack("<Q"))

    def _string(self, count: int) -> None:
        if count < 0:
            raise UnpicklingError("BINSTRING pickle has negative byte count")
        data = self._read(count)
        self._append(data if self._encoding == "bytes" else data.decode(self._encoding))

    def _op_short_binstring(self) -> None:
        self._string(self._read(1)[0])

    def _op_binstring(self) -> None:
        self._string(self._unpack("<i"))

    def _op_short_binbytes(self) -> None:
        self._append(self._read(self._read(1)[0]))

    def _op_binbytes(self) -> None:
        self._append(self._read(self._unpack("<I")))

    def _op_binbytes8(self) -> None:
        self._append(self._read(self._unpack("<Q")))

    def _op_bytearray8(self) -> None:
        self._append(bytearray(self._read(self._unpack("<Q"))))

    # ------------------------------------------------------------------------- memo and framing
    def _op_binget(self) -> None:
        self._get(self._read(1)[0])

    def _op_long_binget(self) -> None:
        self._get(self._unpack("<I"))

    def _get(self, index: int) -> None:
        if index not in self._memo:
            raise CheckpointError(f"malformed pickle data (memo {index} is not set)")
        self._append(self._memo[index])

    def _op_binput(self) -> None:
        self._memo[self._read(1)[0]] = self.stack[-1]

    def _op_long_binput(self) -> None:
        self._memo[self._unpack("<I")] = self.stack[-1]

    def _op_memoize(self) -> None:
        self._memo[len(self._memo)] = self.stack[-1]

    def _op_proto(self) -> None:
        protocol = self._read(1)[0]
        if protocol > 5:
            raise UnpicklingError(f"unsupported pickle protocol: {protocol}")

    def _op_frame(self) -> None:
        self._unpack("<Q")  # frames only group opcodes; the data follows inline

    def _op_stop(self) -> None:
        raise _Stop


# Opcode byte -> the method's name (`_op_<name>`).
_OPCODES = {
    b"\x80": "proto", b"\x95": "frame", b".": "stop", b"(": "mark", b"0": "pop",
    b"1": "pop_mark", b"2": "dup", b"N": "none", b"\x88": "newtrue", b"\x89": "newfalse",
    b"J": "binint", b"K": "binint1", b"M": "binint2", b"\x8a": "long1", b"\x8b": "long4",
    b"G": "binfloat", b"X": "binunicode", b"\x8c": "short_binunicode", b"\x8d": "binunicode8",
    b"U": "short_binstring", b"T": "binstring", b"C": "short_binbytes", b"B": "binbytes",
    b"\x8e": "binbytes8", b"\x96": "bytearray8", b")": "empty_tuple", b"t": "tuple",
    b"\x85": "tuple1", b"\x86": "tuple2", b"\x87": "tuple3", b"]": "empty_list", b"a": "append",
    b"e": "appends", b"l": "list", b"}": "empty_dict", b"d": "dict", b"s": "setitem",
    b"u": "setitems", b"\x8f": "empty_set", b"\x90": "additems", b"\x91": "frozenset",
    b"c": "global", b"\x93": "stack_global", b"R": "reduce", b"\x81": "newobj", b"b": "build",
    b"Q": "binpersid", b"h": "binget", b"j": "long_binget", b"q": "binput",
    b"r": "long_binput", b"\x94": "memoize",
}
