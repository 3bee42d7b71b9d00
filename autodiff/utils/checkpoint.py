"""Activation checkpointing (torch.utils.checkpoint): trade compute for memory.

`checkpoint(fn, *args, use_reentrant=False)` runs `fn` keeping only its inputs; the backward
runs `fn` again to get the tensors its ops saved, with the random generators put back as they
were (so dropout draws the same masks) and the gradients are those of the unchecked run.

Two ways, as in PyTorch:

* use_reentrant=False: `fn` runs in grad mode under saved-tensor hooks. Each tensor an op saves
  is packed into a small `_Holder` instead of being kept; the first unpack in a backward reruns
  `fn` under a second pair of hooks that collect the recomputed tensors into the holders
  (stopping as soon as every holder is filled), and each unpack hands its tensor over once.
  Works with `autograd.grad`, keyword arguments and nested structures.
* use_reentrant=True: `fn` runs under no_grad inside a custom autograd.Function whose backward
  reruns it in grad mode on detached inputs and calls `autograd.backward` on that piece
  (a backward inside the backward). That inner backward runs every node of the piece, so a
  walk limited to some inputs (`autograd.grad`, `backward(inputs=...)`) is refused, as
  PyTorch refuses it.

Selective checkpointing (`create_selective_checkpoint_contexts`, in selective_checkpoint.py)
keeps the outputs of the ops a policy picks, through `context_fn`.
"""

from __future__ import annotations

import contextlib
import itertools
import traceback
import weakref
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import AbstractContextManager as ContextManager
from typing import Any, NoReturn

import backends
from backends import Backend, Device

from .. import autograd, creation, dtypes
from ..autograd.graph import saved_tensors_hooks
from ..engine import current_graph_task_id, is_checkpoint_valid
from ..grad_mode import enable_grad, no_grad
from ..grad_mode import state as grad_state
from ..nn.modules.container import Sequential
from ..tensor import Tensor
from ..user_warnings import warn
from .selective_checkpoint import (
    SAC_IGNORED_OPS,
    CheckpointPolicy,
    SelectiveCheckpointContext,
    create_selective_checkpoint_contexts,
)

__all__ = [
    "SAC_IGNORED_OPS", "CheckpointError", "CheckpointFunction", "CheckpointPolicy",
    "DefaultDeviceType", "SelectiveCheckpointContext", "check_backward_validity", "checkpoint",
    "checkpoint_sequential", "create_selective_checkpoint_contexts", "detach_variable",
    "get_device_states", "noop_context_fn", "set_checkpoint_debug_enabled",
    "set_checkpoint_early_stop", "set_device_states",
]

_DEFAULT_DETERMINISM_MODE = "default"


class CheckpointError(RuntimeError):
    """The recomputation did not match the original forward."""


