"""The ONNX graph an export builds: value names for Tensors, nodes, initializers, and the
second trace's shapes where a dimension is dynamic."""

from __future__ import annotations

from typing import Any

ONNX_TYPES = {"float32": 1, "uint8": 2, "int8": 3, "int16": 5, "int32": 6, "int64": 7,
              "bool": 9, "float16": 10, "float64": 11, "bfloat16": 16}
INT64_MAX = 2**63 - 1


class UnsupportedOperatorError(RuntimeError):
    """An op of the model has no ONNX equivalent (torch.onnx.errors.UnsupportedOperatorError)."""


class Graph:
    """Nodes and initializers, each value named `<hint>_<number>`; Tensors are told apart by
    identity (each recorded one is kept alive until the export ends)."""

    def __init__(self, onnx: Any, opset: int) -> None:
        self.onnx = onnx
        self.opset = opset
        self.nodes: list[tuple[str, list[str], list[str], dict[str, Any]]] = []
        self.initializers: list[Any] = []  # TensorProtos
        self.count = 0
        self.names: dict[int, str] = {}  # id(Tensor) -> its current value
        self.keep: list[Any] = []
        self.constants = 0
        self.parameter_names: dict[int, str] = {}  # id(Tensor) -> "fc1.weight"
        self.missing: dict[int, str] = {}  # id(Tensor) -> why it has no value
        self.versions: dict[int, int] = {}  # id(Tensor) -> its version when it got its name
        self.sources: dict[int, tuple[Any, int]] = {}  # id(op output) -> (its input, version)
        self.arrays: dict[int, str] = {}  # id(array) -> the value of the Tensor holding it
        self.missing_arrays: dict[int, str] = {}  # id(array) of a Tensor with no value -> why
        self.computed: list[Any] = []  # the inputs and op outputs (values that vary per run)
        self.computed_ids: set[int] = set()
        self.computed_arrays: set[int] = set()
        # Tensors and arrays written as constants though no parameter or buffer holds them
        self.frozen: dict[int, Any] = {}
        # id(frozen Tensor) -> (the op that read it first, its values then)
        self.first_read: dict[int, tuple[int, Any]] = {}
        self.position = 0  # the op being written
        self.frozen_arrays: set[int] = set()
        self.lacking: list[Any] = []  # op outputs with no ONNX value

    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def node(self, op: str, inputs: list[str], outputs: int = 1, **attributes: Any) -> Any:
        """Add a node; its output name (a list of names with `outputs` > 1)."""
        names = [self.fresh(op) for _ in range(outputs)]
        self.nodes.append((op, inputs, names, attributes))
        return names[0] if outputs == 1 else names

    def constant(self, host: Any, hint: str = "constant") -> str:
        """An initializer holding a host (NumPy) array, as a backend's to_numpy gives it."""
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(host, name))
        return name

    def ints(self, values: Any) -> str:
        values = [int(value) for value in values]
        name = self.fresh("ints")
        self.initializers.append(self.onnx.helper.make_tensor(
            name, ONNX_TYPES["int64"], [len(values)], values))
        return name

    def constant_int(self, value: int) -> str:
        """A 0-d int64 constant (an index, a diagonal)."""
        name = self.fresh("int")
        self.initializers.append(self.onnx.helper.make_tensor(
            name, ONNX_TYPES["int64"], [], [int(value)]))
        return name

    def scalar(self, value: Any, dtype: str) -> str:
        """A 0-d constant of the dtype named `dtype` (a Python number an op takes)."""
        if dtype not in ONNX_TYPES:
            raise UnsupportedOperatorError(f"autodiff.onnx.export: dtype {dtype} has no ONNX "
                                           "type here")
        name = self.fresh("scalar")
        cast = bool if dtype == "bool" else float if "float" in dtype else int
        self.initializers.append(self.onnx.helper.make_tensor(
            name, ONNX_TYPES[dtype], [], [cast(value)]))
        return name

    def bind(self, tensor: Any, name: str, computed: bool = True, source: Any = None) -> None:
        """Name `tensor`'s value: an input's or an op's output (`computed`), or a constant.
        `source` is the op's input: a view op's output takes its input's version counter only
        after the op returns, so its version now is the input's."""
        if computed:
            self.computed.append(tensor)
            self.computed_ids.add(id(tensor))
            self.computed_arrays.add(id(tensor._data))
        self.names[id(tensor)] = name
        self.arrays[id(tensor._data)] = name
        self.versions[id(tensor)] = tensor._version
        if source is not None and tensor._version_counter is None:
            self.sources[id(tensor)] = (source, source._version)
        else:
            self.sources.pop(id(tensor), None)
        self.keep.append(tensor)

    def current(self, tensor: Any, writes: int = 0) -> bool:
        """Whether `tensor` still holds the value it was named with, but for `writes` writes
        since (whose effect the caller follows)."""
        named = self.versions[id(tensor)]
        source = self.sources.get(id(tensor))
        if source is not None and tensor._version_counter is not None and (
                tensor._version_counter is source[0]._version_counter):
            named = source[1]  # a view of the op's input: the input's version then
        return tensor._version == named + writes

    def is_computed(self, tensor: Any) -> bool:
        """Whether `tensor` holds (or held) an input or an op output, not a constant."""
        return id(tensor) in self.computed_ids or id(tensor._data) in self.computed_arrays

    def array(self, array: Any, backend: Any, hint: str) -> str:
        """An array an op holds as an attribute (a mask, an index): the value of the Tensor
        whose array it is, else a constant of its current values."""
        name = self.array_value(array, backend)
        if name is not None:
            return name
        self.frozen_arrays.add(id(array))
        return self.constant(backend.to_numpy(array), hint)

    def array_value(self, array: Any, backend: Any) -> str | None:
        """The value of the Tensor whose array this is; None for a constant (an array no input
        and no op output holds); an error for an output with no ONNX value.

        An op is often given a view or a copy of an index Tensor's array (reshaped to a
        vector, negative indices wrapped): an integer array that views the memory of an input
        or an op output and holds its elements is that Tensor's value; one that holds them in
        memory of its own may be a copy of it or a constant, which the export cannot tell
        apart, and is refused rather than frozen."""
        name = self.arrays.get(id(array))
        if name is not None:
            return name
        why = self.missing_arrays.get(id(array))
        if why is not None:
            raise UnsupportedOperatorError(f"autodiff.onnx.export: {why}")
        dtype = backend.dtype_name(array)
        if _kind(dtype) != "int":
            return None
        flat = backend.to_numpy(array).reshape(-1).tolist()
        if not flat:
            return None
        owner = backend.memory_owner(array)
        views: dict[str, Any] = {}
        copied = False
        for tensor in self.computed + self.lacking:
            if (tensor.numel() != len(flat) or tensor._backend is not backend
                    or _kind(tensor.dtype.name) != "int"):
                continue
            if not _same_elements(flat, backend.to_numpy(tensor._data).reshape(-1).tolist()):
                continue
            if id(tensor) in self.missing:
                raise UnsupportedOperatorError(
                    f"autodiff.onnx.export: {self.missing[id(tensor)]}")
            if backend.memory_owner(tensor._data) is owner:
                views[self.names[id(tensor)]] = tensor
            else:
                copied = True
        if len(views) > 1 or (copied and not views):
            raise UnsupportedOperatorError(
                "autodiff.onnx.export: an op was given a copy of an index the model computes "
                "or takes as an input (or a constant with the same elements): the export "
                "cannot follow it")
        if not views:
            return None
        ((value, tensor),) = views.items()
        shape = [int(size) for size in array.shape]
        if [int(size) for size in tensor.shape] != shape:
            value = self.node("Reshape", [value, self.ints(shape)], allowzero=1)
        if tensor.dtype.name != dtype:
            value = self.node("Cast", [value], to=ONNX_TYPES[dtype])
        return value

    def follow(self, tensor: Any, value: Any) -> None:
        """An in-place op gave `tensor` the values of `value`: it is that value from now on.
        (A view of the tensor, or a tensor it is a view of, is left as it was: reading one
        later is refused by the version check in `value`.)"""
        name = self.names.get(id(value))  # (a view taken in place shares the version)
        self.bind(tensor, name if name is not None else self.value(value))

    def unavailable(self, tensor: Any, why: str) -> None:
        """An op output with no ONNX value (PyTorch's max-pool indices): an error if read."""
        self.missing[id(tensor)] = why
        self.missing_arrays[id(tensor._data)] = why
        self.lacking.append(tensor)
        self.keep.append(tensor)

    def value(self, tensor: Any) -> str:
        """The value of a Tensor: one an op made or an input, or else an initializer made from
        its array now (a parameter, a buffer, a tensor the model holds)."""
        name = self.names.get(id(tensor))
        if name is not None and not self.current(tensor):
            raise UnsupportedOperatorError(
                "autodiff.onnx.export: a tensor was changed in place in a way the export "
                "cannot follow (through a view, or by a write no op records)")
        if name is None:
            why = self.missing.get(id(tensor), self.missing_arrays.get(id(tensor._data)))
            if why is not None:
                raise UnsupportedOperatorError(f"autodiff.onnx.export: {why}")
            shared = self.arrays.get(id(tensor._data))
            if shared is not None:  # another Tensor of the same array (detach, .data)
                self.bind(tensor, shared, computed=id(tensor._data) in self.computed_arrays)
                return shared
            host = tensor._backend.to_numpy(tensor._data)
            if id(tensor) not in self.parameter_names:
                self.frozen[id(tensor)] = tensor
                self.first_read[id(tensor)] = (self.position, host.copy())
            name = self.constant(host, self.parameter_names.get(id(tensor), "constant"))
            self.bind(tensor, name, computed=False)
        return name


