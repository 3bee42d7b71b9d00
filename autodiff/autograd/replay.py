"""`autograd.graph.replay(loss, device)`: run a recorded forward again on another device and say
where the two devices part.

The forward must be recorded under `autograd.graph.replayable()` (or anomaly mode with it): each
node then keeps its op's arguments (Tensors as the graph edges they came from; leaves and
tensors outside the graph as themselves), options and output arrays (`function.ReplayInputs`).
Replay walks the nodes in creation order, applies each op again on the target device from
copies of the same leaf values, and compares its outputs with the recorded ones. It also runs
the same replay on the source device, and a backward through both replays, keeping every
intermediate gradient, to compare the gradients node by node. The first node whose outputs
differ beyond the tolerance (forward order), else the first whose gradients do (backward
order), is where the devices diverge.

Ops that draw random numbers draw them again, on each device's generator: their outputs differ
by design.
"""

from __future__ import annotations

from typing import Any

from ..function import Function, ReplayArgument
from ..node import AccumulateGrad, Node, anomaly_state
from ..tensor import Tensor, _wrap


class replayable:
    """Context manager: every node recorded inside it keeps what `replay` needs (its inputs,
    options and outputs; memory stays alive with the graph)."""

    def __enter__(self) -> replayable:
        anomaly_state.keep_replay_inputs(1)
        return self

    def __exit__(self, *exc_info: object) -> None:
        anomaly_state.keep_replay_inputs(-1)


class NodeDiff:
    """One node: the largest absolute and relative differences of its outputs (target device
    against the recorded forward) and of the gradients of its outputs (target replay against
    source replay)."""

    def __init__(self, node: Node, label: str) -> None:
        self.node = node
        self.name = node.name()
        self.label = label
        self.output_abs = 0.0
        self.output_rel = 0.0
        self.grad_abs = 0.0
        self.grad_rel = 0.0
        self.output_diverged = False
        self.grad_diverged = False

    def __repr__(self) -> str:
        return (f"NodeDiff({self.label}, output abs {self.output_abs:.3g} rel "
                f"{self.output_rel:.3g}, grad abs {self.grad_abs:.3g} rel {self.grad_rel:.3g})")


class ReplayReport:
    """replay's answer: one NodeDiff per node in forward order, and where they diverge."""

    def __init__(self, source: str, target: str, nodes: list[NodeDiff], atol: float,
                 rtol: float) -> None:
        self.source = source
        self.target = target
        self.nodes = nodes
        self.atol = atol
        self.rtol = rtol

    @property
    def first_divergence(self) -> NodeDiff | None:
        """The first node (forward order) whose outputs diverge; if none, the first node
        (backward order) whose gradients do; None when the devices agree."""
        for diff in self.nodes:
            if diff.output_diverged:
                return diff
        for diff in reversed(self.nodes):
            if diff.grad_diverged:
                return diff
        return None

    def table(self) -> str:
        width = max([len(diff.label) for diff in self.nodes] + [4]) + 2
        lines = [f"replay on {self.target} against {self.source} (atol {self.atol:g}, "
                 f"rtol {self.rtol:g})",
                 f"{'node':<{width}}{'out abs':>11}{'out rel':>11}{'grad abs':>11}"
                 f"{'grad rel':>11}"]
        for diff in self.nodes:
            mark = "  <- diverges" if diff is self.first_divergence else ""
            lines.append(f"{diff.label:<{width}}{diff.output_abs:>11.3g}{diff.output_rel:>11.3g}"
                         f"{diff.grad_abs:>11.3g}{diff.grad_rel:>11.3g}{mark}")
        first = self.first_divergence
        if first is None:
            lines.append("the devices agree within the tolerance")
        elif first.output_diverged:
            lines.append(f"first divergence: {first.label} (its outputs)")
        else:
            lines.append(f"first divergence: {first.label} (the gradient of its outputs, made "
                         "by the backward of the ops that used them)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def replay(loss: Tensor, device: Any = "cpu", atol: float = 1e-6, rtol: float = 1e-5
           ) -> ReplayReport:
    """Run the forward recorded for `loss` again on `device` and compare, node by node, its
    outputs and gradients with the source device's. A difference counts when it exceeds
    `atol + rtol * |source value|`."""
    root = loss.grad_fn
    if root is None:
        raise RuntimeError("replay needs a tensor with a grad_fn (a recorded forward)")
    nodes: list[Function] = []
    for node in sorted(_ops_below(root), key=lambda node: node._sequence_nr):
        if not isinstance(node, Function) or node._replay is None:
            raise RuntimeError(
                f"replay: {node.name()} kept no inputs. Record the forward inside "
                "autodiff.autograd.graph.replayable() (it keeps each node's inputs and outputs "
                "for replay)."
            )
        nodes.append(node)
    labels = _labels(nodes)
    source = loss.device
    on_target = _Replayed(nodes, device)
    on_source = _Replayed(nodes, source)
    diffs = []
    for node in nodes:
        diff = NodeDiff(node, labels[node])
        recorded = node._replay.outputs
        for index, array in enumerate(recorded):
            produced = on_target.outputs[node][index]
            if produced is None:
                continue
            expected = _wrap(array, node.backend)
            absolute, relative, diverged = _compare(expected, produced, atol, rtol)
            diff.output_abs = max(diff.output_abs, absolute)
            diff.output_rel = max(diff.output_rel, relative)
            diff.output_diverged = diff.output_diverged or diverged
        diffs.append(diff)
    target_loss = on_target.output_of(root, loss._output_nr)
    source_loss = on_source.output_of(root, loss._output_nr)
    target_loss.sum().backward()
    source_loss.sum().backward()
    for diff in diffs:
        for reference, replayed in zip(on_source.outputs[diff.node],
                                       on_target.outputs[diff.node]):
            if reference is None or replayed is None or reference.grad is None \
                    or replayed.grad is None:
                continue
            absolute, relative, diverged = _compare(reference.grad, replayed.grad, atol, rtol)
            diff.grad_abs = max(diff.grad_abs, absolute)
            diff.grad_rel = max(diff.grad_rel, relative)
            diff.grad_diverged = diff.grad_diverged or diverged
    return ReplayReport(str(source), str(on_target.device), diffs, atol, rtol)


