"""save and async_save: a state dict (Stateful values asked for theirs) flattened and written to
a folder, by this thread or by one of its own."""

from __future__ import annotations

import copy as copy_module
import os
from concurrent.futures import Future, ThreadPoolExecutor
from enum import Enum
from typing import Any

from ...tensor import Tensor
from ._flatten import flatten
from ._process import single_process
from .api import CheckpointException, wrap_failure
from .filesystem import FileSystemWriter, storage_for
from .metadata import BytesStorageMetadata, Metadata, TensorStorageMetadata
from .stateful import Stateful


class AsyncCheckpointerType(Enum):
    """Where async_save writes: a thread of this process (a separate process is refused)."""

    THREAD = "thread"
    PROCESS = "process"


def save(state_dict: dict[str, Any], *, checkpoint_id: str | os.PathLike[str] | None = None,
         storage_writer: Any = None, planner: Any = None, process_group: Any = None,
         no_dist: bool = False, use_collectives: bool = True) -> Metadata:
    """Save `state_dict` into the folder `checkpoint_id` (or through `storage_writer`); each
    Stateful value is saved as its state_dict(). Returns the checkpoint's Metadata."""
    single_process("save", process_group, no_dist)
    writer = _writer(checkpoint_id, storage_writer, planner)
    metadata, values = _staged(state_dict, copy=False)
    return _write(writer, metadata, values)


def async_save(state_dict: dict[str, Any], *,
               checkpoint_id: str | os.PathLike[str] | None = None, storage_writer: Any = None,
               planner: Any = None, process_group: Any = None,
               async_checkpointer_type: AsyncCheckpointerType = AsyncCheckpointerType.THREAD,
               async_stager: Any = None, no_dist: bool = False,
               use_collectives: bool = True) -> Future[Metadata]:
    """save, with the writing in a thread: the state is copied to the CPU first (training may
    change the tensors at once); the Future's result is the Metadata, or raises the failure."""
    single_process("save", process_group, no_dist)
    if async_checkpointer_type is not AsyncCheckpointerType.THREAD:
        raise NotImplementedError("autodiff.distributed.checkpoint.async_save writes in a "
                                  "thread only: pass AsyncCheckpointerType.THREAD")
    if async_stager is not None:
        raise NotImplementedError("autodiff.distributed.checkpoint has no async stagers: "
                                  "pass async_stager=None")
    writer = _writer(checkpoint_id, storage_writer, planner)
    metadata, values = _staged(state_dict, copy=True)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="async_save")
    future = executor.submit(_write, writer, metadata, values)
    executor.shutdown(wait=False)
    return future


def _writer(checkpoint_id: Any, storage_writer: Any, planner: Any) -> Any:
    if planner is not None:
        raise NotImplementedError("autodiff.distributed.checkpoint has no save planners: "
                                  "pass planner=None")
    return storage_for(checkpoint_id, storage_writer, FileSystemWriter)


def _staged(state_dict: dict[str, Any], copy: bool) -> tuple[Metadata, dict[str, Any]]:
    """The checkpoint's metadata and flat values; with `copy`, each tensor a CPU copy."""
    state = {key: value.state_dict() if isinstance(value, Stateful) else value
             for key, value in state_dict.items()}
    try:
        leaves, paths = flatten(state)
        entries: dict[str, TensorStorageMetadata | BytesStorageMetadata] = {}
        values: dict[str, Any] = {}
        for key, value in leaves.items():
            if isinstance(value, Tensor):
                entries[key] = TensorStorageMetadata(value.dtype, value.shape)
                values[key] = value.detach().to("cpu", copy=True) if copy else value.detach()
            else:
                entries[key] = BytesStorageMetadata()
                values[key] = copy_module.deepcopy(value) if copy else value
    except Exception as error:
        raise wrap_failure(error) from error
    return Metadata(entries, planner_data=paths), values


def _write(writer: Any, metadata: Metadata, values: dict[str, Any]) -> Metadata:
    try:
        writer.write(metadata, values)
    except CheckpointException:
        raise
    except Exception as error:
        raise wrap_failure(error) from error
    return metadata
