"""`Tensor`: a thin facade over one backend array, its device's backend, and its place in the
graph. Every method is a one-line call into `autodiff/ops`; no math happens here."""

from __future__ import annotations

import copy
from collections.abc import Callable
from numbers import Number
from typing import TYPE_CHECKING, Any

from backends import Backend, Device, get_backend
from backends.interop import array_protocol

from . import _printing, dtypes, layouts
from . import quantized_tensor as _quantized
from .compiler import tracing as _tracing
from .dtypes import Size
from .grad_mode import inference_seen as _inference_seen
from .grad_mode import state as _grad_state
from .node import AccumulateGrad, RemovableHandle
from .ops import fill_arguments as _fill_arguments
from .quantized_tensor import QuantizedData
from .sparse_compressed import LAYOUT_NAMES as _COMPRESSED_NAMES
from .sparse_compressed import SparseCompressed
from .sparse_coo import SparseCOO
from .torch_function import TensorMeta
from .user_warnings import skip_frames_of, warn

if TYPE_CHECKING:
    from .node import Node

_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)

_NO_STORAGE = "Cannot access data pointer of Tensor that doesn't have storage"


_warned_scalar_of_requires_grad = False


def _warn_scalar_of_requires_grad() -> None:
    # PyTorch warns for float() only (not int(), bool() or item()), once per process.
    global _warned_scalar_of_requires_grad
    if not _warned_scalar_of_requires_grad:
        _warned_scalar_of_requires_grad = True
        warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
             "behavior.\nConsider using tensor.detach() first.", UserWarning, stacklevel=3)


