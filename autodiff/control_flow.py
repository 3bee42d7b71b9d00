"""torch.while_loop in eager mode: `body_fn` applied to the carried values while `cond_fn` of
them is true, with PyTorch's checks of the functions and of what they return.

The loop runs as written, recording each iteration's ops, so gradients reach the carried
inputs and any tensor the functions close over (PyTorch lifts those into the loop's inputs);
the outputs then pass through one node named as PyTorch's, WhileLoopAutogradOpBackward, whose
backward hands the gradients on unchanged (so second derivatives work as well).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import dtypes
from .func.pytree import tree_flatten, tree_unflatten
from .function import Function
from .grad_mode import is_grad_enabled
from .tensor import Tensor


class WhileLoopOutputs(Function):
    """The loop's tensor outputs, copied (they never alias the carried inputs); the gradient
    passes through to the recorded iterations."""

    node_name = "WhileLoopAutogradOpBackward"

    @staticmethod
    def forward(ctx: Any, *arrays: Any) -> Any:
        copies = tuple(ctx.backend.asarray(array, copy=True) for array in arrays)
        return copies if len(copies) != 1 else copies[0]

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Any:
        return grads if len(grads) != 1 else grads[0]


def while_loop(cond_fn: Callable[..., Any], body_fn: Callable[..., Any],
               carried_inputs: tuple[Any, ...] | list[Any]) -> tuple[Any, ...]:
    """Run `body_fn(*carried)` while `cond_fn(*carried)` is a true boolean scalar tensor (or
    True); return the last carried values as a tuple (the inputs, copied, when the condition
    is false at once). Carried values are tensors or ints, possibly nested in tuples, lists
    and dicts; body_fn returns as many, with the same shapes and dtypes."""
    if not callable(cond_fn) or not callable(body_fn):
        raise RuntimeError("Expect cond_fn and body_fn to be callable.")
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(
            f"carried_inputs must be a tuple or list but got {_type_name(carried_inputs)}")
    leaves, spec = tree_flatten(tuple(carried_inputs))
    if not all(isinstance(leaf, (Tensor, int)) for leaf in leaves):
        allowed = "(<class 'torch.Tensor'>, <class 'int'>, <class 'torch.SymInt'>)"
        raise AssertionError(
            f"{leaves} can only be of {allowed} but got "
            f"({', '.join(_type_name(leaf) for leaf in leaves)}{',' if len(leaves) == 1 else ''})")
    carried = tuple(carried_inputs)
    while _check_condition(cond_fn(*carried)):
        out = body_fn(*carried)
        if not isinstance(out, (tuple, list)):
            raise AssertionError(f"body_fn should return a tuple but got {_type_name(out)}")
        if len(out) != len(carried):
            raise AssertionError(
                "body_fn should return the same number of elements as carried_inputs, got "
                f"{len(out)} vs {len(carried)}")
        out_leaves, out_spec = tree_flatten(tuple(out))
        _check_same_metadata(out_leaves, out_spec, leaves, spec)
        carried = tuple(out)
    return _outputs(carried)


def _check_condition(pred: Any) -> bool:
    if isinstance(pred, bool):
        return pred
    if isinstance(pred, Tensor) and pred.ndim == 0 and pred.dtype is dtypes.bool_:
        return bool(pred.item())
    raise RuntimeError(f"cond_fn must return a boolean scalar tensor or a boolean but got {pred}")


def _check_same_metadata(out_leaves: list[Any], out_spec: Any, leaves: list[Any],
                         spec: Any) -> None:
    """What PyTorch's tracing checks: body_fn's outputs have the carried inputs' structure, and
    each tensor their shape and dtype (ints stay ints)."""
    header = "Expected body_fn_output and carried_inputs to have same metadata but found:"
    if out_spec != spec:
        raise RuntimeError(f"{header}\nbody_fn_output has structure {out_spec} but "
                           f"carried_inputs has {spec}")
    for index, (out, carried) in enumerate(zip(out_leaves, leaves)):
        if isinstance(carried, Tensor) != isinstance(out, Tensor):
            raise RuntimeError(f"{header}\npair[{index}] differ in 'type: "
                               f"{_type_name(out)} vs {_type_name(carried)}'")
        if not isinstance(carried, Tensor):
            continue
        differences = []
        if tuple(out.shape) != tuple(carried.shape):
            differences.append(f"shape: {out.shape} vs {carried.shape}")
        if out.dtype is not carried.dtype:
            differences.append(f"dtype: {out.dtype} vs {carried.dtype}")
        if out.device != carried.device:
            differences.append(f"device: {out.device} vs {carried.device}")
        if differences:
            raise RuntimeError(f"{header}\npair[{index}] differ in "
                               f"'{', '.join(differences)}', where lhs is {_fake(out)} and rhs "
                               f"is {_fake(carried)}")


def _fake(tensor: Tensor) -> str:
    """A tensor as PyTorch's tracing shows it: FakeTensor(..., size=..., dtype=...)."""
    text = "FakeTensor(..."
    if tensor.device.type != "cpu":
        text += f", device='{tensor.device}'"
    text += f", size={tuple(tensor.shape)}"
    if tensor.dtype is not dtypes.float32:
        text += f", dtype={tensor.dtype}"
    return text + ")"


def _outputs(carried: tuple[Any, ...]) -> tuple[Any, ...]:
    """The carried values as the loop's result: each tensor a copy, recorded under PyTorch's
    node when a gradient is wanted."""
    leaves, spec = tree_flatten(carried)
    recorded = [index for index, leaf in enumerate(leaves)
                if isinstance(leaf, Tensor) and leaf.requires_grad and is_grad_enabled()]
    for index, leaf in enumerate(leaves):
        if isinstance(leaf, Tensor) and index not in recorded:
            leaves[index] = leaf.detach().clone()
    if recorded:
        copies = WhileLoopOutputs.apply(*[leaves[index] for index in recorded])
        copies = copies if isinstance(copies, tuple) else (copies,)
        for index, copy in zip(recorded, copies):
            leaves[index] = copy
    return tuple(tree_unflatten(leaves, spec))


def _type_name(value: Any) -> str:
    return "<class 'torch.Tensor'>" if isinstance(value, Tensor) else str(type(value))
