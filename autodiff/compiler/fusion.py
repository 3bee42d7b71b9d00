"""Cross-entropy fusion (compile's `cross_entropy_fusion` option): a program that has
`cross_entropy`'s forward (`log_softmax` along dim 1 of a 2-D input; nll_loss's check of its
targets, the guard on it and `nll_loss_forward` with the 'mean' reduction) runs it as one
step, and where it also has its input gradient (`nll_loss_backward` into
`log_softmax_backward`) that runs as one more.

The two steps are the methods of one `CrossEntropyFusion`: the forward keeps on it what the
gradient reads (the safe targets, weights, total: as eager's saved tensors) and stands for the
guard (a target out of range fails it, at the guard's place, so the replay puts back what it
must and runs eagerly, which raises eager's error); the gradient
(`Backend.cross_entropy_backward`) computes exp(log_probs) times each row's coefficient plus
the coefficient at the target, instead of scattering into zeros, summing and then doing the
same: every result is eager's to the bit (`backends/loss_kernels.py` says why). The forward's
mask, cast and weight work falls away where no weight is given and every target is a class
(the usual batch); weights and ignored targets take the general form. Anything else (another
reduction, probabilities as targets, label smoothing, a float16 input computed in float32, a
step reading the intermediate results) keeps the unfused steps.
"""

from __future__ import annotations

from typing import Any

from .program import Program
from .tracing import GuardFailed, Ref, Step


class CrossEntropyFusion:
    """One cross_entropy of a program: its forward and gradient steps, and what the forward
    leaves for the gradient between the two (per replay)."""

    __slots__ = ("backend", "count", "ignore_index", "rows", "saved")

    def __init__(self, backend: Any, ignore_index: int, x: Any) -> None:
        self.backend = backend
        self.ignore_index = ignore_index
        size = x.shape[0]
        self.rows = backend.arange(0, size, 1, "int64")  # (read only, never handed out)
        self.count = backend.full((), float(size), backend.dtype_name(x))
        self.saved: tuple[Any, ...] = ()

    def forward(self, x: Any, target: Any, weight: Any) -> tuple[Any, Any]:
        log_probs, loss, saved = self.backend.cross_entropy_forward(
            x, target, weight, self.rows, self.count, ignore_index=self.ignore_index)
        if saved is None:  # a target out of range: the guard the fused step stands for
            raise GuardFailed
        self.saved = saved
        return log_probs, loss

    def backward(self, grad: Any, log_probs: Any) -> Any:
        return self.backend.cross_entropy_backward(grad, log_probs, self.rows, *self.saved)


def fuse_cross_entropy(program: Program, values: list[Any]) -> None:
    """Replace each cross_entropy found (see the module docstring) by its fused steps."""
    while True:
        match = _find(program.steps, values)
        if match is None:
            return
        _replace(program, match, values)
        program.fused += 1


class _Match:
    """The indices of a cross_entropy's steps in a program."""

    __slots__ = ("finish", "forward", "gradient", "guard", "log_softmax", "targets", "view")

    def __init__(self, log_softmax: int, view: int, targets: int, guard: int,
                 forward: int) -> None:
        self.log_softmax, self.view, self.forward = log_softmax, view, forward
        self.targets, self.guard = targets, guard
        self.gradient: int | None = None  # nll_loss_backward's index
        self.finish: int | None = None  # log_softmax_backward's index


