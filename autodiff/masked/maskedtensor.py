"""`MaskedTensor` (torch.masked's prototype): a tensor's data and a boolean mask of the same
size and layout saying which elements are specified.

The data is the tensor the graph sees: requires_grad, grad_fn, is_leaf and backward are its,
and every op on a masked tensor is an op on its data, so gradients reach whatever made the data
through the ordinary backward walk; `.grad` reads as a MaskedTensor with the tensor's mask.
A masked tensor's `_data` is `MaskedData`, layout data (`layout_dispatch.py`): an op that
`Function.apply` runs with a masked argument goes to `_rules.py`, which runs it on the data and
gives the result its mask, or refuses it as PyTorch's dispatcher does. The reductions (which
PyTorch routes through `__torch_function__`) reach `__torch_function__` here too.
"""

from __future__ import annotations

import warnings
from typing import Any, NoReturn, TypeGuard

from backends import Device

from .. import dtypes, layouts
from ..function import Function
from ..layout_dispatch import InnerAutograd, LayoutData
from ..tensor import Tensor, _new
from ..user_warnings import warn

_SUPPORTED = frozenset({dtypes.float16, dtypes.float32, dtypes.float64, dtypes.bool_,
                        dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64})


class MaskedData(LayoutData):
    """A masked tensor's `_data`: its data array's shape, ndim and dtype, for code that asks
    them before an op (the engine, fitting a gradient); the op itself goes to the masked
    rules."""

    __slots__ = ("tensor",)
    layout_name = "masked"

    def __init__(self, tensor: MaskedTensor) -> None:
        self.tensor = tensor

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.tensor._masked_data._data.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> Any:
        return self.tensor._masked_data._data.dtype

    def dispatch(self, op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        from . import _rules

        return _rules.apply_op(op, args, kwargs)

    def map_values(self, args: tuple[Any, ...], function: Any) -> Any:
        from . import _rules

        return _rules.elementwise(function, args)

    def take_in_place(self, tensor: Any, compute: Any) -> Any:
        """The op out of place, its data taken with the tensor's own mask (PyTorch's
        `_set_data_mask`); the graph follows the new data."""
        result = compute(tensor)
        data = result._masked_data if is_masked_tensor(result) else result
        _validate(data, tensor._masked_mask)
        tensor._masked_data = data
        return tensor

    def refuse(self, operator: str, tensor: Any) -> NoReturn:
        from . import _rules

        raise _rules.not_implemented(operator.removeprefix("aten::").split(".")[0])


def is_masked_tensor(obj: Any, /) -> TypeGuard[MaskedTensor]:
    """Whether `obj` is a MaskedTensor."""
    return isinstance(obj, MaskedTensor)


class MaskedTensor(InnerAutograd, Tensor):
    """`MaskedTensor(data, mask, requires_grad=False)`: `data` where `mask` is True, unspecified
    elsewhere. Prefer `masked_tensor` and `as_masked_tensor`."""

    _autograd_of = "_masked_data"  # its requires_grad, grad_fn and is_leaf (InnerAutograd)
    _masked_data: Tensor
    _masked_mask: Tensor

    def __new__(cls, data: Any, mask: Any, requires_grad: bool = False) -> MaskedTensor:
        if is_masked_tensor(data) or not isinstance(data, Tensor):
            raise TypeError("data must be a Tensor")
        if is_masked_tensor(mask) or not isinstance(mask, Tensor):
            raise TypeError("mask must be a Tensor")
        warn(
            "The PyTorch API of MaskedTensors is in prototype stage and will change in the near "
            "future. Please open a Github issue for features requests and see our documentation "
            "on the torch.masked module for further information about the project.",
            UserWarning, stacklevel=2)
        if data.requires_grad:
            warn("It is not recommended to create a MaskedTensor with a tensor that "
                 "requires_grad. To avoid this, you can use data.detach().clone()",
                 UserWarning, stacklevel=2)
        data, mask = _preprocess(data, mask)
        _validate(data, mask)
        data = data.detach().clone()
        if requires_grad:
            data.requires_grad_(True)
        return cls._make(data, mask.clone())

    def __init__(self, data: Any, mask: Any, requires_grad: bool = False) -> None:
        pass  # all done in __new__

    @classmethod
    def _make(cls, data: Tensor, mask: Tensor) -> MaskedTensor:
        """A masked tensor over `data` (its graph identity, not copied) and `mask`."""
        masked: MaskedTensor = _new(cls)
        masked._masked_data = data
        masked._masked_mask = mask
        masked._backend = data._backend
        return masked

    # What `Function.apply` reads in place of an array: the op goes to the masked rules.
    @property
    def _data(self) -> MaskedData:
        return MaskedData(self)

    @_data.setter
    def _data(self, value: Any) -> NoReturn:
        raise RuntimeError("autodiff: a MaskedTensor's data is changed through its ops only")

    @property
    def _requires_grad(self) -> bool:
        return self._masked_data._requires_grad

    @_requires_grad.setter
    def _requires_grad(self, value: bool) -> None:
        self._masked_data._requires_grad = value

    # ------------------------------------------------------------------------- accessors
    def get_data(self) -> Tensor:
        """The data (differentiable: a gradient reaching it comes back with this mask)."""
        return self._masked_data.view_as(self._masked_data) if not self.is_sparse \
            else self._masked_data

    def get_mask(self) -> Tensor:
        return self._masked_mask

    def to_tensor(self, value: Any) -> Tensor:
        """The data with the masked-out elements set to `value`."""
        return self.get_data().masked_fill(~self.get_mask(), value)

    def is_sparse_coo(self) -> bool:
        return self.layout is layouts.sparse_coo

    def is_sparse_csr(self) -> bool:  # type: ignore[override]
        return self.layout is layouts.sparse_csr

    @property
    def is_sparse(self) -> bool:
        return self.is_sparse_coo() or self.is_sparse_csr()

    # ------------------------------------------------------------------------- metadata
    @property
    def layout(self) -> layouts.layout:
        return self._masked_data.layout

    @property
    def dtype(self) -> dtypes.dtype:
        return self._masked_data.dtype

    @property
    def device(self) -> Device:
        return self._masked_data.device

    def is_contiguous(self, memory_format: Any = None) -> bool:
        if self.is_sparse:
            raise ValueError("MaskedTensors with sparse data do not have is_contiguous")
        return self._masked_data.is_contiguous()

    def stride(self, dim: int | None = None) -> Any:
        return self._masked_data.stride(dim)

    # ------------------------------------------------------------------------- autograd
    @property
    def grad(self) -> Tensor | None:
        """The data's gradient, as a MaskedTensor with this tensor's mask."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grad = self._masked_data.grad
        if self.grad_fn is not None and not self._masked_data.retains_grad:
            warn("The .grad attribute of a Tensor that is not a leaf Tensor is being "
                 "accessed.", UserWarning, stacklevel=2)
        return None if grad is None else _as_gradient(grad, self._masked_mask)

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        self._masked_data.grad = value._masked_data if is_masked_tensor(value) else value

    @property
    def retains_grad(self) -> bool:
        return self._masked_data.retains_grad

    def retain_grad(self) -> None:
        self._masked_data.retain_grad()

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Backward from the data (a MaskedTensor `gradient` gives its data)."""
        if is_masked_tensor(gradient):
            gradient = gradient._masked_data
        if inputs is not None:
            inputs = [i._masked_data if is_masked_tensor(i) else i
                      for i in ([inputs] if isinstance(inputs, Tensor) else inputs)]
        self._masked_data.backward(gradient, retain_graph, create_graph, inputs)

    def detach(self) -> Tensor:
        return MaskedTensor._make(self._masked_data.detach(), self._masked_mask)

    # ------------------------------------------------------------------------- conversions
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """The data converted; the mask moved alongside (it stays bool)."""
        data = self._masked_data.to(*args, **kwargs)
        mask = self._masked_mask.to(data.device)
        if data is self._masked_data:
            return self
        return MaskedTensor._make(data, mask)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        if self.is_sparse:
            raise ValueError("MaskedTensors with sparse data do not have contiguous")
        if self.is_contiguous():
            return self
        return MaskedTensor._make(self._masked_data.contiguous(), self._masked_mask.contiguous())

    def to_dense(self, dtype: Any = None, *, masked_grad: bool | None = None) -> Tensor:
        """A strided masked tensor; a gradient comes back to sparse data in its layout
        (PyTorch's `_MaskedToDense`)."""
        from ._conversions import MaskedToDense

        if not self.is_sparse:
            return self
        return MaskedTensor._make(MaskedToDense.apply(self._masked_data, mask=self._masked_mask),
                                  self._masked_mask.to_dense())

    def to_sparse(self, sparse_dim: int | None = None, *, layout: Any = None,
                  blocksize: Any = None, dense_dim: int | None = None) -> Tensor:
        """A sparse COO masked tensor: the mask's True elements are the specified ones."""
        from ._conversions import MaskedToSparse

        if self.is_sparse_coo():
            return self
        mask = self._masked_mask.to_sparse().coalesce()
        if self.is_sparse_csr():  # PyTorch's sparse_mask refuses it
            return MaskedTensor._make(self._masked_data.sparse_mask(mask), mask)
        return MaskedTensor._make(MaskedToSparse.apply(self._masked_data, mask=mask), mask)

    def to_sparse_coo(self) -> Tensor:
        return self.to_sparse()

    def to_sparse_csr(self, dense_dim: int | None = None) -> Tensor:
        """A sparse CSR masked tensor: the mask's True elements are the specified ones."""
        if self._masked_data.dim() != 2:
            raise ValueError("Only 2D tensors can be converted to the SparseCsr layout but got "
                             f"shape: {self._masked_data.size()}")
        if self.is_sparse_csr():
            return self
        if self.is_sparse_coo():
            return MaskedTensor._make(self._masked_data.coalesce().to_sparse_csr(),
                                      self._masked_mask.coalesce().to_sparse_csr())
        from ._conversions import MaskedToSparseCsr

        mask = self._masked_mask.to_sparse_csr()
        return MaskedTensor._make(MaskedToSparseCsr.apply(self._masked_data, mask=mask), mask)

    # ------------------------------------------------------------------------- views
    # PyTorch passes these through to data and mask alike (passthrough.py's list).
    def _both(self, method: str, *args: Any, **kwargs: Any) -> Any:
        data = getattr(self._masked_data, method)(*args, **kwargs)
        mask = getattr(self._masked_mask, method)(*args, **kwargs)
        if isinstance(data, (tuple, list)):
            return type(data)(MaskedTensor._make(d, m) for d, m in zip(data, mask))
        return MaskedTensor._make(data, mask)

    def __getitem__(self, key: Any) -> Tensor:
        return self._both("__getitem__", key)

    def select(self, dim: int, index: int) -> Tensor:
        return self._both("select", dim, index)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return self._both("transpose", dim0, dim1)

    def t(self) -> Tensor:
        return self._both("t")

    def split(self, split_size: Any, dim: int = 0) -> Any:
        return self._both("split", split_size, dim)

    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        return self._both("narrow", dim, start, length)

    def expand(self, *sizes: Any) -> Tensor:
        return self._both("expand", *sizes)

    def view(self, *shape: Any) -> Tensor:
        return self._both("view", *shape)

    def reshape(self, *shape: Any) -> Tensor:
        return self._both("reshape", *shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return self._both("flatten", start_dim, end_dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return self._both("unsqueeze", dim)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        return self._both("unfold", dimension, size, step)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    # ------------------------------------------------------------------------- dispatch
    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (), kwargs: Any = None
                           ) -> Any:
        """The reductions, which PyTorch's MaskedTensor takes at this level."""
        from . import _rules

        return _rules.torch_function(func, args, kwargs or {})

    def __repr__(self) -> str:
        return _repr(self)

    __str__ = __repr__

    def __bool__(self) -> bool:
        if not bool(self._masked_mask.all()):
            raise ValueError("__torch_dispatch__, aten._local_scalar_dense: expected a mask "
                             "tensor")
        return bool(self._masked_data)

    def item(self) -> Any:
        if not bool(self._masked_mask):
            raise ValueError("__torch_dispatch__, aten._local_scalar_dense: expected a mask "
                             "tensor")
        return self._masked_data.item()


def graph_tensors(tensors: tuple[Any, ...]) -> tuple[Any, ...]:
    """Each masked tensor as its data, the tensor the graph knows (autograd.grad's view)."""
    return tuple(t._masked_data if is_masked_tensor(t) else t for t in tensors)


def masks(tensors: tuple[Any, ...]) -> tuple[Tensor | None, ...]:
    return tuple(t._masked_mask if is_masked_tensor(t) else None for t in tensors)


def with_masks(grads: tuple[Any, ...], masks: tuple[Tensor | None, ...]) -> tuple[Any, ...]:
    """The gradients of masked inputs as MaskedTensors with the inputs' masks."""
    return tuple(g if m is None or g is None else _as_gradient(g, m)
                 for g, m in zip(grads, masks))


def _as_gradient(grad: Tensor, mask: Tensor) -> Tensor:
    """`grad` as a MaskedTensor with `mask` (as it is, if it is one already)."""
    if is_masked_tensor(grad):
        return grad
    if grad.layout is not mask.layout:
        mask = mask.to_dense() if grad.layout is layouts.strided else mask
    return MaskedTensor._make(grad, mask)


def _preprocess(data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Sparse data and mask coalesced, the data cut down to the mask's specified elements."""
    if data.layout is not mask.layout:
        raise TypeError("data and mask must have the same layout.")
    if data.layout is layouts.sparse_coo:
        data, mask = data.coalesce(), mask.coalesce()
        if data._nnz() != mask._nnz():
            data = _sparse_coo_where(mask, data)
    if data.layout is layouts.sparse_csr and data._nnz() != mask._nnz():
        data = data.to_dense().sparse_mask(mask)  # cut down to the mask's elements
    return data, mask


def _sparse_coo_where(mask: Tensor, data: Tensor) -> Tensor:
    """`data` at the specified elements of `mask` (0 where data has none)."""
    from ..ops.sparse_coo import sparse_coo_tensor

    dense = data.to_dense()
    index = tuple(mask.indices())
    values = dense[index] if index else dense
    return sparse_coo_tensor(mask.indices(), values, tuple(mask.shape)).coalesce()


def _validate(data: Tensor, mask: Tensor) -> None:
    if data.layout is layouts.sparse_coo and not bool(
            (data.indices().shape == mask.indices().shape)
            and (data.indices() == mask.indices()).all()):
        raise ValueError(
            "data and mask are both sparse COO tensors but do not have the same indices.")
    if mask.dtype is not dtypes.bool_:
        raise TypeError("mask must have dtype bool.")
    if data.dtype not in _SUPPORTED:
        raise TypeError(f"{data.dtype} is not supported in MaskedTensor.")
    if data.dim() != mask.dim():
        raise ValueError("data.dim() must equal mask.dim()")
    if data.size() != mask.size():
        raise ValueError("data.size() must equal mask.size()")


# ----------------------------------------------------------------------------- printing
_FORMAT = "{0:8.4f}"


def _element(value: Any) -> str:
    return _FORMAT.format(value) if isinstance(value, float) else str(value)


def _lines(data: Any, mask: Any, ndim: int) -> str:
    """PyTorch's layout: one bracketed row per last-dim slice, masked-out elements as `--`
    right-aligned to 8 characters (or the widest element of the row)."""
    if ndim == 1:
        texts = [_element(value) for value in data]
        width = max((8 if not specified else len(text)) for text, specified in zip(texts, mask))
        return "[" + ", ".join(text if specified else "--".rjust(width)
                               for text, specified in zip(texts, mask)) + "]"
    parts = [_lines(d, m, ndim - 1) for d, m in zip(data, mask)]
    parts = ["\n".join("  " + line for line in part.split("\n")) for part in parts]
    return "[\n" + ",\n".join(parts) + "\n]"


def _repr(masked: MaskedTensor) -> str:
    data, mask = masked._masked_data.detach(), masked._masked_mask
    if data.layout is not layouts.strided:
        data, mask = data.to_dense(), mask.to_dense()
    if data.dim() == 0:
        text = _element(data.item()) if bool(mask.item()) else "--"
        return f"MaskedTensor({text}, {bool(mask.item())})"
    body = _lines(data.tolist(), mask.tolist(), data.dim())
    return "MaskedTensor(\n" + "\n".join("  " + line for line in body.split("\n")) + "\n)"


# ----------------------------------------------------------------------------- creation
def masked_tensor(data: Any, mask: Any, requires_grad: bool = False) -> MaskedTensor:
    """A masked tensor holding a copy of `data` (a leaf, as `torch.tensor`)."""
    return MaskedTensor(data, mask, requires_grad)


def as_masked_tensor(data: Any, mask: Any) -> MaskedTensor:
    """A masked tensor over `data` that keeps its history (as `torch.as_tensor`): gradients
    flow back to `data`."""
    if is_masked_tensor(data) or not isinstance(data, Tensor):
        raise TypeError("data must be a Tensor")
    if is_masked_tensor(mask) or not isinstance(mask, Tensor):
        raise TypeError("mask must be a Tensor")
    data, mask = _preprocess(data, mask)
    _validate(data, mask)
    mask = mask.clone()
    return MaskedTensor._make(data if data.layout is not layouts.strided
                              else Constructor.apply(data, mask=mask), mask)


class Constructor(Function):
    """as_masked_tensor's copy of the data: the gradient it hands back is a MaskedTensor with
    the mask, so the history that made the data gets masked gradients (PyTorch's
    `MaskedTensor._from_values`, whose node has this name)."""

    node_name = "ConstructorBackward"

    @staticmethod
    def forward(ctx: Any, data: Any, *, mask: Tensor) -> Any:
        ctx.mask = mask
        return ctx.backend.asarray(data, copy=True)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> Any:
        return _as_gradient(grad_output, ctx.mask)
