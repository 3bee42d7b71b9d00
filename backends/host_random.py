"""A seeded random generator on the host: NumPy's `Generator` over PCG64. The CPU backend draws
from it directly, the strict test backend draws on the host and moves the numbers to its device.

Its state is 45 bytes, little-endian: the initial seed (8), PCG64's 128-bit state and increment
(16 each), and the cached half-word NumPy keeps between 32-bit draws (1 + 4).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

_LAYOUT = struct.Struct("<Q16s16sBI")


class HostGenerator:
    """One stream of random numbers; `numpy` is the NumPy generator the backends draw from."""

    kind = "PCG64"
    state_size = _LAYOUT.size

    def __init__(self, seed: int) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> None:
        """Restart the stream from `seed` (an unsigned 64-bit integer)."""
        self.initial_seed = seed
        self.numpy: Any = np.random.default_rng(seed)

    def get_state(self) -> bytes:
        state = self.numpy.bit_generator.state
        return _LAYOUT.pack(self.initial_seed, state["state"]["state"].to_bytes(16, "little"),
                            state["state"]["inc"].to_bytes(16, "little"), state["has_uint32"],
                            state["uinteger"])

    def set_state(self, state: bytes) -> None:
        """Continue from a `get_state` result; RuntimeError for bytes of another size (or of a
        state no PCG64 generator can be in)."""
        check_state_size(self, state)
        seed, position, increment, has_uint32, uinteger = _LAYOUT.unpack(state)
        if not increment[0] & 1:  # PCG64's increment is odd by construction
            raise RuntimeError(f"Invalid {self.kind} state")
        generator = np.random.default_rng(seed)
        generator.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(position, "little"),
                      "inc": int.from_bytes(increment, "little")},
            "has_uint32": has_uint32, "uinteger": uinteger,
        }
        self.initial_seed, self.numpy = seed, generator


def check_state_size(generator: Any, state: bytes) -> None:
    """PyTorch's error for a state of the wrong size (its words, with this generator's kind)."""
    if len(state) != generator.state_size:
        raise RuntimeError(
            f"Expected a {generator.kind} generator state of size {generator.state_size} but "
            f"found the input RNG state size to be {len(state)}"
        )


def seed_legacy_global(state: Any) -> None:
    """Seed NumPy's legacy global generator (`np.random.rand` and friends) from four 32-bit
    words. DataLoader workers do this, as PyTorch's do, so that augmentations written with
    `np.random` differ between workers instead of repeating the parent's stream."""
    np.random.seed(np.asarray(state, dtype=np.uint32))
