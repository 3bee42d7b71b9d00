"""`autodiff.save` and `autodiff.load`: choose the format, open the file, report failures.

Formats (`autodiff.load` tells them apart by their bytes, or `.safetensors` by the name):
    "autodiff"     autodiff's own zip of JSON and raw bytes (`native.py`): the default for
                   tensors and containers of them; it holds no code, so loading it runs none.
    "torch"        PyTorch's zip format (`torch_format.py`): `torch.load` opens it. The only
                   format that holds whole objects (modules, optimizers, your classes), which it
                   pickles, so `save` uses it for those.
    "safetensors"  Hugging Face's format (`autodiff/utils/safetensors.py`): a flat dict of
                   tensors; the default for a path ending in ".safetensors".
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
import tempfile
import zipfile
from typing import Any

from backends import serialization as host

from ..user_warnings import warn
from . import native, torch_format
from .errors import CheckpointError
from .members import MemberReader
from .unpickler import python3_name, user_allowed_globals

FORMATS = ("autodiff", "torch", "safetensors")
_STRUCTURE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, EOFError,
                     OverflowError, RecursionError, UnicodeDecodeError, zipfile.BadZipFile)


# ----------------------------------------------------------------------------- saving
def save(obj: Any, f: Any, pickle_module: Any = pickle, pickle_protocol: int = 2, *,
         format: str | None = None) -> None:
    """Write `obj` to `f` (a path or a writable binary file object).

    format: None chooses: safetensors for a path ending in ".safetensors", else autodiff's own
    format when it can hold `obj` (tensors, containers, numbers, strings, dtypes, devices),
    else PyTorch's (whole modules, optimizers, other objects are pickled, as torch.save does).
    "autodiff", "torch" or "safetensors" force one; `torch.load` opens "torch" files.
    pickle_module, pickle_protocol: as torch.save's, for the "torch" format (only the standard
    pickle module: PyTorch's names are written without importing PyTorch).

    To a path, the file is written next to its destination and renamed into place, so an
    interrupted save never leaves a half-written file under the final name.
    """
    if format not in (None, *FORMATS):
        raise ValueError(f"autodiff.save: unknown format {format!r} (expected one of "
                         f"{', '.join(FORMATS)}, or None to choose)")
    if pickle_module is not pickle:
        raise ValueError(f"autodiff.save: pickle_module={pickle_module!r} is not supported; "
                         "the torch format is written with the standard pickle module")
    is_path = isinstance(f, (str, os.PathLike))
    if not is_path and not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'write' attribute")
    if format is None and is_path and os.fspath(f).endswith(".safetensors"):
        format = "safetensors"
    prepared = None
    if format in (None, "autodiff"):
        try:
            prepared = native.Prepared(obj)
            format = "autodiff"
        except native.NotRepresentable:
            if format == "autodiff":
                raise
            format = "torch"

    def write(stream: Any, path: str | None) -> None:
        if prepared is not None:
            prepared.write(stream)
        elif format == "torch":
            torch_format.write_zip(obj, stream, torch_format.archive_name(f), pickle_protocol)
        elif path is not None:
            from ..utils import safetensors

            stream.close()  # the package writes the file itself
            safetensors.save_file(obj, path)
        else:
            from ..utils import safetensors

            stream.write(safetensors.save(obj))

    if not is_path:
        write(f, None)
        return
    path = os.fspath(f)
    parent = os.path.dirname(path)
    if parent and not os.path.exists(parent):
        raise RuntimeError(f"Parent directory {parent} does not exist.")
    handle, temporary = tempfile.mkstemp(prefix=".autodiff-save-", dir=parent or ".")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream, temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


# ----------------------------------------------------------------------------- loading
def load(f: Any, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None,
         **pickle_load_args: Any) -> Any:
    """Read an object written by `autodiff.save` or `torch.save` (either format), or a
    safetensors file (by its ".safetensors" name).

    map_location: None (each storage back on the device it was saved from), a device or device
    string (everything there), a dict {saved device: device} (e.g. {"cuda:0": "cpu"}), or a
    callable(storage, saved_device) returning the storage on its device or None. A storage is a
    1-D CPU tensor (for autodiff's own format, each whole tensor).
    weights_only: True (the default) builds only tensors, containers, numbers, strings, dtypes,
    devices and what `add_safe_globals` allowlists: nothing in the file is imported or run.
    False unpickles anything, running the code the file names: only for trusted files.
    mmap: map the file instead of reading it (zip formats, CPU storages read lazily); None:
    as `autodiff.utils.serialization.config.load.mmap` says (False unless set).
    pickle_load_args: passed to the unpickler when weights_only=False (e.g. encoding=...).
    """
    if mmap is None:
        from ..utils.serialization import config

        mmap = config.load.mmap
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only:
        if pickle_module is not None:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                               "specified")
        if pickle_load_args:
            warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    elif pickle_module is None:
        pickle_module = pickle
    pickle_load_args.setdefault("encoding", "utf-8")
    is_path = isinstance(f, (str, os.PathLike))
    name = os.fspath(f) if is_path else getattr(f, "name", "<stream>")
    if is_path and os.fspath(f).endswith(".safetensors"):
        return _load_safetensors(os.fspath(f), map_location)
    if mmap and not is_path:
        raise ValueError("f must be a file path in order to use the mmap argument")
    options = torch_format.LoadOptions(map_location, weights_only, pickle_module,
                                       pickle_load_args)
    if is_path:
        with open(f, "rb") as stream:
            return _load_stream(stream, name, options, os.fspath(f) if mmap else None)
    seekable = f if hasattr(f, "seek") and hasattr(f, "tell") else io.BytesIO(f.read())
    return _load_stream(seekable, name, options, None)


def _load_stream(stream: Any, name: str, options: torch_format.LoadOptions,
                 mmap_path: str | None) -> Any:
    start = stream.tell()
    head = stream.read(512)
    stream.seek(start)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _load_zip(stream, name, options, mmap_path)
    if mmap_path is not None:
        raise RuntimeError(
            "mmap can only be used with files saved with "
            f"`torch.save({mmap_path}, _use_new_zipfile_serialization=True), please torch.save "
            "your checkpoint with this option in order to use mmap."
        )
    if torch_format.is_tar(head):
        raise CheckpointError(f"autodiff.load: {name} is in PyTorch's .tar format (PyTorch 0.1 "
                              "to 0.3), which autodiff does not read")
    if torch_format.is_legacy(head):
        return _torch_errors(lambda: torch_format.read_legacy(stream, options), name, options)
    raise CheckpointError(
        f"autodiff.load: {name} is not a valid autodiff checkpoint: not a zip archive, or "
        "truncated, and not PyTorch's legacy format"
    )


def _load_zip(stream: Any, name: str, options: torch_format.LoadOptions,
              mmap_path: str | None) -> Any:
    try:
        archive = zipfile.ZipFile(stream, "r")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise CheckpointError(f"autodiff.load: {name} is not a valid autodiff checkpoint: not a "
                              f"zip archive, or truncated ({error})") from None
    with archive:
        mapped = host.map_file(mmap_path) if mmap_path is not None else None
        names = archive.namelist()
        if native.HEADER in names:
            members = MemberReader(archive, stream, mapped, check_crc=True)
            try:
                return native.read(members, options.map_location)
            except CheckpointError as error:
                raise CheckpointError(f"autodiff.load: {name} is not a valid autodiff "
                                      f"checkpoint: {error}") from None
        if torch_format.is_torch_zip(names):
            # As torch.load, storages are not CRC-checked (that would double the load time);
            # their sizes and the pickle's structure are.
            members = MemberReader(archive, stream, mapped, check_crc=False)
            return _torch_errors(lambda: torch_format.read_zip(members, options), name, options)
    raise CheckpointError(f"autodiff.load: {name} is not a valid autodiff checkpoint: the "
                          f"archive has no {native.HEADER} (written by another tool?) and no "
                          "data.pkl (PyTorch's format)")


def _torch_errors(read: Any, name: str, options: torch_format.LoadOptions) -> Any:
    """Run a PyTorch-format reader, reporting refusals in PyTorch's words and damage as
    CheckpointError."""
    try:
        return read()
    except pickle.UnpicklingError as error:
        if options.weights_only:
            raise pickle.UnpicklingError(torch_format.weights_only_message(str(error))) from None
        raise
    except CheckpointError as error:
        raise CheckpointError(f"autodiff.load: {name}: {error}") from None
    except _STRUCTURE_ERRORS as error:
        if not options.weights_only:
            raise
        raise CheckpointError(f"autodiff.load: {name} is not a valid PyTorch checkpoint "
                              f"({type(error).__name__}: {error})") from None


def get_unsafe_globals_in_checkpoint(f: Any) -> list[str]:
    """The globals (`module.name`) a checkpoint's pickle names that `load(weights_only=True)`
    does not allow, PyTorch's defaults and `add_safe_globals` counted: read off the pickle's
    opcodes (nothing is unpickled, so what it would build on the fly is not seen). None for
    autodiff's own format, which pickles nothing."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as stream:
            return _unsafe_globals(stream)
    return _unsafe_globals(f if hasattr(f, "seek") else io.BytesIO(f.read()))


def _unsafe_globals(stream: Any) -> list[str]:
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    if not (head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06")):
        raise ValueError("Expected input to be a checkpoint returned by torch.save")
    with zipfile.ZipFile(stream, "r") as archive:
        names = archive.namelist()
        if native.HEADER in names:
            return []
        if any(name.endswith("/constants.pkl") for name in names):
            raise ValueError("Expected input to be a checkpoint returned by torch.save but got a "
                             "torchscript checkpoint")
        pickled = [name for name in names if name.endswith("/data.pkl") or name == "data.pkl"]
        if len(pickled) != 1:
            raise ValueError("Expected input to be a checkpoint returned by torch.save")
        data = archive.read(pickled[0])
    allowed = set(torch_format.default_allowed_globals()) | set(user_allowed_globals())
    return [name for name in _pickle_globals(data) if name not in allowed]


def _pickle_globals(data: bytes) -> list[str]:
    """The `module.name` of each GLOBAL and STACK_GLOBAL in a pickle, in order, once each."""
    found: dict[str, None] = {}
    strings: list[Any] = []  # the values pushed, for STACK_GLOBAL's two operands
    memo: dict[int, Any] = {}
    for opcode, argument, _ in pickletools.genops(data):
        name = opcode.name
        if name == "GLOBAL":
            module, _, attribute = str(argument).partition(" ")
            found[".".join(python3_name(module, attribute))] = None
        elif name == "STACK_GLOBAL" and len(strings) >= 2:
            module, attribute = strings[-2], strings[-1]
            if isinstance(module, str) and isinstance(attribute, str):
                found[".".join(python3_name(module, attribute))] = None
        elif name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
            strings.append(argument)
        elif name == "MEMOIZE":
            memo[len(memo)] = strings[-1] if strings else None
        elif name in ("BINPUT", "LONG_BINPUT", "PUT") and isinstance(argument, int):
            memo[argument] = strings[-1] if strings else None
        elif name in ("BINGET", "LONG_BINGET", "GET") and isinstance(argument, int):
            strings.append(memo.get(argument))
    return list(found)


def _load_safetensors(path: str, map_location: Any) -> Any:
    from ..utils import safetensors

    device: Any = "cpu"
    if map_location is not None:
        if isinstance(map_location, dict):
            raise RuntimeError("Loading safetensors file with dict map_location is not "
                               "supported. Use a device string or torch.device instead.")
        if callable(map_location) and not isinstance(map_location, str):
            raise RuntimeError("Loading safetensors file with callable map_location is not "
                               "supported. Use a device string or torch.device instead.")
        device = map_location
    return safetensors.load_file(path, device=device)
