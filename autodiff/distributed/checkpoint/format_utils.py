"""Conversions between a DCP checkpoint folder and a torch.save file."""

from __future__ import annotations

import os
from typing import Any

from ... import serialization
from ._flatten import unflatten
from .filesystem import FileSystemReader
from .state_dict_saver import save


def dcp_to_torch_save(dcp_checkpoint_dir: str | os.PathLike[str],
                      torch_save_path: str | os.PathLike[str]) -> None:
    """The DCP checkpoint in `dcp_checkpoint_dir`, nested again, saved with torch.save."""
    reader = FileSystemReader(dcp_checkpoint_dir)
    metadata = reader.read_metadata()
    values = reader.read_data()
    serialization.save(unflatten(values, metadata.planner_data), torch_save_path)


def torch_save_to_dcp(torch_save_path: str | os.PathLike[str],
                      dcp_checkpoint_dir: str | os.PathLike[str]) -> None:
    """The state dict in the torch.save file `torch_save_path`, saved as a DCP checkpoint."""
    state_dict: Any = serialization.load(torch_save_path, weights_only=False)
    save(state_dict, checkpoint_id=dcp_checkpoint_dir, no_dist=True)


__all__ = ["dcp_to_torch_save", "torch_save_to_dcp"]