def _readers(steps: list[Step]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for index, step in enumerate(steps):
        for vid in step.uses():
            found.setdefault(vid, []).append(index)
    return found


def _find(steps: list[Step], values: list[Any]) -> _Match | None:
    producers = {vid: index for index, step in enumerate(steps) for vid in step.output_ids()}
    readers = _readers(steps)
    for index, step in enumerate(steps):
        if step.name != "nll_loss_forward" or type(step.outputs) is not tuple:
            continue
        match = _forward_match(steps, values, producers, readers, index)
        if match is not None:
            return match
    return None


def _forward_match(steps: list[Step], values: list[Any], producers: dict[int, int],
                   readers: dict[int, list[int]], index: int) -> _Match | None:
    """log_softmax(x, 1) -> reshape to its own shape; nll_loss_targets -> its guard ->
    nll_loss_forward (mean) right after; then, optionally, the gradient pair."""
    step = steps[index]
    outputs = step.output_ids()
    if (step.kwargs.get("reduction") != "mean" or len(step.args) != 4 or len(outputs) != 3
            or any(type(item) is not Ref for item in step.args[:3])):
        return None
    view_vid, safe_vid, valid_vid = (item.vid for item in step.args[:3])
    # The targets' check and its guard, right before (nothing runs between the guard and
    # the step that replaces it).
    targets_index, guard_index = index - 2, index - 1
    if targets_index < 0:
        return None
    targets, guard = steps[targets_index], steps[guard_index]
    if (targets.name != "nll_loss_targets" or targets.output_ids()[:2] != (valid_vid, safe_vid)
            or len(targets.args) != 1 or type(targets.args[0]) is not Ref
            or guard.name != "guard" or getattr(guard.function, "expected", None) is not False
            or type(guard.args[0]) is not Ref or guard.args[0].vid != targets.output_ids()[2]
            or readers.get(guard.args[0].vid) != [guard_index]):
        return None
    view_index = producers.get(view_vid)
    if view_index is None:
        return None
    view = steps[view_index]
    if view.name != "reshape" or type(view.args[0]) is not Ref:
        return None
    log_vid = view.args[0].vid
    log_index = producers.get(log_vid)
    if log_index is None:
        return None
    log_softmax = steps[log_index]
    if (log_softmax.name != "log_softmax" or len(log_softmax.args) != 2 or log_softmax.kwargs
            or type(log_softmax.args[0]) is not Ref or log_softmax.args[1] not in (1, -1)):
        return None
    x = values[log_softmax.args[0].vid]
    if getattr(x, "ndim", None) != 2 or tuple(values[view_vid].shape) != tuple(x.shape):
        return None
    backend = getattr(step.function, "__self__", None)
    if backend is None or any(getattr(other.function, "__self__", None) is not backend
                              for other in (log_softmax, targets)):
        return None
    # The log-probabilities before their view are read by the view alone; the view by
    # nothing before nll_loss (the fused step makes it there).
    if readers.get(log_vid) != [view_index] or any(
            reader < index for reader in readers.get(view_vid, [])):
        return None
    match = _Match(log_index, view_index, targets_index, guard_index, index)
    scale_vid, total_vid = outputs[1:]
    saved = (safe_vid, scale_vid, valid_vid, total_vid)  # nll_loss_backward's order
    users = {reader for vid in saved for reader in readers.get(vid, [])} - {index}
    if not users:
        return match  # the forward alone (no gradient taken in the program)
    if len(users) != 1:
        return None
    gradient_index = users.pop()
    gradient = steps[gradient_index]
    if (gradient.name != "nll_loss_backward" or gradient.kwargs.get("axis") != 1
            or len(gradient.args) != 5 or type(gradient.outputs) is not int
            or any(type(item) is not Ref or item.vid != vid
                   for item, vid in zip(gradient.args[1:], saved))):
        return None
    finish_readers = readers.get(gradient.outputs, [])
    if len(finish_readers) != 1:
        return None
    finish = steps[finish_readers[0]]
    if (finish.name != "log_softmax_backward" or len(finish.args) != 3 or finish.kwargs
            or type(finish.args[0]) is not Ref or finish.args[0].vid != gradient.outputs
            or type(finish.args[1]) is not Ref or finish.args[1].vid != view_vid
            or finish.args[2] not in (1, -1) or type(finish.outputs) is not int):
        return None
    match.gradient, match.finish = gradient_index, finish_readers[0]
    return match


def _replace(program: Program, match: _Match, values: list[Any]) -> None:
    steps = program.steps
    forward = steps[match.forward]
    backend = forward.function.__self__  # type: ignore[attr-defined]
    x = steps[match.log_softmax].args[0]
    targets = steps[match.targets]
    fusion = CrossEntropyFusion(backend, targets.kwargs["ignore_index"], values[x.vid])
    view_vid, = steps[match.view].output_ids()
    loss_vid = forward.output_ids()[0]
    fused_forward = Step("cross_entropy_forward", fusion.forward,
                         (x, targets.args[0], forward.args[3]), {}, (view_vid, loss_vid), False)
    replaced = {match.log_softmax: None, match.view: None, match.targets: None,
                match.guard: None, match.forward: fused_forward}
    if match.gradient is not None and match.finish is not None:
        grad = steps[match.gradient].args[0]
        finish = steps[match.finish]
        replaced[match.gradient] = None
        replaced[match.finish] = Step("cross_entropy_backward", fusion.backward,
                                      (grad, Ref(view_vid)), {}, finish.outputs, True)
    kept = []
    for index, step in enumerate(steps):
        if index in replaced:
            new = replaced[index]
            if new is not None:
                kept.append(new)
        else:
            kept.append(step)
    program.steps = kept
