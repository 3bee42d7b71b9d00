"""`autodiff.serialization` (`torch.serialization`): checkpoints in autodiff's format, PyTorch's
and safetensors, and the allowlist of `load(weights_only=True)`.

    save_load.py     save / load: choose the format, open the file
    native.py        autodiff's own format (JSON and raw bytes in a zip; no code)
    torch_format.py  PyTorch's zip and legacy formats, read and written without PyTorch
    torch_names.py   PyTorch's pickled names and what each becomes in autodiff
    unpickler.py     the weights-only unpickler and the safe-globals allowlist
    pickler.py       pickling as torch.save does
    members.py       zip members read with their declared sizes checked first
    locations.py     map_location
    skip_data.py     saving and loading without the tensors' bytes
"""

from .errors import CheckpointError
from .save_load import get_unsafe_globals_in_checkpoint, load, save
from .skip_data import skip_data
from .unpickler import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals

__all__ = [
    "CheckpointError", "add_safe_globals", "clear_safe_globals", "get_safe_globals",
    "get_unsafe_globals_in_checkpoint", "load", "safe_globals", "save", "skip_data",
]
