"""What the data loader runs on both sides of a worker process: collation, fetching, the
worker loop, pinning (torch.utils.data._utils)."""

from __future__ import annotations

import atexit

_python_exiting = False


def exiting() -> bool:
    """True once the interpreter has begun to exit: loaders then leave their workers to
    multiprocessing, which terminates daemonic children itself (joining them from a finalizer
    at that point can hang)."""
    return _python_exiting


def _set_exiting() -> None:
    global _python_exiting
    _python_exiting = True


atexit.register(_set_exiting)
