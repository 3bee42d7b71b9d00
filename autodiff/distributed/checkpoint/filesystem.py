"""A checkpoint's folder: `.metadata` (the pickled Metadata) and `__0_0.distcp` (the values of
this process, written by autodiff.save)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from ... import serialization
from .metadata import Metadata

METADATA_FILE = ".metadata"
DATA_FILE = "__0_0.distcp"  # rank 0, file 0: one process writes one file


class FileSystemWriter:
    """Writes a checkpoint into the folder `path` (made if missing). sync_files: fsync each
    file once written; overwrite=False: refuse a folder that already holds a checkpoint."""

    def __init__(self, path: str | os.PathLike[str], *, sync_files: bool = True,
                 overwrite: bool = True) -> None:
        self.path = Path(path)
        self.sync_files = sync_files
        self.overwrite = overwrite

    def write(self, metadata: Metadata, values: dict[str, Any]) -> None:
        if (self.path / METADATA_FILE).exists() and not self.overwrite:
            raise RuntimeError(f"Checkpoint already exists and self.overwrite={self.overwrite}.")
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / DATA_FILE, "wb") as stream:
            serialization.save(values, stream)
            self._sync(stream)
        # the metadata last: a folder with it holds a whole checkpoint
        with open(self.path / METADATA_FILE, "wb") as stream:
            pickle.dump(metadata, stream)
            self._sync(stream)

    def _sync(self, stream: Any) -> None:
        if self.sync_files:
            stream.flush()
            os.fsync(stream.fileno())


class FileSystemReader:
    """Reads the checkpoint in the folder `path`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def read_metadata(self) -> Metadata:
        with open(self.path / METADATA_FILE, "rb") as stream:
            metadata: Metadata = pickle.load(stream)
        return metadata

    def read_data(self) -> dict[str, Any]:
        # Objects other than tensors are read back as PyTorch's DCP reads them (not weights-only)
        values: dict[str, Any] = serialization.load(self.path / DATA_FILE, weights_only=False)
        return values


def storage_for(checkpoint_id: Any, storage: Any, kind: type) -> Any:
    """The given writer or reader (moved to checkpoint_id when one is given too), else one of
    `kind` for the folder checkpoint_id."""
    if storage is not None:
        if checkpoint_id is not None:
            storage.path = Path(checkpoint_id)
        return storage
    if not checkpoint_id:
        raise RuntimeError("`checkpoint_id` must be specified if storage_reader/storage_writer "
                           "is None.")
    return kind(checkpoint_id)
