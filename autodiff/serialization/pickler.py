"""Pickling as `torch.save` does: tensors become `torch._utils._rebuild_tensor_v2` over storages
that are written beside the pickle, so `torch.load(weights_only=True)` opens the file.

Python's pickler writes a global only after importing it to check it is the same object, and
PyTorch's names (`torch._utils._rebuild_tensor_v2`, `torch.FloatStorage`, `torch.float32`)
cannot be imported here, where PyTorch may not be installed. So the pickler is the standard
library's Python pickler with one change, `save_global`, that writes PyTorch's names (held by
`TorchName`) as they are. Everything else (modules, optimizers, user classes) pickles by the
usual rules, so a whole object is saved as PyTorch would save it.

Tensors that share memory are written as one storage with offsets and strides (tied weights and
views stay shared after loading), as PyTorch does.
"""

from __future__ import annotations

import pickle
import types
from collections import OrderedDict
from typing import Any, ClassVar

from backends import Device
from backends import serialization as host

from .. import dtypes, layouts
from ..dtypes import Size
from ..nn.parameter import Parameter
from ..quantized_tensor import QuantizedData, qscheme
from ..sparse_coo import SparseCOO
from ..tensor import Tensor, _wrap
from ..torch_function import exported_path
from .torch_names import QUANTIZED_STORAGE_CLASSES, STORAGE_CLASS_OF, is_tensor_internal