def _kind(dtype: str) -> str:
    return "bool" if dtype == "bool" else "int" if "int" in dtype else "other"


def _same_elements(array: list[Any], values: list[Any]) -> bool:
    """Whether `array` is `values`, each negative one possibly wrapped by one same size."""
    size = None
    for got, value in zip(array, values):
        if got == value:
            continue
        if value >= 0 or got < 0 or (size is not None and got - value != size):
            return False
        size = got - value
    return True


class Record:
    """One op the model applied: its class name (`Convolution`), its aten overload, the
    arguments and keyword attributes it was applied with, its output Tensors."""

    __slots__ = ("args", "first_read", "kwargs", "op", "outputs", "overload")

    def __init__(self, op: str, overload: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                 outputs: tuple[Any, ...]) -> None:
        self.op = op
        self.overload = overload
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        # host copies of the arguments no input, parameter or op made, read here first
        self.first_read: dict[int, Any] = {}

    def unsupported(self, opset: int, why: str = "") -> UnsupportedOperatorError:
        """torch.onnx's error for an operator it cannot export, naming this op."""
        return UnsupportedOperatorError(
            f"Exporting the operator '{self.overload}' to ONNX opset version {opset} is not "
            f"supported{f' ({why})' if why else ''}: it has no ONNX equivalent here")
