"""Nested Python containers of tensors (tuples, lists, dicts, named tuples), flattened into a
list of leaves and a spec that rebuilds them: how the transforms accept and return pytrees."""

from __future__ import annotations

from typing import Any


class TreeSpec:
    """The structure of a pytree: its container type, keys (dicts) and children; a leaf has
    kind None. Specs compare equal when the structures are the same."""

    __slots__ = ("children", "flat", "keys", "kind", "num_leaves")

    num_leaves: int
    flat: bool

    def __init__(self, kind: Any = None, keys: tuple[Any, ...] = (),
                 children: tuple[TreeSpec, ...] = ()) -> None:
        self.kind = kind
        self.keys = keys
        self.children = children
        # counted once: the transforms ask it of every spec they broadcast a prefix over
        if kind is None:
            self.num_leaves, self.flat = 1, False
            return
        count, flat = 0, True
        for child in children:  # a loop, no call: every flatten makes specs
            count += child.num_leaves
            if child.kind is not None:
                flat = False
        self.num_leaves, self.flat = count, flat

    @property
    def is_leaf(self) -> bool:
        return self.kind is None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TreeSpec):
            return NotImplemented
        return (self.kind is other.kind or self.kind == other.kind) and \
            self.keys == other.keys and self.children == other.children

    def __hash__(self) -> int:
        return hash((self.kind, self.keys, self.children))

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
    if not (kind is dict or kind is tuple or kind is list or _is_namedtuple(tree)):
        leaves.append(tree)
        return LEAF
    items = [tree[key] for key in tree] if kind is dict else tree
    children = []
    for item in items:  # leaves inline: most containers hold only tensors
        item_kind = type(item)
        if item_kind is dict or item_kind is tuple or item_kind is list or \
                (isinstance(item, tuple) and hasattr(item, "_fields")):
            children.append(_flatten(item, leaves))
        else:
            leaves.append(item)
            children.append(LEAF)
    return TreeSpec(kind, tuple(tree) if kind is dict else (), tuple(children))


def tree_unflatten(leaves: Any, spec: TreeSpec) -> Any:
    if type(leaves) is not list and type(leaves) is not tuple:
        leaves = list(leaves)  # any iterable of leaves
    if spec.kind is None:
        return leaves[0]
    out, _ = _unflatten(leaves, 0, spec)
    return out


def _unflatten(leaves: list[Any], start: int, spec: TreeSpec) -> tuple[Any, int]:
    """The tree of `spec` from the leaves from `start` on, and the index after its last."""
    if spec.kind is None:
        return leaves[start], start + 1
    if spec.flat:  # a container of leaves only
        stop = start + spec.num_leaves
        children = leaves[start:stop]
        start = stop
    else:
        children = []
        for child in spec.children:
            value, start = _unflatten(leaves, start, child)
            children.append(value)
    kind = spec.kind
    if kind is dict:
        return dict(zip(spec.keys, children)), start
    if kind is tuple or kind is list:
        return kind(children), start
    try:
        return kind(*children), start  # a named tuple
    except TypeError:  # autodiff.return_types: made from one sequence, as PyTorch's
        return kind(children), start


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
    kind = type(prefix)
    if not (kind is tuple or kind is list or kind is dict or _is_namedtuple(prefix)):
        if spec.kind is None:
            out.append(prefix)
        else:
            out.extend([prefix] * spec.num_leaves)
        return True
    if spec.kind is None:
        return False
    if kind is dict:
        if spec.kind is not dict or set(prefix) != set(spec.keys):
            return False
        for key, child in zip(spec.keys, spec.children):
            if not _broadcast(prefix[key], child, out):
                return False
        return True
    if (kind is not spec.kind and not (kind in (tuple, list) and spec.kind in (tuple, list))) \
            or len(prefix) != len(spec.children):
        return False
    for item, child in zip(prefix, spec.children):  # noqa: SIM110 (no generator per call)
        if not _broadcast(item, child, out):
            return False
    return True
