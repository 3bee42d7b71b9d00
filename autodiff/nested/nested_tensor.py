"""`NestedTensor`: a batch of tensors of different lengths (torch.nested), in the strided or
the jagged layout, over one dense buffer (storage.py).

The buffer is the tensor the graph sees: requires_grad, grad_fn, is_leaf and .grad are its,
and every op on a nested tensor is an op on the buffer (elementwise ops apply to all of it,
as PyTorch's jagged kernels apply to `values()`), so gradients reach the components' sources
through the ordinary backward walk. A nested tensor's `_data` is `NestedData`, layout data
(`layout_dispatch.py`): an op that `Function.apply` runs with a nested argument goes to the
nested rule for its class (ops.py), which computes it or refuses it.
"""

from __future__ import annotations

import warnings
from typing import Any, NoReturn

from backends import Device

from .. import dtypes, layouts
from ..layout_dispatch import InnerAutograd, LayoutData
from ..tensor import Tensor, _wrap_dim
from ..user_warnings import warn
from . import ops, storage, views
from .storage import Component, RaggedSize

_NO_SIZES = "Internal error: NestedTensorImpl doesn't support sizes. Please file an issue."
_NO_STRIDES = "Internal error: NestedTensorImpl doesn't support strides. Please file an issue."


_UNSUPPORTED = "this operation does not support nested tensors (torch.nested)"