# ----------------------------------------------------------------------------- helpers
def detach_variable(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Each Tensor of `inputs` detached, keeping its requires_grad (new leaves)."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for item in inputs:
        if isinstance(item, Tensor):
            detached = item.detach()
            detached.requires_grad = item.requires_grad
            out.append(detached)
        else:
            out.append(item)
    return tuple(out)


def check_backward_validity(inputs: Iterable[Any]) -> None:
    if not any(item.requires_grad for item in inputs if isinstance(item, Tensor)):
        warn("None of the inputs have requires_grad=True. Gradients will be None",
             stacklevel=2)


class DefaultDeviceType:
    """The device type whose generators are saved when no tensor argument is on a device
    other than the CPU: "cuda" when there is a CUDA device, else "cpu"."""

    _default_device_type: str | None = None

    @staticmethod
    def set_device_type(device: str = "cuda") -> None:
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type() -> str:
        if not DefaultDeviceType._default_device_type:
            DefaultDeviceType._default_device_type = \
                "cuda" if backends.cuda_device_count() > 0 else "cpu"
        return DefaultDeviceType._default_device_type


def _tensors_in(args: Iterable[Any]) -> Iterator[Tensor]:
    """The Tensors in `args`, looking into lists, tuples and dicts."""
    pending = list(args)
    while pending:
        item = pending.pop(0)
        if isinstance(item, Tensor):
            yield item
        elif isinstance(item, (list, tuple)):
            pending[:0] = list(item)
        elif isinstance(item, dict):
            pending[:0] = list(item.values())


def _infer_device_type(*args: Any) -> str:
    device_types = [t.device.type for t in _tensors_in(args) if t.device.type != "cpu"]
    distinct = set(device_types)
    if len(distinct) > 1:
        warn(
            "Tensor arguments, excluding CPU tensors, are detected on at least two types of "
            "devices. Device state will only be saved for devices of a single device type, and "
            "the remaining devices will be ignored. Consequently, if any checkpointed functions "
            "involve randomness, this may result in incorrect gradients. (Note that if CUDA "
            "devices are among the devices detected, it will be prioritized; otherwise, the "
            "first device encountered will be selected.)\nDevice types: "
            f"{sorted(distinct)} first device type: {device_types[0]}", stacklevel=3)
    if not device_types:
        return DefaultDeviceType.get_device_type()
    return "cuda" if "cuda" in distinct else device_types[0]


def get_device_states(*args: Any) -> tuple[list[int], list[Tensor]]:
    """The indices of the devices (of one type) that the tensors of `args` are on, and the
    state of each one's default generator (a uint8 tensor, as `get_rng_state` gives)."""
    device_type = _infer_device_type(*args)
    indices = [t.device.index or 0 for t in _tensors_in(args) if t.device.type == device_type
               and device_type != "cpu"]
    states = []
    for index in indices:
        state = backends.get_backend(Device(device_type, index)).default_generator.get_state()
        states.append(creation.tensor(list(state), dtype=dtypes.uint8))
    return indices, states


def set_device_states(devices: list[int], states: list[Tensor], *,
                      device_type: str | None = None) -> None:
    """Put back the generator states `get_device_states` took."""
    if device_type is None:
        device_type = DefaultDeviceType.get_device_type()
    for index, state in zip(devices, states):
        backend = backends.get_backend(Device(device_type, index))
        backend.default_generator.set_state(bytes(state.tolist()))


class _RngSnapshot:
    """The default generators of the CPU and of the devices of the tensor arguments, as they
    were when the checkpointed forward began (what torch.random.fork_rng and set_rng_state do
    for PyTorch's checkpoint, for every device type)."""

    def __init__(self, args: tuple[Any, ...]) -> None:
        device_type = _infer_device_type(*args)
        chosen: list[Backend] = [backends.get_backend("cpu")]
        for tensor in _tensors_in(args):
            backend = tensor._backend
            if backend.device.type == device_type and backend not in chosen:
                chosen.append(backend)
        self.states = [(backend, backend.default_generator.get_state()) for backend in chosen]

    @contextlib.contextmanager
    def replayed(self) -> Iterator[None]:
        """Inside: the generators as they were at the snapshot. After: as they were before
        (the recomputation draws the same numbers and moves no stream on)."""
        current = [(backend, backend.default_generator.get_state())
                   for backend, _ in self.states]
        for backend, state in self.states:
            backend.default_generator.set_state(state)
        try:
            yield
        finally:
            for backend, state in current:
                backend.default_generator.set_state(state)


def noop_context_fn() -> tuple[ContextManager[Any], ContextManager[Any]]:
    return contextlib.nullcontext(), contextlib.nullcontext()


_checkpoint_debug_enabled: bool | None = None
_enable_checkpoint_early_stop: bool | None = None


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Iterator[None]:
    """Inside: `debug` of every non-reentrant checkpoint is `enabled` (None: each call's own)."""
    global _checkpoint_debug_enabled
    previous = _checkpoint_debug_enabled
    _checkpoint_debug_enabled = enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = previous


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """Inside: whether non-reentrant checkpoints made here stop recomputing as soon as every
    saved tensor is back (overrides `early_stop`; only the forward needs to be inside)."""
    global _enable_checkpoint_early_stop
    previous = _enable_checkpoint_early_stop
    _enable_checkpoint_early_stop = enable
    try:
        yield
    finally:
        _enable_checkpoint_early_stop = previous


# ----------------------------------------------------------------------------- reentrant
class CheckpointFunction(autograd.Function):
    """The reentrant checkpoint: forward under no_grad keeping the inputs; backward reruns the
    function in grad mode and backpropagates through that piece."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable[..., Any], preserve_rng_state: bool,
                *args: Any) -> Any:
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        ctx.rng = _RngSnapshot(args) if preserve_rng_state else None
        ctx.inputs = []
        ctx.tensor_indices = []
        tensor_inputs = []
        for index, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensor_inputs.append(arg)
                ctx.tensor_indices.append(index)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensor_inputs)
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        if not is_checkpoint_valid():
            # The inner backward would run every node of the piece, and so accumulate into
            # leaves the outer call did not ask for.
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() "
                "or passing an `inputs` parameter to .backward(). To resolve this error, you "
                "can either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument.")
        inputs = list(ctx.inputs)
        for position, tensor in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[position] = tensor
        replay = ctx.rng.replayed() if ctx.rng is not None else contextlib.nullcontext()
        with replay:
            detached_inputs = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached_inputs)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outputs_with_grad = []
        grads_with_outputs = []
        for output, grad in zip(outputs, grad_outputs):
            if isinstance(output, Tensor) and output.requires_grad:
                outputs_with_grad.append(output)
                grads_with_outputs.append(grad)
        if not outputs_with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                               "necessary")
        autograd.backward(outputs_with_grad, grads_with_outputs)
        grads = tuple(item.grad if isinstance(item, Tensor) else None
                      for item in detached_inputs)
        return (None, None, *grads)


# ----------------------------------------------------------------------------- non-reentrant
class _Handle:
    """The key of one recomputed tensor (its holder drops it once the tensor is handed over,
    which frees the entry of the frame's weak dictionary)."""


class _Holder:
    """What a saved tensor is packed into: per recomputation, the handle of its tensor (None
    once it was unpacked)."""

    def __init__(self) -> None:
        self.handles: dict[int, _Handle | None] = {}


class _StopRecomputationError(Exception):
    pass


# Numbers for unpacks outside any backward walk (PyTorch draws a uuid): below the engine's.
_outside_backward_ids = itertools.count(-2, -1)


class _SavedInput:
    """A checkpoint input kept for the recomputation, with its version at the forward."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.version = value._version if isinstance(value, Tensor) else None

    def unpack(self) -> Any:
        value = self.value
        if self.version is not None and value._version != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{value.dtype} {list(value.shape)}] is at version "
                f"{value._version}; expected version {self.version} instead. Hint: the input "
                "of a checkpointed function must not change before backward.")
        return value


def _default_meta_extractor(x: Tensor) -> dict[str, Any]:
    return {"shape": tuple(x.shape), "dtype": x.dtype, "device": x.device}


_allowed_determinism_checks_to_fns: dict[str, Callable[[Tensor], Any]] = {
    _DEFAULT_DETERMINISM_MODE: _default_meta_extractor,
    "none": lambda _: None,
}

_debug_tip_msg = """
Tip: To see a more detailed error message, either pass `debug=True` to
`torch.utils.checkpoint.checkpoint(...)` or wrap the code block
with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to
enable checkpoint-debug mode globally.
"""


class _CheckpointFrame:
    """One checkpointed call: its inputs, one weak reference per holder (in saving order), the
    metadata of each saved tensor, and the recomputations' results.

    A recomputation is made once per backward walk (its `gid`, the engine's graph task number;
    an unpack outside any backward gets a number of its own), so a saved tensor unpacked twice
    in one backward is PyTorch's error."""

    def __init__(self, recompute_fn: Callable[..., None], early_stop: bool,
                 unpack_error_cb: Callable[[CheckpointError], NoReturn] | None,
                 metadata_fn: Callable[[Tensor], Any]) -> None:
        self.recompute_fn = recompute_fn
        self.saved_args: list[_SavedInput] = []
        self.weak_holders: list[weakref.ref[_Holder]] = []
        # Per recomputation; an entry goes when its handle does (the holder drops it once the
        # tensor is handed over, or when the node that saved it is freed).
        self.recomputed: defaultdict[int, weakref.WeakKeyDictionary[_Handle, Tensor]] = \
            defaultdict(weakref.WeakKeyDictionary)
        self.recomp_counter: defaultdict[int, int] = defaultdict(int)
        self.is_recomputed: defaultdict[int, bool] = defaultdict(bool)
        self.early_stop = early_stop
        self.metadata_fn = metadata_fn
        self.unpack_error_cb = unpack_error_cb
        self.x_metadatas: list[Any] = []
        self.forward_completed = False
        self.ignore_saved_mismatch = False
        self.debug_log: _DebugLog | None = None

    def save_inputs(self, *args: Any) -> None:
        self.saved_args = [_SavedInput(arg) for arg in args]

    def get_inputs(self) -> list[Any]:
        return [saved.unpack() for saved in self.saved_args]

    def recompute(self, gid: int) -> None:
        """Run the function again under the recomputation hooks, for backward walk `gid`."""
        args = self.get_inputs()
        try:
            with _recomputation_hook(weakref.ref(self), gid), enable_grad():
                self.recompute_fn(*args)
        except _StopRecomputationError:
            pass
        self.is_recomputed[gid] = True
        self.check_recomputed_tensors_match(gid)

    def check_recomputed_tensors_match(self, gid: int) -> None:
        if self.ignore_saved_mismatch:
            return  # the forward itself raised: what it saved is no reference
        if len(self.weak_holders) != self.recomp_counter[gid]:
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                "original forward and recomputation.\nNumber of tensors saved during forward: "
                f"{len(self.weak_holders)}\nNumber of tensors saved during recomputation: "
                f"{self.recomp_counter[gid]}.\n{_debug_tip_msg}")
        mismatched = []
        for index, weak_holder in enumerate(self.weak_holders):
            holder = weak_holder()
            if holder is None:
                continue
            handle = holder.handles.get(gid)
            if handle is None or handle not in self.recomputed[gid]:
                raise CheckpointError("torch.utils.checkpoint: a saved tensor was not "
                                      f"recomputed.\n{_debug_tip_msg}")
            recomputed_meta = self.metadata_fn(self.recomputed[gid][handle])
            if self.x_metadatas[index] != recomputed_meta:
                mismatched.append((index, self.x_metadatas[index], recomputed_meta))
        if mismatched:
            details = "".join(f"tensor at position {index}:\nsaved metadata: {saved}\n"
                              f"recomputed metadata: {recomputed}\n"
                              for index, saved, recomputed in mismatched)
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have "
                f"different metadata than during the forward pass.\n{details}.\n"
                f"{_debug_tip_msg}")