class Tensor(metaclass=TensorMeta):
    """An n-dimensional array on a device that can record the ops applied to it."""

    _data: Any
    _backend: Backend
    __hash__ = object.__hash__  # == is elementwise; tensors hash by identity, as in PyTorch

    # Defaults live on the class, so making a Tensor sets only what differs (the hot path).
    _requires_grad = False
    _grad_fn: Node | None = None
    _grad: Tensor | None = None
    _output_nr = 0
    _version_counter: list[int] | None = None  # shared with views; created on first need
    _base: Tensor | None = None
    _accumulator_ref: Any = None
    _grad_lock: Any = None  # a leaf's: backward passes in several threads add into .grad
    _hooks: list[Callable[..., Any]] | None = None
    _post_accumulate_hooks: list[Callable[..., Any]] | None = None
    _retains_grad = False
    # A leaf's grad_dtype once set (None: any dtype); unset, it is the tensor's own dtype.
    _grad_dtype_set = False
    _grad_dtype: dtypes.dtype | None = None
    _batched = False  # vmap's BatchedTensor (batching/batched_tensor.py) sets it
    _fw_grads: dict[int, Tensor] | None = None  # the tangent at each open dual level (dual.py)
    _inference = False  # made in inference mode (not a view of a normal tensor)

    # View bookkeeping (ops/views.py): how a view replays from its base, why it may not be
    # replayed (made in no_grad mode, or one of several views from one op), and how many times
    # a base's history was changed by in-place ops (its views follow it).
    _view_chain: tuple[Any, ...] | None = None
    _view_error: tuple[str, Any] | None = None
    _is_conj = False  # a conjugate (or negative) view, as PyTorch's conj() reports it
    _is_neg = False
    _history = 0
    # Set on subclasses that define `__torch_dispatch__` (PyTorch's Python dispatch key): ops
    # applied to their instances are handed to it (python_dispatch.py).
    _python_dispatch = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "__torch_dispatch__", None) is not None:
            cls._python_dispatch = True
        _torch_function.subclass_created(cls)

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        """The default handler of subclasses: `func` runs with subclasses' handlers off, and
        the Tensors it returns come back as `cls` (except the getters of `grad` and `_base`)."""
        return _torch_function.default_torch_function(cls, func, types, args, kwargs)

    def __new__(cls, *args: Any, **kwargs: Any) -> Tensor:
        """PyTorch's legacy constructor: `Tensor(2, 3)` (uninitialised, by sizes),
        `Tensor([1, 2])` (data, in the default dtype), `Tensor()` (empty), `Tensor(other)` (an
        alias of it); prefer `autodiff.tensor` and the factories."""
        return _legacy.construct(cls, args, kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # all done in __new__

    @staticmethod
    def _make_wrapper_subclass(cls: type, size: Any, *args: Any, **kwargs: Any) -> Any:
        """An instance of `cls` (a subclass defining `__torch_dispatch__`) with the given
        size, strides, dtype, device and requires_grad, its ops handed to `cls`."""
        return _python_dispatch.make_wrapper_subclass(cls, size, *args, **kwargs)

    # ------------------------------------------------------------------------- metadata
    @property
    def grad_fn(self) -> Node | None:
        """The graph node that made this tensor (None for a leaf or a tensor out of any graph);
        read-only, as PyTorch's."""
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node: Any) -> None:
        raise AttributeError("attribute 'grad_fn' of 'torch._C.TensorBase' objects is not "
                             "writable")

    @property
    def data(self) -> Tensor:
        """The same values, detached from the graph (and from in-place checks: use with care)."""
        return _wrap(self._data, self._backend)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data
        self._backend = value._backend

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        total = 1
        for size in self._data.shape:
            total *= size
        return total

    nelement = numel

    @property
    def dtype(self) -> dtypes.dtype:
        try:
            return dtypes.BY_NAME[self._backend.dtype_name(self._data)]
        except KeyError:
            if type(self._data) is QuantizedData:
                return self._data.dtype
            raise

    @property
    def device(self) -> Device:
        return self._backend.device

    @property
    def is_cuda(self) -> bool:
        return self._backend.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._backend.device.type == "cpu"

    @property
    def is_meta(self) -> bool:
        """On the meta device: a shape and a dtype, no values."""
        return self._backend.device.type == "meta"

    def get_device(self) -> int:
        """The device index (-1 on the CPU), as `torch.Tensor.get_device`."""
        index = self._backend.device.index
        return -1 if index is None else index

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    def is_complex(self) -> bool:
        return self._backend.is_complex(self._data.dtype)

    def element_size(self) -> int:
        return self.dtype.itemsize

    ndimension = dim

    def is_same_size(self, other: Tensor) -> bool:
        return self._data.shape == other._data.shape

    def is_nonzero(self) -> bool:
        """The truth of a one-element tensor."""
        if self.numel() == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        return bool(self)

    @property
    def layout(self) -> layouts.layout:
        data = self._data
        if type(data) is SparseCOO:
            return layouts.sparse_coo
        return data.layout if type(data) is SparseCompressed else layouts.strided

    @property
    def is_sparse_csr(self) -> bool:
        """Whether the layout is sparse CSR (`to_sparse_csr`, `sparse_csr_tensor`)."""
        data = self._data
        return type(data) is SparseCompressed and data.layout is layouts.sparse_csr

    @property
    def is_sparse(self) -> bool:
        """Whether the layout is sparse COO (`to_sparse`, `sparse_coo_tensor`)."""
        return type(self._data) is SparseCOO

    @property
    def is_quantized(self) -> bool:
        """Whether the elements are quantized integers (`quantize_per_tensor`)."""
        return type(self._data) is QuantizedData

    # Quantized tensors (quantized_tensor.py): their integers and parameters.
    def dequantize(self) -> Tensor:
        return _quantized.dequantize(self)

    def int_repr(self) -> Tensor:
        return _quantized.int_repr(self)

    def q_scale(self) -> float:
        return _quantized.q_scale(self)

    def q_zero_point(self) -> int:
        return _quantized.q_zero_point(self)

    def q_per_channel_scales(self) -> Tensor:
        return _quantized.q_per_channel_scales(self)

    def q_per_channel_zero_points(self) -> Tensor:
        return _quantized.q_per_channel_zero_points(self)

    def q_per_channel_axis(self) -> int:
        return _quantized.q_per_channel_axis(self)

    def qscheme(self) -> Any:
        return _quantized.get_qscheme(self)

    # Storage kinds and lazy bits autodiff's tensors never have: materialized, and never carry
    # a name.
    is_mkldnn = is_nested = False
    # Device types PyTorch knows and autodiff has no backend for: never a tensor's device.
    is_xpu = is_mps = is_ipu = is_mtia = is_maia = is_vulkan = is_xla = False

    @property
    def name(self) -> None:
        return None

    def is_distributed(self) -> bool:
        return False

    def is_set_to(self, tensor: Tensor) -> bool:
        """Whether both tensors are the same memory seen the same way (start, sizes and
        strides)."""
        return _strides.is_set_to(self, tensor)

    def as_subclass(self, cls: type) -> Tensor:
        """This tensor's data (an alias, in the graph) as an instance of `cls`, a Tensor
        subclass."""
        return _shape.as_subclass(self, cls)

    # Where the memory is: page-locked (pinned) host memory, memory shared between processes.
    def pin_memory(self) -> Tensor:
        return _conversion.pin_memory(self)

    def is_pinned(self) -> bool:
        return _conversion.is_pinned(self)

    def share_memory_(self) -> Tensor:
        return _conversion.share_memory_(self)

    def is_shared(self) -> bool:
        return _conversion.is_shared(self)

    def stride(self, dim: int | None = None) -> Any:
        return _strides.stride(self, dim)

    def storage_offset(self) -> int:
        return _strides.storage_offset(self)

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return _strides.is_contiguous(self, memory_format)

    def dim_order(self, ambiguity_check: Any = False) -> tuple[int, ...]:
        return _strides.dim_order(self, ambiguity_check)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        return _strides.contiguous(self, memory_format)

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes the elements take (numel * itemsize)."""
        return self.numel() * self.dtype.itemsize

    def data_ptr(self) -> int:
        """The address of the first element in device memory."""
        if type(self._data) in (SparseCOO, SparseCompressed):
            raise RuntimeError(_NO_STORAGE)
        return self._backend.data_ptr(self._data)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """Without `dtype`: the legacy type name ('torch.FloatTensor', 'torch.cuda.LongTensor');
        with a dtype or such a name: this tensor converted to it (itself when it already is)."""
        if dtype is None:
            name = self.dtype.name
            legacy = dtypes.LEGACY_NAMES.get(name) or \
                f"quantized.{dtypes.SCALAR_TYPE_NAMES[name]}Tensor"
            if type(self._data) is SparseCOO:
                legacy = f"sparse.{legacy}"
            device = self._backend.device.type
            return f"torch.{legacy}" if device == "cpu" else f"torch.{device}.{legacy}"
        return _conversion.to_type(self, dtype)

    # ------------------------------------------------------------------------- autograd
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._set_requires_grad(value, "only Tensors of floating point and complex dtype can "
                                       "require gradients")

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        # PyTorch words this one differently from the attribute and the factories.
        return self._set_requires_grad(requires_grad,
                                       "only Tensors of floating point dtype can require gradients")

    def is_inference(self) -> bool:
        """Whether this is an inference tensor: made in `inference_mode` (a view takes its
        base's answer). Outside inference mode it may not be changed in place, require grad,
        or be saved for backward."""
        return self._inference

    def _set_requires_grad(self, requires_grad: bool, integer_message: str) -> Tensor:
        if _tracing.state.tracer is not None:
            _tracing.requires_grad_change(self)
        if requires_grad and self._inference and not _grad_state.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return self
        if requires_grad and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError(integer_message)
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        if self.grad_fn is not None and not self._retains_grad:
            warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            target = self.accumulated_grad_dtype()
            if target is not None and value.dtype != target:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_checks.cpp_type_name(value)}'"
                    f" to a tensor with grad_dtype '{dtypes.SCALAR_TYPE_NAMES[target.name]}'. "
                    "The gradient must match the tensor's grad_dtype (defaults to the tensor's "
                    "dtype). You can set the tensor's grad_dtype attribute with a specific dtype, "
                    "or None to allow any dtype. Set grad_dtype with caution. Diverging the "
                    "dtypes of a tensor and its gradient may break downstream systems that "
                    "assume they match."
                )
            if value._backend is not self._backend:
                self._check_grad_device(value)
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                    f"tensor of size '{list(self._data.shape)}'. Please ensure that the gradient "
                    "and the tensor are the same size"
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    def _check_grad_device(self, value: Tensor) -> None:
        """PyTorch's checks of an assigned gradient's device: its type, then its index."""
        ours, theirs = self.device, value.device
        if ours.type != theirs.type:
            raise RuntimeError(
                f"attempting to assign a gradient with device type '{theirs.type}' to a tensor "
                f"with device type '{ours.type}'. Please ensure that the gradient and the tensor "
                "are on the same device"
            )
        if ours != theirs:
            raise RuntimeError(
                f"attempting to assign a gradient located on device with index "
                f"'{value.get_device()}' to a tensor located on device with index "
                f"'{self.get_device()}'. Please ensure that the gradient and the tensor are on "
                "the same device"
            )

    @property
    def grad_dtype(self) -> dtypes.dtype | None:
        """The dtype `.grad` must have (None: any); by default the tensor's own. The engine
        casts the gradients it accumulates into `.grad` to it. Leaf tensors only."""
        if self.grad_fn is not None:
            raise RuntimeError("grad_dtype can only be accessed on leaf tensors.")
        return self.accumulated_grad_dtype()

    @grad_dtype.setter
    def grad_dtype(self, value: dtypes.dtype | None) -> None:
        if value is not None and not isinstance(value, dtypes.dtype):
            raise RuntimeError(
                f"grad_dtype must be a torch.dtype or None, but got {type(value).__name__}")
        if self.grad_fn is not None:
            raise RuntimeError("grad_dtype can only be set on leaf tensors.")
        grad = self._grad
        if value is not None and grad is not None and grad.dtype != value:
            raise RuntimeError(
                f"Cannot set grad_dtype to '{dtypes.SCALAR_TYPE_NAMES[value.name]}' because "
                f"there is already a gradient with dtype '{_checks.cpp_type_name(grad)}'. "
                "Please clear the gradient (.grad = None) before changing grad_dtype, or ensure "
                "the new grad_dtype matches the existing gradient's dtype."
            )
        self._grad_dtype_set = True
        self._grad_dtype = value

    def accumulated_grad_dtype(self) -> dtypes.dtype | None:
        """The dtype gradients are cast to on their way into `.grad` (None: kept as they
        come): `grad_dtype`, without its leaf check."""
        return self._grad_dtype if self._grad_dtype_set else self.dtype

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor during backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self.grad_fn.add_retains_grad(self)
        self._retains_grad = True

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            return AccumulateGrad.add_leaf_hook(self, hook)
        return self.grad_fn.add_tensor_hook(self._output_nr, hook)

    def register_post_accumulate_grad_hook(
        self, hook: Callable[[Tensor], None]
    ) -> RemovableHandle:
        """Call `hook(tensor)` after a backward has added into this leaf's `.grad`."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        return RemovableHandle.append(self._post_accumulate_hooks, hook)

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Add the gradient of this tensor w.r.t. each leaf into the leaf's `.grad`."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    @property
    def output_nr(self) -> int:
        """Which output of its grad_fn this tensor is."""
        return self._output_nr

    def module_load(self, other: Tensor, assign: bool = False) -> Tensor:
        """What `load_state_dict` swaps into this parameter or buffer for the state dict's
        `other`, under `autodiff.__future__.set_swap_module_params_on_conversion(True)`: a new
        tensor, `other.detach()` with `assign`, else `self.copy_(other).detach()`; subclasses
        may redefine it through `__torch_function__`."""
        if _overrides.has_torch_function((self, other)):
            return _overrides.handle_torch_function(Tensor.module_load, (self, other), self,
                                                    other, assign=assign)
        if assign:
            return other.detach()
        return self.copy_(other).detach()

    def detach(self) -> Tensor:
        """The same data (and version counter), outside the graph."""
        if self._python_dispatch:
            return _python_dispatch.detach(self)
        out = _wrap(self._data, self._backend)
        out._version_counter = self._shared_version_counter()
        out._inference = self._inference  # an alias, as a view
        return out

    def detach_(self) -> Tensor:
        """Take this tensor out of the graph, in place (views cannot be)."""
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._grad_fn = None
        self._fw_grads = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    # What autograd no longer has (Variable's volatile flag, reinforce), as PyTorch answers.
    @property
    def volatile(self) -> bool:
        warn("volatile was removed (Variable.volatile is always False)", UserWarning,
             stacklevel=2)
        return False

    @volatile.setter
    def volatile(self, value: Any) -> None:
        warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
             "instead.", UserWarning, stacklevel=2)

    def reinforce(self, reward: Any) -> None:
        raise RuntimeError(_REINFORCE_REMOVED)

    # Version counter: bumped by every in-place op, checked by nodes that saved this tensor.
    @property
    def _version(self) -> int:
        counter = self._version_counter
        return 0 if counter is None else counter[0]

    def _shared_version_counter(self) -> list[int]:
        counter = self._version_counter
        if counter is None:
            counter = self._version_counter = [0]
        return counter

    def _bump_version(self) -> None:
        counter = self._version_counter  # (not through _shared_version_counter: one call less)
        if counter is None:
            self._version_counter = [1]
        else:
            counter[0] += 1

    def _grad_accumulator(self) -> AccumulateGrad:
        """This leaf's AccumulateGrad node, made once and shared while a graph holds it."""
        return AccumulateGrad.of(self)

    # --------------------------- arithmetic and its operators (each in-place form beside its twin)
    def __add__(self, other: Any) -> Tensor:
        return _arithmetic.Add.apply(self, other)

    __radd__ = __add__  # addition and multiplication commute

    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _arithmetic.add(self, other, alpha=alpha)

    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _inplace.add_(self, other, alpha=alpha)

    def __sub__(self, other: Any) -> Tensor:
        return _arithmetic.Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _arithmetic.rsub(self, other)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _arithmetic.sub(self, other, alpha=alpha)

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _inplace.sub_(self, other, alpha=alpha)

    def subtract(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _arithmetic.sub(self, other, alpha=alpha)

    def subtract_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _inplace.sub_(self, other, alpha=alpha)

    def __mul__(self, other: Any) -> Tensor:
        return _arithmetic.Mul.apply(self, other)

    __rmul__ = __mul__

    def mul(self, other: Any) -> Tensor:
        return _arithmetic.mul(self, other)

    def mul_(self, other: Any) -> Tensor:
        return _inplace.mul_(self, other)

    def multiply(self, other: Any) -> Tensor:
        return _arithmetic.mul(self, other)

    def multiply_(self, other: Any) -> Tensor:
        return _inplace.mul_(self, other)

    def __truediv__(self, other: Any) -> Tensor:
        return _arithmetic.Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _arithmetic.rdiv(self, other)

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return _arithmetic.div(self, other, rounding_mode=rounding_mode)

    divide = div

    def true_divide(self, other: Any) -> Tensor:
        return _arithmetic.div(self, other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return _inplace.div_(self, other, rounding_mode=rounding_mode)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    divide_ = div_

    def true_divide_(self, other: Any) -> Tensor:
        return _inplace.div_(self, other)

    def __floordiv__(self, other: Any) -> Tensor:
        return _division.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _division.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _division.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _division.remainder(other, self)

    floor_divide, remainder = __floordiv__, __mod__

    def floor_divide_(self, other: Any) -> Tensor:
        return _inplace.elementwise_(self, _division.floor_divide_of, other)

    def remainder_(self, other: Any) -> Tensor:
        return _inplace.elementwise_(self, _division.remainder, other)

    __ifloordiv__, __imod__ = floor_divide_, remainder_

    def __pow__(self, exponent: Any) -> Tensor:
        return _arithmetic.pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _arithmetic.rpow(self, base)

    def __neg__(self) -> Tensor:
        return _arithmetic.neg(self)

    def __pos__(self) -> Tensor:
        return self

    neg, pow = __neg__, __pow__

    def pow_(self, exponent: Any) -> Tensor:
        return _inplace.pow_(self, exponent)

    __ipow__ = pow_
    negative = neg

    def neg_(self) -> Tensor:
        return _inplace.method_("neg", self)

    negative_ = neg_

    def reciprocal(self) -> Tensor:
        return _arithmetic.reciprocal(self)

    def reciprocal_(self) -> Tensor:
        return _inplace.method_("reciprocal", self)

    def square(self) -> Tensor:
        return _arithmetic.square(self)

    def square_(self) -> Tensor:
        return _inplace.method_("square", self)

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        return _arithmetic.addcmul(self, tensor1, tensor2, value=value)

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        return _inplace.addcmul_(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        return _arithmetic.addcdiv(self, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        return _inplace.addcdiv_(self, tensor1, tensor2, value=value)

    def fmod(self, other: Any) -> Tensor:
        return _floating.fmod(self, other)

    def fmod_(self, other: Any) -> Tensor:
        return _inplace.call_(self, _floating.fmod, other)

    def copysign(self, other: Any) -> Tensor:
        return _floating.copysign(self, other)

    def copysign_(self, other: Any) -> Tensor:
        return _inplace.call_(self, _floating.copysign, other)

    def hypot(self, other: Tensor) -> Tensor:
        return _floating.hypot(self, other)

    def hypot_(self, other: Tensor) -> Tensor:
        return _inplace.call_(self, _floating.hypot, other)

    def nextafter(self, other: Tensor) -> Tensor:
        return _floating.nextafter(self, other)

    def nextafter_(self, other: Tensor) -> Tensor:
        return _inplace.call_(self, _floating.nextafter, other)

    def ldexp(self, other: Tensor) -> Tensor:
        return _floating.ldexp(self, other)

    def ldexp_(self, other: Tensor) -> Tensor:
        return _inplace.call_(self, _floating.ldexp, other)

    def frexp(self) -> Any:
        return _floating.frexp(self)

    def float_power(self, exponent: Any) -> Tensor:
        return _floating.float_power(self, exponent)

    def float_power_(self, exponent: Any) -> Tensor:
        if not isinstance(exponent, Tensor) and not _checks.is_number(exponent):
            raise _checks.invalid_arguments("float_power_", (exponent,), {},
                                            ("Tensor exponent", "Number exponent"))
        if self.dtype is not dtypes.float64:
            raise RuntimeError(
                "the base given to float_power_ has dtype "
                f"{dtypes.SCALAR_TYPE_NAMES[self.dtype.name]} but the operation's result "
                "requires dtype Double")
        return _inplace.call_(self, _floating.float_power, exponent)

    def heaviside(self, values: Tensor) -> Tensor:
        return _floating.heaviside(self, values)

    def heaviside_(self, values: Tensor) -> Tensor:
        return _inplace.call_(self, _floating.heaviside, values)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        return _floating.nan_to_num(self, nan, posinf, neginf)

    def nan_to_num_(self, nan: float = 0.0, posinf: float | None = None,
                    neginf: float | None = None) -> Tensor:
        return _inplace.call_(self, _floating.nan_to_num, nan, posinf, neginf)

    def signbit(self) -> Tensor:
        return _floating.signbit(self)

    def gcd(self, other: Tensor) -> Tensor:
        return _integer.gcd(self, other)

    def gcd_(self, other: Tensor) -> Tensor:
        return _inplace.call_(self, _integer.gcd, other)

    def lcm(self, other: Tensor) -> Tensor:
        return _integer.lcm(self, other)

    def lcm_(self, other: Tensor) -> Tensor:
        return _inplace.call_(self, _integer.lcm, other)

    def bitwise_left_shift(self, other: Any) -> Tensor:
        return _integer.bitwise_left_shift(self, other)

    def bitwise_left_shift_(self, other: Any) -> Tensor:
        return _inplace.call_(self, _integer.bitwise_left_shift, other)

    def bitwise_right_shift(self, other: Any) -> Tensor:
        return _integer.bitwise_right_shift(self, other)

    def bitwise_right_shift_(self, other: Any) -> Tensor:
        return _inplace.call_(self, _integer.bitwise_right_shift, other)

    __lshift__, __ilshift__ = bitwise_left_shift, bitwise_left_shift_
    __rshift__, __irshift__ = bitwise_right_shift, bitwise_right_shift_

    def __rlshift__(self, other: Any) -> Tensor:
        return _integer.bitwise_left_shift(other, self)

    def __rrshift__(self, other: Any) -> Tensor:
        return _integer.bitwise_right_shift(other, self)

    def logaddexp(self, other: Tensor) -> Tensor:
        return _logarithmic.logaddexp(self, other)

    def logaddexp2(self, other: Tensor) -> Tensor:
        return _logarithmic.logaddexp2(self, other)

    def xlogy(self, other: Any) -> Tensor:
        return _logarithmic.xlogy(self, other)

    def xlogy_(self, other: Any) -> Tensor:
        return _inplace.call_(self, _logarithmic.xlogy, other)

    def logit(self, eps: float | None = None) -> Tensor:
        return _logarithmic.logit(self, eps)

    def logit_(self, eps: float | None = None) -> Tensor:
        return _inplace.call_(self, _logarithmic.logit, eps)

    # ------------------------------------------------------------------------- unary math
    def exp(self) -> Tensor:
        return _unary.exp(self)

    def exp_(self) -> Tensor:
        return _inplace.method_("exp", self)

    def log(self) -> Tensor:
        return _unary.log(self)

    def log_(self) -> Tensor:
        return _inplace.method_("log", self)

    def expm1(self) -> Tensor:
        return _unary.expm1(self)

    def expm1_(self) -> Tensor:
        return _inplace.method_("expm1", self)

    def exp2(self) -> Tensor:
        return _unary.exp2(self)

    def exp2_(self) -> Tensor:
        return _inplace.method_("exp2", self)

    def log1p(self) -> Tensor:
        return _unary.log1p(self)

    def log1p_(self) -> Tensor:
        return _inplace.method_("log1p", self)

    def log2(self) -> Tensor:
        return _unary.log2(self)

    def log2_(self) -> Tensor:
        return _inplace.method_("log2", self)

    def log10(self) -> Tensor:
        return _unary.log10(self)

    def log10_(self) -> Tensor:
        return _inplace.method_("log10", self)

    def erf(self) -> Tensor:
        return _unary.erf(self)

    def erf_(self) -> Tensor:
        return _inplace.method_("erf", self)

    def erfc(self) -> Tensor:
        return _error_function.erfc(self)

    def erfc_(self) -> Tensor:
        return _inplace.call_(self, _error_function.erfc)

    def erfinv(self) -> Tensor:
        return _error_function.erfinv(self)

    def erfinv_(self) -> Tensor:
        return _inplace.call_(self, _error_function.erfinv)

    def lgamma(self) -> Tensor:
        return _gamma.lgamma(self)

    def lgamma_(self) -> Tensor:
        return _inplace.call_(self, _gamma.lgamma)

    def digamma(self) -> Tensor:
        return _gamma.digamma(self)

    def digamma_(self) -> Tensor:
        return _inplace.call_(self, _gamma.digamma)

    def polygamma(self, n: int) -> Tensor:
        return _gamma.polygamma(n, self)

    def polygamma_(self, n: int) -> Tensor:
        return _inplace.call_(self, lambda source: _gamma.polygamma(n, source))

    def mvlgamma(self, p: int) -> Tensor:
        return _gamma.mvlgamma(self, p)

    def mvlgamma_(self, p: int) -> Tensor:
        return _inplace.call_(self, _gamma.mvlgamma, p)

    def igamma(self, other: Tensor) -> Tensor:
        return _gamma.igamma(self, other)

    def igamma_(self, other: Tensor) -> Tensor:
        return _inplace.call_(self, _gamma.igamma, other)

    def igammac(self, other: Tensor) -> Tensor:
        return _gamma.igammac(self, other)

    def igammac_(self, other: Tensor) -> Tensor:
        return _inplace.call_(self, _gamma.igammac, other)

    def i0(self) -> Tensor:
        return _bessel.i0(self)

    def i0_(self) -> Tensor:
        return _inplace.call_(self, _bessel.i0)

    def sqrt(self) -> Tensor:
        return _unary.sqrt(self)

    def sqrt_(self) -> Tensor:
        return _inplace.method_("sqrt", self)

    def rsqrt(self) -> Tensor:
        return _unary.rsqrt(self)

    def rsqrt_(self) -> Tensor:
        return _inplace.method_("rsqrt", self)

    def abs(self) -> Tensor:
        return _unary.abs(self)

    @property
    def real(self) -> Tensor:
        return _complex.real(self)

    @property
    def imag(self) -> Tensor:
        return _complex.imag(self)

    def conj(self) -> Tensor:
        return _complex.conj(self)

    def conj_physical(self) -> Tensor:
        return _complex.conj_physical(self)

    def conj_physical_(self) -> Tensor:
        return _inplace.method_("conj_physical", self)

    def is_conj(self) -> bool:
        return _complex.is_conj(self)

    def is_neg(self) -> bool:
        return _complex.is_neg(self)

    def resolve_conj(self) -> Tensor:
        return _complex.resolve_conj(self)

    def resolve_neg(self) -> Tensor:
        return _complex.resolve_neg(self)

    def adjoint(self) -> Tensor:
        return _complex.adjoint(self)

    @property
    def mH(self) -> Tensor:
        return _complex.matrix_H(self)

    @property
    def H(self) -> Tensor:
        return _complex.H(self)

    def vdot(self, other: Tensor) -> Tensor:
        return _matrix_functions.vdot(self, other)

    # ------------------------------------------------------------------------- linear algebra
    def svd(self, some: bool = True, compute_uv: bool = True) -> Any:
        return _svd.torch_svd(self, some, compute_uv)

    def pinverse(self, rcond: float = 1e-15) -> Tensor:
        return _svd.pinverse(self, rcond)

    def qr(self, some: bool = True) -> Any:
        return _householder.torch_qr(self, some)

    def geqrf(self) -> Any:
        return _householder.geqrf(self)

    def orgqr(self, input2: Tensor) -> Tensor:
        return _householder.orgqr(self, input2)

    def ormqr(self, input2: Tensor, input3: Tensor, left: bool = True,
              transpose: bool = False) -> Tensor:
        return _householder.ormqr(self, input2, input3, left, transpose)

    def lu(self, pivot: bool = True, get_infos: bool = False) -> Any:
        return _lu.torch_lu(self, pivot, get_infos)

    def lu_solve(self, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
        return _lu.torch_lu_solve(self, LU_data, LU_pivots)

    def cholesky(self, upper: bool = False) -> Tensor:
        return _triangular.torch_cholesky(self, upper)

    def cholesky_solve(self, input2: Tensor, upper: bool = False) -> Tensor:
        return _triangular.cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper: bool = False) -> Tensor:
        return _triangular.cholesky_inverse(self, upper)

    def triangular_solve(self, A: Tensor, upper: bool = True, transpose: bool = False,
                         unitriangular: bool = False) -> Any:
        return _triangular.triangular_solve(self, A, upper, transpose, unitriangular)

    def logdet(self) -> Tensor:
        return _matrix_functions.logdet(self)

    def matrix_exp(self) -> Tensor:
        return _matrix_functions.matrix_exp(self)

    def matrix_power(self, n: int) -> Tensor:
        return _matrix_functions.matrix_power(self, n)

    def solve(self, A: Tensor) -> Any:
        return _removed_linalg.solve(self, A)

    def lstsq(self, A: Tensor) -> Any:
        return _removed_linalg.lstsq(self, A)

    def eig(self, eigenvectors: bool = False) -> Any:
        return _removed_linalg.eig(self, eigenvectors)

    def symeig(self, eigenvectors: bool = False, upper: bool = True) -> Any:
        return _removed_linalg.symeig(self, eigenvectors, upper)

    def angle(self) -> Tensor:
        return _complex.angle(self)

    absolute = __abs__ = abs

    def abs_(self) -> Tensor:
        return _inplace.method_("abs", self)

    absolute_ = abs_

    def sign(self) -> Tensor:
        return _unary.sign(self)

    def sign_(self) -> Tensor:
        return _inplace.method_("sign", self)

    def sgn(self) -> Tensor:
        return _unary.sgn(self)

    def sgn_(self) -> Tensor:
        return _inplace.method_("sgn", self)

    def positive(self) -> Tensor:
        return _unary.positive(self)

    def floor(self) -> Tensor:
        return _unary.floor(self)

    def floor_(self) -> Tensor:
        return _inplace.method_("floor", self)

    def ceil(self) -> Tensor:
        return _unary.ceil(self)

    def ceil_(self) -> Tensor:
        return _inplace.method_("ceil", self)

    def round(self, *, decimals: int | None = None) -> Tensor:
        return _unary.round(self, decimals=decimals)

    def round_(self, *, decimals: int | None = None) -> Tensor:
        return _inplace.method_("round", self, decimals=decimals)

    def trunc(self) -> Tensor:
        return _unary.trunc(self)

    fix = trunc

    def trunc_(self) -> Tensor:
        return _inplace.method_("trunc", self)

    fix_ = trunc_

    def frac(self) -> Tensor:
        return _unary.frac(self)

    def frac_(self) -> Tensor:
        return _inplace.method_("frac", self)

    def sin(self) -> Tensor:
        return _unary.sin(self)

    def sin_(self) -> Tensor:
        return _inplace.method_("sin", self)

    def cos(self) -> Tensor:
        return _unary.cos(self)

    def cos_(self) -> Tensor:
        return _inplace.method_("cos", self)

    def tan(self) -> Tensor:
        return _unary.tan(self)

    def tan_(self) -> Tensor:
        return _inplace.method_("tan", self)

    def asin(self) -> Tensor:
        return _unary.asin(self)

    def asin_(self) -> Tensor:
        return _inplace.method_("asin", self)

    def acos(self) -> Tensor:
        return _unary.acos(self)

    def acos_(self) -> Tensor:
        return _inplace.method_("acos", self)

    def atan(self) -> Tensor:
        return _unary.atan(self)

    def atan_(self) -> Tensor:
        return _inplace.method_("atan", self)

    def atan2(self, other: Tensor) -> Tensor:
        return _unary.atan2(self, other)

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2

    def atan2_(self, other: Tensor) -> Tensor:
        return _inplace.method_("atan2", self, other)

    arcsin_, arccos_, arctan_, arctan2_ = asin_, acos_, atan_, atan2_

    def deg2rad(self) -> Tensor:
        return _unary.deg2rad(self)

    def deg2rad_(self) -> Tensor:
        return _inplace.method_("deg2rad", self)

    def rad2deg(self) -> Tensor:
        return _unary.rad2deg(self)

    def rad2deg_(self) -> Tensor:
        return _inplace.method_("rad2deg", self)

    def sinc(self) -> Tensor:
        return _unary.sinc(self)

    def sinc_(self) -> Tensor:
        return _inplace.method_("sinc", self)

    def tanh(self) -> Tensor:
        return _unary.tanh(self)

    def tanh_(self) -> Tensor:
        return _inplace.method_("tanh", self)

    def sinh(self) -> Tensor:
        return _unary.sinh(self)

    def sinh_(self) -> Tensor:
        return _inplace.method_("sinh", self)

    def cosh(self) -> Tensor:
        return _unary.cosh(self)

    def cosh_(self) -> Tensor:
        return _inplace.method_("cosh", self)

    def asinh(self) -> Tensor:
        return _unary.asinh(self)

    def asinh_(self) -> Tensor:
        return _inplace.call_(self, _unary.AsinhInPlace.apply)

    def acosh(self) -> Tensor:
        return _unary.acosh(self)

    def acosh_(self) -> Tensor:
        return _inplace.call_(self, _unary.AcoshInPlace.apply)

    def atanh(self) -> Tensor:
        return _unary.atanh(self)

    def atanh_(self) -> Tensor:
        return _inplace.call_(self, _unary.AtanhInPlace.apply)

    arcsinh, arccosh, arctanh = asinh, acosh, atanh
    arcsinh_, arccosh_, arctanh_ = asinh_, acosh_, atanh_

    # --------------------------------------------------------------------- activations and softmax
    def sigmoid(self) -> Tensor:
        return _activation.sigmoid(self)

    def sigmoid_(self) -> Tensor:
        return _inplace.method_("sigmoid", self)

    def relu(self) -> Tensor:
        return _activation.relu(self)

    def relu_(self) -> Tensor:
        return _inplace.method_("relu", self)

    def hardshrink(self, lambd: float = 0.5) -> Tensor:
        return _piecewise.hardshrink(self, lambd)

    def prelu(self, weight: Tensor) -> Tensor:
        return _piecewise.prelu(self, weight)

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return _softmax.softmax(self, dim, dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return _softmax.log_softmax(self, dim, dtype)

    # ------------------------ comparisons, logic and bitwise ops (bool tensors, outside the graph)
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _comparison.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _comparison.ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _comparison.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _comparison.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _comparison.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _comparison.ge(self, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge

    def eq_(self, other: Any) -> Tensor:
        return _inplace.compare_(self, "equal", other)

    def ne_(self, other: Any) -> Tensor:
        return _inplace.compare_(self, "not_equal", other)

    def lt_(self, other: Any) -> Tensor:
        return _inplace.compare_(self, "less", other)

    def le_(self, other: Any) -> Tensor:
        return _inplace.compare_(self, "less_equal", other)

    def gt_(self, other: Any) -> Tensor:
        return _inplace.compare_(self, "greater", other)

    def ge_(self, other: Any) -> Tensor:
        return _inplace.compare_(self, "greater_equal", other)

    not_equal_, less_, less_equal_, greater_, greater_equal_ = ne_, lt_, le_, gt_, ge_

    def logical_and(self, other: Tensor) -> Tensor:
        return _comparison.logical_and(self, other)

    def logical_or(self, other: Tensor) -> Tensor:
        return _comparison.logical_or(self, other)

    def logical_xor(self, other: Tensor) -> Tensor:
        return _comparison.logical_xor(self, other)

    def logical_not(self) -> Tensor:
        return _comparison.logical_not(self)

    def logical_and_(self, other: Tensor) -> Tensor:
        return _inplace.compare_(self, "logical_and", other)

    def logical_or_(self, other: Tensor) -> Tensor:
        return _inplace.compare_(self, "logical_or", other)

    def logical_xor_(self, other: Tensor) -> Tensor:
        return _inplace.compare_(self, "logical_xor", other)

    def logical_not_(self) -> Tensor:
        return _inplace.compare_(self, "logical_not")

    def __and__(self, other: Any) -> Tensor:
        return _comparison.bitwise_and(self, other)

    def __or__(self, other: Any) -> Tensor:
        return _comparison.bitwise_or(self, other)

    def __xor__(self, other: Any) -> Tensor:
        return _comparison.bitwise_xor(self, other)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    bitwise_and, bitwise_or, bitwise_xor = __and__, __or__, __xor__

    def __invert__(self) -> Tensor:
        return _comparison.invert(self)

    def bitwise_not(self) -> Tensor:
        return _comparison.bitwise_not(self)

    def bitwise_and_(self, other: Any) -> Tensor:
        return _inplace.elementwise_(self, _comparison.bitwise_and, other)

    def bitwise_or_(self, other: Any) -> Tensor:
        return _inplace.elementwise_(self, _comparison.bitwise_or, other)

    def bitwise_xor_(self, other: Any) -> Tensor:
        return _inplace.elementwise_(self, _comparison.bitwise_xor, other)

    def bitwise_not_(self) -> Tensor:
        return _inplace.call_(self, _comparison.bitwise_not)

    __iand__, __ior__, __ixor__ = bitwise_and_, bitwise_or_, bitwise_xor_

    def isnan(self) -> Tensor:
        return _comparison.isnan(self)

    def isinf(self) -> Tensor:
        return _comparison.isinf(self)

    def isfinite(self) -> Tensor:
        return _comparison.isfinite(self)

    def isposinf(self) -> Tensor:
        return _comparison.isposinf(self)

    def isneginf(self) -> Tensor:
        return _comparison.isneginf(self)

    def isreal(self) -> Tensor:
        return _comparison.isreal(self)

    def isclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        return _comparison.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        return _comparison.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other: Tensor) -> bool:
        return _comparison.equal(self, other)

    # ---------------------------------------------- selection: clamp, maximum/minimum, lerp, where
    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        return _selection.clamp(self, min, max)

    clip = clamp

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        return _inplace.clamp_(self, min, max)

    clip_ = clamp_

    def clamp_min(self, min: Any) -> Tensor:
        return _selection.clamp_min(self, min)

    def clamp_max(self, max: Any) -> Tensor:
        return _selection.clamp_max(self, max)

    def clamp_min_(self, min: Any) -> Tensor:
        return _inplace.clamp_min_(self, min)

    def clamp_max_(self, max: Any) -> Tensor:
        return _inplace.clamp_max_(self, max)

    def maximum(self, other: Tensor) -> Tensor:
        return _selection.maximum(self, other)

    def minimum(self, other: Tensor) -> Tensor:
        return _selection.minimum(self, other)

    def fmax(self, other: Tensor) -> Tensor:
        return _selection.fmax(self, other)

    def fmin(self, other: Tensor) -> Tensor:
        return _selection.fmin(self, other)

    def lerp(self, end: Tensor, weight: Any) -> Tensor:
        return _selection.lerp(self, end, weight)

    def lerp_(self, end: Tensor, weight: Any) -> Tensor:
        return _inplace.lerp_(self, end, weight)

    def where(self, condition: Tensor, other: Any) -> Tensor:
        return _selection.where(condition, self, other)

    # ------------------------------------------------------------------------- reductions
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return _reduction.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return _reduction.mean(self, dim, keepdim, dtype=dtype)

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return _reduction.prod(self, dim, keepdim, dtype=dtype)

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        return _minmax.max(self, dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        return _minmax.min(self, dim, keepdim)

    def amax(self, dim: Any = (), keepdim: bool = False) -> Tensor:
        return _minmax.amax(self, dim, keepdim)

    def amin(self, dim: Any = (), keepdim: bool = False) -> Tensor:
        return _minmax.amin(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _minmax.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _minmax.argmin(self, dim, keepdim)

    def var(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
            correction: Any = None) -> Tensor:
        return _reduction.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
            correction: Any = None) -> Tensor:
        return _reduction.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return _reduction.logsumexp(self, dim, keepdim)

    def nansum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return _statistics.nansum(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return _statistics.nanmean(self, dim, keepdim, dtype=dtype)

    def cov(self, *, correction: int = 1, fweights: Tensor | None = None,
            aweights: Tensor | None = None) -> Tensor:
        return _statistics.cov(self, correction=correction, fweights=fweights,
                               aweights=aweights)

    def corrcoef(self) -> Tensor:
        return _statistics.corrcoef(self)

    def renorm(self, p: float, dim: int, maxnorm: float) -> Tensor:
        return _norm.renorm(self, p, dim, maxnorm)

    def renorm_(self, p: float, dim: int, maxnorm: float) -> Tensor:
        return _inplace.call_(self, _norm.renorm, p, dim, maxnorm)

    def diff(self, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
             append: Tensor | None = None) -> Tensor:
        return _differences.diff(self, n, dim, prepend, append)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False,
             dtype: Any = None) -> Tensor:
        return _reduction.norm(self, p, dim, keepdim, dtype)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        return _cumulative.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        return _cumulative.cumprod(self, dim, dtype=dtype)

    def cumsum_(self, dim: int, *, dtype: Any = None) -> Tensor:
        return _inplace.cumulative_("cumsum", self, dim, dtype)

    def cumprod_(self, dim: int, *, dtype: Any = None) -> Tensor:
        return _inplace.cumulative_("cumprod", self, dim, dtype)

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _reduction.any(self, dim, keepdim)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _reduction.all(self, dim, keepdim)

    def cummax(self, dim: int) -> Any:
        return _cumulative.cummax(self, dim)

    def cummin(self, dim: int) -> Any:
        return _cumulative.cummin(self, dim)

    def logcumsumexp(self, dim: int) -> Tensor:
        return _cumulative.logcumsumexp(self, dim)

    def aminmax(self, *, dim: int | None = None, keepdim: bool = False) -> Any:
        return _minmax.aminmax(self, dim=dim, keepdim=keepdim)

    # ------------------------------------------------- sorting, order statistics and searching
    def sort(self, dim: int = -1, descending: bool = False, *, stable: Any = None) -> Any:
        return _sorting.sort(self, dim, descending, stable=stable)

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        return _sorting.argsort(self, dim, descending, stable=stable)

    def msort(self) -> Tensor:
        return _sorting.msort(self)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        return _sorting.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        return _order_statistics.kthvalue(self, k, dim, keepdim)

    def median(self, dim: Any = None, keepdim: bool = False) -> Any:
        return _order_statistics.median(self, dim, keepdim)

    def nanmedian(self, dim: Any = None, keepdim: bool = False) -> Any:
        return _order_statistics.nanmedian(self, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False) -> Any:
        return _order_statistics.mode(self, dim, keepdim)

    def quantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Tensor:
        return _order_statistics.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                    interpolation: str = "linear") -> Tensor:
        return _order_statistics.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def unique(self, sorted: bool = True, return_inverse: bool = False,
               return_counts: bool = False, dim: int | None = None) -> Any:
        return _unique.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse: bool = False, return_counts: bool = False,
                           dim: int | None = None) -> Any:
        return _unique.unique_consecutive(self, return_inverse, return_counts, dim)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        return _searching.nonzero(self, as_tuple=as_tuple)

    def nonzero_static(self, *, size: Any, fill_value: int = -1) -> Tensor:
        return _searching.nonzero_static(self, size=size, fill_value=fill_value)

    def argwhere(self) -> Tensor:
        return _searching.argwhere(self)

    def count_nonzero(self, dim: Any = None) -> Tensor:
        return _searching.count_nonzero(self, dim)

    def bincount(self, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        return _histogram.bincount(self, weights, minlength)

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
        return _histogram.histc(self, bins, min, max)

    def histogram(self, bins: Any, *, range: Any = None, weight: Tensor | None = None,
                  density: bool = False) -> Any:
        return _histogram.histogram(self, bins, range=range, weight=weight, density=density)

    # ------------------------------------------------------------------------- shape and views
    def reshape(self, *shape: Any) -> Tensor:
        return _shape.reshape(self, *shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return _shape.reshape(self, other._data.shape)

    def view(self, *shape: Any) -> Tensor:
        return _shape.view(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return _shape.view(self, other._data.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _shape.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Any) -> Tensor:
        return _shape.unflatten(self, dim, sizes)

    def expand(self, *sizes: Any) -> Tensor:
        return _shape.expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        return _shape.expand_as(self, other)

    def broadcast_to(self, size: Any) -> Tensor:
        return _shape.broadcast_to(self, size)

    def permute(self, *dims: Any, **kwargs: Any) -> Tensor:
        return _shape.permute(self, *dims, **kwargs)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _shape.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        return _inplace.transpose_(self, dim0, dim1)

    swapaxes_ = swapdims_ = transpose_

    def t(self) -> Tensor:
        return _shape.t(self)

    def t_(self) -> Tensor:
        return _inplace.t_(self)

    @property
    def T(self) -> Tensor:
        return _shape.numpy_T(self)

    @property
    def mT(self) -> Tensor:
        return _shape.matrix_T(self)

    def movedim(self, source: Any, destination: Any) -> Tensor:
        return _shape.movedim(self, source, destination)

    moveaxis = movedim

    def unsqueeze(self, dim: int) -> Tensor:
        return _shape.unsqueeze(self, dim)

    def unsqueeze_(self, dim: int) -> Tensor:
        return _inplace.unsqueeze_(self, dim)

    def squeeze(self, dim: Any = None) -> Tensor:
        return _shape.squeeze(self, dim)

    def squeeze_(self, dim: Any = None) -> Tensor:
        return _inplace.squeeze_(self, dim)

    def sum_to_size(self, *size: Any) -> Tensor:
        return _shape.sum_to_size(self, _shape.shape_arg(size))

    def repeat(self, *sizes: Any) -> Tensor:
        return _joining.repeat(self, *sizes)

    def tile(self, *dims: Any) -> Tensor:
        return _joining.tile(self, _shape.shape_arg(dims))

    def flip(self, *dims: Any) -> Tensor:
        return _joining.flip(self, *dims)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return _joining.roll(self, shifts, dims)

    def split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _joining.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return _joining.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        return _joining.unbind(self, dim)

    def unsafe_split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _joining.unsafe_split(self, split_size, dim)

    def unsafe_split_with_sizes(self, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _joining.unsafe_split_with_sizes(self, split_sizes, dim)

    def unsafe_chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return _joining.unsafe_chunk(self, chunks, dim)

    def split_with_sizes(self, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _joining.split_with_sizes(self, split_sizes, dim)

    def tensor_split(self, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _joining.tensor_split(self, indices_or_sections, dim)

    def hsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return _joining.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return _joining.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return _joining.dsplit(self, indices_or_sections)

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *,
                          output_size: int | None = None) -> Tensor:
        return _rearranging.repeat_interleave(self, repeats, dim, output_size=output_size)

    def fliplr(self) -> Tensor:
        return _rearranging.fliplr(self)

    def flipud(self) -> Tensor:
        return _rearranging.flipud(self)

    def rot90(self, k: int = 1, dims: Any = (0, 1)) -> Tensor:
        return _rearranging.rot90(self, k, dims)

    def ravel(self) -> Tensor:
        return _strides.ravel(self)

    def as_strided(self, size: Any, stride: Any, storage_offset: int | None = None) -> Tensor:
        return _strides.as_strided(self, size, stride, storage_offset)

    def as_strided_(self, size: Any, stride: Any, storage_offset: int | None = None) -> Tensor:
        return _strides.as_strided_(self, size, stride, storage_offset)

    def as_strided_scatter(self, src: Tensor, size: Any, stride: Any,
                           storage_offset: int | None = None) -> Tensor:
        return _strides.as_strided_scatter(self, src, size, stride, storage_offset)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        return _shape.unfold(self, dimension, size, step)

    # ----------------------------------------------------- indexing, gather and scatter, diagonals
    def __getitem__(self, key: Any) -> Tensor:
        return _indexing.getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        _indexing.setitem(self, key, value)

    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        return _indexing.narrow(self, dim, start, length)

    def select(self, dim: int, index: int) -> Tensor:
        return _indexing.select(self, dim, index)

    def narrow_copy(self, dim: int, start: Any, length: int) -> Tensor:
        return _indexing.narrow_copy(self, dim, start, length)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        _checks.require_tensor("gather", "index", 2, index)
        return _scatter.gather(self, dim, index)

    def take_along_dim(self, indices: Tensor, dim: int | None = None) -> Tensor:
        return _scatter.take_along_dim(self, indices, dim)

    @_fill_arguments.parses("scatter", _fill_arguments.SCATTER, method=True)
    def scatter(self, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
                reduce: str | None = None) -> Tensor:
        return _scatter.scatter(self, dim, index, src, value=value, reduce=reduce)

    @_fill_arguments.parses("scatter_", _fill_arguments.SCATTER, method=True)
    def scatter_(self, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
                 reduce: str | None = None) -> Tensor:
        return _inplace.call_(self, _scatter.scatter, dim, index, src, value=value,
                              reduce=reduce)

    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        return _scatter.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        return _inplace.call_(self, _scatter.scatter_add, dim, index, src)

    def index(self, positions: Any, dims: Any) -> Any:
        """Bind the dims at `positions` to the first-class `dims` (autodiff.functorch.dim)."""
        from .functorch.dim import index  # its own package, loaded on first use as PyTorch's

        return index(self, positions, dims)

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        _checks.require_tensor("index_select", "index", 2, index)
        return _scatter.index_select(self, dim, index)

    def index_add(self, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
        _checks.require_tensor("index_add", "index", 2, index)
        _checks.require_tensor("index_add", "source", 3, source)
        return _scatter.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
        _checks.require_tensor("index_add_", "index", 2, index)
        _checks.require_tensor("index_add_", "source", 3, source)
        return _inplace.call_(self, _scatter.index_add, dim, index, source, alpha=alpha)

    def index_copy(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        return _scatter.index_copy(self, dim, index, source)

    def index_copy_(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        return _inplace.call_(self, _scatter.index_copy, dim, index, source)

    @_fill_arguments.parses("index_fill", _fill_arguments.INDEX_FILL, method=True)
    def index_fill(self, dim: int, index: Tensor, value: Any) -> Tensor:
        return _scatter.index_fill(self, dim, index, value)

    @_fill_arguments.parses("index_fill_", _fill_arguments.INDEX_FILL, method=True)
    def index_fill_(self, dim: int, index: Tensor, value: Any) -> Tensor:
        return _inplace.call_(self, _scatter.index_fill, dim, index, value)

    def index_reduce(self, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                     include_self: bool = True) -> Tensor:
        return _scatter_reduce.index_reduce(self, dim, index, source, reduce,
                                            include_self=include_self)

    def index_reduce_(self, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                      include_self: bool = True) -> Tensor:
        return _inplace.call_(self, _scatter_reduce.index_reduce, dim, index, source, reduce,
                              include_self=include_self)

    def scatter_reduce(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        return _scatter_reduce.scatter_reduce(self, dim, index, src, reduce,
                                              include_self=include_self)

    def scatter_reduce_(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        return _inplace.call_(self, _scatter_reduce.scatter_reduce, dim, index, src, reduce,
                              include_self=include_self)

    def select_scatter(self, src: Tensor, dim: int, index: int) -> Tensor:
        return _view_scatter.select_scatter(self, src, dim, index)

    def slice_scatter(self, src: Tensor, dim: int = 0, start: int | None = None,
                      end: int | None = None, step: int = 1) -> Tensor:
        return _view_scatter.slice_scatter(self, src, dim, start, end, step)

    def index_put(self, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
        return _indexing.index_put(self, indices, values, accumulate)

    def index_put_(self, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
        return _indexing.index_put_(self, indices, values, accumulate)

    @_fill_arguments.parses("masked_fill", _fill_arguments.MASKED_FILL, method=True)
    def masked_fill(self, mask: Tensor, value: Any) -> Tensor:
        return _scatter.masked_fill(self, mask, value)

    @_fill_arguments.parses("masked_fill_", _fill_arguments.MASKED_FILL, method=True)
    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        return _inplace.masked_fill_(self, mask, value)

    def masked_select(self, mask: Tensor) -> Tensor:
        return _flat_indexing.masked_select(self, mask)

    def masked_scatter(self, mask: Tensor, source: Tensor) -> Tensor:
        return _flat_indexing.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask: Tensor, source: Tensor) -> Tensor:
        return _flat_indexing.masked_scatter_(self, mask, source)

    def take(self, index: Tensor) -> Tensor:
        _checks.require_tensor("take", "index", 1, index)
        return _flat_indexing.take(self, index)

    def put(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        return _flat_indexing.put(self, index, source, accumulate)

    def put_(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        return _flat_indexing.put_(self, index, source, accumulate)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return _diagonal.diagonal(self, offset, dim1, dim2)

    def trace(self) -> Tensor:
        return _diagonal.trace(self)

    def tril(self, diagonal: int = 0) -> Tensor:
        return _diagonal.tril(self, diagonal)

    def tril_(self, diagonal: int = 0) -> Tensor:
        return _inplace.call_(self, _diagonal.tril, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return _diagonal.triu(self, diagonal)

    def triu_(self, diagonal: int = 0) -> Tensor:
        return _inplace.call_(self, _diagonal.triu, diagonal)

    def fill_diagonal_(self, fill_value: Any, wrap: bool = False) -> Tensor:
        return _diagonal.fill_diagonal_(self, fill_value, wrap)

    def diag(self, diagonal: int = 0) -> Tensor:
        return _diagonal.diag(self, diagonal)

    def diagflat(self, offset: int = 0) -> Tensor:
        return _diagonal.diagflat(self, offset)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        return _diagonal.diag_embed(self, offset, dim1, dim2)

    def diagonal_scatter(self, src: Tensor, offset: int = 0, dim1: int = 0,
                         dim2: int = 1) -> Tensor:
        return _diagonal.diagonal_scatter(self, src, offset, dim1, dim2)

    # ---------------------------------------------------------------- filling and copying in place
    def zero_(self) -> Tensor:
        return _inplace.zero_(self)

    def fill_(self, value: Any) -> Tensor:
        return _inplace.fill_(self, value)

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        return _inplace.copy_(self, src)

    # Python functions over the elements (CPU tensors, outside autograd)
    # Another shape in place (values kept in row-major order), and the deprecated out-of-place
    # forms, which keep the number of elements
    def resize_(self, *sizes: Any, memory_format: Any = None) -> Tensor:
        return _resizing.resize_(self, *sizes, memory_format=memory_format)

    def resize_as_(self, the_template: Tensor, memory_format: Any = None) -> Tensor:
        return _resizing.resize_as_method_(self, the_template, memory_format=memory_format)

    def resize(self, *sizes: Any) -> Tensor:
        return _resizing.resize(self, *sizes)

    def resize_as(self, the_template: Tensor) -> Tensor:
        return _resizing.resize_as(self, the_template)

    def apply_(self, callable: Callable[[Any], Any]) -> Tensor:
        return _inplace.apply_(self, callable)

    def map_(self, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
        return _inplace.map_(self, tensor, callable)

    def map2_(self, x: Tensor, y: Tensor, callable: Callable[[Any, Any, Any], Any]) -> Tensor:
        return _inplace.map2_(self, x, y, callable)

    # ------------------------------------------------------------------------- sampling in place
    def uniform_(self, from_: float = 0.0, to: float = 1.0, *, generator: Any = None) -> Tensor:
        return _sampling.uniform_(self, from_, to, generator=generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        return _sampling.normal_(self, mean, std, generator=generator)

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        return _sampling.exponential_(self, lambd, generator=generator)

    def geometric_(self, p: float, *, generator: Any = None) -> Tensor:
        return _sampling.geometric_(self, p, generator=generator)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *,
                generator: Any = None) -> Tensor:
        return _sampling.cauchy_(self, median, sigma, generator=generator)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *,
                    generator: Any = None) -> Tensor:
        return _sampling.log_normal_(self, mean, std, generator=generator)

    def random_(self, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
        return _sampling.random_(self, *args, generator=generator, **kwargs)

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Tensor:
        return _sampling.bernoulli(self, p, generator=generator)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        return _sampling.bernoulli_(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Tensor:
        return _sampling.multinomial(self, num_samples, replacement, generator=generator)

    # ------------------------------------------------------------------------- linear algebra
    def __matmul__(self, other: Tensor) -> Tensor:
        return _matmul.matmul(self, other)

    def __rmatmul__(self, other: Tensor) -> Tensor:
        return _matmul.matmul(other, self)

    matmul = __matmul__

    def mm(self, mat2: Tensor) -> Tensor:
        return _matmul.mm(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        return _matmul.bmm(self, mat2)

    def mv(self, vec: Tensor) -> Tensor:
        return _matmul.mv(self, vec)

    def dot(self, tensor: Tensor) -> Tensor:
        return _matmul.dot(self, tensor)

    def inner(self, other: Tensor) -> Tensor:
        return _einsum.inner(self, other)

    def outer(self, vec2: Tensor) -> Tensor:
        return _matmul.outer(self, vec2)

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return _products.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmm_(self, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return _inplace.call_(self, _products.addmm, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return _products.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addmv_(self, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return _inplace.call_(self, _products.addmv, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return _products.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def addr_(self, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return _inplace.call_(self, _products.addr, vec1, vec2, beta=beta, alpha=alpha)

    def addbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
               alpha: Any = 1) -> Tensor:
        return _products.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm_(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
                alpha: Any = 1) -> Tensor:
        return _inplace.call_(self, _products.addbmm, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
                alpha: Any = 1) -> Tensor:
        return _products.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
                 alpha: Any = 1) -> Tensor:
        return _inplace.call_(self, _products.baddbmm, batch1, batch2, beta=beta, alpha=alpha)

    def kron(self, other: Tensor) -> Tensor:
        return _products.kron(self, other)

    def cross(self, other: Tensor, dim: int | None = None) -> Tensor:
        return _products.cross(self, other, dim)

    def dist(self, other: Tensor, p: float = 2) -> Tensor:
        return _distance.dist(self, other, p)

    def stft(self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
             window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect",
             normalized: bool = False, onesided: bool | None = None,
             return_complex: bool | None = None, align_to_window: bool | None = None) -> Tensor:
        return _spectral.stft(self, n_fft, hop_length, win_length, window, center, pad_mode,
                              normalized, onesided, return_complex, align_to_window)

    def istft(self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
              window: Tensor | None = None, center: bool = True, normalized: bool = False,
              onesided: bool | None = None, length: int | None = None,
              return_complex: bool = False) -> Tensor:
        return _spectral.istft(self, n_fft, hop_length, win_length, window, center,
                               normalized, onesided, length, return_complex)

    ger = outer

    def det(self) -> Tensor:
        return _decompositions.det(self)

    def inverse(self) -> Tensor:
        return _decompositions.inv(self)

    def slogdet(self) -> Any:
        return _decompositions.torch_slogdet(self)

    # -------------------------------------------------------------- conversion to Python and NumPy
    def item(self) -> Any:
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar"
            )
        if type(self._data) in (SparseCOO, SparseCompressed):
            return self.to_dense().item()
        if type(self._data) is QuantizedData:
            return self.dequantize().item()
        return self._backend.item(self._data)

    def tolist(self) -> Any:
        if type(self._data) in (SparseCOO, SparseCompressed):
            raise RuntimeError(_NO_STORAGE)
        if type(self._data) is QuantizedData:
            raise RuntimeError("load_scalar: invalid type")
        return self._backend.tolist(self._data)

    def numpy(self, *, force: bool = False) -> Any:
        """The values as a NumPy array (sharing memory on the CPU)."""
        if self._requires_grad and _grad_state.enabled and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if self._backend.device.type != "cpu" and not force:
            raise TypeError(
                f"can't convert {self._backend.device} device type tensor to numpy. Use "
                "Tensor.cpu() to copy the tensor to host memory first."
            )
        if type(self._data) is SparseCompressed:
            raise TypeError(f"can't convert {_compressed_name(self._data)} layout tensor to "
                            "numpy. Use Tensor.to_dense() first.")
        if type(self._data) is SparseCOO:
            raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                            "first.")
        if self.dtype is dtypes.bfloat16 or type(self._data) is QuantizedData:
            # NumPy has no bfloat16 (ml_dtypes' is not NumPy's), nor quantized types
            name = dtypes.SCALAR_TYPE_NAMES[self.dtype.name]
            raise TypeError(f"Got unsupported ScalarType {name}")
        return self._backend.to_numpy(self._data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        """NumPy's array protocol: the tensor's memory (CPU), copied only when asked or needed."""
        return array_protocol(self.numpy(), dtype, copy)

    # Above NumPy's own: its operators defer to Tensor's reflected ones, so a NumPy scalar on
    # the left (`np.sqrt(d) * t`) makes a tensor in the graph, as in PyTorch.
    __array_priority__ = 1000

    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: bool = False) -> Any:
        """A NumPy ufunc's result on tensors (`np.sin(t)`) as a CPU tensor over it, as
        PyTorch's; a bool result as uint8, as PyTorch's (its legacy byte masks)."""
        if array.dtype == bool:
            array = array.astype("uint8")
        return _creation.from_numpy(array)

    def __dlpack__(self, *, stream: Any = -1, max_version: Any = None, dl_device: Any = None,
                   copy: Any = None) -> Any:
        """A DLPack capsule sharing this tensor's memory (see `autodiff.utils.dlpack`)."""
        from .utils import dlpack

        return dlpack.export(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self) -> tuple[Any, int]:
        from .utils import dlpack

        return dlpack.device_of(self)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return int(self._data.shape[0])

    def __iter__(self) -> Any:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_joining.unbind(self, 0))

    def __reversed__(self) -> Tensor:
        """`reversed(t)`: t flipped along dim 0 (a 0-d tensor itself), as PyTorch's."""
        return self if self._data.ndim == 0 else self.flip(0)

    def __contains__(self, element: Any) -> bool:
        """`element in t`: whether any element of t equals it (a tensor broadcast against t)."""
        if isinstance(element, (Tensor, Number)):
            return bool((element == self).any().item())  # type: ignore[union-attr]
        raise RuntimeError("Tensor.__contains__ only supports Tensor or scalar, but you passed in "
                           f"a {type(element)}.")

    def __bool__(self) -> bool:
        count = self.numel()
        if count != 1:
            many = "no values" if count == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {many} is ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        if self.requires_grad:
            _warn_scalar_of_requires_grad()
        return float(self._python_scalar())

    def __int__(self) -> int:
        return int(self._python_scalar())

    def __complex__(self) -> complex:
        return complex(self._python_scalar())

    def _python_scalar(self) -> Any:
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    # ------------------------------------------------------------------------- pickle and copy
    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickle as (class, device, host array, requires_grad): the backend and the graph stay
        behind, as in PyTorch. A sparse tensor as its indices and values (two tensors)."""
        if type(self._data) is SparseCOO:
            sparse = self._data
            return (_rebuild_sparse, (_wrap(sparse.indices, self._backend),
                                      _wrap(sparse.values, self._backend), sparse.shape,
                                      sparse.coalesced, self._requires_grad))
        if type(self._data) is SparseCompressed:
            compressed = self._data
            return (_rebuild_compressed, (
                compressed.layout, *(_wrap(array, self._backend) for array in (
                    compressed.compressed_indices, compressed.plain_indices,
                    compressed.values)),
                compressed.shape, compressed.blocksize, self._requires_grad))
        data = self._backend.to_numpy(self._data)
        return (_rebuild, (type(self), str(self._backend.device), data, self._requires_grad))

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment."
            )
        backend = self._backend
        out = _new(type(self))
        out.__dict__.update({k: v for k, v in self.__dict__.items()
                             if k not in _NOT_COPIED})
        data = self._data
        if type(data) is SparseCOO or type(data) is SparseCompressed:
            out._data = data.copied(backend)
        elif type(data) is QuantizedData:
            out._data = data.with_int_repr(backend.asarray(data.int_repr, copy=True))
        else:
            out._data = backend.asarray(data, copy=True)
        out._version_counter = None
        memo[id(self)] = out
        if self._grad is not None:
            out._grad = copy.deepcopy(self._grad, memo)
        return out

    # ------------------------------------------------------------------------- sparse COO
    def to_sparse(self, sparse_dim: int | None = None, *, layout: Any = None,
                  blocksize: Any = None, dense_dim: int | None = None) -> Tensor:
        return _sparse_coo.to_sparse(self, sparse_dim, layout=layout, blocksize=blocksize,
                                     dense_dim=dense_dim)

    def to_sparse_coo(self) -> Tensor:
        return _sparse_coo.to_sparse(self)

    def to_dense(self, dtype: Any = None, *, masked_grad: bool | None = None) -> Tensor:
        return _sparse_coo.to_dense(self, dtype, masked_grad=masked_grad)

    def coalesce(self) -> Tensor:
        return _sparse_coo.coalesce(self)

    def is_coalesced(self) -> bool:
        return _sparse_coo.is_coalesced(self)

    def indices(self) -> Tensor:
        return _sparse_coo.indices(self)

    def values(self) -> Tensor:
        return _sparse_coo.values(self)

    def _indices(self) -> Tensor:
        return _sparse_coo.raw_indices(self)

    def _values(self) -> Tensor:
        return _sparse_coo.raw_values(self)

    def _nnz(self) -> int:
        return _sparse_coo.nnz(self)

    def sparse_dim(self) -> int:
        return _sparse_coo.sparse_dim(self)

    def dense_dim(self) -> int:
        return _sparse_coo.dense_dim(self)

    def sparse_mask(self, mask: Tensor) -> Tensor:
        return _sparse_coo.sparse_mask(self, mask)

    # ------------------------------------------------------------------------- sparse compressed
    def to_sparse_csr(self, dense_dim: int | None = None) -> Tensor:
        return _sparse_compressed.to_sparse_compressed(self, layouts.sparse_csr, None, dense_dim)

    def to_sparse_csc(self, dense_dim: int | None = None) -> Tensor:
        return _sparse_compressed.to_sparse_compressed(self, layouts.sparse_csc, None, dense_dim)

    def to_sparse_bsr(self, blocksize: Any, dense_dim: int | None = None) -> Tensor:
        return _sparse_compressed.to_sparse_compressed(self, layouts.sparse_bsr, blocksize,
                                                       dense_dim)

    def to_sparse_bsc(self, blocksize: Any, dense_dim: int | None = None) -> Tensor:
        return _sparse_compressed.to_sparse_compressed(self, layouts.sparse_bsc, blocksize,
                                                       dense_dim)

    def crow_indices(self) -> Tensor:
        return _sparse_compressed.crow_indices(self)

    def col_indices(self) -> Tensor:
        return _sparse_compressed.col_indices(self)

    def ccol_indices(self) -> Tensor:
        return _sparse_compressed.ccol_indices(self)

    def row_indices(self) -> Tensor:
        return _sparse_compressed.row_indices(self)

    # ------------------------------------------------------------------------- printing
    def __repr__(self) -> str:
        return _printing.tensor_repr(self)

    def __format__(self, spec: str) -> str:
        # As in PyTorch: a 0-d tensor formats as its Python number (f"{loss}" prints 0.6044...),
        # any other tensor as its repr and only with an empty spec.
        if self.dim() == 0:  # a sparse or nested tensor has no array to ask
            return format(self.item(), spec)
        return object.__format__(self, spec)

    # ------------------------------------------------------------------------- devices and dtypes
    # Last in the class: below these, `int`, `float` and `bool` in an annotation would name the
    # methods (mypy).
    def clone(self, *, memory_format: Any = None) -> Tensor:
        return _conversion.clone(self, memory_format=memory_format)

    def new(self, *args: Any, **kwargs: Any) -> Tensor:
        """The legacy constructor of this tensor's type and device: `x.new(2, 3)`,
        `x.new([1, 2])`, `x.new()`; prefer `new_empty`/`new_tensor`."""
        return _legacy.tensor_new(self, args, kwargs)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """`to(dtype)`, `to(device)`, `to(device, dtype)`, `to(other_tensor)`."""
        return _conversion.to(self, *args, **kwargs)

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        return _creation.new_tensor(self, data, dtype, device, requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return _creation.new_zeros(self, *size, dtype=dtype, device=device,
                                   requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return _creation.new_ones(self, *size, dtype=dtype, device=device,
                                  requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return _creation.new_empty(self, *size, dtype=dtype, device=device,
                                   requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return _creation.new_full(self, size, fill_value, dtype=dtype, device=device,
                                  requires_grad=requires_grad)

    def new_empty_strided(self, size: Any, stride: Any, *, dtype: Any = None,
                          device: Any = None, requires_grad: bool = False) -> Tensor:
        return _strides.new_empty_strided(self, size, stride, dtype=dtype, device=device,
                                          requires_grad=requires_grad)

    def type_as(self, other: Tensor) -> Tensor:
        return _conversion.to(self, other.dtype)

    def float(self) -> Tensor:
        return _conversion.to(self, dtypes.float32)

    def double(self) -> Tensor:
        return _conversion.to(self, dtypes.float64)

    def cfloat(self) -> Tensor:
        return _conversion.to(self, dtypes.complex64)

    def cdouble(self) -> Tensor:
        return _conversion.to(self, dtypes.complex128)

    def half(self) -> Tensor:
        return _conversion.to(self, dtypes.float16)

    def bfloat16(self) -> Tensor:
        return _conversion.to(self, dtypes.bfloat16)

    def long(self) -> Tensor:
        return _conversion.to(self, dtypes.int64)

    def int(self) -> Tensor:
        return _conversion.to(self, dtypes.int32)

    def short(self) -> Tensor:
        return _conversion.to(self, dtypes.int16)

    def char(self) -> Tensor:
        return _conversion.to(self, dtypes.int8)

    def byte(self) -> Tensor:
        return _conversion.to(self, dtypes.uint8)

    def bool(self) -> Tensor:
        return _conversion.to(self, dtypes.bool_)

    def cpu(self) -> Tensor:
        return _conversion.to(self, "cpu")

    def cuda(self, device: Any = None) -> Tensor:
        return _conversion.to(self, "cuda" if device is None else _cuda_device(device))


# PyTorch's binary operators answer an operand of a type they do not take (any TypeError) with
# NotImplemented, so Python asks the other operand: `t == None` is False and `t + obj` reaches
# `type(obj).__radd__`. The named methods (eq, add, pow, ...) raise, as PyTorch's do.
REFLECTED_OPERATORS = (
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__add__", "__radd__",
    "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
    "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
    "__matmul__", "__rmatmul__", "__and__", "__rand__", "__or__", "__ror__", "__xor__",
    "__rxor__", "__lshift__", "__rlshift__", "__rshift__", "__rrshift__", "__iadd__",
    "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__",
    "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__")


def _not_implemented_on_type_error(method: Callable[[Tensor, Any], Any],
                                   name: str) -> Callable[[Tensor, Any], Any]:
    def operator(self: Tensor, other: Any, modulo: Any = None) -> Any:
        if modulo is not None:  # pow(t, e, m): Python's error, as PyTorch gives
            return NotImplemented
        try:
            return method(self, other)
        except TypeError:
            return NotImplemented

    operator.__name__ = operator.__qualname__ = name
    operator.__doc__ = method.__doc__
    operator.__wrapped__ = method  # type: ignore[attr-defined]
    return operator


for _name in REFLECTED_OPERATORS:
    setattr(Tensor, _name, _not_implemented_on_type_error(vars(Tensor)[_name], _name))


_REINFORCE_REMOVED = """reinforce() was removed.
Use torch.distributions instead.
See https://pytorch.org/docs/main/distributions.html

Instead of:

probs = policy_network(state)
action = probs.multinomial()
next_state, reward = env.step(action)
action.reinforce(reward)
action.backward()

Use:

probs = policy_network(state)
# NOTE: categorical is equivalent to what used to be called multinomial
m = torch.distributions.Categorical(probs)
action = m.sample()
next_state, reward = env.step(action)
loss = -m.log_prob(action) * reward
loss.backward()
"""


def _wrap(data: Any, backend: Backend) -> Tensor:
    """A Tensor around `data` that is not part of any graph (the engine's and ops' constructor)."""
    tensor = _new(Tensor)
    tensor._data = data
    tensor._backend = backend
    if _inference_seen.entered and _grad_state.inference:
        tensor._inference = True
    return tensor


# Per-tensor autograd state that a copy must not share with the original.
_NOT_COPIED = frozenset({"_grad", "_version_counter", "_base", "_accumulator_ref", "_hooks",
                         "_post_accumulate_hooks", "_data", "_grad_lock", "_fw_grads"})


def _rebuild(cls: type, device: str, data: Any, requires_grad: bool) -> Tensor:
    backend = get_backend(device)
    out: Tensor = _new(cls)
    out._data = backend.from_numpy(data)
    out._backend = backend
    if requires_grad:
        out._requires_grad = True
    return out


def _compressed_name(data: SparseCompressed) -> str:
    return _COMPRESSED_NAMES[data.layout]


def _rebuild_compressed(layout: layouts.layout, compressed: Tensor, plain: Tensor,
                        values: Tensor, shape: tuple[int, ...], blocksize: tuple[int, int],
                        requires_grad: bool) -> Tensor:
    out: Tensor = _new(Tensor)
    out._data = SparseCompressed(layout, compressed._data, plain._data, values._data, shape,
                                 blocksize)
    out._backend = values._backend
    if requires_grad:
        out._requires_grad = True
    return out


def _rebuild_sparse(indices: Tensor, values: Tensor, shape: tuple[int, ...], coalesced: bool,
                    requires_grad: bool) -> Tensor:
    out: Tensor = _new(Tensor)
    out._data = SparseCOO(indices._data, values._data, shape, coalesced)
    out._backend = values._backend
    if requires_grad:
        out._requires_grad = True
    return out


def _wrap_dim(dim: int, ndim: int) -> int:
    """A dim in [-ndim, ndim) as a non-negative index, with PyTorch's error otherwise."""
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], "
            f"but got {dim})"
        )
    return dim % bound


def _cuda_device(device: Any) -> Any:
    return f"cuda:{device}" if isinstance(device, int) else device


_new = object.__new__

# The op modules (and `autograd`, `creation` and `legacy`) build Tensors and Tensor's methods call
# them, so they are imported here, once the class they need exists (the one deliberate import
# cycle of the package).
from . import torch_function as _torch_function  # noqa: E402

# Arguments of these classes never take a call over through `__torch_function__` (PyTorch's
# are immutable classes, never given a handler; a plain Tensor is never asked).
_torch_function.plain_types.update((Tensor, dtypes.dtype, dtypes.QuantizedDtype, Size, Device,
                                    layouts.layout, layouts.memory_format))
# The default handler is one of the protocol's frames, which warnings point past.
skip_frames_of(vars(Tensor)["__torch_function__"].__func__)

from . import autograd  # noqa: E402
from . import creation as _creation  # noqa: E402
from . import legacy as _legacy  # noqa: E402
from . import overrides as _overrides  # noqa: E402
from . import python_dispatch as _python_dispatch  # noqa: E402
from . import removed_linalg as _removed_linalg  # noqa: E402
from .ops import _checks  # noqa: E402
from .ops import activation as _activation  # noqa: E402
from .ops import arithmetic as _arithmetic  # noqa: E402
from .ops import bessel as _bessel  # noqa: E402
from .ops import comparison as _comparison  # noqa: E402
from .ops import complex as _complex  # noqa: E402
from .ops import conversion as _conversion  # noqa: E402
from .ops import cumulative as _cumulative  # noqa: E402
from .ops import decompositions as _decompositions  # noqa: E402
from .ops import diagonal as _diagonal  # noqa: E402
from .ops import differences as _differences  # noqa: E402
from .ops import distance as _distance  # noqa: E402
from .ops import division as _division  # noqa: E402
from .ops import einsum as _einsum  # noqa: E402
from .ops import error_function as _error_function  # noqa: E402
from .ops import flat_indexing as _flat_indexing  # noqa: E402
from .ops import floating as _floating  # noqa: E402
from .ops import gamma as _gamma  # noqa: E402
from .ops import histogram as _histogram  # noqa: E402
from .ops import householder as _householder  # noqa: E402
from .ops import indexing as _indexing  # noqa: E402
from .ops import inplace as _inplace  # noqa: E402
from .ops import integer as _integer  # noqa: E402
from .ops import joining as _joining  # noqa: E402
from .ops import logarithmic as _logarithmic  # noqa: E402
from .ops import lu as _lu  # noqa: E402
from .ops import matmul as _matmul  # noqa: E402
from .ops import matrix_functions as _matrix_functions  # noqa: E402
from .ops import minmax as _minmax  # noqa: E402
from .ops import norm as _norm  # noqa: E402
from .ops import order_statistics as _order_statistics  # noqa: E402
from .ops import piecewise as _piecewise  # noqa: E402
from .ops import products as _products  # noqa: E402
from .ops import rearranging as _rearranging  # noqa: E402
from .ops import reduction as _reduction  # noqa: E402
from .ops import resizing as _resizing  # noqa: E402
from .ops import sampling as _sampling  # noqa: E402
from .ops import scatter as _scatter  # noqa: E402
from .ops import scatter_reduce as _scatter_reduce  # noqa: E402
from .ops import searching as _searching  # noqa: E402
from .ops import selection as _selection  # noqa: E402
from .ops import shape as _shape  # noqa: E402
from .ops import softmax as _softmax  # noqa: E402
from .ops import sorting as _sorting  # noqa: E402
from .ops import sparse_compressed as _sparse_compressed  # noqa: E402
from .ops import sparse_coo as _sparse_coo  # noqa: E402
from .ops import spectral as _spectral  # noqa: E402
from .ops import statistics as _statistics  # noqa: E402
from .ops import strides as _strides  # noqa: E402
from .ops import svd as _svd  # noqa: E402
from .ops import triangular as _triangular  # noqa: E402
from .ops import unary as _unary  # noqa: E402
from .ops import unique as _unique  # noqa: E402
from .ops import view_scatter as _view_scatter  # noqa: E402

__all__ = ["Tensor"]
