"""Nested state dicts as flat keys, as PyTorch's DCP flattens them: mappings are walked by key,
lists by index when some entry is a mapping or a list to walk (an optimizer's param_groups),
and everything else is a leaf. A key is the path joined by dots; the path itself is kept so
the nested dict can be rebuilt (lists included)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

Path = tuple[str | int, ...]


def _is_leaf(value: Any) -> bool:
    if isinstance(value, Mapping):
        return False
    if not isinstance(value, list):
        return True
    return all(not isinstance(entry, (Mapping, list)) or _is_leaf(entry) for entry in value)


def flatten(state_dict: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Path]]:
    """(key -> leaf, key -> path) of a nested state dict."""
    leaves: dict[str, Any] = {}
    paths: dict[str, Path] = {}

    def visit(path: Path, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, entry in value.items():
                visit((*path, str(key)), entry)
        elif not _is_leaf(value):
            for index, entry in enumerate(value):
                visit((*path, index), entry)
        else:
            key = ".".join(str(part) for part in path)
            leaves[key], paths[key] = value, path

    for key, value in state_dict.items():
        visit((str(key),), value)
    return leaves, paths


def set_element(root: dict[str, Any], path: Path, value: Any) -> None:
    """Put `value` at `path`, making the dicts and lists on the way."""
    container: Any = root
    for part, following in itertools.pairwise(path):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(part, int):
            while len(container) <= part:
                container.append(None)
            if container[part] is None:
                container[part] = empty
        elif part not in container:
            container[part] = empty
        container = container[part]
    last = path[-1]
    if isinstance(last, int):
        while len(container) <= last:
            container.append(None)
    container[last] = value


def unflatten(leaves: Mapping[str, Any], paths: Mapping[str, Path]) -> dict[str, Any]:
    """The nested state dict of flat keys and their paths."""
    root: dict[str, Any] = {}
    for key, value in leaves.items():
        set_element(root, paths[key], value)
    return root
