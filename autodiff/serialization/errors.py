"""The error every checkpoint reader raises for a file it cannot read."""

from __future__ import annotations


class CheckpointError(RuntimeError):
    """A file that is not a valid checkpoint (truncated, altered, or another format), or holds
    what autodiff cannot represent."""
