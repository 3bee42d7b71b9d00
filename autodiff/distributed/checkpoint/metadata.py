"""What a checkpoint holds: for each flattened key, a tensor's shape and dtype or a pickled
object; and where each key sits in the nested state dict (planner_data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...dtypes import Size


@dataclass
class TensorStorageMetadata:
    """A saved tensor: its dtype and size (properties holds the dtype, as in PyTorch)."""

    properties: Any
    size: Size


@dataclass
class BytesStorageMetadata:
    """A saved object that is not a tensor (pickled)."""


@dataclass
class Metadata:
    """Every key of a checkpoint; planner_data maps a key to its path in the nested dict."""

    state_dict_metadata: dict[str, TensorStorageMetadata | BytesStorageMetadata]
    planner_data: Any = None
    storage_data: Any = None
    storage_meta: Any = None
    version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
