"""PyTorch's control-flow operators in eager mode: torch.while_loop, torch.cond, and
torch._higher_order_ops' scan, associative_scan and map, with PyTorch's checks of the functions
and of what they return.

Each runs the user's functions as written, recording their ops, so gradients reach the inputs
and any tensor the functions close over (PyTorch lifts those into the operator's inputs); the
tensor outputs then pass through one node named as PyTorch's (WhileLoopAutogradOpBackward,
CondAutogradOpBackward, ScanAutogradOpBackward, MapAutogradOpBackward), whose backward hands the
gradients on unchanged (so second derivatives work as well). Nothing is traced: where PyTorch
checks a branch it did not take, cond runs that branch too, without recording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import dtypes
from .func.pytree import tree_flatten, tree_unflatten
from .function import Function
from .grad_mode import is_grad_enabled, no_grad
from .node import sequence_nrs
from .op_modes import op_mode_state
from .ops.joining import stack
from .random import fork_rng
from .tensor import Tensor, _wrap_dim


class WhileLoopOutputs(Function):
    """The loop's tensor outputs, copied (they never alias the inputs); the gradient passes
    through to the recorded ops. The other operators' outputs are this node under their own
    names."""

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
    start = next(sequence_nrs)
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
    return tuple(_outputs(carried, start))


def _check_condition(pred: Any) -> bool:
    if isinstance(pred, bool):
        return pred
    if isinstance(pred, Tensor) and pred.ndim == 0 and pred.dtype is dtypes.bool_:
        return bool(pred.item())
    raise RuntimeError(f"cond_fn must return a boolean scalar tensor or a boolean but got {pred}")


def _check_same_metadata(lhs_leaves: list[Any], lhs_spec: Any, rhs_leaves: list[Any],
                         rhs_spec: Any, lhs_name: str = "body_fn_output",
                         rhs_name: str = "carried_inputs") -> None:
    """What PyTorch's tracing checks: a function's outputs have the structure of what they
    replace, and each tensor its shape and dtype (ints stay ints)."""
    header = f"Expected {lhs_name} and {rhs_name} to have same metadata but found:"
    if lhs_spec != rhs_spec:
        raise RuntimeError(f"{header}\n{lhs_name} has structure {lhs_spec} but "
                           f"{rhs_name} has {rhs_spec}")
    for index, (lhs, rhs) in enumerate(zip(lhs_leaves, rhs_leaves)):
        if isinstance(rhs, Tensor) != isinstance(lhs, Tensor):
            raise RuntimeError(f"{header}\npair[{index}] differ in 'type: "
                               f"{_type_name(lhs)} vs {_type_name(rhs)}'")
        if not isinstance(rhs, Tensor):
            continue
        differences = []
        if tuple(lhs.shape) != tuple(rhs.shape):
            differences.append(f"shape: {lhs.shape} vs {rhs.shape}")
        if lhs.dtype is not rhs.dtype:
            differences.append(f"dtype: {lhs.dtype} vs {rhs.dtype}")
        if lhs.device != rhs.device:
            differences.append(f"device: {lhs.device} vs {rhs.device}")
        if differences:
            raise RuntimeError(f"{header}\npair[{index}] differ in "
                               f"'{', '.join(differences)}', where lhs is {_fake(lhs)} and rhs "
                               f"is {_fake(rhs)}")


def _fake(tensor: Tensor) -> str:
    """A tensor as PyTorch's tracing shows it: FakeTensor(..., size=..., dtype=...)."""
    text = "FakeTensor(..."
    if tensor.device.type != "cpu":
        text += f", device='{tensor.device}'"
    text += f", size={tuple(tensor.shape)}"
    if tensor.dtype is not dtypes.float32:
        text += f", dtype={tensor.dtype}"
    return text + ")"


class CondOutputs(WhileLoopOutputs):
    node_name = "CondAutogradOpBackward"


class ScanOutputs(WhileLoopOutputs):
    node_name = "ScanAutogradOpBackward"


class MapOutputs(WhileLoopOutputs):
    node_name = "MapAutogradOpBackward"


