"""`autodiff.random` (torch.random): the CPU's default generator and the functions that seed
every device's.

As in PyTorch, the CPU's default generator starts from a seed taken from the operating system,
every other device's from 67280421310721, until `manual_seed` (or `seed`) sets them all, those
of devices first used later included. See `generator.py` for how the streams differ from
PyTorch's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import backends
from backends import Device, get_backend

from .generator import Generator, _check_seed
from .tensor import Tensor
from .user_warnings import warn

__all__ = [
    "default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed",
    "set_rng_state", "thread_safe_generator",
]

default_generator = Generator._default(get_backend("cpu"))


def manual_seed(seed: Any) -> Generator:
    """Seed the default generator of every device (and of devices first used later) with
    `seed`, an integer in [-2^63, 2^64); returns the CPU's default generator."""
    backends.seed_all(_check_seed(int(seed)))
    return default_generator


def thread_safe_generator() -> Generator | None:
    """In a DataLoader thread worker, the worker's own generator; elsewhere (the main process,
    process workers) None, which makes the random functions use the default generator.
    (autodiff's DataLoader runs its workers as processes, so this is None there too.)"""
    from .utils.data import get_worker_info  # the data package imports this module

    info = get_worker_info()
    if info is not None and info.worker_method == "thread" and info.rng is not None:
        return info.rng.torch_generator
    return None


def seed() -> int:
    """Seed every device's default generator with one seed taken from the operating system;
    returns it."""
    chosen = default_generator.seed()
    backends.seed_all(chosen)
    return chosen


def initial_seed() -> int:
    """The seed the CPU's default generator started from."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The CPU's default generator's state (a uint8 tensor)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the CPU's default generator to a state `get_rng_state` returned."""
    default_generator.set_state(new_state)


_fork_rng_warned_already = False


@contextlib.contextmanager
def fork_rng(devices: Iterable[Any] | None = None, enabled: bool = True,
             _caller: str = "fork_rng", _devices_kw: str = "devices",
             device_type: str | None = None) -> Iterator[None]:
    """Inside the block, draw as you like: on exit the CPU's default generator, and those of
    `devices` (indices of `device_type`, default "cuda"; all of them when None, with a warning
    if there are several), are back in the state they were in on entry."""
    if device_type == "meta":
        yield
        return
    device_type = device_type or "cuda"
    if device_type not in backends.DEVICE_TYPES or device_type == "cpu":
        raise RuntimeError(f"torch has no module of `{device_type}`, you should register a "
                           "module by `torch._register_device_module`.")
    if not enabled:
        yield
        return
    global _fork_rng_warned_already
    if devices is None:
        count = backends.device_count(device_type)
        if count > 1 and not _fork_rng_warned_already:
            name = device_type.upper()
            warn(
                f"{name} reports that you have {count} available devices, and you have used "
                f"{_caller} without explicitly specifying which devices are being used. For "
                f"safety, we initialize *every* {name} device by default, which can be quite "
                f"slow if you have a lot of {name}s. If you know that you are only making use "
                f"of a few {name} devices, set the environment variable {name}_VISIBLE_DEVICES "
                f"or the '{_devices_kw}' keyword argument of {_caller} with the set of devices "
                "you are actually using. For example, if you are using CPU only, set "
                "device.upper()_VISIBLE_DEVICES= or devices=[]; if you are using device 0 "
                f"only, set {name}_VISIBLE_DEVICES=0 or devices=[0].  To initialize all "
                f"devices and suppress this warning, set the '{_devices_kw}' keyword argument "
                f"to `range(torch.{device_type}.device_count())`.", stacklevel=3)
            _fork_rng_warned_already = True
        devices = range(count)
    generators = [Generator._default(get_backend(Device(device_type, _index(device))))
                  for device in devices]
    cpu_state = get_rng_state()
    device_states = [generator.get_state() for generator in generators]
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        for generator, state in zip(generators, device_states):
            generator.set_state(state)


def _index(device: Any) -> int:
    if isinstance(device, int):
        return device
    parsed = Device(device)
    return 0 if parsed.index is None else parsed.index
