"""Nested Python containers of tensors (tuples, lists, dicts, named tuples), flattened into a
list of leaves and a spec that rebuilds them: how the transforms accept and return pytrees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TreeSpec:
    """The structure of a pytree: its container type, keys (dicts) and children; a leaf has
    kind None."""

    kind: Any = None
    keys: tuple[Any, ...] = ()
    children: tuple[TreeSpec, ...] = field(default_factory=tuple)

    @property
    def is_leaf(self) -> bool:
        return self.kind is None

    @property
    def num_leaves(self) -> int:
        if self.is_leaf:
            return 1
        return sum(child.num_leaves for child in self.children)

    def __repr__(self) -> str:
        if self.is_leaf:
            return "*"
        name = getattr(self.kind, "__name__", str(self.kind))
        inner = ", ".join(repr(child) for child in self.children)
        return f"TreeSpec({name}, {list(self.keys) if self.keys else None}, [{inner}])"


LEAF = TreeSpec()


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def tree_flatten(tree: Any) -> tuple[list[Any], TreeSpec]:
    leaves: list[Any] = []
    spec = _flatten(tree, leaves)
    return leaves, spec


def _flatten(tree: Any, leaves: list[Any]) -> TreeSpec:
    kind = type(tree)
    if kind is dict:
        keys = tuple(tree)
        return TreeSpec(dict, keys, tuple([_flatten(tree[key], leaves) for key in keys]))
    if kind is tuple or kind is list or _is_namedtuple(tree):
        return TreeSpec(kind, (), tuple([_flatten(item, leaves) for item in tree]))
    leaves.append(tree)
    return LEAF


def tree_unflatten(leaves: list[Any], spec: TreeSpec) -> Any:
    iterator = iter(leaves)
    return _unflatten(iterator, spec)


def _unflatten(leaves: Any, spec: TreeSpec) -> Any:
    if spec.is_leaf:
        return next(leaves)
    children = [_unflatten(leaves, child) for child in spec.children]
    if spec.kind is dict:
        return dict(zip(spec.keys, children))
    if spec.kind is tuple or spec.kind is list:
        return spec.kind(children)
    try:
        return spec.kind(*children)  # a named tuple
    except TypeError:  # autodiff.return_types: made from one sequence, as PyTorch's
        return spec.kind(children)


def tree_map(function: Any, tree: Any) -> Any:
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([function(leaf) for leaf in leaves], spec)


def broadcast_prefix(prefix: Any, tree: Any, spec: TreeSpec | None = None) -> list[Any] | None:
    """`prefix` (a leaf standing for a whole subtree, or a tree of the same structure as a
    prefix of `tree`) as one value per leaf of `tree`; None when the structures differ."""
    if spec is None:
        _, spec = tree_flatten(tree)
    out: list[Any] = []
    return out if _broadcast(prefix, spec, out) else None


def _broadcast(prefix: Any, spec: TreeSpec, out: list[Any]) -> bool:
    prefix_is_container = _is_namedtuple(prefix) or type(prefix) in (tuple, list, dict)
    if not prefix_is_container:
        out.extend([prefix] * spec.num_leaves)
        return True
    if spec.is_leaf:
        return False
    if type(prefix) is dict:
        if spec.kind is not dict or set(prefix) != set(spec.keys):
            return False
        return all(_broadcast(prefix[key], child, out)
                   for key, child in zip(spec.keys, spec.children))
    if (type(prefix) is not spec.kind and not (type(prefix) in (tuple, list)
                                              and spec.kind in (tuple, list))) \
            or len(prefix) != len(spec.children):
        return False
    return all(_broadcast(item, child, out) for item, child in zip(prefix, spec.children))