class NestedData(LayoutData):
    """A nested tensor's `_data`: hands ops to the nested rule; read as an array anywhere
    else, it is the error."""

    __slots__ = ()
    layout_name = "nested"

    def dispatch(self, op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return ops.rule(op, args, kwargs)

    def refuse(self, operator: str, tensor: Any) -> NoReturn:
        raise ops.refuse_operator(operator, tensor)

    def __array__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(_UNSUPPORTED)

    def __getattr__(self, name: str) -> NoReturn:  # shape, ndim, dtype: a nested one has none
        raise NotImplementedError(_UNSUPPORTED)


NESTED_DATA = NestedData()


class NestedTensor(InnerAutograd, Tensor):
    """A nested tensor: dim 0 indexes its components; a dim where they differ is ragged."""

    is_nested = True
    _autograd_of = "_buffer"  # its requires_grad, grad_fn and is_leaf (InnerAutograd)
    _buffer: Tensor
    _components: tuple[Component, ...]
    _nested_layout: layouts.layout
    _ragged_idx = 1  # jagged: the ragged dim
    _ragged_size: RaggedSize | None = None  # jagged: the ragged dim's nested int
    _offsets: Tensor | None = None  # jagged: where each component starts in values()
    _lengths: Tensor | None = None  # jagged: each component's length, when they leave holes

    @classmethod
    def make(cls, buffer: Tensor, components: tuple[Component, ...], layout: layouts.layout,
             *, ragged_idx: int = 1, offsets: Tensor | None = None,
             lengths: Tensor | None = None, ragged_size: RaggedSize | None = None
             ) -> NestedTensor:
        nested = object.__new__(cls)
        nested._buffer = buffer
        nested._backend = buffer._backend
        nested._components = components
        nested._nested_layout = layout
        if layout is layouts.jagged:
            nested._ragged_idx = ragged_idx
            nested._offsets = offsets
            nested._lengths = lengths
            nested._ragged_size = ragged_size if ragged_size is not None else RaggedSize()
        return nested

    def derive(self, buffer: Tensor, components: tuple[Component, ...] | None = None, *,
               ragged_idx: int | None = None) -> NestedTensor:
        """A nested tensor like this one (layout, offsets, ragged size) over `buffer`."""
        return NestedTensor.make(
            buffer, self._components if components is None else components,
            self._nested_layout, ragged_idx=self._ragged_idx if ragged_idx is None else ragged_idx,
            offsets=self._offsets, lengths=self._lengths, ragged_size=self._ragged_size)

    # What `Function.apply` reads in place of an array: a nested tensor has none, so the op
    # goes to the nested rule.
    @property
    def _data(self) -> NestedData:
        return NESTED_DATA

    @_data.setter
    def _data(self, value: Any) -> NoReturn:
        raise NotImplementedError(_UNSUPPORTED)

    @property
    def _requires_grad(self) -> bool:
        return self._buffer._requires_grad

    @_requires_grad.setter
    def _requires_grad(self, value: bool) -> None:
        self._buffer._requires_grad = value

    # ------------------------------------------------------------------------- metadata
    @property
    def layout(self) -> layouts.layout:
        return self._nested_layout

    @property
    def dtype(self) -> dtypes.dtype:
        return self._buffer.dtype

    @property
    def device(self) -> Device:
        return self._buffer.device

    def dim(self) -> int:
        return 1 + (len(self._components[0].size) if self._components else 0)

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self.dim()

    def numel(self) -> int:
        return sum(component.numel for component in self._components)

    nelement = numel

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            if self._nested_layout is layouts.strided:
                raise RuntimeError(_NO_SIZES)
            return dtypes.Size(self._size_at(d) for d in range(self.dim()))
        return self._size_at(_wrap_dim(dim, self.dim()))

    @property
    def shape(self) -> dtypes.Size:
        return self.size()

    def _size_at(self, dim: int) -> Any:
        if dim == 0:
            return len(self._components)
        if self._nested_layout is layouts.jagged and dim == self._ragged_idx:
            return self._ragged_size  # a nested int even where the lengths happen to agree
        lengths = {component.size[dim - 1] for component in self._components}
        if len(lengths) == 1:
            return lengths.pop()
        if self._nested_layout is layouts.jagged:
            return self._ragged_size
        raise RuntimeError(f"Given dimension {dim} is irregular and does not have a size.")

    def stride(self, dim: int | None = None) -> Any:
        if self._nested_layout is layouts.strided:
            raise RuntimeError(_NO_STRIDES)
        raise RuntimeError("NestedTensor strides hold nested ints; autodiff does not give them")

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return storage.is_packed(self._components) and self._lengths is None

    def __len__(self) -> int:
        if self._nested_layout is layouts.strided:
            raise RuntimeError(_NO_SIZES)
        return len(self._components)

    def __iter__(self) -> Any:
        return iter(self.unbind())

    # ------------------------------------------------------------------------- autograd
    @property
    def grad(self) -> Tensor | None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grad = self._buffer.grad
        if self.grad_fn is not None:
            warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed.",
                UserWarning, stacklevel=2)
        return None if grad is None else self.derive(grad)

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is None:
            self._buffer.grad = None
            return
        raise RuntimeError("autodiff: a nested tensor's .grad is set by backward only")

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Backward from this nested tensor, given a nested `gradient` of its structure."""
        if gradient is None:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if not isinstance(gradient, NestedTensor):
            raise RuntimeError("Expected both self and other to be nested, but got a nested self "
                               "and non-nested other")
        self._buffer.backward(ops.buffer_gradient(self, gradient), retain_graph, create_graph,
                              inputs)

    def detach(self) -> Tensor:
        return self.derive(self._buffer.detach())

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """The components in another dtype or on another device (the buffer converted)."""
        converted = self.derive(self._buffer.to(*args, **kwargs))
        if converted._offsets is not None and converted.device != self.device:
            converted._offsets = converted._offsets.to(converted.device)
            if converted._lengths is not None:
                converted._lengths = converted._lengths.to(converted.device)
        return converted

    def contiguous(self, memory_format: Any = None) -> Tensor:
        return views.contiguous(self)

    # ------------------------------------------------------------------------- views
    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return views.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def view(self, *shape: Any) -> Tensor:
        return views.view(self, shape)

    def reshape(self, *shape: Any) -> Tensor:
        return views.view(self, shape, copy_if_needed=True)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return views.chunk(self, chunks, dim)

    def unflatten(self, dim: int, sizes: Any) -> Tensor:
        return views.unflatten(self, dim, sizes)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return views.flatten(self, start_dim, end_dim)

    # ------------------------------------------------------------------------- components
    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        if _wrap_dim(dim, self.dim()) != 0:
            if self._nested_layout is layouts.jagged:
                raise RuntimeError("unbind(): only supported for NestedTensor on dim=0")
            raise RuntimeError(f"NestedTensor can only be unbound along dimension 0 got "
                               f"dimension {dim} instead.")
        return tuple(storage.component_view(self._buffer, component)
                     for component in self._components)

    def __getitem__(self, key: Any) -> Tensor:
        # An integer first selects a component, a dense tensor that the rest of the key then
        # indexes, as PyTorch's select(0, i) followed by the dense indexing does.
        rest: tuple[Any, ...] = ()
        if isinstance(key, tuple) and key:
            key, rest = key[0], key[1:]
        if isinstance(key, Tensor) and key.dim() == 0 and key.dtype.category == 1:  # integral
            key = int(key.item())
        if isinstance(key, int) and not isinstance(key, bool):
            index = _wrap_dim(key, len(self._components)) if self._components else key
            if not self._components:
                raise IndexError(f"index {key} is out of bounds for dimension 0 with size 0")
            component = storage.component_view(self._buffer, self._components[index])
            return component[rest] if rest else component
        raise NotImplementedError(
            "autodiff: a nested tensor is indexed by an integer first (its component); other "
            "keys are not supported")

    def values(self) -> Tensor:
        """The jagged layout's buffer: the components' rows one after the other."""
        if self._nested_layout is not layouts.jagged:
            raise RuntimeError("Internal error: NestedTensorImpl doesn't support sizes. Please "
                               "file an issue.")
        return self._buffer

    def offsets(self) -> Tensor:
        if self._offsets is None:
            raise RuntimeError("offsets() is only defined for nested tensors of the jagged "
                               "layout")
        return self._offsets

    def lengths(self) -> Tensor | None:
        if self._nested_layout is not layouts.jagged:
            raise RuntimeError("lengths() is only defined for nested tensors of the jagged "
                               "layout")
        return self._lengths

    def __repr__(self) -> str:
        return _repr(self)

    __str__ = __repr__


def _repr(nested: NestedTensor) -> str:
    """PyTorch's: `nested_tensor([...components...])` for the strided layout, and the jagged
    subclass's `NestedTensor(size=..., offsets=..., contiguous=...)`."""
    grad_fn = nested.grad_fn
    if nested._nested_layout is layouts.jagged:
        sizes = ", ".join(str(size) for size in nested.size())
        parts = [f"size=({sizes})", f"offsets={nested._offsets!r}"]
        if grad_fn is not None:
            parts.append(f"grad_fn=<{grad_fn.name()} object at {hex(id(grad_fn))}>")
        elif nested.requires_grad:
            parts.append("requires_grad=True")
        parts.append(f"contiguous={nested.is_contiguous()}")
        return f"NestedTensor({', '.join(parts)})"
    lines = []
    for component in nested.detach().unbind():
        if nested.requires_grad:
            component.requires_grad_(True)
        lines.append("  " + repr(component).replace("\n", "\n  "))
    suffixes = []
    if nested.device.type != "cpu":
        suffixes.append(f"device='{nested.device}'")
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn.name()}>")
    elif nested.requires_grad:
        suffixes.append("requires_grad=True")
    body = "[\n" + ",\n".join(lines) + "\n]"
    return f"nested_tensor({', '.join([body, *suffixes])})"
