"""torch.fx.subgraph_rewriter.replace_pattern: find each occurrence of a pattern (a function
or GraphModule, traced) in a GraphModule's graph and replace it with a replacement's nodes.

A match maps each pattern node to a graph node of the same op and target with matching
arguments; the pattern's placeholders match anything. A match whose inner nodes (all but its
outputs) are used outside it is dropped, as are matches overlapping an earlier one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ._symbolic_trace import symbolic_trace
from .graph import Graph
from .graph_module import GraphModule
from .node import Node

__all__ = ["Match", "ReplacedPatterns", "replace_pattern"]


class Match(NamedTuple):
    anchor: Node  # the pattern's node the match was anchored at (what it returns)
    nodes_map: dict[Node, Node]  # pattern node -> graph node


@dataclass
class ReplacedPatterns:
    anchor: Node
    nodes_map: dict[Node, Node]
    replacements: list[Node]


@dataclass
class _InternalMatch:
    anchors: list[Node]
    nodes_map: dict[Node, Any] = field(default_factory=dict)
    placeholder_nodes: list[Any] = field(default_factory=list)
    returning_nodes: list[Node] = field(default_factory=list)


class _SubgraphMatcher:
    """Finds the pattern's occurrences, anchored at the nodes the pattern returns."""

    def __init__(self, pattern: Graph) -> None:
        self.pattern = pattern
        output_node = next(iter(reversed(pattern.nodes)))
        assert output_node.op == "output"
        self.pattern_placeholders = [n for n in pattern.nodes if n.op == "placeholder"]
        self.pattern_returning_nodes = list(output_node.all_input_nodes)
        # anchors: the returned nodes that no other returned node depends on
        self.pattern_anchors = [n for n in self.pattern_returning_nodes
                                if len(n.users) == 1]

    def _nodes_are_equal(self, pn: Node, gn: Node) -> bool:
        if pn.op == "placeholder":
            return True
        if pn.op != gn.op:
            return False
        if pn.op == "get_attr":
            owner_p = pn.graph.owning_module
            owner_g = gn.graph.owning_module
            if owner_p is None or owner_g is None:
                return pn.target == gn.target
            return type(_fetch(owner_p, pn.target)) is type(_fetch(owner_g, gn.target))
        return pn.target == gn.target

    def _match_literals(self, pn: Any, gn: Any, match: _InternalMatch) -> bool:
        if isinstance(pn, Node) and pn.op == "placeholder":
            if pn in match.nodes_map:
                return match.nodes_map[pn] == gn
            match.nodes_map[pn] = gn
            return True
        if isinstance(pn, Node) or isinstance(gn, Node):
            return False
        return type(gn) is type(pn) and gn == pn

    def _match_nodes(self, pn: Node, gn: Node, match: _InternalMatch) -> bool:
        if pn in match.nodes_map:
            return match.nodes_map[pn] is gn
        if any(gn is matched for matched in match.nodes_map.values()):
            return False  # a graph node stands for one pattern node
        if not self._nodes_are_equal(pn, gn):
            return False
        saved = copy.copy(match.nodes_map)
        match.nodes_map[pn] = gn
        if pn.op == "placeholder":
            return True

        def match_args(args1: Any, args2: Any) -> bool:
            if len(args1) != len(args2):
                return False
            for a1, a2 in zip(args1, args2):
                if isinstance(a1, Node) and isinstance(a2, Node):
                    matched = self._match_nodes(a1, a2, match)
                elif isinstance(a1, (list, tuple)) and isinstance(a2, (list, tuple)):
                    matched = match_args(a1, a2)
                else:
                    matched = self._match_literals(a1, a2, match)
                if not matched:
                    return False
            return True

        found = match_args(pn.args, gn.args) and \
            list(pn.kwargs) == list(gn.kwargs) and \
            match_args(list(pn.kwargs.values()), list(gn.kwargs.values()))
        if not found:
            match.nodes_map = saved
        return found

    def _is_contained(self, nodes_map: dict[Node, Any]) -> bool:
        lookup = {gn: pn for pn, gn in nodes_map.items()
                  if pn.op != "placeholder" and isinstance(gn, Node)}
        for gn, pn in lookup.items():
            if pn in self.pattern_returning_nodes:
                continue
            for user in gn.users:
                if user not in lookup:
                    return False
        return True

    def match(self, graph: Graph) -> list[_InternalMatch]:
        candidates = {anchor: [n for n in graph.nodes if self._nodes_are_equal(anchor, n)]
                      for anchor in self.pattern_anchors}
        matches: list[_InternalMatch] = []

        def backtrack(index: int, match: _InternalMatch) -> None:
            if index == len(self.pattern_anchors):
                match.placeholder_nodes = [match.nodes_map[pn]
                                           for pn in self.pattern_placeholders]
                match.returning_nodes = [match.nodes_map[pn]
                                         for pn in self.pattern_returning_nodes]
                matches.append(match)
                return
            anchor = self.pattern_anchors[index]
            for node in candidates[anchor]:
                attempt = copy.copy(match)
                attempt.nodes_map = copy.copy(match.nodes_map)
                if self._match_nodes(anchor, node, attempt):
                    backtrack(index + 1, attempt)

        backtrack(0, _InternalMatch(anchors=self.pattern_anchors))
        matches = [m for m in matches if self._is_contained(m.nodes_map)]
        # drop matches that share a (non-placeholder) node with an earlier one
        kept: list[_InternalMatch] = []
        used: set[Node] = set()
        for m in matches:
            inner = {gn for pn, gn in m.nodes_map.items()
                     if pn.op != "placeholder" and isinstance(gn, Node)}
            if inner & used:
                continue
            used |= inner
            kept.append(m)
        return kept


