"""torch.fx.experimental.optimization's graph passes for inference: `fuse` folds each batch
norm into the convolution or linear layer that alone feeds it; `remove_dropout` drops the
Dropout modules."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from autodiff import nn
from autodiff.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from .. import GraphModule, Node, Transformer, symbolic_trace

__all__ = ["fuse", "matches_module_pattern", "remove_dropout", "replace_node_module"]

_PATTERNS = [(nn.Conv1d, nn.BatchNorm1d), (nn.Conv2d, nn.BatchNorm2d),
             (nn.Conv3d, nn.BatchNorm3d), (nn.Linear, nn.BatchNorm1d)]


def _parent_name(target: str) -> tuple[str, str]:
    """"a.b.c" -> ("a.b", "c")."""
    *parent, name = target.rsplit(".", 1)
    return parent[0] if parent else "", name


def matches_module_pattern(pattern: Iterable[type], node: Node,
                           modules: dict[str, nn.Module]) -> bool:
    """Whether `node` and its first argument call modules of exactly the pattern's two types
    (the argument's first)."""
    if len(node.args) == 0:
        return False
    for expected, current in zip(pattern, (node.args[0], node)):
        if not isinstance(current, Node) or current.op != "call_module":
            return False
        if not isinstance(current.target, str) or current.target not in modules:
            return False
        if type(modules[current.target]) is not expected:
            return False
    return True


def replace_node_module(node: Node, modules: dict[str, nn.Module],
                        new_module: nn.Module) -> None:
    """Put `new_module` where the module `node` calls sits (in `modules` and its parent)."""
    if not isinstance(node.target, str):
        raise AssertionError(f"Expected str target, got {type(node.target)}")
    parent_name, name = _parent_name(node.target)
    modules[node.target] = new_module
    setattr(modules[parent_name], name, new_module)


def fuse(model: nn.Module, inplace: bool = False, no_trace: bool = False) -> GraphModule:
    """Conv/BatchNorm and Linear/BatchNorm1d pairs folded into one layer, for inference (eval
    mode). The model is deep-copied unless inplace; a GraphModule is traced again unless
    no_trace."""
    if not inplace:
        model = copy.deepcopy(model)
    traced = model if no_trace and isinstance(model, GraphModule) else symbolic_trace(model)
    modules = dict(traced.named_modules())
    graph = copy.deepcopy(traced.graph)
    for pattern in _PATTERNS:
        for node in graph.nodes:
            if not matches_module_pattern(pattern, node, modules):
                continue
            first = node.args[0]
            if len(first.users) > 1:  # the layer's output is used elsewhere too
                continue
            bn = modules[node.target]
            if not bn.track_running_stats:
                continue
            layer = modules[first.target]
            fused = fuse_linear_bn_eval(layer, bn) if pattern[0] is nn.Linear \
                else fuse_conv_bn_eval(layer, bn)
            replace_node_module(first, modules, fused)
            node.replace_all_uses_with(first)
            graph.erase_node(node)
    return GraphModule(traced, graph)


def remove_dropout(model: nn.Module) -> nn.Module:
    """The model traced, with each Dropout module's call replaced by its input."""

    class DropoutRemover(Transformer):
        def call_module(self, target: Any, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> Any:
            if isinstance(self.submodules[target], nn.Dropout):
                if len(args) != 1:
                    raise AssertionError(f"Expected 1 arg for Dropout, got {len(args)}")
                return args[0]
            return super().call_module(target, args, kwargs)

    return DropoutRemover(symbolic_trace(model)).transform()
