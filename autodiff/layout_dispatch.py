"""How an op reaches a tensor that has no one dense array (a sparse COO tensor, a nested
tensor): one protocol, `LayoutData`, and one hook, in `Function.apply`.

Such a tensor's `_data` is a `LayoutData` in place of an array. It is no array (NumPy's ufuncs
and conversions refuse it, array-api-strict rejects it), so a dense op's forward handed one
fails at its first array call. `Function.apply` catches that failure (free on the dense path,
where nothing fails), finds the argument that holds layout data, and hands the op to its
`dispatch(op, args, kwargs)`: the layout computes the op its own way (on its arrays, with ops
written for them, recorded as any op) or refuses it in PyTorch's words. While a mode is on
(op modes, the profiler, forward AD), apply asks `layout_data(args)` before forward instead,
so no mode ever sees a forward fail on layout data. Ops computed on arrays outside apply
(argmax, nonzero, ...) ask `dense_only`, and the layout refuses them.

A layout's own ops, whose forwards take its data (a sparse tensor's `SparseCOO`), declare
`Function.takes_layout_data`: apply never hands them on, so their errors are their own.
"""

from __future__ import annotations

from typing import Any, NoReturn


class InnerAutograd:
    """Mixin for a Tensor subclass whose place in the graph is a dense tensor it holds (the
    attribute named by `_autograd_of`): requires_grad, grad_fn and is_leaf are that tensor's.
    Placed before Tensor in the bases."""

    _autograd_of: str

    @property
    def requires_grad(self) -> bool:
        return getattr(self, self._autograd_of).requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        getattr(self, self._autograd_of).requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Any:
        getattr(self, self._autograd_of).requires_grad_(requires_grad)
        return self

    @property
    def grad_fn(self) -> Any:
        return getattr(self, self._autograd_of).grad_fn

    @grad_fn.setter
    def grad_fn(self, node: Any) -> None:
        raise AttributeError("attribute 'grad_fn' of 'torch._C.TensorBase' objects is not "
                             "writable")

    @property
    def is_leaf(self) -> bool:
        return getattr(self, self._autograd_of).is_leaf


class LayoutData:
    """Base of what a tensor without one dense array holds in `_data`."""

    __slots__ = ()
    # Not an array: NumPy's ufuncs refuse it (`__array_ufunc__ = None`) and so do its
    # conversions, so a dense forward handed one fails at once.
    __array_ufunc__ = None

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"a {self.layout_name} tensor is not one array")

    layout_name = "layout"

    def dispatch(self, op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """`op.apply(*args, **kwargs)` for arguments that include a tensor of this layout:
        computed this layout's way, or refused in PyTorch's words."""
        raise NotImplementedError


    def map_values(self, args: tuple[Any, ...], function: Any) -> Any:
        """An elementwise op computed outside `Function.apply` (isnan, comparisons) of `args`,
        one of which holds this layout data: `function(*args)` computed the layout's way, or
        None where the layout has none (the op then fails on this data as on any non-array)."""
        return None

    def take_in_place(self, tensor: Any, compute: Any) -> Any:
        """An in-place op on `tensor`, which holds this layout data: `compute(tensor)` is the
        op out of place; the tensor takes its result the layout's way and is returned, or
        None where the layout has no way."""
        return None

    def refuse(self, operator: str, tensor: Any) -> NoReturn:
        """PyTorch's refusal of operator `operator` ('aten::argmax', 'aten::all.dim') for
        `tensor`, which holds this layout data."""
        raise NotImplementedError(f"{operator} does not support {self.layout_name} tensors")


def dense_only(operator: str, *tensors: Any) -> None:
    """For an op computed on arrays outside `Function.apply` (argmax, nonzero, equal, ...),
    which no layout takes: refuse a tensor without one dense array in PyTorch's words, naming
    the operator PyTorch's dispatcher would."""
    for tensor in tensors:
        data = getattr(tensor, "_data", None)
        if isinstance(data, LayoutData):
            data.refuse(operator, tensor)


def layout_data(args: Any) -> LayoutData | None:
    """The layout data of the first argument that holds some, or None (all dense)."""
    for arg in args:
        data = getattr(arg, "_data", None)
        if isinstance(data, LayoutData):
            return data
    return None


def layout_tensor(args: Any) -> Any:
    """The first argument that holds layout data (one must)."""
    return next(arg for arg in args if isinstance(getattr(arg, "_data", None), LayoutData))