def _fetch(module: Any, target: str) -> Any:
    for atom in target.split("."):
        module = getattr(module, atom, None)
    return module


def _replace_attributes(gm: GraphModule, replacement: Any) -> None:
    """Give `gm` the submodules and attributes the replacement's nodes read."""
    gm.delete_all_unused_submodules()
    if isinstance(replacement, GraphModule):
        replacement.graph.lint()

    def try_get_attr(module: Any, target: str) -> Any:
        module_path, _, attr_name = target.rpartition(".")
        try:
            module = module.get_submodule(module_path)
        except AttributeError:
            return None
        return getattr(module, attr_name, None)

    from autodiff.nn import Module
    for node in gm.graph.nodes:
        if node.op in ("call_module", "get_attr"):
            if try_get_attr(gm, node.target) is not None:
                continue
            replacement_attr = try_get_attr(replacement, node.target)
            if replacement_attr is None:
                raise RuntimeError(f'Attempted to create a "{node.op}" node during subgraph '
                                   f"rewriting with target {node.target}, but the referenced "
                                   "attribute does not exist in the replacement GraphModule")
            new_attr = copy.deepcopy(replacement_attr)
            if isinstance(replacement_attr, Module):
                gm.add_submodule(node.target, new_attr)
            else:
                setattr(gm, node.target, new_attr)
    gm.graph.lint()


def replace_pattern(gm: GraphModule, pattern: Callable[..., Any] | GraphModule,
                    replacement: Callable[..., Any] | GraphModule) -> list[Match]:
    """Replace every occurrence of `pattern`'s graph in `gm.graph` with `replacement`'s,
    wiring the replacement's placeholders to what the pattern's matched; returns the
    matches. `gm` is recompiled."""
    return [Match(anchor=m.anchor, nodes_map=m.nodes_map)
            for m in _replace_pattern(gm, pattern, replacement)]


def _replace_pattern(gm: GraphModule, pattern: Any, replacement: Any) -> list[ReplacedPatterns]:
    original_graph = gm.graph
    pattern_graph = pattern.graph if isinstance(pattern, GraphModule) else \
        pattern if isinstance(pattern, Graph) else symbolic_trace(pattern).graph
    replacement_graph = replacement.graph if isinstance(replacement, GraphModule) else \
        replacement if isinstance(replacement, Graph) else symbolic_trace(replacement).graph
    matches = _SubgraphMatcher(pattern_graph).match(original_graph)

    # a node replaced by an earlier match is used in its replacement's place
    match_changed_node: dict[Node, Node] = {}
    results = []
    replacement_placeholders = [n for n in replacement_graph.nodes if n.op == "placeholder"]
    for match in matches:
        assert len(match.placeholder_nodes) == len(replacement_placeholders)
        val_map: dict[Node, Any] = {}
        for rn, gn in zip(replacement_placeholders, match.placeholder_nodes):
            if isinstance(gn, Node):
                val_map[rn] = match_changed_node.get(gn, gn)
                if gn is not val_map[rn]:
                    index = match.placeholder_nodes.index(gn)
                    match.placeholder_nodes[index] = match_changed_node[gn]
                    for key, value in list(match.nodes_map.items()):
                        if value is gn:
                            match.nodes_map[key] = match_changed_node[gn]
                            break
            else:
                val_map[rn] = gn

        # the replacement goes before the first user of what the pattern returns (or just
        # after the last returned node when nothing uses it)
        user_nodes: set[Node] = set()
        for n in match.returning_nodes:
            user_nodes.update(n.users)
        insert_point = next((n for n in original_graph.nodes if n in user_nodes), None)
        if insert_point is None:
            next_node = None
            for n in reversed(original_graph.nodes):
                if n in match.returning_nodes:
                    insert_point = next_node
                    break
                next_node = n
        assert insert_point is not None, "The insert point can't be None"
        with original_graph.inserting_before(insert_point):
            copied_returning_nodes = original_graph.graph_copy(replacement_graph, val_map)
        if isinstance(copied_returning_nodes, Node):
            copied_returning_nodes = (copied_returning_nodes,)
        replacement_nodes = [v for v in val_map.values() if v not in match.placeholder_nodes]
        assert len(match.returning_nodes) == len(copied_returning_nodes)
        for gn, copied_node in zip(match.returning_nodes, copied_returning_nodes):
            gn.replace_all_uses_with(copied_node)
            match_changed_node[gn] = copied_node
        for node in reversed(pattern_graph.nodes):
            if node.op not in ("placeholder", "output"):
                gm.graph.erase_node(match.nodes_map[node])
        results.append(ReplacedPatterns(anchor=match.anchors[0], nodes_map=match.nodes_map,
                                        replacements=replacement_nodes))
    gm.recompile()
    from autodiff.nn import Module
    if isinstance(replacement, Module):
        _replace_attributes(gm, replacement)
    return results
