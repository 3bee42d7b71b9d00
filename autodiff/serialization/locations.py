"""Where a loaded storage goes: `map_location` applied to the device a checkpoint names.

A checkpoint tags each storage with the device it was saved from ("cpu", "cuda:1", "strict:1").
`map_location` is None (back to that device), a device or device string (everything there), a
dict {saved: target} (e.g. {"cuda:0": "cpu"}), or a callable (handled by each format, since it
is given the storage itself).
"""

from __future__ import annotations

from typing import Any

from backends import Backend, Device, get_backend, parse_device

from ..tensor import Tensor


def is_callable_map(map_location: Any) -> bool:
    return callable(map_location) and not isinstance(map_location, (dict, str, Device, Tensor))


def restore_backend(saved: str, map_location: Any) -> Backend:
    """The backend a storage tagged `saved` goes to, under a non-callable `map_location`."""
    target: Any = saved
    if isinstance(map_location, dict):
        target = map_location.get(saved, saved)
    elif map_location is not None:
        target = map_location
    if isinstance(target, Tensor):
        target = target.device
    if isinstance(target, bytes):
        target = target.decode("ascii")
    try:
        device = parse_device(target)
    except RuntimeError:
        raise RuntimeError(
            "don't know how to restore data location of torch.storage.UntypedStorage (tagged "
            f"with {target})"
        ) from None
    try:
        return get_backend(device)
    except RuntimeError as error:
        if device.type == "cuda" and map_location is None:
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
                "is False. If you are running on a CPU-only machine, please use torch.load with "
                "map_location=torch.device('cpu') to map your storages to the CPU. "
                f"({error})"
            ) from None
        raise
