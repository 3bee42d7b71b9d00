"""`swap_tensors(t1, t2)` (torch.utils.swap_tensors): two Tensor objects exchange everything
they are (class, `__dict__`, slots), so each name keeps its object and the object gets the
other's contents: how `Module._apply` and `load_state_dict` convert a parameter without
changing its identity under `torch.__future__.set_swap_module_params_on_conversion(True)`.

A tensor's contents live in its `__dict__` (array, backend, grad, grad_fn, version counter), so
swapping the dicts is PyTorch's swap of the two TensorImpls. PyTorch refuses when something
else holds the TensorImpl: a weak reference, or a "use count" above 1 (2 is allowed for a leaf
whose AccumulateGrad node holds it; that node is then poisoned, so a backward through a graph
recorded before the swap fails). `_use_count` counts the same holders among autodiff's
objects: the leaf's AccumulateGrad node, the graphs' saved tensors, and views of it. It finds
them with `gc.get_referrers`, a walk over the heap: a swap costs milliseconds, not
microseconds.
"""

from __future__ import annotations

import copyreg
import gc
import weakref
from typing import Any

from .node import AccumulateGrad
from .saved import SavedTensor
from .tensor import Tensor

_POISONED = (
    "Trying to execute AccumulateGrad node that was poisoned by swap_tensors this can happen "
    "when you try to run backward on a tensor that was swapped. For a module m with "
    "`torch.__future__.set_swap_module_params_on_conversion(True)` you should not change the "
    "device or dtype of the module (e.g. `m.cpu()` or `m.half()`) between running forward and "
    "backward. To resolve this, please only change the device/dtype before running forward (or "
    "after both forward and backward)."
)


def _use_count(tensor: Tensor) -> int:
    """How many holders the tensor's contents have, as PyTorch's `Tensor._use_count`: the
    tensor itself, its AccumulateGrad node, saved tensors in graphs, views of it."""
    count = 1 if _accumulator(tensor) is None else 2
    for holder in gc.get_referrers(tensor):
        if isinstance(holder, SavedTensor) and holder.data is tensor and not holder.is_output:
            count += 1
        elif isinstance(holder, Tensor) and holder is not tensor:
            count += holder.__dict__.get("_base") is tensor  # a view
        elif isinstance(holder, dict) and holder.get("_base") is tensor and "_data" in holder:
            count += 1  # a view's attributes, when its __dict__ is a dict of its own
    return count


def _accumulator(tensor: Tensor) -> AccumulateGrad | None:
    reference = tensor._accumulator_ref
    return reference() if reference is not None else None


def _check_use_count(tensor: Tensor, name: str) -> None:
    use_count = _use_count(tensor)
    if use_count <= 1:
        return
    if use_count == 2 and tensor.is_leaf:
        if not tensor.requires_grad:
            raise RuntimeError("It is not possible to get the gradient edge for a Tensor that "
                               "does not require gradients")
        node = _accumulator(tensor)
        if node is not None:
            node.register_prehook(_poisoned)
            return
    raise RuntimeError(f"Expected use_count of {name} to be 1 or 2 with an AccumulateGrad node "
                       f"but got {use_count} make sure you are not holding references to the "
                       "tensor in other places.")


def _poisoned(grad_outputs: Any) -> Any:
    raise RuntimeError(_POISONED)


def swap_tensors(t1: Tensor, t2: Tensor) -> None:
    """Swap the contents of two Tensor objects (class, attributes, data, autograd state): `t1`
    then is what `t2` was, keeping its identity. Refused when either has weak references or
    other holders (see the module's docstring), or when their classes have different slots."""
    if weakref.getweakrefs(t1):
        raise RuntimeError("Cannot swap t1 because it has weakref associated with it")
    if weakref.getweakrefs(t2):
        raise RuntimeError("Cannot swap t2 because it has weakref associated with it")
    t1_slots = set(copyreg._slotnames(t1.__class__))  # type: ignore[attr-defined]
    t2_slots = set(copyreg._slotnames(t2.__class__))  # type: ignore[attr-defined]
    if t1_slots != t2_slots:
        raise RuntimeError("Cannot swap t1 and t2 if they have different slots")
    for tensor, name in ((t1, "t1"), (t2, "t2")):
        if not isinstance(tensor, Tensor):
            raise AttributeError(f"'{type(tensor).__name__}' object has no attribute "
                                 "'_use_count'")
        _check_use_count(tensor, name)

    def swap_attr(name: str) -> None:
        held = getattr(t1, name)
        setattr(t1, name, getattr(t2, name))
        setattr(t2, name, held)

    swap_attr("__class__")
    swap_attr("__dict__")
    for tensor in (t1, t2):  # a leaf's node follows its contents (PyTorch's holds the impl)
        node = _accumulator(tensor)
        if node is not None:
            node.variable = tensor
    for slot in t1_slots:
        if hasattr(t1, slot) and hasattr(t2, slot):
            swap_attr(slot)
        elif hasattr(t1, slot):
            setattr(t2, slot, getattr(t1, slot))
            delattr(t1, slot)
        elif hasattr(t2, slot):
            setattr(t1, slot, getattr(t2, slot))
            delattr(t2, slot)