class _recomputation_hook(saved_tensors_hooks):
    """Pack hook of the recomputation: the i-th tensor saved goes into the i-th holder."""

    def __init__(self, target_frame_ref: weakref.ref[_CheckpointFrame], gid: int) -> None:
        # The graph the recomputation records is never differentiated: its nodes keep nothing
        # (None), and the recomputed tensors go to the holders only. (A node that saved its own
        # output refers to itself through its saved entries; it waits for the cycle collector,
        # which must not keep activations alive meanwhile.)
        def pack_hook(x: Tensor) -> None:
            frame = target_frame_ref()
            assert frame is not None
            if frame.debug_log is not None:
                frame.debug_log.record("recompute", x)
            x = x.detach() if x.requires_grad else x
            position = frame.recomp_counter[gid]
            frame.recomp_counter[gid] += 1
            if position >= len(frame.weak_holders):
                if not frame.forward_completed:
                    frame.ignore_saved_mismatch = True
                    return None
                raise CheckpointError(
                    "torch.utils.checkpoint: trying to save more tensors during recomputation "
                    f"than during the original forward pass.\n{_debug_tip_msg}")
            holder = frame.weak_holders[position]()
            if holder is not None:  # else that part of the graph has already run backward
                handle = holder.handles[gid] = _Handle()
                frame.recomputed[gid][handle] = x
            if frame.early_stop and frame.recomp_counter[gid] == len(frame.weak_holders):
                raise _StopRecomputationError
            return None

        def unpack_hook(x: Any) -> Tensor:
            raise RuntimeError("torch.utils.checkpoint: the graph recorded while recomputing "
                               "a checkpointed function cannot be differentiated")

        super().__init__(pack_hook, unpack_hook)


