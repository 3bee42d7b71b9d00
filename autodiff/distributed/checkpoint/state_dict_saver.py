"""save: a state dict (Stateful values asked for theirs) flattened and written to a folder."""

from __future__ import annotations

import os
from typing import Any

from ...tensor import Tensor
from ._flatten import flatten
from ._process import single_process
from .api import CheckpointException, wrap_failure
from .filesystem import FileSystemWriter, storage_for
from .metadata import BytesStorageMetadata, Metadata, TensorStorageMetadata
from .stateful import Stateful


def save(state_dict: dict[str, Any], *, checkpoint_id: str | os.PathLike[str] | None = None,
         storage_writer: Any = None, planner: Any = None, process_group: Any = None,
         no_dist: bool = False, use_collectives: bool = True) -> Metadata:
    """Save `state_dict` into the folder `checkpoint_id` (or through `storage_writer`); each
    Stateful value is saved as its state_dict(). Returns the checkpoint's Metadata."""
    single_process("save", process_group, no_dist)
    if planner is not None:
        raise NotImplementedError("autodiff.distributed.checkpoint has no save planners: "
                                  "pass planner=None")
    writer = storage_for(checkpoint_id, storage_writer, FileSystemWriter)
    state = {key: value.state_dict() if isinstance(value, Stateful) else value
             for key, value in state_dict.items()}
    try:
        leaves, paths = flatten(state)
        entries: dict[str, TensorStorageMetadata | BytesStorageMetadata] = {}
        values: dict[str, Any] = {}
        for key, value in leaves.items():
            if isinstance(value, Tensor):
                entries[key] = TensorStorageMetadata(value.dtype, value.shape)
                values[key] = value.detach()
            else:
                entries[key] = BytesStorageMetadata()
                values[key] = value
        metadata = Metadata(entries, planner_data=paths)
        writer.write(metadata, values)
    except CheckpointException:
        raise
    except Exception as error:
        raise wrap_failure(error) from error
    return metadata
