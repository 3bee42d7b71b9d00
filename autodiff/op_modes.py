"""Op modes: objects that see every built-in op this thread applies, as PyTorch's
TorchDispatchMode sees every aten call. Selective activation checkpointing is built on them
(`utils/selective_checkpoint.py`).

A mode is a context manager; inside, `Function.apply` hands each op to the innermost mode's
`apply_op(call)` instead of running it (one attribute test while no mode is open). The
`OpCall` knows the op's aten overload and can run the op's forward, or take outputs computed
before (with the state forward left on the node), and then record the node as apply would.
Inside `apply_op` the mode itself is set aside, so ops it runs are not handed back to it, and
`run()` hands the op to the next mode out, if any (PyTorch's mode stack).
"""

from __future__ import annotations

import threading
from typing import Any

from .hot_path import modes
from .op_overloads import OpOverload, overload_of


class _OpModeState(threading.local):
    def __init__(self) -> None:
        self.stack: list[OpMode] = []
        self.active = False

    def push(self, mode: OpMode) -> None:
        self.stack.append(mode)
        self.active = True

    def pop(self, mode: OpMode) -> None:
        if not self.stack or self.stack[-1] is not mode:
            raise RuntimeError("op modes must be exited in the reverse order they were entered")
        self.stack.pop()
        self.active = bool(self.stack)

    def dispatch(self, call: OpCall) -> Any:
        """Hand `call` to the innermost mode, with that mode set aside meanwhile."""
        mode = self.stack.pop()
        self.active = bool(self.stack)
        try:
            return mode.apply_op(call)
        finally:
            self.stack.append(mode)
            self.active = True

    def written(self, tensor: Any, value: Any) -> None:
        """An in-place op wrote `value` (the op's out-of-place result) into `tensor`."""
        for mode in list(self.stack):
            mode.written(tensor, value)

    def computed(self, name: str, operands: tuple[Any, ...], options: dict[str, Any],
                 result: Any) -> None:
        """An op computed on arrays with no node (a comparison, argmax, ...) made `result`."""
        for mode in list(self.stack):
            mode.computed(name, operands, options, result)

    def cond(self, pred: Any, true_fn: Any, false_fn: Any, operands: tuple[Any, ...]) -> Any:
        """`torch.cond` on a tensor: the innermost mode's result that has one, else
        NotImplemented (cond then runs as it does outside modes)."""
        for mode in reversed(self.stack):
            result = mode.cond(pred, true_fn, false_fn, operands)
            if result is not NotImplemented:
                return result
        return NotImplemented


op_mode_state = _OpModeState()


class OpMode:
    """Base class: subclasses define `apply_op(call)`, returning the op's outputs."""

    def __enter__(self) -> OpMode:
        op_mode_state.push(self)
        modes.enter()  # ops take apply's full path while a mode is open
        return self

    def __exit__(self, *exc: object) -> None:
        op_mode_state.pop(self)
        modes.exit()

    def apply_op(self, call: OpCall) -> Any:
        return call.run()

    def written(self, tensor: Any, value: Any) -> None:
        """An in-place op wrote the Tensor `value` it computed into `tensor` (its buffer now
        holds value's values); the default ignores it."""

    def computed(self, name: str, operands: tuple[Any, ...], options: dict[str, Any],
                 result: Any) -> None:
        """A non-differentiable op that records no node (`name`: "less", "logical_and",
        "isnan", "argmax", "any", ...) made `result` from `operands` (Tensors and numbers) and
        keyword `options`; the default ignores it."""

    def cond(self, pred: Any, true_fn: Any, false_fn: Any, operands: tuple[Any, ...]) -> Any:
        """`torch.cond(pred, true_fn, false_fn, operands)` with a tensor `pred`: the mode's
        result, or NotImplemented (the default) for cond to run the branch pred picks."""
        return NotImplemented


class OpCall:
    """One op being applied under a mode: `func` (its OpOverload, None when PyTorch has no
    operator for it), `args`/`kwargs` as given; `run()` does what apply does; `replay(state)`
    records the node with outputs and forward state kept from an earlier `run_keeping()`."""

    def __init__(self, ctx: Any, args: tuple[Any, ...], arrays: list[Any],
                 kwargs: dict[str, Any], requires_grad: bool) -> None:
        self.ctx = ctx
        self.args = args
        self.arrays = arrays
        self.kwargs = kwargs
        self.requires_grad = requires_grad
        self._func: OpOverload | None = None
        self._looked_up = False
        self._kept: list[ForwardState] | None = None

    @property
    def func(self) -> OpOverload | None:
        if not self._looked_up:
            self._func = overload_of(self.ctx, self.args)
            self._looked_up = True
        return self._func

    def run(self) -> Any:
        """Apply the op (through the next mode out, if one is open)."""
        if op_mode_state.active:
            return op_mode_state.dispatch(self)
        return self.ctx._forward_and_finish(self.args, self.arrays, self.kwargs,
                                            self.requires_grad, self._kept)

    def run_with(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Apply the op to `args` and `kwargs`: this call's own when they are the same
        objects, else the op afresh on them (a handler that changed its arguments)."""
        if len(args) == len(self.args) and all(a is b for a, b in zip(args, self.args)) \
                and kwargs.keys() == self.kwargs.keys() \
                and all(kwargs[key] is self.kwargs[key] for key in kwargs):
            return self.run()
        return type(self.ctx).apply(*args, **kwargs)

    def run_keeping(self) -> tuple[Any, ForwardState]:
        """Run the op; also return what its forward computed (outputs and the node's state)."""
        self._kept = []
        outputs = self.run()
        kept = self._kept
        self._kept = None
        return outputs, kept[0]

    def replay(self, state: ForwardState) -> Any:
        """The op's outputs as `state` kept them, without running forward: the node is
        recorded on this call's inputs (saving what forward saved, inputs being this call's)."""
        return self.ctx._replay_forward(self.args, self.arrays, self.kwargs,
                                        self.requires_grad, state)


class ForwardState:
    """What an op's forward left: its result arrays, and the node's attributes, with the items
    given to save_for_backward that were inputs kept as their positions (so a replay saves its
    own inputs, and this record keeps no input alive)."""

    def __init__(self, result: Any, attributes: dict[str, Any], arrays: list[Any]) -> None:
        self.result = result
        to_save = attributes.get("_to_save")
        if to_save is not None:
            attributes = dict(attributes)
            attributes["_to_save"] = tuple([_InputSlot(position) if position is not None
                                            else item for item, position in
                                            ((item, _position(item, arrays))
                                             for item in to_save)])
        self.attributes = attributes

    def attributes_for(self, arrays: list[Any]) -> dict[str, Any]:
        attributes = self.attributes
        to_save = attributes.get("_to_save")
        if to_save is None:
            return attributes
        attributes = dict(attributes)
        attributes["_to_save"] = tuple([arrays[item.position] if type(item) is _InputSlot
                                        else item for item in to_save])
        return attributes


class _InputSlot:
    def __init__(self, position: int) -> None:
        self.position = position


def _position(item: Any, arrays: list[Any]) -> int | None:
    if item is None or type(item) in (bool, int, float, complex):
        return None
    return next((index for index, array in enumerate(arrays) if array is item), None)
