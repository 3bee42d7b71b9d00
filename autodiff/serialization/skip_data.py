"""`skip_data`: save and load checkpoints without their tensors' bytes (PyTorch's prototype of
the same name): a save writes each tensor's or storage's member at its full size holding
zeros, to be filled in a later pass; a load gives tensors of the saved dtypes and shapes whose
memory is left uninitialized, reading none of it."""

from __future__ import annotations

import threading
from typing import Any


class _State(threading.local):
    def __init__(self) -> None:
        self.skipping = False


_state = _State()


def skipping() -> bool:
    """Whether this thread is inside `skip_data()`."""
    return _state.skipping


class skip_data:
    """Context manager: `save` and `load` inside it skip the bytes of tensors.

    materialize_fake_tensors: PyTorch's switch for its FakeTensors, which autodiff does not
    have; it changes nothing here."""

    def __init__(self, materialize_fake_tensors: bool = False) -> None:
        self.materialize_fake_tensors = materialize_fake_tensors
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_state.skipping)
        _state.skipping = True

    def __exit__(self, *exc_info: Any) -> None:
        _state.skipping = self._previous.pop()
