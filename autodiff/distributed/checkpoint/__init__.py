"""`autodiff.distributed.checkpoint` (`torch.distributed.checkpoint`, "DCP"): a state dict saved
to a folder and loaded back in place, with Stateful objects asked for their state.

    import autodiff.distributed.checkpoint as dcp
    dcp.save({"app": app_state}, checkpoint_id="checkpoint")   # .metadata + __0_0.distcp
    dcp.load({"app": app_state}, checkpoint_id="checkpoint")   # fills app_state's tensors

autodiff saves and loads in one process (PyTorch's "non-distributed" style, used when no
process group is initialised): the state is not sharded, so there is nothing to re-shard.

    stateful.py           Stateful: objects with state_dict / load_state_dict
    metadata.py           Metadata: what a checkpoint holds, by flattened key
    _flatten.py           nested state dicts <-> flat keys ("app.model.net1.weight")
    filesystem.py         FileSystemWriter / FileSystemReader: the folder and its files
    state_dict_saver.py   save, async_save (the state copied, then written by a thread)
    state_dict_loader.py  load
    state_dict.py         get_/set_ state dicts of a model and its optimizers, keyed by FQN
    format_utils.py       dcp_to_torch_save / torch_save_to_dcp
"""

from .api import CheckpointException
from .filesystem import FileSystemReader, FileSystemWriter
from .metadata import BytesStorageMetadata, Metadata, TensorStorageMetadata
from .state_dict_loader import load
from .state_dict_saver import AsyncCheckpointerType, async_save, save
from .stateful import Stateful

__all__ = ["AsyncCheckpointerType", "BytesStorageMetadata", "CheckpointException",
           "FileSystemReader", "FileSystemWriter", "Metadata", "Stateful",
           "TensorStorageMetadata", "async_save", "load", "save"]