def _outputs(carried: Any, start: int, node: type[Function] = WhileLoopOutputs) -> Any:
    """The values as the operator's result: each tensor a copy, recorded under PyTorch's node
    when a gradient is wanted. The nodes recorded since `start` keep what they saved."""
    leaves, spec = tree_flatten(carried)
    _keep_saved([leaf for leaf in leaves if isinstance(leaf, Tensor)], start)
    recorded = [index for index, leaf in enumerate(leaves)
                if isinstance(leaf, Tensor) and leaf.requires_grad and is_grad_enabled()]
    for index, leaf in enumerate(leaves):
        if isinstance(leaf, Tensor) and index not in recorded:
            leaves[index] = leaf.detach().clone()
    if recorded:
        copies = node.apply(*[leaves[index] for index in recorded])
        copies = copies if isinstance(copies, tuple) else (copies,)
        for index, copy in zip(recorded, copies):
            leaves[index] = copy
    return tree_unflatten(leaves, spec)


def _keep_saved(outputs: list[Tensor], start: int) -> None:
    """Mark the nodes the operator recorded (those behind its outputs created since `start`)
    to keep their saved tensors through a backward without retain_graph, as PyTorch's
    operator node, which recomputes, allows."""
    pending: list[Any] = [tensor.grad_fn for tensor in outputs]
    seen: set[int] = set()
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen or getattr(node, "_sequence_nr", -1) < start:
            continue
        seen.add(id(node))
        node._keep_saved = True
        pending.extend(next_node for next_node, _ in node.next_functions)


def _type_name(value: Any) -> str:
    return "<class 'torch.Tensor'>" if isinstance(value, Tensor) else str(type(value))


def cond(pred: Any, true_fn: Callable[..., Any], false_fn: Callable[..., Any],
         operands: tuple[Any, ...] | list[Any] = ()) -> Any:
    """`true_fn(*operands)` if `pred` else `false_fn(*operands)`. A Python bool (or number)
    just picks the branch, as in PyTorch; a one-element tensor also has both branches checked
    to return the same structure, and tensors of the same dtype, device and number of dims."""
    if isinstance(pred, (bool, int, float)):
        return true_fn(*operands) if pred else false_fn(*operands)
    if not isinstance(pred, Tensor):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("Expect both branches to be callable.")
    if not isinstance(operands, (tuple, list)) or not all(
            isinstance(leaf, Tensor) for leaf in tree_flatten(operands)[0]):
        raise RuntimeError("Expect operands to be a tuple of possibly nested dict/list/tuple "
                           f"that only consists of tensor leaves, but got {operands}.")
    if op_mode_state.active:  # an op mode may keep both branches (an ONNX export's If node)
        result = op_mode_state.cond(pred, true_fn, false_fn, tuple(operands))
        if result is not NotImplemented:
            return result
    taken, other = (true_fn, false_fn) if bool(pred.item()) else (false_fn, true_fn)
    start = next(sequence_nrs)
    out = taken(*operands)
    # PyTorch traces the branch it does not take; here it runs without recording, and
    # without moving the random state, only so that its outputs can be compared.
    with no_grad(), fork_rng(devices=[]):
        other_out = other(*operands)
    out_leaves, out_spec = tree_flatten(out)
    other_leaves, other_spec = tree_flatten(other_out)
    if taken is true_fn:
        _check_branches(out_leaves, out_spec, other_leaves, other_spec)
    else:
        _check_branches(other_leaves, other_spec, out_leaves, out_spec)
    return _outputs(out, start, CondOutputs)