class _checkpoint_hook(saved_tensors_hooks):
    """Hooks of the checkpointed forward: every saved tensor becomes a holder; unpacking one
    recomputes when needed and hands over its recomputed tensor."""

    def __init__(self, frame: _CheckpointFrame) -> None:
        def pack_hook(x: Tensor) -> _Holder:
            holder = _Holder()
            frame.weak_holders.append(weakref.ref(holder))
            with no_grad():
                frame.x_metadatas.append(frame.metadata_fn(x))
            if frame.debug_log is not None:
                frame.debug_log.record("forward", x)
            return holder

        def unpack_hook(holder: _Holder) -> Tensor:
            gid = current_graph_task_id()
            if gid == -1:  # outside any backward: a recomputation of its own
                gid = next(_outside_backward_ids)
            if not frame.is_recomputed[gid]:
                frame.recompute(gid)
            if gid not in holder.handles:
                raise CheckpointError(
                    "torch.utils.checkpoint: Unpack is being triggered for a tensor that was not "
                    f"recomputed.\n{_debug_tip_msg}")
            handle = holder.handles[gid]
            if handle is None:
                raise CheckpointError(
                    "torch.utils.checkpoint: Unpack is being triggered for a tensor that was "
                    "already unpacked once. If you are calling ctx.saved_tensors in backward, "
                    "make sure to do so only once. Otherwise please open an issue with details "
                    "on your use case.")
            tensor = frame.recomputed[gid][handle]
            holder.handles[gid] = None
            return tensor

        if frame.unpack_error_cb is not None:
            error_cb = frame.unpack_error_cb

            def unpack_hook_with_error_cb(holder: _Holder) -> Tensor:
                try:
                    return unpack_hook(holder)
                except CheckpointError as error:
                    error_cb(error)

            super().__init__(pack_hook, unpack_hook_with_error_cb)
        else:
            super().__init__(pack_hook, unpack_hook)


