"""load: a checkpoint read into a state dict in place: its tensors are filled (copy_), its
other values replaced, and each Stateful value given its loaded state (load_state_dict)."""

from __future__ import annotations

import os
from typing import Any

from ... import grad_mode
from ...tensor import Tensor
from ._flatten import flatten, set_element
from ._process import single_process
from .api import CheckpointException, wrap_failure
from .filesystem import FileSystemReader, storage_for
from .metadata import TensorStorageMetadata
from .stateful import Stateful


def load(state_dict: dict[str, Any], *, checkpoint_id: str | os.PathLike[str] | None = None,
         storage_reader: Any = None, planner: Any = None, process_group: Any = None,
         no_dist: bool = False) -> None:
    """Load the checkpoint in the folder `checkpoint_id` (or through `storage_reader`) into
    `state_dict`, in place. Every key of `state_dict` must be in the checkpoint; keys only in
    the checkpoint are left out."""
    single_process("load", process_group, no_dist)
    if planner is not None:
        raise NotImplementedError("autodiff.distributed.checkpoint has no load planners: "
                                  "pass planner=None")
    reader = storage_for(checkpoint_id, storage_reader, FileSystemReader)
    keys = sorted(state_dict)
    state = {key: state_dict[key].state_dict() if isinstance(state_dict[key], Stateful)
             else state_dict[key] for key in keys}
    try:
        _load_into(state, reader)
    except CheckpointException:
        raise
    except Exception as error:
        raise wrap_failure(error) from error
    for key in keys:
        if isinstance(state_dict[key], Stateful):
            state_dict[key].load_state_dict(state[key])
        else:
            state_dict[key] = state[key]


def _load_into(state: dict[str, Any], reader: Any) -> None:
    metadata = reader.read_metadata()
    saved = metadata.state_dict_metadata
    leaves, paths = flatten(state)
    for key, target in leaves.items():  # every key checked before anything is changed
        if key not in saved:
            raise RuntimeError(f"Missing key in checkpoint state_dict: {key}.")
        entry = saved[key]
        if isinstance(entry, TensorStorageMetadata) and isinstance(target, Tensor) \
                and entry.size != target.size():
            raise ValueError(f"Size mismatch between saved {entry.size} and current: "
                             f"{target.size()} for {key}")
    values = reader.read_data()
    with grad_mode.no_grad():
        for key, target in leaves.items():
            value = values[key]
            if isinstance(target, Tensor) and isinstance(value, Tensor):
                target.copy_(value)
            else:
                set_element(state, paths[key], value)
