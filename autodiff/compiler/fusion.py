"""Cross-entropy fusion (compile's `cross_entropy_fusion` option): a program that has
`cross_entropy`'s forward (`log_softmax` along dim 1 of a 2-D input, then `nll_loss_forward`
with the 'mean' reduction of class indices) runs it as one step, and where it also has its
input gradient (`nll_loss_backward` into `log_softmax_backward`) that runs as one more.

The two steps are the methods of one `CrossEntropyFusion`: the forward keeps on it what the
gradient reads (the safe targets, weights, total: as eager's saved tensors), and the gradient
(`Backend.cross_entropy_backward`) computes exp(log_probs) times each row's coefficient plus
the coefficient at the target, instead of scattering into zeros, summing and then doing the
same: every result is eager's to the bit (`backends/loss_kernels.py` says why). The forward's
mask, cast and weight work falls away where no weight is given and every target is a class
(the usual batch); weights and ignored targets take the general form. Anything else (another
reduction, probabilities as targets, a float16 input computed in float32, a step reading the
intermediate results) keeps the unfused steps.
"""

from __future__ import annotations

from typing import Any

from .program import Program
from .tracing import Ref, Step


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
        log_probs, loss, self.saved = self.backend.cross_entropy_forward(
            x, target, weight, self.rows, self.count, ignore_index=self.ignore_index)
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
    __slots__ = ("backward", "finish", "forward", "gradient", "log_softmax", "view")

    def __init__(self, log_softmax: int, view: int, forward: int) -> None:
        self.log_softmax, self.view, self.forward = log_softmax, view, forward
        self.gradient: int | None = None  # nll_loss_backward's index
        self.finish: int | None = None  # log_softmax_backward's index
        self.backward = False


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
    """log_softmax(x, 1) -> reshape to its own shape -> nll_loss_forward (mean), each read by
    nothing between; then, optionally, the gradient pair."""
    step = steps[index]
    outputs = step.output_ids()
    if (step.kwargs.get("reduction") != "mean" or len(step.args) != 3
            or type(step.args[0]) is not Ref or len(outputs) != 5):
        return None
    view_vid = step.args[0].vid
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
    if backend is None or getattr(log_softmax.function, "__self__", None) is not backend:
        return None
    # The log-probabilities before their view are read by the view alone; the view by
    # nothing before nll_loss (the fused step makes it there).
    if readers.get(log_vid) != [view_index] or any(
            reader < index for reader in readers.get(view_vid, [])):
        return None
    match = _Match(log_index, view_index, index)
    saved = outputs[1:]
    users = {reader for vid in saved for reader in readers.get(vid, [])}
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
    match.gradient, match.finish, match.backward = gradient_index, finish_readers[0], True
    return match


def _replace(program: Program, match: _Match, values: list[Any]) -> None:
    steps = program.steps
    forward = steps[match.forward]
    backend = forward.function.__self__  # type: ignore[attr-defined]
    x = steps[match.log_softmax].args[0]
    fusion = CrossEntropyFusion(backend, forward.kwargs["ignore_index"], values[x.vid])
    view_vid, = steps[match.view].output_ids()
    loss_vid = forward.output_ids()[0]
    fused_forward = Step("cross_entropy_forward", fusion.forward,
                         (x, forward.args[1], forward.args[2]), {}, (view_vid, loss_vid), True)
    replaced = {match.log_softmax: None, match.view: None, match.forward: fused_forward}
    if match.backward:
        assert match.gradient is not None and match.finish is not None
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