class _DebugLog:
    """debug=True: what each saved tensor was (the node that made it, shape, dtype, device)
    and where it was saved, in the forward and in the recomputation."""

    def __init__(self) -> None:
        self.entries: dict[str, list[tuple[str, list[str]]]] = {"forward": [], "recompute": []}

    def record(self, phase: str, x: Tensor) -> None:
        node = x.grad_fn.name() if x.grad_fn is not None else "(no grad_fn)"
        description = f"{node}: shape={tuple(x.shape)}, dtype={x.dtype}, device={x.device}"
        stack = [f"{frame.filename}:{frame.lineno}:{frame.name}"
                 for frame in traceback.extract_stack()[:-2]
                 if "/autodiff/" not in frame.filename.replace("\\", "/")]
        self.entries[phase].append((description, stack))

    def report(self, error: CheckpointError) -> NoReturn:
        def section(phase: str) -> str:
            entries = self.entries[phase]
            lines = []
            for index, (description, stack) in enumerate(entries):
                lines.append(f"{description}   ({index + 1} of {len(entries)} in {phase})")
                lines.extend(stack)
                lines.append("")
            return "\n".join(lines)

        raise CheckpointError(
            "An error happened while unpacking tensors; dumping logs of latest computation "
            "because you passed `debug=True` to `torch.utils.checkpoint.checkpoint()`.\n"
            "1. Tensors saved in the original forward, with the stack that saved each:\n"
            f"{section('forward')}\n"
            "2. Tensors saved during recomputation:\n"
            f"{section('recompute')}\n"
            "ERROR: Detected non-determinism while running activation checkpointing: the "
            "tensors saved during the original forward differ from those saved during "
            f"recomputation.\n{error}") from error