def _check_branches(true_leaves: list[Any], true_spec: Any, false_leaves: list[Any],
                    false_spec: Any) -> None:
    """PyTorch's checks when it merges the branches' outputs (sizes may differ)."""
    for leaf in (*true_leaves, *false_leaves):
        if not isinstance(leaf, (Tensor, int)):
            raise RuntimeError("torch.cond: unsupported branch return type (constant non-int)\n"
                               "  Higher Order Operator: torch.cond\n"
                               "  Explanation: Constants returned from branches must be ints.")
    if true_spec != false_spec:
        raise RuntimeError("torch.cond: differing branch outputs\n"
                           "  Higher Order Operator: torch.cond\n"
                           "  Explanation: Expected branches to return the same pytree "
                           "structure.")
    prefix = "When merging two branches' output in torch.cond, "
    for true_leaf, false_leaf in zip(true_leaves, false_leaves):
        if isinstance(true_leaf, Tensor) != isinstance(false_leaf, Tensor):
            raise RuntimeError(f"{prefix} expected same type but got {_type_name(true_leaf)} "
                               f"and {_type_name(false_leaf)}.")
        if not isinstance(true_leaf, Tensor):
            continue
        for name in ("dtype", "device", "dim"):
            true_value, false_value = (getattr(true_leaf, name), getattr(false_leaf, name))
            if name == "dim":
                true_value, false_value = true_value(), false_value()
            if true_value != false_value:
                raise RuntimeError(f"{prefix} expected same {name} but got {true_value} and "
                                   f"{false_value}.")


def scan(combine_fn: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, *,
         dim: int = 0, reverse: bool = False) -> tuple[Any, Any]:
    """An inclusive scan: `carry, y = combine_fn(carry, x)` for each slice `x` of `xs` along
    `dim` (last to first if `reverse`), starting from `init`; returns the last carry and the
    `y`s stacked along `dim`. The carry keeps init's structure, shapes and dtypes."""
    init_leaves, init_spec = tree_flatten(init)
    xs_leaves, xs_spec = tree_flatten(xs)
    if not xs_leaves:
        return init, []
    dim = _canonical_dim(xs_leaves[0], dim)
    if not callable(combine_fn):
        raise RuntimeError(f"Combine_fn must be a callable, but got {combine_fn}")
    if not isinstance(dim, int):
        raise RuntimeError("Dim must be an int, but got " + str(type(dim)))
    if not isinstance(reverse, bool):
        raise RuntimeError("Reverse must be a bool, but got " + str(type(reverse)))
    if not init_leaves:
        raise RuntimeError("scan() operator requires init leaves.")
    for leaf in init_leaves:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"All init leaves must be a Tensor but got {leaf}")
    for leaf in xs_leaves:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"All xs leaves must be a Tensor but got {leaf}")
    _check_scan_dim(xs_leaves, dim, RuntimeError)
    moved = _scan_order(xs_leaves, dim, reverse)
    start = next(sequence_nrs)
    carry = init_leaves
    ys = []
    ys_spec: Any = None
    for index in range(moved[0].shape[0]):
        result = combine_fn(tree_unflatten(carry, init_spec),
                            tree_unflatten([x[index] for x in moved], xs_spec))
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise RuntimeError("combine_fn must return a tuple (next_carry, y) but got "
                               f"{_type_name(result)}")
        carry, carry_spec = tree_flatten(result[0])
        _check_same_metadata(init_leaves, init_spec, carry, carry_spec, "init", "carry")
        y, ys_spec = tree_flatten(result[1])
        ys.append(y)
    stacked = [None if any(y is None for y in column) else stack(list(column))
               for column in zip(*ys)]
    carry, stacked = _outputs((carry, stacked), start, ScanOutputs)
    # as PyTorch's, the ys are put back in order after the operator's node
    stacked = [_restore_order(y, dim, reverse) for y in stacked]
    return tree_unflatten(carry, init_spec), tree_unflatten(stacked, ys_spec)


