"""Selective activation checkpointing (torch.utils.checkpoint's policies).

`create_selective_checkpoint_contexts(policy)` gives the two contexts a non-reentrant
`checkpoint(..., context_fn=...)` runs its forward and its recomputation under. Both are op
modes (`op_modes.py`), which see every op as its aten overload (`torch.ops.aten.mm.default`):

* in the forward, each op runs, then the policy is asked about it; for MUST_SAVE/PREFER_SAVE
  its outputs (and what its forward left for its node) are kept in a storage keyed by the op
  and its call count;
* in the recomputation, an op whose entry was kept is not run again: its node is recorded on
  the recomputed inputs with the kept outputs (so it saves for backward what it saved in the
  forward); the other ops run. An entry is handed out once, as PyTorch's.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ..op_modes import ForwardState, OpCall, OpMode
from ..op_overloads import OpOverload, OpOverloadPacket, aten
from ..tensor import Tensor

__all__ = ["SAC_IGNORED_OPS", "CheckpointPolicy", "SelectiveCheckpointContext",
           "create_selective_checkpoint_contexts"]


class SelectiveCheckpointContext:
    """What a policy function is given besides the op: `op_output` (the op's outputs) and
    `is_recompute` (deprecated: the policy is asked in the forward only, so always False)."""

    def __init__(self, *, is_recompute: bool, op_output: Any = None) -> None:
        self.is_recompute = is_recompute
        self.op_output = op_output


class CheckpointPolicy(enum.Enum):
    """MUST/PREFER_SAVE: the op's outputs are kept in the forward and not recomputed.
    MUST/PREFER_RECOMPUTE: recomputed in the backward. (The MUST_ ones are not to be overridden
    by a compiler; the CPU_OFFLOAD ones, for compilers too, are recomputed in eager mode, as
    PyTorch's.)"""

    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


_SAVE = (CheckpointPolicy.MUST_SAVE, CheckpointPolicy.PREFER_SAVE)


def _policy_from_bool(value: bool) -> CheckpointPolicy:
    return CheckpointPolicy.MUST_SAVE if value else CheckpointPolicy.PREFER_RECOMPUTE


# Ops whose number can differ between the forward and the recomputation.
SAC_IGNORED_OPS: set[OpOverload] = {aten.detach.default}

_SAC_MISMATCH_MSG = ("This can happen if the operations in the checkpointed region are "
                     "nondeterministic or depend on global state that changed between "
                     "forward and backward.")


class _Kept:
    """A kept op: what its forward left, and its outputs detached with their versions then
    (a mutation since is refused unless allow_cache_entry_mutation)."""

    def __init__(self, state: ForwardState, outputs: Any) -> None:
        self.state = state
        items = outputs if isinstance(outputs, tuple) else (outputs,)
        self.outputs = [(item.detach(), item._version) for item in items
                        if isinstance(item, Tensor)]

    def get(self, allow_cache_entry_mutation: bool) -> ForwardState:
        if not allow_cache_entry_mutation:
            for tensor, version in self.outputs:
                if tensor._version != version:
                    raise RuntimeError("Tensor cached during selective activation checkpoint "
                                       "has been mutated")
        return self.state


class _Mark:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_RECOMPUTE = _Mark("_RECOMPUTE")
_CONSUMED = _Mark("_CONSUMED")

_Storage = defaultdict[OpOverload, dict[int, Any]]


class _CachingTorchDispatchMode(OpMode):
    """The forward's mode: runs each op, asks the policy, keeps what is to be saved."""

    def __init__(self, policy_fn: Callable[..., Any], storage: _Storage) -> None:
        self.policy_fn = policy_fn
        self.storage = storage
        self.func_counter: defaultdict[OpOverload, int] = defaultdict(int)

    def apply_op(self, call: OpCall) -> Any:
        func = call.func
        if func is None or func in SAC_IGNORED_OPS:
            return call.run()
        out, state = call.run_keeping()
        index = self.func_counter[func]
        self.func_counter[func] += 1
        policy = self.policy_fn(SelectiveCheckpointContext(is_recompute=False, op_output=out),
                                func, *call.args, **call.kwargs)
        if isinstance(policy, bool):
            policy = _policy_from_bool(policy)
        self.storage[func][index] = _Kept(state, out) if policy in _SAVE else _RECOMPUTE
        return out


class _CachedTorchDispatchMode(OpMode):
    """The recomputation's mode: an op kept in the forward gives back its outputs (once)."""

    def __init__(self, policy_fn: Any, storage: _Storage,
                 allow_cache_entry_mutation: bool = False) -> None:
        self.storage = storage
        self.allow_cache_entry_mutation = allow_cache_entry_mutation
        self.func_counter: defaultdict[OpOverload, int] = defaultdict(int)

    def __enter__(self) -> _CachedTorchDispatchMode:
        # Counting again from zero: a second backward finds consumed entries (PyTorch's
        # "backward an extra time"), not missing ones.
        self.func_counter.clear()
        super().__enter__()
        return self

    def apply_op(self, call: OpCall) -> Any:
        func = call.func
        if func is None or func in SAC_IGNORED_OPS:
            return call.run()
        index = self.func_counter[func]
        self.func_counter[func] += 1
        func_storage = self.storage.get(func)
        if func_storage is None:
            raise RuntimeError(f"{func} encountered during backward but not found in storage. "
                               f"{_SAC_MISMATCH_MSG}")
        entry = func_storage.get(index)
        if entry is None:
            raise RuntimeError(f"{func} invocation index {index} encountered during backward "
                               f"but not found in storage. {_SAC_MISMATCH_MSG}")
        if entry is _CONSUMED:
            raise RuntimeError("Trying to backward an extra time. You are only allowed to "
                               "backward once on any region computed under selective "
                               "activation checkpoint.")
        if entry is _RECOMPUTE:
            return call.run()
        func_storage[index] = _CONSUMED
        return call.replay(entry.get(self.allow_cache_entry_mutation))


def create_selective_checkpoint_contexts(
        policy_fn_or_list: Callable[..., Any] | list[Any],
        allow_cache_entry_mutation: bool = False) -> tuple[OpMode, OpMode]:
    """The (forward, recomputation) contexts for `checkpoint(..., context_fn=...)` that keep
    the outputs of the ops `policy_fn_or_list` picks: a function `(ctx, op, *args, **kwargs)`
    returning a CheckpointPolicy, or a list of OpOverloads (MUST_SAVE for those, else
    PREFER_RECOMPUTE). A kept tensor mutated before the recomputation is an error unless
    `allow_cache_entry_mutation`."""
    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            if not isinstance(op, OpOverload):
                extra = ("Please update the OpOverloadPacket to a specific OpOverload."
                         "For example, if you have `torch.ops.aten.mm`, change it to "
                         "`torch.ops.aten.mm.default`."
                         if isinstance(op, OpOverloadPacket) else "")
                raise ValueError(f"Expected op in `op_list` to be an OpOverload but got: {op} "
                                 f"of type {type(op)}. {extra}")
        ops = policy_fn_or_list

        def policy_fn(ctx: SelectiveCheckpointContext, op: OpOverload, *args: Any,
                      **kwargs: Any) -> CheckpointPolicy:
            return CheckpointPolicy.MUST_SAVE if op in ops else CheckpointPolicy.PREFER_RECOMPUTE
    elif callable(policy_fn_or_list):
        policy_fn = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    storage: _Storage = defaultdict(dict)
    return (_CachingTorchDispatchMode(policy_fn, storage),
            _CachedTorchDispatchMode(None, storage, allow_cache_entry_mutation))