def _checkpoint_without_reentrant_generator(
        fn: Callable[..., Any], preserve_rng_state: bool,
        context_fn: Callable[[], tuple[ContextManager[Any], ContextManager[Any]]],
        determinism_check: str, debug: bool, early_stop: bool, *args: Any,
        **kwargs: Any) -> Generator[None, None, None]:
    """Set up around the forward (first yield), finish after it (second)."""
    debug_log = None
    if _checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
        debug_log = _DebugLog()
    if determinism_check not in _allowed_determinism_checks_to_fns:
        raise ValueError("determinism_check should be one of "
                         f"{list(_allowed_determinism_checks_to_fns.keys())}, but got "
                         f"{determinism_check}")
    metadata_fn = _allowed_determinism_checks_to_fns[determinism_check]
    forward_context, recompute_context = context_fn()
    rng = _RngSnapshot(args) if preserve_rng_state else None

    def recompute_fn(*inputs: Any) -> None:
        replay = rng.replayed() if rng is not None else contextlib.nullcontext()
        with replay, recompute_context:
            fn(*inputs, **kwargs)

    frame = _CheckpointFrame(
        recompute_fn,
        _enable_checkpoint_early_stop if _enable_checkpoint_early_stop is not None
        else early_stop,
        debug_log.report if debug_log is not None else None,
        metadata_fn)
    frame.debug_log = debug_log

    if not grad_state.enabled:  # nothing will be saved: just run the function
        yield
        return
    frame.save_inputs(*args)
    suppressed = False
    with _checkpoint_hook(frame), forward_context:
        try:
            yield
        except BaseException:
            suppressed = True
            raise
    if suppressed:
        raise RuntimeError(
            "torch.utils.checkpoint: the forward context provided by context_fn suppressed an "
            "exception raised during the checkpointed forward. This is not supported because "
            "checkpoint cannot return a value for a failed forward.")
    frame.forward_completed = True


# ----------------------------------------------------------------------------- entry points
def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple[ContextManager[Any], ContextManager[Any]]]
               = noop_context_fn, determinism_check: str = _DEFAULT_DETERMINISM_MODE,
               debug: bool = False, early_stop: bool = True, **kwargs: Any) -> Any:
    """`function(*args, **kwargs)`, keeping only the inputs for backward (see the module's
    docstring). Keywords: `preserve_rng_state` (default True: the recomputation draws the same
    random numbers), `use_reentrant` (pass it: False is recommended), and for
    use_reentrant=False only: `context_fn` (two context managers, for the forward and the
    recomputation), `determinism_check` ("default": shapes, dtypes and devices of the
    recomputed tensors must match; "none"), `debug`, `early_stop`."""
    if use_reentrant is None:
        warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    generator = _checkpoint_without_reentrant_generator(
        function, preserve, context_fn, determinism_check, debug, early_stop, *args, **kwargs)
    next(generator)
    try:
        result = function(*args, **kwargs)
    except BaseException as error:
        try:
            generator.throw(error)
        except StopIteration as stop:
            raise RuntimeError(
                "torch.utils.checkpoint: the forward context provided by context_fn suppressed "
                "an exception raised during the checkpointed forward. This is not supported "
                "because checkpoint cannot return a value for a failed forward.") from stop
        raise
    try:
        next(generator)
    except StopIteration:
        return result
    raise AssertionError("torch.utils.checkpoint: expected context_fn generator to yield "
                         "exactly twice, but it yielded more than twice.")


def checkpoint_sequential(functions: Any, segments: int, input: Tensor,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """Run `functions` (a Sequential or a list of modules/functions) one after another on
    `input`, in `segments` chunks of which all but the last are checkpointed."""
    if use_reentrant is None:
        warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be "
            "passed explicitly. In version 2.9 we will raise an exception if use_reentrant is "
            "not passed. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start: int, end: int, functions: Any) -> Callable[[Any], Any]:
        def forward(input: Any) -> Any:
            for index in range(start, end + 1):
                input = functions[index](input)
            return input
        return forward

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