class TorchName:
    """A global of PyTorch's namespace, written by name."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __reduce__(self) -> str:
        return self.name  # pickled as a global; TorchPickler.save_global writes the full name

    def __call__(self, *args: Any) -> Any:
        # Callable only because pickle's reduce protocol asks it of what it writes as a call.
        raise TypeError(f"{self.module}.{self.name} names PyTorch's function in a pickle; it "
                        "is not called here")


_REBUILD_TENSOR = TorchName("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = TorchName("torch._utils", "_rebuild_parameter")
_REBUILD_PARAMETER_WITH_STATE = TorchName("torch._utils", "_rebuild_parameter_with_state")
_REBUILD_FROM_TYPE = TorchName("torch._tensor", "_rebuild_from_type_v2")
_REBUILD_SPARSE = TorchName("torch._utils", "_rebuild_sparse_tensor")
_REBUILD_QTENSOR = TorchName("torch._utils", "_rebuild_qtensor")
_GET_LAYOUT = TorchName("torch.serialization", "_get_layout")
_TENSOR = TorchName("torch", "Tensor")
_SIZE = TorchName("torch", "Size")
_DEVICE = TorchName("torch", "device")
_STORAGE_CLASSES = {dtype: TorchName("torch", name) for dtype, name in STORAGE_CLASS_OF.items()}
# A quantized tensor's integers go in a storage of its quantized dtype (torch.QInt8Storage).
_STORAGE_CLASSES.update({f"q{dtype}" if dtype != "uint8" else "quint8": TorchName("torch", name)
                         for name, dtype in QUANTIZED_STORAGE_CLASSES.items()})


class StorageRecord:
    """One storage to be written: a C-contiguous host array and the key it is written under."""

    __slots__ = ("dtype", "key", "location", "root")

    def __init__(self, key: str, root: Any, dtype: str, location: str) -> None:
        self.key = key
        self.root = root
        self.dtype = dtype
        self.location = location


class StorageTable:
    """The storages of one save, in the order they were first met (keys "0", "1", ...)."""

    def __init__(self) -> None:
        self.records: list[StorageRecord] = []
        self._by_root: dict[int, StorageRecord] = {}

    def add(self, tensor: Tensor) -> tuple[StorageRecord, int, tuple[int, ...]]:
        """The storage `tensor` lies in, and its storage offset and strides in elements (for a
        quantized tensor, those of its integers)."""
        backend = tensor._backend
        array = tensor._data
        if type(array) is QuantizedData:
            if array.dtype is dtypes.quint4x2:
                raise RuntimeError("saving a torch.quint4x2 tensor is not supported (PyTorch "
                                   "packs two values per byte; autodiff keeps one)")
            dtype = array.dtype.name
            array = array.int_repr
        else:
            dtype = backend.dtype_name(array)
        view = host.storage_view(array)
        if view is None:
            root = host.contiguous_host(backend, array)
            view = host.StorageView(root, 0, _contiguous_strides(root.shape))
            record = None
        else:
            record = self._by_root.get(id(view.root))
        if record is None:
            record = StorageRecord(str(len(self.records)), view.root, dtype,
                                   str(backend.device))
            self.records.append(record)
            self._by_root[id(view.root)] = record
        return record, view.offset, view.strides


def _contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides = []
    step = 1
    for extent in reversed(shape):
        strides.append(step)
        step *= max(extent, 1)
    return tuple(reversed(strides))


# The standard library's pickler written in Python (typeshed declares few of its methods).
_PythonPickler: Any = pickle._Pickler


class TorchPickler(_PythonPickler):
    """`pickle` as torch.save uses it: storages as persistent ids, PyTorch's names for tensors,
    dtypes, devices and sizes."""

    # Functions go through this class's save_global (the base class's table names its own).
    def _save_function(self, obj: Any) -> None:
        path = exported_path(obj)
        if path is None:
            _PythonPickler.save_global(self, obj)
            return
        # a public function's `__torch_function__` wrapper: where it is exported
        self.write(pickle.GLOBAL + f"{path[0]}\n{path[1]}\n".encode())
        self.memoize(obj)

    # Functions go through _save_function (the base class's table names its own save_global).
    dispatch: ClassVar[dict[type, Any]] = {**_PythonPickler.dispatch,
                                          types.FunctionType: _save_function}

    def __init__(self, file: Any, protocol: int, storages: StorageTable) -> None:
        super().__init__(file, protocol)
        self.storages = storages

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is StorageRecord:
            numel = int(obj.root.size)
            return ("storage", _STORAGE_CLASSES[obj.dtype], obj.key, obj.location, numel)
        return None

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if type(obj) is Device:
            return (_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        if type(obj) is Size:
            return (_SIZE, (tuple(obj),))
        if type(obj) is layouts.layout:
            return (_GET_LAYOUT, (f"torch.{obj.name}",))
        return NotImplemented

    def save_global(self, obj: Any, name: str | None = None) -> None:
        if type(obj) is TorchName:
            module, name = obj.module, obj.name
        elif isinstance(obj, (dtypes.dtype, qscheme)):
            module, name = "torch", obj.name
        else:
            qualified = str(name or getattr(obj, "__qualname__", ""))
            if "<locals>" in qualified:  # the C pickler's (and so torch.save's) error
                raise AttributeError(f"Can't pickle local object {qualified!r}")
            super().save_global(obj, name)
            return
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode())
        self.memoize(obj)

    def _reduce_tensor(self, tensor: Tensor) -> Any:
        data = tensor._data
        if type(data) is SparseCOO:  # its indices and values, as two dense tensors
            backend = tensor._backend
            return (_REBUILD_SPARSE, (layouts.sparse_coo, (
                _wrap(data.indices, backend), _wrap(data.values, backend), Size(data.shape),
                data.coalesced)))
        record, offset, strides = self.storages.add(tensor)
        if type(data) is QuantizedData:
            params: tuple[Any, ...] = (
                (data.scheme, data.scales, data.zero_points, data.axis) if data.per_channel
                else (data.scheme, data.scale, data.zero_point))
            return (_REBUILD_QTENSOR, (record, offset, tuple(tensor.shape), strides, params,
                                       False, OrderedDict()))
        # A tensor inside a graph is saved as the leaf it would load as (as torch.save does).
        args: tuple[Any, ...] = (record, offset, tuple(tensor.shape), strides,
                                 tensor.requires_grad, OrderedDict())
        state = {name: value for name, value in vars(tensor).items()
                 if not is_tensor_internal(name)}
        kind = type(tensor)
        if kind is not Parameter and kind.__module__.startswith("autodiff."):
            kind = Tensor  # the library's own Tensor subclasses (views) are plain tensors
        if kind is Tensor and not state:
            return (_REBUILD_TENSOR, args)
        if kind is Parameter:
            data = tensor.detach()
            if state:
                return (_REBUILD_PARAMETER_WITH_STATE,
                        (data, tensor.requires_grad, OrderedDict(), state))
            return (_REBUILD_PARAMETER, (data, tensor.requires_grad, OrderedDict()))
        return (_REBUILD_FROM_TYPE, (_REBUILD_TENSOR, _TENSOR if kind is Tensor else kind, args,
                                     state))
