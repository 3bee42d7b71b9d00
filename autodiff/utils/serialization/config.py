"""`autodiff.utils.serialization.config`: settings `save` and `load` read when called, as
PyTorch's: set `config.load.mmap = True` and every `load` without an `mmap` argument maps its
file."""

from __future__ import annotations


class load:
    # `load(mmap=None)` maps the file when this is True.
    mmap: bool = False


class save:
    # PyTorch's switch to leave the zip checksums out; autodiff's writer (the standard zipfile
    # module) always writes them, so False only costs nothing it could save.
    compute_crc32: bool = True
    # Where the bytes of device storages go on their way to the file: autodiff copies them
    # to pageable host memory either way.
    use_pinned_memory_for_d2h: bool = False
    # The byte boundary each storage's data starts at in PyTorch's format (a power of two).
    storage_alignment: int = 64