class _Replayed:
    """The recorded ops applied again on one device, every output retaining its gradient."""

    def __init__(self, nodes: list[Function], device: Any) -> None:
        self.device = device
        self.leaves: dict[int, Tensor] = {}
        self.outputs: dict[Node, list[Tensor | None]] = {}
        for node in nodes:
            inputs = node._replay
            args = [self._argument(arg) for arg in inputs.args]
            result = type(node).apply(*args, **inputs.kwargs)
            results = list(result) if type(result) is tuple else [result]
            for output in results:
                if isinstance(output, Tensor) and output.requires_grad:
                    output.retain_grad()
            self.outputs[node] = [output if isinstance(output, Tensor) else None
                                  for output in results]
        if nodes:
            first = next((o for o in self.outputs[nodes[0]] if o is not None), None)
            if first is not None:
                self.device = first.device

    def output_of(self, node: Node, output_nr: int) -> Tensor:
        output = self.outputs[node][output_nr]
        assert output is not None
        return output

    def _argument(self, arg: Any) -> Any:
        if type(arg) is not ReplayArgument:
            return arg
        if arg.node is not None and arg.node in self.outputs:
            return self.outputs[arg.node][arg.output_nr]
        tensor = arg.tensor
        if tensor._version != arg.version:
            raise RuntimeError(
                "replay: an input of the recorded forward was modified in place after it was "
                f"used (version {tensor._version}, expected {arg.version}); its recorded value "
                "is gone"
            )
        copy = self.leaves.get(id(tensor))
        if copy is None:
            copy = tensor.detach().to(self.device)
            if tensor.requires_grad:
                copy.requires_grad_(True)
            self.leaves[id(tensor)] = copy
        return copy


def _ops_below(root: Node) -> list[Node]:
    """The op nodes of the graph (leaves' AccumulateGrad nodes are not ops)."""
    seen = {root}
    stack = [root]
    found = []
    while stack:
        node = stack.pop()
        if type(node) is not AccumulateGrad:
            found.append(node)
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)
    return found


def _labels(nodes: list[Function]) -> dict[Node, str]:
    counts: dict[str, int] = {}
    labels: dict[Node, str] = {}
    for node in nodes:
        number = counts[node.name()] = counts.get(node.name(), -1) + 1
        labels[node] = f"{node.name()}#{number}"
    return labels


def _compare(expected: Tensor, produced: Tensor, atol: float, rtol: float
             ) -> tuple[float, float, bool]:
    """Largest absolute and relative difference (on the CPU, in float64; NaN against NaN and
    an infinity against the same infinity count as equal) and whether it exceeds the
    tolerance anywhere."""
    if tuple(expected.shape) != tuple(produced.shape):
        return float("inf"), float("inf"), True
    a = expected.detach().to("cpu").double()
    b = produced.detach().to("cpu").double()
    if a.numel() == 0:
        return 0.0, 0.0, False
    same = (a == b) | (a.isnan() & b.isnan())
    difference = (a - b).abs().masked_fill(same, 0.0)
    difference = difference.masked_fill(difference.isnan(), float("inf"))
    scale = a.abs()
    relative = (difference / scale.clamp_min(1e-300)).masked_fill(difference == 0, 0.0)
    diverged = bool((difference > atol + rtol * scale).any().item())
    return float(difference.max().item()), float(relative.max().item()), diverged