def associative_scan(combine_fn: Callable[[Any, Any], Any], xs: Any, dim: int,
                     reverse: bool = False, combine_mode: str = "pointwise") -> Any:
    """An inclusive scan with an associative `combine_fn` along `dim` of each leaf of `xs`:
    element i is combine_fn applied to elements 0..i (i..last if `reverse`). The
    "pointwise" mode is PyTorch's CUDA kernel; both modes run the same loop here."""
    xs_leaves, xs_spec = tree_flatten(xs)
    if xs_leaves and isinstance(xs_leaves[0], Tensor):
        dim = _canonical_dim(xs_leaves[0], dim)
    if not callable(combine_fn):
        raise ValueError(f"Combine_fn must be a callable, but got {combine_fn}")
    if not isinstance(dim, int):
        raise ValueError("Dim must be an int, but got " + str(type(dim)))
    if not isinstance(reverse, bool):
        raise RuntimeError("Reverse must be a bool, but got " + str(type(reverse)))
    if combine_mode not in ("pointwise", "generic"):
        raise ValueError(
            f"Combine_mode must either 'pointwise' or 'generic', but got {combine_mode}")
    if combine_mode == "pointwise" and not all(
            isinstance(leaf, Tensor) and leaf.device.type in ("cuda", "xpu")
            for leaf in xs_leaves):
        raise ValueError(
            "For combine_mode='pointwise', all input tensors need to be on CUDA or XPU")
    if not xs_leaves:
        raise ValueError("Expected at least 1 xs leaf")
    if not all(isinstance(leaf, Tensor) for leaf in xs_leaves):
        raise ValueError("xs leaves must be a Tensor")
    if any(leaf.is_sparse for leaf in xs_leaves):
        raise ValueError("xs leaves must dense Tensors, consider using `to_dense()`")
    _check_scan_dim(xs_leaves, dim, ValueError)
    moved = _scan_order(xs_leaves, dim, reverse)
    total = [x[0] for x in moved]
    columns = [[leaf] for leaf in total]
    for index in range(1, moved[0].shape[0]):
        combined = combine_fn(tree_unflatten(total, xs_spec),
                              tree_unflatten([x[index] for x in moved], xs_spec))
        total = tree_flatten(combined)[0]
        for column, leaf in zip(columns, total):
            column.append(leaf)
    # like PyTorch's, the result's node is the move of the scanned dim back into place
    return tree_unflatten([_restore_order(stack(column), dim, reverse, always_move=True)
                           for column in columns], xs_spec)


def map(f: Callable[..., Any], xs: Any, *args: Any) -> Any:
    """`f(x, *args)` for each slice `x` of `xs` along its first dim (each leaf of a nested
    `xs` sliced alike), the results stacked."""
    xs_leaves, xs_spec = tree_flatten(xs)
    if not all(isinstance(leaf, Tensor) for leaf in xs_leaves):
        raise RuntimeError(f"Mapped xs can only consist of tensors. Got xs {xs_leaves}.")
    shapes = [leaf.shape for leaf in xs_leaves]
    length = shapes[0][0]
    if length == 0:
        raise RuntimeError("Leading dimensions of mapped xs cannot be 0.")
    if any(shape[0] != length for shape in shapes):
        raise RuntimeError(
            f"Leading dimensions of mapped xs must be consistent. Got shapes {shapes}.")
    start = next(sequence_nrs)
    results = [tree_flatten(f(tree_unflatten([leaf[index] for leaf in xs_leaves], xs_spec),
                              *args))
               for index in range(length)]
    out_spec = results[-1][1]
    stacked = []
    for column in zip(*(leaves for leaves, _ in results)):
        if not all(isinstance(leaf, Tensor) for leaf in column):
            raise RuntimeError(f"Cannot stack {list(column)}.")
        stacked.append(stack(list(column)))
    return tree_unflatten(_outputs(stacked, start, MapOutputs), out_spec)


def _canonical_dim(leaf: Any, dim: Any) -> Any:
    return _wrap_dim(dim, leaf.ndim) if isinstance(dim, int) else dim


def _check_scan_dim(leaves: list[Tensor], dim: int, error: type[Exception]) -> None:
    if any(leaf.ndim <= dim or leaf.shape[dim] == 0 for leaf in leaves):
        raise error("All xs leaves must at least have 'dim' number of dimensions and scan "
                    "dimension > 0")


def _scan_order(leaves: list[Tensor], dim: int, reverse: bool) -> list[Tensor]:
    """Each leaf with the scanned dim first, in the order the scan visits it."""
    moved = [leaf.movedim(dim, 0) if dim != 0 else leaf for leaf in leaves]
    return [leaf.flip([0]) for leaf in moved] if reverse else moved


def _restore_order(stacked: Any, dim: int, reverse: bool, always_move: bool = False) -> Any:
    """An output stacked in the scan's order, put back in the input's along `dim`."""
    if stacked is None:
        return None
    if reverse:
        stacked = stacked.flip([0])
    if always_move or (dim != 0 and dim < stacked.ndim):
        stacked = stacked.movedim(0, dim)
    return stacked
